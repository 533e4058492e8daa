//! [`FreeBsdKernel`]: the [`Kernel`] trait over the byte-level [`Syscalls`].
//!
//! The API is chosen at run time (reference §17.1): resolve the generic
//! netlink family "carp"; if it exists use netlink (14.0+, the only API on
//! main after 2026-03), otherwise the SIOCSVH/SIOCGVH ioctls (10.0-13.x).
//! `kern.osreldate` below 1000000 (FreeBSD 9 and older) is refused: the
//! legacy `struct carpreq` sits behind the same ioctl numbers with another
//! layout. Updates are read-modify-write, as ifconfig does (§7): a SET
//! replaces advskew and cannot keep it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use carpctl_sys::netlink as nl;
use carpctl_sys::{CARP_KEY_LEN, IN6ADDR_CARP_GROUP, INADDR_CARP_GROUP, OSRELDATE_10_0};
use ipnet::IpNet;
use zerocopy::FromBytes;

use super::netlink::{CarpAttrs, Reply};
use super::{DecodeError, Syscalls, SysctlValue, ifaddrs, ioctl, netlink};
use crate::kernel::{Errno, Kernel, KernelError, Result};
use crate::model::{
    Api, CarpState, CarpStats, CarpSysctls, DemotionDelta, Interface, KernelInfo, Key, Knob,
    PeerUpdate, Protocol, Vhid, VhidStatus, VhidUpdate,
};

/// The most datagrams one netlink transaction may take before carpctl gives
/// up waiting for its end (a dump of 255 vhids fits in far fewer).
const MAX_DATAGRAMS: usize = 4096;

/// `CARP_MAXVHID` entries: what ifconfig 10-13 passes to SIOCGVH vhid 0.
const GET_ALL_CAPACITY: usize = carpctl_sys::CARP_MAXVHID as usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Netlink { family: u16 },
    Ioctl,
}

/// carp(4) on a FreeBSD kernel reached through `S`.
pub struct FreeBsdKernel<S> {
    sys: S,
    seq: u32,
    backend: Option<Backend>,
    osreldate: Option<i32>,
}

fn os(op: &'static str, target: impl Into<String>) -> impl FnOnce(Errno) -> KernelError {
    let target = target.into();
    move |errno| KernelError::Os { op, target, errno }
}

fn malformed(op: &'static str) -> impl FnOnce(DecodeError) -> KernelError {
    move |e| KernelError::Malformed {
        op,
        detail: e.to_string(),
    }
}

fn request(op: &'static str) -> impl FnOnce(DecodeError) -> KernelError {
    move |e| KernelError::Request {
        op,
        detail: e.to_string(),
    }
}

fn target(vhid: impl std::fmt::Display, ifname: &str) -> String {
    format!("vhid {vhid}@{ifname}")
}

impl<S: Syscalls> FreeBsdKernel<S> {
    pub fn new(sys: S) -> Self {
        FreeBsdKernel {
            sys,
            seq: 0,
            backend: None,
            osreldate: None,
        }
    }

    pub fn into_inner(self) -> S {
        self.sys
    }

