//! The cluster plan: for each VIP, the order in which nodes master it and
//! the advskew each node advertises for it; and what follows from it: who
//! holds each VIP after any one or two nodes fail or while a node is in
//! maintenance, and whether the load stays balanced.
//!
//! Every node computes the same plan from the same cluster file, so the
//! nodes agree on ranks without talking to each other. `carpctl apply`
//! configures exactly this plan and `carpctl plan` prints it.
//!
//! **Order.** A VIP's `prefer` list when given: the administrator's order,
//! kept as written (only those nodes take part). The other VIPs take every
//! node, in an order built by [`balanced_orders`] so that:
//!
//! 1. primaries are round-robin: the *j*-th VIP without `prefer` (file
//!    order) is mastered by node *j mod N* (nodes in file order), so each
//!    node is first for ⌊M/N⌋ or ⌈M/N⌉ of them;
//! 2. after any single node fails, no survivor holds more than ⌈M/(N−1)⌉;
//! 3. after any two fail (N ≥ 3), no survivor holds more than
//!    ⌈M/(N−2)⌉ + 1.
//!
//! The naive ladder (VIP *i* falls over to node *i+1*, then *i+2*) breaks
//! 2: every VIP of the failed node lands on the same next node. The
//! construction instead picks rank 1 of each node's VIPs by water-filling
//! (each to the survivor that would then hold the fewest, ties broken
//! first by the worst two-failure load it would cause, then by rotation),
//! and rank 2, which only matters when rank 0 and rank 1 fail together, by
//! water-filling each pair of failed nodes separately. The bounds are
//! proved by an exhaustive test over every single and double failure for
//! all N ≤ 12 and M ≤ 64 (`tests::balanced_orders_meet_the_bounds_*`). The
//! tighter ⌈M/(N−2)⌉ is not always possible (N = 5, M = 3: the three
//! masters' VIPs must each go to one of the two idle nodes, so some pair of
//! failures sends two VIPs to one of them), hence the "+ 1".
//!
//! Balance is defined over the VIPs without `prefer`, counted alone: they
//! meet the three bounds among themselves, whatever the explicit VIPs do.
//! A VIP with `prefer` is never given to a node outside its list. The
//! whole file is then checked against the same bounds with M = every VIP
//! ([`balance`]), and `carpctl plan` reports when explicit orders break
//! them.
//!
//! **Skew rule.** advskew = rank × `advskew_step` (default 4). Why
//! (docs/freebsd-carp.md §8):
//!
//! * The best backup takes over after its master-down timeout,
//!   `3 × advbase + advskew/256` s, computed from the *configured* skew. Rank 0
//!   gets 0 and rank 1 the smallest safe value, so failover is as fast as
//!   CARP allows (3 s + 15.6 ms at the defaults).
//! * A step of 4/256 s ≈ 15.6 ms is more than one kernel tick even at
//!   kern.hz=100 (10 ms), so two backups never time out in the same tick
//!   (which would give a brief dual-master).
//! * With preempt on, a demotion of weight *w* moves a VIP from rank *r* to
//!   rank *r+1* only if *w* > step: at *w* = step both advertise the same
//!   interval, and a tie makes the *receiving* master step down, which flaps.
//!   So a health check needs weight ≥ step + 1 ([`demotion_one_rank`]) to
//!   move a VIP one rank, and (n−1−r) × step + 1 to move it behind every
//!   other node of an order of n ([`VipPlan::demotion_off`]); maintenance
//!   uses 240 (`CARP_MAXSKEW`, a fully demoted node), which always does.
//! * Every skew must stay below 240, what a fully demoted node advertises;
//!   with step 4 that is 60 ranks. An order whose last rank reaches 240 is an
//!   error ([`PlanError`]). Because every planned skew is below 240, the
//!   kernel's clamp of skew + demotion at 240 never stops a demotion from
//!   moving a VIP: that is the headroom.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Config;
use crate::model::{AdvSkew, Vhid};

/// `CARP_MAXSKEW`: the skew a fully demoted node advertises. Planned skews
/// stay strictly below it, so that a demoted node always yields.
pub const MAX_SKEW: u8 = carpctl_sys::CARP_MAXSKEW;

/// The demotion `carpctl` maintenance applies: `CARP_MAXSKEW`.
pub const MAINTENANCE_DEMOTION: u16 = MAX_SKEW as u16;

/// The whole cluster's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Every node, in file order.
    pub nodes: Vec<String>,
    /// advskew = rank × this.
    pub advskew_step: u8,
    pub vips: Vec<VipPlan>,
}

/// Who decided a VIP's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSource {
    /// Written in the file (`prefer`), kept as is.
    Prefer,
    /// Built by [`balanced_orders`].
    Balanced,
}

/// One VIP: its nodes in rank order and each node's advskew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VipPlan {
    pub name: String,
    pub vhid: Vhid,
    /// Rank 0 (the intended MASTER) first.
    pub order: Vec<String>,
    /// Node -> advskew; only the nodes in `order`.
    pub advskew: BTreeMap<String, AdvSkew>,
    pub source: OrderSource,
}

impl VipPlan {
    /// The node's rank (0 = intended MASTER), `None` if it takes no part.
    pub fn rank_of(&self, node: &str) -> Option<usize> {
        self.order.iter().position(|n| n == node)
    }

    pub fn advskew_of(&self, node: &str) -> Option<AdvSkew> {
        self.advskew.get(node).copied()
    }

