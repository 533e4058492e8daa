//! Acceptance of `switchover` (issue 14): on 2, 3 and 5 nodes, FreeBSD 14
//! and 15, one VIP moves to its next rank or to a further one, and back,
//! each exactly once, with no request lost and no dual master, and no
//! other VIP moves; the naive way (`state backup` on the master), side by
//! side, loses requests and moves the VIP twice.

use super::maintenance_tests::{cluster, longest_dual, lost, masters};
use super::report::Report;
use super::tests::{LATENCY, load};
use super::*;

const SW: f64 = 10.25;
const BACK: f64 = 25.25;
const END: f64 = 40.0;

/// `events`: TOML `[[event]]` tables after the nodes.
fn scenario(n: usize, flavor: &str, events: &str) -> String {
    let mut s = format!("cluster = \"cluster.toml\"\nduration = {END}\nfreebsd = \"{flavor}\"\n");
    s += "[passwords]\n";
    for j in 0..n {
        s += &format!("v{j} = \"s3cret{j}\"\n");
    }
    s += "x = \"s3cretx\"\n";
    for i in 0..n {
        s += &format!(
            "[[node]]\nname = \"n{i}\"\ninterfaces = {{ em0 = [\"192.0.2.{}/24\"] }}\n",
            i + 1
        );
    }
    s + events
}

/// `switchover` of v0 (to `to`, or its next rank) at [`SW`], back at
/// [`BACK`].
fn switchover(to: Option<&str>) -> String {
    let to = to.map_or_else(String::new, |t| format!("to = \"{t}\"\n"));
    format!(
        "[[event]]\nat = {SW}\naction = \"switchover\"\nvip = \"v0\"\n{to}\
         [[event]]\nat = {BACK}\naction = \"switchover\"\nvip = \"v0\"\nback = true\n"
    )
}

fn run_it(n: usize, flavor: &str, events: &str) -> Report {
    let (_f, sc) = load(&cluster(n), &scenario(n, flavor, events));
    run(&sc, None).unwrap()
}

/// The measured numbers of one run, for the messages.
fn measured(r: &Report) -> String {
    format!(
        "lost {}, longest dual master {:.6} s, v0 masters {:?} then {:?}",
        lost(r),
        longest_dual(r),
        masters(r, "v0", SW, BACK),
        masters(r, "v0", BACK, END)
    )
}

#[test]
fn switchover_moves_one_vip_once_and_back_once_losing_nothing() {
    for flavor in ["14", "15"] {
        for n in [2usize, 3, 5] {
            let mut targets = vec![None];
            if n > 2 {
                targets.push(Some(format!("n{}", n - 1)));
            }
            for to in targets {
                let r = run_it(n, flavor, &switchover(to.as_deref()));
                let target = to.clone().unwrap_or_else(|| "n1".into());
                // The measurement for the record (`-- --nocapture`).
                eprintln!("{n} nodes, FreeBSD {flavor}, to {target}: {}", measured(&r));
                let ctx = format!(
                    "{n} nodes, FreeBSD {flavor}, to {target}: {}\n{}",
                    measured(&r),
                    r.to_text()
                );
                assert_eq!(lost(&r), 0, "{ctx}");
                assert!(longest_dual(&r) <= LATENCY + 1e-9, "{ctx}");
                assert!(r.vips.iter().all(|v| v.requests > 0), "{ctx}");
                assert_eq!(masters(&r, "v0", SW, BACK), [target.as_str()], "{ctx}");
                assert_eq!(masters(&r, "v0", BACK, END), ["n0"], "{ctx}");
                // Every other VIP stays where it is.
                for j in 1..n {
                    let vip = format!("v{j}");
                    assert_eq!(masters(&r, &vip, 5.0, END), Vec::<String>::new(), "{ctx}");
                }
                assert_eq!(masters(&r, "x", 5.0, END), Vec::<String>::new(), "{ctx}");
                // The per-step report says the same.
                let steps = &r.changes;
                assert_eq!(steps.len(), 2, "{ctx}");
                assert_eq!(steps[0].moved, [format!("v0 to {target}")], "{ctx}");
                assert_eq!(steps[1].moved, ["v0 to n0"], "{ctx}");
                assert!(steps.iter().all(|s| s.lost == 0), "{ctx}");
            }
        }
    }
}

/// The naive way: `state backup` on the master (`ifconfig em0 vhid 1
/// state backup`). It stops advertising, so the VIP has no master until a
/// backup's master-down timer expires (3 advertisements), and with
/// preemption the old master takes it back: requests lost, two moves.
#[test]
fn naive_state_backup_loses_requests_and_moves_twice() {
    for flavor in ["14", "15"] {
        for n in [2usize, 3] {
            let naive = format!(
                "[[event]]\nat = {SW}\naction = \"state\"\nnode = \"n0\"\nvip = \"v0\"\n\
                 state = \"backup\"\n"
            );
            let r = run_it(n, flavor, &naive);
            eprintln!("naive, {n} nodes, FreeBSD {flavor}: {}", measured(&r));
            let ctx = format!(
                "{n} nodes, FreeBSD {flavor}: {}\n{}",
                measured(&r),
                r.to_text()
            );
            assert!(lost(&r) > 0, "{ctx}");
            assert_eq!(masters(&r, "v0", SW, END), ["n1", "n0"], "{ctx}");
            let good = run_it(n, flavor, &switchover(None));
            assert_eq!(lost(&good), 0, "{}", good.to_text());
        }
    }
}

