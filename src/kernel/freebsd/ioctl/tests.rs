//! Unit tests of the ioctl codecs: exact bytes, round trips, bad inputs.

use super::*;
use proptest::prelude::*;

fn key(s: &[u8]) -> [u8; CARP_KEY_LEN] {
    let mut k = [0u8; CARP_KEY_LEN];
    k[..s.len()].copy_from_slice(s);
    k
}

fn v4(s: &str) -> Ipv4Net {
    s.parse().unwrap()
}

fn v6(s: &str) -> Ipv6Net {
    s.parse().unwrap()
}

/// The amd64/aarch64 layout (136 bytes), whatever the host.
fn in6_aliasreq64_bytes(name: &str, net: Ipv6Net, vhid: u8) -> Result<Vec<u8>, DecodeError> {
    in6_aliasreq_as::<in6_aliasreq64>(name, net, vhid)
}

fn decode64(buf: &[u8]) -> Result<(String, Ipv6Net, i32), DecodeError> {
    decode_in6_aliasreq_as::<in6_aliasreq64>(buf)
}

/// "em0" NUL-padded to IFNAMSIZ 16: 'e' 0x65, 'm' 0x6d, '0' 0x30.
const EM0: [u8; 16] = [0x65, 0x6d, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

// -- names --------------------------------------------------------------

#[test]
fn ifname_pads_with_nul() {
    assert_eq!(ifname("em0").unwrap(), EM0);
    let fifteen = "abcdefghijklmno";
    let raw = ifname(fifteen).unwrap();
    assert_eq!(&raw[..15], fifteen.as_bytes());
    assert_eq!(raw[15], 0);
    assert_eq!(decode_ifname(&raw).unwrap(), fifteen);
    assert_eq!(ifname("vlan0.100").unwrap()[..10], *b"vlan0.100\0");
}

#[test]
fn ifname_refuses_bad_names() {
    let e = ifname("").unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let e = ifname("abcdefghijklmnop").unwrap_err();
    assert_eq!(
        e.to_string(),
        "ifr_name: \"abcdefghijklmnop\": the interface name is 16 bytes long; at most 15 fit \
         IFNAMSIZ"
    );
    // A renamed interface may have any byte but NUL (SIOCSIFNAME): the
    // encoder must still be able to ask the kernel about it.
    assert_eq!(ifname("em+0").unwrap()[..5], *b"em+0\0");
    let e = ifname("em\0").unwrap_err();
    assert!(e.to_string().contains("NUL"), "{e}");
    // 15 bytes counted in bytes, not chars: 8 two-byte chars = 16 bytes.
    assert!(ifname("éééééééé").is_err());
    // Every encoder taking a name refuses the same way.
    assert!(carp_ifreq("").is_err());
    assert!(in_aliasreq("abcdefghijklmnop", v4("192.0.2.1/24"), 1).is_err());
    assert!(in6_aliasreq64_bytes("", v6("2001:db8::1/64"), 1).is_err());
    assert!(ifreq_addr("a\0b", Ipv4Addr::LOCALHOST).is_err());
    assert!(in6_ifreq_addr("abcdefghijklmnop", Ipv6Addr::LOCALHOST).is_err());
}

#[test]
fn decode_ifname_bad_inputs() {
    // No NUL in 16 bytes (the 17th byte is a NUL but outside the field).
    let mut raw = [b'a'; 17];
    raw[16] = 0;
    assert!(
        decode_ifname(&raw)
            .unwrap_err()
            .to_string()
            .contains("no NUL")
    );
    assert!(decode_ifname(b"em0").is_err());
    assert!(decode_ifname(&[]).is_err());
    let e = decode_ifname(&[0x65, 0xff, 0, 0]).unwrap_err();
    assert!(e.to_string().contains("not UTF-8"), "{e}");
    // Up to the first NUL; bytes after it are ignored.
    assert_eq!(decode_ifname(b"em0\0junk\0").unwrap(), "em0");
    assert_eq!(decode_ifname(&[0; 16]).unwrap(), "");
}

// -- SIOCSVH / SIOCGVH ---------------------------------------------------

#[test]
fn carp_ifreq_bytes() {
    // struct ifreq (32): ifr_name "em0" @0..16, ifr_data @16..24 left 0
    // for the syscall layer, rest of the union @24..32 zero.
    let mut expected = [0u8; 32];
    expected[..3].copy_from_slice(&[0x65, 0x6d, 0x30]);
    assert_eq!(carp_ifreq("em0").unwrap(), expected);
}

#[test]
fn carpreq_set_bytes() {
    // struct carpreq (docs/freebsd-carp.md §3.1), little-endian ints:
    #[rustfmt::skip]
    let expected: [u8; 40] = [
        0x00, 0x00, 0x00, 0x00, // @0  carpr_count 0
        0x01, 0x00, 0x00, 0x00, // @4  carpr_vhid 1
        0x00, 0x00, 0x00, 0x00, // @8  carpr_state 0 (INIT = no change)
        0x64, 0x00, 0x00, 0x00, // @12 carpr_advskew 100 = 0x64
        0x01, 0x00, 0x00, 0x00, // @16 carpr_advbase 1
        // @20 carpr_key "testpass" = 74 65 73 74 70 61 73 73, NUL-padded to 20
        0x74, 0x65, 0x73, 0x74, 0x70, 0x61, 0x73, 0x73,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    assert_eq!(carpreq_set(1, 0, 100, 1, &key(b"testpass")), expected);
}

#[test]
fn carpreq_set_full_range() {
    // vhid 255, MASTER, advskew 254, advbase 255, a 20-byte key.
    let k = [0xab; 20];
    let raw = carpreq_set(255, 2, 254, 255, &k);
    assert_eq!(raw[4..8], [0xff, 0, 0, 0]);
    assert_eq!(raw[8..12], [2, 0, 0, 0]);
    assert_eq!(raw[12..16], [0xfe, 0, 0, 0]);
    assert_eq!(raw[16..20], [0xff, 0, 0, 0]);
    assert_eq!(raw[20..40], k);
}

#[test]
fn carpreq_get_bytes() {
    // ifconfig 10-13: carpr_count 1 @0, carpr_vhid @4, everything else 0.
    let mut expected = [0u8; 40];
    expected[0] = 0x01;
    expected[4] = 0x07;
    assert_eq!(carpreq_get(7), expected);
}

#[test]
fn carpreq_get_all_bytes() {
    // 3 × 40 = 120 zero bytes except element 0's carpr_count = 3 @0.
    let mut expected = vec![0u8; 120];
    expected[0] = 0x03;
    assert_eq!(carpreq_get_all(3), expected);
    assert!(carpreq_get_all(0).is_empty());
    let one = carpreq_get_all(1);
    assert_eq!(one.len(), 40);
    assert_eq!(one[..4], [1, 0, 0, 0]);
    // ifconfig 10-13 asks for CARP_MAXVHID = 255 at once: 0xff @0.
    let max = carpreq_get_all(255);
    assert_eq!(max.len(), 10_200);
    assert_eq!(max[..8], [0xff, 0, 0, 0, 0, 0, 0, 0]);
    assert!(max[8..].iter().all(|&b| b == 0));
}

#[test]
fn carpreq_round_trips() {
    let set = decode_carpreqs(&carpreq_set(9, 1, 30, 3, &key(b"pw")), 1).unwrap();
    assert_eq!(
        set,
        vec![carpreq {
            carpr_count: 0,
            carpr_vhid: 9,
            carpr_state: 1,
            carpr_advskew: 30,
            carpr_advbase: 3,
            carpr_key: key(b"pw"),
        }]
    );
    let get = decode_carpreqs(&carpreq_get(200), 1).unwrap();
    assert_eq!(get[0].carpr_count, 1);
    assert_eq!(get[0].carpr_vhid, 200);
    let all = decode_carpreqs(&carpreq_get_all(4), 4).unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].carpr_count, 4);
    assert!(all[1..].iter().all(|r| *r == carpreq::default()));

    // The emulated kernel's copyout and our decoding agree.
    let reqs = [
        set[0],
        get[0],
        carpreq {
            carpr_vhid: 3,
            carpr_count: 3,
            ..carpreq::default()
        },
    ];
    let mut buf = carpreq_get_all(3);
    encode_carpreqs(&reqs, &mut buf).unwrap();
    assert_eq!(decode_carpreqs(&buf, 3).unwrap(), reqs);
    // Element 1 landed at offset 40.
    assert_eq!(buf[40..48], [1, 0, 0, 0, 200, 0, 0, 0]);
    // Fewer requests than the buffer holds: the tail is untouched.
    let mut buf = vec![0xee; 80];
    encode_carpreqs(&reqs[..1], &mut buf).unwrap();
    assert!(buf[40..].iter().all(|&b| b == 0xee));
    // Zero requests into an empty buffer is fine.
    encode_carpreqs(&[], &mut []).unwrap();
    assert!(decode_carpreqs(&[], 0).unwrap().is_empty());
}

