//! The netlink path (14.0 and later): the generic family "carp" and its
//! GET and SET, as libifconfig speaks them (docs/freebsd-carp.md §6).
//!
//! The family id is looked up before every GET and every SET, as
//! libifconfig does (`snl_get_genl_family` in `_ifconfig_carp_get` and
//! `ifconfig_carp_set_info`): ids are handed out lowest-free-first and
//! reused, so an id kept across a `kldunload carp` could belong to another
//! module by the next request (§6.1). A GET or SET answered EOPNOTSUPP (which
//! is also what an unknown family id gets) looks the family up once more
//! before it believes the answer.

use std::net::{Ipv4Addr, Ipv6Addr};

use carpctl_sys::netlink as nl;
use carpctl_sys::{CARP_KEY_LEN, IN6ADDR_CARP_GROUP, INADDR_CARP_GROUP, OSRELDATE_VRRPV3};

use super::{Backend, FreeBsdKernel, os, reply_timing, requested_state, target};
use crate::kernel::freebsd::Syscalls;
use crate::kernel::freebsd::netlink::{self, CarpAttrs, Reply};
use crate::kernel::{Errno, Kernel, KernelError, Result};
use crate::model::{CarpState, Key, PeerUpdate, Protocol, Vhid, VhidStatus, VhidUpdate};

/// The flags snl puts on every request (`snl_create_msg_request`:
/// `NLM_F_REQUEST | NLM_F_ACK`), so that carpctl's requests read like
/// ifconfig's in a trace (§6.3).
const REQUEST: u16 = nl::NLM_F_REQUEST | nl::NLM_F_ACK;

/// The `CARP_NL_KEY` value libifconfig sends (`snl_add_msg_attr_string`):
/// the key's bytes and a NUL when they are fewer than 20. The kernel copies
/// what it gets into a zeroed 20-byte key (`nlattr_get_carp_key`), so no
/// stale tail can survive either way; a 20-byte key goes without its NUL.
/// No key is an empty string, whose first byte 0 means "unchanged".
fn key_value(key: Option<&Key>) -> Vec<u8> {
    let mut v = key.map(|k| k.as_bytes().to_vec()).unwrap_or_default();
    if v.len() < CARP_KEY_LEN {
        v.push(0);
    }
    v
}

impl<S: Syscalls> FreeBsdKernel<S> {
    /// Choose the API: netlink when the family "carp" resolves (14.0+, the
    /// only API on main after 2026-03), else the ioctls (10.0-13.x). Not
    /// cached while carp(4) is missing, so that `load_carp` can change the
    /// answer.
    pub(super) fn backend(&mut self) -> Result<Backend> {
        if let Some(b) = self.backend {
            return Ok(b);
        }
        self.osreldate()?;
        let backend = match self.resolve_family()? {
            Some(_) => Backend::Netlink,
            None => {
                if !self.carp_loaded()? {
                    return Err(KernelError::NotLoaded);
                }
                Backend::Ioctl
            }
        };
        tracing::debug!("carp(4) API: {backend:?}");
        self.backend = Some(backend);
        Ok(backend)
    }

