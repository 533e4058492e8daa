//! What every picture page shares: the HTML document around the content,
//! its style sheet, and the colour of each node.

use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The page may fetch nothing: no script, no font, no image, no frame.
/// Inline style only (the `<style>` element and SVG presentation
/// attributes). A fetch that slipped into the markup would be refused and
/// reported on the browser's console (tests/it/pictures.rs watches it).
pub(crate) const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                       form-action 'none'";

/// The page's style sheet (the SVG carries its own, [`SVG_STYLE`]).
const STYLE: &str = "\
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}\
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.4em 0 .4em}\
.meta{color:#555;margin:0 0 1em}.note{color:#555;font-size:.9em}\
.verdicts{display:flex;flex-wrap:wrap;gap:.8em}\
.verdict{flex:1 1 18em;border:2px solid #2e7d32;border-radius:6px;padding:.5em .8em}\
.verdict.not-met{border-color:#c62828;background:#fff5f5}\
.verdict h3{margin:0 0 .3em;font-size:1em}.verdict .met{color:#2e7d32}\
.verdict .not-met-word{color:#c62828}\
.verdict dl{display:grid;grid-template-columns:auto 1fr;gap:0 .8em;margin:.4em 0 0}\
.verdict dt{color:#555}.verdict dd{margin:0}\
table{border-collapse:collapse;margin:.3em 0}\
th,td{border:1px solid #ccc;padding:.15em .45em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.num,th.num{text-align:right}\
td.down{background:#e0e0e0;color:#777;text-align:center}\
td.maint{background:#fff8e1}td.max{font-weight:bold;outline:2px solid #555;outline-offset:-2px}\
td.over,tr.over td.status{background:#ffcdd2;color:#b71c1c;font-weight:bold}\
td.ok{color:#2e7d32}td.unowned{color:#b71c1c}\
.vips{font-size:.8em;color:#555}\
.scroll{overflow-x:auto;max-width:100%}\
svg.timeline{max-width:100%;height:auto}";

/// The SVG's own style: hover outlines, fonts. Inside the SVG so that
/// `--svg` files look the same on their own.
pub(crate) const SVG_STYLE: &str = "\
text{font-family:system-ui,sans-serif;fill:#222}\
.bar:hover,.outage:hover,.dual:hover,.event:hover line{stroke:#000;stroke-width:1.5}\
.axis{font-size:11px;fill:#555}.grid{stroke:#ddd;stroke-width:1}\
.event line{stroke:#333;stroke-width:1;stroke-dasharray:3 3}\
.event text{font-size:11px}.legend{font-size:12px}.verdict-line{font-size:12px}\
.verdict-line.ok{fill:#2e7d32}.verdict-line.not-met{fill:#c62828}";

/// A complete page: `title` (plain text) and `body`.
pub(crate) fn document(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content={ "carpctl " (env!("CARGO_PKG_VERSION")) };
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

/// Colours that are neither red (outages) nor grey (no master), in an
/// order where neighbours differ (Tableau 10 without its red, pink and
/// grey).
const PALETTE: [&str; 7] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f",
];

/// The colour of the node at `index`: the palette, then hues spread by
/// the golden angle over 40°-320° (never red), in three lightnesses.
pub(crate) fn node_colour(index: usize) -> String {
    if let Some(c) = PALETTE.get(index) {
        return (*c).to_string();
    }
    let k = index - PALETTE.len();
    let hue = 40.0 + (k as f64 * 137.508) % 280.0;
    let light = [42, 58, 34][k % 3];
    format!("hsl({hue:.0},55%,{light}%)")
}

/// The colour of outages.
pub(crate) const OUTAGE: &str = "#d62728";
/// The colour of merged tenures of several nodes.
pub(crate) const MIXED: &str = "#555";
