use std::net::Ipv4Addr;

use super::*;
use crate::scan::testutil::{carp, decoded, from_mac, ip, vrrp2, vrrp3};

const A: &str = "192.0.2.1";
const B: &str = "192.0.2.2";

fn ad(src: &str, skew: u8, counter: u64) -> Decoded {
    decoded(&carp(
        7,
        1,
        skew,
        counter,
        b"pw",
        &[ip("192.0.2.100")],
        ip(src),
    ))
}

/// `src` advertises from `from` every `every` seconds while `< to`.
fn train(from: f64, to: f64, every: f64, src: &'static str, skew: u8) -> Vec<(f64, Decoded)> {
    let mut v = Vec::new();
    let mut t = from;
    let mut c = 100;
    while t < to {
        v.push((t, ad(src, skew, c)));
        t += every;
        c += 1;
    }
    v
}

fn run(mut events: Vec<(f64, Decoded)>, end: f64) -> Tracker {
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut t = Tracker::new(Limits::default());
    for (at, d) in &events {
        t.ingest(*at, "em0", d, None);
    }
    t.advance(end);
    t
}

#[test]
fn one_master() {
    let t = run(train(0.0, 10.0, 1.0, A, 0), 10.5);
    assert_eq!(t.groups.len(), 1);
    let g = &t.groups[0];
    assert_eq!(g.key.proto, Proto::Carp);
    assert_eq!(g.key.id, 7);
    assert_eq!(t.interfaces, ["em0"]);
    let s = &g.speakers[0];
    assert_eq!(s.ads, 10);
    assert_eq!(g.active().collect::<Vec<_>>(), [0]);
    assert_eq!(s.gaps.n, 9);
    assert!((s.gaps.mean().unwrap() - 1.0).abs() < 1e-9);
    assert_eq!(s.gaps.expected_mean(), Some(1.0));
    assert_eq!(s.rate(), Some(1.0));
    assert_eq!(s.carp.unwrap().counter.behaviour(), "increments");
    assert!(g.transitions.items.is_empty());
    assert!(g.duals.items.is_empty() && g.open_duals().is_empty());
    assert_eq!(t.stats.advertisements, 10);
}

/// A dies after its ad at 5 s; B (skew 4) takes over 3 × 1 + 4/256 s
/// after A's last ad reached it.
#[test]
fn failover_is_a_transition_with_a_gap() {
    let mut ev = train(0.0, 5.5, 1.0, A, 0);
    ev.extend(train(8.016, 15.0, 1.016, B, 4));
    let t = run(ev, 15.0);
    let g = &t.groups[0];
    assert_eq!(g.transitions.items.len(), 1);
    let tr = &g.transitions.items[0];
    assert_eq!((tr.from, tr.to), (Some(ip(A)), ip(B)));
    assert!((tr.time - 8.016).abs() < 1e-9);
    // A is taken to have stopped one interval after its last ad.
    assert!((tr.gap - 2.016).abs() < 1e-9, "{tr:?}");
    assert!(g.duals.items.is_empty());
    let active: Vec<IpAddr> = g.active().map(|i| g.speakers[i].addr).collect();
    assert_eq!(active, [ip(B)]);
}

/// A returns (preemption): its first ad makes B step down at once. No
/// dual master, one transition at A's first ad.
#[test]
fn preemption_is_a_transition_without_a_dual_master() {
    let mut ev = train(0.0, 10.2, 1.016, B, 4);
    ev.extend(train(10.5, 20.0, 1.0, A, 0));
    let t = run(ev, 20.0);
    let g = &t.groups[0];
    assert!(g.duals.items.is_empty(), "{:?}", g.duals);
    let tr = &g.transitions.items[0];
    assert_eq!((tr.from, tr.to, tr.gap), (Some(ip(B)), ip(A), 0.0));
    assert!((tr.time - 10.5).abs() < 1e-9);
}

/// Both advertise from 0.5 s to 20 s (a partition): one dual master that
/// ends at A's first ad after B's last, and A, master before, stays.
#[test]
fn two_speakers_at_once_are_a_dual_master() {
    let mut ev = train(0.0, 30.0, 1.0, A, 0);
    ev.extend(train(0.5, 20.0, 1.016, B, 4));
    let t = run(ev, 30.0);
    let g = &t.groups[0];
    assert_eq!(g.duals.items.len(), 1, "{:?}", g.duals);
    let d = &g.duals.items[0];
    assert_eq!(d.speakers, [ip(A), ip(B)]);
    assert!((d.start - 0.5).abs() < 1e-9);
    // B's last ad: 0.5 + 19 × 1.016 = 19.804; A's next: 20.0.
    assert!((d.end - 20.0).abs() < 1e-9, "{d:?}");
    assert!(!d.ongoing);
    assert!(g.transitions.items.is_empty(), "{:?}", g.transitions);
}

