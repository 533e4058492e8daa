//! A [`Timeline`] as one SVG element: event markers and the time axis on
//! top, one row per VIP (grey where no node is MASTER, a bar per MASTER
//! tenure in its node's colour, dual masters hatched over them, outages in
//! red on top), and the legend below. Every mark has a `<title>`: the
//! browser shows it when the pointer rests on the mark, without a script.
//!
//! Rows are 28 pixels high for a few VIPs and shrink to 12 for many (64
//! VIPs: 12), labels with them; names longer than 24 characters are cut,
//! the whole name is in the label's title.
//!
//! The marks carry `class` and `data-*` attributes (`vip-row`/`data-vip`,
//! `bar`/`data-node`, `data-count`, `outage`, `dual`, `event`), which the
//! browser test reads back from the rendered page.

use maud::{Markup, PreEscaped, html};

use super::page::{MIXED, OUTAGE, SVG_STYLE, node_colour};
use super::timeline::{MIN_SPAN_PX, Mark, PLOT_WIDTH, Timeline};
use super::{Px, shorten};

/// The longest row label, in characters.
const LABEL_CHARS: usize = 24;
/// About the width of one character of 12-pixel text.
const CHAR_W: f64 = 7.0;
/// Event labels: their font's character width, line height and lines.
const EVENT_CHAR_W: f64 = 6.2;
const EVENT_LINE: f64 = 13.0;
const EVENT_LEVELS: usize = 3;
/// The longest event label, in characters.
const EVENT_LABEL_CHARS: usize = 28;
const RIGHT: f64 = 16.0;
const HATCH_ID: &str = "carpctl-dual";

/// Where things go.
struct Layout {
    /// Per event marker, its label when it has room: (text, line, anchor,
    /// text x).
    labels: Vec<Option<(String, usize, &'static str, f64)>>,
    left: f64,
    width: f64,
    px: f64,
    events_top: f64,
    top: f64,
    row_h: f64,
    rows_bottom: f64,
}

impl Layout {
    fn new(t: &Timeline, header_lines: usize) -> Self {
        let longest = t
            .rows
            .iter()
            .map(|r| r.vip.chars().count())
            .max()
            .unwrap_or(0)
            .clamp(6, LABEL_CHARS);
        let left = longest as f64 * CHAR_W + 16.0;
        let row_h = (480.0 / t.rows.len().max(1) as f64)
            .floor()
            .clamp(12.0, 28.0);
        let events_top = if header_lines > 0 {
            header_lines as f64 * 17.0 + 10.0
        } else {
            4.0
        };
        let mut l = Layout {
            labels: Vec::new(),
            left,
            width: left + PLOT_WIDTH + RIGHT,
            px: PLOT_WIDTH / t.duration,
            events_top,
            top: 0.0,
            row_h,
            rows_bottom: 0.0,
        };
        l.labels = l.place_labels(t);
        let lines = l
            .labels
            .iter()
            .flatten()
            .map(|(_, line, _, _)| line + 1)
            .max()
            .unwrap_or(0);
        let events_h = if t.markers.is_empty() {
            0.0
        } else {
            lines as f64 * EVENT_LINE + 4.0
        };
        l.top = events_top + events_h + 18.0;
        l.rows_bottom = l.top + row_h * t.rows.len() as f64;
        l
    }

    fn x(&self, t: f64) -> f64 {
        self.left + t.clamp(0.0, PLOT_WIDTH / self.px) * self.px
    }

