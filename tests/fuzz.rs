//! A fuzz harness, as property tests, for every parser that takes outside
//! input: the cluster file, scenario files, the files `lint` and `import`
//! read (rc.conf, loader.conf, sysctl.conf, devd.conf), devd event
//! records, netlink replies, SIOCGVH and getifaddrs data, and CARP/VRRP
//! frames off the wire.
//!
//! Each property feeds its parser two kinds of input: arbitrary bytes, and
//! structure-aware mutations of valid inputs (the examples, the lint corpus,
//! the CARP test vectors, messages the netlink encoders build): bytes
//! flipped, ranges deleted, repeated (deep nesting, long lines) or spliced
//! from another seed, and tokens of the format inserted. It asserts that
//!
//! * the parser does not panic (proptest reports any panic, with the
//!   smallest input it can find, and saves it in
//!   `tests/fuzz.proptest-regressions`, replayed first on every run);
//! * it returns a value or an error that says something;
//! * its memory stays within a bound proportional to the input: a
//!   counting allocator measures the peak of each call.
//!
//! Bounded time: each property runs a fixed number of cases (about a minute
//! for the whole file in a debug build on two cores). Set
//! `CARPCTL_FUZZ_CASES=N` to run N cases per property instead, e.g.
//! `CARPCTL_FUZZ_CASES=20000 cargo test --release --test fuzz`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on what it does not expect"
)]

#[path = "common/alloc.rs"]
mod alloc;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use carpctl::kernel::freebsd::{RawIfaddr, ifaddrs, ioctl, netlink};
use carpctl::lint::{self, Input, Options};
use carpctl::scan::Scanner;
use carpctl::scan::capture::pcapfile::PcapFile;
use carpctl::scan::capture::{Frame, Source};
use carpctl::scan::decode::{LinkType, decode};
use carpctl::scan::report::SourceInfo;
use carpctl::wire::{self, CarpAuth, Encap, MacAddr, Payload, Receiver, VrrpAdvert};
use proptest::prelude::*;

use alloc::mib;

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

// ----- the harness -------------------------------------------------------

/// Cases per property: `CARPCTL_FUZZ_CASES`, else `default`.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("CARPCTL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        // Shrinking a failure is worth a little more time than a case.
        max_shrink_iters: 2048,
        ..ProptestConfig::default()
    }
}

/// Run `f` on an input of `len` bytes and fail when its peak allocation
/// passes `fixed + per_byte × len`.
fn bounded<T>(what: &str, len: usize, per_byte: usize, fixed: usize, f: impl FnOnce() -> T) -> T {
    let (out, bytes) = alloc::peak(f);
    let bound = fixed + per_byte * len;
    assert!(
        bytes <= bound,
        "{what}: {bytes} bytes allocated for {len} bytes of input (bound {bound})"
    );
    out
}

/// An error must say something.
fn says_something(what: &str, message: &str) {
    assert!(!message.trim().is_empty(), "{what}: an empty error message");
}

