//! Reading and validating the cluster file.
//!
//! Three passes, each collecting every diagnostic instead of stopping at the
//! first:
//!
//! 1. TOML syntax (`toml::de::DeTable::parse_recoverable` reports every
//!    syntax error it can recover from). Syntax errors stop here: the
//!    recovered tree would only produce confusing follow-on errors.
//! 2. Shape: each `[cluster]`, `[[node]]` and `[[vip]]` entry is deserialized
//!    on its own into a `deny_unknown_fields` struct whose fields are all
//!    optional and [`Spanned`]. When serde rejects a key (unknown, or the
//!    wrong type), the key is reported, removed, and the entry deserialized
//!    again, so one typo does not hide the next one. Required keys are
//!    checked by hand afterwards.
//! 3. Rules: ranges, uniqueness, cross references, passwords, and the plan
//!    (every skew below 240).
//!
//! `password` is taken out of its entry before serde sees it: serde's type
//! errors quote the value (`invalid type: integer `123456``), and a password
//! must never reach a message.
//!
//! This module owns the passes and the whole document (`Validator::document`);
//! one file per part of the file:
//!
//! * [`shape`]: pass 2, taking an entry apart key by key;
//! * [`cluster`], [`node`], [`vip`] (with [`password`]), [`check`],
//!   [`metrics`]: one section each, its keys and their ranges;
//! * [`cross`]: pass 3, the rules across entries, one function per rule.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use ipnet::IpNet;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diag::{self, Diagnostic};
use super::keys::KeySource;
use super::{Cluster, Config, MetricsConfig, Node, Vip, VipPos, default_check_weight};
use crate::model::MAX_WEIGHT;
use crate::model::{AdvBase, Vhid};
use crate::textfile::{self, Access, LineIndex, Pos, TextFile};
use check::ParsedCheck;

mod check;
mod cluster;
mod cross;
mod metrics;
mod node;
mod password;
mod pinned;
mod protocol;
mod shape;
mod vip;

pub(super) use password::key_from_file;

/// Read and validate the cluster file at `path`.
///
/// `Ok` carries the warnings in [`Config::warnings`]; `Err` carries every
/// error and warning, sorted by position.
pub fn load(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    // Trusted like sshd trusts its files: carpctl runs as root the
    // programs it names.
    // The text may hold inline passwords: it is wiped when dropped.
    let TextFile { text: src, mode } =
        textfile::read(path, Access::Trusted).map_err(|e| vec![diag::unreadable(path, e, true)])?;
    parse(&src, path, Some(mode))
}

/// Validate cluster-file text `src` read from `path` (used in messages and to
/// resolve relative `password_file`s).
///
/// `file_mode` is the file's permission bits; the rule that a file holding
/// `password =` must not be accessible by group or others is checked only
/// when it is given ([`load`] always gives it).
pub fn parse(src: &str, path: &Path, file_mode: Option<u32>) -> Result<Config, Vec<Diagnostic>> {
    let mut cx = Validator {
        path,
        idx: LineIndex::new(src),
        file_mode,
        diags: Vec::new(),
        mode_reported: false,
    };
    let (root, syntax) = DeTable::parse_recoverable(src);
    if !syntax.is_empty() {
        for e in syntax {
            let pos = e.span().map(|s| cx.idx.span(&s));
            cx.diags.push(
                Diagnostic::error(format!("TOML syntax: {}", e.message()))
                    .in_file(path)
                    .at(pos),
            );
        }
        dedup(&mut cx.diags);
        return Err(cx.diags);
    }
    let config = cx.document(root.into_inner());
    let mut diags = cx.diags;
    diag::sort(&mut diags);
    match config {
        Some(mut cfg) if !diag::has_errors(&diags) => {
            cfg.warnings = diags;
            pin_unicast_pairs(&mut cfg);
            Ok(cfg)
        }
        _ => Err(diags),
    }
}

/// Record, for each unicast VIP whose `prefer` names only its master, the
/// pair the plan chooses ([`Vip::takes_part`]). The plan is computed only
/// when there is such a VIP; validation already planned the file, so it
/// does not fail here (if it did, the VIPs keep "any node may take part").
fn pin_unicast_pairs(cfg: &mut Config) {
    let open = |v: &Vip| v.unicast && v.prefer.as_ref().is_some_and(|p| p.len() == 1);
    if !cfg.vips.iter().any(open) {
        return;
    }
    let Ok(plan) = cfg.plan() else { return };
    for (v, p) in cfg.vips.iter_mut().zip(plan.vips) {
        if open(v) {
            v.planned_pair = Some(p.order);
        }
    }
}

