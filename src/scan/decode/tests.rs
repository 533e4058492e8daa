use std::net::Ipv4Addr;

use super::*;
use crate::scan::testutil::{carp, decoded, ip, tagged, vrrp2, vrrp3};
use crate::wire::frame::ETHER_HEADER_LEN;

/// The reference vector of docs/freebsd-carp.md §12.5, as a whole frame:
/// Ethernet header and IPv4 packet from shared/testdata/carp-vectors.json.
const VECTOR: &str = concat!(
    "01005e00001200005e0001010800",
    "45e0003800004000ff70d8b7c0a80103e0000012",
    "2101000700018f450123456789abcdef",
    "8a28722b250012cc264dc3ff6044f75668e5d29d"
);

fn vector() -> Vec<u8> {
    hex::decode(VECTOR).unwrap()
}

#[test]
fn the_reference_vector_decodes() {
    let d = decoded(&vector());
    assert_eq!(d.src, ip("192.168.1.3"));
    assert_eq!(d.dst, ip("224.0.0.18"));
    assert_eq!(d.src_mac, Some(MacAddr::carp_virtual(1)));
    assert_eq!(d.dst_mac, Some(MacAddr([1, 0, 0x5e, 0, 0, 0x12])));
    assert_eq!((d.ttl, d.checksum_ok, d.vlans), (255, true, [0, 0]));
    let Message::Carp(h) = d.message else {
        panic!("{:?}", d.message)
    };
    assert_eq!(
        (h.vhid, h.advbase, h.advskew, h.counter),
        (1, 1, 0, 0x0123_4567_89ab_cdef)
    );
    assert_eq!(d.message.id(), 1);
}

#[test]
fn a_bad_checksum_is_decoded_and_noted() {
    let mut f = vector();
    let last = f.len() - 1;
    f[last] ^= 1;
    let d = decoded(&f);
    assert!(!d.checksum_ok);
}

#[test]
fn vlan_tags_are_read_outer_first() {
    let f = vector();
    let one = tagged(&f, ETHERTYPE_VLAN, 0x2064); // PCP 1, VLAN 100
    let d = decoded(&one);
    assert_eq!(d.vlans, [100, 0]);
    assert_eq!(d.vlan_suffix(), ".100");
    let two = tagged(&one, ETHERTYPE_QINQ, 7);
    let d = decoded(&two);
    assert_eq!(d.vlans, [7, 100]);
    assert_eq!(d.vlan_suffix(), ".7.100");
    let old = tagged(&f, ETHERTYPE_QINQ_OLD, 9);
    assert_eq!(decoded(&old).vlans, [9, 0]);
    // Three tags: not a segment carp(4) talks on.
    let three = tagged(&two, ETHERTYPE_VLAN, 3);
    assert_eq!(decode(LinkType::Ethernet, &three, None).unwrap(), None);
    // A tag the kernel took out (Linux auxdata) comes first.
    let d = decode(LinkType::Ethernet, &one, Some(0x0005))
        .unwrap()
        .unwrap();
    assert_eq!(d.vlans, [5, 100]);
    // A tag cut short is not ours to judge.
    assert_eq!(decode(LinkType::Ethernet, &one[..15], None).unwrap(), None);
}

