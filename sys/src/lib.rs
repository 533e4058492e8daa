//! The FreeBSD carp(4) ABI mirrored as plain Rust: no logic, no system calls.
//!
//! Everything here compiles on every OS so that the byte-level encoders in
//! `carpctl` can be tested on Linux. Each mirrored C structure names its
//! header, and its size and field offsets are pinned by compile-time asserts.
//! Layouts follow the target's C ABI: the same on amd64 and aarch64 (LP64),
//! different on i386, where `time_t` and pointers are 32-bit
//! (`docs/freebsd-carp.md` §3 has the table per architecture, and the
//! asserts below check it for each `target_arch`). On the FreeBSD target the
//! layouts are also asserted against `libc`'s own definitions where libc has
//! them.
//!
//! Facts come from `docs/freebsd-carp.md`; the citations there name the
//! FreeBSD source file and commit (short tags such as `MAIN`, `D28`, §1).
#![no_std]
#![forbid(unsafe_code)]
#![allow(non_camel_case_types)]

use core::mem::{align_of, offset_of, size_of};
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

pub mod bpf;
pub mod errno;
pub mod netlink;

/// `IFNAMSIZ` (`net/if.h`): interface names are at most 15 bytes plus NUL.
pub const IFNAMSIZ: usize = 16;

// ---------------------------------------------------------------------------
// Address families and protocols (sys/sys/socket.h, netinet/in.h)
// ---------------------------------------------------------------------------

/// `AF_INET` on FreeBSD.
pub const AF_INET: u8 = 2;
/// `AF_INET6` on FreeBSD (28; Linux uses 10).
pub const AF_INET6: u8 = 28;
/// `AF_LINK` on FreeBSD.
pub const AF_LINK: u8 = 18;
/// `IPPROTO_CARP` (shared with VRRP).
pub const IPPROTO_CARP: u8 = 112;

// ---------------------------------------------------------------------------
// ioctl encoding (sys/sys/ioccom.h)
// ---------------------------------------------------------------------------

/// `IOCPARM_MASK`: parameter length, 13 bits.
pub const IOCPARM_MASK: u64 = (1 << 13) - 1;
/// `IOC_VOID`: no parameters.
pub const IOC_VOID: u64 = 0x2000_0000;
/// `IOC_OUT`: copy parameters out.
pub const IOC_OUT: u64 = 0x4000_0000;
/// `IOC_IN`: copy parameters in.
pub const IOC_IN: u64 = 0x8000_0000;
/// `IOC_INOUT`.
pub const IOC_INOUT: u64 = IOC_IN | IOC_OUT;

/// FreeBSD's `_IOC(inout, group, num, len)`.
///
/// nix's `request_code_*!` macros encode for the *host* OS (Linux puts the
/// direction bits elsewhere), so the FreeBSD numbers are computed here.
pub const fn ioc(inout: u64, group: u8, num: u8, len: usize) -> u64 {
    inout | (((len as u64) & IOCPARM_MASK) << 16) | ((group as u64) << 8) | num as u64
}

/// FreeBSD's `_IOW(group, num, type)`, given `sizeof(type)`.
pub const fn iow(group: u8, num: u8, len: usize) -> u64 {
    ioc(IOC_IN, group, num, len)
}

/// FreeBSD's `_IOWR(group, num, type)`, given `sizeof(type)`.
pub const fn iowr(group: u8, num: u8, len: usize) -> u64 {
    ioc(IOC_INOUT, group, num, len)
}

/// `SIOCSVH = _IOWR('i', 245, struct ifreq)` (`netinet/ip_carp.h`, not `sockio.h`).
pub const SIOCSVH: u64 = iowr(b'i', 245, size_of::<ifreq>());
/// `SIOCGVH = _IOWR('i', 246, struct ifreq)` (`netinet/ip_carp.h`).
pub const SIOCGVH: u64 = iowr(b'i', 246, size_of::<ifreq>());
/// `SIOCAIFADDR = _IOW('i', 43, struct ifaliasreq)` (`sys/sockio.h`).
pub const SIOCAIFADDR: u64 = iow(b'i', 43, size_of::<in_aliasreq>());
/// `SIOCDIFADDR = _IOW('i', 25, struct ifreq)` (`sys/sockio.h`).
pub const SIOCDIFADDR: u64 = iow(b'i', 25, size_of::<ifreq>());
/// `SIOCAIFADDR_IN6 = _IOW('i', 27, struct in6_aliasreq)` (`netinet6/in6_var.h`)
/// for this target: 0x8088691b where `time_t` is 64-bit (amd64, aarch64),
/// 0x807c691b on i386.
pub const SIOCAIFADDR_IN6: u64 = iow(b'i', 27, size_of::<in6_aliasreq>());
/// SIOCAIFADDR_IN6 with the 64-bit `time_t` layout ([`in6_aliasreq64`], 136
/// bytes): amd64, aarch64 and every FreeBSD architecture but i386.
pub const SIOCAIFADDR_IN6_TIME64: u64 = iow(b'i', 27, size_of::<in6_aliasreq64>());
/// SIOCAIFADDR_IN6 with i386's layout ([`in6_aliasreq32`], 124 bytes).
pub const SIOCAIFADDR_IN6_I386: u64 = iow(b'i', 27, size_of::<in6_aliasreq32>());
/// `SIOCDIFADDR_IN6 = _IOW('i', 25, struct in6_ifreq)` (`netinet6/in6_var.h`).
///
/// The size of `struct in6_ifreq` is derived in [`IN6_IFREQ_SIZE`].
pub const SIOCDIFADDR_IN6: u64 = iow(b'i', 25, IN6_IFREQ_SIZE);
/// `SIOCIFCREATE2 = _IOWR('i', 124, struct ifreq)`; not used, pinned for reference.
pub const SIOCIFCREATE2: u64 = iowr(b'i', 124, size_of::<ifreq>());