    /// The smallest demotion of `node` after which every other node of the
    /// order is preferred to it, with preemption on: its advertised skew
    /// `rank × step + w` must exceed the last rank's `(n−1) × step`
    /// (strictly: a tie flaps), so `w = (n−1−rank) × step + 1`; 0 for the
    /// last rank. Never above 240, since every planned skew is below 240.
    /// `None` if the node takes no part.
    pub fn demotion_off(&self, node: &str, step: u8) -> Option<u16> {
        let rank = self.rank_of(node)?;
        let behind = self.order.len().checked_sub(rank + 1)?;
        if behind == 0 {
            return Some(0);
        }
        let w = behind.checked_mul(usize::from(step))?.checked_add(1)?;
        u16::try_from(w).ok()
    }
}

/// The demotion weight that moves a VIP from its current rank to the next
/// one, with preemption on: `step + 1` (at `step` the two nodes tie).
pub fn demotion_one_rank(step: u8) -> u16 {
    u16::from(step) + 1
}

impl Plan {
    pub fn vip(&self, name: &str) -> Option<&VipPlan> {
        self.vips.iter().find(|v| v.name == name)
    }
}

/// A rank whose skew would reach [`MAX_SKEW`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "advskew of node {node} for VIP {vip} would be {advskew} (rank {rank} × advskew_step \
     {step}); it must stay below {MAX_SKEW} (CARP_MAXSKEW, what a fully demoted node \
     advertises): reduce advskew_step or the number of nodes in this VIP's order"
)]
pub struct PlanError {
    pub vip: String,
    pub node: String,
    pub rank: usize,
    pub step: u8,
    pub advskew: usize,
}

/// A VIP as the planner needs it.
#[derive(Debug, Clone, Copy)]
pub struct VipSpec<'a> {
    pub name: &'a str,
    pub vhid: Vhid,
    pub prefer: Option<&'a [String]>,
}

/// The nodes that take part in a VIP: its `prefer` list, else every node
/// in file order. Only the membership and the length are meaningful for a
/// VIP without `prefer`; its rank order comes from [`plan_vips`].
pub fn members(prefer: Option<&[String]>, nodes: &[String]) -> Vec<String> {
    match prefer {
        Some(p) => p.to_vec(),
        None => nodes.to_vec(),
    }
}

/// Kept for the cluster-file validator, which checks that every rank's
/// skew fits: the same as [`members`] (`index` no longer matters, since
/// the default order depends on every VIP, see [`balanced_orders`]).
pub fn order(_index: usize, prefer: Option<&[String]>, nodes: &[String]) -> Vec<String> {
    members(prefer, nodes)
}

/// The default orders of `m` VIPs over `n` nodes, as node indices: VIP *j*
/// is mastered by node *j mod n*, and every order holds each node once.
/// See the module documentation for the bounds they meet.
pub fn balanced_orders(n: usize, m: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new(); m];
    }
    let mut orders: Vec<Vec<usize>> = (0..m)
        .map(|j| {
            let mut o = Vec::with_capacity(n);
            o.push(j % n);
            o
        })
        .collect();
    let mut primaries = vec![0usize; n];
    for j in 0..m {
        primaries[j % n] += 1;
    }

    // Rank 1. takeover[f][s]: how many of f's VIPs s takes when f fails.
    // Each of f's VIPs goes to the survivor that would then hold the
    // fewest (water-filling keeps every single failure within
    // ⌈M/(N−1)⌉, since no node masters more than ⌈M/N⌉); among those,
    // the one whose worst two-failure load with an already planned node g
    // (its primaries plus what it takes from f and from g) is lowest; then
    // the next in rotation after f.
    let mut takeover = vec![vec![0usize; n]; n];
    for f in 0..n {
        for j in (f..m).step_by(n) {
            let mut best: Option<((usize, usize, usize), usize)> = None;
            for d in 1..n {
                let s = (f + d) % n;
                let single = primaries[s] + takeover[f][s];
                let double = (0..n)
                    .filter(|&g| g != f && g != s)
                    .map(|g| single + takeover[g][s])
                    .max()
                    .unwrap_or(single);
                let key = (single, double, d);
                if best.is_none_or(|(k, _)| key < k) {
                    best = Some((key, s));
                }
            }
            if let Some((_, s)) = best {
                takeover[f][s] += 1;
                orders[j].push(s);
            }
        }
    }

    // Rank 2 matters only when rank 0 and rank 1 fail together, and the
    // VIPs with primary f and rank 1 g (or the reverse) matter in no other
    // pair of failures: so each pair {f, g} is water-filled on its own,
    // over the survivors' load after that double failure.
    if n >= 3 {
        let mut by_pair: Vec<Vec<Vec<usize>>> = vec![vec![Vec::new(); n]; n];
        for (j, o) in orders.iter().enumerate() {
            if let [p, r1] = o[..] {
                by_pair[p][r1].push(j);
            }
        }
        for f in 0..n {
            for g in f + 1..n {
                let mut load: Vec<usize> = (0..n)
                    .map(|s| primaries[s] + takeover[f][s] + takeover[g][s])
                    .collect();
                let todo: Vec<usize> = by_pair[f][g]
                    .iter()
                    .chain(&by_pair[g][f])
                    .copied()
                    .collect();
                for j in todo {
                    let p = orders[j][0];
                    let pick = (1..n)
                        .map(|d| (p + d) % n)
                        .filter(|&s| s != f && s != g)
                        .enumerate()
                        .min_by_key(|&(d, s)| (load[s], d))
                        .map(|(_, s)| s);
                    if let Some(s) = pick {
                        load[s] += 1;
                        orders[j].push(s);
                    }
                }
            }
        }
    }

    // The remaining ranks (three or more failures): rotation after the
    // primary, skipping the nodes already placed.
    for o in &mut orders {
        let p = o[0];
        for d in 1..n {
            let s = (p + d) % n;
            if !o.contains(&s) {
                o.push(s);
            }
        }
    }
    orders
}

