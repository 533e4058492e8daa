//! FreeBSD errno values (`sys/sys/errno.h`).
//!
//! These are FreeBSD's numbers, not the host's: netlink replies carry them as
//! bytes, and the emulated kernel must produce exactly what FreeBSD would.
//! (Linux numbers differ: EPROTONOSUPPORT is 93 there, 43 here.)

pub const EPERM: i32 = 1;
pub const ENOENT: i32 = 2;
pub const ESRCH: i32 = 3;
pub const EINTR: i32 = 4;
pub const EIO: i32 = 5;
pub const ENXIO: i32 = 6;
pub const E2BIG: i32 = 7;
pub const EBADF: i32 = 9;
pub const ENOMEM: i32 = 12;
pub const EACCES: i32 = 13;
pub const EFAULT: i32 = 14;
pub const EBUSY: i32 = 16;
pub const EEXIST: i32 = 17;
pub const ENODEV: i32 = 19;
pub const EINVAL: i32 = 22;
pub const ENOSPC: i32 = 28;
pub const EAGAIN: i32 = 35;
pub const ENOTSOCK: i32 = 38;
pub const EMSGSIZE: i32 = 40;
pub const EPROTOTYPE: i32 = 41;
pub const ENOPROTOOPT: i32 = 42;
pub const EPROTONOSUPPORT: i32 = 43;
pub const EOPNOTSUPP: i32 = 45;
pub const EAFNOSUPPORT: i32 = 47;
pub const EADDRINUSE: i32 = 48;
pub const EADDRNOTAVAIL: i32 = 49;
pub const ENETDOWN: i32 = 50;
pub const ENOBUFS: i32 = 55;
pub const ETIMEDOUT: i32 = 60;
pub const ENOSYS: i32 = 78;

/// Every errno above with its symbolic name and FreeBSD's `strerror(3)` text.
pub const TABLE: &[(i32, &str, &str)] = &[
    (EPERM, "EPERM", "Operation not permitted"),
    (ENOENT, "ENOENT", "No such file or directory"),
    (ESRCH, "ESRCH", "No such process"),
    (EINTR, "EINTR", "Interrupted system call"),
    (EIO, "EIO", "Input/output error"),
    (ENXIO, "ENXIO", "Device not configured"),
    (E2BIG, "E2BIG", "Argument list too long"),
    (EBADF, "EBADF", "Bad file descriptor"),
    (ENOMEM, "ENOMEM", "Cannot allocate memory"),
    (EACCES, "EACCES", "Permission denied"),
    (EFAULT, "EFAULT", "Bad address"),
    (EBUSY, "EBUSY", "Device busy"),
    (EEXIST, "EEXIST", "File exists"),
    (ENODEV, "ENODEV", "Operation not supported by device"),
    (EINVAL, "EINVAL", "Invalid argument"),
    (ENOSPC, "ENOSPC", "No space left on device"),
    (EAGAIN, "EAGAIN", "Resource temporarily unavailable"),
    (ENOTSOCK, "ENOTSOCK", "Socket operation on non-socket"),
    (EMSGSIZE, "EMSGSIZE", "Message too long"),
    (EPROTOTYPE, "EPROTOTYPE", "Protocol wrong type for socket"),
    (ENOPROTOOPT, "ENOPROTOOPT", "Protocol not available"),
    (EPROTONOSUPPORT, "EPROTONOSUPPORT", "Protocol not supported"),
    (EOPNOTSUPP, "EOPNOTSUPP", "Operation not supported"),
    (
        EAFNOSUPPORT,
        "EAFNOSUPPORT",
        "Address family not supported by protocol family",
    ),
    (EADDRINUSE, "EADDRINUSE", "Address already in use"),
    (
        EADDRNOTAVAIL,
        "EADDRNOTAVAIL",
        "Can't assign requested address",
    ),
    (ENETDOWN, "ENETDOWN", "Network is down"),
    (ENOBUFS, "ENOBUFS", "No buffer space available"),
    (ETIMEDOUT, "ETIMEDOUT", "Operation timed out"),
    (ENOSYS, "ENOSYS", "Function not implemented"),
];

#[cfg(target_os = "freebsd")]
const _: () = {
    assert!(EPERM == libc::EPERM);
    assert!(ENOENT == libc::ENOENT);
    assert!(ENXIO == libc::ENXIO);
    assert!(EFAULT == libc::EFAULT);
    assert!(EBUSY == libc::EBUSY);
    assert!(EINVAL == libc::EINVAL);
    assert!(EMSGSIZE == libc::EMSGSIZE);
    assert!(EPROTOTYPE == libc::EPROTOTYPE);
    assert!(ENOPROTOOPT == libc::ENOPROTOOPT);
    assert!(EPROTONOSUPPORT == libc::EPROTONOSUPPORT);
    assert!(EOPNOTSUPP == libc::EOPNOTSUPP);
    assert!(EAFNOSUPPORT == libc::EAFNOSUPPORT);
    assert!(EADDRNOTAVAIL == libc::EADDRNOTAVAIL);
    assert!(ENOSYS == libc::ENOSYS);
    assert!(ENOBUFS == libc::ENOBUFS);
};