/// `sizeof(struct in6_ifreq)`, derived from `sys/netinet6/in6_var.h`
/// (freebsd-src @ 0123804a, unchanged in this respect since KAME):
///
/// ```text
/// struct in6_ifreq {
///     char ifr_name[IFNAMSIZ];                     16 bytes
///     union {                                      max of:
///         struct sockaddr_in6 ifru_addr;             28
///         struct sockaddr_in6 ifru_dstaddr;          28
///         int ifru_flags, ifru_flags6, ifru_metric;   4
///         caddr_t ifru_data;                          8 (4 on i386)
///         struct in6_addrlifetime ifru_lifetime;     24 (16 on i386)
///         struct in6_ifstat ifru_stat;              160 (20 x uint64_t)
///         struct icmp6_ifstat ifru_icmp6stat;       272 (17 input + 17 output uint64_t)
///         u_int32_t ifru_scope_id[16];               64
///     } ifr_ifru;                                  272, alignment of uint64_t
/// };                                               16 + 272 = 288 = 0x120
/// ```
///
/// The union starts at offset 16 and 288 is a multiple of 8, so there is no
/// padding on any architecture (`uint64_t` is 8-aligned on amd64 and
/// aarch64, 4-aligned on i386). Hence `_IOW('i', 25, struct in6_ifreq)` =
/// 0x80000000 | 0x120 << 16 | 0x6900 | 0x19 = 0x81206919 everywhere.
pub const IN6_IFREQ_SIZE: usize = IFNAMSIZ + ICMP6_IFSTAT_SIZE;
/// `sizeof(struct icmp6_ifstat)`: 34 `uint64_t` counters, the largest member
/// of the `in6_ifreq` union.
pub const ICMP6_IFSTAT_SIZE: usize = 34 * 8;
/// `sizeof(struct in6_ifstat)`: 20 `uint64_t` counters.
pub const IN6_IFSTAT_SIZE: usize = 20 * 8;

// The numbers that do not depend on the architecture (docs/freebsd-carp.md
// §4): `ifreq` is 32 bytes and `in_aliasreq` 68 on amd64, i386 and aarch64.
const _: () = {
    assert!(SIOCSVH == 0xc020_69f5);
    assert!(SIOCGVH == 0xc020_69f6);
    assert!(SIOCAIFADDR == 0x8044_692b);
    assert!(SIOCDIFADDR == 0x8020_6919);
    assert!(SIOCAIFADDR_IN6_TIME64 == 0x8088_691b);
    assert!(SIOCAIFADDR_IN6_I386 == 0x807c_691b);
    assert!(SIOCDIFADDR_IN6 == 0x8120_6919);
    assert!(SIOCIFCREATE2 == 0xc020_697c);
    assert!(IN6_IFREQ_SIZE == 288);
    assert!(ICMP6_IFSTAT_SIZE > IN6_IFSTAT_SIZE);
};

// The target's own request for in6_aliasreq (§3, §4).
#[cfg(target_arch = "x86")]
const _: () = assert!(SIOCAIFADDR_IN6 == 0x807c_691b);
#[cfg(not(target_arch = "x86"))]
const _: () = assert!(SIOCAIFADDR_IN6 == 0x8088_691b);

// ---------------------------------------------------------------------------
// Structures
// ---------------------------------------------------------------------------

/// `CARP_KEY_LEN`: the key is 20 raw bytes, NUL-padded, never hashed.
pub const CARP_KEY_LEN: usize = 20;

