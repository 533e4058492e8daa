//! The scenario's timeline: each `[[event]]` at its time.

use super::*;
use scenario::LossScope;

/// What `set_parent` changes: the link, or `IFF_UP`.
#[derive(Debug, Clone, Copy)]
enum Parent {
    Link,
    Admin,
}

impl Sim<'_, '_> {
    /// Scenario event `i`, at its own time: every running kernel's clock is
    /// brought to the event first, so that whatever the event makes a
    /// kernel do (a demotion, an address change, ...) arms its timers from
    /// the event's time, not from the last frame that kernel received.
    pub(super) fn script(&mut self, i: usize) -> Result<(), SimError> {
        self.clocks_to_now();
        let ev = &self.sc.events[i];
        if self.steady.is_none() && ev.action.is_fault() {
            self.snapshot();
        }
        let detail = event_detail(&ev.action, &self.sc.nodes, self.sc.cluster_files());
        self.events.push(EventRecord {
            time: to_s(self.now),
            action: ev.action.name().to_string(),
            detail,
        });
        match ev.action.clone() {
            Action::Crash { node } => self.crash(node),
            Action::Boot { node } => self.boot(node)?,
            Action::Link {
                node,
                interface,
                up,
            } => self.set_parent(node, interface.as_deref(), Parent::Link, up)?,
            Action::Admin {
                node,
                interface,
                up,
            } => self.set_parent(node, interface.as_deref(), Parent::Admin, up)?,
            Action::ForceState { node, vip, master } => self.force_state(node, &vip, master)?,
            Action::CarpAllow { node, on } => self.carp_allow(node, on)?,
            Action::SendFromVip { node, vip, to } => self.send_from_vip(node, &vip, to),
            Action::Partition { groups } => {
                for (g, members) in groups.iter().enumerate() {
                    for &n in members {
                        self.nodes[n].group = g;
                    }
                }
                self.partitioned = true;
            }
            Action::Heal => {
                for n in &mut self.nodes {
                    n.group = 0;
                }
                self.partitioned = false;
            }
            Action::Loss { scope, fraction } => match scope {
                LossScope::Segment => self.seg_loss = fraction,
                LossScope::Node(n) => self.nodes[n].loss = fraction,
                LossScope::From(n) => self.nodes[n].loss_from = fraction,
                LossScope::To(n) => self.nodes[n].loss_to = fraction,
                LossScope::Between { from, to } => {
                    self.loss_between.insert((from, to), fraction);
                }
            },
            Action::Maintenance {
                node, on, stepped, ..
            } => self.maintenance(node, on, stepped)?,
            Action::Check {
                node,
                check,
                weight,
                failing,
            } => self.set_check(node, check, weight, failing)?,
            Action::Demote { node, by } => self.demote(node, by)?,
            Action::Password { node, vip, key } => {
                self.nodes[node].keys.insert(vip, key);
                self.apply(node)?;
            }
            Action::Addresses {
                node,
                vip,
                addresses,
            } => {
                self.nodes[node].addresses.insert(vip, addresses);
                self.apply(node)?;
            }
            Action::Preempt { node, on } => self.set_preempt(node, on)?,
            Action::Apply {
                node,
                file,
                only,
                remove,
                ..
            } => self.apply_event(node, file, only, remove)?,
            // Replaced by its steps when the scenario was read.
            Action::Rollout { .. } => {}
            Action::Switchover { vip, to, back } => self.switchover(&vip, to, back)?,
            Action::SendErrors { node, errno } => {
                self.nodes[node].send_error = errno;
                if let Some(live) = live(&mut self.nodes[node].kernel) {
                    live.set_send_error(errno);
                }
            }
        }
        Ok(())
    }
    /// `link_down`, `link_up`, `ifconfig_down`, `ifconfig_up`: one
    /// interface of the node, or every one. Both reach carp(4) through
    /// `carp_linkstate()` ([`Live::set_link`], [`Live::set_admin`]).
    fn set_parent(
        &mut self,
        node: usize,
        interface: Option<&str>,
        what: Parent,
        up: bool,
    ) -> Result<(), SimError> {
        let names: Vec<String> = self.nodes[node]
            .ifaces
            .iter()
            .filter(|i| interface.is_none_or(|n| *n == i.name))
            .map(|i| i.name.clone())
            .collect();
        for ifname in names {
            if let Some(i) = self.nodes[node]
                .ifaces
                .iter_mut()
                .find(|i| i.name == ifname)
            {
                match what {
                    Parent::Link => i.link_up = up,
                    Parent::Admin => i.admin_up = up,
                }
            }
            let now = self.now;
            if let Some(live) = live(&mut self.nodes[node].kernel) {
                live.set_now(now);
                let done = match what {
                    Parent::Link => live.set_link(&ifname, up),
                    Parent::Admin => live.set_admin(&ifname, up),
                };
                done.map_err(|e| self.node_err(node, format!("{what:?} {ifname}: {e}")))?;
            }
            self.drain(node)?;
        }
        for v in 0..self.vips.len() {
            self.mark(v);
        }
        Ok(())
    }

