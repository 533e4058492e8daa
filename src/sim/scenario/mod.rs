//! The scenario file (carpctl.scenario(5)): which cluster file, which
//! nodes with which interfaces, how long, which clients, a timeline of
//! faults, and what the run must show. Parsed and validated completely
//! before anything runs: every mistake is reported with the file, line and
//! column, and the exit status is 2.
//!
//! ```toml
//! cluster = "seed.toml"          # relative to this file
//! duration = 120                 # seconds of virtual time
//! seed = 1
//!
//! [passwords]                    # instead of the cluster's password_file
//! mail1 = "mail1-secret"
//!
//! [[node]]
//! name = "mail-a"
//! interfaces = { em0 = ["192.168.1.3/24"] }
//!
//! [[event]]
//! at = 10
//! action = "crash"
//! node = "mail-a"
//!
//! [[expect]]                     # what the run must show (expect.rs)
//! master = "mail-b"
//! vip = "mail1"
//! at = 30
//! ```
//!
//! Passwords given in `[passwords]` are used by the simulated nodes only;
//! the scenario file's mode is not checked (it ships in a source tree).
//! Never put a production password there.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

use super::limits;

/// The keys among the fields named that `$raw` has, each with its span:
/// `given!(raw; node, vip)`.
macro_rules! given {
    ($raw:expr; $($f:ident),*) => {{
        let mut v: Vec<(&'static str, Range<usize>)> = Vec::new();
        $(
            if let Some(x) = &$raw.$f {
                v.push((stringify!($f), x.span()));
            }
        )*
        v
    }};
}

mod change;
mod cluster;
mod event;
mod event_values;
mod expect;
mod maintenance;
mod node;
mod router;
mod switchover;

use crate::config::{self, Config, Diagnostic};
use crate::kernel::emulated::{Flavor, Hz};
use crate::model::{IfAddress, Interface};
use crate::textfile::{self, Access, LineIndex};
use event::RawEvent;
pub use event::{Action, LossScope, TimedEvent};
use expect::RawExpect;
pub(crate) use expect::{CLIENTS, Expect, Expectation, Requirement, Window};
use router::RawRouter;
pub(crate) use router::ScRouter;

/// The longest scenario accepted: 31 days of virtual time.
pub(crate) const MAX_DURATION_S: f64 = 31.0 * 86_400.0;
/// The most client requests per second per VIP address.
pub(crate) const MAX_RATE: f64 = 1000.0;
/// Default frame latency on the segment: 100 µs, a switched LAN hop.
pub(crate) const DEFAULT_LATENCY_US: u64 = 100;

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub path: PathBuf,
    /// The cluster file, with `[passwords]` applied.
    pub config: Config,
    /// Virtual time simulated, µs.
    pub duration: u64,
    pub seed: u64,
    /// The FreeBSD release of the nodes that do not set their own.
    pub flavor: Flavor,
    /// `kern.hz` of the nodes that do not set their own.
    pub hz: u32,
    /// In scenario order.
    pub nodes: Vec<ScNode>,
    pub(crate) clients: Clients,
    /// Frame latency on the segment, µs, for the nodes that do not set
    /// their own.
    pub latency: u64,
    /// Sorted by time; file order among equal times.
    pub events: Vec<TimedEvent>,
    /// The `[[expect]]` entries, in file order.
    pub(crate) expects: Vec<Expectation>,
    /// The `[[router]]` entries, in file order.
    pub(crate) routers: Vec<ScRouter>,
    /// The cluster files: `cluster` first (the same as [`Self::config`]),
    /// then those the `apply` and `rollout` events name.
    pub files: Vec<Config>,
}

impl Scenario {
    /// Every cluster file of the scenario, `cluster` first.
    pub fn cluster_files(&self) -> &[Config] {
        if self.files.is_empty() {
            std::slice::from_ref(&self.config)
        } else {
            &self.files
        }
    }
}

