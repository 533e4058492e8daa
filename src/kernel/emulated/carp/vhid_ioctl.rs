//! SIOCSVH and SIOCGVH on the emulated kernel (`docs/freebsd-carp.md` §4):
//! `carp_ioctl()` of `ip_carp.c`, its checks in their order, per flavor.

use carpctl_sys::{self as sys, CARP_KEY_LEN, carpreq};

use super::{CarpKReq, GvhOut, create_vhid, set_key, set_peers, with_sc};
use crate::kernel::Errno;
use crate::kernel::emulated::fsm::{self, Event};
use crate::kernel::emulated::state::{HostState, Iface, Softc};
use crate::model::CarpState;

impl HostState {
    // -----------------------------------------------------------------
    // SIOCSVH / SIOCGVH (`docs/freebsd-carp.md` §4)
    // -----------------------------------------------------------------

    /// What a request number the kernel does not know gets on an
    /// interface socket: `ifioctl()` looks the interface up (ENXIO), then
    /// `in_control()` hands the request to the driver, whose default case
    /// returns EINVAL (`ether_ioctl()`; `loioctl()` alike). This is what
    /// SIOCSVH/SIOCGVH get on main after 2026-03-12 (72472e52e310).
    pub(crate) fn unknown_ioctl(&self, ifname: Option<&str>) -> Errno {
        match ifname.and_then(|n| self.iface_by_name(n)) {
            None => Errno::ENXIO,
            Some(_) => Errno::EINVAL,
        }
    }

    /// Steps 2-3 of §4 (`carp_ioctl()`): interface, type, multicast.
    /// A name that does not decode cannot name an interface: ENXIO.
    pub(super) fn carp_ioctl_iface(&self, ifname: Option<&str>) -> Result<usize, Errno> {
        let idx = ifname
            .and_then(|n| self.iface_by_name(n))
            .ok_or(Errno::ENXIO)?;
        let ifc = &self.interfaces[idx];
        if !ifc.supports_carp() {
            return Err(Errno::EOPNOTSUPP);
        }
        if !ifc.is_multicast() {
            return Err(Errno::EADDRNOTAVAIL);
        }
        Ok(idx)
    }

