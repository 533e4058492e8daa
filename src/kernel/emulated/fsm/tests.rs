//! Tests of the state machine: every transition with its reason, and the
//! timers pinned to the formulas of `docs/freebsd-carp.md` §8. Expected
//! intervals are written out from the formulas, not computed by the code
//! under test: at `kern.hz=1000` with ticks on whole milliseconds, a
//! callout armed on a tick for `d` µs fires `(⌈d / 1000⌉ + 1)` ms later
//! (`tvtohz()` rounds up and adds one tick), see [`hz1000`].

use super::*;
use crate::kernel::emulated::Flavor;
use crate::kernel::emulated::state::Run;

const UP: Parent<'static> = Parent {
    name: "em0",
    index: 2,
    up: true,
    link_up: true,
    now: 0,
    hz: Hz {
        hz: 1000,
        tick: 1000,
        phase: 0,
    },
};

const V4: Naddrs = Naddrs { v4: 1, v6: 0 };
const BOTH: Naddrs = Naddrs { v4: 1, v6: 1 };
const NONE: Naddrs = Naddrs { v4: 0, v6: 0 };

const D0: Demotion = Demotion {
    value: 0,
    clamp_low: true,
    vrrp: false,
};

/// When a callout armed on a tick for `us` µs fires at `kern.hz=1000`:
/// `tvtohz()` is `⌈us / 1000⌉ + 1` ticks of 1000 µs (`kern_clock.c`).
fn hz1000(us: u64) -> u64 {
    (us.div_ceil(1000) + 1) * 1000
}

fn dem(value: i32, clamp_low: bool) -> Demotion {
    Demotion {
        value,
        clamp_low,
        vrrp: false,
    }
}

fn at(now: u64) -> Parent<'static> {
    Parent { now, ..UP }
}

fn states(ev: &[Event]) -> Vec<(CarpState, CarpState, &'static str)> {
    ev.iter()
        .filter_map(|e| match e {
            Event::State {
                from, to, reason, ..
            } => Some((*from, *to, *reason)),
            _ => None,
        })
        .collect()
}

fn wakes(ev: &[Event]) -> Vec<u64> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Wake { at, .. } => Some(*at),
            _ => None,
        })
        .collect()
}

fn sends(ev: &[Event]) -> usize {
    ev.iter()
        .filter(|e| matches!(e, Event::SendAd { .. }))
        .count()
}

fn softc(state: CarpState, advbase: i32, advskew: i32) -> Softc {
    Softc {
        state,
        advbase,
        advskew,
        ..Softc::new(1, 2)
    }
}

fn sysctl(preempt: i32) -> Sysctls {
    Sysctls {
        preempt,
        ..Sysctls::default()
    }
}

#[test]
fn setrun_needs_an_address_an_up_link_and_allow() {
    let mut ev = Vec::new();
    let mut sc = Softc::new(1, 2);
    setrun(UP, &mut sc, NONE, 1, None, &mut ev);
    assert_eq!(sc.state, CarpState::Init);
    setrun(Parent { up: false, ..UP }, &mut sc, V4, 1, None, &mut ev);
    setrun(
        Parent {
            link_up: false,
            ..UP
        },
        &mut sc,
        V4,
        1,
        None,
        &mut ev,
    );
    setrun(UP, &mut sc, V4, 0, None, &mut ev);
    assert_eq!(sc.state, CarpState::Init);
    assert!(ev.is_empty());
    setrun(UP, &mut sc, V4, 1, None, &mut ev);
    assert_eq!(sc.state, CarpState::Backup);
    assert_eq!(
        states(&ev),
        [(
            CarpState::Init,
            CarpState::Backup,
            "initialization complete"
        )]
    );
    assert_eq!(
        ev[0].to_string(),
        "carp: 1@em0: INIT -> BACKUP (initialization complete)"
    );
    assert_eq!(
        ev[0].devd().as_deref(),
        Some("!system=CARP subsystem=1@em0 type=BACKUP\n")
    );
}

