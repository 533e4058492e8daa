//! The ioctl requests carpctl sends, as the exact bytes FreeBSD receives:
//! `struct carpreq` behind `ifr_data` for SIOCSVH/SIOCGVH (10.0-13.x;
//! docs/freebsd-carp.md §3.1, §4), and the address requests SIOCAIFADDR (`in_aliasreq`),
//! SIOCAIFADDR_IN6 (`in6_aliasreq`), SIOCDIFADDR (`ifreq`) and
//! SIOCDIFADDR_IN6 (`in6_ifreq`) (§3.1, §5.1).
//!
//! Encoders for the backend and decoders for the emulated kernel; all pure.
//! Structures go to and from bytes through zerocopy on the `#[repr(C)]`
//! mirrors in `carpctl-sys`, whose layouts are pinned there by compile-time
//! asserts. Integers are in host byte order, as the kernel on the same host
//! reads them; the byte-exact tests spell out the amd64 (little-endian) bytes.
//!
//! Decoders are strict: a wrong size, family or `sin_len` is an error that
//! names the structure and the field. The kernel's own reaction to such input
//! (an errno, or the quirks documented on each decoder) is the emulated
//! kernel's business.

use std::mem::{offset_of, size_of};
use std::net::{Ipv4Addr, Ipv6Addr};

use carpctl_sys::{
    AF_INET, AF_INET6, CARP_KEY_LEN, IFNAMSIZ, ND6_INFINITE_LIFETIME, carpreq, ifreq, in_aliasreq,
    in6_addrlifetime32, in6_addrlifetime64, in6_aliasreq32, in6_aliasreq64, in6_ifreq, sockaddr_in,
    sockaddr_in6,
};
use ipnet::{Ipv4Net, Ipv6Net};
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

use super::DecodeError;
use crate::model::IfName;

/// `sizeof(struct carpreq)`: 40.
pub(crate) const CARPREQ_SIZE: usize = size_of::<carpreq>();
/// `sizeof(struct sockaddr_in)` (16): the only `sin_len` the kernel accepts
/// for an address (`sys/netinet/in.c` `in_aifaddr_ioctl`).
const SIN_LEN: u8 = size_of::<sockaddr_in>() as u8;
/// `sizeof(struct sockaddr_in6)` (28): likewise `sin6_len`
/// (`sys/netinet6/in6.c` `in6_validate_ifra`).
const SIN6_LEN: u8 = size_of::<sockaddr_in6>() as u8;

const _: () = {
    assert!(CARPREQ_SIZE == 40);
    assert!(SIN_LEN == 16);
    assert!(SIN6_LEN == 28);
};

// ---------------------------------------------------------------------------
// Interface names
// ---------------------------------------------------------------------------

/// An interface name as `ifr_name`: at most 15 bytes, NUL-padded to 16.
/// Only the kernel's rule applies ([`IfName::check_kernel`]): the name may
/// come from `getifaddrs(3)` and be one carpctl would not configure.
pub(crate) fn ifname(name: &str) -> Result<[u8; IFNAMSIZ], DecodeError> {
    let bytes = name.as_bytes();
    IfName::check_kernel(bytes)
        .map_err(|e| DecodeError::new("ifr_name", format!("{name:?}: {e}")))?;
    let mut out = [0u8; IFNAMSIZ];
    for (dst, src) in out.iter_mut().zip(bytes) {
        *dst = *src;
    }
    Ok(out)
}

