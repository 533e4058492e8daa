//! A live emulated host: the [`HostState`] in memory, with time.
//!
//! The simulator runs one per node. It is configured through the same
//! byte-level [`crate::kernel::freebsd::Syscalls`] seam as a file-backed
//! host (so `apply` runs against it unchanged), and additionally:
//!
//! * time passes: [`Live::set_now`] before every call, and
//!   [`Live::wake`] when a timer asked for it ([`Event::Wake`]);
//! * it sends: advertisements (`carp_send_ad_locked`,
//!   `vrrp_send_ad_locked`), gratuitous ARP and unsolicited NA
//!   (`carp_send_arp`, `carp_send_na`), as real Ethernet frames built with
//!   [`crate::wire`] ([`LiveOutput::frames`]);
//! * it receives: [`Live::receive`] runs `carp_input` / `carp6_input` /
//!   `carp_input_c` / `vrrp_input_c` on a frame, counting every rejection
//!   in `net.inet.carp.stats` as FreeBSD does ([`rx`],
//!   `docs/freebsd-carp.md` §9);
//! * links go down and up ([`Live::set_link`], `carp_linkstate`), and
//!   sending can fail ([`Live::set_send_error`], `carp_send_ad_error`);
//! * a demotion change enqueues the `carp_send_ad_all()` task once: it runs
//!   after the kernel entry that changed the demotion, so a burst of
//!   changes (a link with two vhids going down) makes every MASTER
//!   advertise once (`docs/freebsd-carp.md` §8.4).
//!
//! **HMAC state.** `carp_hmac_prepare()` runs once per (key, vhid, address
//! list): the prepared [`CarpAuth`] is interned in an [`AuthPool`] shared by
//! the hosts of one simulation, so that every softc configured alike holds
//! the same prepared state, which remembers its last digest. A receiver
//! configured like the sender then finds the digest of the counter it
//! verifies already computed (the same function of the same inputs); a
//! receiver with another password or address list has another prepared
//! state, computes another digest, and rejects the packet (`badauth`),
//! exactly as on FreeBSD.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::rc::Rc;

use ipnet::IpNet;

use carpctl_sys as sys;

use super::fsm::{self, Af, Event, Hz, with_parent};
use super::state::{HostState, Iface, Naddrs, Softc};
use crate::kernel::Errno;
use crate::model::CarpState;
use crate::wire::{self, CarpHeader, Encap, MacAddr, VrrpAdvert};

mod auth;
mod rx;

pub(super) use auth::SharedAuth;
pub use auth::{AuthPool, SplitMix64};
pub use rx::Inbound;

/// What a live host needs besides its [`super::HostSpec`].
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// The node's name, for messages.
    pub name: String,
    /// Seeds `arc4random()` (the random counters while `sc_init_counter`
    /// is set).
    pub seed: u64,
    /// `kern.hz` and the phase of the host's ticks.
    pub(crate) hz: Hz,
    /// Hardware addresses of the interfaces, by name (others get zeros).
    pub(crate) lladdrs: Vec<(String, [u8; 6])>,
    /// Where prepared HMAC states are shared with other hosts.
    pub(crate) auth_pool: Option<Rc<AuthPool>>,
}

/// What a live host did that the world outside it sees, in the order it
/// did it within each list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveOutput {
    /// Frames put on the wire: (interface index, the vhid that sent it,
    /// the bytes). The vhid is for messages and tests: receivers read
    /// everything from the bytes.
    pub frames: Vec<(u16, u8, Vec<u8>)>,
    /// Wake-up requests ([`Event::Wake`]): (interface index, vhid, µs).
    pub(crate) wakes: Vec<(u16, u8, u64)>,
    /// State changes ([`Event::State`], also the devd events) and
    /// demotion changes ([`Event::Demotion`]).
    pub events: Vec<Event>,
}

impl LiveOutput {
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty() && self.wakes.is_empty() && self.events.is_empty()
    }

    /// Move everything to the end of `into`'s lists.
    pub(crate) fn append_to(&mut self, into: &mut LiveOutput) {
        into.frames.append(&mut self.frames);
        into.wakes.append(&mut self.wakes);
        into.events.append(&mut self.events);
    }
}

