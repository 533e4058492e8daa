//! One captured frame → one [`Decoded`] advertisement: the link header
//! (Ethernet, Linux "cooked" SLL/SLL2, raw IP), up to two 802.1Q/802.1ad
//! tags, IPv4 (options skipped) or IPv6 (extension headers walked), and the
//! protocol-112 message, told apart as CARP, VRRPv2 or VRRPv3.
//!
//! Frames that are not IP protocol 112 are not this module's business and
//! give `Ok(None)`, however broken they are. A protocol-112 frame that
//! cannot be read (truncated by the snap length, a length field that lies,
//! a fragment, an unknown version) gives an error naming what and where;
//! the caller counts it, and the scan reports it (`SCAN009`). A readable
//! advertisement whose checksum or TTL is wrong is decoded anyway, with
//! the fault noted, so that its sender still shows up.
//!
//! The byte layouts come from [`crate::wire`] (CARP: `ip_carp.h`; VRRPv3:
//! RFC 9568; VRRPv2: RFC 3768); this module only finds them in the frame.
//! It never panics and allocates only the address list of a VRRP message
//! and an error's text (property-tested in `tests/fuzz.rs`).

use std::net::IpAddr;

use crate::wire::{CARP_DFLTTL, CARP_HEADER_LEN, IPPROTO_CARP};

use crate::wire::frame::{ETHER_HEADER_LEN, ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use crate::wire::ip::{IPV4_HEADER_LEN, IPV6_HEADER_LEN};
use crate::wire::vrrp2::{Vrrp2Advert, looks_like_vrrp2};
use crate::wire::{
    CarpHeader, Ipv4Header, Ipv6Header, MacAddr, VrrpAdvert, WireError, internet_checksum, vrrp,
};

/// 802.1Q.
pub(crate) const ETHERTYPE_VLAN: u16 = 0x8100;
/// 802.1ad (QinQ outer tag).
pub(crate) const ETHERTYPE_QINQ: u16 = 0x88a8;
/// The pre-standard QinQ tag some switches still send.
pub(crate) const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
/// The most VLAN tags read before the IP header.
pub(crate) const MAX_TAGS: usize = 2;
/// The most IPv6 extension headers walked before giving up.
pub(crate) const MAX_EXTENSION_HEADERS: usize = 8;

/// The link layer of a capture (pcap's `LINKTYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// `LINKTYPE_ETHERNET` (1): what BPF and AF_PACKET give, and what
    /// `simulate --pcap` writes.
    Ethernet,
    /// `LINKTYPE_LINUX_SLL` (113): `tcpdump -i any` on Linux.
    LinuxSll,
    /// `LINKTYPE_LINUX_SLL2` (276): newer `tcpdump -i any`.
    LinuxSll2,
    /// `LINKTYPE_RAW` (101): bare IPv4 or IPv6, no link header.
    RawIp,
}

impl LinkType {
    /// The link type of a pcap `LINKTYPE_*` number, if this module reads it.
    pub(crate) fn from_pcap(linktype: u32) -> Option<Self> {
        match linktype {
            1 => Some(LinkType::Ethernet),
            113 => Some(LinkType::LinuxSll),
            276 => Some(LinkType::LinuxSll2),
            101 => Some(LinkType::RawIp),
            _ => None,
        }
    }
}

/// The protocol-112 message of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Carp(CarpHeader),
    Vrrp3(VrrpAdvert),
    Vrrp2(Vrrp2Advert),
}

impl Message {
    /// The vhid or VRID.
    pub fn id(&self) -> u8 {
        match self {
            Message::Carp(h) => h.vhid,
            Message::Vrrp3(v) => v.vrid,
            Message::Vrrp2(v) => v.vrid,
        }
    }
}

/// One advertisement found in a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The VLAN ids, outer first; 0 = untagged.
    pub(crate) vlans: [u16; MAX_TAGS],
    /// `None` for raw IP captures.
    pub(crate) src_mac: Option<MacAddr>,
    /// `None` for raw IP and Linux cooked captures.
    pub(crate) dst_mac: Option<MacAddr>,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// TTL or hop limit.
    pub ttl: u8,
    pub message: Message,
    /// The message's own checksum verifies the way carp(4) (CARP: over the
    /// IPv4 payload or the 36-byte header on IPv6) or the RFC (VRRP)
    /// checks it.
    pub(crate) checksum_ok: bool,
}

impl Decoded {
    /// The VLAN tags as a suffix of the interface name: `""`, `".100"`,
    /// `".100.200"` (FreeBSD's `vlan(4)` naming, `em0.100`).
    pub(crate) fn vlan_suffix(&self) -> String {
        self.vlans
            .iter()
            .filter(|&&v| v != 0)
            .map(|v| format!(".{v}"))
            .collect()
    }

    /// TTL 255, as every receiver of a multicast advertisement requires.
    pub(crate) fn ttl_ok(&self) -> bool {
        self.ttl == CARP_DFLTTL
    }
}