/// `struct carpreq`, FreeBSD >= 10 (`netinet/ip_carp.h`; identical in D28 and
/// 6E2). Passed behind `ifr_data` for SIOCSVH/SIOCGVH. 40 bytes, alignment 4.
///
/// `Debug` is written by hand so that the key never reaches a log.
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct carpreq {
    /// SIOCGVH: capacity in (element 0), count out.
    pub carpr_count: i32,
    /// 1..255; 0 = all (SIOCGVH).
    pub carpr_vhid: i32,
    /// 0 INIT, 1 BACKUP, 2 MASTER.
    pub carpr_state: i32,
    /// 0..254.
    pub carpr_advskew: i32,
    /// 0 = keep, else 1..255.
    pub carpr_advbase: i32,
    /// Raw key bytes, NUL-padded.
    pub carpr_key: [u8; CARP_KEY_LEN],
}

impl core::fmt::Debug for carpreq {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("carpreq")
            .field("carpr_count", &self.carpr_count)
            .field("carpr_vhid", &self.carpr_vhid)
            .field("carpr_state", &self.carpr_state)
            .field("carpr_advskew", &self.carpr_advskew)
            .field("carpr_advbase", &self.carpr_advbase)
            .field("carpr_key", &"<redacted>")
            .finish()
    }
}

const _: () = {
    assert!(align_of::<carpreq>() == 4);
    assert!(offset_of!(carpreq, carpr_count) == 0);
    assert!(offset_of!(carpreq, carpr_vhid) == 4);
    assert!(offset_of!(carpreq, carpr_state) == 8);
    assert!(offset_of!(carpreq, carpr_advskew) == 12);
    assert!(offset_of!(carpreq, carpr_advbase) == 16);
    assert!(offset_of!(carpreq, carpr_key) == 20);
};

/// Size of the legacy FreeBSD <= 9 `struct carpreq` (F9): no `carpr_count`,
/// different order, behind the *same* ioctl numbers. carpctl refuses such
/// kernels; the constant documents why the layouts cannot be confused.
pub const LEGACY_CARPREQ_SIZE: usize = 36;

/// `struct sockaddr` (`sys/sys/socket.h`): BSD length byte first.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct sockaddr {
    pub sa_len: u8,
    pub sa_family: u8,
    pub sa_data: [u8; 14],
}

/// `struct sockaddr_in` (`netinet/in.h`): 16 bytes with `sin_len`.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct sockaddr_in {
    pub sin_len: u8,
    pub sin_family: u8,
    /// Network byte order.
    pub sin_port: [u8; 2],
    /// Network byte order.
    pub sin_addr: [u8; 4],
    pub sin_zero: [u8; 8],
}

/// `struct sockaddr_in6` (`netinet6/in6.h`): 28 bytes with `sin6_len`.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct sockaddr_in6 {
    pub sin6_len: u8,
    pub sin6_family: u8,
    /// Network byte order.
    pub sin6_port: [u8; 2],
    /// Network byte order.
    pub sin6_flowinfo: [u8; 4],
    pub sin6_addr: [u8; 16],
    pub sin6_scope_id: u32,
}

const _: () = {
    assert!(size_of::<sockaddr>() == 16);
    assert!(size_of::<sockaddr_in>() == 16);
    assert!(offset_of!(sockaddr_in, sin_family) == 1);
    assert!(offset_of!(sockaddr_in, sin_addr) == 4);
    assert!(size_of::<sockaddr_in6>() == 28);
    assert!(offset_of!(sockaddr_in6, sin6_flowinfo) == 4);
    assert!(offset_of!(sockaddr_in6, sin6_addr) == 8);
    assert!(offset_of!(sockaddr_in6, sin6_scope_id) == 24);
};

/// `struct ifreq` (`net/if.h`): 32 bytes on every architecture; aligned
/// like a pointer (8 on amd64 and aarch64, 4 on i386: the union's largest
/// alignment is that of `caddr_t`/`void *`, §3). The union `ifr_ifru` is kept
/// as 16 raw bytes: carpctl uses only `ifru_data` (a `caddr_t` at offset 16,
/// 8 bytes on LP64 and 4 on i386) and `ifru_addr` (a `sockaddr`, 16).
#[repr(C)]
#[cfg_attr(target_pointer_width = "64", repr(align(8)))]
#[cfg_attr(not(target_pointer_width = "64"), repr(align(4)))]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct ifreq {
    pub ifr_name: [u8; IFNAMSIZ],
    pub ifr_ifru: [u8; 16],
}

/// Offset of `ifr_data` (`ifr_ifru.ifru_data`) in `struct ifreq`.
pub const IFR_DATA_OFFSET: usize = 16;

const _: () = {
    assert!(size_of::<ifreq>() == 32);
    assert!(offset_of!(ifreq, ifr_ifru) == IFR_DATA_OFFSET);
    // The pointer stored at ifr_data fits in the union on every target.
    assert!(IFR_DATA_OFFSET + size_of::<usize>() <= size_of::<ifreq>());
};

