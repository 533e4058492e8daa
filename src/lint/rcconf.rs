//! rc.conf(5) as rc.d reads it for carp: interfaces, their own addresses,
//! their vhid aliases, and the FreeBSD 9 form.
//!
//! How `/etc/rc.d/netif` turns rc.conf into ifconfig calls
//! (`libexec/rc/network.subr` @ `03ccfdd2`, docs/freebsd-carp.md §5.4):
//!
//! * `ifconfig_IF` is one ifconfig call (`eval ifconfig IF $args`), with
//!   the pseudo-arguments DHCP, NOAUTO, WPA... removed; `ifconfig_IF_ipv6`
//!   another, for inet6;
//! * the variable name of an interface has `.`, `-`, `/` and `+` replaced
//!   by `_` (`get_if_var`): `em0.100` is `ifconfig_em0_100`;
//! * `ifconfig_IF_aliasN` are taken sorted by N; each value is cut at every
//!   `inet`/`inet6`/`link`/`ether` keyword and each piece runs as
//!   `ifconfig IF <piece> alias`; a value without a leading `inet` gets one,
//!   with the warning `needs leading "inet" keyword`; an empty aliasN stops
//!   the list (`break`). The FreeBSD 10 network.subr stopped at the first
//!   missing N instead (and the FreeBSD 10 upgrade notes of the time say
//!   so), so a gap is reported too;
//! * `ifconfig_IF_aliases` is cut the same way, but words before the first
//!   address family keyword are dropped without a word;
//! * FreeBSD 9 and earlier: `cloned_interfaces="carp0"` creates the carp
//!   pseudo-interface and `ifconfig_carp0="vhid 1 pass x 192.168.1.50/24"`
//!   configures it; since FreeBSD 10 carp is not an interface and both fail.
//!
//! Module loading: network.subr does not load carp.ko; `kld_list` in
//! rc.conf or `carp_load` in loader.conf must (docs/freebsd-carp.md §5.4).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::rc::Rc;

use ipnet::IpNet;

use super::Issue;
use super::codes::Code;
use crate::config::Pos;
use crate::rcconf::ifconfig::{self, AddressFamily, Command, Secret, Token};
use crate::rcconf::names::{IfconfigVar, classify, is_carp_iface};
use crate::rcconf::sh::{self, Assignment, ShFile};
use crate::rcconf::subnets;

/// An interface as rc.conf configures it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Iface {
    /// Its own (non-vhid) addresses, with their subnets.
    pub own: Vec<IpNet>,
}

/// One vhid on one interface of this node, merged over every line that
/// configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhidEntry {
    /// The interface's rc.conf name (`em0`, `em0_100`), or `carpN` for the
    /// FreeBSD 9 form.
    pub iface: String,
    /// The FreeBSD 9 form (`ifconfig_carpN`).
    pub legacy: bool,
    /// FreeBSD 9 form: the interface whose subnet holds the VIPs, when
    /// exactly one does.
    pub parent: Option<String>,
    /// Interfaces whose subnet holds the VIPs (FreeBSD 9 form).
    pub parent_candidates: Vec<String>,
    pub vhid: u8,
    /// Where the vhid keyword is (first line that configures it).
    pub pos: Pos,
    /// The variable that configures it first.
    pub var: String,
    pub advskew: u8,
    pub advskew_pos: Option<Pos>,
    /// advskew was given without a usable value: unknown, not 0.
    pub advskew_unknown: bool,
    pub advbase: u8,
    pub pass: Option<(Secret, Pos)>,
    /// 2 = CARP, 3 = VRRPv3.
    pub version: u8,
    pub vrrpprio: Option<u8>,
    pub addresses: Vec<(IpNet, Pos)>,
}

impl VhidEntry {
    /// The interface carp really runs on: the parent for the FreeBSD 9
    /// form.
    pub fn real_iface(&self) -> Option<&str> {
        if self.legacy {
            self.parent.as_deref()
        } else {
            Some(&self.iface)
        }
    }

    /// The advertisement interval in 1/256 s, which decides who is MASTER.
    pub fn interval(&self) -> u32 {
        u32::from(self.advbase) * 256 + u32::from(self.advskew)
    }
}

