//! The demotion ledger: carpctl's own contributions to
//! `net.inet.carp.demotion`, kept in `state_dir` (default
//! `/var/db/carpctl`) so that none is lost, doubled or stranded.
//!
//! # Why a ledger
//!
//! The demotion is one global, **additive** counter: a write adds the
//! written value (`carp_demote_adj()`, docs/freebsd-carp.md §7), and the kernel, the
//! ifdown and send-error logic, pfsync(4) and administrators all add to it.
//! Nothing in the kernel says who added what. carpctl adds for three causes
//! ([`Cause`]): maintenance (`carpctl maintenance on`, 240), each failing
//! health check (its `weight`), and the boot hold. To take back exactly its
//! own share it must remember it, across crashes, `kill -9`, restarts and
//! reboots. The ledger is that memory; "others" are whatever the kernel
//! holds beyond it: `demotion = sum(live contributions) + others`.
//!
//! # Files (all in `state_dir`)
//!
//! * `ledger.json`: the contributions, the boot they are applied in and a
//!   sequence number. Replaced atomically: a temporary file is written and
//!   `fsync(2)`ed, renamed over it, and the directory is `fsync`ed, so a
//!   crash or power loss leaves the old or the new ledger, never a mix.
//! * `intent.json`: the change in flight (write-ahead), present only between
//!   the two steps of a change. Renamed into place but not `fsync`ed: it is
//!   only needed while the kernel state it describes survives, i.e. without
//!   a reboot, and then the page cache has it (this keeps `fsync` out of the
//!   path between a check failing and the kernel write).
//! * `lock`: `flock(2)`ed exclusively for every change, so the daemon and
//!   the command line take turns; the kernel drops the lock when its holder
//!   dies, even by `kill -9`. Mode 0600, so only root can hold it.
//!
//! The directory must be trusted (owned by root or the user running
//! carpctl, not writable by group or others, nor any directory above it),
//! and its files are read without following links and written through
//! [`fsutil::write_atomic`]: whoever could write there could forge the
//! ledger or hold the lock.
//!
//! # A change, step by step
//!
//! Every change is a transition from the ledger `L` to a ledger `L'` with
//! sequence number `L.seq + 1`, moving the kernel by
//! `delta = sum(L') - sum(L)`:
//!
//! 1. lock; recover (below);
//! 2. read the demotion `D0`;
//! 3. write the intent `{before: D0, delta, after: L', boot}`;
//! 4. add `delta` to the kernel (one `sysctl` write; it happens or not);
//! 5. write `L'` as the ledger;
//! 6. remove the intent; unlock.
//!
//! A failed kernel write (EPERM, carp.ko not loaded) removes the intent and
//! changes nothing.
//!
//! # Recovery (at the start of every change and every reconcile)
//!
//! A crash can stop the change between any two steps. The next change
//! finds:
//!
//! * no intent: steps 1-2 or 6 were interrupted, the ledger is right;
//! * an intent whose `after.seq` is not above the ledger's: step 5 was
//!   done; the intent is removed;
//! * an intent not yet committed, in the same boot: whether step 4 happened
//!   is read off the kernel. The demotion is now `D`; if `D - before` is
//!   `delta`, it happened and `after` becomes the ledger (roll forward); if
//!   it is 0 it did not, and the ledger stays (roll back). Either way the
//!   kernel and the ledger agree again, so nothing is doubled or lost.
//!   This needs the demotion not to have been changed by others between
//!   step 2 and the recovery. If it was, `D - before` is neither value and
//!   carpctl cannot know; it takes the nearer explanation (a tie counts as
//!   not applied), logs a warning naming both numbers, and the difference
//!   shows up as "other" in `carpctl maintenance status`. The window is the
//!   time from a crash to the next carpctl command or daemon restart.
//! * an intent from an earlier boot: the kernel it was about is gone; it is
//!   removed.
//!
//! # Reboots
//!
//! A reboot resets the demotion to 0 while the ledger survives, so the
//! ledger records the boot its contributions are applied in. At the first
//! change or reconcile of a new boot (`carpctl apply` from rc.d, the
//! daemon's start), the persistent contributions (maintenance) are applied
//! again, per-boot ones (checks, the boot hold) are dropped — the daemon
//! judges the checks afresh — and, with `boot_hold = true`, the boot hold is
//! added: one transition from "nothing in the kernel" to that, with the
//! same intent protocol.
//!
//! A boot is identified by `kern.boottime` ([`Kernel::boot_time`]). The
//! kernel's estimate moves by a leap second or when the clock is stepped
//! (ntpd, `date`, a VM resume: `kern_tc.c`), so it is not compared for
//! equality. A boot differs from the recorded one when `kern.boottime`
//! moved by more than [`BOOT_SLACK`] seconds **and** either the new boot
//! began after the ledger was last written (a reboot with a sane clock), or
//! the uptime (`now - boottime`, which a clock step does not change) is
//! smaller than it was then. A step of the clock alone satisfies neither
//! unless it jumps forward by more than the uptime at the last write; every
//! write records the current `kern.boottime` again, so drift does not add
//! up.
//!
//! # Layout
//!
//! This module owns the [`Ledger`] and its operations; beside it,
//! `records` (what the files hold), `validate` (what carpctl can have
//! written there), `store` (the directory, the lock and the files),
//! `recovery` (the change protocol and its recovery) and `fault` (crash
//! injection for the tests).

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::fsutil::FsError;
use crate::kernel::{Kernel, KernelError};