/// `[[node]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScNode {
    pub name: String,
    /// Real interface name and its own (non-CARP) addresses, in name order.
    pub interfaces: Vec<(String, Vec<IpNet>)>,
    /// Whether the node is running at time 0 (`up`, default true).
    pub up: bool,
    /// `kern.hz` of the node (the scenario's `hz` unless it sets its own).
    pub(crate) hz: u32,
    /// The node's FreeBSD release (the scenario's `freebsd` unless it sets
    /// its own: a cluster in the middle of an upgrade).
    pub flavor: Flavor,
    /// How long a frame the node sends takes to reach the others, µs (the
    /// scenario's `[segment] latency` unless it sets its own).
    pub latency: u64,
    /// Its default routes (`gateway`), at most one per family.
    pub(crate) gateways: Vec<std::net::IpAddr>,
}

impl ScNode {
    /// The interfaces as the kernel would report them before `apply`.
    pub(crate) fn kernel_interfaces(&self) -> Vec<Interface> {
        self.interfaces
            .iter()
            .map(|(name, addrs)| Interface {
                name: name.clone(),
                up: true,
                multicast: true,
                link_up: Some(true),
                addresses: addrs
                    .iter()
                    .map(|&net| IfAddress { net, vhid: None })
                    .collect(),
            })
            .collect()
    }
}

/// `[clients]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Clients {
    /// Requests per second to each address of each VIP.
    pub(crate) rate: f64,
    /// When the clients start, µs.
    pub start: u64,
    /// The router the requests come from (an index into
    /// [`Scenario::routers`]); `None`: from the VIP's own segment.
    pub at: Option<usize>,
}

/// A number of seconds, integer or not.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged, expecting = "expected a number of seconds")]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn get(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    cluster: Option<Spanned<String>>,
    duration: Option<Spanned<Num>>,
    seed: Option<Spanned<i64>>,
    freebsd: Option<Spanned<String>>,
    hz: Option<Spanned<i64>>,
    /// Taken as raw values, so that no serde message can quote one.
    passwords: Option<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
    clients: Option<Spanned<RawClients>>,
    segment: Option<Spanned<RawSegment>>,
    #[serde(default)]
    node: Vec<Spanned<RawNode>>,
    #[serde(default)]
    event: Vec<Spanned<RawEvent>>,
    #[serde(default)]
    expect: Vec<Spanned<RawExpect>>,
    #[serde(default)]
    router: Vec<Spanned<RawRouter>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClients {
    rate: Option<Spanned<Num>>,
    start: Option<Spanned<Num>>,
    at: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSegment {
    latency: Option<Spanned<Num>>,
}

/// A list of strings, each with its place.
type SpannedList = Spanned<Vec<Spanned<String>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: Option<Spanned<String>>,
    interfaces: Option<Spanned<BTreeMap<String, SpannedList>>>,
    up: Option<Spanned<bool>>,
    hz: Option<Spanned<i64>>,
    freebsd: Option<Spanned<String>>,
    latency: Option<Spanned<Num>>,
    gateway: Option<SpannedList>,
}

/// Validates one scenario file, collecting its diagnostics (the scenario's
/// counterpart of the cluster file's `config::parse::Validator`).
struct ScenarioValidator<'a> {
    path: &'a Path,
    lines: LineIndex<'a>,
    diags: Vec<Diagnostic>,
    /// The cluster files as named in the scenario (`cluster` first, named
    /// ""), for the events that change them.
    files: Vec<(String, Config)>,
}

