//! Checking a scenario's `[[expect]]` entries (carpctl.scenario(5),
//! EXPECTATIONS) against the report of its run, and the outcome of the
//! run: every expectation met, and every requirement no expectation names
//! met ([`Report::passed`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::report::{self, Report};
use super::scenario::{Action, Expect, Requirement, Scenario, Window};
use crate::model::CarpState;

/// One expectation and what the run showed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ExpectResult {
    /// `expect[N]`.
    pub key: String,
    /// Its line in the scenario file.
    pub line: Option<usize>,
    /// What was expected, in words.
    pub expected: String,
    /// What the run showed, in words.
    pub(crate) observed: String,
    pub met: bool,
    /// The requirement a `verdict` expectation names: it then decides
    /// in place of the requirement itself.
    #[serde(skip)]
    pub(crate) judges: Option<Requirement>,
}

fn secs(us: u64) -> f64 {
    us as f64 / 1e6
}

/// A (node, VIP) pair's changes of state, in time order: (seconds, state).
type History = Vec<(f64, CarpState)>;

/// Check every expectation of `sc` against `r`.
pub(crate) fn check(sc: &Scenario, r: &Report) -> Vec<ExpectResult> {
    // Only the pairs asked about are gathered, in one pass over the log.
    let mut histories: BTreeMap<(String, String), History> = BTreeMap::new();
    for e in &sc.expects {
        if let Expect::State { node, vip, .. } = &e.what {
            histories.insert((sc.nodes[*node].name.clone(), vip.clone()), Vec::new());
        }
    }
    if !histories.is_empty() {
        for t in &r.transitions {
            if let Some(vip) = &t.vip
                && let Some(h) = histories.get_mut(&(t.node.to_string(), vip.to_string()))
            {
                h.push((t.time, t.to));
            }
        }
    }
    sc.expects
        .iter()
        .map(|e| {
            let (expected, observed, met) = match &e.what {
                Expect::Master { vip, at, node } => master(sc, r, vip, *at, *node),
                Expect::State {
                    node,
                    vip,
                    at,
                    state,
                } => {
                    let name = &sc.nodes[*node].name;
                    let h = &histories[&(name.clone(), vip.clone())];
                    let seen = state_at(sc, h, *node, *at);
                    (
                        format!(
                            "{name}'s vhid of {vip} {} at {:.3} s",
                            state.as_str(),
                            secs(*at)
                        ),
                        seen.as_str().to_string(),
                        seen == *state,
                    )
                }
                Expect::LongestOutageBelow { vip, below, window } => {
                    outage(r, vip.as_deref(), *below, *window)
                }
                Expect::NoDualMaster { vip, none, window } => {
                    dual(r, vip.as_deref(), *none, *window)
                }
                Expect::Verdict { requirement, met } => verdict(r, *requirement, *met),
                Expect::Answered {
                    node,
                    vip,
                    at,
                    answered,
                } => sent_answered(sc, r, *node, vip, *at, *answered),
                Expect::Cache {
                    host,
                    address,
                    mac,
                    at,
                } => cache(
                    r,
                    host,
                    *address,
                    mac.as_deref(),
                    at.map_or(r.duration, secs),
                ),
            };
            ExpectResult {
                key: e.key.clone(),
                line: e.pos.map(|p| p.line),
                expected,
                observed,
                met,
                judges: match e.what {
                    Expect::Verdict { requirement, .. } => Some(requirement),
                    _ => None,
                },
            }
        })
        .collect()
}

/// The nodes MASTER of `vip` at `at`, after every change at that instant:
/// a tenure counts from its start up to (not including) its end, or to
/// the end of the run when it is still going on.
fn master(sc: &Scenario, r: &Report, vip: &str, at: u64, node: usize) -> (String, String, bool) {
    let t = secs(at);
    let masters: Vec<&str> = r
        .nodes
        .iter()
        .filter(|n| {
            n.held
                .iter()
                .any(|h| *h.vip == *vip && h.start <= t && (t < h.end || (h.ongoing && t >= h.end)))
        })
        .map(|n| n.name.as_str())
        .collect();
    let want = &sc.nodes[node].name;
    let observed = match masters.as_slice() {
        [] => "no node is MASTER".to_string(),
        [one] => (*one).to_string(),
        many => format!("{} are all MASTER", many.join(", ")),
    };
    let met = masters == [want.as_str()];
    (
        format!("{want} alone MASTER of {vip} at {t:.3} s"),
        observed,
        met,
    )
}

/// The state of `node`'s vhid at `at`: its last change at or before then,
/// INIT when the node crashed since (a crash logs no transition: the
/// kernel is gone) or when it has none yet.
fn state_at(sc: &Scenario, h: &History, node: usize, at: u64) -> CarpState {
    let t = secs(at);
    let i = h.partition_point(|(time, _)| *time <= t);
    let last = i.checked_sub(1).map(|i| h[i]);
    let crashed = sc
        .events
        .iter()
        .filter(|e| e.at <= at && matches!(e.action, Action::Crash { node: n } if n == node))
        .map(|e| secs(e.at))
        .next_back();
    match (last, crashed) {
        (Some((changed, s)), Some(c)) if changed > c => s,
        (Some((_, s)), None) => s,
        _ => CarpState::Init,
    }
}

/// The part of [`start`, `end`] inside the window, in seconds.
fn clip(start: f64, end: f64, w: Window) -> Option<f64> {
    let (s, e) = (start.max(secs(w.from)), end.min(secs(w.until)));
    (e > s).then_some(e - s)
}

