//! `carpctl scan [-i IFACE]... [--pcap FILE] [--duration S] [--json]
//! [--watch] [--map NODE=ADDRESS]...`: every CARP and VRRP speaker on the
//! wire, who is master, and what is wrong (see [`crate::scan`];
//! carpctl(8), "scan").
//!
//! Exit status: 0 when no finding is above info, 1 when one is, 2 for a
//! usage, cluster-file or capture error (no privilege, no such interface,
//! not a capture file).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;

use super::{CliError, GlobalOpts, cluster};
use crate::scan::capture::{self, CaptureError, Source};
use crate::scan::cluster::ClusterView;
use crate::scan::report::{Report, SourceInfo};
use crate::scan::{Scanner, render};

/// The capture time without `--duration` (and without `--watch`): long
/// enough for three advertisements at the default advbase of 1 s, and for
/// a backup's master-down interval to pass.
pub(crate) const DEFAULT_DURATION: f64 = 10.0;
/// The longest `--duration`: one year.
pub(crate) const MAX_DURATION: f64 = 365.0 * 86400.0;

/// Arguments of `carpctl scan`.
#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Capture live on IFACE (repeat for several); needs root, or read
    /// access to /dev/bpf on FreeBSD
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interfaces: Vec<String>,
    /// Read a capture file instead (pcap or pcapng, from tcpdump, tshark or
    /// `simulate --pcap`; `-` for standard input)
    #[arg(long, value_name = "FILE", conflicts_with = "interfaces")]
    pub pcap: Option<PathBuf>,
    /// Capture for S seconds; 0 captures until interrupted [default: 10,
    /// and with --watch until interrupted]
    #[arg(long, value_name = "S", value_parser = parse_duration)]
    pub duration: Option<f64>,
    /// Print the report as JSON (schema carpctl-scan/1, see carpctl(8))
    #[arg(long)]
    pub json: bool,
    /// Redraw the table every second, like top(1), until interrupted or
    /// --duration is over (a terminal only)
    #[arg(long, conflicts_with_all = ["json", "pcap"])]
    pub(crate) watch: bool,
    /// Do not put the interfaces in promiscuous mode (unicast
    /// advertisements between other hosts are then missed)
    #[arg(long)]
    pub(crate) no_promisc: bool,
    /// With -c: the speaker at ADDRESS is node NODE (repeat for each
    /// node; without it, nodes are told by the advskews they advertise)
    #[arg(long = "map", value_name = "NODE=ADDRESS")]
    pub map: Vec<String>,
}

fn parse_duration(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !v.is_finite() || !(0.0..=MAX_DURATION).contains(&v) {
        return Err(format!("{s}: want 0 to {MAX_DURATION} seconds"));
    }
    Ok(v)
}

/// `--map` entries against the cluster file's nodes.
fn parse_map(entries: &[String], nodes: &[String]) -> Result<BTreeMap<IpAddr, String>, CliError> {
    let mut map = BTreeMap::new();
    for e in entries {
        let bad = |why: String| CliError::Usage(format!("--map {}: {why}", crate::text::escape(e)));
        let (node, addr) = e
            .split_once('=')
            .ok_or_else(|| bad("want NODE=ADDRESS".into()))?;
        if !nodes.iter().any(|n| n == node) {
            return Err(bad(format!(
                "no node \"{}\" in the cluster file (nodes: {})",
                crate::text::escape(node),
                nodes.join(", ")
            )));
        }
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| bad(format!("{:?} is not an IP address", addr)))?;
        if let Some(other) = map.insert(addr, node.to_string())
            && other != node
        {
            return Err(bad(format!("{addr} is already node \"{other}\"")));
        }
    }
    Ok(map)
}

