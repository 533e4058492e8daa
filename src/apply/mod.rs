//! Desired vs observed -> an ordered change list -> transactional execution.
//!
//! [`plan_changes`] compares what this node should have (from the cluster
//! file) with what the kernel has, and lists the changes in the order
//! FreeBSD needs them: the preempt sysctl, then each vhid (created or
//! updated, read-modify-write), then its addresses (attached after the vhid
//! exists, docs/freebsd-carp.md §5.1), then the addresses a managed vhid no longer lists.
//! Addresses are added before any is removed, so a managed vhid never loses
//! its last address (which would destroy it). vhids not in the file are
//! never touched. The one exception is a vhid whose protocol changes (CARP
//! and VRRPv3): carp(4) fixes the protocol when it creates a vhid
//! (`CARP_NL_VERSION` is read on creation only), so such a vhid is
//! destroyed (its addresses removed) and created again before its
//! addresses are attached.
//!
//! Before listing anything, [`plan_changes`] refuses what this host's
//! release cannot do ([`release::check`]): VRRPv3 before 15.0, unicast
//! peers without carp(4)'s netlink interface (13.x).
//!
//! [`execute`] applies the list and records how to undo each step. If a step
//! fails, the steps already done are undone in reverse order, the addresses
//! of each interface are put back in their original order (an address put
//! back goes to the end of the interface's list), and the error says what
//! failed, what was undone and what was kept (a loaded carp.ko). An
//! unchanged host yields an empty list, so a second apply makes no mutating
//! kernel call.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use serde::Serialize;

use crate::kernel::{Kernel, KernelError};
use crate::model::{IfName, Key, PeerUpdate, Protocol, Vhid, VhidStatus, VhidUpdate};

mod display;
mod execute;
pub(crate) mod force;
pub(crate) mod hold;
mod release;
pub(crate) mod select;

pub(crate) use execute::{ApplyError, execute};
pub(crate) use release::Unsupported;

/// One vhid this node takes part in, as the cluster file resolves it, with
/// its key read: the one desired-state type, [`crate::config::DesiredVip`].
pub(crate) type DesiredVhid = crate::config::DesiredVip<Key>;

/// Everything `apply` manages on this node:
/// [`crate::config::Desired::with_keys`].
pub(crate) type Desired = crate::config::Desired<Key>;

/// The vhid fields a change sets (no key: that is only a flag here, so a
/// change list can be printed and serialized without the secret). For a
/// VRRPv3 vhid advbase and advskew are not carp(4)'s business (FreeBSD
/// shows advbase 0): they are kept as the kernel has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct VhidFields {
    pub advbase: u8,
    pub advskew: u8,
    /// Omitted for CARP, as before VRRPv3 existed.
    #[serde(skip_serializing_if = "is_carp")]
    pub protocol: Protocol,
    /// Unicast peer; `None` = the multicast group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer6: Option<Ipv6Addr>,
    /// VRRPv3 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vrrp_priority: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vrrp_interval: Option<u16>,
}

fn is_carp(p: &Protocol) -> bool {
    *p == Protocol::Carp
}

/// Why an address is removed: its vhid is re-created with another protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Recreate {
    pub from: Protocol,
    pub to: Protocol,
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
    /// A vhid whose advbase, advskew, key, peers or VRRP settings differ.
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
    /// Detach an address a managed vhid no longer lists, or every address
    /// of a vhid re-created with another protocol (the last one destroys it).
    RemoveAddress {
        vip: String,
        interface: IfName,
        vhid: Vhid,
        address: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        recreate: Option<Recreate>,
    },
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
    /// The cluster file asks for what this host's release cannot do.
    #[error("{0}")]
    Unsupported(#[from] Unsupported),
}

