//! The vhids of one rc.conf: the findings of each ifconfig command in its
//! rc.conf context, and the merge of the commands of one (interface,
//! vhid) into one `VhidEntry`, with conflicting settings reported.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use super::{IfconfigCall, Issue, RcConf};
use crate::lint::codes::Code;
use crate::rcconf::ifconfig::{Field, ProblemKind};
use crate::rcconf::model::VhidEntry;

/// The findings of one command, in the context rc.conf gives it.
pub(super) fn command_issues(rc: &mut RcConf, c: &IfconfigCall<'_>) {
    for i in &c.c.problems {
        rc.issues.push(Issue::new(
            i.kind.into(),
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
        if let Some(issue) = placeholder(c, u, word) {
            rc.issues.push(issue);
            continue;
        }
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
        if let Some(issue) = placeholder(c, h, word) {
            rc.issues.push(issue);
            continue;
        }
        rc.issues.push(Issue::new(
            Code::VipHostname,
            c.pos(h),
            format!(
                "{}: `{word}` is a host name, not an address: ifconfig resolves it at boot \
                 (netif runs before local_unbound and often before the name server is \
                 reachable), and the line fails when it cannot; a VIP must not depend on DNS: \
                 write the address",
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

/// CARP096: `word` (token `tok` of `c`) is a redacted or template
/// address, which no resolver answers.
fn placeholder(c: &IfconfigCall<'_>, tok: usize, word: &str) -> Option<Issue> {
    if !is_placeholder(word) {
        return None;
    }
    Some(Issue::new(
        Code::VipPlaceholder,
        c.pos(tok),
        format!(
            "{}: `{word}` is a placeholder (a redacted or template address), not an address: \
             ifconfig fails here at boot; put the real address",
            c.a.name
        ),
    ))
}

/// Whether an address word is a placeholder: a dotted quad whose parts
/// are each a number or a mask (`xxx`, `XX`, `*`, `#`, `?`, `_`, or a lone
/// letter as in `A.B.C.D`), with at least one mask
/// (`208.180.xxx.xxx`, `10.0.0.x/24`); or IPv6 groups with an `xxxx`.
pub(super) fn is_placeholder(word: &str) -> bool {
    let addr = word.split('/').next().unwrap_or(word);
    let masked = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|ch| matches!(ch, 'x' | 'X' | '*' | '#' | '?' | '_'))
    };
    if addr.contains(':') {
        let groups: Vec<&str> = addr.split(':').collect();
        return groups.iter().any(|g| masked(g))
            && groups
                .iter()
                .all(|g| masked(g) || (g.len() <= 4 && g.bytes().all(|b| b.is_ascii_hexdigit())));
    }
    let parts: Vec<&str> = addr.split('.').collect();
    let mask = |p: &str| masked(p) || (p.len() == 1 && p.bytes().all(|b| b.is_ascii_alphabetic()));
    let number = |p: &str| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit());
    parts.len() == 4 && parts.iter().any(|p| mask(p)) && parts.iter().all(|p| mask(p) || number(p))
}

/// Merge the commands of each (interface, vhid) into one entry; report
/// settings given twice with different values.
pub(super) fn merge(rc: &mut RcConf, cmds: &[IfconfigCall<'_>]) {
    let mut merged = Merged::default();
    for c in cmds {
        let Some(vhid) = &c.c.vhid else { continue };
        let issues = merged.add(c, vhid);
        rc.issues.extend(issues);
    }
    legacy_duplicates(rc, &merged.entries);
    no_password(rc, &merged.entries);
    rc.vhids = merged.entries;
}

/// The commands merged so far: one entry per (interface, vhid).
#[derive(Default)]
struct Merged {
    entries: Vec<VhidEntry>,
    index: HashMap<(String, u8), usize>,
    /// The addresses of each entry of `entries`, to drop repeats in O(1).
    seen: Vec<HashSet<IpAddr>>,
}

impl Merged {
    /// Merge one command that configures `vhid` into its entry (a new one
    /// for the first command); the conflicting settings it gives.
    fn add(&mut self, c: &IfconfigCall<'_>, vhid: &Field<u8>) -> Vec<Issue> {
        let mut issues = Vec::new();
        let idx = self.index.get(&(c.iface.clone(), vhid.value)).copied();
        if idx.is_none() {
            self.index
                .insert((c.iface.clone(), vhid.value), self.entries.len());
            self.seen.push(HashSet::new());
        }
        let Some(seen) = self.seen.get_mut(idx.unwrap_or(self.entries.len())) else {
            return issues;
        };
        let e = match idx {
            Some(i) => match self.entries.get_mut(i) {
                Some(e) => e,
                None => return issues,
            },
            None => {
                self.entries.push(new_entry(c, vhid));
                match self.entries.last_mut() {
                    Some(e) => e,
                    None => return issues,
                }
            }
        };
        settings(c, vhid.value, e, idx.is_none(), &mut issues);
        for x in &c.c.addresses {
            // Bounded: one command holds at most a few ranges of 2048.
            if e.addresses.len() < 4096 && seen.insert(x.net.addr()) {
                e.addresses.push((x.net, c.pos(x.tok)));
            }
        }
        issues
    }
}

/// The entry of a vhid first configured by `c`, with carp(4)'s defaults.
fn new_entry(c: &IfconfigCall<'_>, vhid: &Field<u8>) -> VhidEntry {
    VhidEntry {
        iface: c.iface.clone(),
        legacy: c.legacy,
        parent: None,
        parent_candidates: Vec::new(),
        vhid: vhid.value,
        pos: c.pos(vhid.tok),
        var: c.a.name.clone(),
        advskew: 0,
        advskew_pos: None,
        advskew_unknown: false,
        advbase: 1,
        pass: None,
        version: 2,
        vrrpprio: None,
        vrrpinterval: None,
        vrrp_words: None,
        peer: None,
        peer6: None,
        addresses: Vec::new(),
    }
}

/// Take the settings of `c` into `e`; `DuplicateVhid` for each one that
/// differs from what an earlier command gave (`fresh`: `e` is new).
fn settings(
    c: &IfconfigCall<'_>,
    vhid: u8,
    e: &mut VhidEntry,
    fresh: bool,
    issues: &mut Vec<Issue>,
) {
    let first_line = e.pos.line;
    let conflict = |what: &str, tok: usize, issues: &mut Vec<Issue>| {
        issues.push(Issue::new(
            Code::DuplicateVhid,
            c.pos(tok),
            format!(
                "vhid {} on {} is configured again with a different {what} (first at line {}): \
                 ifconfig keeps the last value for the whole vhid; configure it once",
                vhid, c.iface, first_line
            ),
        ));
    };
    if let Some(f) = &c.c.advskew {
        if !fresh && e.advskew_pos.is_some() && e.advskew != f.value {
            conflict("advskew", f.tok, issues);
        }
        e.advskew = f.value;
        e.advskew_pos = Some(c.pos(f.tok + 1));
    }
    if c.c.missing.contains(&"advskew")
        || c.c.problems.iter().any(|i| {
            i.kind == ProblemKind::BadValue
                && c.toks
                    .get(i.tok.wrapping_sub(1))
                    .is_some_and(|t| t.text == "advskew")
        })
    {
        e.advskew_unknown = true;
    }
    if let Some(f) = &c.c.advbase {
        if !fresh && e.advbase != f.value {
            conflict("advbase", f.tok, issues);
        }
        e.advbase = f.value;
    }
    if let Some(f) = &c.c.pass {
        if !fresh && e.pass.as_ref().is_some_and(|(p, _)| p != &f.value) {
            conflict("password", f.tok, issues);
        }
        e.pass = Some((f.value.clone(), c.pos(f.tok + 1)));
    }
    if e.vrrp_words.is_none() {
        e.vrrp_words = [
            ("carpver", c.c.carpver.as_ref().map(|f| f.tok)),
            ("vrrpprio", c.c.vrrpprio.as_ref().map(|f| f.tok)),
            ("vrrpinterval", c.c.vrrpinterval.as_ref().map(|f| f.tok)),
        ]
        .into_iter()
        .filter_map(|(w, tok)| tok.map(|t| (w, t)))
        .min_by_key(|(_, t)| *t)
        .map(|(w, t)| (w, c.pos(t)));
    }
    if let Some(f) = &c.c.carpver {
        if !fresh && e.version != f.value {
            conflict("carpver", f.tok, issues);
        }
        e.version = f.value;
    }
    if let Some(f) = &c.c.vrrpprio {
        e.vrrpprio = Some(f.value);
    }
    vrrp_pass_elsewhere(c, e, issues);
    if let Some(f) = &c.c.vrrpinterval {
        e.vrrpinterval = Some(f.value);
    }
    if let Some(f) = &c.c.peer {
        e.peer = Some((f.value, c.pos(f.tok + 1)));
    }
    if let Some(f) = &c.c.peer6 {
        e.peer6 = Some((f.value, c.pos(f.tok + 1)));
    }
}

/// `VrrpMixed` across commands: `pass` on one line of a vhid that
/// `carpver 3` makes VRRPv3 on another (within one command the ifconfig
/// reader says it). VRRPv3 has no authentication (RFC 5798 §9), and
/// `vrrp_send_ad_locked()` sends no HMAC: the kernel ignores the password.
fn vrrp_pass_elsewhere(c: &IfconfigCall<'_>, e: &VhidEntry, issues: &mut Vec<Issue>) {
    if e.version != 3 {
        return;
    }
    let here = c.c.is_vrrp();
    let (tok, message) = match (&c.c.pass, &c.c.carpver) {
        (Some(f), _) if !here => (
            f.tok,
            format!(
                "pass is a CARP option, ignored: vhid {} is VRRPv3 (carpver 3 on another line), \
                 which has no authentication",
                e.vhid
            ),
        ),
        (None, Some(f)) if here && e.pass.is_some() => (
            f.tok,
            format!(
                "carpver 3 makes vhid {} VRRPv3, which has no authentication: the pass given \
                 on line {} is ignored",
                e.vhid,
                e.pass.as_ref().map_or(0, |p| p.1.line)
            ),
        ),
        _ => return,
    };
    issues.push(Issue::new(Code::VrrpMixed, c.pos(tok), message));
}

/// `DuplicateVhid`, FreeBSD 9 form: two carp interfaces with one vhid.
fn legacy_duplicates(rc: &mut RcConf, entries: &[VhidEntry]) {
    let mut first_legacy: HashMap<u8, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if !e.legacy {
            continue;
        }
        let first = *first_legacy.entry(e.vhid).or_insert(i);
        if let Some(other) = entries.get(first).filter(|o| o.iface != e.iface) {
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
}

/// `NoPassword`: a CARP vhid without pass.
fn no_password(rc: &mut RcConf, entries: &[VhidEntry]) {
    for e in entries {
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
}
