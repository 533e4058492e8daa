//! Acceptance of rollouts (issue 14): each change of the cluster file run
//! through `carpctl rollout plan`'s steps (the `rollout` event) and, side
//! by side, naively (the `apply` event on every node in file order), on
//! 2, 3 and 5 nodes and FreeBSD 14 and 15. The plan never makes two
//! masters, moves each VIP at most once and loses at most one takeover's
//! worth of requests per moved VIP; the naive rollout does measurably
//! worse.

use std::path::Path;

use super::maintenance_tests::longest_dual;
use super::report::Report;
use super::*;

/// Client requests per second per address.
const RATE: f64 = 10.0;
/// When the change starts, s.
const START: u64 = 20;

/// A cluster file: `nodes`, and one VIP per `(name, vhid, password)`,
/// balanced (no `prefer`).
fn cluster(advbase: u8, nodes: &[&str], vips: &[(&str, u8, &str)]) -> String {
    let mut s = format!("[cluster]\nadvbase = {advbase}\n");
    for n in nodes {
        s.push_str(&format!("[[node]]\nname = \"{n}\"\n"));
    }
    for (name, vhid, pw) in vips {
        s.push_str(&format!(
            "[[vip]]\nname = \"{name}\"\nvhid = {vhid}\ninterface = \"em0\"\n\
             addresses = [\"192.0.2.{}/32\"]\npassword = \"{pw}\"\n",
            100 + vhid
        ));
    }
    s
}

/// The VIPs `v1` .. `vN`, with their first password.
fn vips(n: u8) -> Vec<(String, u8, String)> {
    (1..=n)
        .map(|i| (format!("v{i}"), i, format!("pw{i}")))
        .collect()
}

fn as_refs(v: &[(String, u8, String)]) -> Vec<(&str, u8, &str)> {
    v.iter()
        .map(|(a, b, c)| (a.as_str(), *b, c.as_str()))
        .collect()
}

/// The names `n1` .. `nN`.
fn names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("n{i}")).collect()
}

/// A file only its owner reads (cluster files with inline passwords).
fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Run a scenario on `old.toml` with `new.toml` beside it, every node of
/// `all` up from 0 on one segment, and `events`.
fn run_change(flavor: &str, all: &[String], old: &str, new: &str, events: &str) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, text: &str| write_private(&dir.path().join(name), text);
    put("old.toml", old);
    put("new.toml", new);
    let mut sc = format!(
        "cluster = \"old.toml\"\nduration = 300\nfreebsd = \"{flavor}\"\n\
         [clients]\nrate = {RATE}\n"
    );
    for (i, n) in all.iter().enumerate() {
        sc.push_str(&format!(
            "[[node]]\nname = \"{n}\"\ninterfaces = {{ em0 = [\"192.0.2.{}/24\"] }}\n",
            i + 1
        ));
    }
    sc.push_str(events);
    put("scenario.toml", &sc);
    let sc = super::tests::load_path(&dir.path().join("scenario.toml"));
    run(&sc, None).unwrap()
}

fn rollout_event() -> String {
    format!("[[event]]\nat = {START}\naction = \"rollout\"\nfile = \"new.toml\"\n")
}

/// `apply` of new.toml on each of `nodes` in turn, `gap` s apart.
fn naive_events(nodes: &[String], gap: u64) -> String {
    nodes
        .iter()
        .enumerate()
        .map(|(k, n)| {
            format!(
                "[[event]]\nat = {}\naction = \"apply\"\nnode = \"{n}\"\nfile = \"new.toml\"\n",
                START + k as u64 * gap
            )
        })
        .collect()
}

/// What a change cost, from the change on.
#[derive(Debug, Default, PartialEq)]
struct Cost {
    /// Seconds of two masters, all VIPs.
    dual: f64,
    /// The most times one VIP changed hands.
    max_moves: usize,
    /// VIPs that changed hands.
    moved: usize,
    lost: u64,
}

fn cost(r: &Report) -> Cost {
    let mut c = Cost::default();
    for v in &r.vips {
        c.dual += v.dual_master.iter().map(|d| d.end - d.start).sum::<f64>();
        c.lost += v
            .outages
            .iter()
            .filter(|o| o.start >= START as f64)
            .map(|o| o.lost)
            .sum::<u64>();
        let moves = r
            .changes
            .iter()
            .flat_map(|s| &s.moved)
            .filter(|m| m.starts_with(&format!("{} to ", v.name)))
            .count();
        c.max_moves = c.max_moves.max(moves);
        c.moved += usize::from(moves > 0);
    }
    c
}

/// One takeover's worth of requests (an address unanswered for a
/// master-down interval, `3 × advbase + 1` s at most) per moved VIP.
fn takeover_worth(advbase: u8, moved: usize) -> u64 {
    ((3.0 * f64::from(advbase) + 1.0) * RATE).ceil() as u64 * moved as u64
}

