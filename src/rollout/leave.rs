//! Nodes that leave the cluster (in OLD, not in NEW): the plan's first
//! steps are `carpctl -c OLD --node L maintenance on` on each.
//!
//! Why: a vhid removed from its MASTER sends nothing as it goes
//! (docs/freebsd-carp.md §11.3), so without a hand-over the next rank
//! takes over only after the master-down interval, `3 × advbase +
//! skew/256` s, and the VIP is unanswered meanwhile. The stepped
//! `maintenance on` ([`crate::maintenance`]) hands each VIP L is MASTER of
//! to its next rank by preemption first: the old master steps down on
//! hearing the new one, so nothing is lost and there is never a second
//! master. L then advertises the demoted skew (`DEMOTE_ADVSKEW`: advskew +
//! 240, at most `CARP_MAXSKEW`, [`AdvSkew::effective`]) and is BACKUP of
//! everything; its `apply --remove` steps move nothing.
//!
//! A leaving node that is MASTER of nothing in the plan still gets the
//! step when it carries a VIP: by the time the rollout runs it may be
//! MASTER after a failover, and the demotion is harmless otherwise.
//! The hand-over goes to the next rank of the OLD file. When the new file
//! makes another node master, the VIP moves once more, at the step that
//! makes that node faster (a preemption as well); and when two leaving
//! nodes are each other's next rank, the first one's maintenance may hand
//! a VIP to the second, whose maintenance hands it on. Both cost a second
//! move, never a request: the plan's moves say so.
//!
//! Without `[cluster] preempt` no BACKUP takes over from a slower master,
//! so a demotion hands nothing over: no step then, and the VIPs go by
//! takeover as before.

use super::order::{master, next_master};
use super::{Interval, Members, Move, Refused};
use crate::config::Config;
use crate::model::{AdvSkew, CARP_MAXSKEW, MAINTENANCE_WEIGHT};

/// The nodes of `old` that `new` has not and that carry a VIP in `old`'s
/// plan, in `old`'s order; none without preemption.
pub(super) fn leaving(old: &Config, old_plan: &crate::plan::Plan, new: &Config) -> Vec<String> {
    if !old.cluster.preempt {
        return Vec::new();
    }
    old.nodes
        .iter()
        .filter(|n| new.node(&n.name).is_none())
        .filter(|n| {
            old_plan
                .vips
                .iter()
                .any(|v| v.advskew_of(&n.name).is_some())
        })
        .map(|n| n.name.clone())
        .collect()
}

/// The interval a node advertises for a vhid of interval `i` once it is
/// in maintenance: its advbase, and `DEMOTE_ADVSKEW` of its advskew with
/// the demotion of 240.
pub(super) fn demoted(i: Interval) -> Interval {
    let skew = AdvSkew::new(i64::from(i % 256))
        .map_or(CARP_MAXSKEW, |s| s.effective(i32::from(MAINTENANCE_WEIGHT)));
    i / 256 * 256 + Interval::from(skew)
}

/// What the leaving nodes' maintenance steps do to one VIP.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Handed {
    /// The moves, each with the index of its leaving node in `leaving`
    /// (the index of its maintenance step in the plan).
    pub moves: Vec<(usize, Move)>,
    /// The VIP's master after them; `None` when no leaving node is a
    /// member (the order then elects it from the old file alone).
    pub master: Option<String>,
}

/// Demote the leaving members of `vip` in `members` (their old interval
/// becomes [`demoted`]), one leaving node after the other as the plan's
/// maintenance steps go, and say which step moves the VIP where.
pub(super) fn hand_over(
    vip: &str,
    members: &mut Members,
    leaving: &[String],
) -> Result<Handed, Refused> {
    if !leaving.iter().any(|l| members.contains_key(l)) {
        return Ok(Handed::default());
    }
    let mut current = master(members.iter().map(|(n, (o, _))| (n, *o))).ok_or_else(|| {
        Refused(format!(
            "VIP {vip}: two nodes share the shortest interval in the old file"
        ))
    })?;
    let mut out = Handed::default();
    for (i, l) in leaving.iter().enumerate() {
        let Some((Some(o), _)) = members.get_mut(l) else {
            continue;
        };
        *o = demoted(*o);
        let state: Vec<(&String, Option<Interval>)> =
            members.iter().map(|(n, (o, _))| (n, *o)).collect();
        let next = next_master(&state, Some(&current))
            .ok()
            .flatten()
            .ok_or_else(|| {
                Refused(format!(
                    "VIP {vip}: once {l} is in maintenance, two nodes share the shortest \
                     interval and would both take over"
                ))
            })?;
        if next != current {
            out.moves.push((
                i,
                Move {
                    vip: vip.into(),
                    from: std::mem::replace(&mut current, next.clone()),
                    to: next,
                },
            ));
        }
    }
    out.master = Some(current);
    Ok(out)
}
