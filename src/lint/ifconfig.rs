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

use super::codes::Code;

/// The longest password ifconfig keeps (`strlcpy` into `carpr_key[20]`).
pub const PASSWORD_MAX: usize = crate::model::Key::IFCONFIG_MAX;

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
pub enum Af {
    Inet,
    Inet6,
    Link,
    Ether,
}

impl Af {
    pub fn from_word(w: &str) -> Option<Af> {
        match w {
            "inet" => Some(Af::Inet),
            "inet6" => Some(Af::Inet6),
            "link" => Some(Af::Link),
            "ether" => Some(Af::Ether),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Af::Inet => "inet",
            Af::Inet6 => "inet6",
            Af::Link => "link",
            Af::Ether => "ether",
        }
    }
}

/// A run of words that network.subr hands to one ifconfig call: it starts
/// at an address family keyword, or at the start for the words before the
/// first one (`af: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub af: Option<Af>,
    /// Token indices `[start, end)`.
    pub start: usize,
    pub end: usize,
}

/// Split words at each address family keyword, as `ifalias_af_common`
/// does for `ifconfig_IF_aliases` and each `ifconfig_IF_aliasN`
/// (`libexec/rc/network.subr` @ `03ccfdd2`).
pub fn chunks(tokens: &[Token<'_>]) -> Vec<Chunk> {
    let mut out: Vec<Chunk> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if let Some(af) = Af::from_word(t.text) {
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
    pub tok: usize,
}

/// An address given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    /// With the prefix from `/n`, `netmask` or `prefixlen`; a host prefix
    /// when none was given (see `prefix_given`).
    pub net: IpNet,
    pub tok: usize,
    pub prefix_given: bool,
}

/// A finding about one word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub code: Code,
    pub tok: usize,
    pub message: String,
}

/// What one ifconfig command says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    /// The leading address family keyword, if any.
    pub af: Option<Af>,
    pub vhid: Option<Field<u8>>,
    pub advskew: Option<Field<u8>>,
    pub advbase: Option<Field<u8>>,
    pub pass: Option<Field<Secret>>,
    pub state: Option<Field<String>>,
    pub peer: Option<Field<Ipv4Addr>>,
    pub peer6: Option<Field<Ipv6Addr>>,
    pub carpver: Option<Field<u8>>,
    pub vrrpprio: Option<Field<u8>>,
    pub vrrpinterval: Option<Field<u16>>,
    pub addresses: Vec<Addr>,
    /// Keywords given without their value (`advskew pass`): their value
    /// is unknown, not the default.
    pub missing: Vec<&'static str>,
    /// `alias` / `add` seen.
    pub alias: bool,
    /// `-alias` / `delete` / `remove` seen.
    pub remove: bool,
    /// Words that are neither keywords nor addresses (token indices).
    pub unknown: Vec<usize>,
    /// Words that look like host names (token indices): ifconfig would
    /// resolve them; lint does not.
    pub hostnames: Vec<usize>,
    /// Words meant as addresses that are not valid ones (already in
    /// `issues`).
    pub bad_addresses: Vec<usize>,
    /// Findings about the words, whatever the context. Findings that only
    /// matter in a carp line (unknown words, no address) are left to the
    /// caller, which knows the context.
    pub issues: Vec<Issue>,
}

impl Command {
    /// Whether any carp keyword was given.
    pub fn is_carp(&self) -> bool {
        self.vhid.is_some()
            || self.advskew.is_some()
            || self.advbase.is_some()
            || self.pass.is_some()
            || self.carpver.is_some()
            || self.vrrpprio.is_some()
            || self.vrrpinterval.is_some()
    }

    /// VRRPv3 mode (`carpver 3`).
    pub fn is_vrrp(&self) -> bool {
        self.carpver.as_ref().is_some_and(|f| f.value == 3)
    }
}

