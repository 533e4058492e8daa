//! Desired vs observed -> an ordered change list -> transactional execution.
//!
//! [`plan_changes`] compares what this node should have (from the cluster
//! file) with what the kernel has, and lists the changes in the order
//! FreeBSD needs them: the preempt sysctl, then each vhid (created or
//! updated, read-modify-write), then its addresses (attached after the vhid
//! exists, docs/freebsd-carp.md §5.1), then the addresses a managed vhid no longer lists.
//! Addresses are added before any is removed, so a managed vhid never loses
//! its last address (which would destroy it). vhids not in the file are
//! never touched.
//!
//! [`execute`] applies the list and records how to undo each step. If a step
//! fails, the steps already done are undone in reverse order, the addresses
//! of each interface are put back in their original order (an address put
//! back goes to the end of the interface's list), and the error says what
//! failed, what was undone and what was kept (a loaded carp.ko). An
//! unchanged host yields an empty list, so a second apply makes no mutating
//! kernel call.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::kernel::{Kernel, KernelError};
use crate::model::{
    AdvBase, AdvSkew, IfAddress, IfName, Interface, Key, Knob, Vhid, VhidRef, VhidStatus,
    VhidUpdate,
};

/// One vhid this node takes part in, as the cluster file resolves it, with
/// its key read: the one desired-state type, [`crate::config::DesiredVip`].
pub(crate) type DesiredVhid = crate::config::DesiredVip<Key>;

/// Everything `apply` manages on this node:
/// [`crate::config::Desired::with_keys`].
pub(crate) type Desired = crate::config::Desired<Key>;

/// The vhid fields a change sets (no key: that is only a flag here, so a
/// change list can be printed and serialized without the secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct VhidFields {
    pub advbase: u8,
    pub advskew: u8,
}

/// One step of an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub(crate) enum KernelChange {
    /// `kldload carp`.
    LoadCarp,
    /// `net.inet.carp.preempt`.
    SetPreempt { from: i32, to: i32 },
    /// A vhid that does not exist yet.
    CreateVhid {
        vip: String,
        interface: IfName,
        vhid: Vhid,
        #[serde(flatten)]
        fields: VhidFields,
        set_key: bool,
    },
    /// A vhid whose advbase, advskew or key differ.
    UpdateVhid {
        vip: String,
        interface: IfName,
        vhid: Vhid,
        from: VhidFields,
        to: VhidFields,
        set_key: bool,
    },
    /// Attach an address to a vhid.
    AddAddress {
        vip: String,
        interface: IfName,
        vhid: Vhid,
        address: String,
    },
    /// Detach an address a managed vhid no longer lists.
    RemoveAddress {
        vip: String,
        interface: IfName,
        vhid: Vhid,
        address: String,
    },
}

impl fmt::Display for KernelChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelChange::LoadCarp => write!(f, "load carp(4) (kldload carp)"),
            KernelChange::SetPreempt { from, to } => {
                write!(f, "set net.inet.carp.preempt {from} -> {to}")
            }
            KernelChange::CreateVhid {
                vip,
                interface,
                vhid,
                fields,
                set_key,
            } => write!(
                f,
                "create vhid {} ({vip}): advbase {} advskew {}{}",
                VhidRef::new(*vhid, interface.as_str()),
                fields.advbase,
                fields.advskew,
                if *set_key { ", key" } else { "" }
            ),
            KernelChange::UpdateVhid {
                vip,
                interface,
                vhid,
                from,
                to,
                set_key,
            } => {
                write!(
                    f,
                    "update vhid {} ({vip}):",
                    VhidRef::new(*vhid, interface.as_str())
                )?;
                if from.advbase != to.advbase {
                    write!(f, " advbase {} -> {}", from.advbase, to.advbase)?;
                }
                if from.advskew != to.advskew {
                    write!(f, " advskew {} -> {}", from.advskew, to.advskew)?;
                }
                if *set_key {
                    write!(f, " key")?;
                }
                Ok(())
            }
            KernelChange::AddAddress {
                vip,
                interface,
                vhid,
                address,
            }
            | KernelChange::RemoveAddress {
                vip,
                interface,
                vhid,
                address,
            } => {
                let (verb, to) = match self {
                    KernelChange::AddAddress { .. } => ("add", "to"),
                    _ => ("remove", "from"),
                };
                write!(
                    f,
                    "{verb} {address} {to} vhid {} ({vip})",
                    VhidRef::new(*vhid, interface.as_str())
                )
            }
        }
    }
}

