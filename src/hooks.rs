//! Hooks: the per-VIP `on_master`, `on_backup` and `on_init` commands of
//! the cluster file, run when this node's vhid changes state.
//!
//! The semantics are the same whether `carpctl daemon` runs them (through a
//! [`HookRunner`]) or devd does, one event at a time, through
//! `carpctl hook SUBSYSTEM TYPE` (with a [`StateDir`], in [`state_dir`]):
//!
//! * a hook is an argv, run without a shell (`argv[0]` is looked up in
//!   `PATH` when it has no `/`), in its own process group, with stdin from
//!   `/dev/null` and its stdout (info) and stderr (warn) logged line by
//!   line (bounded: [`LINE_MAX`] bytes a line, [`LINES_MAX`] lines a
//!   stream);
//! * its environment is carpctl's plus [`hook_env`]: `CARP_VHID`,
//!   `CARP_INTERFACE`, `CARP_STATE`, `CARP_PREVIOUS_STATE` (empty when
//!   unknown), `CARP_VIP`, `CARP_ADDRESSES` (space-separated, with prefix
//!   lengths) and `CARP_EVENT` (`devd`, `replay` or `resync`);
//! * for one `vhid@interface`, hooks run one at a time, in event order;
//!   different vhids do not wait for each other; when a vhid's events come
//!   faster than its hooks run, the daemon's queue keeps the newest state
//!   and skips the superseded ones ([`runner`]);
//! * a hook still running at `[cluster] hook_timeout` has its whole process
//!   group killed (SIGKILL), which is logged and counted; a hook that exits
//!   non-zero, dies of a signal or cannot be started is logged and counted;
//!   either way the next event's hook still runs;
//! * [`HookStats`] counts runs, failures, timeouts, and superseded and
//!   dropped events per vhid, for the metrics.

pub mod runner;
mod state_dir;
#[cfg(test)]
mod testutil;

pub use runner::{HookRunner, QUEUE_MAX, Submitted};
pub use state_dir::{DEFAULT_STATE_DIR, LOCK_FILE, LOCK_WAIT, STATE_DIR_ENV, StateDir};

use std::collections::BTreeMap;
use std::io;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ipnet::IpNet;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::events::{CarpEvent, Transition};
use crate::model::{CarpState, Vhid};

/// Longest line of hook output logged; the rest of the line is cut.
pub const LINE_MAX: usize = 1024;
/// Most lines logged per stream per run; the rest is read and dropped.
pub const LINES_MAX: usize = 200;
/// How long output is still read after the hook exited: a process it left
/// in the background may hold the pipes open forever, and must not hold up
/// the next hook.
pub const OUTPUT_GRACE: Duration = Duration::from_millis(250);

/// The hooks of one VIP on this node, with what their environment needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VipHooks {
    /// The VIP's name in the cluster file (`CARP_VIP`).
    pub name: String,
    /// This node's real interface (`em0`).
    pub interface: String,
    pub vhid: Vhid,
    pub addresses: Vec<IpNet>,
    pub on_master: Vec<String>,
    pub on_backup: Vec<String>,
    pub on_init: Vec<String>,
}

impl VipHooks {
    /// The argv to run on entering `state`; empty when there is none.
    pub fn argv(&self, state: CarpState) -> &[String] {
        match state {
            CarpState::Master => &self.on_master,
            CarpState::Backup => &self.on_backup,
            CarpState::Init => &self.on_init,
        }
    }
}

/// The name of the hook key for `state`: `on_master`, ...
pub fn hook_key(state: CarpState) -> &'static str {
    match state {
        CarpState::Master => "on_master",
        CarpState::Backup => "on_backup",
        CarpState::Init => "on_init",
    }
}

/// Every VIP of the cluster file as this node sees it, by
/// `(real interface, vhid)`, and the hook timeout.
#[derive(Debug, Clone, Default)]
pub struct HookTable {
    vips: BTreeMap<(String, Vhid), Arc<VipHooks>>,
    pub timeout: Duration,
}

