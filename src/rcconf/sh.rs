//! A reader for the sh assignments that rc.conf(5) and loader.conf(5) are
//! made of.
//!
//! rc.conf is a sh script that rc.subr sources (`load_rc_config`), and
//! loader.conf uses the same `name="value"` form. This reader implements
//! what those files use, as sh(1) reads it:
//!
//! * commands separated by newlines or `;`, words by blanks;
//! * `#` starts a comment at the start of a word, to the end of the line;
//! * single quotes keep everything literally; double quotes keep everything
//!   except `\$`, ``\` ``, `\"`, `\\` and backslash-newline;
//! * an unquoted backslash quotes the next character, and a
//!   backslash-newline outside single quotes is removed (continuation);
//! * `NAME=value` words at the start of a command are assignments; a
//!   command made only of assignments sets them, in order, so a later
//!   assignment overrides an earlier one;
//! * `$var`, `${var}` and `` `cmd` `` are left literal (recorded, not
//!   expanded): lint does not run the file.
//!
//! Every character of a value remembers the line and column it came from,
//! so that findings point at the word in the file, not at the variable.
//!
//! What sh would accept but an administrator never means is reported here:
//! an unterminated quote (sh reads to the end of the file and fails), a
//! quote whose closing quote is missing so that it swallows the next lines,
//! and typographic quotes (`“YES”`), which sh does not treat as quotes. The
//! reader then carries on at the next line, so one mistake does not hide
//! the rest of the file.

use std::collections::HashMap;
use std::ops::Range;

use crate::textfile::Pos;

/// One `NAME=value` assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub name: String,
    /// Where the name starts.
    pub pos: Pos,
    /// The value after quote removal.
    pub value: String,
    /// The source position of each character of `value`.
    pub chars: Vec<Pos>,
    /// Just after the `=`: where an empty value "is".
    pub(crate) value_pos: Pos,
    /// Byte range of the whole word (`NAME=value` with its quotes) in the
    /// source, for tools that rewrite the file.
    pub(crate) range: Range<usize>,
    /// The line the word ends on (differs from `pos.line` when the value
    /// spans lines).
    pub(crate) end_line: usize,
    /// The first `$` or backquote left unexpanded, if any.
    pub(crate) expansion: Option<Pos>,
    /// Whether an unquoted typographic quote is part of the value (already
    /// reported; the value is not what the author meant).
    pub(crate) typographic: bool,
}

impl Assignment {
    /// The position of character `index` of the value (the value's start
    /// when out of range).
    pub(crate) fn pos_at(&self, index: usize) -> Pos {
        self.chars
            .get(index)
            .or(self.chars.last())
            .copied()
            .unwrap_or(self.value_pos)
    }
}

/// What is wrong with the sh text: sh would not read it as meant. `lint`
/// reports each kind under its own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProblemKind {
    /// A quote never closed, or closed only after swallowing the next
    /// assignments.
    Syntax,
    /// A typographic quote (`“ ” ‘ ’`) where sh needs a plain one.
    TypographicQuote,
}

/// A problem the reader found: its kind, where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub kind: ProblemKind,
    pub pos: Pos,
    pub message: String,
}

/// A command that is not made of assignments only (`. /etc/foo`,
/// `VAR=x cmd`): lint does not evaluate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShCommand {
    pub pos: Pos,
    /// The first word, as written (quotes removed).
    pub word: String,
}

/// What the reader made of a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShFile {
    /// Every assignment, in file order.
    pub(crate) assignments: Vec<Assignment>,
    pub(crate) problems: Vec<Problem>,
    pub others: Vec<ShCommand>,
}

impl ShFile {
    /// The assignment that wins for `name`: the last one.
    pub fn last(&self, name: &str) -> Option<&Assignment> {
        self.assignments.iter().rev().find(|a| a.name == name)
    }

