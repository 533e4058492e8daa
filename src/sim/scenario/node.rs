//! The scenario's `[[node]]` entries: which node of the cluster file, its
//! interfaces with their own addresses, whether it is up, its `kern.hz`.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use toml::Spanned;

use super::{RawNode, ScNode, ScenarioValidator, SpannedList};
use crate::config::{self, Config, Diagnostic};

impl ScenarioValidator<'_> {
    /// The `[[node]]` entries that are right; every node of the cluster
    /// file has one, and each can apply its part of the cluster file.
    pub(super) fn nodes(
        &mut self,
        raw_nodes: Vec<Spanned<RawNode>>,
        config: &Config,
        hz: Option<u32>,
    ) -> Vec<ScNode> {
        let mut nodes = Vec::new();
        let mut seen = BTreeMap::new();
        for (i, n) in raw_nodes.into_iter().enumerate() {
            if let Some(node) = self.node(i, n, config, hz, &mut seen) {
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
        // Each node of the cluster file must be able to apply its part.
        for n in nodes.iter().filter(|n| config.node(&n.name).is_some()) {
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
        hz: Option<u32>,
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
        // A node that only a file of an `apply` or `rollout` event has
        // (one that joins the cluster) boots with no cluster file.
        if self.files.iter().all(|(_, c)| c.node(&nm).is_none()) {
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
        let interfaces = self.interfaces(ifs.into_inner(), &nm, &key);
        let node_hz = match &n.hz {
            None => hz,
            Some(h) => self.hz(h, &format!("{key}.hz")),
        };
        Some(ScNode {
            name: nm,
            interfaces: interfaces?,
            up: n.up.is_none_or(|u| *u.get_ref()),
            hz: node_hz?,
        })
    }

    /// A node's `interfaces`: valid names, each with addresses that have a
    /// prefix length, no address twice on the node. `None` when any is
    /// wrong (all are reported).
    fn interfaces(
        &mut self,
        ifs: BTreeMap<String, SpannedList>,
        nm: &str,
        key: &str,
    ) -> Option<Vec<(String, Vec<IpNet>)>> {
        let mut interfaces = Vec::new();
        let mut ok = true;
        let mut all_addrs = BTreeSet::new();
        for (ifname, addrs) in ifs {
            if let Err(e) = crate::model::IfName::check(ifname.as_bytes()) {
                let msg = format!("node \"{nm}\": interface {ifname:?}: {e}");
                self.error(&addrs.span(), format!("{key}.interfaces.{ifname}"), msg);
                ok = false;
                continue;
            }
            let mut nets = Vec::new();
            for a in addrs.into_inner() {
                match a.get_ref().parse::<IpNet>() {
                    Ok(net) if all_addrs.insert(net.addr()) => nets.push(net),
                    Ok(net) => {
                        let msg = format!("node \"{nm}\": address {} appears twice", net.addr());
                        self.error(&a.span(), format!("{key}.interfaces.{ifname}"), msg);
                        ok = false;
                    }
                    Err(_) => {
                        let msg = format!(
                            "node \"{nm}\": {:?} is not an address with a prefix length \
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
