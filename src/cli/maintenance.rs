//! `carpctl maintenance on [--reason TEXT] | off | status [--json]`: take
//! this node out of service by demotion, and show who demotes it.
//!
//! `on` adds [`MAINTENANCE_WEIGHT`] (240) to `net.inet.carp.demotion`, so
//! every VIP moves to a node that is not in maintenance (with preemption on,
//! as the cluster file sets it by default), in steps
//! ([`crate::maintenance`]): first just enough to hand each VIP this node
//! is MASTER of to its next rank, then, once they have left MASTER here
//! (at most `--wait` seconds), the rest; `off` takes back exactly that
//! share. The share is recorded in the demotion ledger ([`crate::ledger`]),
//! which keeps it across crashes and reboots: `carpctl apply` at boot applies
//! it again. `status` splits the kernel's demotion by cause.
//!
//! Exit status: 0 done (also for an `on` that was already on and an `off`
//! that was already off: the node is as asked); 1 the kernel or the ledger
//! failed; 2 usage or configuration error.

use std::collections::BTreeMap;
use std::io::Write;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::{CliError, GlobalOpts, cluster};
use crate::kernel::Kernel;
use crate::ledger::{
    BootPolicy, Cause, Contribution, Ledger, LedgerError, Split, maintenance_off, maintenance_on,
    reason_problem,
};
use crate::logging::error_chain;
use crate::maintenance::{StepError, stepped_on};
use crate::model::{MAINTENANCE_WEIGHT, Protocol};

/// `carpctl maintenance <command>`.
#[derive(Debug, Clone, Subcommand)]
pub enum MaintenanceCommand {
    /// Demote this node by 240 so that every VIP moves to another node, in
    /// steps: first just enough to hand each VIP it is MASTER of to the
    /// next rank, then the rest; kept across restarts and reboots until
    /// `maintenance off`
    On(OnArgs),
    /// Take back exactly carpctl's maintenance share of the demotion
    Off,
    /// Show net.inet.carp.demotion split by cause: maintenance, each
    /// check, the boot hold, and other (ifdown, send errors, pfsync,
    /// manual)
    Status(MaintenanceStatusArgs),
}

/// Arguments of `carpctl maintenance on`.
#[derive(Debug, Clone, Args)]
pub struct OnArgs {
    /// Why, for `maintenance status` and the logs
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// How long to wait for this node's VIPs to leave MASTER after the
    /// first step before demoting fully (0: demote by 240 at once)
    #[arg(long, value_name = "SECONDS", default_value_t = crate::maintenance::DEFAULT_WAIT.as_secs_f64(),
          value_parser = parse_wait)]
    pub wait: f64,
}

/// `--wait`: seconds, 0 to [`crate::maintenance::MAX_WAIT`].
pub(crate) fn parse_wait(s: &str) -> Result<f64, String> {
    let max = crate::maintenance::MAX_WAIT.as_secs_f64();
    match s.parse::<f64>() {
        Ok(v) if (0.0..=max).contains(&v) => Ok(v),
        _ => Err(format!("must be a number of seconds from 0 to {max}")),
    }
}

/// Arguments of `carpctl maintenance status`.
#[derive(Debug, Clone, Args)]
pub struct MaintenanceStatusArgs {
    /// Print JSON: {"demotion", "maintenance", "shares", "other", ...}
    #[arg(long)]
    pub json: bool,
}

