//! `carpctl switchover VIP [--to NODE]`: move one VIP to a named node with
//! no request lost and never two masters; the procedure, its record, and
//! what one node does.
//!
//! # Why advskew, and on which nodes
//!
//! carp(4)'s demotion is node-wide (`V_carp_demotion`, added to every
//! vhid's skew by `DEMOTE_ADVSKEW()`, FreeBSD sys/netinet/ip_carp.c), so it
//! cannot move one VIP alone; the per-vhid advskew can
//! (`carp_ioctl_set()` / `carp_nl_set()` store `sc_advskew`). The planned
//! master advertises skew 0, so the target cannot undercut it: the nodes
//! *ahead of* the target (planned skew at or below the target's `s_T`)
//! raise their skew for the vhid above `s_T` instead ([`procedure`]).
//!
//! Each raised node gets its own value, the smallest free ones above
//! `s_T` in the order of their planned skews (`s_T + 1`, `s_T + 2`, ...,
//! skipping any skew another member advertises). Distinct values matter
//! when the target fails during the switchover: the raised nodes are then
//! the fastest backups, and two of them at one skew would time out in the
//! same tick, both become MASTER and both step down again on hearing each
//! other (`carp_input_c()`, `CARP_MASTER` case: an equal interval), over
//! and over. With distinct values exactly one, the planned master, takes
//! over (`sim::switchover_tests`, the target failing).
//!
//! # Why in this order, and why nothing is lost
//!
//! The raising backups go first: a BACKUP's skew is heard by nobody while
//! it is BACKUP (only a MASTER advertises, `carp_send_ad_locked()`), so
//! nothing moves. The current master goes last. Its next advertisement
//! carries a skew above `s_T`; the target, BACKUP with `net.inet.carp.preempt=1`,
//! finds the master slower than itself and becomes MASTER at once,
//! advertising immediately (`carp_input_c()`, `CARP_BACKUP` case,
//! "preempting a slower master" -> `carp_master_down_locked()`); the old
//! master steps down only on hearing that advertisement (`carp_input_c()`,
//! `CARP_MASTER` case, "more frequent advertisement received"). Both are
//! emulated the same way (`kernel::emulated::fsm::carp_input`). The VIP
//! always has a master, and it changes hands exactly once, as in the
//! stepped maintenance ([`crate::maintenance`]). The nodes behind the
//! target keep their skews, which are above `s_T`, so none of them moves.
//!
//! `--back` restores the planned skews, the raised node with the lowest
//! planned skew first: it is then the fastest and preempts the VIP straight
//! back (one move); the others follow as BACKUPs.
//!
//! VRRPv3 VIPs are refused: their master is chosen by priority
//! (`vrrp_input_c()`), which has no per-node skew to raise, and the
//! maintenance procedure's priority step covers them there.
//!
//! # Layout
//!
//! This file: the pure procedure ([`procedure`]), the one home of which
//! nodes raise, to what, and in which order, used by the command and the
//! simulator alike. `record`: the record in `state_dir`. `node`: what one
//! node does against its kernel.

use crate::model::{AdvSkew, CARP_MAXSKEW, Protocol, Vhid};
use crate::plan::{Plan, VipPlan};

pub(crate) mod node;
pub(crate) mod record;

/// One switchover: who raises, to what, in which order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Switchover {
    pub vip: String,
    pub vhid: Vhid,
    /// The node MASTER of the VIP when it starts.
    pub master: String,
    pub target: String,
    /// The nodes that raise, in the order they must: the backups in rank
    /// order, then the current master.
    pub raise: Vec<Raise>,
}

/// One node ahead of the target: its planned skew and the one it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Raise {
    pub node: String,
    pub planned: AdvSkew,
    /// Above the target's planned skew, distinct from every other
    /// member's (module doc).
    pub to: AdvSkew,
}

impl Switchover {
    /// `node`'s raise, when it is a node that raises.
    pub(crate) fn raise_of(&self, node: &str) -> Option<&Raise> {
        self.raise.iter().find(|r| r.node == node)
    }

    /// The order `--back` runs in: the raised nodes, the lowest planned
    /// skew first (it preempts the VIP straight back).
    pub(crate) fn back_order(&self) -> Vec<Raise> {
        let mut v = self.raise.clone();
        v.sort_by_key(|r| r.planned);
        v
    }
}

