//! The value 240, `CARP_MAXSKEW` (`sys/netinet/ip_carp.h`), and the roles
//! it plays in carpctl. One constant; each role is a documented alias of
//! it, so that a reader sees why a 240 is there and that all are the same.
//!
//! The kernel advertises `DEMOTE_ADVSKEW` = min(advskew + demotion, 240)
//! (`sys/netinet/ip_carp.c`; docs/freebsd-carp.md §8): 240 is what a fully
//! demoted vhid advertises, and no demotion can push a skew past it.

/// `CARP_MAXSKEW`: the skew a fully demoted node advertises. Planned skews
/// stay strictly below it, so that a demoted node always yields.
pub(crate) const CARP_MAXSKEW: u8 = carpctl_sys::CARP_MAXSKEW;

/// The largest demotion weight (of a check, maintenance, the boot hold)
/// that still changes anything: the kernel clamps the advertised skew at
/// [`CARP_MAXSKEW`].
pub(crate) const MAX_WEIGHT: u16 = CARP_MAXSKEW as u16;

/// What `carpctl maintenance on` adds to `net.inet.carp.demotion`:
/// [`CARP_MAXSKEW`], the most any vhid can be demoted, so every VIP moves
/// to a node that is not in maintenance.
pub(crate) const MAINTENANCE_WEIGHT: u16 = MAX_WEIGHT;

/// What the boot hold adds, for the same reason as [`MAINTENANCE_WEIGHT`].
pub(crate) const BOOT_HOLD_WEIGHT: u16 = MAX_WEIGHT;

/// The most nodes a cluster may have: the number of ranks CARP can tell
/// apart. An advertisement carries an advskew of 0 to 254, but the kernel
/// advertises `min(advskew + demotion, 240)`, so a node planned at 240 or
/// more would look fully demoted, and no demotion could move a VIP behind
/// it. Planned skews are therefore 0 to 239: 240 ranks at `advskew_step`
/// 1, ⌈240 / step⌉ at a larger step (60 at the default 4), which limits
/// each VIP's order (`plan::check_order`). A VIP without `prefer` ranks
/// every node, so more than 240 nodes could never share one, at any step;
/// and the plan looks at every single and double failure, N(N−1)/2 of
/// them, which this keeps bounded (28 680 at 240 nodes). (The simulator's
/// own, smaller limit is `sim::limits::MAX_NODES`.)
pub(crate) const MAX_NODES: usize = CARP_MAXSKEW as usize;
