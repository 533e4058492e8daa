//! Pass 3 of the cluster file's validation: the rules across entries
//! (unique names and addresses, one vhid per real interface, no loopback,
//! unused interface maps, single-node VIPs, every skew below 240), one
//! function per rule; those of the election keys are in [`super::protocol`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::ops::Range;

use super::{ParsedNode, ParsedVip, Validator};
use crate::config::Cluster;
use crate::config::rules::{bad_ifname, is_loopback_ifname};
use crate::model::Vhid;
use crate::plan;

impl Validator<'_> {
    pub(super) fn cross_check(
        &mut self,
        cluster: &Cluster,
        step_span: Option<&Range<usize>>,
        nodes: &[ParsedNode],
        vips: &[ParsedVip],
    ) {
        self.unique_vip_names(vips);
        self.unique_addresses(vips);
        self.vhid_per_interface(nodes, vips);
        self.loopback_interfaces(nodes, vips);
        self.unused_mappings(nodes, vips);
        self.single_node_vips(nodes, vips);
        self.skews(cluster, step_span, nodes, vips);
        self.election_rules(nodes, vips);
        self.pin_rules(nodes, vips);
        self.node_address_rules(nodes, vips);
    }

    fn unique_vip_names(&mut self, vips: &[ParsedVip]) {
        let mut seen: HashMap<&str, &Range<usize>> = HashMap::new();
        for v in vips {
            let Some(n) = &v.name else { continue };
            if let Some(first) = seen.get(n.get_ref().as_str()) {
                let msg = format!(
                    "{}: VIP name \"{}\" is already used at line {}",
                    v.ctx,
                    n.get_ref(),
                    self.idx.span(first).line
                );
                self.error(&n.span(), format!("vip[{}].name", v.index), msg);
            } else {
                seen.insert(n.get_ref(), &v.entry_span);
            }
        }
    }

    /// One address in two VIPs: the nodes would fight over it.
    fn unique_addresses(&mut self, vips: &[ParsedVip]) {
        let mut seen: HashMap<IpAddr, &ParsedVip> = HashMap::new();
        for v in vips {
            for (j, a) in v.addresses.iter().flatten().enumerate() {
                let ip = a.get_ref().addr();
                match seen.get(&ip) {
                    Some(first) if first.index != v.index => {
                        let msg = format!(
                            "{}: address {ip} is also in {} (line {})",
                            v.ctx,
                            first.ctx,
                            self.idx.span(&first.entry_span).line
                        );
                        self.error(&a.span(), format!("vip[{}].addresses[{j}]", v.index), msg);
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(ip, v);
                    }
                }
            }
        }
    }

    /// A vhid is unique per interface (carp(4) keys vhids by parent
    /// interface), so two VIPs with one vhid must never land on the same
    /// real interface of a node that takes part in both.
    fn vhid_per_interface(&mut self, nodes: &[ParsedNode], vips: &[ParsedVip]) {
        // (later vip, earlier vip) -> the nodes and real interfaces clashing.
        let mut clashes: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
        // vip -> the nodes that take its interface name as a real name that
        // the kernel would refuse.
        let mut bad_real: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for n in nodes {
            let mut taken: HashMap<(&str, Vhid), usize> = HashMap::new();
            for (k, v) in vips.iter().enumerate() {
                let (Some(vhid), Some(iface)) = (&v.vhid, &v.interface) else {
                    continue;
                };
                if !takes_part(v, &n.node.name) {
                    continue;
                }
                let real = n.node.real_interface(iface.get_ref());
                if !n.node.interfaces.contains_key(iface.get_ref()) && bad_ifname(real).is_some() {
                    bad_real.entry(k).or_default().push(n.node.name.clone());
                }
                match taken.get(&(real, *vhid.get_ref())) {
                    Some(&first) => clashes
                        .entry((k, first))
                        .or_default()
                        .push(format!("{real} on {}", n.node.name)),
                    None => {
                        taken.insert((real, *vhid.get_ref()), k);
                    }
                }
            }
        }
        for ((k, first), wheres) in clashes {
            let (Some(v), Some(f)) = (vips.get(k), vips.get(first)) else {
                continue;
            };
            let Some(vhid) = &v.vhid else { continue };
            let msg = format!(
                "{}: vhid {} is already used by {} (line {}) on the same interface: {}",
                v.ctx,
                vhid.get_ref(),
                f.ctx,
                self.idx.span(&f.entry_span).line,
                wheres.join(", ")
            );
            self.error(&vhid.span(), format!("vip[{}].vhid", v.index), msg);
        }
        for (k, nodes) in bad_real {
            let Some(v) = vips.get(k) else { continue };
            let Some(iface) = &v.interface else { continue };
            let msg = format!(
                "{}: \"{}\" is not mapped by node {}, so it is taken as a real interface \
                 name, and {}",
                v.ctx,
                iface.get_ref(),
                nodes.join(", "),
                bad_ifname(iface.get_ref()).unwrap_or_default()
            );
            self.error(&iface.span(), format!("vip[{}].interface", v.index), msg);
        }
    }

    /// A VIP on a loopback interface: carp(4) refuses it (EOPNOTSUPP,
    /// [`is_loopback_ifname`]), so `apply` would fail late; say it here.
    fn loopback_interfaces(&mut self, nodes: &[ParsedNode], vips: &[ParsedVip]) {
        for v in vips {
            let Some(iface) = &v.interface else { continue };
            let wheres: Vec<String> = nodes
                .iter()
                .filter(|n| takes_part(v, &n.node.name))
                .filter_map(|n| {
                    let real = n.node.real_interface(iface.get_ref());
                    is_loopback_ifname(real).then(|| format!("{real} on {}", n.node.name))
                })
                .collect();
            if wheres.is_empty() {
                continue;
            }
            let msg = format!(
                "{}: interface \"{}\" is a loopback interface ({}); carp(4) runs only on \
                 Ethernet, VLAN and bridge interfaces and refuses a loopback (EOPNOTSUPP)",
                v.ctx,
                iface.get_ref(),
                wheres.join(", ")
            );
            self.error(&iface.span(), format!("vip[{}].interface", v.index), msg);
        }
    }

    /// A mapping no VIP uses is most likely a typo of the logical name.
    fn unused_mappings(&mut self, nodes: &[ParsedNode], vips: &[ParsedVip]) {
        let used: BTreeSet<&str> = vips
            .iter()
            .filter_map(|v| v.interface.as_ref().map(|i| i.get_ref().as_str()))
            .collect();
        for n in nodes {
            for (logical, span) in &n.map_spans {
                if !used.contains(logical.as_str()) {
                    let msg = format!(
                        "node \"{}\": interfaces maps \"{logical}\", which no VIP uses \
                         (is a VIP's interface misspelt?)",
                        n.node.name
                    );
                    let i = nodes
                        .iter()
                        .position(|m| m.node.name == n.node.name)
                        .unwrap_or(0);
                    self.warn(span, format!("node[{i}].interfaces.{logical}"), msg);
                }
            }
        }
    }

    fn single_node_vips(&mut self, nodes: &[ParsedNode], vips: &[ParsedVip]) {
        for v in vips.iter().filter(|v| v.prefer_ok) {
            let count = match &v.prefer {
                Some(p) => p.get_ref().len(),
                None => nodes.len(),
            };
            // A unicast VIP naming one node gets its backup from the plan.
            if count == 1 && !(v.election.unicast && nodes.len() >= 2) {
                let at = v.prefer.as_ref().map_or(v.entry_span.clone(), |p| p.span());
                let msg = format!(
                    "{}: only one node takes part, so this VIP has no failover",
                    v.ctx
                );
                self.warn(&at, format!("vip[{}]", v.index), msg);
            }
        }
    }

    /// Every rank's advskew must stay below 240 (plan::advskew).
    fn skews(
        &mut self,
        cluster: &Cluster,
        step_span: Option<&Range<usize>>,
        nodes: &[ParsedNode],
        vips: &[ParsedVip],
    ) {
        let names: Vec<String> = nodes.iter().map(|n| n.node.name.clone()).collect();
        for v in vips {
            let Some(name) = &v.name else { continue };
            // Pinned CARP skews are not rank × step (Config::plan).
            let carp_pinned = !v.election.unicast
                && matches!(&v.pins, Ok(Some(p)) if p.pins.kind == plan::pinned::PinKind::Advskew);
            if !v.prefer_ok || carp_pinned {
                continue;
            }
            let prefer: Option<Vec<String>> = v
                .prefer
                .as_ref()
                .map(|p| p.get_ref().iter().map(|s| s.get_ref().clone()).collect());
            let order = prefer.as_deref().unwrap_or(&names);
            if let Err(e) = plan::check_order(name.get_ref(), order, cluster.advskew_step) {
                let at = v
                    .prefer
                    .as_ref()
                    .map(|p| p.span())
                    .or_else(|| step_span.cloned())
                    .unwrap_or_else(|| v.entry_span.clone());
                self.error(&at, format!("vip[{}]", v.index), e.to_string());
            }
        }
    }
}

/// As [`crate::config::Vip::takes_part`]: a unicast VIP with one node in
/// `prefer` may get any node as backup.
fn takes_part(v: &ParsedVip, node: &str) -> bool {
    match &v.prefer {
        Some(p) if p.get_ref().len() == 1 && v.election.unicast => true,
        Some(p) => p.get_ref().iter().any(|n| n.get_ref() == node),
        None => true,
    }
}
