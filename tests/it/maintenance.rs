//! `carpctl maintenance` and the ledger end to end: the real binary against
//! an emulated host, including reboots and a real `kill -9` at every step of
//! a change.

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{BIN, HostLab, stderr};

/// The lab ([`HostLab`]) as node mail-a of a two-node cluster.
struct Lab(HostLab);

impl std::ops::Deref for Lab {
    type Target = HostLab;
    fn deref(&self) -> &HostLab {
        &self.0
    }
}

impl Lab {
    /// One emulated host (mail-a of a two-node cluster) with the cluster
    /// applied; `extra` goes at the end of the cluster file.
    fn new(extra: &str) -> Self {
        let lab = Lab(HostLab::new(&format!(
            "[[node]]\nname = \"mail-a\"\n[[node]]\nname = \"mail-b\"\n\
                 [[vip]]\nname = \"mail1\"\nvhid = 1\ninterface = \"em0\"\n\
                 addresses = [\"192.0.2.50/32\"]\npassword = \"secret1\"\n{extra}"
        )));
        lab.ok(&["apply"]);
        lab
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = self.command("mail-a");
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn status(&self) -> Value {
        serde_json::from_str(&self.ok(&["maintenance", "status", "--json"])).unwrap()
    }
}

#[test]
fn on_off_status() {
    let lab = Lab::new("");
    let s = lab.status();
    assert_eq!(s["demotion"], 0);
    assert_eq!(s["maintenance"], false);
    assert_eq!(s["other"], 0);
    // Nothing recorded yet: status creates nothing.
    assert!(!lab.state_dir().exists());

    let out = lab.ok(&["maintenance", "on", "--reason", "kernel upgrade"]);
    assert_eq!(
        out,
        "maintenance on: this node is demoted by 240, so its VIPs move to the other \
         nodes; net.inet.carp.demotion is now 240\n"
    );
    let out = lab.ok(&["maintenance", "on"]);
    assert!(
        out.starts_with("maintenance is already on (since ")
            && out.ends_with(", reason: kernel upgrade); nothing changed\n"),
        "{out}"
    );
    let s = lab.status();
    assert_eq!(s["demotion"], 240);
    assert_eq!(s["maintenance"], true);
    assert_eq!(s["shares"][0]["cause"], "maintenance");
    assert_eq!(s["shares"][0]["weight"], 240);
    assert_eq!(s["shares"][0]["reason"], "kernel upgrade");
    assert_eq!(s["other"], 0);
    assert_eq!(s["pending_recovery"], false);

    let text = lab.ok(&["maintenance", "status"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "maintenance: on");
    assert_eq!(lines[1], "net.inet.carp.demotion: 240");
    assert!(
        lines[2].starts_with("  maintenance   240  since "),
        "{text}"
    );
    assert!(lines[2].ends_with(" UTC, reason: kernel upgrade"), "{text}");
    assert_eq!(
        lines[3],
        "  other           0  (ifdown, send errors, pfsync, manual)"
    );

    assert_eq!(
        lab.ok(&["maintenance", "off"]),
        "maintenance off: took back carpctl's 240; net.inet.carp.demotion is now 0\n"
    );
    assert_eq!(
        lab.ok(&["maintenance", "off"]),
        "maintenance is not on; nothing changed\n"
    );
    assert_eq!(lab.status()["demotion"], 0);
}

#[test]
fn others_are_kept_apart() {
    let lab = Lab::new("");
    // An administrator demotes by hand; carpctl's share comes on top and
    // goes without touching it.
    let mut k =
        carpctl::cli::open_kernel(&carpctl::cli::KernelSpec::Emulated(lab.host.clone())).unwrap();
    k.adjust_demotion(carpctl::model::DemotionDelta::new(30))
        .unwrap();
    lab.ok(&["maintenance", "on"]);
    let s = lab.status();
    assert_eq!(
        (s["demotion"].as_i64(), s["other"].as_i64()),
        (Some(270), Some(30))
    );
    lab.ok(&["maintenance", "off"]);
    let s = lab.status();
    assert_eq!(
        (s["demotion"].as_i64(), s["other"].as_i64()),
        (Some(30), Some(30))
    );
}

#[test]
fn a_reboot_then_apply_restores_maintenance() {
    let lab = Lab::new("");
    lab.ok(&["maintenance", "on"]);
    let out = lab.ok(&["emulate", "reboot", lab.host.to_str().unwrap()]);
    assert!(out.starts_with("rebooted "), "{out}");
    // The vhid and its address are gone, the interface's own address stays.
    let st: Value = serde_json::from_str(&lab.ok(&["status", "--json"])).unwrap();
    assert_eq!(st["vhids"], serde_json::json!([]), "{st}");
    assert_eq!(st["demotion"], 0);
    let text = lab.ok(&["status"]);
    assert!(!text.contains("192.0.2.50"), "{text}");
    let s = lab.status();
    assert_eq!(s["demotion"], 0);
    assert_eq!(s["maintenance"], false);
    assert_eq!(s["not_applied"][0]["cause"], "maintenance");
    let text = lab.ok(&["maintenance", "status"]);
    assert!(
        text.contains("recorded before the last reboot and not applied yet: maintenance 240"),
        "{text}"
    );
    // What rc.d runs at boot.
    let out = lab.ok(&["apply"]);
    assert!(out.contains("create vhid 1@em0"), "{out}");
    let s = lab.status();
    assert_eq!(s["demotion"], 240);
    assert_eq!(s["maintenance"], true);
    // Applying again in the same boot does not add it twice.
    lab.ok(&["apply"]);
    assert_eq!(lab.status()["demotion"], 240);
}

#[test]
fn boot_hold_at_apply() {
    let lab = Lab::new(
        "[cluster]\nboot_hold = true\n\
         [[check]]\nname = \"smtp\"\ntype = \"tcp\"\naddress = \"127.0.0.1:25\"\n",
    );
    // The first apply (in Lab::new) found no ledger: a new boot.
    let s = lab.status();
    assert_eq!(s["demotion"], 240);
    assert_eq!(s["shares"][0]["cause"], "boot_hold");
    lab.ok(&["emulate", "reboot", lab.host.to_str().unwrap()]);
    lab.ok(&["apply"]);
    assert_eq!(lab.status()["demotion"], 240);
}

/// A real `kill -9` of `carpctl maintenance on|off` after each step of the
/// change; the next command recovers, and the demotion is always exactly
/// carpctl's share (there are no others here).
#[test]
fn kill_9_at_every_step() {
    for step in carpctl::ledger::Step::ALL {
        for (setup_on, args) in [
            (false, ["maintenance", "on"]),
            (true, ["maintenance", "off"]),
        ] {
            let lab = Lab::new("");
            if setup_on {
                lab.ok(&["maintenance", "on"]);
            }
            let out = lab.run_env(&args, &[(carpctl::ledger::FAULT_ENV, step.name())]);
            assert_eq!(
                out.status.signal(),
                Some(9),
                "{args:?} at {}: {:?} {}",
                step.name(),
                out.status,
                stderr(&out)
            );
            // status shows the change as it will be recovered, and the
            // invariant holds before and after the recovery.
            let s = lab.status();
            assert_eq!(s["other"], 0, "{args:?} at {}: {s}", step.name());
            lab.ok(&["maintenance", "status"]);
            // The next change recovers first; then `off` leaves nothing.
            lab.ok(&["maintenance", "off"]);
            let s = lab.status();
            assert_eq!(s["demotion"], 0, "{args:?} at {}: {s}", step.name());
            assert_eq!(s["pending_recovery"], false);
            assert!(!lab.state_dir().join("intent.json").exists());
        }
    }
}

/// The stepped `maintenance on` with this node MASTER (forced: the
/// emulated host has no peer to take over, so the wait runs out): a first
/// step of advskew_step + 1 = 5, then the rest, each exact in the ledger;
/// a real `kill -9` after each step of the first change leaves a ledger
/// that `maintenance on` again finishes and `off` empties.
#[test]
fn stepped_on_hands_over_first_and_finishes_after_kill_9_between_the_steps() {
    let lab = Lab::new("");
    lab.ok(&["state", "mail1", "master"]);
    let out = lab.ok(&["maintenance", "on", "--wait", "0.2"]);
    assert!(
        out.contains("maintenance on: demoted by 5 first to hand mail1 to the next rank"),
        "{out}"
    );
    assert_eq!(lab.status()["demotion"], 240);
    lab.ok(&["maintenance", "off"]);
    for step in carpctl::ledger::Step::ALL {
        let out = lab.run_env(
            &["maintenance", "on", "--wait", "0.1"],
            &[(carpctl::ledger::FAULT_ENV, step.name())],
        );
        assert_eq!(out.status.signal(), Some(9), "{}", step.name());
        let s = lab.status();
        assert_eq!(s["other"], 0, "{}: {s}", step.name());
        let d = s["demotion"].as_i64().unwrap();
        assert!(d == 0 || d == 5, "{}: {s}", step.name());
        // Again: goes on from the first step (or takes it), then the rest.
        let out = lab.ok(&["maintenance", "on", "--wait", "0.1"]);
        assert!(out.contains("demoted by 5 first"), "{}: {out}", step.name());
        let s = lab.status();
        assert_eq!(
            (s["demotion"].as_i64(), s["other"].as_i64()),
            (Some(240), Some(0))
        );
        lab.ok(&["maintenance", "off"]);
        assert_eq!(lab.status()["demotion"], 0, "{}", step.name());
    }
    // Cut short after the first step, finished by a host that is not a
    // node of the file (no ranks: the one-step path): raised to 240.
    let out = lab.run_env(
        &["maintenance", "on", "--wait", "0.1"],
        &[(carpctl::ledger::FAULT_ENV, "ledger-written")],
    );
    assert_eq!(out.status.signal(), Some(9));
    let out = lab.run_env(&["maintenance", "on"], &[("CARPCTL_NODE", "mail-z")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("this node is demoted by 240"),
        "{out:?}"
    );
    assert_eq!(lab.status()["demotion"], 240);
    lab.ok(&["maintenance", "off"]);
    // --wait 0: 240 at once, as before the steps.
    let out = lab.ok(&["maintenance", "on", "--wait", "0"]);
    assert!(!out.contains("first"), "{out}");
    assert_eq!(lab.status()["demotion"], 240);
    lab.ok(&["maintenance", "off"]);
    for bad in ["-1", "301", "NaN", "inf", "soon", ""] {
        let out = lab.run(&["maintenance", "on", &format!("--wait={bad}")]);
        assert_eq!(out.status.code(), Some(2), "--wait {bad:?}");
        assert!(
            stderr(&out).contains("must be a number of seconds from 0 to 300"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(lab.status()["demotion"], 0);
}

/// A stepped `maintenance on` cut short after its first step, then a
/// reboot: the node asked for maintenance, and `apply` at boot applies the
/// full weight. (A fresh lab: the emulated reboot must come more than
/// BOOT_SLACK after the ledger's last write to count as one.)
#[test]
fn a_reboot_after_the_first_step_applies_the_full_weight() {
    let lab = Lab::new("");
    lab.ok(&["state", "mail1", "master"]);
    let out = lab.run_env(
        &["maintenance", "on", "--wait", "0.1"],
        &[(carpctl::ledger::FAULT_ENV, "ledger-written")],
    );
    assert_eq!(out.status.signal(), Some(9));
    assert_eq!(lab.status()["demotion"], 5);
    // As if written a while before the reboot (the emulated one may come
    // within a second, closer than a reboot is told from a clock step).
    let ledger = lab.state_dir().join("ledger.json");
    let mut l: Value = serde_json::from_str(&fs::read_to_string(&ledger).unwrap()).unwrap();
    assert_eq!(l["contributions"]["maintenance"]["weight"], 5);
    for k in ["boot_time", "written_at"] {
        l["boot"][k] = (l["boot"][k].as_i64().unwrap() - 100).into();
    }
    fs::write(&ledger, serde_json::to_string(&l).unwrap()).unwrap();
    lab.ok(&["emulate", "reboot", lab.host.to_str().unwrap()]);
    lab.ok(&["apply"]);
    let s = lab.status();
    assert_eq!(
        (s["demotion"].as_i64(), s["other"].as_i64()),
        (Some(240), Some(0)),
        "{s}"
    );
}

#[test]
fn reboot_of_a_missing_host_is_a_usage_error() {
    let lab = Lab::new("");
    let missing = lab.host.with_file_name("nope");
    let out = lab.run(&["emulate", "reboot", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("carpctl emulate init"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_usage_and_failures_have_their_exit_codes() {
    let lab = Lab::new("");
    let out = lab.run(&["maintenance", "on", "--reason", ""]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--reason is empty"),
        "{}",
        stderr(&out)
    );
    let out = lab.run(&["maintenance", "on", "--reason", "two\nlines"]);
    assert_eq!(out.status.code(), Some(2));
    let out = lab.run(&["maintenance"]);
    assert_eq!(out.status.code(), Some(2));
    let out = lab.run(&["maintenance", "status", "--color"]);
    assert_eq!(out.status.code(), Some(2));
    // A broken cluster file: exit 2, nothing changed.
    fs::write(&lab.config, "[[node]]\nname = 3\n").unwrap();
    let out = lab.run(&["maintenance", "on"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_refused_demotion_write_exits_1() {
    let lab = Lab::new("");
    let out = Command::new(BIN)
        .args(["emulate", "inject"])
        .arg(&lab.host)
        .args(["--fail-call", "1", "--errno", "EPERM"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = lab.run(&["maintenance", "on"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("cannot change net.inet.carp.demotion") && e.contains("EPERM"),
        "{e}"
    );
    assert_eq!(lab.status()["maintenance"], false);
}

#[test]
fn a_corrupt_ledger_exits_1_and_names_the_file() {
    let lab = Lab::new("");
    lab.ok(&["maintenance", "on"]);
    let ledger = lab.state_dir().join("ledger.json");
    fs::write(&ledger, "garbage").unwrap();
    for args in [&["maintenance", "off"][..], &["maintenance", "status"][..]] {
        let out = lab.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains(&ledger.display().to_string()),
            "{}",
            stderr(&out)
        );
    }
}

/// The kernel's demotion, read directly (maintenance status refuses a
/// forged ledger too).
fn kernel_demotion(lab: &Lab) -> i32 {
    carpctl::cli::open_kernel(&carpctl::cli::KernelSpec::Emulated(lab.host.clone()))
        .unwrap()
        .sysctls()
        .unwrap()
        .demotion
}

#[test]
fn a_forged_ledger_share_is_refused_and_the_demotion_untouched() {
    let lab = Lab::new("");
    lab.ok(&["maintenance", "on"]);
    let ledger = lab.state_dir().join("ledger.json");
    let text = fs::read_to_string(&ledger).unwrap();
    assert!(text.contains("\"weight\": 240"), "{text}");
    fs::write(
        &ledger,
        text.replace("\"weight\": 240", "\"weight\": 60000"),
    )
    .unwrap();
    for args in [
        &["maintenance", "off"][..],
        &["maintenance", "on"][..],
        &["maintenance", "status"][..],
        &["apply"][..],
    ] {
        let out = lab.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let e = stderr(&out);
        assert!(
            e.contains(&format!(
                "{}: contributions.maintenance.weight is 60000, but carpctl writes 1 to 240 \
                 (the maintenance weight, or a step towards it) there",
                ledger.display()
            )),
            "{args:?}: {e}"
        );
        assert!(e.contains("restore the file, or remove it"), "{e}");
        assert_eq!(kernel_demotion(&lab), 240, "{args:?} changed the demotion");
    }
    // Repaired, it works again.
    fs::write(&ledger, text).unwrap();
    lab.ok(&["maintenance", "off"]);
    assert_eq!(kernel_demotion(&lab), 0);
}

#[test]
fn a_forged_intent_is_refused_and_the_demotion_untouched() {
    let lab = Lab::new("");
    lab.ok(&["maintenance", "on"]);
    let ledger = fs::read_to_string(lab.state_dir().join("ledger.json")).unwrap();
    let l: Value = serde_json::from_str(&ledger).unwrap();
    // An interrupted "change" that claims to have added 60000.
    let mut after = l.clone();
    after["seq"] = serde_json::json!(l["seq"].as_u64().unwrap() + 1);
    let intent = serde_json::json!({
        "before": 240, "delta": 60000, "boot": l["boot"], "after": after,
    });
    let path = lab.state_dir().join("intent.json");
    fs::write(&path, intent.to_string()).unwrap();
    let out = lab.run(&["maintenance", "off"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{}: delta is 60000", path.display())),
        "{}",
        stderr(&out)
    );
    assert_eq!(kernel_demotion(&lab), 240);
    assert!(path.exists(), "a refused intent is kept for inspection");
}

#[test]
fn a_check_share_above_its_configured_weight_warns_but_works() {
    // The check failed with weight 9 and then the cluster file lowered it
    // to 5: legitimate, so it must not stop maintenance.
    let lab = Lab::new(
        "[[check]]\nname = \"smtp\"\ntype = \"tcp\"\naddress = \"127.0.0.1:25\"\nweight = 5\n",
    );
    lab.ok(&["maintenance", "on"]);
    let path = lab.state_dir().join("ledger.json");
    let mut l: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    l["contributions"]["check:smtp"] = serde_json::json!({"weight": 9, "since": 0});
    fs::write(&path, l.to_string()).unwrap();
    let out = lab.run(&["maintenance", "off"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "contributions.check:smtp.weight is 9, more than the weight 5 the cluster file \
             gives check smtp"
        ),
        "{}",
        stderr(&out)
    );
    // Only the maintenance share was taken back.
    assert_eq!(kernel_demotion(&lab), 0);
    let s = lab.status();
    assert_eq!(s["shares"][0]["cause"], "check:smtp");
    assert_eq!(s["other"], -9);
}