#[test]
fn the_devd_line_is_what_the_events_parser_reads() {
    let e = Event::State {
        ifname: "vlan0.100".into(),
        vhid: 7,
        from: CarpState::Backup,
        to: CarpState::Master,
        reason: "master timed out",
    };
    let line = e.devd().unwrap();
    let parsed = crate::events::devd::parse_record(line.as_bytes())
        .unwrap()
        .expect("a CARP event");
    assert_eq!(parsed.subsystem(), "7@vlan0.100");
    assert_eq!(parsed.state, CarpState::Master);
    assert_eq!(
        Event::Demotion {
            delta: 1,
            total: 1,
            reason: "sysctl".into()
        }
        .devd(),
        None
    );
}

#[test]
fn backup_arms_the_master_down_timer_with_the_configured_skew() {
    // 3 × advbase + advskew/256 s: advbase 1, advskew 100 → 3 s + 100 ×
    // 1000000 / 256 µs = 3 s + 390625 µs.
    let mut ev = Vec::new();
    let mut sc = softc(CarpState::Init, 1, 100);
    setrun(at(5_000_000), &mut sc, BOTH, 1, None, &mut ev);
    assert_eq!(sc.state, CarpState::Backup);
    let due = 5_000_000 + hz1000(3_390_625);
    assert_eq!(due, 8_392_000);
    assert_eq!(sc.run.md, [Some(due), Some(due)]);
    assert_eq!(sc.run.ad, None);
    assert_eq!(wakes(&ev), [due], "one wake-up for both families");

    // Only the families that have addresses.
    let mut sc = softc(CarpState::Backup, 2, 0);
    setrun(at(0), &mut sc, Naddrs { v4: 0, v6: 2 }, 1, None, &mut ev);
    assert_eq!(sc.run.md, [None, Some(hz1000(6_000_000))]);
}

#[test]
fn a_later_rearm_asks_for_no_new_wake_up() {
    let mut ev = Vec::new();
    let mut sc = softc(CarpState::Backup, 1, 0);
    setrun(at(0), &mut sc, V4, 1, Some(Af::Inet), &mut ev);
    assert_eq!(wakes(&ev), [3_001_000]);
    ev.clear();
    setrun(at(1_000_000), &mut sc, V4, 1, Some(Af::Inet), &mut ev);
    assert!(ev.is_empty(), "{ev:?}");
    assert_eq!(sc.run.md[0], Some(4_001_000));
    // The wake-up at 3.001 s finds the deadline moved and asks again.
    timeout(at(3_001_000), &mut sc, V4, 1, D0, &mut ev);
    assert_eq!(sc.state, CarpState::Backup);
    assert_eq!(wakes(&ev), [4_001_000]);
    assert_eq!(sc.run.wake, Some(4_001_000));
}

