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
//! fails, the steps already done are undone in reverse order and the error
//! says what failed and what was undone. An unchanged host yields an empty
//! list, so a second apply makes no mutating kernel call.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::kernel::{Kernel, KernelError};
use crate::model::{AdvBase, AdvSkew, CarpState, Key, Knob, Vhid, VhidStatus, VhidUpdate};

/// One vhid this node takes part in, as the cluster file resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredVhid {
    /// The VIP's name in the cluster file.
    pub name: String,
    /// The real interface on this node.
    pub interface: String,
    pub vhid: Vhid,
    pub advbase: AdvBase,
    pub advskew: AdvSkew,
    pub key: Option<Key>,
    pub addresses: Vec<IpNet>,
}

/// Everything `apply` manages on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub preempt: bool,
    pub vhids: Vec<DesiredVhid>,
}

impl From<&crate::config::Desired> for Desired {
    /// What `apply` manages, from this node's resolved cluster-file state.
    fn from(d: &crate::config::Desired) -> Self {
        Desired {
            preempt: d.preempt,
            vhids: d
                .vips
                .iter()
                .map(|v| DesiredVhid {
                    name: v.name.clone(),
                    interface: v.interface.clone(),
                    vhid: v.vhid,
                    advbase: v.advbase,
                    advskew: v.advskew,
                    key: v.key.clone(),
                    addresses: v.addresses.clone(),
                })
                .collect(),
        }
    }
}

/// The vhid fields a change sets (no key: that is only a flag here, so a
/// change list can be printed and serialized without the secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VhidFields {
    pub advbase: u8,
    pub advskew: u8,
}

/// One step of an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    /// `kldload carp`.
    LoadCarp,
    /// `net.inet.carp.preempt`.
    SetPreempt { from: i32, to: i32 },
    /// A vhid that does not exist yet.
    CreateVhid {
        vip: String,
        interface: String,
        vhid: u8,
        #[serde(flatten)]
        fields: VhidFields,
        set_key: bool,
    },
    /// A vhid whose advbase, advskew or key differ.
    UpdateVhid {
        vip: String,
        interface: String,
        vhid: u8,
        from: VhidFields,
        to: VhidFields,
        set_key: bool,
    },
    /// Attach an address to a vhid.
    AddAddress {
        vip: String,
        interface: String,
        vhid: u8,
        address: String,
    },
    /// Detach an address a managed vhid no longer lists.
    RemoveAddress {
        vip: String,
        interface: String,
        vhid: u8,
        address: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::LoadCarp => write!(f, "load carp(4) (kldload carp)"),
            Change::SetPreempt { from, to } => {
                write!(f, "set net.inet.carp.preempt {from} -> {to}")
            }
            Change::CreateVhid {
                vip,
                interface,
                vhid,
                fields,
                set_key,
            } => write!(
                f,
                "create vhid {vhid}@{interface} ({vip}): advbase {} advskew {}{}",
                fields.advbase,
                fields.advskew,
                if *set_key { ", key" } else { "" }
            ),
            Change::UpdateVhid {
                vip,
                interface,
                vhid,
                from,
                to,
                set_key,
            } => {
                write!(f, "update vhid {vhid}@{interface} ({vip}):")?;
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
            Change::AddAddress {
                vip,
                interface,
                vhid,
                address,
            } => {
                write!(f, "add {address} to vhid {vhid}@{interface} ({vip})")
            }
            Change::RemoveAddress {
                vip,
                interface,
                vhid,
                address,
            } => {
                write!(f, "remove {address} from vhid {vhid}@{interface} ({vip})")
            }
        }
    }
}

/// Something in the way that no change can fix safely (nothing was touched).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Kernel(#[from] KernelError),
    #[error(
        "{address} is already on {interface} {holder}; carpctl will not take it over \
         (remove it first, or change vip {vip:?})"
    )]
    AddressInUse {
        vip: String,
        interface: String,
        address: IpNet,
        holder: String,
    },
}

