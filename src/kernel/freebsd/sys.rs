//! The real FreeBSD system calls behind [`super::Syscalls`]. The only file
//! with `unsafe` code.
//!
//! This layer only moves bytes: every request was encoded above (in the
//! OS-neutral `ioctl`, `netlink` and `ifaddrs` modules) and every reply is
//! decoded there. What it adds is what makes the unsafe calls sound: the
//! argument of an `ioctl(2)` must be exactly as long as the request number
//! says, only requests whose argument holds no pointer (or only the
//! `ifr_data` pointer that this file itself fills in) are passed on, and a
//! `carpreq` buffer must be large enough for everything the kernel will copy
//! out into it.
//!
//! Errors are the errno the kernel returned. On FreeBSD the native numbers
//! are FreeBSD's, so they go into [`Errno`] unchanged.
#![allow(
    unsafe_code,
    reason = "the ioctl(2), socket and getifaddrs(3) calls into FreeBSD"
)]

use std::ffi::{CStr, CString, c_char, c_int, c_ulong, c_void};
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr;
use std::time::Duration;

use carpctl_sys::netlink::{AF_NETLINK, NETLINK_GENERIC};
use carpctl_sys::{
    IFR_DATA_OFFSET, IOCPARM_MASK, SIOCAIFADDR, SIOCAIFADDR_IN6, SIOCDIFADDR, SIOCDIFADDR_IN6,
    SIOCGVH, SIOCSVH, carpreq,
};
use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockType, send, setsockopt, socket, sockopt,
};
use nix::sys::time::TimeVal;
use sysctl::{Ctl, CtlType, CtlValue, Sysctl, SysctlError};

use super::{RawIfaddr, Syscalls, SysctlValue};
use crate::kernel::Errno;

// `modfind(2)` and `kldload(2)` are in FreeBSD's libc.so.7 (declared in
// `sys/module.h` and `sys/linker.h`) but the libc crate 0.2.191 does not
// declare them for FreeBSD, so they are declared here.
//
// SAFETY: both prototypes match the FreeBSD headers exactly:
// `int modfind(const char *modname);` and `int kldload(const char *file);`.
// Neither keeps the pointer after returning.
unsafe extern "C" {
    fn modfind(modname: *const c_char) -> c_int;
    fn kldload(file: *const c_char) -> c_int;
}

/// The first netlink receive buffer. FreeBSD's netlink returns as many whole
/// messages as fit and truncates only a single message larger than the
/// buffer; a carp GET reply is about 100 bytes, so 64 KiB never truncates
/// one (a whole dump of 255 vhids is about 26 KiB).
const NETLINK_RECV_INITIAL: usize = 64 * 1024;
/// The largest receive buffer we grow to after a truncated message.
const NETLINK_RECV_MAX: usize = 16 * 1024 * 1024;
/// How long `netlink_recv` waits before giving up with ETIMEDOUT: a kernel
/// always answers a generic-netlink request at once, so silence means the
/// family or the kernel is broken and carpctl must not hang at boot.
const NETLINK_RECV_TIMEOUT: Duration = Duration::from_secs(5);

/// The FreeBSD system calls, with the sockets they need opened on first use.
#[derive(Debug)]
pub struct NativeSyscalls {
    /// `socket(AF_INET, SOCK_DGRAM, 0)` for SIOCSVH/SIOCGVH (any socket
    /// works: `ifioctl()` handles them before the protocol, docs/freebsd-carp.md §4.2)
    /// and the IPv4 address requests, which `in_control()` handles.
    inet: Option<OwnedFd>,
    /// `socket(AF_INET6, SOCK_DGRAM, 0)` for SIOCAIFADDR_IN6 and
    /// SIOCDIFADDR_IN6: only `in6_control()`, the control routine of inet6
    /// sockets, knows them (ifconfig, too, uses a socket of the address's
    /// family). Opened only when needed, so an IPv4-only kernel works.
    inet6: Option<OwnedFd>,
    /// `socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC)`.
    netlink: Option<OwnedFd>,
    /// Size of the next netlink receive buffer; grows after truncation.
    recv_len: usize,
    recv_timeout: Duration,
}

impl Default for NativeSyscalls {
    fn default() -> Self {
        Self::new()
    }
}

impl NativeSyscalls {
    /// No system call is made until a method needs one.
    #[must_use]
    pub fn new() -> Self {
        NativeSyscalls {
            inet: None,
            inet6: None,
            netlink: None,
            recv_len: NETLINK_RECV_INITIAL,
            recv_timeout: NETLINK_RECV_TIMEOUT,
        }
    }

    /// Use another netlink receive timeout (tests; the default is 5 s).
    #[must_use]
    pub fn with_recv_timeout(mut self, timeout: Duration) -> Self {
        self.recv_timeout = timeout;
        self
    }

