//! `[[node]]`: the servers of the cluster, their names (case-insensitive,
//! RFC 4343) and their maps of logical to real interface names.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use super::shape::entry_ctx;
use super::{ParsedNode, Validator};
use crate::config::Node;
use crate::config::rules::{NAME_MAX, NODE_NAME_MAX, bad_ifname, bad_name};
use crate::textfile::Pos;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: Option<Spanned<String>>,
    interfaces: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
}

impl Validator<'_> {
    /// More `[[node]]` entries than CARP has ranks ([`crate::model::MAX_NODES`]):
    /// one error, at the first entry past the limit. Nothing else is
    /// checked then: every VIP would repeat it, and the plan is not built.
    pub(super) fn too_many_nodes(&mut self, v: &Spanned<DeValue<'_>>) -> bool {
        let DeValue::Array(entries) = v.get_ref() else {
            return false;
        };
        let Some(extra) = entries.get(crate::model::MAX_NODES) else {
            return false;
        };
        let max = crate::model::MAX_NODES;
        let msg = format!(
            "[[node]] #{}: a cluster has at most {max} nodes, and this file has {}: CARP tells \
             at most {max} ranks apart (advskew 0 to {}: the kernel advertises advskew + \
             demotion capped at {}, what a fully demoted node advertises, so a node ranked \
             there could never be moved behind), and the plan checks every single and \
             double failure; split the nodes into clusters of at most {max}",
            max + 1,
            entries.len(),
            crate::model::CARP_MAXSKEW - 1,
            crate::model::CARP_MAXSKEW,
        );
        self.error(&extra.span(), format!("node[{max}]"), msg);
        true
    }

    pub(super) fn nodes(&mut self, v: Option<Spanned<DeValue<'_>>>) -> Vec<ParsedNode> {
        let Some(v) = v else {
            self.file_error("no [[node]] entries: a cluster needs at least one node");
            return Vec::new();
        };
        let entries = self.array_of_tables(v, "node");
        let mut nodes: Vec<ParsedNode> = Vec::new();
        // Folded name -> (name as written, where).
        let mut seen: HashMap<String, (String, Pos)> = HashMap::new();
        let mut any = false;
        for (i, span, table) in entries {
            any = true;
            let ctx = entry_ctx("node", i, &table);
            let keypath = format!("node[{i}]");
            let (raw, failed) = self.entry::<RawNode>(table, span.clone(), &ctx, &keypath);
            let Some(raw) = raw else { continue };
            let Some(name) = raw.name else {
                if !failed.contains("name") {
                    self.error(&span, &keypath, format!("{ctx}: missing key `name`"));
                }
                continue;
            };
            let nspan = name.span();
            let name = name.into_inner();
            if let Some(why) = bad_name(&name, NODE_NAME_MAX) {
                self.error(
                    &nspan,
                    format!("{keypath}.name"),
                    format!("{ctx}: name {why}"),
                );
                continue;
            }
            // Host names compare case-insensitively (RFC 4343), and so does
            // node selection by host name (select_node): two names that
            // differ only in case name one host.
            let folded = name.to_lowercase();
            if let Some((first_name, first)) = seen.get(&folded) {
                let msg = if *first_name == name {
                    format!(
                        "{ctx}: node name \"{name}\" is already used at line {}",
                        first.line
                    )
                } else {
                    format!(
                        "{ctx}: node name \"{name}\" differs from \"{first_name}\" (line {}) \
                         only in case; host names are case-insensitive (RFC 4343), so both \
                         name the same host",
                        first.line
                    )
                };
                self.error(&nspan, format!("{keypath}.name"), msg);
                continue;
            }
            seen.insert(folded, (name.clone(), self.idx.span(&nspan)));
            let mut interfaces = BTreeMap::new();
            let mut map_spans = BTreeMap::new();
            let mut ok = true;
            for (logical, real) in raw.interfaces.map(Spanned::into_inner).unwrap_or_default() {
                let rspan = real.span();
                let real = real.into_inner();
                if let Some(why) = bad_name(&logical, NAME_MAX) {
                    let msg = format!("{ctx}: interfaces: a logical interface name {why}");
                    self.error(&rspan, format!("{keypath}.interfaces"), msg);
                    ok = false;
                    continue;
                }
                let key = format!("{keypath}.interfaces.{logical}");
                if let Some(why) = bad_ifname(&real) {
                    let msg = format!("{ctx}: interfaces.{logical} = \"{real}\": {why}");
                    self.error(&rspan, key, msg);
                    ok = false;
                    continue;
                }
                map_spans.insert(logical.clone(), rspan);
                interfaces.insert(logical, real);
            }
            if !ok {
                continue;
            }
            nodes.push(ParsedNode {
                node: Node {
                    name,
                    interfaces,
                    pos: Some(self.idx.span(&span)),
                },
                map_spans,
            });
        }
        if !any {
            self.file_error("no [[node]] entries: a cluster needs at least one node");
        }
        nodes
    }
}
