//! Files carpctl trusts, reads and writes as root (issue 9, items 1, 2, 3,
//! 14 and 16): the real binary against real files in temporary
//! directories, as root (as CI runs) and, where it matters, as `nobody`
//! through setpriv(1).
//!
//! * the hook state directory: refused when others can write in it, its
//!   files never followed through a symbolic link nor quoted;
//! * the owner and mode of the cluster file, key files, their directories,
//!   `state_dir` and the metrics textfile directory;
//! * FIFOs, devices and oversized files as cluster file, scenario or
//!   emulated host: a clear error at once, never a hang;
//! * an unreadable key file stops only what needs that key.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::common::{BIN, carpctl, chmod, code, expect, init_host, kernel_arg, run, stderr};

const SECRET1: &str = "webone_hunter2_q";
const SECRET2: &str = "webtwo_hunter2_q";
const LIMIT: Duration = Duration::from_secs(30);

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A lab for a test that makes files of two users, which needs root (as
/// CI runs); `None`, saying so, otherwise.
fn root_lab() -> Option<Lab> {
    if is_root() {
        Some(Lab::new())
    } else {
        eprintln!("skipped: needs root to make files of two users (CI runs as root)");
        None
    }
}

fn chown(p: &Path, uid: u32) {
    nix::unistd::chown(p, Some(nix::unistd::Uid::from_raw(uid)), None).unwrap();
}

const NOBODY: u32 = 65534;

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
        init_host(&p);
        p
    }

    /// `carpctl -c carpctl.toml --node NODE ARGS`.
    fn cmd(&self, node: &str, args: &[&str]) -> Command {
        let mut c = carpctl();
        c.arg("-c")
            .arg(self.config())
            .args(["--node", node])
            .args(args);
        c
    }

    /// `carpctl --kernel emulated:HOST -c carpctl.toml --node a ARGS`.
    fn on(&self, host: &Path, args: &[&str]) -> Output {
        let mut c = self.cmd("a", args);
        c.arg("--kernel").arg(kernel_arg(host));
        run(&c, LIMIT)
    }

    /// `carpctl hook --state-dir DIR -c carpctl.toml --node NODE SUB TYPE`.
    fn hook(&self, dir: &Path, node: &str, sub: &str, state: &str) -> Output {
        let mut c = self.cmd(node, &["hook", sub, state]);
        c.arg("--state-dir").arg(dir);
        run(&c, LIMIT)
    }

    fn lint(&self, file: &Path) -> Output {
        let mut c = carpctl();
        c.arg("lint").arg(file);
        run(&c, LIMIT)
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
    let mut c = lab.cmd("a", &["hook", "1@em0", "MASTER"]);
    c.env("CARPCTL_HOOK_DIR", &hooks);
    expect(
        &run(&c, LIMIT),
        2,
        &[
            &format!(
                "the directory {} is writable by group or others",
                hooks.display()
            ),
            &format!("fix: chmod go-w {}", hooks.display()),
            "the hook was not run",
        ],
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!hooks.join("1@em0").exists());
}

/// A state directory owned by another user is refused for root; `nobody`
/// may use its own.
#[test]
fn hook_refuses_a_state_directory_of_another_user() {
    let Some(lab) = root_lab() else { return };
    let hooks = lab.path("hooks");
    fs::create_dir(&hooks).unwrap();
    chmod(&hooks, 0o700);
    chown(&hooks, NOBODY);
    expect(
        &lab.hook(&hooks, "a", "1@em0", "BACKUP"),
        2,
        &[
            "is owned by nobody (uid 65534), not by root",
            &format!("fix: chown root {}", hooks.display()),
        ],
    );
    // As nobody, the same directory is its own: accepted. (The cluster
    // file is root's, which nobody trusts; its keys are not read.)
    chmod(lab.dir.path(), 0o755);
    let hooks_arg = hooks.display().to_string();
    let config = lab.config().display().to_string();
    let out = as_nobody(&[
        "hook",
        "--state-dir",
        &hooks_arg,
        "-c",
        &config,
        "--node",
        "a",
        "1@em0",
        "BACKUP",
    ]);
    expect(&out, 0, &[]);
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
    let mut c = lab.cmd("b", &["-v", "hook", "2@em0", "MASTER"]);
    c.arg("--state-dir").arg(&hooks);
    let text = expect(&run(&c, LIMIT), 0, &["is a symbolic link"]);
    assert!(!text.contains("hunter2"), "the key leaked: {text}");
    assert_eq!(fs::read_to_string(&key).unwrap(), format!("{SECRET2}\n"));
    let meta = fs::symlink_metadata(hooks.join("2@em0")).unwrap();
    assert!(meta.is_file());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    assert_eq!(fs::read_to_string(hooks.join("2@em0")).unwrap(), "MASTER\n");
}

