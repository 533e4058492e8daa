//! `net.inet.carp.preempt` across the nodes of a cluster: an active-active
//! cluster needs it on everywhere (off by default, freebsd-carp.md §7), and
//! the nodes must agree on it.

use std::collections::{BTreeMap, BTreeSet};

use super::{Analysis, Inputs, Issue, Member};
use crate::lint::codes::Code;
use crate::textfile::Pos;

/// Per node: its preempt value, the sysctl.conf it comes from and where
/// (line 1, column 1 when not set); `None` when no sysctl.conf was given.
type PreemptByNode = BTreeMap<usize, Option<(bool, usize, Pos)>>;

/// The preempt checks of the nodes carrying `entries`. `active_active`:
/// different nodes are the intended master of different vhids.
pub(super) fn check(
    inputs: &Inputs<'_>,
    entries: &[Member<'_>],
    active_active: bool,
    out: &mut Vec<(usize, Issue)>,
) {
    let preempt = preempt_by_node(inputs, entries);
    if active_active {
        preempt_off(inputs, entries, &preempt, out);
    }
    preempt_mismatch(inputs, &preempt, out);
}

/// The preempt setting of every node that carries a vhid.
fn preempt_by_node(inputs: &Inputs<'_>, entries: &[Member<'_>]) -> PreemptByNode {
    let cluster_nodes: BTreeSet<usize> = entries.iter().map(|e| e.node).collect();
    let mut preempt = PreemptByNode::new();
    for n in cluster_nodes {
        let Some(node) = inputs.nodes.get(n) else {
            continue;
        };
        let s = node
            .files
            .iter()
            .rev()
            .find_map(|&f| match inputs.analyses.get(f) {
                Some(Analysis::Sysctl(s)) => Some((f, s)),
                _ => None,
            });
        preempt.insert(
            n,
            s.map(|(f, s)| match s.preempt {
                Some((v, p)) => (v, f, p),
                None => (false, f, Pos { line: 1, column: 1 }),
            }),
        );
    }
    preempt
}

/// `PreemptOff` / `PreemptUnknown`: an active-active node with preempt
/// off, or whose sysctl.conf was not given.
fn preempt_off(
    inputs: &Inputs<'_>,
    entries: &[Member<'_>],
    preempt: &PreemptByNode,
    out: &mut Vec<(usize, Issue)>,
) {
    for (&n, p) in preempt {
        match p {
            Some((false, f, pos)) => out.push((
                *f,
                Issue::new(
                    Code::PreemptOff,
                    *pos,
                    format!(
                        "{} is MASTER for some vhids and BACKUP for others (active-active), \
                         but net.inet.carp.preempt is off here{}: after a failure it never \
                         takes its VIPs back and the load stays on the other node; set \
                         net.inet.carp.preempt=1",
                        inputs.name(n),
                        if pos.line == 1 && pos.column == 1 {
                            " (not set; off by default)"
                        } else {
                            ""
                        }
                    ),
                ),
            )),
            Some(_) => {}
            None => {
                if let Some(e) = entries.iter().find(|e| e.node == n) {
                    out.push((
                        e.file,
                        Issue::new(
                            Code::PreemptUnknown,
                            e.entry.pos,
                            format!(
                                "{} is part of an active-active cluster, which needs \
                                 net.inet.carp.preempt=1 in /etc/sysctl.conf on every node \
                                 (off by default); give sysctl.conf to lint to check it",
                                inputs.name(n)
                            ),
                        ),
                    ));
                }
            }
        }
    }
}

/// `PreemptMismatch`: nodes whose preempt differs from the first known.
fn preempt_mismatch(inputs: &Inputs<'_>, preempt: &PreemptByNode, out: &mut Vec<(usize, Issue)>) {
    let known: Vec<(usize, bool, usize, Pos)> = preempt
        .iter()
        .filter_map(|(&n, p)| p.map(|(v, f, pos)| (n, v, f, pos)))
        .collect();
    let Some(&(n0, v0, f0, _)) = known.first() else {
        return;
    };
    for &(n, v, f, pos) in known.iter().skip(1) {
        if v != v0 {
            out.push((
                f,
                Issue::new(
                    Code::PreemptMismatch,
                    pos,
                    format!(
                        "net.inet.carp.preempt is {} on {} but {} on {} ({}): nodes then \
                         disagree on who takes a VIP back; set the same value everywhere \
                         (1 for a cluster that balances load)",
                        u8::from(v),
                        inputs.name(n),
                        u8::from(v0),
                        inputs.name(n0),
                        inputs.show(f0)
                    ),
                ),
            ));
        }
    }
}
