//! `carpctl switchover VIP [--to NODE] [--keep] [--wait SECS] [--back]
//! [--dry-run]`: move one VIP to another node with no request lost
//! ([`crate::switchover`]), run on the nodes of the VIP.
//!
//! Each node does its own step: a node ahead of the target raises the
//! vhid's advskew (recorded in `state_dir` first); the current master does
//! so last and waits, at most `--wait` seconds, until the vhid leaves
//! MASTER here, or restores its planned skew and exits 1. The target and
//! the nodes behind it have nothing to do. Every run prints the order in
//! which the nodes must run it. `--back` ends a switchover on the nodes
//! that raised, the lowest planned skew first.
//!
//! The current master is read from this node's kernel: this node when its
//! vhid is MASTER, otherwise the VIP's planned master (a switchover is for
//! a healthy cluster).
//!
//! Exit status: 0 done (also when this node had nothing to do); 1 the
//! kernel, the record, or the target failed (the planned skew restored);
//! 2 usage or configuration error (nothing changed).

use std::io::Write;
use std::time::Duration;

use clap::Args;

use super::{CliError, GlobalOpts, cluster};
use crate::logging::error_chain;
use crate::model::CarpState;
use crate::switchover::node::{self, Done, Here, NodeError};
use crate::switchover::record::{RecordError, Records};
use crate::switchover::{Switchover, back_lines, check, order_lines, procedure};

/// Arguments of `carpctl switchover`.
#[derive(Debug, Clone, Args)]
pub struct SwitchoverArgs {
    /// The VIP to move (its name in the cluster file)
    #[arg(value_name = "VIP")]
    pub vip: String,
    /// The node to move it to (default: the next rank after the current
    /// master)
    #[arg(long, value_name = "NODE", conflicts_with = "back")]
    pub to: Option<String>,
    /// Keep the move across `carpctl apply` and reboots until --back
    /// (default: it ends with --back, the next apply, or a reboot)
    #[arg(long, conflicts_with = "back")]
    pub keep: bool,
    /// On the current master: how long to wait for the target to take
    /// over before restoring the planned advskew
    #[arg(long, value_name = "SECONDS", default_value_t = crate::maintenance::DEFAULT_WAIT.as_secs_f64(),
          value_parser = super::maintenance::parse_wait)]
    pub wait: f64,
    /// End a switchover: restore the planned advskew on this node (run it
    /// on the nodes that raised, the lowest planned advskew first)
    #[arg(long)]
    pub back: bool,
    /// Print the steps only; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// `carpctl switchover`.
pub(crate) fn run(
    global: &GlobalOpts,
    args: &SwitchoverArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let cfg = cluster::load(&global.config_path())?;
    let node = cluster::node(global, &cfg)?;
    let plan = cfg.plan().map_err(|e| CliError::Usage(e.to_string()))?;
    let usage = |e: crate::switchover::SwitchoverError| {
        CliError::Usage(format!("switchover {}: {e}; nothing was changed", args.vip))
    };
    let v = check(&plan, cfg.cluster.preempt, &args.vip, args.to.as_deref()).map_err(usage)?;
    if v.rank_of(&node).is_none() {
        return Err(CliError::Usage(format!(
            "switchover {}: this node ({node}) takes no part in VIP \"{}\" (its order: {}); \
             run it on one of those nodes",
            args.vip,
            args.vip,
            v.order.join(", ")
        )));
    }
    let mut kernel = global.open_kernel()?;
    let _lock = match args.dry_run {
        true => None,
        false => Some(super::lock_host(kernel.as_ref())?),
    };
    let desired = cluster::desired(kernel.as_mut(), &cfg, &node)?;
    let Some(d) = desired.vips.iter().find(|d| d.name == args.vip) else {
        return Err(CliError::Failed(format!(
            "switchover {}: this node's VIP is not resolved",
            args.vip
        )));
    };
    let here = Here {
        node: &node,
        interface: &d.interface,
        vhid: d.vhid,
    };
    let cur = kernel
        .vhid(d.interface.as_str(), d.vhid)
        .map_err(CliError::kernel(format!(
            "cannot read vhid {}",
            here.vhid_ref()
        )))?
        .ok_or_else(|| {
            CliError::Failed(NodeError::Missing(here.vhid_ref().to_string()).to_string())
        })?;
    let records = Records::for_host(kernel.as_ref(), &cfg.cluster.state_dir);
    let current = records.current(kernel.as_mut()).map_err(record_err)?;
    let recorded = current.of(d.vhid, d.interface.as_str()).cloned();
    if args.back {
        let sw = recorded.as_ref().and_then(|r| {
            procedure(
                &plan,
                cfg.cluster.preempt,
                &args.vip,
                &v.order[0],
                Some(&r.target),
            )
            .ok()
        });
        return back(
            kernel.as_mut(),
            &records,
            &here,
            sw.as_ref(),
            d.advskew,
            args,
            out,
        );
    }
    if let Some(r) = recorded.as_ref().filter(|r| {
        cur.state != CarpState::Master
            && cur.advskew == r.advskew
            && args.to.as_ref().is_none_or(|t| *t == r.target)
    }) {
        writeln!(
            out,
            "{node}: the switchover of {} to {} is done here already (vhid {} advskew {}); \
             end it with `carpctl switchover {} --back`",
            args.vip,
            r.target,
            here.vhid_ref(),
            r.advskew.get(),
            args.vip
        )?;
        return Ok(());
    }
    let master = if cur.state == CarpState::Master {
        node.clone()
    } else if v.order[0] == node {
        return Err(CliError::Failed(format!(
            "switchover {}: this node ({node}) ranks first for {} but vhid {} is {}, not \
             MASTER (demoted, in maintenance, or just booted?); run switchover on the node \
             that is MASTER of it",
            args.vip,
            args.vip,
            here.vhid_ref(),
            cur.state
        )));
    } else {
        v.order[0].clone()
    };
    let sw = procedure(
        &plan,
        cfg.cluster.preempt,
        &args.vip,
        &master,
        args.to.as_deref(),
    )
    .map_err(usage)?;
    print_plan(&sw, &node, &master, out)?;
    if args.dry_run {
        return Ok(());
    }
    let wait = Duration::from_secs_f64(args.wait);
    let done = node::step(
        kernel.as_mut(),
        &records,
        &sw,
        &here,
        args.keep,
        wait,
        &mut std::thread::sleep,
    )
    .map_err(node_err)?;
    report(&sw, &here, args, done, out)
}