    /// The winning assignment of every name, in the order of their last
    /// occurrence.
    pub fn effective(&self) -> Vec<&Assignment> {
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, a) in self.assignments.iter().enumerate() {
            last.insert(a.name.as_str(), i);
        }
        self.assignments
            .iter()
            .enumerate()
            .filter(|(i, a)| last.get(a.name.as_str()) == Some(i))
            .map(|(_, a)| a)
            .collect()
    }

    /// Every assignment that repeats an earlier one of the same name:
    /// (the later one, the first one).
    pub(crate) fn duplicates(&self) -> Vec<(&Assignment, &Assignment)> {
        let mut first: HashMap<&str, &Assignment> = HashMap::new();
        let mut out = Vec::new();
        for a in &self.assignments {
            match first.get(a.name.as_str()) {
                Some(f) => out.push((a, *f)),
                None => {
                    first.insert(a.name.as_str(), a);
                }
            }
        }
        out
    }
}

/// Characters that look like quotes and are not quotes to sh.
const TYPOGRAPHIC: &[char] = &[
    '\u{201C}', '\u{201D}', '\u{201E}', '\u{201F}', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}',
    '\u{00AB}', '\u{00BB}', '\u{2033}', '\u{2032}',
];

/// Whether `c` is a typographic quote sh does not know.
pub(crate) fn is_typographic_quote(c: char) -> bool {
    TYPOGRAPHIC.contains(&c)
}

/// Read `src` as sh assignments.
pub fn parse(src: &str) -> ShFile {
    let mut r = Reader::new(src);
    r.run();
    r.out
}

/// A word as read: its characters after quote removal and where each came
/// from.
struct Word {
    start: usize,
    end: usize,
    /// Each character with its char index in the source (its position
    /// is looked up only when kept: 16 bytes a character, not 24).
    text: Vec<(char, usize)>,
    /// Index in `text` of the `=` of an assignment, when the characters
    /// before it are an unquoted name.
    eq: Option<usize>,
    expansion: Option<Pos>,
    typographic: Vec<Pos>,
}

/// Why a word could not be read to its end.
enum WordError {
    /// A quote opened at char index `open` is never closed.
    Unterminated { open: usize, quote: char },
    /// A quote opened at `open` closes only at `close`, after swallowing
    /// an assignment that starts at char index `swallowed`.
    Swallowed {
        open: usize,
        close: usize,
        swallowed: usize,
        name: String,
    },
}

struct Reader<'a> {
    src: &'a str,
    /// (byte offset, char) of every character.
    chars: Vec<(usize, char)>,
    /// The char index at which each line starts: positions are computed
    /// from it, so that a 1 MiB file does not carry 16 bytes of position
    /// per character while it is read.
    line_starts: Vec<usize>,
    i: usize,
    out: ShFile,
}

impl<'a> Reader<'a> {
    fn new(src: &'a str) -> Self {
        let mut chars = Vec::with_capacity(src.len());
        let mut line_starts = vec![0];
        for (i, (b, c)) in src.char_indices().enumerate() {
            chars.push((b, c));
            if c == '\n' {
                line_starts.push(i + 1);
            }
        }
        Reader {
            src,
            chars,
            line_starts,
            i: 0,
            out: ShFile::default(),
        }
    }

    fn ch(&self, i: usize) -> Option<char> {
        self.chars.get(i).map(|&(_, c)| c)
    }

    fn pos(&self, i: usize) -> Pos {
        if i >= self.chars.len() {
            return self.end_pos();
        }
        // The last line starting at or before i.
        let line = self.line_starts.partition_point(|&s| s <= i);
        let start = self
            .line_starts
            .get(line.wrapping_sub(1))
            .copied()
            .unwrap_or(0);
        Pos {
            line,
            column: i - start + 1,
        }
    }

    /// The position just after the last character.
    fn end_pos(&self) -> Pos {
        let Some(last) = self.chars.len().checked_sub(1) else {
            return Pos { line: 1, column: 1 };
        };
        let p = self.pos(last);
        if self.ch(last) == Some('\n') {
            Pos {
                line: p.line + 1,
                column: 1,
            }
        } else {
            Pos {
                line: p.line,
                column: p.column + 1,
            }
        }
    }

