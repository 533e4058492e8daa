//! `carpctl hook VHID@INTERFACE TYPE`: run one transition's hook, as devd
//! calls it from `rc.d/carpctl-devd.conf` (`$subsystem $type`).
//!
//! The same semantics as the daemon's hooks ([`crate::hooks`]), one
//! invocation per event: invocations are serialized by an exclusive
//! flock(2) on `<state dir>/.lock`, held while the hook runs (a later one
//! waits up to [`crate::hooks::LOCK_WAIT`]), and the last
//! state of each vhid is kept in `<state dir>/<vhid>@<interface>` so that
//! `CARP_PREVIOUS_STATE` is set here too. The state is recorded before the
//! cluster file is read, so that it stays right even while the file is
//! broken.
//!
//! Exit status: 0 when the hook succeeded or there was none to run (a vhid
//! not in the cluster file, or no hook for that state); 1 when it failed,
//! timed out or could not start; 2 for bad arguments, an invalid cluster
//! file or a state directory that others can write in (see
//! [`crate::hooks::StateDir`]).

use std::io::Write;
use std::path::PathBuf;
use std::time::SystemTime;

use clap::Args;

use super::{CliError, GlobalOpts, cluster};
use crate::events::devd::{parse_subsystem, parse_type};
use crate::events::{CarpEvent, Source, Transition};
use crate::hooks::{self, DEFAULT_HOOK_DIR, HookStats, HookTable, STATE_DIR_ENV, StateDir};
use crate::model::CarpState;

/// Arguments of `carpctl hook`.
#[derive(Debug, Clone, Args)]
pub struct HookArgs {
    /// The vhid and its interface, as devd's `$subsystem`: VHID@INTERFACE
    /// (`1@em0`, `5@vlan0.100`)
    #[arg(value_name = "VHID@INTERFACE")]
    pub subsystem: String,
    /// The new state, as devd's `$type`: MASTER, BACKUP or INIT
    #[arg(value_name = "TYPE")]
    pub state: String,
    /// Where the last state of each vhid and the lock file are kept; it
    /// must be owned by root (or the caller) and not writable by group or
    /// others
    #[arg(long, env = STATE_DIR_ENV, value_name = "DIR", default_value = DEFAULT_HOOK_DIR)]
    pub state_dir: PathBuf,
}

/// `carpctl hook`.
pub(crate) fn run(
    global: &GlobalOpts,
    args: &HookArgs,
    _out: &mut dyn Write,
) -> Result<(), CliError> {
    let (vhid, interface) =
        parse_subsystem(&args.subsystem).map_err(|e| CliError::Usage(e.to_string()))?;
    // devd passes the kernel's capitals; a person typing `master` means it.
    let state: CarpState =
        parse_type(&args.state.to_ascii_uppercase()).map_err(|e| CliError::Usage(e.to_string()))?;
    let event = CarpEvent {
        vhid,
        interface: interface.into(),
        state,
    };

    let dir = StateDir::new(&args.state_dir);
    // An untrusted directory is a configuration error (exit 2): root must
    // not write where others can plant links.
    let not_run = |e: crate::fsutil::FsError| {
        let msg = format!("{e}; the hook was not run");
        if e.is_untrusted() {
            CliError::Usage(msg)
        } else {
            CliError::Failed(msg)
        }
    };
    dir.ensure().map_err(not_run)?;
    // Held until this function returns, i.e. while the hook runs.
    let _lock = dir.lock().map_err(not_run)?;
    let previous = dir.read(&event.interface, event.vhid);
    if let Err(e) = dir.write(&event.interface, event.vhid, event.state) {
        // The hook matters more than the bookkeeping: run it anyway.
        tracing::warn!(
            "{e}: the next hook of {} will not know its previous state",
            event.subsystem()
        );
    }

    let cfg = cluster::load(&global.config_path())?;
    let node = cluster::node(global, &cfg)?;
    let table = HookTable::new(&cfg, &node);
    let from = previous.map_or("?", CarpState::as_str);
    let Some(vip) = table.get(&event.interface, event.vhid) else {
        tracing::info!(
            "{}: {from} -> {}: not in the cluster file, no hook",
            event.subsystem(),
            event.state
        );
        return Ok(());
    };
    tracing::info!(
        "{} ({}): {from} -> {}",
        event.subsystem(),
        vip.name,
        event.state
    );
    let label = hooks::label(&event, vip);
    let t = Transition {
        event,
        previous,
        source: Source::Devd,
        time: SystemTime::now(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the hook runner: {e}")))?;
    let report = rt.block_on(hooks::run_for(&t, vip, table.timeout, &HookStats::new()));
    let failed = |what: String| Err(CliError::Failed(format!("{label}: {what}")));
    match report.map(|r| r.outcome) {
        None => {
            tracing::info!("{label}: no hook configured");
            Ok(())
        }
        Some(hooks::Outcome::Succeeded) => Ok(()),
        Some(hooks::Outcome::Failed(status)) => failed(hooks::describe_status(&status)),
        Some(hooks::Outcome::TimedOut) => failed(format!(
            "killed at its timeout of {} s",
            table.timeout.as_secs()
        )),
        Some(hooks::Outcome::SpawnFailed(e)) => failed(format!("cannot run the hook: {e}")),
    }
}
