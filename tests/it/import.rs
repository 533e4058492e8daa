//! `carpctl import` round trip (issue 12 item 5, acceptance): rc.conf files
//! with unicast peers, VRRPv3 and hand-set advskews become a cluster file
//! whose `plan` writes rc.conf lines with the same ifconfig arguments; and
//! what a cluster file cannot say is refused, naming file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;

use carpctl::lint::rcconf::analyze;
use carpctl::rcconf::model::VhidEntry;

use crate::common::run_carpctl_in as carpctl_in;

/// What a vhid's ifconfig arguments configure, defaults made explicit.
#[derive(Debug, PartialEq, Eq)]
struct Args {
    iface: String,
    advskew: u8,
    advbase: u8,
    pass: Option<String>,
    version: u8,
    vrrpprio: u8,
    vrrpinterval: u16,
    peer: Option<String>,
    peer6: Option<String>,
    addresses: BTreeSet<String>,
}

fn args(e: &VhidEntry) -> Args {
    let vrrp = e.version == 3;
    Args {
        iface: e.iface.clone(),
        advskew: if vrrp { 0 } else { e.advskew },
        advbase: if vrrp { 1 } else { e.advbase },
        pass: e.pass.as_ref().map(|p| format!("{:?}", p.0)),
        version: e.version,
        vrrpprio: e.vrrpprio.unwrap_or(100),
        vrrpinterval: e.vrrpinterval.unwrap_or(100),
        peer: e.peer.map(|p| p.0.to_string()),
        peer6: e.peer6.map(|p| p.0.to_string()),
        addresses: e.addresses.iter().map(|(a, _)| a.to_string()).collect(),
    }
}

fn vhids(rc_conf: &str) -> BTreeMap<u8, Args> {
    analyze(rc_conf)
        .vhids
        .iter()
        .map(|e| (e.vhid, args(e)))
        .collect()
}

