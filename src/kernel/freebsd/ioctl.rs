//! The ioctl requests carpctl sends, as the exact bytes FreeBSD receives:
//! `struct carpreq` behind `ifr_data` for SIOCSVH/SIOCGVH (10.0-13.x;
//! reference §3.1, §5), and the address requests SIOCAIFADDR (`in_aliasreq`),
//! SIOCAIFADDR_IN6 (`in6_aliasreq`), SIOCDIFADDR (`ifreq`) and
//! SIOCDIFADDR_IN6 (`in6_ifreq`) (§3.3-§3.5, §6).
//!
//! Encoders for the backend and decoders for the emulated kernel; all pure.

use std::net::{Ipv4Addr, Ipv6Addr};

use carpctl_sys::{CARP_KEY_LEN, IFNAMSIZ, carpreq};
use ipnet::{Ipv4Net, Ipv6Net};

use super::DecodeError;

/// An interface name as `ifr_name`: at most 15 bytes, NUL-padded to 16.
/// Empty names and names with a NUL byte are refused.
pub fn ifname(name: &str) -> Result<[u8; IFNAMSIZ], DecodeError> {
    let _ = name;
    todo!("ioctl helper")
}

/// The interface name in a `[u8; 16]` field (up to the first NUL).
pub fn decode_ifname(raw: &[u8]) -> Result<String, DecodeError> {
    let _ = raw;
    todo!("ioctl helper")
}

/// The `struct ifreq` for SIOCSVH/SIOCGVH: the name; `ifr_data` left zero
/// (the system-call layer stores the pointer to the carpreq buffer).
pub fn carp_ifreq(name: &str) -> Result<[u8; 32], DecodeError> {
    let _ = name;
    todo!("ioctl helper")
}

/// A `carpreq` for SIOCSVH: every field written (read-modify-write happens
/// above), `carpr_count` 0, the key zero-filled to 20 bytes.
pub fn carpreq_set(vhid: u8, state: u32, advskew: u8, advbase: u8, key: &[u8; CARP_KEY_LEN]) -> [u8; 40] {
    let _ = (vhid, state, advskew, advbase, key);
    todo!("ioctl helper")
}

/// A `carpreq` for SIOCGVH of one vhid (`carpr_count` 1), as ifconfig sends.
pub fn carpreq_get(vhid: u8) -> [u8; 40] {
    let _ = vhid;
    todo!("ioctl helper")
}

/// A buffer of `capacity` zeroed `carpreq`s for SIOCGVH with vhid 0 (all
/// vhids), element 0's `carpr_count` = capacity. Only valid on 13.x: on
/// 14.x and later this returns kernel stack garbage (reference §5.4).
pub fn carpreq_get_all(capacity: usize) -> Vec<u8> {
    let _ = capacity;
    todo!("ioctl helper")
}

/// Decode `count` consecutive `carpreq`s from `buf` (a SIOCGVH reply, or a
/// request on the emulated side). Fails when `buf` is shorter than needed.
pub fn decode_carpreqs(buf: &[u8], count: usize) -> Result<Vec<carpreq>, DecodeError> {
    let _ = (buf, count);
    todo!("ioctl helper")
}

/// Write `reqs` back into `buf` (the emulated kernel's copyout). Fails when
/// `buf` is too short.
pub fn encode_carpreqs(reqs: &[carpreq], buf: &mut [u8]) -> Result<(), DecodeError> {
    let _ = (reqs, buf);
    todo!("ioctl helper")
}

/// `struct in_aliasreq` for SIOCAIFADDR: address, mask from the prefix,
/// broadcast left zero (the kernel derives it), `ifra_vhid`.
pub fn in_aliasreq(name: &str, net: Ipv4Net, vhid: u8) -> Result<[u8; 68], DecodeError> {
    let _ = (name, net, vhid);
    todo!("ioctl helper")
}

/// `struct in6_aliasreq` for SIOCAIFADDR_IN6: address, prefix mask, infinite
/// lifetimes (`ND6_INFINITE_LIFETIME`) as ifconfig sets them, `ifra_vhid`.
pub fn in6_aliasreq(name: &str, net: Ipv6Net, vhid: u8) -> Result<[u8; 136], DecodeError> {
    let _ = (name, net, vhid);
    todo!("ioctl helper")
}

/// `struct ifreq` for SIOCDIFADDR: `ifru_addr` = the `sockaddr_in`.
pub fn ifreq_addr(name: &str, addr: Ipv4Addr) -> Result<[u8; 32], DecodeError> {
    let _ = (name, addr);
    todo!("ioctl helper")
}

/// `struct in6_ifreq` for SIOCDIFADDR_IN6: `ifru_addr` = the `sockaddr_in6`.
pub fn in6_ifreq_addr(name: &str, addr: Ipv6Addr) -> Result<Vec<u8>, DecodeError> {
    let _ = (name, addr);
    todo!("ioctl helper")
}

/// Decoded `in_aliasreq`: (name, address with prefix from the mask, vhid).
pub fn decode_in_aliasreq(buf: &[u8]) -> Result<(String, Ipv4Net, i32), DecodeError> {
    let _ = buf;
    todo!("ioctl helper")
}

/// Decoded `in6_aliasreq`: (name, address with prefix from the mask, vhid).
pub fn decode_in6_aliasreq(buf: &[u8]) -> Result<(String, Ipv6Net, i32), DecodeError> {
    let _ = buf;
    todo!("ioctl helper")
}

/// Decoded SIOCDIFADDR `ifreq`: (name, address).
pub fn decode_ifreq_addr(buf: &[u8]) -> Result<(String, Ipv4Addr), DecodeError> {
    let _ = buf;
    todo!("ioctl helper")
}

/// Decoded SIOCDIFADDR_IN6 `in6_ifreq`: (name, address).
pub fn decode_in6_ifreq_addr(buf: &[u8]) -> Result<(String, Ipv6Addr), DecodeError> {
    let _ = buf;
    todo!("ioctl helper")
}

/// Zero `carpr_key` of every whole `carpreq` in `buf` (for the wire trace).
pub fn redact_carpreq_keys(buf: &mut [u8]) {
    let _ = buf;
    todo!("ioctl helper")
}