mod fault;
mod maintenance;
mod records;
mod recovery;
mod store;
mod validate;

pub use fault::{FAULT_ENV, Step};
pub(crate) use maintenance::{check_state_dir, maintenance_off, maintenance_on, reconcile_host};
pub use records::{BootStamp, Cause, Contribution, LedgerState};
pub use validate::{Limits, REASON_MAX, reason_problem};

use records::{Intent, total};
use recovery::applied;

use crate::model::{BOOT_HOLD_WEIGHT, MAINTENANCE_WEIGHT};
/// How far `kern.boottime` may move within one boot (a leap second, the
/// rounding of its microseconds) before a reboot is considered.
pub(crate) const BOOT_SLACK: i64 = 2;
/// The ledger file's name in `state_dir`.
pub const LEDGER_FILE: &str = "ledger.json";
/// The intent file's name.
pub const INTENT_FILE: &str = "intent.json";
/// The lock file's name.
pub const LOCK_FILE: &str = "lock";
/// The largest `ledger.json` or `intent.json` read. carpctl writes a few
/// hundred bytes per contribution; this leaves room for thousands of
/// checks and keeps a damaged or hostile file from filling the memory.
pub(crate) const FILE_MAX: u64 = 1 << 20;
/// How long a change waits for another one to finish.
const LOCK_WAIT: Duration = Duration::from_secs(10);
/// The ledger format.
const VERSION: u32 = 1;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{}: {what}: {source}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: io::Error,
    },
    #[error(
        "{}: {detail}; carpctl will not guess its share of the demotion: restore the \
         file, or remove it (its contributions then count as \"other\" and must be \
         taken back by hand with sysctl net.inet.carp.demotion=-N)",
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },
    /// A file or directory of the ledger: untrusted (owner, mode), not a
    /// regular file, a link, or the lock held beyond [`LOCK_WAIT`].
    #[error(transparent)]
    Fs(#[from] FsError),
    /// A value carpctl never writes ([`validate`]): refused, not acted on.
    #[error(
        "{}: {field} is {value}, but carpctl writes {expected} there; the file was not \
         written by carpctl as it is (edited, damaged or forged), so carpctl will not act on \
         it and changed nothing: {}",
        path.display(),
        validate::remedy(path)
    )]
    Invalid {
        path: PathBuf,
        /// Where in the file, as a JSON path (`contributions.maintenance.weight`).
        field: String,
        /// The value found, escaped.
        value: String,
        /// What carpctl writes there.
        expected: String,
    },
    #[error("cannot change net.inet.carp.demotion")]
    Kernel(#[source] KernelError),
    /// The fault hook stopped the change after `step`, as a crash would.
    #[error("change interrupted after step {} (fault injected)", .0.name())]
    Injected(Step),
}

