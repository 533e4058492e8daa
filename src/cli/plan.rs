//! `carpctl plan [--json] [--dns-name NAME] [--show-secrets]`: the cluster
//! plan that `apply` configures, for people and for machines.
//!
//! It shows, from the cluster file alone (no kernel is opened):
//!
//! * each VIP's order with every node's advskew ([`crate::plan`]), and the
//!   demotion weights that move a VIP;
//! * whether the load is balanced, and the failure matrix: the owner of
//!   every VIP after each single and double node failure and while each
//!   node is in maintenance;
//! * per node (all, or the one named by `--node`), the equivalent FreeBSD
//!   base configuration for running without carpctl: `loader.conf`,
//!   `sysctl.conf` and `rc.conf` lines;
//! * with `--dns-name`, the DNS round-robin records of the service.
//!
//! The base configuration lines are rendered by [`crate::rcconf::render`].
//! Passwords are secrets: by default the lines carry `<secret:VIP>`
//! placeholders, and `--json` never carries a password. `--show-secrets`
//! prints them, only into a file or a pipe, and only passwords that
//! survive the trip through rc.d/netif unchanged (see
//! [`crate::rcconf::render::rc_conf_problem`]).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;
use ipnet::IpNet;
use serde::Serialize;

use super::{CliError, GlobalOpts, cluster};
use crate::config::{Config, Peers, Vip};
use crate::kernel::emulated::Flavor;
use crate::model::Protocol;
use crate::plan::unicast::UnicastSummary;
use crate::plan::{self, Balance, FailureMatrix, Outcome, ScenarioKind, Streamed, VipPlan};
use crate::rcconf::render::{NodeBase, Secrets, base_config};

/// TTL of the DNS records: short enough that a changed VIP set reaches
/// clients within minutes; failover itself needs no DNS change.
pub(crate) const DNS_TTL: u32 = 300;

/// Arguments of `carpctl plan`.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// Print the plan as JSON: {"vips": [...], "failures": [...], ...}
    /// (no password ever)
    #[arg(long)]
    pub json: bool,
    /// Also print the DNS round-robin records of this service name, one A
    /// or AAAA record per VIP address (zone-file lines)
    #[arg(long, value_name = "NAME")]
    pub(crate) dns_name: Option<String>,
    /// Put the real passwords in the rc.conf lines instead of
    /// <secret:VIP> placeholders; only when standard output is not a
    /// terminal
    #[arg(long, conflicts_with = "json")]
    pub(crate) show_secrets: bool,
    /// Also draw the balance, the failure matrix and the order of each VIP
    /// as one self-contained HTML page in FILE (no password ever)
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The FreeBSD release the plan is for: VRRP needs 15 or main, unicast
    /// peers 14 or later; a VIP the target cannot configure is an error
    #[arg(long = "freebsd", value_name = "13|14|15|main", default_value = "main",
          value_parser = Flavor::from_str)]
    pub(crate) freebsd: Flavor,
}

