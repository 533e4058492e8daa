//! Tests of live hosts: configured through the real backend (the same
//! bytes `carpctl apply` sends), exchanging real frames built by
//! `crate::wire`, and counting every rejection where FreeBSD counts it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::kernel::Kernel;
use crate::kernel::emulated::{EmulatedHost, Flavor, HostSpec, Hz, IfaceSpec};
use crate::kernel::freebsd::FreeBsdKernel;
use crate::model::{AdvSkew, DemotionDelta, Key, Protocol, Vhid, VhidUpdate};
use crate::wire::{CarpAuth, Encap, MacAddr, carp_frame};

type Host = FreeBsdKernel<EmulatedHost>;

fn host(flavor: Flavor, addr: &str, seed: u64) -> Host {
    let spec = HostSpec {
        flavor,
        interfaces: vec![IfaceSpec {
            name: "em0".into(),
            addresses: vec![addr.parse().unwrap()],
        }],
        carp_loaded: true,
        privileged: true,
    };
    let opts = LiveOptions {
        name: addr.into(),
        seed,
        hz: Hz::default(),
        lladdrs: vec![("em0".into(), [2, 0, 0, 0, 0, seed as u8])],
        auth_pool: None,
    };
    FreeBsdKernel::new(EmulatedHost::live(&spec, opts).unwrap())
}

fn live(h: &mut Host) -> &mut Live {
    h.syscalls().live_mut().unwrap()
}

fn vhid(v: i64) -> Vhid {
    Vhid::new(v).unwrap()
}

/// vhid 1 with `advskew` and `password` on em0, VIP 192.0.2.100.
fn carp(h: &mut Host, advskew: i64, password: &[u8]) {
    let u = VhidUpdate {
        advskew: Some(AdvSkew::new(advskew).unwrap()),
        key: Some(Key::new(password).unwrap()),
        ..VhidUpdate::default()
    };
    h.set_vhid("em0", vhid(1), &u).unwrap();
    h.add_address("em0", vhid(1), "192.0.2.100/32".parse().unwrap())
        .unwrap();
}

/// Run two hosts on one wire until `until` µs: wake-ups in time order,
/// frames delivered at once. Returns every frame sent: (µs, from, bytes).
fn exchange(hosts: &mut [&mut Host; 2], until: u64) -> Vec<(u64, usize, Vec<u8>)> {
    let mut wakes: Vec<(u64, usize, u16, u8)> = Vec::new();
    let mut frames = Vec::new();
    let mut now = live(hosts[0]).now();
    loop {
        let mut sent = Vec::new();
        for (i, h) in hosts.iter_mut().enumerate() {
            let out = live(h).take_output();
            wakes.extend(out.wakes.iter().map(|&(ix, v, at)| (at, i, ix, v)));
            sent.extend(out.frames.into_iter().map(|(_, _, b)| (i, b)));
        }
        for (from, bytes) in sent {
            let to = 1 - from;
            live(hosts[to]).set_now(now);
            live(hosts[to]).receive(2, &bytes);
            frames.push((now, from, bytes));
        }
        if hosts.iter_mut().any(|h| live(h).has_output()) {
            continue;
        }
        wakes.sort();
        let Some(&(at, i, ix, v)) = wakes.first() else {
            break;
        };
        if at > until {
            break;
        }
        wakes.remove(0);
        now = at;
        live(hosts[i]).set_now(at);
        live(hosts[i]).wake(ix, v);
    }
    frames
}

fn state(h: &mut Host) -> CarpState {
    live(h).state_of(2, 1).unwrap()
}

