//! Each rule fires where it should and stays quiet where it should not,
//! on frames built with the wire encoders and run through the scanner.

use std::net::Ipv4Addr;

use super::*;
use crate::scan::Scanner;
use crate::scan::capture::Frame;
use crate::scan::cluster::tests::fixture;
use crate::scan::decode::LinkType;
use crate::scan::report::{KernelStats, Report};
use crate::scan::testutil::{carp, from_mac, ip, vrrp2, vrrp3};

/// Runs `frames` (time, interface, bytes) through a scanner.
fn scan(
    frames: &[(f64, &str, Vec<u8>)],
    cluster: Option<ClusterView>,
    kernel: Option<KernelStats>,
) -> Report {
    let mut s = Scanner::new(cluster);
    for (t, iface, data) in frames {
        s.frame(
            iface,
            &Frame {
                time: *t,
                link: LinkType::Ethernet,
                iface,
                data,
                vlan: None,
            },
        );
    }
    let info = SourceInfo {
        kind: "pcap",
        start: s.tracker.first,
        end: s.tracker.last,
        kernel,
        ..SourceInfo::default()
    };
    s.report(info)
}

fn codes(r: &Report) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code).collect()
}

fn find<'a>(r: &'a Report, code: &str) -> Vec<&'a Finding> {
    r.findings.iter().filter(|f| f.code == code).collect()
}

const M1: [&str; 2] = ["192.0.2.50", "2001:db8::50"];

fn m1() -> Vec<IpAddr> {
    M1.iter().map(|a| ip(a)).collect()
}

/// `src` sends vhid `vhid` ads with `key` over `addrs` from `from` to `to`
/// every `every` s, counter incrementing.
#[allow(clippy::too_many_arguments)]
fn train(
    vhid: u8,
    skew: u8,
    key: &[u8],
    addrs: &[IpAddr],
    src: &str,
    from: f64,
    to: f64,
    every: f64,
) -> Vec<(f64, &'static str, Vec<u8>)> {
    let mut v = Vec::new();
    let mut t = from;
    let mut c = 1000;
    while t < to {
        v.push((t, "em0", carp(vhid, 1, skew, c, key, addrs, ip(src))));
        t += every;
        c += 1;
    }
    v
}

