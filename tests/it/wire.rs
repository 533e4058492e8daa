//! The CARP/VRRPv3 wire codec against data computed independently of
//! carpctl (`tests/data/carp-vectors.json`, see `tests/data/README.md`),
//! the kernel's receive validation order (docs/freebsd-carp.md §9), decoders fed
//! arbitrary bytes, and tshark decoding a capture written by the pcap
//! writer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::time::Duration;

use carpctl::wire::arp::NeighborAdvert;
use carpctl::wire::carp::{self, CARP_MD_LEN};
use carpctl::wire::frame::{CARP_GROUP_V4, CARP_GROUP_V6};
use carpctl::wire::pcap::{TSHARK_CARP_ARGS, read_frames};
use carpctl::wire::{
    Advertisement, CarpAuth, CarpHeader, Encap, IpHeader, IpPacket, Ipv4Header, Ipv6Header,
    MacAddr, Payload, PcapSink, Receiver, Reject, VrrpAdvert, carp_frame, decode_frame,
    gratuitous_arp_frame, receive, unsolicited_na_frame, vrrp_frame,
};
use hmac::{Hmac, KeyInit, Mac};
use proptest::prelude::*;
use serde_json::Value;
use sha1::Sha1;

const VECTORS: &str = include_str!("../data/carp-vectors.json");

// ---------------------------------------------------------------------------
// The vectors file
// ---------------------------------------------------------------------------

/// One vector's inputs, read from the JSON.
struct Vector {
    name: String,
    vhid: u8,
    advbase: u8,
    advskew: u8,
    password: Vec<u8>,
    key20: Vec<u8>,
    addrs: Vec<IpAddr>,
    counter: u64,
    ipv4_source: Ipv4Addr,
    ip_id: u16,
    dscp: u8,
    expected: Value,
}

fn hexval(v: &Value, field: &str) -> Vec<u8> {
    let s = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string"));
    let s = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(s).unwrap_or_else(|e| panic!("{field}: {e}"))
}

fn num<T: TryFrom<u64>>(v: &Value, field: &str) -> T {
    let n = v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} is not a number"));
    T::try_from(n).unwrap_or_else(|_| panic!("{field} = {n} is out of range"))
}

fn addr_list(v: &Value, field: &str) -> Vec<String> {
    v[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} is not an array"))
        .iter()
        .map(|a| a.as_str().expect("address string").to_owned())
        .collect()
}

fn vectors() -> Vec<Vector> {
    let doc: Value = serde_json::from_str(VECTORS).expect("carp-vectors.json is JSON");
    assert_eq!(doc["format_version"], 1);
    let list = doc["vectors"].as_array().expect("vectors array");
    let out: Vec<Vector> = list
        .iter()
        .map(|v| {
            let i = &v["inputs"];
            let mut addrs: Vec<IpAddr> = addr_list(i, "ipv4_addresses")
                .iter()
                .map(|s| s.parse().expect("IPv4 address"))
                .collect();
            addrs.extend(
                addr_list(i, "ipv6_addresses")
                    .iter()
                    .map(|s| s.parse::<IpAddr>().expect("IPv6 address")),
            );
            let counter = hexval(i, "counter_hex");
            let counter = u64::from_be_bytes(counter.try_into().expect("8-byte counter"));
            assert_eq!(counter, num::<u64>(i, "counter"), "counter vs counter_hex");
            Vector {
                name: v["name"].as_str().expect("name").to_owned(),
                vhid: num(i, "vhid"),
                advbase: num(i, "advbase"),
                advskew: num(i, "advskew"),
                password: hexval(i, "password_hex"),
                key20: hexval(i, "key20_hex"),
                addrs,
                counter,
                ipv4_source: i["ipv4_source"]
                    .as_str()
                    .expect("source")
                    .parse()
                    .expect("IPv4"),
                ip_id: num(i, "ip_id"),
                dscp: num(i, "dscp"),
                expected: v["expected"].clone(),
            }
        })
        .collect();
    // The file holds six vectors (docs/freebsd-carp.md §10); fewer would mean this
    // test silently checks less.
    assert_eq!(out.len(), 6, "number of vectors");
    out
}

fn md(bytes: &[u8]) -> [u8; CARP_MD_LEN] {
    bytes.try_into().expect("20-byte MAC")
}

/// Receives `packet` (an IP packet) on a host whose vhid has `auth`.
fn receive_with(packet: &[u8], auth: &CarpAuth, multicast: bool) -> Result<Advertisement, Reject> {
    let ip = IpPacket::parse(packet).expect("IP packet");
    receive(&ip, |vhid| {
        (vhid == auth.vhid()).then_some(Receiver::Carp { auth, multicast })
    })
}

