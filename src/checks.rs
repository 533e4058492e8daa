//! Health checks that demote this node (`[[check]]`, carpctl.toml(5)).
//!
//! * [`probe`]: one probe — a TCP connect, a command, or an HTTP GET —
//!   bounded by the check's `timeout`.
//! * [`CheckState`]: the rise/fall state machine, pure: `fall` consecutive
//!   failures make a passing check fail, `rise` consecutive passes bring a
//!   failed one back.
//! * [`run_checks`]: the daemon's task. One probe loop per check sends each
//!   result to one loop that owns the states; when a check fails it adds the
//!   check's `weight` to `net.inet.carp.demotion` through the ledger
//!   ([`crate::ledger`]), and when it recovers it takes back exactly what
//!   the ledger recorded. With `boot_hold`, the boot hold (added at boot by
//!   `carpctl apply` or here) is taken back once every check has passed.
//!
//! The demotion write follows the result that reaches the threshold without
//! any wait: the loop hands the change to a blocking thread at once (the
//! ledger does file I/O and one `sysctl`), and the intent file on that path
//! is not `fsync`ed (see the ledger's module doc). `benches/demotion.rs`
//! measures the time from the result to the `sysctl` write.
//!
//! # Why HTTP is spoken by hand
//!
//! The http check sends `GET path HTTP/1.0` with `Host` and
//! `Connection: close` and reads only the status line. A health endpoint on
//! the loopback needs nothing more: no TLS (use an exec check with
//! curl(1) for that), no redirects, no body. A client crate would bring
//! TLS stacks or a second async runtime into a system daemon and lengthen
//! the build for a feature this small.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{MissedTickBehavior, timeout};

use crate::config::{Check, Config, HttpUrl, Probe};
use crate::daemon::{KernelOpener, Settings};
use crate::hooks::{OutputLimits, OutputLog};
use crate::ledger::{BootPolicy, Cause, Contribution, Ledger, LedgerError, now_secs};

/// The longest status line the http check reads.
const STATUS_LINE_MAX: usize = 1024;

/// Run one probe of `check`, within its timeout. `Err` says why it failed.
pub async fn probe(check: &Check) -> Result<(), String> {
    let t = check.timeout;
    let work = async {
        match &check.probe {
            Probe::Tcp { address } => probe_tcp(address).await,
            Probe::Exec { command } => probe_exec(&check.name, command).await,
            Probe::Http { url, expect_status } => probe_http(url, *expect_status).await,
        }
    };
    match timeout(t, work).await {
        Ok(r) => r,
        // Dropping the future closes the socket or kills the command
        // (kill_on_drop).
        Err(_) => Err(format!("no answer within {}", secs(t))),
    }
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

async fn probe_tcp(address: &str) -> Result<(), String> {
    TcpStream::connect(address)
        .await
        .map(drop)
        .map_err(|e| format!("connect to {address}: {e}"))
}

/// What an exec check's stderr may put in the log per probe: hooks' line
/// length, and far fewer lines, as a check runs every few seconds.
pub const CHECK_OUTPUT: OutputLimits = OutputLimits {
    line_max: crate::hooks::LINE_MAX,
    lines_max: 20,
};

/// Run `argv` without a shell: stdin and stdout are /dev/null, stderr is
/// logged (warn, bounded by [`CHECK_OUTPUT`], as hooks' output is),
/// `CARPCTL_CHECK` names the check. Exit 0 passes.
async fn probe_exec(name: &str, argv: &[String]) -> Result<(), String> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| "empty command".to_string())?;
    let child = tokio::process::Command::new(program)
        .args(args)
        .env("CARPCTL_CHECK", name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    // The program is the cluster file's text: escaped in messages.
    let program = crate::text::escape(program);
    let mut child = child.map_err(|e| format!("cannot run {program}: {e}"))?;
    // Dropped with this future at the timeout: the readers stop.
    let output = OutputLog::start(&mut child, &format!("check {name}"), CHECK_OUTPUT);
    let status = child
        .wait()
        .await
        .map_err(|e| format!("waiting for {program}: {e}"))?;
    output.finish().await;
    if status.success() {
        return Ok(());
    }
    use std::os::unix::process::ExitStatusExt;
    Err(match (status.code(), status.signal()) {
        (Some(code), _) => format!("{program} exited with status {code}"),
        (None, Some(sig)) => format!("{program} was killed by signal {sig}"),
        _ => format!("{program} failed ({status})"),
    })
}

