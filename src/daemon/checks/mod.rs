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
//! Layout: [`probe`] (one probe), [`state`] (rise and fall), [`board`]
//! (what the metrics read), [`runner`] (the ledger writes and the probe
//! loops); this module starts them.

mod board;
mod probe;
mod runner;
mod state;

pub use board::{CheckBoard, CheckView};
pub use probe::{CHECK_OUTPUT, parse_status_line, probe};
pub use state::{CheckState, HealthChange};

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::context::{KernelOpener, Settings};
use runner::{Runner, probe_loop};

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

/// The daemon's health-check task: run every `[[check]]` of the running
/// configuration until `shutdown`, restarting them on a reload.
pub async fn run_checks(mut ctx: ChecksContext) {
    loop {
        let (cfg, node) = {
            let s = ctx.settings.borrow_and_update();
            (s.config.clone(), s.node.clone())
        };
        let mut runner = Runner::start(
            cfg.clone(),
            node,
            ctx.open_kernel.clone(),
            ctx.board.clone(),
        )
        .await;
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
mod tests;