fn window_text(w: Window, duration: f64) -> String {
    if w.from == 0 && secs(w.until) >= duration {
        String::new()
    } else {
        format!(" from {:.3} s until {:.3} s", secs(w.from), secs(w.until))
    }
}

fn which(vip: Option<&str>) -> String {
    vip.map_or("any VIP".to_string(), |v| v.to_string())
}

fn outage(r: &Report, vip: Option<&str>, below: u64, w: Window) -> (String, String, bool) {
    let mut longest: Option<(f64, &str, f64)> = None;
    for v in r.vips.iter().filter(|v| vip.is_none_or(|x| v.name == x)) {
        for o in &v.outages {
            if let Some(len) = clip(o.start, o.end, w)
                && longest.is_none_or(|(l, _, _)| len > l)
            {
                longest = Some((len, &v.name, o.start));
            }
        }
    }
    let expected = format!(
        "every outage of {}{} shorter than {} s",
        which(vip),
        window_text(w, r.duration),
        report::dur(secs(below))
    );
    match longest {
        None => (expected, "no outage".to_string(), true),
        Some((len, v, start)) => (
            expected,
            format!("longest {} s ({v} at {:.3} s)", report::dur(len), start),
            len < secs(below),
        ),
    }
}

fn dual(r: &Report, vip: Option<&str>, none: bool, w: Window) -> (String, String, bool) {
    let mut found = Vec::new();
    for v in r.vips.iter().filter(|v| vip.is_none_or(|x| v.name == x)) {
        for d in &v.dual_master {
            if clip(d.start, d.end, w).is_some() {
                found.push(format!(
                    "{} {:.3} - {:.3} s ({})",
                    v.name,
                    d.start,
                    d.end,
                    d.nodes.join(", ")
                ));
            }
        }
    }
    let expected = format!(
        "{} dual master of {}{}",
        if none { "no" } else { "a" },
        which(vip),
        window_text(w, r.duration)
    );
    let observed = match found.len() {
        0 => "no dual master".to_string(),
        1 => format!("dual master {}", found[0]),
        n => format!("{n} dual masters, the first {}", found[0]),
    };
    (expected, observed, found.is_empty() == none)
}

fn verdict(r: &Report, req: Requirement, met: bool) -> (String, String, bool) {
    let v = &r.verdicts;
    let (seen, detail) = match req {
        Requirement::Balance => (v.load_balanced.met, &v.load_balanced.detail),
        Requirement::Failover => (v.failover_unnoticed.met, &v.failover_unnoticed.detail),
        Requirement::Preemption => (
            v.rebalanced_after_recovery.met,
            &v.rebalanced_after_recovery.detail,
        ),
    };
    let word = |m: bool| if m { "met" } else { "not met" };
    (
        format!("{} {}", req.name(), word(met)),
        format!("{}: {detail}", word(seen)),
        seen == met,
    )
}

impl Report {
    /// What was not met: each expectation not met (its key), and each
    /// requirement not met that no `verdict` expectation names. Empty: the
    /// run passed (exit status 0).
    pub(crate) fn not_met(&self) -> Vec<String> {
        let judged = |q: Requirement| self.expectations.iter().any(|e| e.judges == Some(q));
        let r = &self.requirements;
        let mut out: Vec<String> = [
            (r.load_balanced, Requirement::Balance, "load balanced"),
            (
                r.failover_unnoticed,
                Requirement::Failover,
                "failover unnoticed",
            ),
            (
                r.rebalanced_after_recovery,
                Requirement::Preemption,
                "rebalanced after recovery",
            ),
        ]
        .iter()
        .filter(|(ok, q, _)| !ok && !judged(*q))
        .map(|(_, _, n)| (*n).to_string())
        .collect();
        out.extend(
            self.expectations
                .iter()
                .filter(|e| !e.met)
                .map(|e| match e.line {
                    Some(l) => format!("{} (line {l})", e.key),
                    None => e.key.clone(),
                }),
        );
        out
    }

    /// Every expectation met, and every requirement no expectation names.
    pub fn passed(&self) -> bool {
        self.not_met().is_empty()
    }
}

/// The node's `send_from_vip` of the VIP at `at` was answered (or not).
fn sent_answered(
    sc: &Scenario,
    r: &Report,
    node: usize,
    vip: &str,
    at: u64,
    answered: bool,
) -> (String, String, bool) {
    let name = &sc.nodes[node].name;
    let t = secs(at);
    let expected = format!(
        "traffic from {vip} sent by {name} at {t:.3} s {}",
        if answered { "answered" } else { "not answered" }
    );
    match r
        .sent_from_vip
        .iter()
        .find(|p| p.node == *name && p.vip == vip && p.time == t)
    {
        Some(p) => (expected, p.detail.clone(), p.answered == answered),
        None => (expected, "nothing was sent".to_string(), false),
    }
}

/// `host`'s cache holds `address` at `mac` (`None`: no entry) at `t`
/// seconds: its last entry learned at or before `t`.
fn cache(
    r: &Report,
    host: &str,
    address: std::net::IpAddr,
    mac: Option<&str>,
    t: f64,
) -> (String, String, bool) {
    let address = address.to_string();
    let seen = r
        .neighbors
        .iter()
        .rfind(|e| e.host == host && e.address == address && e.time <= t)
        .map(|e| e.mac.as_str());
    let expected = format!(
        "{host}'s cache at {t:.3} s: {address} {}",
        mac.unwrap_or("no entry")
    );
    (
        expected,
        seen.unwrap_or("no entry").to_string(),
        seen == mac,
    )
}
