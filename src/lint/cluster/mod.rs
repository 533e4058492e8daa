//! Checks across files: which files belong to one node, whether carp(4)
//! is loaded on each node, and, when several nodes are given, whether
//! they agree on what carp needs them to agree on.
//!
//! **Nodes.** Files are grouped into nodes by where they live and by name:
//! `/etc/rc.conf`, `/etc/rc.conf.local`, `/boot/loader.conf`,
//! `/etc/sysctl.conf` and `/usr/local/etc/devd/*.conf` of one tree are one
//! node (everything up to the first `etc` or `boot` directory), files
//! directly in a directory are grouped by the prefix before their kind
//! (`mail-a.rc.conf` and `mail-a.loader.conf` are node `mail-a`). A node is
//! named by its rc.conf `hostname`, else by that prefix or directory.
//!
//! **One vhid, one segment.** The same vhid on two nodes is one virtual
//! router when its interfaces share a subnet (or a VIP), or, when neither
//! node's interface addresses are known, when the interface names match.
//! For it, carp(4) needs (docs/freebsd-carp.md §10, users.md "What goes wrong"):
//!
//! * the same password on every node: the HMAC covers it, so a node with
//!   another password cannot authenticate the others and becomes MASTER;
//! * the same address list: the HMAC covers the addresses too, with the
//!   same effect;
//! * distinct advertisement intervals: on a tie the receiving master steps
//!   down (§8), so the VIP flaps.
//!
//! **Active-active.** When different nodes are the intended MASTER of
//! different vhids, `net.inet.carp.preempt` must be on everywhere, or a
//! node that recovers never takes its VIPs back (§7: off by default).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;

use super::Issue;
use super::codes::Code;
use super::loader::LoaderConf;
use super::rcconf::{RcConf, VhidEntry};
use super::sysctl::SysctlConf;
use crate::config::Pos;

mod nodes;
mod routers;

pub use nodes::{NodeFiles, node_key, nodes};
pub use routers::{Member, priority, virtual_routers};

/// What one input file was read as.
#[derive(Debug, Clone, Default)]
pub enum Analysis {
    RcConf(Box<RcConf>),
    Loader(LoaderConf),
    Sysctl(SysctlConf),
    /// devd.conf and cluster files: nothing for the cross-file checks.
    #[default]
    Other,
}