#[test]
fn carpreq_buffers_too_short() {
    let buf = carpreq_get_all(3);
    for len in 0..120 {
        let e = decode_carpreqs(&buf[..len], 3).unwrap_err();
        assert!(
            e.to_string().contains(&format!("buffer of {len} bytes")),
            "{e}"
        );
    }
    // A trailing partial element is fine when not asked for.
    assert_eq!(decode_carpreqs(&buf[..119], 2).unwrap().len(), 2);
    // A count from the kernel that overflows usize arithmetic.
    assert!(decode_carpreqs(&buf, usize::MAX).is_err());
    assert!(decode_carpreqs(&buf, usize::MAX / 40 + 1).is_err());

    let reqs = [carpreq::default(); 2];
    for len in 0..80 {
        let mut short = vec![0u8; len];
        assert!(encode_carpreqs(&reqs, &mut short).is_err(), "len {len}");
    }
}

#[test]
fn redact_zeroes_only_keys_of_whole_elements() {
    let mut buf = Vec::new();
    buf.extend_from_slice(&carpreq_set(1, 2, 3, 4, &[0x11; 20]));
    buf.extend_from_slice(&carpreq_set(5, 1, 7, 8, &[0x22; 20]));
    // A trailing partial element (30 bytes) is left alone.
    buf.extend_from_slice(&[0x33; 30]);
    redact_carpreq_keys(&mut buf);
    assert_eq!(buf[..20], carpreq_set(1, 2, 3, 4, &[0; 20])[..20]);
    assert_eq!(buf[20..40], [0; 20]);
    assert_eq!(buf[40..60], carpreq_set(5, 1, 7, 8, &[0; 20])[..20]);
    assert_eq!(buf[60..80], [0; 20]);
    assert_eq!(buf[80..], [0x33; 30]);
    let mut tiny = [0x44; 39];
    redact_carpreq_keys(&mut tiny);
    assert_eq!(tiny, [0x44; 39]);
}

