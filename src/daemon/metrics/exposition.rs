//! The Prometheus text exposition format (version 0.0.4) of a
//! [`Snapshot`], written by hand.

use std::fmt::Write as _;

use super::Snapshot;
use crate::daemon::checks::CheckView;
use crate::hooks::VhidHookCounters;
use crate::ledger::{Cause, Split};
use crate::model::{CarpState, Protocol};

/// A label value, escaped as the exposition format requires (`\`, `"`
/// and newline).
pub(super) fn esc(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The exposition of `s`.
pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    vhid_states(&mut out, s);
    vhid_protocols(&mut out, s);
    transitions_and_hooks(&mut out, s);
    log_lines_dropped(&mut out, s);
    checks(&mut out, s);
    if let Some(d) = &s.demotion {
        demotion(&mut out, s, d);
    }
    out
}

/// `carpctl_vhid_state`: one series per vhid and state.
fn vhid_states(out: &mut String, s: &Snapshot) {
    header(
        out,
        "carpctl_vhid_state",
        "gauge",
        "CARP state of each vhid on this node: 1 for the current state.",
    );
    for v in &s.vhids {
        for state in [CarpState::Init, CarpState::Backup, CarpState::Master] {
            let _ = writeln!(
                out,
                "carpctl_vhid_state{{vhid=\"{}\",interface=\"{}\",vip=\"{}\",state=\"{}\"}} {}",
                v.vhid,
                esc(&v.interface),
                esc(&v.vip),
                state.as_str(),
                u8::from(v.state == state)
            );
        }
    }
}

/// `carpctl_vhid_info` (the protocol of every vhid), and the VRRPv3
/// priority and interval of each VRRP vhid.
fn vhid_protocols(out: &mut String, s: &Snapshot) {
    let labels = |v: &super::VhidMetric| {
        format!(
            "vhid=\"{}\",interface=\"{}\",vip=\"{}\"",
            v.vhid,
            esc(&v.interface),
            esc(&v.vip)
        )
    };
    header(
        out,
        "carpctl_vhid_info",
        "gauge",
        "Each vhid on this node, with its protocol (carp or vrrp): always 1.",
    );
    for v in &s.vhids {
        let protocol = v.protocol.word();
        let _ = writeln!(
            out,
            "carpctl_vhid_info{{{},protocol=\"{protocol}\"}} 1",
            labels(v)
        );
    }
    header(
        out,
        "carpctl_vrrp_priority",
        "gauge",
        "VRRPv3 priority of each VRRP vhid, as the kernel has it (1 in maintenance).",
    );
    for v in &s.vhids {
        if let Some(p) = v.vrrp_priority.filter(|_| v.protocol == Protocol::Vrrpv3) {
            let _ = writeln!(out, "carpctl_vrrp_priority{{{}}} {p}", labels(v));
        }
    }
    header(
        out,
        "carpctl_vrrp_interval_seconds",
        "gauge",
        "VRRPv3 advertisement interval of each VRRP vhid.",
    );
    for v in &s.vhids {
        if let Some(i) = v.vrrp_interval.filter(|_| v.protocol == Protocol::Vrrpv3) {
            let _ = writeln!(
                out,
                "carpctl_vrrp_interval_seconds{{{}}} {}",
                labels(v),
                f64::from(i) / 100.0
            );
        }
    }
}

/// `carpctl_transitions_total` and the per-vhid hook counters.
fn transitions_and_hooks(out: &mut String, s: &Snapshot) {
    header(
        out,
        "carpctl_transitions_total",
        "counter",
        "CARP state transitions the daemon handled (devd, replay and resync).",
    );
    let _ = writeln!(out, "carpctl_transitions_total {}", s.transitions);
    for (name, help, get) in [
        (
            "carpctl_hook_runs_total",
            "Hook runs per vhid.",
            (|c: &VhidHookCounters| c.counters.runs) as fn(&VhidHookCounters) -> u64,
        ),
        (
            "carpctl_hook_failures_total",
            "Hook runs that failed per vhid (non-zero exit, signal, timeout, not started).",
            |c: &VhidHookCounters| c.counters.failures,
        ),
        (
            "carpctl_hook_coalesced_total",
            "Events per vhid whose hook was skipped: superseded by newer ones while the \
             vhid's queue was full.",
            |c: &VhidHookCounters| c.counters.coalesced,
        ),
        (
            "carpctl_hook_dropped_total",
            "Events per vhid whose hook did not run because the daemon was stopping.",
            |c: &VhidHookCounters| c.counters.dropped,
        ),
    ] {
        header(out, name, "counter", help);
        for c in &s.hooks {
            let _ = writeln!(
                out,
                "{name}{{vhid=\"{}\",interface=\"{}\",vip=\"{}\"}} {}",
                c.vhid,
                esc(&c.interface),
                esc(&c.vip),
                get(c)
            );
        }
    }
}

