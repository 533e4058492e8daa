//! The rules: from the groups seen (and the cluster file, with `-c`) to
//! findings with stable codes ([`Code`]), one function per code or pair.
//!
//! Each rule cites the behaviour it relies on: carp(4) from
//! docs/freebsd-carp.md (§ numbers), VRRP from RFC 3768 / RFC 9568,
//! ucarp from its `carp.c`.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::cluster::{ClusterView, Diagnosis};
use super::codes::Code;
use super::report::{Finding, GroupReport, Nodes, SourceInfo, SpeakerReport, describe};
use super::track::{Proto, Tracker};
use crate::lint::Severity;
use crate::wire::MacAddr;

/// Every finding, worst first, then by code and group.
pub(crate) fn findings(
    tracker: &Tracker,
    groups: &[GroupReport],
    cluster: Option<&ClusterView>,
    source: &SourceInfo,
    nodes: &Nodes,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let start = source.start.unwrap_or(0.0);
    for g in groups {
        dual_master(&mut out, g, start);
        same_number(&mut out, g, groups, cluster);
        ties(&mut out, g);
        vrrp_disagreement(&mut out, g, tracker);
        for s in &g.speakers {
            source_mac(&mut out, g, s);
            interval(&mut out, g, s);
            counter(&mut out, g, s);
            bad_packets(&mut out, g, s);
            hmac(&mut out, g, s);
            if let Some(c) = cluster {
                plan(&mut out, g, s, c, nodes);
            }
        }
        transitions(&mut out, g, start);
    }
    if let Some(c) = cluster {
        cluster_vhids(&mut out, groups, c, source);
    }
    capture(&mut out, tracker, source);
    out.sort_by(|a, b| {
        (a.severity, a.code, &a.interface, a.id, a.speaker).cmp(&(
            b.severity,
            b.code,
            &b.interface,
            b.id,
            b.speaker,
        ))
    });
    out
}

/// "carp vhid 1 on em0", "vrrp VRID 51 on em0".
pub(crate) fn group_name(g: &GroupReport) -> String {
    match g.protocol {
        Proto::Carp => format!("carp vhid {} on {}", g.id, g.interface),
        Proto::Vrrp => format!("vrrp VRID {} on {}", g.id, g.interface),
    }
}

/// "192.0.2.3 (mail-a)", or the address alone.
pub(crate) fn who(a: IpAddr, node: Option<&str>) -> String {
    match node {
        Some(n) => format!("{a} ({n})"),
        None => a.to_string(),
    }
}

/// A time as seconds into the capture.
/// The speakers of a dual-master interval, with their nodes.
pub(crate) fn dual_names(d: &super::report::DualReport) -> Vec<String> {
    d.speakers
        .iter()
        .zip(&d.nodes)
        .map(|(a, n)| who(*a, n.as_deref()))
        .collect()
}

pub(crate) fn at(t: f64, start: f64) -> String {
    format!("{:.3} s", t - start)
}

fn finding(code: Code, g: Option<&GroupReport>, s: Option<&SpeakerReport>, msg: String) -> Finding {
    Finding {
        code: code.id(),
        name: code.name(),
        severity: code.severity(),
        protocol: g.map(|g| g.protocol),
        id: g.map(|g| g.id),
        interface: g.map(|g| g.interface.clone()),
        speaker: s.map(|s| s.address),
        node: s.and_then(|s| s.node.clone()),
        message: msg,
    }
}

fn speaker_name(s: &SpeakerReport) -> String {
    who(s.address, s.node.as_deref())
}

