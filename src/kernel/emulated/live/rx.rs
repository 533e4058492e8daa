//! Receiving (`docs/freebsd-carp.md` §9): `ether_input` → `ip_input` /
//! `ip6_input` → `carp_input` / `carp6_input` → `carp_input_c` /
//! `vrrp_input_c`, with the checks of the host's release in that release's
//! order ([`RxPath`]), each rejection counted in `net.inet.carp.stats`
//! where FreeBSD counts it.
//!
//! A frame is parsed once ([`Inbound::parse`]: the parse is a function of
//! the bytes, shared by every host it reaches); everything that depends on
//! the receiving host (its release, its vhids, its keys) is decided here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use carpctl_sys::{self as sys, CARP_HEADER_LEN, VRRPV3_HEADER_LEN};

use super::{Live, with_parent};
use crate::kernel::emulated::fsm::{self, Af, CarpHeard, VrrpHeard};
use crate::kernel::emulated::release::RxPath;
use crate::kernel::emulated::state::{HostState, Iface, Naddrs};
use crate::wire::{self, Reject};

/// The softc a packet is for, as `carp_input_c()` found it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Found {
    /// Position of the interface in `HostState::interfaces` and of the
    /// softc in its `vhids`.
    pub(super) pos: usize,
    pub(super) si: usize,
    n: Naddrs,
}

impl Live {
    /// A frame arrived on interface `ifindex` (at [`Live::now`]). Frames
    /// that are not CARP/VRRP (ARP, NA) are not carp(4)'s business.
    pub fn receive(&mut self, ifindex: u16, frame: &[u8]) {
        self.receive_inbound(ifindex, &Inbound::parse(frame));
    }

    /// [`Live::receive`] of a frame already parsed by [`Inbound::parse`].
    pub(crate) fn receive_inbound(&mut self, ifindex: u16, inb: &Inbound<'_>) {
        let Some(ip) = &inb.ip else {
            return;
        };
        self.rebuild_index();
        let Some(ii) = self.index_of(ifindex) else {
            return;
        };
        let af = if ip.v6 { Af::Inet6 } else { Af::Inet };
        if ip.v6 {
            self.st.stats.ipackets6 += 1;
        } else {
            self.st.stats.ipackets += 1;
        }
        if self.st.sysctl.allow == 0 {
            return;
        }
        // carp6_input(), every release: the receiving interface must have
        // carp.
        if ip.v6 && !self.iface(ii).has_carp() {
            Reject::BadIf.count(&mut self.st.stats);
            return;
        }
        let verdict = match self.st.flavor.rules().rx {
            RxPath::Carp13 => self.rx_carp13(ii, ip, inb, af),
            RxPath::Carp14 => self.rx_carp14(ii, ip, inb, af),
            RxPath::Vrrp => self.rx_vrrp_era(ii, ip, inb, af),
        };
        if let Err(r) = verdict {
            r.count(&mut self.st.stats);
        }
    }

    /// 13.x: `carp_input()` checks TTL 255 first (IPv4), `carp6_input()`
    /// the interface then TTL (IPv6); then [`Live::carp_header`]; no VRRP.
    fn rx_carp13(
        &mut self,
        ii: usize,
        ip: &IpIn<'_>,
        inb: &Inbound<'_>,
        af: Af,
    ) -> Result<(), Reject> {
        if ip.ttl != sys::CARP_DFLTTL {
            return Err(Reject::BadTtl);
        }
        let (f, ch) = self.carp_header(ii, ip, inb, af)?;
        self.verify(ii, f, ch, af)
    }

    /// 14.x: the interface check (IPv6), [`Live::carp_header`], then TTL
    /// 255 only for a multicast destination (IPv4: `IN_MULTICAST()` without
    /// `ntohl()`, never true on amd64), then the HMAC. No VRRP.
    fn rx_carp14(
        &mut self,
        ii: usize,
        ip: &IpIn<'_>,
        inb: &Inbound<'_>,
        af: Af,
    ) -> Result<(), Reject> {
        let (f, ch) = self.carp_header(ii, ip, inb, af)?;
        self.check_ttl(ii, ch.vhid, af, ip.ttl)?;
        self.verify(ii, f, ch, af)
    }