/// Cascading syntax errors often repeat at one position; keep one each.
fn dedup(diags: &mut Vec<Diagnostic>) {
    diag::sort(diags);
    diags.dedup();
}

/// Validation state: the file, its line index, and what was found so far.
struct Validator<'a> {
    path: &'a Path,
    idx: LineIndex<'a>,
    file_mode: Option<u32>,
    diags: Vec<Diagnostic>,
    /// The inline-password mode error is about the whole file: say it once.
    mode_reported: bool,
}

/// A node as parsed, with the spans needed for cross checks.
struct ParsedNode {
    node: Node,
    /// Real interface name -> span of the mapping value.
    map_spans: BTreeMap<String, Range<usize>>,
    /// Each of `addresses`: (logical interface, address, span, key path).
    address_spans: Vec<(String, std::net::IpAddr, Range<usize>, String)>,
}

/// A VIP as parsed: `None` fields failed (already reported).
struct ParsedVip {
    index: usize,
    ctx: String,
    entry_span: Range<usize>,
    name: Option<Spanned<String>>,
    vhid: Option<Spanned<Vhid>>,
    interface: Option<Spanned<String>>,
    addresses: Option<Vec<Spanned<IpNet>>>,
    /// `None` with `key_ok`: no password (warned).
    key: Option<KeySource>,
    /// password / password_file were valid.
    key_ok: bool,
    prefer: Option<Spanned<Vec<Spanned<String>>>>,
    /// `prefer` absent, or naming known nodes once each.
    prefer_ok: bool,
    /// `Ok(None)`: not given (the cluster's applies).
    advbase: Result<Option<AdvBase>, ()>,
    /// `on_master`, `on_backup`, `on_init`; `Err`: reported.
    hooks: Result<[Vec<String>; 3], ()>,
    /// `protocol`, `unicast`, `interval` with the cluster's defaults.
    election: protocol::Election,
    /// `advskew` / `priority` and `allow_tie`; `Err`: reported.
    pins: Result<Option<pinned::ParsedPins>, ()>,
}

