//! A VIP's password: `password =` (checked at once, and only in a file
//! that group and others cannot read) or `password_file =` (kept as a path,
//! read when the key is needed: [`crate::config::keys`]), and the rules
//! every key obeys, whichever way it came.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::DeValue;
use zeroize::Zeroizing;

use super::Validator;
use crate::config::diag::Diagnostic;
use crate::config::keys::{KeyFile, KeySource};
use crate::config::rules::password_issues;
use crate::model::Key;
use crate::textfile::LineIndex;

/// The longest password ifconfig(8) keeps (`strlcpy` into the 20-byte
/// `carpr_key`, docs/freebsd-carp.md §6.4).
const IFCONFIG_PASSWORD_MAX: usize = Key::IFCONFIG_MAX;

/// Whether a file with this mode is open to group or others: sshd's test for
/// private keys (`st_mode & 077`).
fn open_to_others(mode: u32) -> bool {
    mode & 0o077 != 0
}

impl Validator<'_> {
    /// `password` / `password_file` into a key. Returns the key and whether
    /// the keys were valid (no password at all is valid, with a warning).
    pub(super) fn password(
        &mut self,
        inline: Option<(Range<usize>, DeValue<'_>)>,
        file: Option<Spanned<String>>,
        ctx: &str,
        keypath: &str,
        entry: &Range<usize>,
    ) -> (Option<KeySource>, bool) {
        match (inline, file) {
            (None, None) => {
                let msg = format!(
                    "{ctx}: no password: any host on the segment can take over this VIP \
                     (set password_file)"
                );
                self.warn(entry, keypath, msg);
                (None, true)
            }
            (Some((ispan, _)), Some(_)) => {
                let msg = format!("{ctx}: set either password or password_file, not both");
                self.error(&ispan, format!("{keypath}.password"), msg);
                (None, false)
            }
            (Some((span, value)), None) => {
                let key = format!("{keypath}.password");
                let DeValue::String(s) = value else {
                    // Deliberately without the value: it may be the secret.
                    self.error(&span, key, format!("{ctx}: password must be a string"));
                    return (None, false);
                };
                let mut ok = true;
                if let Some(mode) = self.file_mode
                    && open_to_others(mode)
                    && !self.mode_reported
                {
                    self.mode_reported = true;
                    let msg = format!(
                        "{} is mode {mode:04o}; a file holding password = must not be \
                         accessible by group or others (chmod 600), or use password_file",
                        self.path.display()
                    );
                    self.error(&span, key.clone(), msg);
                    ok = false;
                }
                let k = self.key_from(s.as_bytes(), "password", &span, &key, ctx);
                discard(DeValue::String(s));
                let ok = ok && k.is_some();
                (k.filter(|_| ok).map(KeySource::Inline), ok)
            }
            (None, Some(f)) => {
                // Only the path: the file is read when the key is needed
                // (config::keys), so that a broken key file stops only
                // what needs that key.
                let key = format!("{keypath}.password_file");
                let fspan = f.span();
                let given = f.into_inner();
                if given.is_empty() {
                    self.error(&fspan, key, format!("{ctx}: password_file is empty"));
                    return (None, false);
                }
                let file = KeyFile {
                    path: self.relative(&given),
                    cluster: self.path.to_path_buf(),
                    pos: self.pos(&fspan),
                    keypath: key,
                    ctx: ctx.to_string(),
                };
                (Some(KeySource::File(file)), true)
            }
        }
    }

    /// Check a password's bytes and make the key; `what` names where it came
    /// from. Never puts the bytes in a message.
    fn key_from(
        &mut self,
        bytes: &[u8],
        what: &str,
        span: &Range<usize>,
        key: &str,
        ctx: &str,
    ) -> Option<Key> {
        let max = crate::model::CARP_KEY_LEN;
        if bytes.is_empty() {
            self.error(span, key, format!("{ctx}: {what} is empty"));
            return None;
        }
        if bytes.len() > max {
            let msg = format!(
                "{ctx}: {what} is {} bytes; carp(4) keys are at most {max} bytes",
                bytes.len()
            );
            self.error(span, key, msg);
            return None;
        }
        if bytes.contains(&0) {
            let msg = format!("{ctx}: {what} contains a NUL byte, where the kernel would stop");
            self.error(span, key, msg);
            return None;
        }
        let issues = password_issues(bytes);
        if !issues.is_empty() {
            let msg = format!(
                "{ctx}: {what} {}; it is used byte for byte, so a node configured by hand \
                 (ifconfig ... pass) can never match it",
                issues.join(", and ")
            );
            self.warn(span, key, msg);
        }
        if bytes.len() > IFCONFIG_PASSWORD_MAX {
            let msg = format!(
                "{ctx}: {what} is {} bytes; ifconfig(8) keeps only {IFCONFIG_PASSWORD_MAX}, \
                 so a node configured by hand would use a different key",
                bytes.len()
            );
            self.warn(span, key, msg);
        }
        match Key::new(bytes) {
            Ok(k) => Some(k),
            Err(e) => {
                // Key::new checks the same rules; its message has no bytes.
                self.error(span, key, format!("{ctx}: {what}: {e}"));
                None
            }
        }
    }

    /// A `password_file` relative to the cluster file's directory.
    fn relative(&self, given: &str) -> PathBuf {
        crate::config::relative_to(self.path, given)
    }
}

/// A key file's content: its bytes with one trailing newline (`\n` or
/// `\r\n`) removed, as `echo secret > file` leaves one.
/// Drop an inline password's value, wiping it when it is an owned copy
/// (an escaped string); a borrowed one lives in the file's text, which is
/// wiped when dropped.
pub(super) fn discard(value: DeValue<'_>) {
    if let DeValue::String(std::borrow::Cow::Owned(owned)) = value {
        drop(Zeroizing::new(owned));
    }
}

fn strip_newline(bytes: &[u8]) -> &[u8] {
    let b = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if b.len() < bytes.len() {
        b.strip_suffix(b"\r").unwrap_or(b)
    } else {
        b
    }
}

/// Check the content of a key file read when its key is needed
/// ([`super::keys`]) with the rules of the file's own passwords
/// ([`Validator::key_from`]), after removing one trailing newline. The
/// diagnostics carry no position: the caller sets that of
/// `password_file`.
pub(in crate::config) fn key_from_file(
    cluster: &Path,
    ctx: &str,
    keypath: &str,
    what: &str,
    bytes: &[u8],
) -> (Option<Key>, Vec<Diagnostic>) {
    let mut cx = Validator {
        path: cluster,
        idx: LineIndex::new(""),
        file_mode: None,
        diags: Vec::new(),
        mode_reported: false,
    };
    let key = cx.key_from(strip_newline(bytes), what, &(0..0), keypath, ctx);
    (key, cx.diags)
}
