//! Tests of the election keys (issue 12 items 1 and 2,
//! docs/design-unicast-vrrp.md): `protocol`, `unicast`, `interval` in
//! `[cluster]` and `[[vip]]`, `[[node]] addresses`, their rules, and how
//! `Config::plan` uses `plan::unicast` and `plan::vrrp`.

use super::testutil::*;
use crate::config::*;
use crate::model::Protocol;

/// Nodes a, b, c with addresses on `lan`; `cluster` goes into `[cluster]`,
/// `vips` after the nodes.
pub(super) fn three(cluster: &str, vips: &str) -> String {
    format!(
        "[cluster]\n{cluster}\n\
         [[node]]\nname = \"a\"\naddresses = {{ lan = [\"192.0.2.1\", \"fe80::a\"] }}\n\
         [[node]]\nname = \"b\"\naddresses = {{ lan = [\"192.0.2.2\", \"fe80::b\"] }}\n\
         [[node]]\nname = \"c\"\naddresses = {{ lan = [\"192.0.2.3\", \"fe80::c\"] }}\n\
         {vips}"
    )
}

/// A VIP named `name` with vhid `vhid` on `lan`; `extra` is added.
pub(super) fn vip(name: &str, vhid: u8, extra: &str) -> String {
    format!(
        "[[vip]]\nname = \"{name}\"\nvhid = {vhid}\ninterface = \"lan\"\n\
         addresses = [\"198.51.100.{vhid}/32\"]\n{extra}\n"
    )
}

/// The only error of `text`: at the first `at` (at its value when `at` is
/// `key = value`), with key `key`; returns its text.
pub(super) fn only_error(text: &str, at: &str, key: &str) -> String {
    let f = Fixture::new(text, 0o600);
    let diags = f.load_only().expect_err("must fail");
    let errors: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{:#?}", strings(&diags));
    let e = errors[0].to_string();
    let (line, col) = line_col(text, at)
        .split_once(':')
        .map(|(l, c)| (l.to_string(), c.parse::<usize>().unwrap()))
        .unwrap();
    let col = col + at.find(" = ").map_or(0, |i| i + 3);
    let want = format!("{}:{line}:{col}: ", f.path.display());
    assert!(e.starts_with(&want), "want {want} in {e}");
    assert_eq!(errors[0].key.as_deref(), Some(key), "{e}");
    e
}

pub(super) fn loads(text: &str) -> Config {
    Fixture::new(text, 0o600)
        .load_only()
        .unwrap_or_else(|d| panic!("{:#?}", strings(&d)))
}

// ----- good input ----------------------------------------------------------

#[test]
fn vrrp_from_the_cluster_gets_priorities_from_rank_and_no_password_warning() {
    let text = three(
        "protocol = \"vrrp\"\ninterval = 10",
        &vip("web", 1, "prefer = [\"b\", \"a\"]"),
    );
    let cfg = loads(&text);
    assert!(cfg.warnings.is_empty(), "{:#?}", strings(&cfg.warnings));
    let v = &cfg.vips[0];
    assert_eq!(
        (v.protocol, v.interval, v.unicast),
        (Protocol::Vrrpv3, 10, false)
    );
    let p = cfg.plan().unwrap();
    let vrrp = p.vips[0].vrrp.as_ref().expect("a VRRP plan");
    assert_eq!(vrrp.interval, 10);
    // 254 − rank × ⌈256/10⌉ (plan::vrrp).
    let prio: Vec<(&str, u8)> = vrrp
        .priority
        .iter()
        .map(|(n, p)| (n.as_str(), *p))
        .collect();
    assert_eq!(prio, [("a", 228), ("b", 254)]);
    assert_eq!(p.vips[0].protocol, Protocol::Vrrpv3);
}

#[test]
fn a_vip_overrides_the_cluster_protocol_and_the_interval_defaults_to_freebsds() {
    let text = three(
        "",
        &(vip("web", 1, "protocol = \"vrrp\"") + &vip("db", 2, "")),
    );
    let cfg = loads(&text);
    assert_eq!(cfg.vips[0].protocol, Protocol::Vrrpv3);
    assert_eq!(
        cfg.vips[0].interval,
        crate::plan::vrrp::FREEBSD_DEFAULT_INTERVAL
    );
    assert_eq!(cfg.vips[1].protocol, Protocol::Carp);
    let p = cfg.plan().unwrap();
    assert!(p.vips[0].vrrp.is_some());
    assert!(p.vips[1].vrrp.is_none());
}

#[test]
fn unicast_vips_are_planned_as_pairs_and_multicast_ones_as_before() {
    // Two multicast VIPs between three unicast ones: the multicast orders
    // must be those of a file holding only the multicast VIPs.
    let u = "unicast = true\npassword = \"pw\"";
    let m = "password = \"pw\"";
    let vips = [
        vip("u1", 1, u),
        vip("m1", 2, m),
        vip("u2", 3, u),
        vip("m2", 4, m),
        vip("u3", 5, &format!("{u}\nprefer = [\"c\"]")),
    ]
    .concat();
    let cfg = loads(&three("", &vips));
    let p = cfg.plan().unwrap();
    let names: Vec<&str> = p.vips.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["u1", "m1", "u2", "m2", "u3"]);
    let only_multicast = loads(&three("", &(vip("m1", 2, m) + &vip("m2", 4, m))));
    let alone = only_multicast.plan().unwrap();
    assert_eq!(p.vips[1], alone.vips[0]);
    assert_eq!(p.vips[3], alone.vips[1]);
    for (i, v) in p.vips.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        assert!(v.unicast, "{}", v.name);
        assert_eq!(v.order.len(), 2, "{}", v.name);
        assert_ne!(v.order[0], v.order[1]);
        assert_eq!(
            v.advskew_of(&v.order[1]).map(|s| s.get()),
            Some(4),
            "vip {i}"
        );
    }
    // Round-robin masters continuing after the multicast ones (m1 -> a,
    // m2 -> b): u1 -> c, u2 -> a; u3 is c's by prefer.
    assert_eq!(
        (p.vips[0].order[0].as_str(), p.vips[2].order[0].as_str()),
        ("c", "a")
    );
    assert_eq!(p.vips[4].order[0], "c");
    // The backup the plan picked for u3 takes part in it.
    assert!(cfg.vips[4].takes_part(&p.vips[4].order[1]));
}

