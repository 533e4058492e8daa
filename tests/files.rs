//! Files carpctl trusts, reads and writes as root (issue 9, items 1, 3,
//! 14 and 16): the real binary against real files in temporary
//! directories, as root (as CI runs) and, where it matters, as `nobody`
//! through setpriv(1).
//!
//! * the hook state directory: refused when others can write in it, its
//!   files never followed through a symbolic link nor quoted;
//! * the owner and mode of the cluster file, key files, their directories
//!   and `state_dir`;
//! * FIFOs, devices and oversized files as cluster file, scenario or
//!   emulated host: a clear error at once, never a hang;
//! * an unreadable key file stops only what needs that key.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_carpctl");
const SECRET1: &str = "webone_hunter2_q";
const SECRET2: &str = "webtwo_hunter2_q";

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn chown_nobody(p: &Path) {
    nix::unistd::chown(
        p,
        Some(nix::unistd::Uid::from_raw(65534)),
        Some(nix::unistd::Gid::from_raw(65534)),
    )
    .unwrap();
}

/// Run `cmd` with a deadline and 4 GiB of address space: a command that
/// hangs (on a FIFO) or reads without end (/dev/zero) fails the test
/// instead of hanging it or exhausting the machine.
fn run(cmd: Command, limit: Duration) -> Output {
    let mut limited = Command::new("sh");
    limited
        .arg("-c")
        .arg("ulimit -v 4194304 && exec \"$@\"")
        .arg("sh")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => limited.env(k, v),
            None => limited.env_remove(k),
        };
    }
    let mut cmd = limited;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "carpctl still running after {limit:?}: {cmd:?}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// A cluster of three nodes: `a` carries web1 as BACKUP (an emulated host
/// does not let time pass, so a vhid stays BACKUP and `status --check`
/// passes); web2 is carried by `b` and `c` only, so `a` never needs its
/// key.
struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Self {
        let lab = Lab {
            dir: tempfile::tempdir().unwrap(),
        };
        fs::create_dir(lab.path("carpctl.d")).unwrap();
        chmod(&lab.path("carpctl.d"), 0o700);
        lab.write("carpctl.d/web1.key", &format!("{SECRET1}\n"), 0o600);
        lab.write("carpctl.d/web2.key", &format!("{SECRET2}\n"), 0o600);
        lab.write("carpctl.toml", &cluster(""), 0o644);
        lab
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str, mode: u32) -> PathBuf {
        let p = self.path(rel);
        fs::write(&p, text).unwrap();
        chmod(&p, mode);
        p
    }

    fn config(&self) -> PathBuf {
        self.path("carpctl.toml")
    }

    fn host(&self, name: &str) -> PathBuf {
        let p = self.path(name);
        let out = run(
            self.cmd_plain(&["emulate", "init"])
                .arg(&p)
                .args(["--iface", "em0=192.0.2.3/24"])
                .take(),
            Duration::from_secs(30),
        );
        assert!(out.status.success(), "emulate init: {}", stderr(&out));
        p
    }

    fn cmd_plain(&self, args: &[&str]) -> CommandBox {
        let mut c = Command::new(BIN);
        c.args(args);
        c.env_remove("CARPCTL_KERNEL")
            .env_remove("CARPCTL_CONFIG")
            .env_remove("CARPCTL_HOOK_DIR")
            .env_remove("CARPCTL_NODE")
            .env_remove("RUST_LOG");
        CommandBox(c)
    }

    /// `carpctl --kernel emulated:HOST -c carpctl.toml --node a ARGS`.
    fn carpctl(&self, host: &Path, args: &[&str]) -> Output {
        let mut c = self.cmd_plain(&[]).take();
        c.arg("--kernel")
            .arg(format!("emulated:{}", host.display()))
            .arg("-c")
            .arg(self.config())
            .args(["--node", "a"])
            .args(args);
        run(c, Duration::from_secs(60))
    }
}

