//! What `getifaddrs(3)` returns, decoded: interfaces, their addresses, and
//! the vhid of each address (`if_data.ifi_vhid` behind `ifa_data`, §8).
//! Encoders for the emulated kernel's side too.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{DecodeError, RawIfaddr};
use crate::model::Interface;

/// Group the entries by interface, in first-seen order. The `AF_LINK` entry
/// gives the flags and the link state (`ifi_link_state`); each `AF_INET` /
/// `AF_INET6` entry gives one address, its prefix (from the netmask) and its
/// vhid (`ifi_vhid`, 0 = none). Entries of other families are skipped.
/// Truncated or inconsistent sockaddrs are errors.
pub fn decode(entries: &[RawIfaddr]) -> Result<Vec<Interface>, DecodeError> {
    let _ = entries;
    todo!("ioctl helper")
}

/// The `struct sockaddr_in` / `sockaddr_in6` bytes of an address.
pub fn sockaddr_bytes(addr: IpAddr) -> Vec<u8> {
    let _ = addr;
    todo!("ioctl helper")
}

/// The netmask sockaddr of a prefix.
pub fn netmask_bytes(net: IpNet) -> Vec<u8> {
    let _ = net;
    todo!("ioctl helper")
}

/// A `struct if_data` prefix with `ifi_type`, `ifi_link_state` and `ifi_vhid`.
pub fn if_data_bytes(if_type: u8, link_state: u8, vhid: u8) -> Vec<u8> {
    let _ = (if_type, link_state, vhid);
    todo!("ioctl helper")
}

/// The `AF_LINK` sockaddr (`sockaddr_dl`) of an interface: index, type, name.
pub fn link_sockaddr_bytes(index: u16, if_type: u8, name: &str) -> Vec<u8> {
    let _ = (index, if_type, name);
    todo!("ioctl helper")
}
