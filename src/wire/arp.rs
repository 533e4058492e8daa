//! What a new MASTER announces (§10.5, `carp_master_down`): a gratuitous
//! ARP for each IPv4 address of the vhid (`carp_send_arp`) and an
//! unsolicited neighbor advertisement for each IPv6 address
//! (`carp_send_na`), so that switches and neighbours move the VIPs to it.
//!
//! Gratuitous ARP (`arp_announce_ifaddr` → `arprequest`, `netinet/if_ether.c`):
//! an ARP *request* whose sender and target protocol addresses are both the
//! VIP and whose sender hardware address is the virtual MAC; the target
//! hardware address is zero. The Ethernet header comes from
//! `arp_fillheader`: broadcast destination and, as the ARP mbuf carries no
//! carp tag, the **interface's own MAC** as source **[inferred from
//! `if_ether.c`: `ether_requestencap` fills `IF_LLADDR(ifp)`]**.
//!
//! ARP packet (RFC 826, 28 bytes for Ethernet/IPv4):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | hardware type 1 (Ethernet) |
//! | 2 | 2 | protocol type 0x0800 |
//! | 4 | 1 | hardware length 6 |
//! | 5 | 1 | protocol length 4 |
//! | 6 | 2 | operation (1 request, 2 reply) |
//! | 8 | 6 | sender MAC |
//! | 14 | 4 | sender IPv4 |
//! | 18 | 6 | target MAC |
//! | 24 | 4 | target IPv4 |
//!
//! Unsolicited NA (`nd6_na_output(ifp, ff02::1, vip, ND_NA_FLAG_OVERRIDE, 1,
//! NULL)`, `netinet6/nd6_nbr.c`): to ff02::1 with hop limit 255, traffic
//! class 0, from the interface's address chosen for ff02::1 (its
//! link-local), Override set, Router and Solicited clear, the VIP (scope
//! cleared) as target and a target link-layer address option holding the
//! virtual MAC (`carp_macmatch6`, which also tags the mbuf so the Ethernet
//! source becomes the virtual MAC).
//!
//! Neighbor advertisement (RFC 4861 §4.4), as ICMPv6:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | type 136 |
//! | 1 | 1 | code 0 |
//! | 2 | 2 | checksum (with the IPv6 pseudo-header, next header 58) |
//! | 4 | 1 | flags: Router 0x80, Solicited 0x40, Override 0x20 |
//! | 5 | 3 | reserved |
//! | 8 | 16 | target address |
//! | 24 | 8 | option: type 2 (target link-layer address), length 1 (× 8 bytes), MAC |

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::carp::clear_embedded_scope;
use super::frame::{ETHERTYPE_ARP, ETHERTYPE_IPV6, EthernetHeader, MacAddr};
use super::ip::{IPPROTO_ICMPV6, IpHeader, IpPacket, Ipv6Header, add_pseudo_header};
use super::{Checksum, WireError, malformed, prefix};

/// Length of an Ethernet/IPv4 ARP packet.
pub(crate) const ARP_LEN: usize = 28;
/// `ARPOP_REQUEST`.
pub(crate) const ARPOP_REQUEST: u16 = 1;
/// `ARPOP_REPLY`.
pub const ARPOP_REPLY: u16 = 2;
/// `ARPHRD_ETHER`.
pub(crate) const ARPHRD_ETHER: u16 = 1;
/// `ND_NEIGHBOR_ADVERT`.
pub(crate) const ND_NEIGHBOR_ADVERT: u8 = 136;
/// `ND_OPT_TARGET_LINKADDR`.
pub(crate) const ND_OPT_TARGET_LINKADDR: u8 = 2;
/// Length of a neighbor advertisement with its target link-layer option.
pub(crate) const NA_LEN: usize = 32;
/// ff02::1, all nodes on the link (`IN6ADDR_LINKLOCAL_ALLNODES_INIT`).
pub(crate) const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

const NA_ROUTER: u8 = 0x80;
const NA_SOLICITED: u8 = 0x40;
const NA_OVERRIDE: u8 = 0x20;

