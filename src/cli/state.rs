//! `carpctl state VIP master|backup [--force] [--json]`: force this node's
//! vhid of a VIP into MASTER or BACKUP, as `ifconfig IF vhid N state
//! master|backup` does ([`crate::apply::force`]). It lasts only until the
//! election rules say otherwise (carpctl(8)).

use std::io::Write;

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{CliError, GlobalOpts, cluster};
use crate::apply::force::{ForceError, force_state};
use crate::model::{CarpState, IfName, Vhid};

/// The state asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Wanted {
    Master,
    Backup,
}

/// Arguments of `carpctl state`.
#[derive(Debug, Clone, Args)]
pub struct StateArgs {
    /// The VIP's name in the cluster file
    pub vip: String,
    /// The state to force this node's vhid into
    pub state: Wanted,
    /// Force MASTER although this node is in maintenance
    #[arg(long)]
    pub(crate) force: bool,
    /// Print one JSON document: {"node", "vip", "interface", "vhid",
    /// "from", "to"}
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    node: &'a str,
    vip: &'a str,
    interface: &'a IfName,
    vhid: Vhid,
    from: CarpState,
    to: CarpState,
}

/// `carpctl state`.
pub(crate) fn run(
    global: &GlobalOpts,
    args: &StateArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let cfg = cluster::load(&global.config_path())?;
    let node = cluster::node(global, &cfg)?;
    let Some(vip) = cfg.vips.iter().find(|v| v.name == args.vip) else {
        let known: Vec<&str> = cfg.vips.iter().map(|v| v.name.as_str()).collect();
        return Err(CliError::Usage(format!(
            "vip \"{}\" is not in {}; its VIPs: {}",
            args.vip,
            cfg.path.display(),
            known.join(", ")
        )));
    };
    if !vip.takes_part(&node) {
        return Err(CliError::Usage(format!(
            "vip \"{}\" is not carried by node {node}: nothing to force here",
            vip.name
        )));
    }
    let mut kernel = global.open_kernel()?;
    let _lock = super::lock_host(kernel.as_ref())?;
    let state = match args.state {
        Wanted::Master => CarpState::Master,
        Wanted::Backup => CarpState::Backup,
    };
    if state == CarpState::Master && !args.force && in_maintenance(kernel.as_mut(), &cfg)? {
        return Err(CliError::Usage(format!(
            "node {node} is in maintenance: forcing vip \"{}\" to MASTER here would take it \
             back; run `carpctl maintenance off` first, or pass --force",
            vip.name
        )));
    }
    let desired = cluster::desired(kernel.as_mut(), &cfg, &node)?;
    let d = desired
        .vips
        .iter()
        .find(|d| d.name == vip.name)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "vip \"{}\" is not planned on node {node}",
                vip.name
            ))
        })?;
    let (from, to) = match force_state(kernel.as_mut(), d, state) {
        Ok(x) => x,
        Err(ForceError::Kernel(e)) => return Err(CliError::kernel("cannot set the state")(e)),
        Err(e) => return Err(CliError::Failed(e.to_string())),
    };
    tracing::info!(
        "vip {} vhid {}@{}: {from} -> {to} (forced)",
        d.name,
        d.vhid,
        d.interface
    );
    if args.json {
        let r = Report {
            node: &node,
            vip: &d.name,
            interface: &d.interface,
            vhid: d.vhid,
            from,
            to,
        };
        serde_json::to_writer_pretty(&mut *out, &r)?;
        writeln!(out)?;
    } else if from == to {
        writeln!(
            out,
            "vip {} (vhid {}@{}) is already {to}; nothing changed",
            d.name, d.vhid, d.interface
        )?;
    } else {
        writeln!(
            out,
            "vip {} (vhid {}@{}): {from} -> {to}; this lasts until the election rules say \
             otherwise (see carpctl(8), state)",
            d.name, d.vhid, d.interface
        )?;
    }
    if to != state {
        return Err(CliError::Failed(format!(
            "the kernel left vhid {}@{} {to}, not {state}",
            d.vhid, d.interface
        )));
    }
    Ok(())
}

/// Whether the ledger has this node's maintenance live.
fn in_maintenance(
    kernel: &mut dyn crate::kernel::Kernel,
    cfg: &crate::config::Config,
) -> Result<bool, CliError> {
    let split = crate::ledger::Ledger::for_host(kernel, cfg)
        .split(kernel)
        .map_err(|e| CliError::Failed(format!("cannot read the demotion ledger: {e}")))?;
    Ok(split
        .shares
        .contains_key(&crate::ledger::Cause::Maintenance))
}
