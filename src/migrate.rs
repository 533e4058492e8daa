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
//! **import.** Each node's rc.conf is read as lint reads it; the vhids that
//! the nodes share on a segment become one `[[vip]]`, with the nodes
//! ordered by their advertisement interval (lowest first: the intended
//! MASTER) as `prefer`. carpctl derives the advskews from that order
//! itself. Passwords are not copied into the cluster file: each VIP gets a
//! `password_file` and the caller is told which rc.conf line holds the
//! password to put in it, so no password is ever printed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::ops::Range;
use std::path::PathBuf;

use ipnet::IpNet;

use crate::lint::cluster::{self, Member};
use crate::lint::rcconf::{self, RcConf, VhidEntry};
use crate::lint::sh::Assignment;
use crate::lint::{Issue, Severity};

/// Why a migration or an import cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrateError {
    /// The lines to rewrite have errors: fixing them comes first.
    #[error("{} has errors in the lines to convert; fix them first (carpctl lint shows them)", file.display())]
    Invalid { file: PathBuf, issues: Vec<Issue> },
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
}

/// `--parent carp0=em0`, parsed.
pub fn parse_parent(arg: &str) -> Result<(String, String), String> {
    let Some((carp, parent)) = arg.split_once('=') else {
        return Err(format!("`{arg}` is not CARP=PARENT, e.g. carp0=em0"));
    };
    if !rcconf::is_carp_iface(carp) {
        return Err(format!(
            "`{carp}` is not a carp interface name (carp0, carp1, ...)"
        ));
    }
    if parent.is_empty()
        || parent.len() > carpctl_sys::IFNAMSIZ - 1
        || parent.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '/' | '$' | '`' | '\\')
        })
        || rcconf::is_carp_iface(parent)
    {
        return Err(format!(
            "`{parent}` is not a usable parent interface name (at most 15 bytes, no spaces, \
             quotes or slashes, not a carp interface)"
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
    pub notes: Vec<String>,
    /// Whether anything was rewritten.
    pub changed: bool,
}

/// Quote a value for a double-quoted sh string.
fn sh_quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        if matches!(c, '"' | '$' | '`' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The host prefix of an address: /32 or /128.
fn host(a: &IpNet) -> IpNet {
    IpNet::new(a.addr(), a.max_prefix_len()).unwrap_or(*a)
}

/// The carp settings of an entry as ifconfig words: `vhid N [advskew S]
/// [advbase B] [pass P]` (plus carpver/vrrpprio for VRRPv3).
fn carp_words(e: &VhidEntry) -> String {
    let mut w = format!("vhid {}", e.vhid);
    if e.version == 3 {
        w.push_str(" carpver 3");
        if let Some(p) = e.vrrpprio {
            let _ = write!(w, " vrrpprio {p}");
        }
        return w;
    }
    if e.advskew != 0 {
        let _ = write!(w, " advskew {}", e.advskew);
    }
    if e.advbase != 1 {
        let _ = write!(w, " advbase {}", e.advbase);
    }
    if let Some((p, _)) = &e.pass {
        let _ = write!(w, " pass {}", p.0);
    }
    w
}

/// Resolve the parent of a FreeBSD 9 entry: `--parent`, else the single
/// interface whose subnet holds its VIPs.
fn parent_of(
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
    let legacy_var = |name: &str| {
        name.strip_prefix("ifconfig_")
            .map(|r| r.split('_').next().unwrap_or(r))
            .is_some_and(rcconf::is_carp_iface)
    };
    // Errors on the lines to convert stop the migration.
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
                && legacy_lines.iter().any(|r| r.contains(&i.pos.line))
        })
        .cloned()
        .collect();
    if !bad.is_empty() {
        return Err(MigrateError::Invalid {
            file: file.to_path_buf(),
            issues: bad,
        });
    }
    let legacy: Vec<&VhidEntry> = rc.vhids.iter().filter(|e| e.legacy).collect();
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

    let mut notes = Vec::new();
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    // Next free alias number per parent (rc.conf name).
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
    for e in &legacy {
        let parent = parent_of(file, e, parents)?;
        let pv = rcconf::var_name(&parent);
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
            lines.push(format!("{name}={}", sh_quote(&value)));
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
        notes.push(format!(
            "{} (vhid {}) -> {} on {parent}",
            e.iface,
            e.vhid,
            if names.is_empty() {
                "nothing (it has no address)".to_string()
            } else {
                names.join(", ")
            }
        ));
    }
    // cloned_interfaces without the carp interfaces.
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
            .filter(|w| !rcconf::is_carp_iface(w.split(':').next().unwrap_or(w)))
            .collect();
        if kept.len() == words.len() {
            continue;
        }
        let text = if kept.is_empty() {
            String::new()
        } else {
            format!("cloned_interfaces={}", sh_quote(&kept.join(" ")))
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

/// Apply byte-range replacements (non-overlapping). A replacement that
/// leaves its line blank removes the line.
fn apply_edits(src: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = src.to_string();
    for (r, text) in edits {
        if r.start > r.end
            || r.end > out.len()
            || !out.is_char_boundary(r.start)
            || !out.is_char_boundary(r.end)
        {
            continue;
        }
        let line_start = out
            .get(..r.start)
            .and_then(|s| s.rfind('\n'))
            .map_or(0, |i| i + 1);
        let line_end = out
            .get(r.end..)
            .and_then(|s| s.find('\n'))
            .map_or(out.len(), |i| r.end + i);
        let before = out.get(line_start..r.start).unwrap_or("");
        let after = out.get(r.end..line_end).unwrap_or("");
        if text.is_empty() && before.trim().is_empty() && after.trim().is_empty() {
            // Remove the whole line, with its newline.
            let end = if line_end < out.len() {
                line_end + 1
            } else {
                line_end
            };
            out.replace_range(line_start..end, "");
        } else {
            out.replace_range(r, &text);
        }
    }
    out
}

/// One node's rc.conf for `import`.
#[derive(Debug, Clone)]
pub struct ImportNode {
    /// The node's name in the cluster file (`NAME=FILE`), else from the
    /// rc.conf `hostname`, else from the file name.
    pub name: Option<String>,
    pub path: PathBuf,
    pub text: String,
}

/// A key file the caller must create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    /// Relative to the cluster file's directory.
    pub path: String,
    pub vip: String,
    /// Where the password is: file and line.
    pub source: PathBuf,
    pub line: usize,
}

/// What `import` produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub toml: String,
    pub key_files: Vec<KeyFile>,
    /// What was decided or dropped, for standard error (no passwords).
    pub notes: Vec<String>,
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A usable node name from a hostname or file name.
fn clean_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_whitespace() || c.is_control() || c == '"' {
                '-'
            } else {
                c
            }
        })
        .collect()
}

