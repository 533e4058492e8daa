//! Integration tests of devd events and hooks: the real `carpctl` binary
//! (`watch`, `daemon`, `hook`) against an emulated FreeBSD host, with a real
//! SOCK_SEQPACKET listener standing in for devd
//! (`/var/run/devd.seqpacket.pipe`, one event per record).
//!
//! Hooks are small shell scripts that append one line per run to a log:
//! `vhid|interface|state|previous|vip|addresses|event`, so that the tests
//! see which hooks ran, in which order and with which environment.

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use carpctl::kernel::Kernel;
use carpctl::kernel::emulated::{EmulatedHost, Flavor, HostSpec, IfaceSpec};
use carpctl::kernel::freebsd::FreeBsdKernel;
use carpctl::model::{CarpState, Vhid, VhidUpdate};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio_seqpacket::{UnixSeqpacket, UnixSeqpacketListener};

use crate::common::BIN;
const WAIT: Duration = Duration::from_secs(15);

/// A temp dir with an emulated host (vhid 1 on em0, vhid 5 on vlan0.100),
/// a cluster file whose VIPs log every hook run, and a devd socket path.
struct Fixture {
    dir: tempfile::TempDir,
    host: PathBuf,
    config: PathBuf,
    log: PathBuf,
    socket: PathBuf,
}

/// The default hooks: every state logs; MASTER's hook is slow, so that a
/// BACKUP right after it would overtake it if hooks were not serialized.
const LOGGING_HOOKS: &str = "on_master = [\"/bin/sh\", \"@DIR@/hook.sh\", \"slow\"]\n\
                             on_backup = [\"/bin/sh\", \"@DIR@/hook.sh\"]\n\
                             on_init = [\"/bin/sh\", \"@DIR@/hook.sh\"]\n";

impl Fixture {
    fn new() -> Self {
        Self::with(LOGGING_HOOKS, "")
    }

    /// `hooks` go into both VIPs, `cluster` into `[cluster]` (tables such
    /// as `[[check]]` may follow it); in both, `@DIR@` and `@LOG@` are
    /// replaced by the temp dir and the log path.
    fn with(hooks: &str, cluster: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("host");
        EmulatedHost::create(
            &host,
            &HostSpec {
                flavor: Flavor::V14,
                interfaces: vec![
                    IfaceSpec {
                        name: "em0".into(),
                        addresses: vec!["192.0.2.3/24".parse().unwrap()],
                    },
                    IfaceSpec {
                        name: "vlan0.100".into(),
                        addresses: vec!["198.51.100.3/24".parse().unwrap()],
                    },
                ],
                carp_loaded: true,
                privileged: true,
            },
        )
        .unwrap();
        let f = Fixture {
            host,
            config: dir.path().join("carpctl.toml"),
            log: dir.path().join("hooks.log"),
            socket: dir.path().join("devd.seqpacket.pipe"),
            dir,
        };
        let mut k = f.kernel();
        for (ifname, vhid, addr) in [
            ("em0", 1, "192.0.2.50/24"),
            ("vlan0.100", 5, "198.51.100.50/24"),
        ] {
            let vhid = Vhid::new(vhid).unwrap();
            k.set_vhid(ifname, vhid, &VhidUpdate::default()).unwrap();
            k.add_address(ifname, vhid, addr.parse().unwrap()).unwrap();
        }
        fs::write(
            f.dir.path().join("hook.sh"),
            format!(
                "# $1 = slow: take a while before logging\n\
                 [ \"$1\" = slow ] && sleep 0.1\n\
                 printf '%s|%s|%s|%s|%s|%s|%s\\n' \"$CARP_VHID\" \"$CARP_INTERFACE\" \
                 \"$CARP_STATE\" \"$CARP_PREVIOUS_STATE\" \"$CARP_VIP\" \"$CARP_ADDRESSES\" \
                 \"$CARP_EVENT\" >> {}\n",
                f.log.display()
            ),
        )
        .unwrap();
        f.write_config(hooks, cluster);
        f
    }

    fn write_config(&self, hooks: &str, cluster: &str) {
        let subst = |text: &str| {
            text.replace("@DIR@", &self.dir.path().display().to_string())
                .replace("@LOG@", &self.log.display().to_string())
        };
        let (hooks, cluster) = (subst(hooks), subst(cluster));
        let text = format!(
            "[cluster]\n{cluster}\n\
             [[node]]\nname = \"n1\"\ninterfaces = {{ lan = \"em0\", db = \"vlan0.100\" }}\n\n\
             [[node]]\nname = \"n2\"\ninterfaces = {{ lan = \"em0\", db = \"vlan0.100\" }}\n\n\
             [[vip]]\nname = \"web\"\nvhid = 1\ninterface = \"lan\"\n\
             addresses = [\"192.0.2.50/32\", \"2001:db8::50/128\"]\npassword = \"pw1\"\n{hooks}\n\
             [[vip]]\nname = \"db\"\nvhid = 5\ninterface = \"db\"\n\
             addresses = [\"198.51.100.50/32\"]\npassword = \"pw5\"\n{hooks}"
        );
        write_private(&self.config, &text);
    }

    fn kernel(&self) -> FreeBsdKernel<EmulatedHost> {
        FreeBsdKernel::new(EmulatedHost::open(&self.host).unwrap())
    }

    fn state(&self, ifname: &str, vhid: i64) -> CarpState {
        self.kernel()
            .vhid(ifname, Vhid::new(vhid).unwrap())
            .unwrap()
            .expect("the vhid exists")
            .state
    }