/// `struct in_aliasreq` (`netinet/in_var.h`), the argument of SIOCAIFADDR;
/// same layout as `struct ifaliasreq` in `net/if.h`. 68 bytes, alignment 4.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct in_aliasreq {
    pub ifra_name: [u8; IFNAMSIZ],
    pub ifra_addr: sockaddr_in,
    /// Also `ifra_dstaddr`.
    pub ifra_broadaddr: sockaddr_in,
    pub ifra_mask: sockaddr_in,
    pub ifra_vhid: i32,
}

const _: () = {
    assert!(size_of::<in_aliasreq>() == 68);
    assert!(align_of::<in_aliasreq>() == 4);
    assert!(offset_of!(in_aliasreq, ifra_addr) == 16);
    assert!(offset_of!(in_aliasreq, ifra_broadaddr) == 32);
    assert!(offset_of!(in_aliasreq, ifra_mask) == 48);
    assert!(offset_of!(in_aliasreq, ifra_vhid) == 64);
};

/// `time_t` (`sys/<arch>/include/_types.h`): 64-bit on every FreeBSD
/// architecture except i386, where it is 32-bit (`__int32_t`; kern_tc.c:
/// "i386 is the only arch which uses a 32bits time_t"). libc agrees
/// (`freebsd/x86.rs`), and the FreeBSD-target asserts below check it.
#[cfg(target_arch = "x86")]
pub type time_t = i32;
/// `time_t`: 64-bit (see the i386 definition).
#[cfg(not(target_arch = "x86"))]
pub type time_t = i64;

/// `ND6_INFINITE_LIFETIME` (`netinet6/nd6.h`): what ifconfig puts in
/// `ia6t_vltime`/`ia6t_pltime` for a static address.
pub const ND6_INFINITE_LIFETIME: u32 = 0xffff_ffff;

/// Both layouts of `struct in6_addrlifetime` and `struct in6_aliasreq`
/// (`netinet6/in6_var.h`), which differ only in `time_t`. Both are compiled on
/// every host so that the encoders can be tested with i386's bytes on any
/// machine; [`in6_aliasreq`] is the target's own.
macro_rules! in6_layouts {
    ($(#[$lm:meta])* $life:ident, $(#[$am:meta])* $req:ident, $t:ty, $pad:expr) => {
        $(#[$lm])*
        #[repr(C)]
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable,
            KnownLayout,
        )]
        pub struct $life {
            /// `time_t`.
            pub ia6t_expire: $t,
            /// `time_t`.
            pub ia6t_preferred: $t,
            pub ia6t_vltime: u32,
            pub ia6t_pltime: u32,
        }

        $(#[$am])*
        #[repr(C)]
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable,
            KnownLayout,
        )]
        pub struct $req {
            pub ifra_name: [u8; IFNAMSIZ],
            pub ifra_addr: sockaddr_in6,
            pub ifra_dstaddr: sockaddr_in6,
            pub ifra_prefixmask: sockaddr_in6,
            pub ifra_flags: i32,
            /// Starts at 104 = 8 * 13: no padding before it on any target.
            pub ifra_lifetime: $life,
            pub ifra_vhid: i32,
            /// Tail padding to the structure's alignment; always zero.
            pub _pad: [u8; $pad],
        }
    };
}

in6_layouts!(
    /// `struct in6_addrlifetime` with a 64-bit `time_t` (amd64, aarch64):
    /// 24 bytes, alignment 8.
    in6_addrlifetime64,
    /// `struct in6_aliasreq` with a 64-bit `time_t` (amd64, aarch64), the
    /// argument of SIOCAIFADDR_IN6: 136 bytes, alignment 8, so 4 bytes of
    /// tail padding after `ifra_vhid`.
    in6_aliasreq64,
    i64,
    4
);

in6_layouts!(
    /// `struct in6_addrlifetime` on i386 (32-bit `time_t`): 16 bytes,
    /// alignment 4.
    in6_addrlifetime32,
    /// `struct in6_aliasreq` on i386: 124 bytes, alignment 4, no padding.
    in6_aliasreq32,
    i32,
    0
);

/// The target's `struct in6_addrlifetime`.
#[cfg(target_arch = "x86")]
pub type in6_addrlifetime = in6_addrlifetime32;
/// The target's `struct in6_aliasreq`.
#[cfg(target_arch = "x86")]
pub type in6_aliasreq = in6_aliasreq32;
/// The target's `struct in6_addrlifetime`.
#[cfg(not(target_arch = "x86"))]
pub type in6_addrlifetime = in6_addrlifetime64;
/// The target's `struct in6_aliasreq`.
#[cfg(not(target_arch = "x86"))]
pub type in6_aliasreq = in6_aliasreq64;

