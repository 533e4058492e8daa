//! The CARP advertisement: `struct carp_header` (36 bytes, §10.4), its
//! checksum, and the HMAC-SHA1 that authenticates it (§10.4).
//!
//! Layout (`sys/netinet/ip_carp.h`, `CTASSERT(sizeof == 36)`), network order:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | version (high nibble, 2) / type (low nibble, 1): 0x21 |
//! | 1 | 1 | `carp_vhid` |
//! | 2 | 1 | `carp_advskew` (the sender's demoted skew, 0..240) |
//! | 3 | 1 | `carp_authlen` (7, never checked) |
//! | 4 | 1 | `carp_pad1` (0; Wireshark calls it "demotion") |
//! | 5 | 1 | `carp_advbase` |
//! | 6 | 2 | `carp_cksum`: RFC 1071 over the 36 bytes, no pseudo-header |
//! | 8 | 8 | `carp_counter[2]`: 64-bit big-endian |
//! | 16 | 20 | `carp_md`: HMAC-SHA1 |

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use carpctl_sys::{
    CARP_ADVERTISEMENT, CARP_AUTHLEN, CARP_HEADER_LEN, CARP_HMAC_PAD, CARP_KEY_LEN,
    CARP_VERSION_CARP,
};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use zeroize::Zeroizing;

use super::{Checksum, WireError, invalid, prefix};
use crate::model::{Key, Vhid};

/// Length of `carp_md`, a SHA-1 digest.
pub const CARP_MD_LEN: usize = 20;

/// `struct carp_header` as read from or put on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CarpHeader {
    /// High nibble of byte 0: 2 for CARP (3 would be VRRPv3).
    pub version: u8,
    /// Low nibble of byte 0: 1 (`CARP_ADVERTISEMENT`); not checked on receive.
    pub kind: u8,
    pub vhid: u8,
    /// The advertised skew: `DEMOTE_ADVSKEW`, 0..240 (§8.2).
    pub advskew: u8,
    /// 7 from FreeBSD; not checked on receive (§9).
    pub authlen: u8,
    /// `carp_pad1`, 0 from FreeBSD.
    pub pad1: u8,
    pub advbase: u8,
    /// As read by [`CarpHeader::parse`]; [`CarpHeader::to_bytes`] always
    /// writes the correct value instead.
    pub checksum: u16,
    pub counter: u64,
    pub md: [u8; CARP_MD_LEN],
}

impl CarpHeader {
    /// An advertisement as `carp_prepare_ad` fills it: version 2, type 1,
    /// authlen 7, pad 0, and its checksum.
    pub fn advertisement(
        vhid: u8,
        advbase: u8,
        advskew: u8,
        counter: u64,
        md: [u8; CARP_MD_LEN],
    ) -> Self {
        let mut h = CarpHeader {
            version: CARP_VERSION_CARP,
            kind: CARP_ADVERTISEMENT,
            vhid,
            advskew,
            authlen: CARP_AUTHLEN,
            pad1: 0,
            advbase,
            checksum: 0,
            counter,
            md,
        };
        h.checksum = checksum_field(&h.to_bytes());
        h
    }

    /// The 36 bytes, with the checksum computed over them (the `checksum`
    /// field is ignored). Version and type are masked to their nibbles.
    pub fn to_bytes(&self) -> [u8; CARP_HEADER_LEN] {
        let mut b = [0u8; CARP_HEADER_LEN];
        b[0] = (self.version & 0x0f) << 4 | (self.kind & 0x0f);
        b[1] = self.vhid;
        b[2] = self.advskew;
        b[3] = self.authlen;
        b[4] = self.pad1;
        b[5] = self.advbase;
        // b[6..8] stays zero while summing.
        b[8..16].copy_from_slice(&self.counter.to_be_bytes());
        b[16..36].copy_from_slice(&self.md);
        let sum = Checksum::new().add(&b).finish();
        b[6..8].copy_from_slice(&sum.to_be_bytes());
        b
    }

    /// Reads the first 36 bytes of `bytes`. Only the length is checked:
    /// what the kernel checks, and in which order, is [`super::rx::receive`].
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        let b = prefix::<CARP_HEADER_LEN>(bytes, "CARP header")?;
        let (counter, md) = b[8..].split_at(8);
        Ok(CarpHeader {
            version: b[0] >> 4,
            kind: b[0] & 0x0f,
            vhid: b[1],
            advskew: b[2],
            authlen: b[3],
            pad1: b[4],
            advbase: b[5],
            checksum: u16::from_be_bytes([b[6], b[7]]),
            counter: u64::from_be_bytes(counter.try_into().unwrap_or_default()),
            md: md.try_into().unwrap_or_default(),
        })
    }
}