/// IPv6 with a hop-by-hop and a destination-options header before CARP:
/// the walk finds protocol 112 and the checksum still covers exactly the
/// 36-byte header (carp6_input).
#[test]
fn ipv6_extension_headers_are_walked() {
    let base = carp(3, 1, 0, 9, b"pw", &[ip("2001:db8::3")], ip("fe80::1"));
    let (eth, ip6) = base.split_at(ETHER_HEADER_LEN);
    let carp_hdr = &ip6[40..];
    let mut payload = vec![60, 0, 1, 4, 0, 0, 0, 0]; // hop-by-hop → dest opts
    payload.extend([112, 0, 1, 4, 0, 0, 0, 0]); // dest opts → 112
    payload.extend(carp_hdr);
    let mut p = ip6[..40].to_vec();
    p[4..6].copy_from_slice(&(payload.len() as u16).to_be_bytes());
    p[6] = 0;
    p.extend(&payload);
    let mut f = eth.to_vec();
    f.extend(&p);
    let d = decoded(&f);
    assert!(d.checksum_ok);
    assert_eq!(d.src, ip("fe80::1"));
    assert_eq!(d.message.id(), 3);

    // The chain runs past the packet.
    let mut cut = f.clone();
    cut[ETHER_HEADER_LEN + 4..ETHER_HEADER_LEN + 6].copy_from_slice(&12u16.to_be_bytes());
    let e = decode(LinkType::Ethernet, &cut, None)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("IPv6 extension header: "), "{e}");

    // A fragment of a protocol 112 packet.
    let mut frag = ip6[..40].to_vec();
    frag[6] = 44;
    let body = [[112u8, 0, 0, 9, 0, 0, 0, 1].as_slice(), carp_hdr].concat();
    frag[4..6].copy_from_slice(&(body.len() as u16).to_be_bytes());
    frag.extend(&body);
    let mut ff = eth.to_vec();
    ff.extend(&frag);
    let e = decode(LinkType::Ethernet, &ff, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a fragment of a protocol 112 packet (offset 8, more 1)"),
        "{e}"
    );

    // An endless chain of empty options headers.
    let mut long = ip6[..40].to_vec();
    long[6] = 60;
    let mut body = Vec::new();
    for _ in 0..12 {
        body.extend([60, 0, 1, 4, 0, 0, 0, 0]);
    }
    let n = body.len();
    body[n - 8] = 112;
    body.extend(carp_hdr);
    long[4..6].copy_from_slice(&(body.len() as u16).to_be_bytes());
    long.extend(&body);
    let mut lf = eth.to_vec();
    lf.extend(&long);
    assert_eq!(decode(LinkType::Ethernet, &lf, None).unwrap(), None);

    // Another upper protocol behind the headers: not ours.
    let mut udp = f.clone();
    udp[ETHER_HEADER_LEN + 48] = 17;
    assert_eq!(decode(LinkType::Ethernet, &udp, None).unwrap(), None);
}

#[test]
fn vrrp_versions_are_told_from_carp() {
    let v3 = vrrp3(51, 150, 100, vec![ip("10.0.0.100")], ip("10.0.0.2"));
    let d = decoded(&v3);
    assert!(d.checksum_ok);
    let Message::Vrrp3(v) = &d.message else {
        panic!("{:?}", d.message)
    };
    assert_eq!((v.vrid, v.priority, v.interval_cs()), (51, 150, 100));
    let v6 = vrrp3(5, 100, 50, vec![ip("2001:db8::5")], ip("fe80::2"));
    assert!(decoded(&v6).checksum_ok);

    let mac = MacAddr([0x52, 0x54, 0, 0, 0, 9]);
    let v2 = vrrp2(
        1,
        100,
        1,
        &[Ipv4Addr::new(10, 0, 0, 1)],
        Ipv4Addr::new(10, 0, 0, 9),
        mac,
    );
    let d = decoded(&v2);
    assert!(d.checksum_ok, "{d:?}");
    assert_eq!(d.src_mac, Some(mac));
    let Message::Vrrp2(v) = &d.message else {
        panic!("{:?}", d.message)
    };
    assert_eq!((v.vrid, v.priority, v.adver_int), (1, 100, 1));
    assert_eq!(d.ttl, 255);

    // A VRRPv3 message whose checksum was computed for another source.
    let mut bad = v3.clone();
    bad[ETHER_HEADER_LEN + 15] ^= 1; // the last byte of the IP source
    fix_ipv4_sum(&mut bad);
    assert!(!decoded(&bad).checksum_ok);
}

#[test]
fn other_traffic_is_ignored_however_broken() {
    let arp = crate::wire::gratuitous_arp_frame(
        MacAddr::ZERO,
        MacAddr::carp_virtual(1),
        Ipv4Addr::new(10, 0, 0, 1),
    );
    assert_eq!(decode(LinkType::Ethernet, &arp, None).unwrap(), None);
    let mut tcp = vector();
    tcp[ETHER_HEADER_LEN + 9] = 6; // protocol, with a now-wrong header checksum
    assert_eq!(decode(LinkType::Ethernet, &tcp, None).unwrap(), None);
    assert_eq!(decode(LinkType::Ethernet, &tcp[..20], None).unwrap(), None);
    assert_eq!(decode(LinkType::Ethernet, &[], None).unwrap(), None);
    assert_eq!(
        decode(LinkType::Ethernet, &vector()[..13], None).unwrap(),
        None
    );
    let mut v5 = vector();
    v5[ETHER_HEADER_LEN] = 0x55;
    assert_eq!(decode(LinkType::Ethernet, &v5, None).unwrap(), None);
}