    fn byte(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.src.len(), |&(b, _)| b)
    }

    /// The char index of the start of the line after the one holding `i`.
    fn next_line(&self, i: usize) -> usize {
        let mut j = i;
        while let Some(c) = self.ch(j) {
            j += 1;
            if c == '\n' {
                break;
            }
        }
        j
    }

    fn run(&mut self) {
        let mut words: Vec<Word> = Vec::new();
        loop {
            // Blanks and continuations between words.
            match self.ch(self.i) {
                Some(' ' | '\t' | '\r') => {
                    self.i += 1;
                    continue;
                }
                Some('\\') if self.ch(self.i + 1) == Some('\n') => {
                    self.i += 2;
                    continue;
                }
                None => {
                    self.finish(std::mem::take(&mut words));
                    return;
                }
                Some('\n' | ';') => {
                    self.i += 1;
                    self.finish(std::mem::take(&mut words));
                    continue;
                }
                Some('#') => {
                    // A comment runs to the end of the line; the newline
                    // itself still ends the command.
                    while !matches!(self.ch(self.i), None | Some('\n')) {
                        self.i += 1;
                    }
                    continue;
                }
                Some(_) => {}
            }
            match self.word() {
                Ok(w) => words.push(w),
                Err(e) => {
                    self.recover(e);
                    words.clear();
                }
            }
        }
    }

    /// Report a word that could not be read, and carry on at the next line
    /// that sh would not have swallowed into it.
    fn recover(&mut self, e: WordError) {
        match e {
            WordError::Unterminated { open, quote } => {
                let what = if quote == '"' { "double" } else { "single" };
                self.out.problems.push(Problem {
                    kind: ProblemKind::Syntax,
                    pos: self.pos(open),
                    message: format!(
                        "unterminated {what} quote: sh reads to the end of the file looking for \
                         the closing {quote} and fails; close the quote on this line"
                    ),
                });
                self.i = self.next_line(open);
            }
            WordError::Swallowed {
                open,
                close,
                swallowed,
                name,
            } => {
                let close_pos = self.pos(close);
                let swallowed_pos = self.pos(swallowed);
                self.out.problems.push(Problem {
                    kind: ProblemKind::Syntax,
                    pos: self.pos(open),
                    message: format!(
                        "this quote is closed only at line {}, column {}, so the value runs on and \
                         swallows the assignment to {name} on line {}: the closing quote is \
                         probably missing at the end of line {}",
                        close_pos.line,
                        close_pos.column,
                        swallowed_pos.line,
                        self.pos(open).line
                    ),
                });
                self.i = swallowed;
            }
        }
    }

    /// Sort the words of one command into assignments or another command.
    fn finish(&mut self, words: Vec<Word>) {
        if words.is_empty() {
            return;
        }
        // Typographic quotes first, in every word: `a=“x y”` is even split
        // into an assignment and a command by the blank.
        let name_of = |w: &Word| -> Option<String> {
            w.eq.map(|eq| {
                w.text
                    .get(..eq)
                    .unwrap_or_default()
                    .iter()
                    .map(|&(c, _)| c)
                    .collect()
            })
        };
        let first_name = words.first().and_then(name_of);
        let mut typographic = false;
        for w in &words {
            for &p in &w.typographic {
                typographic = true;
                let of = name_of(w)
                    .or_else(|| first_name.clone())
                    .map_or_else(String::new, |n| format!(" in the value of {n}"));
                self.out.problems.push(Problem {
                    kind: ProblemKind::TypographicQuote,
                    pos: p,
                    message: format!(
                        "typographic quote{of}: sh does not treat it as a quote, so it becomes \
                         part of the value and a blank ends the value early; retype it as a plain \
                         \" (straight double quote)"
                    ),
                });
            }
        }
        let leading = words.iter().take_while(|w| w.eq.is_some()).count();
        if leading < words.len() {
            if typographic {
                // Already reported: the "command" is the rest of a value.
                return;
            }
            // `VAR=x cmd` sets VAR for cmd only; a command is not evaluated.
            let first = words.get(leading).or(words.first());
            if let Some(w) = first {
                self.out.others.push(ShCommand {
                    pos: self.pos(w.text.first().map_or(w.start, |&(_, i)| i)),
                    word: w.text.iter().map(|&(c, _)| c).collect(),
                });
            }
            return;
        }
        for w in words {
            let Some(eq) = w.eq else { continue };
            let name: String = w
                .text
                .get(..eq)
                .unwrap_or_default()
                .iter()
                .map(|&(c, _)| c)
                .collect();
            let rest = w.text.get(eq + 1..).unwrap_or_default();
            let value: String = rest.iter().map(|&(c, _)| c).collect();
            let chars: Vec<Pos> = rest.iter().map(|&(_, i)| self.pos(i)).collect();
            let eq_pos = self.pos(w.text.get(eq).map_or(w.start, |&(_, i)| i));
            let value_pos = Pos {
                line: eq_pos.line,
                column: eq_pos.column + 1,
            };
            let end_line = self.pos(w.end.saturating_sub(1).max(w.start)).line;
            self.out.assignments.push(Assignment {
                name,
                pos: self.pos(w.text.first().map_or(w.start, |&(_, i)| i)),
                value,
                chars,
                value_pos,
                range: self.byte(w.start)..self.byte(w.end),
                end_line,
                expansion: w.expansion,
                typographic: !w.typographic.is_empty(),
            });
        }
    }

    /// Read one word starting at `self.i`.
    fn word(&mut self) -> Result<Word, WordError> {
        let start = self.i;
        let mut w = Word {
            start,
            end: start,
            text: Vec::new(),
            eq: None,
            expansion: None,
            typographic: Vec::new(),
        };
        // Whether every character so far was unquoted and could be part of
        // a variable name: only then does `=` make an assignment.
        let mut name_ok = true;
        while let Some(c) = self.ch(self.i) {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' => break,
                '\\' => {
                    if self.backslash(&mut w) {
                        name_ok = false;
                    }
                }
                '\'' => {
                    name_ok = false;
                    self.single_quoted(&mut w)?;
                }
                '"' => {
                    name_ok = false;
                    self.double_quoted(&mut w)?;
                }
                '=' if name_ok && w.eq.is_none() && !w.text.is_empty() => {
                    w.eq = Some(w.text.len());
                    w.text.push((c, self.i));
                    self.i += 1;
                    name_ok = false;
                }
                _ => self.plain(&mut w, c, &mut name_ok),
            }
        }
        w.end = self.i;
        Ok(w)
    }

    /// A backslash outside quotes: it quotes the next character, or joins
    /// the lines before a newline. Whether it quoted a character.
    fn backslash(&mut self, w: &mut Word) -> bool {
        let quoted = match self.ch(self.i + 1) {
            Some('\n') => false,
            Some(n) => {
                w.text.push((n, self.i + 1));
                true
            }
            None => {
                w.text.push(('\\', self.i));
                false
            }
        };
        self.i += 2;
        quoted
    }

    /// A single-quoted part, from its quote: every character as it is.
    fn single_quoted(&mut self, w: &mut Word) -> Result<(), WordError> {
        let open = self.i;
        self.i += 1;
        loop {
            match self.ch(self.i) {
                None => return Err(WordError::Unterminated { open, quote: '\'' }),
                Some('\'') => {
                    self.i += 1;
                    break;
                }
                Some(ch) => {
                    w.text.push((ch, self.i));
                    self.i += 1;
                }
            }
        }
        self.check_swallow(open)
    }

    /// A double-quoted part, from its quote: a backslash quotes only `$`,
    /// a backquote, `"`, a backslash and a newline; `$` and backquotes
    /// expand.
    fn double_quoted(&mut self, w: &mut Word) -> Result<(), WordError> {
        let open = self.i;
        self.i += 1;
        loop {
            match self.ch(self.i) {
                None => return Err(WordError::Unterminated { open, quote: '"' }),
                Some('"') => {
                    self.i += 1;
                    break;
                }
                Some('\\') => match self.ch(self.i + 1) {
                    Some('\n') => self.i += 2,
                    Some(n @ ('$' | '`' | '"' | '\\')) => {
                        w.text.push((n, self.i + 1));
                        self.i += 2;
                    }
                    _ => {
                        w.text.push(('\\', self.i));
                        self.i += 1;
                    }
                },
                Some(ch) => {
                    if matches!(ch, '$' | '`') && w.expansion.is_none() {
                        w.expansion = Some(self.pos(self.i));
                    }
                    w.text.push((ch, self.i));
                    self.i += 1;
                }
            }
        }
        self.check_swallow(open)
    }

    /// An unquoted character `c`: still part of a variable name before any
    /// `=`? An expansion? A typographic quote?
    fn plain(&mut self, w: &mut Word, c: char, name_ok: &mut bool) {
        let p = self.pos(self.i);
        if w.eq.is_none() {
            let valid = if w.text.is_empty() {
                c.is_ascii_alphabetic() || c == '_'
            } else {
                c.is_ascii_alphanumeric() || c == '_'
            };
            *name_ok &= valid;
        }
        if matches!(c, '$' | '`') && w.expansion.is_none() {
            w.expansion = Some(p);
        }
        if is_typographic_quote(c) {
            w.typographic.push(p);
        }
        w.text.push((c, self.i));
        self.i += 1;
    }

    /// After a quote that opened at `open` closed just before `self.i`:
    /// if it spans lines and one of the lines inside it starts like an
    /// assignment, its author most likely forgot to close it.
    fn check_swallow(&self, open: usize) -> Result<(), WordError> {
        let close = self.i.saturating_sub(1);
        let mut j = open + 1;
        while j < close {
            if self.ch(j) == Some('\n') && self.ch(j.wrapping_sub(1)) != Some('\\') {
                // The line after this newline: blanks, then NAME=.
                let mut k = j + 1;
                while matches!(self.ch(k), Some(' ' | '\t')) {
                    k += 1;
                }
                let name_start = k;
                let mut name = String::new();
                while let Some(c) = self.ch(k) {
                    let ok = if name.is_empty() {
                        c.is_ascii_alphabetic() || c == '_'
                    } else {
                        c.is_ascii_alphanumeric() || c == '_'
                    };
                    if !ok {
                        break;
                    }
                    name.push(c);
                    k += 1;
                }
                if !name.is_empty() && self.ch(k) == Some('=') && k <= close {
                    return Err(WordError::Swallowed {
                        open,
                        close,
                        swallowed: name_start,
                        name,
                    });
                }
            }
            j += 1;
        }
        Ok(())
    }
}