#[test]
fn master_down_timeout_takes_over_and_announces() {
    let mut ev = Vec::new();
    let mut sc = softc(CarpState::Backup, 1, 8);
    setrun(at(0), &mut sc, V4, 1, None, &mut ev);
    ev.clear();
    // 3 s + 8 × 1000000 / 256 µs = 3 s + 31250 µs: 3033 ticks.
    let t = hz1000(3_031_250);
    assert_eq!(t, 3_033_000);
    timeout(at(t - 1), &mut sc, V4, 1, D0, &mut ev);
    assert_eq!(sc.state, CarpState::Backup, "not before the deadline");
    timeout(at(t), &mut sc, V4, 1, D0, &mut ev);
    assert_eq!(
        states(&ev),
        [(CarpState::Backup, CarpState::Master, "master timed out")]
    );
    // State, then the ad, then the announcement (carp_master_down_locked).
    let kinds: Vec<&str> = ev
        .iter()
        .filter_map(|e| match e {
            Event::State { .. } => Some("state"),
            Event::SendAd { .. } => Some("ad"),
            Event::Announce { .. } => Some("announce"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["state", "ad", "announce"]);
    // setrun(MASTER) re-arms at the undemoted advbase + advskew/256.
    assert_eq!(sc.run.ad, Some(t + hz1000(1_031_250)));
}

#[test]
fn later_ads_use_the_demoted_skew_and_the_first_the_configured_one() {
    let mut ev = Vec::new();
    let mut sc = softc(CarpState::Backup, 1, 0);
    let d = dem(240, true);
    master_down(
        at(0),
        &mut sc,
        V4,
        1,
        d,
        "user requested via ifconfig",
        &mut ev,
    );
    // First interval: undemoted (setrun), 1 s: 1001 ticks.
    assert_eq!(sc.run.ad, Some(1_001_000));
    ev.clear();
    timeout(at(1_001_000), &mut sc, V4, 1, d, &mut ev);
    assert_eq!(sends(&ev), 1);
    // Then advbase + DEMOTE_ADVSKEW/256 = 1 s + 240 × 1000000 / 256 µs.
    assert_eq!(sc.run.ad, Some(1_001_000 + hz1000(1_937_500)));
}

#[test]
fn demote_advskew_clamps_per_release() {
    let new = dem(-50, true);
    let old = dem(-50, false);
    assert_eq!(new.skew(20), 0);
    assert_eq!(old.skew(20), -30, "13.0 has no lower clamp");
    assert_eq!(dem(1000, true).skew(0), 240);
    assert_eq!(dem(i32::MAX, false).skew(254), 240, "no overflow");
    // The table: 13.0 does not clamp, every later release does.
    for f in Flavor::ALL {
        let d = Demotion::new(-50, f.rules());
        assert_eq!(
            d.skew(20),
            if *f == Flavor::V13_0 { -30 } else { 0 },
            "{f:?}"
        );
    }
}

#[test]
fn a_tie_makes_the_receiving_master_step_down() {
    let mut ev = Vec::new();
    let mut sc = softc(CarpState::Master, 1, 0);
    sc.run.ad = Some(500);
    let heard = CarpHeard {
        advbase: 1,
        advskew: 0,
        counter: 7,
    };
    carp_input(
        at(100),
        &mut sc,
        V4,
        &sysctl(1),
        D0,
        heard,
        Af::Inet,
        &mut ev,
    );
    assert_eq!(
        states(&ev),
        [(
            CarpState::Master,
            CarpState::Backup,
            "more frequent advertisement received"
        )]
    );
    assert_eq!(sc.run.ad, None, "the ad timer stops");
    // Armed at 100 µs, after the tick at 0: 3001 ticks from that tick.
    assert_eq!(sc.run.md[0], Some(3_001_000));
    assert_eq!(sc.run.counter, 7);
    assert!(!sc.run.init_counter);
}

#[test]
fn a_master_keeps_its_role_against_a_slower_peer() {
    let mut ev = Vec::new();
    let mut sc = softc(CarpState::Master, 1, 0);
    let heard = CarpHeard {
        advbase: 1,
        advskew: 1,
        counter: 1,
    };
    carp_input(at(0), &mut sc, V4, &sysctl(0), D0, heard, Af::Inet, &mut ev);
    assert_eq!(sc.state, CarpState::Master);
    // A demoted master compares with its demoted skew: 0 + 10 > 1.
    let d = dem(10, true);
    carp_input(at(0), &mut sc, V4, &sysctl(0), d, heard, Af::Inet, &mut ev);
    assert_eq!(sc.state, CarpState::Backup);
}

#[test]
fn preempt_decides_whether_a_faster_backup_takes_over() {
    let heard = CarpHeard {
        advbase: 1,
        advskew: 4,
        counter: 1,
    };
    let mut ev = Vec::new();
    let mut sc = softc(CarpState::Backup, 1, 0);
    carp_input(at(0), &mut sc, V4, &sysctl(0), D0, heard, Af::Inet, &mut ev);
    assert_eq!(sc.state, CarpState::Backup, "no preempt: wait");
    assert_eq!(sc.run.md[0], Some(3_001_000));
    assert!(states(&ev).is_empty());

    let mut sc = softc(CarpState::Backup, 1, 0);
    carp_input(at(0), &mut sc, V4, &sysctl(1), D0, heard, Af::Inet, &mut ev);
    assert_eq!(
        states(&ev),
        [(
            CarpState::Backup,
            CarpState::Master,
            "preempting a slower master"
        )]
    );
    // An equal peer is not slower: no preemption.
    let mut sc = softc(CarpState::Backup, 1, 4);
    ev.clear();
    carp_input(at(0), &mut sc, V4, &sysctl(1), D0, heard, Af::Inet, &mut ev);
    assert_eq!(sc.state, CarpState::Backup);
}

#[test]
fn a_master_that_will_time_out_is_treated_as_timed_out() {
    // Peer (4 s, 0) > my (3 × 1 s, 0): "master will time out".
    let heard = CarpHeard {
        advbase: 4,
        advskew: 0,
        counter: 1,
    };
    let mut ev = Vec::new();
    let mut sc = softc(CarpState::Backup, 1, 0);
    carp_input(at(0), &mut sc, V4, &sysctl(0), D0, heard, Af::Inet, &mut ev);
    assert_eq!(
        states(&ev),
        [(CarpState::Backup, CarpState::Master, "master will time out")]
    );
    // (3 s, 0) against (3 s, 0) is not less: the timer restarts.
    let heard = CarpHeard {
        advbase: 3,
        advskew: 0,
        counter: 1,
    };
    let mut sc = softc(CarpState::Backup, 1, 0);
    ev.clear();
    carp_input(at(0), &mut sc, V4, &sysctl(0), D0, heard, Af::Inet, &mut ev);
    assert_eq!(sc.state, CarpState::Backup);
}

#[test]
fn init_ignores_advertisements_but_takes_the_counter() {
    let mut ev = Vec::new();
    let mut sc = softc(CarpState::Init, 1, 0);
    let heard = CarpHeard {
        advbase: 9,
        advskew: 0,
        counter: 42,
    };
    carp_input(at(0), &mut sc, V4, &sysctl(1), D0, heard, Af::Inet, &mut ev);
    assert_eq!(sc.state, CarpState::Init);
    assert!(ev.is_empty());
    assert_eq!((sc.run.counter, sc.run.init_counter), (42, false));
}

#[test]
fn vrrp_timers_follow_rfc9568_in_centiseconds() {
    let mut sc = Softc::new(1, 3);
    sc.state = CarpState::Init;
    sc.vrrp_priority = 100;
    // master_inter 100 cs: (256 − 100) × 100 / 256 = 60 (integer), + 300 =
    // 360 cs = 3.6 s: × hz / 100 = 3600 ticks at hz 1000, 360 at hz 100
    // (no "+ 1": VRRPv3 converts centiseconds, not a timeval).
    let hz = |h| Hz::new(h, 0).unwrap();
    assert_eq!(master_down_ticks(&sc, hz(1000)), 3600);
    assert_eq!(master_down_ticks(&sc, hz(100)), 360);
    sc.vrrp_priority = 255;
    // (1 × 100 / 256 = 0) + 300 cs.
    assert_eq!(master_down_ticks(&sc, hz(1000)), 3000);
    sc.vrrp_adv_inter = 50;
    assert_eq!(
        ad_interval_ticks(&sc, 240, hz(1000)),
        500,
        "no demotion in VRRPv3"
    );
}

#[test]
fn vrrp_input_compares_priority_and_interval() {
    let s = sysctl(1);
    let mut ev = Vec::new();
    let mut sc = Softc::new(1, 3);
    sc.state = CarpState::Master;
    let heard = VrrpHeard {
        priority: 100,
        max_adver_int: 100,
    };
    vrrp_input(at(0), &mut sc, V4, &s, D0, heard, Af::Inet, &mut ev);
    assert_eq!(sc.state, CarpState::Master, "equal: no step down");
    let higher = VrrpHeard {
        priority: 101,
        max_adver_int: 100,
    };
    vrrp_input(at(0), &mut sc, V4, &s, D0, higher, Af::Inet, &mut ev);
    assert_eq!(sc.state, CarpState::Backup);
    // The master interval is learned, unmasked: 0x1064 keeps its top bits.
    let odd = VrrpHeard {
        priority: 100,
        max_adver_int: 0x1064,
    };
    vrrp_input(at(0), &mut sc, V4, &sysctl(0), D0, odd, Af::Inet, &mut ev);
    assert_eq!(sc.run.vrrp_master_inter, 0x1064);
    // Backup with preempt takes over from a lower priority.
    let lower = VrrpHeard {
        priority: 50,
        max_adver_int: 100,
    };
    ev.clear();
    vrrp_input(at(0), &mut sc, V4, &s, D0, lower, Af::Inet, &mut ev);
    assert_eq!(
        states(&ev),
        [(
            CarpState::Backup,
            CarpState::Master,
            "preempting a slower master"
        )]
    );
    // Priority 255 ignores everyone.
    let mut owner = Softc::new(2, 3);
    owner.vrrp_priority = 255;
    owner.state = CarpState::Master;
    vrrp_input(at(0), &mut owner, V4, &s, D0, higher, Af::Inet, &mut ev);
    assert_eq!(owner.state, CarpState::Master);
    assert_eq!(owner.run.vrrp_master_inter, 100, "not even learned");
}

#[test]
fn three_send_errors_demote_and_three_successes_undo_it() {
    let mut ev = Vec::new();
    let mut s = Sysctls::default();
    let mut sc = softc(CarpState::Master, 1, 0);
    for _ in 0..2 {
        send_result(UP, &mut sc, &mut s, Some(55), true, &mut ev);
    }
    assert_eq!(s.demotion, 0);
    send_result(UP, &mut sc, &mut s, Some(55), true, &mut ev);
    assert_eq!(s.demotion, 240);
    send_result(UP, &mut sc, &mut s, Some(55), true, &mut ev);
    assert_eq!(s.demotion, 240, "once, on the 3rd");
    send_result(UP, &mut sc, &mut s, None, true, &mut ev);
    send_result(UP, &mut sc, &mut s, None, true, &mut ev);
    send_result(UP, &mut sc, &mut s, Some(55), true, &mut ev);
    send_result(UP, &mut sc, &mut s, None, true, &mut ev);
    send_result(UP, &mut sc, &mut s, None, true, &mut ev);
    assert_eq!(s.demotion, 240, "an error resets the success count");
    send_result(UP, &mut sc, &mut s, None, true, &mut ev);
    assert_eq!(s.demotion, 0);
    let lines: Vec<String> = ev
        .iter()
        .filter(|e| matches!(e, Event::Demotion { .. }))
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "carp: demoted by 240 to 240 (send error 55 on em0)",
            "carp: demoted by -240 to 0 (send ok on em0)"
        ]
    );
    assert_eq!(
        ev.iter().filter(|e| **e == Event::SendAdAll).count(),
        2,
        "every demotion change makes the masters advertise"
    );
}

