//! `carpctl apply` of unicast and VRRPv3 VIPs (issue 12,
//! docs/design-unicast-vrrp.md "apply and status") against emulated hosts
//! of every FreeBSD flavor: what reaches the kernel, what a change does,
//! rollback of each step, and the refusals of what a release lacks.

use std::fs;
use std::path::PathBuf;

use serde_json::json;

use crate::apply::{Lab, carpctl, json, rollback_at_every_call, status, vhid};

/// Two nodes with addresses on `lan`; `vips` after them.
fn file(vips: &str) -> String {
    format!(
        r#"
[cluster]
preempt = true

[[node]]
name = "a"
interfaces = {{ lan = "em0" }}
addresses = {{ lan = ["192.0.2.1", "fe80::a"] }}
[[node]]
name = "b"
interfaces = {{ lan = "em0" }}
addresses = {{ lan = ["192.0.2.2", "fe80::b"] }}
{vips}"#
    )
}

/// VIP `v` (vhid 1, master a) with `extra`.
fn vip_v(extra: &str) -> String {
    format!(
        "[[vip]]\nname = \"v\"\nvhid = 1\ninterface = \"lan\"\n\
         addresses = [\"192.0.2.10/32\", \"192.0.2.12/32\"]\nprefer = [\"a\", \"b\"]\n{extra}\n"
    )
}

/// VIP `u` (vhid 2, master b, IPv4 and IPv6) with `extra`.
fn vip_u(extra: &str) -> String {
    format!(
        "[[vip]]\nname = \"u\"\nvhid = 2\ninterface = \"lan\"\n\
         addresses = [\"192.0.2.11/32\", \"2001:db8::11/128\"]\npassword = \"pw\"\n\
         prefer = [\"b\", \"a\"]\n{extra}\n"
    )
}

fn host(lab: &Lab, name: &str, flavor: &str) -> PathBuf {
    lab.host(name, &["--freebsd", flavor, "--iface", "em0=192.0.2.1/24"])
}

