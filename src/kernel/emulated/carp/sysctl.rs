//! The `net.inet.carp` sysctls (`docs/freebsd-carp.md` §7) and module
//! loading (§4) on the emulated kernel.

use super::with_sc;
use crate::kernel::Errno;
use crate::kernel::emulated::fsm::{self, Event};
use crate::kernel::emulated::state::HostState;
use crate::kernel::freebsd::SysctlValue;

/// A sysctl the emulated kernel knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Oid {
    OsRelDate,
    OsRelease,
    BootTime,
    Allow,
    Preempt,
    Log,
    Demotion,
    IfdownDemotionFactor,
    SenderrDemotionFactor,
    Dscp,
    Stats,
}

impl Oid {
    fn lookup(name: &str) -> Option<Oid> {
        Some(match name {
            "kern.osreldate" => Oid::OsRelDate,
            "kern.osrelease" => Oid::OsRelease,
            "kern.boottime" => Oid::BootTime,
            "net.inet.carp.allow" => Oid::Allow,
            "net.inet.carp.preempt" => Oid::Preempt,
            "net.inet.carp.log" => Oid::Log,
            "net.inet.carp.demotion" => Oid::Demotion,
            "net.inet.carp.ifdown_demotion_factor" => Oid::IfdownDemotionFactor,
            "net.inet.carp.senderr_demotion_factor" => Oid::SenderrDemotionFactor,
            "net.inet.carp.dscp" => Oid::Dscp,
            "net.inet.carp.stats" => Oid::Stats,
            _ => return None,
        })
    }
    fn is_carp(self) -> bool {
        !matches!(self, Oid::OsRelDate | Oid::OsRelease | Oid::BootTime)
    }
}

impl HostState {
    // -----------------------------------------------------------------
    // sysctl (`docs/freebsd-carp.md` §7) and modules (§4)
    // -----------------------------------------------------------------

    /// The OID, if it exists in this kernel: `net.inet.carp` only with
    /// carp.ko loaded.
    fn oid(&self, name: &str) -> Result<Oid, Errno> {
        match Oid::lookup(name) {
            Some(oid) if !oid.is_carp() || self.carp_loaded => Ok(oid),
            _ => Err(Errno::ENOENT),
        }
    }

    pub(crate) fn sysctl_get(&self, name: &str) -> Result<SysctlValue, Errno> {
        let s = &self.sysctl;
        Ok(match self.oid(name)? {
            Oid::OsRelDate => SysctlValue::Int(self.osreldate()),
            Oid::OsRelease => SysctlValue::String(self.flavor.osrelease().to_string()),
            // struct timeval as amd64 returns it: tv_sec, tv_usec, both
            // 64-bit, native order (sysctl_kern_boottime(), kern_tc.c).
            Oid::BootTime => {
                let mut tv = self.boottime.to_ne_bytes().to_vec();
                tv.extend_from_slice(&0i64.to_ne_bytes());
                SysctlValue::Opaque(tv)
            }
            Oid::Allow => SysctlValue::Int(s.allow),
            Oid::Preempt => SysctlValue::Int(s.preempt),
            Oid::Log => SysctlValue::Int(s.log),
            Oid::Demotion => SysctlValue::Int(s.demotion),
            Oid::IfdownDemotionFactor => SysctlValue::Int(s.ifdown_demotion_factor),
            Oid::SenderrDemotionFactor => SysctlValue::Int(s.senderr_demotion_factor),
            Oid::Dscp => SysctlValue::Int(s.dscp),
            Oid::Stats => SysctlValue::Opaque(self.stats.to_bytes()),
        })
    }

    pub(crate) fn sysctl_set_int(
        &mut self,
        name: &str,
        value: i32,
        ev: &mut Vec<Event>,
    ) -> Result<(), Errno> {
        let oid = self.oid(name)?;
        // sysctl_root(): a read-only OID is EPERM before the privilege
        // check (PRIV_SYSCTL_WRITE), which is EPERM too.
        if !oid.is_carp() || !self.privileged {
            return Err(Errno::EPERM);
        }
        let s = &mut self.sysctl;
        match oid {
            Oid::OsRelDate | Oid::OsRelease | Oid::BootTime => return Err(Errno::EPERM),
            Oid::Allow => {
                // carp_allow_sysctl(): on a change, carp_sc_state() on every
                // vhid (to INIT with the ifdown demotion, or back).
                if s.allow != value {
                    s.allow = value;
                    self.all_sc_state(ev);
                }
            }
            Oid::Preempt => s.preempt = value,
            Oid::Log => s.log = value,
            // carp_demote_adj_sysctl(): a write adds the value.
            Oid::Demotion => fsm::demote_adj(s, value, "sysctl", ev),
            Oid::IfdownDemotionFactor => s.ifdown_demotion_factor = value,
            Oid::SenderrDemotionFactor => s.senderr_demotion_factor = value,
            Oid::Dscp => {
                // carp_dscp_sysctl().
                if !(0..=63).contains(&value) {
                    return Err(Errno::EINVAL);
                }
                s.dscp = value;
            }
            // SYSCTL_VNET_PCPUSTAT: any write zeroes the counters.
            Oid::Stats => self.stats = Default::default(),
        }
        Ok(())
    }

    /// `carp_sc_state()` on every vhid of the host, in interface order.
    pub(in crate::kernel::emulated) fn all_sc_state(&mut self, ev: &mut Vec<Event>) {
        let now = (self.now, self.hz);
        let HostState {
            interfaces, sysctl, ..
        } = self;
        for ifc in interfaces.iter_mut() {
            for si in 0..ifc.vhids.len() {
                with_sc(ifc, si, now, |p, sc, n| fsm::sc_state(p, sc, n, sysctl, ev));
            }
        }
    }

    /// `modfind(2)`: carp.ko when loaded; netlink is in every flavor's kernel.
    pub(crate) fn modfind(&self, module: &str) -> bool {
        match module {
            "carp" => self.carp_loaded,
            "netlink" => true,
            _ => false,
        }
    }

    /// `kldload(2)` of carp.ko: PRIV_KLD_LOAD, then the file, then EEXIST
    /// when the module is already in the kernel.
    pub(crate) fn kldload(&mut self, file: &str) -> Result<(), Errno> {
        if !self.privileged {
            return Err(Errno::EPERM);
        }
        let base = file.rsplit('/').next().unwrap_or(file);
        if base != "carp" && base != "carp.ko" {
            return Err(Errno::ENOENT);
        }
        if self.carp_loaded {
            return Err(Errno::EEXIST);
        }
        self.carp_loaded = true;
        // The VNET variables start at their defaults.
        self.sysctl = Default::default();
        self.stats = Default::default();
        Ok(())
    }
}
