//! The carp(4) state machine of `sys/netinet/ip_carp.c`
//! (`docs/freebsd-carp.md` §8): `carp_set_state`, `carp_setrun`,
//! `carp_sc_state`, `carp_master_down_locked`, `carp_send_ad_locked`'s
//! rescheduling, `carp_send_ad_error`, `carp_demote_adj`, and the state half
//! of `carp_input_c` / `vrrp_input_c`. What differs between releases comes
//! from [`super::release`].
//!
//! **Time.** Where FreeBSD arms a callout (`sc_md_tmo`, `sc_md6_tmo`,
//! `sc_ad_tmo`), this module sets an absolute deadline in the softc's
//! [`Run`] (microseconds of virtual time, [`Parent::now`]) and, when that
//! deadline is earlier than the wake-up already requested for the softc,
//! emits [`Event::Wake`]. Whoever drives time (the simulator) calls
//! [`timeout`] at that moment; a file-backed host never does, so there
//! timers are armed and simply never fire, which is exactly the old
//! timer-free behaviour. A re-armed timer (a BACKUP hearing its master
//! every second) changes only the deadline, never the wake-up queue: the
//! wake-up at the old deadline finds the new one and asks again.
//!
//! Timers are kernel ticks, as on FreeBSD (§8.1): the interval is converted
//! with `tvtohz()` (rounded up, plus one tick) and the callout fires on the
//! host's hardclock tick that many ticks after the last one ([`Hz`]). So a
//! deadline is always at least one tick after the present: a timer that
//! fires at the instant it was armed, and re-arms itself there forever,
//! cannot be expressed.
//!
//! **Output.** Sending is the host's job (it needs the interface's
//! addresses, the key and the sysctls): this module emits
//! [`Event::SendAd`], [`Event::Announce`] (gratuitous ARP and unsolicited
//! NA) and [`Event::SendAdAll`] (the taskqueue task `carp_demote_adj()`
//! enqueues; the host runs it once per burst), in the order `ip_carp.c`
//! does them.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::model::CarpState;

use super::release::Rules;
use super::state::{Naddrs, Softc, Sysctls};

mod parent;
pub(super) use parent::Parent;
pub(in crate::kernel::emulated) use parent::with_parent;

/// One second in microseconds.
const SEC: i64 = 1_000_000;
/// `INT_MAX`: `tvtohz()` never returns more ticks.
const INT_MAX_TICKS: u64 = i32::MAX as u64;

/// Something the kernel did that someone outside the state machine acts
/// on: a log line, a devd event, a timer to wake up, a packet to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `carp: 1@em0: BACKUP -> MASTER (master timed out)`, and the devd
    /// event `!system=CARP subsystem=1@em0 type=MASTER` ([`Event::devd`]).
    State {
        ifname: String,
        vhid: u8,
        from: CarpState,
        to: CarpState,
        reason: &'static str,
    },
    /// `carp: demoted by 240 to 240 (interface down)`.
    Demotion {
        delta: i32,
        total: i32,
        reason: Cow<'static, str>,
    },
    /// A timer of vhid `vhid` on the interface with index `ifindex` was
    /// armed for `at` (µs), earlier than any wake-up already requested for
    /// it: call [`timeout`] then.
    Wake { ifindex: u16, vhid: u8, at: u64 },
    /// `send_ad_locked()`: build and send this vhid's advertisement(s) now.
    SendAd { ifindex: u16, vhid: u8 },
    /// `carp_send_arp()` + `carp_send_na()`: announce every address of the
    /// vhid with its virtual MAC.
    Announce { ifindex: u16, vhid: u8 },
    /// `taskqueue_enqueue(taskqueue_swi, &carp_sendall_task)`, done by
    /// every demotion change: `carp_send_ad_all()` (every MASTER advertises)
    /// runs once after the kernel entry that enqueued it, however many
    /// changes enqueued it meanwhile (a pending task is not queued twice).
    SendAdAll,
}

impl Event {
    /// Whether the kernel logs this (`CARP_LOG`); the rest is plumbing.
    pub(crate) fn is_log(&self) -> bool {
        matches!(self, Event::State { .. } | Event::Demotion { .. })
    }

