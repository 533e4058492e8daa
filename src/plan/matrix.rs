//! The failure matrix of a [`Plan`]: who holds each VIP after every single
//! and double node failure and while each node is in maintenance; and the
//! balance check over it.
//!
//! The matrix has N + N(N−1)/2 + N entries, each about all M VIPs, so it is
//! never held whole: [`FailureMatrix`] computes one entry at a time
//! ([`FailureMatrix::iter`]), each in O(M + N) time and memory, from the
//! orders as node indices. `carpctl plan` walks it once for [`balance`] and
//! again to print it (the `--json` document streams it), so its memory is
//! O(M·N) however large the matrix is.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::{OrderSource, Plan};

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

/// One entry of the failure matrix, as owned data (see
/// [`FailureMatrix::scenarios`]). [`Outcome`] serializes to the same JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureCase {
    pub kind: ScenarioKind,
    /// The failed nodes, or the node in maintenance.
    pub nodes: Vec<String>,
    /// VIP name -> the node holding it; `null` when every node of its
    /// order is down.
    pub(crate) owners: BTreeMap<String, Option<String>>,
    /// Every node that is up -> how many VIPs it holds.
    pub load: BTreeMap<String, usize>,
    /// The most VIPs on one node.
    pub(crate) max_load: usize,
    /// The bound for this many failures over the whole file (M = every
    /// VIP); `None` when no node survives to hold a bound.
    pub bound: Option<usize>,
    pub(crate) within_bound: bool,
    /// VIPs that no node holds (file order).
    pub(crate) unowned: Vec<String>,
}

impl FailureCase {
    pub fn owner_of(&self, vip: &str) -> Option<&str> {
        self.owners.get(vip).and_then(|o| o.as_deref())
    }
}

/// The balance bounds for `n` nodes and `m` VIPs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Bounds {
    /// Each node is first for at least this many VIPs...
    pub(crate) primaries_min: usize,
    /// ...and at most this many.
    pub(crate) primaries_max: usize,
    /// ⌈M/(N−1)⌉, for N ≥ 2.
    pub(crate) single_failure: Option<usize>,
    /// ⌈M/(N−2)⌉ + 1, for N ≥ 3.
    pub(crate) double_failure: Option<usize>,
}

pub(crate) fn bounds(n: usize, m: usize) -> Bounds {
    Bounds {
        primaries_min: m.checked_div(n).unwrap_or(0),
        primaries_max: m.div_ceil(n.max(1)),
        single_failure: (n >= 2).then(|| m.div_ceil(n - 1)),
        double_failure: (n >= 3).then(|| m.div_ceil(n - 2) + 1),
    }
}

/// One entry of the matrix before it is computed: indices into
/// [`Plan::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    pub kind: ScenarioKind,
    first: usize,
    second: Option<usize>,
}

impl Case {
    /// The failed nodes, or the node in maintenance, as indices into
    /// [`Plan::nodes`].
    pub(crate) fn nodes(&self) -> impl Iterator<Item = usize> + use<> {
        std::iter::once(self.first).chain(self.second)
    }
}

/// The failure matrix of a plan: for each single failure, each double
/// failure (N ≥ 3: with two nodes, both down leaves nothing to say) and
/// each node in maintenance, in that order (nodes in file order), the owner
/// of every VIP. With `preempt` off a demoted master keeps its VIPs (a
/// backup takes over from a slower master only with
/// `net.inet.carp.preempt=1`, docs/freebsd-carp.md §8), so maintenance moves
/// nothing.
#[derive(Debug)]
pub struct FailureMatrix<'p> {
    plan: &'p Plan,
    preempt: bool,
    bounds: Bounds,
    /// Every name an order uses: the nodes first (index i is node i), then
    /// any name that is no node (possible only in a plan built in code).
    names: Vec<&'p str>,
    /// For each node, the index of the first node with its name: the
    /// index that stands for that name everywhere.
    canon: Vec<usize>,
    /// Each VIP's order as indices into `names`.
    orders: Vec<Vec<usize>>,
    /// One VIP per name (the last, as a map keyed by name keeps), sorted by
    /// name: the key order of `owners` in JSON.
    vip_keys: Vec<usize>,
    /// One node per name (its canonical index), sorted by name: the key
    /// order of `load` in JSON.
    node_keys: Vec<usize>,
}

