//! `PasswordMismatch` whatever the grouping (issue 13 item 1): the same
//! vhid on one segment in two files with different passwords is an error
//! even when the files were grouped into one node (a directory argument of
//! two hosts' files, `NODE=FILE` given twice), because a wrong grouping
//! must not hide the mistake that makes both hosts MASTER. So the virtual
//! routers are formed per file here ([`virtual_routers`] with each file
//! its own "node"), not per node as for the other agreement checks.
//!
//! VRRPv3 has no authentication (the kernel ignores `pass`; CARP017 says
//! so per file), and CARP beside VRRPv3 is CARP065: neither is compared.

use super::{Inputs, Issue, Member, virtual_routers};
use crate::lint::codes::Code;
use crate::lint::rcconf::RcConf;

/// Every pair of files that disagree on a vhid's password.
pub(super) fn check(inputs: &Inputs<'_>, out: &mut Vec<(usize, Issue)>) {
    let rcs: Vec<(usize, usize, &RcConf)> = inputs
        .analyses
        .iter()
        .enumerate()
        .filter_map(|(f, a)| match a {
            super::Analysis::RcConf(rc) => Some((f, f, rc.as_ref())),
            _ => None,
        })
        .collect();
    let (members, groups) = virtual_routers(&rcs);
    for g in groups.iter().filter(|g| g.len() >= 2) {
        let ms: Vec<&Member<'_>> = g.iter().filter_map(|&i| members.get(i)).collect();
        if ms.iter().any(|m| m.entry.version == 3) {
            continue;
        }
        let Some(first) = ms.first() else {
            continue;
        };
        for other in ms.iter().skip(1) {
            mismatch(inputs, first, other, out);
        }
    }
}

/// `other` has another password than `first` (`node` of both is the file).
fn mismatch(
    inputs: &Inputs<'_>,
    first: &Member<'_>,
    other: &Member<'_>,
    out: &mut Vec<(usize, Issue)>,
) {
    if other.entry.pass.as_ref().map(|p| &p.0) == first.entry.pass.as_ref().map(|p| &p.0) {
        return;
    }
    let (first_node, other_node) = (inputs.node_of(first.file), inputs.node_of(other.file));
    let first_at = format!(
        "{} at {}:{}",
        first_node.map_or("?", |n| inputs.name(n)),
        inputs.show(first.file),
        first.entry.pos.line
    );
    let same_node = match (first_node, other_node) {
        (Some(a), Some(b)) if a == b => format!(
            " (lint took both files for node {}: if they are two hosts, give them as \
             separate nodes)",
            inputs.name(a)
        ),
        _ => String::new(),
    };
    let pos = other.entry.pass.as_ref().map_or(other.entry.pos, |p| p.1);
    out.push((
        other.file,
        Issue::new(
            Code::PasswordMismatch,
            pos,
            format!(
                "vhid {}: {}{same_node}: CARP authenticates every advertisement with the \
                 password, so the nodes ignore each other and both become MASTER; use \
                 the same password on every node",
                other.entry.vhid,
                match (&other.entry.pass, &first.entry.pass) {
                    (None, _) => format!("no password here, but one on {first_at}"),
                    (_, None) => format!("a password here, but none on {first_at}"),
                    _ => format!("the password here differs from the one on {first_at}"),
                },
            ),
        ),
    ));
}
