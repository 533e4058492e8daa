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
            .rfind(|s| s.command.only() == [v.name.clone()])
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
    assert!(
        p.steps
            .iter()
            .any(|s| s.node == "c" && s.command.only() == [to_c[0]])
    );
}

#[test]
fn a_removed_node_hands_its_vips_over_in_maintenance_first_then_leaves() {
    let vips = vip("v1", 1, "") + &vip("v2", 2, "") + &vip("v3", 3, "");
    let old = cfg("", &["a", "b", "c"], &vips);
    let new = cfg("", &["a", "b"], &vips);
    let p = plan(&old, &new).unwrap();
    let c = commands(&p);
    assert_eq!(c[0], "carpctl -c old.toml --node c maintenance on");
    assert_eq!(
        c.last().unwrap(),
        "carpctl -c old.toml --node c maintenance off"
    );
    let c_steps: Vec<&String> = c[1..c.len() - 1]
        .iter()
        .filter(|s| s.contains("--node c "))
        .collect();
    assert_eq!(c_steps.len(), 3, "{c:?}");
    assert!(
        c_steps
            .iter()
            .all(|c| c.starts_with("carpctl -c old.toml --node c apply --remove"))
    );
    // c's VIP moves once, on the maintenance step, to its next rank in
    // the old file; nothing else moves.
    let op = old.plan().unwrap();
    let mastered: Vec<_> = op.vips.iter().filter(|v| v.order[0] == "c").collect();
    assert_eq!(mastered.len(), 1);
    let want = Move {
        vip: mastered[0].name.clone(),
        from: "c".into(),
        to: mastered[0].order[1].clone(),
    };
    assert_eq!(p.steps[0].moves, [want]);
    assert_eq!(moves(&p).len(), 1, "{:?}", moves(&p));
    assert_eq!(p.steps[0].command, Command::Maintenance { on: true });
    assert_eq!(p.steps[0].file, Which::Old);
    // No whole-file apply on the node that left.
    assert!(p.steps.iter().all(|s| s.node != "c"
        || !s.command.remove().is_empty()
        || matches!(s.command, Command::Maintenance { .. })));
}

#[test]
fn a_leaving_node_that_masters_nothing_still_gets_its_maintenance_steps() {
    // c is last of every VIP: nothing moves, but by the time the rollout
    // runs c may be MASTER after a failover.
    let vips = vip("v1", 1, "prefer = [\"a\", \"b\", \"c\"]")
        + &vip("v2", 2, "prefer = [\"b\", \"a\", \"c\"]");
    let old = cfg("", &["a", "b", "c"], &vips);
    let new = cfg(
        "",
        &["a", "b"],
        &(vip("v1", 1, "prefer = [\"a\", \"b\"]") + &vip("v2", 2, "prefer = [\"b\", \"a\"]")),
    );
    let p = plan(&old, &new).unwrap();
    let c = commands(&p);
    assert_eq!(c[0], "carpctl -c old.toml --node c maintenance on");
    assert_eq!(
        c.last().unwrap(),
        "carpctl -c old.toml --node c maintenance off"
    );
    assert!(moves(&p).is_empty(), "{:?}", moves(&p));
}

#[test]
fn a_leaving_node_that_carries_no_vip_or_a_cluster_without_preemption_gets_none() {
    // d takes part in no VIP: nothing to hand over, nothing to remove.
    let vips = vip("v1", 1, "prefer = [\"a\", \"b\"]");
    let old = cfg("", &["a", "b", "d"], &vips);
    let new = cfg("", &["a", "b"], &vips);
    let p = plan(&old, &new).unwrap();
    assert!(p.steps.iter().all(|s| s.node != "d"), "{:?}", commands(&p));
    // Without preemption a demotion hands nothing over: no step.
    let vips = vip("v1", 1, "") + &vip("v2", 2, "");
    let old = cfg("preempt = false", &["a", "b"], &vips);
    let new = cfg("preempt = false", &["a"], &vips);
    let p = plan(&old, &new).unwrap();
    assert!(
        p.steps
            .iter()
            .all(|s| matches!(s.command, Command::Apply { .. })),
        "{:?}",
        commands(&p)
    );
}

#[test]
fn two_leaving_nodes_go_into_maintenance_first_one_after_the_other() {
    let vips = vip("v1", 1, "prefer = [\"d\", \"a\", \"c\", \"b\"]")
        + &vip("v2", 2, "prefer = [\"c\", \"b\", \"d\", \"a\"]")
        + &vip("v3", 3, "prefer = [\"a\", \"b\", \"c\", \"d\"]");
    let old = cfg("", &["a", "b", "c", "d"], &vips);
    let keep = |v: &str, vhid: u8, prefer: &str| vip(v, vhid, &format!("prefer = [{prefer}]"));
    let new = cfg(
        "",
        &["a", "b"],
        &(keep("v1", 1, "\"a\", \"b\"")
            + &keep("v2", 2, "\"b\", \"a\"")
            + &keep("v3", 3, "\"a\", \"b\"")),
    );
    let p = plan(&old, &new).unwrap();
    let c = commands(&p);
    assert_eq!(
        c[..2],
        [
            "carpctl -c old.toml --node c maintenance on",
            "carpctl -c old.toml --node d maintenance on",
        ]
    );
    assert_eq!(
        c[c.len() - 2..],
        [
            "carpctl -c old.toml --node c maintenance off",
            "carpctl -c old.toml --node d maintenance off",
        ]
    );
    // v2 goes from c to b on c's step; v1 from d to a on d's step; each
    // VIP once.
    let mv = |vip: &str, from: &str, to: &str| Move {
        vip: vip.into(),
        from: from.into(),
        to: to.into(),
    };
    assert_eq!(p.steps[0].moves, [mv("v2", "c", "b")]);
    assert_eq!(p.steps[1].moves, [mv("v1", "d", "a")]);
    assert_eq!(moves(&p).len(), 2, "{:?}", moves(&p));
}

