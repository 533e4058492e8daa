//! `carpctl daemon`: the long-running process that follows CARP transitions
//! and runs the cluster file's hooks.
//!
//! What it does, in order:
//!
//! 1. Install the signal handlers (SIGHUP must never kill it: its default
//!    action would).
//! 2. Connect to devd (`/var/run/devd.seqpacket.pipe`) *before* reading the
//!    kernel, so that a transition racing the start is not lost; devd
//!    missing is not fatal (the client retries with backoff).
//! 3. Read every vhid from the kernel, seed the previous states, and
//!    **replay** each vhid's current state to its hook (`CARP_EVENT=replay`):
//!    a MASTER reached during boot, before the daemon ran, still runs
//!    `on_master`.
//! 4. Start the extensions ([`start_extensions`]).
//! 5. Loop: each devd transition runs its hook through the [`HookRunner`]
//!    (per vhid, in order); each (re)connection to devd **resyncs** with the
//!    kernel (a vhid whose state differs from the last one seen runs its
//!    hook, `CARP_EVENT=resync`), because a client that was not connected
//!    when devd delivered an event never gets it; SIGHUP reloads the
//!    cluster file (validated first: an invalid file is reported and the
//!    running configuration kept); SIGTERM or SIGINT stops.
//! 6. On stop: the shutdown signal goes to the extensions, running hooks
//!    finish (each within its timeout), waiting ones are dropped.
//!
//! The runtime is tokio's current-thread one: the loop holds the kernel
//! handle (`Box<dyn Kernel>`, not `Send`) and does little work itself, and
//! hook processes run concurrently anyway. Tasks spawned by extensions run
//! on the same thread, so **blocking work (kernel calls, file I/O) belongs
//! in `tokio::task::spawn_blocking`**.
//!
//! Layout: this module is the run loop; [`context`] holds what it shares
//! with the extensions it starts, [`checks`] (health checks) and
//! [`metrics`], which depend on [`context`] only.

pub mod checks;
pub(crate) mod context;
pub mod metrics;

pub use context::{DaemonStats, ExtensionContext, KernelOpener, Settings, load_settings};

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::events::client::{ConnectError, DevdClient, Item};
use crate::events::{self, CarpEvent, Source, StateTracker, Transition};
use crate::hooks::{HookRunner, HookStats, Submitted};
use crate::kernel::Kernel;
use crate::logging::error_chain;
use crate::model::CarpState;

/// **The extension point.** Start the daemon's extensions and return their
/// tasks; the daemon calls it once, after the replay, from inside its
/// runtime (so `tokio::spawn` works here).
///
/// Contract for what is started here:
/// * watch `ctx.shutdown` and return when it becomes `true`: the daemon
///   waits up to [`EXTENSION_STOP_GRACE`] for the returned tasks, then
///   abandons them;
/// * follow `ctx.settings` for reloads (it only ever holds a validated
///   configuration);
/// * never block the runtime thread: use `spawn_blocking` for kernel calls.
pub(crate) fn start_extensions(ctx: &ExtensionContext) -> Vec<JoinHandle<()>> {
    // Health checks and metrics (issue 5, part 2): the checks demote
    // through the ledger, the metrics read their board.
    let board = Arc::new(checks::CheckBoard::new());
    let checks = checks::ChecksContext {
        settings: ctx.settings.clone(),
        shutdown: ctx.shutdown.clone(),
        open_kernel: ctx.open_kernel.clone(),
        board: board.clone(),
    };
    let metrics = metrics::MetricsContext {
        settings: ctx.settings.clone(),
        shutdown: ctx.shutdown.clone(),
        hook_stats: ctx.hook_stats.clone(),
        daemon_stats: ctx.daemon_stats.clone(),
        checks: board,
        open_kernel: ctx.open_kernel.clone(),
    };
    vec![
        tokio::spawn(checks::run_checks(checks)),
        tokio::spawn(metrics::run_metrics(metrics)),
        tokio::spawn(crate::logging::report_dropped(ctx.shutdown.clone())),
    ]
}

/// How long the daemon waits for its extensions to stop.
pub(crate) const EXTENSION_STOP_GRACE: Duration = Duration::from_secs(5);