/// advskew = rank × step, or `None` when it would reach [`MAX_SKEW`].
pub fn advskew(rank: usize, step: u8) -> Option<AdvSkew> {
    let skew = rank.checked_mul(usize::from(step))?;
    if skew >= usize::from(MAX_SKEW) {
        return None;
    }
    AdvSkew::new(i64::try_from(skew).ok()?).ok()
}

/// Each node's advskew in `order` for VIP `vip`.
pub fn ranks(
    vip: &str,
    order: &[String],
    step: u8,
) -> Result<BTreeMap<String, AdvSkew>, PlanError> {
    let mut out = BTreeMap::new();
    for (rank, node) in order.iter().enumerate() {
        let Some(skew) = advskew(rank, step) else {
            return Err(PlanError {
                vip: vip.to_string(),
                node: node.clone(),
                rank,
                step,
                advskew: rank.saturating_mul(usize::from(step)),
            });
        };
        out.insert(node.clone(), skew);
    }
    Ok(out)
}

/// Plan `vips` (in file order) over `nodes` (in file order).
pub fn plan_vips(nodes: &[String], vips: &[VipSpec<'_>], step: u8) -> Result<Plan, PlanError> {
    let defaults = vips.iter().filter(|v| v.prefer.is_none()).count();
    let mut built = balanced_orders(nodes.len(), defaults).into_iter();
    let mut out = Vec::with_capacity(vips.len());
    for v in vips {
        let (order, source) = match v.prefer {
            Some(p) => (p.to_vec(), OrderSource::Prefer),
            None => {
                let ix = built.next().unwrap_or_default();
                let order = ix.iter().filter_map(|&i| nodes.get(i).cloned()).collect();
                (order, OrderSource::Balanced)
            }
        };
        let advskew = ranks(v.name, &order, step)?;
        out.push(VipPlan {
            name: v.name.to_string(),
            vhid: v.vhid,
            order,
            advskew,
            source,
        });
    }
    Ok(Plan {
        nodes: nodes.to_vec(),
        advskew_step: step,
        vips: out,
    })
}

/// The plan of a validated cluster file. [`crate::config::load`] already
/// refuses files whose plan fails, so this errs only for a [`Config`] built
/// in code.
pub fn plan(cfg: &Config) -> Result<Plan, PlanError> {
    let nodes = cfg.node_names();
    let specs: Vec<VipSpec<'_>> = cfg
        .vips
        .iter()
        .map(|v| VipSpec {
            name: &v.name,
            vhid: v.vhid,
            prefer: v.prefer.as_deref(),
        })
        .collect();
    plan_vips(&nodes, &specs, cfg.cluster.advskew_step)
}

// ----- failures -------------------------------------------------------------

/// Who holds a VIP of order `order` when the nodes in `down` are down and
/// `maintenance` (if any) is demoted by 240, with preemption on: the first
/// node of the order that is up and not in maintenance; failing that the
/// node in maintenance, if it is up and takes part (a demoted node is a
/// last resort, not gone); `None` when every node of the order is down.
pub fn owner<'a>(order: &'a [String], down: &[&str], maintenance: Option<&str>) -> Option<&'a str> {
    let up = |n: &&String| !down.contains(&n.as_str());
    order
        .iter()
        .filter(up)
        .find(|n| Some(n.as_str()) != maintenance)
        .or_else(|| order.iter().find(up))
        .map(String::as_str)
}

/// What a failure-matrix entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    /// The nodes are down (one or two of them).
    Failure,
    /// The node is up but demoted by 240 (`carpctl` maintenance).
    Maintenance,
}

/// One entry of the failure matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scenario {
    pub kind: ScenarioKind,
    /// The failed nodes, or the node in maintenance.
    pub nodes: Vec<String>,
    /// VIP name -> the node holding it; `null` when every node of its
    /// order is down.
    pub owners: BTreeMap<String, Option<String>>,
    /// Every node that is up -> how many VIPs it holds.
    pub load: BTreeMap<String, usize>,
    /// The most VIPs on one node.
    pub max_load: usize,
    /// The bound for this many failures over the whole file (M = every
    /// VIP); `None` when no node survives to hold a bound.
    pub bound: Option<usize>,
    pub within_bound: bool,
    /// VIPs that no node holds (file order).
    pub unowned: Vec<String>,
}

impl Scenario {
    pub fn owner_of(&self, vip: &str) -> Option<&str> {
        self.owners.get(vip).and_then(|o| o.as_deref())
    }
}

/// The balance bounds for `n` nodes and `m` VIPs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bounds {
    /// Each node is first for at least this many VIPs...
    pub primaries_min: usize,
    /// ...and at most this many.
    pub primaries_max: usize,
    /// ⌈M/(N−1)⌉, for N ≥ 2.
    pub single_failure: Option<usize>,
    /// ⌈M/(N−2)⌉ + 1, for N ≥ 3.
    pub double_failure: Option<usize>,
}

pub fn bounds(n: usize, m: usize) -> Bounds {
    Bounds {
        primaries_min: m.checked_div(n).unwrap_or(0),
        primaries_max: m.div_ceil(n.max(1)),
        single_failure: (n >= 2).then(|| m.div_ceil(n - 1)),
        double_failure: (n >= 3).then(|| m.div_ceil(n - 2) + 1),
    }
}