impl KernelChange {
    /// Whether this change adds or removes an address.
    fn is_address(&self) -> bool {
        self.address_interface().is_some()
    }

    /// The interface whose addresses this change adds or removes; also a
    /// vhid created here, since undoing that attaches and detaches one.
    fn address_interface(&self) -> Option<&str> {
        match self {
            KernelChange::AddAddress { interface, .. }
            | KernelChange::RemoveAddress { interface, .. }
            | KernelChange::CreateVhid { interface, .. } => Some(interface),
            KernelChange::LoadCarp
            | KernelChange::SetPreempt { .. }
            | KernelChange::UpdateVhid { .. } => None,
        }
    }
}

/// Something in the way that no change can fix safely (nothing was touched).
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlanChangesError {
    #[error("{0}")]
    Kernel(#[from] KernelError),
    #[error(
        "{address} is already on {interface} {holder}; carpctl will not take it over \
         (remove it first, or change vip {vip:?})"
    )]
    AddressInUse {
        vip: String,
        interface: IfName,
        address: IpNet,
        holder: String,
    },
}

/// Compare desired and observed state and list the changes, in order.
/// Reads the kernel only.
pub(crate) fn plan_changes(
    kernel: &mut dyn Kernel,
    desired: &Desired,
) -> Result<Vec<KernelChange>, PlanChangesError> {
    let mut changes = Vec::new();
    if !kernel.carp_loaded()? {
        // Nothing else can be read without carp(4): plan as if empty.
        changes.push(KernelChange::LoadCarp);
        changes.push(KernelChange::SetPreempt {
            from: 0,
            to: i32::from(desired.preempt),
        });
        for d in &desired.vips {
            changes.push(create_change(d));
            changes.extend(d.addresses.iter().map(|a| add_change(d, a)));
        }
        return Ok(changes);
    }
    let preempt = kernel.sysctls()?.preempt;
    let want = i32::from(desired.preempt);
    if (preempt != 0) != desired.preempt {
        changes.push(KernelChange::SetPreempt {
            from: preempt,
            to: want,
        });
    }
    let interfaces = kernel.interfaces()?;
    let mut adds = Vec::new();
    let mut removes = Vec::new();
    for d in &desired.vips {
        match kernel.vhid(&d.interface, d.vhid)? {
            None => changes.push(create_change(d)),
            Some(cur) => {
                if let Some(c) = update_change(d, &cur) {
                    changes.push(c);
                }
            }
        }
        let on_iface: Vec<_> = interfaces
            .iter()
            .filter(|i| i.name == d.interface)
            .flat_map(|i| i.addresses.iter())
            .collect();
        for want in &d.addresses {
            match on_iface.iter().find(|a| a.net.addr() == want.addr()) {
                Some(a) if a.vhid == Some(d.vhid) && a.net.prefix_len() == want.prefix_len() => {}
                // Same vhid, other prefix: re-adding replaces it (§5.1).
                Some(a) if a.vhid == Some(d.vhid) => adds.push(add_change(d, want)),
                Some(a) => {
                    let holder = match a.vhid {
                        Some(v) => format!("on vhid {v}"),
                        None => "as an ordinary address".to_string(),
                    };
                    return Err(PlanChangesError::AddressInUse {
                        vip: d.name.clone(),
                        interface: d.interface.clone(),
                        address: a.net,
                        holder,
                    });
                }
                None => adds.push(add_change(d, want)),
            }
        }
        for have in on_iface.iter().filter(|a| a.vhid == Some(d.vhid)) {
            if !d.addresses.iter().any(|w| w.addr() == have.net.addr()) {
                removes.push(KernelChange::RemoveAddress {
                    vip: d.name.clone(),
                    interface: d.interface.clone(),
                    vhid: d.vhid,
                    address: have.net.to_string(),
                });
            }
        }
    }
    changes.extend(adds);
    changes.extend(removes);
    Ok(changes)
}