#[test]
fn sc_state_down_demotes_once_stops_timers_and_up_undoes_it() {
    let mut ev = Vec::new();
    let mut sysctl = Sysctls {
        allow: 0,
        ..Sysctls::default()
    };
    let mut sc = Softc {
        state: CarpState::Master,
        ..Softc::new(3, 2)
    };
    sc.run.ad = Some(9);
    sc_state(UP, &mut sc, V4, &mut sysctl, &mut ev);
    sc_state(UP, &mut sc, V4, &mut sysctl, &mut ev);
    assert_eq!(sysctl.demotion, 240, "applied once although run twice");
    assert!(sc.suppressed);
    assert_eq!(sc.state, CarpState::Init);
    assert_eq!((sc.run.ad, sc.run.md), (None, [None, None]));
    sysctl.allow = 1;
    sc_state(UP, &mut sc, V4, &mut sysctl, &mut ev);
    assert_eq!(sysctl.demotion, 0);
    assert!(!sc.suppressed);
    assert_eq!(sc.run.md[0], Some(3_001_000));
    assert_eq!(
        states(&ev),
        [
            (
                CarpState::Master,
                CarpState::Init,
                "hardware interface down"
            ),
            (
                CarpState::Init,
                CarpState::Backup,
                "initialization complete"
            ),
        ]
    );
    let demotions: Vec<String> = ev
        .iter()
        .filter(|e| matches!(e, Event::Demotion { .. }))
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        demotions,
        [
            "carp: demoted by 240 to 240 (interface down)",
            "carp: demoted by -240 to 0 (interface up)"
        ]
    );
}

