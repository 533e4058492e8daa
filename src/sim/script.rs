//! The scenario's timeline: each `[[event]]` at its time.

use super::*;

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
            } => self.set_link(node, interface.as_deref(), up)?,
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
            Action::Loss { node, fraction } => match node {
                Some(n) => self.nodes[n].loss = fraction,
                None => self.seg_loss = fraction,
            },
            Action::Maintenance { node, on } => {
                if self.nodes[node].maintenance != on {
                    self.nodes[node].maintenance = on;
                    let w = i32::from(crate::model::CARP_MAXSKEW);
                    self.demote(node, if on { w } else { -w })?;
                }
            }
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
            Action::SendErrors { node, errno } => {
                self.nodes[node].send_error = errno;
                if let Some(live) = live(&mut self.nodes[node].kernel) {
                    live.set_send_error(errno);
                }
            }
        }
        Ok(())
    }
    /// `link_down`, `link_up`: one interface of the node, or every one.
    fn set_link(&mut self, node: usize, interface: Option<&str>, up: bool) -> Result<(), SimError> {
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
                i.link_up = up;
            }
            let now = self.now;
            if let Some(live) = live(&mut self.nodes[node].kernel) {
                live.set_now(now);
                live.set_link(&ifname, up)
                    .map_err(|e| self.node_err(node, format!("link {ifname}: {e}")))?;
            }
            self.drain(node)?;
        }
        for v in 0..self.vips.len() {
            self.mark(v);
        }
        Ok(())
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
        Action::Loss { node, fraction } => format!(
            "{}% {}",
            fraction * 100.0,
            node.map_or("on the segment".to_string(), |n| format!(
                "to and from {}",
                name(n)
            ))
        ),
        Action::Maintenance { node, .. } => name(*node),
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
    }
}