/// What the daemon needs to run.
pub struct DaemonOptions {
    /// The cluster file (re-read on SIGHUP).
    pub(crate) config_path: PathBuf,
    /// `--node` / `CARPCTL_NODE`, re-applied on reload.
    pub node: Option<String>,
    /// devd's SOCK_SEQPACKET socket.
    pub(crate) devd_socket: PathBuf,
    /// For the extensions.
    pub open_kernel: KernelOpener,
}

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot start the event loop: {0}")]
    Runtime(#[source] io::Error),
    #[error("cannot install the {signal} handler: {source}")]
    Signal {
        signal: &'static str,
        #[source]
        source: io::Error,
    },
    /// `--devd-socket` names something that can never be devd's socket.
    #[error(transparent)]
    Devd(ConnectError),
}

/// Run the daemon in the foreground until SIGTERM or SIGINT, with the
/// already validated `settings` and the kernel handle `kernel`.
pub fn run(
    opts: DaemonOptions,
    settings: Settings,
    kernel: Box<dyn Kernel>,
) -> Result<(), DaemonError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)?;
    rt.block_on(run_async(opts, settings, kernel))
}

/// [`run`], inside a runtime the caller provides (tests and benchmarks).
pub(crate) async fn run_async(
    opts: DaemonOptions,
    settings: Settings,
    kernel: Box<dyn Kernel>,
) -> Result<(), DaemonError> {
    let sig = |kind: SignalKind, name: &'static str| {
        signal(kind).map_err(|source| DaemonError::Signal {
            signal: name,
            source,
        })
    };
    let mut hup = sig(SignalKind::hangup(), "SIGHUP")?;
    let mut term = sig(SignalKind::terminate(), "SIGTERM")?;
    let mut int = sig(SignalKind::interrupt(), "SIGINT")?;

    let hook_stats = Arc::new(HookStats::new());
    let client = DevdClient::new(&opts.devd_socket);
    let daemon_stats = Arc::new(DaemonStats {
        devd: client.counters(),
        ..DaemonStats::default()
    });
    let settings = Arc::new(settings);
    let (settings_tx, settings_rx) = watch::channel(settings.clone());
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut d = Daemon {
        config_path: opts.config_path,
        node: opts.node,
        runner: HookRunner::new(settings.hooks.clone(), hook_stats.clone()),
        settings_tx,
        kernel,
        tracker: StateTracker::new(),
        client,
        stats: daemon_stats.clone(),
    };
    tracing::info!(
        "carpctl daemon: node {}, {} from {}, devd at {}",
        settings.node,
        vips(settings.hooks.len()),
        d.config_path.display(),
        d.client.path().display()
    );

    match d.client.try_connect().await {
        Ok(()) => {}
        Err(e @ ConnectError::Unusable { .. }) => return Err(DaemonError::Devd(e)),
        Err(e) => tracing::warn!(
            "devd is not reachable at {}: {e}; its events will be read once it is",
            d.client.path().display()
        ),
    }
    d.seed_and_replay();

    let extensions = start_extensions(&ExtensionContext {
        settings: settings_rx,
        shutdown: shutdown_rx,
        hook_stats,
        daemon_stats,
        open_kernel: opts.open_kernel,
    });

    loop {
        tokio::select! {
            item = d.client.next() => d.handle(item),
            _ = hup.recv() => d.reload(),
            _ = term.recv() => {
                tracing::info!("SIGTERM: stopping");
                break;
            }
            _ = int.recv() => {
                tracing::info!("SIGINT: stopping");
                break;
            }
        }
    }

    let _ = shutdown_tx.send(true);
    d.runner.shutdown().await;
    for task in extensions {
        let abort = task.abort_handle();
        if tokio::time::timeout(EXTENSION_STOP_GRACE, task)
            .await
            .is_err()
        {
            tracing::warn!(
                "an extension did not stop within {} s; abandoning it",
                EXTENSION_STOP_GRACE.as_secs()
            );
            abort.abort();
        }
    }
    tracing::info!("carpctl daemon stopped");
    Ok(())
}