#[test]
fn a_dual_master_at_the_end_is_ongoing() {
    let mut ev = train(0.0, 10.0, 1.0, A, 0);
    ev.extend(train(2.0, 10.0, 1.0, B, 0));
    let t = run(ev, 10.0);
    let g = &t.groups[0];
    let open = g.open_duals();
    assert_eq!(open.len(), 1);
    assert!(open[0].ongoing);
    assert_eq!(open[0].start, 2.0);
    assert_eq!(open[0].end, 9.0);
    assert_eq!(g.active().count(), 2);
}

/// IPv4 and IPv6 advertisements of one vhid are two families: never a
/// dual master with each other.
#[test]
fn families_are_judged_apart() {
    let mut ev = train(0.0, 10.0, 1.0, A, 0);
    let mut t = 0.0;
    while t < 10.0 {
        ev.push((
            t + 0.01,
            decoded(&carp(
                7,
                1,
                0,
                5,
                b"pw",
                &[ip("192.0.2.100")],
                ip("fe80::1"),
            )),
        ));
        t += 1.0;
    }
    let tr = run(ev, 10.0);
    let g = &tr.groups[0];
    assert_eq!(g.speakers.len(), 2);
    assert!(g.open_duals().is_empty());
    assert_eq!(g.active().count(), 2);
}

#[test]
fn counters() {
    let mut c = Counter::default();
    for v in [10, 11, 12, 13, 14] {
        c.see(v);
    }
    assert_eq!(c.behaviour(), "increments");
    c.see(999_999);
    assert_eq!((c.resets, c.jumps), (1, 1));
    // The IPv4 and IPv6 packets of one round share the counter: +2.
    let mut c = Counter::default();
    for v in [2, 4, 6, 8] {
        c.see(v);
    }
    assert_eq!(c.behaviour(), "increments");
    // A lone master draws a new random counter per packet (§12.3).
    let mut c = Counter::default();
    for v in [0x1234_5678_9abc, 17, 0xffff_0000_1111, 99_999_999, 5] {
        c.see(v);
    }
    assert_eq!(c.behaviour(), "random");
    assert_eq!(c.resets, 0, "random is not a reset");
    c.see(5);
    assert_eq!(c.repeats, 1);
    assert_eq!(Counter::default().behaviour(), "single");
    // Wrapping around 2^64 is a step.
    let mut c = Counter::default();
    c.see(u64::MAX);
    c.see(0);
    assert_eq!(c.steps, 1);
}

#[test]
fn caps_are_counted_not_stored() {
    let limits = Limits {
        groups: 2,
        speakers_per_group: 2,
        records: 1,
        macs: 1,
    };
    let mut t = Tracker::new(limits);
    for i in 0..5u8 {
        let d = decoded(&carp(
            7,
            1,
            0,
            1,
            b"pw",
            &[],
            ip(&format!("192.0.2.{}", i + 1)),
        ));
        t.ingest(f64::from(i), "em0", &d, None);
    }
    assert_eq!(t.groups[0].speakers.len(), 2);
    assert_eq!(t.groups[0].dropped_speakers, 3);
    assert_eq!(t.stats.over_limits, 3);
    for vhid in [8, 9, 10] {
        let d = decoded(&carp(vhid, 1, 0, 1, b"pw", &[], ip(A)));
        t.ingest(10.0, "em0", &d, None);
    }
    assert_eq!(t.groups.len(), 2);
    assert_eq!(t.stats.over_limits, 5);
    // One MAC kept, the others counted.
    let f = carp(7, 1, 0, 1, b"pw", &[], ip("192.0.2.1"));
    for m in 1..4u8 {
        let d = decoded(&from_mac(f.clone(), MacAddr([2, 0, 0, 0, 0, m])));
        t.ingest(20.0, "em0", &d, None);
    }
    let s = t.groups[0].speaker(ip(A)).unwrap();
    assert_eq!(s.macs.len(), 1);
    assert_eq!(s.other_macs, 3);
    // Interfaces are capped with the groups.
    let d = decoded(&carp(7, 1, 0, 1, b"pw", &[], ip(A)));
    t.ingest(30.0, "em1", &d, None);
    t.ingest(30.0, "em2", &d, None);
    assert!(t.interfaces.len() <= 2, "{:?}", t.interfaces);
}

#[test]
fn records_keep_the_newest() {
    let mut r = Recent::default();
    for i in 0..5 {
        r.push(3, i);
    }
    assert_eq!(r.items, [2, 3, 4]);
    assert_eq!(r.dropped, 2);
    let mut none = Recent::default();
    none.push(0, 1);
    assert!(none.items.is_empty());
}

