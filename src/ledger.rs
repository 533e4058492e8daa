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

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fsutil::{self, DirRule, Durability, FsError, Lock};
use crate::kernel::{Kernel, KernelError};
use crate::model::DemotionDelta;

mod validate;

pub use validate::{Limits, REASON_MAX, reason_problem};

/// What `carpctl maintenance on` adds: `CARP_MAXSKEW`, the most any vhid
/// can be demoted (docs/freebsd-carp.md §8), so every VIP moves to a node that is
/// not in maintenance.
pub const MAINTENANCE_WEIGHT: u16 = crate::config::MAX_WEIGHT;
/// What the boot hold adds, for the same reason.
pub const BOOT_HOLD_WEIGHT: u16 = crate::config::MAX_WEIGHT;
/// How far `kern.boottime` may move within one boot (a leap second, the
/// rounding of its microseconds) before a reboot is considered.
pub const BOOT_SLACK: i64 = 2;
/// The ledger file's name in `state_dir`.
pub const LEDGER_FILE: &str = "ledger.json";
/// The intent file's name.
pub const INTENT_FILE: &str = "intent.json";
/// The lock file's name.
pub const LOCK_FILE: &str = "lock";
/// The largest `ledger.json` or `intent.json` read. carpctl writes a few
/// hundred bytes per contribution; this leaves room for thousands of
/// checks and keeps a damaged or hostile file from filling the memory.
pub const FILE_MAX: u64 = 1 << 20;
/// How long a change waits for another one to finish.
const LOCK_WAIT: Duration = Duration::from_secs(10);
/// The ledger format.
const VERSION: u32 = 1;
/// The environment variable that makes carpctl kill itself with SIGKILL
/// at a step of a change (see [`Step`]): a test aid for a real `kill -9`.
pub const FAULT_ENV: &str = "CARPCTL_LEDGER_KILL_AT";

/// Why carpctl demotes this node.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// `carpctl maintenance on`; survives reboots.
    Maintenance,
    /// `[cluster] boot_hold`: until every check has passed once.
    BootHold,
    /// A failing `[[check]]`, by name.
    Check(String),
}

impl Cause {
    /// The key in the ledger file and in JSON output: `maintenance`,
    /// `boot_hold`, `check:NAME`.
    pub fn key(&self) -> String {
        match self {
            Cause::Maintenance => "maintenance".into(),
            Cause::BootHold => "boot_hold".into(),
            Cause::Check(n) => format!("check:{n}"),
        }
    }

    pub fn parse(key: &str) -> Option<Cause> {
        match key {
            "maintenance" => Some(Cause::Maintenance),
            "boot_hold" => Some(Cause::BootHold),
            _ => key
                .strip_prefix("check:")
                .filter(|n| !n.is_empty())
                .map(|n| Cause::Check(n.to_string())),
        }
    }

    /// Whether the contribution is applied again after a reboot. Only
    /// maintenance is: a check is judged afresh by the daemon, and the boot
    /// hold is added anew at each boot when configured.
    pub fn persistent(&self) -> bool {
        matches!(self, Cause::Maintenance)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Maintenance => f.write_str("maintenance"),
            Cause::BootHold => f.write_str("boot hold"),
            Cause::Check(n) => write!(f, "check {n}"),
        }
    }
}

impl Serialize for Cause {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for Cause {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let key = String::deserialize(d)?;
        Cause::parse(&key).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown cause {key:?} (maintenance, boot_hold or check:NAME)"
            ))
        })
    }
}

/// One contribution to the demotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    /// What was added to `net.inet.carp.demotion` (and is taken back).
    pub weight: u16,
    /// Why (`maintenance on --reason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was added, seconds since the Epoch.
    pub since: i64,
}

/// The boot a record belongs to: `kern.boottime` and the wall clock when it
/// was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootStamp {
    pub boot_time: i64,
    pub written_at: i64,
}