#[test]
fn sc_state_up_passes_master_through_init() {
    let mut ev = Vec::new();
    let mut sysctl = Sysctls::default();
    let mut sc = Softc {
        state: CarpState::Master,
        ..Softc::new(1, 2)
    };
    sc_state(UP, &mut sc, Naddrs { v4: 2, v6: 0 }, &mut sysctl, &mut ev);
    assert_eq!(
        states(&ev),
        [
            (CarpState::Master, CarpState::Init, "hardware interface up"),
            (
                CarpState::Init,
                CarpState::Backup,
                "initialization complete"
            ),
        ]
    );
    assert_eq!(sysctl.demotion, 0);
}

#[test]
fn master_down_only_from_backup() {
    let mut ev = Vec::new();
    let mut sc = Softc::new(1, 2);
    master_down(
        UP,
        &mut sc,
        V4,
        1,
        D0,
        "user requested via ifconfig",
        &mut ev,
    );
    assert_eq!(sc.state, CarpState::Init);
    sc.state = CarpState::Backup;
    master_down(
        UP,
        &mut sc,
        V4,
        1,
        D0,
        "user requested via ifconfig",
        &mut ev,
    );
    assert_eq!(sc.state, CarpState::Master);
    assert_eq!(
        states(&ev),
        [(
            CarpState::Backup,
            CarpState::Master,
            "user requested via ifconfig"
        )]
    );
}