#[test]
fn two_hosts_elect_the_lower_skew_through_real_advertisements() {
    let mut a = host(Flavor::V14, "192.0.2.1/24", 1);
    let mut b = host(Flavor::V14, "192.0.2.2/24", 2);
    carp(&mut a, 0, b"pw");
    carp(&mut b, 100, b"pw");
    assert_eq!(
        (state(&mut a), state(&mut b)),
        (CarpState::Backup, CarpState::Backup)
    );
    let frames = exchange(&mut [&mut a, &mut b], 10_000_000);
    assert_eq!(state(&mut a), CarpState::Master);
    assert_eq!(state(&mut b), CarpState::Backup);
    // a's master-down timer: 3 s (advskew 0), 3001 ticks at hz 1000; its
    // first frames then: an advertisement, then the gratuitous ARP.
    assert_eq!(frames[0].0, 3_001_000);
    assert_eq!(&frames[0].2[12..14], &[0x08, 0x00]);
    assert_eq!(&frames[1].2[12..14], &[0x08, 0x06], "gratuitous ARP");
    // Then one advertisement every 1001 ticks (1 s, rounded up, plus one
    // tick), all from a.
    let ads: Vec<u64> = frames
        .iter()
        .filter(|f| f.2[12..14] == [0x08, 0x00])
        .map(|f| f.0)
        .collect();
    assert_eq!(
        ads,
        (0..7)
            .map(|k| 3_001_000 + k * 1_001_000)
            .collect::<Vec<_>>()
    );
    assert!(frames.iter().all(|f| f.1 == 0));
    // Counters: random while a has heard no one (sc_init_counter), the
    // next is not the last + 1; b stores each one it accepts.
    let counter = |f: &[u8]| u64::from_be_bytes(f[14 + 20 + 8..14 + 20 + 16].try_into().unwrap());
    let c: Vec<u64> = frames
        .iter()
        .filter(|f| f.2[12..14] == [0x08, 0x00])
        .map(|f| counter(&f.2))
        .collect();
    assert!(c.windows(2).all(|w| w[1] != w[0].wrapping_add(1)), "{c:x?}");
    assert_eq!(b.syscalls().live_mut().unwrap().stats().badauth, 0);
    assert_eq!(live(&mut b).stats().ipackets, ads.len() as u64);
}

#[test]
fn a_different_password_is_badauth_and_both_become_master() {
    let mut a = host(Flavor::V14, "192.0.2.1/24", 1);
    let mut b = host(Flavor::V14, "192.0.2.2/24", 2);
    carp(&mut a, 0, b"pw");
    carp(&mut b, 100, b"other");
    exchange(&mut [&mut a, &mut b], 10_000_000);
    assert_eq!(
        (state(&mut a), state(&mut b)),
        (CarpState::Master, CarpState::Master)
    );
    assert!(live(&mut b).stats().badauth >= 3);
    assert!(live(&mut a).stats().badauth >= 3);
}

/// An advertisement from a peer, built independently with `crate::wire`.
fn ad(vhid: u8, skew: u8, key: &[u8], counter: u64) -> Vec<u8> {
    let vip: IpAddr = Ipv4Addr::new(192, 0, 2, 100).into();
    let h = CarpAuth::new(key, vhid, &[vip])
        .unwrap()
        .header(1, skew, counter);
    carp_frame(
        &h,
        &Encap::multicast("192.0.2.9".parse().unwrap(), MacAddr([2, 0, 0, 0, 0, 9])),
    )
    .unwrap()
}

