//! The emulated host's files.
//!
//! * `PATH`: the state ([`HostState`]) as pretty JSON with a fixed field
//!   order, mode 0600 (it holds keys), replaced atomically (a temporary
//!   file in the same directory, then `rename(2)`), and rewritten only when
//!   the state changed, so that read-only calls and failed calls leave it
//!   byte-for-byte as it was.
//! * `PATH.inject`: an armed failure (`{"remaining": N, "errno": E}`). Every
//!   mutating call decrements `remaining`; the call that brings it to zero
//!   fails with `errno`, changes nothing, and removes the file.
//! * `PATH.lock`: `flock(2)`ed for each call ([`lock`]), so that the load,
//!   change and save of one call is atomic across processes (the state
//!   file itself cannot carry the lock: it is replaced by rename).
//!
//! The files go through [`crate::fsutil`]: the state file must be a regular
//! file of at most [`fsutil::INPUT_MAX`] bytes, owned by root or the user
//! running carpctl and not writable by group or others (only the file: a
//! host is a test fixture and often lives in a temporary directory); the
//! sidecars are never read or written through a symbolic link.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fsutil::{self, Durability, FsError, Lock, Trust};

use serde::{Deserialize, Serialize};

use super::state::HostState;
use crate::kernel::{Errno, KernelError};

fn emu_err(path: &Path, detail: impl Into<String>) -> KernelError {
    KernelError::Emulator {
        path: path.display().to_string(),
        detail: detail.into(),
    }
}

/// Read and check the state file.
pub(super) fn load(path: &Path) -> Result<HostState, KernelError> {
    let bytes = fsutil::read_trusted(path, fsutil::INPUT_MAX, Trust::FileOnly)
        .map_err(|e| match e {
            FsError::Io { source, .. } => {
                emu_err(path, format!("cannot read the state file: {source}"))
            }
            e => emu_err(path, format!("cannot use the state file: {}", e.reason())),
        })?
        .bytes;
    let st: HostState = serde_json::from_slice(&bytes)
        .map_err(|e| emu_err(path, format!("the state file does not parse: {e}")))?;
    st.validate()
        .map_err(|e| emu_err(path, format!("the state file is inconsistent: {e}")))?;
    Ok(st)
}

/// The file's bytes for a state: pretty JSON and a final newline.
pub(super) fn to_bytes(st: &HostState) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = serde_json::to_vec_pretty(st)?;
    out.push(b'\n');
    Ok(out)
}

/// Replace the state file atomically.
pub(super) fn save(path: &Path, st: &HostState) -> Result<(), KernelError> {
    let bytes = to_bytes(st).map_err(|e| emu_err(path, format!("cannot encode the state: {e}")))?;
    write_atomic(path, &bytes)
}

/// Write a new state file; refuse an existing path.
pub(super) fn create(path: &Path, st: &HostState) -> Result<(), KernelError> {
    let exists = || emu_err(path, "the state file exists; remove it first");
    if path.symlink_metadata().is_ok() {
        return Err(exists());
    }
    let bytes = to_bytes(st).map_err(|e| emu_err(path, format!("cannot encode the state: {e}")))?;
    // Reserve the name (O_CREAT|O_EXCL) so that two creators cannot both
    // succeed, then replace the empty file atomically.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                exists()
            } else {
                emu_err(path, format!("cannot create the state file: {e}"))
            }
        })?;
    if let Err(e) = write_atomic(path, &bytes) {
        let _ = fs::remove_file(path);
        return Err(e);
    }
    // A failure armed for an earlier host of the same name must not hit
    // this one.
    let _ = fs::remove_file(inject_path(path));
    Ok(())
}

/// Replace `path` with `bytes` (mode 0600) atomically
/// ([`fsutil::write_atomic`]). Not flushed to disk: an emulated host is a
/// rehearsal that a power loss need not survive, and a crashed process
/// (`kill -9`) leaves the old file or the new one either way; flushing
/// every call would make every emulated `apply` wait for the disk.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), KernelError> {
    fsutil::write_atomic(path, bytes, 0o600, Durability::Volatile)
        .map_err(|e| emu_err(path, format!("cannot write the state file: {e}")))
}

