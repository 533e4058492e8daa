//! What each change of a cluster file cost (`apply` events and the steps
//! of a `rollout`): from one such event to the next (or the end), the
//! requests lost, the time two nodes were MASTER of a VIP, and the VIPs
//! that changed hands.

use serde::Serialize;

use super::report::Report;
use crate::model::CarpState;

/// One `apply` event (a rollout step or not) and what followed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeStep {
    pub time: f64,
    /// As the event log says it.
    pub detail: String,
    /// Requests lost in outages that began in the step's window.
    pub lost: u64,
    /// Seconds of two masters (summed over VIPs) within the window.
    pub dual_master: f64,
    /// "VIP to NODE", for each VIP that got a new MASTER in the window
    /// (a VIP's first MASTER is no move).
    pub moved: Vec<String>,
}

/// The steps of `r`, from its event log, transitions and VIPs.
pub(super) fn change_steps(r: &Report) -> Vec<ChangeStep> {
    let starts: Vec<(f64, &str)> = r
        .events
        .iter()
        .filter(|e| e.action == "apply")
        .map(|e| (e.time, e.detail.as_str()))
        .collect();
    let mut had_master: Vec<bool> = vec![false; r.vips.len()];
    let mut transitions = (&r.transitions).into_iter().peekable();
    let mut out = Vec::new();
    // Transitions before the first change only say who held what.
    let first = starts.first().map_or(f64::INFINITY, |s| s.0);
    while let Some(t) = transitions.next_if(|t| t.time < first) {
        if t.to == CarpState::Master
            && let Some(i) = r.vips.iter().position(|v| Some(v.name.as_str()) == t.vip.as_deref())
        {
            had_master[i] = true;
        }
    }
    for (k, &(from, detail)) in starts.iter().enumerate() {
        let until = starts.get(k + 1).map_or(r.duration, |s| s.0);
        let mut step = ChangeStep {
            time: from,
            detail: detail.to_string(),
            lost: 0,
            dual_master: 0.0,
            moved: Vec::new(),
        };
        for v in &r.vips {
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
        }
        while let Some(t) = transitions.next_if(|t| t.time < until) {
            if t.to != CarpState::Master {
                continue;
            }
            let Some(i) = r.vips.iter().position(|v| Some(v.name.as_str()) == t.vip.as_deref())
            else {
                continue;
            };
            if had_master[i] {
                step.moved.push(format!("{} to {}", r.vips[i].name, t.node));
            }
            had_master[i] = true;
        }
        out.push(step);
    }
    out
}
