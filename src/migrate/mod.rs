//! Adopting existing configurations: `carpctl migrate` rewrites a FreeBSD 9
//! rc.conf into the FreeBSD 10 form, and `carpctl import` builds a cluster
//! file from the rc.conf files of a cluster's nodes.
//!
//! **migrate.** FreeBSD 10 removed the carp pseudo-interface (carp.4,
//! HISTORY; docs/freebsd-carp.md §2): a vhid is configured on its parent interface and
//! its addresses are aliases of the parent. The Handbook shows both forms
//! of one configuration (freebsd-doc `_index.adoc` @ `000c4bca`,
//! `[[carp-9x]]` and `[[carp-10x]]`):
//!
//! ```text
//! cloned_interfaces="carp0"                          # FreeBSD 9
//! ifconfig_carp0="vhid 1 advskew 100 pass testpass 192.168.1.50/24"
//! ifconfig_em0_alias0="inet vhid 1 advskew 100 pass testpass alias 192.168.1.50/32"   # 10+
//! ```
//!
//! so each carpN becomes one `ifconfig_PARENT_aliasK` per address, on the
//! parent whose own subnet holds the VIP, with the Handbook's host prefix
//! (/32, /128: the parent's own address supplies the subnet), numbered
//! after the parent's existing aliases without gaps. The `carpN` entries
//! leave `cloned_interfaces`. Everything else in the file is kept byte for
//! byte. When no interface's subnet holds a VIP, or more than one does, the
//! parent must be named (`--parent carp0=em0`). The loader.conf change
//! (`if_carp_load` -> `carp_load`) cannot go into rc.conf: it is printed as
//! a comment block at the end of the output.
//!
//! **import**: see [`import`].

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;
use std::path::PathBuf;

use ipnet::IpNet;

use crate::lint::rcconf::{self, RcConf};
use crate::lint::{Code, Issue, Severity};
use crate::model::IfName;
use crate::rcconf::edit::apply_edits;
use crate::rcconf::model::VhidEntry;
use crate::rcconf::names::{is_carp_iface, var_name};
use crate::rcconf::render::carp_words;
use crate::rcconf::sh::{self, Assignment};

mod election;
mod import;

pub use import::{ImportNode, Imported, KeyFile, import};

/// Why a migration or an import cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrateError {
    /// The lines to rewrite have errors, or sh cannot read the file as
    /// meant: fixing them comes first. `next` says how to go on when
    /// fixing needs what the file does not say (a vhid's address).
    #[error("{} has errors in the lines to convert; fix them first (carpctl lint shows them){next}", file.display())]
    Invalid {
        file: PathBuf,
        issues: Vec<Issue>,
        next: String,
    },
    /// Several interfaces could be the parent.
    #[error(
        "{}: {carp} (vhid {vhid}) could go on {}: each has a subnet holding {vip}; \
         say which with --parent {carp}=IF",
        file.display(),
        candidates.join(" or ")
    )]
    Ambiguous {
        file: PathBuf,
        carp: String,
        vhid: u8,
        vip: IpAddr,
        candidates: Vec<String>,
    },
    /// No interface could be the parent.
    #[error(
        "{}: cannot tell which interface {carp} (vhid {vhid}) belongs on: no interface in this \
         file has an address in {}; say which with --parent {carp}=IF",
        file.display(),
        vip.map_or_else(|| "the subnet of its VIP (it has none)".to_string(), |v| format!("{} (the subnet of {v})", v.trunc()))
    )]
    NoParent {
        file: PathBuf,
        carp: String,
        vhid: u8,
        vip: Option<IpNet>,
    },
    /// `--parent` names a carp interface that no file configures, or an
    /// impossible interface name.
    #[error("--parent {0}")]
    BadParentArg(String),
    /// Nothing to import.
    #[error("no vhid is configured in {0}")]
    NoVhids(String),
    /// Node names clash or cannot be used.
    #[error("{0}")]
    BadNode(String),
    /// What the rc.conf files configure cannot be said in a cluster file
    /// (`import`).
    #[error("{}:{line}: {why}", file.display())]
    Inexpressible {
        file: PathBuf,
        line: usize,
        why: String,
    },
}

/// `--parent carp0=em0`, parsed.
pub(crate) fn parse_parent(arg: &str) -> Result<(String, String), String> {
    let Some((carp, parent)) = arg.split_once('=') else {
        return Err(format!("`{arg}` is not CARP=PARENT, e.g. carp0=em0"));
    };
    if !is_carp_iface(carp) {
        return Err(format!(
            "`{carp}` is not a carp interface name (carp0, carp1, ...)"
        ));
    }
    if let Err(e) = IfName::check(parent.as_bytes()) {
        return Err(format!(
            "`{parent}` is not a usable parent interface name: {e}"
        ));
    }
    if is_carp_iface(parent) {
        return Err(format!(
            "`{parent}` is not a usable parent interface name: it is a carp interface"
        ));
    }
    Ok((carp.to_string(), parent.to_string()))
}