    /// The devctl line `devctl_notify("CARP", "<vhid>@<if>", "<STATE>",
    /// NULL)` gives devd (`docs/freebsd-carp.md` §11), for a state change.
    pub fn devd(&self) -> Option<String> {
        match self {
            Event::State {
                ifname, vhid, to, ..
            } => Some(format!(
                "!system=CARP subsystem={vhid}@{ifname} type={to}\n"
            )),
            _ => None,
        }
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::State {
                ifname,
                vhid,
                from,
                to,
                reason,
            } => {
                write!(f, "carp: {vhid}@{ifname}: {from} -> {to} ({reason})")
            }
            Event::Demotion {
                delta,
                total,
                reason,
            } => {
                write!(f, "carp: demoted by {delta} to {total} ({reason})")
            }
            Event::Wake { ifindex, vhid, at } => {
                write!(f, "wake vhid {vhid} on ifindex {ifindex} at {at} us")
            }
            Event::SendAd { ifindex, vhid } => {
                write!(f, "send advertisement of vhid {vhid} on ifindex {ifindex}")
            }
            Event::Announce { ifindex, vhid } => {
                write!(f, "announce vhid {vhid} on ifindex {ifindex}")
            }
            Event::SendAdAll => f.write_str("every MASTER advertises"),
        }
    }
}

/// `kern.hz` of a host and the phase of its hardclock: ticks fall at
/// `phase + k × tick` µs of virtual time (`tick = 1000000 / hz`, as
/// `sys/kern/subr_param.c` computes it). Hosts boot at unrelated moments,
/// so the simulator gives each its own phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hz {
    hz: u32,
    /// `tick = 1000000 / hz`, µs.
    tick: u64,
    phase: u64,
}

impl Default for Hz {
    /// FreeBSD's default `kern.hz`, ticks at whole milliseconds.
    fn default() -> Self {
        Hz {
            hz: Hz::DEFAULT,
            tick: u64::from(1_000_000 / Hz::DEFAULT),
            phase: 0,
        }
    }
}

impl Hz {
    /// `HZ` of a GENERIC kernel.
    pub(crate) const DEFAULT: u32 = 1000;
    /// The range accepted ([`Hz::new`]): 10 to 10000 ticks a second.
    pub(crate) const MIN: u32 = 10;
    pub(crate) const MAX: u32 = 10_000;

    /// `hz` ticks a second, the first at `phase` µs (taken modulo a tick).
    /// `None` outside [`Hz::MIN`]..=[`Hz::MAX`].
    pub(crate) fn new(hz: u32, phase: u64) -> Option<Hz> {
        if !(Hz::MIN..=Hz::MAX).contains(&hz) {
            return None;
        }
        let tick = u64::from(1_000_000 / hz);
        Some(Hz {
            hz,
            tick,
            phase: phase % tick,
        })
    }

    pub(crate) fn hz(self) -> u32 {
        self.hz
    }

    /// `tick`: µs per tick.
    pub(crate) fn tick_us(self) -> u64 {
        self.tick
    }

    /// `tvtohz()` (`sys/kern/kern_clock.c`): the ticks a `struct timeval`
    /// lasts, rounded up, plus one "to allow for the current tick to
    /// expire", at most `INT_MAX`. Unsigned `long` arithmetic as in C: a
    /// total below zero whose whole seconds are not (13.0's negative
    /// demoted skew) wraps to a huge value and parks the callout for
    /// `INT_MAX` ticks (24.8 days at hz 1000); negative seconds give 1.
    pub(crate) fn tvtohz(self, tv: Tv) -> u64 {
        let (mut sec, mut usec) = (tv.sec, tv.usec);
        if usec < 0 {
            sec -= 1;
            usec += SEC;
        }
        let ticks = if sec < 0 {
            1
        } else {
            let tick = self.tick_us();
            // howmany(sec * 1000000 + (unsigned long)usec, tick) + 1
            let total = (sec as u64)
                .wrapping_mul(1_000_000)
                .wrapping_add(usec as u64);
            div_tick(total.wrapping_add(tick - 1), tick).wrapping_add(1)
        };
        ticks.min(INT_MAX_TICKS)
    }

