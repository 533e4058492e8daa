//! What the ledger records: the causes of a demotion, their contributions,
//! the boot they are applied in, and the change in flight (the intent).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{BOOT_SLACK, VERSION};
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
    pub(crate) fn key(&self) -> String {
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
    pub(crate) fn persistent(&self) -> bool {
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
    pub(crate) written_at: i64,
}

impl BootStamp {
    /// Whether a kernel that now reports `boot_time`, at wall-clock `now`,
    /// is still in the boot this stamp was taken in (module doc, Reboots).
    pub(crate) fn same_boot(&self, boot_time: i64, now: i64) -> bool {
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
    pub(crate) seq: u64,
    /// The boot the contributions are applied in.
    pub(crate) boot: BootStamp,
    pub(crate) contributions: BTreeMap<Cause, Contribution>,
}

impl LedgerState {
    pub(super) fn empty(boot: BootStamp) -> Self {
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

pub(super) fn total(c: &BTreeMap<Cause, Contribution>) -> i64 {
    c.values().map(|c| i64::from(c.weight)).sum()
}

/// The change in flight (module doc, step 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Intent {
    /// `net.inet.carp.demotion` just before the kernel write.
    pub(super) before: i64,
    pub(super) delta: i32,
    pub(super) boot: BootStamp,
    pub(super) after: LedgerState,
}