#[test]
fn a_file_without_the_new_keys_plans_to_the_same_json() {
    let cfg = loads(&three("", &vip("m1", 2, "password = \"pw\"")));
    let json = serde_json::to_string(&cfg.plan().unwrap()).unwrap();
    for key in ["protocol", "unicast", "vrrp"] {
        assert!(!json.contains(key), "{key} in {json}");
    }
}

#[test]
fn node_addresses_are_read_per_interface_link_local_without_zone() {
    let cfg = loads(&three("", &vip("m1", 2, "password = \"pw\"")));
    let a = cfg.nodes[0].addresses.get("lan").copied().unwrap();
    assert_eq!(a.v4, Some("192.0.2.1".parse().unwrap()));
    assert_eq!(a.v6, Some("fe80::a".parse().unwrap()));
}

// ----- bad input ------------------------------------------------------------

#[test]
fn a_password_on_a_vrrp_vip_is_refused_without_quoting_it() {
    let text = three(
        "",
        &vip("web", 1, "protocol = \"vrrp\"\npassword = \"s3cr3t-pw\""),
    );
    let e = only_error(&text, "password = \"s3cr3t", "vip[0].password");
    assert!(e.contains("no authentication"), "{e}");
    assert!(!e.contains("s3cr3t"), "{e}");
}

#[test]
fn a_password_file_on_a_vrrp_vip_is_refused() {
    let text = three(
        "protocol = \"vrrp\"",
        &vip("web", 1, "password_file = \"k\""),
    );
    only_error(&text, "password_file = ", "vip[0].password_file");
}

#[test]
fn advbase_on_a_vrrp_vip_is_refused() {
    let text = three("protocol = \"vrrp\"", &vip("web", 1, "advbase = 2"));
    let e = only_error(&text, "advbase = ", "vip[0].advbase");
    assert!(e.contains("centiseconds"), "{e}");
}

#[test]
fn interval_without_vrrp_is_refused_in_a_vip_and_in_the_cluster() {
    let text = three("", &vip("web", 1, "password = \"pw\"\ninterval = 10"));
    only_error(&text, "interval = 10", "vip[0].interval");
    let text = three("interval = 10", &vip("web", 1, "password = \"pw\""));
    only_error(&text, "interval = 10", "cluster.interval");
}

