//! What carpctl can have written into `ledger.json` and `intent.json`, and
//! the check of every value read back against it.
//!
//! The ledger decides how much carpctl takes back from
//! `net.inet.carp.demotion`. A value carpctl never writes — a maintenance
//! share of 60000, a check of weight 0 — can only come from an edit, a
//! damaged file or another program, and acting on it would move the
//! kernel's demotion to a value nobody chose (`maintenance off` taking back
//! 60000 leaves -59760). So every file is checked when it is read, and a
//! value out of bounds is refused with the file, the field and the value;
//! nothing is changed.
//!
//! The bounds, per contribution ([`super::Cause`]):
//!
//! * maintenance: exactly [`MAINTENANCE_WEIGHT`];
//! * the boot hold: exactly [`BOOT_HOLD_WEIGHT`];
//! * a check: 1 to [`MAX_WEIGHT`], a valid check name
//!   ([`crate::config::rules::bad_name`]); with the cluster file's checks
//!   known ([`Limits::from_config`]), a weight above the check's configured
//!   one is logged as a warning, not refused: the weight of a check that
//!   was failing when the cluster file changed (its `weight`, or the
//!   default one when nodes were added or removed) is legitimately the old
//!   one until the check passes, and refusing it would stop even
//!   `maintenance on`;
//! * a reason: what `maintenance on --reason` accepts ([`reason_problem`]);
//! * `since`: a time between 1970 and 9999.
//!
//! So the total is at most the sum of those bounds. An intent must also be
//! a change carpctl makes: a non-zero `delta` that moves the ledger on disk
//! (or nothing, at a new boot) to its `after`, with `before` and the result
//! within the kernel's `int`.

use std::collections::BTreeMap;
use std::path::Path;

use super::records::Intent;
use super::{
    BOOT_HOLD_WEIGHT, Cause, Contribution, INTENT_FILE, LedgerError, LedgerState,
    MAINTENANCE_WEIGHT,
};
use crate::config::{Config, NAME_MAX, rules};
use crate::model::MAX_WEIGHT;
use crate::text;

/// The longest `--reason` (and so the longest reason in the ledger).
pub const REASON_MAX: usize = 200;

/// The latest `since` accepted: 9999-12-31 23:59:59 UTC.
const SINCE_MAX: i64 = 253_402_300_799;

/// Why `reason` cannot be a maintenance reason, or `None`: it goes into
/// the ledger, the logs and one line of `maintenance status`.
pub fn reason_problem(reason: &str) -> Option<String> {
    if reason.trim().is_empty() {
        Some("is empty".into())
    } else if reason.chars().any(text::is_unsafe) {
        Some("must be one line without control or bidirectional-text characters".into())
    } else if reason.len() > REASON_MAX {
        Some(format!("is {} bytes; at most {REASON_MAX}", reason.len()))
    } else {
        None
    }
}

/// The cluster file's view of what carpctl can have written: the
/// configured weight of each check. [`Limits::default`] knows no checks
/// and applies only the bounds that hold for any cluster file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    checks: BTreeMap<String, u16>,
}

impl Limits {
    pub(crate) fn from_config(cfg: &Config) -> Self {
        Limits {
            checks: cfg
                .checks
                .iter()
                .map(|c| (c.name.clone(), c.weight))
                .collect(),
        }
    }

    /// Check a ledger read from `path`; `prefix` names where in the file
    /// the ledger is (`""`, or `"after."` inside an intent).
    pub(super) fn ledger(
        &self,
        path: &Path,
        prefix: &str,
        l: &LedgerState,
    ) -> Result<(), LedgerError> {
        for (cause, c) in &l.contributions {
            self.contribution(path, prefix, cause, c)?;
        }
        Ok(())
    }

