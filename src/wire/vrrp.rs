//! The VRRPv3 advertisement carp(4) sends for a `carpver 3` vhid (15.0+,
//! `vrrp_send_ad_locked`, §10.6; RFC 9568 §5.1):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | version 3 / type 1: 0x31 |
//! | 1 | 1 | `vrrp_vrtid` (the vhid) |
//! | 2 | 1 | `vrrp_priority` |
//! | 3 | 1 | `vrrp_count_addr` |
//! | 4 | 2 | `vrrp_max_adver_int`: 4 reserved bits + 12-bit centiseconds |
//! | 6 | 2 | `vrrp_checksum`: over the message and the IP pseudo-header |
//! | 8 | 4 or 16 each | the vhid's addresses of the packet's family, in attach order |
//!
//! No authentication; always multicast (224.0.0.18 / ff02::12), TTL 255,
//! source MAC `00:00:5e:00:01:<vrid>` (§10.3, §8.7).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use carpctl_sys::{
    CARP_VERSION_VRRPV3, IPPROTO_CARP, VRRP_MAX_INTERVAL, VRRP_TYPE_ADVERTISEMENT,
    VRRPV3_HEADER_LEN,
};

use super::ip::add_pseudo_header;
use super::{Checksum, WireError, invalid, prefix};

/// A VRRPv3 advertisement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VrrpAdvert {
    /// High nibble of byte 0: 3.
    pub version: u8,
    /// Low nibble of byte 0: 1.
    pub kind: u8,
    pub vrid: u8,
    pub priority: u8,
    /// The 16-bit word as on the wire: the receiver uses it whole
    /// (`ntohs`, the 4 reserved bits are not masked, §8.7).
    pub(crate) max_adver_int: u16,
    /// As read by [`VrrpAdvert::parse`]; [`VrrpAdvert::encode`] always
    /// writes the correct value instead.
    pub checksum: u16,
    /// All of one family: the family of the packet.
    pub addrs: Vec<IpAddr>,
}

impl VrrpAdvert {
    /// An advertisement of `vrid` with `priority` and an interval of
    /// `interval_cs` centiseconds (at most 4095, `VRRP_MAX_INTERVAL`),
    /// listing `addrs`, which must all be of one family (at most 255).
    pub fn new(
        vrid: u8,
        priority: u8,
        interval_cs: u16,
        addrs: Vec<IpAddr>,
    ) -> Result<Self, WireError> {
        if interval_cs > VRRP_MAX_INTERVAL {
            return invalid(
                "VRRPv3 advertisement",
                format!("interval {interval_cs} cs exceeds {VRRP_MAX_INTERVAL} (12 bits)"),
            );
        }
        let adv = VrrpAdvert {
            version: CARP_VERSION_VRRPV3,
            kind: VRRP_TYPE_ADVERTISEMENT,
            vrid,
            priority,
            max_adver_int: interval_cs,
            checksum: 0,
            addrs,
        };
        adv.address_count()?;
        if let Some(first) = adv.addrs.first()
            && let Some(other) = adv.addrs.iter().find(|a| a.is_ipv4() != first.is_ipv4())
        {
            return invalid(
                "VRRPv3 advertisement",
                format!("addresses {first} and {other} are of different families"),
            );
        }
        Ok(adv)
    }

    /// The interval in centiseconds without the reserved bits.
    pub fn interval_cs(&self) -> u16 {
        self.max_adver_int & VRRP_MAX_INTERVAL
    }

    fn address_count(&self) -> Result<u8, WireError> {
        u8::try_from(self.addrs.len()).or_else(|_| {
            invalid(
                "VRRPv3 advertisement",
                format!(
                    "{} addresses; the count field holds at most 255",
                    self.addrs.len()
                ),
            )
        })
    }