/// Decodes `frame` of link type `link`. `vlan_hint` is a tag the capture
/// took out of the frame (Linux `PACKET_AUXDATA`); tags still in the
/// frame come after it.
pub fn decode(
    link: LinkType,
    frame: &[u8],
    vlan_hint: Option<u16>,
) -> Result<Option<Decoded>, WireError> {
    let (src_mac, dst_mac, ethertype, rest) = match link_header(link, frame)? {
        Some(h) => h,
        None => return Ok(None),
    };
    let mut vlans = [0u16; MAX_TAGS];
    let mut n = 0;
    if let Some(tag) = vlan_hint {
        vlans[0] = tag & 0x0fff;
        n = 1;
    }
    let (mut ethertype, mut rest) = (ethertype, rest);
    while matches!(
        ethertype,
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD
    ) {
        if n == MAX_TAGS {
            // Three or more tags: not a segment carp(4) talks on.
            return Ok(None);
        }
        let [t0, t1, e0, e1, ..] = *rest else {
            // A tag cut short cannot be told from other traffic.
            return Ok(None);
        };
        vlans[n] = u16::from_be_bytes([t0, t1]) & 0x0fff;
        n += 1;
        ethertype = u16::from_be_bytes([e0, e1]);
        rest = &rest[4..];
    }
    let ip = match ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => rest,
        // Raw IP: the version nibble says which.
        0 if link == LinkType::RawIp => rest,
        _ => return Ok(None),
    };
    let Some(pkt) = ip_packet(ip)? else {
        return Ok(None);
    };
    if matches!(ethertype, ETHERTYPE_IPV4 | ETHERTYPE_IPV6)
        && (ethertype == ETHERTYPE_IPV6) != pkt.src.is_ipv6()
    {
        return Err(WireError::Malformed {
            what: "Ethernet frame",
            detail: format!("ethertype {ethertype:#06x} carries the other IP version"),
        });
    }
    let (message, checksum_ok) = message(pkt.payload, pkt.src, pkt.dst)?;
    Ok(Some(Decoded {
        vlans,
        src_mac,
        dst_mac,
        src: pkt.src,
        dst: pkt.dst,
        ttl: pkt.ttl,
        message,
        checksum_ok,
    }))
}

type LinkParts<'a> = (Option<MacAddr>, Option<MacAddr>, u16, &'a [u8]);

/// Source MAC, destination MAC, ethertype and the rest of the frame;
/// `None` for a frame too short to be anything of ours.
fn link_header(link: LinkType, f: &[u8]) -> Result<Option<LinkParts<'_>>, WireError> {
    let mac = |b: &[u8]| -> Option<MacAddr> { <[u8; 6]>::try_from(b).ok().map(MacAddr) };
    Ok(match link {
        LinkType::Ethernet => {
            let Some(h) = f.get(..ETHER_HEADER_LEN) else {
                return Ok(None);
            };
            Some((
                mac(&h[6..12]),
                mac(&h[0..6]),
                u16::from_be_bytes([h[12], h[13]]),
                &f[ETHER_HEADER_LEN..],
            ))
        }
        LinkType::LinuxSll => {
            // pkttype(2) hatype(2) halen(2) addr(8) protocol(2).
            let Some(h) = f.get(..16) else {
                return Ok(None);
            };
            let halen = u16::from_be_bytes([h[4], h[5]]);
            let src = if halen == 6 { mac(&h[6..12]) } else { None };
            Some((src, None, u16::from_be_bytes([h[14], h[15]]), &f[16..]))
        }
        LinkType::LinuxSll2 => {
            // protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1)
            // halen(1) addr(8).
            let Some(h) = f.get(..20) else {
                return Ok(None);
            };
            let src = if h[11] == 6 { mac(&h[12..18]) } else { None };
            Some((src, None, u16::from_be_bytes([h[0], h[1]]), &f[20..]))
        }
        LinkType::RawIp => Some((None, None, 0, f)),
    })
}

/// The parts of an IP packet carrying protocol 112.
struct Ip112<'a> {
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    payload: &'a [u8],
}

/// The protocol-112 payload of an IPv4 or IPv6 packet, `None` for any
/// other protocol. The protocol is looked at before anything is judged,
/// so broken packets of other protocols are ignored, not reported.
fn ip_packet(b: &[u8]) -> Result<Option<Ip112<'_>>, WireError> {
    match b.first().map(|v| v >> 4) {
        Some(4) => {
            if b.len() < IPV4_HEADER_LEN || b[9] != IPPROTO_CARP {
                return Ok(None);
            }
            let (h, payload) = Ipv4Header::parse(b)?;
            Ok(Some(Ip112 {
                src: h.src.into(),
                dst: h.dst.into(),
                ttl: h.ttl,
                payload,
            }))
        }
        Some(6) => {
            if b.len() < IPV6_HEADER_LEN {
                return Ok(None);
            }
            let Some(payload) = ipv6_upper(b)? else {
                return Ok(None);
            };
            let (h, _) = Ipv6Header::parse(b)?;
            Ok(Some(Ip112 {
                src: h.src.into(),
                dst: h.dst.into(),
                ttl: h.hop_limit,
                payload,
            }))
        }
        _ => Ok(None),
    }
}

