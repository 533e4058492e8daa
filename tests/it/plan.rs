//! `carpctl plan` end to end: the real binary on cluster files in temporary
//! directories, with no kernel at all.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{BIN, Run, run_carpctl as carpctl};

/// Passwords of the test files: what `openssl rand -hex 9` gives, so they
/// can be written in rc.conf as they are.
const WWW_KEY: &str = "3f9a0c17e2b4d86a51";
const MAIL1_KEY: &str = "5e6a1f0c9b2d47e813";
const MAIL2_KEY: &str = "c04b7d2e91a8f35b6e";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// A copy of `examples/<name>` in a temporary directory, with its key
/// files (mode 0600 in a 0700 carpctl.d, as the file's comments say).
fn example(name: &str, keys: &[(&str, &str)]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    fs::copy(examples().join(name), &file).unwrap();
    let kd = dir.path().join("carpctl.d");
    fs::create_dir(&kd).unwrap();
    fs::set_permissions(&kd, fs::Permissions::from_mode(0o700)).unwrap();
    for (k, v) in keys {
        let p = kd.join(k);
        fs::write(&p, format!("{v}\n")).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let path = file.to_str().unwrap().to_string();
    (dir, path)
}

fn five() -> (tempfile::TempDir, String) {
    example("five-nodes.toml", &[("www.key", WWW_KEY)])
}

fn seed() -> (tempfile::TempDir, String) {
    example(
        "seed.toml",
        &[("mail1.key", MAIL1_KEY), ("mail2.key", MAIL2_KEY)],
    )
}

/// `text` as `c.toml` in `dir`, mode 0600 (a file holding passwords);
/// its path.
fn private_file(dir: &Path, text: &str) -> String {
    let p = dir.join("c.toml");
    fs::write(&p, text).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
    p.to_str().unwrap().to_string()
}

fn json(r: &Run) -> Value {
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    serde_json::from_str(&r.stdout).expect("plan --json prints JSON")
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_str().expect("a string").to_string())
        .collect()
}

