//! `carpctl simulate SCENARIO [--json] [--pcap FILE] [--html FILE] [--svg
//! FILE]`: run a cluster file on emulated FreeBSD hosts through a timeline
//! of faults, and say whether the three requirements hold (carpctl(8),
//! "simulate"; carpctl.scenario(5)). A long run shows its progress on a
//! terminal ([`super::progress`]); `--html` and `--svg` draw the report
//! ([`crate::picture`]).
//!
//! Exit status: 0 when every `[[expect]]` of the scenario and every
//! requirement is met (a requirement a `verdict` expectation names is
//! judged by it instead), 1 when one is not (the report says which and
//! why), 2 when nothing could be judged: a scenario or cluster file with
//! errors (each printed with file, line and column), a run past a limit,
//! a capture, picture or report that cannot be written.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::pictures::{self, SimPictures};
use super::{CliError, GlobalOpts, cluster, progress};
use crate::sim::limits::{self, CappedSink};
use crate::sim::{self, FrameSink};
use crate::wire::PcapSink;

/// Arguments of `carpctl simulate`.
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// The scenario file (carpctl.scenario(5)); it names the cluster file
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Print the report as JSON (see carpctl(8) for the fields)
    #[arg(long)]
    pub json: bool,
    /// Write every frame of the virtual segment (advertisements, ARP, NA)
    /// to FILE as a pcap capture; decode with `tshark -d ip.proto==112,carp`
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// The largest capture --pcap may write, in bytes or with k, m, g or t
    /// (powers of 1024); the run stops with an error before the file would
    /// grow past it, and is refused at once when the capture would clearly
    /// need more
    #[arg(long, value_name = "SIZE", default_value = "1g", value_parser = limits::parse_size)]
    pub(crate) pcap_max: u64,
    /// Also draw the report as one self-contained HTML page in FILE: the
    /// verdicts and a timeline of which node is MASTER of each VIP, outages
    /// red, dual masters hatched, events marked; hover a bar for the reason
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also draw the timeline and the verdicts as one self-contained SVG
    /// file
    #[arg(long, value_name = "FILE")]
    pub(crate) svg: Option<PathBuf>,
}

/// `carpctl simulate`: exit 0 when every expectation and requirement is
/// met, 1 when one is not, 2 when the run could not be made or reported.
pub(crate) fn run(
    global: &GlobalOpts,
    args: &SimulateArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let report = simulate(global, args, out).map_err(could_not_run)?;
    let not_met = report.not_met();
    if not_met.is_empty() {
        return Ok(());
    }
    Err(CliError::Failed(format!("not met: {}", not_met.join(", "))))
}

/// Anything that keeps `simulate` from a result is exit 2: the status 1
/// says only that the run was judged and something was not met. A closed
/// pipe stays what it is for every command.
fn could_not_run(e: CliError) -> CliError {
    let fails = matches!(
        e,
        CliError::Failed(_) | CliError::Kernel { .. } | CliError::Output(_)
    );
    if fails && !e.is_broken_pipe() {
        // The whole cause chain, as main prints it.
        CliError::NotRun(format!("{:#}", anyhow::Error::new(e)))
    } else {
        e
    }
}

/// Load, run and print: the report, or why there is none.
fn simulate(
    _global: &GlobalOpts,
    args: &SimulateArgs,
    out: &mut dyn Write,
) -> Result<sim::Report, CliError> {
    pictures::distinct(&[
        ("--html", args.html.as_deref()),
        ("--svg", args.svg.as_deref()),
        ("--pcap", args.pcap.as_deref()),
    ])?;
    let mut shown = progress::for_stderr(args.json)?;
    let scenario = match sim::scenario::load(&args.scenario) {
        Ok(s) => s,
        Err(diags) => {
            cluster::print_diagnostics(&diags);
            let errors = diags.iter().filter(|d| d.is_error()).count();
            return Err(CliError::Usage(format!(
                "{} has {errors} error{}; nothing was simulated",
                args.scenario.display(),
                if errors == 1 { "" } else { "s" }
            )));
        }
    };
    cluster::print_diagnostics(&scenario.config.warnings);
    if let Some(path) = &args.pcap {
        let need = limits::pcap_estimate(&scenario);
        if need > args.pcap_max {
            return Err(CliError::Usage(format!(
                "--pcap {}: the capture would take at least about {}, more than \
                 --pcap-max {}; nothing was simulated: raise --pcap-max, or shorten the \
                 duration",
                path.display(),
                limits::show_size(need),
                limits::show_size(args.pcap_max)
            )));
        }
    }
    // Every output is created before the run: a path that cannot be
    // written is refused at once.
    let pictures = SimPictures::create(args.html.as_deref(), args.svg.as_deref())?;
    let mut pcap = match &args.pcap {
        Some(path) => {
            let sink = PcapSink::create(path).map_err(|e| CliError::Usage(e.to_string()))?;
            Some(CappedSink::new(sink, args.pcap_max))
        }
        None => None,
    };
    let sink = pcap.as_mut().map(|p| p as &mut dyn FrameSink);
    let observer = shown.as_mut().map(|p| p as &mut dyn sim::Progress);
    let report = sim::run_observed(&scenario, sink, observer);
    if let Some(p) = shown.as_mut() {
        p.finish();
    }
    let report = report.map_err(|e| CliError::Failed(format!("simulation failed: {e}")))?;
    if let Some(p) = pcap {
        p.into_inner()
            .finish()
            .map_err(|e| CliError::Failed(format!("the capture is incomplete: {e}")))?;
    }
    pictures.write(&report)?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(report.to_text().as_bytes())?;
    }
    // The report must be out before the status can say it was judged.
    out.flush().map_err(CliError::Output)?;
    Ok(report)
}
