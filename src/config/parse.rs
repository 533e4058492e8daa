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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use zeroize::Zeroize;

use super::diag::{self, Diagnostic, LineIndex, Pos};
use super::keys::{KeyFile, KeySource};
use super::rules::{
    NAME_MAX, NODE_NAME_MAX, bad_ifname, bad_name, is_loopback_ifname, not_a_vip, password_issues,
};
use super::{
    Check, Cluster, Config, DEFAULT_ADVSKEW_STEP, DEFAULT_HOOK_TIMEOUT, HOOK_TIMEOUT_MAX_SECS,
    HttpUrl, MAX_WEIGHT, MetricsConfig, Node, Probe, Vip, VipPos, default_check_weight,
};
use crate::fsutil::{self, Trust};
use crate::model::{AdvBase, Key, Vhid};
use crate::plan;

/// The longest password ifconfig(8) keeps (`strlcpy` into the 20-byte
/// `carpr_key`, docs/freebsd-carp.md §6.4).
const IFCONFIG_PASSWORD_MAX: usize = Key::IFCONFIG_MAX;

/// Below this step, two ranks' master-down timeouts can fall into the same
/// kernel tick at kern.hz=100: one tick is 10 ms = 2.56/256 s, so a step of
/// 3/256 s (11.7 ms) is the smallest that always lands in a later tick.
const ADVSKEW_STEP_TICK_SAFE: i64 = 3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    preempt: Option<Spanned<bool>>,
    advbase: Option<Spanned<i64>>,
    advskew_step: Option<Spanned<i64>>,
    hook_timeout: Option<Spanned<i64>>,
    boot_hold: Option<Spanned<bool>>,
    state_dir: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: Option<Spanned<String>>,
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    address: Option<Spanned<String>>,
    command: Option<Spanned<Vec<Spanned<String>>>>,
    url: Option<Spanned<String>>,
    expect_status: Option<Spanned<i64>>,
    interval: Option<Spanned<i64>>,
    timeout: Option<Spanned<i64>>,
    rise: Option<Spanned<i64>>,
    fall: Option<Spanned<i64>>,
    weight: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    textfile: Option<Spanned<String>>,
    listen: Option<Spanned<String>>,
}

/// `[[check]]` defaults (carpctl.toml(5)).
const CHECK_INTERVAL_DEFAULT: u64 = 2;
const CHECK_TIMEOUT_DEFAULT: u64 = 1;
const CHECK_RISE_DEFAULT: u32 = 2;
const CHECK_FALL_DEFAULT: u32 = 3;
const CHECK_SECONDS_MAX: u64 = 3600;
const CHECK_COUNT_MAX: u32 = 100;
const HTTP_EXPECT_DEFAULT: u16 = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: Option<Spanned<String>>,
    interfaces: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVip {
    name: Option<Spanned<String>>,
    vhid: Option<Spanned<i64>>,
    interface: Option<Spanned<String>>,
    addresses: Option<Spanned<Vec<Spanned<String>>>>,
    /// Removed from the entry before deserializing (see the module doc);
    /// listed only so that serde's "expected one of" names it.
    #[serde(rename = "password")]
    _password: Option<IgnoredAny>,
    password_file: Option<Spanned<String>>,
    prefer: Option<Spanned<Vec<Spanned<String>>>>,
    advbase: Option<Spanned<i64>>,
    on_master: Option<Spanned<Vec<Spanned<String>>>>,
    on_backup: Option<Spanned<Vec<Spanned<String>>>>,
    on_init: Option<Spanned<Vec<Spanned<String>>>>,
}

/// Read and validate the cluster file at `path`.
///
/// `Ok` carries the warnings in [`Config::warnings`]; `Err` carries every
/// error and warning, sorted by position.
pub fn load(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    let read_err = |what: String| vec![Diagnostic::error(what).in_file(path)];
    // A regular file of at most INPUT_MAX bytes (never a FIFO or a
    // device), trusted like sshd trusts its files: carpctl runs as root
    // the programs it names.
    let opened = fsutil::read_trusted(path, fsutil::INPUT_MAX, Trust::Config)
        .map_err(|e| read_err(e.reason()))?;
    let mode = opened.mode;
    let bytes = opened.bytes;
    let mut src = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            // `valid` is a char boundary by definition, so this slice is
            // valid UTF-8 and gives the position of the bad byte.
            let pos = std::str::from_utf8(bytes.get(..valid).unwrap_or_default())
                .map(|prefix| LineIndex::new(prefix).pos(valid))
                .ok();
            bytes.zeroize();
            return Err(vec![
                Diagnostic::error("the file is not valid UTF-8 (TOML must be)")
                    .in_file(path)
                    .at(pos),
            ]);
        }
    };
    let result = parse(&src, path, Some(mode));
    // The text may hold inline passwords: do not leave them in freed memory.
    src.zeroize();
    result
}

/// Validate cluster-file text `src` read from `path` (used in messages and to
/// resolve relative `password_file`s).
///
/// `file_mode` is the file's permission bits; the rule that a file holding
/// `password =` must not be accessible by group or others is checked only
/// when it is given ([`load`] always gives it).
pub fn parse(src: &str, path: &Path, file_mode: Option<u32>) -> Result<Config, Vec<Diagnostic>> {
    let mut cx = Cx {
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
            Ok(cfg)
        }
        _ => Err(diags),
    }
}

/// Cascading syntax errors often repeat at one position; keep one each.
fn dedup(diags: &mut Vec<Diagnostic>) {
    diag::sort(diags);
    diags.dedup();
}

/// Whether a file with this mode is open to group or others: sshd's test for
/// private keys (`st_mode & 077`).
fn open_to_others(mode: u32) -> bool {
    mode & 0o077 != 0
}

/// Validation state: the file, its line index, and what was found so far.
struct Cx<'a> {
    path: &'a Path,
    idx: LineIndex<'a>,
    file_mode: Option<u32>,
    diags: Vec<Diagnostic>,
    /// The inline-password mode error is about the whole file: say it once.
    mode_reported: bool,
}

/// A node as parsed, with the spans needed for cross checks.
struct PNode {
    node: Node,
    /// Real interface name -> span of the mapping value.
    map_spans: BTreeMap<String, Range<usize>>,
}

/// A VIP as parsed: `None` fields failed (already reported).
struct PVip {
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
}

