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
//! Secrets: an inline password becomes a [`Key`](crate::model::Key) at once (redacted
//! `Debug`, zeroed on drop); a `password_file` is read only where its key
//! is needed ([`keys`]); no diagnostic ever quotes one.
//!
//! The file itself is read as [`crate::fsutil`] says: a regular file of at
//! most [`crate::fsutil::INPUT_MAX`] bytes, owned by root (or the user
//! running carpctl) and writable by nobody else, nor any directory above
//! it (sticky ones aside): it names programs that carpctl runs as root.

mod diag;
mod keys;
mod parse;
mod resolve;
pub(crate) mod rules;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use crate::model::{AdvBase, MAX_WEIGHT, Protocol, Vhid};
use crate::plan;
use crate::textfile::Pos;

pub(crate) use diag::unreadable;
pub use diag::{Diagnostic, Severity, has_errors};
pub use keys::{KEY_FILE_MAX, KeyFile, KeySource, check_keys};
pub use parse::{load, parse};
pub use resolve::{Desired, DesiredVip, DesiredVrrp, Peer6, Peers, desired_state, peers};
pub use rules::{NAME_MAX, NODE_NAME_MAX, password_issues};

/// Where the cluster file is read from unless `-c/--config` or
/// [`CONFIG_ENV`] says otherwise.
pub(crate) const DEFAULT_PATH: &str = "/usr/local/etc/carpctl.toml";
/// Environment variable naming the cluster file.
pub(crate) const CONFIG_ENV: &str = "CARPCTL_CONFIG";
/// Environment variable naming this node (else the short hostname).
pub(crate) const NODE_ENV: &str = "CARPCTL_NODE";
/// Default `[cluster] advskew_step`: see [`crate::plan`] for why 4.
pub(crate) const DEFAULT_ADVSKEW_STEP: u8 = 4;
/// Default `[cluster] hook_timeout`: long enough for a service restart,
/// short enough that a hung hook does not pile up behind the next event.
pub(crate) const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest `[cluster] hook_timeout` accepted (one hour), in seconds.
pub(crate) const HOOK_TIMEOUT_MAX_SECS: u64 = 3600;
/// The literal of [`DEFAULT_CLUSTER_STATE_DIR`], as a macro so that the
/// directories carpctl keeps inside it are derived from it at compile time
/// (`concat!` takes only literals): `carpctl hook`'s default state
/// directory is its `hooks` subdirectory ([`crate::hooks::DEFAULT_HOOK_DIR`]).
macro_rules! default_cluster_state_dir {
    () => {
        "/var/db/carpctl"
    };
}
pub(crate) use default_cluster_state_dir;

/// Default `[cluster] state_dir`: where carpctl keeps its demotion ledger
/// (hier(7): `/var/db` holds "persistent, automatically maintained data").
pub(crate) const DEFAULT_CLUSTER_STATE_DIR: &str = default_cluster_state_dir!();

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
    /// `[[check]]`, in file order.
    pub checks: Vec<Check>,
    /// `[metrics]`.
    pub(crate) metrics: MetricsConfig,
    /// What validation found that does not stop `apply`.
    pub(crate) warnings: Vec<Diagnostic>,
}

/// `[cluster]`: settings shared by every node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// `net.inet.carp.preempt` on every node (default true).
    pub preempt: bool,
    /// Default advertisement interval for every VIP (default 1 s).
    pub advbase: AdvBase,
    /// advskew = rank × step (default [`DEFAULT_ADVSKEW_STEP`]).
    pub(crate) advskew_step: u8,
    /// How long a hook (`on_master`, ...) may run before it is killed:
    /// 1 s to [`HOOK_TIMEOUT_MAX_SECS`], default [`DEFAULT_HOOK_TIMEOUT`].
    pub(crate) hook_timeout: Duration,
    /// Keep this node demoted after boot until every `[[check]]` has passed
    /// once (default false).
    pub boot_hold: bool,
    /// Where the demotion ledger lives (default [`DEFAULT_CLUSTER_STATE_DIR`]);
    /// absolute.
    pub state_dir: PathBuf,
    /// Default protocol of every VIP (`protocol`, default CARP).
    pub protocol: Protocol,
    /// Default of every VIP's `unicast` (default false: multicast).
    pub unicast: bool,
    /// Default VRRP advertisement interval in centiseconds (`interval`,
    /// default [`crate::plan::vrrp::FREEBSD_DEFAULT_INTERVAL`]).
    pub interval: u16,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            preempt: true,
            advbase: AdvBase::DEFAULT,
            advskew_step: DEFAULT_ADVSKEW_STEP,
            hook_timeout: DEFAULT_HOOK_TIMEOUT,
            boot_hold: false,
            state_dir: PathBuf::from(DEFAULT_CLUSTER_STATE_DIR),
            protocol: Protocol::Carp,
            unicast: false,
            interval: plan::vrrp::FREEBSD_DEFAULT_INTERVAL,
        }
    }
}

