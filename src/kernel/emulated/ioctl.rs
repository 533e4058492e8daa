//! ioctl(2) requests at the byte level: decode with the backend's codecs
//! ([`crate::kernel::freebsd::ioctl`]), hand the decoded request to
//! [`super::carp`], copy the result out.
//!
//! Decoding is lenient where the kernel is: a part that does not decode is
//! passed on as `None`, so that the domain layer reports it at the point
//! where FreeBSD would (an undecodable name is no interface, ENXIO; a
//! `carpreq` that cannot be copied in is EFAULT; bad socket addresses in an
//! add are EINVAL after the privilege check; in a delete they mean what
//! `in.c`/`in6.c` make of them, see [`DelAddr`]).

use std::net::IpAddr;

use ipnet::IpNet;

use carpctl_sys::{self as sys, IFNAMSIZ, carpreq};

use super::carp::{DelAddr, GvhOut};
use super::fsm::Event;
use super::state::HostState;
use crate::kernel::Errno;
use crate::kernel::freebsd::ioctl as codec;

/// `sizeof(struct carpreq)`.
const CARPREQ_LEN: usize = 40;

/// What stands for kernel stack bytes in the 14.x SIOCGVH vhid-0 reply:
/// a fixed pattern, so that tests are deterministic and the garbage is
/// recognisable in a hex dump.
pub(super) const STACK_GARBAGE: u8 = 0xa5;

/// Whether a request changes the host (and so counts against an armed
/// failure): by request number, whatever the flavor.
pub(super) fn is_mutating(request: u64) -> bool {
    matches!(
        request,
        sys::SIOCSVH
            | sys::SIOCAIFADDR
            | sys::SIOCAIFADDR_IN6
            | sys::SIOCDIFADDR
            | sys::SIOCDIFADDR_IN6
    )
}

/// `IOCPARM_LEN(com)`: how many bytes `sys_ioctl()` copies in.
fn param_len(request: u64) -> usize {
    ((request >> 16) & sys::IOCPARM_MASK) as usize
}

/// One `carpreq` behind `ifr_data`, as `copyin()` would read it.
fn copyin_carpreq(data: Option<&[u8]>) -> Option<carpreq> {
    data.and_then(|d| codec::decode_carpreqs(d, 1).ok())
        .and_then(|v| v.into_iter().next())
}

pub(super) fn dispatch(
    st: &mut HostState,
    request: u64,
    arg: &mut [u8],
    data: Option<&mut [u8]>,
    ev: &mut Vec<Event>,
) -> Result<(), Errno> {
    // sys_ioctl(): the argument is copied in first; a short one faults.
    if arg.len() < param_len(request) {
        return Err(Errno::EFAULT);
    }
    let ifname = arg
        .get(..IFNAMSIZ)
        .and_then(|raw| codec::decode_ifname(raw).ok());
    let ifname = ifname.as_deref();
    match request {
        sys::SIOCSVH => {
            let req = copyin_carpreq(data.as_deref());
            st.siocsvh(ifname, req.as_ref(), ev)
        }
        sys::SIOCGVH => {
            let req = copyin_carpreq(data.as_deref());
            let out = st.siocgvh(ifname, req.as_ref())?;
            // The request was copied in, so the buffer exists.
            let buf = data.ok_or(Errno::EFAULT)?;
            copyout(buf, &out)
        }
        sys::SIOCAIFADDR => {
            let req = codec::decode_in_aliasreq(arg)
                .ok()
                .map(|(_, net, vhid)| (IpNet::V4(net), vhid));
            st.aifaddr(ifname, req, ev)
        }
        sys::SIOCAIFADDR_IN6 => {
            let req = codec::decode_in6_aliasreq(arg)
                .ok()
                .map(|(_, net, vhid)| (IpNet::V6(net), vhid));
            st.aifaddr(ifname, req, ev)
        }
        sys::SIOCDIFADDR => {
            let target = match codec::decode_ifreq_addr_or_any(arg) {
                Ok((_, Some(a))) => DelAddr::Exact(IpAddr::V4(a)),
                Ok((_, None)) => DelAddr::FirstV4,
                // Only the name can fail here, and then ifname is None too.
                Err(_) => DelAddr::Unmatched,
            };
            st.difaddr(ifname, target, ev)
        }
        sys::SIOCDIFADDR_IN6 => {
            let target = match codec::decode_in6_ifreq_addr(arg) {
                Ok((_, a)) => DelAddr::Exact(IpAddr::V6(a)),
                Err(_) => DelAddr::Unmatched,
            };
            st.difaddr(ifname, target, ev)
        }
        _ => Err(st.unknown_ioctl(ifname)),
    }
}

/// SIOCGVH's `copyout()` to `ifr_data`. A buffer too short for what the
/// kernel copies is EFAULT, as `copyout()` returns.
fn copyout(buf: &mut [u8], out: &GvhOut) -> Result<(), Errno> {
    match out {
        GvhOut::One(r) => codec::encode_carpreqs(&[*r], buf).map_err(|_| Errno::EFAULT),
        GvhOut::PerElement(reqs) => {
            // S13: one copyout per vhid at ifr_data + i * 40; entries that
            // fit are written before the one that faults.
            for (i, r) in reqs.iter().enumerate() {
                let slot = buf
                    .get_mut(i * CARPREQ_LEN..(i + 1) * CARPREQ_LEN)
                    .ok_or(Errno::EFAULT)?;
                codec::encode_carpreqs(&[*r], slot).map_err(|_| Errno::EFAULT)?;
            }
            Ok(())
        }
        GvhOut::Broken { last, count } => {
            // D28/MAIN: copyout(&carpr, ifr_data, carpr_count * 40) from a
            // 40-byte stack variable.
            let region = buf.get_mut(..count * CARPREQ_LEN).ok_or(Errno::EFAULT)?;
            let (first, rest) = region.split_at_mut(CARPREQ_LEN.min(region.len()));
            codec::encode_carpreqs(&[*last], first).map_err(|_| Errno::EFAULT)?;
            rest.fill(STACK_GARBAGE);
            Ok(())
        }
    }
}
