//! `carpctl switchover` end to end: the real binary against one emulated
//! host, playing one node of a three-node cluster at a time (a backup that
//! raises, the master whose target never answers, the target), with the
//! record in `state_dir`, `--back`, `apply`, reboots and `status --check`.

use std::fs;
use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::common::{HostLab, stderr, stdout};

/// The lab ([`HostLab`]) with the cluster of these tests.
struct Lab(HostLab);

impl std::ops::Deref for Lab {
    type Target = HostLab;
    fn deref(&self) -> &HostLab {
        &self.0
    }
}

impl Lab {
    /// One emulated host with `web` (vhid 1, order a, b, c: skews 0, 4,
    /// 8), `solo` (a alone) and `pair` (a, b) applied as node `node`.
    fn new(node: &str) -> Self {
        let lab = Lab(HostLab::new(
            "[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n[[node]]\nname = \"c\"\n\
             [[vip]]\nname = \"web\"\nvhid = 1\ninterface = \"em0\"\n\
             addresses = [\"192.0.2.50/32\"]\npassword = \"secret1\"\nprefer = [\"a\", \"b\", \"c\"]\n\
             [[vip]]\nname = \"solo\"\nvhid = 2\ninterface = \"em0\"\n\
             addresses = [\"192.0.2.51/32\"]\npassword = \"secret2\"\nprefer = [\"a\"]\n\
             [[vip]]\nname = \"pair\"\nvhid = 3\ninterface = \"em0\"\n\
             addresses = [\"192.0.2.52/32\"]\npassword = \"secret3\"\nprefer = [\"a\", \"b\"]\n",
        ));
        lab.ok(node, &["apply"]);
        lab
    }

    fn run(&self, node: &str, args: &[&str]) -> Output {
        self.command(node).args(args).output().unwrap()
    }