/// The plan's promise: no two masters (a preemption's hand-over of one
/// segment latency, 100 µs, counts as none), no VIP moves twice, at most
/// one takeover's worth lost per moved VIP; and every VIP ends served.
fn assert_planned(what: &str, r: &Report, advbase: u8) -> Cost {
    let c = cost(r);
    // The measurement for the record (`-- --nocapture`).
    eprintln!("{what}: by plan {c:?}");
    assert!(
        c.dual < 0.001 * (c.moved as f64 + 1.0),
        "{what}: {c:?}\n{}",
        r.to_text()
    );
    assert!(c.max_moves <= 1, "{what}: {c:?}\n{}", r.to_text());
    assert!(
        c.lost <= takeover_worth(advbase, c.moved),
        "{what}: {c:?}\n{}",
        r.to_text()
    );
    for v in &r.vips {
        assert!(
            v.outages.iter().all(|o| !o.ongoing),
            "{what}: {} {:?}",
            v.name,
            v.outages
        );
    }
    c
}

/// Every (FreeBSD release, cluster size) of the acceptance.
fn cases(sizes: &[usize]) -> Vec<(&'static str, usize)> {
    ["14", "15"]
        .into_iter()
        .flat_map(|f| sizes.iter().map(move |&n| (f, n)))
        .collect()
}

/// The names as `&str`.
fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn password_rotation_by_plan_has_no_dual_master_and_naive_has() {
    for (flavor, n) in cases(&[2, 3, 5]) {
        let nodes = names(n);
        let nr = refs(&nodes);
        let v = vips(n as u8);
        let mut rotated = v.clone();
        rotated[0].2 = "rotated-password".into();
        let old = cluster(1, &nr, &as_refs(&v));
        let new = cluster(1, &nr, &as_refs(&rotated));
        let what = format!("password, {n} nodes, FreeBSD {flavor}");
        let r = run_change(flavor, &nodes, &old, &new, &rollout_event());
        let planned = assert_planned(&what, &r, 1);
        assert_eq!(planned.dual, 0.0, "{what}");
        assert_eq!(planned.moved, 0, "{what}");
        let naive = cost(&run_change(
            flavor,
            &nodes,
            &old,
            &new,
            &naive_events(&nodes, 5),
        ));
        eprintln!("{what}: naive {naive:?}");
        assert!(naive.dual > 1.0, "{what}: naive {naive:?}");
    }
}

#[test]
fn advbase_1_to_2_by_plan_moves_nothing_and_naive_moves() {
    for (flavor, n) in cases(&[2, 3, 5]) {
        let nodes = names(n);
        let nr = refs(&nodes);
        let v = vips(n as u8);
        let old = cluster(1, &nr, &as_refs(&v));
        let new = cluster(2, &nr, &as_refs(&v));
        let what = format!("advbase, {n} nodes, FreeBSD {flavor}");
        let r = run_change(flavor, &nodes, &old, &new, &rollout_event());
        let planned = assert_planned(&what, &r, 2);
        let naive = cost(&run_change(
            flavor,
            &nodes,
            &old,
            &new,
            &naive_events(&nodes, 8),
        ));
        eprintln!("{what}: naive {naive:?}");
        assert!(
            naive.moved > planned.moved || naive.max_moves > planned.max_moves,
            "{what}: naive {naive:?} planned {planned:?}"
        );
    }
}

#[test]
fn adding_a_node_by_plan_moves_each_vip_at_most_once() {
    for (flavor, n) in cases(&[2, 3, 5]) {
        let all = names(n + 1);
        let before = refs(&all[..n]);
        let after = refs(&all);
        let v = vips(n as u8 + 1);
        let old = cluster(1, &before, &as_refs(&v));
        let new = cluster(1, &after, &as_refs(&v));
        let what = format!("add a node, {n} + 1 nodes, FreeBSD {flavor}");
        let r = run_change(flavor, &all, &old, &new, &rollout_event());
        let planned = assert_planned(&what, &r, 1);
        assert!(
            planned.moved >= 1,
            "{what}: the new node takes a VIP {planned:?}"
        );
        let naive = cost(&run_change(
            flavor,
            &all,
            &old,
            &new,
            &naive_events(&all, 5),
        ));
        eprintln!("{what}: naive {naive:?}");
        // The balanced rotation puts a new node last: file order is
        // already a safe order, and naive does no worse, nor better.
        assert!(
            naive.max_moves >= planned.max_moves && naive.lost >= planned.lost,
            "{what}: naive {naive:?} planned {planned:?}"
        );
    }
}

#[test]
fn adding_a_vip_by_plan_moves_nothing() {
    for (flavor, n) in cases(&[2, 3, 5]) {
        let nodes = names(n);
        let nr = refs(&nodes);
        let v = vips(n as u8);
        let more = vips(n as u8 + 1);
        let old = cluster(1, &nr, &as_refs(&v));
        let new = cluster(1, &nr, &as_refs(&more));
        let what = format!("add a VIP, {n} nodes, FreeBSD {flavor}");
        let r = run_change(flavor, &nodes, &old, &new, &rollout_event());
        let planned = assert_planned(&what, &r, 1);
        assert_eq!(planned.moved, 0, "{what}");
    }
}