/// An Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpPacket {
    pub op: u16,
    pub(crate) sender_mac: MacAddr,
    pub(crate) sender_ip: Ipv4Addr,
    pub(crate) target_mac: MacAddr,
    pub(crate) target_ip: Ipv4Addr,
}

impl ArpPacket {
    /// The gratuitous ARP request carp(4) sends for `vip` on takeover.
    pub(crate) fn gratuitous(vmac: MacAddr, vip: Ipv4Addr) -> Self {
        ArpPacket {
            op: ARPOP_REQUEST,
            sender_mac: vmac,
            sender_ip: vip,
            target_mac: MacAddr::ZERO,
            target_ip: vip,
        }
    }

    /// Sender and target protocol addresses are the same: an
    /// announcement, not a question.
    pub fn is_gratuitous(&self) -> bool {
        self.sender_ip == self.target_ip
    }

    pub fn to_bytes(&self) -> [u8; ARP_LEN] {
        let mut b = [0u8; ARP_LEN];
        b[0..2].copy_from_slice(&ARPHRD_ETHER.to_be_bytes());
        b[2..4].copy_from_slice(&super::frame::ETHERTYPE_IPV4.to_be_bytes());
        b[4] = 6;
        b[5] = 4;
        b[6..8].copy_from_slice(&self.op.to_be_bytes());
        b[8..14].copy_from_slice(&self.sender_mac.0);
        b[14..18].copy_from_slice(&self.sender_ip.octets());
        b[18..24].copy_from_slice(&self.target_mac.0);
        b[24..28].copy_from_slice(&self.target_ip.octets());
        b
    }

    /// Parses an Ethernet/IPv4 ARP packet; bytes after it (Ethernet
    /// padding) are ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        const WHAT: &str = "ARP packet";
        let b = prefix::<ARP_LEN>(bytes, WHAT)?;
        let htype = u16::from_be_bytes([b[0], b[1]]);
        let ptype = u16::from_be_bytes([b[2], b[3]]);
        if htype != ARPHRD_ETHER || ptype != super::frame::ETHERTYPE_IPV4 || b[4] != 6 || b[5] != 4
        {
            return malformed(
                WHAT,
                format!(
                    "bytes 0-5: hardware {htype}/{} and protocol {ptype:#06x}/{}, want Ethernet (1/6) and IPv4 (0x0800/4)",
                    b[4], b[5]
                ),
            );
        }
        let mac = |off: usize| {
            let mut o = [0u8; 6];
            o.copy_from_slice(&b[off..off + 6]);
            MacAddr(o)
        };
        let ip = |off: usize| Ipv4Addr::new(b[off], b[off + 1], b[off + 2], b[off + 3]);
        Ok(ArpPacket {
            op: u16::from_be_bytes([b[6], b[7]]),
            sender_mac: mac(8),
            sender_ip: ip(14),
            target_mac: mac(18),
            target_ip: ip(24),
        })
    }
}

/// The gratuitous ARP frame for `vip`: broadcast, from the interface's own
/// MAC `if_mac`, announcing the virtual MAC `vmac`.
pub fn gratuitous_arp_frame(if_mac: MacAddr, vmac: MacAddr, vip: Ipv4Addr) -> Vec<u8> {
    EthernetHeader {
        dst: MacAddr::BROADCAST,
        src: if_mac,
        ethertype: ETHERTYPE_ARP,
    }
    .encode(&ArpPacket::gratuitous(vmac, vip).to_bytes())
}

/// An ICMPv6 neighbor advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NeighborAdvert {
    pub(crate) router: bool,
    pub(crate) solicited: bool,
    pub(crate) override_flag: bool,
    pub target: Ipv6Addr,
    /// The target link-layer address option, if present.
    pub(crate) target_mac: Option<MacAddr>,
}

impl NeighborAdvert {
    /// The unsolicited NA carp(4) sends for `vip` on takeover: Override,
    /// the virtual MAC as target link-layer address.
    pub(crate) fn carp_takeover(vip: Ipv6Addr, vmac: MacAddr) -> Self {
        NeighborAdvert {
            router: false,
            solicited: false,
            override_flag: true,
            target: clear_embedded_scope(vip),
            target_mac: Some(vmac),
        }
    }

