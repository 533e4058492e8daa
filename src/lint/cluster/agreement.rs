//! Per virtual router (one vhid on one segment): what its members must
//! agree on — the address list, which the HMAC covers (the password, which
//! it covers too, is compared per file: [`super::passwords`]) — and
//! distinct priorities (on a tie the master steps down, so the VIP
//! flaps); also the vhid carried by one node only, and which node is its
//! intended master.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::election::Protocols;
use super::{Inputs, Issue, Member, priority};
use crate::lint::codes::Code;
use crate::rcconf::model::VhidEntry;

/// The checks of one virtual router; returns its intended master node,
/// when one node alone has the best priority. `several_nodes`: more than
/// one node was given (or the inputs are one cluster by request).
pub(super) fn check(
    inputs: &Inputs<'_>,
    members: &[&Member<'_>],
    several_nodes: bool,
    out: &mut Vec<(usize, Issue)>,
) -> Option<usize> {
    let first = members.first()?;
    if members.len() == 1 {
        if several_nodes {
            single_node_vhid(inputs, first, out);
        }
        return None;
    }
    let protocols = super::election::check(inputs, members, out);
    // The passwords are compared per file, whatever the grouping
    // (super::passwords).
    for other in members.iter().skip(1) {
        address_mismatch(inputs, first, other, out);
    }
    match protocols {
        Protocols::Carp => skew_tie(inputs, members, out),
        // CARP066 in election.rs; no tie to speak of across protocols.
        Protocols::Vrrp | Protocols::Mixed => {}
    }
    intended_master(members)
}

/// Where a member is, for messages: node, file and line.
pub(super) fn where_(inputs: &Inputs<'_>, x: &Member<'_>) -> String {
    format!(
        "{} at {}:{}",
        inputs.name(x.node),
        inputs.show(x.file),
        x.entry.pos.line
    )
}

/// `SingleNodeVhid`: no other node takes the vhid over.
fn single_node_vhid(inputs: &Inputs<'_>, only: &Member<'_>, out: &mut Vec<(usize, Issue)>) {
    out.push((
        only.file,
        Issue::new(
            Code::SingleNodeVhid,
            only.entry.pos,
            format!(
                "vhid {} is carried by {} only: no other node given takes it over \
                 when this one fails",
                only.entry.vhid,
                inputs.name(only.node)
            ),
        ),
    ));
}

/// `AddressMismatch`: `other` lists other addresses than `first`.
fn address_mismatch(
    inputs: &Inputs<'_>,
    first: &Member<'_>,
    other: &Member<'_>,
    out: &mut Vec<(usize, Issue)>,
) {
    let addresses = |m: &Member<'_>| -> BTreeSet<IpAddr> {
        m.entry.addresses.iter().map(|(n, _)| n.addr()).collect()
    };
    let a = addresses(other);
    let b = addresses(first);
    if a == b {
        return;
    }
    let list = |s: &BTreeSet<IpAddr>| {
        if s.is_empty() {
            "none".to_string()
        } else {
            s.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let pos = other
        .entry
        .addresses
        .first()
        .map_or(other.entry.pos, |x| x.1);
    out.push((
        other.file,
        Issue::new(
            Code::AddressMismatch,
            pos,
            format!(
                "vhid {}: the addresses here ({}) differ from those on {} ({}): the \
                 advertisement's HMAC covers the address list, so the nodes reject \
                 each other's advertisements and both become MASTER; list the same \
                 addresses on every node",
                other.entry.vhid,
                list(&a),
                where_(inputs, first),
                list(&b)
            ),
        ),
    ));
}

/// `SkewTie`: two members advertise the same priority. Compares every
/// pair whose skew is known.
fn skew_tie(inputs: &Inputs<'_>, members: &[&Member<'_>], out: &mut Vec<(usize, Issue)>) {
    for (k, x) in members.iter().enumerate() {
        if x.entry.advskew_unknown {
            continue;
        }
        if let Some(y) = members
            .get(..k)
            .unwrap_or_default()
            .iter()
            .find(|y| !y.entry.advskew_unknown && priority(y.entry) == priority(x.entry))
        {
            out.push((
                x.file,
                Issue::new(
                    Code::SkewTie,
                    x.entry.advskew_pos.unwrap_or(x.entry.pos),
                    format!(
                        "vhid {}: this node and {} both advertise {}: on a tie the master \
                         that receives the other's advertisement steps down, so the VIP \
                         flaps; give each node its own advskew (0 for the preferred node, \
                         higher for the next)",
                        x.entry.vhid,
                        where_(inputs, y),
                        describe(x.entry)
                    ),
                ),
            ));
        }
    }
}

/// The intended master: the single best priority among the members whose
/// skew is known.
fn intended_master(members: &[&Member<'_>]) -> Option<usize> {
    let known: Vec<&&Member<'_>> = members
        .iter()
        .filter(|m| !m.entry.advskew_unknown)
        .collect();
    let best = known.iter().map(|m| priority(m.entry)).min();
    let at_best: Vec<&&&Member<'_>> = known
        .iter()
        .filter(|m| Some(priority(m.entry)) == best)
        .collect();
    match at_best.as_slice() {
        [m] => Some(m.node),
        _ => None,
    }
}

/// What a member advertises, for messages.
fn describe(e: &VhidEntry) -> String {
    if e.version == 3 {
        format!("vrrpprio {}", e.vrrpprio.unwrap_or(100))
    } else {
        format!("advbase {} advskew {}", e.advbase, e.advskew)
    }
}