impl<'p> FailureMatrix<'p> {
    pub fn new(plan: &'p Plan, preempt: bool) -> Self {
        let mut index: HashMap<&'p str, usize> = HashMap::new();
        let mut names: Vec<&'p str> = Vec::with_capacity(plan.nodes.len());
        let mut canon = Vec::with_capacity(plan.nodes.len());
        for (i, n) in plan.nodes.iter().enumerate() {
            names.push(n);
            canon.push(*index.entry(n).or_insert(i));
        }
        let orders = plan
            .vips
            .iter()
            .map(|v| {
                v.order
                    .iter()
                    .map(|n| {
                        *index.entry(n).or_insert_with(|| {
                            names.push(n);
                            names.len() - 1
                        })
                    })
                    .collect()
            })
            .collect();
        let mut vip_keys: Vec<usize> = (0..plan.vips.len()).collect();
        // Stable: equal names keep file order, and the last one is kept.
        vip_keys.sort_by(|&a, &b| plan.vips[a].name.cmp(&plan.vips[b].name));
        let vip_keys = last_of_each_name(vip_keys, |j| &plan.vips[j].name);
        let mut node_keys: Vec<usize> = (0..plan.nodes.len()).filter(|&i| canon[i] == i).collect();
        node_keys.sort_by(|&a, &b| plan.nodes[a].cmp(&plan.nodes[b]));
        FailureMatrix {
            plan,
            preempt,
            bounds: bounds(plan.nodes.len(), plan.vips.len()),
            names,
            canon,
            orders,
            vip_keys,
            node_keys,
        }
    }

    pub fn plan(&self) -> &'p Plan {
        self.plan
    }

    /// How many entries: N + N(N−1)/2 (N ≥ 3) + N.
    pub fn len(&self) -> usize {
        let n = self.plan.nodes.len();
        let pairs = if n >= 3 { n * (n - 1) / 2 } else { 0 };
        2 * n + pairs
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries, not yet computed, in matrix order.
    pub fn cases(&self) -> impl Iterator<Item = Case> + use<> {
        let n = self.plan.nodes.len();
        let single = (0..n).map(|a| Case {
            kind: ScenarioKind::Failure,
            first: a,
            second: None,
        });
        let double = (0..if n >= 3 { n } else { 0 }).flat_map(move |a| {
            (a + 1..n).map(move |c| Case {
                kind: ScenarioKind::Failure,
                first: a,
                second: Some(c),
            })
        });
        let maintenance = (0..n).map(|a| Case {
            kind: ScenarioKind::Maintenance,
            first: a,
            second: None,
        });
        single.chain(double).chain(maintenance)
    }

    /// Every entry, computed one at a time.
    pub fn iter(&self) -> impl Iterator<Item = Outcome<'_, 'p>> {
        self.cases().map(|c| self.outcome(c))
    }

    /// Every entry as owned data (tests, and callers that keep a few).
    pub fn scenarios(&self) -> impl Iterator<Item = FailureCase> {
        self.iter().map(|o| o.to_scenario())
    }

    /// Compute one entry: O(M + N) for a plan whose orders name each node
    /// once (an owner is found within the first three ranks).
    pub(crate) fn outcome(&self, case: Case) -> Outcome<'_, 'p> {
        let canon = |i: usize| self.canon.get(i).copied().unwrap_or(i);
        let (down, maintenance) = match case.kind {
            ScenarioKind::Failure => ([Some(canon(case.first)), case.second.map(canon)], None),
            ScenarioKind::Maintenance => ([None, None], self.preempt.then_some(canon(case.first))),
        };
        let is_up = |n: &usize| !down.contains(&Some(*n));
        let n = self.plan.nodes.len();
        let mut load = vec![0usize; n];
        let owners: Vec<Option<usize>> = self
            .orders
            .iter()
            .map(|o| {
                let who = o
                    .iter()
                    .filter(|x| is_up(x))
                    .find(|&&x| Some(x) != maintenance)
                    .or_else(|| o.iter().find(|x| is_up(x)))
                    .copied();
                if let Some(c) = who.and_then(|w| load.get_mut(w)) {
                    *c += 1;
                }
                who
            })
            .collect();
        let max_load = self
            .node_keys
            .iter()
            .filter(|i| is_up(i))
            .map(|&i| load[i])
            .max()
            .unwrap_or(0);
        let bound = match (case.kind, case.second) {
            (ScenarioKind::Failure, Some(_)) => self.bounds.double_failure,
            _ => self.bounds.single_failure,
        };
        Outcome {
            matrix: self,
            case,
            down,
            owners,
            load,
            max_load,
            bound,
            within_bound: bound.is_none_or(|b| max_load <= b),
        }
    }
}