    /// Force a vhid's state, as `ifconfig em0 vhid 1 state master` does.
    fn set_state(&self, ifname: &str, vhid: i64, state: CarpState) {
        self.kernel()
            .set_vhid(
                ifname,
                Vhid::new(vhid).unwrap(),
                &VhidUpdate {
                    state: Some(state),
                    ..VhidUpdate::default()
                },
            )
            .unwrap();
        assert_eq!(self.state(ifname, vhid), state);
    }

    fn global_args(&self) -> Vec<String> {
        vec![
            "--kernel".into(),
            format!("emulated:{}", self.host.display()),
            "-c".into(),
            self.config.display().to_string(),
            "--node".into(),
            "n1".into(),
        ]
    }

    fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        for var in [
            "CARPCTL_KERNEL",
            "CARPCTL_CONFIG",
            "CARPCTL_NODE",
            "CARPCTL_HOOK_DIR",
            "RUST_LOG",
        ] {
            c.env_remove(var);
        }
        c.stdin(Stdio::null());
        c
    }

    /// Start `carpctl daemon` with its stderr in a file.
    fn daemon(&self) -> Daemon {
        self.daemon_with(&["-v"])
    }

    /// Start `carpctl daemon` with `options` before `daemon`, its stderr in
    /// a file.
    fn daemon_with(&self, options: &[&str]) -> Daemon {
        let stderr = self.dir.path().join("daemon.err");
        let child = self
            .command()
            .args(self.global_args())
            .args(options)
            .args(["daemon", "--devd-socket"])
            .arg(&self.socket)
            .stdout(Stdio::null())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .expect("start carpctl daemon");
        Daemon { child, stderr }
    }

    fn lines(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Wait until the log has at least `n` lines; return them.
    async fn wait_lines(&self, n: usize, what: &str) -> Vec<String> {
        wait_until(WAIT, what, || self.lines().len() >= n).await;
        self.lines()
    }

    fn listen(&self) -> UnixSeqpacketListener {
        UnixSeqpacketListener::bind(&self.socket).expect("bind the fake devd")
    }
}

fn write_private(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
}

/// A running `carpctl daemon`, killed if a test fails before stopping it.
struct Daemon {
    child: Child,
    stderr: PathBuf,
}

impl Daemon {
    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).unwrap())
    }

    fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn signal(&self, sig: Signal) {
        kill(self.pid(), sig).expect("signal the daemon");
    }

    fn assert_running(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "the daemon exited: {}",
            self.stderr()
        );
    }

    /// Resident memory (Linux `/proc/PID/status` VmRSS), in KiB; `None`
    /// where there is no Linux procfs.
    fn rss_kib(&self) -> Option<u64> {
        if !cfg!(target_os = "linux") {
            return None;
        }
        let status = fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status");
        Some(kib)
    }

    /// SIGTERM, then wait for the exit.
    async fn stop(mut self) -> (ExitStatus, String) {
        self.signal(Signal::SIGTERM);
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, self.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "the daemon did not stop: {}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn accept(listener: &mut UnixSeqpacketListener) -> UnixSeqpacket {
    tokio::time::timeout(WAIT, listener.accept())
        .await
        .expect("carpctl connects to devd")
        .unwrap()
}

async fn send(devd: &UnixSeqpacket, subsystem: &str, state: &str) {
    let rec = format!("!system=CARP subsystem={subsystem} type={state}\n");
    devd.send(rec.as_bytes()).await.unwrap();
}

/// What `hook.sh` logs for one run.
fn line(vhid: u8, state: &str, prev: &str, event: &str) -> String {
    let (ifname, vip, addrs) = match vhid {
        1 => ("em0", "web", "192.0.2.50/32 2001:db8::50/128"),
        5 => ("vlan0.100", "db", "198.51.100.50/32"),
        _ => panic!("no VIP with vhid {vhid}"),
    };
    format!("{vhid}|{ifname}|{state}|{prev}|{vip}|{addrs}|{event}")
}

fn of_vhid(lines: &[String], vhid: u8) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with(&format!("{vhid}|")))
        .cloned()
        .collect()
}

// ----- the daemon -------------------------------------------------------------

#[tokio::test]
async fn transitions_reach_hooks_in_order_with_the_environment() {
    let f = Fixture::new();
    let (s1, s5) = (f.state("em0", 1), f.state("vlan0.100", 5));
    let mut listener = f.listen();
    let mut d = f.daemon();
    let devd = accept(&mut listener).await;

    // At start, each vhid's current state is replayed to its hook, with an
    // unknown previous state.
    let replay = f.wait_lines(2, "the replay").await;
    let mut replay_sorted = replay.clone();
    replay_sorted.sort();
    assert_eq!(
        replay_sorted,
        [
            line(1, s1.as_str(), "", "replay"),
            line(5, s5.as_str(), "", "replay")
        ]
    );

    // Interleaved, with garbage, other systems and an unknown vhid between.
    let one = ["MASTER", "BACKUP", "MASTER", "INIT", "BACKUP"];
    let five = ["MASTER", "INIT"];
    for (i, state) in one.iter().enumerate() {
        send(&devd, "1@em0", state).await;
        devd.send(b"not a devd record").await.unwrap();
        devd.send(b"!system=IFNET subsystem=em0 type=LINK_UP\n")
            .await
            .unwrap();
        send(&devd, "9@em0", "MASTER").await;
        if let Some(s) = five.get(i) {
            send(&devd, "5@vlan0.100", s).await;
        }
    }
    let lines = f.wait_lines(2 + one.len() + five.len(), "every hook").await;
    let mut want1 = vec![line(1, s1.as_str(), "", "replay")];
    let mut prev = s1.as_str();
    for s in one {
        want1.push(line(1, s, prev, "devd"));
        prev = s;
    }
    let mut want5 = vec![line(5, s5.as_str(), "", "replay")];
    let mut prev = s5.as_str();
    for s in five {
        want5.push(line(5, s, prev, "devd"));
        prev = s;
    }
    // A moment more: nothing else may run (vhid 9 is not in the file).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lines_after = f.lines();
    assert_eq!(lines_after, lines, "extra hook runs");
    assert_eq!(of_vhid(&lines, 1), want1);
    assert_eq!(of_vhid(&lines, 5), want5);
    assert_eq!(lines.len(), want1.len() + want5.len());

    d.assert_running();
    let (status, stderr) = d.stop().await;
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(
        stderr.contains(&format!("1@em0 (web): {s1} -> MASTER")),
        "one info line per transition: {stderr}"
    );
    assert!(stderr.contains("9@em0 (no VIP): ? -> MASTER"), "{stderr}");
    assert!(stderr.contains("skipping a garbage record"), "{stderr}");
}

