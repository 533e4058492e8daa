//! The command line: global options, kernel selection, one module per
//! subcommand.
//!
//! This module owns what every subcommand shares:
//!
//! * the global options (`--kernel`, `--trace-wire`, `-v`) and the tracing
//!   subscriber they configure (for `daemon` and `watch`, through
//!   [`crate::logging`]'s non-blocking writer);
//! * choosing and opening the kernel ([`open_kernel`]): FreeBSD's own
//!   (`native`) or an emulated FreeBSD host (`emulated:PATH`);
//! * [`CliError`], which carries the exit status class: 0 ok, 1 failure,
//!   2 usage or configuration error (documented in carpctl(8), EXIT STATUS);
//! * the output rules: data on stdout, diagnostics on stderr, a broken
//!   pipe (`carpctl status | head -1`) is not an error, and any other
//!   failure to write stdout is reported, even after another error.
//!
//! Each subcommand lives in its own file with its arguments and its `run`
//! function, which writes its data to the `out` it is given (`watch`
//! excepted: see [`watch::run`]).

use std::fmt;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;

use clap::{ArgAction, Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::kernel::emulated::EmulatedHost;
use crate::kernel::freebsd::FreeBsdKernel;
use crate::kernel::freebsd::trace::{self, Traced};
use crate::kernel::{Kernel, KernelError};
use crate::logging::error_chain;

pub(crate) mod apply;
pub(crate) mod cluster;
pub(crate) mod completions;
pub(crate) mod daemon;
pub(crate) mod emulate;
pub(crate) mod hook;
pub(crate) mod import;
pub(crate) mod lint;
pub(crate) mod maintenance;
pub(crate) mod migrate;
pub(crate) mod pictures;
pub(crate) mod plan;
pub(crate) mod progress;
pub(crate) mod rollout;
mod rollout_run;
pub(crate) mod scan;
pub(crate) mod simulate;
pub(crate) mod state;
pub mod status;
pub(crate) mod switchover;
pub(crate) mod watch;

/// `carpctl`: configure, observe and keep right FreeBSD's carp(4).
#[derive(Debug, Parser)]
#[command(
    name = "carpctl",
    version,
    about = "Highly available, load-balanced FreeBSD servers with the kernel's own carp(4)",
    long_about = "Highly available, load-balanced FreeBSD servers with the kernel's own carp(4).\n\n\
                  carpctl talks to FreeBSD's carp(4) (netlink on 14.0 and later, ioctls on 13.x), \
                  or to an emulated FreeBSD host created with `carpctl emulate init`, so that a \
                  configuration can be rehearsed on any machine. See carpctl(8)."
)]
pub struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

/// The options every subcommand accepts, before or after its name.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalOpts {
    /// The kernel to talk to: `native` (FreeBSD's own; the default on
    /// FreeBSD) or `emulated:PATH` (an emulated FreeBSD host made by
    /// `carpctl emulate init PATH`)
    #[arg(
        long,
        global = true,
        env = "CARPCTL_KERNEL",
        value_name = "native|emulated:PATH",
        value_parser = KernelSpec::from_str
    )]
    pub kernel: Option<KernelSpec>,

    /// Log every request to and reply from the kernel as one line of hex on
    /// stderr (keys are zeroed): attach this output to bug reports
    #[arg(long, global = true)]
    pub(crate) trace_wire: bool,

    /// The cluster file, the same on every node [default:
    /// /usr/local/etc/carpctl.toml]
    #[arg(
        short = 'c',
        long,
        global = true,
        env = crate::config::CONFIG_ENV,
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Which node of the cluster file this host is (default: the short
    /// hostname)
    #[arg(long, global = true, env = crate::config::NODE_ENV, value_name = "NAME")]
    pub node: Option<String>,

    /// More diagnostics on stderr: -v info, -vv debug (RUST_LOG, when set,
    /// takes precedence)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub(crate) verbose: u8,
}

impl GlobalOpts {
    /// `--node` / `CARPCTL_NODE`; empty counts as not given, so that
    /// `CARPCTL_NODE=` selects by hostname as if it were unset
    /// ([`crate::config::select_node`]).
    pub(crate) fn node(&self) -> Option<&str> {
        self.node.as_deref().filter(|n| !n.is_empty())
    }