/// SCAN001: a dual master longer than one interval of the speakers
/// involved (a takeover by preemption overlaps by one advertisement at
/// most).
fn dual_master(out: &mut Vec<Finding>, g: &GroupReport, start: f64) {
    for d in &g.dual_master {
        let interval = d
            .speakers
            .iter()
            .filter_map(|a| g.speakers.iter().find(|s| s.address == *a))
            .map(|s| s.interval)
            .fold(0.0, f64::max);
        let len = d.end - d.start;
        if len <= interval {
            continue;
        }
        let names = dual_names(d);
        let msg = format!(
            "{}: {} advertised as master at once from {} for {:.3} s{}; each ignores the other \
             (a partition, or advertisements the other rejects: see the HMAC findings)",
            group_name(g),
            names.join(" and "),
            at(d.start, start),
            len,
            if d.ongoing { ", still at the end" } else { "" }
        );
        out.push(finding(Code::DualMaster, Some(g), None, msg));
    }
}

/// SCAN002: CARP and VRRP on one number of one segment, or VRRP on a
/// cluster vhid. carp(4) sends from 00:00:5e:00:01:<vhid> (§11.5), as RFC
/// 5798 VRRP does for IPv4; and a VRRPv2 receiver reads CARP's first byte
/// (0x21) as its own version and type.
fn same_number(
    out: &mut Vec<Finding>,
    g: &GroupReport,
    groups: &[GroupReport],
    cluster: Option<&ClusterView>,
) {
    if g.protocol != Proto::Vrrp {
        return;
    }
    let macs = |x: &GroupReport| -> String {
        let set: BTreeSet<&str> = x
            .speakers
            .iter()
            .flat_map(|s| s.macs.iter().map(String::as_str))
            .collect();
        set.into_iter().collect::<Vec<_>>().join(", ")
    };
    let vmac = MacAddr::carp_virtual(g.id);
    if let Some(c) = groups
        .iter()
        .find(|c| c.protocol == Proto::Carp && c.id == g.id && c.interface == g.interface)
    {
        let msg = format!(
            "CARP vhid {id} (from {cm}) and VRRP VRID {id} (from {vm}) on {i} use the same \
             number: both protocols send from the virtual MAC {vmac}, so switches move it \
             between ports, and a VRRPv2 router reads CARP advertisements as its own \
             (version 2, type 1); give one of them another number",
            id = g.id,
            cm = macs(c),
            vm = macs(g),
            i = g.interface
        );
        out.push(finding(Code::SameNumber, Some(g), None, msg));
    } else if let Some(v) = cluster.and_then(|c| c.vips_of(g.id).next()) {
        let msg = format!(
            "VRRP VRID {} on {} uses the vhid of VIP \"{}\" of {}: where both meet on one \
             segment they share the virtual MAC {vmac}",
            g.id, g.interface, v.name, v.interface
        );
        out.push(finding(Code::SameNumber, Some(g), None, msg));
    }
}

/// SCAN003: equal advbase/advskew (CARP: a tie makes the receiving master
/// step down, no address tiebreak, §11.3) or equal priority (VRRP: the
/// higher address wins, RFC 9568 §6.4.3: info).
fn ties(out: &mut Vec<Finding>, g: &GroupReport) {
    for (i, a) in g.speakers.iter().enumerate() {
        for b in &g.speakers[i + 1..] {
            if a.family != b.family {
                continue;
            }
            let msg = match (&a.carp, &b.carp, &a.vrrp, &b.vrrp) {
                (Some(x), Some(y), _, _) if (x.advbase, x.advskew) == (y.advbase, y.advskew) => {
                    format!(
                        "{}: {} and {} both advertise advbase {} advskew {}: when both are \
                         master, the one that hears the other steps down, and with preemption \
                         they can take turns",
                        group_name(g),
                        speaker_name(a),
                        speaker_name(b),
                        x.advbase,
                        x.advskew
                    )
                }
                (_, _, Some(x), Some(y)) if x.priority == y.priority => format!(
                    "{}: {} and {} both advertise priority {}: the higher address wins",
                    group_name(g),
                    speaker_name(a),
                    speaker_name(b),
                    x.priority
                ),
                _ => continue,
            };
            let mut f = finding(Code::Tie, Some(g), Some(a), msg);
            if g.protocol == Proto::Vrrp {
                f.severity = Severity::Info;
            }
            out.push(f);
        }
    }
}