// ----- item 2: the metrics textfile ------------------------------------------------

/// The daemon refuses at start a textfile directory others can write in
/// (the predictable temporary name of old was opened there through links
/// every 5 s); the library test `daemon::metrics::tests` covers the writes.
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
    let out = lab.on(
        &host,
        &["daemon", "--devd-socket", "/nonexistent/devd.pipe"],
    );
    expect(&out, 2, &[&format!("fix: chmod go-w {}", open.display())]);
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
    let refused = |what: &str, needle: &str| {
        let text = expect(&lab.on(&host, &["apply"]), 2, &[needle]);
        assert!(!text.contains("hunter2"), "{what}: {text}");
        assert_eq!(fs::read(&host).unwrap(), before, "{what}: the host changed");
    };
    refused(
        "a 0666 cluster file",
        "is writable by group or others (mode 0666); fix: chmod go-w",
    );
    chmod(&lab.config(), 0o644);
    chmod(&lab.path("carpctl.d"), 0o777);
    refused(
        "a 0777 carpctl.d",
        "carpctl.d is writable by group or others (mode 0777)",
    );
    chmod(&lab.path("carpctl.d"), 0o700);
    if is_root() {
        chown(&lab.config(), NOBODY);
        refused(
            "a cluster file owned by nobody",
            "is owned by nobody (uid 65534), not by root; fix: chown root",
        );
        chown(&lab.config(), 0);
        chown(&lab.path("carpctl.d/web1.key"), NOBODY);
        refused("a key file owned by nobody", "web1.key is owned by nobody");
        chown(&lab.path("carpctl.d/web1.key"), 0);
    }
    expect(&lab.on(&host, &["apply"]), 0, &[]);
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
    let needle = format!("the directory {} is writable", state.display());
    for args in [
        &["maintenance", "on"][..],
        &["maintenance", "status"],
        &["apply"],
    ] {
        expect(&lab.on(&host, args), 2, &[&needle]);
    }
    assert_eq!(
        fs::read_to_string(state.join("ledger.json")).unwrap(),
        forged
    );
    // Refused before anything changed, apply included.
    assert_eq!(fs::read(&host).unwrap(), before);
    if is_root() {
        chmod(&state, 0o755);
        chown(&state, NOBODY);
        expect(
            &lab.on(&host, &["maintenance", "on"]),
            2,
            &["is owned by nobody"],
        );
    }
}

// ----- item 14: special files and sizes -----------------------------------------