/// Compare desired and observed state and list the changes, in order.
/// Reads the kernel only.
pub(crate) fn plan_changes(
    kernel: &mut dyn Kernel,
    desired: &Desired,
) -> Result<Vec<KernelChange>, PlanChangesError> {
    let loaded = kernel.carp_loaded()?;
    release::check(kernel, desired, loaded)?;
    let mut changes = Vec::new();
    if !loaded {
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
        let on_iface: Vec<_> = interfaces
            .iter()
            .filter(|i| i.name == d.interface)
            .flat_map(|i| i.addresses.iter())
            .collect();
        let cur = kernel.vhid(&d.interface, d.vhid)?;
        if let Some(cur) = cur.as_ref().filter(|c| c.protocol != d.protocol) {
            // Re-created: every address goes (the last one takes the vhid
            // with it), then the vhid is created with its new protocol and
            // gets the desired addresses.
            let recreate = Recreate {
                from: cur.protocol,
                to: d.protocol,
            };
            for have in on_iface.iter().filter(|a| a.vhid == Some(d.vhid)) {
                changes.push(remove_change(d, &have.net, Some(recreate)));
            }
            changes.push(create_change(d));
            for want in &d.addresses {
                check_free(d, want, &on_iface)?;
                adds.push(add_change(d, want));
            }
            continue;
        }
        match &cur {
            None => changes.push(create_change(d)),
            Some(cur) => changes.extend(update_change(d, cur)),
        }
        for want in &d.addresses {
            match on_iface.iter().find(|a| a.net.addr() == want.addr()) {
                Some(a) if a.vhid == Some(d.vhid) && a.net.prefix_len() == want.prefix_len() => {}
                // Same vhid, other prefix: re-adding replaces it (§5.1).
                Some(a) if a.vhid == Some(d.vhid) => adds.push(add_change(d, want)),
                Some(_) => check_free(d, want, &on_iface)?,
                None => adds.push(add_change(d, want)),
            }
        }
        for have in on_iface.iter().filter(|a| a.vhid == Some(d.vhid)) {
            if !d.addresses.iter().any(|w| w.addr() == have.net.addr()) {
                removes.push(remove_change(d, &have.net, None));
            }
        }
    }
    changes.extend(adds);
    changes.extend(removes);
    Ok(changes)
}

/// `want` must not be on the interface on another vhid or as an ordinary
/// address.
fn check_free(
    d: &DesiredVhid,
    want: &IpNet,
    on_iface: &[&crate::model::IfAddress],
) -> Result<(), PlanChangesError> {
    match on_iface
        .iter()
        .find(|a| a.net.addr() == want.addr() && a.vhid != Some(d.vhid))
    {
        None => Ok(()),
        Some(a) => {
            let holder = match a.vhid {
                Some(v) => format!("on vhid {v}"),
                None => "as an ordinary address".to_string(),
            };
            Err(PlanChangesError::AddressInUse {
                vip: d.name.clone(),
                interface: d.interface.clone(),
                address: a.net,
                holder,
            })
        }
    }
}

/// The fields `d` wants. A VRRPv3 vhid has no advbase or advskew of its
/// own (0 here; [`update_change`] keeps the kernel's).
fn fields(d: &DesiredVhid) -> VhidFields {
    let vrrp = d.protocol == Protocol::Vrrpv3;
    VhidFields {
        advbase: if vrrp { 0 } else { d.advbase.get() },
        advskew: if vrrp { 0 } else { d.advskew.get() },
        protocol: d.protocol,
        peer: d.peer,
        peer6: d.peer6.as_ref().map(|p| p.addr),
        vrrp_priority: d.vrrp.map(|v| v.priority),
        vrrp_interval: d.vrrp.map(|v| v.interval),
    }
}