/// SCAN004: VRRP speakers of one VRID and family that list different
/// addresses, speak different versions, or authenticate differently
/// (VRRPv2). RFC 3768 §7.1 drops an advertisement whose address list
/// differs from the receiver's (or logs it).
fn vrrp_disagreement(out: &mut Vec<Finding>, g: &GroupReport, tracker: &Tracker) {
    if g.protocol != Proto::Vrrp {
        return;
    }
    for fam in [4u8, 6] {
        let vs: Vec<&SpeakerReport> = g
            .speakers
            .iter()
            .filter(|s| s.family == fam && s.vrrp.is_some())
            .collect();
        let Some(first) = vs.first() else { continue };
        let sorted = |s: &SpeakerReport| -> Vec<IpAddr> {
            let mut a = s
                .vrrp
                .as_ref()
                .map(|v| v.addresses.clone())
                .unwrap_or_default();
            a.sort_unstable();
            a
        };
        for other in &vs[1..] {
            let (va, vb) = (first.vrrp.as_ref(), other.vrrp.as_ref());
            let mut why = Vec::new();
            if sorted(first) != sorted(other) {
                why.push(format!(
                    "addresses {:?} vs {:?}",
                    sorted(first),
                    sorted(other)
                ));
            }
            if va.map(|v| v.version) != vb.map(|v| v.version) {
                why.push("versions differ".to_string());
            }
            if auth_of(tracker, g, first.address) != auth_of(tracker, g, other.address) {
                why.push("VRRPv2 authentication differs".to_string());
            }
            if why.is_empty() {
                continue;
            }
            let msg = format!(
                "{}: {} and {} disagree: {}",
                group_name(g),
                speaker_name(first),
                speaker_name(other),
                why.join("; ")
            );
            out.push(finding(Code::VrrpDisagree, Some(g), Some(other), msg));
        }
    }
}

/// The VRRPv2 authentication of a speaker, compared and never shown.
fn auth_of(
    tracker: &Tracker,
    g: &GroupReport,
    a: IpAddr,
) -> Option<(u8, Option<crate::wire::vrrp2::AuthData>)> {
    let grp = tracker.groups.iter().find(|x| {
        x.key.proto == g.protocol
            && x.key.id == g.id
            && tracker.interfaces[usize::from(x.key.iface)] == g.interface
    })?;
    let v = grp.speaker(a)?.vrrp.as_ref()?;
    (v.version == 2).then_some((v.auth_type, v.auth))
}

/// SCAN005 / SCAN006: the source MAC. carp(4) sends multicast
/// advertisements from 00:00:5e:00:01:<vhid> and unicast ones from the
/// interface (§11.5); ucarp from 00:00:5e:00:00:<vhid> (ucarp carp.c,
/// `carp_send_ad`); VRRP routers from 00:00:5e:00:01:<vrid> (IPv4) or
/// 00:00:5e:00:02:<vrid> (IPv6, RFC 9568 §7.3), keepalived without
/// `use_vmac` from its interface.
fn source_mac(out: &mut Vec<Finding>, g: &GroupReport, s: &SpeakerReport) {
    let vmac = MacAddr::carp_virtual(g.id);
    if s.macs.len() > 1 {
        let msg = format!(
            "{}: {} advertises from several MACs ({}): two hosts with one address, or one \
             that moved",
            group_name(g),
            speaker_name(s),
            s.macs.join(", ")
        );
        out.push(finding(Code::SourceMac, Some(g), Some(s), msg));
    }
    let Some(mac) = s.macs.first().and_then(|m| m.parse::<MacAddr>().ok()) else {
        return;
    };
    let multicast = s.unicast < s.advertisements;
    match g.protocol {
        Proto::Carp if multicast && mac != vmac => {
            let why = if mac == MacAddr([0, 0, 0x5e, 0, 0, g.id]) {
                "ucarp sends from 00:00:5e:00:00:<vhid>"
            } else {
                "not carp(4), or a bridge rewrote it"
            };
            let msg = format!(
                "{}: {} sends multicast advertisements from {mac}, not the virtual MAC {vmac} \
                 that carp(4) uses ({why}); switches learn the VIP's MAC elsewhere",
                group_name(g),
                speaker_name(s)
            );
            out.push(finding(Code::SourceMac, Some(g), Some(s), msg));
        }
        Proto::Vrrp if mac != vmac && mac != MacAddr([0, 0, 0x5e, 0, 2, g.id]) => {
            let msg = format!(
                "{}: {} advertises from {mac}, not the virtual MAC {vmac} (keepalived does so \
                 without use_vmac)",
                group_name(g),
                speaker_name(s)
            );
            out.push(finding(Code::VrrpOwnMac, Some(g), Some(s), msg));
        }
        _ => {}
    }
}

