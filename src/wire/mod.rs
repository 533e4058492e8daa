//! The CARP and VRRPv3 wire format, byte for byte as FreeBSD's carp(4) puts
//! it on an Ethernet segment, for the simulator's virtual segment and its
//! `--pcap` capture.
//!
//! carpctl never speaks CARP on a real host (the kernel does); this module
//! exists so that emulated hosts can exchange the *real* advertisement bytes,
//! and so that a node configured with another password or address list
//! computes another HMAC and ends up dual-master, exactly as on FreeBSD. The
//! codec is pinned by `tests/data/carp-vectors.json` (a copy of
//! `shared/testdata/carp-vectors.json`, computed independently of this
//! project) in `tests/wire.rs`.
//!
//! Every fact comes from `docs/freebsd-carp.md` (cited as §n), which cites
//! `sys/netinet/ip_carp.c` and `ip_carp.h` of FreeBSD.
//!
//! # Layers
//!
//! | module | what it owns |
//! |---|---|
//! | [`carp`] | the 36-byte `struct carp_header` (§10.4), its checksum, and [`CarpAuth`]: the HMAC-SHA1 over the vhid's sorted addresses and the counter (§10.4), keyed once per (key, vhid, address list) |
//! | [`vrrp`] | the VRRPv3 advertisement (§10.6, RFC 9568) with its pseudo-header checksum |
//! | [`vrrp2`] | the VRRPv2 advertisement (RFC 3768) routers and keepalived send, told apart from CARP's identical first byte, for `carpctl scan` |
//! | [`ip`] | IPv4 and IPv6 headers: TTL 255, DF, TOS = dscp << 2, protocol 112 (§10.1) |
//! | [`arp`] | the gratuitous ARP and the unsolicited neighbor advertisement sent on takeover (§10.5) |
//! | [`frame`] | Ethernet, MAC addresses (virtual MAC `00:00:5e:00:01:<vhid>`, §10.3), whole frames built as FreeBSD sends them, and [`decode_frame`] |
//! | [`rx`] | the receive validation of `carp_input`/`carp6_input` (§9): which `carpstats` counter a bad packet increments |
//! | [`pcap`] | a pcap writer (link type Ethernet) and reader for the segment |
//!
//! # Sending an advertisement
//!
//! ```
//! use std::net::IpAddr;
//! use carpctl::wire::{CarpAuth, Encap, carp_frame};
//!
//! let vips: [IpAddr; 1] = ["192.168.1.50".parse().unwrap()];
//! // Once per configuration change: keys the HMAC state (§10.4).
//! let auth = CarpAuth::new(b"testpass", 1, &vips).unwrap();
//! // Per packet: only the counter block is hashed.
//! let header = auth.header(1, 0, 0x0123_4567_89ab_cdef);
//! let encap = Encap::multicast("192.168.1.3".parse().unwrap(), [0x52, 0x54, 0, 0, 0, 3].into());
//! let frame = carp_frame(&header, &encap).unwrap();
//! assert_eq!(frame.len(), 14 + 20 + 36);
//! ```
//!
//! # Receiving
//!
//! [`decode_frame`] splits a frame into Ethernet, IP and payload without
//! judging it; [`rx::receive`] then applies the kernel's checks in the
//! kernel's order and returns either the accepted [`rx::Advertisement`] or
//! the [`rx::Reject`] naming the counter (`carps_badlen`, `carps_badver`,
//! `carps_badsum`, `carps_badvhid`, `carps_badttl`, `carps_badauth`).
//! Decoders never panic, whatever the bytes (property-tested).
//!
//! # Decoding a capture with tshark
//!
//! IP protocol 112 is shared by CARP and VRRP, and Wireshark decodes it as
//! VRRP unless told otherwise (as `tcpdump -T carp` must be told, carp.4).
//! [`pcap::TSHARK_CARP_ARGS`] holds the options that make tshark decode CARP,
//! IPv4 and IPv6 alike:
//!
//! ```text
//! tshark -r segment.pcap -d ip.proto==112,carp
//! tshark -r segment.pcap -d ip.proto==112,carp -T fields -e frame.time_relative \
//!     -e eth.src -e carp.vhid -e carp.advskew -e carp.adver_int -e carp.counter
//! ```
//!
//! (`carp.adver_int` is Wireshark's name for advbase.) A capture of VRRPv3
//! vhids is decoded as VRRP without options.

pub mod arp;
pub mod carp;
pub mod frame;
pub(crate) mod ip;
pub mod pcap;
pub(crate) mod rx;
pub mod vrrp;
pub(crate) mod vrrp2;