fn capture_error(e: CaptureError) -> CliError {
    CliError::Usage(format!("scan: {e}"))
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `carpctl scan`.
pub(crate) fn run(
    global: &GlobalOpts,
    args: &ScanArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if args.pcap.is_none() && args.interfaces.is_empty() {
        return Err(CliError::Usage(
            "scan: give -i IFACE to capture live, or --pcap FILE to read a capture".into(),
        ));
    }
    if args.watch && !std::io::stdout().is_terminal() {
        return Err(CliError::Usage(
            "scan: --watch redraws a terminal; standard output is not one (use --duration and \
             --json instead)"
                .into(),
        ));
    }
    let view = match &global.config {
        Some(path) => {
            let cfg = cluster::load(path)?;
            let map = parse_map(&args.map, &cfg.node_names())?;
            Some(ClusterView::new(&cfg, map).map_err(CliError::Usage)?)
        }
        None if !args.map.is_empty() => {
            return Err(CliError::Usage(
                "scan: --map names nodes of a cluster file: give it with -c".into(),
            ));
        }
        None => None,
    };
    let report = match &args.pcap {
        Some(path) => crate::scan::read_pcap(path, view).map_err(capture_error)?,
        None => live(args, view, out)?,
    };
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(render::text(&report).as_bytes())?;
    }
    if report.failed() {
        let s = report.summary;
        return Err(CliError::Failed(format!(
            "scan: {} error{}, {} warning{}",
            s.errors,
            if s.errors == 1 { "" } else { "s" },
            s.warnings,
            if s.warnings == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

/// SIGINT and SIGTERM end the capture (and print the report) instead of
/// the process: they are blocked here and waited for by a thread.
fn stop_on_signals() -> Arc<AtomicBool> {
    use nix::sys::signal::{SigSet, Signal};
    let stop = Arc::new(AtomicBool::new(false));
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    if set.thread_block().is_ok() {
        let flag = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name("scan-signals".into())
            .spawn(move || {
                if set.wait().is_ok() {
                    flag.store(true, Ordering::SeqCst);
                }
            });
        if spawned.is_err() {
            // No waiter: let the signals act as usual again.
            let _ = set.thread_unblock();
        }
    }
    stop
}

fn live(
    args: &ScanArgs,
    view: Option<ClusterView>,
    out: &mut dyn Write,
) -> Result<Report, CliError> {
    let mut source =
        capture::open_live(&args.interfaces, !args.no_promisc).map_err(capture_error)?;
    let duration = match (args.duration, args.watch) {
        (Some(d), _) if d > 0.0 => Some(Duration::from_secs_f64(d)),
        (Some(_), _) | (None, true) => None,
        (None, false) => Some(Duration::from_secs_f64(DEFAULT_DURATION)),
    };
    let stop = stop_on_signals();
    if std::io::stderr().is_terminal() && !args.watch {
        let span = duration.map_or("until interrupted".to_string(), |d| {
            format!("for {} s", d.as_secs_f64())
        });
        let _ = writeln!(
            std::io::stderr(),
            "carpctl: scan: capturing on {} {span} (Ctrl-C stops and reports)",
            args.interfaces.join(", ")
        );
    }
    let started = Instant::now();
    let start = now();
    let mut scanner = Scanner::live(view);
    let mut next_draw = started;
    loop {
        let elapsed = started.elapsed();
        if stop.load(Ordering::SeqCst) || duration.is_some_and(|d| elapsed >= d) {
            break;
        }
        let left = duration.map_or(Duration::from_millis(200), |d| d.saturating_sub(elapsed));
        let wait = left.min(Duration::from_millis(200));
        scanner
            .drain(source.as_mut(), wait)
            .map_err(capture_error)?;
        if args.watch && Instant::now() >= next_draw {
            let r = snapshot(&mut scanner, source.as_mut(), args, start)?;
            write!(out, "\x1b[H\x1b[2J{}", render::text(&r))?;
            out.flush()?;
            next_draw += Duration::from_secs(1);
        }
    }
    let report = snapshot(&mut scanner, source.as_mut(), args, start)?;
    if args.watch {
        write!(out, "\x1b[H\x1b[2J")?;
    }
    Ok(report)
}

fn snapshot(
    scanner: &mut Scanner,
    source: &mut dyn Source,
    args: &ScanArgs,
    start: f64,
) -> Result<Report, CliError> {
    let kernel = source.kernel_stats().map_err(capture_error)?;
    let info = SourceInfo {
        kind: "live",
        interfaces: args.interfaces.clone(),
        file: None,
        cluster: scanner
            .cluster
            .as_ref()
            .map(|c| c.path.display().to_string()),
        start: Some(start),
        end: Some(now()),
        kernel,
    };
    Ok(scanner.report(info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2.5"), Ok(2.5));
        assert_eq!(parse_duration("0"), Ok(0.0));
        for bad in ["-1", "nan", "inf", "1e9", "ten", ""] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn map_entries_are_checked_against_the_nodes() {
        let nodes = vec!["mail-a".to_string(), "mail-b".to_string()];
        let m = parse_map(
            &["mail-a=192.0.2.3".into(), "mail-b=fe80::4".into()],
            &nodes,
        )
        .unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[&"192.0.2.3".parse::<IpAddr>().unwrap()], "mail-a");
        for (bad, want) in [
            ("mail-a", "want NODE=ADDRESS"),
            ("mail-c=192.0.2.9", "no node \"mail-c\""),
            ("mail-a=192.0.2", "is not an IP address"),
        ] {
            let e = parse_map(&[bad.to_string()], &nodes).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains(want), "{bad}: {e}");
        }
        let e = parse_map(
            &["mail-a=192.0.2.3".into(), "mail-b=192.0.2.3".into()],
            &nodes,
        )
        .unwrap_err();
        assert!(e.to_string().contains("already node \"mail-a\""), "{e}");
    }
}
