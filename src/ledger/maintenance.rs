//! Maintenance as the ledger keeps it: the boot-time reconcile that
//! `carpctl apply` runs after configuring the vhids, the `state_dir` check
//! it runs before, and `maintenance on`/`off` as changes of the
//! [`Cause::Maintenance`] contribution. The command line only prints.

use super::{BootPolicy, Cause, Contribution, Ledger, LedgerError, MAINTENANCE_WEIGHT, now_secs};
use crate::config::Config;
use crate::kernel::Kernel;

/// Recover the ledger and, at a new boot, apply carpctl's persistent
/// demotion again (and the boot hold when configured): what `carpctl apply`
/// does after configuring the vhids, so that rc.d restores a maintenance
/// at boot. Nothing is created when there is no ledger and no boot hold.
pub(crate) fn reconcile_host(kernel: &mut dyn Kernel, cfg: &Config) -> Result<(), LedgerError> {
    let ledger = Ledger::for_host(kernel, cfg);
    ledger
        .reconcile(kernel, BootPolicy::from_config(cfg))
        .map(|_| ())
}

/// Check `state_dir` before a command changes anything: one that others
/// can write in is an error found before `apply` configures a vhid rather
/// than after.
pub(crate) fn check_state_dir(kernel: &dyn Kernel, cfg: &Config) -> Result<(), LedgerError> {
    Ledger::for_host(kernel, cfg).check_dir()
}

/// Put the node in maintenance ([`MAINTENANCE_WEIGHT`]) unless it already
/// is. Returns the contribution that was already there, if any (then
/// nothing changed).
pub(crate) fn maintenance_on(
    ledger: &Ledger,
    kernel: &mut dyn Kernel,
    policy: BootPolicy,
    reason: Option<String>,
) -> Result<Option<Contribution>, LedgerError> {
    let new = Contribution {
        weight: MAINTENANCE_WEIGHT,
        reason,
        since: now_secs(),
    };
    let (was, _) = ledger.update(kernel, policy, |c| match c.get(&Cause::Maintenance) {
        Some(existing) => Some(existing.clone()),
        None => {
            c.insert(Cause::Maintenance, new);
            None
        }
    })?;
    Ok(was)
}

/// Take back exactly the maintenance share. Returns it, or `None` when
/// maintenance was not on (then nothing changed).
pub(crate) fn maintenance_off(
    ledger: &Ledger,
    kernel: &mut dyn Kernel,
    policy: BootPolicy,
) -> Result<Option<Contribution>, LedgerError> {
    ledger.clear(kernel, policy, &Cause::Maintenance)
}