/// What lint knows about one rc.conf.
#[derive(Debug, Clone, Default)]
pub struct RcConf {
    pub sh: ShFile,
    /// `hostname`, up to the first dot.
    pub hostname: Option<String>,
    /// By rc.conf interface name (normalized: `em0_100`).
    pub interfaces: BTreeMap<String, Iface>,
    /// Display names from `vlans_IF` (`em0_100` -> `em0.100`).
    pub display_names: BTreeMap<String, String>,
    pub vhids: Vec<VhidEntry>,
    /// Whether the FreeBSD 9 form is used (and where, first).
    pub legacy: Option<Pos>,
    /// Whether any FreeBSD 10 form vhid is configured.
    pub modern: bool,
    /// `kld_list` loads carp.
    pub kld_carp: bool,
    /// `ucarp_vhid`, when ucarp is configured.
    pub ucarp_vhid: Option<u8>,
    pub issues: Vec<Issue>,
}

impl RcConf {
    /// The name to show for an rc.conf interface name.
    pub fn display_name(&self, iface: &str) -> String {
        self.display_names
            .get(iface)
            .cloned()
            .unwrap_or_else(|| iface.to_string())
    }

    /// Every interface (not carpN) whose own subnets hold `addr`, by name.
    pub fn subnet_holders(&self, addr: IpAddr) -> Vec<String> {
        subnets::holders(&subnets::subnet_index(self), addr)
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// The first position where a vhid is configured.
    pub fn first_vhid_pos(&self) -> Option<Pos> {
        self.vhids.iter().map(|v| v.pos).min()
    }
}

/// One ifconfig command taken from an assignment, before merging.
struct IfconfigCall<'a> {
    a: &'a Assignment,
    iface: String,
    legacy: bool,
    /// Every word of the assignment's value, shared by all the commands
    /// cut from it: one `ifconfig_IF_aliases` line of k addresses gives k
    /// commands, and a copy each would be quadratic.
    toks: Rc<[Token<'a>]>,
    c: Command,
}

impl IfconfigCall<'_> {
    fn pos(&self, tok: usize) -> Pos {
        self.a.pos_at(self.toks.get(tok).map_or(0, |t| t.start))
    }
}

/// Read one rc.conf.
pub fn analyze(src: &str) -> RcConf {
    let sh = sh::parse(src);
    let mut rc = RcConf::default();
    sh_issues(&mut rc, &sh);
    let effective: Vec<&Assignment> = sh.effective();
    let mut cmds: Vec<IfconfigCall<'_>> = Vec::new();
    let mut aliases: BTreeMap<String, Vec<(u32, &Assignment)>> = BTreeMap::new();
    for a in &effective {
        if a.typographic {
            // Already an error; its words are not what the author meant.
            continue;
        }
        variable(&mut rc, a);
        ifconfig_variable(&mut rc, a, &mut cmds, &mut aliases);
    }
    for (iface, list) in aliases {
        alias_list(&mut rc, &iface, list, &mut cmds);
    }
    own_addresses(&mut rc, &cmds);
    for c in &cmds {
        command_issues(&mut rc, c);
    }
    merge(&mut rc, &cmds);
    super::subnets::subnets(&mut rc);
    drop(cmds);
    drop(effective);
    rc.sh = sh;
    rc
}

/// What the sh reader found: syntax problems, commands lint does not
/// run, variables set twice.
fn sh_issues(rc: &mut RcConf, sh: &ShFile) {
    for p in &sh.problems {
        rc.issues.push(Issue::new(p.code, p.pos, p.message.clone()));
    }
    for o in &sh.others {
        rc.issues.push(Issue::new(
            Code::NotEvaluated,
            o.pos,
            format!(
                "`{}` is a command, not an assignment: lint does not run it",
                o.word
            ),
        ));
    }
    for (later, first) in sh.duplicates() {
        let same = if later.value == first.value {
            " with the same value"
        } else {
            ", and the later value wins"
        };
        rc.issues.push(Issue::new(
            Code::DuplicateAssignment,
            later.pos,
            format!(
                "{} is set again here (first on line {}){same}; keep one",
                later.name, first.pos.line
            ),
        ));
    }
}

