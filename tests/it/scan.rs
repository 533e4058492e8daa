//! `carpctl scan` against what others put on the wire.
//!
//! * Live, in network namespaces this file creates (names start with
//!   `h15` and hold the test process's id, so that concurrent runs do not
//!   collide): Debian's **ucarp** (CARP with HMAC) and **keepalived** (VRRPv2
//!   and VRRPv3) on veths joined by a bridge, and `carpctl scan -i br0` in
//!   the bridge's namespace. Each test skips with a message on stderr
//!   (`SKIP ...`) when it is not root or namespaces cannot be created; a
//!   missing ucarp or keepalived skips too, except under CI (`CI=true`),
//!   whose `.ci/run` installs them, where it fails.
//! * Captures written by tcpdump (pcap) and tshark (pcapng) during the live
//!   test, and by `carpctl simulate --pcap`, whose report scan must agree
//!   with.
//! * The errors: no privilege, a file that is not a capture, bad options.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::common::{self, BIN, carpctl, code, expect, run, stderr, stdout};
use serde_json::Value;

// ----- the lab -----------------------------------------------------------

/// A skip, said loudly: written to the process's standard error directly,
/// which the test harness does not capture (it captures `eprintln!`), so
/// that `cargo test` shows it even when the test passes.
macro_rules! skip {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Network namespaces and the processes started in them; all removed on
/// drop (also when a test fails).
struct Lab {
    tag: String,
    namespaces: Vec<String>,
    children: Vec<Child>,
    dir: tempfile::TempDir,
}

fn sh(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", args[0]))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn have(tool: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(tool).exists())
}

/// Whether the live tests can run: root, `ip`, and `tools`. `None` (after
/// a SKIP line) when they cannot; a missing tool under CI fails instead.
fn can_run(test: &str, tools: &[&str]) -> Option<()> {
    if !nix::unistd::geteuid().is_root() {
        skip!("SKIP {test}: not root (network namespaces need root)");
        return None;
    }
    for t in std::iter::once(&"ip").chain(tools) {
        if !have(t) {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "{test}: {t} is not installed, and CI must run this test (.ci/run installs it)"
                );
            }
            skip!("SKIP {test}: {t} is not installed (apt-get install {t})");
            return None;
        }
    }
    Some(())
}

impl Lab {
    /// A bridge `br0` in namespace `h15<tag><pid>-br` and one namespace
    /// per speaker `h15<tag><pid>-<name>`, each with `eth0` =
    /// 10.15.0.<n>/24 on the bridge through the veth [`Lab::port`]. The
    /// process id keeps two checkouts running the suite at once out of each
    /// other's namespaces. `None` (after a SKIP line) when namespaces are
    /// unavailable.
    fn new(test: &str, tag: &str, speakers: &[(&str, u8)]) -> Option<Lab> {
        let mut lab = Lab {
            tag: tag.to_string(),
            namespaces: Vec::new(),
            children: Vec::new(),
            dir: tempfile::tempdir().unwrap(),
        };
        let br = lab.ns("br");
        if let Err(e) = lab.add_ns(&br) {
            skip!("SKIP {test}: cannot create a network namespace: {e}");
            return None;
        }
        let mut setup = || -> Result<(), String> {
            sh(&["ip", "-n", &br, "link", "add", "br0", "type", "bridge"])?;
            sh(&["ip", "-n", &br, "link", "set", "br0", "up"])?;
            for (name, host) in speakers {
                let ns = lab.ns(name);
                lab.add_ns(&ns)?;
                let peer = lab.port(name);
                sh(&[
                    "ip", "link", "add", "eth0", "netns", &ns, "type", "veth", "peer", "name",
                    &peer, "netns", &br,
                ])?;
                sh(&["ip", "-n", &br, "link", "set", &peer, "master", "br0", "up"])?;
                let addr = format!("10.15.0.{host}/24");
                sh(&["ip", "-n", &ns, "addr", "add", &addr, "dev", "eth0"])?;
                sh(&["ip", "-n", &ns, "link", "set", "eth0", "up"])?;
                sh(&["ip", "-n", &ns, "link", "set", "lo", "up"])?;
            }
            Ok(())
        };
        if let Err(e) = setup() {
            panic!("{test}: setting up the namespaces: {e}");
        }
        Some(lab)
    }

