//! `carpctl rollout run` end to end: the real binary runs the plan through
//! a stand-in for ssh(1) (a script in the test's directory that takes
//! `-- DEST WORD...` as ssh does, joins the words and runs them with sh(1)
//! as the remote login shell would, with `carpctl` being the real binary
//! against the emulated host of DEST).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::apply::{Lab, carpctl, json, status, vhid};
use crate::common::BIN;

/// Two nodes reached as root@a and root@b (`b_ssh` false: b has none),
/// two VIPs; `pw1` is mail1's password.
fn cluster(lab: &Lab, name: &str, pw1: &str, b_ssh: bool) -> PathBuf {
    let b = if b_ssh { "ssh = \"root@b\"\n" } else { "" };
    let body = format!(
        "[[node]]\nname = \"a\"\nssh = \"root@a\"\n[[node]]\nname = \"b\"\n{b}\
         [[vip]]\nname = \"mail1\"\nvhid = 1\ninterface = \"em0\"\n\
         addresses = [\"192.168.1.50/32\"]\npassword = \"{pw1}\"\nprefer = [\"a\", \"b\"]\n\
         [[vip]]\nname = \"mail2\"\nvhid = 2\ninterface = \"em0\"\n\
         addresses = [\"192.168.1.51/32\"]\npassword = \"pw2\"\nprefer = [\"b\", \"a\"]\n"
    );
    lab.write(name, &body, 0o600)
}

/// Hosts a and b, both running `old`; the stand-in for ssh, which logs
/// each call to `calls.log` and, for the DEST named in `skip` (when
/// given), answers 0 to an apply without running it, or fails it.
struct Rig {
    lab: Lab,
    hosts: [PathBuf; 2],
    old: PathBuf,
    new: PathBuf,
    ssh: PathBuf,
}