#[test]
fn a_fifo_or_a_device_never_hangs_a_command() {
    let lab = Lab::new();
    let host = lab.host("host");
    let fifo = lab.path("fifo.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let refused = "not a regular file";
    for file in [fifo.as_path(), Path::new("/dev/zero")] {
        // As the cluster file of apply and of lint.
        let mut c = carpctl();
        c.arg("--kernel")
            .arg(kernel_arg(&host))
            .arg("-c")
            .arg(file)
            .args(["--node", "a", "apply"]);
        expect(&run(&c, LIMIT), 2, &[refused]);
        expect(&lab.lint(file), 1, &[refused]);
        // As an emulated host.
        let mut c = carpctl();
        c.arg("--kernel").arg(kernel_arg(file)).arg("status");
        expect(&run(&c, LIMIT), 2, &[refused]);
        // As a scenario, and as the cluster file a scenario names.
        let mut c = carpctl();
        c.arg("simulate").arg(file);
        expect(&run(&c, LIMIT), 2, &[refused]);
        let scenario = lab.write(
            "scenario.toml",
            &format!(
                "cluster = \"{}\"\nduration = 10\n[[node]]\nname = \"a\"\n\
                 interfaces = {{ em0 = [\"192.0.2.3/24\"] }}\n",
                file.display()
            ),
            0o644,
        );
        let mut c = carpctl();
        c.arg("simulate").arg(&scenario);
        expect(&run(&c, LIMIT), 2, &[refused]);
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
    let too_large = "is larger than 1048576 bytes";
    expect(&lab.on(&host, &["apply"]), 2, &[too_large]);
    expect(&lab.lint(&lab.config()), 1, &[too_large]);
    // 1 MiB exactly is read by both.
    text.truncate(text.len() - 2);
    text.push('\n');
    lab.write("carpctl.toml", &text, 0o644);
    assert_eq!(fs::metadata(lab.config()).unwrap().len(), 1024 * 1024);
    expect(&lab.on(&host, &["apply"]), 0, &[]);
    let out = lab.lint(&lab.config());
    assert!(!crate::common::stdout(&out).contains("larger"), "{out:?}");
}

// ----- item 16: keys only where needed --------------------------------------------

/// web2's key file is broken; node `a` does not carry web2. Everything on
/// `a` works, and so does everything that needs no key on any node.
#[test]
fn a_broken_key_file_stops_only_what_needs_that_key() {
    let lab = Lab::new();
    let host = lab.host("host");
    expect(&lab.on(&host, &["apply"]), 0, &[]);
    let key2 = lab.path("carpctl.d/web2.key");
    type Break = Box<dyn Fn(&Path)>;
    let breaks: [(&str, Break); 3] = [
        ("absent", Box::new(|p| fs::remove_file(p).unwrap())),
        ("world-readable", Box::new(|p| chmod(p, 0o644))),
        ("empty", Box::new(|p| fs::write(p, "").unwrap())),
    ];
    for (what, break_it) in breaks {
        let _ = fs::remove_file(&key2);
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
            let out = lab.on(&host, args);
            assert_eq!(code(&out), 0, "{what}: {args:?}: {}", stderr(&out));
        }
        // The hook of web1, and of web2 on a node that carries it.
        for (node, sub) in [("a", "1@em0"), ("b", "2@em0")] {
            let out = lab.hook(&lab.path("hooks"), node, sub, "MASTER");
            assert_eq!(code(&out), 0, "{what}: hook {sub}: {}", stderr(&out));
        }
        // Only what needs web2's key says so: exit 2, at its password_file.
        let out = run(&lab.cmd("b", &["plan", "--show-secrets"]), LIMIT);
        let text = expect(
            &out,
            2,
            &["carpctl.toml:24:", "vip \"web2\": password_file"],
        );
        assert!(
            !text.contains("hunter2") && !text.contains("web1"),
            "{what}: {text}"
        );
        // lint reports it.
        expect(
            &lab.lint(&lab.config()),
            1,
            &["vip \"web2\": password_file"],
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
        let mut listener = tokio_seqpacket::UnixSeqpacketListener::bind(&socket).unwrap();
        let mut c = lab.cmd("a", &["watch", "--count", "1", "--devd-socket"]);
        let mut child = c
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let accepted = tokio::time::timeout(LIMIT, listener.accept()).await;
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
        expect(&out, 0, &["1@em0"]);
    });
}

// ----- unprivileged -----------------------------------------------------------------

/// `carpctl ARGS` as nobody (setpriv).
fn as_nobody(args: &[&str]) -> Output {
    let mut c = Command::new("setpriv");
    c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", BIN])
        .args(args)
        .env_remove("CARPCTL_KERNEL")
        .env_remove("CARPCTL_CONFIG")
        .env_remove("CARPCTL_HOOK_DIR")
        .env_remove("RUST_LOG");
    run(&c, LIMIT)
}

/// Non-root monitoring: nobody runs `status --check` on its own emulated
/// host, whose cluster file names key files nobody cannot read (root's),
/// for a VIP its node carries and one it does not.
#[test]
fn nobody_checks_status_with_keys_it_cannot_read() {
    let Some(lab) = root_lab() else { return };
    chmod(lab.dir.path(), 0o755);
    let home = lab.path("nobody");
    fs::create_dir(&home).unwrap();
    chown(&home, NOBODY);
    // nobody's own key for web1, so that it can apply; web2's is root's.
    let key1 = home.join("web1.key");
    fs::write(&key1, format!("{SECRET1}\n")).unwrap();
    chmod(&key1, 0o600);
    chown(&key1, NOBODY);
    let key2 = lab.path("carpctl.d/web2.key");
    let cfg = cluster("")
        .replace("carpctl.d/web1.key", &key1.display().to_string())
        .replace("carpctl.d/web2.key", &key2.display().to_string());
    let c = lab.write("nobody.toml", &cfg, 0o644).display().to_string();
    let h = home.join("host").display().to_string();
    let kernel = format!("emulated:{h}");
    expect(
        &as_nobody(&["emulate", "init", &h, "--iface", "em0=192.0.2.3/24"]),
        0,
        &[],
    );
    let on_a = |args: &[&str]| {
        let mut all = vec!["--kernel", &kernel, "-c", &c, "--node", "a"];
        all.extend_from_slice(args);
        as_nobody(&all)
    };
    expect(&on_a(&["apply"]), 0, &[]);
    // Now web1's key is root's too: unreadable for nobody.
    chown(&key1, 0);
    for args in [
        &["status", "--check"][..],
        &["status", "--json"],
        &["maintenance", "on"],
        &["maintenance", "status"],
        &["maintenance", "off"],
        &["plan"],
    ] {
        let out = on_a(args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
    }
    // lint as nobody: the keys it cannot read are warnings, not errors.
    expect(
        &as_nobody(&["lint", &c]),
        0,
        &["not checked (carpctl apply reads it as root)"],
    );
    // apply needs web1's key, which nobody cannot read now.
    expect(&on_a(&["apply"]), 2, &["web1.key"]);
}
