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
}
