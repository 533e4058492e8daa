//! loader.conf(5), sysctl.conf(5) and devd.conf(5), as far as carp is
//! concerned.
//!
//! * loader.conf: `carp_load="YES"` loads carp.ko at boot (FreeBSD 10 and
//!   later); `if_carp_load` named the FreeBSD 9 module if_carp.ko, which no
//!   longer exists (Handbook, `[[carp-10x]]` and `[[carp-9x]]`, freebsd-doc
//!   @ `000c4bca`; docs/freebsd-carp.md §5.4).
//! * sysctl.conf: `/etc/rc.d/sysctl` reads `name=value` words, one per line;
//!   the `net.inet.carp.*` leaves are those of docs/freebsd-carp.md §7: `allow`,
//!   `preempt`, `log`, `demotion` (a write *adds*), `senderr_demotion_factor`,
//!   `ifdown_demotion_factor`, `dscp` (0-63), `stats` (not a number);
//!   `arpbalance` and `suppress_preempt` are FreeBSD 9 only.
//! * devd.conf: statements `notify N { match "key" "regex"; action "..."; };`;
//!   every regex is anchored (`"^" + re + "$"`, `REG_EXTENDED`, case
//!   sensitive: `sbin/devd/devd.cc` @ `0016700b`, `match::match`; the shipped
//!   devd.conf says "All regular expressions have an implicit ^$ around
//!   them"), and a leading `!` negates it. CARP events are
//!   `system=CARP subsystem=<vhid>@<ifname> type=MASTER|BACKUP|INIT`
//!   (docs/freebsd-carp.md §11); FreeBSD 9 signalled them as `IFNET` `LINK_UP` /
//!   `LINK_DOWN` of the carpN interface (carp.4 r224879, 2011).

use regex::Regex;

use super::Issue;
use super::codes::Code;
use super::sh;
use crate::config::Pos;

/// What a loader.conf says about carp.
#[derive(Debug, Clone, Default)]
pub struct LoaderConf {
    /// `carp_load`: whether YES, and where.
    pub carp_load: Option<(bool, Pos)>,
    /// `if_carp_load`: whether YES, and where.
    pub if_carp_load: Option<(bool, Pos)>,
    pub issues: Vec<Issue>,
}

fn yes(v: &str) -> bool {
    v.trim().eq_ignore_ascii_case("yes")
}

/// Read a loader.conf.
pub fn loader(src: &str) -> LoaderConf {
    let f = sh::parse(src);
    let mut out = LoaderConf::default();
    for p in &f.problems {
        out.issues
            .push(Issue::new(p.code, p.pos, p.message.clone()));
    }
    for (later, first) in f.duplicates() {
        out.issues.push(Issue::new(
            Code::DuplicateAssignment,
            later.pos,
            format!(
                "{} is set again here (first on line {}): the later value wins; keep one",
                later.name, first.pos.line
            ),
        ));
    }
    if let Some(a) = f.last("carp_load") {
        out.carp_load = Some((yes(&a.value), a.pos));
    }
    if let Some(a) = f.last("if_carp_load") {
        out.if_carp_load = Some((yes(&a.value), a.pos));
    }
    out
}

/// What a sysctl.conf says about carp.
#[derive(Debug, Clone, Default)]
pub struct SysctlConf {
    /// `net.inet.carp.preempt`: on or off, and where.
    pub preempt: Option<(bool, Pos)>,
    pub issues: Vec<Issue>,
}

/// The settable `net.inet.carp` leaves and their ranges.
fn carp_sysctl_range(leaf: &str) -> Option<(i64, i64)> {
    let int = (i64::from(i32::MIN), i64::from(i32::MAX));
    match leaf {
        "allow"
        | "preempt"
        | "log"
        | "demotion"
        | "senderr_demotion_factor"
        | "ifdown_demotion_factor" => Some(int),
        "dscp" => Some((0, 63)),
        _ => None,
    }
}

