//! `carpctl simulate`: a cluster of emulated FreeBSD hosts on a virtual
//! Ethernet segment, with clients, faults and a verdict.
//!
//! * [`scenario`]: the scenario file (carpctl.scenario(5)); [`limits`]:
//!   what a scenario, its report and its capture may grow to.
//! * [`report`]: what a run found, and the three verdicts.
//! * this module and its parts: the discrete-event engine ([`node`]: the
//!   nodes' kernels; [`segment`]: frames on the wire; [`script`]: the
//!   timeline; [`verdict`]: per-VIP bookkeeping and the report).
//!
//! **Nodes.** Each node is a live emulated host
//! ([`crate::kernel::emulated::EmulatedHost::live`]) behind the same
//! [`FreeBsdKernel`] a real node uses, and boots by running the same
//! `apply` (`config::desired_state`, `apply::plan_changes`,
//! `apply::execute`). The carp(4) state machine, its timers (kernel ticks
//! at the node's `kern.hz`, with a tick phase of its own), the
//! advertisements and their validation are the emulated kernel's, per the
//! release table (`docs/freebsd-carp.md` §2); this module only moves
//! frames and keeps time.
//!
//! **Time** is integer microseconds. Events are processed in time order,
//! ties in the order they were scheduled, so a run is a pure function of
//! the scenario (and its `seed`, which drives the random counters, the
//! tick phases, the packet loss and the clients' timing). Every kernel's
//! clock is brought to an event's time before the event acts on it, and a
//! kernel timer is always queued strictly after the present, so time
//! always moves on.
//!
//! **The segment** delivers each advertisement, after the segment's
//! latency, to every other node whose interface on that segment has a carp
//! address of the packet's family (it joined the group; a node without the
//! vhid counts the packet as `badvhid`), or for a unicast destination to the
//! node with that address, unless a partition separates them, a link is
//! down, or the frame is lost (`docs/freebsd-carp.md` §9.4). An interface
//! belongs to the segment of its logical name in the cluster file
//! (`lan = "em0"`), or of its own name when unmapped. A unicast frame to
//! an address off the sender's subnets goes to its `gateway`'s
//! `[[router]]`, which forwards it onto the segment of the destination's
//! subnet with the TTL or hop limit one less ([`segment`]). Each node
//! runs its own release (`freebsd`) and its frames take its own
//! `latency`.
//!
//! **Clients** send requests to every address of every VIP at a fixed rate
//! (`[clients] rate`, each address with its own phase from the seed). Their
//! ARP and neighbour caches map a VIP to its virtual MAC
//! `00:00:5e:00:01:<vhid>` (what the gratuitous ARP and unsolicited NA of a
//! takeover announce, and what the MASTER answers). The switch sends that
//! MAC to the port where it last saw it as a source address (the MASTER's
//! multicast advertisements and neighbour advertisements carry it), and
//! floods it to every port while it has not seen it (unicast mode, whose
//! advertisements leave from the interface's own MAC). A request is
//! answered iff a node it reaches is up, its interface's link is up and it
//! is MASTER of the vhid. Requests are counted analytically over the
//! intervals during which a VIP is not answered, not simulated one by one.

mod change;
pub mod expect;
pub mod limits;
mod maintenance;
mod neighbors;
mod node;
pub(crate) mod progress;
pub mod report;
pub mod scenario;
pub mod sched;
mod script;
mod segment;
pub mod steps;
mod switchover;
mod verdict;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::Duration;

use crate::apply;
use crate::config;
use crate::kernel::emulated::{
    AuthPool, Demotion, EmulatedHost, Event, HostSpec, Hz, IfaceSpec, Inbound, Live, LiveOptions,
    LiveOutput, SplitMix64,
};
use crate::kernel::freebsd::FreeBsdKernel;
use crate::kernel::{Errno, Kernel};
use crate::model::{CarpState, DemotionDelta, Key};
use crate::wire::PcapSink;

pub(crate) use progress::Progress;
pub(crate) use report::{Report, Requirements};
pub use scenario::{Action, Scenario};