/// How one seed is changed.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR the byte at `at` with `with` (never 0).
    Flip {
        at: usize,
        with: u8,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Delete {
        at: usize,
        len: usize,
    },
    /// Repeat the `len` bytes at `at` `times` times (deep nesting, long
    /// lines, many entries).
    Repeat {
        at: usize,
        len: usize,
        times: usize,
    },
    /// Put bytes of another seed at `at`.
    Splice {
        at: usize,
        seed: usize,
        from: usize,
        len: usize,
    },
    /// Insert one of the format's tokens at `at`.
    Token {
        at: usize,
        token: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 1u8..).prop_map(|(at, with)| Mutation::Flip { at, with }),
        (at, proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (at, 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (
            at,
            1usize..32,
            prop_oneof![3 => 2usize..64, 1 => 64usize..40_000]
        )
            .prop_map(|(at, len, times)| Mutation::Repeat { at, len, times }),
        (at, any::<usize>(), any::<usize>(), 1usize..128).prop_map(|(at, seed, from, len)| {
            Mutation::Splice {
                at,
                seed,
                from,
                len,
            }
        }),
        (at, any::<usize>()).prop_map(|(at, token)| Mutation::Token { at, token }),
    ]
}

/// The largest mutated input: large enough for every limit the parsers
/// have below their file caps to be crossed, small enough to stay fast.
const MAX_MUTATED: usize = 64 * 1024;

fn mutate(seed: &[u8], muts: &[Mutation], seeds: &[Vec<u8>], tokens: &[&[u8]]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for m in muts {
        let pos = |at: usize, len: usize| if len == 0 { 0 } else { at % (len + 1) };
        match m {
            Mutation::Flip { at, with } => {
                if !b.is_empty() {
                    let i = at % b.len();
                    b[i] ^= with;
                }
            }
            Mutation::Insert { at, bytes } => {
                let i = pos(*at, b.len());
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Delete { at, len } => {
                let i = pos(*at, b.len());
                let end = (i + len).min(b.len());
                b.drain(i..end);
            }
            Mutation::Repeat { at, len, times } => {
                let i = pos(*at, b.len());
                let end = (i + len).min(b.len());
                let part = b[i..end].to_vec();
                let room = MAX_MUTATED.saturating_sub(b.len());
                let extra: Vec<u8> = part
                    .iter()
                    .copied()
                    .cycle()
                    .take((part.len() * times).min(room))
                    .collect();
                b.splice(end..end, extra);
            }
            Mutation::Splice {
                at,
                seed,
                from,
                len,
            } => {
                let Some(other) = seeds.get(seed % seeds.len().max(1)) else {
                    continue;
                };
                let f = pos(*from, other.len());
                let part = &other[f..(f + len).min(other.len())];
                let i = pos(*at, b.len());
                b.splice(i..i, part.iter().copied());
            }
            Mutation::Token { at, token } => {
                if let Some(t) = tokens.get(token % tokens.len().max(1)) {
                    let i = pos(*at, b.len());
                    b.splice(i..i, t.iter().copied());
                }
            }
        }
        b.truncate(MAX_MUTATED);
    }
    b
}

/// Arbitrary bytes, or a seed with a few mutations.
fn input(
    seeds: &'static [Vec<u8>],
    tokens: &'static [&'static [u8]],
) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..512),
        4 => (0..seeds.len(), proptest::collection::vec(mutation(), 0..6))
            .prop_map(move |(s, muts)| mutate(&seeds[s], &muts, seeds, tokens)),
    ]
}

/// Text parsers take `&str` (files that are not UTF-8 are refused before).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every file of a lint corpus case directory, or the file itself.
fn corpus(case: &str) -> Vec<Vec<u8>> {
    let p = repo(&format!("tests/corpus/{case}"));
    if p.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    } else {
        vec![std::fs::read(&p).unwrap()]
    }
}

/// A directory holding the examples and their key files, as the files
/// expect them: the cluster file and scenario properties parse their
/// inputs as if they lived here (relative paths resolve into it).
fn example_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for f in ["seed.toml", "five-nodes.toml", "seed-scenario.toml"] {
            std::fs::copy(repo(&format!("examples/{f}")), dir.path().join(f)).unwrap();
            std::fs::set_permissions(dir.path().join(f), std::fs::Permissions::from_mode(0o600))
                .unwrap();
        }
        let keys = dir.path().join("carpctl.d");
        std::fs::create_dir(&keys).unwrap();
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o700)).unwrap();
        for (k, v) in [
            ("mail1.key", "5e6a1f0c9b2d47e813"),
            ("mail2.key", "c04b7d2e91a8f35b6e"),
            ("www.key", "3f9a0c17e2b4d86a51"),
        ] {
            std::fs::write(keys.join(k), format!("{v}\n")).unwrap();
            std::fs::set_permissions(keys.join(k), std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        dir
    })
    .path()
}

// ----- seeds and tokens --------------------------------------------------

fn cluster_seeds() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        vec![
            read("examples/seed.toml"),
            read("examples/five-nodes.toml"),
            // Every section and key the file knows.
            b"[cluster]\npreempt = true\nadvbase = 2\nadvskew_step = 5\nboot_hold = true\n\
              hook_timeout = 30\n[metrics]\nlisten = \"127.0.0.1:9612\"\n\
              [[node]]\nname = \"a\"\ninterfaces = { lan = \"em0\", wan = \"vlan0.100\" }\n\
              [[node]]\nname = \"b\"\n[[vip]]\nname = \"v\"\nvhid = 7\ninterface = \"lan\"\n\
              addresses = [\"10.0.0.7/32\", \"2001:db8::7/128\"]\nprefer = [\"b\", \"a\"]\n\
              password = \"x\"\non_master = [\"/bin/echo\", \"m\"]\n\
              [[check]]\nname = \"web\"\ntcp = \"127.0.0.1:80\"\ninterval = \"2s\"\nfall = 3\n"
                .to_vec(),
        ]
    })
}