    /// The kernel selected by `--kernel` / `CARPCTL_KERNEL`, or the default:
    /// `native` on FreeBSD; elsewhere there is none, and the error explains
    /// how to use an emulated host.
    pub(crate) fn kernel_spec(&self) -> Result<KernelSpec, CliError> {
        match &self.kernel {
            Some(spec) => Ok(spec.clone()),
            None if cfg!(target_os = "freebsd") => Ok(KernelSpec::Native),
            None => Err(CliError::Usage(format!(
                "no kernel selected, and this is not FreeBSD\n{}",
                emulated_hint()
            ))),
        }
    }

    /// The cluster file: `-c`/`CARPCTL_CONFIG`, else the default path.
    pub(crate) fn config_path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_PATH))
    }

    /// Open the selected kernel (see [`GlobalOpts::kernel_spec`]).
    pub fn open_kernel(&self) -> Result<Box<dyn Kernel>, CliError> {
        open_kernel(&self.kernel_spec()?)
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make this node's carp(4) match the cluster file
    Apply(apply::ApplyArgs),
    /// Show every vhid with its state, settings and addresses, and the
    /// global net.inet.carp sysctls
    Status(status::StatusArgs),
    /// Show the cluster plan: each VIP's order and advskews, the failure
    /// matrix, and each node's equivalent rc.conf, loader.conf and
    /// sysctl.conf (needs no kernel)
    Plan(plan::PlanArgs),
    /// Print every CARP transition devd announces, with the VIP and the
    /// previous state
    Watch(watch::WatchArgs),
    /// Run the hook of one transition (called by devd from
    /// carpctl-devd.conf with `$subsystem $type`)
    Hook(hook::HookArgs),
    /// Run the hooks of the cluster file in the foreground, following
    /// devd's CARP events (rc.d/carpctld runs it)
    Daemon(daemon::DaemonArgs),
    /// Take this node out of service by demotion (on, off), and show who
    /// demotes it (status)
    #[command(subcommand)]
    Maintenance(maintenance::MaintenanceCommand),
    /// Move one VIP to another node with no request lost: the nodes ahead
    /// of the target raise its advskew, the current master last (run it on
    /// each; it prints the order)
    Switchover(switchover::SwitchoverArgs),
    /// Force this node's vhid of a VIP into MASTER or BACKUP (ifconfig's
    /// `vhid N state`); it lasts until the election rules say otherwise
    State(state::StateArgs),
    /// Check cluster files and the FreeBSD files that configure carp(4):
    /// rc.conf, loader.conf, sysctl.conf, devd.conf (needs no kernel)
    Lint(lint::LintArgs),
    /// Rewrite a FreeBSD 9 rc.conf (carpN interfaces) into the FreeBSD 10
    /// form, vhid aliases on the parent interface
    Migrate(migrate::MigrateArgs),
    /// Build a cluster file from the rc.conf files of a cluster's nodes
    Import(import::ImportArgs),
    /// Create and drive emulated FreeBSD hosts, to rehearse on any machine
    #[command(subcommand)]
    Emulate(emulate::EmulateCommand),
    /// Run the cluster file on emulated hosts through a timeline of faults
    /// and judge load balance, failover and rebalancing (needs no kernel)
    #[command(
        after_help = "A run longer than a second shows its progress (virtual time, events) on \
                      stderr when that is a terminal, never with --json; \
                      CARPCTL_PROGRESS_AFTER=SECONDS (0 to 3600) sets the delay.\n\n\
                      Exit status: 0 when every [[expect]] of the scenario and every \
                      requirement is met, 1 when one is not, 2 when the run could not be \
                      made (a scenario with errors, a limit, an output that cannot be \
                      written)."
    )]
    Simulate(simulate::SimulateArgs),
    /// Print a completion script for bash, zsh or fish (the FreeBSD port
    /// installs all three)
    Completions(completions::CompletionsArgs),
    /// Show every CARP and VRRP speaker on the wire, who is master, and
    /// what is wrong: dual masters, HMACs that fail, CARP and VRRP on one
    /// number (live capture, or --pcap FILE)
    Scan(scan::ScanArgs),
    /// Plan a change of the cluster file node by node, with no two masters
    /// and no VIP moving more than once (carpctl(8), ROLLOUTS)
    #[command(subcommand)]
    Rollout(rollout::RolloutCommand),
}

/// Which kernel carpctl talks to (`--kernel`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelSpec {
    /// FreeBSD's own kernel, through the real system calls.
    Native,
    /// An emulated FreeBSD host: the state file made by `emulate init`.
    Emulated(PathBuf),
}

