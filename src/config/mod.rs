//! The cluster file (`carpctl.toml`, carpctl.toml(5)): parse, validate,
//! select this node, and resolve this node's desired carp(4) state.
//!
//! One file describes the whole cluster and goes unchanged on every node;
//! each node finds its own entry ([`select_node`]) and derives its vhids from
//! the shared plan ([`crate::plan`]), so that every node computes the same
//! ranks and skews. [`load`] validates the whole file before it returns and
//! collects every error and warning, each located by file, line, column and
//! key. This module is pure: it reads files and computes, it never calls the
//! kernel ([`desired_state`] takes the interface list as an argument).
//!
//! Secrets: passwords become [`Key`]s at once (redacted `Debug`, zeroed on
//! drop) and no diagnostic ever quotes one.

mod diag;
mod parse;
mod resolve;

use std::collections::BTreeMap;
use std::path::PathBuf;

use ipnet::IpNet;

use crate::model::{AdvBase, Key, Vhid};

pub use diag::{Diagnostic, Pos, Severity, has_errors};
pub use parse::{load, parse};
pub use resolve::{Desired, DesiredVip, desired_state};

/// Where the cluster file is read from unless `-c/--config` or
/// [`CONFIG_ENV`] says otherwise.
pub const DEFAULT_PATH: &str = "/usr/local/etc/carpctl.toml";
/// Environment variable naming the cluster file.
pub const CONFIG_ENV: &str = "CARPCTL_CONFIG";
/// Environment variable naming this node (else the short hostname).
pub const NODE_ENV: &str = "CARPCTL_NODE";
/// Default `[cluster] advskew_step`: see [`crate::plan`] for why 4.
pub const DEFAULT_ADVSKEW_STEP: u8 = 4;

/// A validated cluster file.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from, as given (diagnostics name it so).
    pub path: PathBuf,
    pub cluster: Cluster,
    /// In file order; the rotation of VIPs without `prefer` follows it.
    pub nodes: Vec<Node>,
    /// In file order.
    pub vips: Vec<Vip>,
    /// What validation found that does not stop `apply`.
    pub warnings: Vec<Diagnostic>,
}

/// `[cluster]`: settings shared by every node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cluster {
    /// `net.inet.carp.preempt` on every node (default true).
    pub preempt: bool,
    /// Default advertisement interval for every VIP (default 1 s).
    pub advbase: AdvBase,
    /// advskew = rank × step (default [`DEFAULT_ADVSKEW_STEP`]).
    pub advskew_step: u8,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            preempt: true,
            advbase: AdvBase::DEFAULT,
            advskew_step: DEFAULT_ADVSKEW_STEP,
        }
    }
}

/// `[[node]]`: one server of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    /// This node's real name for a logical interface name (`lan = "igb0"`).
    pub interfaces: BTreeMap<String, String>,
    pub(crate) pos: Option<Pos>,
}

impl Node {
    /// A node with no interface map (for building configs in code).
    pub fn new(name: impl Into<String>) -> Self {
        Node {
            name: name.into(),
            interfaces: BTreeMap::new(),
            pos: None,
        }
    }

    /// The real interface behind `interface` on this node: its mapping, or
    /// the name itself when this node does not map it.
    pub fn real_interface<'a>(&'a self, interface: &'a str) -> &'a str {
        self.interfaces
            .get(interface)
            .map_or(interface, String::as_str)
    }
}

/// `[[vip]]`: one virtual address set, i.e. one vhid on one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vip {
    pub name: String,
    pub vhid: Vhid,
    /// Logical (per-node mapped) or real interface name.
    pub interface: String,
    /// At least one, no address twice.
    pub addresses: Vec<IpNet>,
    /// `None`: no password (a warning at load).
    pub key: Option<Key>,
    /// The order of nodes as written; `None` means the rotation.
    pub prefer: Option<Vec<String>>,
    /// The VIP's own `advbase`, else `[cluster] advbase`.
    pub advbase: AdvBase,
    pub(crate) pos: VipPos,
}

/// Where a VIP's keys are in the file, for diagnostics found later
/// (resolving against the kernel's interfaces).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct VipPos {
    pub(crate) entry: Option<Pos>,
    pub(crate) interface: Option<Pos>,
    /// One per address, same order as [`Vip::addresses`].
    pub(crate) addresses: Vec<Option<Pos>>,
}

impl Vip {
    /// The nodes that take part in this VIP: `prefer` when given, else all.
    pub fn takes_part(&self, node: &str) -> bool {
        self.prefer
            .as_ref()
            .is_none_or(|p| p.iter().any(|n| n == node))
    }
}

impl Config {
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn node_names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }

    fn diag_error(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(message).in_file(&self.path)
    }
}

/// Which node of `cfg` this host is: `explicit` (`--node`, `CARPCTL_NODE`)
/// when given, else the short `hostname` (up to the first dot).
pub fn select_node<'a>(
    cfg: &'a Config,
    explicit: Option<&str>,
    hostname: &str,
) -> Result<&'a Node, Diagnostic> {
    let known = cfg
        .nodes
        .iter()
        .map(|n| n.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(name) = explicit {
        return cfg.node(name).ok_or_else(|| {
            cfg.diag_error(format!(
                "node \"{name}\" is not in this file; known nodes: {known}"
            ))
        });
    }
    let short = hostname.split('.').next().unwrap_or("");
    if short.is_empty() {
        return Err(cfg.diag_error(format!(
            "cannot tell which node this host is: the hostname is empty; \
             pass --node NAME or set {NODE_ENV} (known nodes: {known})"
        )));
    }
    // Hostnames compare case-insensitively (RFC 4343); an exact match wins.
    if let Some(n) = cfg.node(short) {
        return Ok(n);
    }
    let mut folded = cfg
        .nodes
        .iter()
        .filter(|n| n.name.eq_ignore_ascii_case(short));
    match (folded.next(), folded.next()) {
        (Some(n), None) => Ok(n),
        _ => Err(cfg.diag_error(format!(
            "this host's short name \"{short}\" (hostname \"{hostname}\") is not a node \
             in this file; pass --node NAME or set {NODE_ENV} (known nodes: {known})"
        ))),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;
