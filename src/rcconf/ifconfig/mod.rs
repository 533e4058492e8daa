//! ifconfig(8) arguments as rc.d passes them: the carp keywords, addresses
//! and the keywords around them.
//!
//! What ifconfig does, from `sbin/ifconfig/carp.c` (freebsd-src @
//! `e4452d45`, 15.x with VRRPv3; @ `101e1a49`, 14.x) and docs/freebsd-carp.md §6.4:
//!
//! * `vhid N`, `advskew N`, `advbase N`, `pass WORD`, `state master|backup`,
//!   `peer A.B.C.D`, `peer6 X::Y`, `carpver 2|3`, `vrrpprio N`,
//!   `vrrpinterval N` each take the next word as their value
//!   (`DEF_CMD_ARG`); `mcast` and `mcast6` take none;
//! * numbers go through `atoi()`, so `advskew pass` silently gives 0 and the
//!   password then becomes an address;
//! * `pass`, `advskew`, `advbase` and `state` need a `vhid` *before* them:
//!   otherwise ifconfig stops with "advskew requires vhid";
//! * vhid must be 1-255, vrrpinterval 1-4095, carpver 2 or 3; the kernel
//!   refuses advskew >= 255 and advbase > 255 (docs/freebsd-carp.md §4.3) and
//!   advertises any advskew above 240 as 240 (§8);
//! * the password is copied with `strlcpy` into 20 bytes: at most 19 bytes
//!   survive (§6.4);
//! * a word that is not a keyword is an address (`setifaddr`); there may be
//!   a `/prefix`, or a `netmask` (IPv4) / `prefixlen` (IPv6) keyword.
//!
//! Keywords are otherwise accepted in any order. This module reads one
//! command's words, with the index of each word in the value, so that the
//! caller can put every finding at its column.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

mod address;
mod keywords;
mod values;

use address::{AddrError, parse_address};
pub(crate) use address::{default_prefix, parse_netmask};
pub(crate) use keywords::is_keyword;
use keywords::{CARP_ARG, CARP_FLAG, GENERAL_ARG, GENERAL_FLAG, value_hint};
use values::set_carp;

/// The longest password ifconfig keeps (`strlcpy` into `carpr_key[20]`).
pub(crate) const PASSWORD_MAX: usize = crate::model::Key::IFCONFIG_MAX;

/// One word of an ifconfig argument list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a str,
    /// Index of its first character in the value (characters, not bytes).
    pub start: usize,
}

/// Split a value into words the way sh splits an unquoted expansion
/// (blanks and newlines), keeping each word's character index.
pub fn split(value: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (byte, char)
    for (chars, (b, c)) in value.char_indices().enumerate() {
        if c.is_whitespace() {
            if let Some((sb, sc)) = start.take()
                && let Some(text) = value.get(sb..b)
            {
                out.push(Token { text, start: sc });
            }
        } else if start.is_none() {
            start = Some((b, chars));
        }
    }
    if let Some((sb, sc)) = start
        && let Some(text) = value.get(sb..)
    {
        out.push(Token { text, start: sc });
    }
    out
}

/// An address family keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressFamily {
    Inet,
    Inet6,
    Link,
    Ether,
}

impl AddressFamily {
    pub(crate) fn from_word(w: &str) -> Option<AddressFamily> {
        match w {
            "inet" => Some(AddressFamily::Inet),
            "inet6" => Some(AddressFamily::Inet6),
            "link" => Some(AddressFamily::Link),
            "ether" => Some(AddressFamily::Ether),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AddressFamily::Inet => "inet",
            AddressFamily::Inet6 => "inet6",
            AddressFamily::Link => "link",
            AddressFamily::Ether => "ether",
        }
    }
}

/// A run of words that network.subr hands to one ifconfig call: it starts
/// at an address family keyword, or at the start for the words before the
/// first one (`af: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub(crate) af: Option<AddressFamily>,
    /// Token indices `[start, end)`.
    pub start: usize,
    pub end: usize,
}