/// For each single failure, each double failure (N ≥ 3: with two nodes,
/// both down leaves nothing to say) and each node in
/// maintenance, in that order (nodes in file order), the owner of every
/// VIP. With `preempt` off a demoted master keeps its VIPs (a backup takes
/// over from a slower master only with `net.inet.carp.preempt=1`,
/// docs/freebsd-carp.md §8), so maintenance moves nothing.
pub fn failure_matrix(plan: &Plan, preempt: bool) -> Vec<Scenario> {
    let n = plan.nodes.len();
    let b = bounds(n, plan.vips.len());
    let mut out = Vec::new();
    for a in &plan.nodes {
        out.push(scenario(
            plan,
            ScenarioKind::Failure,
            &[a],
            None,
            b.single_failure,
        ));
    }
    // With two nodes, both failing leaves nothing to balance.
    for (i, a) in plan.nodes.iter().enumerate().filter(|_| n >= 3) {
        for c in plan.nodes.iter().skip(i + 1) {
            out.push(scenario(
                plan,
                ScenarioKind::Failure,
                &[a, c],
                None,
                b.double_failure,
            ));
        }
    }
    for a in &plan.nodes {
        let m = preempt.then_some(a.as_str());
        let mut s = scenario(plan, ScenarioKind::Maintenance, &[], m, b.single_failure);
        s.nodes = vec![a.clone()];
        out.push(s);
    }
    out
}

fn scenario(
    plan: &Plan,
    kind: ScenarioKind,
    down: &[&String],
    maintenance: Option<&str>,
    bound: Option<usize>,
) -> Scenario {
    let down: Vec<&str> = down.iter().map(|s| s.as_str()).collect();
    let mut owners = BTreeMap::new();
    let mut load: BTreeMap<String, usize> = plan
        .nodes
        .iter()
        .filter(|n| !down.contains(&n.as_str()))
        .map(|n| (n.clone(), 0))
        .collect();
    let mut unowned = Vec::new();
    for v in &plan.vips {
        let o = owner(&v.order, &down, maintenance);
        match o {
            Some(node) => {
                if let Some(c) = load.get_mut(node) {
                    *c += 1;
                }
            }
            None => unowned.push(v.name.clone()),
        }
        owners.insert(v.name.clone(), o.map(str::to_string));
    }
    let max_load = load.values().copied().max().unwrap_or(0);
    Scenario {
        kind,
        nodes: down.iter().map(|s| s.to_string()).collect(),
        owners,
        load,
        max_load,
        bound,
        within_bound: bound.is_none_or(|b| max_load <= b),
        unowned,
    }
}

/// Whether the whole plan meets the bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// Primaries, single failures and double failures all within bounds.
    pub balanced: bool,
    pub bounds: Bounds,
    /// Node -> how many VIPs it is first for.
    pub primaries: BTreeMap<String, usize>,
    /// The most VIPs on one survivor after any single failure.
    pub worst_single_failure: Option<usize>,
    /// The same after any double failure.
    pub worst_double_failure: Option<usize>,
    /// What breaks a bound, and VIPs left without a node, in words.
    pub notes: Vec<String>,
}