use report::{
    DemotionChange, DualMaster, EventRecord, FailoverVerdict, Held, LoadVerdict, Name, NodeReport,
    NodeStats, Outage, RebalanceVerdict, UNNOTICED_MAX_S, VhidStateChange, VipReport,
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
    /// The run went past a limit of carpctl.scenario(5), LIMITS.
    #[error("{0}")]
    Limit(String),
}

/// Run `sc` and report. Frames go to `sink` when given.
pub fn run(sc: &Scenario, sink: Option<&mut dyn FrameSink>) -> Result<Report, SimError> {
    run_with(sc, sink, limits::MAX_RECORDS)
}

/// [`run`], telling `progress` how far it has got.
pub(crate) fn run_observed<'s>(
    sc: &Scenario,
    sink: Option<&'s mut dyn FrameSink>,
    progress: Option<&'s mut dyn Progress>,
) -> Result<Report, SimError> {
    let mut sim = Sim::new(sc, sink);
    sim.progress = progress;
    sim.run()?;
    Ok(sim.report())
}

/// [`run`] with a report of at most `max_records` records.
fn run_with(
    sc: &Scenario,
    sink: Option<&mut dyn FrameSink>,
    max_records: usize,
) -> Result<Report, SimError> {
    let mut sim = Sim::new(sc, sink);
    sim.max_records = max_records;
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
    /// Step 2 of a stepped `maintenance_on` ([`maintenance`]).
    MaintenanceWait {
        node: u32,
        incarnation: u32,
        deadline: u64,
    },
    /// A `switchover`'s wait ([`switchover`]): the master's, or `back`'s.
    SwitchoverWait {
        node: u32,
        incarnation: u32,
        deadline: u64,
        vip: u32,
        back: bool,
    },
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
    /// The node that sent it.
    from: usize,
    /// The segment it is on now, and the position of the interface it
    /// left from among its sender's (the node's, or the router's that
    /// forwarded it).
    segment: usize,
    iface: usize,
    /// The router that forwarded it onto `segment`, if one did.
    via: Option<usize>,
    kind: FrameKind,
    bytes: Vec<u8>,
}

/// A `[[router]]` during a run: its interfaces with their segment,
/// addresses and MAC.
struct SimRouter {
    ifaces: Vec<(usize, Vec<ipnet::IpNet>, [u8; 6])>,
}

/// One real interface of a node during a run, and the segment it is on.
struct SimInterface {
    name: String,
    label: Name,
    ifindex: u16,
    segment: usize,
    link_up: bool,
    /// `IFF_UP` (`ifconfig_down`, `ifconfig_up`); a reboot brings it up.
    admin_up: bool,
}

impl SimInterface {
    /// Frames pass: the interface is up and its link too.
    fn passes(&self) -> bool {
        self.link_up && self.admin_up
    }
}

/// A node's kernel: the emulated host behind the real backend.
type NodeKernel = FreeBsdKernel<EmulatedHost>;

/// One node during a run: its kernel (none while down), interfaces, faults
/// and the cluster file's view of it.
struct SimNode {
    name: String,
    /// The same, shared by the records that name it.
    label: Name,
    spec: HostSpec,
    /// `kern.hz`.
    hz: u32,
    lladdrs: Vec<(String, [u8; 6])>,
    kernel: Option<NodeKernel>,
    incarnation: u32,
    ifaces: Vec<SimInterface>,
    group: usize,
    /// Loss of the frames to and from the node, of those it sends, of
    /// those it receives.
    loss: f64,
    loss_from: f64,
    loss_to: f64,
    /// How long the frames it sends take, µs.
    latency: u64,
    send_error: Option<Errno>,
    maintenance: bool,
    /// The maintenance share of its demotion in force: 0, a first step,
    /// or 240.
    maint_weight: i32,
    failing: BTreeMap<String, u16>,
    keys: BTreeMap<String, Key>,
    addresses: BTreeMap<String, Vec<ipnet::IpNet>>,
    preempt: Option<bool>,
    /// The cluster file installed on it ([`Scenario::files`]): what it
    /// applies at boot; a whole-file `apply` installs one, an `apply
    /// --only`/`--remove` (a rollout step) does not. `None` on a node that
    /// joins the cluster until it applies a file.
    file: Option<usize>,
    /// The last kernel's demotion and stats, kept after a crash.
    last_demotion: i32,
    last_stats: NodeStats,
}

