//! The state of the segment as the advertisements tell it, per (protocol,
//! vhid or VRID, interface): each speaker, who is master now and since
//! when, the transitions and the dual-master intervals seen.
//!
//! carp(4) and VRRP masters advertise; backups are silent. So a speaker
//! that advertises is a master for as long as it keeps advertising, and
//! "advertising" ends when no advertisement follows within three of its
//! intervals (what a backup waits before it takes over:
//! `3 × advbase + advskew/256`, docs/freebsd-carp.md §11.1). When that is
//! found out, the period is taken to have ended at the first advertisement
//! another speaker sent after its last one (the one that made it step
//! down, with preemption), and at the latest one interval after its last
//! one. Two speakers of one family advertising at once are a dual master;
//! it ends when one of them stops.
//!
//! Everything is bounded, whatever the traffic: [`Limits`] caps the
//! groups, the speakers per group and the records kept; what is over a cap
//! is counted, not stored.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use super::decode::{Decoded, Message};
use crate::wire::MacAddr;
use crate::wire::vrrp2::AuthData;

/// Caps on what the tracker keeps.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub(crate) groups: usize,
    pub(crate) speakers_per_group: usize,
    /// Transitions and dual-master intervals kept per group (the newest).
    pub(crate) records: usize,
    /// Distinct source MACs kept per speaker.
    pub(crate) macs: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            groups: 1024,
            speakers_per_group: 16,
            records: 256,
            macs: 4,
        }
    }
}

/// CARP or VRRP (either version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Carp,
    Vrrp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Carp => "carp",
            Proto::Vrrp => "vrrp",
        }
    }
}

/// What a group is: protocol, number, interface (with VLAN suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct GroupKey {
    pub proto: Proto,
    pub id: u8,
    /// Index into [`Tracker::interfaces`].
    pub iface: u16,
}

/// An HMAC verdict for one CARP advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Verified,
    Failed,
    /// No key to check it with.
    Unchecked,
}

/// Checks CARP HMACs; the cluster file's keys do ([`super::cluster`]).
pub(crate) trait Verify {
    /// The verdict for `header`, received on interface `iface`.
    fn verify(&mut self, iface: &str, header: &crate::wire::CarpHeader) -> Verdict;
}

/// How a speaker's CARP counter moved from one advertisement to the next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counter {
    pub last: Option<u64>,
    /// +1 to +16: one per packet sent (both families share it).
    pub(crate) steps: u64,
    /// The same value again (a replayed or duplicated packet).
    pub(crate) repeats: u64,
    /// Anything else: a fresh random counter.
    pub(crate) jumps: u64,
    /// Jumps after at least three steps in a row: the counter was reset
    /// (the vhid was created again, or the node restarted).
    pub(crate) resets: u32,
    run: u32,
}

/// The longest forward step still counted as "incrementing".
const COUNTER_STEP_MAX: u64 = 16;

impl Counter {
    fn see(&mut self, c: u64) {
        if let Some(last) = self.last {
            let d = c.wrapping_sub(last);
            if d == 0 {
                self.repeats += 1;
            } else if d <= COUNTER_STEP_MAX {
                self.steps += 1;
                self.run = self.run.saturating_add(1);
            } else {
                self.jumps += 1;
                if self.run >= 3 {
                    self.resets = self.resets.saturating_add(1);
                }
                self.run = 0;
            }
        }
        self.last = Some(c);
    }

    /// "increments", "random", "mixed", or "single" (one advertisement).
    pub(crate) fn behaviour(&self) -> &'static str {
        let n = self.steps + self.repeats + self.jumps;
        if n == 0 {
            "single"
        } else if self.steps * 5 >= n * 4 {
            "increments"
        } else if self.jumps * 5 >= n * 4 {
            "random"
        } else {
            "mixed"
        }
    }
}

