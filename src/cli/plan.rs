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
//! The rc.conf lines are what FreeBSD 10 and later accept (Handbook,
//! "CARP on FreeBSD 10 and later"; docs/freebsd-carp.md §5.4): `ifconfig_<if>_alias<N>`
//! with a leading address family, the carp keywords after `vhid` (ifconfig's
//! `carp.c` refuses `advskew` or `pass` before `vhid`: "advskew requires
//! vhid"), then `alias` and the address. Aliases are numbered from 0 without
//! gaps on each interface: FreeBSD 10's network.subr counted up from 0 and
//! stopped at the first missing number.
//!
//! Passwords are secrets: by default the lines carry `<secret:VIP>`
//! placeholders, and `--json` never carries a password. `--show-secrets`
//! prints them, only into a file or a pipe, and only passwords that
//! survive the trip through rc.d/netif unchanged (see [`rc_conf_problem`]).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use ipnet::IpNet;
use serde::Serialize;

use super::{CliError, GlobalOpts, cluster};
use crate::config::{Config, KeySource, Vip};
use crate::model::{AdvBase, Key};
use crate::plan::{self, Balance, FailureMatrix, Outcome, Plan, ScenarioKind, Streamed, VipPlan};

/// TTL of the DNS records: short enough that a changed VIP set reaches
/// clients within minutes; failover itself needs no DNS change.
pub const DNS_TTL: u32 = 300;

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
    pub dns_name: Option<String>,
    /// Put the real passwords in the rc.conf lines instead of
    /// <secret:VIP> placeholders; only when standard output is not a
    /// terminal
    #[arg(long, conflicts_with = "json")]
    pub show_secrets: bool,
    /// Also draw the balance, the failure matrix and the order of each VIP
    /// as one self-contained HTML page in FILE (no password ever)
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `carpctl plan`.
pub fn run(global: &GlobalOpts, args: &PlanArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // Checked before anything is read, so that a refused command reads no
    // key file.
    check_secrets_allowed(args.show_secrets, std::io::stdout().is_terminal())?;
    let dns_name = args.dns_name.as_deref().map(dns_name).transpose()?;
    let mut cfg = cluster::load(&global.config_path())?;
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
        nodes: &plan.nodes,
        advskew_step: plan.advskew_step,
        preempt: cfg.cluster.preempt,
        demotion_one_rank: plan::demotion_one_rank(plan.advskew_step),
        maintenance_demotion: plan::MAINTENANCE_DEMOTION,
        balanced: balance.balanced,
        balance: &balance,
        vips: plan
            .vips
            .iter()
            .zip(&cfg.vips)
            .map(|(p, v)| VipReport::new(p, v, plan.advskew_step))
            .collect(),
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

/// `--show-secrets` writes passwords: never to a terminal (shoulder
/// surfing, scrollback), only to a file or a pipe the user chose.
pub fn check_secrets_allowed(show: bool, stdout_is_terminal: bool) -> Result<(), CliError> {
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
}

impl<'a> VipReport<'a> {
    fn new(plan: &'a VipPlan, vip: &'a Vip, step: u8) -> Self {
        VipReport {
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

/// One node's configuration for running without carpctl.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeBase {
    pub node: String,
    /// `/boot/loader.conf` lines.
    pub loader_conf: Vec<String>,
    /// `/etc/sysctl.conf` lines.
    pub sysctl_conf: Vec<String>,
    /// `/etc/rc.conf` lines, with `<secret:VIP>` placeholders unless
    /// `--show-secrets`.
    pub rc_conf: Vec<String>,
    /// What the reader must know, as comment lines without the `# `.
    pub notes: Vec<String>,
}

/// Whether the rc.conf lines carry the real passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrets {
    Placeholder,
    Show,
}

/// The FreeBSD base configuration of `node`. Errors (each naming the VIP,
/// never the password): with [`Secrets::Show`], a password that rc.d/netif
/// would not pass to ifconfig unchanged. An interface whose name cannot be
/// part of an rc.conf variable loses its lines, and a note says so.
pub fn base_config(
    cfg: &Config,
    plan: &Plan,
    node: &str,
    secrets: Secrets,
) -> Result<NodeBase, Vec<String>> {
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let Some(me) = cfg.node(node) else {
        return Err(vec![format!("node \"{node}\" is not in the cluster file")]);
    };
    // Real interface -> its alias lines, interfaces in order of first use.
    let mut by_if: Vec<(String, Vec<String>)> = Vec::new();
    let mut v6_ifs: Vec<String> = Vec::new();
    for (v, p) in cfg.vips.iter().zip(&plan.vips) {
        let Some(skew) = p.advskew_of(node) else {
            continue;
        };
        let real = me.real_interface(&v.interface).to_string();
        let pass = match (&v.key, secrets) {
            (None, _) => {
                notes.push(format!(
                    "{}: no password, so any host on the segment can take it over",
                    v.name
                ));
                None
            }
            (Some(_), Secrets::Placeholder) => Some(placeholder(v)),
            (Some(src), Secrets::Show) => match src.key().map(rc_conf_password) {
                Some(Ok(pw)) => Some(pw),
                Some(Err(why)) => {
                    errors.push(format!("vip \"{}\": its password {why}", v.name));
                    None
                }
                // run() reads the key files first; should one be missed,
                // say so rather than print no password.
                None => {
                    errors.push(format!(
                        "vip \"{}\": its password_file was not read",
                        v.name
                    ));
                    None
                }
            },
        };
        // Only a password at hand: key files are read for --show-secrets.
        if secrets == Secrets::Placeholder
            && let Some(k) = v.key.as_ref().and_then(KeySource::key)
            && let Err(why) = rc_conf_password(k)
        {
            notes.push(format!(
                "{}: its password {why}; a node configured from these lines would not \
                 agree with one configured by carpctl",
                v.name
            ));
        }
        let mut carp = format!("vhid {}", v.vhid);
        if v.advbase != AdvBase::DEFAULT {
            carp.push_str(&format!(" advbase {}", v.advbase.get()));
        }
        carp.push_str(&format!(" advskew {}", skew.get()));
        if let Some(pw) = &pass {
            carp.push_str(&format!(" pass {pw}"));
        }
        let at = match by_if.iter().position(|(i, _)| *i == real) {
            Some(at) => at,
            None => {
                by_if.push((real.clone(), Vec::new()));
                by_if.len() - 1
            }
        };
        let lines = &mut by_if[at].1;
        for a in &v.addresses {
            lines.push(match a {
                IpNet::V4(a) => format!("inet {carp} alias {a}"),
                IpNet::V6(a) => {
                    if !v6_ifs.contains(&real) {
                        v6_ifs.push(real.clone());
                    }
                    format!(
                        "inet6 {carp} alias {} prefixlen {}",
                        a.addr(),
                        a.prefix_len()
                    )
                }
            });
        }
    }
    let mut rc_conf = Vec::new();
    for (real, lines) in &by_if {
        let Some(var) = rc_ifname(real) else {
            // The rest of the plan stands; only these lines cannot exist.
            notes.push(format!(
                "interface \"{real}\" cannot be part of an rc.conf variable name (rc.d/netif \
                 maps '.', '-', '+' and '/' to '_', and a shell variable holds only letters, \
                 digits and '_'), so {} alias line{} left out; rename the interface \
                 (ifconfig_<if>_name) or configure it another way",
                lines.len(),
                plural(lines.len())
            ));
            continue;
        };
        for (i, l) in lines.iter().enumerate() {
            rc_conf.push(format!("ifconfig_{var}_alias{i}=\"{l}\""));
        }
    }
    for real in &v6_ifs {
        if let Some(var) = rc_ifname(real) {
            notes.push(format!(
                "rc.d/netif adds inet6 aliases only on an interface with an \
                 ifconfig_{var}_ipv6 line (network.subr ipv6if), e.g. \
                 ifconfig_{var}_ipv6=\"inet6 -ifdisabled\""
            ));
        }
    }
    if by_if.is_empty() {
        notes.push(format!("{node} takes part in no VIP"));
    } else {
        notes.push(
            "the aliases are numbered from 0 on each interface: renumber them after the \
             interface's own aliases if it has some"
                .to_string(),
        );
    }
    if secrets == Secrets::Placeholder && cfg.vips.iter().any(|v| v.key.is_some()) {
        notes.push(
            "replace each <secret:VIP> with that VIP's password (carpctl plan --show-secrets \
             writes them in), and keep the file readable by root only"
                .to_string(),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NodeBase {
        node: node.to_string(),
        loader_conf: vec!["carp_load=\"YES\"".to_string()],
        sysctl_conf: vec![format!(
            "net.inet.carp.preempt={}",
            u8::from(cfg.cluster.preempt)
        )],
        rc_conf,
        notes,
    })
}

/// `<secret:NAME>`, or `<secret:vhidN>` when the VIP's name has characters
/// that do not belong in a double-quoted rc.conf value.
fn placeholder(v: &Vip) -> String {
    let plain = !v.name.is_empty()
        && v.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:@+".contains(c));
    if plain {
        format!("<secret:{}>", v.name)
    } else {
        format!("<secret:vhid{}>", v.vhid)
    }
}

/// The characters a password may have to go through rc.d/netif unchanged.
/// network.subr splits `ifconfig_<if>_alias<N>` on blanks and passes the
/// words through `eval` (`ifalias_af_common`), so quotes, `$`, backquotes,
/// backslashes, globs, `;`, `&`, `|`, `<`, `>`, parentheses, `#` and `~` would
/// be interpreted; these are the ones that are not.
const RC_SAFE_PUNCT: &str = "._+,:@%=/-";

/// Why `key` cannot be written in an rc.conf alias line, or the password
/// itself. Never includes the password in the reason.
pub fn rc_conf_password(key: &Key) -> Result<String, String> {
    rc_conf_problem(key.as_bytes())?;
    // Only ASCII passes rc_conf_problem.
    String::from_utf8(key.as_bytes().to_vec()).map_err(|_| "is not ASCII".to_string())
}

/// Why the password `pw` would not reach ifconfig(8) unchanged through
/// rc.conf and rc.d/netif.
pub fn rc_conf_problem(pw: &[u8]) -> Result<(), String> {
    if pw.len() > Key::IFCONFIG_MAX {
        return Err(format!(
            "is {} bytes, and ifconfig(8) keeps only {} (strlcpy into the 20-byte key)",
            pw.len(),
            Key::IFCONFIG_MAX
        ));
    }
    if !pw
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || RC_SAFE_PUNCT.as_bytes().contains(&b))
    {
        return Err(format!(
            "has characters that rc.d/netif's shell would interpret or split on \
             (only letters, digits and {RC_SAFE_PUNCT} pass through)"
        ));
    }
    // ifalias_af_common_handler takes `inet ...[0-9a-fA-F]-...` for an
    // address range to expand.
    if pw
        .windows(2)
        .any(|w| matches!(w, [h, b'-'] if h.is_ascii_hexdigit()))
    {
        return Err(
            "has a hex digit followed by '-', which rc.d/netif takes for an address \
                    range to expand"
                .to_string(),
        );
    }
    // ifalias_af_common starts a new alias at these words.
    if matches!(pw, b"inet" | b"inet6" | b"link" | b"ether") {
        return Err("is a word that rc.d/netif takes for the start of another address".into());
    }
    Ok(())
}

/// The interface part of an rc.conf variable: network.subr's `get_if_var`
/// and `ifalias_af_common` map `.`, `-`, `/` and `+` to `_` (`vlan0.100` ->
/// `ifconfig_vlan0_100_alias0`). `None` when other characters remain that
/// a shell variable name cannot hold.
pub fn rc_ifname(ifname: &str) -> Option<String> {
    let var: String = ifname
        .chars()
        .map(|c| if ".-/+".contains(c) { '_' } else { c })
        .collect();
    (!var.is_empty() && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(var)
}

/// A validated `--dns-name`, with its final dot.
pub fn dns_name(name: &str) -> Result<String, CliError> {
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
pub fn dns_records(name: &str, cfg: &Config) -> Vec<String> {
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
    writeln!(out)?;
    write_vips(r, out)?;
    writeln!(
        out,
        "A demotion of {} (advskew_step + 1) moves a VIP one rank; maintenance demotes by {} \
         and moves every VIP away from the node.",
        r.demotion_one_rank, r.maintenance_demotion
    )?;
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
        let order: Vec<String> = v
            .plan
            .order
            .iter()
            .map(|n| {
                let s = v.plan.advskew_of(n).map_or(0, |s| s.get());
                format!("{n}({s})")
            })
            .collect();
        let mark = match v.plan.source {
            plan::OrderSource::Prefer => "  [prefer]",
            plan::OrderSource::Balanced => "",
        };
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
    fn rc_conf_passwords() {
        // What `openssl rand -hex 9` gives, and other plain passwords.
        for ok in [
            &b"3f9a0c17e2b4d86a51"[..],
            b"Tr0ub4dor",
            b"a.b_c+d,e:f@g%h=i/j",
            b"x-y",
        ] {
            assert_eq!(rc_conf_problem(ok), Ok(()), "{ok:?}");
        }
        let why = |pw: &[u8]| rc_conf_problem(pw).unwrap_err();
        assert!(why(b"01234567890123456789").contains("is 20 bytes"));
        for shell in [
            &b"a b"[..],
            b"a\"b",
            b"$x",
            b"a`b",
            b"a\\b",
            b"*",
            b"a;b",
            b"a#b",
            b"~x",
            b"a'b",
            b"a<b",
            b"\xff",
        ] {
            assert!(why(shell).contains("would interpret"), "{shell:?}");
        }
        // network.subr would expand "mail1-secret" as the range 1-s...
        assert!(why(b"mail1-secret").contains("address range"));
        assert!(why(b"abc-1").contains("address range"));
        assert!(why(b"inet6").contains("another address"));
        assert_eq!(rc_conf_problem(b"inet4"), Ok(()));
        // No reason ever quotes the password.
        for pw in [&b"sesame sesame"[..], b"sesame-x", b"012345678901234567890"] {
            let w = why(pw);
            assert!(!w.contains("sesame") && !w.contains("0123"), "{w}");
        }
        let k = Key::new(b"3f9a0c17").unwrap();
        assert_eq!(rc_conf_password(&k).as_deref(), Ok("3f9a0c17"));
    }

    fn cfg(text: &str) -> Config {
        crate::config::parse(text, std::path::Path::new("t.toml"), Some(0o600))
            .expect("a valid cluster file")
    }

    #[test]
    fn base_config_edge_cases() {
        let c = cfg(r#"
[[node]]
name = "a"
[[node]]
name = "b"
interfaces = { lan = "em0:x" }
[[vip]]
name = "db"
vhid = 9
interface = "lan"
addresses = ["10.0.0.9/24"]
password = "pw9-x"
advbase = 2
[[vip]]
name = "open"
vhid = 10
interface = "lan"
addresses = ["10.0.0.10/24", "fd00::10/64"]
"#);
        let plan = c.plan().unwrap();
        // db is mastered by a, open by b (round-robin over the two).
        let a = base_config(&c, &plan, "a", Secrets::Placeholder).unwrap();
        assert_eq!(
            a.rc_conf,
            [
                "ifconfig_lan_alias0=\"inet vhid 9 advbase 2 advskew 0 pass <secret:db> alias 10.0.0.9/24\"",
                "ifconfig_lan_alias1=\"inet vhid 10 advskew 4 alias 10.0.0.10/24\"",
                "ifconfig_lan_alias2=\"inet6 vhid 10 advskew 4 alias fd00::10 prefixlen 64\"",
            ]
        );
        let has = |b: &NodeBase, s: &str| b.notes.iter().any(|n| n.contains(s));
        assert!(has(&a, "open: no password"), "{:?}", a.notes);
        assert!(
            has(&a, "db: its password has a hex digit followed by '-'"),
            "{:?}",
            a.notes
        );
        assert!(has(&a, "ifconfig_lan_ipv6"), "{:?}", a.notes);
        assert_eq!(a.sysctl_conf, ["net.inet.carp.preempt=1"]);
        // b's interface cannot be named in rc.conf: its lines go, with a note.
        let b = base_config(&c, &plan, "b", Secrets::Placeholder).unwrap();
        assert!(b.rc_conf.is_empty());
        assert!(has(&b, "interface \"em0:x\""), "{:?}", b.notes);
        assert!(has(&b, "so 3 alias lines left out"), "{:?}", b.notes);
        // Showing db's password is refused by name, never by value.
        let e = base_config(&c, &plan, "a", Secrets::Show).unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("vip \"db\": its password has a hex digit"),
            "{e:?}"
        );
        assert!(!e.concat().contains("pw9-x"));
        assert!(base_config(&c, &plan, "zz", Secrets::Placeholder).is_err());
    }

    #[test]
    fn rc_interface_names() {
        assert_eq!(rc_ifname("em0").as_deref(), Some("em0"));
        assert_eq!(rc_ifname("vlan0.100").as_deref(), Some("vlan0_100"));
        assert_eq!(rc_ifname("lagg-0+x").as_deref(), Some("lagg_0_x"));
        assert_eq!(rc_ifname("em:0"), None);
        assert_eq!(rc_ifname("ém0"), None);
        assert_eq!(rc_ifname(""), None);
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
