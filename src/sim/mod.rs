//! `carpctl simulate`: a cluster of emulated FreeBSD hosts on a virtual
//! Ethernet segment, with clients, faults and a verdict.
//!
//! * [`scenario`]: the scenario file (carpctl.scenario(5)).
//! * [`report`]: what a run found, and the three verdicts.
//! * this module: the discrete-event engine.
//!
//! **Nodes.** Each node is a live emulated host
//! ([`crate::kernel::emulated::EmulatedHost::live`]) behind the same
//! [`FreeBsdKernel`] a real node uses, and boots by running the same
//! `apply` (`config::desired_state`, `apply::plan_changes`,
//! `apply::execute`). The carp(4) state machine, its timers, the
//! advertisements and their validation are the emulated kernel's; this
//! module only moves frames and keeps time.
//!
//! **Time** is integer microseconds. Events are processed in time order,
//! ties in the order they were scheduled, so a run is a pure function of
//! the scenario (and its `seed`, which drives the random counters, the
//! packet loss and the clients' timing).
//!
//! **The segment** delivers each advertisement, after the segment's
//! latency, to every other node that has the vhid on an interface of the
//! same segment (the nodes without it would only count `badvhid`), unless
//! a partition separates them, a link is down, or the frame is lost. An
//! interface belongs to the segment of its logical name in the cluster file
//! (`lan = "em0"`), or of its own name when unmapped.
//!
//! **Clients** send requests to every address of every VIP at a fixed rate
//! (`[clients] rate`, each address with its own phase from the seed). Their
//! ARP and neighbour caches map a VIP to its virtual MAC
//! `00:00:5e:00:01:<vhid>` (what the gratuitous ARP and unsolicited NA of a
//! takeover announce, and what the MASTER answers), and the switch sends
//! that MAC to the port where it last saw it as a source address: the
//! MASTER's advertisements and neighbour advertisements carry it. A request
//! is answered iff the node on that port is up, its interface's link is up
//! and it is MASTER of the vhid. Requests are counted analytically over the
//! intervals during which a VIP is not answered, not simulated one by one.

pub mod report;
pub mod scenario;
pub mod sched;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::Duration;

use crate::apply;
use crate::config;
use crate::kernel::emulated::{
    AuthPool, EmulatedHost, Event, HostSpec, IfaceSpec, Inbound, Live, LiveOptions, LiveOutput,
    SplitMix64,
};
use crate::kernel::freebsd::FreeBsdKernel;
use crate::kernel::{Errno, Kernel};
use crate::model::{CarpState, DemotionDelta, Key};
use crate::wire::PcapSink;

pub use report::{Report, Requirements};
pub use scenario::{Action, Scenario};

use report::{
    DemotionChange, DualMaster, EventRecord, FailoverVerdict, Held, LoadVerdict, Name, NodeReport,
    NodeStats, Outage, RebalanceVerdict, Transition, UNNOTICED_MAX_S, VipReport,
};

/// Where the frames of the segment go (the `--pcap` capture).
pub trait FrameSink {
    /// A frame put on the segment at `at` µs of virtual time.
    fn frame(&mut self, at: u64, bytes: &[u8]) -> Result<(), String>;
}

impl<W: Write> FrameSink for PcapSink<W> {
    fn frame(&mut self, at: u64, bytes: &[u8]) -> Result<(), String> {
        self.write(Duration::from_micros(at), bytes)
            .map_err(|e| e.to_string())
    }
}

/// A simulation that could not go on.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A node could not boot or apply: the message says what failed.
    #[error("node {node} at {time:.3} s: {what}")]
    Node {
        node: String,
        time: f64,
        what: String,
    },
    /// The capture could not be written.
    #[error("{0}")]
    Capture(String),
}

/// Run `sc` and report. Frames go to `sink` when given.
pub fn run(sc: &Scenario, sink: Option<&mut dyn FrameSink>) -> Result<Report, SimError> {
    let mut sim = Sim::new(sc, sink);
    sim.run()?;
    Ok(sim.report())
}

// ---------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Boot(u32),
    Script(u32),
    Timer {
        node: u32,
        incarnation: u32,
        ifindex: u16,
        vhid: u8,
    },
    Deliver(u32),
}

/// What a frame in flight is, for the segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    /// CARP or VRRPv3: to the other nodes with the vhid.
    Advert,
    /// Gratuitous ARP or unsolicited NA: to the clients.
    Announce,
}

struct InFlight {
    from: usize,
    segment: usize,
    vhid: u8,
    kind: FrameKind,
    bytes: Vec<u8>,
}

struct IfRt {
    name: String,
    label: Name,
    ifindex: u16,
    segment: usize,
    link_up: bool,
}

type Kern = FreeBsdKernel<EmulatedHost>;

struct NodeRt {
    name: String,
    /// The same, shared by the records that name it.
    label: Name,
    spec: HostSpec,
    lladdrs: Vec<(String, [u8; 6])>,
    kernel: Option<Kern>,
    incarnation: u32,
    ifaces: Vec<IfRt>,
    group: usize,
    loss: f64,
    send_error: Option<Errno>,
    maintenance: bool,
    failing: BTreeMap<String, u16>,
    keys: BTreeMap<String, Key>,
    addresses: BTreeMap<String, Vec<ipnet::IpNet>>,
    preempt: Option<bool>,
    /// The last kernel's demotion and stats, kept after a crash.
    last_demotion: i32,
    last_stats: NodeStats,
}

impl NodeRt {
    fn up(&self) -> bool {
        self.kernel.is_some()
    }
}