/// HMAC verdicts of a speaker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Hmac {
    pub(crate) verified: u64,
    pub(crate) failed: u64,
    pub(crate) unchecked: u64,
    /// The last advertisement that failed: counter and digest, for the
    /// diagnosis at report time.
    pub(crate) failed_sample: Option<(u64, [u8; 20])>,
}

/// The CARP fields of a speaker (the latest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CarpInfo {
    pub advbase: u8,
    pub advskew: u8,
    /// How often (advbase, advskew) changed (a demotion, a reconfiguration).
    pub changes: u32,
    pub(crate) min_skew: u8,
    pub(crate) max_skew: u8,
    pub counter: Counter,
    pub hmac: Hmac,
    /// `carp_authlen`, 7 from carp(4) and ucarp.
    pub authlen: u8,
}

/// The VRRP fields of a speaker (the latest).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VrrpInfo {
    /// 2 or 3.
    pub version: u8,
    pub priority: u8,
    /// Seconds (VRRPv2: whole seconds; VRRPv3: centiseconds / 100).
    pub interval: f64,
    pub addrs: Vec<IpAddr>,
    /// VRRPv2: the authentication type and data (compared, never shown).
    pub(crate) auth_type: u8,
    pub auth: Option<AuthData>,
    pub changes: u32,
}

/// Intervals between consecutive advertisements of one period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Gaps {
    pub n: u64,
    pub sum: f64,
    /// The intervals the speaker advertised over the same gaps.
    pub(crate) expected_sum: f64,
    pub min: f64,
    pub max: f64,
}

impl Gaps {
    fn add(&mut self, gap: f64, expected: f64) {
        if self.n == 0 || gap < self.min {
            self.min = gap;
        }
        if gap > self.max {
            self.max = gap;
        }
        self.n += 1;
        self.sum += gap;
        self.expected_sum += expected;
    }

    pub(crate) fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }

    /// The mean of the intervals the speaker announced (the tests' check
    /// of what `add` sums).
    #[cfg(test)]
    pub(crate) fn expected_mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.expected_sum / self.n as f64)
    }
}

/// One sender of advertisements in a group, by IP source address.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Speaker {
    pub addr: IpAddr,
    /// Source MACs with their counts; `other_macs` counts the rest.
    pub(crate) macs: Vec<(MacAddr, u64)>,
    pub(crate) other_macs: u64,
    pub(crate) first_seen: f64,
    pub(crate) last_seen: f64,
    pub ads: u64,
    pub(crate) carp: Option<CarpInfo>,
    pub vrrp: Option<VrrpInfo>,
    pub(crate) bad_checksum: u64,
    /// Multicast advertisements with a TTL other than 255, and the last
    /// such TTL.
    pub(crate) bad_ttl: u64,
    pub(crate) last_bad_ttl: u8,
    /// Sent to a unicast address (CARP `peer`) rather than the group.
    pub unicast: u64,
    pub(crate) gaps: Gaps,
    /// The current (or last) advertising period started here.
    pub(crate) period_start: f64,
    pub(crate) periods: u32,
    /// The first advertisement another speaker of the family sent after
    /// this one's last: when it stepped down, if it did.
    next_other: Option<f64>,
}

impl Speaker {
    /// The interval it advertises, in seconds (at least 1 ms, so that a
    /// bogus 0 cannot make every gap "late").
    pub(crate) fn interval(&self) -> f64 {
        let i = match (&self.carp, &self.vrrp) {
            (Some(c), _) => f64::from(c.advbase) + f64::from(c.advskew) / 256.0,
            (None, Some(v)) => v.interval,
            (None, None) => 1.0,
        };
        i.max(0.001)
    }

    /// How long after its last advertisement it is taken to have stopped:
    /// three intervals, as a backup waits.
    pub(crate) fn timeout(&self) -> f64 {
        3.0 * self.interval()
    }

    /// When its period is taken to have ended (see the module doc).
    pub(crate) fn end_estimate(&self) -> f64 {
        let latest = self.last_seen + self.interval();
        self.next_other.map_or(latest, |t| t.min(latest))
    }