#[test]
fn receive_counts_each_rejection_as_freebsd_does() {
    // 15: its IPv4 TTL check works (14.x's does not, see
    // `each_release_checks_in_its_own_order`).
    let mut a = host(Flavor::V15, "192.0.2.1/24", 1);
    carp(&mut a, 0, b"pw");
    let good = ad(1, 0, b"pw", 5);
    let l = live(&mut a);
    // Bad CARP checksum (flip a counter byte).
    let mut bad = good.clone();
    bad[14 + 20 + 9] ^= 1;
    l.receive(2, &bad);
    assert_eq!(l.stats().badsum, 1);
    // A vhid this interface does not have.
    l.receive(2, &ad(9, 0, b"pw", 5));
    assert_eq!(l.stats().badvhid, 1);
    // TTL 254 (IPv4 header checksum fixed up so that ip_input keeps it).
    let mut ttl = good.clone();
    ttl[14 + 8] = 254;
    ttl[14 + 10] = 0;
    ttl[14 + 11] = 0;
    let sum = crate::wire::internet_checksum(&ttl[14..34]);
    ttl[14 + 10..14 + 12].copy_from_slice(&sum.to_be_bytes());
    l.receive(2, &ttl);
    assert_eq!(l.stats().badttl, 1);
    // Another key.
    l.receive(2, &ad(1, 0, b"nope", 5));
    assert_eq!(l.stats().badauth, 1);
    // Too short for a CARP header.
    l.receive(2, &good[..14 + 20 + 20]);
    // (IPv4 total length says 56: the frame is truncated, ip_input drops it.)
    assert_eq!(l.stats().badlen, 0);
    // Accepted: the counter is stored, and the state machine ran (BACKUP
    // stays BACKUP against a faster peer... here an equal one, advskew 0).
    let before = l.stats().ipackets;
    l.receive(2, &good);
    assert_eq!(l.stats().ipackets, before + 1);
    assert_eq!(l.state_of(2, 1), Some(CarpState::Backup));
    // allow = 0: counted in ipackets, then dropped.
    a.set_knob(crate::model::Knob::Allow, 0).unwrap();
    let l = live(&mut a);
    let ip = l.stats().ipackets;
    l.receive(2, &ad(9, 0, b"pw", 5));
    assert_eq!((l.stats().ipackets, l.stats().badvhid), (ip + 1, 1));
}

#[test]
fn freebsd_13_checks_ttl_first() {
    let mut a = host(Flavor::V13, "192.0.2.1/24", 1);
    carp(&mut a, 0, b"pw");
    // TTL 254 on an unknown vhid: 13.x says badttl, 14 says badvhid.
    let mut f = ad(9, 0, b"pw", 5);
    f[14 + 8] = 254;
    f[14 + 10] = 0;
    f[14 + 11] = 0;
    let sum = crate::wire::internet_checksum(&f[14..34]);
    f[14 + 10..14 + 12].copy_from_slice(&sum.to_be_bytes());
    live(&mut a).receive(2, &f);
    assert_eq!(
        (live(&mut a).stats().badttl, live(&mut a).stats().badvhid),
        (1, 0)
    );
    let mut b = host(Flavor::V14, "192.0.2.2/24", 2);
    carp(&mut b, 0, b"pw");
    live(&mut b).receive(2, &f);
    assert_eq!(
        (live(&mut b).stats().badttl, live(&mut b).stats().badvhid),
        (0, 1)
    );
}

#[test]
fn a_negative_demotion_on_13_0_wraps_the_advertised_skew() {
    // PR 259528: 13.0 does not clamp DEMOTE_ADVSKEW below, and the u_int8_t
    // carp_advskew takes -1 as 255; 13.1 and later clamp it at 0.
    for (flavor, want) in [(Flavor::V13_0, 255u8), (Flavor::V13, 0), (Flavor::V14, 0)] {
        let mut a = host(flavor, "192.0.2.1/24", 1);
        carp(&mut a, 0, b"pw");
        let mut b = host(flavor, "192.0.2.2/24", 2);
        carp(&mut b, 100, b"pw");
        exchange(&mut [&mut a, &mut b], 4_000_000);
        a.adjust_demotion(DemotionDelta::new(-1)).unwrap();
        // The demotion change makes the MASTER advertise at once.
        let out = live(&mut a).take_output();
        let skews: Vec<u8> = out
            .frames
            .iter()
            .filter(|f| f.2[12..14] == [0x08, 0x00])
            .map(|f| f.2[14 + 20 + 2])
            .collect();
        assert_eq!(skews, [want], "{flavor:?}");
    }
}

