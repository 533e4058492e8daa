//! `switchover` in the simulator: the procedure of `carpctl switchover`
//! ([`crate::switchover::procedure`]) at the event's time, on the nodes in
//! the order it gives (the raising backups, then the current master, each
//! setting the vhid's advskew as the command does), then the command's
//! wait on the master ([`DEFAULT_WAIT`], every [`POLL`]), restoring the
//! planned skew if the vhid never leaves MASTER there. `back` restores the
//! planned skews as `--back` run in the order it prints: the lowest first,
//! which waits until it is MASTER again, then the others (restored at
//! once, they would preempt the target together with it).

use super::maintenance::us;
use super::*;
use crate::maintenance::{DEFAULT_WAIT, POLL};
use crate::model::{AdvSkew, Vhid, VhidUpdate};

impl Sim<'_, '_> {
    /// The `switchover` event.
    pub(super) fn switchover(
        &mut self,
        vip: &str,
        to: Option<usize>,
        back: bool,
    ) -> Result<(), SimError> {
        let Some(v) = self.vips.iter().position(|x| *x.name == *vip) else {
            return Ok(());
        };
        let plan = self
            .sc
            .config
            .plan()
            .map_err(|e| self.node_err(0, format!("switchover {vip}: {e}")))?;
        let Some(vp) = plan.vip(vip) else {
            return Ok(());
        };
        if back {
            let order = self.raised(&plan, v)?;
            if let Some(&(first, planned)) = order.first() {
                self.set_skew(first, v, planned)?;
                let incarnation = self.nodes[first].incarnation;
                let deadline = self.now.saturating_add(us(DEFAULT_WAIT));
                self.switchover_poll(first, incarnation, (deadline, true), v);
            }
            return Ok(());
        }
        let masters: Vec<usize> = (0..self.nodes.len())
            .filter(|&n| self.vips[v].state[n] == CarpState::Master)
            .collect();
        // As the command reads it: the node MASTER of it, or (run on a
        // BACKUP) its planned master.
        let master_name = match masters[..] {
            [m] => self.nodes[m].name.clone(),
            _ => vp.order[0].clone(),
        };
        let to_name = to.map(|t| self.nodes[t].name.clone());
        let sw = crate::switchover::procedure(
            &plan,
            self.sc.config.cluster.preempt,
            vip,
            &master_name,
            to_name.as_deref(),
        )
        .map_err(|e| self.node_err(0, format!("switchover {vip}: {e}")))?;
        let Some(master) = self.nodes.iter().position(|x| x.name == sw.master) else {
            return Ok(());
        };
        for r in &sw.raise {
            let Some(n) = self.nodes.iter().position(|x| x.name == r.node) else {
                continue;
            };
            self.set_skew(n, v, r.to)?;
        }
        let incarnation = self.nodes[master].incarnation;
        let deadline = self.now.saturating_add(us(DEFAULT_WAIT));
        self.switchover_poll(master, incarnation, (deadline, false), v);
        Ok(())
    }

    /// The running nodes whose vhid of VIP `v` is not at its planned skew,
    /// with that skew, the lowest first: `--back`'s order.
    fn raised(
        &mut self,
        plan: &crate::plan::Plan,
        v: usize,
    ) -> Result<Vec<(usize, AdvSkew)>, SimError> {
        let Some(vp) = plan.vip(&self.vips[v].name) else {
            return Ok(Vec::new());
        };
        let mut order = Vec::new();
        for n in 0..self.nodes.len() {
            if let Some(planned) = vp.advskew_of(&self.nodes[n].name)
                && self.skew(n, v)?.is_some_and(|s| s != planned)
            {
                order.push((n, planned));
            }
        }
        order.sort_by_key(|(_, s)| *s);
        Ok(order)
    }

    /// The master's wait: until the vhid leaves MASTER on `node`, or, at
    /// the deadline, the planned skew again (the command's exit 1). With
    /// `back`, the first node's wait: until it is MASTER again (or the
    /// deadline), then the other raised nodes go back.
    pub(super) fn switchover_wait(
        &mut self,
        node: usize,
        incarnation: u32,
        (deadline, back): (u64, bool),
        v: usize,
    ) -> Result<(), SimError> {
        let n = &self.nodes[node];
        if n.incarnation != incarnation || !n.up() {
            return Ok(());
        }
        let master = self.vips[v].state[node] == CarpState::Master;
        if master == back || self.now >= deadline {
            let plan = self
                .sc
                .config
                .plan()
                .map_err(|e| self.node_err(node, e.to_string()))?;
            let rest = self.raised(&plan, v)?;
            // Back: everyone else; the master that was not taken over from:
            // itself alone.
            for (n, planned) in rest {
                if back || (master && n == node) {
                    self.set_skew(n, v, planned)?;
                }
            }
            return Ok(());
        }
        self.switchover_poll(node, incarnation, (deadline, back), v);
        Ok(())
    }

    fn switchover_poll(&mut self, node: usize, incarnation: u32, wait: (u64, bool), v: usize) {
        let at = self.now + us(POLL);
        self.push(
            at,
            Kind::SwitchoverWait {
                node: node as u32,
                incarnation,
                deadline: wait.0,
                vip: v as u32,
                back: wait.1,
            },
        );
    }

    /// `node`'s interface and vhid of VIP `v`, when it takes part and runs.
    fn vhid_of(&self, node: usize, v: usize) -> Option<(String, u8)> {
        let pos = self.vips[v].member_if[node]?;
        self.nodes[node].kernel.as_ref()?;
        Some((self.nodes[node].ifaces[pos].name.clone(), self.vips[v].vhid))
    }

    /// The advskew of `node`'s vhid of VIP `v`, as its kernel has it.
    fn skew(&mut self, node: usize, v: usize) -> Result<Option<AdvSkew>, SimError> {
        let Some((ifname, vhid)) = self.vhid_of(node, v) else {
            return Ok(None);
        };
        let vh = Vhid::new(i64::from(vhid)).map_err(|e| self.node_err(node, e.to_string()))?;
        let Some(kernel) = self.nodes[node].kernel.as_mut() else {
            return Ok(None);
        };
        let st = kernel
            .vhid(&ifname, vh)
            .map_err(|e| self.node_err(node, format!("{ifname} vhid {vhid}: {e}")))?;
        Ok(st.map(|s| s.advskew))
    }

    /// Set the advskew of `node`'s vhid of VIP `v` (a node that is down
    /// has none: the command cannot run there).
    fn set_skew(&mut self, node: usize, v: usize, skew: AdvSkew) -> Result<(), SimError> {
        let Some((ifname, vhid)) = self.vhid_of(node, v) else {
            return Ok(());
        };
        let vh = Vhid::new(i64::from(vhid)).map_err(|e| self.node_err(node, e.to_string()))?;
        let update = VhidUpdate {
            advskew: Some(skew),
            ..VhidUpdate::default()
        };
        let Some(kernel) = self.nodes[node].kernel.as_mut() else {
            return Ok(());
        };
        kernel.set_vhid(&ifname, vh, &update).map_err(|e| {
            self.node_err(
                node,
                format!("{ifname} vhid {vhid} advskew {}: {e}", skew.get()),
            )
        })?;
        self.drain(node)
    }
}
