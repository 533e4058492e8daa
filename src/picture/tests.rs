//! Tests of the pictures: escaping, the bounds on marks and rows, merging
//! with every tenure and outage still counted, the hover texts, and the
//! plan page's choice of rows at large N. Rendering in a real browser is
//! tested in tests/it/pictures.rs.

use std::collections::BTreeMap;

use super::timeline::{self, MAX_MARKS, MAX_ROWS, PLOT_WIDTH};
use super::*;
use crate::model::CarpState;
use crate::sim::report::*;

fn empty_report(vips: &[&str], nodes: &[&str], duration: f64) -> Report {
    Report {
        scenario: "s.toml".into(),
        cluster: "c.toml".into(),
        freebsd: "14".into(),
        clients_at: None,
        seed: 1,
        duration,
        requirements: Requirements {
            load_balanced: true,
            failover_unnoticed: false,
            rebalanced_after_recovery: true,
        },
        verdicts: Verdicts {
            load_balanced: LoadVerdict {
                met: true,
                at: 1.0,
                min: 1,
                max: 1,
                masters: nodes.iter().map(|n| (n.to_string(), 1)).collect(),
                unsettled: vec![],
                detail: "fine".into(),
            },
            failover_unnoticed: FailoverVerdict {
                met: false,
                limit: 7.0,
                longest: 9.5,
                longest_vip: vips.first().map(|v| v.to_string()),
                dual_master_limit: 1.0,
                longest_dual_master: 0.0,
                outages: 1,
                lost: 3,
                requests: 100,
                detail: "an outage of 9.5 s".into(),
            },
            rebalanced_after_recovery: RebalanceVerdict {
                met: true,
                last_event: 0.0,
                bound: 5.0,
                settled_at: Some(3.0),
                expected: vec![],
                wrong: vec![],
                detail: "settled".into(),
            },
        },
        vips: vips
            .iter()
            .enumerate()
            .map(|(i, v)| VipReport {
                name: v.to_string(),
                vhid: (i % 255 + 1) as u8,
                addresses: vec![format!("10.0.0.{}", i % 250 + 1)],
                first_served: Some(3.0),
                outages: vec![],
                dual_master: vec![],
                requests: 100,
                lost: 0,
            })
            .collect(),
        nodes: nodes
            .iter()
            .map(|n| NodeReport {
                name: n.to_string(),
                freebsd: "14".into(),
                up: true,
                held: vec![],
                demotion: 0,
                stats: NodeStats::default(),
            })
            .collect(),
        transitions: Log::default(),
        demotions: vec![],
        events: vec![],
        changes: vec![],
        sent_from_vip: vec![],
        neighbors: vec![],
        frames: 0,
        expectations: Vec::new(),
    }
}

fn held(vip: &str, start: f64, end: f64) -> Held {
    Held {
        vip: Name::new(vip),
        start,
        end,
        ongoing: false,
    }
}

fn transition(time: f64, node: &str, vip: &str, from: CarpState, to: CarpState) -> VhidStateChange {
    VhidStateChange {
        time,
        node: Name::new(node),
        vhid: 1,
        interface: Name::new("em0"),
        vip: Some(Name::new(vip)),
        from,
        to,
        reason: if to == CarpState::Master {
            "master timed out"
        } else {
            "more frequent advertisement received"
        },
    }
}

#[test]
fn px_writes_one_decimal_without_noise() {
    for (v, s) in [
        (12.0, "12"),
        (12.04, "12"),
        (12.05000001, "12.1"),
        (0.25, "0.3"),
        (-0.5, "-0.5"),
        (-0.04, "0"),
        (1e9, "1000000000"),
        (f64::NAN, "0"),
    ] {
        assert_eq!(Px(v).to_string(), s, "{v}");
    }
}

#[test]
fn shorten_cuts_on_characters() {
    assert_eq!(shorten("abc", 3), "abc");
    assert_eq!(shorten("abcd", 3), "ab…");
    assert_eq!(shorten("ééééé", 4), "ééé…");
}