/// Acceptance: 5 nodes, 12 VIPs without `prefer`: the JSON contract, and no
/// survivor above ⌈12/4⌉ = 3 VIPs after any single failure — recounted
/// here from each VIP's order, not taken from carpctl's own counts.
#[test]
fn five_nodes_twelve_vips_json_contract_and_single_failure_bound() {
    let (_d, file) = five();
    let doc = json(&carpctl(&["-c", &file, "plan", "--json"]));
    let nodes = strs(&doc["nodes"]);
    assert_eq!(nodes, ["web1", "web2", "web3", "web4", "web5"]);
    let vips = doc["vips"].as_array().unwrap();
    assert_eq!(vips.len(), 12);

    let mut orders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut firsts: BTreeMap<String, usize> = BTreeMap::new();
    for (i, v) in vips.iter().enumerate() {
        let name = v["name"].as_str().unwrap().to_string();
        assert_eq!(name, format!("www{:02}", i + 1));
        assert_eq!(v["vhid"].as_u64(), Some(i as u64 + 1));
        let order = strs(&v["order"]);
        let set: BTreeSet<&String> = order.iter().collect();
        assert_eq!(set.len(), 5, "{name}: every node once: {order:?}");
        assert!(order.iter().all(|n| nodes.contains(n)));
        // advskew = rank × 4: distinct, below 240, 0 for the first.
        let skews = v["advskew"].as_object().unwrap();
        assert_eq!(skews.len(), 5);
        for (rank, n) in order.iter().enumerate() {
            assert_eq!(skews[n].as_u64(), Some(rank as u64 * 4), "{name} {n}");
        }
        assert_eq!(v["source"], "balanced");
        *firsts.entry(order[0].clone()).or_default() += 1;
        orders.insert(name, order);
    }
    // Round-robin primaries: 12 over 5 is 3, 3, 2, 2, 2.
    assert_eq!(
        firsts.into_iter().collect::<Vec<_>>(),
        [
            ("web1".to_string(), 3),
            ("web2".to_string(), 3),
            ("web3".to_string(), 2),
            ("web4".to_string(), 2),
            ("web5".to_string(), 2)
        ]
    );

    let failures = doc["failures"].as_array().unwrap();
    // 5 single failures, 10 double, 5 maintenances.
    assert_eq!(failures.len(), 20);
    let singles: Vec<&Value> = failures
        .iter()
        .filter(|f| f["kind"] == "failure" && f["nodes"].as_array().unwrap().len() == 1)
        .collect();
    assert_eq!(singles.len(), 5);
    for f in singles {
        let down = strs(&f["nodes"]);
        let mut load: BTreeMap<&str, usize> = BTreeMap::new();
        for (vip, order) in &orders {
            let expect = order.iter().find(|n| !down.contains(n)).unwrap();
            assert_eq!(f["owners"][vip], expect.as_str(), "{vip} after {down:?}");
            *load.entry(expect.as_str()).or_default() += 1;
        }
        let max = load.values().max().copied().unwrap();
        assert!(max <= 3, "after {down:?} fails: {load:?}");
        assert_eq!(f["max_load"].as_u64(), Some(max as u64));
        assert_eq!(f["bound"].as_u64(), Some(3));
        assert_eq!(f["within_bound"], true);
    }
    // Double failures within ⌈12/3⌉ + 1 = 5, also recounted.
    for f in failures
        .iter()
        .filter(|f| f["kind"] == "failure" && f["nodes"].as_array().unwrap().len() == 2)
    {
        let down = strs(&f["nodes"]);
        let mut load: BTreeMap<&str, usize> = BTreeMap::new();
        for order in orders.values() {
            let o = order.iter().find(|n| !down.contains(n)).unwrap();
            *load.entry(o.as_str()).or_default() += 1;
        }
        assert!(load.values().all(|&l| l <= 5), "{down:?}: {load:?}");
        assert_eq!(f["bound"].as_u64(), Some(5));
    }
    // Maintenance of a node: its VIPs go where its failure sends them.
    for node in &nodes {
        let m = failures
            .iter()
            .find(|f| f["kind"] == "maintenance" && strs(&f["nodes"]) == [node.clone()])
            .unwrap();
        let f = failures
            .iter()
            .find(|f| f["kind"] == "failure" && strs(&f["nodes"]) == [node.clone()])
            .unwrap();
        assert_eq!(m["owners"], f["owners"], "{node}");
        assert_eq!(m["load"][node.as_str()].as_u64(), Some(0));
    }
    assert_eq!(doc["balanced"], true);
    assert_eq!(doc["balance"]["bounds"]["single_failure"].as_u64(), Some(3));
    assert_eq!(doc["demotion_one_rank"].as_u64(), Some(5));
    assert_eq!(doc["maintenance_demotion"].as_u64(), Some(240));
    // The first node of www01 must be demoted past the four others: 4 × 4 + 1.
    let first = &orders["www01"][0];
    assert_eq!(vips[0]["demotion_off"][first].as_u64(), Some(17));
    // One base configuration per node, placeholders instead of passwords.
    assert_eq!(doc["base"].as_array().unwrap().len(), 5);
    assert!(!r_contains_key(&doc.to_string()));
    assert_eq!(doc["dns"], Value::Null);
}

fn r_contains_key(s: &str) -> bool {
    [WWW_KEY, MAIL1_KEY, MAIL2_KEY]
        .iter()
        .any(|k| s.contains(k))
}