/// `carpctl maintenance ...`.
pub(crate) fn run(
    global: &GlobalOpts,
    cmd: &MaintenanceCommand,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if let MaintenanceCommand::On(OnArgs {
        reason: Some(reason),
        ..
    }) = cmd
    {
        check_reason(reason)?;
    }
    let cfg = cluster::load(&global.config_path())?;
    // VRRP VIPs are held by their priority, per node: know the node
    // before changing anything.
    let vrrp_node = match cmd {
        MaintenanceCommand::Status(_) => None,
        _ if cfg.vips.iter().any(|v| v.protocol == Protocol::Vrrpv3) => {
            Some(cluster::node(global, &cfg)?)
        }
        _ => None,
    };
    // The steps of `on` follow this node's ranks; a host that is not a
    // node of the file has none, and is demoted at once.
    let step_node = match cmd {
        MaintenanceCommand::On(_) => cluster::node(global, &cfg).ok(),
        _ => None,
    };
    let mut kernel = global.open_kernel()?;
    // on and off change the host: one carpctl at a time.
    let _lock = match cmd {
        MaintenanceCommand::Status(_) => None,
        _ => Some(super::lock_host(kernel.as_ref())?),
    };
    let ledger = Ledger::for_host(kernel.as_ref(), &cfg);
    let policy = BootPolicy::from_config(&cfg);
    match cmd {
        MaintenanceCommand::On(args) => {
            let step = step_node.as_deref().map(|n| (&cfg, n));
            on(&ledger, kernel.as_mut(), policy, step, args, out)?;
        }
        MaintenanceCommand::Off => off(&ledger, kernel.as_mut(), policy, out)?,
        MaintenanceCommand::Status(args) => return status(&ledger, kernel.as_mut(), args, out),
    }
    // Also when nothing changed: this repairs a sync a crash cut short.
    if let Some(node) = vrrp_node {
        for line in sync_vrrp(kernel.as_mut(), &cfg, &node)? {
            writeln!(out, "VRRP {line}")?;
        }
    }
    Ok(())
}

/// A reason goes into the ledger, the logs and one line of output: the
/// ledger's rule ([`reason_problem`]), which it also applies when it reads
/// the reason back.
fn check_reason(reason: &str) -> Result<(), CliError> {
    match reason_problem(reason) {
        Some(why) => Err(CliError::Usage(format!("--reason {why}"))),
        None => Ok(()),
    }
}

/// The ledger's [`crate::ledger::reconcile_host`], after `apply` has
/// configured the vhids.
pub(crate) fn reconcile(
    kernel: &mut dyn Kernel,
    cfg: &crate::config::Config,
) -> Result<(), CliError> {
    crate::ledger::reconcile_host(kernel, cfg).map_err(|e| {
        let e = ledger_err(e);
        CliError::Failed(format!(
            "the vhids are applied, but carpctl's demotion is not: {}",
            error_chain(&e)
        ))
    })
}

/// The ledger's [`crate::ledger::check_state_dir`]: an untrusted
/// `state_dir` is a configuration error (exit 2).
pub(crate) fn check_state_dir(
    kernel: &dyn Kernel,
    cfg: &crate::config::Config,
) -> Result<(), CliError> {
    crate::ledger::check_state_dir(kernel, cfg).map_err(ledger_err)
}

/// Whether this node's VRRP priorities are held at the maintenance
/// priority ([`crate::apply::hold`]) as the ledger stands: a live
/// maintenance or boot hold, or one a reboot applies again at the next
/// reconcile. Without carp(4) loaded, or with a ledger that cannot be
/// read, the answer is yes: a VRRP vhid created then starts low and the
/// sync after the reconcile raises it; it never claims a priority it
/// should not have, even for a moment.
pub(crate) fn vrrp_held(kernel: &mut dyn Kernel, cfg: &crate::config::Config) -> bool {
    if !kernel.carp_loaded().unwrap_or(false) {
        return true;
    }
    match Ledger::for_host(kernel, cfg).split(kernel) {
        Ok(s) => crate::apply::hold::holds(s.shares.keys().chain(s.not_applied.keys())),
        Err(e) => {
            tracing::warn!("cannot read the ledger: {}", error_chain(&e));
            true
        }
    }
}

/// Bring this node's VRRP priorities in line with the ledger's live
/// shares ([`crate::apply::hold::sync_node`]), after a change of them.
pub(crate) fn sync_vrrp(
    kernel: &mut dyn Kernel,
    cfg: &crate::config::Config,
    node: &str,
) -> Result<Vec<String>, CliError> {
    let split = Ledger::for_host(kernel, cfg)
        .split(kernel)
        .map_err(ledger_err)?;
    let held = crate::apply::hold::holds_map(&split.shares);
    crate::apply::hold::sync_node(kernel, cfg, node, held).map_err(|e| {
        CliError::Failed(format!(
            "the demotion is recorded, but the VRRP priorities are not: {e} \
             (run the command again, or `carpctl apply`)"
        ))
    })
}

