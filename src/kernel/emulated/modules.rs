//! Kernel modules and the generic netlink family table: `kldload(2)` and
//! `kldunload(2)` of carp.ko and of other modules, which family answers to
//! which id, and `kern.osreldate`.
//!
//! FreeBSD keeps the families in a fixed array (`families[MAX_FAMILIES]`,
//! 20 slots; `sys/netlink/netlink_generic_kpi.c` @ 19e43c16): nlctrl holds
//! slot 0 (id `GENL_MIN_ID` = 16), every other family takes the lowest free
//! slot when it registers (`find_empty_family_id`), and unregistering zeroes
//! its slot. So when carp.ko is unloaded, the next module that registers a
//! family takes carp's old id, and carp.ko loaded again gets another one: a
//! client that cached the id would send carp's requests to a stranger
//! (docs/freebsd-carp.md §6.1). Only the ids are modelled for other
//! modules; see [`Family::Other`] for what they answer.

use carpctl_sys::netlink as nl;

use super::state::HostState;
use crate::kernel::Errno;

/// `MAX_FAMILIES` (`sys/netlink/netlink_generic.h`): ids 16 to 35.
const MAX_FAMILIES: u16 = 20;

/// Who answers to a generic netlink family id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family<'a> {
    /// nlctrl, `GENL_ID_CTRL`.
    Ctrl,
    /// carp.ko's family "carp".
    Carp,
    /// Another module's family, by name. The emulator does not model what
    /// it does, only that it is there: it takes every command but 0 (pf.ko's
    /// "pfctl", for one, has commands 1 and 2, and answers command 1 with a
    /// dump), answers a dump with an empty `NLMSG_DONE` and anything else
    /// with an ack when one is asked for, and changes nothing.
    Other(&'a str),
    /// A free slot, or an id beyond the table: `genl_handle_message` finds
    /// no command there and answers ENOTSUP (= EOPNOTSUPP).
    None,
}

/// The module a `kldload`/`kldunload` file argument names: the last path
/// component without `.ko`.
fn module_name(file: &str) -> &str {
    let base = file.rsplit('/').next().unwrap_or(file);
    base.strip_suffix(".ko").unwrap_or(base)
}

impl HostState {
    /// `kern.osreldate`: the flavor's, unless the host overrides it.
    pub(super) fn osreldate(&self) -> i32 {
        self.osreldate.unwrap_or_else(|| self.flavor.osreldate())
    }

    /// The family registered under `id`.
    pub(super) fn genl_family(&self, id: u16) -> Family<'_> {
        if id == nl::GENL_ID_CTRL {
            Family::Ctrl
        } else if self.carp_family_registered() && id == self.carp_family_id {
            Family::Carp
        } else if let Some(name) = self.genl_families.get(&id) {
            Family::Other(name)
        } else {
            Family::None
        }
    }

    /// The id of the family called `name`, if it is registered.
    pub(super) fn genl_family_id(&self, name: &str) -> Option<u16> {
        if name == nl::CARP_NL_FAMILY_NAME {
            return self.carp_family_registered().then_some(self.carp_family_id);
        }
        self.genl_families
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(id, _)| *id)
    }

    /// The lowest free id (`find_empty_family_id`), carp's own slot counted
    /// as free.
    fn free_genl_id(&self) -> Option<u16> {
        (nl::GENL_ID_CTRL + 1..nl::GENL_ID_CTRL + MAX_FAMILIES)
            .find(|id| !self.genl_families.contains_key(id))
    }

    /// `kldload(2)`: carp.ko (what carpctl itself loads), or another module
    /// whose generic netlink family is called `file` (a test or
    /// `carpctl emulate` stand-in for pf.ko's "pfctl" and the like).
    pub(super) fn load_module(&mut self, file: &str) -> Result<(), Errno> {
        let name = module_name(file);
        if name == "carp" {
            self.kldload(file)?;
            if self.flavor.has_carp_netlink() {
                // carp_nl_register() -> genl_register_family(): MPASS that a
                // slot was free. With 19 slots and carp the only family
                // carpctl loads, the emulator never runs out here.
                self.carp_family_id = self
                    .free_genl_id()
                    .ok_or(Errno(carpctl_sys::errno::ENOSPC))?;
            }
            return Ok(());
        }
        // PRIV_KLD_LOAD.
        if !self.privileged {
            return Err(Errno::EPERM);
        }
        if name.is_empty() || name == nl::CARP_NL_FAMILY_NAME || name == "nlctrl" {
            return Err(Errno::EINVAL);
        }
        if self.genl_family_id(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let taken = self.carp_family_registered().then_some(self.carp_family_id);
        let id = (nl::GENL_ID_CTRL + 1..nl::GENL_ID_CTRL + MAX_FAMILIES)
            .find(|id| Some(*id) != taken && !self.genl_families.contains_key(id))
            // FreeBSD asserts a free slot (MPASS); the emulator says so.
            .ok_or(Errno(carpctl_sys::errno::ENOSPC))?;
        self.genl_families.insert(id, name.to_string());
        Ok(())
    }

    /// `kldunload(2)`. carp.ko refuses while any vhid exists (EBUSY,
    /// `carp_modevent` MOD_UNLOAD); unloading it unregisters its family
    /// (`carp_nl_unregister`) and its sysctls. A module that is not loaded
    /// is ENOENT.
    pub(super) fn unload_module(&mut self, file: &str) -> Result<(), Errno> {
        // PRIV_KLD_UNLOAD.
        if !self.privileged {
            return Err(Errno::EPERM);
        }
        let name = module_name(file);
        if name == "carp" {
            if !self.carp_loaded {
                return Err(Errno::ENOENT);
            }
            if self.interfaces.iter().any(|i| i.has_carp()) {
                return Err(Errno::EBUSY);
            }
            self.carp_loaded = false;
            return Ok(());
        }
        let id = self
            .genl_families
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(id, _)| *id)
            .ok_or(Errno::ENOENT)?;
        self.genl_families.remove(&id);
        Ok(())
    }

    /// What serde cannot check of the family table.
    pub(super) fn validate_genl(&self) -> Result<(), String> {
        let range = nl::GENL_ID_CTRL + 1..nl::GENL_ID_CTRL + MAX_FAMILIES;
        for (id, name) in &self.genl_families {
            if !range.contains(id) {
                return Err(format!(
                    "generic netlink family {name:?} has id {id}, outside {}-{}",
                    range.start,
                    range.end - 1
                ));
            }
            if name.is_empty() || name == nl::CARP_NL_FAMILY_NAME || name == "nlctrl" {
                return Err(format!("generic netlink family {id} has the name {name:?}"));
            }
        }
        if !range.contains(&self.carp_family_id) {
            return Err(format!(
                "carp_family_id {} is outside {}-{}",
                self.carp_family_id,
                range.start,
                range.end - 1
            ));
        }
        if self.carp_family_registered() && self.genl_families.contains_key(&self.carp_family_id) {
            return Err(format!(
                "carp's family id {} is also registered to another family",
                self.carp_family_id
            ));
        }
        let mut names: Vec<&String> = self.genl_families.values().collect();
        names.sort();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err("a generic netlink family is registered twice".into());
        }
        Ok(())
    }
}