// -- SIOCAIFADDR ---------------------------------------------------------

#[test]
fn in_aliasreq_vip_bytes() {
    // ifconfig em0 inet vhid 1 alias 192.168.1.50/32 (the Handbook VIP).
    // struct in_aliasreq (68, docs/freebsd-carp.md §3.1); sockaddr_in (16) is
    // sin_len, sin_family, sin_port[2], sin_addr[4], sin_zero[8].
    #[rustfmt::skip]
    let expected: [u8; 68] = [
        // @0 ifra_name "em0"
        0x65, 0x6d, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // @16 ifra_addr: sin_len 16, AF_INET 2, port 0, 192.168.1.50 = c0 a8 01 32
        0x10, 0x02, 0x00, 0x00, 0xc0, 0xa8, 0x01, 0x32,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // @32 ifra_broadaddr: all zero (sin_len 0 = let in.c derive it)
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // @48 ifra_mask: sin_len 16, AF_INET 2, /32 = 255.255.255.255
        0x10, 0x02, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // @64 ifra_vhid 1
        0x01, 0x00, 0x00, 0x00,
    ];
    assert_eq!(
        in_aliasreq("em0", v4("192.168.1.50/32"), 1).unwrap(),
        expected
    );
}

#[test]
fn in_aliasreq_subnet_bytes() {
    let raw = in_aliasreq("em0", v4("192.0.2.1/24"), 5).unwrap();
    assert_eq!(raw[..16], EM0);
    // ifra_addr: 16, 2, port 0 0, 192.0.2.1 = c0 00 02 01, zero.
    assert_eq!(
        raw[16..32],
        [
            0x10, 0x02, 0, 0, 0xc0, 0x00, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0, 0
        ]
    );
    assert_eq!(raw[32..48], [0; 16]);
    // ifra_mask: /24 = 255.255.255.0 = ff ff ff 00.
    assert_eq!(
        raw[48..64],
        [
            0x10, 0x02, 0, 0, 0xff, 0xff, 0xff, 0x00, 0, 0, 0, 0, 0, 0, 0, 0
        ]
    );
    assert_eq!(raw[64..68], [0x05, 0, 0, 0]);
}

