//! The scenario's `[[node]]` entries: which node of the cluster file, its
//! interfaces with their own addresses, whether it is up, its `kern.hz`,
//! its FreeBSD release and the latency of its link.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use toml::Spanned;

use super::{RawNode, ScNode, ScenarioValidator, SpannedList};
use crate::config::{self, Config, Diagnostic};
use crate::kernel::emulated::Flavor;

/// What a `[[node]]` that does not set its own gets from the top level;
/// `None` where the top-level value was wrong (and reported).
pub(super) struct NodeDefaults {
    pub(crate) hz: Option<u32>,
    pub flavor: Option<Flavor>,
    pub latency: Option<u64>,
}

impl ScenarioValidator<'_> {
    /// The `[[node]]` entries that are right; every node of the cluster
    /// file has one, and each can apply its part of the cluster file.
    pub(super) fn nodes(
        &mut self,
        raw_nodes: Vec<Spanned<RawNode>>,
        config: &Config,
        defaults: &NodeDefaults,
    ) -> Vec<ScNode> {
        let mut nodes = Vec::new();
        let mut seen = BTreeMap::new();
        for (i, n) in raw_nodes.into_iter().enumerate() {
            if let Some(node) = self.node(i, n, config, defaults, &mut seen) {
                nodes.push(node);
            }
        }
        for cn in &config.nodes {
            if !seen.contains_key(&cn.name) {
                self.file_error(format!(
                    "node \"{}\" of the cluster file has no [[node]] entry: give its interfaces \
                     (name = \"{}\", interfaces = {{ ... }})",
                    cn.name, cn.name
                ));
            }
        }
        // Each node must be able to apply its part of the cluster file.
        for n in &nodes {
            if let Err(d) = config::desired_state(config, &n.name, &n.kernel_interfaces()) {
                self.diags
                    .extend(d.into_iter().filter(Diagnostic::is_error));
            }
        }
        nodes
    }

    /// One `[[node]]`: a node of the cluster file, named once, with its
    /// interfaces. `seen` maps the names met so far to their entry.
    fn node(
        &mut self,
        i: usize,
        n: Spanned<RawNode>,
        config: &Config,
        defaults: &NodeDefaults,
        seen: &mut BTreeMap<String, usize>,
    ) -> Option<ScNode> {
        let span = n.span();
        let n = n.into_inner();
        let key = format!("node[{i}]");
        let Some(name) = n.name else {
            self.error(&span, &key, format!("{key}: name is missing"));
            return None;
        };
        if !self.name_ok(&name, config::NODE_NAME_MAX, &format!("{key}.name"), "name") {
            return None;
        }
        let nm = name.get_ref().clone();
        if config.node(&nm).is_none() {
            let msg = format!(
                "node \"{nm}\" is not a node of the cluster file (its nodes: {})",
                config.node_names().join(", ")
            );
            self.error(&name.span(), format!("{key}.name"), msg);
            return None;
        }
        if seen.insert(nm.clone(), i).is_some() {
            let msg = format!("node \"{nm}\" appears twice");
            self.error(&name.span(), format!("{key}.name"), msg);
            return None;
        }
        let Some(ifs) = n.interfaces else {
            let msg = format!(
                "node \"{nm}\": interfaces is missing, e.g. interfaces = {{ em0 = \
                 [\"192.168.1.3/24\"] }}"
            );
            self.error(&span, format!("{key}.interfaces"), msg);
            return None;
        };
        let interfaces = self.interfaces(ifs.into_inner(), &format!("node \"{nm}\""), &key);
        let gateways = match (&interfaces, n.gateway) {
            (Some(ifs), Some(g)) => self.gateways(g, ifs, &nm, &key),
            (_, None) => Some(Vec::new()),
            (None, Some(_)) => None,
        };
        let node_hz = match &n.hz {
            None => defaults.hz,
            Some(h) => self.hz(h, &format!("{key}.hz")),
        };
        let flavor = match &n.freebsd {
            None => defaults.flavor,
            Some(f) => self.flavor(f, &format!("{key}.freebsd")),
        };
        let latency = match &n.latency {
            None => defaults.latency,
            Some(l) => self.seconds(l, &format!("{key}.latency"), 0.0, 1.0),
        };
        Some(ScNode {
            name: nm,
            interfaces: interfaces?,
            up: n.up.is_none_or(|u| *u.get_ref()),
            hz: node_hz?,
            flavor: flavor?,
            latency: latency?,
            gateways: gateways?,
        })
    }

    /// A node's `interfaces`: valid names, each with addresses that have a
    /// prefix length, no address twice on the node. `None` when any is
    /// wrong (all are reported).
    pub(super) fn interfaces(
        &mut self,
        ifs: BTreeMap<String, SpannedList>,
        who: &str,
        key: &str,
    ) -> Option<Vec<(String, Vec<IpNet>)>> {
        let mut interfaces = Vec::new();
        let mut ok = true;
        let mut all_addrs = BTreeSet::new();
        for (ifname, addrs) in ifs {
            if let Err(e) = crate::model::IfName::check(ifname.as_bytes()) {
                let msg = format!("{who}: interface {ifname:?}: {e}");
                self.error(&addrs.span(), format!("{key}.interfaces.{ifname}"), msg);
                ok = false;
                continue;
            }
            let mut nets = Vec::new();
            for a in addrs.into_inner() {
                match a.get_ref().parse::<IpNet>() {
                    Ok(net) if all_addrs.insert(net.addr()) => nets.push(net),
                    Ok(net) => {
                        let msg = format!("{who}: address {} appears twice", net.addr());
                        self.error(&a.span(), format!("{key}.interfaces.{ifname}"), msg);
                        ok = false;
                    }
                    Err(_) => {
                        let msg = format!(
                            "{who}: {:?} is not an address with a prefix length \
                             (e.g. \"192.168.1.3/24\")",
                            a.get_ref()
                        );
                        self.error(&a.span(), format!("{key}.interfaces.{ifname}"), msg);
                        ok = false;
                    }
                }
            }
            interfaces.push((ifname, nets));
        }
        ok.then_some(interfaces)
    }
}