fn sorted(mut v: Vec<(f64, &'static str, Vec<u8>)>) -> Vec<(f64, &'static str, Vec<u8>)> {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

#[test]
fn a_healthy_segment_has_no_findings() {
    let r = scan(
        &train(1, 0, b"k", &[], "192.0.2.3", 0.0, 10.0, 1.0),
        None,
        None,
    );
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert!(!r.failed());
}

#[test]
fn scan001_dual_master_longer_than_an_interval() {
    let mut ev = train(1, 0, b"k", &[], "192.0.2.3", 0.0, 30.0, 1.0);
    ev.extend(train(1, 4, b"k", &[], "192.0.2.4", 5.0, 20.0, 1.016));
    let r = scan(&sorted(ev), None, None);
    let f = find(&r, "SCAN001");
    assert_eq!(f.len(), 1, "{:?}", r.findings);
    assert_eq!(f[0].severity, Severity::Error);
    assert!(
        f[0].message.contains("192.0.2.3 and 192.0.2.4"),
        "{}",
        f[0].message
    );
    assert!(r.failed());
    // Preemption: one advertisement after the other.
    let mut ev = train(1, 4, b"k", &[], "192.0.2.4", 0.0, 10.2, 1.016);
    ev.extend(train(1, 0, b"k", &[], "192.0.2.3", 10.5, 20.0, 1.0));
    let r = scan(&sorted(ev), None, None);
    assert!(find(&r, "SCAN001").is_empty(), "{:?}", r.findings);
    assert_eq!(find(&r, "SCAN020").len(), 1);
}

#[test]
fn scan002_carp_and_vrrp_on_one_number() {
    let mac = MacAddr([0x52, 0x54, 0, 0, 0, 9]);
    let keepalived = vrrp2(
        1,
        100,
        1,
        &[Ipv4Addr::new(10, 0, 0, 1)],
        Ipv4Addr::new(10, 0, 0, 9),
        mac,
    );
    let ucarp = from_mac(
        carp(1, 1, 0, 5, b"k", &[], ip("10.0.0.3")),
        MacAddr([0, 0, 0x5e, 0, 0, 1]),
    );
    let r = scan(
        &[
            (0.0, "em0", ucarp.clone()),
            (0.5, "em0", keepalived.clone()),
        ],
        None,
        None,
    );
    let f = find(&r, "SCAN002");
    assert_eq!(f.len(), 1, "{:?}", r.findings);
    assert!(
        f[0].message.contains("00:00:5e:00:01:01"),
        "{}",
        f[0].message
    );
    assert!(
        f[0].message.contains("52:54:00:00:00:09"),
        "{}",
        f[0].message
    );
    // Other interfaces are other segments.
    let r = scan(&[(0.0, "em0", ucarp), (0.5, "em1", keepalived)], None, None);
    assert!(find(&r, "SCAN002").is_empty());
    // VRRP on a cluster vhid.
    let (_fx, v) = fixture(0o600);
    let vr = vrrp3(2, 100, 100, vec![ip("10.0.0.1")], ip("10.0.0.9"));
    let r = scan(&[(0.0, "em0", vr)], Some(v), None);
    let f = find(&r, "SCAN002");
    assert!(f[0].message.contains("VIP \"mail2\""), "{}", f[0].message);
}

#[test]
fn scan003_ties() {
    let mut ev = train(1, 4, b"k", &[], "192.0.2.3", 0.0, 10.0, 1.0);
    ev.extend(train(1, 4, b"k", &[], "192.0.2.4", 0.3, 10.0, 1.0));
    let r = scan(&sorted(ev), None, None);
    let f = find(&r, "SCAN003");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Warning);
    let a = vrrp3(5, 100, 100, vec![ip("10.0.0.1")], ip("10.0.0.2"));
    let b = vrrp3(5, 100, 100, vec![ip("10.0.0.1")], ip("10.0.0.3"));
    let r = scan(&[(0.0, "em0", a.clone()), (0.1, "em0", b)], None, None);
    let f = find(&r, "SCAN003");
    assert_eq!(f[0].severity, Severity::Info);
    let c = vrrp3(5, 101, 100, vec![ip("10.0.0.1")], ip("10.0.0.3"));
    let r = scan(&[(0.0, "em0", a), (0.1, "em0", c)], None, None);
    assert!(find(&r, "SCAN003").is_empty());
}

#[test]
fn scan004_vrrp_address_lists_disagree() {
    let a = vrrp3(5, 100, 100, vec![ip("10.0.0.1")], ip("10.0.0.2"));
    let b = vrrp3(
        5,
        90,
        100,
        vec![ip("10.0.0.1"), ip("10.0.0.7")],
        ip("10.0.0.3"),
    );
    let r = scan(&[(0.0, "em0", a.clone()), (0.1, "em0", b)], None, None);
    let f = find(&r, "SCAN004");
    assert_eq!(f.len(), 1, "{:?}", r.findings);
    assert!(f[0].message.contains("10.0.0.7"), "{}", f[0].message);
    let mac = MacAddr([0, 0, 0x5e, 0, 1, 5]);
    let v2 = vrrp2(
        5,
        90,
        1,
        &[Ipv4Addr::new(10, 0, 0, 1)],
        Ipv4Addr::new(10, 0, 0, 3),
        mac,
    );
    let r = scan(&[(0.0, "em0", a.clone()), (0.1, "em0", v2)], None, None);
    assert!(find(&r, "SCAN004")[0].message.contains("versions differ"));
    let same = vrrp3(5, 90, 100, vec![ip("10.0.0.1")], ip("10.0.0.3"));
    let r = scan(&[(0.0, "em0", a), (0.1, "em0", same)], None, None);
    assert!(find(&r, "SCAN004").is_empty());
}

#[test]
fn scan005_and_scan006_source_macs() {
    let ucarp = from_mac(
        carp(1, 1, 0, 5, b"k", &[], ip("10.0.0.3")),
        MacAddr([0, 0, 0x5e, 0, 0, 1]),
    );
    let r = scan(&[(0.0, "em0", ucarp)], None, None);
    let f = find(&r, "SCAN005");
    assert!(f[0].message.contains("ucarp"), "{}", f[0].message);
    let r = scan(
        &[(0.0, "em0", carp(1, 1, 0, 5, b"k", &[], ip("10.0.0.3")))],
        None,
        None,
    );
    assert!(find(&r, "SCAN005").is_empty());
    let a = carp(1, 1, 0, 5, b"k", &[], ip("10.0.0.3"));
    let b = from_mac(a.clone(), MacAddr([2, 0, 0, 0, 0, 7]));
    let r = scan(&[(0.0, "em0", a), (1.0, "em0", b)], None, None);
    assert!(
        find(&r, "SCAN005")
            .iter()
            .any(|f| f.message.contains("several MACs"))
    );
    let own = MacAddr([0x52, 0x54, 0, 0, 0, 9]);
    let v2 = vrrp2(
        9,
        100,
        1,
        &[Ipv4Addr::new(10, 0, 0, 1)],
        Ipv4Addr::new(10, 0, 0, 9),
        own,
    );
    let r = scan(&[(0.0, "em0", v2)], None, None);
    assert_eq!(find(&r, "SCAN006")[0].severity, Severity::Info);
    assert!(!r.failed());
    let v3 = vrrp3(9, 100, 100, vec![ip("10.0.0.1")], ip("10.0.0.9"));
    assert!(find(&scan(&[(0.0, "em0", v3)], None, None), "SCAN006").is_empty());
}

#[test]
fn scan007_interval_mismatch() {
    let r = scan(
        &train(1, 0, b"k", &[], "192.0.2.3", 0.0, 5.0, 0.5),
        None,
        None,
    );
    let f = find(&r, "SCAN007");
    assert_eq!(f.len(), 1, "{:?}", r.findings);
    assert!(f[0].message.contains("every 0.500 s"), "{}", f[0].message);
    let r = scan(
        &train(1, 0, b"k", &[], "192.0.2.3", 0.0, 5.0, 1.02),
        None,
        None,
    );
    assert!(find(&r, "SCAN007").is_empty());
}

#[test]
fn scan008_counter_reset() {
    let mut ev = train(1, 0, b"k", &[], "192.0.2.3", 0.0, 5.0, 1.0);
    ev.push((
        5.0,
        "em0",
        carp(1, 1, 0, 77_777_777, b"k", &[], ip("192.0.2.3")),
    ));
    let r = scan(&ev, None, None);
    assert_eq!(find(&r, "SCAN008").len(), 1);
    assert_eq!(
        r.groups[0].speakers[0]
            .carp
            .as_ref()
            .unwrap()
            .counter_resets,
        1
    );
}

#[test]
fn scan009_bad_packets() {
    let mut bad = carp(1, 1, 0, 5, b"k", &[], ip("10.0.0.3"));
    let n = bad.len();
    bad[n - 1] ^= 0xff;
    let r = scan(&[(0.0, "em0", bad.clone())], None, None);
    assert!(find(&r, "SCAN009")[0].message.contains("bad checksum"));
    let r = scan(&[(0.0, "em0", bad[..50].to_vec())], None, None);
    let f = find(&r, "SCAN009");
    assert!(
        f[0].message.contains("could not be read"),
        "{}",
        f[0].message
    );
    assert_eq!(r.counts.malformed, 1);
}

#[test]
fn scan010_to_scan013_hmac() {
    let (_fx, v) = fixture(0o600);
    let ev = train(1, 0, b"secret-two", &m1(), "192.0.2.3", 0.0, 3.0, 1.0);
    let r = scan(&ev, Some(v), None);
    let f = find(&r, "SCAN010");
    assert_eq!(f.len(), 1, "{:?}", r.findings);
    assert!(
        f[0].message.contains("password of VIP \"mail2\""),
        "{}",
        f[0].message
    );
    let (_fx, v) = fixture(0o600);
    let ev = train(
        1,
        0,
        b"secret-one",
        &[ip("192.0.2.50")],
        "192.0.2.3",
        0.0,
        3.0,
        1.0,
    );
    let r = scan(&ev, Some(v), None);
    assert!(
        find(&r, "SCAN011")[0]
            .message
            .contains("all but 2001:db8::50")
    );
    let (_fx, v) = fixture(0o600);
    let ev = train(1, 0, b"guess", &m1(), "192.0.2.3", 0.0, 3.0, 1.0);
    let r = scan(&ev, Some(v), None);
    assert_eq!(find(&r, "SCAN012").len(), 1);
    let (_fx, v) = fixture(0o600);
    let ev = train(1, 0, b"secret-one", &m1(), "192.0.2.3", 0.0, 3.0, 1.0);
    let r = scan(&ev, Some(v), None);
    let hm = &r.groups[0].speakers[0].carp.as_ref().unwrap().hmac;
    assert_eq!((hm.status, hm.verified), ("verified", 3));
    assert!(
        r.findings
            .iter()
            .all(|f| !f.code.starts_with("SCAN01") || f.code == "SCAN014")
    );
    // The key of vhid 2 cannot be read.
    let (_fx, v) = fixture(0o644);
    let ev = train(
        2,
        0,
        b"secret-two",
        &[ip("192.0.2.51")],
        "192.0.2.4",
        0.0,
        3.0,
        1.0,
    );
    let r = scan(&ev, Some(v), None);
    let f = find(&r, "SCAN013");
    assert!(
        f[0].message.contains("HMAC not checked"),
        "{}",
        f[0].message
    );
    assert!(!r.failed(), "{:?}", r.findings);
}

#[test]
fn scan014_to_scan016_against_the_plan() {
    // mail-b (planned 4 on vhid 1) fully demoted, told by --map.
    let (_fx, mut v) = fixture(0o600);
    v.map.insert(ip("192.0.2.4"), "mail-b".into());
    let ev = train(
        1,
        240,
        b"secret-one",
        &m1(),
        "192.0.2.4",
        0.0,
        10.0,
        1.0 + 240.0 / 256.0,
    );
    let r = scan(&ev, Some(v), None);
    let f = find(&r, "SCAN014");
    assert_eq!(
        f[0].message,
        "carp vhid 1 on em0: mail-b advertises advskew 240 = planned 4 + demotion 236 or more \
         (carp(4) advertises at most 240): maintenance, a failing check, or an interface down?"
    );
    assert_eq!(f[0].node.as_deref(), Some("mail-b"));
    // A skew below the plan, and another advbase.
    let (_fx, mut v) = fixture(0o600);
    v.map.insert(ip("192.0.2.4"), "mail-b".into());
    let f = carp(1, 2, 1, 9, b"secret-one", &m1(), ip("192.0.2.4"));
    let r = scan(&[(0.0, "em0", f)], Some(v), None);
    let msgs: Vec<&str> = find(&r, "SCAN015")
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("advbase 2")), "{msgs:?}");
    assert!(
        msgs.iter().any(|m| m.contains("below the planned 4")),
        "{msgs:?}"
    );
    // Not a node: with --map a warning, without an info.
    let (_fx, mut v) = fixture(0o600);
    v.map.insert(ip("192.0.2.4"), "mail-b".into());
    let ev = train(1, 0, b"secret-one", &m1(), "192.0.2.66", 0.0, 2.0, 1.0);
    let r = scan(&ev, Some(v), None);
    assert_eq!(find(&r, "SCAN016")[0].severity, Severity::Warning);
    let (_fx, v) = fixture(0o600);
    let ev = train(1, 240, b"secret-one", &m1(), "192.0.2.66", 0.0, 2.0, 1.0);
    let ev2 = train(
        2,
        240,
        b"secret-two",
        &[ip("192.0.2.51")],
        "192.0.2.66",
        0.0,
        2.0,
        1.0,
    );
    let r = scan(&sorted([ev, ev2].concat()), Some(v), None);
    let f = find(&r, "SCAN016");
    assert_eq!(f[0].severity, Severity::Info, "{f:?}");
    assert!(
        f[0].message.contains("--map NODE=192.0.2.66"),
        "{}",
        f[0].message
    );
}

