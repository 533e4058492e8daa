//! Rollout plans (`carpctl rollout plan OLD NEW`, carpctl(8) ROLLOUTS):
//! the ordered steps, each a `carpctl apply` (or, for a node that leaves,
//! a `maintenance on`/`off`, [`leave`]) run on one named node, that take a
//! cluster from one cluster file to another with never two masters of a
//! VIP and no VIP changing hands more than once (but for a leaving node's
//! hand-over to a node that the new file does not make master, [`leave`]).
//!
//! Why an order matters: nodes apply one at a time, so in between they
//! disagree. carp(4) elects the node advertising the shortest interval,
//! `advbase + advskew/256` (`carp_input_c()`: a MASTER that hears a
//! shorter interval becomes BACKUP; with `net.inet.carp.preempt` a BACKUP
//! that hears a longer one takes over; sys/netinet/ip_carp.c). Each step
//! here changes one VIP on one node (`apply --only`, `apply --remove`),
//! and [`order`] searches the order of a VIP's nodes in which every mixed
//! state has one fastest node and the fastest node changes at most once.
//!
//! A password cannot change that way: a vhid whose key differs fails the
//! HMAC of the others' advertisements (`carp_hmac_verify()`), and each
//! side then believes itself alone: two masters. So the VIP is taken off
//! its backups, changed on its master (nobody else listens), and put back
//! on the backups with the new key; meanwhile the master is alone
//! ([`Plan::reduced`] says for how long).

mod leave;
mod order;
pub mod run;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{Config, Vip};
use crate::model::Protocol;

/// Which of the two files a step applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Which {
    Old,
    New,
}

/// One step: on `node`, `carpctl -c FILE` and its [`Command`].
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Seconds after the rollout starts.
    pub at: f64,
    pub node: String,
    pub file: Which,
    pub command: Command,
    /// The VIPs whose master this step changes: (VIP, from, to).
    pub moves: Vec<Move>,
    /// Why this step, in this place.
    pub why: String,
}

/// What a step runs after `carpctl -c FILE --node NODE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `apply --only VIP... --remove VIP...`: the whole file when both
    /// are empty.
    Apply {
        only: Vec<String>,
        remove: Vec<String>,
    },
    /// `maintenance on` (stepped, [`crate::maintenance`]) or `off`: a
    /// leaving node's hand-over before its VIPs are removed, and its
    /// demotion taken back after ([`leave`]).
    Maintenance { on: bool },
}

impl Command {
    /// The words after `--node NODE`.
    fn words(&self) -> Vec<String> {
        match self {
            Command::Apply { only, remove } => {
                let mut w = vec!["apply".to_string()];
                for v in only {
                    w.extend(["--only".into(), v.clone()]);
                }
                for v in remove {
                    w.extend(["--remove".into(), v.clone()]);
                }
                w
            }
            Command::Maintenance { on } => {
                vec!["maintenance".into(), if *on { "on" } else { "off" }.into()]
            }
        }
    }

    /// `apply`, `maintenance_on` or `maintenance_off`: the `action` of
    /// `rollout plan --json`.
    pub fn action(&self) -> &'static str {
        match self {
            Command::Apply { .. } => "apply",
            Command::Maintenance { on: true } => "maintenance_on",
            Command::Maintenance { on: false } => "maintenance_off",
        }
    }

    /// An apply's `--only` list (empty for a maintenance step).
    pub fn only(&self) -> &[String] {
        match self {
            Command::Apply { only, .. } => only,
            Command::Maintenance { .. } => &[],
        }
    }

    /// An apply's `--remove` list (empty for a maintenance step).
    pub fn remove(&self) -> &[String] {
        match self {
            Command::Apply { remove, .. } => remove,
            Command::Maintenance { .. } => &[],
        }
    }
}

/// The JSON of a step, as `rollout plan --json` has printed it since
/// before maintenance steps (`only` and `remove` on every step, empty
/// for a maintenance step), and `action` added.
impl Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            at: f64,
            node: &'a str,
            file: Which,
            only: &'a [String],
            remove: &'a [String],
            moves: &'a [Move],
            why: &'a str,
            action: &'static str,
        }
        Json {
            at: self.at,
            node: &self.node,
            file: self.file,
            only: self.command.only(),
            remove: self.command.remove(),
            moves: &self.moves,
            why: &self.why,
            action: self.command.action(),
        }
        .serialize(ser)
    }
}

