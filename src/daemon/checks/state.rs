//! The rise/fall state machine of one check, pure: `fall` consecutive
//! failures make a passing check fail, `rise` consecutive passes bring a
//! failed one back.

/// What a result did to a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthChange {
    /// `fall` consecutive failures: demote.
    Fell,
    /// `rise` consecutive passes: take the demotion back.
    Rose,
}

/// One check's rise/fall state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckState {
    /// Passing (not demoting).
    pub up: bool,
    passes: u32,
    fails: u32,
    /// Passed at least once since the runner started (for the boot hold).
    pub(crate) passed_once: bool,
}

impl CheckState {
    /// A check that starts passing (`up`) or failing.
    pub fn new(up: bool) -> Self {
        CheckState {
            up,
            passes: 0,
            fails: 0,
            passed_once: false,
        }
    }

    /// Count one result; returns the change it makes, if any.
    pub fn observe(&mut self, pass: bool, rise: u32, fall: u32) -> Option<HealthChange> {
        if pass {
            self.passed_once = true;
            self.fails = 0;
            self.passes = self.passes.saturating_add(1);
            if !self.up && self.passes >= rise {
                self.up = true;
                return Some(HealthChange::Rose);
            }
        } else {
            self.passes = 0;
            self.fails = self.fails.saturating_add(1);
            if self.up && self.fails >= fall {
                self.up = false;
                return Some(HealthChange::Fell);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fall_and_rise_thresholds() {
        let mut s = CheckState::new(true);
        assert_eq!(s.observe(false, 2, 3), None);
        assert_eq!(s.observe(false, 2, 3), None);
        // A pass in between starts the count again.
        assert_eq!(s.observe(true, 2, 3), None);
        assert_eq!(s.observe(false, 2, 3), None);
        assert_eq!(s.observe(false, 2, 3), None);
        assert_eq!(s.observe(false, 2, 3), Some(HealthChange::Fell));
        assert!(!s.up);
        // Further failures change nothing.
        assert_eq!(s.observe(false, 2, 3), None);
        assert_eq!(s.observe(true, 2, 3), None);
        assert_eq!(s.observe(false, 2, 3), None);
        assert_eq!(s.observe(true, 2, 3), None);
        assert_eq!(s.observe(true, 2, 3), Some(HealthChange::Rose));
        assert!(s.up);
        assert_eq!(s.observe(true, 2, 3), None);
    }

    #[test]
    fn thresholds_of_one_act_at_once() {
        let mut s = CheckState::new(true);
        assert!(!s.passed_once);
        assert_eq!(s.observe(false, 1, 1), Some(HealthChange::Fell));
        assert!(!s.passed_once);
        assert_eq!(s.observe(true, 1, 1), Some(HealthChange::Rose));
        assert!(s.passed_once);
        // A check that starts failing (from the ledger) needs `rise`.
        let mut s = CheckState::new(false);
        assert_eq!(s.observe(true, 3, 1), None);
        assert_eq!(s.observe(true, 3, 1), None);
        assert_eq!(s.observe(true, 3, 1), Some(HealthChange::Rose));
    }
}
