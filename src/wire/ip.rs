//! IPv4 and IPv6 headers as carp(4) builds them (§10.1,
//! `carp_send_ad_locked`): protocol / next header 112, TTL / hop limit 255,
//! TOS / traffic class = dscp << 2 (default CS7, 0xe0), DF on IPv4.
//!
//! IPv4 (RFC 791, 20 bytes, no options when sending):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | version 4 / IHL 5: 0x45 |
//! | 1 | 1 | TOS |
//! | 2 | 2 | total length |
//! | 4 | 2 | id |
//! | 6 | 2 | flags (DF 0x4000) / fragment offset |
//! | 8 | 1 | TTL |
//! | 9 | 1 | protocol |
//! | 10 | 2 | header checksum |
//! | 12 | 4 | source |
//! | 16 | 4 | destination |
//!
//! IPv6 (RFC 8200, 40 bytes): version 6 / traffic class / 20-bit flow label
//! in the first word, payload length, next header, hop limit, source,
//! destination.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use carpctl_sys::{CARP_DFLTTL, IPPROTO_CARP};

use super::{Checksum, WireError, invalid, malformed, prefix};

/// `IPPROTO_ICMPV6`.
pub(crate) const IPPROTO_ICMPV6: u8 = 58;
/// IPv4 header length without options.
pub(crate) const IPV4_HEADER_LEN: usize = 20;
/// IPv6 fixed header length.
pub(crate) const IPV6_HEADER_LEN: usize = 40;
/// The DF bit of the IPv4 flags/fragment word.
pub(crate) const IP_DF: u16 = 0x4000;
/// The MF bit of the IPv4 flags/fragment word.
pub(crate) const IP_MF: u16 = 0x2000;
/// The largest DSCP (6 bits); `net.inet.carp.dscp` accepts 0..63.
pub(crate) const DSCP_MAX: u8 = 63;

/// TOS / traffic class for `dscp`: `dscp << IPTOS_DSCP_OFFSET` (2).
pub(crate) fn tos_from_dscp(dscp: u8) -> Result<u8, WireError> {
    if dscp > DSCP_MAX {
        return invalid("DSCP", format!("{dscp} is out of range 0-{DSCP_MAX}"));
    }
    Ok(dscp << 2)
}

/// An IPv4 header (options are skipped when parsing, never written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Header {
    pub tos: u8,
    pub id: u16,
    /// Flags (DF, MF) and fragment offset, as on the wire.
    pub flags_fragment: u16,
    pub ttl: u8,
    pub protocol: u8,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
}

impl Ipv4Header {
    /// The header of a CARP or VRRPv3 advertisement: TOS = dscp << 2, DF,
    /// TTL 255, protocol 112.
    pub fn carp(src: Ipv4Addr, dst: Ipv4Addr, dscp: u8, id: u16) -> Result<Self, WireError> {
        Ok(Ipv4Header {
            tos: tos_from_dscp(dscp)?,
            id,
            flags_fragment: IP_DF,
            ttl: CARP_DFLTTL,
            protocol: IPPROTO_CARP,
            src,
            dst,
        })
    }

    /// The 20-byte header followed by `payload`, with total length and
    /// header checksum filled in.
    pub fn encode(&self, payload: &[u8]) -> Result<Vec<u8>, WireError> {
        let total = IPV4_HEADER_LEN + payload.len();
        let Ok(total16) = u16::try_from(total) else {
            return invalid(
                "IPv4 packet",
                format!("{total} bytes exceed the 65535-byte total length"),
            );
        };
        let mut p = Vec::with_capacity(total);
        p.push(0x45);
        p.push(self.tos);
        p.extend_from_slice(&total16.to_be_bytes());
        p.extend_from_slice(&self.id.to_be_bytes());
        p.extend_from_slice(&self.flags_fragment.to_be_bytes());
        p.push(self.ttl);
        p.push(self.protocol);
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(&self.src.octets());
        p.extend_from_slice(&self.dst.octets());
        let sum = Checksum::new().add(&p).finish();
        p[10..12].copy_from_slice(&sum.to_be_bytes());
        p.extend_from_slice(payload);
        Ok(p)
    }