/// What `migrate` produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// The new rc.conf.
    pub text: String,
    /// What was done, for standard error (no passwords).
    pub(crate) notes: Vec<String>,
    /// Whether anything was rewritten.
    pub(crate) changed: bool,
}

/// The host prefix of an address: /32 or /128.
pub(super) fn host(a: &IpNet) -> IpNet {
    IpNet::new(a.addr(), a.max_prefix_len()).unwrap_or(*a)
}

/// Resolve the parent of a FreeBSD 9 entry: `--parent`, else the single
/// interface whose subnet holds its VIPs.
pub(super) fn parent_of(
    file: &std::path::Path,
    e: &VhidEntry,
    parents: &BTreeMap<String, String>,
) -> Result<String, MigrateError> {
    if let Some(p) = parents.get(&e.iface) {
        return Ok(p.clone());
    }
    if let Some(p) = &e.parent {
        return Ok(p.clone());
    }
    let vip = e.addresses.first().map(|(a, _)| *a);
    if e.parent_candidates.len() > 1 {
        return Err(MigrateError::Ambiguous {
            file: file.to_path_buf(),
            carp: e.iface.clone(),
            vhid: e.vhid,
            vip: vip.map_or(IpAddr::from([0, 0, 0, 0]), |v| v.addr()),
            candidates: e.parent_candidates.clone(),
        });
    }
    Err(MigrateError::NoParent {
        file: file.to_path_buf(),
        carp: e.iface.clone(),
        vhid: e.vhid,
        vip,
    })
}

/// Rewrite a FreeBSD 9 rc.conf (`src`, read from `file`) into the FreeBSD
/// 10 form. `parents` maps carp interfaces to their parent (`--parent`).
pub fn migrate(
    file: &std::path::Path,
    src: &str,
    parents: &BTreeMap<String, String>,
) -> Result<Migrated, MigrateError> {
    let rc = rcconf::analyze(src);
    refuse_errors(file, &rc)?;
    let legacy: Vec<&VhidEntry> = rc.vhids.iter().filter(|e| e.legacy).collect();
    check_parent_args(file, &legacy, parents)?;
    let mut notes = Vec::new();
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut next = next_aliases(&rc);
    for e in &legacy {
        let parent = parent_of(file, e, parents)?;
        notes.push(convert(&rc, e, &parent, &mut next, &mut edits));
    }
    drop_cloned_carps(&rc, &mut edits, &mut notes);
    if edits.is_empty() {
        return Ok(Migrated {
            text: src.to_string(),
            notes: vec!["nothing to migrate: no FreeBSD 9 carp configuration".to_string()],
            changed: false,
        });
    }
    let mut text = apply_edits(src, edits);
    if !text.ends_with('\n') && !text.is_empty() {
        text.push('\n');
    }
    text.push_str(
        "# carpctl migrate: FreeBSD 10 and later load carp.ko, not if_carp.ko.\n\
         # In /boot/loader.conf, replace\n\
         #   if_carp_load=\"YES\"\n\
         # with\n\
         #   carp_load=\"YES\"\n",
    );
    notes.push("loader.conf: replace if_carp_load=\"YES\" with carp_load=\"YES\" (see the end of the output)".into());
    Ok(Migrated {
        text,
        notes,
        changed: true,
    })
}

/// Errors on the lines to convert (`ifconfig_carpN*`, `cloned_interfaces`)
/// stop the migration, and so does any sh error in the file (an
/// unterminated or typographic quote): the reader cannot tell what such a
/// line assigns, so a rewrite could keep a broken carp line or number a
/// new alias that a broken one overrides.
fn refuse_errors(file: &std::path::Path, rc: &RcConf) -> Result<(), MigrateError> {
    let legacy_var = |name: &str| {
        name.strip_prefix("ifconfig_")
            .map(|r| r.split('_').next().unwrap_or(r))
            .is_some_and(is_carp_iface)
    };
    let legacy_lines: Vec<Range<usize>> = rc
        .sh
        .assignments
        .iter()
        .filter(|a| legacy_var(&a.name) || a.name == "cloned_interfaces")
        .map(|a| a.pos.line..a.end_line + 1)
        .collect();
    let bad: Vec<Issue> = rc
        .issues
        .iter()
        .filter(|i| {
            i.code.severity() == Severity::Error
                && (matches!(i.code, Code::ShSyntax | Code::TypographicQuote)
                    || legacy_lines.iter().any(|r| r.contains(&i.pos.line)))
        })
        .cloned()
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    let next = if bad.iter().any(|i| i.code == Code::NoAddress) {
        "; a vhid without an address cannot be converted, since the address is what \
         migrate moves: add it, or go on with `carpctl import NODE=FILE... --parent carpN=IF \
         > carpctl.toml`, which writes a cluster file whose VIPs without an address are \
         marked FILL IN, to complete before `carpctl apply`"
            .to_string()
    } else {
        String::new()
    };
    Err(MigrateError::Invalid {
        file: file.to_path_buf(),
        issues: bad,
        next,
    })
}

