//! Prometheus metrics of this node: the text exposition format (version
//! 0.0.4), written by hand — a handful of gauges and counters do not need a
//! client library in a system daemon.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `carpctl_vhid_state` | gauge, 1 for the current state | `vhid`, `interface`, `vip`, `state` (INIT, BACKUP, MASTER) |
//! | `carpctl_transitions_total` | counter | |
//! | `carpctl_hook_runs_total` | counter | `vhid`, `interface`, `vip` |
//! | `carpctl_hook_failures_total` | counter | `vhid`, `interface`, `vip` |
//! | `carpctl_hook_coalesced_total` | counter | `vhid`, `interface`, `vip` |
//! | `carpctl_hook_dropped_total` | counter | `vhid`, `interface`, `vip` |
//! | `carpctl_log_lines_dropped_total` | counter | |
//! | `carpctl_check_up` | gauge, 1 passing, 0 failing | `check` |
//! | `carpctl_check_changes_total` | counter: falls and rises | `check` |
//! | `carpctl_demotion` | gauge | `cause` (maintenance, boot_hold, check with `check`, other) |
//! | `carpctl_demotion_since_seconds` | gauge: Unix time each share was recorded | `cause` (maintenance, boot_hold, check with `check`) |
//! | `carpctl_demotion_kernel` | gauge: `net.inet.carp.demotion` | |
//!
//! [`run_metrics`] gathers a [`Snapshot`] every [`REFRESH`] (the vhid
//! states and the demotion from the kernel, the rest from the daemon's
//! counters), and with `[metrics] textfile` writes it atomically (a
//! temporary file in the same directory, then `rename(2)`: node_exporter
//! never reads half a file; [`write_textfile`] says which directories it
//! refuses), and with `[metrics] listen` serves the latest
//! one at `GET /metrics` on that loopback address.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::checks::{CheckBoard, CheckView};
use crate::config::Config;
use crate::daemon::{DaemonStats, KernelOpener, Settings};
use crate::fsutil::{self, DirRule, Durability, FsError};
use crate::hooks::{HookStats, VhidHookCounters};
use crate::ledger::{Cause, Ledger, Split};
use crate::model::CarpState;

/// How often the snapshot is refreshed (and the textfile rewritten, which
/// keeps node_exporter's `node_textfile_mtime_seconds` fresh).
pub const REFRESH: Duration = Duration::from_secs(5);
/// How long a client of the listener has to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest request head read.
const REQUEST_MAX: usize = 8192;

/// One vhid of this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhidMetric {
    pub vhid: u8,
    pub interface: String,
    /// The VIP's name in the cluster file; empty for a vhid it does not
    /// describe.
    pub vip: String,
    pub state: CarpState,
}

/// Everything one exposition shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub vhids: Vec<VhidMetric>,
    pub transitions: u64,
    pub hooks: Vec<VhidHookCounters>,
    pub checks: BTreeMap<String, CheckView>,
    /// `None` when the kernel or the ledger could not be read.
    pub demotion: Option<Split>,
    /// Log lines dropped because stderr was not being read
    /// ([`crate::logging::dropped_lines`]).
    pub log_lines_dropped: u64,
}

