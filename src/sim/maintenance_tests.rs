//! Acceptance of the stepped `maintenance on`/`off` (issue 14): on 2, 3
//! and 5 nodes, FreeBSD 14 and 15, no request lost, no dual master, and
//! each VIP of the node moves exactly once to its next rank and once back;
//! the one-step procedure it replaced, side by side, loses requests on 3
//! nodes.

use super::report::Report;
use super::tests::{LATENCY, load};
use super::*;

const ON: f64 = 10.25;
const OFF: f64 = 25.25;

/// `n` nodes `n0`.., VIP `v{j}` preferring the nodes rotated by `j`, and
/// `x` preferring n0, then the others backwards: n0 is MASTER of `v0` and
/// `x`, whose next ranks differ.
pub(super) fn cluster(n: usize) -> String {
    let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
    let mut s = String::from("[cluster]\nadvskew_step = 20\n");
    for name in &names {
        s += &format!("[[node]]\nname = \"{name}\"\n");
    }
    let quote = |v: Vec<&String>| {
        v.iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut vips: Vec<(String, Vec<&String>)> = (0..n)
        .map(|j| {
            let order = (0..n).map(|k| &names[(j + k) % n]).collect();
            (format!("v{j}"), order)
        })
        .collect();
    let mut x = vec![&names[0]];
    x.extend(names[1..].iter().rev());
    vips.push(("x".into(), x));
    for (vi, (name, order)) in vips.into_iter().enumerate() {
        s += &format!(
            "[[vip]]\nname = \"{name}\"\nvhid = {}\ninterface = \"em0\"\n\
             addresses = [\"192.0.2.{}/32\"]\nprefer = [{}]\n",
            vi + 1,
            vi + 100,
            quote(order)
        );
    }
    s
}

fn scenario(n: usize, flavor: &str, procedure: Option<&str>) -> String {
    let mut s = format!("cluster = \"cluster.toml\"\nduration = 40\nfreebsd = \"{flavor}\"\n");
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
    s += &format!("[[event]]\nat = {ON}\naction = \"maintenance_on\"\nnode = \"n0\"\n");
    if let Some(p) = procedure {
        s += &format!("procedure = \"{p}\"\n");
    }
    s += &format!("[[event]]\nat = {OFF}\naction = \"maintenance_off\"\nnode = \"n0\"\n");
    s
}

fn run_it(n: usize, flavor: &str, procedure: Option<&str>) -> Report {
    let (_f, sc) = load(&cluster(n), &scenario(n, flavor, procedure));
    run(&sc, None).unwrap()
}

/// The nodes that became MASTER of `vip` within `[from, to)`, in order.
pub(super) fn masters(r: &Report, vip: &str, from: f64, to: f64) -> Vec<String> {
    r.transitions
        .iter()
        .filter(|t| t.to == CarpState::Master && t.time >= from && t.time < to)
        .filter(|t| t.vip.as_ref().is_some_and(|v| **v == *vip))
        .map(|t| t.node.to_string())
        .collect()
}

pub(super) fn lost(r: &Report) -> u64 {
    r.vips.iter().map(|v| v.lost).sum()
}

/// The longest dual master. A takeover always has one of one segment
/// latency: the new master advertises and the old one steps down when that
/// advertisement reaches it (`carp_input_c()`); the report hides those
/// (shorter than 1 ms), and so "0 s" means none longer than that crossing.
pub(super) fn longest_dual(r: &Report) -> f64 {
    r.vips
        .iter()
        .flat_map(|v| &v.dual_master)
        .map(|d| d.end - d.start)
        .fold(0.0, f64::max)
}

#[test]
fn stepped_maintenance_loses_nothing_and_moves_each_vip_once_to_its_next_rank() {
    for flavor in ["14", "15"] {
        for n in [2usize, 3, 5] {
            let r = run_it(n, flavor, None);
            let ctx = format!("{n} nodes, FreeBSD {flavor}:\n{}", r.to_text());
            // The measurement for the record (`-- --nocapture`).
            eprintln!(
                "stepped, {n} nodes, FreeBSD {flavor}: lost {}, longest dual master {} s",
                lost(&r),
                longest_dual(&r)
            );
            assert_eq!(lost(&r), 0, "{ctx}");
            assert!(longest_dual(&r) <= LATENCY + 1e-9, "{ctx}");
            assert!(r.vips.iter().all(|v| v.requests > 0), "{ctx}");
            // v0's next rank is n1, x's is the last node.
            let next = [("v0", "n1".to_string()), ("x", format!("n{}", n - 1))];
            for (vip, next) in &next {
                assert_eq!(masters(&r, vip, ON, OFF), [next.as_str()], "{vip}: {ctx}");
                assert_eq!(masters(&r, vip, OFF, 40.0), ["n0"], "{vip}: {ctx}");
            }
            // The node's other VIPs never change hands.
            for j in 1..n {
                assert_eq!(
                    masters(&r, &format!("v{j}"), 5.0, 40.0),
                    Vec::<String>::new()
                );
            }
            // Step 1 (one above the gap of 20), then the rest of 240 once n0 is MASTER of nothing.
            let steps: Vec<i32> = r
                .demotions
                .iter()
                .filter(|d| *d.node == *"n0" && d.reason == "sysctl")
                .map(|d| d.delta)
                .collect();
            // Both next ranks are at advskew 20.
            assert_eq!(steps, [21, 240 - 21, -240], "{ctx}");
        }
    }
}

/// The procedure before the steps: 240 at once makes every backup of
/// n0's VIPs preempt together; on 3 nodes the switch may follow the one
/// that steps down again, and requests are lost.
#[test]
fn one_step_maintenance_loses_requests_on_three_nodes() {
    for flavor in ["14", "15"] {
        let one = run_it(3, flavor, Some("one_step"));
        let stepped = run_it(3, flavor, Some("stepped"));
        eprintln!(
            "3 nodes, FreeBSD {flavor}: one step lost {}, stepped lost {}",
            lost(&one),
            lost(&stepped)
        );
        assert!(lost(&one) > 0, "FreeBSD {flavor}:\n{}", one.to_text());
        assert_eq!(
            lost(&stepped),
            0,
            "FreeBSD {flavor}:\n{}",
            stepped.to_text()
        );
        // Both backups of v0 became MASTER at once.
        assert_eq!(masters(&one, "v0", ON, OFF).len(), 2, "{}", one.to_text());
    }
}

#[test]
fn a_bad_procedure_is_an_error_naming_it() {
    let mut s = scenario(2, "14", Some("gently"));
    let errs = super::tests::errors(&cluster(2), &s);
    assert!(
        errs.iter().any(|e| e.contains(
            "event[0] (maintenance_on): procedure \"gently\" is not one of \"stepped\", \"one_step\""
        )),
        "{errs:?}"
    );
    // Only maintenance_on takes it.
    s = scenario(2, "14", None).replace(
        "action = \"maintenance_off\"\n",
        "action = \"maintenance_off\"\nprocedure = \"stepped\"\n",
    );
    let errs = super::tests::errors(&cluster(2), &s);
    assert!(errs.iter().any(|e| e.contains("procedure")), "{errs:?}");
}