    /// `CTRL_CMD_GETFAMILY` for "carp", flags `NLM_F_REQUEST | NLM_F_ACK`
    /// as snl sends it: the family's reply, then the ack. `None` when the
    /// kernel has no such family (ENOENT: 13.x, or carp.ko not loaded) or no
    /// netlink at all.
    fn resolve_family(&mut self) -> Result<Option<u16>> {
        let (op, tgt) = ("CTRL_CMD_GETFAMILY", "family carp");
        let seq = self.next_seq();
        let req = netlink::getfamily_request(seq, nl::CARP_NL_FAMILY_NAME);
        let replies = match self.transact(op, tgt, (seq, &req), None, true) {
            Ok(replies) => replies,
            // No netlink in this kernel at all (netlink.ko absent): 13.x.
            Err(KernelError::Os { errno, .. })
                if errno == Errno::EAFNOSUPPORT || errno == Errno::EPROTONOSUPPORT =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let mut family = None;
        for r in replies {
            match r {
                Reply::Family { info, .. } if info.name == nl::CARP_NL_FAMILY_NAME => {
                    family = Some(info.id);
                }
                Reply::Error { code, .. } if code != 0 => {
                    let errno = Errno(code.abs());
                    if errno == Errno::ENOENT {
                        return Ok(None);
                    }
                    return Err(KernelError::Os {
                        op,
                        target: tgt.into(),
                        errno,
                    });
                }
                _ => {}
            }
        }
        Ok(family)
    }

    /// The family id for one GET or SET, looked up now. The family gone
    /// means carp.ko was unloaded: `NotLoaded`, and the API is chosen afresh
    /// next time.
    fn family_now(&mut self) -> Result<u16> {
        match self.resolve_family()? {
            Some(id) => Ok(id),
            None => {
                self.backend = None;
                Err(KernelError::NotLoaded)
            }
        }
    }

    /// Run `op` against the family id as it is now. EOPNOTSUPP is also the
    /// answer to an unknown family id (`genl_handle_message`), so before it
    /// is believed the family is looked up again, once: gone, carp.ko was
    /// unloaded (`NotLoaded`); under another id, `op` runs once more with
    /// it; under the same id, the kernel meant it (carp refuses the
    /// interface type, `carp_is_supported_if`).
    fn with_family<T>(&mut self, mut op: impl FnMut(&mut Self, u16) -> Result<T>) -> Result<T> {
        let family = self.family_now()?;
        match op(self, family) {
            Err(
                e @ KernelError::Os {
                    errno: Errno::EOPNOTSUPP,
                    ..
                },
            ) => {
                let again = self.family_now()?;
                if again == family {
                    return Err(e);
                }
                tracing::debug!("carp family id changed from {family} to {again}; retrying");
                op(self, again)
            }
            other => other,
        }
    }

    /// VRRPv3 needs netlink and a kernel from after commit 37115154
    /// (2024-05-08): `__FreeBSD_version` 1500019 or later (§6.6). 1500018
    /// covers kernels from both sides of the commit and 14.x does not have
    /// it (a merge to stable/14 could not be confirmed), so both are
    /// refused; a SET that asks for VRRPv3 is read back anyway.
    pub(super) fn vrrp_capable(&mut self) -> Result<bool> {
        Ok(self.backend()? == Backend::Netlink && self.osreldate()? >= OSRELDATE_VRRPV3)
    }

    /// A GET reply entry in domain terms.
    fn status_from_attrs(ifname: &str, attrs: &CarpAttrs) -> Result<VhidStatus> {
        let op = "CARP_NL_CMD_GET";
        let bad = |detail: String| KernelError::Malformed { op, detail };
        let raw_vhid = attrs
            .vhid
            .ok_or_else(|| bad(format!("reply for {ifname} has no CARP_NL_VHID")))?;
        let vhid = Vhid::new(i64::from(raw_vhid))
            .map_err(|e| bad(format!("reply for {ifname}: CARP_NL_VHID {raw_vhid}: {e}")))?;
        let raw_state = attrs.state.unwrap_or(0);
        let state = CarpState::from_raw(raw_state).ok_or_else(|| {
            bad(format!(
                "{}: CARP_NL_STATE {raw_state} is not 0-2",
                target(vhid, ifname)
            ))
        })?;
        let protocol = match attrs.version {
            None => Protocol::Carp,
            Some(v) => Protocol::from_raw(v).ok_or_else(|| {
                bad(format!(
                    "{}: CARP_NL_VERSION {v} is not 2 or 3",
                    target(vhid, ifname)
                ))
            })?,
        };
        let (advbase, advskew) = reply_timing(
            op,
            vhid,
            ifname,
            ("CARP_NL_ADVBASE", attrs.advbase.unwrap_or(0)),
            ("CARP_NL_ADVSKEW", attrs.advskew.unwrap_or(0)),
        )?;
        Ok(VhidStatus {
            interface: ifname.to_string(),
            vhid,
            state,
            advbase,
            advskew,
            key: attrs.key.as_deref().and_then(Key::from_kernel),
            peer: attrs
                .addr
                .map(Ipv4Addr::from)
                .filter(|a| !a.is_unspecified() && a.octets() != INADDR_CARP_GROUP),
            peer6: attrs
                .addr6
                .map(Ipv6Addr::from)
                .filter(|a| !a.is_unspecified() && a.octets() != IN6ADDR_CARP_GROUP),
            protocol,
            vrrp_priority: attrs.vrrp_priority,
            vrrp_interval: attrs.vrrp_adv_inter,
        })
    }

    /// Netlink GET of one vhid or of all, the family looked up first.
    pub(super) fn nl_get(&mut self, ifname: &str, vhid: Option<Vhid>) -> Result<Vec<VhidStatus>> {
        self.with_family(|k, family| k.nl_get_once(family, ifname, vhid))
    }

    /// One GET, as libifconfig sends it (`_ifconfig_carp_get`): flags
    /// `NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP` (0x305), IFNAME then VHID.
    /// The kernel answers one message per vhid and `NLMSG_DONE` (no ack
    /// after it: `nlmsg_end_dump` suppresses it).
    fn nl_get_once(
        &mut self,
        family: u16,
        ifname: &str,
        vhid: Option<Vhid>,
    ) -> Result<Vec<VhidStatus>> {
        let op = "CARP_NL_CMD_GET";
        let tgt = match vhid {
            Some(v) => target(v, ifname),
            None => ifname.to_string(),
        };
        let attrs = CarpAttrs {
            vhid: vhid.map(|v| u32::from(v.get())),
            ifname: Some(ifname.to_string()),
            ..CarpAttrs::default()
        };
        let seq = self.next_seq();
        let msg = netlink::carp_request(
            family,
            nl::CARP_NL_CMD_GET,
            REQUEST | nl::NLM_F_DUMP,
            seq,
            &attrs,
        );
        let mut out = Vec::new();
        for reply in self.transact(op, &tgt, (seq, &msg), Some(family), true)? {
            match reply {
                Reply::Carp { attrs, .. } => out.push(Self::status_from_attrs(ifname, &attrs)?),
                Reply::Done { code, .. } | Reply::Error { code, .. } if code != 0 => {
                    let errno = Errno(code.abs());
                    // ENOENT: no carp on this interface, or no such vhid.
                    if errno == Errno::ENOENT {
                        return Ok(Vec::new());
                    }
                    return Err(KernelError::Os {
                        op,
                        target: tgt,
                        errno,
                    });
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Netlink SET, read-modify-write over `current` as ifconfig does:
    /// VHID, STATE, ADVBASE, ADVSKEW, IFNAME, ADDR, ADDR6 and KEY always
    /// (`ifconfig_carp_set_info`); VERSION, VRRP_PRIORITY and VRRP_ADV_INTER
    /// only for a VRRPv3 vhid (§6.4: the kernel parses the 1-byte VERSION
    /// into a 4-byte enum, which goes wrong on big-endian hosts; without it a
    /// CARP vhid is what every release makes). A VRRPv3 SET is read back:
    /// a kernel without VRRPv3 skips attributes it does not know and makes
    /// a CARP vhid, which is refused here rather than left unsaid.
    pub(super) fn nl_set(
        &mut self,
        ifname: &str,
        vhid: Vhid,
        current: Option<&VhidStatus>,
        update: &VhidUpdate,
    ) -> Result<()> {
        let tgt = target(vhid, ifname);
        let attrs = self.set_attrs(ifname, vhid, current, update)?;
        self.with_family(|k, family| k.nl_set_once(family, &attrs, &tgt))?;
        if attrs.version == Some(Protocol::Vrrpv3.as_raw()) {
            self.check_vrrp_took(ifname, vhid)?;
        }
        Ok(())
    }

    /// The SET's attributes, or why this kernel cannot take them.
    fn set_attrs(
        &mut self,
        ifname: &str,
        vhid: Vhid,
        current: Option<&VhidStatus>,
        update: &VhidUpdate,
    ) -> Result<CarpAttrs> {
        let tgt = target(vhid, ifname);
        let protocol = update
            .protocol
            .or(current.map(|c| c.protocol))
            .unwrap_or(Protocol::Carp);
        let vrrp_fields = update.vrrp_priority.is_some() || update.vrrp_interval.is_some();
        if (protocol == Protocol::Vrrpv3 || vrrp_fields) && !self.vrrp_capable()? {
            return Err(KernelError::Unsupported(format!(
                "{tgt}: VRRPv3 needs FreeBSD 15.0 or later (__FreeBSD_version {OSRELDATE_VRRPV3}; \
                 this kernel is {})",
                self.osreldate()?
            )));
        }
        if protocol == Protocol::Carp && vrrp_fields {
            return Err(KernelError::Unsupported(format!(
                "{tgt}: a VRRP priority or interval needs a VRRPv3 vhid; this one is CARP"
            )));
        }
        if protocol == Protocol::Vrrpv3 && (update.peer.is_some() || update.peer6.is_some()) {
            return Err(KernelError::Unsupported(format!(
                "{tgt}: FreeBSD ignores unicast peers on a VRRPv3 vhid (carp_nl_set copies them \
                 for CARP only)"
            )));
        }
        let mut attrs = CarpAttrs {
            vhid: Some(u32::from(vhid.get())),
            state: Some(requested_state(update)),
            advbase: Some(i32::from(
                update
                    .advbase
                    .map(|b| b.get())
                    .or(current.map(|c| c.advbase))
                    .unwrap_or(0),
            )),
            advskew: Some(i32::from(
                update
                    .advskew
                    .map(|s| s.get())
                    .or(current.map(|c| c.advskew.get()))
                    .unwrap_or(0),
            )),
            ifname: Some(ifname.to_string()),
            // 0.0.0.0 and :: keep the current peer; the group address goes
            // back to multicast (ifconfig `mcast`/`mcast6`).
            addr: Some(match update.peer {
                Some(PeerUpdate::Unicast(a)) => a.octets(),
                Some(PeerUpdate::Multicast) => INADDR_CARP_GROUP,
                None => [0; 4],
            }),
            addr6: Some(match update.peer6 {
                Some(PeerUpdate::Unicast(a)) => a.octets(),
                Some(PeerUpdate::Multicast) => IN6ADDR_CARP_GROUP,
                None => [0; 16],
            }),
            // The new key, else the current one, as ifconfig re-sends what
            // its GET returned (a key cannot be cleared).
            key: Some(key_value(
                update.key.as_ref().or(current.and_then(|c| c.key.as_ref())),
            )),
            ..CarpAttrs::default()
        };
        if protocol == Protocol::Vrrpv3 {
            attrs.version = Some(protocol.as_raw());
            attrs.vrrp_priority = Some(update.vrrp_priority.unwrap_or(0));
            attrs.vrrp_adv_inter = Some(update.vrrp_interval.unwrap_or(0));
        }
        Ok(attrs)
    }

    /// One SET (flags `NLM_F_REQUEST | NLM_F_ACK`), answered by an ack.
    fn nl_set_once(&mut self, family: u16, attrs: &CarpAttrs, tgt: &str) -> Result<()> {
        let op = "CARP_NL_CMD_SET";
        let seq = self.next_seq();
        let msg = netlink::carp_request(family, nl::CARP_NL_CMD_SET, REQUEST, seq, attrs);
        for reply in self.transact(op, tgt, (seq, &msg), Some(family), true)? {
            if let Reply::Error { code, .. } | Reply::Done { code, .. } = reply {
                if code != 0 {
                    return Err(os(op, tgt)(Errno(code.abs())));
                }
                return Ok(());
            }
        }
        Ok(())
    }

    /// After a VRRPv3 SET: the vhid must be VRRPv3. A kernel without VRRPv3
    /// whose `kern.osreldate` says otherwise (a vendor kernel, a 15-CURRENT
    /// of May 2024) would have made a CARP vhid.
    fn check_vrrp_took(&mut self, ifname: &str, vhid: Vhid) -> Result<()> {
        let tgt = target(vhid, ifname);
        let back = self.nl_get(ifname, Some(vhid))?;
        match back.iter().find(|s| s.vhid == vhid) {
            Some(s) if s.protocol == Protocol::Vrrpv3 => Ok(()),
            Some(_) => Err(KernelError::Unsupported(format!(
                "{tgt}: the kernel ignored CARP_NL_VERSION 3 and made a CARP vhid: its carp(4) \
                 has no VRRPv3 although kern.osreldate is {}. The vhid is left as the kernel \
                 made it (without addresses it sends nothing); remove it or configure it as CARP",
                self.osreldate()?
            ))),
            None => Err(KernelError::Malformed {
                op: "CARP_NL_CMD_GET",
                detail: format!("{tgt}: not found right after the SET that created it"),
            }),
        }
    }
}