#[test]
fn demotion_wraps_like_a_c_int_and_queues_send_ad_all() {
    let mut ev = Vec::new();
    let mut sysctl = Sysctls {
        demotion: i32::MAX,
        ..Sysctls::default()
    };
    demote_adj(&mut sysctl, 1, "sysctl", &mut ev);
    assert_eq!(sysctl.demotion, i32::MIN);
    assert_eq!(ev.last(), Some(&Event::SendAdAll));
}

#[test]
fn running_state_is_not_configuration() {
    let mut a = Softc::new(1, 2);
    let b = Softc::new(1, 2);
    a.run = Run {
        counter: 5,
        ad: Some(1),
        ..Run::default()
    };
    assert_eq!(a, b);
    assert!(
        Run::default().init_counter,
        "carp_alloc sets sc_init_counter"
    );
}

#[test]
fn tvtohz_rounds_up_adds_a_tick_and_parks_a_negative_total() {
    // sys/kern/kern_clock.c tvtohz(), worked by hand (tick = 1000000 / hz).
    let hz = |h| Hz::new(h, 0).unwrap();
    let tv = |sec, usec| Tv { sec, usec };
    // 1 s at hz 1000: 1000 ticks, + 1.
    assert_eq!(hz(1000).tvtohz(tv(1, 0)), 1001);
    // 3 s + 390625 µs at hz 100 (tick 10000 µs): ⌈339.0625⌉ + 1 = 341.
    assert_eq!(hz(100).tvtohz(tv(3, 390_625)), 341);
    // A negative usec borrows a second: (1, -171875) is 828125 µs.
    assert_eq!(hz(1000).tvtohz(tv(1, -171_875)), 829 + 1);
    // Negative seconds after the borrow: one tick.
    assert_eq!(hz(1000).tvtohz(tv(0, -1)), 1);
    assert_eq!(hz(1000).tvtohz(tv(-5, 0)), 1);
    // 13.0, advbase 1 and a demoted skew of -300: usec = -1171875, after the
    // borrow (0, -171875); (unsigned long)-171875 is huge: INT_MAX ticks,
    // 24.8 days at hz 1000.
    let parked = hz(1000).tvtohz(Tv::carp(1, -300));
    assert_eq!(parked, i32::MAX as u64);
    assert_eq!(parked / 1000 / 86_400, 24);
    // Within one tick below zero the unsigned sum wraps back: 1 tick.
    assert_eq!(hz(1000).tvtohz(tv(0, -1_000_500)), 1);
}

