//! Running one hook: spawn without a shell in its own process group, log
//! its output within bounds, kill the group at the timeout, and say how it
//! ended.

use std::io;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::task::JoinHandle;

/// Longest line of hook output logged; the rest of the line is cut.
pub const LINE_MAX: usize = 1024;
/// Most lines logged per stream per run; the rest is read and dropped.
pub const LINES_MAX: usize = 200;
/// How long output is still read after the hook exited: a process it left
/// in the background may hold the pipes open forever, and must not hold up
/// the next hook.
pub const OUTPUT_GRACE: Duration = Duration::from_millis(250);

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
    pub(crate) fn is_success(&self) -> bool {
        matches!(self, Outcome::Succeeded)
    }
}

/// One hook run: its outcome and how long it took.
#[derive(Debug)]
pub struct RunReport {
    pub(crate) outcome: Outcome,
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
    pub(crate) line_max: usize,
    pub(crate) lines_max: usize,
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
pub(super) async fn log_output<R: AsyncRead + Unpin>(
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
