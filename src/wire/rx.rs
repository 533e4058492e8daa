//! Receive validation: what `carp_input` / `carp6_input` and
//! `carp_input_c` check, in their order, and which `struct carpstats`
//! counter each rejection increments (§9, §8.7, §3).
//!
//! 1. At least the 8-byte `vrrpv3_header`, else `carps_badlen`.
//! 2. Version 2 or 3, else `carps_badver`.
//! 3. CARP: at least 36 bytes (`carps_badlen`); the Internet checksum over
//!    the whole IP payload (IPv4) or exactly the 36-byte header (IPv6), no
//!    pseudo-header, else `carps_badsum`.
//! 4. A vhid of that number on the receiving interface, else
//!    `carps_badvhid`.
//! 5. The vhid's version must be the packet's, else `carps_badver`.
//! 6. CARP: TTL / hop limit 255 when the vhid talks to the multicast group
//!    (unicast mode accepts routed packets), else `carps_badttl`. VRRPv3:
//!    always 255, then the checksum with the pseudo-header (`carps_badsum`)
//!    **[inferred: §8.7 says "after TTL == 255 always, then the checksum";
//!    that this follows the vhid lookup is inferred]**.
//! 7. CARP: the HMAC, else `carps_badauth`. VRRPv3: no authentication, and
//!    the address list is not read (`XXX TODO` in the kernel): a list
//!    shorter than its count is accepted.
//!
//! This is the order of 15.0 and main; 13.x and 14.x check in another
//! order (`docs/freebsd-carp.md` §9), which the emulated kernel follows per
//! release.
//!
//! `carp_type` and `carp_authlen` are not checked, and there is no replay
//! protection: the counter is only stored. The caller counts
//! `carps_ipackets` / `carps_ipackets6` for every packet it hands over
//! (the kernel counts before checking), drops everything while
//! `net.inet.carp.allow` is 0, and decides `carps_badif` (a receiving
//! interface without carp, or a looped-back packet), which concern the
//! interface rather than the bytes.

use std::fmt;

use carpctl_sys::{
    CARP_DFLTTL, CARP_HEADER_LEN, CARP_VERSION_CARP, CARP_VERSION_VRRPV3, VRRPV3_HEADER_LEN,
};

use super::carp::{CarpAuth, CarpHeader};
use super::internet_checksum;
use super::ip::IpPacket;
use super::vrrp::{self, VrrpAdvert};
use crate::model::CarpStats;

/// Why the kernel drops an advertisement: one `struct carpstats` counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reject {
    /// `carps_badif`: the receiving interface has no carp, or the packet
    /// is our own (never returned by [`receive`]; see the module doc).
    BadIf,
    /// `carps_badttl`.
    BadTtl,
    /// `carps_hdrops`: an mbuf pullup failed (never happens to a
    /// contiguous buffer; here for completeness).
    HdrOps,
    /// `carps_badsum`.
    BadSum,
    /// `carps_badver`.
    BadVer,
    /// `carps_badlen`.
    BadLen,
    /// `carps_badauth`.
    BadAuth,
    /// `carps_badvhid`.
    BadVhid,
}

impl Reject {
    /// The `struct carpstats` field this rejection increments.
    pub fn counter(self) -> &'static str {
        match self {
            Reject::BadIf => "carps_badif",
            Reject::BadTtl => "carps_badttl",
            Reject::HdrOps => "carps_hdrops",
            Reject::BadSum => "carps_badsum",
            Reject::BadVer => "carps_badver",
            Reject::BadLen => "carps_badlen",
            Reject::BadAuth => "carps_badauth",
            Reject::BadVhid => "carps_badvhid",
        }
    }

    /// Increments that counter in `stats`.
    pub fn count(self, stats: &mut CarpStats) {
        let c = match self {
            Reject::BadIf => &mut stats.badif,
            Reject::BadTtl => &mut stats.badttl,
            Reject::HdrOps => &mut stats.hdrops,
            Reject::BadSum => &mut stats.badsum,
            Reject::BadVer => &mut stats.badver,
            Reject::BadLen => &mut stats.badlen,
            Reject::BadAuth => &mut stats.badauth,
            Reject::BadVhid => &mut stats.badvhid,
        };
        *c = c.saturating_add(1);
    }

    fn describe(self) -> &'static str {
        match self {
            Reject::BadIf => "wrong interface",
            Reject::BadTtl => "TTL is not 255",
            Reject::HdrOps => "shorter than the header",
            Reject::BadSum => "bad checksum",
            Reject::BadVer => "bad or unsupported version",
            Reject::BadLen => "bad length",
            Reject::BadAuth => "bad authentication (HMAC mismatch: key or address list differs)",
            Reject::BadVhid => "no such vhid on the receiving interface",
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.describe(), self.counter())
    }
}

impl std::error::Error for Reject {}

/// What the receiving host has configured for the vhid a packet names.
#[derive(Debug, Clone, Copy)]
pub enum Receiver<'a> {
    /// A CARP vhid: its keyed HMAC, and whether it talks to the multicast
    /// group (no `peer`/`peer6` for this family), which requires TTL 255.
    Carp { auth: &'a CarpAuth, multicast: bool },
    /// A VRRPv3 vhid (`carpver 3`).
    Vrrp,
}

/// An accepted advertisement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advertisement {
    Carp(CarpHeader),
    Vrrp(VrrpAdvert),
}

impl Advertisement {
    pub fn vhid(&self) -> u8 {
        match self {
            Advertisement::Carp(h) => h.vhid,
            Advertisement::Vrrp(v) => v.vrid,
        }
    }
}