impl ScenarioValidator<'_> {
    fn error(&mut self, span: &Range<usize>, key: impl Into<String>, msg: impl Into<String>) {
        let d = Diagnostic::error(msg)
            .in_file(self.path)
            .at(Some(self.lines.pos(span.start)))
            .key(key);
        self.diags.push(d);
    }

    /// A name the scenario refers to (a node, VIP or check of the cluster
    /// file) must be one the cluster file can have
    /// ([`config::rules::bad_name`]): a longer or stranger one is refused
    /// as such, not looked up and quoted back in full.
    fn name_ok(&mut self, n: &Spanned<String>, max: usize, key: &str, what: &str) -> bool {
        match config::rules::bad_name(n.get_ref(), max) {
            Some(why) => {
                self.error(&n.span(), key, format!("{key}: {what} {why}"));
                false
            }
            None => true,
        }
    }

    fn file_error(&mut self, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(msg).in_file(self.path));
    }

    /// `kern.hz`, ticks per second: 10 to 10000 (FreeBSD's default is
    /// 1000; many virtual machines run 100).
    fn hz(&mut self, v: &Spanned<i64>, key: &str) -> Option<u32> {
        match u32::try_from(*v.get_ref()) {
            Ok(h) if (Hz::MIN..=Hz::MAX).contains(&h) => Some(h),
            _ => {
                let msg = format!(
                    "{key} {} is out of range {}-{} (kern.hz, ticks per second; FreeBSD's \
                     default is {})",
                    v.get_ref(),
                    Hz::MIN,
                    Hz::MAX,
                    Hz::DEFAULT
                );
                self.error(&v.span(), key, msg);
                None
            }
        }
    }

    /// A FreeBSD release, as `emulate --freebsd` takes it.
    fn flavor(&mut self, f: &Spanned<String>, key: &str) -> Option<Flavor> {
        match f.get_ref().parse::<Flavor>() {
            Ok(fl) => Some(fl),
            Err(e) => {
                self.error(&f.span(), key, format!("{key}: {e}"));
                None
            }
        }
    }

    fn seconds(&mut self, v: &Spanned<Num>, key: &str, min: f64, max: f64) -> Option<u64> {
        let s = v.get_ref().get();
        if !s.is_finite() || s < min || s > max {
            let msg = format!("{key} {s} is out of range {min}-{max} (seconds)");
            self.error(&v.span(), key, msg);
            return None;
        }
        Some((s * 1e6).round() as u64)
    }
}

/// Read and validate the scenario at `path`, and the cluster file it
/// names. `Err` carries every error found (scenario and cluster file).
pub fn load(path: &Path) -> Result<Scenario, Vec<Diagnostic>> {
    // [passwords] may hold passwords: the text is wiped when dropped.
    let src = textfile::read(path, Access::Named)
        .map_err(|e| vec![config::unreadable(path, e, false)])?
        .text;
    parse(&src, path)
}

/// Validate scenario text `src` read from `path` (relative paths inside
/// are taken from its directory).
pub fn parse(src: &str, path: &Path) -> Result<Scenario, Vec<Diagnostic>> {
    let mut validator = ScenarioValidator {
        path,
        lines: LineIndex::new(src),
        diags: Vec::new(),
        files: Vec::new(),
    };
    let raw: Raw = match toml::from_str(src) {
        Ok(r) => r,
        Err(e) => {
            // serde's messages name the key ("unknown field `x`, expected
            // one of ...") and toml gives the span. [passwords] and
            // `password` are raw values, so no password is ever quoted.
            let pos = e.span().map(|s| validator.lines.pos(s.start));
            let at = e.span().and_then(|s| key_before(src, s.start));
            let msg = e.message().trim_end();
            let msg = at.map_or(msg.to_string(), |k| format!("{k}: {msg}"));
            return Err(vec![Diagnostic::error(msg).in_file(path).at(pos)]);
        }
    };
    let scenario = validator.document(raw, src);
    match scenario {
        Some(s) if validator.diags.is_empty() => Ok(s),
        _ => {
            if validator.diags.is_empty() {
                validator.file_error("the scenario is not valid");
            }
            Err(validator.diags)
        }
    }
}

/// Each `[[node]]`'s name to its place in [`Scenario::nodes`].
fn node_index(nodes: &[ScNode]) -> BTreeMap<&str, usize> {
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect()
}

/// The key whose value starts at `offset` (`key = value` on its line),
/// so that a value of the wrong type is named by its key: serde's message
/// says only what it expected. Bare keys only, never a value.
fn key_before(src: &str, offset: usize) -> Option<&str> {
    let line_start = src.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let (key, _) = src.get(line_start..offset)?.split_once('=')?;
    let key = key.trim();
    let bare = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
    (!key.is_empty() && key.len() <= 64 && key.chars().all(bare)).then_some(key)
}

