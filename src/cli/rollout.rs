//! `carpctl rollout plan OLD NEW [--json]`: the steps that take a cluster
//! from one cluster file to another with no two masters and no VIP
//! changing hands more than once ([`crate::rollout`], carpctl(8)
//! ROLLOUTS). Needs no kernel: both files are read and their keys
//! compared, never shown.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::{CliError, GlobalOpts, cluster};
use crate::config::Config;
use crate::rollout::{self, Command, Plan, Step};

/// `carpctl rollout ...`.
#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Print the ordered steps, each a carpctl command to run on the node
    /// it names, from the OLD cluster file to the NEW one (needs no
    /// kernel)
    Plan(PlanArgs),
    /// Run that plan over OpenSSH: each step on its node (`ssh -- DEST
    /// carpctl ...`, DEST the node's `ssh` in the cluster file), then the
    /// plan's wait, then the node's `status --json` checked before the next
    /// step; stops at the first failure (exit 1). The files must already
    /// be on every node at the same absolute paths: nothing is copied
    Run(RunArgs),
}

/// Arguments of `carpctl rollout run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The cluster file every node runs now (absolute path, the same on
    /// every node)
    pub old: PathBuf,
    /// The cluster file to roll out (absolute path, the same on every
    /// node)
    pub new: PathBuf,
    /// The ssh(1) program to run, called as `PROGRAM -- DEST carpctl ARGS`
    #[arg(long, value_name = "PATH", default_value = "ssh")]
    pub ssh_command: PathBuf,
    /// Print each step's ssh command line and check, run nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds to wait after each step before checking its node (default:
    /// the plan's gap, three advertisement intervals and 2 s; shorter
    /// makes a check come before a takeover is over, and the run stop)
    #[arg(long, value_name = "SECONDS")]
    pub wait: Option<u32>,
    /// Start at step N (1 = the first): resume a run that stopped, after
    /// mending the cause, at the step it names
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub from: u32,
    /// Seconds one remote command (a step or a check) may take before it
    /// is killed and the run stops
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..))]
    pub timeout: u32,
}

/// Arguments of `carpctl rollout plan`.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// The cluster file every node runs now
    pub old: PathBuf,
    /// The cluster file to roll out
    pub new: PathBuf,
    /// Print the plan as JSON: {"steps": [...], "gap", "reduced"} (no
    /// password ever)
    #[arg(long)]
    pub json: bool,
}

/// `--json`: the plan with each step's command.
#[derive(Serialize)]
struct JsonPlan<'a> {
    old: String,
    new: String,
    steps: Vec<JsonStep<'a>>,
    gap: f64,
    reduced: &'a [rollout::Reduced],
}

#[derive(Serialize)]
struct JsonStep<'a> {
    #[serde(flatten)]
    step: &'a Step,
    command: String,
}

pub(crate) fn run(
    _global: &GlobalOpts,
    cmd: &RolloutCommand,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match cmd {
        RolloutCommand::Plan(args) => plan(args, out),
        RolloutCommand::Run(args) => super::rollout_run::run(args, out),
    }
}

/// Both files, loaded with their keys, and the plan between them.
pub(super) fn load_plan(
    old: &std::path::Path,
    new: &std::path::Path,
) -> Result<(Config, Config, Plan), CliError> {
    let mut o = cluster::load(old)?;
    cluster::read_keys(&mut o, |_| true)?;
    let mut n = cluster::load(new)?;
    cluster::read_keys(&mut n, |_| true)?;
    let p = rollout::plan(&o, &n)
        .map_err(|e| CliError::Usage(format!("cannot plan this rollout safely: {e}")))?;
    Ok((o, n, p))
}

fn plan(args: &PlanArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (_, _, p) = load_plan(&args.old, &args.new)?;
    let (o, n) = (
        args.old.display().to_string(),
        args.new.display().to_string(),
    );
    if args.json {
        let doc = JsonPlan {
            steps: p
                .steps
                .iter()
                .map(|s| JsonStep {
                    step: s,
                    command: s.command(&o, &n),
                })
                .collect(),
            old: o,
            new: n,
            gap: p.gap,
            reduced: &p.reduced,
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)?;
        return Ok(());
    }
    text(&p, &o, &n, out)
}

/// The plan for people: one line per step, then what it costs.
fn text(p: &Plan, old: &str, new: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let total = p.steps.last().map_or(0.0, |s| s.at + p.gap);
    writeln!(
        out,
        "rollout from {old} to {new}: {} steps, {} s apart, about {total} s",
        p.steps.len(),
        p.gap
    )?;
    writeln!(
        out,
        "run each on the node it names, after the one before has settled \
         (carpctl status --check):"
    )?;
    for (i, s) in p.steps.iter().enumerate() {
        writeln!(
            out,
            "{:>3}. at {:>5} s  on {}: {}",
            i + 1,
            s.at,
            s.node,
            s.command(old, new)
        )?;
        writeln!(out, "       {}", s.why)?;
        // A maintenance step hands over by preemption; an apply step's
        // move is the one takeover its new skews cause.
        let how = match s.command {
            Command::Maintenance { .. } => "hand-over by preemption",
            Command::Apply { .. } => "one takeover",
        };
        for m in &s.moves {
            writeln!(
                out,
                "       moves {} from {} to {} ({how})",
                m.vip, m.from, m.to
            )?;
        }
    }
    let moves: Vec<&str> = p
        .steps
        .iter()
        .flat_map(|s| &s.moves)
        .map(|m| m.vip.as_str())
        .collect();
    let vips: std::collections::BTreeSet<&str> = moves.iter().copied().collect();
    if moves.len() == vips.len() {
        writeln!(out, "VIPs that change hands: {} (each once)", vips.len())?;
    } else {
        // A VIP a leaving node's maintenance hands to another node than
        // the new file's master moves again (crate::rollout::leave).
        writeln!(
            out,
            "VIPs that change hands: {} ({} moves in all)",
            vips.len(),
            moves.len()
        )?;
    }
    for r in &p.reduced {
        writeln!(
            out,
            "redundancy reduced: {} is held by {} alone from {} s to {} s ({} s)",
            r.vip,
            r.node,
            r.from,
            r.until,
            r.until - r.from
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn the_text_counts_a_second_move_after_a_hand_over() {
        let parse = |nodes: &[&str], prefer: &str| {
            let mut src = String::new();
            for n in nodes {
                src.push_str(&format!("[[node]]\nname = \"{n}\"\n"));
            }
            src.push_str(&format!(
                "[[vip]]\nname = \"v1\"\nvhid = 1\ninterface = \"em0\"\n\
                 addresses = [\"192.0.2.1/32\"]\npassword = \"pw\"\nprefer = [{prefer}]\n"
            ));
            crate::config::parse(&src, Path::new("t.toml"), None).expect("valid")
        };
        // c leaves: its hand-over goes to a, the new file makes b master.
        let old = parse(&["a", "b", "c"], "\"c\", \"a\", \"b\"");
        let new = parse(&["a", "b"], "\"b\", \"a\"");
        let p = rollout::plan(&old, &new).unwrap();
        let mut out = Vec::new();
        text(&p, "o.toml", "n.toml", &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("moves v1 from c to a (hand-over by preemption)"),
            "{out}"
        );
        assert!(out.contains("moves v1 from a to b (one takeover)"), "{out}");
        assert!(
            out.ends_with("VIPs that change hands: 1 (2 moves in all)\n"),
            "{out}"
        );
    }
}
