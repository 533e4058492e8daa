//! The stepped `maintenance on` itself (see the module above).

use std::collections::BTreeSet;
use std::time::Duration;

use super::{hand_over_vrrp, handover_weight, mastered, wait_until_left};
use crate::config::Config;
use crate::kernel::{Kernel, KernelError};
use crate::ledger::{BootPolicy, Cause, Contribution, Ledger, LedgerError, maintenance_set};
use crate::model::MAINTENANCE_WEIGHT;

/// What a stepped `maintenance on` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnOutcome {
    /// Maintenance was fully on already: nothing changed.
    pub already: Option<Contribution>,
    /// The first step's weight, when this run or an earlier one cut short
    /// handed VIPs over before the full weight.
    pub step: Option<u16>,
    /// The VIPs that were MASTER here before the full weight.
    pub handed: BTreeSet<String>,
    /// The VRRP priorities the first step set, as
    /// `vhid 1@em0 (v): priority 200 -> 99`.
    pub vrrp: Vec<String>,
    /// Those still MASTER when the wait ended: the full weight moved them
    /// (all at once, as a one-step maintenance does).
    pub timed_out: BTreeSet<String>,
}

/// What can stop a stepped `maintenance on`.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("cannot read the vhids")]
    Kernel(#[source] KernelError),
    #[error("cannot resolve this node's VIPs: {0}")]
    Config(String),
}

/// `maintenance on` in steps, for node `node` of `cfg`: hand each VIP this
/// node is MASTER of to its next rank ([`handover_weight`]), wait up to
/// `wait` for them to leave MASTER here, then take the full
/// [`MAINTENANCE_WEIGHT`]. A share below the full weight found in the
/// ledger is a run cut short after step 1: it goes on from step 2. `wait`
/// zero is the one-step procedure (the full weight at once).
#[allow(clippy::too_many_arguments)]
pub fn stepped_on(
    ledger: &Ledger,
    kernel: &mut dyn Kernel,
    policy: BootPolicy,
    cfg: &Config,
    node: &str,
    reason: Option<String>,
    wait: Duration,
    sleep: &mut dyn FnMut(Duration),
) -> Result<OnOutcome, StepError> {
    let existing = ledger.split(kernel)?.shares.remove(&Cause::Maintenance);
    if let Some(e) = existing.as_ref().filter(|e| e.weight >= MAINTENANCE_WEIGHT) {
        return Ok(OnOutcome {
            already: Some(e.clone()),
            ..OnOutcome::default()
        });
    }
    let mut out = OnOutcome::default();
    if !wait.is_zero() {
        let before = mastered(kernel, cfg, node)?;
        let step = match existing {
            Some(e) => Some(e.weight),
            None => {
                let demotion = kernel.sysctls().map_err(StepError::Kernel)?.demotion;
                let plan = cfg.plan().map_err(|e| StepError::Config(e.to_string()))?;
                let w = handover_weight(&plan, node, &before, demotion);
                if let Some(w) = w {
                    tracing::info!(
                        "maintenance on, step 1: demoting by {w} to hand {} to the next rank",
                        names(&before)
                    );
                    maintenance_set(ledger, kernel, policy, w, reason.clone())?;
                }
                // VRRP is not demoted: its step is a priority, written
                // after the ledger's step, and put right (to the
                // maintenance priority) by the sync after the last step
                // or, after a kill -9, by the next command (apply::hold).
                out.vrrp = hand_over_vrrp(kernel, cfg, node, &plan, &before)?;
                w
            }
        };
        if step.is_some() || !out.vrrp.is_empty() {
            out.step = step;
            out.handed = before;
            out.timed_out = wait_until_left(|| mastered(kernel, cfg, node), wait, sleep)?;
            if !out.timed_out.is_empty() {
                tracing::warn!(
                    "maintenance on: {} still MASTER here after {}s; demoting fully anyway",
                    names(&out.timed_out),
                    wait.as_secs_f64()
                );
            }
        }
    }
    maintenance_set(ledger, kernel, policy, MAINTENANCE_WEIGHT, reason)?;
    Ok(out)
}

pub(crate) fn names(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}