struct VipRt {
    name: Name,
    vhid: u8,
    advbase: u8,
    addrs: Vec<IpAddr>,
    /// The segments of its members' interfaces.
    segment: Vec<usize>,
    /// Per node: the real interface it uses for this VIP, if it takes part.
    member_if: Vec<Option<usize>>,
    /// Per node: the vhid's state there.
    state: Vec<CarpState>,
    /// The node behind the switch port where the virtual MAC was last
    /// seen as a source.
    port: Option<usize>,
    served: bool,
    unserved_since: Option<u64>,
    /// Per address: the clients' phase, µs.
    phase: Vec<f64>,
    first_served: Option<u64>,
    /// Closed outages: (start, end, requests lost).
    outages: Vec<(u64, u64, u64)>,
    dual: Option<(u64, Vec<usize>)>,
    duals: Vec<(u64, u64, Vec<usize>)>,
    /// Per node: MASTER since.
    held_since: Vec<Option<u64>>,
    /// The nodes MASTER of it (up), as last evaluated.
    masters: Vec<usize>,
    /// When the set of masters or the answering last changed.
    last_change: u64,
}

struct Sim<'a, 's> {
    sc: &'a Scenario,
    now: u64,
    queue: sched::Queue<Kind>,
    flights: Vec<Option<InFlight>>,
    free: Vec<u32>,
    nodes: Vec<NodeRt>,
    vips: Vec<VipRt>,
    /// (node, interface index, vhid) -> VIP.
    vip_of: HashMap<(usize, u16, u8), usize>,
    /// segment × 256 + vhid -> the VIPs there.
    vips_at: Vec<Vec<usize>>,
    /// segment × 256 + vhid -> receivers (node, ifindex).
    receivers: Vec<Rc<[(usize, u16)]>>,
    segments: usize,
    receivers_dirty: bool,
    rng: SplitMix64,
    seg_loss: f64,
    partitioned: bool,
    pool: Rc<AuthPool>,
    sink: Option<&'s mut dyn FrameSink>,
    out: LiveOutput,
    dirty: Vec<usize>,
    is_dirty: Vec<bool>,
    transitions: report::Log<Transition>,
    demotions: Vec<DemotionChange>,
    events: Vec<EventRecord>,
    frames: u64,
    held: Vec<Vec<Held>>,
    /// The layout just before the first fault: per VIP the masters.
    steady: Option<(u64, Vec<Vec<usize>>, Vec<bool>)>,
}

fn to_s(us: u64) -> f64 {
    us as f64 / 1e6
}

impl<'a, 's> Sim<'a, 's> {
    fn new(sc: &'a Scenario, sink: Option<&'s mut dyn FrameSink>) -> Self {
        let cfg = &sc.config;
        // Segments: the logical interface names of the cluster file.
        let mut segments: Vec<String> = Vec::new();
        let seg_id = |name: &str, segments: &mut Vec<String>| -> usize {
            match segments.iter().position(|s| s == name) {
                Some(i) => i,
                None => {
                    segments.push(name.to_string());
                    segments.len() - 1
                }
            }
        };
        let mut nodes = Vec::new();
        for (ni, n) in sc.nodes.iter().enumerate() {
            let cn = cfg.node(&n.name);
            let mut ifaces = Vec::new();
            let mut lladdrs = Vec::new();
            for (i, (ifname, _)) in n.interfaces.iter().enumerate() {
                let logical = cn
                    .and_then(|c| c.interfaces.iter().find(|(_, real)| *real == ifname))
                    .map_or(ifname.as_str(), |(l, _)| l.as_str());
                let segment = seg_id(logical, &mut segments);
                // Locally administered, unique per node and interface.
                let mac = [
                    0x02,
                    0x00,
                    (ni >> 8) as u8,
                    ni as u8,
                    (i >> 8) as u8,
                    i as u8 + 1,
                ];
                lladdrs.push((ifname.clone(), mac));
                ifaces.push(IfRt {
                    name: ifname.clone(),
                    label: Name::new(ifname),
                    // lo0 is 1; the interfaces follow in order (HostState::new).
                    ifindex: u16::try_from(i + 2).unwrap_or(u16::MAX),
                    segment,
                    link_up: true,
                });
            }
            nodes.push(NodeRt {
                name: n.name.clone(),
                label: Name::new(&n.name),
                spec: HostSpec {
                    flavor: sc.flavor,
                    interfaces: n
                        .interfaces
                        .iter()
                        .map(|(name, addrs)| IfaceSpec {
                            name: name.clone(),
                            addresses: addrs.clone(),
                        })
                        .collect(),
                    carp_loaded: true,
                    privileged: true,
                },
                lladdrs,
                kernel: None,
                incarnation: 0,
                ifaces,
                group: 0,
                loss: 0.0,
                send_error: None,
                maintenance: false,
                failing: BTreeMap::new(),
                keys: BTreeMap::new(),
                addresses: BTreeMap::new(),
                preempt: None,
                last_demotion: 0,
                last_stats: NodeStats::default(),
            });
        }
        let mut rng = SplitMix64::new(sc.seed ^ 0x6361_7270_6374_6c00);
        let period = 1e6 / sc.clients.rate;
        let mut vips = Vec::new();
        let mut vip_of = HashMap::new();
        for (vi, v) in cfg.vips.iter().enumerate() {
            let member_if: Vec<Option<usize>> = nodes
                .iter()
                .enumerate()
                .map(|(ni, n)| {
                    if !v.takes_part(&n.name) {
                        return None;
                    }
                    let real = cfg.node(&n.name)?.real_interface(&v.interface);
                    let pos = n.ifaces.iter().position(|i| i.name == real)?;
                    vip_of.insert((ni, n.ifaces[pos].ifindex, v.vhid.get()), vi);
                    Some(pos)
                })
                .collect();
            // The segments its members' interfaces are on (normally one:
            // the VIP's logical interface).
            let mut segment: Vec<usize> = member_if
                .iter()
                .enumerate()
                .filter_map(|(ni, pos)| pos.map(|p| nodes[ni].ifaces[p].segment))
                .collect();
            segment.sort_unstable();
            segment.dedup();
            let addrs: Vec<IpAddr> = v.addresses.iter().map(|a| a.addr()).collect();
            let n = nodes.len();
            vips.push(VipRt {
                name: Name::new(&v.name),
                vhid: v.vhid.get(),
                advbase: v.advbase.get(),
                phase: addrs.iter().map(|_| rng.next_f64() * period).collect(),
                addrs,
                segment,
                member_if,
                state: vec![CarpState::Init; n],
                port: None,
                served: false,
                unserved_since: None,
                first_served: None,
                outages: Vec::new(),
                dual: None,
                duals: Vec::new(),
                held_since: vec![None; n],
                masters: Vec::new(),
                last_change: 0,
            });
        }
        let mut vips_at = vec![Vec::new(); segments.len() * 256];
        for (vi, v) in vips.iter().enumerate() {
            for &seg in &v.segment {
                vips_at[seg * 256 + usize::from(v.vhid)].push(vi);
            }
        }
        let nvips = vips.len();
        let nnodes = nodes.len();
        let nsegments = segments.len();
        Sim {
            sc,
            now: 0,
            queue: sched::Queue::new(),
            flights: Vec::new(),
            free: Vec::new(),
            nodes,
            vips,
            vip_of,
            vips_at,
            receivers: Vec::new(),
            segments: nsegments,
            receivers_dirty: true,
            rng,
            seg_loss: 0.0,
            partitioned: false,
            pool: Rc::new(AuthPool::new()),
            sink,
            out: LiveOutput::default(),
            dirty: Vec::new(),
            is_dirty: vec![false; nvips],
            transitions: report::Log::default(),
            demotions: Vec::new(),
            events: Vec::new(),
            frames: 0,
            held: vec![Vec::new(); nnodes],
            steady: None,
        }
    }