    /// The message sent from `src` to `dst`, its checksum computed over
    /// the message and the pseudo-header of that pair. The addresses must
    /// be of the packet's family.
    pub fn encode(&self, src: IpAddr, dst: IpAddr) -> Result<Vec<u8>, WireError> {
        let count = self.address_count()?;
        if let Some(a) = self.addrs.iter().find(|a| a.is_ipv4() != src.is_ipv4()) {
            return invalid(
                "VRRPv3 advertisement",
                format!("address {a} cannot be listed in a packet from {src}"),
            );
        }
        let mut m = Vec::with_capacity(VRRPV3_HEADER_LEN + 16 * self.addrs.len());
        m.push((self.version & 0x0f) << 4 | (self.kind & 0x0f));
        m.push(self.vrid);
        m.push(self.priority);
        m.push(count);
        m.extend_from_slice(&self.max_adver_int.to_be_bytes());
        m.extend_from_slice(&[0, 0]);
        for a in &self.addrs {
            match a {
                IpAddr::V4(a) => m.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => m.extend_from_slice(&a.octets()),
            }
        }
        let sum = checksum(&m, src, dst)?;
        m[6..8].copy_from_slice(&sum.to_be_bytes());
        Ok(m)
    }

    /// Reads a VRRPv3 message as carp(4) receives it: the header, then the
    /// addresses that are there, at most `count_addr`. FreeBSD never reads
    /// the list (`vrrp_input_c()`: "XXX TODO Check IP address payload"),
    /// so a message whose list is shorter than its count is accepted
    /// (`docs/freebsd-carp.md` §9).
    pub(crate) fn parse_received(payload: &[u8], v6: bool) -> Result<Self, WireError> {
        let h = prefix::<VRRPV3_HEADER_LEN>(payload, "VRRPv3 header")?;
        let alen = if v6 { 16 } else { 4 };
        let whole = (payload.len() - VRRPV3_HEADER_LEN) / alen;
        let count = usize::from(h[3]).min(whole);
        let end = VRRPV3_HEADER_LEN + count * alen;
        let mut short = payload[..end].to_vec();
        short[3] = u8::try_from(count).unwrap_or(u8::MAX);
        let mut adv = Self::parse(&short, v6)?;
        adv.checksum = u16::from_be_bytes([h[6], h[7]]);
        Ok(adv)
    }

    /// Reads a VRRPv3 message carried over IPv6 (`v6`) or IPv4: the header
    /// and `count_addr` addresses. Bytes after the addresses are ignored.
    /// Neither the version nor the checksum is judged here (see
    /// [`super::rx::receive`]).
    pub fn parse(payload: &[u8], v6: bool) -> Result<Self, WireError> {
        let h = prefix::<VRRPV3_HEADER_LEN>(payload, "VRRPv3 header")?;
        let count = usize::from(h[3]);
        let alen = if v6 { 16 } else { 4 };
        let need = VRRPV3_HEADER_LEN + count * alen;
        let Some(list) = payload.get(VRRPV3_HEADER_LEN..need) else {
            return Err(WireError::Truncated {
                what: "VRRPv3 address list",
                need,
                got: payload.len(),
            });
        };
        let addrs = list
            .chunks_exact(alen)
            .map(|c| match <[u8; 16]>::try_from(c) {
                Ok(o) => IpAddr::V6(Ipv6Addr::from(o)),
                Err(_) => IpAddr::V4(Ipv4Addr::new(c[0], c[1], c[2], c[3])),
            })
            .collect();
        Ok(VrrpAdvert {
            version: h[0] >> 4,
            kind: h[0] & 0x0f,
            vrid: h[1],
            priority: h[2],
            max_adver_int: u16::from_be_bytes([h[4], h[5]]),
            checksum: u16::from_be_bytes([h[6], h[7]]),
            addrs,
        })
    }
}

