//! The keys that choose how a VIP elects its master, shared by `[cluster]`
//! (the defaults) and `[[vip]]`: `protocol` ("carp" or "vrrp", VRRPv3,
//! FreeBSD 15+), `interval` (VRRP's advertisement interval in centiseconds)
//! and `unicast`. See docs/design-unicast-vrrp.md.

use std::ops::Range;

use toml::Spanned;

use super::shape::EntryAt;
use super::{ParsedNode, ParsedVip, Validator};
use crate::config::Cluster;
use crate::model::Protocol;
use crate::plan::vrrp;

/// The `protocol` values, as the file spells them.
pub(super) const PROTOCOLS: &str = "\"carp\" or \"vrrp\"";

impl Validator<'_> {
    /// `protocol`: "carp" or "vrrp" (VRRPv3, `carpver 3`). `None`: reported.
    pub(super) fn protocol(
        &mut self,
        p: &Spanned<String>,
        ctx: &str,
        keypath: &str,
    ) -> Option<Protocol> {
        match p.get_ref().as_str() {
            "carp" => Some(Protocol::Carp),
            "vrrp" => Some(Protocol::Vrrpv3),
            other => {
                let msg = format!(
                    "{ctx}: protocol \"{}\" is not {PROTOCOLS} (VRRPv3, FreeBSD 15 and later)",
                    crate::text::escape(other)
                );
                self.error(&p.span(), format!("{keypath}.protocol"), msg);
                None
            }
        }
    }

    /// `interval`: 1 to VRRP_MAX_INTERVAL centiseconds, and only where the
    /// protocol is VRRP (`protocol` is the one in effect where the key is
    /// written). `None`: reported.
    pub(super) fn vrrp_interval(
        &mut self,
        i: &Spanned<i64>,
        protocol: Protocol,
        ctx: &str,
        keypath: &str,
    ) -> Option<u16> {
        let key = format!("{keypath}.interval");
        if protocol != Protocol::Vrrpv3 {
            let msg = format!(
                "{ctx}: interval is VRRP's advertisement interval (centiseconds) and does \
                 nothing with protocol \"carp\"; set protocol = \"vrrp\", or use advbase \
                 (seconds) for CARP"
            );
            self.error(&i.span(), key, msg);
            return None;
        }
        match vrrp::check_interval(*i.get_ref()) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(&i.span(), key, format!("{ctx}: {e}"));
                None
            }
        }
    }
}

/// A `[[vip]]`'s `protocol`, `unicast` and `interval` as serde read them.
pub(super) type RawElection = (
    Option<Spanned<String>>,
    Option<Spanned<bool>>,
    Option<Spanned<i64>>,
);

/// A `[[vip]]`'s election keys with the cluster's defaults applied.
#[derive(Debug, Clone)]
pub(super) struct Election {
    pub(super) protocol: Protocol,
    pub(super) unicast: bool,
    /// VRRP interval (cs); the cluster's when not given.
    pub(super) interval: u16,
    /// Where `unicast = true` was written (the VIP's key, else its entry).
    pub(super) unicast_at: Range<usize>,
    /// Where the interval's rules point: the VIP's `interval`, else its entry.
    pub(super) interval_at: Range<usize>,
    /// Every key was valid.
    pub(super) ok: bool,
}

