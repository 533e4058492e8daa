//! VRRPv3 priorities from rank (FreeBSD 15+, `ifconfig ... carpver 3`).
//!
//! What FreeBSD does (freebsd-src `sys/netinet/ip_carp.c` @ e4452d45, the
//! VRRPv3 code of main / 15.0):
//!
//! * **Defaults.** `carp_alloc()` creates a VRRPv3 vhid with priority 100
//!   and an advertisement interval of 100 centiseconds.
//! * **Range.** `carp_nl_set()` refuses an interval above
//!   `VRRP_MAX_INTERVAL` (4095 cs, the 12-bit field); `carp_ioctl_set()`
//!   takes priority 0 and interval 0 to mean "keep" and accepts any other
//!   priority, 1 to 255 ("XXXGL: shouldn't we check anything?"). So an
//!   interval is 1..=4095 cs and a priority 1..=255.
//! * **Timers.** `carp_setrun()`: a BACKUP's master-down timeout is
//!   `((256 − prio) × master_inter / 256 + 3 × master_inter) × hz / 100`
//!   ticks, integer arithmetic, with `master_inter` the interval the master
//!   advertises (`vrrp_input_c()` copies it from every advertisement). The
//!   skew time is truncated to whole centiseconds *before* it is scaled to
//!   ticks, so two backups separate only if their skew times differ by a
//!   whole centisecond — one tick at `kern.hz=100`, ⌊hz/100⌋ ≥ 1 ticks at
//!   any hz ≥ 100.
//! * **Election.** `vrrp_input_c()`: a node at priority 255 ignores every
//!   advertisement (RFC 9568 §7.1), so it never yields; a MASTER steps down
//!   only for a shorter interval or a *higher* priority; a BACKUP with
//!   `net.inet.carp.preempt=1` takes over from a longer interval or a
//!   *lower* priority. Equal priorities and intervals change nothing: two
//!   MASTERs at one priority both stay MASTER (CARP at least flaps), and
//!   nothing breaks the tie by address. Because the interval is compared
//!   before the priority, the members of a VIP must agree on it: a member
//!   with a shorter interval wins whatever its priority.
//! * **Demotion does not apply.** `DEMOTE_ADVSKEW` is used only on the CARP
//!   paths; `vrrp_send_ad_locked()` advertises `sc_vrrp_prio` and
//!   `carp_setrun()` times out with it, unchanged by
//!   `net.inet.carp.demotion`. A demotion change still runs
//!   `carp_demote_adj()`, whose `carp_send_ad_all()` makes every VRRP
//!   MASTER advertise once more, and an interface going down still takes
//!   the vhid to INIT (`carp_sc_state()`). (Newer main may add demotion to
//!   VRRP, review D55558, unconfirmed: docs/freebsd-carp.md §2.) So
//!   carpctl moves a VRRP VIP by writing its priority, not by a demotion:
//!   [`MAINTENANCE_PRIORITY`].
//!
//! **Priority rule.** priority = 254 − rank × step, step = ⌈256 /
//! interval⌉:
//!
//! * 255 is the address owner's (RFC 5798 §5.2.4): an owner holds the VIP
//!   as its own interface address, which a carpctl VIP never is, and on
//!   FreeBSD a node at 255 ignores every peer, so two of them would be a
//!   dual master for good. 0 means "keep" in a netlink SET (and "the master
//!   resigns" on the wire). Planned priorities are therefore 1..=254, and
//!   rank 0 takes the top one.
//! * Consecutive ranks differ by `step` in `256 − prio`, so their skew
//!   times differ by at least ⌊step × interval / 256⌋ ≥ 1 cs: two backups
//!   never time out in the same tick at hz=100 (which would be a brief dual
//!   master), and rank 1 times out as early as that allows. ⌈256/interval⌉
//!   is the smallest step with ⌊step × interval / 256⌋ ≥ 1, which is what
//!   guarantees it for any two priorities `step` apart; with one less, some
//!   interval puts two ranks in one tick
//!   (`tests::a_smaller_step_would_collide`).
//! * Priority 1 is kept for maintenance ([`MAINTENANCE_PRIORITY`]), so a
//!   node in maintenance is strictly below every planned rank (an equal
//!   priority would not move the VIP), and ranks end at 2.
//! * The rule leaves ⌊252 / step⌋ + 1 ranks ([`max_ranks`]): 253 at
//!   interval ≥ 256 cs, 85 at FreeBSD's default 100 (step 3), 10 at 10 cs
//!   (step 26), 2 at 2 cs (step 128) and 1 at 1 cs, where no two backups
//!   can be told apart at hz=100 at all. A VIP whose members outnumber the
//!   ranks of its interval is an error naming the interval it needs
//!   ([`min_interval`]).
//!
//! At interval 10 (100 ms) rank 1 (priority 228) takes over
//! `3 × 10 + 28 × 10 / 256` = 31 cs after the last advertisement, against
//! CARP's 3 s floor.

use std::collections::BTreeMap;