    /// Advertisements per second over its lifetime in the capture.
    pub(crate) fn rate(&self) -> Option<f64> {
        let span = self.last_seen - self.first_seen;
        (self.ads > 1 && span > 0.0).then(|| (self.ads - 1) as f64 / span)
    }

    /// The MAC seen most often (the tests' view of `macs`).
    #[cfg(test)]
    pub(crate) fn main_mac(&self) -> Option<MacAddr> {
        self.macs.iter().max_by_key(|(_, n)| *n).map(|(m, _)| *m)
    }
}

/// A change of master: `from` stopped, `to` took over.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Transition {
    pub time: f64,
    pub from: Option<IpAddr>,
    pub to: IpAddr,
    /// Seconds without any master before `to` started (0 when it took
    /// over from a master still advertising).
    pub(crate) gap: f64,
}

/// Two or more speakers of one family advertising at once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Dual {
    pub start: f64,
    pub end: f64,
    pub speakers: Vec<IpAddr>,
    pub(crate) ongoing: bool,
}

impl Dual {
    pub(crate) fn length(&self) -> f64 {
        self.end - self.start
    }
}

/// Newest-first bounded log: keeps the last `cap` entries and counts the
/// ones dropped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Recent<T> {
    pub(crate) items: std::collections::VecDeque<T>,
    pub dropped: u64,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Recent {
            items: std::collections::VecDeque::new(),
            dropped: 0,
        }
    }
}

impl<T> Recent<T> {
    fn push(&mut self, cap: usize, x: T) {
        if self.items.len() == cap {
            self.items.pop_front();
            self.dropped += 1;
        }
        if cap > 0 {
            self.items.push_back(x);
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Family {
    /// Speakers advertising now (indices into `Group::speakers`).
    active: Vec<usize>,
    /// The master when one speaker alone advertised last.
    master: Option<usize>,
    dual: Option<(f64, Vec<usize>)>,
}

/// One (protocol, number, interface).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    pub key: GroupKey,
    pub speakers: Vec<Speaker>,
    /// Speakers over the cap, not tracked.
    pub(crate) dropped_speakers: u64,
    pub transitions: Recent<Transition>,
    pub(crate) duals: Recent<Dual>,
    families: [Family; 2],
}

impl Group {
    /// The speakers advertising now, per family (indices).
    pub(crate) fn active(&self) -> impl Iterator<Item = usize> + '_ {
        self.families.iter().flat_map(|f| f.active.iter().copied())
    }

    /// The open dual-master intervals, as of the last update.
    pub(crate) fn open_duals(&self) -> Vec<Dual> {
        self.families
            .iter()
            .filter_map(|f| f.dual.as_ref())
            .map(|(start, who)| Dual {
                start: *start,
                end: who
                    .iter()
                    .map(|&i| self.speakers[i].last_seen)
                    .fold(*start, f64::max),
                speakers: who.iter().map(|&i| self.speakers[i].addr).collect(),
                ongoing: true,
            })
            .collect()
    }

    /// A speaker's index, by address.
    pub(crate) fn speaker(&self, addr: IpAddr) -> Option<&Speaker> {
        self.speakers.iter().find(|s| s.addr == addr)
    }
}

/// Counts over the whole capture.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Frames handed to the tracker's decoder.
    pub frames: u64,
    /// Of which protocol 112 and readable.
    pub advertisements: u64,
    /// Of which protocol 112 and not readable.
    pub(crate) malformed: u64,
    /// Up to five distinct reasons for the unreadable ones.
    pub(crate) malformed_reasons: Vec<String>,
    /// Advertisements of groups or speakers over the caps.
    pub(crate) over_limits: u64,
    /// Frames not even decoded: over the live capture's rate limit.
    pub(crate) over_rate: u64,
}