/// Check `plan` (with its failure matrix) against [`bounds`] over every VIP.
pub fn balance(plan: &Plan, failures: &[Scenario]) -> Balance {
    let b = bounds(plan.nodes.len(), plan.vips.len());
    let mut notes = Vec::new();
    let mut primaries: BTreeMap<String, usize> =
        plan.nodes.iter().map(|n| (n.clone(), 0)).collect();
    for v in &plan.vips {
        if let Some(c) = v.order.first().and_then(|p| primaries.get_mut(p)) {
            *c += 1;
        }
    }
    let mut ok = true;
    for node in &plan.nodes {
        let c = primaries.get(node).copied().unwrap_or(0);
        if c < b.primaries_min || c > b.primaries_max {
            ok = false;
            notes.push(format!(
                "{node} is first for {c} VIP{}, outside {}..{}",
                plural(c),
                b.primaries_min,
                b.primaries_max
            ));
        }
    }
    let mut worst = [None::<usize>, None];
    for s in failures.iter().filter(|s| s.kind == ScenarioKind::Failure) {
        let k = s.nodes.len();
        if let Some(w) = worst.get_mut(k.wrapping_sub(1)) {
            *w = Some(w.map_or(s.max_load, |x| x.max(s.max_load)));
        }
        if !s.within_bound {
            ok = false;
            let (who, count) = s
                .load
                .iter()
                .max_by_key(|&(n, c)| (*c, std::cmp::Reverse(n.clone())))
                .map(|(n, c)| (n.as_str(), *c))
                .unwrap_or(("", 0));
            notes.push(format!(
                "after {} fail{}, {who} holds {count} VIPs (bound {})",
                s.nodes.join(" and "),
                if k == 1 { "s" } else { "" },
                s.bound.unwrap_or(0)
            ));
        }
        if !s.unowned.is_empty() {
            notes.push(format!(
                "after {} fail{}, no node holds {}",
                s.nodes.join(" and "),
                if k == 1 { "s" } else { "" },
                s.unowned.join(", ")
            ));
        }
    }
    let explicit: Vec<&str> = plan
        .vips
        .iter()
        .filter(|v| v.source == OrderSource::Prefer)
        .map(|v| v.name.as_str())
        .collect();
    if !ok && !explicit.is_empty() {
        notes.push(format!(
            "the order of {} is written in the file (prefer) and kept as is; \
             remove prefer to let carpctl balance {}",
            explicit.join(", "),
            if explicit.len() == 1 { "it" } else { "them" }
        ));
    }
    let [worst_single_failure, worst_double_failure] = worst;
    Balance {
        balanced: ok,
        bounds: b,
        primaries,
        worst_single_failure,
        worst_double_failure,
        notes,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("n{i}")).collect()
    }

    fn vhid(v: i64) -> Vhid {
        Vhid::new(v).unwrap()
    }

    fn default_specs(names: &[String]) -> Vec<VipSpec<'_>> {
        names
            .iter()
            .enumerate()
            .map(|(i, name)| VipSpec {
                name,
                vhid: vhid(i as i64 + 1),
                prefer: None,
            })
            .collect()
    }

    /// Who holds each VIP when `down` fail, written independently of
    /// [`owner`]: the lowest rank whose node is not down.
    fn loads_after(n: usize, orders: &[Vec<usize>], down: &[usize]) -> Vec<usize> {
        let mut load = vec![0; n];
        for o in orders {
            if let Some(&s) = o.iter().find(|s| !down.contains(s)) {
                load[s] += 1;
            }
        }
        load
    }

    fn ceil_div(a: usize, b: usize) -> usize {
        a.div_ceil(b)
    }

    /// The proof of the construction: every N ≤ 12, M ≤ 64, every single
    /// and every double failure.
    #[test]
    fn balanced_orders_meet_the_bounds_for_every_n_up_to_12_and_m_up_to_64() {
        for n in 1..=12usize {
            for m in 0..=64usize {
                let orders = balanced_orders(n, m);
                assert_eq!(orders.len(), m);
                let mut first = vec![0; n];
                for (j, o) in orders.iter().enumerate() {
                    let mut sorted = o.clone();
                    sorted.sort_unstable();
                    assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "N={n} M={m} VIP {j}");
                    assert_eq!(o[0], j % n, "round-robin primaries");
                    first[o[0]] += 1;
                }
                for c in &first {
                    assert!(
                        *c == m / n || *c == ceil_div(m, n),
                        "N={n} M={m}: {first:?}"
                    );
                }
                if n >= 2 {
                    let bound = ceil_div(m, n - 1);
                    for f in 0..n {
                        let load = loads_after(n, &orders, &[f]);
                        assert_eq!(load[f], 0);
                        assert_eq!(load.iter().sum::<usize>(), m);
                        let max = load.iter().max().copied().unwrap_or(0);
                        assert!(max <= bound, "N={n} M={m} down {f}: {load:?} > {bound}");
                    }
                }
                if n >= 3 {
                    let bound = ceil_div(m, n - 2) + 1;
                    for f in 0..n {
                        for g in f + 1..n {
                            let load = loads_after(n, &orders, &[f, g]);
                            assert_eq!(load[f] + load[g], 0);
                            assert_eq!(load.iter().sum::<usize>(), m);
                            let max = load.iter().max().copied().unwrap_or(0);
                            assert!(max <= bound, "N={n} M={m} down {f},{g}: {load:?} > {bound}");
                        }
                    }
                }
            }
        }
    }

    /// The naive ladder that the construction replaces does break the
    /// single-failure bound (so the test above can fail).
    #[test]
    fn the_naive_ladder_breaks_the_single_failure_bound() {
        let (n, m) = (5, 12);
        let ladder: Vec<Vec<usize>> = (0..m)
            .map(|j| (0..n).map(|k| (j + k) % n).collect())
            .collect();
        let worst = (0..n)
            .map(|f| loads_after(n, &ladder, &[f]).into_iter().max().unwrap())
            .max()
            .unwrap();
        assert_eq!(worst, 6, "node 1 takes node 0's 3 VIPs on top of its own 3");
        assert!(worst > ceil_div(m, n - 1));
    }

    #[test]
    fn five_nodes_twelve_vips_by_hand() {
        let o = balanced_orders(5, 12);
        // Primaries 0,1,2,3,4,0,1,2,3,4,0,1: nodes 0 and 1 master 3 VIPs.
        let firsts: Vec<usize> = o.iter().map(|o| o[0]).collect();
        assert_eq!(firsts, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]);
        // Node 0's VIPs (0, 5, 10) go to three different nodes, the ones
        // with 2 primaries first (2, 3, 4): no survivor above 3.
        let r1: Vec<usize> = [0, 5, 10].iter().map(|&j| o[j][1]).collect();
        assert_eq!(r1, [2, 3, 4]);
        for f in 0..5 {
            let load = loads_after(5, &o, &[f]);
            assert!(load.iter().all(|&l| l <= 3), "down {f}: {load:?}");
        }
    }

    #[test]
    fn small_cases() {
        assert!(balanced_orders(0, 3).iter().all(Vec::is_empty));
        assert_eq!(balanced_orders(1, 2), [vec![0], vec![0]]);
        assert_eq!(balanced_orders(2, 3), [vec![0, 1], vec![1, 0], vec![0, 1]]);
        assert!(balanced_orders(4, 0).is_empty());
        // Three nodes, four VIPs: node 0 masters two; when it fails they
        // go one each to nodes 1 and 2 (the naive ladder gives both to 1).
        let o = balanced_orders(3, 4);
        assert_eq!(
            o,
            [vec![0, 1, 2], vec![1, 2, 0], vec![2, 1, 0], vec![0, 2, 1]]
        );
    }

    #[test]
    fn construction_scales_to_sixty_nodes() {
        // The largest N with the default step; must be quick and complete.
        let o = balanced_orders(60, 255);
        assert!(o.iter().all(|o| o.len() == 60));
    }

    #[test]
    fn prefer_is_kept_and_may_be_a_subset() {
        let nodes = names(3);
        let prefer = vec!["n2".to_string(), "n0".to_string()];
        assert_eq!(members(Some(&prefer), &nodes), ["n2", "n0"]);
        assert_eq!(members(None, &nodes), ["n0", "n1", "n2"]);
        assert_eq!(order(7, None, &nodes), ["n0", "n1", "n2"]);
        let plan = plan_vips(
            &nodes,
            &[
                VipSpec {
                    name: "a",
                    vhid: vhid(1),
                    prefer: Some(&prefer),
                },
                VipSpec {
                    name: "b",
                    vhid: vhid(2),
                    prefer: None,
                },
                VipSpec {
                    name: "c",
                    vhid: vhid(3),
                    prefer: None,
                },
            ],
            4,
        )
        .unwrap();
        assert_eq!(plan.vips[0].order, ["n2", "n0"]);
        assert_eq!(plan.vips[0].source, OrderSource::Prefer);
        // The balanced VIPs count among themselves: b is the first, c the
        // second, whatever comes before them.
        assert_eq!(plan.vips[1].order[0], "n0");
        assert_eq!(plan.vips[2].order[0], "n1");
        assert_eq!(plan.vips[1].source, OrderSource::Balanced);
    }

    #[test]
    fn skew_is_rank_times_step() {
        assert_eq!(advskew(0, 4).map(AdvSkew::get), Some(0));
        assert_eq!(advskew(1, 4).map(AdvSkew::get), Some(4));
        assert_eq!(advskew(59, 4).map(AdvSkew::get), Some(236));
        // 60 × 4 = 240 = CARP_MAXSKEW: a planned node would look fully demoted.
        assert_eq!(advskew(60, 4), None);
        assert_eq!(advskew(1, 239).map(AdvSkew::get), Some(239));
        assert_eq!(advskew(1, 240), None);
        assert_eq!(advskew(usize::MAX, 2), None);
    }

    #[test]
    fn demotion_weights() {
        assert_eq!(demotion_one_rank(4), 5);
        assert_eq!(demotion_one_rank(239), 240);
        let plan = plan_vips(&names(5), &default_specs(&["v".to_string()]), 4).unwrap();
        let v = &plan.vips[0];
        assert_eq!(v.order, ["n0", "n1", "n2", "n3", "n4"]);
        // n0 advertises 0; to be behind n4 (16) it needs 17.
        assert_eq!(v.demotion_off("n0", 4), Some(17));
        assert_eq!(v.demotion_off("n1", 4), Some(13));
        assert_eq!(v.demotion_off("n4", 4), Some(0));
        assert_eq!(v.demotion_off("zz", 4), None);
        // The largest order: 60 nodes at step 4 -> 59 × 4 + 1 = 237 < 240.
        let plan = plan_vips(&names(60), &default_specs(&["v".to_string()]), 4).unwrap();
        assert_eq!(plan.vips[0].demotion_off("n0", 4), Some(237));
        assert!(u16::from(plan.vips[0].advskew_of("n59").unwrap().get()) + 237 > 236);
    }

    #[test]
    fn owner_with_failures_and_maintenance() {
        let o: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(owner(&o, &[], None), Some("a"));
        assert_eq!(owner(&o, &["a"], None), Some("b"));
        assert_eq!(owner(&o, &["a", "b"], None), Some("c"));
        assert_eq!(owner(&o, &["a", "b", "c"], None), None);
        // Maintenance moves it like a failure...
        assert_eq!(owner(&o, &[], Some("a")), Some("b"));
        assert_eq!(owner(&o, &[], Some("b")), Some("a"));
        // ...but the node stays as the last resort.
        assert_eq!(owner(&o, &["b", "c"], Some("a")), Some("a"));
        let solo = vec!["a".to_string()];
        assert_eq!(owner(&solo, &[], Some("a")), Some("a"));
        assert_eq!(owner(&solo, &[], Some("b")), Some("a"));
        assert_eq!(owner(&solo, &["a"], Some("a")), None);
    }

    #[test]
    fn seed_plan() {
        let nodes = vec!["mail-a".to_string(), "mail-b".to_string()];
        let p1 = ["mail-a".to_string(), "mail-b".to_string()];
        let p2 = ["mail-b".to_string(), "mail-a".to_string()];
        let plan = plan_vips(
            &nodes,
            &[
                VipSpec {
                    name: "mail1",
                    vhid: vhid(1),
                    prefer: Some(&p1),
                },
                VipSpec {
                    name: "mail2",
                    vhid: vhid(2),
                    prefer: Some(&p2),
                },
            ],
            4,
        )
        .unwrap();
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"nodes": ["mail-a", "mail-b"], "advskew_step": 4, "vips": [
                {"name": "mail1", "vhid": 1, "order": ["mail-a", "mail-b"],
                 "advskew": {"mail-a": 0, "mail-b": 4}, "source": "prefer"},
                {"name": "mail2", "vhid": 2, "order": ["mail-b", "mail-a"],
                 "advskew": {"mail-a": 4, "mail-b": 0}, "source": "prefer"},
            ]})
        );
        let m2 = plan.vip("mail2").unwrap();
        assert_eq!(m2.rank_of("mail-b"), Some(0));
        assert_eq!(m2.rank_of("mail-a"), Some(1));
        assert_eq!(m2.rank_of("nobody"), None);
        assert_eq!(m2.advskew_of("mail-a").map(AdvSkew::get), Some(4));

        let f = failure_matrix(&plan, true);
        // Two single failures, no double (N = 2), two maintenances.
        let kinds: Vec<(ScenarioKind, Vec<String>)> =
            f.iter().map(|s| (s.kind, s.nodes.clone())).collect();
        assert_eq!(
            kinds,
            [
                (ScenarioKind::Failure, vec!["mail-a".to_string()]),
                (ScenarioKind::Failure, vec!["mail-b".to_string()]),
                (ScenarioKind::Maintenance, vec!["mail-a".to_string()]),
                (ScenarioKind::Maintenance, vec!["mail-b".to_string()]),
            ]
        );
        assert_eq!(f[0].owner_of("mail1"), Some("mail-b"));
        assert_eq!(f[0].owner_of("mail2"), Some("mail-b"));
        assert_eq!(
            f[0].load.get("mail-a"),
            None,
            "a down node has no load entry"
        );
        assert_eq!(f[0].max_load, 2);
        assert_eq!(f[0].bound, Some(2));
        assert!(f[0].within_bound);
        assert_eq!(f[2].owner_of("mail1"), Some("mail-b"));
        assert_eq!(f[2].load.get("mail-a"), Some(&0));
        let b = balance(&plan, &f);
        assert!(b.balanced, "{:?}", b.notes);
        assert_eq!(b.worst_single_failure, Some(2));
        assert_eq!(b.worst_double_failure, None);
        assert!(b.notes.is_empty());
    }

    #[test]
    fn maintenance_without_preempt_moves_nothing() {
        let plan = plan_vips(&names(3), &default_specs(&names(3)), 4).unwrap();
        let f = failure_matrix(&plan, false);
        let m: Vec<&Scenario> = f
            .iter()
            .filter(|s| s.kind == ScenarioKind::Maintenance)
            .collect();
        assert_eq!(m.len(), 3);
        for s in m {
            for v in &plan.vips {
                assert_eq!(s.owner_of(&v.name), Some(v.order[0].as_str()));
            }
        }
    }

    #[test]
    fn explicit_orders_that_break_the_bounds_are_reported() {
        // Four VIPs all preferring n0 then n1, over three nodes.
        let nodes = names(3);
        let p = vec!["n0".to_string(), "n1".to_string()];
        let vnames: Vec<String> = (0..4).map(|i| format!("v{i}")).collect();
        let specs: Vec<VipSpec<'_>> = vnames
            .iter()
            .enumerate()
            .map(|(i, name)| VipSpec {
                name,
                vhid: vhid(i as i64 + 1),
                prefer: Some(&p),
            })
            .collect();
        let plan = plan_vips(&nodes, &specs, 4).unwrap();
        let f = failure_matrix(&plan, true);
        let b = balance(&plan, &f);
        assert!(!b.balanced);
        assert_eq!(b.primaries.get("n0"), Some(&4));
        assert!(
            b.notes
                .iter()
                .any(|n| n == "n0 is first for 4 VIPs, outside 1..2"),
            "{:?}",
            b.notes
        );
        assert!(
            b.notes
                .iter()
                .any(|n| n == "after n0 fails, n1 holds 4 VIPs (bound 2)"),
            "{:?}",
            b.notes
        );
        assert!(
            b.notes
                .iter()
                .any(|n| n == "after n0 and n1 fail, no node holds v0, v1, v2, v3"),
            "{:?}",
            b.notes
        );
        assert!(
            b.notes
                .last()
                .unwrap()
                .contains("written in the file (prefer)")
        );
        let both = f.iter().find(|s| s.nodes == ["n0", "n1"]).unwrap();
        assert_eq!(both.owner_of("v0"), None);
        assert_eq!(both.unowned, ["v0", "v1", "v2", "v3"]);
        assert_eq!(both.load.get("n2"), Some(&0));
    }

    #[test]
    fn sixty_one_nodes_with_step_4_is_an_error_naming_node_and_vip() {
        let nodes = names(61);
        let spec = [VipSpec {
            name: "web",
            vhid: vhid(7),
            prefer: None,
        }];
        let err = plan_vips(&nodes, &spec, 4).unwrap_err();
        assert_eq!(err.node, "n60");
        assert_eq!(err.advskew, 240);
        let msg = err.to_string();
        assert!(
            msg.starts_with("advskew of node n60 for VIP web would be 240"),
            "{msg}"
        );
        assert!(
            msg.contains("CARP_MAXSKEW") && msg.contains("reduce advskew_step"),
            "{msg}"
        );
        // Sixty nodes fit.
        assert!(plan_vips(&names(60), &spec, 4).is_ok());
    }

    /// Arbitrary VIPs: no prefer, or a subset of the nodes in some order.
    fn vips_strategy(n: usize, max: usize) -> impl Strategy<Value = Vec<Option<Vec<usize>>>> {
        let one = prop_oneof![
            Just(None),
            Just((0..n).collect::<Vec<_>>())
                .prop_shuffle()
                .prop_flat_map(move |v| (Just(v), 1..=n))
                .prop_map(|(v, k)| Some(v.into_iter().take(k).collect())),
        ];
        proptest::collection::vec(one, 0..max)
    }

    fn specs_for<'a>(prefers: &'a [Option<Vec<String>>], vnames: &'a [String]) -> Vec<VipSpec<'a>> {
        prefers
            .iter()
            .zip(vnames)
            .enumerate()
            .map(|(i, (p, name))| VipSpec {
                name,
                vhid: vhid(i as i64 % 255 + 1),
                prefer: p.as_deref(),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn skews_are_distinct_and_below_240_whenever_planning_succeeds(
            (n, step, vips) in (1usize..80, 1u8..=255)
                .prop_flat_map(|(n, step)| (Just(n), Just(step), vips_strategy(n, 8)))
        ) {
            let nodes = names(n);
            let prefers: Vec<Option<Vec<String>>> = vips
                .iter()
                .map(|p| p.as_ref().map(|ix| ix.iter().map(|&i| nodes[i].clone()).collect()))
                .collect();
            let vnames: Vec<String> = (0..vips.len()).map(|i| format!("v{i}")).collect();
            let specs = specs_for(&prefers, &vnames);
            // Planning succeeds exactly when every order's last rank fits.
            let fits = prefers.iter().all(|p| {
                let len = p.as_ref().map_or(n, Vec::len);
                (len - 1) * usize::from(step) < usize::from(MAX_SKEW)
            });
            match plan_vips(&nodes, &specs, step) {
                Ok(plan) => {
                    prop_assert!(fits);
                    prop_assert_eq!(plan.vips.len(), specs.len());
                    for (v, spec) in plan.vips.iter().zip(&specs) {
                        let want = spec.prefer.map_or(n, <[String]>::len);
                        prop_assert_eq!(v.order.len(), want);
                        prop_assert_eq!(v.advskew.len(), want);
                        let mut seen = std::collections::BTreeSet::new();
                        for node in &v.order {
                            let s = v.advskew[node].get();
                            prop_assert!(s < MAX_SKEW);
                            prop_assert!(seen.insert(s), "skew {} twice in {}", s, v.name);
                        }
                        // Rank 0 advertises fastest.
                        prop_assert_eq!(v.advskew[&v.order[0]].get(), 0);
                    }
                }
                Err(e) => {
                    prop_assert!(!fits);
                    prop_assert!(e.advskew >= usize::from(MAX_SKEW));
                }
            }
        }

        /// Files mixing `prefer` (subsets, any order) and default VIPs:
        /// explicit orders are kept exactly (so no VIP is ever given to a
        /// node outside its list), every owner in the failure matrix is a
        /// member of the VIP's order, the default VIPs counted alone meet
        /// the bounds, and `balanced` agrees with a recount.
        #[test]
        fn mixed_files_keep_prefer_and_balance_the_rest(
            (n, vips) in (1usize..9).prop_flat_map(|n| (Just(n), vips_strategy(n, 24)))
        ) {
            let nodes = names(n);
            let prefers: Vec<Option<Vec<String>>> = vips
                .iter()
                .map(|p| p.as_ref().map(|ix| ix.iter().map(|&i| nodes[i].clone()).collect()))
                .collect();
            let vnames: Vec<String> = (0..vips.len()).map(|i| format!("v{i}")).collect();
            let specs = specs_for(&prefers, &vnames);
            let plan = plan_vips(&nodes, &specs, 4).unwrap();
            for (v, p) in plan.vips.iter().zip(&prefers) {
                match p {
                    Some(p) => {
                        prop_assert_eq!(&v.order, p);
                        prop_assert_eq!(v.source, OrderSource::Prefer);
                    }
                    None => {
                        let mut o = v.order.clone();
                        o.sort();
                        prop_assert_eq!(o, nodes.clone());
                        prop_assert_eq!(v.source, OrderSource::Balanced);
                    }
                }
            }
            let failures = failure_matrix(&plan, true);
            // n single failures, n(n-1)/2 double ones from N = 3, n maintenances.
            let doubles = if n >= 3 { n * (n - 1) / 2 } else { 0 };
            prop_assert_eq!(failures.len(), n + doubles + n);
            for s in &failures {
                for v in &plan.vips {
                    match s.owner_of(&v.name) {
                        Some(o) => {
                            prop_assert!(v.order.iter().any(|x| x == o));
                            if s.kind == ScenarioKind::Failure {
                                prop_assert!(!s.nodes.iter().any(|x| x == o));
                            }
                        }
                        None => prop_assert!(v.order.iter().all(|x| s.nodes.contains(x))),
                    }
                }
            }
            // The default VIPs alone meet the bounds.
            let defaults: Vec<&VipPlan> =
                plan.vips.iter().filter(|v| v.source == OrderSource::Balanced).collect();
            let m = defaults.len();
            let idx = |name: &str| nodes.iter().position(|x| x == name).unwrap();
            let orders: Vec<Vec<usize>> =
                defaults.iter().map(|v| v.order.iter().map(|x| idx(x)).collect()).collect();
            for f in 0..n {
                if n >= 2 {
                    let max = loads_after(n, &orders, &[f]).into_iter().max().unwrap_or(0);
                    prop_assert!(max <= ceil_div(m, n - 1));
                }
                for g in f + 1..n {
                    if n >= 3 {
                        let max = loads_after(n, &orders, &[f, g]).into_iter().max().unwrap_or(0);
                        prop_assert!(max <= ceil_div(m, n - 2) + 1);
                    }
                }
            }
            // `balanced` matches a recount over every VIP.
            let all: Vec<Vec<usize>> =
                plan.vips.iter().map(|v| v.order.iter().map(|x| idx(x)).collect()).collect();
            let mm = all.len();
            let mut ok = true;
            let mut first = vec![0; n];
            for o in &all { first[o[0]] += 1; }
            ok &= first.iter().all(|&c| c >= mm / n && c <= ceil_div(mm, n));
            for f in 0..n {
                if n >= 2 {
                    ok &= loads_after(n, &all, &[f]).into_iter().max().unwrap_or(0) <= ceil_div(mm, n - 1);
                }
                for g in f + 1..n {
                    if n >= 3 {
                        ok &= loads_after(n, &all, &[f, g]).into_iter().max().unwrap_or(0)
                            <= ceil_div(mm, n - 2) + 1;
                    }
                }
            }
            prop_assert_eq!(balance(&plan, &failures).balanced, ok);
        }
    }
}