fn ledger_err(e: LedgerError) -> CliError {
    match e {
        LedgerError::Kernel(source) => CliError::Kernel {
            context: "cannot change net.inet.carp.demotion".into(),
            source,
        },
        // An untrusted state_dir is a configuration error (exit 2).
        LedgerError::Fs(e) => e.into(),
        other => CliError::Failed(other.to_string()),
    }
}

fn on(
    ledger: &Ledger,
    kernel: &mut dyn Kernel,
    policy: BootPolicy,
    step: Option<(&crate::config::Config, &str)>,
    args: &OnArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let was = match step {
        Some((cfg, node)) => {
            let wait = std::time::Duration::from_secs_f64(args.wait);
            let o = stepped_on(
                ledger,
                kernel,
                policy,
                cfg,
                node,
                args.reason.clone(),
                wait,
                &mut std::thread::sleep,
            )
            .map_err(step_err)?;
            if let Some(w) = o.step {
                writeln!(
                    out,
                    "maintenance on: demoted by {w} first to hand {} to the next rank",
                    crate::maintenance::names(&o.handed)
                )?;
            }
            for line in &o.vrrp {
                writeln!(out, "VRRP {line} (first step, to hand it to the next rank)")?;
            }
            o.already
        }
        None => maintenance_on(ledger, kernel, policy, args.reason.clone()).map_err(ledger_err)?,
    };
    let total = demotion(kernel)?;
    match was {
        Some(existing) => {
            writeln!(
                out,
                "maintenance is already on (since {}{}); nothing changed",
                fmt_time(existing.since),
                reason_suffix(existing.reason.as_deref())
            )?;
        }
        None => {
            tracing::info!("maintenance on{}", reason_suffix(args.reason.as_deref()));
            writeln!(
                out,
                "maintenance on: this node is demoted by {MAINTENANCE_WEIGHT}, so its VIPs move \
                 to the other nodes; net.inet.carp.demotion is now {total}"
            )?;
        }
    }
    Ok(())
}

fn off(
    ledger: &Ledger,
    kernel: &mut dyn Kernel,
    policy: BootPolicy,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let removed = maintenance_off(ledger, kernel, policy).map_err(ledger_err)?;
    let total = demotion(kernel)?;
    match removed {
        None => writeln!(out, "maintenance is not on; nothing changed")?,
        Some(c) => {
            tracing::info!("maintenance off");
            writeln!(
                out,
                "maintenance off: took back carpctl's {}; net.inet.carp.demotion is now {total}",
                c.weight
            )?;
        }
    }
    Ok(())
}

fn step_err(e: StepError) -> CliError {
    match e {
        StepError::Ledger(e) => ledger_err(e),
        StepError::Kernel(source) => CliError::Kernel {
            context: "cannot read the vhids' states".into(),
            source,
        },
        StepError::Config(what) => CliError::Failed(what),
    }
}

fn demotion(kernel: &mut dyn Kernel) -> Result<i32, CliError> {
    kernel
        .sysctls()
        .map(|s| s.demotion)
        .map_err(CliError::kernel("cannot read net.inet.carp.demotion"))
}

#[derive(Serialize)]
struct StatusJson<'a> {
    /// net.inet.carp.demotion.
    demotion: i64,
    maintenance: bool,
    /// carpctl's shares in the kernel.
    shares: Vec<ShareJson<'a>>,
    /// The rest: ifdown, send errors, pfsync, manual.
    other: i64,
    /// Recorded before a reboot, not applied again yet.
    not_applied: Vec<ShareJson<'a>>,
    pending_recovery: bool,
}

#[derive(Serialize)]
struct ShareJson<'a> {
    cause: String,
    weight: u16,
    since: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

fn shares_json(m: &BTreeMap<Cause, Contribution>) -> Vec<ShareJson<'_>> {
    m.iter()
        .map(|(cause, c)| ShareJson {
            cause: cause.key(),
            weight: c.weight,
            since: c.since,
            reason: c.reason.as_deref(),
        })
        .collect()
}

