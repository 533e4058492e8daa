//! Executing a change list, and undoing it on failure ([`execute`]).

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use super::{Desired, DesiredVhid, KernelChange};
use crate::kernel::{Kernel, KernelError};
use crate::model::{IfAddress, IfName, Interface, Knob, Vhid, VhidRef, VhidUpdate};

/// How a failed apply ended.
#[derive(Debug)]
pub(crate) struct ApplyError {
    /// The step that failed (`None`: reading the addresses before the
    /// first step failed) and why.
    pub(crate) failed: Option<KernelChange>,
    pub(crate) error: KernelError,
    /// The steps undone, in the order they were undone.
    pub(crate) undone: Vec<KernelChange>,
    /// Steps that could not be undone, with the reason.
    pub(crate) not_undone: Vec<(KernelChange, String)>,
    /// Steps left as they are on purpose: loading carp(4).
    pub(crate) kept: Vec<KernelChange>,
    /// Interfaces whose addresses could not be put back in their original
    /// order, with the reason.
    pub(crate) order_not_restored: Vec<(String, String)>,
}

impl ApplyError {
    fn new(failed: Option<KernelChange>, error: KernelError) -> Self {
        ApplyError {
            failed,
            error,
            undone: Vec::new(),
            not_undone: Vec::new(),
            kept: Vec::new(),
            order_not_restored: Vec::new(),
        }
    }
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failed {
            Some(c) => write!(f, "{c} failed: {}", self.error)?,
            None => write!(f, "cannot read the addresses to change: {}", self.error)?,
        }
        if self.undone.is_empty() && self.not_undone.is_empty() && self.kept.is_empty() {
            write!(f, "; nothing had been changed")?;
        }
        for c in &self.undone {
            write!(f, "\n  undone: {c}")?;
        }
        for c in &self.kept {
            match c {
                KernelChange::LoadCarp => write!(
                    f,
                    "\n  kept loaded: carp(4) (with no vhid it changes nothing; \
                     `kldunload carp` removes it)"
                )?,
                other => write!(f, "\n  kept: {other}")?,
            }
        }
        for (c, why) in &self.not_undone {
            write!(f, "\n  NOT undone: {c}: {why}")?;
        }
        for (interface, why) in &self.order_not_restored {
            write!(
                f,
                "\n  NOT undone: the order of the addresses on {interface}: {why}"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ApplyError {}

/// What is needed to take one step back.
enum Undo {
    /// Nothing to undo: the step is kept (carp.ko stays loaded: with no
    /// vhid it changes nothing, and unloading it could fail or disturb a
    /// carp(4) configured by hand meanwhile).
    Keep,
    Preempt(i32),
    /// Destroy a vhid created by this apply, if it is still there (it goes
    /// with its last address; FreeBSD has no request to delete a vhid).
    DestroyVhid {
        interface: IfName,
        vhid: Vhid,
        address: IpNet,
    },
    /// Set a vhid back as it was ([`super::restore_update`]).
    RestoreVhid {
        interface: IfName,
        vhid: Vhid,
        update: VhidUpdate,
        /// A key was set where none was: carp(4) cannot clear a key.
        key_stays: bool,
    },
    RemoveAddress {
        interface: IfName,
        address: IpAddr,
    },
    /// Put back an address that was there before (removed, or replaced
    /// by the same address with another prefix length).
    AddAddress {
        interface: IfName,
        vhid: Vhid,
        address: IpNet,
    },
    /// Put back the last address of a vhid, which took the vhid with it:
    /// create the vhid again as it was (`update`, with its protocol), then
    /// attach the address.
    RecreateVhid {
        interface: IfName,
        vhid: Vhid,
        update: VhidUpdate,
        address: IpNet,
    },
}

/// Apply `changes` (from [`plan_changes`] on the same `desired`). On failure,
/// undo what was done, in reverse order.
pub(crate) fn execute(
    kernel: &mut dyn Kernel,
    desired: &Desired,
    changes: &[KernelChange],
) -> Result<(), Box<ApplyError>> {
    // The addresses as they were, for the undo: the prefix an address had
    // before it is replaced, and the order to put them back in.
    let before = if changes.iter().any(KernelChange::is_address) {
        kernel
            .interfaces()
            .map_err(|error| Box::new(ApplyError::new(None, error)))?
    } else {
        Vec::new()
    };
    let mut done: Vec<(KernelChange, Undo)> = Vec::new();
    for change in changes {
        match step(kernel, desired, change) {
            Ok(undo) => {
                tracing::info!("{change}");
                done.push((change.clone(), undo));
            }
            Err(error) => return Err(Box::new(roll_back(kernel, &before, change, error, done))),
        }
    }
    Ok(())
}

/// Undo `done` in reverse order after `failed` failed with `error`, then
/// put each interface's addresses back in their order of `before`.
fn roll_back(
    kernel: &mut dyn Kernel,
    before: &[Interface],
    failed: &KernelChange,
    error: KernelError,
    mut done: Vec<(KernelChange, Undo)>,
) -> ApplyError {
    let mut e = ApplyError::new(Some(failed.clone()), error);
    let mut touched = BTreeSet::new();
    while let Some((c, undo)) = done.pop() {
        if matches!(undo, Undo::Keep) {
            tracing::info!("kept: {c}");
            e.kept.push(c);
            continue;
        }
        match revert(kernel, undo) {
            Ok(()) => {
                tracing::info!("undone: {c}");
                if let Some(i) = c.address_interface() {
                    touched.insert(i.to_string());
                }
                e.undone.push(c);
            }
            Err(err) => e.not_undone.push((c, err.to_string())),
        }
    }
    for interface in touched {
        if let Err(why) = restore_order(kernel, before, &interface) {
            e.order_not_restored.push((interface, why));
        }
    }
    e
}

/// Put the addresses of `interface` back in their order of `before`.
///
/// FreeBSD appends a new address to the interface's list
/// (`CK_STAILQ_INSERT_TAIL(&ifp->if_addrhead, ...)` in `in_aifaddr_ioctl()`,
/// sys/netinet/in.c, and in `in6_alloc_ifa()`, sys/netinet6/in6.c), so an
/// address the undo put back is now last. The addresses after the longest
/// part of the old order that is still in place are moved to the end, one
/// by one, in the old order: an IPv4 address by adding it again
/// (`in_aifaddr_ioctl()` deletes the existing one, keeping its vhid, and
/// appends the new one), an IPv6 address by deleting and adding it
/// (`SIOCAIFADDR_IN6` updates an existing address in place). Only CARP
/// addresses are moved: the host's own addresses are never touched, and
/// an IPv6 address that is its vhid's last is not deleted (that would
/// destroy the vhid).
fn restore_order(
    kernel: &mut dyn Kernel,
    before: &[Interface],
    interface: &str,
) -> Result<(), String> {
    let old: &[IfAddress] = before
        .iter()
        .find(|i| i.name == interface)
        .map_or(&[], |i| &i.addresses);
    let now = kernel
        .interfaces()
        .map_err(|e| format!("cannot list the addresses: {e}"))?
        .into_iter()
        .find(|i| i.name == interface)
        .map(|i| i.addresses)
        .unwrap_or_default();
    if now.as_slice() == old {
        return Ok(());
    }
    let mut sorted_old = old.to_vec();
    let mut sorted_now = now.clone();
    let key = |a: &IfAddress| (a.net, a.vhid.map(Vhid::get));
    sorted_old.sort_by_key(key);
    sorted_now.sort_by_key(key);
    if sorted_old != sorted_now {
        return Err("the addresses themselves differ (see above)".into());
    }
    // The longest prefix of the old order that `now` still has in order.
    let mut it = now.iter();
    let kept = old
        .iter()
        .take_while(|a| it.by_ref().any(|n| n == *a))
        .count();
    let moves = &old[kept..];
    for a in moves {
        let Some(vhid) = a.vhid else {
            return Err(format!(
                "{} would have to be moved, and it is not a CARP address",
                a.net
            ));
        };
        if a.net.addr().is_ipv6() && now.iter().filter(|n| n.vhid == Some(vhid)).count() < 2 {
            return Err(format!(
                "{} would have to be deleted and added again, and it is the last address of \
                 vhid {vhid}",
                a.net
            ));
        }
    }
    for a in moves {
        let vhid = a.vhid.ok_or("not a CARP address")?;
        if a.net.addr().is_ipv6() {
            kernel
                .remove_address(interface, a.net.addr())
                .map_err(|e| e.to_string())?;
        }
        kernel
            .add_address(interface, vhid, a.net)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn find<'a>(desired: &'a Desired, interface: &str, vhid: Vhid) -> Option<&'a DesiredVhid> {
    desired
        .vips
        .iter()
        .find(|d| d.interface == interface && d.vhid == vhid)
}

fn parse_net(s: &str) -> Result<IpNet, KernelError> {
    s.parse()
        .map_err(|_| KernelError::Unsupported(format!("bad address {s:?} in change list")))
}

fn step(
    kernel: &mut dyn Kernel,
    desired: &Desired,
    change: &KernelChange,
) -> Result<Undo, KernelError> {
    match change {
        KernelChange::LoadCarp => {
            kernel.load_carp()?;
            Ok(Undo::Keep)
        }
        KernelChange::SetPreempt { to, .. } => {
            let before = kernel.sysctls()?.preempt;
            kernel.set_knob(Knob::Preempt, *to)?;
            Ok(Undo::Preempt(before))
        }
        KernelChange::CreateVhid {
            interface, vhid, ..
        }
        | KernelChange::UpdateVhid {
            interface, vhid, ..
        } => step_vhid(kernel, desired, interface, *vhid),
        KernelChange::AddAddress {
            interface,
            vhid,
            address,
            ..
        } => {
            let net = parse_net(address)?;
            // The same address with another prefix length, on this vhid
            // (the plan refuses one held elsewhere): adding replaces it,
            // so undoing puts it back rather than removing the address.
            // Read now, not before the apply: a vhid re-created by this
            // apply lost its addresses since.
            let replaced = kernel
                .interfaces()?
                .iter()
                .filter(|i| i.name == *interface)
                .flat_map(|i| i.addresses.iter())
                .find(|a| a.net.addr() == net.addr() && a.vhid.is_some())
                .and_then(|a| Some((a.vhid?, a.net)));
            kernel.add_address(interface, *vhid, net)?;
            Ok(match replaced {
                Some((vhid, address)) => Undo::AddAddress {
                    interface: interface.clone(),
                    vhid,
                    address,
                },
                None => Undo::RemoveAddress {
                    interface: interface.clone(),
                    address: net.addr(),
                },
            })
        }
        KernelChange::RemoveAddress {
            interface,
            vhid,
            address,
            ..
        } => {
            let net = parse_net(address)?;
            let before = kernel.vhid(interface, *vhid)?;
            kernel.remove_address(interface, net.addr())?;
            // The vhid's last address takes the vhid with it (a vhid
            // re-created with another protocol, in_scrubprefix() ->
            // carp_detach() in sys/netinet/in.c, ip_carp.c).
            Ok(match (before, kernel.vhid(interface, *vhid)?) {
                (Some(s), None) => Undo::RecreateVhid {
                    interface: interface.clone(),
                    vhid: *vhid,
                    update: super::restore_update(&s, true, None),
                    address: net,
                },
                _ => Undo::AddAddress {
                    interface: interface.clone(),
                    vhid: *vhid,
                    address: net,
                },
            })
        }
    }
}

/// Create or update one vhid as `desired` says.
fn step_vhid(
    kernel: &mut dyn Kernel,
    desired: &Desired,
    interface: &IfName,
    vhid: Vhid,
) -> Result<Undo, KernelError> {
    let target = || VhidRef::new(vhid, interface.as_str());
    let d = find(desired, interface, vhid)
        .ok_or_else(|| KernelError::Unsupported(format!("vhid {} is not in the plan", target())))?;
    let before = kernel.vhid(interface, d.vhid)?;
    let update = super::vhid_update(d, before.as_ref());
    kernel.set_vhid(interface, d.vhid, &update)?;
    Ok(match before {
        None => Undo::DestroyVhid {
            interface: interface.clone(),
            vhid: d.vhid,
            address: d.addresses.first().copied().ok_or_else(|| {
                KernelError::Unsupported(format!("vhid {} has no address", target()))
            })?,
        },
        Some(cur) => Undo::RestoreVhid {
            interface: interface.clone(),
            vhid: d.vhid,
            key_stays: cur.key.is_none() && d.key.is_some(),
            update: super::restore_update(&cur, false, Some(&update)),
        },
    })
}

fn revert(kernel: &mut dyn Kernel, undo: Undo) -> Result<(), KernelError> {
    match undo {
        Undo::Keep => Ok(()),
        Undo::Preempt(v) => kernel.set_knob(Knob::Preempt, v),
        Undo::DestroyVhid {
            interface,
            vhid,
            address,
        } => {
            if kernel.vhid(&interface, vhid)?.is_none() {
                return Ok(());
            }
            // A vhid goes away with its last address: attach one and
            // detach it again.
            kernel.add_address(&interface, vhid, address)?;
            kernel.remove_address(&interface, address.addr())
        }
        Undo::RestoreVhid {
            interface,
            vhid,
            update,
            key_stays,
        } => {
            kernel.set_vhid(&interface, vhid, &update)?;
            if key_stays {
                return Err(KernelError::Unsupported(
                    "the vhid's other settings are restored, but the new key stays: carp(4) \
                     cannot clear a key once set"
                        .into(),
                ));
            }
            Ok(())
        }
        Undo::RemoveAddress { interface, address } => kernel.remove_address(&interface, address),
        Undo::AddAddress {
            interface,
            vhid,
            address,
        } => kernel.add_address(&interface, vhid, address),
        Undo::RecreateVhid {
            interface,
            vhid,
            update,
            address,
        } => {
            if let Some(now) = kernel.vhid(&interface, vhid)? {
                // The vhid this apply created in its place is still there:
                // its protocol cannot be changed back in place.
                return Err(KernelError::Unsupported(format!(
                    "vhid {} exists again ({:?}) and cannot be re-created as it was",
                    VhidRef::new(vhid, interface.as_str()),
                    now.protocol
                )));
            }
            kernel.set_vhid(&interface, vhid, &update)?;
            kernel.add_address(&interface, vhid, address)
        }
    }
}