/// The rc.conf, loader.conf and sysctl.conf of the seed scenario, byte for
/// byte, written out by hand from the Handbook's FreeBSD 10 syntax: mail-a
/// is first for mail1 (advskew 0) and second for mail2 (advskew 4), on em0.
#[test]
fn seed_base_configuration_byte_for_byte() {
    let (_d, file) = seed();
    let r = carpctl(&["-c", &file, "--node", "mail-a", "plan"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let block = r
        .stdout
        .split("\n\n")
        .find(|b| b.starts_with("# ---- mail-a"))
        .expect("mail-a's block");
    let want = "\
# ---- mail-a: FreeBSD base configuration, without carpctl ----
# rc.d/netif adds inet6 aliases only on an interface with an ifconfig_em0_ipv6 line (network.subr ipv6if), e.g. ifconfig_em0_ipv6=\"inet6 -ifdisabled\"
# the aliases are numbered from 0 on each interface: renumber them after the interface's own aliases if it has some
# replace each <secret:VIP> with that VIP's password (carpctl plan --show-secrets writes them in), and keep the file readable by root only
# /boot/loader.conf
carp_load=\"YES\"
# /etc/sysctl.conf
net.inet.carp.preempt=1
# /etc/rc.conf
ifconfig_em0_alias0=\"inet vhid 1 advskew 0 pass <secret:mail1> alias 192.168.1.50/32\"
ifconfig_em0_alias1=\"inet vhid 2 advskew 4 pass <secret:mail2> alias 192.168.1.51/32\"
ifconfig_em0_alias2=\"inet6 vhid 2 advskew 4 pass <secret:mail2> alias 2001:db8::51 prefixlen 128\"
";
    assert_eq!(block, want);
    // --node limits the base configuration to that node.
    assert!(!r.stdout.contains("# ---- mail-b"));
    assert!(!r_contains_key(&r.stdout));

    // mail-b: the reverse skews, on igb0, in --json as well.
    let doc = json(&carpctl(&[
        "-c", &file, "--node", "mail-b", "plan", "--json",
    ]));
    let base = doc["base"].as_array().unwrap();
    assert_eq!(base.len(), 1);
    assert_eq!(base[0]["node"], "mail-b");
    assert_eq!(
        strs(&base[0]["rc_conf"]),
        [
            "ifconfig_igb0_alias0=\"inet vhid 1 advskew 4 pass <secret:mail1> alias 192.168.1.50/32\"",
            "ifconfig_igb0_alias1=\"inet vhid 2 advskew 0 pass <secret:mail2> alias 192.168.1.51/32\"",
            "ifconfig_igb0_alias2=\"inet6 vhid 2 advskew 0 pass <secret:mail2> alias 2001:db8::51 prefixlen 128\"",
        ]
    );
    assert_eq!(strs(&base[0]["loader_conf"]), ["carp_load=\"YES\""]);
    assert_eq!(strs(&base[0]["sysctl_conf"]), ["net.inet.carp.preempt=1"]);
    assert!(!r_contains_key(&doc.to_string()));
    // The seed's explicit orders are balanced: each node first for one,
    // and after a failure the survivor holds both (⌈2/1⌉ = 2).
    assert_eq!(doc["balanced"], true);
    assert_eq!(doc["vips"][0]["source"], "prefer");
    assert_eq!(doc["failures"].as_array().unwrap().len(), 4);
}

#[test]
fn show_secrets_writes_the_passwords_into_a_pipe_only_on_request() {
    let (_d, file) = seed();
    let r = carpctl(&["-c", &file, "--node", "mail-b", "plan", "--show-secrets"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("ifconfig_"))
        .collect();
    assert_eq!(
        lines,
        [
            "ifconfig_igb0_alias0=\"inet vhid 1 advskew 4 pass 5e6a1f0c9b2d47e813 alias 192.168.1.50/32\"",
            "ifconfig_igb0_alias1=\"inet vhid 2 advskew 0 pass c04b7d2e91a8f35b6e alias 192.168.1.51/32\"",
            "ifconfig_igb0_alias2=\"inet6 vhid 2 advskew 0 pass c04b7d2e91a8f35b6e alias 2001:db8::51 prefixlen 128\"",
        ]
    );
    assert!(!r.stdout.contains("<secret:"));
    // Never together with --json (a usage error from the parser).
    let r = carpctl(&["-c", &file, "plan", "--show-secrets", "--json"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("--show-secrets"), "{}", r.stderr);
}

/// A password that rc.d/netif would mangle is refused by name, never
/// printed: "mail1-secret" holds "1-", which network.subr expands as an
/// address range.
#[test]
fn show_secrets_refuses_a_password_rc_conf_cannot_carry() {
    let (_d, file) = example(
        "seed.toml",
        &[("mail1.key", "mail1-secret"), ("mail2.key", MAIL2_KEY)],
    );
    let r = carpctl(&["-c", &file, "plan", "--show-secrets"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains("vip \"mail1\""), "{}", r.stderr);
    assert!(r.stderr.contains("address range"), "{}", r.stderr);
    assert!(!r.stderr.contains("mail1-secret"), "{}", r.stderr);
    // Without the flag the plan prints, and says why in a note.
    let r = carpctl(&["-c", &file, "plan"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("# mail1: its password has a hex digit followed by '-'")
    );
    assert!(!r.stdout.contains("mail1-secret"));
}

#[test]
fn dns_records_for_the_service_name() {
    let (_d, file) = seed();
    let r = carpctl(&["-c", &file, "plan", "--dns-name", "mail.example.org"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tail = r
        .stdout
        .split("# DNS round-robin (zone file)\n")
        .nth(1)
        .unwrap();
    assert_eq!(
        tail,
        "mail.example.org. 300 IN A 192.168.1.50\n\
         mail.example.org. 300 IN A 192.168.1.51\n\
         mail.example.org. 300 IN AAAA 2001:db8::51\n"
    );
    let doc = json(&carpctl(&[
        "-c",
        &file,
        "plan",
        "--json",
        "--dns-name",
        "mail.example.org.",
    ]));
    assert_eq!(strs(&doc["dns"]).len(), 3);
    let r = carpctl(&["-c", &file, "plan", "--dns-name", "mail..example.org"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--dns-name \"mail..example.org\""),
        "{}",
        r.stderr
    );
}

#[test]
fn explicit_orders_that_break_the_bounds_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut text =
        String::from("[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n[[node]]\nname = \"c\"\n");
    for i in 1..=4 {
        text.push_str(&format!(
            "[[vip]]\nname = \"v{i}\"\nvhid = {i}\ninterface = \"em0\"\n\
             addresses = [\"192.0.2.{i}/32\"]\npassword = \"pw{i}\"\nprefer = [\"a\", \"b\", \"c\"]\n"
        ));
    }
    let file = &private_file(dir.path(), &text);
    let doc = json(&carpctl(&["-c", file, "plan", "--json"]));
    assert_eq!(doc["balanced"], false);
    let notes = strs(&doc["balance"]["notes"]);
    assert!(
        notes.contains(&"a is first for 4 VIPs, outside 1..2".to_string()),
        "{notes:?}"
    );
    assert!(
        notes.contains(&"after a fails, b holds 4 VIPs (bound 2)".to_string()),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("prefer")), "{notes:?}");
    let r = carpctl(&["-c", file, "plan"]);
    assert_eq!(r.code, 0, "an unbalanced plan is shown, not refused");
    assert!(r.stdout.contains("balanced: no\n"), "{}", r.stdout);
    assert!(r.stdout.contains("[prefer]"));
}

#[test]
fn bad_inputs_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let r = carpctl(&["-c", missing.to_str().unwrap(), "plan"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("nope.toml"), "{}", r.stderr);

    let (_d, file) = seed();
    let r = carpctl(&["-c", &file, "--node", "mail-z", "plan"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr
            .contains("node \"mail-z\" is not in this file; known nodes: mail-a, mail-b"),
        "{}",
        r.stderr
    );

    let r = carpctl(&["-c", &file, "plan", "--bogus"]);
    assert_eq!(r.code, 2);

    // A cluster file with an error is refused as a whole.
    let bad = dir.path().join("bad.toml");
    fs::write(&bad, "[[node]]\nname = \"a\"\n[[vip]]\nname = \"v\"\n").unwrap();
    let r = carpctl(&["-c", bad.to_str().unwrap(), "plan"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
}

#[test]
fn an_empty_carpctl_node_counts_as_unset() {
    let (_dir, file) = example(
        "seed.toml",
        &[("mail1.key", MAIL1_KEY), ("mail2.key", MAIL2_KEY)],
    );
    let out = Command::new(BIN)
        .args(["-c", &file, "plan"])
        .env_remove("CARPCTL_KERNEL")
        .env_remove("CARPCTL_CONFIG")
        .env_remove("RUST_LOG")
        .env("CARPCTL_NODE", "")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("node \"\""), "{stderr}");
    let all = carpctl(&["-c", &file, "plan"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), all.stdout);
}

/// Issue 12 items 1 and 2: three unicast VIPs and one VRRP VIP. The JSON
/// shows each member's peers (a link-local peer6 scoped to the sender's
/// real interface), the VRRP interval and priorities, and the unicast
/// summary, whose losses are recounted here from the orders.
#[test]
fn unicast_and_vrrp_vips_show_peers_priorities_and_double_failure_losses() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "[cluster]\nunicast = true\n\
         [[node]]\nname = \"a\"\ninterfaces = { lan = \"em0\" }\n\
         addresses = { lan = [\"192.0.2.1\", \"fe80::a\"] }\n\
         [[node]]\nname = \"b\"\ninterfaces = { lan = \"igb0\" }\n\
         addresses = { lan = [\"192.0.2.2\", \"fe80::b\"] }\n\
         [[node]]\nname = \"c\"\naddresses = { lan = [\"192.0.2.3\", \"fe80::c\"] }\n",
    );
    for i in 1..=3 {
        text.push_str(&format!(
            "[[vip]]\nname = \"u{i}\"\nvhid = {i}\ninterface = \"lan\"\n\
             addresses = [\"198.51.100.{i}/32\", \"2001:db8::{i}/128\"]\npassword = \"pw{i}\"\n"
        ));
    }
    text.push_str(
        "[[vip]]\nname = \"r1\"\nvhid = 4\ninterface = \"lan\"\n\
         addresses = [\"198.51.100.4/32\"]\nunicast = false\nprotocol = \"vrrp\"\ninterval = 10\n",
    );
    let file = &private_file(dir.path(), &text);
    let doc = json(&carpctl(&["-c", file, "plan", "--json"]));
    let vips = doc["vips"].as_array().unwrap();
    let mut pairs: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for v in &vips[..3] {
        assert_eq!(v["unicast"], true, "{v}");
        assert!(v.get("protocol").is_none(), "CARP is the default: {v}");
        let order = strs(&v["order"]);
        assert_eq!(order.len(), 2, "{v}");
        // Each member names the other, at the other's own addresses.
        for (me, other) in [(&order[0], &order[1]), (&order[1], &order[0])] {
            let peer = &v["peers"][me.as_str()];
            assert_eq!(peer["node"], other.as_str(), "{v}");
            let n = &other[..];
            let octet = 1 + ["a", "b", "c"].iter().position(|x| *x == n).unwrap();
            assert_eq!(peer["peer"], format!("192.0.2.{octet}"), "{v}");
            let scope = match me.as_str() {
                "a" => "em0",
                "b" => "igb0",
                _ => "lan",
            };
            assert_eq!(peer["peer6"], format!("fe80::{n}%{scope}"), "{v}");
        }
        let mut key = order.clone();
        key.sort();
        pairs
            .entry(key)
            .or_default()
            .push(v["name"].as_str().unwrap().to_string());
    }
    let r1 = &vips[3];
    assert_eq!(r1["protocol"], "vrrpv3");
    assert!(
        r1.get("unicast").is_none() && r1.get("peers").is_none(),
        "{r1}"
    );
    assert_eq!(r1["vrrp"]["interval"], 10);
    let first = strs(&r1["order"])[0].clone();
    assert_eq!(r1["vrrp"]["priority"][first.as_str()], 254);
    // The summary's losses are exactly the pairs counted above.
    let u = &doc["unicast"];
    assert_eq!(u["vips"], 3);
    let lost: BTreeMap<Vec<String>, Vec<String>> = u["lost_after_double_failure"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (strs(&l["nodes"]), strs(&l["vips"])))
        .collect();
    assert_eq!(lost, pairs);
    assert!(u["single_failure"].as_u64() <= u["single_failure_bound"].as_u64());
    let text = carpctl(&["-c", file, "plan"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains("[vrrp, interval 10 cs]"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("(prio 254)"), "{}", text.stdout);
    assert!(
        text.stdout.contains("unicast: 3 VIPs in pairs\n"),
        "{}",
        text.stdout
    );
    for (nodes, vips) in &pairs {
        let line = format!(
            "  {} and {} down: lost {}\n",
            nodes[0],
            nodes[1],
            vips.join(", ")
        );
        assert!(text.stdout.contains(&line), "{line} in {}", text.stdout);
    }
}

/// Explicit unicast pairs that break ⌈M/(N−1)⌉ are shown, not refused,
/// and the text says the bound is exceeded.
#[test]
fn unicast_pairs_from_prefer_that_break_the_bound_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("[cluster]\nunicast = true\n");
    for n in ["a", "b", "c"] {
        text.push_str(&format!(
            "[[node]]\nname = \"{n}\"\naddresses = {{ em0 = [\"192.0.2.{}\"] }}\n",
            n.as_bytes()[0] - b'a' + 1
        ));
    }
    // All three on a with b as backup: after a fails b holds 3 > ⌈3/2⌉.
    for i in 1..=3 {
        text.push_str(&format!(
            "[[vip]]\nname = \"v{i}\"\nvhid = {i}\ninterface = \"em0\"\n\
             addresses = [\"198.51.100.{i}/32\"]\npassword = \"pw{i}\"\nprefer = [\"a\", \"b\"]\n"
        ));
    }
    let file = &private_file(dir.path(), &text);
    let doc = json(&carpctl(&["-c", file, "plan", "--json"]));
    assert_eq!(doc["unicast"]["single_failure"], 3);
    assert_eq!(doc["unicast"]["single_failure_bound"], 2);
    let r = carpctl(&["-c", file, "plan"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("at most 3 unicast VIPs on a survivor (bound 2, above it: see prefer)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("  a and b down: lost v1, v2, v3\n"),
        "{}",
        r.stdout
    );
}

/// Issue 12 item 3: pinned values are marked in text and JSON, and when
/// they break the balance bound `plan` says so without refusing; the
/// rc.conf lines carry the pinned values.
#[test]
fn pinned_values_are_marked_and_a_broken_bound_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "[[node]]\nname = \"a\"\naddresses = { em0 = [\"192.0.2.101\"] }\n\
         [[node]]\nname = \"b\"\naddresses = { em0 = [\"192.0.2.102\"] }\n\
         [[node]]\nname = \"c\"\naddresses = { em0 = [\"192.0.2.103\"] }\n",
    );
    // Every multicast VIP pinned to a first: a bound broken by pins.
    for i in 1..=3 {
        text.push_str(&format!(
            "[[vip]]\nname = \"v{i}\"\nvhid = {i}\ninterface = \"em0\"\n\
             addresses = [\"192.0.2.{i}/32\"]\npassword = \"pw{i}\"\n\
             advskew = {{ a = 0, b = 100, c = 200 }}\n"
        ));
    }
    // Two unicast VIPs, both pinned to the pair a-b.
    for i in 4..=5 {
        text.push_str(&format!(
            "[[vip]]\nname = \"u{i}\"\nvhid = {i}\ninterface = \"em0\"\n\
             addresses = [\"192.0.2.{i}/32\"]\npassword = \"pw{i}\"\nunicast = true\n\
             advskew = {{ a = 0, b = 10 }}\n"
        ));
    }
    let file = &private_file(dir.path(), &text);
    let doc = json(&carpctl(&["-c", file, "plan", "--json"]));
    assert_eq!(doc["balanced"], false);
    assert_eq!(doc["vips"][0]["source"], "pinned");
    assert_eq!(doc["vips"][0]["advskew"]["c"], 200);
    let notes = strs(&doc["balance"]["notes"]);
    assert!(
        notes.iter().any(|n| n.contains(
            "v1, v2, v3, u4, u5 follows the advskew or priority values pinned in the \
                 file and is kept as is;"
        )),
        "{notes:?}"
    );
    assert_eq!(strs(&doc["unicast"]["pinned"]), ["u4", "u5"]);
    let r = carpctl(&["-c", file, "plan"]);
    assert_eq!(
        r.code, 0,
        "pins that break the bound are shown, not refused"
    );
    assert!(
        r.stdout.contains("a(0) b(100) c(200)  [pinned advskew]"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("pinned in the file"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("see prefer and the pinned values of u4, u5"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("vhid 1 advskew 200 pass"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("A VIP with pinned advskews moves by its own values"),
        "{}",
        r.stdout
    );
    assert_eq!(doc["vips"][0]["demotion_off"]["a"], 201);
}

/// `plan --freebsd`: VRRP on a target without it and unicast on 13 are
/// errors naming the VIP and the target (exit 2); the target is said in
/// text and JSON, `main` by default.
#[test]
fn plan_checks_the_vips_against_the_freebsd_target() {
    let dir = tempfile::tempdir().unwrap();
    let file = private_file(
        dir.path(),
        "[[node]]\nname = \"a\"\naddresses = { lan = [\"192.0.2.1\"] }\n\
         [[node]]\nname = \"b\"\naddresses = { lan = [\"192.0.2.2\"] }\n\
         [[vip]]\nname = \"gw\"\nvhid = 1\ninterface = \"lan\"\n\
         addresses = [\"192.0.2.10/32\"]\nprotocol = \"vrrp\"\n\
         [[vip]]\nname = \"web\"\nvhid = 2\ninterface = \"lan\"\n\
         addresses = [\"192.0.2.11/32\"]\npassword = \"pw\"\nunicast = true\n",
    );
    let doc = json(&carpctl(&["-c", &file, "plan", "--json"]));
    assert_eq!(doc["freebsd"], "main");
    for target in ["15", "main"] {
        let r = carpctl(&["-c", &file, "plan", "--freebsd", target]);
        assert_eq!(r.code, 0, "{target}: {}", r.stderr);
        assert!(
            r.stdout
                .contains(&format!("target: FreeBSD {target} (--freebsd)")),
            "{}",
            r.stdout
        );
    }
    let r = carpctl(&["-c", &file, "plan", "--freebsd", "14"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "vip \"gw\": VRRPv3 needs FreeBSD 15.0 or later, and the target is FreeBSD 14"
        ),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("\"web\""), "{}", r.stderr);
    let r = carpctl(&["-c", &file, "plan", "--freebsd", "13", "--json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("vip \"gw\": VRRPv3"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("vip \"web\": unicast peers need FreeBSD 14.0"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--freebsd 13"), "{}", r.stderr);
    let r = carpctl(&["-c", &file, "plan", "--freebsd", "12"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}
