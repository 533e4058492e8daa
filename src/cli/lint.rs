//! `carpctl lint [--json] [--strict] [--cluster] [[NODE=]FILE|DIR...]`:
//! check cluster files and the FreeBSD files that configure carp(4) by
//! hand (rc.conf, loader.conf, sysctl.conf, devd.conf); see
//! [`crate::lint`]. Each file is its own node unless `NODE=FILE`, a
//! directory argument or the files' names group it
//! ([`crate::lint::cluster`]).
//!
//! The findings are the command's data, so they go to standard output:
//! `file:line:col: severity[code]: message`, or with `--json` one JSON
//! object, `{"nodes": [...], "findings": [...]}`. The nodes (when more than
//! one file is read) and a summary go to standard error. Exit 1 when any
//! finding is an error (with `--strict`, also a warning), else 0; 2 for a
//! directory that cannot be listed or holds too many files; with no FILE
//! the cluster file (`-c`, `CARPCTL_CONFIG`, default) is checked.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{CliError, GlobalOpts};
use std::str::FromStr;

use crate::kernel::emulated::Flavor;
use crate::lint::{self, Finding, Options, Severity, Target};

/// Arguments of `carpctl lint`.
#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    /// Print one JSON object: "nodes", a list of {"name", "files",
    /// "grouped_by", "named_by"}, and "findings", a list of {"file", "line",
    /// "column", "severity", "code", "message"}
    #[arg(long)]
    pub json: bool,
    /// Exit 1 on warnings too, not only on errors
    #[arg(long)]
    pub(crate) strict: bool,
    /// Check the files as the nodes of one cluster even when they share no
    /// vhid (reports vhids that only one node carries)
    #[arg(long)]
    pub cluster: bool,
    /// The FreeBSD release the files are for: VRRPv3 needs 15, unicast
    /// peers 14, and 9 (for every release before 10) has carpN interfaces
    /// and if_carp.ko; every finding that depends on it names the release
    /// assumed
    #[arg(long = "freebsd", value_name = "9|13.0|13|14|15|main", default_value = "main", value_parser = parse_target)]
    pub(crate) freebsd: Target,
    /// Files to check: cluster files (*.toml), rc.conf, loader.conf,
    /// sysctl.conf, devd.conf; files of several nodes are checked together.
    /// Each file is a node of its own, unless given as NODE=FILE (one NODE,
    /// one node), in a directory given as DIR (one node), or named alike
    /// (hosta.rc.conf and hosta.loader.conf; etc/rc.conf and
    /// boot/loader.conf of one tree); rc.conf files with different
    /// hostnames are never one node [default: the cluster file]
    #[arg(value_name = "[NODE=]FILE|DIR")]
    pub files: Vec<String>,
}

/// What lint checks of release `f` ([`crate::lint::Target`]).
fn target(f: Flavor) -> Target {
    Target {
        label: f.label(),
        vrrp: f.has_vrrp(),
        unicast: f.has_carp_netlink(),
        legacy: false,
    }
}

/// `--freebsd`: a release carpctl emulates ([`Flavor`]), or 9 for the
/// releases before 10, which lint knows but carpctl does not emulate.
fn parse_target(s: &str) -> Result<Target, String> {
    match s {
        "9" => Ok(Target::FREEBSD_9),
        _ => Flavor::from_str(s).map(target).map_err(|e| e.to_string()),
    }
}

/// "2 errors, 1 warning, 0 info".
fn summary(findings: &[Finding]) -> String {
    let count = |s: Severity| findings.iter().filter(|f| f.severity() == s).count();
    let (e, w, i) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    format!(
        "{e} error{}, {w} warning{}, {i} info",
        if e == 1 { "" } else { "s" },
        if w == 1 { "" } else { "s" }
    )
}

/// `carpctl lint`.
pub(crate) fn run(
    global: &GlobalOpts,
    args: &LintArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let inputs = if args.files.is_empty() {
        lint::read_inputs(&[global.config_path()])
    } else {
        let given: Vec<(Option<String>, PathBuf)> = args
            .files
            .iter()
            .map(|a| super::import::node_arg(a))
            .collect();
        lint::read_args(&given).map_err(|e| CliError::Usage(format!("lint: {e}")))?
    };
    let report = lint::lint_report(
        &inputs,
        &Options {
            cluster: args.cluster,
            target: args.freebsd,
        },
    );
    drop(inputs);
    let findings = &report.findings;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        if report.nodes.iter().map(|n| n.files.len()).sum::<usize>() > 1 {
            // Which files lint took for one node decides what it compares:
            // say it before the findings.
            let mut err = std::io::stderr().lock();
            for n in &report.nodes {
                let _ = writeln!(err, "carpctl: lint: node {n}");
            }
        }
        for f in findings {
            writeln!(out, "{f}")?;
        }
    }
    if lint::failed(findings, args.strict) {
        return Err(CliError::Failed(format!("lint: {}", summary(findings))));
    }
    if !findings.is_empty() {
        // Only once the data is out, so that the summary follows it.
        out.flush()?;
        let _ = writeln!(std::io::stderr(), "carpctl: lint: {}", summary(findings));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::Code;

    #[test]
    fn summary_counts_by_severity() {
        let f = Finding::of_code;
        assert_eq!(summary(&[]), "0 errors, 0 warnings, 0 info");
        assert_eq!(
            summary(&[
                f(Code::MissingValue),
                f(Code::NoPassword),
                f(Code::NoPassword),
                f(Code::NotEvaluated)
            ]),
            "1 error, 2 warnings, 1 info"
        );
    }
}
