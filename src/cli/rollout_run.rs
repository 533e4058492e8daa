//! `carpctl rollout run OLD NEW`: the plan of `rollout plan`, run step by
//! step over OpenSSH with each step's node checked before the next
//! ([`crate::rollout::run`], carpctl(8) ROLLOUTS).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::CliError;
use super::rollout::{RunArgs, load_plan};
use crate::config::Config;
use crate::rollout::run::{self, Transport, Want};
use crate::rollout::{Plan, Step};

/// One step, ready to run: where, and what its node must show after.
struct Ready<'a> {
    step: &'a Step,
    dest: String,
    argv: Vec<String>,
    wants: Vec<Want>,
}

pub(super) fn run(args: &RunArgs, out: &mut dyn Write) -> Result<(), CliError> {
    for p in [&args.old, &args.new] {
        if !p.is_absolute() {
            return Err(CliError::Usage(format!(
                "rollout run: {} is not an absolute path; the steps name the file by the path \
                 given here, on every node, so give the absolute path it has there",
                p.display()
            )));
        }
    }
    let (old, new, plan) = load_plan(&args.old, &args.new)?;
    let steps = prepare(args, &old, &new, &plan)?;
    let transport = Transport {
        program: args.ssh_command.clone(),
        timeout: Duration::from_secs(args.timeout.into()),
    };
    let wait = args.wait.map_or(Duration::from_secs_f64(plan.gap), |s| {
        Duration::from_secs(s.into())
    });
    let total = steps.len();
    let first = usize::try_from(args.from).unwrap_or(usize::MAX);
    writeln!(
        out,
        "rollout run from {} to {}: steps {first} to {total}, each followed by a {} s wait and \
         a check of its node{}",
        args.old.display(),
        args.new.display(),
        wait.as_secs_f64(),
        if args.dry_run {
            " (dry run: nothing is run)"
        } else {
            ""
        }
    )?;
    for (i, r) in steps.iter().enumerate().skip(first - 1) {
        let n = i + 1;
        writeln!(out, "step {n}/{total} on {}: {}", r.step.node, r.step.why)?;
        writeln!(out, "  run:   {}", transport.shown(&r.dest, &r.argv))?;
        if args.dry_run {
            let check = transport.shown(&r.dest, &run::status_argv());
            writeln!(out, "  check: {check}")?;
            continue;
        }
        out.flush()?;
        let stop = |what: String| stopped(args, n, total, &r.step.node, what);
        let printed = transport
            .run(&r.dest, &r.argv)
            .map_err(|e| stop(format!("the step failed: {e}")))?;
        for line in String::from_utf8_lossy(&printed).lines() {
            writeln!(out, "    {}", crate::text::escape(line))?;
        }
        std::thread::sleep(wait);
        let status = transport
            .run(&r.dest, &run::status_argv())
            .map_err(|e| stop(format!("its status --json failed: {e}")))?;
        run::check(&r.wants, &status)
            .map_err(|saw| stop(format!("after the step it shows: {saw}")))?;
        writeln!(out, "  checked: {} shows what the plan says", r.step.node)?;
    }
    if !args.dry_run {
        writeln!(out, "rollout done: every node runs {}", args.new.display())?;
    }
    Ok(())
}

/// Every step with its destination and expectation, before anything
/// runs: a node without `ssh`, or a `--from` past the end, is a usage
/// error (exit 2) with nothing run.
fn prepare<'a>(
    args: &RunArgs,
    old: &Config,
    new: &Config,
    plan: &'a Plan,
) -> Result<Vec<Ready<'a>>, CliError> {
    let (o, n) = (path(&args.old), path(&args.new));
    let mut missing: Vec<&str> = Vec::new();
    let mut steps = Vec::new();
    for step in &plan.steps {
        // NEW's destination first; OLD's for a node NEW removes.
        let dest = [new, old]
            .iter()
            .find_map(|c| c.node(&step.node).and_then(|nd| nd.ssh.clone()));
        let Some(dest) = dest else {
            if !missing.contains(&step.node.as_str()) {
                missing.push(&step.node);
            }
            continue;
        };
        let wants = run::expect(step, old, new)
            .map_err(|e| CliError::Usage(format!("rollout run: step on {}: {e}", step.node)))?;
        steps.push(Ready {
            step,
            argv: step.argv(&o, &n),
            dest,
            wants,
        });
    }
    if !missing.is_empty() {
        return Err(CliError::Usage(format!(
            "rollout run: node(s) {} have no `ssh` destination in either cluster file; add \
             ssh = \"user@host\" to their [[node]] (carpctl.toml(5)); nothing was run",
            missing.join(", ")
        )));
    }
    if usize::try_from(args.from).map_or(true, |f| f > steps.len()) {
        return Err(CliError::Usage(format!(
            "rollout run: --from {}: the plan has {} steps; nothing was run",
            args.from,
            steps.len()
        )));
    }
    Ok(steps)
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// The error that ends a run at step `n`: which step, which node, what
/// was seen, and how to go on from the state left (carpctl(8) ROLLOUTS).
fn stopped(args: &RunArgs, n: usize, total: usize, node: &str, what: String) -> CliError {
    let (o, n_) = (args.old.display(), args.new.display());
    CliError::Failed(format!(
        "rollout stopped at step {n} of {total}, on node {node}: {what}. Steps before {n} are \
         done and stay done; step {n} either ran or, if its apply failed, was rolled back by \
         it; steps after {n} did not run. Look at the node (carpctl status), mend the cause, \
         then resume with: carpctl rollout run {o} {n_} --from {n} (re-running a step that \
         already ran changes nothing); to go back instead, see carpctl(8) ROLLOUTS"
    ))
}