/// A name with markup in it, and a path with a control character, are
/// shown as text: escaped by maud, control characters written visibly.
#[test]
fn names_and_paths_are_escaped_in_html_and_svg() {
    let vip = "<script>alert(1)</script>";
    let node = "a&b\"<i>";
    let mut r = empty_report(&[vip], &[node, "n2"], 60.0);
    r.scenario = "evil\u{1b}[2J<b>.toml".into();
    r.nodes[0].held.push(held(vip, 3.0, 30.0));
    r.events.push(EventRecord {
        time: 10.0,
        action: "crash".into(),
        detail: "<img src=x>".into(),
    });
    for out in [sim_page::html(&r), sim_page::svg(&r)] {
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(!out.contains("<i>"), "{out}");
        assert!(!out.contains("<b>"), "{out}");
        assert!(!out.contains('\u{1b}'), "{out}");
        assert!(
            out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{out}"
        );
        assert!(out.contains("a&amp;b&quot;&lt;i&gt;"), "{out}");
        assert!(out.contains("evil\\u{1b}[2J&lt;b&gt;.toml"), "{out}");
    }
}

/// Both pages forbid every fetch, and the SVG is a standalone XML file.
#[test]
fn pages_are_self_contained() {
    let r = empty_report(&["v1"], &["n1"], 10.0);
    let html = sim_page::html(&r);
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains(page::CSP), "{html}");
    let svg = sim_page::svg(&r);
    assert!(svg.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""
    ));
    for out in [&html, &svg] {
        // The SVG namespace is a name, not a fetch; nothing else may name
        // a URL or a script.
        let rest = out.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for bad in [
            "http:", "https:", "//", "<script", "src=", "href=", "@import",
        ] {
            assert!(!rest.contains(bad), "{bad} in {rest}");
        }
    }
}

/// Each tenure's title says when and why it began and ended: FreeBSD's
/// reason from the transition, or the scenario event that ended it.
#[test]
fn bar_titles_carry_the_reasons() {
    let mut r = empty_report(&["v1"], &["n1", "n2"], 120.0);
    r.nodes[0].held.push(held("v1", 3.001, 10.0));
    r.nodes[1].held.push(held("v1", 12.024, 60.84));
    r.nodes[0].held.push(Held {
        ongoing: true,
        ..held("v1", 60.84, 120.0)
    });
    use CarpState::*;
    for t in [
        transition(3.001, "n1", "v1", Backup, Master),
        transition(12.024, "n2", "v1", Backup, Master),
        transition(60.84, "n1", "v1", Backup, Master),
        transition(60.84, "n2", "v1", Master, Backup),
    ] {
        r.transitions.push(t);
    }
    r.events.push(EventRecord {
        time: 10.0,
        action: "crash".into(),
        detail: "n1".into(),
    });
    let t = timeline::build(&r);
    let titles: Vec<&str> = t.rows[0].bars.iter().map(|b| b.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "n1: MASTER of v1\n3.001 s to 10.000 s (6.999 s)\nbecame MASTER: master timed out\n\
             left MASTER: crash n1",
            "n2: MASTER of v1\n12.024 s to 60.840 s (48.816 s)\nbecame MASTER: master timed out\n\
             left MASTER: more frequent advertisement received",
            "n1: MASTER of v1\n60.840 s to 120.000 s (59.160 s)\nbecame MASTER: master timed out\n\
             still MASTER at the end",
        ]
    );
    assert_eq!(t.markers.len(), 1);
    assert_eq!(t.markers[0].label, "crash n1");
}

