//! The `[[event]]` entries of a scenario: the actions, the keys each one
//! takes, and their validation (carpctl.scenario(5), "The [[event]]
//! tables").

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;

use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

use super::{Num, ScNode, ScenarioValidator, SpannedList};
use crate::config::{self, Config, Diagnostic};
use crate::kernel::Errno;
use crate::model::Key;
use crate::textfile::Pos;

/// One `[[event]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedEvent {
    /// µs.
    pub at: u64,
    pub action: Action,
    /// Where it is in the scenario file (for messages).
    pub pos: Option<Pos>,
}

/// What happens. Nodes are indexes into [`Scenario::nodes`].
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The node stops dead: no more packets, its state is lost.
    Crash { node: usize },
    /// The node boots: a fresh kernel, then the same `apply` a real node
    /// runs at boot.
    Boot { node: usize },
    /// The link of one interface (or all) goes down / up.
    Link {
        node: usize,
        interface: Option<String>,
        up: bool,
    },
    /// Frames no longer pass between nodes of different groups.
    Partition { groups: Vec<Vec<usize>> },
    /// Every partition ends.
    Heal,
    /// Each frame is lost with this probability (0..=1), on the whole
    /// segment, to and from one node, or in one direction.
    Loss { scope: LossScope, fraction: f64 },
    /// `carpctl maintenance on/off`: a demotion of 240 (`CARP_MAXSKEW`);
    /// `on` in steps (`crate::maintenance`) unless `stepped` is false
    /// (`procedure = "one_step"`, the procedure before the steps, kept to
    /// measure against); `step` is the step of a rollout it is (a
    /// leaving node's hand-over, and its end).
    Maintenance {
        node: usize,
        on: bool,
        stepped: bool,
        step: Option<usize>,
    },
    /// A `[[check]]` of the cluster file fails / passes again: a demotion
    /// by its weight.
    Check {
        node: usize,
        check: String,
        weight: u16,
        failing: bool,
    },
    /// Add `by` to the node's `net.inet.carp.demotion`.
    Demote { node: usize, by: i32 },
    /// One node's cluster file gets another password for a VIP, and the
    /// node runs `apply`.
    Password { node: usize, vip: String, key: Key },
    /// One node's cluster file gets another address list for a VIP, and
    /// the node runs `apply`.
    Addresses {
        node: usize,
        vip: String,
        addresses: Vec<IpNet>,
    },
    /// `[cluster] preempt` changes on one node (or all), which runs
    /// `apply`.
    Preempt { node: Option<usize>, on: bool },
    /// Every packet the node sends fails with `errno` (`None`: sending
    /// works again), as `ip_output()` errors do.
    SendErrors { node: usize, errno: Option<Errno> },
    /// `ifconfig IF vhid N state master|backup` on the node's vhid of the
    /// VIP (`carp_ioctl_set()`: MASTER through `carp_master_down_locked()`,
    /// BACKUP with the timers re-armed); nothing in INIT.
    ForceState {
        node: usize,
        vip: String,
        master: bool,
    },
    /// `ifconfig IF down` / `up` (`IFF_UP`) of one interface (or all).
    Admin {
        node: usize,
        interface: Option<String>,
        up: bool,
    },
    /// `sysctl net.inet.carp.allow=0|1` on the node.
    CarpAllow { node: usize, on: bool },
    /// The node sends traffic from the VIP's address of `to`'s family to
    /// `to` (`ping -6 -S VIP TO`), and the run records whether it was
    /// answered.
    SendFromVip {
        node: usize,
        vip: String,
        to: IpAddr,
    },
    /// The node runs `carpctl -c FILE apply` with [`Scenario::files`]
    /// `[file]`, on the VIPs `only` (all when empty and `remove` is
    /// empty), taking the VIPs `remove` off; `step` is the step of a
    /// rollout it is (1, 2, ...).
    ///
    /// [`Scenario::files`]: super::Scenario::files
    Apply {
        node: usize,
        file: usize,
        only: Vec<String>,
        remove: Vec<String>,
        step: Option<usize>,
    },
    /// `carpctl switchover VIP [--to NODE]` (`back`: `--back`), run on
    /// the nodes of the VIP in the order the procedure gives
    /// ([`crate::switchover::procedure`]); `to` indexes
    /// [`Scenario::nodes`](super::Scenario::nodes).
    Switchover {
        vip: String,
        to: Option<usize>,
        back: bool,
    },
    /// A `rollout` as written: replaced by its steps, as `Apply` (and
    /// `Maintenance`) events, before the scenario is returned.
    Rollout {
        from: usize,
        to: usize,
        plan: crate::rollout::Plan,
    },
}

