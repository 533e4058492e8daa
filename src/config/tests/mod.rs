//! Tests of the cluster file: every rule with a failing and a passing input,
//! the seed scenario, node selection, resolving, and secrets.

use std::path::Path;

use proptest::prelude::*;

use super::*;
use crate::model::{AdvSkew, CarpState};
use testutil::*;

mod election;
mod ops;
mod pinned;
pub(crate) mod testutil;
mod trust;
mod validation;

fn assert_clean(f: &Fixture) {
    let w = f.warnings();
    assert!(w.is_empty(), "unexpected warnings {w:#?}");
}

// ----- the seed scenario --------------------------------------------------

#[test]
fn seed_loads_cleanly() {
    let f = seed();
    let cfg = f.load().unwrap_or_else(|d| panic!("{:#?}", strings(&d)));
    assert!(cfg.warnings.is_empty(), "{:#?}", strings(&cfg.warnings));
    assert!(cfg.cluster.preempt);
    assert_eq!(cfg.cluster.advbase.get(), 1);
    assert_eq!(cfg.cluster.advskew_step, 4);
    assert_eq!(cfg.node_names(), ["mail-a", "mail-b"]);
    assert_eq!(cfg.nodes[0].real_interface("lan"), "em0");
    assert_eq!(cfg.nodes[1].real_interface("lan"), "igb0");
    let names: Vec<&str> = cfg.vips.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["mail1", "mail2"]);
    assert_eq!(cfg.vips[1].addresses.len(), 2);
    // One trailing newline is stripped from a key file.
    assert_eq!(key_bytes(&cfg, 0), b"mail1-secret-0001");
    assert_eq!(key_bytes(&cfg, 1), b"mail2-secret-0002");
}

#[test]
fn seed_resolves_for_mail_a_on_em0() {
    let f = seed();
    let cfg = f.load().unwrap();
    let ifs = [
        iface("em0", &["192.168.1.3/24"]),
        iface("lo0", &["127.0.0.1/8"]),
    ];
    let d = desired_state(&cfg, "mail-a", &ifs).unwrap_or_else(|e| panic!("{:#?}", strings(&e)));
    assert_eq!(d.node, "mail-a");
    assert!(d.preempt);
    assert_eq!(d.vips.len(), 2);
    let m1 = d.find("em0", vhid(1)).expect("vhid 1 on em0");
    assert_eq!(
        (m1.name.as_str(), m1.rank, m1.advskew.get()),
        ("mail1", 0, 0)
    );
    assert_eq!(m1.state, CarpState::Master);
    assert_eq!(m1.logical_interface, "lan");
    assert_eq!(m1.advbase.get(), 1);
    assert_eq!(m1.addresses, ["192.168.1.50/32".parse::<IpNet>().unwrap()]);
    assert_eq!(
        m1.key
            .as_ref()
            .and_then(|k| k.key())
            .map(|k| k.as_bytes().to_vec()),
        Some(b"mail1-secret-0001".to_vec())
    );
    let m2 = d.find("em0", vhid(2)).expect("vhid 2 on em0");
    assert_eq!(
        (m2.name.as_str(), m2.rank, m2.advskew.get()),
        ("mail2", 1, 4)
    );
    assert_eq!(m2.state, CarpState::Backup);
    // 2001:db8::51 is outside em0's subnets: a warning, located at the address.
    assert_eq!(d.warnings.len(), 1, "{:#?}", strings(&d.warnings));
    let w = d.warnings[0].to_string();
    assert!(w.starts_with(&f.at("\"2001:db8::51/128\"")), "{w}");
    assert!(
        w.contains("warning: vip \"mail2\": address 2001:db8::51 is outside every subnet of em0"),
        "{w}"
    );
    assert!(w.contains("192.168.1.3/24") && w.contains("mail-a"), "{w}");
}

#[test]
fn seed_resolves_for_mail_b_on_igb0() {
    let f = seed();
    let cfg = f.load().unwrap();
    let ifs = [iface("igb0", &["192.168.1.4/24"])];
    let d = desired_state(&cfg, "mail-b", &ifs).unwrap_or_else(|e| panic!("{:#?}", strings(&e)));
    let m1 = d.find("igb0", vhid(1)).expect("vhid 1 on igb0");
    assert_eq!(
        (m1.rank, m1.advskew.get(), m1.state),
        (1, 4, CarpState::Backup)
    );
    let m2 = d.find("igb0", vhid(2)).expect("vhid 2 on igb0");
    assert_eq!(
        (m2.rank, m2.advskew.get(), m2.state),
        (0, 0, CarpState::Master)
    );
    assert!(d.find("em0", vhid(1)).is_none());
    assert_eq!(d.warnings.len(), 1);
}

#[test]
fn seed_plan_json() {
    let cfg = seed().load().unwrap();
    let p = cfg.plan().unwrap();
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        serde_json::json!({"nodes": ["mail-a", "mail-b"], "advskew_step": 4, "vips": [
            {"name": "mail1", "vhid": 1, "order": ["mail-a", "mail-b"],
             "advskew": {"mail-a": 0, "mail-b": 4}, "source": "prefer"},
            {"name": "mail2", "vhid": 2, "order": ["mail-b", "mail-a"],
             "advskew": {"mail-a": 4, "mail-b": 0}, "source": "prefer"}]})
    );
}

// ----- resolve ------------------------------------------------------------

#[test]
fn resolve_reports_a_missing_mapped_interface() {
    let f = seed();
    let cfg = f.load().unwrap();
    // mail-a maps lan to em0, but this host only has em1.
    let err = desired_state(&cfg, "mail-a", &[iface("em1", &["192.168.1.3/24"])]).unwrap_err();
    let e = strings(&err);
    assert_eq!(err.iter().filter(|d| d.is_error()).count(), 2, "{e:#?}");
    assert_one(
        &e,
        &f.at("\"lan\""),
        "vip \"mail1\": interface \"lan\" is \"em0\" on node mail-a",
    );
    assert!(e.iter().all(|m| !m.contains("mail1-secret")));
    assert!(
        e[0].contains("has no interface \"em0\" (it has: em1)"),
        "{e:#?}"
    );
}