/// SCAN007: the mean interval between advertisements of one period is off
/// the advertised one (advbase + advskew/256, §11.1; VRRP's interval) by
/// more than a quarter, and by more than 50 ms (timer ticks, §Errata).
fn interval(out: &mut Vec<Finding>, g: &GroupReport, s: &SpeakerReport) {
    let Some(o) = s.observed_interval else { return };
    if o.samples < 3 {
        return;
    }
    let want = s.interval;
    if (o.mean - want).abs() <= (0.25 * want).max(0.05) {
        return;
    }
    let said = match (&s.carp, &s.vrrp) {
        (Some(c), _) => format!("advbase {} advskew {} say", c.advbase, c.advskew),
        (None, Some(v)) => format!("VRRPv{} interval says", v.version),
        _ => "it says".to_string(),
    };
    let msg = format!(
        "{}: {} advertises every {:.3} s on average ({:.3}-{:.3} s over {} intervals), but its \
         {said} {:.3} s",
        group_name(g),
        speaker_name(s),
        o.mean,
        o.min,
        o.max,
        o.samples,
        want
    );
    out.push(finding(Code::Interval, Some(g), Some(s), msg));
}

/// SCAN008: an incrementing counter jumped. carp(4) starts each vhid with a
/// random counter and keeps drawing one per packet until it accepts a
/// peer's advertisement (§12.3), so a jump after steps is a new start.
fn counter(out: &mut Vec<Finding>, g: &GroupReport, s: &SpeakerReport) {
    let Some(c) = &s.carp else { return };
    if c.counter_resets == 0 {
        return;
    }
    let msg = format!(
        "{}: {}'s counter started again {} time{} (the vhid was created again, or the node \
         restarted)",
        group_name(g),
        speaker_name(s),
        c.counter_resets,
        if c.counter_resets == 1 { "" } else { "s" }
    );
    out.push(finding(Code::CounterReset, Some(g), Some(s), msg));
}

/// SCAN009 (per speaker): bad checksums (`carps_badsum`) and a TTL other
/// than 255 on multicast advertisements (`carps_badttl`, §11.4): every
/// receiver drops them.
fn bad_packets(out: &mut Vec<Finding>, g: &GroupReport, s: &SpeakerReport) {
    if s.bad_checksum > 0 {
        let msg = format!(
            "{}: {} of {}'s advertisements have a bad checksum; receivers drop them",
            group_name(g),
            s.bad_checksum,
            speaker_name(s)
        );
        out.push(finding(Code::BadPacket, Some(g), Some(s), msg));
    }
    if s.bad_ttl > 0 {
        let msg = format!(
            "{}: {} of {}'s multicast advertisements arrive with a TTL other than 255 (routed?); \
             receivers drop them",
            group_name(g),
            s.bad_ttl,
            speaker_name(s)
        );
        out.push(finding(Code::BadPacket, Some(g), Some(s), msg));
    }
}

