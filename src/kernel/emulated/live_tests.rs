//! Tests of live hosts: configured through the real backend (the same
//! bytes `carpctl apply` sends), exchanging real frames built by
//! `crate::wire`, and counting every rejection where FreeBSD counts it.

use std::net::{IpAddr, Ipv4Addr};

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
    // `fourteen_accepts_any_ipv4_ttl_on_amd64`).
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
