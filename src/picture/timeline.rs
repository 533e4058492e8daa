//! A simulation report as marks on a timeline: one row per VIP with the
//! tenure of each MASTER (coloured by node), the outages and the
//! dual-master intervals, and the scenario's events as markers.
//!
//! A day of simulation may log a million transitions; a picture of them
//! must stay small. So marks are merged where they could not be told
//! apart on screen: MASTER tenures narrower than a pixel become one mark
//! per run ("12 tenures between ..."), outages and dual masters closer
//! than a pixel become one, and events closer than three pixels one
//! marker. Each row gets a budget of marks (its share of [`MAX_MARKS`]);
//! while a row is over it, the merging width doubles. The rows are capped
//! at [`MAX_ROWS`]. What a merged mark stands for is in its title (the
//! hover text) and its `count`: no tenure, outage or event is lost from
//! the counts.
//!
//! Outages shorter than 1 ms into which no request fell, and dual masters
//! shorter than 1 ms (a takeover crossing the old master's step-down on
//! the wire), are not drawn, as the text report summarizes them; the
//! counts of those left out are kept for the legend.

use std::collections::HashMap;

use super::{clean, plural, secs};
use crate::model::CarpState;
use crate::sim::report::{EventRecord, Report, VipReport, dur};

/// The width of the plot area, in pixels (CSS pixels of the SVG's own
/// coordinates; the page scales it to the window).
pub(crate) const PLOT_WIDTH: f64 = 1000.0;
/// The most VIP rows drawn; the others are named as left out.
pub(crate) const MAX_ROWS: usize = 256;
/// The most marks (tenures, outages and dual masters together) over all
/// rows: about 150 bytes of SVG each, so a picture stays under ~20 MB.
pub(crate) const MAX_MARKS: usize = 100_000;
/// Every row may have at least this many marks.
const MIN_ROW_MARKS: usize = 200;
/// Events closer than this many pixels share one marker.
const EVENT_MERGE_PX: f64 = 3.0;
/// The most events listed in one marker's title.
const EVENT_TITLE_MAX: usize = 20;
/// Shorter than this, and harmless, an interval is not drawn (the text
/// report's rule).
const TINY_S: f64 = 0.001;
/// The narrowest outage or dual master drawn, in pixels: a 3 ms outage on
/// a day-long timeline must still be seen.
pub(crate) const MIN_SPAN_PX: f64 = 2.0;

/// The whole picture.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Timeline {
    /// Seconds of virtual time (the report's duration; 1 when it is 0).
    pub duration: f64,
    /// Every node of the scenario, in file order: index = colour.
    pub nodes: Vec<String>,
    pub rows: Vec<Row>,
    /// VIPs beyond [`MAX_ROWS`], not drawn.
    pub(crate) omitted_rows: usize,
    pub(crate) markers: Vec<Marker>,
    /// Outages and dual masters shorter than 1 ms, not drawn.
    pub(crate) hidden_outages: usize,
    pub(crate) hidden_duals: usize,
}

/// One VIP.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub vip: String,
    /// Hover text of the row's label.
    pub(crate) title: String,
    /// MASTER tenures, by start.
    pub(crate) bars: Vec<Mark>,
    pub(crate) outages: Vec<Mark>,
    pub(crate) duals: Vec<Mark>,
}

/// A drawn interval: one tenure, outage or dual master, or several merged.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mark {
    pub start: f64,
    pub end: f64,
    /// Tenures: the node (index into [`Timeline::nodes`]); `None` when
    /// merged tenures of several nodes. Outages and dual masters: `None`.
    pub node: Option<usize>,
    /// How many tenures, outages or dual masters it stands for.
    pub count: usize,
    pub(crate) title: String,
}

/// One or more scenario events at (about) one time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Marker {
    pub time: f64,
    pub label: String,
    pub count: usize,
    pub(crate) title: String,
}

/// An interval before it is drawn: `idx` is its place in the source list.
#[derive(Debug, Clone, Copy)]
struct Raw {
    start: f64,
    end: f64,
    node: Option<usize>,
    idx: usize,
}

/// The intervals `(start, end, shown)` kept as [`Raw`]s (no node: an
/// outage or a dual-master interval), each with its index in the report;
/// those too short to show are left out (the caller counts them).
fn spans(intervals: impl Iterator<Item = (f64, f64, bool)>) -> Vec<Raw> {
    intervals
        .enumerate()
        .filter(|(_, (_, _, shown))| *shown)
        .map(|(idx, (start, end, _))| Raw {
            start,
            end,
            node: None,
            idx,
        })
        .collect()
}

