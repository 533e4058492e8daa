//! `carpctl daemon [--devd-socket PATH]`: run the hooks of the cluster file
//! in the foreground, following devd's CARP events (see [`crate::daemon`]).
//!
//! rc.d/carpctld runs it under daemon(8), which keeps the pidfile and
//! restarts it if it dies; `service carpctld reload` sends SIGHUP, which
//! re-reads the cluster file (an invalid one is refused, with every error
//! logged, and the running configuration kept).
//!
//! Exit status: 0 after SIGTERM or SIGINT; 2 when the cluster file is
//! invalid, no kernel can be opened at start, or `--devd-socket` names
//! something that can never be devd's socket; 1 when the event loop cannot
//! start.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::{CliError, GlobalOpts, cluster, open_kernel};
use crate::daemon::{self, DaemonError, DaemonOptions, KernelOpener, Settings};
use crate::events::devd::DEFAULT_SOCKET;
use crate::logging::error_chain;

/// Arguments of `carpctl daemon`.
#[derive(Debug, Clone, Args)]
pub struct DaemonArgs {
    /// devd's SOCK_SEQPACKET socket
    #[arg(long, value_name = "PATH", default_value = DEFAULT_SOCKET)]
    pub(crate) devd_socket: PathBuf,
}

/// `carpctl daemon`.
pub(crate) fn run(
    global: &GlobalOpts,
    args: &DaemonArgs,
    _out: &mut dyn Write,
) -> Result<(), CliError> {
    let config_path = global.config_path();
    let cfg = cluster::load(&config_path)?;
    let node = cluster::node(global, &cfg)?;
    check_textfile_dir(&cfg)?;
    let spec = global.kernel_spec()?;
    let kernel = open_kernel(&spec)?;
    let opener: KernelOpener = Arc::new(move || open_kernel(&spec).map_err(|e| error_chain(&e)));
    let opts = DaemonOptions {
        config_path,
        node: global.node().map(str::to_string),
        devd_socket: args.devd_socket.clone(),
        open_kernel: opener,
    };
    daemon::run(opts, Settings::new(cfg, node), kernel).map_err(|e| match e {
        // A --devd-socket that can never work is a usage error (exit 2).
        DaemonError::Devd(_) => CliError::Usage(error_chain(&e)),
        e => CliError::Failed(error_chain(&e)),
    })
}

/// Refuse at start (exit 2) a metrics textfile directory that group or
/// others can write in, rather than log an error every 5 seconds; a
/// sticky one is used with a warning ([`crate::daemon::metrics::write_textfile`]).
/// A directory that does not exist yet is left to the metrics task.
fn check_textfile_dir(cfg: &crate::config::Config) -> Result<(), CliError> {
    let Some(dir) = cfg
        .metrics
        .textfile
        .as_deref()
        .and_then(std::path::Path::parent)
    else {
        return Ok(());
    };
    if !dir.is_dir() {
        return Ok(());
    }
    let warning = crate::fsutil::check_dir(dir, crate::fsutil::DirRule::StickyWarn)
        .map_err(|e| CliError::Usage(format!("[metrics] textfile: {e}")))?;
    if let Some(w) = warning {
        tracing::warn!("[metrics] textfile: {w}");
    }
    Ok(())
}