/// A VIP changing hands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    pub vip: String,
    pub from: String,
    pub to: String,
}

/// A VIP held by its master alone for a while (a password change).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reduced {
    pub vip: String,
    pub node: String,
    /// Seconds after the rollout starts.
    pub from: f64,
    pub until: f64,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// The time allowed between two steps, s: three advertisement
    /// intervals of the slowest VIP and two seconds, so a step's takeover
    /// (or a new vhid's first election, `3 × advbase`) is over first.
    pub gap: f64,
    pub reduced: Vec<Reduced>,
}

/// Why a change cannot be planned safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl Step {
    /// The command to run on the step's node; `old` and `new` are the two
    /// files as that node knows them.
    pub fn command(&self, old: &str, new: &str) -> String {
        let words: Vec<String> = self.argv(old, new).iter().map(|w| arg(w)).collect();
        words.join(" ")
    }

    /// [`Step::command`] as argv words, `carpctl` first: what `rollout
    /// run` hands to ssh(1). Only the file's path and names: never a key.
    pub fn argv(&self, old: &str, new: &str) -> Vec<String> {
        let file = match self.file {
            Which::Old => old,
            Which::New => new,
        };
        let mut argv: Vec<String> = ["carpctl", "-c", file, "--node", &self.node]
            .map(String::from)
            .to_vec();
        argv.extend(self.command.words());
        argv
    }
}

/// `s` as one sh(1) word: as is when it is plain, else double-quoted.
pub(crate) fn arg(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@+=,".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        crate::rcconf::sh::quote(s)
    }
}

/// One VIP's settings on one node that decide the election: the
/// advertisement interval in 1/256 s (`advbase × 256 + advskew`), lower
/// wins.
pub(crate) type Interval = u32;

/// Per node of either file: the VIP's interval there, `None` when the node
/// takes no part.
pub(crate) type Members = BTreeMap<String, (Option<Interval>, Option<Interval>)>;