/// carp keywords that take a value.
const CARP_ARG: &[&str] = &[
    "vhid",
    "advskew",
    "advbase",
    "pass",
    "state",
    "peer",
    "peer6",
    "carpver",
    "vrrpprio",
    "vrrpinterval",
];
/// carp keywords without a value.
const CARP_FLAG: &[&str] = &["mcast", "mcast6"];
/// Other ifconfig keywords that take one value.
const GENERAL_ARG: &[&str] = &[
    "netmask",
    "prefixlen",
    "broadcast",
    "mtu",
    "metric",
    "description",
    "descr",
    "name",
    "vlan",
    "vlandev",
    "vlanproto",
    "vlanpcp",
    "fib",
    "tunnelfib",
    "media",
    "mediaopt",
    "-mediaopt",
    "mode",
    "inst",
    "instance",
    "laggport",
    "-laggport",
    "laggproto",
    "lagghash",
    "vnet",
    "-vnet",
    "group",
    "-group",
    "addm",
    "deletem",
    "lladdr",
    "pltime",
    "vltime",
    "maxaddr",
    "ssid",
    "channel",
    "wlandev",
    "wlanmode",
    "country",
    "txpower",
    "bssid",
    "authmode",
    "vxlanid",
    "vxlanlocal",
    "vxlanremote",
    "vxlandev",
];
/// Other ifconfig keywords without a value, and the pseudo-arguments
/// network.subr strips (`DHCP`, `SYNCDHCP`, `NOAUTO`, `WPA`, `HOSTAP`).
const GENERAL_FLAG: &[&str] = &[
    "alias",
    "delete",
    "remove",
    "add",
    "up",
    "down",
    "arp",
    "promisc",
    "debug",
    "monitor",
    "staticarp",
    "rxcsum",
    "txcsum",
    "rxcsum6",
    "txcsum6",
    "tso",
    "tso4",
    "tso6",
    "lro",
    "polling",
    "vlanhwtag",
    "vlanmtu",
    "vlanhwfilter",
    "vlanhwtso",
    "vlanhwcsum",
    "no_dad",
    "accept_rtadv",
    "auto_linklocal",
    "ifdisabled",
    "anycast",
    "deprecated",
    "autoconf",
    "prefer_source",
    "tentative",
    "nud",
    "eui64",
    "create",
    "destroy",
    "defaultif",
    "wol",
    "wol_ucast",
    "wol_mcast",
    "wol_magic",
    "dhcp",
    "syncdhcp",
    "nosyncdhcp",
    "noauto",
    "wpa",
    "hostap",
];

/// Whether `w` is any keyword ifconfig knows (or an address family).
pub fn is_keyword(w: &str) -> bool {
    let lower = w.to_ascii_lowercase();
    CARP_ARG.contains(&w)
        || CARP_FLAG.contains(&w)
        || GENERAL_ARG.contains(&w)
        || GENERAL_FLAG.contains(&lower.as_str())
        || Af::from_word(w).is_some()
}

