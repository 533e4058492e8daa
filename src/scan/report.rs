//! What `carpctl scan` reports: the source, every group with its speakers,
//! masters, transitions and dual-master intervals, and the findings. The
//! JSON form is a stable contract (carpctl(8), "scan", JSON OUTPUT):
//! `schema` names its version, keys are only ever added, and times are
//! seconds since the Unix epoch (a capture from `simulate --pcap` starts
//! at 0, so its times are the simulation's).

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use super::analyze;
use super::cluster::{ClusterView, Diagnosis, NodeSource};
use super::track::{Group, Proto, Speaker, Stats, Tracker};
use crate::lint::Severity;

/// The `schema` value of this version of the JSON form.
pub(crate) const SCHEMA: &str = "carpctl-scan/1";

/// Where the frames came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SourceInfo {
    /// "live" or "pcap".
    pub kind: &'static str,
    pub interfaces: Vec<String>,
    pub file: Option<String>,
    /// The cluster file, with `-c`.
    pub cluster: Option<String>,
    /// First and last frame, or the capture's start and end (live).
    pub start: Option<f64>,
    pub end: Option<f64>,
    /// What the kernel's capture counted, live only.
    pub kernel: Option<KernelStats>,
}

/// The kernel's counters for a live capture: Linux `PACKET_STATISTICS`,
/// FreeBSD `BIOCGSTATS`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KernelStats {
    /// Frames the kernel counted: on Linux those that passed the filter
    /// (dropped ones included), on FreeBSD every frame the interface saw.
    pub(crate) received: u64,
    /// Frames the kernel dropped because carpctl did not read fast enough.
    pub dropped: u64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub(crate) schema: &'static str,
    pub source: SourceInfo,
    /// The tracker's counts (`frames`, `advertisements`, `malformed`,
    /// `malformed_reasons`, `over_limits`, `over_rate`), at the top level.
    #[serde(flatten)]
    pub counts: Stats,
    pub(crate) groups: Vec<GroupReport>,
    pub findings: Vec<Finding>,
    pub(crate) summary: Summary,
}

