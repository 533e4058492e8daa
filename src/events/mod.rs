//! CARP transitions: where they come from (devd(8)), what carpctl knows
//! about each one (the previous state, when, why it is being reported), and
//! the previous-state bookkeeping shared by `carpctl watch` and
//! `carpctl daemon`.
//!
//! * [`devd`]: the pure parser of devd records and of the devctl
//!   `subsystem`/`type` values (docs/freebsd-carp.md §11).
//! * [`client`]: the SOCK_SEQPACKET client of `/var/run/devd.seqpacket.pipe`
//!   that survives devd restarting and skips garbage (docs/freebsd-carp.md §11).
//! * [`StateTracker`]: the last state seen per `vhid@interface`, seeded from
//!   the kernel, so that each transition carries its previous state (which
//!   devctl does not send).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::model::{CarpState, Vhid, VhidStatus};

pub mod client;
pub mod devd;

pub(crate) use devd::CarpEvent;

/// Why a transition is being reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// devd announced it (the kernel's `devctl_notify`).
    Devd,
    /// The daemon starting: the current state of a vhid, replayed so that a
    /// MASTER reached before the daemon started still runs its hook.
    Replay,
    /// After devd came back, the kernel showed a state different from the
    /// last one seen: a transition devd's absence may have hidden.
    Resync,
}

impl Source {
    /// The value of `CARP_EVENT` and of the JSON `source` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Devd => "devd",
            Source::Replay => "replay",
            Source::Resync => "resync",
        }
    }
}

/// A transition with what carpctl knows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub event: CarpEvent,
    /// The state before, when known (seeded from the kernel, or seen in an
    /// earlier event); `None` otherwise.
    pub(crate) previous: Option<CarpState>,
    pub source: Source,
    /// When carpctl received it (devctl lines carry no time).
    pub time: SystemTime,
}

/// The most `vhid@interface` pairs tracked. carp(4) allows 255 vhids per
/// interface; this bounds the table against a peer that invents names.
pub(crate) const TRACKED_MAX: usize = 4096;

/// The last state seen for each `vhid@interface`.
#[derive(Debug, Clone, Default)]
pub struct StateTracker {
    states: BTreeMap<(String, Vhid), CarpState>,
}

impl StateTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget everything and start from the kernel's view.
    pub fn seed(&mut self, vhids: &[VhidStatus]) {
        self.states.clear();
        for v in vhids.iter().take(TRACKED_MAX) {
            self.states.insert((v.interface.clone(), v.vhid), v.state);
        }
    }

    /// Record `event`; return the state it replaces, if known.
    pub fn observe(&mut self, event: &CarpEvent) -> Option<CarpState> {
        let key = (event.interface.clone(), event.vhid);
        if let Some(state) = self.states.get_mut(&key) {
            return Some(std::mem::replace(state, event.state));
        }
        if self.states.len() < TRACKED_MAX {
            self.states.insert(key, event.state);
        }
        None
    }

    /// The last state seen for `vhid@interface`.
    pub fn get(&self, interface: &str, vhid: Vhid) -> Option<CarpState> {
        self.states.get(&(interface.to_string(), vhid)).copied()
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The vhids whose state in `kernel` differs from the last one seen
    /// (or that were never seen), as events with their previous state;
    /// each is recorded. Vhids gone from the kernel are forgotten.
    pub(crate) fn resync(&mut self, kernel: &[VhidStatus]) -> Vec<(CarpEvent, Option<CarpState>)> {
        let mut changed = Vec::new();
        let mut next = BTreeMap::new();
        for v in kernel.iter().take(TRACKED_MAX) {
            let key = (v.interface.clone(), v.vhid);
            let before = self.states.get(&key).copied();
            if before != Some(v.state) {
                changed.push((
                    CarpEvent {
                        vhid: v.vhid,
                        interface: v.interface.clone(),
                        state: v.state,
                    },
                    before,
                ));
            }
            next.insert(key, v.state);
        }
        self.states = next;
        changed
    }
}

