//! `carpctl lint` across nodes for unicast peers and VRRPv3 (issue 12 item
//! 5): CARP064-CARP068, and `--freebsd`.

use carpctl::lint::{self, Code, Finding, Input, Options, Target};

use crate::common::run_carpctl_in as carpctl_in;

fn lint_with(files: &[(&str, &str)], target: Target) -> Vec<Finding> {
    let inputs: Vec<Input> = files.iter().map(|(p, t)| Input::new(*p, *t)).collect();
    lint::lint(
        &inputs,
        &Options {
            cluster: false,
            target,
        },
    )
}

fn codes(files: &[(&str, &str)]) -> Vec<(String, usize, Code)> {
    lint_with(files, Target::MAIN)
        .into_iter()
        .filter(|f| f.code.id() >= "CARP060" && f.code.id() < "CARP080")
        .map(|f| (f.file.display().to_string(), f.line, f.code))
        .collect()
}

/// An rc.conf of node `name` with own address 192.0.2.`own`/24 on em0 and
/// one alias line `vhid`.
fn node(name: &str, own: u8, vhid: &str) -> String {
    format!(
        "hostname=\"{name}\"\nkld_list=\"carp\"\nifconfig_em0=\"inet 192.0.2.{own}/24\"\n\
         ifconfig_em0_alias0=\"{vhid}\"\n"
    )
}

#[test]
fn peers_pointing_at_each_other_pass() {
    let a = node(
        "a",
        1,
        "inet vhid 1 pass p peer 192.0.2.2 alias 192.0.2.10/32",
    );
    let b = node(
        "b",
        2,
        "inet vhid 1 advskew 4 pass p peer 192.0.2.1 alias 192.0.2.10/32",
    );
    assert_eq!(codes(&[("a/rc.conf", &a), ("b/rc.conf", &b)]), []);
}

#[test]
fn peers_that_do_not_point_at_each_other_are_errors() {
    // a's peer is a third address; b's is right.
    let a = node(
        "a",
        1,
        "inet vhid 1 pass p peer 192.0.2.9 alias 192.0.2.10/32",
    );
    let b = node(
        "b",
        2,
        "inet vhid 1 advskew 4 pass p peer 192.0.2.1 alias 192.0.2.10/32",
    );
    let found = lint_with(&[("a/rc.conf", &a), ("b/rc.conf", &b)], Target::MAIN);
    let f: Vec<&Finding> = found
        .iter()
        .filter(|f| f.code == Code::PeerMismatch)
        .collect();
    assert_eq!(f.len(), 1, "{found:#?}");
    assert_eq!((f[0].file.to_str(), f[0].line), (Some("a/rc.conf"), 4));
    assert!(
        f[0].message.contains("192.0.2.9, which is not b's address"),
        "{}",
        f[0].message
    );
    // A peer on one node only.
    let b = node("b", 2, "inet vhid 1 advskew 4 pass p alias 192.0.2.10/32");
    let a = node(
        "a",
        1,
        "inet vhid 1 pass p peer 192.0.2.2 alias 192.0.2.10/32",
    );
    assert_eq!(
        codes(&[("a/rc.conf", &a), ("b/rc.conf", &b)]),
        [("b/rc.conf".to_string(), 4, Code::PeerMismatch)]
    );
}

#[test]
fn one_protocol_per_vhid_across_nodes() {
    let a = node(
        "a",
        1,
        "inet vhid 1 carpver 3 vrrpprio 200 alias 192.0.2.10/32",
    );
    let b = node("b", 2, "inet vhid 1 advskew 4 pass p alias 192.0.2.10/32");
    assert_eq!(
        codes(&[("a/rc.conf", &a), ("b/rc.conf", &b)]),
        [("b/rc.conf".to_string(), 4, Code::ProtocolMismatch)]
    );
}

#[test]
fn vrrp_priorities_must_differ_and_intervals_agree() {
    let a = node(
        "a",
        1,
        "inet vhid 1 carpver 3 vrrpprio 200 alias 192.0.2.10/32",
    );
    let b = node(
        "b",
        2,
        "inet vhid 1 carpver 3 vrrpprio 200 alias 192.0.2.10/32",
    );
    let found = codes(&[("a/rc.conf", &a), ("b/rc.conf", &b)]);
    assert_eq!(found, [("b/rc.conf".to_string(), 4, Code::VrrpPriorityTie)]);
    assert_eq!(Code::VrrpPriorityTie.severity(), lint::Severity::Error);
    let b = node(
        "b",
        2,
        "inet vhid 1 carpver 3 vrrpprio 100 vrrpinterval 50 alias 192.0.2.10/32",
    );
    assert_eq!(
        codes(&[("a/rc.conf", &a), ("b/rc.conf", &b)]),
        [("b/rc.conf".to_string(), 4, Code::IntervalMismatch)]
    );
    // Distinct priorities at one interval: nothing; and no password
    // mismatch for VRRP, whose pass the kernel ignores.
    let b = node(
        "b",
        2,
        "inet vhid 1 carpver 3 vrrpprio 100 alias 192.0.2.10/32",
    );
    assert_eq!(codes(&[("a/rc.conf", &a), ("b/rc.conf", &b)]), []);
}