    /// The ICMPv6 message from `src` to `dst`, checksum included.
    pub fn encode(&self, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
        let mut m = Vec::with_capacity(NA_LEN);
        m.extend_from_slice(&[ND_NEIGHBOR_ADVERT, 0, 0, 0]);
        let mut flags = 0;
        for (set, bit) in [
            (self.router, NA_ROUTER),
            (self.solicited, NA_SOLICITED),
            (self.override_flag, NA_OVERRIDE),
        ] {
            if set {
                flags |= bit;
            }
        }
        m.extend_from_slice(&[flags, 0, 0, 0]);
        m.extend_from_slice(&self.target.octets());
        if let Some(mac) = self.target_mac {
            m.extend_from_slice(&[ND_OPT_TARGET_LINKADDR, 1]);
            m.extend_from_slice(&mac.0);
        }
        let sum = icmpv6_checksum(&m, src, dst);
        m[2..4].copy_from_slice(&sum.to_be_bytes());
        m
    }

    /// Reads a neighbor advertisement out of an IP packet: IPv6, next
    /// header 58, a verifying checksum, type 136 code 0, and well-formed
    /// options (RFC 4861 §7.1.2; the hop limit is the caller's to judge).
    /// Other options are skipped.
    pub fn parse(ip: &IpPacket<'_>) -> Result<Self, WireError> {
        const WHAT: &str = "neighbor advertisement";
        let IpHeader::V6(h) = ip.header else {
            return malformed(WHAT, "carried over IPv4");
        };
        if h.next_header != IPPROTO_ICMPV6 {
            return malformed(
                WHAT,
                format!("next header {}, want 58 (ICMPv6)", h.next_header),
            );
        }
        let m = ip.payload;
        let b = prefix::<24>(m, WHAT)?;
        if b[0] != ND_NEIGHBOR_ADVERT || b[1] != 0 {
            return malformed(
                WHAT,
                format!(
                    "bytes 0-1: ICMPv6 type {} code {}, want 136 code 0",
                    b[0], b[1]
                ),
            );
        }
        if icmpv6_checksum(m, h.src, h.dst) != 0 {
            return malformed(
                WHAT,
                format!(
                    "bytes 2-3: checksum {:#06x} does not verify",
                    u16::from_be_bytes([b[2], b[3]])
                ),
            );
        }
        let mut target = [0u8; 16];
        target.copy_from_slice(&b[8..24]);
        let mut target_mac = None;
        let mut opts = &m[24..];
        let mut off = 24;
        while let [kind, len, ..] = *opts {
            let size = usize::from(len) * 8;
            if size == 0 {
                return malformed(WHAT, format!("byte {off}: option {kind} has length 0"));
            }
            let Some(opt) = opts.get(..size) else {
                return malformed(
                    WHAT,
                    format!("byte {off}: option {kind} of {size} bytes runs past the end"),
                );
            };
            if kind == ND_OPT_TARGET_LINKADDR
                && let Some(mac) = opt.get(2..8)
            {
                let mut o = [0u8; 6];
                o.copy_from_slice(mac);
                target_mac = Some(MacAddr(o));
            }
            opts = &opts[size..];
            off += size;
        }
        if !opts.is_empty() {
            return malformed(WHAT, format!("byte {off}: 1 stray byte after the options"));
        }
        Ok(NeighborAdvert {
            router: b[4] & NA_ROUTER != 0,
            solicited: b[4] & NA_SOLICITED != 0,
            override_flag: b[4] & NA_OVERRIDE != 0,
            target: Ipv6Addr::from(target),
            target_mac,
        })
    }
}