/// Split words at each address family keyword, as `ifalias_af_common`
/// does for `ifconfig_IF_aliases` and each `ifconfig_IF_aliasN`
/// (`libexec/rc/network.subr` @ `03ccfdd2`).
pub(crate) fn chunks(tokens: &[Token<'_>]) -> Vec<Chunk> {
    let mut out: Vec<Chunk> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if let Some(af) = AddressFamily::from_word(t.text) {
            if let Some(last) = out.last_mut() {
                last.end = i;
            }
            out.push(Chunk {
                af: Some(af),
                start: i,
                end: tokens.len(),
            });
        } else if out.is_empty() {
            out.push(Chunk {
                af: None,
                start: i,
                end: tokens.len(),
            });
        }
    }
    out
}

/// A password from a file. Never shown: `Debug` and `Display` redact it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(password)")
    }
}

/// A keyword's value and the index of the keyword's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<T> {
    pub value: T,
    /// Token index of the keyword (its value is the next token).
    pub(crate) tok: usize,
}

/// An address given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    /// With the prefix from `/n`, `netmask` or `prefixlen`; a host prefix
    /// when none was given (see `prefix_given`).
    pub net: IpNet,
    pub(crate) tok: usize,
    pub(crate) prefix_given: bool,
}

/// What is wrong with a word of an ifconfig command, as ifconfig(8)
/// (or carp(4) after it) would take it. `lint` reports each kind under
/// its own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProblemKind {
    /// A keyword without its value (`advskew pass`, or nothing after it).
    MissingValue,
    /// A value that is not a number, out of range, or of the wrong kind.
    BadValue,
    /// `pass`, `advskew`, `advbase` or `state` before `vhid`.
    VhidFirst,
    /// `advskew` of 240 or more.
    SkewTooHigh,
    /// A password longer than ifconfig keeps.
    PasswordLength,
    /// CARP options with `carpver 3`, or VRRP options without it.
    VrrpMixed,
}

/// A problem with one word: its kind, the word's token index, and what
/// to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub kind: ProblemKind,
    pub(crate) tok: usize,
    pub message: String,
}

/// What one ifconfig command says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    /// The leading address family keyword, if any.
    pub(crate) af: Option<AddressFamily>,
    pub vhid: Option<Field<u8>>,
    pub advskew: Option<Field<u8>>,
    pub advbase: Option<Field<u8>>,
    pub pass: Option<Field<Secret>>,
    pub state: Option<Field<String>>,
    pub peer: Option<Field<Ipv4Addr>>,
    pub peer6: Option<Field<Ipv6Addr>>,
    pub(crate) carpver: Option<Field<u8>>,
    pub vrrpprio: Option<Field<u8>>,
    pub vrrpinterval: Option<Field<u16>>,
    pub addresses: Vec<Addr>,
    /// Keywords given without their value (`advskew pass`): their value
    /// is unknown, not the default.
    pub missing: Vec<&'static str>,
    /// `alias` / `add` seen.
    pub(crate) alias: bool,
    /// `-alias` / `delete` / `remove` seen.
    pub(crate) remove: bool,
    /// Words that are neither keywords nor addresses (token indices).
    pub unknown: Vec<usize>,
    /// Words that look like host names (token indices): ifconfig would
    /// resolve them; lint does not.
    pub(crate) hostnames: Vec<usize>,
    /// Words meant as addresses that are not valid ones (already in
    /// `problems`).
    pub(crate) bad_addresses: Vec<usize>,
    /// Findings about the words, whatever the context. Findings that only
    /// matter in a carp line (unknown words, no address) are left to the
    /// caller, which knows the context.
    pub(crate) problems: Vec<Problem>,
}

impl Command {
    /// Whether any carp keyword was given.
    pub(crate) fn is_carp(&self) -> bool {
        self.vhid.is_some()
            || self.advskew.is_some()
            || self.advbase.is_some()
            || self.pass.is_some()
            || self.carpver.is_some()
            || self.vrrpprio.is_some()
            || self.vrrpinterval.is_some()
    }

    /// VRRPv3 mode (`carpver 3`).
    pub(crate) fn is_vrrp(&self) -> bool {
        self.carpver.as_ref().is_some_and(|f| f.value == 3)
    }

    fn problem(&mut self, kind: ProblemKind, tok: usize, message: String) {
        self.problems.push(Problem { kind, tok, message });
    }
}