fn fields(d: &DesiredVhid) -> VhidFields {
    VhidFields {
        advbase: d.advbase.get(),
        advskew: d.advskew.get(),
    }
}

fn create_change(d: &DesiredVhid) -> KernelChange {
    KernelChange::CreateVhid {
        vip: d.name.clone(),
        interface: d.interface.clone(),
        vhid: d.vhid,
        fields: fields(d),
        set_key: d.key.is_some(),
    }
}

fn add_change(d: &DesiredVhid, a: &IpNet) -> KernelChange {
    KernelChange::AddAddress {
        vip: d.name.clone(),
        interface: d.interface.clone(),
        vhid: d.vhid,
        address: a.to_string(),
    }
}

fn update_change(d: &DesiredVhid, cur: &VhidStatus) -> Option<KernelChange> {
    let from = VhidFields {
        advbase: cur.advbase,
        advskew: cur.advskew.get(),
    };
    let to = fields(d);
    // The kernel shows the key to root only; an unreadable key is set again
    // (harmless: the same bytes) rather than assumed right.
    let set_key = match (&d.key, &cur.key) {
        (Some(want), Some(have)) => want != have,
        (Some(_), None) => true,
        (None, _) => false,
    };
    (from != to || set_key).then(|| KernelChange::UpdateVhid {
        vip: d.name.clone(),
        interface: d.interface.clone(),
        vhid: d.vhid,
        from,
        to,
        set_key,
    })
}

/// How a failed apply ended.
#[derive(Debug)]
pub(crate) struct ApplyError {
    /// The step that failed (`None`: reading the addresses before the
    /// first step failed) and why.
    pub failed: Option<KernelChange>,
    pub error: KernelError,
    /// The steps undone, in the order they were undone.
    pub undone: Vec<KernelChange>,
    /// Steps that could not be undone, with the reason.
    pub not_undone: Vec<(KernelChange, String)>,
    /// Steps left as they are on purpose: loading carp(4).
    pub kept: Vec<KernelChange>,
    /// Interfaces whose addresses could not be put back in their original
    /// order, with the reason.
    pub order_not_restored: Vec<(String, String)>,
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
    RestoreVhid {
        interface: IfName,
        vhid: Vhid,
        advbase: u8,
        advskew: AdvSkew,
        key: Option<Key>,
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
        match step(kernel, desired, &before, change) {
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
    before: &[Interface],
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
        } => {
            let d = find(desired, interface, *vhid).ok_or_else(|| {
                KernelError::Unsupported(format!(
                    "vhid {} is not in the plan",
                    VhidRef::new(*vhid, interface.as_str())
                ))
            })?;
            let before = kernel.vhid(interface, d.vhid)?;
            let update = VhidUpdate {
                advbase: Some(d.advbase),
                advskew: Some(d.advskew),
                key: d.key.clone(),
                ..VhidUpdate::default()
            };
            kernel.set_vhid(interface, d.vhid, &update)?;
            Ok(match before {
                None => Undo::DestroyVhid {
                    interface: interface.clone(),
                    vhid: d.vhid,
                    address: d.addresses.first().copied().ok_or_else(|| {
                        KernelError::Unsupported(format!(
                            "vhid {} has no address",
                            VhidRef::new(*vhid, interface.as_str())
                        ))
                    })?,
                },
                Some(cur) => Undo::RestoreVhid {
                    interface: interface.clone(),
                    vhid: d.vhid,
                    advbase: cur.advbase,
                    advskew: cur.advskew,
                    key_stays: cur.key.is_none() && d.key.is_some(),
                    key: cur.key,
                },
            })
        }
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
            let replaced = before
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
            kernel.remove_address(interface, net.addr())?;
            Ok(Undo::AddAddress {
                interface: interface.clone(),
                vhid: *vhid,
                address: net,
            })
        }
    }
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
            advbase,
            advskew,
            key,
            key_stays,
        } => {
            let update = VhidUpdate {
                advbase: AdvBase::new(i64::from(advbase)).ok(),
                advskew: Some(advskew),
                key,
                ..VhidUpdate::default()
            };
            kernel.set_vhid(&interface, vhid, &update)?;
            if key_stays {
                return Err(KernelError::Unsupported(
                    "advbase and advskew restored, but the new key stays: carp(4) cannot clear a key once set"
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
    }
}
