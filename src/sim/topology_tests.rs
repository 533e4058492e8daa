//! Issue 12 item 6: unicast advertisements routed between two subnets by
//! a `[[router]]`, with TTL and hop limit decremented, the nodes' default
//! routes (`gateway`), and clients placed on the router; and the mistakes
//! in those keys.

use super::tests::{errors, load, run_capture};
use super::*;

/// FreeBSD's `unicast_v4`/`unicast_v6` layout (carp.sh @ ba0fe1dd): two
/// nodes in two subnets of one bridge, each with a default route via the
/// router's address in its subnet, a unicast VIP whose peers are each
/// other's addresses, the clients on the router. `gateways`: per node
/// the `gateway = [...]` line (empty: none).
pub(super) fn routed(
    flavor: &str,
    v6: bool,
    gateways: [&str; 2],
    router: &str,
    expects: &str,
    exact: bool,
) -> (tests::Files, Scenario) {
    let (own, vip, rtr) = if v6 {
        (
            ["2001:db8:1::2", "2001:db8:2::2"],
            "2001:db8::1/64",
            r#"["2001:db8::4/64", "2001:db8:1::1/64", "2001:db8:2::1/64"]"#,
        )
    } else {
        (
            ["198.51.100.2", "198.51.100.130"],
            "192.0.2.1/29",
            r#"["192.0.2.4/29", "198.51.100.1/25", "198.51.100.129/25"]"#,
        )
    };
    let len = if v6 { 64 } else { 25 };
    // `exact`: as carp.sh's jails, both advskew 0 and no password; else
    // ranked, with one.
    let (skews, pass) = if exact {
        ("advskew = { two = 0, three = 0 }\nallow_tie = true", "")
    } else {
        (
            "prefer = [\"two\", \"three\"]",
            "[passwords]\ncarp = \"foobar\"\n",
        )
    };
    let cluster = format!(
        "[cluster]\npreempt = true\nunicast = true\n\
         [[node]]\nname = \"two\"\naddresses = {{ em0 = [\"{}\"] }}\n\
         [[node]]\nname = \"three\"\naddresses = {{ em0 = [\"{}\"] }}\n\
         [[vip]]\nname = \"carp\"\nvhid = 1\ninterface = \"em0\"\naddresses = [\"{vip}\"]\n\
         {skews}\n",
        own[0], own[1]
    );
    let router = if router.is_empty() { rtr } else { router };
    let scenario = format!(
        "cluster = \"cluster.toml\"\nduration = 30\nfreebsd = \"{flavor}\"\n\
         {pass}[clients]\nat = \"router\"\n\
         [[router]]\nname = \"router\"\ninterfaces = {{ em0 = {router} }}\n\
         [[node]]\nname = \"two\"\ninterfaces = {{ em0 = [\"{}/{len}\"] }}\n{}\n\
         [[node]]\nname = \"three\"\nup = false\ninterfaces = {{ em0 = [\"{}/{len}\"] }}\n{}\n\
         [[event]]\nat = 0.5\naction = \"boot\"\nnode = \"three\"\n{expects}",
        own[0], gateways[0], own[1], gateways[1]
    );
    load(&cluster, &scenario)
}

const GW4: [&str; 2] = [
    "gateway = [\"198.51.100.1\"]",
    "gateway = [\"198.51.100.129\"]",
];
const GW6: [&str; 2] = [
    "gateway = [\"2001:db8:1::1\"]",
    "gateway = [\"2001:db8:2::1\"]",
];

/// The protocol-112 frames of the capture: (source MAC, TTL or hop limit).
fn ads_with_ttl(cap: &tests::Capture) -> Vec<(String, u8)> {
    tests::ip_frames(cap, |_, eth, ip| {
        (ip.header.protocol() == 112).then(|| (eth.src.to_string(), ip.header.ttl()))
    })
}

/// Routed through the router, each advertisement is on the wire twice:
/// from its node with TTL 255, then from the router with 254, and the
/// peer accepts it (unicast CARP checks no TTL, `carp_input_c()`, 14+):
/// one MASTER, and the VIP answers the router.
#[test]
fn unicast_advertisements_are_routed_with_the_ttl_decremented() {
    let expects = "[[expect]]\nno_dual_master = true\n\
                   [[expect]]\nmaster = \"two\"\nvip = \"carp\"\nat = 30\n\
                   [[expect]]\nlongest_outage_below = 0.001\nfrom = 5\n";
    for (v6, gw) in [(false, GW4), (true, GW6)] {
        let (_f, sc) = routed("14", v6, gw, "", expects, false);
        let (r, cap) = run_capture(&sc);
        let not: Vec<_> = r.expectations.iter().filter(|e| !e.met).collect();
        assert!(not.is_empty(), "v6 {v6}: {not:?}\n{}", r.to_text());
        assert!(r.vips[0].first_served.is_some());
        let ads = ads_with_ttl(&cap);
        let from_router = ads.iter().filter(|(m, _)| m.starts_with("02:01")).count();
        assert!(from_router > 10, "{ads:?}");
        assert!(
            ads.iter()
                .all(|(m, t)| (*t == 254) == m.starts_with("02:01")),
            "{ads:?}"
        );
        assert_eq!(
            ads.iter().filter(|(m, _)| !m.starts_with("02:01")).count(),
            from_router
        );
        assert!(r.to_text().contains("clients on router router"));
        assert_eq!(serde_json::to_value(&r).unwrap()["clients_at"], "router");
    }
}

