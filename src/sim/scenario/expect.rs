//! The `[[expect]]` entries of a scenario: what the run must show (a VIP's
//! MASTER at a time, a vhid's state, the longest outage, dual masters, a
//! requirement's verdict), validated like the rest of the file
//! (carpctl.scenario(5), EXPECTATIONS). [`crate::sim::expect`] checks them
//! against the report.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{Action, MAX_DURATION_S, Num, ScNode, ScenarioValidator, TimedEvent};
use crate::config::Config;
use crate::model::CarpState;
use crate::textfile::Pos;

/// One `[[expect]]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expectation {
    /// `expect[N]`, N its place among the `[[expect]]` tables.
    pub key: String,
    /// Where it is in the scenario file.
    pub pos: Option<Pos>,
    pub what: Expect,
}

/// What is expected. Nodes are indexes into [`super::Scenario::nodes`];
/// times are µs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expect {
    /// `master = NODE, vip, at`: the node, and no other, is MASTER of the
    /// VIP at that time (after every change at that instant).
    Master { vip: String, at: u64, node: usize },
    /// `state = "master"|"backup"|"init", node, vip, at`: the node's vhid
    /// of the VIP is in that state at that time.
    State {
        node: usize,
        vip: String,
        at: u64,
        state: CarpState,
    },
    /// `longest_outage_below = SECONDS [, vip] [, from] [, until]`: every
    /// outage (of the VIP, or of every VIP) within the window is shorter.
    LongestOutageBelow {
        vip: Option<String>,
        below: u64,
        window: Window,
    },
    /// `no_dual_master = true|false [, vip] [, from] [, until]`: no
    /// interval with two MASTERs (`false`: at least one) within the window.
    NoDualMaster {
        vip: Option<String>,
        none: bool,
        window: Window,
    },
    /// `verdict = "balance"|"failover"|"preemption", met`: the requirement
    /// is met (or not). A requirement an expectation names no longer
    /// decides the exit status by itself.
    Verdict { requirement: Requirement, met: bool },
    /// `answered = true|false, node, vip, at`: the node's `send_from_vip`
    /// event of that VIP at that time was answered (or not).
    Answered {
        node: usize,
        vip: String,
        at: u64,
        answered: bool,
    },
    /// `cache = "clients"|NODE, address, mac [, at]`: that host's ARP or
    /// neighbour cache holds `address` at `mac` (`None`: no entry) at
    /// `at` (default: the end).
    Cache {
        host: String,
        address: IpAddr,
        mac: Option<String>,
        at: Option<u64>,
    },
}

/// The name `cache = "..."` and the report give the clients' cache.
pub(crate) const CLIENTS: &str = "clients";

/// A time window, µs; the whole scenario by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub from: u64,
    pub(crate) until: u64,
}

/// One of the three requirements, by its name in `verdict = "..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Requirement {
    /// `load_balanced`.
    Balance,
    /// `failover_unnoticed`.
    Failover,
    /// `rebalanced_after_recovery`.
    Preemption,
}

impl Requirement {
    pub(crate) const ALL: [(&'static str, Requirement); 3] = [
        ("balance", Requirement::Balance),
        ("failover", Requirement::Failover),
        ("preemption", Requirement::Preemption),
    ];

    /// The name in `verdict = "..."`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Requirement::Balance => "balance",
            Requirement::Failover => "failover",
            Requirement::Preemption => "preemption",
        }
    }
}

/// Every kind of expectation (its own key), the keys it requires and the
/// keys it allows besides.
const KINDS: &[(&str, &[&str], &[&str])] = &[
    ("master", &["vip", "at"], &[]),
    ("state", &["node", "vip", "at"], &[]),
    ("longest_outage_below", &[], &["vip", "from", "until"]),
    ("no_dual_master", &[], &["vip", "from", "until"]),
    ("verdict", &["met"], &[]),
    ("answered", &["node", "vip", "at"], &[]),
    ("cache", &["address", "mac"], &["at"]),
];

