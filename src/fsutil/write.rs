//! Writing files atomically, never through a symbolic link.

use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use nix::fcntl::{FcntlArg, OFlag, fcntl};

use super::FsError;

/// Whether a write must survive a power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// `fsync(2)` the file before the rename and the directory after it.
    Durable,
    /// Atomic, not flushed: for a file that matters only as long as the
    /// running kernel does (the ledger's intent).
    Volatile,
}

/// Replace `path` with `bytes`, mode `mode` exactly (not subject to the
/// umask), atomically: a temporary file `.NAME.XXXXXX.tmp` is created
/// beside it with `O_CREAT|O_EXCL` and an unpredictable name (so neither a
/// planted file nor a symbolic link can be opened in its place), written,
/// flushed, and renamed over `path`. `rename(2)` replaces a symbolic link
/// at `path` itself; it never writes through it. A failure removes the
/// temporary file and leaves `path` as it was.
pub(crate) fn write_atomic(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    durability: Durability,
) -> Result<(), FsError> {
    let name = path.file_name().ok_or_else(|| FsError::Io {
        path: path.to_path_buf(),
        op: "cannot write",
        source: io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file"),
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut prefix = OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(FsError::io(dir, "cannot create a temporary file in"))?;
    let tmp_path = tmp.path().to_path_buf();
    tmp.as_file()
        .set_permissions(Permissions::from_mode(mode))
        .map_err(FsError::io(&tmp_path, "cannot set the mode of"))?;
    tmp.write_all(bytes)
        .map_err(FsError::io(&tmp_path, "cannot write"))?;
    if durability == Durability::Durable {
        tmp.as_file()
            .sync_all()
            .map_err(FsError::io(&tmp_path, "cannot flush"))?;
    }
    // On error the temporary file is removed when `e.file` drops.
    tmp.persist(path)
        .map_err(|e| FsError::io(path, "cannot rename into place")(e.error))?;
    if durability == Durability::Durable {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(FsError::io(dir, "cannot flush the directory"))?;
    }
    Ok(())
}

/// Create or truncate `path` for writing an output the user named (a
/// capture, a report), never through a symbolic link: `O_NOFOLLOW` makes a
/// link at `path` an error (`ELOOP`) instead of a way to make root
/// overwrite the file it points to. A new file gets `mode` less the umask.
///
/// The open never blocks: a FIFO nobody reads is refused at once (`ENXIO`,
/// "no reader") instead of hanging carpctl before its run; a FIFO with a
/// reader is written to as usual (`O_NONBLOCK` is cleared after the open).
pub(crate) fn create_output(path: &Path, mode: u32) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK).bits())
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENXIO) => io::Error::new(
                e.kind(),
                "a FIFO that nobody reads (start its reader first)",
            ),
            _ => e,
        })?;
    let flags = fcntl(&file, FcntlArg::F_GETFL).map_err(io::Error::from)?;
    let blocking = OFlag::from_bits_truncate(flags) & !OFlag::O_NONBLOCK;
    fcntl(&file, FcntlArg::F_SETFL(blocking)).map_err(io::Error::from)?;
    Ok(file)
}

/// Create the directory `path` with mode `mode` (exactly) if it is missing;
/// missing parents are created with mode 0755 (less the umask). An existing path is
/// left as it is: [`super::check_dir`] judges it.
pub(crate) fn ensure_dir(path: &Path, mode: u32) -> Result<(), FsError> {
    match fs::symlink_metadata(path) {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(FsError::io(path, "cannot stat")(e)),
    }
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        // 0755 at most, whatever the umask (devd's children may have 0):
        // a parent others could write in would fail the trust check.
        DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(parent)
            .map_err(FsError::io(parent, "cannot create"))?;
    }
    match DirBuilder::new().mode(mode).create(path) {
        // The exact mode through the directory just made, never through a
        // link someone put in its place (in a parent others can write in,
        // which the caller's trust check then refuses anyway).
        Ok(()) => OpenOptions::new()
            .read(true)
            .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_DIRECTORY).bits())
            .open(path)
            .and_then(|d| d.set_permissions(Permissions::from_mode(mode)))
            .map_err(FsError::io(path, "cannot set the mode of")),
        // Another process made it meanwhile.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(FsError::io(path, "cannot create")(e)),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, symlink};

    use super::*;

    #[test]
    fn the_target_is_replaced_whole_with_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.prom");
        write_atomic(&p, b"a 1\n", 0o644, Durability::Durable).unwrap();
        write_atomic(&p, b"b 2\n", 0o600, Durability::Volatile).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"b 2\n");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o600);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn a_fifo_without_a_reader_is_refused_at_once_and_one_with_a_reader_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("out.fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // Without a reader a blocking open would hang here for ever.
        let err = create_output(&fifo, 0o644).unwrap_err();
        assert!(err.to_string().contains("nobody reads"), "{err}");
        let reader = OpenOptions::new()
            .read(true)
            .custom_flags(OFlag::O_NONBLOCK.bits())
            .open(&fifo)
            .unwrap();
        let mut out = create_output(&fifo, 0o644).unwrap();
        let flags = OFlag::from_bits_truncate(fcntl(&out, FcntlArg::F_GETFL).unwrap());
        assert!(!flags.contains(OFlag::O_NONBLOCK), "writes block again");
        out.write_all(b"ok").unwrap();
        drop(out);
        let mut got = String::new();
        io::Read::read_to_string(&mut &reader, &mut got).unwrap();
        assert_eq!(got, "ok");
    }

    #[test]
    fn an_output_is_never_created_through_a_symbolic_link() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        let out = dir.path().join("out.pcap");
        symlink(&victim, &out).unwrap();
        let err = create_output(&out, 0o644).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ELOOP), "{err}");
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        let fresh = dir.path().join("fresh.pcap");
        create_output(&fresh, 0o644)
            .unwrap()
            .write_all(b"x")
            .unwrap();
        assert_eq!(fs::read(&fresh).unwrap(), b"x");
    }

    #[test]
    fn a_symbolic_link_at_the_target_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        let p = dir.path().join("state");
        symlink(&victim, &p).unwrap();
        write_atomic(&p, b"MASTER\n", 0o600, Durability::Durable).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert!(fs::symlink_metadata(&p).unwrap().is_file());
        assert_eq!(fs::read(&p).unwrap(), b"MASTER\n");
    }

    #[test]
    fn failures_name_the_directory_and_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_atomic(
            &dir.path().join("missing/x"),
            b"x",
            0o600,
            Durability::Durable,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("missing") && e.contains("cannot create a temporary file"),
            "{e}"
        );
    }

    #[test]
    fn ensure_dir_makes_the_exact_mode_and_keeps_what_exists() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("a/b/hooks");
        ensure_dir(&d, 0o700).unwrap();
        assert_eq!(fs::metadata(&d).unwrap().mode() & 0o7777, 0o700);
        fs::set_permissions(&d, Permissions::from_mode(0o750)).unwrap();
        ensure_dir(&d, 0o700).unwrap();
        assert_eq!(fs::metadata(&d).unwrap().mode() & 0o7777, 0o750);
    }
}