impl ScenarioValidator<'_> {
    /// A node's `gateway`: its default routes, at most one per family,
    /// each an address (no prefix) on one of the node's own prefixes that
    /// is not the node's own.
    fn gateways(
        &mut self,
        list: SpannedList,
        ifs: &[(String, Vec<IpNet>)],
        nm: &str,
        key: &str,
    ) -> Option<Vec<std::net::IpAddr>> {
        let k = format!("{key}.gateway");
        let mut out: Vec<std::net::IpAddr> = Vec::new();
        let mut ok = true;
        for g in list.into_inner() {
            let why = match g.get_ref().parse::<std::net::IpAddr>() {
                Err(_) => Some(format!(
                    "{:?} is not an address (no prefix length, e.g. \"198.51.100.1\")",
                    g.get_ref()
                )),
                Ok(a) if out.iter().any(|o| o.is_ipv6() == a.is_ipv6()) => Some(format!(
                    "{a}: a second gateway of the same family (one default route per family)"
                )),
                Ok(a) if ifs.iter().any(|(_, n)| n.iter().any(|n| n.addr() == a)) => {
                    Some(format!("{a} is the node's own address"))
                }
                Ok(a) if !ifs.iter().any(|(_, n)| n.iter().any(|n| n.contains(&a))) => Some(
                    format!("{a} is on none of the node's prefixes: a gateway must be on-link"),
                ),
                Ok(a) => {
                    out.push(a);
                    None
                }
            };
            if let Some(why) = why {
                self.error(&g.span(), &k, format!("node \"{nm}\": gateway {why}"));
                ok = false;
            }
        }
        ok.then_some(out)
    }
}
