//! Unicast CARP pairs: for each unicast VIP, its MASTER and its one BACKUP.
//!
//! FreeBSD's unicast CARP sends a vhid's advertisements to exactly one
//! address, the vhid's `peer` (or `peer6`): `sc_carpaddr` / `sc_carpaddr6`
//! in `struct carp_softc`, set by `carp_ioctl_set()` and used as the IP
//! destination by `carp_send_ad_locked()` (freebsd-src
//! `sys/netinet/ip_carp.c` @ e4452d45). So a unicast VIP has exactly two
//! member nodes, which name each other as peer; where the multicast plan
//! ranks every node ([`super::balanced_orders`]), the unicast plan chooses
//! a pair per VIP.
//!
//! **Pairs.** A VIP's `prefer` list when given: one node (its master; the
//! backup is chosen below) or two (master, then backup, kept as written).
//! Any other length is an error ([`UnicastError`]): there is no third
//! member a unicast vhid could tell. The other VIPs are *balanced*:
//!
//! 1. masters are round-robin: the *j*-th balanced VIP (file order) is
//!    mastered by node *j mod N* (nodes in file order), as in the multicast
//!    plan, so each node masters ⌊M/N⌋ or ⌈M/N⌉ of them;
//! 2. after any single node fails, no survivor holds more than
//!    **⌈M/(N−1)⌉** — the tight bound: M VIPs on N−1 survivors;
//! 3. after any two nodes fail (N ≥ 3), the VIPs whose two members both
//!    failed are lost ([`lost_after`] lists them): at most
//!    **⌈M/(N(N−1)/2)⌉ + 1** for any pair of nodes, and the survivors hold
//!    at most **⌈M/(N−2)⌉ + 1** each.
//!
//! **Construction.** A single failure of node *f* moves exactly *f*'s
//! VIPs, each to its backup, so the backups of different masters never
//! compete in a single failure: each node's VIPs are placed on their own,
//! in node order. Each goes to a survivor that still stays within
//! ⌈M/(N−1)⌉ after taking it; one always exists, because a node masters at
//! most ⌈M/N⌉ ≤ ⌈M/(N−1)⌉, so the survivors can take (N−1)·⌈M/(N−1)⌉ −
//! (M − p) ≥ p more, p being *f*'s count (2 holds for every N and M, not
//! only the tested ones). When explicit VIPs make that impossible, the
//! survivor that would then hold the fewest. Among those, the construction
//! prefers, in this order:
//!
//! * the partner that backs up the fewest of *f*'s VIPs so far: *f*'s VIPs
//!   go to distinct partners, no partner holding more than ⌈p/(N−1)⌉ of
//!   them (4, below);
//! * the partner that already shares the fewest VIPs with *f* in either
//!   direction, which spreads the pairs and so bounds what a double
//!   failure loses (3, first half);
//! * the partner whose worst double-failure load (its own VIPs, what it
//!   takes from *f* and the most it takes from any one other node) is
//!   lowest (3, second half); then the least loaded; then the next node in
//!   rotation after *f*.
//!
//! 4. Each node's p VIPs have distinct backups as far as possible: no node
//!    backs up more than ⌈p/(N−1)⌉ of them.
//!
//! The pigeonhole bound ⌈M/(N(N−1)/2)⌉ on what one double failure loses
//! is not always reachable together with 2: with N = 4 and M = 6, nodes 0
//! and 1 master two VIPs each, which is already ⌈6/3⌉, so neither may back
//! up the other, and all six backups fall on nodes 2 and 3; nodes 2 and 3
//! must then back up each other, and that pair holds two VIPs, where
//! ⌈6/6⌉ = 1. Hence the "+ 1". Bounds 1–4 are proved by an exhaustive test
//! over every single and double failure for all N ≤ 12 and M ≤ 64
//! (`tests::unicast_pairs_meet_the_bounds_*`).
//!
//! Balance is defined over the balanced VIPs counted alone, as for the
//! multicast plan; VIPs with `prefer` count in the load the construction
//! fills (their masters and, with two nodes, their backups), but the
//! bounds are only promised without them. [`worst_cases`] measures any set
//! of pairs (the worst single failure and the worst double-failure loss),
//! for `carpctl plan` to say when explicit VIPs break the bounds.
//!
//! **Scale.** Time O(M·N + N) and memory O(M + N): every VIP looks at the
//! N−1 candidates once, the rows of the takeover table are dense only while
//! their master is placed, and the pair counts of finished rows are kept as
//! sparse lists (at most M entries).