impl FromStr for KernelSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "native" {
            return Ok(KernelSpec::Native);
        }
        match s.strip_prefix("emulated:") {
            Some("") => Err("`emulated:` needs the path of an emulated host: emulated:PATH".into()),
            Some(path) => Ok(KernelSpec::Emulated(PathBuf::from(path))),
            None if s == "emulated" => {
                Err("`emulated` needs the path of an emulated host: emulated:PATH".into())
            }
            None => Err(format!(
                "unknown kernel {s:?}: use `native` or `emulated:PATH`"
            )),
        }
    }
}

impl fmt::Display for KernelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelSpec::Native => f.write_str("native"),
            KernelSpec::Emulated(path) => write!(f, "emulated:{}", path.display()),
        }
    }
}

/// How to get going without a FreeBSD kernel; part of several errors.
fn emulated_hint() -> String {
    "carpctl talks to FreeBSD's carp(4); elsewhere, rehearse on an emulated FreeBSD host:\n  \
     carpctl emulate init /tmp/host --iface em0=192.0.2.3/24\n  \
     carpctl --kernel emulated:/tmp/host status\n\
     (or set CARPCTL_KERNEL=emulated:/tmp/host instead of passing --kernel)"
        .to_string()
}

/// Open a kernel: the emulated host at `PATH`, or FreeBSD's own.
///
/// Every kernel is wrapped in [`Traced`], so that `--trace-wire` (or
/// `RUST_LOG=carpctl::wire=trace`) shows the bytes crossing the seam.
pub fn open_kernel(spec: &KernelSpec) -> Result<Box<dyn Kernel>, CliError> {
    match spec {
        KernelSpec::Emulated(path) => {
            // Checked here, not left to the emulator, so that a typo in the
            // path gets the hint on how to create a host.
            match path.try_exists() {
                Ok(true) => {}
                Ok(false) => {
                    return Err(CliError::Usage(format!(
                        "emulated host {} does not exist: create it with `carpctl emulate init {}`",
                        path.display(),
                        path.display()
                    )));
                }
                Err(e) => {
                    return Err(CliError::Usage(format!(
                        "emulated host {}: {e}",
                        path.display()
                    )));
                }
            }
            let host = EmulatedHost::open(path).map_err(|source| CliError::Config {
                context: format!("cannot open the emulated host {}", path.display()),
                source,
            })?;
            Ok(Box::new(FreeBsdKernel::new(Traced::new(host))))
        }
        KernelSpec::Native => native_kernel(),
    }
}

#[cfg(target_os = "freebsd")]
fn native_kernel() -> Result<Box<dyn Kernel>, CliError> {
    use crate::kernel::freebsd::sys::NativeSyscalls;
    Ok(Box::new(FreeBsdKernel::new(Traced::new(
        NativeSyscalls::new(),
    ))))
}

#[cfg(not(target_os = "freebsd"))]
fn native_kernel() -> Result<Box<dyn Kernel>, CliError> {
    Err(CliError::Usage(format!(
        "the native kernel is only available on FreeBSD\n{}",
        emulated_hint()
    )))
}

/// What a subcommand can fail with. Each variant knows its exit status.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments, or a configuration that cannot work (no kernel
    /// selected, no such emulated host): exit 2.
    #[error("{0}")]
    Usage(String),
    /// The cluster file, or what this node derives from it, is invalid:
    /// exit 2. `diagnostics` (every error and warning, with file, line and
    /// key) are printed before the message, which counts the errors.
    #[error("{message}")]
    Invalid {
        diagnostics: Vec<crate::config::Diagnostic>,
        message: String,
    },
    /// The selected kernel cannot be opened: exit 2 (a configuration error:
    /// nothing was attempted).
    #[error("{context}")]
    Config {
        context: String,
        #[source]
        source: KernelError,
    },
    /// The kernel refused or failed a request: exit 1.
    #[error("{context}")]
    Kernel {
        context: String,
        #[source]
        source: KernelError,
    },
    /// The command ran and failed (an apply that was rolled back, a
    /// `status --check` that found a VIP out of place): exit 1.
    #[error("{0}")]
    Failed(String),
    /// The command could not run to a result (`simulate`: a run past a
    /// limit, a node that cannot boot, a capture, picture or report that
    /// cannot be written): exit 2, so that 1 keeps meaning "ran and found
    /// something not met".
    #[error("{0}")]
    NotRun(String),
    /// Writing the output failed: exit 1, except a broken pipe, which is
    /// not an error (the reader has seen enough: `carpctl status | head`).
    #[error("cannot write to standard output")]
    Output(#[source] io::Error),
}

