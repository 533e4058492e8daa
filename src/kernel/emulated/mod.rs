//! An emulated FreeBSD kernel with carp(4), behind the same byte-level seam
//! as the real one ([`crate::kernel::freebsd::Syscalls`]).
//!
//! It decodes every request the way FreeBSD's `ip_carp.c`, `if.c` and `in.c`
//! do, with the same validation order, errno values and quirks per release
//! flavor (13.0, 13, 14, 15, main; [`release`] holds every behaviour that
//! differs). It is a model of carp(4), not a call recorder.
//! Its state lives in a file so that separate `carpctl` processes share one
//! emulated host; fault injection ("fail the Nth mutating call with errno X")
//! lives in a sidecar file `PATH.inject` so the state file itself stays
//! byte-for-byte comparable; each call holds the lock `PATH.lock`.
//!
//! Layout:
//! * [`state`]: the host as plain data (interfaces, addresses, vhids,
//!   sysctls), which is what the state file holds;
//! * [`carp`]: every request in domain terms, with FreeBSD's checks in
//!   FreeBSD's order, per flavor;
//! * [`fsm`]: the carp(4) state machine (`carp_sc_state`, `carp_setrun`,
//!   ...), the part a time-driven simulator extends;
//! * [`ioctl`], [`netlink`], [`ifaddrs`]: decoding requests and encoding
//!   replies with the backend's own codecs;
//! * [`modules`]: `kldload`/`kldunload`, the generic netlink family ids
//!   and `kern.osreldate`;
//! * [`persist`]: the state file and the fault-injection sidecar;
//! * [`live`]: a host kept in memory whose time passes: its timers fire,
//!   it sends and receives real advertisement bytes. The simulator
//!   (`carpctl simulate`) runs one per node, and the same `apply` a real
//!   node runs configures it through the same byte-level seam.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ipnet::IpNet;

use super::freebsd::{RawIfaddr, Syscalls, SysctlValue};
use super::{Errno, KernelError};

mod carp;
mod fsm;
mod ifaddrs;
mod ioctl;
mod live;
mod modules;
mod netlink;
mod persist;
pub(crate) mod release;
mod state;

pub(crate) use fsm::{Demotion, Event, Hz};
pub use live::{AuthPool, Inbound, Live, LiveOptions, LiveOutput, LiveVhid, SplitMix64};
use state::HostState;

/// The FreeBSD release an emulated host behaves like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// 13.0-RELEASE: as 13.x, before the 13.1 fixes (a negative demotion
    /// is not clamped, see [`release`]).
    #[serde(rename = "13.0")]
    V13_0,
    /// 13.x, modelled on the last release, 13.5: ioctl only, 40-byte
    /// carpreq, SIOCGVH vhid 0 per element.
    #[serde(rename = "13")]
    V13,
    /// 14.x: netlink attributes 1-9, broken SIOCGVH vhid 0.
    #[serde(rename = "14")]
    V14,
    /// 15.x: netlink with VRRPv3 attributes 10-12.
    #[serde(rename = "15")]
    V15,
    /// main after 2026-03-12: netlink only, SIOCSVH/SIOCGVH removed.
    Main,
}

impl FromStr for Flavor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "13.0" => Ok(Flavor::V13_0),
            "13" => Ok(Flavor::V13),
            "14" => Ok(Flavor::V14),
            "15" => Ok(Flavor::V15),
            "main" => Ok(Flavor::Main),
            _ => Err(format!(
                "unknown FreeBSD flavor {s:?}: use 13.0, 13, 14, 15 or main"
            )),
        }
    }
}

