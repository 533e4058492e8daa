//! `[[node]]`: the servers of the cluster, their names (case-insensitive,
//! RFC 4343), their maps of logical to real interface names, and their own
//! addresses per interface (the peers of unicast VIPs).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::ops::Range;

use ipnet::IpNet;

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use super::shape::entry_ctx;
use super::{ParsedNode, Validator};
use crate::config::rules::{NAME_MAX, NODE_NAME_MAX, bad_ifname, bad_name, not_a_vip};
use crate::config::{Node, NodeAddrs};
use crate::textfile::Pos;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: Option<Spanned<String>>,
    interfaces: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    addresses: Option<Spanned<RawAddresses>>,
    ssh: Option<Spanned<String>>,
}

/// `addresses`: logical interface -> the node's addresses there.
type RawAddresses = BTreeMap<String, Spanned<Vec<Spanned<String>>>>;

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
            let mut address_spans = Vec::new();
            let addresses = self.node_addresses(raw.addresses, &ctx, &keypath, &mut address_spans);
            let mut ssh = None;
            if let Some(d) = raw.ssh {
                match bad_ssh(d.get_ref()) {
                    Some(why) => {
                        let shown = crate::text::escape(d.get_ref());
                        let msg = format!("{ctx}: ssh = \"{shown}\": {why}");
                        self.error(&d.span(), format!("{keypath}.ssh"), msg);
                        ok = false;
                    }
                    None => ssh = Some(d.into_inner()),
                }
            }
            let (true, Some(addresses)) = (ok, addresses) else {
                continue;
            };
            nodes.push(ParsedNode {
                node: Node {
                    name,
                    interfaces,
                    addresses,
                    ssh,
                    pos: Some(self.idx.span(&span)),
                },
                map_spans,
                address_spans,
            });
        }
        if !any {
            self.file_error("no [[node]] entries: a cluster needs at least one node");
        }
        nodes
    }

    /// `addresses`: logical interface -> this node's own addresses there,
    /// at most one IPv4 and one IPv6, without prefix length or zone (see
    /// [`NodeAddrs`]). `None`: an error, reported.
    fn node_addresses(
        &mut self,
        given: Option<Spanned<RawAddresses>>,
        ctx: &str,
        keypath: &str,
        spans: &mut Vec<(String, IpAddr, Range<usize>, String)>,
    ) -> Option<BTreeMap<String, NodeAddrs>> {
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (logical, list) in given.map(Spanned::into_inner).unwrap_or_default() {
            if let Some(why) = bad_name(&logical, NAME_MAX) {
                let msg = format!("{ctx}: addresses: a logical interface name {why}");
                self.error(&list.span(), format!("{keypath}.addresses"), msg);
                ok = false;
                continue;
            }
            let mut addrs = NodeAddrs::default();
            for (j, a) in list.into_inner().into_iter().enumerate() {
                let key = format!("{keypath}.addresses.{logical}[{j}]");
                match node_address(a.get_ref()) {
                    Err(why) => {
                        let msg = format!("{ctx}: addresses.{logical}: {why}");
                        self.error(&a.span(), key, msg);
                        ok = false;
                    }
                    Ok(ip) => {
                        spans.push((logical.clone(), ip, a.span(), key.clone()));
                        let (slot, family) = match ip {
                            IpAddr::V4(v4) => (addrs.v4.replace(v4).map(IpAddr::V4), "IPv4"),
                            IpAddr::V6(v6) => (addrs.v6.replace(v6).map(IpAddr::V6), "IPv6"),
                        };
                        if let Some(first) = slot {
                            let msg = format!(
                                "{ctx}: addresses.{logical}: {ip} is a second {family}                                  address (the first is {first}); a vhid has one peer per                                  family, so give the one its partner should send to"
                            );
                            self.error(&a.span(), key, msg);
                            ok = false;
                        }
                    }
                }
            }
            out.insert(logical, addrs);
        }
        ok.then_some(out)
    }
}

/// Longest `ssh` destination: a user name and a DNS name with room.
const SSH_MAX: usize = 512;

/// Why `dest` cannot be a node's `ssh` destination. It becomes one argv
/// element of ssh(1), after `--`; a leading `-` would still read as an
/// option to a reader of the command line, and whitespace or control
/// characters are never part of a `user@host` and would be split or
/// mangled by the remote side's logging.
fn bad_ssh(dest: &str) -> Option<String> {
    if dest.is_empty() {
        return Some("is empty: give the destination ssh(1) reaches the node at, e.g. \"root@mail-a.example.net\"".into());
    }
    if dest.len() > SSH_MAX {
        return Some(format!("is longer than {SSH_MAX} bytes"));
    }
    if dest.starts_with('-') {
        return Some("starts with `-`, which ssh(1) would read as an option".into());
    }
    if dest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(
            "contains whitespace or a control character; a destination is `[user@]host`".into(),
        );
    }
    None
}

/// One entry of a node's `addresses`: a host address without prefix length
/// or zone. Link-local IPv6 is allowed (unlike a VIP's): the sender's
/// interface is its scope.
fn node_address(text: &str) -> Result<IpAddr, String> {
    let shown = crate::text::escape(text);
    if text.contains('%') {
        return Err(format!(
            "\"{shown}\" has a zone: write the link-local address without it; the zone \
             of a peer is the interface of the node that sends to it, which carpctl \
             takes from that node's interfaces"
        ));
    }
    if text.contains('/') {
        return Err(format!(
            "\"{shown}\" has a prefix length: write the node's own address alone \
             (e.g. 192.0.2.1 or fe80::1)"
        ));
    }
    let ip: IpAddr = text
        .parse()
        .map_err(|_| format!("\"{shown}\" is not an IPv4 or IPv6 address"))?;
    if let IpAddr::V6(v6) = ip
        && v6.is_unicast_link_local()
    {
        return Ok(ip);
    }
    match not_a_vip(&IpNet::from(ip)) {
        Some(why) => Err(format!("{ip} {why}, not a node's address")),
        None => Ok(ip),
    }
}
