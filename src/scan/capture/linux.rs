//! Live capture on Linux: one `AF_PACKET` raw socket per interface
//! (packet(7)), with the protocol-112 filter attached before the socket is
//! bound, so that no unfiltered frame is ever queued (the order libpcap
//! uses).
//!
//! * `SO_ATTACH_FILTER`: the classic BPF program of [`super::filter`];
//! * `PACKET_AUXDATA`: the VLAN tag the kernel took out of the frame
//!   (`tp_vlan_tci`, valid when `TP_STATUS_VLAN_VALID`), since AF_PACKET
//!   hands over frames without it;
//! * `SO_TIMESTAMPNS`: the time the kernel received each frame, so that
//!   the intervals measured do not depend on when carpctl got to read;
//! * `SO_RCVBUFFORCE` (root) or `SO_RCVBUF`: 4 MiB of queue;
//! * `PACKET_ADD_MEMBERSHIP` with `PACKET_MR_PROMISC`: promiscuous mode
//!   that the kernel undoes when the socket closes;
//! * `PACKET_STATISTICS`: frames queued and dropped since the last read
//!   (the counters reset on reading; [`Capture`] adds them up).
//!
//! This file and `bpf.rs` are the scanner's only `unsafe` code: system
//! calls with pointers to local, correctly sized values.
#![allow(
    unsafe_code,
    reason = "AF_PACKET socket options and reads into local buffers"
)]

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use super::super::decode::LinkType;
use super::super::report::KernelStats;
use super::{CaptureError, Frame, SNAPLEN, Source, filter, os_error, readable};

/// The receive queue asked for.
const RCVBUF: libc::c_int = 4 << 20;
/// The most frames read from one socket per poll.
const BURST: usize = 4096;

/// `ARPHRD_ETHER` and `ARPHRD_LOOPBACK` (whose frames carry a zero
/// Ethernet header): the link types whose frames start with Ethernet.
const ETHERNET_TYPES: [&str; 2] = ["1", "772"];

struct Sock {
    fd: OwnedFd,
    name: String,
}

/// A live capture on one or more interfaces.
pub(crate) struct Capture {
    socks: Vec<Sock>,
    names: Vec<String>,
    buf: Vec<u8>,
    stats: KernelStats,
}

/// Sets an integer or struct socket option.
fn setsockopt<T>(fd: &OwnedFd, level: libc::c_int, opt: libc::c_int, v: &T) -> io::Result<()> {
    // SAFETY: `v` points to a live `T` of `size_of::<T>()` bytes, which is
    // the size passed; the kernel copies it and keeps no pointer.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            (v as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn ifindex(name: &str) -> Result<libc::c_int, CaptureError> {
    let i = nix::net::if_::if_nametoindex(name).map_err(|e| {
        CaptureError::Invalid(format!("cannot capture on {name}: no such interface ({e})"))
    })?;
    libc::c_int::try_from(i)
        .map_err(|_| CaptureError::Invalid(format!("cannot capture on {name}: index {i}")))
}

/// Refuses interfaces whose frames do not start with an Ethernet header
/// (tun, ppp, ...), as the decoder would misread them.
fn check_ethernet(name: &str) -> Result<(), CaptureError> {
    let path = format!("/sys/class/net/{name}/type");
    match std::fs::read_to_string(&path) {
        Ok(t) if ETHERNET_TYPES.contains(&t.trim()) => Ok(()),
        Ok(t) => Err(CaptureError::Invalid(format!(
            "cannot capture on {name}: not an Ethernet interface (ARPHRD type {})",
            t.trim()
        ))),
        // No sysfs (a container without it): let the capture try.
        Err(_) => Ok(()),
    }
}

fn open_one(name: &str, promisc: bool) -> Result<Sock, CaptureError> {
    let index = ifindex(name)?;
    check_ethernet(name)?;
    let err = |what: &str| os_error(what, name, io::Error::last_os_error());
    // Protocol 0: nothing is queued until bind() below, after the filter.
    // SAFETY: plain system call with integer arguments.
    let raw = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
    };
    if raw < 0 {
        return Err(err("socket(AF_PACKET)"));
    }
    // SAFETY: `raw` is a descriptor just returned to us and owned nowhere
    // else; OwnedFd closes it on every path below.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let opt = |r: io::Result<()>, what: &str| r.map_err(|e| os_error(what, name, e));
    let mut prog: Vec<libc::sock_filter> = filter::program()
        .iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    let fprog = libc::sock_fprog {
        len: u16::try_from(prog.len()).unwrap_or(u16::MAX),
        filter: prog.as_mut_ptr(),
    };
    opt(
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog),
        "SO_ATTACH_FILTER",
    )?;
    drop(prog);
    let one: libc::c_int = 1;
    opt(
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_AUXDATA, &one),
        "PACKET_AUXDATA",
    )?;
    opt(
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &one),
        "SO_TIMESTAMPNS",
    )?;
    if setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &RCVBUF).is_err() {
        opt(
            setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &RCVBUF),
            "SO_RCVBUF",
        )?;
    }
    // SAFETY: all-zero is a valid sockaddr_ll.
    let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    sll.sll_ifindex = index;
    // SAFETY: `sll` is a live sockaddr_ll and its size is passed.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(err("bind"));
    }
    if promisc {
        // SAFETY: all-zero is a valid packet_mreq.
        let mut mreq: libc::packet_mreq = unsafe { zeroed() };
        mreq.mr_ifindex = index;
        mreq.mr_type = libc::PACKET_MR_PROMISC as u16;
        opt(
            setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq),
            "PACKET_ADD_MEMBERSHIP (promiscuous mode)",
        )?;
    }
    let sock = Sock {
        fd,
        name: name.to_string(),
    };
    // The counters so far (nothing, since bind) are reset by reading them.
    read_stats(&sock)?;
    Ok(sock)
}