    fn ns(&self, name: &str) -> String {
        format!("h15{}{}-{name}", self.tag, std::process::id())
    }

    /// The bridge's port (veth) to speaker `name`: `h<tag><name><pid>`,
    /// unique per run like the namespaces, and within IFNAMSIZ (15
    /// characters: 2-character tags and names, a pid of at most 7 digits,
    /// `pid_max` ≤ 2^22).
    fn port(&self, name: &str) -> String {
        let port = format!("h{}{name}{}", self.tag, std::process::id());
        assert!(port.len() <= 15, "interface name {port:?} over IFNAMSIZ");
        port
    }

    fn add_ns(&mut self, ns: &str) -> Result<(), String> {
        // A namespace left by an earlier, killed run.
        let _ = sh(&["ip", "netns", "del", ns]);
        sh(&["ip", "netns", "add", ns])?;
        self.namespaces.push(ns.to_string());
        Ok(())
    }

    /// Starts `argv` in speaker namespace `name` (at most 120 s, should
    /// this test process be killed before its drop runs).
    fn spawn(&mut self, name: &str, argv: &[&str]) {
        let ns = self.ns(name);
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log"))).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &ns, "timeout", "120"])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.children.push(child);
    }

    /// ucarp in `name` for vhid `vhid`, advertising from `src`.
    fn ucarp(&mut self, name: &str, src: &str, vhid: u8, skew: u8, password: &str, preempt: bool) {
        let (vhid, skew) = (vhid.to_string(), skew.to_string());
        let mut argv = vec![
            "ucarp",
            "-i",
            "eth0",
            "-s",
            src,
            "-v",
            &vhid,
            "-p",
            password,
            "-a",
            "10.15.0.100",
            "-u",
            "/bin/true",
            "-d",
            "/bin/true",
            "-b",
            "1",
            "-k",
            &skew,
        ];
        if preempt {
            argv.push("-P");
        }
        self.spawn(name, &argv);
    }

    /// keepalived in `name`: one VRRP instance of `version`.
    fn keepalived(&mut self, name: &str, version: u8, vrid: u8, priority: u8, advert: &str) {
        let dir = self.dir.path();
        let conf = dir.join(format!("{name}.conf"));
        std::fs::write(
            &conf,
            format!(
                "global_defs {{\n  router_id h15{name}\n  vrrp_version {version}\n}}\n\
                 vrrp_instance V {{\n  state BACKUP\n  interface eth0\n  \
                 virtual_router_id {vrid}\n  priority {priority}\n  advert_int {advert}\n  \
                 virtual_ipaddress {{\n    10.15.0.200/24\n  }}\n}}\n"
            ),
        )
        .unwrap();
        let (pid, vpid) = (
            dir.join(format!("{name}.pid")),
            dir.join(format!("{name}.vpid")),
        );
        let s = |p: &Path| p.to_str().unwrap().to_string();
        let argv = [
            "keepalived".to_string(),
            "-n".into(),
            "-l".into(),
            "-P".into(),
            "-f".into(),
            s(&conf),
            "-p".into(),
            s(&pid),
            "-r".into(),
            s(&vpid),
        ];
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        self.spawn(name, &argv);
    }

    /// `carpctl ARGS` in the bridge's namespace.
    fn carpctl(&self, args: &[&str], limit: Duration) -> Output {
        let plain = carpctl();
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns("br"), BIN]).args(args);
        for (k, v) in plain.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        run(&c, limit)
    }

    /// Starts `argv` (a capture tool) in the bridge's namespace.
    fn spawn_in_bridge(&mut self, argv: &[&str]) -> usize {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns("br")])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.children.push(child);
        self.children.len() - 1
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // SIGTERM first: keepalived then stops its VRRP child too.
        for c in &self.children {
            if let Ok(pid) = i32::try_from(c.id()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        for c in &mut self.children {
            for _ in 0..50 {
                if c.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in self.namespaces.iter().rev() {
            let _ = sh(&["ip", "netns", "del", ns]);
        }
    }
}

// ----- reading the report ------------------------------------------------

fn json(out: &Output) -> Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("{e}: not JSON: {}\n{}", stdout(out), stderr(out)))
}