/// One vhid of a live host, as the simulator looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveVhid {
    pub ifindex: u16,
    pub ifname: String,
    pub vhid: u8,
    pub state: CarpState,
    pub advbase: i32,
    pub advskew: i32,
    pub vrrp: bool,
    /// The vhid's addresses, in interface order.
    pub addresses: Vec<IpNet>,
}

// ---------------------------------------------------------------------------
// The live host
// ---------------------------------------------------------------------------

/// Per interface, per vhid: what receiving needs, in one place (one cache
/// line per packet). Rebuilt after every configuration change.
struct IfIndex {
    ifindex: u16,
    /// Position in `HostState::interfaces`.
    pos: usize,
    /// Indexed by vhid.
    vh: Vec<VhidIdx>,
}

#[derive(Clone, Default)]
struct VhidIdx {
    /// Softc position + 1; 0 = no such vhid (`carp_find_ifa()` in O(1)).
    slot: u8,
    /// The softc is VRRPv3 (`sc_version`).
    vrrp: bool,
    /// Its destination is multicast, per family (`sc_carpaddr`,
    /// `sc_carpaddr6`): only then must TTL be 255 (14 and later).
    mcast: [bool; 2],
    /// The vhid's address counts on this interface (what `carp_find_ifa()`
    /// really looks for: an address of the packet's family).
    n: Naddrs,
    /// The prepared HMAC state, filled on first use.
    auth: Option<Rc<SharedAuth>>,
}

/// How many times the `carp_send_ad_all()` task may run for one kernel
/// entry. Each run after the first needs a demotion change made by the
/// previous run's sends (the third send error of a vhid, or its third
/// success after errors), so a real run count is far below it.
const MAX_SENDALL_RUNS: u32 = 8;

/// A live host (see the module documentation).
pub struct Live {
    pub(super) name: String,
    st: HostState,
    rng: SplitMix64,
    send_error: Option<Errno>,
    /// Bumped by every configuration change; prepared states and the
    /// lookup index older than it are rebuilt.
    generation: u64,
    index: Vec<IfIndex>,
    index_gen: u64,
    pool: Rc<AuthPool>,
    scratch: Vec<Event>,
    out: LiveOutput,
}

impl fmt::Debug for Live {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Live")
            .field("name", &self.name)
            .field("now", &self.st.now)
            .finish_non_exhaustive()
    }
}

impl Live {
    pub(super) fn new(mut st: HostState, opts: LiveOptions) -> Self {
        for (name, mac) in &opts.lladdrs {
            if let Some(i) = st.iface_by_name(name) {
                st.interfaces[i].lladdr = *mac;
            }
        }
        st.hz = opts.hz;
        Live {
            name: opts.name,
            st,
            rng: SplitMix64::new(opts.seed),
            send_error: None,
            generation: 1,
            index: Vec::new(),
            index_gen: 0,
            pool: opts.auth_pool.unwrap_or_default(),
            scratch: Vec::new(),
            out: LiveOutput::default(),
        }
    }

    /// Virtual time, microseconds.
    pub fn now(&self) -> u64 {
        self.st.now
    }

    /// Let time pass (it never goes back).
    pub(crate) fn set_now(&mut self, now: u64) {
        self.st.now = self.st.now.max(now);
    }

    /// `net.inet.carp.demotion`.
    pub fn demotion(&self) -> i32 {
        self.st.sysctl.demotion
    }

    /// `net.inet.carp.allow`.
    pub(crate) fn allow(&self) -> i32 {
        self.st.sysctl.allow
    }

    /// `net.inet.carp.preempt`.
    pub fn preempt(&self) -> i32 {
        self.st.sysctl.preempt
    }

    /// The interface index of `name`.
    pub fn ifindex(&self, name: &str) -> Option<u16> {
        self.st
            .iface_by_name(name)
            .map(|i| self.st.interfaces[i].index)
    }

