//! [`FreeBsdKernel`]: the [`Kernel`] trait over the byte-level [`Syscalls`].
//!
//! The API is chosen at run time (docs/freebsd-carp.md §6.1): resolve the
//! generic netlink family "carp"; if it exists use netlink (14.0+, the only
//! API on main after 2026-03; [`nl`]), otherwise the SIOCSVH/SIOCGVH ioctls
//! (10.0-13.x; [`siocvh`]). `kern.osreldate` below 1000000 (FreeBSD 9 and
//! older) is refused: the legacy `struct carpreq` sits behind the same ioctl
//! numbers with another layout. Updates are read-modify-write, as ifconfig
//! does (§6.4): a SET replaces advskew and cannot keep it.

use std::net::IpAddr;

use carpctl_sys::OSRELDATE_10_0;
use ipnet::IpNet;
use zerocopy::FromBytes;

use super::netlink::Reply;
use super::{DecodeError, Syscalls, SysctlValue, ifaddrs, ioctl, netlink};
use crate::kernel::{Errno, Kernel, KernelError, Result};
use crate::model::{
    AdvSkew, Api, CarpState, CarpStats, CarpSysctls, DemotionDelta, Interface, KernelInfo, Knob,
    Vhid, VhidRef, VhidStatus, VhidUpdate,
};

mod nl;
mod siocvh;

/// The most datagrams one netlink transaction may take before carpctl gives
/// up waiting for its end (a dump of 255 vhids fits in far fewer).
const MAX_DATAGRAMS: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// The generic netlink family "carp"; its id is looked up per request.
    Netlink,
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

/// `vhid <vhid>@<ifname>` for messages; the vhid may be a raw value the
/// kernel sent (not yet a [`Vhid`]), so this cannot be a [`VhidRef`].
fn target(vhid: impl std::fmt::Display, ifname: &str) -> String {
    format!("vhid {vhid}@{ifname}")
}

/// The byte-sized timing fields of a GET reply, `(name, raw value)` each,
/// as the netlink and SIOCGVH readers both see them: advbase fits a u8
/// (`sc_advbase`), advskew is 0..=254 because the kernel refuses 255 and up
/// (carp_ioctl_set(), sys/netinet/ip_carp.c), so more is a broken reply.
fn reply_timing(
    op: &'static str,
    vhid: Vhid,
    ifname: &str,
    (advbase_name, advbase): (&str, i32),
    (advskew_name, advskew): (&str, i32),
) -> Result<(u8, AdvSkew)> {
    let out_of_range = |name: &str, v: i32| KernelError::Malformed {
        op,
        detail: format!("{}: {name} {v} is out of range", target(vhid, ifname)),
    };
    let advbase = u8::try_from(advbase).map_err(|_| out_of_range(advbase_name, advbase))?;
    let advskew =
        AdvSkew::new(i64::from(advskew)).map_err(|_| out_of_range(advskew_name, advskew))?;
    Ok((advbase, advskew))
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

    pub(crate) fn syscalls(&mut self) -> &mut S {
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
        let (osreldate, osrelease) = self.release()?;
        let api = match self.backend()? {
            Backend::Netlink => Api::Netlink,
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

    fn release(&mut self) -> Result<(i32, String)> {
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
        Ok((osreldate, osrelease))
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
            Backend::Netlink => match self.nl_get(ifname, None) {
                // carp is impossible on this interface (lo0, tun0): the
                // family was looked up again and is still there.
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
            Backend::Netlink => {
                let mut all = self.nl_get(ifname, Some(vhid))?;
                all.retain(|s| s.vhid == vhid);
                Ok(all.into_iter().next())
            }
            Backend::Ioctl => self.ioctl_get(ifname, vhid),
        }
    }

    fn set_vhid(&mut self, ifname: &str, vhid: Vhid, update: &VhidUpdate) -> Result<()> {
        let current = self.vhid(ifname, vhid)?;
        match self.backend()? {
            Backend::Netlink => self.nl_set(ifname, vhid, current.as_ref(), update),
            Backend::Ioctl => self.ioctl_set(ifname, vhid, current.as_ref(), update),
        }
    }

    fn add_address(&mut self, ifname: &str, vhid: Vhid, addr: IpNet) -> Result<()> {
        let tgt = format!("{addr} vhid {}", VhidRef::new(vhid, ifname));
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
        // A write *adds* the value (carp_demote_adj, §7).
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
mod tests;