impl SimNode {
    fn up(&self) -> bool {
        self.kernel.is_some()
    }
}

/// One VIP during a run: its state per node, the switch port of its
/// virtual MAC, and the outage and dual-master bookkeeping for the report.
struct SimVip {
    name: Name,
    vhid: u8,
    advbase: u8,
    addrs: Vec<IpAddr>,
    /// The segments of its members' interfaces.
    segment: Vec<usize>,
    /// The clients can reach it (always, unless they sit on a router that
    /// has no address on its subnet on one of those segments).
    reachable: bool,
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
    nodes: Vec<SimNode>,
    routers: Vec<SimRouter>,
    vips: Vec<SimVip>,
    /// (node, interface index, vhid) -> VIP.
    vip_of: HashMap<(usize, u16, u8), usize>,
    /// segment × 256 + vhid -> the VIPs there.
    vips_at: Vec<Vec<usize>>,
    /// segment × 2 + family (0 IPv4, 1 IPv6) -> the interfaces that joined
    /// the group there (node, ifindex).
    receivers: Vec<Rc<[(usize, u16)]>>,
    segments: usize,
    receivers_dirty: bool,
    rng: SplitMix64,
    seg_loss: f64,
    /// One-way loss from one node to another.
    loss_between: HashMap<(usize, usize), f64>,
    partitioned: bool,
    pool: Rc<AuthPool>,
    sink: Option<&'s mut dyn FrameSink>,
    /// A capture error met while forwarding, reported by the delivery.
    sink_error: Option<String>,
    /// Told how far the run has got ([`progress::EVERY`]).
    progress: Option<&'s mut dyn Progress>,
    out: LiveOutput,
    dirty: Vec<usize>,
    is_dirty: Vec<bool>,
    transitions: report::Log<VhidStateChange>,
    demotions: Vec<DemotionChange>,
    events: Vec<EventRecord>,
    frames: u64,
    held: Vec<Vec<Held>>,
    /// The layout just before the first fault: per VIP the masters.
    steady: Option<(u64, Vec<Vec<usize>>, Vec<bool>)>,
    /// The most transitions and demotion changes the report may hold.
    max_records: usize,
    /// Traffic sent from VIPs, and the cache entries it made.
    sent: Vec<report::SentFromVip>,
    learned: Vec<report::NeighborEntry>,
}

fn to_s(us: u64) -> f64 {
    us as f64 / 1e6
}

