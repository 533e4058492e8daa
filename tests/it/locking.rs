//! Concurrent carpctl processes on one host (issue 9, item 6): each call
//! of an emulated host is atomic across processes (`PATH.lock`), and the
//! commands that change a host take turns on the host lock, waiting a
//! bounded time and then naming the holder.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{carpctl, expect, init_host, kernel_arg, stderr};

use carpctl::kernel::Kernel;
use carpctl::kernel::emulated::EmulatedHost;
use carpctl::kernel::freebsd::FreeBsdKernel;
use carpctl::model::DemotionDelta;

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Self {
        Lab {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn host(&self, name: &str) -> PathBuf {
        let p = self.path(name);
        init_host(&p);
        p
    }

    /// A cluster file of node `a` alone with the VIPs `vhids` on em0 (no
    /// passwords, so no key files: the warnings go to stderr).
    fn config(&self, name: &str, vhids: impl IntoIterator<Item = u8>) -> PathBuf {
        let mut text = String::from("[[node]]\nname = \"a\"\n");
        for v in vhids {
            text.push_str(&format!(
                "\n[[vip]]\nname = \"v{v}\"\nvhid = {v}\ninterface = \"em0\"\n\
                 addresses = [\"192.0.2.{}/32\"]\n",
                100 + u32::from(v)
            ));
        }
        let p = self.path(name);
        fs::write(&p, text).unwrap();
        p
    }
}

/// `carpctl --kernel emulated:HOST -c CONFIG --node a ARGS`, with `env`.
fn on(host: &Path, config: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = carpctl();
    c.arg("--kernel")
        .arg(kernel_arg(host))
        .arg("-c")
        .arg(config)
        .args(["--node", "a"])
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

fn vhids(host: &Path) -> Vec<u64> {
    let out = carpctl()
        .arg("--kernel")
        .arg(kernel_arg(host))
        .args(["status", "--json"])
        .output()
        .unwrap();
    expect(&out, 0, &[]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ids: Vec<u64> = v["vhids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["vhid"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

fn kernel(host: &Path) -> FreeBsdKernel<EmulatedHost> {
    FreeBsdKernel::new(EmulatedHost::open(host).unwrap())
}

/// The emulated kernel's own lock: handles that change the same host at
/// once (as processes do) never lose each other's changes.
#[test]
fn every_emulated_call_is_atomic_across_handles() {
    let lab = Lab::new();
    let host = lab.host("host");
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let host = host.clone();
            thread::spawn(move || {
                // Its own handle: its own open of the lock file, which
                // flock(2) treats like another process's.
                let mut k = kernel(&host);
                for _ in 0..100 {
                    k.adjust_demotion(DemotionDelta::new(1)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(kernel(&host).sysctls().unwrap().demotion, 400);
}

/// Issue 9's race: two applies of different VIPs on one host. Every round
/// both succeed and every vhid of both is there.
#[test]
fn concurrent_applies_of_different_vips_never_lose_a_vhid() {
    let lab = Lab::new();
    let a = lab.config("a.toml", 1..=8);
    let b = lab.config("b.toml", 11..=18);
    let want: Vec<u64> = (1..=8).chain(11..=18).collect();
    for round in 0..20 {
        let host = lab.host(&format!("host{round}"));
        let mut ca = on(&host, &a, &["apply"], &[]);
        let mut cb = on(&host, &b, &["apply"], &[]);
        let pa = ca
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pb = cb
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (oa, ob) = (
            pa.wait_with_output().unwrap(),
            pb.wait_with_output().unwrap(),
        );
        assert!(oa.status.success(), "round {round}, a: {}", stderr(&oa));
        assert!(ob.status.success(), "round {round}, b: {}", stderr(&ob));
        assert_eq!(vhids(&host), want, "round {round}");
    }
}

/// Issue 9's other race: `maintenance on` and `off` while `apply` runs.
/// Afterwards the kernel's demotion is exactly the ledger's (and with
/// maintenance off again, 0), every round.
#[test]
fn maintenance_alongside_apply_keeps_the_demotion_equal_to_the_ledger() {
    let lab = Lab::new();
    let a = lab.config("a.toml", 1..=8);
    let b = lab.config("b.toml", 1..=8);
    // b moves every VIP to other addresses: a second apply has work too.
    fs::write(
        &b,
        fs::read_to_string(&b)
            .unwrap()
            .replace("192.0.2.1", "192.0.2.2"),
    )
    .unwrap();
    for round in 0..6 {
        let host = lab.host(&format!("host{round}"));
        let apply = {
            let (host, a, b) = (host.clone(), a.clone(), b.clone());
            thread::spawn(move || {
                for cfg in [&a, &b, &a] {
                    let out = on(&host, cfg, &["apply"], &[]).output().unwrap();
                    assert!(out.status.success(), "apply: {}", stderr(&out));
                }
            })
        };
        for _ in 0..3 {
            for cmd in ["on", "off"] {
                let out = on(&host, &a, &["maintenance", cmd], &[]).output().unwrap();
                assert!(out.status.success(), "maintenance {cmd}: {}", stderr(&out));
            }
        }
        let out = on(&host, &a, &["maintenance", "on"], &[]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        apply.join().unwrap();
        let status = |want_maintenance: bool| {
            let out = on(&host, &a, &["maintenance", "status", "--json"], &[])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["maintenance"], want_maintenance, "round {round}: {v}");
            assert_eq!(v["other"], 0, "round {round}: {v}");
            let shares: i64 = v["shares"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["weight"].as_i64().unwrap())
                .sum();
            assert_eq!(v["demotion"], shares, "round {round}: {v}");
        };
        status(true);
        let out = on(&host, &a, &["maintenance", "off"], &[])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        status(false);
        assert_eq!(
            kernel(&host).sysctls().unwrap().demotion,
            0,
            "round {round}"
        );
    }
}

/// A second carpctl that changes the host waits for the lock (bounded by
/// CARPCTL_LOCK_WAIT) and then gives up naming the holder; commands that
/// change nothing do not wait.
#[test]
fn a_second_mutating_carpctl_waits_then_names_the_holder() {
    let lab = Lab::new();
    let host = lab.host("host");
    let cfg = lab.config("a.toml", 1..=2);
    let before = fs::read(&host).unwrap();
    let k = kernel(&host);
    let held = carpctl::hostlock::lock(&k, Duration::ZERO).unwrap();
    assert_eq!(
        held.path(),
        host.with_extension("root").join("var/run/carpctl.lock")
    );
    let me = std::process::id();
    for args in [
        &["apply"][..],
        &["maintenance", "on"],
        &["maintenance", "off"],
    ] {
        let start = Instant::now();
        let out = on(&host, &cfg, args, &[("CARPCTL_LOCK_WAIT", "1")])
            .output()
            .unwrap();
        let took = start.elapsed();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("another carpctl (pid {me}) is changing this host")),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("still locked after 1 s"),
            "{}",
            stderr(&out)
        );
        assert!(
            took >= Duration::from_secs(1),
            "{args:?} did not wait: {took:?}"
        );
        assert_eq!(
            fs::read(&host).unwrap(),
            before,
            "{args:?} changed the host"
        );
    }
    // Reading does not wait.
    for args in [
        &["status"][..],
        &["maintenance", "status"],
        &["apply", "--dry-run"],
    ] {
        let start = Instant::now();
        let out = on(&host, &cfg, args, &[("CARPCTL_LOCK_WAIT", "30")])
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(start.elapsed() < Duration::from_secs(20), "{args:?} waited");
    }
    // A bad wait is a usage error.
    let out = on(&host, &cfg, &["apply"], &[("CARPCTL_LOCK_WAIT", "soon")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("CARPCTL_LOCK_WAIT"),
        "{}",
        stderr(&out)
    );
    // One that may wait long enough gets the lock when it is released.
    let child = on(&host, &cfg, &["apply"], &[("CARPCTL_LOCK_WAIT", "60")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    thread::sleep(Duration::from_millis(700));
    assert_eq!(fs::read(&host).unwrap(), before, "apply did not wait");
    drop(held);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(vhids(&host), [1, 2]);
}