    /// The steps SIOCSVH and SIOCGVH share, in the kernel's order: an
    /// unknown ioctl on releases without them; if.c's `if (carp_ioctl_p ==
    /// NULL) return (EPROTONOSUPPORT)` before anything else (§4); then
    /// carp_ioctl()'s copyin (§4 step 1) and the interface checks.
    fn carp_ioctl_entry<'r>(
        &self,
        ifname: Option<&str>,
        req: Option<&'r carpreq>,
    ) -> Result<(usize, &'r carpreq), Errno> {
        if !self.flavor.has_carp_ioctls() {
            return Err(self.unknown_ioctl(ifname));
        }
        if !self.carp_loaded {
            return Err(Errno::EPROTONOSUPPORT);
        }
        let req = req.ok_or(Errno::EFAULT)?;
        Ok((self.carp_ioctl_iface(ifname)?, req))
    }

    /// SIOCSVH. `req` is `None` when `copyin(ifr_data)` fails (EFAULT).
    pub(crate) fn siocsvh(
        &mut self,
        ifname: Option<&str>,
        req: Option<&carpreq>,
        ev: &mut Vec<Event>,
    ) -> Result<(), Errno> {
        let (idx, req) = self.carp_ioctl_entry(ifname, req)?;
        // carp_ioctl(): priv_check(td, PRIV_NETINET_CARP) under carp_sx, after
        // the interface checks (§4 order 1).
        if !self.privileged {
            return Err(Errno::EPERM);
        }
        self.carp_ioctl_set(idx, &CarpKReq::from_carpreq(req), ev)
    }

    /// SIOCGVH. `req` is `None` when `copyin(ifr_data)` fails (EFAULT).
    pub(crate) fn siocgvh(
        &self,
        ifname: Option<&str>,
        req: Option<&carpreq>,
    ) -> Result<GvhOut, Errno> {
        let (idx, req) = self.carp_ioctl_entry(ifname, req)?;
        let found =
            self.carp_ioctl_get(idx, i64::from(req.carpr_vhid), i64::from(req.carpr_count))?;
        let ifc = &self.interfaces[idx];
        let fill = |sc: &Softc| self.carprcp(*req, sc);
        if req.carpr_vhid != 0 {
            let mut one = found
                .first()
                .map(|&si| fill(&ifc.vhids[si]))
                .ok_or(Errno::ENOENT)?;
            // D28/MAIN: `carpr->carpr_count = 1`; S13 copies the request
            // back with the caller's count untouched.
            if self.flavor.siocgvh_sets_count() {
                one.carpr_count = 1;
            }
            return Ok(GvhOut::One(one));
        }
        let count = found.len();
        let total = i32::try_from(count).unwrap_or(i32::MAX);
        if self.flavor.siocgvh_all_broken() {
            let mut last = found
                .last()
                .map(|&si| fill(&ifc.vhids[si]))
                .ok_or(Errno::ENOENT)?;
            last.carpr_count = total;
            Ok(GvhOut::Broken { last, count })
        } else {
            // S13: one copyout per vhid, `carpr_count = count` in each.
            Ok(GvhOut::PerElement(
                found
                    .iter()
                    .map(|&si| carpreq {
                        carpr_count: total,
                        ..fill(&ifc.vhids[si])
                    })
                    .collect(),
            ))
        }
    }

    /// `carp_ioctl_get()` (§4): the indexes of the vhids to report.
    pub(super) fn carp_ioctl_get(
        &self,
        idx: usize,
        vhid: i64,
        count: i64,
    ) -> Result<Vec<usize>, Errno> {
        if !(0..=i64::from(sys::CARP_MAXVHID)).contains(&vhid) {
            return Err(Errno::EINVAL);
        }
        if count < 1 {
            return Err(Errno::EMSGSIZE);
        }
        let ifc = &self.interfaces[idx];
        if !ifc.has_carp() {
            return Err(Errno::ENOENT);
        }
        if vhid != 0 {
            return ifc.find_vhid(vhid).map(|si| vec![si]).ok_or(Errno::ENOENT);
        }
        if i64::try_from(ifc.vhids.len()).unwrap_or(i64::MAX) > count {
            return Err(Errno::EMSGSIZE);
        }
        Ok((0..ifc.vhids.len()).collect())
    }

    /// `carp_carprcp()`: overlay one vhid on the caller's request. The key
    /// only for a privileged caller, zero-filled otherwise. A VRRPv3 vhid
    /// (MAIN) fills only state and vhid; the rest stays as the caller sent.
    pub(super) fn carprcp(&self, mut out: carpreq, sc: &Softc) -> carpreq {
        out.carpr_state = sc.state.as_raw() as i32;
        out.carpr_vhid = i32::from(sc.vhid);
        if !sc.is_vrrp() {
            out.carpr_advbase = sc.advbase;
            out.carpr_advskew = sc.advskew;
            out.carpr_key = if self.privileged {
                *sc.key.0
            } else {
                [0; CARP_KEY_LEN]
            };
        }
        out
    }

    /// `carp_ioctl_set()`, shared by SIOCSVH and netlink SET (§4).
    pub(super) fn carp_ioctl_set(
        &mut self,
        idx: usize,
        r: &CarpKReq,
        ev: &mut Vec<Event>,
    ) -> Result<(), Errno> {
        let ifc = &mut self.interfaces[idx];
        let si = if self.flavor.atomic_set_validation() {
            set_checked_first(ifc, r)?
        } else {
            set_checked_in_turn(ifc, r)?
        };
        self.requested_state(idx, si, r, ev);
        Ok(())
    }

    /// The state the request asks for. It is considered only outside INIT
    /// and when it differs: a zero-filled request never changes it (§4).
    fn requested_state(&mut self, idx: usize, si: usize, r: &CarpKReq, ev: &mut Vec<Event>) {
        let (now, allow, d) = ((self.now, self.hz), self.sysctl.allow, self.demotion());
        let ifc = &mut self.interfaces[idx];
        with_sc(ifc, si, now, |p, sc, n| {
            if sc.state == CarpState::Init || r.state == sc.state.as_raw() as i32 {
                return;
            }
            let to = match r.state {
                1 => CarpState::Backup,
                2 => CarpState::Master,
                _ => return,
            };
            fsm::user_state(p, sc, n, (allow, d), to, ev);
        });
    }
}