struct Daemon {
    config_path: PathBuf,
    node: Option<String>,
    runner: HookRunner,
    settings_tx: watch::Sender<Arc<Settings>>,
    kernel: Box<dyn Kernel>,
    tracker: StateTracker,
    client: DevdClient,
    stats: Arc<DaemonStats>,
}

impl Daemon {
    fn handle(&mut self, item: Item) {
        match item {
            Item::Connected { .. } => self.resync(),
            Item::Event(event) => {
                let previous = self.tracker.observe(&event);
                self.transition(event, previous, Source::Devd);
            }
        }
    }

    /// Log one transition and hand it to its hook.
    fn transition(&mut self, event: CarpEvent, previous: Option<CarpState>, source: Source) {
        self.stats.transitions.fetch_add(1, Ordering::Relaxed);
        let vip = self
            .runner
            .table()
            .get(&event.interface, event.vhid)
            .map_or_else(|| "no VIP".to_string(), |v| v.name.clone());
        let from = previous.map_or("?", CarpState::as_str);
        let how = match source {
            Source::Devd => String::new(),
            other => format!(" ({})", other.as_str()),
        };
        tracing::info!(
            "{} ({vip}): {from} -> {}{how}",
            event.subsystem(),
            event.state
        );
        let t = Transition {
            event,
            previous,
            source,
            time: SystemTime::now(),
        };
        match self.runner.submit(t) {
            Submitted::Queued | Submitted::NoHook | Submitted::Coalesced { .. } => {}
            Submitted::NoVip => tracing::debug!("not in the cluster file: no hook"),
        }
    }

    /// Read the kernel, seed the previous states, replay every vhid.
    fn seed_and_replay(&mut self) {
        let vhids = match self.kernel.all_vhids() {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(
                    "cannot read the current state of the vhids: {}; hooks are not replayed \
                     now (they will be when devd (re)connects and the kernel answers)",
                    error_chain(&e)
                );
                return;
            }
        };
        self.tracker.seed(&vhids);
        for v in vhids {
            let event = CarpEvent {
                vhid: v.vhid,
                interface: v.interface,
                state: v.state,
            };
            self.transition(event, None, Source::Replay);
        }
    }

    /// After devd (re)connects: run the hook of each vhid whose state
    /// changed unseen.
    fn resync(&mut self) {
        let vhids = match self.kernel.all_vhids() {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(
                    "devd connected, but the vhids cannot be read to catch up on missed \
                     transitions: {}",
                    error_chain(&e)
                );
                return;
            }
        };
        for (event, previous) in self.tracker.resync(&vhids) {
            self.transition(event, previous, Source::Resync);
        }
    }

    /// SIGHUP: load and validate the cluster file; switch to it only if it
    /// is valid.
    fn reload(&mut self) {
        let path = crate::text::escape(&self.config_path.to_string_lossy()).to_string();
        tracing::info!("SIGHUP: reloading {path}");
        match load_settings(&self.config_path, self.node.as_deref()) {
            Ok(new) => {
                for w in &new.config.warnings {
                    tracing::warn!("{w}");
                }
                let (node, count) = (new.node.clone(), new.hooks.len());
                self.runner.set_table(new.hooks.clone());
                self.settings_tx.send_replace(Arc::new(new));
                self.stats.reloads.fetch_add(1, Ordering::Relaxed);
                // Said once the new file is in force, not before.
                tracing::info!("reloaded {path}: node {node}, {}", vips(count));
            }
            Err(diags) => {
                self.stats.reload_failures.fetch_add(1, Ordering::Relaxed);
                let errors = diags.iter().filter(|d| d.is_error()).count();
                let loaded = events::format_time(self.settings_tx.borrow().loaded_at);
                tracing::error!(
                    "reload refused: {path} has {errors} error{}; still running with the \
                     configuration loaded at {loaded}",
                    if errors == 1 { "" } else { "s" }
                );
                for d in &diags {
                    if d.is_error() {
                        tracing::error!("{d}");
                    } else {
                        tracing::warn!("{d}");
                    }
                }
            }
        }
    }
}

fn vips(n: usize) -> String {
    format!("{n} VIP{}", if n == 1 { "" } else { "s" })
}