/// Every `--parent carpN=IF` must name a carp interface the file configures.
fn check_parent_args(
    file: &std::path::Path,
    legacy: &[&VhidEntry],
    parents: &BTreeMap<String, String>,
) -> Result<(), MigrateError> {
    let known: Vec<&str> = legacy.iter().map(|e| e.iface.as_str()).collect();
    for carp in parents.keys() {
        if !known.contains(&carp.as_str()) {
            return Err(MigrateError::BadParentArg(format!(
                "{carp}=...: {} configures no {carp}{}",
                file.display(),
                if known.is_empty() {
                    String::new()
                } else {
                    format!(" (it has {})", known.join(", "))
                }
            )));
        }
    }
    Ok(())
}

/// The next free alias number per parent (rc.conf name).
fn next_aliases(rc: &RcConf) -> BTreeMap<String, u32> {
    let mut next: BTreeMap<String, u32> = BTreeMap::new();
    for a in &rc.sh.assignments {
        if let Some(rest) = a.name.strip_prefix("ifconfig_")
            && let Some(k) = rest.rfind("_alias")
            && let Ok(n) = rest[k + "_alias".len()..].parse::<u32>()
        {
            let slot = next.entry(rest[..k].to_string()).or_insert(0);
            *slot = (*slot).max(n + 1);
        }
    }
    next
}

/// One FreeBSD 9 carpN: an `ifconfig_PARENT_aliasK` per address, in
/// place of its assignments; the note saying so.
fn convert(
    rc: &RcConf,
    e: &VhidEntry,
    parent: &str,
    next: &mut BTreeMap<String, u32>,
    edits: &mut Vec<(Range<usize>, String)>,
) -> String {
    let pv = var_name(parent);
    let mut lines = Vec::new();
    let mut names = Vec::new();
    for (addr, _) in &e.addresses {
        let k = next.entry(pv.clone()).or_insert(0);
        let af = if addr.addr().is_ipv6() {
            "inet6"
        } else {
            "inet"
        };
        let value = format!("{af} {} alias {}", carp_words(e), host(addr));
        let name = format!("ifconfig_{pv}_alias{k}");
        lines.push(format!("{name}={}", sh::quote(&value)));
        names.push(name);
        *k += 1;
    }
    // The carpN assignments: the last ifconfig_carpN (or the first of
    // its others) is replaced by the new lines, the rest removed.
    let mine: Vec<&Assignment> = rc
        .sh
        .assignments
        .iter()
        .filter(|a| {
            a.name
                .strip_prefix("ifconfig_")
                .is_some_and(|r| r == e.iface || r.starts_with(&format!("{}_", e.iface)))
        })
        .collect();
    let anchor = mine
        .iter()
        .rev()
        .find(|a| a.name == format!("ifconfig_{}", e.iface))
        .or(mine.first())
        .map(|a| a.range.clone());
    for a in &mine {
        let text = if Some(&a.range) == anchor.as_ref() {
            lines.join("\n")
        } else {
            String::new()
        };
        edits.push((a.range.clone(), text));
    }
    format!(
        "{} (vhid {}) -> {} on {parent}",
        e.iface,
        e.vhid,
        if names.is_empty() {
            "nothing (it has no address)".to_string()
        } else {
            names.join(", ")
        }
    )
}

/// `cloned_interfaces` without the carp interfaces.
fn drop_cloned_carps(
    rc: &RcConf,
    edits: &mut Vec<(Range<usize>, String)>,
    notes: &mut Vec<String>,
) {
    for a in rc
        .sh
        .assignments
        .iter()
        .filter(|a| a.name == "cloned_interfaces")
    {
        let words: Vec<&str> = a.value.split_whitespace().collect();
        let kept: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| !is_carp_iface(w.split(':').next().unwrap_or(w)))
            .collect();
        if kept.len() == words.len() {
            continue;
        }
        let text = if kept.is_empty() {
            String::new()
        } else {
            format!("cloned_interfaces={}", sh::quote(&kept.join(" ")))
        };
        edits.push((a.range.clone(), text));
        notes.push(format!(
            "cloned_interfaces: removed {}",
            words
                .iter()
                .filter(|w| !kept.contains(w))
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
}

#[cfg(test)]
mod tests;