impl BootStamp {
    /// Whether a kernel that now reports `boot_time`, at wall-clock `now`,
    /// is still in the boot this stamp was taken in (module doc, Reboots).
    pub fn same_boot(&self, boot_time: i64, now: i64) -> bool {
        let moved = boot_time.abs_diff(self.boot_time) > BOOT_SLACK.unsigned_abs();
        if !moved {
            return true;
        }
        let began_after_write = boot_time > self.written_at.saturating_add(BOOT_SLACK);
        let uptime_then = self.written_at.saturating_sub(self.boot_time);
        let uptime_now = now.saturating_sub(boot_time);
        let uptime_went_back = uptime_now.saturating_add(BOOT_SLACK) < uptime_then;
        !(began_after_write || uptime_went_back)
    }
}

/// The ledger's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerState {
    pub version: u32,
    /// Incremented by every change.
    pub seq: u64,
    /// The boot the contributions are applied in.
    pub boot: BootStamp,
    pub contributions: BTreeMap<Cause, Contribution>,
}

impl LedgerState {
    fn empty(boot: BootStamp) -> Self {
        LedgerState {
            version: VERSION,
            seq: 0,
            boot,
            contributions: BTreeMap::new(),
        }
    }

    /// The sum of the contributions.
    pub fn total(&self) -> i64 {
        total(&self.contributions)
    }
}

fn total(c: &BTreeMap<Cause, Contribution>) -> i64 {
    c.values().map(|c| i64::from(c.weight)).sum()
}

/// The change in flight (module doc, step 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Intent {
    /// `net.inet.carp.demotion` just before the kernel write.
    before: i64,
    delta: i32,
    boot: BootStamp,
    after: LedgerState,
}

/// A step of a change after which a crash is simulated by the fault hook
/// ([`Ledger::with_fault`]) or a real `kill -9` ([`FAULT_ENV`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// The lock is held, recovery done, nothing written.
    Locked,
    /// The intent is written; the kernel not yet changed.
    IntentWritten,
    /// The kernel is changed; the ledger not yet.
    KernelWritten,
    /// The ledger is written; the intent not yet removed.
    LedgerWritten,
}

impl Step {
    pub const ALL: [Step; 4] = [
        Step::Locked,
        Step::IntentWritten,
        Step::KernelWritten,
        Step::LedgerWritten,
    ];

    /// The name [`FAULT_ENV`] takes.
    pub fn name(self) -> &'static str {
        match self {
            Step::Locked => "locked",
            Step::IntentWritten => "intent-written",
            Step::KernelWritten => "kernel-written",
            Step::LedgerWritten => "ledger-written",
        }
    }
}

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
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        BootPolicy {
            boot_hold: cfg.cluster.boot_hold && !cfg.checks.is_empty(),
        }
    }
}

/// Where the ledger of `kernel`'s host lives: `state_dir`, inside the
/// emulated host's own root (`PATH.root`) for an emulated host.
pub fn ledger_dir(kernel: &dyn Kernel, state_dir: &Path) -> PathBuf {
    crate::kernel::host_path(kernel, state_dir)
}

