//! Ethernet framing and whole frames as FreeBSD sends them on the segment.
//!
//! Ethernet II header (14 bytes): destination MAC, source MAC, ethertype.
//! Frames are kept without the FCS and without padding to 60 bytes, as a
//! capture on the sending host shows them.
//!
//! Multicast-mode advertisements leave with the vhid's virtual MAC
//! `00:00:5e:00:01:<vhid>` as source (IPv4, IPv6 and VRRPv3 alike, §10.3:
//! an mbuf tag makes `carp_output` rewrite `ether_shost`) to
//! `01:00:5e:00:00:12` (224.0.0.18) or `33:33:00:00:00:12` (ff02::12).
//! Unicast-mode ads (`peer`/`peer6`, 14+) are not tagged: they leave with
//! the interface's own MAC, to the peer's.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use carpctl_sys::{CARP_DFLTDSCP, CARP_MAC_PREFIX, IN6ADDR_CARP_GROUP, INADDR_CARP_GROUP};

use super::arp::ArpPacket;
use super::carp::CarpHeader;
use super::ip::{IpHeader, IpPacket};
use super::vrrp::VrrpAdvert;
use super::{WireError, invalid, malformed, prefix};

/// `ETHERTYPE_IP`.
pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;
/// `ETHERTYPE_ARP`.
pub(crate) const ETHERTYPE_ARP: u16 = 0x0806;
/// `ETHERTYPE_IPV6`.
pub(crate) const ETHERTYPE_IPV6: u16 = 0x86dd;
/// `ETHER_HDR_LEN`.
pub(crate) const ETHER_HEADER_LEN: usize = 14;
/// `net.inet.carp.dscp` default: CS7 (TOS 0xe0).
pub(crate) const DEFAULT_DSCP: u8 = 56;
const _: () = assert!(DEFAULT_DSCP as i32 == CARP_DFLTDSCP);

/// The IPv4 CARP/VRRP group 224.0.0.18.
pub const CARP_GROUP_V4: Ipv4Addr = Ipv4Addr::new(
    INADDR_CARP_GROUP[0],
    INADDR_CARP_GROUP[1],
    INADDR_CARP_GROUP[2],
    INADDR_CARP_GROUP[3],
);
/// The IPv6 CARP/VRRP group ff02::12.
pub const CARP_GROUP_V6: Ipv6Addr = Ipv6Addr::from_octets(IN6ADDR_CARP_GROUP);

