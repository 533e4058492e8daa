//! Prometheus metrics of this node: the text exposition format (version
//! 0.0.4), written by hand — a handful of gauges and counters do not need a
//! client library in a system daemon.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `carpctl_vhid_state` | gauge, 1 for the current state | `vhid`, `interface`, `vip`, `state` (INIT, BACKUP, MASTER) |
//! | `carpctl_vhid_info` | gauge, always 1 | `vhid`, `interface`, `vip`, `protocol` (carp, vrrp) |
//! | `carpctl_vrrp_priority` | gauge: the VRRPv3 priority the kernel has (VRRP vhids only) | `vhid`, `interface`, `vip` |
//! | `carpctl_vrrp_interval_seconds` | gauge: the VRRPv3 advertisement interval (VRRP vhids only) | `vhid`, `interface`, `vip` |
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
//!
//! Layout: [`exposition`] renders a snapshot, [`textfile`] writes it,
//! [`listener`] serves it; this module gathers it and runs the task.

mod exposition;
mod listener;
mod textfile;

pub use exposition::render;
pub(crate) use textfile::write_textfile;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use super::checks::{CheckBoard, CheckView};
use super::context::{DaemonStats, KernelOpener, Settings};
use crate::config::Config;
use crate::hooks::{HookStats, VhidHookCounters};
use crate::ledger::{Ledger, Split};
use crate::logging::error_chain;
use crate::model::{CarpState, Protocol};
use listener::serve;

/// How often the snapshot is refreshed (and the textfile rewritten, which
/// keeps node_exporter's `node_textfile_mtime_seconds` fresh).
pub(crate) const REFRESH: Duration = Duration::from_secs(5);

/// One vhid of this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhidMetric {
    pub vhid: u8,
    pub interface: String,
    /// The VIP's name in the cluster file; empty for a vhid it does not
    /// describe.
    pub vip: String,
    pub state: CarpState,
    /// CARP or VRRPv3 (`carpctl_vhid_info`'s `protocol`).
    pub protocol: Protocol,
    /// VRRPv3 only: the priority the kernel has, and the interval in
    /// centiseconds.
    pub vrrp_priority: Option<u8>,
    pub vrrp_interval: Option<u16>,
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
pub(crate) struct MetricsContext {
    pub settings: watch::Receiver<Arc<Settings>>,
    pub shutdown: watch::Receiver<bool>,
    pub(crate) hook_stats: Arc<HookStats>,
    pub(crate) daemon_stats: Arc<DaemonStats>,
    pub checks: Arc<CheckBoard>,
    pub open_kernel: KernelOpener,
}

/// Gather a snapshot: the kernel parts on a blocking thread.
pub(crate) async fn gather(ctx: &MetricsContext, settings: &Arc<Settings>) -> Snapshot {
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
                protocol: v.protocol,
                vrrp_priority: v.vrrp_priority,
                vrrp_interval: v.vrrp_interval,
            })
            .collect::<Vec<_>>();
        let ledger = Ledger::for_host(k.as_ref(), &s.config);
        let split = ledger
            .split(k.as_mut())
            .map_err(|e| format!("cannot read the demotion: {}", error_chain(&e)));
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

/// The daemon's metrics task: refresh every [`REFRESH`], write the
/// textfile, serve the listener, following reloads, until shutdown.
pub(crate) async fn run_metrics(mut ctx: MetricsContext) {
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
mod tests;
