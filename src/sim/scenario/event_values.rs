//! The values of each `[[event]]` action (carpctl.scenario(5), "The
//! [[event]] tables"): one validator per action, each reporting every
//! mistake with its place; [`super::event`] reads the keys and calls them.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;
use toml::Spanned;
use zeroize::Zeroizing;

use super::event::{Action, LossScope, Member, RawEvent};
use super::{Num, ScNode, ScenarioValidator, SpannedList};
use crate::config::{self, Config};
use crate::kernel::Errno;
use crate::model::Key;

impl ScenarioValidator<'_> {
    /// `link_down`, `link_up`: the interface, when given, is the node's.
    pub(super) fn link_action(
        &mut self,
        interface: Option<Spanned<String>>,
        node: usize,
        up: bool,
        nodes: &[ScNode],
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        if let Some(ifn) = &interface
            && !nodes[node]
                .interfaces
                .iter()
                .any(|(n, _)| n == ifn.get_ref())
        {
            let have: Vec<&str> = nodes[node]
                .interfaces
                .iter()
                .map(|(n, _)| n.as_str())
                .collect();
            let msg = format!(
                "{ctx}: node \"{}\" has no interface {} (it has {})",
                nodes[node].name,
                ifn.get_ref(),
                have.join(", ")
            );
            self.error(&ifn.span(), format!("{key}.interface"), msg);
            return None;
        }
        Some(Action::Link {
            node,
            interface: interface.map(Spanned::into_inner),
            up,
        })
    }

    /// `partition`: groups of known nodes, each node in one group at most,
    /// the nodes not named forming one more; at least two groups.
    pub(super) fn partition_action(
        &mut self,
        groups: Spanned<Vec<SpannedList>>,
        index: &BTreeMap<&str, usize>,
        nodes: &[ScNode],
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        let gspan = groups.span();
        let mut out = Vec::new();
        let mut used = BTreeSet::new();
        for g in groups.into_inner() {
            let mut members = Vec::new();
            for n in g.into_inner() {
                let i = self.node_of(&Some(n.clone()), index, ctx, key)?;
                if !used.insert(i) {
                    let msg = format!("{ctx}: node \"{}\" is in two groups", n.get_ref());
                    self.error(&n.span(), format!("{key}.groups"), msg);
                    return None;
                }
                members.push(i);
            }
            if !members.is_empty() {
                out.push(members);
            }
        }
        // Nodes not named form one more group.
        let rest: Vec<usize> = (0..nodes.len()).filter(|i| !used.contains(i)).collect();
        if !rest.is_empty() {
            out.push(rest);
        }
        if out.len() < 2 {
            let msg = format!(
                "{ctx}: groups must split the nodes into at least two groups \
                 (nodes not named form one more group)"
            );
            self.error(&gspan, format!("{key}.groups"), msg);
            return None;
        }
        Some(Action::Partition { groups: out })
    }

    /// `loss`: a percentage, 0 to 100.
    pub(super) fn loss_action(
        &mut self,
        p: Spanned<Num>,
        scope: LossScope,
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        let v = p.get_ref().get();
        if !(0.0..=100.0).contains(&v) {
            let msg = format!("{ctx}: percent {v} is out of range 0-100");
            self.error(&p.span(), format!("{key}.percent"), msg);
            return None;
        }
        Some(Action::Loss {
            scope,
            fraction: v / 100.0,
        })
    }

    /// Where a `loss` applies: `node` (both ways), `from` and/or `to` (one
    /// way), or the whole segment; `node` goes with neither of the others,
    /// and `from` and `to` are two nodes.
    pub(super) fn loss_scope(
        &mut self,
        e: &RawEvent,
        node: Option<usize>,
        index: &BTreeMap<&str, usize>,
        ctx: &str,
        key: &str,
    ) -> Option<LossScope> {
        if node.is_some()
            && let Some(d) = e.from.as_ref().or(e.to.as_ref())
        {
            let msg = format!(
                "{ctx}: node (to and from the node) goes with neither from nor to (one way); \
                 give node, or from and/or to"
            );
            self.error(&d.span(), format!("{key}.node"), msg);
            return None;
        }
        let from = match &e.from {
            Some(f) => Some(self.node_named(f, index, ctx, &format!("{key}.from"))?),
            None => None,
        };
        let to = match &e.to {
            Some(t) => Some(self.node_named(t, index, ctx, &format!("{key}.to"))?),
            None => None,
        };
        Some(match (node, from, to) {
            (Some(n), _, _) => LossScope::Node(n),
            (None, Some(f), Some(t)) if f == t => {
                let span = e.to.as_ref().map(Spanned::span).unwrap_or_default();
                let msg = format!("{ctx}: from and to name the same node; name two nodes");
                self.error(&span, format!("{key}.to"), msg);
                return None;
            }
            (None, Some(from), Some(to)) => LossScope::Between { from, to },
            (None, Some(f), None) => LossScope::From(f),
            (None, None, Some(t)) => LossScope::To(t),
            (None, None, None) => LossScope::Segment,
        })
    }

    /// `state`: `master` or `backup` on a node that takes part in the VIP
    /// (`ifconfig` accepts no other state).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn force_state_action(
        &mut self,
        state: Spanned<String>,
        member: Member,
        vip: String,
        nodes: &[ScNode],
        config: &Config,
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        let master = match state.get_ref().as_str() {
            "master" => true,
            "backup" => false,
            other => {
                let msg = format!(
                    "{ctx}: state \"{}\" is not master or backup (what ifconfig ... vhid N \
                     state takes)",
                    other.escape_debug()
                );
                self.error(&state.span(), format!("{key}.state"), msg);
                return None;
            }
        };
        self.takes_part(&member, &vip, nodes, config, ctx, key)?;
        Some(Action::ForceState {
            node: member.node,
            vip,
            master,
        })
    }

    /// `send_from_vip`: `to` is an IPv6 unicast address that is not the
    /// VIP's nor the node's own, and the VIP has an IPv6 address to send
    /// from. IPv4 is refused: `arprequest()` with a given source address
    /// (netinet/if_ether.c) announces the interface's own MAC, not the
    /// virtual one, and what follows from that is not modelled.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_from_vip_action(
        &mut self,
        to: Spanned<String>,
        member: Member,
        vip: String,
        nodes: &[ScNode],
        config: &Config,
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        let span = to.span();
        let node = member.node;
        let k = format!("{key}.to");
        let addr = match to.get_ref().parse::<IpAddr>() {
            Ok(IpAddr::V6(a)) => a,
            Ok(IpAddr::V4(_)) => {
                let msg = format!(
                    "{ctx}: to {} is IPv4; send_from_vip is modelled for IPv6 only (the \
                     neighbour solicitation from a VIP, carp_macmatch6())",
                    to.get_ref()
                );
                self.error(&span, k, msg);
                return None;
            }
            Err(_) => {
                let msg = format!(
                    "{ctx}: to {:?} is not an IPv6 address (no prefix length)",
                    to.get_ref()
                );
                self.error(&span, k, msg);
                return None;
            }
        };
        let v = config.vips.iter().find(|v| v.name == vip)?;
        let why = if addr.is_multicast() || addr.is_unspecified() || addr.is_loopback() {
            Some("is not a unicast address".to_string())
        } else if v.addresses.iter().any(|a| a.addr() == IpAddr::V6(addr)) {
            Some(format!("is an address of VIP \"{vip}\" itself"))
        } else if nodes[node]
            .interfaces
            .iter()
            .any(|(_, a)| a.iter().any(|n| n.addr() == IpAddr::V6(addr)))
        {
            Some(format!(
                "is an address of node \"{}\" itself",
                nodes[node].name
            ))
        } else if !v.addresses.iter().any(|a| a.addr().is_ipv6()) {
            Some(format!(
                "cannot be reached: VIP \"{vip}\" has no IPv6 address to send from"
            ))
        } else {
            None
        };
        if let Some(why) = why {
            self.error(&span, k, format!("{ctx}: to {addr} {why}"));
            return None;
        }
        self.takes_part(&member, &vip, nodes, config, ctx, key)?;
        Some(Action::SendFromVip {
            node,
            vip,
            to: IpAddr::V6(addr),
        })
    }

    /// The node takes part in the VIP (its `prefer`), else it has no vhid
    /// for the action to act on.
    pub(super) fn takes_part(
        &mut self,
        member: &Member,
        vip: &str,
        nodes: &[ScNode],
        config: &Config,
        ctx: &str,
        key: &str,
    ) -> Option<()> {
        let name = &nodes[member.node].name;
        let v = config.vips.iter().find(|v| v.name == vip)?;
        if v.takes_part(name) {
            return Some(());
        }
        let msg = format!("{ctx}: node \"{name}\" does not take part in VIP \"{vip}\" (prefer)");
        self.error(&member.span, format!("{key}.node"), msg);
        None
    }

    /// `check_fail`, `check_pass`: a `[[check]]` of the cluster file.
    pub(super) fn check_action(
        &mut self,
        c: Spanned<String>,
        node: usize,
        failing: bool,
        config: &Config,
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        if !self.name_ok(&c, config::NAME_MAX, &format!("{key}.check"), "check") {
            return None;
        }
        let Some(check) = config.checks.iter().find(|k| k.name == *c.get_ref()) else {
            let known: Vec<&str> = config.checks.iter().map(|k| k.name.as_str()).collect();
            let msg = if known.is_empty() {
                format!(
                    "{ctx}: the cluster file has no [[check]]; add one, or use \
                     action = \"demote\" with by = WEIGHT"
                )
            } else {
                format!(
                    "{ctx}: the cluster file has no check \"{}\" (its checks: {})",
                    c.get_ref(),
                    known.join(", ")
                )
            };
            self.error(&c.span(), format!("{key}.check"), msg);
            return None;
        };
        Some(Action::Check {
            node,
            check: check.name.clone(),
            weight: check.weight,
            failing,
        })
    }

    /// `demote`: a non-zero demotion within ±1000.
    pub(super) fn demote_action(
        &mut self,
        by: Spanned<i64>,
        node: usize,
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        match i32::try_from(*by.get_ref()) {
            Ok(v) if v != 0 && v.unsigned_abs() <= 1000 => Some(Action::Demote { node, by: v }),
            _ => {
                let msg = format!(
                    "{ctx}: by {} must be a non-zero demotion in -1000..1000",
                    by.get_ref()
                );
                self.error(&by.span(), format!("{key}.by"), msg);
                None
            }
        }
    }

    /// `password`: a string that makes a valid key; the string is wiped.
    pub(super) fn password_action(
        &mut self,
        p: Spanned<toml::Value>,
        node: usize,
        vip: String,
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        let span = p.span();
        match p.into_inner() {
            toml::Value::String(s) => {
                let k = Key::new(Zeroizing::new(s).as_bytes());
                match k {
                    Ok(k) => Some(Action::Password { node, vip, key: k }),
                    Err(err) => {
                        self.error(&span, format!("{key}.password"), format!("{ctx}: {err}"));
                        None
                    }
                }
            }
            _ => {
                self.error(
                    &span,
                    format!("{key}.password"),
                    format!("{ctx}: password must be a string"),
                );
                None
            }
        }
    }

    /// `addresses`: a non-empty list of addresses, with or without prefix.
    pub(super) fn addresses_action(
        &mut self,
        list: SpannedList,
        node: usize,
        vip: String,
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        let lspan = list.span();
        let mut nets = Vec::new();
        for a in list.into_inner() {
            match a.get_ref().parse::<IpNet>() {
                Ok(n) => nets.push(n),
                Err(_) => match a.get_ref().parse::<IpAddr>() {
                    Ok(ip) => nets.push(IpNet::from(ip)),
                    Err(_) => {
                        let msg = format!("{ctx}: {:?} is not an address", a.get_ref());
                        self.error(&a.span(), format!("{key}.addresses"), msg);
                        return None;
                    }
                },
            }
        }
        if nets.is_empty() {
            let msg = format!("{ctx}: addresses must list at least one address");
            self.error(&lspan, format!("{key}.addresses"), msg);
            return None;
        }
        Some(Action::Addresses {
            node,
            vip,
            addresses: nets,
        })
    }

    /// `send_errors`: an errno name, `ENOBUFS` when not given.
    pub(super) fn send_errors_action(
        &mut self,
        errno: Option<&Spanned<String>>,
        node: usize,
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        let errno = match errno {
            None => Errno::from_name("ENOBUFS").unwrap_or(Errno::EIO),
            Some(s) => match Errno::from_name(s.get_ref()) {
                Some(e) if e.0 != 0 => e,
                _ => {
                    let msg = format!(
                        "{ctx}: errno {:?} is not an errno name (e.g. \"ENOBUFS\")",
                        s.get_ref()
                    );
                    self.error(&s.span(), format!("{key}.errno"), msg);
                    return None;
                }
            },
        };
        Some(Action::SendErrors {
            node,
            errno: Some(errno),
        })
    }
}