/// A 48-bit Ethernet address, shown as `00:00:5e:00:01:01`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub(crate) const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// The virtual MAC of `vhid`: `00:00:5e:00:01:<vhid>` (`carp_alloc`).
    pub const fn carp_virtual(vhid: u8) -> MacAddr {
        let p = CARP_MAC_PREFIX;
        MacAddr([p[0], p[1], p[2], p[3], p[4], vhid])
    }

    /// The Ethernet group of an IPv4 multicast address (RFC 1112:
    /// `01:00:5e` and the low 23 bits), e.g. 224.0.0.18 → 01:00:5e:00:00:12.
    pub(crate) const fn ipv4_multicast(a: Ipv4Addr) -> MacAddr {
        let o = a.octets();
        MacAddr([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
    }

    /// The Ethernet group of an IPv6 multicast address (RFC 2464: `33:33`
    /// and the low 32 bits), e.g. ff02::12 → 33:33:00:00:00:12.
    pub(crate) const fn ipv6_multicast(a: Ipv6Addr) -> MacAddr {
        let o = a.octets();
        MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }

    /// The group bit (also set in the broadcast address).
    pub const fn is_multicast(self) -> bool {
        self.0[0] & 1 == 1
    }

    pub const fn octets(self) -> [u8; 6] {
        self.0
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(o: [u8; 6]) -> Self {
        MacAddr(o)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for MacAddr {
    type Err = WireError;
    /// Six hex octets separated by `:` (as ifconfig prints them).
    fn from_str(s: &str) -> Result<Self, WireError> {
        let mut o = [0u8; 6];
        let mut parts = s.split(':');
        for slot in &mut o {
            let part = parts.next().unwrap_or("");
            if part.is_empty() || part.len() > 2 {
                return malformed(
                    "MAC address",
                    format!("{s:?}: want six hex octets like 00:00:5e:00:01:01"),
                );
            }
            *slot = u8::from_str_radix(part, 16).or_else(|_| {
                malformed("MAC address", format!("{s:?}: {part:?} is not a hex octet"))
            })?;
        }
        if parts.next().is_some() {
            return malformed("MAC address", format!("{s:?}: more than six octets"));
        }
        Ok(MacAddr(o))
    }
}

/// An Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthernetHeader {
    pub dst: MacAddr,
    pub src: MacAddr,
    pub(crate) ethertype: u16,
}

impl EthernetHeader {
    /// The header followed by `payload`.
    pub fn encode(&self, payload: &[u8]) -> Vec<u8> {
        let mut f = Vec::with_capacity(ETHER_HEADER_LEN + payload.len());
        f.extend_from_slice(&self.dst.0);
        f.extend_from_slice(&self.src.0);
        f.extend_from_slice(&self.ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    /// The header and the rest of the frame.
    pub fn parse(bytes: &[u8]) -> Result<(Self, &[u8]), WireError> {
        let b = prefix::<ETHER_HEADER_LEN>(bytes, "Ethernet header")?;
        let mac = |off: usize| {
            let mut o = [0u8; 6];
            o.copy_from_slice(&b[off..off + 6]);
            MacAddr(o)
        };
        let h = EthernetHeader {
            dst: mac(0),
            src: mac(6),
            ethertype: u16::from_be_bytes([b[12], b[13]]),
        };
        Ok((h, &bytes[ETHER_HEADER_LEN..]))
    }
}

/// What an Ethernet frame carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload<'a> {
    /// IPv4 or IPv6 (checked against the ethertype).
    Ip(IpPacket<'a>),
    Arp(ArpPacket),
    /// Any other ethertype (VLAN tags included), undecoded.
    Other(&'a [u8]),
}

/// A decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    pub(crate) eth: EthernetHeader,
    pub payload: Payload<'a>,
}

/// Splits a frame into Ethernet, IP (or ARP) and payload. Structural
/// errors (truncation, an IPv4 header checksum that fails, an IP version
/// that contradicts the ethertype) are errors; whether an advertisement is
/// acceptable is [`super::rx::receive`]'s question.
pub fn decode_frame(bytes: &[u8]) -> Result<Frame<'_>, WireError> {
    let (eth, rest) = EthernetHeader::parse(bytes)?;
    let payload = match eth.ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => {
            let ip = IpPacket::parse(rest)?;
            if ip.header.is_v6() != (eth.ethertype == ETHERTYPE_IPV6) {
                return malformed(
                    "Ethernet frame",
                    format!(
                        "ethertype {:#06x} carries an IP version {} packet",
                        eth.ethertype,
                        if ip.header.is_v6() { 6 } else { 4 }
                    ),
                );
            }
            Payload::Ip(ip)
        }
        ETHERTYPE_ARP => Payload::Arp(ArpPacket::parse(rest)?),
        _ => Payload::Other(rest),
    };
    Ok(Frame { eth, payload })
}

/// How an advertisement is addressed (§10.1): by the interface it leaves
/// from, to the multicast group or a unicast peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encap {
    /// The parent interface's own MAC: the source of unicast-mode ads.
    pub(crate) if_mac: MacAddr,
    /// The parent interface's preferred address of the packet's family
    /// (`carp_best_ifa`): its first non-CARP address, so normally not a
    /// VIP; for IPv6 normally its link-local address.
    pub src: IpAddr,
    /// `None`: the group 224.0.0.18 / ff02::12 (the default). `Some`: the
    /// unicast peer (`peer`/`peer6`) and the MAC it resolves to.
    pub peer: Option<(IpAddr, MacAddr)>,
    /// `net.inet.carp.dscp`, 0..63.
    pub dscp: u8,
    /// IPv4 id (`ip_fillid`); unused for IPv6.
    pub ip_id: u16,
}

impl Encap {
    /// Multicast mode with the default DSCP (56) and IP id 0.
    pub fn multicast(src: IpAddr, if_mac: MacAddr) -> Self {
        Encap {
            if_mac,
            src,
            peer: None,
            dscp: DEFAULT_DSCP,
            ip_id: 0,
        }
    }

    /// Unicast mode to `peer` at `peer_mac`.
    pub fn unicast(src: IpAddr, if_mac: MacAddr, peer: IpAddr, peer_mac: MacAddr) -> Self {
        Encap {
            peer: Some((peer, peer_mac)),
            ..Encap::multicast(src, if_mac)
        }
    }

    pub fn with_dscp(self, dscp: u8) -> Self {
        Encap { dscp, ..self }
    }

    pub fn with_ip_id(self, ip_id: u16) -> Self {
        Encap { ip_id, ..self }
    }

    /// IP destination, Ethernet destination and source for an ad of `vhid`.
    fn addressing(&self, vhid: u8) -> (IpAddr, MacAddr, MacAddr) {
        match (self.peer, self.src) {
            (Some((ip, mac)), _) => (ip, mac, self.if_mac),
            (None, IpAddr::V4(_)) => (
                CARP_GROUP_V4.into(),
                MacAddr::ipv4_multicast(CARP_GROUP_V4),
                MacAddr::carp_virtual(vhid),
            ),
            (None, IpAddr::V6(_)) => (
                CARP_GROUP_V6.into(),
                MacAddr::ipv6_multicast(CARP_GROUP_V6),
                MacAddr::carp_virtual(vhid),
            ),
        }
    }
}

/// An Ethernet frame carrying `ip` and `payload`, with the ethertype of
/// the IP version.
pub fn ip_frame(
    dst: MacAddr,
    src: MacAddr,
    ip: &IpHeader,
    payload: &[u8],
) -> Result<Vec<u8>, WireError> {
    let ethertype = if ip.is_v6() {
        ETHERTYPE_IPV6
    } else {
        ETHERTYPE_IPV4
    };
    Ok(EthernetHeader {
        dst,
        src,
        ethertype,
    }
    .encode(&ip.encode(payload)?))
}

/// The frame of one CARP advertisement, addressed as `carp_send_ad_locked`
/// does (§10.1, §10.3). Errors only for a DSCP above 63 or a peer of the
/// other family.
pub fn carp_frame(header: &CarpHeader, encap: &Encap) -> Result<Vec<u8>, WireError> {
    let (dst, dst_mac, src_mac) = encap.addressing(header.vhid);
    let ip = IpHeader::carp(encap.src, dst, encap.dscp, encap.ip_id)?;
    ip_frame(dst_mac, src_mac, &ip, &header.to_bytes())
}

/// The frame of one VRRPv3 advertisement (`vrrp_send_ad_locked`, §10.6):
/// always to the group, from the virtual MAC, TTL 255. VRRPv3 has no
/// unicast mode, so an `encap` with a peer is refused.
pub fn vrrp_frame(adv: &VrrpAdvert, encap: &Encap) -> Result<Vec<u8>, WireError> {
    if let Some((peer, _)) = encap.peer {
        return invalid(
            "VRRPv3 advertisement",
            format!("unicast peer {peer}: carp(4) sends VRRPv3 to the multicast group only"),
        );
    }
    let (dst, dst_mac, src_mac) = encap.addressing(adv.vrid);
    let ip = IpHeader::carp(encap.src, dst, encap.dscp, encap.ip_id)?;
    ip_frame(dst_mac, src_mac, &ip, &adv.encode(encap.src, dst)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_addresses() {
        assert_eq!(MacAddr::carp_virtual(1).to_string(), "00:00:5e:00:01:01");
        assert_eq!(MacAddr::carp_virtual(255).to_string(), "00:00:5e:00:01:ff");
        assert_eq!(
            MacAddr::ipv4_multicast(CARP_GROUP_V4).to_string(),
            "01:00:5e:00:00:12"
        );
        // The 24th bit is dropped: 239.128.0.1 maps like 239.0.0.1.
        assert_eq!(
            MacAddr::ipv4_multicast(Ipv4Addr::new(239, 128, 0, 1)).to_string(),
            "01:00:5e:00:00:01"
        );
        assert_eq!(
            MacAddr::ipv6_multicast(CARP_GROUP_V6).to_string(),
            "33:33:00:00:00:12"
        );
        assert!(MacAddr::BROADCAST.is_multicast());
        assert!(!MacAddr::carp_virtual(1).is_multicast());
        assert_eq!(
            format!("{:?}", MacAddr::carp_virtual(3)),
            "00:00:5e:00:01:03"
        );
    }

    #[test]
    fn mac_from_str() {
        assert_eq!(
            "52:54:00:12:34:5a".parse::<MacAddr>().unwrap(),
            MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x5a])
        );
        assert_eq!(
            "0:0:5e:0:1:1".parse::<MacAddr>().unwrap(),
            MacAddr::carp_virtual(1)
        );
        for bad in [
            "",
            "00:00:5e:00:01",
            "00:00:5e:00:01:01:02",
            "00:00:5e:00:01:zz",
            "000:00:5e:00:01:01",
            "00::5e:00:01:01",
        ] {
            let e = bad.parse::<MacAddr>().unwrap_err().to_string();
            assert!(e.starts_with("MAC address: "), "{bad:?}: {e}");
        }
    }

    #[test]
    fn ethernet_round_trip_and_truncation() {
        let h = EthernetHeader {
            dst: MacAddr::BROADCAST,
            src: MacAddr::carp_virtual(9),
            ethertype: ETHERTYPE_ARP,
        };
        let f = h.encode(&[1, 2]);
        assert_eq!(
            hex::encode(&f),
            "ffffffffffff00005e0001090806".to_owned() + "0102"
        );
        assert_eq!(EthernetHeader::parse(&f).unwrap(), (h, &[1u8, 2][..]));
        let e = decode_frame(&f[..13]).unwrap_err();
        assert_eq!(e.to_string(), "Ethernet header: 13 bytes, need at least 14");
    }

    #[test]
    fn ethertype_must_match_ip_version() {
        let ip = IpHeader::carp(
            "10.0.0.1".parse().unwrap(),
            "224.0.0.18".parse().unwrap(),
            0,
            0,
        )
        .unwrap();
        let mut f = ip_frame(MacAddr::BROADCAST, MacAddr::ZERO, &ip, &[]).unwrap();
        assert!(matches!(decode_frame(&f).unwrap().payload, Payload::Ip(_)));
        f[12..14].copy_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
        let e = decode_frame(&f).unwrap_err().to_string();
        assert_eq!(
            e,
            "Ethernet frame: ethertype 0x86dd carries an IP version 4 packet"
        );
    }

    #[test]
    fn other_ethertypes_are_passed_through() {
        let f = EthernetHeader {
            dst: MacAddr::BROADCAST,
            src: MacAddr::ZERO,
            ethertype: 0x8100,
        }
        .encode(&[7, 7]);
        assert_eq!(decode_frame(&f).unwrap().payload, Payload::Other(&[7, 7]));
    }

    #[test]
    fn unicast_and_vrrp_addressing() {
        let header = CarpHeader::advertisement(4, 1, 0, 1, [0; 20]);
        let if_mac = MacAddr([0x52, 0x54, 0, 0, 0, 1]);
        let peer_mac = MacAddr([0x52, 0x54, 0, 0, 0, 2]);
        let encap = Encap::unicast(
            "10.0.0.1".parse().unwrap(),
            if_mac,
            "10.0.0.2".parse().unwrap(),
            peer_mac,
        );
        let f = carp_frame(&header, &encap).unwrap();
        let frame = decode_frame(&f).unwrap();
        assert_eq!((frame.eth.dst, frame.eth.src), (peer_mac, if_mac));
        let Payload::Ip(ip) = frame.payload else {
            panic!("not IP")
        };
        assert_eq!(ip.header.dst(), "10.0.0.2".parse::<IpAddr>().unwrap());

        let wrong = Encap::unicast(
            "10.0.0.1".parse().unwrap(),
            if_mac,
            "fe80::2".parse().unwrap(),
            peer_mac,
        );
        assert!(
            carp_frame(&header, &wrong)
                .unwrap_err()
                .to_string()
                .contains("different families")
        );

        let adv = VrrpAdvert::new(4, 100, 100, vec!["10.0.0.9".parse().unwrap()]).unwrap();
        let e = vrrp_frame(&adv, &encap).unwrap_err().to_string();
        assert!(e.contains("multicast group only"), "{e}");
        let f = vrrp_frame(&adv, &Encap::multicast("10.0.0.1".parse().unwrap(), if_mac)).unwrap();
        let frame = decode_frame(&f).unwrap();
        assert_eq!(frame.eth.src, MacAddr::carp_virtual(4));
        assert_eq!(frame.eth.dst, MacAddr::ipv4_multicast(CARP_GROUP_V4));
    }
}