    /// Every vhid, in interface order.
    pub fn vhids(&self) -> Vec<LiveVhid> {
        let mut out = Vec::new();
        for ifc in &self.st.interfaces {
            for sc in &ifc.vhids {
                out.push(LiveVhid {
                    ifindex: ifc.index,
                    ifname: ifc.name.clone(),
                    vhid: sc.vhid,
                    state: sc.state,
                    advbase: sc.advbase,
                    advskew: sc.advskew,
                    vrrp: sc.is_vrrp(),
                    addresses: ifc
                        .addresses
                        .iter()
                        .filter(|a| a.vhid == sc.vhid)
                        .map(|a| a.net)
                        .collect(),
                });
            }
        }
        out
    }

    /// Whether interface `ifindex` has carp addresses of each family
    /// (IPv4, IPv6): `cif_naddrs`, `cif_naddrs6`, which decide whether it
    /// joined 224.0.0.18 and ff02::12 (`carp_multicast_setup()`).
    pub(crate) fn carp_families(&self, ifindex: u16) -> (bool, bool) {
        let Some(ifc) = self.st.interfaces.iter().find(|i| i.index == ifindex) else {
            return (false, false);
        };
        let carp = ifc.addresses.iter().filter(|a| a.vhid != 0);
        let (mut v4, mut v6) = (false, false);
        for a in carp {
            match a.net {
                IpNet::V4(_) => v4 = true,
                IpNet::V6(_) => v6 = true,
            }
        }
        (v4, v6)
    }

    /// The state of one vhid, if it exists.
    pub(crate) fn state_of(&self, ifindex: u16, vhid: u8) -> Option<CarpState> {
        self.st
            .interfaces
            .iter()
            .find(|i| i.index == ifindex)
            .and_then(|i| i.find_vhid(i64::from(vhid)))
            .and_then(|si| {
                self.st
                    .interfaces
                    .iter()
                    .find(|i| i.index == ifindex)
                    .map(|i| i.vhids[si].state)
            })
    }

    /// `net.inet.carp.stats` as the kernel counts them.
    pub fn stats(&self) -> &super::state::Stats {
        &self.st.stats
    }

    /// Everything the host did since the last call.
    pub fn take_output(&mut self) -> LiveOutput {
        std::mem::take(&mut self.out)
    }

    /// What the host did since its output was last taken, to take from
    /// in place.
    pub(crate) fn output_mut(&mut self) -> &mut LiveOutput {
        &mut self.out
    }

    /// Whether the host did anything since its output was last taken.
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// Move everything the host did since the last call to the end of
    /// `into` (no allocation when `into` has room).
    pub(crate) fn drain_output_into(&mut self, into: &mut LiveOutput) {
        self.out.append_to(into);
    }

    /// From now on every packet sent fails with `errno` (`None`: sending
    /// works again): `ip_output()` errors, which `carp_send_ad_error()`
    /// counts towards the send-error demotion.
    pub(crate) fn set_send_error(&mut self, errno: Option<Errno>) {
        self.send_error = errno;
    }

    /// The interface's link goes down or up (`if_link_state_change()` →
    /// `do_link_state_change()` → `carp_linkstate()` → `carp_sc_state()`
    /// on each of its vhids).
    pub(crate) fn set_link(&mut self, ifname: &str, up: bool) -> Result<(), Errno> {
        let want = if up {
            sys::LINK_STATE_UP
        } else {
            sys::LINK_STATE_DOWN
        };
        self.parent_changes(ifname, |ifc| {
            let changed = ifc.link_state != want;
            ifc.link_state = want;
            changed
        })
    }

    /// `ifconfig IF down` / `up`: `IFF_UP` is cleared or set
    /// (`if_down()` → `if_unroute()`, `if_up()` → `if_route()`, net/if.c
    /// @ ba0fe1dd's era), which call the same `carp_linkstate()` as a link
    /// change: `carp_sc_state()` sees `!(if_flags & IFF_UP)` exactly as it
    /// sees a link that is not `LINK_STATE_UP` (INIT, the ifdown
    /// demotion). What differs is outside carp(4): the link stays up, and
    /// an interface that is down neither sends nor receives.
    pub(crate) fn set_admin(&mut self, ifname: &str, up: bool) -> Result<(), Errno> {
        self.parent_changes(ifname, |ifc| {
            let was = ifc.flags;
            if up {
                ifc.flags |= sys::IFF_UP;
            } else {
                ifc.flags &= !sys::IFF_UP;
            }
            ifc.flags != was
        })
    }