impl Validator<'_> {
    /// A VIP's `protocol`, `unicast` and `interval`, each falling back on
    /// `[cluster]`'s.
    pub(super) fn vip_election(
        &mut self,
        at: &EntryAt<'_>,
        given: RawElection,
        cluster: &Cluster,
    ) -> Election {
        let (protocol, unicast, interval) = given;
        let failed = |k: &str| at.failed.contains(k);
        let mut ok = !(failed("protocol") || failed("unicast") || failed("interval"));
        let mut e = Election {
            protocol: cluster.protocol,
            unicast: cluster.unicast,
            interval: cluster.interval,
            unicast_at: at.span.clone(),
            interval_at: at.span.clone(),
            ok,
        };
        if let Some(p) = &protocol {
            match self.protocol(p, at.ctx, at.keypath) {
                Some(v) => e.protocol = v,
                None => ok = false,
            }
        }
        if let Some(u) = unicast {
            e.unicast = *u.get_ref();
            e.unicast_at = u.span();
        }
        // The interval's rule depends on the protocol: not when it failed.
        if let Some(i) = interval.filter(|_| ok) {
            match self.vrrp_interval(&i, e.protocol, at.ctx, at.keypath) {
                Some(v) => e.interval = v,
                None => ok = false,
            }
            e.interval_at = i.span();
        }
        if e.unicast && e.protocol == Protocol::Vrrpv3 {
            let msg = format!(
                "{}: unicast VRRP is not supported yet: whether FreeBSD's VRRPv3 sends to a \
                 vhid's peer could not be confirmed (docs/design-unicast-vrrp.md); use \
                 protocol = \"carp\" with unicast, or multicast VRRP",
                at.ctx
            );
            self.error(
                &e.unicast_at.clone(),
                format!("{}.unicast", at.keypath),
                msg,
            );
            ok = false;
        }
        e.ok = ok;
        e
    }

    /// The VRRP rules on keys read elsewhere: no password (VRRPv3 has no
    /// authentication, RFC 5798 §9, and `vrrp_send_ad_locked()` sends no
    /// HMAC) and no `advbase` (CARP's; VRRP has `interval`). Each `Some`
    /// is (span, key) of a key given. True if none was given.
    pub(super) fn vrrp_refuses(
        &mut self,
        at: &EntryAt<'_>,
        password: Option<(Range<usize>, &str)>,
        advbase: Option<Range<usize>>,
    ) -> bool {
        let mut ok = true;
        if let Some((span, key)) = password {
            let msg = format!(
                "{}: protocol is \"vrrp\", and VRRPv3 has no authentication (RFC 5798 §9): \
                 FreeBSD would ignore {key}; remove it (protect the segment instead)",
                at.ctx
            );
            self.error(&span, format!("{}.{key}", at.keypath), msg);
            ok = false;
        }
        if let Some(span) = advbase {
            let msg = format!(
                "{}: advbase is CARP's interval (seconds); with protocol \"vrrp\" use \
                 interval (centiseconds)",
                at.ctx
            );
            self.error(&span, format!("{}.advbase", at.keypath), msg);
            ok = false;
        }
        ok
    }

    /// A unicast VIP's `prefer` names one node (the master) or two (master,
    /// backup): a unicast vhid has exactly one peer (`sc_carpaddr`,
    /// `carp_send_ad_locked()` in `sys/netinet/ip_carp.c`). True if so.
    pub(super) fn unicast_prefer(
        &mut self,
        at: &EntryAt<'_>,
        prefer: &Spanned<Vec<Spanned<String>>>,
    ) -> bool {
        let count = prefer.get_ref().len();
        if count <= 2 {
            return true;
        }
        let msg = format!(
            "{}: unicast = true and prefer names {count} nodes; a unicast vhid has exactly \
             one peer, so prefer names one node (the master; carpctl picks the backup) or \
             two (master, then backup)",
            at.ctx
        );
        self.error(&prefer.span(), format!("{}.prefer", at.keypath), msg);
        false
    }

    /// Pass 3 for the election keys: a unicast VIP has two members with
    /// an address for its families on its interface; a VRRP VIP has no
    /// more members than its interval tells apart
    /// ([`vrrp::max_ranks`]).
    pub(super) fn election_rules(&mut self, nodes: &[ParsedNode], vips: &[ParsedVip]) {
        for v in vips.iter().filter(|v| v.election.ok && v.prefer_ok) {
            let members: Vec<&str> = match (&v.prefer, &v.pins) {
                (Some(p), _) if p.get_ref().len() == 2 || !v.election.unicast => {
                    p.get_ref().iter().map(|n| n.get_ref().as_str()).collect()
                }
                // Unicast pins choose the pair (plan::pinned::members).
                (_, Ok(Some(p))) if v.election.unicast => {
                    p.pins.values.keys().map(String::as_str).collect()
                }
                // Unicast with one node or none named: carpctl picks the
                // rest, so any node may become a member.
                _ => nodes.iter().map(|n| n.node.name.as_str()).collect(),
            };
            let keypath = format!("vip[{}]", v.index);
            if v.election.unicast {
                self.unicast_members(v, nodes, &members, &keypath);
            }
            let e = &v.election;
            let count = if e.unicast { 2 } else { members.len() };
            // Pinned priorities are not derived from rank (pin_rules).
            let pinned = matches!(v.pins, Ok(Some(_)));
            if e.protocol == Protocol::Vrrpv3 && !pinned && count > vrrp::max_ranks(e.interval) {
                let needed = vrrp::min_interval(count)
                    .map_or_else(|| "no interval can".to_string(), |i| format!("{i} cs can"));
                let msg = format!(
                    "{}: {count} nodes take part, but VRRP interval {} cs tells only {} \
                     apart (each rank's takeover must fall in a later kernel tick at hz=100, \
                     docs/design-unicast-vrrp.md); {needed}, or name fewer nodes in prefer",
                    v.ctx,
                    e.interval,
                    vrrp::max_ranks(e.interval)
                );
                self.error(&e.interval_at, format!("{keypath}.interval"), msg);
            }
        }
    }

    /// A unicast VIP needs two members, and each member that may take part
    /// needs its own address of every family the VIP has on the VIP's
    /// interface (`[[node]] addresses`): carp(4) sends IPv4 advertisements
    /// only for a vhid with IPv4 addresses and IPv6 ones only with IPv6
    /// (`sc_naddrs`, `sc_naddrs6` in `carp_send_ad_locked()`).
    fn unicast_members(
        &mut self,
        v: &ParsedVip,
        nodes: &[ParsedNode],
        members: &[&str],
        keypath: &str,
    ) {
        let at = v.election.unicast_at.clone();
        if nodes.len() < 2 {
            let msg = format!(
                "{}: unicast = true, but the cluster has one node: a unicast vhid names \
                 the other member as its peer",
                v.ctx
            );
            self.error(&at, format!("{keypath}.unicast"), msg);
            return;
        }
        let (Some(iface), Some(addrs)) = (&v.interface, &v.addresses) else {
            return;
        };
        let iface = iface.get_ref();
        let v4 = addrs.iter().any(|a| a.get_ref().addr().is_ipv4());
        let v6 = addrs.iter().any(|a| a.get_ref().addr().is_ipv6());
        let mut missing = Vec::new();
        for n in nodes
            .iter()
            .filter(|n| members.contains(&n.node.name.as_str()))
        {
            let own = n.node.addresses.get(iface).copied().unwrap_or_default();
            if v4 && own.v4.is_none() {
                missing.push(format!("{} (IPv4)", n.node.name));
            }
            if v6 && own.v6.is_none() {
                missing.push(format!("{} (IPv6)", n.node.name));
            }
        }
        if !missing.is_empty() {
            let msg = format!(
                "{}: unicast = true, but these nodes have no address of their own for \
                 interface \"{iface}\" in [[node]] addresses, which their partner needs as \
                 peer: {}",
                v.ctx,
                missing.join(", ")
            );
            self.error(&at, format!("{keypath}.unicast"), msg);
        }
    }

    /// A node's own address is no VIP's (a VIP moves; a peer must not),
    /// and no two nodes share one (a node would name itself as peer).
    pub(super) fn node_address_rules(&mut self, nodes: &[ParsedNode], vips: &[ParsedVip]) {
        let mut seen: std::collections::HashMap<std::net::IpAddr, &str> =
            std::collections::HashMap::new();
        for n in nodes {
            for (_, ip, span, key) in &n.address_spans {
                let name = n.node.name.as_str();
                if let Some(v) = vips.iter().find(|v| {
                    v.addresses
                        .iter()
                        .flatten()
                        .any(|a| a.get_ref().addr() == *ip)
                }) {
                    let msg = format!(
                        "node \"{name}\": address {ip} is also an address of {}; a node's \
                         own address is fixed, a VIP's moves between nodes",
                        v.ctx
                    );
                    self.error(span, key.clone(), msg);
                } else if let Some(first) = seen.get(ip).filter(|f| **f != name) {
                    let msg = format!(
                        "node \"{name}\": address {ip} is also node \"{first}\"'s; each \
                         node's own address must be its own"
                    );
                    self.error(span, key.clone(), msg);
                } else {
                    seen.insert(*ip, name);
                }
            }
        }
    }
}