/// Why a switchover cannot be made. Each message names the VIP and the
/// node concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SwitchoverError {
    #[error("the cluster file has no VIP \"{vip}\" (its VIPs: {known})")]
    UnknownVip { vip: String, known: String },
    #[error(
        "VIP \"{0}\" is VRRPv3: its master is chosen by priority (vrrp_input_c()), which has \
         no per-node skew to raise; switchover moves CARP VIPs only"
    )]
    Vrrp(String),
    #[error("VIP \"{vip}\" has one node ({node}): there is no other node to move it to")]
    OneNode { vip: String, node: String },
    #[error(
        "switchover relies on preemption, and the cluster file sets preempt = false \
         (net.inet.carp.preempt=0): the target would never take the VIP over"
    )]
    NoPreempt,
    #[error("the cluster file has no node \"{node}\" (its nodes: {known})")]
    UnknownNode { node: String, known: String },
    #[error("node \"{node}\" takes no part in VIP \"{vip}\" (its order: {order})")]
    NotInOrder {
        vip: String,
        node: String,
        order: String,
    },
    #[error("node \"{node}\" is already the master of VIP \"{vip}\"; nothing to move")]
    TargetIsMaster { vip: String, node: String },
    #[error("VIP \"{vip}\": its master {master} is its last rank; name the target with --to")]
    NoNextRank { vip: String, master: String },
    #[error(
        "VIP \"{vip}\": the target {target} (planned advskew {target_skew}) already ranks ahead \
         of the current master {master} (planned advskew {master_skew}); with preemption it \
         would be MASTER unless it is down or demoted, which a switchover cannot mend"
    )]
    TargetAhead {
        vip: String,
        target: String,
        target_skew: u8,
        master: String,
        master_skew: u8,
    },
    #[error(
        "VIP \"{vip}\": moving it to {target} (planned advskew {target_skew}) needs advskew \
         {needed} on a node ahead of it, but it must stay below {CARP_MAXSKEW} (CARP_MAXSKEW, \
         what a fully demoted node advertises): choose a nearer target or a smaller \
         advskew_step"
    )]
    SkewTooHigh {
        vip: String,
        target: String,
        target_skew: u8,
        needed: u16,
    },
}

/// The switchover of `vip` from `master` (the node MASTER of it now) to
/// `to`, or, without `to`, to the next rank after `master` in the planned
/// order. `preempt` is the cluster file's `[cluster] preempt`.
///
/// Every node other than the target whose planned skew for the vhid is at
/// or below the target's `s_T` raises it above `s_T`, each to its own
/// value in rank order ([`Raise::to`]): the backups among them first, in
/// rank order, the current master last (module doc).
pub(crate) fn procedure(
    plan: &Plan,
    preempt: bool,
    vip: &str,
    master: &str,
    to: Option<&str>,
) -> Result<Switchover, SwitchoverError> {
    let v = check(plan, preempt, vip, to)?;
    let master_skew = member(plan, v, master)?;
    let target = match to {
        Some(t) => t.to_string(),
        None => next_rank(v, master)?,
    };
    let target_skew = member(plan, v, &target)?;
    if target == master {
        return Err(SwitchoverError::TargetIsMaster {
            vip: vip.to_string(),
            node: target,
        });
    }
    if target_skew < master_skew {
        return Err(SwitchoverError::TargetAhead {
            vip: vip.to_string(),
            target,
            target_skew: target_skew.get(),
            master: master.to_string(),
            master_skew: master_skew.get(),
        });
    }
    let ahead: Vec<(String, AdvSkew)> = v
        .order
        .iter()
        .filter(|n| **n != target)
        .filter_map(|n| v.advskew_of(n).map(|s| (n.clone(), s)))
        .filter(|(_, s)| *s <= target_skew)
        .collect();
    let taken: Vec<u8> = v
        .order
        .iter()
        .filter(|n| !ahead.iter().any(|(a, _)| a == *n))
        .filter_map(|n| v.advskew_of(n).map(AdvSkew::get))
        .collect();
    let mut next = u16::from(target_skew.get()) + 1;
    let mut raise = Vec::with_capacity(ahead.len());
    // `order` is by rank, so by planned skew: the values keep that order.
    for (node, planned) in ahead {
        while taken.iter().any(|t| u16::from(*t) == next) {
            next += 1;
        }
        let to = match AdvSkew::new(i64::from(next)) {
            Ok(s) if s.get() < CARP_MAXSKEW => s,
            _ => {
                return Err(SwitchoverError::SkewTooHigh {
                    vip: vip.to_string(),
                    target,
                    target_skew: target_skew.get(),
                    needed: next,
                });
            }
        };
        raise.push(Raise { node, planned, to });
        next += 1;
    }
    // The backups first, the current master last (module doc).
    if let Some(i) = raise.iter().position(|r| r.node == master) {
        let m = raise.remove(i);
        raise.push(m);
    }
    Ok(Switchover {
        vip: vip.to_string(),
        vhid: v.vhid,
        master: master.to_string(),
        target,
        raise,
    })
}

