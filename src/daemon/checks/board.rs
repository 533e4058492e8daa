//! The checks' status as the metrics and logs see it, shared between the
//! runner (which writes) and the metrics (which read).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use serde::Serialize;

/// What the metrics and logs see of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckView {
    /// `tcp`, `exec` or `http`.
    pub kind: &'static str,
    /// Passing (not demoting).
    pub up: bool,
    /// Why the last probe failed; `None` after a pass.
    pub last_error: Option<String>,
    /// The weight recorded in the ledger while the check demotes.
    pub demoting: Option<u16>,
    /// Falls and rises since the daemon started, kept across reloads
    /// (`carpctl_check_changes_total`: a flapping check is seen however
    /// short each state lasts between two scrapes).
    pub changes: u64,
}

/// The checks' status, shared between the runner (which writes) and the
/// metrics (which read).
#[derive(Debug, Default)]
pub struct CheckBoard {
    inner: Mutex<BTreeMap<String, CheckView>>,
    /// When the probe that made the last change (fall or rise) ended, for
    /// measuring how long the demotion write took.
    last_change: Mutex<Option<Instant>>,
}

impl CheckBoard {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn snapshot(&self) -> BTreeMap<String, CheckView> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// When the probe that made the last fall or rise ended.
    pub fn last_change(&self) -> Option<Instant> {
        *self
            .last_change
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Replace the views (at start and after a reload), keeping the
    /// change count of each check that is still there.
    pub(super) fn set(&self, mut views: BTreeMap<String, CheckView>) {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        for (name, view) in &mut views {
            if let Some(old) = map.get(name) {
                view.changes = old.changes;
            }
        }
        *map = views;
    }

    pub(super) fn update(&self, name: &str, f: impl FnOnce(&mut CheckView)) {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(v) = map.get_mut(name) {
            f(v);
        }
    }

    pub(super) fn mark_change(&self, at: Instant) {
        *self
            .last_change
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_keeps_change_counts_across_a_reload() {
        let view = |changes| CheckView {
            kind: "tcp",
            up: true,
            last_error: None,
            demoting: None,
            changes,
        };
        let board = CheckBoard::new();
        board.set(BTreeMap::from([
            ("a".to_string(), view(0)),
            ("b".to_string(), view(0)),
        ]));
        board.update("a", |v| v.changes += 3);
        board.update("b", |v| v.changes += 1);
        // A reload: "a" stays, "b" goes, "c" is new.
        board.set(BTreeMap::from([
            ("a".to_string(), view(0)),
            ("c".to_string(), view(0)),
        ]));
        let snap = board.snapshot();
        assert_eq!(snap["a"].changes, 3);
        assert_eq!(snap["c"].changes, 0);
        assert!(!snap.contains_key("b"));
    }
}
