//! `[cluster]`: the settings every node shares (preempt, advbase,
//! advskew_step, hook_timeout, boot_hold, state_dir, and the defaults of
//! the VIPs' protocol, unicast and interval: [`super::protocol`]).

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use super::Validator;
use crate::config::{Cluster, DEFAULT_ADVSKEW_STEP, DEFAULT_HOOK_TIMEOUT, HOOK_TIMEOUT_MAX_SECS};
use crate::model::AdvBase;

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
    protocol: Option<Spanned<String>>,
    unicast: Option<Spanned<bool>>,
    interval: Option<Spanned<i64>>,
}

impl Validator<'_> {
    pub(super) fn cluster(
        &mut self,
        v: Spanned<DeValue<'_>>,
    ) -> Option<(Cluster, Option<Range<usize>>)> {
        let span = v.span();
        let DeValue::Table(table) = v.into_inner() else {
            self.error(&span, "cluster", "cluster must be a table: write [cluster]");
            return None;
        };
        let (raw, failed) = self.entry::<RawCluster>(table, span, "[cluster]", "cluster");
        let raw = raw?;
        let mut c = Cluster::default();
        let mut ok = true;
        if let Some(p) = &raw.preempt {
            c.preempt = self.preempt(p);
        }
        if let Some(a) = &raw.advbase {
            ok &= set(self.cluster_advbase(a), &mut c.advbase);
        }
        if let Some(s) = &raw.advskew_step {
            ok &= set(self.advskew_step(s), &mut c.advskew_step);
        }
        if let Some(t) = &raw.hook_timeout {
            ok &= set(self.hook_timeout(t), &mut c.hook_timeout);
        }
        if let Some(b) = &raw.boot_hold {
            c.boot_hold = *b.get_ref();
        }
        if let Some(d) = &raw.state_dir {
            ok &= set(self.state_dir(d), &mut c.state_dir);
        }
        // A failed protocol leaves interval unchecked: its rule depends on it.
        let mut protocol_ok = !failed.contains("protocol");
        if let Some(p) = &raw.protocol {
            protocol_ok &= set(self.protocol(p, "[cluster]", "cluster"), &mut c.protocol);
            ok &= protocol_ok;
        }
        if let Some(u) = &raw.unicast {
            c.unicast = *u.get_ref();
        }
        if let Some(i) = raw.interval.as_ref().filter(|_| protocol_ok) {
            ok &= set(
                self.vrrp_interval(i, c.protocol, "[cluster]", "cluster"),
                &mut c.interval,
            );
        }
        ok.then_some((c, raw.advskew_step.map(|s| s.span())))
    }

    /// `preempt`; false is allowed but warned about.
    fn preempt(&mut self, p: &Spanned<bool>) -> bool {
        let preempt = *p.get_ref();
        if !preempt {
            self.warn(
                &p.span(),
                "cluster.preempt",
                "[cluster]: preempt = false: a node that recovers never takes its VIPs \
                 back, so the load stays on the survivors until someone intervenes",
            );
        }
        preempt
    }

    /// `advbase`: 1-255 seconds.
    fn cluster_advbase(&mut self, a: &Spanned<i64>) -> Option<AdvBase> {
        match AdvBase::new(*a.get_ref()) {
            Ok(b) => Some(b),
            Err(_) => {
                let msg = format!(
                    "[cluster]: advbase {} is out of range 1-255 (seconds)",
                    a.get_ref()
                );
                self.error(&a.span(), "cluster.advbase", msg);
                None
            }
        }
    }

    /// `advskew_step`: at least two ranks must fit below CARP_MAXSKEW
    /// (240); a step under one kernel tick is warned about.
    fn advskew_step(&mut self, s: &Spanned<i64>) -> Option<u8> {
        let step = *s.get_ref();
        let max = i64::from(crate::model::CARP_MAXSKEW) - 1;
        match u8::try_from(step) {
            Ok(v) if (1..=max).contains(&step) => {
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
                Some(v)
            }
            _ => {
                let msg = format!("[cluster]: advskew_step {step} is out of range 1-{max}");
                self.error(&s.span(), "cluster.advskew_step", msg);
                None
            }
        }
    }

    /// `hook_timeout`: 1-HOOK_TIMEOUT_MAX_SECS seconds.
    fn hook_timeout(&mut self, t: &Spanned<i64>) -> Option<std::time::Duration> {
        let secs = *t.get_ref();
        match u64::try_from(secs) {
            Ok(v) if (1..=HOOK_TIMEOUT_MAX_SECS).contains(&v) => {
                Some(std::time::Duration::from_secs(v))
            }
            _ => {
                let msg = format!(
                    "[cluster]: hook_timeout {secs} is out of range 1-{HOOK_TIMEOUT_MAX_SECS} \
                     (seconds; the default is {})",
                    DEFAULT_HOOK_TIMEOUT.as_secs()
                );
                self.error(&t.span(), "cluster.hook_timeout", msg);
                None
            }
        }
    }

    /// `state_dir`: an absolute path without control or bidi characters.
    fn state_dir(&mut self, d: &Spanned<String>) -> Option<PathBuf> {
        let dir = d.get_ref();
        if dir.is_empty() || !Path::new(dir).is_absolute() {
            let msg = format!(
                "[cluster]: state_dir \"{dir}\" must be an absolute path \
                 (the default is {})",
                crate::config::DEFAULT_CLUSTER_STATE_DIR
            );
            self.error(&d.span(), "cluster.state_dir", msg);
            None
        } else if let Some(c) = crate::text::unsafe_char(dir) {
            // A path in messages and logs: no control or bidi
            // characters (crate::text), a NUL least of all.
            let msg = format!(
                "[cluster]: state_dir contains the control or bidirectional-text character {c}"
            );
            self.error(&d.span(), "cluster.state_dir", msg);
            None
        } else {
            Some(PathBuf::from(dir))
        }
    }
}

/// Store a key's value; `None` (an error, reported) keeps the default and
/// returns false.
fn set<T>(value: Option<T>, slot: &mut T) -> bool {
    match value {
        Some(v) => {
            *slot = v;
            true
        }
        None => false,
    }
}