#[test]
fn vrrp_hosts_elect_by_priority() {
    let mut a = host(Flavor::V15, "192.0.2.1/24", 1);
    let mut b = host(Flavor::V15, "192.0.2.2/24", 2);
    for (h, prio) in [(&mut a, 200u8), (&mut b, 100u8)] {
        let u = VhidUpdate {
            protocol: Some(Protocol::Vrrpv3),
            vrrp_priority: Some(prio),
            vrrp_interval: Some(100),
            ..VhidUpdate::default()
        };
        h.set_vhid("em0", vhid(1), &u).unwrap();
        h.add_address("em0", vhid(1), "192.0.2.100/32".parse().unwrap())
            .unwrap();
    }
    let frames = exchange(&mut [&mut a, &mut b], 8_000_000);
    assert_eq!(
        (state(&mut a), state(&mut b)),
        (CarpState::Master, CarpState::Backup)
    );
    // Master-down: 3 × 100 cs + (256 − 200) × 100 / 256 = 300 + 21 cs.
    assert_eq!(frames[0].0, 3_210_000);
    // VRRPv3 (version 3, type 1) from the virtual MAC.
    let f = &frames[0].2;
    assert_eq!(f[14 + 20], 0x31);
    assert_eq!(&f[6..12], &[0, 0, 0x5e, 0, 1, 1]);
    assert_eq!(live(&mut b).stats().badsum, 0);
}

/// A host with several interfaces: (name, its own addresses).
fn host_ifs(flavor: Flavor, ifs: &[(&str, &[&str])], seed: u64) -> Host {
    let spec = HostSpec {
        flavor,
        interfaces: ifs
            .iter()
            .map(|(name, addrs)| IfaceSpec {
                name: (*name).into(),
                addresses: addrs.iter().map(|a| a.parse().unwrap()).collect(),
            })
            .collect(),
        carp_loaded: true,
        privileged: true,
    };
    let opts = LiveOptions {
        name: format!("host{seed}"),
        seed,
        hz: Hz::default(),
        lladdrs: ifs
            .iter()
            .enumerate()
            .map(|(i, (n, _))| ((*n).to_string(), [2, 0, 0, 0, i as u8, seed as u8]))
            .collect(),
        auth_pool: None,
    };
    FreeBsdKernel::new(EmulatedHost::live(&spec, opts).unwrap())
}

/// vhid `v` on `ifname` with the address `vip`, then MASTER on request
/// (`ifconfig ... vhid v state master`).
fn master_vhid(h: &mut Host, ifname: &str, v: i64, vip: &str) {
    let u = VhidUpdate {
        key: Some(Key::new(b"pw").unwrap()),
        ..VhidUpdate::default()
    };
    h.set_vhid(ifname, vhid(v), &u).unwrap();
    h.add_address(ifname, vhid(v), vip.parse().unwrap())
        .unwrap();
    let m = VhidUpdate {
        state: Some(CarpState::Master),
        ..VhidUpdate::default()
    };
    h.set_vhid(ifname, vhid(v), &m).unwrap();
}

/// `carp_demote_adj()` enqueues one task: a link going down under two
/// vhids demotes twice, and every MASTER advertises once.
#[test]
fn a_burst_of_demotions_makes_each_master_advertise_once() {
    let mut h = host_ifs(
        Flavor::V14,
        &[("em0", &["192.0.2.1/24"]), ("em1", &["198.51.100.1/24"])],
        1,
    );
    master_vhid(&mut h, "em0", 1, "192.0.2.100/32");
    master_vhid(&mut h, "em0", 3, "192.0.2.103/32");
    master_vhid(&mut h, "em1", 2, "198.51.100.100/32");
    live(&mut h).take_output();
    live(&mut h).set_link("em0", false).unwrap();
    let out = live(&mut h).take_output();
    let demotions = out
        .events
        .iter()
        .filter(|e| matches!(e, Event::Demotion { .. }))
        .count();
    assert_eq!(demotions, 2, "one per vhid on em0");
    // em1's MASTER (vhid 2, ifindex 3) advertises once, with skew 240.
    let ads: Vec<&(u16, u8, Vec<u8>)> = out
        .frames
        .iter()
        .filter(|f| f.2[12..14] == [8, 0])
        .collect();
    assert_eq!(
        ads.len(),
        1,
        "{:?}",
        ads.iter().map(|f| (f.0, f.1)).collect::<Vec<_>>()
    );
    assert_eq!(
        (ads[0].0, ads[0].2[14 + 20 + 1], ads[0].2[14 + 20 + 2]),
        (3, 2, 240)
    );
}