    /// `change` on interface `ifname`; when it changed something,
    /// `carp_linkstate()`: `carp_sc_state()` on each of its vhids.
    fn parent_changes(
        &mut self,
        ifname: &str,
        change: impl FnOnce(&mut Iface) -> bool,
    ) -> Result<(), Errno> {
        let idx = self.st.iface_by_name(ifname).ok_or(Errno::ENXIO)?;
        let mut ev = std::mem::take(&mut self.scratch);
        let now = (self.st.now, self.st.hz);
        let HostState {
            interfaces, sysctl, ..
        } = &mut self.st;
        let ifc = &mut interfaces[idx];
        if change(ifc) {
            for si in 0..ifc.vhids.len() {
                let n = ifc.naddrs_by_family(ifc.vhids[si].vhid);
                with_parent(ifc, si, now, n, |p, sc, n| {
                    fsm::sc_state(p, sc, n, sysctl, &mut ev)
                });
            }
        }
        self.process(&mut ev);
        self.scratch = ev;
        Ok(())
    }

    /// A system call through the seam: run it, then act on what the
    /// kernel did.
    pub(super) fn syscall<T>(
        &mut self,
        mutating: bool,
        f: impl FnOnce(&mut HostState, &mut Vec<Event>) -> T,
    ) -> T {
        let mut ev = std::mem::take(&mut self.scratch);
        let out = f(&mut self.st, &mut ev);
        if mutating {
            self.generation += 1;
        }
        self.process(&mut ev);
        self.scratch = ev;
        out
    }

    /// A wake-up requested by [`Event::Wake`] for this vhid arrived (at
    /// [`Live::now`]). Stale wake-ups (the vhid is gone, or its timers
    /// moved) are harmless.
    pub(crate) fn wake(&mut self, ifindex: u16, vhid: u8) {
        self.rebuild_index();
        let Some(entry) = self.index_of(ifindex).map(|ii| &self.index[ii]) else {
            return;
        };
        let slot = entry.vh[usize::from(vhid)].slot;
        if slot == 0 {
            return;
        }
        let (pos, si, n) = (
            entry.pos,
            usize::from(slot - 1),
            entry.vh[usize::from(vhid)].n,
        );
        let now = (self.st.now, self.st.hz);
        let d = self.st.demotion();
        let allow = self.st.sysctl.allow;
        let mut ev = std::mem::take(&mut self.scratch);
        with_parent(&mut self.st.interfaces[pos], si, now, n, |p, sc, n| {
            fsm::timeout(p, sc, n, allow, d, &mut ev)
        });
        self.process(&mut ev);
        self.scratch = ev;
    }

    /// Act on the kernel's events in order: send what is to be sent (which
    /// may queue more), and hand the rest to the caller. The
    /// `carp_send_ad_all()` task runs once, after everything else this
    /// kernel entry did: `taskqueue_enqueue()` of a task already pending
    /// only counts it (`ta_pending`), so every [`Event::SendAdAll`] of a
    /// burst is one run. A run whose sends change the demotion again
    /// (a third send error) enqueues it once more, as on FreeBSD, where
    /// the task is no longer pending while it runs; that can happen only a
    /// bounded number of times, and [`MAX_SENDALL_RUNS`] makes the bound
    /// explicit.
    fn process(&mut self, ev: &mut Vec<Event>) {
        // The common case: a timer re-armed earlier than asked before.
        if let [Event::Wake { ifindex, vhid, at }] = ev[..] {
            self.out.wakes.push((ifindex, vhid, at));
            ev.clear();
            return;
        }
        let mut i = 0;
        let mut runs = 0;
        loop {
            let mut sendall = false;
            while i < ev.len() {
                match ev[i] {
                    Event::SendAd { ifindex, vhid } => self.send_ad(ifindex, vhid, ev),
                    Event::Announce { ifindex, vhid } => self.announce(ifindex, vhid),
                    Event::SendAdAll => sendall = true,
                    _ => {}
                }
                i += 1;
            }
            if !sendall || runs == MAX_SENDALL_RUNS {
                break;
            }
            runs += 1;
            self.send_ad_all(ev);
        }
        for e in ev.drain(..) {
            match e {
                Event::Wake { ifindex, vhid, at } => self.out.wakes.push((ifindex, vhid, at)),
                Event::State { .. } | Event::Demotion { .. } => self.out.events.push(e),
                Event::SendAd { .. } | Event::Announce { .. } | Event::SendAdAll => {}
            }
        }
    }