fn group<'a>(r: &'a Value, proto: &str, id: u64) -> &'a Value {
    r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["protocol"] == proto && g["id"] == id)
        .unwrap_or_else(|| panic!("no {proto} {id} in {r:#}"))
}

fn find_speaker<'a>(g: &'a Value, addr: &str) -> Option<&'a Value> {
    g["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["address"] == addr)
}

fn speaker<'a>(g: &'a Value, addr: &str) -> &'a Value {
    find_speaker(g, addr).unwrap_or_else(|| panic!("no speaker {addr} in {g:#}"))
}

fn codes(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn masters(g: &Value) -> Vec<String> {
    let mut m: Vec<String> = g["masters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["address"].as_str().unwrap().to_string())
        .collect();
    m.sort();
    m
}

/// The cluster file of the live tests: vhid 7 (password `pw7`, the ucarp
/// VIP 10.15.0.100) and vhid 8 (password `pw8`), nodes ua and ub.
fn cluster_file(dir: &Path, pw7: &str, pw8: &str) -> PathBuf {
    for (f, pw) in [("k7", pw7), ("k8", pw8)] {
        std::fs::write(dir.join(f), pw).unwrap();
        common::chmod(&dir.join(f), 0o600);
    }
    let path = dir.join("cluster.toml");
    std::fs::write(
        &path,
        "[cluster]\npreempt = true\nadvbase = 1\n\n\
         [[node]]\nname = \"ua\"\n\n[[node]]\nname = \"ub\"\n\n\
         [[vip]]\nname = \"v7\"\nvhid = 7\ninterface = \"eth0\"\n\
         addresses = [\"10.15.0.100/24\"]\npassword_file = \"k7\"\n\n\
         [[vip]]\nname = \"v8\"\nvhid = 8\ninterface = \"eth0\"\n\
         addresses = [\"10.15.0.108/24\"]\npassword_file = \"k8\"\n",
    )
    .unwrap();
    common::chmod(&path, 0o600);
    path
}

const MAP: [&str; 4] = ["--map", "ua=10.15.0.11", "--map", "ub=10.15.0.12"];

impl Lab {
    /// `carpctl -c FILE scan -i br0 --duration SECS --json` with [`MAP`].
    fn scan_with_cluster(&self, file: &Path, secs: &str) -> Output {
        let mut args = vec!["-c", file.to_str().unwrap(), "scan", "-i", "br0"];
        args.extend(["--duration", secs, "--json"]);
        args.extend(MAP);
        self.carpctl(&args, Duration::from_secs(30))
    }
}

/// The findings of `r` with `code`.
fn findings<'a>(r: &'a Value, code: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

// ----- live --------------------------------------------------------------

/// Two ucarp nodes with the cluster's password: both speakers, the
/// preferred one master, every HMAC verified against the cluster file's
/// key, nodes named; and tcpdump (pcap) and tshark (pcapng) capturing the
/// same traffic, read back by `scan --pcap` to the same speakers and
/// master.
#[test]
fn live_ucarp_pair_is_verified_and_captures_agree() {
    let test = "live_ucarp_pair_is_verified_and_captures_agree";
    if can_run(test, &["ucarp", "tcpdump"]).is_none() {
        return;
    }
    // tshark is optional in CI (.ci/run): without it, pcapng is not tried.
    let tshark_here = have("tshark");
    if !tshark_here {
        skip!("SKIP {test}: the pcapng part: tshark is not installed");
    }
    let Some(mut lab) = Lab::new(test, "hm", &[("ua", 11), ("ub", 12)]) else {
        return;
    };
    let file = cluster_file(lab.dir.path(), "pw-h15-seven", "pw-h15-eight");
    lab.ucarp("ua", "10.15.0.11", 7, 0, "pw-h15-seven", true);
    lab.ucarp("ub", "10.15.0.12", 7, 100, "pw-h15-seven", false);
    // ucarp waits three advbases before it claims master.
    std::thread::sleep(Duration::from_millis(3500));
    let (pcap, ng) = (lab.path("t.pcap"), lab.path("t.pcapng"));
    let tcpdump = lab.spawn_in_bridge(&[
        "tcpdump",
        "-i",
        "br0",
        "-U",
        "-w",
        pcap.to_str().unwrap(),
        "ip",
        "proto",
        "112",
    ]);
    let tshark = tshark_here.then(|| {
        lab.spawn_in_bridge(&[
            "tshark",
            "-i",
            "br0",
            "-f",
            "ip proto 112",
            "-w",
            ng.to_str().unwrap(),
        ])
    });
    let out = lab.scan_with_cluster(&file, "5");
    let r = json(&out);
    // Stop the capture tools so their files are complete.
    for i in std::iter::once(tcpdump).chain(tshark) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(lab.children[i].id() as i32),
            nix::sys::signal::Signal::SIGINT,
        );
        let _ = lab.children[i].wait();
    }
    let g = group(&r, "carp", 7);
    assert_eq!(g["interface"], "br0");
    assert_eq!(g["vip"], "v7", "{g:#}");
    assert_eq!(masters(g), ["10.15.0.11"], "{g:#}");
    let a = speaker(g, "10.15.0.11");
    assert_eq!(a["node"], "ua");
    assert_eq!(a["carp"]["advskew"], 0);
    assert_eq!(a["carp"]["advbase"], 1);
    assert_eq!(a["carp"]["hmac"]["status"], "verified", "{a:#}");
    assert!(
        a["carp"]["hmac"]["verified"].as_u64().unwrap() >= 3,
        "{a:#}"
    );
    assert_eq!(a["master"], true);
    assert!(
        (a["observed_interval"]["mean"].as_f64().unwrap() - 1.0).abs() < 0.1,
        "{a:#}"
    );
    // The backup is silent while a master advertises; it may have spoken
    // before (ucarp starts as master after three intervals).
    if let Some(b) = find_speaker(g, "10.15.0.12") {
        assert_eq!(b["node"], "ub");
    }
    let c = codes(&r);
    for bad in [
        "SCAN001", "SCAN002", "SCAN010", "SCAN011", "SCAN012", "SCAN016",
    ] {
        assert!(!c.iter().any(|x| x == bad), "{bad} in {c:?}\n{r:#}");
    }
    // ucarp sends from 00:00:5e:00:00:<vhid>: a warning, so exit 1.
    assert!(c.iter().any(|x| x == "SCAN005"), "{c:?}");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(!stdout(&out).contains("pw-h15") && !stderr(&out).contains("pw-h15"));

    let files = if tshark_here {
        vec![&pcap, &ng]
    } else {
        vec![&pcap]
    };
    for file in files {
        let out = lab.carpctl(
            &["scan", "--pcap", file.to_str().unwrap(), "--json"],
            Duration::from_secs(30),
        );
        let p = json(&out);
        let pg = group(&p, "carp", 7);
        assert_eq!(masters(pg), ["10.15.0.11"], "{}: {pg:#}", file.display());
        let s = speaker(pg, "10.15.0.11");
        assert!(
            s["advertisements"].as_u64().unwrap() >= 3,
            "{}: {s:#}",
            file.display()
        );
        assert_eq!(s["carp"]["advskew"], 0);
        // pcapng names the interface; classic pcap cannot.
        let want = if file == &ng { "br0" } else { "pcap" };
        assert_eq!(pg["interface"], want, "{}", file.display());
    }
}

