//! [`FreeBsdKernel`]: the [`Kernel`] trait over the byte-level [`Syscalls`].

use std::net::IpAddr;

use ipnet::IpNet;

use super::Syscalls;
use crate::kernel::{Kernel, Result};
use crate::model::{
    CarpStats, CarpSysctls, DemotionDelta, Interface, KernelInfo, Knob, Vhid, VhidStatus,
    VhidUpdate,
};

/// carp(4) on a FreeBSD kernel reached through `S`.
pub struct FreeBsdKernel<S> {
    sys: S,
}

impl<S: Syscalls> FreeBsdKernel<S> {
    pub fn new(sys: S) -> Self {
        FreeBsdKernel { sys }
    }
    pub fn into_inner(self) -> S {
        self.sys
    }
}

impl<S: Syscalls> Kernel for FreeBsdKernel<S> {
    fn info(&mut self) -> Result<KernelInfo> {
        todo!("backend")
    }
    fn carp_loaded(&mut self) -> Result<bool> {
        todo!("backend")
    }
    fn load_carp(&mut self) -> Result<()> {
        todo!("backend")
    }
    fn interfaces(&mut self) -> Result<Vec<Interface>> {
        todo!("backend")
    }
    fn vhids(&mut self, ifname: &str) -> Result<Vec<VhidStatus>> {
        let _ = ifname;
        todo!("backend")
    }
    fn vhid(&mut self, ifname: &str, vhid: Vhid) -> Result<Option<VhidStatus>> {
        let _ = (ifname, vhid);
        todo!("backend")
    }
    fn set_vhid(&mut self, ifname: &str, vhid: Vhid, update: &VhidUpdate) -> Result<()> {
        let _ = (ifname, vhid, update);
        todo!("backend")
    }
    fn add_address(&mut self, ifname: &str, vhid: Vhid, addr: IpNet) -> Result<()> {
        let _ = (ifname, vhid, addr);
        todo!("backend")
    }
    fn remove_address(&mut self, ifname: &str, addr: IpAddr) -> Result<()> {
        let _ = (ifname, addr);
        todo!("backend")
    }
    fn sysctls(&mut self) -> Result<CarpSysctls> {
        todo!("backend")
    }
    fn set_knob(&mut self, knob: Knob, value: i32) -> Result<()> {
        let _ = (knob, value);
        todo!("backend")
    }
    fn adjust_demotion(&mut self, delta: DemotionDelta) -> Result<()> {
        let _ = delta;
        todo!("backend")
    }
    fn stats(&mut self) -> Result<CarpStats> {
        todo!("backend")
    }
}