#[test]
fn a_callout_is_always_at_least_one_tick_ahead() {
    let mut rng = crate::kernel::emulated::SplitMix64::new(9);
    for _ in 0..100_000 {
        let h = [10, 100, 128, 1000, 1024, 10_000][(rng.next_u64() % 6) as usize];
        let hz = Hz::new(h, rng.next_u64()).unwrap();
        let now = rng.next_u64() % (40 * 86_400 * 1_000_000);
        let ticks = rng.next_u64() % 4;
        let at = hz.callout_at(now, ticks);
        let tick = hz.tick_us();
        assert!(at > now, "hz {h} now {now} ticks {ticks}: {at}");
        assert!(
            at - now <= ticks.max(1) * tick,
            "no later than the ticks asked"
        );
        assert_eq!(
            (at + tick - hz.phase) % tick,
            0,
            "on one of the host's ticks"
        );
    }
    // On a tick, exactly the ticks asked; between ticks, counted from the
    // last one.
    let hz = Hz::new(100, 3_000).unwrap();
    assert_eq!(hz.callout_at(13_000, 5), 63_000);
    assert_eq!(hz.callout_at(20_000, 5), 63_000);
}

#[test]
fn a_negative_interval_on_13_0_parks_the_timer_instead_of_firing_at_once() {
    // 13.0: DEMOTE_ADVSKEW = 0 - 300; the ad timer gets INT_MAX ticks.
    let mut ev = Vec::new();
    let mut sc = softc(CarpState::Master, 1, 0);
    send_ad(at(5_000), &mut sc, dem(-300, false), &mut ev);
    assert_eq!(sends(&ev), 1);
    assert_eq!(sc.run.ad, Some(5_000 + i32::MAX as u64 * 1000));
    // 13.5 clamps: the skew is 0, 1001 ticks.
    let mut sc = softc(CarpState::Master, 1, 0);
    send_ad(at(5_000), &mut sc, dem(-300, true), &mut ev);
    assert_eq!(sc.run.ad, Some(5_000 + 1_001_000));
}

#[test]
fn before_pr_260499_the_send_error_demotion_is_never_undone() {
    // 13.0's carp_send_ad_error(): the first success clears the error count.
    let mut ev = Vec::new();
    let mut s = Sysctls::default();
    let mut sc = softc(CarpState::Master, 1, 0);
    for _ in 0..3 {
        send_result(UP, &mut sc, &mut s, Some(55), false, &mut ev);
    }
    assert_eq!(s.demotion, 240);
    for _ in 0..10 {
        send_result(UP, &mut sc, &mut s, None, false, &mut ev);
    }
    assert_eq!(s.demotion, 240, "stays demoted");
    assert_eq!(sc.run.sendad_errors, 0);
}

#[test]
fn vrrp_priorities_are_demoted_only_where_the_release_has_d55558() {
    let on = Demotion {
        value: 60,
        clamp_low: true,
        vrrp: true,
    };
    assert_eq!(on.vrrp_prio(100), 40);
    assert_eq!(on.vrrp_prio(255), 255, "the address owner is never demoted");
    assert_eq!(Demotion { value: 500, ..on }.vrrp_prio(100), 0);
    assert_eq!(Demotion { value: -500, ..on }.vrrp_prio(100), 254);
    assert_eq!(D0.vrrp_prio(100), 100);
    assert_eq!(Demotion { value: 60, ..D0 }.vrrp_prio(100), 100);
    // With it, a demoted MASTER yields to a peer above its demoted priority.
    let mut ev = Vec::new();
    let mut sc = Softc::new(1, 3);
    sc.state = CarpState::Master;
    let peer = VrrpHeard {
        priority: 90,
        max_adver_int: 100,
    };
    vrrp_input(at(0), &mut sc, V4, &sysctl(1), D0, peer, Af::Inet, &mut ev);
    assert_eq!(sc.state, CarpState::Master);
    vrrp_input(at(0), &mut sc, V4, &sysctl(1), on, peer, Af::Inet, &mut ev);
    assert_eq!(sc.state, CarpState::Backup);
}