    /// `callout_reset(c, ticks, ...)` at `now`: the callout fires on the
    /// hardclock tick `ticks` after the last one at or before `now`
    /// (`C_HARDCLOCK`), so 0 to 1 tick earlier than `ticks × tick` from
    /// now. At least one tick is always waited: the result is strictly
    /// after `now`.
    pub(crate) fn callout_at(self, now: u64, ticks: u64) -> u64 {
        let tick = self.tick_us();
        let in_tick = now - div_tick(now, tick) * tick;
        let since_tick = if in_tick >= self.phase {
            in_tick - self.phase
        } else {
            in_tick + tick - self.phase
        };
        let at = now.saturating_add(ticks.max(1).saturating_mul(tick)) - since_tick;
        debug_assert!(at > now, "a callout at or before now");
        at.max(now.saturating_add(1))
    }
}

/// An address family, indexing [`super::state::Run::md`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Af {
    Inet = 0,
    Inet6 = 1,
}

/// The global demotion as the state machine uses it: `V_carp_demotion`,
/// whether `DEMOTE_ADVSKEW()` clamps below at 0 (13.1 and later; 13.0
/// only clamps above, `docs/freebsd-carp.md` §2) and whether VRRPv3
/// priorities are demoted too (review D55558).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Demotion {
    pub value: i32,
    pub(crate) clamp_low: bool,
    pub vrrp: bool,
}

impl Demotion {
    /// `V_carp_demotion` = `value` on a release with `rules`.
    pub(crate) fn new(value: i32, rules: &Rules) -> Self {
        Demotion {
            value,
            clamp_low: rules.demote_clamps_low,
            vrrp: rules.vrrp_demotion,
        }
    }

    /// `DEMOTE_VRRP_PRIO()` of review D55558 where the release has it
    /// (the configured priority minus the demotion, clamped to 0..=254;
    /// 255, the address owner, is never demoted); elsewhere the configured
    /// priority.
    pub(crate) fn vrrp_prio(self, prio: u8) -> u8 {
        if !self.vrrp || prio == 255 {
            return prio;
        }
        let p = i32::from(prio).saturating_sub(self.value).clamp(0, 254);
        u8::try_from(p).unwrap_or(254)
    }

    /// `DEMOTE_ADVSKEW(sc)`: the skew a vhid advertises and compares with.
    pub(crate) fn skew(self, advskew: i32) -> i32 {
        let s = advskew.saturating_add(self.value);
        let max = i32::from(carpctl_sys::CARP_MAXSKEW);
        if s > max {
            max
        } else if self.clamp_low && s < 0 {
            0
        } else {
            s
        }
    }
}

/// `x / tick`. Every received advertisement re-arms a timer, so this runs
/// for each: the common ticks (hz 1000, 100, 250, 128) divide by a
/// constant, which the compiler turns into a multiplication.
#[inline]
fn div_tick(x: u64, tick: u64) -> u64 {
    match tick {
        1000 => x / 1000,
        10_000 => x / 10_000,
        4000 => x / 4000,
        7812 => x / 7812,
        t => x / t,
    }
}

/// `struct timeval` as `ip_carp.c` builds it: `(seconds, skew × 1000000 /
/// 256 µs)`, compared with `timevalcmp()` (seconds first, then µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tv {
    pub(crate) sec: i64,
    pub(crate) usec: i64,
}

impl Tv {
    /// `tv_usec = skew * 1000000 / 256`, computed in C `int` as
    /// `ip_carp.c` does (it wraps for a skew beyond ±2147, reachable only
    /// with an unclamped negative demotion).
    pub(crate) fn carp(sec: i64, skew: i32) -> Tv {
        Tv {
            sec,
            usec: i64::from(skew.wrapping_mul(1_000_000) / 256),
        }
    }
}

