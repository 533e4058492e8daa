//! Helpers shared by the modules of the integration-test binary: the real
//! binary run with a clean environment, a deadline and a memory limit, and
//! emulated hosts.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_carpctl");

/// `carpctl` with none of its environment variables inherited.
pub(crate) fn carpctl() -> Command {
    let mut c = Command::new(BIN);
    for var in [
        "CARPCTL_KERNEL",
        "CARPCTL_CONFIG",
        "CARPCTL_HOOK_DIR",
        "CARPCTL_NODE",
        "CARPCTL_LOCK_WAIT",
        "RUST_LOG",
    ] {
        c.env_remove(var);
    }
    c
}

/// Run `cmd` with a deadline and 4 GiB of address space: a command that
/// hangs (on a FIFO) or reads without end (/dev/zero) fails the test
/// instead of hanging it or exhausting the machine.
pub(crate) fn run(cmd: &Command, limit: Duration) -> Output {
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
    let mut child = limited
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
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What one run of carpctl produced.
#[derive(Debug)]
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Run `cmd` to its end: it must exit by itself (not by a signal) and
    /// print UTF-8.
    pub(crate) fn of(cmd: &mut Command) -> Run {
        let out = cmd.output().expect("run carpctl");
        Run {
            code: out.status.code().expect("carpctl exited by a signal"),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// `carpctl ARGS...` with none of its environment variables inherited (in
/// particular no kernel and no cluster file), run to its end.
pub(crate) fn run_carpctl(args: &[&str]) -> Run {
    Run::of(carpctl().args(args))
}

/// [`run_carpctl`] in directory `dir`.
pub(crate) fn run_carpctl_in(dir: &Path, args: &[&str]) -> Run {
    Run::of(carpctl().args(args).current_dir(dir))
}

/// A temporary path as the `&str` an argument list needs.
pub(crate) fn s(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// `out` exited with `want`, and its stdout and stderr together say each
/// of `needles`; returns that text.
#[track_caller]
pub(crate) fn expect(out: &Output, want: i32, needles: &[&str]) -> String {
    let text = format!("{}{}", stdout(out), stderr(out));
    assert_eq!(code(out), want, "{text}");
    for n in needles {
        assert!(text.contains(n), "no {n:?} in: {text}");
    }
    text
}

pub(crate) fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

/// `emulate init PATH --iface em0=192.0.2.3/24`.
pub(crate) fn init_host(path: &Path) {
    let mut c = carpctl();
    c.args(["emulate", "init"])
        .arg(path)
        .args(["--iface", "em0=192.0.2.3/24"]);
    let out = run(&c, Duration::from_secs(30));
    expect(&out, 0, &[]);
}

/// `--kernel emulated:PATH`.
pub(crate) fn kernel_arg(host: &Path) -> String {
    format!("emulated:{}", host.display())
}

/// An emulated host and a cluster file (mode 0600) in a temporary
/// directory: the lab of the end-to-end tests that run carpctl as one node
/// of a cluster against that host.
pub(crate) struct HostLab {
    _dir: tempfile::TempDir,
    pub(crate) host: PathBuf,
    pub(crate) config: PathBuf,
}

impl HostLab {
    /// A new host (`init_host`) and `cluster` as the cluster file.
    pub(crate) fn new(cluster: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("host");
        init_host(&host);
        let config = dir.path().join("carpctl.toml");
        fs::write(&config, cluster).unwrap();
        chmod(&config, 0o600);
        HostLab {
            _dir: dir,
            host,
            config,
        }
    }

    /// carpctl as `node` of the cluster file against the host, through
    /// the environment (`CARPCTL_KERNEL`, `CARPCTL_CONFIG`,
    /// `CARPCTL_NODE`), without `RUST_LOG` or an injected ledger fault.
    pub(crate) fn command(&self, node: &str) -> Command {
        let mut c = carpctl();
        c.env("CARPCTL_KERNEL", kernel_arg(&self.host))
            .env("CARPCTL_CONFIG", &self.config)
            .env("CARPCTL_NODE", node)
            .env_remove("RUST_LOG")
            .env_remove(carpctl::ledger::FAULT_ENV);
        c
    }

    /// Where the emulated host keeps carpctl's state: its own root's
    /// `/var/db/carpctl`.
    pub(crate) fn state_dir(&self) -> PathBuf {
        let mut root = self.host.as_os_str().to_owned();
        root.push(".root/var/db/carpctl");
        PathBuf::from(root)
    }
}
