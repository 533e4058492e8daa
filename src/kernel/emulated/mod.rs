//! An emulated FreeBSD kernel with carp(4), behind the same byte-level seam
//! as the real one ([`crate::kernel::freebsd::Syscalls`]).
//!
//! It decodes every request the way FreeBSD's `ip_carp.c`, `if.c` and `in.c`
//! do, with the same validation order, errno values and quirks per release
//! flavor (13, 14, 15, main). It is a model of carp(4), not a call recorder.
//! Its state lives in a file so that separate `carpctl` processes share one
//! emulated host; fault injection ("fail the Nth mutating call with errno X")
//! lives in a sidecar file `PATH.inject` so the state file itself stays
//! byte-for-byte comparable.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ipnet::IpNet;

use super::freebsd::{RawIfaddr, Syscalls, SysctlValue};
use super::{Errno, KernelError};

/// The FreeBSD release an emulated host behaves like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// 13.x: ioctl only, 40-byte carpreq, SIOCGVH vhid 0 per element.
    #[serde(rename = "13")]
    V13,
    /// 14.x: netlink attributes 1-9, broken SIOCGVH vhid 0.
    #[serde(rename = "14")]
    V14,
    /// 15.x: netlink with VRRPv3 attributes 10-12.
    #[serde(rename = "15")]
    V15,
    /// main after 2026-03-12: netlink only, SIOCSVH/SIOCGVH removed.
    Main,
}

impl FromStr for Flavor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "13" => Ok(Flavor::V13),
            "14" => Ok(Flavor::V14),
            "15" => Ok(Flavor::V15),
            "main" => Ok(Flavor::Main),
            _ => Err(format!("unknown FreeBSD flavor {s:?}: use 13, 14, 15 or main")),
        }
    }
}

/// One interface of a new emulated host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceSpec {
    pub name: String,
    pub addresses: Vec<IpNet>,
}

/// What `carpctl emulate init` creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    pub flavor: Flavor,
    /// Ethernet interfaces (up, link up, IFF_MULTICAST); `lo0` is added first.
    pub interfaces: Vec<IfaceSpec>,
    /// Whether carp.ko is loaded at start.
    pub carp_loaded: bool,
    /// Whether the caller has PRIV_NETINET_CARP (root).
    pub privileged: bool,
}

/// An emulated host opened from its state file.
pub struct EmulatedHost {
    path: PathBuf,
}

impl EmulatedHost {
    /// Write a new host's state file (mode 0600). Fails if it exists.
    pub fn create(path: &Path, spec: &HostSpec) -> Result<(), KernelError> {
        let _ = (path, spec);
        todo!("emulator helper")
    }

    /// Open an existing host.
    pub fn open(path: &Path) -> Result<Self, KernelError> {
        let _ = path;
        todo!("emulator helper")
    }

    /// Arm a failure: the `call`-th mutating call from now (1 = the next)
    /// fails with `errno` and changes nothing.
    pub fn inject_failure(path: &Path, call: u64, errno: Errno) -> Result<(), KernelError> {
        let _ = (path, call, errno);
        todo!("emulator helper")
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Syscalls for EmulatedHost {
    fn ioctl(&mut self, request: u64, arg: &mut [u8], data: Option<&mut [u8]>) -> Result<(), Errno> {
        let _ = (request, arg, data);
        todo!("emulator helper")
    }
    fn netlink_send(&mut self, msg: &[u8]) -> Result<(), Errno> {
        let _ = msg;
        todo!("emulator helper")
    }
    fn netlink_recv(&mut self) -> Result<Vec<u8>, Errno> {
        todo!("emulator helper")
    }
    fn sysctl_get(&mut self, name: &str) -> Result<SysctlValue, Errno> {
        let _ = name;
        todo!("emulator helper")
    }
    fn sysctl_set_int(&mut self, name: &str, value: i32) -> Result<(), Errno> {
        let _ = (name, value);
        todo!("emulator helper")
    }
    fn modfind(&mut self, module: &str) -> Result<bool, Errno> {
        let _ = module;
        todo!("emulator helper")
    }
    fn kldload(&mut self, file: &str) -> Result<(), Errno> {
        let _ = file;
        todo!("emulator helper")
    }
    fn getifaddrs(&mut self) -> Result<Vec<RawIfaddr>, Errno> {
        todo!("emulator helper")
    }
}