impl Cx<'_> {
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

    fn document(&mut self, root: DeTable<'_>) -> Option<Config> {
        let mut cluster_v = None;
        let mut node_v = None;
        let mut vip_v = None;
        let mut check_v = None;
        let mut metrics_v = None;
        for (k, v) in root {
            match k.get_ref().as_ref() {
                "cluster" => cluster_v = Some(v),
                "node" => node_v = Some(v),
                "vip" => vip_v = Some(v),
                "check" => check_v = Some(v),
                "metrics" => metrics_v = Some(v),
                other => {
                    let msg = format!(
                        "unknown key `{other}`; the file holds [cluster], [[node]], [[vip]], \
                         [[check]] and [metrics]"
                    );
                    self.error(&k.span(), other, msg);
                }
            }
        }

        // A failed [cluster] still lets the other checks run, with defaults.
        let (cluster, step_span, cluster_ok) = match cluster_v {
            Some(v) => match self.cluster(v) {
                Some((c, s)) => (c, s, true),
                None => (Cluster::default(), None, false),
            },
            None => (Cluster::default(), None, true),
        };
        let nodes = self.nodes(node_v);
        let vips = self.vips(vip_v, &nodes);
        let checks = check_v.map(|v| self.checks(v));
        let metrics = match metrics_v {
            Some(v) => self.metrics(v),
            None => Some(MetricsConfig::default()),
        };

        self.cross_check(&cluster, step_span.as_ref(), &nodes, &vips);
        if cluster.boot_hold && checks.as_ref().is_none_or(Vec::is_empty) {
            self.diags.push(
                Diagnostic::warning(
                    "[cluster]: boot_hold = true has no effect without [[check]] entries: \
                     there is nothing to wait for",
                )
                .in_file(self.path)
                .key("cluster.boot_hold"),
            );
        }
        let (true, Some(metrics)) = (cluster_ok, metrics) else {
            return None;
        };
        let checks = match checks {
            Some(list) => list.into_iter().collect::<Option<Vec<_>>>()?,
            None => Vec::new(),
        };

        let mut out = Vec::with_capacity(vips.len());
        for v in vips {
            let (Some(name), Some(vhid), Some(interface), Some(addresses)) =
                (v.name, v.vhid, v.interface, v.addresses)
            else {
                return None;
            };
            let (true, true, Ok(advbase), Ok([on_master, on_backup, on_init])) =
                (v.key_ok, v.prefer_ok, v.advbase, v.hooks)
            else {
                return None;
            };
            let vpos = VipPos {
                entry: self.pos(&v.entry_span),
                interface: self.pos(&interface.span()),
                addresses: addresses.iter().map(|a| self.pos(&a.span())).collect(),
            };
            out.push(Vip {
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
                advbase: advbase.unwrap_or(cluster.advbase),
                on_master,
                on_backup,
                on_init,
                pos: vpos,
            });
        }
        let mut cfg = Config {
            path: self.path.to_path_buf(),
            cluster,
            nodes: nodes.into_iter().map(|n| n.node).collect(),
            vips: out,
            checks: Vec::new(),
            metrics,
            warnings: Vec::new(),
        };
        // The default weight comes from the plan, which is valid here: the
        // skews were checked in cross_check.
        let default_weight = plan::plan(&cfg).map_or(MAX_WEIGHT, |p| default_check_weight(&p));
        cfg.checks = checks
            .into_iter()
            .map(|c| c.into_check(default_weight))
            .collect();
        Some(cfg)
    }

    // ----- pass 2: shape -------------------------------------------------

    /// Deserialize one entry, reporting and dropping each rejected key until
    /// serde accepts the rest. Returns the value (if any) and the keys that
    /// were rejected, so that "missing key" is not reported for them too.
    fn entry<T: DeserializeOwned>(
        &mut self,
        mut table: DeTable<'_>,
        span: Range<usize>,
        ctx: &str,
        keypath: &str,
    ) -> (Option<T>, BTreeSet<String>) {
        let mut failed = BTreeSet::new();
        loop {
            let value = Spanned::new(span.clone(), DeValue::Table(table.clone()));
            let err = match T::deserialize(ValueDeserializer::from(value)) {
                Ok(t) => return (Some(t), failed),
                Err(e) => e,
            };
            let espan = err.span();
            let hit = espan.as_ref().and_then(|s| {
                table
                    .iter()
                    .find(|(k, v)| k.span().contains(&s.start) || v.span().contains(&s.start))
                    .map(|(k, _)| k.get_ref().to_string())
            });
            let msg = serde_message(err.message());
            let at = espan.unwrap_or_else(|| span.clone());
            match hit {
                Some(key) => {
                    let text = if msg.starts_with("unknown key") {
                        format!("{ctx}: {msg}")
                    } else {
                        format!("{ctx}: {key}: {msg}")
                    };
                    self.error(&at, format!("{keypath}.{key}"), text);
                    table.remove(key.as_str());
                    failed.insert(key);
                }
                None => {
                    // Not attributable to a key: report it and give up on
                    // this entry (the loop could not make progress).
                    self.error(&at, keypath, format!("{ctx}: {msg}"));
                    return (None, failed);
                }
            }
        }
    }

    fn cluster(&mut self, v: Spanned<DeValue<'_>>) -> Option<(Cluster, Option<Range<usize>>)> {
        let span = v.span();
        let DeValue::Table(table) = v.into_inner() else {
            self.error(&span, "cluster", "cluster must be a table: write [cluster]");
            return None;
        };
        let (raw, _) = self.entry::<RawCluster>(table, span, "[cluster]", "cluster");
        let raw = raw?;
        let mut c = Cluster::default();
        let mut ok = true;
        if let Some(p) = &raw.preempt {
            c.preempt = *p.get_ref();
            if !c.preempt {
                self.warn(
                    &p.span(),
                    "cluster.preempt",
                    "[cluster]: preempt = false: a node that recovers never takes its VIPs \
                     back, so the load stays on the survivors until someone intervenes",
                );
            }
        }
        if let Some(a) = &raw.advbase {
            match AdvBase::new(*a.get_ref()) {
                Ok(b) => c.advbase = b,
                Err(_) => {
                    let msg = format!(
                        "[cluster]: advbase {} is out of range 1-255 (seconds)",
                        a.get_ref()
                    );
                    self.error(&a.span(), "cluster.advbase", msg);
                    ok = false;
                }
            }
        }
        if let Some(s) = &raw.advskew_step {
            let step = *s.get_ref();
            // At least two ranks must fit below CARP_MAXSKEW (240).
            let max = i64::from(carpctl_sys::CARP_MAXSKEW) - 1;
            match u8::try_from(step) {
                Ok(v) if (1..=max).contains(&step) => {
                    c.advskew_step = v;
                    if step < ADVSKEW_STEP_TICK_SAFE {
                        let msg = format!(
                            "[cluster]: advskew_step {step} is {:.1} ms, less than one kernel \
                             tick at kern.hz=100 (10 ms): two backups may time out in the \
                             same tick and both become MASTER briefly; the default is {}",
                            step as f64 * 1000.0 / 256.0,
                            DEFAULT_ADVSKEW_STEP
                        );
                        self.warn(&s.span(), "cluster.advskew_step", msg);
                    }
                }
                _ => {
                    let msg = format!("[cluster]: advskew_step {step} is out of range 1-{max}");
                    self.error(&s.span(), "cluster.advskew_step", msg);
                    ok = false;
                }
            }
        }
        if let Some(t) = &raw.hook_timeout {
            let secs = *t.get_ref();
            match u64::try_from(secs) {
                Ok(v) if (1..=HOOK_TIMEOUT_MAX_SECS).contains(&v) => {
                    c.hook_timeout = std::time::Duration::from_secs(v);
                }
                _ => {
                    let msg = format!(
                        "[cluster]: hook_timeout {secs} is out of range 1-{HOOK_TIMEOUT_MAX_SECS} \
                         (seconds; the default is {})",
                        DEFAULT_HOOK_TIMEOUT.as_secs()
                    );
                    self.error(&t.span(), "cluster.hook_timeout", msg);
                    ok = false;
                }
            }
        }
        if let Some(b) = &raw.boot_hold {
            c.boot_hold = *b.get_ref();
        }
        if let Some(d) = &raw.state_dir {
            let dir = d.get_ref();
            if dir.is_empty() || !Path::new(dir).is_absolute() {
                let msg = format!(
                    "[cluster]: state_dir \"{dir}\" must be an absolute path \
                     (the default is {})",
                    super::DEFAULT_STATE_DIR
                );
                self.error(&d.span(), "cluster.state_dir", msg);
                ok = false;
            } else if let Some(c) = crate::text::unsafe_char(dir) {
                // A path in messages and logs: no control or bidi
                // characters (crate::text), a NUL least of all.
                let msg = format!(
                    "[cluster]: state_dir contains the control or bidirectional-text character {c}"
                );
                self.error(&d.span(), "cluster.state_dir", msg);
                ok = false;
            } else {
                c.state_dir = PathBuf::from(dir);
            }
        }
        ok.then_some((c, raw.advskew_step.map(|s| s.span())))
    }

    // ----- [[check]] and [metrics] -------------------------------------------

    /// Every `[[check]]`; `None` entries failed (already reported).
    fn checks(&mut self, v: Spanned<DeValue<'_>>) -> Vec<Option<PCheck>> {
        let entries = self.array_of_tables(v, "check");
        let mut out = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, span, table) in entries {
            let ctx = entry_ctx("check", i, &table);
            let keypath = format!("check[{i}]");
            let (raw, failed) = self.entry::<RawCheck>(table, span.clone(), &ctx, &keypath);
            let Some(raw) = raw else {
                out.push(None);
                continue;
            };
            let c = self.check(&span, &ctx, &keypath, raw, &failed);
            if let Some(c) = &c {
                if let Some(line) = seen.get(&c.name) {
                    let msg = format!(
                        "{ctx}: check name \"{}\" is already used at line {line}",
                        c.name
                    );
                    self.error(&c.name_span, format!("{keypath}.name"), msg);
                    out.push(None);
                    continue;
                }
                seen.insert(c.name.clone(), self.idx.span(&span).line);
            }
            out.push(c);
        }
        out
    }

    fn check(
        &mut self,
        span: &Range<usize>,
        ctx: &str,
        keypath: &str,
        raw: RawCheck,
        failed: &BTreeSet<String>,
    ) -> Option<PCheck> {
        let mut ok = failed.is_empty();
        let missing = |cx: &mut Self, key: &str, why: &str| {
            if !failed.contains(key) {
                cx.error(
                    span,
                    format!("{keypath}.{key}"),
                    format!("{ctx}: missing key `{key}`{why}"),
                );
            }
        };
        let name = match raw.name {
            Some(n) => self.valid_name(n, keypath, ctx),
            None => {
                missing(self, "name", "");
                None
            }
        };

        // Which keys belong to which type, so that a key of another type
        // is named as such rather than silently ignored.
        let given: [(&str, Option<Range<usize>>); 4] = [
            ("address", raw.address.as_ref().map(Spanned::span)),
            ("command", raw.command.as_ref().map(Spanned::span)),
            ("url", raw.url.as_ref().map(Spanned::span)),
            (
                "expect_status",
                raw.expect_status.as_ref().map(Spanned::span),
            ),
        ];
        let kind = match &raw.kind {
            Some(k) => match k.get_ref().as_str() {
                t @ ("tcp" | "exec" | "http") => Some(t),
                other => {
                    let msg = format!(
                        "{ctx}: type \"{other}\" is not one of \"tcp\", \"exec\", \"http\""
                    );
                    self.error(&k.span(), format!("{keypath}.type"), msg);
                    None
                }
            },
            None => {
                missing(self, "type", " (\"tcp\", \"exec\" or \"http\")");
                None
            }
        };
        if let Some(kind) = kind {
            for (key, at) in &given {
                let belongs = match *key {
                    "address" => "tcp",
                    "command" => "exec",
                    _ => "http",
                };
                if let Some(at) = at
                    && belongs != kind
                {
                    let msg = format!(
                        "{ctx}: {key} is a key of type = \"{belongs}\", not of type = \"{kind}\""
                    );
                    self.error(at, format!("{keypath}.{key}"), msg);
                    ok = false;
                }
            }
        }
        let probe = match kind {
            Some("tcp") => match raw.address {
                Some(a) => match check_address(a.get_ref()) {
                    Ok(()) => Some(Probe::Tcp {
                        address: a.into_inner(),
                    }),
                    Err(why) => {
                        let msg = format!("{ctx}: address \"{}\" {why}", a.get_ref());
                        self.error(&a.span(), format!("{keypath}.address"), msg);
                        None
                    }
                },
                None => {
                    missing(self, "address", " (HOST:PORT) for type = \"tcp\"");
                    None
                }
            },
            Some("exec") => match raw.command {
                Some(c) => self
                    .hook_argv(c, ctx, &format!("{keypath}.command"), "command")
                    .map(|command| Probe::Exec { command }),
                None => {
                    missing(self, "command", " (an argv array) for type = \"exec\"");
                    None
                }
            },
            Some(_) => {
                let expect = match &raw.expect_status {
                    None => Some(HTTP_EXPECT_DEFAULT),
                    Some(e) => match u16::try_from(*e.get_ref()) {
                        Ok(v) if (100..=599).contains(&v) => Some(v),
                        _ => {
                            let msg = format!(
                                "{ctx}: expect_status {} is not an HTTP status (100-599)",
                                e.get_ref()
                            );
                            self.error(&e.span(), format!("{keypath}.expect_status"), msg);
                            None
                        }
                    },
                };
                let url = match raw.url {
                    Some(u) => match parse_http_url(u.get_ref()) {
                        Ok(url) => Some(url),
                        Err(why) => {
                            let msg = format!("{ctx}: url \"{}\" {why}", u.get_ref());
                            self.error(&u.span(), format!("{keypath}.url"), msg);
                            None
                        }
                    },
                    None => {
                        missing(
                            self,
                            "url",
                            " (http://HOST[:PORT]/PATH) for type = \"http\"",
                        );
                        None
                    }
                };
                match (url, expect) {
                    (Some(url), Some(expect_status)) => Some(Probe::Http { url, expect_status }),
                    _ => None,
                }
            }
            None => None,
        };

        let number = |cx: &mut Self, v: &Option<Spanned<i64>>, key: &str, max: u64, unit: &str| {
            let v = v.as_ref()?;
            match u64::try_from(*v.get_ref()) {
                Ok(n) if (1..=max).contains(&n) => Some(Ok(n)),
                _ => {
                    let msg = format!("{ctx}: {key} {} is out of range 1-{max}{unit}", v.get_ref());
                    cx.error(&v.span(), format!("{keypath}.{key}"), msg);
                    Some(Err(()))
                }
            }
        };
        let max_count = u64::from(CHECK_COUNT_MAX);
        let interval = number(
            self,
            &raw.interval,
            "interval",
            CHECK_SECONDS_MAX,
            " (seconds)",
        );
        let timeout = number(
            self,
            &raw.timeout,
            "timeout",
            CHECK_SECONDS_MAX,
            " (seconds)",
        );
        let rise = number(self, &raw.rise, "rise", max_count, "");
        let fall = number(self, &raw.fall, "fall", max_count, "");
        let weight = number(
            self,
            &raw.weight,
            "weight",
            u64::from(MAX_WEIGHT),
            " (the kernel clamps a demoted skew at 240)",
        );
        let value = |r: Option<Result<u64, ()>>, default: u64| match r {
            None => Ok(default),
            Some(r) => r,
        };
        let interval = value(interval, CHECK_INTERVAL_DEFAULT);
        let timeout = value(timeout, CHECK_TIMEOUT_DEFAULT);
        let rise = value(rise, u64::from(CHECK_RISE_DEFAULT));
        let fall = value(fall, u64::from(CHECK_FALL_DEFAULT));
        let weight = match weight {
            None => Ok(None),
            Some(r) => r.map(Some),
        };
        if let (Ok(i), Ok(t)) = (interval, timeout)
            && t > i
        {
            let at = raw
                .timeout
                .as_ref()
                .or(raw.interval.as_ref())
                .map_or_else(|| span.clone(), Spanned::span);
            let msg = format!(
                "{ctx}: timeout {t} s is longer than interval {i} s; a probe must end \
                 before the next one is due"
            );
            self.error(&at, format!("{keypath}.timeout"), msg);
            ok = false;
        }
        let (Some(name), Some(probe), Ok(interval), Ok(timeout), Ok(rise), Ok(fall), Ok(weight)) =
            (name, probe, interval, timeout, rise, fall, weight)
        else {
            return None;
        };
        if !ok {
            return None;
        }
        Some(PCheck {
            name_span: name.span(),
            name: name.into_inner(),
            probe,
            interval: Duration::from_secs(interval),
            timeout: Duration::from_secs(timeout),
            // Both at most CHECK_COUNT_MAX and MAX_WEIGHT: the conversions
            // cannot fail.
            rise: u32::try_from(rise).unwrap_or(CHECK_COUNT_MAX),
            fall: u32::try_from(fall).unwrap_or(CHECK_COUNT_MAX),
            weight: weight.map(|w| u16::try_from(w).unwrap_or(MAX_WEIGHT)),
        })
    }

    fn metrics(&mut self, v: Spanned<DeValue<'_>>) -> Option<MetricsConfig> {
        let span = v.span();
        let DeValue::Table(table) = v.into_inner() else {
            self.error(&span, "metrics", "metrics must be a table: write [metrics]");
            return None;
        };
        let (raw, failed) = self.entry::<RawMetrics>(table, span, "[metrics]", "metrics");
        let raw = raw?;
        let mut ok = failed.is_empty();
        let mut m = MetricsConfig::default();
        if let Some(t) = &raw.textfile {
            let path = t.get_ref();
            if path.is_empty() || !Path::new(path).is_absolute() || path.ends_with('/') {
                let msg = format!(
                    "[metrics]: textfile \"{path}\" must be the absolute path of a file \
                     (e.g. /var/tmp/node_exporter/carpctl.prom)"
                );
                self.error(&t.span(), "metrics.textfile", msg);
                ok = false;
            } else if let Some(c) = crate::text::unsafe_char(path) {
                let msg = format!(
                    "[metrics]: textfile contains the control or bidirectional-text character {c}"
                );
                self.error(&t.span(), "metrics.textfile", msg);
                ok = false;
            } else {
                if !path.ends_with(".prom") {
                    let msg = format!(
                        "[metrics]: textfile \"{path}\" does not end in .prom, so \
                         node_exporter's textfile collector will not read it"
                    );
                    self.warn(&t.span(), "metrics.textfile", msg);
                }
                m.textfile = Some(PathBuf::from(path));
            }
        }
        if let Some(l) = &raw.listen {
            let text = l.get_ref();
            match text.parse::<SocketAddr>() {
                Err(_) => {
                    let msg = format!(
                        "[metrics]: listen \"{text}\" is not IP:PORT (e.g. 127.0.0.1:9946 or \
                         [::1]:9946)"
                    );
                    self.error(&l.span(), "metrics.listen", msg);
                    ok = false;
                }
                Ok(a) if !a.ip().is_loopback() => {
                    let msg = format!(
                        "[metrics]: listen {a} is not a loopback address; the metrics are \
                         served without authentication, so only 127.0.0.0/8 or ::1 is \
                         accepted (let node_exporter or a proxy export them)"
                    );
                    self.error(&l.span(), "metrics.listen", msg);
                    ok = false;
                }
                Ok(a) if a.port() == 0 => {
                    let msg = "[metrics]: listen needs a port other than 0".to_string();
                    self.error(&l.span(), "metrics.listen", msg);
                    ok = false;
                }
                Ok(a) => m.listen = Some(a),
            }
        }
        ok.then_some(m)
    }

    /// The elements of `[[section]]`, each a table with its span.
    fn array_of_tables<'i>(
        &mut self,
        v: Spanned<DeValue<'i>>,
        section: &str,
    ) -> Vec<(usize, Range<usize>, DeTable<'i>)> {
        let span = v.span();
        match v.into_inner() {
            DeValue::Array(arr) => {
                let mut out = Vec::new();
                for (i, e) in arr.into_iter().enumerate() {
                    let espan = e.span();
                    match e.into_inner() {
                        DeValue::Table(t) => out.push((i, espan, t)),
                        other => {
                            let msg = format!(
                                "{section} #{}: must be a table, not {}",
                                i + 1,
                                article(other.type_str())
                            );
                            self.error(&espan, format!("{section}[{i}]"), msg);
                        }
                    }
                }
                out
            }
            DeValue::Table(_) => {
                let msg = format!(
                    "{section} must be an array of tables: write [[{section}]], not [{section}]"
                );
                self.error(&span, section, msg);
                Vec::new()
            }
            other => {
                let msg = format!(
                    "{section} must be an array of tables ([[{section}]]), not {}",
                    article(other.type_str())
                );
                self.error(&span, section, msg);
                Vec::new()
            }
        }
    }

    fn nodes(&mut self, v: Option<Spanned<DeValue<'_>>>) -> Vec<PNode> {
        let Some(v) = v else {
            self.file_error("no [[node]] entries: a cluster needs at least one node");
            return Vec::new();
        };
        let entries = self.array_of_tables(v, "node");
        let mut nodes: Vec<PNode> = Vec::new();
        // Folded name -> (name as written, where).
        let mut seen: HashMap<String, (String, Pos)> = HashMap::new();
        let mut any = false;
        for (i, span, table) in entries {
            any = true;
            let ctx = entry_ctx("node", i, &table);
            let keypath = format!("node[{i}]");
            let (raw, failed) = self.entry::<RawNode>(table, span.clone(), &ctx, &keypath);
            let Some(raw) = raw else { continue };
            let Some(name) = raw.name else {
                if !failed.contains("name") {
                    self.error(&span, &keypath, format!("{ctx}: missing key `name`"));
                }
                continue;
            };
            let nspan = name.span();
            let name = name.into_inner();
            if let Some(why) = bad_name(&name, NODE_NAME_MAX) {
                self.error(
                    &nspan,
                    format!("{keypath}.name"),
                    format!("{ctx}: name {why}"),
                );
                continue;
            }
            // Host names compare case-insensitively (RFC 4343), and so does
            // node selection by host name (select_node): two names that
            // differ only in case name one host.
            let folded = name.to_lowercase();
            if let Some((first_name, first)) = seen.get(&folded) {
                let msg = if *first_name == name {
                    format!(
                        "{ctx}: node name \"{name}\" is already used at line {}",
                        first.line
                    )
                } else {
                    format!(
                        "{ctx}: node name \"{name}\" differs from \"{first_name}\" (line {}) \
                         only in case; host names are case-insensitive (RFC 4343), so both \
                         name the same host",
                        first.line
                    )
                };
                self.error(&nspan, format!("{keypath}.name"), msg);
                continue;
            }
            seen.insert(folded, (name.clone(), self.idx.span(&nspan)));
            let mut interfaces = BTreeMap::new();
            let mut map_spans = BTreeMap::new();
            let mut ok = true;
            for (logical, real) in raw.interfaces.map(Spanned::into_inner).unwrap_or_default() {
                let rspan = real.span();
                let real = real.into_inner();
                if let Some(why) = bad_name(&logical, NAME_MAX) {
                    let msg = format!("{ctx}: interfaces: a logical interface name {why}");
                    self.error(&rspan, format!("{keypath}.interfaces"), msg);
                    ok = false;
                    continue;
                }
                let key = format!("{keypath}.interfaces.{logical}");
                if let Some(why) = bad_ifname(&real) {
                    let msg = format!("{ctx}: interfaces.{logical} = \"{real}\": {why}");
                    self.error(&rspan, key, msg);
                    ok = false;
                    continue;
                }
                map_spans.insert(logical.clone(), rspan);
                interfaces.insert(logical, real);
            }
            if !ok {
                continue;
            }
            nodes.push(PNode {
                node: Node {
                    name,
                    interfaces,
                    pos: Some(self.idx.span(&span)),
                },
                map_spans,
            });
        }
        if !any {
            self.file_error("no [[node]] entries: a cluster needs at least one node");
        }
        nodes
    }

    fn vips(&mut self, v: Option<Spanned<DeValue<'_>>>, nodes: &[PNode]) -> Vec<PVip> {
        let Some(v) = v else {
            self.diags.push(
                Diagnostic::warning("no [[vip]] entries: there is nothing to manage")
                    .in_file(self.path),
            );
            return Vec::new();
        };
        let entries = self.array_of_tables(v, "vip");
        let mut out = Vec::new();
        for (i, span, mut table) in entries {
            let ctx = entry_ctx("vip", i, &table);
            let keypath = format!("vip[{i}]");
            // Handled by hand so that serde never sees (and quotes) it.
            let password = table.remove("password").map(|v| (v.span(), v.into_inner()));
            let (raw, failed) = self.entry::<RawVip>(table, span.clone(), &ctx, &keypath);
            let Some(raw) = raw else {
                // Still look at an inline password, so its errors are not lost.
                if password.is_some() {
                    self.password(password, None, &ctx, &keypath, &span);
                }
                continue;
            };
            out.push(self.vip(i, span, ctx, keypath, raw, failed, password, nodes));
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn vip(
        &mut self,
        index: usize,
        span: Range<usize>,
        ctx: String,
        keypath: String,
        raw: RawVip,
        failed: BTreeSet<String>,
        password: Option<(Range<usize>, DeValue<'_>)>,
        nodes: &[PNode],
    ) -> PVip {
        let missing = |cx: &mut Self, key: &str| {
            if !failed.contains(key) {
                cx.error(
                    &span,
                    format!("{keypath}.{key}"),
                    format!("{ctx}: missing key `{key}`"),
                );
            }
        };

        let name = match raw.name {
            Some(n) => self.valid_name(n, &keypath, &ctx),
            None => {
                missing(self, "name");
                None
            }
        };

        let vhid = match raw.vhid {
            Some(v) => match Vhid::new(*v.get_ref()) {
                Ok(h) => Some(Spanned::new(v.span(), h)),
                Err(_) => {
                    let msg = format!("{ctx}: vhid {} is out of range 1-255", v.get_ref());
                    self.error(&v.span(), format!("{keypath}.vhid"), msg);
                    None
                }
            },
            None => {
                missing(self, "vhid");
                None
            }
        };

        let interface = match raw.interface {
            Some(n) => match bad_name(n.get_ref(), NAME_MAX) {
                Some(why) => {
                    let msg = format!("{ctx}: interface {why}");
                    self.error(&n.span(), format!("{keypath}.interface"), msg);
                    None
                }
                None => Some(n),
            },
            None => {
                missing(self, "interface");
                None
            }
        };

        let addresses = match raw.addresses {
            Some(a) => self.addresses(a, &ctx, &keypath),
            None => {
                missing(self, "addresses");
                None
            }
        };

        // Ok(None): not given, use the cluster's; Err: reported.
        let advbase = match raw.advbase {
            Some(a) => match AdvBase::new(*a.get_ref()) {
                Ok(b) => Ok(Some(b)),
                Err(_) => {
                    let msg = format!(
                        "{ctx}: advbase {} is out of range 1-255 (seconds)",
                        a.get_ref()
                    );
                    self.error(&a.span(), format!("{keypath}.advbase"), msg);
                    Err(())
                }
            },
            None if failed.contains("advbase") => Err(()),
            None => Ok(None),
        };

        let (key, key_ok) = self.password(password, raw.password_file, &ctx, &keypath, &span);

        let mut prefer_ok = !failed.contains("prefer");
        if let Some(p) = &raw.prefer {
            prefer_ok &= self.prefer(p, nodes, &ctx, &keypath);
        }

        let mut hooks_ok = true;
        let mut hooks: [Vec<String>; 3] = Default::default();
        let given = [raw.on_master, raw.on_backup, raw.on_init];
        for ((name, slot), argv) in HOOK_KEYS.iter().zip(hooks.iter_mut()).zip(given) {
            hooks_ok &= !failed.contains(*name);
            if let Some(argv) = argv {
                match self.hook_argv(argv, &ctx, &format!("{keypath}.{name}"), name) {
                    Some(a) => *slot = a,
                    None => hooks_ok = false,
                }
            }
        }

        PVip {
            index,
            ctx,
            entry_span: span,
            name,
            vhid,
            interface,
            addresses,
            key,
            key_ok,
            prefer: raw.prefer,
            prefer_ok,
            advbase,
            hooks: if hooks_ok { Ok(hooks) } else { Err(()) },
        }
    }

    /// A hook's argv: not empty, `argv[0]` not empty, no NUL byte in any
    /// argument (execve(2) takes C strings: a NUL would cut the argument).
    fn hook_argv(
        &mut self,
        argv: Spanned<Vec<Spanned<String>>>,
        ctx: &str,
        key: &str,
        name: &str,
    ) -> Option<Vec<String>> {
        let span = argv.span();
        let argv = argv.into_inner();
        let Some(first) = argv.first() else {
            let msg = format!(
                "{ctx}: {name} is empty; give the command and its arguments \
                 (e.g. [\"/usr/local/sbin/service\", \"postfix\", \"start\"]) or leave {name} out"
            );
            self.error(&span, key, msg);
            return None;
        };
        let mut ok = true;
        let program = first.get_ref();
        if program.is_empty() {
            let msg = format!("{ctx}: {name}[0], the program to run, is empty");
            self.error(&first.span(), format!("{key}[0]"), msg);
            ok = false;
        } else if !program.starts_with('/') {
            let msg = format!(
                "{ctx}: {name}[0] \"{program}\" is not an absolute path: it is looked up in \
                 the PATH (or the directory) carpctl was started with, which differ between \
                 rc.d, devd and a login shell; write the full path (e.g. /usr/sbin/service)"
            );
            self.warn(&first.span(), format!("{key}[0]"), msg);
        }
        for (j, a) in argv.iter().enumerate() {
            if a.get_ref().contains('\0') {
                let msg = format!(
                    "{ctx}: {name}[{j}] contains a NUL byte, which no program argument can hold"
                );
                self.error(&a.span(), format!("{key}[{j}]"), msg);
                ok = false;
            }
        }
        ok.then(|| argv.into_iter().map(Spanned::into_inner).collect())
    }

    fn addresses(
        &mut self,
        list: Spanned<Vec<Spanned<String>>>,
        ctx: &str,
        keypath: &str,
    ) -> Option<Vec<Spanned<IpNet>>> {
        let lspan = list.span();
        let list = list.into_inner();
        if list.is_empty() {
            let msg = format!("{ctx}: addresses is empty; a VIP needs at least one address");
            self.error(&lspan, format!("{keypath}.addresses"), msg);
            return None;
        }
        let mut out: Vec<Spanned<IpNet>> = Vec::new();
        let mut ok = true;
        for (j, a) in list.into_iter().enumerate() {
            let aspan = a.span();
            let key = format!("{keypath}.addresses[{j}]");
            let text = a.get_ref().trim();
            let net = match text.parse::<IpNet>() {
                Ok(n) => n,
                Err(_) => {
                    let msg = match text.parse::<IpAddr>() {
                        Ok(ip) => format!(
                            "{ctx}: address \"{text}\" has no prefix length; write {ip}/{}",
                            if ip.is_ipv4() { 32 } else { 128 }
                        ),
                        Err(_) => format!(
                            "{ctx}: address \"{text}\" is not an IPv4 or IPv6 address with a \
                             prefix length (e.g. 192.0.2.1/32 or 2001:db8::1/128)"
                        ),
                    };
                    self.error(&aspan, key, msg);
                    ok = false;
                    continue;
                }
            };
            if let Some(why) = not_a_vip(&net) {
                self.error(&aspan, key, format!("{ctx}: address {} {why}", net.addr()));
                ok = false;
                continue;
            }
            // The same address twice (even with another prefix length):
            // the kernel keeps one address per IP.
            if let Some(prev) = out.iter().find(|p| p.get_ref().addr() == net.addr()) {
                let msg = format!(
                    "{ctx}: address {} is listed twice (also at line {})",
                    net.addr(),
                    self.idx.span(&prev.span()).line
                );
                self.error(&aspan, key, msg);
                ok = false;
                continue;
            }
            out.push(Spanned::new(aspan, net));
        }
        ok.then_some(out)
    }

    /// `prefer`: known nodes, each once, not empty.
    fn prefer(
        &mut self,
        p: &Spanned<Vec<Spanned<String>>>,
        nodes: &[PNode],
        ctx: &str,
        keypath: &str,
    ) -> bool {
        if p.get_ref().is_empty() {
            let msg = format!(
                "{ctx}: prefer is empty, so no node would take part; \
                 leave it out to use every node in rotation"
            );
            self.error(&p.span(), format!("{keypath}.prefer"), msg);
            return false;
        }
        let known: Vec<&str> = nodes.iter().map(|n| n.node.name.as_str()).collect();
        let mut ok = true;
        let mut seen = BTreeSet::new();
        for (j, n) in p.get_ref().iter().enumerate() {
            let key = format!("{keypath}.prefer[{j}]");
            if !known.contains(&n.get_ref().as_str()) {
                let msg = format!(
                    "{ctx}: prefer names \"{}\", which is not a [[node]] (known nodes: {})",
                    n.get_ref(),
                    known.join(", ")
                );
                self.error(&n.span(), key, msg);
                ok = false;
            } else if !seen.insert(n.get_ref().as_str()) {
                let msg = format!("{ctx}: prefer names \"{}\" twice", n.get_ref());
                self.error(&n.span(), key, msg);
                ok = false;
            }
        }
        ok
    }

    /// `password` / `password_file` into a key. Returns the key and whether
    /// the keys were valid (no password at all is valid, with a warning).
    fn password(
        &mut self,
        inline: Option<(Range<usize>, DeValue<'_>)>,
        file: Option<Spanned<String>>,
        ctx: &str,
        keypath: &str,
        entry: &Range<usize>,
    ) -> (Option<KeySource>, bool) {
        match (inline, file) {
            (None, None) => {
                let msg = format!(
                    "{ctx}: no password: any host on the segment can take over this VIP \
                     (set password_file)"
                );
                self.warn(entry, keypath, msg);
                (None, true)
            }
            (Some((ispan, _)), Some(_)) => {
                let msg = format!("{ctx}: set either password or password_file, not both");
                self.error(&ispan, format!("{keypath}.password"), msg);
                (None, false)
            }
            (Some((span, value)), None) => {
                let key = format!("{keypath}.password");
                let DeValue::String(s) = value else {
                    // Deliberately without the value: it may be the secret.
                    self.error(&span, key, format!("{ctx}: password must be a string"));
                    return (None, false);
                };
                let mut ok = true;
                if let Some(mode) = self.file_mode
                    && open_to_others(mode)
                    && !self.mode_reported
                {
                    self.mode_reported = true;
                    let msg = format!(
                        "{} is mode {mode:04o}; a file holding password = must not be \
                         accessible by group or others (chmod 600), or use password_file",
                        self.path.display()
                    );
                    self.error(&span, key.clone(), msg);
                    ok = false;
                }
                let k = self.key_from(s.as_bytes(), "password", &span, &key, ctx);
                // An escaped string is an owned copy: wipe it.
                if let std::borrow::Cow::Owned(mut owned) = s {
                    owned.zeroize();
                }
                let ok = ok && k.is_some();
                (k.filter(|_| ok).map(KeySource::Inline), ok)
            }
            (None, Some(f)) => {
                // Only the path: the file is read when the key is needed
                // (config::keys), so that a broken key file stops only
                // what needs that key.
                let key = format!("{keypath}.password_file");
                let fspan = f.span();
                let given = f.into_inner();
                if given.is_empty() {
                    self.error(&fspan, key, format!("{ctx}: password_file is empty"));
                    return (None, false);
                }
                let file = KeyFile {
                    path: self.relative(&given),
                    cluster: self.path.to_path_buf(),
                    pos: self.pos(&fspan),
                    keypath: key,
                    ctx: ctx.to_string(),
                };
                (Some(KeySource::File(file)), true)
            }
        }
    }

    /// Check a password's bytes and make the key; `what` names where it came
    /// from. Never puts the bytes in a message.
    fn key_from(
        &mut self,
        bytes: &[u8],
        what: &str,
        span: &Range<usize>,
        key: &str,
        ctx: &str,
    ) -> Option<Key> {
        let max = carpctl_sys::CARP_KEY_LEN;
        if bytes.is_empty() {
            self.error(span, key, format!("{ctx}: {what} is empty"));
            return None;
        }
        if bytes.len() > max {
            let msg = format!(
                "{ctx}: {what} is {} bytes; carp(4) keys are at most {max} bytes",
                bytes.len()
            );
            self.error(span, key, msg);
            return None;
        }
        if bytes.contains(&0) {
            let msg = format!("{ctx}: {what} contains a NUL byte, where the kernel would stop");
            self.error(span, key, msg);
            return None;
        }
        let issues = password_issues(bytes);
        if !issues.is_empty() {
            let msg = format!(
                "{ctx}: {what} {}; it is used byte for byte, so a node configured by hand \
                 (ifconfig ... pass) can never match it",
                issues.join(", and ")
            );
            self.warn(span, key, msg);
        }
        if bytes.len() > IFCONFIG_PASSWORD_MAX {
            let msg = format!(
                "{ctx}: {what} is {} bytes; ifconfig(8) keeps only {IFCONFIG_PASSWORD_MAX}, \
                 so a node configured by hand would use a different key",
                bytes.len()
            );
            self.warn(span, key, msg);
        }
        match Key::new(bytes) {
            Ok(k) => Some(k),
            Err(e) => {
                // Key::new checks the same rules; its message has no bytes.
                self.error(span, key, format!("{ctx}: {what}: {e}"));
                None
            }
        }
    }

    /// `n` if it is a usable name (of a check or a VIP), else an error at it.
    fn valid_name(
        &mut self,
        n: Spanned<String>,
        keypath: &str,
        ctx: &str,
    ) -> Option<Spanned<String>> {
        match bad_name(n.get_ref(), NAME_MAX) {
            Some(why) => {
                self.error(
                    &n.span(),
                    format!("{keypath}.name"),
                    format!("{ctx}: name {why}"),
                );
                None
            }
            None => Some(n),
        }
    }

    /// A `password_file` relative to the cluster file's directory.
    fn relative(&self, given: &str) -> PathBuf {
        super::relative_to(self.path, given)
    }

    // ----- pass 3: rules across entries ------------------------------------

    fn cross_check(
        &mut self,
        cluster: &Cluster,
        step_span: Option<&Range<usize>>,
        nodes: &[PNode],
        vips: &[PVip],
    ) {
        self.unique_vip_names(vips);
        self.unique_addresses(vips);
        self.vhid_per_interface(nodes, vips);
        self.loopback_interfaces(nodes, vips);
        self.unused_mappings(nodes, vips);
        self.single_node_vips(nodes, vips);
        self.skews(cluster, step_span, nodes, vips);
    }

    fn unique_vip_names(&mut self, vips: &[PVip]) {
        let mut seen: HashMap<&str, &Range<usize>> = HashMap::new();
        for v in vips {
            let Some(n) = &v.name else { continue };
            if let Some(first) = seen.get(n.get_ref().as_str()) {
                let msg = format!(
                    "{}: VIP name \"{}\" is already used at line {}",
                    v.ctx,
                    n.get_ref(),
                    self.idx.span(first).line
                );
                self.error(&n.span(), format!("vip[{}].name", v.index), msg);
            } else {
                seen.insert(n.get_ref(), &v.entry_span);
            }
        }
    }

    /// One address in two VIPs: the nodes would fight over it.
    fn unique_addresses(&mut self, vips: &[PVip]) {
        let mut seen: HashMap<IpAddr, &PVip> = HashMap::new();
        for v in vips {
            for (j, a) in v.addresses.iter().flatten().enumerate() {
                let ip = a.get_ref().addr();
                match seen.get(&ip) {
                    Some(first) if first.index != v.index => {
                        let msg = format!(
                            "{}: address {ip} is also in {} (line {})",
                            v.ctx,
                            first.ctx,
                            self.idx.span(&first.entry_span).line
                        );
                        self.error(&a.span(), format!("vip[{}].addresses[{j}]", v.index), msg);
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(ip, v);
                    }
                }
            }
        }
    }

    /// A vhid is unique per interface (carp(4) keys vhids by parent
    /// interface), so two VIPs with one vhid must never land on the same
    /// real interface of a node that takes part in both.
    fn vhid_per_interface(&mut self, nodes: &[PNode], vips: &[PVip]) {
        // (later vip, earlier vip) -> the nodes and real interfaces clashing.
        let mut clashes: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
        // vip -> the nodes that take its interface name as a real name that
        // the kernel would refuse.
        let mut bad_real: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for n in nodes {
            let mut taken: HashMap<(&str, Vhid), usize> = HashMap::new();
            for (k, v) in vips.iter().enumerate() {
                let (Some(vhid), Some(iface)) = (&v.vhid, &v.interface) else {
                    continue;
                };
                if !takes_part(v, &n.node.name) {
                    continue;
                }
                let real = n.node.real_interface(iface.get_ref());
                if !n.node.interfaces.contains_key(iface.get_ref()) && bad_ifname(real).is_some() {
                    bad_real.entry(k).or_default().push(n.node.name.clone());
                }
                match taken.get(&(real, *vhid.get_ref())) {
                    Some(&first) => clashes
                        .entry((k, first))
                        .or_default()
                        .push(format!("{real} on {}", n.node.name)),
                    None => {
                        taken.insert((real, *vhid.get_ref()), k);
                    }
                }
            }
        }
        for ((k, first), wheres) in clashes {
            let (Some(v), Some(f)) = (vips.get(k), vips.get(first)) else {
                continue;
            };
            let Some(vhid) = &v.vhid else { continue };
            let msg = format!(
                "{}: vhid {} is already used by {} (line {}) on the same interface: {}",
                v.ctx,
                vhid.get_ref(),
                f.ctx,
                self.idx.span(&f.entry_span).line,
                wheres.join(", ")
            );
            self.error(&vhid.span(), format!("vip[{}].vhid", v.index), msg);
        }
        for (k, nodes) in bad_real {
            let Some(v) = vips.get(k) else { continue };
            let Some(iface) = &v.interface else { continue };
            let msg = format!(
                "{}: \"{}\" is not mapped by node {}, so it is taken as a real interface \
                 name, and {}",
                v.ctx,
                iface.get_ref(),
                nodes.join(", "),
                bad_ifname(iface.get_ref()).unwrap_or_default()
            );
            self.error(&iface.span(), format!("vip[{}].interface", v.index), msg);
        }
    }

    /// A VIP on a loopback interface: carp(4) refuses it (EOPNOTSUPP,
    /// [`is_loopback_ifname`]), so `apply` would fail late; say it here.
    fn loopback_interfaces(&mut self, nodes: &[PNode], vips: &[PVip]) {
        for v in vips {
            let Some(iface) = &v.interface else { continue };
            let wheres: Vec<String> = nodes
                .iter()
                .filter(|n| takes_part(v, &n.node.name))
                .filter_map(|n| {
                    let real = n.node.real_interface(iface.get_ref());
                    is_loopback_ifname(real).then(|| format!("{real} on {}", n.node.name))
                })
                .collect();
            if wheres.is_empty() {
                continue;
            }
            let msg = format!(
                "{}: interface \"{}\" is a loopback interface ({}); carp(4) runs only on \
                 Ethernet, VLAN and bridge interfaces and refuses a loopback (EOPNOTSUPP)",
                v.ctx,
                iface.get_ref(),
                wheres.join(", ")
            );
            self.error(&iface.span(), format!("vip[{}].interface", v.index), msg);
        }
    }

    /// A mapping no VIP uses is most likely a typo of the logical name.
    fn unused_mappings(&mut self, nodes: &[PNode], vips: &[PVip]) {
        let used: BTreeSet<&str> = vips
            .iter()
            .filter_map(|v| v.interface.as_ref().map(|i| i.get_ref().as_str()))
            .collect();
        for n in nodes {
            for (logical, span) in &n.map_spans {
                if !used.contains(logical.as_str()) {
                    let msg = format!(
                        "node \"{}\": interfaces maps \"{logical}\", which no VIP uses \
                         (is a VIP's interface misspelt?)",
                        n.node.name
                    );
                    let i = nodes
                        .iter()
                        .position(|m| m.node.name == n.node.name)
                        .unwrap_or(0);
                    self.warn(span, format!("node[{i}].interfaces.{logical}"), msg);
                }
            }
        }
    }

    fn single_node_vips(&mut self, nodes: &[PNode], vips: &[PVip]) {
        for v in vips.iter().filter(|v| v.prefer_ok) {
            let count = match &v.prefer {
                Some(p) => p.get_ref().len(),
                None => nodes.len(),
            };
            if count == 1 {
                let at = v.prefer.as_ref().map_or(v.entry_span.clone(), |p| p.span());
                let msg = format!(
                    "{}: only one node takes part, so this VIP has no failover",
                    v.ctx
                );
                self.warn(&at, format!("vip[{}]", v.index), msg);
            }
        }
    }

    /// Every rank's advskew must stay below 240 (plan::advskew).
    fn skews(
        &mut self,
        cluster: &Cluster,
        step_span: Option<&Range<usize>>,
        nodes: &[PNode],
        vips: &[PVip],
    ) {
        let names: Vec<String> = nodes.iter().map(|n| n.node.name.clone()).collect();
        for v in vips {
            let Some(name) = &v.name else { continue };
            if !v.prefer_ok {
                continue;
            }
            let prefer: Option<Vec<String>> = v
                .prefer
                .as_ref()
                .map(|p| p.get_ref().iter().map(|s| s.get_ref().clone()).collect());
            let order = plan::order(v.index, prefer.as_deref(), &names);
            if let Err(e) = plan::ranks(name.get_ref(), &order, cluster.advskew_step) {
                let at = v
                    .prefer
                    .as_ref()
                    .map(|p| p.span())
                    .or_else(|| step_span.cloned())
                    .unwrap_or_else(|| v.entry_span.clone());
                self.error(&at, format!("vip[{}]", v.index), e.to_string());
            }
        }
    }
}

/// A check as parsed; the weight is filled in from the plan at the end.
struct PCheck {
    name: String,
    name_span: Range<usize>,
    probe: Probe,
    interval: Duration,
    timeout: Duration,
    rise: u32,
    fall: u32,
    weight: Option<u16>,
}

impl PCheck {
    fn into_check(self, default_weight: u16) -> Check {
        Check {
            name: self.name,
            probe: self.probe,
            interval: self.interval,
            timeout: self.timeout,
            rise: self.rise,
            fall: self.fall,
            weight: self.weight.unwrap_or(default_weight),
        }
    }
}

/// `HOST:PORT` for a tcp check: an IP literal (IPv6 in brackets) or a host
/// name, and a port 1-65535.
fn check_address(text: &str) -> Result<(), String> {
    if let Ok(a) = text.parse::<SocketAddr>() {
        return if a.port() == 0 {
            Err("has port 0".into())
        } else {
            Ok(())
        };
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err("is not HOST:PORT (e.g. 127.0.0.1:25 or [::1]:25)".into());
    };
    check_host(host)?;
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(format!("has port \"{port}\"; a port is 1-65535")),
    }
}

/// A host name as a check may name it: letters, digits, `-` and `.`
/// (RFC 1123); an IPv6 address must be an IP literal in brackets.
fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("has no host".into());
    }
    if host.contains(':') {
        return Err("has an IPv6 address without brackets: write [ADDR]:PORT".into());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(format!(
            "has host \"{host}\", which is neither an IP address nor a host name"
        ));
    }
    Ok(())
}

