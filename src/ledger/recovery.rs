//! The change protocol and its recovery (module doc of [`super`], "A
//! change, step by step" and "Recovery"): the transition from one ledger to
//! the next through the intent, and what a change interrupted by a crash
//! leaves behind, rolled forward or back.

use super::fault::Step;
use super::records::{BootStamp, Cause, Contribution, Intent, LedgerState};
use super::{
    BOOT_HOLD_WEIGHT, BootPolicy, INTENT_FILE, LEDGER_FILE, Ledger, LedgerError,
    MAINTENANCE_WEIGHT, now_secs,
};
use crate::kernel::Kernel;
use crate::model::DemotionDelta;
impl Ledger {
    /// Move the kernel by `after.total() - applied` and the ledger to
    /// `after` (module doc, steps 2-6). `applied` is what the kernel holds
    /// of carpctl's now: the ledger's total, or 0 after a reboot.
    pub(super) fn transition(
        &self,
        kernel: &mut dyn Kernel,
        applied: i64,
        mut after: LedgerState,
        seq: u64,
        stamp: BootStamp,
    ) -> Result<LedgerState, LedgerError> {
        after.seq = seq + 1;
        after.boot = stamp;
        let delta = i32::try_from(after.total() - applied).map_err(|_| LedgerError::Corrupt {
            path: self.path(LEDGER_FILE),
            detail: "the contributions do not fit the kernel's int".into(),
        })?;
        if delta != 0 {
            let before = i64::from(kernel.sysctls().map_err(LedgerError::Kernel)?.demotion);
            let intent = Intent {
                before,
                delta,
                boot: stamp,
                after: after.clone(),
            };
            self.write_json(INTENT_FILE, &intent, false)?;
            self.fault(Step::IntentWritten)?;
            if let Err(e) = kernel.adjust_demotion(DemotionDelta::new(delta)) {
                // A sysctl write that fails changes nothing.
                self.remove_intent()?;
                return Err(LedgerError::Kernel(e));
            }
            tracing::info!(
                "net.inet.carp.demotion {before:+} -> {:+} (carpctl {delta:+})",
                before + i64::from(delta)
            );
            self.fault(Step::KernelWritten)?;
        }
        self.write_json(LEDGER_FILE, &after, true)?;
        self.fault(Step::LedgerWritten)?;
        self.remove_intent()?;
        Ok(after)
    }

    /// Recovery and the new-boot transition (module doc). Returns the
    /// ledger whose contributions are in the kernel now; `None` when there
    /// is no ledger and nothing to record.
    pub(super) fn recover(
        &self,
        kernel: &mut dyn Kernel,
        policy: BootPolicy,
        stamp: BootStamp,
    ) -> Result<Option<LedgerState>, LedgerError> {
        let mut ledger = self.read_ledger()?;
        if let Some(intent) = self.read_intent(ledger.as_ref())? {
            let committed = ledger.as_ref().is_some_and(|l| l.seq >= intent.after.seq);
            if !committed && intent.boot.same_boot(stamp.boot_time, stamp.written_at) {
                let now = i64::from(kernel.sysctls().map_err(LedgerError::Kernel)?.demotion);
                if applied(&intent, now) {
                    tracing::info!(
                        "recovered an interrupted change: the kernel has it, so the ledger \
                         takes it (seq {})",
                        intent.after.seq
                    );
                    self.write_json(LEDGER_FILE, &intent.after, true)?;
                    ledger = Some(intent.after);
                } else {
                    tracing::info!(
                        "recovered an interrupted change: the kernel does not have it, so \
                         it is dropped"
                    );
                }
            }
            self.remove_intent()?;
        }
        match ledger {
            Some(l) if l.boot.same_boot(stamp.boot_time, stamp.written_at) => Ok(Some(l)),
            old => {
                // A new boot (or no ledger yet): the kernel holds nothing of
                // carpctl's.
                let mut after = LedgerState::empty(stamp);
                let mut seq = 0;
                if let Some(old) = old {
                    seq = old.seq;
                    after.contributions = old
                        .contributions
                        .into_iter()
                        .filter(|(c, _)| c.persistent())
                        .map(|(c, mut share)| {
                            // A stepped `maintenance on` cut short by the
                            // reboot: the node asked for maintenance, and
                            // at boot it is MASTER of nothing to hand over.
                            if c == Cause::Maintenance {
                                share.weight = MAINTENANCE_WEIGHT;
                            }
                            (c, share)
                        })
                        .collect();
                    tracing::info!(
                        "new boot: applying carpctl's persistent demotion again ({})",
                        after.total()
                    );
                }
                if policy.boot_hold {
                    after.contributions.insert(
                        Cause::BootHold,
                        Contribution {
                            weight: BOOT_HOLD_WEIGHT,
                            reason: Some("boot: waiting for every check to pass once".into()),
                            since: stamp.written_at,
                        },
                    );
                }
                if seq == 0 && after.contributions.is_empty() {
                    return Ok(None);
                }
                self.transition(kernel, 0, after, seq, stamp).map(Some)
            }
        }
    }

    pub(super) fn stamp(kernel: &mut dyn Kernel) -> Result<BootStamp, LedgerError> {
        Ok(BootStamp {
            boot_time: kernel.boot_time().map_err(LedgerError::Kernel)?,
            written_at: now_secs(),
        })
    }
}

/// Whether the kernel write of `intent` happened, given the demotion `now`
/// (module doc, Recovery): the nearer of the two explanations.
pub(super) fn applied(intent: &Intent, now: i64) -> bool {
    let x = now - intent.before;
    let delta = i64::from(intent.delta);
    if x != 0 && x != delta {
        tracing::warn!(
            "net.inet.carp.demotion changed by {x:+} since an interrupted carpctl change of \
             {delta:+}: someone else changed it meanwhile, so carpctl cannot tell whether its \
             change happened; assuming it {}",
            if (x - delta).abs() < x.abs() {
                "did"
            } else {
                "did not"
            }
        );
    }
    (x - delta).abs() < x.abs()
}