// Both layouts, checked on every host (the bytes do not depend on it).
const _: () = {
    assert!(size_of::<in6_addrlifetime64>() == 24);
    assert!(offset_of!(in6_addrlifetime64, ia6t_vltime) == 16);
    assert!(offset_of!(in6_addrlifetime64, ia6t_pltime) == 20);
    assert!(size_of::<in6_aliasreq64>() == 136);
    assert!(offset_of!(in6_aliasreq64, ifra_addr) == 16);
    assert!(offset_of!(in6_aliasreq64, ifra_dstaddr) == 44);
    assert!(offset_of!(in6_aliasreq64, ifra_prefixmask) == 72);
    assert!(offset_of!(in6_aliasreq64, ifra_flags) == 100);
    assert!(offset_of!(in6_aliasreq64, ifra_lifetime) == 104);
    assert!(offset_of!(in6_aliasreq64, ifra_vhid) == 128);

    assert!(size_of::<in6_addrlifetime32>() == 16);
    assert!(offset_of!(in6_addrlifetime32, ia6t_vltime) == 8);
    assert!(offset_of!(in6_addrlifetime32, ia6t_pltime) == 12);
    assert!(size_of::<in6_aliasreq32>() == 124);
    assert!(offset_of!(in6_aliasreq32, ifra_flags) == 100);
    assert!(offset_of!(in6_aliasreq32, ifra_lifetime) == 104);
    assert!(offset_of!(in6_aliasreq32, ifra_vhid) == 120);
};

/// `struct in6_ifreq` (`netinet6/in6_var.h`), the argument of
/// SIOCDIFADDR_IN6, with its union as raw bytes; see [`IN6_IFREQ_SIZE`].
/// Aligned like `uint64_t`: 8, but 4 on i386.
#[repr(C)]
#[cfg_attr(target_arch = "x86", repr(align(4)))]
#[cfg_attr(not(target_arch = "x86"), repr(align(8)))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct in6_ifreq {
    pub ifr_name: [u8; IFNAMSIZ],
    /// `ifru_addr` (a `sockaddr_in6`) occupies the first 28 bytes.
    pub ifr_ifru: [u8; ICMP6_IFSTAT_SIZE],
}

impl Default for in6_ifreq {
    fn default() -> Self {
        Self::new_zeroed()
    }
}

const _: () = {
    assert!(size_of::<in6_ifreq>() == IN6_IFREQ_SIZE);
    assert!(offset_of!(in6_ifreq, ifr_ifru) == 16);
};

/// `struct sockaddr_dl` (`sys/net/if_dl.h`, unchanged since 4.4BSD):
/// `sdl_len` u8 @0, `sdl_family` u8 @1, `sdl_index` u_short @2 (host
/// order), `sdl_type` u8 @4, `sdl_nlen` u8 @5, `sdl_alen` u8 @6, `sdl_slen`
/// u8 @7, `sdl_data[46]` @8 ("minimum work area, can be larger; contains
/// both if name and ll address"). 54 bytes, alignment 2, on every
/// architecture.
#[repr(C)]
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct sockaddr_dl {
    pub sdl_len: u8,
    pub sdl_family: u8,
    pub sdl_index: u16,
    pub sdl_type: u8,
    pub sdl_nlen: u8,
    pub sdl_alen: u8,
    pub sdl_slen: u8,
    pub sdl_data: [u8; 46],
}

const _: () = {
    assert!(size_of::<sockaddr_dl>() == 54);
    assert!(offset_of!(sockaddr_dl, sdl_index) == 2);
    assert!(offset_of!(sockaddr_dl, sdl_type) == 4);
    assert!(offset_of!(sockaddr_dl, sdl_nlen) == 5);
    assert!(offset_of!(sockaddr_dl, sdl_data) == 8);
};

/// Offset of `ifi_link_state` in `struct if_data` (`net/if.h`).
pub const IFI_LINK_STATE_OFFSET: usize = 4;
/// Offset of `ifi_vhid` ("carp vhid") in `struct if_data` (`net/if.h`, 6E2).
/// `getifaddrs(3)` points `ifa_data` of each address entry at an `if_data`
/// whose `ifi_vhid` is the address's vhid (0 = not a CARP address).
pub const IFI_VHID_OFFSET: usize = 5;
/// The prefix of `struct if_data` that carpctl reads: `ifi_type`,
/// `ifi_physical`, `ifi_addrlen`, `ifi_hdrlen`, `ifi_link_state`, `ifi_vhid`.
pub const IF_DATA_PREFIX_LEN: usize = 6;

/// `LINK_STATE_UP` (`net/if.h`).
pub const LINK_STATE_UP: u8 = 2;
/// `LINK_STATE_DOWN`.
pub const LINK_STATE_DOWN: u8 = 1;
/// `LINK_STATE_UNKNOWN`.
pub const LINK_STATE_UNKNOWN: u8 = 0;

/// Interface flags (`net/if.h`).
pub const IFF_UP: u32 = 0x1;
pub const IFF_BROADCAST: u32 = 0x2;
pub const IFF_LOOPBACK: u32 = 0x8;
pub const IFF_RUNNING: u32 = 0x40;
pub const IFF_PROMISC: u32 = 0x100;
pub const IFF_MULTICAST: u32 = 0x8000;

