//! The files around the binary: the FreeBSD port (port/sysutils/carpctl),
//! the shell completions, and the Prometheus rules and Grafana dashboard
//! (contrib/). Each check reads the repository's own files, so that a
//! change to Cargo.lock, rc.d/, the CLI or the metrics that leaves them
//! behind fails here.

mod completions;
mod monitoring;
mod port;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The top of the repository.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A repository file as text.
fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Run a program; `None` when it is not installed (the caller skips with
/// a message or fails, as the check requires).
fn run(program: &str, args: &[&str], dir: &Path) -> Option<Output> {
    match Command::new(program).args(args).current_dir(dir).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("{program}: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
