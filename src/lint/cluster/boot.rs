//! Per node: is carp(4) loaded at boot? network.subr does not load it, so
//! a node with vhids needs `carp_load="YES"` in loader.conf, `kld_list`
//! in rc.conf or `device carp` in its kernel (whether `if_carp_load` is
//! right depends on the release: `lint::target`).

use super::{Inputs, Issue, LoaderConf};
use crate::lint::cluster::NodeFiles;
use crate::lint::codes::Code;
use crate::textfile::Pos;

/// What the files of one node say about loading carp(4).
struct BootFacts<'a> {
    /// The last loader.conf of the node, with its input index.
    loader: Option<(usize, &'a LoaderConf)>,
    /// The first vhid of its rc.conf files: (input index, position).
    first_vhid: Option<(usize, Pos)>,
    /// Its rc.conf uses the FreeBSD 10 form.
    modern: bool,
    /// Its rc.conf uses the FreeBSD 9 form.
    legacy: bool,
    /// Its rc.conf loads carp with `kld_list`.
    kld: bool,
}

/// The boot checks of one node.
pub(super) fn check(inputs: &Inputs<'_>, node: &NodeFiles, out: &mut Vec<(usize, Issue)>) {
    let rcs: Vec<_> = inputs.rcconfs(node).collect();
    let loader = node
        .files
        .iter()
        .rev()
        .find_map(|&f| match inputs.analyses.get(f) {
            Some(super::Analysis::Loader(l)) => Some((f, l)),
            _ => None,
        });
    let node = BootFacts {
        loader,
        first_vhid: rcs
            .iter()
            .find_map(|(f, rc)| rc.first_vhid_pos().map(|p| (*f, p))),
        modern: rcs.iter().any(|(_, rc)| rc.modern),
        legacy: rcs.iter().any(|(_, rc)| rc.legacy.is_some()),
        kld: rcs.iter().any(|(_, rc)| rc.kld_carp),
    };
    carp_not_loaded(inputs, &node, out);
}

/// `CarpNotLoaded` / `CarpLoadUnknown`: the node configures vhids and
/// nothing given loads carp(4) (or its loader.conf was not given).
fn carp_not_loaded(inputs: &Inputs<'_>, node: &BootFacts<'_>, out: &mut Vec<(usize, Issue)>) {
    let Some((vf, vpos)) = node.first_vhid else {
        return;
    };
    let loaded = node.kld
        || node.loader.is_some_and(|(_, l)| {
            l.carp_load.is_some_and(|(y, _)| y)
                || (node.legacy && !node.modern && l.if_carp_load.is_some_and(|(y, _)| y))
        });
    if loaded {
        return;
    }
    match node.loader {
        Some((lf, l)) => {
            let pos = l.carp_load.map_or(Pos { line: 1, column: 1 }, |(_, p)| p);
            out.push((
                lf,
                Issue::new(
                    Code::CarpNotLoaded,
                    pos,
                    format!(
                        "{} configures vhids (line {}) but carp(4) is not loaded at boot: \
                         network.subr does not load it, so every vhid line fails with \
                         \"Protocol not supported\"; add carp_load=\"YES\" here (or \
                         kld_list=\"carp\" in rc.conf, or device carp in the kernel)",
                        inputs.show(vf),
                        vpos.line
                    ),
                ),
            ));
        }
        None => out.push((
            vf,
            Issue::new(
                Code::CarpLoadUnknown,
                vpos,
                "vhids need carp(4) loaded at boot, which network.subr does not do: make sure \
                 /boot/loader.conf has carp_load=\"YES\" (give it to lint too), or add \
                 kld_list=\"carp\" here"
                    .to_string(),
            ),
        )),
    }
}