/// The fields the kernel reports for `cur`.
fn current_fields(cur: &VhidStatus) -> VhidFields {
    VhidFields {
        advbase: cur.advbase,
        advskew: cur.advskew.get(),
        protocol: cur.protocol,
        peer: cur.peer,
        peer6: cur.peer6,
        vrrp_priority: cur.vrrp_priority,
        vrrp_interval: cur.vrrp_interval,
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

pub(crate) fn remove_change(
    d: &DesiredVhid,
    a: &IpNet,
    recreate: Option<Recreate>,
) -> KernelChange {
    KernelChange::RemoveAddress {
        vip: d.name.clone(),
        interface: d.interface.clone(),
        vhid: d.vhid,
        address: a.to_string(),
        recreate,
    }
}

fn update_change(d: &DesiredVhid, cur: &VhidStatus) -> Option<KernelChange> {
    let from = current_fields(cur);
    let mut to = fields(d);
    if d.protocol == Protocol::Vrrpv3 {
        to.advbase = from.advbase;
        to.advskew = from.advskew;
    }
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

/// The request that gives `d` its settings on a vhid now as `cur` (`None`:
/// it is created). Peers are sent only where they change or are set:
/// going back to multicast sends the group address (ifconfig `mcast`,
/// `mcast6`); a host without unicast (13.x, SIOCSVH) is never sent one,
/// nor a VRRPv3 vhid (`carp_nl_set()` copies peers for CARP only).
fn vhid_update(d: &DesiredVhid, cur: Option<&VhidStatus>) -> VhidUpdate {
    let vrrp = d.protocol == Protocol::Vrrpv3;
    VhidUpdate {
        advbase: (!vrrp).then_some(d.advbase),
        advskew: (!vrrp).then_some(d.advskew),
        key: d.key.clone(),
        peer: if vrrp {
            None
        } else {
            peer_update(d.peer, cur.is_some_and(|c| c.peer.is_some()))
        },
        peer6: if vrrp {
            None
        } else {
            peer_update(
                d.peer6.as_ref().map(|p| p.addr),
                cur.is_some_and(|c| c.peer6.is_some()),
            )
        },
        protocol: (cur.is_none() && vrrp).then_some(Protocol::Vrrpv3),
        vrrp_priority: d.vrrp.map(|v| v.priority),
        vrrp_interval: d.vrrp.map(|v| v.interval),
        ..VhidUpdate::default()
    }
}

/// The peer to send: the one wanted, else the multicast group when the
/// vhid has a unicast peer now (`have`), else none (keep).
fn peer_update<A>(want: Option<A>, have: bool) -> Option<PeerUpdate<A>> {
    match want {
        Some(a) => Some(PeerUpdate::Unicast(a)),
        None if have => Some(PeerUpdate::Multicast),
        None => None,
    }
}

/// The request that puts back a vhid as the kernel reported it in `s`:
/// `created` when it must be created again (its protocol, and its peers
/// only if unicast), else as an undo of `sent` (the peers `sent` changed).
fn restore_update(s: &VhidStatus, created: bool, sent: Option<&VhidUpdate>) -> VhidUpdate {
    let vrrp = s.protocol == Protocol::Vrrpv3;
    let changed = |f: fn(&VhidUpdate) -> bool| created || sent.is_some_and(f);
    let peer = |a: Option<Ipv4Addr>| a.map_or(PeerUpdate::Multicast, PeerUpdate::Unicast);
    let peer6 = |a: Option<Ipv6Addr>| a.map_or(PeerUpdate::Multicast, PeerUpdate::Unicast);
    VhidUpdate {
        advbase: crate::model::AdvBase::new(i64::from(s.advbase)).ok(),
        advskew: Some(s.advskew),
        key: s.key.clone(),
        peer: (!vrrp && changed(|u| u.peer.is_some()))
            .then(|| peer(s.peer))
            .filter(|p| !(created && *p == PeerUpdate::Multicast)),
        peer6: (!vrrp && changed(|u| u.peer6.is_some()))
            .then(|| peer6(s.peer6))
            .filter(|p| !(created && *p == PeerUpdate::Multicast)),
        protocol: (created && vrrp).then_some(Protocol::Vrrpv3),
        vrrp_priority: s.vrrp_priority.filter(|_| vrrp),
        vrrp_interval: s.vrrp_interval.filter(|_| vrrp),
        ..VhidUpdate::default()
    }
}
