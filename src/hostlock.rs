//! The host lock: one carpctl at a time changes a host.
//!
//! rc.d, an operator and configuration management do run carpctl at the
//! same time. Every command that changes the host (`apply`, `maintenance
//! on` and `off`, and the daemon's demotion changes) takes an exclusive
//! `flock(2)` on [`PATH`] first, waits for it up to [`DEFAULT_WAIT`]
//! (or `CARPCTL_LOCK_WAIT` seconds, [`WAIT_ENV`]), and otherwise gives up
//! with "another carpctl (pid N) is changing this host". On an emulated
//! host the lock is inside its own root (`PATH.root/var/run/carpctl.lock`),
//! so that two emulated hosts do not share it.
//!
//! Order: the host lock is always taken before the ledger's own lock
//! ([`crate::ledger`]) and never while an emulated kernel call holds its
//! per-call lock, so no two carpctl processes can wait for each other.
//! `carpctl hook` does not take it: a hook may itself run `carpctl
//! maintenance on`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fsutil::{self, DirRule, FsError, Lock};
use crate::kernel::Kernel;

/// The host lock of a real host (hier(7): `/var/run` holds the files of
/// running programs, cleared at boot).
pub(crate) const PATH: &str = "/var/run/carpctl.lock";
/// Environment variable: how many seconds to wait for the host lock.
pub(crate) const WAIT_ENV: &str = "CARPCTL_LOCK_WAIT";
/// How long a command waits for another one to finish changing the host.
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// The longest wait `CARPCTL_LOCK_WAIT` may ask for (one hour).
pub(crate) const WAIT_MAX_SECS: u64 = 3600;

/// Why [`WAIT_ENV`] cannot be used: a usage error for `apply` and
/// `maintenance`, a failed demotion change for the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WaitError {
    /// The value is not text.
    #[error("{} must be a number of seconds", WAIT_ENV)]
    NotUnicode,
    /// Not a whole number, or above [`WAIT_MAX_SECS`].
    #[error(
        "{} must be a whole number of seconds from 0 to {}",
        WAIT_ENV,
        WAIT_MAX_SECS
    )]
    OutOfRange,
}

/// The wait: `CARPCTL_LOCK_WAIT` when set (whole seconds, 0 to
/// [`WAIT_MAX_SECS`]), else [`DEFAULT_WAIT`].
pub(crate) fn wait() -> Result<Duration, WaitError> {
    match std::env::var(WAIT_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_WAIT),
        Err(std::env::VarError::NotUnicode(_)) => Err(WaitError::NotUnicode),
        Ok(v) => parse_wait(&v),
    }
}

fn parse_wait(v: &str) -> Result<Duration, WaitError> {
    match v.trim().parse::<u64>() {
        Ok(s) if s <= WAIT_MAX_SECS => Ok(Duration::from_secs(s)),
        _ => Err(WaitError::OutOfRange),
    }
}

/// Where `kernel`'s host lock is.
pub fn path(kernel: &dyn Kernel) -> PathBuf {
    crate::kernel::host_path(kernel, Path::new(PATH))
}

/// Take `kernel`'s host lock, waiting up to `wait`. Its directory is
/// created (mode 0755) on an emulated host, and must be trusted
/// ([`DirRule::Private`]): a lock in a directory others can write in could
/// be held, or replaced, by them.
pub fn lock(kernel: &dyn Kernel, wait: Duration) -> Result<Lock, FsError> {
    let path = path(kernel);
    if let Some(dir) = path.parent() {
        fsutil::ensure_dir(dir, 0o755)?;
        fsutil::check_dir(dir, DirRule::Private)?;
    }
    Lock::exclusive(&path, wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_whole_seconds_within_bounds() {
        assert_eq!(parse_wait("0"), Ok(Duration::ZERO));
        assert_eq!(parse_wait(" 30 "), Ok(Duration::from_secs(30)));
        assert_eq!(parse_wait("3600"), Ok(Duration::from_secs(3600)));
        for bad in ["3601", "-1", "1.5", "", "ten"] {
            let e = parse_wait(bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                "CARPCTL_LOCK_WAIT must be a whole number of seconds from 0 to 3600"
            );
        }
        assert_eq!(
            WaitError::NotUnicode.to_string(),
            "CARPCTL_LOCK_WAIT must be a number of seconds"
        );
    }
}