/// The whole segment.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    pub(crate) limits: Limits,
    /// Interface labels (`em0`, `em0.100`), indexed by `GroupKey::iface`.
    pub interfaces: Vec<String>,
    pub(crate) groups: Vec<Group>,
    index: HashMap<GroupKey, usize>,
    pub stats: Stats,
    pub first: Option<f64>,
    pub last: Option<f64>,
}

impl Tracker {
    pub fn new(limits: Limits) -> Self {
        Tracker {
            limits,
            ..Tracker::default()
        }
    }

    /// Counts a frame that carried no advertisement.
    pub(crate) fn frame_without_ad(&mut self) {
        self.stats.frames += 1;
    }

    /// Counts an unreadable protocol-112 frame, keeping a few reasons.
    pub(crate) fn malformed(&mut self, reason: &str) {
        self.stats.frames += 1;
        self.stats.malformed += 1;
        let r = &mut self.stats.malformed_reasons;
        if r.len() < 5 && !r.iter().any(|x| x == reason) {
            r.push(reason.to_string());
        }
    }

    /// The index of the interface label `name` + the frame's VLAN suffix.
    pub(crate) fn interface(&mut self, name: &str, d: &Decoded) -> Option<u16> {
        let suffix = d.vlan_suffix();
        let found = self
            .interfaces
            .iter()
            .position(|l| l.strip_prefix(name) == Some(suffix.as_str()));
        if let Some(i) = found {
            return u16::try_from(i).ok();
        }
        if self.interfaces.len() >= self.limits.groups {
            return None;
        }
        self.interfaces.push(format!("{name}{suffix}"));
        u16::try_from(self.interfaces.len() - 1).ok()
    }

    /// Takes one advertisement seen at `time` (seconds since the Unix
    /// epoch) on interface `name`; `verify` checks CARP HMACs.
    pub(crate) fn ingest(
        &mut self,
        time: f64,
        name: &str,
        d: &Decoded,
        verify: Option<&mut dyn Verify>,
    ) {
        self.stats.frames += 1;
        self.stats.advertisements += 1;
        self.first = Some(self.first.map_or(time, |f| f.min(time)));
        self.last = Some(self.last.map_or(time, |l| l.max(time)));
        let Some(iface) = self.interface(name, d) else {
            self.stats.over_limits += 1;
            return;
        };
        let proto = match d.message {
            Message::Carp(_) => Proto::Carp,
            Message::Vrrp2(_) | Message::Vrrp3(_) => Proto::Vrrp,
        };
        let key = GroupKey {
            proto,
            id: d.message.id(),
            iface,
        };
        let gi = match self.index.get(&key) {
            Some(&i) => i,
            None if self.groups.len() < self.limits.groups => {
                self.groups.push(Group {
                    key,
                    speakers: Vec::new(),
                    dropped_speakers: 0,
                    transitions: Recent::default(),
                    duals: Recent::default(),
                    families: Default::default(),
                });
                self.index.insert(key, self.groups.len() - 1);
                self.groups.len() - 1
            }
            None => {
                self.stats.over_limits += 1;
                return;
            }
        };
        let verdict = match (&d.message, verify) {
            (Message::Carp(h), Some(v)) => v.verify(&self.interfaces[usize::from(iface)], h),
            _ => Verdict::Unchecked,
        };
        let limits = self.limits;
        if !self.groups[gi].see(limits, time, d, verdict) {
            self.stats.over_limits += 1;
        }
    }

    /// Ends the periods of speakers silent for longer than their timeout
    /// by `now` (the end of the capture), as a new advertisement would.
    pub(crate) fn advance(&mut self, now: f64) {
        let records = self.limits.records;
        for g in &mut self.groups {
            for fam in 0..2 {
                g.expire(records, fam, now, None);
            }
        }
    }
}

