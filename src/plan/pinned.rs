//! Pinned values (issue 12 item 3): a VIP whose advskews (CARP) or
//! priorities (VRRPv3) are written in the cluster file instead of derived
//! from rank, so that carpctl can be adopted node by node in a cluster
//! whose hand-configured nodes already advertise them.
//!
//! * Every member is pinned or none: a member without a value would get a
//!   derived one that may overtake or tie the hand-configured ones.
//! * The order follows the values: ascending advskew, descending priority,
//!   the members' file order (`prefer`, else `[[node]]`) among equals.
//! * What the election compares is what counts. A CARP node advertises
//!   `DEMOTE_ADVSKEW` = min(advskew + demotion, 240) (`CARP_MAXSKEW`,
//!   `sys/netinet/ip_carp.c`, docs/freebsd-carp.md §8), so pins of 240 to
//!   254 all look like 240 on the wire: a tie between two of them, and a
//!   node no demotion can move behind another (warned). A VRRP node
//!   advertises its priority as is (`vrrp_send_ad_locked()`).
//! * Equal values are refused unless `allow_tie`: on a tie carp(4) makes
//!   the *receiving* master step down (`carp_input_c()`: "advbase/advskew
//!   equal ... we step down"), so two masters flap; VRRPv3 breaks no tie at
//!   all (`vrrp_input_c()`, [`super::vrrp`]), so both stay MASTER. FreeBSD's
//!   own tests use equal skews on purpose (`tests/sys/netinet/carp.sh`),
//!   hence the escape.
//! * Distinct values whose takeovers land in the same kernel tick at
//!   kern.hz=100 are warned about: a brief dual master when both are BACKUP
//!   and the master fails. CARP: two skews less than 3/256 s (one 10 ms
//!   tick) apart; VRRP: equal skew times ([`super::vrrp::skew_time_cs`]).

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use serde::Serialize;

use super::vrrp;
use crate::model::{CARP_MAXSKEW, Protocol};

/// Skews closer than this (in 1/256 s) may time out in one 10 ms tick at
/// kern.hz=100: 10 ms is 2.56/256 s.
pub(crate) const TICK_SAFE_SKEW_GAP: u8 = 3;

/// Which value a VIP pins: its protocol's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PinKind {
    /// CARP `advskew`, lowest first.
    Advskew,
    /// VRRPv3 `priority`, highest first.
    Priority,
}

impl PinKind {
    /// The kind a VIP of `protocol` pins.
    pub(crate) fn of(protocol: Protocol) -> Self {
        match protocol {
            Protocol::Carp => PinKind::Advskew,
            Protocol::Vrrpv3 => PinKind::Priority,
        }
    }

    /// The cluster-file key.
    pub(crate) fn key(self) -> &'static str {
        match self {
            PinKind::Advskew => "advskew",
            PinKind::Priority => "priority",
        }
    }

    /// The values the key accepts: advskew 0 to 254 (the 8-bit field less
    /// 255, which `carp_ioctl_set()`/ifconfig refuse), priority 1 to 254
    /// (0 is "keep" in a netlink SET; 255 is the address owner's,
    /// [`vrrp::OWNER_PRIORITY`]).
    pub(crate) fn range(self) -> RangeInclusive<i64> {
        match self {
            PinKind::Advskew => 0..=254,
            PinKind::Priority => i64::from(vrrp::MIN_PRIORITY)..=i64::from(vrrp::TOP_PRIORITY),
        }
    }

    /// Why `value` is out of [`PinKind::range`], in words.
    pub(crate) fn out_of_range(self, value: i64) -> Option<String> {
        if self.range().contains(&value) {
            return None;
        }
        Some(match (self, value) {
            (PinKind::Priority, 255) => "priority 255 is the address owner's (RFC 5798 \
                 §5.2.4): a node at 255 ignores every advertisement and never yields, and a \
                 carpctl VIP is no node's own address; use 1 to 254"
                .to_string(),
            (PinKind::Priority, 0) => "priority 0 means \"keep the current value\" to the \
                 kernel (and \"the master resigns\" on the wire); use 1 to 254"
                .to_string(),
            (PinKind::Priority, v) => format!("priority {v} is out of range 1-254"),
            (PinKind::Advskew, v) => format!("advskew {v} is out of range 0-254"),
        })
    }

    /// What the election compares, lower wins: the advertised skew
    /// (clamped at 240) or 255 − priority.
    pub(crate) fn election_key(self, value: u8) -> u8 {
        match self {
            PinKind::Advskew => value.min(CARP_MAXSKEW),
            PinKind::Priority => u8::MAX - value,
        }
    }
}

/// A VIP's pinned values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pins {
    pub kind: PinKind,
    /// Node -> value; every member of the VIP.
    pub values: BTreeMap<String, u8>,
    /// Equal values between members were allowed on purpose.
    pub(crate) allow_tie: bool,
}