impl PartialOrd for Tv {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Tv {
    /// `timevalcmp()`: `tv_sec` first, `tv_usec` on a tie.
    fn cmp(&self, other: &Self) -> Ordering {
        self.sec.cmp(&other.sec).then(self.usec.cmp(&other.usec))
    }
}

/// The master-down delay of a BACKUP (`carp_setrun()`), in ticks: CARP
/// `tvtohz(3 × advbase + advskew/256 s)` with the **configured** skew;
/// VRRPv3 `(3 × master_inter + (256 − prio) × master_inter / 256) × hz /
/// 100` (centiseconds, integer arithmetic).
pub(super) fn master_down_ticks(sc: &Softc, hz: Hz) -> u64 {
    if sc.is_vrrp() {
        let mi = u64::from(sc.run.vrrp_master_inter);
        let skew = (256 - u64::from(sc.vrrp_priority)) * mi / 256;
        (skew + 3 * mi) * u64::from(hz.hz()) / 100
    } else {
        hz.tvtohz(Tv::carp(3 * i64::from(sc.advbase), sc.advskew))
    }
}

/// The advertisement interval in ticks: CARP `tvtohz(advbase + skew/256
/// s)` with the skew given (undemoted in `carp_setrun()`, `DEMOTE_ADVSKEW`
/// in `carp_send_ad_locked()`); VRRPv3 `adv_inter × hz / 100`.
pub(super) fn ad_interval_ticks(sc: &Softc, skew: i32, hz: Hz) -> u64 {
    if sc.is_vrrp() {
        u64::from(sc.vrrp_adv_inter) * u64::from(hz.hz()) / 100
    } else {
        hz.tvtohz(Tv::carp(i64::from(sc.advbase), skew))
    }
}

/// Which timer of a softc.
#[derive(Debug, Clone, Copy)]
enum Timer {
    Md(Af),
    Ad,
}

/// `callout_reset()` for `ticks`: set the deadline, and ask for a wake-up
/// if none is pending at or before it.
fn arm(p: Parent<'_>, sc: &mut Softc, t: Timer, ticks: u64, ev: &mut Vec<Event>) {
    let at = p.hz.callout_at(p.now, ticks);
    match t {
        Timer::Md(af) => sc.run.md[af as usize] = Some(at),
        Timer::Ad => sc.run.ad = Some(at),
    }
    request_wake(p, sc, at, ev);
}

fn request_wake(p: Parent<'_>, sc: &mut Softc, at: u64, ev: &mut Vec<Event>) {
    if sc.run.wake.is_none_or(|w| w > at) {
        sc.run.wake = Some(at);
        ev.push(Event::Wake {
            ifindex: p.index,
            vhid: sc.vhid,
            at,
        });
    }
}

/// `callout_stop()` of every timer.
fn stop_all(sc: &mut Softc) {
    sc.run.md = [None, None];
    sc.run.ad = None;
}

/// `carp_set_state()`: change the state and announce it, only if it differs.
pub(super) fn set_state(
    p: Parent<'_>,
    sc: &mut Softc,
    to: CarpState,
    reason: &'static str,
    ev: &mut Vec<Event>,
) {
    if sc.state != to {
        ev.push(Event::State {
            ifname: p.name.to_string(),
            vhid: sc.vhid,
            from: sc.state,
            to,
            reason,
        });
        sc.state = to;
    }
}

/// `carp_setrun(sc, af)`: nothing unless the parent is up with link up, the
/// vhid has an address and `allow` is set. INIT becomes BACKUP
/// ("initialization complete") and runs again; BACKUP stops the ad timer
/// and (re)arms the master-down timer of `af`, or with `af` = `None` of
/// every family that has addresses; MASTER arms the ad timer at the
/// **undemoted** interval.
pub(super) fn setrun(
    p: Parent<'_>,
    sc: &mut Softc,
    n: Naddrs,
    allow: i32,
    af: Option<Af>,
    ev: &mut Vec<Event>,
) {
    if !p.up || !p.link_up || n.total() == 0 || allow == 0 {
        return;
    }
    match sc.state {
        CarpState::Init => {
            set_state(p, sc, CarpState::Backup, "initialization complete", ev);
            setrun(p, sc, n, allow, None, ev);
        }
        CarpState::Backup => {
            sc.run.ad = None;
            let delay = master_down_ticks(sc, p.hz);
            match af {
                Some(af) => arm(p, sc, Timer::Md(af), delay, ev),
                None => {
                    if n.v4 > 0 {
                        arm(p, sc, Timer::Md(Af::Inet), delay, ev);
                    }
                    if n.v6 > 0 {
                        arm(p, sc, Timer::Md(Af::Inet6), delay, ev);
                    }
                }
            }
        }
        CarpState::Master => {
            let delay = ad_interval_ticks(sc, sc.advskew, p.hz);
            arm(p, sc, Timer::Ad, delay, ev);
        }
    }
}

/// `carp_sc_state()`: run on address attach/detach, link and `IFF_UP`
/// changes and `allow` changes. Down (or `allow` = 0): every timer stopped,
/// INIT, and the ifdown demotion once per vhid; up: INIT, then `setrun`
/// (INIT -> BACKUP when the vhid has an address, master-down timers armed)
/// and the demotion undone.
pub(super) fn sc_state(
    p: Parent<'_>,
    sc: &mut Softc,
    n: Naddrs,
    sysctl: &mut Sysctls,
    ev: &mut Vec<Event>,
) {
    if !p.link_up || !p.up || sysctl.allow == 0 {
        stop_all(sc);
        set_state(p, sc, CarpState::Init, "hardware interface down", ev);
        setrun(p, sc, n, sysctl.allow, None, ev);
        if !sc.suppressed {
            let adj = sysctl.ifdown_demotion_factor;
            demote_adj(sysctl, adj, "interface down", ev);
        }
        sc.suppressed = true;
    } else {
        set_state(p, sc, CarpState::Init, "hardware interface up", ev);
        setrun(p, sc, n, sysctl.allow, None, ev);
        if sc.suppressed {
            let adj = sysctl.ifdown_demotion_factor;
            demote_adj(sysctl, adj.wrapping_neg(), "interface up", ev);
        }
        sc.suppressed = false;
    }
}

/// A state asked for with `ifconfig vhid N state master|backup`
/// (`carp_ioctl_set()`, the `carpr_state` part): MASTER through
/// `carp_master_down_locked()`, BACKUP by stopping the ad timer,
/// `carp_set_state()` and `carp_setrun()`. The caller has checked that
/// the vhid is not in INIT and that the state differs.
pub(super) fn user_state(
    p: Parent<'_>,
    sc: &mut Softc,
    n: Naddrs,
    (allow, d): (i32, Demotion),
    to: CarpState,
    ev: &mut Vec<Event>,
) {
    const WHY: &str = "user requested via ifconfig";
    match to {
        CarpState::Master => master_down(p, sc, n, allow, d, WHY, ev),
        CarpState::Backup => {
            sc.run.ad = None;
            set_state(p, sc, CarpState::Backup, WHY, ev);
            setrun(p, sc, n, allow, None, ev);
        }
        CarpState::Init => {}
    }
}

/// `carp_master_down_locked()`: BACKUP becomes MASTER, advertises at once,
/// announces its addresses (gratuitous ARP, unsolicited NA), and `setrun`
/// arms the ad timer at the undemoted interval. A no-op in INIT and MASTER
/// (FreeBSD panics there under INVARIANTS).
pub(super) fn master_down(
    p: Parent<'_>,
    sc: &mut Softc,
    n: Naddrs,
    allow: i32,
    d: Demotion,
    reason: &'static str,
    ev: &mut Vec<Event>,
) {
    if sc.state == CarpState::Backup {
        set_state(p, sc, CarpState::Master, reason, ev);
        send_ad(p, sc, d, ev);
        ev.push(Event::Announce {
            ifindex: p.index,
            vhid: sc.vhid,
        });
        setrun(p, sc, n, allow, None, ev);
    }
}

/// `send_ad_locked()`: send now, then `callout_reset(&sc_ad_tmo)` at
/// `advbase + DEMOTE_ADVSKEW/256` (CARP) or `adv_inter` (VRRPv3): every ad
/// after the first of a MASTER uses the demoted skew.
pub(super) fn send_ad(p: Parent<'_>, sc: &mut Softc, d: Demotion, ev: &mut Vec<Event>) {
    ev.push(Event::SendAd {
        ifindex: p.index,
        vhid: sc.vhid,
    });
    let delay = ad_interval_ticks(sc, d.skew(sc.advskew), p.hz);
    arm(p, sc, Timer::Ad, delay, ev);
}

/// A wake-up requested by [`Event::Wake`] arrived at `p.now`: run the
/// callouts that are due (`carp_master_down()` for each family,
/// `carp_callout()`), then ask for the next wake-up if a timer remains.
pub(super) fn timeout(
    p: Parent<'_>,
    sc: &mut Softc,
    n: Naddrs,
    allow: i32,
    d: Demotion,
    ev: &mut Vec<Event>,
) {
    if sc.run.wake.is_some_and(|w| w <= p.now) {
        sc.run.wake = None;
    }
    for af in [Af::Inet, Af::Inet6] {
        if sc.run.md[af as usize].is_some_and(|t| t <= p.now) {
            sc.run.md[af as usize] = None;
            // carp_master_down(): only a BACKUP acts on it.
            if sc.state == CarpState::Backup {
                master_down(p, sc, n, allow, d, "master timed out", ev);
            }
        }
    }
    if sc.run.ad.is_some_and(|t| t <= p.now) {
        sc.run.ad = None;
        send_ad(p, sc, d, ev);
    }
    let next = [sc.run.md[0], sc.run.md[1], sc.run.ad]
        .into_iter()
        .flatten()
        .min();
    if let Some(at) = next {
        request_wake(p, sc, at, ev);
    }
}

/// What `carp_input_c()` takes from a CARP header that passed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CarpHeard {
    pub advbase: u8,
    pub advskew: u8,
    pub counter: u64,
}