/// The scenario's top-level settings, each `None` when it was wrong (and
/// reported).
struct TopLevel {
    duration: Option<u64>,
    seed: Option<u64>,
    flavor: Option<Flavor>,
    hz: Option<u32>,
    clients: Option<Clients>,
    latency: Option<u64>,
}

impl ScenarioValidator<'_> {
    /// The whole scenario: the top-level settings, the cluster file, the
    /// nodes, then the events, each checked and reported in that order.
    fn document(&mut self, raw: Raw, _src: &str) -> Option<Scenario> {
        if !self.within_limits(&raw) {
            return None;
        }
        let Some(cluster) = &raw.cluster else {
            self.file_error(
                "cluster is missing: name the cluster file, e.g. cluster = \"carpctl.toml\" \
                 (relative to this file)",
            );
            return None;
        };
        let top = self.top_level(&raw);
        let config = self.cluster_file(cluster, raw.passwords)?;
        if !self.within_member_limit(&config, cluster, "cluster") {
            return None;
        }
        self.change_files(&raw.event, &config);
        let defaults = node::NodeDefaults {
            hz: top.hz,
            flavor: top.flavor,
            latency: top.latency,
        };
        let nodes = self.nodes(raw.node, &config, &defaults);
        let routers = self.routers(raw.router, &nodes);
        let clients = match (top.clients, raw.clients.as_ref()) {
            (Some(c), Some(rc)) => self.clients_at(c, rc.get_ref(), &routers),
            (c, _) => c,
        };
        let duration = top.duration?;
        let events = self.events(raw.event, &nodes, &config, duration);
        let expects = self.expects(raw.expect, &nodes, &config, &events, duration);
        Some(Scenario {
            path: self.path.to_path_buf(),
            config,
            duration,
            seed: top.seed?,
            flavor: top.flavor?,
            hz: top.hz?,
            nodes,
            clients: clients?,
            latency: top.latency?,
            events,
            expects,
            routers,
            files: std::mem::take(&mut self.files)
                .into_iter()
                .map(|(_, c)| c)
                .collect(),
        })
    }

    /// `duration`, `seed`, `freebsd`, `hz`, `[clients]` and
    /// `[segment] latency`, with their defaults.
    fn top_level(&mut self, raw: &Raw) -> TopLevel {
        let duration = match &raw.duration {
            Some(d) => self.seconds(d, "duration", 1e-6, MAX_DURATION_S),
            None => {
                self.file_error("duration is missing: how many seconds to simulate, e.g. 120");
                None
            }
        };
        let seed = match &raw.seed {
            None => Some(1),
            Some(s) => match u64::try_from(*s.get_ref()) {
                Ok(v) => Some(v),
                Err(_) => {
                    let msg = format!("seed {} must not be negative", s.get_ref());
                    self.error(&s.span(), "seed", msg);
                    None
                }
            },
        };
        let flavor = match &raw.freebsd {
            None => Some(Flavor::V14),
            Some(f) => self.flavor(f, "freebsd"),
        };
        let hz = match &raw.hz {
            None => Some(Hz::DEFAULT),
            Some(h) => self.hz(h, "hz"),
        };
        let clients = match &raw.clients {
            None => Some(Clients {
                rate: 10.0,
                start: 0,
                at: None,
            }),
            Some(c) => self.clients(c.get_ref()),
        };
        let latency = match raw
            .segment
            .as_ref()
            .and_then(|s| s.get_ref().latency.as_ref())
        {
            None => Some(DEFAULT_LATENCY_US),
            Some(l) => self.seconds(l, "segment.latency", 0.0, 1.0),
        };
        TopLevel {
            duration,
            seed,
            flavor,
            hz,
            clients,
            latency,
        }
    }

    /// `[clients]`: a rate within bounds and a start time.
    fn clients(&mut self, c: &RawClients) -> Option<Clients> {
        let rate = match &c.rate {
            None => Some(10.0),
            Some(r) => {
                let v = r.get_ref().get();
                if v.is_finite() && v > 0.0 && v <= MAX_RATE {
                    Some(v)
                } else {
                    let msg = format!(
                        "clients.rate {v} is out of range: more than 0, at most \
                         {MAX_RATE} requests per second per address"
                    );
                    self.error(&r.span(), "clients.rate", msg);
                    None
                }
            }
        };
        let start = match &c.start {
            None => Some(0),
            Some(s) => self.seconds(s, "clients.start", 0.0, MAX_DURATION_S),
        };
        Some(Clients {
            rate: rate?,
            start: start?,
            at: None,
        })
    }

    /// The `[[event]]` entries that are right, sorted by time (file order
    /// among equal times), crash and boot alternating per node.
    fn events(
        &mut self,
        raw_events: Vec<Spanned<RawEvent>>,
        nodes: &[ScNode],
        config: &Config,
        duration: u64,
    ) -> Vec<TimedEvent> {
        let index = node_index(nodes);
        let mut events = Vec::new();
        for (i, e) in raw_events.into_iter().enumerate() {
            let span = e.span();
            if let Some(ev) = self.event(i, span, e.into_inner(), &index, nodes, config, duration) {
                events.push(ev);
            }
        }
        events.sort_by_key(|e: &TimedEvent| e.at);
        let events = self.expand_rollouts(events, nodes, duration);
        self.sequence(&events, nodes);
        events
    }

    /// The limits on the number of `[[node]]` and `[[event]]` entries
    /// (carpctl.scenario(5), LIMITS), checked before anything else so that
    /// a huge file is refused at once: the error points at the first entry
    /// past the limit.
    fn within_limits(&mut self, raw: &Raw) -> bool {
        let nodes = raw.node.get(limits::MAX_NODES).map(Spanned::span);
        let events = raw.event.get(limits::MAX_EVENTS).map(Spanned::span);
        let expects = raw.expect.get(limits::MAX_EXPECTS).map(Spanned::span);
        let routers = raw.router.get(limits::MAX_ROUTERS).map(Spanned::span);
        let checks = [
            (
                "node",
                "nodes",
                "a simulation runs",
                raw.node.len(),
                limits::MAX_NODES,
                nodes,
            ),
            (
                "event",
                "events",
                "a scenario has",
                raw.event.len(),
                limits::MAX_EVENTS,
                events,
            ),
            (
                "expect",
                "expectations",
                "a scenario has",
                raw.expect.len(),
                limits::MAX_EXPECTS,
                expects,
            ),
            (
                "router",
                "routers",
                "a simulation runs",
                raw.router.len(),
                limits::MAX_ROUTERS,
                routers,
            ),
        ];
        let mut ok = true;
        for (key, what, has, count, max, span) in checks {
            let Some(span) = span else {
                continue;
            };
            let msg = format!(
                "{key}[{max}]: too many {what} ({count}); {has} at most {max} \
                 (carpctl.scenario(5), LIMITS)"
            );
            self.error(&span, format!("{key}[{max}]"), msg);
            ok = false;
        }
        ok
    }

    fn relative(&self, given: &str) -> PathBuf {
        crate::config::relative_to(self.path, given)
    }

    fn node_of(
        &mut self,
        v: &Option<Spanned<String>>,
        index: &BTreeMap<&str, usize>,
        ctx: &str,
        key: &str,
    ) -> Option<usize> {
        self.node_named(v.as_ref()?, index, ctx, &format!("{key}.node"))
    }

    /// The `[[node]]` named by the value of `key` (its full name).
    fn node_named(
        &mut self,
        n: &Spanned<String>,
        index: &BTreeMap<&str, usize>,
        ctx: &str,
        key: &str,
    ) -> Option<usize> {
        if !self.name_ok(n, config::NODE_NAME_MAX, key, "node") {
            return None;
        }
        match index.get(n.get_ref().as_str()) {
            Some(&i) => Some(i),
            None => {
                let known: Vec<&str> = index.keys().copied().collect();
                let msg = format!(
                    "{ctx}: node \"{}\" is not a [[node]] of this scenario (nodes: {})",
                    n.get_ref(),
                    known.join(", ")
                );
                self.error(&n.span(), key, msg);
                None
            }
        }
    }
}
