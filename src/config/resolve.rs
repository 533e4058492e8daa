//! This node's desired carp(4) state: the cluster plan seen from one node,
//! with logical interface names replaced by this node's real ones and
//! checked against the interfaces the kernel reports.

use ipnet::IpNet;
use serde::Serialize;

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Config, Diagnostic, KeySource, Node, Vip, diag};
use crate::model::{AdvBase, AdvSkew, CarpState, IfName, Interface, Key, Protocol, Vhid};

/// What one node should have configured.
///
/// Generic over the key, so that one type serves both stages: resolved
/// from the cluster file, a VIP's key is a [`KeySource`] (a
/// `password_file` is read only by those who need the key); what `apply`
/// manages is a `Desired<Key>` ([`Desired::with_keys`]), where every key
/// has been read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
// The key is never serialized: no bound on K.
#[serde(bound(serialize = ""))]
pub struct Desired<K = KeySource> {
    pub node: String,
    /// `net.inet.carp.preempt` wanted on this node.
    pub preempt: bool,
    /// The VIPs this node takes part in, in file order.
    pub vips: Vec<DesiredVip<K>>,
    /// What resolving found that does not stop `apply` (the file's own
    /// warnings are in [`Config::warnings`]).
    pub(crate) warnings: Vec<Diagnostic>,
}

/// One vhid on one real interface of this node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(bound(serialize = ""))]
pub struct DesiredVip<K = KeySource> {
    pub name: String,
    /// This node's real interface (`em0`).
    pub interface: IfName,
    /// As written in the file (`lan`).
    pub(crate) logical_interface: String,
    pub vhid: Vhid,
    pub advbase: AdvBase,
    pub advskew: AdvSkew,
    /// Never serialized: `--json` output must not carry the password. A
    /// `password_file` is read only by those who need the key
    /// ([`Config::read_keys`]).
    #[serde(skip)]
    pub key: Option<K>,
    pub addresses: Vec<IpNet>,
    /// 0 = this node is the intended MASTER.
    pub(crate) rank: usize,
    /// MASTER for rank 0, BACKUP otherwise (with preempt on, and no
    /// demotion, the cluster converges to this).
    pub state: CarpState,
    /// CARP or VRRPv3 (`CARP_NL_VERSION`; fixed when the vhid is created).
    pub protocol: Protocol,
    /// Unicast: the partner's IPv4 address (`peer`); `None` = the
    /// multicast group 224.0.0.18.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<Ipv4Addr>,
    /// Unicast: the partner's IPv6 address (`peer6`); `None` = ff02::12.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer6: Option<Peer6>,
    /// VRRPv3 only: this node's priority and the VIP's interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vrrp: Option<DesiredVrrp>,
}

/// A unicast `peer6`, with the zone of a link-local one.
///
/// The zone is the vhid's own interface, and it never reaches the kernel:
/// `ifconfig IF vhid N peer6 fe80::1%em0` parses the zone with
/// getaddrinfo(3) and copies only `sin6_addr` (`setcarp_peer6()`,
/// sbin/ifconfig/carp.c), and `CARP_NL_ADDR6` is a bare `struct in6_addr`.
/// The kernel scopes the destination to the vhid's interface itself
/// (`carp_send_ad_locked()`, sys/netinet/ip_carp.c). It is kept here so
/// that what carpctl shows (`fe80::1%em0`) is what ifconfig is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer6 {
    pub addr: Ipv6Addr,
    /// `Some` (the vhid's interface) for a link-local address only.
    pub(crate) scope: Option<IfName>,
}

impl fmt::Display for Peer6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.scope {
            Some(z) => write!(f, "{}%{z}", self.addr),
            None => write!(f, "{}", self.addr),
        }
    }
}

impl Serialize for Peer6 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A VRRPv3 vhid's settings on one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DesiredVrrp {
    /// This node's priority (`vrrpprio`, [`crate::plan::vrrp::priorities`]).
    pub priority: u8,
    /// Centiseconds (`vrrpinterval`), the same on every member.
    pub interval: u16,
}

impl<K> Desired<K> {
    /// The desired vhid `vhid` on real interface `interface`.
    pub fn find(&self, interface: &str, vhid: Vhid) -> Option<&DesiredVip<K>> {
        self.vips
            .iter()
            .find(|v| v.interface == interface && v.vhid == vhid)
    }
}