/// Read a sysctl.conf.
pub fn sysctl(src: &str) -> SysctlConf {
    let mut out = SysctlConf::default();
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (n, line) in src.lines().enumerate() {
        let line_no = n + 1;
        let indent = line.chars().take_while(|c| c.is_whitespace()).count();
        let rest = line.trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        // rc.d/sysctl: `while read var comments`: the first word only.
        let word = rest.split_whitespace().next().unwrap_or("");
        let pos = Pos {
            line: line_no,
            column: indent + 1,
        };
        let (name, value) = match word.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (word, None),
        };
        let Some(leaf) = name.strip_prefix("net.inet.carp.") else {
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(s, _)| s == name) {
            out.issues.push(Issue::new(
                Code::DuplicateAssignment,
                pos,
                format!("{name} is set again here (first on line {first}): the later value wins; keep one"),
            ));
        } else {
            seen.push((name.to_string(), line_no));
        }
        let value_pos = Pos {
            line: line_no,
            column: indent + name.chars().count() + 2,
        };
        let Some(value) = value else {
            out.issues.push(Issue::new(
                Code::SysctlValue,
                pos,
                format!("{name} has no value: sysctl.conf lines are name=value"),
            ));
            continue;
        };
        match leaf {
            "arpbalance" | "suppress_preempt" => {
                out.issues.push(Issue::new(
                    Code::SysctlUnknown,
                    pos,
                    format!(
                        "{name} existed only up to FreeBSD 9 (the carp rewrite in 10.0 removed \
                         it); rc.d/sysctl fails to set it: remove the line"
                    ),
                ));
                continue;
            }
            "stats" => {
                out.issues.push(Issue::new(
                    Code::SysctlUnknown,
                    pos,
                    format!("{name} is the statistics structure (netstat -s -p carp), not a setting: remove the line"),
                ));
                continue;
            }
            _ => {}
        }
        let Some((lo, hi)) = carp_sysctl_range(leaf) else {
            out.issues.push(Issue::new(
                Code::SysctlUnknown,
                pos,
                format!(
                    "{name} is not a carp(4) sysctl (allow, preempt, log, demotion, \
                     senderr_demotion_factor, ifdown_demotion_factor, dscp)"
                ),
            ));
            continue;
        };
        let number = value.parse::<i64>().ok().filter(|v| (lo..=hi).contains(v));
        let Some(number) = number else {
            out.issues.push(Issue::new(
                Code::SysctlValue,
                value_pos,
                if leaf == "dscp" {
                    format!("{name}={value}: the DSCP is a number from 0 to 63 (default 56)")
                } else {
                    format!("{name}={value}: the value must be a plain integer, without quotes")
                },
            ));
            continue;
        };
        match leaf {
            "preempt" => out.preempt = Some((number != 0, pos)),
            "demotion" => out.issues.push(Issue::new(
                Code::DemotionAtBoot,
                pos,
                format!(
                    "{name} is additive: every write adds to the current demotion, so this line \
                     demotes the node by {number} at each boot and nothing takes it back; \
                     demote at run time instead, and take the demotion back when done"
                ),
            )),
            _ => {}
        }
    }
    out
}

/// One devd.conf token.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    Semi,
}

/// A devd statement: its words (strings and words, in order) and, for a
/// block, its inner statements.
#[derive(Debug, Clone)]
struct Stmt {
    words: Vec<(Tok, Pos)>,
    block: Option<Vec<Stmt>>,
}

struct DevdParser {
    toks: Vec<(Tok, Pos)>,
    i: usize,
    issues: Vec<Issue>,
}

/// The deepest nesting of `{ }` blocks read. devd.conf(5) statements nest
/// one level (`notify 0 { match ...; action ...; };`) and `options` one
/// more; 64 is far above any real file, and keeps the recursive reading of
/// a hostile file (25 000 `{` in a row) from overflowing the stack.
pub const DEVD_DEPTH_MAX: usize = 64;

