//! Hooks: the per-VIP `on_master`, `on_backup` and `on_init` commands of
//! the cluster file, run when this node's vhid changes state.
//!
//! The semantics are the same whether `carpctl daemon` runs them (through a
//! [`HookRunner`]) or devd does, one event at a time, through
//! `carpctl hook SUBSYSTEM TYPE` (with a [`StateDir`], in [`state_dir`]):
//!
//! * a hook is an argv, run without a shell (`argv[0]` is looked up in
//!   `PATH` when it has no `/`), in its own process group, with stdin from
//!   `/dev/null` and its stdout (info) and stderr (warn) logged line by
//!   line (bounded: [`LINE_MAX`] bytes a line, [`LINES_MAX`] lines a
//!   stream);
//! * its environment is carpctl's plus [`hook_env`]: `CARP_VHID`,
//!   `CARP_INTERFACE`, `CARP_STATE`, `CARP_PREVIOUS_STATE` (empty when
//!   unknown), `CARP_VIP`, `CARP_ADDRESSES` (space-separated, with prefix
//!   lengths) and `CARP_EVENT` (`devd`, `replay` or `resync`);
//! * for one `vhid@interface`, hooks run one at a time, in event order;
//!   different vhids do not wait for each other; when a vhid's events come
//!   faster than its hooks run, the daemon's queue keeps the newest state
//!   and skips the superseded ones ([`runner`]);
//! * a hook still running at `[cluster] hook_timeout` has its whole process
//!   group killed (SIGKILL), which is logged and counted; a hook that exits
//!   non-zero, dies of a signal or cannot be started is logged and counted;
//!   either way the next event's hook still runs;
//! * [`HookStats`] counts runs, failures, timeouts, and superseded and
//!   dropped events per vhid, for the metrics.

pub(crate) mod runner;
mod state_dir;
#[cfg(test)]
mod testutil;

pub use runner::{HookRunner, QUEUE_MAX, Submitted};
pub use state_dir::{DEFAULT_HOOK_DIR, LOCK_FILE, LOCK_WAIT, STATE_DIR_ENV, StateDir};

mod run;
mod stats;
mod table;

pub use run::{
    HOOK_OUTPUT, LINE_MAX, LINES_MAX, OUTPUT_GRACE, Outcome, OutputLimits, OutputLog, RunReport,
    describe_status, run_hook,
};
pub use stats::{HookCounters, HookStats, VhidHookCounters};
pub use table::{HookTable, VipHooks, hook_env, hook_key, label};

use std::time::Duration;

use crate::events::Transition;

/// Run the hook of `vip` for transition `t`, if it has one, and count it.
/// `None` when the VIP has no hook for that state.
pub(crate) async fn run_for(
    t: &Transition,
    vip: &VipHooks,
    timeout: Duration,
    stats: &HookStats,
) -> Option<RunReport> {
    let argv = vip.argv(t.event.state);
    if argv.is_empty() {
        return None;
    }
    let report = run_hook(&label(&t.event, vip), argv, &hook_env(t, vip), timeout).await;
    stats.record(vip, &report);
    Some(report)
}

#[cfg(test)]
mod tests;