/// The state half of `carp_input_c()`, after the HMAC verified: store the
/// counter, then compare `my = (advbase, DEMOTE_ADVSKEW)` with the peer's
/// `(advbase, advskew)`:
///
/// * MASTER and `my >= peer` (a **tie** too): BACKUP, "more frequent
///   advertisement received";
/// * BACKUP, `preempt` and `my < peer`: MASTER, "preempting a slower
///   master";
/// * BACKUP and `(3 × advbase, DEMOTE_ADVSKEW) < peer`: MASTER, "master
///   will time out";
/// * BACKUP otherwise: restart that family's master-down timer.
#[allow(clippy::too_many_arguments)]
pub(super) fn carp_input(
    p: Parent<'_>,
    sc: &mut Softc,
    n: Naddrs,
    sysctl: &Sysctls,
    d: Demotion,
    heard: CarpHeard,
    af: Af,
    ev: &mut Vec<Event>,
) {
    // "XXX Replay protection goes here": none.
    sc.run.init_counter = false;
    sc.run.counter = heard.counter;
    let mine = d.skew(sc.advskew);
    let sc_tv = Tv::carp(i64::from(sc.advbase), mine);
    let ch_tv = Tv::carp(i64::from(heard.advbase), i32::from(heard.advskew));
    match sc.state {
        CarpState::Init => {}
        CarpState::Master => {
            if sc_tv >= ch_tv {
                sc.run.ad = None;
                set_state(
                    p,
                    sc,
                    CarpState::Backup,
                    "more frequent advertisement received",
                    ev,
                );
                setrun(p, sc, n, sysctl.allow, None, ev);
            }
        }
        CarpState::Backup => {
            if sysctl.preempt != 0 && sc_tv < ch_tv {
                master_down(p, sc, n, sysctl.allow, d, "preempting a slower master", ev);
                return;
            }
            // sc_tv.tv_sec = sc->sc_advbase * 3; tv_usec keeps the demoted skew.
            let three = Tv {
                sec: 3 * i64::from(sc.advbase),
                usec: sc_tv.usec,
            };
            if three < ch_tv {
                master_down(p, sc, n, sysctl.allow, d, "master will time out", ev);
                return;
            }
            setrun(p, sc, n, sysctl.allow, Some(af), ev);
        }
    }
}