    /// The datagram socket of `family`, opened on first use.
    fn ioctl_fd(&mut self, family: Family) -> Result<c_int, Errno> {
        let (slot, af) = match family {
            Family::Inet => (&mut self.inet, AddressFamily::Inet),
            Family::Inet6 => (&mut self.inet6, AddressFamily::Inet6),
        };
        if let Some(fd) = slot {
            return Ok(fd.as_raw_fd());
        }
        let fd = socket(af, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None).map_err(nix_errno)?;
        Ok(slot.insert(fd).as_raw_fd())
    }

    fn netlink_fd(&mut self) -> Result<c_int, Errno> {
        if let Some(fd) = &self.netlink {
            return Ok(fd.as_raw_fd());
        }
        // nix and netlink-sys have no FreeBSD netlink (rust-lang/libc #3194;
        // docs/freebsd-carp.md §3), so the socket is opened with libc directly.
        // SAFETY: socket(2) takes three integers and touches no memory of
        // ours; a negative result is handled before the value is used.
        let raw = unsafe {
            libc::socket(
                AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                NETLINK_GENERIC,
            )
        };
        // EAFNOSUPPORT: no netlink(4) in this kernel (13.x).
        let raw = nix::errno::Errno::result(raw).map_err(nix_errno)?;
        // SAFETY: `raw` is a descriptor socket(2) just created; nothing else
        // owns it, so OwnedFd may close it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // `time_t` and `suseconds_t` are 32-bit on i386 (docs/freebsd-carp.md
        // §3): convert to the target's own types, saturating.
        let secs = libc::time_t::try_from(self.recv_timeout.as_secs()).unwrap_or(libc::time_t::MAX);
        // Below 1 000 000, so it fits an i32 and every `suseconds_t`.
        let usecs = libc::suseconds_t::from(
            i32::try_from(self.recv_timeout.subsec_micros()).unwrap_or(999_999),
        );
        setsockopt(&fd, sockopt::ReceiveTimeout, &TimeVal::new(secs, usecs)).map_err(nix_errno)?;
        Ok(self.netlink.insert(fd).as_raw_fd())
    }
}

/// How the kernel uses the argument of a request this layer passes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArgKind {
    /// SIOCSVH / SIOCGVH: a `struct ifreq` whose `ifr_data` points to an
    /// array of `struct carpreq` (docs/freebsd-carp.md §4).
    CarpReq,
    /// The structure is all the kernel reads or writes: no pointers inside
    /// (`in_aliasreq`, `in6_aliasreq`, `ifreq` with `ifru_addr`, `in6_ifreq`),
    /// sent on a socket of the address's family.
    Plain(Family),
}

/// The address family of the socket an ioctl goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Inet,
    Inet6,
}

/// Decide whether `request` may be passed to the kernel with an argument of
/// `arg_len` bytes and the given `ifr_data` buffer, without the kernel ever
/// touching memory outside them.
///
/// * The length encoded in the request (`IOCPARM_LEN`, `sys/sys/ioccom.h`) is
///   what `ioctl(2)` copies in and out, so it must equal `arg_len` (EINVAL).
/// * Only requests whose argument layout is known are allowed (EINVAL
///   otherwise): an unknown `ifreq` request might dereference a pointer in
///   the union (`ifr_buffer`, `ifr_data`) that we never set.
/// * SIOCSVH/SIOCGVH need the `carpreq` buffer (the kernel copies in 40
///   bytes from `ifr_data` before anything else, §4.2): without one, or when
///   it is too short, the kernel's own answer would be EFAULT.
fn check_request(request: u64, arg_len: usize, data: Option<&[u8]>) -> Result<ArgKind, Errno> {
    // `as usize` is lossless: the mask keeps 13 bits.
    let encoded_len = ((request >> 16) & IOCPARM_MASK) as usize;
    if encoded_len != arg_len {
        return Err(Errno::EINVAL);
    }
    let kind = match request {
        SIOCSVH | SIOCGVH => ArgKind::CarpReq,
        SIOCAIFADDR | SIOCDIFADDR => ArgKind::Plain(Family::Inet),
        SIOCAIFADDR_IN6 | SIOCDIFADDR_IN6 => ArgKind::Plain(Family::Inet6),
        _ => return Err(Errno::EINVAL),
    };
    match (kind, data) {
        (ArgKind::CarpReq, None) => Err(Errno::EFAULT),
        (ArgKind::CarpReq, Some(buf)) => {
            carpreq_span_ok(buf)?;
            if arg_len < IFR_DATA_OFFSET + size_of::<usize>() {
                return Err(Errno::EINVAL);
            }
            Ok(kind)
        }
        // The kernel would never look at it: a caller passing one is confused.
        (ArgKind::Plain(_), Some(_)) => Err(Errno::EINVAL),
        (ArgKind::Plain(_), None) => Ok(kind),
    }
}