impl Desired<KeySource> {
    /// What `apply` manages: the same, with every key read. Every key must
    /// have been read ([`Config::read_keys`]): a `password_file` still
    /// unread is refused, never taken as no key.
    pub(crate) fn with_keys(&self) -> Result<Desired<Key>, String> {
        let mut vips = Vec::with_capacity(self.vips.len());
        for v in &self.vips {
            let key = match &v.key {
                None => None,
                Some(src) => Some(src.key().cloned().ok_or_else(|| {
                    format!("vip \"{}\": its password_file has not been read", v.name)
                })?),
            };
            vips.push(DesiredVip {
                name: v.name.clone(),
                interface: v.interface.clone(),
                logical_interface: v.logical_interface.clone(),
                vhid: v.vhid,
                advbase: v.advbase,
                advskew: v.advskew,
                key,
                addresses: v.addresses.clone(),
                rank: v.rank,
                state: v.state,
                protocol: v.protocol,
                peer: v.peer,
                peer6: v.peer6.clone(),
                vrrp: v.vrrp,
            });
        }
        Ok(Desired {
            node: self.node.clone(),
            preempt: self.preempt,
            vips,
            warnings: self.warnings.clone(),
        })
    }
}

/// Resolve `node`'s desired state against `interfaces`, the host's
/// interfaces as the kernel reports them.
///
/// Errors: an unknown node; a VIP whose real interface this host lacks (each
/// named). `Err` carries every error and the warnings found; `Ok` carries
/// the warnings in [`Desired::warnings`].
pub fn desired_state(
    cfg: &Config,
    node: &str,
    interfaces: &[Interface],
) -> Result<Desired, Vec<Diagnostic>> {
    let Some(me) = cfg.node(node) else {
        let known = cfg.node_names().join(", ");
        return Err(vec![cfg.diag_error(format!(
            "node \"{node}\" is not in this file; known nodes: {known}"
        ))]);
    };
    let plan = cfg
        .plan()
        .map_err(|e| vec![cfg.diag_error(e.to_string())])?;
    let mut diags = Vec::new();
    let mut vips = Vec::new();
    for (i, (v, p)) in cfg.vips.iter().zip(&plan.vips).enumerate() {
        let (Some(rank), Some(advskew)) = (p.rank_of(node), p.advskew_of(node)) else {
            continue;
        };
        let real = me.real_interface(&v.interface);
        let Some(iface) = interfaces.iter().find(|i| i.name == real) else {
            let msg = no_such_interface(me, node, v, real, interfaces);
            let key = format!("vip[{i}].interface");
            diags.push(cfg.diag_error(msg).at(v.pos.interface).key(key));
            continue;
        };
        diags.extend(off_subnet_warnings(cfg, node, i, v, iface));
        // The cluster file's checks took `real` as an IfName already; a
        // Config built in code may not have been checked.
        let interface = match IfName::new(real) {
            Ok(n) => n,
            Err(e) => {
                let key = format!("vip[{i}].interface");
                let msg = format!("vip \"{}\": {real:?}: {e}", v.name);
                diags.push(cfg.diag_error(msg).at(v.pos.interface).key(key));
                continue;
            }
        };
        let (peer, peer6) = unicast_peers(cfg, v, p, node, &interface);
        let vrrp = p.vrrp.as_ref().and_then(|r| {
            Some(DesiredVrrp {
                priority: *r.priority.get(node)?,
                interval: r.interval,
            })
        });
        vips.push(DesiredVip {
            name: v.name.clone(),
            interface,
            logical_interface: v.interface.clone(),
            vhid: v.vhid,
            advbase: v.advbase,
            advskew,
            key: v.key.clone(),
            addresses: v.addresses.clone(),
            rank,
            state: if rank == 0 {
                CarpState::Master
            } else {
                CarpState::Backup
            },
            protocol: p.protocol,
            peer,
            peer6,
            vrrp,
        });
    }
    diag::sort(&mut diags);
    if diag::has_errors(&diags) {
        return Err(diags);
    }
    Ok(Desired {
        node: node.to_string(),
        preempt: cfg.cluster.preempt,
        vips,
        warnings: diags,
    })
}