impl CliError {
    /// A [`CliError::Kernel`] with `context` saying what was being done.
    pub fn kernel(context: impl Into<String>) -> impl FnOnce(KernelError) -> CliError {
        let context = context.into();
        move |source| CliError::Kernel { context, source }
    }

    /// The exit status: 1 for a failure, 2 for a usage or configuration
    /// error (the same class as clap's own usage errors).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_)
            | CliError::Invalid { .. }
            | CliError::Config { .. }
            | CliError::NotRun(_) => 2,
            CliError::Kernel { .. } | CliError::Failed(_) | CliError::Output(_) => 1,
        }
    }

    /// Whether this is a write to a closed pipe, which exits quietly with 0.
    pub(crate) fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl From<crate::fsutil::FsError> for CliError {
    /// A file carpctl refuses to trust is a configuration error (exit 2);
    /// anything else, a held lock included, is a failure (exit 1).
    fn from(e: crate::fsutil::FsError) -> Self {
        if e.is_untrusted() {
            CliError::Usage(e.to_string())
        } else {
            CliError::Failed(e.to_string())
        }
    }
}

/// Take the host lock ([`crate::hostlock`]) before changing the host:
/// wait for another carpctl up to `CARPCTL_LOCK_WAIT` seconds (default
/// 10), else fail with "another carpctl (pid N) is changing this host".
pub(crate) fn lock_host(kernel: &dyn Kernel) -> Result<crate::fsutil::Lock, CliError> {
    let wait = crate::hostlock::wait().map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(crate::hostlock::lock(kernel, wait)?)
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Output(e)
    }
}

impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> Self {
        // serde_json only fails here on I/O (the values are plain data);
        // keeping the io::Error keeps a broken pipe recognisable.
        CliError::Output(io::Error::from(e))
    }
}

/// Run the parsed command line, writing its data to `out`.
pub fn run(cli: &Cli, out: &mut dyn Write) -> Result<(), CliError> {
    match &cli.command {
        Command::Apply(args) => apply::run(&cli.global, args, out),
        Command::Status(args) => status::run(&cli.global, args, out),
        Command::Plan(args) => plan::run(&cli.global, args, out),
        Command::Watch(args) => watch::run(&cli.global, args, out),
        Command::Hook(args) => hook::run(&cli.global, args, out),
        Command::Daemon(args) => daemon::run(&cli.global, args, out),
        Command::Maintenance(cmd) => maintenance::run(&cli.global, cmd, out),
        Command::Switchover(args) => switchover::run(&cli.global, args, out),
        Command::Rollout(cmd) => rollout::run(&cli.global, cmd, out),
        Command::State(args) => state::run(&cli.global, args, out),
        Command::Lint(args) => lint::run(&cli.global, args, out),
        Command::Migrate(args) => migrate::run(&cli.global, args, out),
        Command::Import(args) => import::run(&cli.global, args, out),
        Command::Emulate(cmd) => emulate::run(&cli.global, cmd, out),
        Command::Simulate(args) => simulate::run(&cli.global, args, out),
        Command::Completions(args) => completions::run(args, out),
        Command::Scan(args) => scan::run(&cli.global, args, out),
    }
}

/// Parse the arguments, run the subcommand, and map its outcome to the
/// documented exit status (0 ok, 1 failure, 2 usage or configuration error).
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints --help/--version to stdout (exit 0) and usage
            // errors to stderr (exit 2). A closed pipe while printing help
            // is not worth reporting.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    // daemon and watch run until stopped: their diagnostics must never
    // block them (see crate::logging).
    let long_running = matches!(cli.command, Command::Daemon(_) | Command::Watch(_));
    let _log_guard = init_tracing(&cli.global, long_running);

    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = run(&cli, &mut out).and_then(|()| out.flush().map_err(CliError::Output));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            // Whatever data was produced goes out before the diagnostic;
            // if it cannot (ENOSPC, EIO), that is said too, not hidden
            // behind the command's own error.
            let flushed = out.flush();
            let mut code = e.exit_code();
            // The whole cause chain ([`error_chain`]):
            // "carpctl: context: operation on target: errno".
            // Outside text in the message (a path, a name, an errno
            // string) is escaped; its own line breaks (a hint on its own
            // line) are kept.
            let line = |e: CliError| {
                let text = error_chain(&e);
                format!("carpctl: {}", crate::text::escape_keep_lines(&text))
            };
            if let CliError::Invalid { diagnostics, .. } = &e {
                cluster::print_diagnostics(diagnostics);
            }
            let first = line(e);
            crate::logging::stderr_line(&first);
            if let Err(w) = flushed
                && w.kind() != io::ErrorKind::BrokenPipe
            {
                let w = CliError::Output(w);
                code = code.max(w.exit_code());
                // A command that flushed itself (simulate) has said it.
                let second = line(w);
                if second != first {
                    crate::logging::stderr_line(&second);
                }
            }
            ExitCode::from(code)
        }
    }
}