/// The most the kernel copies through `ifr_data`: one `carpreq` in (both
/// commands); for SIOCGVH out, one per vhid up to `carpr_count` of element
/// 0, which the kernel checks first (`carpr_count < 1` is EMSGSIZE, more
/// vhids than `carpr_count` is EMSGSIZE; §4.4, both the 13.x per-element and
/// the 14.x whole-array copyout). So the buffer must hold
/// `max(1, carpr_count)` elements, read in native byte order as the kernel
/// reads it. EFAULT otherwise, which is what the kernel says for a pointer
/// it cannot use.
fn carpreq_span_ok(buf: &[u8]) -> Result<(), Errno> {
    let elem = size_of::<carpreq>();
    let count = buf
        .first_chunk::<4>()
        .map(|b| i32::from_ne_bytes(*b))
        .ok_or(Errno::EFAULT)?;
    let elements = usize::try_from(count.max(1)).map_err(|_| Errno::EFAULT)?;
    let needed = elements.checked_mul(elem).ok_or(Errno::EFAULT)?;
    if buf.len() < needed {
        Err(Errno::EFAULT)
    } else {
        Ok(())
    }
}

impl Syscalls for NativeSyscalls {
    fn ioctl(
        &mut self,
        request: u64,
        arg: &mut [u8],
        data: Option<&mut [u8]>,
    ) -> Result<(), Errno> {
        let kind = check_request(request, arg.len(), data.as_deref())?;
        let req = c_ulong::try_from(request).map_err(|_| Errno::EINVAL)?;
        let fd = self.ioctl_fd(match kind {
            ArgKind::Plain(family) => family,
            ArgKind::CarpReq => Family::Inet,
        })?;

        // Work on a copy so that the caller never sees our buffer address in
        // `ifr_data` (it would leak into the wire trace and make replies
        // differ from the emulated kernel's for no reason).
        let mut local = arg.to_vec();
        let ptr_range = IFR_DATA_OFFSET..IFR_DATA_OFFSET + size_of::<usize>();
        match (kind, data) {
            (ArgKind::CarpReq, Some(buf)) => {
                let addr = buf.as_mut_ptr() as usize;
                local
                    .get_mut(ptr_range.clone())
                    .ok_or(Errno::EINVAL)?
                    .copy_from_slice(&addr.to_ne_bytes());
                // SAFETY: `local` is exactly IOCPARM_LEN(request) bytes long
                // (check_request), which is all ioctl(2) copies in and out
                // of it. The only pointer inside it is `ifr_data`, set just
                // above to `buf`, which is mutably borrowed for the whole
                // call and at least as long as the kernel's copyin/copyout
                // through it (carpreq_span_ok). The request is SIOCSVH or
                // SIOCGVH, which use no other memory, and the kernel keeps
                // no pointer after returning.
                let rc = unsafe { libc::ioctl(fd, req, local.as_mut_ptr().cast::<c_void>()) };
                nix::errno::Errno::result(rc).map_err(nix_errno)?;
                // Give the caller back what it had in `ifr_data`.
                let original = arg.get(ptr_range.clone()).ok_or(Errno::EINVAL)?;
                local
                    .get_mut(ptr_range)
                    .ok_or(Errno::EINVAL)?
                    .copy_from_slice(original);
            }
            (ArgKind::Plain(_), None) => {
                // SAFETY: `local` is exactly IOCPARM_LEN(request) bytes long
                // (check_request), which is all ioctl(2) copies in and out
                // of it, and the request is one whose argument holds no
                // pointer (SIOCAIFADDR, SIOCDIFADDR, SIOCAIFADDR_IN6,
                // SIOCDIFADDR_IN6).
                let rc = unsafe { libc::ioctl(fd, req, local.as_mut_ptr().cast::<c_void>()) };
                nix::errno::Errno::result(rc).map_err(nix_errno)?;
            }
            // check_request refuses these; never call the kernel with an
            // `ifr_data` we did not set.
            (ArgKind::CarpReq, None) => return Err(Errno::EFAULT),
            (ArgKind::Plain(_), Some(_)) => return Err(Errno::EINVAL),
        }
        arg.copy_from_slice(&local);
        Ok(())
    }