/// `GET` the URL and compare the status code.
async fn probe_http(url: &HttpUrl, expect: u16) -> Result<(), String> {
    let authority = url.authority();
    let mut s = TcpStream::connect(&authority)
        .await
        .map_err(|e| format!("connect to {authority}: {e}"))?;
    let request = format!(
        "GET {} HTTP/1.0\r\nHost: {authority}\r\nUser-Agent: carpctl/{}\r\n\
         Connection: close\r\n\r\n",
        url.path,
        env!("CARGO_PKG_VERSION")
    );
    s.write_all(request.as_bytes())
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let mut buf = Vec::with_capacity(128);
    let mut chunk = [0u8; 256];
    while !buf.windows(2).any(|w| w == b"\r\n") && buf.len() < STATUS_LINE_MAX {
        let n = s
            .read(&mut chunk)
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    let status = parse_status_line(&buf).ok_or_else(|| {
        // The server's bytes, bounded and escaped (crate::text).
        let shown = crate::text::quote_bytes(&buf);
        format!("GET {url}: not an HTTP status line: {shown}")
    })?;
    if status == expect {
        Ok(())
    } else {
        Err(format!("GET {url}: status {status}, want {expect}"))
    }
}

/// The status code of `HTTP/1.x NNN ...` (RFC 9112 §4); `None` for
/// anything else.
pub fn parse_status_line(bytes: &[u8]) -> Option<u16> {
    let line_end = bytes.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(bytes.get(..line_end)?).ok()?;
    let rest = line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| line.strip_prefix("HTTP/1.0 "))?;
    let code = rest.get(..3)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !rest
        .get(3..)
        .is_some_and(|r| r.is_empty() || r.starts_with(' '))
    {
        return None;
    }
    code.parse().ok().filter(|c| (100..=599).contains(c))
}

/// What a result did to a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// `fall` consecutive failures: demote.
    Fell,
    /// `rise` consecutive passes: take the demotion back.
    Rose,
}

/// One check's rise/fall state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckState {
    /// Passing (not demoting).
    pub up: bool,
    passes: u32,
    fails: u32,
    /// Passed at least once since the runner started (for the boot hold).
    pub passed_once: bool,
}

impl CheckState {
    /// A check that starts passing (`up`) or failing.
    pub fn new(up: bool) -> Self {
        CheckState {
            up,
            passes: 0,
            fails: 0,
            passed_once: false,
        }
    }

    /// Count one result; returns the change it makes, if any.
    pub fn observe(&mut self, pass: bool, rise: u32, fall: u32) -> Option<Change> {
        if pass {
            self.passed_once = true;
            self.fails = 0;
            self.passes = self.passes.saturating_add(1);
            if !self.up && self.passes >= rise {
                self.up = true;
                return Some(Change::Rose);
            }
        } else {
            self.passes = 0;
            self.fails = self.fails.saturating_add(1);
            if self.up && self.fails >= fall {
                self.up = false;
                return Some(Change::Fell);
            }
        }
        None
    }
}

/// What the metrics and logs see of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckView {
    /// `tcp`, `exec` or `http`.
    pub kind: &'static str,
    /// Passing (not demoting).
    pub up: bool,
    /// Why the last probe failed; `None` after a pass.
    pub last_error: Option<String>,
    /// The weight recorded in the ledger while the check demotes.
    pub demoting: Option<u16>,
    /// Falls and rises since the daemon started, kept across reloads
    /// (`carpctl_check_changes_total`: a flapping check is seen however
    /// short each state lasts between two scrapes).
    pub changes: u64,
}

/// The checks' status, shared between the runner (which writes) and the
/// metrics (which read).
#[derive(Debug, Default)]
pub struct CheckBoard {
    inner: Mutex<BTreeMap<String, CheckView>>,
    /// When the probe that made the last change (fall or rise) ended, for
    /// measuring how long the demotion write took.
    last_change: Mutex<Option<Instant>>,
}