impl Group {
    /// Takes one advertisement; false if its speaker is over the cap.
    fn see(&mut self, limits: Limits, t: f64, d: &Decoded, verdict: Verdict) -> bool {
        let si = match self.speakers.iter().position(|s| s.addr == d.src) {
            Some(i) => i,
            None if self.speakers.len() < limits.speakers_per_group => {
                self.speakers.push(new_speaker(d, t));
                self.speakers.len() - 1
            }
            None => {
                self.dropped_speakers += 1;
                return false;
            }
        };
        let fam = usize::from(d.src.is_ipv6());
        self.expire(limits.records, fam, t, Some(si));
        self.update_period(limits.records, fam, si, t);
        // Everyone else active has now heard someone after its last ad.
        for &o in &self.families[fam].active {
            if o != si && self.speakers[o].next_other.is_none() {
                self.speakers[o].next_other = Some(t);
            }
        }
        let s = &mut self.speakers[si];
        s.update(limits.macs, t, d, verdict);
        true
    }

    /// Ends the periods of the active speakers of `fam` (other than
    /// `except`) silent past their timeout at `now`.
    fn expire(&mut self, records: usize, fam: usize, now: f64, except: Option<usize>) {
        let expired: Vec<usize> = self.families[fam]
            .active
            .iter()
            .copied()
            .filter(|&i| Some(i) != except)
            .filter(|&i| self.speakers[i].last_seen + self.speakers[i].timeout() < now)
            .collect();
        for i in expired {
            let end = self.speakers[i].end_estimate();
            self.stop(records, fam, i, end);
        }
    }

    /// Speaker `i` of `fam` stopped advertising at `end`.
    fn stop(&mut self, records: usize, fam: usize, i: usize, end: f64) {
        let f = &mut self.families[fam];
        f.active.retain(|&x| x != i);
        if f.active.is_empty() {
            f.master = Some(i);
        }
        if let Some((start, who)) = &f.dual
            && f.active.len() < 2
        {
            let d = Dual {
                start: *start,
                end: end.max(*start),
                speakers: who.iter().map(|&x| self.speakers[x].addr).collect(),
                ongoing: false,
            };
            f.dual = None;
            // A takeover seen on the wire as one advertisement after the
            // other (preemption) is no interval at all.
            if d.length() > 0.0 {
                self.duals.push(records, d);
            }
        }
        self.settle(records, fam, end);
    }

    /// When one speaker alone is left advertising and it is not the last
    /// master, that is a transition at `time`.
    fn settle(&mut self, records: usize, fam: usize, time: f64) {
        let f = &mut self.families[fam];
        let [only] = f.active[..] else {
            return;
        };
        if f.master == Some(only) {
            return;
        }
        let from = f.master.map(|m| self.speakers[m].addr);
        let start = self.speakers[only].period_start;
        // The master it follows has stopped: its end is final.
        let gap = f
            .master
            .map_or(0.0, |m| (start - self.speakers[m].end_estimate()).max(0.0));
        let at = time.max(start);
        let first = f.master.is_none();
        f.master = Some(only);
        if !first {
            self.transitions.push(
                records,
                Transition {
                    time: at,
                    from,
                    to: self.speakers[only].addr,
                    gap,
                },
            );
        }
    }

    /// Starts or continues speaker `si`'s advertising period at `t`.
    fn update_period(&mut self, records: usize, fam: usize, si: usize, t: f64) {
        let active = self.families[fam].active.contains(&si);
        let s = &self.speakers[si];
        if active && s.last_seen + s.timeout() >= t {
            let (gap, expected) = (t - s.last_seen, s.interval());
            // Out of order (captures merged from several interfaces): no
            // interval to learn from.
            if gap >= 0.0 {
                self.speakers[si].gaps.add(gap, expected);
            }
            return;
        }
        if active {
            // Silent past its timeout, and back: the old period ended.
            let end = s.end_estimate();
            self.stop(records, fam, si, end);
        }
        let s = &mut self.speakers[si];
        s.period_start = t;
        s.periods = s.periods.saturating_add(1);
        let f = &mut self.families[fam];
        f.active.push(si);
        if f.active.len() >= 2 {
            match &mut f.dual {
                Some((_, who)) => {
                    if !who.contains(&si) {
                        who.push(si);
                    }
                }
                None => f.dual = Some((t, f.active.clone())),
            }
        } else {
            self.settle(records, fam, t);
        }
    }
}

