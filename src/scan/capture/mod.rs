//! Where frames come from: a live capture (AF_PACKET on Linux, BPF on
//! FreeBSD) or a capture file (pcap or pcapng, from tcpdump, tshark or
//! `simulate --pcap`).
//!
//! **Why not libpcap or pnet.** FreeBSD release binaries are linked from
//! Linux with cargo-zigbuild, and zig has no stub for a FreeBSD libpcap,
//! so the `pcap` crate would need a FreeBSD sysroot
//! (docs: `.ci/run`, shared/reference/crates.md). pnet's datalink links,
//! but it can neither attach a kernel filter nor read the kernel's drop
//! counter, and without a filter every frame of a busy interface is copied
//! to carpctl. So the two platform APIs are used directly, each in one
//! small file that is the only `unsafe` of the scanner: [`linux`]
//! (`AF_PACKET` with `SO_ATTACH_FILTER`, `PACKET_AUXDATA`,
//! `SO_TIMESTAMPNS`, `PACKET_STATISTICS`) and [`bpf`] (`/dev/bpf` with
//! `BIOCSETF`, `BIOCIMMEDIATE`, `BIOCGSTATS`). The filter program
//! ([`filter`]) and the BPF buffer layout ([`bpfbuf`]) are plain code,
//! tested on any host.
//!
//! Promiscuous mode (on unless `--no-promisc`) is asked for the way
//! tcpdump does, so that unicast advertisements between two other hosts
//! are seen too; the kernel takes it back when the capture closes
//! (`PACKET_MR_PROMISC` membership, `BIOCPROMISC`), so nothing is left
//! changed.

use std::time::Duration;

use super::decode::LinkType;
use super::report::KernelStats;

pub mod bpfbuf;
pub(crate) mod filter;
pub mod pcapfile;

#[cfg(target_os = "freebsd")]
pub(crate) mod bpf;
#[cfg(target_os = "linux")]
pub(crate) mod linux;

/// The largest frame kept (a jumbo frame; advertisements are < 200 bytes).
pub(crate) const SNAPLEN: usize = 65_535;

/// What went wrong opening or reading a source. Every variant is a usage
/// or capture error (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// Live capture needs privileges this process lacks.
    #[error("{0}")]
    Permission(String),
    /// No such interface, not Ethernet, a file that is not a capture.
    #[error("{0}")]
    Invalid(String),
    /// A system call or a read failed.
    #[error("{0}")]
    Io(String),
}

/// One captured frame.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Seconds since the Unix epoch.
    pub time: f64,
    pub link: LinkType,
    /// The interface it was captured on (one of [`Source::interfaces`]).
    pub iface: &'a str,
    pub data: &'a [u8],
    /// A VLAN tag the kernel took out of the frame (Linux).
    pub vlan: Option<u16>,
}

/// A source of frames.
pub trait Source {
    /// The interface names frames are labelled with.
    fn interfaces(&self) -> &[String];