    fn contribution(
        &self,
        path: &Path,
        prefix: &str,
        cause: &Cause,
        c: &Contribution,
    ) -> Result<(), LedgerError> {
        let field = |leaf: &str| format!("{prefix}contributions.{}.{leaf}", cause.key());
        let invalid = |field: String, value: String, expected: String| {
            Err(LedgerError::Invalid {
                path: path.to_path_buf(),
                field: text::escape(&field).to_string(),
                value,
                expected,
            })
        };
        match cause {
            Cause::Maintenance if c.weight != MAINTENANCE_WEIGHT => {
                return invalid(
                    field("weight"),
                    c.weight.to_string(),
                    format!("{MAINTENANCE_WEIGHT}, the maintenance weight"),
                );
            }
            Cause::BootHold if c.weight != BOOT_HOLD_WEIGHT => {
                return invalid(
                    field("weight"),
                    c.weight.to_string(),
                    format!("{BOOT_HOLD_WEIGHT}, the boot hold's weight"),
                );
            }
            Cause::Check(name) => {
                if let Some(why) = rules::bad_name(name, NAME_MAX) {
                    return invalid(
                        format!("{prefix}contributions"),
                        format!("a key {}", text::quote_bytes(cause.key().as_bytes())),
                        format!("a check name (this one {why})"),
                    );
                }
                if !(1..=MAX_WEIGHT).contains(&c.weight) {
                    return invalid(
                        field("weight"),
                        c.weight.to_string(),
                        format!("a check weight, 1-{MAX_WEIGHT}"),
                    );
                }
                if let Some(&w) = self.checks.get(name)
                    && c.weight > w
                {
                    tracing::warn!(
                        "{}: {} is {}, more than the weight {w} the cluster file gives check \
                         {}: the check was failing when its weight (or the number of nodes) \
                         changed, or the file was edited; its share is taken back as recorded",
                        path.display(),
                        text::escape(&field("weight")),
                        c.weight,
                        text::escape(name),
                    );
                }
            }
            _ => {}
        }
        if let Some(r) = &c.reason
            && let Some(why) = reason_problem(r)
        {
            return invalid(
                field("reason"),
                text::quote_bytes(r.as_bytes()),
                format!("a reason as `maintenance on --reason` takes it (this one {why})"),
            );
        }
        if !(0..=SINCE_MAX).contains(&c.since) {
            return invalid(
                field("since"),
                c.since.to_string(),
                format!("seconds since 1970 up to the year 9999 (0-{SINCE_MAX})"),
            );
        }
        Ok(())
    }

    /// Check an intent read from `path`, given the ledger on disk beside it.
    pub(super) fn intent(
        &self,
        path: &Path,
        intent: &Intent,
        ledger: Option<&LedgerState>,
    ) -> Result<(), LedgerError> {
        self.ledger(path, "after.", &intent.after)?;
        let invalid = |field: &str, value: String, expected: String| {
            Err(LedgerError::Invalid {
                path: path.to_path_buf(),
                field: field.into(),
                value,
                expected,
            })
        };
        let in_int = |v: i64| i32::try_from(v).is_ok();
        if !in_int(intent.before) {
            return invalid(
                "before",
                intent.before.to_string(),
                "a value of net.inet.carp.demotion, a C int".into(),
            );
        }
        let delta = i64::from(intent.delta);
        if !in_int(intent.before + delta) {
            return invalid(
                "delta",
                intent.delta.to_string(),
                format!(
                    "a change that keeps net.inet.carp.demotion a C int (before is {})",
                    intent.before
                ),
            );
        }
        // A committed intent (the ledger already is its `after`, a crash
        // before the intent was removed) is only removed: its delta is not
        // acted on, and the ledger beside it is no longer the one it
        // started from.
        if ledger.is_some_and(|l| l.seq >= intent.after.seq) {
            return Ok(());
        }
        // transition(): delta = after.total() - what the kernel held of
        // carpctl's, which is the ledger's total, or 0 at a new boot.
        let after = intent.after.total();
        let from_ledger = after - ledger.map_or(0, LedgerState::total);
        if delta == 0 || (delta != from_ledger && delta != after) {
            return invalid(
                "delta",
                intent.delta.to_string(),
                if from_ledger == after {
                    format!("{after}, the change from the ledger to after")
                } else {
                    format!(
                        "{from_ledger} or {after}, the change from the ledger (or from nothing, at a new boot) to after"
                    )
                },
            );
        }
        Ok(())
    }
}