impl<'a, 's> Sim<'a, 's> {
    /// The engine at time 0: the nodes (down, with their interfaces on
    /// their segments), the VIPs, and the index of VIPs per segment and
    /// vhid.
    fn new(sc: &'a Scenario, sink: Option<&'s mut dyn FrameSink>) -> Self {
        // Segments: the logical interface names of the cluster file.
        let mut segments: Vec<String> = Vec::new();
        let nodes: Vec<SimNode> = sc
            .nodes
            .iter()
            .enumerate()
            .map(|(ni, n)| sim_node(sc, ni, n, &mut segments))
            .collect();
        let routers: Vec<SimRouter> = sc
            .routers
            .iter()
            .enumerate()
            .map(|(ri, r)| SimRouter {
                ifaces: r
                    .interfaces
                    .iter()
                    .enumerate()
                    .map(|(i, (name, addrs))| {
                        let mac = [0x02, 0x01, 0, ri as u8, (i >> 8) as u8, i as u8 + 1];
                        (segment_index(name, &mut segments), addrs.clone(), mac)
                    })
                    .collect(),
            })
            .collect();
        let mut rng = SplitMix64::new(sc.seed ^ 0x6361_7270_6374_6c00);
        let mut vips = Vec::new();
        let mut vip_of = HashMap::new();
        // Every VIP of every cluster file, by name, as first defined.
        let mut all: Vec<&config::Vip> = Vec::new();
        for v in sc.cluster_files().iter().flat_map(|c| &c.vips) {
            if !all.iter().any(|a| a.name == v.name) {
                all.push(v);
            }
        }
        for (vi, v) in all.into_iter().enumerate() {
            let mut vip = sim_vip(sc, vi, v, &nodes, &mut vip_of, &mut rng);
            if let Some(r) = sc.clients.at {
                vip.reachable = routers[r].ifaces.iter().any(|(seg, nets, _)| {
                    vip.segment.contains(seg)
                        && nets.iter().any(|n| vip.addrs.iter().any(|a| n.contains(a)))
                });
            }
            vips.push(vip);
        }
        let vips_at = vips_by_segment_and_vhid(&vips, segments.len());
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
            routers,
            vips,
            vip_of,
            vips_at,
            receivers: Vec::new(),
            segments: nsegments,
            receivers_dirty: true,
            rng,
            seg_loss: 0.0,
            loss_between: HashMap::new(),
            partitioned: false,
            pool: Rc::new(AuthPool::new()),
            sink,
            sink_error: None,
            progress: None,
            out: LiveOutput::default(),
            dirty: Vec::new(),
            is_dirty: vec![false; nvips],
            transitions: report::Log::default(),
            demotions: Vec::new(),
            events: Vec::new(),
            frames: 0,
            held: vec![Vec::new(); nnodes],
            steady: None,
            max_records: limits::MAX_RECORDS,
            sent: Vec::new(),
            learned: Vec::new(),
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
        let mut processed: u64 = 0;
        while let Some(e) = self.queue.pop() {
            if e.at > end {
                break;
            }
            self.now = e.at;
            processed += 1;
            if processed.is_multiple_of(progress::EVERY)
                && let Some(p) = self.progress.as_deref_mut()
            {
                p.update(e.at, end, processed);
            }
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
                Kind::MaintenanceWait {
                    node,
                    incarnation,
                    deadline,
                } => self.maintenance_wait(node as usize, incarnation, deadline)?,
                Kind::SwitchoverWait {
                    node,
                    incarnation,
                    deadline,
                    vip,
                    back,
                } => self.switchover_wait(
                    node as usize,
                    incarnation,
                    (deadline, back),
                    vip as usize,
                )?,
            }
            self.flush_dirty();
        }
        self.now = end;
        if let Some(p) = self.progress.as_deref_mut() {
            p.update(end, end, processed);
        }
        if self.steady.is_none() {
            self.snapshot();
        }
        Ok(())
    }
}
/// The index of segment `name`, added when new.
fn segment_index(name: &str, segments: &mut Vec<String>) -> usize {
    match segments.iter().position(|s| s == name) {
        Some(i) => i,
        None => {
            segments.push(name.to_string());
            segments.len() - 1
        }
    }
}