/// `[[check]]`: a health check that demotes this node while it fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Unique among the checks; it names the check's share of the demotion.
    pub name: String,
    pub probe: Probe,
    /// Time between the start of one probe and the next (default 2 s).
    pub interval: Duration,
    /// How long one probe may take before it counts as failed (default
    /// 1 s; at most `interval`).
    pub timeout: Duration,
    /// Consecutive passes that bring a failed check back (default 2).
    pub(crate) rise: u32,
    /// Consecutive failures that make a passing check fail (default 3).
    pub(crate) fall: u32,
    /// What a failed check adds to `net.inet.carp.demotion`, 1 to
    /// [`MAX_WEIGHT`]; by default [`default_check_weight`].
    pub weight: u16,
}

/// What a check does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// `type = "tcp"`: connect to `address` (`HOST:PORT`, an IPv6 literal in
    /// brackets); connected = passed.
    Tcp { address: String },
    /// `type = "exec"`: run `command` (argv, no shell); exit 0 = passed.
    Exec { command: Vec<String> },
    /// `type = "http"`: `GET url`; the status `expect_status` = passed.
    Http { url: HttpUrl, expect_status: u16 },
}

impl Probe {
    /// The `type` value.
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Tcp { .. } => "tcp",
            Probe::Exec { .. } => "exec",
            Probe::Http { .. } => "http",
        }
    }
}

/// A plain `http://` URL, split the way an HTTP/1.0 request needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Default 80.
    pub port: u16,
    /// Path and query, starting with `/` (default `/`).
    pub path: String,
}

impl HttpUrl {
    /// `host:port` for connecting (IPv6 in brackets).
    pub(crate) fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.authority(), self.path)
    }
}

/// `[metrics]`: where the Prometheus metrics go. Both are optional; with
/// neither, no metrics are exported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MetricsConfig {
    /// A node_exporter textfile-collector file, rewritten atomically.
    pub(crate) textfile: Option<PathBuf>,
    /// A loopback address to serve `GET /metrics` on.
    pub listen: Option<SocketAddr>,
}

/// The default `weight` of a check: enough to move every VIP off this node
/// while any other node of the VIP is up. The worst case is a VIP this node
/// leads (rank 0): its advertised skew must exceed the last rank's, so the
/// weight is the largest [`crate::plan::VipPlan::demotion_off`] of a rank-0
/// node, `(n - 1) x advskew_step + 1` for the VIP with the most nodes. With
/// no VIP of two or more nodes it is [`MAX_WEIGHT`] (240).
pub(crate) fn default_check_weight(plan: &crate::plan::Plan) -> u16 {
    plan.vips
        .iter()
        .filter_map(|v| {
            let first = v.order.first()?;
            v.demotion_off(first, plan.advskew_step)
        })
        .max()
        .filter(|&w| w > 0)
        .map_or(MAX_WEIGHT, |w| w.min(MAX_WEIGHT))
}

/// `[[node]]`: one server of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    /// This node's real name for a logical interface name (`lan = "igb0"`).
    pub interfaces: BTreeMap<String, String>,
    /// This node's own addresses per logical interface (`addresses`): what
    /// the other member of a unicast VIP names as `peer`/`peer6`.
    pub addresses: BTreeMap<String, NodeAddrs>,
    /// `ssh`: the OpenSSH destination (`user@host`) `carpctl rollout run`
    /// reaches this node at; one argv element of ssh(1), never a shell
    /// string.
    pub ssh: Option<String>,
    pub(crate) pos: Option<Pos>,
}

/// A node's own addresses on one interface, at most one per family (a vhid
/// has one `peer` and one `peer6`). A link-local IPv6 address has no zone
/// here: its scope is the interface of the node that sends to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeAddrs {
    pub v4: Option<Ipv4Addr>,
    pub v6: Option<Ipv6Addr>,
}

impl Node {
    /// A node with no interface map (for building configs in code).
    pub fn new(name: impl Into<String>) -> Self {
        Node {
            name: name.into(),
            interfaces: BTreeMap::new(),
            addresses: BTreeMap::new(),
            ssh: None,
            pos: None,
        }
    }