#[test]
fn removing_a_node_by_plan_moves_each_of_its_vips_once() {
    for (flavor, n) in cases(&[2, 3, 5]) {
        let all = names(n);
        let before = refs(&all);
        let after = refs(&all[..n - 1]);
        let v = vips(n as u8);
        let old = cluster(1, &before, &as_refs(&v));
        let new = cluster(1, &after, &as_refs(&v));
        let what = format!("remove a node, {n} nodes, FreeBSD {flavor}");
        let r = run_change(flavor, &all, &old, &new, &rollout_event());
        let planned = assert_planned(&what, &r, 1);
        assert!(planned.moved >= 1, "{what}: {planned:?}");
        // The leaving node's `maintenance on` hands its VIPs over by
        // preemption first: nothing lost, no second master, and its
        // removals later move nothing.
        assert_eq!(planned.lost, 0, "{what}: {planned:?}\n{}", r.to_text());
        let dual = longest_dual(&r);
        assert!(
            dual <= super::tests::LATENCY + 1e-9,
            "{what}: longest dual master {dual} s\n{}",
            r.to_text()
        );
        let leaver = &all[n - 1];
        let moving: Vec<&str> = r
            .changes
            .iter()
            .filter(|s| !s.moved.is_empty())
            .map(|s| s.detail.as_str())
            .collect();
        assert_eq!(
            moving,
            [format!("rollout step 1: {leaver} maintenance on")],
            "{what}\n{}",
            r.to_text()
        );
        // Naive: the others apply the new file in turn, then the
        // leaving node is switched off. Its VIPs are taken over after
        // a master-down interval (a vhid that goes from its master sends
        // nothing, docs/freebsd-carp.md §11.3).
        let mut naive = naive_events(&all[..n - 1], 5);
        naive.push_str(&format!(
            "[[event]]\nat = {}\naction = \"crash\"\nnode = \"{leaver}\"\n",
            START + 5 * (n as u64 - 1),
        ));
        let naive = cost(&run_change(flavor, &all, &old, &new, &naive));
        eprintln!("{what}: naive {naive:?}");
        assert!(
            naive.lost > 0,
            "{what}: naive {naive:?} planned {planned:?}"
        );
    }
}

#[test]
fn apply_and_rollout_events_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, text: &str| write_private(&dir.path().join(name), text);
    let v = vips(1);
    put("old.toml", &cluster(1, &["n1", "n2"], &as_refs(&v)));
    let mut moved = v.clone();
    moved[0].1 = 9;
    put("vhid.toml", &cluster(1, &["n1", "n2"], &as_refs(&moved)));
    put("bad.toml", "[cluster]\nadvbase = 0\n");
    let base = "cluster = \"old.toml\"\nduration = 30\n\
                [[node]]\nname = \"n1\"\ninterfaces = { em0 = [\"192.0.2.1/24\"] }\n\
                [[node]]\nname = \"n2\"\ninterfaces = { em0 = [\"192.0.2.2/24\"] }\n";
    let errors = |events: &str| -> String {
        put("s.toml", &format!("{base}{events}"));
        match scenario::load(&dir.path().join("s.toml")) {
            Ok(_) => String::new(),
            Err(d) => d
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        }
    };
    let e = errors("[[event]]\nat = 1\naction = \"apply\"\nnode = \"n1\"\n");
    assert!(e.contains("file is missing"), "{e}");
    let e = errors("[[event]]\nat = 1\naction = \"apply\"\nnode = \"n1\"\nfile = \"none.toml\"\n");
    assert!(e.contains("none.toml"), "{e}");
    let e = errors("[[event]]\nat = 1\naction = \"apply\"\nnode = \"n1\"\nfile = \"bad.toml\"\n");
    assert!(e.contains("bad.toml has errors"), "{e}");
    let e = errors("[[event]]\nat = 1\naction = \"apply\"\nnode = \"n1\"\nfile = \"vhid.toml\"\n");
    assert!(e.contains("vhid 9 on em0 here but vhid 1"), "{e}");
    let e = errors("[[event]]\nat = 1\naction = \"rollout\"\nfile = \"old.toml\"\nnode = \"n1\"\n");
    assert!(e.contains("key node does not apply to rollout"), "{e}");
    put("late.toml", &cluster(2, &["n1", "n2"], &as_refs(&v)));
    let e = errors("[[event]]\nat = 20\naction = \"rollout\"\nfile = \"late.toml\"\n");
    assert!(e.contains("after the scenario's end"), "{e}");
    assert!(Path::new(&dir.path().join("s.toml")).exists());
}