/// SCAN010-SCAN013: HMAC failures, with their cause when it was found
/// ([`ClusterView::diagnose`]).
fn hmac(out: &mut Vec<Finding>, g: &GroupReport, s: &SpeakerReport) {
    let Some(c) = &s.carp else { return };
    let h = &c.hmac;
    if h.failed == 0 {
        return;
    }
    let code = match &h.cause {
        Some(Diagnosis::WrongPassword(_)) => Code::WrongPassword,
        Some(Diagnosis::AddressList(_)) | Some(Diagnosis::OtherVip(_)) => Code::AddressList,
        Some(Diagnosis::Unreadable(_)) => Code::HmacUnchecked,
        _ => Code::HmacFailed,
    };
    let cause = h
        .cause
        .as_ref()
        .map_or_else(|| describe(&Diagnosis::Unknown), describe);
    let msg = format!(
        "{}: the HMAC of {} of {}'s {} advertisements fails against {}: {cause}; the other \
         nodes reject them (carps_badauth) and become master too",
        group_name(g),
        h.failed,
        speaker_name(s),
        s.advertisements,
        g.vip
            .as_ref()
            .map_or("the cluster file".to_string(), |v| format!("VIP \"{v}\"")),
    );
    out.push(finding(code, Some(g), Some(s), msg));
}

/// SCAN014 / SCAN015 / SCAN016: the speaker against the plan. carp(4)
/// advertises the planned skew plus the node's demotion, at most 240
/// (`DEMOTE_ADVSKEW`, §11.1).
fn plan(
    out: &mut Vec<Finding>,
    g: &GroupReport,
    s: &SpeakerReport,
    cluster: &ClusterView,
    nodes: &Nodes,
) {
    let (Some(c), Some(vip)) = (&s.carp, &g.vip) else {
        return;
    };
    let Some(v) = cluster.vips.iter().find(|v| &v.name == vip) else {
        return;
    };
    let Some(node) = &s.node else {
        let msg = if cluster.map.is_empty() {
            format!(
                "{}: cannot tell which node {} is from its advskew {}: pass --map NODE={}",
                group_name(g),
                s.address,
                c.advskew,
                s.address
            )
        } else {
            format!(
                "{}: {} is not a node of {} (no --map names it)",
                group_name(g),
                s.address,
                cluster.path.display()
            )
        };
        let mut f = finding(Code::UnknownSpeaker, Some(g), Some(s), msg);
        if cluster.map.is_empty() {
            f.severity = Severity::Info;
        }
        out.push(f);
        return;
    };
    let how = match nodes.get(&s.address) {
        Some((_, super::cluster::NodeSource::Skew)) => " (told by its advskew)",
        _ => "",
    };
    if c.advbase != v.advbase {
        let msg = format!(
            "{}: {node}{how} advertises advbase {}, the cluster file plans {}",
            group_name(g),
            c.advbase,
            v.advbase
        );
        out.push(finding(Code::PlanMismatch, Some(g), Some(s), msg));
    }
    let Some(planned) = c.planned_advskew else {
        let msg = format!(
            "{}: {node}{how} advertises VIP \"{vip}\", in which the cluster file gives it no part",
            group_name(g)
        );
        out.push(finding(Code::PlanMismatch, Some(g), Some(s), msg));
        return;
    };
    let skew = c.advskew;
    if skew < planned {
        let msg = format!(
            "{}: {node}{how} advertises advskew {skew}, below the planned {planned}: its \
             configuration is not the cluster file's (run carpctl apply there)",
            group_name(g)
        );
        out.push(finding(Code::PlanMismatch, Some(g), Some(s), msg));
    } else if skew > planned {
        let d = skew - planned;
        let ceiling = if skew == crate::model::CARP_MAXSKEW {
            format!(" or more (carp(4) advertises at most {skew})")
        } else {
            String::new()
        };
        let msg = format!(
            "{}: {node}{how} advertises advskew {skew} = planned {planned} + demotion {d}{ceiling}: \
             maintenance, a failing check, or an interface down?",
            group_name(g)
        );
        out.push(finding(Code::Demoted, Some(g), Some(s), msg));
    }
}