impl CheckBoard {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn snapshot(&self) -> BTreeMap<String, CheckView> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// When the probe that made the last fall or rise ended.
    pub fn last_change(&self) -> Option<Instant> {
        *self
            .last_change
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Replace the views (at start and after a reload), keeping the
    /// change count of each check that is still there.
    fn set(&self, mut views: BTreeMap<String, CheckView>) {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        for (name, view) in &mut views {
            if let Some(old) = map.get(name) {
                view.changes = old.changes;
            }
        }
        *map = views;
    }

    fn update(&self, name: &str, f: impl FnOnce(&mut CheckView)) {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(v) = map.get_mut(name) {
            f(v);
        }
    }

    fn mark_change(&self, at: Instant) {
        *self
            .last_change
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(at);
    }
}

/// What [`run_checks`] needs; the daemon builds it from its
/// [`crate::daemon::ExtensionContext`].
pub struct ChecksContext {
    /// The running configuration; a reload restarts the checks.
    pub settings: watch::Receiver<Arc<Settings>>,
    /// `true`: stop.
    pub shutdown: watch::Receiver<bool>,
    /// Opens the daemon's kernel (inside `spawn_blocking`).
    pub open_kernel: KernelOpener,
    /// Where the checks' status goes.
    pub board: Arc<CheckBoard>,
}

/// One probe result, sent by a probe loop.
struct Outcome {
    name: String,
    result: Result<(), String>,
    /// When the probe ended.
    at: Instant,
}

/// A ledger operation for the loop to run on a blocking thread.
#[derive(Debug, Clone)]
enum Op {
    /// At start and after a reload: recover and reconcile (the boot hold at
    /// a new boot), drop the shares of checks no longer configured; returns
    /// the live contributions.
    Start {
        known: BTreeSet<String>,
    },
    Set(Cause, Contribution),
    Clear(Cause),
}

impl Op {
    /// For the logs: stable across retries (no timestamps).
    fn describe(&self) -> String {
        match self {
            Op::Start { .. } => "the start".into(),
            Op::Set(cause, c) => format!("{cause} +{}", c.weight),
            Op::Clear(cause) => format!("the end of {cause}"),
        }
    }
}

/// Run `op` on the ledger of the daemon's host; the contributions after it.
async fn ledger_op(
    opener: &KernelOpener,
    cfg: &Arc<Config>,
    op: Op,
) -> Result<BTreeMap<Cause, Contribution>, String> {
    let opener = opener.clone();
    let cfg = cfg.clone();
    let task = tokio::task::spawn_blocking(move || {
        let mut kernel = opener()?;
        // A demotion change is a change of the host: take turns with
        // apply and maintenance (crate::hostlock), then the ledger's lock.
        let wait = crate::hostlock::wait()?;
        let _lock = crate::hostlock::lock(kernel.as_ref(), wait).map_err(|e| e.to_string())?;
        let ledger = Ledger::for_host(kernel.as_ref(), &cfg);
        let policy = BootPolicy::from_config(&cfg);
        let k = kernel.as_mut();
        let result: Result<_, LedgerError> = match op {
            Op::Start { known } => ledger.reconcile(k, policy).and_then(|live| {
                let stale = |cause: &Cause| matches!(cause, Cause::Check(n) if !known.contains(n));
                if !live.keys().any(stale) {
                    // (Without a ledger, this creates nothing.)
                    return Ok(live);
                }
                ledger
                    .update(k, policy, |c| c.retain(|cause, _| !stale(cause)))
                    .map(|(_, c)| c)
            }),
            Op::Set(cause, c) => ledger
                .update(k, policy, |m| {
                    m.entry(cause).or_insert(c);
                })
                .map(|(_, c)| c),
            Op::Clear(cause) => ledger
                .update(k, policy, |m| {
                    m.remove(&cause);
                })
                .map(|(_, c)| c),
        };
        result.map_err(|e| format!("{:#}", anyhow::Error::new(e)))
    });
    task.await
        .map_err(|e| format!("the ledger task failed: {e}"))?
}

/// The probe loop of one check: probe, report, wait for the next tick.
async fn probe_loop(check: Check, tx: mpsc::Sender<Outcome>) {
    let mut tick = tokio::time::interval(check.interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let result = probe(&check).await;
        let outcome = Outcome {
            name: check.name.clone(),
            result,
            at: Instant::now(),
        };
        if tx.send(outcome).await.is_err() {
            return;
        }
    }
}

/// The checks as the runner keeps them.
struct Runner {
    cfg: Arc<Config>,
    checks: BTreeMap<String, (Check, CheckState)>,
    /// The ledger's contributions, as of the last operation.
    live: BTreeMap<Cause, Contribution>,
    opener: KernelOpener,
    board: Arc<CheckBoard>,
    /// The last ledger error logged: a lasting one (carp.ko not loaded) is
    /// logged once, not at every probe.
    last_error: Option<String>,
}

impl Runner {
    /// Start from the ledger: a check that demotes starts failing (it
    /// needs `rise` passes), the others passing.
    async fn start(cfg: Arc<Config>, opener: KernelOpener, board: Arc<CheckBoard>) -> Runner {
        let known = cfg.checks.iter().map(|c| c.name.clone()).collect();
        let live = match ledger_op(&opener, &cfg, Op::Start { known }).await {
            Ok(live) => live,
            Err(e) => {
                tracing::error!("health checks: {e}");
                BTreeMap::new()
            }
        };
        let checks = cfg
            .checks
            .iter()
            .map(|c| {
                let up = !live.contains_key(&Cause::Check(c.name.clone()));
                (c.name.clone(), (c.clone(), CheckState::new(up)))
            })
            .collect();
        let r = Runner {
            cfg,
            checks,
            live,
            opener,
            board,
            last_error: None,
        };
        r.publish();
        r
    }