/// One MASTER vhid with an IPv4 and an IPv6 VIP on a host with a global
/// IPv6 address: its IPv4 and IPv6 advertisements.
fn dual_stack_ads() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut h = host_ifs(
        Flavor::V14,
        &[("em0", &["192.0.2.1/24", "2001:db8::1/64"])],
        7,
    );
    master_vhid(&mut h, "em0", 1, "192.0.2.100/32");
    h.add_address("em0", vhid(1), "2001:db8::100/64".parse().unwrap())
        .unwrap();
    let m = VhidUpdate {
        state: Some(CarpState::Master),
        ..VhidUpdate::default()
    };
    // The address change passed through INIT and BACKUP: MASTER again.
    h.set_vhid("em0", vhid(1), &m).unwrap();
    let out = live(&mut h).take_output();
    let bytes = out.frames.into_iter().map(|f| f.2);
    let (v4, rest): (Vec<_>, Vec<_>) = bytes.partition(|b| b[12..14] == [8, 0]);
    let v6 = rest
        .into_iter()
        .filter(|b| b[12..14] == [0x86, 0xdd] && b[14 + 6] == 112)
        .collect();
    (v4, v6)
}

#[test]
fn ipv4_advertisements_carry_id_0() {
    let (v4, _) = dual_stack_ads();
    assert!(!v4.is_empty());
    for b in &v4 {
        assert_eq!(&b[14 + 4..14 + 6], &[0, 0], "ip_fillid(): DF set, id 0");
    }
}

#[test]
fn ipv6_advertisements_leave_from_the_link_local_address() {
    let (_, v6) = dual_stack_ads();
    assert!(!v6.is_empty());
    // fe80::/64 with the EUI-64 of em0's MAC 02:00:00:00:00:07, not the
    // interface's global 2001:db8::1.
    let src: Ipv6Addr = "fe80::ff:fe00:7".parse().unwrap();
    for b in &v6 {
        assert_eq!(&b[14 + 8..14 + 24], &src.octets(), "from the link-local");
    }
}

/// The loop check of `carp_input_c()` walks the interface's carp
/// addresses only: a vhid-0 packet from the host's own address is
/// `badvhid`, from one of its VIPs `badif`.
#[test]
fn the_vhid_0_loop_check_looks_at_carp_addresses_only() {
    for f in [Flavor::V13, Flavor::V14, Flavor::V15] {
        let mut a = host(f, "192.0.2.1/24", 1);
        carp(&mut a, 0, b"pw");
        let from = |src: &str| {
            let h = CarpAuth::new(b"pw", 0, &[]).unwrap().header(1, 0, 5);
            carp_frame(
                &h,
                &Encap::multicast(src.parse().unwrap(), MacAddr([2, 0, 0, 0, 0, 9])),
            )
            .unwrap()
        };
        live(&mut a).receive(2, &from("192.0.2.1"));
        live(&mut a).receive(2, &from("192.0.2.100"));
        let s = live(&mut a).stats();
        assert_eq!((s.badvhid, s.badif), (1, 1), "{f:?}");
    }
}

