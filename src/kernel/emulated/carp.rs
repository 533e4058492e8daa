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

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use carpctl_sys::{self as sys, CARP_KEY_LEN, carpreq};

use super::fsm::{self, Event, Parent};
use super::state::{Addr, HostState, Iface, KeyBytes, Naddrs, Softc};
use crate::kernel::Errno;
use crate::kernel::freebsd::SysctlValue;
use crate::kernel::freebsd::netlink::CarpAttrs;
use crate::model::CarpState;

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
            key: KeyBytes(r.carpr_key),
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

/// A sysctl the emulated kernel knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Oid {
    OsRelDate,
    OsRelease,
    BootTime,
    Allow,
    Preempt,
    Log,
    Demotion,
    IfdownDemotionFactor,
    SenderrDemotionFactor,
    Dscp,
    Stats,
}

impl Oid {
    fn lookup(name: &str) -> Option<Oid> {
        Some(match name {
            "kern.osreldate" => Oid::OsRelDate,
            "kern.osrelease" => Oid::OsRelease,
            "kern.boottime" => Oid::BootTime,
            "net.inet.carp.allow" => Oid::Allow,
            "net.inet.carp.preempt" => Oid::Preempt,
            "net.inet.carp.log" => Oid::Log,
            "net.inet.carp.demotion" => Oid::Demotion,
            "net.inet.carp.ifdown_demotion_factor" => Oid::IfdownDemotionFactor,
            "net.inet.carp.senderr_demotion_factor" => Oid::SenderrDemotionFactor,
            "net.inet.carp.dscp" => Oid::Dscp,
            "net.inet.carp.stats" => Oid::Stats,
            _ => return None,
        })
    }
    fn is_carp(self) -> bool {
        !matches!(self, Oid::OsRelDate | Oid::OsRelease | Oid::BootTime)
    }
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
    let (up, link_up) = (ifc.is_up(), ifc.link_is_up());
    f(
        Parent {
            name: &ifc.name,
            index: ifc.index,
            up,
            link_up,
            now,
            hz,
        },
        &mut ifc.vhids[si],
        n,
    )
}

impl HostState {
    /// `V_carp_demotion` as `DEMOTE_ADVSKEW()` uses it on this release.
    pub(super) fn demotion(&self) -> fsm::Demotion {
        fsm::Demotion::new(self.sysctl.demotion, self.flavor.rules())
    }

    // -----------------------------------------------------------------
    // SIOCSVH / SIOCGVH (`docs/freebsd-carp.md` §4)
    // -----------------------------------------------------------------

    /// What a request number the kernel does not know gets on an
    /// interface socket: `ifioctl()` looks the interface up (ENXIO), then
    /// `in_control()` hands the request to the driver, whose default case
    /// returns EINVAL (`ether_ioctl()`; `loioctl()` alike). This is what
    /// SIOCSVH/SIOCGVH get on main after 2026-03-12 (72472e52e310).
    pub(super) fn unknown_ioctl(&self, ifname: Option<&str>) -> Errno {
        match ifname.and_then(|n| self.iface_by_name(n)) {
            None => Errno::ENXIO,
            Some(_) => Errno::EINVAL,
        }
    }

