//! Stepped maintenance: `carpctl maintenance on` hands this node's VIPs to
//! their next rank before it demotes the node fully.
//!
//! # Why in steps
//!
//! A demotion of 240 in one write makes the node advertise skew 240 for
//! each vhid it is MASTER of; every BACKUP of those vhids then finds the
//! master slower than itself and, with `net.inet.carp.preempt=1`, becomes
//! MASTER at once (`carp_input_c()`, FreeBSD sys/netinet/ip_carp.c: the
//! `CARP_BACKUP` case, "preempting a slower master"; emulated in
//! `kernel::emulated::fsm::carp_input`). On three or more nodes that makes
//! two or more new masters; they settle within one advertisement, but the
//! switch may last have learnt the virtual MAC from the one that steps
//! down, and the VIP is blackholed meanwhile (issue 14: ~10 requests lost
//! on a 3-node cluster).
//!
//! # The steps
//!
//! 1. Demote by [`handover_weight`]: one more than the largest gap between
//!    the advertised skew of a vhid this node is MASTER of and the skew of
//!    its next rank. Only the next rank is then faster than this node, so
//!    for each such vhid exactly one BACKUP preempts.
//! 2. Wait, bounded ([`DEFAULT_WAIT`], `--wait`), until those vhids have
//!    left MASTER here, observed through the kernel (`SIOCGVH`/netlink): the
//!    new master has advertised, since this node steps down only on hearing
//!    it (`carp_input_c()`, `CARP_MASTER` case).
//! 3. Raise the share to the full [`MAINTENANCE_WEIGHT`]. This node is
//!    BACKUP of everything now, so nothing moves.
//!
//! Each step is one change of the ledger's maintenance contribution, with
//! its intent protocol ([`crate::ledger`]), so the ledger is exact between
//! the steps and after a `kill -9` at any point; `maintenance on` again
//! finishes what was cut short, and a reboot applies the full weight.
//!
//! `maintenance off` needs no steps: with preemption, the returning node is
//! the faster one, and it is the node that acts, on hearing the current
//! master's next advertisement: it becomes MASTER and advertises at once
//! (`carp_master_down_locked()`), and only the current master, on hearing
//! that advertisement, steps down (`CARP_MASTER` case). The VIP always has
//! a master; the only master change per VIP is the returning one.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::kernel::Kernel;
use crate::model::{CarpState, MAINTENANCE_WEIGHT, Protocol};
use crate::plan::Plan;

mod steps;

pub(crate) use steps::names;
pub use steps::{OnOutcome, StepError, stepped_on};

/// How long step 2 waits by default: three advertisements at the largest
/// advbase carpctl plans without pinning (1 s) would do; 10 s leaves room
/// for a loaded host and an advbase up to 3.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// The most `--wait` accepts: a maintenance that cannot hand over within
/// a few minutes will not by waiting longer.
pub const MAX_WAIT: Duration = Duration::from_secs(300);
/// How often step 2 reads the vhids' states.
pub const POLL: Duration = Duration::from_millis(50);

/// The demotion that hands each VIP of `mastered` (names of CARP VIPs this
/// node is MASTER of) to its next rank: one above the largest gap between
/// this node's advertised skew (`advskew + demotion`) and the smallest skew
/// among the VIP's other members that is not below it. `None` when no VIP
/// has such a next rank (nothing to hand over step by step: the full
/// weight at once moves what can move), or when the weight would reach
/// [`MAINTENANCE_WEIGHT`] anyway.
pub fn handover_weight(
    plan: &Plan,
    node: &str,
    mastered: &BTreeSet<String>,
    demotion: i32,
) -> Option<u16> {
    let mut gap: Option<i32> = None;
    for v in plan.vips.iter().filter(|v| mastered.contains(&v.name)) {
        if v.protocol != Protocol::Carp {
            continue;
        }
        let Some(own) = v.advskew_of(node) else {
            continue;
        };
        let own = i32::from(own.effective(demotion));
        let next = v
            .advskew
            .iter()
            .filter(|(n, _)| n.as_str() != node)
            .map(|(_, s)| i32::from(s.get()))
            .filter(|&s| s >= own)
            .min();
        if let Some(next) = next {
            gap = Some(gap.map_or(next - own, |g| g.max(next - own)));
        }
    }
    let w = gap? + 1;
    u16::try_from(w)
        .ok()
        .filter(|w| (1..MAINTENANCE_WEIGHT).contains(w))
}

