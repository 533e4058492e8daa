//! `carpctl apply` end to end: the real binary against emulated hosts.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::BIN;

pub(crate) struct Lab {
    pub(crate) dir: tempfile::TempDir,
}

impl Lab {
    pub(crate) fn new() -> Self {
        Lab {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A file with the given mode.
    pub(crate) fn write(&self, name: &str, body: &str, mode: u32) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, body).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    pub(crate) fn host(&self, name: &str, args: &[&str]) -> PathBuf {
        let p = self.path(name);
        emulate("init", &p, args);
        p
    }

    /// The seed cluster file with its two key files.
    fn seed(&self) -> PathBuf {
        self.write("mail1.key", "mail1-secret\n", 0o600);
        self.write("mail2.key", "mail2-secret\n", 0o600);
        let body = format!(
            r#"
[cluster]
preempt = true
advbase = 1

[[node]]
name = "mail-a"
interfaces = {{ lan = "em0" }}
[[node]]
name = "mail-b"
interfaces = {{ lan = "igb0" }}

[[vip]]
name = "mail1"
vhid = 1
interface = "lan"
addresses = ["192.168.1.50/32"]
password_file = "{d}/mail1.key"
prefer = ["mail-a", "mail-b"]

[[vip]]
name = "mail2"
vhid = 2
interface = "lan"
addresses = ["192.168.1.51/32", "2001:db8::51/128"]
password_file = "{d}/mail2.key"
prefer = ["mail-b", "mail-a"]
"#,
            d = self.dir.path().display()
        );
        self.write("seed.toml", &body, 0o644)
    }
}

pub(crate) fn carpctl(host: &Path, config: &Path, node: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--kernel")
        .arg(format!("emulated:{}", host.display()))
        .arg("-c")
        .arg(config)
        .args(["--node", node])
        .args(args)
        .output()
        .unwrap()
}

pub(crate) fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `carpctl emulate COMMAND HOST ARGS...`, which must succeed.
pub(crate) fn emulate(command: &str, host: &Path, args: &[&str]) {
    let out = Command::new(BIN)
        .args(["emulate", command])
        .arg(host)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "emulate {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Arm a failure (EIO) of the `call`th mutating call from now on `host`.
pub(crate) fn inject(host: &Path, call: u32) {
    emulate(
        "inject",
        host,
        &["--fail-call", &call.to_string(), "--errno", "EIO"],
    );
}

pub(crate) fn status(host: &Path) -> Value {
    let out = Command::new(BIN)
        .arg("--kernel")
        .arg(format!("emulated:{}", host.display()))
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "status: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out)
}

pub(crate) fn vhid(status: &Value, vhid: u64) -> &Value {
    status["vhids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vhid"] == vhid)
        .unwrap_or_else(|| panic!("vhid {vhid} missing in {status}"))
}

#[test]
fn seed_scenario_on_two_emulated_hosts() {
    let lab = Lab::new();
    let cfg = lab.seed();
    let a = lab.host("a", &["--iface", "em0=192.168.1.3/24"]);
    let b = lab.host("b", &["--iface", "igb0=192.168.1.4/24"]);

    for (host, node) in [(&a, "mail-a"), (&b, "mail-b")] {
        let out = carpctl(host, &cfg, node, &["apply", "--json"]);
        assert!(
            out.status.success(),
            "apply {node}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let changes = json(&out)["changes"].as_array().unwrap().len();
        // preempt, two vhids, three addresses
        assert_eq!(
            changes,
            6,
            "{node}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    let sa = status(&a);
    let sb = status(&b);
    assert_eq!(sa["preempt"], true);
    assert_eq!(sb["preempt"], true);
    let (a1, a2, b1, b2) = (vhid(&sa, 1), vhid(&sa, 2), vhid(&sb, 1), vhid(&sb, 2));
    assert!(
        a1["advskew"].as_u64() < b1["advskew"].as_u64(),
        "mail-a first for vhid 1"
    );
    assert!(
        a2["advskew"].as_u64() > b2["advskew"].as_u64(),
        "mail-b first for vhid 2"
    );
    assert_eq!(a1["interface"], "em0");
    assert_eq!(b1["interface"], "igb0");
    assert_eq!(a1["addresses"], serde_json::json!(["192.168.1.50/32"]));
    let mut a2addrs: Vec<_> = a2["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    a2addrs.sort();
    assert_eq!(a2addrs, ["192.168.1.51/32", "2001:db8::51/128"]);
    for v in [a1, a2, b1, b2] {
        assert_eq!(v["key_set"], true, "key set: {v}");
        assert!(!v.to_string().contains("secret"), "key leaked: {v}");
    }

    // A second apply on an unchanged host reports no changes and makes no
    // mutating call: a failure armed for the next mutating call never fires.
    for (host, node) in [(&a, "mail-a"), (&b, "mail-b")] {
        let before = fs::read(host).unwrap();
        inject(host, 1);
        let out = carpctl(host, &cfg, node, &["apply", "--json"]);
        assert!(
            out.status.success(),
            "second apply {node}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(json(&out)["changes"], serde_json::json!([]));
        assert_eq!(fs::read(host).unwrap(), before);
    }
}

/// Apply `cfg` as `node` to fresh hosts made by `host`, with the Nth
/// mutating call failing (EIO) for N = 1, 2, ... until an apply succeeds;
/// every failed apply must leave its host byte for byte as it was. Returns
/// the failure messages, by N.
pub(crate) fn rollback_at_every_call(
    cfg: &Path,
    node: &str,
    host: impl Fn(&str) -> PathBuf,
) -> Vec<String> {
    let mut errors = Vec::new();
    for k in 1.. {
        let host = host(&format!("h{k}"));
        let before = fs::read(&host).unwrap();
        inject(&host, k);
        let out = carpctl(&host, cfg, node, &["apply"]);
        if out.status.success() {
            break;
        }
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "call {k}: {err}");
        assert!(err.contains("EIO"), "call {k}: {err}");
        assert!(!err.contains("NOT undone"), "call {k}: {err}");
        // The state file is JSON text: compare it as text for a readable
        // difference.
        assert_eq!(
            String::from_utf8_lossy(&fs::read(&host).unwrap()),
            String::from_utf8_lossy(&before),
            "call {k} left the host changed: {err}"
        );
        errors.push(err);
        assert!(k < 100, "the apply never succeeds");
    }
    errors
}

#[test]
fn rollback_leaves_the_host_byte_for_byte_unchanged() {
    let lab = Lab::new();
    let cfg = lab.seed();
    let errors = rollback_at_every_call(&cfg, "mail-a", |name| {
        lab.host(name, &["--iface", "em0=192.168.1.3/24"])
    });
    // preempt + 2 vhids + 3 addresses = 6 mutating calls, each failed once.
    assert_eq!(errors.len(), 6, "{errors:#?}");
}

/// A host that already has the VIPs, with a different prefix on mail1 and
/// two addresses mail2 no longer lists, between its others: the apply
/// re-adds one address and removes two. A failure at its last steps must
/// put the removed addresses back where they were, and mail1's address
/// back with its old prefix (not remove it, which would destroy vhid 1).
#[test]
fn rollback_restores_addresses_in_their_order_and_prefix() {
    let lab = Lab::new();
    let cfg = lab.seed();
    let seed = fs::read_to_string(&cfg).unwrap();
    let wider = lab.write(
        "wider.toml",
        &seed
            .replace("\"192.168.1.50/32\"", "\"192.168.1.50/31\"")
            .replace(
                "[\"192.168.1.51/32\", \"2001:db8::51/128\"]",
                "[\"192.168.1.52/32\", \"192.168.1.51/32\", \"192.168.1.53/32\", \
                 \"2001:db8::51/128\", \"192.168.1.54/32\"]",
            ),
        0o644,
    );
    let errors = rollback_at_every_call(&cfg, "mail-a", |name| {
        let h = lab.host(name, &["--iface", "em0=192.168.1.3/24"]);
        let out = carpctl(&h, &wider, "mail-a", &["apply"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        h
    });
    // Re-add 192.168.1.50/32, remove .52, .53 and .54.
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(
        errors[3].contains("undone: add 192.168.1.50/32"),
        "{}",
        errors[3]
    );
}

/// carp.ko stays loaded after a rollback, and the report says so rather
/// than claiming it was undone.
#[test]
fn rollback_reports_carp_kept_loaded() {
    let lab = Lab::new();
    let cfg = lab.seed();
    let host = lab.host("h", &["--iface", "em0=192.168.1.3/24", "--no-carp-module"]);
    inject(&host, 2);
    let out = carpctl(&host, &cfg, "mail-a", &["apply"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("undone: load carp"), "{err}");
    assert!(err.contains("kept loaded: carp(4)"), "{err}");
}

#[test]
fn dry_run_changes_nothing() {
    let lab = Lab::new();
    let cfg = lab.seed();
    let host = lab.host("h", &["--iface", "em0=192.168.1.3/24"]);
    let before = fs::read(&host).unwrap();
    let out = carpctl(&host, &cfg, "mail-a", &["apply", "--dry-run", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["changes"].as_array().unwrap().len(), 6);
    assert_eq!(fs::read(&host).unwrap(), before);
}

/// Each bad input: a clear message, exit 2, nothing changed.
#[test]
fn bad_inputs_exit_2_and_change_nothing() {
    let lab = Lab::new();
    let seed = fs::read_to_string(lab.seed()).unwrap();
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("unknown node", seed.clone(), "mail-z", "mail-z"),
        (
            "duplicate vhid",
            seed.replace("vhid = 2", "vhid = 1"),
            "mail-a",
            "vhid 1",
        ),
        (
            "vhid out of range",
            seed.replace("vhid = 2", "vhid = 300"),
            "mail-a",
            "300",
        ),
        (
            "advskew reaching 240",
            seed.replace("advbase = 1\n", "advbase = 1\nadvskew_step = 240\n"),
            "mail-a",
            "240",
        ),
        (
            "password over 20 bytes",
            seed.replace(
                &format!("password_file = \"{}/mail1.key\"", lab.dir.path().display()),
                "password = \"aaaaaaaaaaaaaaaaaaaaa\"",
            ),
            "mail-a",
            "20",
        ),
        (
            "missing password file",
            seed.replace("mail1.key", "nonexistent.key"),
            "mail-a",
            "nonexistent.key",
        ),
        (
            "interface this node lacks",
            seed.replace("lan = \"em0\"", "lan = \"em7\""),
            "mail-a",
            "em7",
        ),
    ];
    for (what, body, node, needle) in cases {
        let cfg = lab.write(&format!("{}.toml", what.replace(' ', "_")), &body, 0o600);
        let host = lab.host(
            &format!("h-{}", what.replace(' ', "_")),
            &["--iface", "em0=192.168.1.3/24"],
        );
        let before = fs::read(&host).unwrap();
        let out = carpctl(&host, &cfg, node, &["apply"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(
            err.contains(needle),
            "{what}: message should mention {needle:?}: {err}"
        );
        assert_eq!(fs::read(&host).unwrap(), before, "{what}: host changed");
    }

    // An inline password in a world-readable file.
    let body = seed.replace(
        &format!("password_file = \"{}/mail1.key\"", lab.dir.path().display()),
        "password = \"inline-secret\"",
    );
    let cfg = lab.write("readable.toml", &body, 0o644);
    let host = lab.host("h-readable", &["--iface", "em0=192.168.1.3/24"]);
    let out = carpctl(&host, &cfg, "mail-a", &["apply"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("0644") || err.contains("644"), "{err}");
    assert!(!err.contains("inline-secret"), "password leaked: {err}");
}

#[test]
fn warnings_do_not_stop_apply() {
    let lab = Lab::new();
    let seed = fs::read_to_string(lab.seed()).unwrap();
    // 20 bytes: allowed by the kernel, but ifconfig keeps only 19.
    let body = seed.replace(
        &format!("password_file = \"{}/mail1.key\"", lab.dir.path().display()),
        "password = \"aaaaaaaaaaaaaaaaaaaa\"",
    );
    let cfg = lab.write("w.toml", &body, 0o600);
    let host = lab.host("h", &["--iface", "em0=192.168.1.3/24"]);
    let out = carpctl(&host, &cfg, "mail-a", &["apply"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("19"), "20-byte password warning: {err}");
    // 2001:db8::51 is outside every subnet of em0.
    assert!(err.contains("2001:db8::51"), "subnet warning: {err}");
    assert!(
        !err.contains("aaaaaaaaaaaaaaaaaaaa"),
        "password leaked: {err}"
    );
}

/// `apply --json` prints one JSON document on failure too: the changes
/// planned, and the error with what was undone and kept.
#[test]
fn apply_json_reports_a_failure_as_one_document() {
    let lab = Lab::new();
    let cfg = lab.seed();
    let host = lab.host("h", &["--iface", "em0=192.168.1.3/24", "--no-carp-module"]);
    inject(&host, 3);
    let out = carpctl(&host, &cfg, "mail-a", &["apply", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["node"], "mail-a");
    assert_eq!(v["dry_run"], false);
    assert_eq!(v["changes"].as_array().unwrap().len(), 7, "{v}");
    let e = &v["error"];
    assert_eq!(e["exit_status"], 1, "{v}");
    assert_eq!(e["failed"]["action"], "create_vhid", "{v}");
    assert!(
        e["message"].as_str().unwrap().contains("EIO"),
        "{}",
        e["message"]
    );
    assert_eq!(e["undone"][0]["action"], "set_preempt", "{v}");
    assert_eq!(e["kept"][0]["action"], "load_carp", "{v}");
    assert_eq!(e["not_undone"], serde_json::json!([]), "{v}");
    // The message is on stderr too.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kept loaded: carp(4)"), "{err}");

    // A configuration error: exit 2, no node, no changes.
    let out = carpctl(&host, &cfg, "mail-z", &["apply", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let v = json(&out);
    assert_eq!(v["node"], Value::Null, "{v}");
    assert_eq!(v["changes"], serde_json::json!([]), "{v}");
    assert_eq!(v["error"]["exit_status"], 2, "{v}");
    // The diagnostics themselves are on stderr, with file, line and column.
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("seed.toml has 1 error; nothing was changed"),
        "{v}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("mail-z"));
    assert_eq!(v["error"]["failed"], Value::Null, "{v}");

    // Success: the same document, with no error.
    let out = carpctl(&host, &cfg, "mail-a", &["apply", "--json"]);
    assert!(out.status.success());
    assert_eq!(json(&out)["error"], Value::Null);
}

/// The rollback never moves the host's own addresses to restore the order:
/// when an ordinary address follows the ones put back, the order is left
/// as it is and the report says so.
#[test]
fn rollback_does_not_move_the_hosts_own_addresses() {
    let lab = Lab::new();
    let cfg = lab.seed();
    let seed = fs::read_to_string(&cfg).unwrap();
    let wider = lab.write(
        "wider.toml",
        &seed.replace(
            "[\"192.168.1.51/32\", \"2001:db8::51/128\"]",
            "[\"192.168.1.52/32\", \"192.168.1.54/32\", \"192.168.1.51/32\", \
             \"2001:db8::51/128\"]",
        ),
        0o644,
    );
    let host = lab.host("h", &["--iface", "em0=192.168.1.3/24"]);
    let out = carpctl(&host, &wider, "mail-a", &["apply"]);
    assert!(out.status.success());
    // An alias added by hand after the VIPs (ifconfig em0 alias ...): the
    // emulated host's state file is JSON.
    let mut state: Value = serde_json::from_slice(&fs::read(&host).unwrap()).unwrap();
    let em0 = state["interfaces"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["name"] == "em0")
        .unwrap();
    em0["addresses"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"net": "192.168.1.99/24", "vhid": 0}));
    fs::write(&host, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
    let addresses = |host: &Path| {
        let state: Value = serde_json::from_slice(&fs::read(host).unwrap()).unwrap();
        let mut a: Vec<String> = state["interfaces"][1]["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| format!("{} {}", a["net"], a["vhid"]))
            .collect();
        a.sort();
        a
    };
    let before = addresses(&host);
    // Remove .52, then fail removing .54: .52 goes back, at the end.
    inject(&host, 2);
    let out = carpctl(&host, &cfg, "mail-a", &["apply"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("undone: remove 192.168.1.52/32"), "{err}");
    assert!(
        err.contains(
            "NOT undone: the order of the addresses on em0: 192.168.1.99/24 would have to be \
             moved, and it is not a CARP address"
        ),
        "{err}"
    );
    assert_eq!(addresses(&host), before, "{err}");
}