/// Seconds since the Epoch (0 before 1970).
pub fn now_secs() -> i64 {
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
    pub fn for_host(kernel: &dyn Kernel, cfg: &crate::config::Config) -> Self {
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

    fn fault(&self, step: Step) -> Result<(), LedgerError> {
        if std::env::var(FAULT_ENV).is_ok_and(|v| v == step.name()) {
            kill_self();
        }
        match &self.fault {
            Some(hook) if hook(step) => Err(LedgerError::Injected(step)),
            _ => Ok(()),
        }
    }

    // ----- files ---------------------------------------------------------

    /// Create the state directory (mode 0755) if it is missing, and check
    /// that it can be trusted: owned by root (or the user running carpctl)
    /// and not writable by group or others, nor any directory above it. A
    /// forged ledger or a lock held by another user must be impossible.
    fn ensure_dir(&self) -> Result<(), LedgerError> {
        fsutil::ensure_dir(&self.dir, 0o755)?;
        fsutil::check_dir(&self.dir, DirRule::Private)?;
        Ok(())
    }

    /// Check the state directory (when it exists) as every change and
    /// read does: trusted, or [`LedgerError::Fs`].
    pub fn check_dir(&self) -> Result<(), LedgerError> {
        if self.dir.exists() {
            fsutil::check_dir(&self.dir, DirRule::Private)?;
        }
        Ok(())
    }

    /// Take the exclusive lock, waiting up to [`LOCK_WAIT`].
    fn lock(&self) -> Result<Lock, LedgerError> {
        self.ensure_dir()?;
        Ok(Lock::exclusive(&self.path(LOCK_FILE), LOCK_WAIT)?)
    }

    /// A shared lock for reading, when this user may open the lock file at
    /// all (it is root's): without it the reads are still each consistent
    /// (files are replaced by rename), only not with each other.
    fn read_lock(&self) -> Option<Lock> {
        Lock::shared(&self.path(LOCK_FILE), LOCK_WAIT)
    }

    fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, LedgerError> {
        let path = self.path(name);
        // Never through a link, never more than FILE_MAX.
        let bytes = match fsutil::read_own(&path, FILE_MAX) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(FsError::TooLarge { .. }) => {
                return Err(LedgerError::Corrupt {
                    path,
                    detail: format!(
                        "is larger than {FILE_MAX} bytes, far more than carpctl ever writes"
                    ),
                });
            }
            Err(e) => return Err(e.into()),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| LedgerError::Corrupt {
                path,
                detail: format!("does not parse: {e}"),
            })
    }

    fn read_ledger(&self) -> Result<Option<LedgerState>, LedgerError> {
        let l: Option<LedgerState> = self.read_json(LEDGER_FILE)?;
        if let Some(l) = &l
            && l.version != VERSION
        {
            return Err(LedgerError::Corrupt {
                path: self.path(LEDGER_FILE),
                detail: format!(
                    "ledger format {} is not supported (this carpctl reads {VERSION})",
                    l.version
                ),
            });
        }
        if let Some(l) = &l {
            self.limits.ledger(&self.path(LEDGER_FILE), "", l)?;
        }
        Ok(l)
    }

    /// The intent, checked against `ledger` (the ledger on disk). One that
    /// does not parse can only be a torn write from before a power loss,
    /// i.e. from an earlier boot: it is dropped. One that parses but holds
    /// what carpctl never writes is refused ([`LedgerError::Invalid`]).
    fn read_intent(&self, ledger: Option<&LedgerState>) -> Result<Option<Intent>, LedgerError> {
        match self.read_json::<Intent>(INTENT_FILE) {
            Err(LedgerError::Corrupt { detail, .. }) => {
                tracing::warn!(
                    "{}: {detail}; ignoring it (a torn write from before a power loss)",
                    self.path(INTENT_FILE).display()
                );
                self.remove_intent()?;
                Ok(None)
            }
            Ok(Some(intent)) => {
                self.limits
                    .intent(&self.path(INTENT_FILE), &intent, ledger)?;
                Ok(Some(intent))
            }
            other => other,
        }
    }

    /// Write `name` atomically; with `durable`, also flushed to disk with
    /// the directory entry.
    fn write_json<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        durable: bool,
    ) -> Result<(), LedgerError> {
        let mut bytes = serde_json::to_vec_pretty(value)
            .map_err(|e| self.io(name, "cannot encode")(e.into()))?;
        bytes.push(b'\n');
        let durability = if durable {
            Durability::Durable
        } else {
            Durability::Volatile
        };
        fsutil::write_atomic(&self.path(name), &bytes, 0o644, durability)?;
        Ok(())
    }

    fn remove_intent(&self) -> Result<(), LedgerError> {
        match fs::remove_file(self.path(INTENT_FILE)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io(INTENT_FILE, "cannot remove")(e)),
        }
    }

    // ----- the protocol ----------------------------------------------------

    /// Move the kernel by `after.total() - applied` and the ledger to
    /// `after` (module doc, steps 2-6). `applied` is what the kernel holds
    /// of carpctl's now: the ledger's total, or 0 after a reboot.
    fn transition(
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
    fn recover(
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

    fn stamp(kernel: &mut dyn Kernel) -> Result<BootStamp, LedgerError> {
        Ok(BootStamp {
            boot_time: kernel.boot_time().map_err(LedgerError::Kernel)?,
            written_at: now_secs(),
        })
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

/// Whether the kernel write of `intent` happened, given the demotion `now`
/// (module doc, Recovery): the nearer of the two explanations.
fn applied(intent: &Intent, now: i64) -> bool {
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

/// The fault aid of [`FAULT_ENV`]: a real SIGKILL, sent by kill(1) so that
/// no `unsafe` is needed; this thread then waits for it to land. Should
/// kill(1) not run, abort(3) ends the process as abruptly.
fn kill_self() -> ! {
    let pid = std::process::id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .is_ok_and(|s| s.success());
    if sent {
        std::thread::sleep(Duration::from_secs(10));
    }
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(boot_time: i64, written_at: i64) -> BootStamp {
        BootStamp {
            boot_time,
            written_at,
        }
    }

    #[test]
    fn same_boot_tolerates_small_moves() {
        let s = stamp(1_000_000, 1_086_400);
        for b in [1_000_000, 999_998, 1_000_002] {
            assert!(s.same_boot(b, 1_090_000), "{b}");
        }
    }

    #[test]
    fn a_reboot_with_a_sane_clock_is_seen() {
        // Up a day, written, rebooted an hour later: the new boot began
        // after the write.
        let s = stamp(1_000_000, 1_086_400);
        assert!(!s.same_boot(1_090_000, 1_090_030));
    }

    #[test]
    fn a_reboot_with_a_clock_behind_is_seen_by_the_uptime() {
        // The new boot's clock is an hour behind (RTC wrong): its boot time
        // is before the write, but the uptime (30 s) is below the day it
        // was then.
        let s = stamp(1_000_000, 1_086_400);
        assert!(!s.same_boot(1_083_000, 1_083_030));
    }

    #[test]
    fn clock_steps_are_not_reboots() {
        let s = stamp(1_000_000, 1_086_400);
        // ntpd steps back an hour: boot time and now move together.
        assert!(s.same_boot(996_400, 1_090_000 - 3600));
        // Forward ten minutes, well within the uptime of a day.
        assert!(s.same_boot(1_000_600, 1_090_600));
    }

    #[test]
    fn a_forward_step_beyond_the_uptime_is_the_documented_limit() {
        // Written 30 s after boot; the clock then jumps 10 minutes forward:
        // indistinguishable from a reboot after the write.
        let s = stamp(1_000_000, 1_000_030);
        assert!(!s.same_boot(1_000_600, 1_000_700));
    }

    #[test]
    fn emulated_back_to_back_reboots_are_distinct() {
        // HostState::reboot moves boottime by at least 3 s even within a
        // second: both rules then see a new boot.
        for uptime in 0..10 {
            let now = 2_000_000;
            let s = stamp(now - uptime, now);
            let next = now.max(now - uptime + 3);
            assert!(!s.same_boot(next, now), "uptime {uptime}");
        }
    }

    #[test]
    fn causes_round_trip() {
        for c in [
            Cause::Maintenance,
            Cause::BootHold,
            Cause::Check("smtp".into()),
            Cause::Check("a:b".into()),
        ] {
            assert_eq!(Cause::parse(&c.key()), Some(c.clone()));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Cause>(&json).unwrap(), c);
        }
        for bad in ["", "check:", "checks:x", "Maintenance", "boot hold"] {
            assert_eq!(Cause::parse(bad), None, "{bad}");
            assert!(serde_json::from_str::<Cause>(&format!("{bad:?}")).is_err());
        }
        assert!(Cause::Maintenance.persistent());
        assert!(!Cause::BootHold.persistent());
        assert!(!Cause::Check("x".into()).persistent());
    }

    #[test]
    fn applied_takes_the_nearer_explanation() {
        let intent = |delta| Intent {
            before: 100,
            delta,
            boot: stamp(0, 0),
            after: LedgerState::empty(stamp(0, 0)),
        };
        assert!(applied(&intent(240), 340));
        assert!(!applied(&intent(240), 100));
        assert!(applied(&intent(-240), -140));
        assert!(!applied(&intent(-240), 100));
        // Someone added 10 meanwhile: still the nearer one.
        assert!(applied(&intent(240), 350));
        assert!(!applied(&intent(240), 110));
        // Exactly between: not applied.
        assert!(!applied(&intent(240), 220));
    }
}
