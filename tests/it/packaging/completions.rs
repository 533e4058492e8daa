//! `carpctl completions SHELL`: the real binary's scripts, checked by the
//! shells themselves. bash is required; zsh and fish are checked when
//! installed (.ci/run installs them) and skipped with a message otherwise.

use std::process::Command;

use super::{run, text};

const BIN: &str = env!("CARGO_BIN_EXE_carpctl");

/// The script for `shell`, written to a temporary file.
fn script(shell: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let out = Command::new(BIN)
        .args(["completions", shell])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.len() > 1000, "{shell}: {}", text(&out.stdout));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("carpctl.{shell}"));
    std::fs::write(&path, &out.stdout).unwrap();
    (dir, path)
}

/// Check `path` with `shell ARGS path`; false when the shell is missing.
fn syntax_ok(shell: &str, args: &[&str], path: &std::path::Path) -> bool {
    let mut all = args.to_vec();
    all.push(path.to_str().unwrap());
    let Some(out) = run(shell, &all, path.parent().unwrap()) else {
        eprintln!("SKIP: {shell} is not installed; its completion script was not checked");
        return false;
    };
    assert!(
        out.status.success(),
        "{shell} rejects the script: {}",
        text(&out.stderr)
    );
    true
}

#[test]
fn bash_script_parses_and_completes_subcommands_and_shells() {
    let (_dir, path) = script("bash");
    assert!(syntax_ok("bash", &["-n"], &path), "bash is required");
    // Ask the completion function itself, as bash would on TAB.
    let probe = format!(
        "source {}\n\
         COMP_WORDS=(carpctl ap); COMP_CWORD=1; _carpctl carpctl ap carpctl\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"; echo --\n\
         COMP_WORDS=(carpctl completions ''); COMP_CWORD=2; _carpctl carpctl '' completions\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        path.display()
    );
    let out = Command::new("bash").args(["-c", &probe]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let (first, second) = stdout.split_once("--\n").unwrap();
    assert_eq!(first.lines().collect::<Vec<_>>(), ["apply"]);
    let shells: Vec<&str> = second.lines().filter(|l| !l.starts_with('-')).collect();
    assert_eq!(shells, ["bash", "zsh", "fish"]);
}

#[test]
fn zsh_script_parses() {
    let (_dir, path) = script("zsh");
    syntax_ok("zsh", &["-n"], &path);
}

#[test]
fn fish_script_parses() {
    let (_dir, path) = script("fish");
    syntax_ok("fish", &["--no-execute"], &path);
}

#[test]
fn sh_gets_the_reason_and_exit_2() {
    let out = Command::new(BIN)
        .args(["completions", "sh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("no programmable completion"),
        "{}",
        text(&out.stderr)
    );
}