/// What [`compact`] made of a run of [`Raw`]s.
#[derive(Debug, Clone)]
enum Drawn {
    One(usize),
    Many {
        start: f64,
        end: f64,
        /// The nodes, sorted, without repeats.
        nodes: Vec<usize>,
        /// The source indices.
        members: Vec<usize>,
    },
}

impl Drawn {
    fn count(&self) -> usize {
        match self {
            Drawn::One(_) => 1,
            Drawn::Many { members, .. } => members.len(),
        }
    }
}

/// Merge `raw` (sorted by start) for drawing at `px` pixels per second.
/// `all`: every interval may merge (outages, dual masters: each is drawn
/// at least [`MIN_SPAN_PX`] wide); otherwise only those narrower than
/// `min_px` do (tenures). Intervals merge into the open group when they
/// start within `min_px` of its (drawn) end.
fn compact(raw: &[Raw], px: f64, min_px: f64, all: bool) -> Vec<Drawn> {
    let mut out: Vec<Drawn> = Vec::new();
    let mut open: Option<Group> = None;
    for (i, r) in raw.iter().enumerate() {
        let width = (r.end - r.start) * px;
        let mergeable = all || width < min_px;
        if !mergeable {
            out.push(Drawn::One(r.idx));
            continue;
        }
        let drawn_end = (r.end * px).max(r.start * px + if all { MIN_SPAN_PX } else { 0.0 });
        match &mut open {
            Some(g) if r.start * px <= g.end_px + min_px => {
                g.end = g.end.max(r.end);
                g.end_px = g.end_px.max(drawn_end);
                g.nodes.extend(r.node);
                g.members.push(i);
            }
            _ => {
                if let Some(g) = open.take() {
                    out.push(g.close(raw));
                }
                open = Some(Group {
                    start: r.start,
                    end: r.end,
                    end_px: drawn_end,
                    nodes: r.node.into_iter().collect(),
                    members: vec![i],
                });
            }
        }
    }
    if let Some(g) = open {
        out.push(g.close(raw));
    }
    out
}

/// The group [`compact`] is filling: `members` index its `raw`.
struct Group {
    start: f64,
    end: f64,
    /// The drawn end, in pixels.
    end_px: f64,
    nodes: Vec<usize>,
    members: Vec<usize>,
}

impl Group {
    fn close(mut self, raw: &[Raw]) -> Drawn {
        if self.members.len() == 1 {
            return Drawn::One(raw[self.members[0]].idx);
        }
        self.nodes.sort_unstable();
        self.nodes.dedup();
        Drawn::Many {
            start: self.start,
            end: self.end,
            nodes: self.nodes,
            members: self.members.iter().map(|&i| raw[i].idx).collect(),
        }
    }
}

/// [`compact`] within `budget` marks: the merging width doubles until the
/// row fits (at a width past the whole plot everything mergeable is one
/// group, so this ends).
fn compact_within(raw: &[Raw], px: f64, all: bool, budget: usize) -> Vec<Drawn> {
    let mut min_px = 1.0;
    loop {
        let d = compact(raw, px, min_px, all);
        if d.len() <= budget || min_px > 2.0 * PLOT_WIDTH {
            return d;
        }
        min_px *= 2.0;
    }
}

/// Transition times as integer microseconds: the report's seconds are
/// `µs / 1e6`, so equal instants give equal keys.
fn us(t: f64) -> i64 {
    (t * 1e6).round() as i64
}

/// The reasons FreeBSD logged for a node becoming and ceasing to be
/// MASTER of a VIP: (node, VIP, µs) -> reason.
/// Also the first scenario event at each instant: a crash or a link going
/// down ends a tenure without a transition.
#[derive(Default)]
struct Reasons<'r> {
    up: HashMap<(&'r str, &'r str, i64), &'static str>,
    down: HashMap<(&'r str, &'r str, i64), &'static str>,
    events: HashMap<i64, &'r EventRecord>,
}

impl<'r> Reasons<'r> {
    fn of(r: &'r Report, drawn: &HashMap<&str, usize>) -> Self {
        let mut reasons = Reasons::default();
        for e in &r.events {
            reasons.events.entry(us(e.time)).or_insert(e);
        }
        for t in &r.transitions {
            let Some(vip) = t.vip.as_deref() else {
                continue;
            };
            if !drawn.contains_key(vip) {
                continue;
            }
            let key = (&*t.node, vip, us(t.time));
            if t.to == CarpState::Master {
                reasons.up.insert(key, t.reason);
            } else if t.from == CarpState::Master {
                reasons.down.insert(key, t.reason);
            }
        }
        reasons
    }
}