    /// What 13.x and 14.x check alike: the length and the checksum over
    /// the 36-byte header, then `carp_input_c()`'s vhid lookup and, after
    /// it, the version.
    fn carp_header<'i>(
        &self,
        ii: usize,
        ip: &IpIn<'_>,
        inb: &'i Inbound<'_>,
        af: Af,
    ) -> Result<(Found, &'i CarpIn), Reject> {
        let ch = inb.carp.as_ref().ok_or(Reject::BadLen)?;
        if !inb.sum36 {
            return Err(Reject::BadSum);
        }
        let f = self.find_ifa(ii, ch.vhid, af, ip.src())?;
        if ch.version != sys::CARP_VERSION_CARP {
            return Err(Reject::BadVer);
        }
        Ok((f, ch))
    }

    /// 15.0 and main: the 8-byte common header, the version (2 or 3) and
    /// its minimum length; VRRPv3 goes to `vrrp_input_c()`. CARP: the
    /// checksum (IPv4: the whole IP payload; IPv6: the 36-byte header),
    /// the vhid, the softc's version, TTL for a multicast destination, the
    /// HMAC.
    fn rx_vrrp_era(
        &mut self,
        ii: usize,
        ip: &IpIn<'_>,
        inb: &Inbound<'_>,
        af: Af,
    ) -> Result<(), Reject> {
        let payload = ip.payload;
        if payload.len() < VRRPV3_HEADER_LEN {
            return Err(Reject::BadLen);
        }
        let version = payload[0] >> 4;
        let minlen = match version {
            sys::CARP_VERSION_CARP => CARP_HEADER_LEN,
            sys::CARP_VERSION_VRRPV3 => VRRPV3_HEADER_LEN,
            _ => return Err(Reject::BadVer),
        };
        if payload.len() < minlen {
            return Err(Reject::BadLen);
        }
        if version == sys::CARP_VERSION_VRRPV3 {
            return self.rx_vrrp(ii, ip, inb, af);
        }
        let sum_ok = if ip.v6 { inb.sum36 } else { inb.sum_payload };
        if !sum_ok {
            return Err(Reject::BadSum);
        }
        let ch = inb.carp.as_ref().ok_or(Reject::BadLen)?;
        let f = self.find_ifa(ii, ch.vhid, af, ip.src())?;
        if self.index[ii].vh[usize::from(ch.vhid)].vrrp {
            return Err(Reject::BadVer);
        }
        self.check_ttl(ii, ch.vhid, af, ip.ttl)?;
        self.verify(ii, f, ch, af)
    }

    /// `vrrp_input_c()`: the vrid, the softc's version, TTL 255 always,
    /// the checksum with the pseudo-header. The address list is never
    /// read ("XXX TODO Check IP address payload"), so a short one is
    /// accepted.
    fn rx_vrrp(
        &mut self,
        ii: usize,
        ip: &IpIn<'_>,
        inb: &Inbound<'_>,
        af: Af,
    ) -> Result<(), Reject> {
        let p = ip.payload;
        let vrid = p[1];
        let f = self.find_ifa(ii, vrid, af, ip.src())?;
        if !self.index[ii].vh[usize::from(vrid)].vrrp {
            return Err(Reject::BadVer);
        }
        if ip.ttl != sys::CARP_DFLTTL {
            return Err(Reject::BadTtl);
        }
        if !inb.sum_vrrp {
            return Err(Reject::BadSum);
        }
        let heard = VrrpHeard {
            priority: p[2],
            // ntohs(vrrp_max_adver_int): the reserved bits stay.
            max_adver_int: u16::from_be_bytes([p[4], p[5]]),
        };
        self.input_state(f, Heard::Vrrp(heard), af);
        Ok(())
    }

    fn iface(&self, ii: usize) -> &Iface {
        &self.st.interfaces[self.index[ii].pos]
    }

    /// `carp_find_ifa()` in `carp_input_c()`: the first CARP address of the
    /// packet's family with this vhid on the receiving interface. None:
    /// `badvhid`, or `badif` for a vhid-0 packet from one of the
    /// interface's CARP addresses (a looped packet; the loop only walks the
    /// addresses that have a vhid, `IFNET_FOREACH_IFA`).
    fn find_ifa(&self, ii: usize, vhid: u8, af: Af, src: IpAddr) -> Result<Found, Reject> {
        let entry = &self.index[ii];
        let vh = &entry.vh[usize::from(vhid)];
        if vhid == 0 || vh.slot == 0 || lacks_family(vh.n, af) {
            let ifc = &self.st.interfaces[entry.pos];
            let looped = vhid == 0
                && ifc
                    .addresses
                    .iter()
                    .any(|a| a.vhid != 0 && a.net.addr() == src);
            return Err(if looped {
                Reject::BadIf
            } else {
                Reject::BadVhid
            });
        }
        Ok(Found {
            pos: entry.pos,
            si: usize::from(vh.slot - 1),
            n: vh.n,
        })
    }

    /// TTL 255 is required only when the vhid sends to a multicast group
    /// (unicast peers may be routed); 14.x's IPv4 test never sees the
    /// group as multicast on a little-endian host.
    fn check_ttl(&self, ii: usize, vhid: u8, af: Af, ttl: u8) -> Result<(), Reject> {
        let host_order_bug = af == Af::Inet && self.st.flavor.rules().ttl_v4_host_order_bug;
        let multicast = !host_order_bug && self.index[ii].vh[usize::from(vhid)].mcast[af as usize];
        if multicast && ttl != sys::CARP_DFLTTL {
            return Err(Reject::BadTtl);
        }
        Ok(())
    }

    /// `carp_hmac_verify()` with the state `carp_hmac_prepare()` made,
    /// then the state half of `carp_input_c()`.
    fn verify(&mut self, ii: usize, f: Found, ch: &CarpIn, af: Af) -> Result<(), Reject> {
        if self.auth_at(ii, ch.vhid, f).digest(ch.counter) != ch.md {
            return Err(Reject::BadAuth);
        }
        let heard = CarpHeard {
            advbase: ch.advbase,
            advskew: ch.advskew,
            counter: ch.counter,
        };
        self.input_state(f, Heard::Carp(heard), af);
        Ok(())
    }

    /// The state half of `carp_input_c()` / `vrrp_input_c()`.
    fn input_state(&mut self, f: Found, heard: Heard, af: Af) {
        let d = self.st.demotion();
        let (now, hz) = (self.st.now, self.st.hz);
        let mut ev = std::mem::take(&mut self.scratch);
        let HostState {
            interfaces, sysctl, ..
        } = &mut self.st;
        with_parent(
            &mut interfaces[f.pos],
            f.si,
            (now, hz),
            f.n,
            |p, sc, n| match heard {
                Heard::Carp(h) => fsm::carp_input(p, sc, n, sysctl, d, h, af, &mut ev),
                Heard::Vrrp(h) => fsm::vrrp_input(p, sc, n, sysctl, d, h, af, &mut ev),
            },
        );
        if !ev.is_empty() {
            self.process(&mut ev);
        }
        self.scratch = ev;
    }
}