#[tokio::test]
async fn a_hook_that_hangs_is_killed_at_its_timeout_and_the_next_one_runs() {
    let f = Fixture::with(
        "on_master = [\"/bin/sh\", \"-c\", \"echo hang >> @LOG@; sleep 30; echo never >> @LOG@\"]\n\
         on_backup = [\"/bin/sh\", \"-c\", \"echo \\\"$CARP_VHID $CARP_STATE $CARP_EVENT\\\" >> @LOG@\"]\n",
        "hook_timeout = 1\n",
    );
    let mut listener = f.listen();
    let d = f.daemon();
    let devd = accept(&mut listener).await;
    // Both vhids start BACKUP in the emulator: two replayed BACKUP hooks.
    assert_eq!(f.state("em0", 1), CarpState::Backup);
    f.wait_lines(2, "the replay").await;

    send(&devd, "1@em0", "MASTER").await;
    f.wait_lines(3, "the hanging hook to start").await;
    let started = Instant::now();
    send(&devd, "1@em0", "BACKUP").await;
    let lines = f.wait_lines(4, "the hook after the hanging one").await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(8),
        "the next hook ran {waited:?} after the hanging one started"
    );
    assert_eq!(lines[2], "hang");
    assert_eq!(lines[3], "1 BACKUP devd");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!f.lines().contains(&"never".to_string()));
    let (status, stderr) = d.stop().await;
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("1@em0 web on_master: /bin/sh did not finish within its timeout of 1 s"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_failing_hook_is_logged_and_the_next_event_still_runs() {
    let f = Fixture::with(
        "on_master = [\"/bin/sh\", \"-c\", \"echo \\\"$CARP_STATE $CARP_PREVIOUS_STATE\\\" >> @LOG@; exit 3\"]\n\
         on_backup = [\"/bin/sh\", \"-c\", \"echo \\\"$CARP_STATE $CARP_PREVIOUS_STATE\\\" >> @LOG@\"]\n\
         on_init = [\"/nonexistent/hook\"]\n",
        "",
    );
    let mut listener = f.listen();
    let d = f.daemon();
    let devd = accept(&mut listener).await;
    f.wait_lines(2, "the replay").await;
    for s in ["MASTER", "INIT", "BACKUP", "MASTER", "BACKUP"] {
        send(&devd, "1@em0", s).await;
    }
    let lines = f.wait_lines(6, "the hooks").await;
    assert_eq!(
        lines[2..],
        [
            "MASTER BACKUP",
            "BACKUP INIT",
            "MASTER BACKUP",
            "BACKUP MASTER"
        ]
    );
    let (status, stderr) = d.stop().await;
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("1@em0 web on_master: /bin/sh failed: exit status 3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1@em0 web on_init: cannot run /nonexistent/hook"),
        "{stderr}"
    );
}

#[tokio::test]
async fn devd_going_away_and_coming_back_loses_no_event_sent_after_it_returns() {
    let f = Fixture::new();
    let s1 = f.state("em0", 1);
    let mut listener = f.listen();
    let mut d = f.daemon();
    let devd = accept(&mut listener).await;
    f.wait_lines(2, "the replay").await;
    // The kernel and devd agree (vhid 1 is MASTER), so the catch-up after
    // the reconnection finds nothing to run (tested on its own below).
    f.set_state("em0", 1, CarpState::Master);
    send(&devd, "1@em0", "MASTER").await;
    f.wait_lines(3, "the first hook").await;

    // devd restarts: its socket goes away and comes back at the same path.
    drop(devd);
    drop(listener);
    fs::remove_file(&f.socket).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    d.assert_running();
    let mut listener = f.listen();
    let devd = accept(&mut listener).await;
    let states = ["BACKUP", "MASTER"];
    for i in 0..20 {
        send(&devd, "1@em0", states[i % 2]).await;
    }
    let want: Vec<String> = std::iter::once(line(1, "MASTER", s1.as_str(), "devd"))
        .chain((0..20).map(|i| line(1, states[i % 2], states[(i + 1) % 2], "devd")))
        .collect();
    wait_until(WAIT, "every hook after devd came back", || {
        of_vhid(&f.lines(), 1)
            .iter()
            .filter(|l| l.ends_with("|devd"))
            .count()
            >= want.len()
    })
    .await;
    let got: Vec<String> = of_vhid(&f.lines(), 1)
        .into_iter()
        .filter(|l| l.ends_with("|devd"))
        .collect();
    assert_eq!(got, want);
    assert!(
        !f.lines().iter().any(|l| l.ends_with("|resync")),
        "{:?}",
        f.lines()
    );
    let (status, stderr) = d.stop().await;
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("closed the connection; reconnecting"),
        "{stderr}"
    );
    assert!(stderr.contains("connected to devd at"), "{stderr}");
}