/// How long a call waits for another process's call on the same host;
/// a call takes milliseconds.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// `PATH.lock`.
pub(super) fn lock_path(path: &Path) -> PathBuf {
    sidecar(path, ".lock")
}

/// Take the host's per-call lock. A call that changes nothing may go
/// without it when this user cannot take it (another user's host it may
/// only read): every read sees a whole file, as files are replaced by
/// rename.
pub(super) fn lock(path: &Path, required: bool) -> Result<Option<Lock>, KernelError> {
    match Lock::exclusive(&lock_path(path), LOCK_WAIT) {
        Ok(l) => Ok(Some(l)),
        Err(e) if !required => {
            tracing::debug!("reading {} without its lock: {e}", path.display());
            Ok(None)
        }
        Err(e) => Err(emu_err(path, e.to_string())),
    }
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// `PATH.inject`.
pub(super) fn inject_path(path: &Path) -> PathBuf {
    sidecar(path, ".inject")
}

/// An inject sidecar is a few bytes of JSON.
const INJECT_MAX: u64 = 4096;

/// The armed failure, as stored in `PATH.inject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Inject {
    /// Mutating calls until the failure; 1 = the next one fails.
    pub(crate) remaining: u64,
    /// The FreeBSD errno it fails with.
    pub errno: i32,
}

/// Arm a failure: the `call`-th mutating call from now fails with `errno`.
pub(super) fn arm(path: &Path, call: u64, errno: Errno) -> Result<(), KernelError> {
    if call == 0 {
        return Err(emu_err(
            path,
            "the failing call is counted from 1 (the next mutating call)",
        ));
    }
    if errno.0 <= 0 {
        return Err(emu_err(
            path,
            format!("cannot inject errno {}: an errno is positive", errno.0),
        ));
    }
    if !path.is_file() {
        return Err(emu_err(path, "no emulated host here: create it first"));
    }
    write_inject(
        path,
        Inject {
            remaining: call,
            errno: errno.0,
        },
    )
}

fn write_inject(path: &Path, inj: Inject) -> Result<(), KernelError> {
    let side = inject_path(path);
    let mut bytes = serde_json::to_vec_pretty(&inj).map_err(|e| emu_err(&side, e.to_string()))?;
    bytes.push(b'\n');
    write_atomic(&side, &bytes)
}

/// The armed failure, if any; a sidecar that does not parse is an error.
pub(super) fn read_inject(path: &Path) -> Result<Option<Inject>, KernelError> {
    let side = inject_path(path);
    let bytes = match fsutil::read_own(&side, INJECT_MAX) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => {
            return Err(emu_err(
                &side,
                format!("cannot read the fault-injection file: {}", e.reason()),
            ));
        }
    };
    let inj: Inject = serde_json::from_slice(&bytes).map_err(|e| {
        emu_err(
            &side,
            format!("the fault-injection file does not parse: {e}"),
        )
    })?;
    if inj.remaining == 0 || inj.errno <= 0 {
        return Err(emu_err(
            &side,
            format!(
                "the fault-injection file is invalid: remaining {} (must be >= 1), errno {} (must be > 0)",
                inj.remaining, inj.errno
            ),
        ));
    }
    Ok(Some(inj))
}

/// Count one mutating call: `Some(errno)` when this is the call that fails
/// (the sidecar is then removed), `None` otherwise.
pub(super) fn consume(path: &Path) -> Result<Option<Errno>, KernelError> {
    let Some(inj) = read_inject(path)? else {
        return Ok(None);
    };
    if inj.remaining <= 1 {
        let side = inject_path(path);
        fs::remove_file(&side).map_err(|e| {
            emu_err(
                &side,
                format!("cannot remove the fault-injection file: {e}"),
            )
        })?;
        return Ok(Some(Errno(inj.errno)));
    }
    write_inject(
        path,
        Inject {
            remaining: inj.remaining - 1,
            ..inj
        },
    )?;
    Ok(None)
}
