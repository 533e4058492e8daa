//! devd.conf(5) read into statements: tokens (words, strings, braces,
//! semicolons, three comment forms) and nested blocks, with the syntax
//! errors devd would refuse the file for.

use crate::lint::Issue;
use crate::lint::codes::Code;
use crate::textfile::Pos;

/// One devd.conf token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum DevdToken {
    Word(String),
    Str(String),
    Open,
    Close,
    Semi,
}

/// A devd statement: its words (strings and words, in order) and, for a
/// block, its inner statements.
#[derive(Debug, Clone)]
pub(super) struct DevdStatement {
    pub(super) words: Vec<(DevdToken, Pos)>,
    pub(super) block: Option<Vec<DevdStatement>>,
}

pub(super) struct DevdParser {
    pub(super) toks: Vec<(DevdToken, Pos)>,
    pub(super) i: usize,
    pub(super) issues: Vec<Issue>,
}

/// The deepest nesting of `{ }` blocks read. devd.conf(5) statements nest
/// one level (`notify 0 { match ...; action ...; };`) and `options` one
/// more; 64 is far above any real file, and keeps the recursive reading of
/// a hostile file (25 000 `{` in a row) from overflowing the stack.
pub const DEVD_DEPTH_MAX: usize = 64;

pub(super) fn devd_tokens(src: &str, issues: &mut Vec<Issue>) -> Vec<(DevdToken, Pos)> {
    let mut lx = Lexer {
        chars: src.chars().collect(),
        i: 0,
        line: 1,
        col: 1,
    };
    let mut out = Vec::new();
    while let Some(c) = lx.peek(0) {
        let pos = Pos {
            line: lx.line,
            column: lx.col,
        };
        let token = match c {
            c if c.is_whitespace() => {
                lx.step();
                continue;
            }
            '#' => {
                lx.skip_line();
                continue;
            }
            '/' if lx.peek(1) == Some('/') => {
                lx.skip_line();
                continue;
            }
            '/' if lx.peek(1) == Some('*') => {
                if lx.block_comment() {
                    continue;
                }
                issues.push(Issue::new(
                    Code::DevdSyntax,
                    pos,
                    "this /* comment is never closed: devd reads to the end of the file; add */"
                        .into(),
                ));
                return out;
            }
            '"' => match lx.string() {
                Some(s) => DevdToken::Str(s),
                None => {
                    issues.push(Issue::new(
                        Code::DevdSyntax,
                        pos,
                        "unterminated string: add the closing \"".into(),
                    ));
                    return out;
                }
            },
            '{' | '}' | ';' => {
                lx.step();
                match c {
                    '{' => DevdToken::Open,
                    '}' => DevdToken::Close,
                    _ => DevdToken::Semi,
                }
            }
            _ => DevdToken::Word(lx.word()),
        };
        out.push((token, pos));
    }
    out
}

/// The devd.conf characters being read, with the line and column of the
/// next one.
struct Lexer {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
}

impl Lexer {
    /// The character `ahead` places after the next one.
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    /// Advance over one character, keeping line and column.
    fn step(&mut self) {
        if self.peek(0) == Some('\n') {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        self.i += 1;
    }

    /// A `#` or `//` comment: up to the end of the line.
    fn skip_line(&mut self) {
        while !matches!(self.peek(0), None | Some('\n')) {
            self.step();
        }
    }

    /// A `/* */` comment, from its `/`; false when it is never closed.
    fn block_comment(&mut self) -> bool {
        self.step();
        self.step();
        loop {
            match self.peek(0) {
                None => return false,
                Some('*') if self.peek(1) == Some('/') => {
                    self.step();
                    self.step();
                    return true;
                }
                Some(_) => self.step(),
            }
        }
    }

    /// A string, from its opening quote: `\"` is a quote, a backslash
    /// before a newline joins the lines, any other backslash is kept.
    /// `None` when it is never closed.
    fn string(&mut self) -> Option<String> {
        self.step();
        let mut s = String::new();
        loop {
            match self.peek(0) {
                None => return None,
                Some('"') => {
                    self.step();
                    return Some(s);
                }
                Some('\\') => {
                    self.step();
                    match self.peek(0) {
                        Some('\n') => self.step(),
                        Some(n) => {
                            if n != '"' {
                                s.push('\\');
                            }
                            s.push(n);
                            self.step();
                        }
                        None => {}
                    }
                }
                Some(n) => {
                    s.push(n);
                    self.step();
                }
            }
        }
    }

    /// A word: up to a blank, a brace, a semicolon, a quote or a `#`.
    fn word(&mut self) -> String {
        let mut w = String::new();
        while let Some(n) = self.peek(0) {
            if n.is_whitespace() || matches!(n, '{' | '}' | ';' | '"' | '#') {
                break;
            }
            w.push(n);
            self.step();
        }
        w
    }
}

impl DevdParser {
    fn peek(&self) -> Option<&(DevdToken, Pos)> {
        self.toks.get(self.i)
    }

