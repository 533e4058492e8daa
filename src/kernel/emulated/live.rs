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
//!   in `net.inet.carp.stats` as FreeBSD does (reference §11.4);
//! * links go down and up ([`Live::set_link`], `carp_linkstate`), and
//!   sending can fail ([`Live::set_send_error`], `carp_send_ad_error`).
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

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::{Rc, Weak};

use ipnet::IpNet;
use zeroize::Zeroize;

use carpctl_sys::{self as sys, CARP_HEADER_LEN, VRRPV3_HEADER_LEN};

use super::fsm::{self, Af, CarpHeard, Demotion, Event, Parent, VrrpHeard};
use super::state::{HostState, Iface, Naddrs, Softc};
use crate::kernel::Errno;
use crate::model::CarpState;
use crate::wire::{self, CarpAuth, CarpHeader, Encap, MacAddr, VrrpAdvert};

/// What a live host needs besides its [`super::HostSpec`].
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// The node's name, for messages.
    pub name: String,
    /// Seeds `arc4random()` (the random counters while `sc_init_counter`
    /// is set) and the first IPv4 id.
    pub seed: u64,
    /// Hardware addresses of the interfaces, by name (others get zeros).
    pub lladdrs: Vec<(String, [u8; 6])>,
    /// Where prepared HMAC states are shared with other hosts.
    pub auth_pool: Option<Rc<AuthPool>>,
}

/// What a live host did that the world outside it sees, in the order it
/// did it within each list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveOutput {
    /// Frames put on the wire: (interface index, the vhid that sent it,
    /// the bytes). The vhid only helps the simulator find the receivers;
    /// their kernels read it again from the bytes.
    pub frames: Vec<(u16, u8, Vec<u8>)>,
    /// Wake-up requests ([`Event::Wake`]): (interface index, vhid, µs).
    pub wakes: Vec<(u16, u8, u64)>,
    /// State changes ([`Event::State`], also the devd events) and
    /// demotion changes ([`Event::Demotion`]).
    pub events: Vec<Event>,
}

impl LiveOutput {
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty() && self.wakes.is_empty() && self.events.is_empty()
    }

    /// Move everything to the end of `into`'s lists.
    pub fn append_to(&mut self, into: &mut LiveOutput) {
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

/// splitmix64 (Steele, Lea, Flood 2014): a small, fast, deterministic
/// generator; here it stands for `arc4random()`, which only needs to be
/// unpredictable on a real host.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

// ---------------------------------------------------------------------------
// Prepared HMAC states
// ---------------------------------------------------------------------------

/// A prepared HMAC state (`carp_hmac_prepare()`) that remembers its last
/// digest. Its `Debug` shows the vhid only.
pub struct SharedAuth {
    auth: CarpAuth,
    last: Cell<Option<(u64, [u8; 20])>>,
}

impl fmt::Debug for SharedAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedAuth")
            .field("vhid", &self.auth.vhid())
            .finish_non_exhaustive()
    }
}

impl SharedAuth {
    fn new(auth: CarpAuth) -> Self {
        SharedAuth {
            auth,
            last: Cell::new(None),
        }
    }

    /// `carp_hmac_generate()` for `counter`.
    pub fn digest(&self, counter: u64) -> [u8; 20] {
        if let Some((c, md)) = self.last.get()
            && c == counter
        {
            return md;
        }
        let md = self.auth.digest(counter);
        self.last.set(Some((counter, md)));
        md
    }
}

/// What a prepared state depends on: the 20 key bytes, the vhid and the
/// address list in hash order. The key is zeroed when the entry goes.
#[derive(Clone, PartialEq, Eq, Hash)]
struct AuthKey {
    key: [u8; sys::CARP_KEY_LEN],
    vhid: u8,
    v4: Vec<Ipv4Addr>,
    v6: Vec<Ipv6Addr>,
}

impl Drop for AuthKey {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

/// Interned prepared HMAC states, shared by the hosts of one simulation.
#[derive(Default)]
pub struct AuthPool {
    map: RefCell<HashMap<AuthKey, Weak<SharedAuth>>>,
}

impl fmt::Debug for AuthPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthPool")
            .field("entries", &self.map.borrow().len())
            .finish()
    }
}

impl AuthPool {
    pub fn new() -> Self {
        Self::default()
    }