#[test]
fn resolve_reports_an_unmapped_name_taken_as_real() {
    let f = Fixture::new(
        "[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\ninterfaces = { lan = \"igb0\" }\n\
         [[vip]]\nname = \"v\"\nvhid = 3\ninterface = \"lan\"\naddresses = [\"10.0.0.9/32\"]\n\
         password = \"pw\"\n",
        0o600,
    );
    let cfg = f.load().unwrap();
    let err = desired_state(&cfg, "a", &[iface("em0", &["10.0.0.1/24"])]).unwrap_err();
    let e = strings(&err);
    assert_one(
        &e,
        &f.at("\"lan\""),
        "vip \"v\": node a does not map interface \"lan\", so it is taken as a real name, \
         and this host has no interface \"lan\" (it has: em0)",
    );
    // An interface literally named "lan" is fine (the name is real on a).
    let d = desired_state(&cfg, "a", &[iface("lan", &["10.0.0.1/24"])]).unwrap();
    assert_eq!(d.vips[0].interface, "lan");
    assert!(d.warnings.is_empty());
}

#[test]
fn resolve_unknown_node_lists_known_ones() {
    let cfg = seed().load().unwrap();
    let e = strings(&desired_state(&cfg, "mail-c", &[]).unwrap_err());
    assert!(
        e[0].ends_with("node \"mail-c\" is not in this file; known nodes: mail-a, mail-b"),
        "{e:?}"
    );
}

#[test]
fn resolve_skips_vips_the_node_takes_no_part_in() {
    let f = Fixture::new(&(one_vip("prefer = [\"b\"]\n")), 0o600);
    let cfg = f.load().unwrap();
    let d = desired_state(&cfg, "a", &[iface("em0", &["192.0.2.9/24"])]).unwrap();
    assert!(d.vips.is_empty());
    let d = desired_state(&cfg, "b", &[iface("em0", &["192.0.2.9/24"])]).unwrap();
    assert_eq!(d.vips.len(), 1);
    assert_eq!(d.vips[0].state, CarpState::Master);
}

#[test]
fn resolve_address_inside_a_subnet_does_not_warn_but_carp_addresses_do_not_count() {
    let cfg = Fixture::new(&one_vip(""), 0o600).load().unwrap();
    let mut em0 = iface("em0", &["192.0.2.9/24"]);
    let d = desired_state(&cfg, "a", std::slice::from_ref(&em0)).unwrap();
    assert!(d.warnings.is_empty());
    // Only the interface's own addresses count, not another vhid's.
    em0.addresses[0].vhid = Some(vhid(9));
    let d = desired_state(&cfg, "a", &[em0]).unwrap();
    assert_eq!(d.warnings.len(), 1);
    assert!(
        d.warnings[0].to_string().contains("(it has none)"),
        "{:?}",
        d.warnings
    );
}

#[test]
fn desired_json_has_no_key() {
    let cfg = seed().load().unwrap();
    let d = desired_state(&cfg, "mail-a", &[iface("em0", &["192.168.1.3/24"])]).unwrap();
    let json = serde_json::to_string(&d).unwrap();
    assert!(
        !json.contains("mail1-secret") && !json.contains("\"key\":{"),
        "{json}"
    );
    assert!(json.contains("\"state\":\"MASTER\""), "{json}");
    let dbg = format!("{d:?}");
    assert!(
        !dbg.contains("mail1-secret") && dbg.contains("Key(<redacted>)"),
        "{dbg}"
    );
}

// ----- node selection ---------------------------------------------------------

#[test]
fn select_node_rules() {
    let cfg = seed().load().unwrap();
    // Explicit wins over the hostname.
    assert_eq!(
        select_node(&cfg, Some("mail-b"), "mail-a.example.com")
            .unwrap()
            .name,
        "mail-b"
    );
    // Else the short hostname.
    assert_eq!(
        select_node(&cfg, None, "mail-a.example.com").unwrap().name,
        "mail-a"
    );
    assert_eq!(select_node(&cfg, None, "mail-b").unwrap().name, "mail-b");
    assert_eq!(
        select_node(&cfg, None, "MAIL-B.example.com").unwrap().name,
        "mail-b"
    );
    let e = select_node(&cfg, Some("mail-c"), "mail-a")
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("node \"mail-c\" is not in this file; known nodes: mail-a, mail-b"),
        "{e}"
    );
    let e = select_node(&cfg, None, "web1.example.com")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("short name \"web1\" (hostname \"web1.example.com\")"),
        "{e}"
    );
    assert!(
        e.contains("--node NAME") && e.contains("known nodes: mail-a, mail-b"),
        "{e}"
    );
    let e = select_node(&cfg, None, "").unwrap_err().to_string();
    assert!(e.contains("hostname is empty"), "{e}");
}

// ----- loading ----------------------------------------------------------------