/// A label value, escaped as the exposition format requires (`\`, `"`
/// and newline).
fn esc(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The exposition of `s`.
pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "carpctl_vhid_state",
        "gauge",
        "CARP state of each vhid on this node: 1 for the current state.",
    );
    for v in &s.vhids {
        for state in [CarpState::Init, CarpState::Backup, CarpState::Master] {
            let _ = writeln!(
                out,
                "carpctl_vhid_state{{vhid=\"{}\",interface=\"{}\",vip=\"{}\",state=\"{}\"}} {}",
                v.vhid,
                esc(&v.interface),
                esc(&v.vip),
                state.as_str(),
                u8::from(v.state == state)
            );
        }
    }
    header(
        &mut out,
        "carpctl_transitions_total",
        "counter",
        "CARP state transitions the daemon handled (devd, replay and resync).",
    );
    let _ = writeln!(out, "carpctl_transitions_total {}", s.transitions);
    for (name, help, get) in [
        (
            "carpctl_hook_runs_total",
            "Hook runs per vhid.",
            (|c: &VhidHookCounters| c.counters.runs) as fn(&VhidHookCounters) -> u64,
        ),
        (
            "carpctl_hook_failures_total",
            "Hook runs that failed per vhid (non-zero exit, signal, timeout, not started).",
            |c: &VhidHookCounters| c.counters.failures,
        ),
        (
            "carpctl_hook_coalesced_total",
            "Events per vhid whose hook was skipped: superseded by newer ones while the \
             vhid's queue was full.",
            |c: &VhidHookCounters| c.counters.coalesced,
        ),
        (
            "carpctl_hook_dropped_total",
            "Events per vhid whose hook did not run because the daemon was stopping.",
            |c: &VhidHookCounters| c.counters.dropped,
        ),
    ] {
        header(&mut out, name, "counter", help);
        for c in &s.hooks {
            let _ = writeln!(
                out,
                "{name}{{vhid=\"{}\",interface=\"{}\",vip=\"{}\"}} {}",
                c.vhid,
                esc(&c.interface),
                esc(&c.vip),
                get(c)
            );
        }
    }
    header(
        &mut out,
        "carpctl_log_lines_dropped_total",
        "counter",
        "Log lines dropped because standard error was not being read.",
    );
    let _ = writeln!(
        out,
        "carpctl_log_lines_dropped_total {}",
        s.log_lines_dropped
    );
    for (name, kind, help, get) in [
        (
            "carpctl_check_up",
            "gauge",
            "Health check status: 1 passing, 0 failing (demoting).",
            (|v: &CheckView| u64::from(v.up)) as fn(&CheckView) -> u64,
        ),
        (
            "carpctl_check_changes_total",
            "counter",
            "Health check falls and rises since the daemon started.",
            |v: &CheckView| v.changes,
        ),
    ] {
        header(&mut out, name, kind, help);
        for (check, v) in &s.checks {
            let _ = writeln!(out, "{name}{{check=\"{}\"}} {}", esc(check), get(v));
        }
    }
    if let Some(d) = &s.demotion {
        header(
            &mut out,
            "carpctl_demotion",
            "gauge",
            "net.inet.carp.demotion by cause: carpctl's shares and everything else.",
        );
        let weight = |c: &Cause| d.shares.get(c).map_or(0, |c| i64::from(c.weight));
        let _ = writeln!(
            out,
            "carpctl_demotion{{cause=\"maintenance\"}} {}",
            weight(&Cause::Maintenance)
        );
        let _ = writeln!(
            out,
            "carpctl_demotion{{cause=\"boot_hold\"}} {}",
            weight(&Cause::BootHold)
        );
        // Every configured check, and any other check share the ledger
        // holds (a check removed from the file since).
        let mut names: Vec<&str> = s.checks.keys().map(String::as_str).collect();
        for c in d.shares.keys() {
            if let Cause::Check(n) = c
                && !names.contains(&n.as_str())
            {
                names.push(n);
            }
        }
        names.sort_unstable();
        for n in names {
            let _ = writeln!(
                out,
                "carpctl_demotion{{cause=\"check\",check=\"{}\"}} {}",
                esc(n),
                weight(&Cause::Check(n.to_string()))
            );
        }
        let _ = writeln!(out, "carpctl_demotion{{cause=\"other\"}} {}", d.other);
        header(
            &mut out,
            "carpctl_demotion_since_seconds",
            "gauge",
            "When each of carpctl's demotion shares was recorded (Unix time); absent without one.",
        );
        for (cause, c) in &d.shares {
            let labels = match cause {
                Cause::Maintenance => "cause=\"maintenance\"".to_string(),
                Cause::BootHold => "cause=\"boot_hold\"".to_string(),
                Cause::Check(n) => format!("cause=\"check\",check=\"{}\"", esc(n)),
            };
            let _ = writeln!(
                out,
                "carpctl_demotion_since_seconds{{{labels}}} {}",
                c.since
            );
        }
        header(
            &mut out,
            "carpctl_demotion_kernel",
            "gauge",
            "net.inet.carp.demotion as the kernel reports it.",
        );
        let _ = writeln!(out, "carpctl_demotion_kernel {}", d.total);
    }
    out
}

/// Replace `path` with `text` atomically (mode 0644, through
/// [`fsutil::write_atomic`]: an `O_CREAT|O_EXCL` temporary file with an
/// unpredictable name, flushed, renamed over it). The directory is checked
/// first ([`fsutil::check_dir`]): one that group or others may write in is
/// refused, unless it is sticky (`/tmp`), which is allowed and returned as
/// a warning.
pub fn write_textfile(path: &Path, text: &str) -> Result<Option<String>, FsError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let warning = fsutil::check_dir(dir, DirRule::StickyWarn)?;
    fsutil::write_atomic(path, text.as_bytes(), 0o644, Durability::Durable)?;
    Ok(warning)
}

