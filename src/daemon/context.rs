//! What the daemon and the extensions it starts share: the running
//! configuration ([`Settings`]), a way to open the daemon's kernel
//! ([`KernelOpener`]), the daemon's counters ([`DaemonStats`]) and the
//! handle it passes to its extensions ([`ExtensionContext`]). The health
//! checks and the metrics depend on this module, never on the daemon's run
//! loop ([`super`]).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::SystemTime;

use tokio::sync::watch;

use crate::config::{self, Config, Diagnostic};
use crate::events::client::ClientCounters;
use crate::hooks::{HookStats, HookTable};
use crate::kernel::Kernel;

/// Opens a kernel handle: for extensions that need their own (a
/// `Box<dyn Kernel>` is not `Send`; open one inside `spawn_blocking`).
/// The error is a message ready to log.
pub type KernelOpener = Arc<dyn Fn() -> Result<Box<dyn Kernel>, String> + Send + Sync>;

/// A validated configuration, as the daemon runs with it.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Arc<Config>,
    /// This node's name in the cluster file.
    pub node: String,
    /// The hooks of every VIP, by this node's real interface and vhid.
    pub hooks: Arc<HookTable>,
    /// When this configuration was loaded.
    pub(crate) loaded_at: SystemTime,
}

impl Settings {
    /// Settings for `node` of an already validated `config`.
    pub fn new(config: Config, node: String) -> Self {
        let hooks = Arc::new(HookTable::new(&config, &node));
        Settings {
            config: Arc::new(config),
            node,
            hooks,
            loaded_at: SystemTime::now(),
        }
    }
}

/// Load and validate the cluster file at `path` and select this node
/// (`node`, else the short hostname). `Err` carries every diagnostic.
pub fn load_settings(path: &Path, node: Option<&str>) -> Result<Settings, Vec<Diagnostic>> {
    let cfg = config::load(path)?;
    let hostname = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default();
    let name = config::select_node(&cfg, node, &hostname)
        .map_err(|d| vec![d])?
        .name
        .clone();
    Ok(Settings::new(cfg, name))
}

/// The daemon's own counters, beside [`HookStats`], for the metrics.
#[derive(Debug, Default)]
pub struct DaemonStats {
    /// The devd client's: records, CARP events, garbage, connections.
    pub devd: Arc<ClientCounters>,
    /// Transitions handled (devd, replay and resync).
    pub transitions: AtomicU64,
    /// Successful SIGHUP reloads.
    pub(crate) reloads: AtomicU64,
    /// SIGHUP reloads refused because the file was invalid.
    pub(crate) reload_failures: AtomicU64,
}

/// What the daemon hands to its extensions (health checks, metrics: issue
/// 5, part 2) when it starts them.
pub struct ExtensionContext {
    /// The running configuration; it changes on a successful SIGHUP reload
    /// (`changed().await` to follow it).
    pub settings: watch::Receiver<Arc<Settings>>,
    /// Becomes `true` when the daemon stops: finish up and return.
    pub shutdown: watch::Receiver<bool>,
    /// Hook runs, failures, timeouts and drops per vhid.
    pub(crate) hook_stats: Arc<HookStats>,
    /// devd and reload counters.
    pub(crate) daemon_stats: Arc<DaemonStats>,
    /// Opens the same kernel as the daemon's (see [`KernelOpener`]).
    pub open_kernel: KernelOpener,
}