/// Interface types (`net/if_types.h`) that carp accepts (`carp_is_supported_if`).
pub const IFT_ETHER: u8 = 0x6;
pub const IFT_L2VLAN: u8 = 0x87;
pub const IFT_BRIDGE: u8 = 0xd1;
pub const IFT_LOOP: u8 = 0x18;

/// `struct carpstats` (`netinet/ip_carp.h`): 16 x `uint64_t`, read from the
/// opaque sysctl `net.inet.carp.stats`.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct carpstats {
    pub carps_ipackets: u64,
    pub carps_ipackets6: u64,
    pub carps_badif: u64,
    pub carps_badttl: u64,
    pub carps_hdrops: u64,
    pub carps_badsum: u64,
    pub carps_badver: u64,
    pub carps_badlen: u64,
    pub carps_badauth: u64,
    pub carps_badvhid: u64,
    pub carps_badaddrs: u64,
    pub carps_opackets: u64,
    pub carps_opackets6: u64,
    pub carps_onomem: u64,
    pub carps_ostates: u64,
    pub carps_preempt: u64,
}

const _: () = {
    assert!(size_of::<carpstats>() == 128);
    assert!(offset_of!(carpstats, carps_badauth) == 64);
    assert!(offset_of!(carpstats, carps_preempt) == 120);
};

// ---------------------------------------------------------------------------
// carp(4) constants (netinet/ip_carp.h, netinet/in.h, ip_carp.c @ MAIN)
// ---------------------------------------------------------------------------

/// `CARP_DFLTTL`: advertisements go out with TTL / hop limit 255.
pub const CARP_DFLTTL: u8 = 255;
/// `CARP_VERSION_CARP`.
pub const CARP_VERSION_CARP: u8 = 2;
/// `CARP_VERSION_VRRPv3` (15.0+).
pub const CARP_VERSION_VRRPV3: u8 = 3;
/// `CARP_ADVERTISEMENT` (carp_type).
pub const CARP_ADVERTISEMENT: u8 = 0x01;
/// `VRRP_TYPE_ADVERTISEMENT`.
pub const VRRP_TYPE_ADVERTISEMENT: u8 = 0x01;
/// `VRRP_MAX_INTERVAL`: 12-bit field, centiseconds.
pub const VRRP_MAX_INTERVAL: u16 = 0x1000 - 1;
/// `CARP_DFLTINTV`: the default advbase, seconds.
pub const CARP_DFLTINTV: u8 = 1;
/// `CARP_MAXVHID`.
pub const CARP_MAXVHID: u8 = 255;
/// `CARP_MAXSKEW`: a fully demoted node advertises this skew.
pub const CARP_MAXSKEW: u8 = 240;
/// `CARP_MAXSTATE`.
pub const CARP_MAXSTATE: u8 = 2;
/// `CARP_STATES`, indexed by state.
pub const CARP_STATES: [&str; 3] = ["INIT", "BACKUP", "MASTER"];
/// State values (`carpr_state`, `CARP_NL_STATE`).
pub const CARP_STATE_INIT: u32 = 0;
pub const CARP_STATE_BACKUP: u32 = 1;
pub const CARP_STATE_MASTER: u32 = 2;
/// Length of `struct carp_header` on the wire (`CTASSERT(sizeof == 36)`).
pub const CARP_HEADER_LEN: usize = 36;
/// Length of `struct vrrpv3_header` (`CTASSERT(sizeof == 8)`).
pub const VRRPV3_HEADER_LEN: usize = 8;
/// `carp_authlen` sent by FreeBSD: 7 32-bit words (counter + digest).
pub const CARP_AUTHLEN: u8 = 7;
/// `CARP_HMAC_PAD`.
pub const CARP_HMAC_PAD: usize = 64;
/// `CARP_SENDAD_MAX_ERRORS` / `CARP_SENDAD_MIN_SUCCESS`.
pub const CARP_SENDAD_MAX_ERRORS: u32 = 3;
pub const CARP_SENDAD_MIN_SUCCESS: u32 = 3;
/// `INADDR_CARP_GROUP` 224.0.0.18.
pub const INADDR_CARP_GROUP: [u8; 4] = [224, 0, 0, 18];
/// The IPv6 CARP group ff02::12.
pub const IN6ADDR_CARP_GROUP: [u8; 16] = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12];
/// `PRIV_NETINET_CARP` (`sys/priv.h`).
pub const PRIV_NETINET_CARP: u32 = 495;
/// Default `net.inet.carp.dscp`: CS7.
pub const CARP_DFLTDSCP: i32 = 56;
/// Virtual MAC prefix: `00:00:5e:00:01:<vhid>` (IPv4, IPv6 and VRRPv3 alike).
pub const CARP_MAC_PREFIX: [u8; 5] = [0x00, 0x00, 0x5e, 0x00, 0x01];

