//! Reading a file safely: never hang on a FIFO, never read a device, never
//! read more than a cap.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use nix::fcntl::OFlag;
use zeroize::Zeroizing;

use super::FsError;
use super::trust::{self, Trust};

/// A file read by [`read_trusted`]: its bytes and permission bits.
pub(crate) struct Opened {
    /// Wiped when dropped: a cluster file or key file may hold passwords.
    pub bytes: Zeroizing<Vec<u8>>,
    /// `st_mode & 07777` of the file that was read.
    pub mode: u32,
}

/// Whether `open` follows a symbolic link at the last component.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Follow {
    Yes,
    No,
}

/// What `meta` is, for "is a FIFO, not a regular file".
pub(crate) fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

/// Whether `e` is what `open(2)` says for `O_NOFOLLOW` on a symbolic link:
/// `ELOOP` on Linux, `EMLINK` on FreeBSD (open(2), ERRORS).
pub(crate) fn is_nofollow_error(e: &io::Error) -> bool {
    let code = e.raw_os_error();
    code == Some(nix::errno::Errno::ELOOP as i32)
        || (cfg!(target_os = "freebsd") && code == Some(nix::errno::Errno::EMLINK as i32))
}

/// Open `path` with `options` plus `O_NONBLOCK` (so that opening a FIFO
/// returns at once instead of waiting for the other end) and, with
/// [`Follow::No`], `O_NOFOLLOW`; then check, on the opened descriptor, that
/// it is a regular file. `op` names the operation in an error.
pub(crate) fn open_checked(
    path: &Path,
    options: &mut OpenOptions,
    follow: Follow,
    op: &'static str,
) -> Result<(File, Metadata), FsError> {
    let mut flags = OFlag::O_NONBLOCK;
    if follow == Follow::No {
        flags |= OFlag::O_NOFOLLOW;
    }
    // std opens with O_CLOEXEC.
    let file = options.custom_flags(flags.bits()).open(path).map_err(|e| {
        if follow == Follow::No && is_nofollow_error(&e) {
            FsError::Symlink {
                path: path.to_path_buf(),
            }
        } else {
            FsError::io(path, op)(e)
        }
    })?;
    let meta = file.metadata().map_err(FsError::io(path, "cannot stat"))?;
    if !meta.is_file() {
        return Err(FsError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(&meta),
        });
    }
    Ok((file, meta))
}

/// Open a regular file for reading ([`open_checked`]).
fn open_regular(path: &Path, follow: Follow) -> Result<(File, Metadata), FsError> {
    open_checked(path, OpenOptions::new().read(true), follow, "cannot read")
}

/// Read at most `cap` bytes of an opened regular file; more is an error.
/// The buffer is sized up front, so the bytes are never copied by a
/// reallocation (the caller may zero them: key files, inline passwords).
fn read_capped(
    path: &Path,
    mut file: File,
    meta: &Metadata,
    cap: u64,
) -> Result<Zeroizing<Vec<u8>>, FsError> {
    let too_large = || FsError::TooLarge {
        path: path.to_path_buf(),
        cap,
    };
    if meta.len() > cap {
        return Err(too_large());
    }
    let want = usize::try_from(meta.len().saturating_add(1)).unwrap_or(usize::MAX);
    // Wiped on every return, the errors' included.
    let mut bytes = Zeroizing::new(Vec::with_capacity(want));
    // One byte past the cap tells a file that grew beyond it since fstat.
    let read = file
        .by_ref()
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes);
    if let Err(e) = read {
        return Err(FsError::io(path, "cannot read")(e));
    }
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(bytes)
}

/// `bytes` as UTF-8 text, wiped when dropped as the bytes were; on invalid
/// UTF-8, the offset of the first bad byte and the bytes (still wiped on
/// drop), e.g. to place the error. No unwiped copy is made either way.
pub(crate) fn into_text(
    mut bytes: Zeroizing<Vec<u8>>,
) -> Result<Zeroizing<String>, (usize, Zeroizing<Vec<u8>>)> {
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(s) => Ok(Zeroizing::new(s)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            Err((at, Zeroizing::new(e.into_bytes())))
        }
    }
}