    fn netlink_send(&mut self, msg: &[u8]) -> Result<(), Errno> {
        let fd = self.netlink_fd()?;
        let sent = loop {
            match send(fd, msg, MsgFlags::empty()) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => break other.map_err(nix_errno)?,
            }
        };
        // Netlink sockets are atomic (PR_ATOMIC): a short send means the
        // message was not taken as a whole.
        if sent != msg.len() {
            return Err(Errno::EMSGSIZE);
        }
        Ok(())
    }

    fn netlink_recv(&mut self) -> Result<Vec<u8>, Errno> {
        let fd = self.netlink_fd()?;
        let mut buf = vec![0u8; self.recv_len];
        // MSG_TRUNC in the flags makes FreeBSD's nl_soreceive()
        // (sys/netlink/netlink_domain.c) return the full length of a message
        // that did not fit, and msg_flags carries MSG_TRUNC out. The kernel
        // only truncates when not even one whole message fits; otherwise it
        // returns as many whole messages as fit and keeps the rest queued.
        // (nix's recvmsg needs its "uio" feature, which is not enabled, so
        // recvmsg(2) is called directly.)
        let result = loop {
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast::<c_void>(),
                iov_len: buf.len(),
            };
            // SAFETY: an all-zero msghdr is valid (no name, no control
            // data); only the iovec fields are set below.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = &raw mut iov;
            msg.msg_iovlen = 1;
            // SAFETY: `msg` points to one iovec describing `buf`, which is
            // exclusively borrowed and `buf.len()` bytes long, so the kernel
            // writes only inside it (MSG_TRUNC changes the returned length,
            // never the bytes written); no name or control buffer is given.
            let n = unsafe { libc::recvmsg(fd, &raw mut msg, libc::MSG_TRUNC) };
            match usize::try_from(n) {
                Ok(n) => break Ok((n, msg.msg_flags & libc::MSG_TRUNC != 0)),
                Err(_) => match nix::errno::Errno::last() {
                    nix::errno::Errno::EINTR => continue,
                    e => break Err(e),
                },
            }
        };
        let (len, truncated) = match result {
            Ok(v) => v,
            Err(e) => {
                // A reply that arrives after we gave up must not be read as
                // the answer to the next request: start over on a new socket.
                self.netlink = None;
                return Err(match e {
                    nix::errno::Errno::EAGAIN => Errno(carpctl_sys::errno::ETIMEDOUT),
                    other => nix_errno(other),
                });
            }
        };
        if truncated || len > buf.len() {
            // The tail of the message is lost; grow for next time, and drop
            // the socket so that what is left of this reply is not mistaken
            // for the next one.
            self.recv_len = len
                .max(self.recv_len.saturating_mul(2))
                .min(NETLINK_RECV_MAX);
            self.netlink = None;
            return Err(Errno::EMSGSIZE);
        }
        if len == 0 {
            // recv(2) returns 0 only when the socket was shut down.
            self.netlink = None;
            return Err(Errno::EIO);
        }
        buf.truncate(len);
        Ok(buf)
    }

    fn sysctl_get(&mut self, name: &str) -> Result<SysctlValue, Errno> {
        // sysctl 0.7.1 reads a value with two sysctl(3) calls (size, then
        // bytes) and asserts that the second returned no more than the
        // first reported. That holds: given a buffer too small, sysctl(3)
        // fails with ENOMEM instead of returning more. A value that shrank
        // in between is its ShortRead error (EIO below), not a panic.
        check_c_name(name)?;
        let ctl = Ctl::new(name).map_err(sysctl_errno)?;
        let value = ctl.value().map_err(sysctl_errno)?;
        sysctl_value(value)
    }

    fn sysctl_set_int(&mut self, name: &str, value: i32) -> Result<(), Errno> {
        check_c_name(name)?;
        let ctl = Ctl::new(name).map_err(sysctl_errno)?;
        // sysctl 0.7.1's set_value() asserts that the given type matches the
        // sysctl's and panics otherwise (unix/funcs.rs set_oid_value); check
        // first so that a non-int sysctl is an error, not a panic.
        if ctl.value_type().map_err(sysctl_errno)? != CtlType::Int {
            return Err(Errno::EINVAL);
        }
        ctl.set_value(CtlValue::Int(value)).map_err(sysctl_errno)?;
        Ok(())
    }

    fn modfind(&mut self, module: &str) -> Result<bool, Errno> {
        let name = CString::new(module).map_err(|_| Errno::EINVAL)?;
        // SAFETY: `name` is a NUL-terminated string alive for the call;
        // modfind(2) only reads it.
        let rc = unsafe { modfind(name.as_ptr()) };
        match nix::errno::Errno::result(rc) {
            Ok(_) => Ok(true),
            // "ENOENT: The module was not found (probably not loaded)."
            Err(nix::errno::Errno::ENOENT) => Ok(false),
            Err(e) => Err(nix_errno(e)),
        }
    }

    fn kldload(&mut self, file: &str) -> Result<(), Errno> {
        let name = CString::new(file).map_err(|_| Errno::EINVAL)?;
        // SAFETY: `name` is a NUL-terminated string alive for the call;
        // kldload(2) only reads it. EEXIST (already loaded) is passed up as
        // the kernel says it; the backend decides what it means.
        let rc = unsafe { kldload(name.as_ptr()) };
        nix::errno::Errno::result(rc).map(drop).map_err(nix_errno)
    }

    fn getifaddrs(&mut self) -> Result<Vec<RawIfaddr>, Errno> {
        let mut head: *mut libc::ifaddrs = ptr::null_mut();
        // SAFETY: getifaddrs(3) writes a list head into `head`, a valid
        // out-pointer; on failure it returns -1 and allocates nothing.
        let rc = unsafe { libc::getifaddrs(&raw mut head) };
        nix::errno::Errno::result(rc).map_err(nix_errno)?;
        let list = IfaddrsList(head);
        let mut out = Vec::new();
        let mut cur = list.0.cast_const();
        while !cur.is_null() {
            // SAFETY: `cur` is a node of the list getifaddrs(3) returned,
            // which stays allocated until `list` is dropped (freeifaddrs) at
            // the end of this function; we only read it.
            let ifa = unsafe { &*cur };
            out.push(RawIfaddr {
                // SAFETY: `ifa_name` of a getifaddrs(3) entry is null or a
                // NUL-terminated string in the still-allocated list block,
                // which is c_name's contract.
                name: unsafe { c_name(ifa.ifa_name) },
                flags: ifa.ifa_flags,
                // SAFETY: getifaddrs(3) stores each address with at least
                // `sa_len` bytes in the list block (sockaddr_bytes' contract).
                addr: unsafe { sockaddr_bytes(ifa.ifa_addr) },
                // SAFETY: as for `ifa_addr`; a zero-length netmask is stored
                // as zeroes, so its `sa_len` byte is 0 and nothing is read.
                netmask: unsafe { sockaddr_bytes(ifa.ifa_netmask) },
                // SAFETY: getifaddrs(3) stores `ifi_datalen` bytes of an
                // aligned `struct if_data` there (if_data_bytes' contract).
                data: unsafe { if_data_bytes(ifa.ifa_data) },
            });
            cur = ifa.ifa_next.cast_const();
        }
        Ok(out)
    }
}