/// Build the timeline of `r`.
pub(crate) fn build(r: &Report) -> Timeline {
    let duration = if r.duration > 0.0 { r.duration } else { 1.0 };
    let px = PLOT_WIDTH / duration;
    let nodes: Vec<String> = r.nodes.iter().map(|n| n.name.clone()).collect();
    let shown = r.vips.len().min(MAX_ROWS);
    let row_of: HashMap<&str, usize> = r.vips[..shown]
        .iter()
        .enumerate()
        .map(|(i, v)| (v.name.as_str(), i))
        .collect();
    let reasons = Reasons::of(r, &row_of);
    // Per row, every tenure: (node index, held index).
    let mut tenures: Vec<Vec<(usize, usize)>> = vec![Vec::new(); shown];
    for (ni, n) in r.nodes.iter().enumerate() {
        for (hi, h) in n.held.iter().enumerate() {
            if let Some(&row) = row_of.get(&*h.vip) {
                tenures[row].push((ni, hi));
            }
        }
    }
    let budget = (MAX_MARKS / shown.max(1)).max(MIN_ROW_MARKS);
    let mut hidden_outages = 0;
    let mut hidden_duals = 0;
    let mut rows = Vec::with_capacity(shown);
    for (v, list) in r.vips[..shown].iter().zip(&tenures) {
        let raw: Vec<Raw> = {
            let mut raw: Vec<Raw> = list
                .iter()
                .enumerate()
                .map(|(i, &(ni, hi))| {
                    let h = &r.nodes[ni].held[hi];
                    Raw {
                        start: h.start,
                        end: h.end,
                        node: Some(ni),
                        idx: i,
                    }
                })
                .collect();
            raw.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.idx.cmp(&b.idx)));
            raw
        };
        let bars = compact_within(&raw, px, false, budget / 2)
            .into_iter()
            .map(|d| tenure_mark(r, &v.name, list, &nodes, &reasons, d))
            .collect();

        let outages = spans(
            v.outages
                .iter()
                .map(|o| (o.start, o.end, o.end - o.start >= TINY_S || o.lost > 0)),
        );
        hidden_outages += v.outages.len() - outages.len();
        let outages = compact_within(&outages, px, true, budget / 4)
            .into_iter()
            .map(|d| outage_mark(v, d))
            .collect();

        let duals = spans(
            v.dual_master
                .iter()
                .map(|d| (d.start, d.end, d.end - d.start >= TINY_S)),
        );
        hidden_duals += v.dual_master.len() - duals.len();
        let duals = compact_within(&duals, px, true, budget / 4)
            .into_iter()
            .map(|d| dual_mark(v, d))
            .collect();

        rows.push(Row {
            vip: clean(&v.name),
            title: format!(
                "{} (vhid {}, {}): {}; {} request{}, {} lost",
                clean(&v.name),
                v.vhid,
                clean(&v.addresses.join(" ")),
                v.first_served
                    .map_or("never answered".to_string(), |t| format!(
                        "first answered at {} s",
                        secs(t)
                    )),
                v.requests,
                plural(v.requests as usize),
                v.lost
            ),
            bars,
            outages,
            duals,
        });
    }
    Timeline {
        duration,
        nodes: nodes.iter().map(|n| clean(n)).collect(),
        rows,
        omitted_rows: r.vips.len() - shown,
        markers: markers(r, px),
        hidden_outages,
        hidden_duals,
    }
}

/// The mark of one tenure, or of merged ones. `list`: the row's tenures
/// as (node, held index).
fn tenure_mark(
    r: &Report,
    vip: &str,
    list: &[(usize, usize)],
    nodes: &[String],
    reasons: &Reasons<'_>,
    d: Drawn,
) -> Mark {
    match d {
        Drawn::One(i) => {
            let (ni, hi) = list[i];
            let h = &r.nodes[ni].held[hi];
            let node = nodes[ni].as_str();
            let mut title = format!(
                "{}: MASTER of {}\n{} s to {} s ({} s)",
                clean(node),
                clean(vip),
                secs(h.start),
                secs(h.end),
                secs(h.end - h.start)
            );
            if let Some(why) = reasons.up.get(&(node, vip, us(h.start))) {
                title.push_str(&format!("\nbecame MASTER: {why}"));
            }
            if h.ongoing {
                title.push_str("\nstill MASTER at the end");
            } else if let Some(why) = reasons.down.get(&(node, vip, us(h.end))) {
                title.push_str(&format!("\nleft MASTER: {why}"));
            } else if let Some(e) = reasons.events.get(&us(h.end)) {
                title.push_str(&format!(
                    "\nleft MASTER: {} {}",
                    clean(&e.action),
                    clean(&e.detail)
                ));
            }
            Mark {
                start: h.start,
                end: h.end,
                node: Some(ni),
                count: 1,
                title,
            }
        }
        Drawn::Many {
            start,
            end,
            nodes: which,
            members,
        } => {
            let names: Vec<String> = which.iter().map(|&n| clean(&nodes[n])).collect();
            Mark {
                start,
                end,
                node: (which.len() == 1).then(|| which[0]),
                count: members.len(),
                title: format!(
                    "{}: {} MASTER tenures of {} between {} s and {} s, each too short to \
                     draw (carpctl simulate --json lists them)",
                    clean(vip),
                    members.len(),
                    names.join(", "),
                    secs(start),
                    secs(end)
                ),
            }
        }
    }
}

