//! The FreeBSD backend: OS-neutral encoders and decoders for every request
//! carpctl sends to a FreeBSD kernel, and the one byte-level seam
//! ([`Syscalls`]) they cross.
//!
//! * [`netlink`]: generic netlink, the nlctrl family lookup and the "carp"
//!   family (14.0+).
//! * [`ioctl`]: `carpreq` behind SIOCSVH/SIOCGVH (10.0-13.x) and the address
//!   requests SIOCAIFADDR, SIOCAIFADDR_IN6, SIOCDIFADDR, SIOCDIFADDR_IN6.
//! * [`ifaddrs`]: what `getifaddrs(3)` returns, including each address's vhid.
//! * [`backend`]: [`FreeBsdKernel`], the [`crate::kernel::Kernel`] built on them.
//! * [`trace`]: hex logging of every request and reply, keys zeroed.
//! * `sys` (FreeBSD only): the real system calls; the only `unsafe` code.

use super::Errno;

pub mod backend;
pub mod ifaddrs;
pub mod ioctl;
pub mod netlink;
#[cfg(target_os = "freebsd")]
pub mod sys;
pub mod trace;

pub use backend::FreeBsdKernel;

/// A sysctl value as `sysctlbyname(3)` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SysctlValue {
    /// `int` sysctls (`net.inet.carp.preempt`, `kern.osreldate`, ...).
    Int(i32),
    /// String sysctls (`kern.osrelease`).
    String(String),
    /// Opaque structures (`net.inet.carp.stats`), raw bytes.
    Opaque(Vec<u8>),
}

/// One entry of `getifaddrs(3)`, as raw as it comes: the socket addresses
/// are the kernel's `struct sockaddr*` bytes (with the BSD length byte) and
/// `data` is the `struct if_data` that `ifa_data` points to (at least its
/// first [`carpctl_sys::IF_DATA_PREFIX_LEN`] bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawIfaddr {
    pub name: String,
    /// `ifa_flags` (`IFF_UP`, `IFF_MULTICAST`, ...).
    pub flags: u32,
    pub addr: Option<Vec<u8>>,
    pub netmask: Option<Vec<u8>>,
    pub data: Option<Vec<u8>>,
}

/// The byte-level seam between carpctl and a FreeBSD kernel.
///
/// Every method carries exactly what the system call carries. The real
/// implementation (`sys`, FreeBSD only) hands the bytes to the kernel; the
/// emulated kernel ([`crate::kernel::emulated`]) decodes them the way
/// FreeBSD's `ip_carp.c` does. Errors are FreeBSD errno values.
pub trait Syscalls {
    /// `ioctl(2)` on a `SOCK_DGRAM` socket (`AF_INET6` for the `_IN6`
    /// requests, which only inet6 sockets handle; `AF_INET` otherwise). `arg` is the request's
    /// structure (`struct ifreq`, `in_aliasreq`, `in6_aliasreq`, `in6_ifreq`),
    /// updated in place on return. For SIOCSVH and SIOCGVH, `data` is the
    /// buffer that `ifr_data` points to (an array of `struct carpreq`): the
    /// implementation stores its address at `arg[16..24]` before the call.
    fn ioctl(&mut self, request: u64, arg: &mut [u8], data: Option<&mut [u8]>)
    -> Result<(), Errno>;
    /// Send one message on the `AF_NETLINK`/`NETLINK_GENERIC` socket, opened
    /// on first use (`EAFNOSUPPORT` when the kernel has no netlink).
    fn netlink_send(&mut self, msg: &[u8]) -> Result<(), Errno>;
    /// Receive one datagram from that socket; it may hold several messages.
    fn netlink_recv(&mut self) -> Result<Vec<u8>, Errno>;
    /// `sysctlbyname(3)`, read.
    fn sysctl_get(&mut self, name: &str) -> Result<SysctlValue, Errno>;
    /// `sysctlbyname(3)`, write an `int`.
    fn sysctl_set_int(&mut self, name: &str, value: i32) -> Result<(), Errno>;
    /// `modfind(2)`: whether a kernel module is present.
    fn modfind(&mut self, module: &str) -> Result<bool, Errno>;
    /// `kldload(2)`.
    fn kldload(&mut self, file: &str) -> Result<(), Errno>;
    /// `getifaddrs(3)`.
    fn getifaddrs(&mut self) -> Result<Vec<RawIfaddr>, Errno>;
    /// See [`crate::kernel::Kernel::host_root`]; not a system call.
    fn host_root(&self) -> Option<std::path::PathBuf> {
        None
    }
}

impl<S: Syscalls + ?Sized> Syscalls for Box<S> {
    fn ioctl(
        &mut self,
        request: u64,
        arg: &mut [u8],
        data: Option<&mut [u8]>,
    ) -> Result<(), Errno> {
        (**self).ioctl(request, arg, data)
    }
    fn netlink_send(&mut self, msg: &[u8]) -> Result<(), Errno> {
        (**self).netlink_send(msg)
    }
    fn netlink_recv(&mut self) -> Result<Vec<u8>, Errno> {
        (**self).netlink_recv()
    }
    fn sysctl_get(&mut self, name: &str) -> Result<SysctlValue, Errno> {
        (**self).sysctl_get(name)
    }
    fn sysctl_set_int(&mut self, name: &str, value: i32) -> Result<(), Errno> {
        (**self).sysctl_set_int(name, value)
    }
    fn modfind(&mut self, module: &str) -> Result<bool, Errno> {
        (**self).modfind(module)
    }
    fn kldload(&mut self, file: &str) -> Result<(), Errno> {
        (**self).kldload(file)
    }
    fn getifaddrs(&mut self) -> Result<Vec<RawIfaddr>, Errno> {
        (**self).getifaddrs()
    }
    fn host_root(&self) -> Option<std::path::PathBuf> {
        (**self).host_root()
    }
}

/// A reply or request that does not decode. `what` names the structure or
/// message, `detail` says what is wrong and at which byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct DecodeError {
    pub what: &'static str,
    pub(crate) detail: String,
}

impl DecodeError {
    pub fn new(what: &'static str, detail: impl Into<String>) -> Self {
        DecodeError {
            what,
            detail: detail.into(),
        }
    }
}