/// Read one ifconfig command's words. `af` is the family in force when the
/// words do not start with one (rc.d: `inet` for aliases, `inet6` for
/// `ifconfig_IF_ipv6`; plain ifconfig defaults to inet).
pub fn parse(tokens: &[Token<'_>], default_af: Option<Af>) -> Command {
    let mut c = Command::default();
    let mut i = 0;
    if let Some(af) = tokens.first().and_then(|t| Af::from_word(t.text)) {
        c.af = Some(af);
        i = 1;
    }
    let af = c.af.or(default_af);
    let mut netmask: Option<(u8, usize)> = None;
    let mut prefixlen: Option<(u8, usize)> = None;
    let text = |j: usize| tokens.get(j).map(|t| t.text);
    while let Some(w) = text(i) {
        if CARP_ARG.contains(&w) {
            if matches!(w, "pass" | "advskew" | "advbase" | "state") && c.vhid.is_none() {
                c.issues.push(Issue {
                    code: Code::VhidFirst,
                    tok: i,
                    message: format!(
                        "{w} before vhid: ifconfig stops here with \"{} requires vhid\"; \
                         put vhid N first",
                        if w == "pass" { "passwd" } else { w }
                    ),
                });
            }
            match text(i + 1) {
                None => {
                    c.issues.push(Issue {
                        code: Code::MissingValue,
                        tok: i,
                        message: format!(
                            "{w} needs a value ({}), and nothing follows it",
                            value_hint(w)
                        ),
                    });
                    c.missing.extend(CARP_ARG.iter().find(|k| **k == w));
                    i += 1;
                }
                // A keyword where a number or address belongs: the value
                // was left out. ifconfig itself would take the keyword as
                // the value (atoi("pass") is 0); reading on from the
                // keyword reports what the author meant.
                Some(v) if !matches!(w, "pass" | "state") && is_keyword(v) => {
                    c.issues.push(Issue {
                        code: Code::MissingValue,
                        tok: i,
                        message: format!(
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
                    });
                    c.missing.extend(CARP_ARG.iter().find(|k| **k == w));
                    i += 1;
                }
                Some(v) => {
                    set_carp(&mut c, w, v, i);
                    i += 2;
                }
            }
        } else if CARP_FLAG.contains(&w) {
            i += 1;
        } else if GENERAL_ARG.contains(&w) {
            match (w, text(i + 1)) {
                ("netmask", Some(v)) => match parse_netmask(v) {
                    Some(n) => netmask = Some((n, i)),
                    None => c.issues.push(Issue {
                        code: Code::BadValue,
                        tok: i + 1,
                        message: format!(
                            "netmask `{v}` is not a contiguous IPv4 mask (255.255.255.0 or \
                             0xffffff00)"
                        ),
                    }),
                },
                ("prefixlen", Some(v)) => match v.parse::<u8>() {
                    Ok(n) if n <= 128 => prefixlen = Some((n, i)),
                    _ => c.issues.push(Issue {
                        code: Code::BadValue,
                        tok: i + 1,
                        message: format!("prefixlen `{v}` is not a number from 0 to 128"),
                    }),
                },
                (_, None) => c.issues.push(Issue {
                    code: Code::MissingValue,
                    tok: i,
                    message: format!("{w} needs a value, and nothing follows it"),
                }),
                _ => {}
            }
            i += 2;
        } else if GENERAL_FLAG.contains(&w.to_ascii_lowercase().as_str()) {
            match w {
                "alias" | "add" => c.alias = true,
                "delete" | "remove" => c.remove = true,
                _ => {}
            }
            i += 1;
        } else if w == "-alias" {
            c.remove = true;
            i += 1;
        } else if w.starts_with('-') {
            // A negated flag (-txcsum, -promisc ...).
            i += 1;
        } else if Af::from_word(w).is_some() {
            // An address family in the middle: network.subr splits there
            // (see `chunks`); a plain ifconfig call takes it as af.
            i += 1;
        } else {
            match parse_address(w, af) {
                Ok(addrs) => {
                    for (net, prefix_given) in addrs {
                        c.addresses.push(Addr {
                            net,
                            tok: i,
                            prefix_given,
                        });
                    }
                }
                Err(AddrError::Bad(msg)) => {
                    c.bad_addresses.push(i);
                    c.issues.push(Issue {
                        code: Code::BadValue,
                        tok: i,
                        message: msg,
                    });
                }
                Err(AddrError::Hostname) => c.hostnames.push(i),
                Err(AddrError::NotAnAddress) => c.unknown.push(i),
            }
            i += 1;
        }
    }
    // netmask / prefixlen apply to the addresses given without a prefix.
    for a in &mut c.addresses {
        if a.prefix_given {
            continue;
        }
        let len = match a.net.addr() {
            IpAddr::V4(_) => netmask.map(|(n, _)| n),
            IpAddr::V6(_) => prefixlen.map(|(n, _)| n),
        };
        if let Some(len) = len
            && let Ok(net) = IpNet::new(a.net.addr(), len)
        {
            a.net = net;
            a.prefix_given = true;
        }
    }
    check_carp(&mut c);
    c
}

fn value_hint(w: &str) -> &'static str {
    match w {
        "vhid" => "from 1 to 255",
        "advskew" => "from 0 to 254",
        "advbase" => "seconds, from 1 to 255",
        "pass" => "the password",
        "state" => "master or backup",
        "peer" => "the other node's IPv4 address",
        "peer6" => "the other node's IPv6 address",
        "carpver" => "2 for CARP or 3 for VRRPv3",
        "vrrpprio" => "from 1 to 254",
        "vrrpinterval" => "centiseconds, from 1 to 4095",
        _ => "a value",
    }
}

/// A number as ifconfig's `atoi` should see it: digits only.
fn number(v: &str) -> Option<u64> {
    if v.is_empty() || v.len() > 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

fn set_carp(c: &mut Command, w: &str, v: &str, tok: usize) {
    let bad = |c: &mut Command, msg: String| {
        c.issues.push(Issue {
            code: Code::BadValue,
            tok: tok + 1,
            message: msg,
        });
    };
    let ranged = |lo: u64, hi: u64| number(v).filter(|n| (lo..=hi).contains(n));
    match w {
        "vhid" => match ranged(1, 255).and_then(|n| u8::try_from(n).ok()) {
            Some(n) => c.vhid = Some(Field { value: n, tok }),
            None => bad(
                c,
                format!(
                    "vhid `{v}` is not a number from 1 to 255 (ifconfig: \"vhid must be greater than 0 and less than 255\")"
                ),
            ),
        },
        "advskew" => match ranged(0, 254).and_then(|n| u8::try_from(n).ok()) {
            Some(n) => c.advskew = Some(Field { value: n, tok }),
            None => bad(
                c,
                format!(
                    "advskew `{v}` is not a number from 0 to 254 (carp(4) refuses 255 and more with EINVAL)"
                ),
            ),
        },
        "advbase" => match ranged(1, 255).and_then(|n| u8::try_from(n).ok()) {
            Some(n) => c.advbase = Some(Field { value: n, tok }),
            None => bad(
                c,
                format!("advbase `{v}` is not a number of seconds from 1 to 255"),
            ),
        },
        "pass" => {
            c.pass = Some(Field {
                value: Secret(v.to_string()),
                tok,
            });
        }
        "state" => {
            let lower = v.to_ascii_lowercase();
            if matches!(lower.as_str(), "master" | "backup" | "init") {
                c.state = Some(Field { value: lower, tok });
            } else {
                bad(
                    c,
                    format!("state `{v}` is not master or backup (ifconfig: \"unknown state\")"),
                );
            }
        }
        "peer" => match v.parse::<Ipv4Addr>() {
            Ok(a) => c.peer = Some(Field { value: a, tok }),
            Err(_) => bad(c, format!("peer `{v}` is not an IPv4 address")),
        },
        "peer6" => match v.split('%').next().unwrap_or(v).parse::<Ipv6Addr>() {
            Ok(a) => c.peer6 = Some(Field { value: a, tok }),
            Err(_) => bad(c, format!("peer6 `{v}` is not an IPv6 address")),
        },
        "carpver" => match number(v) {
            Some(n @ (2 | 3)) => {
                c.carpver = Some(Field {
                    value: n as u8,
                    tok,
                })
            }
            _ => bad(
                c,
                format!(
                    "carpver `{v}` must be 2 (CARP) or 3 (VRRPv3) (ifconfig: \"version must be 2 or 3\")"
                ),
            ),
        },
        "vrrpprio" => match ranged(0, 255).and_then(|n| u8::try_from(n).ok()) {
            Some(n) => c.vrrpprio = Some(Field { value: n, tok }),
            None => bad(c, format!("vrrpprio `{v}` is not a number from 0 to 255")),
        },
        "vrrpinterval" => match ranged(1, 4095).and_then(|n| u16::try_from(n).ok()) {
            Some(n) => c.vrrpinterval = Some(Field { value: n, tok }),
            None => bad(
                c,
                format!("vrrpinterval `{v}` is not a number of centiseconds from 1 to 4095"),
            ),
        },
        _ => {}
    }
}

/// The checks that need the whole command: VRRP vs CARP options, skew
/// above 240, password length.
fn check_carp(c: &mut Command) {
    if let Some(f) = &c.advskew
        && f.value >= carpctl_sys::CARP_MAXSKEW
    {
        let tok = f.tok + 1;
        let v = f.value;
        c.issues.push(Issue {
            code: Code::SkewTooHigh,
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
        c.issues.push(Issue {
            code: Code::PasswordLength,
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
                c.issues.push(Issue {
                    code: Code::VrrpMixed,
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
                c.issues.push(Issue {
                    code: Code::VrrpMixed,
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

/// Parse a `netmask` value: dotted quad or 0x hex, contiguous.
pub fn parse_netmask(v: &str) -> Option<u8> {
    let bits: u32 = if let Some(hex) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok()?
    } else {
        u32::from(v.parse::<Ipv4Addr>().ok()?)
    };
    let len = bits.leading_ones();
    // Contiguous: everything after the leading ones is zero.
    if bits.checked_shl(len).unwrap_or(0) != 0 {
        return None;
    }
    u8::try_from(len).ok()
}

enum AddrError {
    /// Looks like an address but is wrong (bad prefix, bad range).
    Bad(String),
    /// Looks like a host name.
    Hostname,
    NotAnAddress,
}

/// The most addresses a range expands to, like network.subr's
/// `netif_ipexpand_max` default.
const RANGE_MAX: u32 = 2048;

/// Parse an address word: `A.B.C.D[/n]`, `X::Y[/n]`, or a network.subr
/// range (`192.168.1.10-12/32`, `2001:db8::1-3`). Each address comes with
/// whether a prefix was given.
fn parse_address(w: &str, af: Option<Af>) -> Result<Vec<(IpNet, bool)>, AddrError> {
    let (addr, prefix) = match w.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (w, None),
    };
    let addr = addr.split('%').next().unwrap_or(addr);
    let v6 = addr.contains(':');
    let max = if v6 { 128 } else { 32 };
    let prefix = match prefix {
        None => None,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max => Some(n),
            _ => {
                if !looks_like_address(addr) {
                    return Err(AddrError::NotAnAddress);
                }
                return Err(AddrError::Bad(format!(
                    "`{w}`: the prefix length must be a number from 0 to {max}"
                )));
            }
        },
    };
    let addrs = expand(addr, v6).ok_or_else(|| {
        if looks_like_address(addr) {
            AddrError::Bad(format!("`{w}` is not a valid IP address"))
        } else if addr.contains('.')
            && addr.bytes().any(|b| b.is_ascii_alphabetic())
            && addr
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            AddrError::Hostname
        } else {
            AddrError::NotAnAddress
        }
    })?;
    let mut out = Vec::with_capacity(addrs.len());
    for a in addrs {
        if matches!(
            (af, a),
            (Some(Af::Inet), IpAddr::V6(_)) | (Some(Af::Inet6), IpAddr::V4(_))
        ) {
            return Err(AddrError::Bad(format!(
                "`{w}` is not an {} address",
                if matches!(af, Some(Af::Inet6)) {
                    "IPv6"
                } else {
                    "IPv4"
                }
            )));
        }
        let len = prefix.unwrap_or(if a.is_ipv6() { 128 } else { 32 });
        let net =
            IpNet::new(a, len).map_err(|_| AddrError::Bad(format!("`{w}`: bad prefix length")))?;
        out.push((net, prefix.is_some()));
    }
    Ok(out)
}

/// Whether a word is made of address characters (digits, dots, colons,
/// hex, dashes) and so was meant as an address.
fn looks_like_address(a: &str) -> bool {
    !a.is_empty()
        && a.bytes().any(|b| b.is_ascii_digit())
        && a.bytes()
            .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'-'))
        && (a.contains('.') || a.contains(':'))
}

/// An address, or a network.subr range of addresses.
fn expand(addr: &str, v6: bool) -> Option<Vec<IpAddr>> {
    if !addr.contains('-') {
        return addr.parse::<IpAddr>().ok().map(|a| vec![a]);
    }
    if v6 {
        // network.subr: the range is in the last group, `left:lo-hi[:right]`.
        let (left, right) = addr.split_once('-')?;
        let (head, lo) = left.rsplit_once(':')?;
        let (hi, tail) = match right.split_once(':') {
            Some((h, t)) => (h, Some(t)),
            None => (right, None),
        };
        let lo = u32::from_str_radix(lo, 16).ok()?;
        let hi = u32::from_str_radix(hi, 16).ok()?;
        if hi < lo || hi > 0xffff || hi - lo >= RANGE_MAX {
            return None;
        }
        (lo..=hi)
            .map(|n| {
                let s = match tail {
                    Some(t) => format!("{head}:{n:x}:{t}"),
                    None => format!("{head}:{n:x}"),
                };
                s.parse::<IpAddr>().ok()
            })
            .collect()
    } else {
        let parts: Vec<&str> = addr.split('.').collect();
        if parts.len() != 4 || parts.iter().filter(|p| p.contains('-')).count() != 1 {
            return None;
        }
        let k = parts.iter().position(|p| p.contains('-'))?;
        let (lo, hi) = parts.get(k)?.split_once('-')?;
        let lo: u32 = lo.parse().ok()?;
        let hi: u32 = hi.parse().ok()?;
        if hi < lo || hi > 255 || hi - lo >= RANGE_MAX {
            return None;
        }
        (lo..=hi)
            .map(|n| {
                let mut p: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
                if let Some(slot) = p.get_mut(k) {
                    *slot = n.to_string();
                }
                p.join(".").parse::<IpAddr>().ok()
            })
            .collect()
    }
}

/// The classful prefix ifconfig falls back to for an IPv4 address given
/// without a mask (in.c: class A /8, B /16, C /24), 64 for IPv6 (as
/// network.subr assumes for inet6 aliases).
pub fn default_prefix(a: IpAddr) -> u8 {
    match a {
        IpAddr::V4(v4) => match v4.octets()[0] {
            0..=127 => 8,
            128..=191 => 16,
            _ => 24,
        },
        IpAddr::V6(_) => 64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(s: &str) -> Command {
        parse(&split(s), Some(Af::Inet))
    }

    fn codes(c: &Command) -> Vec<Code> {
        c.issues.iter().map(|i| i.code).collect()
    }

    #[test]
    fn split_keeps_character_indices() {
        let t = split("  vhid 1\n pass é x");
        let got: Vec<(&str, usize)> = t.iter().map(|t| (t.text, t.start)).collect();
        assert_eq!(
            got,
            [("vhid", 2), ("1", 7), ("pass", 10), ("é", 15), ("x", 17)]
        );
        assert!(split("   ").is_empty());
    }

    #[test]
    fn carp_keywords_in_any_order_after_vhid() {
        for s in [
            "inet vhid 1 advskew 100 pass secret alias 192.168.1.50/32",
            "inet vhid 1 pass secret advskew 100 192.168.1.50/32 alias",
            "inet 192.168.1.50/32 vhid 1 advskew 100 pass secret alias",
        ] {
            let c = cmd(s);
            assert!(c.issues.is_empty(), "{s}: {:?}", c.issues);
            assert_eq!(c.vhid.as_ref().unwrap().value, 1);
            assert_eq!(c.advskew.as_ref().unwrap().value, 100);
            assert_eq!(c.pass.as_ref().unwrap().value.0, "secret");
            assert_eq!(c.addresses[0].net.to_string(), "192.168.1.50/32");
            assert!(c.alias);
            assert_eq!(c.af, Some(Af::Inet));
        }
    }

    #[test]
    fn the_seed_typo_is_a_missing_value_and_no_address() {
        // `advskew pass my_password1`: advskew lacks its number.
        let c = cmd("vhid 1 advskew pass my_password1");
        assert_eq!(codes(&c), [Code::MissingValue]);
        assert_eq!(c.issues[0].tok, 2);
        assert!(
            c.issues[0].message.contains("`pass`"),
            "{}",
            c.issues[0].message
        );
        // Reading on from `pass` keeps the password; there is no address.
        assert!(c.pass.is_some());
        assert!(c.addresses.is_empty());
        assert!(c.unknown.is_empty());
    }

    #[test]
    fn missing_value_at_the_end() {
        let c = cmd("vhid 1 pass");
        assert_eq!(codes(&c), [Code::MissingValue]);
        let c = cmd("vhid");
        assert_eq!(codes(&c), [Code::MissingValue]);
        let c = cmd("10.0.0.1 netmask");
        assert_eq!(codes(&c), [Code::MissingValue]);
    }

    #[test]
    fn vhid_must_come_first() {
        let c = cmd("advskew 100 vhid 1 10.0.0.1");
        assert_eq!(codes(&c), [Code::VhidFirst]);
        assert!(c.issues[0].message.contains("advskew requires vhid"));
        let c = cmd("pass x vhid 1 10.0.0.1");
        assert!(c.issues[0].message.contains("passwd requires vhid"));
        // carpver and peer do not need vhid before them.
        assert!(
            cmd("carpver 3 vhid 1 vrrpprio 100 10.0.0.1")
                .issues
                .is_empty()
        );
    }

    #[test]
    fn numbers_are_checked_for_form_and_range() {
        for (s, tok) in [
            ("vhid 0 10.0.0.1", 1),
            ("vhid 256 10.0.0.1", 1),
            ("vhid 1x 10.0.0.1", 1),
            ("vhid 1 advskew 255 10.0.0.1", 3),
            ("vhid 1 advskew -1 10.0.0.1", 3),
            ("vhid 1 advbase 0 10.0.0.1", 3),
            ("vhid 1 state up 10.0.0.1", 3),
            ("vhid 1 peer 10.0.0 10.0.0.1", 3),
            ("vhid 1 peer6 10.0.0.2 10.0.0.1", 3),
            ("vhid 1 carpver 4 10.0.0.1", 3),
            ("carpver 3 vhid 1 vrrpprio 300 10.0.0.1", 5),
            ("carpver 3 vhid 1 vrrpinterval 4096 10.0.0.1", 5),
            ("carpver 3 vhid 1 vrrpinterval 0 10.0.0.1", 5),
            ("vhid 1 10.0.0.1/33", 2),
            ("vhid 1 10.0.0.1 netmask 255.0.255.0", 4),
            ("inet6 vhid 1 2001:db8::1 prefixlen 129", 5),
        ] {
            let c = parse(&split(s), None);
            assert_eq!(codes(&c), [Code::BadValue], "{s}: {:?}", c.issues);
            assert_eq!(c.issues[0].tok, tok, "{s}");
        }
        for s in [
            "vhid 255 advskew 254 advbase 255 10.0.0.1",
            "vhid 1 advskew 0 state MASTER peer 10.0.0.2 10.0.0.1",
            "inet6 vhid 1 peer6 2001:db8::2 2001:db8::1 prefixlen 64",
            "carpver 3 vhid 1 vrrpprio 254 vrrpinterval 4095 10.0.0.1",
        ] {
            let c = parse(&split(s), None);
            let errors: Vec<&Issue> = c
                .issues
                .iter()
                .filter(|i| i.code == Code::BadValue)
                .collect();
            assert!(errors.is_empty(), "{s}: {errors:?}");
        }
    }

    #[test]
    fn skew_240_and_long_passwords_warn() {
        let c = cmd("vhid 1 advskew 240 10.0.0.1");
        assert_eq!(codes(&c), [Code::SkewTooHigh]);
        assert!(cmd("vhid 1 advskew 239 10.0.0.1").issues.is_empty());
        let c = cmd("vhid 1 pass 01234567890123456789 10.0.0.1");
        assert_eq!(codes(&c), [Code::PasswordLength]);
        assert!(
            !c.issues[0].message.contains("0123456789"),
            "never show the password"
        );
        assert!(
            cmd("vhid 1 pass 0123456789012345678 10.0.0.1")
                .issues
                .is_empty()
        );
    }

    #[test]
    fn vrrp_and_carp_options_do_not_mix() {
        let c = cmd("carpver 3 vhid 1 pass x advskew 10 10.0.0.1");
        assert_eq!(codes(&c), [Code::VrrpMixed, Code::VrrpMixed]);
        let c = cmd("vhid 1 vrrpprio 100 10.0.0.1");
        assert_eq!(codes(&c), [Code::VrrpMixed]);
        assert!(
            cmd("carpver 2 vhid 1 pass x advskew 10 10.0.0.1")
                .issues
                .is_empty()
        );
    }

    #[test]
    fn addresses_with_masks_prefixes_and_ranges() {
        let c = cmd("inet 192.168.1.3 netmask 255.255.255.0");
        assert_eq!(c.addresses[0].net.to_string(), "192.168.1.3/24");
        let c = cmd("inet 192.168.1.3 netmask 0xffffff00");
        assert_eq!(c.addresses[0].net.to_string(), "192.168.1.3/24");
        let c = parse(&split("inet6 2001:db8::3 prefixlen 64"), None);
        assert_eq!(c.addresses[0].net.to_string(), "2001:db8::3/64");
        let c = cmd("inet 192.168.1.10-12/32");
        let got: Vec<String> = c.addresses.iter().map(|a| a.net.to_string()).collect();
        assert_eq!(
            got,
            ["192.168.1.10/32", "192.168.1.11/32", "192.168.1.12/32"]
        );
        let c = parse(&split("inet6 2001:db8::a-c"), None);
        assert_eq!(c.addresses.len(), 3);
        assert!(!c.addresses[0].prefix_given);
        // IPv4 in an inet6 command, and the reverse.
        assert_eq!(
            codes(&parse(&split("inet6 10.0.0.1"), None)),
            [Code::BadValue]
        );
        assert_eq!(codes(&cmd("inet 2001:db8::1")), [Code::BadValue]);
        // A reversed range is an error, not a panic.
        assert_eq!(codes(&cmd("inet 10.0.0.9-3")), [Code::BadValue]);
    }

    #[test]
    fn unknown_words_and_host_names_are_set_aside() {
        let c = cmd("vhid 1 my_password1");
        assert_eq!(c.unknown, [2]);
        let c = cmd("vhid 1 www.example.org");
        assert_eq!(c.hostnames, [2]);
        assert!(c.unknown.is_empty());
    }

    #[test]
    fn chunks_split_at_address_families() {
        let t = split("vhid 1 x inet 10.0.0.1/32 inet6 2001:db8::1");
        let ch = chunks(&t);
        assert_eq!(
            ch,
            [
                Chunk {
                    af: None,
                    start: 0,
                    end: 3
                },
                Chunk {
                    af: Some(Af::Inet),
                    start: 3,
                    end: 5
                },
                Chunk {
                    af: Some(Af::Inet6),
                    start: 5,
                    end: 7
                },
            ]
        );
        assert!(chunks(&[]).is_empty());
    }

    #[test]
    fn netmask_forms() {
        assert_eq!(parse_netmask("255.255.255.255"), Some(32));
        assert_eq!(parse_netmask("0xffff0000"), Some(16));
        assert_eq!(parse_netmask("0.0.0.0"), Some(0));
        assert_eq!(parse_netmask("255.0.255.0"), None);
        assert_eq!(parse_netmask("0xfffffffff"), None);
        assert_eq!(parse_netmask("x"), None);
    }

    #[test]
    fn default_prefixes_are_classful() {
        assert_eq!(default_prefix("10.1.2.3".parse().unwrap()), 8);
        assert_eq!(default_prefix("172.16.0.1".parse().unwrap()), 16);
        assert_eq!(default_prefix("192.168.1.3".parse().unwrap()), 24);
        assert_eq!(default_prefix("2001:db8::1".parse().unwrap()), 64);
    }

    #[test]
    fn secrets_are_redacted() {
        let s = Secret("hunter2".into());
        assert_eq!(format!("{s:?}"), "Secret(7 bytes)");
        assert_eq!(s.to_string(), "(password)");
        let c = cmd("vhid 1 pass hunter2 10.0.0.1");
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