/// A ucarp node with another password than the cluster file's: its HMAC
/// fails; it verifies with VIP v8's password, so scan says "wrong
/// password" and names v8 (never the password). The two do not hear
/// each other, so both are master: a dual master too.
#[test]
fn live_ucarp_wrong_password_is_reported() {
    let test = "live_ucarp_wrong_password_is_reported";
    if can_run(test, &["ucarp"]).is_none() {
        return;
    }
    let Some(mut lab) = Lab::new(test, "wp", &[("ua", 11), ("ub", 12)]) else {
        return;
    };
    let file = cluster_file(lab.dir.path(), "pw-h15-seven", "pw-h15-eight");
    lab.ucarp("ua", "10.15.0.11", 7, 0, "pw-h15-seven", true);
    lab.ucarp("ub", "10.15.0.12", 7, 100, "pw-h15-eight", false);
    let out = lab.scan_with_cluster(&file, "7");
    let r = json(&out);
    let g = group(&r, "carp", 7);
    let b = speaker(g, "10.15.0.12");
    assert_eq!(b["carp"]["hmac"]["status"], "failed", "{b:#}");
    assert_eq!(
        speaker(g, "10.15.0.11")["carp"]["hmac"]["status"],
        "verified"
    );
    let f = findings(&r, "SCAN010");
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0]["speaker"], "10.15.0.12");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains("v8"), "{msg}");
    assert!(codes(&r).iter().any(|c| c == "SCAN001"), "{:?}", codes(&r));
    assert_eq!(code(&out), 1);
    assert!(!stdout(&out).contains("pw-h15") && !stderr(&out).contains("pw-h15"));
}