#[test]
fn a_vip_handed_to_a_node_the_new_file_does_not_make_master_moves_once_more() {
    let old = cfg(
        "",
        &["a", "b", "c"],
        &vip("v1", 1, "prefer = [\"c\", \"a\", \"b\"]"),
    );
    let new = cfg("", &["a", "b"], &vip("v1", 1, "prefer = [\"b\", \"a\"]"));
    let p = plan(&old, &new).unwrap();
    let m = moves(&p);
    assert_eq!(
        m.iter()
            .map(|m| (m.from.as_str(), m.to.as_str()))
            .collect::<Vec<_>>(),
        [("c", "a"), ("a", "b")],
        "{:?}",
        commands(&p)
    );
    assert_eq!(p.steps[0].moves.len(), 1);
    // The second move is a skew change on a remaining node, never the
    // leaving node's removal.
    let second = p
        .steps
        .iter()
        .position(|s| s.moves.len() == 1 && s.moves[0].to == "b");
    let s = &p.steps[second.unwrap()];
    assert_ne!(s.node, "c");
    assert!(s.command.remove().is_empty());
}

#[test]
fn a_demoted_interval_is_clamped_at_240_as_carp_does() {
    assert_eq!(leave::demoted(256), 256 + 240);
    assert_eq!(leave::demoted(256 + 100), 256 + 240);
    assert_eq!(leave::demoted(2 * 256 + 240), 2 * 256 + 240);
    // DEMOTE_ADVSKEW clamps from above: a skew over 240 advertises 240.
    assert_eq!(leave::demoted(256 + 250), 256 + 240);
}

#[test]
fn the_json_of_a_maintenance_step_keeps_every_field_and_adds_action() {
    let vips = vip("v1", 1, "") + &vip("v2", 2, "");
    let old = cfg("", &["a", "b", "c"], &vips);
    let new = cfg("", &["a", "b"], &vips);
    let p = plan(&old, &new).unwrap();
    let j = serde_json::to_value(&p).unwrap();
    let first = &j["steps"][0];
    assert_eq!(first["action"], "maintenance_on");
    assert_eq!(first["node"], "c");
    assert_eq!(first["file"], "old");
    assert_eq!(first["only"], serde_json::json!([]));
    assert_eq!(first["remove"], serde_json::json!([]));
    let remove = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["remove"] != serde_json::json!([]))
        .unwrap();
    assert_eq!(remove["action"], "apply");
    let last = j["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(last["action"], "maintenance_off");
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
        .filter(|s| s.command.only() == ["v9"])
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
        command: Command::Apply {
            only: vec!["v1".into()],
            remove: vec![],
        },
        moves: vec![],
        why: String::new(),
    };
    assert_eq!(
        s.command("o.toml", "/etc/my cluster $x.toml"),
        "carpctl -c \"/etc/my cluster \\$x.toml\" --node a apply --only v1"
    );
}

#[test]
fn a_hand_over_to_two_tied_nodes_is_refused() {
    let n = |s: &str| s.to_string();
    // c is master (256); a and b tie behind it: once c is demoted both
    // would take over.
    let mut m = Members::new();
    m.insert(n("a"), (Some(356), Some(356)));
    m.insert(n("b"), (Some(356), Some(356)));
    m.insert(n("c"), (Some(256), None));
    let e = leave::hand_over("v1", &mut m, &[n("c")]).unwrap_err().0;
    assert_eq!(
        e,
        "VIP v1: once c is in maintenance, two nodes share the shortest interval and would \
         both take over"
    );
    // With b faster, b gets it, on c's step (index 0), and c is demoted.
    m.insert(n("b"), (Some(300), Some(300)));
    m.insert(n("c"), (Some(256), None));
    let h = leave::hand_over("v1", &mut m, &[n("c")]).unwrap();
    assert_eq!(h.master.as_deref(), Some("b"));
    assert_eq!(h.moves.len(), 1);
    assert_eq!((h.moves[0].0, h.moves[0].1.to.as_str()), (0, "b"));
    assert_eq!(m["c"].0, Some(256 + 240));
    // A VIP no leaving node takes part in is left to the order search.
    let mut m2 = Members::new();
    m2.insert(n("a"), (Some(256), Some(256)));
    let h = leave::hand_over("v2", &mut m2, &[n("c")]).unwrap();
    assert_eq!((h.master, h.moves.len()), (None, 0));
}