#[test]
fn unreadable_cluster_files() {
    let e = strings(&load(Path::new("/nonexistent/carpctl.toml")).unwrap_err());
    assert!(
        e[0].starts_with("/nonexistent/carpctl.toml: cannot read: "),
        "{e:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let e = strings(&load(dir.path()).unwrap_err());
    assert!(
        e[0].ends_with("is a directory, not a regular file"),
        "{e:?}"
    );
    let f = Fixture::new("", 0o600);
    std::fs::write(&f.path, b"[[node]]\nname = \"a\xff\"\n").unwrap();
    let e = f.errors();
    assert_eq!(
        e,
        [format!(
            "{}:2:10: the file is not valid UTF-8 (TOML must be)",
            f.path.display()
        )]
    );
}

#[test]
fn syntax_errors_are_located() {
    let f = Fixture::new("[[node]]\nname = \"a\"\nvhid = \n", 0o600);
    let e = f.errors();
    assert!(!e.is_empty());
    assert!(
        e.iter()
            .all(|m| m.starts_with(&format!("{}:3:", f.path.display()))),
        "{e:#?}"
    );
    assert!(e[0].contains("TOML syntax:"), "{e:#?}");
}

#[test]
fn vhid_out_of_range_message_is_exact() {
    // 13 lines before, so the value sits at line 14, column 8.
    let src = "[cluster]\npreempt = true\n\n[[node]]\nname = \"mail-a\"\n[[node]]\n\
               name = \"mail-b\"\n\n[[vip]]\nname = \"mail1\"\ninterface = \"em0\"\n\
               addresses = [\"192.168.1.50/32\"]\npassword = \"pw\"\nvhid = 300\n";
    let e = strings(&parse(src, Path::new("carpctl.toml"), Some(0o600)).unwrap_err());
    assert_eq!(
        e,
        ["carpctl.toml:14:8: vip \"mail1\": vhid 300 is out of range 1-255"]
    );
    let d = parse(src, Path::new("carpctl.toml"), Some(0o600)).unwrap_err();
    assert_eq!(d[0].key.as_deref(), Some("vip[0].vhid"));
}

#[test]
fn vhid_range_edges() {
    for bad in ["0", "256", "-1"] {
        let f = Fixture::new(
            &one_vip("").replace("vhid = 1", &format!("vhid = {bad}")),
            0o600,
        );
        assert_one(
            &f.errors(),
            &format!("{}:8:8: ", f.path.display()),
            &format!("vhid {bad} is out of range 1-255"),
        );
    }
    let f = Fixture::new(&one_vip("").replace("vhid = 1", "vhid = 255"), 0o600);
    assert_eq!(f.load().unwrap().vips[0].vhid.get(), 255);
}

#[test]
fn every_error_is_collected_at_once() {
    let src = "\
[cluster]
advbase = 0
colour = \"red\"

[[node]]
name = \"a\"
[[node]]
name = \"a\"

[[vip]]
name = \"v1\"
vhid = 0
vhdi = 3
interface = \"em0\"
addresses = [\"192.0.2.300/32\"]
password = \"pw\"
prefer = [\"zz\"]

[[vip]]
name = \"v1\"
vhid = \"two\"
interface = \"em0\"
addresses = []
";
    let f = Fixture::new(src, 0o600);
    let e = f.errors();
    let p = |line: usize| format!("{}:{line}:", f.path.display());
    let want = [
        (p(2), "[cluster]: advbase 0 is out of range 1-255 (seconds)"),
        (p(3), "[cluster]: unknown key `colour`"),
        (
            p(8),
            "node \"a\": node name \"a\" is already used at line 6",
        ),
        (p(12), "vip \"v1\": vhid 0 is out of range 1-255"),
        (p(13), "vip \"v1\": unknown key `vhdi`"),
        (
            p(15),
            "vip \"v1\": address \"192.0.2.300/32\" is not an IPv4 or IPv6 address",
        ),
        (
            p(17),
            "vip \"v1\": prefer names \"zz\", which is not a [[node]] (known nodes: a)",
        ),
        (
            p(20),
            "vip \"v1\": VIP name \"v1\" is already used at line 10",
        ),
        (
            p(21),
            "vip \"v1\": vhid: invalid type: string \"two\", expected an integer",
        ),
        (p(23), "vip \"v1\": addresses is empty"),
        (p(19), "vip \"v1\": no password"),
        // Only node "a" is valid, and the second VIP has no prefer.
        (p(19), "warning: vip \"v1\": only one node takes part"),
    ];
    for (prefix, text) in &want {
        assert_one(&e, prefix, text);
    }
    assert_eq!(e.len(), want.len(), "{e:#?}");
    // Sorted by position.
    let lines: Vec<usize> = load(&f.path)
        .unwrap_err()
        .iter()
        .map(|d| d.pos.map_or(0, |p| p.line))
        .collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

// ----- shape ------------------------------------------------------------------

#[test]
fn unknown_keys_everywhere_are_each_reported() {
    let f = Fixture::new(
        &format!(
            "nodes = 1\n{}",
            one_vip("passwrd = \"x\"\npreffer = [\"a\"]\n")
        ),
        0o600,
    );
    let e = f.errors();
    assert_one(
        &e,
        &f.at("nodes"),
        "unknown key `nodes`; the file holds [cluster], [[node]], [[vip]], [[check]] and [metrics]",
    );
    assert_one(
        &e,
        &f.at("passwrd"),
        "vip \"v1\": unknown key `passwrd`, expected one of",
    );
    assert_one(&e, &f.at("preffer"), "vip \"v1\": unknown key `preffer`");
    // The expected keys include password, even though serde never sees it.
    assert!(e.iter().any(|m| m.contains("`password`")), "{e:#?}");
    // The unknown value is not quoted.
    assert!(e.iter().all(|m| !m.contains("\"x\"")), "{e:#?}");
    let f = Fixture::new("[[node]]\nname = \"a\"\nhostname = \"a.example\"\n", 0o600);
    assert_one(
        &f.errors(),
        &f.at("hostname"),
        "node \"a\": unknown key `hostname`",
    );
    // Every key spelt right: no error.
    assert_clean(&Fixture::new(
        &format!(
            "[cluster]\npreempt = true\nadvbase = 1\nadvskew_step = 4\n{}",
            one_vip("prefer = [\"a\", \"b\"]\nadvbase = 2\n")
        ),
        0o600,
    ));
}

#[test]
fn sections_of_the_wrong_shape() {
    let f = Fixture::new("[node]\nname = \"a\"\n", 0o600);
    assert_one(
        &f.errors(),
        &f.at("[node]"),
        "node must be an array of tables: write [[node]], not [node]",
    );
    let f = Fixture::new("node = 3\n", 0o600);
    assert_one(
        &f.errors(),
        &f.at("3"),
        "node must be an array of tables ([[node]]), not an integer",
    );
    let f = Fixture::new("cluster = 1\n[[node]]\nname = \"a\"\n", 0o600);
    assert_one(
        &f.errors(),
        &f.at("1"),
        "cluster must be a table: write [cluster]",
    );
    let f = Fixture::new("node = [\"a\"]\n", 0o600);
    assert_one(
        &f.errors(),
        &f.at("\"a\""),
        "node #1: must be a table, not a string",
    );
}

#[test]
fn missing_required_keys() {
    let f = Fixture::new("[[node]]\nname = \"a\"\n[[vip]]\nname = \"v\"\n", 0o600);
    let e = f.errors();
    for key in ["vhid", "interface", "addresses"] {
        assert_one(
            &e,
            &f.at("[[vip]]"),
            &format!("vip \"v\": missing key `{key}`"),
        );
    }
    let f = Fixture::new("[[node]]\ninterfaces = {}\n", 0o600);
    assert_one(
        &f.errors(),
        &f.at("[[node]]"),
        "node #1: missing key `name`",
    );
    // A key of the wrong type is reported once, not also as missing.
    let f = Fixture::new(&one_vip("").replace("vhid = 1", "vhid = 1.5"), 0o600);
    let e = f.errors();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(
        e[0].contains("vip \"v1\": vhid: invalid type: floating point `1.5`"),
        "{e:#?}"
    );
}

// ----- nodes ------------------------------------------------------------------

#[test]
fn at_least_one_node() {
    let f = Fixture::new("[cluster]\npreempt = true\n", 0o600);
    assert_eq!(
        f.errors(),
        [
            format!(
                "{}: no [[node]] entries: a cluster needs at least one node",
                f.path.display()
            ),
            format!(
                "{}: warning: no [[vip]] entries: there is nothing to manage",
                f.path.display()
            ),
        ]
    );
    let f = Fixture::new("node = []\n", 0o600);
    assert_one(
        &f.errors(),
        &format!("{}: ", f.path.display()),
        "at least one node",
    );
    let f = Fixture::new("[[node]]\nname = \"a\"\n", 0o600);
    assert!(f.load().is_ok());
}

#[test]
fn node_names_are_unique_and_sane() {
    let f = Fixture::new(
        "[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n[[node]]\nname = \"a\"\n",
        0o600,
    );
    assert_one(
        &f.errors(),
        &format!("{}:6:8: ", f.path.display()),
        "node name \"a\" is already used at line 2",
    );
    let f = Fixture::new("[[node]]\nname = \"\"\n", 0o600);
    assert_one(&f.errors(), &f.at("\"\""), "node #1: name is empty");
    let f = Fixture::new("[[node]]\nname = \"a b\"\n", 0o600);
    assert_one(
        &f.errors(),
        &f.at("\"a b\""),
        "name must not contain spaces",
    );
}

#[test]
fn interface_mappings_are_checked() {
    let f = Fixture::new(
        &one_vip("").replace(
            "name = \"a\"\n",
            "name = \"a\"\ninterfaces = { em0 = \"averyveryverylong0\" }\n",
        ),
        0o600,
    );
    assert_one(
        &f.errors(),
        &f.at("\"averyveryverylong0\""),
        "node \"a\": interfaces.em0 = \"averyveryverylong0\": the interface name is 18 bytes long; at most 15 fit IFNAMSIZ",
    );
    // An unmapped long name is a real name, and too long too.
    let f = Fixture::new(
        &one_vip("").replace("\"em0\"", "\"averyveryverylong0\""),
        0o600,
    );
    let e = f.errors();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(e[0].starts_with(&f.at("\"averyveryverylong0\"")), "{e:#?}");
    assert!(
        e[0].contains("vip \"v1\": \"averyveryverylong0\" is not mapped by node a, b, so it is taken as a real interface name, and the interface name is 18 bytes long"),
        "{e:#?}"
    );
    // Mapped by every node, a long logical name is fine.
    let f = Fixture::new(
        &one_vip("")
            .replace("\"em0\"", "\"averyveryverylong0\"")
            .replace(
                "name = \"a\"\n",
                "name = \"a\"\ninterfaces = { averyveryverylong0 = \"em0\" }\n",
            )
            .replace(
                "name = \"b\"\n",
                "name = \"b\"\ninterfaces = { averyveryverylong0 = \"em1\" }\n",
            ),
        0o600,
    );
    assert_clean(&f);
}

#[test]
fn interface_tables_in_both_spellings() {
    // A sub-table works like the inline table.
    let f = Fixture::new(
        &one_vip("").replacen(
            "name = \"a\"\n",
            "name = \"a\"\n[node.interfaces]\nem0 = \"igb1\"\n",
            1,
        ),
        0o600,
    );
    let cfg = f.load().unwrap_or_else(|d| panic!("{:#?}", strings(&d)));
    assert_eq!(cfg.nodes[0].real_interface("em0"), "igb1");
    assert_eq!(cfg.nodes[1].real_interface("em0"), "em0");
    // A mapping to a non-string is located at the value.
    let f = Fixture::new(
        &one_vip("").replacen(
            "name = \"a\"\n",
            "name = \"a\"\ninterfaces = { em0 = 7 }\n",
            1,
        ),
        0o600,
    );
    assert_one(
        &f.errors(),
        &f.at("7 }"),
        "node \"a\": interfaces: invalid type: integer `7`, expected a string",
    );
}

#[test]
fn unused_interface_mapping_warns() {
    let f = Fixture::new(
        &one_vip("").replace(
            "name = \"a\"\n",
            "name = \"a\"\ninterfaces = { lna = \"em0\" }\n",
        ),
        0o600,
    );
    let w = f.warnings();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(w[0].starts_with(&f.at("\"em0\" }")), "{w:#?}");
    assert!(
        w[0].contains("warning: node \"a\": interfaces maps \"lna\", which no VIP uses"),
        "{w:#?}"
    );
}

// ----- VIPs -------------------------------------------------------------------

#[test]
fn vip_names_are_unique() {
    let second = "[[vip]]\nname = \"v1\"\nvhid = 2\ninterface = \"em0\"\naddresses = [\"192.0.2.2/32\"]\npassword = \"pw\"\n";
    let f = Fixture::new(&format!("{}{second}", one_vip("")), 0o600);
    assert_one(
        &f.errors(),
        &format!("{}:13:8: ", f.path.display()),
        "vip \"v1\": VIP name \"v1\" is already used at line 6",
    );
    let f = Fixture::new(
        &format!("{}{}", one_vip(""), second.replace("\"v1\"", "\"v2\"")),
        0o600,
    );
    assert_clean(&f);
}

#[test]
fn duplicate_vhid_on_one_interface() {
    let second = "[[vip]]\nname = \"v2\"\nvhid = 1\ninterface = \"lan\"\naddresses = [\"192.0.2.2/32\"]\npassword = \"pw\"\n";
    // a maps lan to em0, where v1 already has vhid 1; b maps it to em1.
    let text = format!("{}{second}", one_vip(""))
        .replace(
            "name = \"a\"\n",
            "name = \"a\"\ninterfaces = { lan = \"em0\" }\n",
        )
        .replace(
            "name = \"b\"\n",
            "name = \"b\"\ninterfaces = { lan = \"em1\" }\n",
        );
    let f = Fixture::new(&text, 0o600);
    let e = f.errors();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(
        e[0].starts_with(&format!("{}:16:8: ", f.path.display())),
        "{e:#?}"
    );
    assert!(
        e[0].ends_with("vip \"v2\": vhid 1 is already used by vip \"v1\" (line 8) on the same interface: em0 on a"),
        "{e:#?}"
    );
    // Same vhid on different real interfaces: fine.
    let f = Fixture::new(&text.replace("lan = \"em0\"", "lan = \"em2\""), 0o600);
    assert_clean(&f);
    // Same interface, but no node takes part in both: fine.
    let f = Fixture::new(
        &format!(
            "{}{second}prefer = [\"b\"]\n",
            one_vip("prefer = [\"a\"]\n")
        )
        .replace("\"lan\"", "\"em0\""),
        0o600,
    );
    let w = f.warnings();
    assert!(w.iter().all(|m| m.contains("only one node")), "{w:#?}");
}

#[test]
fn addresses_rules() {
    let cases = [
        (
            "[\"192.0.2.1\"]",
            "\"192.0.2.1\"",
            "address \"192.0.2.1\" has no prefix length; write 192.0.2.1/32",
        ),
        (
            "[\"2001:db8::1\"]",
            "\"2001:db8::1\"",
            "write 2001:db8::1/128",
        ),
        (
            "[\"mail.example.com/32\"]",
            "\"mail",
            "is not an IPv4 or IPv6 address with a prefix length",
        ),
        (
            "[\"192.0.2.1/33\"]",
            "\"192",
            "is not an IPv4 or IPv6 address",
        ),
        (
            "[]",
            "[]",
            "addresses is empty; a VIP needs at least one address",
        ),
        (
            "[\"192.0.2.1/32\", \"192.0.2.1/24\"]",
            "\"192.0.2.1/24\"",
            "address 192.0.2.1 is listed twice (also at line 10)",
        ),
        (
            "[\"224.0.0.18/32\"]",
            "\"224",
            "address 224.0.0.18 is a multicast address",
        ),
        (
            "[\"0.0.0.0/0\"]",
            "\"0.0",
            "address 0.0.0.0 is the unspecified address",
        ),
        (
            "[\"255.255.255.255/32\"]",
            "\"255",
            "is the limited broadcast address",
        ),
        ("[\"::1/128\"]", "\"::1", "is the loopback address"),
        (
            "\"192.0.2.1/32\"",
            "\"192",
            "vip \"v1\": addresses: invalid type: string \"192.0.2.1/32\", expected an array",
        ),
    ];
    for (value, at, text) in cases {
        let f = Fixture::new(&one_vip("").replace("[\"192.0.2.1/32\"]", value), 0o600);
        let e = f.errors();
        assert_eq!(e.len(), 1, "{value}: {e:#?}");
        assert_one(&e, &f.at(at), text);
    }
    for good in [
        "[\"192.0.2.1/24\"]",
        "[\"192.0.2.1/32\", \"2001:db8::1/64\"]",
    ] {
        let f = Fixture::new(&one_vip("").replace("[\"192.0.2.1/32\"]", good), 0o600);
        assert_clean(&f);
    }
    let cfg = Fixture::new(
        &one_vip("").replace("[\"192.0.2.1/32\"]", "[\"192.0.2.1/24\"]"),
        0o600,
    )
    .load()
    .unwrap();
    // A host address in CIDR form is the address and its prefix.
    assert_eq!(cfg.vips[0].addresses[0].to_string(), "192.0.2.1/24");
}

#[test]
fn an_address_in_two_vips_is_an_error() {
    let second = "[[vip]]\nname = \"v2\"\nvhid = 2\ninterface = \"em0\"\naddresses = [\"192.0.2.1/24\"]\npassword = \"pw\"\n";
    let f = Fixture::new(&format!("{}{second}", one_vip("")), 0o600);
    assert_one(
        &f.errors(),
        &format!("{}:16:14: ", f.path.display()),
        "vip \"v2\": address 192.0.2.1 is also in vip \"v1\" (line 6)",
    );
}

#[test]
fn prefer_rules() {
    let cases = [
        (
            "prefer = [\"a\", \"c\"]\n",
            "\"c\"",
            "prefer names \"c\", which is not a [[node]] (known nodes: a, b)",
        ),
        (
            "prefer = [\"a\", \"a\"]\n",
            "\"a\"]",
            "prefer names \"a\" twice",
        ),
        (
            "prefer = []\n",
            "[]\n",
            "prefer is empty, so no node would take part",
        ),
        (
            "prefer = \"a\"\n",
            "\"a\"\n",
            "vip \"v1\": prefer: invalid type: string \"a\", expected an array",
        ),
    ];
    for (extra, at, text) in cases {
        let f = Fixture::new(&one_vip(extra), 0o600);
        let e = f.errors();
        assert_eq!(e.len(), 1, "{extra}: {e:#?}");
        // Position of the offending value on the prefer line (12).
        let col = extra.find(at).unwrap() + 1;
        assert_one(&e, &format!("{}:12:{col}: ", f.path.display()), text);
    }
    let f = Fixture::new(&one_vip("prefer = [\"b\", \"a\"]\n"), 0o600);
    assert_eq!(
        f.load().unwrap().vips[0].prefer.as_deref(),
        Some(&["b".to_string(), "a".to_string()][..])
    );
}

#[test]
fn single_node_vip_warns() {
    let f = Fixture::new(&one_vip("prefer = [\"b\"]\n"), 0o600);
    let w = f.warnings();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(w[0].starts_with(&f.at("[\"b\"]")), "{w:#?}");
    assert!(
        w[0].contains("warning: vip \"v1\": only one node takes part, so this VIP has no failover")
    );
    assert_clean(&Fixture::new(&one_vip("prefer = [\"b\", \"a\"]\n"), 0o600));
}

// ----- advbase, advskew_step, preempt -------------------------------------

#[test]
fn advbase_rules() {
    let f = Fixture::new(&format!("[cluster]\nadvbase = 256\n{}", one_vip("")), 0o600);
    assert_one(
        &f.errors(),
        &f.at("256"),
        "[cluster]: advbase 256 is out of range 1-255 (seconds)",
    );
    let f = Fixture::new(&one_vip("advbase = 0\n"), 0o600);
    assert_one(
        &f.errors(),
        &format!("{}:12:11: ", f.path.display()),
        "vip \"v1\": advbase 0 is out of range 1-255 (seconds)",
    );
    let f = Fixture::new(
        &format!("[cluster]\nadvbase = 2\n{}", one_vip("advbase = 5\n")),
        0o600,
    );
    let cfg = f.load().unwrap();
    assert_eq!(cfg.cluster.advbase.get(), 2);
    assert_eq!(cfg.vips[0].advbase.get(), 5);
    let cfg = Fixture::new(&format!("[cluster]\nadvbase = 2\n{}", one_vip("")), 0o600)
        .load()
        .unwrap();
    assert_eq!(cfg.vips[0].advbase.get(), 2);
}

#[test]
fn advskew_step_rules() {
    for bad in ["0", "240", "-4"] {
        let f = Fixture::new(
            &format!("[cluster]\nadvskew_step = {bad}\n{}", one_vip("")),
            0o600,
        );
        assert_one(
            &f.errors(),
            &format!("{}:2:16: ", f.path.display()),
            &format!("[cluster]: advskew_step {bad} is out of range 1-239"),
        );
    }
    let f = Fixture::new(
        &format!("[cluster]\nadvskew_step = 2\n{}", one_vip("")),
        0o600,
    );
    let w = f.warnings();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].starts_with(&format!(
            "{}:2:16: warning: [cluster]: advskew_step 2 is 7.8 ms",
            f.path.display()
        )),
        "{w:?}"
    );
    for good in ["3", "239"] {
        let f = Fixture::new(
            &format!("[cluster]\nadvskew_step = {good}\n{}", one_vip("")),
            0o600,
        );
        assert_clean(&f);
        assert_eq!(f.load().unwrap().cluster.advskew_step.to_string(), good);
    }
}

#[test]
fn skew_reaching_240_is_an_error() {
    // Three nodes, step 120: rank 2 would be 240.
    let three = one_vip("").replace("name = \"b\"\n", "name = \"b\"\n[[node]]\nname = \"c\"\n");
    let f = Fixture::new(&format!("[cluster]\nadvskew_step = 120\n{three}"), 0o600);
    let e = f.errors();
    assert_eq!(e.len(), 1, "{e:#?}");
    // No prefer: located at advskew_step.
    assert!(
        e[0].starts_with(&format!(
            "{}:2:16: advskew of node c for VIP v1 would be 240",
            f.path.display()
        )),
        "{e:#?}"
    );
    assert!(
        e[0].contains("CARP_MAXSKEW") && e[0].contains("reduce advskew_step"),
        "{e:#?}"
    );
    // With prefer: located at prefer; two of the three nodes fit.
    let f = Fixture::new(
        &format!(
            "[cluster]\nadvskew_step = 120\n{}",
            three.replace(
                "password = \"pw\"\n",
                "password = \"pw\"\nprefer = [\"c\", \"b\", \"a\"]\n"
            )
        ),
        0o600,
    );
    assert_one(
        &f.errors(),
        &f.at("[\"c\""),
        "advskew of node a for VIP v1 would be 240",
    );
    let f = Fixture::new(
        &format!(
            "[cluster]\nadvskew_step = 120\n{}",
            three.replace(
                "password = \"pw\"\n",
                "password = \"pw\"\nprefer = [\"c\", \"b\"]\n"
            )
        ),
        0o600,
    );
    assert_clean(&f);
    let cfg = f.load().unwrap();
    let p = cfg.plan().unwrap();
    assert_eq!(p.vips[0].advskew_of("b"), AdvSkew::new(120).ok());
}

#[test]
fn preempt_false_warns() {
    let f = Fixture::new(
        &format!("[cluster]\npreempt = false\n{}", one_vip("")),
        0o600,
    );
    let w = f.warnings();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].starts_with(&format!(
            "{}:2:11: warning: [cluster]: preempt = false",
            f.path.display()
        )),
        "{w:?}"
    );
    assert!(!f.load().unwrap().cluster.preempt);
    assert_clean(&Fixture::new(
        &format!("[cluster]\npreempt = true\n{}", one_vip("")),
        0o600,
    ));
    let f = Fixture::new(
        &format!("[cluster]\npreempt = \"yes\"\n{}", one_vip("")),
        0o600,
    );
    assert_one(
        &f.errors(),
        &f.at("\"yes\""),
        "[cluster]: preempt: invalid type: string \"yes\", expected a boolean",
    );
}