#[tokio::test]
async fn transitions_missed_while_devd_was_away_are_caught_up() {
    let f = Fixture::new();
    assert_eq!(f.state("em0", 1), CarpState::Backup);
    let mut listener = f.listen();
    let d = f.daemon();
    let devd = accept(&mut listener).await;
    f.wait_lines(2, "the replay").await;
    drop(devd);
    drop(listener);
    fs::remove_file(&f.socket).unwrap();
    // While devd is away, vhid 1 becomes MASTER; vhid 5 stays as it was.
    f.set_state("em0", 1, CarpState::Master);
    let mut listener = f.listen();
    let _devd = accept(&mut listener).await;
    let lines = f.wait_lines(3, "the resync").await;
    assert_eq!(lines[2], line(1, "MASTER", "BACKUP", "resync"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(f.lines().len(), 3, "vhid 5 did not change: {:?}", f.lines());
    let (status, stderr) = d.stop().await;
    assert!(status.success(), "{stderr}");
}

#[tokio::test]
async fn ten_thousand_garbage_records_neither_grow_memory_nor_stop_the_daemon() {
    let f = Fixture::new();
    let mut listener = f.listen();
    let mut d = f.daemon();
    let devd = accept(&mut listener).await;
    f.wait_lines(2, "the replay").await;
    // Warm up the hook path once, then measure.
    send(&devd, "1@em0", "MASTER").await;
    f.wait_lines(3, "the first hook").await;
    let before = d.rss_kib();

    // ~2.7 KiB a record on average: a leak of the records would be ~26 MiB.
    let junk: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
    let oversized = vec![b'!'; 9000];
    let bad_carp = format!("!system=CARP subsystem=1@{} type=MASTER\n", "x".repeat(600));
    let other = format!(
        "!system=IFNET subsystem=em0 type=LINK_UP data={}\n",
        "y".repeat(300)
    );
    for i in 0..10_000 {
        let rec: &[u8] = match i % 4 {
            0 => &junk,
            1 => &oversized,
            2 => bad_carp.as_bytes(),
            _ => other.as_bytes(),
        };
        devd.send(rec).await.unwrap();
    }
    // A valid event after the garbage still runs its hook.
    send(&devd, "1@em0", "BACKUP").await;
    let lines = f.wait_lines(4, "the hook after the garbage").await;
    assert_eq!(lines[3], line(1, "BACKUP", "MASTER", "devd"));
    let after = d.rss_kib();
    d.assert_running();
    if let (Some(before), Some(after)) = (before, after) {
        assert!(
            after <= before + 4096,
            "resident memory grew from {before} KiB to {after} KiB"
        );
    }
    let (status, stderr) = d.stop().await;
    assert!(status.success(), "{stderr}");
    // Logged, but rate-limited: not 7 500 lines.
    let logged = stderr.matches("skipping a garbage record").count();
    assert!((1..=10).contains(&logged), "{logged} garbage lines logged");
}

#[tokio::test]
async fn reload_validates_first_and_keeps_the_running_configuration() {
    let f = Fixture::new();
    let mut listener = f.listen();
    let mut d = f.daemon();
    let devd = accept(&mut listener).await;
    f.wait_lines(2, "the replay").await;

    // An invalid file is refused, and says why; the old hooks keep running.
    write_private(&f.config, "[cluster]\nadvbase = 0\n");
    d.signal(Signal::SIGHUP);
    wait_until(WAIT, "the refused reload", || {
        d.stderr().contains("reload refused")
    })
    .await;
    d.assert_running();
    let stderr = d.stderr();
    assert!(
        stderr.contains("still running with the configuration loaded at"),
        "{stderr}"
    );
    assert!(stderr.contains("advbase"), "the error is named: {stderr}");
    send(&devd, "1@em0", "MASTER").await;
    let lines = f
        .wait_lines(3, "the hook under the old configuration")
        .await;
    assert_eq!(lines[2], line(1, "MASTER", "BACKUP", "devd"));

    // A valid one replaces it: the next event runs the new hook.
    f.write_config(
        "on_backup = [\"/bin/sh\", \"-c\", \"echo \\\"v2 $CARP_VIP $CARP_STATE\\\" >> @LOG@\"]\n",
        "",
    );
    d.signal(Signal::SIGHUP);
    wait_until(WAIT, "the reload", || d.stderr().contains("reloaded ")).await;
    send(&devd, "1@em0", "BACKUP").await;
    let lines = f.wait_lines(4, "the new hook").await;
    assert_eq!(lines[3], "v2 web BACKUP");
    let (status, stderr) = d.stop().await;
    assert!(status.success(), "{stderr}");
}

#[test]
fn the_daemon_refuses_an_invalid_cluster_file_at_start() {
    let f = Fixture::new();
    write_private(&f.config, "[cluster]\nadvbase = 0\n");
    let out = f
        .command()
        .args(f.global_args())
        .args(["daemon", "--devd-socket"])
        .arg(&f.socket)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("advbase"), "{stderr}");
}

// ----- carpctl watch ------------------------------------------------------------

fn read_lines_until_exit(child: &mut Child, n: usize) -> Vec<String> {
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    for l in BufReader::new(stdout).lines() {
        lines.push(l.unwrap());
        if lines.len() == n {
            break;
        }
    }
    lines
}

async fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "carpctl did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn watch_json_has_the_vip_and_the_previous_state() {
    let f = Fixture::new();
    let s1 = f.state("em0", 1);
    let mut listener = f.listen();
    let mut child = f
        .command()
        .args(f.global_args())
        .args(["watch", "--json", "--count", "3", "--devd-socket"])
        .arg(&f.socket)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let devd = accept(&mut listener).await;
    send(&devd, "1@em0", "MASTER").await;
    devd.send(b"\xff garbage").await.unwrap();
    send(&devd, "5@vlan0.100", "INIT (null)").await;
    send(&devd, "7@em0", "BACKUP").await;
    let status = wait_exit(&mut child).await;
    assert!(status.success(), "{status:?}");
    let lines = read_lines_until_exit(&mut child, 4);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let v: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (e, (ifname, vhid, state, prev, vip)) in v.iter().zip([
        (
            "em0",
            1,
            "MASTER",
            serde_json::json!(s1.as_str()),
            serde_json::json!("web"),
        ),
        (
            "vlan0.100",
            5,
            "INIT",
            serde_json::json!(f.state("vlan0.100", 5).as_str()),
            serde_json::json!("db"),
        ),
        (
            "em0",
            7,
            "BACKUP",
            serde_json::Value::Null,
            serde_json::Value::Null,
        ),
    ]) {
        assert_eq!(e["interface"], ifname, "{e}");
        assert_eq!(e["vhid"], vhid, "{e}");
        assert_eq!(e["state"], state, "{e}");
        assert_eq!(e["previous_state"], prev, "{e}");
        assert_eq!(e["vip"], vip, "{e}");
        assert_eq!(e["source"], "devd", "{e}");
        let time = e["time"].as_str().expect("a time");
        assert!(
            time.len() == 24 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
            "{time}"
        );
    }
}