/// `carpctl plan`.
pub(crate) fn run(
    global: &GlobalOpts,
    args: &PlanArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    // Checked before anything is read, so that a refused command reads no
    // key file.
    check_secrets_allowed(args.show_secrets, std::io::stdout().is_terminal())?;
    let dns_name = args.dns_name.as_deref().map(dns_name).transpose()?;
    let mut cfg = cluster::load(&global.config_path())?;
    check_target(&cfg, args.freebsd)?;
    let only = match global.node() {
        Some(_) => Some(cluster::node(global, &cfg)?),
        None => None,
    };
    let shown = |v: &crate::config::Vip| only.as_deref().is_none_or(|node| v.takes_part(node));
    if args.show_secrets {
        // The key files of the nodes shown, which --show-secrets needs.
        cluster::read_keys(&mut cfg, shown)?;
    } else {
        // The plan needs no key; those that can be read improve its notes
        // (a password rc.conf cannot carry), the others are passed over.
        cfg.try_read_keys(shown);
    }
    let plan = cfg.plan().map_err(|e| CliError::Usage(e.to_string()))?;
    // Computed entry by entry, twice (balance, then output): never held.
    let failures = FailureMatrix::new(&plan, cfg.cluster.preempt);
    let balance = plan::balance(&failures);
    if let Some(path) = &args.html {
        let file = cfg.path.display().to_string();
        super::pictures::plan_html(path, &file, cfg.cluster.preempt, &failures, &balance)?;
    }
    let secrets = if args.show_secrets {
        Secrets::Show
    } else {
        Secrets::Placeholder
    };
    let mut bases = Vec::new();
    let mut problems = Vec::new();
    for node in &cfg.nodes {
        if only.as_deref().is_some_and(|o| o != node.name) {
            continue;
        }
        match base_config(&cfg, &plan, &node.name, secrets) {
            Ok(b) => bases.push(b),
            Err(p) => problems.extend(p),
        }
    }
    if !problems.is_empty() {
        return Err(CliError::Usage(format!(
            "cannot write the rc.conf lines: {}",
            problems.join("; ")
        )));
    }
    let dns = dns_name.map(|name| dns_records(&name, &cfg));
    let report = Report {
        file: cfg.path.display().to_string(),
        freebsd: args.freebsd.label(),
        nodes: &plan.nodes,
        advskew_step: plan.advskew_step,
        preempt: cfg.cluster.preempt,
        demotion_one_rank: plan::demotion_one_rank(plan.advskew_step),
        maintenance_demotion: crate::model::MAINTENANCE_WEIGHT,
        balanced: balance.balanced,
        balance: &balance,
        vips: plan
            .vips
            .iter()
            .zip(&cfg.vips)
            .map(|(p, v)| VipReport::new(p, v, &cfg))
            .collect(),
        unicast: plan::unicast::summary(&plan),
        failures: Streamed(&failures),
        base: bases,
        dns,
    };
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        write_human(&report, &failures, out)?;
    }
    Ok(())
}

