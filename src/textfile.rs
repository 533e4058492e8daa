//! The text files carpctl parses (the cluster file, scenarios, the files
//! lint reads) and positions in them: [`Pos`] (line and column, as
//! editors count them) and [`LineIndex`] (byte offset -> [`Pos`]).
//!
//! This module is at the bottom of the crate: it depends on nothing, and
//! every layer may use it.

use std::ops::Range;

use serde::Serialize;

/// A position in a text file (the cluster file, a scenario, a file lint
/// reads): 1-based line, 1-based column counted in
/// characters (not bytes), as editors count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Byte offset -> line and column, for the spans the toml parser reports.
pub(crate) struct LineIndex<'a> {
    src: &'a str,
    /// Byte offset at which each line starts.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { src, starts }
    }

    pub(crate) fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.src.len());
        // partition_point: the number of line starts <= offset, at least 1
        // because starts[0] = 0.
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        // Count characters, not bytes; a span that does not fall on a char
        // boundary (it should not happen) falls back to bytes.
        let column = match self.src.get(start..offset) {
            Some(s) => s.chars().count(),
            None => offset - start,
        } + 1;
        Pos { line, column }
    }

    pub(crate) fn span(&self, span: &Range<usize>) -> Pos {
        self.pos(span.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_from_one_in_characters() {
        let idx = LineIndex::new("ab\nçd = 1\n\nx");
        assert_eq!(idx.pos(0), Pos { line: 1, column: 1 });
        assert_eq!(idx.pos(1), Pos { line: 1, column: 2 });
        assert_eq!(idx.pos(3), Pos { line: 2, column: 1 });
        // "ç" is two bytes but one column.
        assert_eq!(idx.pos(5), Pos { line: 2, column: 2 });
        assert_eq!(idx.pos(11), Pos { line: 3, column: 1 });
        assert_eq!(idx.pos(12), Pos { line: 4, column: 1 });
        assert_eq!(idx.pos(13), Pos { line: 4, column: 2 });
        // Out of range clamps to the end instead of panicking.
        assert_eq!(idx.pos(999), Pos { line: 4, column: 2 });
        // Inside a multi-byte character: bytes, no panic.
        assert_eq!(idx.pos(4), Pos { line: 2, column: 2 });
    }
}
