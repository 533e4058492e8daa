//! Adding and deleting addresses with a vhid on the emulated kernel
//! (`docs/freebsd-carp.md` §5): `in.c` `in_aifaddr_ioctl()` /
//! `in_difaddr_ioctl()`, `in6.c` `in6_control()`, and carp's attach and
//! detach of them.

use ipnet::IpNet;

use carpctl_sys as sys;

use super::{DelAddr, with_sc};
use crate::kernel::Errno;
use crate::kernel::emulated::fsm::{self, Event};
use crate::kernel::emulated::state::{Addr, HostState};

impl HostState {
    // -----------------------------------------------------------------
    // Addresses (`docs/freebsd-carp.md` §5; in.c in_aifaddr_ioctl / in_difaddr_ioctl,
    // in6.c in6_control)
    // -----------------------------------------------------------------

    /// The interface of an address ioctl: ifioctl()'s ifunit_ref() (ENXIO)
    /// before the protocol's control function checks the privilege
    /// (PRIV_NET_ADDIFADDR or PRIV_NET_DELIFADDR; EPERM).
    fn address_ioctl_iface(&self, ifname: Option<&str>) -> Result<usize, Errno> {
        let idx = ifname
            .and_then(|n| self.iface_by_name(n))
            .ok_or(Errno::ENXIO)?;
        if !self.privileged {
            return Err(Errno::EPERM);
        }
        Ok(idx)
    }

    /// SIOCAIFADDR / SIOCAIFADDR_IN6. `req` is `None` when the request's
    /// socket addresses do not decode (wrong length or family: EINVAL).
    pub(crate) fn aifaddr(
        &mut self,
        ifname: Option<&str>,
        req: Option<(IpNet, i32)>,
        ev: &mut Vec<Event>,
    ) -> Result<(), Errno> {
        // PRIV_NET_ADDIFADDR.
        let idx = self.address_ioctl_iface(ifname)?;
        let (net, vhid) = req.ok_or(Errno::EINVAL)?;
        match net {
            IpNet::V4(_) => self.in_aifaddr(idx, net, vhid, ev),
            IpNet::V6(_) => self.in6_aifaddr(idx, net, vhid, ev),
        }
    }

    /// `in_aifaddr_ioctl()`: an existing address is deleted first (its vhid
    /// kept: `carp_detach(ifa, true)`); the new one is attached to the vhid
    /// before it is linked in, so a failed attach leaves no address.
    pub(super) fn in_aifaddr(
        &mut self,
        idx: usize,
        net: IpNet,
        vhid: i32,
        ev: &mut Vec<Event>,
    ) -> Result<(), Errno> {
        if vhid != 0 && !self.carp_loaded {
            return Err(Errno::EPROTONOSUPPORT);
        }
        if let Some(ai) = self.interfaces[idx].find_addr(net.addr()) {
            self.remove_addr(idx, ai, true, ev);
        }
        let si = if vhid != 0 {
            Some(self.carp_attach_lookup(idx, vhid)?)
        } else {
            None
        };
        let ifc = &mut self.interfaces[idx];
        let vhid = si.map_or(0, |si| ifc.vhids[si].vhid);
        ifc.addresses.push(Addr { net, vhid });
        if let Some(si) = si {
            self.carp_attach_done(idx, si, ev);
        }
        Ok(())
    }

    /// `in6_control(SIOCAIFADDR_IN6)`: the address is added (or updated in
    /// place) first, then detached from its old vhid and attached to the
    /// new one. A failed attach returns its errno but **leaves the address
    /// on the interface without a vhid** (`goto out` skips no cleanup).
    pub(super) fn in6_aifaddr(
        &mut self,
        idx: usize,
        net: IpNet,
        vhid: i32,
        ev: &mut Vec<Event>,
    ) -> Result<(), Errno> {
        // in6_validate_ifra(): a prefix length is required (plen > 0) and
        // an existing address may not change it.
        let existing = self.interfaces[idx].find_addr(net.addr());
        match existing {
            Some(ai) if self.interfaces[idx].addresses[ai].net.prefix_len() != net.prefix_len() => {
                return Err(Errno::EINVAL);
            }
            None if net.prefix_len() == 0 => return Err(Errno::EINVAL),
            _ => {}
        }
        let ai = match existing {
            Some(ai) => {
                let old = self.interfaces[idx].addresses[ai].vhid;
                if old != 0 {
                    self.interfaces[idx].addresses[ai].vhid = 0;
                    self.carp_detach(idx, old, true, ev);
                }
                ai
            }
            None => {
                let ifc = &mut self.interfaces[idx];
                ifc.addresses.push(Addr { net, vhid: 0 });
                ifc.addresses.len() - 1
            }
        };
        if vhid > 0 {
            if !self.carp_loaded {
                return Err(Errno::EPROTONOSUPPORT);
            }
            let si = self.carp_attach_lookup(idx, vhid)?;
            let ifc = &mut self.interfaces[idx];
            ifc.addresses[ai].vhid = ifc.vhids[si].vhid;
            self.carp_attach_done(idx, si, ev);
        }
        Ok(())
    }