    /// Each event's label on the first of [`EVENT_LEVELS`] lines where it
    /// overlaps no other, left-aligned after its marker, or right-aligned
    /// before it at the right edge; none when no line has room (the
    /// marker's title still says it all).
    fn place_labels(&self, t: &Timeline) -> Vec<Option<(String, usize, &'static str, f64)>> {
        let mut ends = [f64::NEG_INFINITY; EVENT_LEVELS];
        t.markers
            .iter()
            .map(|m| {
                let x = self.x(m.time);
                let label = shorten(&m.label, EVENT_LABEL_CHARS);
                let w = label.chars().count() as f64 * EVENT_CHAR_W;
                let (from, to, anchor, tx) = if x + 3.0 + w <= self.width {
                    (x - 1.0, x + 3.0 + w, "start", x + 3.0)
                } else {
                    (x - 3.0 - w, x + 1.0, "end", x - 3.0)
                };
                let level = ends.iter().position(|&e| e + 4.0 <= from)?;
                ends[level] = to;
                Some((label, level, anchor, tx))
            })
            .collect()
    }
}

/// The time axis: about ten ticks at 1, 2 or 5 × 10^k seconds.
fn ticks(duration: f64) -> (f64, usize) {
    let raw = duration / 10.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    (step, decimals)
}

/// The SVG element of `t`. `header`: lines of text above the timeline
/// (the verdicts, in a standalone `--svg` file), each `(text, ok)`.
pub(crate) fn render(t: &Timeline, header: &[(String, bool)]) -> Markup {
    let l = Layout::new(t, header.len());
    let (legend, legend_h) = legend(t, &l);
    let notes = notes(t);
    let height = l.rows_bottom + legend_h + 10.0 + notes.len() as f64 * 16.0;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" class="timeline" width=(Px(l.width))
            height=(Px(height)) viewBox={ "0 0 " (Px(l.width)) " " (Px(height)) }
            role="img" aria-label="timeline of the simulation" {
            style { (PreEscaped(SVG_STYLE)) }
            defs {
                pattern id=(HATCH_ID) width="5" height="5" patternUnits="userSpaceOnUse"
                    patternTransform="rotate(45)" {
                    rect width="2" height="5" fill="#000" fill-opacity="0.6" {}
                }
            }
            @for (i, (line, ok)) in header.iter().enumerate() {
                text class={ "verdict-line " (if *ok { "ok" } else { "not-met" }) } x="8"
                    y=(Px(17.0 * i as f64 + 16.0)) {
                    (shorten(line, 170))
                    title { (line) }
                }
            }
            (axis(t, &l))
            @for (i, row) in t.rows.iter().enumerate() {
                @let y = l.top + l.row_h * i as f64;
                g class="vip-row" data-vip=(row.vip) data-bars=(row.bars.len()) {
                    text x=(Px(l.left - 6.0)) y=(Px(y + l.row_h / 2.0 + 4.0))
                        text-anchor="end" font-size=(Px((l.row_h - 2.0).min(12.0))) {
                        (shorten(&row.vip, LABEL_CHARS))
                        title { (row.title) }
                    }
                    rect class="lane" x=(Px(l.left)) y=(Px(y + 1.0)) width=(Px(PLOT_WIDTH))
                        height=(Px(l.row_h - 3.0)) fill="#eee" {}
                    @for m in &row.bars {
                        @let node = m.node.map(|n| t.nodes[n].as_str()).unwrap_or("");
                        @let fill = m.node.map_or(MIXED.to_string(), node_colour);
                        (mark("bar", m, &l, y, 1.0, &fill, node))
                    }
                    @for m in &row.duals {
                        (mark("dual", m, &l, y, MIN_SPAN_PX, &format!("url(#{HATCH_ID})"), ""))
                    }
                    @for m in &row.outages {
                        (mark("outage", m, &l, y, MIN_SPAN_PX, OUTAGE, ""))
                    }
                }
            }
            (events(t, &l))
            (legend)
            @for (i, n) in notes.iter().enumerate() {
                text class="legend note" x=(Px(l.left)) y=(Px(l.rows_bottom + legend_h + 22.0 + 16.0 * i as f64)) {
                    (n)
                }
            }
        }
    }
}

/// One rectangle of a row.
fn mark(class: &str, m: &Mark, l: &Layout, y: f64, min_w: f64, fill: &str, node: &str) -> Markup {
    let x = l.x(m.start);
    let w = (l.x(m.end) - x).max(min_w);
    html! {
        rect class=(class) data-node=[(!node.is_empty()).then_some(node)] data-count=(m.count)
            x=(Px(x)) y=(Px(y + 1.0)) width=(Px(w)) height=(Px(l.row_h - 3.0)) fill=(fill) {
            title { (m.title) }
        }
    }
}

fn axis(t: &Timeline, l: &Layout) -> Markup {
    let (step, decimals) = ticks(t.duration);
    let count = (t.duration / step).floor() as usize;
    html! {
        g class="axis" {
            @for k in 0..=count {
                @let s = step * k as f64;
                @let x = l.x(s);
                line class="grid" x1=(Px(x)) x2=(Px(x)) y1=(Px(l.top - 4.0)) y2=(Px(l.rows_bottom)) {}
                text x=(Px(x)) y=(Px(l.top - 6.0)) text-anchor="middle" {
                    (format!("{s:.decimals$} s"))
                }
            }
        }
    }
}