/// Import `files` (node name, rc.conf) in a temporary directory, create
/// the key files import asks for with the passwords in `keys` (VIP name,
/// password), and check that `plan --show-secrets --node N` writes, for
/// each node, vhids with the same arguments as its rc.conf. Returns the
/// cluster file.
fn round_trip(files: &[(&str, &str)], keys: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut argv = vec!["import".to_string()];
    for (name, text) in files {
        fs::write(dir.path().join(format!("{name}.rc.conf")), text).unwrap();
        argv.push(format!("{name}={name}.rc.conf"));
    }
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let r = carpctl_in(dir.path(), &argv);
    assert_eq!(r.code, 0, "{r:?}");
    let toml = r.stdout;
    let kd = dir.path().join("carpctl.d");
    fs::create_dir(&kd).unwrap();
    fs::set_permissions(&kd, fs::Permissions::from_mode(0o700)).unwrap();
    for (vip, pw) in keys {
        let p = kd.join(format!("{vip}.key"));
        fs::write(&p, format!("{pw}\n")).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let file = dir.path().join("carpctl.toml");
    fs::write(&file, &toml).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    for (name, text) in files {
        let r = carpctl_in(
            dir.path(),
            &[
                "-c",
                "carpctl.toml",
                "--node",
                name,
                "plan",
                "--show-secrets",
            ],
        );
        assert_eq!(r.code, 0, "{r:?}\n{toml}");
        let lines: String = r
            .stdout
            .lines()
            .filter(|l| l.starts_with("ifconfig_"))
            .map(|l| format!("{l}\n"))
            .collect();
        let want = vhids(text);
        assert!(!want.is_empty(), "{text}");
        assert_eq!(vhids(&lines), want, "node {name}\n{toml}\n{lines}");
    }
    toml
}

#[test]
fn unicast_peers_round_trip_with_pinned_advskews() {
    let a = "hostname=\"a\"\nifconfig_em0=\"inet 192.0.2.1/24\"\n\
             ifconfig_em0_ipv6=\"inet6 2001:db8::1 prefixlen 64\"\n\
             ifconfig_em0_alias0=\"inet vhid 1 pass one peer 192.0.2.2 alias 192.0.2.10/32\"\n\
             ifconfig_em0_alias1=\"inet6 vhid 1 pass one peer6 2001:db8::2 alias 2001:db8::10 prefixlen 64\"\n\
             ifconfig_em0_alias2=\"inet vhid 2 advskew 100 pass two peer 192.0.2.2 alias 192.0.2.11/32\"\n";
    let b = "hostname=\"b\"\nifconfig_em0=\"inet 192.0.2.2/24\"\n\
             ifconfig_em0_ipv6=\"inet6 2001:db8::2 prefixlen 64\"\n\
             ifconfig_em0_alias0=\"inet vhid 1 advskew 100 pass one peer 192.0.2.1 alias 192.0.2.10/32\"\n\
             ifconfig_em0_alias1=\"inet6 vhid 1 advskew 100 pass one peer6 2001:db8::1 alias 2001:db8::10 prefixlen 64\"\n\
             ifconfig_em0_alias2=\"inet vhid 2 pass two peer 192.0.2.1 alias 192.0.2.11/32\"\n";
    let toml = round_trip(&[("a", a), ("b", b)], &[("vhid1", "one"), ("vhid2", "two")]);
    assert!(toml.contains("unicast = true"), "{toml}");
    assert!(
        toml.contains("addresses = { em0 = [\"192.0.2.1\", \"2001:db8::1\"] }"),
        "{toml}"
    );
    assert!(toml.contains("advskew = { b = 0, a = 100 }"), "{toml}");
}

#[test]
fn link_local_peers_round_trip_beside_global_own_addresses() {
    // The rc.conf lists the global address only; the link-local peer is
    // compared with link-local addresses, which it does not list.
    let node = |name: &str, own: u8, peer: u8, skew: u8| {
        format!(
            "hostname=\"{name}\"\nifconfig_em0_ipv6=\"inet6 2001:db8::{own} prefixlen 64\"\n\
             ifconfig_em0_alias0=\"inet6 vhid 1 advskew {skew} pass p peer6 fe80::{peer}%em0 alias 2001:db8::10 prefixlen 64\"\n"
        )
    };
    let toml = round_trip(
        &[("a", &node("a", 1, 2, 0)), ("b", &node("b", 2, 1, 4))],
        &[("vhid1", "p")],
    );
    assert!(
        toml.contains("addresses = { em0 = [\"fe80::1\"] }"),
        "{toml}"
    );
}

#[test]
fn vrrp_round_trips_with_and_without_pinned_priorities() {
    // vhid 1: the derived priorities at 100 cs (254, 251, 248): no pin.
    // vhid 2: hand-set 200/150/100 at 50 cs: pinned.
    let node = |name: &str, own: u8, p1: u8, p2: u8| {
        format!(
            "hostname=\"{name}\"\nifconfig_em0=\"inet 192.0.2.{own}/24\"\n\
             ifconfig_em0_alias0=\"inet vhid 1 carpver 3 vrrpprio {p1} alias 192.0.2.10/32\"\n\
             ifconfig_em0_alias1=\"inet vhid 2 carpver 3 vrrpprio {p2} vrrpinterval 50 alias 192.0.2.11/32\"\n"
        )
    };
    let (a, b, c) = (
        node("a", 1, 254, 100),
        node("b", 2, 251, 200),
        node("c", 3, 248, 150),
    );
    let toml = round_trip(&[("a", &a), ("b", &b), ("c", &c)], &[]);
    assert!(toml.contains("protocol = \"vrrp\""), "{toml}");
    assert!(toml.contains("interval = 50"), "{toml}");
    assert_eq!(toml.matches("priority = {").count(), 1, "{toml}");
    assert!(
        toml.contains("priority = { b = 200, c = 150, a = 100 }"),
        "{toml}"
    );
}

#[test]
fn equal_advskews_round_trip_with_allow_tie() {
    // FreeBSD's own tests give both nodes advskew 0 on purpose.
    let node = |name: &str, own: u8| {
        format!(
            "hostname=\"{name}\"\nifconfig_em0=\"inet 192.0.2.{own}/24\"\n\
             ifconfig_em0_alias0=\"inet vhid 1 advskew 0 pass same alias 192.0.2.10/32\"\n"
        )
    };
    let toml = round_trip(
        &[("a", &node("a", 1)), ("b", &node("b", 2))],
        &[("vhid1", "same")],
    );
    assert!(toml.contains("allow_tie = true"), "{toml}");
    // Skews the ladder reproduces (0, 4) stay unpinned.
    let node = |name: &str, own: u8, skew: u8| {
        format!(
            "hostname=\"{name}\"\nifconfig_em0=\"inet 192.0.2.{own}/24\"\n\
             ifconfig_em0_alias0=\"inet vhid 1 advskew {skew} pass same alias 192.0.2.10/32\"\n"
        )
    };
    let toml = round_trip(
        &[("a", &node("a", 1, 4)), ("b", &node("b", 2, 0))],
        &[("vhid1", "same")],
    );
    assert!(!toml.contains("advskew ="), "{toml}");
}

/// A refusal case: what, the files (node, rc.conf), the message expected.
type Refusal = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// The refusals: exit 2, the file and line named, nothing on stdout.
#[test]
fn what_a_cluster_file_cannot_say_is_refused_at_its_line() {
    let cases: &[Refusal] = &[
        (
            "peers that do not point at each other",
            &[
                (
                    "a",
                    "ifconfig_em0=\"inet 192.0.2.1/24\"\nifconfig_em0_alias0=\"inet vhid 1 pass p peer 192.0.2.9 alias 192.0.2.10/32\"\n",
                ),
                (
                    "b",
                    "ifconfig_em0=\"inet 192.0.2.2/24\"\nifconfig_em0_alias0=\"inet vhid 1 advskew 4 pass p peer 192.0.2.1 alias 192.0.2.10/32\"\n",
                ),
            ],
            "a.rc.conf:2: vhid 1: a's peer is 192.0.2.9, which is not b's address",
        ),
        (
            "one peer only",
            &[
                (
                    "a",
                    "ifconfig_em0=\"inet 192.0.2.1/24\"\nifconfig_em0_alias0=\"inet vhid 1 pass p peer 192.0.2.2 alias 192.0.2.10/32\"\n",
                ),
                (
                    "b",
                    "ifconfig_em0=\"inet 192.0.2.2/24\"\nifconfig_em0_alias0=\"inet vhid 1 advskew 4 pass p alias 192.0.2.10/32\"\n",
                ),
            ],
            "b.rc.conf:2: vhid 1: a names a peer",
        ),
        (
            "a unicast vhid on three nodes",
            &[
                (
                    "a",
                    "ifconfig_em0=\"inet 192.0.2.1/24\"\nifconfig_em0_alias0=\"inet vhid 1 pass p peer 192.0.2.2 alias 192.0.2.10/32\"\n",
                ),
                (
                    "b",
                    "ifconfig_em0=\"inet 192.0.2.2/24\"\nifconfig_em0_alias0=\"inet vhid 1 advskew 4 pass p peer 192.0.2.1 alias 192.0.2.10/32\"\n",
                ),
                (
                    "c",
                    "ifconfig_em0=\"inet 192.0.2.3/24\"\nifconfig_em0_alias0=\"inet vhid 1 advskew 8 pass p peer 192.0.2.1 alias 192.0.2.10/32\"\n",
                ),
            ],
            "vhid 1 is unicast (peer) on 3 nodes (a, b, c)",
        ),
        (
            "different intervals",
            &[
                (
                    "a",
                    "ifconfig_em0=\"inet 192.0.2.1/24\"\nifconfig_em0_alias0=\"inet vhid 1 carpver 3 vrrpprio 200 vrrpinterval 50 alias 192.0.2.10/32\"\n",
                ),
                (
                    "b",
                    "ifconfig_em0=\"inet 192.0.2.2/24\"\nifconfig_em0_alias0=\"inet vhid 1 carpver 3 vrrpprio 100 alias 192.0.2.10/32\"\n",
                ),
            ],
            "b.rc.conf:2: vhid 1: vrrpinterval is 100 cs on b and 50 cs on a",
        ),
        (
            "CARP on one node, VRRP on the other",
            &[
                (
                    "a",
                    "ifconfig_em0=\"inet 192.0.2.1/24\"\nifconfig_em0_alias0=\"inet vhid 1 carpver 3 vrrpprio 200 alias 192.0.2.10/32\"\n",
                ),
                (
                    "b",
                    "ifconfig_em0=\"inet 192.0.2.2/24\"\nifconfig_em0_alias0=\"inet vhid 1 advskew 4 pass p alias 192.0.2.10/32\"\n",
                ),
            ],
            "b.rc.conf:2: vhid 1 is VRRPv3 (carpver 3) on a",
        ),
        (
            "the owner's priority",
            &[
                (
                    "a",
                    "ifconfig_em0=\"inet 192.0.2.1/24\"\nifconfig_em0_alias0=\"inet vhid 1 carpver 3 vrrpprio 255 alias 192.0.2.10/32\"\n",
                ),
                (
                    "b",
                    "ifconfig_em0=\"inet 192.0.2.2/24\"\nifconfig_em0_alias0=\"inet vhid 1 carpver 3 vrrpprio 100 alias 192.0.2.10/32\"\n",
                ),
            ],
            "a.rc.conf:2: vhid 1 on a: vrrpprio: priority 255 is the address owner's",
        ),
    ];
    for (what, files, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut argv = vec!["import".to_string()];
        for (name, text) in *files {
            fs::write(dir.path().join(format!("{name}.rc.conf")), text).unwrap();
            argv.push(format!("{name}={name}.rc.conf"));
        }
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let r = carpctl_in(dir.path(), &argv);
        assert_eq!(r.code, 2, "{what}: {r:?}");
        assert!(r.stdout.is_empty(), "{what}: {r:?}");
        assert!(
            r.stderr.contains(want),
            "{what}: want {want:?} in {}",
            r.stderr
        );
    }
}