    /// Steps 2-3 of §4 (`carp_ioctl()`): interface, type, multicast.
    /// A name that does not decode cannot name an interface: ENXIO.
    fn carp_ioctl_iface(&self, ifname: Option<&str>) -> Result<usize, Errno> {
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

    /// SIOCSVH. `req` is `None` when `copyin(ifr_data)` fails (EFAULT).
    pub(super) fn siocsvh(
        &mut self,
        ifname: Option<&str>,
        req: Option<&carpreq>,
        ev: &mut Vec<Event>,
    ) -> Result<(), Errno> {
        if !self.flavor.has_carp_ioctls() {
            return Err(self.unknown_ioctl(ifname));
        }
        // if.c: `if (carp_ioctl_p == NULL) return (EPROTONOSUPPORT)` before
        // anything else (§4); then carp_ioctl()'s copyin (§4 step 1).
        if !self.carp_loaded {
            return Err(Errno::EPROTONOSUPPORT);
        }
        let req = req.ok_or(Errno::EFAULT)?;
        let idx = self.carp_ioctl_iface(ifname)?;
        // carp_ioctl(): priv_check(td, PRIV_NETINET_CARP) under carp_sx, after
        // the interface checks (§4 order 1).
        if !self.privileged {
            return Err(Errno::EPERM);
        }
        self.carp_ioctl_set(idx, &CarpKReq::from_carpreq(req), ev)
    }

    /// SIOCGVH. `req` is `None` when `copyin(ifr_data)` fails (EFAULT).
    pub(super) fn siocgvh(
        &self,
        ifname: Option<&str>,
        req: Option<&carpreq>,
    ) -> Result<GvhOut, Errno> {
        if !self.flavor.has_carp_ioctls() {
            return Err(self.unknown_ioctl(ifname));
        }
        if !self.carp_loaded {
            return Err(Errno::EPROTONOSUPPORT);
        }
        let req = req.ok_or(Errno::EFAULT)?;
        let idx = self.carp_ioctl_iface(ifname)?;
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
    fn carp_ioctl_get(&self, idx: usize, vhid: i64, count: i64) -> Result<Vec<usize>, Errno> {
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
    fn carprcp(&self, mut out: carpreq, sc: &Softc) -> carpreq {
        out.carpr_state = sc.state.as_raw() as i32;
        out.carpr_vhid = i32::from(sc.vhid);
        if !sc.is_vrrp() {
            out.carpr_advbase = sc.advbase;
            out.carpr_advskew = sc.advskew;
            out.carpr_key = if self.privileged {
                sc.key.0
            } else {
                [0; CARP_KEY_LEN]
            };
        }
        out
    }

    /// `carp_ioctl_set()`, shared by SIOCSVH and netlink SET (§4).
    fn carp_ioctl_set(
        &mut self,
        idx: usize,
        r: &CarpKReq,
        ev: &mut Vec<Event>,
    ) -> Result<(), Errno> {
        let atomic = self.flavor.atomic_set_validation();
        let ifc = &mut self.interfaces[idx];
        let si = if atomic {
            // MAIN: every check precedes every change, so EINVAL leaves
            // the vhid untouched (and uncreated).
            if r.vhid <= 0 || r.vhid > i32::from(sys::CARP_MAXVHID) {
                return Err(Errno::EINVAL);
            }
            match r.version {
                sys::CARP_VERSION_CARP => {
                    if r.advbase != 0
                        && (r.advbase > 255 || r.advbase < i32::from(sys::CARP_DFLTINTV))
                    {
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
            si
        } else {
            // S13 and D28: the up-front checks, then the vhid is created,
            // then advbase and advskew are checked one after the other, so
            // an EINVAL can leave a new vhid behind and advbase written.
            if r.vhid <= 0
                || r.vhid > i32::from(sys::CARP_MAXVHID)
                || r.advbase < 0
                || r.advskew < 0
            {
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
            si
        };
        // The state is considered only outside INIT and when it differs:
        // a zero-filled request never changes it (§4).
        let (now, allow, d) = ((self.now, self.hz), self.sysctl.allow, self.demotion());
        let ifc = &mut self.interfaces[idx];
        with_sc(ifc, si, now, |p, sc, n| {
            if sc.state == CarpState::Init || r.state == sc.state.as_raw() as i32 {
                return;
            }
            match r.state {
                1 => {
                    sc.run.ad = None;
                    fsm::set_state(p, sc, CarpState::Backup, "user requested via ifconfig", ev);
                    fsm::setrun(p, sc, n, allow, None, ev);
                }
                2 => fsm::master_down(p, sc, n, allow, d, "user requested via ifconfig", ev),
                _ => {}
            }
        });
        Ok(())
    }

    // -----------------------------------------------------------------
    // Netlink family "carp" (`docs/freebsd-carp.md` §6)
    // -----------------------------------------------------------------

    /// Whether `genl_register_family("carp")` ran: 14.0+ with carp.ko.
    pub(super) fn carp_family_registered(&self) -> bool {
        self.carp_loaded && self.flavor.has_carp_netlink()
    }

    /// The interface of a netlink request: IFNAME takes precedence over
    /// IFINDEX; neither (or IFINDEX 0) is no interface. Then
    /// `carp_is_supported_if()`.
    fn nl_iface(&self, a: &CarpAttrs) -> Result<usize, Errno> {
        let idx = match (&a.ifname, a.ifindex) {
            (Some(name), _) => self.iface_by_name(name),
            (None, Some(index)) if index != 0 => self.iface_by_index(index),
            _ => None,
        };
        let idx = idx.ok_or(Errno::ENXIO)?;
        if !self.interfaces[idx].supports_carp() {
            return Err(Errno::EOPNOTSUPP);
        }
        Ok(idx)
    }

    /// `nlattr_get_carp_key()`: more than 20 bytes is EINVAL while parsing,
    /// for GET and SET alike (they share `carp_parser`).
    fn nl_key(a: &CarpAttrs) -> Result<KeyBytes, Errno> {
        let mut key = KeyBytes::default();
        if let Some(raw) = &a.key {
            let dst = key.0.get_mut(..raw.len()).ok_or(Errno::EINVAL)?;
            dst.copy_from_slice(raw);
        }
        Ok(key)
    }

    /// `CARP_NL_CMD_SET` (§6).
    pub(super) fn nl_set(&mut self, a: &CarpAttrs, ev: &mut Vec<Event>) -> Result<(), Errno> {
        if !self.carp_family_registered() {
            // genl_handle_message(): no such family.
            return Err(Errno::EOPNOTSUPP);
        }
        // genl_handle_message(): `cmd_priv = PRIV_NETINET_CARP`, checked
        // before the attributes are parsed.
        if !self.privileged {
            return Err(Errno::EPERM);
        }
        let key = Self::nl_key(a)?;
        let vrrp = self.flavor.has_vrrp();
        let vhid = a.vhid.unwrap_or(0);
        let state = a.state.unwrap_or(0);
        let advbase = a.advbase.unwrap_or(0);
        let advskew = a.advskew.unwrap_or(0);
        // 14.x does not know attributes 10-12: its parser skips them.
        let (version, prio, inter) = if vrrp {
            (
                a.version.unwrap_or(0),
                a.vrrp_priority.unwrap_or(0),
                a.vrrp_adv_inter.unwrap_or(0),
            )
        } else {
            (sys::CARP_VERSION_CARP, 0, 0)
        };
        if vhid == 0 || vhid > u32::from(sys::CARP_MAXVHID) {
            return Err(Errno::EINVAL);
        }
        if state > u32::from(sys::CARP_MAXSTATE) {
            return Err(Errno::EINVAL);
        }
        let version = match version {
            // MAIN: "0 is treated as CARP for compatibility".
            0 | sys::CARP_VERSION_CARP => sys::CARP_VERSION_CARP,
            sys::CARP_VERSION_VRRPV3 => sys::CARP_VERSION_VRRPV3,
            _ => return Err(Errno::EINVAL),
        };
        if version == sys::CARP_VERSION_CARP {
            if advbase < 0 || advskew < 0 || advbase > 255 || advskew >= 255 {
                return Err(Errno::EINVAL);
            }
        } else if inter > sys::VRRP_MAX_INTERVAL {
            return Err(Errno::EINVAL);
        }
        let idx = self.nl_iface(a)?;
        if !self.interfaces[idx].is_multicast() {
            return Err(Errno::EADDRNOTAVAIL);
        }
        let req = CarpKReq {
            // carpr_vhid and carpr_state are ints filled from u32s; both
            // were range-checked above, so no value changes.
            vhid: i32::try_from(vhid).map_err(|_| Errno::EINVAL)?,
            state: i32::try_from(state).map_err(|_| Errno::EINVAL)?,
            advskew,
            advbase,
            key,
            addr: a.addr.map(Ipv4Addr::from).filter(|a| !a.is_unspecified()),
            addr6: a.addr6.map(Ipv6Addr::from).filter(|a| !a.is_unspecified()),
            version,
            vrrp_priority: prio,
            vrrp_adv_inter: inter,
        };
        self.carp_ioctl_set(idx, &req, ev)
    }

    /// `CARP_NL_CMD_GET` (§6): `carp_ioctl_get()` with `carpr_count` =
    /// `CARP_MAXVHID`; no privilege needed, the key only with it.
    pub(super) fn nl_get(&self, a: &CarpAttrs) -> NlGetOut {
        if !self.carp_family_registered() {
            return NlGetOut::Error(Errno::EOPNOTSUPP);
        }
        if let Err(e) = Self::nl_key(a) {
            return NlGetOut::Error(e);
        }
        let idx = match self.nl_iface(a) {
            Ok(idx) => idx,
            Err(e) => return NlGetOut::Error(e),
        };
        // `carpr.carpr_vhid = attrs.vhid`: a u32 stored in an int, so a
        // value above 255 (or above INT_MAX, negative there) is EINVAL.
        let vhid = i64::from(a.vhid.unwrap_or(0));
        match self.carp_ioctl_get(idx, vhid, i64::from(sys::CARP_MAXVHID)) {
            Ok(found) => NlGetOut::Dump {
                entries: found
                    .iter()
                    .map(|&si| self.nl_entry(&self.interfaces[idx].vhids[si]))
                    .collect(),
                code: 0,
            },
            Err(e) => NlGetOut::Dump {
                entries: Vec::new(),
                code: e.0,
            },
        }
    }

    /// `carp_nl_send()`: VHID, STATE, VERSION (15+); CARP: ADVBASE, ADVSKEW,
    /// ADDR, ADDR6, KEY (privileged only); VRRPv3: priority and interval.
    fn nl_entry(&self, sc: &Softc) -> CarpAttrs {
        let mut a = CarpAttrs {
            vhid: Some(u32::from(sc.vhid)),
            state: Some(sc.state.as_raw()),
            ..CarpAttrs::default()
        };
        if self.flavor.has_vrrp() {
            a.version = Some(sc.version);
        }
        if sc.is_vrrp() {
            a.vrrp_priority = Some(sc.vrrp_priority);
            a.vrrp_adv_inter = Some(sc.vrrp_adv_inter);
        } else {
            a.advbase = Some(sc.advbase);
            a.advskew = Some(sc.advskew);
            a.addr = Some(sc.peer.octets());
            a.addr6 = Some(sc.peer6.octets());
            if self.privileged {
                a.key = Some(sc.key.0.to_vec());
            }
        }
        a
    }

    // -----------------------------------------------------------------
    // Addresses (`docs/freebsd-carp.md` §5; in.c in_aifaddr_ioctl / in_difaddr_ioctl,
    // in6.c in6_control)
    // -----------------------------------------------------------------

    /// SIOCAIFADDR / SIOCAIFADDR_IN6. `req` is `None` when the request's
    /// socket addresses do not decode (wrong length or family: EINVAL).
    pub(super) fn aifaddr(
        &mut self,
        ifname: Option<&str>,
        req: Option<(IpNet, i32)>,
        ev: &mut Vec<Event>,
    ) -> Result<(), Errno> {
        // ifioctl(): ifunit_ref() before the protocol's control function.
        let idx = ifname
            .and_then(|n| self.iface_by_name(n))
            .ok_or(Errno::ENXIO)?;
        // PRIV_NET_ADDIFADDR.
        if !self.privileged {
            return Err(Errno::EPERM);
        }
        let (net, vhid) = req.ok_or(Errno::EINVAL)?;
        match net {
            IpNet::V4(_) => self.in_aifaddr(idx, net, vhid, ev),
            IpNet::V6(_) => self.in6_aifaddr(idx, net, vhid, ev),
        }
    }

    /// `in_aifaddr_ioctl()`: an existing address is deleted first (its vhid
    /// kept: `carp_detach(ifa, true)`); the new one is attached to the vhid
    /// before it is linked in, so a failed attach leaves no address.
    fn in_aifaddr(
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
    fn in6_aifaddr(
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
    fn carp_attach_lookup(&self, idx: usize, vhid: i32) -> Result<usize, Errno> {
        let ifc = &self.interfaces[idx];
        if !ifc.has_carp() {
            return Err(Errno::ENOPROTOOPT);
        }
        ifc.find_vhid(i64::from(vhid)).ok_or(Errno::ENOENT)
    }

    /// The rest of `carp_attach()`: `carp_sc_state()` with the new address
    /// counted (INIT -> BACKUP, or MASTER -> INIT -> BACKUP).
    fn carp_attach_done(&mut self, idx: usize, si: usize, ev: &mut Vec<Event>) {
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
    fn carp_detach(&mut self, idx: usize, vhid: u8, keep_cif: bool, ev: &mut Vec<Event>) {
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

    fn remove_addr(&mut self, idx: usize, ai: usize, keep_cif: bool, ev: &mut Vec<Event>) {
        let a = self.interfaces[idx].addresses.remove(ai);
        if a.vhid != 0 {
            self.carp_detach(idx, a.vhid, keep_cif, ev);
        }
    }

    /// SIOCDIFADDR / SIOCDIFADDR_IN6.
    pub(super) fn difaddr(
        &mut self,
        ifname: Option<&str>,
        target: DelAddr,
        ev: &mut Vec<Event>,
    ) -> Result<(), Errno> {
        let idx = ifname
            .and_then(|n| self.iface_by_name(n))
            .ok_or(Errno::ENXIO)?;
        // PRIV_NET_DELIFADDR.
        if !self.privileged {
            return Err(Errno::EPERM);
        }
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

    // -----------------------------------------------------------------
    // sysctl (`docs/freebsd-carp.md` §7) and modules (§4)
    // -----------------------------------------------------------------

    /// The OID, if it exists in this kernel: `net.inet.carp` only with
    /// carp.ko loaded.
    fn oid(&self, name: &str) -> Result<Oid, Errno> {
        match Oid::lookup(name) {
            Some(oid) if !oid.is_carp() || self.carp_loaded => Ok(oid),
            _ => Err(Errno::ENOENT),
        }
    }

    pub(super) fn sysctl_get(&self, name: &str) -> Result<SysctlValue, Errno> {
        let s = &self.sysctl;
        Ok(match self.oid(name)? {
            Oid::OsRelDate => SysctlValue::Int(self.osreldate()),
            Oid::OsRelease => SysctlValue::String(self.flavor.osrelease().to_string()),
            // struct timeval as amd64 returns it: tv_sec, tv_usec, both
            // 64-bit, native order (sysctl_kern_boottime(), kern_tc.c).
            Oid::BootTime => {
                let mut tv = self.boottime.to_ne_bytes().to_vec();
                tv.extend_from_slice(&0i64.to_ne_bytes());
                SysctlValue::Opaque(tv)
            }
            Oid::Allow => SysctlValue::Int(s.allow),
            Oid::Preempt => SysctlValue::Int(s.preempt),
            Oid::Log => SysctlValue::Int(s.log),
            Oid::Demotion => SysctlValue::Int(s.demotion),
            Oid::IfdownDemotionFactor => SysctlValue::Int(s.ifdown_demotion_factor),
            Oid::SenderrDemotionFactor => SysctlValue::Int(s.senderr_demotion_factor),
            Oid::Dscp => SysctlValue::Int(s.dscp),
            Oid::Stats => SysctlValue::Opaque(self.stats.to_bytes()),
        })
    }

    pub(super) fn sysctl_set_int(
        &mut self,
        name: &str,
        value: i32,
        ev: &mut Vec<Event>,
    ) -> Result<(), Errno> {
        let oid = self.oid(name)?;
        // sysctl_root(): a read-only OID is EPERM before the privilege
        // check (PRIV_SYSCTL_WRITE), which is EPERM too.
        if !oid.is_carp() || !self.privileged {
            return Err(Errno::EPERM);
        }
        let s = &mut self.sysctl;
        match oid {
            Oid::OsRelDate | Oid::OsRelease | Oid::BootTime => return Err(Errno::EPERM),
            Oid::Allow => {
                // carp_allow_sysctl(): on a change, carp_sc_state() on every
                // vhid (to INIT with the ifdown demotion, or back).
                if s.allow != value {
                    s.allow = value;
                    self.all_sc_state(ev);
                }
            }
            Oid::Preempt => s.preempt = value,
            Oid::Log => s.log = value,
            // carp_demote_adj_sysctl(): a write adds the value.
            Oid::Demotion => fsm::demote_adj(s, value, "sysctl", ev),
            Oid::IfdownDemotionFactor => s.ifdown_demotion_factor = value,
            Oid::SenderrDemotionFactor => s.senderr_demotion_factor = value,
            Oid::Dscp => {
                // carp_dscp_sysctl().
                if !(0..=63).contains(&value) {
                    return Err(Errno::EINVAL);
                }
                s.dscp = value;
            }
            // SYSCTL_VNET_PCPUSTAT: any write zeroes the counters.
            Oid::Stats => self.stats = Default::default(),
        }
        Ok(())
    }

    /// `carp_sc_state()` on every vhid of the host, in interface order.
    pub(super) fn all_sc_state(&mut self, ev: &mut Vec<Event>) {
        let now = (self.now, self.hz);
        let HostState {
            interfaces, sysctl, ..
        } = self;
        for ifc in interfaces.iter_mut() {
            for si in 0..ifc.vhids.len() {
                with_sc(ifc, si, now, |p, sc, n| fsm::sc_state(p, sc, n, sysctl, ev));
            }
        }
    }

    /// `modfind(2)`: carp.ko when loaded; netlink is in every flavor's kernel.
    pub(super) fn modfind(&self, module: &str) -> bool {
        match module {
            "carp" => self.carp_loaded,
            "netlink" => true,
            _ => false,
        }
    }

    /// `kldload(2)` of carp.ko: PRIV_KLD_LOAD, then the file, then EEXIST
    /// when the module is already in the kernel.
    pub(super) fn kldload(&mut self, file: &str) -> Result<(), Errno> {
        if !self.privileged {
            return Err(Errno::EPERM);
        }
        let base = file.rsplit('/').next().unwrap_or(file);
        if base != "carp" && base != "carp.ko" {
            return Err(Errno::ENOENT);
        }
        if self.carp_loaded {
            return Err(Errno::EEXIST);
        }
        self.carp_loaded = true;
        // The VNET variables start at their defaults.
        self.sysctl = Default::default();
        self.stats = Default::default();
        Ok(())
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
#[path = "carp_tests.rs"]
mod tests;