/// MAIN: every check precedes every change, so EINVAL leaves the vhid
/// untouched (and uncreated). The vhid's index.
fn set_checked_first(ifc: &mut Iface, r: &CarpKReq) -> Result<usize, Errno> {
    if r.vhid <= 0 || r.vhid > i32::from(sys::CARP_MAXVHID) {
        return Err(Errno::EINVAL);
    }
    match r.version {
        sys::CARP_VERSION_CARP => {
            if r.advbase != 0 && (r.advbase > 255 || r.advbase < i32::from(sys::CARP_DFLTINTV)) {
                return Err(Errno::EINVAL);
            }
            if r.advskew < 0 || r.advskew >= 255 {
                return Err(Errno::EINVAL);
            }
        }
        // MAIN checks nothing more for VRRPv3 here ("XXXGL:
        // shouldn't we check anything?"); netlink checked adv_inter.
        sys::CARP_VERSION_VRRPV3 => {}
        _ => return Err(Errno::EINVAL),
    }
    let si = match ifc.find_vhid(i64::from(r.vhid)) {
        Some(si) if ifc.vhids[si].version != r.version => return Err(Errno::EINVAL),
        Some(si) => si,
        None => create_vhid(ifc, r.vhid, r.version),
    };
    let sc = &mut ifc.vhids[si];
    if sc.is_vrrp() {
        if r.vrrp_priority != 0 {
            sc.vrrp_priority = r.vrrp_priority;
        }
        if r.vrrp_adv_inter != 0 {
            sc.vrrp_adv_inter = r.vrrp_adv_inter;
        }
    } else {
        if r.advbase != 0 {
            sc.advbase = r.advbase;
        }
        sc.advskew = r.advskew;
        // MAIN carp_ioctl_set(): peers only in the CARP case, and
        // carp_nl_set() copies them only for CARP; a VRRPv3 vhid
        // ignores them (docs/freebsd-carp.md §6.4).
        set_peers(sc, r);
        set_key(sc, &r.key);
    }
    Ok(si)
}

/// S13 and D28: the up-front checks, then the vhid is created, then
/// advbase and advskew are checked one after the other, so an EINVAL can
/// leave a new vhid behind and advbase written. The vhid's index.
fn set_checked_in_turn(ifc: &mut Iface, r: &CarpKReq) -> Result<usize, Errno> {
    if r.vhid <= 0 || r.vhid > i32::from(sys::CARP_MAXVHID) || r.advbase < 0 || r.advskew < 0 {
        return Err(Errno::EINVAL);
    }
    let si = match ifc.find_vhid(i64::from(r.vhid)) {
        Some(si) => si,
        None => create_vhid(ifc, r.vhid, sys::CARP_VERSION_CARP),
    };
    let sc = &mut ifc.vhids[si];
    if r.advbase > 0 {
        if r.advbase > 255 || r.advbase < i32::from(sys::CARP_DFLTINTV) {
            return Err(Errno::EINVAL);
        }
        sc.advbase = r.advbase;
    }
    if r.advskew >= 255 {
        return Err(Errno::EINVAL);
    }
    sc.advskew = r.advskew;
    set_peers(sc, r);
    set_key(sc, &r.key);
    Ok(si)
}
