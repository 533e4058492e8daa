//! The scenario events that change the cluster file (carpctl.scenario(5)):
//! `apply` (one node applies another cluster file) and `rollout` (the
//! steps of `carpctl rollout plan`, each an `apply` of one VIP on one node,
//! or a leaving node's stepped `maintenance_on`/`off`, at the time the plan
//! gives). The files they name are read like the
//! scenario's own `cluster` (relative to the scenario, a trusted regular
//! file within the cluster file's size limit), with their own passwords
//! (`[passwords]` is for the scenario's `cluster` only).

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::cluster::{LoadError, load_cluster};
use super::{Action, RawEvent, ScNode, ScenarioValidator, TimedEvent};
use crate::config::{self, Config};
use crate::rollout;

impl ScenarioValidator<'_> {
    /// Every file the `apply` and `rollout` events name (`file`, `old`),
    /// loaded once each
    /// (after the scenario's `cluster`, which is file 0), and checked to
    /// agree with the others: a VIP keeps its vhid and interface in every
    /// file, and no two VIPs share both.
    pub(super) fn change_files(&mut self, raw: &[Spanned<RawEvent>], main: &Config) {
        self.files = vec![(String::new(), main.clone())];
        for (i, e) in raw.iter().enumerate() {
            let e = e.get_ref();
            for (k, f) in [("file", &e.file), ("old", &e.old)] {
                let Some(f) = f else { continue };
                if self.files.iter().any(|(g, _)| g == f.get_ref()) {
                    continue;
                }
                let key = format!("event[{i}].{k}");
                let path = self.relative(f.get_ref());
                match load_cluster(&path, &[]) {
                    Ok(cfg) => {
                        if self.within_member_limit(&cfg, f, &key) && self.agrees(&cfg, f, &key) {
                            self.files.push((f.get_ref().clone(), cfg));
                        }
                    }
                    Err(LoadError::Diags(d) | LoadError::UnknownVip { diags: d, .. }) => {
                        self.diags.extend(d);
                        let msg = format!(
                            "{key}: the cluster file {} has errors (see above)",
                            path.display()
                        );
                        self.error(&f.span(), key, msg);
                    }
                }
            }
        }
    }

    /// `cfg` names its VIPs as the files before it do.
    fn agrees(&mut self, cfg: &Config, f: &Spanned<String>, key: &str) -> bool {
        let mut seen: BTreeMap<(String, u8), String> = BTreeMap::new();
        let mut by_name: BTreeMap<String, (String, u8)> = BTreeMap::new();
        for (_, c) in &self.files {
            for v in &c.vips {
                seen.insert((v.interface.clone(), v.vhid.get()), v.name.clone());
                by_name.insert(v.name.clone(), (v.interface.clone(), v.vhid.get()));
            }
        }
        for v in &cfg.vips {
            let at = (v.interface.clone(), v.vhid.get());
            let clash = match (by_name.get(&v.name), seen.get(&at)) {
                (Some(had), _) if *had != at => Some(format!(
                    "VIP {} is vhid {} on {} here but vhid {} on {} in an earlier file",
                    v.name, at.1, at.0, had.1, had.0
                )),
                (_, Some(other)) if *other != v.name => Some(format!(
                    "vhid {} on {} is VIP {} here but VIP {other} in an earlier file",
                    at.1, at.0, v.name
                )),
                _ => None,
            };
            if let Some(why) = clash {
                let msg = format!("{key}: {why}; a simulation follows each VIP by its name");
                self.error(&f.span(), key, msg);
                return false;
            }
        }
        true
    }

    /// The loaded file named by `f`.
    fn file_named(&mut self, f: &Spanned<String>, ctx: &str, key: &str) -> Option<usize> {
        let i = self.files.iter().position(|(g, _)| g == f.get_ref());
        if i.is_none() {
            // Its errors were reported when it was loaded.
            let msg = format!("{ctx}: the file {} could not be used", f.get_ref());
            self.error(&f.span(), key, msg);
        }
        i
    }

    /// `apply`: the node is a node of the file, and can apply its part.
    pub(super) fn apply_action(
        &mut self,
        file: Spanned<String>,
        node: usize,
        nodes: &[ScNode],
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        let fk = format!("{key}.file");
        let fi = self.file_named(&file, ctx, &fk)?;
        self.can_apply(fi, &nodes[node], &file.span(), ctx, &fk)?;
        Some(Action::Apply {
            node,
            file: fi,
            only: Vec::new(),
            remove: Vec::new(),
            step: None,
        })
    }

    /// Node `n` is a node of file `fi` and has the interfaces its VIPs
    /// there need.
    fn can_apply(
        &mut self,
        fi: usize,
        n: &ScNode,
        span: &Range<usize>,
        ctx: &str,
        key: &str,
    ) -> Option<()> {
        let cfg = &self.files[fi].1;
        if cfg.node(&n.name).is_none() {
            let msg = format!(
                "{ctx}: node \"{}\" is not a node of {} (its nodes: {})",
                n.name,
                cfg.path.display(),
                cfg.node_names().join(", ")
            );
            self.error(span, key, msg);
            return None;
        }
        if let Err(d) = config::desired_state(cfg, &n.name, &n.kernel_interfaces()) {
            self.diags
                .extend(d.into_iter().filter(config::Diagnostic::is_error));
            return None;
        }
        Some(())
    }

    /// `rollout`: the plan from `old` (the scenario's `cluster` when not
    /// given) to `file`; refused as `carpctl rollout plan` refuses it.
    /// Expanded into its steps by [`Self::expand_rollouts`].
    pub(super) fn rollout_action(
        &mut self,
        file: Spanned<String>,
        old: Option<Spanned<String>>,
        ctx: &str,
        key: &str,
    ) -> Option<Action> {
        let to = self.file_named(&file, ctx, &format!("{key}.file"))?;
        let from = match &old {
            Some(f) => self.file_named(f, ctx, &format!("{key}.old"))?,
            None => 0,
        };
        match rollout::plan(&self.files[from].1, &self.files[to].1) {
            Ok(plan) => Some(Action::Rollout { from, to, plan }),
            Err(e) => {
                let msg = format!("{ctx}: carpctl rollout plan refuses this change: {e}");
                self.error(&file.span(), format!("{key}.file"), msg);
                None
            }
        }
    }

    /// Each `rollout` event becomes one `apply` (or, for a leaving node's
    /// maintenance step, `maintenance_on`/`off`) event per step of its
    /// plan, at the event's time plus the step's; every step within the
    /// scenario, on a node that has a `[[node]]` entry.
    pub(super) fn expand_rollouts(
        &mut self,
        events: Vec<TimedEvent>,
        nodes: &[ScNode],
        duration: u64,
    ) -> Vec<TimedEvent> {
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            let Action::Rollout { from, to, plan } = &e.action else {
                out.push(e);
                continue;
            };
            for (k, s) in plan.steps.iter().enumerate() {
                let at = e.at + (s.at * 1e6).round() as u64;
                let ctx = format!("rollout at {} s, step {}", e.at as f64 / 1e6, k + 1);
                let Some(node) = nodes.iter().position(|n| n.name == s.node) else {
                    self.diags.push(
                        config::Diagnostic::error(format!(
                            "{ctx}: node \"{}\" has no [[node]] entry",
                            s.node
                        ))
                        .in_file(self.path)
                        .at(e.pos),
                    );
                    continue;
                };
                if at > duration {
                    self.diags.push(
                        config::Diagnostic::error(format!(
                            "{ctx} comes at {} s, after the scenario's end ({} s): make \
                             duration at least {} s",
                            at as f64 / 1e6,
                            duration as f64 / 1e6,
                            (e.at as f64 / 1e6 + plan.steps.len() as f64 * plan.gap).ceil()
                        ))
                        .in_file(self.path)
                        .at(e.pos),
                    );
                    break;
                }
                let file = match s.file {
                    rollout::Which::Old => *from,
                    rollout::Which::New => *to,
                };
                let cfg = &self.files[file].1;
                if let Err(d) =
                    config::desired_state(cfg, &s.node, &nodes[node].kernel_interfaces())
                {
                    self.diags
                        .extend(d.into_iter().filter(config::Diagnostic::is_error));
                    continue;
                }
                let action = match &s.command {
                    rollout::Command::Apply { only, remove } => Action::Apply {
                        node,
                        file,
                        only: only.clone(),
                        remove: remove.clone(),
                        step: Some(k + 1),
                    },
                    // `carpctl maintenance on` is stepped.
                    rollout::Command::Maintenance { on } => Action::Maintenance {
                        node,
                        on: *on,
                        stepped: true,
                        step: Some(k + 1),
                    },
                };
                out.push(TimedEvent {
                    at,
                    action,
                    pos: e.pos,
                });
            }
        }
        out.sort_by_key(|e: &TimedEvent| e.at);
        out
    }
}