/// Validates an IP protocol 112 packet as the kernel does, asking `lookup`
/// for the receiving interface's vhid of the number the packet carries.
/// Returns the advertisement, or which counter its rejection increments.
pub fn receive<'a>(
    pkt: &IpPacket<'_>,
    lookup: impl FnOnce(u8) -> Option<Receiver<'a>>,
) -> Result<Advertisement, Reject> {
    let p = pkt.payload;
    let v6 = pkt.header.is_v6();
    let [first, vhid, ..] = *p else {
        return Err(Reject::BadLen);
    };
    if p.len() < VRRPV3_HEADER_LEN {
        return Err(Reject::BadLen);
    }
    let version = first >> 4;
    if version != CARP_VERSION_CARP && version != CARP_VERSION_VRRPV3 {
        return Err(Reject::BadVer);
    }
    if version == CARP_VERSION_CARP {
        let Some(header) = p.get(..CARP_HEADER_LEN) else {
            return Err(Reject::BadLen);
        };
        // IPv4 sums the whole payload, IPv6 exactly the header (§9).
        let summed = if v6 { header } else { p };
        if internet_checksum(summed) != 0 {
            return Err(Reject::BadSum);
        }
    }
    let receiver = lookup(vhid).ok_or(Reject::BadVhid)?;
    match receiver {
        Receiver::Carp { auth, multicast } => {
            if version != CARP_VERSION_CARP {
                return Err(Reject::BadVer);
            }
            if multicast && pkt.header.ttl() != CARP_DFLTTL {
                return Err(Reject::BadTtl);
            }
            let h = CarpHeader::parse(p).map_err(|_| Reject::BadLen)?;
            if !auth.verify(h.counter, &h.md) {
                return Err(Reject::BadAuth);
            }
            Ok(Advertisement::Carp(h))
        }
        Receiver::Vrrp => {
            if version != CARP_VERSION_VRRPV3 {
                return Err(Reject::BadVer);
            }
            if pkt.header.ttl() != CARP_DFLTTL {
                return Err(Reject::BadTtl);
            }
            match vrrp::checksum(p, pkt.header.src(), pkt.header.dst()) {
                Ok(0) => {}
                _ => return Err(Reject::BadSum),
            }
            VrrpAdvert::parse_received(p, v6)
                .map(Advertisement::Vrrp)
                .map_err(|_| Reject::BadLen)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    #[test]
    fn counters_and_messages() {
        let mut s = CarpStats::default();
        for r in [
            Reject::BadAuth,
            Reject::BadAuth,
            Reject::BadTtl,
            Reject::BadVhid,
        ] {
            r.count(&mut s);
        }
        assert_eq!((s.badauth, s.badttl, s.badvhid, s.badlen), (2, 1, 1, 0));
        assert_eq!(Reject::BadLen.to_string(), "bad length (carps_badlen)");
        assert_eq!(Reject::HdrOps.counter(), "carps_hdrops");
        assert_eq!(Reject::BadIf.counter(), "carps_badif");
        assert_eq!(Reject::BadSum.counter(), "carps_badsum");
        assert_eq!(Reject::BadVer.counter(), "carps_badver");
    }

    #[test]
    fn advertisement_vhid() {
        let auth = CarpAuth::new(b"k", 42, &["10.0.0.1".parse::<IpAddr>().unwrap()]).unwrap();
        assert_eq!(Advertisement::Carp(auth.header(1, 0, 5)).vhid(), 42);
        let v = VrrpAdvert::new(9, 100, 100, vec![]).unwrap();
        assert_eq!(Advertisement::Vrrp(v).vhid(), 9);
    }

    #[test]
    fn a_vrrp_list_shorter_than_its_count_is_accepted() {
        use crate::wire::Ipv4Header;
        use std::net::Ipv4Addr;
        // count_addr says 3, one address follows: FreeBSD never reads the
        // list, so only the header and the checksum matter.
        let (src, dst) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(224, 0, 0, 18));
        let mut m = vec![0x31, 7, 150, 3, 0, 100, 0, 0, 192, 0, 2, 100];
        let sum = vrrp::checksum(&m, src.into(), dst.into()).unwrap();
        m[6..8].copy_from_slice(&sum.to_be_bytes());
        let bytes = Ipv4Header::carp(src, dst, 56, 0)
            .unwrap()
            .encode(&m)
            .unwrap();
        let pkt = IpPacket::parse(&bytes).unwrap();
        let got = receive(&pkt, |_| Some(Receiver::Vrrp)).unwrap();
        let Advertisement::Vrrp(v) = got else {
            panic!("{got:?}")
        };
        assert_eq!((v.vrid, v.priority, v.max_adver_int), (7, 150, 100));
        assert_eq!(v.addrs, ["192.0.2.100".parse::<IpAddr>().unwrap()]);
        // The header alone is enough too.
        let mut h = m[..8].to_vec();
        h[6..8].copy_from_slice(&[0, 0]);
        let sum = vrrp::checksum(&h, src.into(), dst.into()).unwrap();
        h[6..8].copy_from_slice(&sum.to_be_bytes());
        let bytes = Ipv4Header::carp(src, dst, 56, 0)
            .unwrap()
            .encode(&h)
            .unwrap();
        let pkt = IpPacket::parse(&bytes).unwrap();
        assert!(receive(&pkt, |_| Some(Receiver::Vrrp)).is_ok());
    }
}