    /// `state`: `ifconfig IF vhid N state master|backup` on a running node
    /// (the same SIOCSVH / netlink SET request, state only); a node that
    /// is down has no vhid to force.
    fn force_state(&mut self, node: usize, vip: &str, master: bool) -> Result<(), SimError> {
        let Some(v) = self.vips.iter().position(|v| *v.name == *vip) else {
            return Ok(());
        };
        let Some(pos) = self.vips[v].member_if[node] else {
            return Ok(());
        };
        let (ifname, vhid) = (self.nodes[node].ifaces[pos].name.clone(), self.vips[v].vhid);
        let vh = crate::model::Vhid::new(i64::from(vhid))
            .map_err(|e| self.node_err(node, e.to_string()))?;
        let update = crate::model::VhidUpdate {
            state: Some(if master {
                CarpState::Master
            } else {
                CarpState::Backup
            }),
            ..Default::default()
        };
        let Some(kernel) = self.nodes[node].kernel.as_mut() else {
            return Ok(());
        };
        kernel
            .set_vhid(&ifname, vh, &update)
            .map_err(|e| self.node_err(node, format!("{ifname} vhid {vhid} state: {e}")))?;
        self.drain(node)
    }

    /// `carp_allow`: `sysctl net.inet.carp.allow`, until the node reboots
    /// (a fresh kernel allows; carpctl apply does not set it).
    fn carp_allow(&mut self, node: usize, on: bool) -> Result<(), SimError> {
        let Some(kernel) = self.nodes[node].kernel.as_mut() else {
            return Ok(());
        };
        kernel
            .set_knob(crate::model::Knob::Allow, i32::from(on))
            .map_err(|e| self.node_err(node, format!("net.inet.carp.allow: {e}")))?;
        self.drain(node)
    }

    /// `check_fail`, `check_pass`: the check's weight is added to or taken
    /// from the node's demotion when its state changes.
    fn set_check(
        &mut self,
        node: usize,
        check: String,
        weight: u16,
        failing: bool,
    ) -> Result<(), SimError> {
        let was = self.nodes[node].failing.contains_key(&check);
        if was != failing {
            if failing {
                self.nodes[node].failing.insert(check, weight);
            } else {
                self.nodes[node].failing.remove(&check);
            }
            let w = i32::from(weight);
            self.demote(node, if failing { w } else { -w })?;
        }
        Ok(())
    }

    /// `preempt`: on one node or every one, each of which runs `apply`.
    fn set_preempt(&mut self, node: Option<usize>, on: bool) -> Result<(), SimError> {
        let targets: Vec<usize> = match node {
            Some(n) => vec![n],
            None => (0..self.nodes.len()).collect(),
        };
        for n in targets {
            self.nodes[n].preempt = Some(on);
            self.apply(n)?;
        }
        Ok(())
    }
}

/// What the event log says of an action besides its name: the nodes,
/// interfaces, values it names.
fn event_detail(action: &Action, nodes: &[scenario::ScNode], files: &[config::Config]) -> String {
    let name = |n: usize| nodes[n].name.clone();
    match action {
        Action::Crash { node } | Action::Boot { node } => name(*node),
        Action::Link {
            node, interface, ..
        } => match interface {
            Some(i) => format!("{} {i}", name(*node)),
            None => format!("{} (every interface)", name(*node)),
        },
        Action::Partition { groups } => groups
            .iter()
            .map(|g| g.iter().map(|&n| name(n)).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join(" | "),
        Action::Heal => String::new(),
        Action::Loss { scope, fraction } => format!(
            "{}% {}",
            fraction * 100.0,
            match *scope {
                LossScope::Segment => "on the segment".to_string(),
                LossScope::Node(n) => format!("to and from {}", name(n)),
                LossScope::From(n) => format!("from {}", name(n)),
                LossScope::To(n) => format!("to {}", name(n)),
                LossScope::Between { from, to } => format!("from {} to {}", name(from), name(to)),
            }
        ),
        Action::Maintenance {
            node,
            on,
            step: Some(k),
            ..
        } => format!(
            "rollout step {k}: {} maintenance {}",
            name(*node),
            if *on { "on" } else { "off" }
        ),
        Action::Maintenance { node, .. } => name(*node),
        Action::Switchover { vip, to, back } => match (to, back) {
            (_, true) => format!("{vip} back"),
            (Some(t), _) => format!("{vip} to {}", name(*t)),
            (None, _) => format!("{vip} to its next rank"),
        },
        Action::Check {
            node,
            check,
            weight,
            ..
        } => format!("{} check {check} (weight {weight})", name(*node)),
        Action::Demote { node, by } => format!("{} by {by}", name(*node)),
        Action::Password { node, vip, .. } => format!("{} vip {vip}", name(*node)),
        Action::Addresses {
            node,
            vip,
            addresses,
        } => format!(
            "{} vip {vip}: {}",
            name(*node),
            addresses
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Action::Preempt { node, on } => format!(
            "{} {}",
            node.map_or("every node".to_string(), name),
            if *on { "on" } else { "off" }
        ),
        Action::Apply {
            node,
            file,
            only,
            remove,
            step,
        } => {
            let mut d = format!("{} ", name(*node));
            if let Some(k) = step {
                d = format!("rollout step {k}: {d}");
            }
            d.push_str(&format!("file {}", files[*file].path.display()));
            for v in only {
                d.push_str(&format!(" --only {v}"));
            }
            for v in remove {
                d.push_str(&format!(" --remove {v}"));
            }
            d
        }
        Action::Rollout { .. } => String::new(),
        Action::SendErrors { node, errno } => match errno {
            Some(e) => format!("{} {}", name(*node), e.name()),
            None => name(*node),
        },
        Action::ForceState { node, vip, master } => format!(
            "{} vip {vip} {}",
            name(*node),
            if *master { "master" } else { "backup" }
        ),
        Action::Admin {
            node, interface, ..
        } => match interface {
            Some(i) => format!("{} {i}", name(*node)),
            None => format!("{} (every interface)", name(*node)),
        },
        Action::CarpAllow { node, on } => format!("{} {}", name(*node), i32::from(*on)),
        Action::SendFromVip { node, vip, to } => format!("{} vip {vip} to {to}", name(*node)),
    }
}
