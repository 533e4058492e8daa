//! Per-vhid hook counters (runs, failures, timeouts, dropped and coalesced
//! events), shared by the hook runners and the metrics.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

use super::{Outcome, RunReport, VipHooks};
use crate::model::Vhid;

/// Per-vhid hook counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HookCounters {
    /// Hook runs attempted (including the ones that could not start).
    pub runs: u64,
    /// Runs that did not succeed: non-zero exit, signal, timeout, or
    /// could not start.
    pub failures: u64,
    /// Runs killed at their timeout (also counted in `failures`).
    pub timeouts: u64,
    /// Events whose hook never ran because the daemon was stopping.
    pub dropped: u64,
    /// Events whose hook was skipped because newer events of the vhid
    /// superseded them while its queue was full ([`super::runner`]).
    pub coalesced: u64,
}

/// One vhid's counters, as [`HookStats::snapshot`] lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VhidHookCounters {
    pub interface: String,
    pub vhid: Vhid,
    /// The VIP's name in the cluster file.
    pub vip: String,
    #[serde(flatten)]
    pub counters: HookCounters,
}

/// Hook counters of every vhid, shared between the hook runners (which
/// count) and the metrics (which read).
#[derive(Debug, Default)]
pub struct HookStats {
    inner: Mutex<BTreeMap<(String, Vhid), (String, HookCounters)>>,
}

impl HookStats {
    pub fn new() -> Self {
        Self::default()
    }

    fn update(&self, vip: &VipHooks, f: impl FnOnce(&mut HookCounters)) {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map
            .entry((vip.interface.clone(), vip.vhid))
            .or_insert_with(|| (vip.name.clone(), HookCounters::default()));
        entry.0.clone_from(&vip.name);
        f(&mut entry.1);
    }

    /// Count one finished run.
    pub(crate) fn record(&self, vip: &VipHooks, report: &RunReport) {
        self.update(vip, |c| {
            c.runs += 1;
            if !report.outcome.is_success() {
                c.failures += 1;
            }
            if matches!(report.outcome, Outcome::TimedOut) {
                c.timeouts += 1;
            }
        });
    }

    /// Count `n` events whose hook did not run: the daemon was stopping.
    pub(crate) fn record_dropped(&self, vip: &VipHooks, n: u64) {
        self.update(vip, |c| c.dropped += n);
    }

    /// Count `n` events superseded by a newer one of the same vhid.
    pub(crate) fn record_coalesced(&self, vip: &VipHooks, n: u64) {
        self.update(vip, |c| c.coalesced += n);
    }

    /// The counters of `vhid@interface` (zero when nothing ran).
    pub fn get(&self, interface: &str, vhid: Vhid) -> HookCounters {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&(interface.to_string(), vhid))
            .map(|e| e.1)
            .unwrap_or_default()
    }

    /// Every vhid's counters, by interface then vhid.
    pub fn snapshot(&self) -> Vec<VhidHookCounters> {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.iter()
            .map(|((interface, vhid), (vip, counters))| VhidHookCounters {
                interface: interface.clone(),
                vhid: *vhid,
                vip: vip.clone(),
                counters: *counters,
            })
            .collect()
    }

    /// The sum over every vhid.
    pub fn totals(&self) -> HookCounters {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.values().fold(HookCounters::default(), |mut t, (_, c)| {
            t.runs += c.runs;
            t.failures += c.failures;
            t.timeouts += c.timeouts;
            t.dropped += c.dropped;
            t.coalesced += c.coalesced;
            t
        })
    }
}
