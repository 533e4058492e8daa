//! Pictures of what carpctl found: the timeline of a simulation
//! (`carpctl simulate --html`, `--svg`) and the failure matrix of a plan
//! (`carpctl plan --html`).
//!
//! * [`timeline`]: a simulation report ([`crate::sim::Report`]) as marks to
//!   draw: per VIP the tenures of each MASTER, the outages and the
//!   dual-master intervals, and the scenario's events; merged where they
//!   would be narrower than a pixel, so the size of a picture is bounded
//!   whatever the report holds.
//! * [`svg`]: the timeline as one SVG element; [`sim_page`]: the HTML page
//!   around it, with the three verdicts and their numbers.
//! * [`plan_page`]: the failure matrix and the per-VIP order table of a
//!   plan, as an HTML page; at large N only the rows and columns a reader
//!   can take in, and the page says what it left out.
//! * [`page`]: what every page shares: the document shell, the style sheet,
//!   the colours of the nodes.
//!
//! Every file written here is **one self-contained file**: inline CSS and
//! SVG, no script, no font, no image, nothing fetched (a
//! `Content-Security-Policy` of `default-src 'none'` makes the browser
//! refuse any fetch that would slip in). Hovering a bar shows its details
//! through SVG `<title>` elements, which need no script. All text that
//! comes from a file (node and VIP names, paths, event details) is escaped
//! twice: [`clean`] writes control and bidi characters visibly
//! ([`crate::text::escape`]), and `maud` escapes `&`, `<`, `>` and `"` in
//! every value it writes into the markup.

pub(crate) mod page;
pub(crate) mod plan_page;
pub(crate) mod sim_page;
pub(crate) mod svg;
pub(crate) mod timeline;

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A picture file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {what}: {source}", path.display())]
pub(crate) struct PictureError {
    pub path: PathBuf,
    pub what: &'static str,
    #[source]
    pub source: std::io::Error,
}

/// An output file the user named, created (or truncated) before the work
/// that fills it, so that a path that cannot be written is refused before
/// a long simulation, and never opened through a symbolic link
/// ([`crate::fsutil::create_output`]: carpctl often runs as root).
#[derive(Debug)]
pub(crate) struct Output {
    path: PathBuf,
    file: std::fs::File,
}

impl Output {
    pub(crate) fn create(path: &Path) -> Result<Self, PictureError> {
        let file = crate::fsutil::create_output(path, 0o644).map_err(|source| PictureError {
            path: path.to_path_buf(),
            what: "cannot create",
            source,
        })?;
        Ok(Output {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Write `text` and close the file.
    pub(crate) fn finish(mut self, text: &str) -> Result<(), PictureError> {
        let err = |source| PictureError {
            path: self.path.clone(),
            what: "cannot write",
            source,
        };
        self.file.write_all(text.as_bytes()).map_err(err)?;
        self.file.flush().map_err(err)
    }
}

/// Outside text made safe to show: control, bidi and line-separator
/// characters written visibly ([`crate::text::escape`]); markup escaping
/// is maud's.
pub(crate) fn clean(s: &str) -> String {
    crate::text::escape(s).to_string()
}

/// `s`, cut to at most `max` characters with an ellipsis.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A coordinate or length in the markup: one decimal, no trailing zero
/// ("12", "12.5"), so a picture is compact and its bytes do not depend
/// on floating-point noise.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub(crate) struct Px(pub f64);

impl fmt::Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = (self.0 * 10.0).round();
        if !tenths.is_finite() {
            return f.write_str("0");
        }
        let t = tenths as i64;
        if t % 10 == 0 {
            write!(f, "{}", t / 10)
        } else {
            let sign = if t < 0 { "-" } else { "" };
            write!(f, "{sign}{}.{}", t.abs() / 10, t.abs() % 10)
        }
    }
}

/// A time in seconds as the text report writes it (three decimals).
pub(crate) fn secs(t: f64) -> String {
    format!("{t:.3}")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests;