impl HookTable {
    /// The table for node `node` of `cfg`. Each VIP's logical interface is
    /// replaced by the node's real one. VIPs in which the node does not take
    /// part are included: if the vhid exists here (configured by hand), its
    /// events still find their name and hooks. An unknown node maps nothing
    /// (every interface is taken as written).
    pub fn new(cfg: &Config, node: &str) -> Self {
        let me = cfg.node(node);
        let mut vips = BTreeMap::new();
        for v in &cfg.vips {
            let interface = me.map_or(v.interface.as_str(), |n| n.real_interface(&v.interface));
            vips.entry((interface.to_string(), v.vhid))
                .or_insert_with(|| {
                    Arc::new(VipHooks {
                        name: v.name.clone(),
                        interface: interface.to_string(),
                        vhid: v.vhid,
                        addresses: v.addresses.clone(),
                        on_master: v.on_master.clone(),
                        on_backup: v.on_backup.clone(),
                        on_init: v.on_init.clone(),
                    })
                });
        }
        HookTable {
            vips,
            timeout: cfg.cluster.hook_timeout,
        }
    }

    /// The VIP of `vhid@interface`, if the cluster file has one.
    pub fn get(&self, interface: &str, vhid: Vhid) -> Option<&Arc<VipHooks>> {
        self.vips.get(&(interface.to_string(), vhid))
    }

    pub fn len(&self) -> usize {
        self.vips.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vips.is_empty()
    }
}

/// The variables a hook gets, in addition to carpctl's own environment.
pub fn hook_env(t: &Transition, vip: &VipHooks) -> Vec<(&'static str, String)> {
    let addresses = vip
        .addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    vec![
        ("CARP_VHID", t.event.vhid.to_string()),
        ("CARP_INTERFACE", t.event.interface.clone()),
        ("CARP_STATE", t.event.state.to_string()),
        (
            "CARP_PREVIOUS_STATE",
            t.previous.map(|s| s.to_string()).unwrap_or_default(),
        ),
        ("CARP_VIP", vip.name.clone()),
        ("CARP_ADDRESSES", addresses),
        ("CARP_EVENT", t.source.as_str().to_string()),
    ]
}

/// How one hook run ended.
#[derive(Debug)]
pub enum Outcome {
    /// Exit status 0.
    Succeeded,
    /// It ran and exited non-zero, or died of a signal.
    Failed(ExitStatus),
    /// It was still running at the timeout; its process group was killed.
    TimedOut,
    /// It could not be started (no such file, not executable, ...).
    SpawnFailed(io::Error),
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Succeeded)
    }
}

/// One hook run: its outcome and how long it took.
#[derive(Debug)]
pub struct RunReport {
    pub outcome: Outcome,
    pub elapsed: Duration,
}

/// How a process ended, in words: `exit status 3`, `killed by signal 9
/// (SIGKILL)`.
pub fn describe_status(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => match nix::sys::signal::Signal::try_from(sig) {
            Ok(s) => format!("killed by signal {sig} ({s})"),
            Err(_) => format!("killed by signal {sig}"),
        },
        (None, None) => status.to_string(),
    }
}

