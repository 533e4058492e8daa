//! The text form of a [`Report`]: a header line, one table row per
//! speaker, the transitions and dual-master intervals, the findings and a
//! summary. `--watch` redraws the same text; the JSON form is the
//! contract, this one is for reading.

use std::fmt::Write as _;

use super::analyze::{at, dual_names, group_name, who};
use super::report::{GroupReport, Report, SpeakerReport};

/// The whole report as text. Times are seconds into the capture.
pub(crate) fn text(r: &Report) -> String {
    let mut s = String::new();
    let start = r.source.start.unwrap_or(0.0);
    header(&mut s, r);
    if r.groups.is_empty() {
        s.push_str("\nno CARP or VRRP advertisement seen\n");
    } else {
        s.push('\n');
        table(&mut s, r, start);
        events(&mut s, r, start);
    }
    if !r.findings.is_empty() {
        s.push_str("\nfindings:\n");
        for f in &r.findings {
            let _ = writeln!(
                s,
                "  {} {}: {}",
                f.code,
                f.severity,
                crate::text::escape(&f.message)
            );
        }
    }
    let sum = r.summary;
    let _ = writeln!(
        s,
        "\n{} error{}, {} warning{}, {} info",
        sum.errors,
        plural(sum.errors),
        sum.warnings,
        plural(sum.warnings),
        sum.info
    );
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn header(s: &mut String, r: &Report) {
    let src = &r.source;
    let what = match (&src.file, src.interfaces.is_empty()) {
        (Some(f), _) => format!("capture {}", crate::text::escape(f)),
        (None, false) => format!("interface {}", src.interfaces.join(", ")),
        (None, true) => "no source".to_string(),
    };
    let span = match (src.start, src.end) {
        (Some(a), Some(b)) => format!(", {:.1} s", b - a),
        _ => String::new(),
    };
    let _ = write!(
        s,
        "{what}{span}: {} frame{}, {} advertisement{}",
        r.counts.frames,
        plural(r.counts.frames as usize),
        r.counts.advertisements,
        plural(r.counts.advertisements as usize)
    );
    if r.counts.malformed > 0 {
        let _ = write!(s, ", {} unreadable", r.counts.malformed);
    }
    if let Some(k) = src.kernel {
        let _ = write!(s, "; kernel: {} counted, {} dropped", k.received, k.dropped);
    }
    if let Some(c) = &src.cluster {
        let _ = write!(s, "; cluster file {}", crate::text::escape(c));
    }
    s.push('\n');
}

const COLUMNS: [&str; 11] = [
    "PROTO",
    "ID",
    "INTERFACE",
    "SPEAKER",
    "NODE",
    "MAC",
    "SKEW/PRIO",
    "INTERVAL",
    "ADS",
    "HMAC",
    "STATE",
];

fn row(g: &GroupReport, sp: &SpeakerReport, start: f64) -> [String; 11] {
    let prio = match (&sp.carp, &sp.vrrp) {
        (Some(c), _) => format!("{}/{}", c.advbase, c.advskew),
        (None, Some(v)) => format!("v{} {}", v.version, v.priority),
        _ => "-".into(),
    };
    let interval = match sp.observed_interval {
        Some(o) => format!("{:.3}/{:.3}", sp.interval, o.mean),
        None => format!("{:.3}/-", sp.interval),
    };
    let hmac = sp.carp.as_ref().map_or("-", |c| c.hmac.status);
    let state = if sp.master {
        format!("MASTER since {}", at(sp.since, start))
    } else {
        format!("silent since {}", at(sp.last_seen, start))
    };
    [
        g.protocol.as_str().to_string(),
        g.id.to_string(),
        g.interface.clone(),
        sp.address.to_string(),
        sp.node.clone().unwrap_or_else(|| "-".into()),
        match sp.macs.len() {
            0 => "-".into(),
            1 => sp.macs[0].clone(),
            n => format!("{} (+{})", sp.macs[0], n - 1),
        },
        prio,
        interval,
        sp.advertisements.to_string(),
        hmac.to_string(),
        state,
    ]
}

fn table(s: &mut String, r: &Report, start: f64) {
    let rows: Vec<[String; 11]> = r
        .groups
        .iter()
        .flat_map(|g| g.speakers.iter().map(move |sp| row(g, sp, start)))
        .collect();
    let mut width = COLUMNS.map(str::len);
    for cells in &rows {
        for (w, c) in width.iter_mut().zip(cells) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(width).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<w$}  ");
            }
        }
        let _ = writeln!(s, "{}", crate::text::escape(l.trim_end()));
    };
    line(&COLUMNS);
    for cells in &rows {
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        line(&refs);
    }
}

fn events(s: &mut String, r: &Report, start: f64) {
    let mut lines = Vec::new();
    for g in &r.groups {
        for d in &g.dual_master {
            let names = dual_names(d);
            lines.push(format!(
                "  {}: dual master {} to {}{} ({:.3} s): {}",
                group_name(g),
                at(d.start, start),
                at(d.end, start),
                if d.ongoing { ", ongoing" } else { "" },
                d.end - d.start,
                names.join(", ")
            ));
        }
        for t in &g.transitions {
            lines.push(format!(
                "  {}: {} master {} -> {}{}",
                group_name(g),
                at(t.time, start),
                t.from
                    .map_or("nobody".into(), |a| who(a, t.from_node.as_deref())),
                who(t.to, t.to_node.as_deref()),
                if t.gap > 0.0 {
                    format!(" ({:.3} s without a master)", t.gap)
                } else {
                    String::new()
                }
            ));
        }
    }
    if !lines.is_empty() {
        s.push_str("\nevents:\n");
        for l in lines {
            s.push_str(&crate::text::escape(&l).to_string());
            s.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::report::{SCHEMA, SourceInfo, Summary};
    use crate::scan::track::Stats;

    #[test]
    fn an_empty_report_says_so() {
        let r = Report {
            schema: SCHEMA,
            source: SourceInfo {
                kind: "pcap",
                file: Some("x.pcap".into()),
                start: Some(10.0),
                end: Some(12.5),
                ..SourceInfo::default()
            },
            counts: Stats {
                frames: 3,
                malformed: 1,
                ..Stats::default()
            },
            groups: vec![],
            findings: vec![],
            summary: Summary::default(),
        };
        let t = text(&r);
        assert!(
            t.starts_with("capture x.pcap, 2.5 s: 3 frames, 0 advertisements, 1 unreadable\n"),
            "{t}"
        );
        assert!(t.contains("no CARP or VRRP advertisement seen"), "{t}");
        assert!(t.ends_with("0 errors, 0 warnings, 0 info\n"), "{t}");
    }
}
