//! Rewriting an rc.conf in place: byte-range replacements that keep every
//! other byte of the file, and remove a line left blank.

use std::ops::Range;

/// Apply byte-range replacements (non-overlapping). A replacement that
/// leaves its line blank removes the line.
pub(crate) fn apply_edits(src: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = src.to_string();
    for (r, text) in edits {
        if r.start > r.end
            || r.end > out.len()
            || !out.is_char_boundary(r.start)
            || !out.is_char_boundary(r.end)
        {
            continue;
        }
        let line_start = out
            .get(..r.start)
            .and_then(|s| s.rfind('\n'))
            .map_or(0, |i| i + 1);
        let line_end = out
            .get(r.end..)
            .and_then(|s| s.find('\n'))
            .map_or(out.len(), |i| r.end + i);
        let before = out.get(line_start..r.start).unwrap_or("");
        let after = out.get(r.end..line_end).unwrap_or("");
        if text.is_empty() && before.trim().is_empty() && after.trim().is_empty() {
            // Remove the whole line, with its newline.
            let end = if line_end < out.len() {
                line_end + 1
            } else {
                line_end
            };
            out.replace_range(line_start..end, "");
        } else {
            out.replace_range(r, &text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_remove_blank_lines_and_keep_the_rest() {
        let src = "a=1\nb=2 # c\nc=3";
        let out = apply_edits(src, vec![(4..7, String::new()), (12..15, String::new())]);
        assert_eq!(out, "a=1\n # c\n");
        let out = apply_edits("x\ny=1\nz\n", vec![(2..5, String::new())]);
        assert_eq!(out, "x\nz\n");
    }
}
