//! `apply --only VIP` and `apply --remove VIP`: an apply that acts on some
//! VIPs of the file and leaves every other vhid, and the preempt sysctl,
//! as the kernel has them. This is what a rollout plan's steps run
//! (carpctl(8), ROLLOUTS): one VIP at a time, in an order that never puts
//! two masters or two keys on the wire.
//!
//! `--remove` takes a VIP's vhid off this node: every address of the vhid
//! is detached, and the last one takes the vhid with it
//! (`in_scrubprefix()` -> `carp_detach()`, sys/netinet/in.c and
//! sys/netinet/ip_carp.c), exactly as a protocol change re-creates one
//! ([`super::plan_changes`]).

use super::{Desired, KernelChange, PlanChangesError, remove_change};
use crate::config::Config;
use crate::kernel::Kernel;

/// The VIPs an apply acts on. Both lists empty: the whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Selection {
    /// Brought to the file's settings; every other VIP is left alone.
    pub only: Vec<String>,
    /// Taken off this node.
    pub remove: Vec<String>,
}

impl Selection {
    /// Whether the apply acts on part of the file only.
    pub(crate) fn is_partial(&self) -> bool {
        !self.only.is_empty() || !self.remove.is_empty()
    }

    /// Every VIP named is a VIP of the file in which `node` takes part,
    /// and none is named both to keep and to remove. The message names
    /// the first that is not.
    pub(crate) fn check(&self, cfg: &Config, node: &str) -> Result<(), String> {
        for (flag, names) in [("--only", &self.only), ("--remove", &self.remove)] {
            for name in names {
                let Some(v) = cfg.vips.iter().find(|v| v.name == *name) else {
                    let known: Vec<&str> = cfg.vips.iter().map(|v| v.name.as_str()).collect();
                    return Err(format!(
                        "{flag} {name}: the cluster file has no VIP \"{name}\" (its VIPs: {})",
                        known.join(", ")
                    ));
                };
                if !v.takes_part(node) {
                    return Err(format!(
                        "{flag} {name}: node \"{node}\" takes no part in VIP \"{name}\""
                    ));
                }
            }
        }
        if let Some(both) = self.only.iter().find(|n| self.remove.contains(n)) {
            return Err(format!(
                "VIP \"{both}\" is given to both --only and --remove"
            ));
        }
        Ok(())
    }

    /// The changes that bring the selected VIPs of `desired` to the file
    /// and take the removed ones off, in that order. `desired` is narrowed
    /// to the VIPs kept, so that [`super::execute`] sees only them.
    pub(crate) fn plan(
        &self,
        kernel: &mut dyn Kernel,
        desired: &mut Desired,
    ) -> Result<Vec<KernelChange>, PlanChangesError> {
        if !self.is_partial() {
            return super::plan_changes(kernel, desired);
        }
        let removed: Vec<_> = desired
            .vips
            .iter()
            .filter(|v| self.remove.contains(&v.name))
            .cloned()
            .collect();
        desired.vips.retain(|v| self.only.contains(&v.name));
        let mut changes = super::plan_changes(kernel, desired)?;
        // The preempt sysctl is the whole node's: a partial apply keeps it.
        changes.retain(|c| !matches!(c, KernelChange::SetPreempt { .. }));
        if !kernel.carp_loaded()? {
            return Ok(changes);
        }
        let interfaces = kernel.interfaces()?;
        for d in &removed {
            let on_vhid = interfaces
                .iter()
                .filter(|i| i.name == d.interface)
                .flat_map(|i| i.addresses.iter())
                .filter(|a| a.vhid == Some(d.vhid));
            changes.extend(on_vhid.map(|a| remove_change(d, &a.net, None)));
        }
        Ok(changes)
    }
}