/// The states `state = "..."` may name, as `ifconfig carpN state` writes
/// them (lower case).
const STATES: [(&str, CarpState); 3] = [
    ("init", CarpState::Init),
    ("backup", CarpState::Backup),
    ("master", CarpState::Master),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpect {
    master: Option<Spanned<String>>,
    state: Option<Spanned<String>>,
    longest_outage_below: Option<Spanned<Num>>,
    no_dual_master: Option<Spanned<bool>>,
    verdict: Option<Spanned<String>>,
    answered: Option<Spanned<bool>>,
    cache: Option<Spanned<String>>,
    met: Option<Spanned<bool>>,
    address: Option<Spanned<String>>,
    mac: Option<Spanned<String>>,
    vip: Option<Spanned<String>>,
    node: Option<Spanned<String>>,
    at: Option<Spanned<Num>>,
    from: Option<Spanned<Num>>,
    until: Option<Spanned<Num>>,
}

impl RawExpect {
    /// The kind keys given, with their spans.
    fn kinds(&self) -> Vec<(&'static str, Range<usize>)> {
        given!(self; master, state, longest_outage_below, no_dual_master, verdict, answered, cache)
    }

    /// The other keys given, with their spans.
    fn given(&self) -> Vec<(&'static str, Range<usize>)> {
        given!(self; met, vip, node, at, from, until, address, mac)
    }
}

impl ScenarioValidator<'_> {
    /// The `[[expect]]` entries that are right, in file order.
    pub(super) fn expects(
        &mut self,
        raw: Vec<Spanned<RawExpect>>,
        nodes: &[ScNode],
        config: &Config,
        events: &[TimedEvent],
        duration: u64,
    ) -> Vec<Expectation> {
        let index = super::node_index(nodes);
        let ctx = Context {
            index: &index,
            config,
            events,
            duration,
        };
        let mut out = Vec::new();
        for (i, e) in raw.into_iter().enumerate() {
            let span = e.span();
            let key = format!("expect[{i}]");
            let pos = Some(self.lines.pos(span.start));
            if let Some(what) = self.expect(&key, span, e.into_inner(), &ctx) {
                out.push(Expectation { key, pos, what });
            }
        }
        out
    }

    /// One `[[expect]]`: exactly one kind key, the keys that kind takes,
    /// then their values. Every error found is reported.
    fn expect(
        &mut self,
        key: &str,
        span: Range<usize>,
        e: RawExpect,
        c: &Context,
    ) -> Option<Expect> {
        let (index, config, duration) = (c.index, c.config, c.duration);
        let kind = self.expect_kind(key, &span, &e)?;
        let ctx = format!("{key} ({kind})");
        let (_, required, optional) = KINDS.iter().find(|k| k.0 == kind)?;
        let mut ok = true;
        let given = e.given();
        for (k, s) in &given {
            if !required.contains(k) && !optional.contains(k) {
                let takes: Vec<&str> = required.iter().chain(optional.iter()).copied().collect();
                let msg = if takes.is_empty() {
                    format!("{ctx}: key {k} does not apply to {kind}, which takes no other key")
                } else {
                    format!(
                        "{ctx}: key {k} does not apply to {kind}; it takes: {}",
                        takes.join(", ")
                    )
                };
                self.error(s, format!("{key}.{k}"), msg);
                ok = false;
            }
        }
        for r in *required {
            if !given.iter().any(|(k, _)| k == r) {
                self.error(
                    &span,
                    format!("{key}.{r}"),
                    format!("{ctx}: {r} is missing"),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        // Each value is checked, so that every mistake is reported: the
        // outer `None` is a wrong value, the inner one an absent key.
        let vip = match e.vip.clone() {
            Some(v) => self.vip_of(v, config, &ctx, key).map(Some),
            None => Some(None),
        };
        let at = match &e.at {
            Some(a) => self
                .instant(a, &format!("{key}.at"), &ctx, duration)
                .map(Some),
            None => Some(None),
        };
        let window = self.window(&e, key, &ctx, duration);
        match kind {
            "master" => {
                let m = e.master.as_ref()?;
                let node = self.node_named(m, index, &ctx, &format!("{key}.master"));
                Some(Expect::Master {
                    vip: vip??,
                    at: at??,
                    node: node?,
                })
            }
            "state" => {
                let node = self.node_of(&e.node, index, &ctx, key);
                let s = e.state.as_ref()?;
                let state = STATES.iter().find(|x| x.0 == s.get_ref()).map(|x| x.1);
                if state.is_none() {
                    let msg = format!(
                        "{ctx}: state \"{}\" is not one of init, backup, master",
                        s.get_ref().escape_debug()
                    );
                    self.error(&s.span(), format!("{key}.state"), msg);
                }
                let (vip, at, node) = (vip??, at??, node?);
                self.member(config, &vip, e.node.as_ref()?, &ctx, key)?;
                Some(Expect::State {
                    node,
                    vip,
                    at,
                    state: state?,
                })
            }
            "longest_outage_below" => {
                let b = e.longest_outage_below.as_ref()?;
                let below = self.seconds(
                    b,
                    &format!("{key}.longest_outage_below"),
                    1e-6,
                    MAX_DURATION_S,
                )?;
                Some(Expect::LongestOutageBelow {
                    vip: vip?,
                    below,
                    window: window?,
                })
            }
            "no_dual_master" => Some(Expect::NoDualMaster {
                vip: vip?,
                none: *e.no_dual_master.as_ref()?.get_ref(),
                window: window?,
            }),
            "answered" => {
                let node = self.node_of(&e.node, index, &ctx, key);
                let (vip, at, node) = (vip??, at??, node?);
                let sent = c.events.iter().any(|ev| {
                    ev.at == at
                        && matches!(&ev.action, Action::SendFromVip { node: n, vip: v, .. }
                            if *n == node && *v == vip)
                });
                if !sent {
                    let msg = format!(
                        "{ctx}: no send_from_vip event of node \"{}\" from VIP \"{vip}\" at \
                         {} s to judge",
                        e.node.as_ref()?.get_ref(),
                        at as f64 / 1e6
                    );
                    self.error(&span, format!("{key}.at"), msg);
                    return None;
                }
                Some(Expect::Answered {
                    node,
                    vip,
                    at,
                    answered: *e.answered.as_ref()?.get_ref(),
                })
            }
            "cache" => self.cache_expect(&e, key, &ctx, index, at?),
            _ => {
                let v = e.verdict.as_ref()?;
                let Some(&(_, requirement)) = Requirement::ALL.iter().find(|r| r.0 == v.get_ref())
                else {
                    let msg = format!(
                        "{ctx}: verdict \"{}\" is not one of balance, failover, preemption",
                        v.get_ref().escape_debug()
                    );
                    self.error(&v.span(), format!("{key}.verdict"), msg);
                    return None;
                };
                Some(Expect::Verdict {
                    requirement,
                    met: *e.met.as_ref()?.get_ref(),
                })
            }
        }
    }

    /// The one kind key of the table.
    fn expect_kind(
        &mut self,
        key: &str,
        span: &Range<usize>,
        e: &RawExpect,
    ) -> Option<&'static str> {
        let kinds = e.kinds();
        let names: Vec<&str> = KINDS.iter().map(|k| k.0).collect();
        match kinds.as_slice() {
            [(k, _)] => Some(k),
            [] => {
                let msg = format!(
                    "{key}: say what is expected with one of: {}",
                    names.join(", ")
                );
                self.error(span, key, msg);
                None
            }
            [(first, _), (k, s), ..] => {
                let msg =
                    format!("{key}: {first} and {k} in one table: one expectation per [[expect]]");
                self.error(s, format!("{key}.{k}"), msg);
                None
            }
        }
    }

    /// `cache`: the clients or a node, an address (no prefix), and a MAC
    /// address (`xx:xx:xx:xx:xx:xx`) or `"none"`.
    fn cache_expect(
        &mut self,
        e: &RawExpect,
        key: &str,
        ctx: &str,
        index: &BTreeMap<&str, usize>,
        at: Option<u64>,
    ) -> Option<Expect> {
        let host = e.cache.as_ref()?;
        let host_ok = host.get_ref() == CLIENTS
            || self
                .node_named(host, index, ctx, &format!("{key}.cache"))
                .is_some();
        let a = e.address.as_ref()?;
        let address = a.get_ref().parse::<IpAddr>().ok();
        if address.is_none() {
            let msg = format!(
                "{ctx}: address {:?} is not an address (no prefix length)",
                a.get_ref()
            );
            self.error(&a.span(), format!("{key}.address"), msg);
        }
        let m = e.mac.as_ref()?;
        let mac = match m.get_ref().as_str() {
            "none" => Some(None),
            s => parse_mac(s).map(Some),
        };
        if mac.is_none() {
            let msg = format!(
                "{ctx}: mac {:?} is not a MAC address like \"00:00:5e:00:01:01\", nor \"none\"",
                m.get_ref()
            );
            self.error(&m.span(), format!("{key}.mac"), msg);
        }
        if !host_ok {
            return None;
        }
        Some(Expect::Cache {
            host: host.get_ref().clone(),
            address: address?,
            mac: mac?,
            at,
        })
    }

    /// `from` and `until`, within the scenario, `from` before `until`.
    fn window(&mut self, e: &RawExpect, key: &str, ctx: &str, duration: u64) -> Option<Window> {
        let from = match &e.from {
            Some(f) => self.instant(f, &format!("{key}.from"), ctx, duration),
            None => Some(0),
        };
        let until = match &e.until {
            Some(u) => self.instant(u, &format!("{key}.until"), ctx, duration),
            None => Some(duration),
        };
        let (from, until) = (from?, until?);
        if from >= until {
            let msg = format!(
                "{ctx}: from {} is not before until {} (seconds)",
                from as f64 / 1e6,
                until as f64 / 1e6
            );
            let span = e.until.as_ref().or(e.from.as_ref()).map(Spanned::span);
            self.error(&span.unwrap_or_default(), format!("{key}.until"), msg);
            return None;
        }
        Some(Window { from, until })
    }

    /// The node takes part in the VIP (the VIP's interface is one of the
    /// node's), else its vhid never exists and the expectation is moot.
    fn member(
        &mut self,
        config: &Config,
        vip: &str,
        n: &Spanned<String>,
        ctx: &str,
        key: &str,
    ) -> Option<()> {
        let name = n.get_ref();
        let v = config.vips.iter().find(|v| v.name == vip)?;
        if v.prefer.as_ref().is_none_or(|p| p.contains(name)) {
            return Some(());
        }
        let msg = format!("{ctx}: node \"{name}\" does not take part in VIP \"{vip}\" (prefer)");
        self.error(&n.span(), format!("{key}.node"), msg);
        None
    }
}

/// What every `[[expect]]` is checked against.
pub(super) struct Context<'c> {
    index: &'c BTreeMap<&'c str, usize>,
    config: &'c Config,
    events: &'c [TimedEvent],
    duration: u64,
}

/// A MAC address as `MacAddr` reads it, written as it prints one
/// (`xx:xx:xx:xx:xx:xx`, lower case).
fn parse_mac(s: &str) -> Option<String> {
    s.parse::<crate::wire::frame::MacAddr>()
        .ok()
        .map(|m| m.to_string())
}