/// The event markers: a dashed line through every row, and a label
/// where [`Layout::place_labels`] found room.
fn events(t: &Timeline, l: &Layout) -> Markup {
    html! {
        @for (m, label) in t.markers.iter().zip(&l.labels) {
            @let x = l.x(m.time);
            g class="event" data-count=(m.count) {
                line x1=(Px(x)) x2=(Px(x)) y1=(Px(l.events_top)) y2=(Px(l.rows_bottom)) {}
                @if let Some((label, level, anchor, tx)) = label {
                    text x=(Px(*tx)) y=(Px(l.events_top + 10.0 + EVENT_LINE * *level as f64))
                        text-anchor=(*anchor) { (label) }
                }
                title { (m.title) }
            }
        }
    }
}

/// The legend below the rows, wrapped to the width: (markup, height).
fn legend(t: &Timeline, l: &Layout) -> (Markup, f64) {
    let mut items: Vec<(String, String, &str)> = t
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (node_colour(i), shorten(n, LABEL_CHARS), "node"))
        .collect();
    let mixed = t
        .rows
        .iter()
        .any(|r| r.bars.iter().any(|b| b.node.is_none()));
    if mixed {
        items.push((MIXED.into(), "several nodes (merged)".into(), "key"));
    }
    items.push(("#eee".into(), "no MASTER".into(), "key"));
    items.push((OUTAGE.into(), "outage (no answer)".into(), "key"));
    items.push((format!("url(#{HATCH_ID})"), "dual master".into(), "key"));
    items.push((String::new(), "scenario event".into(), "key"));
    let mut placed = Vec::with_capacity(items.len());
    let (mut x, mut y) = (l.left, l.rows_bottom + 10.0);
    for (fill, name, kind) in items {
        let w = 18.0 + name.chars().count() as f64 * CHAR_W + 14.0;
        if x + w > l.width && x > l.left {
            x = l.left;
            y += 18.0;
        }
        placed.push((x, y, fill, name, kind));
        x += w;
    }
    let height = y + 18.0 - l.rows_bottom;
    let markup = html! {
        g class="legend" {
            @for (x, y, fill, name, kind) in &placed {
                g class={ "legend-item " (kind) } {
                    @if fill.is_empty() {
                        line x1=(Px(x + 6.0)) x2=(Px(x + 6.0)) y1=(Px(*y)) y2=(Px(y + 12.0))
                            stroke="#333" stroke-dasharray="3 3" {}
                    } @else {
                        rect x=(Px(*x)) y=(Px(*y)) width="12" height="12" fill=(fill)
                            stroke="#999" stroke-width="0.5" {}
                    }
                    text x=(Px(x + 18.0)) y=(Px(y + 10.5)) { (name) }
                }
            }
        }
    };
    (markup, height)
}

/// What the picture leaves out, in words.
fn notes(t: &Timeline) -> Vec<String> {
    let mut n = Vec::new();
    if t.omitted_rows > 0 {
        n.push(format!(
            "{} more VIP{} not drawn (at most {} rows): carpctl simulate --json has them all",
            t.omitted_rows,
            super::plural(t.omitted_rows),
            super::timeline::MAX_ROWS
        ));
    }
    let mut hidden = Vec::new();
    if t.hidden_outages > 0 {
        hidden.push(format!(
            "{} outage{} shorter than 1 ms that no request fell into",
            t.hidden_outages,
            super::plural(t.hidden_outages)
        ));
    }
    if t.hidden_duals > 0 {
        hidden.push(format!(
            "{} dual master{} shorter than 1 ms (a takeover crossing the old master's \
             step-down on the wire)",
            t.hidden_duals,
            super::plural(t.hidden_duals)
        ));
    }
    if !hidden.is_empty() {
        n.push(format!("Not drawn: {}", hidden.join("; ")));
    }
    n
}

/// A standalone SVG file of `t` with `header` lines above it.
pub(crate) fn document(t: &Timeline, header: &[(String, bool)]) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str(&render(t, header).into_string());
    s.push('\n');
    s
}