#[test]
fn in_aliasreq_round_trips() {
    for (net, vhid) in [
        ("192.168.1.50/32", 1),
        ("192.0.2.1/24", 255),
        ("10.0.0.1/8", 0),
        ("0.0.0.0/0", 3),
    ] {
        let raw = in_aliasreq("vlan0.100", v4(net), vhid).unwrap();
        assert_eq!(
            decode_in_aliasreq(&raw).unwrap(),
            ("vlan0.100".to_string(), v4(net), i32::from(vhid))
        );
    }
}

#[test]
fn decode_in_aliasreq_bad_inputs() {
    let good = in_aliasreq("em0", v4("192.0.2.1/24"), 1).unwrap();
    for len in 0..68 {
        let e = decode_in_aliasreq(&good[..len]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("in_aliasreq: {len} bytes, need 68 (sizeof(struct in_aliasreq))")
        );
    }
    // Longer than the structure: only the first 68 bytes are the request.
    let mut long = good.to_vec();
    long.extend_from_slice(&[0xff; 8]);
    assert!(decode_in_aliasreq(&long).is_ok());

    let bad = |off: usize, val: u8| {
        let mut raw = good;
        raw[off] = val;
        decode_in_aliasreq(&raw).unwrap_err().to_string()
    };
    // ifra_addr: wrong sin_len, wrong family (AF_INET6), sin_len 0.
    assert!(bad(16, 15).contains("ifra_addr (offset 16): sin_len 15, expected 16"));
    assert!(bad(16, 0).contains("sin_len 0"));
    assert!(
        bad(17, AF_INET6).contains("ifra_addr (offset 17): sin_family 28, expected AF_INET (2)")
    );
    // ifra_broadaddr present but malformed.
    assert!(bad(32, 8).contains("ifra_broadaddr (offset 32): sin_len 8"));
    let mut raw = good;
    raw[32] = 16;
    raw[33] = 0;
    assert!(
        decode_in_aliasreq(&raw)
            .unwrap_err()
            .to_string()
            .contains("ifra_broadaddr (offset 33): sin_family 0")
    );
    // ifra_mask malformed.
    assert!(bad(48, 17).contains("ifra_mask (offset 48): sin_len 17"));
    assert!(bad(49, 18).contains("ifra_mask (offset 49): sin_family 18"));
    // Non-contiguous masks.
    assert_eq!(
        bad(53, 0x00).replace("in_aliasreq: ", ""),
        "netmask 255.0.255.0 is not contiguous"
    );
    assert!(bad(55, 0x01).contains("netmask 255.255.255.1 is not contiguous"));
    assert!(bad(52, 0x7f).contains("is not contiguous"));
    // Name without NUL.
    let mut raw = good;
    raw[..16].fill(b'x');
    assert!(
        decode_in_aliasreq(&raw)
            .unwrap_err()
            .to_string()
            .contains("no NUL")
    );
}

#[test]
fn decode_in_aliasreq_kernel_leniency() {
    // A present, well-formed broadcast address is accepted.
    let mut raw = in_aliasreq("em0", v4("192.0.2.1/24"), 1).unwrap();
    raw[32..40].copy_from_slice(&[16, AF_INET, 0, 0, 192, 0, 2, 255]);
    assert_eq!(decode_in_aliasreq(&raw).unwrap().1, v4("192.0.2.1/24"));
    // Mask with sin_len 0: in.c's historical classful default.
    for (addr, expected) in [
        ("10.1.2.3/32", "10.1.2.3/8"),
        ("172.16.0.1/32", "172.16.0.1/16"),
        ("192.0.2.1/32", "192.0.2.1/24"),
    ] {
        let mut raw = in_aliasreq("em0", v4(addr), 1).unwrap();
        raw[48..64].fill(0);
        assert_eq!(decode_in_aliasreq(&raw).unwrap().1, v4(expected), "{addr}");
    }
}

// -- SIOCAIFADDR_IN6 -----------------------------------------------------