    /// The real interface behind `interface` on this node: its mapping, or
    /// the name itself when this node does not map it.
    pub(crate) fn real_interface<'a>(&'a self, interface: &'a str) -> &'a str {
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
    /// `None`: no password (a warning at load). A `password_file` is read
    /// only when the key is needed ([`Config::read_keys`]).
    pub key: Option<KeySource>,
    /// The order of nodes as written; `None` means the rotation.
    pub prefer: Option<Vec<String>>,
    /// The VIP's own `advbase`, else `[cluster] advbase` (CARP only).
    pub advbase: AdvBase,
    /// The VIP's own `protocol`, else `[cluster] protocol`.
    pub protocol: Protocol,
    /// The VIP's own `unicast`, else `[cluster] unicast`: two members that
    /// name each other as peer.
    pub unicast: bool,
    /// VRRP advertisement interval (cs): the VIP's own `interval`, else
    /// `[cluster] interval`; meaningful only with [`Protocol::Vrrpv3`].
    pub interval: u16,
    /// Pinned advskews (CARP) or priorities (VRRP) of every member, and
    /// `allow_tie` ([`plan::pinned`]); `None`: derived from rank.
    pub(crate) pins: Option<plan::pinned::Pins>,
    /// argv run (no shell) when this node becomes MASTER of the VIP;
    /// empty: no hook. When non-empty, `argv[0]` is not empty.
    pub(crate) on_master: Vec<String>,
    /// argv run when this node becomes BACKUP of the VIP; empty: none.
    pub(crate) on_backup: Vec<String>,
    /// argv run when the VIP goes to INIT on this node; empty: none.
    pub(crate) on_init: Vec<String>,
    pub(crate) pos: VipPos,
    /// A unicast VIP whose `prefer` names only its master: the pair the
    /// plan chose when the file was loaded ([`Vip::takes_part`]); `None`
    /// otherwise, or for a `Config` built in code.
    pub(crate) planned_pair: Option<Vec<String>>,
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
    /// Whether `node` is a member of this VIP: in `prefer` when given, else
    /// every node. A unicast VIP whose `prefer` names only its master gets
    /// its backup from the plan ([`crate::plan::VipPlan::rank_of`]): its
    /// members are that pair, as planned when the file was loaded. (Without
    /// a plan, for a `Config` built in code, every node may be the backup.)
    pub(crate) fn takes_part(&self, node: &str) -> bool {
        match (&self.prefer, &self.planned_pair) {
            (Some(p), Some(pair)) if p.len() == 1 && self.unicast => pair.iter().any(|n| n == node),
            (Some(p), None) if p.len() == 1 && self.unicast => true,
            (Some(p), _) => p.iter().any(|n| n == node),
            (None, _) => true,
        }
    }
}

impl Config {
    pub(crate) fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub(crate) fn node_names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }

    /// The plan of this cluster file ([`crate::plan`]). [`load`] already
    /// refuses files whose plan fails, so this errs only for a [`Config`]
    /// built in code.
    ///
    /// Multicast VIPs are planned by [`plan::plan_vips`] among themselves
    /// (so a file without unicast VIPs gets the plan it always had), unicast
    /// VIPs by [`plan::unicast::plan_unicast`] among themselves (order
    /// [master, backup]), their masters' rotation starting after the
    /// multicast one's; a VRRP VIP gets its priorities from
    /// [`plan::vrrp::priorities`]. A pinned VIP's order follows its values
    /// ([`plan::pinned`]) and is planned like a `prefer` one, except a
    /// multicast CARP one, whose skews are the pinned ones
    /// ([`carp_pinned`]). The result is in file order.
    pub fn plan(&self) -> Result<plan::Plan, plan::PlanError> {
        let nodes = self.node_names();
        let step = self.cluster.advskew_step;
        // A pinned VIP's order follows its values: planned as if written
        // in `prefer` (so never balanced), then given its values.
        let pinned: Vec<Option<Vec<String>>> = self
            .vips
            .iter()
            .map(|v| {
                let pins = v.pins.as_ref()?;
                let members = plan::pinned::members(pins, v.prefer.as_deref(), v.unicast, &nodes);
                Some(plan::pinned::order(pins.kind, &members, &pins.values))
            })
            .collect();
        let specs = |unicast: bool| -> Vec<plan::VipSpec<'_>> {
            self.vips
                .iter()
                .zip(&pinned)
                .filter(|(v, _)| v.unicast == unicast && !carp_pinned(v))
                .map(|(v, order)| plan::VipSpec {
                    name: &v.name,
                    vhid: v.vhid,
                    prefer: order.as_deref().or(v.prefer.as_deref()),
                })
                .collect()
        };
        let multicast_specs = specs(false);
        let mut out = plan::plan_vips(&nodes, &multicast_specs, step)?;
        let mut multicast = std::mem::take(&mut out.vips).into_iter();
        // The unicast round-robin of masters continues where the multicast
        // one stopped, so that the two together stay round-robin: the node
        // list is rotated (the unicast bounds hold under any relabelling).
        let shift = match nodes.len() {
            0 => 0,
            n => {
                multicast_specs
                    .iter()
                    .filter(|s| s.prefer.is_none())
                    .count()
                    % n
            }
        };
        let rotated: Vec<String> = nodes[shift..]
            .iter()
            .chain(&nodes[..shift])
            .cloned()
            .collect();
        let mut unicast = plan::unicast::plan_unicast(&rotated, &specs(true))?.into_iter();
        for (v, order) in self.vips.iter().zip(pinned) {
            // Each iterator holds exactly the VIPs of its kind, in file
            // order, so neither runs out.
            let planned = match order {
                _ if v.unicast => unicast.next().map(|u| unicast_plan(u, step)).transpose()?,
                Some(order) if carp_pinned(v) => Some(carp_pinned_plan(v, order)),
                _ => multicast.next(),
            };
            let Some(mut p) = planned else { continue };
            p.protocol = v.protocol;
            if v.protocol == Protocol::Vrrpv3 {
                let priority = match &v.pins {
                    Some(pins) => pins.values.clone(),
                    None => plan::vrrp::priorities(&v.name, &p.order, v.interval)?,
                };
                p.vrrp = Some(plan::VrrpPlan {
                    interval: v.interval,
                    priority,
                });
            }
            if let Some(pins) = &v.pins {
                pin(&mut p, pins);
            }
            out.vips.push(p);
        }
        Ok(out)
    }

    fn diag_error(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(message).in_file(&self.path)
    }
}

