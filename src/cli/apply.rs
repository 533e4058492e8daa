//! `carpctl apply [--dry-run] [--json] [--only VIP] [--remove VIP]`: make
//! this node's carp(4) match the cluster file.
//!
//! The whole file is validated first (every error at once; nothing touched;
//! exit 2). Then carp(4) is loaded if needed, `net.inet.carp.preempt` set,
//! each vhid of this node created or updated (read-modify-write), its
//! addresses attached, and addresses a managed vhid no longer lists
//! detached. vhids not in the file are never touched. A failed step undoes
//! the steps before it, in reverse order (exit 1).
//!
//! With `--only` and `--remove` ([`crate::apply::select`]) it acts on the
//! VIPs named alone, as the steps of a rollout plan do.
//!
//! Only the key files of this node's VIPs are read. Everything after
//! validation runs under the host lock ([`crate::hostlock`]), except with
//! `--dry-run`, which changes nothing.

use std::io::Write;

use clap::Args;
use serde::Serialize;

use super::{CliError, GlobalOpts, cluster};
use crate::apply::select::Selection;
use crate::apply::{self, ApplyError, KernelChange, PlanChangesError};
use crate::logging::error_chain;

/// Arguments of `carpctl apply`.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// Show the changes without making them
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Print one JSON document, also on failure: {"node", "dry_run",
    /// "changes", "error"} (see carpctl(8))
    #[arg(long)]
    pub json: bool,
    /// Act on this VIP only (repeatable): every other vhid and the
    /// preempt sysctl stay as they are (what rollout plans run)
    #[arg(long, value_name = "VIP")]
    pub only: Vec<String>,
    /// Take this VIP's vhid off this node (repeatable; nothing else is
    /// touched unless named with --only)
    #[arg(long, value_name = "VIP")]
    pub remove: Vec<String>,
}

impl ApplyArgs {
    /// The VIPs this apply acts on.
    fn selection(&self) -> Selection {
        Selection {
            only: self.only.clone(),
            remove: self.remove.clone(),
        }
    }
}

/// The `--json` document, on success and on failure alike.
#[derive(Serialize)]
struct Report<'a> {
    /// `None` when the failure came before the node was known.
    node: Option<&'a str>,
    dry_run: bool,
    /// The changes planned (empty when the failure came before the plan).
    changes: &'a [KernelChange],
    /// `None` on success.
    error: Option<ErrorReport<'a>>,
}

/// What went wrong, for `--json`.
#[derive(Serialize)]
struct ErrorReport<'a> {
    /// The message carpctl also prints on stderr.
    message: String,
    /// The exit status: 1 failure, 2 usage or configuration error.
    exit_status: u8,
    /// The change that failed, when a change failed.
    failed: Option<&'a KernelChange>,
    /// The changes undone, in the order they were undone.
    undone: &'a [KernelChange],
    /// The changes that could not be undone, with the reason.
    not_undone: Vec<NotUndone<'a>>,
    /// The changes kept on purpose (a loaded carp(4)).
    kept: &'a [KernelChange],
}

#[derive(Serialize)]
struct NotUndone<'a> {
    change: Option<&'a KernelChange>,
    /// The interface whose address order could not be restored.
    interface: Option<&'a str>,
    reason: &'a str,
}

/// How far an apply got before it failed: what `--json` reports.
#[derive(Default)]
struct Progress {
    node: Option<String>,
    changes: Vec<KernelChange>,
    rollback: Option<Box<ApplyError>>,
    /// Switchovers kept or ended ([`super::switchover::before_apply`]).
    notes: Vec<String>,
}

/// `carpctl apply`.
pub(crate) fn run(
    global: &GlobalOpts,
    args: &ApplyArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut progress = Progress::default();
    let result = apply(global, args, &mut progress);
    if args.json {
        let error = result.as_ref().err().map(|e| error_report(e, &progress));
        serde_json::to_writer_pretty(
            &mut *out,
            &Report {
                node: progress.node.as_deref(),
                dry_run: args.dry_run,
                changes: &progress.changes,
                error,
            },
        )?;
        writeln!(out)?;
        return result;
    }
    result?;
    let node = progress.node.as_deref().unwrap_or_default();
    let changes = &progress.changes;
    if changes.is_empty() {
        writeln!(out, "{node}: no changes")?;
    } else {
        let verb = if args.dry_run { "would" } else { "did" };
        writeln!(
            out,
            "{node}: {} change{} ({verb}):",
            changes.len(),
            if changes.len() == 1 { "" } else { "s" }
        )?;
        for c in changes {
            writeln!(out, "  {c}")?;
        }
    }
    for n in &progress.notes {
        writeln!(out, "{node}: {n}")?;
    }
    Ok(())
}