#[test]
fn in6_aliasreq_bytes() {
    // ifconfig em0 inet6 vhid 2 alias 2001:db8::51/128.
    // struct in6_aliasreq (136 on amd64, docs/freebsd-carp.md §3); sockaddr_in6 (28) is
    // sin6_len, sin6_family, port[2], flowinfo[4], addr[16], scope_id u32.
    #[rustfmt::skip]
    let expected: [u8; 136] = [
        // @0 ifra_name "em0"
        0x65, 0x6d, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // @16 ifra_addr: sin6_len 28 = 0x1c, AF_INET6 28 = 0x1c, port 0, flowinfo 0
        0x1c, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // @24 2001:db8::51
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x51,
        // @40 sin6_scope_id 0
        0x00, 0x00, 0x00, 0x00,
        // @44 ifra_dstaddr: 28 zero bytes
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
        // @72 ifra_prefixmask: 28, AF_INET6, port 0, flowinfo 0
        0x1c, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // @80 /128 = 16 × ff
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        // @96 scope_id 0
        0x00, 0x00, 0x00, 0x00,
        // @100 ifra_flags 0
        0x00, 0x00, 0x00, 0x00,
        // @104 ia6t_expire 0 (time_t, 8), @112 ia6t_preferred 0 (8)
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // @120 ia6t_vltime, @124 ia6t_pltime = ND6_INFINITE_LIFETIME 0xffffffff
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        // @128 ifra_vhid 2
        0x02, 0x00, 0x00, 0x00,
        // @132 tail padding to alignment 8
        0x00, 0x00, 0x00, 0x00,
    ];
    assert_eq!(
        in6_aliasreq64_bytes("em0", v6("2001:db8::51/128"), 2).unwrap(),
        expected
    );
}

/// The same request in i386's layout (docs/freebsd-carp.md §3):
/// `time_t` is 32-bit, so `struct in6_addrlifetime` is 16 bytes, the
/// vhid sits at 120 and the structure ends at 124 with no padding. The
/// first 104 bytes are the amd64 ones.
#[test]
fn in6_aliasreq_bytes_on_i386() {
    let amd64 = in6_aliasreq64_bytes("em0", v6("2001:db8::51/128"), 2).unwrap();
    let mut expected = amd64[..104].to_vec();
    #[rustfmt::skip]
    expected.extend_from_slice(&[
        // @104 ia6t_expire 0 (time_t, 4), @108 ia6t_preferred 0 (4)
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // @112 ia6t_vltime, @116 ia6t_pltime = ND6_INFINITE_LIFETIME
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        // @120 ifra_vhid 2; 124 bytes, a multiple of the alignment 4
        0x02, 0x00, 0x00, 0x00,
    ]);
    let i386 = in6_aliasreq_as::<in6_aliasreq32>("em0", v6("2001:db8::51/128"), 2).unwrap();
    assert_eq!(i386, expected);
    assert_eq!(i386.len(), 124);
    // The request number encodes the size: 0x7c.
    assert_eq!(
        carpctl_sys::iow(b'i', 27, i386.len()),
        carpctl_sys::SIOCAIFADDR_IN6_I386
    );
    assert_eq!(
        decode_in6_aliasreq_as::<in6_aliasreq32>(&i386).unwrap(),
        ("em0".to_string(), v6("2001:db8::51/128"), 2)
    );
    // An amd64 request read as i386 takes the lifetime's padding for the
    // vhid: the layouts cannot be mixed up silently.
    assert_ne!(
        decode_in6_aliasreq_as::<in6_aliasreq32>(&amd64).unwrap().2,
        2
    );
    let e = decode_in6_aliasreq_as::<in6_aliasreq32>(&i386[..123]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "in6_aliasreq: 123 bytes, need 124 (sizeof(struct in6_aliasreq))"
    );
}

/// The target's own layout is one of the two.
#[test]
fn in6_aliasreq_native_layout() {
    let raw = in6_aliasreq("em0", v6("2001:db8::51/128"), 2).unwrap();
    let want = if cfg!(target_arch = "x86") { 124 } else { 136 };
    assert_eq!(raw.len(), want);
    assert_eq!(carpctl_sys::SIOCAIFADDR_IN6 >> 16 & 0x1fff, want as u64);
}