    pub fn syscalls(&mut self) -> &mut S {
        &mut self.sys
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn sysctl_int(&mut self, name: &'static str) -> Result<i32> {
        match self.sys.sysctl_get(name).map_err(os("sysctl", name))? {
            SysctlValue::Int(v) => Ok(v),
            other => Err(KernelError::Malformed {
                op: "sysctl",
                detail: format!("{name}: expected an int, got {other:?}"),
            }),
        }
    }

    fn osreldate(&mut self) -> Result<i32> {
        if let Some(v) = self.osreldate {
            return Ok(v);
        }
        let v = self.sysctl_int("kern.osreldate")?;
        if v < OSRELDATE_10_0 {
            return Err(KernelError::Unsupported(format!(
                "FreeBSD with kern.osreldate {v} (9.x or older) is not supported: its carp(4) is \
                 the legacy carpN pseudo-interface, whose 36-byte struct carpreq sits behind the \
                 same ioctl numbers with another field order, so every request would be misread. \
                 carpctl needs FreeBSD 10.0 or later."
            )));
        }
        self.osreldate = Some(v);
        Ok(v)
    }

    /// Send one netlink request and collect the replies to it (matching
    /// sequence number) up to the message that ends it: `NLMSG_DONE` or
    /// `NLMSG_ERROR` for dumps and acked requests, or the first reply for
    /// a plain request.
    fn transact(
        &mut self,
        op: &'static str,
        tgt: &str,
        (seq, msg): (u32, &[u8]),
        carp_family: Option<u16>,
        until_done: bool,
    ) -> Result<Vec<Reply>> {
        self.sys.netlink_send(msg).map_err(os(op, tgt))?;
        let mut out = Vec::new();
        for _ in 0..MAX_DATAGRAMS {
            let dgram = self.sys.netlink_recv().map_err(os(op, tgt))?;
            for reply in netlink::decode_replies(&dgram, carp_family).map_err(malformed(op))? {
                let header = match &reply {
                    Reply::Done { header, .. }
                    | Reply::Error { header, .. }
                    | Reply::Family { header, .. }
                    | Reply::Carp { header, .. }
                    | Reply::Other { header } => *header,
                };
                if header.seq != seq {
                    // A late ack of an earlier request (some netlink versions
                    // send one after NLMSG_DONE): not ours.
                    continue;
                }
                let last = matches!(reply, Reply::Done { .. } | Reply::Error { .. })
                    || (!until_done && matches!(reply, Reply::Family { .. }));
                out.push(reply);
                if last {
                    return Ok(out);
                }
            }
        }
        Err(KernelError::Malformed {
            op,
            detail: format!("no end of reply after {MAX_DATAGRAMS} datagrams"),
        })
    }

    /// Resolve the API: netlink family "carp", else the ioctls. Not cached
    /// when carp(4) is missing, so that `load_carp` can change the answer.
    fn backend(&mut self) -> Result<Backend> {
        if let Some(b) = self.backend {
            return Ok(b);
        }
        self.osreldate()?;
        let seq = self.next_seq();
        let req = netlink::getfamily_request(seq, nl::CARP_NL_FAMILY_NAME);
        let found = match self.transact(
            "CTRL_CMD_GETFAMILY",
            "family carp",
            (seq, &req),
            None,
            false,
        ) {
            Ok(replies) => {
                let mut family = None;
                for r in replies {
                    match r {
                        Reply::Family { info, .. } if info.name == nl::CARP_NL_FAMILY_NAME => {
                            family = Some(info.id)
                        }
                        Reply::Error { code, .. } if code != 0 => {
                            let errno = Errno(code.abs());
                            if errno != Errno::ENOENT {
                                return Err(KernelError::Os {
                                    op: "CTRL_CMD_GETFAMILY",
                                    target: "family carp".into(),
                                    errno,
                                });
                            }
                        }
                        _ => {}
                    }
                }
                family
            }
            // No netlink in this kernel at all (netlink.ko absent): 13.x.
            Err(KernelError::Os { errno, .. })
                if errno == Errno::EAFNOSUPPORT || errno == Errno::EPROTONOSUPPORT =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        let backend = match found {
            Some(family) => Backend::Netlink { family },
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

    fn vrrp_capable(&mut self) -> Result<bool> {
        Ok(matches!(self.backend()?, Backend::Netlink { .. })
            && self.osreldate()? >= carpctl_sys::OSRELDATE_15_0)
    }

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
        let small = |name: &str, v: Option<i32>| -> Result<u8> {
            let v = v.unwrap_or(0);
            u8::try_from(v).map_err(|_| {
                bad(format!(
                    "{}: {name} {v} is out of range",
                    target(vhid, ifname)
                ))
            })
        };
        Ok(VhidStatus {
            interface: ifname.to_string(),
            vhid,
            state,
            advbase: small("CARP_NL_ADVBASE", attrs.advbase)?,
            advskew: small("CARP_NL_ADVSKEW", attrs.advskew)?,
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

    fn status_from_carpreq(ifname: &str, req: &carpctl_sys::carpreq) -> Result<VhidStatus> {
        let op = "SIOCGVH";
        let bad = |detail: String| KernelError::Malformed { op, detail };
        let vhid = Vhid::new(i64::from(req.carpr_vhid))
            .map_err(|e| bad(format!("reply for {ifname}: carpr_vhid: {e}")))?;
        let state = u32::try_from(req.carpr_state)
            .ok()
            .and_then(CarpState::from_raw)
            .ok_or_else(|| {
                bad(format!(
                    "{}: carpr_state {} is not 0-2",
                    target(vhid, ifname),
                    req.carpr_state
                ))
            })?;
        let field = |name: &str, v: i32| -> Result<u8> {
            u8::try_from(v).map_err(|_| {
                bad(format!(
                    "{}: {name} {v} is out of range",
                    target(vhid, ifname)
                ))
            })
        };
        Ok(VhidStatus {
            interface: ifname.to_string(),
            vhid,
            state,
            advbase: field("carpr_advbase", req.carpr_advbase)?,
            advskew: field("carpr_advskew", req.carpr_advskew)?,
            key: Key::from_kernel(&req.carpr_key),
            peer: None,
            peer6: None,
            protocol: Protocol::Carp,
            vrrp_priority: None,
            vrrp_interval: None,
        })
    }

    /// Netlink GET (always with `NLM_F_DUMP`, as libifconfig sends it; the
    /// kernel answers one message per vhid and `NLMSG_DONE`).
    fn nl_get(&mut self, family: u16, ifname: &str, vhid: Option<Vhid>) -> Result<Vec<VhidStatus>> {
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
            nl::NLM_F_REQUEST | nl::NLM_F_DUMP,
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

    fn ioctl_get(&mut self, ifname: &str, vhid: Vhid) -> Result<Option<VhidStatus>> {
        let op = "SIOCGVH";
        let tgt = target(vhid, ifname);
        let mut arg = ioctl::carp_ifreq(ifname).map_err(request(op))?;
        let mut data = ioctl::carpreq_get(vhid.get());
        match self
            .sys
            .ioctl(carpctl_sys::SIOCGVH, &mut arg, Some(&mut data))
        {
            Ok(()) => {}
            Err(Errno::ENOENT) => return Ok(None),
            Err(e) => {
                return Err(KernelError::Os {
                    op,
                    target: tgt,
                    errno: e,
                });
            }
        }
        let reqs = ioctl::decode_carpreqs(&data, 1).map_err(malformed(op))?;
        match reqs.first() {
            Some(r) => Self::status_from_carpreq(ifname, r).map(Some),
            None => Ok(None),
        }
    }

    /// All vhids of an interface through the ioctls. SIOCGVH with vhid 0 is
    /// used only below 14.0: from 14.0 it copies kernel stack garbage
    /// (§5.4), so there the vhids come from getifaddrs and are read one by
    /// one.
    fn ioctl_get_all(&mut self, ifname: &str) -> Result<Vec<VhidStatus>> {
        let op = "SIOCGVH";
        if self.osreldate()? >= carpctl_sys::OSRELDATE_14_0 {
            let mut vhids: Vec<Vhid> = self
                .interfaces()?
                .into_iter()
                .filter(|i| i.name == ifname)
                .flat_map(|i| i.addresses.into_iter().filter_map(|a| a.vhid))
                .collect();
            vhids.sort();
            vhids.dedup();
            let mut out = Vec::new();
            for v in vhids {
                out.extend(self.ioctl_get(ifname, v)?);
            }
            return Ok(out);
        }
        let mut arg = ioctl::carp_ifreq(ifname).map_err(request(op))?;
        let mut data = ioctl::carpreq_get_all(GET_ALL_CAPACITY);
        match self
            .sys
            .ioctl(carpctl_sys::SIOCGVH, &mut arg, Some(&mut data))
        {
            Ok(()) => {}
            // No carp on this interface, or carp impossible on it (lo0).
            Err(Errno::ENOENT) | Err(Errno::EOPNOTSUPP) => return Ok(Vec::new()),
            Err(e) => {
                return Err(KernelError::Os {
                    op,
                    target: ifname.to_string(),
                    errno: e,
                });
            }
        }
        let first = ioctl::decode_carpreqs(&data, 1).map_err(malformed(op))?;
        let count = first.first().map_or(0, |r| r.carpr_count);
        let count = usize::try_from(count)
            .ok()
            .filter(|&c| c <= GET_ALL_CAPACITY)
            .ok_or_else(|| KernelError::Malformed {
                op,
                detail: format!("{ifname}: carpr_count {count} is outside 0-{GET_ALL_CAPACITY}"),
            })?;
        ioctl::decode_carpreqs(&data, count)
            .map_err(malformed(op))?
            .iter()
            .map(|r| Self::status_from_carpreq(ifname, r))
            .collect()
    }

    fn nl_set(
        &mut self,
        family: u16,
        ifname: &str,
        vhid: Vhid,
        current: Option<&VhidStatus>,
        update: &VhidUpdate,
    ) -> Result<()> {
        let op = "CARP_NL_CMD_SET";
        let tgt = target(vhid, ifname);
        let vrrp = self.vrrp_capable()?;
        let wants_vrrp = update.protocol == Some(Protocol::Vrrpv3)
            || update.vrrp_priority.is_some()
            || update.vrrp_interval.is_some();
        if wants_vrrp && !vrrp {
            return Err(KernelError::Unsupported(format!(
                "{tgt}: VRRPv3 needs FreeBSD 15.0 or later"
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
                    .or(current.map(|c| c.advskew))
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
            // The whole zero-filled 20 bytes, so no stale tail survives
            // (§7); absent = unchanged (a key cannot be cleared).
            key: update.key.as_ref().map(|k| k.to_kernel().to_vec()),
            ..CarpAttrs::default()
        };
        if vrrp {
            attrs.version = Some(
                update
                    .protocol
                    .or(current.map(|c| c.protocol))
                    .unwrap_or(Protocol::Carp)
                    .as_raw(),
            );
            attrs.vrrp_priority = Some(update.vrrp_priority.unwrap_or(0));
            attrs.vrrp_adv_inter = Some(update.vrrp_interval.unwrap_or(0));
        }
        let seq = self.next_seq();
        let msg = netlink::carp_request(
            family,
            nl::CARP_NL_CMD_SET,
            nl::NLM_F_REQUEST | nl::NLM_F_ACK,
            seq,
            &attrs,
        );
        for reply in self.transact(op, &tgt, (seq, &msg), Some(family), true)? {
            if let Reply::Error { code, .. } | Reply::Done { code, .. } = reply {
                if code != 0 {
                    return Err(KernelError::Os {
                        op,
                        target: tgt,
                        errno: Errno(code.abs()),
                    });
                }
                return Ok(());
            }
        }
        Ok(())
    }

    fn ioctl_set(
        &mut self,
        ifname: &str,
        vhid: Vhid,
        current: Option<&VhidStatus>,
        update: &VhidUpdate,
    ) -> Result<()> {
        let op = "SIOCSVH";
        let tgt = target(vhid, ifname);
        if update.peer.is_some() || update.peer6.is_some() {
            return Err(KernelError::Unsupported(format!(
                "{tgt}: unicast peers need FreeBSD 14.0 or later (netlink)"
            )));
        }
        if update.protocol == Some(Protocol::Vrrpv3)
            || update.vrrp_priority.is_some()
            || update.vrrp_interval.is_some()
        {
            return Err(KernelError::Unsupported(format!(
                "{tgt}: VRRPv3 needs FreeBSD 15.0 or later"
            )));
        }
        let key = update
            .key
            .as_ref()
            .map_or([0u8; CARP_KEY_LEN], Key::to_kernel);
        let mut data = ioctl::carpreq_set(
            vhid.get(),
            requested_state(update),
            update
                .advskew
                .map(|s| s.get())
                .or(current.map(|c| c.advskew))
                .unwrap_or(0),
            update
                .advbase
                .map(|b| b.get())
                .or(current.map(|c| c.advbase))
                .unwrap_or(0),
            &key,
        );
        let mut arg = ioctl::carp_ifreq(ifname).map_err(request(op))?;
        self.sys
            .ioctl(carpctl_sys::SIOCSVH, &mut arg, Some(&mut data))
            .map_err(os(op, tgt))
    }
}

/// `carpr_state` / `CARP_NL_STATE` for an update: 0 = no change; the kernel
/// acts on BACKUP and MASTER only.
fn requested_state(update: &VhidUpdate) -> u32 {
    match update.state {
        Some(s @ (CarpState::Backup | CarpState::Master)) => s.as_raw(),
        _ => 0,
    }
}

impl<S: Syscalls> Kernel for FreeBsdKernel<S> {
    fn info(&mut self) -> Result<KernelInfo> {
        let osreldate = self.osreldate()?;
        let osrelease = match self
            .sys
            .sysctl_get("kern.osrelease")
            .map_err(os("sysctl", "kern.osrelease"))?
        {
            SysctlValue::String(s) => s.trim_end_matches('\0').to_string(),
            SysctlValue::Opaque(b) => String::from_utf8_lossy(&b)
                .trim_end_matches('\0')
                .to_string(),
            SysctlValue::Int(v) => v.to_string(),
        };
        let api = match self.backend()? {
            Backend::Netlink { .. } => Api::Netlink,
            Backend::Ioctl => Api::Ioctl,
        };
        let vrrp = self.vrrp_capable()?;
        Ok(KernelInfo {
            osreldate,
            osrelease,
            api,
            vrrp,
        })
    }

    fn carp_loaded(&mut self) -> Result<bool> {
        self.sys.modfind("carp").map_err(os("modfind", "carp"))
    }

    fn load_carp(&mut self) -> Result<()> {
        match self.sys.kldload("carp") {
            Ok(()) | Err(Errno::EEXIST) => {
                self.backend = None;
                Ok(())
            }
            Err(errno) => Err(KernelError::Os {
                op: "kldload",
                target: "carp".into(),
                errno,
            }),
        }
    }

    fn interfaces(&mut self) -> Result<Vec<Interface>> {
        let raw = self
            .sys
            .getifaddrs()
            .map_err(os("getifaddrs", "all interfaces"))?;
        ifaddrs::decode(&raw).map_err(malformed("getifaddrs"))
    }

    fn vhids(&mut self, ifname: &str) -> Result<Vec<VhidStatus>> {
        match self.backend()? {
            Backend::Netlink { family } => match self.nl_get(family, ifname, None) {
                // carp is impossible on this interface (lo0, tun0).
                Err(KernelError::Os {
                    errno: Errno::EOPNOTSUPP,
                    ..
                }) => Ok(Vec::new()),
                other => other,
            },
            Backend::Ioctl => self.ioctl_get_all(ifname),
        }
    }

    fn vhid(&mut self, ifname: &str, vhid: Vhid) -> Result<Option<VhidStatus>> {
        match self.backend()? {
            Backend::Netlink { family } => {
                let mut all = self.nl_get(family, ifname, Some(vhid))?;
                all.retain(|s| s.vhid == vhid);
                Ok(all.into_iter().next())
            }
            Backend::Ioctl => self.ioctl_get(ifname, vhid),
        }
    }

    fn set_vhid(&mut self, ifname: &str, vhid: Vhid, update: &VhidUpdate) -> Result<()> {
        let current = self.vhid(ifname, vhid)?;
        match self.backend()? {
            Backend::Netlink { family } => {
                self.nl_set(family, ifname, vhid, current.as_ref(), update)
            }
            Backend::Ioctl => self.ioctl_set(ifname, vhid, current.as_ref(), update),
        }
    }

    fn add_address(&mut self, ifname: &str, vhid: Vhid, addr: IpNet) -> Result<()> {
        let tgt = format!("{addr} vhid {vhid}@{ifname}");
        match addr {
            IpNet::V4(net) => {
                let op = "SIOCAIFADDR";
                let mut arg = ioctl::in_aliasreq(ifname, net, vhid.get()).map_err(request(op))?;
                self.sys
                    .ioctl(carpctl_sys::SIOCAIFADDR, &mut arg, None)
                    .map_err(os(op, tgt))
            }
            IpNet::V6(net) => {
                let op = "SIOCAIFADDR_IN6";
                let mut arg = ioctl::in6_aliasreq(ifname, net, vhid.get()).map_err(request(op))?;
                self.sys
                    .ioctl(carpctl_sys::SIOCAIFADDR_IN6, &mut arg, None)
                    .map_err(os(op, tgt))
            }
        }
    }

    fn remove_address(&mut self, ifname: &str, addr: IpAddr) -> Result<()> {
        let tgt = format!("{addr} on {ifname}");
        match addr {
            IpAddr::V4(a) => {
                let op = "SIOCDIFADDR";
                let mut arg = ioctl::ifreq_addr(ifname, a).map_err(request(op))?;
                self.sys
                    .ioctl(carpctl_sys::SIOCDIFADDR, &mut arg, None)
                    .map_err(os(op, tgt))
            }
            IpAddr::V6(a) => {
                let op = "SIOCDIFADDR_IN6";
                let mut arg = ioctl::in6_ifreq_addr(ifname, a).map_err(request(op))?;
                self.sys
                    .ioctl(carpctl_sys::SIOCDIFADDR_IN6, &mut arg, None)
                    .map_err(os(op, tgt))
            }
        }
    }

    fn sysctls(&mut self) -> Result<CarpSysctls> {
        let allow = match self.sysctl_int("net.inet.carp.allow") {
            Err(KernelError::Os {
                errno: Errno::ENOENT,
                ..
            }) => return Err(KernelError::NotLoaded),
            other => other?,
        };
        let dscp = match self.sysctl_int("net.inet.carp.dscp") {
            Ok(v) => Some(v),
            // 10.x has no dscp knob.
            Err(KernelError::Os {
                errno: Errno::ENOENT,
                ..
            }) => None,
            Err(e) => return Err(e),
        };
        Ok(CarpSysctls {
            allow,
            preempt: self.sysctl_int("net.inet.carp.preempt")?,
            log: self.sysctl_int("net.inet.carp.log")?,
            demotion: self.sysctl_int("net.inet.carp.demotion")?,
            ifdown_demotion_factor: self.sysctl_int("net.inet.carp.ifdown_demotion_factor")?,
            senderr_demotion_factor: self.sysctl_int("net.inet.carp.senderr_demotion_factor")?,
            dscp,
        })
    }

    fn set_knob(&mut self, knob: Knob, value: i32) -> Result<()> {
        let name = knob.sysctl();
        self.sys
            .sysctl_set_int(&name, value)
            .map_err(|errno| match errno {
                Errno::ENOENT => KernelError::NotLoaded,
                errno => KernelError::Os {
                    op: "sysctl",
                    target: name.clone(),
                    errno,
                },
            })
    }

    fn adjust_demotion(&mut self, delta: DemotionDelta) -> Result<()> {
        // A write *adds* the value (carp_demote_adj, §10).
        self.sys
            .sysctl_set_int("net.inet.carp.demotion", delta.get())
            .map_err(|errno| match errno {
                Errno::ENOENT => KernelError::NotLoaded,
                errno => KernelError::Os {
                    op: "sysctl",
                    target: "net.inet.carp.demotion".into(),
                    errno,
                },
            })
    }

    fn stats(&mut self) -> Result<CarpStats> {
        let name = "net.inet.carp.stats";
        match self.sys.sysctl_get(name) {
            Ok(SysctlValue::Opaque(bytes)) => carpctl_sys::carpstats::read_from_bytes(&bytes)
                .map(CarpStats::from)
                .map_err(|_| KernelError::Malformed {
                    op: "sysctl",
                    detail: format!("{name}: {} bytes, want 128 (struct carpstats)", bytes.len()),
                }),
            Ok(other) => Err(KernelError::Malformed {
                op: "sysctl",
                detail: format!("{name}: expected struct carpstats, got {other:?}"),
            }),
            Err(Errno::ENOENT) => Err(KernelError::NotLoaded),
            Err(errno) => Err(KernelError::Os {
                op: "sysctl",
                target: name.into(),
                errno,
            }),
        }
    }

    fn host_root(&self) -> Option<std::path::PathBuf> {
        self.sys.host_root()
    }

    fn boot_time(&mut self) -> Result<i64> {
        let name = "kern.boottime";
        match self.sys.sysctl_get(name).map_err(os("sysctl", name))? {
            SysctlValue::Opaque(bytes) => {
                boot_time_from(&bytes).ok_or_else(|| KernelError::Malformed {
                    op: "sysctl",
                    detail: format!(
                        "{name}: {} bytes, want a struct timeval (16 bytes; 8 on i386)",
                        bytes.len()
                    ),
                })
            }
            other => Err(KernelError::Malformed {
                op: "sysctl",
                detail: format!("{name}: expected a struct timeval, got {other:?}"),
            }),
        }
    }
}

/// `tv_sec` of the `struct timeval` that `kern.boottime` returns
/// (`sysctl_kern_boottime()` in `sys/kern/kern_tc.c`: `SYSCTL_OUT(req,
/// &boottime, sizeof(boottime))`, format "S,timeval"). `tv_sec` is a
/// `time_t`, first: 64-bit on every platform but i386, where `time_t` and
/// `suseconds_t` are 32-bit and the structure is 8 bytes (kern_tc.c: "i386
/// is the only arch which uses a 32bits time_t"). Native byte order, as the
/// kernel copies it out.
fn boot_time_from(bytes: &[u8]) -> Option<i64> {
    match bytes.len() {
        16 => Some(i64::from_ne_bytes(bytes.get(..8)?.try_into().ok()?)),
        8 => Some(i64::from(i32::from_ne_bytes(
            bytes.get(..4)?.try_into().ok()?,
        ))),
        _ => None,
    }
}

#[cfg(test)]
mod boot_time_tests {
    use super::boot_time_from;

    #[test]
    fn timeval_of_amd64_and_i386() {
        // amd64: tv_sec = 1_700_000_000 = 0x6553_F100 (i64), tv_usec =
        // 250_000 = 0x3_D090 (i64), little-endian.
        let amd64 = [
            0x00, 0xF1, 0x53, 0x65, 0x00, 0x00, 0x00, 0x00, // tv_sec
            0x90, 0xD0, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, // tv_usec
        ];
        // i386: the same values as two 32-bit fields.
        let i386 = [0x00, 0xF1, 0x53, 0x65, 0x90, 0xD0, 0x03, 0x00];
        if cfg!(target_endian = "little") {
            assert_eq!(boot_time_from(&amd64), Some(1_700_000_000));
            assert_eq!(boot_time_from(&i386), Some(1_700_000_000));
        }
        for bad in [&[][..], &[0u8; 4][..], &[0u8; 12][..], &[0u8; 24][..]] {
            assert_eq!(boot_time_from(bad), None, "{} bytes", bad.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::kernel::freebsd::RawIfaddr;
    use crate::kernel::freebsd::netlink::{FamilyInfo, MsgHeader};

    type Responder = Box<dyn FnMut(&[u8]) -> Result<Vec<Vec<u8>>, Errno>>;

    /// A scripted kernel: fixed sysctls, queued netlink datagrams built per
    /// request by a closure, and a log of every ioctl request number.
    struct Script {
        osreldate: i32,
        carp_module: bool,
        on_netlink: Responder,
        queued: VecDeque<Vec<u8>>,
        ioctls: Vec<u64>,
        ifaddrs: Vec<RawIfaddr>,
    }

    impl Script {
        fn new(
            osreldate: i32,
            on_netlink: impl FnMut(&[u8]) -> Result<Vec<Vec<u8>>, Errno> + 'static,
        ) -> Self {
            Script {
                osreldate,
                carp_module: true,
                on_netlink: Box::new(on_netlink),
                queued: VecDeque::new(),
                ioctls: Vec::new(),
                ifaddrs: Vec::new(),
            }
        }
    }

    impl Syscalls for Script {
        fn ioctl(
            &mut self,
            request: u64,
            _arg: &mut [u8],
            _data: Option<&mut [u8]>,
        ) -> Result<(), Errno> {
            self.ioctls.push(request);
            Err(Errno::ENOENT)
        }
        fn netlink_send(&mut self, msg: &[u8]) -> Result<(), Errno> {
            let replies = (self.on_netlink)(msg)?;
            self.queued.extend(replies);
            Ok(())
        }
        fn netlink_recv(&mut self) -> Result<Vec<u8>, Errno> {
            self.queued
                .pop_front()
                .ok_or(Errno(carpctl_sys::errno::EAGAIN))
        }
        fn sysctl_get(&mut self, name: &str) -> Result<SysctlValue, Errno> {
            match name {
                "kern.osreldate" => Ok(SysctlValue::Int(self.osreldate)),
                "kern.osrelease" => Ok(SysctlValue::String("14.1-RELEASE".into())),
                "net.inet.carp.stats" => Ok(SysctlValue::Opaque(vec![0; 100])),
                _ => Err(Errno::ENOENT),
            }
        }
        fn sysctl_set_int(&mut self, _name: &str, _value: i32) -> Result<(), Errno> {
            Err(Errno::EPERM)
        }
        fn modfind(&mut self, _module: &str) -> Result<bool, Errno> {
            Ok(self.carp_module)
        }
        fn kldload(&mut self, _file: &str) -> Result<(), Errno> {
            Ok(())
        }
        fn getifaddrs(&mut self) -> Result<Vec<RawIfaddr>, Errno> {
            Ok(self.ifaddrs.clone())
        }
    }

    const FAMILY: u16 = 0x20;

    fn header_of(msg: &[u8]) -> MsgHeader {
        let u32_at = |o: usize| u32::from_ne_bytes([msg[o], msg[o + 1], msg[o + 2], msg[o + 3]]);
        MsgHeader {
            len: u32_at(0),
            msg_type: u16::from_ne_bytes([msg[4], msg[5]]),
            flags: u16::from_ne_bytes([msg[6], msg[7]]),
            seq: u32_at(8),
            pid: 0,
        }
    }

    /// nlctrl knows "carp"; GET answers with `entries` then DONE.
    fn netlink_14(entries: Vec<CarpAttrs>) -> impl FnMut(&[u8]) -> Result<Vec<Vec<u8>>, Errno> {
        move |msg| {
            let h = header_of(msg);
            if h.msg_type == nl::GENL_ID_CTRL {
                let info = FamilyInfo {
                    id: FAMILY,
                    name: "carp".into(),
                    version: 2,
                    ..FamilyInfo::default()
                };
                return Ok(vec![netlink::family_reply(h.seq, 0, &info)]);
            }
            let mut dgram = Vec::new();
            for e in &entries {
                dgram.extend(netlink::carp_reply(FAMILY, h.seq, 0, e));
            }
            dgram.extend(netlink::done_message(h.seq, 0, 0));
            Ok(vec![dgram])
        }
    }

    fn entry(vhid: u32) -> CarpAttrs {
        CarpAttrs {
            vhid: Some(vhid),
            state: Some(1),
            advbase: Some(1),
            advskew: Some(100),
            addr: Some(INADDR_CARP_GROUP),
            addr6: Some(IN6ADDR_CARP_GROUP),
            ..CarpAttrs::default()
        }
    }

    #[test]
    fn freebsd_9_is_refused_with_the_reason() {
        let mut k = FreeBsdKernel::new(Script::new(902000, netlink_14(vec![])));
        let err = k.info().unwrap_err().to_string();
        assert!(
            err.contains("902000") && err.contains("36-byte") && err.contains("10.0"),
            "{err}"
        );
        assert!(k.vhids("em0").is_err());
        assert!(
            k.sys.ioctls.is_empty(),
            "no request may reach a <= 9 kernel"
        );
    }

    #[test]
    fn netlink_dump_decodes_entries_and_maps_the_group_to_multicast() {
        let mut k = FreeBsdKernel::new(Script::new(1401000, netlink_14(vec![entry(1), entry(2)])));
        assert_eq!(k.info().unwrap().api, Api::Netlink);
        let v = k.vhids("em0").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].vhid.get(), 2);
        assert_eq!(v[0].state, CarpState::Backup);
        assert_eq!(v[0].advskew, 100);
        assert_eq!(v[0].peer, None);
        assert_eq!(v[0].peer6, None);
        assert!(k.sys.ioctls.is_empty());
    }

    #[test]
    fn replies_with_another_sequence_number_are_skipped() {
        let mut inner = netlink_14(vec![entry(7)]);
        let script = Script::new(1401000, move |msg: &[u8]| {
            let mut out = inner(msg)?;
            // A stale ack of an earlier request arrives first.
            let stale = MsgHeader {
                seq: 999,
                ..header_of(msg)
            };
            out.insert(0, netlink::error_message(999, 0, 0, &stale));
            Ok(out)
        });
        let mut k = FreeBsdKernel::new(script);
        let v = k.vhids("em0").unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].vhid.get(), 7);
    }

    #[test]
    fn garbage_truncated_and_endless_replies_are_errors_not_panics() {
        // Garbage after the family lookup.
        let mut inner = netlink_14(vec![]);
        let mut k = FreeBsdKernel::new(Script::new(1401000, move |msg: &[u8]| {
            let h = header_of(msg);
            if h.msg_type == nl::GENL_ID_CTRL {
                return inner(msg);
            }
            Ok(vec![vec![0xde, 0xad, 0xbe, 0xef, 1, 2, 3]])
        }));
        let err = k.vhids("em0").unwrap_err();
        assert!(
            matches!(
                err,
                KernelError::Malformed {
                    op: "CARP_NL_CMD_GET",
                    ..
                }
            ),
            "{err}"
        );

        // A reply cut in the middle of an entry.
        let mut inner = netlink_14(vec![entry(1)]);
        let mut k = FreeBsdKernel::new(Script::new(1401000, move |msg: &[u8]| {
            let mut out = inner(msg)?;
            if header_of(msg).msg_type != nl::GENL_ID_CTRL {
                let d = &mut out[0];
                d.truncate(30);
            }
            Ok(out)
        }));
        assert!(matches!(k.vhids("em0"), Err(KernelError::Malformed { .. })));

        // An entry with a vhid of 0 and one with state 9.
        for bad in [
            CarpAttrs {
                vhid: Some(0),
                ..entry(1)
            },
            CarpAttrs {
                state: Some(9),
                ..entry(1)
            },
        ] {
            let mut k = FreeBsdKernel::new(Script::new(1401000, netlink_14(vec![bad])));
            let err = k.vhids("em0").unwrap_err().to_string();
            assert!(err.contains("malformed"), "{err}");
        }

        // No DONE ever: the kernel side queue runs dry, which is an error.
        let mut inner = netlink_14(vec![]);
        let mut k = FreeBsdKernel::new(Script::new(1401000, move |msg: &[u8]| {
            let h = header_of(msg);
            if h.msg_type == nl::GENL_ID_CTRL {
                return inner(msg);
            }
            Ok(vec![netlink::carp_reply(FAMILY, h.seq, 0, &entry(1))])
        }));
        assert!(k.vhids("em0").is_err());
    }

    #[test]
    fn enoent_from_the_dump_means_no_vhids() {
        let mut k = FreeBsdKernel::new(Script::new(1401000, |msg: &[u8]| {
            let h = header_of(msg);
            if h.msg_type == nl::GENL_ID_CTRL {
                let info = FamilyInfo {
                    id: FAMILY,
                    name: "carp".into(),
                    ..FamilyInfo::default()
                };
                return Ok(vec![netlink::family_reply(h.seq, 0, &info)]);
            }
            Ok(vec![netlink::done_message(
                h.seq,
                0,
                carpctl_sys::errno::ENOENT,
            )])
        }));
        assert_eq!(k.vhids("em0").unwrap(), vec![]);
        assert_eq!(k.vhid("em0", Vhid::new(3).unwrap()).unwrap(), None);
    }

    #[test]
    fn no_carp_family_and_no_module_is_not_loaded() {
        let unknown_family = |msg: &[u8]| {
            let h = header_of(msg);
            Ok(vec![netlink::error_message(
                h.seq,
                0,
                -carpctl_sys::errno::ENOENT,
                &h,
            )])
        };
        let mut script = Script::new(1401000, unknown_family);
        script.carp_module = false;
        let mut k = FreeBsdKernel::new(script);
        assert!(matches!(k.vhids("em0"), Err(KernelError::NotLoaded)));
    }

    #[test]
    fn ioctl_fallback_on_14_never_uses_siocgvh_vhid_0() {
        // A 14.x kernel whose netlink family cannot be resolved but carp is
        // loaded: enumerate through getifaddrs and per-vhid SIOCGVH (§5.4).
        let unknown_family = |msg: &[u8]| {
            let h = header_of(msg);
            Ok(vec![netlink::error_message(
                h.seq,
                0,
                -carpctl_sys::errno::ENOENT,
                &h,
            )])
        };
        let mut script = Script::new(1401000, unknown_family);
        script.ifaddrs = vec![RawIfaddr {
            name: "em0".into(),
            flags: carpctl_sys::IFF_UP | carpctl_sys::IFF_MULTICAST,
            addr: Some(ifaddrs::sockaddr_bytes("192.0.2.1".parse().unwrap())),
            netmask: Some(ifaddrs::netmask_bytes("192.0.2.1/32".parse().unwrap())),
            data: Some(ifaddrs::if_data_bytes(
                carpctl_sys::IFT_ETHER,
                carpctl_sys::LINK_STATE_UP,
                4,
            )),
        }];
        let mut k = FreeBsdKernel::new(script);
        assert_eq!(k.info().unwrap().api, Api::Ioctl);
        assert_eq!(k.vhids("em0").unwrap(), vec![]);
        // Exactly one SIOCGVH, for vhid 4 (the script answers ENOENT).
        assert_eq!(k.sys.ioctls, vec![carpctl_sys::SIOCGVH]);
    }

    #[test]
    fn stats_of_the_wrong_size_are_malformed() {
        let mut k = FreeBsdKernel::new(Script::new(1401000, netlink_14(vec![])));
        let err = k.stats().unwrap_err().to_string();
        assert!(err.contains("100 bytes, want 128"), "{err}");
    }

    #[test]
    fn bad_interface_names_are_request_errors() {
        let mut k = FreeBsdKernel::new(Script::new(1401000, netlink_14(vec![])));
        let err = k
            .add_address(
                "a-very-long-interface-name",
                Vhid::new(1).unwrap(),
                "192.0.2.1/32".parse().unwrap(),
            )
            .unwrap_err();
        assert!(
            matches!(
                err,
                KernelError::Request {
                    op: "SIOCAIFADDR",
                    ..
                }
            ),
            "{err}"
        );
        assert!(k.sys.ioctls.is_empty());
    }
}
