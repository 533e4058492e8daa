//! bpf(4): what `carpctl scan` needs to capture live on FreeBSD, from
//! `sys/net/bpf.h` (freebsd-src @ 039ea811; these definitions have not
//! changed since FreeBSD 8): the filter program of `BIOCSETF`, the
//! counters of `BIOCGSTATS`, the header in front of every captured frame,
//! and the ioctl numbers, pinned in hex below for amd64/aarch64 and i386.

use core::mem::{offset_of, size_of};

use crate::{IOC_OUT, IOC_VOID, ifreq, ioc, iow, iowr, time_t};

/// `struct bpf_insn`: one classic BPF instruction.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct bpf_insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `struct bpf_program`: the argument of `BIOCSETF`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct bpf_program {
    /// `u_int bf_len`: the number of instructions.
    pub bf_len: u32,
    pub bf_insns: *mut bpf_insn,
}

/// `struct bpf_stat`: what `BIOCGSTATS` returns, since the descriptor was
/// opened.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct bpf_stat {
    /// `u_int bs_recv`: frames that passed the filter.
    pub bs_recv: u32,
    /// `u_int bs_drop`: frames dropped for want of buffer space.
    pub bs_drop: u32,
}

/// `struct timeval` as `bh_tstamp` holds it: `time_t` and a `long`
/// (`suseconds_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct bpf_timeval {
    pub tv_sec: time_t,
    pub tv_usec: isize,
}

/// `struct bpf_hdr`, in front of every frame a read returns (the default
/// `BPF_T_MICROTIME` timestamps). A reader must use `bh_hdrlen`, not the
/// size of this structure (bpf.h: "sizeof(struct bpf_hdr) won't work"),
/// and find the next record at `BPF_WORDALIGN(bh_hdrlen + bh_caplen)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct bpf_hdr {
    pub bh_tstamp: bpf_timeval,
    pub bh_caplen: u32,
    pub bh_datalen: u32,
    pub bh_hdrlen: u16,
}

/// `BPF_ALIGNMENT`: `sizeof(long)`, the alignment of every record.
pub const BPF_ALIGNMENT: usize = size_of::<isize>();
/// `BPF_MAXINSNS`: the longest program the kernel takes.
pub const BPF_MAXINSNS: usize = 512;
/// `BPF_MAXBUFSIZE`: the default `net.bpf.maxbufsize`, the largest buffer
/// `BIOCSBLEN` grants unless the administrator raised it.
pub const BPF_MAXBUFSIZE: u32 = 0x80000;
/// `DLT_EN10MB`: Ethernet.
pub const DLT_EN10MB: u32 = 1;

/// FreeBSD's `_IOR(group, num, type)`, given `sizeof(type)`.
const fn ior(group: u8, num: u8, len: usize) -> u64 {
    ioc(IOC_OUT, group, num, len)
}

/// `BIOCGBLEN = _IOR('B', 102, u_int)`.
pub const BIOCGBLEN: u64 = ior(b'B', 102, size_of::<u32>());
/// `BIOCSBLEN = _IOWR('B', 102, u_int)`.
pub const BIOCSBLEN: u64 = iowr(b'B', 102, size_of::<u32>());
/// `BIOCSETF = _IOW('B', 103, struct bpf_program)`: 16 bytes on LP64, 8 on
/// i386.
pub const BIOCSETF: u64 = iow(b'B', 103, size_of::<bpf_program>());
/// `BIOCPROMISC = _IO('B', 105)`.
pub const BIOCPROMISC: u64 = ioc(IOC_VOID, b'B', 105, 0);
/// `BIOCGDLT = _IOR('B', 106, u_int)`.
pub const BIOCGDLT: u64 = ior(b'B', 106, size_of::<u32>());
/// `BIOCSETIF = _IOW('B', 108, struct ifreq)`.
pub const BIOCSETIF: u64 = iow(b'B', 108, size_of::<ifreq>());
/// `BIOCGSTATS = _IOR('B', 111, struct bpf_stat)`.
pub const BIOCGSTATS: u64 = ior(b'B', 111, size_of::<bpf_stat>());
/// `BIOCIMMEDIATE = _IOW('B', 112, u_int)`.
pub const BIOCIMMEDIATE: u64 = iow(b'B', 112, size_of::<u32>());

