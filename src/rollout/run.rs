//! `carpctl rollout run OLD NEW` (carpctl(8) ROLLOUTS): a rollout plan's
//! steps run over OpenSSH, one at a time, each followed by the plan's wait
//! and a look at the step's node (`carpctl status --json`, over the same
//! transport) before the next.
//!
//! The transport is the system's ssh(1), run as `ssh -- DEST WORD...`
//! with an argv (no local shell). ssh(1) joins the words after DEST with
//! spaces and the remote login shell splits them again, so each word is
//! quoted as one sh(1) word ([`super::arg`]). The words carry the cluster
//! file's path and names only, never a key: a step reads the keys from
//! the file (and its key files) already on the node.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{Command as StepCommand, Step, Which, arg};
use crate::config::Config;

/// The most a remote command may print on stdout that is read (a
/// `status --json` of 255 vhids is far less).
const OUTPUT_MAX: u64 = 4 << 20;

/// How often a running remote command is polled for its end.
const POLL: Duration = Duration::from_millis(50);

/// The ssh(1) program and how long one remote command may take.
#[derive(Debug, Clone)]
pub struct Transport {
    pub program: PathBuf,
    pub timeout: Duration,
}

impl Transport {
    /// The command line as run, for messages and `--dry-run`.
    pub fn shown(&self, dest: &str, argv: &[String]) -> String {
        let mut words = vec![
            arg(&self.program.display().to_string()),
            "--".into(),
            arg(dest),
        ];
        words.extend(argv.iter().map(|w| arg(w)));
        words.join(" ")
    }

    /// `PROGRAM -- DEST WORD...`: its stdout (at most [`OUTPUT_MAX`]
    /// bytes) when it exits 0; else what went wrong. stderr is the
    /// operator's (inherited): ssh's own errors and the remote carpctl's.
    pub fn run(&self, dest: &str, argv: &[String]) -> Result<Vec<u8>, String> {
        let mut child = Command::new(&self.program)
            .arg("--")
            .arg(dest)
            .args(argv.iter().map(|w| arg(w)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        let Some(mut stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("its stdout is not a pipe".into());
        };
        let reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let read = (&mut stdout).take(OUTPUT_MAX).read_to_end(&mut buf);
            // Whatever is past the limit is drained, so the child never
            // blocks on a full pipe.
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
            read.map(|_| buf)
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = reader.join();
                    return Err(format!(
                        "no answer within {} s (killed)",
                        self.timeout.as_secs()
                    ));
                }
                Ok(None) => std::thread::sleep(POLL),
                Err(e) => return Err(format!("cannot wait for {}: {e}", self.program.display())),
            }
        };
        let out = reader
            .join()
            .map_err(|_| "the output reader panicked".to_string())?
            .map_err(|e| format!("cannot read its output: {e}"))?;
        if !status.success() {
            return Err(format!("it exited with {status}"));
        }
        Ok(out)
    }
}

/// One vhid as the step's node must show it after the step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    pub vip: String,
    /// The node's real interface.
    pub interface: String,
    pub vhid: u8,
    /// `None`: the vhid must be absent.
    pub present: Option<Present>,
}

/// A present vhid's planned settings and, when the step moves it, state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Present {
    pub advbase: u8,
    /// `None`: any (a node in maintenance: what it shows is its own
    /// advskew, the demotion is node-wide).
    pub advskew: Option<u8>,
    /// `Some(true)`: MASTER (the step moves the VIP to this node);
    /// `Some(false)`: BACKUP (it moves the VIP away); `None`: either.
    pub master: Option<bool>,
}