/// Build a cluster file from the nodes' rc.conf files. `parents` names
/// the parent of FreeBSD 9 carp interfaces, for every node.
pub fn import(
    nodes: &[ImportNode],
    parents: &BTreeMap<String, String>,
) -> Result<Imported, MigrateError> {
    let rcs: Vec<RcConf> = nodes.iter().map(|n| rcconf::analyze(&n.text)).collect();
    let mut notes = Vec::new();
    // Node names.
    let mut names: Vec<String> = Vec::new();
    for (i, (n, rc)) in nodes.iter().zip(&rcs).enumerate() {
        let name = n
            .name
            .clone()
            .or_else(|| rc.hostname.clone())
            .or_else(|| {
                let (_, stem) = cluster::node_key(&n.path);
                (!stem.is_empty()).then_some(stem)
            })
            .unwrap_or_else(|| format!("node{}", i + 1));
        let name = clean_name(&name);
        if name.is_empty() {
            return Err(MigrateError::BadNode(format!(
                "{}: the node name is empty",
                n.path.display()
            )));
        }
        if names.contains(&name) {
            return Err(MigrateError::BadNode(format!(
                "two files give node name \"{name}\" ({}); name them: carpctl import NAME=FILE ...",
                n.path.display()
            )));
        }
        names.push(name);
    }
    for (n, rc) in nodes.iter().zip(&rcs) {
        let errors: Vec<&Issue> = rc
            .issues
            .iter()
            .filter(|i| i.code.severity() == Severity::Error)
            .collect();
        if !errors.is_empty() {
            notes.push(format!(
                "{} has {} error(s) (carpctl lint shows them); what could not be read was left out",
                n.path.display(),
                errors.len()
            ));
        }
    }
    let items: Vec<(usize, usize, &RcConf)> =
        rcs.iter().enumerate().map(|(i, rc)| (i, i, rc)).collect();
    let (members, groups) = cluster::virtual_routers(&items);
    if members.is_empty() {
        return Err(MigrateError::NoVhids(
            nodes
                .iter()
                .map(|n| n.path.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    // The real interface of each member.
    let mut real: Vec<String> = Vec::with_capacity(members.len());
    for m in &members {
        let path = nodes
            .get(m.node)
            .map(|n| n.path.clone())
            .unwrap_or_default();
        let r = if m.e.legacy {
            parent_of(&path, m.e, parents)?
        } else {
            m.rc.show(&m.e.iface)
        };
        real.push(r);
    }

    // Interfaces: the real name when every node agrees, else a logical one.
    let mut node_maps: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); nodes.len()];
    let mut logical_count = 0;
    let mut vips = String::new();
    let mut key_files = Vec::new();
    let mut vip_names: Vec<String> = Vec::new();
    for g in &groups {
        let ms: Vec<(usize, &Member<'_>)> = g
            .iter()
            .filter_map(|&i| members.get(i).map(|m| (i, m)))
            .collect();
        let Some(&(first_i, first)) = ms.first() else {
            continue;
        };
        let vhid = first.e.vhid;
        let ifaces: Vec<&str> = ms
            .iter()
            .filter_map(|(i, _)| real.get(*i).map(String::as_str))
            .collect();
        let first_if = real.get(first_i).cloned().unwrap_or_default();
        let interface = if ifaces.iter().all(|i| *i == first_if) {
            first_if.clone()
        } else {
            // Reuse a logical name whose mapping agrees on these nodes.
            let fits = |l: &String| {
                ms.iter().all(|(i, m)| {
                    node_maps
                        .get(m.node)
                        .and_then(|map| map.get(l))
                        .is_none_or(|r| Some(r) == real.get(*i))
                })
            };
            let reuse = (0..logical_count)
                .map(|k| format!("net{k}"))
                .find(|l| fits(l));
            let name = reuse.unwrap_or_else(|| {
                logical_count += 1;
                format!("net{}", logical_count - 1)
            });
            for (i, m) in &ms {
                if let (Some(map), Some(r)) = (node_maps.get_mut(m.node), real.get(*i)) {
                    map.insert(name.clone(), r.clone());
                }
            }
            name
        };
        let mut vip_name = format!("vhid{vhid}");
        if vip_names.contains(&vip_name) {
            vip_name = format!("vhid{vhid}-{}", first_if.replace(['.', '/'], "_"));
        }
        let mut k = 2;
        while vip_names.contains(&vip_name) {
            vip_name = format!("vhid{vhid}-{k}");
            k += 1;
        }
        vip_names.push(vip_name.clone());
        // Addresses: the union, in the order first seen; FreeBSD 9 VIPs
        // carried the subnet prefix, aliases want the host prefix.
        let mut addrs: Vec<IpNet> = Vec::new();
        for (_, m) in &ms {
            for (a, _) in &m.e.addresses {
                let a = if m.e.legacy { host(a) } else { *a };
                if !addrs.iter().any(|b| b.addr() == a.addr()) {
                    addrs.push(a);
                }
            }
        }
        for (_, m) in &ms {
            let mine: Vec<IpAddr> = m.e.addresses.iter().map(|(a, _)| a.addr()).collect();
            if mine.len() != addrs.len() {
                notes.push(format!(
                    "vhid {vhid}: {} lists {} of the {} addresses; the cluster file has them all",
                    names.get(m.node).map_or("?", String::as_str),
                    mine.len(),
                    addrs.len()
                ));
            }
        }
        // The order: best priority first; unknown skews last; then the
        // order of the files.
        let mut order: Vec<&Member<'_>> = ms.iter().map(|(_, m)| *m).collect();
        order.sort_by_key(|m| (m.e.advskew_unknown, cluster::priority(m.e), m.node));
        let prefer: Vec<String> = order
            .iter()
            .filter_map(|m| names.get(m.node).map(|n| toml_str(n)))
            .collect();
        // The password: in a key file.
        let pass_holder = ms.iter().find(|(_, m)| m.e.pass.is_some()).map(|(_, m)| *m);
        let differ = ms.iter().any(|(_, m)| {
            m.e.pass.as_ref().map(|p| &p.0)
                != pass_holder.and_then(|h| h.e.pass.as_ref()).map(|p| &p.0)
        });
        let _ = writeln!(vips, "\n[[vip]]");
        let _ = writeln!(vips, "name = {}", toml_str(&vip_name));
        let _ = writeln!(vips, "vhid = {vhid}");
        let _ = writeln!(vips, "interface = {}", toml_str(&interface));
        let list: Vec<String> = addrs.iter().map(|a| toml_str(&a.to_string())).collect();
        let _ = writeln!(vips, "addresses = [{}]", list.join(", "));
        if let Some(h) = pass_holder
            && let Some((_, pos)) = &h.e.pass
        {
            let key = format!("carpctl.d/{vip_name}.key");
            let _ = writeln!(vips, "password_file = {}", toml_str(&key));
            key_files.push(KeyFile {
                path: key,
                vip: vip_name.clone(),
                source: nodes
                    .get(h.node)
                    .map(|n| n.path.clone())
                    .unwrap_or_default(),
                line: pos.line,
            });
            if differ {
                notes.push(format!(
                    "vhid {vhid}: the nodes' passwords differ (carpctl lint reports where); the \
                     cluster file has one password_file for all of them"
                ));
            }
        } else if first.e.version != 3 {
            notes.push(format!(
                "vhid {vhid}: no node sets a password; carpctl will warn about it"
            ));
        }
        let _ = writeln!(vips, "prefer = [{}]", prefer.join(", "));
        let advbases: Vec<u8> = ms.iter().map(|(_, m)| m.e.advbase).collect();
        if let Some(&b) = advbases.first()
            && b != 1
            && advbases.iter().all(|x| *x == b)
        {
            let _ = writeln!(vips, "advbase = {b}");
        }
        if ms.iter().any(|(_, m)| m.e.version == 3) {
            notes.push(format!(
                "vhid {vhid}: VRRPv3 (carpver 3) is not in the cluster file; carpctl configures CARP"
            ));
        }
        if ms.len() == 1 {
            notes.push(format!(
                "vhid {vhid} is configured on {} only",
                names.get(first.node).map_or("?", String::as_str)
            ));
        }
    }
    notes.push(
        "advskews come from each VIP's prefer order (rank x advskew_step), not from the rc.conf values"
            .into(),
    );

    let mut toml = String::new();
    toml.push_str("# carpctl.toml(5), made by carpctl import from:\n");
    for (n, name) in nodes.iter().zip(&names) {
        let _ = writeln!(toml, "#   {name}: {}", n.path.display());
    }
    toml.push_str(
        "# Passwords are not copied here: create the key files listed by carpctl import\n\
         # (mode 0600, the same content on every node), then remove the vhid lines from\n\
         # each node's rc.conf before `carpctl apply`.\n\n",
    );
    toml.push_str("[cluster]\npreempt = true\n");
    for (i, name) in names.iter().enumerate() {
        let _ = writeln!(toml, "\n[[node]]\nname = {}", toml_str(name));
        if let Some(map) = node_maps.get(i)
            && !map.is_empty()
        {
            let pairs: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k} = {}", toml_str(v)))
                .collect();
            let _ = writeln!(toml, "interfaces = {{ {} }}", pairs.join(", "));
        }
    }
    toml.push_str(&vips);
    Ok(Imported {
        toml,
        key_files,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parents(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    const HANDBOOK_9_HOSTC: &str = "hostname=\"hostc.example.org\"\n\
        ifconfig_fxp0=\"inet 192.168.1.5 netmask 255.255.255.0\"\n\
        cloned_interfaces=\"carp0 carp1\"\n\
        ifconfig_carp0=\"vhid 1 advskew 100 pass testpass 192.168.1.50/24\"\n\
        ifconfig_carp1=\"vhid 2 advskew 100 pass testpass 192.168.1.51/24\"\n";

    #[test]
    fn the_handbook_9_form_becomes_the_handbook_10_form() {
        let m = migrate(Path::new("rc.conf"), HANDBOOK_9_HOSTC, &BTreeMap::new()).unwrap();
        assert!(m.changed);
        let expected = "hostname=\"hostc.example.org\"\n\
            ifconfig_fxp0=\"inet 192.168.1.5 netmask 255.255.255.0\"\n\
            ifconfig_fxp0_alias0=\"inet vhid 1 advskew 100 pass testpass alias 192.168.1.50/32\"\n\
            ifconfig_fxp0_alias1=\"inet vhid 2 advskew 100 pass testpass alias 192.168.1.51/32\"\n";
        assert!(m.text.starts_with(expected), "{}", m.text);
        assert!(m.text.contains("#   carp_load=\"YES\"\n"));
        assert!(
            m.notes
                .iter()
                .any(|n| n == "carp0 (vhid 1) -> ifconfig_fxp0_alias0 on fxp0"),
            "{:?}",
            m.notes
        );
    }

    #[test]
    fn other_cloned_interfaces_and_lines_are_kept() {
        let src = "cloned_interfaces=\"lo1 carp0\" # keep me\nifconfig_em0=\"inet 10.0.0.2/24\"\n\
                   ifconfig_em0_alias0=\"inet 10.0.0.9/32\"\nifconfig_carp0=\"vhid 3 pass p 10.0.0.50/24\"\n";
        let m = migrate(Path::new("rc.conf"), src, &BTreeMap::new()).unwrap();
        assert_eq!(
            m.text.lines().take(4).collect::<Vec<_>>(),
            [
                "cloned_interfaces=\"lo1\" # keep me",
                "ifconfig_em0=\"inet 10.0.0.2/24\"",
                "ifconfig_em0_alias0=\"inet 10.0.0.9/32\"",
                "ifconfig_em0_alias1=\"inet vhid 3 pass p alias 10.0.0.50/32\"",
            ]
        );
    }

    #[test]
    fn an_unknown_parent_is_asked_for() {
        let src = "cloned_interfaces=\"carp0\"\nifconfig_carp0=\"vhid 1 pass p 192.168.1.50/24\"\n";
        let e = migrate(Path::new("a.rc.conf"), src, &BTreeMap::new()).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, MigrateError::NoParent { .. }), "{e:?}");
        assert!(
            msg.contains("--parent carp0=IF")
                && msg.contains("192.168.1.0/24 (the subnet of 192.168.1.50/24)"),
            "{msg}"
        );
        let m = migrate(
            Path::new("a.rc.conf"),
            src,
            &parents(&[("carp0", "em0.100")]),
        )
        .unwrap();
        assert!(
            m.text.starts_with(
                "ifconfig_em0_100_alias0=\"inet vhid 1 pass p alias 192.168.1.50/32\"\n"
            ),
            "{}",
            m.text
        );
    }

    #[test]
    fn an_ambiguous_parent_names_the_candidates() {
        let src = "ifconfig_em0=\"inet 10.0.0.2/16\"\nifconfig_em1=\"inet 10.0.1.2/24\"\n\
                   cloned_interfaces=\"carp0\"\nifconfig_carp0=\"vhid 1 pass p 10.0.1.50/24\"\n";
        let e = migrate(Path::new("rc.conf"), src, &BTreeMap::new()).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("em0 or em1") && msg.contains("--parent carp0=IF"),
            "{msg}"
        );
    }

    #[test]
    fn errors_in_the_lines_to_convert_stop_it() {
        let src =
            "cloned_interfaces=\"carp0\"\nifconfig_carp0=\"vhid 1 advskew pass my_password1\"\n";
        let e = migrate(Path::new("b.rc.conf"), src, &parents(&[("carp0", "em0")])).unwrap_err();
        match e {
            MigrateError::Invalid { issues, .. } => assert!(issues.iter().all(|i| i.pos.line == 2)),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn parent_args_are_checked() {
        assert_eq!(
            parse_parent("carp0=em0"),
            Ok(("carp0".into(), "em0".into()))
        );
        assert!(parse_parent("em0").is_err());
        assert!(parse_parent("em0=em1").is_err());
        assert!(parse_parent("carp0=").is_err());
        assert!(parse_parent("carp0=a b").is_err());
        assert!(parse_parent("carp0=carp1").is_err());
        let e = migrate(
            Path::new("rc.conf"),
            HANDBOOK_9_HOSTC,
            &parents(&[("carp7", "em0")]),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("configures no carp7 (it has carp0, carp1)"),
            "{e}"
        );
    }

    #[test]
    fn nothing_to_migrate() {
        let src = "ifconfig_em0=\"DHCP\"\n";
        let m = migrate(Path::new("rc.conf"), src, &BTreeMap::new()).unwrap();
        assert!(!m.changed);
        assert_eq!(m.text, src);
    }

    #[test]
    fn passwords_are_quoted_for_sh() {
        assert_eq!(sh_quote("a\"b$c`d\\e"), "\"a\\\"b\\$c\\`d\\\\e\"");
        assert_eq!(toml_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000A\"");
    }

    #[test]
    fn edits_remove_blank_lines_and_keep_the_rest() {
        let src = "a=1\nb=2 # c\nc=3";
        let out = apply_edits(src, vec![(4..7, String::new()), (12..15, String::new())]);
        assert_eq!(out, "a=1\n # c\n");
        let out = apply_edits("x\ny=1\nz\n", vec![(2..5, String::new())]);
        assert_eq!(out, "x\nz\n");
    }

    #[test]
    fn import_the_handbook_10_cluster() {
        let a = "hostname=\"hosta.example.org\"\nifconfig_em0=\"inet 192.168.1.3 netmask 255.255.255.0\"\n\
                 ifconfig_em0_alias0=\"inet vhid 1 pass testpass alias 192.168.1.50/32\"\n";
        let b = "hostname=\"hostb.example.org\"\nifconfig_em0=\"inet 192.168.1.4 netmask 255.255.255.0\"\n\
                 ifconfig_em0_alias0=\"inet vhid 2 pass testpass alias 192.168.1.51/32\"\n";
        let c = "hostname=\"hostc.example.org\"\nifconfig_igb0=\"inet 192.168.1.5 netmask 255.255.255.0\"\n\
                 ifconfig_igb0_alias0=\"inet vhid 1 advskew 100 pass testpass alias 192.168.1.50/32\"\n\
                 ifconfig_igb0_alias1=\"inet vhid 2 advskew 100 pass testpass alias 192.168.1.51/32\"\n";
        let nodes: Vec<ImportNode> = [("a/rc.conf", a), ("b/rc.conf", b), ("c/rc.conf", c)]
            .iter()
            .map(|(p, t)| ImportNode {
                name: None,
                path: p.into(),
                text: t.to_string(),
            })
            .collect();
        let out = import(&nodes, &BTreeMap::new()).unwrap();
        assert!(out.toml.contains("name = \"hosta\""));
        assert!(
            out.toml.contains("interfaces = { net0 = \"igb0\" }"),
            "{}",
            out.toml
        );
        assert!(
            out.toml.contains("interfaces = { net0 = \"em0\" }"),
            "{}",
            out.toml
        );
        assert!(!out.toml.contains("net1"), "{}", out.toml);
        assert!(
            out.toml.contains("prefer = [\"hosta\", \"hostc\"]"),
            "{}",
            out.toml
        );
        assert!(
            out.toml.contains("prefer = [\"hostb\", \"hostc\"]"),
            "{}",
            out.toml
        );
        assert!(!out.toml.contains("testpass"), "passwords stay out");
        assert_eq!(out.key_files.len(), 2);
        assert_eq!(out.key_files[0].path, "carpctl.d/vhid1.key");
        assert_eq!(out.key_files[0].line, 3);
    }
}
