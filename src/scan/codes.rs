//! The table of scan codes: the one place that names every finding of
//! `carpctl scan`.
//!
//! Each code is a stable string (`SCAN001`), a short name, a default
//! severity and a one-line summary. Codes are never renumbered or reused.
//! carpctl(8) carries the same table ("Scan findings"); `tests/it/scan.rs` checks
//! that every code below appears there. A few findings are milder than
//! their code's default in a given case (a VRRP priority tie is resolved
//! by address, so it is info where a CARP tie is a warning); the finding
//! carries its own severity.
//!
//! Severities, as for `lint`: **error**: the cluster does not work as
//! meant (two masters, advertisements every receiver rejects); **warning**:
//! it works, but something is wrong or risky; **info**: worth knowing,
//! never changes the exit status.

use std::fmt;

use crate::lint::Severity;

/// A scan finding's kind. See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    DualMaster,
    SameNumber,
    Tie,
    VrrpDisagree,
    SourceMac,
    VrrpOwnMac,
    Interval,
    CounterReset,
    BadPacket,
    WrongPassword,
    AddressList,
    HmacFailed,
    HmacUnchecked,
    Demoted,
    PlanMismatch,
    UnknownSpeaker,
    UnknownVhid,
    SilentVip,
    Drops,
    MasterChanged,
    OverLimits,
}

/// One row of the table.
struct Row {
    code: Code,
    id: &'static str,
    name: &'static str,
    severity: Severity,
    summary: &'static str,
}

use Severity::{Error, Info, Warning};

#[rustfmt::skip]
const TABLE: &[Row] = &[
    Row { code: Code::DualMaster, id: "SCAN001", name: "dual-master", severity: Error,
        summary: "two speakers of one vhid and family advertise as master at once for longer than one interval" },
    Row { code: Code::SameNumber, id: "SCAN002", name: "carp-vrrp-same-number", severity: Error,
        summary: "CARP and VRRP use the same number on one segment (both send from 00:00:5e:00:01:<id>)" },
    Row { code: Code::Tie, id: "SCAN003", name: "tie", severity: Warning,
        summary: "two speakers advertise the same advbase/advskew (CARP) or priority (VRRP, info)" },
    Row { code: Code::VrrpDisagree, id: "SCAN004", name: "vrrp-disagreement", severity: Warning,
        summary: "VRRP speakers of one VRID list different addresses or use different versions" },
    Row { code: Code::SourceMac, id: "SCAN005", name: "unexpected-source-mac", severity: Warning,
        summary: "an advertisement from an unexpected source MAC, or one speaker from several MACs" },
    Row { code: Code::VrrpOwnMac, id: "SCAN006", name: "vrrp-interface-mac", severity: Info,
        summary: "a VRRP router advertises from its interface's MAC, not the virtual MAC" },
    Row { code: Code::Interval, id: "SCAN007", name: "interval-mismatch", severity: Warning,
        summary: "a speaker advertises more or less often than its advbase/advskew or interval says" },
    Row { code: Code::CounterReset, id: "SCAN008", name: "counter-reset", severity: Info,
        summary: "a speaker's CARP counter started again (vhid re-created or node restarted)" },
    Row { code: Code::BadPacket, id: "SCAN009", name: "bad-packet", severity: Warning,
        summary: "unreadable protocol 112 frames, bad checksums, or a TTL other than 255" },
    Row { code: Code::WrongPassword, id: "SCAN010", name: "wrong-password", severity: Error,
        summary: "the HMAC fails: the speaker uses another password (it verifies with another one)" },
    Row { code: Code::AddressList, id: "SCAN011", name: "different-address-list", severity: Error,
        summary: "the HMAC fails: the speaker hashes another address list with the right password" },
    Row { code: Code::HmacFailed, id: "SCAN012", name: "hmac-failed", severity: Error,
        summary: "the HMAC fails, and no known password and address list explains it" },
    Row { code: Code::HmacUnchecked, id: "SCAN013", name: "hmac-not-checked", severity: Info,
        summary: "the HMAC could not be checked (the VIP's key file could not be read)" },
    Row { code: Code::Demoted, id: "SCAN014", name: "demoted", severity: Info,
        summary: "a node advertises more advskew than planned: it is demoted" },
    Row { code: Code::PlanMismatch, id: "SCAN015", name: "plan-mismatch", severity: Warning,
        summary: "a node advertises an advbase, or less advskew, than the cluster file plans" },
    Row { code: Code::UnknownSpeaker, id: "SCAN016", name: "unknown-speaker", severity: Warning,
        summary: "a speaker of a cluster vhid that is not a node of the cluster file" },
    Row { code: Code::UnknownVhid, id: "SCAN017", name: "unknown-vhid", severity: Warning,
        summary: "a CARP vhid on the wire that the cluster file does not have" },
    Row { code: Code::SilentVip, id: "SCAN018", name: "silent-vip", severity: Warning,
        summary: "a VIP of the cluster file that nobody advertised, while others of its interface were seen" },
    Row { code: Code::Drops, id: "SCAN019", name: "capture-drops", severity: Warning,
        summary: "the kernel dropped frames before carpctl could read them" },
    Row { code: Code::MasterChanged, id: "SCAN020", name: "master-changed", severity: Info,
        summary: "the master of a vhid changed during the capture" },
    Row { code: Code::OverLimits, id: "SCAN021", name: "over-limits", severity: Warning,
        summary: "advertisements ignored: over the groups or speakers tracked, or the frames per second read" },
];

impl Code {
    /// Every code, in table order.
    pub fn all() -> impl Iterator<Item = Code> {
        TABLE.iter().map(|r| r.code)
    }

    fn row(self) -> &'static Row {
        // The table lists the variants in declaration order (tested).
        TABLE.get(self as usize).unwrap_or(&TABLE[0])
    }

    /// The stable identifier, `SCANnnn`.
    pub fn id(self) -> &'static str {
        self.row().id
    }

    /// The short name, lower case with dashes.
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// The default severity.
    pub fn severity(self) -> Severity {
        self.row().severity
    }

    /// One line saying what the finding is.
    pub fn summary(self) -> &'static str {
        self.row().summary
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_unique() {
        let all: Vec<Code> = Code::all().collect();
        // The last variant closes the table: none is missing.
        assert_eq!(Code::OverLimits as usize + 1, TABLE.len());
        assert_eq!(all.len(), 21);
        for (i, c) in all.iter().enumerate() {
            assert_eq!(*c as usize, i, "{c:?} is out of order");
            assert_eq!(c.row().code, *c);
            assert_eq!(c.id(), format!("SCAN{:03}", i + 1), "numbered in order");
            assert!(!c.summary().is_empty());
            assert!(
                c.name()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '-')
            );
        }
        let mut names: Vec<&str> = all.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert_eq!(Code::DualMaster.to_string(), "SCAN001");
        assert_eq!(Code::Drops.severity(), Severity::Warning);
    }
}