    /// Parses an IPv4 packet: the header and the payload as delimited by
    /// the total length (Ethernet padding after it is dropped). Refuses a
    /// wrong version, a bad header length or checksum, and fragments
    /// (carp(4) never fragments a 56-byte packet).
    pub fn parse(bytes: &[u8]) -> Result<(Self, &[u8]), WireError> {
        const WHAT: &str = "IPv4 header";
        let b = prefix::<IPV4_HEADER_LEN>(bytes, WHAT)?;
        if b[0] >> 4 != 4 {
            return malformed(WHAT, format!("byte 0: version {}, want 4", b[0] >> 4));
        }
        let ihl = usize::from(b[0] & 0x0f) * 4;
        if ihl < IPV4_HEADER_LEN {
            return malformed(
                WHAT,
                format!("byte 0: header length {ihl}, want at least 20"),
            );
        }
        let total = usize::from(u16::from_be_bytes([b[2], b[3]]));
        if total < ihl {
            return malformed(
                WHAT,
                format!("bytes 2-3: total length {total} < header length {ihl}"),
            );
        }
        if total > bytes.len() {
            return Err(WireError::Truncated {
                what: "IPv4 packet",
                need: total,
                got: bytes.len(),
            });
        }
        let (header, payload) = bytes[..total].split_at(ihl);
        if Checksum::new().add(header).finish() != 0 {
            return malformed(
                WHAT,
                format!(
                    "bytes 10-11: header checksum {:#06x} does not verify",
                    u16::from_be_bytes([b[10], b[11]])
                ),
            );
        }
        let flags_fragment = u16::from_be_bytes([b[6], b[7]]);
        if flags_fragment & (IP_MF | 0x1fff) != 0 {
            return malformed(
                WHAT,
                format!("bytes 6-7: {flags_fragment:#06x} is a fragment"),
            );
        }
        let h = Ipv4Header {
            tos: b[1],
            id: u16::from_be_bytes([b[4], b[5]]),
            flags_fragment,
            ttl: b[8],
            protocol: b[9],
            src: Ipv4Addr::new(b[12], b[13], b[14], b[15]),
            dst: Ipv4Addr::new(b[16], b[17], b[18], b[19]),
        };
        Ok((h, payload))
    }
}

/// An IPv6 fixed header (extension headers are not interpreted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Header {
    pub traffic_class: u8,
    /// 20 bits.
    pub flow_label: u32,
    pub next_header: u8,
    pub hop_limit: u8,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
}

impl Ipv6Header {
    /// The header of a CARP or VRRPv3 advertisement: traffic class =
    /// dscp << 2 (first word 0x6e000000 by default), flow 0, next header
    /// 112, hop limit 255.
    pub fn carp(src: Ipv6Addr, dst: Ipv6Addr, dscp: u8) -> Result<Self, WireError> {
        Ok(Ipv6Header {
            traffic_class: tos_from_dscp(dscp)?,
            flow_label: 0,
            next_header: IPPROTO_CARP,
            hop_limit: CARP_DFLTTL,
            src,
            dst,
        })
    }

    /// The 40-byte header followed by `payload`.
    pub fn encode(&self, payload: &[u8]) -> Result<Vec<u8>, WireError> {
        let Ok(plen) = u16::try_from(payload.len()) else {
            return invalid(
                "IPv6 packet",
                format!(
                    "payload of {} bytes exceeds 65535 (no jumbograms)",
                    payload.len()
                ),
            );
        };
        if self.flow_label > 0xf_ffff {
            return invalid(
                "IPv6 header",
                format!("flow label {:#x} exceeds 20 bits", self.flow_label),
            );
        }
        let first = 6u32 << 28 | u32::from(self.traffic_class) << 20 | self.flow_label;
        let mut p = Vec::with_capacity(IPV6_HEADER_LEN + payload.len());
        p.extend_from_slice(&first.to_be_bytes());
        p.extend_from_slice(&plen.to_be_bytes());
        p.push(self.next_header);
        p.push(self.hop_limit);
        p.extend_from_slice(&self.src.octets());
        p.extend_from_slice(&self.dst.octets());
        p.extend_from_slice(payload);
        Ok(p)
    }

    /// Parses an IPv6 packet: the fixed header and the payload as
    /// delimited by the payload length.
    pub fn parse(bytes: &[u8]) -> Result<(Self, &[u8]), WireError> {
        const WHAT: &str = "IPv6 header";
        let b = prefix::<IPV6_HEADER_LEN>(bytes, WHAT)?;
        let first = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if first >> 28 != 6 {
            return malformed(WHAT, format!("byte 0: version {}, want 6", first >> 28));
        }
        let plen = usize::from(u16::from_be_bytes([b[4], b[5]]));
        let rest = &bytes[IPV6_HEADER_LEN..];
        let Some(payload) = rest.get(..plen) else {
            return Err(WireError::Truncated {
                what: "IPv6 packet",
                need: IPV6_HEADER_LEN + plen,
                got: bytes.len(),
            });
        };
        let addr = |off: usize| {
            let mut o = [0u8; 16];
            o.copy_from_slice(&b[off..off + 16]);
            Ipv6Addr::from(o)
        };
        let h = Ipv6Header {
            traffic_class: (first >> 20) as u8,
            flow_label: first & 0xf_ffff,
            next_header: b[6],
            hop_limit: b[7],
            src: addr(8),
            dst: addr(24),
        };
        Ok((h, payload))
    }
}

