//! Integration tests of the `carpctl` command line: the real binary against
//! emulated FreeBSD hosts in temporary directories.
//!
//! Hosts are created with `carpctl emulate init`; where a test needs vhids
//! (no subcommand creates them yet), it adds them through the library's own
//! `Kernel` on the same state file, the way a later `carpctl apply` will.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use carpctl::kernel::Kernel;
use carpctl::kernel::emulated::EmulatedHost;
use carpctl::kernel::freebsd::FreeBsdKernel;
use carpctl::model::{AdvSkew, DemotionDelta, Key, Vhid, VhidUpdate};
use serde_json::Value;

use crate::common::{BIN, Run, kernel_arg, s};

/// Run carpctl with `args` and a clean environment for the variables it
/// reads, plus `env`.
fn carpctl_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = crate::common::carpctl();
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::of(&mut cmd)
}

fn carpctl(args: &[&str]) -> Run {
    carpctl_env(args, &[])
}

/// `carpctl emulate init` a host in a new temp dir; returns both.
fn init_host(extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("host");
    let mut args = vec!["emulate", "init", s(&host)];
    args.extend_from_slice(extra);
    let r = carpctl(&args);
    assert_eq!(r.code, 0, "emulate init failed: {r:?}");
    assert!(r.stderr.is_empty(), "{r:?}");
    (dir, host)
}

fn status_json(host: &Path) -> Value {
    let r = carpctl(&["--kernel", &kernel_arg(host), "status", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.stdout))
}

/// The library's view of the same emulated host.
fn library_kernel(host: &Path) -> FreeBsdKernel<EmulatedHost> {
    FreeBsdKernel::new(EmulatedHost::open(host).expect("open the emulated host"))
}

/// Two vhids on em0 (advskew 100 with key "testpass"; advskew 0 without a
/// key) with one address each, and a demotion of 50.
fn add_two_vhids(host: &Path) {
    let mut k = library_kernel(host);
    let one = Vhid::new(1).unwrap();
    let two = Vhid::new(2).unwrap();
    let update = VhidUpdate {
        advskew: Some(AdvSkew::new(100).unwrap()),
        key: Some(Key::new(b"testpass").unwrap()),
        ..VhidUpdate::default()
    };
    k.set_vhid("em0", one, &update).expect("create vhid 1");
    k.add_address("em0", one, "192.0.2.50/24".parse().unwrap())
        .expect("address of vhid 1");
    k.set_vhid("em0", two, &VhidUpdate::default())
        .expect("create vhid 2");
    k.add_address("em0", two, "2001:db8::50/64".parse().unwrap())
        .expect("address of vhid 2");
    k.adjust_demotion(DemotionDelta::new(50)).expect("demote");
}

const STATES: [&str; 3] = ["INIT", "BACKUP", "MASTER"];

#[test]
fn init_then_status_json_has_the_contract_fields() {
    let (_dir, host) = init_host(&["--iface", "em0=192.0.2.3/24"]);
    let v = status_json(&host);
    assert!(v["preempt"].is_boolean(), "{v}");
    assert!(v["demotion"].is_i64(), "{v}");
    assert_eq!(v["demotion"], 0);
    assert!(v["allow"].is_boolean(), "{v}");
    assert!(v["log"].is_i64(), "{v}");
    assert_eq!(v["vhids"], serde_json::json!([]), "a new host has no vhids");
    let kernel = &v["kernel"];
    assert_eq!(kernel["api"], "netlink", "the default flavor is 14: {v}");
    assert!(
        kernel["osrelease"]
            .as_str()
            .is_some_and(|r| r.starts_with("14.")),
        "{v}"
    );
    assert!(kernel["osreldate"].is_i64(), "{v}");
}