/// Of indices sorted by name (stably), the last of each run of one name.
fn last_of_each_name<'a>(sorted: Vec<usize>, name: impl Fn(usize) -> &'a str) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(sorted.len());
    for j in sorted {
        match out.last_mut() {
            Some(last) if name(*last) == name(j) => *last = j,
            _ => out.push(j),
        }
    }
    out
}

/// One computed entry of the matrix. It serializes exactly as the
/// [`FailureCase`] it stands for, without building one.
#[derive(Debug)]
pub struct Outcome<'m, 'p> {
    matrix: &'m FailureMatrix<'p>,
    pub case: Case,
    /// The failed nodes, canonical indices.
    down: [Option<usize>; 2],
    /// Per VIP (file order), its owner as an index into `names`.
    owners: Vec<Option<usize>>,
    /// Per canonical node index, how many VIPs it holds.
    load: Vec<usize>,
    /// The most VIPs on one node.
    pub(crate) max_load: usize,
    pub bound: Option<usize>,
    pub(crate) within_bound: bool,
}

impl<'p> Outcome<'_, 'p> {
    pub fn kind(&self) -> ScenarioKind {
        self.case.kind
    }

    /// The failed nodes, or the node in maintenance.
    pub(crate) fn nodes(&self) -> Vec<&'p str> {
        let names = &self.matrix.names;
        self.case
            .nodes()
            .filter_map(|i| names.get(i).copied())
            .collect()
    }

    fn is_up(&self, i: usize) -> bool {
        !self.down.contains(&Some(i))
    }

    fn name(&self, i: Option<usize>) -> Option<&'p str> {
        i.and_then(|i| self.matrix.names.get(i).copied())
    }

    /// The owner of the VIP at `index` (file order).
    pub(crate) fn owner_at(&self, index: usize) -> Option<&'p str> {
        self.name(self.owners.get(index).copied().flatten())
    }

    /// The VIPs not on the first node of their order, with where they are
    /// (`None`: no node holds them), in file order.
    pub(crate) fn moved(&self) -> impl Iterator<Item = (&'p str, Option<&'p str>)> + '_ {
        let plan = self.matrix.plan;
        self.matrix
            .orders
            .iter()
            .zip(&self.owners)
            .zip(&plan.vips)
            .filter(|((o, now), _)| o.first() != now.as_ref())
            .map(|((_, now), v)| (v.name.as_str(), self.name(*now)))
    }

    /// The VIPs no node holds, in file order.
    pub(crate) fn unowned(&self) -> impl Iterator<Item = &'p str> + '_ {
        let plan = self.matrix.plan;
        self.owners
            .iter()
            .zip(&plan.vips)
            .filter(|(o, _)| o.is_none())
            .map(|(_, v)| v.name.as_str())
    }

    /// Every node that is up and how many VIPs it holds, by name.
    pub fn load(&self) -> impl Iterator<Item = (&'p str, usize)> + '_ {
        self.matrix
            .node_keys
            .iter()
            .filter(|&&i| self.is_up(i))
            .map(|&i| (self.matrix.names[i], self.load[i]))
    }

    fn owners_by_name(&self) -> impl Iterator<Item = (&'p str, Option<&'p str>)> + '_ {
        let plan = self.matrix.plan;
        self.matrix
            .vip_keys
            .iter()
            .map(|&j| (plan.vips[j].name.as_str(), self.owner_at(j)))
    }

    pub fn to_scenario(&self) -> FailureCase {
        FailureCase {
            kind: self.kind(),
            nodes: self.nodes().into_iter().map(str::to_string).collect(),
            owners: self
                .owners_by_name()
                .map(|(v, o)| (v.to_string(), o.map(str::to_string)))
                .collect(),
            load: self.load().map(|(n, c)| (n.to_string(), c)).collect(),
            max_load: self.max_load,
            bound: self.bound,
            within_bound: self.within_bound,
            unowned: self.unowned().map(str::to_string).collect(),
        }
    }
}

