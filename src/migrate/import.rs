//! `carpctl import`: a cluster file from the rc.conf files of a cluster's
//! nodes. Each node's rc.conf is read as lint reads it; the vhids that the
//! nodes share on a segment become one `[[vip]]`, with the nodes ordered by
//! their advertisement interval (lowest first: the intended MASTER) as
//! `prefer`. carpctl derives the advskews from that order itself.
//! Passwords are not copied into the cluster file: each VIP gets a
//! `password_file` and the caller is told which rc.conf line holds the
//! password to put in it, so no password is ever printed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;

use super::{MigrateError, host, parent_of};
use crate::lint::cluster::{self, Member};
use crate::lint::rcconf::{self, RcConf};
use crate::lint::{Issue, Severity};

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
pub(super) fn toml_str(s: &str) -> String {
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
#[allow(
    clippy::too_many_lines,
    reason = "split into one named step each on branch h11errors (issue 11)"
)]
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
        let r = if m.entry.legacy {
            parent_of(&path, m.entry, parents)?
        } else {
            m.rc.display_name(&m.entry.iface)
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
        let vhid = first.entry.vhid;
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
            for (a, _) in &m.entry.addresses {
                let a = if m.entry.legacy { host(a) } else { *a };
                if !addrs.iter().any(|b| b.addr() == a.addr()) {
                    addrs.push(a);
                }
            }
        }
        for (_, m) in &ms {
            let mine: Vec<IpAddr> = m.entry.addresses.iter().map(|(a, _)| a.addr()).collect();
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
        order.sort_by_key(|m| (m.entry.advskew_unknown, cluster::priority(m.entry), m.node));
        let prefer: Vec<String> = order
            .iter()
            .filter_map(|m| names.get(m.node).map(|n| toml_str(n)))
            .collect();
        // The password: in a key file.
        let pass_holder = ms
            .iter()
            .find(|(_, m)| m.entry.pass.is_some())
            .map(|(_, m)| *m);
        let differ = ms.iter().any(|(_, m)| {
            m.entry.pass.as_ref().map(|p| &p.0)
                != pass_holder
                    .and_then(|h| h.entry.pass.as_ref())
                    .map(|p| &p.0)
        });
        let _ = writeln!(vips, "\n[[vip]]");
        let _ = writeln!(vips, "name = {}", toml_str(&vip_name));
        let _ = writeln!(vips, "vhid = {vhid}");
        let _ = writeln!(vips, "interface = {}", toml_str(&interface));
        let list: Vec<String> = addrs.iter().map(|a| toml_str(&a.to_string())).collect();
        let _ = writeln!(vips, "addresses = [{}]", list.join(", "));
        if let Some(h) = pass_holder
            && let Some((_, pos)) = &h.entry.pass
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
        } else if first.entry.version != 3 {
            notes.push(format!(
                "vhid {vhid}: no node sets a password; carpctl will warn about it"
            ));
        }
        let _ = writeln!(vips, "prefer = [{}]", prefer.join(", "));
        let advbases: Vec<u8> = ms.iter().map(|(_, m)| m.entry.advbase).collect();
        if let Some(&b) = advbases.first()
            && b != 1
            && advbases.iter().all(|x| *x == b)
        {
            let _ = writeln!(vips, "advbase = {b}");
        }
        if ms.iter().any(|(_, m)| m.entry.version == 3) {
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