#[test]
fn vectors_hmac_message_and_digest() {
    for v in vectors() {
        let e = &v.expected;
        let (v4, v6) = carp::hash_order(&v.addrs);
        let v4: Vec<String> = v4.iter().map(ToString::to_string).collect();
        let v6: Vec<String> = v6.iter().map(ToString::to_string).collect();
        assert_eq!(
            v4,
            addr_list(e, "hash_order_ipv4"),
            "{}: IPv4 order",
            v.name
        );
        assert_eq!(
            v6,
            addr_list(e, "hash_order_ipv6"),
            "{}: IPv6 order",
            v.name
        );

        assert_eq!(
            hex::encode(carp::hmac_message(v.vhid, &v.addrs, v.counter)),
            e["hmac_message_hex"].as_str().unwrap(),
            "{}: HMAC message",
            v.name
        );
        let want = md(&hexval(e, "hmac_sha1_hex"));
        let auth = CarpAuth::new(&v.password, v.vhid, &v.addrs).unwrap();
        assert_eq!(
            auth.digest(v.counter),
            want,
            "{}: HMAC with the password",
            v.name
        );
        assert!(auth.verify(v.counter, &want), "{}: verify", v.name);
        // The kernel's 20-byte NUL-padded key gives the same MAC.
        let auth20 = CarpAuth::new(&v.key20, v.vhid, &v.addrs).unwrap();
        assert_eq!(
            auth20.digest(v.counter),
            want,
            "{}: HMAC with key20",
            v.name
        );
        // A neighbouring counter does not.
        assert!(
            !auth.verify(v.counter.wrapping_add(1), &want),
            "{}: counter+1",
            v.name
        );
    }
}

#[test]
fn vectors_header_and_checksum() {
    for v in vectors() {
        let e = &v.expected;
        let auth = CarpAuth::new(&v.password, v.vhid, &v.addrs).unwrap();
        let h = auth.header(v.advbase, v.advskew, v.counter);
        let want = hexval(e, "carp_header_hex");
        assert_eq!(h.to_bytes().to_vec(), want, "{}: header bytes", v.name);
        assert_eq!(
            h.checksum,
            num::<u16>(e, "checksum"),
            "{}: checksum",
            v.name
        );
        assert_eq!(
            h.checksum.to_be_bytes().to_vec(),
            hexval(e, "checksum_hex"),
            "{}: checksum_hex",
            v.name
        );
        // Parsing the independent bytes gives back every field.
        let p = CarpHeader::parse(&want).unwrap();
        assert_eq!(
            (
                p.version, p.kind, p.vhid, p.advskew, p.authlen, p.pad1, p.advbase
            ),
            (2, 1, v.vhid, v.advskew, 7, 0, v.advbase),
            "{}: parsed fields",
            v.name
        );
        assert_eq!(
            (p.counter, p.md),
            (v.counter, h.md),
            "{}: counter and MAC",
            v.name
        );
        assert_eq!(p, h, "{}: parse", v.name);
        if let Some(alt) = e["carp_header_hex_if_advskew_100"].as_str() {
            // advskew is not covered by the MAC: only byte 2 and the
            // checksum change.
            assert_eq!(
                hex::encode(auth.header(v.advbase, 100, v.counter).to_bytes()),
                alt,
                "{}: advskew 100",
                v.name
            );
        }
    }
}

#[test]
fn vectors_ipv4_packet_and_frame() {
    for v in vectors() {
        let e = &v.expected;
        let auth = CarpAuth::new(&v.password, v.vhid, &v.addrs).unwrap();
        let h = auth.header(v.advbase, v.advskew, v.counter);
        let ip = Ipv4Header::carp(v.ipv4_source, CARP_GROUP_V4, v.dscp, v.ip_id).unwrap();
        let packet = ip.encode(&h.to_bytes()).unwrap();
        assert_eq!(
            packet,
            hexval(e, "ipv4_packet_hex"),
            "{}: IPv4 packet",
            v.name
        );
        assert_eq!(packet.len(), num::<usize>(e, "ipv4_packet_len"));
        assert_eq!(
            packet[10..12].to_vec(),
            hexval(e, "ipv4_header_checksum_hex"),
            "{}: IPv4 header checksum",
            v.name
        );

        let if_mac = MacAddr([0x52, 0x54, 0, 0, 0, 0x99]);
        let encap = Encap::multicast(v.ipv4_source.into(), if_mac)
            .with_dscp(v.dscp)
            .with_ip_id(v.ip_id);
        let frame = carp_frame(&h, &encap).unwrap();
        let mut want = hexval(e, "ethernet_header_ipv4_hex");
        want.extend_from_slice(&packet);
        assert_eq!(frame, want, "{}: Ethernet frame", v.name);

        // The receiver with the same key and addresses accepts it...
        let got = receive_with(&packet, &auth, true);
        assert_eq!(got, Ok(Advertisement::Carp(h)), "{}: accepted", v.name);
        // ...and so does one given the addresses in another order.
        let mut reversed = v.addrs.clone();
        reversed.reverse();
        let auth_rev = CarpAuth::new(&v.password, v.vhid, &reversed).unwrap();
        assert!(
            receive_with(&packet, &auth_rev, true).is_ok(),
            "{}: order",
            v.name
        );
    }
}

