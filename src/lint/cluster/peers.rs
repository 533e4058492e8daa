//! Unicast peers across the members of one virtual router (issue 12 item
//! 5): FreeBSD's unicast CARP has one peer per vhid and family
//! (`sc_carpaddr`, `sc_carpaddr6` in `sys/netinet/ip_carp.c`), to which
//! `carp_send_ad_locked()` sends instead of the multicast group. So a
//! unicast vhid has exactly two members, each naming the other's address;
//! a member without a peer multicasts, which its partner never hears; a
//! vhid with addresses of a family but no peer of it multicasts that
//! family's advertisements.
//!
//! One home for `lint` (CARP064) and `import` (which refuses what fails
//! here).

use std::net::IpAddr;

use ipnet::IpNet;

use super::Member;
use crate::textfile::Pos;

/// One thing wrong with a vhid's peers: which member (index into the
/// slice given), where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PeerProblem {
    pub(crate) member: usize,
    pub pos: Pos,
    pub message: String,
}

/// How a member is named in messages: (node name, `file:line`).
pub(crate) type Describe<'d> = &'d dyn Fn(&Member<'_>) -> (String, String);

fn has_peer(m: &Member<'_>) -> bool {
    m.entry.peer.is_some() || m.entry.peer6.is_some()
}

/// The peer of `m` in the family of `like`, with where it is written.
fn peer_of(m: &Member<'_>, v4: bool) -> Option<(IpAddr, Pos)> {
    if v4 {
        m.entry.peer.map(|(p, at)| (IpAddr::V4(p), at))
    } else {
        m.entry.peer6.map(|(p, at)| (IpAddr::V6(p), at))
    }
}

/// `m`'s own addresses of the family and scope of `like` on the
/// interface its vhid runs on, as its rc.conf gives them (empty when
/// unknown). Scope: an rc.conf seldom lists the link-local address the
/// kernel configures itself, so a link-local peer is compared with the
/// link-local addresses only, and a global one with the others.
fn own(m: &Member<'_>, like: IpAddr) -> Vec<IpAddr> {
    let scope = |a: &IpAddr| (a.is_ipv4(), is_link_local(a));
    m.entry
        .real_iface()
        .and_then(|i| m.rc.interfaces.get(i))
        .map(|i| {
            i.own
                .iter()
                .map(IpNet::addr)
                .filter(|a| scope(a) == scope(&like))
                .collect()
        })
        .unwrap_or_default()
}

fn is_link_local(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => v.is_link_local(),
        IpAddr::V6(v) => v.is_unicast_link_local(),
    }
}

/// What is wrong with the peers of the members of one virtual router
/// (empty when none names a peer: multicast).
pub(crate) fn problems(members: &[&Member<'_>], describe: Describe<'_>) -> Vec<PeerProblem> {
    let mut out = Vec::new();
    let Some(with) = members.iter().position(|m| has_peer(m)) else {
        return out;
    };
    let vhid = members[with].entry.vhid;
    let (with_name, with_at) = describe(members[with]);
    for (k, m) in members.iter().enumerate().filter(|(_, m)| !has_peer(m)) {
        let (name, _) = describe(m);
        out.push(PeerProblem {
            member: k,
            pos: m.entry.pos,
            message: format!(
                "vhid {vhid}: {with_name} names a peer ({with_at}) but {name} does not: one \
                 node sends unicast and the other multicast, so they never hear each other; \
                 give both nodes each other's address"
            ),
        });
    }
    if !out.is_empty() {
        return out;
    }
    let [a, b] = members else {
        let names: Vec<String> = members.iter().map(|m| describe(m).0).collect();
        out.push(PeerProblem {
            member: with,
            pos: members[with].entry.pos,
            message: format!(
                "vhid {vhid} is unicast (peer) on {} nodes ({}): a unicast vhid has one peer, \
                 so exactly two nodes",
                members.len(),
                names.join(", ")
            ),
        });
        return out;
    };
    for (k, (x, y)) in [(0, (a, b)), (1, (b, a))] {
        for v4 in [true, false] {
            let needed = x
                .entry
                .addresses
                .iter()
                .any(|(n, _)| n.addr().is_ipv4() == v4);
            let key = if v4 { "peer" } else { "peer6" };
            let family = if v4 { "IPv4" } else { "IPv6" };
            match (needed, peer_of(x, v4)) {
                (true, None) => out.push(PeerProblem {
                    member: k,
                    pos: x.entry.pos,
                    message: format!(
                        "vhid {vhid} on {}: the vhid has {family} addresses but no {key}: its \
                         {family} advertisements go multicast while the others go to the peer; \
                         give {key} too",
                        describe(x).0
                    ),
                }),
                (true, Some((p, at))) => {
                    if let Some(message) = not_pointing(x, y, p, key, describe) {
                        out.push(PeerProblem {
                            member: k,
                            pos: at,
                            message,
                        });
                    }
                }
                (false, _) => {}
            }
        }
    }
    out
}

/// Why `x`'s peer `p` does not point at `y`: it is `x`'s own address, or
/// not one of `y`'s (when `y`'s rc.conf says which it has), or, when that
/// is unknown, the same address `y` names.
fn not_pointing(
    x: &Member<'_>,
    y: &Member<'_>,
    p: IpAddr,
    key: &str,
    describe: Describe<'_>,
) -> Option<String> {
    let vhid = x.entry.vhid;
    let (xn, _) = describe(x);
    let (yn, y_at) = describe(y);
    if own(x, p).contains(&p) {
        return Some(format!(
            "vhid {vhid}: {xn}'s {key} {p} is its own address: a peer is the other node"
        ));
    }
    let theirs = own(y, p);
    if theirs.is_empty() {
        let same = peer_of(y, p.is_ipv4()).is_some_and(|(q, _)| q == p);
        return same.then(|| {
            format!(
                "vhid {vhid}: {xn}'s {key} is {p}, and {yn} names {p} as its peer too \
                 ({y_at}): the peers do not point at each other"
            )
        });
    }
    (!theirs.contains(&p)).then(|| {
        let list: Vec<String> = theirs.iter().map(ToString::to_string).collect();
        format!(
            "vhid {vhid}: {xn}'s {key} is {p}, which is not {yn}'s address ({yn} has {} \
             there, {y_at}): the peers do not point at each other",
            list.join(", ")
        )
    })
}