#[test]
fn an_interval_out_of_range_is_refused() {
    for bad in ["0", "4096", "-1"] {
        let text = three(
            "protocol = \"vrrp\"",
            &vip("web", 1, &format!("interval = {bad}")),
        );
        let e = only_error(&text, &format!("interval = {bad}"), "vip[0].interval");
        assert!(e.contains("4095"), "{e}");
    }
}

#[test]
fn an_unknown_protocol_is_refused() {
    let text = three(
        "",
        &vip("web", 1, "password = \"pw\"\nprotocol = \"vrrp2\""),
    );
    only_error(&text, "protocol = ", "vip[0].protocol");
    let text = three("protocol = \"CARP\"", &vip("web", 1, "password = \"pw\""));
    only_error(&text, "protocol = ", "cluster.protocol");
}

#[test]
fn a_unicast_vip_naming_three_nodes_is_refused() {
    let text = three(
        "unicast = true",
        &vip(
            "web",
            1,
            "password = \"pw\"\nprefer = [\"a\", \"b\", \"c\"]",
        ),
    );
    let e = only_error(&text, "prefer = ", "vip[0].prefer");
    assert!(e.contains("exactly one peer"), "{e}");
}

#[test]
fn a_unicast_vip_needs_its_members_addresses_of_its_families() {
    // b has no IPv4 address on lan; c is not a member.
    let text = three(
        "",
        &vip(
            "web",
            1,
            "password = \"pw\"\nunicast = true\nprefer = [\"a\", \"b\"]",
        ),
    )
    .replace("[\"192.0.2.2\", \"fe80::b\"]", "[\"fe80::b\"]")
    .replace("[\"192.0.2.3\", \"fe80::c\"]", "[]");
    let e = only_error(&text, "unicast = true", "vip[0].unicast");
    assert!(e.contains("b (IPv4)") && !e.contains("c ("), "{e}");
}

#[test]
fn unicast_in_a_one_node_cluster_is_refused() {
    let text = format!(
        "[[node]]\nname = \"a\"\n{}",
        vip("web", 1, "password = \"pw\"\nunicast = true")
    );
    only_error(&text, "unicast = true", "vip[0].unicast");
}

#[test]
fn unicast_vrrp_is_refused_until_confirmed() {
    let text = three("protocol = \"vrrp\"", &vip("web", 1, "unicast = true"));
    only_error(&text, "unicast = true", "vip[0].unicast");
}

#[test]
fn a_vrrp_interval_too_short_for_its_members_is_refused() {
    // interval 1 cs tells one rank apart (plan::vrrp::max_ranks).
    let text = three("protocol = \"vrrp\"", &vip("web", 1, "interval = 1"));
    let e = only_error(&text, "interval = ", "vip[0].interval");
    assert!(e.contains("3 nodes take part"), "{e}");
}

#[test]
fn bad_node_addresses_are_refused() {
    for (bad, want) in [
        ("fe80::a%em0", "zone"),
        ("192.0.2.9/24", "prefix length"),
        ("224.0.0.18", "multicast"),
        ("not-an-ip", "not an IPv4 or IPv6"),
    ] {
        let text = three("", &vip("m", 1, "password = \"pw\""))
            .replace("\"fe80::a\"", &format!("\"{bad}\""));
        let e = only_error(&text, &format!("\"{bad}\""), "node[0].addresses.lan[1]");
        assert!(e.contains(want), "{e}");
    }
    let text = three("", &vip("m", 1, "password = \"pw\"")).replace("\"fe80::a\"", "\"192.0.2.7\"");
    let e = only_error(&text, "\"192.0.2.7", "node[0].addresses.lan[1]");
    assert!(e.contains("second IPv4"), "{e}");
}

