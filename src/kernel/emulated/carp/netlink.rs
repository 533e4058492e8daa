//! The netlink family "carp" on the emulated kernel (`docs/freebsd-carp.md`
//! §6): `carp_nl_set()` and `carp_nl_get()` of `ip_carp.c` (14.0 and later).

use std::net::{Ipv4Addr, Ipv6Addr};

use carpctl_sys as sys;

use super::{CarpKReq, NlGetOut};
use crate::kernel::Errno;
use crate::kernel::emulated::fsm::Event;
use crate::kernel::emulated::state::{HostState, KeyBytes, Softc};
use crate::kernel::freebsd::netlink::CarpAttrs;

impl HostState {
    // -----------------------------------------------------------------
    // Netlink family "carp" (`docs/freebsd-carp.md` §6)
    // -----------------------------------------------------------------

    /// Whether `genl_register_family("carp")` ran: 14.0+ with carp.ko.
    pub(crate) fn carp_family_registered(&self) -> bool {
        self.carp_loaded && self.flavor.has_carp_netlink()
    }

    /// The interface of a netlink request: IFNAME takes precedence over
    /// IFINDEX; neither (or IFINDEX 0) is no interface. Then
    /// `carp_is_supported_if()`.
    pub(super) fn nl_iface(&self, a: &CarpAttrs) -> Result<usize, Errno> {
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
    pub(super) fn nl_key(a: &CarpAttrs) -> Result<KeyBytes, Errno> {
        let mut key = KeyBytes::default();
        if let Some(raw) = &a.key {
            let dst = key.0.get_mut(..raw.len()).ok_or(Errno::EINVAL)?;
            dst.copy_from_slice(raw);
        }
        Ok(key)
    }

    /// `CARP_NL_CMD_SET` (§6).
    pub(crate) fn nl_set(&mut self, a: &CarpAttrs, ev: &mut Vec<Event>) -> Result<(), Errno> {
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
    pub(crate) fn nl_get(&self, a: &CarpAttrs) -> NlGetOut {
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
    pub(super) fn nl_entry(&self, sc: &Softc) -> CarpAttrs {
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
}