/// Run one hook: `argv` with `env` added, killed with its process group
/// after `timeout`. `label` names it in the logs (`1@em0 mail1 on_master`).
/// Everything is logged here; the caller counts.
pub async fn run_hook(
    label: &str,
    argv: &[String],
    env: &[(&'static str, String)],
    timeout: Duration,
) -> RunReport {
    let started = Instant::now();
    let report = |outcome| RunReport {
        outcome,
        elapsed: started.elapsed(),
    };
    let Some((program, args)) = argv.split_first() else {
        // The cluster file refuses an empty hook; an empty argv here means
        // "no hook", which callers skip. Be explicit rather than panic.
        tracing::error!("{label}: empty hook command");
        return report(Outcome::SpawnFailed(io::Error::new(
            io::ErrorKind::InvalidInput,
            "empty hook command",
        )));
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a timeout kills what it started
        // too (a shell script's children), and a terminal's ^C to carpctl
        // does not reach it.
        .process_group(0)
        .kill_on_drop(false);
    // From here on the program is only named in log lines: escaped, as it
    // is the cluster file's text (crate::text).
    let program = crate::text::escape(program);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("{label}: cannot run {program}: {e}");
            return report(Outcome::SpawnFailed(e));
        }
    };
    let pid = child.id();
    tracing::info!(
        "{label}: started {program} (pid {})",
        pid.map_or_else(|| "?".to_string(), |p| p.to_string())
    );
    let output = OutputLog::start(&mut child, label, HOOK_OUTPUT);

    let waited = tokio::time::timeout(timeout, child.wait()).await;
    let outcome = match waited {
        Ok(Ok(status)) if status.success() => Outcome::Succeeded,
        Ok(Ok(status)) => Outcome::Failed(status),
        Ok(Err(e)) => {
            // wait(2) itself failed: the child is not ours to wait for any
            // more. Count it as a failure with what we know.
            tracing::error!("{label}: cannot wait for {program}: {e}");
            Outcome::SpawnFailed(e)
        }
        Err(_) => {
            kill_group(label, pid);
            // Reap it (SIGKILL cannot be caught, so this returns).
            let _ = child.wait().await;
            Outcome::TimedOut
        }
    };
    output.finish().await;
    let elapsed = started.elapsed();
    match &outcome {
        Outcome::Succeeded => {
            tracing::info!(
                "{label}: {program} succeeded in {:.3} s",
                elapsed.as_secs_f64()
            );
        }
        Outcome::Failed(status) => tracing::warn!(
            "{label}: {program} failed: {} after {:.3} s",
            describe_status(status),
            elapsed.as_secs_f64()
        ),
        Outcome::TimedOut => tracing::error!(
            "{label}: {program} did not finish within its timeout of {} s: killed it and its \
             process group",
            timeout.as_secs()
        ),
        Outcome::SpawnFailed(_) => {}
    }
    RunReport { outcome, elapsed }
}

/// SIGKILL the hook's process group (its pgid is its pid: `process_group(0)`).
fn kill_group(label: &str, pid: Option<u32>) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) else {
        return;
    };
    if let Err(e) = killpg(Pid::from_raw(pid), Signal::SIGKILL) {
        // ESRCH: it exited between the timeout and the kill.
        tracing::debug!("{label}: killpg({pid}): {e}");
    }
}

/// How much of a child's output stream is logged: lines are cut at
/// `line_max` bytes, and after `lines_max` lines the rest is read and
/// dropped (never left in the pipe: a child blocked on a full pipe would
/// hang until its timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    pub line_max: usize,
    pub lines_max: usize,
}

/// A hook's output: [`LINE_MAX`] bytes a line, [`LINES_MAX`] lines a stream.
pub const HOOK_OUTPUT: OutputLimits = OutputLimits {
    line_max: LINE_MAX,
    lines_max: LINES_MAX,
};

/// The tasks that log a child's piped stdout (info) and stderr (warn),
/// line by line within [`OutputLimits`]; shared by hooks and the health
/// checks' commands. Dropping it stops them.
pub struct OutputLog {
    label: Arc<str>,
    readers: Vec<JoinHandle<()>>,
}

impl OutputLog {
    /// Start logging the streams of `child` that are piped, as
    /// `LABEL: stdout: LINE`.
    pub fn start(child: &mut tokio::process::Child, label: &str, limits: OutputLimits) -> Self {
        let label: Arc<str> = Arc::from(label);
        let mut readers = Vec::with_capacity(2);
        if let Some(out) = child.stdout.take() {
            readers.push(tokio::spawn(log_output(out, label.clone(), false, limits)));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(tokio::spawn(log_output(err, label.clone(), true, limits)));
        }
        OutputLog { label, readers }
    }

    /// Once the child has exited: let the readers reach the end of its
    /// output, within [`OUTPUT_GRACE`].
    pub async fn finish(mut self) {
        for r in std::mem::take(&mut self.readers) {
            let abort = r.abort_handle();
            if tokio::time::timeout(OUTPUT_GRACE, r).await.is_err() {
                // Something it left running holds the pipe: stop reading.
                abort.abort();
                tracing::debug!(
                    "{}: output still open after exit; no longer read",
                    self.label
                );
            }
        }
    }
}

impl Drop for OutputLog {
    fn drop(&mut self) {
        for r in &self.readers {
            r.abort();
        }
    }
}

