//! `carpctl watch [--json] [--devd-socket PATH] [--count N]`: print every
//! CARP transition as devd announces it, with the time it arrived, the VIP
//! name from the cluster file and the previous state.
//!
//! The cluster file is optional here (without one, and without `-c`, the
//! VIP is shown as `-`/`null`). The previous state is seeded from the
//! kernel when one is available (`--kernel`, or FreeBSD's own by default);
//! without one it is unknown (`?`/`null`) until the vhid's first event.
//! When devd comes back after going away, the kernel (if any) is read
//! again and each vhid whose state changed meanwhile is printed as a
//! `resync` transition.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::Args;
use serde::Serialize;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{mpsc, oneshot};

use super::{CliError, GlobalOpts, cluster};
use crate::events::client::{ConnectError, DevdClient, Item};
use crate::events::devd::DEFAULT_SOCKET;
use crate::events::{self, CarpEvent, Source, StateTracker, Transition};
use crate::hooks::HookTable;
use crate::kernel::Kernel;
use crate::model::{CarpState, Vhid};

/// Arguments of `carpctl watch`.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// One JSON object per line: {"time", "interface", "vhid", "state",
    /// "previous_state", "vip", "source"}
    #[arg(long)]
    pub json: bool,
    /// devd's SOCK_SEQPACKET socket
    #[arg(long, value_name = "PATH", default_value = DEFAULT_SOCKET)]
    pub(crate) devd_socket: PathBuf,
    /// Exit after N transitions (default: until interrupted)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
}

/// One transition as `--json` prints it.
#[derive(Serialize)]
struct JsonLine<'a> {
    time: String,
    interface: &'a str,
    vhid: Vhid,
    state: CarpState,
    previous_state: Option<CarpState>,
    vip: Option<&'a str>,
    source: &'static str,
}