#[test]
fn vrrp_speakers_and_their_intervals() {
    let v3 = decoded(&vrrp3(51, 150, 50, vec![ip("10.0.0.100")], ip("10.0.0.2")));
    let mac = MacAddr([0x52, 0x54, 0, 0, 0, 3]);
    let v2 = decoded(&vrrp2(
        51,
        100,
        2,
        &[Ipv4Addr::new(10, 0, 0, 100)],
        Ipv4Addr::new(10, 0, 0, 3),
        mac,
    ));
    let mut t = Tracker::new(Limits::default());
    for i in 0..4 {
        t.ingest(f64::from(i) * 0.5, "em0", &v3, None);
        t.ingest(f64::from(i) * 2.0 + 0.1, "em0", &v2, None);
    }
    let g = &t.groups[0];
    assert_eq!(g.key.proto, Proto::Vrrp);
    let s3 = g.speaker(ip("10.0.0.2")).unwrap();
    assert_eq!(s3.interval(), 0.5);
    let v = s3.vrrp.as_ref().unwrap();
    assert_eq!((v.version, v.priority), (3, 150));
    let s2 = g.speaker(ip("10.0.0.3")).unwrap();
    assert_eq!(s2.interval(), 2.0);
    assert_eq!(s2.main_mac(), Some(mac));
    assert_eq!(s2.vrrp.as_ref().unwrap().version, 2);
}

#[test]
fn vlans_make_their_own_interfaces_and_groups() {
    let f = carp(7, 1, 0, 1, b"pw", &[], ip(A));
    let tagged = crate::scan::testutil::tagged(&f, 0x8100, 100);
    let mut t = Tracker::new(Limits::default());
    t.ingest(0.0, "em0", &decoded(&f), None);
    t.ingest(0.0, "em0", &decoded(&tagged), None);
    assert_eq!(t.interfaces, ["em0", "em0.100"]);
    assert_eq!(t.groups.len(), 2);
}

#[test]
fn out_of_order_times_teach_no_interval() {
    let mut t = Tracker::new(Limits::default());
    t.ingest(5.0, "em0", &ad(A, 0, 1), None);
    t.ingest(4.0, "em0", &ad(A, 0, 2), None);
    let s = &t.groups[0].speakers[0];
    assert_eq!(s.gaps.n, 0);
    assert_eq!(s.last_seen, 5.0);
    assert_eq!(t.first, Some(4.0));
}

#[test]
fn hmac_verdicts_are_counted_with_a_sample() {
    struct Half(u32);
    impl Verify for Half {
        fn verify(&mut self, iface: &str, _: &crate::wire::CarpHeader) -> Verdict {
            assert_eq!(iface, "em0");
            self.0 += 1;
            match self.0 % 3 {
                0 => Verdict::Verified,
                1 => Verdict::Failed,
                _ => Verdict::Unchecked,
            }
        }
    }
    let mut v = Half(0);
    let mut t = Tracker::new(Limits::default());
    for i in 0..6 {
        t.ingest(
            f64::from(i),
            "em0",
            &ad(A, 0, u64::from(i as u8)),
            Some(&mut v),
        );
    }
    let h = t.groups[0].speakers[0].carp.unwrap().hmac;
    assert_eq!((h.verified, h.failed, h.unchecked), (2, 2, 2));
    assert_eq!(h.failed_sample.map(|s| s.0), Some(3));
}

#[test]
fn skew_changes_and_faults_are_counted() {
    let mut t = Tracker::new(Limits::default());
    t.ingest(0.0, "em0", &ad(A, 0, 1), None);
    t.ingest(1.0, "em0", &ad(A, 240, 2), None);
    let mut bad = ad(A, 240, 3);
    bad.checksum_ok = false;
    bad.ttl = 64;
    t.ingest(2.0, "em0", &bad, None);
    let s = &t.groups[0].speakers[0];
    let c = s.carp.unwrap();
    assert_eq!(
        (c.changes, c.min_skew, c.max_skew, c.advskew),
        (1, 0, 240, 240)
    );
    assert_eq!((s.bad_checksum, s.bad_ttl, s.last_bad_ttl), (1, 1, 64));
    // A unicast advertisement may arrive routed.
    let mut uni = ad(A, 0, 4);
    uni.dst = ip("192.0.2.2");
    uni.ttl = 63;
    t.ingest(3.0, "em0", &uni, None);
    let s = &t.groups[0].speakers[0];
    assert_eq!((s.bad_ttl, s.unicast), (1, 1));
}
