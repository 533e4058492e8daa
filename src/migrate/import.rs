//! `carpctl import`: a cluster file from the rc.conf files of a cluster's
//! nodes. Each node's rc.conf is read as lint reads it; the vhids that the
//! nodes share on a segment become one `[[vip]]`, with the nodes ordered by
//! their advertisement interval (lowest first: the intended MASTER) as
//! `prefer`. carpctl derives the advskews from that order itself unless
//! they differ from the files' ([`super::election`]: then they are pinned,
//! as are VRRPv3 priorities; peers, `carpver 3` and `vrrpinterval` are
//! kept too).
//! Passwords are not copied into the cluster file: each VIP gets a
//! `password_file` and the caller is told which rc.conf line holds the
//! password to put in it, so no password is ever printed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;

use super::election::At;
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
    pub(crate) toml: String,
    pub(crate) key_files: Vec<KeyFile>,
    /// What was decided or dropped, for standard error (no passwords).
    pub(crate) notes: Vec<String>,
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

/// A TOML key: bare when it can be, else a basic string (an interface
/// name such as `vlan0.100` would otherwise be a dotted key).
pub(super) fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        s.to_string()
    } else {
        toml_str(s)
    }
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
    let names = node_names(nodes, &rcs)?;
    let mut notes = error_notes(nodes, &rcs);
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
    let real = real_interfaces(nodes, &members, parents)?;
    let mut vips = Vips {
        nodes,
        names: &names,
        real: &real,
        node_maps: vec![BTreeMap::new(); nodes.len()],
        node_addrs: vec![BTreeMap::new(); nodes.len()],
        logical_count: 0,
        text: String::new(),
        key_files: Vec::new(),
        vip_names: Vec::new(),
        notes: &mut notes,
    };
    for g in &groups {
        let ms: Vec<(usize, &Member<'_>)> = g
            .iter()
            .filter_map(|&i| members.get(i).map(|m| (i, m)))
            .collect();
        vips.group(&ms)?;
    }
    let Vips {
        node_maps,
        node_addrs,
        text: vips,
        key_files,
        ..
    } = vips;
    let toml = cluster_file(nodes, &names, (&node_maps, &node_addrs), &vips);
    Ok(Imported {
        toml,
        key_files,
        notes,
    })
}

