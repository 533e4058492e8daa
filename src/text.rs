//! Outside text in messages and log lines: the one escaping rule.
//!
//! carpctl quotes text it did not write — names and paths from the cluster
//! file, URLs, devd records, the output of hooks and checks, lines of
//! rc.conf or devd.conf in lint findings — in messages that reach a
//! terminal, syslog (devd, rc.d and the daemon log through it) and JSON
//! readers. Raw, such text can forge log lines (CR, LF), hide or reorder
//! what a reader sees (Unicode bidi controls, as in CVE-2021-42574
//! "Trojan Source"), drive the terminal (ESC, C1 controls) or cut a line
//! short for C-string readers (NUL). Every such piece goes through
//! [`escape`] (or [`escape_bytes`] when it may not be UTF-8), which writes
//! those characters visibly instead:
//!
//! * `\0`, `\t`, `\n`, `\r` for NUL, tab, LF and CR;
//! * `\u{1b}`-style escapes for the other C0 controls, DEL, the C1
//!   controls (U+0080-U+009F), the Unicode bidi controls (U+061C, U+200E,
//!   U+200F, U+202A-U+202E, U+2066-U+2069) and the line and paragraph
//!   separators (U+2028, U+2029);
//! * `\xNN` for each byte of [`escape_bytes`] input that is not UTF-8.
//!
//! Everything else, including a backslash, is kept as it is: messages quote
//! regexes and paths, which stay readable. Names (of nodes, VIPs, checks,
//! interfaces) are stricter still: they may not contain any of these
//! characters at all ([`is_unsafe`]), so validation refuses them.
//!
//! This module is at the bottom of the crate: it depends on nothing, and
//! every layer may use it.

use std::fmt::{self, Write as _};

/// Whether `c` must never appear raw in a message: a control character
/// (C0, DEL, C1), a Unicode bidi control, or a line or paragraph separator.
pub(crate) fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// The Unicode bidirectional formatting characters (Unicode UAX #9, §2):
/// the embeddings and overrides (U+202A-U+202E), the isolates
/// (U+2066-U+2069) and the implicit marks (U+200E, U+200F, U+061C).
pub(crate) fn is_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Why a name cannot be used, when it has a character [`is_unsafe`]
/// refuses: the first such character, escaped, for the message.
pub(crate) fn unsafe_char(s: &str) -> Option<String> {
    s.chars().find(|&c| is_unsafe(c)).map(|c| {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = push_escaped(&mut out, c);
        out
    })
}

/// `s` for a message: [`Display`](fmt::Display) writes it with every
/// [`is_unsafe`] character escaped (module doc).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Escaped<'a>(pub &'a str);

/// `s` with every [`is_unsafe`] character escaped, for `format!`.
pub(crate) fn escape(s: &str) -> Escaped<'_> {
    Escaped(s)
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        // Copy runs of safe text in one write each.
        while let Some((i, c)) = rest.char_indices().find(|&(_, c)| is_unsafe(c)) {
            f.write_str(rest.get(..i).unwrap_or_default())?;
            push_escaped(f, c)?;
            rest = rest.get(i + c.len_utf8()..).unwrap_or_default();
        }
        f.write_str(rest)
    }
}

fn push_escaped(w: &mut impl fmt::Write, c: char) -> fmt::Result {
    match c {
        '\0' => w.write_str("\\0"),
        '\t' => w.write_str("\\t"),
        '\n' => w.write_str("\\n"),
        '\r' => w.write_str("\\r"),
        c => write!(w, "\\u{{{:x}}}", u32::from(c)),
    }
}

/// `s` escaped, except that its line breaks (`\n`) are kept: for text
/// that is several lines on purpose (a message with a hint on its own
/// line) and is written out whole. Each piece of outside text in it must
/// have gone through [`escape`] already, so that it cannot add a line.
pub(crate) fn escape_keep_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = write!(out, "{}", escape(line));
    }
    out
}

/// Bytes that may not be UTF-8 (a devd record, a line of hook output),
/// escaped: valid UTF-8 as [`escape`] writes it, every other byte `\xNN`.
pub(crate) fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        let _ = write!(out, "{}", escape(chunk.valid()));
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// At most this many bytes of a bad input are quoted by [`quote_bytes`],
/// so that a hostile or broken peer cannot make carpctl log megabytes.
pub(crate) const QUOTE_MAX: usize = 80;

