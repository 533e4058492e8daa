//! The cluster plan: for each VIP, the order in which nodes master it and
//! the advskew each node advertises for it.
//!
//! Every node computes the same plan from the same cluster file, so the
//! nodes agree on ranks without talking to each other.
//!
//! **Order.** A VIP's `prefer` list when given (only those nodes take part),
//! else the rotation ([`rotation`]): VIP *i* in file order is mastered by node
//! *i mod N* and falls over to the next nodes in file order.
//!
//! **Skew rule.** advskew = rank × `advskew_step` (default 4). Why
//! (reference §11.1, §11.3):
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
//!   So a health check needs weight ≥ step + 1 to move a VIP one rank;
//!   maintenance uses 240 (`CARP_MAXSKEW`, a fully demoted node).
//! * Every skew must stay below 240, what a fully demoted node advertises;
//!   with step 4 that is 60 ranks. An order whose last rank reaches 240 is an
//!   error ([`PlanError`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Config;
use crate::model::{AdvSkew, Vhid};

/// `CARP_MAXSKEW`: the skew a fully demoted node advertises. Planned skews
/// stay strictly below it, so that a demoted node always yields.
pub const MAX_SKEW: u8 = carpctl_sys::CARP_MAXSKEW;

/// The whole cluster's plan, as `carpctl plan --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub vips: Vec<VipPlan>,
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
}

impl VipPlan {
    /// The node's rank (0 = intended MASTER), `None` if it takes no part.
    pub fn rank_of(&self, node: &str) -> Option<usize> {
        self.order.iter().position(|n| n == node)
    }

    pub fn advskew_of(&self, node: &str) -> Option<AdvSkew> {
        self.advskew.get(node).copied()
    }
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

/// The default order of VIP number `index` (file order) over `nodes` (file
/// order): `[index mod N, index+1 mod N, ...]`, so that VIP *i* is mastered
/// by node *i mod N*.
///
/// This is the one place that decides the default layout; a later issue
/// replaces it with a construction that also balances the load after a
/// failure.
pub fn rotation(index: usize, nodes: &[String]) -> Vec<String> {
    let n = nodes.len();
    if n == 0 {
        return Vec::new();
    }
    (0..n)
        .filter_map(|k| nodes.get((index % n + k) % n).cloned())
        .collect()
}

/// The order of VIP number `index`: its `prefer` list, else the rotation.
pub fn order(index: usize, prefer: Option<&[String]>, nodes: &[String]) -> Vec<String> {
    match prefer {
        Some(p) => p.to_vec(),
        None => rotation(index, nodes),
    }
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
    let mut out = Vec::with_capacity(vips.len());
    for (i, v) in vips.iter().enumerate() {
        let order = order(i, v.prefer, nodes);
        let advskew = ranks(v.name, &order, step)?;
        out.push(VipPlan {
            name: v.name.to_string(),
            vhid: v.vhid,
            order,
            advskew,
        });
    }
    Ok(Plan { vips: out })
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

    #[test]
    fn rotation_masters_vip_i_on_node_i_mod_n() {
        let nodes = names(3);
        assert_eq!(rotation(0, &nodes), ["n0", "n1", "n2"]);
        assert_eq!(rotation(1, &nodes), ["n1", "n2", "n0"]);
        assert_eq!(rotation(2, &nodes), ["n2", "n0", "n1"]);
        assert_eq!(rotation(4, &nodes), ["n1", "n2", "n0"]);
        assert!(rotation(3, &[]).is_empty());
    }

    #[test]
    fn prefer_overrides_rotation_and_may_be_a_subset() {
        let nodes = names(3);
        let prefer = vec!["n2".to_string(), "n0".to_string()];
        assert_eq!(order(0, Some(&prefer), &nodes), ["n2", "n0"]);
        assert_eq!(order(0, None, &nodes), ["n0", "n1", "n2"]);
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
            serde_json::json!({"vips": [
                {"name": "mail1", "vhid": 1, "order": ["mail-a", "mail-b"],
                 "advskew": {"mail-a": 0, "mail-b": 4}},
                {"name": "mail2", "vhid": 2, "order": ["mail-b", "mail-a"],
                 "advskew": {"mail-a": 4, "mail-b": 0}},
            ]})
        );
        let m2 = plan.vip("mail2").unwrap();
        assert_eq!(m2.rank_of("mail-b"), Some(0));
        assert_eq!(m2.rank_of("mail-a"), Some(1));
        assert_eq!(m2.rank_of("nobody"), None);
        assert_eq!(m2.advskew_of("mail-a").map(AdvSkew::get), Some(4));
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
    fn vips_strategy(n: usize) -> impl Strategy<Value = Vec<Option<Vec<usize>>>> {
        let one = prop_oneof![
            Just(None),
            Just((0..n).collect::<Vec<_>>())
                .prop_shuffle()
                .prop_flat_map(move |v| (Just(v), 1..=n))
                .prop_map(|(v, k)| Some(v.into_iter().take(k).collect())),
        ];
        proptest::collection::vec(one, 0..8)
    }

    proptest! {
        #[test]
        fn skews_are_distinct_and_below_240_whenever_planning_succeeds(
            (n, step, vips) in (1usize..80, 1u8..=255)
                .prop_flat_map(|(n, step)| (Just(n), Just(step), vips_strategy(n)))
        ) {
            let nodes = names(n);
            let prefers: Vec<Option<Vec<String>>> = vips
                .iter()
                .map(|p| p.as_ref().map(|ix| ix.iter().map(|&i| nodes[i].clone()).collect()))
                .collect();
            let vnames: Vec<String> = (0..vips.len()).map(|i| format!("v{i}")).collect();
            let specs: Vec<VipSpec<'_>> = prefers
                .iter()
                .zip(&vnames)
                .enumerate()
                .map(|(i, (p, name))| VipSpec {
                    name,
                    vhid: vhid(i as i64 + 1),
                    prefer: p.as_deref(),
                })
                .collect();
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
    }
}