    fn push(&mut self, at: u64, kind: Kind) {
        self.queue.push(at, kind);
    }

    fn run(&mut self) -> Result<(), SimError> {
        for (i, n) in self.sc.nodes.iter().enumerate() {
            if n.up {
                self.push(0, Kind::Boot(i as u32));
            }
        }
        for i in 0..self.sc.events.len() {
            self.push(self.sc.events[i].at, Kind::Script(i as u32));
        }
        let end = self.sc.duration;
        while let Some(e) = self.queue.pop() {
            if e.at > end {
                break;
            }
            self.now = e.at;
            match e.kind {
                Kind::Boot(n) => self.boot(n as usize)?,
                Kind::Script(i) => self.script(i as usize)?,
                Kind::Timer {
                    node,
                    incarnation,
                    ifindex,
                    vhid,
                } => {
                    let n = &mut self.nodes[node as usize];
                    if n.incarnation == incarnation
                        && let Some(live) = live(&mut n.kernel)
                    {
                        live.set_now(e.at);
                        live.wake(ifindex, vhid);
                        if !only_wakes(live, &mut self.queue, node, incarnation) {
                            self.drain(node as usize)?;
                        }
                    }
                }
                Kind::Deliver(slot) => self.deliver(slot)?,
            }
            self.flush_dirty();
        }
        self.now = end;
        if self.steady.is_none() {
            self.snapshot();
        }
        Ok(())
    }

    // --- nodes ---------------------------------------------------------------

    fn node_err(&self, node: usize, what: impl Into<String>) -> SimError {
        SimError::Node {
            node: self.nodes[node].name.clone(),
            time: to_s(self.now),
            what: what.into(),
        }
    }