/// Read one ifconfig command's words. `af` is the family in force when the
/// words do not start with one (rc.d: `inet` for aliases, `inet6` for
/// `ifconfig_IF_ipv6`; plain ifconfig defaults to inet).
pub fn parse(tokens: &[Token<'_>], default_af: Option<AddressFamily>) -> Command {
    let mut command = Command::default();
    let mut i = 0;
    if let Some(af) = tokens
        .first()
        .and_then(|t| AddressFamily::from_word(t.text))
    {
        command.af = Some(af);
        i = 1;
    }
    let mut r = Reader {
        tokens,
        af: command.af.or(default_af),
        netmask: None,
        prefixlen: None,
        c: command,
    };
    while let Some(w) = r.text(i) {
        i = r.word(w, i);
    }
    r.apply_masks();
    check_carp(&mut r.c);
    r.c
}

/// The checks that need the whole command: VRRP vs CARP options, skew
/// above 240, password length.
fn check_carp(c: &mut Command) {
    if let Some(f) = &c.advskew
        && f.value >= crate::model::CARP_MAXSKEW
    {
        let tok = f.tok + 1;
        let v = f.value;
        c.problems.push(Problem {
            kind: ProblemKind::SkewTooHigh,
            tok,
            message: format!(
                "advskew {v} is advertised as 240 (CARP_MAXSKEW), the value of a fully demoted \
                 node, so this node can never win against a demoted one; use less than 240"
            ),
        });
    }
    if let Some(f) = &c.pass
        && f.value.0.len() > PASSWORD_MAX
    {
        let tok = f.tok + 1;
        let n = f.value.0.len();
        c.problems.push(Problem {
            kind: ProblemKind::PasswordLength,
            tok,
            message: format!(
                "the password is {n} bytes; ifconfig keeps only the first {PASSWORD_MAX} \
                 (strlcpy into 20 bytes), so a node configured another way (netlink, carpctl) \
                 with all {n} would not authenticate; use at most {PASSWORD_MAX} bytes"
            ),
        });
    }
    if c.is_vrrp() {
        for (name, tok) in [
            ("pass", c.pass.as_ref().map(|f| f.tok)),
            ("advskew", c.advskew.as_ref().map(|f| f.tok)),
            ("advbase", c.advbase.as_ref().map(|f| f.tok)),
        ] {
            if let Some(tok) = tok {
                c.problems.push(Problem {
                    kind: ProblemKind::VrrpMixed,
                    tok,
                    message: format!(
                        "{name} is a CARP option, ignored with carpver 3 (VRRPv3 has no password \
                         and uses vrrpprio and vrrpinterval instead of advskew and advbase)"
                    ),
                });
            }
        }
    } else {
        for (name, tok) in [
            ("vrrpprio", c.vrrpprio.as_ref().map(|f| f.tok)),
            ("vrrpinterval", c.vrrpinterval.as_ref().map(|f| f.tok)),
        ] {
            if let Some(tok) = tok {
                c.problems.push(Problem {
                    kind: ProblemKind::VrrpMixed,
                    tok,
                    message: format!(
                        "{name} only applies to VRRPv3: add carpver 3 (FreeBSD 15 and later), or \
                         use advskew/advbase for CARP"
                    ),
                });
            }
        }
    }
}

/// One command's words being read, left to right.
struct Reader<'t, 'a> {
    tokens: &'t [Token<'a>],
    /// The family in force for addresses.
    af: Option<AddressFamily>,
    /// The prefix length of `netmask`, and of `prefixlen`, when given.
    netmask: Option<u8>,
    prefixlen: Option<u8>,
    c: Command,
}

