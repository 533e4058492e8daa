//! The one lock helper: `flock(2)` on a lock file, with a bounded wait and
//! the holder's process ID written in it, so that the one who waits can
//! say who holds it.
//!
//! The kernel releases a `flock` when its holder exits, even by `kill -9`;
//! a lock belongs to the open file description, so two opens in one
//! process exclude each other like two processes do.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::FsError;
use super::read::{Follow, open_checked};

/// A held lock; dropping it (or exiting) releases it.
#[derive(Debug)]
pub struct Lock {
    _file: File,
    path: PathBuf,
}

/// The width of the process ID in a lock file: the largest PID on Linux
/// (2^22) and FreeBSD (99999) has 7 digits.
const PID_WIDTH: usize = 10;

/// The longest pause between two tries.
const POLL_MAX: Duration = Duration::from_millis(50);

/// Open the lock file: never through a link, never a FIFO or a device;
/// created (mode 0600) when `write`.
fn open(path: &Path, write: bool) -> Result<File, FsError> {
    let mut o = OpenOptions::new();
    o.read(true);
    if write {
        o.write(true).create(true).truncate(false).mode(0o600);
    }
    open_checked(path, &mut o, Follow::No, "cannot open the lock file").map(|(f, _)| f)
}

/// Try `try_lock` until it succeeds or `wait` has passed.
fn wait_for(
    file: &File,
    wait: Duration,
    try_lock: impl Fn(&File) -> Result<(), TryLockError>,
) -> Result<bool, io::Error> {
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(1);
    loop {
        match try_lock(file) {
            Ok(()) => return Ok(true),
            Err(TryLockError::WouldBlock) => {
                let now = Instant::now();
                if now >= deadline {
                    return Ok(false);
                }
                std::thread::sleep(pause.min(deadline - now));
                pause = (pause * 2).min(POLL_MAX);
            }
            Err(TryLockError::Error(e)) => return Err(e),
        }
    }
}

/// The process ID a holder wrote, if it is one.
fn holder(file: &File) -> Option<u32> {
    let mut buf = [0u8; 24];
    let n = file.read_at(&mut buf, 0).ok()?;
    std::str::from_utf8(buf.get(..n)?).ok()?.trim().parse().ok()
}

impl Lock {
    /// Take the exclusive lock on `path` (created with mode 0600, never
    /// through a symbolic link), waiting up to `wait` for its holder. Once
    /// held, the file holds this process's ID. After `wait`:
    /// [`FsError::Busy`], naming the holder's process ID.
    pub(crate) fn exclusive(path: &Path, wait: Duration) -> Result<Lock, FsError> {
        let file = open(path, true)?;
        let got =
            wait_for(&file, wait, File::try_lock).map_err(FsError::io(path, "cannot lock"))?;
        if !got {
            return Err(FsError::Busy {
                path: path.to_path_buf(),
                pid: holder(&file),
                waited: wait,
            });
        }
        // Fixed width, so that it replaces the last holder's without a
        // truncate (which costs a journal commit on some file systems);
        // not flushed: it is only for the message of the one who waits.
        let pid = format!("{:<width$}\n", std::process::id(), width = PID_WIDTH);
        let _ = file.write_all_at(pid.as_bytes(), 0);
        Ok(Lock {
            _file: file,
            path: path.to_path_buf(),
        })
    }

    /// A shared lock for reading, when `path` exists and this user may
    /// open it (lock files are root's, mode 0600): `None` otherwise, and
    /// after `wait`. Readers that go without it still see whole files
    /// (they are replaced by rename), only not consistent with each other.
    pub(crate) fn shared(path: &Path, wait: Duration) -> Option<Lock> {
        let file = open(path, false).ok()?;
        match wait_for(&file, wait, File::try_lock_shared) {
            Ok(true) => Some(Lock {
                _file: file,
                path: path.to_path_buf(),
            }),
            _ => None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::{MetadataExt, symlink};

    use super::*;

    #[test]
    fn a_second_holder_waits_then_is_told_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let held = Lock::exclusive(&p, Duration::ZERO).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o600);
        assert_eq!(
            fs::read_to_string(&p).unwrap().trim(),
            std::process::id().to_string()
        );
        let start = Instant::now();
        let e = Lock::exclusive(&p, Duration::from_millis(300)).unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(300));
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!(
                "another carpctl (pid {}) is changing this host",
                std::process::id()
            )),
            "{msg}"
        );
        assert!(msg.contains("still locked after 0.3 s"), "{msg}");
        assert!(Lock::shared(&p, Duration::from_millis(10)).is_none());
        drop(held);
        let _again = Lock::exclusive(&p, Duration::ZERO).unwrap();
    }

    #[test]
    fn a_waiter_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let held = Lock::exclusive(&p, Duration::ZERO).unwrap();
        let p2 = p.clone();
        let t = std::thread::spawn(move || Lock::exclusive(&p2, Duration::from_secs(20)).is_ok());
        std::thread::sleep(Duration::from_millis(100));
        drop(held);
        assert!(t.join().unwrap());
    }

    #[test]
    fn shared_locks_coexist_and_exclude_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        assert!(
            Lock::shared(&p, Duration::ZERO).is_none(),
            "no file, no lock"
        );
        drop(Lock::exclusive(&p, Duration::ZERO).unwrap());
        let a = Lock::shared(&p, Duration::ZERO).unwrap();
        let _b = Lock::shared(&p, Duration::ZERO).unwrap();
        assert!(Lock::exclusive(&p, Duration::ZERO).is_err());
        drop(a);
    }

    #[test]
    fn a_symbolic_link_or_a_fifo_is_never_a_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        let p = dir.path().join("lock");
        symlink(&victim, &p).unwrap();
        let e = Lock::exclusive(&p, Duration::ZERO).unwrap_err();
        assert!(matches!(e, FsError::Symlink { .. }), "{e}");
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let e = Lock::exclusive(&fifo, Duration::ZERO).unwrap_err();
        assert!(e.to_string().contains("is a FIFO"), "{e}");
    }
}