/// Either IP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpHeader {
    V4(Ipv4Header),
    V6(Ipv6Header),
}

impl IpHeader {
    /// A CARP/VRRPv3 header from `src` to `dst` (same family); `id` is
    /// used for IPv4 only (`ip_fillid` on FreeBSD).
    pub fn carp(src: IpAddr, dst: IpAddr, dscp: u8, id: u16) -> Result<Self, WireError> {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => Ok(IpHeader::V4(Ipv4Header::carp(s, d, dscp, id)?)),
            (IpAddr::V6(s), IpAddr::V6(d)) => Ok(IpHeader::V6(Ipv6Header::carp(s, d, dscp)?)),
            _ => invalid(
                "IP header",
                format!("source {src} and destination {dst} are of different families"),
            ),
        }
    }

    pub fn encode(&self, payload: &[u8]) -> Result<Vec<u8>, WireError> {
        match self {
            IpHeader::V4(h) => h.encode(payload),
            IpHeader::V6(h) => h.encode(payload),
        }
    }

    pub(crate) fn src(&self) -> IpAddr {
        match self {
            IpHeader::V4(h) => h.src.into(),
            IpHeader::V6(h) => h.src.into(),
        }
    }

    pub fn dst(&self) -> IpAddr {
        match self {
            IpHeader::V4(h) => h.dst.into(),
            IpHeader::V6(h) => h.dst.into(),
        }
    }

    /// TTL or hop limit.
    pub(crate) fn ttl(&self) -> u8 {
        match self {
            IpHeader::V4(h) => h.ttl,
            IpHeader::V6(h) => h.hop_limit,
        }
    }

    /// Protocol or next header.
    pub fn protocol(&self) -> u8 {
        match self {
            IpHeader::V4(h) => h.protocol,
            IpHeader::V6(h) => h.next_header,
        }
    }

    pub(crate) fn is_v6(&self) -> bool {
        matches!(self, IpHeader::V6(_))
    }
}

/// A parsed IP packet: its header and a view of its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPacket<'a> {
    pub header: IpHeader,
    pub payload: &'a [u8],
}

impl<'a> IpPacket<'a> {
    /// Parses IPv4 or IPv6 by the version nibble.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WireError> {
        match bytes.first().map(|b| b >> 4) {
            Some(4) => Ipv4Header::parse(bytes).map(|(h, payload)| IpPacket {
                header: IpHeader::V4(h),
                payload,
            }),
            Some(6) => Ipv6Header::parse(bytes).map(|(h, payload)| IpPacket {
                header: IpHeader::V6(h),
                payload,
            }),
            Some(v) => malformed("IP header", format!("byte 0: version {v}, want 4 or 6")),
            None => Err(WireError::Truncated {
                what: "IP header",
                need: 1,
                got: 0,
            }),
        }
    }
}

