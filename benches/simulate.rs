//! How fast `carpctl simulate` runs: the issue's target is 16 nodes, 64
//! VIPs, 24 hours of virtual time with a fault every minute in under 10 s
//! on a development machine.
//!
//! ```text
//! cargo bench --bench simulate            # criterion on the seed scenario, then the day
//! cargo bench --bench simulate -- day     # only the day
//! ```
//!
//! The day is measured once (criterion would need at least 10 runs): the
//! cluster has 16 nodes and 64 VIPs without `prefer`, so every node takes
//! part in every VIP (1 MASTER and 15 BACKUPs each, advbase 1: about 5.5
//! million advertisements, each delivered to 15 kernels that check its
//! checksum and HMAC). Every minute one node suffers one of five faults
//! (crash, link down, maintenance, 10 % packet loss, partition), undone
//! 30 s later (boot, link up, maintenance off, loss 0, heal).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly on what it does not expect"
)]

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use carpctl::sim;
use criterion::Criterion;

/// The cluster file and scenario of the day, written into `dir`.
fn write_day(dir: &Path, nodes: usize, vips: usize, hours: u64) -> std::path::PathBuf {
    let mut c = String::from("[cluster]\npreempt = true\nadvbase = 1\n");
    for n in 1..=nodes {
        let _ = write!(
            c,
            "\n[[node]]\nname = \"n{n:02}\"\ninterfaces = {{ lan = \"em0\" }}\n"
        );
    }
    for v in 1..=vips {
        let _ = write!(
            c,
            "\n[[vip]]\nname = \"vip{v:02}\"\nvhid = {v}\ninterface = \"lan\"\naddresses = [\"10.0.1.{v}/32\"]\n"
        );
    }
    std::fs::write(dir.join("cluster.toml"), c).unwrap();

    let duration = hours * 3600;
    let mut s =
        format!("cluster = \"cluster.toml\"\nduration = {duration}\nseed = 7\n\n[passwords]\n");
    for v in 1..=vips {
        let _ = writeln!(s, "vip{v:02} = \"secret-{v}\"");
    }
    for n in 1..=nodes {
        let _ = write!(
            s,
            "\n[[node]]\nname = \"n{n:02}\"\ninterfaces = {{ em0 = [\"10.0.0.{n}/16\"] }}\n"
        );
    }
    let mut minute = 1u64;
    while minute * 60 < duration {
        let at = minute * 60;
        // A different node each time, a different fault in turn.
        let node = format!("n{:02}", (minute * 7) % nodes as u64 + 1);
        let (fault, undo) = match minute % 5 {
            0 => (
                "action = \"crash\"".to_string(),
                "action = \"boot\"".to_string(),
            ),
            1 => (
                "action = \"link_down\"".into(),
                "action = \"link_up\"".into(),
            ),
            2 => (
                "action = \"maintenance_on\"".into(),
                "action = \"maintenance_off\"".into(),
            ),
            3 => (
                "action = \"loss\"\npercent = 10".into(),
                "action = \"loss\"\npercent = 0".into(),
            ),
            _ => (
                format!("action = \"partition\"\ngroups = [[\"{node}\"]]"),
                "action = \"heal\"".into(),
            ),
        };
        let with_node = |a: &str| {
            if a.contains("loss") || a.contains("partition") || a.contains("heal") {
                a.to_string()
            } else {
                format!("{a}\nnode = \"{node}\"")
            }
        };
        let _ = write!(s, "\n[[event]]\nat = {at}\n{}\n", with_node(&fault));
        let _ = write!(s, "\n[[event]]\nat = {}\n{}\n", at + 30, with_node(&undo));
        minute += 1;
    }
    let path = dir.join("day.toml");
    std::fs::write(&path, s).unwrap();
    path
}

fn seed(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-scenario.toml");
    let sc = sim::scenario::load(&path).expect("the seed scenario loads");
    c.bench_function("simulate/seed scenario (2 nodes, 120 s)", |b| {
        b.iter(|| sim::run(&sc, None).expect("runs"))
    });
}

fn day() {
    // CARPCTL_BENCH_HOURS shortens the day while profiling.
    let hours = std::env::var("CARPCTL_BENCH_HOURS")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(24);
    let dir = tempfile::tempdir().unwrap();
    let path = write_day(dir.path(), 16, 64, hours);
    let sc = sim::scenario::load(&path).unwrap_or_else(|d| {
        panic!(
            "{}",
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    let faults = sc.events.iter().filter(|e| e.action.is_fault()).count();
    let t = Instant::now();
    let report = sim::run(&sc, None).expect("the day runs");
    let took = t.elapsed();
    println!(
        "simulate/day: 16 nodes, 64 VIPs, {hours} h of virtual time, {faults} faults: {:.2} s \
         ({} frames, {} transitions; requirements {:?})",
        took.as_secs_f64(),
        report.frames,
        report.transitions.len(),
        report.requirements
    );
}

fn main() {
    let only_day = std::env::args().any(|a| a == "day");
    if !only_day {
        let mut c = Criterion::default().sample_size(10).configure_from_args();
        seed(&mut c);
        c.final_summary();
    }
    day();
}