#[test]
fn vectors_ipv6_packet_of_the_same_round() {
    let mut seen = 0;
    for v in vectors() {
        let Some(e6) = v.expected.get("ipv6") else {
            continue;
        };
        seen += 1;
        let inputs: Value = serde_json::from_str(VECTORS).unwrap();
        let inputs = inputs["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == v.name.as_str())
            .unwrap()["inputs"]
            .clone();
        let src: Ipv6Addr = inputs["ipv6_source"].as_str().unwrap().parse().unwrap();
        let counter = v.counter + 1;
        assert_eq!(counter, num::<u64>(e6, "counter"));
        assert_eq!(
            hex::encode(carp::hmac_message(v.vhid, &v.addrs, counter)),
            e6["hmac_message_hex"].as_str().unwrap()
        );
        let auth = CarpAuth::new(&v.password, v.vhid, &v.addrs).unwrap();
        assert_eq!(auth.digest(counter), md(&hexval(e6, "hmac_sha1_hex")));
        let h = auth.header(v.advbase, v.advskew, counter);
        assert_eq!(h.to_bytes().to_vec(), hexval(e6, "carp_header_hex"));
        assert_eq!(
            h.checksum.to_be_bytes().to_vec(),
            hexval(e6, "checksum_hex")
        );

        let ip = Ipv6Header::carp(src, CARP_GROUP_V6, v.dscp).unwrap();
        let packet = ip.encode(&h.to_bytes()).unwrap();
        assert_eq!(packet, hexval(e6, "ipv6_packet_hex"));
        assert_eq!(packet.len(), num::<usize>(e6, "ipv6_packet_len"));

        let frame = carp_frame(&h, &Encap::multicast(src.into(), MacAddr::ZERO)).unwrap();
        let mut want = hexval(e6, "ethernet_header_ipv6_hex");
        want.extend_from_slice(&packet);
        assert_eq!(frame, want);

        // The kernel-form address list (fe80:2::7) keys the same HMAC.
        let kernel_form: Vec<IpAddr> = addr_list(&inputs, "ipv4_addresses")
            .iter()
            .chain(addr_list(&inputs, "ipv6_addresses_kernel_form").iter())
            .map(|s| s.parse().unwrap())
            .collect();
        let auth_k = CarpAuth::new(&v.password, v.vhid, &kernel_form).unwrap();
        assert_eq!(
            receive_with(&packet, &auth_k, true),
            Ok(Advertisement::Carp(h))
        );
    }
    assert_eq!(seen, 1, "vectors with an IPv6 packet");
}

/// Every `wrong_hmac_*` value must not match, must be rejected as
/// `carps_badauth`, and must be what the named mistake produces (so the
/// test knows what it is guarding against).
#[test]
fn vectors_wrong_macs_are_rejected() {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    let mut checked = 0;
    for v in vectors() {
        let auth = CarpAuth::new(&v.password, v.vhid, &v.addrs).unwrap();
        let inputs = &doc["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == v.name.as_str())
            .unwrap()["inputs"];
        let fields = v.expected.as_object().unwrap();
        for (field, value) in fields.iter().filter(|(k, _)| k.starts_with("wrong_hmac_")) {
            let wrong = md(&hex::decode(value.as_str().unwrap()).unwrap());
            assert_ne!(auth.digest(v.counter), wrong, "{}: {field} matches", v.name);
            assert!(
                !auth.verify(v.counter, &wrong),
                "{}: {field} verifies",
                v.name
            );

            // The same advertisement carrying the wrong MAC is dropped.
            let h = CarpHeader::advertisement(v.vhid, v.advbase, v.advskew, v.counter, wrong);
            let packet = Ipv4Header::carp(v.ipv4_source, CARP_GROUP_V4, v.dscp, v.ip_id)
                .unwrap()
                .encode(&h.to_bytes())
                .unwrap();
            assert_eq!(
                receive_with(&packet, &auth, true),
                Err(Reject::BadAuth),
                "{}: {field}",
                v.name
            );

            // Reproduce the mistake with a one-shot HMAC.
            let mut msg = vec![2, 1, v.vhid];
            match field.as_str() {
                "wrong_hmac_if_input_order_hashed_hex" => {
                    for a in addr_list(inputs, "ipv4_addresses") {
                        msg.extend_from_slice(&a.parse::<Ipv4Addr>().unwrap().octets());
                    }
                }
                "wrong_hmac_if_scope_bytes_not_zeroed_hex" => {
                    let (v4, _) = carp::hash_order(&v.addrs);
                    v4.iter().for_each(|a| msg.extend_from_slice(&a.octets()));
                    let mut v6: Vec<Ipv6Addr> = addr_list(inputs, "ipv6_addresses_kernel_form")
                        .iter()
                        .map(|s| s.parse().unwrap())
                        .collect();
                    v6.sort();
                    v6.iter().for_each(|a| msg.extend_from_slice(&a.octets()));
                }
                "wrong_hmac_if_only_ipv4_hashed_hex" => {
                    let (v4, _) = carp::hash_order(&v.addrs);
                    v4.iter().for_each(|a| msg.extend_from_slice(&a.octets()));
                }
                other => panic!("{}: unknown wrong MAC {other}", v.name),
            }
            msg.extend_from_slice(&v.counter.to_be_bytes());
            let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&v.password).unwrap();
            mac.update(&msg);
            assert_eq!(
                md(&mac.finalize().into_bytes()),
                wrong,
                "{}: {field} reproduced",
                v.name
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 3, "wrong MACs in the file");
}

// ---------------------------------------------------------------------------
// Dual master: a different password or address list
// ---------------------------------------------------------------------------

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn v4_ad(auth: &CarpAuth, counter: u64) -> Vec<u8> {
    Ipv4Header::carp(Ipv4Addr::new(192, 0, 2, 10), CARP_GROUP_V4, 56, 1)
        .unwrap()
        .encode(&auth.header(1, 0, counter).to_bytes())
        .unwrap()
}

#[test]
fn different_password_or_addresses_is_badauth() {
    let vips = [ip("192.0.2.1"), ip("2001:db8::1")];
    let a = CarpAuth::new(b"right", 1, &vips).unwrap();
    let same = CarpAuth::new(b"right", 1, &[vips[1], vips[0]]).unwrap();
    let other_pass = CarpAuth::new(b"wrong", 1, &vips).unwrap();
    let other_list = CarpAuth::new(b"right", 1, &[vips[0]]).unwrap();
    let extra = CarpAuth::new(b"right", 1, &[vips[0], vips[1], ip("192.0.2.2")]).unwrap();
    let ad = v4_ad(&a, 77);
    assert!(receive_with(&ad, &same, true).is_ok());
    // Both directions fail, so neither node ever hears a valid master:
    // both become MASTER.
    assert_eq!(receive_with(&ad, &other_pass, true), Err(Reject::BadAuth));
    assert_eq!(
        receive_with(&v4_ad(&other_pass, 1), &a, true),
        Err(Reject::BadAuth)
    );
    assert_eq!(receive_with(&ad, &other_list, true), Err(Reject::BadAuth));
    assert_eq!(receive_with(&ad, &extra, true), Err(Reject::BadAuth));
}

// ---------------------------------------------------------------------------
// Receive validation order (docs/freebsd-carp.md §9)
// ---------------------------------------------------------------------------

fn v4_packet_with(payload: &[u8], ttl: u8) -> Vec<u8> {
    Ipv4Header {
        ttl,
        ..Ipv4Header::carp(Ipv4Addr::new(192, 0, 2, 10), CARP_GROUP_V4, 56, 0).unwrap()
    }
    .encode(payload)
    .unwrap()
}

fn v6_packet_with(payload: &[u8], hlim: u8) -> Vec<u8> {
    Ipv6Header {
        hop_limit: hlim,
        ..Ipv6Header::carp("fe80::10".parse().unwrap(), CARP_GROUP_V6, 56).unwrap()
    }
    .encode(payload)
    .unwrap()
}

/// Re-sums a header whose bytes were edited.
fn resum(mut b: [u8; 36]) -> [u8; 36] {
    b[6..8].copy_from_slice(&[0, 0]);
    let s = carpctl::wire::internet_checksum(&b);
    b[6..8].copy_from_slice(&s.to_be_bytes());
    b
}

#[test]
fn receive_rejections_name_their_counter() {
    let auth = CarpAuth::new(b"pw", 1, &[ip("192.0.2.1")]).unwrap();
    let good = auth.header(1, 0, 5).to_bytes();
    let rx = |payload: &[u8], ttl: u8| receive_with(&v4_packet_with(payload, ttl), &auth, true);

    assert!(rx(&good, 255).is_ok());
    // Shorter than the 8-byte VRRP header, then than the 36-byte CARP one.
    assert_eq!(rx(&good[..7], 255), Err(Reject::BadLen));
    assert_eq!(rx(&good[..35], 255), Err(Reject::BadLen));
    assert_eq!(rx(&[], 255), Err(Reject::BadLen));
    // Version 1 and 4 are unknown; checked before the length of CARP.
    let mut v = good;
    v[0] = 0x41;
    assert_eq!(rx(&resum(v), 255), Err(Reject::BadVer));
    assert_eq!(rx(&[0x11, 1, 0, 0, 0, 0, 0, 0], 255), Err(Reject::BadVer));
    // A flipped bit: bad checksum, before anything about the vhid.
    let mut bad = good;
    bad[20] ^= 0x80;
    assert_eq!(rx(&bad, 255), Err(Reject::BadSum));
    let mut bad_unknown = bad;
    bad_unknown[1] = 99;
    assert_eq!(rx(&bad_unknown, 255), Err(Reject::BadSum));
    // A vhid the interface does not have.
    let mut unknown = good;
    unknown[1] = 2;
    assert_eq!(rx(&resum(unknown), 255), Err(Reject::BadVhid));
    // TTL: multicast mode wants 255 (checked before the HMAC)...
    assert_eq!(rx(&good, 254), Err(Reject::BadTtl));
    let wrong_key = CarpAuth::new(b"other", 1, &[ip("192.0.2.1")]).unwrap();
    assert_eq!(
        receive_with(&v4_packet_with(&good, 64), &wrong_key, true),
        Err(Reject::BadTtl)
    );
    // ...unicast mode accepts routed packets.
    assert!(receive_with(&v4_packet_with(&good, 64), &auth, false).is_ok());
    assert_eq!(
        receive_with(&v4_packet_with(&good, 64), &wrong_key, false),
        Err(Reject::BadAuth)
    );
    // Type and authlen are not checked.
    let mut odd = good;
    odd[0] = 0x2f;
    odd[3] = 0;
    assert!(rx(&resum(odd), 255).is_ok());
    // A counter changed after signing: bad authentication.
    let mut replay = good;
    replay[15] ^= 1;
    assert_eq!(rx(&resum(replay), 255), Err(Reject::BadAuth));
}

#[test]
fn receive_version_must_match_the_vhid() {
    let auth = CarpAuth::new(b"pw", 1, &[ip("192.0.2.1")]).unwrap();
    let carp = v4_packet_with(&auth.header(1, 0, 5).to_bytes(), 255);
    let vrrp_host = |p: &[u8]| {
        receive(&IpPacket::parse(p).unwrap(), |vhid| {
            (vhid == 1).then_some(Receiver::Vrrp)
        })
    };
    assert_eq!(vrrp_host(&carp), Err(Reject::BadVer));

    let adv = VrrpAdvert::new(1, 100, 100, vec![ip("192.0.2.1")]).unwrap();
    let src = ip("192.0.2.10");
    let vrrp = v4_packet_with(&adv.encode(src, CARP_GROUP_V4.into()).unwrap(), 255);
    assert_eq!(receive_with(&vrrp, &auth, true), Err(Reject::BadVer));
    let Ok(Advertisement::Vrrp(got)) = vrrp_host(&vrrp) else {
        panic!("VRRPv3 not accepted")
    };
    assert_eq!((got.vrid, got.priority, got.interval_cs()), (1, 100, 100));
    assert_eq!(got.addrs, adv.addrs);
    // VRRPv3 always wants TTL 255, then its pseudo-header checksum.
    let vrrp_ttl = v4_packet_with(&adv.encode(src, CARP_GROUP_V4.into()).unwrap(), 1);
    assert_eq!(vrrp_host(&vrrp_ttl), Err(Reject::BadTtl));
    let other_src = adv.encode(ip("192.0.2.11"), CARP_GROUP_V4.into()).unwrap();
    assert_eq!(
        vrrp_host(&v4_packet_with(&other_src, 255)),
        Err(Reject::BadSum)
    );
    // A count of 2 addresses with one present, checksum fixed up: FreeBSD
    // never reads the list, so it is accepted (with what is there).
    let mut short = adv.encode(src, CARP_GROUP_V4.into()).unwrap();
    short[3] = 2;
    short[6..8].copy_from_slice(&[0, 0]);
    let s = carpctl::wire::vrrp::checksum(&short, src, CARP_GROUP_V4.into()).unwrap();
    short[6..8].copy_from_slice(&s.to_be_bytes());
    let Ok(Advertisement::Vrrp(got)) = vrrp_host(&v4_packet_with(&short, 255)) else {
        panic!("a short VRRPv3 address list must be accepted")
    };
    assert_eq!(got.addrs, adv.addrs);
}

/// IPv4 sums the whole IP payload, IPv6 only the 36-byte header.
#[test]
fn receive_checksum_extent_per_family() {
    let auth = CarpAuth::new(b"pw", 1, &[ip("2001:db8::1")]).unwrap();
    let mut payload = auth.header(1, 0, 5).to_bytes().to_vec();
    payload.push(0x01);
    assert_eq!(
        receive_with(&v4_packet_with(&payload, 255), &auth, true),
        Err(Reject::BadSum)
    );
    assert!(receive_with(&v6_packet_with(&payload, 255), &auth, true).is_ok());
    assert_eq!(
        receive_with(&v6_packet_with(&payload, 64), &auth, true),
        Err(Reject::BadTtl)
    );
    // A trailing zero byte does not change an IPv4 sum.
    payload.pop();
    payload.push(0);
    assert!(receive_with(&v4_packet_with(&payload, 255), &auth, true).is_ok());
}

// ---------------------------------------------------------------------------
// Decoders never panic
// ---------------------------------------------------------------------------

/// Valid frames of every kind the segment carries, to mutate.
fn sample_frames() -> Vec<Vec<u8>> {
    let auth = CarpAuth::new(b"pw", 3, &[ip("198.51.100.7"), ip("fe80::7")]).unwrap();
    let mac = MacAddr([0x52, 0x54, 0, 0, 0, 1]);
    let adv6 = VrrpAdvert::new(4, 100, 100, vec![ip("2001:db8::4")]).unwrap();
    vec![
        carp_frame(
            &auth.header(1, 0, 1),
            &Encap::multicast(ip("198.51.100.2"), mac),
        )
        .unwrap(),
        carp_frame(&auth.header(1, 0, 2), &Encap::multicast(ip("fe80::2"), mac)).unwrap(),
        vrrp_frame(&adv6, &Encap::multicast(ip("fe80::2"), mac)).unwrap(),
        gratuitous_arp_frame(
            mac,
            MacAddr::carp_virtual(3),
            Ipv4Addr::new(198, 51, 100, 7),
        ),
        unsolicited_na_frame(
            MacAddr::carp_virtual(3),
            "fe80::2".parse().unwrap(),
            "fe80::7".parse().unwrap(),
        ),
    ]
}

/// Runs every decoder on `bytes` as a frame, an IP packet and a payload;
/// only errors may come out.
fn decode_everything(bytes: &[u8]) {
    let auth = CarpAuth::new(b"pw", 3, &[ip("198.51.100.7")]).unwrap();
    if let Ok(frame) = decode_frame(bytes)
        && let Payload::Ip(ip) = frame.payload
    {
        let _ = receive(&ip, |_| {
            Some(Receiver::Carp {
                auth: &auth,
                multicast: true,
            })
        });
        let _ = receive(&ip, |_| Some(Receiver::Vrrp));
        let _ = NeighborAdvert::parse(&ip);
    }
    if let Ok(ip) = IpPacket::parse(bytes) {
        let _ = receive(&ip, |_| Some(Receiver::Vrrp));
    }
    for header in [
        IpHeader::carp(ip("10.0.0.1"), ip("224.0.0.18"), 0, 0).unwrap(),
        IpHeader::carp(ip("fe80::1"), ip("ff02::12"), 0, 0).unwrap(),
    ] {
        let pkt = IpPacket {
            header,
            payload: bytes,
        };
        let _ = receive(&pkt, |_| {
            Some(Receiver::Carp {
                auth: &auth,
                multicast: false,
            })
        });
        let _ = receive(&pkt, |_| Some(Receiver::Vrrp));
        let _ = receive(&pkt, |_| None);
        let _ = NeighborAdvert::parse(&pkt);
    }
    let _ = CarpHeader::parse(bytes);
    let _ = VrrpAdvert::parse(bytes, false);
    let _ = VrrpAdvert::parse(bytes, true);
    let _ = carpctl::wire::ArpPacket::parse(bytes);
    let _ = read_frames(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
        decode_everything(&bytes);
    }

    /// Valid frames with bytes flipped and the tail cut: the interesting
    /// inputs (right lengths, wrong fields) that random bytes rarely hit.
    #[test]
    fn decoders_never_panic_on_mutated_frames(
        which in 0usize..5,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        cut in any::<usize>(),
    ) {
        let mut f = sample_frames().swap_remove(which);
        for (at, x) in flips {
            let len = f.len();
            f[at % len] ^= x;
        }
        let keep = cut % (f.len() + 1);
        f.truncate(keep);
        decode_everything(&f);
    }

    #[test]
    fn carp_header_round_trip(
        vhid in any::<u8>(), advskew in any::<u8>(), advbase in any::<u8>(),
        counter in any::<u64>(), md in any::<[u8; 20]>(),
    ) {
        let h = CarpHeader::advertisement(vhid, advbase, advskew, counter, md);
        let b = h.to_bytes();
        prop_assert_eq!(carpctl::wire::internet_checksum(&b), 0);
        prop_assert_eq!(CarpHeader::parse(&b).unwrap(), h);
    }

    /// Any key of at most 20 bytes and any address list: the precomputed
    /// state equals a one-shot HMAC, and the receiver accepts the ad.
    #[test]
    fn auth_matches_one_shot_hmac(
        key in proptest::collection::vec(any::<u8>(), 0..=20),
        v4 in proptest::collection::vec(any::<u32>(), 0..4),
        v6 in proptest::collection::vec(any::<u128>(), 0..3),
        counter in any::<u64>(),
    ) {
        let addrs: Vec<IpAddr> = v4.iter().map(|&a| IpAddr::V4(a.into()))
            .chain(v6.iter().map(|&a| IpAddr::V6(a.into())))
            .collect();
        let auth = CarpAuth::new(&key, 7, &addrs).unwrap();
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&key).unwrap();
        mac.update(&carp::hmac_message(7, &addrs, counter));
        prop_assert_eq!(auth.digest(counter), md(&mac.finalize().into_bytes()));
        let packet = v6_packet_with(&auth.header(1, 0, counter).to_bytes(), 255);
        prop_assert!(receive_with(&packet, &auth, true).is_ok());
    }
}

// ---------------------------------------------------------------------------
// pcap decoded by tshark
// ---------------------------------------------------------------------------

fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs tshark on `pcap` with `args` and returns its stdout lines.
fn tshark(pcap: &std::path::Path, args: &[&str]) -> Vec<String> {
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(pcap)
        .args(args)
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Writes CARP (IPv4 and IPv6), VRRPv3, gratuitous ARP and NA frames with
/// the pcap writer and has tshark decode them. The command is the one
/// documented in carpctl(8) for `simulate --pcap`:
/// `tshark -r FILE -d ip.proto==112,carp`.
#[allow(
    clippy::too_many_lines,
    reason = "one capture checked against tshark field by field, in order"
)]
#[test]
fn tshark_decodes_the_capture() {
    if !tshark_available() {
        eprintln!(
            "SKIPPED tshark_decodes_the_capture: tshark is not installed \
             (.ci/run installs it from Debian's tshark package)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("segment.pcap");
    let if_mac = MacAddr([0x52, 0x54, 0, 0, 0, 2]);
    // (vhid, advbase, advskew, source) for the CARP frames.
    let ads: [(u8, u8, u8, &str); 4] = [
        (1, 1, 0, "192.0.2.2"),
        (12, 2, 50, "192.0.2.3"),
        (200, 5, 240, "192.0.2.4"),
        (12, 2, 50, "fe80::3"),
    ];
    let mut sink = PcapSink::create(&path).unwrap();
    let mut t = Duration::from_secs(1_700_000_000);
    for (i, &(vhid, advbase, advskew, src)) in ads.iter().enumerate() {
        let auth = CarpAuth::new(b"testpass", vhid, &[ip("192.0.2.100")]).unwrap();
        let h = auth.header(advbase, advskew, 1000 + i as u64);
        let frame =
            carp_frame(&h, &Encap::multicast(ip(src), if_mac).with_ip_id(i as u16)).unwrap();
        sink.write(t, &frame).unwrap();
        t += Duration::from_millis(250);
    }
    let vrrp = VrrpAdvert::new(7, 150, 100, vec![ip("192.0.2.77"), ip("192.0.2.78")]).unwrap();
    sink.write(
        t,
        &vrrp_frame(&vrrp, &Encap::multicast(ip("192.0.2.2"), if_mac)).unwrap(),
    )
    .unwrap();
    let vrrp6 = VrrpAdvert::new(8, 90, 300, vec![ip("2001:db8::8")]).unwrap();
    sink.write(
        t,
        &vrrp_frame(&vrrp6, &Encap::multicast(ip("fe80::2"), if_mac)).unwrap(),
    )
    .unwrap();
    sink.write(
        t,
        &gratuitous_arp_frame(
            if_mac,
            MacAddr::carp_virtual(1),
            Ipv4Addr::new(192, 0, 2, 100),
        ),
    )
    .unwrap();
    sink.write(
        t,
        &unsolicited_na_frame(
            MacAddr::carp_virtual(12),
            "fe80::3".parse().unwrap(),
            "2001:db8::12".parse().unwrap(),
        ),
    )
    .unwrap();
    assert_eq!(sink.frames(), 8);
    sink.finish().unwrap();
    assert_eq!(
        read_frames(std::fs::File::open(&path).unwrap())
            .unwrap()
            .len(),
        8
    );

    // CARP: vhid, advskew, advbase, and Wireshark's own checksum check
    // (1 = good); IPv4 header checksum checked too.
    let mut args: Vec<&str> = TSHARK_CARP_ARGS.to_vec();
    args.extend([
        "-o",
        "ip.check_checksum:TRUE",
        "-Y",
        "carp",
        "-T",
        "fields",
        "-E",
        "separator=,",
        "-e",
        "eth.src",
        "-e",
        "carp.vhid",
        "-e",
        "carp.advskew",
        "-e",
        "carp.adver_int",
        "-e",
        "carp.counter",
        "-e",
        "carp.checksum.status",
        "-e",
        "ip.ttl",
        "-e",
        "ipv6.hlim",
        "-e",
        "ip.checksum.status",
        "-e",
        "ip.dsfield",
        "-e",
        "ip.flags.df",
    ]);
    let lines = tshark(&path, &args);
    assert_eq!(
        lines,
        [
            "00:00:5e:00:01:01,1,0,1,1000,1,255,,1,0xe0,1",
            "00:00:5e:00:01:0c,12,50,2,1001,1,255,,1,0xe0,1",
            "00:00:5e:00:01:c8,200,240,5,1002,1,255,,1,0xe0,1",
            "00:00:5e:00:01:0c,12,50,2,1003,1,,255,,,",
        ],
        "tshark CARP fields"
    );

    // VRRPv3 is decoded as VRRP by default, with its pseudo-header
    // checksum verified by Wireshark (1 = good).
    let lines = tshark(
        &path,
        &[
            "-Y",
            "vrrp.version == 3",
            "-T",
            "fields",
            "-E",
            "separator=,",
            "-e",
            "vrrp.version",
            "-e",
            "vrrp.virt_rtr_id",
            "-e",
            "vrrp.prio",
            "-e",
            "vrrp.short_adver_int",
            "-e",
            "vrrp.checksum.status",
            "-e",
            "vrrp.ip_addr",
            "-e",
            "vrrp.ipv6_addr",
        ],
    );
    assert_eq!(
        lines,
        [
            "3,7,150,100,1,192.0.2.77,192.0.2.78,",
            "3,8,90,300,1,,2001:db8::8"
        ],
        "tshark VRRP fields"
    );

    // The gratuitous ARP and the unsolicited NA.
    let lines = tshark(
        &path,
        &[
            "-Y",
            "arp",
            "-T",
            "fields",
            "-E",
            "separator=,",
            "-e",
            "eth.src",
            "-e",
            "arp.opcode",
            "-e",
            "arp.isgratuitous",
            "-e",
            "arp.src.hw_mac",
            "-e",
            "arp.src.proto_ipv4",
            "-e",
            "arp.dst.proto_ipv4",
        ],
    );
    assert_eq!(
        lines,
        ["52:54:00:00:00:02,1,1,00:00:5e:00:01:01,192.0.2.100,192.0.2.100"],
        "tshark ARP fields"
    );
    let lines = tshark(
        &path,
        &[
            "-Y",
            "icmpv6",
            "-T",
            "fields",
            "-E",
            "separator=,",
            "-e",
            "eth.src",
            "-e",
            "icmpv6.type",
            "-e",
            "icmpv6.checksum.status",
            "-e",
            "icmpv6.nd.na.flag.o",
            "-e",
            "icmpv6.nd.na.flag.s",
            "-e",
            "icmpv6.nd.na.target_address",
            "-e",
            "icmpv6.opt.linkaddr",
            "-e",
            "ipv6.dst",
            "-e",
            "ipv6.hlim",
        ],
    );
    assert_eq!(
        lines,
        ["00:00:5e:00:01:0c,136,1,1,0,2001:db8::12,00:00:5e:00:01:0c,ff02::1,255"],
        "tshark NA fields"
    );
    // Sanity on the constant the man page quotes.
    assert_eq!(TSHARK_CARP_ARGS, ["-d", "ip.proto==112,carp"]);
}