fn new_speaker(d: &Decoded, t: f64) -> Speaker {
    Speaker {
        addr: d.src,
        macs: Vec::new(),
        other_macs: 0,
        first_seen: t,
        last_seen: t,
        ads: 0,
        carp: None,
        vrrp: None,
        bad_checksum: 0,
        bad_ttl: 0,
        last_bad_ttl: 0,
        unicast: 0,
        gaps: Gaps::default(),
        period_start: t,
        periods: 0,
        next_other: None,
    }
}

impl Speaker {
    fn update(&mut self, max_macs: usize, t: f64, d: &Decoded, verdict: Verdict) {
        self.ads += 1;
        self.last_seen = self.last_seen.max(t);
        self.next_other = None;
        if let Some(mac) = d.src_mac {
            if let Some((_, n)) = self.macs.iter_mut().find(|(m, _)| *m == mac) {
                *n += 1;
            } else if self.macs.len() < max_macs {
                self.macs.push((mac, 1));
            } else {
                self.other_macs += 1;
            }
        }
        if !d.checksum_ok {
            self.bad_checksum += 1;
        }
        // Unicast mode accepts routed advertisements (docs/freebsd-carp.md
        // §11.4, step 7): only multicast ones must carry TTL 255.
        if !d.ttl_ok() && d.dst.is_multicast() {
            self.bad_ttl += 1;
            self.last_bad_ttl = d.ttl;
        }
        if !d.dst.is_multicast() {
            self.unicast += 1;
        }
        match &d.message {
            Message::Carp(h) => self.update_carp(h, verdict),
            Message::Vrrp3(v) => self.update_vrrp(VrrpInfo {
                version: 3,
                priority: v.priority,
                interval: f64::from(v.interval_cs()) / 100.0,
                addrs: v.addrs.clone(),
                auth_type: 0,
                auth: None,
                changes: 0,
            }),
            Message::Vrrp2(v) => self.update_vrrp(VrrpInfo {
                version: 2,
                priority: v.priority,
                interval: f64::from(v.adver_int),
                addrs: v.ip_addrs(),
                auth_type: v.auth_type,
                auth: v.auth,
                changes: 0,
            }),
        }
    }

    fn update_carp(&mut self, h: &crate::wire::CarpHeader, verdict: Verdict) {
        let c = self.carp.get_or_insert(CarpInfo {
            advbase: h.advbase,
            advskew: h.advskew,
            changes: 0,
            min_skew: h.advskew,
            max_skew: h.advskew,
            counter: Counter::default(),
            hmac: Hmac::default(),
            authlen: h.authlen,
        });
        if (c.advbase, c.advskew) != (h.advbase, h.advskew) {
            c.changes = c.changes.saturating_add(1);
        }
        c.advbase = h.advbase;
        c.advskew = h.advskew;
        c.authlen = h.authlen;
        c.min_skew = c.min_skew.min(h.advskew);
        c.max_skew = c.max_skew.max(h.advskew);
        c.counter.see(h.counter);
        match verdict {
            Verdict::Verified => c.hmac.verified += 1,
            Verdict::Failed => {
                c.hmac.failed += 1;
                c.hmac.failed_sample = Some((h.counter, h.md));
            }
            Verdict::Unchecked => c.hmac.unchecked += 1,
        }
    }

    fn update_vrrp(&mut self, mut v: VrrpInfo) {
        if let Some(old) = &self.vrrp {
            v.changes = old.changes;
            if (
                old.version,
                old.priority,
                old.interval.to_bits(),
                &old.addrs,
            ) != (v.version, v.priority, v.interval.to_bits(), &v.addrs)
            {
                v.changes = v.changes.saturating_add(1);
            }
        }
        self.vrrp = Some(v);
    }
}

#[cfg(test)]
mod tests;