    fn publish(&self) {
        let views = self
            .checks
            .iter()
            .map(|(name, (c, st))| {
                let demoting = self.live.get(&Cause::Check(name.clone())).map(|c| c.weight);
                let view = CheckView {
                    kind: c.probe.kind(),
                    up: st.up,
                    last_error: None,
                    demoting,
                    changes: 0,
                };
                (name.clone(), view)
            })
            .collect();
        self.board.set(views);
    }

    async fn handle(&mut self, o: Outcome) {
        let Some((check, state)) = self.checks.get_mut(&o.name) else {
            return;
        };
        let change = state.observe(o.result.is_ok(), check.rise, check.fall);
        let err = o.result.as_ref().err().cloned();
        let up = state.up;
        self.board.update(&o.name, |v| {
            v.last_error.clone_from(&err);
            v.up = up;
            v.changes += u64::from(change.is_some());
        });
        match (change, &err) {
            (Some(Change::Fell), Some(e)) => tracing::warn!(
                "check {} failed {} times (last: {e}): demoting this node by {}",
                o.name,
                check.fall,
                check.weight
            ),
            (Some(Change::Rose), _) => tracing::info!(
                "check {} passed {} times: taking its demotion back",
                o.name,
                check.rise
            ),
            (None, Some(e)) => tracing::debug!("check {}: {e}", o.name),
            _ => {}
        }
        if change.is_some() {
            self.board.mark_change(o.at);
        }
        self.converge().await;
    }