#[test]
fn status_json_vhid_entries_have_the_contract_types() {
    let (_dir, host) = init_host(&[
        "--iface",
        "em0=192.0.2.3/24",
        "--iface",
        "em0=2001:db8::3/64",
    ]);
    add_two_vhids(&host);
    let v = status_json(&host);
    assert_eq!(v["demotion"], 50);
    let vhids = v["vhids"].as_array().expect("vhids is an array");
    assert_eq!(vhids.len(), 2, "{v}");
    for e in vhids {
        assert_eq!(e["interface"], "em0");
        assert!(e["vhid"].is_u64());
        let state = e["state"].as_str().expect("state is a string");
        assert!(STATES.contains(&state), "{state}");
        assert!(e["advbase"].is_u64() && e["advskew"].is_u64() && e["effective_advskew"].is_u64());
        assert!(e["key_set"].is_boolean());
        assert!(e["addresses"].is_array());
        assert_eq!(e["protocol"], "carp");
        assert_eq!(e["version"], 2);
        assert_eq!(e["peer"], Value::Null, "multicast by default");
    }
    let one = &vhids[0];
    assert_eq!(one["vhid"], 1);
    assert_eq!(one["advbase"], 1);
    assert_eq!(one["advskew"], 100);
    assert_eq!(one["effective_advskew"], 150);
    assert_eq!(one["key_set"], true);
    assert_eq!(one["addresses"], serde_json::json!(["192.0.2.50/24"]));
    let two = &vhids[1];
    assert_eq!(two["vhid"], 2);
    assert_eq!(two["advskew"], 0);
    assert_eq!(two["effective_advskew"], 50);
    assert_eq!(two["key_set"], false);
    assert_eq!(two["addresses"], serde_json::json!(["2001:db8::50/64"]));
}