const TOML_TOKENS: &[&[u8]] = &[
    b"[[node]]\nname = \"n\"\n",
    b"[[vip]]\n",
    b"[cluster]\n",
    b"[[check]]\n",
    b"\"",
    b"'''",
    b"{",
    b"[",
    b"]",
    b"}",
    b" = ",
    b"\n",
    b"prefer = [\"a\", \"a\"]\n",
    b"vhid = 256\n",
    b"vhid = -1\n",
    b"advskew_step = 0\n",
    b"advskew_step = 239\n",
    b"addresses = [\"0.0.0.0/0\"]\n",
    b"addresses = [\"fe80::1/64\"]\n",
    b"18446744073709551616",
    b"1e999",
    b"\\u0000",
    b"\xe2\x80\xae",
    b"password_file = \"carpctl.d/missing.key\"\n",
];

fn scenario_seeds() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        vec![
            read("examples/seed-scenario.toml"),
            b"cluster = \"five-nodes.toml\"\nduration = 30\nseed = 7\n\
              [passwords]\nwww01 = \"x\"\n[[event]]\nat = \"5s\"\nnode = \"web1\"\naction = \"crash\"\n\
              [[event]]\nat = \"20s\"\nnode = \"web1\"\naction = \"boot\"\n"
                .to_vec(),
        ]
    })
}

const SCENARIO_TOKENS: &[&[u8]] = &[
    b"[[event]]\n",
    b"at = \"0s\"\n",
    b"at = \"1e300s\"\n",
    b"duration = 99999999999\n",
    b"action = \"crash\"\n",
    b"action = \"partition\"\n",
    b"node = \"mail-a\"\n",
    b"[clients]\nrate = 1000000\n",
    b"\"",
    b"[",
    b"{",
    b"\n",
];

fn rc_seeds() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = Vec::new();
        for case in [
            "seed-a.rc.conf",
            "seed-b.rc.conf",
            "handbook-10",
            "handbook-9",
            "handbook-2014",
            "handbook-2007",
            "aaronrenoir-2014",
        ] {
            s.extend(corpus(case));
        }
        s.push(
            b"ifconfig_em0=\"inet 10.0.0.2/24\"\nifconfig_em0_aliases=\"inet vhid 1 pass x \
              10.0.0.10/32 inet vhid 2 advskew 100 pass y 10.0.0.11-20/32 inet6 vhid 3 \
              2001:db8::1 prefixlen 64\"\ncloned_interfaces=\"carp0 lagg0\"\n\
              ifconfig_carp0=\"vhid 9 pass z 10.0.0.50/24\"\nvlans_em0=\"100\"\n\
              ifconfig_em0_100_alias0='inet vhid 5 pass \"q\" alias 192.168.5.5/32'\n"
                .to_vec(),
        );
        s
    })
}

const SH_TOKENS: &[&[u8]] = &[
    b"\"",
    b"'",
    b"\\",
    b"\\\n",
    b"$",
    b"`",
    b";",
    b"#",
    b"\n",
    b"=",
    b"\xe2\x80\x9c",
    b" inet ",
    b" inet6 ",
    b" vhid ",
    b" advskew ",
    b" pass ",
    b" alias ",
    b" netmask 0xffffff00 ",
    b" prefixlen 200 ",
    b"10.0.0.1-255",
    b"ifconfig_em0_aliases=\"",
    b"ifconfig_em0_alias99=\"",
    b"cloned_interfaces=\"carp0\"\n",
];

fn conf_seeds() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        vec![
            b"carp_load=\"YES\"\nif_carp_load=\"YES\"\nkern.hz=100\n".to_vec(),
            b"net.inet.carp.preempt=1\nnet.inet.carp.demotion=-10 # c\n\
              net.inet.carp.log=2\nnet.inet.carp.senderr_demotion_factor=0\n"
                .to_vec(),
        ]
    })
}

fn devd_seeds() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = corpus("carp4-devd");
        s.push(read("rc.d/carpctl-devd.conf"));
        s.push(
            b"options {\n\tdirectory \"/etc/devd\";\n\tset wifi-driver-regex\n\t\t\"(ath|bwi)[0-9]+\";\n};\n\
              attach 0 {\n\tdevice-name \"$wifi-driver-regex\";\n\taction \"x\";\n};\n\
              notify 0 {\n\tmatch \"system\" \"IFNET\";\n\tmatch \"subsystem\" \"carp[0-9]+\";\n\
              \tmatch \"type\" \"LINK_UP\";\n\taction \"y\";\n};\n/* c */ # c\n"
                .to_vec(),
        );
        s
    })
}

const DEVD_TOKENS: &[&[u8]] = &[
    b"{",
    b"};",
    b"\"",
    b"/*",
    b"*/",
    b"#",
    b"notify 0 {",
    b"match \"system\" \"CARP\";",
    b"match \"type\" \"(a{1000}){30}\";",
    b"match \"subsystem\" \"[[:alpha:]\";",
    b"[[:",
    b"\\",
    b"!",
    b"$x",
];