/// Where a `loss` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossScope {
    /// Every frame on the segment.
    Segment,
    /// Frames to and from the node.
    Node(usize),
    /// Frames the node sends.
    From(usize),
    /// Frames the node receives.
    To(usize),
    /// Frames from one node to another (the other way is not touched).
    Between { from: usize, to: usize },
}

impl Action {
    /// Whether the action can only make things worse (a fault) rather
    /// than better or neutral.
    pub fn is_fault(&self) -> bool {
        match self {
            Action::Crash { .. } | Action::Partition { .. } => true,
            Action::Link { up, .. } => !up,
            Action::Loss { fraction, .. } => *fraction > 0.0,
            Action::Maintenance { on, .. } => *on,
            Action::Check { failing, .. } => *failing,
            Action::Demote { by, .. } => *by > 0,
            Action::SendErrors { errno, .. } => errno.is_some(),
            Action::Admin { up, .. } => !up,
            Action::CarpAllow { on, .. } => !on,
            Action::Password { .. } | Action::Addresses { .. } | Action::ForceState { .. } => true,
            Action::Apply { .. } | Action::Rollout { .. } | Action::Switchover { .. } => true,
            Action::Preempt { .. }
            | Action::Boot { .. }
            | Action::Heal
            | Action::SendFromVip { .. } => false,
        }
    }

    /// The action's name as written in the file.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Crash { .. } => "crash",
            Action::Boot { .. } => "boot",
            Action::Link { up: false, .. } => "link_down",
            Action::Link { up: true, .. } => "link_up",
            Action::Partition { .. } => "partition",
            Action::Heal => "heal",
            Action::Loss { .. } => "loss",
            Action::Maintenance { on: true, .. } => "maintenance_on",
            Action::Maintenance { on: false, .. } => "maintenance_off",
            Action::Check { failing: true, .. } => "check_fail",
            Action::Check { failing: false, .. } => "check_pass",
            Action::Demote { .. } => "demote",
            Action::Password { .. } => "password",
            Action::Addresses { .. } => "addresses",
            Action::Preempt { .. } => "preempt",
            Action::SendErrors { errno: Some(_), .. } => "send_errors",
            Action::SendErrors { errno: None, .. } => "send_ok",
            Action::ForceState { .. } => "state",
            Action::Admin { up: false, .. } => "ifconfig_down",
            Action::Admin { up: true, .. } => "ifconfig_up",
            Action::CarpAllow { .. } => "carp_allow",
            Action::SendFromVip { .. } => "send_from_vip",
            Action::Apply { .. } => "apply",
            Action::Rollout { .. } => "rollout",
            Action::Switchover { .. } => "switchover",
        }
    }
}

/// The event's node, and where the file names it.
pub(super) struct Member {
    pub(super) node: usize,
    pub(super) span: Range<usize>,
}

