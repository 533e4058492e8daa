//! The kernel boundary: a trait in domain terms.
//!
//! Everything above this module (config, apply, status, ...) talks to a
//! [`Kernel`]. The only implementation is [`freebsd::FreeBsdKernel`], which
//! turns each call into the exact bytes a FreeBSD kernel receives and hands
//! them to a [`freebsd::Syscalls`]: the real system calls on FreeBSD
//! (`freebsd::sys`), or the emulated carp(4) kernel ([`emulated`]) anywhere.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::{
    CarpStats, CarpSysctls, DemotionDelta, Interface, KernelInfo, Knob, Vhid, VhidStatus,
    VhidUpdate,
};

pub mod emulated;
pub mod freebsd;

/// A FreeBSD errno value (FreeBSD's numbering, see `carpctl_sys::errno`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// Every errno FreeBSD defines: (number, name, message).
    pub(crate) const TABLE: &'static [(i32, &'static str, &'static str)] =
        carpctl_sys::errno::TABLE;
    pub const EPERM: Errno = Errno(carpctl_sys::errno::EPERM);
    pub(crate) const ENOENT: Errno = Errno(carpctl_sys::errno::ENOENT);
    pub(crate) const ENXIO: Errno = Errno(carpctl_sys::errno::ENXIO);
    pub const ENOMEM: Errno = Errno(carpctl_sys::errno::ENOMEM);
    pub(crate) const EFAULT: Errno = Errno(carpctl_sys::errno::EFAULT);
    pub const EBUSY: Errno = Errno(carpctl_sys::errno::EBUSY);
    pub(crate) const EEXIST: Errno = Errno(carpctl_sys::errno::EEXIST);
    pub(crate) const EINVAL: Errno = Errno(carpctl_sys::errno::EINVAL);
    pub(crate) const EMSGSIZE: Errno = Errno(carpctl_sys::errno::EMSGSIZE);
    pub const EPROTOTYPE: Errno = Errno(carpctl_sys::errno::EPROTOTYPE);
    pub(crate) const ENOPROTOOPT: Errno = Errno(carpctl_sys::errno::ENOPROTOOPT);
    pub(crate) const EPROTONOSUPPORT: Errno = Errno(carpctl_sys::errno::EPROTONOSUPPORT);
    pub(crate) const EOPNOTSUPP: Errno = Errno(carpctl_sys::errno::EOPNOTSUPP);
    pub(crate) const EAFNOSUPPORT: Errno = Errno(carpctl_sys::errno::EAFNOSUPPORT);
    pub(crate) const EADDRNOTAVAIL: Errno = Errno(carpctl_sys::errno::EADDRNOTAVAIL);
    pub const ENOSYS: Errno = Errno(carpctl_sys::errno::ENOSYS);
    pub(crate) const EIO: Errno = Errno(carpctl_sys::errno::EIO);

    fn entry(self) -> Option<&'static (i32, &'static str, &'static str)> {
        carpctl_sys::errno::TABLE.iter().find(|e| e.0 == self.0)
    }

    /// The symbolic name (`"EINVAL"`), or `"errno N"` for one we do not know.
    pub fn name(self) -> String {
        self.entry()
            .map_or_else(|| format!("errno {}", self.0), |e| e.1.to_string())
    }

    /// Look an errno up by its symbolic name (`"EINVAL"`).
    pub(crate) fn from_name(name: &str) -> Option<Errno> {
        carpctl_sys::errno::TABLE
            .iter()
            .find(|e| e.1.eq_ignore_ascii_case(name))
            .map(|e| Errno(e.0))
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry() {
            Some((_, name, text)) => write!(f, "{name} ({text})"),
            None => write!(f, "errno {}", self.0),
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())
    }
}

/// What went wrong at the kernel boundary. Each variant names the operation
/// (`CARP_NL_CMD_SET`, `SIOCAIFADDR`, ...) and what it was applied to.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// The kernel refused a request.
    #[error("{op} on {target}: {errno}{}", hint_suffix(*.errno, op))]
    Os {
        op: &'static str,
        target: String,
        errno: Errno,
    },
    /// A reply that does not decode: truncated, oversized or garbage.
    #[error("{op}: malformed reply from the kernel: {detail}")]
    Malformed { op: &'static str, detail: String },
    /// A request that cannot be built from what was asked (an interface
    /// name over 15 bytes, a link-local VIP, ...); nothing was sent.
    #[error("cannot build {op}: {detail}")]
    Request { op: &'static str, detail: String },
    /// carp(4) is not in the kernel.
    #[error(
        "carp(4) is not loaded: run `kldload carp`, or add carp_load=\"YES\" to /boot/loader.conf \
         (or `device carp` to the kernel configuration)"
    )]
    NotLoaded,
    /// The kernel is too old or otherwise unusable.
    #[error("{0}")]
    Unsupported(String),
    /// An emulated host's state file could not be read or written.
    #[error("emulated kernel {path}: {detail}")]
    Emulator { path: String, detail: String },
}