#[test]
fn scan017_and_scan018_vhids_against_the_file() {
    let (_fx, v) = fixture(0o600);
    let mut ev = train(1, 0, b"secret-one", &m1(), "192.0.2.3", 0.0, 6.0, 1.0);
    ev.extend(train(9, 0, b"x", &[], "192.0.2.77", 0.0, 6.0, 1.0));
    let r = scan(&sorted(ev), Some(v), None);
    assert!(
        find(&r, "SCAN017")[0]
            .message
            .contains("no VIP with vhid 9")
    );
    let f = find(&r, "SCAN018");
    assert_eq!(f.len(), 1, "{:?}", r.findings);
    assert!(
        f[0].message.starts_with("VIP \"mail2\" (vhid 2"),
        "{}",
        f[0].message
    );
    // Too short a capture to say.
    let (_fx, v) = fixture(0o600);
    let ev = train(1, 0, b"secret-one", &m1(), "192.0.2.3", 0.0, 2.0, 1.0);
    assert!(find(&scan(&ev, Some(v), None), "SCAN018").is_empty());
}

#[test]
fn scan019_drops_and_scan020_transitions() {
    let ev = train(1, 0, b"k", &[], "192.0.2.3", 0.0, 3.0, 1.0);
    let k = KernelStats {
        received: 10,
        dropped: 2,
    };
    let r = scan(&ev, None, Some(k));
    assert_eq!(
        find(&r, "SCAN019")[0].message,
        "the kernel dropped 2 frames (10 counted) before carpctl read them: the counts above miss some advertisements"
    );
    let r = scan(
        &ev,
        None,
        Some(KernelStats {
            received: 3,
            dropped: 0,
        }),
    );
    assert!(codes(&r).is_empty(), "{:?}", r.findings);
    let mut ev = train(1, 0, b"k", &[], "192.0.2.3", 0.0, 5.5, 1.0);
    ev.extend(train(1, 4, b"k", &[], "192.0.2.4", 8.016, 12.0, 1.016));
    let r = scan(&sorted(ev), None, None);
    let f = find(&r, "SCAN020");
    assert_eq!(
        f[0].message,
        "carp vhid 1 on em0: master changed from 192.0.2.3 to 192.0.2.4 at 8.016 s after \
         2.016 s without a master"
    );
}