/// What the step's node must show once the step has settled:
/// * each VIP of `--remove`: its vhid absent on the node's interface;
/// * each VIP of `--only` (every VIP of the file the node takes part in,
///   for a whole-file step): its vhid present with the file's `advbase`
///   and the plan's `advskew` for the node (the key is not visible, only
///   that one is set);
/// * a VIP the step moves: MASTER on the node it moves to, BACKUP on the
///   node it leaves; a VIP that does not move may be either (a password
///   step's lone master stays what it was);
/// * `maintenance on` (a leaving node's hand-over): every VIP of the file
///   the node takes part in present and BACKUP, with any skew, and
///   nothing else;
/// * `maintenance off` (after a leaving node's last removal): every such
///   VIP absent.
pub fn expect(step: &Step, old: &Config, new: &Config) -> Result<Vec<Want>, String> {
    let cfg = match step.file {
        Which::Old => old,
        Which::New => new,
    };
    let plan = cfg.plan().map_err(|e| e.to_string())?;
    let node = cfg
        .node(&step.node)
        .ok_or_else(|| format!("node {} is not in the file", step.node))?;
    let mut wants = Vec::new();
    for vip in &cfg.vips {
        let advskew = plan.vip(&vip.name).and_then(|p| p.advskew_of(&node.name));
        let named = |l: &[String]| l.contains(&vip.name);
        let present = match &step.command {
            StepCommand::Maintenance { .. } if advskew.is_none() => continue,
            StepCommand::Maintenance { on: true } => Some(Present {
                advbase: vip.advbase.get(),
                advskew: None,
                master: Some(false),
            }),
            StepCommand::Maintenance { on: false } => None,
            StepCommand::Apply { remove, .. } if named(remove) => None,
            StepCommand::Apply { only, remove }
                if named(only) || (only.is_empty() && remove.is_empty() && advskew.is_some()) =>
            {
                let advskew = advskew.ok_or_else(|| {
                    format!("VIP {} has no skew for node {}", vip.name, node.name)
                })?;
                let master = step.moves.iter().find(|m| m.vip == vip.name).and_then(|m| {
                    (m.to == node.name)
                        .then_some(true)
                        .or((m.from == node.name).then_some(false))
                });
                Some(Present {
                    advbase: vip.advbase.get(),
                    advskew: Some(advskew.get()),
                    master,
                })
            }
            StepCommand::Apply { .. } => continue,
        };
        wants.push(Want {
            vip: vip.name.clone(),
            interface: node.real_interface(&vip.interface).to_string(),
            vhid: vip.vhid.get(),
            present,
        });
    }
    Ok(wants)
}

/// The part of `carpctl status --json` the check reads.
#[derive(Deserialize)]
struct Status {
    vhids: Vec<SeenVhid>,
}

#[derive(Deserialize)]
struct SeenVhid {
    interface: String,
    vhid: u8,
    state: String,
    advbase: u8,
    advskew: u8,
}

/// Whether `status` (a node's `status --json`) shows every [`Want`]; else
/// what differs, one clause per vhid.
pub fn check(wants: &[Want], status: &[u8]) -> Result<(), String> {
    let status: Status = serde_json::from_slice(status)
        .map_err(|e| format!("its status --json cannot be read: {e}"))?;
    let mut wrong = Vec::new();
    for w in wants {
        let seen = status
            .vhids
            .iter()
            .find(|v| v.interface == w.interface && v.vhid == w.vhid);
        let what = format!("VIP {} (vhid {} on {})", w.vip, w.vhid, w.interface);
        match (&w.present, seen) {
            (None, Some(v)) => wrong.push(format!("{what} is still there ({})", v.state)),
            (Some(_), None) => wrong.push(format!("{what} is missing")),
            (Some(p), Some(v)) => {
                match p.advskew {
                    Some(skew) if (v.advbase, v.advskew) != (p.advbase, skew) => {
                        wrong.push(format!(
                            "{what} has advbase {} advskew {}, planned {} and {skew}",
                            v.advbase, v.advskew, p.advbase
                        ));
                    }
                    None if v.advbase != p.advbase => wrong.push(format!(
                        "{what} has advbase {}, planned {}",
                        v.advbase, p.advbase
                    )),
                    _ => {}
                }
                let want = p.master.map(|m| if m { "MASTER" } else { "BACKUP" });
                if let Some(want) = want.filter(|s| *s != v.state) {
                    wrong.push(format!("{what} is {}, planned {want}", v.state));
                }
            }
            (None, None) => {}
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

/// The argv of the check run on a node after its step.
pub fn status_argv() -> Vec<String> {
    ["carpctl", "status", "--json"].map(String::from).to_vec()
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