    /// Bring the ledger to what the states say: a failed check's weight in,
    /// a passing check's out, the boot hold out once every check passed.
    /// A failed write is retried at the next result.
    async fn converge(&mut self) {
        let mut ops = Vec::new();
        for (name, (check, st)) in &self.checks {
            let cause = Cause::Check(name.clone());
            match (st.up, self.live.contains_key(&cause)) {
                (false, false) => ops.push(Op::Set(
                    cause,
                    Contribution {
                        weight: check.weight,
                        reason: None,
                        since: now_secs(),
                    },
                )),
                (true, true) => ops.push(Op::Clear(cause)),
                _ => {}
            }
        }
        if self.live.contains_key(&Cause::BootHold)
            && self.checks.values().all(|(_, st)| st.passed_once)
        {
            tracing::info!("every check has passed once: ending the boot hold");
            ops.push(Op::Clear(Cause::BootHold));
        }
        for op in ops {
            match ledger_op(&self.opener, &self.cfg, op.clone()).await {
                Ok(live) => {
                    self.live = live;
                    self.last_error = None;
                }
                Err(e) => {
                    let msg = format!(
                        "health checks: cannot record {}: {e} (retried at the next result)",
                        op.describe()
                    );
                    if self.last_error.as_deref() != Some(msg.as_str()) {
                        tracing::error!("{msg}");
                        self.last_error = Some(msg);
                    }
                }
            }
        }
        let live = &self.live;
        for (name, (_, st)) in &self.checks {
            let demoting = live.get(&Cause::Check(name.clone())).map(|c| c.weight);
            self.board.update(name, |v| {
                v.up = st.up;
                v.demoting = demoting;
            });
        }
    }
}

/// The daemon's health-check task: run every `[[check]]` of the running
/// configuration until `shutdown`, restarting them on a reload.
pub async fn run_checks(mut ctx: ChecksContext) {
    loop {
        let cfg = ctx.settings.borrow_and_update().config.clone();
        let mut runner =
            Runner::start(cfg.clone(), ctx.open_kernel.clone(), ctx.board.clone()).await;
        let (tx, mut rx) = mpsc::channel(64);
        let mut probes = JoinSet::new();
        for check in &cfg.checks {
            probes.spawn(probe_loop(check.clone(), tx.clone()));
        }
        drop(tx);
        if !cfg.checks.is_empty() {
            tracing::info!("health checks: {} running", cfg.checks.len());
        }
        let reload = loop {
            tokio::select! {
                Some(o) = rx.recv() => runner.handle(o).await,
                r = ctx.settings.changed() => break r.is_ok(),
                _ = ctx.shutdown.changed() => break false,
            }
            if *ctx.shutdown.borrow() {
                break false;
            }
        };
        probes.abort_all();
        if !reload || *ctx.shutdown.borrow() {
            return;
        }
        tracing::info!("health checks: configuration reloaded, restarting them");
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn fall_and_rise_thresholds() {
        let mut s = CheckState::new(true);
        assert_eq!(s.observe(false, 2, 3), None);
        assert_eq!(s.observe(false, 2, 3), None);
        // A pass in between starts the count again.
        assert_eq!(s.observe(true, 2, 3), None);
        assert_eq!(s.observe(false, 2, 3), None);
        assert_eq!(s.observe(false, 2, 3), None);
        assert_eq!(s.observe(false, 2, 3), Some(Change::Fell));
        assert!(!s.up);
        // Further failures change nothing.
        assert_eq!(s.observe(false, 2, 3), None);
        assert_eq!(s.observe(true, 2, 3), None);
        assert_eq!(s.observe(false, 2, 3), None);
        assert_eq!(s.observe(true, 2, 3), None);
        assert_eq!(s.observe(true, 2, 3), Some(Change::Rose));
        assert!(s.up);
        assert_eq!(s.observe(true, 2, 3), None);
    }

    #[test]
    fn thresholds_of_one_act_at_once() {
        let mut s = CheckState::new(true);
        assert!(!s.passed_once);
        assert_eq!(s.observe(false, 1, 1), Some(Change::Fell));
        assert!(!s.passed_once);
        assert_eq!(s.observe(true, 1, 1), Some(Change::Rose));
        assert!(s.passed_once);
        // A check that starts failing (from the ledger) needs `rise`.
        let mut s = CheckState::new(false);
        assert_eq!(s.observe(true, 3, 1), None);
        assert_eq!(s.observe(true, 3, 1), None);
        assert_eq!(s.observe(true, 3, 1), Some(Change::Rose));
    }

    #[test]
    fn board_keeps_change_counts_across_a_reload() {
        let view = |changes| CheckView {
            kind: "tcp",
            up: true,
            last_error: None,
            demoting: None,
            changes,
        };
        let board = CheckBoard::new();
        board.set(BTreeMap::from([
            ("a".to_string(), view(0)),
            ("b".to_string(), view(0)),
        ]));
        board.update("a", |v| v.changes += 3);
        board.update("b", |v| v.changes += 1);
        // A reload: "a" stays, "b" goes, "c" is new.
        board.set(BTreeMap::from([
            ("a".to_string(), view(0)),
            ("c".to_string(), view(0)),
        ]));
        let snap = board.snapshot();
        assert_eq!(snap["a"].changes, 3);
        assert_eq!(snap["c"].changes, 0);
        assert!(!snap.contains_key("b"));
    }

    #[test]
    fn status_lines() {
        assert_eq!(parse_status_line(b"HTTP/1.1 200 OK\r\n"), Some(200));
        assert_eq!(
            parse_status_line(b"HTTP/1.0 503 Busy\r\nX: y\r\n"),
            Some(503)
        );
        // RFC 9112: the reason phrase may be empty.
        assert_eq!(parse_status_line(b"HTTP/1.1 204 \r\n"), Some(204));
        assert_eq!(parse_status_line(b"HTTP/1.1 204\r\n"), Some(204));
        for bad in [
            &b""[..],
            b"HTTP/1.1 200 OK",
            b"HTTP/2 200\r\n",
            b"HTTP/1.1 20 OK\r\n",
            b"HTTP/1.1 2000 OK\r\n",
            b"HTTP/1.1 abc OK\r\n",
            b"HTTP/1.1 099 x\r\n",
            b"SSH-2.0-OpenSSH\r\n",
            b"\xff\xfe\r\n",
        ] {
            assert_eq!(parse_status_line(bad), None, "{bad:?}");
        }
    }

    fn check(probe: Probe, timeout_ms: u64) -> Check {
        Check {
            name: "t".into(),
            probe,
            interval: Duration::from_millis(30),
            timeout: Duration::from_millis(timeout_ms),
            rise: 1,
            fall: 2,
            weight: 5,
        }
    }

    fn exec(argv: &[&str]) -> Probe {
        Probe::Exec {
            command: argv.iter().map(ToString::to_string).collect(),
        }
    }

    #[tokio::test]
    async fn exec_probes() {
        assert_eq!(probe(&check(exec(&["true"]), 2000)).await, Ok(()));
        assert_eq!(
            probe(&check(exec(&["sh", "-c", "exit 3"]), 2000)).await,
            Err("sh exited with status 3".into())
        );
        let e = probe(&check(exec(&["/nonexistent/check"]), 2000))
            .await
            .unwrap_err();
        assert!(e.starts_with("cannot run /nonexistent/check: "), "{e}");
        // The program is the cluster file's text: escaped in the message.
        let e = probe(&check(exec(&["/nonexistent/\r\nforged\u{202e}"]), 2000))
            .await
            .unwrap_err();
        assert!(
            e.starts_with("cannot run /nonexistent/\\r\\nforged\\u{202e}: "),
            "{e}"
        );
        let t0 = Instant::now();
        assert_eq!(
            probe(&check(exec(&["sleep", "5"]), 100)).await,
            Err("no answer within 100 ms".into())
        );
        assert!(t0.elapsed() < Duration::from_secs(2));
        // The check's name is in the environment.
        assert_eq!(
            probe(&check(
                exec(&["sh", "-c", "test \"$CARPCTL_CHECK\" = t"]),
                2000
            ))
            .await,
            Ok(())
        );
    }

    /// A check that floods its stderr (20 MB a probe) puts a bounded
    /// number of lines in the log, and still passes or fails by its exit
    /// status, within its timeout (the flood is read, not left to block it).
    #[tokio::test]
    async fn exec_check_output_is_bounded() {
        let logs = crate::logging::capture::logs();
        let flood = "yes 'x' | head -c 20000000 >&2; echo last words >&2; exit 3";
        for _ in 0..3 {
            assert_eq!(
                probe(&check(exec(&["sh", "-c", flood]), 20_000)).await,
                Err("sh exited with status 3".into())
            );
        }
        let text = logs.text();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("check t: stderr:"))
            .collect();
        // Per probe: 20 lines and the note that more were not logged.
        assert_eq!(lines.len(), 3 * 21, "{text}");
        assert!(lines[0].ends_with("check t: stderr: x"), "{}", lines[0]);
        assert!(lines[20].contains("(more than 20 lines; the rest is not logged)"));
        assert!(text.len() < 16 * 1024, "{} bytes of log", text.len());
    }

    #[tokio::test]
    async fn tcp_probes() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let tcp = || Probe::Tcp {
            address: addr.clone(),
        };
        assert_eq!(probe(&check(tcp(), 1000)).await, Ok(()));
        drop(l);
        let e = probe(&check(tcp(), 1000)).await.unwrap_err();
        assert!(e.starts_with(&format!("connect to {addr}: ")), "{e}");
    }