/// What the checks let through.
enum Heard {
    Carp(CarpHeard),
    Vrrp(VrrpHeard),
}

/// A received frame as `ip_input()` / `ip6_input()` hand it to carp(4),
/// parsed once: the IP packet if it is IPv4 (header checksum good) or IPv6
/// with protocol 112, whether its checksum verifies over the 36-byte
/// header, over the whole IP payload and (a VRRPv3 packet) with the
/// pseudo-header, and the fields of a 36-byte CARP header if it has one. Which of these matter, and in which order, is for
/// each receiving host to decide ([`Live::receive_inbound`]).
pub struct Inbound<'a> {
    ip: Option<IpIn<'a>>,
    sum36: bool,
    sum_payload: bool,
    /// A VRRPv3 packet (version 3, at least `VRRPV3_HEADER_LEN` bytes)
    /// whose checksum with the IP pseudo-header verifies, as
    /// `vrrp_input_c()` checks it (`in_pseudo()` / `in6_cksum_pseudo()`):
    /// the same for every receiver, so computed once per frame.
    sum_vrrp: bool,
    carp: Option<CarpIn>,
}

/// The fields of a CARP header `carp_input_c()` reads.
struct CarpIn {
    version: u8,
    vhid: u8,
    advskew: u8,
    advbase: u8,
    counter: u64,
    md: [u8; 20],
}