/// Thousands of tenures too short to draw become a few marks that still
/// count every one; outages closer than a pixel merge, and the tiny
/// harmless ones are left out and counted.
#[test]
fn flapping_is_merged_and_still_counted() {
    let mut r = empty_report(&["v1", "v2"], &["n1", "n2"], 1000.0);
    // 1 px = 1 s. 5000 tenures of 0.1 s alternating between the nodes
    // from 100 s to 600 s, then one long tenure.
    for k in 0..5000 {
        let s = 100.0 + k as f64 * 0.1;
        r.nodes[k % 2].held.push(held("v1", s, s + 0.1));
    }
    r.nodes[0].held.push(held("v1", 600.0, 1000.0));
    r.nodes[1].held.push(held("v2", 3.0, 1000.0));
    for k in 0..300 {
        let s = 100.0 + k as f64 * 0.5;
        r.vips[0].outages.push(Outage {
            start: s,
            end: s + 0.01,
            lost: 1,
            ongoing: false,
        });
    }
    r.vips[0].outages.push(Outage {
        start: 700.0,
        end: 700.0001,
        lost: 0,
        ongoing: false,
    });
    let t = timeline::build(&r);
    let row = &t.rows[0];
    assert_eq!(row.bars.iter().map(|b| b.count).sum::<usize>(), 5001);
    assert!(row.bars.len() <= 3, "{:?}", row.bars.len());
    let merged = row.bars.iter().find(|b| b.count > 1).unwrap();
    assert_eq!(merged.node, None);
    assert!(
        merged
            .title
            .contains("5000 MASTER tenures of n1, n2 between 100.000 s and 600.000 s"),
        "{}",
        merged.title
    );
    assert_eq!(row.outages.iter().map(|o| o.count).sum::<usize>(), 300);
    assert!(row.outages.len() < 10, "{}", row.outages.len());
    assert!(
        row.outages[0].title.contains("300 requests lost"),
        "{}",
        row.outages[0].title
    );
    assert_eq!(t.hidden_outages, 1);
    assert_eq!(t.rows[1].bars.len(), 1);
    assert_eq!(t.rows[1].bars[0].node, Some(1));
}

/// However many tenures a report holds, the marks stay within
/// MAX_MARKS and the rows within MAX_ROWS.
#[test]
fn marks_and_rows_are_bounded() {
    let names: Vec<String> = (0..MAX_ROWS + 10).map(|i| format!("v{i}")).collect();
    let vips: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut r = empty_report(&vips, &["n1", "n2", "n3"], 86_400.0);
    // 1 px is 86.4 s: 2 s tenures are far narrower than a pixel, 200 s
    // ones are 2.3 px wide (drawn one by one unless over the budget).
    for (i, v) in vips.iter().take(4).enumerate() {
        for k in 0..40_000 {
            let s = k as f64 * 2.0;
            r.nodes[(k + i) % 3].held.push(held(v, s, s + 2.0));
        }
    }
    for v in vips.iter().skip(4).take(40) {
        for k in 0..432 {
            let s = k as f64 * 200.0;
            r.nodes[k % 3].held.push(held(v, s, s + 200.0));
        }
    }
    let t = timeline::build(&r);
    assert_eq!(t.rows.len(), MAX_ROWS);
    assert_eq!(t.omitted_rows, 10);
    let marks: usize = t
        .rows
        .iter()
        .map(|r| r.bars.len() + r.outages.len() + r.duals.len())
        .sum();
    assert!(marks <= MAX_MARKS, "{marks}");
    let counted: usize = t.rows.iter().flat_map(|r| &r.bars).map(|b| b.count).sum();
    assert_eq!(counted, 4 * 40_000 + 40 * 432);
    let svg = svg::document(&t, &[]);
    assert!(svg.len() < 40 << 20, "{}", svg.len());
    assert!(
        svg.contains("10 more VIPs not drawn (at most 256 rows)"),
        "notes"
    );
    // A row's share of MAX_MARKS, half of it for tenures: 432 tenures of
    // 2.3 px each do not fit, and are merged.
    let budget = MAX_MARKS / MAX_ROWS / 2;
    assert!(t.rows[4].bars.len() <= budget, "{}", t.rows[4].bars.len());
    assert_eq!(t.rows[4].bars.iter().map(|b| b.count).sum::<usize>(), 432);
    const { assert!(PLOT_WIDTH / 86_400.0 * 200.0 > 2.0) };
}

/// Events closer than three pixels share a marker that counts them and
/// lists them in its title.
#[test]
fn close_events_share_a_marker() {
    let mut r = empty_report(&["v1"], &["n1"], 1000.0);
    for k in 0..30 {
        r.events.push(EventRecord {
            time: 100.0 + k as f64 * 0.01,
            action: "loss".into(),
            detail: format!("{k} %"),
        });
    }
    r.events.push(EventRecord {
        time: 500.0,
        action: "heal".into(),
        detail: String::new(),
    });
    let t = timeline::build(&r);
    assert_eq!(t.markers.len(), 2);
    assert_eq!(t.markers[0].count, 30);
    assert_eq!(t.markers[0].label, "30 events");
    assert!(
        t.markers[0].title.ends_with("and 10 more"),
        "{}",
        t.markers[0].title
    );
    assert_eq!(t.markers[1].label, "heal");
}