fn devd_tokens(src: &str, issues: &mut Vec<Issue>) -> Vec<(Tok, Pos)> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut line, mut col) = (1usize, 1usize);
    let mut i = 0;
    // Advance over chars[i], keeping line and column.
    let step = |i: &mut usize, line: &mut usize, col: &mut usize| {
        if chars.get(*i) == Some(&'\n') {
            *line += 1;
            *col = 1;
        } else {
            *col += 1;
        }
        *i += 1;
    };
    while let Some(&c) = chars.get(i) {
        let pos = Pos { line, column: col };
        match c {
            c if c.is_whitespace() => step(&mut i, &mut line, &mut col),
            '#' => {
                while !matches!(chars.get(i), None | Some('\n')) {
                    step(&mut i, &mut line, &mut col);
                }
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while !matches!(chars.get(i), None | Some('\n')) {
                    step(&mut i, &mut line, &mut col);
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                step(&mut i, &mut line, &mut col);
                step(&mut i, &mut line, &mut col);
                loop {
                    match chars.get(i) {
                        None => {
                            issues.push(Issue::new(
                                Code::DevdSyntax,
                                pos,
                                "this /* comment is never closed: devd reads to the end of the file; add */".into(),
                            ));
                            return out;
                        }
                        Some('*') if chars.get(i + 1) == Some(&'/') => {
                            step(&mut i, &mut line, &mut col);
                            step(&mut i, &mut line, &mut col);
                            break;
                        }
                        Some(_) => step(&mut i, &mut line, &mut col),
                    }
                }
            }
            '"' => {
                step(&mut i, &mut line, &mut col);
                let mut s = String::new();
                loop {
                    match chars.get(i) {
                        None => {
                            issues.push(Issue::new(
                                Code::DevdSyntax,
                                pos,
                                "unterminated string: add the closing \"".into(),
                            ));
                            return out;
                        }
                        Some('"') => {
                            step(&mut i, &mut line, &mut col);
                            break;
                        }
                        Some('\\') => {
                            step(&mut i, &mut line, &mut col);
                            match chars.get(i) {
                                Some('\n') => step(&mut i, &mut line, &mut col),
                                Some(&n) => {
                                    if n != '"' {
                                        s.push('\\');
                                    }
                                    s.push(n);
                                    step(&mut i, &mut line, &mut col);
                                }
                                None => {}
                            }
                        }
                        Some(&n) => {
                            s.push(n);
                            step(&mut i, &mut line, &mut col);
                        }
                    }
                }
                out.push((Tok::Str(s), pos));
            }
            '{' => {
                out.push((Tok::Open, pos));
                step(&mut i, &mut line, &mut col);
            }
            '}' => {
                out.push((Tok::Close, pos));
                step(&mut i, &mut line, &mut col);
            }
            ';' => {
                out.push((Tok::Semi, pos));
                step(&mut i, &mut line, &mut col);
            }
            _ => {
                let mut w = String::new();
                while let Some(&n) = chars.get(i) {
                    if n.is_whitespace() || matches!(n, '{' | '}' | ';' | '"' | '#') {
                        break;
                    }
                    w.push(n);
                    step(&mut i, &mut line, &mut col);
                }
                out.push((Tok::Word(w), pos));
            }
        }
    }
    out
}

impl DevdParser {
    fn peek(&self) -> Option<&(Tok, Pos)> {
        self.toks.get(self.i)
    }

