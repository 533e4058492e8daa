//! Crash injection for the ledger's tests: the steps of a change after
//! which a crash is simulated, by a hook ([`Ledger::with_fault`]) or by a
//! real SIGKILL ([`FAULT_ENV`]).

use std::time::Duration;

use super::{Ledger, LedgerError};
/// The environment variable that makes carpctl kill itself with SIGKILL
/// at a step of a change (see [`Step`]): a test aid for a real `kill -9`.
pub const FAULT_ENV: &str = "CARPCTL_LEDGER_KILL_AT";

/// A step of a change after which a crash is simulated by the fault hook
/// ([`Ledger::with_fault`]) or a real `kill -9` ([`FAULT_ENV`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// The lock is held, recovery done, nothing written.
    Locked,
    /// The intent is written; the kernel not yet changed.
    IntentWritten,
    /// The kernel is changed; the ledger not yet.
    KernelWritten,
    /// The ledger is written; the intent not yet removed.
    LedgerWritten,
}

impl Step {
    pub const ALL: [Step; 4] = [
        Step::Locked,
        Step::IntentWritten,
        Step::KernelWritten,
        Step::LedgerWritten,
    ];

    /// The name [`FAULT_ENV`] takes.
    pub fn name(self) -> &'static str {
        match self {
            Step::Locked => "locked",
            Step::IntentWritten => "intent-written",
            Step::KernelWritten => "kernel-written",
            Step::LedgerWritten => "ledger-written",
        }
    }
}

impl Ledger {
    pub(super) fn fault(&self, step: Step) -> Result<(), LedgerError> {
        if std::env::var(FAULT_ENV).is_ok_and(|v| v == step.name()) {
            kill_self();
        }
        match &self.fault {
            Some(hook) if hook(step) => Err(LedgerError::Injected(step)),
            _ => Ok(()),
        }
    }
}

/// The fault aid of [`FAULT_ENV`]: a real SIGKILL, sent by kill(1) so that
/// no `unsafe` is needed; this thread then waits for it to land. Should
/// kill(1) not run, abort(3) ends the process as abruptly.
fn kill_self() -> ! {
    let pid = std::process::id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .is_ok_and(|s| s.success());
    if sent {
        std::thread::sleep(Duration::from_secs(10));
    }
    std::process::abort()
}