/// Each node's name: given (`NAME=FILE`), else the rc.conf `hostname`,
/// else the file name, else `nodeN`; none empty, no two alike.
fn node_names(nodes: &[ImportNode], rcs: &[RcConf]) -> Result<Vec<String>, MigrateError> {
    let mut names: Vec<String> = Vec::new();
    for (i, (n, rc)) in nodes.iter().zip(rcs).enumerate() {
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
    Ok(names)
}

/// A note for each rc.conf with errors: what could not be read is left out.
fn error_notes(nodes: &[ImportNode], rcs: &[RcConf]) -> Vec<String> {
    let mut notes = Vec::new();
    for (n, rc) in nodes.iter().zip(rcs) {
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
    notes
}

/// The real interface of each member: its parent for the FreeBSD 9 form.
fn real_interfaces(
    nodes: &[ImportNode],
    members: &[Member<'_>],
    parents: &BTreeMap<String, String>,
) -> Result<Vec<String>, MigrateError> {
    let mut real: Vec<String> = Vec::with_capacity(members.len());
    for m in members {
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
    Ok(real)
}

/// The `[[vip]]` tables, one per virtual router (group of members), and
/// what they need of the nodes: their logical interface maps and key files.
struct Vips<'a> {
    nodes: &'a [ImportNode],
    names: &'a [String],
    /// The real interface of each member ([`real_interfaces`]).
    real: &'a [String],
    /// Per node: logical interface name -> real name.
    node_maps: Vec<BTreeMap<String, String>>,
    /// Per node: interface (as the VIPs name it) -> its own addresses
    /// there (unicast peers), each with where it was read.
    node_addrs: Vec<NodeAddrs>,
    logical_count: usize,
    text: String,
    key_files: Vec<KeyFile>,
    vip_names: Vec<String>,
    notes: &'a mut Vec<String>,
}

impl Vips<'_> {
    /// One virtual router: `ms` are its members with their indices.
    fn group(&mut self, ms: &[(usize, &Member<'_>)]) -> Result<(), MigrateError> {
        let Some(&(first_i, first)) = ms.first() else {
            return Ok(());
        };
        let vhid = first.entry.vhid;
        let first_if = self.real.get(first_i).cloned().unwrap_or_default();
        let interface = self.interface(ms, &first_if);
        let vip_name = self.vip_name(vhid, &first_if);
        let addrs = self.addresses(vhid, ms);
        let order = self.ranked(ms);
        let election = super::election::election(&vip_name, &order, &addrs)?;
        self.node_addresses(&interface, &election.addresses)?;
        self.notes.extend(election.notes);
        let prefer: Vec<String> = order.iter().map(|m| toml_str(&m.name)).collect();
        let _ = writeln!(self.text, "\n[[vip]]");
        let _ = writeln!(self.text, "name = {}", toml_str(&vip_name));
        let _ = writeln!(self.text, "vhid = {vhid}");
        let _ = writeln!(self.text, "interface = {}", toml_str(&interface));
        let list: Vec<String> = addrs.iter().map(|a| toml_str(&a.to_string())).collect();
        if list.is_empty() {
            // No node gives one (the seed's `ifconfig_carp0="vhid 1 ... pass
            // x"`): left for the user, and the cluster file is refused until
            // it is filled in (`addresses` must not be empty).
            let _ = writeln!(
                self.text,
                "# FILL IN: no rc.conf gives vhid {vhid} an address; list its VIPs here"
            );
            self.notes.push(format!(
                "vhid {vhid}: no node gives it an address; the cluster file has \
                 `addresses = []` under a FILL IN comment: list its VIPs there"
            ));
        }
        let _ = writeln!(self.text, "addresses = [{}]", list.join(", "));
        self.password(vhid, &vip_name, ms, first);
        let _ = writeln!(self.text, "prefer = [{}]", prefer.join(", "));
        let advbases: Vec<u8> = ms.iter().map(|(_, m)| m.entry.advbase).collect();
        if let Some(&b) = advbases.first()
            && b != 1
            && first.entry.version != 3
            && advbases.iter().all(|x| *x == b)
        {
            let _ = writeln!(self.text, "advbase = {b}");
        }
        self.text.push_str(&election.lines);
        if ms.len() == 1 {
            self.notes.push(format!(
                "vhid {vhid} is configured on {} only",
                self.names.get(first.node).map_or("?", String::as_str)
            ));
        }
        Ok(())
    }

    /// The members in rank order (the `prefer` list): best priority
    /// first; unknown skews last; then the order of the files.
    fn ranked<'m>(&self, ms: &[(usize, &'m Member<'m>)]) -> Vec<At<'m>> {
        let mut order: Vec<&Member<'_>> = ms.iter().map(|(_, m)| *m).collect();
        order.sort_by_key(|m| (m.entry.advskew_unknown, cluster::priority(m.entry), m.node));
        order
            .into_iter()
            .map(|m| At {
                name: self.names.get(m.node).cloned().unwrap_or_default(),
                file: self
                    .nodes
                    .get(m.node)
                    .map(|n| n.path.display().to_string())
                    .unwrap_or_default(),
                member: m,
            })
            .collect()
    }

    /// Record each node's own address on `interface` (its partner's peer):
    /// one per family and interface, as a vhid has one peer per family.
    fn node_addresses(
        &mut self,
        interface: &str,
        found: &[(usize, IpAddr, String)],
    ) -> Result<(), MigrateError> {
        for (node, ip, at) in found {
            let Some(map) = self.node_addrs.get_mut(*node) else {
                continue;
            };
            let list = map.entry(interface.to_string()).or_default();
            match list.iter().find(|(a, _)| a.is_ipv4() == ip.is_ipv4()) {
                Some((a, _)) if a == ip => {}
                Some((a, first)) => {
                    let (file, line) = at.rsplit_once(':').unwrap_or((at, "0"));
                    return Err(MigrateError::Inexpressible {
                        file: file.into(),
                        line: line.parse().unwrap_or(0),
                        why: format!(
                            "{} is named as a peer here, but {a} is named as the same node's \
                             address on {interface} at {first}: a node has one address per \
                             family for its unicast peers on an interface",
                            ip
                        ),
                    });
                }
                None => list.push((*ip, at.clone())),
            }
        }
        Ok(())
    }

    /// The interface: the real name when every node agrees, else a
    /// logical one (`netN`), reusing one whose mapping agrees on these
    /// nodes.
    fn interface(&mut self, ms: &[(usize, &Member<'_>)], first_if: &str) -> String {
        let real = self.real;
        if ms
            .iter()
            .filter_map(|(i, _)| real.get(*i).map(String::as_str))
            .all(|i| i == first_if)
        {
            return first_if.to_string();
        }
        let node_maps = &self.node_maps;
        let fits = |l: &String| {
            ms.iter().all(|(i, m)| {
                node_maps
                    .get(m.node)
                    .and_then(|map| map.get(l))
                    .is_none_or(|r| Some(r) == real.get(*i))
            })
        };
        let reuse = (0..self.logical_count)
            .map(|k| format!("net{k}"))
            .find(|l| fits(l));
        let name = reuse.unwrap_or_else(|| {
            self.logical_count += 1;
            format!("net{}", self.logical_count - 1)
        });
        for (i, m) in ms {
            if let (Some(map), Some(r)) = (self.node_maps.get_mut(m.node), real.get(*i)) {
                map.insert(name.clone(), r.clone());
            }
        }
        name
    }

    /// `vhidN`, or with the interface or a number when that is taken.
    fn vip_name(&mut self, vhid: u8, first_if: &str) -> String {
        let mut vip_name = format!("vhid{vhid}");
        if self.vip_names.contains(&vip_name) {
            vip_name = format!("vhid{vhid}-{}", first_if.replace(['.', '/'], "_"));
        }
        let mut k = 2;
        while self.vip_names.contains(&vip_name) {
            vip_name = format!("vhid{vhid}-{k}");
            k += 1;
        }
        self.vip_names.push(vip_name.clone());
        vip_name
    }

    /// The addresses: the union, in the order first seen; FreeBSD 9 VIPs
    /// carried the subnet prefix, aliases want the host prefix. A note for
    /// each member that lists fewer.
    fn addresses(&mut self, vhid: u8, ms: &[(usize, &Member<'_>)]) -> Vec<IpNet> {
        let mut addrs: Vec<IpNet> = Vec::new();
        for (_, m) in ms {
            for (a, _) in &m.entry.addresses {
                let a = if m.entry.legacy { host(a) } else { *a };
                if !addrs.iter().any(|b| b.addr() == a.addr()) {
                    addrs.push(a);
                }
            }
        }
        for (_, m) in ms {
            let mine: Vec<IpAddr> = m.entry.addresses.iter().map(|(a, _)| a.addr()).collect();
            if mine.len() != addrs.len() {
                self.notes.push(format!(
                    "vhid {vhid}: {} lists {} of the {} addresses; the cluster file has them all",
                    self.names.get(m.node).map_or("?", String::as_str),
                    mine.len(),
                    addrs.len()
                ));
            }
        }
        addrs
    }

    /// The password: a `password_file` line and the key file to create
    /// (never the password itself), or a note when no node sets one.
    fn password(
        &mut self,
        vhid: u8,
        vip_name: &str,
        ms: &[(usize, &Member<'_>)],
        first: &Member<'_>,
    ) {
        if first.entry.version == 3 {
            // VRRPv3 has no authentication: the cluster file refuses a
            // password on a VRRP VIP, and the kernel ignores `pass`.
            if ms.iter().any(|(_, m)| m.entry.pass.is_some()) {
                self.notes.push(format!(
                    "vhid {vhid}: pass is left out: VRRPv3 (carpver 3) has no authentication, \
                     so the kernel ignores it"
                ));
            }
            return;
        }
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
        if let Some(h) = pass_holder
            && let Some((_, pos)) = &h.entry.pass
        {
            let key = format!("carpctl.d/{vip_name}.key");
            let _ = writeln!(self.text, "password_file = {}", toml_str(&key));
            self.key_files.push(KeyFile {
                path: key,
                vip: vip_name.to_string(),
                source: self
                    .nodes
                    .get(h.node)
                    .map(|n| n.path.clone())
                    .unwrap_or_default(),
                line: pos.line,
            });
            if differ {
                self.notes.push(format!(
                    "vhid {vhid}: the nodes' passwords differ (carpctl lint reports where); the \
                     cluster file has one password_file for all of them"
                ));
            }
        } else {
            self.notes.push(format!(
                "vhid {vhid}: no node sets a password; carpctl will warn about it"
            ));
        }
    }
}

/// Per node: interface -> its own addresses there, with where each was
/// read.
type NodeAddrs = BTreeMap<String, Vec<(IpAddr, String)>>;

/// The cluster file: a header naming the sources, `[cluster]`, the nodes
/// with their logical interface maps and own addresses, then the `[[vip]]`
/// tables.
fn cluster_file(
    nodes: &[ImportNode],
    names: &[String],
    (node_maps, node_addrs): (&[BTreeMap<String, String>], &[NodeAddrs]),
    vips: &str,
) -> String {
    let mut toml = String::new();
    toml.push_str("# carpctl.toml(5), made by carpctl import from:\n");
    for (n, name) in nodes.iter().zip(names) {
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
        if let Some(map) = node_addrs.get(i)
            && !map.is_empty()
        {
            let pairs: Vec<String> = map
                .iter()
                .map(|(k, list)| {
                    let l: Vec<String> =
                        list.iter().map(|(a, _)| toml_str(&a.to_string())).collect();
                    format!("{} = [{}]", toml_key(k), l.join(", "))
                })
                .collect();
            let _ = writeln!(toml, "addresses = {{ {} }}", pairs.join(", "));
        }
    }
    toml.push_str(vips);
    toml
}