/// Two ucarp masters that cannot hear each other (the bridge isolates
/// their ports: a partition the scanner sees both sides of), preempt off:
/// dual master, ongoing at the end.
#[test]
fn live_ucarp_dual_master_after_partition() {
    let test = "live_ucarp_dual_master_after_partition";
    if can_run(test, &["ucarp", "bridge"]).is_none() {
        return;
    }
    let Some(mut lab) = Lab::new(test, "dm", &[("ua", 11), ("ub", 12)]) else {
        return;
    };
    let br = lab.ns("br");
    for p in [lab.port("ua"), lab.port("ub")] {
        sh(&[
            "ip", "netns", "exec", &br, "bridge", "link", "set", "dev", &p, "isolated", "on",
        ])
        .unwrap();
    }
    lab.ucarp("ua", "10.15.0.11", 7, 0, "pw-h15", false);
    lab.ucarp("ub", "10.15.0.12", 7, 5, "pw-h15", false);
    let out = lab.carpctl(
        &["scan", "-i", "br0", "--duration", "7", "--json"],
        Duration::from_secs(30),
    );
    let r = json(&out);
    let g = group(&r, "carp", 7);
    assert_eq!(masters(g), ["10.15.0.11", "10.15.0.12"], "{g:#}");
    let d = g["dual_master"].as_array().unwrap();
    assert_eq!(d.len(), 1, "{g:#}");
    assert_eq!(d[0]["ongoing"], true);
    assert!(
        d[0]["end"].as_f64().unwrap() - d[0]["start"].as_f64().unwrap() > 1.5,
        "{d:?}"
    );
    assert!(codes(&r).iter().any(|c| c == "SCAN001"), "{:?}", codes(&r));
    assert_eq!(code(&out), 1);
    // The text says the same.
    let out = lab.carpctl(
        &["scan", "-i", "br0", "--duration", "3"],
        Duration::from_secs(30),
    );
    expect(
        &out,
        1,
        &["SCAN001 error: carp vhid 7 on br0", "dual master"],
    );
}