    /// Skip the block opening at the current `{`, its nested blocks, its
    /// `}` and a `;` after it, without recursion.
    fn skip_block(&mut self) {
        let mut open = 0usize;
        while let Some((tok, _)) = self.toks.get(self.i) {
            self.i += 1;
            match tok {
                Tok::Open => open += 1,
                Tok::Close => {
                    open = open.saturating_sub(1);
                    if open == 0 {
                        if matches!(self.peek(), Some((Tok::Semi, _))) {
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
    fn statements(&mut self, depth: usize) -> Vec<Stmt> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return out,
                Some((Tok::Close, pos)) => {
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
                Some((Tok::Semi, _)) => {
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

    fn statement(&mut self, depth: usize) -> Option<Stmt> {
        let mut words = Vec::new();
        loop {
            let Some((tok, pos)) = self.peek().cloned() else {
                let at = words.last().map(|(_, p): &(Tok, Pos)| *p)?;
                self.issues.push(Issue::new(
                    Code::DevdSyntax,
                    at,
                    "the file ends inside this statement: end it with ;".into(),
                ));
                return Some(Stmt { words, block: None });
            };
            match tok {
                Tok::Semi => {
                    self.i += 1;
                    return Some(Stmt { words, block: None });
                }
                Tok::Close => {
                    let at = words.last().map_or(pos, |(_, p)| *p);
                    self.issues.push(Issue::new(
                        Code::DevdSyntax,
                        at,
                        "this statement is not ended with ; before the }: devd refuses the file"
                            .into(),
                    ));
                    return Some(Stmt { words, block: None });
                }
                Tok::Open if depth >= DEVD_DEPTH_MAX => {
                    self.issues.push(Issue::new(
                        Code::DevdSyntax,
                        pos,
                        format!(
                            "blocks nest more than {DEVD_DEPTH_MAX} levels deep here; devd.conf \
                             blocks nest one or two levels: the rest of this block is not read"
                        ),
                    ));
                    self.skip_block();
                    return Some(Stmt { words, block: None });
                }
                Tok::Open => {
                    self.i += 1;
                    let inner = self.statements(depth + 1);
                    match self.peek() {
                        Some((Tok::Close, _)) => {
                            self.i += 1;
                            match self.peek() {
                                Some((Tok::Semi, _)) => self.i += 1,
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
                    return Some(Stmt {
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

/// Translate a POSIX extended regex into the regex crate's syntax, where
/// they differ for what devd.conf files contain: inside a bracket
/// expression a backslash is literal in POSIX.
fn posix_to_rust(re: &str) -> String {
    let mut out = String::with_capacity(re.len() + 8);
    let chars: Vec<char> = re.chars().collect();
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
                    let end = (i + 2..chars.len().saturating_sub(1))
                        .find(|&k| chars.get(k) == Some(&':') && chars.get(k + 1) == Some(&']'));
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
struct DevdRegex {
    re: Regex,
    negated: bool,
}

impl DevdRegex {
    fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s) != self.negated
    }
}

fn compile(value: &str) -> Result<DevdRegex, String> {
    let (negated, body) = match value.strip_prefix('!') {
        Some(b) => (true, b),
        None => (false, value),
    };
    let anchored = format!("^(?:{})$", posix_to_rust(body));
    regex::RegexBuilder::new(&anchored)
        .size_limit(1 << 20)
        .build()
        .map(|re| DevdRegex { re, negated })
        .map_err(|e| {
            // The regex crate's message spans several lines; keep its last.
            e.to_string()
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid")
                .trim()
                .trim_start_matches("error: ")
                .to_string()
        })
}

/// The regex the man page should have had (docs/freebsd-carp.md §11).
const GOOD_SUBSYSTEM: &str = "[0-9]+@[0-9a-zA-Z._]+";

/// Read a devd.conf (or a file of /etc/devd/ or /usr/local/etc/devd/).
pub fn devd(src: &str) -> Vec<Issue> {
    let mut issues = Vec::new();
    let toks = devd_tokens(src, &mut issues);
    let mut p = DevdParser {
        toks,
        i: 0,
        issues: Vec::new(),
    };
    let stmts = p.statements(0);
    issues.extend(p.issues);
    for s in &stmts {
        let is_notify = matches!(s.words.first(), Some((Tok::Word(w), _)) if w == "notify");
        let Some(block) = &s.block else { continue };
        let mut matches: Vec<(String, String, Pos)> = Vec::new();
        for inner in block {
            if let [(Tok::Word(m), _), (Tok::Str(k), _), (Tok::Str(v), vpos)] =
                inner.words.as_slice()
                && m == "match"
            {
                matches.push((k.clone(), v.clone(), *vpos));
            }
        }
        // Compile every regex once; report the ones devd cannot use.
        let mut compiled: Vec<(String, Option<DevdRegex>, String, Pos)> = Vec::new();
        for (k, v, pos) in matches {
            if v.contains('$') {
                // devd expands variables first; not evaluated here.
                compiled.push((k, None, v, pos));
                continue;
            }
            match compile(&v) {
                Ok(re) => compiled.push((k, Some(re), v, pos)),
                Err(e) => {
                    issues.push(Issue::new(
                        Code::DevdBadRegex,
                        pos,
                        format!("match \"{k}\" \"{v}\": not a valid extended regex ({e}); devd ignores the rule"),
                    ));
                    compiled.push((k, None, v, pos));
                }
            }
        }
        if !is_notify {
            continue;
        }
        let get = |key: &str| compiled.iter().find(|(k, _, _, _)| k == key);
        let system_matches = |s: &str| {
            get("system").is_some_and(|(_, re, _, _)| {
                re.as_ref().is_some_and(|r| !r.negated && r.is_match(s))
            })
        };
        if system_matches("CARP") {
            if let Some((_, Some(re), v, pos)) = get("subsystem")
                && !re.negated
            {
                let generic = re.is_match("1@em0") && re.is_match("2@igb1");
                let misses: Vec<&str> = ["5@em0.100", "1@lagg0_vlan210"]
                    .into_iter()
                    .filter(|s| !re.is_match(s))
                    .collect();
                if generic && !misses.is_empty() {
                    issues.push(Issue::new(
                        Code::DevdRegexNarrow,
                        *pos,
                        format!(
                            "the subsystem regex \"{v}\" does not match {}: devd regexes are \
                             anchored, so events of vlan and other interfaces whose names have \
                             . or _ are lost; use \"{GOOD_SUBSYSTEM}\"",
                            misses.join(" or ")
                        ),
                    ));
                }
            }
            if let Some((_, Some(re), v, pos)) = get("type")
                && !re.negated
                && (re.is_match("MASTER") || re.is_match("BACKUP"))
                && !re.is_match("INIT")
            {
                issues.push(Issue::new(
                    Code::DevdNoInit,
                    *pos,
                    format!(
                        "the type regex \"{v}\" ignores INIT, which a vhid enters when its link \
                         goes down or carp is disabled: the action does not run then; match \
                         \"(MASTER|BACKUP|INIT)\" if it should"
                    ),
                ));
            }
        }
        if system_matches("IFNET")
            && let Some((_, re, v, pos)) = get("subsystem")
            && v.to_ascii_lowercase().contains("carp")
        {
            let never = re.as_ref().is_some_and(|r| !r.is_match("carp0"));
            issues.push(Issue::new(
                Code::DevdLegacyIfnet,
                *pos,
                format!(
                    "a rule for the FreeBSD 9 carpN interface events (IFNET LINK_UP/LINK_DOWN): \
                     since FreeBSD 10 carp is not an interface and these events never come{}; \
                     match \"system\" \"CARP\"; match \"subsystem\" \"{GOOD_SUBSYSTEM}\"; match \
                     \"type\" \"(MASTER|BACKUP|INIT)\", with $subsystem (vhid@interface) and \
                     $type in the action",
                    if never {
                        format!(" (and \"{v}\", anchored, never matched carp0 anyway)")
                    } else {
                        String::new()
                    }
                ),
            ));
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(issues: &[Issue]) -> Vec<(Code, usize)> {
        issues.iter().map(|i| (i.code, i.pos.line)).collect()
    }

    #[test]
    fn loader_conf_carp_load_and_if_carp_load() {
        let l = loader("carp_load=\"YES\"\nif_carp_load=\"yes\"\n");
        assert_eq!(l.carp_load, Some((true, Pos { line: 1, column: 1 })));
        assert_eq!(l.if_carp_load.map(|x| x.0), Some(true));
        let l = loader("carp_load=\"NO\"\ncarp_load=YES\n");
        assert_eq!(l.carp_load.map(|x| x.0), Some(true));
        assert_eq!(codes(&l.issues), [(Code::DuplicateAssignment, 2)]);
        let l = loader("carp_load=“YES”\n");
        assert_eq!(
            codes(&l.issues),
            [(Code::TypographicQuote, 1), (Code::TypographicQuote, 1)]
        );
    }

    #[test]
    fn sysctl_conf_values() {
        let s = sysctl("# c\nnet.inet.carp.preempt=1 # on\nkern.ipc.somaxconn=1024\n");
        assert!(s.issues.is_empty(), "{:?}", s.issues);
        assert_eq!(s.preempt, Some((true, Pos { line: 2, column: 1 })));
        let s = sysctl(
            "net.inet.carp.preempt=yes\n\
             net.inet.carp.dscp=64\n\
             net.inet.carp.arpbalance=1\n\
             net.inet.carp.demotion=10\n\
             net.inet.carp.bogus=1\n\
             net.inet.carp.log\n\
             net.inet.carp.preempt=0\n\
             net.inet.carp.stats=0\n",
        );
        assert_eq!(
            codes(&s.issues),
            [
                (Code::SysctlValue, 1),
                (Code::SysctlValue, 2),
                (Code::SysctlUnknown, 3),
                (Code::DemotionAtBoot, 4),
                (Code::SysctlUnknown, 5),
                (Code::SysctlValue, 6),
                (Code::DuplicateAssignment, 7),
                (Code::SysctlUnknown, 8),
            ]
        );
        assert_eq!(s.issues[0].pos.column, 23);
        assert_eq!(s.preempt.map(|p| p.0), Some(false));
    }

    const MAN_RULE: &str = "notify 0 {\n\
        \tmatch \"system\"          \"CARP\";\n\
        \tmatch \"subsystem\"       \"[0-9]+@[0-9a-z]+\";\n\
        \tmatch \"type\"            \"(MASTER|BACKUP)\";\n\
        \taction \"/root/carpcontrol.sh $subsystem $type\";\n};\n";

    #[test]
    fn the_man_page_rule_is_too_narrow_and_ignores_init() {
        let i = devd(MAN_RULE);
        assert_eq!(
            codes(&i),
            [(Code::DevdRegexNarrow, 3), (Code::DevdNoInit, 4)]
        );
        assert_eq!(i[0].pos.column, 26);
        assert!(
            i[0].message.contains("5@em0.100 or 1@lagg0_vlan210"),
            "{}",
            i[0].message
        );
        let good = MAN_RULE
            .replace("[0-9]+@[0-9a-z]+", GOOD_SUBSYSTEM)
            .replace("(MASTER|BACKUP)", "(MASTER|BACKUP|INIT)");
        assert!(devd(&good).is_empty(), "{:?}", devd(&good));
        // A rule for one interface on purpose is not "narrow".
        let one = MAN_RULE
            .replace("[0-9]+@[0-9a-z]+", "[0-9]+@em0")
            .replace("(MASTER|BACKUP)", ".*");
        assert!(devd(&one).is_empty());
    }

    #[test]
    fn legacy_ifnet_rules() {
        let src = "notify 0 {\n\tmatch \"system\" \"IFNET\";\n\tmatch \"type\" \"LINK_UP\";\n\
                   \tmatch \"subsystem\" \"carp*\";\n\taction \"/root/carpcontrol.sh $type $subsystem\";\n};\n";
        let i = devd(src);
        assert_eq!(codes(&i), [(Code::DevdLegacyIfnet, 4)]);
        assert!(
            i[0].message.contains("never matched carp0"),
            "{}",
            i[0].message
        );
        let i = devd(&src.replace("carp*", "carp[0-9]+"));
        assert_eq!(codes(&i), [(Code::DevdLegacyIfnet, 4)]);
        assert!(!i[0].message.contains("never matched"));
        // IFNET rules for other interfaces are none of our business.
        assert!(devd(&src.replace("carp*", "em[0-9]+")).is_empty());
    }

    #[test]
    fn devd_syntax_errors() {
        for (src, line) in [
            ("notify 0 {\n match \"system\" \"CARP\";\n}\n", 1),
            ("notify 0 {\n match \"system\" \"CARP\"\n};\n", 2),
            ("notify 0 {\n match \"system\" \"CARP\";\n", 1),
            ("};\n", 1),
            ("/* x\n", 1),
            ("notify 0 { match \"system\" \"CARP;\n", 1),
        ] {
            let i = devd(src);
            assert_eq!(
                codes(&i).first(),
                Some(&(Code::DevdSyntax, line)),
                "{src:?}: {i:?}"
            );
        }
        // The shipped devd.conf's constructs parse.
        let shipped = "options {\n\tdirectory \"/etc/devd\";\n\tset wifi-driver-regex\n\t\t\"(ath|bwi)[0-9]+\";\n};\n\
                       # c\n/* EXAMPLES\nnotify 10 { };\n*/\n\
                       notify 0 {\n\tmatch \"system\"\t\t\"IFNET\";\n\tmatch \"subsystem\"\t\"!(usbus|wlan)[0-9]+\";\n\
                       \tmatch \"type\"\t\t\"ATTACH\";\n\taction \"/etc/pccard_ether $subsystem start\";\n};\n\
                       attach 0 {\n\tdevice-name \"$wifi-driver-regex\";\n\taction \"x\";\n};\n";
        assert!(devd(shipped).is_empty(), "{:?}", devd(shipped));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        // 25 000 `{` overflowed the stack (exit 134).
        let src = format!("notify 0 {}\n", "{".repeat(25_000));
        let i = devd(&src);
        let deep: Vec<&Issue> = i
            .iter()
            .filter(|x| x.message.contains("nest more than 64 levels"))
            .collect();
        assert_eq!(deep.len(), 1, "{i:?}");
        assert_eq!(deep[0].code, Code::DevdSyntax);
        assert_eq!((deep[0].pos.line, deep[0].pos.column), (1, 10 + 64));
        // The same with every block closed, on several lines, and what
        // follows the deep block is still read.
        let closed = format!(
            "notify 0 {}\n{};\nnotify 1 {{ match \"system\" \"CARP\" }};\n",
            "{".repeat(25_000),
            "};".repeat(25_000)
        );
        let i = devd(&closed);
        assert!(
            i.iter().any(|x| x.message.contains("nest more than 64")),
            "{i:?}"
        );
        assert!(
            i.iter()
                .any(|x| x.pos.line == 3 && x.code == Code::DevdSyntax),
            "the statement after the deep block is read: {i:?}"
        );
        // 64 levels are read; the 65th is refused.
        let at = |n: usize| format!("x {}{}\n", "{ ".repeat(n), "}; ".repeat(n));
        assert!(devd(&at(DEVD_DEPTH_MAX)).is_empty(), "{:?}", devd(&at(64)));
        assert_eq!(devd(&at(DEVD_DEPTH_MAX + 1)).len(), 1);
    }

    #[test]
    fn bad_regexes_are_reported() {
        let i = devd("notify 0 { match \"system\" \"CARP\"; match \"subsystem\" \"([0-9]+\"; };\n");
        assert_eq!(codes(&i), [(Code::DevdBadRegex, 1)]);
    }

    #[test]
    fn posix_brackets_translate() {
        assert_eq!(posix_to_rust("[a\\b]"), "[a\\\\b]");
        assert_eq!(posix_to_rust("[]a]"), "[\\]a]");
        assert_eq!(posix_to_rust("[[:alpha:]_]+"), "[[:alpha:]_]+");
        assert_eq!(posix_to_rust("a\\.b"), "a\\.b");
        let re = compile("[[:digit:]]+@[a-z0-9.]+").unwrap();
        assert!(re.is_match("1@em0.100") && !re.is_match("x1@em0"));
        let neg = compile("!(usbus|wlan)[0-9]+").unwrap();
        assert!(neg.is_match("em0") && !neg.is_match("wlan0"));
    }
}
