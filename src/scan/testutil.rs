//! Frames for the scanner's tests, built with [`crate::wire`]'s encoders
//! (VRRPv2, which carp(4) never sends, by hand from RFC 3768).

use std::net::{IpAddr, Ipv4Addr};

use crate::wire::frame::ETHERTYPE_IPV4;
use crate::wire::{
    CarpAuth, Encap, EthernetHeader, IpHeader, MacAddr, VrrpAdvert, carp_frame, internet_checksum,
    vrrp_frame,
};

use super::decode::{Decoded, LinkType, decode};

pub(crate) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A multicast CARP advertisement as carp(4) sends it (from the virtual
/// MAC).
pub(crate) fn carp(
    vhid: u8,
    advbase: u8,
    advskew: u8,
    counter: u64,
    key: &[u8],
    addrs: &[IpAddr],
    src: IpAddr,
) -> Vec<u8> {
    let h = CarpAuth::new(key, vhid, addrs)
        .unwrap()
        .header(advbase, advskew, counter);
    carp_frame(&h, &Encap::multicast(src, MacAddr([2, 0, 0, 0, 0, 1]))).unwrap()
}

/// A VRRPv3 advertisement as carp(4) sends it.
pub(crate) fn vrrp3(
    vrid: u8,
    prio: u8,
    interval_cs: u16,
    addrs: Vec<IpAddr>,
    src: IpAddr,
) -> Vec<u8> {
    let adv = VrrpAdvert::new(vrid, prio, interval_cs, addrs).unwrap();
    vrrp_frame(&adv, &Encap::multicast(src, MacAddr([2, 0, 0, 0, 0, 1]))).unwrap()
}

/// A VRRPv2 advertisement as keepalived sends it: from `mac`, to
/// 224.0.0.18, no authentication (eight zero bytes).
pub(crate) fn vrrp2(
    vrid: u8,
    prio: u8,
    adver_int: u8,
    addrs: &[Ipv4Addr],
    src: Ipv4Addr,
    mac: MacAddr,
) -> Vec<u8> {
    let mut m = vec![0x21, vrid, prio, addrs.len() as u8, 0, adver_int, 0, 0];
    for a in addrs {
        m.extend(a.octets());
    }
    m.extend([0u8; 8]);
    let sum = internet_checksum(&m);
    m[6..8].copy_from_slice(&sum.to_be_bytes());
    let ip = IpHeader::carp(src.into(), ip("224.0.0.18"), 48, 0).unwrap();
    EthernetHeader {
        dst: MacAddr([1, 0, 0x5e, 0, 0, 0x12]),
        src: mac,
        ethertype: ETHERTYPE_IPV4,
    }
    .encode(&ip.encode(&m).unwrap())
}

/// `frame` with its source MAC replaced.
pub(crate) fn from_mac(mut frame: Vec<u8>, mac: MacAddr) -> Vec<u8> {
    frame[6..12].copy_from_slice(&mac.0);
    frame
}

/// `frame` with an 802.1Q tag (`tpid`, `vlan`) inserted after the MACs.
pub(crate) fn tagged(frame: &[u8], tpid: u16, vlan: u16) -> Vec<u8> {
    let mut f = frame[..12].to_vec();
    f.extend(tpid.to_be_bytes());
    f.extend(vlan.to_be_bytes());
    f.extend(&frame[12..]);
    f
}

/// Decodes an Ethernet frame that must hold an advertisement.
pub(crate) fn decoded(frame: &[u8]) -> Decoded {
    decode(LinkType::Ethernet, frame, None).unwrap().unwrap()
}