/// Frees the `getifaddrs(3)` list on every path out of `getifaddrs`.
struct IfaddrsList(*mut libc::ifaddrs);

impl Drop for IfaddrsList {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from a successful getifaddrs(3) and
            // is freed exactly once, after the last read of the list.
            unsafe { libc::freeifaddrs(self.0) };
        }
    }
}

/// `ifa_name` as a String (interface names are ASCII in practice; anything
/// else is replaced rather than refused, so one odd name does not hide the
/// other interfaces).
///
/// # Safety
/// `name` is null or points to a NUL-terminated string that stays valid for
/// the call: getifaddrs(3) stores every name NUL-terminated in its block
/// (`names[dl->sdl_nlen] = 0` in `lib/libc/net/getifaddrs.c`).
unsafe fn c_name(name: *const c_char) -> String {
    if name.is_null() {
        return String::new();
    }
    // SAFETY: the caller's contract.
    unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}

/// The raw bytes of a socket address: `sa_len` bytes from its start, with
/// the BSD length byte itself included.
///
/// # Safety
/// `sa` is null or points to a `struct sockaddr` of at least `sa_len` bytes.
/// getifaddrs(3) guarantees this: it copies each address with `SA_RLEN(sa)`
/// bytes (`sa_len` rounded up to `sizeof(long)`, or `sizeof(long)` when
/// `sa_len` is 0; a zero-length netmask is replaced by zeroes the length of
/// the address) into its own block (`lib/libc/net/getifaddrs.c`).
unsafe fn sockaddr_bytes(sa: *const libc::sockaddr) -> Option<Vec<u8>> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: `sa` is non-null and valid (caller); `sa_len` is its first byte.
    let len = usize::from(unsafe { (*sa).sa_len });
    // SAFETY: `len` readable bytes start at `sa` (caller's contract); u8 has
    // no alignment or validity requirement.
    let bytes = unsafe { std::slice::from_raw_parts(sa.cast::<u8>(), len) };
    Some(bytes.to_vec())
}

/// The `struct if_data` behind `ifa_data`, at most `size_of::<if_data>()`
/// bytes (what libc knows; carpctl needs only the first six, §3.1 and §5.3).
///
/// # Safety
/// `data` is null or points to a `struct if_data` of `ifi_datalen` bytes,
/// suitably aligned. getifaddrs(3) copies exactly `ifi_datalen` bytes of
/// the kernel's `if_data` to an `ALIGN()`ed address, for the `AF_LINK`
/// entry and for each address entry alike (`NET_RT_IFLISTL`,
/// `lib/libc/net/getifaddrs.c`). Every FreeBSD since 10.0 sends the whole
/// structure, which begins with the 8-byte header holding `ifi_datalen`.
unsafe fn if_data_bytes(data: *const c_void) -> Option<Vec<u8>> {
    if data.is_null() {
        return None;
    }
    let ifd = data.cast::<libc::if_data>();
    // SAFETY: only computes the address of `ifi_datalen` (offset 6) inside
    // the structure the caller vouches for; nothing is read.
    let datalen_ptr = unsafe { &raw const (*ifd).ifi_datalen };
    // SAFETY: the 2 bytes at offsets 6..8 are inside the 8-byte header
    // every `if_data` starts with, and aligned (caller's contract).
    let datalen = usize::from(unsafe { datalen_ptr.read() });
    let len = datalen.min(size_of::<libc::if_data>());
    // SAFETY: `len` <= `ifi_datalen` bytes are readable from `data`.
    let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) };
    Some(bytes.to_vec())
}