fn devd_record_seeds() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        vec![
            b"!system=CARP subsystem=1@em0 type=MASTER\n".to_vec(),
            b"!system=CARP subsystem=255@vlan0.100 type=INIT".to_vec(),
            b"!system=IFNET subsystem=em0 type=LINK_UP\n".to_vec(),
            b"+ugen0.2 at bus=0 on uhub0\n".to_vec(),
            b"!system=CARP subsystem=\"1@em0\" type=BACKUP notify=0x1\n".to_vec(),
        ]
    })
}

const DEVD_RECORD_TOKENS: &[&[u8]] = &[
    b"!",
    b"=",
    b" ",
    b"\"",
    b"\n",
    b"\0",
    b"@",
    b"9223372036854775807",
    b"0001",
    b"system=CARP ",
];

/// The carp family id the netlink seeds use.
const FAM: u16 = 0x22;
/// The highest carp attribute the running kernel knows (decode_request).
const MAX_ATTR: u16 = carpctl_sys::netlink::CARP_NL_MAX_ATTR;

fn netlink_seeds() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let attrs = netlink::CarpAttrs {
            vhid: Some(1),
            state: Some(2),
            advbase: Some(1),
            advskew: Some(100),
            key: Some(vec![b'k'; 20]),
            ifindex: Some(3),
            addr: Some([10, 0, 0, 1]),
            addr6: Some([0xfe; 16]),
            ifname: Some("vlan0.100".into()),
            version: Some(3),
            vrrp_priority: Some(100),
            vrrp_adv_inter: Some(100),
            unknown: vec![(0x8042, vec![1, 2, 3])],
        };
        let family = netlink::FamilyInfo {
            id: FAM,
            name: "carp".into(),
            version: 1,
            hdrsize: 0,
            maxattr: 12,
            ops: vec![(1, 0x0e), (2, 0x0b)],
            mcast_groups: vec![("carp".into(), 7)],
        };
        let reply = netlink::carp_reply(FAM, 5, 99, &attrs);
        let done = netlink::done_message(5, 99, 0);
        let mut dump = reply.clone();
        dump.extend_from_slice(&reply);
        dump.extend_from_slice(&done);
        let request = netlink::carp_request(FAM, 2, 0x5, 9, &attrs);
        let header = match netlink::decode_request(&request, FAM, MAX_ATTR) {
            Ok(
                netlink::Request::Carp { header, .. }
                | netlink::Request::GetFamily { header, .. }
                | netlink::Request::Other { header },
            ) => header,
            Err(e) => panic!("the seed request decodes: {e}"),
        };
        vec![
            netlink::family_reply(1, 99, &family),
            reply,
            dump,
            done,
            netlink::error_message(9, 99, -22, &header),
            netlink::error_message_echo(99, -1, &request),
            request,
            netlink::getfamily_request(1, "carp"),
        ]
    })
}

const NETLINK_TOKENS: &[&[u8]] = &[
    &[0xff, 0xff, 0xff, 0xff],
    &[0, 0, 0, 0],
    &[4, 0, 1, 0],
    &[0xff, 0xff, 0x09, 0x80],
    &[0x10, 0, 0, 0],
    &[3, 0],
    &[2, 0],
];

fn frame_seeds() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let doc: serde_json::Value =
            serde_json::from_slice(&read("tests/data/carp-vectors.json")).unwrap();
        let mut s: Vec<Vec<u8>> = doc["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                let e = &v["expected"];
                let mut f = hex::decode(e["ethernet_header_ipv4_hex"].as_str().unwrap()).unwrap();
                f.extend(hex::decode(e["ipv4_packet_hex"].as_str().unwrap()).unwrap());
                f
            })
            .collect();
        let src6 = IpAddr::V6("fe80::3".parse().unwrap());
        let auth = CarpAuth::new(b"testpass", 1, &frame_addrs()).unwrap();
        let h = auth.header(1, 0, 7);
        s.push(wire::carp_frame(&h, &Encap::multicast(src6, MacAddr::ZERO)).unwrap());
        let adv =
            VrrpAdvert::new(1, 100, 100, vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))]).unwrap();
        let src4 = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
        s.push(wire::vrrp_frame(&adv, &Encap::multicast(src4, MacAddr::ZERO)).unwrap());
        s.push(wire::gratuitous_arp_frame(
            MacAddr::ZERO,
            MacAddr([0, 0, 0x5e, 0, 1, 1]),
            Ipv4Addr::new(10, 0, 0, 1),
        ));
        s
    })
}

fn frame_addrs() -> Vec<IpAddr> {
    vec![
        IpAddr::V4(Ipv4Addr::new(192, 168, 1, 50)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x51)),
    ]
}