/// The log filter: `RUST_LOG` when set (it wins over `-v`), otherwise
/// `warn`, `info` (-v), `debug` (-vv) or `trace` (-vvv); `--trace-wire` adds
/// the wire target at `trace` either way. Returns a warning to print when
/// `RUST_LOG` cannot be parsed.
pub(crate) fn log_filter(
    verbose: u8,
    trace_wire: bool,
    rust_log: Option<&str>,
) -> (EnvFilter, Option<String>) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let mut warning = None;
    let mut filter = match rust_log.map(str::trim).filter(|s| !s.is_empty()) {
        Some(spec) => match EnvFilter::try_new(spec) {
            Ok(filter) => filter,
            Err(e) => {
                warning = Some(format!("ignoring RUST_LOG={spec:?}: {e}"));
                EnvFilter::new(level)
            }
        },
        None => EnvFilter::new(level),
    };
    if trace_wire {
        match format!("{}=trace", trace::TARGET).parse() {
            Ok(directive) => filter = filter.add_directive(directive),
            // A constant directive; it parses. Should it ever not, say so
            // rather than lose the user's request silently.
            Err(e) => warning = Some(format!("cannot enable --trace-wire: {e}")),
        }
    }
    (filter, warning)
}

/// Diagnostics go to stderr, without timestamps (the caller's syslog or
/// terminal has them), with colour only on a terminal; with `non_blocking`,
/// through [`crate::logging`]'s bounded queue (keep the guard until exit).
fn init_tracing(global: &GlobalOpts, non_blocking: bool) -> Option<crate::logging::LogGuard> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let (filter, warning) = log_filter(global.verbose, global.trace_wire, rust_log.as_deref());
    let stderr_is_terminal = io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(stderr_is_terminal)
        .without_time();
    // Fails only if a subscriber is already installed (never in the binary).
    let guard = if non_blocking {
        let (writer, guard) = crate::logging::install();
        let _ = builder.with_writer(writer).try_init();
        Some(guard)
    } else {
        let _ = builder.with_writer(io::stderr).try_init();
        None
    };
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
    guard
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn kernel_spec_parses_native_and_emulated() {
        assert_eq!("native".parse::<KernelSpec>(), Ok(KernelSpec::Native));
        assert_eq!(
            "emulated:/tmp/h".parse::<KernelSpec>(),
            Ok(KernelSpec::Emulated(PathBuf::from("/tmp/h")))
        );
        // A path may itself contain a colon; only the first one separates.
        assert_eq!(
            "emulated:/tmp/a:b".parse::<KernelSpec>(),
            Ok(KernelSpec::Emulated(PathBuf::from("/tmp/a:b")))
        );
        assert_eq!(
            KernelSpec::Emulated(PathBuf::from("/x")).to_string(),
            "emulated:/x"
        );
        assert_eq!(KernelSpec::Native.to_string(), "native");
    }

    #[test]
    fn kernel_spec_refuses_bad_values_by_name() {
        let e = "nativ".parse::<KernelSpec>().unwrap_err();
        assert!(e.contains("\"nativ\""), "{e}");
        assert!(e.contains("emulated:PATH"), "{e}");
        assert!(
            "emulated:"
                .parse::<KernelSpec>()
                .unwrap_err()
                .contains("emulated:PATH")
        );
        assert!(
            "emulated"
                .parse::<KernelSpec>()
                .unwrap_err()
                .contains("emulated:PATH")
        );
        assert!("Native".parse::<KernelSpec>().is_err());
        assert!("".parse::<KernelSpec>().is_err());
    }

    #[test]
    fn bad_kernel_value_is_a_clap_usage_error() {
        let e = Cli::try_parse_from(["carpctl", "--kernel", "vmm", "status"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("vmm"), "{e}");
    }

    #[test]
    fn global_options_go_before_or_after_the_subcommand() {
        let a =
            Cli::try_parse_from(["carpctl", "--kernel", "emulated:/h", "-vv", "status"]).unwrap();
        let b = Cli::try_parse_from(["carpctl", "status", "--kernel", "emulated:/h", "-v", "-v"])
            .unwrap();
        for cli in [a, b] {
            assert_eq!(
                cli.global.kernel,
                Some(KernelSpec::Emulated(PathBuf::from("/h")))
            );
            assert_eq!(cli.global.verbose, 2);
        }
    }

    #[cfg(not(target_os = "freebsd"))]
    #[test]
    fn no_kernel_off_freebsd_explains_the_emulator() {
        let global = GlobalOpts {
            kernel: None,
            config: None,
            node: None,
            trace_wire: false,
            verbose: 0,
        };
        let e = global.kernel_spec().unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let msg = e.to_string();
        assert!(msg.contains("--kernel emulated:"), "{msg}");
        assert!(msg.contains("CARPCTL_KERNEL"), "{msg}");
        assert!(msg.contains("carpctl emulate init"), "{msg}");
        let e = open_kernel(&KernelSpec::Native)
            .err()
            .expect("native must fail off FreeBSD");
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("only available on FreeBSD"), "{e}");
    }

    #[test]
    fn missing_emulated_host_is_a_usage_error_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope");
        let e = open_kernel(&KernelSpec::Emulated(path.clone()))
            .err()
            .expect("must fail");
        assert_eq!(e.exit_code(), 2);
        let msg = e.to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(msg.contains("carpctl emulate init"), "{msg}");
    }

    #[test]
    fn exit_codes_by_class() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(CliError::NotRun("x".into()).exit_code(), 2);
        let k = || KernelError::Unsupported("old".into());
        assert_eq!(
            CliError::Config {
                context: "c".into(),
                source: k()
            }
            .exit_code(),
            2
        );
        assert_eq!(CliError::kernel("reading")(k()).exit_code(), 1);
        let pipe = CliError::Output(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(pipe.is_broken_pipe());
        let full = CliError::Output(io::Error::from(io::ErrorKind::StorageFull));
        assert!(!full.is_broken_pipe());
        assert_eq!(full.exit_code(), 1);
        assert!(!CliError::Usage("x".into()).is_broken_pipe());
    }

    #[test]
    fn error_chain_shows_context_and_cause() {
        let e = CliError::kernel("cannot read the vhids")(KernelError::NotLoaded);
        let text = error_chain(&e);
        assert!(
            text.starts_with("cannot read the vhids: carp(4) is not loaded"),
            "{text}"
        );
    }

    #[test]
    fn json_write_errors_keep_the_broken_pipe() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let e: CliError = serde_json::to_writer(Closed, &[1, 2, 3])
            .unwrap_err()
            .into();
        assert!(e.is_broken_pipe());
    }

    #[test]
    fn log_filter_levels_and_wire() {
        let show = |v, w, env| {
            let (f, warn) = log_filter(v, w, env);
            (f.to_string(), warn)
        };
        assert_eq!(show(0, false, None), ("warn".to_string(), None));
        assert_eq!(show(1, false, None).0, "info");
        assert_eq!(show(2, false, None).0, "debug");
        assert_eq!(show(5, false, None).0, "trace");
        // RUST_LOG wins over -v; blank counts as unset.
        assert_eq!(show(2, false, Some("error")).0, "error");
        assert_eq!(show(1, false, Some("  ")).0, "info");
        let (wire, warn) = show(0, true, None);
        assert!(wire.contains("carpctl::wire=trace"), "{wire}");
        assert!(wire.contains("warn"), "{wire}");
        assert_eq!(warn, None);
        let (wire, _) = show(0, true, Some("info"));
        assert!(
            wire.contains("carpctl::wire=trace") && wire.contains("info"),
            "{wire}"
        );
    }

    #[test]
    fn bad_rust_log_is_reported_not_fatal() {
        let (f, warn) = log_filter(0, false, Some("carpctl=loud"));
        assert_eq!(f.to_string(), "warn");
        let warn = warn.expect("a warning");
        assert!(
            warn.contains("RUST_LOG") && warn.contains("carpctl=loud"),
            "{warn}"
        );
    }
}
