//! Live capture on FreeBSD: one `/dev/bpf` descriptor per interface
//! (bpf(4)).
//!
//! * `BIOCSBLEN` before `BIOCSETIF`: a 512 KiB buffer (the default
//!   `net.bpf.maxbufsize`; the kernel lowers a larger request), read back
//!   with `BIOCGBLEN`, since every read must ask for exactly that much;
//! * `BIOCSETIF`: the interface; `BIOCGDLT` must say `DLT_EN10MB`;
//! * `BIOCIMMEDIATE`: hand frames over as they come, so `--watch` is
//!   current (a read still returns every frame queued, in one go);
//! * `BIOCSETF`: the classic BPF program of [`super::filter`] (it also
//!   flushes what was queued before it);
//! * `BIOCPROMISC`: promiscuous mode, dropped by the kernel on close;
//! * `BIOCGSTATS`: `bs_recv` and `bs_drop` since the open.
//!
//! Frames arrive with their VLAN tags in place (`ETHER_BPF_MTAP`
//! re-inserts an offloaded tag), each behind a `struct bpf_hdr`
//! ([`super::bpfbuf`]). The structures and ioctl numbers are
//! [`carpctl_sys::bpf`]'s (`sys/net/bpf.h`, with layout asserts).
#![allow(unsafe_code, reason = "bpf(4) ioctls and reads into local buffers")]

use std::ffi::CString;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use carpctl_sys::bpf::{
    BIOCGBLEN, BIOCGDLT, BIOCGSTATS, BIOCIMMEDIATE, BIOCPROMISC, BIOCSBLEN, BIOCSETF, BIOCSETIF,
    BPF_ALIGNMENT, BPF_MAXBUFSIZE, DLT_EN10MB, bpf_insn, bpf_program, bpf_stat,
};

use super::super::decode::LinkType;
use super::super::report::KernelStats;
use super::bpfbuf::{self, Layout};
use super::{CaptureError, Frame, Source, filter, os_error, readable};

/// The buffer asked for: the default `net.bpf.maxbufsize`.
const BUFFER: u32 = BPF_MAXBUFSIZE;

/// This architecture's `struct bpf_hdr`.
const LAYOUT: Layout = Layout {
    time_t: size_of::<carpctl_sys::time_t>(),
    long: BPF_ALIGNMENT,
};

struct Bpf {
    fd: OwnedFd,
    name: String,
    buf: Vec<u8>,
}

/// A live capture on one or more interfaces.
pub(crate) struct Capture {
    bpfs: Vec<Bpf>,
    names: Vec<String>,
}

