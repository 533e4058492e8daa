//! How a change reads in `apply`'s output and in its errors.

use std::fmt;

use super::{KernelChange, VhidFields};
use crate::model::{Protocol, VhidRef};

/// A peer, or the multicast group it stands for when there is none.
fn peer_word<A: fmt::Display>(a: Option<A>) -> String {
    a.map_or_else(|| "multicast".to_string(), |a| a.to_string())
}

/// The fields of a vhid being created.
fn write_fields(f: &mut fmt::Formatter<'_>, x: &VhidFields) -> fmt::Result {
    match x.protocol {
        Protocol::Carp => write!(f, "advbase {} advskew {}", x.advbase, x.advskew)?,
        Protocol::Vrrpv3 => write!(
            f,
            "vrrp priority {} interval {} cs",
            x.vrrp_priority.unwrap_or_default(),
            x.vrrp_interval.unwrap_or_default()
        )?,
    }
    if let Some(p) = x.peer {
        write!(f, " peer {p}")?;
    }
    if let Some(p) = x.peer6 {
        write!(f, " peer6 {p}")?;
    }
    Ok(())
}

/// What differs between `from` and `to`, each as ` name a -> b`.
fn write_diff(f: &mut fmt::Formatter<'_>, from: &VhidFields, to: &VhidFields) -> fmt::Result {
    if from.advbase != to.advbase {
        write!(f, " advbase {} -> {}", from.advbase, to.advbase)?;
    }
    if from.advskew != to.advskew {
        write!(f, " advskew {} -> {}", from.advskew, to.advskew)?;
    }
    if from.vrrp_priority != to.vrrp_priority {
        let p = |v: Option<u8>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
        write!(
            f,
            " priority {} -> {}",
            p(from.vrrp_priority),
            p(to.vrrp_priority)
        )?;
    }
    if from.vrrp_interval != to.vrrp_interval {
        let i = |v: Option<u16>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
        write!(
            f,
            " interval {} -> {} cs",
            i(from.vrrp_interval),
            i(to.vrrp_interval)
        )?;
    }
    if from.peer != to.peer {
        write!(
            f,
            " peer {} -> {}",
            peer_word(from.peer),
            peer_word(to.peer)
        )?;
    }
    if from.peer6 != to.peer6 {
        write!(
            f,
            " peer6 {} -> {}",
            peer_word(from.peer6),
            peer_word(to.peer6)
        )?;
    }
    Ok(())
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
            } => {
                write!(
                    f,
                    "create vhid {} ({vip}): ",
                    VhidRef::new(*vhid, interface.as_str())
                )?;
                write_fields(f, fields)?;
                if *set_key {
                    write!(f, ", key")?;
                }
                Ok(())
            }
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
                write_diff(f, from, to)?;
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
            } => {
                write!(
                    f,
                    "add {address} to vhid {} ({vip})",
                    VhidRef::new(*vhid, interface.as_str())
                )
            }
            KernelChange::RemoveAddress {
                vip,
                interface,
                vhid,
                address,
                recreate,
            } => {
                write!(
                    f,
                    "remove {address} from vhid {} ({vip})",
                    VhidRef::new(*vhid, interface.as_str())
                )?;
                if let Some(r) = recreate {
                    write!(
                        f,
                        " to re-create it: protocol {} -> {} (carp(4) cannot change it in place)",
                        r.from.word(),
                        r.to.word()
                    )?;
                }
                Ok(())
            }
        }
    }
}