pub use arp::{ArpPacket, NeighborAdvert, gratuitous_arp_frame, unsolicited_na_frame};
pub use carp::{CarpAuth, CarpHeader};
/// The protocol numbers and constants of the wire format, for the layers
/// above that must not name `carpctl_sys` (docs/architecture.md).
pub(crate) use carpctl_sys::{CARP_DFLTTL, CARP_HEADER_LEN, CARP_MAC_PREFIX, IPPROTO_CARP};
pub use frame::{
    Encap, EthernetHeader, Frame, MacAddr, Payload, carp_frame, decode_frame, ip_frame, vrrp_frame,
};
pub use ip::{IpHeader, IpPacket, Ipv4Header, Ipv6Header};
pub use pcap::PcapSink;
pub use rx::{Advertisement, Receiver, Reject, receive};
pub use vrrp::VrrpAdvert;

/// What went wrong building or reading bytes. Every message names the
/// structure and, for decoding, the byte offset or field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Fewer bytes than the structure needs.
    #[error("{what}: {got} bytes, need at least {need}")]
    Truncated {
        what: &'static str,
        need: usize,
        got: usize,
    },
    /// The bytes are not a valid instance of the structure.
    #[error("{what}: {detail}")]
    Malformed { what: &'static str, detail: String },
    /// An encoder was given something that cannot be put on the wire.
    #[error("{what}: {detail}")]
    Invalid { what: &'static str, detail: String },
    /// Reading or writing a capture file failed.
    #[error("{0}")]
    Io(String),
}

pub(crate) fn malformed<T>(what: &'static str, detail: impl Into<String>) -> Result<T, WireError> {
    Err(WireError::Malformed {
        what,
        detail: detail.into(),
    })
}

pub(crate) fn invalid<T>(what: &'static str, detail: impl Into<String>) -> Result<T, WireError> {
    Err(WireError::Invalid {
        what,
        detail: detail.into(),
    })
}

/// `bytes[..N]` as an array, or a [`WireError::Truncated`] naming `what`.
pub(crate) fn prefix<'a, const N: usize>(
    bytes: &'a [u8],
    what: &'static str,
) -> Result<&'a [u8; N], WireError> {
    bytes.first_chunk::<N>().ok_or(WireError::Truncated {
        what,
        need: N,
        got: bytes.len(),
    })
}

/// RFC 1071 Internet checksum accumulator over several byte strings, taken
/// as one concatenation (an odd-length part carries its last byte over).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Checksum {
    sum: u64,
    odd: Option<u8>,
}

impl Checksum {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `data` to the sum.
    pub(crate) fn add(&mut self, mut data: &[u8]) -> &mut Self {
        if let Some(hi) = self.odd.take() {
            match data.split_first() {
                Some((&lo, rest)) => {
                    self.sum += u64::from(u16::from_be_bytes([hi, lo]));
                    data = rest;
                }
                None => {
                    self.odd = Some(hi);
                    return self;
                }
            }
        }
        let mut words = data.chunks_exact(2);
        for w in &mut words {
            self.sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
        }
        if let [last] = words.remainder() {
            self.odd = Some(*last);
        }
        self
    }

    /// The one's complement of the folded one's-complement sum: the value
    /// to store in a checksum field that was zero while summing, or 0 when
    /// summing data that already holds a correct checksum.
    pub(crate) fn finish(&self) -> u16 {
        let mut sum = self.sum;
        if let Some(hi) = self.odd {
            sum += u64::from(u16::from_be_bytes([hi, 0]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }
}

/// The RFC 1071 Internet checksum of `data` (`in_cksum`).
pub fn internet_checksum(data: &[u8]) -> u16 {
    Checksum::new().add(data).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071 §3 example: the words 0001 f203 f4f5 f6f7 sum to 0xddf2
    /// (one's complement sum), so the checksum is !0xddf2 = 0x220d.
    #[test]
    fn checksum_rfc1071_example() {
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&data), 0x220d);
        // Split at an odd offset, the parts still sum as one string.
        let mut c = Checksum::new();
        c.add(&data[..3]).add(&data[3..5]).add(&[]).add(&data[5..]);
        assert_eq!(c.finish(), 0x220d);
    }

    /// An odd trailing byte is padded with a zero byte on the right:
    /// 0x01 alone sums as 0x0100, so the checksum is 0xfeff.
    #[test]
    fn checksum_odd_length() {
        assert_eq!(internet_checksum(&[0x01]), 0xfeff);
        assert_eq!(internet_checksum(&[]), 0xffff);
    }

    #[test]
    fn prefix_reports_truncation() {
        let err = prefix::<4>(&[1, 2], "thing").unwrap_err();
        assert_eq!(err.to_string(), "thing: 2 bytes, need at least 4");
    }
}