/// `bytes` escaped and in double quotes, at most [`QUOTE_MAX`] bytes of
/// them, followed by the full length when they were cut: `"abc\r" ` or
/// `"aaaa..." (4096 bytes)`. A cut never splits a character into `\xNN`
/// escapes of its pieces.
pub(crate) fn quote_bytes(bytes: &[u8]) -> String {
    let mut end = bytes.len().min(QUOTE_MAX);
    if end < bytes.len() {
        // Back off to a character boundary when the cut is inside one.
        let tail_start = end.saturating_sub(3);
        if let Some(k) = (tail_start..=end)
            .rev()
            .find(|&k| std::str::from_utf8(bytes.get(..k).unwrap_or_default()).is_ok())
        {
            end = k;
        }
    }
    let mut s = format!("\"{}\"", escape_bytes(bytes.get(..end).unwrap_or_default()));
    if end < bytes.len() {
        let _ = write!(s, " ({} bytes)", bytes.len());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_escaped_visibly() {
        let cases = [
            (
                "plain text, with \"quotes\" and \\ kept",
                "plain text, with \"quotes\" and \\ kept",
            ),
            ("a\0b", "a\\0b"),
            ("line\r\nforged: ok", "line\\r\\nforged: ok"),
            ("tab\there", "tab\\there"),
            ("\u{1b}[31mred", "\\u{1b}[31mred"),
            ("del\u{7f}", "del\\u{7f}"),
            ("c1\u{9b}31m", "c1\\u{9b}31m"),
            ("mail\u{202e}1gnp.exe", "mail\\u{202e}1gnp.exe"),
            (
                "\u{2066}\u{2069}\u{200e}\u{200f}\u{61c}",
                "\\u{2066}\\u{2069}\\u{200e}\\u{200f}\\u{61c}",
            ),
            ("a\u{2028}b\u{2029}", "a\\u{2028}b\\u{2029}"),
            // Other non-ASCII text is kept.
            ("çà et là — 日本", "çà et là — 日本"),
        ];
        for (raw, want) in cases {
            assert_eq!(escape(raw).to_string(), want, "{raw:?}");
            // Escaping is idempotent: escaped text has nothing left to escape.
            assert_eq!(escape(want).to_string(), want);
        }
    }

    #[test]
    fn unsafe_characters_are_named() {
        assert_eq!(unsafe_char("mail1"), None);
        assert_eq!(unsafe_char("ma\u{202e}il"), Some("\\u{202e}".into()));
        assert_eq!(unsafe_char("a\rb"), Some("\\r".into()));
        assert!(is_unsafe('\u{85}'), "NEL is a C1 control");
        assert!(!is_unsafe(' '));
        assert!(!is_unsafe('é'));
    }

    #[test]
    fn bytes_that_are_not_utf8_become_hex() {
        assert_eq!(escape_bytes(b"ok\xff\xfe\0\n"), "ok\\xff\\xfe\\0\\n");
        assert_eq!(escape_bytes("é\u{202e}".as_bytes()), "é\\u{202e}");
        assert_eq!(escape_bytes(b""), "");
    }

    #[test]
    fn quotes_are_bounded() {
        assert_eq!(quote_bytes(b"a\rb"), "\"a\\rb\"");
        let long = vec![b'x'; 5000];
        let q = quote_bytes(&long);
        assert!(q.ends_with("\" (5000 bytes)"), "{q}");
        assert_eq!(q.len(), QUOTE_MAX + 2 + " (5000 bytes)".len());
        // A cut inside a multi-byte character backs off to its start.
        let mut s = vec![b'a'; QUOTE_MAX - 1];
        s.extend_from_slice("€€".as_bytes());
        let q = quote_bytes(&s);
        assert!(!q.contains("\\x"), "{q}");
        assert!(q.contains(&format!("({} bytes)", s.len())), "{q}");
    }

    #[test]
    fn multi_line_text_keeps_its_lines_only() {
        assert_eq!(
            escape_keep_lines("first \u{1b}line\nsecond\r line"),
            "first \\u{1b}line\nsecond\\r line"
        );
    }
}