/// A map written from an iterator of pairs, in the iterator's order.
struct MapOf<F>(F);

impl<F, I, K, V> Serialize for MapOf<F>
where
    F: Fn() -> I,
    I: Iterator<Item = (K, V)>,
    K: Serialize,
    V: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map((self.0)())
    }
}

impl Serialize for Outcome<'_, '_> {
    /// The fields of [`FailureCase`], in its order, with maps in key order:
    /// the same bytes as serializing [`Outcome::to_scenario`].
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Scenario", 8)?;
        st.serialize_field("kind", &self.kind())?;
        st.serialize_field("nodes", &self.nodes())?;
        st.serialize_field("owners", &MapOf(|| self.owners_by_name()))?;
        st.serialize_field("load", &MapOf(|| self.load()))?;
        st.serialize_field("max_load", &self.max_load)?;
        st.serialize_field("bound", &self.bound)?;
        st.serialize_field("within_bound", &self.within_bound)?;
        st.serialize_field("unowned", &self.unowned().collect::<Vec<_>>())?;
        st.end()
    }
}

/// The whole matrix as a JSON list, written entry by entry as it is
/// computed: memory O(M + N) however long the list.
#[derive(Debug)]
pub(crate) struct Streamed<'m, 'p>(pub &'m FailureMatrix<'p>);

impl Serialize for Streamed<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

/// Whether the whole plan meets the bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// Primaries, single failures and double failures all within bounds.
    pub(crate) balanced: bool,
    pub(crate) bounds: Bounds,
    /// Node -> how many VIPs it is first for.
    pub(crate) primaries: BTreeMap<String, usize>,
    /// The most VIPs on one survivor after any single failure.
    pub(crate) worst_single_failure: Option<usize>,
    /// The same after any double failure.
    pub(crate) worst_double_failure: Option<usize>,
    /// What breaks a bound, and VIPs left without a node, in words.
    pub(crate) notes: Vec<String>,
}

/// Check the plan of `matrix` (with its failures) against [`bounds`] over
/// every VIP. One pass over the matrix.
pub fn balance(matrix: &FailureMatrix<'_>) -> Balance {
    let plan = matrix.plan;
    let b = matrix.bounds;
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
    for s in matrix.iter().filter(|s| s.kind() == ScenarioKind::Failure) {
        let down = s.nodes();
        let k = down.len();
        if let Some(w) = worst.get_mut(k.wrapping_sub(1)) {
            *w = Some(w.map_or(s.max_load, |x| x.max(s.max_load)));
        }
        let verb = if k == 1 { "s" } else { "" };
        if !s.within_bound {
            ok = false;
            let (who, count) = s
                .load()
                .max_by_key(|&(n, c)| (c, Reverse(n)))
                .unwrap_or(("", 0));
            notes.push(format!(
                "after {} fail{verb}, {who} holds {count} VIPs (bound {})",
                down.join(" and "),
                s.bound.unwrap_or(0)
            ));
        }
        let unowned: Vec<&str> = s.unowned().collect();
        if !unowned.is_empty() {
            notes.push(format!(
                "after {} fail{verb}, no node holds {}",
                down.join(" and "),
                unowned.join(", ")
            ));
        }
    }
    let explicit = named_by(plan, OrderSource::Prefer);
    if !ok && !explicit.is_empty() {
        notes.push(format!(
            "the order of {} is written in the file (prefer) and kept as is; \
             remove prefer to let carpctl balance {}",
            explicit.join(", "),
            if explicit.len() == 1 { "it" } else { "them" }
        ));
    }
    let pinned = named_by(plan, OrderSource::Pinned);
    if !ok && !pinned.is_empty() {
        notes.push(format!(
            "the order of {} follows the advskew or priority values pinned in the file and \
             is kept as is; pinned values that break the bound break it on the running \
             nodes too",
            pinned.join(", ")
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

/// The VIPs of `plan` whose order came from `source`, in file order.
fn named_by(plan: &Plan, source: OrderSource) -> Vec<&str> {
    plan.vips
        .iter()
        .filter(|v| v.source == source)
        .map(|v| v.name.as_str())
        .collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