/// What `vrrp_input_c()` takes from a VRRPv3 advertisement that passed
/// validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct VrrpHeard {
    pub priority: u8,
    /// `ntohs(vrrp_max_adver_int)`: the 4 reserved bits are **not** masked
    /// (MAIN).
    pub(crate) max_adver_int: u16,
}

/// The state half of `vrrp_input_c()` (`docs/freebsd-carp.md` §8.7): priority 255
/// ignores peers; the master interval is learned; MASTER steps down for a
/// faster or higher-priority peer; BACKUP with preempt takes over from a
/// slower or lower-priority one; otherwise the master-down timer restarts.
/// Equal priority and interval: nothing happens (no address tiebreak).
#[allow(clippy::too_many_arguments)]
pub(super) fn vrrp_input(
    p: Parent<'_>,
    sc: &mut Softc,
    n: Naddrs,
    sysctl: &Sysctls,
    d: Demotion,
    heard: VrrpHeard,
    af: Af,
    ev: &mut Vec<Event>,
) {
    if sc.vrrp_priority == 255 {
        return;
    }
    sc.run.vrrp_master_inter = heard.max_adver_int;
    // VRRPv3 knows no demotion before review D55558 (§8.7): `prio` is the
    // configured priority there.
    let prio = d.vrrp_prio(sc.vrrp_priority);
    match sc.state {
        CarpState::Init => {}
        CarpState::Master => {
            if heard.max_adver_int < sc.vrrp_adv_inter || heard.priority > prio {
                sc.run.ad = None;
                set_state(
                    p,
                    sc,
                    CarpState::Backup,
                    "more frequent advertisement received",
                    ev,
                );
                setrun(p, sc, n, sysctl.allow, None, ev);
            }
        }
        CarpState::Backup => {
            if sysctl.preempt != 0
                && (heard.max_adver_int > sc.vrrp_adv_inter || heard.priority < prio)
            {
                master_down(p, sc, n, sysctl.allow, d, "preempting a slower master", ev);
                return;
            }
            setrun(p, sc, n, sysctl.allow, Some(af), ev);
        }
    }
}