/// `ioctl(fd, req, arg)` with a pointer to a local value.
fn ioctl<T>(fd: &OwnedFd, req: u64, arg: &mut T) -> io::Result<()> {
    // The request encodes the argument's size (IOCPARM_MASK bits): a `T`
    // of another size is refused here, so the kernel never copies past it.
    if ((req >> 16) & carpctl_sys::IOCPARM_MASK) as usize != size_of::<T>() {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: `arg` is a live, exclusively borrowed `T` of exactly the
    // size the request `req` says it reads or writes (checked above).
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), req as libc::c_ulong, arg as *mut T) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn open_one(name: &str, promisc: bool) -> Result<Bpf, CaptureError> {
    let dev = CString::new("/dev/bpf").map_err(|e| CaptureError::Io(e.to_string()))?;
    // SAFETY: `dev` is a NUL-terminated string that outlives the call.
    let raw = unsafe { libc::open(dev.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if raw < 0 {
        return Err(os_error("open /dev/bpf", name, io::Error::last_os_error()));
    }
    // SAFETY: `raw` was just returned to us and is owned nowhere else.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let opt = |r: io::Result<()>, what: &str| r.map_err(|e| os_error(what, name, e));
    let mut blen = BUFFER;
    opt(ioctl(&fd, BIOCSBLEN, &mut blen), "BIOCSBLEN")?;
    // The name was checked (1 to 15 bytes): it fits with its NUL.
    let mut ifr = carpctl_sys::ifreq::default();
    for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s;
    }
    opt(ioctl(&fd, BIOCSETIF, &mut ifr), "BIOCSETIF")?;
    let mut dlt: u32 = 0;
    opt(ioctl(&fd, BIOCGDLT, &mut dlt), "BIOCGDLT")?;
    if dlt != DLT_EN10MB {
        return Err(CaptureError::Invalid(format!(
            "cannot capture on {name}: not an Ethernet interface (DLT {dlt})"
        )));
    }
    let mut on: u32 = 1;
    opt(ioctl(&fd, BIOCIMMEDIATE, &mut on), "BIOCIMMEDIATE")?;
    let mut insns: Vec<bpf_insn> = filter::program()
        .iter()
        .map(|i| bpf_insn {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    // The program is at most BPF_MAXINSNS long (tested in filter).
    let mut prog = bpf_program {
        bf_len: u32::try_from(insns.len()).unwrap_or(u32::MAX),
        bf_insns: insns.as_mut_ptr(),
    };
    // The kernel copies the instructions during the call (bpf_setf), so
    // `insns` need only outlive it.
    opt(ioctl(&fd, BIOCSETF, &mut prog), "BIOCSETF")?;
    drop(insns);
    if promisc {
        // SAFETY: BIOCPROMISC (_IO) takes no argument and reads no memory.
        let r = unsafe { libc::ioctl(fd.as_raw_fd(), BIOCPROMISC as libc::c_ulong) };
        if r != 0 {
            return Err(os_error("BIOCPROMISC", name, io::Error::last_os_error()));
        }
    }
    let mut actual: u32 = 0;
    opt(ioctl(&fd, BIOCGBLEN, &mut actual), "BIOCGBLEN")?;
    Ok(Bpf {
        fd,
        name: name.to_string(),
        buf: vec![0; actual as usize],
    })
}

impl Capture {
    /// Opens every interface of `names`; nothing stays open on error.
    pub(crate) fn open(names: &[String], promisc: bool) -> Result<Self, CaptureError> {
        let bpfs = names
            .iter()
            .map(|n| open_one(n, promisc))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Capture {
            bpfs,
            names: names.to_vec(),
        })
    }
}

impl Source for Capture {
    fn interfaces(&self) -> &[String] {
        &self.names
    }

    fn poll(
        &mut self,
        timeout: Duration,
        f: &mut dyn FnMut(Frame<'_>),
    ) -> Result<bool, CaptureError> {
        let sources = self.bpfs.iter().map(|b| (b.fd.as_fd(), b.name.as_str()));
        for i in readable(sources, timeout)? {
            let b = &mut self.bpfs[i];
            // SAFETY: `b.buf` is a live buffer of exactly the length the
            // kernel's BIOCGBLEN gave, as bpf(4) requires of a read.
            let n = unsafe { libc::read(b.fd.as_raw_fd(), b.buf.as_mut_ptr().cast(), b.buf.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) {
                    continue;
                }
                return Err(os_error("read", &b.name, e));
            }
            let got = &b.buf[..usize::try_from(n).unwrap_or(0)];
            let mut records = bpfbuf::records(got, LAYOUT);
            for rec in records.by_ref() {
                f(Frame {
                    time: rec.time,
                    link: LinkType::Ethernet,
                    iface: &b.name,
                    data: rec.data,
                    vlan: None,
                });
            }
            if let Some(e) = records.error() {
                return Err(CaptureError::Io(format!("capture on {}: {e}", b.name)));
            }
        }
        Ok(true)
    }

    fn kernel_stats(&mut self) -> Result<Option<KernelStats>, CaptureError> {
        let mut total = KernelStats::default();
        for b in &self.bpfs {
            let mut st = bpf_stat::default();
            ioctl(&b.fd, BIOCGSTATS, &mut st).map_err(|e| os_error("BIOCGSTATS", &b.name, e))?;
            total.received += u64::from(st.bs_recv);
            total.dropped += u64::from(st.bs_drop);
        }
        Ok(Some(total))
    }
}
