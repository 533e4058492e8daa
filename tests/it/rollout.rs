//! `carpctl apply --only/--remove` and `carpctl rollout plan`, end to end:
//! the real binary against an emulated host.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::apply::{Lab, carpctl, json};
use crate::common::BIN;

/// Two nodes, two VIPs on em0; `pw1` is mail1's password.
fn cluster(lab: &Lab, name: &str, pw1: &str, advbase: u8) -> std::path::PathBuf {
    let body = format!(
        "[cluster]\nadvbase = {advbase}\n\
         [[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n\
         [[vip]]\nname = \"mail1\"\nvhid = 1\ninterface = \"em0\"\n\
         addresses = [\"192.168.1.50/32\"]\npassword = \"{pw1}\"\nprefer = [\"a\", \"b\"]\n\
         [[vip]]\nname = \"mail2\"\nvhid = 2\ninterface = \"em0\"\n\
         addresses = [\"192.168.1.51/32\"]\npassword = \"pw2\"\nprefer = [\"b\", \"a\"]\n"
    );
    lab.write(name, &body, 0o600)
}

/// The VIPs of the changes `apply --dry-run --json` lists.
fn pending(out: &Output) -> Vec<String> {
    let v: Value = json(out);
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["vip"].as_str().map(String::from))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `carpctl -c FILE --node a apply ARGS` on `host`, which must succeed;
/// then the VIPs an apply of the whole of FILE would still change.
fn apply_then_pending(host: &Path, file: &Path, args: &[&str]) -> Vec<String> {
    let out = carpctl(host, file, "a", &[&["apply"], args].concat());
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    pending(&carpctl(host, file, "a", &["apply", "--dry-run", "--json"]))
}

#[test]
fn only_and_remove_act_on_the_named_vips_alone() {
    let lab = Lab::new();
    let host = lab.host("a", &["--iface", "em0=192.168.1.3/24"]);
    let old = cluster(&lab, "old.toml", "pw1", 1);
    assert!(apply_then_pending(&host, &old, &[]).is_empty());
    // --remove takes mail2 off, and nothing else.
    let left = apply_then_pending(&host, &old, &["--remove", "mail2"]);
    assert!(
        !left.is_empty() && left.iter().all(|v| v == "mail2"),
        "{left:?}"
    );
    // --only mail2 with a file that also changes mail1: mail1 stays.
    let new = cluster(&lab, "new.toml", "rotated", 2);
    let left = apply_then_pending(&host, &new, &["--only", "mail2"]);
    assert!(
        !left.is_empty() && left.iter().all(|v| v == "mail1"),
        "{left:?}"
    );
    let left = apply_then_pending(&host, &new, &["--only", "mail1"]);
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn only_and_remove_refuse_what_the_file_does_not_name() {
    let lab = Lab::new();
    let host = lab.host("a", &["--iface", "em0=192.168.1.3/24"]);
    let old = cluster(&lab, "old.toml", "pw1", 1);
    for (args, needle) in [
        (
            &["apply", "--only", "nosuch"][..],
            "--only nosuch: the cluster file has no VIP",
        ),
        (&["apply", "--remove", "nosuch"][..], "--remove nosuch"),
        (
            &["apply", "--only", "mail1", "--remove", "mail1"][..],
            "given to both --only and --remove",
        ),
    ] {
        let out = carpctl(&host, &old, "a", args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    // Nothing was changed.
    let left = pending(&carpctl(
        &host,
        &old,
        "a",
        &["apply", "--dry-run", "--json"],
    ));
    assert_eq!(left.len(), 4, "{left:?}");
}

fn rollout(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["rollout", "plan"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn rollout_plan_prints_steps_and_never_a_password() {
    let lab = Lab::new();
    let old = cluster(&lab, "old.toml", "pw1", 1);
    let new = cluster(&lab, "new.toml", "rotated-secret", 1);
    let (o, n) = (old.to_str().unwrap(), new.to_str().unwrap());
    let out = rollout(&[o, n]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("carpctl -c {o} --node b apply --remove mail1")),
        "{text}"
    );
    assert!(
        text.contains("redundancy reduced: mail1 is held by a alone"),
        "{text}"
    );
    let out = rollout(&[o, n, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps[0]["node"], "b");
    assert_eq!(steps[0]["remove"][0], "mail1");
    assert_eq!(
        steps[1]["command"],
        format!("carpctl -c {n} --node a apply --only mail1")
    );
    for o in [&out.stdout, &out.stderr] {
        let s = String::from_utf8_lossy(o);
        assert!(!s.contains("rotated-secret") && !s.contains("pw1"), "{s}");
    }
}

#[test]
fn rollout_plan_puts_a_leaving_node_into_maintenance_first_and_takes_it_out_last() {
    let lab = Lab::new();
    let old = cluster(&lab, "old.toml", "pw1", 1);
    // b leaves; a carries both VIPs.
    let text = std::fs::read_to_string(&old).unwrap();
    let without_b = text
        .replace("[[node]]\nname = \"b\"\n", "")
        .replace("prefer = [\"a\", \"b\"]\n", "")
        .replace("prefer = [\"b\", \"a\"]\n", "");
    let new = lab.write("new.toml", &without_b, 0o600);
    let (o, n) = (old.to_str().unwrap(), new.to_str().unwrap());
    let out = rollout(&[o, n]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[2].ends_with(&format!("on b: carpctl -c {o} --node b maintenance on")),
        "{text}"
    );
    assert!(
        lines[4].ends_with("moves mail2 from b to a (hand-over by preemption)"),
        "{text}"
    );
    assert!(
        lines[lines.len() - 3].ends_with(&format!("on b: carpctl -c {o} --node b maintenance off")),
        "{text}"
    );
    assert_eq!(
        lines[lines.len() - 1],
        "VIPs that change hands: 1 (each once)"
    );
    let out = rollout(&[o, n, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps[0]["action"], "maintenance_on");
    assert_eq!(steps[0]["file"], "old");
    assert_eq!(steps[0]["moves"][0]["vip"], "mail2");
    assert_eq!(steps[1]["action"], "apply");
    let last = steps.last().unwrap();
    assert_eq!(last["action"], "maintenance_off");
    assert_eq!(
        last["command"],
        format!("carpctl -c {o} --node b maintenance off")
    );
}

#[test]
fn rollout_plan_refuses_what_it_cannot_plan_safely() {
    let lab = Lab::new();
    let old = cluster(&lab, "old.toml", "pw1", 1);
    let moved = std::fs::read_to_string(&old)
        .unwrap()
        .replace("vhid = 1", "vhid = 9");
    let new = lab.write("new.toml", &moved, 0o600);
    let out = rollout(&[old.to_str().unwrap(), new.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot plan this rollout safely: VIP mail1: its vhid changes"),
        "{}",
        stderr(&out)
    );
    let out = rollout(&[
        old.to_str().unwrap(),
        lab.path("none.toml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