/// Walks the IPv6 extension headers (RFC 8200 §4) to the upper-layer
/// header; its payload if that is protocol 112, `None` otherwise. Errors
/// only once the packet is known to be protocol 112 (or cannot be told).
fn ipv6_upper(b: &[u8]) -> Result<Option<&[u8]>, WireError> {
    const WHAT: &str = "IPv6 extension header";
    let plen = usize::from(u16::from_be_bytes([b[4], b[5]]));
    let mut next = b[6];
    let mut at = IPV6_HEADER_LEN;
    // Bytes of the packet: what the payload length says, as far as the
    // capture has them (the length is judged below, for protocol 112).
    let end = (IPV6_HEADER_LEN + plen).min(b.len());
    for _ in 0..=MAX_EXTENSION_HEADERS {
        let len = match next {
            IPPROTO_CARP => {
                if IPV6_HEADER_LEN + plen > b.len() {
                    return Err(WireError::Truncated {
                        what: "IPv6 packet",
                        need: IPV6_HEADER_LEN + plen,
                        got: b.len(),
                    });
                }
                return Ok(b.get(at..end));
            }
            // Hop-by-hop, routing, destination options, mobility, HIP,
            // shim6: (length + 1) × 8 bytes.
            0 | 43 | 60 | 135 | 139 | 140 => {
                let Some((nh, l)) = two(b, at) else {
                    return Ok(None);
                };
                next = nh;
                (usize::from(l) + 1) * 8
            }
            // Authentication header: (length + 2) × 4 bytes.
            51 => {
                let Some((nh, l)) = two(b, at) else {
                    return Ok(None);
                };
                next = nh;
                (usize::from(l) + 2) * 4
            }
            // Fragment: carp(4) never fragments a 76-byte packet, and a
            // later fragment has no header to read.
            44 => {
                let Some(f) = b.get(at..at + 8) else {
                    return Ok(None);
                };
                if f[0] != IPPROTO_CARP {
                    return Ok(None);
                }
                let off_flags = u16::from_be_bytes([f[2], f[3]]);
                return Err(WireError::Malformed {
                    what: WHAT,
                    detail: format!(
                        "a fragment of a protocol 112 packet (offset {}, more {})",
                        (off_flags >> 3) * 8,
                        off_flags & 1
                    ),
                });
            }
            _ => return Ok(None),
        };
        at += len;
        if at > end {
            // Where the header chain runs past the packet, nothing is
            // known of the upper layer unless it claims to be ours.
            if next == IPPROTO_CARP {
                return Err(WireError::Truncated {
                    what: WHAT,
                    need: at,
                    got: end,
                });
            }
            return Ok(None);
        }
    }
    if next == IPPROTO_CARP {
        return Err(WireError::Malformed {
            what: WHAT,
            detail: format!("more than {MAX_EXTENSION_HEADERS} extension headers"),
        });
    }
    Ok(None)
}

/// The two bytes at `at`, if the packet has them.
fn two(b: &[u8], at: usize) -> Option<(u8, u8)> {
    match b.get(at..)? {
        [x, y, ..] => Some((*x, *y)),
        _ => None,
    }
}

/// Tells CARP, VRRPv2 and VRRPv3 apart and reads the message, with whether
/// its checksum verifies.
fn message(p: &[u8], src: IpAddr, dst: IpAddr) -> Result<(Message, bool), WireError> {
    let Some(&first) = p.first() else {
        return Err(WireError::Truncated {
            what: "protocol 112 message",
            need: 8,
            got: 0,
        });
    };
    match first >> 4 {
        2 if src.is_ipv4() && looks_like_vrrp2(p) => {
            let v = Vrrp2Advert::parse(p)?;
            Ok((Message::Vrrp2(v), internet_checksum(p) == 0))
        }
        2 => {
            let h = CarpHeader::parse(p)?;
            // IPv4: the whole payload; IPv6: exactly the header
            // (carp_input / carp6_input, docs/freebsd-carp.md §11.4).
            let summed = if src.is_ipv6() {
                &p[..CARP_HEADER_LEN]
            } else {
                p
            };
            Ok((Message::Carp(h), internet_checksum(summed) == 0))
        }
        3 => {
            let v = VrrpAdvert::parse(p, src.is_ipv6())?;
            let ok = vrrp::checksum(p, src, dst).is_ok_and(|s| s == 0);
            Ok((Message::Vrrp3(v), ok))
        }
        v => Err(WireError::Malformed {
            what: "protocol 112 message",
            detail: format!("byte 0: version {v}, neither CARP (2), VRRPv2 (2) nor VRRPv3 (3)"),
        }),
    }
}

#[cfg(test)]
mod tests;