    fn get(&self, key: &[u8; sys::CARP_KEY_LEN], vhid: u8, addrs: &[IpAddr]) -> Rc<SharedAuth> {
        let (v4, v6) = wire::carp::hash_order(addrs);
        let k = AuthKey {
            key: *key,
            vhid,
            v4,
            v6,
        };
        let mut map = self.map.borrow_mut();
        if let Some(rc) = map.get(&k).and_then(Weak::upgrade) {
            return rc;
        }
        let rc = Rc::new(SharedAuth::new(prepare(key, vhid, addrs)));
        if map.len() >= 4096 {
            map.retain(|_, w| w.strong_count() > 0);
        }
        map.insert(k, Rc::downgrade(&rc));
        rc
    }
}

/// `carp_hmac_prepare()`: the key is the 20 stored bytes (NUL padded;
/// HMAC zero-pads a short key the same way, so the NULs change nothing).
fn prepare(key: &[u8; sys::CARP_KEY_LEN], vhid: u8, addrs: &[IpAddr]) -> CarpAuth {
    match CarpAuth::new(key, vhid, addrs) {
        Ok(a) => a,
        // 20 bytes is within CARP_KEY_LEN; CarpAuth::new cannot refuse it.
        Err(_) => unreachable!("a 20-byte key is a valid HMAC key"),
    }
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

/// A live host (see the module documentation).
pub struct Live {
    pub(super) name: String,
    st: HostState,
    rng: SplitMix64,
    ip_id: u16,
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
        let mut rng = SplitMix64::new(opts.seed);
        let ip_id = (rng.next_u64() & 0xffff) as u16;
        Live {
            name: opts.name,
            st,
            rng,
            ip_id,
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
    pub fn set_now(&mut self, now: u64) {
        self.st.now = self.st.now.max(now);
    }

    /// `net.inet.carp.demotion`.
    pub fn demotion(&self) -> i32 {
        self.st.sysctl.demotion
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

    /// The state of one vhid, if it exists.
    pub fn state_of(&self, ifindex: u16, vhid: u8) -> Option<CarpState> {
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
    pub fn output_mut(&mut self) -> &mut LiveOutput {
        &mut self.out
    }

    /// Whether the host did anything since its output was last taken.
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// Move everything the host did since the last call to the end of
    /// `into` (no allocation when `into` has room).
    pub fn drain_output_into(&mut self, into: &mut LiveOutput) {
        self.out.append_to(into);
    }

    /// From now on every packet sent fails with `errno` (`None`: sending
    /// works again): `ip_output()` errors, which `carp_send_ad_error()`
    /// counts towards the send-error demotion.
    pub fn set_send_error(&mut self, errno: Option<Errno>) {
        self.send_error = errno;
    }

    /// The interface's link goes down or up (`if_link_state_change()` →
    /// `carp_linkstate()` → `carp_sc_state()` on each of its vhids).
    pub fn set_link(&mut self, ifname: &str, up: bool) -> Result<(), Errno> {
        let idx = self.st.iface_by_name(ifname).ok_or(Errno::ENXIO)?;
        let want = if up {
            sys::LINK_STATE_UP
        } else {
            sys::LINK_STATE_DOWN
        };
        let mut ev = std::mem::take(&mut self.scratch);
        let now = self.st.now;
        let HostState {
            interfaces, sysctl, ..
        } = &mut self.st;
        let ifc = &mut interfaces[idx];
        if ifc.link_state != want {
            ifc.link_state = want;
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
    pub fn wake(&mut self, ifindex: u16, vhid: u8) {
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
        let now = self.st.now;
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
    /// may queue more), and hand the rest to the caller.
    fn process(&mut self, ev: &mut Vec<Event>) {
        // The common case: a timer re-armed earlier than asked before.
        if let [Event::Wake { ifindex, vhid, at }] = ev[..] {
            self.out.wakes.push((ifindex, vhid, at));
            ev.clear();
            return;
        }
        let mut i = 0;
        while i < ev.len() {
            match ev[i] {
                Event::SendAd { ifindex, vhid } => self.send_ad(ifindex, vhid, ev),
                Event::Announce { ifindex, vhid } => self.announce(ifindex, vhid),
                Event::SendAdAll => self.send_ad_all(ev),
                _ => {}
            }
            i += 1;
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
        let now = self.st.now;
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
            let id = self.ip_id;
            self.ip_id = self.ip_id.wrapping_add(1);
            let encap = Encap::multicast(src, mac).with_dscp(dscp).with_ip_id(id);
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
                    VrrpAdvert::new(vhid, sc.vrrp_priority, sc.vrrp_adv_inter, addrs)
                        .and_then(|adv| wire::vrrp_frame(&adv, &encap))
                }
            };
            frames.push((af, frame));
        }
        let send_error = self.send_error;
        let now = self.st.now;
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
                fsm::send_result(p, sc, sysctl, result, ev)
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

    /// A frame arrived on interface `ifindex` (at [`Live::now`]):
    /// `ether_input` → `ip_input`/`ip6_input` → `carp_input`/`carp6_input`
    /// → `carp_input_c`/`vrrp_input_c`, with FreeBSD's checks in FreeBSD's
    /// order (reference §11.4; MAIN, and 13.x's order on a 13 host).
    /// Frames that are not CARP/VRRP (ARP, NA) are not carp(4)'s business.
    pub fn receive(&mut self, ifindex: u16, frame: &[u8]) {
        self.receive_inbound(ifindex, &Inbound::parse(frame));
    }

    /// [`Live::receive`] of a frame already parsed by [`Inbound::parse`]
    /// (the simulator parses a frame once for all the hosts it reaches:
    /// the parse is a function of the bytes; every check that depends on
    /// the receiving host is made here, in order, per host).
    pub fn receive_inbound(&mut self, ifindex: u16, inb: &Inbound<'_>) {
        let Some(ip) = &inb.ip else {
            return;
        };
        self.rebuild_index();
        let Some(ii) = self.index_of(ifindex) else {
            return;
        };
        let v6 = ip.v6;
        let af = if v6 { Af::Inet6 } else { Af::Inet };
        let ttl = ip.ttl;
        let payload = ip.payload;
        let st = &mut self.st;
        if v6 {
            st.stats.ipackets6 += 1;
        } else {
            st.stats.ipackets += 1;
        }
        if st.sysctl.allow == 0 {
            return;
        }
        let pos = self.index[ii].pos;
        let old = st.flavor.ttl_checked_first();
        if (v6 || old) && !st.interfaces[pos].has_carp() {
            // carp6_input (and 13.x carp_input): the receiving interface
            // must have carp.
            st.stats.badif += 1;
            return;
        }
        if old && ttl != sys::CARP_DFLTTL {
            st.stats.badttl += 1;
            return;
        }
        if payload.len() < VRRPV3_HEADER_LEN {
            st.stats.badlen += 1;
            return;
        }
        let version = payload[0] >> 4;
        let minlen = match version {
            sys::CARP_VERSION_CARP => CARP_HEADER_LEN,
            sys::CARP_VERSION_VRRPV3 if !old => VRRPV3_HEADER_LEN,
            _ => {
                st.stats.badver += 1;
                return;
            }
        };
        if payload.len() < minlen {
            st.stats.badlen += 1;
            return;
        }
        if version == sys::CARP_VERSION_VRRPV3 {
            self.vrrp_input(ii, payload, ip.src(), ip.dst(), ttl, af);
            return;
        }
        // CARP: the checksum over the whole IP payload (IPv4) or exactly
        // the 36-byte header (IPv6).
        if !inb.carp_sum_ok {
            st.stats.badsum += 1;
            return;
        }
        let Some(ch) = &inb.carp else {
            st.stats.badlen += 1;
            return;
        };
        // carp_find_ifa(): an address of this family with this vhid on the
        // receiving interface. (vhid 0 from one of our own addresses is a
        // loop, badif; no softc has vhid 0, so it is badvhid otherwise.)
        let entry = &mut self.index[ii];
        let vh = &mut entry.vh[usize::from(ch.vhid)];
        let (slot, n) = (vh.slot, vh.n);
        if ch.vhid == 0 || slot == 0 || lacks_family(n, af) {
            if ch.vhid == 0 && is_own_address(&st.interfaces[pos], ip.src()) {
                st.stats.badif += 1;
            } else {
                st.stats.badvhid += 1;
            }
            return;
        }
        let si = usize::from(slot - 1);
        if vh.vrrp {
            st.stats.badver += 1;
            return;
        }
        if !old && vh.mcast[af as usize] && ttl != sys::CARP_DFLTTL {
            st.stats.badttl += 1;
            return;
        }
        let ifc = &mut st.interfaces[pos];
        let sc = &ifc.vhids[si];
        // carp_hmac_verify(), with the state carp_hmac_prepare() made.
        let auth = vh
            .auth
            .get_or_insert_with(|| self.pool.get(&sc.key.0, sc.vhid, &vhid_addrs(ifc, sc.vhid)));
        if auth.digest(ch.counter) != ch.md {
            st.stats.badauth += 1;
            return;
        }
        let d = Demotion {
            value: st.sysctl.demotion,
            clamp_low: st.flavor.demote_clamps_low(),
        };
        let now = st.now;
        let heard = CarpHeard {
            advbase: ch.advbase,
            advskew: ch.advskew,
            counter: ch.counter,
        };
        let mut ev = std::mem::take(&mut self.scratch);
        let sysctl = &st.sysctl;
        with_parent(ifc, si, now, n, |p, sc, n| {
            fsm::carp_input(p, sc, n, sysctl, d, heard, af, &mut ev)
        });
        if !ev.is_empty() {
            self.process(&mut ev);
        }
        self.scratch = ev;
    }

    /// `vrrp_input_c()` after the version dispatch.
    fn vrrp_input(&mut self, ii: usize, payload: &[u8], src: IpAddr, dst: IpAddr, ttl: u8, af: Af) {
        let st = &mut self.st;
        let vrid = payload[1];
        let entry = &self.index[ii];
        let pos = entry.pos;
        let slot = entry.vh[usize::from(vrid)].slot;
        let n = entry.vh[usize::from(vrid)].n;
        if vrid == 0 || slot == 0 || lacks_family(n, af) {
            if vrid == 0 && is_own_address(&st.interfaces[pos], src) {
                st.stats.badif += 1;
            } else {
                st.stats.badvhid += 1;
            }
            return;
        }
        let si = usize::from(slot - 1);
        if !st.interfaces[pos].vhids[si].is_vrrp() {
            st.stats.badver += 1;
            return;
        }
        if ttl != sys::CARP_DFLTTL {
            st.stats.badttl += 1;
            return;
        }
        if !matches!(wire::vrrp::checksum(payload, src, dst), Ok(0)) {
            st.stats.badsum += 1;
            return;
        }
        let Ok(adv) = VrrpAdvert::parse(payload, af == Af::Inet6) else {
            st.stats.badlen += 1;
            return;
        };
        let now = st.now;
        let mut ev = std::mem::take(&mut self.scratch);
        let heard = VrrpHeard {
            priority: adv.priority,
            max_adver_int: adv.max_adver_int,
        };
        let HostState {
            interfaces, sysctl, ..
        } = st;
        with_parent(&mut interfaces[pos], si, now, n, |p, sc, n| {
            fsm::vrrp_input(p, sc, n, sysctl, heard, af, &mut ev)
        });
        self.process(&mut ev);
        self.scratch = ev;
    }
}

/// A received frame as `ip_input()` / `ip6_input()` hand it to carp(4),
/// parsed once: the IP packet if it is IPv4 (header checksum good) or IPv6
/// with protocol 112, whether its CARP checksum verifies (IPv4: over the
/// whole IP payload; IPv6: over the 36-byte header, reference §11.4), and
/// the CARP header's fields. Which of these matter, and in which order,
/// is for each receiving host to decide ([`Live::receive_inbound`]).
pub struct Inbound<'a> {
    ip: Option<IpIn<'a>>,
    carp_sum_ok: bool,
    carp: Option<CarpIn>,
}

/// The fields of a CARP header `carp_input_c()` reads.
struct CarpIn {
    vhid: u8,
    advskew: u8,
    advbase: u8,
    counter: u64,
    md: [u8; 20],
}

impl<'a> Inbound<'a> {
    pub fn parse(frame: &'a [u8]) -> Self {
        let ip = IpIn::parse(frame);
        let (carp_sum_ok, carp) = match &ip {
            Some(ip) if ip.payload.len() >= CARP_HEADER_LEN && ip.payload[0] >> 4 == 2 => {
                let summed = if ip.v6 {
                    &ip.payload[..CARP_HEADER_LEN]
                } else {
                    ip.payload
                };
                let p = ip.payload;
                let mut counter = [0u8; 8];
                counter.copy_from_slice(&p[8..16]);
                let mut md = [0u8; 20];
                md.copy_from_slice(&p[16..36]);
                (
                    wire::internet_checksum(summed) == 0,
                    Some(CarpIn {
                        vhid: p[1],
                        advskew: p[2],
                        advbase: p[5],
                        counter: u64::from_be_bytes(counter),
                        md,
                    }),
                )
            }
            _ => (false, None),
        };
        Inbound {
            ip,
            carp_sum_ok,
            carp,
        }
    }
}

/// Run `f` on softc `si` of `ifc` with its parent's view at `now` and the
/// address counts `n` (borrowing the interface's name and its softc
/// separately, as `carp.rs` does).
#[inline]
fn with_parent<R>(
    ifc: &mut Iface,
    si: usize,
    now: u64,
    n: Naddrs,
    f: impl FnOnce(Parent<'_>, &mut Softc, Naddrs) -> R,
) -> R {
    let (up, link_up) = (ifc.is_up(), ifc.link_is_up());
    f(
        Parent {
            name: &ifc.name,
            index: ifc.index,
            up,
            link_up,
            now,
        },
        &mut ifc.vhids[si],
        n,
    )
}

/// `carp_best_ifa()` (`ifa_preferred()`): the first address of the family
/// that is not a carp address; else one of a MASTER vhid; else any. An
/// interface without an IPv6 address still has its link-local one on
/// FreeBSD (fe80::/64 with the EUI-64 of its MAC), which is what an IPv6
/// packet would come from.
fn best_ifa(ifc: &Iface, af: Af) -> IpAddr {
    let fam = |a: &&super::state::Addr| a.net.addr().is_ipv6() == (af == Af::Inet6);
    let master = |a: &&super::state::Addr| {
        ifc.find_vhid(i64::from(a.vhid))
            .is_some_and(|si| ifc.vhids[si].state == CarpState::Master)
    };
    let pick = ifc
        .addresses
        .iter()
        .filter(fam)
        .find(|a| a.vhid == 0)
        .or_else(|| ifc.addresses.iter().filter(fam).find(master))
        .or_else(|| ifc.addresses.iter().find(fam))
        .map(|a| a.net.addr());
    match (pick, af) {
        (Some(a), _) => a,
        (None, Af::Inet) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        (None, Af::Inet6) => IpAddr::V6(link_local(ifc.lladdr)),
    }
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

/// What `ip_input()` / `ip6_input()` hand `carp_input()` / `carp6_input()`:
/// an Ethernet frame carrying IPv4 (header checksum verified, as
/// `ip_input()` drops a bad one) or IPv6, protocol / next header 112.
struct IpIn<'a> {
    v6: bool,
    ttl: u8,
    /// The IP header (for the addresses).
    header: &'a [u8],
    payload: &'a [u8],
}

impl<'a> IpIn<'a> {
    fn parse(frame: &'a [u8]) -> Option<Self> {
        let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
        let ip = frame.get(14..)?;
        match ethertype {
            0x0800 => {
                let b0 = *ip.first()?;
                let ihl = usize::from(b0 & 0x0f) * 4;
                if b0 >> 4 != 4 || ihl < 20 {
                    return None;
                }
                let header = ip.get(..ihl)?;
                let total = usize::from(u16::from_be_bytes([header[2], header[3]]));
                if wire::internet_checksum(header) != 0 || header[9] != sys::IPPROTO_CARP {
                    return None;
                }
                Some(IpIn {
                    v6: false,
                    ttl: header[8],
                    header,
                    payload: ip.get(ihl..total)?,
                })
            }
            0x86dd => {
                let header = ip.get(..40)?;
                let plen = usize::from(u16::from_be_bytes([header[4], header[5]]));
                if header[0] >> 4 != 6 || header[6] != sys::IPPROTO_CARP {
                    return None;
                }
                Some(IpIn {
                    v6: true,
                    ttl: header[7],
                    header,
                    payload: ip.get(40..40 + plen)?,
                })
            }
            _ => None,
        }
    }

    fn addr(&self, off: usize) -> IpAddr {
        let h = self.header;
        if self.v6 {
            let mut o = [0u8; 16];
            o.copy_from_slice(&h[off..off + 16]);
            IpAddr::V6(Ipv6Addr::from(o))
        } else {
            IpAddr::V4(Ipv4Addr::new(h[off], h[off + 1], h[off + 2], h[off + 3]))
        }
    }

    fn src(&self) -> IpAddr {
        self.addr(if self.v6 { 8 } else { 12 })
    }

    fn dst(&self) -> IpAddr {
        self.addr(if self.v6 { 24 } else { 16 })
    }
}

/// Whether the vhid has no address of the packet's family on the
/// receiving interface (then `carp_find_ifa()` finds nothing).
fn lacks_family(n: Naddrs, af: Af) -> bool {
    match af {
        Af::Inet => n.v4 == 0,
        Af::Inet6 => n.v6 == 0,
    }
}

/// Whether `src` is one of the interface's own addresses (the loop check
/// of `carp_source_is_self()`).
fn is_own_address(ifc: &Iface, src: IpAddr) -> bool {
    ifc.addresses.iter().any(|a| a.net.addr() == src)
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