#[test]
fn in6_aliasreq_prefix_mask() {
    // /64: 8 × ff then 8 × 00 at @80..96; /65: one more bit, 0x80 @88.
    let raw = in6_aliasreq64_bytes("em0", v6("2001:db8::1/64"), 1).unwrap();
    assert_eq!(
        raw[80..96],
        [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0
        ]
    );
    let raw = in6_aliasreq64_bytes("em0", v6("2001:db8::1/65"), 1).unwrap();
    assert_eq!(raw[88], 0x80);
    assert_eq!(raw[89..96], [0; 7]);
}

#[test]
fn in6_aliasreq_refusals() {
    let e = in6_aliasreq64_bytes("em0", v6("fe80::1/64"), 1).unwrap_err();
    assert!(
        e.to_string().contains("link-local VIPs are not supported"),
        "{e}"
    );
    assert!(in6_aliasreq64_bytes("em0", v6("febf:ffff::1/64"), 1).is_err());
    // fec0::/10 (deprecated site-local) is not link-local.
    assert!(in6_aliasreq64_bytes("em0", v6("fec0::1/64"), 1).is_ok());
    let e = in6_aliasreq64_bytes("em0", v6("::/0"), 1).unwrap_err();
    assert!(e.to_string().contains("prefix length 0"), "{e}");
    let e = in6_ifreq_addr("em0", "fe80::51".parse().unwrap()).unwrap_err();
    assert!(
        e.to_string().contains("link-local VIPs are not supported"),
        "{e}"
    );
}

#[test]
fn in6_aliasreq_round_trips() {
    for (net, vhid) in [
        ("2001:db8::51/128", 2),
        ("2001:db8::1/64", 255),
        ("2001:db8::1/1", 0),
        ("::1/127", 9),
    ] {
        let raw = in6_aliasreq64_bytes("bridge0", v6(net), vhid).unwrap();
        assert_eq!(
            decode64(&raw).unwrap(),
            ("bridge0".to_string(), v6(net), i32::from(vhid))
        );
    }
}

#[test]
fn decode_in6_aliasreq_bad_inputs() {
    let good = in6_aliasreq64_bytes("em0", v6("2001:db8::51/64"), 2).unwrap();
    for len in 0..136 {
        let e = decode64(&good[..len]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("in6_aliasreq: {len} bytes, need 136 (sizeof(struct in6_aliasreq))")
        );
    }
    let bad = |off: usize, val: u8| {
        let mut raw = good.clone();
        raw[off] = val;
        decode64(&raw).unwrap_err().to_string()
    };
    assert!(bad(16, 27).contains("ifra_addr (offset 16): sin6_len 27, expected 28"));
    assert!(bad(16, 16).contains("sin6_len 16"));
    assert!(
        bad(17, AF_INET).contains("ifra_addr (offset 17): sin6_family 2, expected AF_INET6 (28)")
    );
    // Linux's AF_INET6 (10) is not FreeBSD's.
    assert!(bad(17, 10).contains("sin6_family 10"));
    assert!(bad(72, 29).contains("ifra_prefixmask (offset 72): sin6_len 29"));
    assert!(bad(72, 0).contains("sin6_len 0"));
    // Non-contiguous: a stray bit after the /64 (byte 89 = mask byte 9
    // = low byte of the fifth group), and a hole at the top.
    assert!(bad(89, 0x01).contains("prefix mask ffff:ffff:ffff:ffff:1:: is not contiguous"));
    assert!(bad(80, 0x7f).contains("is not contiguous"));
    // All-zero mask: prefix length 0, EINVAL in the kernel.
    let mut raw = good.clone();
    raw[80..96].fill(0);
    assert!(
        decode64(&raw)
            .unwrap_err()
            .to_string()
            .contains("prefix length 0")
    );
}

#[test]
fn decode_in6_aliasreq_kernel_leniency() {
    // The mask's family is not checked (ifconfig's ioctl path sends 0).
    let mut raw = in6_aliasreq64_bytes("em0", v6("2001:db8::51/64"), 2).unwrap();
    raw[73] = 0;
    assert_eq!(decode64(&raw).unwrap().1, v6("2001:db8::51/64"));
    // A mask with sin6_len 16 covers only 8 bytes of sin6_addr: the rest
    // reads as zero, so a /128 mask with sin6_len 16 is a /64.
    let mut raw = in6_aliasreq64_bytes("em0", v6("2001:db8::51/128"), 2).unwrap();
    raw[72] = 16;
    assert_eq!(decode64(&raw).unwrap().1, v6("2001:db8::51/64"));
    // sin6_len 8 covers none of it: prefix length 0, refused.
    raw[72] = 8;
    assert!(decode64(&raw).is_err());
}