// Every architecture.
const _: () = {
    assert!(size_of::<bpf_insn>() == 8);
    assert!(offset_of!(bpf_insn, jt) == 2);
    assert!(offset_of!(bpf_insn, jf) == 3);
    assert!(offset_of!(bpf_insn, k) == 4);
    assert!(size_of::<bpf_stat>() == 8);
    assert!(BIOCGBLEN == 0x4004_4266);
    assert!(BIOCSBLEN == 0xc004_4266);
    assert!(BIOCPROMISC == 0x2000_4269);
    assert!(BIOCGDLT == 0x4004_426a);
    assert!(BIOCSETIF == 0x8020_426c);
    assert!(BIOCGSTATS == 0x4008_426f);
    assert!(BIOCIMMEDIATE == 0x8004_4270);
};

// amd64 and aarch64: a 16-byte timeval, so a 26-byte header padded to 32
// (bh_hdrlen is 32 there), records aligned to 8.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const _: () = {
    assert!(size_of::<bpf_program>() == 16);
    assert!(BIOCSETF == 0x8010_4267);
    assert!(size_of::<bpf_timeval>() == 16);
    assert!(offset_of!(bpf_hdr, bh_caplen) == 16);
    assert!(offset_of!(bpf_hdr, bh_datalen) == 20);
    assert!(offset_of!(bpf_hdr, bh_hdrlen) == 24);
    assert!(size_of::<bpf_hdr>() == 32);
    assert!(BPF_ALIGNMENT == 8);
};

// i386: an 8-byte timeval, an 18-byte header padded to 20, alignment 4.
#[cfg(target_arch = "x86")]
const _: () = {
    assert!(size_of::<bpf_program>() == 8);
    assert!(BIOCSETF == 0x8008_4267);
    assert!(size_of::<bpf_timeval>() == 8);
    assert!(offset_of!(bpf_hdr, bh_caplen) == 8);
    assert!(offset_of!(bpf_hdr, bh_hdrlen) == 16);
    assert!(size_of::<bpf_hdr>() == 20);
    assert!(BPF_ALIGNMENT == 4);
};

// On FreeBSD: the same as libc's own definitions. (libc's numbers are
// `c_ulong`, which is u64 here but u32 on i386: the casts are needed there.)
#[cfg(target_os = "freebsd")]
#[allow(clippy::unnecessary_cast)]
const _: () = {
    assert!(size_of::<bpf_program>() == size_of::<libc::bpf_program>());
    assert!(size_of::<bpf_insn>() == size_of::<libc::bpf_insn>());
    assert!(size_of::<bpf_stat>() == size_of::<libc::bpf_stat>());
    assert!(size_of::<bpf_hdr>() == size_of::<libc::bpf_hdr>());
    assert!(offset_of!(bpf_hdr, bh_hdrlen) == offset_of!(libc::bpf_hdr, bh_hdrlen));
    assert!(BIOCSETF == libc::BIOCSETF as u64);
    assert!(BIOCSETIF == libc::BIOCSETIF as u64);
    assert!(BIOCGSTATS == libc::BIOCGSTATS as u64);
    assert!(BIOCIMMEDIATE == libc::BIOCIMMEDIATE as u64);
    assert!(BIOCSBLEN == libc::BIOCSBLEN as u64);
    assert!(BIOCGBLEN == libc::BIOCGBLEN as u64);
    assert!(BIOCGDLT == libc::BIOCGDLT as u64);
    assert!(BIOCPROMISC == libc::BIOCPROMISC as u64);
};