// ---------------------------------------------------------------------------
// The plan page
// ---------------------------------------------------------------------------

fn plan_of(n: usize, m: usize, prefer: Option<Vec<String>>) -> crate::plan::Plan {
    let nodes: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
    let orders = crate::plan::balanced_orders(n, m);
    crate::plan::Plan {
        advskew_step: 4,
        vips: orders
            .iter()
            .enumerate()
            .map(|(j, o)| {
                let order: Vec<String> = match &prefer {
                    Some(p) => p.clone(),
                    None => o.iter().map(|&i| nodes[i].clone()).collect(),
                };
                let advskew: BTreeMap<String, crate::model::AdvSkew> = order
                    .iter()
                    .enumerate()
                    .map(|(r, x)| {
                        (
                            x.clone(),
                            crate::model::AdvSkew::new((r as i64 * 4).min(236)).unwrap(),
                        )
                    })
                    .collect();
                crate::plan::VipPlan {
                    name: format!("v{j}"),
                    vhid: crate::model::Vhid::new((j % 255 + 1) as i64).unwrap(),
                    order,
                    advskew,
                    source: if prefer.is_some() {
                        crate::plan::OrderSource::Prefer
                    } else {
                        crate::plan::OrderSource::Balanced
                    },
                    protocol: crate::model::Protocol::Carp,
                    unicast: false,
                    vrrp: None,
                }
            })
            .collect(),
        nodes,
    }
}

fn count(s: &str, pat: &str) -> usize {
    s.matches(pat).count()
}

/// A small plan: every row and every survivor column.
#[test]
fn a_small_plan_page_has_the_whole_matrix() {
    let plan = plan_of(4, 8, None);
    let m = crate::plan::FailureMatrix::new(&plan, true);
    let b = crate::plan::balance(&m);
    let page = plan_page::html("c.toml", true, &m, &b);
    // 4 single failures, 6 pairs, 4 in maintenance.
    assert_eq!(count(&page, "<tr class=\"case"), 14);
    assert_eq!(count(&page, "data-kind=\"failure\""), 10);
    assert_eq!(count(&page, "data-kind=\"maintenance\""), 4);
    // 4 cells per row, those of failed nodes "down".
    assert_eq!(count(&page, "<td class=\"down\""), 4 + 12);
    assert_eq!(count(&page, "class=\"num cell"), 14 * 4 - 16);
    assert_eq!(count(&page, "<tr class=\"order\""), 8);
    assert!(!page.contains("class=\"note omitted\""), "{page}");
    assert!(page.contains("data-balanced=\"true\""));
}

/// A plan whose explicit orders pile every VIP on one node: rows over the
/// bound are marked, and the cells over it too.
#[test]
fn rows_over_the_bound_are_marked() {
    let plan = plan_of(3, 6, Some(vec!["n0".into(), "n1".into(), "n2".into()]));
    let m = crate::plan::FailureMatrix::new(&plan, true);
    let b = crate::plan::balance(&m);
    let page = plan_page::html("c.toml", true, &m, &b);
    assert!(page.contains("data-balanced=\"false\""), "{page}");
    // n0 fails: n1 holds all 6, bound ⌈6/2⌉ = 3.
    assert!(page.contains("<tr class=\"case over\" data-kind=\"failure\" data-nodes=\"n0\">"));
    assert!(count(&page, " over\"") >= 1, "{page}");
}