/// The bytes of [`read_with_mode`] (the tests' shorthand).
#[cfg(test)]
fn read_regular(path: &Path, cap: u64) -> Result<Zeroizing<Vec<u8>>, FsError> {
    read_with_mode(path, cap).map(|o| o.bytes)
}

/// Read a regular file of at most `cap` bytes, following a symbolic link
/// (a file the user named: an input to lint, a scenario), with the file's
/// permission bits.
pub(crate) fn read_with_mode(path: &Path, cap: u64) -> Result<Opened, FsError> {
    let (file, meta) = open_regular(path, Follow::Yes)?;
    let mode = meta.permissions().mode() & 0o7777;
    let bytes = read_capped(path, file, &meta, cap)?;
    Ok(Opened { bytes, mode })
}

/// Read a file carpctl keeps in its own directory (hook states, the
/// ledger): never through a symbolic link, a regular file of at most `cap`
/// bytes.
pub(crate) fn read_own(path: &Path, cap: u64) -> Result<Zeroizing<Vec<u8>>, FsError> {
    let (file, meta) = open_regular(path, Follow::No)?;
    read_capped(path, file, &meta, cap)
}

/// Read a file carpctl acts on (the cluster file, a key file, an emulated
/// host): a regular file of at most `cap` bytes whose owner and mode pass
/// `trust` ([`super::trust`]), checked on the opened file itself, and, for
/// [`Trust::Config`] and [`Trust::Secret`], every directory above it.
pub(crate) fn read_trusted(path: &Path, cap: u64, rule: Trust) -> Result<Opened, FsError> {
    let (file, meta) = open_regular(path, Follow::Yes)?;
    trust::check_file(path, &meta, rule)?;
    if rule != Trust::FileOnly {
        trust::check_ancestors(path)?;
    }
    let mode = meta.permissions().mode() & 0o7777;
    let bytes = read_capped(path, file, &meta, cap)?;
    Ok(Opened { bytes, mode })
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::symlink;
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn a_regular_file_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"hello\n").unwrap();
        assert_eq!(*read_regular(&p, 6).unwrap(), b"hello\n");
        assert_eq!(*read_own(&p, 100).unwrap(), b"hello\n");
    }

    #[test]
    fn the_cap_is_enforced_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"1234567").unwrap();
        let e = read_regular(&p, 6).unwrap_err();
        assert!(matches!(e, FsError::TooLarge { cap: 6, .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("larger than 6 bytes"), "{msg}");
        assert!(msg.contains(&p.display().to_string()), "{msg}");
    }

    #[test]
    fn a_fifo_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fifo");
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let start = Instant::now();
        let e = read_regular(&p, 100).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(
            e.to_string(),
            format!("{}: is a FIFO, not a regular file", p.display())
        );
    }

    #[test]
    fn devices_and_directories_are_refused() {
        let e = read_regular(Path::new("/dev/zero"), 100).unwrap_err();
        assert!(
            e.to_string().contains("/dev/zero: is a character device"),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let e = read_regular(dir.path(), 100).unwrap_err();
        assert!(
            e.to_string().contains("is a directory, not a regular file"),
            "{e}"
        );
    }

    #[test]
    fn own_files_are_never_read_through_a_link_and_never_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        fs::write(&secret, b"hunter2").unwrap();
        let link = dir.path().join("1@em0");
        symlink(&secret, &link).unwrap();
        let e = read_own(&link, 100).unwrap_err();
        assert!(matches!(e, FsError::Symlink { .. }), "{e}");
        assert!(!e.to_string().contains("hunter2"));
        // A user-named file may be a link.
        assert_eq!(*read_regular(&link, 100).unwrap(), b"hunter2");
    }

    #[test]
    fn missing_files_are_recognisable() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_own(&dir.path().join("nope"), 10).unwrap_err();
        assert!(e.is_not_found());
        assert!(e.reason().starts_with("cannot read: "), "{}", e.reason());
    }
}