/// The plan from `old` to `new`, both validated with their keys read.
pub fn plan(old: &Config, new: &Config) -> Result<Plan, Refused> {
    cluster_unchanged(old, new)?;
    let old_plan = old.plan().map_err(|e| Refused(e.to_string()))?;
    let new_plan = new.plan().map_err(|e| Refused(e.to_string()))?;
    let advbase = old
        .vips
        .iter()
        .chain(&new.vips)
        .map(|v| v.advbase.get())
        .max()
        .unwrap_or(1);
    let gap = 3.0 * f64::from(advbase) + 2.0;
    let mut out = Plan {
        steps: Vec::new(),
        gap,
        reduced: Vec::new(),
    };
    // Nodes that leave: `maintenance on` first, so their VIPs move by
    // preemption, once, before anything else changes.
    let leaving = leave::leaving(old, &old_plan, new);
    for l in &leaving {
        let s = step(&out, l, Which::Old, Command::Maintenance { on: true });
        out.steps.push(Step {
            why: format!(
                "{l} leaves the cluster: maintenance on hands each VIP it is MASTER of to its \
                 next rank by preemption, so removing its vhids later moves nothing"
            ),
            ..s
        });
    }
    let mut names: Vec<&str> = old.vips.iter().map(|v| v.name.as_str()).collect();
    names.extend(
        new.vips
            .iter()
            .map(|v| v.name.as_str())
            .filter(|n| !old.vips.iter().any(|v| v.name == *n)),
    );
    for name in names {
        let ov = old.vips.iter().find(|v| v.name == name);
        let nv = new.vips.iter().find(|v| v.name == name);
        let mut members = members(old, ov, &old_plan, new, nv, &new_plan);
        if let (Some(ov), Some(nv)) = (ov, nv) {
            vip_unchanged(old, ov, new, nv, &members)?;
            if ov.key != nv.key {
                password(&mut out, name, &members)?;
                continue;
            }
        } else if let Some(v) = ov.or(nv)
            && (v.unicast || v.protocol != Protocol::Carp)
        {
            // Added or removed whole: its members' order still matters.
            simple_only(v)?;
        }
        // The hand-over of the leaving nodes' maintenance steps: its move
        // is the VIP's one move, and the order starts after it.
        let handed = leave::hand_over(name, &mut members, &leaving)?;
        for (i, mv) in &handed.moves {
            out.steps[*i].moves.push(mv.clone());
        }
        // The search takes an order with no move when there is one; one
        // move after a hand-over is left when the new file makes another
        // node than the next rank master (a skew change, so a
        // preemption too).
        let seq = order::order(name, &members, 1, handed.master.as_ref())?;
        for (node, moved) in seq {
            let (o, n) = members[&node];
            let step = match (o, n) {
                (Some(_), None) => step(&out, &node, Which::Old, apply(vec![], vec![name.into()])),
                _ => step(&out, &node, Which::New, apply(vec![name.into()], vec![])),
            };
            let why = match (o, n) {
                (None, _) => format!("{name} starts on {node}"),
                (_, None) if leaving.contains(&node) => {
                    format!("{name} leaves {node}, which is in maintenance (BACKUP)")
                }
                (_, None) => format!("{name} leaves {node}"),
                _ => format!("{name} takes its new settings on {node}"),
            };
            let moves = moved
                .map(|(from, to)| Move {
                    vip: name.into(),
                    from,
                    to,
                })
                .into_iter()
                .collect();
            out.steps.push(Step { why, moves, ..step });
        }
    }
    // Last, the whole file on every node of the new one: nothing left to
    // change in carp(4); what the file says besides (checks, hooks) is
    // the daemon's.
    for n in &new.nodes {
        let s = step(&out, &n.name, Which::New, apply(vec![], vec![]));
        out.steps.push(Step {
            why: "the whole new file (no carp(4) change expected)".into(),
            ..s
        });
    }
    // And each leaving node's demotion taken back: it has no vhid left,
    // so nothing moves, and the machine is not left demoted for whoever
    // uses it next (the ledger keeps maintenance across reboots).
    for l in &leaving {
        let s = step(&out, l, Which::Old, Command::Maintenance { on: false });
        out.steps.push(Step {
            why: format!(
                "{l} has no vhid left: maintenance off takes back its demotion (moves nothing)"
            ),
            ..s
        });
    }
    Ok(out)
}

/// A step at the next free time.
fn step(plan: &Plan, node: &str, file: Which, command: Command) -> Step {
    Step {
        at: plan.steps.len() as f64 * plan.gap,
        node: node.into(),
        file,
        command,
        moves: Vec::new(),
        why: String::new(),
    }
}

/// `apply --only ONLY --remove REMOVE`.
fn apply(only: Vec<String>, remove: Vec<String>) -> Command {
    Command::Apply { only, remove }
}

/// Each node of either file with the VIP's interval there.
fn members(
    old: &Config,
    ov: Option<&Vip>,
    old_plan: &crate::plan::Plan,
    new: &Config,
    nv: Option<&Vip>,
    new_plan: &crate::plan::Plan,
) -> Members {
    let interval = |cfg: &Config, v: Option<&Vip>, p: &crate::plan::Plan, node: &str| {
        let v = v?;
        cfg.node(node)?;
        let skew = p.vip(&v.name)?.advskew_of(node)?;
        Some(Interval::from(v.advbase.get()) * 256 + Interval::from(skew.get()))
    };
    let mut m = Members::new();
    for n in old.nodes.iter().chain(&new.nodes) {
        let o = interval(old, ov, old_plan, &n.name);
        let w = interval(new, nv, new_plan, &n.name);
        if o.is_some() || w.is_some() {
            m.insert(n.name.clone(), (o, w));
        }
    }
    m
}