/// A `Command` that can be built by chaining and then taken.
struct CommandBox(Command);

impl CommandBox {
    fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Self {
        self.0.arg(a);
        self
    }
    fn args<I, S>(mut self, a: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.0.args(a);
        self
    }
    fn take(self) -> Command {
        self.0
    }
}

/// The cluster file; `hook` is added to web1.
fn cluster(hook: &str) -> String {
    format!(
        r#"[cluster]
preempt = true

[[node]]
name = "a"
[[node]]
name = "b"
[[node]]
name = "c"

[[vip]]
name = "web1"
vhid = 1
interface = "em0"
addresses = ["192.0.2.50/32"]
password_file = "carpctl.d/web1.key"
prefer = ["b", "a"]
{hook}
[[vip]]
name = "web2"
vhid = 2
interface = "em0"
addresses = ["192.0.2.51/32"]
password_file = "carpctl.d/web2.key"
prefer = ["b", "c"]
"#
    )
}

// ----- item 1: the hook state directory ----------------------------------------

/// The attack of issue 9, item 1: a 0777 state directory with a link at
/// the temporary file's old, predictable name.
#[test]
fn hook_refuses_a_state_directory_others_can_write_in() {
    let lab = Lab::new();
    let victim = lab.write("victim", "precious\n", 0o644);
    let hooks = lab.path("try");
    fs::create_dir(&hooks).unwrap();
    chmod(&hooks, 0o777);
    symlink(&victim, hooks.join(".1@em0.tmp")).unwrap();
    let mut c = lab.cmd_plain(&[]).take();
    c.env("CARPCTL_HOOK_DIR", &hooks)
        .arg("-c")
        .arg(lab.config())
        .args(["--node", "a", "hook", "1@em0", "MASTER"]);
    let out = run(c, Duration::from_secs(30));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "the directory {} is writable by group or others",
            hooks.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("fix: chmod go-w {}", hooks.display())),
        "{err}"
    );
    assert!(err.contains("the hook was not run"), "{err}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!hooks.join("1@em0").exists());
}

/// A state directory owned by another user is refused for root; `nobody`
/// may use its own.
#[test]
fn hook_refuses_a_state_directory_of_another_user() {
    if !is_root() {
        eprintln!("skipped: needs root (CI runs as root)");
        return;
    }
    let lab = Lab::new();
    let hooks = lab.path("hooks");
    fs::create_dir(&hooks).unwrap();
    chmod(&hooks, 0o700);
    chown_nobody(&hooks);
    let mut c = lab.cmd_plain(&[]).take();
    c.args(["hook", "--state-dir"])
        .arg(&hooks)
        .arg("-c")
        .arg(lab.config())
        .args(["--node", "a", "1@em0", "BACKUP"]);
    let out = run(c, Duration::from_secs(30));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is owned by nobody (uid 65534), not by root"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains(&format!("fix: chown root {}", hooks.display())));

    // As nobody, the same directory is its own: accepted. (The cluster
    // file is root's, which nobody trusts; its keys are not read.)
    chmod(lab.dir.path(), 0o755);
    let out = as_nobody(&[
        "hook",
        "--state-dir",
        &hooks.display().to_string(),
        "-c",
        &lab.config().display().to_string(),
        "--node",
        "a",
        "1@em0",
        "BACKUP",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(fs::read_to_string(hooks.join("1@em0")).unwrap(), "BACKUP\n");
}

/// A state file that is a link to a key file is neither followed nor
/// quoted (devd sends the warnings to syslog), and is replaced by a file.
#[test]
fn hook_never_reads_a_state_file_through_a_link_nor_quotes_it() {
    let lab = Lab::new();
    let hooks = lab.path("hooks");
    fs::create_dir(&hooks).unwrap();
    chmod(&hooks, 0o700);
    let key = lab.path("carpctl.d/web2.key");
    symlink(&key, hooks.join("2@em0")).unwrap();
    let mut c = lab.cmd_plain(&[]).take();
    c.args(["hook", "--state-dir"])
        .arg(&hooks)
        .arg("-c")
        .arg(lab.config())
        .args(["--node", "b", "-v", "2@em0", "MASTER"]);
    let out = run(c, Duration::from_secs(30));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains("hunter2"), "the key leaked: {err}");
    assert!(err.contains("is a symbolic link"), "{err}");
    assert_eq!(fs::read_to_string(&key).unwrap(), format!("{SECRET2}\n"));
    let meta = fs::symlink_metadata(hooks.join("2@em0")).unwrap();
    assert!(meta.is_file());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    assert_eq!(fs::read_to_string(hooks.join("2@em0")).unwrap(), "MASTER\n");
}

// ----- item 2: the metrics textfile ------------------------------------------------

/// The daemon refuses at start a textfile directory others can write in
/// (the predictable temporary name of old was opened there through links
/// every 5 s); the library test `metrics::tests` covers the writes.
#[test]
fn daemon_refuses_a_textfile_directory_others_can_write_in() {
    let lab = Lab::new();
    let host = lab.host("host");
    let open = lab.path("textfile");
    fs::create_dir(&open).unwrap();
    chmod(&open, 0o777);
    let text = format!(
        "{}\n[metrics]\ntextfile = \"{}/carpctl.prom\"\n",
        cluster(""),
        open.display()
    );
    lab.write("carpctl.toml", &text, 0o644);
    let out = lab.carpctl(
        &host,
        &["daemon", "--devd-socket", "/nonexistent/devd.pipe"],
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("fix: chmod go-w {}", open.display())),
        "{}",
        stderr(&out)
    );
}

