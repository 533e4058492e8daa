//! Maintenance and the boot hold for VRRPv3 vhids.
//!
//! carp(4)'s demotion does not move a VRRPv3 vhid: `DEMOTE_ADVSKEW` is
//! applied on CARP's paths only (FreeBSD 15 sys/netinet/ip_carp.c; see
//! `plan::vrrp`), so the ledger's demotion alone would leave a VRRP VIP on a
//! node in maintenance. While the ledger has a live maintenance or boot-hold
//! share, each VRRPv3 vhid of this node therefore gets
//! [`MAINTENANCE_PRIORITY`] instead of its planned priority.
//!
//! The priority in force is derived from the ledger, never recorded beside
//! it: a VRRP priority is an absolute value (`CARP_NL_VRRP_PRIORITY`, one
//! SET), not a delta like the demotion, so writing it again is harmless and
//! [`sync`] after any ledger change, at any time, puts it right. A `kill -9`
//! between the ledger's commit and the sync leaves the old priority until
//! the next `maintenance`, `apply` or daemon start, each of which syncs;
//! `status` shows the difference as drift meanwhile.

use std::collections::BTreeMap;

use crate::config::Desired;
use crate::kernel::{Kernel, KernelError};
use crate::ledger::{Cause, Contribution};
use crate::model::{Protocol, VhidRef, VhidUpdate};
use crate::plan::vrrp::MAINTENANCE_PRIORITY;

/// Whether `shares` (the ledger's live contributions, or those a reboot
/// will apply again) hold the VRRP priorities down: maintenance or the
/// boot hold. A failing health check does not (carpctl(8): checks move
/// CARP VIPs only).
pub(crate) fn holds<'a>(shares: impl IntoIterator<Item = &'a Cause>) -> bool {
    shares
        .into_iter()
        .any(|c| matches!(c, Cause::Maintenance | Cause::BootHold))
}

/// [`holds`] of a contribution map.
pub(crate) fn holds_map(shares: &BTreeMap<Cause, Contribution>) -> bool {
    holds(shares.keys())
}

/// Give every VRRPv3 VIP of `desired` the maintenance priority.
pub(crate) fn hold<K>(desired: &mut Desired<K>) {
    for v in &mut desired.vips {
        if let Some(x) = v.vrrp.as_mut() {
            x.priority = MAINTENANCE_PRIORITY;
        }
    }
}

/// Set each VRRPv3 vhid of `desired` that exists as VRRPv3 on this host to
/// the priority in force (`held`: the maintenance priority, else the
/// planned one), writing only those that differ. Returns what it changed,
/// as `vhid 1@em0 (web): priority 254 -> 1`.
pub(crate) fn sync<K>(
    kernel: &mut dyn Kernel,
    desired: &Desired<K>,
    held: bool,
) -> Result<Vec<String>, KernelError> {
    let mut changed = Vec::new();
    for d in &desired.vips {
        let Some(vrrp) = d.vrrp else { continue };
        let want = if held {
            MAINTENANCE_PRIORITY
        } else {
            vrrp.priority
        };
        let Some(cur) = kernel.vhid(&d.interface, d.vhid)? else {
            continue;
        };
        if cur.protocol != Protocol::Vrrpv3 || cur.vrrp_priority == Some(want) {
            continue;
        }
        let msg = set_priority(kernel, &cur, want, vrrp.interval, &d.name)?;
        tracing::info!("{msg}");
        changed.push(msg);
    }
    Ok(changed)
}

/// Set the VRRP priority of the vhid `cur` (of VIP `vip`) to `want`,
/// keeping its interval (`interval` when the kernel shows none): the
/// backend sends both VRRP attributes. What changed, as one line:
/// `vhid 3@em0 (gw): priority 254 -> 1`.
pub(crate) fn set_priority(
    kernel: &mut dyn Kernel,
    cur: &crate::model::VhidStatus,
    want: u8,
    interval: u16,
    vip: &str,
) -> Result<String, KernelError> {
    let update = VhidUpdate {
        vrrp_priority: Some(want),
        vrrp_interval: cur.vrrp_interval.or(Some(interval)),
        ..VhidUpdate::default()
    };
    kernel.set_vhid(&cur.interface, cur.vhid, &update)?;
    let from = cur
        .vrrp_priority
        .map_or_else(|| "-".to_string(), |p| p.to_string());
    Ok(format!(
        "vhid {} ({vip}): priority {from} -> {want}",
        VhidRef::new(cur.vhid, cur.interface.as_str())
    ))
}

/// [`sync`] for node `node` of `cfg`: resolves its desired state against
/// the host's interfaces first. Nothing is read when the node has no VRRP
/// VIP.
pub(crate) fn sync_node(
    kernel: &mut dyn Kernel,
    cfg: &crate::config::Config,
    node: &str,
    held: bool,
) -> Result<Vec<String>, String> {
    let any_vrrp = cfg
        .vips
        .iter()
        .any(|v| v.protocol == Protocol::Vrrpv3 && v.takes_part(node));
    if !any_vrrp {
        return Ok(Vec::new());
    }
    let interfaces = kernel
        .interfaces()
        .map_err(|e| format!("cannot list the interfaces: {e}"))?;
    let desired = crate::config::desired_state(cfg, node, &interfaces).map_err(|d| {
        d.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    sync(kernel, &desired, held).map_err(|e| format!("cannot set the VRRP priorities: {e}"))
}
