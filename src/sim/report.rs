//! What a simulation found: the timeline of transitions, per VIP its
//! outages and dual-master intervals, per node the VIPs it held, and a
//! verdict with its numbers for each of the three requirements.
//!
//! The JSON form (`carpctl simulate --json`) is a stable contract: the
//! keys `requirements`, `vips[].name`, `vips[].outages[].start/end`,
//! `vips[].dual_master[].start/end`, `transitions[].time/node/vhid/from/
//! to/reason` (times in seconds) and `expectations[].key/line/expected/
//! observed/met` are kept; everything else is extra.

use std::fmt::{self, Write as _};
use std::ops::Deref;
use std::rc::Rc;

use serde::{Serialize, Serializer};

use crate::model::CarpState;

/// The longest outage a client does not notice, in seconds: see
/// [`UNNOTICED_MAX_S`]'s use in carpctl(8), "simulate".
///
/// A client whose TCP SYN is lost when the outage starts retries after 1,
/// 3 and 7 seconds (RFC 6298: initial RTO 1 s, doubled per retry; FreeBSD
/// `net.inet.tcp.rexmit_initial` = 1000 ms, Linux likewise); an outage
/// shorter than 7 s is over by its third retry, so the connection is made
/// without any error reaching the application. Established connections
/// retransmit for minutes (RTO ≥ 200-230 ms, up to 12-15 retries) and
/// survive it without a reset.
pub(crate) const UNNOTICED_MAX_S: f64 = 7.0;

/// A name (node, interface, VIP) shared by the many records that carry it:
/// a day of simulation logs a million transitions, each naming its node.
/// Serializes as a plain string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Rc<str>);

impl Name {
    pub fn new(s: &str) -> Self {
        Name(Rc::from(s))
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, o: &&str) -> bool {
        &*self.0 == *o
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// An append-only list kept in fixed-size chunks: a day of simulation
/// logs a million transitions, and one growing vector would copy them over
/// and over. Serializes as a plain array.
#[derive(Debug, Clone, PartialEq)]
pub struct Log<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

const LOG_CHUNK: usize = 8192;

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Log<T> {
    pub fn push(&mut self, x: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < LOG_CHUNK => c.push(x),
            _ => {
                let mut c = Vec::with_capacity(LOG_CHUNK);
                c.push(x);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    pub fn last(&self) -> Option<&T> {
        self.chunks.last().and_then(|c| c.last())
    }
}

impl<'a, T> IntoIterator for &'a Log<T> {
    type Item = &'a T;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<T>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.chunks.iter().flatten()
    }
}

impl<T: Serialize> Serialize for Log<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// The three requirements, as the JSON contract names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Requirements {
    pub(crate) load_balanced: bool,
    pub(crate) failover_unnoticed: bool,
    pub(crate) rebalanced_after_recovery: bool,
}

impl Requirements {
    pub fn all(&self) -> bool {
        self.load_balanced && self.failover_unnoticed && self.rebalanced_after_recovery
    }
}

/// A time interval in seconds of virtual time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub start: f64,
    pub end: f64,
}

impl Interval {
    pub fn length(&self) -> f64 {
        self.end - self.start
    }
}

/// A time during which the VIP did not answer (one of its addresses at
/// least).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Outage {
    pub start: f64,
    pub end: f64,
    /// Client requests that fell into it and were lost.
    pub lost: u64,
    /// Still going on when the scenario ended.
    pub(crate) ongoing: bool,
}

/// Two or more nodes MASTER of the VIP at once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct DualMaster {
    pub start: f64,
    pub end: f64,
    /// The nodes that were MASTER (at its start).
    pub nodes: Vec<String>,
    pub(crate) ongoing: bool,
}

/// One VIP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VipReport {
    pub name: String,
    pub vhid: u8,
    pub addresses: Vec<String>,
    /// When the VIP was first answered (the cluster converged for it);
    /// `None`: never.
    pub(crate) first_served: Option<f64>,
    pub(crate) outages: Vec<Outage>,
    pub(crate) dual_master: Vec<DualMaster>,
    /// Client requests sent to its addresses after it was first served,
    /// and how many were lost.
    pub(crate) requests: u64,
    pub lost: u64,
}

/// A node's tenure as MASTER of a VIP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Held {
    pub vip: Name,
    pub start: f64,
    pub end: f64,
    pub(crate) ongoing: bool,
}