/// SCAN020: each change of master.
fn transitions(out: &mut Vec<Finding>, g: &GroupReport, start: f64) {
    for t in &g.transitions {
        let from = t
            .from
            .map_or("nobody".to_string(), |a| who(a, t.from_node.as_deref()));
        let gap = if t.gap > 0.0 {
            format!(" after {:.3} s without a master", t.gap)
        } else {
            String::new()
        };
        let msg = format!(
            "{}: master changed from {from} to {} at {}{gap}",
            group_name(g),
            who(t.to, t.to_node.as_deref()),
            at(t.time, start)
        );
        out.push(finding(Code::MasterChanged, Some(g), None, msg));
    }
}

/// SCAN013 (unreadable keys), SCAN017 (vhids not in the file) and SCAN018
/// (VIPs nobody advertised while others of their interface were seen).
fn cluster_vhids(
    out: &mut Vec<Finding>,
    groups: &[GroupReport],
    c: &ClusterView,
    source: &SourceInfo,
) {
    let carp: Vec<&GroupReport> = groups
        .iter()
        .filter(|g| g.protocol == Proto::Carp)
        .collect();
    for g in &carp {
        if c.vips_of(g.id).next().is_none() {
            let msg = format!(
                "{}: the cluster file has no VIP with vhid {}: another cluster or a stray \
                 configuration on this segment",
                group_name(g),
                g.id
            );
            out.push(finding(Code::UnknownVhid, Some(g), None, msg));
        }
    }
    for (i, v) in c.vips.iter().enumerate() {
        if let Some(why) = c.key_problem(i) {
            let msg = format!(
                "VIP \"{}\" (vhid {}): HMAC not checked: {why}",
                v.name, v.vhid
            );
            out.push(finding(Code::HmacUnchecked, None, None, msg));
        }
    }
    let span = match (source.start, source.end) {
        (Some(a), Some(b)) => b - a,
        _ => 0.0,
    };
    let seen = |vhid: u8| carp.iter().any(|g| g.id == vhid);
    for v in &c.vips {
        let neighbours_seen = c
            .vips
            .iter()
            .any(|w| w.interface == v.interface && w.vhid != v.vhid && seen(w.vhid));
        if seen(v.vhid) || !neighbours_seen || span < 3.0 * f64::from(v.advbase) + 1.0 {
            continue;
        }
        let msg = format!(
            "VIP \"{}\" (vhid {}, interface {}): nobody advertised it in {span:.1} s, while other \
             VIPs of {} were seen: no node holds it",
            v.name, v.vhid, v.interface, v.interface
        );
        out.push(finding(Code::SilentVip, None, None, msg));
    }
}

/// SCAN009 (unreadable frames), SCAN019 (kernel drops) and SCAN021
/// (carpctl's own limits).
fn capture(out: &mut Vec<Finding>, tracker: &Tracker, source: &SourceInfo) {
    let st = &tracker.stats;
    if st.over_limits > 0 || st.over_rate > 0 {
        let l = tracker.limits;
        let msg = format!(
            "{} advertisement{} ignored over the limits ({} groups, {} speakers per group) and              {} frame{} over {} per second: a flood, or a segment larger than scan tracks",
            st.over_limits,
            if st.over_limits == 1 { "" } else { "s" },
            l.groups,
            l.speakers_per_group,
            st.over_rate,
            if st.over_rate == 1 { "" } else { "s" },
            super::RATE_LIMIT
        );
        out.push(finding(Code::OverLimits, None, None, msg));
    }
    if st.malformed > 0 {
        let msg = format!(
            "{} protocol 112 frame{} could not be read: {}",
            st.malformed,
            if st.malformed == 1 { "" } else { "s" },
            st.malformed_reasons.join("; ")
        );
        out.push(finding(Code::BadPacket, None, None, msg));
    }
    if let Some(k) = source.kernel
        && k.dropped > 0
    {
        let msg = format!(
            "the kernel dropped {} frame{} ({} counted) before carpctl read them: the counts \
             above miss some advertisements",
            k.dropped,
            if k.dropped == 1 { "" } else { "s" },
            k.received
        );
        out.push(finding(Code::Drops, None, None, msg));
    }
}

#[cfg(test)]
mod tests;