use super::{ColumnMax, OrderSource, VipSpec};
use crate::model::Vhid;

/// One unicast VIP's two members, as node indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnicastPair {
    pub(crate) master: usize,
    pub(crate) backup: usize,
}

impl UnicastPair {
    /// Whether both members are among `down`.
    pub fn lost_with(&self, down: &[usize]) -> bool {
        down.contains(&self.master) && down.contains(&self.backup)
    }

    /// Who holds the VIP when `down` are down: the master if it is up,
    /// else the backup if it is up.
    pub fn owner(&self, down: &[usize]) -> Option<usize> {
        [self.master, self.backup]
            .into_iter()
            .find(|n| !down.contains(n))
    }
}

/// What was fixed for one VIP before the construction runs (node indices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fixed {
    /// Balanced: master round-robin, backup chosen.
    Nothing,
    /// `prefer` with one node: the master; the backup is chosen.
    Master(usize),
    /// `prefer` with two nodes: both kept.
    Pair(usize, usize),
}

/// A unicast VIP that cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnicastError {
    #[error(
        "unicast VIP {vip}: a unicast vhid has exactly one peer, so the VIP needs two \
         member nodes, but the cluster has {nodes}"
    )]
    TooFewNodes { vip: String, nodes: usize },
    #[error(
        "unicast VIP {vip}: prefer lists {count} nodes; a unicast vhid has exactly one \
         peer, so prefer names one node (the master) or two (master, then backup)"
    )]
    PreferLength { vip: String, count: usize },
    #[error("unicast VIP {vip}: prefer names node {node} twice")]
    PreferRepeats { vip: String, node: String },
    #[error("unicast VIP {vip}: prefer names {node}, which is not a node of the cluster")]
    UnknownNode { vip: String, node: String },
}

/// One planned unicast VIP: its master and its backup, which name each
/// other as `peer`/`peer6` on the VIP's interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnicastVip {
    pub name: String,
    pub vhid: Vhid,
    pub(crate) master: String,
    pub(crate) backup: String,
    /// `Prefer` when the file names the master (and perhaps the backup).
    pub source: OrderSource,
}

impl UnicastVip {
    /// The VIP's order, rank 0 first, as the multicast plan writes it.
    pub fn order(&self) -> [&str; 2] {
        [&self.master, &self.backup]
    }

    /// The other member, which `node` names as its peer; `None` if `node`
    /// takes no part.
    pub fn peer_of(&self, node: &str) -> Option<&str> {
        if node == self.master {
            Some(&self.backup)
        } else if node == self.backup {
            Some(&self.master)
        } else {
            None
        }
    }
}

/// The bounds a balanced unicast plan of `m` VIPs over `n` nodes meets
/// (module documentation); `None` where no survivor is left to hold one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnicastBounds {
    pub(crate) primaries_min: usize,
    pub(crate) primaries_max: usize,
    /// The most VIPs on one survivor after one node fails: ⌈M/(N−1)⌉.
    pub(crate) single_failure: Option<usize>,
    /// The most VIPs lost when two nodes fail: ⌈M/(N(N−1)/2)⌉ + 1.
    pub(crate) double_failure_lost: Option<usize>,
    /// The most VIPs on one survivor after two nodes fail: ⌈M/(N−2)⌉ + 1.
    pub(crate) double_failure_load: Option<usize>,
}

/// See [`UnicastBounds`].
pub(crate) fn unicast_bounds(n: usize, m: usize) -> UnicastBounds {
    let (primaries_min, primaries_max) = match n {
        0 => (0, 0),
        _ => (m / n, m.div_ceil(n)),
    };
    let pairs = n * n.saturating_sub(1) / 2;
    UnicastBounds {
        primaries_min,
        primaries_max,
        single_failure: (n >= 2).then(|| m.div_ceil(n - 1)),
        double_failure_lost: (n >= 3).then(|| m.div_ceil(pairs) + 1),
        double_failure_load: (n >= 3).then(|| m.div_ceil(n - 2) + 1),
    }
}