fn status(
    ledger: &Ledger,
    kernel: &mut dyn Kernel,
    args: &MaintenanceStatusArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let split = ledger.split(kernel).map_err(ledger_err)?;
    if args.json {
        let json = StatusJson {
            demotion: split.total,
            maintenance: split.shares.contains_key(&Cause::Maintenance),
            shares: shares_json(&split.shares),
            other: split.other,
            not_applied: shares_json(&split.not_applied),
            pending_recovery: split.pending,
        };
        serde_json::to_writer_pretty(&mut *out, &json)?;
        writeln!(out)?;
        return Ok(());
    }
    out.write_all(render_status(&split).as_bytes())?;
    Ok(())
}

/// The human form of `maintenance status`.
pub(crate) fn render_status(split: &Split) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let on = split.shares.contains_key(&Cause::Maintenance);
    // Writing to a String cannot fail.
    let _ = writeln!(s, "maintenance: {}", if on { "on" } else { "off" });
    let _ = writeln!(s, "net.inet.carp.demotion: {}", split.total);
    let width = split
        .shares
        .keys()
        .map(|c| c.to_string().len())
        .chain([5])
        .max()
        .unwrap_or(5);
    for (cause, c) in &split.shares {
        let _ = writeln!(
            s,
            "  {:<width$}  {:>4}  since {}{}",
            cause.to_string(),
            c.weight,
            fmt_time(c.since),
            reason_suffix(c.reason.as_deref())
        );
    }
    let _ = writeln!(
        s,
        "  {:<width$}  {:>4}  (ifdown, send errors, pfsync, manual)",
        "other", split.other
    );
    if !split.not_applied.is_empty() {
        let list: Vec<String> = split
            .not_applied
            .iter()
            .map(|(cause, c)| format!("{cause} {}", c.weight))
            .collect();
        let _ = writeln!(
            s,
            "recorded before the last reboot and not applied yet: {} (run `carpctl apply`, \
             as rc.d does at boot)",
            list.join(", ")
        );
    }
    if split.pending {
        let _ = writeln!(
            s,
            "an interrupted change is pending; the next carpctl change recovers it (shown \
             here as it will be)"
        );
    }
    s
}

fn reason_suffix(reason: Option<&str>) -> String {
    reason.map_or_else(String::new, |r| format!(", reason: {r}"))
}

/// `2026-11-25 14:03:07 UTC`.
pub(crate) fn fmt_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's `civil_from_days`: the proleptic Gregorian date of a
/// day count from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(fmt_time(0), "1970-01-01 00:00:00 UTC");
        // 2000-02-29 12:34:56 UTC = 951827696 (a leap day).
        assert_eq!(fmt_time(951_827_696), "2000-02-29 12:34:56 UTC");
        // 2026-11-25 00:00:00 UTC: 56 years of 365 days from 1970, 14 leap
        // days (1972 ... 2024), and 328 days of 2026 before Nov 25
        // (31+28+31+30+31+30+31+31+30+31 = 304, plus 24): 20440 + 14 +
        // 328 = 20782 days.
        assert_eq!(fmt_time(20_782 * 86_400), "2026-11-25 00:00:00 UTC");
        assert_eq!(fmt_time(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn reasons_are_checked() {
        assert!(check_reason("kernel upgrade").is_ok());
        for bad in ["", "  ", "two\nlines", "tab\there"] {
            assert_eq!(check_reason(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
        let long = "x".repeat(201);
        assert!(
            check_reason(&long)
                .unwrap_err()
                .to_string()
                .contains("201 bytes")
        );
    }

    #[test]
    fn status_text() {
        let mut shares = BTreeMap::new();
        shares.insert(
            Cause::Maintenance,
            Contribution {
                weight: 240,
                reason: Some("upgrade".into()),
                since: 0,
            },
        );
        shares.insert(
            Cause::Check("smtp".into()),
            Contribution {
                weight: 5,
                reason: None,
                since: 60,
            },
        );
        let split = Split {
            total: 485,
            shares,
            other: 240,
            not_applied: BTreeMap::new(),
            pending: false,
        };
        assert_eq!(
            render_status(&split),
            "maintenance: on\n\
             net.inet.carp.demotion: 485\n\
             \x20 maintenance   240  since 1970-01-01 00:00:00 UTC, reason: upgrade\n\
             \x20 check smtp      5  since 1970-01-01 00:01:00 UTC\n\
             \x20 other         240  (ifdown, send errors, pfsync, manual)\n"
        );
    }
}