/// Log a child's output stream line by line, bounded by `limits`, reading
/// through one fixed buffer.
async fn log_output<R: AsyncRead + Unpin>(
    mut r: R,
    label: Arc<str>,
    stderr: bool,
    limits: OutputLimits,
) {
    let OutputLimits {
        line_max,
        lines_max,
    } = limits;
    let stream = if stderr { "stderr" } else { "stdout" };
    let mut buf = [0u8; 4096];
    let mut line: Vec<u8> = Vec::new();
    let mut lines = 0usize;
    let mut emit = |line: &[u8]| {
        lines += 1;
        if lines > lines_max + 1 {
            return;
        }
        // The child's bytes as they are, escaped (crate::text): a NUL, a CR
        // or a bidi override cannot forge or hide a log line.
        let text = if lines == lines_max + 1 {
            format!("(more than {lines_max} lines; the rest is not logged)")
        } else {
            crate::text::escape_bytes(line)
        };
        if stderr {
            tracing::warn!("{label}: {stream}: {text}");
        } else {
            tracing::info!("{label}: {stream}: {text}");
        }
    };
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in buf.get(..n).unwrap_or_default() {
            if b == b'\n' {
                emit(&line);
                line.clear();
            } else if line.len() < line_max {
                line.push(b);
            }
        }
    }
    if !line.is_empty() {
        emit(&line);
    }
}

/// Per-vhid hook counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HookCounters {
    /// Hook runs attempted (including the ones that could not start).
    pub runs: u64,
    /// Runs that did not succeed: non-zero exit, signal, timeout, or
    /// could not start.
    pub failures: u64,
    /// Runs killed at their timeout (also counted in `failures`).
    pub timeouts: u64,
    /// Events whose hook never ran because the daemon was stopping.
    pub dropped: u64,
    /// Events whose hook was skipped because newer events of the vhid
    /// superseded them while its queue was full ([`runner`]).
    pub coalesced: u64,
}

/// One vhid's counters, as [`HookStats::snapshot`] lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VhidHookCounters {
    pub interface: String,
    pub vhid: Vhid,
    /// The VIP's name in the cluster file.
    pub vip: String,
    #[serde(flatten)]
    pub counters: HookCounters,
}

/// Hook counters of every vhid, shared between the hook runners (which
/// count) and the metrics (which read).
#[derive(Debug, Default)]
pub struct HookStats {
    inner: Mutex<BTreeMap<(String, Vhid), (String, HookCounters)>>,
}

impl HookStats {
    pub fn new() -> Self {
        Self::default()
    }

    fn update(&self, vip: &VipHooks, f: impl FnOnce(&mut HookCounters)) {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map
            .entry((vip.interface.clone(), vip.vhid))
            .or_insert_with(|| (vip.name.clone(), HookCounters::default()));
        entry.0.clone_from(&vip.name);
        f(&mut entry.1);
    }

    /// Count one finished run.
    pub fn record(&self, vip: &VipHooks, report: &RunReport) {
        self.update(vip, |c| {
            c.runs += 1;
            if !report.outcome.is_success() {
                c.failures += 1;
            }
            if matches!(report.outcome, Outcome::TimedOut) {
                c.timeouts += 1;
            }
        });
    }

    /// Count `n` events whose hook did not run: the daemon was stopping.
    pub fn record_dropped(&self, vip: &VipHooks, n: u64) {
        self.update(vip, |c| c.dropped += n);
    }

    /// Count `n` events superseded by a newer one of the same vhid.
    pub fn record_coalesced(&self, vip: &VipHooks, n: u64) {
        self.update(vip, |c| c.coalesced += n);
    }

    /// The counters of `vhid@interface` (zero when nothing ran).
    pub fn get(&self, interface: &str, vhid: Vhid) -> HookCounters {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&(interface.to_string(), vhid))
            .map(|e| e.1)
            .unwrap_or_default()
    }

    /// Every vhid's counters, by interface then vhid.
    pub fn snapshot(&self) -> Vec<VhidHookCounters> {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.iter()
            .map(|((interface, vhid), (vip, counters))| VhidHookCounters {
                interface: interface.clone(),
                vhid: *vhid,
                vip: vip.clone(),
                counters: *counters,
            })
            .collect()
    }

    /// The sum over every vhid.
    pub fn totals(&self) -> HookCounters {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.values().fold(HookCounters::default(), |mut t, (_, c)| {
            t.runs += c.runs;
            t.failures += c.failures;
            t.timeouts += c.timeouts;
            t.dropped += c.dropped;
            t.coalesced += c.coalesced;
            t
        })
    }
}

/// The log label of a hook run: `1@em0 mail1 on_master`.
pub fn label(event: &CarpEvent, vip: &VipHooks) -> String {
    format!(
        "{} {} {}",
        event.subsystem(),
        vip.name,
        hook_key(event.state)
    )
}