/// Everything that differs between releases is asked of the flavor, one
/// method per behaviour, so that a new difference is one new method.
impl Flavor {
    /// Every flavor, oldest first.
    pub const ALL: &'static [Flavor] = &[
        Flavor::V13_0,
        Flavor::V13,
        Flavor::V14,
        Flavor::V15,
        Flavor::Main,
    ];

    /// How it is named on the command line and in messages.
    pub fn label(self) -> &'static str {
        match self {
            Flavor::V13_0 => "13.0",
            Flavor::V13 => "13",
            Flavor::V14 => "14",
            Flavor::V15 => "15",
            Flavor::Main => "main",
        }
    }

    /// `kern.osreldate` (`__FreeBSD_version`).
    pub(crate) fn osreldate(self) -> i32 {
        match self {
            Flavor::V13_0 => 1_300_139,
            Flavor::V13 => 1_305_000,
            Flavor::V14 => 1_401_000,
            // The first __FreeBSD_version whose kernels all have VRRPv3
            // (docs/freebsd-carp.md §6.6); 15.0-RELEASE's own number is
            // higher, and nothing here depends on it.
            Flavor::V15 => carpctl_sys::OSRELDATE_VRRPV3,
            Flavor::Main => 1_600_000,
        }
    }

    /// `kern.osrelease`.
    pub(crate) fn osrelease(self) -> &'static str {
        match self {
            Flavor::V13_0 => "13.0-RELEASE",
            Flavor::V13 => "13.5-RELEASE",
            Flavor::V14 => "14.1-RELEASE",
            Flavor::V15 => "15.0-RELEASE",
            Flavor::Main => "16.0-CURRENT",
        }
    }

    /// SIOCSVH/SIOCGVH exist: everything before the 2026-03-12 retirement
    /// (72472e52e310, docs/freebsd-carp.md §2).
    pub(crate) fn has_carp_ioctls(self) -> bool {
        self != Flavor::Main
    }

    /// carp.ko registers the generic netlink family "carp" (14.0+).
    pub(crate) fn has_carp_netlink(self) -> bool {
        !self.is_13()
    }

    /// A 13.x flavor (13.0 or 13.5).
    fn is_13(self) -> bool {
        matches!(self, Flavor::V13_0 | Flavor::V13)
    }

    /// VRRPv3 and netlink attributes 10-12 (15.0+, 37115154672f).
    pub(crate) fn has_vrrp(self) -> bool {
        matches!(self, Flavor::V15 | Flavor::Main)
    }

    /// `carp_ioctl_set()` validates everything before changing anything
    /// (MAIN, a254d6870e88). S13 and D28 create the vhid and write advbase
    /// before checking advbase's upper bound and advskew (docs/freebsd-carp.md §4.3).
    pub(crate) fn atomic_set_validation(self) -> bool {
        matches!(self, Flavor::V15 | Flavor::Main)
    }

    /// SIOCGVH with vhid 0 copies `count` x 40 bytes out of one stack
    /// variable (D28, MAIN; docs/freebsd-carp.md §4.4); 13.x copies per element.
    pub(crate) fn siocgvh_all_broken(self) -> bool {
        !self.is_13()
    }

    /// SIOCGVH of one vhid sets `carpr_count` = 1 (D28, MAIN); S13 leaves
    /// the caller's count.
    pub(crate) fn siocgvh_sets_count(self) -> bool {
        !self.is_13()
    }

    /// The release-specific rules of carp(4) ([`release::RELEASES`]).
    pub(crate) fn rules(self) -> &'static release::Rules {
        &release::release(self).rules
    }
}

/// One interface of a new emulated host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceSpec {
    pub name: String,
    pub addresses: Vec<IpNet>,
}

/// What `carpctl emulate init` creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    pub flavor: Flavor,
    /// Ethernet interfaces (up, link up, IFF_MULTICAST); `lo0` is added first.
    pub interfaces: Vec<IfaceSpec>,
    /// Whether carp.ko is loaded at start.
    pub carp_loaded: bool,
    /// Whether the caller has PRIV_NETINET_CARP (root).
    pub privileged: bool,
}

/// An emulated host: opened from its state file, or live in memory.
///
/// A file-backed host reads the state file afresh on every call (another
/// process may have changed it), applies the request, and writes the file
/// back only when the state changed. A live host ([`EmulatedHost::live`])
/// keeps its state in memory and lets time pass (see [`live`]). The netlink
/// socket's pending replies are this value's own, as a socket is a
/// process's own.
pub struct EmulatedHost {
    store: Store,
    /// The netlink socket's port id: the process id, as FreeBSD's
    /// `nl_autobind_port()` tries first for a process's first socket.
    port: u32,
    replies: VecDeque<Vec<u8>>,
}

enum Store {
    File(PathBuf),
    Live(Box<live::Live>),
}

