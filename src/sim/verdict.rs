//! Per-VIP bookkeeping while the simulation runs, and the report with the
//! three verdicts at the end.

use super::*;

impl Sim<'_, '_> {
    // --- per-VIP bookkeeping -----------------------------------------------------

    pub(super) fn mark(&mut self, v: usize) {
        if !self.is_dirty[v] {
            self.is_dirty[v] = true;
            self.dirty.push(v);
        }
    }

    pub(super) fn set_state(&mut self, v: usize, node: usize, to: CarpState) {
        let now = self.now;
        let vip = &mut self.vips[v];
        let from = vip.state[node];
        if from == to {
            return;
        }
        vip.state[node] = to;
        if to == CarpState::Master {
            vip.held_since[node] = Some(now);
        } else if from == CarpState::Master
            && let Some(s) = vip.held_since[node].take()
        {
            self.held[node].push(Held {
                vip: vip.name.clone(),
                start: to_s(s),
                end: to_s(now),
                ongoing: false,
            });
        }
        self.mark(v);
    }

    /// Re-evaluate the VIPs whose inputs changed at `now`.
    pub(super) fn flush_dirty(&mut self) {
        while let Some(v) = self.dirty.pop() {
            self.is_dirty[v] = false;
            self.evaluate(v);
        }
    }

    pub(super) fn evaluate(&mut self, v: usize) {
        let now = self.now;
        let start = self.sc.clients.start;
        let period = 1e6 / self.sc.clients.rate;
        let nodes = &self.nodes;
        let vip = &mut self.vips[v];
        // A node answers when it is up, MASTER and its interface and link
        // are up. The
        // switch sends the virtual MAC to the port it learnt it on, or, as
        // long as it has not learnt it (unicast mode, whose advertisements
        // leave from the interface's own MAC), floods it to every port.
        let answers = |o: usize| {
            nodes[o].up()
                && vip.state[o] == CarpState::Master
                && vip.member_if[o].is_some_and(|i| nodes[o].ifaces[i].passes())
        };
        let served = vip.reachable
            && match vip.port {
                Some(o) => answers(o),
                None => (0..nodes.len()).any(answers),
            };
        if served != vip.served {
            vip.served = served;
            vip.last_change = now;
            if served {
                if vip.first_served.is_none() {
                    vip.first_served = Some(now);
                }
                if let Some(since) = vip.unserved_since.take() {
                    let lost = vip
                        .phase
                        .iter()
                        .map(|&ph| requests_between(start, ph, period, since, now))
                        .sum();
                    if now > since {
                        vip.outages.push((since, now, lost));
                    }
                }
            } else if vip.first_served.is_some() {
                vip.unserved_since = Some(now);
            }
        }
        let is_master = |n: &usize| vip.state[*n] == CarpState::Master && nodes[*n].up();
        if !vip
            .masters
            .iter()
            .copied()
            .eq((0..vip.state.len()).filter(is_master))
        {
            let masters = (0..vip.state.len()).filter(is_master).collect();
            vip.masters = masters;
            vip.last_change = now;
        }
        let masters = &vip.masters;
        match (&vip.dual, masters.len() > 1) {
            (None, true) => vip.dual = Some((now, masters.clone())),
            (Some((s, who)), false) => {
                if now > *s {
                    vip.duals.push((*s, now, who.clone()));
                }
                vip.dual = None;
            }
            _ => {}
        }
    }

    /// The layout now: per VIP the nodes that are MASTER, and whether it
    /// is answered.
    pub(super) fn snapshot(&mut self) {
        let layout = self
            .vips
            .iter()
            .map(|v| {
                (0..self.nodes.len())
                    .filter(|&n| v.state[n] == CarpState::Master && self.nodes[n].up())
                    .collect()
            })
            .collect();
        let served = self.vips.iter().map(|v| v.served).collect();
        self.steady = Some((self.now, layout, served));
    }

    // --- the report ----------------------------------------------------------------

