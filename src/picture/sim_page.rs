//! `carpctl simulate --html` and `--svg`: the report of a simulation as
//! one HTML page (the three verdicts with their numbers, the timeline, the
//! events and a table of the VIPs) or as one SVG file (the verdicts as
//! lines of text above the timeline).

use maud::{Markup, html};

use super::timeline::{self, MAX_ROWS};
use super::{clean, page, plural, secs, svg};
use crate::sim::report::{Report, dur};

/// The most rows of the events table (the timeline shows every event).
const MAX_EVENT_ROWS: usize = 500;

/// The HTML page of `r`.
pub(crate) fn html(r: &Report) -> String {
    let t = timeline::build(r);
    let scenario = clean(&r.scenario);
    let body = html! {
        h1 { "carpctl simulate: " (scenario) }
        p.meta {
            "cluster " (clean(&r.cluster)) ", FreeBSD " (clean(&r.freebsd)) ", seed " (r.seed) ", "
            (secs(r.duration)) " s of virtual time, " (r.nodes.len()) " node" (plural(r.nodes.len()))
            ", " (r.vips.len()) " VIP" (plural(r.vips.len())) ", " (r.transitions.len())
            " transitions, " (r.frames) " frames"
        }
        h2 { "Requirements" }
        (verdicts(r))
        h2 { "Timeline" }
        p.note {
            "One row per VIP: which node is MASTER of it over time. Rest the pointer on a bar, \
             an outage or an event for its times and FreeBSD's reason for the transition."
        }
        div.scroll { (svg::render(&t, &[])) }
        h2 { "Events" }
        (events(r))
        h2 { "VIPs" }
        (vips(r))
    };
    page::document(&format!("carpctl simulate: {scenario}"), body)
}

/// The SVG file of `r`: the verdicts, then the timeline.
pub(crate) fn svg(r: &Report) -> String {
    let t = timeline::build(r);
    let v = &r.verdicts;
    let line = |name: &str, met: bool, detail: &str| {
        (
            format!(
                "{name}: {}: {}",
                if met { "met" } else { "NOT met" },
                clean(detail)
            ),
            met,
        )
    };
    let mut header = vec![(
        format!(
            "carpctl simulate {} (cluster {}), FreeBSD {}, seed {}, {} s",
            clean(&r.scenario),
            clean(&r.cluster),
            clean(&r.freebsd),
            r.seed,
            secs(r.duration)
        ),
        true,
    )];
    header.push(line(
        "load balanced",
        v.load_balanced.met,
        &v.load_balanced.detail,
    ));
    header.push(line(
        "failover unnoticed",
        v.failover_unnoticed.met,
        &v.failover_unnoticed.detail,
    ));
    header.push(line(
        "rebalanced after recovery",
        v.rebalanced_after_recovery.met,
        &v.rebalanced_after_recovery.detail,
    ));
    svg::document(&t, &header)
}

fn met_word(met: bool) -> Markup {
    html! {
        @if met { span.met { "met" } } @else { span.not-met-word { "NOT met" } }
    }
}

/// The three verdicts, each with its numbers.
fn verdicts(r: &Report) -> Markup {
    let v = &r.verdicts;
    let (lb, fo, rb) = (
        &v.load_balanced,
        &v.failover_unnoticed,
        &v.rebalanced_after_recovery,
    );
    let masters = lb
        .masters
        .iter()
        .map(|(n, c)| format!("{} {c}", clean(n)))
        .collect::<Vec<_>>()
        .join(", ");
    let names = |list: &[String]| {
        if list.is_empty() {
            "none".to_string()
        } else {
            list.iter().map(|s| clean(s)).collect::<Vec<_>>().join(", ")
        }
    };
    html! {
        div.verdicts {
            div.verdict.not-met[!lb.met] id="load-balanced" data-met=(lb.met) {
                h3 { "Load balanced: " (met_word(lb.met)) }
                p { (clean(&lb.detail)) }
                dl {
                    dt { "measured at" } dd { (secs(lb.at)) " s" }
                    dt { "VIPs per node" } dd { (lb.min) " to " (lb.max) " (⌊M/N⌋ to ⌈M/N⌉)" }
                    dt { "MASTER of" } dd { (masters) }
                    dt { "no single MASTER" } dd { (names(&lb.unsettled)) }
                }
            }
            div.verdict.not-met[!fo.met] id="failover-unnoticed" data-met=(fo.met) {
                h3 { "Failover unnoticed: " (met_word(fo.met)) }
                p { (clean(&fo.detail)) }
                dl {
                    dt { "longest outage" } dd {
                        (dur(fo.longest)) " s"
                        @if let Some(vip) = &fo.longest_vip { " (" (clean(vip)) ")" }
                        ", limit: shorter than " (dur(fo.limit)) " s"
                    }
                    dt { "outages" } dd { (fo.outages) }
                    dt { "requests lost" } dd { (fo.lost) " of " (fo.requests) }
                    dt { "longest dual master" } dd {
                        (dur(fo.longest_dual_master)) " s, limit: shorter than "
                        (dur(fo.dual_master_limit)) " s"
                    }
                }
            }
            div.verdict.not-met[!rb.met] id="rebalanced-after-recovery" data-met=(rb.met) {
                h3 { "Rebalanced after recovery: " (met_word(rb.met)) }
                p { (clean(&rb.detail)) }
                dl {
                    dt { "last event" } dd { (secs(rb.last_event)) " s" }
                    dt { "bound" } dd { (secs(rb.bound)) " s after it" }
                    dt { "planned layout since" } dd {
                        @match rb.settled_at { Some(t) => { (secs(t)) " s" } None => "never" }
                    }
                    dt { "VIPs out of place" } dd { (names(&rb.wrong)) }
                }
            }
        }
    }
}

fn events(r: &Report) -> Markup {
    html! {
        @if r.events.is_empty() {
            p.note { "The scenario has no events: the nodes boot at 0 s and run." }
        } @else {
            table.events {
                tr { th.num { "time (s)" } th { "action" } th { "detail" } }
                @for e in r.events.iter().take(MAX_EVENT_ROWS) {
                    tr { td.num { (secs(e.time)) } td { (clean(&e.action)) } td { (clean(&e.detail)) } }
                }
            }
            @if r.events.len() > MAX_EVENT_ROWS {
                p.note {
                    (r.events.len() - MAX_EVENT_ROWS) " more events not listed (the timeline marks \
                     them all; carpctl simulate --json lists them)"
                }
            }
        }
    }
}

fn vips(r: &Report) -> Markup {
    html! {
        table.vip-table {
            tr {
                th { "VIP" } th.num { "vhid" } th { "addresses" } th.num { "first answered (s)" }
                th.num { "outages" } th.num { "longest (s)" } th.num { "dual masters" }
                th.num { "requests" } th.num { "lost" }
            }
            @for v in r.vips.iter().take(MAX_ROWS) {
                @let longest = v.outages.iter().map(|o| o.end - o.start).reduce(f64::max);
                tr {
                    td { (clean(&v.name)) } td.num { (v.vhid) } td { (clean(&v.addresses.join(" "))) }
                    td.num { @match v.first_served { Some(t) => (secs(t)), None => "never" } }
                    td.num { (v.outages.len()) }
                    td.num { @match longest { Some(l) => (dur(l)), None => "–" } }
                    td.num { (v.dual_master.len()) } td.num { (v.requests) } td.num { (v.lost) }
                }
            }
        }
        @if r.vips.len() > MAX_ROWS {
            p.note { (r.vips.len() - MAX_ROWS) " more VIPs not listed: carpctl simulate --json has them all" }
        }
    }
}
