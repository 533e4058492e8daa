//! The ledger's files in `state_dir`: the trusted directory, the lock, and
//! reading and writing `ledger.json` and `intent.json` (never through a
//! link, never more than [`FILE_MAX`], replaced atomically).

use std::fs;
use std::io;

use serde::Serialize;

use super::records::{Intent, LedgerState};
use super::{
    FILE_MAX, INTENT_FILE, LEDGER_FILE, LOCK_FILE, LOCK_WAIT, Ledger, LedgerError, VERSION,
};
use crate::fsutil::{self, DirRule, Durability, FsError, Lock};
impl Ledger {
    /// Create the state directory (mode 0755) if it is missing, and check
    /// that it can be trusted: owned by root (or the user running carpctl)
    /// and not writable by group or others, nor any directory above it. A
    /// forged ledger or a lock held by another user must be impossible.
    fn ensure_dir(&self) -> Result<(), LedgerError> {
        fsutil::ensure_dir(&self.dir, 0o755)?;
        fsutil::check_dir(&self.dir, DirRule::Private)?;
        Ok(())
    }

    /// Check the state directory (when it exists) as every change and
    /// read does: trusted, or [`LedgerError::Fs`].
    pub(crate) fn check_dir(&self) -> Result<(), LedgerError> {
        if self.dir.exists() {
            fsutil::check_dir(&self.dir, DirRule::Private)?;
        }
        Ok(())
    }

    /// Take the exclusive lock, waiting up to [`LOCK_WAIT`].
    pub(super) fn lock(&self) -> Result<Lock, LedgerError> {
        self.ensure_dir()?;
        Ok(Lock::exclusive(&self.path(LOCK_FILE), LOCK_WAIT)?)
    }

    /// A shared lock for reading, when this user may open the lock file at
    /// all (it is root's): without it the reads are still each consistent
    /// (files are replaced by rename), only not with each other.
    pub(super) fn read_lock(&self) -> Option<Lock> {
        Lock::shared(&self.path(LOCK_FILE), LOCK_WAIT)
    }

    pub(super) fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, LedgerError> {
        let path = self.path(name);
        // Never through a link, never more than FILE_MAX.
        let bytes = match fsutil::read_own(&path, FILE_MAX) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(FsError::TooLarge { .. }) => {
                return Err(LedgerError::Corrupt {
                    path,
                    detail: format!(
                        "is larger than {FILE_MAX} bytes, far more than carpctl ever writes"
                    ),
                });
            }
            Err(e) => return Err(e.into()),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| LedgerError::Corrupt {
                path,
                detail: format!("does not parse: {e}"),
            })
    }

    pub(super) fn read_ledger(&self) -> Result<Option<LedgerState>, LedgerError> {
        let l: Option<LedgerState> = self.read_json(LEDGER_FILE)?;
        if let Some(l) = &l
            && l.version != VERSION
        {
            return Err(LedgerError::Corrupt {
                path: self.path(LEDGER_FILE),
                detail: format!(
                    "ledger format {} is not supported (this carpctl reads {VERSION})",
                    l.version
                ),
            });
        }
        if let Some(l) = &l {
            self.limits.ledger(&self.path(LEDGER_FILE), "", l)?;
        }
        Ok(l)
    }

    /// The intent, checked against `ledger` (the ledger on disk). One that
    /// does not parse can only be a torn write from before a power loss,
    /// i.e. from an earlier boot: it is dropped. One that parses but holds
    /// what carpctl never writes is refused ([`LedgerError::Invalid`]).
    pub(super) fn read_intent(
        &self,
        ledger: Option<&LedgerState>,
    ) -> Result<Option<Intent>, LedgerError> {
        match self.read_json::<Intent>(INTENT_FILE) {
            Err(LedgerError::Corrupt { detail, .. }) => {
                tracing::warn!(
                    "{}: {detail}; ignoring it (a torn write from before a power loss)",
                    self.path(INTENT_FILE).display()
                );
                self.remove_intent()?;
                Ok(None)
            }
            Ok(Some(intent)) => {
                self.limits
                    .intent(&self.path(INTENT_FILE), &intent, ledger)?;
                Ok(Some(intent))
            }
            other => other,
        }
    }

    /// Write `name` atomically; with `durable`, also flushed to disk with
    /// the directory entry.
    pub(super) fn write_json<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        durable: bool,
    ) -> Result<(), LedgerError> {
        let mut bytes = serde_json::to_vec_pretty(value)
            .map_err(|e| self.io(name, "cannot encode")(e.into()))?;
        bytes.push(b'\n');
        let durability = if durable {
            Durability::Durable
        } else {
            Durability::Volatile
        };
        fsutil::write_atomic(&self.path(name), &bytes, 0o644, durability)?;
        Ok(())
    }

    pub(super) fn remove_intent(&self) -> Result<(), LedgerError> {
        match fs::remove_file(self.path(INTENT_FILE)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io(INTENT_FILE, "cannot remove")(e)),
        }
    }
}