/// `kern.osreldate` of FreeBSD 10.0: the first release with the
/// interface-less carp and the 40-byte `carpreq`.
pub const OSRELDATE_10_0: i32 = 1_000_000;
/// `kern.osreldate` of FreeBSD 14.0.
pub const OSRELDATE_14_0: i32 = 1_400_000;
/// `kern.osreldate` of FreeBSD 15.0.
pub const OSRELDATE_15_0: i32 = 1_500_000;
/// The first `__FreeBSD_version` whose kernels all have VRRPv3: commit
/// 37115154 ("carp: support VRRPv3", 2024-05-08) did not bump the version;
/// 1500018 (2024-04-06) covers kernels from before and after it, and 1500019
/// (e03e8b077433, 2024-05-31) is the next bump (Porter's Handbook, "FreeBSD
/// 15 __FreeBSD_version values"; docs/freebsd-carp.md §6.6).
pub const OSRELDATE_VRRPV3: i32 = 1_500_019;

// ---------------------------------------------------------------------------
// The layouts per architecture (docs/freebsd-carp.md §3)
// ---------------------------------------------------------------------------

// amd64 and aarch64 (LP64; 64-bit time_t; uint64_t 8-aligned).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const _: () = {
    assert!(size_of::<usize>() == 8);
    assert!(size_of::<time_t>() == 8);
    assert!(align_of::<ifreq>() == 8);
    assert!(size_of::<in6_aliasreq>() == 136);
    assert!(align_of::<in6_aliasreq>() == 8);
    assert!(size_of::<in6_addrlifetime>() == 24);
    assert!(align_of::<in6_ifreq>() == 8);
    assert!(align_of::<carpstats>() == 8);
};

// i386 (ILP32; 32-bit time_t; uint64_t 4-aligned in structures).
#[cfg(target_arch = "x86")]
const _: () = {
    assert!(size_of::<usize>() == 4);
    assert!(size_of::<time_t>() == 4);
    assert!(align_of::<ifreq>() == 4);
    assert!(size_of::<in6_aliasreq>() == 124);
    assert!(align_of::<in6_aliasreq>() == 4);
    assert!(size_of::<in6_addrlifetime>() == 16);
    assert!(align_of::<in6_ifreq>() == 4);
    assert!(align_of::<carpstats>() == 4);
};

// Every architecture: the sizes that do not depend on it.
const _: () = {
    assert!(size_of::<carpreq>() == 40);
    assert!(size_of::<in_aliasreq>() == 68);
    assert!(size_of::<carpstats>() == 128);
};

// ---------------------------------------------------------------------------
// Cross-checks against libc's own FreeBSD definitions
// ---------------------------------------------------------------------------