/// A name for a C call: no interior NUL (the C side would silently cut it).
fn check_c_name(name: &str) -> Result<(), Errno> {
    if name.is_empty() || name.contains('\0') {
        Err(Errno::EINVAL)
    } else {
        Ok(())
    }
}

/// What `sysctlbyname(3)` returned, in the seam's terms. `int` and string
/// sysctls keep their type; opaque structures (`net.inet.carp.stats`,
/// `CTLTYPE_OPAQUE` = `CTLTYPE_STRUCT`) and nodes come back as their bytes.
/// Other numeric types are returned as the bytes sysctl(3) produced (the
/// crate reads them little-endian, so `to_le_bytes` restores them on the
/// little-endian targets FreeBSD/amd64 and arm64); carpctl reads none.
fn sysctl_value(value: CtlValue) -> Result<SysctlValue, Errno> {
    Ok(match value {
        CtlValue::Int(v) => SysctlValue::Int(v),
        CtlValue::String(s) => SysctlValue::String(s),
        CtlValue::Struct(b) | CtlValue::Node(b) => SysctlValue::Opaque(b),
        CtlValue::None => SysctlValue::Opaque(Vec::new()),
        CtlValue::S32(v) => SysctlValue::Opaque(v.to_le_bytes().to_vec()),
        CtlValue::Uint(v) | CtlValue::U32(v) => SysctlValue::Opaque(v.to_le_bytes().to_vec()),
        CtlValue::S64(v) | CtlValue::Long(v) => SysctlValue::Opaque(v.to_le_bytes().to_vec()),
        CtlValue::Ulong(v) | CtlValue::U64(v) => SysctlValue::Opaque(v.to_le_bytes().to_vec()),
        CtlValue::U16(v) => SysctlValue::Opaque(v.to_le_bytes().to_vec()),
        CtlValue::S16(v) => SysctlValue::Opaque(v.to_le_bytes().to_vec()),
        CtlValue::U8(v) => SysctlValue::Opaque(vec![v]),
        CtlValue::S8(v) => SysctlValue::Opaque(v.to_le_bytes().to_vec()),
        // Temperatures ("IK" format) are converted by the crate; the raw
        // value is not recoverable, and carpctl never reads one.
        CtlValue::Temperature(_) => return Err(Errno::EOPNOTSUPP),
    })
}

/// The errno behind a `sysctl` crate error. The crate wraps the system
/// call's error in `IoError`; its own checks get the errno sysctl(3) would
/// have given for the same condition (sysctl(3) ERRORS).
fn sysctl_errno(err: SysctlError) -> Errno {
    match err {
        // name2oid(): sysctlnametomib(3) failed with ENOENT.
        SysctlError::NotFound(_) => Errno::ENOENT,
        SysctlError::IoError(e) => e.raw_os_error().map_or(Errno::EIO, Errno),
        // "EPERM: An attempt is made to set a read-only value."
        SysctlError::NoReadAccess | SysctlError::NoWriteAccess => Errno::EPERM,
        // The value changed size between the crate's two sysctl(3) calls.
        SysctlError::ShortRead { .. } => Errno::EIO,
        SysctlError::Utf8Error(_)
        | SysctlError::InvalidCStr(_)
        | SysctlError::InvalidCString(_) => Errno::EINVAL,
        _ => Errno::EOPNOTSUPP,
    }
}

fn nix_errno(e: nix::errno::Errno) -> Errno {
    Errno(e as i32)
}

#[cfg(test)]
mod tests {
    //! The checks run anywhere FreeBSD does; the live tests need no
    //! privilege (reads only, and requests the kernel refuses).

    use super::*;

    /// `struct ifreq` for "nonexistent0": 16 name bytes, 16 union bytes.
    fn ifreq_nonexistent() -> [u8; 32] {
        let mut r = [0u8; 32];
        r[..12].copy_from_slice(b"nonexistent0");
        r
    }