type FaultHook = Arc<dyn Fn(Step) -> bool + Send + Sync>;

/// The ledger in one directory. Cheap to create; every operation locks,
/// reads and writes the files afresh, so several handles and processes can
/// share a directory.
#[derive(Clone)]
pub struct Ledger {
    dir: PathBuf,
    /// What the files may hold ([`Limits`]).
    limits: Limits,
    fault: Option<FaultHook>,
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger").field("dir", &self.dir).finish()
    }
}

/// What [`Ledger::reconcile`] and every change do at a new boot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BootPolicy {
    /// Add the boot hold ([`BOOT_HOLD_WEIGHT`]) at a new boot.
    pub boot_hold: bool,
}

/// The kernel's demotion split by cause, for `maintenance status` and the
/// metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Split {
    /// `net.inet.carp.demotion` now.
    pub total: i64,
    /// carpctl's contributions that are in the kernel.
    pub shares: BTreeMap<Cause, Contribution>,
    /// Everything else: ifdown, send errors, pfsync(4), manual changes.
    pub other: i64,
    /// Contributions recorded in an earlier boot and not yet applied again
    /// (until `carpctl apply` or the daemon runs after a reboot).
    pub not_applied: BTreeMap<Cause, Contribution>,
    /// An interrupted change waits for recovery (by the next change).
    pub pending: bool,
}

impl BootPolicy {
    /// The cluster file's: the boot hold when `boot_hold = true` and there
    /// is at least one check to wait for.
    pub(crate) fn from_config(cfg: &crate::config::Config) -> Self {
        BootPolicy {
            boot_hold: cfg.cluster.boot_hold && !cfg.checks.is_empty(),
        }
    }
}

/// Where the ledger of `kernel`'s host lives: `state_dir`, inside the
/// emulated host's own root (`PATH.root`) for an emulated host.
pub(crate) fn ledger_dir(kernel: &dyn Kernel, state_dir: &Path) -> PathBuf {
    crate::kernel::host_path(kernel, state_dir)
}