fn rig(b_ssh: bool, fault: &str) -> Rig {
    let lab = Lab::new();
    let hosts = [
        lab.host("host-a", &["--iface", "em0=192.168.1.3/24"]),
        lab.host("host-b", &["--iface", "em0=192.168.1.4/24"]),
    ];
    let old = cluster(&lab, "old.toml", "old-secret", b_ssh);
    let new = cluster(&lab, "new.toml", "new-secret", b_ssh);
    for (h, node) in hosts.iter().zip(["a", "b"]) {
        let out = carpctl(h, &old, node, &["apply"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let d = lab.dir.path().display();
    for n in ["a", "b"] {
        let bin = lab.path(&format!("bin-root@{n}"));
        fs::create_dir(&bin).unwrap();
        let body = format!("#!/bin/sh\nexec {BIN} --kernel emulated:{d}/host-{n} \"$@\"\n");
        lab.write(&format!("bin-root@{n}/carpctl"), &body, 0o755);
    }
    let body = format!(
        "#!/bin/sh\n[ \"$1\" = -- ] || exit 255\ndest=$2\nshift 2\n\
         printf '%s %s\\n' \"$dest\" \"$*\" >> {d}/calls.log\n\
         case \"$dest $*\" in {fault};; esac\n\
         PATH=\"{d}/bin-$dest:$PATH\" exec sh -c \"$*\"\n"
    );
    let ssh = lab.write("ssh", &body, 0o755);
    Rig {
        hosts,
        old,
        new,
        ssh,
        lab,
    }
}

impl Rig {
    fn run(&self, extra: &[&str]) -> Output {
        Command::new(BIN)
            .args(["rollout", "run"])
            .args([&self.old, &self.new])
            .arg("--ssh-command")
            .arg(&self.ssh)
            .args(["--wait", "0"])
            .args(extra)
            .output()
            .unwrap()
    }

    fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.lab.path("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    /// What an apply of the whole of `file` would still change on host `i`.
    fn pending(&self, i: usize, file: &Path) -> usize {
        let node = ["a", "b"][i];
        let out = carpctl(
            &self.hosts[i],
            file,
            node,
            &["apply", "--dry-run", "--json"],
        );
        json(&out)["changes"].as_array().unwrap().len()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn rollout_run_rotates_a_password_on_two_nodes_to_the_end() {
    let r = rig(true, "nothing) :");
    assert!(r.pending(0, &r.new) > 0 && r.pending(1, &r.new) > 0);
    let out = r.run(&[]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("rollout done"), "{text}");
    assert_eq!(
        text.matches("shows what the plan says").count(),
        5,
        "{text}"
    );
    // Each step and each check went to its node's destination, in order.
    let calls = r.calls();
    assert_eq!(calls.len(), 10, "{calls:#?}");
    assert!(calls[0].starts_with("root@b carpctl -c "), "{calls:#?}");
    assert!(
        calls[0].ends_with("--node b apply --remove mail1"),
        "{calls:#?}"
    );
    assert_eq!(calls[1], "root@b carpctl status --json");
    assert!(calls[2].starts_with("root@a ") && calls[2].ends_with("--only mail1"));
    // Both hosts now run the new file, key included; both VIPs in place.
    for i in 0..2 {
        assert_eq!(r.pending(i, &r.new), 0, "host {i}");
        let s = status(&r.hosts[i]);
        assert_eq!(vhid(&s, 1)["key_set"], true);
        assert_eq!(vhid(&s, 2)["key_set"], true);
    }
    // No password on any command line or in any output.
    let seen = format!("{calls:?}{text}{}", stderr(&out));
    assert!(!seen.contains("secret") && !seen.contains("pw2"), "{seen}");
}

#[test]
fn rollout_run_stops_at_a_failing_step_with_exit_1() {
    // The second step (the new key on a, the master) fails.
    let r = rig(true, "'root@a carpctl'*apply*) exit 1");
    let out = r.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("rollout stopped at step 2 of 5, on node a: the step failed"),
        "{e}"
    );
    assert!(e.contains("--from 2"), "{e}");
    // Step 1 ran and was checked; nothing after step 2.
    assert_eq!(r.calls().len(), 3, "{:#?}", r.calls());
    assert_eq!(r.pending(0, &r.old), 0, "a is untouched");
    let s = status(&r.hosts[1]);
    assert!(
        s["vhids"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["vhid"] != 1)
    );
}

#[test]
fn rollout_run_stops_when_a_node_does_not_show_the_planned_state() {
    // b's apply answers 0 but changes nothing: its check sees mail1 still there.
    let r = rig(true, "'root@b carpctl'*apply*) exit 0");
    let out = r.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains(
            "rollout stopped at step 1 of 5, on node b: after the step it shows: VIP mail1 \
             (vhid 1 on em0) is still there (BACKUP)"
        ),
        "{e}"
    );
    // The step and its check; a was never reached.
    assert_eq!(r.calls().len(), 2);
    assert_eq!(r.pending(0, &r.old), 0);
}

#[test]
fn rollout_run_refuses_a_node_without_ssh_and_runs_nothing() {
    let r = rig(false, "nothing) :");
    let out = r.run(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("node(s) b have no `ssh` destination"),
        "{}",
        stderr(&out)
    );
    assert!(r.calls().is_empty(), "{:#?}", r.calls());
    assert_eq!(r.pending(0, &r.old) + r.pending(1, &r.old), 0);
}

#[test]
fn rollout_run_dry_run_and_bad_arguments_run_nothing() {
    let r = rig(true, "nothing) :");
    let out = r.run(&["--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(" -- root@b carpctl -c "), "{text}");
    assert!(text.contains("check: "), "{text}");
    let out = r.run(&["--from", "9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--from 9: the plan has 5 steps"));
    let rel = Command::new(BIN)
        .current_dir(r.lab.dir.path())
        .args(["rollout", "run", "old.toml", "new.toml", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(rel.status.code(), Some(2));
    assert!(
        stderr(&rel).contains("is not an absolute path"),
        "{}",
        stderr(&rel)
    );
    assert!(r.calls().is_empty(), "{:#?}", r.calls());
}

/// A cluster file in which b has left: a alone carries both VIPs.
fn without_b(lab: &Lab) -> PathBuf {
    let body = "[[node]]\nname = \"a\"\nssh = \"root@a\"\n\
                [[vip]]\nname = \"mail1\"\nvhid = 1\ninterface = \"em0\"\n\
                addresses = [\"192.168.1.50/32\"]\npassword = \"old-secret\"\n\
                [[vip]]\nname = \"mail2\"\nvhid = 2\ninterface = \"em0\"\n\
                addresses = [\"192.168.1.51/32\"]\npassword = \"pw2\"\n";
    lab.write("leave.toml", body, 0o600)
}

impl Rig {
    fn run_to(&self, new: &Path) -> Output {
        Command::new(BIN)
            .args(["rollout", "run"])
            .args([&self.old, new])
            .arg("--ssh-command")
            .arg(&self.ssh)
            .args(["--wait", "0"])
            .output()
            .unwrap()
    }
}

#[test]
fn rollout_run_removes_a_leaving_node_after_its_maintenance_and_takes_it_back() {
    let r = rig(true, "nothing) :");
    let leave = without_b(&r.lab);
    let out = r.run_to(&leave);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let calls = r.calls();
    let steps: Vec<&String> = calls.iter().step_by(2).collect();
    assert!(
        steps[0].starts_with("root@b carpctl -c ") && steps[0].ends_with("--node b maintenance on"),
        "{calls:#?}"
    );
    assert!(
        steps[1..steps.len() - 1]
            .iter()
            .all(|s| !s.contains("maintenance")),
        "{calls:#?}"
    );
    assert!(
        steps.last().unwrap().ends_with("--node b maintenance off"),
        "{calls:#?}"
    );
    let text = stdout(&out);
    assert_eq!(
        text.matches("shows what the plan says").count(),
        steps.len(),
        "{text}"
    );
    // b has no vhid left and is not demoted; a runs the new file.
    let s = status(&r.hosts[1]);
    assert_eq!(s["vhids"].as_array().unwrap().len(), 0, "{s}");
    let m = carpctl(
        &r.hosts[1],
        &r.old,
        "b",
        &["maintenance", "status", "--json"],
    );
    assert_eq!(json(&m)["maintenance"], false);
    assert_eq!(r.pending(0, &leave), 0);
}

#[test]
fn rollout_run_stops_when_a_leaving_node_is_still_master_after_its_maintenance() {
    // b's status after its maintenance step shows it still MASTER of
    // mail2 (as when no other node answered the hand-over).
    let seen = r#"{"vhids": [{"interface": "em0", "vhid": 1, "state": "BACKUP", "advbase": 1, "advskew": 100}, {"interface": "em0", "vhid": 2, "state": "MASTER", "advbase": 1, "advskew": 0}]}"#;
    let r = rig(
        true,
        &format!("'root@b carpctl status --json') printf '%s' '{seen}'; exit 0"),
    );
    let leave = without_b(&r.lab);
    let out = r.run_to(&leave);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains(
            "rollout stopped at step 1 of 6, on node b: after the step it shows: VIP mail2 \
             (vhid 2 on em0) is MASTER, planned BACKUP"
        ),
        "{e}"
    );
    assert_eq!(r.calls().len(), 2, "{:#?}", r.calls());
    // The step itself ran: b is in maintenance, nothing removed.
    let m = carpctl(
        &r.hosts[1],
        &r.old,
        "b",
        &["maintenance", "status", "--json"],
    );
    assert_eq!(json(&m)["maintenance"], true);
    assert_eq!(status(&r.hosts[1])["vhids"].as_array().unwrap().len(), 2);
}
