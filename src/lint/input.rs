//! The files lint reads: each one's path, text (or why it could not be
//! read), permission bits and trust, read with the same cap and checks as
//! every other command's input.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::fsutil;
use crate::textfile::{self, Access, ReadError};

/// One file to lint: its path (as given, for messages), its text or why it
/// could not be read, and its permission bits (for cluster files holding
/// passwords). The text is wiped when dropped (`Zeroizing`): rc.conf and
/// cluster files hold passwords.
#[derive(Debug)]
pub struct Input {
    pub path: PathBuf,
    pub content: Result<Zeroizing<String>, String>,
    pub mode: Option<u32>,
    /// For a file read from disk: why carpctl would not trust it as a
    /// cluster file (owner, mode, a directory above it; see
    /// [`crate::fsutil::trust`]), reported for cluster files only.
    pub untrusted: Option<String>,
}

impl Input {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Input {
            path: path.into(),
            content: Ok(Zeroizing::new(text.into())),
            mode: None,
            untrusted: None,
        }
    }
}

/// The largest file lint reads: the same cap as every command's
/// ([`crate::fsutil::INPUT_MAX`]), so that lint accepts what apply reads.
pub const MAX_FILE: u64 = crate::fsutil::INPUT_MAX;

/// Read the files to lint. A file that cannot be read is kept, with the
/// reason, so that it is reported in order.
pub fn read_inputs(paths: &[PathBuf]) -> Vec<Input> {
    paths
        .iter()
        .map(|p| {
            let (content, mode) = read_one(p);
            let untrusted = match &content {
                Ok(_) => fsutil::check_path(p, fsutil::Trust::Config)
                    .err()
                    .map(|e| e.to_string()),
                Err(_) => None,
            };
            Input {
                path: p.clone(),
                content,
                mode,
                untrusted,
            }
        })
        .collect()
}

/// A regular file (never a FIFO or a device) of at most [`MAX_FILE`]
/// bytes, as text; or why not.
fn read_one(p: &Path) -> (Result<Zeroizing<String>, String>, Option<u32>) {
    match textfile::read(p, Access::Named) {
        Ok(f) => (Ok(f.text), Some(f.mode)),
        Err(ReadError::Fs(e)) => (Err(e.reason()), None),
        Err(ReadError::NotUtf8 { at, mode, .. }) => (
            Err(format!("is not text (invalid UTF-8 at byte {at})")),
            Some(mode),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_file_that_is_not_utf8_is_kept_with_its_mode_and_the_byte() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rc.conf");
        fs::write(&p, b"hostname=\"a\"\n\xff\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let (content, mode) = read_one(&p);
        assert_eq!(
            content,
            Err("is not text (invalid UTF-8 at byte 13)".into())
        );
        assert_eq!(mode, Some(0o640));
        let (content, mode) = read_one(&dir.path().join("missing"));
        assert!(content.unwrap_err().starts_with("cannot read: "));
        assert_eq!(mode, None);
    }
}