#[cfg(target_os = "freebsd")]
const _: () = {
    assert!(size_of::<time_t>() == size_of::<libc::time_t>());
    assert!(size_of::<libc::timeval>() == 2 * size_of::<time_t>());
    assert!(size_of::<ifreq>() == size_of::<libc::ifreq>());
    assert!(align_of::<ifreq>() == align_of::<libc::ifreq>());
    assert!(size_of::<in_aliasreq>() == size_of::<libc::ifaliasreq>());
    assert!(offset_of!(in_aliasreq, ifra_vhid) == offset_of!(libc::ifaliasreq, ifra_vhid));
    assert!(size_of::<sockaddr_in>() == size_of::<libc::sockaddr_in>());
    assert!(offset_of!(sockaddr_in, sin_addr) == offset_of!(libc::sockaddr_in, sin_addr));
    assert!(size_of::<sockaddr_in6>() == size_of::<libc::sockaddr_in6>());
    assert!(offset_of!(sockaddr_in6, sin6_addr) == offset_of!(libc::sockaddr_in6, sin6_addr));
    assert!(size_of::<sockaddr>() == size_of::<libc::sockaddr>());
    assert!(size_of::<sockaddr_dl>() == size_of::<libc::sockaddr_dl>());
    assert!(offset_of!(sockaddr_dl, sdl_data) == offset_of!(libc::sockaddr_dl, sdl_data));
    assert!(offset_of!(libc::if_data, ifi_vhid) == IFI_VHID_OFFSET);
    assert!(offset_of!(libc::if_data, ifi_link_state) == IFI_LINK_STATE_OFFSET);
    assert!(AF_INET as i32 == libc::AF_INET);
    assert!(AF_INET6 as i32 == libc::AF_INET6);
    assert!(AF_LINK as i32 == libc::AF_LINK);
    assert!(IPPROTO_CARP as i32 == libc::IPPROTO_CARP);
    assert!(IFF_UP as i32 == libc::IFF_UP);
    assert!(IFF_MULTICAST as i32 == libc::IFF_MULTICAST);
    assert!(LINK_STATE_UP as i32 == libc::LINK_STATE_UP);
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The requests carpctl sends, against the hex values of
    /// docs/freebsd-carp.md §4 (`ifreq` 32 = 0x20, `in_aliasreq` 68 = 0x44,
    /// `in6_aliasreq` 136 = 0x88 or 124 = 0x7c on i386, `in6_ifreq` 288 =
    /// 0x120).
    #[test]
    fn carpctl_requests_match_reference() {
        assert_eq!(SIOCSVH, 0xc020_69f5);
        assert_eq!(SIOCGVH, 0xc020_69f6);
        assert_eq!(SIOCAIFADDR, 0x8044_692b);
        assert_eq!(SIOCDIFADDR, 0x8020_6919);
        assert_eq!(SIOCDIFADDR_IN6, 0x8120_6919);
        assert_eq!(SIOCIFCREATE2, 0xc020_697c);
        let native = if cfg!(target_arch = "x86") {
            0x807c_691b
        } else {
            0x8088_691b
        };
        assert_eq!(SIOCAIFADDR_IN6, native);
    }

    /// Both `in6_aliasreq` layouts on whatever host runs the tests: i386's
    /// request number follows from its 124 bytes (0x7c), whatever the host.
    #[test]
    fn in6_aliasreq_per_time_t() {
        assert_eq!(size_of::<in6_aliasreq64>(), 136);
        assert_eq!(size_of::<in6_aliasreq32>(), 124);
        assert_eq!(SIOCAIFADDR_IN6_TIME64, 0x8088_691b);
        assert_eq!(SIOCAIFADDR_IN6_I386, 0x807c_691b);
        assert_eq!(iow(b'i', 27, 124), 0x807c_691b);
        // i386: vhid right after the 16-byte lifetime; amd64: after 24.
        assert_eq!(offset_of!(in6_aliasreq32, ifra_vhid), 104 + 16);
        assert_eq!(offset_of!(in6_aliasreq64, ifra_vhid), 104 + 24);
    }

    /// `ioc` against other well-known FreeBSD requests, so that the encoding
    /// itself (direction bits, 13-bit length, group, number) is checked and
    /// not only the values it was written for.
    #[test]
    fn ioc_matches_other_freebsd_requests() {
        // sys/sockio.h: SIOCGIFFLAGS = _IOWR('i', 17, struct ifreq).
        assert_eq!(iowr(b'i', 17, size_of::<ifreq>()), 0xc020_6911);
        // sys/sockio.h: SIOCSIFFLAGS = _IOW('i', 16, struct ifreq).
        assert_eq!(iow(b'i', 16, size_of::<ifreq>()), 0x8020_6910);
        // SIOCGIFADDR = _IOWR('i', 33, struct ifreq); libc 0.2.191 (bsd/mod.rs)
        // pins 0xc0206921.
        assert_eq!(iowr(b'i', 33, 32), 0xc020_6921);
        // sys/filio.h: FIONREAD = _IOR('f', 127, int), FIONBIO = _IOW('f',
        // 126, int); libc pins 0x4004667f and 0x8004667e. _IOR is IOC_OUT.
        assert_eq!(ioc(IOC_OUT, b'f', 127, 4), 0x4004_667f);
        assert_eq!(iow(b'f', 126, 4), 0x8004_667e);
        // sys/ttycom.h: TIOCEXCL = _IO('t', 13) = _IOC(IOC_VOID, 't', 13, 0);
        // libc (freebsdlike/mod.rs) pins 0x2000740d.
        assert_eq!(ioc(IOC_VOID, b't', 13, 0), 0x2000_740d);
        // The pre-10 compat requests (docs/freebsd-carp.md §4): OSIOCAIFADDR
        // (oifaliasreq, 64) and OSIOCAIFADDR_IN6 (oin6_aliasreq, 128).
        assert_eq!(iow(b'i', 26, 64), 0x8040_691a);
        assert_eq!(iow(b'i', 26, 128), 0x8080_691a);
    }

    #[test]
    fn ioc_masks_the_length_to_13_bits() {
        // IOCPARM_MASK 0x1fff: a length of 0x2000 wraps to 0, 0x2001 to 1.
        assert_eq!(ioc(IOC_IN, b'i', 1, 0x2000), 0x8000_6901);
        assert_eq!(ioc(IOC_IN, b'i', 1, 0x2001), 0x8001_6901);
        assert_eq!(ioc(IOC_IN, b'i', 1, 0x1fff), 0x9fff_6901);
    }

    #[test]
    fn ioctl_sizes() {
        assert_eq!(size_of::<ifreq>(), 32);
        assert_eq!(size_of::<in_aliasreq>(), 68);
        let in6 = if cfg!(target_arch = "x86") { 124 } else { 136 };
        assert_eq!(size_of::<in6_aliasreq>(), in6);
        assert_eq!(size_of::<in6_ifreq>(), 288);
        assert_eq!(size_of::<carpreq>(), 40);
        assert_eq!(size_of::<sockaddr_dl>(), 54);
    }
}