const FRAME_TOKENS: &[&[u8]] = &[
    &[0x08, 0x00],
    &[0x86, 0xdd],
    &[0x08, 0x06],
    &[0x45],
    &[0x60],
    &[112],
    &[0x21],
    &[0x31],
    &[0xff; 4],
];

/// What `carpctl scan` reads besides carp(4)'s own frames: a keepalived
/// VRRPv2 advertisement, frames under one and two VLAN tags, IPv6 behind a
/// hop-by-hop extension header, IPv4 with options.
fn scan_frame_seeds() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = frame_seeds().to_vec();
        let carp4 = s[0].clone();
        // VRRPv2 (RFC 3768): version 2, VRID 7, priority 100, one address.
        let mut vrrp2 =
            hex::decode("01005e00001202000000000108004500002800004000ff70c0000a000015e0000012")
                .unwrap();
        let mut adv = vec![
            0x21, 7, 100, 1, 0, 1, 0, 0, 10, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let sum = wire::internet_checksum(&adv);
        adv[6..8].copy_from_slice(&sum.to_be_bytes());
        vrrp2.extend(adv);
        s.push(ipv4_fixed(vrrp2));
        for tpid in [[0x81, 0x00], [0x88, 0xa8]] {
            let mut t = carp4[..12].to_vec();
            t.extend(tpid);
            t.extend([0, 100, 0x81, 0x00, 0, 200]);
            t.extend(&carp4[12..]);
            s.push(t);
        }
        // IPv6 (the CARP-over-IPv6 seed) with a hop-by-hop header: next
        // header 0 in the IPv6 header, then 112 and padding.
        if let Some(v6) = s
            .iter()
            .find(|f| f.get(12..14) == Some(&[0x86, 0xdd][..]))
            .cloned()
        {
            let mut h = v6[..14 + 40].to_vec();
            h[14 + 6] = 0;
            let plen = u16::from_be_bytes([h[18], h[19]]) + 8;
            h[18..20].copy_from_slice(&plen.to_be_bytes());
            h.extend([112, 0, 1, 4, 0, 0, 0, 0]);
            h.extend(&v6[14 + 40..]);
            s.push(h);
        }
        // IPv4 with 4 bytes of options (IHL 6).
        let mut o = carp4[..14].to_vec();
        o.push(0x46);
        o.extend(&carp4[15..34]);
        o.extend([1, 1, 1, 0]);
        o.extend(&carp4[34..]);
        s.push(ipv4_fixed(o));
        s
    })
}

/// `frame` (Ethernet, IPv4 at 14) with its IPv4 total length and header
/// checksum made right.
fn ipv4_fixed(mut frame: Vec<u8>) -> Vec<u8> {
    let ihl = usize::from(frame[14] & 0x0f) * 4;
    let total = (frame.len() - 14) as u16;
    frame[16..18].copy_from_slice(&total.to_be_bytes());
    frame[24..26].copy_from_slice(&[0, 0]);
    let sum = wire::internet_checksum(&frame[14..14 + ihl]);
    frame[24..26].copy_from_slice(&sum.to_be_bytes());
    frame
}

const SCAN_TOKENS: &[&[u8]] = &[
    &[0x81, 0x00],
    &[0x88, 0xa8],
    &[0x91, 0x00],
    &[0x86, 0xdd],
    &[0x08, 0x00],
    &[112],
    &[0, 0, 0, 0],
    &[43],
    &[44],
    &[60],
    &[0x21],
    &[0x31],
    &[0x46],
    &[0x4f],
];

/// Capture files of the scan frame seeds: classic pcap as `simulate
/// --pcap` writes it.
fn capture_seeds() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let mut sink = wire::PcapSink::new(Vec::new()).unwrap();
        for (i, f) in scan_frame_seeds().iter().enumerate() {
            sink.write(std::time::Duration::from_millis(500 * i as u64), f)
                .unwrap();
        }
        let pcap = sink.finish().unwrap();
        // The same frames as pcapng: section, interface, enhanced packets.
        let mut ng = Vec::new();
        let block = |ng: &mut Vec<u8>, kind: u32, body: &[u8]| {
            let len = (12 + body.len().div_ceil(4) * 4) as u32;
            ng.extend(kind.to_le_bytes());
            ng.extend(len.to_le_bytes());
            ng.extend(body);
            ng.resize(ng.len() + (4 - body.len() % 4) % 4, 0);
            ng.extend(len.to_le_bytes());
        };
        block(
            &mut ng,
            0x0a0d0d0a,
            &[
                0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
        );
        // Interface: Ethernet, snaplen 0, if_name "em0".
        block(
            &mut ng,
            1,
            &[
                1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, b'e', b'm', b'0', 0, 0, 0, 0, 0,
            ],
        );
        for f in scan_frame_seeds() {
            let mut body = vec![0u8; 4];
            body.extend([0, 0, 0, 0, 0x40, 0x42, 0x0f, 0]);
            body.extend((f.len() as u32).to_le_bytes());
            body.extend((f.len() as u32).to_le_bytes());
            body.extend(f);
            body.resize(body.len().div_ceil(4) * 4, 0);
            block(&mut ng, 6, &body);
        }
        vec![pcap, ng]
    })
}