    /// Skip the block opening at the current `{`, its nested blocks, its
    /// `}` and a `;` after it, without recursion.
    fn skip_block(&mut self) {
        let mut open = 0usize;
        while let Some((tok, _)) = self.toks.get(self.i) {
            self.i += 1;
            match tok {
                DevdToken::Open => open += 1,
                DevdToken::Close => {
                    open = open.saturating_sub(1);
                    if open == 0 {
                        if matches!(self.peek(), Some((DevdToken::Semi, _))) {
                            self.i += 1;
                        }
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    /// Statements up to a `}` (not consumed) or the end.
    pub(super) fn statements(&mut self, depth: usize) -> Vec<DevdStatement> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return out,
                Some((DevdToken::Close, pos)) => {
                    if depth == 0 {
                        let pos = *pos;
                        self.issues.push(Issue::new(
                            Code::DevdSyntax,
                            pos,
                            "this } closes nothing: remove it or add the opening {".into(),
                        ));
                        self.i += 1;
                        continue;
                    }
                    return out;
                }
                Some((DevdToken::Semi, _)) => {
                    self.i += 1;
                }
                Some(_) => {
                    if let Some(s) = self.statement(depth) {
                        out.push(s);
                    }
                }
            }
        }
    }

    fn statement(&mut self, depth: usize) -> Option<DevdStatement> {
        let mut words = Vec::new();
        loop {
            let Some((tok, pos)) = self.peek().cloned() else {
                let at = words.last().map(|(_, p): &(DevdToken, Pos)| *p)?;
                self.issues.push(Issue::new(
                    Code::DevdSyntax,
                    at,
                    "the file ends inside this statement: end it with ;".into(),
                ));
                return Some(DevdStatement { words, block: None });
            };
            match tok {
                DevdToken::Semi => {
                    self.i += 1;
                    return Some(DevdStatement { words, block: None });
                }
                DevdToken::Close => {
                    let at = words.last().map_or(pos, |(_, p)| *p);
                    self.issues.push(Issue::new(
                        Code::DevdSyntax,
                        at,
                        "this statement is not ended with ; before the }: devd refuses the file"
                            .into(),
                    ));
                    return Some(DevdStatement { words, block: None });
                }
                DevdToken::Open if depth >= DEVD_DEPTH_MAX => {
                    self.issues.push(Issue::new(
                        Code::DevdSyntax,
                        pos,
                        format!(
                            "blocks nest more than {DEVD_DEPTH_MAX} levels deep here; devd.conf \
                             blocks nest one or two levels: the rest of this block is not read"
                        ),
                    ));
                    self.skip_block();
                    return Some(DevdStatement { words, block: None });
                }
                DevdToken::Open => {
                    self.i += 1;
                    let inner = self.statements(depth + 1);
                    match self.peek() {
                        Some((DevdToken::Close, _)) => {
                            self.i += 1;
                            match self.peek() {
                                Some((DevdToken::Semi, _)) => self.i += 1,
                                _ => {
                                    self.issues.push(Issue::new(
                                        Code::DevdSyntax,
                                        pos,
                                        "this block must end with };, not just }: devd refuses the file".into(),
                                    ));
                                }
                            }
                        }
                        _ => {
                            self.issues.push(Issue::new(
                                Code::DevdSyntax,
                                pos,
                                "this { is never closed: add };".into(),
                            ));
                        }
                    }
                    return Some(DevdStatement {
                        words,
                        block: Some(inner),
                    });
                }
                t => {
                    self.i += 1;
                    words.push((t, pos));
                }
            }
        }
    }
}