/// Pinned values carpctl cannot plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PinError {
    #[error("VIP {vip}: {key} pins node {node}, which is not a member of this VIP ({members})")]
    NotMember {
        vip: String,
        key: &'static str,
        node: String,
        members: String,
    },
    #[error(
        "VIP {vip}: {key} pins some members but not {missing}; pin every member or none \
         (a derived value could overtake or tie the pinned ones)"
    )]
    Missing {
        vip: String,
        key: &'static str,
        missing: String,
    },
    #[error(
        "VIP {vip}: unicast, so {key} pins exactly the two members (master and backup), \
         not {count}"
    )]
    UnicastCount {
        vip: String,
        key: &'static str,
        count: usize,
    },
    #[error(
        "VIP {vip}: nodes {first} and {second} both advertise {key} {value}{clamped}; \
         {why}: pin distinct values or set allow_tie = true"
    )]
    Tie {
        vip: String,
        key: &'static str,
        first: String,
        second: String,
        value: u8,
        clamped: &'static str,
        why: &'static str,
    },
}

/// What valid pins still deserve a word about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PinnedCheck {
    /// The members in election order (rank 0 first).
    pub order: Vec<String>,
    /// Members with equal advertised values (only with `allow_tie`), as
    /// (first, second, value) in order.
    pub(crate) ties: Vec<(String, String, u8)>,
    /// Members with distinct values whose takeovers may land in the same
    /// kernel tick at hz=100, as (earlier, later).
    pub(crate) same_tick: Vec<(String, String)>,
    /// CARP members pinned at 240 or more: advertised as 240, as a fully
    /// demoted node, so no demotion moves the VIP behind them.
    pub(crate) at_max: Vec<String>,
}

/// The members of a pinned VIP in file order: its `prefer` (for a unicast
/// VIP only when it names the pair), else every node (multicast) or the
/// pinned nodes (unicast: the pins choose the pair), in `nodes`' order.
pub(crate) fn members(
    pins: &Pins,
    prefer: Option<&[String]>,
    unicast: bool,
    nodes: &[String],
) -> Vec<String> {
    match prefer {
        Some(p) if !unicast || p.len() == 2 => p.to_vec(),
        _ if !unicast => nodes.to_vec(),
        _ => nodes
            .iter()
            .filter(|n| pins.values.contains_key(*n))
            .cloned()
            .collect(),
    }
}

/// The members in election order: a stable sort of `members` (file order)
/// by [`PinKind::election_key`]. Members without a value go last.
pub(crate) fn order(
    kind: PinKind,
    members: &[String],
    values: &BTreeMap<String, u8>,
) -> Vec<String> {
    let mut out = members.to_vec();
    out.sort_by_key(|n| {
        values
            .get(n)
            .map_or(u16::MAX, |&v| u16::from(kind.election_key(v)))
    });
    out
}

/// Check the pins of VIP `vip` against its `members` (file order; for a
/// unicast VIP without a fixed pair, the pinned nodes themselves) and
/// return the election order with what deserves a warning. `interval` is
/// the VRRP interval (cs), unused for CARP. O(n log n).
pub(crate) fn check(
    vip: &str,
    pins: &Pins,
    members: &[String],
    interval: u16,
) -> Result<PinnedCheck, PinError> {
    let key = pins.kind.key();
    if let Some(node) = pins.values.keys().find(|n| !members.contains(n)) {
        return Err(PinError::NotMember {
            vip: vip.to_string(),
            key,
            node: node.clone(),
            members: members.join(", "),
        });
    }
    let missing: Vec<&str> = members
        .iter()
        .filter(|m| !pins.values.contains_key(*m))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(PinError::Missing {
            vip: vip.to_string(),
            key,
            missing: missing.join(", "),
        });
    }
    let order = order(pins.kind, members, &pins.values);
    let mut out = PinnedCheck::default();
    let value = |n: &String| pins.values.get(n).copied().unwrap_or_default();
    for w in order.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let (p, q) = (value(a), value(b));
        let (kp, kq) = (pins.kind.election_key(p), pins.kind.election_key(q));
        if kp == kq {
            if !pins.allow_tie {
                return Err(tie(vip, pins.kind, a, b, p, q));
            }
            out.ties.push((a.clone(), b.clone(), p));
        } else if same_tick(pins.kind, p, q, interval) {
            out.same_tick.push((a.clone(), b.clone()));
        }
    }
    if pins.kind == PinKind::Advskew {
        out.at_max = order
            .iter()
            .filter(|n| value(n) >= CARP_MAXSKEW)
            .cloned()
            .collect();
    }
    out.order = order;
    Ok(out)
}

fn tie(vip: &str, kind: PinKind, a: &str, b: &str, p: u8, q: u8) -> PinError {
    PinError::Tie {
        vip: vip.to_string(),
        key: kind.key(),
        first: a.to_string(),
        second: b.to_string(),
        value: if p == q { p } else { CARP_MAXSKEW },
        clamped: if p != q {
            " (pins of 240 and more are advertised as 240, CARP_MAXSKEW)"
        } else {
            ""
        },
        why: match kind {
            PinKind::Advskew => {
                "on a tie carp(4) makes the receiving master step down, so the two flap"
            }
            PinKind::Priority => "VRRPv3 breaks no tie, so both could stay MASTER",
        },
    }
}

/// Whether two distinct neighbouring values may time out in one tick at
/// kern.hz=100.
fn same_tick(kind: PinKind, p: u8, q: u8, interval: u16) -> bool {
    match kind {
        PinKind::Advskew => p.min(CARP_MAXSKEW).abs_diff(q.min(CARP_MAXSKEW)) < TICK_SAFE_SKEW_GAP,
        PinKind::Priority => vrrp::skew_time_cs(p, interval) == vrrp::skew_time_cs(q, interval),
    }
}

#[cfg(test)]
mod tests;