/// `carpctl_log_lines_dropped_total`.
fn log_lines_dropped(out: &mut String, s: &Snapshot) {
    header(
        out,
        "carpctl_log_lines_dropped_total",
        "counter",
        "Log lines dropped because standard error was not being read.",
    );
    let _ = writeln!(
        out,
        "carpctl_log_lines_dropped_total {}",
        s.log_lines_dropped
    );
}

/// `carpctl_check_up` and `carpctl_check_changes_total`, per check.
fn checks(out: &mut String, s: &Snapshot) {
    for (name, kind, help, get) in [
        (
            "carpctl_check_up",
            "gauge",
            "Health check status: 1 passing, 0 failing (demoting).",
            (|v: &CheckView| u64::from(v.up)) as fn(&CheckView) -> u64,
        ),
        (
            "carpctl_check_changes_total",
            "counter",
            "Health check falls and rises since the daemon started.",
            |v: &CheckView| v.changes,
        ),
    ] {
        header(out, name, kind, help);
        for (check, v) in &s.checks {
            let _ = writeln!(out, "{name}{{check=\"{}\"}} {}", esc(check), get(v));
        }
    }
}

/// `carpctl_demotion` by cause, when each share was recorded, and the
/// kernel's total.
fn demotion(out: &mut String, s: &Snapshot, d: &Split) {
    header(
        out,
        "carpctl_demotion",
        "gauge",
        "net.inet.carp.demotion by cause: carpctl's shares and everything else.",
    );
    let weight = |c: &Cause| d.shares.get(c).map_or(0, |c| i64::from(c.weight));
    let _ = writeln!(
        out,
        "carpctl_demotion{{cause=\"maintenance\"}} {}",
        weight(&Cause::Maintenance)
    );
    let _ = writeln!(
        out,
        "carpctl_demotion{{cause=\"boot_hold\"}} {}",
        weight(&Cause::BootHold)
    );
    // Every configured check, and any other check share the ledger
    // holds (a check removed from the file since).
    let mut names: Vec<&str> = s.checks.keys().map(String::as_str).collect();
    for c in d.shares.keys() {
        if let Cause::Check(n) = c
            && !names.contains(&n.as_str())
        {
            names.push(n);
        }
    }
    names.sort_unstable();
    for n in names {
        let _ = writeln!(
            out,
            "carpctl_demotion{{cause=\"check\",check=\"{}\"}} {}",
            esc(n),
            weight(&Cause::Check(n.to_string()))
        );
    }
    let _ = writeln!(out, "carpctl_demotion{{cause=\"other\"}} {}", d.other);
    header(
        out,
        "carpctl_demotion_since_seconds",
        "gauge",
        "When each of carpctl's demotion shares was recorded (Unix time); absent without one.",
    );
    for (cause, c) in &d.shares {
        let labels = match cause {
            Cause::Maintenance => "cause=\"maintenance\"".to_string(),
            Cause::BootHold => "cause=\"boot_hold\"".to_string(),
            Cause::Check(n) => format!("cause=\"check\",check=\"{}\"", esc(n)),
        };
        let _ = writeln!(
            out,
            "carpctl_demotion_since_seconds{{{labels}}} {}",
            c.since
        );
    }
    header(
        out,
        "carpctl_demotion_kernel",
        "gauge",
        "net.inet.carp.demotion as the kernel reports it.",
    );
    let _ = writeln!(out, "carpctl_demotion_kernel {}", d.total);
}