/// The checksum of a VRRPv3 message `m` (its checksum field counted as
/// is) with the pseudo-header of `src` → `dst`, protocol 112 and the
/// message length: the value to store when the field is zero, 0 when `m`
/// already holds a correct one.
pub fn checksum(m: &[u8], src: IpAddr, dst: IpAddr) -> Result<u16, WireError> {
    let mut c = Checksum::new();
    add_pseudo_header(&mut c, src, dst, IPPROTO_CARP, m.len())?;
    Ok(c.add(m).finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// vrid 1, priority 100, interval 100 cs, one address 192.0.2.1, from
    /// 192.0.2.10 to 224.0.0.18. Written out: 31 01 64 01 | 0064 | sum |
    /// c0000201. Checksum by hand, pseudo-header words c000 020a e000 0012
    /// 0070 000c, message words 3101 6401 0064 0000 c000 0201:
    /// 0xc000+0x020a+0xe000+0x0012+0x0070+0x000c = 0x1a298,
    /// 0x3101+0x6401+0x0064+0xc000+0x0201 = 0x15767, total 0x2f9ff,
    /// folded 0xf9ff + 2 = 0xfa01, complement 0x05fe.
    #[test]
    fn ipv4_bytes_by_hand() {
        let adv = VrrpAdvert::new(1, 100, 100, vec![ip("192.0.2.1")]).unwrap();
        let m = adv.encode(ip("192.0.2.10"), ip("224.0.0.18")).unwrap();
        assert_eq!(hex::encode(&m), "31016401006405fec0000201");
        let back = VrrpAdvert::parse(&m, false).unwrap();
        assert_eq!(
            back,
            VrrpAdvert {
                checksum: 0x05fe,
                ..adv
            }
        );
        assert_eq!(checksum(&m, ip("192.0.2.10"), ip("224.0.0.18")).unwrap(), 0);
        // Another source address: the pseudo-header no longer matches.
        assert_ne!(checksum(&m, ip("192.0.2.11"), ip("224.0.0.18")).unwrap(), 0);
    }

    #[test]
    fn ipv6_round_trip_and_checksum() {
        let adv = VrrpAdvert::new(7, 200, 4095, vec![ip("2001:db8::7"), ip("fe80::7")]).unwrap();
        let (src, dst) = (ip("fe80::1"), ip("ff02::12"));
        let m = adv.encode(src, dst).unwrap();
        assert_eq!(m.len(), 8 + 32);
        assert_eq!(&m[..6], &[0x31, 7, 200, 2, 0x0f, 0xff]);
        assert_eq!(checksum(&m, src, dst).unwrap(), 0);
        let back = VrrpAdvert::parse(&m, true).unwrap();
        assert_eq!(back.addrs, adv.addrs);
        assert_eq!(back.interval_cs(), 4095);
    }

    #[test]
    fn reserved_bits_are_kept_raw() {
        let m = [0x31, 1, 100, 0, 0xf0, 0x64, 0, 0];
        let adv = VrrpAdvert::parse(&m, false).unwrap();
        assert_eq!(adv.max_adver_int, 0xf064);
        assert_eq!(adv.interval_cs(), 100);
    }

    #[test]
    fn bad_inputs() {
        let e = VrrpAdvert::new(1, 100, 4096, vec![]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "VRRPv3 advertisement: interval 4096 cs exceeds 4095 (12 bits)"
        );
        let e = VrrpAdvert::new(1, 100, 100, vec![ip("10.0.0.1"), ip("::1")]).unwrap_err();
        assert!(e.to_string().contains("different families"), "{e}");
        let many = (0..256u32)
            .map(|i| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)))
            .collect();
        let e = VrrpAdvert::new(1, 100, 100, many).unwrap_err();
        assert!(e.to_string().contains("256 addresses"), "{e}");
        let adv = VrrpAdvert::new(1, 100, 100, vec![ip("10.0.0.1")]).unwrap();
        let e = adv.encode(ip("fe80::1"), ip("ff02::12")).unwrap_err();
        assert!(e.to_string().contains("cannot be listed"), "{e}");
        let e = adv.encode(ip("10.0.0.2"), ip("ff02::12")).unwrap_err();
        assert!(e.to_string().contains("different families"), "{e}");
        let e = VrrpAdvert::parse(&[0x31, 1, 100], false).unwrap_err();
        assert_eq!(e.to_string(), "VRRPv3 header: 3 bytes, need at least 8");
        let e =
            VrrpAdvert::parse(&[0x31, 1, 100, 2, 0, 100, 0, 0, 10, 0, 0, 1], false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "VRRPv3 address list: 12 bytes, need at least 16"
        );
    }
}