/// Every action, and the keys each one takes besides `at` and `action`.
const ACTIONS: &[(&str, &[&str], &[&str])] = &[
    // (name, required keys, optional keys)
    ("crash", &["node"], &[]),
    ("boot", &["node"], &[]),
    ("link_down", &["node"], &["interface"]),
    ("link_up", &["node"], &["interface"]),
    ("partition", &["groups"], &[]),
    ("heal", &[], &[]),
    ("loss", &["percent"], &["node", "from", "to"]),
    ("maintenance_on", &["node"], &["procedure"]),
    ("maintenance_off", &["node"], &[]),
    ("check_fail", &["node", "check"], &[]),
    ("check_pass", &["node", "check"], &[]),
    ("demote", &["node", "by"], &[]),
    ("password", &["node", "vip", "password"], &[]),
    ("addresses", &["node", "vip", "addresses"], &[]),
    ("preempt", &["value"], &["node"]),
    ("send_errors", &["node"], &["errno"]),
    ("send_ok", &["node"], &[]),
    ("state", &["node", "vip", "state"], &[]),
    ("ifconfig_down", &["node"], &["interface"]),
    ("ifconfig_up", &["node"], &["interface"]),
    ("carp_allow", &["node", "value"], &[]),
    ("send_from_vip", &["node", "vip", "to"], &[]),
    ("apply", &["node", "file"], &[]),
    ("rollout", &["file"], &["old"]),
    ("switchover", &["vip"], &["to", "back"]),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvent {
    pub(super) at: Option<Spanned<Num>>,
    pub(super) action: Option<Spanned<String>>,
    pub(super) node: Option<Spanned<String>>,
    pub(super) interface: Option<Spanned<String>>,
    pub(super) groups: Option<Spanned<Vec<SpannedList>>>,
    pub(super) percent: Option<Spanned<Num>>,
    pub(super) check: Option<Spanned<String>>,
    pub(super) by: Option<Spanned<i64>>,
    pub(super) vip: Option<Spanned<String>>,
    /// A raw value: see [`Raw::passwords`].
    pub(super) password: Option<Spanned<toml::Value>>,
    pub(super) addresses: Option<SpannedList>,
    pub(super) value: Option<Spanned<bool>>,
    pub(super) errno: Option<Spanned<String>>,
    pub(super) state: Option<Spanned<String>>,
    pub(super) from: Option<Spanned<String>>,
    pub(super) to: Option<Spanned<String>>,
    /// `maintenance_on`: "stepped" (the default) or "one_step".
    pub(super) procedure: Option<Spanned<String>>,
    /// `apply`, `rollout`: a cluster file, relative to the scenario.
    pub(super) file: Option<Spanned<String>>,
    /// `rollout`: the file the nodes run before (default: `cluster`).
    pub(super) old: Option<Spanned<String>>,
    /// `switchover`: end one (`--back`).
    pub(super) back: Option<Spanned<bool>>,
}

impl RawEvent {
    /// The keys given, with their spans.
    fn given(&self) -> Vec<(&'static str, Range<usize>)> {
        given!(self; node, interface, groups, percent, check, by, vip, password, addresses, value,
            errno, state, from, to, procedure, file, old, back)
    }
}

impl ScenarioValidator<'_> {
    /// One `[[event]]`: its action, its time, the keys the action takes,
    /// then the action's own values, one function per action. Every error
    /// found is reported; `None` when there was one.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn event(
        &mut self,
        i: usize,
        span: Range<usize>,
        e: RawEvent,
        index: &BTreeMap<&str, usize>,
        nodes: &[ScNode],
        config: &Config,
        duration: u64,
    ) -> Option<TimedEvent> {
        let key = format!("event[{i}]");
        let pos = Some(self.lines.pos(span.start));
        let (name, required, optional) = self.event_action(&e, &span, &key)?;
        let ctx = format!("{key} ({name})");
        let at = self.event_at(&e, &span, &key, &ctx, duration);
        if !self.event_keys(&e, &span, &key, &ctx, name, required, optional) {
            return None;
        }
        let node = if e.node.is_some() {
            Some(self.node_of(&e.node, index, &ctx, &key)?)
        } else {
            None
        };
        let action = self.action(name, e, node, index, nodes, config, &ctx, &key)?;
        Some(TimedEvent {
            at: at?,
            action,
            pos,
        })
    }

    /// The event's action: its name and the keys it requires and allows.
    fn event_action(
        &mut self,
        e: &RawEvent,
        span: &Range<usize>,
        key: &str,
    ) -> Option<(
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    )> {
        let Some(action) = &e.action else {
            self.error(
                span,
                format!("{key}.action"),
                format!("{key}: action is missing"),
            );
            return None;
        };
        let name = action.get_ref().as_str();
        let Some(&found) = ACTIONS.iter().find(|a| a.0 == name) else {
            let known: Vec<&str> = ACTIONS.iter().map(|a| a.0).collect();
            let msg = format!(
                "{key}: unknown action \"{name}\"; one of: {}",
                known.join(", ")
            );
            self.error(&action.span(), format!("{key}.action"), msg);
            return None;
        };
        Some(found)
    }

    /// The event's time in µs, within the scenario's `duration`.
    fn event_at(
        &mut self,
        e: &RawEvent,
        span: &Range<usize>,
        key: &str,
        ctx: &str,
        duration: u64,
    ) -> Option<u64> {
        match &e.at {
            None => {
                self.error(
                    span,
                    format!("{key}.at"),
                    format!("{ctx}: at is missing (seconds)"),
                );
                None
            }
            Some(a) => self.instant(a, &format!("{key}.at"), ctx, duration),
        }
    }

    /// A time in µs within the scenario (0 to `duration`), given as the
    /// value of `key` (its full name, e.g. `event[3].at`).
    pub(super) fn instant(
        &mut self,
        a: &Spanned<Num>,
        key: &str,
        ctx: &str,
        duration: u64,
    ) -> Option<u64> {
        let s = a.get_ref().get();
        if s.is_finite() && s >= 0.0 && (s * 1e6).round() as u64 <= duration {
            Some((s * 1e6).round() as u64)
        } else {
            let name = key.rsplit('.').next().unwrap_or(key);
            let msg = format!(
                "{ctx}: {name} {s} is outside the scenario (0 to duration {} s)",
                duration as f64 / 1e6
            );
            self.error(&a.span(), key, msg);
            None
        }
    }

    /// Every key given applies to the action, and every key it requires is
    /// given.
    #[allow(clippy::too_many_arguments)]
    fn event_keys(
        &mut self,
        e: &RawEvent,
        span: &Range<usize>,
        key: &str,
        ctx: &str,
        name: &str,
        required: &[&str],
        optional: &[&str],
    ) -> bool {
        let given = e.given();
        let mut ok = true;
        for (k, s) in &given {
            if !required.contains(k) && !optional.contains(k) {
                let mut msg = format!("{ctx}: key {k} does not apply to {name}");
                if required.is_empty() && optional.is_empty() {
                    msg.push_str(&format!("; {name} takes only at and action"));
                } else {
                    let all: Vec<&str> = required.iter().chain(optional).copied().collect();
                    msg.push_str(&format!("; {name} takes {}", all.join(", ")));
                }
                self.error(s, format!("{key}.{k}"), msg);
                ok = false;
            }
        }
        for k in required {
            if !given.iter().any(|(g, _)| g == k) {
                self.error(span, format!("{key}.{k}"), format!("{ctx}: {k} is missing"));
                ok = false;
            }
        }
        ok
    }

    /// The action `name` with its values from `e`; `node` is the event's
    /// node, when it names one.
    #[allow(clippy::too_many_arguments)]
    fn action(
        &mut self,
        name: &str,
        e: RawEvent,
        node: Option<usize>,
        index: &BTreeMap<&str, usize>,
        nodes: &[ScNode],
        config: &Config,
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        let need = |n: Option<usize>| n.unwrap_or(usize::MAX);
        let at_node = e.node.as_ref().map(Spanned::span).unwrap_or_default();
        let member = Member {
            node: need(node),
            span: at_node,
        };
        let action = match name {
            "crash" => Action::Crash { node: need(node) },
            "boot" => Action::Boot { node: need(node) },
            "link_down" | "link_up" => {
                self.link_action(e.interface, need(node), name == "link_up", nodes, ctx, key)?
            }
            "partition" => self.partition_action(e.groups?, index, nodes, ctx, key)?,
            "heal" => Action::Heal,
            "loss" => {
                let scope = self.loss_scope(&e, node, index, ctx, key)?;
                self.loss_action(e.percent?, scope, ctx, key)?
            }
            "maintenance_on" => self.maintenance_on_action(e.procedure, need(node), ctx, key)?,
            "maintenance_off" => Action::Maintenance {
                node: need(node),
                on: false,
                stepped: true,
                step: None,
            },
            "check_fail" | "check_pass" => {
                self.check_action(e.check?, need(node), name == "check_fail", config, ctx, key)?
            }
            "demote" => self.demote_action(e.by?, need(node), ctx, key)?,
            "password" => {
                let vip = self.vip_of(e.vip?, config, ctx, key)?;
                self.password_action(e.password?, need(node), vip, ctx, key)?
            }
            "addresses" => {
                let vip = self.vip_of(e.vip?, config, ctx, key)?;
                self.addresses_action(e.addresses?, need(node), vip, ctx, key)?
            }
            "preempt" => Action::Preempt {
                node,
                on: *e.value?.get_ref(),
            },
            "send_errors" => self.send_errors_action(e.errno.as_ref(), need(node), ctx, key)?,
            "send_ok" => Action::SendErrors {
                node: need(node),
                errno: None,
            },
            "state" => {
                let vip = self.vip_of(e.vip?, config, ctx, key)?;
                self.force_state_action(e.state?, member, vip, nodes, config, ctx, key)?
            }
            "ifconfig_down" | "ifconfig_up" => {
                let up = name == "ifconfig_up";
                match self.link_action(e.interface, need(node), up, nodes, ctx, key)? {
                    Action::Link {
                        node, interface, ..
                    } => Action::Admin {
                        node,
                        interface,
                        up,
                    },
                    _ => return None,
                }
            }
            "carp_allow" => Action::CarpAllow {
                node: need(node),
                on: *e.value?.get_ref(),
            },
            "send_from_vip" => {
                let vip = self.vip_of(e.vip?, config, ctx, key)?;
                self.send_from_vip_action(e.to?, member, vip, nodes, config, ctx, key)?
            }
            "apply" => self.apply_action(e.file?, need(node), nodes, ctx, key)?,
            "rollout" => self.rollout_action(e.file?, e.old, ctx, key)?,
            "switchover" => {
                let v = e.vip?;
                let at = v.span();
                let vip = self.vip_of(v, config, ctx, key)?;
                self.switchover_action((vip, at), e.to, e.back, index, config, ctx, key)?
            }
            _ => return None,
        };
        Some(action)
    }

    pub(super) fn vip_of(
        &mut self,
        v: Spanned<String>,
        config: &Config,
        ctx: &str,
        key: &str,
    ) -> Option<String> {
        if !self.name_ok(&v, config::NAME_MAX, &format!("{key}.vip"), "vip") {
            return None;
        }
        if config.vips.iter().any(|x| x.name == *v.get_ref()) {
            return Some(v.into_inner());
        }
        let known: Vec<&str> = config.vips.iter().map(|x| x.name.as_str()).collect();
        let msg = format!(
            "{ctx}: the cluster file has no VIP \"{}\" (its VIPs: {})",
            v.get_ref(),
            known.join(", ")
        );
        self.error(&v.span(), format!("{key}.vip"), msg);
        None
    }

    /// Crash and boot must alternate per node.
    pub(super) fn sequence(&mut self, events: &[TimedEvent], nodes: &[ScNode]) {
        let mut up: Vec<Option<u64>> = nodes.iter().map(|n| n.up.then_some(0)).collect();
        let mut down_since: Vec<Option<u64>> = nodes.iter().map(|n| (!n.up).then_some(0)).collect();
        for e in events {
            let at = e.at as f64 / 1e6;
            let (node, going_up) = match &e.action {
                Action::Crash { node } => (*node, false),
                Action::Boot { node } => (*node, true),
                _ => continue,
            };
            let Some(n) = nodes.get(node) else { continue };
            let msg = match (going_up, up[node], down_since[node]) {
                (false, None, Some(t)) => Some(format!(
                    "crash of \"{}\" at {at} s: it is already down (since {} s)",
                    n.name,
                    t as f64 / 1e6
                )),
                (true, Some(t), _) => Some(format!(
                    "boot of \"{}\" at {at} s: it is already running (since {} s); crash it first",
                    n.name,
                    t as f64 / 1e6
                )),
                _ => None,
            };
            if let Some(msg) = msg {
                self.diags
                    .push(Diagnostic::error(msg).in_file(self.path).at(e.pos));
                continue;
            }
            if going_up {
                up[node] = Some(e.at);
                down_since[node] = None;
            } else {
                up[node] = None;
                down_since[node] = Some(e.at);
            }
        }
    }
}