/// At 60 nodes the matrix has 1830 pairs and 60 columns: the page shows
/// at most SECTION_ROWS rows per section and names the most loaded
/// survivors instead of columns, and says so.
#[test]
fn a_large_plan_page_shows_what_can_be_read_and_says_what_it_left_out() {
    let plan = plan_of(60, 200, None);
    let m = crate::plan::FailureMatrix::new(&plan, true);
    let b = crate::plan::balance(&m);
    let page = plan_page::html("c.toml", true, &m, &b);
    assert!(
        count(&page, "<tr class=\"case") <= 3 * plan_page::SECTION_ROWS,
        "{}",
        count(&page, "<tr class=\"case")
    );
    assert_eq!(count(&page, "data-kind=\"maintenance\""), 60);
    assert_eq!(
        count(&page, "<tr class=\"case\" data-kind=\"failure\""),
        60 + plan_page::SECTION_ROWS
    );
    assert!(page.contains("Showing 120 of 1770 rows"), "notes");
    assert!(page.contains("too many columns to read"));
    assert!(!page.contains("class=\"num cell"), "no grid cells");
    assert!(page.len() < 2 << 20, "{}", page.len());
    assert!(page.contains("Ranks past 12 are left out"));
}

/// The largest scenario carpctl accepts draws a bounded picture: 64 nodes,
/// 255 VIPs (one segment's vhids), the 10 000 events of
/// `sim::limits::MAX_EVENTS` and a node crashing every 0.3 s, so every VIP
/// changes MASTER thousands of times, with as many outages and dual
/// masters. The page and the SVG stay under 24 MB whatever the report
/// holds (MAX_MARKS marks of about 150 bytes, MAX_ROWS rows, events merged
/// per 3 pixels, at most 500 rows in the events table).
#[test]
fn the_largest_scenario_gives_a_bounded_page() {
    // 2000 tenures of 0.4 px per VIP merge at once; 190 of 4.2 px are
    // drawn one by one (within a row's budget): the biggest picture.
    for tenures in [2000, 190] {
        largest_scenario(tenures);
    }
}

fn largest_scenario(tenures: usize) {
    const LIMIT: usize = 24 << 20;
    let node_names: Vec<String> = (1..=64).map(|i| format!("node{i:02}")).collect();
    let vip_names: Vec<String> = (1..=255).map(|i| format!("vip{i:03}")).collect();
    let nodes: Vec<&str> = node_names.iter().map(String::as_str).collect();
    let vips: Vec<&str> = vip_names.iter().map(String::as_str).collect();
    let duration = 3000.0;
    let mut r = empty_report(&vips, &nodes, duration);
    let events = crate::sim::limits::MAX_EVENTS;
    for k in 0..events {
        r.events.push(EventRecord {
            time: k as f64 * duration / events as f64,
            action: if k % 2 == 0 { "crash" } else { "boot" }.into(),
            detail: nodes[k / 2 % 64].into(),
        });
    }
    let step = duration / tenures as f64;
    for (i, v) in vips.iter().enumerate() {
        for k in 0..tenures {
            let s = k as f64 * step;
            r.nodes[(k + i) % 64].held.push(held(v, s, s + step * 0.8));
        }
        let vip = &mut r.vips[i];
        for k in 0..tenures {
            let s = k as f64 * step + step * 0.8;
            vip.outages.push(Outage {
                start: s,
                end: s + step * 0.1,
                lost: 1,
                ongoing: false,
            });
            vip.dual_master.push(DualMaster {
                start: s + step * 0.1,
                end: s + step * 0.2,
                nodes: vec![nodes[k % 64].into(), nodes[(k + 1) % 64].into()],
                ongoing: false,
            });
        }
    }
    let t = timeline::build(&r);
    let marks: usize = t
        .rows
        .iter()
        .map(|r| r.bars.len() + r.outages.len() + r.duals.len())
        .sum();
    assert!(marks <= MAX_MARKS, "{marks} marks");
    assert!(
        t.markers.len() <= (PLOT_WIDTH / 3.0) as usize + 1,
        "{}",
        t.markers.len()
    );
    assert_eq!(t.markers.iter().map(|m| m.count).sum::<usize>(), events);
    let page = sim_page::html(&r);
    let picture = sim_page::svg(&r);
    eprintln!(
        "64 nodes, 255 VIPs, {events} events, {} tenures: HTML {} bytes, SVG {} bytes, {marks} marks",
        255 * tenures,
        page.len(),
        picture.len()
    );
    assert!(page.len() < LIMIT, "HTML {} bytes", page.len());
    assert!(picture.len() < LIMIT, "SVG {} bytes", picture.len());
    assert!(
        page.contains("9500 more events not listed"),
        "the events table is cut"
    );
}
