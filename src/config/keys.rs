//! VIP passwords: where each one comes from ([`KeySource`]), and reading a
//! `password_file` only when the key is needed.
//!
//! Parsing keeps a `password_file`'s path, not its bytes, so that an
//! unreadable key file (even of a VIP this node does not carry) never
//! stops `status`, `maintenance`, `hook`, `watch`, `plan` or the daemon.
//! The keys are read by `apply` (this node's VIPs), `plan --show-secrets`,
//! `simulate` and `lint`, each through [`Config::read_keys`] or
//! [`check_keys`] (and, for its notes only, by `plan`, through
//! [`Config::try_read_keys`], which never fails), with the same rules as
//! the file's own validation:
//!
//! * the key file is a regular file of at most [`KEY_FILE_MAX`] bytes;
//! * it and every directory above it are trusted (owner root or the user
//!   running carpctl, nothing writable by group or others) and it is not
//!   accessible by group or others at all ([`fsutil::Trust::Secret`]);
//! * its content, without one trailing newline, passes the password rules
//!   of the cluster file (`parse::key_from_file`).
//!
//! An inline `password =` is checked when the file is parsed, including
//! the rule that the cluster file must then not be accessible by group or
//! others. Keys stay in [`Key`]s (redacted `Debug`, zeroed on drop); the
//! bytes read are zeroed at once.

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::{Config, Diagnostic, Vip, diag};
use crate::fsutil::{self, FsError, Trust};
use crate::model::Key;
use crate::textfile::Pos;

/// The largest key file read: a key is at most 20 bytes, so a file this
/// big was named by mistake.
pub const KEY_FILE_MAX: u64 = 4096;

/// Where a VIP's password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `password =` in the cluster file (or a scenario's `[passwords]`),
    /// or a key file already read: the key itself.
    Inline(Key),
    /// `password_file =`: read when needed ([`Config::read_keys`]).
    File(KeyFile),
}

/// A `password_file` not read yet, with what its diagnostics need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    /// The key file, resolved against the cluster file's directory.
    pub path: PathBuf,
    /// The cluster file.
    pub(crate) cluster: PathBuf,
    /// Where `password_file` is in it.
    pub(crate) pos: Option<Pos>,
    /// `vip[i].password_file`.
    pub(crate) keypath: String,
    /// `vip "mail1"`.
    pub(crate) ctx: String,
}

impl KeySource {
    /// The key, when it is known without reading a file.
    pub(crate) fn key(&self) -> Option<&Key> {
        match self {
            KeySource::Inline(k) => Some(k),
            KeySource::File(_) => None,
        }
    }

    /// Read the key: the key and the warnings about it, or every error.
    pub fn read(&self) -> Result<(Key, Vec<Diagnostic>), Vec<Diagnostic>> {
        match self {
            KeySource::Inline(k) => Ok((k.clone(), Vec::new())),
            KeySource::File(f) => match f.read() {
                Ok(checked) => checked,
                Err(e) => Err(vec![f.unreadable(&e)]),
            },
        }
    }
}

impl KeyFile {
    fn what(&self) -> String {
        format!("password_file {}", self.path.display())
    }

    fn diag(&self, d: Diagnostic) -> Diagnostic {
        d.in_file(&self.cluster).at(self.pos).key(&self.keypath)
    }

    /// The error for a key file that cannot be used.
    fn unreadable(&self, e: &FsError) -> Diagnostic {
        let msg = format!("{}: {}: {}", self.ctx, self.what(), e.reason());
        self.diag(Diagnostic::error(msg))
    }

    /// `Err`: the file cannot be read or trusted. `Ok(Err)`: its content
    /// is not a valid password.
    #[allow(clippy::type_complexity)]
    fn read(&self) -> Result<Result<(Key, Vec<Diagnostic>), Vec<Diagnostic>>, FsError> {
        // Zeroed when dropped, whatever happens below.
        let bytes =
            Zeroizing::new(fsutil::read_trusted(&self.path, KEY_FILE_MAX, Trust::Secret)?.bytes);
        let (key, mut diags) = super::parse::key_from_file(
            &self.cluster,
            &self.ctx,
            &self.keypath,
            &self.what(),
            &bytes,
        );
        for d in &mut diags {
            d.pos = self.pos;
        }
        Ok(match key {
            Some(k) if !diag::has_errors(&diags) => Ok((k, diags)),
            _ => Err(diags),
        })
    }
}

impl Config {
    /// Read the key files of the VIPs `which` selects, so that their keys
    /// become [`KeySource::Inline`]. `Ok` carries the warnings about the
    /// keys; `Err` every error (and the warnings), in file order. Nothing
    /// is changed on error.
    pub(crate) fn read_keys(
        &mut self,
        which: impl Fn(&Vip) -> bool,
    ) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let mut keys = Vec::new();
        for (i, v) in self.vips.iter().enumerate() {
            let Some(src @ KeySource::File(_)) = &v.key else {
                continue;
            };
            if !which(v) {
                continue;
            }
            match src.read() {
                Ok((k, warnings)) => {
                    diags.extend(warnings);
                    keys.push((i, k));
                }
                Err(errors) => diags.extend(errors),
            }
        }
        diag::sort(&mut diags);
        if diag::has_errors(&diags) {
            return Err(diags);
        }
        for (i, k) in keys {
            if let Some(v) = self.vips.get_mut(i) {
                v.key = Some(KeySource::Inline(k));
            }
        }
        Ok(diags)
    }
}

impl Config {
    /// Read what key files of the VIPs `which` selects can be read, and
    /// leave the others as they are, saying nothing: for advice that a key
    /// improves but does not need (`plan` notes a password that rc.conf
    /// cannot carry), so that a broken key file never stops it.
    pub(crate) fn try_read_keys(&mut self, which: impl Fn(&Vip) -> bool) {
        for v in &mut self.vips {
            if let Some(src @ KeySource::File(_)) = &v.key
                && which(v)
                && let Ok((k, _)) = src.read()
            {
                v.key = Some(KeySource::Inline(k));
            }
        }
    }
}

/// Check every key file of `cfg` without keeping a key, for `carpctl
/// lint`: the errors and warnings `apply` would give. A key file this user
/// may not read (lint is often run unprivileged) is a warning that it was
/// not checked, not an error.
pub fn check_keys(cfg: &Config) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for v in &cfg.vips {
        let Some(KeySource::File(f)) = &v.key else {
            continue;
        };
        match f.read() {
            Ok(Ok((_, warnings))) => diags.extend(warnings),
            Ok(Err(errors)) => diags.extend(errors),
            Err(e) if e.is_permission_denied() => {
                let msg = format!(
                    "{}: {}: {}; not checked (carpctl apply reads it as root)",
                    f.ctx,
                    f.what(),
                    e.reason()
                );
                diags.push(f.diag(Diagnostic::warning(msg)));
            }
            Err(e) => diags.push(f.unreadable(&e)),
        }
    }
    diag::sort(&mut diags);
    diags
}