/// Apply `cfg` as node a, which must succeed.
fn apply_ok(host: &std::path::Path, cfg: &std::path::Path) -> serde_json::Value {
    let out = carpctl(host, cfg, "a", &["apply", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out)
}

#[test]
fn vrrp_and_unicast_reach_the_kernel_where_the_release_has_them() {
    let lab = Lab::new();
    let both = lab.write(
        "both.toml",
        &file(
            &[
                vip_v("protocol = \"vrrp\"\ninterval = 50"),
                vip_u("unicast = true"),
            ]
            .concat(),
        ),
        0o600,
    );
    for flavor in ["13", "14", "15", "main"] {
        let h = host(&lab, &format!("h{flavor}"), flavor);
        let before = fs::read(&h).unwrap();
        let out = carpctl(&h, &both, "a", &["apply"]);
        let err = String::from_utf8_lossy(&out.stderr);
        match flavor {
            "13" | "14" => {
                assert_eq!(out.status.code(), Some(2), "{flavor}: {err}");
                let release = if flavor == "13" {
                    "13.5-RELEASE"
                } else {
                    "14.1-RELEASE"
                };
                assert!(
                    err.contains(&format!("node a runs FreeBSD {release}")),
                    "{err}"
                );
                assert!(
                    err.contains("vip \"v\" (VRRPv3 needs FreeBSD 15.0"),
                    "{err}"
                );
                // 14.x has unicast peers; 13.x has not.
                assert_eq!(
                    err.contains("vip \"u\" (unicast peers need"),
                    flavor == "13",
                    "{err}"
                );
                assert!(err.contains("nothing was changed"), "{err}");
                assert_eq!(fs::read(&h).unwrap(), before, "{flavor}: host changed");
            }
            _ => {
                assert!(out.status.success(), "{flavor}: {err}");
                let s = status(&h);
                let (v, u) = (vhid(&s, 1), vhid(&s, 2));
                assert_eq!(v["protocol"], "vrrpv3", "{flavor}: {v}");
                assert_eq!(v["vrrp_priority"], 254, "{flavor}: {v}");
                assert_eq!(v["vrrp_interval"], 50, "{flavor}: {v}");
                assert_eq!(v["peer"], json!(null), "{flavor}: {v}");
                assert_eq!(u["protocol"], "carp", "{flavor}: {u}");
                assert_eq!(u["peer"], "192.0.2.2", "{flavor}: {u}");
                assert_eq!(u["peer6"], "fe80::b", "{flavor}: {u}");
                // A second apply finds nothing to do.
                assert_eq!(apply_ok(&h, &both)["changes"], json!([]), "{flavor}");
            }
        }
    }
    // carp.ko not loaded yet: the release number decides, before loading it.
    for (flavor, ok) in [("13", false), ("14", false), ("15", true)] {
        let h = lab.host(
            &format!("n{flavor}"),
            &[
                "--freebsd",
                flavor,
                "--iface",
                "em0=192.0.2.1/24",
                "--no-carp-module",
            ],
        );
        let before = fs::read(&h).unwrap();
        let out = carpctl(&h, &both, "a", &["apply"]);
        let err = String::from_utf8_lossy(&out.stderr);
        if ok {
            assert!(out.status.success(), "{flavor}: {err}");
            assert_eq!(vhid(&status(&h), 1)["protocol"], "vrrpv3");
        } else {
            assert_eq!(out.status.code(), Some(2), "{flavor}: {err}");
            assert!(err.contains("vip \"v\" (VRRPv3"), "{flavor}: {err}");
            assert_eq!(fs::read(&h).unwrap(), before, "{flavor}: host changed");
        }
    }
    // Unicast alone on 14.x: applied.
    let uni = lab.write("uni.toml", &file(&vip_u("unicast = true")), 0o600);
    let h = host(&lab, "h14u", "14");
    apply_ok(&h, &uni);
    assert_eq!(vhid(&status(&h), 2)["peer"], "192.0.2.2");
    assert_eq!(apply_ok(&h, &uni)["changes"], json!([]));
}

/// Apply `from` to a fresh host of `flavor`, then `to` with each mutating
/// call failing in turn (every failure must leave the host byte for byte
/// as `from` left it), then `to` for good; returns the final status and
/// the failure messages.
fn change(lab: &Lab, flavor: &str, from: &str, to: &str) -> (serde_json::Value, Vec<String>) {
    let tag = format!("{flavor}-{}", lab_count(lab));
    let from = lab.write(&format!("from-{tag}.toml"), &file(from), 0o600);
    let to = lab.write(&format!("to-{tag}.toml"), &file(to), 0o600);
    let errors = rollback_at_every_call(&to, "a", |name| {
        let h = host(lab, &format!("{tag}-{name}"), flavor);
        apply_ok(&h, &from);
        h
    });
    let h = host(lab, &format!("{tag}-final"), flavor);
    apply_ok(&h, &from);
    apply_ok(&h, &to);
    assert_eq!(
        apply_ok(&h, &to)["changes"],
        json!([]),
        "{flavor}: not idempotent"
    );
    (status(&h), errors)
}

/// A fresh number per call, for file names.
fn lab_count(lab: &Lab) -> usize {
    fs::read_dir(lab.dir.path()).unwrap().count()
}

#[test]
fn vrrp_interval_and_priority_changes_are_applied_and_rolled_back() {
    let lab = Lab::new();
    for flavor in ["15", "main"] {
        let (s, errors) = change(
            &lab,
            flavor,
            &vip_v("protocol = \"vrrp\"\ninterval = 50"),
            &vip_v("protocol = \"vrrp\"\ninterval = 20")
                .replace("prefer = [\"a\", \"b\"]", "prefer = [\"b\", \"a\"]"),
        );
        // One update of the vhid: one mutating call.
        assert_eq!(errors.len(), 1, "{flavor}: {errors:#?}");
        assert!(errors[0].contains("priority 254 -> "), "{}", errors[0]);
        assert!(errors[0].contains("interval 50 -> 20 cs"), "{}", errors[0]);
        let v = vhid(&s, 1);
        assert_eq!(v["vrrp_interval"], 20, "{flavor}: {v}");
        assert!(v["vrrp_priority"].as_u64().unwrap() < 254, "{flavor}: {v}");
    }
}

#[test]
fn unicast_peer_changes_and_the_way_back_to_multicast_are_rolled_back() {
    let lab = Lab::new();
    for flavor in ["14", "15", "main"] {
        // b's address changes: a's peer follows.
        let (s, errors) = change(
            &lab,
            flavor,
            &vip_u("unicast = true"),
            &vip_u("unicast = true"),
        );
        assert!(
            errors.is_empty(),
            "{flavor}: same file, no change: {errors:#?}"
        );
        assert_eq!(vhid(&s, 2)["peer"], "192.0.2.2");
        let tag = lab_count(&lab);
        let from = lab.write(
            &format!("p{tag}.toml"),
            &file(&vip_u("unicast = true")),
            0o600,
        );
        let to_text = file(&vip_u("unicast = true")).replace("192.0.2.2\"", "192.0.2.5\"");
        let to = lab.write(&format!("q{tag}.toml"), &to_text, 0o600);
        let errors = rollback_at_every_call(&to, "a", |name| {
            let h = host(&lab, &format!("p{tag}-{name}"), flavor);
            apply_ok(&h, &from);
            h
        });
        assert_eq!(errors.len(), 1, "{flavor}: {errors:#?}");
        assert!(
            errors[0].contains("peer 192.0.2.2 -> 192.0.2.5"),
            "{}",
            errors[0]
        );

        // Back to multicast: the group address is sent for both families.
        let (s, errors) = change(&lab, flavor, &vip_u("unicast = true"), &vip_u(""));
        assert_eq!(errors.len(), 1, "{flavor}: {errors:#?}");
        assert!(
            errors[0].contains("peer 192.0.2.2 -> multicast"),
            "{}",
            errors[0]
        );
        assert!(
            errors[0].contains("peer6 fe80::b -> multicast"),
            "{}",
            errors[0]
        );
        let u = vhid(&s, 2);
        assert_eq!(u["peer"], json!(null), "{flavor}: {u}");
        assert_eq!(u["peer6"], json!(null), "{flavor}: {u}");
    }
}

#[test]
fn a_protocol_change_recreates_the_vhid_and_is_rolled_back_exactly() {
    let lab = Lab::new();
    for flavor in ["15", "main"] {
        for (from, to, want) in [
            ("", "protocol = \"vrrp\"", "vrrpv3"),
            ("protocol = \"vrrp\"", "", "carp"),
        ] {
            let (s, errors) = change(&lab, flavor, &vip_v(from), &vip_v(to));
            // Remove both addresses (the second destroys the vhid), create
            // it, add both: five mutating calls, each failed once.
            assert_eq!(errors.len(), 5, "{flavor} -> {want}: {errors:#?}");
            assert!(
                errors[0].contains("to re-create it: protocol"),
                "{}",
                errors[0]
            );
            let v = vhid(&s, 1);
            assert_eq!(v["protocol"], want, "{flavor}: {v}");
            let mut addrs: Vec<&str> = v["addresses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            addrs.sort_unstable();
            assert_eq!(addrs, ["192.0.2.10/32", "192.0.2.12/32"], "{flavor}");
        }
    }
}

#[test]
fn status_check_reports_a_wrong_peer_priority_or_interval_as_drift() {
    let lab = Lab::new();
    // a is rank 1 of both VIPs: BACKUP is where it should be.
    let planned = file(
        &[
            vip_v("protocol = \"vrrp\"\ninterval = 50")
                .replace("prefer = [\"a\", \"b\"]", "prefer = [\"b\", \"a\"]"),
            vip_u("unicast = true"),
        ]
        .concat(),
    );
    let planned_cfg = lab.write("planned.toml", &planned, 0o600);
    let other = planned
        .replace("interval = 50", "interval = 20")
        .replace(
            "prefer = [\"b\", \"a\"]\nprotocol",
            "prefer = [\"a\", \"b\"]\nprotocol",
        )
        .replace("192.0.2.2\"", "192.0.2.5\"");
    let other_cfg = lab.write("other.toml", &other, 0o600);
    let h = host(&lab, "h", "15");
    apply_ok(&h, &planned_cfg);
    let out = carpctl(&h, &planned_cfg, "a", &["status", "--check"]);
    assert!(
        out.status.success(),
        "as planned: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    apply_ok(&h, &other_cfg);
    let out = carpctl(&h, &planned_cfg, "a", &["status", "--check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("v (vhid 1@em0) has priority 254, planned "),
        "{err}"
    );
    assert!(
        err.contains("v (vhid 1@em0) has interval 20, planned 50"),
        "{err}"
    );
    assert!(
        err.contains("u (vhid 2@em0) has peer 192.0.2.5, planned 192.0.2.2"),
        "{err}"
    );
    let out = carpctl(&h, &planned_cfg, "a", &["status", "--json"]);
    let drift = &json(&out)["cluster"]["vips"][1]["drift"];
    assert_eq!(
        drift,
        &json!(["peer 192.0.2.5, planned 192.0.2.2"]),
        "{drift}"
    );
}

/// `maintenance on` holds a VRRP vhid at the maintenance priority 1, which
/// `apply` keeps and `status --check` does not call drift; `off` restores
/// the planned priority. A kill -9 right after the ledger's commit leaves
/// the old priority, which the next `maintenance` command puts right.
#[test]
fn maintenance_holds_vrrp_vhids_at_priority_1_and_off_restores_them() {
    let lab = Lab::new();
    // a is rank 1 (BACKUP as planned, so --check looks at drift only).
    let text = file(
        &vip_v("protocol = \"vrrp\"\ninterval = 50")
            .replace("prefer = [\"a\", \"b\"]", "prefer = [\"b\", \"a\"]"),
    );
    let cfg = lab.write("m.toml", &text, 0o600);
    let h = host(&lab, "h", "15");
    apply_ok(&h, &cfg);
    let planned = vhid(&status(&h), 1)["vrrp_priority"].as_u64().unwrap();
    assert!(planned > 1 && planned < 254, "{planned}");
    let run = |args: &[&str], kill: Option<&str>| {
        let mut c = std::process::Command::new(crate::common::BIN);
        c.arg("--kernel")
            .arg(format!("emulated:{}", h.display()))
            .arg("-c")
            .arg(&cfg)
            .args(["--node", "a"])
            .args(args);
        if let Some(step) = kill {
            c.env("CARPCTL_LEDGER_KILL_AT", step);
        }
        c.output().unwrap()
    };
    let prio = || vhid(&status(&h), 1)["vrrp_priority"].as_u64().unwrap();
    // Run `args`, which must succeed; its standard output.
    let ok = |args: &[&str]| {
        let out = run(args, None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {err}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    let text_out = ok(&["maintenance", "on"]);
    assert!(
        text_out.contains(&format!("VRRP vhid 1@em0 (v): priority {planned} -> 1")),
        "{text_out}"
    );
    assert_eq!(prio(), 1);
    ok(&["status", "--check"]);
    // apply keeps the maintenance priority.
    assert_eq!(apply_ok(&h, &cfg)["changes"], json!([]));
    assert_eq!(prio(), 1);

    ok(&["maintenance", "off"]);
    assert_eq!(prio(), planned);
    ok(&["status", "--check"]);

    // Killed after the ledger's commit, before the priority is written.
    let out = run(&["maintenance", "on"], Some("ledger-written"));
    assert!(!out.status.success());
    assert_eq!(prio(), planned);
    let out = run(&["status", "--check"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("priority {planned}, planned 1")),
        "{err}"
    );
    // The next command repairs it, although maintenance is already on.
    assert!(ok(&["maintenance", "on"]).contains("already on"));
    assert_eq!(prio(), 1);
    // Same for off.
    let out = run(&["maintenance", "off"], Some("ledger-written"));
    assert!(!out.status.success());
    assert_eq!(prio(), 1);
    ok(&["maintenance", "off"]);
    assert_eq!(prio(), planned);
}

/// The stepped `maintenance on` hands a VRRP VIP this node is MASTER of
/// to its next rank first: one below the next rank's planned priority
/// (a tie preempts nobody), then, after the wait, the maintenance
/// priority 1; `off` restores the planned one.
#[test]
fn stepped_maintenance_hands_a_vrrp_vip_to_the_next_rank_first() {
    let lab = Lab::new();
    let cfg = lab.write(
        "m.toml",
        &file(&vip_v("protocol = \"vrrp\"\ninterval = 50")),
        0o600,
    );
    let h = host(&lab, "h", "15");
    apply_ok(&h, &cfg);
    let planned = vhid(&status(&h), 1)["vrrp_priority"].as_u64().unwrap();
    let plan = json(&carpctl(&h, &cfg, "a", &["plan", "--json"]));
    let next = plan["vips"][0]["vrrp"]["priority"]["b"].as_u64().unwrap();
    assert!(next + 1 < planned, "{plan}");
    // Run as node a, which must succeed; its standard output.
    let ok = |args: &[&str]| {
        let out = carpctl(&h, &cfg, "a", args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {err}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ok(&["state", "v", "master"]);
    let text = ok(&["maintenance", "on", "--wait", "0.2"]);
    assert!(
        text.contains(&format!(
            "VRRP vhid 1@em0 (v): priority {planned} -> {} (first step",
            next - 1
        )),
        "{text}"
    );
    // Still MASTER here (no peer): the wait ends, then priority 1.
    assert!(
        text.contains(&format!("VRRP vhid 1@em0 (v): priority {} -> 1", next - 1)),
        "{text}"
    );
    assert_eq!(vhid(&status(&h), 1)["vrrp_priority"], 1);
    ok(&["maintenance", "off"]);
    assert_eq!(vhid(&status(&h), 1)["vrrp_priority"], planned);
}