/// Seconds since the Epoch (0 before 1970).
pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Ledger {
    /// The ledger in `dir`, checked against the bounds that hold for any
    /// cluster file ([`Limits::default`]).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Ledger {
            dir: dir.into(),
            limits: Limits::default(),
            fault: None,
        }
    }

    /// The ledger of `kernel`'s host for the cluster file `cfg`
    /// ([`ledger_dir`]), checked against `cfg`'s checks too.
    pub(crate) fn for_host(kernel: &dyn Kernel, cfg: &crate::config::Config) -> Self {
        Ledger {
            limits: Limits::from_config(cfg),
            ..Ledger::new(ledger_dir(kernel, &cfg.cluster.state_dir))
        }
    }

    /// A test hook: `hook(step)` returning true stops the change right after
    /// `step`, leaving the files and the kernel as a crash there would (the
    /// lock is released, as the kernel releases a dead process's lock).
    #[doc(hidden)]
    pub fn with_fault(mut self, hook: impl Fn(Step) -> bool + Send + Sync + 'static) -> Self {
        self.fault = Some(Arc::new(hook));
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn io(&self, name: &str, what: &'static str) -> impl FnOnce(io::Error) -> LedgerError {
        let path = self.path(name);
        move |source| LedgerError::Io { path, what, source }
    }

    /// Recover, and at a new boot apply the persistent contributions again
    /// (and the boot hold per `policy`). What `carpctl apply` runs (rc.d at
    /// boot) and the daemon at start. Returns the live contributions.
    pub fn reconcile(
        &self,
        kernel: &mut dyn Kernel,
        policy: BootPolicy,
    ) -> Result<BTreeMap<Cause, Contribution>, LedgerError> {
        self.check_dir()?;
        let nothing_recorded = !self.path(LEDGER_FILE).exists() && !self.path(INTENT_FILE).exists();
        if nothing_recorded && !policy.boot_hold {
            // Not even the state directory is created for nothing.
            return Ok(BTreeMap::new());
        }
        let _lock = self.lock()?;
        let stamp = Self::stamp(kernel)?;
        let l = self.recover(kernel, policy, stamp)?;
        self.fault(Step::Locked)?;
        Ok(l.map(|l| l.contributions).unwrap_or_default())
    }

    /// Change the contributions with `f` (after recovery), moving the
    /// kernel by the difference. `f` sees the live contributions; its
    /// result is returned with the contributions after the change.
    pub fn update<R>(
        &self,
        kernel: &mut dyn Kernel,
        policy: BootPolicy,
        f: impl FnOnce(&mut BTreeMap<Cause, Contribution>) -> R,
    ) -> Result<(R, BTreeMap<Cause, Contribution>), LedgerError> {
        let _lock = self.lock()?;
        let stamp = Self::stamp(kernel)?;
        let current = self.recover(kernel, policy, stamp)?;
        self.fault(Step::Locked)?;
        let (applied, seq, mut after) = match current {
            Some(l) => (l.total(), l.seq, l),
            None => (0, 0, LedgerState::empty(stamp)),
        };
        let unchanged = after.contributions.clone();
        let r = f(&mut after.contributions);
        if after.contributions == unchanged {
            return Ok((r, unchanged));
        }
        let after = self.transition(kernel, applied, after, seq, stamp)?;
        Ok((r, after.contributions))
    }

    /// Add (or replace) one contribution.
    pub fn set(
        &self,
        kernel: &mut dyn Kernel,
        policy: BootPolicy,
        cause: Cause,
        contribution: Contribution,
    ) -> Result<(), LedgerError> {
        self.update(kernel, policy, |c| {
            c.insert(cause, contribution);
        })
        .map(|_| ())
    }

    /// Take one contribution back; returns it, `None` if there was none.
    pub fn clear(
        &self,
        kernel: &mut dyn Kernel,
        policy: BootPolicy,
        cause: &Cause,
    ) -> Result<Option<Contribution>, LedgerError> {
        self.update(kernel, policy, |c| c.remove(cause))
            .map(|(r, _)| r)
    }

    /// The kernel's demotion split by cause. Changes nothing: an
    /// interrupted change is shown as it will be recovered, and after a
    /// reboot the contributions not applied yet are listed apart.
    pub fn split(&self, kernel: &mut dyn Kernel) -> Result<Split, LedgerError> {
        self.check_dir()?;
        let _lock = self.read_lock();
        let total = i64::from(kernel.sysctls().map_err(LedgerError::Kernel)?.demotion);
        let boot_time = kernel.boot_time().map_err(LedgerError::Kernel)?;
        let now = now_secs();
        let mut ledger = self.read_ledger()?;
        let mut pending = false;
        let intent = match self.read_json::<Intent>(INTENT_FILE) {
            Ok(Some(i)) => {
                self.limits
                    .intent(&self.path(INTENT_FILE), &i, ledger.as_ref())?;
                Some(i)
            }
            // A torn write (the next change drops it: read_intent), or
            // unreadable: shown as nothing pending, as before.
            Ok(None) | Err(_) => None,
        };
        if let Some(intent) = intent {
            let committed = ledger.as_ref().is_some_and(|l| l.seq >= intent.after.seq);
            if !committed && intent.boot.same_boot(boot_time, now) {
                pending = true;
                if applied(&intent, total) {
                    ledger = Some(intent.after);
                }
            }
        }
        let (shares, not_applied) = match ledger {
            Some(l) if l.boot.same_boot(boot_time, now) => (l.contributions, BTreeMap::new()),
            Some(l) => (BTreeMap::new(), l.contributions),
            None => (BTreeMap::new(), BTreeMap::new()),
        };
        Ok(Split {
            total,
            other: total - self::total(&shares),
            shares,
            not_applied,
            pending,
        })
    }
}

#[cfg(test)]
mod tests;