/// The end of a [`LedgerError::Invalid`] message: what to do about the
/// file.
pub(super) fn remedy(path: &Path) -> &'static str {
    if path.file_name().is_some_and(|n| n == INTENT_FILE) {
        "restore the file, or remove it: the interrupted change it describes is then taken \
         as not applied"
    } else {
        "restore the file, or remove it: its contributions then count as \"other\" in \
         `carpctl maintenance status`, and must be taken back by hand with sysctl \
         net.inet.carp.demotion=-N"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::BootStamp;

    fn c(weight: u16) -> Contribution {
        Contribution {
            weight,
            reason: None,
            since: 1_700_000_000,
        }
    }

    fn ledger(entries: &[(Cause, Contribution)]) -> LedgerState {
        LedgerState {
            version: 1,
            seq: 3,
            boot: BootStamp {
                boot_time: 1,
                written_at: 2,
            },
            contributions: entries.iter().cloned().collect(),
        }
    }

    fn check(l: &LedgerState) -> Result<(), String> {
        Limits::default()
            .ledger(Path::new("/s/ledger.json"), "", l)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn what_carpctl_writes_passes() {
        let l = ledger(&[
            (Cause::Maintenance, c(240)),
            (Cause::BootHold, c(240)),
            (Cause::Check("smtp".into()), c(9)),
            (Cause::Check("web".into()), c(240)),
        ]);
        assert_eq!(check(&l), Ok(()));
    }

    #[test]
    fn forged_values_are_refused_by_file_field_and_value() {
        let e = check(&ledger(&[(Cause::Maintenance, c(60000))])).unwrap_err();
        assert!(
            e.starts_with(
                "/s/ledger.json: contributions.maintenance.weight is 60000, but carpctl \
                 writes 240, the maintenance weight there"
            ),
            "{e}"
        );
        assert!(e.contains("sysctl net.inet.carp.demotion=-N"), "{e}");
        for (l, field) in [
            (
                ledger(&[(Cause::Maintenance, c(1))]),
                "contributions.maintenance.weight is 1,",
            ),
            (
                ledger(&[(Cause::BootHold, c(239))]),
                "contributions.boot_hold.weight is 239,",
            ),
            (
                ledger(&[(Cause::Check("x".into()), c(0))]),
                "contributions.check:x.weight is 0,",
            ),
            (
                ledger(&[(Cause::Check("x".into()), c(241))]),
                "contributions.check:x.weight is 241,",
            ),
        ] {
            let e = check(&l).unwrap_err();
            assert!(e.contains(field), "{field}: {e}");
        }
        let bidi = check(&ledger(&[(Cause::Check("a\u{202e}b".into()), c(5))])).unwrap_err();
        assert!(bidi.contains("check:a\\u{202e}b"), "{bidi}");
        assert!(!bidi.contains('\u{202e}'), "{bidi}");
        let mut r = c(240);
        r.reason = Some("ok\r\nforged line".into());
        let e = check(&ledger(&[(Cause::Maintenance, r)])).unwrap_err();
        assert!(e.contains("reason is \"ok\\r\\nforged line\""), "{e}");
        let mut s = c(240);
        s.since = -1;
        assert!(check(&ledger(&[(Cause::Maintenance, s)])).is_err());
    }

    #[test]
    fn intents_must_be_changes_carpctl_makes() {
        let lim = Limits::default();
        let p = Path::new("/s/intent.json");
        let before = ledger(&[(Cause::Check("a".into()), c(9))]);
        let mut after = ledger(&[
            (Cause::Check("a".into()), c(9)),
            (Cause::Maintenance, c(240)),
        ]);
        after.seq = before.seq + 1;
        let intent = |before_d: i64, delta: i32| Intent {
            before: before_d,
            delta,
            boot: after.boot,
            after: after.clone(),
        };
        // From the ledger (+240), or from nothing at a new boot (+249).
        assert!(lim.intent(p, &intent(9, 240), Some(&before)).is_ok());
        assert!(lim.intent(p, &intent(0, 249), Some(&before)).is_ok());
        assert!(lim.intent(p, &intent(0, 249), None).is_ok());
        for (i, what) in [
            (intent(9, 60000), "delta is 60000"),
            (intent(9, 0), "delta is 0"),
            (intent(i64::from(i32::MAX), 240), "delta is 240"),
            (intent(1 << 40, 240), "before is 1099511627776"),
        ] {
            let e = lim.intent(p, &i, Some(&before)).unwrap_err().to_string();
            assert!(e.contains(what), "{what}: {e}");
            assert!(
                e.contains("the interrupted change it describes is then taken"),
                "{e}"
            );
        }
        // Committed (the ledger is already `after`): only removed, so its
        // delta is not checked against the ledger.
        assert!(lim.intent(p, &intent(9, 240), Some(&after)).is_ok());
        let mut bad_after = intent(0, 60000);
        bad_after
            .after
            .contributions
            .insert(Cause::Maintenance, c(60000));
        let e = lim.intent(p, &bad_after, None).unwrap_err().to_string();
        assert!(
            e.contains("after.contributions.maintenance.weight is 60000"),
            "{e}"
        );
    }

    #[test]
    fn reasons() {
        assert_eq!(reason_problem("kernel upgrade"), None);
        assert!(reason_problem(" ").is_some());
        assert!(reason_problem("a\nb").is_some());
        assert!(reason_problem("a\u{202e}b").is_some());
        assert!(reason_problem(&"x".repeat(201)).is_some());
        assert_eq!(reason_problem(&"x".repeat(200)), None);
    }
}