#[test]
fn findings_are_sorted_worst_first() {
    let (_fx, v) = fixture(0o600);
    let mut ev = train(1, 0, b"guess", &m1(), "192.0.2.3", 0.0, 30.0, 1.0);
    ev.extend(train(
        1,
        4,
        b"secret-one",
        &m1(),
        "192.0.2.4",
        5.0,
        20.0,
        1.016,
    ));
    let r = scan(&sorted(ev), Some(v), None);
    let sev: Vec<Severity> = r.findings.iter().map(|f| f.severity).collect();
    let mut s = sev.clone();
    s.sort();
    assert_eq!(sev, s);
    assert!(
        codes(&r).contains(&"SCAN001") && codes(&r).contains(&"SCAN012"),
        "{:?}",
        codes(&r)
    );
}

#[test]
fn scan021_over_the_speaker_limit_and_the_rate_limit() {
    // 17 speakers of one vhid: one over the 16 tracked.
    let mut ev = Vec::new();
    for i in 0..17u8 {
        let src = format!("192.0.2.{}", 100 + i);
        ev.push((0.0, "em0", carp(1, 1, 200, 1, b"k", &[], ip(&src))));
    }
    let r = scan(&ev, None, None);
    assert_eq!(r.counts.over_limits, 1);
    let f = find(&r, "SCAN021");
    assert_eq!(f.len(), 1, "{:?}", r.findings);
    assert!(
        f[0].message.starts_with(
            "1 advertisement ignored over the limits (1024 groups, 16 speakers per group)"
        ),
        "{}",
        f[0].message
    );
    // A live scanner decodes RATE_LIMIT frames per second, counts the rest.
    let frame = carp(1, 1, 0, 1, b"k", &[], ip("192.0.2.3"));
    let mut s = Scanner::live(None);
    let n = crate::scan::RATE_LIMIT + 5;
    for i in 0..n {
        let f = Frame {
            time: 7.0 + i as f64 / (n as f64 * 2.0),
            link: LinkType::Ethernet,
            iface: "em0",
            data: &frame,
            vlan: None,
        };
        s.frame("em0", &f);
    }
    // The next second starts again.
    s.frame(
        "em0",
        &Frame {
            time: 8.0,
            link: LinkType::Ethernet,
            iface: "em0",
            data: &frame,
            vlan: None,
        },
    );
    assert_eq!(s.tracker.stats.over_rate, 5);
    assert_eq!(s.tracker.stats.frames, n + 1);
    assert_eq!(s.tracker.stats.advertisements, crate::scan::RATE_LIMIT + 1);
    let r = s.report(SourceInfo::default());
    assert_eq!(r.counts.over_rate, 5);
    assert!(
        find(&r, "SCAN021")[0]
            .message
            .contains("5 frames over 100000 per second")
    );
    // A file scanner reads everything.
    let mut s = Scanner::new(None);
    for _ in 0..crate::scan::RATE_LIMIT + 5 {
        s.frame(
            "em0",
            &Frame {
                time: 7.0,
                link: LinkType::Ethernet,
                iface: "em0",
                data: &frame,
                vlan: None,
            },
        );
    }
    assert_eq!(s.tracker.stats.over_rate, 0);
}