/// A unicast VIP's pair as a [`plan::VipPlan`]: order [master, backup],
/// advskews of ranks 0 and 1.
fn unicast_plan(u: plan::unicast::UnicastVip, step: u8) -> Result<plan::VipPlan, plan::PlanError> {
    let order = vec![u.master, u.backup];
    let advskew = plan::ranks(&u.name, &order, step)?;
    Ok(plan::VipPlan {
        name: u.name,
        vhid: u.vhid,
        order,
        advskew,
        source: u.source,
        protocol: Protocol::Carp,
        unicast: true,
        vrrp: None,
    })
}

/// A multicast CARP VIP with pinned advskews: planned apart, since its
/// skews are the pinned ones and not rank × `advskew_step` (which
/// [`plan::check_order`] would limit to ⌈240/step⌉ members).
fn carp_pinned(v: &Vip) -> bool {
    !v.unicast
        && v.pins
            .as_ref()
            .is_some_and(|p| p.kind == plan::pinned::PinKind::Advskew)
}

/// The plan of a [`carp_pinned`] VIP whose pinned order is `order`; [`pin`]
/// gives it its values.
fn carp_pinned_plan(v: &Vip, order: Vec<String>) -> plan::VipPlan {
    plan::VipPlan {
        name: v.name.clone(),
        vhid: v.vhid,
        order,
        advskew: std::collections::BTreeMap::new(),
        source: plan::OrderSource::Pinned,
        protocol: Protocol::Carp,
        unicast: false,
        vrrp: None,
    }
}

/// Mark `p` as pinned and, for CARP, give it the pinned advskews (VRRP's
/// priorities are set with its [`plan::VrrpPlan`]).
fn pin(p: &mut plan::VipPlan, pins: &plan::pinned::Pins) {
    p.source = plan::OrderSource::Pinned;
    if pins.kind == plan::pinned::PinKind::Advskew {
        p.advskew = pins
            .values
            .iter()
            .filter_map(|(n, &v)| Some((n.clone(), crate::model::AdvSkew::new(i64::from(v)).ok()?)))
            .collect();
    }
}

/// `given` as a path: absolute as it is, relative to the directory of
/// `file` otherwise (how `password_file` and a scenario's `cluster` are
/// read, so a file and its companions can move together).
pub(crate) fn relative_to(file: &std::path::Path, given: &str) -> std::path::PathBuf {
    let p = std::path::Path::new(given);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(p),
        _ => p.to_path_buf(),
    }
}

/// Which node of `cfg` this host is: `explicit` (`--node`, `CARPCTL_NODE`)
/// when given, else the short `hostname` (up to the first dot). An empty
/// `explicit` counts as not given, as an empty environment variable does
/// for sh(1) scripts (`CARPCTL_NODE= carpctl ...`, an rc.conf variable
/// left empty).
pub(crate) fn select_node<'a>(
    cfg: &'a Config,
    explicit: Option<&str>,
    hostname: &str,
) -> Result<&'a Node, Diagnostic> {
    let explicit = explicit.filter(|n| !n.is_empty());
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
pub(crate) mod tests;