/// Compare desired and observed state and list the changes, in order.
/// Reads the kernel only.
pub fn plan_changes(kernel: &mut dyn Kernel, desired: &Desired) -> Result<Vec<Change>, PlanError> {
    let mut changes = Vec::new();
    if !kernel.carp_loaded()? {
        // Nothing else can be read without carp(4): plan as if empty.
        changes.push(Change::LoadCarp);
        changes.push(Change::SetPreempt {
            from: 0,
            to: i32::from(desired.preempt),
        });
        for d in &desired.vhids {
            changes.push(create_change(d));
            changes.extend(d.addresses.iter().map(|a| add_change(d, a)));
        }
        return Ok(changes);
    }
    let preempt = kernel.sysctls()?.preempt;
    let want = i32::from(desired.preempt);
    if (preempt != 0) != desired.preempt {
        changes.push(Change::SetPreempt {
            from: preempt,
            to: want,
        });
    }
    let interfaces = kernel.interfaces()?;
    let mut adds = Vec::new();
    let mut removes = Vec::new();
    for d in &desired.vhids {
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
                    return Err(PlanError::AddressInUse {
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
                removes.push(Change::RemoveAddress {
                    vip: d.name.clone(),
                    interface: d.interface.clone(),
                    vhid: d.vhid.get(),
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

fn create_change(d: &DesiredVhid) -> Change {
    Change::CreateVhid {
        vip: d.name.clone(),
        interface: d.interface.clone(),
        vhid: d.vhid.get(),
        fields: fields(d),
        set_key: d.key.is_some(),
    }
}

fn add_change(d: &DesiredVhid, a: &IpNet) -> Change {
    Change::AddAddress {
        vip: d.name.clone(),
        interface: d.interface.clone(),
        vhid: d.vhid.get(),
        address: a.to_string(),
    }
}

fn update_change(d: &DesiredVhid, cur: &VhidStatus) -> Option<Change> {
    let from = VhidFields {
        advbase: cur.advbase,
        advskew: cur.advskew,
    };
    let to = fields(d);
    // The kernel shows the key to root only; an unreadable key is set again
    // (harmless: the same bytes) rather than assumed right.
    let set_key = match (&d.key, &cur.key) {
        (Some(want), Some(have)) => want != have,
        (Some(_), None) => true,
        (None, _) => false,
    };
    (from != to || set_key).then(|| Change::UpdateVhid {
        vip: d.name.clone(),
        interface: d.interface.clone(),
        vhid: d.vhid.get(),
        from,
        to,
        set_key,
    })
}

/// How a failed apply ended.
#[derive(Debug)]
pub struct ApplyError {
    /// The step that failed and why.
    pub failed: Change,
    pub error: KernelError,
    /// The steps undone, in the order they were undone.
    pub undone: Vec<Change>,
    /// Steps that could not be undone, with the reason.
    pub not_undone: Vec<(Change, String)>,
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.failed, self.error)?;
        if self.undone.is_empty() && self.not_undone.is_empty() {
            write!(f, "; nothing had been changed")?;
        }
        for c in &self.undone {
            write!(f, "\n  undone: {c}")?;
        }
        for (c, why) in &self.not_undone {
            write!(f, "\n  NOT undone: {c}: {why}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApplyError {}

/// What is needed to take one step back.
enum Undo {
    /// carp.ko stays loaded: with no vhid it changes nothing.
    Nothing,
    Preempt(i32),
    /// Destroy a vhid created by this apply, if it is still there (it goes
    /// with its last address; FreeBSD has no request to delete a vhid).
    DestroyVhid {
        interface: String,
        vhid: Vhid,
        address: IpNet,
    },
    RestoreVhid {
        interface: String,
        vhid: Vhid,
        advbase: u8,
        advskew: u8,
        key: Option<Key>,
        /// A key was set where none was: carp(4) cannot clear a key.
        key_stays: bool,
    },
    RemoveAddress {
        interface: String,
        address: IpAddr,
    },
    AddAddress {
        interface: String,
        vhid: Vhid,
        address: IpNet,
    },
}

/// Apply `changes` (from [`plan_changes`] on the same `desired`). On failure,
/// undo what was done, in reverse order.
pub fn execute(
    kernel: &mut dyn Kernel,
    desired: &Desired,
    changes: &[Change],
) -> Result<(), Box<ApplyError>> {
    let mut done: Vec<(Change, Undo)> = Vec::new();
    for change in changes {
        match step(kernel, desired, change) {
            Ok(undo) => {
                tracing::info!("{change}");
                done.push((change.clone(), undo));
            }
            Err(error) => {
                let mut undone = Vec::new();
                let mut not_undone = Vec::new();
                while let Some((c, undo)) = done.pop() {
                    match revert(kernel, undo) {
                        Ok(()) => {
                            tracing::info!("undone: {c}");
                            undone.push(c);
                        }
                        Err(e) => not_undone.push((c, e.to_string())),
                    }
                }
                return Err(Box::new(ApplyError {
                    failed: change.clone(),
                    error,
                    undone,
                    not_undone,
                }));
            }
        }
    }
    Ok(())
}

fn find<'a>(desired: &'a Desired, interface: &str, vhid: u8) -> Option<&'a DesiredVhid> {
    desired
        .vhids
        .iter()
        .find(|d| d.interface == interface && d.vhid.get() == vhid)
}

fn parse_net(s: &str) -> Result<IpNet, KernelError> {
    s.parse()
        .map_err(|_| KernelError::Unsupported(format!("bad address {s:?} in change list")))
}

fn vhid_of(v: u8) -> Result<Vhid, KernelError> {
    Vhid::new(i64::from(v)).map_err(|e| KernelError::Unsupported(e.to_string()))
}

fn step(kernel: &mut dyn Kernel, desired: &Desired, change: &Change) -> Result<Undo, KernelError> {
    match change {
        Change::LoadCarp => {
            kernel.load_carp()?;
            Ok(Undo::Nothing)
        }
        Change::SetPreempt { to, .. } => {
            let before = kernel.sysctls()?.preempt;
            kernel.set_knob(Knob::Preempt, *to)?;
            Ok(Undo::Preempt(before))
        }
        Change::CreateVhid {
            interface, vhid, ..
        }
        | Change::UpdateVhid {
            interface, vhid, ..
        } => {
            let d = find(desired, interface, *vhid).ok_or_else(|| {
                KernelError::Unsupported(format!("vhid {vhid}@{interface} is not in the plan"))
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
                        KernelError::Unsupported(format!("vhid {vhid}@{interface} has no address"))
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
        Change::AddAddress {
            interface,
            vhid,
            address,
            ..
        } => {
            let net = parse_net(address)?;
            kernel.add_address(interface, vhid_of(*vhid)?, net)?;
            Ok(Undo::RemoveAddress {
                interface: interface.clone(),
                address: net.addr(),
            })
        }
        Change::RemoveAddress {
            interface,
            vhid,
            address,
            ..
        } => {
            let net = parse_net(address)?;
            kernel.remove_address(interface, net.addr())?;
            Ok(Undo::AddAddress {
                interface: interface.clone(),
                vhid: vhid_of(*vhid)?,
                address: net,
            })
        }
    }
}

fn revert(kernel: &mut dyn Kernel, undo: Undo) -> Result<(), KernelError> {
    match undo {
        Undo::Nothing => Ok(()),
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
                advskew: AdvSkew::new(i64::from(advskew)).ok(),
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

/// The state each of this node's vhids should be in when every node is up:
/// MASTER where it ranks first, BACKUP elsewhere.
pub fn expected_state(rank: usize) -> CarpState {
    if rank == 0 {
        CarpState::Master
    } else {
        CarpState::Backup
    }
}