/// Node `ni` of the scenario, down, each interface on the segment of its
/// logical name (its own name when unmapped) with a MAC of its own.
fn sim_node(sc: &Scenario, ni: usize, n: &scenario::ScNode, segments: &mut Vec<String>) -> SimNode {
    let cn = sc.cluster_files().iter().find_map(|c| c.node(&n.name));
    let mut ifaces = Vec::new();
    let mut lladdrs = Vec::new();
    for (i, (ifname, _)) in n.interfaces.iter().enumerate() {
        let logical = cn
            .and_then(|c| c.interfaces.iter().find(|(_, real)| *real == ifname))
            .map_or(ifname.as_str(), |(l, _)| l.as_str());
        let segment = segment_index(logical, segments);
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
        ifaces.push(SimInterface {
            name: ifname.clone(),
            label: Name::new(ifname),
            // lo0 is 1; the interfaces follow in order (HostState::new).
            ifindex: u16::try_from(i + 2).unwrap_or(u16::MAX),
            segment,
            link_up: true,
            admin_up: true,
        });
    }
    SimNode {
        name: n.name.clone(),
        label: Name::new(&n.name),
        spec: HostSpec {
            flavor: n.flavor,
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
        hz: n.hz,
        lladdrs,
        kernel: None,
        incarnation: 0,
        ifaces,
        group: 0,
        loss: 0.0,
        loss_from: 0.0,
        loss_to: 0.0,
        latency: n.latency,
        send_error: None,
        maintenance: false,
        maint_weight: 0,
        failing: BTreeMap::new(),
        keys: BTreeMap::new(),
        addresses: BTreeMap::new(),
        preempt: None,
        file: sc.config.node(&n.name).map(|_| 0),
        last_demotion: 0,
        last_stats: NodeStats::default(),
    }
}

/// VIP `vi` of the cluster file: its members' interfaces (recorded in
/// `vip_of` by node, ifindex and vhid), its segments, and each address's
/// client phase drawn from `rng`.
fn sim_vip(
    sc: &Scenario,
    vi: usize,
    v: &config::Vip,
    nodes: &[SimNode],
    vip_of: &mut HashMap<(usize, u16, u8), usize>,
    rng: &mut SplitMix64,
) -> SimVip {
    let period = 1e6 / sc.clients.rate;
    // A member in any cluster file of the scenario, on the interface that
    // file maps the VIP's to (the scenario refuses files that disagree on
    // a VIP's vhid or interface).
    let member_if: Vec<Option<usize>> = nodes
        .iter()
        .enumerate()
        .map(|(ni, n)| {
            let cn = sc.cluster_files().iter().find_map(|c| {
                let cn = c.node(&n.name)?;
                let cv = c.vips.iter().find(|x| x.name == v.name)?;
                cv.takes_part(&n.name).then_some(cn)
            })?;
            let real = cn.real_interface(&v.interface);
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
    SimVip {
        name: Name::new(&v.name),
        vhid: v.vhid.get(),
        advbase: v.advbase.get(),
        phase: addrs.iter().map(|_| rng.next_f64() * period).collect(),
        addrs,
        segment,
        reachable: true,
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
    }
}

/// The VIPs on each segment by vhid, at `segment * 256 + vhid`.
fn vips_by_segment_and_vhid(vips: &[SimVip], segments: usize) -> Vec<Vec<usize>> {
    let mut vips_at = vec![Vec::new(); segments * 256];
    for (vi, v) in vips.iter().enumerate() {
        for &seg in &v.segment {
            vips_at[seg * 256 + usize::from(v.vhid)].push(vi);
        }
    }
    vips_at
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
    let now = live.now();
    let out = live.output_mut();
    if !out.frames.is_empty() || !out.events.is_empty() {
        return false;
    }
    queue_wakes(queue, now, node, incarnation, out.wakes.drain(..));
    true
}

/// Queue a kernel's wake-up requests `(ifindex, vhid, at)`. A kernel timer
/// is always at least one tick after the present (`Hz::callout_at`); the
/// scheduler holds every timer to that, whatever a kernel asks: a timer
/// at or before `now` would fire at the instant it was armed and could
/// re-arm itself there forever, the clock never moving on. Such a request
/// is a bug (a debug build stops on it); it is taken as 1 µs after `now`.
fn queue_wakes(
    queue: &mut sched::Queue<Kind>,
    now: u64,
    node: u32,
    incarnation: u32,
    wakes: impl Iterator<Item = (u16, u8, u64)>,
) {
    for (ifindex, vhid, at) in wakes {
        debug_assert!(at > now, "a kernel timer at {at} µs, not after {now} µs");
        queue.push(
            at.max(now.saturating_add(1)),
            Kind::Timer {
                node,
                incarnation,
                ifindex,
                vhid,
            },
        );
    }
}

/// The live host of a node that is up.
fn live(k: &mut Option<NodeKernel>) -> Option<&mut Live> {
    k.as_mut().and_then(|k| k.syscalls().live_mut())
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
        0x0800 => (*bytes.get(14 + 9)? == crate::wire::IPPROTO_CARP).then_some(FrameKind::Advert),
        0x86dd => match *bytes.get(14 + 6)? {
            crate::wire::IPPROTO_CARP => Some(FrameKind::Advert),
            58 => Some(FrameKind::Announce),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod actions_tests;
#[cfg(test)]
mod expect_tests;
#[cfg(test)]
mod fidelity_tests;
#[cfg(test)]
mod freebsd_tests;
#[cfg(test)]
mod maintenance_tests;
#[cfg(test)]
mod rollout_tests;
#[cfg(test)]
mod switchover_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod topology_tests;
#[cfg(test)]
mod vrrp_tests;
