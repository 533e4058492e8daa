//! The text files carpctl parses (the cluster file, scenarios, the files
//! lint reads): [`read`] reads one (through [`crate::fsutil`]: a regular
//! file, never a FIFO or a device, of at most [`fsutil::INPUT_MAX`] bytes,
//! trusted or not) and decodes it as UTF-8; [`Pos`] is a position in it
//! (line and column, as editors count them) and [`LineIndex`] maps byte
//! offsets to positions.
//!
//! This module is at the bottom of the crate: it depends on nothing but
//! [`crate::fsutil`], and every layer may use it.

use std::ops::Range;
use std::path::Path;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::fsutil::{self, FsError, Trust};

/// How a text file is opened ([`read`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// A file carpctl acts on (the cluster file): its owner and mode, and
    /// every directory above it, must pass [`Trust::Config`].
    Trusted,
    /// A file the user named to be read (a scenario, a file to lint),
    /// whoever owns it.
    Named,
}

/// A text file [`read`] whole.
#[derive(Debug)]
pub(crate) struct TextFile {
    /// The file's text. It may hold passwords: it is wiped when dropped.
    pub text: Zeroizing<String>,
    /// `st_mode & 07777` of the file that was read.
    pub mode: u32,
}

/// Why [`read`] gave no text. No message quotes the file's content.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// It could not be read ([`FsError`]: missing, not a regular file,
    /// too large, not trusted...).
    Fs(FsError),
    /// It is not UTF-8; the bytes read have been zeroed.
    NotUtf8 {
        /// Byte offset of the first invalid byte.
        at: usize,
        /// Where that byte is.
        pos: Pos,
        /// `st_mode & 07777` of the file.
        mode: u32,
    },
}

/// Read the text file at `path` as `access` says, at most
/// [`fsutil::INPUT_MAX`] bytes, and decode it as UTF-8.
pub(crate) fn read(path: &Path, access: Access) -> Result<TextFile, ReadError> {
    let opened = match access {
        Access::Trusted => fsutil::read_trusted(path, fsutil::INPUT_MAX, Trust::Config),
        Access::Named => fsutil::read_with_mode(path, fsutil::INPUT_MAX),
    }
    .map_err(ReadError::Fs)?;
    let mode = opened.mode;
    // The text may hold passwords: it is wiped when dropped, and so are
    // the bytes of a file that is not UTF-8.
    match fsutil::into_text(opened.bytes) {
        Ok(text) => Ok(TextFile { text, mode }),
        Err((at, bytes)) => {
            // `at` is a char boundary by definition, so this slice is
            // valid UTF-8 and gives the position of the bad byte.
            let pos = std::str::from_utf8(bytes.get(..at).unwrap_or_default())
                .map_or(Pos { line: 1, column: 1 }, |prefix| {
                    LineIndex::new(prefix).pos(at)
                });
            Err(ReadError::NotUtf8 { at, pos, mode })
        }
    }
}

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
    use std::fs;

    use super::*;

    #[test]
    fn read_decodes_and_locates_invalid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.toml");
        fs::write(&p, "a = 1\n").unwrap();
        assert_eq!(read(&p, Access::Named).unwrap().text.as_str(), "a = 1\n");
        fs::write(&p, b"a = 1\nb = \"\xff\"\n").unwrap();
        match read(&p, Access::Named) {
            Err(ReadError::NotUtf8 { at, pos, .. }) => {
                assert_eq!(at, 11);
                assert_eq!(pos, Pos { line: 2, column: 6 });
            }
            other => panic!("{other:?}"),
        }
        let e = read(&dir.path().join("missing"), Access::Named).unwrap_err();
        assert!(
            matches!(e, ReadError::Fs(ref f) if f.is_not_found()),
            "{e:?}"
        );
    }

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