/// `PACKET_STATISTICS` since the last call: (queued + dropped, dropped).
fn read_stats(s: &Sock) -> Result<(u64, u64), CaptureError> {
    // SAFETY: all-zero is a valid tpacket_stats.
    let mut st: libc::tpacket_stats = unsafe { zeroed() };
    let mut len = size_of::<libc::tpacket_stats>() as libc::socklen_t;
    // SAFETY: `st` and `len` are live and `len` holds the size of `st`.
    let r = unsafe {
        libc::getsockopt(
            s.fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            (&mut st as *mut libc::tpacket_stats).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return Err(os_error(
            "PACKET_STATISTICS",
            &s.name,
            io::Error::last_os_error(),
        ));
    }
    // tp_packets counts the dropped frames too (packet_getsockopt).
    Ok((u64::from(st.tp_packets), u64::from(st.tp_drops)))
}

impl Capture {
    /// Opens every interface of `names`; nothing stays open on error.
    pub(crate) fn open(names: &[String], promisc: bool) -> Result<Self, CaptureError> {
        let socks = names
            .iter()
            .map(|n| open_one(n, promisc))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Capture {
            socks,
            names: names.to_vec(),
            buf: vec![0; SNAPLEN],
            stats: KernelStats::default(),
        })
    }
}

/// What the control messages of one frame said.
#[derive(Default)]
struct Ancillary {
    time: Option<f64>,
    vlan: Option<u16>,
}

/// Reads one frame of `fd` into `buf`: its length and ancillary data, or
/// `None` when nothing is queued.
fn recv(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<Option<(usize, Ancillary)>> {
    // Room for a timespec and a tpacket_auxdata with their headers.
    let mut control = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 16]>() as _;
    // SAFETY: `msg` points at `iov` (over `buf`) and `control`, all live
    // and of the lengths given, for the duration of the call.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
            _ => Err(e),
        };
    }
    let mut anc = Ancillary::default();
    // SAFETY: the CMSG_* walk stays within `msg_controllen` bytes of
    // `control`, as the kernel filled them in; each payload is read
    // unaligned, as it may not be aligned for its type.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let data = libc::CMSG_DATA(c);
            match ((*c).cmsg_level, (*c).cmsg_type) {
                (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                    let ts: libc::timespec = std::ptr::read_unaligned(data.cast());
                    anc.time = Some(ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9);
                }
                (libc::SOL_PACKET, libc::PACKET_AUXDATA) => {
                    let aux: libc::tpacket_auxdata = std::ptr::read_unaligned(data.cast());
                    if aux.tp_status & libc::TP_STATUS_VLAN_VALID != 0 {
                        anc.vlan = Some(aux.tp_vlan_tci & 0x0fff);
                    }
                }
                _ => {}
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    // A frame longer than the buffer is cut (MSG_TRUNC); the decoder
    // reports what it cannot read.
    Ok(Some((usize::try_from(n).unwrap_or(0).min(buf.len()), anc)))
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
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
        let sources = self.socks.iter().map(|s| (s.fd.as_fd(), s.name.as_str()));
        for i in readable(sources, timeout)? {
            for _ in 0..BURST {
                let got = recv(&self.socks[i].fd, &mut self.buf)
                    .map_err(|e| os_error("recvmsg", &self.socks[i].name, e))?;
                let Some((n, anc)) = got else { break };
                f(Frame {
                    time: anc.time.unwrap_or_else(now),
                    link: LinkType::Ethernet,
                    iface: &self.socks[i].name,
                    data: &self.buf[..n],
                    vlan: anc.vlan,
                });
            }
        }
        Ok(true)
    }

    fn kernel_stats(&mut self) -> Result<Option<KernelStats>, CaptureError> {
        for s in &self.socks {
            let (packets, drops) = read_stats(s)?;
            self.stats.received += packets;
            self.stats.dropped += drops;
        }
        Ok(Some(self.stats))
    }
}