// -- SIOCDIFADDR / SIOCDIFADDR_IN6 ---------------------------------------

#[test]
fn ifreq_addr_bytes() {
    #[rustfmt::skip]
    let expected: [u8; 32] = [
        // @0 ifr_name "em0"
        0x65, 0x6d, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // @16 ifru_addr: sin_len 16, AF_INET, port 0, 192.168.1.50, sin_zero
        0x10, 0x02, 0x00, 0x00, 0xc0, 0xa8, 0x01, 0x32,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    assert_eq!(
        ifreq_addr("em0", Ipv4Addr::new(192, 168, 1, 50)).unwrap(),
        expected
    );
}

#[test]
fn in6_ifreq_addr_bytes() {
    let raw = in6_ifreq_addr("em0", "2001:db8::51".parse().unwrap()).unwrap();
    // sizeof(struct in6_ifreq) = 16 + 272 (icmp6_ifstat, the largest
    // union member) = 288; SIOCDIFADDR_IN6 encodes 0x120 = 288.
    assert_eq!(raw.len(), 288);
    #[rustfmt::skip]
    let head: [u8; 44] = [
        // @0 ifr_name "em0"
        0x65, 0x6d, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // @16 ifru_addr: sin6_len 28, AF_INET6 28, port 0, flowinfo 0
        0x1c, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        // @24 2001:db8::51
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x51,
        // @40 sin6_scope_id 0
        0x00, 0x00, 0x00, 0x00,
    ];
    assert_eq!(raw[..44], head);
    assert!(raw[44..].iter().all(|&b| b == 0));
}

#[test]
fn difaddr_round_trips() {
    for a in [
        Ipv4Addr::new(192, 168, 1, 50),
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::BROADCAST,
    ] {
        let raw = ifreq_addr("lagg0", a).unwrap();
        assert_eq!(decode_ifreq_addr(&raw).unwrap(), ("lagg0".to_string(), a));
        assert_eq!(
            decode_ifreq_addr_or_any(&raw).unwrap(),
            ("lagg0".to_string(), Some(a))
        );
    }
    for a in ["2001:db8::51", "::1", "ff02::12"] {
        let a: Ipv6Addr = a.parse().unwrap();
        let raw = in6_ifreq_addr("em1", a).unwrap();
        assert_eq!(decode_in6_ifreq_addr(&raw).unwrap(), ("em1".to_string(), a));
    }
}

#[test]
fn decode_difaddr_bad_inputs() {
    let good = ifreq_addr("em0", Ipv4Addr::new(192, 0, 2, 1)).unwrap();
    for len in 0..32 {
        let e = decode_ifreq_addr(&good[..len]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("ifreq: {len} bytes, need 32 (sizeof(struct ifreq))")
        );
        assert!(decode_ifreq_addr_or_any(&good[..len]).is_err());
    }
    let mut raw = good;
    raw[16] = 8;
    assert!(
        decode_ifreq_addr(&raw)
            .unwrap_err()
            .to_string()
            .contains("ifru_addr (offset 16): sin_len 8")
    );
    // The kernel's "delete any" reading of the same bytes.
    assert_eq!(
        decode_ifreq_addr_or_any(&raw).unwrap(),
        ("em0".to_string(), None)
    );
    let mut raw = good;
    raw[17] = AF_INET6;
    assert!(
        decode_ifreq_addr(&raw)
            .unwrap_err()
            .to_string()
            .contains("sin_family 28")
    );
    assert_eq!(decode_ifreq_addr_or_any(&raw).unwrap().1, None);

    let good6 = in6_ifreq_addr("em0", "2001:db8::1".parse().unwrap()).unwrap();
    for len in 0..288 {
        let e = decode_in6_ifreq_addr(&good6[..len]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("in6_ifreq: {len} bytes, need 288 (sizeof(struct in6_ifreq))")
        );
    }
    let mut raw = good6.clone();
    raw[16] = 16;
    assert!(
        decode_in6_ifreq_addr(&raw)
            .unwrap_err()
            .to_string()
            .contains("ifru_addr (offset 16): sin6_len 16")
    );
    let mut raw = good6;
    raw[17] = AF_INET;
    assert!(
        decode_in6_ifreq_addr(&raw)
            .unwrap_err()
            .to_string()
            .contains("sin6_family 2")
    );
}

#[test]
fn prefix_len_helpers() {
    assert_eq!(v4_prefix_len("t", Ipv4Addr::new(0, 0, 0, 0)).unwrap(), 0);
    assert_eq!(v4_prefix_len("t", Ipv4Addr::new(128, 0, 0, 0)).unwrap(), 1);
    assert_eq!(
        v4_prefix_len("t", Ipv4Addr::new(255, 255, 254, 0)).unwrap(),
        23
    );
    assert_eq!(v4_prefix_len("t", Ipv4Addr::BROADCAST).unwrap(), 32);
    assert!(v4_prefix_len("t", Ipv4Addr::new(0, 0, 0, 1)).is_err());
    assert_eq!(v6_prefix_len("t", Ipv6Addr::UNSPECIFIED).unwrap(), 0);
    assert_eq!(v6_prefix_len("t", Ipv6Addr::from(u128::MAX)).unwrap(), 128);
    assert!(v6_prefix_len("t", Ipv6Addr::LOCALHOST).is_err());
}

// -- properties ----------------------------------------------------------

proptest! {
    #[test]
    fn decoders_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..400), count in 0usize..12) {
        let _ = decode_ifname(&buf);
        let _ = decode_carpreqs(&buf, count);
        let _ = decode_in_aliasreq(&buf);
        let _ = decode64(&buf);
        let _ = decode_ifreq_addr(&buf);
        let _ = decode_ifreq_addr_or_any(&buf);
        let _ = decode_in6_ifreq_addr(&buf);
        let mut copy = buf.clone();
        redact_carpreq_keys(&mut copy);
        prop_assert_eq!(copy.len(), buf.len());
        let _ = encode_carpreqs(&[carpreq::default(); 3], &mut copy);
    }

    /// Arbitrary bytes behind a valid header, so the checks after the
    /// sockaddr headers (masks, names) are exercised too.
    #[test]
    fn decoders_never_panic_past_headers(mut buf in proptest::collection::vec(any::<u8>(), 136..300)) {
        buf[16] = 16; buf[17] = AF_INET; buf[48] = 16; buf[49] = AF_INET;
        let _ = decode_in_aliasreq(&buf);
        let _ = decode_ifreq_addr(&buf);
        buf[16] = 28; buf[17] = AF_INET6; buf[72] %= 29;
        let _ = decode64(&buf);
        if buf.len() >= 288 {
            let _ = decode_in6_ifreq_addr(&buf);
        }
    }

    #[test]
    fn in_aliasreq_round_trip(addr in any::<u32>(), prefix in 0u8..=32, vhid in any::<u8>()) {
        let net = Ipv4Net::new(Ipv4Addr::from(addr), prefix).unwrap();
        let raw = in_aliasreq("em0", net, vhid).unwrap();
        prop_assert_eq!(decode_in_aliasreq(&raw).unwrap(), ("em0".to_string(), net, i32::from(vhid)));
    }

    #[test]
    fn in6_aliasreq_round_trip(addr in any::<u128>(), prefix in 1u8..=128, vhid in any::<u8>()) {
        let net = Ipv6Net::new(Ipv6Addr::from(addr), prefix).unwrap();
        prop_assume!(!net.addr().is_unicast_link_local());
        let raw = in6_aliasreq64_bytes("em0", net, vhid).unwrap();
        prop_assert_eq!(decode64(&raw).unwrap(), ("em0".to_string(), net, i32::from(vhid)));
    }

    #[test]
    fn carpreq_set_round_trip(vhid in any::<u8>(), state in any::<u32>(), skew in any::<u8>(), base in any::<u8>(), k in any::<[u8; 20]>()) {
        let r = decode_carpreqs(&carpreq_set(vhid, state, skew, base, &k), 1).unwrap()[0];
        prop_assert_eq!(r.carpr_vhid, i32::from(vhid));
        prop_assert_eq!(r.carpr_state.cast_unsigned(), state);
        prop_assert_eq!(r.carpr_advskew, i32::from(skew));
        prop_assert_eq!(r.carpr_advbase, i32::from(base));
        prop_assert_eq!(r.carpr_key, k);
    }
}