/// The VIP names of this node's vhids, by real interface and vhid.
fn vip_names(cfg: &Config, node: &str) -> BTreeMap<(String, u8), String> {
    let Some(n) = cfg.node(node) else {
        return BTreeMap::new();
    };
    cfg.vips
        .iter()
        .filter(|v| v.takes_part(node))
        .map(|v| {
            (
                (n.real_interface(&v.interface).to_string(), v.vhid.get()),
                v.name.clone(),
            )
        })
        .collect()
}

/// What [`run_metrics`] reads.
pub struct MetricsContext {
    pub settings: watch::Receiver<Arc<Settings>>,
    pub shutdown: watch::Receiver<bool>,
    pub hook_stats: Arc<HookStats>,
    pub daemon_stats: Arc<DaemonStats>,
    pub checks: Arc<CheckBoard>,
    pub open_kernel: KernelOpener,
}

/// Gather a snapshot: the kernel parts on a blocking thread.
pub async fn gather(ctx: &MetricsContext, settings: &Arc<Settings>) -> Snapshot {
    let opener = ctx.open_kernel.clone();
    let s = settings.clone();
    let kernel_part = tokio::task::spawn_blocking(move || {
        let mut k = opener()?;
        let names = vip_names(&s.config, &s.node);
        let vhids = k
            .all_vhids()
            .map_err(|e| format!("cannot read the vhids: {e}"))?
            .into_iter()
            .map(|v| VhidMetric {
                vhid: v.vhid.get(),
                vip: names
                    .get(&(v.interface.clone(), v.vhid.get()))
                    .cloned()
                    .unwrap_or_default(),
                interface: v.interface,
                state: v.state,
            })
            .collect::<Vec<_>>();
        let ledger = Ledger::for_host(k.as_ref(), &s.config);
        let split = ledger
            .split(k.as_mut())
            .map_err(|e| format!("cannot read the demotion: {:#}", anyhow::Error::new(e)));
        Ok::<_, String>((vhids, split))
    })
    .await;
    let (vhids, demotion) = match kernel_part {
        Ok(Ok((vhids, split))) => (
            vhids,
            split.map_err(|e| tracing::debug!("metrics: {e}")).ok(),
        ),
        Ok(Err(e)) => {
            tracing::debug!("metrics: {e}");
            (Vec::new(), None)
        }
        Err(e) => {
            tracing::debug!("metrics: {e}");
            (Vec::new(), None)
        }
    };
    Snapshot {
        vhids,
        transitions: ctx
            .daemon_stats
            .transitions
            .load(std::sync::atomic::Ordering::Relaxed),
        hooks: ctx.hook_stats.snapshot(),
        checks: ctx.checks.snapshot(),
        demotion,
        log_lines_dropped: crate::logging::dropped_lines(),
    }
}

/// Answer one client of the listener: `GET /metrics` (or `/`) gets the
/// latest exposition, anything else 404 or 405.
async fn answer(mut conn: TcpStream, body: Arc<Mutex<String>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(REQUEST_TIMEOUT, async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < REQUEST_MAX {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(buf.get(..n).unwrap_or_default()),
            }
        }
    })
    .await;
    if read.is_err() {
        return;
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, ctype, text) = match (method, target) {
        ("GET", "/metrics" | "/") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            body.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        ),
        ("GET", _) => ("404 Not Found", "text/plain", "see /metrics\n".to_string()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "GET /metrics\n".to_string(),
        ),
    };
    let reply = format!(
        "HTTP/1.0 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = tokio::time::timeout(REQUEST_TIMEOUT, conn.write_all(reply.as_bytes())).await;
}