#[tokio::test]
async fn watch_without_kernel_or_cluster_file_waits_for_devd() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("devd.pipe");
    let mut child = Command::new(BIN)
        .env_remove("CARPCTL_KERNEL")
        .env_remove("CARPCTL_CONFIG")
        .env_remove("RUST_LOG")
        .args(["watch", "--count", "2", "--devd-socket"])
        .arg(&socket)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // devd is not there yet: watch keeps trying.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(child.try_wait().unwrap().is_none(), "watch gave up");
    let mut listener = UnixSeqpacketListener::bind(&socket).unwrap();
    let devd = accept(&mut listener).await;
    send(&devd, "12@lagg0_vlan210", "MASTER").await;
    send(&devd, "12@lagg0_vlan210", "BACKUP").await;
    let status = wait_exit(&mut child).await;
    assert!(status.success(), "{status:?}");
    let lines = read_lines_until_exit(&mut child, 3);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].ends_with(" 12@lagg0_vlan210 - ? -> MASTER"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with(" 12@lagg0_vlan210 - MASTER -> BACKUP"),
        "{}",
        lines[1]
    );
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("devd is not reachable at"), "{stderr}");
}

// ----- carpctl hook -------------------------------------------------------------

impl Fixture {
    fn hook(&self, state_dir: &Path, args: &[&str]) -> std::process::Output {
        self.command()
            .args(self.global_args())
            .arg("hook")
            .args(args)
            .env("CARPCTL_HOOK_DIR", state_dir)
            .output()
            .unwrap()
    }
}