/// carp statistics of a node at the end (the last kernel it ran).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NodeStats {
    pub(crate) ipackets: u64,
    pub(crate) ipackets6: u64,
    pub(crate) opackets: u64,
    pub(crate) opackets6: u64,
    pub(crate) badauth: u64,
    pub(crate) badvhid: u64,
    pub(crate) badttl: u64,
    pub(crate) badsum: u64,
    pub(crate) badver: u64,
}

/// One node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeReport {
    pub name: String,
    /// Its FreeBSD release (`freebsd`, per node or of the scenario).
    pub(crate) freebsd: String,
    /// Up at the end of the scenario.
    pub up: bool,
    pub(crate) held: Vec<Held>,
    /// `net.inet.carp.demotion` at the end (0 when down).
    pub demotion: i32,
    pub stats: NodeStats,
}

/// One state change of one vhid on one node, as the kernel logged it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VhidStateChange {
    pub time: f64,
    pub node: Name,
    pub vhid: u8,
    pub interface: Name,
    /// The VIP of the cluster file it belongs to.
    pub vip: Option<Name>,
    pub from: CarpState,
    pub to: CarpState,
    /// FreeBSD's reason string (`carp_set_state()`, `docs/freebsd-carp.md` §11).
    pub reason: &'static str,
}

/// A change of `net.inet.carp.demotion` on a node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct DemotionChange {
    pub time: f64,
    pub node: Name,
    pub delta: i32,
    pub total: i32,
    pub reason: String,
}

/// Traffic a node sent from a VIP (`send_from_vip`), and whether it was
/// answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SentFromVip {
    pub time: f64,
    pub node: String,
    pub vip: String,
    /// The VIP's address it was sent from ("" when it has none of the
    /// destination's family).
    pub source: String,
    pub to: String,
    pub(crate) answered: bool,
    /// Why, in words.
    pub(crate) detail: String,
}

/// An entry an ARP or neighbour cache learned: from `time` on, `host`
/// (`clients` or a node) sends to `address` at `mac`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct NeighborEntry {
    pub time: f64,
    pub host: String,
    pub(crate) address: String,
    pub(crate) mac: String,
}

/// A scenario event as it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    pub time: f64,
    pub action: String,
    pub(crate) detail: String,
}

/// The verdict on load balance, with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct LoadVerdict {
    pub met: bool,
    /// When the layout was measured: just before the first fault (or at
    /// the end when there is none).
    pub at: f64,
    /// Bounds ⌊M/N⌋ and ⌈M/N⌉ for M VIPs over N nodes.
    pub min: usize,
    pub max: usize,
    /// Node -> how many VIPs it mastered then.
    pub(crate) masters: Vec<(String, usize)>,
    /// VIPs that had no single MASTER then.
    pub(crate) unsettled: Vec<String>,
    pub(crate) detail: String,
}

/// The verdict on failover, with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FailoverVerdict {
    pub met: bool,
    /// The bound: every outage shorter than this (seconds).
    pub limit: f64,
    /// The longest outage (seconds) and its VIP.
    pub(crate) longest: f64,
    pub(crate) longest_vip: Option<String>,
    /// Every dual-master interval must be shorter than this (seconds).
    pub(crate) dual_master_limit: f64,
    pub(crate) longest_dual_master: f64,
    pub(crate) outages: usize,
    pub lost: u64,
    pub(crate) requests: u64,
    pub(crate) detail: String,
}

/// The verdict on rebalancing, with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct RebalanceVerdict {
    pub met: bool,
    /// The last scenario event (seconds; 0 without events: boot).
    pub(crate) last_event: f64,
    /// How long after it the layout must be the planned one (seconds).
    pub bound: f64,
    /// When the layout became the planned one for good (seconds).
    pub(crate) settled_at: Option<f64>,
    /// VIP -> the node expected to master it at the end, when known.
    pub expected: Vec<(String, Option<String>)>,
    /// VIPs whose master differs (or that were unsettled) after the bound.
    pub wrong: Vec<String>,
    pub(crate) detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Verdicts {
    pub(crate) load_balanced: LoadVerdict,
    pub(crate) failover_unnoticed: FailoverVerdict,
    pub(crate) rebalanced_after_recovery: RebalanceVerdict,
}