/// The variables other than ifconfig's: hostname, kld_list,
/// cloned_interfaces, vlans_IF, ipv4_addrs_IF, ucarp_*.
fn variable(rc: &mut RcConf, a: &Assignment) {
    match a.name.as_str() {
        "hostname" => {
            let h = a.value.split('.').next().unwrap_or("").trim();
            if !h.is_empty() {
                rc.hostname = Some(h.to_string());
            }
        }
        "kld_list" => {
            rc.kld_carp = a
                .value
                .split_whitespace()
                .any(|m| m == "carp" || m == "carp.ko" || m.ends_with("/carp.ko"));
        }
        "cloned_interfaces" => cloned_interfaces(rc, a),
        n if n.starts_with("vlans_") => {
            let parent = &n["vlans_".len()..];
            for t in ifconfig::split(&a.value) {
                if t.text.bytes().all(|b| b.is_ascii_digit()) {
                    rc.display_names.insert(
                        format!("{parent}_{}", t.text),
                        format!("{parent}.{}", t.text),
                    );
                }
            }
        }
        n if n.starts_with("ipv4_addrs_") => {
            let iface = n["ipv4_addrs_".len()..].to_string();
            let toks = ifconfig::split(&a.value);
            let c = ifconfig::parse(&toks, Some(AddressFamily::Inet));
            let entry = rc.interfaces.entry(iface).or_default();
            entry.own.extend(c.addresses.iter().map(|x| x.net));
        }
        n if n.starts_with("ucarp") => ucarp(rc, a, n),
        _ => {}
    }
}

/// `LegacySyntax`: carpN in cloned_interfaces, the FreeBSD 9 form.
fn cloned_interfaces(rc: &mut RcConf, a: &Assignment) {
    let carps: Vec<(String, Pos)> = ifconfig::split(&a.value)
        .iter()
        .map(|t| {
            (
                t.text.split(':').next().unwrap_or(t.text).to_string(),
                a.pos_at(t.start),
            )
        })
        .filter(|(name, _)| is_carp_iface(name))
        .collect();
    let Some((_, pos)) = carps.first() else {
        return;
    };
    let pos = *pos;
    let names: Vec<&str> = carps.iter().map(|(n, _)| n.as_str()).collect();
    rc.legacy = Some(rc.legacy.map_or(pos, |p| p.min(pos)));
    rc.issues.push(Issue::new(
        Code::LegacySyntax,
        pos,
        format!(
            "{} in cloned_interfaces {} the FreeBSD 9 form: since FreeBSD 10 carp \
             is not an interface, so `ifconfig {} create` fails at boot; run \
             `carpctl migrate FILE` to rewrite the carp configuration as aliases \
             of the parent interface",
            names.join(", "),
            if names.len() == 1 { "is" } else { "are" },
            names.first().copied().unwrap_or("carp0")
        ),
    ));
}

/// `Ucarp`: a ucarp_* variable (reported once); keeps `ucarp_vhid`.
fn ucarp(rc: &mut RcConf, a: &Assignment, n: &str) {
    if rc.ucarp_vhid.is_none() {
        rc.ucarp_vhid = Some(0);
        rc.issues.push(Issue::new(
            Code::Ucarp,
            a.pos,
            format!(
                "{n} configures ucarp(8) from the net/ucarp port, a user-space CARP \
                 daemon; the kernel's carp(4), ifconfig and carpctl do not read \
                 ucarp_* variables. For carp(4), configure the vhid on the interface \
                 (ifconfig_IF_alias0=\"inet vhid N pass ... alias ADDR/32\") and \
                 carp_load=\"YES\" in loader.conf; never run ucarp and carp(4) with \
                 the same vhid on one segment"
            ),
        ));
    }
    if n == "ucarp_vhid"
        && let Ok(v) = a.value.trim().parse::<u8>()
    {
        rc.ucarp_vhid = Some(v);
    }
}

