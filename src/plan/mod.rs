//! The cluster plan: for each VIP, the order in which nodes master it and
//! the advskew each node advertises for it; and what follows from it: who
//! holds each VIP after any one or two nodes fail or while a node is in
//! maintenance, and whether the load stays balanced.
//!
//! Every node computes the same plan from the same cluster file, so the
//! nodes agree on ranks without talking to each other. `carpctl apply`
//! configures exactly this plan and `carpctl plan` prints it.
//!
//! The planner knows names and vhids only ([`VipSpec`]), not the cluster
//! file: the file's module turns a validated file into a plan
//! (`Config::plan`) and checks every order against [`check_order`] while it
//! validates. So the dependency runs one way, from the cluster file to the
//! planner, and this module sits beside the domain types, below `config`.
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
//!   error ([`SkewOverflow`]). Because every planned skew is below 240, the
//!   kernel's clamp of skew + demotion at 240 never stops a demotion from
//!   moving a VIP: that is the headroom.
//!
//! **Scale.** A cluster has at most [`MAX_NODES`] (240) nodes, the ranks
//! CARP can tell apart. Below that everything here is linear in the size
//! of the plan (N nodes × M VIPs): [`balanced_orders`] is O(M·N), and the
//! failure matrix ([`FailureMatrix`]) is never held whole: its 2N plus
//! N(N−1)/2 entries are computed one at a time, each in O(M + N), so
//! memory stays O(M·N) however many entries are printed.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{AdvSkew, CARP_MAXSKEW, Protocol, Vhid};

/// The whole cluster's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Every node, in file order.
    pub nodes: Vec<String>,
    /// advskew = rank × this.
    pub(crate) advskew_step: u8,
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
    /// Follows the advskews or priorities written in the file
    /// ([`pinned`]), kept as is.
    Pinned,
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
    /// CARP or VRRPv3 (omitted in JSON for CARP, as before it existed).
    #[serde(skip_serializing_if = "is_carp")]
    pub protocol: Protocol,
    /// Unicast: `order` is [master, backup], which name each other as
    /// peer ([`unicast`]). Omitted in JSON when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unicast: bool,
    /// VRRP only: the interval and each member's priority ([`vrrp`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vrrp: Option<VrrpPlan>,
}

/// A VRRP VIP's interval and priorities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VrrpPlan {
    /// Advertisement interval, centiseconds.
    pub interval: u16,
    /// Node -> priority ([`vrrp::priorities`]); only the nodes in `order`.
    pub priority: BTreeMap<String, u8>,
}

fn is_carp(p: &Protocol) -> bool {
    *p == Protocol::Carp
}

impl VipPlan {
    /// The node's rank (0 = intended MASTER), `None` if it takes no part.
    pub(crate) fn rank_of(&self, node: &str) -> Option<usize> {
        self.order.iter().position(|n| n == node)
    }

    pub(crate) fn advskew_of(&self, node: &str) -> Option<AdvSkew> {
        self.advskew.get(node).copied()
    }

    /// The smallest demotion of `node` after which every other node of the
    /// order is preferred to it, with preemption on: its advertised skew
    /// `rank × step + w` must exceed the last rank's `(n−1) × step`
    /// (strictly: a tie flaps), so `w = (n−1−rank) × step + 1`; 0 for the
    /// last rank. Never above 240, since every planned skew is below 240.
    /// `None` if the node takes no part.
    pub(crate) fn demotion_off(&self, node: &str, step: u8) -> Option<u16> {
        self.demotion_at(self.rank_of(node)?, step)
    }

    /// [`VipPlan::demotion_off`] of the node at `rank`; `None` past the
    /// last rank.
    pub(crate) fn demotion_at(&self, rank: usize, step: u8) -> Option<u16> {
        let behind = self.order.len().checked_sub(rank + 1)?;
        if behind == 0 {
            return Some(0);
        }
        if self.source == OrderSource::Pinned && self.vrrp.is_none() {
            // Pinned skews are not rank × step: the advertised skew must
            // pass the last member's, both as advertised (at most 240).
            let own = self.advskew_of(self.order.get(rank)?)?.get();
            let last = self.advskew_of(self.order.last()?)?.get();
            let (own, last) = (own.min(CARP_MAXSKEW), last.min(CARP_MAXSKEW));
            return Some(
                (u16::from(last).saturating_sub(u16::from(own)) + 1).min(u16::from(CARP_MAXSKEW)),
            );
        }
        let w = behind.checked_mul(usize::from(step))?.checked_add(1)?;
        u16::try_from(w).ok()
    }
}