    pub(super) fn report(mut self) -> Report {
        let end = self.sc.duration;
        self.now = end;
        let start = self.sc.clients.start;
        let period = 1e6 / self.sc.clients.rate;
        // Close what is still open.
        for ni in 0..self.nodes.len() {
            let n = &mut self.nodes[ni];
            if let Some(live) = live(&mut n.kernel) {
                n.last_demotion = live.demotion();
                n.last_stats = node::stats_of(live);
            }
        }
        let mut vips = Vec::new();
        for v in &self.vips {
            let (outages, lost) = vip_outages(v, start, period, end);
            let dual_master = vip_duals(v, &self.nodes, end);
            close_holdings(v, &self.nodes, &mut self.held, end);
            vips.push(VipReport {
                name: v.name.to_string(),
                vhid: v.vhid,
                addresses: v.addrs.iter().map(ToString::to_string).collect(),
                first_served: v.first_served.map(to_s),
                outages,
                dual_master,
                requests: vip_requests(v, start, period, end),
                lost,
            });
        }
        let load = self.load_verdict();
        let failover = self.failover_verdict(&vips);
        let rebalance = self.rebalance_verdict();
        let nodes = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut held = std::mem::take(&mut self.held[i]);
                held.sort_by(|a, b| a.start.total_cmp(&b.start));
                NodeReport {
                    name: n.name.clone(),
                    freebsd: n.spec.flavor.label().to_string(),
                    up: n.up(),
                    held,
                    demotion: if n.up() { n.last_demotion } else { 0 },
                    stats: n.last_stats.clone(),
                }
            })
            .collect();
        let neighbors = self.neighbor_entries();
        let mut report = Report {
            scenario: self.sc.path.display().to_string(),
            cluster: self.sc.config.path.display().to_string(),
            freebsd: self.sc.flavor.label().to_string(),
            clients_at: self.sc.clients.at.map(|r| self.sc.routers[r].name.clone()),
            seed: self.sc.seed,
            duration: to_s(end),
            requirements: Requirements {
                load_balanced: load.met,
                failover_unnoticed: failover.met,
                rebalanced_after_recovery: rebalance.met,
            },
            verdicts: report::Verdicts {
                load_balanced: load,
                failover_unnoticed: failover,
                rebalanced_after_recovery: rebalance,
            },
            vips,
            nodes,
            transitions: std::mem::take(&mut self.transitions),
            demotions: std::mem::take(&mut self.demotions),
            events: std::mem::take(&mut self.events),
            sent_from_vip: std::mem::take(&mut self.sent),
            neighbors,
            frames: self.frames,
            expectations: Vec::new(),
            changes: Vec::new(),
        };
        report.changes = super::steps::change_steps(&report);
        report.expectations = super::expect::check(self.sc, &report);
        report
    }

    pub(super) fn load_verdict(&self) -> LoadVerdict {
        let (at, layout, served) = self.steady.clone().unwrap_or_default();
        let m = self.vips.len();
        let n = self.nodes.len().max(1);
        let (min, max) = (m / n, m.div_ceil(n));
        let mut counts = vec![0usize; self.nodes.len()];
        let mut unsettled = Vec::new();
        for (v, masters) in layout.iter().enumerate() {
            if masters.len() != 1 || !served.get(v).copied().unwrap_or(false) {
                unsettled.push(self.vips[v].name.to_string());
            }
            for &node in masters {
                counts[node] += 1;
            }
        }
        let masters: Vec<(String, usize)> = self
            .nodes
            .iter()
            .zip(&counts)
            .map(|(n, &c)| (n.name.clone(), c))
            .collect();
        let out_of_bounds: Vec<String> = masters
            .iter()
            .filter(|(_, c)| *c < min || *c > max)
            .map(|(n, c)| format!("{n} masters {c}"))
            .collect();
        let met = unsettled.is_empty() && out_of_bounds.is_empty();
        let shares = masters
            .iter()
            .map(|(n, c)| format!("{n} {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let when = format!("at {:.3} s (before the first fault)", to_s(at));
        let bounds = if min == max {
            format!("{min}")
        } else {
            format!("{min} or {max}")
        };
        let detail = if met {
            format!("{when} every node masters {bounds} of the {m} VIPs: {shares}")
        } else if !unsettled.is_empty() {
            format!(
                "{when} not every VIP had exactly one answering MASTER ({}); VIPs per node: {shares}",
                unsettled.join(", ")
            )
        } else {
            format!(
                "{when} a node does not master {bounds} of the {m} VIPs ({}): {shares}",
                out_of_bounds.join(", ")
            )
        };
        LoadVerdict {
            met,
            at: to_s(at),
            min,
            max,
            masters,
            unsettled,
            detail,
        }
    }

    pub(super) fn failover_verdict(&self, vips: &[VipReport]) -> FailoverVerdict {
        let mut longest = 0.0f64;
        let mut longest_vip = None;
        let mut longest_dual = 0.0f64;
        let (mut outages, mut lost, mut requests) = (0, 0, 0);
        let mut never = Vec::new();
        for v in vips {
            if v.first_served.is_none() {
                never.push(v.name.clone());
            }
            for o in &v.outages {
                outages += 1;
                if o.end - o.start > longest {
                    longest = o.end - o.start;
                    longest_vip = Some(v.name.clone());
                }
            }
            for d in &v.dual_master {
                longest_dual = longest_dual.max(d.end - d.start);
            }
            lost += v.lost;
            requests += v.requests;
        }
        let dual_limit = self
            .vips
            .iter()
            .map(|v| f64::from(v.advbase))
            .fold(1.0, f64::max);
        let met = never.is_empty() && longest < UNNOTICED_MAX_S && longest_dual < dual_limit;
        let mut detail = format!(
            "{outages} outage{}, the longest {} s{} (limit: shorter than {UNNOTICED_MAX_S} s); \
             {lost} of {requests} requests lost; longest dual master {} s (limit: shorter than \
             {dual_limit} s)",
            if outages == 1 { "" } else { "s" },
            report::dur(longest),
            longest_vip
                .as_ref()
                .map_or(String::new(), |v| format!(" ({v})")),
            report::dur(longest_dual),
        );
        if !never.is_empty() {
            detail.push_str(&format!("; never answered: {}", never.join(", ")));
        }
        FailoverVerdict {
            met,
            limit: UNNOTICED_MAX_S,
            longest,
            longest_vip,
            dual_master_limit: dual_limit,
            longest_dual_master: longest_dual,
            outages,
            lost,
            requests,
            detail,
        }
    }

    /// Which nodes may master VIP `v` at the end: among the nodes that are
    /// up with the VIP's interface and link up, carp allowed (and can
    /// send), those advertising the
    /// shortest interval `(advbase, DEMOTE_ADVSKEW)`. `None` when a
    /// partition is still in place.
    pub(super) fn expected(&mut self, v: usize) -> Option<Vec<usize>> {
        if self.partitioned {
            return None;
        }
        let vhid = self.vips[v].vhid;
        let mut best: Vec<(i64, usize)> = Vec::new();
        for ni in 0..self.nodes.len() {
            let Some(pos) = self.vips[v].member_if[ni] else {
                continue;
            };
            let n = &mut self.nodes[ni];
            if !n.ifaces[pos].passes() || n.send_error.is_some() {
                continue;
            }
            let ifindex = n.ifaces[pos].ifindex;
            let rules = n.spec.flavor.rules();
            let Some(live) = live(&mut n.kernel) else {
                continue;
            };
            if live.allow() == 0 {
                continue;
            }
            let demotion = live.demotion();
            let Some(lv) = live
                .vhids()
                .into_iter()
                .find(|x| x.ifindex == ifindex && x.vhid == vhid)
            else {
                continue;
            };
            let skew = Demotion::new(demotion, rules).skew(lv.advskew);
            let interval = i64::from(lv.advbase) * 1_000_000 + i64::from(skew) * 1_000_000 / 256;
            best.push((interval, ni));
        }
        let min = best.iter().map(|b| b.0).min()?;
        Some(best.iter().filter(|b| b.0 == min).map(|b| b.1).collect())
    }

    pub(super) fn rebalance_verdict(&mut self) -> RebalanceVerdict {
        let end = self.sc.duration;
        let last_event = self.sc.events.last().map_or(0, |e| e.at);
        let advbase = self
            .vips
            .iter()
            .map(|v| u64::from(v.advbase))
            .max()
            .unwrap_or(1);
        // The master-down interval (3 × advbase + at most 240/256 s < 1 s)
        // for a VIP left without a master, then one more advertisement
        // interval for the preferred node to hear it and preempt.
        let bound = 4 * advbase * 1_000_000 + 1_000_000;
        let mut expected = Vec::new();
        let mut wrong = Vec::new();
        let mut settled = 0u64;
        for v in 0..self.vips.len() {
            let exp = self.expected(v);
            let vip = &self.vips[v];
            let masters: Vec<usize> = (0..self.nodes.len())
                .filter(|&n| vip.state[n] == CarpState::Master && self.nodes[n].up())
                .collect();
            let ok = match &exp {
                Some(e) => masters.len() == 1 && e.contains(&masters[0]) && vip.served,
                None => false,
            };
            settled = settled.max(vip.last_change);
            if !ok || vip.last_change > last_event + bound {
                wrong.push(vip.name.to_string());
            }
            expected.push((
                vip.name.to_string(),
                exp.and_then(|e| e.first().map(|&n| self.nodes[n].name.clone())),
            ));
        }
        let enough = end >= last_event + bound;
        let met = enough && wrong.is_empty();
        let detail = if !enough {
            format!(
                "the scenario ends {:.3} s after the last event; the layout is judged {:.3} s \
                 after it (4 × advbase + 1 s): make duration longer",
                to_s(end - last_event),
                to_s(bound)
            )
        } else if self.partitioned {
            "a partition is still in place at the end: no single planned layout".to_string()
        } else if met {
            format!(
                "every VIP is mastered by its planned node since {:.3} s, within {:.3} s of the \
                 last event at {:.3} s (bound 4 × advbase + 1 s)",
                to_s(settled),
                to_s(settled.saturating_sub(last_event)),
                to_s(last_event)
            )
        } else {
            let exp: Vec<String> = expected
                .iter()
                .filter(|(v, _)| wrong.contains(v))
                .map(|(v, n)| format!("{v} should be on {}", n.as_deref().unwrap_or("?")))
                .collect();
            format!(
                "{:.3} s after the last event at {:.3} s, not as planned: {}",
                to_s(bound),
                to_s(last_event),
                exp.join(", ")
            )
        };
        RebalanceVerdict {
            met,
            last_event: to_s(last_event),
            bound: to_s(bound),
            settled_at: met.then(|| to_s(settled)),
            expected,
            wrong,
            detail,
        }
    }
}

/// A VIP's outages as clients saw them (from their start), the one still
/// open closed at `end`; and the requests lost in them. Clients start at
/// `start` and send one request per `period` µs per address.
fn vip_outages(v: &SimVip, start: u64, period: f64, end: u64) -> (Vec<Outage>, u64) {
    let mut outages: Vec<Outage> = Vec::new();
    let mut lost_total = 0;
    for &(s, e, l) in &v.outages {
        outages.push(Outage {
            start: to_s(s),
            end: to_s(e),
            lost: l,
            ongoing: false,
        });
        lost_total += l;
    }
    let open = match v.first_served {
        None => Some(start),
        Some(_) => v.unserved_since,
    };
    if let Some(since) = open
        && end > since
    {
        let lost: u64 = v
            .phase
            .iter()
            .map(|&ph| requests_between(start, ph, period, since, end))
            .sum();
        outages.push(Outage {
            start: to_s(since),
            end: to_s(end),
            lost,
            ongoing: true,
        });
        lost_total += lost;
    }
    // Only what clients could see: from their start.
    outages.retain_mut(|o| {
        o.start = o.start.max(to_s(start));
        o.end > o.start
    });
    (outages, lost_total)
}

/// A VIP's dual masters, the one still open closed at `end`.
fn vip_duals(v: &SimVip, nodes: &[SimNode], end: u64) -> Vec<DualMaster> {
    let mut duals: Vec<DualMaster> = v
        .duals
        .iter()
        .map(|(s, e, who)| DualMaster {
            start: to_s(*s),
            end: to_s(*e),
            nodes: who.iter().map(|&n| nodes[n].name.clone()).collect(),
            ongoing: false,
        })
        .collect();
    if let Some((s, who)) = &v.dual
        && end > *s
    {
        duals.push(DualMaster {
            start: to_s(*s),
            end: to_s(end),
            nodes: who.iter().map(|&n| nodes[n].name.clone()).collect(),
            ongoing: true,
        });
    }
    duals
}

/// The requests sent to a VIP from when it was first answered (or from
/// the clients' start, when it never was) to `end`.
fn vip_requests(v: &SimVip, start: u64, period: f64, end: u64) -> u64 {
    let from = match v.first_served {
        Some(f) => f.max(start),
        None => start,
    };
    v.phase
        .iter()
        .map(|&ph| requests_between(start, ph, period, from, end))
        .sum()
}

/// The holdings of a VIP still open at `end` on nodes that are up.
fn close_holdings(v: &SimVip, nodes: &[SimNode], held: &mut [Vec<Held>], end: u64) {
    for (n, since) in v.held_since.iter().enumerate() {
        if let Some(s) = since
            && nodes[n].up()
        {
            held[n].push(Held {
                vip: v.name.clone(),
                start: to_s(*s),
                end: to_s(end),
                ongoing: true,
            });
        }
    }
}