impl<'a> Inbound<'a> {
    pub fn parse(frame: &'a [u8]) -> Self {
        let ip = IpIn::parse(frame);
        let (mut sum36, mut sum_payload, mut sum_vrrp, mut carp) = (false, false, false, None);
        if let Some(ip) = &ip {
            let p = ip.payload;
            sum_payload = wire::internet_checksum(p) == 0;
            sum_vrrp = p.len() >= VRRPV3_HEADER_LEN
                && p[0] >> 4 == sys::CARP_VERSION_VRRPV3
                && matches!(wire::vrrp::checksum(p, ip.src(), ip.dst()), Ok(0));
            if p.len() >= CARP_HEADER_LEN {
                sum36 = if p.len() == CARP_HEADER_LEN {
                    sum_payload
                } else {
                    wire::internet_checksum(&p[..CARP_HEADER_LEN]) == 0
                };
                let mut counter = [0u8; 8];
                counter.copy_from_slice(&p[8..16]);
                let mut md = [0u8; 20];
                md.copy_from_slice(&p[16..36]);
                carp = Some(CarpIn {
                    version: p[0] >> 4,
                    vhid: p[1],
                    advskew: p[2],
                    advbase: p[5],
                    counter: u64::from_be_bytes(counter),
                    md,
                });
            }
        }
        Inbound {
            ip,
            sum36,
            sum_payload,
            sum_vrrp,
            carp,
        }
    }

    /// Whether it is an IPv6 packet with protocol 112 (`None`: not carp(4)'s).
    pub(crate) fn is_v6(&self) -> Option<bool> {
        self.ip.as_ref().map(|ip| ip.v6)
    }

    /// The IP destination of a protocol-112 packet.
    pub fn dst(&self) -> Option<IpAddr> {
        self.ip.as_ref().map(IpIn::dst)
    }
}

/// What `ip_input()` / `ip6_input()` hand `carp_input()` / `carp6_input()`:
/// an Ethernet frame carrying IPv4 (header checksum verified, as
/// `ip_input()` drops a bad one) or IPv6, protocol / next header 112.
struct IpIn<'a> {
    v6: bool,
    ttl: u8,
    /// The IP header (for the addresses).
    header: &'a [u8],
    payload: &'a [u8],
}

impl<'a> IpIn<'a> {
    fn parse(frame: &'a [u8]) -> Option<Self> {
        let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
        let ip = frame.get(14..)?;
        match ethertype {
            0x0800 => {
                let b0 = *ip.first()?;
                let ihl = usize::from(b0 & 0x0f) * 4;
                if b0 >> 4 != 4 || ihl < 20 {
                    return None;
                }
                let header = ip.get(..ihl)?;
                let total = usize::from(u16::from_be_bytes([header[2], header[3]]));
                if wire::internet_checksum(header) != 0 || header[9] != sys::IPPROTO_CARP {
                    return None;
                }
                Some(IpIn {
                    v6: false,
                    ttl: header[8],
                    header,
                    payload: ip.get(ihl..total)?,
                })
            }
            0x86dd => {
                let header = ip.get(..40)?;
                let plen = usize::from(u16::from_be_bytes([header[4], header[5]]));
                if header[0] >> 4 != 6 || header[6] != sys::IPPROTO_CARP {
                    return None;
                }
                Some(IpIn {
                    v6: true,
                    ttl: header[7],
                    header,
                    payload: ip.get(40..40 + plen)?,
                })
            }
            _ => None,
        }
    }

    fn addr(&self, off: usize) -> IpAddr {
        let h = self.header;
        if self.v6 {
            let mut o = [0u8; 16];
            o.copy_from_slice(&h[off..off + 16]);
            IpAddr::V6(Ipv6Addr::from(o))
        } else {
            IpAddr::V4(Ipv4Addr::new(h[off], h[off + 1], h[off + 2], h[off + 3]))
        }
    }

    fn src(&self) -> IpAddr {
        self.addr(if self.v6 { 8 } else { 12 })
    }

    fn dst(&self) -> IpAddr {
        self.addr(if self.v6 { 24 } else { 16 })
    }
}

/// Whether the vhid has no address of the packet's family on the
/// receiving interface (then `carp_find_ifa()` finds nothing).
fn lacks_family(n: Naddrs, af: Af) -> bool {
    match af {
        Af::Inet => n.v4 == 0,
        Af::Inet6 => n.v6 == 0,
    }
}