impl Validator<'_> {
    fn pos(&self, span: &Range<usize>) -> Option<Pos> {
        Some(self.idx.span(span))
    }

    fn error(&mut self, span: &Range<usize>, key: impl Into<String>, msg: impl Into<String>) {
        let d = Diagnostic::error(msg)
            .in_file(self.path)
            .at(self.pos(span))
            .key(key);
        self.diags.push(d);
    }

    fn warn(&mut self, span: &Range<usize>, key: impl Into<String>, msg: impl Into<String>) {
        let d = Diagnostic::warning(msg)
            .in_file(self.path)
            .at(self.pos(span))
            .key(key);
        self.diags.push(d);
    }

    /// A diagnostic about the file as a whole (no position).
    fn file_error(&mut self, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(msg).in_file(self.path));
    }

    /// The whole file: split it into its sections, check each one and the
    /// rules across them, and assemble the [`Config`] if nothing failed.
    fn document(&mut self, root: DeTable<'_>) -> Option<Config> {
        let sections = self.sections(root);

        // A failed [cluster] still lets the other checks run, with defaults.
        let (cluster, step_span, cluster_ok) = match sections.cluster {
            Some(v) => match self.cluster(v) {
                Some((c, s)) => (c, s, true),
                None => (Cluster::default(), None, false),
            },
            None => (Cluster::default(), None, true),
        };
        if sections
            .node
            .as_ref()
            .is_some_and(|v| self.too_many_nodes(v))
        {
            return None;
        }
        let nodes = self.nodes(sections.node);
        let vips = self.vips(sections.vip, &nodes, &cluster);
        let checks = sections.check.map(|v| self.checks(v));
        let metrics = match sections.metrics {
            Some(v) => self.metrics(v),
            None => Some(MetricsConfig::default()),
        };

        self.cross_check(&cluster, step_span.as_ref(), &nodes, &vips);
        self.boot_hold_without_checks(&cluster, checks.as_deref());
        let (true, Some(metrics)) = (cluster_ok, metrics) else {
            return None;
        };
        let checks = match checks {
            Some(list) => list.into_iter().collect::<Option<Vec<_>>>()?,
            None => Vec::new(),
        };
        let vips = vips
            .into_iter()
            .map(|v| self.finished_vip(v, cluster.advbase))
            .collect::<Option<Vec<_>>>()?;
        let mut cfg = Config {
            path: self.path.to_path_buf(),
            cluster,
            nodes: nodes.into_iter().map(|n| n.node).collect(),
            vips,
            checks: Vec::new(),
            metrics,
            warnings: Vec::new(),
        };
        // The default weight comes from the plan, which is valid here: the
        // skews were checked in cross_check.
        let default_weight = cfg.plan().map_or(MAX_WEIGHT, |p| default_check_weight(&p));
        cfg.checks = checks
            .into_iter()
            .map(|c| c.into_check(default_weight))
            .collect();
        Some(cfg)
    }

    /// The top-level tables by name; any other key is an error.
    fn sections<'i>(&mut self, root: DeTable<'i>) -> Sections<'i> {
        let mut sections = Sections::default();
        for (k, v) in root {
            match k.get_ref().as_ref() {
                "cluster" => sections.cluster = Some(v),
                "node" => sections.node = Some(v),
                "vip" => sections.vip = Some(v),
                "check" => sections.check = Some(v),
                "metrics" => sections.metrics = Some(v),
                other => {
                    let msg = format!(
                        "unknown key `{other}`; the file holds [cluster], [[node]], [[vip]], \
                         [[check]] and [metrics]"
                    );
                    self.error(&k.span(), other, msg);
                }
            }
        }
        sections
    }

    /// `boot_hold` waits for the checks: without any it does nothing.
    fn boot_hold_without_checks(
        &mut self,
        cluster: &Cluster,
        checks: Option<&[Option<ParsedCheck>]>,
    ) {
        if cluster.boot_hold && checks.is_none_or(<[_]>::is_empty) {
            self.diags.push(
                Diagnostic::warning(
                    "[cluster]: boot_hold = true has no effect without [[check]] entries: \
                     there is nothing to wait for",
                )
                .in_file(self.path)
                .key("cluster.boot_hold"),
            );
        }
    }

    /// The [`Vip`] of a parsed entry, or `None` if any of its keys failed
    /// (already reported). A missing `advbase` is the cluster's.
    fn finished_vip(&self, v: ParsedVip, cluster_advbase: AdvBase) -> Option<Vip> {
        let (Some(name), Some(vhid), Some(interface), Some(addresses)) =
            (v.name, v.vhid, v.interface, v.addresses)
        else {
            return None;
        };
        let (true, true, true, Ok(advbase), Ok([on_master, on_backup, on_init]), Ok(pins)) = (
            v.key_ok,
            v.prefer_ok,
            v.election.ok,
            v.advbase,
            v.hooks,
            v.pins,
        ) else {
            return None;
        };
        let pos = VipPos {
            entry: self.pos(&v.entry_span),
            interface: self.pos(&interface.span()),
            addresses: addresses.iter().map(|a| self.pos(&a.span())).collect(),
        };
        Some(Vip {
            name: name.into_inner(),
            vhid: vhid.into_inner(),
            interface: interface.into_inner(),
            addresses: addresses.into_iter().map(Spanned::into_inner).collect(),
            key: v.key,
            prefer: v.prefer.map(|p| {
                p.into_inner()
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect()
            }),
            advbase: advbase.unwrap_or(cluster_advbase),
            protocol: v.election.protocol,
            unicast: v.election.unicast,
            interval: v.election.interval,
            pins: pins.map(|p| p.pins),
            on_master,
            on_backup,
            on_init,
            pos,
            planned_pair: None,
        })
    }
}

/// The file's top-level tables, each as found (checked later).
#[derive(Default)]
struct Sections<'i> {
    cluster: Option<Spanned<DeValue<'i>>>,
    node: Option<Spanned<DeValue<'i>>>,
    vip: Option<Spanned<DeValue<'i>>>,
    check: Option<Spanned<DeValue<'i>>>,
    metrics: Option<Spanned<DeValue<'i>>>,
}
