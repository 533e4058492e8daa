//! Virtual routers: the vhid entries of different nodes that are one vhid
//! on one segment (sharing a subnet or a VIP, or, when neither node's
//! interface addresses are known, an interface name), and the priority
//! that decides which node of one is MASTER.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::rc::Rc;

use crate::lint::rcconf::RcConf;
use crate::rcconf::model::VhidEntry;
use crate::rcconf::subnets::NetIndex;

/// One vhid entry of one node, for the cross-node checks.
#[derive(Debug, Clone)]
pub(crate) struct Member<'a> {
    /// Index of the node.
    pub node: usize,
    /// Index of the file (input) it comes from.
    pub file: usize,
    pub rc: &'a RcConf,
    pub entry: &'a VhidEntry,
    /// Subnets of the interface it runs on, when known: shared by the
    /// vhids of one interface (an interface may have tens of thousands).
    nets: Rc<NetIndex<()>>,
    /// Its addresses, for the "same VIP" test in O(addresses).
    addrs: HashSet<IpAddr>,
}

impl Member<'_> {
    fn same_segment(&self, o: &Member<'_>) -> bool {
        if self.entry.vhid != o.entry.vhid {
            return false;
        }
        let (small, large) = if self.addrs.len() <= o.addrs.len() {
            (&self.addrs, &o.addrs)
        } else {
            (&o.addrs, &self.addrs)
        };
        if small.iter().any(|a| large.contains(a)) {
            return true;
        }
        if !self.nets.is_empty() && !o.nets.is_empty() {
            return self.nets.overlaps(&o.nets);
        }
        self.entry.iface == o.entry.iface
    }
}

/// Every vhid entry of the given rc.confs, `(node, file, rc)`, and the
/// virtual routers they form: groups of entries of different nodes with
/// one vhid on one segment (indices into the first list). An entry that
/// matches nobody is a group of its own.
pub(crate) fn virtual_routers<'a>(
    rcs: &[(usize, usize, &'a RcConf)],
) -> (Vec<Member<'a>>, Vec<Vec<usize>>) {
    let mut members: Vec<Member<'a>> = Vec::new();
    for &(node, file, rc) in rcs {
        // Interface -> its subnets, indexed once per file.
        let mut by_iface: HashMap<&str, Rc<NetIndex<()>>> = HashMap::new();
        for e in &rc.vhids {
            let iface_nets = |name: &str| {
                let mut index = NetIndex::default();
                for n in rc.interfaces.get(name).map_or(&[][..], |i| &i.own) {
                    index.insert(*n, ());
                }
                Rc::new(index)
            };
            let mut nets = match e.real_iface() {
                Some(i) => Rc::clone(by_iface.entry(i).or_insert_with(|| iface_nets(i))),
                None => Rc::default(),
            };
            if e.legacy && e.parent.is_none() {
                // FreeBSD 9: the VIP carries its subnet.
                let own = Rc::make_mut(&mut nets);
                for (a, _) in &e.addresses {
                    if a.prefix_len() < a.max_prefix_len() {
                        own.insert(*a, ());
                    }
                }
            }
            members.push(Member {
                node,
                file,
                rc,
                entry: e,
                nets,
                addrs: e.addresses.iter().map(|(a, _)| a.addr()).collect(),
            });
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    // Only groups of the same vhid can match: index them by vhid. A group
    // never takes a second entry of the node that made it, so the groups a
    // node makes become candidates only once the next node's entries come:
    // one file with one vhid on thousands of interfaces then costs
    // O(entries), not O(entries²). The result is the same.
    let mut by_vhid: BTreeMap<u8, Vec<usize>> = BTreeMap::new();
    let mut pending: Vec<(u8, usize)> = Vec::new();
    let mut current = None;
    for (i, m) in members.iter().enumerate() {
        if current != Some(m.node) {
            for (vhid, gi) in pending.drain(..) {
                by_vhid.entry(vhid).or_default().push(gi);
            }
            current = Some(m.node);
        }
        let candidates = by_vhid.get(&m.entry.vhid).map_or(&[][..], Vec::as_slice);
        let found = candidates.iter().copied().find(|&gi| {
            groups.get(gi).is_some_and(|g| {
                g.iter().any(|&j| {
                    members
                        .get(j)
                        .is_some_and(|o| o.node != m.node && o.same_segment(m))
                }) && !g
                    .iter()
                    .any(|&j| members.get(j).is_some_and(|o| o.node == m.node))
            })
        });
        match found.and_then(|gi| groups.get_mut(gi)) {
            Some(g) => g.push(i),
            None => {
                pending.push((m.entry.vhid, groups.len()));
                groups.push(vec![i]);
            }
        }
    }
    (members, groups)
}

/// What decides the MASTER: lower is better. CARP: the interval
/// advbase + advskew/256; VRRPv3: higher priority wins.
pub(crate) fn priority(e: &VhidEntry) -> u32 {
    if e.version == 3 {
        255 - u32::from(e.vrrpprio.unwrap_or(100))
    } else {
        e.interval()
    }
}