/// The pairs of `m` balanced unicast VIPs over `n` nodes; `None` when a
/// pair cannot be formed (fewer than two nodes and at least one VIP).
pub fn balanced_pairs(n: usize, m: usize) -> Option<Vec<UnicastPair>> {
    if m == 0 {
        return Some(Vec::new());
    }
    (n >= 2).then(|| choose(n, &vec![Fixed::Nothing; m]))
}

/// Plan `vips` (file order) over `nodes` (file order) as unicast VIPs.
/// Errors name the first VIP that cannot have exactly two members.
pub(crate) fn plan_unicast(
    nodes: &[String],
    vips: &[VipSpec<'_>],
) -> Result<Vec<UnicastVip>, UnicastError> {
    let index = |vip: &str, node: &String| {
        nodes
            .iter()
            .position(|n| n == node)
            .ok_or_else(|| UnicastError::UnknownNode {
                vip: vip.to_string(),
                node: node.clone(),
            })
    };
    let mut fixed = Vec::with_capacity(vips.len());
    for v in vips {
        let f = match v.prefer {
            None => Fixed::Nothing,
            Some([a]) => Fixed::Master(index(v.name, a)?),
            Some([a, b]) if a == b => {
                return Err(UnicastError::PreferRepeats {
                    vip: v.name.to_string(),
                    node: a.clone(),
                });
            }
            Some([a, b]) => Fixed::Pair(index(v.name, a)?, index(v.name, b)?),
            Some(p) => {
                return Err(UnicastError::PreferLength {
                    vip: v.name.to_string(),
                    count: p.len(),
                });
            }
        };
        if nodes.len() < 2 {
            return Err(UnicastError::TooFewNodes {
                vip: v.name.to_string(),
                nodes: nodes.len(),
            });
        }
        fixed.push(f);
    }
    let pairs = choose(nodes.len(), &fixed);
    Ok(vips
        .iter()
        .zip(pairs)
        .map(|(v, p)| UnicastVip {
            name: v.name.to_string(),
            vhid: v.vhid,
            master: nodes[p.master].clone(),
            backup: nodes[p.backup].clone(),
            source: match v.prefer {
                Some(_) => OrderSource::Prefer,
                None => OrderSource::Balanced,
            },
        })
        .collect())
}

/// The VIPs (indices, file order) lost when nodes `a` and `b` are both
/// down: those whose master and backup are exactly these two. Empty when
/// `a == b` (a single failure loses nothing: the backup takes over).
pub fn lost_after(pairs: &[UnicastPair], a: usize, b: usize) -> Vec<usize> {
    if a == b {
        return Vec::new();
    }
    pairs
        .iter()
        .enumerate()
        .filter(|(_, p)| p.lost_with(&[a, b]))
        .map(|(j, _)| j)
        .collect()
}

/// [`lost_after`] by name: the VIPs lost when nodes `a` and `b` are both
/// down, in file order.
pub fn lost_vips<'v>(vips: &'v [UnicastVip], a: &str, b: &str) -> Vec<&'v str> {
    if a == b {
        return Vec::new();
    }
    vips.iter()
        .filter(|v| {
            let m = [v.master.as_str(), v.backup.as_str()];
            m.contains(&a) && m.contains(&b)
        })
        .map(|v| v.name.as_str())
        .collect()
}

/// How a set of pairs fares: what `carpctl plan` compares with
/// [`unicast_bounds`] when explicit VIPs may break them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnicastWorst {
    /// The most VIPs on one survivor after any single failure (`None`
    /// with fewer than two nodes).
    pub(crate) single_failure: Option<usize>,
    /// The most VIPs one double failure loses, and a pair of nodes that
    /// loses them (the first such pair in node order); `None` with fewer
    /// than three nodes.
    pub(crate) double_failure_lost: Option<(usize, (usize, usize))>,
}