    fn ok(&self, node: &str, args: &[&str]) -> String {
        let out = self.run(node, args);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    /// vhid 1's advskew and state.
    fn vhid1(&self) -> (u64, String) {
        let st: Value = serde_json::from_str(&self.ok("a", &["status", "--json"])).unwrap();
        let v = st["vhids"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["vhid"] == 1)
            .unwrap()
            .clone();
        (
            v["advskew"].as_u64().unwrap(),
            v["state"].as_str().unwrap().to_string(),
        )
    }

    fn record(&self) -> PathBuf {
        self.state_dir().join("switchover.json")
    }

    fn reboot(&self) {
        self.ok("a", &["emulate", "reboot", self.host.to_str().unwrap()]);
    }
}

#[test]
fn a_backup_raises_records_and_back_restores() {
    let lab = Lab::new("b");
    assert_eq!(lab.vhid1(), (4, "BACKUP".into()));
    let out = lab.ok("b", &["switchover", "web", "--to", "c", "--dry-run"]);
    assert!(
        out.contains("1. b (backup: nothing moves): advskew 4 -> 10   <- this node"),
        "{out}"
    );
    assert!(
        out.contains("2. a (the current master, last: this moves the VIP): advskew 0 -> 9"),
        "{out}"
    );
    assert_eq!(lab.vhid1().0, 4, "--dry-run changes nothing");
    assert!(!lab.record().exists());

    let out = lab.ok("b", &["switchover", "web", "--to", "c"]);
    assert!(
        out.contains("b: vhid 1@em0 advskew 4 -> 10 (a backup: nothing moves); temporary"),
        "{out}"
    );
    assert_eq!(lab.vhid1(), (10, "BACKUP".into()));
    let rec: Value = serde_json::from_str(&fs::read_to_string(lab.record()).unwrap()).unwrap();
    let r = &rec["switchovers"][0];
    assert_eq!(
        (r["vip"].as_str(), r["target"].as_str()),
        (Some("web"), Some("c"))
    );
    assert_eq!(
        (r["advskew"].as_u64(), r["planned"].as_u64()),
        (Some(10), Some(4))
    );
    assert_eq!(r["keep"], false);
    // Run again: already done, nothing changes.
    let out = lab.ok("b", &["switchover", "web", "--to", "c"]);
    assert!(out.contains("is done here already"), "{out}");

    // status shows it, and --check does not call the raised skew drift.
    let out = lab.ok("b", &["status", "--check"]);
    assert!(
        out.contains("switchover to c: advskew 10, planned 4 (temporary)"),
        "{out}"
    );
    let st: Value = serde_json::from_str(&lab.ok("b", &["status", "--json"])).unwrap();
    assert_eq!(
        st["cluster"]["vips"][0]["switchover"]["target"], "c",
        "{st}"
    );

    let out = lab.ok("b", &["switchover", "web", "--back"]);
    assert!(
        out.contains("1. a: advskew 9 -> 0 (it preempts the VIP straight back)"),
        "{out}"
    );
    assert!(
        out.contains("b: vhid 1@em0 advskew 10 -> 4 (planned); the switchover ended here"),
        "{out}"
    );
    assert_eq!(lab.vhid1().0, 4);
    assert!(!lab.record().exists());
    let out = lab.ok("b", &["switchover", "web", "--back"]);
    assert!(out.contains("nothing changed"), "{out}");
    // Without the record, status --check sees the raised skew again as drift.
    lab.ok("b", &["switchover", "web", "--to", "c"]);
    fs::remove_file(lab.record()).unwrap();
    let out = lab.run("b", &["status", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("advskew 10, planned 4"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn apply_ends_a_temporary_switchover_and_keeps_a_kept_one() {
    let lab = Lab::new("b");
    lab.ok("b", &["switchover", "web", "--to", "c"]);
    let out = lab.ok("b", &["apply"]);
    assert!(
        out.contains("update vhid 1@em0 (web): advskew 10 -> 4"),
        "{out}"
    );
    assert!(
        out.contains("b: switchover of web to c ended: vhid 1@em0 has its planned advskew 4 again"),
        "{out}"
    );
    assert!(!lab.record().exists());

    lab.ok("b", &["switchover", "web", "--to", "c", "--keep"]);
    let out = lab.ok("b", &["apply"]);
    assert!(out.starts_with("b: no changes\n"), "{out}");
    assert!(out.contains("switchover of web to c kept (--keep): vhid 1@em0 gets advskew 10 instead of the planned 4"), "{out}");
    // A reboot forgets the skew; apply at boot puts the kept one back.
    lab.reboot();
    lab.ok("b", &["apply"]);
    assert_eq!(lab.vhid1().0, 10);
    lab.ok("b", &["status", "--check"]);
    lab.ok("b", &["switchover", "web", "--back"]);
    assert_eq!(lab.vhid1().0, 4);

    // A temporary one ends with a reboot: the record is dropped.
    lab.ok("b", &["switchover", "web", "--to", "c"]);
    lab.reboot();
    let out = lab.ok("b", &["apply"]);
    assert!(out.contains("switchover of web to c ended"), "{out}");
    assert_eq!(lab.vhid1().0, 4);
    assert!(!lab.record().exists());
}

#[test]
fn a_master_whose_target_does_not_take_over_restores_and_exits_1() {
    let lab = Lab::new("a");
    lab.ok("a", &["state", "web", "master"]);
    let out = lab.run("a", &["switchover", "web", "--wait", "0.2"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(
            "1. a (the current master, last: this moves the VIP): advskew 0 -> 5   <- this node"
        ),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains(
            "b did not take VIP web over within 0.2 s: vhid 1@em0 is still MASTER here; its \
             planned advskew 0 is restored and the record removed"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(lab.vhid1(), (0, "MASTER".into()));
    assert!(!lab.record().exists());
}

#[test]
fn the_target_has_nothing_to_do() {
    let lab = Lab::new("c");
    let out = lab.ok("c", &["switchover", "web", "--to", "c"]);
    assert!(
        out.contains("c: nothing to do here (this node is the target)"),
        "{out}"
    );
    assert_eq!(lab.vhid1().0, 8);
    assert!(!lab.record().exists());
}

#[test]
fn bad_input_is_exit_2_and_changes_nothing() {
    let lab = Lab::new("b");
    for (args, want) in [
        (
            &["switchover", "nope"][..],
            "switchover nope: the cluster file has no VIP \"nope\" (its VIPs: web, solo, pair); nothing was changed",
        ),
        (
            &["switchover", "web", "--to", "zz"][..],
            "switchover web: the cluster file has no node \"zz\" (its nodes: a, b, c); nothing was changed",
        ),
        (
            &["switchover", "web", "--to", "a"][..],
            "node \"a\" is already the master",
        ),
        (&["switchover", "solo"][..], "VIP \"solo\" has one node (a)"),
        (&["switchover", "web", "--wait=-1"][..], "--wait"),
        (
            &["switchover", "web", "--back", "--to", "c"][..],
            "cannot be used with",
        ),
    ] {
        let out = lab.run("b", args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
        assert_eq!(lab.vhid1().0, 4, "{args:?}");
        assert!(!lab.record().exists(), "{args:?}");
    }
    // Run on a node outside the VIP's order: c does not carry `pair`.
    let out = lab.run("c", &["switchover", "pair"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "this node (c) takes no part in VIP \"pair\" (its order: a, b); run it on one of \
             those nodes"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_kernel_that_refuses_the_skew_leaves_no_record() {
    let lab = Lab::new("b");
    crate::apply::inject(&lab.host, 1);
    let out = lab.run("b", &["switchover", "web", "--to", "c"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("cannot set the advskew of vhid 1@em0"),
        "{}",
        stderr(&out)
    );
    assert_eq!(lab.vhid1().0, 4);
    assert!(!lab.record().exists());
}

/// A `kill -9` between the record and the kernel change leaves the record
/// alone: `status` shows it, running the command again finishes the step,
/// and `--back` ends it.
#[test]
fn a_record_without_its_kernel_change_is_finished_or_ended() {
    let lab = Lab::new("b");
    lab.ok("b", &["switchover", "web", "--to", "c"]);
    let written = fs::read(lab.record()).unwrap();
    lab.ok("b", &["switchover", "web", "--back"]);
    // As if killed right after writing the record.
    fs::write(lab.record(), &written).unwrap();
    assert_eq!(lab.vhid1().0, 4);
    let out = lab.ok("b", &["status"]);
    assert!(
        out.contains("switchover to c: advskew 10, planned 4 (temporary)"),
        "{out}"
    );
    let out = lab.ok("b", &["switchover", "web", "--to", "c"]);
    assert!(out.contains("advskew 4 -> 10"), "{out}");
    assert_eq!(lab.vhid1().0, 10);
    // Killed again before the kernel change; --back ends it.
    lab.ok("b", &["switchover", "web", "--back"]);
    fs::write(lab.record(), &written).unwrap();
    let out = lab.ok("b", &["switchover", "web", "--back"]);
    assert!(
        out.contains(
            "b: vhid 1@em0 already has its planned advskew 4; the record is removed and the \
             switchover ended here"
        ),
        "{out}"
    );
    assert!(!lab.record().exists());
}
