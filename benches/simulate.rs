//! How fast `carpctl simulate` runs: the issue's target is 16 nodes, 64
//! VIPs, 24 hours of virtual time with a fault every minute in under 10 s
//! on a development machine.
//!
//! ```text
//! cargo bench --bench simulate            # criterion on the seed scenario, then both days
//! cargo bench --bench simulate -- day     # only the CARP day
//! cargo bench --bench simulate -- vrrp    # only the VRRPv3 day
//! ```
//!
//! The VRRPv3 day (issue 12 item 11) is the same cluster and faults with
//! `protocol = "vrrp"`, `interval = 10` (100 ms) on FreeBSD 15, each VIP
//! naming 10 of the 16 nodes in `prefer` (the most ranks 10 cs tells
//! apart); every node still joins the group and receives every
//! advertisement. Ten advertisements per second per VIP instead of one,
//! so ten times the frames; its target is under a minute on two cores. It
//! reports the advertisements per second per VIP the nodes sent. On a
//! loaded machine the wall time says little: measure the CPU time, which
//! is the wall time of an idle core (the run is single-threaded), with
//! `/usr/bin/time -v target/release/deps/simulate-* vrrp` (user + sys).
//! December 2026, on the project's 2-core machine: 50.5 s user+sys for
//! 59.5 million frames (183 s wall at 27 % of a core under a load of 9).
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

/// The cluster file and scenario of the day, written into `dir`: CARP at
/// advbase 1, or with `vrrp` VRRPv3 at 10 cs on FreeBSD 15.
fn write_day(dir: &Path, nodes: usize, vips: usize, hours: u64, vrrp: bool) -> std::path::PathBuf {
    let mut c = if vrrp {
        String::from("[cluster]\npreempt = true\nprotocol = \"vrrp\"\ninterval = 10\n")
    } else {
        String::from("[cluster]\npreempt = true\nadvbase = 1\n")
    };
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
        if vrrp {
            // At 10 cs, VRRPv3 tells at most 10 ranks apart (carpctl.toml(5),
            // "interval"): each VIP names 10 nodes, starting one node
            // further each time, so that the masters are spread.
            let prefer: Vec<String> = (0..10)
                .map(|i| format!("\"n{:02}\"", (v + i - 1) % nodes + 1))
                .collect();
            let _ = writeln!(c, "prefer = [{}]", prefer.join(", "));
        }
    }
    std::fs::write(dir.join("cluster.toml"), c).unwrap();

    let duration = hours * 3600;
    let mut s = format!("cluster = \"cluster.toml\"\nduration = {duration}\nseed = 7\n");
    if vrrp {
        s.push_str("freebsd = \"15\"\n");
    } else {
        s.push_str("\n[passwords]\n");
        for v in 1..=vips {
            let _ = writeln!(s, "vip{v:02} = \"secret-{v}\"");
        }
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

/// Counts the CARP and VRRPv3 advertisements (IP protocol 112) put on the
/// segment.
struct AdCounter(u64);

impl sim::FrameSink for AdCounter {
    fn frame(&mut self, _at: u64, b: &[u8]) -> Result<(), String> {
        let proto = match b.get(12..14) {
            Some([0x08, 0x00]) => b.get(14 + 9),
            Some([0x86, 0xdd]) => b.get(14 + 6),
            _ => None,
        };
        if proto == Some(&112) {
            self.0 += 1;
        }
        Ok(())
    }
}

fn seed(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-scenario.toml");
    let sc = sim::scenario::load(&path).expect("the seed scenario loads");
    c.bench_function("simulate/seed scenario (2 nodes, 120 s)", |b| {
        b.iter(|| sim::run(&sc, None).expect("runs"))
    });
}

fn day(vrrp: bool) {
    // CARPCTL_BENCH_HOURS shortens the day while profiling.
    let hours = std::env::var("CARPCTL_BENCH_HOURS")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(24);
    let dir = tempfile::tempdir().unwrap();
    let path = write_day(dir.path(), 16, 64, hours, vrrp);
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
    let mut ads = AdCounter(0);
    let t = Instant::now();
    let report = sim::run(&sc, Some(&mut ads)).expect("the day runs");
    let took = t.elapsed();
    // Every advertisement put on the segment, per second of virtual time
    // and per VIP (the kernels' own counters restart at each reboot).
    let per_vip = ads.0 as f64 / report.duration / sc.config.vips.len() as f64;
    println!(
        "simulate/day{}: 16 nodes, 64 VIPs, {hours} h of virtual time, {faults} faults: {:.2} s \
         ({} frames, {:.2} advertisements per second per VIP, {} transitions; requirements {:?})",
        if vrrp {
            " (VRRPv3, interval 10 cs)"
        } else {
            " (CARP, advbase 1)"
        },
        took.as_secs_f64(),
        report.frames,
        per_vip,
        report.transitions.len(),
        report.requirements
    );
}

fn main() {
    let only_day = std::env::args().any(|a| a == "day");
    let only_vrrp = std::env::args().any(|a| a == "vrrp");
    if !only_day && !only_vrrp {
        let mut c = Criterion::default().sample_size(10).configure_from_args();
        seed(&mut c);
        c.final_summary();
    }
    if !only_vrrp {
        day(false);
    }
    if !only_day {
        day(true);
    }
}
