//! The table of lint codes: the one place that names every check.
//!
//! Each code is a stable string (`CARP010`), a short name
//! (`missing-value`), a severity and a one-line summary. Codes are never
//! renumbered or reused: a check that goes away leaves a gap. carpctl(8)
//! carries the same table, written by hand from these facts;
//! `tests/lint.rs` checks that every code below appears there.
//!
//! Severities (carpctl(8), `lint`):
//!
//! * **error**: will not work as written (ifconfig or rc.d stops, or CARP
//!   runs but both nodes become MASTER);
//! * **warning**: works, but is wrong or risky;
//! * **info**: worth knowing; never changes the exit status.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::rcconf::{ifconfig, sh};

/// A finding's severity is the crate's one [`Severity`] (the cluster
/// file's diagnostics have it too).
pub use crate::config::Severity;

/// Declares [`Code`] and its table from one list, so that the enum, the
/// identifiers, the names, the severities and the summaries cannot drift
/// apart.
macro_rules! codes {
    ($( $variant:ident = $id:literal, $name:literal, $sev:ident, $summary:literal; )*) => {
        /// A lint check. See the module documentation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( #[doc = $summary] $variant, )*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable identifier, `CARPnnn`.
            pub fn id(self) -> &'static str {
                match self { $( Code::$variant => $id, )* }
            }

            /// The short name, lower case with dashes.
            pub fn name(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }

            /// One line saying what the check finds.
            pub fn summary(self) -> &'static str {
                match self { $( Code::$variant => $summary, )* }
            }
        }
    };
}