#[test]
fn pass_on_another_line_of_a_vrrp_vhid_is_ignored_by_the_kernel() {
    let rc = "kld_list=\"carp\"\nifconfig_em0=\"inet 192.0.2.1/24\"\n\
              ifconfig_em0_alias0=\"inet vhid 1 carpver 3 alias 192.0.2.10/32\"\n\
              ifconfig_em0_alias1=\"inet vhid 1 pass p alias 192.0.2.11/32\"\n";
    let found = lint_with(&[("rc.conf", rc)], Target::MAIN);
    assert!(
        found
            .iter()
            .any(|f| f.code == Code::VrrpMixed && f.line == 4 && f.message.contains("ignored")),
        "{found:#?}"
    );
}

#[test]
fn the_target_release_decides_vrrp_and_peers() {
    let vrrp = node(
        "a",
        1,
        "inet vhid 1 carpver 3 vrrpprio 200 alias 192.0.2.10/32",
    );
    let peer = node(
        "b",
        2,
        "inet vhid 2 advskew 4 pass p peer 192.0.2.9 alias 192.0.2.11/32",
    );
    let on = |label, t: Target| -> Vec<(usize, String)> {
        lint_with(&[("rc.conf", &vrrp), ("b.rc.conf", &peer)], t)
            .into_iter()
            .filter(|f| f.code == Code::NotOnTarget)
            .map(|f| (f.line, f.message))
            .inspect(|(_, m)| assert!(m.contains(&format!("FreeBSD {label}")), "{m}"))
            .collect()
    };
    assert!(on("main", Target::MAIN).is_empty());
    let t14 = Target {
        label: "14",
        vrrp: false,
        unicast: true,
        legacy: false,
    };
    assert_eq!(on("14", t14).len(), 1);
    let t13 = Target {
        label: "13",
        vrrp: false,
        unicast: false,
        legacy: false,
    };
    assert_eq!(on("13", t13).len(), 2);
}

#[test]
fn lint_freebsd_on_the_command_line_and_in_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rc.conf"),
        node(
            "a",
            1,
            "inet vhid 1 carpver 3 vrrpprio 200 alias 192.0.2.10/32",
        ),
    )
    .unwrap();
    let r = carpctl_in(dir.path(), &["lint", "--freebsd", "14", "rc.conf"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("error[CARP068]: vhid 1 is VRRPv3 (carpver 3), which needs FreeBSD 15 or later, and lint assumed FreeBSD 14 (--freebsd 14)"),
        "{}",
        r.stdout
    );
    let r = carpctl_in(
        dir.path(),
        &["lint", "--json", "--freebsd", "15", "rc.conf"],
    );
    assert!(!r.stdout.contains("CARP068"), "{}", r.stdout);
    let r = carpctl_in(
        dir.path(),
        &["lint", "--json", "--freebsd", "13", "rc.conf"],
    );
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        doc["findings"].as_array().unwrap().iter().any(
            |f| f["code"] == "CARP068" && f["message"].as_str().unwrap().contains("FreeBSD 13")
        ),
        "{doc}"
    );
    let r = carpctl_in(dir.path(), &["lint", "--freebsd", "12", "rc.conf"]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn a_cluster_file_with_vrrp_and_unicast_on_an_older_target() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[node]]\nname = \"a\"\naddresses = { em0 = [\"192.0.2.1\"] }\n\
                [[node]]\nname = \"b\"\naddresses = { em0 = [\"192.0.2.2\"] }\n\
                [[vip]]\nname = \"v\"\nvhid = 1\ninterface = \"em0\"\naddresses = [\"192.0.2.10/32\"]\n\
                protocol = \"vrrp\"\n\
                [[vip]]\nname = \"u\"\nvhid = 2\ninterface = \"em0\"\naddresses = [\"192.0.2.11/32\"]\n\
                password = \"pw\"\nunicast = true\n";
    let path = dir.path().join("carpctl.toml");
    std::fs::write(&path, text).unwrap();
    let found = lint_with(
        &[(path.to_str().unwrap(), text)],
        Target {
            label: "13",
            vrrp: false,
            unicast: false,
            legacy: false,
        },
    );
    let lines: Vec<usize> = found
        .iter()
        .filter(|f| f.code == Code::NotOnTarget)
        .map(|f| f.line)
        .collect();
    assert_eq!(lines, [7, 13], "{found:#?}");
}
