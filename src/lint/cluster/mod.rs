//! Checks across files: which files belong to one node, whether carp(4)
//! is loaded on each node, and, when several nodes are given, whether
//! they agree on what carp needs them to agree on.
//!
//! **Nodes.** Each file is a node of its own unless the command line
//! (`NODE=FILE`, a directory argument) or names that leave no doubt
//! (`hosta.rc.conf` and `hosta.loader.conf`; `etc/rc.conf` and
//! `boot/loader.conf` of one tree) group it with others, and two rc.conf
//! files with different hostnames are never one node ([`nodes`]).
//!
//! **One vhid, one segment.** The same vhid on two nodes is one virtual
//! router when its interfaces share a subnet (or a VIP), or, when neither
//! node's interface addresses are known, when the interface names match.
//! For it, carp(4) needs (docs/freebsd-carp.md §10, users.md "What goes wrong"):
//!
//! * the same password on every node: the HMAC covers it, so a node with
//!   another password cannot authenticate the others and becomes MASTER
//!   (compared per file, whatever the grouping: [`passwords`]);
//! * the same address list: the HMAC covers the addresses too, with the
//!   same effect;
//! * distinct advertisement intervals: on a tie the receiving master steps
//!   down (§8), so the VIP flaps.
//!
//! **Active-active.** When different nodes are the intended MASTER of
//! different vhids, `net.inet.carp.preempt` must be on everywhere, or a
//! node that recovers never takes its VIPs back (§7: off by default).

use std::collections::BTreeSet;
use std::path::Path;

use super::Issue;
use super::input::Given;
use super::loader::LoaderConf;
use super::rcconf::RcConf;
use super::sysctl::SysctlConf;

mod agreement;
mod boot;
mod election;
mod nodes;
mod passwords;
pub(crate) mod peers;
mod preempt;
mod routers;

pub(crate) use nodes::{GroupedBy, NamedBy};
pub(crate) use nodes::{NodeFiles, node_key, nodes};
pub(crate) use routers::{Member, priority, virtual_routers};

/// What one input file was read as.
#[derive(Debug, Clone, Default)]
pub(crate) enum Analysis {
    RcConf(Box<RcConf>),
    Loader(LoaderConf),
    Sysctl(SysctlConf),
    /// devd.conf and cluster files: nothing for the cross-file checks.
    #[default]
    Other,
}

/// The cross-file checks. `given`: how the command line gave each input.
/// Returns the nodes and the issues as (input index, issue).
pub(crate) fn check(
    paths: &[&Path],
    given: &[&Given],
    analyses: &[Analysis],
    force_cluster: bool,
) -> (Vec<NodeFiles>, Vec<(usize, Issue)>) {
    let mut out = Vec::new();
    let nodes = nodes(paths, given, analyses);
    let inputs = Inputs {
        paths,
        analyses,
        nodes: &nodes,
    };
    for node in &nodes {
        boot::check(&inputs, node, &mut out);
    }
    passwords::check(&inputs, &mut out);
    across_nodes(&inputs, force_cluster, &mut out);
    (nodes, out)
}

/// The inputs of the cross-file checks, grouped into nodes.
struct Inputs<'a> {
    paths: &'a [&'a Path],
    analyses: &'a [Analysis],
    nodes: &'a [NodeFiles],
}

impl Inputs<'_> {
    /// The path of input `f`, for messages.
    fn show(&self, f: usize) -> String {
        self.paths
            .get(f)
            .map_or_else(String::new, |p| p.display().to_string())
    }

    /// The node input `f` belongs to.
    fn node_of(&self, f: usize) -> Option<usize> {
        self.nodes.iter().position(|n| n.files.contains(&f))
    }

    /// The name of node `n`, for messages.
    fn name(&self, n: usize) -> &str {
        self.nodes.get(n).map_or("?", |x| x.name.as_str())
    }

    /// The rc.conf analyses of node `node`, with their input index.
    fn rcconfs<'n>(&'n self, node: &'n NodeFiles) -> impl Iterator<Item = (usize, &'n RcConf)> {
        node.files
            .iter()
            .filter_map(|&f| match self.analyses.get(f) {
                Some(Analysis::RcConf(rc)) => Some((f, rc.as_ref())),
                _ => None,
            })
    }
}

/// The checks between nodes: only when several nodes carry a shared vhid,
/// or when the caller says the inputs are one cluster.
fn across_nodes(inputs: &Inputs<'_>, force_cluster: bool, out: &mut Vec<(usize, Issue)>) {
    let mut rcs: Vec<(usize, usize, &RcConf)> = Vec::new();
    for (n, node) in inputs.nodes.iter().enumerate() {
        for (f, rc) in inputs.rcconfs(node) {
            rcs.push((n, f, rc));
        }
    }
    let (entries, groups) = virtual_routers(&rcs);
    let node_count = inputs
        .nodes
        .iter()
        .filter(|node| inputs.rcconfs(node).any(|(_, rc)| !rc.vhids.is_empty()))
        .count();
    let shared = groups.iter().any(|g| g.len() >= 2);
    if !(force_cluster || (node_count >= 2 && shared)) {
        return;
    }
    let mut masters: BTreeSet<usize> = BTreeSet::new();
    for g in &groups {
        let members: Vec<&Member<'_>> = g.iter().filter_map(|&i| entries.get(i)).collect();
        let several_nodes = force_cluster || node_count >= 2;
        masters.extend(agreement::check(inputs, &members, several_nodes, out));
    }
    preempt::check(inputs, &entries, masters.len() >= 2, out);
}