fn hint_suffix(errno: Errno, op: &str) -> &'static str {
    match errno {
        Errno::EPERM => ": carpctl must run as root to change carp(4)",
        Errno::EPROTONOSUPPORT => ": carp(4) is not loaded (kldload carp)",
        Errno::ENXIO => ": no such interface",
        Errno::EOPNOTSUPP if op.contains("CARP") || op.starts_with("SIOC") => {
            ": carp(4) needs an Ethernet, VLAN or bridge interface"
        }
        Errno::EADDRNOTAVAIL if !op.contains("ADDR") => ": the interface has no IFF_MULTICAST",
        Errno::ENOPROTOOPT | Errno::ENOENT if op.contains("AIFADDR") => {
            ": the vhid must be configured before its address is attached"
        }
        _ => "",
    }
}

impl KernelError {
    /// The errno of an [`KernelError::Os`], if that is what this is.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            KernelError::Os { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

pub type Result<T, E = KernelError> = std::result::Result<T, E>;

/// carp(4) as carpctl sees it, in domain terms.
pub trait Kernel {
    /// The release and the API in use. Fails for FreeBSD <= 9.
    fn info(&mut self) -> Result<KernelInfo>;
    /// `kern.osreldate` and `kern.osrelease`, which (unlike [`Kernel::info`])
    /// do not need carp(4) loaded. Fails for FreeBSD <= 9.
    fn release(&mut self) -> Result<(i32, String)>;
    /// Whether carp(4) is in the kernel (`modfind("carp")`).
    fn carp_loaded(&mut self) -> Result<bool>;
    /// `kldload carp`.
    fn load_carp(&mut self) -> Result<()>;
    /// Every interface with its addresses and each address's vhid.
    fn interfaces(&mut self) -> Result<Vec<Interface>>;
    /// Every vhid of one interface (empty when it has none).
    fn vhids(&mut self, ifname: &str) -> Result<Vec<VhidStatus>>;
    /// One vhid, or `None` when it does not exist.
    fn vhid(&mut self, ifname: &str, vhid: Vhid) -> Result<Option<VhidStatus>>;
    /// Create or change a vhid: read, overlay `update`, write every field.
    fn set_vhid(&mut self, ifname: &str, vhid: Vhid, update: &VhidUpdate) -> Result<()>;
    /// Attach an address to a vhid (SIOCAIFADDR / SIOCAIFADDR_IN6 with a vhid).
    fn add_address(&mut self, ifname: &str, vhid: Vhid, addr: IpNet) -> Result<()>;
    /// Remove an address (SIOCDIFADDR / SIOCDIFADDR_IN6). Removing the last
    /// address of a vhid destroys the vhid.
    fn remove_address(&mut self, ifname: &str, addr: IpAddr) -> Result<()>;
    /// `net.inet.carp.*`.
    fn sysctls(&mut self) -> Result<CarpSysctls>;
    /// Set one plain `net.inet.carp.*` knob.
    fn set_knob(&mut self, knob: Knob, value: i32) -> Result<()>;
    /// Add a delta to `net.inet.carp.demotion`.
    fn adjust_demotion(&mut self, delta: DemotionDelta) -> Result<()>;
    /// `net.inet.carp.stats`.
    fn stats(&mut self) -> Result<CarpStats>;
    /// `kern.boottime` in seconds since the Epoch: when this boot began, as
    /// the kernel estimates it. It identifies a boot for the demotion ledger
    /// ([`crate::ledger`]), which must notice that a reboot reset
    /// `net.inet.carp.demotion` to 0. A clock step moves it too (see the
    /// ledger's module doc for how the two are told apart).
    fn boot_time(&mut self) -> Result<i64>;
    /// The directory that stands for this host's root file system: `None`
    /// for a real host (`/`), `PATH.root` for an emulated host at `PATH`,
    /// so that its state (the demotion ledger in `state_dir`) is its own.
    fn host_root(&self) -> Option<std::path::PathBuf> {
        None
    }

    /// Every vhid on every interface, in interface order.
    fn all_vhids(&mut self) -> Result<Vec<VhidStatus>> {
        let mut out = Vec::new();
        for iface in self.interfaces()? {
            out.extend(self.vhids(&iface.name)?);
        }
        Ok(out)
    }
}

/// Where the absolute path `path` of `kernel`'s host is on this machine:
/// `path` itself on a real host, the same path inside `PATH.root` on an
/// emulated one ([`Kernel::host_root`]), so that an emulated host's files
/// (its ledger, its host lock) are its own.
pub(crate) fn host_path(kernel: &dyn Kernel, path: &std::path::Path) -> std::path::PathBuf {
    match kernel.host_root() {
        Some(root) => root.join(path.strip_prefix("/").unwrap_or(path)),
        None => path.to_path_buf(),
    }
}