/// Quote a value for a double-quoted sh string.
pub(crate) fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        if matches!(c, '"' | '$' | '`' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }

    fn one(src: &str) -> Assignment {
        let f = parse(src);
        assert!(f.problems.is_empty(), "{:?}", f.problems);
        assert_eq!(f.assignments.len(), 1, "{:?}", f.assignments);
        f.assignments.into_iter().next().unwrap()
    }

    #[test]
    fn quoting_forms_give_the_same_value() {
        for src in [
            "a=\"vhid 1 pass x\"",
            "a='vhid 1 pass x'",
            "a=vhid\\ 1\\ pass\\ x",
            "a=\"vhid 1\"' pass x'",
        ] {
            let a = one(src);
            assert_eq!(a.name, "a");
            assert_eq!(a.value, "vhid 1 pass x", "{src}");
        }
    }

    #[test]
    fn positions_point_at_each_value_character() {
        let a = one("  ifconfig_em0=\"inet 10.0.0.1/24\"");
        assert_eq!(a.pos, p(1, 3));
        assert_eq!(a.value_pos, p(1, 16));
        // 'i' of inet is after the quote.
        assert_eq!(a.pos_at(0), p(1, 17));
        assert_eq!(a.pos_at(5), p(1, 22));
        // Out of range: the last character, no panic.
        assert_eq!(a.pos_at(999), p(1, 32));
    }

    #[test]
    fn continuation_joins_lines_and_keeps_positions() {
        let a = one("x=\"a \\\nb\"\n");
        assert_eq!(a.value, "a b");
        assert_eq!(a.pos_at(2), p(2, 1));
        assert_eq!(a.end_line, 2);
        let a = one("x=a\\\nb");
        assert_eq!(a.value, "ab");
    }

    #[test]
    fn double_quotes_keep_backslashes_except_before_specials() {
        assert_eq!(one(r#"x="a\b\$c\"d""#).value, r#"a\b$c"d"#);
        assert_eq!(one(r"x='a\b'").value, r"a\b");
    }

    #[test]
    fn comments_blank_lines_and_several_assignments() {
        let f = parse("# c\n\na=1 b=2 # trailing\nc=\"#not a comment\"; d=x#y\n");
        assert!(f.problems.is_empty());
        let got: Vec<(&str, &str)> = f
            .assignments
            .iter()
            .map(|a| (a.name.as_str(), a.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("a", "1"),
                ("b", "2"),
                ("c", "#not a comment"),
                ("d", "x#y")
            ]
        );
    }

    #[test]
    fn later_assignment_wins_and_duplicates_are_listed() {
        let f = parse("a=1\nb=2\na=3\n");
        assert_eq!(f.last("a").unwrap().value, "3");
        let eff: Vec<&str> = f.effective().iter().map(|a| a.value.as_str()).collect();
        assert_eq!(eff, ["2", "3"]);
        let d = f.duplicates();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].0.pos, p(3, 1));
        assert_eq!(d[0].1.pos, p(1, 1));
    }

    #[test]
    fn expansions_are_left_literal_and_recorded() {
        let a = one("a=\"${b}x\"");
        assert_eq!(a.value, "${b}x");
        assert_eq!(a.expansion, Some(p(1, 4)));
        assert_eq!(one("a='$b'").expansion, None);
    }

    #[test]
    fn commands_are_not_assignments() {
        let f = parse(". /etc/rc.conf.local\nFOO=1 cmd\n\"a\"=b\n");
        assert!(f.assignments.is_empty(), "{:?}", f.assignments);
        let words: Vec<&str> = f.others.iter().map(|o| o.word.as_str()).collect();
        assert_eq!(words, [".", "cmd", "a=b"]);
    }

    #[test]
    fn unterminated_quote_is_reported_and_reading_goes_on() {
        let f = parse("a=1\nb=\"vhid 1\nc=3\n");
        // The quote swallows to the end of the file: reported at the quote.
        assert_eq!(f.problems.len(), 1, "{:?}", f.problems);
        assert_eq!(f.problems[0].kind, ProblemKind::Syntax);
        assert_eq!(f.problems[0].pos, p(2, 3));
        assert!(f.problems[0].message.contains("unterminated double quote"));
        let names: Vec<&str> = f.assignments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
        let f = parse("a='x");
        assert!(f.problems[0].message.contains("single quote"));
    }

    #[test]
    fn a_quote_that_swallows_the_next_assignment_is_reported() {
        let src = "ifconfig_em0=\"inet 10.0.0.1/24\nifconfig_em1=\"inet 10.0.1.1/24\"\n";
        let f = parse(src);
        assert_eq!(f.problems.len(), 1, "{:?}", f.problems);
        let m = &f.problems[0];
        assert_eq!(m.pos, p(1, 14));
        assert!(
            m.message.contains("ifconfig_em1 on line 2"),
            "{}",
            m.message
        );
        // Reading resumes at the swallowed line.
        let names: Vec<&str> = f.assignments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["ifconfig_em1"]);
        // A multi-line value without assignments inside is fine.
        let a = one("x=\"\n inet 10.0.0.1/32\n inet 10.0.0.2/32\"");
        assert_eq!(a.value, "\n inet 10.0.0.1/32\n inet 10.0.0.2/32");
    }

    #[test]
    fn typographic_quotes_are_errors_only_outside_real_quotes() {
        let f = parse("ucarp_enable=“YES”\n");
        let kinds: Vec<ProblemKind> = f.problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [ProblemKind::TypographicQuote; 2]);
        assert_eq!(f.problems[0].pos, p(1, 14));
        assert!(f.problems[0].message.contains("value of ucarp_enable"));
        assert!(f.assignments[0].typographic);
        // A blank inside splits the value into a "command": still the
        // quotes are what is reported, not the command.
        let f = parse("ifconfig_em0=“inet 10.0.0.2/24”\n");
        let kinds: Vec<ProblemKind> = f.problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [ProblemKind::TypographicQuote; 2]);
        assert_eq!(f.problems[1].pos, p(1, 31));
        assert!(f.others.is_empty());
        // Inside plain quotes it is just a character (an apostrophe).
        let a = one("ifconfig_em0_descr=\"Bob’s uplink\"");
        assert!(!a.typographic);
    }

    #[test]
    fn byte_range_covers_the_word() {
        let src = "x=1\nifconfig_carp0=\"vhid 1\" # c\n";
        let f = parse(src);
        let a = &f.assignments[1];
        assert_eq!(&src[a.range.clone()], "ifconfig_carp0=\"vhid 1\"");
    }

    #[test]
    fn values_are_quoted_for_sh() {
        assert_eq!(quote("a\"b$c`d\\e"), "\"a\\\"b\\$c\\`d\\\\e\"");
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for src in [
            "\\", "\"", "'", "a=\\", "=", "a=\"\\", "\n\n;;", "a=é“", "x=\"\n", "\r\n",
        ] {
            let _ = parse(src);
        }
    }
}