/// ICMPv6 checksum of `m` from `src` to `dst` (RFC 4443 §2.3).
fn icmpv6_checksum(m: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> u16 {
    let mut c = Checksum::new();
    // Same family and a length far below 2^32: cannot fail.
    let _ = add_pseudo_header(
        &mut c,
        IpAddr::V6(src),
        IpAddr::V6(dst),
        IPPROTO_ICMPV6,
        m.len(),
    );
    c.add(m).finish()
}

/// The IPv6 header of an unsolicited NA: ICMPv6 from `src` to ff02::1,
/// hop limit 255 (RFC 4861 §7.1.2 drops any other), class and flow 0.
fn unsolicited_na_header(src: Ipv6Addr) -> Ipv6Header {
    Ipv6Header {
        traffic_class: 0,
        flow_label: 0,
        next_header: IPPROTO_ICMPV6,
        hop_limit: 255,
        src,
        dst: ALL_NODES,
    }
}

/// The unsolicited NA frame for `vip`: from the virtual MAC `vmac` to
/// 33:33:00:00:00:01, IPv6 from `src` (the interface's link-local address)
/// to ff02::1, hop limit 255.
pub fn unsolicited_na_frame(vmac: MacAddr, src: Ipv6Addr, vip: Ipv6Addr) -> Vec<u8> {
    let na = NeighborAdvert::carp_takeover(vip, vmac).encode(src, ALL_NODES);
    let ip = unsolicited_na_header(src);
    // Written by hand rather than through Ipv6Header::encode, whose only
    // failures (payload over 64 KiB, flow label over 20 bits) cannot occur
    // for this 32-byte message with flow 0.
    let mut p = Vec::with_capacity(40 + na.len());
    p.extend_from_slice(&[0x60, 0, 0, 0]);
    p.extend_from_slice(&(na.len() as u16).to_be_bytes());
    p.extend_from_slice(&[ip.next_header, ip.hop_limit]);
    p.extend_from_slice(&ip.src.octets());
    p.extend_from_slice(&ip.dst.octets());
    p.extend_from_slice(&na);
    EthernetHeader {
        dst: MacAddr::ipv6_multicast(ALL_NODES),
        src: vmac,
        ethertype: ETHERTYPE_IPV6,
    }
    .encode(&p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::{Payload, decode_frame};

    /// The whole gratuitous ARP for 192.0.2.1 on vhid 1 from an interface
    /// whose MAC is 52:54:00:00:00:01, written out:
    /// ff..ff | 525400000001 | 0806 ; 0001 0800 06 04 0001 |
    /// 00005e000101 c0000201 | 000000000000 c0000201.
    #[test]
    fn gratuitous_arp_bytes() {
        let f = gratuitous_arp_frame(
            MacAddr([0x52, 0x54, 0, 0, 0, 1]),
            MacAddr::carp_virtual(1),
            Ipv4Addr::new(192, 0, 2, 1),
        );
        let want = concat!(
            "ffffffffffff",
            "525400000001",
            "0806",
            "0001",
            "0800",
            "06",
            "04",
            "0001",
            "00005e000101",
            "c0000201",
            "000000000000",
            "c0000201"
        );
        assert_eq!(hex::encode(&f), want);
        let Payload::Arp(arp) = decode_frame(&f).unwrap().payload else {
            panic!("not ARP")
        };
        assert_eq!(
            arp,
            ArpPacket::gratuitous(MacAddr::carp_virtual(1), Ipv4Addr::new(192, 0, 2, 1))
        );
        assert!(arp.is_gratuitous());
    }

    #[test]
    fn arp_bad_inputs() {
        let good =
            ArpPacket::gratuitous(MacAddr::carp_virtual(1), Ipv4Addr::new(10, 0, 0, 1)).to_bytes();
        assert_eq!(
            ArpPacket::parse(&good[..27]).unwrap_err().to_string(),
            "ARP packet: 27 bytes, need at least 28"
        );
        let mut bad = good;
        bad[5] = 16;
        let e = ArpPacket::parse(&bad).unwrap_err().to_string();
        assert!(
            e.starts_with("ARP packet: bytes 0-5: hardware 1/6 and protocol 0x0800/16"),
            "{e}"
        );
        // Padding after the packet is fine.
        let mut padded = good.to_vec();
        padded.extend_from_slice(&[0; 18]);
        assert_eq!(ArpPacket::parse(&padded).unwrap().to_bytes(), good);
    }

    /// The NA for 2001:db8::1 on vhid 1 from fe80::1, written out. ICMPv6
    /// checksum by hand: pseudo-header fe80 0001 ff02 0001 (the non-zero
    /// words of the addresses), length 0020, next header 003a; message
    /// 8800 2000 2001 0db8 0001 (the non-zero words), option 0201, MAC
    /// 0000 5e00 0101: see `NA_CHECKSUM`.
    #[test]
    fn unsolicited_na_bytes() {
        let vmac = MacAddr::carp_virtual(1);
        let f = unsolicited_na_frame(
            vmac,
            "fe80::1".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
        );
        let want = concat!(
            "333300000001",
            "00005e000101",
            "86dd",
            "60000000",
            "0020",
            "3a",
            "ff",
            "fe800000000000000000000000000001",
            "ff020000000000000000000000000001",
            "88",
            "00",
            "CKSM",
            "20000000",
            "20010db8000000000000000000000001",
            "02",
            "01",
            "00005e000101"
        );
        let got = hex::encode(&f);
        assert_eq!(got.len(), want.len());
        // Everything but the checksum is fixed by the layout above.
        assert_eq!(&got[..112], &want[..112]);
        assert_eq!(&got[116..], &want[116..]);
        assert_eq!(&got[112..116], NA_CHECKSUM);

        let frame = decode_frame(&f).unwrap();
        let Payload::Ip(ip) = frame.payload else {
            panic!("not IP")
        };
        let na = NeighborAdvert::parse(&ip).unwrap();
        assert_eq!(
            na,
            NeighborAdvert::carp_takeover("2001:db8::1".parse().unwrap(), vmac)
        );
        assert!(na.override_flag && !na.solicited && !na.router);
    }

    /// See `unsolicited_na_bytes`: pseudo-header words
    /// 0xfe80+0x0001+0xff02+0x0001+0x0020+0x003a = 0x1fdde; message words
    /// 0x8800+0x2000+0x2001+0x0db8+0x0001+0x0201+0x5e00+0x0101 = 0x136bc;
    /// total 0x3349a, folded 0x349a + 3 = 0x349d, complement 0xcb62.
    const NA_CHECKSUM: &str = "cb62";

    #[test]
    fn na_bad_inputs() {
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let good =
            NeighborAdvert::carp_takeover("2001:db8::1".parse().unwrap(), MacAddr::carp_virtual(1))
                .encode(src, ALL_NODES);
        let hdr = unsolicited_na_header(src);
        let parse = |m: &[u8], h: Ipv6Header| {
            NeighborAdvert::parse(&IpPacket {
                header: IpHeader::V6(h),
                payload: m,
            })
            .map_err(|e| e.to_string())
        };
        assert!(parse(&good, hdr).is_ok());
        let e = parse(&good[..20], hdr).unwrap_err();
        assert_eq!(e, "neighbor advertisement: 20 bytes, need at least 24");
        let mut bad = good.clone();
        bad[30] ^= 1;
        assert!(parse(&bad, hdr).unwrap_err().contains("does not verify"));
        let e = parse(
            &good,
            Ipv6Header {
                next_header: 17,
                ..hdr
            },
        )
        .unwrap_err();
        assert_eq!(
            e,
            "neighbor advertisement: next header 17, want 58 (ICMPv6)"
        );
        let e = parse(
            &good,
            Ipv6Header {
                src: "fe80::2".parse().unwrap(),
                ..hdr
            },
        )
        .unwrap_err();
        assert!(e.contains("does not verify"), "{e}");
        // An option of length 0, with the checksum fixed up.
        let mut zero = good.clone();
        zero[25] = 0;
        zero[2..4].copy_from_slice(&[0, 0]);
        let sum = icmpv6_checksum(&zero, src, ALL_NODES);
        zero[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(
            parse(&zero, hdr).unwrap_err(),
            "neighbor advertisement: byte 24: option 2 has length 0"
        );
        // A neighbor solicitation is not an advertisement.
        let mut ns = good.clone();
        ns[0] = 135;
        ns[2..4].copy_from_slice(&[0, 0]);
        let sum = icmpv6_checksum(&ns, src, ALL_NODES);
        ns[2..4].copy_from_slice(&sum.to_be_bytes());
        assert!(parse(&ns, hdr).unwrap_err().contains("type 135 code 0"));
    }
}
