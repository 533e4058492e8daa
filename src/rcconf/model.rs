//! The carp configuration of one rc.conf as rc.d would apply it: each
//! interface's own addresses and each vhid merged over every line that
//! configures it. `lint` builds it (and reports what is wrong on the way),
//! `migrate`, `import` and the renderer read it.

use ipnet::IpNet;

use super::ifconfig::Secret;
use crate::textfile::Pos;

/// An interface as rc.conf configures it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Iface {
    /// Its own (non-vhid) addresses, with their subnets.
    pub own: Vec<IpNet>,
}

/// One vhid on one interface of this node, merged over every line that
/// configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhidEntry {
    /// The interface's rc.conf name (`em0`, `em0_100`), or `carpN` for the
    /// FreeBSD 9 form.
    pub iface: String,
    /// The FreeBSD 9 form (`ifconfig_carpN`).
    pub legacy: bool,
    /// FreeBSD 9 form: the interface whose subnet holds the VIPs, when
    /// exactly one does.
    pub parent: Option<String>,
    /// Interfaces whose subnet holds the VIPs (FreeBSD 9 form).
    pub(crate) parent_candidates: Vec<String>,
    pub vhid: u8,
    /// Where the vhid keyword is (first line that configures it).
    pub pos: Pos,
    /// The variable that configures it first.
    pub var: String,
    pub advskew: u8,
    pub(crate) advskew_pos: Option<Pos>,
    /// advskew was given without a usable value: unknown, not 0.
    pub(crate) advskew_unknown: bool,
    pub advbase: u8,
    pub pass: Option<(Secret, Pos)>,
    /// 2 = CARP, 3 = VRRPv3.
    pub version: u8,
    pub vrrpprio: Option<u8>,
    /// `vrrpinterval` (centiseconds), when given.
    pub vrrpinterval: Option<u16>,
    /// The first FreeBSD 15 keyword (`carpver`, `vrrpprio`,
    /// `vrrpinterval`) given for it, and where: older ifconfig fails on it.
    pub(crate) vrrp_words: Option<(&'static str, Pos)>,
    /// Unicast: the other node's address (`peer`), where it is written.
    pub peer: Option<(std::net::Ipv4Addr, Pos)>,
    /// `peer6`, without the zone of a link-local one.
    pub peer6: Option<(std::net::Ipv6Addr, Pos)>,
    pub addresses: Vec<(IpNet, Pos)>,
}

impl VhidEntry {
    /// The interface carp really runs on: the parent for the FreeBSD 9
    /// form.
    pub(crate) fn real_iface(&self) -> Option<&str> {
        if self.legacy {
            self.parent.as_deref()
        } else {
            Some(&self.iface)
        }
    }

    /// The advertisement interval in 1/256 s, which decides who is MASTER.
    pub fn interval(&self) -> u32 {
        u32::from(self.advbase) * 256 + u32::from(self.advskew)
    }
}