    #[test]
    fn request_size_must_match_the_encoded_length() {
        // SIOCSVH = 0xc02069f5 encodes 0x20 = 32 bytes.
        assert_eq!(
            check_request(0xc020_69f5, 31, Some(&[0; 40])),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            check_request(0xc020_69f5, 40, Some(&[0; 40])),
            Err(Errno::EINVAL)
        );
        // SIOCAIFADDR = 0x8044692b encodes 0x44 = 68 bytes.
        assert_eq!(
            check_request(0x8044_692b, 68, None),
            Ok(ArgKind::Plain(Family::Inet))
        );
        // SIOCAIFADDR_IN6 = 0x8088691b: 0x88 = 136 bytes, on an inet6 socket.
        assert_eq!(
            check_request(0x8088_691b, 136, None),
            Ok(ArgKind::Plain(Family::Inet6))
        );
        // SIOCDIFADDR_IN6 = 0x81206919: 0x120 = 288 bytes.
        assert_eq!(
            check_request(0x8120_6919, 288, None),
            Ok(ArgKind::Plain(Family::Inet6))
        );
        assert_eq!(check_request(0x8044_692b, 64, None), Err(Errno::EINVAL));
    }

    #[test]
    fn unknown_requests_are_refused() {
        // SIOCIFCREATE2 = 0xc020697c: a valid 32-byte ifreq request, but its
        // union may carry a pointer we never set.
        assert_eq!(check_request(0xc020_697c, 32, None), Err(Errno::EINVAL));
    }

    #[test]
    fn carp_requests_need_a_big_enough_buffer() {
        assert_eq!(check_request(0xc020_69f6, 32, None), Err(Errno::EFAULT));
        assert_eq!(
            check_request(0xc020_69f6, 32, Some(&[0; 39])),
            Err(Errno::EFAULT)
        );
        assert_eq!(
            check_request(0xc020_69f6, 32, Some(&[0; 40])),
            Ok(ArgKind::CarpReq)
        );
        // carpr_count 3 in element 0: the kernel may write 3 x 40 bytes.
        let mut three = vec![0u8; 119];
        three[..4].copy_from_slice(&3i32.to_ne_bytes());
        assert_eq!(
            check_request(0xc020_69f6, 32, Some(&three)),
            Err(Errno::EFAULT)
        );
        three.push(0);
        assert_eq!(
            check_request(0xc020_69f6, 32, Some(&three)),
            Ok(ArgKind::CarpReq)
        );
        // A negative count is refused by the kernel before any copyout.
        let mut neg = vec![0u8; 40];
        neg[..4].copy_from_slice(&(-1i32).to_ne_bytes());
        assert_eq!(
            check_request(0xc020_69f5, 32, Some(&neg)),
            Ok(ArgKind::CarpReq)
        );
        // An absurd count does not overflow.
        let mut huge = vec![0u8; 40];
        huge[..4].copy_from_slice(&i32::MAX.to_ne_bytes());
        assert_eq!(
            check_request(0xc020_69f6, 32, Some(&huge)),
            Err(Errno::EFAULT)
        );
    }

    #[test]
    fn plain_requests_refuse_a_data_buffer() {
        // SIOCDIFADDR = 0x80206919, 32 bytes.
        assert_eq!(
            check_request(0x8020_6919, 32, Some(&[0; 40])),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            check_request(0x8020_6919, 32, None),
            Ok(ArgKind::Plain(Family::Inet))
        );
    }

    #[test]
    fn sysctl_values_map_to_the_seam() {
        assert_eq!(sysctl_value(CtlValue::Int(-3)), Ok(SysctlValue::Int(-3)));
        assert_eq!(
            sysctl_value(CtlValue::String("14.2-RELEASE".into())),
            Ok(SysctlValue::String("14.2-RELEASE".into()))
        );
        assert_eq!(
            sysctl_value(CtlValue::Struct(vec![1, 2])),
            Ok(SysctlValue::Opaque(vec![1, 2]))
        );
        assert_eq!(
            sysctl_value(CtlValue::Node(vec![3])),
            Ok(SysctlValue::Opaque(vec![3]))
        );
        assert_eq!(
            sysctl_value(CtlValue::U32(0x0102_0304)),
            Ok(SysctlValue::Opaque(vec![0x04, 0x03, 0x02, 0x01]))
        );
    }

    #[test]
    fn sysctl_errors_map_to_errno() {
        assert_eq!(
            sysctl_errno(SysctlError::NotFound("x".into())),
            Errno::ENOENT
        );
        let io = std::io::Error::from_raw_os_error(carpctl_sys::errno::EPERM);
        assert_eq!(sysctl_errno(SysctlError::IoError(io)), Errno::EPERM);
        assert_eq!(sysctl_errno(SysctlError::NoWriteAccess), Errno::EPERM);
        assert_eq!(
            sysctl_errno(SysctlError::ShortRead {
                read: 1,
                reported: 2
            }),
            Errno::EIO
        );
    }

    #[test]
    fn names_with_nul_are_refused() {
        let mut sys = NativeSyscalls::new();
        assert_eq!(sys.sysctl_get("kern.os\0release"), Err(Errno::EINVAL));
        assert_eq!(sys.modfind("carp\0"), Err(Errno::EINVAL));
        assert_eq!(sys.kldload(""), Err(Errno::EINVAL));
    }