/// `t` as RFC 3339 in UTC with milliseconds: `2026-05-01T12:00:00.123Z`.
/// A time before 1970 (a clock set wrong) shows as the epoch.
pub(crate) fn format_time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::Protocol;

    fn status(ifname: &str, vhid: i64, state: CarpState) -> VhidStatus {
        VhidStatus {
            interface: ifname.into(),
            vhid: Vhid::new(vhid).unwrap(),
            state,
            advbase: 1,
            advskew: crate::model::AdvSkew::new(0).unwrap(),
            key: None,
            peer: None,
            peer6: None,
            protocol: Protocol::Carp,
            vrrp_priority: None,
            vrrp_interval: None,
        }
    }

    fn ev(ifname: &str, vhid: i64, state: CarpState) -> CarpEvent {
        CarpEvent {
            vhid: Vhid::new(vhid).unwrap(),
            interface: ifname.into(),
            state,
        }
    }

    #[test]
    fn previous_state_comes_from_the_seed_then_from_events() {
        let mut t = StateTracker::new();
        t.seed(&[status("em0", 1, CarpState::Backup)]);
        assert_eq!(
            t.observe(&ev("em0", 1, CarpState::Master)),
            Some(CarpState::Backup)
        );
        assert_eq!(
            t.observe(&ev("em0", 1, CarpState::Init)),
            Some(CarpState::Master)
        );
        // Same vhid number, other interface: a different vhid.
        assert_eq!(t.observe(&ev("em1", 1, CarpState::Master)), None);
        assert_eq!(
            t.observe(&ev("em1", 1, CarpState::Backup)),
            Some(CarpState::Master)
        );
        assert_eq!(t.get("em0", Vhid::new(1).unwrap()), Some(CarpState::Init));
        assert_eq!(t.len(), 2);
        // A new seed forgets what was seen.
        t.seed(&[]);
        assert!(t.is_empty());
        assert_eq!(t.observe(&ev("em0", 1, CarpState::Master)), None);
    }

    #[test]
    fn the_table_is_bounded() {
        let mut t = StateTracker::new();
        for i in 0..TRACKED_MAX + 10 {
            t.observe(&ev(&format!("if{i}"), 1, CarpState::Master));
        }
        assert_eq!(t.len(), TRACKED_MAX);
        // Known ones still update.
        assert_eq!(
            t.observe(&ev("if0", 1, CarpState::Init)),
            Some(CarpState::Master)
        );
    }

    #[test]
    fn resync_reports_only_what_changed() {
        let mut t = StateTracker::new();
        t.seed(&[
            status("em0", 1, CarpState::Backup),
            status("em0", 2, CarpState::Master),
            status("em0", 3, CarpState::Master),
        ]);
        let changed = t.resync(&[
            status("em0", 1, CarpState::Master),
            status("em0", 2, CarpState::Master),
            status("em1", 4, CarpState::Backup),
        ]);
        assert_eq!(
            changed,
            vec![
                (ev("em0", 1, CarpState::Master), Some(CarpState::Backup)),
                (ev("em1", 4, CarpState::Backup), None),
            ]
        );
        // vhid 3 is gone; the new states are recorded.
        assert_eq!(t.get("em0", Vhid::new(3).unwrap()), None);
        assert_eq!(t.get("em0", Vhid::new(1).unwrap()), Some(CarpState::Master));
        assert!(
            t.resync(&[
                status("em0", 1, CarpState::Master),
                status("em0", 2, CarpState::Master),
                status("em1", 4, CarpState::Backup),
            ])
            .is_empty()
        );
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(format_time(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day of a year divisible by 400) 12:34:56.789:
        // 11016 days after the epoch (30 years, 7 of them leap: 10957 days
        // to 2000-01-01, plus 31 + 28).
        let t = UNIX_EPOCH + Duration::from_millis((11_016 * 86_400 + 45_296) * 1000 + 789);
        assert_eq!(format_time(t), "2000-02-29T12:34:56.789Z");
        // 2024-12-31T23:59:59Z = 1735689599 (date -u -d @1735689599).
        assert_eq!(
            format_time(UNIX_EPOCH + Duration::from_secs(1_735_689_599)),
            "2024-12-31T23:59:59.000Z"
        );
        // 2100-03-01: 2100 is not a leap year. 4_107_542_400 = date -u -d
        // 2100-03-01 +%s.
        assert_eq!(
            format_time(UNIX_EPOCH + Duration::from_secs(4_107_542_400)),
            "2100-03-01T00:00:00.000Z"
        );
        assert_eq!(
            format_time(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00.000Z"
        );
    }
}