impl<'a> Reader<'_, 'a> {
    fn text(&self, j: usize) -> Option<&'a str> {
        self.tokens.get(j).map(|t| t.text)
    }

    /// Read the word `w` at token `i`; the index of the next word.
    fn word(&mut self, w: &'a str, i: usize) -> usize {
        if let Some(&keyword) = CARP_ARG.iter().find(|k| **k == w) {
            return self.carp_keyword(keyword, i);
        }
        if CARP_FLAG.contains(&w) {
            return i + 1;
        }
        if GENERAL_ARG.contains(&w) {
            self.general_keyword(w, i);
            return i + 2;
        }
        if GENERAL_FLAG.contains(&w.to_ascii_lowercase().as_str()) {
            match w {
                "alias" | "add" => self.c.alias = true,
                "delete" | "remove" => self.c.remove = true,
                _ => {}
            }
        } else if w == "-alias" {
            self.c.remove = true;
        } else if w.starts_with('-') || AddressFamily::from_word(w).is_some() {
            // A negated flag (-txcsum, -promisc ...); or an address family
            // in the middle: network.subr splits there (see `chunks`), a
            // plain ifconfig call takes it as af.
        } else {
            self.address(w, i);
        }
        i + 1
    }

    /// A carp keyword that takes a value; the index of the next word.
    fn carp_keyword(&mut self, w: &'static str, i: usize) -> usize {
        if matches!(w, "pass" | "advskew" | "advbase" | "state") && self.c.vhid.is_none() {
            self.c.problem(
                ProblemKind::VhidFirst,
                i,
                format!(
                    "{w} before vhid: ifconfig stops here with \"{} requires vhid\"; \
                     put vhid N first",
                    if w == "pass" { "passwd" } else { w }
                ),
            );
        }
        match self.text(i + 1) {
            None => {
                self.c.problem(
                    ProblemKind::MissingValue,
                    i,
                    format!(
                        "{w} needs a value ({}), and nothing follows it",
                        value_hint(w)
                    ),
                );
                self.c.missing.push(w);
                i + 1
            }
            // A keyword where a number or address belongs: the value
            // was left out. ifconfig itself would take the keyword as
            // the value (atoi("pass") is 0); reading on from the
            // keyword reports what the author meant.
            Some(v) if !matches!(w, "pass" | "state") && is_keyword(v) => {
                self.c.problem(
                    ProblemKind::MissingValue,
                    i,
                    format!(
                        "{w} has no value: the next word, `{v}`, is a keyword; ifconfig would \
                         take `{v}` as the {w} ({}) and read on from there; write `{w} N` \
                         with N {}",
                        if matches!(w, "peer" | "peer6") {
                            "and fail"
                        } else {
                            "atoi gives 0"
                        },
                        value_hint(w)
                    ),
                );
                self.c.missing.push(w);
                i + 1
            }
            Some(v) => {
                set_carp(&mut self.c, w, v, i);
                i + 2
            }
        }
    }

    /// Another keyword that takes a value: `netmask` and `prefixlen` are
    /// kept, the others only need one.
    fn general_keyword(&mut self, w: &str, i: usize) {
        match (w, self.text(i + 1)) {
            ("netmask", Some(v)) => match parse_netmask(v) {
                Some(n) => self.netmask = Some(n),
                None => self.c.problem(
                    ProblemKind::BadValue,
                    i + 1,
                    format!(
                        "netmask `{v}` is not a contiguous IPv4 mask (255.255.255.0 or \
                         0xffffff00)"
                    ),
                ),
            },
            ("prefixlen", Some(v)) => match v.parse::<u8>() {
                Ok(n) if n <= 128 => self.prefixlen = Some(n),
                _ => self.c.problem(
                    ProblemKind::BadValue,
                    i + 1,
                    format!("prefixlen `{v}` is not a number from 0 to 128"),
                ),
            },
            (_, None) => self.c.problem(
                ProblemKind::MissingValue,
                i,
                format!("{w} needs a value, and nothing follows it"),
            ),
            _ => {}
        }
    }

    /// A word that is no keyword: ifconfig takes it as an address.
    fn address(&mut self, w: &str, i: usize) {
        match parse_address(w, self.af) {
            Ok(addrs) => {
                for (net, prefix_given) in addrs {
                    self.c.addresses.push(Addr {
                        net,
                        tok: i,
                        prefix_given,
                    });
                }
            }
            Err(AddrError::Bad(msg)) => {
                self.c.bad_addresses.push(i);
                self.c.problem(ProblemKind::BadValue, i, msg);
            }
            Err(AddrError::Hostname) => self.c.hostnames.push(i),
            Err(AddrError::NotAnAddress) => self.c.unknown.push(i),
        }
    }

    /// `netmask` / `prefixlen` apply to the addresses given without a
    /// prefix.
    fn apply_masks(&mut self) {
        for a in &mut self.c.addresses {
            if a.prefix_given {
                continue;
            }
            let len = match a.net.addr() {
                IpAddr::V4(_) => self.netmask,
                IpAddr::V6(_) => self.prefixlen,
            };
            if let Some(len) = len
                && let Ok(net) = IpNet::new(a.net.addr(), len)
            {
                a.net = net;
                a.prefix_given = true;
            }
        }
    }
}

#[cfg(test)]
mod tests;
