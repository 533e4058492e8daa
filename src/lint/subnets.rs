//! The rc.conf checks built on the interfaces' subnets
//! ([`crate::rcconf::subnets`]): the parent of a FreeBSD 9 carp interface,
//! VIPs outside their interface's subnets.

use ipnet::IpNet;

use super::Issue;
use super::codes::Code;
use super::rcconf::RcConf;
use crate::rcconf::names::is_carp_iface;
use crate::rcconf::subnets::{holders, subnet_index};

/// How many of an interface's subnets a finding lists before "and N more".
const SUBNETS_SHOWN: usize = 4;

/// Parents of the FreeBSD 9 form, and VIPs outside their interface's
/// subnets.
pub(crate) fn subnets(rc: &mut RcConf) {
    let mut issues = Vec::new();
    let known_any = rc
        .interfaces
        .iter()
        .any(|(n, i)| !is_carp_iface(n) && !i.own.is_empty());
    let mut vhids = std::mem::take(&mut rc.vhids);
    let index = subnet_index(&rc.interfaces);
    for e in &mut vhids {
        if e.legacy {
            let mut cands: Vec<String> = Vec::new();
            for (a, _) in &e.addresses {
                for h in holders(&index, a.addr()) {
                    if !cands.iter().any(|c| c == h) {
                        cands.push(h.to_string());
                    }
                }
            }
            if cands.len() == 1 {
                e.parent = cands.first().cloned();
            }
            e.parent_candidates = cands;
            if known_any
                && e.parent_candidates.is_empty()
                && let Some((a, pos)) = e.addresses.first()
            {
                issues.push(Issue::new(
                    Code::VipOutsideSubnet,
                    *pos,
                    format!(
                        "{} lies in no subnet of this node's interfaces: FreeBSD 9 carp picks \
                             the parent by subnet, and the migration needs it too; give the \
                             parent an address in {} (or pass --parent to carpctl migrate)",
                        a.addr(),
                        a.trunc()
                    ),
                ));
            }
            continue;
        }
        let own: &[IpNet] = rc.interfaces.get(&e.iface).map_or(&[], |i| &i.own);
        // Per family: the first few subnets and how many more, named in the
        // finding (computed at most once per vhid, not once per address).
        let family = |v4: bool| {
            let mut nets = own.iter().filter(move |n| n.addr().is_ipv4() == v4);
            let mut shown: Vec<String> = nets
                .by_ref()
                .take(SUBNETS_SHOWN)
                .map(|n| n.to_string())
                .collect();
            let more = nets.count();
            if more > 0 {
                shown.push(format!("and {more} more"));
            }
            shown.join(", ")
        };
        let mut lists: [Option<String>; 2] = [None, None];
        for (a, pos) in &e.addresses {
            if index.holders(a.addr()).any(|h| h == e.iface) {
                continue;
            }
            let v4 = a.addr().is_ipv4();
            let list = lists[usize::from(!v4)].get_or_insert_with(|| family(v4));
            if list.is_empty() {
                continue;
            }
            issues.push(Issue::new(
                Code::VipOutsideSubnet,
                *pos,
                format!(
                    "{} is outside every subnet of {} ({}): hosts on the segment reach it only \
                     through a route, and ARP for it goes unanswered; put the VIP in the \
                     interface's subnet or give the interface an address in its subnet",
                    a.addr(),
                    rc.display_name(&e.iface),
                    list
                ),
            ));
        }
    }
    rc.vhids = vhids;
    rc.issues.extend(issues);
}
