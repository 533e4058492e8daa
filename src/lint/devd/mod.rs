//! devd.conf(5), as far as carp is concerned: statements
//! `notify N { match "key" "regex"; action "..."; };`; every regex is
//! anchored (`"^" + re + "$"`, `REG_EXTENDED`, case sensitive:
//! `sbin/devd/devd.cc` @ `0016700b`, `match::match`; the shipped devd.conf
//! says "All regular expressions have an implicit ^$ around them"), and a
//! leading `!` negates it. CARP events are
//! `system=CARP subsystem=<vhid>@<ifname> type=MASTER|BACKUP|INIT`
//! (docs/freebsd-carp.md §11); FreeBSD 9 signalled them as `IFNET`
//! `LINK_UP` / `LINK_DOWN` of the carpN interface (carp.4 r224879, 2011).

use super::Issue;
use super::codes::Code;
use crate::textfile::Pos;

mod parse;
mod pattern;

pub use parse::DEVD_DEPTH_MAX;
use parse::{DevdParser, DevdToken, devd_tokens};
use pattern::{DevdRegex, MAX_COMPILED, check_syntax, compile};

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
    let mut budget = CompileBudget::default();
    duplicate_notify(&stmts, &mut issues);
    for s in &stmts {
        let is_notify = matches!(s.words.first(), Some((DevdToken::Word(w), _)) if w == "notify");
        let Some(block) = &s.block else { continue };
        let rule = Rule::new(block, &mut issues);
        if !is_notify {
            continue;
        }
        let system = rule.get("system", &mut budget);
        let system_matches = |s: &str| {
            system
                .as_ref()
                .and_then(|(re, _, _)| re.as_ref())
                .is_some_and(|r| !r.negated && r.is_match(s))
        };
        if system_matches("CARP") {
            carp_rule(&rule, &mut budget, &mut issues);
        } else if system.is_none()
            && rule.value("subsystem").is_some_and(names_carp)
            && let Some(sub) = rule.get("subsystem", &mut budget)
        {
            never_matches(&sub, &mut issues);
        }
        if system_matches("IFNET") {
            legacy_ifnet_rule(&rule, &mut budget, &mut issues);
        }
    }
    if let Some(pos) = budget.skipped {
        issues.push(Issue::new(
            Code::NotEvaluated,
            pos,
            format!(
                "lint compiles at most {MAX_COMPILED} regexes of one devd file; the notify rules \
                 from here on were not checked"
            ),
        ));
    }
    issues
}

/// How many regexes of the file were compiled, and where the first one
/// left out for the limit is.
#[derive(Default)]
struct CompileBudget {
    compiled: usize,
    skipped: Option<Pos>,
}

/// The `match "key" "regex"` lines of one block, and whether each regex
/// is usable (no variable, valid syntax).
struct Rule {
    matches: Vec<(String, String, Pos)>,
    usable: Vec<bool>,
}

impl Rule {
    /// Collect the match lines of `block`; `DevdBadRegex` for each regex
    /// devd cannot use. Only the ones the checks need are compiled later.
    fn new(block: &[parse::DevdStatement], issues: &mut Vec<Issue>) -> Self {
        let mut matches: Vec<(String, String, Pos)> = Vec::new();
        for inner in block {
            if let [
                (DevdToken::Word(m), _),
                (DevdToken::Str(k), _),
                (DevdToken::Str(v), vpos),
            ] = inner.words.as_slice()
                && m == "match"
            {
                matches.push((k.clone(), v.clone(), *vpos));
            }
        }
        let mut usable = Vec::with_capacity(matches.len());
        for (k, v, pos) in &matches {
            // devd expands variables first; not evaluated here.
            let ok = !v.contains('$')
                && match check_syntax(v) {
                    Ok(()) => true,
                    Err(e) => {
                        issues.push(Issue::new(
                            Code::DevdBadRegex,
                            *pos,
                            format!("match \"{k}\" \"{v}\": not a valid extended regex ({e}); devd ignores the rule"),
                        ));
                        false
                    }
                };
            usable.push(ok);
        }
        Rule { matches, usable }
    }

    /// The value of the first match of `key`, not compiled.
    fn value(&self, key: &str) -> Option<&str> {
        self.matches
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v.as_str())
    }

    /// The first match of `key`: its regex (none for a value with a
    /// variable, a bad one, or one too large to check), value and place.
    fn get(&self, key: &str, budget: &mut CompileBudget) -> Option<(Option<DevdRegex>, &str, Pos)> {
        let i = self.matches.iter().position(|(k, _, _)| k == key)?;
        let (_, v, pos) = self.matches.get(i)?;
        let re = if !self.usable.get(i).copied().unwrap_or(false) {
            None
        } else if budget.compiled < MAX_COMPILED {
            budget.compiled += 1;
            compile(v)
        } else {
            budget.skipped.get_or_insert(*pos);
            None
        };
        Some((re, v.as_str(), *pos))
    }
}

