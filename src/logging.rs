//! Where carpctl's diagnostics go, and how a stderr that nobody reads is
//! kept from stopping carpctl.
//!
//! A one-shot command writes its diagnostics straight to stderr, like any
//! other command-line tool. The long-running ones (`daemon`, `watch`) must
//! never block on it: under daemon(8), a supervisor or a shell pipeline,
//! stderr can be a pipe whose reader has stopped, and a blocked `write(2)`
//! on the event loop's thread would stop hooks, checks, metrics and signal
//! handling with it. For them, [`install`] puts tracing-appender's
//! non-blocking writer in front of stderr: each line goes into a channel
//! of at most [`BUFFERED_LINES`] lines that a thread of its own writes
//! out; when the channel is full the line is dropped (lossy mode) and
//! counted ([`dropped_lines`], the metric `carpctl_log_lines_dropped_total`,
//! and one warning once lines get through again: [`report_dropped`]).
//!
//! [`stderr_line`] writes a diagnostic line the same way, so that the final
//! error message of `daemon` or `watch` cannot block either.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tracing_appender::non_blocking::{ErrorCounter, NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::fmt::MakeWriter;

/// Lines waiting for a slow stderr before new ones are dropped: a few
/// seconds of a busy `-vv` daemon, and at most a few MiB (hook output lines
/// are cut at 1 KiB).
pub(crate) const BUFFERED_LINES: usize = 4096;
/// How long [`LogGuard`] waits at exit for the lines still queued.
pub(crate) const FLUSH_AT_EXIT: Duration = Duration::from_secs(1);
/// How often [`report_dropped`] looks at the count.
pub(crate) const REPORT_EVERY: Duration = Duration::from_secs(5);

/// The non-blocking writer, once [`install`]ed.
struct Installed {
    writer: NonBlocking,
    dropped: ErrorCounter,
    /// Lines handed to the channel (dropped ones included).
    sent: Arc<AtomicU64>,
    /// Lines the writer thread has written out.
    written: Arc<AtomicU64>,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// Counts the lines the writer thread gets through.
struct Counted<W> {
    inner: W,
    written: Arc<AtomicU64>,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    /// The worker writes each line with one `write_all`.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let r = self.inner.write_all(buf);
        self.written.fetch_add(1, Ordering::Relaxed);
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The [`MakeWriter`] of the installed writer: counts each line it hands on.
#[derive(Clone)]
pub(crate) struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }

    /// One line (tracing's fmt layer writes each event with one call).
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match INSTALLED.get() {
            Some(i) => {
                i.sent.fetch_add(1, Ordering::Relaxed);
                i.writer.clone().write_all(buf)
            }
            None => io::stderr().write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter
    }
}

/// Keeps the writer thread; on drop, waits up to [`FLUSH_AT_EXIT`] for the
/// queued lines, so that the last words of a daemon are not lost, but never
/// longer: a stderr nobody reads must not hold up the exit.
pub(crate) struct LogGuard(Option<WorkerGuard>);

impl Drop for LogGuard {
    fn drop(&mut self) {
        let Some(guard) = self.0.take() else {
            return;
        };
        let deadline = Instant::now() + FLUSH_AT_EXIT;
        while pending() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if pending() == 0 {
            // The channel is empty: the guard's shutdown handshake
            // completes at once.
            drop(guard);
        } else {
            // The writer is stuck in write(2). Dropping the guard would
            // wait, then print a complaint on stdout (tracing-appender's
            // WorkerGuard::drop); leave the thread to the process exit.
            std::mem::forget(guard);
        }
    }
}

/// Lines queued and not yet written out.
fn pending() -> u64 {
    INSTALLED.get().map_or(0, |i| {
        let sent = i.sent.load(Ordering::Relaxed);
        let done = i.written.load(Ordering::Relaxed) + i.dropped.dropped_lines() as u64;
        sent.saturating_sub(done)
    })
}