/// Print one transition, human or JSON, and flush it (a reader of a pipe
/// wants each line when it happens).
fn print(
    out: &mut dyn Write,
    json: bool,
    t: &Transition,
    vip: Option<&str>,
) -> Result<(), CliError> {
    let time = events::format_time(t.time);
    if json {
        serde_json::to_writer(
            &mut *out,
            &JsonLine {
                time,
                interface: &t.event.interface,
                vhid: t.event.vhid,
                state: t.event.state,
                previous_state: t.previous,
                vip,
                source: t.source.as_str(),
            },
        )?;
        writeln!(out)?;
    } else {
        let how = match t.source {
            Source::Devd => String::new(),
            other => format!(" ({})", other.as_str()),
        };
        writeln!(
            out,
            "{time} {} {} {} -> {}{how}",
            t.event.subsystem(),
            vip.unwrap_or("-"),
            t.previous.map_or("?", CarpState::as_str),
            t.event.state
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The kernel to seed previous states from: the one asked for (an error
/// if it cannot be opened), else FreeBSD's own when on FreeBSD (a warning
/// if it cannot be opened), else none.
fn optional_kernel(global: &GlobalOpts) -> Result<Option<Box<dyn Kernel>>, CliError> {
    if global.kernel.is_some() {
        return global.open_kernel().map(Some);
    }
    if cfg!(target_os = "freebsd") {
        return Ok(match global.open_kernel() {
            Ok(k) => Some(k),
            Err(e) => {
                tracing::warn!("{e}; previous states are unknown until each vhid's first event");
                None
            }
        });
    }
    Ok(None)
}

/// `carpctl watch`.
///
/// Its lines do not go to `_out`: that holds the stdout lock, which cannot
/// leave this thread, and a `write(2)` to a pipe nobody reads must not stop
/// the event loop (signals included). They go to a duplicate of stdout,
/// written by a thread of its own ([`LineOut`]).
pub(crate) fn run(
    global: &GlobalOpts,
    args: &WatchArgs,
    _out: &mut dyn Write,
) -> Result<(), CliError> {
    let path = global.config_path();
    let table = if global.config.is_some() || path.exists() {
        let cfg = cluster::load(&path)?;
        let node = cluster::node(global, &cfg)?;
        HookTable::new(&cfg, &node)
    } else {
        HookTable::default()
    };
    let kernel = optional_kernel(global)?;
    let stdout = io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map(File::from)
        .map_err(CliError::Output)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the event loop: {e}")))?;
    rt.block_on(async {
        let lines = LineOut::spawn(Box::new(stdout)).map_err(CliError::Output)?;
        watch(args, &table, kernel, lines).await
    })
}

/// Lines waiting for a slow reader of stdout. When they are this many,
/// `watch` stops reading devd until the reader catches up (devd keeps
/// what it cannot send, or drops the connection, and the resync on
/// reconnection catches up), so memory stays bounded and no line is lost
/// while carpctl runs.
pub(crate) const OUT_QUEUE: usize = 1024;
/// How long the lines still queued may take to go out once `watch` is
/// told to stop.
pub(crate) const OUT_GRACE: Duration = Duration::from_secs(1);

/// stdout, written by a thread of its own: a reader that stops reading
/// blocks that thread, never the event loop.
struct LineOut {
    tx: mpsc::Sender<Vec<u8>>,
    /// The writer thread's end: `Err` with the first write error.
    done: oneshot::Receiver<io::Result<()>>,
}

impl LineOut {
    fn spawn(mut w: Box<dyn Write + Send>) -> io::Result<LineOut> {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(OUT_QUEUE);
        let (done_tx, done) = oneshot::channel();
        std::thread::Builder::new()
            .name("carpctl-watch-out".into())
            .spawn(move || {
                let mut result = Ok(());
                while let Some(line) = rx.blocking_recv() {
                    if let Err(e) = w.write_all(&line).and_then(|()| w.flush()) {
                        result = Err(e);
                        break;
                    }
                }
                let _ = done_tx.send(result);
            })?;
        Ok(LineOut { tx, done })
    }

    /// Queue `line`, waiting while the queue is full. `Err`: the writer
    /// stopped, with its error.
    async fn send(&mut self, line: Vec<u8>) -> Result<(), CliError> {
        if self.tx.send(line).await.is_ok() {
            return Ok(());
        }
        match (&mut self.done).await {
            Ok(Err(e)) => Err(CliError::Output(e)),
            Ok(Ok(())) | Err(_) => Err(CliError::Failed("the output thread stopped".into())),
        }
    }

    /// Let the writer finish what is queued: within `limit` if given (a
    /// reader that stopped reading does not hold up the exit).
    async fn finish(self, limit: Option<Duration>) -> Result<(), CliError> {
        drop(self.tx);
        let done = match limit {
            Some(limit) => match tokio::time::timeout(limit, self.done).await {
                Ok(done) => done,
                Err(_) => {
                    tracing::warn!(
                        "standard output is not being read: {} s after stopping, lines are \
                         still waiting; exiting without them",
                        limit.as_secs()
                    );
                    return Ok(());
                }
            },
            None => self.done.await,
        };
        match done {
            Ok(Err(e)) => Err(CliError::Output(e)),
            Ok(Ok(())) | Err(_) => Ok(()),
        }
    }
}

/// SIGTERM or SIGINT, whichever comes first.
async fn stop_signal(term: &mut Signal, int: &mut Signal) -> &'static str {
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

async fn watch(
    args: &WatchArgs,
    table: &HookTable,
    mut kernel: Option<Box<dyn Kernel>>,
    mut out: LineOut,
) -> Result<(), CliError> {
    let signal_err = |e| CliError::Failed(format!("cannot install a signal handler: {e}"));
    let mut term = signal(SignalKind::terminate()).map_err(signal_err)?;
    let mut int = signal(SignalKind::interrupt()).map_err(signal_err)?;

    let mut client = DevdClient::new(&args.devd_socket);
    match client.try_connect().await {
        Ok(()) => {}
        Err(e @ ConnectError::Unusable { .. }) => return Err(CliError::Usage(e.to_string())),
        Err(e) => tracing::warn!(
            "devd is not reachable at {}: {e}; waiting for it",
            args.devd_socket.display()
        ),
    }
    let mut tracker = StateTracker::new();
    if let Some(k) = kernel.as_deref_mut() {
        let vhids = k.all_vhids().map_err(CliError::kernel(
            "cannot read the current state of the vhids",
        ))?;
        tracker.seed(&vhids);
    }
    let vip_of = |e: &CarpEvent| table.get(&e.interface, e.vhid).map(|v| v.name.as_str());

    let mut printed: u64 = 0;
    loop {
        let mut batch = Vec::new();
        tokio::select! {
            item = client.next() => match item {
                Item::Connected { .. } => {
                    if let Some(k) = kernel.as_deref_mut() {
                        match k.all_vhids() {
                            Ok(vhids) => {
                                for (event, previous) in tracker.resync(&vhids) {
                                    batch.push((event, previous, Source::Resync));
                                }
                            }
                            Err(e) => tracing::warn!(
                                "cannot read the vhids to catch up on missed transitions: {e}"
                            ),
                        }
                    }
                }
                Item::Event(event) => {
                    let previous = tracker.observe(&event);
                    batch.push((event, previous, Source::Devd));
                }
            },
            _ = stop_signal(&mut term, &mut int) => return out.finish(Some(OUT_GRACE)).await,
        }
        for (event, previous, source) in batch {
            let t = Transition {
                event,
                previous,
                source,
                time: SystemTime::now(),
            };
            let mut line = Vec::new();
            print(&mut line, args.json, &t, vip_of(&t.event))?;
            tokio::select! {
                r = out.send(line) => r?,
                _ = stop_signal(&mut term, &mut int) => return out.finish(Some(OUT_GRACE)).await,
            }
            printed += 1;
            if args.count.is_some_and(|n| printed >= n) {
                // Every line out, unless told to stop meanwhile.
                return tokio::select! {
                    r = out.finish(None) => r,
                    _ = stop_signal(&mut term, &mut int) => Ok(()),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn t(source: Source, previous: Option<CarpState>) -> Transition {
        Transition {
            event: CarpEvent {
                vhid: Vhid::new(5).unwrap(),
                interface: "vlan0.100".into(),
                state: CarpState::Master,
            },
            previous,
            source,
            time: UNIX_EPOCH + Duration::from_millis(1_735_689_599_250),
        }
    }

    fn printed(json: bool, tr: &Transition, vip: Option<&str>) -> String {
        let mut out = Vec::new();
        print(&mut out, json, tr, vip).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn human_lines() {
        assert_eq!(
            printed(
                false,
                &t(Source::Devd, Some(CarpState::Backup)),
                Some("mail1")
            ),
            "2024-12-31T23:59:59.250Z 5@vlan0.100 mail1 BACKUP -> MASTER\n"
        );
        assert_eq!(
            printed(false, &t(Source::Resync, None), None),
            "2024-12-31T23:59:59.250Z 5@vlan0.100 - ? -> MASTER (resync)\n"
        );
    }

    #[test]
    fn json_lines() {
        let line = printed(true, &t(Source::Devd, Some(CarpState::Init)), Some("mail1"));
        assert!(
            line.ends_with('\n') && line.matches('\n').count() == 1,
            "{line}"
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "time": "2024-12-31T23:59:59.250Z",
                "interface": "vlan0.100",
                "vhid": 5,
                "state": "MASTER",
                "previous_state": "INIT",
                "vip": "mail1",
                "source": "devd",
            })
        );
        let v: serde_json::Value =
            serde_json::from_str(&printed(true, &t(Source::Devd, None), None)).unwrap();
        assert_eq!(v["previous_state"], serde_json::Value::Null);
        assert_eq!(v["vip"], serde_json::Value::Null);
    }
}
