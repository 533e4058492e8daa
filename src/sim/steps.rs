//! What each change cost (`apply` events, the steps of a `rollout`,
//! maintenance on and off, switchovers): from one such event to the next (or the end), the
//! requests lost, the time two nodes were MASTER of a VIP, and the VIPs
//! that changed hands.

use std::collections::BTreeSet;

use serde::Serialize;

use super::report::Report;
use crate::model::CarpState;

/// One change (an `apply`, a rollout step, maintenance, a switchover)
/// and what followed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeStep {
    pub time: f64,
    /// As the event log says it.
    pub detail: String,
    /// Requests lost in outages that began in the step's window.
    pub lost: u64,
    /// Seconds of two masters (summed over VIPs) within the window.
    pub dual_master: f64,
    /// "VIP to NODE", for each VIP whose one MASTER at the end of the
    /// window is another node than at its start (a hand-over through a
    /// brief second master is one move; a first MASTER is none).
    pub moved: Vec<String>,
}

/// The steps of `r`, from its event log, transitions and VIPs.
pub(super) fn change_steps(r: &Report) -> Vec<ChangeStep> {
    let starts: Vec<(f64, &str)> = r
        .events
        .iter()
        .filter(|e| {
            matches!(
                e.action.as_str(),
                "apply" | "maintenance_on" | "maintenance_off" | "switchover"
            )
        })
        .map(|e| (e.time, e.detail.as_str()))
        .collect();
    // Per VIP, the nodes MASTER of it as the transitions go.
    let mut masters: Vec<BTreeSet<String>> = vec![BTreeSet::new(); r.vips.len()];
    let mut transitions = (&r.transitions).into_iter().peekable();
    let mut follow = |until: f64, masters: &mut Vec<BTreeSet<String>>| {
        while let Some(t) = transitions.next_if(|t| t.time < until) {
            let Some(i) = r
                .vips
                .iter()
                .position(|v| Some(v.name.as_str()) == t.vip.as_deref())
            else {
                continue;
            };
            if t.to == CarpState::Master {
                masters[i].insert(t.node.to_string());
            } else if t.from == CarpState::Master {
                masters[i].remove(&*t.node);
            }
        }
    };
    let single = |m: &BTreeSet<String>| (m.len() == 1).then(|| m.first().cloned()).flatten();
    follow(starts.first().map_or(f64::INFINITY, |s| s.0), &mut masters);
    let mut out = Vec::new();
    for (k, &(from, detail)) in starts.iter().enumerate() {
        let until = starts.get(k + 1).map_or(r.duration, |s| s.0);
        let before: Vec<Option<String>> = masters.iter().map(single).collect();
        follow(until, &mut masters);
        let mut step = ChangeStep {
            time: from,
            detail: detail.to_string(),
            lost: 0,
            dual_master: 0.0,
            moved: Vec::new(),
        };
        for (i, v) in r.vips.iter().enumerate() {
            step.lost += v
                .outages
                .iter()
                .filter(|o| o.start >= from && o.start < until)
                .map(|o| o.lost)
                .sum::<u64>();
            step.dual_master += v
                .dual_master
                .iter()
                .map(|d| (d.end.min(until) - d.start.max(from)).max(0.0))
                .sum::<f64>();
            if let (Some(a), Some(b)) = (&before[i], single(&masters[i]))
                && *a != b
            {
                step.moved.push(format!("{} to {b}", v.name));
            }
        }
        out.push(step);
    }
    out
}