/// What no order of steps makes safe: `[cluster] preempt` (the whole
/// node's, applied by no `--only` step).
fn cluster_unchanged(old: &Config, new: &Config) -> Result<(), Refused> {
    if old.cluster.preempt != new.cluster.preempt {
        return Err(Refused(
            "[cluster] preempt changes: roll that out on its own (apply on every node), not \
             with a rollout plan"
                .into(),
        ));
    }
    Ok(())
}

/// A VIP in both files keeps what no step can change without an outage
/// or a second master: vhid, interface (and each node's real one),
/// addresses, protocol, unicast. A password change comes alone.
fn vip_unchanged(
    old: &Config,
    ov: &Vip,
    new: &Config,
    nv: &Vip,
    members: &Members,
) -> Result<(), Refused> {
    let name = &ov.name;
    let refuse = |what: &str| {
        Err(Refused(format!(
            "VIP {name}: its {what} changes; that cannot be rolled out without an outage or \
             two masters: remove the VIP in one rollout and add it, changed, in another"
        )))
    };
    if ov.vhid != nv.vhid {
        return refuse("vhid");
    }
    if ov.interface != nv.interface {
        return refuse("interface");
    }
    if ov.protocol != nv.protocol || ov.unicast != nv.unicast {
        return refuse("protocol or unicast setting");
    }
    if ov.addresses != nv.addresses {
        return refuse("address list");
    }
    for node in members.keys() {
        if let (Some(o), Some(n)) = (old.node(node), new.node(node))
            && o.real_interface(&ov.interface) != n.real_interface(&nv.interface)
        {
            return refuse(&format!("real interface on node {node}"));
        }
    }
    let settings_change = members.values().any(|(o, n)| o != n);
    if ov.key != nv.key && settings_change {
        return Err(Refused(format!(
            "VIP {name}: its password changes together with its members or skews; roll out \
             the password change first, then the rest"
        )));
    }
    if settings_change && (ov.unicast || ov.protocol != Protocol::Carp) {
        return simple_only(ov);
    }
    if ov.protocol != Protocol::Carp && ov.key != nv.key {
        return Err(Refused(format!(
            "VIP {name}: VRRPv3 has no password; nothing to roll out"
        )));
    }
    Ok(())
}

/// Unicast and VRRPv3 VIPs: only a password change, or the whole VIP
/// added or removed, is planned (their peers and priorities are not
/// modelled by [`order`]).
fn simple_only(v: &Vip) -> Result<(), Refused> {
    let name = &v.name;
    match (v.unicast, v.protocol) {
        (true, _) => Err(Refused(format!(
            "VIP {name} is unicast: its members name each other as peers, and a rollout plan \
             changes only multicast CARP VIPs' members and skews"
        ))),
        _ => Err(Refused(format!(
            "VIP {name} is VRRPv3: a rollout plan changes only CARP VIPs' members and skews"
        ))),
    }
}

/// A password change: the VIP off every backup, changed on the master,
/// back on the backups with the new key.
fn password(out: &mut Plan, name: &str, members: &Members) -> Result<(), Refused> {
    let master = order::master(members.iter().map(|(n, (o, _))| (n, *o)))
        .ok_or_else(|| Refused(format!("VIP {name}: no single planned master (a tie)")))?;
    let backups: Vec<&String> = members.keys().filter(|n| **n != master).collect();
    let from = out.steps.len() as f64 * out.gap;
    for b in &backups {
        let s = step(out, b, Which::Old, apply(vec![], vec![name.into()]));
        out.steps.push(Step {
            why: format!(
                "{name} leaves backup {b}, so no old key is heard once the master changes"
            ),
            ..s
        });
    }
    let s = step(out, &master, Which::New, apply(vec![name.into()], vec![]));
    out.steps.push(Step {
        why: format!("{name} gets its new password on its master {master}, which is alone"),
        ..s
    });
    for b in &backups {
        let s = step(out, b, Which::New, apply(vec![name.into()], vec![]));
        out.steps.push(Step {
            why: format!("{name} is back on backup {b}, with the new password"),
            ..s
        });
    }
    if !backups.is_empty() {
        out.reduced.push(Reduced {
            vip: name.into(),
            node: master,
            from,
            until: out.steps.len() as f64 * out.gap,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