/// Without a default route the peer is unreachable (FreeBSD's
/// `EHOSTUNREACH`): nothing arrives and both nodes are MASTER.
#[test]
fn without_a_gateway_unicast_advertisements_go_nowhere() {
    let expects = "[[expect]]\nno_dual_master = false\n";
    let (_f, sc) = routed("14", false, ["", ""], "", expects, false);
    let (r, cap) = run_capture(&sc);
    assert!(r.expectations[0].met, "{}", r.to_text());
    assert!(
        ads_with_ttl(&cap)
            .iter()
            .all(|(m, _)| !m.starts_with("02:01"))
    );
}

/// Clients on a router with no address on the VIP's subnet never reach
/// it; with one, they do.
#[test]
fn clients_on_a_router_reach_only_vips_on_its_subnets() {
    let far = r#"["198.51.100.1/25", "198.51.100.129/25"]"#;
    let (_f, sc) = routed("14", false, GW4, far, "", false);
    let r = run(&sc, None).unwrap();
    assert!(r.vips[0].first_served.is_none(), "{}", r.to_text());
    let (_f, sc) = routed("14", false, GW4, "", "", false);
    assert!(run(&sc, None).unwrap().vips[0].first_served.is_some());
}

/// The forwarded copy of a frame: TTL 1 is not forwarded; otherwise one
/// less with a valid IPv4 header checksum; the hop limit likewise.
#[test]
fn forwarding_decrements_ttl_and_keeps_the_checksum_valid() {
    let mut v4 = vec![0u8; 14 + 20];
    v4[12..14].copy_from_slice(&[8, 0]);
    v4[14] = 0x45;
    v4[14 + 8] = 255;
    v4[14 + 9] = 112;
    v4[14 + 12..14 + 16].copy_from_slice(&[198, 51, 100, 2]);
    v4[14 + 16..14 + 20].copy_from_slice(&[198, 51, 100, 130]);
    assert!(segment::decrement_hop_limit(&mut v4));
    assert_eq!(v4[14 + 8], 254);
    let sum: u32 = v4[14..34]
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    assert_eq!((sum & 0xffff) + (sum >> 16), 0xffff, "checksum");
    v4[14 + 8] = 1;
    assert!(!segment::decrement_hop_limit(&mut v4));
    let mut v6 = vec![0u8; 14 + 40];
    v6[12..14].copy_from_slice(&[0x86, 0xdd]);
    v6[14 + 7] = 255;
    assert!(segment::decrement_hop_limit(&mut v6));
    assert_eq!(v6[14 + 7], 254);
    assert!(!segment::decrement_hop_limit(&mut [0u8; 10]));
}

/// Every mistake in `[[router]]`, `gateway` and `[clients] at`, with its
/// place and key.
#[test]
fn bad_routers_and_gateways_are_refused_with_their_place() {
    let c = "[cluster]\npreempt = true\n[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n\
             [[vip]]\nname = \"web\"\nvhid = 7\ninterface = \"em0\"\n\
             addresses = [\"192.0.2.100/32\"]\nprefer = [\"a\", \"b\"]\n";
    let s = |a_extra: &str, rest: &str| {
        format!(
            "cluster = \"cluster.toml\"\nduration = 30\n[passwords]\nweb = \"s3cret\"\n\
             [[node]]\nname = \"a\"\ninterfaces = {{ em0 = [\"192.0.2.1/24\", \"2001:db8::1/64\"] }}\n{a_extra}\n\
             [[node]]\nname = \"b\"\ninterfaces = {{ em0 = [\"192.0.2.2/24\"] }}\n{rest}"
        )
    };
    let cases: &[(&str, &str, &str)] = &[
        (
            "gateway = [\"10.0.0.1\"]",
            "",
            "node \"a\": gateway 10.0.0.1 is on none of the node's prefixes",
        ),
        (
            "gateway = [\"192.0.2.1\"]",
            "",
            "gateway 192.0.2.1 is the node's own address",
        ),
        (
            "gateway = [\"192.0.2.9\", \"192.0.2.8\"]",
            "",
            "192.0.2.8: a second gateway of the same family",
        ),
        (
            "gateway = [\"192.0.2.9/24\"]",
            "",
            "gateway \"192.0.2.9/24\" is not an address",
        ),
        (
            "",
            "[[router]]\nname = \"a\"\ninterfaces = { em0 = [\"192.0.2.4/24\"] }\n",
            "router[0]: name \"a\" is taken",
        ),
        (
            "",
            "[[router]]\nname = \"r\"\n",
            "router \"r\": interfaces is missing",
        ),
        (
            "",
            "[[router]]\nname = \"r\"\ninterfaces = { em0 = [\"192.0.2.4\"] }\n",
            "router \"r\": \"192.0.2.4\" is not an address with a prefix length",
        ),
        (
            "",
            "[clients]\nat = \"r\"\n",
            "clients.at: \"r\" is not a [[router]] of this scenario (routers: none)",
        ),
    ];
    for (a_extra, rest, needle) in cases {
        let e = errors(c, &s(a_extra, rest));
        let placed = e
            .iter()
            .any(|m| m.contains("scenario.toml:") && m.contains(needle));
        assert!(placed, "{needle}: {e:?}");
    }
    let many: String = (0..=limits::MAX_ROUTERS)
        .map(|i| {
            format!("[[router]]\nname = \"r{i}\"\ninterfaces = {{ em{i} = [\"10.{i}.0.1/24\"] }}\n")
        })
        .collect();
    let e = errors(c, &s("", &many));
    assert!(
        e.iter()
            .any(|m| m.contains("router[8]: too many routers (9)")),
        "{e:?}"
    );
}