/// Parse `http://HOST[:PORT][/PATH]`. Only plain HTTP: see
/// [`crate::checks`] for why there is no TLS.
fn parse_http_url(text: &str) -> Result<HttpUrl, String> {
    let Some(rest) = text.strip_prefix("http://") else {
        if text.starts_with("https://") {
            return Err(
                "uses https, which carpctl's http check does not speak; check \
                        the plain-HTTP port on the loopback, or use an exec check \
                        (e.g. command = [\"/usr/local/bin/curl\", \"-fsS\", \"https://...\"])"
                    .into(),
            );
        }
        return Err("must start with http://".into());
    };
    if rest.contains('#') {
        return Err("has a fragment (#...), which is never sent to the server".into());
    }
    if rest
        .chars()
        .any(|c| c.is_whitespace() || crate::text::is_unsafe(c))
    {
        return Err("contains spaces, control or bidirectional-text characters".into());
    }
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    if authority.contains('@') {
        return Err("has user information (user@), which the check does not send".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return Err("has an unclosed [ in the host".into());
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("has \"[{addr}]\", which is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("has text after ]")?),
        };
        (addr.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if !host.contains(':') {
        check_host(&host)?;
    }
    let port = match port {
        None => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(format!("has port \"{p}\"; a port is 1-65535")),
        },
    };
    Ok(HttpUrl { host, port, path })
}

/// The per-VIP hook keys, in the order of [`PVip::hooks`].
const HOOK_KEYS: [&str; 3] = ["on_master", "on_backup", "on_init"];

fn takes_part(v: &PVip, node: &str) -> bool {
    v.prefer
        .as_ref()
        .is_none_or(|p| p.get_ref().iter().any(|n| n.get_ref() == node))
}

/// The longest name of an entry of `section`.
fn name_max(section: &str) -> usize {
    if section == "node" {
        NODE_NAME_MAX
    } else {
        NAME_MAX
    }
}

/// `vip "mail1"` when the entry has a string name, else `vip #2`.
fn entry_ctx(section: &str, i: usize, table: &DeTable<'_>) -> String {
    match table.get("name").map(|v| v.get_ref()) {
        Some(DeValue::String(s)) if bad_name(s, name_max(section)).is_none() => {
            format!("{section} \"{s}\"")
        }
        _ => format!("{section} #{}", i + 1),
    }
}

/// A key file's content: its bytes with one trailing newline (`\n` or
/// `\r\n`) removed, as `echo secret > file` leaves one.
fn strip_newline(bytes: &[u8]) -> &[u8] {
    let b = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if b.len() < bytes.len() {
        b.strip_suffix(b"\r").unwrap_or(b)
    } else {
        b
    }
}

/// Check the content of a key file read when its key is needed
/// ([`super::keys`]) with the rules of the file's own passwords
/// ([`Cx::key_from`]), after removing one trailing newline. The
/// diagnostics carry no position: the caller sets that of
/// `password_file`.
pub(super) fn key_from_file(
    cluster: &Path,
    ctx: &str,
    keypath: &str,
    what: &str,
    bytes: &[u8],
) -> (Option<Key>, Vec<Diagnostic>) {
    let mut cx = Cx {
        path: cluster,
        idx: LineIndex::new(""),
        file_mode: None,
        diags: Vec::new(),
        mode_reported: false,
    };
    let key = cx.key_from(strip_newline(bytes), what, &(0..0), keypath, ctx);
    (key, cx.diags)
}

/// "a string", "an integer".
fn article(noun: &str) -> String {
    match noun.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {noun}"),
        _ => format!("a {noun}"),
    }
}

/// serde's wording, in the file's terms.
fn serde_message(msg: &str) -> String {
    let msg = msg
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing key")
        .replace("expected i64", "expected an integer")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table");
    msg.to_string()
}