    /// The failing half of `carp_attach()`: ENOPROTOOPT when the interface
    /// has no carp yet, ENOENT when the vhid is not configured on it.
    /// (EPROTOTYPE, for an address family other than inet/inet6, cannot
    /// happen here: `in.c`/`in6.c` refuse other families with EINVAL first.)
    pub(super) fn carp_attach_lookup(&self, idx: usize, vhid: i32) -> Result<usize, Errno> {
        let ifc = &self.interfaces[idx];
        if !ifc.has_carp() {
            return Err(Errno::ENOPROTOOPT);
        }
        ifc.find_vhid(i64::from(vhid)).ok_or(Errno::ENOENT)
    }

    /// The rest of `carp_attach()`: `carp_sc_state()` with the new address
    /// counted (INIT -> BACKUP, or MASTER -> INIT -> BACKUP).
    pub(super) fn carp_attach_done(&mut self, idx: usize, si: usize, ev: &mut Vec<Event>) {
        let now = (self.now, self.hz);
        let HostState {
            interfaces, sysctl, ..
        } = self;
        with_sc(&mut interfaces[idx], si, now, |p, sc, n| {
            fsm::sc_state(p, sc, n, sysctl, ev)
        });
    }

    /// `carp_detach(ifa, keep_cif)`, after the address left the vhid:
    /// `carp_sc_state()`, then without `keep_cif` the vhid is destroyed when
    /// it has no address left and the interface leaves promiscuous mode
    /// when it has no vhid left.
    pub(super) fn carp_detach(
        &mut self,
        idx: usize,
        vhid: u8,
        keep_cif: bool,
        ev: &mut Vec<Event>,
    ) {
        let now = (self.now, self.hz);
        let HostState {
            interfaces, sysctl, ..
        } = self;
        let ifc = &mut interfaces[idx];
        let Some(si) = ifc.find_vhid(i64::from(vhid)) else {
            return;
        };
        with_sc(ifc, si, now, |p, sc, n| fsm::sc_state(p, sc, n, sysctl, ev));
        if keep_cif {
            return;
        }
        if ifc.naddrs(vhid) == 0 {
            // carp_destroy(): a pending ifdown demotion is undone.
            let sc = ifc.vhids.remove(si);
            if sc.suppressed {
                let adj = sysctl.ifdown_demotion_factor;
                fsm::demote_adj(sysctl, adj.wrapping_neg(), "vhid removed", ev);
            }
        }
        if !ifc.has_carp() {
            // CIF_FREE -> carp_free_if(): ifpromisc(ifp, 0).
            ifc.flags &= !sys::IFF_PROMISC;
        }
    }

    pub(super) fn remove_addr(
        &mut self,
        idx: usize,
        ai: usize,
        keep_cif: bool,
        ev: &mut Vec<Event>,
    ) {
        let a = self.interfaces[idx].addresses.remove(ai);
        if a.vhid != 0 {
            self.carp_detach(idx, a.vhid, keep_cif, ev);
        }
    }

    /// SIOCDIFADDR / SIOCDIFADDR_IN6.
    pub(crate) fn difaddr(
        &mut self,
        ifname: Option<&str>,
        target: DelAddr,
        ev: &mut Vec<Event>,
    ) -> Result<(), Errno> {
        // PRIV_NET_DELIFADDR.
        let idx = self.address_ioctl_iface(ifname)?;
        let ifc = &self.interfaces[idx];
        let ai = match target {
            DelAddr::Exact(addr) => ifc.find_addr(addr),
            DelAddr::FirstV4 => ifc.addresses.iter().position(|a| a.net.addr().is_ipv4()),
            DelAddr::Unmatched => None,
        };
        let ai = ai.ok_or(Errno::EADDRNOTAVAIL)?;
        // SIOCDIFADDR: carp_detach(ifa, cmd == SIOCAIFADDR) = false;
        // in6_purgeaddr() likewise.
        self.remove_addr(idx, ai, false, ev);
        Ok(())
    }
}
