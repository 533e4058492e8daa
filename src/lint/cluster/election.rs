//! Per virtual router, how its members elect (issue 12 item 5): one
//! protocol on every node (CARP065), VRRPv3 priorities unique (CARP066),
//! VRRPv3 intervals equal (CARP067), unicast peers pointing at each other
//! (CARP064, [`super::peers`]).
//!
//! Why a VRRPv3 tie is an error when a CARP one is a warning (CARP062):
//! `vrrp_input_c()` (`sys/netinet/ip_carp.c`, 15.0) makes a MASTER step
//! down only for a shorter interval or a higher priority, and nothing
//! breaks a tie by address, so two MASTERs at one priority both stay
//! MASTER for good; CARP's tie makes the receiving master step down, which
//! flaps but converges (docs/freebsd-carp.md §8, `plan::vrrp`).
//!
//! Why an interval mismatch is a warning: the same function compares the
//! interval before the priority, so the member with the shortest interval
//! wins whatever its priority: one MASTER, but not the one the priorities
//! say.

use super::agreement::where_;
use super::{Inputs, Issue, Member, peers};
use crate::lint::codes::Code;

/// The checks of one virtual router's election. `skew_tie` is the CARP
/// tie check, run only when every member speaks CARP.
pub(super) fn check(
    inputs: &Inputs<'_>,
    members: &[&Member<'_>],
    out: &mut Vec<(usize, Issue)>,
) -> Protocols {
    let Some(first) = members.first() else {
        return Protocols::Carp;
    };
    let vrrp = first.entry.version == 3;
    if let Some(other) = members.iter().find(|m| (m.entry.version == 3) != vrrp) {
        out.push((
            other.file,
            Issue::new(
                Code::ProtocolMismatch,
                other.entry.pos,
                format!(
                    "vhid {}: {} here, but {} on {}: CARP and VRRPv3 advertisements are \
                     different packets, so the nodes do not see each other and both become \
                     MASTER; use one protocol on every node",
                    other.entry.vhid,
                    protocol(other),
                    protocol(first),
                    where_(inputs, first)
                ),
            ),
        ));
        return Protocols::Mixed;
    }
    let describe = |m: &Member<'_>| {
        (
            inputs.name(m.node).to_string(),
            format!("{}:{}", inputs.show(m.file), m.entry.pos.line),
        )
    };
    for p in peers::problems(members, &describe) {
        if let Some(m) = members.get(p.member) {
            out.push((m.file, Issue::new(Code::PeerMismatch, p.pos, p.message)));
        }
    }
    if !vrrp {
        return Protocols::Carp;
    }
    vrrp_tie(inputs, members, out);
    interval_mismatch(inputs, members, out);
    Protocols::Vrrp
}

/// Which protocol every member speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Protocols {
    Carp,
    Vrrp,
    Mixed,
}

fn protocol(m: &Member<'_>) -> &'static str {
    if m.entry.version == 3 {
        "VRRPv3 (carpver 3)"
    } else {
        "CARP"
    }
}

fn priority(m: &Member<'_>) -> u8 {
    m.entry
        .vrrpprio
        .unwrap_or(crate::plan::vrrp::FREEBSD_DEFAULT_PRIORITY)
}

fn interval(m: &Member<'_>) -> u16 {
    m.entry
        .vrrpinterval
        .unwrap_or(crate::plan::vrrp::FREEBSD_DEFAULT_INTERVAL)
}

/// `VrrpPriorityTie`: two members at one priority.
fn vrrp_tie(inputs: &Inputs<'_>, members: &[&Member<'_>], out: &mut Vec<(usize, Issue)>) {
    for (k, x) in members.iter().enumerate() {
        let Some(y) = members
            .get(..k)
            .unwrap_or_default()
            .iter()
            .find(|y| priority(y) == priority(x))
        else {
            continue;
        };
        out.push((
            x.file,
            Issue::new(
                Code::VrrpPriorityTie,
                x.entry.pos,
                format!(
                    "vhid {}: this node and {} both advertise vrrpprio {}{}: VRRPv3 breaks no \
                     tie, so both stay MASTER; give each node its own vrrpprio (highest for \
                     the preferred node)",
                    x.entry.vhid,
                    where_(inputs, y),
                    priority(x),
                    if x.entry.vrrpprio.is_none() {
                        " (the default)"
                    } else {
                        ""
                    }
                ),
            ),
        ));
    }
}

/// `IntervalMismatch`: a member whose interval differs from the first's.
fn interval_mismatch(inputs: &Inputs<'_>, members: &[&Member<'_>], out: &mut Vec<(usize, Issue)>) {
    let Some(first) = members.first() else {
        return;
    };
    for m in members
        .iter()
        .skip(1)
        .filter(|m| interval(m) != interval(first))
    {
        out.push((
            m.file,
            Issue::new(
                Code::IntervalMismatch,
                m.entry.pos,
                format!(
                    "vhid {}: vrrpinterval {} cs here, {} cs on {}: VRRPv3 compares the \
                     interval before the priority, so the node with the shortest interval \
                     is MASTER whatever its priority; use one interval on every node",
                    m.entry.vhid,
                    interval(m),
                    interval(first),
                    where_(inputs, first)
                ),
            ),
        ));
    }
}