/// Run the hook of `vip` for transition `t`, if it has one, and count it.
/// `None` when the VIP has no hook for that state.
pub async fn run_for(
    t: &Transition,
    vip: &VipHooks,
    timeout: Duration,
    stats: &HookStats,
) -> Option<RunReport> {
    let argv = vip.argv(t.event.state);
    if argv.is_empty() {
        return None;
    }
    let report = run_hook(&label(&t.event, vip), argv, &hook_env(t, vip), timeout).await;
    stats.record(vip, &report);
    Some(report)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::testutil::{sh, transition, vip};
    use super::*;
    use crate::events::Source;

    #[test]
    fn the_environment_has_every_variable() {
        let v = vip("mail1", "vlan0.100", 5);
        let t = transition("vlan0.100", 5, CarpState::Master, Some(CarpState::Backup));
        let env: BTreeMap<_, _> = hook_env(&t, &v).into_iter().collect();
        let want: BTreeMap<&str, String> = [
            ("CARP_VHID", "5"),
            ("CARP_INTERFACE", "vlan0.100"),
            ("CARP_STATE", "MASTER"),
            ("CARP_PREVIOUS_STATE", "BACKUP"),
            ("CARP_VIP", "mail1"),
            ("CARP_ADDRESSES", "192.168.1.50/32 2001:db8::51/128"),
            ("CARP_EVENT", "devd"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
        assert_eq!(env, want);
        // Unknown previous state: empty, not absent.
        let mut t = transition("em0", 1, CarpState::Init, None);
        t.source = Source::Replay;
        let env: BTreeMap<_, _> = hook_env(&t, &v).into_iter().collect();
        assert_eq!(env["CARP_PREVIOUS_STATE"], "");
        assert_eq!(env["CARP_STATE"], "INIT");
        assert_eq!(env["CARP_EVENT"], "replay");
    }

    #[test]
    fn argv_by_state_and_labels() {
        let mut v = vip("mail1", "em0", 1);
        v.on_master = vec!["/a".into()];
        v.on_init = vec!["/c".into()];
        assert_eq!(v.argv(CarpState::Master), ["/a".to_string()]);
        assert!(v.argv(CarpState::Backup).is_empty());
        assert_eq!(v.argv(CarpState::Init), ["/c".to_string()]);
        let t = transition("em0", 1, CarpState::Backup, None);
        assert_eq!(label(&t.event, &v), "1@em0 mail1 on_backup");
    }

    #[tokio::test]
    async fn a_hook_gets_its_environment_and_no_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut v = vip("mail1", "em0", 1);
        v.on_master = sh(&format!(
            "printf '%s|%s|%s|%s|%s|%s|%s|' \"$CARP_VHID\" \"$CARP_INTERFACE\" \"$CARP_STATE\" \
             \"$CARP_PREVIOUS_STATE\" \"$CARP_VIP\" \"$CARP_ADDRESSES\" \"$CARP_EVENT\" > {0}; \
             cat >> {0}; echo end >> {0}",
            out.display()
        ));
        let stats = HookStats::new();
        let t = transition("em0", 1, CarpState::Master, Some(CarpState::Backup));
        let r = run_for(&t, &v, Duration::from_secs(10), &stats)
            .await
            .expect("a hook ran");
        assert!(r.outcome.is_success(), "{r:?}");
        assert_eq!(
            fs::read_to_string(&out).unwrap(),
            "1|em0|MASTER|BACKUP|mail1|192.168.1.50/32 2001:db8::51/128|devd|end\n"
        );
        assert_eq!(
            stats.get("em0", Vhid::new(1).unwrap()),
            HookCounters {
                runs: 1,
                ..HookCounters::default()
            }
        );
        // No hook for BACKUP: nothing runs, nothing counted.
        let t = transition("em0", 1, CarpState::Backup, None);
        assert!(
            run_for(&t, &v, Duration::from_secs(1), &stats)
                .await
                .is_none()
        );
        assert_eq!(stats.get("em0", Vhid::new(1).unwrap()).runs, 1);
    }

    #[tokio::test]
    async fn failures_are_counted_by_kind() {
        let stats = HookStats::new();
        let mut v = vip("mail1", "em0", 1);
        let t = transition("em0", 1, CarpState::Master, None);

        v.on_master = sh("echo to stderr >&2; exit 3");
        let r = run_for(&t, &v, Duration::from_secs(10), &stats)
            .await
            .unwrap();
        match &r.outcome {
            Outcome::Failed(s) => assert_eq!(describe_status(s), "exit status 3"),
            other => panic!("{other:?}"),
        }

        v.on_master = sh("kill -TERM $$");
        let r = run_for(&t, &v, Duration::from_secs(10), &stats)
            .await
            .unwrap();
        match &r.outcome {
            Outcome::Failed(s) => {
                assert_eq!(describe_status(s), "killed by signal 15 (SIGTERM)");
            }
            other => panic!("{other:?}"),
        }

        v.on_master = vec!["/nonexistent/carpctl-hook".into()];
        let r = run_for(&t, &v, Duration::from_secs(10), &stats)
            .await
            .unwrap();
        match &r.outcome {
            Outcome::SpawnFailed(e) => assert_eq!(e.kind(), io::ErrorKind::NotFound),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            stats.get("em0", Vhid::new(1).unwrap()),
            HookCounters {
                runs: 3,
                failures: 3,
                timeouts: 0,
                dropped: 0,
                coalesced: 0,
            }
        );
    }

    #[tokio::test]
    async fn a_hook_past_its_timeout_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let child_pid = dir.path().join("child.pid");
        let stats = HookStats::new();
        let mut v = vip("mail1", "em0", 1);
        // The hook starts a child in its process group and waits forever.
        v.on_master = sh(&format!(
            "sleep 60 & echo $! > {}; wait",
            child_pid.display()
        ));
        let t = transition("em0", 1, CarpState::Master, None);
        let timeout = Duration::from_millis(300);
        let r = run_for(&t, &v, timeout, &stats).await.unwrap();
        assert!(matches!(r.outcome, Outcome::TimedOut), "{r:?}");
        assert!(r.elapsed >= timeout, "{r:?}");
        assert!(r.elapsed < Duration::from_secs(5), "{r:?}");
        let c = stats.get("em0", Vhid::new(1).unwrap());
        assert_eq!((c.runs, c.failures, c.timeouts), (1, 1, 1));
        // Its child died too: signal 0 finds no such process (once reaped
        // by init; a zombie still answers, so check its state instead).
        let pid: i32 = fs::read_to_string(&child_pid)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let alive = status
                .lines()
                .find(|l| l.starts_with("State:"))
                .is_some_and(|l| !l.contains("Z") && !l.contains("X"));
            if !alive {
                break;
            }
            assert!(Instant::now() < deadline, "the hook's child {pid} survived");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn a_background_process_holding_the_output_does_not_hold_the_hook() {
        let mut v = vip("mail1", "em0", 1);
        // A "daemon" started by the hook keeps stdout open after the hook
        // exits 0: the run must end at once, not when the daemon does.
        v.on_master = sh("(sleep 3; echo late) & echo started; exit 0");
        let stats = HookStats::new();
        let t = transition("em0", 1, CarpState::Master, None);
        let r = run_for(&t, &v, Duration::from_secs(10), &stats)
            .await
            .unwrap();
        assert!(r.outcome.is_success(), "{r:?}");
        assert!(r.elapsed < Duration::from_secs(2), "{r:?}");
    }

    #[tokio::test]
    async fn output_logging_is_bounded() {
        let logs = crate::logging::capture::logs();
        // 5000 lines of 3000 bytes each: read to the end without keeping it.
        let data: Vec<u8> = (0..5000)
            .flat_map(|_| std::iter::repeat_n(b'x', 3000).chain([b'\n']))
            .collect();
        log_output(&data[..], Arc::from("t"), false, HOOK_OUTPUT).await;
        // And a stream without a newline at all.
        log_output(&vec![b'y'; 100_000][..], Arc::from("t"), true, HOOK_OUTPUT).await;
        let text = logs.text();
        let lines: Vec<&str> = text.lines().collect();
        // LINES_MAX lines, the note that more were not logged, one line of y.
        assert_eq!(lines.len(), LINES_MAX + 2, "{}", lines.len());
        assert!(lines.iter().all(|l| l.len() < LINE_MAX + 100));
        assert!(
            lines[LINES_MAX].contains("more than 200 lines"),
            "{}",
            lines[LINES_MAX]
        );
        assert!(lines[LINES_MAX + 1].contains(&"y".repeat(LINE_MAX)));
        assert!(!lines[LINES_MAX + 1].contains(&"y".repeat(LINE_MAX + 1)));
    }
}