// ----- carpctl state: what a forced state lasts ----------------------------
//
// `carpctl state` sends ifconfig's `vhid N state master|backup`, which
// `carp_ioctl_set()` (sys/netinet/ip_carp.c) turns into
// `carp_master_down_locked(sc, "user requested via ifconfig")` for MASTER and
// `carp_set_state(sc, BACKUP, ...)` + `carp_setrun(sc, 0)` for BACKUP
// (emulated in carp/vhid_ioctl.rs). Nothing pins the state; these tests
// pin what carpctl(8) says happens next.

/// An advertisement with advbase 1 and `advskew`.
fn heard1(advskew: u8) -> CarpHeard {
    CarpHeard {
        advbase: 1,
        advskew,
        counter: 1,
    }
}

/// The state request, as `ifconfig vhid N state` makes it
/// ([`user_state`], what the ioctl path calls).
fn force(sc: &mut Softc, to: CarpState, ev: &mut Vec<Event>) {
    user_state(at(0), sc, V4, (1, D0), to, ev);
}

#[test]
fn a_forced_master_steps_down_at_the_first_better_advertisement_whatever_preempt() {
    // carp_input_c(), case MASTER: a more frequent (or equal) advertisement
    // sends it to BACKUP; preempt is not consulted.
    for preempt in [0, 1] {
        let mut ev = Vec::new();
        let mut sc = softc(CarpState::Backup, 1, 100);
        force(&mut sc, CarpState::Master, &mut ev);
        assert_eq!(sc.state, CarpState::Master);
        let better = heard1(0);
        ev.clear();
        carp_input(
            at(10),
            &mut sc,
            V4,
            &sysctl(preempt),
            D0,
            better,
            Af::Inet,
            &mut ev,
        );
        assert_eq!(
            states(&ev),
            [(
                CarpState::Master,
                CarpState::Backup,
                "more frequent advertisement received"
            )],
            "preempt {preempt}"
        );
    }
    // A worse advertiser does not move it: the forced MASTER stays.
    let mut ev = Vec::new();
    let mut sc = softc(CarpState::Backup, 1, 0);
    force(&mut sc, CarpState::Master, &mut ev);
    let worse = heard1(100);
    carp_input(
        at(10),
        &mut sc,
        V4,
        &sysctl(0),
        D0,
        worse,
        Af::Inet,
        &mut ev,
    );
    assert_eq!(sc.state, CarpState::Master);
}

#[test]
fn a_forced_backup_with_the_best_skew_takes_back_over() {
    // Nobody else became MASTER: its own master-down timer fires
    // (carp_master_down(), 3 × advbase + advskew/256 after the request).
    let mut ev = Vec::new();
    let mut sc = softc(CarpState::Master, 1, 0);
    force(&mut sc, CarpState::Backup, &mut ev);
    assert_eq!(sc.state, CarpState::Backup);
    assert_eq!(sc.run.ad, None, "it stops advertising");
    let t = hz1000(3_000_000);
    ev.clear();
    timeout(at(t), &mut sc, V4, 1, D0, &mut ev);
    assert_eq!(
        states(&ev),
        [(CarpState::Backup, CarpState::Master, "master timed out")]
    );
    // Another node timed out first and advertises, slower: with preempt the
    // forced BACKUP takes over at its first advertisement (carp_input_c(),
    // case BACKUP, "preempting a slower master"); without, it stays BACKUP
    // and re-arms its timer at each advertisement.
    let slower = heard1(100);
    for (preempt, want) in [(1, CarpState::Master), (0, CarpState::Backup)] {
        let mut ev = Vec::new();
        let mut sc = softc(CarpState::Master, 1, 0);
        force(&mut sc, CarpState::Backup, &mut ev);
        carp_input(
            at(10),
            &mut sc,
            V4,
            &sysctl(preempt),
            D0,
            slower,
            Af::Inet,
            &mut ev,
        );
        assert_eq!(sc.state, want, "preempt {preempt}");
    }
}
