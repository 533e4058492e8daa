//! CARP094: an IPv4 address equal to the network or broadcast address of
//! its prefix (`192.168.10.3/30`, whose broadcast it is).
//!
//! The kernel takes such an address (`in_aifaddr_ioctl()` in
//! `sys/netinet/in.c` checks neither), but it does not work as one: the
//! stack treats packets to the subnet's broadcast address as broadcast
//! (`in_ifaddr_broadcast()`, `sys/netinet/in.c`), hosts of the segment do
//! too, and the all-zeros host is the old BSD broadcast. A /31 and a /32
//! have neither (RFC 3021), so they are left alone.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net};

use super::{IfconfigCall, Issue, RcConf};
use crate::lint::codes::Code;
use crate::rcconf::ifconfig;

/// Whether `addr` is the network or the broadcast address of `net`
/// (IPv4, prefix 30 or shorter), and which.
fn special(addr: IpAddr, net: IpNet) -> Option<(&'static str, Ipv4Net)> {
    let (IpAddr::V4(a), IpNet::V4(n)) = (addr, net) else {
        return None;
    };
    if n.prefix_len() > 30 || !n.contains(&a) {
        return None;
    }
    let n = n.trunc();
    if a == n.network() {
        Some(("network", n))
    } else if a == n.broadcast() {
        Some(("broadcast", n))
    } else {
        None
    }
}

/// CARP094 for the commands of one rc.conf: own addresses against their
/// own prefix, VIPs against their prefix and their interface's subnets
/// (looked up in a map of each subnet's two special addresses, so that
/// many VIPs on an interface of many subnets stay linear).
pub(super) fn check(rc: &mut RcConf, cmds: &[IfconfigCall<'_>]) {
    let mut specials: HashMap<(&str, IpAddr), IpNet> = HashMap::new();
    for (iface, i) in &rc.interfaces {
        for net in &i.own {
            if let IpNet::V4(n) = net
                && n.prefix_len() <= 30
            {
                let n = n.trunc();
                for a in [n.network(), n.broadcast()] {
                    specials.entry((iface, IpAddr::V4(a))).or_insert(*net);
                }
            }
        }
    }
    let mut out = Vec::new();
    for c in cmds {
        let vip = c.c.vhid.is_some();
        if c.legacy || (!vip && c.c.is_carp()) {
            continue;
        }
        for x in &c.c.addresses {
            let addr = x.net.addr();
            let own = if x.prefix_given {
                x.net
            } else {
                IpNet::new(addr, ifconfig::default_prefix(addr)).unwrap_or(x.net)
            };
            let found = if x.prefix_given || !vip {
                special(addr, own)
            } else {
                None
            };
            let found = found.or_else(|| {
                vip.then(|| specials.get(&(c.iface.as_str(), addr)))
                    .flatten()
                    .and_then(|n| special(addr, *n))
            });
            let Some((what, net)) = found else {
                continue;
            };
            let whose = if vip {
                format!(
                    "VIP {addr} (vhid {})",
                    c.c.vhid.as_ref().map_or(0, |v| v.value)
                )
            } else {
                format!("{addr}, the own address of {},", rc.display_name(&c.iface))
            };
            out.push(Issue::new(
                Code::NetworkOrBroadcast,
                c.pos(x.tok),
                format!(
                    "{}: {whose} is the {what} address of {net}: the stack and every host on the \
                     segment take it as {}, not as a host; use an address between {} and {}",
                    c.a.name,
                    if what == "broadcast" {
                        "broadcast"
                    } else {
                        "the subnet itself"
                    },
                    first_host(net),
                    last_host(net),
                ),
            ));
        }
    }
    rc.issues.append(&mut out);
}

fn first_host(n: Ipv4Net) -> std::net::Ipv4Addr {
    (u32::from(n.network()) + 1).into()
}

fn last_host(n: Ipv4Net) -> std::net::Ipv4Addr {
    (u32::from(n.broadcast()) - 1).into()
}