/// Everything `carpctl simulate` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub scenario: String,
    pub cluster: String,
    pub(crate) freebsd: String,
    /// The router the clients sit on (`[clients] at`); none: each VIP's
    /// own segment.
    pub(crate) clients_at: Option<String>,
    pub seed: u64,
    /// Seconds of virtual time simulated.
    pub duration: f64,
    pub requirements: Requirements,
    pub(crate) verdicts: Verdicts,
    /// The scenario's `[[expect]]` entries, each met or not, in file order.
    pub(crate) expectations: Vec<super::expect::ExpectResult>,
    pub vips: Vec<VipReport>,
    pub nodes: Vec<NodeReport>,
    pub transitions: Log<VhidStateChange>,
    pub(crate) demotions: Vec<DemotionChange>,
    pub events: Vec<EventRecord>,
    /// Traffic sent from VIPs (`send_from_vip`), in time order.
    pub(crate) sent_from_vip: Vec<SentFromVip>,
    /// What the ARP and neighbour caches learned, in time order: the last
    /// entry of a host and address is what its cache holds at the end.
    pub(crate) neighbors: Vec<NeighborEntry>,
    /// Frames put on the segment (advertisements, ARP, NA).
    pub frames: u64,
}

fn secs(t: f64) -> String {
    format!("{t:.3}")
}

/// A duration: milliseconds show, and shorter ones keep their µs.
pub(crate) fn dur(t: f64) -> String {
    if t < 0.001 {
        format!("{t:.6}")
    } else {
        format!("{t:.3}")
    }
}

/// Intervals shorter than this are summarized in the human report (the
/// JSON lists them all).
const TINY_S: f64 = 0.001;

fn yes(b: bool) -> &'static str {
    if b { "met" } else { "NOT met" }
}

impl Report {
    /// The human form: transitions, per-VIP outages and dual masters,
    /// per-node holdings, and the verdicts with their numbers.
    pub(crate) fn to_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "scenario {} (cluster {}), FreeBSD {}, seed {}, {} s simulated, {} frames",
            self.scenario,
            self.cluster,
            self.freebsd,
            self.seed,
            secs(self.duration),
            self.frames
        );
        if let Some(r) = &self.clients_at {
            let _ = writeln!(o, "clients on router {r}");
        }
        self.events_text(&mut o);
        self.transitions_text(&mut o);
        let _ = writeln!(o, "\nVIPs:");
        for v in &self.vips {
            vip_text(&mut o, v);
        }
        self.nodes_text(&mut o);
        self.neighbors_text(&mut o);
        self.verdicts_text(&mut o);
        self.expectations_text(&mut o);
        o
    }

    fn expectations_text(&self, o: &mut String) {
        if !self.expectations.is_empty() {
            let _ = writeln!(o, "\nexpectations:");
        }
        for e in &self.expectations {
            let line = e.line.map_or(String::new(), |l| format!(" (line {l})"));
            let _ = writeln!(
                o,
                "  {}{line}: {}: {}; observed: {}",
                e.key,
                yes(e.met),
                e.expected,
                e.observed
            );
        }
    }

    fn events_text(&self, o: &mut String) {
        let _ = writeln!(o, "\nevents:");
        if self.events.is_empty() {
            let _ = writeln!(o, "  (none)");
        }
        for e in &self.events {
            let _ = writeln!(o, "  {:>10}  {:<16} {}", secs(e.time), e.action, e.detail);
        }
    }

    fn transitions_text(&self, o: &mut String) {
        let _ = writeln!(o, "\ntransitions:");
        let _ = writeln!(
            o,
            "  {:>10}  {:<12} {:<14} {:<8} {:<7}    {:<7} reason",
            "time", "node", "vhid", "vip", "from", "to"
        );
        for t in &self.transitions {
            let _ = writeln!(
                o,
                "  {:>10}  {:<12} {:<14} {:<8} {:<7} -> {:<7} {}",
                secs(t.time),
                t.node,
                format!("{}@{}", t.vhid, t.interface),
                t.vip.as_deref().unwrap_or("-"),
                t.from.as_str(),
                t.to.as_str(),
                t.reason
            );
        }
    }

    /// Traffic from VIPs, and what each cache holds at the end.
    fn neighbors_text(&self, o: &mut String) {
        if !self.sent_from_vip.is_empty() {
            let _ = writeln!(o, "\nsent from a VIP:");
        }
        for p in &self.sent_from_vip {
            let _ = writeln!(
                o,
                "  {:>10}  {} from {} ({}) to {}: {}",
                secs(p.time),
                p.node,
                p.vip,
                p.source,
                p.to,
                p.detail
            );
        }
        let _ = writeln!(o, "\nARP and neighbour caches at the end:");
        let mut last: Vec<&NeighborEntry> = Vec::new();
        for e in &self.neighbors {
            match last
                .iter_mut()
                .find(|l| l.host == e.host && l.address == e.address)
            {
                Some(l) => *l = e,
                None => last.push(e),
            }
        }
        if last.is_empty() {
            let _ = writeln!(o, "  (no entry for a VIP)");
        }
        for e in last {
            let _ = writeln!(
                o,
                "  {:<12} {:<28} {} (since {})",
                e.host,
                e.address,
                e.mac,
                secs(e.time)
            );
        }
    }

    fn nodes_text(&self, o: &mut String) {
        let _ = writeln!(o, "\nnodes:");
        for n in &self.nodes {
            let _ = writeln!(
                o,
                "  {} (FreeBSD {}; {}; demotion {}; badauth {})",
                n.name,
                n.freebsd,
                if n.up { "up" } else { "down" },
                n.demotion,
                n.stats.badauth
            );
            if n.held.is_empty() {
                let _ = writeln!(o, "    held no VIP");
            }
            for h in &n.held {
                let _ = writeln!(
                    o,
                    "    MASTER of {:<10} {} - {}{}",
                    h.vip,
                    secs(h.start),
                    secs(h.end),
                    if h.ongoing { " (still)" } else { "" }
                );
            }
        }
    }

    fn verdicts_text(&self, o: &mut String) {
        let v = &self.verdicts;
        let _ = writeln!(o, "\nrequirements:");
        let _ = writeln!(
            o,
            "  load balanced:              {}: {}",
            yes(v.load_balanced.met),
            v.load_balanced.detail
        );
        let _ = writeln!(
            o,
            "  failover unnoticed:         {}: {}",
            yes(v.failover_unnoticed.met),
            v.failover_unnoticed.detail
        );
        let _ = writeln!(
            o,
            "  rebalanced after recovery:  {}: {}",
            yes(v.rebalanced_after_recovery.met),
            v.rebalanced_after_recovery.detail
        );
    }
}

