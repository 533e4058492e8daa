//! Safe file handling: the one place where carpctl opens, trusts, writes
//! and locks files. carpctl runs as root (from rc.d, devd and as a daemon),
//! so every other module reads, writes and locks through here.
//!
//! * Reading ([`read`]): a file is opened with `O_NONBLOCK` (a FIFO never
//!   hangs the open), checked on the opened descriptor (`fstat(2)`) to be a
//!   regular file, and read up to a cap ([`INPUT_MAX`] for the cluster,
//!   scenario and emulated host files). Files in carpctl's own directories
//!   are opened with `O_NOFOLLOW`.
//! * Trust ([`trust`]), like sshd's `StrictModes`: a file carpctl acts on
//!   and every directory above it must be owned by root or by the user
//!   running carpctl, and not writable by group or others; a directory
//!   above it that others may write in is accepted only with the sticky bit
//!   (`/tmp`), where nobody can rename or remove another user's entries.
//! * Writing ([`write`]): a temporary file created with
//!   `O_CREAT|O_EXCL` and an unpredictable name beside the target (the
//!   `tempfile` crate), written, `fsync`ed, renamed over the target, and the
//!   directory `fsync`ed. `rename(2)` replaces a symbolic link at the
//!   target, it never writes through one.
//! * Locking ([`lock`]): `flock(2)` on a lock file opened with `O_NOFOLLOW`
//!   (mode 0600), with a bounded wait and the holder's process ID in it.
//!
//! No message here ever quotes a file's content: a symbolic link may point
//! at a key file.

pub(crate) mod lock;
pub(crate) mod read;
pub(crate) mod trust;
pub(crate) mod write;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) use lock::Lock;
pub(crate) use read::{into_text, read_own, read_trusted, read_with_mode};
pub(crate) use trust::{DirRule, Trust, check_dir, check_path};
pub(crate) use write::{Durability, create_output, ensure_dir, write_atomic};

/// The largest cluster file, scenario file or emulated host file carpctl
/// reads (1 MiB), for `apply`, `lint` and every other command alike:
/// configuration files are small, and a larger one was given by mistake.
pub(crate) const INPUT_MAX: u64 = 1024 * 1024;

/// What can go wrong with a file. Every message names the path at fault
/// and never quotes the file's content.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// A system call failed.
    #[error("{}: {op}: {source}", path.display())]
    Io {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: io::Error,
    },
    /// A FIFO, a device, a directory, a socket.
    #[error("{}: is {kind}, not a regular file", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    /// A symbolic link where carpctl does not follow one.
    #[error(
        "{}: is a symbolic link; carpctl does not follow links in its own directories",
        path.display()
    )]
    Symlink { path: PathBuf },
    /// Larger than the cap.
    #[error("{}: is larger than {cap} bytes", path.display())]
    TooLarge { path: PathBuf, cap: u64 },
    /// Owner or mode of a file or directory that carpctl must trust.
    #[error("{problem}; fix: {fix}")]
    Untrusted {
        /// The file or directory at fault.
        path: PathBuf,
        /// What is wrong, naming the path, its owner and mode.
        problem: String,
        /// The command that fixes it.
        fix: String,
    },
    /// The lock is held by another process beyond the wait.
    #[error(
        "another carpctl{} is changing this host: {} is still locked after {}",
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        path.display(),
        Seconds(*waited)
    )]
    Busy {
        path: PathBuf,
        pid: Option<u32>,
        waited: Duration,
    },
}

impl FsError {
    pub(crate) fn io(path: &Path, op: &'static str) -> impl FnOnce(io::Error) -> FsError {
        let path = path.to_path_buf();
        move |source| FsError::Io { path, op, source }
    }

    /// The file does not exist.
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, FsError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// This user may not open it (`EACCES`, `EPERM`).
    pub(crate) fn is_permission_denied(&self) -> bool {
        matches!(self, FsError::Io { source, .. } if source.kind() == io::ErrorKind::PermissionDenied)
    }

    /// Owner or mode refused: a configuration error (exit 2), not a failure.
    pub(crate) fn is_untrusted(&self) -> bool {
        matches!(self, FsError::Untrusted { .. })
    }

    /// The message without the leading path, for a diagnostic that already
    /// names the file. [`FsError::Untrusted`] keeps its path: it may be a
    /// directory above the file.
    pub(crate) fn reason(&self) -> String {
        match self {
            FsError::Io { op, source, .. } => format!("{op}: {source}"),
            FsError::NotRegular { kind, .. } => format!("is {kind}, not a regular file"),
            FsError::Symlink { .. } => {
                "is a symbolic link; carpctl does not follow links in its own directories".into()
            }
            FsError::TooLarge { cap, .. } => format!("is larger than {cap} bytes"),
            FsError::Untrusted { .. } | FsError::Busy { .. } => self.to_string(),
        }
    }
}

/// "10 s", "0.5 s".
struct Seconds(Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.subsec_millis() == 0 {
            write!(f, "{} s", self.0.as_secs())
        } else {
            write!(f, "{:.1} s", self.0.as_secs_f64())
        }
    }
}
