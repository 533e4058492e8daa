//! carp(4) requests in domain terms: what `ip_carp.c`, `if.c`, `in.c`,
//! `in6.c` and the sysctl handlers do with a request once its bytes are
//! decoded. The byte layers ([`super::ioctl`], [`super::netlink`]) only
//! decode and encode; every validation rule, its order and its errno are
//! here, per release flavor.
//!
//! Facts and sources: `docs/freebsd-carp.md` (cited as §n; §1 names the
//! FreeBSD sources: S13 = stable/13 `ip_carp.c`, D28 = the 14.x
//! `ip_carp.c` (netlink, no VRRP), MAIN = `ip_carp.c` @ e4452d45 (15.x,
//! VRRPv3, after "carp: isolate VRRP from CARP" a254d6870e88), and
//! `sys/netinet/in.c` / `sys/netinet6/in6.c` of recent main).
//!
//! One file per entry point: [`vhid_ioctl`] (SIOCSVH/SIOCGVH, §4),
//! [`netlink`] (the "carp" family, §6), [`addresses`] (§5), [`sysctl`]
//! (sysctls and modules, §7); this file holds the request types and the
//! helpers they share.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use carpctl_sys::{self as sys, carpreq};

use super::fsm::{self, Parent};
use super::state::{HostState, Iface, KeyBytes, Naddrs, Softc};
use crate::kernel::Errno;
use crate::kernel::freebsd::netlink::CarpAttrs;

mod addresses;
mod netlink;
mod sysctl;
mod vhid_ioctl;

/// The kernel's `struct carpkreq` (MAIN): `struct carpreq` plus the fields
/// only netlink reaches (peers, VRRPv3). Through the ioctl those are zero
/// and the version is `CARP_VERSION_CARP`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct CarpKReq {
    pub vhid: i32,
    pub state: i32,
    pub advskew: i32,
    pub advbase: i32,
    pub key: KeyBytes,
    pub addr: Option<Ipv4Addr>,
    pub addr6: Option<Ipv6Addr>,
    pub version: u8,
    pub vrrp_priority: u8,
    pub vrrp_adv_inter: u16,
}

impl CarpKReq {
    /// `memcpy(&carprk, &carpr, sizeof(carpr))` into a zeroed `carpkreq`,
    /// as `carp_ioctl()` does (MAIN also sets `carpr_version = CARP`).
    pub(super) fn from_carpreq(r: &carpreq) -> Self {
        CarpKReq {
            vhid: r.carpr_vhid,
            state: r.carpr_state,
            advskew: r.carpr_advskew,
            advbase: r.carpr_advbase,
            key: KeyBytes(zeroize::Zeroizing::new(r.carpr_key)),
            addr: None,
            addr6: None,
            version: sys::CARP_VERSION_CARP,
            vrrp_priority: 0,
            vrrp_adv_inter: 0,
        }
    }
}

/// What SIOCGVH copies out to `ifr_data`.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum GvhOut {
    /// One vhid: 40 bytes at offset 0.
    One(carpreq),
    /// 13.x, vhid 0: entry i at offset 40 i, each with `carpr_count` = total.
    PerElement(Vec<carpreq>),
    /// 14.x and later, vhid 0 (`docs/freebsd-carp.md` §4): every vhid is written into
    /// the same kernel stack variable, then `count` x 40 bytes are copied
    /// out from it: entry 0 is the last vhid, the rest is kernel stack.
    Broken { last: carpreq, count: usize },
}

/// The outcome of a netlink GET.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum NlGetOut {
    /// Found before the dump starts (bad attribute, interface): `NLMSG_ERROR`.
    Error(Errno),
    /// One reply per vhid, then `NLMSG_DONE` carrying `code` (0 or an errno).
    Dump { entries: Vec<CarpAttrs>, code: i32 },
}

/// Which address SIOCDIFADDR / SIOCDIFADDR_IN6 names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DelAddr {
    /// A well-formed socket address.
    Exact(IpAddr),
    /// SIOCDIFADDR whose `ifru_addr` is not a `sockaddr_in` (`sin_len` not
    /// 16, or not `AF_INET`): `in_difaddr_ioctl()` then deletes the first
    /// IPv4 address of the interface ("deleteAny"), what
    /// `ifconfig em0 -alias` without an address relies on.
    FirstV4,
    /// SIOCDIFADDR_IN6 whose address is not `AF_INET6`: `in6_control()`
    /// looks nothing up, and the delete is EADDRNOTAVAIL.
    Unmatched,
}

/// The parent-interface view `fsm` needs (at virtual time `now`), and the
/// vhid's address counts.
fn with_sc<R>(
    ifc: &mut Iface,
    si: usize,
    (now, hz): (u64, fsm::Hz),
    f: impl FnOnce(Parent<'_>, &mut Softc, Naddrs) -> R,
) -> R {
    let n = ifc.naddrs_by_family(ifc.vhids[si].vhid);
    fsm::with_parent(ifc, si, (now, hz), n, f)
}

impl HostState {
    /// `V_carp_demotion` as `DEMOTE_ADVSKEW()` uses it on this release.
    pub(super) fn demotion(&self) -> fsm::Demotion {
        fsm::Demotion::new(self.sysctl.demotion, self.flavor.rules())
    }
}

/// `carp_alloc()`: the first vhid of an interface creates its `carp_if`
/// and puts the interface into promiscuous mode (`ifpromisc(ifp, 1)`).
fn create_vhid(ifc: &mut Iface, vhid: i32, version: u8) -> usize {
    if !ifc.has_carp() {
        ifc.flags |= sys::IFF_PROMISC;
    }
    // The callers checked 1..=255.
    let vhid = u8::try_from(vhid).unwrap_or(sys::CARP_MAXVHID);
    ifc.vhids.push(Softc::new(vhid, version));
    ifc.vhids.len() - 1
}

/// `if (carpr_key[0] != '\0')`: all 20 bytes are copied; a key can never be
/// cleared once set.
fn set_key(sc: &mut Softc, key: &KeyBytes) {
    if key.0[0] != 0 {
        sc.key = key.clone();
    }
}

/// Unicast peers: written only when not `INADDR_ANY` / `::`.
fn set_peers(sc: &mut Softc, r: &CarpKReq) {
    if let Some(a) = r.addr {
        sc.peer = a;
    }
    if let Some(a) = r.addr6 {
        sc.peer6 = a;
    }
}

#[cfg(test)]
mod tests;