codes! {
    // Files and sh syntax.
    ShSyntax = "CARP001", "sh-syntax", Error,
        "sh cannot read the line as meant: an unterminated quote, or a quote that swallows the next lines";
    TypographicQuote = "CARP002", "typographic-quote", Error,
        "a typographic quote (“ ” ‘ ’) where sh needs a plain one";
    DuplicateAssignment = "CARP003", "duplicate-assignment", Warning,
        "a variable or sysctl set twice in one file: the later value wins";
    NotEvaluated = "CARP004", "not-evaluated", Info,
        "a line or expansion that lint does not evaluate (commands, ${var}, host names)";
    Unreadable = "CARP005", "unreadable-file", Error,
        "a file that cannot be read, is too large, or is not text";
    UnknownKind = "CARP006", "unknown-file-kind", Error,
        "a file whose kind (cluster file, rc.conf, loader.conf, sysctl.conf, devd.conf) cannot be told";

    // ifconfig arguments.
    MissingValue = "CARP010", "missing-value", Error,
        "a keyword such as advskew without its value";
    BadValue = "CARP011", "bad-value", Error,
        "a value that is not a number, out of range, or of the wrong kind";
    VhidFirst = "CARP012", "vhid-first", Error,
        "pass, advskew, advbase or state before vhid (ifconfig stops: \"requires vhid\")";
    NoAddress = "CARP013", "no-address", Error,
        "a vhid line without an address, so the vhid gets none";
    NotAnAddress = "CARP014", "not-an-address", Error,
        "a word that ifconfig would take as an address and that is not one";
    PasswordLength = "CARP015", "password-too-long", Warning,
        "a password longer than 19 bytes, which ifconfig truncates";
    SkewTooHigh = "CARP016", "advskew-240", Warning,
        "an advskew of 240 or more, advertised as 240 like a fully demoted node";
    VrrpMixed = "CARP017", "vrrp-mixed", Warning,
        "VRRPv3 (carpver 3) mixed with CARP options, or VRRP options without carpver 3";
    NoPassword = "CARP018", "no-password", Warning,
        "a CARP vhid without pass: any host on the segment can take it over";
    DuplicateVhid = "CARP019", "duplicate-vhid", Warning,
        "one vhid configured twice on one interface with different settings";

    // rc.conf aliases and interfaces.
    MissingInet = "CARP020", "missing-inet", Warning,
        "an ifconfig_IF_aliasN value without its leading inet or inet6";
    AliasesIgnored = "CARP021", "aliases-ignored", Error,
        "words of ifconfig_IF_aliases before any inet/inet6 keyword, which rc.d ignores";
    AliasGap = "CARP022", "alias-gap", Warning,
        "ifconfig_IF_aliasN numbers that do not run 0, 1, 2... or an empty aliasN";
    VipOutsideSubnet = "CARP023", "vip-outside-subnet", Warning,
        "a VIP outside every subnet of its interface's own addresses";
    Ucarp = "CARP025", "ucarp", Warning,
        "ucarp_* variables: ucarp(8) from ports, not the kernel's carp(4)";

    // Legacy syntax and module loading.
    LegacySyntax = "CARP030", "legacy-syntax", Warning,
        "FreeBSD 9 and earlier syntax (carpN interfaces) linted for FreeBSD 10 or later; carpctl migrate converts it";
    IfCarpLoad = "CARP031", "if-carp-load", Error,
        "if_carp_load in loader.conf linted for FreeBSD 10 or later: the module is carp.ko there";
    CarpNotLoaded = "CARP032", "carp-not-loaded", Warning,
        "vhids configured but carp(4) not loaded at boot by loader.conf or kld_list";
    CarpLoadUnknown = "CARP033", "carp-load-unknown", Info,
        "vhids configured and no loader.conf given to tell whether carp(4) loads at boot";

    // sysctl.conf.
    SysctlValue = "CARP040", "sysctl-value", Error,
        "a net.inet.carp sysctl with a value that is not a number or out of range";
    SysctlUnknown = "CARP041", "sysctl-unknown", Warning,
        "a net.inet.carp sysctl that does not exist (any more) or cannot be set";
    DemotionAtBoot = "CARP042", "demotion-at-boot", Warning,
        "net.inet.carp.demotion in sysctl.conf: a write adds to the demotion";
    PreemptOff = "CARP043", "preempt-off", Warning,
        "net.inet.carp.preempt off on a node of an active-active cluster";
    PreemptUnknown = "CARP044", "preempt-unknown", Info,
        "an active-active cluster whose node has no sysctl.conf given to tell preempt";
    PreemptMismatch = "CARP045", "preempt-mismatch", Warning,
        "net.inet.carp.preempt differs between nodes";

    // devd.conf.
    DevdSyntax = "CARP050", "devd-syntax", Error,
        "devd.conf that devd cannot parse (braces, quotes, semicolons)";
    DevdRegexNarrow = "CARP051", "devd-regex-narrow", Warning,
        "a CARP subsystem regex that misses interface names with . or _ (em0.100, lagg0_vlan210)";
    DevdLegacyIfnet = "CARP052", "devd-legacy-ifnet", Warning,
        "a devd rule for the FreeBSD 9 IFNET carpN events, which no longer exist";
    DevdNoInit = "CARP053", "devd-no-init", Info,
        "a CARP devd rule whose type regex ignores INIT";
    DevdBadRegex = "CARP054", "devd-bad-regex", Error,
        "a devd match regex that does not compile";

    // Across nodes.
    PasswordMismatch = "CARP060", "password-mismatch", Error,
        "one vhid with different passwords on different nodes";
    AddressMismatch = "CARP061", "address-mismatch", Error,
        "one vhid with different address lists on different nodes";
    SkewTie = "CARP062", "skew-tie", Warning,
        "two nodes advertising the same advbase and advskew for one vhid";
    SingleNodeVhid = "CARP063", "single-node-vhid", Info,
        "a vhid that only one node of the cluster carries (no failover)";
    PeerMismatch = "CARP064", "peer-mismatch", Error,
        "unicast peers of one vhid that do not point at each other, or a peer on one node only";
    ProtocolMismatch = "CARP065", "protocol-mismatch", Error,
        "one vhid speaking CARP on one node and VRRPv3 (carpver 3) on another";
    VrrpPriorityTie = "CARP066", "vrrp-priority-tie", Error,
        "two nodes advertising the same VRRPv3 priority for one vhid: VRRPv3 breaks no tie, both stay MASTER";
    IntervalMismatch = "CARP067", "interval-mismatch", Warning,
        "one VRRPv3 vhid with different vrrpinterval on different nodes: the shortest wins whatever the priority";
    NotOnTarget = "CARP068", "not-on-target", Error,
        "VRRPv3 or unicast peers on a FreeBSD release that lacks them (lint --freebsd)";

    // Cluster files.
    ClusterFileError = "CARP080", "cluster-file-error", Error,
        "an error in a carpctl cluster file (carpctl.toml(5))";
    ClusterFileWarning = "CARP081", "cluster-file-warning", Warning,
        "a warning about a carpctl cluster file (carpctl.toml(5))";

    // Mistakes found in published configurations (issue 13).
    CommandLine = "CARP090", "command-line", Error,
        "a command in rc.conf, which every rc script sources: it runs many times at boot";
    OverrideDropsVhid = "CARP091", "override-drops-vhid", Error,
        "an rc.conf variable set again later without the vhid or VIP its first value configured";
    InterfaceNotCreated = "CARP092", "interface-not-created", Error,
        "ifconfig_IF for an interface nothing creates (not physical-looking, not cloned, not a vlan or wlan)";
    VlanParentUnknown = "CARP093", "vlan-parent-unknown", Error,
        "vlans_PARENT whose parent is configured nowhere and is one typo away from one that is";
    NetworkOrBroadcast = "CARP094", "network-or-broadcast", Error,
        "an IPv4 address (own or VIP) equal to the network or broadcast address of its prefix";
    VipHostname = "CARP095", "vip-hostname", Warning,
        "a VIP given as a host name, which ifconfig resolves at boot, before DNS may work";
    VipPlaceholder = "CARP096", "vip-placeholder", Error,
        "a VIP that is a redacted placeholder (208.180.xxx.xxx, A.B.C.D), not an address";
    DevdNeverMatches = "CARP097", "devd-never-matches", Error,
        "a CARP subsystem regex that matches no vhid@interface at all (\"carp*\", anchored)";
    DevdDuplicateNotify = "CARP098", "devd-duplicate-notify", Warning,
        "two notify blocks with the same matches and action: one of them was meant to differ";
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The code lint reports a problem of the sh reader under.
impl From<sh::ProblemKind> for Code {
    fn from(kind: sh::ProblemKind) -> Self {
        match kind {
            sh::ProblemKind::Syntax => Code::ShSyntax,
            sh::ProblemKind::TypographicQuote => Code::TypographicQuote,
        }
    }
}

/// The code lint reports a problem with an ifconfig word under.
impl From<ifconfig::ProblemKind> for Code {
    fn from(kind: ifconfig::ProblemKind) -> Self {
        use ifconfig::ProblemKind as Kind;
        match kind {
            Kind::MissingValue => Code::MissingValue,
            Kind::BadValue => Code::BadValue,
            Kind::VhidFirst => Code::VhidFirst,
            Kind::SkewTooHigh => Code::SkewTooHigh,
            Kind::PasswordLength => Code::PasswordLength,
            Kind::VrrpMixed => Code::VrrpMixed,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let ids: BTreeSet<&str> = Code::ALL.iter().map(|c| c.id()).collect();
        let names: BTreeSet<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(ids.len(), Code::ALL.len());
        assert_eq!(names.len(), Code::ALL.len());
        for c in Code::ALL {
            let id = c.id();
            assert!(
                id.len() == 7
                    && id.starts_with("CARP")
                    && id[4..].bytes().all(|b| b.is_ascii_digit()),
                "{id}"
            );
            assert!(
                c.name()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                c.name()
            );
            assert!(!c.summary().is_empty());
        }
    }

    #[test]
    fn table_order_is_numeric_order() {
        let ids: Vec<&str> = Code::ALL.iter().map(|c| c.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn severities_order_worst_first_and_serialize_lowercase() {
        assert!(Severity::Error < Severity::Warning && Severity::Warning < Severity::Info);
        assert_eq!(
            serde_json::to_string(&Severity::Warning).unwrap(),
            "\"warning\""
        );
        assert_eq!(
            serde_json::to_string(&Code::MissingValue).unwrap(),
            "\"CARP010\""
        );
        assert_eq!(Code::MissingValue.severity(), Severity::Error);
    }
}