/// Put the non-blocking writer in front of stderr for this process, and
/// return the writer for the tracing subscriber and the guard to keep
/// until exit. A second call returns a guard that does nothing.
pub(crate) fn install() -> (LogWriter, LogGuard) {
    let mut guard = None;
    INSTALLED.get_or_init(|| {
        let written = Arc::new(AtomicU64::new(0));
        let (writer, g) = NonBlockingBuilder::default()
            .lossy(true)
            .buffered_lines_limit(BUFFERED_LINES)
            .thread_name("carpctl-log")
            .finish(Counted {
                inner: io::stderr(),
                written: written.clone(),
            });
        guard = Some(g);
        Installed {
            dropped: writer.error_counter(),
            writer,
            sent: Arc::new(AtomicU64::new(0)),
            written,
        }
    });
    (LogWriter, LogGuard(guard))
}

/// Log lines dropped because stderr was not being read (0 when the
/// non-blocking writer is not installed).
pub(crate) fn dropped_lines() -> u64 {
    INSTALLED
        .get()
        .map_or(0, |i| i.dropped.dropped_lines() as u64)
}

/// Write one diagnostic line to stderr: through the non-blocking writer
/// when it is installed (in order with the log lines, and never blocking),
/// straight to stderr otherwise.
pub(crate) fn stderr_line(line: &str) {
    let mut text = String::with_capacity(line.len() + 1);
    text.push_str(line);
    text.push('\n');
    let _ = LogWriter.write_all(text.as_bytes());
}

/// The daemon's watch on [`dropped_lines`]: once lines were dropped and
/// then none for one [`REPORT_EVERY`] (stderr is read again), log how many
/// were lost. Returns when `shutdown` becomes true.
pub(crate) async fn report_dropped(mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(REPORT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reporter = DropReporter::default();
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Some(n) = reporter.observe(dropped_lines()) {
                    tracing::warn!(
                        "{n} log line{} dropped: standard error was not being read \
                         (carpctl_log_lines_dropped_total counts them)",
                        if n == 1 { " was" } else { "s were" }
                    );
                }
            }
            r = shutdown.changed() => if r.is_err() || *shutdown.borrow() { return },
        }
    }
}

/// Decides when to report dropped lines: once the count stops growing.
#[derive(Debug, Default)]
struct DropReporter {
    /// The count at the last observation.
    last: u64,
    /// The count when the lines being dropped now started to be.
    reported: u64,
}

impl DropReporter {
    /// The number of lines to report now, if any.
    fn observe(&mut self, total: u64) -> Option<u64> {
        let growing = total > self.last;
        self.last = total;
        if growing || total == self.reported {
            return None;
        }
        let n = total - self.reported;
        self.reported = total;
        Some(n)
    }
}

/// `e` and its sources, joined with ": " (what anyhow's `{:#}` prints):
/// the one cause-chain printer, for the cli's error line, the daemon's
/// log lines and the messages that carry a lower layer's error.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// For unit tests: the log lines emitted on this thread (a current-thread
/// tokio runtime's tasks included) while the [`capture::Captured`] lives.
#[cfg(test)]
pub(crate) mod capture {
    use std::io;
    use std::sync::{Arc, Mutex, PoisonError};

    use tracing::subscriber::DefaultGuard;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    pub(crate) struct Captured {
        sink: Sink,
        _guard: DefaultGuard,
    }

    impl Captured {
        /// Everything logged so far, one line per event (`LEVEL target:
        /// message`).
        pub(crate) fn text(&self) -> String {
            String::from_utf8_lossy(&self.sink.0.lock().unwrap_or_else(PoisonError::into_inner))
                .into_owned()
        }
    }

    /// Capture every event, down to `debug`.
    pub(crate) fn logs() -> Captured {
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .without_time()
            .finish();
        Captured {
            sink,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_lines_are_reported_once_they_stop() {
        let mut r = DropReporter::default();
        assert_eq!(r.observe(0), None);
        // Lines are being dropped: wait until they stop.
        assert_eq!(r.observe(10), None);
        assert_eq!(r.observe(250), None);
        assert_eq!(r.observe(250), Some(250));
        assert_eq!(r.observe(250), None);
        // A second stall reports only its own lines.
        assert_eq!(r.observe(260), None);
        assert_eq!(r.observe(261), None);
        assert_eq!(r.observe(261), Some(11));
        assert_eq!(r.observe(261), None);
    }

    #[test]
    fn error_chain_joins_the_sources() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] io::Error);
        let e = Outer(io::Error::other("inner"));
        assert_eq!(error_chain(&e), "outer: inner");
    }
}