// ----- item 3: owner and write bits ---------------------------------------------

/// What `apply` must refuse (exit 2), leaving the host as it was.
#[test]
fn apply_refuses_files_others_can_change() {
    let lab = Lab::new();
    let host = lab.host("host");
    let before = fs::read(&host).unwrap();
    let hook = "on_master = [\"/bin/sh\", \"-c\", \"touch /tmp/h9files-pwned\"]\n";
    lab.write("carpctl.toml", &cluster(hook), 0o666);
    let expect_refused = |what: &str, needle: &str| {
        let out = lab.carpctl(&host, &["apply"]);
        assert_eq!(code(&out), 2, "{what}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{what}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("hunter2"),
            "{what}: {}",
            stderr(&out)
        );
        assert_eq!(fs::read(&host).unwrap(), before, "{what}: the host changed");
    };
    expect_refused(
        "a 0666 cluster file",
        "is writable by group or others (mode 0666); fix: chmod go-w",
    );
    chmod(&lab.config(), 0o644);
    chmod(&lab.path("carpctl.d"), 0o777);
    expect_refused(
        "a 0777 carpctl.d",
        "carpctl.d is writable by group or others (mode 0777)",
    );
    chmod(&lab.path("carpctl.d"), 0o700);
    if is_root() {
        chown_nobody(&lab.config());
        expect_refused(
            "a cluster file owned by nobody",
            "is owned by nobody (uid 65534), not by root; fix: chown root",
        );
        nix::unistd::chown(&lab.config(), Some(nix::unistd::Uid::from_raw(0)), None).unwrap();
        chown_nobody(&lab.path("carpctl.d/web1.key"));
        expect_refused("a key file owned by nobody", "web1.key is owned by nobody");
        nix::unistd::chown(
            &lab.path("carpctl.d/web1.key"),
            Some(nix::unistd::Uid::from_raw(0)),
            None,
        )
        .unwrap();
    }
    let out = lab.carpctl(&host, &["apply"]);
    assert_eq!(code(&out), 0, "trusted again: {}", stderr(&out));
}