/// The cross-file checks. Returns (input index, issue).
pub fn check(paths: &[&Path], analyses: &[Analysis], force_cluster: bool) -> Vec<(usize, Issue)> {
    let mut out = Vec::new();
    let nodes = nodes(paths, analyses);
    let show = |f: usize| {
        paths
            .get(f)
            .map_or_else(String::new, |p| p.display().to_string())
    };

    // Per node: carp(4) loaded at boot.
    for node in &nodes {
        let rcs: Vec<(usize, &RcConf)> = node
            .files
            .iter()
            .filter_map(|&f| match analyses.get(f) {
                Some(Analysis::RcConf(rc)) => Some((f, rc.as_ref())),
                _ => None,
            })
            .collect();
        let loader: Option<(usize, &LoaderConf)> =
            node.files
                .iter()
                .rev()
                .find_map(|&f| match analyses.get(f) {
                    Some(Analysis::Loader(l)) => Some((f, l)),
                    _ => None,
                });
        let first_vhid = rcs
            .iter()
            .find_map(|(f, rc)| rc.first_vhid_pos().map(|p| (*f, p)));
        let modern = rcs.iter().any(|(_, rc)| rc.modern);
        let legacy = rcs.iter().any(|(_, rc)| rc.legacy.is_some());
        let kld = rcs.iter().any(|(_, rc)| rc.kld_carp);
        if let Some((lf, l)) = loader
            && let Some((true, pos)) = l.if_carp_load
        {
            out.push((
                lf,
                Issue::new(
                    Code::IfCarpLoad,
                    pos,
                    if modern {
                        "if_carp_load names the FreeBSD 9 module if_carp.ko, which FreeBSD 10 and \
                         later do not have, and this node's rc.conf uses the FreeBSD 10 form: \
                         carp(4) is not loaded this way; write carp_load=\"YES\""
                            .to_string()
                    } else if legacy {
                        "if_carp_load goes with the FreeBSD 9 rc.conf of this node; FreeBSD 10 and \
                         later load carp.ko with carp_load=\"YES\" (carpctl migrate prints the \
                         change)"
                            .to_string()
                    } else {
                        "if_carp_load names the FreeBSD 9 module if_carp.ko; FreeBSD 10 and later \
                         load carp.ko: write carp_load=\"YES\""
                            .to_string()
                    },
                ),
            ));
        }
        let Some((vf, vpos)) = first_vhid else {
            continue;
        };
        let loaded = kld
            || loader.is_some_and(|(_, l)| {
                l.carp_load.is_some_and(|(y, _)| y)
                    || (legacy && !modern && l.if_carp_load.is_some_and(|(y, _)| y))
            });
        if loaded {
            continue;
        }
        match loader {
            Some((lf, l)) => {
                let pos = l.carp_load.map_or(Pos { line: 1, column: 1 }, |(_, p)| p);
                out.push((
                    lf,
                    Issue::new(
                        Code::CarpNotLoaded,
                        pos,
                        format!(
                            "{} configures vhids (line {}) but carp(4) is not loaded at boot: \
                             network.subr does not load it, so every vhid line fails with \
                             \"Protocol not supported\"; add carp_load=\"YES\" here (or \
                             kld_list=\"carp\" in rc.conf, or device carp in the kernel)",
                            show(vf),
                            vpos.line
                        ),
                    ),
                ));
            }
            None => out.push((
                vf,
                Issue::new(
                    Code::CarpLoadUnknown,
                    vpos,
                    "vhids need carp(4) loaded at boot, which network.subr does not do: make sure \
                     /boot/loader.conf has carp_load=\"YES\" (give it to lint too), or add \
                     kld_list=\"carp\" here"
                        .to_string(),
                ),
            )),
        }
    }

    // Across nodes.
    let mut rcs: Vec<(usize, usize, &RcConf)> = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for &f in &node.files {
            if let Some(Analysis::RcConf(rc)) = analyses.get(f) {
                rcs.push((n, f, rc.as_ref()));
            }
        }
    }
    let (entries, groups) = virtual_routers(&rcs);
    let node_count = nodes
        .iter()
        .filter(|n| {
            n.files.iter().any(
                |&f| matches!(analyses.get(f), Some(Analysis::RcConf(rc)) if !rc.vhids.is_empty()),
            )
        })
        .count();
    let shared = groups.iter().any(|g| g.len() >= 2);
    if !(force_cluster || (node_count >= 2 && shared)) {
        return out;
    }
    let name = |n: usize| nodes.get(n).map_or("?", |x| x.name.as_str());
    let mut masters: BTreeSet<usize> = BTreeSet::new();
    for g in &groups {
        let members: Vec<&Member<'_>> = g.iter().filter_map(|&i| entries.get(i)).collect();
        let Some(first) = members.first() else {
            continue;
        };
        let where_ =
            |x: &Member<'_>| format!("{} at {}:{}", name(x.node), show(x.file), x.entry.pos.line);
        if members.len() == 1 {
            if force_cluster || node_count >= 2 {
                out.push((
                    first.file,
                    Issue::new(
                        Code::SingleNodeVhid,
                        first.entry.pos,
                        format!(
                            "vhid {} is carried by {} only: no other node given takes it over \
                             when this one fails",
                            first.entry.vhid,
                            name(first.node)
                        ),
                    ),
                ));
            }
            continue;
        }
        for other in members.iter().skip(1) {
            if other.entry.pass.as_ref().map(|p| &p.0) != first.entry.pass.as_ref().map(|p| &p.0) {
                let pos = other.entry.pass.as_ref().map_or(other.entry.pos, |p| p.1);
                out.push((
                    other.file,
                    Issue::new(
                        Code::PasswordMismatch,
                        pos,
                        format!(
                            "vhid {}: {}: CARP authenticates every advertisement with the \
                             password, so the nodes ignore each other and both become MASTER; use \
                             the same password on every node",
                            other.entry.vhid,
                            match (&other.entry.pass, &first.entry.pass) {
                                (None, _) =>
                                    format!("no password here, but one on {}", where_(first)),
                                (_, None) =>
                                    format!("a password here, but none on {}", where_(first)),
                                _ => format!(
                                    "the password here differs from the one on {}",
                                    where_(first)
                                ),
                            },
                        ),
                    ),
                ));
            }
            let a: BTreeSet<IpAddr> = other
                .entry
                .addresses
                .iter()
                .map(|(n, _)| n.addr())
                .collect();
            let b: BTreeSet<IpAddr> = first
                .entry
                .addresses
                .iter()
                .map(|(n, _)| n.addr())
                .collect();
            if a != b {
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
                            where_(first),
                            list(&b)
                        ),
                    ),
                ));
            }
        }
        // Ties: compare every pair whose skew is known.
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
                            where_(y),
                            describe(x.entry)
                        ),
                    ),
                ));
            }
        }
        // The intended master: the single best priority among the nodes
        // whose skew is known.
        let known: Vec<&&Member<'_>> = members
            .iter()
            .filter(|m| !m.entry.advskew_unknown)
            .collect();
        let best = known.iter().map(|m| priority(m.entry)).min();
        let at_best: Vec<&&&Member<'_>> = known
            .iter()
            .filter(|m| Some(priority(m.entry)) == best)
            .collect();
        if let [m] = at_best.as_slice() {
            masters.insert(m.node);
        }
    }

    // Preempt across nodes.
    let cluster_nodes: Vec<usize> = entries
        .iter()
        .map(|e| e.node)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut preempt: BTreeMap<usize, Option<(bool, usize, Pos)>> = BTreeMap::new();
    for &n in &cluster_nodes {
        let Some(node) = nodes.get(n) else { continue };
        let s = node
            .files
            .iter()
            .rev()
            .find_map(|&f| match analyses.get(f) {
                Some(Analysis::Sysctl(s)) => Some((f, s)),
                _ => None,
            });
        preempt.insert(
            n,
            s.map(|(f, s)| match s.preempt {
                Some((v, p)) => (v, f, p),
                None => (false, f, Pos { line: 1, column: 1 }),
            }),
        );
    }
    if masters.len() >= 2 {
        for (&n, p) in &preempt {
            match p {
                Some((false, f, pos)) => out.push((
                    *f,
                    Issue::new(
                        Code::PreemptOff,
                        *pos,
                        format!(
                            "{} is MASTER for some vhids and BACKUP for others (active-active), \
                             but net.inet.carp.preempt is off here{}: after a failure it never \
                             takes its VIPs back and the load stays on the other node; set \
                             net.inet.carp.preempt=1",
                            name(n),
                            if pos.line == 1 && pos.column == 1 {
                                " (not set; off by default)"
                            } else {
                                ""
                            }
                        ),
                    ),
                )),
                Some(_) => {}
                None => {
                    if let Some(e) = entries.iter().find(|e| e.node == n) {
                        out.push((
                            e.file,
                            Issue::new(
                                Code::PreemptUnknown,
                                e.entry.pos,
                                format!(
                                    "{} is part of an active-active cluster, which needs \
                                     net.inet.carp.preempt=1 in /etc/sysctl.conf on every node \
                                     (off by default); give sysctl.conf to lint to check it",
                                    name(n)
                                ),
                            ),
                        ));
                    }
                }
            }
        }
    }
    let known: Vec<(usize, bool, usize, Pos)> = preempt
        .iter()
        .filter_map(|(&n, p)| p.map(|(v, f, pos)| (n, v, f, pos)))
        .collect();
    if let Some(&(n0, v0, f0, _)) = known.first() {
        for &(n, v, f, pos) in known.iter().skip(1) {
            if v != v0 {
                out.push((
                    f,
                    Issue::new(
                        Code::PreemptMismatch,
                        pos,
                        format!(
                            "net.inet.carp.preempt is {} on {} but {} on {} ({}): nodes then \
                             disagree on who takes a VIP back; set the same value everywhere \
                             (1 for a cluster that balances load)",
                            u8::from(v),
                            name(n),
                            u8::from(v0),
                            name(n0),
                            show(f0)
                        ),
                    ),
                ));
            }
        }
    }
    out
}

fn describe(e: &VhidEntry) -> String {
    if e.version == 3 {
        format!("vrrpprio {}", e.vrrpprio.unwrap_or(100))
    } else {
        format!("advbase {} advskew {}", e.advbase, e.advskew)
    }
}
