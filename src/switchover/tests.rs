use std::path::Path;

use super::*;
use crate::config::Config;

/// `n` nodes n0.., advskew_step 20; VIP "web" prefers them in file order,
/// "one" has n0 alone, "v" is VRRPv3.
fn cfg(n: usize, extra: &str) -> Config {
    let mut s = format!("[cluster]\nadvskew_step = 20\n{extra}\n");
    for i in 0..n {
        s += &format!("[[node]]\nname = \"n{i}\"\n");
    }
    let order: Vec<String> = (0..n).map(|i| format!("\"n{i}\"")).collect();
    s += &format!(
        "[[vip]]\nname = \"web\"\nvhid = 1\ninterface = \"em0\"\naddresses = [\"192.0.2.50/32\"]\n\
         password = \"s1\"\nprefer = [{}]\n\
         [[vip]]\nname = \"one\"\nvhid = 2\ninterface = \"em0\"\naddresses = [\"192.0.2.51/32\"]\n\
         password = \"s2\"\nprefer = [\"n0\"]\n\
         [[vip]]\nname = \"v\"\nvhid = 3\ninterface = \"em0\"\naddresses = [\"192.0.2.52/32\"]\n\
         protocol = \"vrrp\"\ninterval = 100\n",
        order.join(", ")
    );
    crate::config::parse(&s, Path::new("t.toml"), Some(0o600)).unwrap_or_else(|d| panic!("{d:?}"))
}

/// (node, planned, raised to) of each raise, in order.
fn names(v: &[Raise]) -> Vec<(&str, u8, u8)> {
    v.iter()
        .map(|r| (r.node.as_str(), r.planned.get(), r.to.get()))
        .collect()
}

#[test]
fn the_nodes_ahead_of_the_target_raise_backups_first_master_last() {
    let plan = cfg(5, "").plan().unwrap();
    // To the next rank: only the master raises, to 20 + 1.
    let sw = procedure(&plan, true, "web", "n0", None).unwrap();
    assert_eq!(sw.target, "n1");
    assert_eq!(names(&sw.raise), [("n0", 0, 21)]);
    // To a further rank: n1 and n2 first (backups, rank order), n0 last;
    // each to its own value above 60, in planned order, so that if n3
    // fails no two of them tie.
    let sw = procedure(&plan, true, "web", "n0", Some("n3")).unwrap();
    assert_eq!(
        names(&sw.raise),
        [("n1", 20, 62), ("n2", 40, 63), ("n0", 0, 61)]
    );
    assert_eq!(sw.raise_of("n2").map(|r| r.to.get()), Some(63));
    assert_eq!(sw.raise_of("n3"), None, "the target does nothing");
    assert_eq!(sw.raise_of("n4"), None, "nor do the nodes behind it");
    // --back: the lowest planned skew first, so the VIP comes straight back.
    assert_eq!(
        names(&sw.back_order()),
        [("n0", 0, 61), ("n1", 20, 62), ("n2", 40, 63)]
    );
    let lines = order_lines(&sw);
    assert_eq!(lines[0], "1. n1 (backup: nothing moves): advskew 20 -> 62");
    assert!(
        lines[2].starts_with("3. n0 (the current master, last"),
        "{lines:?}"
    );
    assert_eq!(
        back_lines(&sw)[0],
        "1. n0: advskew 61 -> 0 (it preempts the VIP straight back)"
    );
    // From a master that is not rank 0 (n0 down): its next rank.
    let sw = procedure(&plan, true, "web", "n1", None).unwrap();
    assert_eq!(sw.target, "n2");
    assert_eq!(names(&sw.raise), [("n0", 0, 41), ("n1", 20, 42)]);
}

#[test]
fn raised_values_skip_the_skews_of_the_other_members() {
    // Pinned: the target b at 10, d and e behind it at 11 and 13: a and
    // c, ahead of b, take 12 and 14, never a value d or e advertises.
    let text = "[[node]]\nname = \"a\"\n[[node]]\nname = \"c\"\n[[node]]\nname = \"b\"\n\
         [[node]]\nname = \"d\"\n[[node]]\nname = \"e\"\n\
         [[vip]]\nname = \"w\"\nvhid = 1\ninterface = \"em0\"\naddresses = [\"192.0.2.50/32\"]\n\
         password = \"s\"\nadvskew = { a = 0, c = 5, b = 10, d = 11, e = 13 }\n";
    let c = crate::config::parse(text, Path::new("t.toml"), Some(0o600))
        .unwrap_or_else(|d| panic!("{d:?}"));
    let sw = procedure(&c.plan().unwrap(), true, "w", "a", Some("b")).unwrap();
    assert_eq!(names(&sw.raise), [("c", 5, 14), ("a", 0, 12)]);
}

#[test]
fn bad_switchovers_are_refused_naming_why() {
    let plan = cfg(3, "").plan().unwrap();
    let err = |vip: &str, master: &str, to: Option<&str>| {
        procedure(&plan, true, vip, master, to)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("db", "n0", None),
        "the cluster file has no VIP \"db\" (its VIPs: web, one, v)"
    );
    assert!(err("v", "n0", None).contains("VIP \"v\" is VRRPv3"));
    assert!(err("one", "n0", None).contains("VIP \"one\" has one node (n0)"));
    assert_eq!(
        err("web", "n0", Some("zz")),
        "the cluster file has no node \"zz\" (its nodes: n0, n1, n2)"
    );
    assert_eq!(
        err("web", "n0", Some("n0")),
        "node \"n0\" is already the master of VIP \"web\"; nothing to move"
    );
    assert!(err("web", "n2", None).contains("its master n2 is its last rank; name the target"));
    assert!(err("web", "n1", Some("n0")).contains("already ranks ahead of the current master n1"));
    let e = procedure(&plan, false, "web", "n0", None).unwrap_err();
    assert_eq!(e, SwitchoverError::NoPreempt);
    // A target outside the VIP's order.
    let text = "[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n[[node]]\nname = \"c\"\n\
         [[vip]]\nname = \"w\"\nvhid = 1\ninterface = \"em0\"\naddresses = [\"192.0.2.50/32\"]\n\
         password = \"s\"\nprefer = [\"a\", \"b\"]\n";
    let c = crate::config::parse(text, Path::new("t.toml"), Some(0o600)).unwrap();
    let e = procedure(&c.plan().unwrap(), true, "w", "a", Some("c")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "node \"c\" takes no part in VIP \"w\" (its order: a, b)"
    );
    // check() alone says the same before any kernel is read.
    assert!(check(&c.plan().unwrap(), true, "w", Some("c")).is_err());
    assert!(check(&c.plan().unwrap(), true, "w", Some("b")).is_ok());
}

#[test]
fn a_raised_skew_must_stay_below_240() {
    // advskew_step 80: ranks 0, 80, 160, 240 is refused by the plan, so
    // pin: b at 239 leaves no room for 240.
    let text = "[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n\
         [[vip]]\nname = \"w\"\nvhid = 1\ninterface = \"em0\"\naddresses = [\"192.0.2.50/32\"]\n\
         password = \"s\"\nadvskew = { a = 0, b = 239 }\n";
    let c = crate::config::parse(text, Path::new("t.toml"), Some(0o600))
        .unwrap_or_else(|d| panic!("{d:?}"));
    let e = procedure(&c.plan().unwrap(), true, "w", "a", None).unwrap_err();
    assert!(
        e.to_string()
            .contains("needs advskew 240 on a node ahead of it"),
        "{e}"
    );
}