#[test]
fn rotation_without_prefer() {
    let text = "[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n[[node]]\nname = \"c\"\n\
        [[vip]]\nname = \"v1\"\nvhid = 1\ninterface = \"em0\"\naddresses = [\"192.0.2.1/32\"]\npassword = \"p\"\n\
        [[vip]]\nname = \"v2\"\nvhid = 2\ninterface = \"em0\"\naddresses = [\"192.0.2.2/32\"]\npassword = \"p\"\n\
        [[vip]]\nname = \"v3\"\nvhid = 3\ninterface = \"em0\"\naddresses = [\"192.0.2.3/32\"]\npassword = \"p\"\n\
        [[vip]]\nname = \"v4\"\nvhid = 4\ninterface = \"em0\"\naddresses = [\"192.0.2.4/32\"]\npassword = \"p\"\n";
    let cfg = Fixture::new(text, 0o600).load().unwrap();
    let p = cfg.plan().unwrap();
    let masters: Vec<&str> = p.vips.iter().map(|v| v.order[0].as_str()).collect();
    assert_eq!(masters, ["a", "b", "c", "a"]);
    assert_eq!(p.vips[1].order, ["b", "c", "a"]);
    // a masters v1 and v4; they fall over to different nodes (b, c), so
    // that a failure of a leaves two VIPs on each survivor (plan.rs).
    assert_eq!(p.vips[0].order, ["a", "b", "c"]);
    assert_eq!(p.vips[3].order, ["a", "c", "b"]);
    let d = desired_state(&cfg, "c", &[iface("em0", &["192.0.2.10/24"])]).unwrap();
    let ranks: Vec<usize> = d.vips.iter().map(|v| v.rank).collect();
    assert_eq!(ranks, [2, 1, 0, 1]);
    let skews: Vec<u8> = d.vips.iter().map(|v| v.advskew.get()).collect();
    assert_eq!(skews, [8, 4, 0, 4]);
}