/// The VIPs of `node` whose vhid is MASTER on this host now, by name.
pub fn mastered(
    kernel: &mut dyn Kernel,
    cfg: &Config,
    node: &str,
) -> Result<BTreeSet<String>, StepError> {
    let desired = desired(kernel, cfg, node)?;
    let mut out = BTreeSet::new();
    for d in &desired.vips {
        let st = kernel
            .vhid(&d.interface, d.vhid)
            .map_err(StepError::Kernel)?;
        if st.is_some_and(|s| s.state == CarpState::Master) {
            out.insert(d.name.clone());
        }
    }
    Ok(out)
}

/// The VRRP priority that hands `vip`, which `node` is MASTER of, to its
/// next rank: one below the highest planned priority among the other
/// members that is below `node`'s. The next rank then preempts
/// (`vrrp_input_c()`, FreeBSD 15 sys/netinet/ip_carp.c: a BACKUP with
/// preempt takes over from a lower priority); the rank after it has a
/// lower priority still, or ties, and a tie preempts nobody (no address
/// tiebreak, `kernel::emulated::fsm::vrrp_input`). `None` for a CARP VIP,
/// a last rank, or a next rank at priority 1.
pub fn vrrp_step_priority(plan: &Plan, node: &str, vip: &str) -> Option<u8> {
    let v = plan.vip(vip)?.vrrp.as_ref()?;
    let own = *v.priority.get(node)?;
    let next = v
        .priority
        .iter()
        .filter(|(n, p)| n.as_str() != node && **p < own)
        .map(|(_, p)| *p)
        .max()?;
    next.checked_sub(1).filter(|p| *p >= 1)
}

/// Step 1 for the VRRPv3 VIPs of `mastered`: each gets
/// [`vrrp_step_priority`]. Returns what it changed, as
/// `vhid 1@em0 (v): priority 200 -> 99`.
pub fn hand_over_vrrp(
    kernel: &mut dyn Kernel,
    cfg: &Config,
    node: &str,
    plan: &Plan,
    mastered: &BTreeSet<String>,
) -> Result<Vec<String>, StepError> {
    let mut changed = Vec::new();
    for d in desired(kernel, cfg, node)?.vips {
        let Some(vrrp) = d.vrrp.filter(|_| mastered.contains(&d.name)) else {
            continue;
        };
        let Some(want) = vrrp_step_priority(plan, node, &d.name) else {
            continue;
        };
        let cur = kernel
            .vhid(&d.interface, d.vhid)
            .map_err(StepError::Kernel)?;
        let Some(cur) = cur.filter(|c| c.protocol == Protocol::Vrrpv3) else {
            continue;
        };
        let msg = crate::apply::hold::set_priority(kernel, &cur, want, vrrp.interval, &d.name)
            .map_err(StepError::Kernel)?;
        changed.push(msg);
    }
    Ok(changed)
}

/// This node's desired state against the host's interfaces.
fn desired(
    kernel: &mut dyn Kernel,
    cfg: &Config,
    node: &str,
) -> Result<crate::config::Desired, StepError> {
    let interfaces = kernel.interfaces().map_err(StepError::Kernel)?;
    crate::config::desired_state(cfg, node, &interfaces).map_err(|d| {
        StepError::Config(
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}

/// Step 2: read `still()` (the VIPs still MASTER here) every [`POLL`]
/// until it is empty or `wait` has passed; `sleep` waits (a real sleep, or
/// a test's clock). Returns what is still MASTER when it gave up.
pub fn wait_until_left<E>(
    mut still: impl FnMut() -> Result<BTreeSet<String>, E>,
    wait: Duration,
    mut sleep: impl FnMut(Duration),
) -> Result<BTreeSet<String>, E> {
    let start = Instant::now();
    let mut waited = Duration::ZERO;
    loop {
        let left = still()?;
        if left.is_empty() || waited >= wait || start.elapsed() >= wait {
            return Ok(left);
        }
        let d = POLL.min(wait - waited);
        sleep(d);
        waited += d;
    }
}

#[cfg(test)]
mod tests;