/// The demotion weight that moves a VIP from its current rank to the next
/// one, with preemption on: `step + 1` (at `step` the two nodes tie).
pub(crate) fn demotion_one_rank(step: u8) -> u16 {
    u16::from(step) + 1
}

impl Plan {
    pub fn vip(&self, name: &str) -> Option<&VipPlan> {
        self.vips.iter().find(|v| v.name == name)
    }
}

/// A rank whose skew would reach [`CARP_MAXSKEW`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "advskew of node {node} for VIP {vip} would be {advskew} (rank {rank} × advskew_step \
     {step}); it must stay below {CARP_MAXSKEW} (CARP_MAXSKEW, what a fully demoted node \
     advertises): reduce advskew_step or the number of nodes in this VIP's order"
)]
pub struct SkewOverflow {
    pub vip: String,
    pub node: String,
    pub(crate) rank: usize,
    pub step: u8,
    pub advskew: usize,
}

/// Why a plan could not be made: [`plan_vips`]'s skews, or the unicast
/// pairs or VRRP priorities `Config::plan` adds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Skew(#[from] SkewOverflow),
    #[error(transparent)]
    Unicast(#[from] unicast::UnicastError),
    #[error(transparent)]
    Vrrp(#[from] vrrp::VrrpError),
}

/// A VIP as the planner needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VipSpec<'a> {
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

/// The default orders of `m` VIPs over `n` nodes, as node indices: VIP *j*
/// is mastered by node *j mod n*, and every order holds each node once.
/// See the module documentation for the bounds they meet.
///
/// Time O(M·N) and memory O(M·N) (the orders themselves) plus O(N + M):
/// no N×N table and no loop over every pair of nodes, so that it stays
/// linear up to [`MAX_NODES`].
pub(crate) fn balanced_orders(n: usize, m: usize) -> Vec<Vec<usize>> {
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
    let takeover = rank_one(n, m, &primaries, &mut orders);
    if n >= 3 {
        rank_two(n, &primaries, &takeover, &mut orders);
    }

    // The remaining ranks (three or more failures): rotation after the
    // primary, skipping the nodes already placed (at most three, and the
    // rotation itself never repeats a node).
    for o in &mut orders {
        let p = o[0];
        let placed = o.len();
        for d in 1..n {
            let s = (p + d) % n;
            if !o[..placed].contains(&s) {
                o.push(s);
            }
        }
    }
    orders
}

/// Rank 1. `takeover[f]` lists (s, k): s takes k of f's VIPs when f fails.
/// Each of f's VIPs goes to the survivor that would then hold the fewest
/// (water-filling keeps every single failure within ⌈M/(N−1)⌉, since no
/// node masters more than ⌈M/N⌉); among those, the one whose worst
/// two-failure load with an already planned node g (its primaries plus
/// what it takes from f and from g) is lowest; then the next in rotation
/// after f.
///
/// The worst g for a survivor s is the largest takeover in column s
/// outside row f; `column[s]` keeps that column's largest value, its row
/// and the largest value outside that row, so each candidate costs O(1).
fn rank_one(
    n: usize,
    m: usize,
    primaries: &[usize],
    orders: &mut [Vec<usize>],
) -> Vec<Vec<(usize, usize)>> {
    let mut takeover: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    let mut column = vec![ColumnMax::default(); n];
    // Row f of the takeover table, dense while f is being planned.
    let mut row = vec![0usize; n];
    for (f, planned) in takeover.iter_mut().enumerate() {
        for j in (f..m).step_by(n) {
            let mut best: Option<((usize, usize, usize), usize)> = None;
            for d in 1..n {
                let s = (f + d) % n;
                let single = primaries[s] + row[s];
                let double = single + column[s].outside(f);
                let key = (single, double, d);
                if best.is_none_or(|(k, _)| key < k) {
                    best = Some((key, s));
                }
            }
            if let Some((_, s)) = best {
                row[s] += 1;
                column[s].raise(f, row[s]);
                orders[j].push(s);
            }
        }
        for (s, k) in row.iter_mut().enumerate() {
            if *k > 0 {
                planned.push((s, *k));
                *k = 0;
            }
        }
    }
    takeover
}

/// The largest value of one column of the takeover table, the row that
/// holds it, and the largest value in the other rows. Values only grow.
#[derive(Debug, Clone, Copy, Default)]
struct ColumnMax {
    top: usize,
    row: Option<usize>,
    second: usize,
}

impl ColumnMax {
    /// The largest value outside row `f` (0 when there is none).
    fn outside(&self, f: usize) -> usize {
        if self.row == Some(f) {
            self.second
        } else {
            self.top
        }
    }

    /// Row `f` of this column is now `v`, one more than before.
    fn raise(&mut self, f: usize, v: usize) {
        if self.row == Some(f) {
            self.top = v;
        } else if v > self.top {
            self.second = self.top;
            self.top = v;
            self.row = Some(f);
        } else {
            self.second = self.second.max(v);
        }
    }
}

/// Rank 2 matters only when rank 0 and rank 1 fail together, and the VIPs
/// with primary f and rank 1 g (or the reverse) matter in no other pair of
/// failures: so each pair {f, g} is water-filled on its own, over the
/// survivors' load after that double failure. Only the pairs that hold a
/// VIP are visited (at most M of them), in order of (f, g), f < g; within
/// a pair the VIPs with primary f first, each group in file order.
fn rank_two(
    n: usize,
    primaries: &[usize],
    takeover: &[Vec<(usize, usize)>],
    orders: &mut [Vec<usize>],
) {
    let mut todo: Vec<(usize, usize, bool, usize)> = orders
        .iter()
        .enumerate()
        .filter_map(|(j, o)| match o[..] {
            [p, r1] => Some((p.min(r1), p.max(r1), p > r1, j)),
            _ => None,
        })
        .collect();
    todo.sort_unstable();
    let mut load = vec![0usize; n];
    for pair in todo.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let (f, g) = (pair[0].0, pair[0].1);
        load.copy_from_slice(primaries);
        for &(s, k) in takeover[f].iter().chain(&takeover[g]) {
            load[s] += k;
        }
        for &(_, _, _, j) in pair {
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

/// advskew = rank × step, or `None` when it would reach [`CARP_MAXSKEW`].
pub(crate) fn advskew(rank: usize, step: u8) -> Option<AdvSkew> {
    let skew = rank.checked_mul(usize::from(step))?;
    if skew >= usize::from(CARP_MAXSKEW) {
        return None;
    }
    AdvSkew::new(i64::try_from(skew).ok()?).ok()
}

/// Whether every rank of `order` (VIP `vip`) gets an advskew below
/// [`CARP_MAXSKEW`]; the error names the first node that would not. Only the
/// length matters, so this costs O(1) whatever the order.
pub(crate) fn check_order(vip: &str, order: &[String], step: u8) -> Result<(), SkewOverflow> {
    // The first rank r with r × step >= 240.
    let first_over = usize::from(CARP_MAXSKEW).div_ceil(usize::from(step.max(1)));
    match order.get(first_over) {
        Some(node) if step > 0 => Err(SkewOverflow {
            vip: vip.to_string(),
            node: node.clone(),
            rank: first_over,
            step,
            advskew: first_over.saturating_mul(usize::from(step)),
        }),
        _ => Ok(()),
    }
}

/// Each node's advskew in `order` for VIP `vip`.
pub(crate) fn ranks(
    vip: &str,
    order: &[String],
    step: u8,
) -> Result<BTreeMap<String, AdvSkew>, SkewOverflow> {
    check_order(vip, order, step)?;
    let mut out = BTreeMap::new();
    for (rank, node) in order.iter().enumerate() {
        // Below CARP_MAXSKEW, as checked above; AdvSkew takes 0..=254.
        if let Some(skew) = advskew(rank, step) {
            out.insert(node.clone(), skew);
        }
    }
    Ok(out)
}

/// Plan `vips` (in file order) over `nodes` (in file order).
pub(crate) fn plan_vips(
    nodes: &[String],
    vips: &[VipSpec<'_>],
    step: u8,
) -> Result<Plan, SkewOverflow> {
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
            protocol: Protocol::Carp,
            unicast: false,
            vrrp: None,
        });
    }
    Ok(Plan {
        nodes: nodes.to_vec(),
        advskew_step: step,
        vips: out,
    })
}

mod matrix;
pub use matrix::*;
pub(crate) mod pinned;
pub mod unicast;
pub mod vrrp;

#[cfg(test)]
mod tests;