const CAPTURE_TOKENS: &[&[u8]] = &[
    &[0xd4, 0xc3, 0xb2, 0xa1],
    &[0x4d, 0x3c, 0xb2, 0xa1],
    &[0x0a, 0x0d, 0x0d, 0x0a],
    &[0x4d, 0x3c, 0x2b, 0x1a],
    &[6, 0, 0, 0],
    &[1, 0, 0, 0],
    &[0xff, 0xff, 0xff, 0xff],
    &[0xff, 0xff, 0xff, 0x7f],
    &[0, 0, 0, 0],
    &[9, 0, 1, 0, 0x80],
    &[112],
];

fn link(i: u8) -> LinkType {
    [
        LinkType::Ethernet,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::RawIp,
    ][usize::from(i % 4)]
}

fn ifreq_seeds() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let net4 = "10.0.0.1/24".parse().unwrap();
        let net6: ipnet::Ipv6Net = "2001:db8::1/64".parse().unwrap();
        let mut carps = vec![0u8; 0];
        carps.extend(ioctl::carpreq_get(1));
        carps.extend(ioctl::carpreq_get(2));
        vec![
            carps,
            ioctl::carpreq_get_all(4),
            ioctl::in_aliasreq("em0", net4, 1).unwrap().to_vec(),
            ioctl::in6_aliasreq("vlan0.100", net6, 2).unwrap().to_vec(),
            ioctl::ifreq_addr("em0", Ipv4Addr::new(10, 0, 0, 1))
                .unwrap()
                .to_vec(),
            ioctl::in6_ifreq_addr("em0", "2001:db8::1".parse().unwrap()).unwrap(),
            ifaddrs::sockaddr_bytes("10.0.0.1".parse().unwrap()),
            ifaddrs::sockaddr_bytes("fe80::1".parse().unwrap()),
            ifaddrs::netmask_bytes(net6.into()),
            ifaddrs::if_data_bytes(6, 2, 1),
            ifaddrs::link_sockaddr_bytes(2, 6, "em0"),
        ]
    })
}

const IFREQ_TOKENS: &[&[u8]] = &[
    &[0],
    &[2],
    &[28],
    &[18],
    &[0xff],
    &[16, 2],
    &[28, 28],
    &[255, 255, 255, 255],
];

// ----- the properties ----------------------------------------------------