/// The error for a VIP whose real interface `real` this host lacks: the
/// node maps the logical name to it, or does not map it at all.
fn no_such_interface(
    me: &Node,
    node: &str,
    v: &Vip,
    real: &str,
    interfaces: &[Interface],
) -> String {
    let mut names: Vec<&str> = interfaces.iter().map(|i| i.name.as_str()).collect();
    names.sort_unstable();
    let have = names.join(", ");
    if me.interfaces.contains_key(&v.interface) {
        format!(
            "vip \"{}\": interface \"{}\" is \"{real}\" on node {node}, and this host \
             has no interface \"{real}\" (it has: {have})",
            v.name, v.interface,
        )
    } else {
        format!(
            "vip \"{}\": node {node} does not map interface \"{}\", so it is taken as \
             a real name, and this host has no interface \"{real}\" (it has: {have}); \
             map it in [[node]] interfaces",
            v.name, v.interface,
        )
    }
}

/// A warning for each address of VIP `i` outside every subnet of the real
/// interface's own addresses: hosts on the segment reach it only by a route.
fn off_subnet_warnings(
    cfg: &Config,
    node: &str,
    i: usize,
    v: &Vip,
    iface: &Interface,
) -> Vec<Diagnostic> {
    let real = &iface.name;
    let mut diags = Vec::new();
    for (j, a) in v.addresses.iter().enumerate() {
        if iface.has_subnet_for(a.addr()) {
            continue;
        }
        let own: Vec<String> = iface
            .addresses
            .iter()
            .filter(|x| x.vhid.is_none())
            .map(|x| x.net.to_string())
            .collect();
        let own = if own.is_empty() {
            "it has none".to_string()
        } else {
            own.join(", ")
        };
        let msg = format!(
            "vip \"{}\": address {} is outside every subnet of {real}'s own addresses \
             ({own}) on node {node}: hosts on that segment reach it only through a route",
            v.name,
            a.addr()
        );
        let pos = v.pos.addresses.get(j).copied().flatten();
        diags.push(
            Diagnostic::warning(msg)
                .in_file(&cfg.path)
                .at(pos)
                .key(format!("vip[{i}].addresses[{j}]")),
        );
    }
    diags
}

/// The unicast peers one node of a unicast VIP names: its partner's own
/// addresses on the VIP's interface (`[[node]] addresses`), one per family
/// the VIP has. A link-local `peer6` is scoped to this node's real
/// interface, the one the advertisement leaves from ([`Peer6`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Peers {
    /// The partner node.
    pub node: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<Ipv4Addr>,
    /// `fe80::1%igb0` for a link-local address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer6: Option<Peer6>,
}

/// [`Peers`] of `node` for `vip` planned as `plan`; `None` when the VIP
/// is not unicast or `node` is not one of its two members.
pub fn peers(cfg: &Config, vip: &Vip, plan: &crate::plan::VipPlan, node: &str) -> Option<Peers> {
    let me = cfg.node(node)?;
    // The file's checks took the real name as an IfName already; a Config
    // built in code may not have been checked (then no zone is shown).
    let scope = IfName::new(me.real_interface(&vip.interface)).ok();
    peers_scoped(cfg, vip, plan, node, scope.as_ref())
}

/// [`peers`] with `scope` as the zone of a link-local `peer6`.
fn peers_scoped(
    cfg: &Config,
    vip: &Vip,
    plan: &crate::plan::VipPlan,
    node: &str,
    scope: Option<&IfName>,
) -> Option<Peers> {
    if !plan.unicast {
        return None;
    }
    let partner = match plan.order.as_slice() {
        [a, b] if a == node => b,
        [a, b] if b == node => a,
        _ => return None,
    };
    let own = cfg
        .node(partner)?
        .addresses
        .get(&vip.interface)
        .copied()
        .unwrap_or_default();
    let has = |v4: bool| vip.addresses.iter().any(|a| a.addr().is_ipv4() == v4);
    Some(Peers {
        node: partner.clone(),
        peer: own.v4.filter(|_| has(true)),
        peer6: own.v6.filter(|_| has(false)).map(|addr| Peer6 {
            addr,
            scope: scope.filter(|_| addr.is_unicast_link_local()).cloned(),
        }),
    })
}

/// This node's `peer` and `peer6` for VIP `v` on its real `interface`;
/// both `None` for a multicast VIP.
fn unicast_peers(
    cfg: &Config,
    v: &Vip,
    p: &crate::plan::VipPlan,
    node: &str,
    interface: &IfName,
) -> (Option<Ipv4Addr>, Option<Peer6>) {
    peers_scoped(cfg, v, p, node, Some(interface)).map_or((None, None), |x| (x.peer, x.peer6))
}
