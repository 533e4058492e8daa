//! What the sh level of an rc.conf says: syntax problems, commands, and
//! variables set twice.
//!
//! rc.conf is not read once: `load_rc_config` (`libexec/rc/rc.subr`)
//! sources it in every rc script that runs at boot (and in `service`), so
//! a command in it runs dozens of times, in whatever order the scripts
//! run, before the network is up for most of them (CARP090). Only the
//! assignments are rc.conf(5); a bare command is a mistake, except the
//! few sh built-ins that only shape the file itself (`.`, `source`,
//! `export`, conditionals).
//!
//! A variable set twice keeps its last value only (sh assignment), so
//! the first value is gone at boot: harmless when both say the same
//! thing (CARP003, a warning), an error when the first configured a vhid
//! or a VIP that the last does not (CARP091).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use super::{Issue, RcConf};
use crate::lint::codes::Code;
use crate::rcconf::ifconfig::{self, AddressFamily};
use crate::rcconf::names::{IfconfigVar, classify};
use crate::rcconf::sh::{Assignment, ShFile};

/// First words that do not run a program: sh built-ins and reserved
/// words that only shape the file (sourcing, exporting, conditionals,
/// function definitions). Anything else runs at every source.
const HARMLESS: &[&str] = &[
    ".", "source", ":", "true", "false", "export", "readonly", "unset", "set", "local", "if",
    "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done", "in", "{",
    "}", "!", "[", "test", "return",
];

/// Whether a command's first word is one of [`HARMLESS`], or a function
/// definition (`name()`).
fn harmless(word: &str) -> bool {
    HARMLESS.contains(&word) || word.ends_with("()") || word.ends_with(')')
}

/// Syntax problems, commands, variables set twice.
pub(super) fn sh_issues(rc: &mut RcConf, sh: &ShFile) {
    for p in &sh.problems {
        rc.issues
            .push(Issue::new(p.kind.into(), p.pos, p.message.clone()));
    }
    for o in &sh.others {
        rc.issues.push(if harmless(&o.word) {
            Issue::new(
                Code::NotEvaluated,
                o.pos,
                format!(
                    "`{}` is a command, not an assignment: lint does not run it",
                    o.word
                ),
            )
        } else {
            Issue::new(
                Code::CommandLine,
                o.pos,
                format!(
                    "`{}` is a command in rc.conf: every rc script sources rc.conf \
                     (load_rc_config in rc.subr), so it runs many times at boot, mostly before \
                     the network is up, and again at every `service` call; start it from an rc.d \
                     script (rc.conf then only sets NAME_enable=\"YES\"), or from rc.local",
                    o.word
                ),
            )
        });
    }
    overrides(rc, sh);
}

/// CARP091 for each assignment whose vhids or VIPs the winning (last)
/// one drops; CARP003 for the other repeats.
fn overrides(rc: &mut RcConf, sh: &ShFile) {
    let mut last: HashMap<&str, &Assignment> = HashMap::new();
    for a in &sh.assignments {
        last.insert(a.name.as_str(), a);
    }
    let mut lossy: HashSet<&str> = HashSet::new();
    for a in &sh.assignments {
        if let Some(winner) = last.get(a.name.as_str()).copied()
            && !std::ptr::eq(a, winner)
            && let Some(issue) = lost_carp(a, winner)
        {
            rc.issues.push(issue);
            lossy.insert(a.name.as_str());
        }
    }
    for (later, first) in sh.duplicates() {
        if lossy.contains(later.name.as_str()) {
            continue;
        }
        let same = if later.value == first.value {
            " with the same value"
        } else {
            ", and the later value wins"
        };
        rc.issues.push(Issue::duplicate_assignment(
            &later.name,
            later.pos,
            first.pos.line,
            same,
        ));
    }
}

/// The vhids and VIPs of an ifconfig variable's value.
fn carp_of(value: &str) -> (BTreeSet<u8>, BTreeSet<IpAddr>) {
    let toks = ifconfig::split(value);
    let mut vhids = BTreeSet::new();
    let mut vips = BTreeSet::new();
    for ch in ifconfig::chunks(&toks) {
        let Some(words) = toks.get(ch.start..ch.end) else {
            continue;
        };
        let c = ifconfig::parse(words, ch.af.or(Some(AddressFamily::Inet)));
        if let Some(v) = &c.vhid {
            vhids.insert(v.value);
            vips.extend(c.addresses.iter().map(|a| a.net.addr()));
        }
    }
    (vhids, vips)
}

/// CARP091: `first` configured vhids or VIPs that `winner`, the value
/// in force at boot, does not.
fn lost_carp(first: &Assignment, winner: &Assignment) -> Option<Issue> {
    if classify(&first.name) == IfconfigVar::Other {
        return None;
    }
    let (vhids, vips) = carp_of(&first.value);
    if vhids.is_empty() {
        return None;
    }
    let (kept_vhids, kept_vips) = carp_of(&winner.value);
    let lost_vhids: Vec<String> = vhids
        .difference(&kept_vhids)
        .map(|v| format!("vhid {v}"))
        .collect();
    let lost_vips: Vec<String> = vips.difference(&kept_vips).map(IpAddr::to_string).collect();
    if lost_vhids.is_empty() && lost_vips.is_empty() {
        return None;
    }
    let lost: Vec<String> = lost_vhids.into_iter().chain(lost_vips).collect();
    Some(Issue::new(
        Code::OverrideDropsVhid,
        winner.pos,
        format!(
            "{} is set again here and the value of line {} is lost at boot (sh keeps the last \
             assignment): {} {} never configured; give each its own variable \
             (the next free ifconfig_IF_aliasN)",
            winner.name,
            first.pos.line,
            lost.join(", "),
            if lost.len() == 1 { "is" } else { "are" }
        ),
    ))
}