    /// A one-shot HTTP server answering `reply`; returns its URL and the
    /// request it received.
    async fn http_server(reply: &'static [u8]) -> (HttpUrl, tokio::task::JoinHandle<String>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (mut c, _) = l.accept().await.unwrap();
            let mut req = vec![0u8; 1024];
            let n = c.read(&mut req).await.unwrap();
            c.write_all(reply).await.unwrap();
            String::from_utf8_lossy(&req[..n]).into_owned()
        });
        let url = HttpUrl {
            host: "127.0.0.1".into(),
            port,
            path: "/health?deep=1".into(),
        };
        (url, task)
    }

    #[tokio::test]
    async fn http_probes() {
        let (url, req) = http_server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
        let http = |url: &HttpUrl| Probe::Http {
            url: url.clone(),
            expect_status: 200,
        };
        assert_eq!(probe(&check(http(&url), 1000)).await, Ok(()));
        let req = req.await.unwrap();
        assert!(
            req.starts_with(&format!(
                "GET /health?deep=1 HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n",
                url.port
            )),
            "{req}"
        );
        assert!(req.ends_with("Connection: close\r\n\r\n"), "{req}");

        let (url, _) = http_server(b"HTTP/1.0 503 Service Unavailable\r\n\r\n").await;
        assert_eq!(
            probe(&check(http(&url), 1000)).await,
            Err(format!("GET {url}: status 503, want 200"))
        );
        let (url, _) = http_server(b"SSH-2.0-OpenSSH_9.6\r\n").await;
        let e = probe(&check(http(&url), 1000)).await.unwrap_err();
        assert!(
            e.contains("not an HTTP status line: \"SSH-2.0-OpenSSH_9.6\\r\\n\""),
            "{e}"
        );
        // A hostile answer: NUL, ESC and a bidi override, escaped and cut.
        let (url, _) = http_server(
            b"\0\0\x1b[2J\xe2\x80\xaeHTTP/1.1 200 OK, not at the start of the line, and long \
              enough to be cut\r\n",
        )
        .await;
        let e = probe(&check(http(&url), 1000)).await.unwrap_err();
        assert!(
            e.contains("not an HTTP status line: \"\\0\\0\\u{1b}[2J\\u{202e}HTTP/1.1 200 OK"),
            "{e}"
        );
        assert!(e.contains("\" (") && e.ends_with(" bytes)"), "cut: {e}");
        for raw in ['\0', '\r', '\u{1b}', '\u{202e}'] {
            assert!(!e.contains(raw), "raw {raw:?} in {e:?}");
        }
        // A server that never answers: the timeout.
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = HttpUrl {
            host: "127.0.0.1".into(),
            port: l.local_addr().unwrap().port(),
            path: "/".into(),
        };
        assert_eq!(
            probe(&check(http(&url), 100)).await,
            Err("no answer within 100 ms".into())
        );
    }

    /// A check removed from the file while it demoted: its share goes when
    /// the runner starts.
    #[tokio::test(flavor = "current_thread")]
    async fn stale_check_shares_are_dropped_at_start() {
        use crate::kernel::Kernel;
        use crate::kernel::emulated::{EmulatedHost, Flavor, HostSpec};
        use crate::kernel::freebsd::FreeBsdKernel;

        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("host");
        let spec = HostSpec {
            flavor: Flavor::V14,
            interfaces: vec![],
            carp_loaded: true,
            privileged: true,
        };
        EmulatedHost::create(&host, &spec).unwrap();
        let text = "[[node]]\nname = \"a\"\n";
        let cfg = crate::config::parse(text, Path::new("t.toml"), Some(0o600)).unwrap();
        let h = host.clone();
        let opener: KernelOpener = Arc::new(move || {
            EmulatedHost::open(&h)
                .map(|e| Box::new(FreeBsdKernel::new(e)) as Box<dyn Kernel>)
                .map_err(|e| e.to_string())
        });
        let mut k = opener().unwrap();
        let ledger = Ledger::for_host(k.as_ref(), &cfg);
        let old = Contribution {
            weight: 9,
            reason: None,
            since: 0,
        };
        ledger
            .set(
                k.as_mut(),
                BootPolicy::default(),
                Cause::Check("old".into()),
                old.clone(),
            )
            .unwrap();
        let maintenance = Contribution {
            weight: crate::ledger::MAINTENANCE_WEIGHT,
            ..old
        };
        ledger
            .set(
                k.as_mut(),
                BootPolicy::default(),
                Cause::Maintenance,
                maintenance,
            )
            .unwrap();
        assert_eq!(k.sysctls().unwrap().demotion, 249);
        let live = ledger_op(
            &opener,
            &Arc::new(cfg),
            Op::Start {
                known: BTreeSet::new(),
            },
        )
        .await
        .unwrap();
        assert_eq!(live.keys().collect::<Vec<_>>(), [&Cause::Maintenance]);
        assert_eq!(k.sysctls().unwrap().demotion, 240);
    }

    /// The runner end to end against an emulated host: a failing check
    /// demotes by its weight, a recovered one takes exactly that back, the
    /// boot hold ends when every check has passed once.
    #[tokio::test(flavor = "current_thread")]
    async fn runner_demotes_and_recovers() {
        use crate::kernel::Kernel;
        use crate::kernel::emulated::{EmulatedHost, Flavor, HostSpec, IfaceSpec};
        use crate::kernel::freebsd::FreeBsdKernel;

        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("host");
        EmulatedHost::create(
            &host,
            &HostSpec {
                flavor: Flavor::V14,
                interfaces: vec![IfaceSpec {
                    name: "em0".into(),
                    addresses: vec!["192.0.2.3/24".parse().unwrap()],
                }],
                carp_loaded: true,
                privileged: true,
            },
        )
        .unwrap();
        // A port nobody listens on, for now.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let text = format!(
            "[cluster]\nboot_hold = true\n\
             [[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n\
             [[vip]]\nname = \"v1\"\nvhid = 1\ninterface = \"em0\"\n\
             addresses = [\"192.0.2.1/32\"]\npassword = \"pw\"\n\
             [[check]]\nname = \"svc\"\ntype = \"tcp\"\naddress = \"{addr}\"\nrise = 2\nfall = 2\n"
        );
        let mut cfg = crate::config::parse(&text, Path::new("t.toml"), Some(0o600)).unwrap();
        cfg.checks[0].interval = Duration::from_millis(20);
        cfg.checks[0].timeout = Duration::from_millis(20);
        assert_eq!(cfg.checks[0].weight, 5);
        let settings = Arc::new(Settings::new(cfg, "a".into()));
        let (_settings_tx, settings_rx) = watch::channel(settings);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let h = host.clone();
        let opener: KernelOpener = Arc::new(move || {
            EmulatedHost::open(&h)
                .map(|e| Box::new(FreeBsdKernel::new(e)) as Box<dyn Kernel>)
                .map_err(|e| e.to_string())
        });
        let demotion = {
            let opener = opener.clone();
            move || opener().unwrap().sysctls().unwrap().demotion
        };
        let board = Arc::new(CheckBoard::new());
        let task = tokio::spawn(run_checks(ChecksContext {
            settings: settings_rx,
            shutdown: shutdown_rx,
            open_kernel: opener.clone(),
            board: board.clone(),
        }));
        let wait_for = |want: i32, what: &'static str| {
            let demotion = demotion.clone();
            async move {
                let t0 = Instant::now();
                while demotion() != want {
                    assert!(
                        t0.elapsed() < Duration::from_secs(5),
                        "{what}: demotion {} != {want}",
                        demotion()
                    );
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        };
        // No ledger: a new boot, so the boot hold (240); the service is
        // down, so the check adds its 5 after two failures.
        wait_for(245, "boot hold and a failed check").await;
        let listener = std::net::TcpListener::bind(addr).unwrap();
        wait_for(0, "two passes end the check's share and the boot hold").await;
        assert!(board.snapshot()["svc"].up);
        // Fell, then rose.
        assert_eq!(board.snapshot()["svc"].changes, 2);
        drop(listener);
        wait_for(5, "the check fails twice").await;
        // The board follows the ledger write.
        let t0 = Instant::now();
        while board.snapshot()["svc"].demoting != Some(5) {
            assert!(t0.elapsed() < Duration::from_secs(5));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let view = &board.snapshot()["svc"];
        assert!(!view.up);
        assert!(
            view.last_error
                .as_deref()
                .is_some_and(|e| e.contains("connect to"))
        );
        let _again = std::net::TcpListener::bind(addr).unwrap();
        wait_for(0, "the check passes twice").await;
        assert!(board.snapshot()["svc"].up);
        assert_eq!(board.snapshot()["svc"].changes, 4);
        shutdown_tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .expect("run_checks stops on shutdown")
            .unwrap();
    }
}