    #[test]
    fn live_sysctl_reads() {
        let mut sys = NativeSyscalls::new();
        match sys.sysctl_get("kern.osreldate") {
            Ok(SysctlValue::Int(v)) => assert!(v > 1_000_000, "kern.osreldate = {v}"),
            other => panic!("kern.osreldate: {other:?}"),
        }
        match sys.sysctl_get("kern.ostype") {
            Ok(SysctlValue::String(s)) => assert_eq!(s, "FreeBSD"),
            other => panic!("kern.ostype: {other:?}"),
        }
        assert_eq!(
            sys.sysctl_get("net.inet.carp.no_such_knob"),
            Err(Errno::ENOENT)
        );
    }

    #[test]
    fn live_modfind_of_a_missing_module() {
        let mut sys = NativeSyscalls::new();
        assert_eq!(sys.modfind("carpctl_no_such_module"), Ok(false));
    }

    #[test]
    fn live_getifaddrs_has_lo0_with_if_data() {
        let mut sys = NativeSyscalls::new();
        let all = sys.getifaddrs().expect("getifaddrs");
        let link = all
            .iter()
            .find(|e| e.name == "lo0" && e.addr.as_ref().and_then(|a| a.get(1)) == Some(&18))
            .expect("an AF_LINK (18) entry for lo0");
        // sockaddr_dl: sa_len first, AF_LINK second; whole sa_len copied.
        let addr = link.addr.as_ref().expect("addr");
        assert_eq!(usize::from(addr[0]), addr.len());
        let data = link.data.as_ref().expect("if_data");
        assert_eq!(data.len(), size_of::<libc::if_data>());
        // ifi_type of lo0 is IFT_LOOP (0x18).
        assert_eq!(data[0], 0x18);
    }

    #[test]
    fn live_siocgvh_on_a_missing_interface() {
        let mut sys = NativeSyscalls::new();
        let mut ifr = ifreq_nonexistent();
        let mut carpr = [0u8; 40];
        carpr[..4].copy_from_slice(&1i32.to_ne_bytes()); // carpr_count
        carpr[4..8].copy_from_slice(&1i32.to_ne_bytes()); // carpr_vhid
        let err = sys
            .ioctl(0xc020_69f6, &mut ifr, Some(&mut carpr))
            .unwrap_err();
        // EPROTONOSUPPORT without carp.ko (§4.2), ENXIO with it (§4.2);
        // on main after 2026-03 the request is gone (ENOTTY = 25).
        assert!(
            [Errno::EPROTONOSUPPORT, Errno::ENXIO, Errno(25)].contains(&err),
            "unexpected {err:?}"
        );
        // The caller's ifr_data bytes are untouched.
        assert_eq!(ifr, ifreq_nonexistent());
    }

    #[test]
    fn live_netlink_round_trip_and_timeout() {
        let mut sys = NativeSyscalls::new().with_recv_timeout(Duration::from_millis(200));
        // CTRL_CMD_GETFAMILY (3) for "nlctrl", written out by hand:
        // nlmsghdr { len 32, type GENL_ID_CTRL 16, flags NLM_F_REQUEST 1,
        // seq 7, pid 0 }, genlmsghdr { cmd 3, version 1, 0 },
        // nlattr { len 11, type CTRL_ATTR_FAMILY_NAME 2 } "nlctrl\0" + pad 1.
        let mut msg = Vec::new();
        msg.extend_from_slice(&32u32.to_ne_bytes());
        msg.extend_from_slice(&16u16.to_ne_bytes());
        msg.extend_from_slice(&1u16.to_ne_bytes());
        msg.extend_from_slice(&7u32.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&[3, 1, 0, 0]);
        msg.extend_from_slice(&11u16.to_ne_bytes());
        msg.extend_from_slice(&2u16.to_ne_bytes());
        msg.extend_from_slice(b"nlctrl\0\0");
        assert_eq!(msg.len(), 32);
        match sys.netlink_send(&msg) {
            Err(Errno::EAFNOSUPPORT) => {
                eprintln!("skipped: no netlink(4) in this kernel");
                return;
            }
            other => other.expect("send"),
        }
        let reply = sys.netlink_recv().expect("reply");
        let len = u32::from_ne_bytes(reply[..4].try_into().expect("4 bytes"));
        let seq = u32::from_ne_bytes(reply[8..12].try_into().expect("4 bytes"));
        assert!(
            len as usize <= reply.len(),
            "nlmsg_len {len} > {}",
            reply.len()
        );
        assert_eq!(seq, 7);
        // Nothing more is queued (no NLM_F_ACK): the wait times out.
        assert_eq!(
            sys.netlink_recv(),
            Err(Errno(carpctl_sys::errno::ETIMEDOUT))
        );
    }
}