/// An IPv4 frame with protocol 112, `payload`, TTL `ttl`.
fn raw_v4(payload: &[u8], ttl: u8) -> Vec<u8> {
    let mut h = crate::wire::Ipv4Header::carp(
        "192.0.2.9".parse().unwrap(),
        "224.0.0.18".parse().unwrap(),
        56,
        0,
    )
    .unwrap();
    h.ttl = ttl;
    let ip = h.encode(payload).unwrap();
    crate::wire::EthernetHeader {
        dst: MacAddr([1, 0, 0x5e, 0, 0, 0x12]),
        src: MacAddr([2, 0, 0, 0, 0, 9]),
        ethertype: 0x0800,
    }
    .encode(&ip)
}

/// The checks of each release, in its order (`docs/freebsd-carp.md` §9):
/// which counter a crafted packet lands in.
#[test]
fn each_release_checks_in_its_own_order() {
    let key = b"pw";
    let good = CarpAuth::new(key, 1, &["192.0.2.100".parse().unwrap()])
        .unwrap()
        .header(1, 0, 5)
        .to_bytes();
    // TTL 254, otherwise good.
    let ttl = raw_v4(&good, 254);
    // Version 7 on a vhid the host lacks.
    let mut v7 = CarpAuth::new(key, 9, &[])
        .unwrap()
        .header(1, 0, 5)
        .to_bytes();
    v7[0] = 0x71;
    v7[6..8].copy_from_slice(&[0, 0]);
    let sum = crate::wire::internet_checksum(&v7);
    v7[6..8].copy_from_slice(&sum.to_be_bytes());
    let v7 = raw_v4(&v7, 255);
    // A good header followed by 4 bytes that break a whole-payload sum.
    let mut long = good.to_vec();
    long.extend_from_slice(&[0, 0, 0, 1]);
    let long = raw_v4(&long, 255);
    type Row = (Flavor, [&'static str; 3]);
    // What each release makes of (ttl, v7, long).
    let rows: [Row; 5] = [
        (Flavor::V13_0, ["badttl", "badvhid", "ok"]),
        (Flavor::V13, ["badttl", "badvhid", "ok"]),
        // 14.x never sees 224.0.0.18 as multicast (IN_MULTICAST without
        // ntohl on amd64): any TTL passes.
        (Flavor::V14, ["ok", "badvhid", "ok"]),
        (Flavor::V15, ["badttl", "badver", "badsum"]),
        (Flavor::Main, ["badttl", "badver", "badsum"]),
    ];
    for (f, want) in rows {
        let mut got = Vec::new();
        for frame in [&ttl, &v7, &long] {
            let mut a = host(f, "192.0.2.1/24", 1);
            carp(&mut a, 0, b"pw");
            let l = live(&mut a);
            let before = *l.stats();
            l.receive(2, frame);
            let s = l.stats();
            let verdict = if s.badttl > before.badttl {
                "badttl"
            } else if s.badvhid > before.badvhid {
                "badvhid"
            } else if s.badver > before.badver {
                "badver"
            } else if s.badsum > before.badsum {
                "badsum"
            } else if s.badauth > before.badauth || s.badlen > before.badlen {
                "other"
            } else {
                "ok"
            };
            got.push(verdict);
        }
        assert_eq!(got, want, "{f:?}");
    }
}

/// A VRRPv3 advertisement whose address list is shorter than its count is
/// accepted: `vrrp_input_c()` never reads the list.
#[test]
fn a_short_vrrp_address_list_is_accepted() {
    let mut a = vrrp_master();
    // Priority 200 from a peer, count 3, no address at all.
    let (src, dst): (IpAddr, IpAddr) =
        ("192.0.2.9".parse().unwrap(), "224.0.0.18".parse().unwrap());
    let mut msg = vec![0x31, 1, 200, 3, 0, 100, 0, 0];
    let sum = crate::wire::vrrp::checksum(&msg, src, dst).unwrap();
    msg[6..8].copy_from_slice(&sum.to_be_bytes());
    live(&mut a).receive(2, &raw_v4(&msg, 255));
    assert_eq!(live(&mut a).stats().badlen, 0);
    assert_eq!(live(&mut a).state_of(2, 1), Some(CarpState::Backup));
}

/// A VRRPv3 host on 15.0 (vhid 1, priority 100, MASTER on em0).
fn vrrp_master() -> Host {
    let mut a = host(Flavor::V15, "192.0.2.1/24", 1);
    let u = VhidUpdate {
        protocol: Some(Protocol::Vrrpv3),
        vrrp_priority: Some(100),
        vrrp_interval: Some(100),
        ..VhidUpdate::default()
    };
    a.set_vhid("em0", vhid(1), &u).unwrap();
    a.add_address("em0", vhid(1), "192.0.2.100/32".parse().unwrap())
        .unwrap();
    let m = VhidUpdate {
        state: Some(CarpState::Master),
        ..VhidUpdate::default()
    };
    a.set_vhid("em0", vhid(1), &m).unwrap();
    a
}

/// The simulator parses a frame once and hands the same [`Inbound`] to
/// every receiver, so the VRRPv3 checksum (with the pseudo-header,
/// `vrrp_input_c()`) is judged once per frame: a corrupted one is
/// `badsum` on every host, a good one is heard by every host.
#[test]
fn one_parse_of_a_vrrp_frame_serves_every_receiver() {
    let mut hosts = [vrrp_master(), vrrp_master()];
    let (src, dst): (IpAddr, IpAddr) =
        ("192.0.2.9".parse().unwrap(), "224.0.0.18".parse().unwrap());
    let mut msg = vec![0x31, 1, 200, 1, 0, 100, 0, 0, 192, 0, 2, 100];
    let sum = crate::wire::vrrp::checksum(&msg, src, dst).unwrap();
    // Corrupted, then as sent: badsum counted, then the MASTER steps down
    // for the higher priority; on every host alike.
    for (sum, state) in [(sum ^ 1, CarpState::Master), (sum, CarpState::Backup)] {
        msg[6..8].copy_from_slice(&sum.to_be_bytes());
        let frame = raw_v4(&msg, 255);
        let inb = Inbound::parse(&frame);
        for h in &mut hosts {
            live(h).receive_inbound(2, &inb);
            assert_eq!(live(h).stats().badsum, 1);
            assert_eq!(live(h).state_of(2, 1), Some(state));
        }
    }
}

/// `ifconfig em0 down`: `if_unroute()` clears `IFF_UP` and calls
/// `carp_linkstate()`, so the MASTER goes to INIT with the ifdown
/// demotion, exactly as for a link going down, while the link itself
/// stays up; `ifconfig em0 up` undoes both and the vhid runs again.
#[test]
fn ifconfig_down_is_carp_linkstate_with_the_link_up() {
    let mut h = host(Flavor::V14, "192.0.2.1/24", 1);
    master_vhid(&mut h, "em0", 1, "192.0.2.100/32");
    live(&mut h).take_output();
    live(&mut h).set_admin("em0", false).unwrap();
    assert_eq!(live(&mut h).state_of(2, 1), Some(CarpState::Init));
    assert_eq!(live(&mut h).demotion(), 240);
    let em0 = h
        .interfaces()
        .unwrap()
        .into_iter()
        .find(|i| i.name == "em0");
    let em0 = em0.unwrap();
    assert!(!em0.up);
    assert_eq!(em0.link_up, Some(true));
    // Down again changes nothing: no second demotion.
    live(&mut h).set_admin("em0", false).unwrap();
    assert_eq!(live(&mut h).demotion(), 240);
    live(&mut h).set_admin("em0", true).unwrap();
    assert_eq!(live(&mut h).state_of(2, 1), Some(CarpState::Backup));
    assert_eq!(live(&mut h).demotion(), 0);
    assert!(
        h.interfaces()
            .unwrap()
            .iter()
            .any(|i| i.name == "em0" && i.up)
    );
    assert_eq!(live(&mut h).set_admin("em9", false), Err(Errno::ENXIO));
}