/// RFC 5798 §5.2.4: the address owner's priority; never planned.
pub const OWNER_PRIORITY: u8 = 255;
/// The highest priority carpctl plans (rank 0).
pub(crate) const TOP_PRIORITY: u8 = 254;
/// The lowest valid priority (0 is "keep" in a netlink SET).
pub(crate) const MIN_PRIORITY: u8 = 1;
/// What a node in maintenance advertises: strictly below every planned
/// rank, so with preemption on every other member takes the VIP over.
pub(crate) const MAINTENANCE_PRIORITY: u8 = MIN_PRIORITY;
/// The lowest priority a rank is given: one above maintenance.
pub(crate) const LOWEST_PLANNED: u8 = MAINTENANCE_PRIORITY + 1;
/// `carp_alloc()`'s defaults for a new VRRPv3 vhid.
pub(crate) const FREEBSD_DEFAULT_PRIORITY: u8 = 100;
pub(crate) const FREEBSD_DEFAULT_INTERVAL: u16 = 100;
/// `VRRP_MAX_INTERVAL`, centiseconds.
pub(crate) const MAX_INTERVAL: u16 = crate::model::VRRP_MAX_INTERVAL;

/// A VRRPv3 value carpctl cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VrrpError {
    #[error(
        "VRRP interval {interval} is out of range: it is in centiseconds, 1 to {MAX_INTERVAL} \
         (VRRP_MAX_INTERVAL)"
    )]
    Interval { interval: i64 },
    #[error(
        "VRRP VIP {vip}: node {node} would be rank {rank}, but interval {interval} cs leaves \
         {ranks} rank(s) whose takeovers differ by a kernel tick at hz=100; use an interval \
         of at least {needed} cs or fewer members"
    )]
    TooManyRanks {
        vip: String,
        node: String,
        rank: usize,
        interval: u16,
        ranks: usize,
        needed: String,
    },
}

/// A configured interval, checked: 1..=[`MAX_INTERVAL`] centiseconds.
pub(crate) fn check_interval(interval: i64) -> Result<u16, VrrpError> {
    match u16::try_from(interval) {
        Ok(i) if (1..=MAX_INTERVAL).contains(&i) => Ok(i),
        _ => Err(VrrpError::Interval { interval }),
    }
}

/// The priority step of `interval` (cs): ⌈256 / interval⌉, the smallest
/// step whose ranks' skew times differ by a whole centisecond.
pub(crate) fn step(interval: u16) -> u16 {
    256u16.div_ceil(interval.max(1))
}

/// How many ranks `interval` can tell apart: ⌊252 / step⌋ + 1 (254 down to
/// [`LOWEST_PLANNED`]), at least 1.
pub(crate) fn max_ranks(interval: u16) -> usize {
    usize::from(TOP_PRIORITY - LOWEST_PLANNED) / usize::from(step(interval)) + 1
}

/// The smallest interval (cs) whose ranks tell `members` nodes apart;
/// `None` beyond 253 members, which no interval can.
pub(crate) fn min_interval(members: usize) -> Option<u16> {
    (1..=MAX_INTERVAL).find(|&i| max_ranks(i) >= members)
}

/// The planned priority of `rank` at `interval`; `None` past
/// [`max_ranks`].
pub(crate) fn priority(rank: usize, interval: u16) -> Option<u8> {
    let down = rank.checked_mul(usize::from(step(interval)))?;
    let p = usize::from(TOP_PRIORITY).checked_sub(down)?;
    u8::try_from(p).ok().filter(|&p| p >= LOWEST_PLANNED)
}

/// The skew time of a BACKUP at `prio` under a master advertising every
/// `master_inter` cs: `(256 − prio) × master_inter / 256` cs, truncated
/// (`carp_setrun()`).
pub(crate) fn skew_time_cs(prio: u8, master_inter: u16) -> u32 {
    (256 - u32::from(prio)) * u32::from(master_inter) / 256
}

/// The master-down timeout in centiseconds: `3 × master_inter` plus the
/// skew time.
pub fn master_down_cs(prio: u8, master_inter: u16) -> u32 {
    3 * u32::from(master_inter) + skew_time_cs(prio, master_inter)
}

/// The master-down timeout in ticks as `carp_setrun()` computes it
/// (`callout_reset()` then fires within the following tick).
pub fn master_down_ticks(prio: u8, master_inter: u16, hz: u32) -> u64 {
    u64::from(master_down_cs(prio, master_inter)) * u64::from(hz) / 100
}

/// Each node's priority in `order` (rank 0 first) for VIP `vip`.
pub(crate) fn priorities(
    vip: &str,
    order: &[String],
    interval: u16,
) -> Result<BTreeMap<String, u8>, VrrpError> {
    let ranks = max_ranks(interval);
    if let Some(node) = order.get(ranks) {
        return Err(VrrpError::TooManyRanks {
            vip: vip.to_string(),
            node: node.clone(),
            rank: ranks,
            interval,
            ranks,
            needed: min_interval(order.len())
                .map_or_else(|| "more than the maximum".to_string(), |i| i.to_string()),
        });
    }
    Ok(order
        .iter()
        .enumerate()
        .filter_map(|(r, n)| Some((n.clone(), priority(r, interval)?)))
        .collect())
}

#[cfg(test)]
mod tests;