    /// `carp_send_ad_all()`: every MASTER vhid advertises now.
    fn send_ad_all(&mut self, ev: &mut Vec<Event>) {
        let now = (self.st.now, self.st.hz);
        let d = self.st.demotion();
        for ifc in &mut self.st.interfaces {
            for si in 0..ifc.vhids.len() {
                if ifc.vhids[si].state == CarpState::Master {
                    with_parent(ifc, si, now, Naddrs::default(), |p, sc, _| {
                        fsm::send_ad(p, sc, d, ev)
                    });
                }
            }
        }
    }

    /// The interface position, softc position and address counts of a
    /// vhid, from the index.
    fn find(&mut self, ifindex: u16, vhid: u8) -> Option<(usize, usize, Naddrs)> {
        self.rebuild_index();
        let entry = &self.index[self.index_of(ifindex)?];
        let vh = &entry.vh[usize::from(vhid)];
        let si = usize::from(vh.slot.checked_sub(1)?);
        Some((entry.pos, si, vh.n))
    }

    /// The prepared HMAC state of a softc (`carp_hmac_prepare()`), prepared
    /// again after any configuration change.
    fn auth_of(&mut self, idx: usize, si: usize) -> Rc<SharedAuth> {
        self.rebuild_index();
        let ifc = &self.st.interfaces[idx];
        let sc = &ifc.vhids[si];
        let Some(entry) = self.index.iter_mut().find(|e| e.pos == idx) else {
            return self.pool.get(&sc.key.0, sc.vhid, &vhid_addrs(ifc, sc.vhid));
        };
        let slot = &mut entry.vh[usize::from(sc.vhid)].auth;
        if let Some(a) = slot {
            return Rc::clone(a);
        }
        let a = self.pool.get(&sc.key.0, sc.vhid, &vhid_addrs(ifc, sc.vhid));
        *slot = Some(Rc::clone(&a));
        a
    }

    /// [`Live::auth_of`] of vhid `vhid`, found at index entry `ii` as `f`:
    /// the softc is read only when its prepared state is not cached yet.
    fn auth_at(&mut self, ii: usize, vhid: u8, f: rx::Found) -> &SharedAuth {
        let Live {
            index, st, pool, ..
        } = self;
        index[ii].vh[usize::from(vhid)].auth.get_or_insert_with(|| {
            let ifc = &st.interfaces[f.pos];
            let sc = &ifc.vhids[f.si];
            pool.get(&sc.key.0, sc.vhid, &vhid_addrs(ifc, sc.vhid))
        })
    }