    /// Waits up to `timeout` for frames and hands each to `f`. Returns
    /// `false` once the source has no more (the end of a file).
    fn poll(
        &mut self,
        timeout: Duration,
        f: &mut dyn FnMut(Frame<'_>),
    ) -> Result<bool, CaptureError>;

    /// The kernel's counters so far (live captures only).
    fn kernel_stats(&mut self) -> Result<Option<KernelStats>, CaptureError> {
        Ok(None)
    }
}

/// Opens a live capture of protocol 112 on `interfaces`.
pub(crate) fn open_live(
    interfaces: &[String],
    promisc: bool,
) -> Result<Box<dyn Source>, CaptureError> {
    for name in interfaces {
        check_name(name)?;
    }
    #[cfg(target_os = "linux")]
    {
        Ok(Box::new(linux::Capture::open(interfaces, promisc)?))
    }
    #[cfg(target_os = "freebsd")]
    {
        Ok(Box::new(bpf::Capture::open(interfaces, promisc)?))
    }
    #[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
    {
        let _ = promisc;
        Err(CaptureError::Invalid(
            "live capture works on FreeBSD and Linux only; read a capture with --pcap FILE".into(),
        ))
    }
}

/// Waits up to `timeout` until one of `sources` (a descriptor and the
/// interface it captures on) is readable, and says which are, by their
/// index in `sources`: the one wait of every live capture. An interrupted
/// wait reads nothing; an error on a descriptor (the interface went away)
/// ends the capture.
pub(crate) fn readable<'a>(
    sources: impl IntoIterator<Item = (std::os::fd::BorrowedFd<'a>, &'a str)>,
    timeout: Duration,
) -> Result<Vec<usize>, CaptureError> {
    use nix::poll::{PollFd, PollFlags, PollTimeout};
    let (mut pfds, names): (Vec<PollFd<'_>>, Vec<&str>) = sources
        .into_iter()
        .map(|(fd, name)| (PollFd::new(fd, PollFlags::POLLIN), name))
        .unzip();
    let t = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
    match nix::poll::poll(&mut pfds, t) {
        Err(nix::errno::Errno::EINTR) => return Ok(Vec::new()),
        Err(e) => return Err(CaptureError::Io(format!("poll: {e}"))),
        Ok(_) => {}
    }
    let mut ready = Vec::new();
    for (i, (p, name)) in pfds.iter().zip(names).enumerate() {
        let r = p.revents().unwrap_or(PollFlags::empty());
        if r.intersects(PollFlags::POLLERR | PollFlags::POLLNVAL) {
            return Err(CaptureError::Io(format!(
                "capture on {name} failed (the interface went away?)"
            )));
        }
        if r.contains(PollFlags::POLLIN) {
            ready.push(i);
        }
    }
    Ok(ready)
}

/// An interface name as the kernel takes it: 1 to 15 bytes (IFNAMSIZ
/// 16 with the NUL), no NUL, `/` or white space.
pub(crate) fn check_name(name: &str) -> Result<(), CaptureError> {
    let bad = name.is_empty()
        || name.len() > 15
        || name
            .bytes()
            .any(|b| b == 0 || b == b'/' || b.is_ascii_whitespace() || b.is_ascii_control());
    if bad {
        return Err(CaptureError::Invalid(format!(
            "interface {}: not an interface name (1 to 15 characters, no '/', space or \
             control character)",
            crate::text::escape(name)
        )));
    }
    Ok(())
}

/// The error of a failed system call `what` on `iface`, with the hint a
/// missing privilege needs.
pub(crate) fn os_error(what: &str, iface: &str, e: std::io::Error) -> CaptureError {
    let denied = matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES));
    if denied {
        CaptureError::Permission(format!(
            "cannot capture on {iface}: {what}: {e}; live capture needs root ({})",
            if cfg!(target_os = "freebsd") {
                "or read access to /dev/bpf, see devfs.rules(5)"
            } else {
                "or the CAP_NET_RAW capability"
            }
        ))
    } else if e.raw_os_error() == Some(libc::ENXIO) || e.raw_os_error() == Some(libc::ENODEV) {
        CaptureError::Invalid(format!(
            "cannot capture on {iface}: no such interface ({what}: {e})"
        ))
    } else {
        CaptureError::Io(format!("cannot capture on {iface}: {what}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_names_the_sources_with_data_by_index() {
        use std::os::fd::AsFd;
        let (r0, _w0) = nix::unistd::pipe().unwrap();
        let (r1, w1) = nix::unistd::pipe().unwrap();
        let sources = || [(r0.as_fd(), "em0"), (r1.as_fd(), "em1")];
        let nothing = readable(sources(), Duration::ZERO).unwrap();
        assert!(nothing.is_empty(), "{nothing:?}");
        nix::unistd::write(&w1, b"x").unwrap();
        assert_eq!(readable(sources(), Duration::ZERO).unwrap(), [1]);
        // The writer gone with data unread: still readable, not an error.
        drop(w1);
        assert_eq!(readable(sources(), Duration::ZERO).unwrap(), [1]);
    }

    #[test]
    fn interface_names_are_checked_before_any_system_call() {
        assert!(check_name("em0").is_ok());
        assert!(check_name("vlan0.100").is_ok());
        assert!(check_name("h15scan-m0").is_ok());
        for bad in ["", "a-very-long-name0", "em/0", "em 0", "em\u{0}0", "em\n0"] {
            let e = check_name(bad).unwrap_err().to_string();
            assert!(e.contains("not an interface name"), "{bad:?}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn permission_errors_say_what_is_needed() {
        let e = os_error(
            "socket(AF_PACKET)",
            "em0",
            std::io::Error::from_raw_os_error(libc::EPERM),
        );
        assert!(matches!(e, CaptureError::Permission(_)));
        let m = e.to_string();
        assert!(
            m.starts_with("cannot capture on em0: socket(AF_PACKET): "),
            "{m}"
        );
        assert!(m.contains("needs root"), "{m}");
        let e = os_error(
            "bind",
            "nope0",
            std::io::Error::from_raw_os_error(libc::ENODEV),
        );
        assert!(matches!(e, CaptureError::Invalid(_)), "{e:?}");
        assert!(e.to_string().contains("no such interface"), "{e}");
        let e = os_error(
            "recvmsg",
            "em0",
            std::io::Error::from_raw_os_error(libc::EIO),
        );
        assert!(matches!(e, CaptureError::Io(_)), "{e:?}");
    }
}