#[test]
fn bad_switchover_events_are_errors_naming_the_event() {
    let n = 3;
    let bad = |events: &str| super::tests::errors(&cluster(n), &scenario(n, "14", events));
    let ev = |keys: &str| format!("[[event]]\nat = 5\naction = \"switchover\"\n{keys}");
    for (keys, want) in [
        (
            "vip = \"nope\"\n",
            "event[0] (switchover): the cluster file has no VIP \"nope\"",
        ),
        (
            "vip = \"v0\"\nto = \"zz\"\n",
            "event[0] (switchover): node \"zz\" is not a [[node]] of this scenario",
        ),
        (
            "vip = \"v0\"\nto = \"n1\"\nback = true\n",
            "event[0] (switchover): to does not apply with back = true",
        ),
        ("to = \"n1\"\n", "event[0] (switchover): vip is missing"),
        (
            "vip = \"v0\"\nnode = \"n1\"\n",
            "event[0] (switchover): key node does not apply to switchover",
        ),
    ] {
        let errs = bad(&ev(keys));
        assert!(errs.iter().any(|e| e.contains(want)), "{keys}: {errs:?}");
    }
    // A target outside the VIP's order: a scenario node the cluster file's
    // VIP does not list.
    let mut c = cluster(n);
    c += "[[vip]]\nname = \"p\"\nvhid = 9\ninterface = \"em0\"\naddresses = [\"192.0.2.99/32\"]\n\
          prefer = [\"n0\", \"n1\"]\n";
    let mut s = scenario(n, "14", &ev("vip = \"p\"\nto = \"n2\"\n"));
    s = s.replace("x = \"s3cretx\"\n", "x = \"s3cretx\"\np = \"s3cretp\"\n");
    let errs = super::tests::errors(&c, &s);
    assert!(
        errs.iter().any(|e| e.contains(
            "event[0] (switchover): node \"n2\" takes no part in VIP \"p\" (its order: n0, n1)"
        )),
        "{errs:?}"
    );
}

/// An error about the VIP itself (one node, VRRPv3, no preemption) is
/// reported where `vip` is written, one about the target where `to` is.
#[test]
fn switchover_event_errors_point_at_the_key_they_are_about() {
    let n = 3;
    let mut c = cluster(n);
    c += "[[vip]]\nname = \"alone\"\nvhid = 9\ninterface = \"em0\"\n\
          addresses = [\"192.0.2.99/32\"]\nprefer = [\"n0\"]\n";
    let events = "[[event]]\nat = 5\naction = \"switchover\"\nvip = \"alone\"\n\
                  [[event]]\nat = 6\naction = \"switchover\"\nvip = \"v0\"\nto = \"zz\"\n";
    let s = scenario(n, "14", events).replace(
        "x = \"s3cretx\"\n",
        "x = \"s3cretx\"\nalone = \"s3creta\"\n",
    );
    let line_of = |needle: &str| s.lines().position(|l| l == needle).unwrap() + 1;
    let errs = super::tests::errors(&c, &s);
    assert!(
        super::tests::has(
            &errs,
            line_of("vip = \"alone\""),
            "VIP \"alone\" has one node (n0)"
        ),
        "{errs:?}"
    );
    assert!(
        super::tests::has(&errs, line_of("to = \"zz\""), "node \"zz\""),
        "{errs:?}"
    );
}

/// The target is down: nobody preempts the master's raised skew, the wait
/// ends, the master restores its planned skew, and nothing moves, not even
/// when the target boots again (it would preempt a master left at 21).
#[test]
fn a_target_that_never_takes_over_leaves_the_vip_where_it_was() {
    for flavor in ["14", "15"] {
        let events = format!(
            "[[event]]\nat = 8\naction = \"crash\"\nnode = \"n1\"\n\
             [[event]]\nat = {SW}\naction = \"switchover\"\nvip = \"v0\"\nto = \"n1\"\n\
             [[event]]\nat = {BACK}\naction = \"boot\"\nnode = \"n1\"\n"
        );
        let r = run_it(3, flavor, &events);
        let ctx = format!("FreeBSD {flavor}: {}\n{}", measured(&r), r.to_text());
        assert_eq!(masters(&r, "v0", SW, END), Vec::<String>::new(), "{ctx}");
        // n1's own VIP fails over when it crashes; v0 loses nothing.
        let v0 = r.vips.iter().find(|v| *v.name == *"v0").unwrap();
        assert_eq!(v0.lost, 0, "{ctx}");
        assert!(v0.requests > 0, "{ctx}");
        assert!(longest_dual(&r) <= LATENCY + 1e-9, "{ctx}");
    }
}

/// The target fails while the switchover is in force: the raised nodes
/// advertise distinct skews, in their planned order, so exactly one of
/// them (the VIP's planned master) takes over after the master-down
/// interval, with no tie between them (two BACKUPs that time out in the
/// same tick would both become MASTER and step down again on hearing
/// each other, `carp_input_c()`).
#[test]
fn a_target_that_fails_during_a_switchover_hands_the_vip_to_one_raised_node() {
    for flavor in ["14", "15"] {
        let events = format!(
            "[[event]]\nat = {SW}\naction = \"switchover\"\nvip = \"v0\"\nto = \"n4\"\n\
             [[event]]\nat = 18\naction = \"crash\"\nnode = \"n4\"\n"
        );
        let r = run_it(5, flavor, &events);
        eprintln!("target fails, 5 nodes, FreeBSD {flavor}: {}", measured(&r));
        let ctx = format!("FreeBSD {flavor}: {}\n{}", measured(&r), r.to_text());
        assert_eq!(masters(&r, "v0", SW, 18.0), ["n4"], "{ctx}");
        assert_eq!(masters(&r, "v0", 18.0, END), ["n0"], "{ctx}");
        assert!(longest_dual(&r) <= LATENCY + 1e-9, "{ctx}");
    }
}