proptest! {
    #![proptest_config(config(800))]

    /// The cluster file: config::parse, and for a valid file the plan, its
    /// failure matrix and balance.
    #[test]
    fn cluster_file(bytes in input(cluster_seeds(), TOML_TOKENS)) {
        let src = text(&bytes);
        let path = example_dir().join("fuzz.toml");
        bounded("cluster file", src.len(), 4096, mib(4), || {
            match carpctl::config::parse(&src, &path, Some(0o600)) {
                Ok(cfg) => {
                    let plan = cfg.plan().expect("a valid file has a plan");
                    let m = carpctl::plan::FailureMatrix::new(&plan, cfg.cluster.preempt);
                    let _ = carpctl::plan::balance(&m);
                }
                Err(diags) => {
                    assert!(!diags.is_empty(), "an error without a diagnostic");
                    for d in &diags {
                        says_something("cluster file", &d.to_string());
                    }
                }
            }
        });
    }

    /// Scenario files (with the cluster files they name).
    #[test]
    fn scenario_file(bytes in input(scenario_seeds(), SCENARIO_TOKENS)) {
        let src = text(&bytes);
        let path = example_dir().join("fuzz-scenario.toml");
        bounded("scenario", src.len(), 4096, mib(4), || {
            if let Err(diags) = carpctl::sim::scenario::parse(&src, &path) {
                assert!(!diags.is_empty(), "an error without a diagnostic");
                for d in &diags {
                    says_something("scenario", &d.to_string());
                }
            }
        });
    }

    /// rc.conf through lint (alone, and as two nodes of one cluster) and
    /// through import.
    #[test]
    fn rc_conf(a in input(rc_seeds(), SH_TOKENS), b in input(rc_seeds(), SH_TOKENS)) {
        let (a, b) = (text(&a), text(&b));
        let len = a.len() + b.len();
        bounded("lint rc.conf", len, 512, mib(4), || {
            let inputs = [Input::new("a/etc/rc.conf", a.clone()), Input::new("b/etc/rc.conf", b.clone())];
            for f in lint::lint(&inputs[..1], &Options::default()) {
                says_something("lint rc.conf", &f.message);
            }
            let _ = lint::lint(&inputs, &Options { cluster: true, ..Options::default() });
        });
        bounded("import", len, 512, mib(4), || {
            let nodes = [
                carpctl::migrate::ImportNode { name: Some("a".into()), path: "a.rc.conf".into(), text: a.clone() },
                carpctl::migrate::ImportNode { name: Some("b".into()), path: "b.rc.conf".into(), text: b.clone() },
            ];
            if let Err(e) = carpctl::migrate::import(&nodes, &Default::default()) {
                says_something("import", &e.to_string());
            }
        });
    }

    /// loader.conf and sysctl.conf through lint.
    #[test]
    fn loader_and_sysctl_conf(bytes in input(conf_seeds(), SH_TOKENS)) {
        let src = text(&bytes);
        bounded("lint loader.conf/sysctl.conf", src.len(), 512, mib(4), || {
            for name in ["loader.conf", "sysctl.conf"] {
                let _ = lint::lint(&[Input::new(name, src.clone())], &Options::default());
            }
        });
    }

    /// devd.conf through lint.
    #[test]
    fn devd_conf(bytes in input(devd_seeds(), DEVD_TOKENS)) {
        let src = text(&bytes);
        bounded("lint devd.conf", src.len(), 512, mib(16), || {
            for f in lint::lint(&[Input::new("devd.conf", src.clone())], &Options::default()) {
                says_something("lint devd.conf", &f.message);
            }
        });
    }
}