/// What can be checked without a kernel: the VIP exists, is CARP, has
/// another node, preemption is on, and `to`, when given, is one of its
/// nodes.
pub(crate) fn check<'p>(
    plan: &'p Plan,
    preempt: bool,
    vip: &str,
    to: Option<&str>,
) -> Result<&'p VipPlan, SwitchoverError> {
    let v = plan.vip(vip).ok_or_else(|| SwitchoverError::UnknownVip {
        vip: vip.to_string(),
        known: plan
            .vips
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    if v.protocol != Protocol::Carp {
        return Err(SwitchoverError::Vrrp(vip.to_string()));
    }
    if v.order.len() < 2 {
        return Err(SwitchoverError::OneNode {
            vip: vip.to_string(),
            node: v.order.first().cloned().unwrap_or_default(),
        });
    }
    if !preempt {
        return Err(SwitchoverError::NoPreempt);
    }
    if let Some(t) = to {
        member(plan, v, t)?;
    }
    Ok(v)
}

/// `node`'s planned skew for `v`, or why it has none.
fn member(plan: &Plan, v: &VipPlan, node: &str) -> Result<AdvSkew, SwitchoverError> {
    if !plan.nodes.iter().any(|n| n == node) {
        return Err(SwitchoverError::UnknownNode {
            node: node.to_string(),
            known: plan.nodes.join(", "),
        });
    }
    v.advskew_of(node)
        .ok_or_else(|| SwitchoverError::NotInOrder {
            vip: v.name.clone(),
            node: node.to_string(),
            order: v.order.join(", "),
        })
}

/// The node after `master` in `v`'s planned order.
fn next_rank(v: &VipPlan, master: &str) -> Result<String, SwitchoverError> {
    let rank = v
        .rank_of(master)
        .ok_or_else(|| SwitchoverError::NotInOrder {
            vip: v.name.clone(),
            node: master.to_string(),
            order: v.order.join(", "),
        })?;
    v.order
        .get(rank + 1)
        .cloned()
        .ok_or_else(|| SwitchoverError::NoNextRank {
            vip: v.name.clone(),
            master: master.to_string(),
        })
}

/// One line per node, saying in which order the nodes run the command:
/// `1. n2 (backup): advskew 20 -> 41`, ..., the master last.
pub(crate) fn order_lines(sw: &Switchover) -> Vec<String> {
    sw.raise
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = &r.node;
            let role = if *n == sw.master {
                "the current master, last: this moves the VIP"
            } else {
                "backup: nothing moves"
            };
            format!(
                "{}. {n} ({role}): advskew {} -> {}",
                i + 1,
                r.planned.get(),
                r.to.get()
            )
        })
        .collect()
}

/// The `--back` order as lines: `1. n0: advskew 41 -> 0 (the VIP comes
/// back here)`, then the others.
pub(crate) fn back_lines(sw: &Switchover) -> Vec<String> {
    sw.back_order()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let what = if i == 0 {
                " (it preempts the VIP straight back)"
            } else {
                ""
            };
            format!(
                "{}. {}: advskew {} -> {}{what}",
                i + 1,
                r.node,
                r.to.get(),
                r.planned.get()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests;