/// Adds the pseudo-header of `src` → `dst` for an upper-layer message of
/// `len` bytes and protocol `proto` (RFC 768 for IPv4, RFC 8200 §8.1 for
/// IPv6), as VRRPv3 and ICMPv6 checksums include it.
pub(crate) fn add_pseudo_header(
    c: &mut Checksum,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    len: usize,
) -> Result<(), WireError> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let Ok(len) = u16::try_from(len) else {
                return invalid("IPv4 pseudo-header", format!("length {len} exceeds 65535"));
            };
            c.add(&s.octets())
                .add(&d.octets())
                .add(&[0, proto])
                .add(&len.to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let Ok(len) = u32::try_from(len) else {
                return invalid("IPv6 pseudo-header", format!("length {len} exceeds 2^32"));
            };
            c.add(&s.octets())
                .add(&d.octets())
                .add(&len.to_be_bytes())
                .add(&[0, 0, 0, proto]);
        }
        _ => {
            return invalid(
                "pseudo-header",
                format!("source {src} and destination {dst} are of different families"),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IPv4 header of `docs/freebsd-carp.md` §10.4, written out field by field:
    /// 45 | e0 (dscp 56 << 2) | 0038 (56) | 0000 (id) | 4000 (DF) | ff (TTL)
    /// | 70 (112) | d8b7 (checksum, from the reference) | c0a80103 | e0000012.
    #[test]
    fn ipv4_carp_header_bytes() {
        let h = Ipv4Header::carp(
            Ipv4Addr::new(192, 168, 1, 3),
            Ipv4Addr::new(224, 0, 0, 18),
            56,
            0,
        )
        .unwrap();
        let p = h.encode(&[0u8; 36]).unwrap();
        assert_eq!(
            hex::encode(&p[..20]),
            concat!("45e00038", "00004000", "ff70d8b7", "c0a80103", "e0000012")
        );
        let (back, payload) = Ipv4Header::parse(&p).unwrap();
        assert_eq!(back, h);
        assert_eq!(payload, &[0u8; 36]);
    }

    /// First word 0x6e000000 (version 6, traffic class 0xe0), payload length
    /// 0x0024, next header 0x70, hop limit 0xff, then the addresses.
    #[test]
    fn ipv6_carp_header_bytes() {
        let h =
            Ipv6Header::carp("fe80::1".parse().unwrap(), "ff02::12".parse().unwrap(), 56).unwrap();
        let p = h.encode(&[0u8; 36]).unwrap();
        assert_eq!(
            hex::encode(&p[..40]),
            concat!(
                "6e000000",
                "002470ff",
                "fe800000000000000000000000000001",
                "ff020000000000000000000000000012"
            )
        );
        assert_eq!(Ipv6Header::parse(&p).unwrap(), (h, &[0u8; 36][..]));
    }

    #[test]
    fn dscp_out_of_range() {
        let err = Ipv4Header::carp(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 64, 0).unwrap_err();
        assert_eq!(err.to_string(), "DSCP: 64 is out of range 0-63");
        assert_eq!(tos_from_dscp(63).unwrap(), 0xfc);
    }

    #[test]
    fn mixed_families_are_refused() {
        let err = IpHeader::carp(
            "10.0.0.1".parse().unwrap(),
            "ff02::12".parse().unwrap(),
            0,
            0,
        )
        .unwrap_err();
        assert!(err.to_string().contains("different families"), "{err}");
    }

    fn v4_packet() -> Vec<u8> {
        Ipv4Header::carp(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(224, 0, 0, 18),
            56,
            9,
        )
        .unwrap()
        .encode(&[1, 2, 3, 4])
        .unwrap()
    }

    #[test]
    fn ipv4_bad_inputs() {
        let p = v4_packet();
        let e = |b: &[u8]| Ipv4Header::parse(b).unwrap_err().to_string();
        assert_eq!(e(&p[..19]), "IPv4 header: 19 bytes, need at least 20");
        let mut bad = p.clone();
        bad[0] = 0x55;
        assert_eq!(e(&bad), "IPv4 header: byte 0: version 5, want 4");
        let mut bad = p.clone();
        bad[0] = 0x44;
        assert_eq!(
            e(&bad),
            "IPv4 header: byte 0: header length 16, want at least 20"
        );
        assert_eq!(e(&p[..23]), "IPv4 packet: 23 bytes, need at least 24");
        let mut bad = p.clone();
        bad[8] = 1; // TTL changed, checksum not
        assert!(
            e(&bad).starts_with("IPv4 header: bytes 10-11: header checksum"),
            "{}",
            e(&bad)
        );
        // A fragment, with a fixed-up checksum.
        let mut frag = Ipv4Header::parse(&p).unwrap().0;
        frag.flags_fragment = IP_MF;
        let bad = frag.encode(&[1, 2, 3, 4]).unwrap();
        assert_eq!(e(&bad), "IPv4 header: bytes 6-7: 0x2000 is a fragment");
        // Ethernet padding after the total length is not payload.
        let mut padded = p.clone();
        padded.extend_from_slice(&[0; 10]);
        assert_eq!(Ipv4Header::parse(&padded).unwrap().1, &[1, 2, 3, 4]);
    }

    #[test]
    fn ipv6_bad_inputs() {
        let p = Ipv6Header::carp(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST, 0)
            .unwrap()
            .encode(&[9; 8])
            .unwrap();
        let e = |b: &[u8]| IpPacket::parse(b).unwrap_err().to_string();
        assert_eq!(e(&p[..39]), "IPv6 header: 39 bytes, need at least 40");
        assert_eq!(e(&p[..47]), "IPv6 packet: 47 bytes, need at least 48");
        assert_eq!(e(&[0x50]), "IP header: byte 0: version 5, want 4 or 6");
        assert_eq!(e(&[]), "IP header: 0 bytes, need at least 1");
        let h = Ipv6Header {
            flow_label: 0x10_0000,
            ..Ipv6Header::parse(&p).unwrap().0
        };
        assert!(
            h.encode(&[])
                .unwrap_err()
                .to_string()
                .contains("flow label")
        );
    }

    /// RFC 768 pseudo-header 10.0.0.1 -> 224.0.0.18, protocol 112, length
    /// 8: words 0a00 0001 e000 0012 0070 0008 sum to 0xea8b (no carry),
    /// complement 0x1574.
    #[test]
    fn ipv4_pseudo_header_sum() {
        let mut c = Checksum::new();
        add_pseudo_header(
            &mut c,
            "10.0.0.1".parse().unwrap(),
            "224.0.0.18".parse().unwrap(),
            112,
            8,
        )
        .unwrap();
        assert_eq!(c.finish(), 0x1574);
    }
}