impl EmulatedHost {
    /// Write a new host's state file (mode 0600). Fails if it exists.
    pub fn create(path: &Path, spec: &HostSpec) -> Result<(), KernelError> {
        let mut st = HostState::new(spec).map_err(|detail| KernelError::Emulator {
            path: path.display().to_string(),
            detail: format!("invalid host: {detail}"),
        })?;
        // A new host has just booted.
        st.boottime = wall_clock_secs();
        persist::create(path, &st)
    }

    /// Reboot a file-backed host: clear what a reboot clears
    /// ([`HostState::reboot`]) and set a new `kern.boottime`. Returns the
    /// new boot time.
    pub fn reboot(path: &Path) -> Result<i64, KernelError> {
        let _lock = persist::lock(path, true)?;
        let mut st = persist::load(path)?;
        st.reboot(wall_clock_secs());
        persist::save(path, &st)?;
        Ok(st.boottime)
    }

    /// Open an existing host.
    pub fn open(path: &Path) -> Result<Self, KernelError> {
        persist::load(path)?;
        persist::read_inject(path)?;
        Ok(EmulatedHost {
            store: Store::File(path.to_path_buf()),
            port: std::process::id(),
            replies: VecDeque::new(),
        })
    }

    /// A new live host, in memory only: a machine that has just booted,
    /// with the interfaces of `spec` up and their link up.
    pub fn live(spec: &HostSpec, opts: LiveOptions) -> Result<Self, KernelError> {
        let label = opts.name.clone();
        let st = HostState::new(spec).map_err(|detail| KernelError::Emulator {
            path: label.clone(),
            detail: format!("invalid host: {detail}"),
        })?;
        Ok(EmulatedHost {
            store: Store::Live(Box::new(live::Live::new(st, opts))),
            port: 1,
            replies: VecDeque::new(),
        })
    }

    /// Arm a failure: the `call`-th mutating call from now (1 = the next)
    /// fails with `errno` and changes nothing.
    pub fn inject_failure(path: &Path, call: u64, errno: Errno) -> Result<(), KernelError> {
        let _lock = persist::lock(path, true)?;
        persist::arm(path, call, errno)
    }

    /// `kldload` on a file-backed host, as an administrator would run it
    /// behind carpctl's back: `carp` (or `carp.ko`), or another module whose
    /// generic netlink family is called `module` (it takes the lowest free
    /// family id, which may be the one carp.ko had).
    pub fn kldload(path: &Path, module: &str) -> Result<(), KernelError> {
        Self::admin(path, "kldload", module, |st| st.load_module(module))
    }

    /// `kldunload` on a file-backed host (carp.ko: EBUSY while a vhid
    /// exists).
    pub fn kldunload(path: &Path, module: &str) -> Result<(), KernelError> {
        Self::admin(path, "kldunload", module, |st| st.unload_module(module))
    }

    /// Make a file-backed host report `osreldate` as `kern.osreldate`
    /// (`None`: the flavor's own). With the 14 flavor, 1500018 is a
    /// 15-CURRENT of April 2024, before VRRPv3 (docs/freebsd-carp.md §6.6).
    pub fn set_osreldate(path: &Path, osreldate: Option<i32>) -> Result<(), KernelError> {
        Self::admin(path, "set kern.osreldate", "", |st| {
            st.osreldate = osreldate;
            Ok(())
        })
    }

    /// Change a file-backed host outside any system call.
    fn admin(
        path: &Path,
        op: &'static str,
        target: &str,
        f: impl FnOnce(&mut HostState) -> Result<(), Errno>,
    ) -> Result<(), KernelError> {
        let mut st = persist::load(path)?;
        f(&mut st).map_err(|errno| KernelError::Os {
            op,
            target: target.to_string(),
            errno,
        })?;
        persist::save(path, &st)
    }

    /// The state file (for a live host, its name).
    pub fn path(&self) -> &Path {
        match &self.store {
            Store::File(path) => path,
            Store::Live(l) => Path::new(&l.name),
        }
    }

    /// The live host, for the simulator: `None` for a file-backed one.
    pub(crate) fn live_mut(&mut self) -> Option<&mut live::Live> {
        match &mut self.store {
            Store::File(_) => None,
            Store::Live(l) => Some(l),
        }
    }

