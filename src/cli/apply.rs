//! `carpctl apply [--dry-run] [--json]`: make this node's carp(4) match the
//! cluster file.
//!
//! The whole file is validated first (every error at once; nothing touched;
//! exit 2). Then carp(4) is loaded if needed, `net.inet.carp.preempt` set,
//! each vhid of this node created or updated (read-modify-write), its
//! addresses attached, and addresses a managed vhid no longer lists
//! detached. vhids not in the file are never touched. A failed step undoes
//! the steps before it, in reverse order (exit 1).

use std::io::Write;

use clap::Args;
use serde::Serialize;

use super::{CliError, GlobalOpts, cluster};
use crate::apply::{self, Change, PlanError};

/// Arguments of `carpctl apply`.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// Show the changes without making them
    #[arg(long)]
    pub dry_run: bool,
    /// Print the changes as JSON: {"changes": [...]}
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    node: &'a str,
    dry_run: bool,
    changes: &'a [Change],
}

/// `carpctl apply`.
pub fn run(global: &GlobalOpts, args: &ApplyArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let cfg = cluster::load(&global.config_path())?;
    let node = cluster::node(global, &cfg)?;
    let mut kernel = global.open_kernel()?;
    let interfaces = kernel
        .interfaces()
        .map_err(CliError::kernel("cannot list the interfaces"))?;
    let desired = cluster::desired(&cfg, &node, &interfaces)?;
    let desired = crate::apply::Desired::from(&desired);
    let changes = match apply::plan_changes(kernel.as_mut(), &desired) {
        Ok(c) => c,
        Err(PlanError::Kernel(e)) => {
            return Err(CliError::kernel("cannot read the current state")(e));
        }
        Err(e @ PlanError::AddressInUse { .. }) => {
            return Err(CliError::Usage(format!("{e}; nothing was changed")));
        }
    };
    if !args.dry_run
        && let Err(e) = apply::execute(kernel.as_mut(), &desired, &changes)
    {
        let mut msg = e.to_string();
        if e.failed == Some(Change::LoadCarp) {
            msg.push_str(
                "\n  carp(4) could not be loaded: add carp_load=\"YES\" to /boot/loader.conf \
                 (or `device carp` to the kernel configuration) and reboot, or run `kldload carp`",
            );
        }
        return Err(CliError::Failed(msg));
    }
    if !args.dry_run {
        // At boot (rc.d), this applies a persistent maintenance again.
        super::maintenance::reconcile(kernel.as_mut(), &cfg)?;
    }
    if args.json {
        serde_json::to_writer_pretty(
            &mut *out,
            &Report {
                node: &node,
                dry_run: args.dry_run,
                changes: &changes,
            },
        )?;
        writeln!(out)?;
    } else if changes.is_empty() {
        writeln!(out, "{node}: no changes")?;
    } else {
        let verb = if args.dry_run { "would" } else { "did" };
        writeln!(
            out,
            "{node}: {} change{} ({verb}):",
            changes.len(),
            if changes.len() == 1 { "" } else { "s" }
        )?;
        for c in &changes {
            writeln!(out, "  {c}")?;
        }
    }
    Ok(())
}
