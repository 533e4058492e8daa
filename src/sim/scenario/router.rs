//! The scenario's `[[router]]` entries: hosts that are no node of the
//! cluster file and forward IP between the segments their interfaces are
//! on, as the router jail of FreeBSD's `unicast_v4`/`unicast_v6` tests
//! (carp.sh @ ba0fe1dd: `net.inet.ip.forwarding=1`, an address on each
//! subnet). The clients may sit on one (`[clients] at`).

use std::collections::BTreeSet;

use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

use super::Clients;
use super::{RawClients, ScNode, ScenarioValidator, SpannedList};
use crate::config;

/// One `[[router]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScRouter {
    pub name: String,
    /// Interface name (its segment: see carpctl.scenario(5)) and the
    /// router's addresses there, in name order.
    pub interfaces: Vec<(String, Vec<IpNet>)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRouter {
    name: Option<Spanned<String>>,
    interfaces: Option<Spanned<std::collections::BTreeMap<String, SpannedList>>>,
}

impl ScenarioValidator<'_> {
    /// The `[[router]]` entries that are right: a name of its own (no
    /// node's, none twice) and interfaces with addresses.
    pub(super) fn routers(
        &mut self,
        raw: Vec<Spanned<RawRouter>>,
        nodes: &[ScNode],
    ) -> Vec<ScRouter> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, r) in raw.into_iter().enumerate() {
            let span = r.span();
            let r = r.into_inner();
            let key = format!("router[{i}]");
            let Some(name) = r.name else {
                self.error(
                    &span,
                    format!("{key}.name"),
                    format!("{key}: name is missing"),
                );
                continue;
            };
            if !self.name_ok(&name, config::NODE_NAME_MAX, &format!("{key}.name"), "name") {
                continue;
            }
            let nm = name.get_ref().clone();
            if nm == super::CLIENTS
                || nodes.iter().any(|n| n.name == nm)
                || !seen.insert(nm.clone())
            {
                let msg = format!(
                    "{key}: name \"{nm}\" is taken (by a node, another router, or the clients)"
                );
                self.error(&name.span(), format!("{key}.name"), msg);
                continue;
            }
            let Some(ifs) = r.interfaces else {
                let msg = format!(
                    "router \"{nm}\": interfaces is missing, e.g. interfaces = {{ em0 = \
                     [\"198.51.100.1/25\", \"198.51.100.129/25\"] }}"
                );
                self.error(&span, format!("{key}.interfaces"), msg);
                continue;
            };
            let who = format!("router \"{nm}\"");
            if let Some(interfaces) = self.interfaces(ifs.into_inner(), &who, &key) {
                out.push(ScRouter {
                    name: nm,
                    interfaces,
                });
            }
        }
        out
    }

    /// `[clients] at`: the router the clients sit on.
    pub(super) fn clients_at(
        &mut self,
        mut c: Clients,
        raw: &RawClients,
        routers: &[ScRouter],
    ) -> Option<Clients> {
        let Some(at) = &raw.at else {
            return Some(c);
        };
        match routers.iter().position(|r| r.name == *at.get_ref()) {
            Some(i) => {
                c.at = Some(i);
                Some(c)
            }
            None => {
                let known: Vec<&str> = routers.iter().map(|r| r.name.as_str()).collect();
                let msg = format!(
                    "clients.at: \"{}\" is not a [[router]] of this scenario (routers: {})",
                    at.get_ref().escape_debug(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
                self.error(&at.span(), "clients.at", msg);
                None
            }
        }
    }
}