proptest! {
    #![proptest_config(config(5000))]

    /// devd event records, as read from /var/run/devd.seqpacket.pipe.
    #[test]
    fn devd_record(bytes in input(devd_record_seeds(), DEVD_RECORD_TOKENS)) {
        bounded("devd record", bytes.len(), 16, 64 << 10, || {
            if let Err(e) = carpctl::events::devd::parse_record(&bytes) {
                says_something("devd record", &e.to_string());
            }
        });
    }

    /// Netlink replies (what the kernel sends back) and requests (what the
    /// emulated kernel decodes).
    #[test]
    fn netlink_messages(bytes in input(netlink_seeds(), NETLINK_TOKENS)) {
        bounded("netlink", bytes.len(), 64, 64 << 10, || {
            for fam in [Some(FAM), None] {
                if let Err(e) = netlink::decode_replies(&bytes, fam) {
                    says_something("netlink reply", &e.to_string());
                }
            }
            if let Err(e) = netlink::decode_request(&bytes, FAM, MAX_ATTR) {
                says_something("netlink request", &e.to_string());
            }
        });
    }

    /// SIOCGVH carpreq arrays and the other ioctl structures the kernel
    /// fills in, and getifaddrs(3) entries.
    #[test]
    fn ioctl_and_getifaddrs(
        bytes in input(ifreq_seeds(), IFREQ_TOKENS),
        count in 0usize..64,
        entries in proptest::collection::vec(
            (
                "[a-z0-9.]{0,20}",
                any::<u32>(),
                proptest::option::of(input(ifreq_seeds(), IFREQ_TOKENS)),
                proptest::option::of(input(ifreq_seeds(), IFREQ_TOKENS)),
                proptest::option::of(input(ifreq_seeds(), IFREQ_TOKENS)),
            ),
            0..6,
        ),
    ) {
        bounded("ioctl", bytes.len(), 64, 64 << 10, || {
            let results = [
                ioctl::decode_carpreqs(&bytes, count).map(drop),
                ioctl::decode_in_aliasreq(&bytes).map(drop),
                ioctl::decode_in6_aliasreq(&bytes).map(drop),
                ioctl::decode_ifreq_addr(&bytes).map(drop),
                ioctl::decode_ifreq_addr_or_any(&bytes).map(drop),
                ioctl::decode_in6_ifreq_addr(&bytes).map(drop),
                ioctl::decode_ifname(&bytes).map(drop),
            ];
            for r in results {
                if let Err(e) = r {
                    says_something("ioctl", &e.to_string());
                }
            }
        });
        let raw: Vec<RawIfaddr> = entries
            .into_iter()
            .map(|(name, flags, addr, netmask, data)| RawIfaddr { name, flags, addr, netmask, data })
            .collect();
        let len: usize = raw
            .iter()
            .map(|r| r.name.len() + [&r.addr, &r.netmask, &r.data].iter().map(|b| b.as_ref().map_or(0, Vec::len)).sum::<usize>())
            .sum();
        bounded("getifaddrs", len, 64, 64 << 10, || {
            if let Err(e) = ifaddrs::decode(&raw) {
                says_something("getifaddrs", &e.to_string());
            }
        });
    }

    /// Frames off the wire: Ethernet, IPv4/IPv6, ARP, CARP and VRRPv3, and
    /// the kernel's receive checks against a CARP and a VRRP vhid.
    #[test]
    fn carp_and_vrrp_frames(bytes in input(frame_seeds(), FRAME_TOKENS)) {
        static AUTH: OnceLock<CarpAuth> = OnceLock::new();
        let auth = AUTH.get_or_init(|| CarpAuth::new(b"testpass", 1, &frame_addrs()).unwrap());
        bounded("frame", bytes.len(), 64, 64 << 10, || {
            match wire::decode_frame(&bytes) {
                Ok(frame) => {
                    if let Payload::Ip(pkt) = &frame.payload {
                        for multicast in [true, false] {
                            let _ = wire::receive(pkt, |_| Some(Receiver::Carp { auth, multicast }));
                        }
                        let _ = wire::receive(pkt, |_| Some(Receiver::Vrrp));
                        let _ = wire::receive(pkt, |_| None);
                    }
                }
                Err(e) => says_something("frame", &e.to_string()),
            }
        });
    }

    /// `carpctl scan`'s decoder (every link type, VLAN tags from the
    /// kernel or in the frame, IPv6 extension headers, VRRPv2), then the
    /// tracker and the report over what it decoded: a frame is an
    /// advertisement, nothing, or an error that names what is wrong.
    #[test]
    fn scan_decoder(
        frames in proptest::collection::vec((input(scan_frame_seeds(), SCAN_TOKENS), any::<u8>(), proptest::option::of(any::<u16>()), -1e10f64..1e10), 1..6),
    ) {
        let len: usize = frames.iter().map(|f| f.0.len()).sum();
        bounded("scan decoder", len, 256, 1 << 20, || {
            let mut s = Scanner::live(None);
            for (bytes, l, vlan, time) in &frames {
                match decode(link(*l), bytes, *vlan) {
                    Ok(_) => {}
                    Err(e) => says_something("scan decode", &e.to_string()),
                }
                s.frame("em0", &Frame { time: *time, link: link(*l), iface: "em0", data: bytes, vlan: *vlan });
            }
            let r = s.report(SourceInfo::default());
            assert_eq!(r.counts.frames, frames.len() as u64);
            for f in &r.findings {
                says_something("scan finding", &f.message);
            }
        });
    }

    /// Capture files (pcap and pcapng) read to the end or to an error
    /// that names the file and the frame; memory stays within pcap-file's
    /// fixed 8 MB buffer and the tracker's caps.
    #[test]
    fn scan_capture_files(bytes in input(capture_seeds(), CAPTURE_TOKENS)) {
        bounded("capture file", bytes.len(), 256, mib(24), || {
            let mut src = match PcapFile::from_reader(Box::new(std::io::Cursor::new(bytes.clone())), "f.pcap".into()) {
                Ok(s) => s,
                Err(e) => {
                    says_something("capture file", &e.to_string());
                    return;
                }
            };
            let mut s = Scanner::new(None);
            loop {
                match src.poll(std::time::Duration::ZERO, &mut |f| s.frame(f.iface, &f)) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        let m = e.to_string();
                        says_something("capture frame", &m);
                        assert!(m.starts_with("f.pcap"), "{m}");
                        break;
                    }
                }
            }
            let _ = s.report(SourceInfo::default());
        });
    }
}

/// The scan seeds are what they claim: every frame but the ARP one decodes
/// to an advertisement, and both capture files hold all of them.
#[test]
fn scan_seeds_are_advertisements() {
    let seeds = scan_frame_seeds();
    let ads = seeds
        .iter()
        .filter(|f| matches!(decode(LinkType::Ethernet, f, None), Ok(Some(_))))
        .count();
    assert_eq!(ads, seeds.len() - 1, "one seed is ARP");
    for file in capture_seeds() {
        let mut src =
            PcapFile::from_reader(Box::new(std::io::Cursor::new(file.clone())), "f".into())
                .unwrap();
        let mut s = Scanner::new(None);
        while src
            .poll(std::time::Duration::ZERO, &mut |f| s.frame(f.iface, &f))
            .unwrap()
        {}
        assert_eq!(s.tracker.stats.frames, seeds.len() as u64);
        assert_eq!(s.tracker.stats.advertisements, ads as u64);
    }
}