    /// `carp_send_ad_locked()` / `vrrp_send_ad_locked()`: one packet per
    /// family that has addresses, IPv4 first, each counted and its
    /// outcome given to `carp_send_ad_error()`.
    fn send_ad(&mut self, ifindex: u16, vhid: u8, ev: &mut Vec<Event>) {
        let Some((idx, si, n)) = self.find(ifindex, vhid) else {
            return;
        };
        let d = self.st.demotion();
        let auth = (!self.st.interfaces[idx].vhids[si].is_vrrp()).then(|| self.auth_of(idx, si));
        let ifc = &self.st.interfaces[idx];
        let sc = &ifc.vhids[si];
        let dscp = u8::try_from(self.st.sysctl.dscp).unwrap_or(sys::CARP_DFLTDSCP as u8);
        let mac = MacAddr(ifc.lladdr);
        let mut frames: Vec<(Af, Result<Vec<u8>, wire::WireError>)> = Vec::new();
        let mut counter = sc.run.counter;
        let init = sc.run.init_counter;
        for af in [Af::Inet, Af::Inet6] {
            let count = if af == Af::Inet { n.v4 } else { n.v6 };
            if count == 0 {
                continue;
            }
            let src = best_ifa(ifc, af);
            // ip_fillid(): DF is set, so with net.inet.ip.rfc6864=1 the
            // IPv4 id is 0 (docs/freebsd-carp.md §10.1).
            let encap = Encap::multicast(src, mac).with_dscp(dscp);
            let frame = match &auth {
                Some(auth) => {
                    // carp_prepare_ad(): a random counter until a peer's
                    // ad was accepted, then one more per packet.
                    counter = if init {
                        self.rng.next_u64()
                    } else {
                        counter.wrapping_add(1)
                    };
                    // DEMOTE_ADVSKEW into u_int8_t carp_advskew: on 13.x a
                    // negative demoted skew wraps (-1 is sent as 255).
                    let advskew = d.skew(sc.advskew) as u8;
                    let advbase = u8::try_from(sc.advbase).unwrap_or(u8::MAX);
                    let md = auth.digest(counter);
                    let h = CarpHeader::advertisement(vhid, advbase, advskew, counter, md);
                    let encap = unicast_peer(sc, af).map_or(encap, |peer| Encap {
                        peer: Some((peer, MacAddr::BROADCAST)),
                        ..encap
                    });
                    wire::carp_frame(&h, &encap)
                }
                None => {
                    let addrs: Vec<IpAddr> = ifc
                        .addresses
                        .iter()
                        .filter(|a| a.vhid == vhid && (a.net.addr().is_ipv6() == (af == Af::Inet6)))
                        .map(|a| a.net.addr())
                        .collect();
                    let prio = d.vrrp_prio(sc.vrrp_priority);
                    VrrpAdvert::new(vhid, prio, sc.vrrp_adv_inter, addrs)
                        .and_then(|adv| wire::vrrp_frame(&adv, &encap))
                }
            };
            frames.push((af, frame));
        }
        let send_error = self.send_error;
        let recovers = self.st.flavor.rules().senderr_recovers;
        let now = (self.st.now, self.st.hz);
        let HostState {
            interfaces,
            sysctl,
            stats,
            ..
        } = &mut self.st;
        let ifc = &mut interfaces[idx];
        if auth.is_some() {
            ifc.vhids[si].run.counter = counter;
        }
        for (af, frame) in frames {
            match af {
                Af::Inet => stats.opackets += 1,
                Af::Inet6 => stats.opackets6 += 1,
            }
            let result = match frame {
                Err(e) => {
                    tracing::debug!("{}: cannot build an advertisement: {e}", self.name);
                    Some(Errno::EINVAL.0)
                }
                Ok(bytes) => match send_error {
                    Some(e) => Some(e.0),
                    None => {
                        self.out.frames.push((ifindex, vhid, bytes));
                        None
                    }
                },
            };
            with_parent(ifc, si, now, n, |p, sc, _| {
                fsm::send_result(p, sc, sysctl, result, recovers, ev)
            });
        }
    }

    /// `carp_send_arp()` and `carp_send_na()`: a gratuitous ARP for each
    /// IPv4 address, an unsolicited NA for each IPv6 address.
    fn announce(&mut self, ifindex: u16, vhid: u8) {
        let Some((idx, _, _)) = self.find(ifindex, vhid) else {
            return;
        };
        let ifc = &self.st.interfaces[idx];
        let vmac = MacAddr::carp_virtual(vhid);
        let if_mac = MacAddr(ifc.lladdr);
        let src6 = best_ifa(ifc, Af::Inet6);
        let mut frames = Vec::new();
        for a in ifc.addresses.iter().filter(|a| a.vhid == vhid) {
            let f = match a.net.addr() {
                IpAddr::V4(v4) => wire::gratuitous_arp_frame(if_mac, vmac, v4),
                IpAddr::V6(v6) => match src6 {
                    IpAddr::V6(src) => wire::unsolicited_na_frame(vmac, src, v6),
                    IpAddr::V4(_) => continue,
                },
            };
            frames.push(f);
        }
        if self.send_error.is_some() {
            return;
        }
        for bytes in frames {
            self.out.frames.push((ifindex, vhid, bytes));
        }
    }