// ----- passwords --------------------------------------------------------------

#[test]
fn password_and_password_file_together() {
    let f = Fixture::new(&one_vip("password_file = \"k\"\n"), 0o600);
    f.key("k", b"x\n", 0o600);
    assert_one(
        &f.errors(),
        &f.at("\"pw\""),
        "vip \"v1\": set either password or password_file, not both",
    );
}

#[test]
fn no_password_warns() {
    let f = Fixture::new(&one_vip("").replace("password = \"pw\"\n", ""), 0o644);
    let w = f.warnings();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(w[0].starts_with(&f.at("[[vip]]")), "{w:?}");
    assert!(
        w[0].contains(
            "warning: vip \"v1\": no password: any host on the segment can take over this VIP"
        ),
        "{w:?}"
    );
    assert!(f.load().unwrap().vips[0].key.is_none());
}

#[test]
fn inline_password_lengths() {
    let with = |pw: &str| Fixture::new(&one_vip("").replace("\"pw\"", &format!("\"{pw}\"")), 0o600);
    let f = with(&"x".repeat(21));
    assert_one(
        &f.errors(),
        &f.at("\"xxx"),
        "vip \"v1\": password is 21 bytes; carp(4) keys are at most 20 bytes",
    );
    let f = with(&"x".repeat(20));
    let w = f.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(&format!(
            "{}warning: vip \"v1\": password is 20 bytes; ifconfig(8) keeps only 19",
            f.at("\"xxx")
        )),
        "{w:?}"
    );
    assert_eq!(key_bytes(&f.load().unwrap(), 0).len(), 20);
    assert_clean(&with(&"x".repeat(19)));
    let f = with("");
    assert_one(&f.errors(), &f.at("\"\""), "vip \"v1\": password is empty");
    let f = with("a\\u0000b");
    assert_one(
        &f.errors(),
        &f.at("\"a\\"),
        "vip \"v1\": password contains a NUL byte",
    );
    // Multi-byte characters count in bytes: 7 × 3 = 21.
    let f = with(&"€".repeat(7));
    assert_one(&f.errors(), &f.at("\"€"), "password is 21 bytes");
}