/// Refuse the VIPs `target` cannot configure: VRRPv3 before 15, unicast
/// peers on 13.x (SIOCSVH has none; apply refuses them on such a host the
/// same way, `apply::release`).
pub(crate) fn check_target(cfg: &Config, target: Flavor) -> Result<(), CliError> {
    let mut problems = Vec::new();
    for v in &cfg.vips {
        if v.protocol == Protocol::Vrrpv3 && !target.has_vrrp() {
            problems.push(format!(
                "vip \"{}\": VRRPv3 needs FreeBSD 15.0 or later, and the target is FreeBSD {}",
                v.name,
                target.label()
            ));
        }
        if v.unicast && !target.has_carp_netlink() {
            problems.push(format!(
                "vip \"{}\": unicast peers need FreeBSD 14.0 or later (carp(4)'s netlink \
                 interface), and the target is FreeBSD {}",
                v.name,
                target.label()
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(CliError::Usage(format!(
        "{} (--freebsd {}; the default is main)",
        problems.join("; "),
        target.label()
    )))
}

/// `--show-secrets` writes passwords: never to a terminal (shoulder
/// surfing, scrollback), only to a file or a pipe the user chose.
pub(crate) fn check_secrets_allowed(show: bool, stdout_is_terminal: bool) -> Result<(), CliError> {
    if show && stdout_is_terminal {
        return Err(CliError::Usage(
            "--show-secrets prints the VIP passwords, and standard output is a terminal: \
             redirect it to a file only root can read, e.g. \
             (umask 077; carpctl plan --show-secrets > /root/carp-rc.conf)"
                .into(),
        ));
    }
    Ok(())
}

/// The whole `--json` document. The contract is `vips` (`name`, `vhid`,
/// `order`, `advskew`) and `failures`; the rest is documented in
/// carpctl(8) and only ever added to.
#[derive(Debug, Serialize)]
struct Report<'a> {
    file: String,
    /// The `--freebsd` target the plan was checked against.
    freebsd: &'static str,
    nodes: &'a [String],
    advskew_step: u8,
    preempt: bool,
    demotion_one_rank: u16,
    maintenance_demotion: u16,
    balanced: bool,
    balance: &'a Balance,
    vips: Vec<VipReport<'a>>,
    /// Streamed: written entry by entry as it is computed.
    failures: Streamed<'a, 'a>,
    base: Vec<NodeBase>,
    dns: Option<Vec<String>>,
    /// Only with unicast VIPs.
    #[serde(skip_serializing_if = "Option::is_none")]
    unicast: Option<UnicastSummary>,
}

#[derive(Debug, Serialize)]
struct VipReport<'a> {
    #[serde(flatten)]
    plan: &'a VipPlan,
    /// As written in the file (logical or real).
    interface: &'a str,
    addresses: &'a [IpNet],
    advbase: u8,
    /// Node -> the demotion that puts every other node of the order before
    /// it (0 for the last rank).
    demotion_off: BTreeMap<String, u16>,
    /// Unicast only: member -> the peer it names.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    peers: BTreeMap<String, Peers>,
}

impl<'a> VipReport<'a> {
    fn new(plan: &'a VipPlan, vip: &'a Vip, cfg: &Config) -> Self {
        let step = cfg.cluster.advskew_step;
        VipReport {
            peers: plan
                .order
                .iter()
                .filter_map(|n| Some((n.clone(), crate::config::peers(cfg, vip, plan, n)?)))
                .collect(),
            plan,
            interface: &vip.interface,
            addresses: &vip.addresses,
            advbase: vip.advbase.get(),
            demotion_off: plan
                .order
                .iter()
                .enumerate()
                .filter_map(|(rank, n)| plan.demotion_at(rank, step).map(|w| (n.clone(), w)))
                .collect(),
        }
    }
}

/// A validated `--dns-name`, with its final dot.
pub(crate) fn dns_name(name: &str) -> Result<String, CliError> {
    let bad = |why: &str| CliError::Usage(format!("--dns-name {name:?}: {why}"));
    let bare = name.strip_suffix('.').unwrap_or(name);
    if bare.is_empty() {
        return Err(bad("the name is empty"));
    }
    // RFC 1035 §2.3.4: 255 octets on the wire, i.e. 253 characters written.
    if bare.len() > 253 {
        return Err(bad("a name has at most 253 characters"));
    }
    for label in bare.split('.') {
        if label.is_empty() {
            return Err(bad(
                "a label is empty (two dots in a row, or a leading dot)",
            ));
        }
        if label.len() > 63 {
            return Err(bad("a label has at most 63 characters"));
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(bad(
                "a label holds only letters, digits, '-' and '_' (RFC 1123 host names)",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad("a label cannot start or end with '-'"));
        }
    }
    Ok(format!("{bare}."))
}

/// One A or AAAA record per VIP address, in file order.
pub(crate) fn dns_records(name: &str, cfg: &Config) -> Vec<String> {
    cfg.vips
        .iter()
        .flat_map(|v| &v.addresses)
        .map(|a| {
            let kind = match a {
                IpNet::V4(_) => "A",
                IpNet::V6(_) => "AAAA",
            };
            format!("{name} {DNS_TTL} IN {kind} {}", a.addr())
        })
        .collect()
}

// ----- human output -----------------------------------------------------------

fn write_human(
    r: &Report<'_>,
    failures: &FailureMatrix<'_>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    writeln!(
        out,
        "cluster {}: {} node{}, {} VIP{}, advskew = rank x {}, preempt {}",
        r.file,
        r.nodes.len(),
        plural(r.nodes.len()),
        r.vips.len(),
        plural(r.vips.len()),
        r.advskew_step,
        if r.preempt { "on" } else { "off" }
    )?;
    writeln!(out, "target: FreeBSD {} (--freebsd)", r.freebsd)?;
    writeln!(out)?;
    write_vips(r, out)?;
    writeln!(
        out,
        "A demotion of {} (advskew_step + 1) moves a VIP one rank; maintenance demotes by {} \
         and moves every VIP away from the node.",
        r.demotion_one_rank, r.maintenance_demotion
    )?;
    if r.vips
        .iter()
        .any(|v| v.plan.source == plan::OrderSource::Pinned && v.plan.vrrp.is_none())
    {
        // Pinned skews are not rank × step (VipPlan::demotion_at).
        writeln!(
            out,
            "A VIP with pinned advskews moves by its own values: each node's demotion_off \
             (carpctl plan --json) is the last member's advskew minus its own, plus 1."
        )?;
    }
    writeln!(out)?;
    write_balance(r, out)?;
    writeln!(out)?;
    write_matrix(r.preempt, failures, out)?;
    for b in &r.base {
        writeln!(out)?;
        write_base(b, out)?;
    }
    if let Some(dns) = &r.dns {
        writeln!(out)?;
        writeln!(out, "# DNS round-robin (zone file)")?;
        for l in dns {
            writeln!(out, "{l}")?;
        }
    }
    Ok(())
}

fn write_vips(r: &Report<'_>, out: &mut dyn Write) -> Result<(), CliError> {
    let name_w = r
        .vips
        .iter()
        .map(|v| v.plan.name.len())
        .chain([3])
        .max()
        .unwrap_or(3);
    let if_w = r
        .vips
        .iter()
        .map(|v| v.interface.len())
        .chain([9])
        .max()
        .unwrap_or(9);
    writeln!(
        out,
        "{:name_w$}  {:>4}  {:if_w$}  ORDER (ADVSKEW)",
        "VIP", "VHID", "INTERFACE"
    )?;
    for v in &r.vips {
        let vrrp = v.plan.vrrp.as_ref();
        let order: Vec<String> = v
            .plan
            .order
            .iter()
            .map(|n| match vrrp {
                // VRRP elects by priority, not advskew (plan::vrrp).
                Some(x) => format!("{n}(prio {})", x.priority.get(n).copied().unwrap_or(0)),
                None => format!("{n}({})", v.plan.advskew_of(n).map_or(0, |s| s.get())),
            })
            .collect();
        let mut mark = match (v.plan.source, vrrp) {
            (plan::OrderSource::Prefer, _) => "  [prefer]",
            (plan::OrderSource::Balanced, _) => "",
            (plan::OrderSource::Pinned, None) => "  [pinned advskew]",
            (plan::OrderSource::Pinned, Some(_)) => "  [pinned priority]",
        }
        .to_string();
        if let Some(x) = vrrp {
            mark.push_str(&format!("  [vrrp, interval {} cs]", x.interval));
        }
        if v.plan.unicast {
            let peers: Vec<String> = v
                .peers
                .iter()
                .map(|(n, p)| {
                    let addrs: Vec<String> = p
                        .peer
                        .map(|a| a.to_string())
                        .into_iter()
                        .chain(p.peer6.as_ref().map(|a| a.to_string()))
                        .collect();
                    format!("{n}->{}", addrs.join(","))
                })
                .collect();
            mark.push_str(&format!("  [unicast: {}]", peers.join(" ")));
        }
        writeln!(
            out,
            "{:name_w$}  {:>4}  {:if_w$}  {}{mark}",
            v.plan.name,
            v.plan.vhid.get(),
            v.interface,
            order.join(" ")
        )?;
    }
    Ok(())
}

fn write_balance(r: &Report<'_>, out: &mut dyn Write) -> Result<(), CliError> {
    let b = r.balance;
    let (n, m) = (r.nodes.len(), r.vips.len());
    writeln!(out, "balanced: {}", if b.balanced { "yes" } else { "no" })?;
    let prim: Vec<String> = r
        .nodes
        .iter()
        .map(|node| format!("{node} {}", b.primaries.get(node).copied().unwrap_or(0)))
        .collect();
    writeln!(
        out,
        "  first for: {} (each {}..{})",
        prim.join(", "),
        b.bounds.primaries_min,
        b.bounds.primaries_max
    )?;
    if let (Some(w), Some(bound)) = (b.worst_single_failure, b.bounds.single_failure) {
        writeln!(
            out,
            "  one node down: at most {w} VIP{} on a survivor (bound ceil({m}/{}) = {bound})",
            plural(w),
            n.saturating_sub(1)
        )?;
    }
    if let (Some(w), Some(bound)) = (b.worst_double_failure, b.bounds.double_failure) {
        writeln!(
            out,
            "  two nodes down: at most {w} VIP{} on a survivor (bound ceil({m}/{}) + 1 = {bound})",
            plural(w),
            n.saturating_sub(2)
        )?;
    }
    for note in &b.notes {
        writeln!(out, "  {note}")?;
    }
    if let Some(u) = &r.unicast {
        write_unicast(u, out)?;
    }
    Ok(())
}

/// The unicast VIPs' own bound and what each double failure loses.
fn write_unicast(u: &UnicastSummary, out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(out, "unicast: {} VIP{} in pairs", u.vips, plural(u.vips))?;
    if let (Some(w), Some(bound)) = (u.single_failure, u.single_failure_bound) {
        // Only balanced pairs are promised the bound (plan::unicast):
        // explicit `prefer` pairs may break it, and that is said.
        let over = match (w > bound, u.pinned.is_empty()) {
            (false, _) => String::new(),
            (true, true) => ", above it: see prefer".to_string(),
            (true, false) => format!(
                ", above it: see prefer and the pinned values of {}",
                u.pinned.join(", ")
            ),
        };
        writeln!(
            out,
            "  one node down: at most {w} unicast VIP{} on a survivor (bound {bound}{over}); \
             none lost",
            plural(w)
        )?;
    }
    for l in &u.lost_after_double_failure {
        writeln!(
            out,
            "  {} and {} down: lost {}",
            l.nodes[0],
            l.nodes[1],
            l.vips.join(", ")
        )?;
    }
    Ok(())
}

/// One line per scenario: the most VIPs on one node against the bound,
/// then only the VIPs that are not on their first node (the others are as
/// in the table above), as `VIP->node` (`->none` when no node holds it).
/// The column widths take one pass over the matrix, the lines another.
fn write_matrix(
    preempt: bool,
    failures: &FailureMatrix<'_>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if failures.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "Failure matrix: where VIPs go (the others stay on their first node)"
    )?;
    let nodes = &failures.plan().nodes;
    let label = |kind: ScenarioKind, down: &mut dyn Iterator<Item = usize>| {
        let names: Vec<&str> = down
            .filter_map(|i| nodes.get(i).map(String::as_str))
            .collect();
        match kind {
            ScenarioKind::Failure => format!("down {}", names.join(",")),
            ScenarioKind::Maintenance => format!("maint {}", names.join(",")),
        }
    };
    let load = |s: &Outcome<'_, '_>| match s.bound {
        Some(b) => format!("{}/{b}", s.max_load),
        None => s.max_load.to_string(),
    };
    let label_w = failures
        .cases()
        .map(|c| label(c.kind, &mut c.nodes()).len())
        .max()
        .unwrap_or(0);
    let load_w = failures
        .iter()
        .map(|s| load(&s).len())
        .chain(["MAX/BOUND".len()])
        .max()
        .unwrap_or(0);
    if !preempt {
        writeln!(
            out,
            "  (preempt off: a demoted master keeps its VIPs, so maintenance moves none)"
        )?;
    }
    writeln!(out, "  {:label_w$}  {:load_w$}  MOVED", "", "MAX/BOUND")?;
    for s in failures.iter() {
        let moved: Vec<String> = s
            .moved()
            .map(|(vip, now)| format!("{vip}->{}", now.unwrap_or("none")))
            .collect();
        let line = format!(
            "  {:label_w$}  {:load_w$}  {}",
            label(s.kind(), &mut s.case.nodes()),
            load(&s),
            moved.join(" ")
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn write_base(b: &NodeBase, out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(
        out,
        "# ---- {}: FreeBSD base configuration, without carpctl ----",
        b.node
    )?;
    for n in &b.notes {
        writeln!(out, "# {n}")?;
    }
    writeln!(out, "# /boot/loader.conf")?;
    for l in &b.loader_conf {
        writeln!(out, "{l}")?;
    }
    writeln!(out, "# /etc/sysctl.conf")?;
    for l in &b.sysctl_conf {
        writeln!(out, "{l}")?;
    }
    writeln!(out, "# /etc/rc.conf")?;
    for l in &b.rc_conf {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_go_to_a_terminal() {
        let e = check_secrets_allowed(true, true).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("standard output is a terminal"),
            "{e}"
        );
        assert!(check_secrets_allowed(true, false).is_ok());
        assert!(check_secrets_allowed(false, true).is_ok());
    }

    #[test]
    fn dns_names() {
        assert_eq!(dns_name("mail.example.org").unwrap(), "mail.example.org.");
        assert_eq!(dns_name("mail.example.org.").unwrap(), "mail.example.org.");
        assert_eq!(dns_name("_srv.x-y.example").unwrap(), "_srv.x-y.example.");
        for (bad, why) in [
            ("", "empty"),
            (".", "empty"),
            ("a..b", "label is empty"),
            (".a", "label is empty"),
            ("a b.org", "only letters"),
            ("-a.org", "start or end"),
            ("a-.org", "start or end"),
        ] {
            let e = dns_name(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains(why), "{bad:?}: {e}");
            assert!(e.to_string().starts_with("--dns-name"), "{e}");
        }
        assert!(
            dns_name(&"a".repeat(64))
                .unwrap_err()
                .to_string()
                .contains("63")
        );
        let long = vec!["a".repeat(60); 5].join(".");
        assert!(dns_name(&long).unwrap_err().to_string().contains("253"));
    }
}
