//! The VRRPv2 advertisement (RFC 3768 §5.1), which carp(4) never sends but
//! routers and Linux keepalived (`vrrp_version 2`, its default) do, on the
//! same IP protocol 112 and with the same first byte as CARP (version 2,
//! type 1: 0x21). `carpctl scan` must tell the two apart to see who
//! collides with a vhid.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | version 2 / type 1: 0x21 |
//! | 1 | 1 | VRID |
//! | 2 | 1 | priority |
//! | 3 | 1 | count of IPv4 addresses |
//! | 4 | 1 | authentication type (0 none, 1 simple text, 2 IP AH) |
//! | 5 | 1 | advertisement interval, seconds |
//! | 6 | 2 | checksum: RFC 1071 over the whole message, no pseudo-header |
//! | 8 | 4 each | the IPv4 addresses |
//! | then | 8 | authentication data (a clear-text password for type 1) |
//!
//! VRRPv2 is IPv4 only. A CARP header is 36 bytes with `carp_authlen` 7 in
//! byte 3; a VRRPv2 message is `16 + 4 × count` bytes, so a 36-byte one
//! has count 5: byte 3 tells them apart ([`looks_like_vrrp2`]).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use carpctl_sys::{CARP_AUTHLEN, CARP_HEADER_LEN};

use super::{WireError, prefix};

/// The fixed part before the addresses.
pub(crate) const VRRP2_HEADER_LEN: usize = 8;
/// The authentication data after the addresses.
pub(crate) const VRRP2_AUTH_LEN: usize = 8;

/// The authentication data: for type 1 a clear-text password, so it is
/// never shown (`Debug` is redacted) and only ever compared.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AuthData(pub [u8; VRRP2_AUTH_LEN]);

impl fmt::Debug for AuthData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthData(<redacted>)")
    }
}

/// A VRRPv2 advertisement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vrrp2Advert {
    pub vrid: u8,
    pub priority: u8,
    pub(crate) auth_type: u8,
    /// Seconds.
    pub(crate) adver_int: u8,
    pub checksum: u16,
    pub addrs: Vec<Ipv4Addr>,
    /// `None` when the message ends after the addresses.
    pub auth: Option<AuthData>,
}

/// Whether an IPv4 protocol-112 payload whose version nibble is 2 is a
/// VRRPv2 message rather than a CARP header: exactly `16 + 4 × count`
/// bytes, or `8 + 4 × count` (no authentication data), and not a 36-byte
/// message carrying CARP's `authlen` 7 in byte 3.
pub(crate) fn looks_like_vrrp2(payload: &[u8]) -> bool {
    let [first, _, _, count, ..] = *payload else {
        return false;
    };
    if first >> 4 != 2 {
        return false;
    }
    if payload.len() == CARP_HEADER_LEN && count == CARP_AUTHLEN {
        return false;
    }
    let addrs = 4 * usize::from(count);
    let len = payload.len();
    len == VRRP2_HEADER_LEN + addrs + VRRP2_AUTH_LEN || len == VRRP2_HEADER_LEN + addrs
}

impl Vrrp2Advert {
    /// Reads a VRRPv2 message: the header, `count` addresses, and the
    /// authentication data when present. The version nibble and the
    /// checksum are not judged here.
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let h = prefix::<VRRP2_HEADER_LEN>(payload, "VRRPv2 header")?;
        let count = usize::from(h[3]);
        let end = VRRP2_HEADER_LEN + 4 * count;
        let Some(list) = payload.get(VRRP2_HEADER_LEN..end) else {
            return Err(WireError::Truncated {
                what: "VRRPv2 address list",
                need: end,
                got: payload.len(),
            });
        };
        let addrs = list
            .chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
            .collect();
        let auth = payload
            .get(end..end + VRRP2_AUTH_LEN)
            .and_then(|a| <[u8; VRRP2_AUTH_LEN]>::try_from(a).ok())
            .map(AuthData);
        Ok(Vrrp2Advert {
            vrid: h[1],
            priority: h[2],
            auth_type: h[4],
            adver_int: h[5],
            checksum: u16::from_be_bytes([h[6], h[7]]),
            addrs,
            auth,
        })
    }

    /// The addresses as [`IpAddr`]s.
    pub(crate) fn ip_addrs(&self) -> Vec<IpAddr> {
        self.addrs.iter().copied().map(IpAddr::V4).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::internet_checksum;

    /// keepalived's VRRPv2 advertisement for VRID 51, priority 150,
    /// advert_int 1, no authentication, one address 10.0.0.100, written
    /// out: 21 33 96 01 | 00 01 | sum | 0a000064 | 8 zero bytes.
    /// Checksum by hand: 2133 + 9601 + 0001 + 0a00 + 0064 = 0xc199,
    /// complement 0x3e66.
    #[test]
    fn keepalived_advert_by_hand() {
        let m = hex::decode("2133960100013e660a0000640000000000000000").unwrap();
        assert_eq!(internet_checksum(&m), 0);
        assert!(looks_like_vrrp2(&m));
        let a = Vrrp2Advert::parse(&m).unwrap();
        assert_eq!(
            (a.vrid, a.priority, a.auth_type, a.adver_int, a.checksum),
            (51, 150, 0, 1, 0x3e66)
        );
        assert_eq!(a.addrs, [Ipv4Addr::new(10, 0, 0, 100)]);
        assert_eq!(a.auth, Some(AuthData([0; 8])));
        assert_eq!(a.ip_addrs(), ["10.0.0.100".parse::<IpAddr>().unwrap()]);
    }

    /// A CARP header is never taken for VRRPv2, and a 36-byte VRRPv2
    /// message (five addresses) is.
    #[test]
    fn carp_and_vrrp2_are_told_apart() {
        let carp = crate::wire::CarpHeader::advertisement(1, 1, 0, 7, [0; 20]).to_bytes();
        assert!(!looks_like_vrrp2(&carp));
        let mut five = vec![0x21, 1, 100, 5, 0, 1, 0, 0];
        five.extend([10u8, 0, 0, 1].repeat(5));
        five.extend([0u8; 8]);
        assert_eq!(five.len(), 36);
        assert!(looks_like_vrrp2(&five));
        // Without the authentication data.
        assert!(looks_like_vrrp2(&five[..28]));
        assert_eq!(Vrrp2Advert::parse(&five[..28]).unwrap().auth, None);
        // Neither length fits: not VRRPv2.
        assert!(!looks_like_vrrp2(&five[..30]));
        // Version 3 is never VRRPv2.
        let mut v3 = five.clone();
        v3[0] = 0x31;
        assert!(!looks_like_vrrp2(&v3));
        assert!(!looks_like_vrrp2(&[0x21, 1, 2]));
    }

    #[test]
    fn bad_inputs_and_redaction() {
        let e = Vrrp2Advert::parse(&[0x21, 1]).unwrap_err();
        assert_eq!(e.to_string(), "VRRPv2 header: 2 bytes, need at least 8");
        let e = Vrrp2Advert::parse(&[0x21, 1, 100, 2, 0, 1, 0, 0, 10, 0, 0, 1]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "VRRPv2 address list: 12 bytes, need at least 16"
        );
        let secret = AuthData(*b"hunter2\0");
        assert_eq!(format!("{secret:?}"), "AuthData(<redacted>)");
        let mut m = vec![0x21, 1, 100, 0, 1, 1, 0, 0];
        m.extend(b"hunter2\0");
        let a = Vrrp2Advert::parse(&m).unwrap();
        assert!(!format!("{a:?}").contains("hunter"), "{a:?}");
    }
}