#[test]
fn protocol_112_that_cannot_be_read_is_an_error_naming_it() {
    let f = vector();
    let e = |b: &[u8]| decode(LinkType::Ethernet, b, None).unwrap_err().to_string();
    // Cut by the snap length.
    assert_eq!(e(&f[..60]), "IPv4 packet: 46 bytes, need at least 56");
    // A total length that lies short: 30 bytes of CARP.
    let mut short = f.clone();
    short[ETHER_HEADER_LEN + 3] = 50;
    fix_ipv4_sum(&mut short);
    assert!(e(&short).contains("30 bytes"), "{}", e(&short));
    // Bogus options: a header length past the total length.
    let mut opts = f.clone();
    opts[ETHER_HEADER_LEN] = 0x4f;
    fix_ipv4_sum(&mut opts);
    assert!(e(&opts).starts_with("IPv4 header: "), "{}", e(&opts));
    // An unknown version of the message.
    let mut v5 = f.clone();
    v5[ETHER_HEADER_LEN + 20] = 0x51;
    assert!(e(&v5).contains("version 5"), "{}", e(&v5));
    // IPv6 ethertype over IPv4.
    let mut mix = f.clone();
    mix[12..14].copy_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
    assert!(e(&mix).contains("other IP version"), "{}", e(&mix));
}

/// Real IPv4 options (a 4-byte NOP/EOL pad) are skipped.
#[test]
fn ipv4_options_are_skipped() {
    let f = vector();
    let mut p = f[..ETHER_HEADER_LEN].to_vec();
    let ip = &f[ETHER_HEADER_LEN..];
    let mut hdr = ip[..20].to_vec();
    hdr[0] = 0x46;
    hdr[2..4].copy_from_slice(&60u16.to_be_bytes());
    hdr.extend([1, 1, 1, 0]);
    hdr.extend(&ip[20..]);
    p.extend(hdr);
    fix_ipv4_sum(&mut p);
    let d = decoded(&p);
    assert!(d.checksum_ok);
    assert_eq!(d.message.id(), 1);
}

fn fix_ipv4_sum(f: &mut [u8]) {
    let ihl = usize::from(f[ETHER_HEADER_LEN] & 0x0f) * 4;
    let h = &mut f[ETHER_HEADER_LEN..];
    h[10] = 0;
    h[11] = 0;
    let end = ihl.min(h.len());
    let sum = internet_checksum(&h[..end]);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
}

#[test]
fn cooked_and_raw_link_types() {
    let f = vector();
    let ip = &f[ETHER_HEADER_LEN..];
    // SLL: outgoing (4), ARPHRD_ETHER, 6-byte address, then the protocol.
    let mut sll = vec![0, 4, 0, 1, 0, 6, 0, 0, 0x5e, 0, 1, 1, 0, 0, 8, 0];
    sll.extend(ip);
    let d = decode(LinkType::LinuxSll, &sll, None).unwrap().unwrap();
    assert_eq!(d.src_mac, Some(MacAddr::carp_virtual(1)));
    assert_eq!(d.dst_mac, None);
    // SLL2: protocol, reserved, ifindex, hatype, pkttype, halen, address.
    let mut sll2 = vec![
        8, 0, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 0, 0, 0x5e, 0, 1, 1, 0, 0,
    ];
    sll2.extend(ip);
    let d = decode(LinkType::LinuxSll2, &sll2, None).unwrap().unwrap();
    assert_eq!(d.src_mac, Some(MacAddr::carp_virtual(1)));
    let d = decode(LinkType::RawIp, ip, None).unwrap().unwrap();
    assert_eq!(
        (d.src_mac, d.src),
        (None, crate::scan::testutil::ip("192.168.1.3"))
    );
    assert_eq!(decode(LinkType::LinuxSll, &sll[..10], None).unwrap(), None);
    assert_eq!(
        decode(LinkType::LinuxSll2, &sll2[..10], None).unwrap(),
        None
    );
    assert_eq!(LinkType::from_pcap(1), Some(LinkType::Ethernet));
    assert_eq!(LinkType::from_pcap(113), Some(LinkType::LinuxSll));
    assert_eq!(LinkType::from_pcap(276), Some(LinkType::LinuxSll2));
    assert_eq!(LinkType::from_pcap(101), Some(LinkType::RawIp));
    assert_eq!(LinkType::from_pcap(105), None);
}
