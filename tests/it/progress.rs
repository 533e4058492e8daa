//! The progress line of `carpctl simulate`: shown on a terminal, quiet
//! with `--json` and when standard error is not a terminal.
//!
//! The terminal is a real pseudo-terminal, from util-linux's `script(1)`
//! (Debian's bsdutils, always installed; without it the terminal tests
//! skip, loudly). `CARPCTL_PROGRESS_AFTER=0` shows the line from the
//! first update, so a run of a second shows it; the default delay (1 s of
//! wall time) is tested with an injected clock in `src/cli/progress.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::scenario_files as scenario;

use crate::common::BIN;
const MARK: &str = "simulating: ";

/// 2 nodes, 8 VIPs, 600 s: thousands of events, a fraction of a second.
fn scenario(dir: &Path) -> PathBuf {
    let vips = scenario::names("vip", 8);
    scenario::write(
        dir,
        &["a", "b"],
        &vips.iter().map(String::as_str).collect::<Vec<_>>(),
        600,
        "[[event]]\nat = 100\naction = \"crash\"\nnode = \"a\"\n",
    )
}

fn script_available() -> bool {
    Command::new("script")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A word for sh, single-quoted.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `carpctl ARGS > stdout_file` on a pseudo-terminal (standard error and
/// input are the terminal): what the terminal showed.
fn on_terminal(args: &[&str], stdout_file: &Path, after: &str) -> (i32, String) {
    let mut line = sh_quote(BIN);
    for a in args {
        line.push(' ');
        line.push_str(&sh_quote(a));
    }
    line.push_str(" > ");
    line.push_str(&sh_quote(stdout_file.to_str().unwrap()));
    let out: Output = Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .env("CARPCTL_PROGRESS_AFTER", after)
        .env("TERM", "dumb")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run script");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

macro_rules! need_script {
    ($name:expr) => {
        if !script_available() {
            eprintln!(
                "SKIPPED {}: script(1) from util-linux is not installed (Debian: bsdutils)",
                $name
            );
            return;
        }
    };
}

#[test]
fn progress_is_shown_on_a_terminal_and_erased() {
    need_script!("progress_is_shown_on_a_terminal_and_erased");
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path());
    let report = dir.path().join("report.txt");
    let (code, tty) = on_terminal(&["simulate", sc.to_str().unwrap()], &report, "0");
    assert!(code == 0 || code == 1, "{tty}");
    let first = tty
        .find(MARK)
        .unwrap_or_else(|| panic!("no progress: {tty:?}"));
    // "simulating: 35 of 600 s of virtual time (6%), 1024 events", the
    // line erased (CR, EL) and redrawn, and erased at the end.
    let line = &tty[first..];
    let line = &line[..line.find('\x1b').unwrap()];
    assert!(
        line.contains(" of 600 s of virtual time (") && line.ends_with(" events"),
        "{line:?}"
    );
    // The last line is erased before anything else is written.
    let last = &tty[tty.rfind(MARK).unwrap()..];
    assert!(last.contains(" events\x1b[K\r\x1b[K"), "{last:?}");
    // The report on standard output has none of it.
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.starts_with("scenario "), "{text}");
    assert!(!text.contains(MARK) && !text.contains('\x1b'), "{text}");
}

#[test]
fn progress_is_quiet_with_json_even_on_a_terminal() {
    need_script!("progress_is_quiet_with_json_even_on_a_terminal");
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path());
    let report = dir.path().join("report.json");
    let (code, tty) = on_terminal(&["simulate", "--json", sc.to_str().unwrap()], &report, "0");
    assert!(code == 0 || code == 1, "{tty}");
    assert!(!tty.contains(MARK), "{tty:?}");
    assert!(!tty.contains('\x1b'), "{tty:?}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(json["vips"].is_array());
}

#[test]
fn progress_is_quiet_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path());
    let out = Command::new(BIN)
        .args(["simulate", sc.to_str().unwrap()])
        .env("CARPCTL_PROGRESS_AFTER", "0")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains(MARK) && !err.contains('\x1b'), "{err:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("scenario "),
        "the run happened"
    );
}

#[test]
fn a_bad_progress_delay_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path());
    let out = Command::new(BIN)
        .args(["simulate", sc.to_str().unwrap()])
        .env("CARPCTL_PROGRESS_AFTER", "soon")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "carpctl: CARPCTL_PROGRESS_AFTER must be a whole number of seconds from 0 to 3600\n"
    );
    assert!(out.stdout.is_empty());
}