/// [`UnicastWorst`] of `pairs` over `n` nodes, in O(M + N) time and
/// memory (no N×N table): the worst single failure is either a node's
/// own VIPs plus what one failed master sends it, or the most VIPs of a
/// node that takes nothing.
pub(crate) fn worst_cases(n: usize, pairs: &[UnicastPair]) -> UnicastWorst {
    use std::collections::HashMap;
    let mut primaries = vec![0usize; n];
    let mut sent: HashMap<(usize, usize), usize> = HashMap::new();
    for p in pairs.iter().filter(|p| p.master < n && p.backup < n) {
        primaries[p.master] += 1;
        *sent.entry((p.master, p.backup)).or_default() += 1;
    }
    let single_failure = (n >= 2).then(|| {
        // Two largest primaries, with the node of the largest.
        let mut top = (0usize, 0usize, 0usize); // (value, node, second value)
        for (i, &c) in primaries.iter().enumerate() {
            if i == 0 || c > top.0 {
                top = (c, i, if i == 0 { 0 } else { top.0 });
            } else {
                top.2 = top.2.max(c);
            }
        }
        let untouched = (0..n)
            .map(|f| if f == top.1 { top.2 } else { top.0 })
            .max()
            .unwrap_or(0);
        sent.iter()
            .filter(|((f, s), _)| f != s)
            .map(|(&(_, s), &k)| primaries[s] + k)
            .fold(untouched, usize::max)
    });
    let double_failure_lost = (n >= 3).then(|| {
        let mut lost: HashMap<(usize, usize), usize> = HashMap::new();
        for (&(f, s), &k) in sent.iter().filter(|((f, s), _)| f != s) {
            *lost.entry((f.min(s), f.max(s))).or_default() += k;
        }
        lost.into_iter()
            .map(|(pair, k)| (k, std::cmp::Reverse(pair)))
            .max()
            .map_or((0, (0, 1)), |(k, std::cmp::Reverse(pair))| (k, pair))
    });
    UnicastWorst {
        single_failure,
        double_failure_lost,
    }
}

/// What `carpctl plan` says about a plan's unicast VIPs: the single-failure
/// bound they meet, and which VIPs each double failure loses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct UnicastSummary {
    /// How many VIPs of the plan are unicast.
    pub vips: usize,
    /// The most unicast VIPs on one survivor after any single failure.
    pub(crate) single_failure: Option<usize>,
    /// ⌈M/(N−1)⌉, which balanced pairs meet ([`unicast_bounds`]).
    pub(crate) single_failure_bound: Option<usize>,
    /// Every pair of nodes whose failure loses VIPs, with those VIPs (file
    /// order); pairs in node order. A single failure loses none.
    pub(crate) lost_after_double_failure: Vec<LostPair>,
    /// The unicast VIPs whose pair follows pinned values (file order):
    /// like `prefer` pairs, they are not promised the bound. Omitted when
    /// empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) pinned: Vec<String>,
}

/// Two nodes and the unicast VIPs lost when both are down.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct LostPair {
    pub nodes: [String; 2],
    pub vips: Vec<String>,
}

/// [`UnicastSummary`] of `plan`, `None` without unicast VIPs. O(M log M + N).
pub(crate) fn summary(plan: &super::Plan) -> Option<UnicastSummary> {
    use std::collections::BTreeMap;
    let index = |name: &str| plan.nodes.iter().position(|n| n == name);
    let mut pairs = Vec::new();
    let mut lost: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
    for v in plan.vips.iter().filter(|v| v.unicast) {
        let (Some(m), Some(b)) = (
            v.order.first().and_then(|n| index(n)),
            v.order.get(1).and_then(|n| index(n)),
        ) else {
            continue;
        };
        pairs.push(UnicastPair {
            master: m,
            backup: b,
        });
        lost.entry((m.min(b), m.max(b)))
            .or_default()
            .push(v.name.clone());
    }
    if pairs.is_empty() {
        return None;
    }
    let n = plan.nodes.len();
    Some(UnicastSummary {
        vips: pairs.len(),
        single_failure: worst_cases(n, &pairs).single_failure,
        single_failure_bound: unicast_bounds(n, pairs.len()).single_failure,
        lost_after_double_failure: lost
            .into_iter()
            .map(|((a, b), vips)| LostPair {
                nodes: [plan.nodes[a].clone(), plan.nodes[b].clone()],
                vips,
            })
            .collect(),
        pinned: plan
            .vips
            .iter()
            .filter(|v| v.unicast && v.source == super::OrderSource::Pinned)
            .map(|v| v.name.clone())
            .collect(),
    })
}