/// The interface name in a `[u8; 16]` field (up to the first NUL).
pub fn decode_ifname(raw: &[u8]) -> Result<String, DecodeError> {
    let field = raw.get(..IFNAMSIZ).unwrap_or(raw);
    let Some(nul) = field.iter().position(|&b| b == 0) else {
        return Err(DecodeError::new(
            "ifr_name",
            format!("no NUL terminator within the first {} bytes", field.len()),
        ));
    };
    let name = field.get(..nul).unwrap_or_default();
    std::str::from_utf8(name).map(str::to_owned).map_err(|e| {
        DecodeError::new(
            "ifr_name",
            format!(
                "interface name is not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

// ---------------------------------------------------------------------------
// SIOCSVH / SIOCGVH
// ---------------------------------------------------------------------------

/// The `struct ifreq` for SIOCSVH/SIOCGVH: the name; `ifr_data` left zero
/// (the system-call layer stores the pointer to the carpreq buffer).
pub(crate) fn carp_ifreq(name: &str) -> Result<[u8; 32], DecodeError> {
    // ifr_name is the *parent* interface ("em0"), 10.0+ (docs/freebsd-carp.md §4.2).
    let req = ifreq {
        ifr_name: ifname(name)?,
        ifr_ifru: [0; 16],
    };
    Ok(zerocopy::transmute!(req))
}

/// A `carpreq` for SIOCSVH: every field written (read-modify-write happens
/// above), `carpr_count` 0, the key zero-filled to 20 bytes.
pub(crate) fn carpreq_set(
    vhid: u8,
    state: u32,
    advskew: u8,
    advbase: u8,
    key: &[u8; CARP_KEY_LEN],
) -> [u8; 40] {
    let req = carpreq {
        // carp_ioctl_set ignores carpr_count (docs/freebsd-carp.md §4.3).
        carpr_count: 0,
        carpr_vhid: i32::from(vhid),
        // `int` in C: the bits go through unchanged, as a C caller's would.
        // The kernel acts only on 1 (BACKUP) and 2 (MASTER).
        carpr_state: state.cast_signed(),
        // advskew is always applied; advbase 0 means "keep" (§4.3).
        carpr_advskew: i32::from(advskew),
        carpr_advbase: i32::from(advbase),
        // All 20 bytes are copied; the caller's key is already NUL-padded,
        // so no stale tail survives (unlike ifconfig's strlcpy, §4.5).
        carpr_key: *key,
    };
    zerocopy::transmute!(req)
}

/// A `carpreq` for SIOCGVH of one vhid (`carpr_count` 1), as ifconfig sends.
pub fn carpreq_get(vhid: u8) -> [u8; 40] {
    // IFC13 (sbin/ifconfig/carp.c, 10.x-13.x): `carpr.carpr_vhid = vhid;
    // carpr.carpr_count = 1;` then SIOCGVH. carp_ioctl_get refuses a count
    // below 1 with EMSGSIZE (docs/freebsd-carp.md §4.4).
    let req = carpreq {
        carpr_count: 1,
        carpr_vhid: i32::from(vhid),
        ..carpreq::default()
    };
    zerocopy::transmute!(req)
}

/// A buffer of `capacity` zeroed `carpreq`s for SIOCGVH with vhid 0 (all
/// vhids), element 0's `carpr_count` = capacity. Only valid on 13.x: on
/// 14.x and later this returns kernel stack garbage (docs/freebsd-carp.md §4.4).
///
/// `carpr_count` is an `int`; a capacity above `i32::MAX` (a buffer of more
/// than 80 GiB) is announced as `i32::MAX`, never more than the buffer holds.
pub fn carpreq_get_all(capacity: usize) -> Vec<u8> {
    let mut buf = vec![0u8; capacity.saturating_mul(CARPREQ_SIZE)];
    let head = carpreq {
        carpr_count: i32::try_from(capacity).unwrap_or(i32::MAX),
        carpr_vhid: 0,
        ..carpreq::default()
    };
    // Fails only when capacity is 0: then there is no element 0 to fill.
    let _ = head.write_to_prefix(&mut buf);
    buf
}

/// Decode `count` consecutive `carpreq`s from `buf` (a SIOCGVH reply, or a
/// request on the emulated side). Fails when `buf` is shorter than needed.
pub fn decode_carpreqs(buf: &[u8], count: usize) -> Result<Vec<carpreq>, DecodeError> {
    let body = carpreq_span(buf.len(), count).and_then(|need| buf.get(..need)).ok_or_else(|| {
        DecodeError::new(
            "carpreq",
            format!(
                "buffer of {} bytes holds {} whole carpreq(s) of {CARPREQ_SIZE} bytes, {count} expected",
                buf.len(),
                buf.len() / CARPREQ_SIZE
            ),
        )
    })?;
    body.chunks_exact(CARPREQ_SIZE)
        .enumerate()
        .map(|(i, chunk)| {
            carpreq::read_from_bytes(chunk).map_err(|_| {
                DecodeError::new(
                    "carpreq",
                    format!("element {i} at offset {} is not 40 bytes", i * CARPREQ_SIZE),
                )
            })
        })
        .collect()
}

/// Write `reqs` back into `buf` (the emulated kernel's copyout). Fails when
/// `buf` is too short.
pub(crate) fn encode_carpreqs(reqs: &[carpreq], buf: &mut [u8]) -> Result<(), DecodeError> {
    let len = buf.len();
    let body = carpreq_span(len, reqs.len())
        .and_then(|need| buf.get_mut(..need))
        .ok_or_else(|| {
            DecodeError::new(
                "carpreq",
                format!(
                    "buffer of {len} bytes cannot hold {} carpreq(s) of {CARPREQ_SIZE} bytes",
                    reqs.len()
                ),
            )
        })?;
    for (i, (req, chunk)) in reqs
        .iter()
        .zip(body.chunks_exact_mut(CARPREQ_SIZE))
        .enumerate()
    {
        req.write_to(chunk).map_err(|_| {
            DecodeError::new(
                "carpreq",
                format!("element {i} at offset {} is not 40 bytes", i * CARPREQ_SIZE),
            )
        })?;
    }
    Ok(())
}

/// `count × 40` when it fits in `len` bytes.
fn carpreq_span(len: usize, count: usize) -> Option<usize> {
    count.checked_mul(CARPREQ_SIZE).filter(|&need| need <= len)
}

/// Zero `carpr_key` of every whole `carpreq` in `buf` (for the wire trace).
pub(crate) fn redact_carpreq_keys(buf: &mut [u8]) {
    const KEY: usize = offset_of!(carpreq, carpr_key);
    for chunk in buf.chunks_exact_mut(CARPREQ_SIZE) {
        if let Some(key) = chunk.get_mut(KEY..KEY + CARP_KEY_LEN) {
            key.fill(0);
        }
    }
}

// ---------------------------------------------------------------------------
// Address requests: encoders
// ---------------------------------------------------------------------------

fn sin(addr: Ipv4Addr) -> sockaddr_in {
    sockaddr_in {
        sin_len: SIN_LEN,
        sin_family: AF_INET,
        sin_addr: addr.octets(),
        ..sockaddr_in::default()
    }
}

fn sin6(addr: Ipv6Addr) -> sockaddr_in6 {
    sockaddr_in6 {
        sin6_len: SIN6_LEN,
        sin6_family: AF_INET6,
        sin6_addr: addr.octets(),
        ..sockaddr_in6::default()
    }
}

/// A link-local address needs its scope zone (the interface) in
/// `sin6_scope_id`, or embedded KAME-style in bytes 2-3 of the address,
/// before the kernel accepts it; carpctl does not build either form yet.
fn refuse_link_local(what: &'static str, addr: Ipv6Addr) -> Result<(), DecodeError> {
    if addr.is_unicast_link_local() {
        return Err(DecodeError::new(
            what,
            format!("{addr}: link-local VIPs are not supported (fe80::/10 needs a scope zone)"),
        ));
    }
    Ok(())
}

/// `struct in_aliasreq` for SIOCAIFADDR: address, mask from the prefix,
/// broadcast left zero (the kernel derives it), `ifra_vhid`.
pub fn in_aliasreq(name: &str, net: Ipv4Net, vhid: u8) -> Result<[u8; 68], DecodeError> {
    let req = in_aliasreq {
        ifra_name: ifname(name)?,
        ifra_addr: sin(net.addr()),
        // sys/netinet/in.c in_aifaddr_ioctl(): a broadcast address with
        // sin_len 0 is "not supplied"; on an IFF_BROADCAST interface the
        // kernel then sets ia_broadaddr = subnet | ~mask (255.255.255.255 for
        // a /31). Leaving it zero lets the kernel compute it.
        ifra_broadaddr: sockaddr_in::default(),
        // With sin_len 16 and AF_INET the mask is taken as given; a zero
        // sin_len would select the historical classful default instead.
        ifra_mask: sin(net.netmask()),
        // Only SIOCAIFADDR (not the 9.x OSIOCAIFADDR) reads ifra_vhid (§5.1).
        ifra_vhid: i32::from(vhid),
    };
    Ok(zerocopy::transmute!(req))
}

/// A layout of `struct in6_aliasreq`: the fields carpctl writes and reads,
/// whatever the width of `time_t` (docs/freebsd-carp.md §3: 136 bytes where
/// it is 64-bit, 124 on i386). Implemented for both of carpctl-sys's mirrors,
/// so that i386's bytes can be encoded and decoded on any host.
pub(crate) trait In6AliasReqLayout:
    FromBytes + IntoBytes + Immutable + KnownLayout + Copy
{
    /// The structure with every field given and the lifetimes infinite.
    fn build(
        ifra_name: [u8; IFNAMSIZ],
        ifra_addr: sockaddr_in6,
        ifra_prefixmask: sockaddr_in6,
        ifra_vhid: i32,
    ) -> Self;
    /// `ifra_name`, `ifra_addr`, `ifra_prefixmask`, `ifra_vhid`.
    fn parts(&self) -> ([u8; IFNAMSIZ], sockaddr_in6, sockaddr_in6, i32);
}

macro_rules! in6_aliasreq_layout {
    ($req:ty, $life:ident) => {
        impl In6AliasReqLayout for $req {
            fn build(
                ifra_name: [u8; IFNAMSIZ],
                ifra_addr: sockaddr_in6,
                ifra_prefixmask: sockaddr_in6,
                ifra_vhid: i32,
            ) -> Self {
                Self {
                    ifra_name,
                    ifra_addr,
                    // Only meaningful on point-to-point interfaces.
                    ifra_dstaddr: sockaddr_in6::default(),
                    ifra_prefixmask,
                    ifra_flags: 0,
                    // sbin/ifconfig/af_inet6.c: `in6_addreq = { .ifra_flags =
                    // 0, .ifra_lifetime = { 0, 0, ND6_INFINITE_LIFETIME,
                    // ND6_INFINITE_LIFETIME } }` (the same in the 9.x file and
                    // in the WITHOUT_NETLINK path of the netlink-era file): a
                    // static address.
                    ifra_lifetime: $life {
                        ia6t_expire: 0,
                        ia6t_preferred: 0,
                        ia6t_vltime: ND6_INFINITE_LIFETIME,
                        ia6t_pltime: ND6_INFINITE_LIFETIME,
                    },
                    ifra_vhid,
                    _pad: Default::default(),
                }
            }
            fn parts(&self) -> ([u8; IFNAMSIZ], sockaddr_in6, sockaddr_in6, i32) {
                (
                    self.ifra_name,
                    self.ifra_addr,
                    self.ifra_prefixmask,
                    self.ifra_vhid,
                )
            }
        }
    };
}

in6_aliasreq_layout!(in6_aliasreq64, in6_addrlifetime64);
in6_aliasreq_layout!(in6_aliasreq32, in6_addrlifetime32);

// The fields read through `parts` sit at the same offsets in both layouts;
// only what follows `ifra_flags` moves.
const _: () = {
    assert!(offset_of!(in6_aliasreq64, ifra_addr) == offset_of!(in6_aliasreq32, ifra_addr));
    assert!(
        offset_of!(in6_aliasreq64, ifra_prefixmask) == offset_of!(in6_aliasreq32, ifra_prefixmask)
    );
};

/// `struct in6_aliasreq` for SIOCAIFADDR_IN6, in this target's layout: see
/// [`in6_aliasreq_as`].
pub fn in6_aliasreq(name: &str, net: Ipv6Net, vhid: u8) -> Result<Vec<u8>, DecodeError> {
    in6_aliasreq_as::<carpctl_sys::in6_aliasreq>(name, net, vhid)
}

/// `struct in6_aliasreq` for SIOCAIFADDR_IN6 in layout `T`: address, prefix
/// mask, infinite lifetimes (`ND6_INFINITE_LIFETIME`) as ifconfig sets them,
/// `ifra_vhid`.
///
/// Refused: link-local addresses (fe80::/10, not supported yet: they need a
/// scope zone) and a prefix length of 0, which the kernel rejects with EINVAL
/// (`sys/netinet6/in6.c` `in6_validate_ifra`: `plen <= 0`).
pub(crate) fn in6_aliasreq_as<T: In6AliasReqLayout>(
    name: &str,
    net: Ipv6Net,
    vhid: u8,
) -> Result<Vec<u8>, DecodeError> {
    let ifra_name = ifname(name)?;
    refuse_link_local("in6_aliasreq", net.addr())?;
    if net.prefix_len() == 0 {
        return Err(DecodeError::new(
            "in6_aliasreq",
            format!("{net}: prefix length 0 is refused by the kernel (in6_validate_ifra)"),
        ));
    }
    // in6_validate_ifra() does not check the mask's family ("netmask does
    // not carry fields other than sin6_len"); ifconfig's ioctl path leaves
    // it 0, the kernel's own in6_prepare_ifra() sets AF_INET6. We follow
    // the kernel.
    let req = T::build(
        ifra_name,
        sin6(net.addr()),
        sin6(net.netmask()),
        i32::from(vhid),
    );
    Ok(req.as_bytes().to_vec())
}

/// `struct ifreq` for SIOCDIFADDR: `ifru_addr` = the `sockaddr_in`.
pub fn ifreq_addr(name: &str, addr: Ipv4Addr) -> Result<[u8; 32], DecodeError> {
    let req = ifreq {
        ifr_name: ifname(name)?,
        ifr_ifru: zerocopy::transmute!(sin(addr)),
    };
    Ok(zerocopy::transmute!(req))
}

/// `struct in6_ifreq` for SIOCDIFADDR_IN6: `ifru_addr` = the `sockaddr_in6`.
/// Link-local addresses are refused, as in [`in6_aliasreq()`].
pub fn in6_ifreq_addr(name: &str, addr: Ipv6Addr) -> Result<Vec<u8>, DecodeError> {
    let mut req = in6_ifreq {
        ifr_name: ifname(name)?,
        ..in6_ifreq::new_zeroed()
    };
    refuse_link_local("in6_ifreq", addr)?;
    sin6(addr)
        .write_to_prefix(&mut req.ifr_ifru)
        .map_err(|_| DecodeError::new("in6_ifreq", "ifr_ifru is smaller than a sockaddr_in6"))?;
    Ok(req.as_bytes().to_vec())
}

// ---------------------------------------------------------------------------
// Address requests: decoders (the emulated kernel's side)
// ---------------------------------------------------------------------------

/// Read a fixed-size request from the front of `buf`. The kernel copies
/// exactly `IOCPARM_LEN(cmd)` bytes, so bytes beyond the structure are not
/// part of the request and are ignored.
fn read_struct<T: FromBytes>(what: &'static str, buf: &[u8]) -> Result<T, DecodeError> {
    T::read_from_prefix(buf).map(|(v, _)| v).map_err(|_| {
        DecodeError::new(
            what,
            format!(
                "{} bytes, need {} (sizeof(struct {what}))",
                buf.len(),
                size_of::<T>()
            ),
        )
    })
}

/// The address of a `sockaddr_in` that must be present: `sin_len` 16 and
/// `AF_INET`, as `in_aifaddr_ioctl` requires of `ifra_addr` (EINVAL).
fn sin_addr(
    what: &'static str,
    field: &str,
    offset: usize,
    sa: &sockaddr_in,
) -> Result<Ipv4Addr, DecodeError> {
    check_sin_header(what, field, offset, sa)?;
    Ok(Ipv4Addr::from(sa.sin_addr))
}

fn check_sin_header(
    what: &'static str,
    field: &str,
    offset: usize,
    sa: &sockaddr_in,
) -> Result<(), DecodeError> {
    if sa.sin_len != SIN_LEN {
        return Err(DecodeError::new(
            what,
            format!(
                "{field} (offset {offset}): sin_len {}, expected {SIN_LEN}",
                sa.sin_len
            ),
        ));
    }
    if sa.sin_family != AF_INET {
        return Err(DecodeError::new(
            what,
            format!(
                "{field} (offset {}): sin_family {}, expected AF_INET ({AF_INET})",
                offset + 1,
                sa.sin_family
            ),
        ));
    }
    Ok(())
}

fn sin6_addr(
    what: &'static str,
    field: &str,
    offset: usize,
    sa: &sockaddr_in6,
) -> Result<Ipv6Addr, DecodeError> {
    if sa.sin6_len != SIN6_LEN {
        return Err(DecodeError::new(
            what,
            format!(
                "{field} (offset {offset}): sin6_len {}, expected {SIN6_LEN}",
                sa.sin6_len
            ),
        ));
    }
    if sa.sin6_family != AF_INET6 {
        return Err(DecodeError::new(
            what,
            format!(
                "{field} (offset {}): sin6_family {}, expected AF_INET6 ({AF_INET6})",
                offset + 1,
                sa.sin6_family
            ),
        ));
    }
    Ok(Ipv6Addr::from(sa.sin6_addr))
}

/// The prefix length of a contiguous IPv4 netmask.
pub(crate) fn v4_prefix_len(what: &'static str, mask: Ipv4Addr) -> Result<u8, DecodeError> {
    let m = mask.to_bits();
    // Contiguous: all ones, then all zeros (0 and u32::MAX included).
    if m.leading_ones() + m.trailing_zeros() != u32::BITS {
        return Err(DecodeError::new(
            what,
            format!("netmask {mask} is not contiguous"),
        ));
    }
    Ok(m.leading_ones() as u8)
}

/// The prefix length of a contiguous IPv6 prefix mask.
pub(crate) fn v6_prefix_len(what: &'static str, mask: Ipv6Addr) -> Result<u8, DecodeError> {
    let m = mask.to_bits();
    if m.leading_ones() + m.trailing_zeros() != u128::BITS {
        return Err(DecodeError::new(
            what,
            format!("prefix mask {mask} is not contiguous"),
        ));
    }
    Ok(m.leading_ones() as u8)
}

/// The historical classful netmask that `in_aifaddr_ioctl` uses when
/// `ifra_mask.sin_len` is 0 (`IN_CLASSA`/`IN_CLASSB`, else `IN_CLASSC_NET`).
fn classful_prefix_len(addr: Ipv4Addr) -> u8 {
    let i = addr.to_bits();
    if i & 0x8000_0000 == 0 {
        8
    } else if i & 0xc000_0000 == 0x8000_0000 {
        16
    } else {
        24
    }
}

/// Decoded `in_aliasreq`: (name, address with prefix from the mask, vhid).
///
/// Follows `in_aifaddr_ioctl` (`sys/netinet/in.c`): `ifra_addr` must have
/// `sin_len` 16 and `AF_INET`; `ifra_broadaddr` and `ifra_mask` are optional
/// (`sin_len` 0) but, when present, must be 16 / `AF_INET` too. A missing
/// mask means the classful default (the kernel prints a warning and uses
/// it). A non-contiguous mask, which the kernel would store as is, cannot be
/// a prefix and is an error.
pub fn decode_in_aliasreq(buf: &[u8]) -> Result<(String, Ipv4Net, i32), DecodeError> {
    const WHAT: &str = "in_aliasreq";
    let req: in_aliasreq = read_struct(WHAT, buf)?;
    let name = decode_ifname(&req.ifra_name)?;
    let addr = sin_addr(
        WHAT,
        "ifra_addr",
        offset_of!(in_aliasreq, ifra_addr),
        &req.ifra_addr,
    )?;
    if req.ifra_broadaddr.sin_len != 0 {
        check_sin_header(
            WHAT,
            "ifra_broadaddr",
            offset_of!(in_aliasreq, ifra_broadaddr),
            &req.ifra_broadaddr,
        )?;
    }
    let prefix = if req.ifra_mask.sin_len == 0 {
        classful_prefix_len(addr)
    } else {
        let mask = sin_addr(
            WHAT,
            "ifra_mask",
            offset_of!(in_aliasreq, ifra_mask),
            &req.ifra_mask,
        )?;
        v4_prefix_len(WHAT, mask)?
    };
    let net = Ipv4Net::new(addr, prefix).map_err(|e| DecodeError::new(WHAT, e.to_string()))?;
    Ok((name, net, req.ifra_vhid))
}

/// Decoded `in6_aliasreq`: (name, address with prefix from the mask, vhid).
///
/// Follows `in6_validate_ifra` (`sys/netinet6/in6.c`): `ifra_addr` must have
/// `sin6_len` 28 and `AF_INET6`; the mask's family is not checked ("netmask
/// does not carry fields other than sin6_len"), its `sin6_len` may not exceed
/// 28 and a mask shorter than 28 bytes has its missing bytes read as zero
/// (`in6_mask2len` stops at `sin6_len`). A zero `sin6_len` (only valid when
/// changing an existing address), a non-contiguous mask and prefix length 0
/// (`plen <= 0`) are errors, as they are EINVAL there.
pub fn decode_in6_aliasreq(buf: &[u8]) -> Result<(String, Ipv6Net, i32), DecodeError> {
    decode_in6_aliasreq_as::<carpctl_sys::in6_aliasreq>(buf)
}

/// [`decode_in6_aliasreq`] for layout `T`.
pub(crate) fn decode_in6_aliasreq_as<T: In6AliasReqLayout>(
    buf: &[u8],
) -> Result<(String, Ipv6Net, i32), DecodeError> {
    const WHAT: &str = "in6_aliasreq";
    let req: T = read_struct(WHAT, buf)?;
    let (name, addr, mask_sa, vhid) = req.parts();
    let name = decode_ifname(&name)?;
    let addr = sin6_addr(
        WHAT,
        "ifra_addr",
        offset_of!(in6_aliasreq64, ifra_addr),
        &addr,
    )?;
    let mask_off = offset_of!(in6_aliasreq64, ifra_prefixmask);
    let mask_len = mask_sa.sin6_len;
    if mask_len == 0 || mask_len > SIN6_LEN {
        return Err(DecodeError::new(
            WHAT,
            format!(
                "ifra_prefixmask (offset {mask_off}): sin6_len {mask_len}, expected 1..={SIN6_LEN}"
            ),
        ));
    }
    // Bytes of sin6_addr (offset 8 in the sockaddr) covered by sin6_len.
    let covered = usize::from(mask_len).saturating_sub(offset_of!(sockaddr_in6, sin6_addr));
    let mut mask = [0u8; 16];
    for (dst, src) in mask.iter_mut().zip(mask_sa.sin6_addr).take(covered) {
        *dst = src;
    }
    let prefix = v6_prefix_len(WHAT, Ipv6Addr::from(mask))?;
    if prefix == 0 {
        return Err(DecodeError::new(
            WHAT,
            format!(
                "ifra_prefixmask (offset {mask_off}): prefix length 0 (in6_validate_ifra: EINVAL)"
            ),
        ));
    }
    let net = Ipv6Net::new(addr, prefix).map_err(|e| DecodeError::new(WHAT, e.to_string()))?;
    Ok((name, net, vhid))
}

/// Decoded SIOCDIFADDR `ifreq`: (name, address).
///
/// Strict: `ifru_addr` must be a `sockaddr_in` (`sin_len` 16, `AF_INET`).
/// The kernel is more lenient, see [`decode_ifreq_addr_or_any`].
pub fn decode_ifreq_addr(buf: &[u8]) -> Result<(String, Ipv4Addr), DecodeError> {
    const WHAT: &str = "ifreq";
    let req: ifreq = read_struct(WHAT, buf)?;
    let name = decode_ifname(&req.ifr_name)?;
    let sa: sockaddr_in = zerocopy::transmute!(req.ifr_ifru);
    let addr = sin_addr(WHAT, "ifru_addr", offset_of!(ifreq, ifr_ifru), &sa)?;
    Ok((name, addr))
}

/// SIOCDIFADDR as the kernel reads it: `in_difaddr_ioctl`
/// (`sys/netinet/in.c`) treats an `ifru_addr` whose `sin_len` is not 16 or
/// whose family is not `AF_INET` as "delete any": it removes the first IPv4
/// address of the interface. `None` stands for that case.
pub fn decode_ifreq_addr_or_any(buf: &[u8]) -> Result<(String, Option<Ipv4Addr>), DecodeError> {
    let req: ifreq = read_struct("ifreq", buf)?;
    let name = decode_ifname(&req.ifr_name)?;
    let sa: sockaddr_in = zerocopy::transmute!(req.ifr_ifru);
    let addr =
        (sa.sin_len == SIN_LEN && sa.sin_family == AF_INET).then(|| Ipv4Addr::from(sa.sin_addr));
    Ok((name, addr))
}

/// Decoded SIOCDIFADDR_IN6 `in6_ifreq`: (name, address).
pub fn decode_in6_ifreq_addr(buf: &[u8]) -> Result<(String, Ipv6Addr), DecodeError> {
    const WHAT: &str = "in6_ifreq";
    let req: in6_ifreq = read_struct(WHAT, buf)?;
    let name = decode_ifname(&req.ifr_name)?;
    let (sa, _) = sockaddr_in6::read_from_prefix(&req.ifr_ifru)
        .map_err(|_| DecodeError::new(WHAT, "ifr_ifru is smaller than a sockaddr_in6"))?;
    let addr = sin6_addr(WHAT, "ifru_addr", offset_of!(in6_ifreq, ifr_ifru), &sa)?;
    Ok((name, addr))
}

#[cfg(test)]
mod tests;
