//! Unit tests of the ledger's records and recovery rules: boots, causes,
//! and which explanation of an interrupted change is taken.

use super::records::Intent;
use super::*;

fn stamp(boot_time: i64, written_at: i64) -> BootStamp {
    BootStamp {
        boot_time,
        written_at,
    }
}

#[test]
fn same_boot_tolerates_small_moves() {
    let s = stamp(1_000_000, 1_086_400);
    for b in [1_000_000, 999_998, 1_000_002] {
        assert!(s.same_boot(b, 1_090_000), "{b}");
    }
}

#[test]
fn a_reboot_with_a_sane_clock_is_seen() {
    // Up a day, written, rebooted an hour later: the new boot began
    // after the write.
    let s = stamp(1_000_000, 1_086_400);
    assert!(!s.same_boot(1_090_000, 1_090_030));
}

#[test]
fn a_reboot_with_a_clock_behind_is_seen_by_the_uptime() {
    // The new boot's clock is an hour behind (RTC wrong): its boot time
    // is before the write, but the uptime (30 s) is below the day it
    // was then.
    let s = stamp(1_000_000, 1_086_400);
    assert!(!s.same_boot(1_083_000, 1_083_030));
}

#[test]
fn clock_steps_are_not_reboots() {
    let s = stamp(1_000_000, 1_086_400);
    // ntpd steps back an hour: boot time and now move together.
    assert!(s.same_boot(996_400, 1_090_000 - 3600));
    // Forward ten minutes, well within the uptime of a day.
    assert!(s.same_boot(1_000_600, 1_090_600));
}

#[test]
fn a_forward_step_beyond_the_uptime_is_the_documented_limit() {
    // Written 30 s after boot; the clock then jumps 10 minutes forward:
    // indistinguishable from a reboot after the write.
    let s = stamp(1_000_000, 1_000_030);
    assert!(!s.same_boot(1_000_600, 1_000_700));
}

#[test]
fn emulated_back_to_back_reboots_are_distinct() {
    // HostState::reboot moves boottime by at least 3 s even within a
    // second: both rules then see a new boot.
    for uptime in 0..10 {
        let now = 2_000_000;
        let s = stamp(now - uptime, now);
        let next = now.max(now - uptime + 3);
        assert!(!s.same_boot(next, now), "uptime {uptime}");
    }
}

#[test]
fn causes_round_trip() {
    for c in [
        Cause::Maintenance,
        Cause::BootHold,
        Cause::Check("smtp".into()),
        Cause::Check("a:b".into()),
    ] {
        assert_eq!(Cause::parse(&c.key()), Some(c.clone()));
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Cause>(&json).unwrap(), c);
    }
    for bad in ["", "check:", "checks:x", "Maintenance", "boot hold"] {
        assert_eq!(Cause::parse(bad), None, "{bad}");
        assert!(serde_json::from_str::<Cause>(&format!("{bad:?}")).is_err());
    }
    assert!(Cause::Maintenance.persistent());
    assert!(!Cause::BootHold.persistent());
    assert!(!Cause::Check("x".into()).persistent());
}

#[test]
fn applied_takes_the_nearer_explanation() {
    let intent = |delta| Intent {
        before: 100,
        delta,
        boot: stamp(0, 0),
        after: LedgerState::empty(stamp(0, 0)),
    };
    assert!(applied(&intent(240), 340));
    assert!(!applied(&intent(240), 100));
    assert!(applied(&intent(-240), -140));
    assert!(!applied(&intent(-240), 100));
    // Someone added 10 meanwhile: still the nearer one.
    assert!(applied(&intent(240), 350));
    assert!(!applied(&intent(240), 110));
    // Exactly between: not applied.
    assert!(!applied(&intent(240), 220));
}