/// keepalived VRRPv3: decoded, with its priority and its interval in
/// centiseconds; it sends from its interface's MAC (info only).
#[test]
fn live_keepalived_vrrp3_is_decoded() {
    let test = "live_keepalived_vrrp3_is_decoded";
    if can_run(test, &["keepalived"]).is_none() {
        return;
    }
    let Some(mut lab) = Lab::new(test, "k3", &[("ka", 21)]) else {
        return;
    };
    lab.keepalived("ka", 3, 9, 150, "0.5");
    let out = lab.carpctl(
        &["scan", "-i", "br0", "--duration", "6", "--json"],
        Duration::from_secs(30),
    );
    let r = json(&out);
    let g = group(&r, "vrrp", 9);
    assert_eq!(masters(g), ["10.15.0.21"], "{g:#}");
    let s = speaker(g, "10.15.0.21");
    assert_eq!(s["vrrp"]["version"], 3, "{s:#}");
    assert_eq!(s["vrrp"]["priority"], 150, "{s:#}");
    assert_eq!(s["interval"], 0.5, "{s:#}");
    assert!(
        (s["observed_interval"]["mean"].as_f64().unwrap() - 0.5).abs() < 0.05,
        "{s:#}"
    );
    assert_eq!(codes(&r), ["SCAN006"], "{r:#}");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// keepalived VRRPv2 with VRID 7 beside a ucarp vhid 7: the same number
/// on one segment (both would use 00:00:5e:00:01:07).
#[test]
fn live_keepalived_vrrp2_on_a_carp_vhid_collides() {
    let test = "live_keepalived_vrrp2_on_a_carp_vhid_collides";
    if can_run(test, &["keepalived", "ucarp"]).is_none() {
        return;
    }
    let Some(mut lab) = Lab::new(test, "k2", &[("ua", 11), ("ka", 21)]) else {
        return;
    };
    lab.ucarp("ua", "10.15.0.11", 7, 0, "pw-h15", true);
    lab.keepalived("ka", 2, 7, 100, "1");
    let out = lab.carpctl(
        &["scan", "-i", "br0", "--duration", "6", "--json"],
        Duration::from_secs(30),
    );
    let r = json(&out);
    let v = group(&r, "vrrp", 7);
    let s = speaker(v, "10.15.0.21");
    assert_eq!(s["vrrp"]["version"], 2, "{s:#}");
    assert_eq!(s["vrrp"]["priority"], 100, "{s:#}");
    assert_eq!(s["interval"], 1.0, "{s:#}");
    group(&r, "carp", 7);
    let f = findings(&r, "SCAN002");
    assert!(!f.is_empty(), "{r:#}");
    assert_eq!(f[0]["severity"], "error");
    assert_eq!(code(&out), 1);
}

/// Without the privilege to capture: exit 2 and what is needed.
#[test]
fn live_capture_without_privilege_says_what_is_needed() {
    let test = "live_capture_without_privilege_says_what_is_needed";
    if can_run(test, &["setpriv"]).is_none() {
        return;
    }
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        BIN,
    ])
    .args(["scan", "-i", "lo", "--duration", "1"]);
    let out = run(&c, Duration::from_secs(20));
    expect(&out, 2, &["cannot capture on lo", "needs root"]);
}