fn error_report<'a>(e: &CliError, progress: &'a Progress) -> ErrorReport<'a> {
    let rollback = progress.rollback.as_deref();
    let mut not_undone = Vec::new();
    if let Some(r) = rollback {
        not_undone.extend(r.not_undone.iter().map(|(c, why)| NotUndone {
            change: Some(c),
            interface: None,
            reason: why,
        }));
        not_undone.extend(r.order_not_restored.iter().map(|(i, why)| NotUndone {
            change: None,
            interface: Some(i),
            reason: why,
        }));
    }
    ErrorReport {
        message: error_chain(e),
        exit_status: e.exit_code(),
        failed: rollback.and_then(|r| r.failed.as_ref()),
        undone: rollback.map_or(&[], |r| &r.undone),
        not_undone,
        kept: rollback.map_or(&[], |r| &r.kept),
    }
}

/// Validate, plan and (unless `--dry-run`) apply, recording in `progress`
/// what `--json` reports.
fn apply(global: &GlobalOpts, args: &ApplyArgs, progress: &mut Progress) -> Result<(), CliError> {
    let mut cfg = cluster::load(&global.config_path())?;
    let node = cluster::node(global, &cfg)?;
    progress.node = Some(node.clone());
    let selection = args.selection();
    selection.check(&cfg, &node).map_err(CliError::Usage)?;
    // The keys of this node's VIPs, and no others: a broken key file of a
    // VIP this node does not carry is not its problem.
    cluster::read_keys(&mut cfg, |v| v.takes_part(&node))?;
    let mut kernel = global.open_kernel()?;
    if !args.dry_run {
        // Before any change: the ledger, applied last, must be usable.
        super::maintenance::check_state_dir(kernel.as_ref(), &cfg)?;
    }
    // One carpctl at a time changes the host; the current state is read
    // under the lock, so the changes are planned against what is there.
    let _lock = match args.dry_run {
        true => None,
        false => Some(super::lock_host(kernel.as_ref())?),
    };
    let planned = cluster::desired(kernel.as_mut(), &cfg, &node)?;
    let mut desired = planned.with_keys().map_err(CliError::Failed)?;
    let has_vrrp = desired.vips.iter().any(|d| d.vrrp.is_some());
    // A node in maintenance (or the boot hold) keeps its VRRP vhids at the
    // maintenance priority (apply::hold): apply must not raise them.
    if has_vrrp && super::maintenance::vrrp_held(kernel.as_mut(), &cfg) {
        apply::hold::hold(&mut desired);
    }
    let ending = super::switchover::before_apply(
        kernel.as_mut(),
        &cfg,
        &mut desired,
        &selection,
        &mut progress.notes,
    )?;
    progress.changes = match selection.plan(kernel.as_mut(), &mut desired) {
        Ok(c) => c,
        Err(PlanChangesError::Kernel(e)) => {
            return Err(CliError::kernel("cannot read the current state")(e));
        }
        Err(e @ (PlanChangesError::AddressInUse { .. } | PlanChangesError::Unsupported(_))) => {
            return Err(CliError::Usage(format!("{e}; nothing was changed")));
        }
    };
    if args.dry_run {
        return super::switchover::finish(ending, true, &mut progress.notes);
    }
    if let Err(e) = apply::execute(kernel.as_mut(), &desired, &progress.changes) {
        let mut msg = e.to_string();
        if e.failed == Some(KernelChange::LoadCarp) {
            msg.push_str(
                "\n  carp(4) could not be loaded: add carp_load=\"YES\" to /boot/loader.conf \
                 (or `device carp` to the kernel configuration) and reboot, or run `kldload carp`",
            );
        }
        progress.rollback = Some(e);
        return Err(CliError::Failed(msg));
    }
    super::switchover::finish(ending, false, &mut progress.notes)?;
    // At boot (rc.d), this applies a persistent maintenance again.
    super::maintenance::reconcile(kernel.as_mut(), &cfg)?;
    // ... and the VRRP priorities follow what the ledger now says.
    if has_vrrp {
        super::maintenance::sync_vrrp(kernel.as_mut(), &cfg, &node)?;
    }
    Ok(())
}