    /// The position of interface `ifindex` in the index: interfaces are
    /// numbered from 1 in order (`HostState::new`), so it is normally
    /// `ifindex - 1`.
    fn index_of(&self, ifindex: u16) -> Option<usize> {
        let guess = usize::from(ifindex).wrapping_sub(1);
        match self.index.get(guess) {
            Some(e) if e.ifindex == ifindex => Some(guess),
            _ => self.index.iter().position(|e| e.ifindex == ifindex),
        }
    }

    fn rebuild_index(&mut self) {
        if self.index_gen == self.generation {
            return;
        }
        self.index.clear();
        for (pos, ifc) in self.st.interfaces.iter().enumerate() {
            let mut vh = vec![VhidIdx::default(); 256];
            for (si, sc) in ifc.vhids.iter().enumerate() {
                let v = &mut vh[usize::from(sc.vhid)];
                v.slot = u8::try_from(si + 1).unwrap_or(0);
                v.vrrp = sc.is_vrrp();
                v.mcast = [sc.peer.is_multicast(), sc.peer6.is_multicast()];
            }
            for a in ifc.addresses.iter().filter(|a| a.vhid != 0) {
                let c = &mut vh[usize::from(a.vhid)].n;
                match a.net {
                    IpNet::V4(_) => c.v4 += 1,
                    IpNet::V6(_) => c.v6 += 1,
                }
            }
            self.index.push(IfIndex {
                ifindex: ifc.index,
                pos,
                vh,
            });
        }
        self.index_gen = self.generation;
    }
}

/// `carp_best_ifa()` (`ifa_preferred()`): the first address of the family
/// in interface order that is not a carp address; else one of a MASTER
/// vhid; else any (`docs/freebsd-carp.md` §10.1). For IPv6 that is the
/// link-local address: the kernel configures it (`in6_ifattach()`,
/// fe80::/64 with the EUI-64 of the MAC, unless one was given) when IPv6
/// comes up on the interface, before any address from rc.conf, so it
/// heads the list.
fn best_ifa(ifc: &Iface, af: Af) -> IpAddr {
    if af == Af::Inet6 {
        let given = ifc.addresses.iter().find_map(|a| match a.net.addr() {
            IpAddr::V6(v6) if a.vhid == 0 && v6.is_unicast_link_local() => Some(v6),
            _ => None,
        });
        return IpAddr::V6(given.unwrap_or_else(|| link_local(ifc.lladdr)));
    }
    let fam = |a: &&super::state::Addr| a.net.addr().is_ipv4();
    let master = |a: &&super::state::Addr| {
        ifc.find_vhid(i64::from(a.vhid))
            .is_some_and(|si| ifc.vhids[si].state == CarpState::Master)
    };
    ifc.addresses
        .iter()
        .filter(fam)
        .find(|a| a.vhid == 0)
        .or_else(|| ifc.addresses.iter().filter(fam).find(master))
        .or_else(|| ifc.addresses.iter().find(fam))
        .map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |a| {
            a.net.addr()
        })
}

/// fe80::/64 with the modified EUI-64 of `mac` (RFC 4291 appendix A).
fn link_local(mac: [u8; 6]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o[0] = 0xfe;
    o[1] = 0x80;
    o[8] = mac[0] ^ 0x02;
    o[9] = mac[1];
    o[10] = mac[2];
    o[11] = 0xff;
    o[12] = 0xfe;
    o[13] = mac[3];
    o[14] = mac[4];
    o[15] = mac[5];
    Ipv6Addr::from(o)
}

/// The unicast peer of a vhid for a family, if one is set (`peer` /
/// `peer6` instead of the group).
fn unicast_peer(sc: &Softc, af: Af) -> Option<IpAddr> {
    match af {
        Af::Inet => (!sc.peer.is_multicast()).then_some(IpAddr::V4(sc.peer)),
        Af::Inet6 => (!sc.peer6.is_multicast()).then_some(IpAddr::V6(sc.peer6)),
    }
}

/// The addresses of a vhid, in interface order.
fn vhid_addrs(ifc: &Iface, vhid: u8) -> Vec<IpAddr> {
    ifc.addresses
        .iter()
        .filter(|a| a.vhid == vhid)
        .map(|a| a.net.addr())
        .collect()
}

#[cfg(test)]
mod tests;