// ----- capture files -----------------------------------------------------

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// `simulate --pcap` of the seed cluster with a partition from 80 s to
/// 95 s: scan of that capture finds the simulator's masters, transitions
/// and dual-master intervals (each within a millisecond; intervals shorter
/// than an advertisement cannot be seen on the wire and are left out).
#[test]
fn pcap_of_simulate_agrees_with_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let seed = repo("examples/seed-scenario.toml");
    let text = std::fs::read_to_string(&seed).unwrap().replace(
        "cluster = \"seed.toml\"",
        &format!(
            "cluster = {:?}",
            repo("examples/seed.toml").display().to_string()
        ),
    );
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        format!(
            "{text}\n[[event]]\nat = 80\naction = \"partition\"\ngroups = [[\"mail-a\"], [\"mail-b\"]]\n\n\
             [[event]]\nat = 95\naction = \"heal\"\n"
        ),
    )
    .unwrap();
    let pcap = dir.path().join("s.pcap");
    let mut c = carpctl();
    c.args([
        "simulate",
        scenario.to_str().unwrap(),
        "--json",
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    let sim: Value = serde_json::from_str(&stdout(&run(&c, Duration::from_secs(120)))).unwrap();
    let mut c = carpctl();
    c.args(["scan", "--pcap", pcap.to_str().unwrap(), "--json"]);
    let out = run(&c, Duration::from_secs(60));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let scan = json(&out);
    let mut checked = 0;
    for vip in sim["vips"].as_array().unwrap() {
        let vhid = vip["vhid"].as_u64().unwrap();
        let g = group(&scan, "carp", vhid);
        let seen: Vec<(f64, f64)> = g["dual_master"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["start"].as_f64().unwrap(), d["end"].as_f64().unwrap()))
            .collect();
        for d in vip["dual_master"].as_array().unwrap() {
            let (s, e) = (d["start"].as_f64().unwrap(), d["end"].as_f64().unwrap());
            if e - s < 1.0 {
                continue;
            }
            assert!(
                seen.iter()
                    .any(|(ss, se)| (ss - s).abs() < 1e-3 && (se - e).abs() < 1e-3),
                "vhid {vhid}: simulator dual master {s}..{e}, scan saw {seen:?}"
            );
            checked += 1;
        }
        // Every change of master the simulator made on this vhid, in the
        // capture: the new master's first advertisement.
        let scan_t: Vec<f64> = g["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["time"].as_f64().unwrap())
            .collect();
        for t in sim["transitions"].as_array().unwrap() {
            if t["vhid"] == vhid
                && t["to"] == "MASTER"
                && t["reason"] == "master timed out"
                && t["time"].as_f64().unwrap() > 5.0
                && t["time"].as_f64().unwrap() < 80.0
            {
                let at = t["time"].as_f64().unwrap();
                assert!(
                    scan_t.iter().any(|x| (x - at).abs() < 1e-3),
                    "vhid {vhid}: simulator takeover at {at}, scan {scan_t:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 3,
        "only {checked} intervals and transitions compared"
    );
    // At the end mail-a holds mail1 again (preempt), mail-b mail2.
    assert_eq!(masters(group(&scan, "carp", 1)), ["192.168.1.3"]);
    assert!(masters(group(&scan, "carp", 2)).contains(&"192.168.1.4".to_string()));
    let c = codes(&scan);
    assert_eq!(c.iter().filter(|c| *c == "SCAN001").count(), 3, "{c:?}");
}

/// Files that are not captures, and bad options: exit 2, a message that
/// names the file or the option.
#[test]
fn bad_files_and_options_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pcap");
    std::fs::write(&junk, b"this is not a capture file at all").unwrap();
    let short = dir.path().join("short.pcap");
    std::fs::write(&short, b"\xd4\xc3").unwrap();
    for (args, want) in [
        (
            vec!["scan", "--pcap", junk.to_str().unwrap()],
            "not a capture file",
        ),
        (
            vec!["scan", "--pcap", short.to_str().unwrap()],
            "not a capture file",
        ),
        (
            vec!["scan", "--pcap", "/nonexistent/h15.pcap"],
            "cannot read capture",
        ),
        (vec!["scan"], "give -i IFACE"),
        (vec!["scan", "-i", "em/0"], "not an interface name"),
        (vec!["scan", "-i", "lo", "--duration=-3"], "want 0 to"),
        (
            vec!["scan", "-i", "lo", "--duration", "ten"],
            "not a number of seconds",
        ),
        (vec!["scan", "--pcap", "x", "--map", "a=192.0.2.1"], "--map"),
    ] {
        let mut c = carpctl();
        c.args(&args);
        let out = run(&c, Duration::from_secs(20));
        expect(&out, 2, &[want]);
    }
}

/// carpctl(8) lists every finding code with its name and severity.
#[test]
fn every_scan_code_is_in_the_man_page() {
    let man = std::fs::read_to_string(repo("man/carpctl.8")).unwrap();
    let section = man
        .split(".Ss Scan findings")
        .nth(1)
        .expect("no Scan findings section");
    for c in carpctl::scan::codes::Code::all() {
        let entry = format!(".It {} Pq {}\n.Sy {} :", c.id(), c.severity(), c.name());
        assert!(section.contains(&entry), "carpctl(8) lacks {entry:?}");
    }
}

/// `--watch` on a terminal (script(1) gives it one): the table is redrawn
/// (cleared and drawn again) each second, then the final report.
#[test]
fn live_watch_redraws_the_table() {
    let test = "live_watch_redraws_the_table";
    if can_run(test, &["ucarp", "script"]).is_none() {
        return;
    }
    let Some(mut lab) = Lab::new(test, "wt", &[("ua", 11)]) else {
        return;
    };
    lab.ucarp("ua", "10.15.0.11", 7, 0, "pw-h15", true);
    std::thread::sleep(Duration::from_millis(3500));
    let inner = format!("{BIN} scan -i br0 --watch --duration 3");
    let mut c = Command::new("ip");
    c.args([
        "netns",
        "exec",
        &lab.ns("br"),
        "script",
        "-qec",
        &inner,
        "/dev/null",
    ]);
    let out = run(&c, Duration::from_secs(30));
    let text = stdout(&out);
    let clears = text.matches("\x1b[H\x1b[2J").count();
    assert!(clears >= 3, "{clears} redraws in: {text:?}");
    assert!(text.matches("carp   7   br0").count() >= 3, "{text:?}");
    // Not on a terminal: a usage error that says what to use instead.
    let out = lab.carpctl(&["scan", "-i", "br0", "--watch"], Duration::from_secs(20));
    expect(&out, 2, &["--watch redraws a terminal"]);
}