/// A rule for CARP events: `DevdRegexNarrow` (a subsystem regex that
/// misses vlan-style names), `DevdNoInit` (a type regex without INIT).
fn carp_rule(rule: &Rule, budget: &mut CompileBudget, issues: &mut Vec<Issue>) {
    let subsystem = rule.get("subsystem", budget);
    if let Some(sub) = &subsystem
        && never_matches(sub, issues)
    {
        return;
    }
    if let Some((Some(re), v, pos)) = subsystem
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
                pos,
                format!(
                    "the subsystem regex \"{v}\" does not match {}: devd regexes are \
                     anchored, so events of vlan and other interfaces whose names have \
                     . or _ are lost; use \"{GOOD_SUBSYSTEM}\"",
                    misses.join(" or ")
                ),
            ));
        }
    }
    if let Some((Some(re), v, pos)) = rule.get("type", budget)
        && !re.negated
        && (re.is_match("MASTER") || re.is_match("BACKUP"))
        && !re.is_match("INIT")
    {
        issues.push(Issue::new(
            Code::DevdNoInit,
            pos,
            format!(
                "the type regex \"{v}\" ignores INIT, which a vhid enters when its link \
                 goes down or carp is disabled: the action does not run then; match \
                 \"(MASTER|BACKUP|INIT)\" if it should"
            ),
        ));
    }
}

/// Subsystems of CARP events a CARP rule is expected to match some of.
const CARP_SUBSYSTEMS: &[&str] = &["1@em0", "5@em0.100", "1@lagg0_vlan210", "255@igb1"];

/// `DevdNeverMatches`: a subsystem regex written for carp (`carp*`,
/// `carp[0-9]`) that, anchored, matches no `vhid@interface` at all: devd
/// compiles `"^" + re + "$"` (`sbin/devd/devd.cc` @ `0016700b`,
/// `match::match`) and tests the whole value (`match::do_match`), so
/// `carp*` matches `car`, `carp`, `carpp`, never `carp0` nor `1@em0`.
/// Only regexes that name carp and have no `@` are judged: a rule for
/// one vhid on an interface not in [`CARP_SUBSYSTEMS`] is not. Whether
/// it reported.
fn never_matches(sub: &(Option<DevdRegex>, &str, Pos), issues: &mut Vec<Issue>) -> bool {
    let (Some(re), v, pos) = sub else {
        return false;
    };
    let (v, pos) = (*v, *pos);
    if re.negated || !names_carp(v) || CARP_SUBSYSTEMS.iter().any(|s| re.is_match(s)) {
        return false;
    }
    let carp0 = if re.is_match("carp0") {
        String::new()
    } else {
        " nor carp0,".to_string()
    };
    issues.push(Issue::new(
        Code::DevdNeverMatches,
        pos,
        format!(
            "the subsystem regex \"{v}\" never matches a CARP event: devd anchors every \
             regex (^{v}$) and a CARP event's subsystem is vhid@interface (1@em0),{carp0} so \
             the action never runs; match \"system\" \"CARP\" and \"subsystem\" \
             \"{GOOD_SUBSYSTEM}\""
        ),
    ));
    true
}

/// Whether a subsystem regex is written for carp interfaces: it names
/// carp and has no `@` of `vhid@interface`.
fn names_carp(v: &str) -> bool {
    !v.contains('@') && v.to_ascii_lowercase().contains("carp")
}

/// `DevdDuplicateNotify`: a notify block with the same words (priority,
/// matches, action) as an earlier one: it matches exactly the same events
/// and runs the same action, so it adds nothing, and it was usually meant
/// for the other state (BACKUP after MASTER, LINK_DOWN after LINK_UP),
/// which then has no rule.
fn duplicate_notify(stmts: &[parse::DevdStatement], issues: &mut Vec<Issue>) {
    let mut seen: std::collections::HashMap<Vec<Vec<&DevdToken>>, usize> =
        std::collections::HashMap::new();
    for s in stmts {
        let Some(block) = &s.block else { continue };
        let Some((DevdToken::Word(w), pos)) = s.words.first() else {
            continue;
        };
        if w != "notify" || block.is_empty() {
            continue;
        }
        let mut key: Vec<Vec<&DevdToken>> = vec![s.words.iter().map(|(t, _)| t).collect()];
        key.extend(
            block
                .iter()
                .map(|i| i.words.iter().map(|(t, _)| t).collect()),
        );
        match seen.get(&key) {
            Some(first) => issues.push(Issue::new(
                Code::DevdDuplicateNotify,
                *pos,
                format!(
                    "this notify block repeats the one on line {first} word for word: it matches \
                     the same events and runs the same action, so it adds nothing (or runs the \
                     action twice); was it meant for another type (BACKUP, LINK_DOWN)?"
                ),
            )),
            None => {
                seen.insert(key, pos.line);
            }
        }
    }
}

/// `DevdLegacyIfnet`: a rule for FreeBSD 9's carpN interface events.
fn legacy_ifnet_rule(rule: &Rule, budget: &mut CompileBudget, issues: &mut Vec<Issue>) {
    let Some((re, v, pos)) = rule.get("subsystem", budget) else {
        return;
    };
    if !v.to_ascii_lowercase().contains("carp") {
        return;
    }
    let never = re.as_ref().is_some_and(|r| !r.is_match("carp0"));
    issues.push(Issue::new(
        Code::DevdLegacyIfnet,
        pos,
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

#[cfg(test)]
mod tests;
