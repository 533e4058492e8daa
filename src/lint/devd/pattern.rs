//! devd.conf match values as devd compiles them: POSIX extended regexes,
//! anchored (`"^" + re + "$"`), with a leading `!` negating; checked for
//! syntax in linear time, compiled only under a size limit.

use regex::Regex;

/// Translate a POSIX extended regex into the regex crate's syntax, where
/// they differ for what devd.conf files contain: inside a bracket
/// expression a backslash is literal in POSIX.
pub(super) fn posix_to_rust(re: &str) -> String {
    let mut out = String::with_capacity(re.len() + 8);
    let chars: Vec<char> = re.chars().collect();
    // close[k]: the first ":]" at or after k, found in one backward pass, so
    // that a regex full of "[:" without a close is not scanned once per
    // "[:" (quadratic in its length).
    let mut close = vec![None; chars.len() + 1];
    for k in (0..chars.len()).rev() {
        close[k] = if chars.get(k) == Some(&':') && chars.get(k + 1) == Some(&']') {
            Some(k)
        } else {
            close[k + 1]
        };
    }
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '\\' {
            out.push(c);
            if let Some(&n) = chars.get(i + 1) {
                out.push(n);
            }
            i += 2;
            continue;
        }
        if c != '[' {
            out.push(c);
            i += 1;
            continue;
        }
        // A bracket expression: `[`, optional `^`, a leading `]` is literal.
        out.push('[');
        i += 1;
        if chars.get(i) == Some(&'^') {
            out.push('^');
            i += 1;
        }
        if chars.get(i) == Some(&']') {
            out.push_str("\\]");
            i += 1;
        }
        while let Some(&b) = chars.get(i) {
            match b {
                ']' => {
                    out.push(']');
                    i += 1;
                    break;
                }
                '[' if chars.get(i + 1) == Some(&':') => {
                    // [:class:] copied through.
                    let end = close.get(i + 2).copied().flatten();
                    match end {
                        Some(k) => {
                            out.extend(chars.get(i..k + 2).unwrap_or_default());
                            i = k + 2;
                        }
                        None => {
                            out.push_str("\\[");
                            i += 1;
                        }
                    }
                }
                '\\' | '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(b);
                    i += 1;
                }
                _ => {
                    out.push(b);
                    i += 1;
                }
            }
        }
    }
    out
}

/// A devd match value compiled as devd does: anchored, with `!` negation.
pub(super) struct DevdRegex {
    pub(super) re: Regex,
    pub(super) negated: bool,
}

impl DevdRegex {
    pub(super) fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s) != self.negated
    }
}

/// The anchored regex-crate pattern of a devd match value, and whether it
/// is negated (`!`).
fn pattern(value: &str) -> (String, bool) {
    let (negated, body) = match value.strip_prefix('!') {
        Some(b) => (true, b),
        None => (false, value),
    };
    (format!("^(?:{})$", posix_to_rust(body)), negated)
}

/// The last line of a regex error, which spans several.
fn regex_message(e: &str) -> String {
    e.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid")
        .trim()
        .trim_start_matches("error: ")
        .to_string()
}

/// Whether a devd match value is a regex at all: parsed only, in time
/// linear in its length, never compiled (a short pattern such as
/// `(a{1000}){30}` compiles to megabytes).
pub(super) fn check_syntax(value: &str) -> Result<(), String> {
    let (anchored, _) = pattern(value);
    regex_syntax::Parser::new()
        .parse(&anchored)
        .map(drop)
        .map_err(|e| regex_message(&e.to_string()))
}

/// The most a compiled regex may take: devd patterns are small (`\w+`, the
/// largest common one, is under 64 KiB), and a larger one is not checked
/// rather than built: building costs time and memory in proportion.
const REGEX_SIZE_LIMIT: usize = 256 << 10;

/// How many regexes lint compiles in one devd file (the `system`, and for
/// CARP and IFNET rules the `subsystem` and `type`, of each notify block):
/// FreeBSD's own files need a few dozen; this bounds the time a hostile
/// file can take at a second or two.
pub(super) const MAX_COMPILED: usize = 1024;

/// Compile a value whose syntax is valid, as devd does: anchored, with
/// `!` negation. `None` when it is too large to check.
pub(super) fn compile(value: &str) -> Option<DevdRegex> {
    let (anchored, negated) = pattern(value);
    regex::RegexBuilder::new(&anchored)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .ok()
        .map(|re| DevdRegex { re, negated })
}