#[test]
fn status_human_form() {
    let (_dir, host) = init_host(&[
        "--iface",
        "em0=192.0.2.3/24",
        "--iface",
        "em0=2001:db8::3/64",
    ]);
    add_two_vhids(&host);
    let r = carpctl(&["--kernel", &kernel_arg(&host), "status"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.is_empty(), "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{}", r.stdout);
    assert!(lines[0].starts_with("carp(4): FreeBSD 14."), "{}", lines[0]);
    assert!(lines[0].contains(" via netlink; preempt "), "{}", lines[0]);
    assert!(lines[0].ends_with(", demotion 50"), "{}", lines[0]);
    assert_eq!(lines[1], "em0: vhid 1");
    let carp = lines[2].strip_prefix("\tcarp: ").expect("a carp: line");
    let (state, rest) = carp.split_once(' ').unwrap();
    assert!(STATES.contains(&state), "{carp}");
    assert_eq!(rest, "vhid 1 advbase 1 advskew 100 (effective 150) key set");
    assert_eq!(lines[3], "\t      inet 192.0.2.50/24");
    assert_eq!(lines[4], "em0: vhid 2");
    assert!(
        lines[5].ends_with(" vhid 2 advbase 1 advskew 0 (effective 50) no key"),
        "{}",
        lines[5]
    );
    assert_eq!(lines[6], "\t      inet6 2001:db8::50/64");
}

#[test]
fn status_of_a_new_host_says_there_are_no_vhids() {
    let (_dir, host) = init_host(&["--iface", "em0=192.0.2.3/24"]);
    let r = carpctl(&["--kernel", &kernel_arg(&host), "status"]);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(lines[0].starts_with("carp(4): FreeBSD 14."), "{}", lines[0]);
    assert_eq!(lines[1], "no vhids configured");
}

#[test]
fn no_form_of_status_shows_the_key() {
    let (_dir, host) = init_host(&[
        "--iface",
        "em0=192.0.2.3/24",
        "--iface",
        "em0=2001:db8::3/64",
    ]);
    add_two_vhids(&host);
    let k = kernel_arg(&host);
    for args in [
        vec!["--kernel", &k, "status"],
        vec!["--kernel", &k, "--trace-wire", "status", "--json"],
    ] {
        let r = carpctl(&args);
        assert_eq!(r.code, 0, "{r:?}");
        for text in [&r.stdout, &r.stderr] {
            assert!(!text.contains("testpass"), "{text}");
            // "testpass" in hex, as a wire trace would show it.
            assert!(
                !text.to_ascii_lowercase().contains("7465737470617373"),
                "{text}"
            );
        }
    }
}

#[test]
fn the_kernel_can_come_from_carpctl_kernel() {
    let (_dir, host) = init_host(&["--iface", "em0=192.0.2.3/24"]);
    let r = carpctl_env(
        &["status", "--json"],
        &[("CARPCTL_KERNEL", &kernel_arg(&host))],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        serde_json::from_str::<Value>(&r.stdout).is_ok(),
        "{}",
        r.stdout
    );
    // --kernel wins over the environment.
    let r = carpctl_env(
        &["--kernel", &kernel_arg(&host), "status"],
        &[("CARPCTL_KERNEL", "emulated:/nonexistent/host")],
    );
    assert_eq!(r.code, 0, "{r:?}");
    // Global options also go after the subcommand.
    let r = carpctl(&["status", "--kernel", &kernel_arg(&host)]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// Off FreeBSD there is no default kernel: exit 2 (a configuration error,
/// as documented in carpctl(8)) with the way to an emulated host.
#[cfg(not(target_os = "freebsd"))]
#[test]
fn no_kernel_off_freebsd_explains_the_emulator() {
    let r = carpctl(&["status"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
    assert!(
        r.stderr.starts_with("carpctl: no kernel selected"),
        "{}",
        r.stderr
    );
    for needle in [
        "--kernel emulated:",
        "CARPCTL_KERNEL",
        "carpctl emulate init",
    ] {
        assert!(
            r.stderr.contains(needle),
            "missing {needle:?} in {}",
            r.stderr
        );
    }
    let r = carpctl(&["--kernel", "native", "status"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("only available on FreeBSD"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("carpctl emulate init"), "{}", r.stderr);
}

#[test]
fn a_bad_kernel_value_is_a_usage_error_naming_it() {
    for bad in ["vmm", "emulated", "emulated:", "Native"] {
        let r = carpctl(&["--kernel", bad, "status"]);
        assert_eq!(r.code, 2, "{bad}: {r:?}");
        assert!(
            r.stderr.contains(&format!("'{bad}'")),
            "{bad}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("emulated:PATH"), "{bad}: {}", r.stderr);
    }
    let r = carpctl_env(&["status"], &[("CARPCTL_KERNEL", "jail:foo")]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("jail:foo"), "{}", r.stderr);
}

#[test]
fn a_missing_emulated_host_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("typo");
    let r = carpctl(&["--kernel", &kernel_arg(&host), "status"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("carpctl: "), "{}", r.stderr);
    assert!(r.stderr.contains(s(&host)), "{}", r.stderr);
    assert!(r.stderr.contains("carpctl emulate init"), "{}", r.stderr);
}

#[test]
fn init_refuses_a_bad_iface_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("host");
    for bad in [
        "em0",
        "em0=192.0.2.3",
        "em0=192.0.2.300/24",
        "em0=192.0.2.3/33",
        "em0=2001:db8::g/64",
        "=192.0.2.3/24",
        "em+0=",
        "averyveryverylongname0=",
        "lo0=127.0.0.2/8",
    ] {
        let r = carpctl(&["emulate", "init", s(&host), "--iface", bad]);
        assert_eq!(r.code, 2, "{bad}: {r:?}");
        assert!(
            r.stderr.contains(&format!("'{bad}'")),
            "{bad}: {}",
            r.stderr
        );
        assert!(!host.exists(), "{bad}: the host was created anyway");
    }
    // The same address twice.
    let r = carpctl(&[
        "emulate",
        "init",
        s(&host),
        "--iface",
        "em0=192.0.2.3/24",
        "--iface",
        "em1=192.0.2.3/24",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("192.0.2.3 is already given to em0"),
        "{}",
        r.stderr
    );
    assert!(!host.exists());
}

#[test]
fn init_refuses_a_bad_flavor_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("host");
    for bad in ["12", "14.1", "9", "MAIN", "current"] {
        let r = carpctl(&["emulate", "init", s(&host), "--freebsd", bad]);
        assert_eq!(r.code, 2, "{bad}: {r:?}");
        assert!(
            r.stderr.contains(&format!("'{bad}'")),
            "{bad}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("13, 14, 15 or main"),
            "{bad}: {}",
            r.stderr
        );
        assert!(!host.exists(), "{bad}");
    }
}

#[test]
fn each_flavor_shows_its_api() {
    for (flavor, api, vrrp) in [
        ("13", "ioctl", false),
        ("14", "netlink", false),
        ("15", "netlink", true),
        ("main", "netlink", true),
    ] {
        let (_dir, host) = init_host(&["--freebsd", flavor, "--iface", "em0=192.0.2.3/24"]);
        let v = status_json(&host);
        assert_eq!(v["kernel"]["api"], api, "{flavor}: {v}");
        assert_eq!(v["kernel"]["vrrp"], vrrp, "{flavor}: {v}");
    }
}

#[test]
fn init_refuses_an_existing_path() {
    let (_dir, host) = init_host(&["--iface", "em0=192.0.2.3/24"]);
    let before = std::fs::read(&host).unwrap();
    let r = carpctl(&[
        "emulate",
        "init",
        s(&host),
        "--iface",
        "em1=198.51.100.3/24",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert_eq!(
        std::fs::read(&host).unwrap(),
        before,
        "the host was changed"
    );
}

#[test]
fn init_prints_and_creates_every_interface_and_address() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("host");
    let r = carpctl(&[
        "emulate",
        "init",
        s(&host),
        "--freebsd",
        "15",
        "--iface",
        "em0=192.0.2.3/24",
        "--iface",
        "em1=",
        "--iface",
        "em0=2001:db8::3/64",
        "--iface",
        "em0=198.51.100.3/24",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("FreeBSD 15"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("em0 192.0.2.3/24 2001:db8::3/64 198.51.100.3/24"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("em1 (no address)"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("--kernel emulated:{}", s(&host))),
        "{}",
        r.stdout
    );

    let ifaces = library_kernel(&host).interfaces().expect("interfaces");
    let names: Vec<&str> = ifaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["lo0", "em0", "em1"]);
    let em0: BTreeSet<String> = ifaces[1]
        .addresses
        .iter()
        .map(|a| a.net.to_string())
        .collect();
    let want: BTreeSet<String> = ["192.0.2.3/24", "2001:db8::3/64", "198.51.100.3/24"]
        .iter()
        .map(|a| a.to_string())
        .collect();
    // lo0-style link-local addresses are the emulator's business; the
    // given ones must all be there.
    assert!(em0.is_superset(&want), "{em0:?}");
    assert!(
        ifaces[2].addresses.iter().all(|a| a.net.addr().is_ipv6()),
        "{:?}",
        ifaces[2]
    );
}

#[test]
fn without_carp_ko_status_fails_with_the_fix() {
    let (_dir, host) = init_host(&["--no-carp-module", "--iface", "em0=192.0.2.3/24"]);
    let r = carpctl(&["--kernel", &kernel_arg(&host), "status"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
    assert!(r.stderr.starts_with("carpctl: "), "{}", r.stderr);
    assert!(r.stderr.contains("kldload carp"), "{}", r.stderr);
}

#[test]
fn an_unprivileged_caller_can_read_the_status() {
    let (_dir, host) = init_host(&["--unprivileged", "--iface", "em0=192.0.2.3/24"]);
    let v = status_json(&host);
    assert!(v["vhids"].is_array(), "{v}");
}

#[test]
fn inject_validates_its_arguments() {
    let (_dir, host) = init_host(&["--iface", "em0=192.0.2.3/24"]);
    let r = carpctl(&[
        "emulate",
        "inject",
        s(&host),
        "--fail-call",
        "1",
        "--errno",
        "EFOO",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("EFOO"), "{}", r.stderr);
    assert!(
        r.stderr.contains("EINVAL") && r.stderr.contains("EPERM"),
        "{}",
        r.stderr
    );
    for n in ["0", "-1", "x"] {
        let r = carpctl(&[
            "emulate",
            "inject",
            s(&host),
            "--fail-call",
            n,
            "--errno",
            "EIO",
        ]);
        assert_eq!(r.code, 2, "{n}: {r:?}");
    }
    let missing = host.with_file_name("nope");
    let r = carpctl(&[
        "emulate",
        "inject",
        s(&missing),
        "--fail-call",
        "1",
        "--errno",
        "EIO",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
}

#[test]
fn inject_arms_a_failure_of_the_next_change() {
    let (_dir, host) = init_host(&["--iface", "em0=192.0.2.3/24"]);
    let r = carpctl(&[
        "emulate",
        "inject",
        s(&host),
        "--fail-call",
        "1",
        "--errno",
        "enomem",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("the next mutating call"), "{}", r.stdout);
    assert!(r.stdout.contains("ENOMEM"), "{}", r.stdout);

    let mut k = library_kernel(&host);
    let vhid = Vhid::new(1).unwrap();
    let e = k
        .set_vhid("em0", vhid, &VhidUpdate::default())
        .expect_err("the armed failure");
    assert_eq!(e.errno(), Some(carpctl::kernel::Errno::ENOMEM), "{e}");
    assert_eq!(
        k.vhid("em0", vhid).expect("read"),
        None,
        "a failed call changes nothing"
    );
    // Only that one call fails.
    k.set_vhid("em0", vhid, &VhidUpdate::default())
        .expect("the next call works");
}

/// `carpctl status | head -1`: the reader is gone before carpctl writes.
/// That is not an error: exit 0, nothing on stderr.
#[test]
fn a_broken_pipe_is_not_an_error() {
    let (_dir, host) = init_host(&["--iface", "em0=192.0.2.3/24"]);
    for json in [false, true] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd = Command::new(BIN);
        cmd.args(["--kernel", &kernel_arg(&host), "status"])
            .env_remove("RUST_LOG");
        if json {
            cmd.arg("--json");
        }
        let out = cmd.stdout(writer).stderr(Stdio::piped()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "json={json}: {stderr}");
        assert!(stderr.is_empty(), "json={json}: {stderr}");
    }
}

fn is_wire_line(line: &str) -> bool {
    const OPS: [&str; 6] = [
        "CTRL_CMD_GETFAMILY",
        "CARP_NL_CMD_GET",
        "SIOCGVH",
        "sysctl ",
        "getifaddrs",
        "NLMSG_DONE",
    ];
    line.contains("carpctl::wire")
        && OPS.iter().any(|op| line.contains(op))
        && line
            .split_whitespace()
            .any(|w| w.len() >= 8 && w.chars().all(|c| c.is_ascii_hexdigit()))
}

#[test]
fn trace_wire_logs_hex_lines_on_stderr() {
    let (_dir, host) = init_host(&["--iface", "em0=192.0.2.3/24"]);
    let k = kernel_arg(&host);
    let r = carpctl(&["--kernel", &k, "--trace-wire", "status", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let wire = r.stderr.lines().filter(|l| is_wire_line(l)).count();
    assert!(
        wire >= 3,
        "expected hex wire lines on stderr:\n{}",
        r.stderr
    );
    // stdout stays pure data.
    assert!(
        serde_json::from_str::<Value>(&r.stdout).is_ok(),
        "{}",
        r.stdout
    );

    // Without the flag: silence.
    let r = carpctl(&["--kernel", &k, "status", "--json"]);
    assert!(r.stderr.is_empty(), "{}", r.stderr);

    // RUST_LOG=trace shows the same lines.
    let r = carpctl_env(&["--kernel", &k, "status"], &[("RUST_LOG", "trace")]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.lines().any(is_wire_line), "{}", r.stderr);
}

#[test]
fn a_bad_rust_log_is_reported_and_ignored() {
    let (_dir, host) = init_host(&["--iface", "em0=192.0.2.3/24"]);
    let r = carpctl_env(
        &["--kernel", &kernel_arg(&host), "status"],
        &[("RUST_LOG", "carpctl=loud")],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("ignoring RUST_LOG"), "{}", r.stderr);
    assert!(r.stdout.starts_with("carp(4): "), "{}", r.stdout);
}

/// The long options and subcommands of `carpctl --help`, and of each
/// subcommand's `--help`, recursively: (command path, options, subcommands).
fn help_tree(path: &[&str], out: &mut Vec<(String, BTreeSet<String>)>) {
    let mut args: Vec<&str> = path.to_vec();
    args.push("--help");
    let r = carpctl(&args);
    assert_eq!(r.code, 0, "{args:?}: {r:?}");
    let mut options = BTreeSet::new();
    let mut subcommands = Vec::new();
    let mut in_commands = false;
    for line in r.stdout.lines() {
        if line.ends_with(':') && !line.starts_with(' ') {
            in_commands = line == "Commands:";
            continue;
        }
        if in_commands {
            // "  name   description": two spaces, then the name.
            if let Some(name) = line
                .strip_prefix("  ")
                .and_then(|l| l.split_whitespace().next())
                && !line.starts_with("   ")
                && name != "help"
            {
                subcommands.push(name.to_string());
            }
            continue;
        }
        // Option lines start with "  -x, --long" or "      --long".
        let trimmed = line.trim_start();
        if line.starts_with("  ") && trimmed.starts_with('-') {
            for word in trimmed.split([' ', ',', '<', '[', '.']) {
                if let Some(long) = word.strip_prefix("--")
                    && !long.is_empty()
                {
                    options.insert(long.to_string());
                }
            }
        }
    }
    out.push((path.join(" "), options));
    for sub in subcommands {
        let mut p = path.to_vec();
        p.push(&sub);
        help_tree(&p, out);
    }
}

#[test]
fn every_option_in_help_is_in_the_man_page() {
    let man = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/carpctl.8"))
        .expect("man/carpctl.8");
    let mut tree = Vec::new();
    help_tree(&[], &mut tree);
    let commands: Vec<&str> = tree.iter().map(|(c, _)| c.as_str()).collect();
    // The parser must really find things: these exist today.
    for c in ["", "status", "emulate", "emulate init", "emulate inject"] {
        assert!(commands.contains(&c), "{c:?} not found in {commands:?}");
    }
    let all: BTreeSet<&String> = tree.iter().flat_map(|(_, o)| o).collect();
    for o in [
        "kernel",
        "trace-wire",
        "verbose",
        "json",
        "freebsd",
        "iface",
        "fail-call",
        "errno",
    ] {
        assert!(
            all.iter().any(|a| a.as_str() == o),
            "--{o} not found in {all:?}"
        );
    }
    let mut missing = Vec::new();
    for (command, options) in &tree {
        for o in options {
            // mdoc writes a long option as `.Fl -name`.
            if !man.contains(&format!("Fl -{o}")) {
                missing.push(format!("carpctl {command} --{o}"));
            }
        }
        if !command.is_empty() && !man.contains(&format!("Cm {command}")) {
            missing.push(format!("command {command:?} (as .Cm {command})"));
        }
    }
    assert!(missing.is_empty(), "not in man/carpctl.8: {missing:?}");
}