/// One VIP: when first answered, requests, its outages and dual masters
/// (those under 1 ms counted, not listed).
fn vip_text(o: &mut String, v: &VipReport) {
    let first = v
        .first_served
        .map_or("never".to_string(), |t| format!("{} s", secs(t)));
    let _ = writeln!(
        o,
        "  {} (vhid {}, {}): first answered at {first}; {} requests, {} lost",
        v.name,
        v.vhid,
        v.addresses.join(" "),
        v.requests,
        v.lost
    );
    let tiny = |start: f64, end: f64| end - start < TINY_S;
    let mut hidden = 0;
    for x in &v.outages {
        if tiny(x.start, x.end) && x.lost == 0 {
            hidden += 1;
            continue;
        }
        let _ = writeln!(
            o,
            "    outage       {} - {} ({} s, {} requests lost){}",
            secs(x.start),
            secs(x.end),
            dur(x.end - x.start),
            x.lost,
            if x.ongoing { ", still at the end" } else { "" }
        );
    }
    if hidden > 0 {
        let _ = writeln!(
            o,
            "    (and {hidden} outage{} shorter than 1 ms that no request fell into)",
            if hidden == 1 { "" } else { "s" }
        );
    }
    let mut hidden = 0;
    for x in &v.dual_master {
        if tiny(x.start, x.end) {
            hidden += 1;
            continue;
        }
        let _ = writeln!(
            o,
            "    dual master  {} - {} ({} s: {}){}",
            secs(x.start),
            secs(x.end),
            dur(x.end - x.start),
            x.nodes.join(", "),
            if x.ongoing { ", still at the end" } else { "" }
        );
    }
    if hidden > 0 {
        let _ = writeln!(
            o,
            "    (and {hidden} dual master{} shorter than 1 ms: a takeover crossing \
             the old master's step-down on the wire)",
            if hidden == 1 { "" } else { "s" }
        );
    }
}