/// `--back` on this node: print the order (from the record's switchover
/// `sw`, when there is one), restore the planned skew, remove the record,
/// and, on the first node of the order, wait until it is MASTER again.
fn back(
    kernel: &mut dyn crate::kernel::Kernel,
    records: &Records,
    here: &Here<'_>,
    sw: Option<&Switchover>,
    planned: crate::model::AdvSkew,
    args: &SwitchoverArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let node = here.node;
    if let Some(sw) = sw {
        writeln!(
            out,
            "switchover {} back from {}: run --back on",
            args.vip, sw.target
        )?;
        for l in back_lines(sw) {
            writeln!(out, "  {l}")?;
        }
    }
    if args.dry_run {
        return Ok(());
    }
    let (rec, was) = node::back(kernel, records, here, planned).map_err(node_err)?;
    if rec.is_none() && was.is_none() {
        writeln!(
            out,
            "{node}: no switchover of {} is recorded here and vhid {} has its planned \
             advskew {}; nothing changed",
            args.vip,
            here.vhid_ref(),
            planned.get()
        )?;
        return Ok(());
    }
    match was {
        Some(w) => writeln!(
            out,
            "{node}: vhid {} advskew {w} -> {} (planned); the switchover ended here",
            here.vhid_ref(),
            planned.get()
        )?,
        None => writeln!(
            out,
            "{node}: vhid {} already has its planned advskew {}; the record is removed and \
             the switchover ended here",
            here.vhid_ref(),
            planned.get()
        )?,
    }
    // The first of the order takes the VIP back: the others must not
    // go back before it has (they would preempt the target with it).
    let first = sw.and_then(|sw| sw.back_order().first().cloned());
    if was.is_some() && first.is_some_and(|r| r.node == node) {
        back_wait(kernel, here, args, out)?;
    }
    Ok(())
}

/// `--back` on the first node of the order: wait (bounded) until it is
/// MASTER again, so that the others can go back.
fn back_wait(
    kernel: &mut dyn crate::kernel::Kernel,
    here: &Here<'_>,
    args: &SwitchoverArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let wait = Duration::from_secs_f64(args.wait);
    match node::wait_master(kernel, here, wait, &mut std::thread::sleep).map_err(node_err)? {
        Some(after) => {
            writeln!(
                out,
                "{}: vhid {} is MASTER again after {:.2} s; now run --back on the others",
                here.node,
                here.vhid_ref(),
                after.as_secs_f64()
            )?;
            Ok(())
        }
        None => Err(CliError::Failed(format!(
            "switchover {} --back: vhid {} is not MASTER here after {:.1} s; the planned \
             advskew is in force, but run --back on the others only once it is MASTER (is \
             this node demoted?)",
            args.vip,
            here.vhid_ref(),
            wait.as_secs_f64()
        ))),
    }
}

/// The switchover and the order of the nodes.
fn print_plan(
    sw: &Switchover,
    node: &str,
    master: &str,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let assumed = if master == node {
        String::new()
    } else {
        " (its planned master, assumed MASTER: this node is BACKUP)".to_string()
    };
    writeln!(
        out,
        "switchover {} from {master}{assumed} to {}: the nodes ahead of {} raise their \
         advskew above its own; run the command on each, in this order:",
        sw.vip, sw.target, sw.target,
    )?;
    for (l, r) in order_lines(sw).iter().zip(&sw.raise) {
        let me = if r.node == node {
            "   <- this node"
        } else {
            ""
        };
        writeln!(out, "  {l}{me}")?;
    }
    Ok(())
}