/// The ifconfig variables: `ifconfig_IF` and `ifconfig_IF_ipv6` become
/// commands now, `ifconfig_IF_aliases` too (`AliasesIgnored` for words
/// before any family); `ifconfig_IF_aliasN` are kept for `alias_list`.
fn ifconfig_variable<'a>(
    rc: &mut RcConf,
    a: &'a Assignment,
    cmds: &mut Vec<IfconfigCall<'a>>,
    aliases: &mut BTreeMap<String, Vec<(u32, &'a Assignment)>>,
) {
    match classify(&a.name) {
        IfconfigVar::Other => {}
        IfconfigVar::Main(iface) => {
            let legacy = is_carp_iface(&iface);
            push_cmds(cmds, a, &iface, legacy, Some(AddressFamily::Inet));
        }
        IfconfigVar::Ipv6(iface) => {
            let legacy = is_carp_iface(&iface);
            push_cmds(cmds, a, &iface, legacy, Some(AddressFamily::Inet6));
        }
        IfconfigVar::Alias(iface, n) => aliases.entry(iface).or_default().push((n, a)),
        IfconfigVar::Aliases(iface) => {
            let legacy = is_carp_iface(&iface);
            let toks: Rc<[Token<'_>]> = ifconfig::split(&a.value).into();
            let ch = ifconfig::chunks(&toks);
            for c in &ch {
                if c.af.is_none() {
                    let pos = toks.get(c.start).map_or(a.value_pos, |t| a.pos_at(t.start));
                    rc.issues.push(Issue::new(
                        Code::AliasesIgnored,
                        pos,
                        format!(
                            "{}: these words come before any inet or inet6 keyword, and \
                             network.subr ignores them without a word, so nothing here is \
                             configured; start each address with inet (or inet6): \
                             \"inet vhid N ... alias ADDR/32 inet ...\"",
                            a.name
                        ),
                    ));
                }
            }
            push_chunks(cmds, a, &iface, legacy, &toks, &ch);
        }
    }
}

/// The `ifconfig_IF_aliasN` of one interface: sorted by N, no gaps
/// (`AliasGap`), an empty one stops the list, each needs a leading
/// family (`MissingInet`).
fn alias_list<'a>(
    rc: &mut RcConf,
    iface: &str,
    mut list: Vec<(u32, &'a Assignment)>,
    cmds: &mut Vec<IfconfigCall<'a>>,
) {
    list.sort_by_key(|(n, _)| *n);
    let legacy = is_carp_iface(iface);
    let mut expect = 0u32;
    for (n, a) in list {
        if a.value.trim().is_empty() {
            rc.issues.push(Issue::new(
                Code::AliasGap,
                a.pos,
                format!(
                    "{} is empty: network.subr stops at an empty alias, so the aliases after \
                     it are never configured; remove it and renumber",
                    a.name
                ),
            ));
            return;
        }
        if n != expect {
            let missing = if expect + 1 == n {
                format!("alias{expect}")
            } else {
                format!("alias{expect} to alias{}", n.saturating_sub(1))
            };
            rc.issues.push(Issue::new(
                Code::AliasGap,
                a.pos,
                format!(
                    "{} follows a gap ({missing} missing): the FreeBSD 10 network.subr stops \
                     at the first missing number, so this alias and the later ones are \
                     ignored there; number the aliases 0, 1, 2... without gaps",
                    a.name
                ),
            ));
        }
        expect = n.saturating_add(1);
        let toks: Rc<[Token<'_>]> = ifconfig::split(&a.value).into();
        let ch = ifconfig::chunks(&toks);
        missing_inet(rc, a, &toks, &ch);
        push_chunks(cmds, a, iface, legacy, &toks, &ch);
    }
}

/// `MissingInet`: an alias whose value does not start with a family.
fn missing_inet(rc: &mut RcConf, a: &Assignment, toks: &[Token<'_>], ch: &[ifconfig::Chunk]) {
    let Some(first) = ch.first() else {
        return;
    };
    if first.af.is_some() {
        return;
    }
    let pos = toks
        .get(first.start)
        .map_or(a.value_pos, |t| a.pos_at(t.start));
    let v6 = ifconfig::parse(toks.get(first.start..first.end).unwrap_or_default(), None)
        .addresses
        .iter()
        .any(|x| x.net.addr().is_ipv6());
    rc.issues.push(Issue::new(
        Code::MissingInet,
        pos,
        if v6 {
            format!(
                "{} needs a leading inet6 keyword: network.subr puts \"inet\" in front \
                 of a value without one, and an IPv6 address then fails; write \
                 \"inet6 vhid ...\"",
                a.name
            )
        } else {
            format!(
                "{} needs a leading \"inet\" keyword: network.subr adds it with a \
                 warning at boot, but does not remove this alias on `service netif \
                 stop`; write \"inet vhid ...\"",
                a.name
            )
        },
    ));
}

/// The interfaces' own addresses: every command without a vhid (and not
/// the FreeBSD 9 form); the others only make the interface known.
fn own_addresses(rc: &mut RcConf, cmds: &[IfconfigCall<'_>]) {
    for c in cmds {
        if c.c.vhid.is_none() && !c.c.is_carp() && !c.legacy {
            let entry = rc.interfaces.entry(c.iface.clone()).or_default();
            for x in &c.c.addresses {
                let net = if x.prefix_given {
                    x.net
                } else {
                    IpNet::new(x.net.addr(), ifconfig::default_prefix(x.net.addr()))
                        .unwrap_or(x.net)
                };
                entry.own.push(net);
            }
        } else {
            rc.interfaces.entry(c.iface.clone()).or_default();
        }
    }
}

/// Add one command per assignment (`ifconfig_IF`, `ifconfig_IF_ipv6`).
fn push_cmds<'a>(
    cmds: &mut Vec<IfconfigCall<'a>>,
    a: &'a Assignment,
    iface: &str,
    legacy: bool,
    af: Option<AddressFamily>,
) {
    let toks = ifconfig::split(&a.value);
    let c = ifconfig::parse(&toks, af);
    cmds.push(IfconfigCall {
        a,
        iface: iface.to_string(),
        legacy,
        toks: toks.into(),
        c,
    });
}

/// Add one command per address-family chunk of an alias value. Chunks
/// without a family run as inet (network.subr's compatibility), except in
/// `ifconfig_IF_aliases`, where rc.d ignores them.
fn push_chunks<'a>(
    cmds: &mut Vec<IfconfigCall<'a>>,
    a: &'a Assignment,
    iface: &str,
    legacy: bool,
    toks: &Rc<[Token<'a>]>,
    ch: &[ifconfig::Chunk],
) {
    let aliases_var = a.name.ends_with("_aliases");
    for chunk in ch {
        if chunk.af.is_none() && aliases_var {
            continue;
        }
        let Some(words) = toks.get(chunk.start..chunk.end) else {
            continue;
        };
        let mut c = ifconfig::parse(words, chunk.af.or(Some(AddressFamily::Inet)));
        if matches!(chunk.af, Some(AddressFamily::Link | AddressFamily::Ether)) {
            continue;
        }
        // Token indices of the chunk are relative to it: shift them back.
        shift(&mut c, chunk.start);
        cmds.push(IfconfigCall {
            a,
            iface: iface.to_string(),
            legacy,
            toks: Rc::clone(toks),
            c,
        });
    }
}

/// Make a chunk's token indices refer to the whole value.
fn shift(c: &mut Command, by: usize) {
    macro_rules! sh {
        ($($f:ident),*) => { $( if let Some(f) = &mut c.$f { f.tok += by; } )* };
    }
    sh!(
        vhid,
        advskew,
        advbase,
        pass,
        state,
        peer,
        peer6,
        carpver,
        vrrpprio,
        vrrpinterval
    );
    for a in &mut c.addresses {
        a.tok += by;
    }
    for u in &mut c.unknown {
        *u += by;
    }
    for h in &mut c.hostnames {
        *h += by;
    }
    for b in &mut c.bad_addresses {
        *b += by;
    }
    for i in &mut c.issues {
        i.tok += by;
    }
}

/// The findings of one command, in the context rc.conf gives it.
fn command_issues(rc: &mut RcConf, c: &IfconfigCall<'_>) {
    for i in &c.c.issues {
        rc.issues.push(Issue::new(
            i.code,
            c.pos(i.tok),
            format!("{}: {}", c.a.name, i.message),
        ));
    }
    if c.legacy && c.c.is_carp() {
        let pos = c.a.pos;
        rc.legacy = Some(rc.legacy.map_or(pos, |p| p.min(pos)));
        rc.issues.push(Issue::new(
            Code::LegacySyntax,
            pos,
            format!(
                "{} is the FreeBSD 9 form (a carp interface): since FreeBSD 10 the vhid goes on \
                 the parent interface as an alias; run `carpctl migrate FILE` to rewrite it \
                 (ifconfig_IF_aliasN=\"inet vhid ... alias ADDR/32\", carp_load in loader.conf)",
                c.a.name
            ),
        ));
    }
    if !c.c.is_carp() {
        return;
    }
    if c.c.vhid.is_some() && !c.legacy {
        rc.modern = true;
    }
    for &u in &c.c.unknown {
        let word = c.toks.get(u).map_or("", |t| t.text);
        rc.issues.push(Issue::new(
            Code::NotAnAddress,
            c.pos(u),
            format!(
                "{}: `{word}` is not a keyword ifconfig knows, so it takes it as an address, and \
                 it is not one: ifconfig fails here and the line is not configured{}",
                c.a.name,
                if word.contains('“') || word.contains('”') {
                    ""
                } else {
                    " (a keyword missing its value, or a typo?)"
                }
            ),
        ));
    }
    for &h in &c.c.hostnames {
        let word = c.toks.get(h).map_or("", |t| t.text);
        rc.issues.push(Issue::new(
            Code::NotEvaluated,
            c.pos(h),
            format!(
                "{}: `{word}` looks like a host name; ifconfig resolves it at boot (lint does \
                 not), which fails without DNS: prefer the address",
                c.a.name
            ),
        ));
    }
    if c.c.vhid.is_some()
        && c.c.addresses.is_empty()
        && c.c.hostnames.is_empty()
        && c.c.unknown.is_empty()
        && c.c.bad_addresses.is_empty()
        && !c.c.remove
    {
        let pos = c.c.vhid.as_ref().map_or(c.a.pos, |f| c.pos(f.tok));
        rc.issues.push(Issue::new(
            Code::NoAddress,
            pos,
            format!(
                "{}: this vhid line has no address, so the vhid gets none and never runs (a vhid \
                 advertises only with an address); add the VIP's address",
                c.a.name
            ),
        ));
    }
    if let Some(e) = c.a.expansion {
        rc.issues.push(Issue::new(
            Code::NotEvaluated,
            e,
            format!(
                "{}: lint does not expand variables; checked as written",
                c.a.name
            ),
        ));
    }
}

/// Merge the commands of each (interface, vhid) into one entry; report
/// settings given twice with different values.
fn merge(rc: &mut RcConf, cmds: &[IfconfigCall<'_>]) {
    let mut out: Vec<VhidEntry> = Vec::new();
    let mut index: HashMap<(String, u8), usize> = HashMap::new();
    // The addresses of each entry of `out`, to drop repeats in O(1).
    let mut seen: Vec<HashSet<IpAddr>> = Vec::new();
    for c in cmds {
        let Some(vhid) = &c.c.vhid else { continue };
        let pos_of = |tok: usize| c.pos(tok);
        let idx = index.get(&(c.iface.clone(), vhid.value)).copied();
        if idx.is_none() {
            index.insert((c.iface.clone(), vhid.value), out.len());
            seen.push(HashSet::new());
        }
        let Some(seen) = seen.get_mut(idx.unwrap_or(out.len())) else {
            continue;
        };
        let e = match idx {
            Some(i) => match out.get_mut(i) {
                Some(e) => e,
                None => continue,
            },
            None => {
                out.push(VhidEntry {
                    iface: c.iface.clone(),
                    legacy: c.legacy,
                    parent: None,
                    parent_candidates: Vec::new(),
                    vhid: vhid.value,
                    pos: pos_of(vhid.tok),
                    var: c.a.name.clone(),
                    advskew: 0,
                    advskew_pos: None,
                    advskew_unknown: false,
                    advbase: 1,
                    pass: None,
                    version: 2,
                    vrrpprio: None,
                    addresses: Vec::new(),
                });
                match out.last_mut() {
                    Some(e) => e,
                    None => continue,
                }
            }
        };
        let fresh = idx.is_none();
        let conflict = |what: &str, tok: usize, issues: &mut Vec<Issue>| {
            issues.push(Issue::new(
                Code::DuplicateVhid,
                pos_of(tok),
                format!(
                    "vhid {} on {} is configured again with a different {what} (first at line {}): \
                     ifconfig keeps the last value for the whole vhid; configure it once",
                    vhid.value, c.iface, e.pos.line
                ),
            ));
        };
        let mut issues = Vec::new();
        if let Some(f) = &c.c.advskew {
            if !fresh && e.advskew_pos.is_some() && e.advskew != f.value {
                conflict("advskew", f.tok, &mut issues);
            }
            e.advskew = f.value;
            e.advskew_pos = Some(pos_of(f.tok + 1));
        }
        if c.c.missing.contains(&"advskew")
            || c.c.issues.iter().any(|i| {
                i.code == Code::BadValue
                    && c.toks
                        .get(i.tok.wrapping_sub(1))
                        .is_some_and(|t| t.text == "advskew")
            })
        {
            e.advskew_unknown = true;
        }
        if let Some(f) = &c.c.advbase {
            if !fresh && e.advbase != f.value {
                conflict("advbase", f.tok, &mut issues);
            }
            e.advbase = f.value;
        }
        if let Some(f) = &c.c.pass {
            if !fresh && e.pass.as_ref().is_some_and(|(p, _)| p != &f.value) {
                conflict("password", f.tok, &mut issues);
            }
            e.pass = Some((f.value.clone(), pos_of(f.tok + 1)));
        }
        if let Some(f) = &c.c.carpver {
            if !fresh && e.version != f.value {
                conflict("carpver", f.tok, &mut issues);
            }
            e.version = f.value;
        }
        if let Some(f) = &c.c.vrrpprio {
            e.vrrpprio = Some(f.value);
        }
        for x in &c.c.addresses {
            // Bounded: one command holds at most a few ranges of 2048.
            if e.addresses.len() < 4096 && seen.insert(x.net.addr()) {
                e.addresses.push((x.net, pos_of(x.tok)));
            }
        }
        rc.issues.extend(issues);
    }
    // FreeBSD 9: two carp interfaces with one vhid.
    let mut first_legacy: HashMap<u8, usize> = HashMap::new();
    for (i, e) in out.iter().enumerate() {
        if !e.legacy {
            continue;
        }
        let first = *first_legacy.entry(e.vhid).or_insert(i);
        if let Some(other) = out.get(first).filter(|o| o.iface != e.iface) {
            rc.issues.push(Issue::new(
                Code::DuplicateVhid,
                e.pos,
                format!(
                    "vhid {} is used by {} too (line {}): one vhid per segment; give each carp \
                     interface its own vhid",
                    e.vhid, other.iface, other.pos.line
                ),
            ));
        }
    }
    for e in &out {
        if e.version != 3 && e.pass.is_none() {
            rc.issues.push(Issue::new(
                Code::NoPassword,
                e.pos,
                format!(
                    "vhid {} on {} has no pass: any host on the segment can send advertisements \
                     for it and take its addresses; add pass with the same password on every node",
                    e.vhid,
                    rc.display_name(&e.iface)
                ),
            ));
        }
    }
    rc.vhids = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(rc: &RcConf) -> Vec<(Code, usize)> {
        rc.issues.iter().map(|i| (i.code, i.pos.line)).collect()
    }

    #[test]
    fn handbook_10_form_is_clean() {
        let rc = analyze(
            "hostname=\"hosta.example.org\"\n\
             ifconfig_em0=\"inet 192.168.1.3 netmask 255.255.255.0\"\n\
             ifconfig_em0_alias0=\"inet vhid 1 pass testpass alias 192.168.1.50/32\"\n",
        );
        assert!(rc.issues.is_empty(), "{:?}", rc.issues);
        assert_eq!(rc.hostname.as_deref(), Some("hosta"));
        assert_eq!(rc.vhids.len(), 1);
        let v = &rc.vhids[0];
        assert_eq!(
            (v.iface.as_str(), v.vhid, v.advskew, v.advbase),
            ("em0", 1, 0, 1)
        );
        assert_eq!(v.addresses[0].0.to_string(), "192.168.1.50/32");
        assert_eq!(
            v.pos,
            Pos {
                line: 3,
                column: 27
            }
        );
        assert!(rc.modern && rc.legacy.is_none());
        assert_eq!(rc.interfaces["em0"].own[0].to_string(), "192.168.1.3/24");
    }

    #[test]
    fn legacy_form_is_found_and_its_parent_resolved() {
        let rc = analyze(
            "ifconfig_fxp0=\"inet 192.168.1.3 netmask 255.255.255.0\"\n\
             cloned_interfaces=\"carp0\"\n\
             ifconfig_carp0=\"vhid 1 pass testpass 192.168.1.50/24\"\n",
        );
        assert_eq!(
            codes(&rc),
            [(Code::LegacySyntax, 2), (Code::LegacySyntax, 3)]
        );
        assert_eq!(
            rc.legacy,
            Some(Pos {
                line: 2,
                column: 20
            })
        );
        let v = &rc.vhids[0];
        assert!(v.legacy);
        assert_eq!(v.parent.as_deref(), Some("fxp0"));
        assert_eq!(v.real_iface(), Some("fxp0"));
    }

    #[test]
    fn aliases_without_inet_and_gaps() {
        let rc = analyze(
            "ifconfig_em0=\"inet 10.0.0.2/24\"\n\
             ifconfig_em0_alias0=\"vhid 1 pass x alias 10.0.0.50/32\"\n\
             ifconfig_em0_alias2=\"inet vhid 2 pass x alias 10.0.0.51/32\"\n",
        );
        assert_eq!(codes(&rc), [(Code::MissingInet, 2), (Code::AliasGap, 3)]);
        assert_eq!(rc.vhids.len(), 2, "both still read");
        let rc = analyze(
            "ifconfig_em0_alias0=\"\"\nifconfig_em0_alias1=\"inet vhid 1 pass x 10.0.0.5/32\"\n",
        );
        assert_eq!(codes(&rc), [(Code::AliasGap, 1)]);
        assert!(rc.vhids.is_empty(), "an empty alias stops the list");
    }

    #[test]
    fn aliases_list_words_before_inet_are_ignored() {
        let rc = analyze(
            "ifconfig_em1_aliases=\"\\\nvhid 12 advskew 210 pass p 192.168.1.11/32 \\\ninet vhid 13 pass p 192.168.1.12/32\"\n",
        );
        assert_eq!(codes(&rc), [(Code::AliasesIgnored, 2)]);
        assert_eq!(rc.vhids.len(), 1);
        assert_eq!(rc.vhids[0].vhid, 13);
    }

    #[test]
    fn vip_outside_the_interface_subnet() {
        let rc = analyze(
            "ifconfig_em1=\"inet 38.111.159.78/32\"\n\
             ifconfig_em1_alias0=\"inet vhid 12 pass p 192.168.1.11/32\"\n",
        );
        assert_eq!(codes(&rc), [(Code::VipOutsideSubnet, 2)]);
        assert!(rc.issues[0].message.contains("38.111.159.78/32"));
        // Unknown own address (DHCP): nothing to say.
        let rc = analyze(
            "ifconfig_em1=\"DHCP\"\nifconfig_em1_alias0=\"inet vhid 12 pass p 192.168.1.11/32\"\n",
        );
        assert!(rc.issues.is_empty(), "{:?}", rc.issues);
    }

    #[test]
    fn vlan_interfaces_by_either_name() {
        let rc = analyze(
            "vlans_em0=\"100\"\n\
             ifconfig_em0_100=\"inet 10.1.0.2/24\"\n\
             ifconfig_em0_100_alias0=\"inet vhid 5 pass p alias 10.9.0.5/32\"\n",
        );
        assert_eq!(codes(&rc), [(Code::VipOutsideSubnet, 3)]);
        assert!(
            rc.issues[0].message.contains("em0.100"),
            "{}",
            rc.issues[0].message
        );
    }

    #[test]
    fn merged_vhid_settings_and_conflicts() {
        let rc = analyze(
            "ifconfig_em0_alias0=\"inet vhid 1 advskew 100 pass x alias 10.0.0.50/32\"\n\
             ifconfig_em0_alias1=\"inet vhid 1 alias 10.0.0.51/32\"\n\
             ifconfig_em0_alias2=\"inet vhid 1 advskew 0 alias 10.0.0.52/32\"\n",
        );
        assert_eq!(codes(&rc), [(Code::DuplicateVhid, 3)]);
        let v = &rc.vhids[0];
        assert_eq!(v.addresses.len(), 3);
        assert_eq!(v.advskew, 0, "the last one wins");
        assert!(v.pass.is_some(), "kept from alias0");
    }

    #[test]
    fn no_password_and_vrrp_exemption() {
        let rc = analyze("ifconfig_em0_alias0=\"inet vhid 1 alias 10.0.0.50/32\"\n");
        assert_eq!(codes(&rc), [(Code::NoPassword, 1)]);
        let rc = analyze(
            "ifconfig_em0_alias0=\"inet vhid 1 carpver 3 vrrpprio 100 alias 10.0.0.50/32\"\n",
        );
        assert!(rc.issues.is_empty(), "{:?}", rc.issues);
    }

    #[test]
    fn kld_list_ucarp_and_duplicates() {
        let rc = analyze(
            "kld_list=\"carp pf\"\nkld_list=\"pf carp\"\nucarp_enable=\"YES\"\nucarp_vhid=\"3\"\n",
        );
        assert!(rc.kld_carp);
        assert_eq!(
            codes(&rc),
            [(Code::DuplicateAssignment, 2), (Code::Ucarp, 3)]
        );
        assert_eq!(rc.ucarp_vhid, Some(3));
    }

    #[test]
    fn ipv6_aliases() {
        let rc = analyze(
            "ifconfig_em0_ipv6=\"inet6 2001:db8::3/64\"\n\
             ifconfig_em0_alias0=\"inet6 vhid 1 pass x 2001:db8::50 prefixlen 128 alias\"\n\
             ifconfig_em0_alias1=\"vhid 2 pass x 2001:db8::51/128\"\n",
        );
        assert_eq!(codes(&rc), [(Code::MissingInet, 3), (Code::BadValue, 3)]);
        assert!(rc.issues[0].message.contains("inet6"));
        assert_eq!(rc.vhids[0].addresses[0].0.to_string(), "2001:db8::50/128");
    }
}