#[test]
fn inline_password_needs_a_private_file() {
    let f = Fixture::new(&one_vip(""), 0o644);
    let e = f.errors();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(
        e[0],
        format!(
            "{}{} is mode 0644; a file holding password = must not be accessible by group or \
             others (chmod 600), or use password_file",
            f.at("\"pw\""),
            f.path.display()
        )
    );
    let f = Fixture::new(&one_vip(""), 0o640);
    assert_one(&f.errors(), &f.at("\"pw\""), "is mode 0640");
    let f = Fixture::new(&one_vip(""), 0o604);
    assert_one(&f.errors(), &f.at("\"pw\""), "is mode 0604");
    assert_clean(&Fixture::new(&one_vip(""), 0o600));
    assert_clean(&Fixture::new(&one_vip(""), 0o400));
    // Without an inline password, the file may be world-readable.
    let f = Fixture::new(
        &one_vip("").replace("password = \"pw\"\n", "password_file = \"k\"\n"),
        0o644,
    );
    f.key("k", b"pw\n", 0o600);
    assert_clean(&f);
}

#[test]
fn password_file_rules() {
    let with = |content: Option<&[u8]>, mode: u32| {
        let f = Fixture::new(
            &one_vip("").replace("password = \"pw\"\n", "password_file = \"keys/v1.key\"\n"),
            0o600,
        );
        if let Some(c) = content {
            f.key("keys/v1.key", c, mode);
        }
        f
    };
    let kp = |f: &Fixture| f.dir.path().join("keys/v1.key").display().to_string();
    let f = with(None, 0o600);
    assert_one(
        &f.errors(),
        &f.at("\"keys"),
        &format!("vip \"v1\": password_file {}: cannot read: ", kp(&f)),
    );
    let f = with(Some(&b"secret\n"[..]), 0o644);
    assert_one(
        &f.errors(),
        &f.at("\"keys"),
        &format!(
            "password_file {k}: the key file {k} is mode 0644; a key file must not be accessible \
             by group or others; fix: chmod 600 {k}",
            k = kp(&f)
        ),
    );
    let f = with(Some(&b""[..]), 0o600);
    assert_one(
        &f.errors(),
        &f.at("\"keys"),
        &format!("password_file {} is empty", kp(&f)),
    );
    let f = with(Some(&b"\n"[..]), 0o600);
    assert_one(&f.errors(), &f.at("\"keys"), "is empty");
    let f = with(Some(&[b'k'; 21][..]), 0o600);
    assert_one(
        &f.errors(),
        &f.at("\"keys"),
        "is 21 bytes; carp(4) keys are at most 20 bytes",
    );
    let f = with(Some(&[b'k'; 20][..]), 0o600);
    let w = f.warnings();
    assert!(
        w.len() == 1 && w[0].contains("is 20 bytes; ifconfig(8) keeps only 19"),
        "{w:?}"
    );
    // 20 bytes plus the newline: the newline is not part of the key.
    let mut k = vec![b'k'; 20];
    k.push(b'\n');
    assert_eq!(
        key_bytes(&with(Some(&k), 0o600).load().unwrap(), 0).len(),
        20
    );
    // Exactly one trailing newline is stripped (\n or \r\n), no more.
    for (content, want) in [
        (&b"pw\n"[..], &b"pw"[..]),
        (&b"pw\r\n"[..], &b"pw"[..]),
        (&b"pw"[..], &b"pw"[..]),
        (&b"pw\n\n"[..], &b"pw\n"[..]),
        (&b" pw "[..], &b" pw "[..]),
    ] {
        let cfg = with(Some(content), 0o600).load().unwrap();
        assert_eq!(key_bytes(&cfg, 0), want, "{content:?}");
    }
    // A directory is not a key file.
    let f = with(None, 0o600);
    std::fs::create_dir_all(f.dir.path().join("keys/v1.key")).unwrap();
    assert_one(
        &f.errors(),
        &f.at("\"keys"),
        "is a directory, not a regular file",
    );
    // Absolute paths are taken as they are.
    let f = Fixture::new(&one_vip(""), 0o600);
    let abs = f.key("elsewhere/k", b"abs\n", 0o600);
    std::fs::write(
        &f.path,
        one_vip("").replace(
            "password = \"pw\"\n",
            &format!("password_file = \"{}\"\n", abs.display()),
        ),
    )
    .unwrap();
    assert_eq!(key_bytes(&f.load().unwrap(), 0), b"abs");
}