/// The value of `carp_cksum` for a header whose bytes are `b` (any value in
/// bytes 6-7 is treated as zero).
fn checksum_field(b: &[u8; CARP_HEADER_LEN]) -> u16 {
    Checksum::new().add(&b[..6]).add(&b[8..]).finish()
}

/// The keyed HMAC state of one vhid: key, vhid and sorted address list
/// hashed once, so that each advertisement costs only the counter block and
/// the outer hash (`carp_hmac_prepare` / `carp_hmac_generate`, §10.4).
///
/// Build it again whenever the key or the vhid's address list changes, as
/// the kernel calls `carp_hmac_prepare` on every address change. Two nodes
/// whose key or address list differ compute different digests and reject
/// each other's advertisements (`carps_badauth`), so both become MASTER.
///
/// Its `Debug` shows the vhid only: the state is derived from the key.
#[derive(Clone)]
pub struct CarpAuth {
    vhid: u8,
    /// HMAC-SHA1 after `key` and the message prefix: 0x02 0x01 vhid,
    /// the IPv4 addresses, the IPv6 addresses.
    keyed: Hmac<Sha1>,
}

impl fmt::Debug for CarpAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CarpAuth")
            .field("vhid", &self.vhid)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl CarpAuth {
    /// Keys the HMAC for `vhid` with `key`, the raw password bytes (at most
    /// 20, `CARP_KEY_LEN`; empty for no password: the kernel's 20 zero bytes
    /// give the same HMAC, since HMAC zero-pads short keys) and every
    /// address of the vhid, both families, in any order (they are sorted
    /// here as the kernel sorts them).
    pub fn new(key: &[u8], vhid: u8, addrs: &[IpAddr]) -> Result<Self, WireError> {
        if key.len() > CARP_KEY_LEN {
            // The length only: the bytes are a secret.
            return invalid(
                "CARP key",
                format!(
                    "{} bytes; carp(4) keys are at most {CARP_KEY_LEN} bytes",
                    key.len()
                ),
            );
        }
        let mut keyed = keyed_hmac(key);
        keyed.update(&message_prefix(vhid, addrs));
        Ok(CarpAuth { vhid, keyed })
    }

    /// [`CarpAuth::new`] from the domain types: `None` is no password.
    pub(crate) fn for_vhid(key: Option<&Key>, vhid: Vhid, addrs: &[IpAddr]) -> Self {
        // A Key holds at most 20 bytes: nothing to refuse.
        let mut keyed = keyed_hmac(key.map_or(&[], |k| k.as_bytes()));
        keyed.update(&message_prefix(vhid.get(), addrs));
        CarpAuth {
            vhid: vhid.get(),
            keyed,
        }
    }

    pub fn vhid(&self) -> u8 {
        self.vhid
    }

    /// `carp_md` for an advertisement carrying `counter`.
    pub fn digest(&self, counter: u64) -> [u8; CARP_MD_LEN] {
        let mut mac = self.keyed.clone();
        mac.update(&counter.to_be_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Whether `md` is the digest for `counter` (`carp_hmac_verify`),
    /// compared in constant time.
    pub fn verify(&self, counter: u64, md: &[u8; CARP_MD_LEN]) -> bool {
        let mut mac = self.keyed.clone();
        mac.update(&counter.to_be_bytes());
        mac.verify_slice(md).is_ok()
    }

    /// A complete advertisement of this vhid: header fields, digest and
    /// checksum. `advskew` is the advertised (demoted) skew.
    pub fn header(&self, advbase: u8, advskew: u8, counter: u64) -> CarpHeader {
        CarpHeader::advertisement(self.vhid, advbase, advskew, counter, self.digest(counter))
    }
}

/// HMAC-SHA1 keyed the kernel's way (§10.4 step 1): the key zero-padded to
/// the 64-byte block, which is standard HMAC with the short key. Callers
/// pass at most 20 bytes (longer input would be cut at 64, never hashed).
fn keyed_hmac(key: &[u8]) -> Hmac<Sha1> {
    let mut block = Zeroizing::new([0u8; CARP_HMAC_PAD]);
    for (b, k) in block.iter_mut().zip(key) {
        *b = *k;
    }
    <Hmac<Sha1> as KeyInit>::new(&(*block).into())
}

/// The addresses in the order the kernel hashes them (§10.4): IPv4 in
/// ascending numeric order, then IPv6 with the embedded scope bytes zeroed,
/// in ascending byte order; each once; never 0.0.0.0, 255.255.255.255,
/// `::` or `ffff:...:ffff` (the selection loops start above and below them).
pub fn hash_order(addrs: &[IpAddr]) -> (Vec<Ipv4Addr>, Vec<Ipv6Addr>) {
    let mut v4: Vec<Ipv4Addr> = addrs
        .iter()
        .filter_map(|a| match a {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        })
        .filter(|a| !a.is_unspecified() && !a.is_broadcast())
        .collect();
    v4.sort_unstable();
    v4.dedup();
    let mut v6: Vec<Ipv6Addr> = addrs
        .iter()
        .filter_map(|a| match a {
            IpAddr::V6(a) => Some(clear_embedded_scope(*a)),
            IpAddr::V4(_) => None,
        })
        .filter(|a| !a.is_unspecified() && a.octets() != [0xff; 16])
        .collect();
    v6.sort_unstable();
    v6.dedup();
    (v4, v6)
}

/// Zeroes bytes 2-3 where KAME embeds the zone id (`IN6_IS_SCOPE_EMBED`:
/// link-local unicast fe80::/10, link-local and interface-local
/// multicast), as `carp_hmac_prepare` does before comparing and hashing.
/// A user-space address has zeroes there already; a kernel-form one
/// (fe80:2::7) does not.
pub(crate) fn clear_embedded_scope(a: Ipv6Addr) -> Ipv6Addr {
    let mut o = a.octets();
    let linklocal = o[0] == 0xfe && o[1] & 0xc0 == 0x80;
    let mc_scoped = o[0] == 0xff && matches!(o[1] & 0x0f, 0x01 | 0x02);
    if linklocal || mc_scoped {
        o[2] = 0;
        o[3] = 0;
    }
    Ipv6Addr::from(o)
}

/// The message HMAC-SHA1 covers, up to the counter: version 2, type 1,
/// vhid, then the addresses in [`hash_order`].
fn message_prefix(vhid: u8, addrs: &[IpAddr]) -> Vec<u8> {
    let (v4, v6) = hash_order(addrs);
    let mut m = Vec::with_capacity(3 + 4 * v4.len() + 16 * v6.len() + 8);
    // Always CARP_VERSION_CARP and CARP_ADVERTISEMENT, whatever the header
    // says (carp_hmac_prepare hashes its own constants).
    m.extend_from_slice(&[CARP_VERSION_CARP, CARP_ADVERTISEMENT, vhid]);
    for a in v4 {
        m.extend_from_slice(&a.octets());
    }
    for a in v6 {
        m.extend_from_slice(&a.octets());
    }
    m
}

/// The whole message HMAC-SHA1 covers for one advertisement (§10.4 step 2
/// without the pad): for tests and debugging; [`CarpAuth`] never builds it.
pub fn hmac_message(vhid: u8, addrs: &[IpAddr], counter: u64) -> Vec<u8> {
    let mut m = message_prefix(vhid, addrs);
    m.extend_from_slice(&counter.to_be_bytes());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The crate pair computes standard HMAC-SHA1 (`docs/freebsd-carp.md` §10.4 sanity
    /// value, same as Python's hmac).
    #[test]
    fn hmac_sha1_sanity() {
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(b"key").unwrap();
        mac.update(b"data");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "104152c5bfdca07bc633eebd46199f0255c9f49d"
        );
    }

    /// The precomputed state gives what a one-shot HMAC over
    /// `hmac_message` gives, for many counters.
    #[test]
    fn precomputed_state_equals_one_shot() {
        let addrs = [ip("10.0.0.2"), ip("fe80::1"), ip("10.0.0.1")];
        let auth = CarpAuth::new(b"secret", 9, &addrs).unwrap();
        for counter in [0u64, 1, 0xffff_ffff, u64::MAX, 0x0123_4567_89ab_cdef] {
            let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(b"secret").unwrap();
            mac.update(&hmac_message(9, &addrs, counter));
            let want: [u8; 20] = mac.finalize().into_bytes().into();
            assert_eq!(auth.digest(counter), want, "counter {counter:#x}");
            assert!(auth.verify(counter, &want));
            let mut bad = want;
            bad[19] ^= 1;
            assert!(!auth.verify(counter, &bad));
        }
    }

    #[test]
    fn key_longer_than_20_bytes_is_refused_without_showing_it() {
        let err = CarpAuth::new(b"abcdefghijklmnopqrstu", 1, &[]).unwrap_err();
        let msg = err.to_string();
        assert_eq!(msg, "CARP key: 21 bytes; carp(4) keys are at most 20 bytes");
        assert!(!msg.contains("abcdef"));
    }

    #[test]
    fn debug_hides_the_key() {
        let auth = CarpAuth::new(b"hunter2", 4, &[ip("192.0.2.1")]).unwrap();
        let dbg = format!("{auth:?}");
        assert_eq!(dbg, "CarpAuth { vhid: 4, key: \"<redacted>\" }");
    }

    /// A 20-byte key with trailing NULs (how the kernel stores a short
    /// password) equals the short key; the model's Key gives the same.
    #[test]
    fn nul_padded_key_equals_short_key() {
        let addrs = [ip("192.168.1.50")];
        let short = CarpAuth::new(b"testpass", 1, &addrs).unwrap();
        let mut padded = [0u8; 20];
        padded[..8].copy_from_slice(b"testpass");
        let long = CarpAuth::new(&padded, 1, &addrs).unwrap();
        let key = Key::new(b"testpass").unwrap();
        let model = CarpAuth::for_vhid(Some(&key), Vhid::new(1).unwrap(), &addrs);
        assert_eq!(short.digest(7), long.digest(7));
        assert_eq!(short.digest(7), model.digest(7));
        // And no key at all differs.
        let none = CarpAuth::for_vhid(None, Vhid::new(1).unwrap(), &addrs);
        assert_ne!(none.digest(7), short.digest(7));
        assert_eq!(
            none.digest(7),
            CarpAuth::new(&[0; 20], 1, &addrs).unwrap().digest(7)
        );
    }

    /// Sorting: IPv4 numerically (not as strings), duplicates once, the
    /// loop bounds excluded; IPv6 after zeroing the scope bytes.
    #[test]
    fn hash_order_rules() {
        let addrs = [
            ip("192.168.1.100"),
            ip("fe80:2::7"),
            ip("192.168.1.20"),
            ip("0.0.0.0"),
            ip("2001:db8::1"),
            ip("192.168.1.20"),
            ip("255.255.255.255"),
            ip("fe80::7"),
            ip("::"),
            ip("ff02:5::1"),
        ];
        let (v4, v6) = hash_order(&addrs);
        assert_eq!(
            v4,
            [
                "192.168.1.20".parse::<Ipv4Addr>().unwrap(),
                "192.168.1.100".parse().unwrap()
            ]
        );
        let want: Vec<Ipv6Addr> = ["2001:db8::1", "fe80::7", "ff02::1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(v6, want);
    }

    #[test]
    fn scope_clearing_only_touches_scoped_addresses() {
        let c = |s: &str| clear_embedded_scope(s.parse().unwrap()).to_string();
        assert_eq!(c("fe80:2::7"), "fe80::7");
        assert_eq!(c("febf:2::7"), "febf::7"); // still fe80::/10
        assert_eq!(c("fec0:2::7"), "fec0:2::7"); // site-local: not embedded
        assert_eq!(c("ff02:3::12"), "ff02::12");
        assert_eq!(c("ff01:3::1"), "ff01::1");
        assert_eq!(c("ff05:3::1"), "ff05:3::1");
        assert_eq!(c("2001:db8:1::7"), "2001:db8:1::7");
    }

    /// The message layout for one IPv4 and one IPv6 address, written out:
    /// 02 01 vhid | 4 bytes | 16 bytes | 8-byte counter.
    #[test]
    fn message_layout() {
        let m = hmac_message(
            3,
            &[ip("2001:db8::5"), ip("10.1.2.3")],
            0x0102_0304_0506_0708,
        );
        let want = hex::decode(concat!(
            "020103",
            "0a010203",
            "20010db8000000000000000000000005",
            "0102030405060708"
        ))
        .unwrap();
        assert_eq!(m, want);
    }

    /// Header bytes written out from the layout table: 0x21, vhid 7,
    /// advskew 0x10, authlen 7, pad 0, advbase 2, checksum, counter 1,
    /// md all 0xaa. Checksum by hand: words 2107 1007 0002 0000 0000 0000
    /// 0001 and ten words aaaa: 0x2107+0x1007+0x0002+0x0001 = 0x3111,
    /// 10 x 0xaaaa = 0x6aaa4 -> 0x6aaa4 + 0x3111 = 0x6dbb5, folded
    /// 0xdbb5 + 6 = 0xdbbb, complement 0x2444.
    #[test]
    fn header_bytes_by_hand() {
        let h = CarpHeader::advertisement(7, 2, 0x10, 1, [0xaa; 20]);
        let want = hex::decode(concat!(
            "21071007",
            "0002",
            "2444",
            "0000000000000001",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        ))
        .unwrap();
        assert_eq!(h.to_bytes().to_vec(), want);
        assert_eq!(h.checksum, 0x2444);
        assert_eq!(CarpHeader::parse(&want).unwrap(), h);
    }

    #[test]
    fn parse_short_header_names_it() {
        let err = CarpHeader::parse(&[0x21; 35]).unwrap_err();
        assert_eq!(err.to_string(), "CARP header: 35 bytes, need at least 36");
    }
}
