//! `carpctl state VIP master|backup` against emulated hosts: forcing, the
//! refusals (unknown VIP, one this node does not carry, MASTER in
//! maintenance without --force) and the JSON document.

use std::fs;

use crate::apply::{Lab, carpctl, json, status, vhid};

const FILE: &str = r#"
[cluster]
preempt = true

[[node]]
name = "a"
interfaces = { lan = "em0" }
[[node]]
name = "b"
interfaces = { lan = "em0" }

[[vip]]
name = "web"
vhid = 1
interface = "lan"
addresses = ["192.0.2.10/32"]
password = "pw"
prefer = ["b", "a"]

[[vip]]
name = "gw"
vhid = 2
interface = "lan"
addresses = ["192.0.2.11/32"]
protocol = "vrrp"
prefer = ["b", "a"]

[[vip]]
name = "only-b"
vhid = 3
interface = "lan"
addresses = ["192.0.2.12/32"]
password = "pw"
prefer = ["b"]
"#;

#[test]
fn state_forces_master_and_backup_and_refuses_what_it_must() {
    let lab = Lab::new();
    let cfg = lab.write("c.toml", FILE, 0o600);
    let h = lab.host("h", &["--freebsd", "15", "--iface", "em0=192.0.2.1/24"]);
    let out = carpctl(&h, &cfg, "a", &["apply"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state_of = |n: u64| vhid(&status(&h), n)["state"].as_str().unwrap().to_string();
    assert_eq!(state_of(1), "BACKUP");
    let prio = vhid(&status(&h), 2)["vrrp_priority"].clone();

    let out = carpctl(&h, &cfg, "a", &["state", "web", "master"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("vip web (vhid 1@em0): BACKUP -> MASTER"),
        "{text}"
    );
    assert_eq!(state_of(1), "MASTER");
    let out = carpctl(&h, &cfg, "a", &["state", "web", "master"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("already MASTER"));
    let out = carpctl(&h, &cfg, "a", &["state", "web", "backup", "--json"]);
    let doc = json(&out);
    assert_eq!(doc["vip"], "web");
    assert_eq!(doc["vhid"], 1);
    assert_eq!(doc["interface"], "em0");
    assert_eq!(
        (doc["from"].as_str(), doc["to"].as_str()),
        (Some("MASTER"), Some("BACKUP"))
    );
    assert_eq!(state_of(1), "BACKUP");

    // A VRRP vhid: its priority is sent back unchanged.
    let out = carpctl(&h, &cfg, "a", &["state", "gw", "master"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(state_of(2), "MASTER");
    assert_eq!(vhid(&status(&h), 2)["vrrp_priority"], prio);

    // Refusals: exit 2, nothing changed.
    let before = fs::read(&h).unwrap();
    for (args, needle) in [
        (vec!["state", "nope", "master"], "vip \"nope\" is not in"),
        (vec!["state", "only-b", "master"], "not carried by node a"),
        (vec!["state", "web", "up"], "invalid value"),
    ] {
        let out = carpctl(&h, &cfg, "a", &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(fs::read(&h).unwrap(), before, "{args:?}");
    }

    // In maintenance: MASTER only with --force; BACKUP always.
    let out = carpctl(&h, &cfg, "a", &["maintenance", "on"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = carpctl(&h, &cfg, "a", &["state", "web", "master"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("in maintenance") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(state_of(1), "BACKUP");
    let out = carpctl(&h, &cfg, "a", &["state", "web", "master", "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(state_of(1), "MASTER");
}