#[test]
fn secrets_never_reach_messages_or_debug() {
    const SECRET: &str = "hunter2-SECRET";
    // Inline password in a world-readable file, next to many other errors.
    let text = one_vip("colour = 9\n")
        .replace("\"pw\"", &format!("\"{SECRET}\""))
        .replace("vhid = 1\n", "vhid = 0\n");
    let f = Fixture::new(&text, 0o644);
    let d = f.load().unwrap_err();
    assert!(d.len() >= 2, "{:#?}", strings(&d));
    for x in &d {
        assert!(!x.to_string().contains(SECRET) && !format!("{x:?}").contains(SECRET));
        assert!(!serde_json::to_string(x).unwrap().contains(SECRET));
    }
    // A non-string password is not quoted either (it may be the secret).
    let f = Fixture::new(&one_vip("").replace("\"pw\"", "314159265"), 0o600);
    let e = f.errors();
    assert_one(
        &e,
        &f.at("314159265"),
        "vip \"v1\": password must be a string",
    );
    assert!(e.iter().all(|m| !m.contains("314159265")), "{e:?}");
    // Syntax errors on the password line do not quote it.
    let f = Fixture::new(
        &one_vip("").replace("\"pw\"", &format!("\"{SECRET}")),
        0o600,
    );
    assert!(f.errors().iter().all(|m| !m.contains(SECRET)));
    let f = Fixture::new(&one_vip("").replace("\"pw\"", SECRET), 0o600);
    assert!(f.errors().iter().all(|m| !m.contains(SECRET)));
    // Too long: the length, never the bytes.
    let long = "S3CRET-".repeat(4);
    let f = Fixture::new(
        &one_vip("").replace("\"pw\"", &format!("\"{long}\"")),
        0o600,
    );
    assert!(f.errors().iter().all(|m| !m.contains("S3CRET")));
    // A valid config: Debug shows no key bytes.
    let f = Fixture::new(
        &one_vip("").replace("\"pw\"", &format!("\"{SECRET}\"")),
        0o600,
    );
    let cfg = f.load().unwrap();
    let dbg = format!("{cfg:?}");
    assert!(
        !dbg.contains(SECRET) && dbg.contains("Key(<redacted>)"),
        "{dbg}"
    );
    // Key file content never appears either.
    let f = seed();
    std::fs::write(
        f.dir.path().join("carpctl.d/mail1.key"),
        b"mail1-secret-0001-toolong\n",
    )
    .unwrap();
    let e = f.errors();
    assert!(e.iter().all(|m| !m.contains("mail1-secret")), "{e:?}");
}

