//! `maintenance_on`/`maintenance_off` in the simulator: the stepped
//! procedure of `carpctl maintenance on` ([`crate::maintenance`]), with
//! the same first step and the same wait, observed on the node's own vhid
//! states as the command reads them from its kernel; or the one step of
//! 240 it replaced, to measure against.

use std::collections::BTreeSet;

use super::*;
use crate::maintenance::{DEFAULT_WAIT, POLL, handover_weight};
use crate::model::{MAINTENANCE_WEIGHT, Protocol};

/// `d` in the simulator's microseconds.
pub(super) fn us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Sim<'_, '_> {
    /// `maintenance_on` / `maintenance_off` on `node`.
    pub(super) fn maintenance(
        &mut self,
        node: usize,
        on: bool,
        stepped: bool,
    ) -> Result<(), SimError> {
        if self.nodes[node].maintenance == on {
            return Ok(());
        }
        self.nodes[node].maintenance = on;
        if !on {
            let w = std::mem::take(&mut self.nodes[node].maint_weight);
            return self.demote(node, -w);
        }
        let full = i32::from(MAINTENANCE_WEIGHT);
        if stepped && self.nodes[node].up() {
            let mastered = self.mastered(node);
            let demotion = live(&mut self.nodes[node].kernel).map_or(0, |l| l.demotion());
            let plan = self
                .installed(node)
                .plan()
                .map_err(|e| self.node_err(node, format!("maintenance on: {e}")))?;
            let name = self.nodes[node].name.clone();
            if let Some(w) = handover_weight(&plan, &name, &mastered, demotion) {
                self.nodes[node].maint_weight = i32::from(w);
                self.demote(node, i32::from(w))?;
                let incarnation = self.nodes[node].incarnation;
                let deadline = self.now.saturating_add(us(DEFAULT_WAIT));
                self.poll_again(node, incarnation, deadline);
                return Ok(());
            }
        }
        self.nodes[node].maint_weight = full;
        self.demote(node, full)
    }

    /// Step 2 of a stepped `maintenance_on`: every [`POLL`] until the node
    /// is MASTER of no CARP VIP or [`DEFAULT_WAIT`] has passed, then the
    /// rest of the weight. Nothing after a crash (the boot applies the full
    /// weight) or a `maintenance_off`.
    pub(super) fn maintenance_wait(
        &mut self,
        node: usize,
        incarnation: u32,
        deadline: u64,
    ) -> Result<(), SimError> {
        let n = &self.nodes[node];
        if n.incarnation != incarnation || !n.maintenance || !n.up() {
            return Ok(());
        }
        if !self.mastered(node).is_empty() && self.now < deadline {
            self.poll_again(node, incarnation, deadline);
            return Ok(());
        }
        let full = i32::from(MAINTENANCE_WEIGHT);
        let rest = full - self.nodes[node].maint_weight;
        self.nodes[node].maint_weight = full;
        self.demote(node, rest)
    }

    /// Look again [`POLL`] from now.
    fn poll_again(&mut self, node: usize, incarnation: u32, deadline: u64) {
        let at = self.now + us(POLL);
        self.push(
            at,
            Kind::MaintenanceWait {
                node: node as u32,
                incarnation,
                deadline,
            },
        );
    }

    /// The cluster file installed on `node` (the scenario's `cluster`
    /// before it applies another): the one `carpctl maintenance on` reads
    /// there, as a rollout's maintenance step names its OLD file.
    fn installed(&self, node: usize) -> &config::Config {
        self.nodes[node]
            .file
            .and_then(|f| self.sc.cluster_files().get(f))
            .unwrap_or(&self.sc.config)
    }

    /// The CARP VIPs of its installed file `node` is MASTER of now, by
    /// name.
    fn mastered(&self, node: usize) -> BTreeSet<String> {
        let cfg = self.installed(node);
        self.vips
            .iter()
            .filter(|v| v.state[node] == CarpState::Master)
            .filter(|v| {
                cfg.vips
                    .iter()
                    .any(|c| c.name == *v.name && c.protocol == Protocol::Carp)
            })
            .map(|v| v.name.to_string())
            .collect()
    }
}