/// `carp_send_ad_error()`: the outcome of one `ip_output()`. The 3rd
/// consecutive error demotes by `senderr_demotion_factor` ("send error
/// <errno> on <if>"); any error resets the success count. With `recovers`
/// (PR 260499, 9a8cf950) 3 successes after that undo it ("send ok on
/// <if>"). Without it (13.0's code), the first success clears the error
/// count before any success is counted, so the demotion stays.
pub(super) fn send_result(
    p: Parent<'_>,
    sc: &mut Softc,
    sysctl: &mut Sysctls,
    error: Option<i32>,
    recovers: bool,
    ev: &mut Vec<Event>,
) {
    const MAX_ERRORS: u32 = 3;
    const MIN_SUCCESS: u32 = 3;
    match error {
        Some(errno) => {
            sc.run.sendad_errors = sc.run.sendad_errors.saturating_add(1);
            if sc.run.sendad_errors == MAX_ERRORS {
                let adj = sysctl.senderr_demotion_factor;
                let reason = format!("send error {errno} on {}", p.name);
                demote_adj(sysctl, adj, reason, ev);
            }
            sc.run.sendad_success = 0;
        }
        None if !recovers => {
            // if (errors >= MAX && ++success >= MIN) { undo } else errors = 0;
            if sc.run.sendad_errors >= MAX_ERRORS {
                sc.run.sendad_success += 1;
                if sc.run.sendad_success >= MIN_SUCCESS {
                    let adj = sysctl.senderr_demotion_factor;
                    let reason = format!("send ok on {}", p.name);
                    demote_adj(sysctl, adj.wrapping_neg(), reason, ev);
                }
            }
            sc.run.sendad_errors = 0;
        }
        None if sc.run.sendad_errors > 0 => {
            sc.run.sendad_success += 1;
            if sc.run.sendad_success >= MIN_SUCCESS {
                if sc.run.sendad_errors >= MAX_ERRORS {
                    let adj = sysctl.senderr_demotion_factor;
                    let reason = format!("send ok on {}", p.name);
                    demote_adj(sysctl, adj.wrapping_neg(), reason, ev);
                }
                sc.run.sendad_errors = 0;
            }
        }
        None => {}
    }
}

/// `carp_demote_adj()`: `atomic_add_int(&V_carp_demotion, adj)` (wraps like
/// the C `int`), log it, and enqueue the `carp_send_ad_all()` task so that
/// every MASTER advertises its new skew ([`Event::SendAdAll`]).
pub(super) fn demote_adj(
    sysctl: &mut Sysctls,
    adj: i32,
    reason: impl Into<Cow<'static, str>>,
    ev: &mut Vec<Event>,
) {
    sysctl.demotion = sysctl.demotion.wrapping_add(adj);
    ev.push(Event::Demotion {
        delta: adj,
        total: sysctl.demotion,
        reason: reason.into(),
    });
    ev.push(Event::SendAdAll);
}

#[cfg(test)]
mod tests;