// ----- robustness -------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any text made of TOML-ish pieces: parsing never panics, and a failure
    /// always carries at least one error.
    #[test]
    fn parsing_never_panics(
        pieces in proptest::collection::vec(
            prop_oneof![
                Just("[cluster]\n".to_string()),
                Just("[[node]]\n".to_string()),
                Just("[[vip]]\n".to_string()),
                Just("[node]\n".to_string()),
                Just("name = \"a\"\n".to_string()),
                Just("name = \"b\"\n".to_string()),
                Just("interfaces = { lan = \"em0\" }\n".to_string()),
                Just("vhid = 1\n".to_string()),
                Just("interface = \"lan\"\n".to_string()),
                Just("addresses = [\"192.0.2.1/32\", \"2001:db8::1/64\"]\n".to_string()),
                Just("password = \"pw\"\n".to_string()),
                Just("password_file = \"/nonexistent/k\"\n".to_string()),
                Just("prefer = [\"a\", \"b\"]\n".to_string()),
                Just("advskew_step = 4\n".to_string()),
                Just("preempt = false\n".to_string()),
                "[a-z_]{1,12} = [0-9]{1,25}\n",
                "[a-z_]{1,12} = \"[ -~]{0,30}\"\n",
                "[a-z_]{1,12} = \\[\"[0-9a-f.:/]{0,20}\"\\]\n",
                "[\\[\\]{}=\",.a-z0-9 \n\t\\\\é€]{0,40}",
            ],
            0..24,
        )
    ) {
        let text: String = pieces.concat();
        match parse(&text, Path::new("fuzz.toml"), Some(0o600)) {
            Ok(cfg) => {
                // A config that loads also plans and resolves without panic.
                prop_assert!(cfg.plan().is_ok());
                for n in &cfg.nodes {
                    let _ = desired_state(&cfg, &n.name, &[iface("em0", &["192.0.2.9/24"])]);
                }
            }
            Err(d) => prop_assert!(has_errors(&d), "{:?}", d),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = parse(&text, Path::new("fuzz.toml"), Some(0o644));
    }
}

/// The one `Desired` type: `with_keys` is where an unread `password_file`
/// is refused (it was `apply::Desired::try_from`), never taken as no key.
#[test]
fn with_keys_refuses_an_unread_password_file_and_keeps_read_ones() {
    let f = Fixture::new(
        &one_vip("").replace("password = \"pw\"\n", "password_file = \"k\"\n"),
        0o600,
    );
    f.key("k", b"pw\n", 0o600);
    let em0 = [iface("em0", &["192.0.2.9/24"])];
    let unread = f.load_only().unwrap();
    let d = desired_state(&unread, "a", &em0).unwrap();
    assert_eq!(
        d.with_keys().unwrap_err(),
        "vip \"v1\": its password_file has not been read"
    );
    let read = f.load().unwrap();
    let d = desired_state(&read, "a", &em0)
        .unwrap()
        .with_keys()
        .unwrap();
    assert_eq!(
        d.vips[0].key.as_ref().map(|k| k.as_bytes()),
        Some(&b"pw"[..])
    );
    assert_eq!(d.vips[0].interface, "em0");
}
