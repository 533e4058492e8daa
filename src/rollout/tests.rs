use std::path::Path;

use super::*;

/// A cluster file of `nodes` with the VIPs given as TOML.
fn cfg(cluster: &str, nodes: &[&str], vips: &str) -> Config {
    let mut src = format!("[cluster]\n{cluster}\n");
    for n in nodes {
        src.push_str(&format!("[[node]]\nname = \"{n}\"\n"));
    }
    src.push_str(vips);
    crate::config::parse(&src, Path::new("t.toml"), None).expect("valid")
}

fn vip(name: &str, vhid: u8, extra: &str) -> String {
    format!(
        "[[vip]]\nname = \"{name}\"\nvhid = {vhid}\ninterface = \"em0\"\naddresses = \
         [\"192.0.2.{vhid}/32\"]\npassword = \"{name}-pw\"\n{extra}\n"
    )
}

fn commands(p: &Plan) -> Vec<String> {
    p.steps
        .iter()
        .map(|s| s.command("old.toml", "new.toml"))
        .collect()
}

fn moves(p: &Plan) -> Vec<&Move> {
    p.steps.iter().flat_map(|s| &s.moves).collect()
}

#[test]
fn password_change_takes_the_vip_off_the_backups_first() {
    let nodes = ["a", "b", "c"];
    let old = cfg("", &nodes, &vip("v1", 1, "prefer = [\"b\", \"a\", \"c\"]"));
    let new_vips = vip("v1", 1, "prefer = [\"b\", \"a\", \"c\"]").replace("v1-pw", "rotated");
    let new = cfg("", &nodes, &new_vips);
    let p = plan(&old, &new).unwrap();
    let c = commands(&p);
    assert_eq!(
        c[..5],
        [
            "carpctl -c old.toml --node a apply --remove v1",
            "carpctl -c old.toml --node c apply --remove v1",
            "carpctl -c new.toml --node b apply --only v1",
            "carpctl -c new.toml --node a apply --only v1",
            "carpctl -c new.toml --node c apply --only v1",
        ]
    );
    assert_eq!(
        c[5..],
        [
            "carpctl -c new.toml --node a apply",
            "carpctl -c new.toml --node b apply",
            "carpctl -c new.toml --node c apply",
        ]
    );
    assert!(moves(&p).is_empty());
    assert_eq!(p.reduced.len(), 1);
    assert_eq!(p.reduced[0].node, "b");
    assert_eq!(p.reduced[0].until - p.reduced[0].from, 5.0 * p.gap);
    // No secret in anything the plan prints.
    let json = serde_json::to_string(&p).unwrap();
    assert!(!json.contains("rotated") && !json.contains("v1-pw"));
}

#[test]
fn advbase_change_goes_backups_first_and_moves_nothing() {
    let nodes = ["a", "b", "c"];
    let vips = vip("v1", 1, "") + &vip("v2", 2, "") + &vip("v3", 3, "");
    let old = cfg("advbase = 1", &nodes, &vips);
    let new = cfg("advbase = 2", &nodes, &vips);
    let p = plan(&old, &new).unwrap();
    assert!(moves(&p).is_empty(), "{:?}", moves(&p));
    // Each VIP's master takes the slower interval last.
    let op = old.plan().unwrap();
    for v in &op.vips {
        let last = p
            .steps
            .iter()
            .rfind(|s| s.only == [v.name.clone()])
            .unwrap();
        assert_eq!(last.node, v.order[0], "{}", v.name);
    }
    assert_eq!(p.gap, 8.0);
}

#[test]
fn a_new_node_moves_each_vip_at_most_once() {
    let vips = vip("v1", 1, "") + &vip("v2", 2, "") + &vip("v3", 3, "");
    let old = cfg("", &["a", "b"], &vips);
    let new = cfg("", &["a", "b", "c"], &vips);
    let p = plan(&old, &new).unwrap();
    let m = moves(&p);
    for v in ["v1", "v2", "v3"] {
        assert!(m.iter().filter(|x| x.vip == v).count() <= 1, "{m:?}");
    }
    // The balanced plan gives the new node one VIP: that one moves.
    let np = new.plan().unwrap();
    let to_c: Vec<&str> = np
        .vips
        .iter()
        .filter(|v| v.order[0] == "c")
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(to_c.len(), 1);
    assert!(m.iter().any(|x| x.vip == to_c[0] && x.to == "c"), "{m:?}");
    assert!(p.steps.iter().any(|s| s.node == "c" && s.only == [to_c[0]]));
}