/// The construction (module documentation). `n ≥ 2`; every index in
/// `fixed` below `n`, and a fixed pair's two nodes distinct
/// ([`plan_unicast`] checks both).
fn choose(n: usize, fixed: &[Fixed]) -> Vec<UnicastPair> {
    if n < 2 || fixed.is_empty() {
        // Nothing to pair ([`plan_unicast`] refuses a VIP with n < 2).
        return Vec::new();
    }
    let mut balanced = 0usize;
    let masters: Vec<usize> = fixed
        .iter()
        .map(|f| match *f {
            Fixed::Nothing => {
                balanced += 1;
                (balanced - 1) % n
            }
            Fixed::Master(a) | Fixed::Pair(a, _) => a,
        })
        .collect();
    let mut primaries = vec![0usize; n];
    // Each node's VIPs, file order: a bucket list in O(M + N).
    let mut by_master: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (j, &p) in masters.iter().enumerate() {
        primaries[p] += 1;
        by_master[p].push(j);
    }
    // ⌈M/(N−1)⌉: every survivor can take that many minus its own VIPs.
    let bound = masters.len().div_ceil(n - 1);
    let mut backups: Vec<usize> = fixed
        .iter()
        .map(|f| match *f {
            Fixed::Pair(_, b) => b,
            // Placeholder until chosen below (never left: every master's
            // bucket is visited).
            _ => usize::MAX,
        })
        .collect();

    // Column s of the takeover table: the most any one node sends to s.
    let mut column = vec![ColumnMax::default(); n];
    // incoming[g]: (f, k) for finished rows f that gave k VIPs to g.
    let mut incoming: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    // Row f (what f's failure sends where) and, while f is placed, what
    // each node already sends to f: both dense only during row f.
    let mut row = vec![0usize; n];
    let mut back = vec![0usize; n];
    let mut touched: Vec<usize> = Vec::new();
    for (f, bucket) in by_master.iter().enumerate() {
        if bucket.is_empty() {
            continue;
        }
        for &(g, k) in &incoming[f] {
            back[g] = k;
        }
        for &j in bucket {
            if let Fixed::Pair(_, b) = fixed[j] {
                give(f, b, &mut row, &mut column, &mut touched);
            }
        }
        for &j in bucket {
            if matches!(fixed[j], Fixed::Pair(..)) {
                continue;
            }
            let mut best: Option<(Key, usize)> = None;
            for d in 1..n {
                let s = (f + d) % n;
                let single = primaries[s] + row[s];
                let key = (
                    (single + 1).max(bound),
                    row[s],
                    row[s] + back[s],
                    single + column[s].outside(f),
                    single,
                    d,
                );
                if best.is_none_or(|(k, _)| key < k) {
                    best = Some((key, s));
                }
            }
            if let Some((_, s)) = best {
                give(f, s, &mut row, &mut column, &mut touched);
                backups[j] = s;
            }
        }
        for s in touched.drain(..) {
            incoming[s].push((f, row[s]));
            row[s] = 0;
        }
        for &(g, _) in &incoming[f] {
            back[g] = 0;
        }
    }
    masters
        .into_iter()
        .zip(backups)
        .map(|(master, backup)| UnicastPair { master, backup })
        .collect()
}

/// A candidate backup's rank (smallest first): its load after a single
/// failure, clipped below at the bound; how many of this master's VIPs it
/// already backs up; how many VIPs it shares with the master either way;
/// its worst double-failure load; its single-failure load; rotation.
type Key = (usize, usize, usize, usize, usize, usize);

/// One more of f's VIPs goes to `s`: row f of the takeover table, column
/// `s`'s maximum, and the list of nodes row f touched.
fn give(f: usize, s: usize, row: &mut [usize], column: &mut [ColumnMax], touched: &mut Vec<usize>) {
    if row[s] == 0 {
        touched.push(s);
    }
    row[s] += 1;
    column[s].raise(f, row[s]);
}

#[cfg(test)]
mod tests;