/// A `state_dir` others can write in (a forged ledger, a held lock) is
/// refused before anything changes.
#[test]
fn maintenance_refuses_a_state_dir_others_can_write_in() {
    let lab = Lab::new();
    let host = lab.host("host");
    // The emulated host's /var/db/carpctl.
    let state = host.with_extension("root").join("var/db/carpctl");
    fs::create_dir_all(&state).unwrap();
    chmod(&state, 0o777);
    let forged = "{\"version\": 1, \"seq\": 7, \"boot\": {\"boot_time\": 0, \"written_at\": 0}, \
                  \"contributions\": {}}\n";
    fs::write(state.join("ledger.json"), forged).unwrap();
    let before = fs::read(&host).unwrap();
    for args in [
        &["maintenance", "on"][..],
        &["maintenance", "status"],
        &["apply"],
    ] {
        let out = lab.carpctl(&host, args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("the directory {} is writable", state.display())),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert_eq!(
        fs::read_to_string(state.join("ledger.json")).unwrap(),
        forged
    );
    // Refused before anything changed, apply included.
    assert_eq!(fs::read(&host).unwrap(), before);
    if is_root() {
        chmod(&state, 0o755);
        chown_nobody(&state);
        let out = lab.carpctl(&host, &["maintenance", "on"]);
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        assert!(
            stderr(&out).contains("is owned by nobody"),
            "{}",
            stderr(&out)
        );
    }
}

// ----- item 14: special files and sizes -----------------------------------------

fn mkfifo(p: &Path) {
    nix::unistd::mkfifo(p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
}

#[test]
fn a_fifo_or_a_device_never_hangs_a_command() {
    let lab = Lab::new();
    let host = lab.host("host");
    let fifo = lab.path("fifo.toml");
    mkfifo(&fifo);
    let limit = Duration::from_secs(20);
    for file in [fifo.as_path(), Path::new("/dev/zero")] {
        // As the cluster file of apply and of lint.
        let mut c = lab.cmd_plain(&[]).take();
        c.arg("--kernel")
            .arg(format!("emulated:{}", host.display()))
            .arg("-c")
            .arg(file)
            .args(["--node", "a", "apply"]);
        let out = run(c, limit);
        assert_eq!(
            code(&out),
            2,
            "apply -c {}: {}",
            file.display(),
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
        let out = run(lab.cmd_plain(&["lint"]).arg(file).take(), limit);
        assert_eq!(code(&out), 1, "lint {}: {}", file.display(), stderr(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("not a regular file"),
            "{:?}",
            out
        );
        // As an emulated host.
        let mut c = lab.cmd_plain(&[]).take();
        c.arg("--kernel")
            .arg(format!("emulated:{}", file.display()))
            .arg("status");
        let out = run(c, limit);
        assert_eq!(
            code(&out),
            2,
            "--kernel emulated:{}: {}",
            file.display(),
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
        // As a scenario, and as the cluster file a scenario names.
        let out = run(lab.cmd_plain(&["simulate"]).arg(file).take(), limit);
        assert_eq!(
            code(&out),
            2,
            "simulate {}: {}",
            file.display(),
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
        let scenario = lab.write(
            "scenario.toml",
            &format!(
                "cluster = \"{}\"\nduration = 10\n[[node]]\nname = \"a\"\n\
                 interfaces = {{ em0 = [\"192.0.2.3/24\"] }}\n",
                file.display()
            ),
            0o644,
        );
        let out = run(lab.cmd_plain(&["simulate"]).arg(&scenario).take(), limit);
        assert_eq!(
            code(&out),
            2,
            "scenario naming {}: {}",
            file.display(),
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
    }
}

/// One cap for the cluster file, whichever command reads it.
#[test]
fn apply_and_lint_share_the_cluster_file_cap() {
    let lab = Lab::new();
    let host = lab.host("host");
    let mut text = cluster("");
    // One byte over: 1 MiB of text and a newline.
    text.push_str(&"#".repeat(1024 * 1024 - text.len()));
    text.push('\n');
    assert_eq!(text.len(), 1024 * 1024 + 1);
    lab.write("carpctl.toml", &text, 0o644);
    let out = lab.carpctl(&host, &["apply"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is larger than 1048576 bytes"),
        "{}",
        stderr(&out)
    );
    let out = run(
        lab.cmd_plain(&["lint"]).arg(lab.config()).take(),
        Duration::from_secs(20),
    );
    assert_eq!(code(&out), 1);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("is larger than 1048576 bytes"),
        "{out:?}"
    );
    // 1 MiB exactly is read by both.
    text.truncate(text.len() - 2);
    text.push('\n');
    lab.write("carpctl.toml", &text, 0o644);
    assert_eq!(fs::metadata(lab.config()).unwrap().len(), 1024 * 1024);
    let out = lab.carpctl(&host, &["apply"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = run(
        lab.cmd_plain(&["lint"]).arg(lab.config()).take(),
        Duration::from_secs(20),
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("larger"),
        "{out:?}"
    );
}

// ----- item 16: keys only where needed --------------------------------------------

/// web2's key file is broken; node `a` does not carry web2. Everything on
/// `a` works, and so does everything that needs no key on any node.
#[test]
fn a_broken_key_file_stops_only_what_needs_that_key() {
    let lab = Lab::new();
    let host = lab.host("host");
    let out = lab.carpctl(&host, &["apply"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let key2 = lab.path("carpctl.d/web2.key");
    for (what, break_it) in [
        (
            "absent",
            Box::new(|p: &Path| fs::remove_file(p).unwrap()) as Box<dyn Fn(&Path)>,
        ),
        ("world-readable", Box::new(|p: &Path| chmod(p, 0o644))),
        ("empty", Box::new(|p: &Path| fs::write(p, "").unwrap())),
    ] {
        if key2.exists() {
            fs::remove_file(&key2).unwrap();
        }
        lab.write("carpctl.d/web2.key", &format!("{SECRET2}\n"), 0o600);
        break_it(&key2);
        for args in [
            &["status"][..],
            &["status", "--check"],
            &["status", "--json"],
            &["plan"],
            &["plan", "--json"],
            &["plan", "--show-secrets"],
            &["maintenance", "on"],
            &["maintenance", "status"],
            &["maintenance", "off"],
            &["apply"],
        ] {
            let out = lab.carpctl(&host, args);
            assert_eq!(code(&out), 0, "{what}: {args:?}: {}", stderr(&out));
        }
        // The hook of web1, and of web2 on a node that carries it.
        let hooks = lab.path("hooks");
        for (node, sub) in [("a", "1@em0"), ("b", "2@em0")] {
            let mut c = lab.cmd_plain(&[]).take();
            c.args(["hook", "--state-dir"])
                .arg(&hooks)
                .arg("-c")
                .arg(lab.config())
                .args(["--node", node, sub, "MASTER"]);
            let out = run(c, Duration::from_secs(30));
            assert_eq!(code(&out), 0, "{what}: hook {sub}: {}", stderr(&out));
        }
        // Only what needs web2's key says so: exit 2, at its password_file.
        let out = lab.carpctl(&host, &["plan", "--show-secrets", "--node", "b"]);
        assert_eq!(code(&out), 2, "{what}: {}", stderr(&out));
        let mut c = lab.cmd_plain(&[]).take();
        c.arg("-c")
            .arg(lab.config())
            .args(["plan", "--show-secrets"]);
        let out = run(c, Duration::from_secs(30));
        assert_eq!(code(&out), 2, "{what}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("carpctl.toml:24:") && err.contains("vip \"web2\": password_file"),
            "{what}: {err}"
        );
        assert!(
            !err.contains("hunter2") && !err.contains("web1"),
            "{what}: {err}"
        );
        // lint reports it.
        let out = run(
            lab.cmd_plain(&["lint"]).arg(lab.config()).take(),
            Duration::from_secs(20),
        );
        let found = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            found.contains("vip \"web2\": password_file"),
            "{what}: {found}"
        );
    }
}

#[test]
fn watch_starts_with_a_broken_key_file() {
    let lab = Lab::new();
    fs::remove_file(lab.path("carpctl.d/web2.key")).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let socket = lab.path("devd.pipe");
        let listener = tokio_seqpacket::UnixSeqpacketListener::bind(&socket).unwrap();
        let mut c = lab.cmd_plain(&[]).take();
        c.arg("-c")
            .arg(lab.config())
            .args(["--node", "a", "watch", "--count", "1", "--devd-socket"])
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut listener = listener;
        let accepted = tokio::time::timeout(Duration::from_secs(20), listener.accept()).await;
        let Ok(Ok(devd)) = accepted else {
            let _ = child.kill();
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("watch did not connect: {err}");
        };
        devd.send(b"!system=CARP subsystem=1@em0 type=MASTER\n")
            .await
            .unwrap();
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1@em0"),
            "{out:?}"
        );
    });
}

// ----- unprivileged -----------------------------------------------------------------

/// `carpctl ARGS` as nobody (setpriv), in the lab.
fn as_nobody(args: &[&str]) -> Output {
    let mut c = Command::new("setpriv");
    c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", BIN])
        .args(args)
        .env_remove("CARPCTL_KERNEL")
        .env_remove("CARPCTL_CONFIG")
        .env_remove("CARPCTL_HOOK_DIR")
        .env_remove("RUST_LOG");
    run(c, Duration::from_secs(60))
}

/// Non-root monitoring: nobody runs `status --check` on its own emulated
/// host, whose cluster file names a key file nobody cannot read (root's),
/// for a VIP its node carries and one it does not.
#[test]
fn nobody_checks_status_with_keys_it_cannot_read() {
    if !is_root() {
        eprintln!("skipped: needs root to make files of two users (CI runs as root)");
        return;
    }
    let lab = Lab::new();
    chmod(lab.dir.path(), 0o755);
    let home = lab.path("nobody");
    fs::create_dir(&home).unwrap();
    chown_nobody(&home);
    // nobody's own key for web1, so that it can apply; web2's is root's.
    let key1 = home.join("web1.key");
    fs::write(&key1, format!("{SECRET1}\n")).unwrap();
    chmod(&key1, 0o600);
    chown_nobody(&key1);
    let cfg = cluster("")
        .replace("carpctl.d/web1.key", &key1.display().to_string())
        .replace(
            "carpctl.d/web2.key",
            &lab.path("carpctl.d/web2.key").display().to_string(),
        );
    let cfg_path = lab.write("nobody.toml", &cfg, 0o644);
    let host = home.join("host");
    let h = host.display().to_string();
    let kernel = format!("emulated:{h}");
    let c = cfg_path.display().to_string();
    let out = as_nobody(&["emulate", "init", &h, "--iface", "em0=192.0.2.3/24"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = as_nobody(&["--kernel", &kernel, "-c", &c, "--node", "a", "apply"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // Now web1's key is root's too: unreadable for nobody.
    nix::unistd::chown(&key1, Some(nix::unistd::Uid::from_raw(0)), None).unwrap();
    for args in [
        &["status", "--check"][..],
        &["status", "--json"],
        &["maintenance", "on"],
        &["maintenance", "status"],
        &["maintenance", "off"],
        &["plan"],
    ] {
        let mut all = vec!["--kernel", &kernel, "-c", &c, "--node", "a"];
        all.extend_from_slice(args);
        let out = as_nobody(&all);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
    }
    // lint as nobody: the keys it cannot read are warnings, not errors.
    let out = as_nobody(&["lint", &c]);
    let found = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(code(&out), 0, "{found}\n{}", stderr(&out));
    assert!(
        found.contains("not checked (carpctl apply reads it as root)"),
        "{found}"
    );
    // apply needs web1's key, which nobody cannot read now.
    let out = as_nobody(&["--kernel", &kernel, "-c", &c, "--node", "a", "apply"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("web1.key"), "{}", stderr(&out));
}