#[test]
fn desired_state_carries_protocol_peers_and_this_nodes_vrrp_priority() {
    let vips = [
        vip(
            "web",
            1,
            "password = \"pw\"\nunicast = true\nprefer = [\"a\", \"b\"]",
        )
        .replace(
            "\"198.51.100.1/32\"",
            "\"198.51.100.1/32\", \"2001:db8::1/128\"",
        ),
        vip(
            "vr",
            2,
            "protocol = \"vrrp\"\ninterval = 50\nprefer = [\"b\", \"a\", \"c\"]",
        ),
    ]
    .concat();
    let text = three("", &vips).replace(
        "name = \"a\"\n",
        "name = \"a\"\ninterfaces = { lan = \"em0\" }\n",
    );
    let cfg = loads(&text);
    let d = desired_state(&cfg, "a", &[iface("em0", &["192.0.2.1/24"])]).unwrap();
    let web = &d.vips[0];
    assert_eq!(web.protocol, Protocol::Carp);
    assert_eq!(web.peer, Some("192.0.2.2".parse().unwrap()));
    // b's link-local address, scoped to a's own real interface.
    let p6 = web.peer6.as_ref().unwrap();
    assert_eq!(p6.to_string(), "fe80::b%em0");
    assert_eq!(p6.addr, "fe80::b".parse::<std::net::Ipv6Addr>().unwrap());
    assert_eq!(web.vrrp, None);
    let vr = &d.vips[1];
    assert_eq!(vr.protocol, Protocol::Vrrpv3);
    assert_eq!((vr.peer, vr.peer6.clone()), (None, None));
    let plan = cfg.plan().unwrap();
    let want = plan.vips[1].vrrp.as_ref().unwrap().priority["a"];
    assert_eq!(
        vr.vrrp,
        Some(DesiredVrrp {
            priority: want,
            interval: 50
        })
    );
    // Rank 1 of three: below b's 254, above c's.
    assert!(want < 254 && want > plan.vips[1].vrrp.as_ref().unwrap().priority["c"]);
    // b's peer is a's address; b has no interface mapping, so its zone is
    // the logical name taken as real.
    let d = desired_state(&cfg, "b", &[iface("lan", &["192.0.2.2/24"])]).unwrap();
    assert_eq!(d.vips[0].peer, Some("192.0.2.1".parse().unwrap()));
    assert_eq!(d.vips[0].peer6.as_ref().unwrap().to_string(), "fe80::a%lan");
}

#[test]
fn unicast_masters_continue_the_multicast_rotation() {
    // One balanced multicast VIP (master a) and two balanced unicast ones:
    // together round-robin, each node first for one.
    let vips = [
        vip("m1", 1, "password = \"pw\""),
        vip("u1", 2, "password = \"pw\"\nunicast = true"),
        vip("u2", 3, "password = \"pw\"\nunicast = true"),
    ]
    .concat();
    let p = loads(&three("", &vips)).plan().unwrap();
    let firsts: Vec<&str> = p.vips.iter().map(|v| v.order[0].as_str()).collect();
    assert_eq!(firsts, ["a", "b", "c"]);
}

#[test]
fn a_node_address_that_is_a_vip_or_another_nodes_is_refused() {
    let base = three("", &vip("m", 1, "password = \"pw\""));
    // 198.51.100.1 is the VIP's address.
    let text = base.replace("\"192.0.2.2\"", "\"198.51.100.1\"");
    let e = only_error(&text, "\"198.51.100.1\"", "node[1].addresses.lan[0]");
    assert!(e.contains("vip \"m\""), "{e}");
    let text = base.replace("\"192.0.2.3\"", "\"192.0.2.1\"");
    let f = Fixture::new(&text, 0o600);
    let d = f.load_only().expect_err("must fail");
    let keys: Vec<Option<&str>> = d.iter().map(|d| d.key.as_deref()).collect();
    assert_eq!(
        keys,
        [Some("node[2].addresses.lan[0]")],
        "{:#?}",
        strings(&d)
    );
    assert!(d[0].message.contains("also node \"a\"'s"), "{}", d[0]);
}

#[test]
fn a_unicast_vip_preferring_only_its_master_counts_only_its_pair_as_members() {
    // u names only a; the plan picks its backup; the third node is no
    // member (it used to be counted as one: its keys read, its plan shown).
    let cfg = loads(&three(
        "",
        &vip(
            "u",
            1,
            "password = \"pw\"\nunicast = true\nprefer = [\"a\"]",
        ),
    ));
    let p = cfg.plan().unwrap();
    let order = &p.vips[0].order;
    assert_eq!(order[0], "a");
    for n in ["a", "b", "c"] {
        assert_eq!(
            cfg.vips[0].takes_part(n),
            order.iter().any(|o| o == n),
            "{n} in {order:?}"
        );
    }
}
