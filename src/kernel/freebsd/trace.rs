//! Wire tracing: every request and reply crossing the [`Syscalls`] seam is
//! logged at `trace` level (target `carpctl::wire`) as one line of hex,
//! prefixed with the operation. This is what a user on FreeBSD sends us when
//! something goes wrong, so it is complete except for CARP keys, whose bytes
//! are zeroed first; the attribute or field and its length stay visible.

use carpctl_sys::netlink as nl;

use super::{RawIfaddr, Syscalls, SysctlValue, ioctl, netlink};
use crate::kernel::Errno;

/// The tracing target of wire lines (`--trace-wire` enables it).
pub(crate) const TARGET: &str = "carpctl::wire";

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

fn enabled() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::TRACE)
}

fn line(op: &str, dir: &str, bytes: &[u8]) {
    tracing::trace!(target: TARGET, "{op} {dir} {}", hex::encode(bytes));
}

fn result_line<T>(op: &str, r: &Result<T, Errno>) {
    if let Err(e) = r {
        tracing::trace!(target: TARGET, "{op} ! {}", e.name());
    }
}

/// The name of an ioctl request, as FreeBSD's headers spell it.
pub(crate) fn ioctl_name(request: u64) -> String {
    match request {
        carpctl_sys::SIOCSVH => "SIOCSVH".into(),
        carpctl_sys::SIOCGVH => "SIOCGVH".into(),
        carpctl_sys::SIOCAIFADDR => "SIOCAIFADDR".into(),
        carpctl_sys::SIOCAIFADDR_IN6 => "SIOCAIFADDR_IN6".into(),
        carpctl_sys::SIOCDIFADDR => "SIOCDIFADDR".into(),
        carpctl_sys::SIOCDIFADDR_IN6 => "SIOCDIFADDR_IN6".into(),
        other => format!("ioctl {other:#x}"),
    }
}

/// The name of the first netlink message in `bytes`: the nlctrl or carp
/// command for requests and replies, or the control message type.
pub(crate) fn netlink_name(bytes: &[u8]) -> &'static str {
    let Some(ty) = bytes.get(4..6).map(|b| u16::from_ne_bytes([b[0], b[1]])) else {
        return "netlink (short)";
    };
    let cmd = bytes.get(nl::NLMSG_HDRLEN).copied();
    match (ty, cmd) {
        (nl::NLMSG_ERROR, _) => "NLMSG_ERROR",
        (nl::NLMSG_DONE, _) => "NLMSG_DONE",
        (nl::NLMSG_NOOP, _) => "NLMSG_NOOP",
        (nl::GENL_ID_CTRL, Some(nl::CTRL_CMD_GETFAMILY)) => "CTRL_CMD_GETFAMILY",
        (nl::GENL_ID_CTRL, Some(nl::CTRL_CMD_NEWFAMILY)) => "CTRL_CMD_NEWFAMILY",
        (nl::GENL_ID_CTRL, _) => "nlctrl",
        (_, Some(nl::CARP_NL_CMD_GET)) => "CARP_NL_CMD_GET",
        (_, Some(nl::CARP_NL_CMD_SET)) => "CARP_NL_CMD_SET",
        _ => "netlink",
    }
}

impl<S: Syscalls> Syscalls for Traced<S> {
    fn ioctl(
        &mut self,
        request: u64,
        arg: &mut [u8],
        mut data: Option<&mut [u8]>,
    ) -> Result<(), Errno> {
        if !enabled() {
            return self.inner.ioctl(request, arg, data);
        }
        let op = ioctl_name(request);
        line(&op, ">", arg);
        if let Some(d) = data.as_deref() {
            let mut shown = d.to_vec();
            ioctl::redact_carpreq_keys(&mut shown);
            line(&op, "> data", &shown);
        }
        let r = self.inner.ioctl(request, arg, data.as_deref_mut());
        result_line(&op, &r);
        if r.is_ok() {
            line(&op, "<", arg);
            if let Some(d) = data.as_deref() {
                let mut shown = d.to_vec();
                ioctl::redact_carpreq_keys(&mut shown);
                line(&op, "< data", &shown);
            }
        }
        r
    }

    fn netlink_send(&mut self, msg: &[u8]) -> Result<(), Errno> {
        if !enabled() {
            return self.inner.netlink_send(msg);
        }
        let op = netlink_name(msg);
        let mut shown = msg.to_vec();
        netlink::redact_key(&mut shown);
        line(op, ">", &shown);
        let r = self.inner.netlink_send(msg);
        result_line(op, &r);
        r
    }

    fn netlink_recv(&mut self) -> Result<Vec<u8>, Errno> {
        let r = self.inner.netlink_recv();
        if enabled() {
            match &r {
                Ok(bytes) => {
                    let mut shown = bytes.clone();
                    netlink::redact_key(&mut shown);
                    line(netlink_name(bytes), "<", &shown);
                }
                Err(e) => tracing::trace!(target: TARGET, "netlink recv ! {}", e.name()),
            }
        }
        r
    }

    fn sysctl_get(&mut self, name: &str) -> Result<SysctlValue, Errno> {
        let r = self.inner.sysctl_get(name);
        if enabled() {
            match &r {
                Ok(SysctlValue::Int(v)) => {
                    tracing::trace!(target: TARGET, "sysctl {name} < {}", hex::encode(v.to_ne_bytes()))
                }
                Ok(SysctlValue::String(s)) => {
                    tracing::trace!(target: TARGET, "sysctl {name} < {}", hex::encode(s.as_bytes()))
                }
                Ok(SysctlValue::Opaque(b)) => {
                    tracing::trace!(target: TARGET, "sysctl {name} < {}", hex::encode(b))
                }
                Err(e) => tracing::trace!(target: TARGET, "sysctl {name} ! {}", e.name()),
            }
        }
        r
    }

    fn sysctl_set_int(&mut self, name: &str, value: i32) -> Result<(), Errno> {
        if enabled() {
            tracing::trace!(target: TARGET, "sysctl {name} > {}", hex::encode(value.to_ne_bytes()));
        }
        let r = self.inner.sysctl_set_int(name, value);
        if enabled() {
            result_line(&format!("sysctl {name}"), &r);
        }
        r
    }

    fn modfind(&mut self, module: &str) -> Result<bool, Errno> {
        let r = self.inner.modfind(module);
        if enabled() {
            tracing::trace!(target: TARGET, "modfind {module} < {r:?}");
        }
        r
    }

    fn kldload(&mut self, file: &str) -> Result<(), Errno> {
        let r = self.inner.kldload(file);
        if enabled() {
            tracing::trace!(target: TARGET, "kldload {file} < {r:?}");
        }
        r
    }

    fn getifaddrs(&mut self) -> Result<Vec<RawIfaddr>, Errno> {
        let r = self.inner.getifaddrs();
        if enabled() {
            match &r {
                Ok(entries) => {
                    for (i, e) in entries.iter().enumerate() {
                        tracing::trace!(
                            target: TARGET,
                            "getifaddrs < [{i}] {} flags {:#x} addr {} netmask {} data {}",
                            e.name,
                            e.flags,
                            e.addr.as_deref().map_or_else(|| "-".into(), hex::encode),
                            e.netmask.as_deref().map_or_else(|| "-".into(), hex::encode),
                            e.data.as_deref().map_or_else(|| "-".into(), hex::encode),
                        );
                    }
                }
                Err(e) => tracing::trace!(target: TARGET, "getifaddrs ! {}", e.name()),
            }
        }
        r
    }

    fn host_root(&self) -> Option<std::path::PathBuf> {
        self.inner.host_root()
    }
}
