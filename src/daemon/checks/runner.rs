//! The checks' runner: one probe loop per check sends each result to one
//! loop that owns the states and brings the ledger to what they say (a
//! failed check's weight in, a recovered one's out, the boot hold out once
//! every check has passed).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::board::{CheckBoard, CheckView};
use super::probe::probe;
use super::state::{CheckState, HealthChange};
use crate::config::{Check, Config};
use crate::daemon::context::KernelOpener;
use crate::ledger::{BootPolicy, Cause, Contribution, Ledger, LedgerError, now_secs};
use crate::logging::error_chain;

/// One probe result, sent by a probe loop.
pub(super) struct Outcome {
    name: String,
    result: Result<(), String>,
    /// When the probe ended.
    at: Instant,
}

/// A ledger operation for the loop to run on a blocking thread.
#[derive(Debug, Clone)]
pub(super) enum Op {
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
pub(super) async fn ledger_op(
    opener: &KernelOpener,
    cfg: &Arc<Config>,
    node: &str,
    op: Op,
) -> Result<BTreeMap<Cause, Contribution>, String> {
    let opener = opener.clone();
    let cfg = cfg.clone();
    let node = node.to_string();
    let task = tokio::task::spawn_blocking(move || {
        let mut kernel = opener()?;
        // A demotion change is a change of the host: take turns with
        // apply and maintenance (crate::hostlock), then the ledger's lock.
        let wait = crate::hostlock::wait().map_err(|e| e.to_string())?;
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
        let live = result.map_err(|e| error_chain(&e))?;
        // VRRP vhids are held by their priority, not by the demotion
        // (apply::hold); an error is retried with the op, which is
        // idempotent.
        let held = crate::apply::hold::holds_map(&live);
        crate::apply::hold::sync_node(k, &cfg, &node, held)?;
        Ok(live)
    });
    task.await
        .map_err(|e| format!("the ledger task failed: {e}"))?
}

/// The probe loop of one check: probe, report, wait for the next tick.
pub(super) async fn probe_loop(check: Check, tx: mpsc::Sender<Outcome>) {
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
pub(super) struct Runner {
    cfg: Arc<Config>,
    /// This node's name, whose VRRP vhids follow the ledger.
    node: String,
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
    pub(super) async fn start(
        cfg: Arc<Config>,
        node: String,
        opener: KernelOpener,
        board: Arc<CheckBoard>,
    ) -> Runner {
        let known = cfg.checks.iter().map(|c| c.name.clone()).collect();
        let live = match ledger_op(&opener, &cfg, &node, Op::Start { known }).await {
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
            node,
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

    pub(super) async fn handle(&mut self, o: Outcome) {
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
            (Some(HealthChange::Fell), Some(e)) => tracing::warn!(
                "check {} failed {} times (last: {e}): demoting this node by {}",
                o.name,
                check.fall,
                check.weight
            ),
            (Some(HealthChange::Rose), _) => tracing::info!(
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
            match ledger_op(&self.opener, &self.cfg, &self.node, op.clone()).await {
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
