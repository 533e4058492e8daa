//! Subnets: an index that finds the ones holding an address in time
//! proportional to the prefix lengths in use (at most 33 for IPv4, 129 for
//! IPv6), not to the number of subnets, since one `ifconfig_IF_aliases`
//! line can give an interface tens of thousands of them; and the index of
//! an rc.conf's interfaces' own subnets.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

use super::model::Iface;
use super::names::is_carp_iface;

/// Subnets, each with the tags (interface names, say) that have it.
#[derive(Debug, Clone)]
pub(crate) struct NetIndex<T> {
    /// Truncated subnet -> its tags, each once.
    nets: HashMap<IpNet, Vec<T>>,
    /// The prefix lengths in use, per family.
    v4: Vec<u8>,
    v6: Vec<u8>,
}

impl<T> Default for NetIndex<T> {
    fn default() -> Self {
        NetIndex {
            nets: HashMap::new(),
            v4: Vec::new(),
            v6: Vec::new(),
        }
    }
}

impl<T: Copy + PartialEq> NetIndex<T> {
    pub(crate) fn insert(&mut self, net: IpNet, tag: T) {
        let tags = self.nets.entry(net.trunc()).or_default();
        if !tags.contains(&tag) {
            tags.push(tag);
        }
        let lens = if net.addr().is_ipv4() {
            &mut self.v4
        } else {
            &mut self.v6
        };
        if !lens.contains(&net.prefix_len()) {
            lens.push(net.prefix_len());
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The tags of every subnet that holds `addr` (a tag may repeat).
    pub(crate) fn holders(&self, addr: IpAddr) -> impl Iterator<Item = T> + '_ {
        let lens = if addr.is_ipv4() { &self.v4 } else { &self.v6 };
        lens.iter()
            .filter_map(move |&p| IpNet::new(addr, p).ok())
            .filter_map(|n| self.nets.get(&n.trunc()))
            .flatten()
            .copied()
    }

    /// Whether some subnet holds `addr`.
    pub(crate) fn holds(&self, addr: IpAddr) -> bool {
        self.holders(addr).next().is_some()
    }

    /// Whether a subnet here and one of `other` overlap: two subnets
    /// overlap exactly when one holds the other's network address.
    pub(crate) fn overlaps<U: Copy + PartialEq>(&self, other: &NetIndex<U>) -> bool {
        self.nets.keys().any(|a| other.holds(a.network()))
            || other.nets.keys().any(|b| self.holds(b.network()))
    }
}

// ----- rc.conf: the subnets of its interfaces ---------------------------------

/// The interfaces' own subnets (not carpN), indexed by subnet; `interfaces`
/// by rc.conf name.
pub(crate) fn subnet_index(interfaces: &BTreeMap<String, Iface>) -> NetIndex<&str> {
    let mut index = NetIndex::default();
    for (name, i) in interfaces.iter().filter(|(n, _)| !is_carp_iface(n)) {
        for n in &i.own {
            index.insert(*n, name.as_str());
        }
    }
    index
}

/// The interfaces whose subnets hold `addr`, by name, each once.
pub(crate) fn holders<'a>(index: &NetIndex<&'a str>, addr: IpAddr) -> Vec<&'a str> {
    let mut out: Vec<&'a str> = index.holders(addr).collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::testutil::net;

    #[test]
    fn holders_and_overlaps() {
        let mut a: NetIndex<&str> = NetIndex::default();
        a.insert(net("192.168.1.3/24"), "em0");
        a.insert(net("10.0.0.1/8"), "em1");
        a.insert(net("10.1.2.3/16"), "em1");
        a.insert(net("2001:db8::3/64"), "em0");
        let who = |s: &str| {
            let mut v: Vec<&str> = a.holders(s.parse().unwrap()).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        assert_eq!(who("192.168.1.50"), ["em0"]);
        assert_eq!(who("10.1.9.9"), ["em1"]);
        assert!(who("172.16.0.1").is_empty());
        assert_eq!(who("2001:db8::50"), ["em0"]);
        assert!(who("2001:db9::50").is_empty());
        // An IPv4 address never matches an IPv6 prefix length, nor back.
        assert!(!a.holds("::ffff:10.0.0.1".parse().unwrap()));

        let mut b: NetIndex<()> = NetIndex::default();
        b.insert(net("10.1.2.0/24"), ());
        assert!(a.overlaps(&b) && b.overlaps(&a), "10.1.2.0/24 inside 10/8");
        let mut c: NetIndex<()> = NetIndex::default();
        c.insert(net("172.16.0.0/12"), ());
        assert!(!a.overlaps(&c) && !c.overlaps(&a));
        c.insert(net("0.0.0.0/0"), ());
        assert!(a.overlaps(&c), "the default route holds everything");
        assert!(!NetIndex::<()>::default().overlaps(&c));
    }
}