    /// Run one system call against the current state. A file-backed host
    /// holds its per-call lock (`PATH.lock`, [`persist::lock`]) from the
    /// load to the save, so that concurrent processes never lose each
    /// other's changes. A mutating call first counts against an armed
    /// failure (`injected`);
    /// the state file is rewritten only if the state changed. A file that
    /// cannot be read or written is EIO for the caller, with the reason
    /// logged. A live host runs the call on its memory, then acts on what
    /// the kernel did (timers, packets, state changes).
    fn call<T>(
        &mut self,
        mutating: bool,
        f: impl FnOnce(&mut HostState, Option<Errno>, &mut Vec<Event>) -> T,
    ) -> Result<T, Errno> {
        let path = match &mut self.store {
            Store::Live(l) => return Ok(l.syscall(mutating, |st, ev| f(st, None, ev))),
            Store::File(path) => path,
        };
        let eio = |e: KernelError| {
            tracing::error!("{e}");
            Errno::EIO
        };
        let _lock = persist::lock(path, mutating).map_err(eio)?;
        let before = persist::load(path).map_err(eio)?;
        let injected = if mutating {
            persist::consume(path).map_err(eio)?
        } else {
            None
        };
        let mut st = before.clone();
        let mut events = Vec::new();
        let out = f(&mut st, injected, &mut events);
        for e in events.iter().filter(|e| e.is_log()) {
            tracing::debug!(target: "carpctl::emulated", "{e}");
        }
        if st != before {
            persist::save(path, &st).map_err(eio)?;
        }
        Ok(out)
    }
}

impl Syscalls for EmulatedHost {
    fn ioctl(
        &mut self,
        request: u64,
        arg: &mut [u8],
        data: Option<&mut [u8]>,
    ) -> Result<(), Errno> {
        self.call(
            ioctl::is_mutating(request),
            |st, injected, ev| match injected {
                Some(errno) => Err(errno),
                None => ioctl::dispatch(st, request, arg, data, ev),
            },
        )?
    }
    fn netlink_send(&mut self, msg: &[u8]) -> Result<(), Errno> {
        let req = netlink::parse(msg);
        let port = self.port;
        let dgram = self.call(req.is_mutating(), |st, injected, ev| {
            netlink::respond(st, &req, port, injected, ev)
        })?;
        if !dgram.is_empty() {
            self.replies.push_back(dgram);
        }
        Ok(())
    }
    fn netlink_recv(&mut self) -> Result<Vec<u8>, Errno> {
        // A real socket would block; nothing will ever arrive here, so say
        // so instead of hanging.
        self.replies
            .pop_front()
            .ok_or(Errno(carpctl_sys::errno::EAGAIN))
    }
    fn sysctl_get(&mut self, name: &str) -> Result<SysctlValue, Errno> {
        self.call(false, |st, _, _| st.sysctl_get(name))?
    }
    fn sysctl_set_int(&mut self, name: &str, value: i32) -> Result<(), Errno> {
        self.call(true, |st, injected, ev| match injected {
            Some(errno) => Err(errno),
            None => st.sysctl_set_int(name, value, ev),
        })?
    }
    fn modfind(&mut self, module: &str) -> Result<bool, Errno> {
        self.call(false, |st, _, _| st.modfind(module))
    }
    fn kldload(&mut self, file: &str) -> Result<(), Errno> {
        self.call(true, |st, injected, _| match injected {
            Some(errno) => Err(errno),
            None => st.load_module(file),
        })?
    }
    fn getifaddrs(&mut self) -> Result<Vec<RawIfaddr>, Errno> {
        self.call(false, |st, _, _| ifaddrs::encode(st))
    }
    /// `PATH.root`: the emulated host's own file system, which survives
    /// `carpctl emulate reboot` as a disk does. A live host has none.
    fn host_root(&self) -> Option<PathBuf> {
        match &self.store {
            Store::File(path) => {
                let mut s = path.as_os_str().to_owned();
                s.push(".root");
                Some(PathBuf::from(s))
            }
            Store::Live(_) => None,
        }
    }
}

/// Seconds since the Epoch by the host's clock (0 if it is before 1970).
fn wall_clock_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod parity_tests;
#[cfg(test)]
mod tests;