    /// A fresh kernel, links as they are, then the same `apply` a real
    /// node runs at boot, then what carpctl's ledger restores (maintenance,
    /// failing checks).
    fn boot(&mut self, node: usize) -> Result<(), SimError> {
        let now = self.now;
        let seed = self.sc.seed
            ^ (node as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ u64::from(self.nodes[node].incarnation) << 48;
        let n = &mut self.nodes[node];
        let opts = LiveOptions {
            name: n.name.clone(),
            seed,
            lladdrs: n.lladdrs.clone(),
            auth_pool: Some(Rc::clone(&self.pool)),
        };
        let host = EmulatedHost::live(&n.spec, opts).map_err(|e| SimError::Node {
            node: n.name.clone(),
            time: to_s(now),
            what: e.to_string(),
        })?;
        n.kernel = Some(FreeBsdKernel::new(host));
        let send_error = n.send_error;
        let down: Vec<String> = n
            .ifaces
            .iter()
            .filter(|i| !i.link_up)
            .map(|i| i.name.clone())
            .collect();
        if let Some(live) = live(&mut n.kernel) {
            live.set_now(now);
            live.set_send_error(send_error);
            for ifname in &down {
                let _ = live.set_link(ifname, false);
            }
        }
        self.apply(node)?;
        let n = &mut self.nodes[node];
        let mut restore = Vec::new();
        if n.maintenance {
            restore.push(i32::from(carpctl_sys::CARP_MAXSKEW));
        }
        restore.extend(n.failing.values().map(|&w| i32::from(w)));
        for d in restore {
            self.demote(node, d)?;
        }
        self.receivers_dirty = true;
        self.drain(node)
    }

    fn crash(&mut self, node: usize) {
        let n = &mut self.nodes[node];
        if let Some(mut k) = n.kernel.take()
            && let Some(live) = k.syscalls().live_mut()
        {
            n.last_demotion = live.demotion();
            n.last_stats = stats_of(live);
        }
        n.incarnation += 1;
        for v in 0..self.vips.len() {
            self.set_state(v, node, CarpState::Init);
        }
        self.receivers_dirty = true;
    }

    /// `apply` on the node, with its own overrides of the cluster file.
    fn apply(&mut self, node: usize) -> Result<(), SimError> {
        let cfg = &self.sc.config;
        let n = &mut self.nodes[node];
        let Some(kernel) = n.kernel.as_mut() else {
            return Ok(());
        };
        let err = |what: String| what;
        let interfaces = kernel
            .interfaces()
            .map_err(|e| err(format!("cannot list the interfaces: {e}")));
        let result = interfaces.and_then(|ifs| {
            let d = config::desired_state(cfg, &n.name, &ifs).map_err(|diags| {
                diags
                    .iter()
                    .filter(|d| d.is_error())
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
            let mut desired = apply::Desired::try_from(&d)?;
            if let Some(p) = n.preempt {
                desired.preempt = p;
            }
            for v in &mut desired.vhids {
                if let Some(k) = n.keys.get(&v.name) {
                    v.key = Some(k.clone());
                }
                if let Some(a) = n.addresses.get(&v.name) {
                    v.addresses = a.clone();
                }
            }
            let changes =
                apply::plan_changes(kernel, &desired).map_err(|e| format!("apply: {e}"))?;
            apply::execute(kernel, &desired, &changes).map_err(|e| format!("apply: {e}"))
        });
        result.map_err(|what| self.node_err(node, what))?;
        self.receivers_dirty = true;
        self.drain(node)
    }

    fn demote(&mut self, node: usize, by: i32) -> Result<(), SimError> {
        let n = &mut self.nodes[node];
        let Some(kernel) = n.kernel.as_mut() else {
            return Ok(());
        };
        kernel
            .adjust_demotion(DemotionDelta::new(by))
            .map_err(|e| self.node_err(node, format!("demotion {by:+}: {e}")))?;
        self.drain(node)
    }

    // --- the kernel's output -----------------------------------------------------

    fn drain(&mut self, node: usize) -> Result<(), SimError> {
        let mut out = std::mem::take(&mut self.out);
        if let Some(live) = live(&mut self.nodes[node].kernel) {
            live.drain_output_into(&mut out);
        }
        let incarnation = self.nodes[node].incarnation;
        for (ifindex, vhid, at) in out.wakes.drain(..) {
            self.push(
                at,
                Kind::Timer {
                    node: node as u32,
                    incarnation,
                    ifindex,
                    vhid,
                },
            );
        }
        for e in out.events.drain(..) {
            // What the node's syslog and devd would see (`carpctl -vv
            // simulate` shows them).
            tracing::debug!(
                target: "carpctl::sim",
                "{:.6} {}: {e}{}",
                to_s(self.now),
                self.nodes[node].name,
                e.devd().map_or(String::new(), |d| format!("; devd: {}", d.trim_end()))
            );
            match e {
                Event::State {
                    ifname,
                    vhid,
                    from,
                    to,
                    reason,
                } => {
                    let n = &self.nodes[node];
                    let (ifindex, interface) = n
                        .ifaces
                        .iter()
                        .find(|i| i.name == ifname)
                        .map_or((0, Name::new(&ifname)), |i| (i.ifindex, i.label.clone()));
                    let vip = self.vip_of.get(&(node, ifindex, vhid)).copied();
                    self.transitions.push(Transition {
                        time: to_s(self.now),
                        node: n.label.clone(),
                        vhid,
                        interface,
                        vip: vip.map(|v| self.vips[v].name.clone()),
                        from,
                        to,
                        reason,
                    });
                    if let Some(v) = vip {
                        self.set_state(v, node, to);
                    }
                }
                Event::Demotion {
                    delta,
                    total,
                    reason,
                } => self.demotions.push(DemotionChange {
                    time: to_s(self.now),
                    node: self.nodes[node].label.clone(),
                    delta,
                    total,
                    reason: reason.into_owned(),
                }),
                _ => {}
            }
        }
        let mut result = Ok(());
        for (ifindex, vhid, bytes) in out.frames.drain(..) {
            if let Err(e) = self.send(node, ifindex, vhid, bytes) {
                result = Err(e);
            }
        }
        self.out = out;
        result
    }

    /// A frame leaves `node`: captured, and put on the segment.
    fn send(
        &mut self,
        node: usize,
        ifindex: u16,
        vhid: u8,
        bytes: Vec<u8>,
    ) -> Result<(), SimError> {
        self.frames += 1;
        if let Some(sink) = self.sink.as_mut() {
            sink.frame(self.now, &bytes).map_err(SimError::Capture)?;
        }
        let Some(ifc) = self.nodes[node]
            .ifaces
            .iter()
            .find(|i| i.ifindex == ifindex)
        else {
            return Ok(());
        };
        let kind = match classify(&bytes) {
            Some(k) => k,
            None => return Ok(()),
        };
        let flight = InFlight {
            from: node,
            segment: ifc.segment,
            vhid,
            kind,
            bytes,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.flights[s as usize] = Some(flight);
                s
            }
            None => {
                self.flights.push(Some(flight));
                (self.flights.len() - 1) as u32
            }
        };
        self.push(self.now + self.sc.latency, Kind::Deliver(slot));
        Ok(())
    }

    fn rebuild_receivers(&mut self) {
        if !self.receivers_dirty {
            return;
        }
        let mut lists: Vec<Vec<(usize, u16)>> = vec![Vec::new(); self.segments * 256];
        for (ni, n) in self.nodes.iter_mut().enumerate() {
            let ifaces: Vec<(u16, usize)> =
                n.ifaces.iter().map(|i| (i.ifindex, i.segment)).collect();
            if let Some(live) = live(&mut n.kernel) {
                for v in live.vhids() {
                    if let Some(&(_, seg)) = ifaces.iter().find(|(ix, _)| *ix == v.ifindex) {
                        lists[seg * 256 + usize::from(v.vhid)].push((ni, v.ifindex));
                    }
                }
            }
        }
        self.receivers = lists.into_iter().map(Rc::from).collect();
        self.receivers_dirty = false;
    }

    fn deliver(&mut self, slot: u32) -> Result<(), SimError> {
        let Some(f) = self.flights.get_mut(slot as usize).and_then(Option::take) else {
            return Ok(());
        };
        self.free.push(slot);
        self.learn(f.from, f.segment, &f.bytes);
        match f.kind {
            FrameKind::Announce => Ok(()),
            FrameKind::Advert => {
                self.rebuild_receivers();
                let Some(list) = self.receivers.get(f.segment * 256 + usize::from(f.vhid)) else {
                    return Ok(());
                };
                let list = Rc::clone(list);
                let inbound = Inbound::parse(&f.bytes);
                let from_group = self.nodes[f.from].group;
                let from_loss = self.nodes[f.from].loss;
                for &(to, ifindex) in list.iter() {
                    if to == f.from {
                        continue;
                    }
                    let n = &self.nodes[to];
                    if n.group != from_group && self.partitioned {
                        continue;
                    }
                    if !n.ifaces.iter().any(|i| i.ifindex == ifindex && i.link_up) {
                        continue;
                    }
                    let p = 1.0 - (1.0 - self.seg_loss) * (1.0 - from_loss) * (1.0 - n.loss);
                    if p > 0.0 && self.rng.next_f64() < p {
                        continue;
                    }
                    let now = self.now;
                    let n = &mut self.nodes[to];
                    let incarnation = n.incarnation;
                    if let Some(live) = live(&mut n.kernel) {
                        live.set_now(now);
                        live.receive_inbound(ifindex, &inbound);
                        if !only_wakes(live, &mut self.queue, to as u32, incarnation) {
                            self.drain(to)?;
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// The switch learns the frame's source MAC on the sender's port: a
    /// virtual MAC (`00:00:5e:00:01:<vhid>`, the source of the MASTER's
    /// advertisements and neighbour advertisements) moves the vhid's VIPs
    /// on that segment to the sender.
    fn learn(&mut self, from: usize, segment: usize, bytes: &[u8]) {
        let Some(src) = bytes.get(6..12) else {
            return;
        };
        if src[..5] != carpctl_sys::CARP_MAC_PREFIX {
            return;
        }
        let at = segment * 256 + usize::from(src[5]);
        for i in 0..self.vips_at.get(at).map_or(0, Vec::len) {
            let v = self.vips_at[at][i];
            if self.vips[v].port != Some(from) {
                self.vips[v].port = Some(from);
                self.mark(v);
            }
        }
    }

    // --- per-VIP bookkeeping -----------------------------------------------------

    fn mark(&mut self, v: usize) {
        if !self.is_dirty[v] {
            self.is_dirty[v] = true;
            self.dirty.push(v);
        }
    }

    fn set_state(&mut self, v: usize, node: usize, to: CarpState) {
        let now = self.now;
        let vip = &mut self.vips[v];
        let from = vip.state[node];
        if from == to {
            return;
        }
        vip.state[node] = to;
        if to == CarpState::Master {
            vip.held_since[node] = Some(now);
        } else if from == CarpState::Master
            && let Some(s) = vip.held_since[node].take()
        {
            self.held[node].push(Held {
                vip: vip.name.clone(),
                start: to_s(s),
                end: to_s(now),
                ongoing: false,
            });
        }
        self.mark(v);
    }

    /// Re-evaluate the VIPs whose inputs changed at `now`.
    fn flush_dirty(&mut self) {
        while let Some(v) = self.dirty.pop() {
            self.is_dirty[v] = false;
            self.evaluate(v);
        }
    }

    fn evaluate(&mut self, v: usize) {
        let now = self.now;
        let start = self.sc.clients.start;
        let period = 1e6 / self.sc.clients.rate;
        let nodes = &self.nodes;
        let vip = &mut self.vips[v];
        let served = vip.port.is_some_and(|o| {
            nodes[o].up()
                && vip.state[o] == CarpState::Master
                && vip.member_if[o].is_some_and(|i| nodes[o].ifaces[i].link_up)
        });
        if served != vip.served {
            vip.served = served;
            vip.last_change = now;
            if served {
                if vip.first_served.is_none() {
                    vip.first_served = Some(now);
                }
                if let Some(since) = vip.unserved_since.take() {
                    let lost = vip
                        .phase
                        .iter()
                        .map(|&ph| requests_between(start, ph, period, since, now))
                        .sum();
                    if now > since {
                        vip.outages.push((since, now, lost));
                    }
                }
            } else if vip.first_served.is_some() {
                vip.unserved_since = Some(now);
            }
        }
        let is_master = |n: &usize| vip.state[*n] == CarpState::Master && nodes[*n].up();
        if !vip
            .masters
            .iter()
            .copied()
            .eq((0..vip.state.len()).filter(is_master))
        {
            let masters = (0..vip.state.len()).filter(is_master).collect();
            vip.masters = masters;
            vip.last_change = now;
        }
        let masters = &vip.masters;
        match (&vip.dual, masters.len() > 1) {
            (None, true) => vip.dual = Some((now, masters.clone())),
            (Some((s, who)), false) => {
                if now > *s {
                    vip.duals.push((*s, now, who.clone()));
                }
                vip.dual = None;
            }
            _ => {}
        }
    }

    /// The layout now: per VIP the nodes that are MASTER, and whether it
    /// is answered.
    fn snapshot(&mut self) {
        let layout = self
            .vips
            .iter()
            .map(|v| {
                (0..self.nodes.len())
                    .filter(|&n| v.state[n] == CarpState::Master && self.nodes[n].up())
                    .collect()
            })
            .collect();
        let served = self.vips.iter().map(|v| v.served).collect();
        self.steady = Some((self.now, layout, served));
    }

    // --- scenario events -----------------------------------------------------------

    fn script(&mut self, i: usize) -> Result<(), SimError> {
        let ev = &self.sc.events[i];
        if self.steady.is_none() && ev.action.is_fault() {
            self.snapshot();
        }
        let name = |n: usize| self.sc.nodes[n].name.clone();
        let detail = match &ev.action {
            Action::Crash { node } | Action::Boot { node } => name(*node),
            Action::Link {
                node, interface, ..
            } => match interface {
                Some(i) => format!("{} {i}", name(*node)),
                None => format!("{} (every interface)", name(*node)),
            },
            Action::Partition { groups } => groups
                .iter()
                .map(|g| g.iter().map(|&n| name(n)).collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join(" | "),
            Action::Heal => String::new(),
            Action::Loss { node, fraction } => format!(
                "{}% {}",
                fraction * 100.0,
                node.map_or("on the segment".to_string(), |n| format!(
                    "to and from {}",
                    name(n)
                ))
            ),
            Action::Maintenance { node, .. } => name(*node),
            Action::Check {
                node,
                check,
                weight,
                ..
            } => format!("{} check {check} (weight {weight})", name(*node)),
            Action::Demote { node, by } => format!("{} by {by}", name(*node)),
            Action::Password { node, vip, .. } => format!("{} vip {vip}", name(*node)),
            Action::Addresses {
                node,
                vip,
                addresses,
            } => format!(
                "{} vip {vip}: {}",
                name(*node),
                addresses
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Action::Preempt { node, on } => format!(
                "{} {}",
                node.map_or("every node".to_string(), name),
                if *on { "on" } else { "off" }
            ),
            Action::SendErrors { node, errno } => match errno {
                Some(e) => format!("{} {}", name(*node), e.name()),
                None => name(*node),
            },
        };
        self.events.push(EventRecord {
            time: to_s(self.now),
            action: ev.action.name().to_string(),
            detail,
        });
        match ev.action.clone() {
            Action::Crash { node } => self.crash(node),
            Action::Boot { node } => self.boot(node)?,
            Action::Link {
                node,
                interface,
                up,
            } => {
                let names: Vec<String> = self.nodes[node]
                    .ifaces
                    .iter()
                    .filter(|i| interface.as_ref().is_none_or(|n| *n == i.name))
                    .map(|i| i.name.clone())
                    .collect();
                for ifname in names {
                    if let Some(i) = self.nodes[node]
                        .ifaces
                        .iter_mut()
                        .find(|i| i.name == ifname)
                    {
                        i.link_up = up;
                    }
                    let now = self.now;
                    if let Some(live) = live(&mut self.nodes[node].kernel) {
                        live.set_now(now);
                        live.set_link(&ifname, up)
                            .map_err(|e| self.node_err(node, format!("link {ifname}: {e}")))?;
                    }
                    self.drain(node)?;
                }
                for v in 0..self.vips.len() {
                    self.mark(v);
                }
            }
            Action::Partition { groups } => {
                for (g, members) in groups.iter().enumerate() {
                    for &n in members {
                        self.nodes[n].group = g;
                    }
                }
                self.partitioned = true;
            }
            Action::Heal => {
                for n in &mut self.nodes {
                    n.group = 0;
                }
                self.partitioned = false;
            }
            Action::Loss { node, fraction } => match node {
                Some(n) => self.nodes[n].loss = fraction,
                None => self.seg_loss = fraction,
            },
            Action::Maintenance { node, on } => {
                if self.nodes[node].maintenance != on {
                    self.nodes[node].maintenance = on;
                    let w = i32::from(carpctl_sys::CARP_MAXSKEW);
                    self.demote(node, if on { w } else { -w })?;
                }
            }
            Action::Check {
                node,
                check,
                weight,
                failing,
            } => {
                let was = self.nodes[node].failing.contains_key(&check);
                if was != failing {
                    if failing {
                        self.nodes[node].failing.insert(check, weight);
                    } else {
                        self.nodes[node].failing.remove(&check);
                    }
                    let w = i32::from(weight);
                    self.demote(node, if failing { w } else { -w })?;
                }
            }
            Action::Demote { node, by } => self.demote(node, by)?,
            Action::Password { node, vip, key } => {
                self.nodes[node].keys.insert(vip, key);
                self.apply(node)?;
            }
            Action::Addresses {
                node,
                vip,
                addresses,
            } => {
                self.nodes[node].addresses.insert(vip, addresses);
                self.apply(node)?;
            }
            Action::Preempt { node, on } => {
                let targets: Vec<usize> = match node {
                    Some(n) => vec![n],
                    None => (0..self.nodes.len()).collect(),
                };
                for n in targets {
                    self.nodes[n].preempt = Some(on);
                    self.apply(n)?;
                }
            }
            Action::SendErrors { node, errno } => {
                self.nodes[node].send_error = errno;
                if let Some(live) = live(&mut self.nodes[node].kernel) {
                    live.set_send_error(errno);
                }
            }
        }
        Ok(())
    }

    // --- the report ----------------------------------------------------------------

    fn report(mut self) -> Report {
        let end = self.sc.duration;
        self.now = end;
        let start = self.sc.clients.start;
        let period = 1e6 / self.sc.clients.rate;
        // Close what is still open.
        for ni in 0..self.nodes.len() {
            let n = &mut self.nodes[ni];
            if let Some(live) = live(&mut n.kernel) {
                n.last_demotion = live.demotion();
                n.last_stats = stats_of(live);
            }
        }
        let mut vips = Vec::new();
        for v in &mut self.vips {
            let mut outages: Vec<Outage> = Vec::new();
            let mut lost_total = 0;
            for &(s, e, l) in &v.outages {
                outages.push(Outage {
                    start: to_s(s),
                    end: to_s(e),
                    lost: l,
                    ongoing: false,
                });
                lost_total += l;
            }
            let open = match v.first_served {
                None => Some(start),
                Some(_) => v.unserved_since,
            };
            if let Some(since) = open
                && end > since
            {
                let lost: u64 = v
                    .phase
                    .iter()
                    .map(|&ph| requests_between(start, ph, period, since, end))
                    .sum();
                outages.push(Outage {
                    start: to_s(since),
                    end: to_s(end),
                    lost,
                    ongoing: true,
                });
                lost_total += lost;
            }
            // Only what clients could see: from their start.
            outages.retain_mut(|o| {
                o.start = o.start.max(to_s(start));
                o.end > o.start
            });
            let mut duals: Vec<DualMaster> = v
                .duals
                .iter()
                .map(|(s, e, who)| DualMaster {
                    start: to_s(*s),
                    end: to_s(*e),
                    nodes: who.iter().map(|&n| self.nodes[n].name.clone()).collect(),
                    ongoing: false,
                })
                .collect();
            if let Some((s, who)) = &v.dual
                && end > *s
            {
                duals.push(DualMaster {
                    start: to_s(*s),
                    end: to_s(end),
                    nodes: who.iter().map(|&n| self.nodes[n].name.clone()).collect(),
                    ongoing: true,
                });
            }
            let requests = match v.first_served {
                Some(f) => v
                    .phase
                    .iter()
                    .map(|&ph| requests_between(start, ph, period, f.max(start), end))
                    .sum(),
                None => v
                    .phase
                    .iter()
                    .map(|&ph| requests_between(start, ph, period, start, end))
                    .sum(),
            };
            for (n, since) in v.held_since.iter().enumerate() {
                if let Some(s) = since
                    && self.nodes[n].up()
                {
                    self.held[n].push(Held {
                        vip: v.name.clone(),
                        start: to_s(*s),
                        end: to_s(end),
                        ongoing: true,
                    });
                }
            }
            vips.push(VipReport {
                name: v.name.to_string(),
                vhid: v.vhid,
                addresses: v.addrs.iter().map(ToString::to_string).collect(),
                first_served: v.first_served.map(to_s),
                outages,
                dual_master: duals,
                requests,
                lost: lost_total,
            });
        }
        let load = self.load_verdict();
        let failover = self.failover_verdict(&vips);
        let rebalance = self.rebalance_verdict();
        let nodes = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut held = std::mem::take(&mut self.held[i]);
                held.sort_by(|a, b| a.start.total_cmp(&b.start));
                NodeReport {
                    name: n.name.clone(),
                    up: n.up(),
                    held,
                    demotion: if n.up() { n.last_demotion } else { 0 },
                    stats: n.last_stats.clone(),
                }
            })
            .collect();
        Report {
            scenario: self.sc.path.display().to_string(),
            cluster: self.sc.config.path.display().to_string(),
            freebsd: self.sc.flavor.label().to_string(),
            seed: self.sc.seed,
            duration: to_s(end),
            requirements: Requirements {
                load_balanced: load.met,
                failover_unnoticed: failover.met,
                rebalanced_after_recovery: rebalance.met,
            },
            verdicts: report::Verdicts {
                load_balanced: load,
                failover_unnoticed: failover,
                rebalanced_after_recovery: rebalance,
            },
            vips,
            nodes,
            transitions: std::mem::take(&mut self.transitions),
            demotions: std::mem::take(&mut self.demotions),
            events: std::mem::take(&mut self.events),
            frames: self.frames,
        }
    }

    fn load_verdict(&self) -> LoadVerdict {
        let (at, layout, served) = self.steady.clone().unwrap_or_default();
        let m = self.vips.len();
        let n = self.nodes.len().max(1);
        let (min, max) = (m / n, m.div_ceil(n));
        let mut counts = vec![0usize; self.nodes.len()];
        let mut unsettled = Vec::new();
        for (v, masters) in layout.iter().enumerate() {
            if masters.len() != 1 || !served.get(v).copied().unwrap_or(false) {
                unsettled.push(self.vips[v].name.to_string());
            }
            for &node in masters {
                counts[node] += 1;
            }
        }
        let masters: Vec<(String, usize)> = self
            .nodes
            .iter()
            .zip(&counts)
            .map(|(n, &c)| (n.name.clone(), c))
            .collect();
        let out_of_bounds: Vec<String> = masters
            .iter()
            .filter(|(_, c)| *c < min || *c > max)
            .map(|(n, c)| format!("{n} masters {c}"))
            .collect();
        let met = unsettled.is_empty() && out_of_bounds.is_empty();
        let shares = masters
            .iter()
            .map(|(n, c)| format!("{n} {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let when = format!("at {:.3} s (before the first fault)", to_s(at));
        let bounds = if min == max {
            format!("{min}")
        } else {
            format!("{min} or {max}")
        };
        let detail = if met {
            format!("{when} every node masters {bounds} of the {m} VIPs: {shares}")
        } else if !unsettled.is_empty() {
            format!(
                "{when} not every VIP had exactly one answering MASTER ({}); VIPs per node: {shares}",
                unsettled.join(", ")
            )
        } else {
            format!(
                "{when} a node does not master {bounds} of the {m} VIPs ({}): {shares}",
                out_of_bounds.join(", ")
            )
        };
        LoadVerdict {
            met,
            at: to_s(at),
            min,
            max,
            masters,
            unsettled,
            detail,
        }
    }

    fn failover_verdict(&self, vips: &[VipReport]) -> FailoverVerdict {
        let mut longest = 0.0f64;
        let mut longest_vip = None;
        let mut longest_dual = 0.0f64;
        let (mut outages, mut lost, mut requests) = (0, 0, 0);
        let mut never = Vec::new();
        for v in vips {
            if v.first_served.is_none() {
                never.push(v.name.clone());
            }
            for o in &v.outages {
                outages += 1;
                if o.end - o.start > longest {
                    longest = o.end - o.start;
                    longest_vip = Some(v.name.clone());
                }
            }
            for d in &v.dual_master {
                longest_dual = longest_dual.max(d.end - d.start);
            }
            lost += v.lost;
            requests += v.requests;
        }
        let dual_limit = self
            .vips
            .iter()
            .map(|v| f64::from(v.advbase))
            .fold(1.0, f64::max);
        let met = never.is_empty() && longest < UNNOTICED_MAX_S && longest_dual < dual_limit;
        let mut detail = format!(
            "{outages} outage{}, the longest {} s{} (limit: shorter than {UNNOTICED_MAX_S} s); \
             {lost} of {requests} requests lost; longest dual master {} s (limit: shorter than \
             {dual_limit} s)",
            if outages == 1 { "" } else { "s" },
            report::dur(longest),
            longest_vip
                .as_ref()
                .map_or(String::new(), |v| format!(" ({v})")),
            report::dur(longest_dual),
        );
        if !never.is_empty() {
            detail.push_str(&format!("; never answered: {}", never.join(", ")));
        }
        FailoverVerdict {
            met,
            limit: UNNOTICED_MAX_S,
            longest,
            longest_vip,
            dual_master_limit: dual_limit,
            longest_dual_master: longest_dual,
            outages,
            lost,
            requests,
            detail,
        }
    }

    /// Which nodes may master VIP `v` at the end: among the nodes that are
    /// up with the VIP's link up (and can send), those advertising the
    /// shortest interval `(advbase, DEMOTE_ADVSKEW)`. `None` when a
    /// partition is still in place.
    fn expected(&mut self, v: usize) -> Option<Vec<usize>> {
        if self.partitioned {
            return None;
        }
        let vhid = self.vips[v].vhid;
        let mut best: Vec<(i64, usize)> = Vec::new();
        for ni in 0..self.nodes.len() {
            let Some(pos) = self.vips[v].member_if[ni] else {
                continue;
            };
            let n = &mut self.nodes[ni];
            if !n.ifaces[pos].link_up || n.send_error.is_some() {
                continue;
            }
            let ifindex = n.ifaces[pos].ifindex;
            let clamp_low = self.sc.flavor.demote_clamps_low();
            let Some(live) = live(&mut n.kernel) else {
                continue;
            };
            let demotion = live.demotion();
            let Some(lv) = live
                .vhids()
                .into_iter()
                .find(|x| x.ifindex == ifindex && x.vhid == vhid)
            else {
                continue;
            };
            let mut skew = lv.advskew.saturating_add(demotion).min(240);
            if clamp_low {
                skew = skew.max(0);
            }
            let interval = i64::from(lv.advbase) * 1_000_000 + i64::from(skew) * 1_000_000 / 256;
            best.push((interval, ni));
        }
        let min = best.iter().map(|b| b.0).min()?;
        Some(best.iter().filter(|b| b.0 == min).map(|b| b.1).collect())
    }

    fn rebalance_verdict(&mut self) -> RebalanceVerdict {
        let end = self.sc.duration;
        let last_event = self.sc.events.last().map_or(0, |e| e.at);
        let advbase = self
            .vips
            .iter()
            .map(|v| u64::from(v.advbase))
            .max()
            .unwrap_or(1);
        // The master-down interval (3 × advbase + at most 240/256 s < 1 s)
        // for a VIP left without a master, then one more advertisement
        // interval for the preferred node to hear it and preempt.
        let bound = 4 * advbase * 1_000_000 + 1_000_000;
        let mut expected = Vec::new();
        let mut wrong = Vec::new();
        let mut settled = 0u64;
        for v in 0..self.vips.len() {
            let exp = self.expected(v);
            let vip = &self.vips[v];
            let masters: Vec<usize> = (0..self.nodes.len())
                .filter(|&n| vip.state[n] == CarpState::Master && self.nodes[n].up())
                .collect();
            let ok = match &exp {
                Some(e) => masters.len() == 1 && e.contains(&masters[0]) && vip.served,
                None => false,
            };
            settled = settled.max(vip.last_change);
            if !ok || vip.last_change > last_event + bound {
                wrong.push(vip.name.to_string());
            }
            expected.push((
                vip.name.to_string(),
                exp.and_then(|e| e.first().map(|&n| self.nodes[n].name.clone())),
            ));
        }
        let enough = end >= last_event + bound;
        let met = enough && wrong.is_empty();
        let detail = if !enough {
            format!(
                "the scenario ends {:.3} s after the last event; the layout is judged {:.3} s \
                 after it (4 × advbase + 1 s): make duration longer",
                to_s(end - last_event),
                to_s(bound)
            )
        } else if self.partitioned {
            "a partition is still in place at the end: no single planned layout".to_string()
        } else if met {
            format!(
                "every VIP is mastered by its planned node since {:.3} s, within {:.3} s of the \
                 last event at {:.3} s (bound 4 × advbase + 1 s)",
                to_s(settled),
                to_s(settled.saturating_sub(last_event)),
                to_s(last_event)
            )
        } else {
            let exp: Vec<String> = expected
                .iter()
                .filter(|(v, _)| wrong.contains(v))
                .map(|(v, n)| format!("{v} should be on {}", n.as_deref().unwrap_or("?")))
                .collect();
            format!(
                "{:.3} s after the last event at {:.3} s, not as planned: {}",
                to_s(bound),
                to_s(last_event),
                exp.join(", ")
            )
        };
        RebalanceVerdict {
            met,
            last_event: to_s(last_event),
            bound: to_s(bound),
            settled_at: met.then(|| to_s(settled)),
            expected,
            wrong,
            detail,
        }
    }
}

/// The common case after a kernel call, handled without [`Sim::drain`]:
/// the kernel only asked for wake-ups (or did nothing). Returns false when
/// there is more to take.
fn only_wakes(
    live: &mut Live,
    queue: &mut sched::Queue<Kind>,
    node: u32,
    incarnation: u32,
) -> bool {
    let out = live.output_mut();
    if !out.frames.is_empty() || !out.events.is_empty() {
        return false;
    }
    for (ifindex, vhid, at) in out.wakes.drain(..) {
        queue.push(
            at,
            Kind::Timer {
                node,
                incarnation,
                ifindex,
                vhid,
            },
        );
    }
    true
}

/// The live host of a node that is up.
fn live(k: &mut Option<Kern>) -> Option<&mut Live> {
    k.as_mut().and_then(|k| k.syscalls().live_mut())
}

fn stats_of(live: &Live) -> NodeStats {
    let s = live.stats();
    NodeStats {
        ipackets: s.ipackets,
        ipackets6: s.ipackets6,
        opackets: s.opackets,
        opackets6: s.opackets6,
        badauth: s.badauth,
        badvhid: s.badvhid,
        badttl: s.badttl,
        badsum: s.badsum,
        badver: s.badver,
    }
}

/// Requests sent to an address in `[a, b)` (µs): clients send at `start +
/// phase + k × period`, k = 0, 1, ...
fn requests_between(start: u64, phase: f64, period: f64, a: u64, b: u64) -> u64 {
    let before = |x: u64| -> u64 {
        let t = x as f64 - start as f64 - phase;
        if t <= 0.0 {
            0
        } else {
            (t / period).ceil() as u64
        }
    };
    before(b).saturating_sub(before(a))
}

/// Advertisement, announcement, or nothing the segment cares about.
fn classify(bytes: &[u8]) -> Option<FrameKind> {
    let ethertype = u16::from_be_bytes([*bytes.get(12)?, *bytes.get(13)?]);
    match ethertype {
        0x0806 => Some(FrameKind::Announce),
        0x0800 => (*bytes.get(14 + 9)? == carpctl_sys::IPPROTO_CARP).then_some(FrameKind::Advert),
        0x86dd => match *bytes.get(14 + 6)? {
            carpctl_sys::IPPROTO_CARP => Some(FrameKind::Advert),
            58 => Some(FrameKind::Announce),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests;