/// Serve `body` on `listener` until the task is aborted.
async fn serve(listener: TcpListener, body: Arc<Mutex<String>>) {
    loop {
        match listener.accept().await {
            Ok((conn, _)) => {
                tokio::spawn(answer(conn, body.clone()));
            }
            Err(e) => {
                tracing::warn!("metrics listener: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// The daemon's metrics task: refresh every [`REFRESH`], write the
/// textfile, serve the listener, following reloads, until shutdown.
pub async fn run_metrics(mut ctx: MetricsContext) {
    let body = Arc::new(Mutex::new(String::new()));
    let mut listening: Option<(SocketAddr, tokio::task::JoinHandle<()>)> = None;
    let mut last_error: Option<String> = None;
    let mut last_warning: Option<String> = None;
    let mut tick = tokio::time::interval(REFRESH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            r = ctx.settings.changed() => if r.is_err() { break },
            _ = ctx.shutdown.changed() => {}
        }
        if *ctx.shutdown.borrow() {
            break;
        }
        let settings = ctx.settings.borrow_and_update().clone();
        let m = settings.config.metrics.clone();
        // (Re)bind when the address changed.
        if listening.as_ref().map(|l| l.0) != m.listen {
            if let Some((_, task)) = listening.take() {
                task.abort();
            }
            if let Some(addr) = m.listen {
                match TcpListener::bind(addr).await {
                    Ok(l) => {
                        tracing::info!("metrics: serving http://{addr}/metrics");
                        listening = Some((addr, tokio::spawn(serve(l, body.clone()))));
                    }
                    Err(e) => report(&mut last_error, format!("cannot listen on {addr}: {e}")),
                }
            }
        }
        if m.listen.is_none() && m.textfile.is_none() {
            continue;
        }
        let text = render(&gather(&ctx, &settings).await);
        *body.lock().unwrap_or_else(PoisonError::into_inner) = text.clone();
        if let Some(path) = m.textfile {
            let result = tokio::task::spawn_blocking(move || write_textfile(&path, &text)).await;
            match result {
                Ok(Ok(warning)) => {
                    last_error = None;
                    if warning != last_warning {
                        if let Some(w) = &warning {
                            tracing::warn!("metrics: {w}");
                        }
                        last_warning = warning;
                    }
                }
                Ok(Err(e)) => report(&mut last_error, format!("not writing the textfile: {e}")),
                Err(e) => report(&mut last_error, format!("the textfile task failed: {e}")),
            }
        }
    }
    if let Some((_, task)) = listening {
        task.abort();
    }
}

/// Log an error once until it changes or clears (not every few seconds).
fn report(last: &mut Option<String>, msg: String) {
    if last.as_deref() != Some(msg.as_str()) {
        tracing::error!("metrics: {msg}");
        *last = Some(msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::HookCounters;
    use crate::ledger::Contribution;
    use crate::model::Vhid;

    fn snapshot() -> Snapshot {
        let mut shares = BTreeMap::new();
        shares.insert(
            Cause::Maintenance,
            Contribution {
                weight: 240,
                reason: None,
                since: 1_800_000_000,
            },
        );
        shares.insert(
            Cause::Check("gone".into()),
            Contribution {
                weight: 7,
                reason: None,
                since: 1_800_000_100,
            },
        );
        let mut checks = BTreeMap::new();
        checks.insert(
            "smtp".to_string(),
            CheckView {
                kind: "tcp",
                up: true,
                last_error: None,
                demoting: None,
                changes: 5,
            },
        );
        Snapshot {
            vhids: vec![VhidMetric {
                vhid: 1,
                interface: "em0".into(),
                vip: "mail\"1".into(),
                state: CarpState::Master,
            }],
            transitions: 3,
            hooks: vec![VhidHookCounters {
                interface: "em0".into(),
                vhid: Vhid::new(1).unwrap(),
                vip: "mail\"1".into(),
                counters: HookCounters {
                    runs: 2,
                    failures: 1,
                    timeouts: 0,
                    dropped: 2,
                    coalesced: 254,
                },
            }],
            checks,
            demotion: Some(Split {
                total: 487,
                shares,
                other: 240,
                not_applied: BTreeMap::new(),
                pending: false,
            }),
            log_lines_dropped: 17,
        }
    }

    #[test]
    fn exposition_is_exact() {
        let want = "\
# HELP carpctl_vhid_state CARP state of each vhid on this node: 1 for the current state.
# TYPE carpctl_vhid_state gauge
carpctl_vhid_state{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\",state=\"INIT\"} 0
carpctl_vhid_state{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\",state=\"BACKUP\"} 0
carpctl_vhid_state{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\",state=\"MASTER\"} 1
# HELP carpctl_transitions_total CARP state transitions the daemon handled (devd, replay and resync).
# TYPE carpctl_transitions_total counter
carpctl_transitions_total 3
# HELP carpctl_hook_runs_total Hook runs per vhid.
# TYPE carpctl_hook_runs_total counter
carpctl_hook_runs_total{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\"} 2
# HELP carpctl_hook_failures_total Hook runs that failed per vhid (non-zero exit, signal, timeout, not started).
# TYPE carpctl_hook_failures_total counter
carpctl_hook_failures_total{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\"} 1
# HELP carpctl_hook_coalesced_total Events per vhid whose hook was skipped: superseded by newer ones while the vhid's queue was full.
# TYPE carpctl_hook_coalesced_total counter
carpctl_hook_coalesced_total{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\"} 254
# HELP carpctl_hook_dropped_total Events per vhid whose hook did not run because the daemon was stopping.
# TYPE carpctl_hook_dropped_total counter
carpctl_hook_dropped_total{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\"} 2
# HELP carpctl_log_lines_dropped_total Log lines dropped because standard error was not being read.
# TYPE carpctl_log_lines_dropped_total counter
carpctl_log_lines_dropped_total 17
# HELP carpctl_check_up Health check status: 1 passing, 0 failing (demoting).
# TYPE carpctl_check_up gauge
carpctl_check_up{check=\"smtp\"} 1
# HELP carpctl_check_changes_total Health check falls and rises since the daemon started.
# TYPE carpctl_check_changes_total counter
carpctl_check_changes_total{check=\"smtp\"} 5
# HELP carpctl_demotion net.inet.carp.demotion by cause: carpctl's shares and everything else.
# TYPE carpctl_demotion gauge
carpctl_demotion{cause=\"maintenance\"} 240
carpctl_demotion{cause=\"boot_hold\"} 0
carpctl_demotion{cause=\"check\",check=\"gone\"} 7
carpctl_demotion{cause=\"check\",check=\"smtp\"} 0
carpctl_demotion{cause=\"other\"} 240
# HELP carpctl_demotion_since_seconds When each of carpctl's demotion shares was recorded (Unix time); absent without one.
# TYPE carpctl_demotion_since_seconds gauge
carpctl_demotion_since_seconds{cause=\"maintenance\"} 1800000000
carpctl_demotion_since_seconds{cause=\"check\",check=\"gone\"} 1800000100
# HELP carpctl_demotion_kernel net.inet.carp.demotion as the kernel reports it.
# TYPE carpctl_demotion_kernel gauge
carpctl_demotion_kernel 487
";
        assert_eq!(render(&snapshot()), want);
    }

    #[test]
    fn without_the_demotion_its_metrics_are_left_out() {
        let mut s = snapshot();
        s.demotion = None;
        let text = render(&s);
        assert!(!text.contains("carpctl_demotion"), "{text}");
        assert!(text.contains("carpctl_check_up{check=\"smtp\"} 1"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(esc("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        assert_eq!(esc("plain"), "plain");
    }

    #[test]
    fn textfile_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("carpctl.prom");
        write_textfile(&path, "a 1\n").unwrap();
        write_textfile(&path, "b 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "b 2\n");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        let e = write_textfile(&dir.path().join("missing/x.prom"), "x").unwrap_err();
        assert!(e.is_not_found(), "{e}");
    }

    #[test]
    fn textfile_in_a_directory_others_can_write_in() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("textfile");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        // The name today's code used, planted as a link.
        let path = open.join("carpctl.prom");
        symlink(
            &victim,
            open.join(format!(".carpctl.prom.{}.tmp", std::process::id())),
        )
        .unwrap();
        let e = write_textfile(&path, "a 1\n").unwrap_err();
        assert!(e.is_untrusted(), "{e}");
        assert!(e.to_string().contains("chmod go-w"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert!(!path.exists());
        // Sticky, like /tmp: written, with a warning, never through a link.
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let warning = write_textfile(&path, "a 1\n").unwrap().expect("a warning");
        assert!(warning.contains("sticky"), "{warning}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a 1\n");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        // A private directory: no warning.
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(write_textfile(&path, "b 2\n").unwrap(), None);
    }

    #[tokio::test]
    async fn listener_answers_get_metrics_only() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let body = Arc::new(Mutex::new("carpctl_transitions_total 1\n".to_string()));
        let task = tokio::spawn(serve(listener, body));
        let ask = |req: &'static str| async move {
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            c.read_to_string(&mut out).await.unwrap();
            out
        };
        let ok = ask("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.0 200 OK\r\n"), "{ok}");
        assert!(
            ok.contains("Content-Type: text/plain; version=0.0.4"),
            "{ok}"
        );
        assert!(
            ok.ends_with("\r\n\r\ncarpctl_transitions_total 1\n"),
            "{ok}"
        );
        let nf = ask("GET /other HTTP/1.0\r\n\r\n").await;
        assert!(nf.starts_with("HTTP/1.0 404"), "{nf}");
        let na = ask("POST /metrics HTTP/1.0\r\n\r\n").await;
        assert!(na.starts_with("HTTP/1.0 405"), "{na}");
        task.abort();
    }
}