/// What this node did.
fn report(
    sw: &Switchover,
    here: &Here<'_>,
    args: &SwitchoverArgs,
    done: Done,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let node = here.node;
    let raised = sw.raise_of(node).map_or(0, |r| r.to.get());
    let how = if args.keep {
        "kept (--keep) until `--back`"
    } else {
        "temporary: it ends with `--back`, the next `carpctl apply`, or a reboot"
    };
    match done {
        Done::Nothing => writeln!(
            out,
            "{node}: nothing to do here ({}); run it on the nodes above",
            if node == sw.target {
                "this node is the target"
            } else {
                "this node ranks behind the target"
            }
        )?,
        Done::Raised { from } => writeln!(
            out,
            "{node}: vhid {} advskew {from} -> {} (a backup: nothing moves); {how}",
            here.vhid_ref(),
            raised
        )?,
        Done::Moved { from, after } => writeln!(
            out,
            "{node}: vhid {} advskew {from} -> {}; it left MASTER after {:.2} s: {} took VIP \
             {} over; {how}",
            here.vhid_ref(),
            raised,
            after.as_secs_f64(),
            sw.target,
            sw.vip
        )?,
    }
    Ok(())
}

fn record_err(e: RecordError) -> CliError {
    match e {
        RecordError::Fs(e) => e.into(),
        other => CliError::Failed(error_chain(&other)),
    }
}

fn node_err(e: NodeError) -> CliError {
    match e {
        NodeError::Record(r) => record_err(r),
        other => CliError::Failed(error_chain(&other)),
    }
}

/// The switchover records `apply` acts on: those it ends, once its
/// changes are made.
pub(crate) struct Ending {
    records: Records,
    end: Vec<crate::switchover::record::Record>,
}

/// Before `apply` plans its changes: a kept switchover's skew replaces the
/// planned one in `desired` (and a line says so); a temporary one, or one
/// a reboot ended, is left to the planned skew and ended by [`finish`].
/// Only the VIPs `selection` acts on.
pub(crate) fn before_apply<K>(
    kernel: &mut dyn crate::kernel::Kernel,
    cfg: &crate::config::Config,
    desired: &mut crate::config::Desired<K>,
    selection: &crate::apply::select::Selection,
    notes: &mut Vec<String>,
) -> Result<Ending, CliError> {
    let records = Records::for_host(kernel, &cfg.cluster.state_dir);
    let current = records.current(kernel).map_err(record_err)?;
    let touched = |vip: &str| {
        !selection.is_partial()
            || selection
                .only
                .iter()
                .chain(&selection.remove)
                .any(|n| n == vip)
    };
    let mut end = current.stale;
    for r in current.live {
        if !touched(&r.vip) {
            continue;
        }
        match r.find_in(desired) {
            Some(d) if r.keep && !selection.remove.contains(&r.vip) => {
                notes.push(format!(
                    "switchover of {} to {} kept (--keep): vhid {} gets advskew {} instead of \
                     the planned {} (`carpctl switchover {} --back` ends it)",
                    r.vip,
                    r.target,
                    r.vhid_ref(),
                    r.advskew.get(),
                    d.advskew.get(),
                    r.vip
                ));
                d.advskew = r.advskew;
            }
            _ => end.push(r),
        }
    }
    Ok(Ending { records, end })
}

/// After `apply` made its changes: the switchovers it ended are removed
/// from the record, each with a line saying so (`dry_run`: what would
/// end, nothing removed).
pub(crate) fn finish(e: Ending, dry_run: bool, notes: &mut Vec<String>) -> Result<(), CliError> {
    if e.end.is_empty() {
        return Ok(());
    }
    let which: Vec<(crate::model::Vhid, &str)> = e
        .end
        .iter()
        .map(|r| (r.vhid, r.interface.as_str()))
        .collect();
    if !dry_run {
        e.records.remove(&which).map_err(record_err)?;
    }
    for r in &e.end {
        let verb = if dry_run { "would end" } else { "ended" };
        let msg = format!(
            "switchover of {} to {} {verb}: vhid {} has its planned advskew {} again",
            r.vip,
            r.target,
            r.vhid_ref(),
            r.planned.get()
        );
        tracing::info!("{msg}");
        notes.push(msg);
    }
    Ok(())
}

/// For `status`: each recorded switchover in force, by VIP name; its
/// vhid's advskew and state in `desired` become the switchover's (a raised
/// skew, BACKUP), so that `status --check` does not call them drift.
pub(crate) fn for_status<K>(
    kernel: &mut dyn crate::kernel::Kernel,
    cfg: &crate::config::Config,
    desired: &mut crate::config::Desired<K>,
) -> Result<Vec<(String, crate::status::SwitchoverNote)>, CliError> {
    let records = Records::for_host(kernel, &cfg.cluster.state_dir);
    let current = records.current(kernel).map_err(record_err)?;
    let mut out = Vec::new();
    for r in current.live {
        let Some(d) = r.find_in(desired) else {
            continue;
        };
        d.advskew = r.advskew;
        d.state = CarpState::Backup;
        out.push((
            r.vip.clone(),
            crate::status::SwitchoverNote {
                target: r.target.clone(),
                advskew: r.advskew.get(),
                planned: r.planned.get(),
                keep: r.keep,
            },
        ));
    }
    Ok(out)
}
