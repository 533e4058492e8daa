//! The cluster file as the commands see it: which file (`-c`, env
//! `CARPCTL_CONFIG`, default `/usr/local/etc/carpctl.toml`), which node
//! (`--node`, env `CARPCTL_NODE`, else the short hostname), and this node's
//! desired state. Warnings are printed here, on stderr; errors are
//! returned with their diagnostics in [`CliError::Invalid`], which the
//! caller prints.

use std::path::Path;

use super::{CliError, GlobalOpts};
use crate::config::{self, Config, Diagnostic};
use crate::kernel::Kernel;

/// Print diagnostics on stderr, one per line, as `carpctl: file:line:col: ...`
/// (through [`crate::logging::stderr_line`]: in order with the log, and never
/// blocking `daemon` or `watch`).
pub(crate) fn print_diagnostics(diags: &[Diagnostic]) {
    for d in diags {
        crate::logging::stderr_line(&format!("carpctl: {d}"));
    }
}

/// Load and validate the cluster file; print its warnings. Errors: a
/// configuration error (exit 2) carrying every diagnostic.
pub(crate) fn load(path: &Path) -> Result<Config, CliError> {
    match config::load(path) {
        Ok(cfg) => {
            print_diagnostics(&cfg.warnings);
            Ok(cfg)
        }
        Err(diags) => Err(invalid(diags, path)),
    }
}

/// The error for an invalid file: it carries the diagnostics, which the
/// caller prints before its message ([`CliError::Invalid`]).
fn invalid(diags: Vec<Diagnostic>, path: &Path) -> CliError {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    CliError::Invalid {
        message: format!(
            "{} has {errors} error{}; nothing was changed",
            path.display(),
            if errors == 1 { "" } else { "s" }
        ),
        diagnostics: diags,
    }
}

/// Read the key files of the VIPs `which` selects ([`Config::read_keys`]);
/// warnings are printed, errors make a configuration error (exit 2, nothing
/// changed). Only the commands that need keys call this.
pub(crate) fn read_keys(
    cfg: &mut Config,
    which: impl Fn(&config::Vip) -> bool,
) -> Result<(), CliError> {
    match cfg.read_keys(which) {
        Ok(warnings) => {
            print_diagnostics(&warnings);
            Ok(())
        }
        Err(diags) => Err(invalid(diags, &cfg.path)),
    }
}

/// This host's short hostname, for node selection.
fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
}

/// The node this host is in `cfg`.
pub(crate) fn node(global: &GlobalOpts, cfg: &Config) -> Result<String, CliError> {
    match config::select_node(cfg, global.node(), &hostname()) {
        Ok(n) => Ok(n.name.clone()),
        Err(d) => Err(invalid(vec![d], &cfg.path)),
    }
}

/// This node's desired state against the host's interfaces, as `kernel`
/// lists them; warnings are printed, errors make a configuration error.
pub(crate) fn desired(
    kernel: &mut dyn Kernel,
    cfg: &Config,
    node: &str,
) -> Result<config::Desired, CliError> {
    let interfaces = kernel
        .interfaces()
        .map_err(CliError::kernel("cannot list the interfaces"))?;
    match config::desired_state(cfg, node, &interfaces) {
        Ok(d) => {
            print_diagnostics(&d.warnings);
            Ok(d)
        }
        Err(diags) => Err(invalid(diags, &cfg.path)),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// An invalid file is returned as one error carrying every diagnostic
    /// (nothing printed on the way), with the count in the message.
    #[test]
    fn invalid_file_returns_its_diagnostics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("carpctl.toml");
        std::fs::write(&path, "[cluster]\nadvbase = 0\nbogus = 1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let Err(CliError::Invalid {
            diagnostics,
            message,
        }) = load(&path)
        else {
            panic!("expected CliError::Invalid");
        };
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        assert!(errors >= 2, "{diagnostics:?}");
        assert_eq!(
            message,
            format!(
                "{} has {errors} errors; nothing was changed",
                path.display()
            )
        );
    }
}
