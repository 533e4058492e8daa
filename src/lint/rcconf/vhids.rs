//! The vhids of one rc.conf: the findings of each ifconfig command in its
//! rc.conf context, and the merge of the commands of one (interface,
//! vhid) into one `VhidEntry`, with conflicting settings reported.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use super::{IfconfigCall, Issue, RcConf, VhidEntry};
use crate::lint::codes::Code;

/// The findings of one command, in the context rc.conf gives it.
pub(super) fn command_issues(rc: &mut RcConf, c: &IfconfigCall<'_>) {
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
pub(super) fn merge(rc: &mut RcConf, cmds: &[IfconfigCall<'_>]) {
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