/// A mark of the whole VIP (no one node), as outages and dual-master
/// intervals are drawn.
fn vip_mark(start: f64, end: f64, count: usize, title: String) -> Mark {
    Mark {
        start,
        end,
        node: None,
        count,
        title,
    }
}

/// The longest of a cluster's member intervals, for its title.
fn longest_span(members: &[usize], span: impl Fn(usize) -> f64) -> f64 {
    members.iter().map(|&i| span(i)).fold(0.0, f64::max)
}

fn outage_mark(v: &VipReport, d: Drawn) -> Mark {
    let count = d.count();
    match d {
        Drawn::One(i) => {
            let o = &v.outages[i];
            vip_mark(
                o.start,
                o.end,
                count,
                format!(
                    "{}: outage {} s to {} s ({} s), {} request{} lost{}",
                    clean(&v.name),
                    secs(o.start),
                    secs(o.end),
                    dur(o.end - o.start),
                    o.lost,
                    plural(o.lost as usize),
                    if o.ongoing { ", still at the end" } else { "" }
                ),
            )
        }
        Drawn::Many {
            start,
            end,
            members,
            ..
        } => {
            let lost: u64 = members.iter().map(|&i| v.outages[i].lost).sum();
            let longest = longest_span(&members, |i| v.outages[i].end - v.outages[i].start);
            vip_mark(
                start,
                end,
                count,
                format!(
                    "{}: {count} outages between {} s and {} s, the longest {} s, {lost} \
                     request{} lost",
                    clean(&v.name),
                    secs(start),
                    secs(end),
                    dur(longest),
                    plural(lost as usize)
                ),
            )
        }
    }
}

fn dual_mark(v: &VipReport, d: Drawn) -> Mark {
    let count = d.count();
    match d {
        Drawn::One(i) => {
            let x = &v.dual_master[i];
            vip_mark(
                x.start,
                x.end,
                count,
                format!(
                    "{}: dual master {} s to {} s ({} s): {}{}",
                    clean(&v.name),
                    secs(x.start),
                    secs(x.end),
                    dur(x.end - x.start),
                    clean(&x.nodes.join(", ")),
                    if x.ongoing { ", still at the end" } else { "" }
                ),
            )
        }
        Drawn::Many {
            start,
            end,
            members,
            ..
        } => {
            let longest = longest_span(&members, |i| v.dual_master[i].end - v.dual_master[i].start);
            vip_mark(
                start,
                end,
                count,
                format!(
                    "{}: {count} dual-master intervals between {} s and {} s, the longest {} s",
                    clean(&v.name),
                    secs(start),
                    secs(end),
                    dur(longest)
                ),
            )
        }
    }
}

/// The scenario's events, those closer than [`EVENT_MERGE_PX`] in one
/// marker.
fn markers(r: &Report, px: f64) -> Vec<Marker> {
    let describe = |e: &EventRecord| {
        let detail = clean(&e.detail);
        if detail.is_empty() {
            clean(&e.action)
        } else {
            format!("{} {detail}", clean(&e.action))
        }
    };
    let mut out: Vec<Marker> = Vec::new();
    let mut group: Vec<&EventRecord> = Vec::new();
    let close = |group: &mut Vec<&EventRecord>, out: &mut Vec<Marker>| {
        let Some(first) = group.first() else {
            return;
        };
        let mut title: Vec<String> = group
            .iter()
            .take(EVENT_TITLE_MAX)
            .map(|e| format!("{} s: {}", secs(e.time), describe(e)))
            .collect();
        if group.len() > EVENT_TITLE_MAX {
            title.push(format!("and {} more", group.len() - EVENT_TITLE_MAX));
        }
        out.push(Marker {
            time: first.time,
            label: if group.len() == 1 {
                describe(first)
            } else {
                format!("{} events", group.len())
            },
            count: group.len(),
            title: title.join("\n"),
        });
        group.clear();
    };
    for e in &r.events {
        if group
            .first()
            .is_some_and(|f| (e.time - f.time) * px >= EVENT_MERGE_PX)
        {
            close(&mut group, &mut out);
        }
        group.push(e);
    }
    close(&mut group, &mut out);
    out
}
