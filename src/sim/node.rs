//! The nodes of a simulation: boot (a fresh kernel, then the same `apply`
//! a real node runs), crash, demotion, and taking what their kernels did.

use super::*;
use crate::apply::select::Selection;

impl Sim<'_, '_> {
    /// Bring every running kernel's clock to the simulation's present.
    pub(super) fn clocks_to_now(&mut self) {
        let now = self.now;
        for n in &mut self.nodes {
            if let Some(l) = live(&mut n.kernel) {
                l.set_now(now);
            }
        }
    }

    // --- nodes ---------------------------------------------------------------

    pub(super) fn node_err(&self, node: usize, what: impl Into<String>) -> SimError {
        SimError::Node {
            node: self.nodes[node].name.clone(),
            time: to_s(self.now),
            what: what.into(),
        }
    }

    /// A fresh kernel, links as they are, then the same `apply` a real
    /// node runs at boot, then what carpctl's ledger restores (maintenance,
    /// failing checks).
    pub(super) fn boot(&mut self, node: usize) -> Result<(), SimError> {
        let now = self.now;
        let seed = self.sc.seed
            ^ (node as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ u64::from(self.nodes[node].incarnation) << 48;
        let n = &mut self.nodes[node];
        // Hosts boot at unrelated moments: each gets its own tick phase.
        let phase = SplitMix64::new(seed ^ 0x6b65_726e_2e68_7a00).next_u64();
        let opts = LiveOptions {
            name: n.name.clone(),
            seed,
            hz: Hz::new(n.hz, phase).unwrap_or_default(),
            lladdrs: n.lladdrs.clone(),
            auth_pool: Some(Rc::clone(&self.pool)),
        };
        let host = EmulatedHost::live(&n.spec, opts).map_err(|e| SimError::Node {
            node: n.name.clone(),
            time: to_s(now),
            what: e.to_string(),
        })?;
        n.kernel = Some(FreeBsdKernel::new(host));
        // `ifconfig down` is the running host's setting: the reboot's
        // rc.conf brings every interface up again. A link that is down
        // stays down.
        for i in &mut n.ifaces {
            i.admin_up = true;
        }
        let send_error = n.send_error;
        let down: Vec<String> = n
            .ifaces
            .iter()
            .filter(|i| !i.link_up)
            .map(|i| i.name.clone())
            .collect();
        if let Some(live) = live(&mut n.kernel) {
            live.set_now(now);
            live.set_send_error(send_error);
            for ifname in &down {
                let _ = live.set_link(ifname, false);
            }
        }
        self.apply(node)?;
        let n = &mut self.nodes[node];
        let mut restore = Vec::new();
        if n.maintenance {
            // As the ledger at a new boot: the full weight, also for a
            // stepped maintenance the crash cut short.
            n.maint_weight = i32::from(crate::model::CARP_MAXSKEW);
            restore.push(n.maint_weight);
        }
        restore.extend(n.failing.values().map(|&w| i32::from(w)));
        for d in restore {
            self.demote(node, d)?;
        }
        self.receivers_dirty = true;
        self.drain(node)
    }

    pub(super) fn crash(&mut self, node: usize) {
        let n = &mut self.nodes[node];
        if let Some(mut k) = n.kernel.take()
            && let Some(live) = k.syscalls().live_mut()
        {
            n.last_demotion = live.demotion();
            n.last_stats = stats_of(live);
        }
        n.incarnation += 1;
        for v in 0..self.vips.len() {
            self.set_state(v, node, CarpState::Init);
        }
        self.receivers_dirty = true;
    }

    /// `apply` on the node, of the file installed on it, with its own
    /// overrides of the cluster file.
    pub(super) fn apply(&mut self, node: usize) -> Result<(), SimError> {
        self.apply_with(node, self.nodes[node].file, &Selection::default())
    }

    /// `carpctl -c FILE apply [--only ...] [--remove ...]` on the node:
    /// cluster file `file` of the scenario (none: nothing to apply), with
    /// the node's own overrides.
    pub(super) fn apply_with(
        &mut self,
        node: usize,
        file: Option<usize>,
        selection: &Selection,
    ) -> Result<(), SimError> {
        let Some(cfg) = file.and_then(|f| self.sc.cluster_files().get(f)) else {
            return Ok(());
        };
        let n = &mut self.nodes[node];
        let Some(kernel) = n.kernel.as_mut() else {
            return Ok(());
        };
        let err = |what: String| what;
        let interfaces = kernel
            .interfaces()
            .map_err(|e| err(format!("cannot list the interfaces: {e}")));
        let result = interfaces.and_then(|ifs| {
            let d = config::desired_state(cfg, &n.name, &ifs).map_err(|diags| {
                diags
                    .iter()
                    .filter(|d| d.is_error())
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
            let mut desired = d.with_keys()?;
            if let Some(p) = n.preempt {
                desired.preempt = p;
            }
            for v in &mut desired.vips {
                if let Some(k) = n.keys.get(&v.name) {
                    v.key = Some(k.clone());
                }
                if let Some(a) = n.addresses.get(&v.name) {
                    v.addresses = a.clone();
                }
            }
            let changes = selection
                .plan(kernel, &mut desired)
                .map_err(|e| format!("apply: {e}"))?;
            apply::execute(kernel, &desired, &changes).map_err(|e| format!("apply: {e}"))
        });
        result.map_err(|what| self.node_err(node, what))?;
        self.receivers_dirty = true;
        self.drain(node)
    }

    pub(super) fn demote(&mut self, node: usize, by: i32) -> Result<(), SimError> {
        let n = &mut self.nodes[node];
        let Some(kernel) = n.kernel.as_mut() else {
            return Ok(());
        };
        kernel
            .adjust_demotion(DemotionDelta::new(by))
            .map_err(|e| self.node_err(node, format!("demotion {by:+}: {e}")))?;
        self.drain(node)
    }

    // --- the kernel's output -----------------------------------------------------

    pub(super) fn drain(&mut self, node: usize) -> Result<(), SimError> {
        let mut out = std::mem::take(&mut self.out);
        if let Some(live) = live(&mut self.nodes[node].kernel) {
            live.drain_output_into(&mut out);
        }
        let incarnation = self.nodes[node].incarnation;
        queue_wakes(
            &mut self.queue,
            self.now,
            node as u32,
            incarnation,
            out.wakes.drain(..),
        );
        for e in out.events.drain(..) {
            // What the node's syslog and devd would see (`carpctl -vv
            // simulate` shows them).
            tracing::debug!(
                target: "carpctl::sim",
                "{:.6} {}: {e}{}",
                to_s(self.now),
                self.nodes[node].name,
                e.devd().map_or(String::new(), |d| format!("; devd: {}", d.trim_end()))
            );
            match e {
                Event::State {
                    ifname,
                    vhid,
                    from,
                    to,
                    reason,
                } => {
                    let n = &self.nodes[node];
                    let (ifindex, interface) = n
                        .ifaces
                        .iter()
                        .find(|i| i.name == ifname)
                        .map_or((0, Name::new(&ifname)), |i| (i.ifindex, i.label.clone()));
                    let vip = self.vip_of.get(&(node, ifindex, vhid)).copied();
                    self.transitions.push(VhidStateChange {
                        time: to_s(self.now),
                        node: n.label.clone(),
                        vhid,
                        interface,
                        vip: vip.map(|v| self.vips[v].name.clone()),
                        from,
                        to,
                        reason,
                    });
                    if let Some(v) = vip {
                        self.set_state(v, node, to);
                    }
                }
                Event::Demotion {
                    delta,
                    total,
                    reason,
                } => self.demotions.push(DemotionChange {
                    time: to_s(self.now),
                    node: self.nodes[node].label.clone(),
                    delta,
                    total,
                    reason: reason.into_owned(),
                }),
                _ => {}
            }
        }
        let mut result = self.within_record_limit();
        for (ifindex, _vhid, bytes) in out.frames.drain(..) {
            if let Err(e) = self.send(node, ifindex, bytes) {
                result = Err(e);
            }
        }
        self.out = out;
        result
    }

    /// The report holds at most [`limits::MAX_RECORDS`] transitions and
    /// demotion changes: a run that logs more stops with an error.
    fn within_record_limit(&self) -> Result<(), SimError> {
        let records = self.transitions.len() + self.demotions.len();
        if records <= self.max_records {
            return Ok(());
        }
        Err(SimError::Limit(format!(
            "the run logged more than {} transitions and demotion changes by {:.3} s of \
             virtual time, the most a report holds (carpctl.scenario(5), LIMITS): shorten \
             the duration, or simulate fewer faults or VIPs",
            self.max_records,
            to_s(self.now)
        )))
    }
}

/// The kernel counters of a node, kept in the report.
pub(super) fn stats_of(live: &Live) -> NodeStats {
    let s = live.stats();
    NodeStats {
        ipackets: s.ipackets,
        ipackets6: s.ipackets6,
        opackets: s.opackets,
        opackets6: s.opackets6,
        badauth: s.badauth,
        badvhid: s.badvhid,
        badttl: s.badttl,
        badsum: s.badsum,
        badver: s.badver,
    }
}