#[test]
fn a_removed_node_leaves_with_the_old_file_and_its_vips_move_once() {
    let vips = vip("v1", 1, "") + &vip("v2", 2, "") + &vip("v3", 3, "");
    let old = cfg("", &["a", "b", "c"], &vips);
    let new = cfg("", &["a", "b"], &vips);
    let p = plan(&old, &new).unwrap();
    let c_steps: Vec<String> = p
        .steps
        .iter()
        .filter(|s| s.node == "c")
        .map(|s| s.command("old.toml", "new.toml"))
        .collect();
    assert_eq!(c_steps.len(), 3, "{c_steps:?}");
    assert!(
        c_steps
            .iter()
            .all(|c| c.starts_with("carpctl -c old.toml --node c apply --remove"))
    );
    let m = moves(&p);
    for v in ["v1", "v2", "v3"] {
        assert!(m.iter().filter(|x| x.vip == v).count() <= 1, "{m:?}");
    }
    // No final whole-file apply on the node that left.
    assert!(
        p.steps
            .iter()
            .all(|s| s.node != "c" || !s.remove.is_empty())
    );
}

#[test]
fn a_new_vip_starts_on_its_master_first() {
    let old = cfg("", &["a", "b", "c"], &vip("v1", 1, ""));
    let new = cfg(
        "",
        &["a", "b", "c"],
        &(vip("v1", 1, "") + &vip("v9", 9, "prefer = [\"c\", \"b\", \"a\"]")),
    );
    let p = plan(&old, &new).unwrap();
    let v9: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| s.only == ["v9"])
        .map(|s| s.node.as_str())
        .collect();
    assert_eq!(v9[0], "c", "{v9:?}");
    assert_eq!(v9.len(), 3);
    assert!(moves(&p).is_empty());
}

#[test]
fn what_cannot_be_planned_safely_is_refused() {
    let nodes = ["a", "b"];
    let base = cfg("", &nodes, &vip("v1", 1, ""));
    let refused = |new: Config| plan(&base, &new).unwrap_err().0;
    let e = refused(cfg("", &nodes, &vip("v1", 2, "")));
    assert!(e.contains("vhid changes"), "{e}");
    let e = refused(cfg("preempt = false", &nodes, &vip("v1", 1, "")));
    assert!(e.contains("preempt"), "{e}");
    let e = refused(cfg(
        "",
        &nodes,
        &vip("v1", 1, "").replace("192.0.2.1/32", "192.0.2.77/32"),
    ));
    assert!(e.contains("address list"), "{e}");
    let both = vip("v1", 1, "prefer = [\"b\", \"a\"]").replace("v1-pw", "new");
    let e = refused(cfg("", &nodes, &both));
    assert!(e.contains("password changes together"), "{e}");
}

#[test]
fn a_master_that_ties_stays_and_two_backups_that_tie_are_refused() {
    let (a, b, c) = ("a".to_string(), "b".to_string(), "c".to_string());
    let st = [(&a, Some(256)), (&b, Some(256)), (&c, Some(300))];
    assert_eq!(order::next_master(&st, Some(&a)), Ok(Some(a.clone())));
    assert_eq!(order::next_master(&st, Some(&c)), Err(()));
    assert_eq!(order::next_master(&st, None), Err(()));
    let st = [(&a, None), (&b, Some(300)), (&c, Some(256))];
    assert_eq!(order::next_master(&st, Some(&a)), Ok(Some(c.clone())));
    assert_eq!(order::next_master(&[(&a, None)], Some(&a)), Ok(None));
}

#[test]
fn a_rank_swap_passes_through_a_tie_the_master_keeps() {
    let old = cfg(
        "advskew_step = 100",
        &["a", "b"],
        &vip("v1", 1, "prefer = [\"a\", \"b\"]"),
    );
    let new = cfg(
        "advskew_step = 100",
        &["a", "b"],
        &vip("v1", 1, "prefer = [\"b\", \"a\"]"),
    );
    let p = plan(&old, &new).unwrap();
    // The first step makes a tie (a stays master), the second moves v1.
    assert!(p.steps[0].moves.is_empty());
    assert_eq!(
        p.steps[1].moves,
        [Move {
            vip: "v1".into(),
            from: "a".into(),
            to: "b".into()
        }]
    );
}

#[test]
fn a_swap_of_masters_moves_once() {
    let nodes = ["a", "b", "c"];
    let old = cfg("", &nodes, &vip("v1", 1, "prefer = [\"a\", \"b\", \"c\"]"));
    let new = cfg("", &nodes, &vip("v1", 1, "prefer = [\"c\", \"b\", \"a\"]"));
    let p = plan(&old, &new).unwrap();
    let m = moves(&p);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!((m[0].from.as_str(), m[0].to.as_str()), ("a", "c"));
}

#[test]
fn commands_quote_what_the_shell_would_split() {
    let s = Step {
        at: 0.0,
        node: "a".into(),
        file: Which::New,
        only: vec!["v1".into()],
        remove: vec![],
        moves: vec![],
        why: String::new(),
    };
    assert_eq!(
        s.command("o.toml", "/etc/my cluster $x.toml"),
        "carpctl -c \"/etc/my cluster \\$x.toml\" --node a apply --only v1"
    );
}