#[test]
fn hook_runs_with_the_environment_and_remembers_the_previous_state() {
    let f = Fixture::new();
    let state_dir = f.dir.path().join("state");
    for (state, n) in [("MASTER", 1), ("backup", 2), ("INIT", 3)] {
        let out = f.hook(&state_dir, &["5@vlan0.100", state]);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(f.lines().len(), n);
    }
    assert_eq!(
        f.lines(),
        [
            line(5, "MASTER", "", "devd"),
            line(5, "BACKUP", "MASTER", "devd"),
            line(5, "INIT", "BACKUP", "devd"),
        ]
    );
    assert_eq!(
        fs::read_to_string(state_dir.join("5@vlan0.100")).unwrap(),
        "INIT\n"
    );
    // A vhid the cluster file does not know: recorded, no hook, success.
    let out = f.hook(&state_dir, &["9@em0", "MASTER"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(f.lines().len(), 3);
    assert_eq!(
        fs::read_to_string(state_dir.join("9@em0")).unwrap(),
        "MASTER\n"
    );
}

#[test]
fn hook_failures_and_bad_arguments_have_their_exit_status() {
    let f = Fixture::with(
        "on_master = [\"/bin/sh\", \"-c\", \"exit 4\"]\n\
         on_backup = [\"/bin/sh\", \"-c\", \"sleep 30\"]\n",
        "hook_timeout = 1\n",
    );
    let state_dir = f.dir.path().join("state");
    let out = f.hook(&state_dir, &["1@em0", "MASTER"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1@em0 web on_master: exit status 4"),
        "{stderr}"
    );

    let started = Instant::now();
    let out = f.hook(&state_dir, &["1@em0", "BACKUP"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("killed at its timeout of 1 s"), "{stderr}");

    // No hook for INIT: nothing to run, success.
    let out = f.hook(&state_dir, &["1@em0", "INIT"]);
    assert!(out.status.success(), "{out:?}");

    for (args, needle) in [
        (&["1@em0", "PRIMARY"][..], "MASTER, BACKUP or INIT"),
        (&["em0", "MASTER"][..], "<vhid>@<interface>"),
        (&["0@em0", "MASTER"][..], "1-255"),
        (&["1@em0;reboot", "MASTER"][..], "';'"),
        (&["1@em0"][..], "TYPE"),
    ] {
        let out = f.hook(&state_dir, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn parallel_hook_invocations_run_one_at_a_time() {
    let f = Fixture::with(
        "on_master = [\"/bin/sh\", \"-c\", \"echo \\\"start $CARP_VHID\\\" >> @LOG@; sleep 0.3; echo \\\"end $CARP_VHID\\\" >> @LOG@\"]\n",
        "",
    );
    let state_dir = f.dir.path().join("state");
    fs::create_dir(&state_dir).unwrap();
    let spawn = |sub: &str| {
        f.command()
            .args(f.global_args())
            .args(["hook", sub, "MASTER"])
            .env("CARPCTL_HOOK_DIR", &state_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut a = spawn("1@em0");
    let mut b = spawn("5@vlan0.100");
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let lines = f.lines();
    assert_eq!(lines.len(), 4, "{lines:?}");
    // Never two starts in a row: one hook ended before the other began.
    assert!(
        lines[0].starts_with("start ") && lines[1].starts_with("end "),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("start ") && lines[3].starts_with("end "),
        "{lines:?}"
    );
    assert_eq!(lines[0][6..], lines[1][4..]);
}

// ----- the devd snippet ---------------------------------------------------------

/// The `match` patterns of rc.d/carpctl-devd.conf, anchored as devd anchors
/// them (devd.cc `match::match`: `^` + pattern + `$`, POSIX extended).
fn snippet_patterns() -> (regex::Regex, regex::Regex, regex::Regex, String) {
    let text =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rc.d/carpctl-devd.conf"))
            .unwrap();
    let pattern = |var: &str| {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("match \"{var}\"")))
            .unwrap_or_else(|| panic!("no match \"{var}\" line"));
        let re = line
            .rsplit('"')
            .nth(1)
            .unwrap_or_else(|| panic!("no pattern in {line}"));
        regex::Regex::new(&format!("^{re}$")).unwrap()
    };
    let action = text
        .lines()
        .find(|l| l.trim_start().starts_with("action "))
        .expect("an action line")
        .to_string();
    (
        pattern("system"),
        pattern("subsystem"),
        pattern("type"),
        action,
    )
}

#[test]
fn the_devd_snippet_matches_every_carp_event_and_nothing_else() {
    let (system, subsystem, typ, action) = snippet_patterns();
    assert!(system.is_match("CARP"));
    assert!(!system.is_match("CARPX") && !system.is_match("IFNET"));
    for ok in [
        "1@em0",
        "5@vlan0.100",
        "12@lagg0_vlan210",
        "255@igb0",
        "3@Lan-1",
    ] {
        assert!(subsystem.is_match(ok), "{ok}");
        // carpctl hook accepts what devd hands it.
        assert!(
            carpctl::events::devd::parse_subsystem(ok).is_ok(),
            "{ok} passes devd but not carpctl"
        );
    }
    for bad in [
        "em0",
        "@em0",
        "1@",
        "x@em0",
        "1@em0;reboot",
        "1@em 0",
        "1@$(id)",
        "1@em0\n",
    ] {
        assert!(!subsystem.is_match(bad), "{bad:?}");
    }
    for ok in ["MASTER", "BACKUP", "INIT"] {
        assert!(typ.is_match(ok), "{ok}");
    }
    for bad in ["master", "MASTERX", "LINK_UP", ""] {
        assert!(!typ.is_match(bad), "{bad:?}");
    }
    assert!(
        action.contains("/usr/local/sbin/carpctl hook $subsystem $type"),
        "{action}"
    );
    // carpctl(8) shows the same snippet.
    let man =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("man/carpctl.8")).unwrap();
    assert!(man.contains(action.trim()), "carpctl(8) lacks {action}");
}

#[test]
fn hook_output_with_nul_cr_and_bidi_bytes_is_logged_escaped() {
    let f = Fixture::with(
        "on_master = [\"/usr/bin/printf\", \
         \"ok\\\\000\\\\000\\\\r\\\\ncarpctl: forged line\\\\033[2J\\\\342\\\\200\\\\256end\\\\n\", \
         \"x\"]\n",
        "",
    );
    // printf writes to stdout; the hook's stdout is logged at info (-v).
    let out = f
        .command()
        .args(f.global_args())
        .args(["-v", "hook", "1@em0", "MASTER"])
        .env("CARPCTL_HOOK_DIR", f.dir.path().join("state"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).expect("escaped output is UTF-8");
    assert!(
        stderr.contains("1@em0 web on_master: stdout: ok\\0\\0\\r"),
        "{stderr}"
    );
    assert!(
        stderr.contains("stdout: carpctl: forged line\\u{1b}[2J\\u{202e}end"),
        "{stderr}"
    );
    for raw in ['\0', '\r', '\u{1b}', '\u{202e}'] {
        assert!(!stderr.contains(raw), "raw {raw:?} in {stderr:?}");
    }
}

// ----- floods, stalled output, devd sockets that cannot work (issue 9) -------

/// A child process killed and reaped if the test fails before it exits.
struct Reaped(Child);

impl std::ops::Deref for Reaped {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Reaped {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `child` is still running; SIGTERM makes it exit with status 0 within
/// `bound`.
async fn stops_at_sigterm_within(child: &mut Child, bound: Duration) {
    assert!(child.try_wait().unwrap().is_none(), "carpctl exited");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let t0 = Instant::now();
    let status = wait_exit(child).await;
    assert!(status.success(), "{status:?}");
    assert!(t0.elapsed() < bound, "{:?}", t0.elapsed());
}

/// Hooks that only log `VHID STATE`, fast.
const FAST_HOOKS: &str = "on_master = [\"/bin/sh\", \"-c\", \"echo \\\"$CARP_VHID $CARP_STATE\\\" >> @LOG@\"]\n\
                          on_backup = [\"/bin/sh\", \"-c\", \"echo \\\"$CARP_VHID $CARP_STATE\\\" >> @LOG@\"]\n";

/// Wait until `f`'s hook log has not changed for `quiet`; return it.
async fn settled_lines(f: &Fixture, quiet: Duration, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut last = f.lines();
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = f.lines();
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return last;
        }
        assert!(Instant::now() < deadline, "the hooks never settled");
    }
}

/// 100 000 alternating transitions of one vhid from devd: its queue fills,
/// the waiting events are superseded by the newest, and the last hook that
/// runs is the one of the final state; the log says so in a few lines, not
/// one per event.
#[tokio::test]
async fn a_flap_storm_ends_with_the_hook_of_the_final_state() {
    let f = Fixture::with(FAST_HOOKS, "");
    let mut listener = f.listen();
    let d = f.daemon_with(&[]);
    let devd = accept(&mut listener).await;
    f.wait_lines(2, "the replay").await;
    let states = ["MASTER", "BACKUP"];
    for i in 0..100_000 {
        send(&devd, "1@em0", states[i % 2]).await;
    }
    let lines = settled_lines(&f, Duration::from_secs(2), Duration::from_secs(120)).await;
    let ran = of_vhid_words(&lines, "1");
    assert_eq!(
        ran.last().map(String::as_str),
        Some("1 BACKUP"),
        "{} runs",
        ran.len()
    );
    let (status, stderr) = d.stop().await;
    assert!(status.success(), "{stderr}");
    assert!(stderr.len() < 64 * 1024, "{} bytes of log", stderr.len());
    let about = stderr
        .lines()
        .filter(|l| l.contains("superseded") || l.contains("dropping"))
        .count();
    assert!((1..=5).contains(&about), "{about} lines:\n{stderr}");
}

fn of_vhid_words(lines: &[String], vhid: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.split(' ').next() == Some(vhid))
        .cloned()
        .collect()
}

/// stdout and stderr are pipes nobody reads, and the daemon logs far more
/// than they hold (each hook prints 300 lines of 1000 bytes, logged with
/// -vv; a check floods its stderr every second): hooks, checks and metrics
/// go on, the lines dropped are counted, and reported once stderr is read
/// again; stalled again, SIGTERM still stops it at once.
#[tokio::test]
async fn a_daemon_whose_output_nobody_reads_keeps_working_and_stops() {
    let f = Fixture::with(
        "on_master = [\"/bin/sh\", \"@DIR@/noisy.sh\"]\n\
         on_backup = [\"/bin/sh\", \"@DIR@/noisy.sh\"]\n",
        "[[check]]\nname = \"alive\"\ntype = \"exec\"\ninterval = 1\n\
         command = [\"/bin/sh\", \"-c\", \"echo . >> @DIR@/check.log; yes noise | head -c 100000 >&2\"]\n\n\
         [metrics]\ntextfile = \"@DIR@/carpctl.prom\"\n",
    );
    let dir = f.dir.path();
    fs::write(
        dir.join("noisy.sh"),
        format!(
            "i=0; while [ $i -lt 300 ]; do printf '%01000d\\n' $i; i=$((i+1)); done\n\
             echo \"$CARP_VHID $CARP_STATE\" >> {}\n",
            f.log.display()
        ),
    )
    .unwrap();
    let mut listener = f.listen();
    let mut child = Reaped(
        f.command()
            .args(f.global_args())
            .args(["-vv", "daemon", "--devd-socket"])
            .arg(&f.socket)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let devd = accept(&mut listener).await;
    f.wait_lines(2, "the replay").await;
    let states = ["MASTER", "BACKUP"];
    for i in 0..30 {
        send(&devd, "1@em0", states[i % 2]).await;
    }
    // 32 hook runs, 32 x 200 lines of 1 KiB logged, against a 64 KiB pipe
    // and a queue of 4096 lines.
    f.wait_lines(32, "every hook, with stderr stalled").await;
    let checks = || {
        fs::read_to_string(dir.join("check.log"))
            .unwrap_or_default()
            .len()
    };
    let c0 = checks();
    wait_until(WAIT, "more checks, with stderr stalled", || {
        checks() >= c0 + 2
    })
    .await;
    let dropped = || {
        fs::read_to_string(dir.join("carpctl.prom"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("carpctl_log_lines_dropped_total "))
            .and_then(|n| n.parse::<u64>().ok())
    };
    wait_until(WAIT, "the metrics counting dropped lines", || {
        dropped().is_some_and(|n| n > 0)
    })
    .await;

    // Someone reads stderr again: the drop is reported.
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 65536];
        let found = loop {
            match std::io::Read::read(&mut stderr, &mut buf) {
                Ok(0) | Err(_) => break false,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
            if String::from_utf8_lossy(&seen).contains("standard error was not being read") {
                break true;
            }
        };
        // Hand the pipe back, unread from now on.
        let _ = tx.send((found, stderr));
    });
    let (found, _stderr) = tokio::task::spawn_blocking(move || rx.recv_timeout(WAIT * 2))
        .await
        .unwrap()
        .expect("the report of the dropped lines");
    assert!(found, "stderr closed before the report");

    // Stalled again: SIGTERM still stops it within a bound.
    for i in 0..30 {
        send(&devd, "1@em0", states[i % 2]).await;
    }
    f.wait_lines(62, "every hook, with stderr stalled again")
        .await;
    stops_at_sigterm_within(&mut child, Duration::from_secs(10)).await;
}

/// `watch` whose stdout nobody reads stops at SIGTERM.
#[tokio::test]
async fn watch_whose_output_nobody_reads_stops_at_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("devd.pipe");
    let mut listener = UnixSeqpacketListener::bind(&socket).unwrap();
    let mut child = Reaped(
        Command::new(BIN)
            .env_remove("CARPCTL_KERNEL")
            .env_remove("CARPCTL_CONFIG")
            .env_remove("RUST_LOG")
            .args(["watch", "--devd-socket"])
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let devd = accept(&mut listener).await;
    // More than the pipe holds (~1000 lines): send until devd's side
    // would block (watch stops reading once its own queue is full too).
    let states = ["MASTER", "BACKUP"];
    let mut sent = 0;
    for i in 0..20_000 {
        let rec = format!("!system=CARP subsystem=12@em0 type={}\n", states[i % 2]);
        match tokio::time::timeout(Duration::from_millis(500), devd.send(rec.as_bytes())).await {
            Ok(r) => r.unwrap(),
            Err(_) => break,
        };
        sent += 1;
    }
    assert!(sent > 1000, "only {sent} records sent");
    stops_at_sigterm_within(&mut child, Duration::from_secs(5)).await;
}

/// Run the daemon until its check has appended `probes` dots to
/// `check.log`; its exit status and stderr.
async fn daemon_with_probes(f: &Fixture, probes: usize) -> (ExitStatus, String) {
    let mut listener = f.listen();
    let d = f.daemon();
    let _devd = accept(&mut listener).await;
    let runs = || {
        fs::read_to_string(f.dir.path().join("check.log"))
            .unwrap_or_default()
            .len()
    };
    wait_until(WAIT, "the check's probes", || runs() >= probes).await;
    d.stop().await
}

/// An exec check that prints 20 MB on stderr every second makes a log of
/// a few KiB, not 20 MB a second.
#[tokio::test]
async fn an_exec_check_flooding_stderr_makes_a_bounded_log() {
    let f = Fixture::with(
        FAST_HOOKS,
        "[[check]]\nname = \"flood\"\ntype = \"exec\"\ninterval = 1\n\
         command = [\"/bin/sh\", \"-c\", \"echo . >> @DIR@/check.log; yes 0123456789 | head -c 20000000 >&2\"]\n",
    );
    let (status, stderr) = daemon_with_probes(&f, 3).await;
    assert!(status.success(), "{}", &stderr[..stderr.len().min(2000)]);
    assert!(
        stderr.len() < 256 * 1024,
        "{} bytes of log after at least 3 probes",
        stderr.len()
    );
    assert!(
        stderr.contains("check flood: stderr: 0123456789"),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(stderr.contains("(more than 20 lines; the rest is not logged)"));
}

/// A `--devd-socket` that can never be devd's socket (a regular file, a
/// stream socket, a path longer than sun_path) is a usage error for
/// `watch` and `daemon`, not a reason to retry forever.
#[tokio::test]
async fn watch_and_daemon_refuse_a_devd_socket_that_can_never_work() {
    let f = Fixture::new();
    let dir = f.dir.path();
    let file = dir.join("regular");
    fs::write(&file, "x").unwrap();
    let stream = dir.join("stream.sock");
    let _stream = std::os::unix::net::UnixListener::bind(&stream).unwrap();
    let long = dir.join("d".repeat(120));
    for (path, why) in [
        (&file, "it is a regular file, not a socket"),
        (&stream, "a socket of another type"),
        (&long, "more than a socket address holds"),
    ] {
        for daemon in [false, true] {
            let mut cmd = f.command();
            if daemon {
                cmd.args(f.global_args()).arg("daemon");
            } else {
                cmd.arg("watch");
            }
            let mut child = Reaped(
                cmd.arg("--devd-socket")
                    .arg(path)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
            let status = wait_exit(&mut child).await;
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            assert_eq!(status.code(), Some(2), "daemon {daemon}: {stderr}");
            assert!(stderr.contains("cannot be devd's socket"), "{stderr}");
            assert!(stderr.contains(why), "{stderr}");
        }
    }
}

/// An exec check's stderr with NUL, CR, ESC and a bidi override: logged
/// escaped, never raw.
#[tokio::test]
async fn an_exec_check_printing_control_bytes_is_logged_escaped() {
    let f = Fixture::with(
        FAST_HOOKS,
        "[[check]]\nname = \"ctl\"\ntype = \"exec\"\ninterval = 1\n\
         command = [\"/bin/sh\", \"-c\", \"echo . >> @DIR@/check.log; \
         printf 'a\\\\000b\\\\rforged\\\\033[2J\\\\342\\\\200\\\\256z\\\\n' >&2; exit 1\"]\n",
    );
    let (_, stderr) = daemon_with_probes(&f, 1).await;
    assert!(
        stderr.contains("check ctl: stderr: a\\0b\\rforged\\u{1b}[2J\\u{202e}z"),
        "{stderr}"
    );
    for raw in ['\0', '\r', '\u{1b}', '\u{202e}'] {
        assert!(!stderr.contains(raw), "raw {raw:?} in {stderr:?}");
    }
}