/// One (protocol, vhid or VRID, interface).
#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    pub protocol: Proto,
    pub id: u8,
    pub interface: String,
    /// The cluster file's VIP of this vhid, with `-c`.
    pub vip: Option<String>,
    /// The speakers advertising at the end, with when they started.
    pub(crate) masters: Vec<Master>,
    pub speakers: Vec<SpeakerReport>,
    pub transitions: Vec<TransitionReport>,
    /// Older transitions not kept.
    pub(crate) transitions_dropped: u64,
    pub(crate) dual_master: Vec<DualReport>,
    pub(crate) dual_master_dropped: u64,
    /// Speakers over the cap, not tracked.
    pub(crate) speakers_dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Master {
    pub(crate) address: IpAddr,
    pub node: Option<String>,
    pub since: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransitionReport {
    pub time: f64,
    pub from: Option<IpAddr>,
    pub(crate) from_node: Option<String>,
    pub to: IpAddr,
    pub(crate) to_node: Option<String>,
    /// Seconds without a master before.
    pub(crate) gap: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct DualReport {
    pub start: f64,
    pub end: f64,
    pub speakers: Vec<IpAddr>,
    pub nodes: Vec<Option<String>>,
    pub(crate) ongoing: bool,
}

/// One speaker.
#[derive(Debug, Clone, Serialize)]
pub struct SpeakerReport {
    pub(crate) address: IpAddr,
    pub(crate) family: u8,
    pub(crate) macs: Vec<String>,
    pub node: Option<String>,
    pub(crate) node_source: Option<NodeSource>,
    pub(crate) first_seen: f64,
    pub(crate) last_seen: f64,
    pub advertisements: u64,
    /// Advertisements per second.
    pub(crate) rate: Option<f64>,
    /// Advertising at the end of the capture.
    pub(crate) master: bool,
    /// The start of its current (or last) advertising period.
    pub since: f64,
    /// The interval it advertises, seconds.
    pub interval: f64,
    /// The intervals seen between its advertisements.
    pub(crate) observed_interval: Option<IntervalStats>,
    pub(crate) bad_checksum: u64,
    pub(crate) bad_ttl: u64,
    /// Sent to a unicast address (CARP `peer`).
    pub unicast: u64,
    pub(crate) carp: Option<CarpReport>,
    pub vrrp: Option<VrrpReport>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct IntervalStats {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub samples: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct CarpReport {
    pub advbase: u8,
    pub advskew: u8,
    pub(crate) min_advskew: u8,
    pub(crate) max_advskew: u8,
    /// How often (advbase, advskew) changed.
    pub changes: u32,
    /// "increments", "random", "mixed" or "single".
    pub counter: &'static str,
    pub(crate) counter_resets: u32,
    pub hmac: HmacReport,
    /// With `-c` and a known node: its planned advskew for this VIP.
    pub(crate) planned_advskew: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct HmacReport {
    /// "verified", "failed", "mixed" (some of each) or "not checked".
    pub status: &'static str,
    pub(crate) verified: u64,
    pub(crate) failed: u64,
    pub(crate) unchecked: u64,
    /// Why it fails, when that could be found out.
    pub(crate) diagnosis: Option<String>,
    /// The same, for the findings.
    #[serde(skip)]
    pub(crate) cause: Option<Diagnosis>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VrrpReport {
    pub version: u8,
    pub priority: u8,
    pub interval: f64,
    pub addresses: Vec<IpAddr>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub protocol: Option<Proto>,
    pub id: Option<u8>,
    pub interface: Option<String>,
    pub(crate) speaker: Option<IpAddr>,
    pub node: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Summary {
    pub errors: usize,
    pub(crate) warnings: usize,
    pub info: usize,
}

impl Summary {
    fn of(findings: &[Finding]) -> Self {
        let n = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
        Summary {
            errors: n(Severity::Error),
            warnings: n(Severity::Warning),
            info: n(Severity::Info),
        }
    }
}

impl Report {
    /// Whether any finding is above info (exit status 1).
    pub(crate) fn failed(&self) -> bool {
        self.summary.errors + self.summary.warnings > 0
    }

    /// The group of (protocol, id, interface), if seen.
    pub fn group(&self, proto: Proto, id: u8, interface: &str) -> Option<&GroupReport> {
        self.groups
            .iter()
            .find(|g| g.protocol == proto && g.id == id && g.interface == interface)
    }
}

/// Which node each speaker is, with `-c`.
pub(crate) type Nodes = HashMap<IpAddr, (String, NodeSource)>;

/// The report of `tracker` as of `source.end`, with the cluster file's
/// view when given (its keys may be read to diagnose HMAC failures).
pub(crate) fn build(
    tracker: &Tracker,
    mut cluster: Option<&mut ClusterView>,
    source: SourceInfo,
) -> Report {
    let nodes = match cluster.as_deref() {
        Some(c) => c.nodes_of(&carp_observations(tracker)),
        None => Nodes::new(),
    };
    let mut order: Vec<&Group> = tracker.groups.iter().collect();
    order.sort_by(|a, b| {
        let label = |g: &Group| tracker.interfaces[usize::from(g.key.iface)].as_str();
        (label(a), a.key.proto, a.key.id).cmp(&(label(b), b.key.proto, b.key.id))
    });
    let groups: Vec<GroupReport> = order
        .into_iter()
        .map(|g| {
            let label = &tracker.interfaces[usize::from(g.key.iface)];
            group_report(g, label, cluster.as_deref_mut(), &nodes)
        })
        .collect();
    let findings = analyze::findings(tracker, &groups, cluster.as_deref(), &source, &nodes);
    Report {
        schema: SCHEMA,
        counts: tracker.stats.clone(),
        summary: Summary::of(&findings),
        source,
        groups,
        findings,
    }
}

/// (address, vhid, advskew) of every CARP speaker, for the node mapping.
fn carp_observations(tracker: &Tracker) -> Vec<(IpAddr, u8, u8)> {
    tracker
        .groups
        .iter()
        .filter(|g| g.key.proto == Proto::Carp)
        .flat_map(|g| {
            g.speakers
                .iter()
                .filter_map(move |s| Some((s.addr, g.key.id, s.carp?.advskew)))
        })
        .collect()
}

fn node_of(nodes: &Nodes, a: IpAddr) -> Option<String> {
    nodes.get(&a).map(|(n, _)| n.clone())
}

fn group_report(
    g: &Group,
    label: &str,
    mut cluster: Option<&mut ClusterView>,
    nodes: &Nodes,
) -> GroupReport {
    let active: Vec<usize> = g.active().collect();
    let vip_idx = match (&mut cluster, g.key.proto) {
        (Some(c), Proto::Carp) => c.candidates(g.key.id, label).first().copied(),
        _ => None,
    };
    let vip = vip_idx.and_then(|i| cluster.as_deref().map(|c| c.vips[i].name.clone()));
    let mut speakers: Vec<SpeakerReport> = g
        .speakers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let planned = vip_idx.and_then(|vi| {
                let node = node_of(nodes, s.addr)?;
                cluster.as_deref()?.vips[vi].planned.get(&node).copied()
            });
            let diagnosis = match (&mut cluster, s.carp.and_then(|c| c.hmac.failed_sample)) {
                (Some(c), Some(sample)) => Some(c.diagnose(g.key.id, label, sample)),
                _ => None,
            };
            speaker_report(s, active.contains(&i), nodes, planned, diagnosis)
        })
        .collect();
    speakers.sort_by_key(|s| s.address);
    let mut masters: Vec<Master> = active
        .iter()
        .map(|&i| Master {
            address: g.speakers[i].addr,
            node: node_of(nodes, g.speakers[i].addr),
            since: g.speakers[i].period_start,
        })
        .collect();
    masters.sort_by_key(|m| m.address);
    let mut duals: Vec<DualReport> = g
        .duals
        .items
        .iter()
        .cloned()
        .chain(g.open_duals())
        .map(|d| DualReport {
            nodes: d.speakers.iter().map(|&a| node_of(nodes, a)).collect(),
            start: d.start,
            end: d.end,
            speakers: d.speakers,
            ongoing: d.ongoing,
        })
        .collect();
    duals.sort_by(|a, b| a.start.total_cmp(&b.start));
    GroupReport {
        protocol: g.key.proto,
        id: g.key.id,
        interface: label.to_string(),
        vip,
        masters,
        speakers,
        transitions: g
            .transitions
            .items
            .iter()
            .map(|t| TransitionReport {
                time: t.time,
                from: t.from,
                from_node: t.from.and_then(|a| node_of(nodes, a)),
                to: t.to,
                to_node: node_of(nodes, t.to),
                gap: t.gap,
            })
            .collect(),
        transitions_dropped: g.transitions.dropped,
        dual_master: duals,
        dual_master_dropped: g.duals.dropped,
        speakers_dropped: g.dropped_speakers,
    }
}

fn speaker_report(
    s: &Speaker,
    master: bool,
    nodes: &Nodes,
    planned: Option<u8>,
    diagnosis: Option<Diagnosis>,
) -> SpeakerReport {
    let mut macs: Vec<_> = s.macs.clone();
    macs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    SpeakerReport {
        address: s.addr,
        family: if s.addr.is_ipv6() { 6 } else { 4 },
        macs: macs.iter().map(|(m, _)| m.to_string()).collect(),
        node: node_of(nodes, s.addr),
        node_source: nodes.get(&s.addr).map(|(_, src)| *src),
        first_seen: s.first_seen,
        last_seen: s.last_seen,
        advertisements: s.ads,
        rate: s.rate(),
        master,
        since: s.period_start,
        interval: s.interval(),
        observed_interval: s.gaps.mean().map(|mean| IntervalStats {
            mean,
            min: s.gaps.min,
            max: s.gaps.max,
            samples: s.gaps.n,
        }),
        bad_checksum: s.bad_checksum,
        bad_ttl: s.bad_ttl,
        unicast: s.unicast,
        carp: s.carp.map(|c| CarpReport {
            advbase: c.advbase,
            advskew: c.advskew,
            min_advskew: c.min_skew,
            max_advskew: c.max_skew,
            changes: c.changes,
            counter: c.counter.behaviour(),
            counter_resets: c.counter.resets,
            hmac: HmacReport {
                status: match (c.hmac.verified, c.hmac.failed) {
                    (0, 0) => "not checked",
                    (_, 0) => "verified",
                    (0, _) => "failed",
                    _ => "mixed",
                },
                verified: c.hmac.verified,
                failed: c.hmac.failed,
                unchecked: c.hmac.unchecked,
                diagnosis: diagnosis.as_ref().map(describe),
                cause: diagnosis.clone(),
            },
            planned_advskew: planned,
        }),
        vrrp: s.vrrp.as_ref().map(|v| VrrpReport {
            version: v.version,
            priority: v.priority,
            interval: v.interval,
            addresses: v.addrs.clone(),
        }),
    }
}

/// The words for a diagnosis (the finding's message builds on them).
pub(crate) fn describe(d: &Diagnosis) -> String {
    match d {
        Diagnosis::WrongPassword(Some(vip)) => {
            format!("wrong password: it verifies with the password of VIP \"{vip}\"")
        }
        Diagnosis::WrongPassword(None) => {
            "wrong password: it sends no password (it verifies with none)".to_string()
        }
        Diagnosis::AddressList(what) => {
            format!("different address list: it verifies with the right password and {what}")
        }
        Diagnosis::OtherVip(vip) => {
            format!(
                "configured as VIP \"{vip}\": it verifies with that VIP's password and addresses"
            )
        }
        Diagnosis::Unknown => "wrong password or a different address list: no password and \
                               address list of the cluster file verifies"
            .to_string(),
        Diagnosis::Unreadable(why) => format!("not diagnosed: {why}"),
    }
}

#[cfg(test)]
mod tests;
