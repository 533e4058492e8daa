//! Which files and directories carpctl trusts, like sshd's `StrictModes`.
//!
//! carpctl runs as root and acts on what it reads: the cluster file names
//! programs (`on_master`, `exec` checks) that it runs, the key files hold
//! the passwords, `state_dir` holds its share of the demotion. Whoever can
//! change one of them, or rename entries in a directory above it, can make
//! root run a program or overwrite a file. So:
//!
//! * the file (or carpctl's own directory) must be owned by root or by the
//!   user running carpctl (the effective user), and not be writable by
//!   group or others; a key file must not be accessible by them at all;
//! * every directory above it must be owned by root or that user too, and
//!   not writable by group or others, unless it has the sticky bit: in a
//!   sticky directory (`/tmp`) nobody can rename or remove another user's
//!   entries (sticky(7)), so a file below it stays the owner's.
//!
//! Both the path as given and its real path (symbolic links resolved) are
//! checked, so a link in a trusted directory may point elsewhere only if
//! the target's directories are trusted too.

use std::collections::HashSet;
use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::FsError;

/// What must hold for a file carpctl acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trust {
    /// Owned by root or this user, not writable by group or others, and
    /// every directory above it likewise (sticky directories accepted):
    /// the cluster file.
    Config,
    /// As [`Trust::Config`], and not accessible by group or others at all:
    /// a key file (sshd's rule for private keys).
    Secret,
    /// The file itself only (owner and write bits): an emulated host, a
    /// test fixture that usually lives in a temporary directory.
    FileOnly,
}

/// What must hold for a directory carpctl writes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirRule {
    /// Not writable by group or others at all: `state_dir`, the hook state
    /// directory, the directory of the host lock.
    Private,
    /// Writable by others only with the sticky bit, which is accepted with
    /// a warning (the metrics textfile directory may be `/tmp`).
    StickyWarn,
}

const GROUP_OTHER_WRITE: u32 = 0o022;
const GROUP_OTHER_ANY: u32 = 0o077;
const STICKY: u32 = 0o1000;

/// The effective user ID: the user whose files carpctl trusts besides
/// root's.
pub(crate) fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

fn owner_ok(uid: u32) -> bool {
    uid == 0 || uid == euid()
}

/// "nobody (uid 65534)".
fn user(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => format!("{} (uid {uid})", u.name),
        _ => format!("uid {uid}"),
    }
}

fn trusted_owners() -> String {
    let me = euid();
    if me == 0 {
        "root".to_string()
    } else {
        format!("root or {}, who runs carpctl", user(me))
    }
}

fn mode(meta: &Metadata) -> u32 {
    meta.mode() & 0o7777
}

fn untrusted(path: &Path, problem: String, fix: String) -> FsError {
    FsError::Untrusted {
        path: path.to_path_buf(),
        problem,
        fix,
    }
}

fn check_owner(path: &Path, meta: &Metadata, what: &str) -> Result<(), FsError> {
    if owner_ok(meta.uid()) {
        return Ok(());
    }
    Err(untrusted(
        path,
        format!(
            "{what} {} is owned by {}, not by {}",
            path.display(),
            user(meta.uid()),
            trusted_owners()
        ),
        format!("chown root {}", path.display()),
    ))
}

/// The file itself, from the `fstat(2)` of the opened file.
pub(crate) fn check_file(path: &Path, meta: &Metadata, rule: Trust) -> Result<(), FsError> {
    let what = if rule == Trust::Secret {
        "the key file"
    } else {
        "the file"
    };
    check_owner(path, meta, what)?;
    let m = mode(meta);
    if rule == Trust::Secret && m & GROUP_OTHER_ANY != 0 {
        return Err(untrusted(
            path,
            format!(
                "{what} {} is mode {m:04o}; a key file must not be accessible by group or others",
                path.display()
            ),
            format!("chmod 600 {}", path.display()),
        ));
    }
    if m & GROUP_OTHER_WRITE != 0 {
        return Err(untrusted(
            path,
            format!(
                "{what} {} is writable by group or others (mode {m:04o})",
                path.display()
            ),
            format!("chmod go-w {}", path.display()),
        ));
    }
    Ok(())
}

/// One directory above a trusted file: owned by root or this user, and
/// not writable by group or others unless sticky.
fn check_ancestor(dir: &Path, seen: &mut HashSet<(u64, u64)>) -> Result<(), FsError> {
    let meta = fs::metadata(dir).map_err(FsError::io(dir, "cannot stat"))?;
    if !seen.insert((meta.dev(), meta.ino())) {
        return Ok(());
    }
    check_owner(dir, &meta, "the directory")?;
    let m = mode(&meta);
    if m & GROUP_OTHER_WRITE != 0 && m & STICKY == 0 {
        return Err(untrusted(
            dir,
            format!(
                "the directory {} is writable by group or others (mode {m:04o}) and not \
                 sticky, so they can replace what is in it",
                dir.display()
            ),
            format!("chmod go-w {}", dir.display()),
        ));
    }
    Ok(())
}

/// Every directory above `path`: along the path as given (made absolute)
/// and along its real path.
pub(crate) fn check_ancestors(path: &Path) -> Result<(), FsError> {
    let mut seen = HashSet::new();
    let abs = std::path::absolute(path).map_err(FsError::io(path, "cannot resolve"))?;
    for dir in abs.ancestors().skip(1) {
        check_ancestor(dir, &mut seen)?;
    }
    if let Ok(real) = fs::canonicalize(path) {
        for dir in real.ancestors().skip(1) {
            check_ancestor(dir, &mut seen)?;
        }
    }
    Ok(())
}

/// Check a file by its path (following a symbolic link): for `carpctl
/// lint`, which reports rather than refuses.
pub(crate) fn check_path(path: &Path, rule: Trust) -> Result<(), FsError> {
    let meta = fs::metadata(path).map_err(FsError::io(path, "cannot stat"))?;
    check_file(path, &meta, rule)?;
    if rule != Trust::FileOnly {
        check_ancestors(path)?;
    }
    Ok(())
}

/// Check a directory carpctl writes in, and every directory above it.
/// `Ok(Some(warning))` for a sticky directory others may write in under
/// [`DirRule::StickyWarn`].
pub(crate) fn check_dir(path: &Path, rule: DirRule) -> Result<Option<String>, FsError> {
    let meta = fs::metadata(path).map_err(FsError::io(path, "cannot stat"))?;
    if !meta.is_dir() {
        return Err(FsError::Io {
            path: path.to_path_buf(),
            op: "cannot use it as a directory",
            source: std::io::Error::from(std::io::ErrorKind::NotADirectory),
        });
    }
    check_owner(path, &meta, "the directory")?;
    let m = mode(&meta);
    let mut warning = None;
    if m & GROUP_OTHER_WRITE != 0 {
        let sticky = m & STICKY != 0;
        if rule == DirRule::StickyWarn && sticky {
            warning = Some(format!(
                "the directory {} is writable by others (mode {m:04o}, sticky); carpctl \
                 replaces its file there safely, but another user can take the name first: \
                 prefer a directory only root can write",
                path.display()
            ));
        } else {
            return Err(untrusted(
                path,
                format!(
                    "the directory {} is writable by group or others (mode {m:04o}{})",
                    path.display(),
                    if sticky { ", sticky" } else { "" }
                ),
                format!("chmod go-w {}", path.display()),
            ));
        }
    }
    check_ancestors(path)?;
    Ok(warning)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn chmod(p: &Path, m: u32) {
        fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
    }

    #[test]
    fn group_or_other_writable_files_are_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        fs::write(&p, "x").unwrap();
        chmod(&p, 0o644);
        check_path(&p, Trust::Config).unwrap();
        chmod(&p, 0o666);
        let e = check_path(&p, Trust::Config).unwrap_err();
        assert!(e.is_untrusted());
        let msg = e.to_string();
        assert!(
            msg.contains("writable by group or others (mode 0666)"),
            "{msg}"
        );
        assert!(
            msg.contains(&format!("fix: chmod go-w {}", p.display())),
            "{msg}"
        );
        // Group-writable alone is enough.
        chmod(&p, 0o664);
        assert!(check_path(&p, Trust::FileOnly).is_err());
    }

    #[test]
    fn key_files_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        fs::write(&p, "x").unwrap();
        chmod(&p, 0o600);
        check_path(&p, Trust::Secret).unwrap();
        chmod(&p, 0o640);
        let msg = check_path(&p, Trust::Secret).unwrap_err().to_string();
        assert!(msg.contains("mode 0640"), "{msg}");
        assert!(msg.contains("chmod 600"), "{msg}");
    }

    #[test]
    fn a_writable_directory_above_is_refused_unless_sticky() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("open");
        fs::create_dir(&sub).unwrap();
        let p = sub.join("c.toml");
        fs::write(&p, "x").unwrap();
        chmod(&sub, 0o777);
        let e = check_path(&p, Trust::Config).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("the directory {} is writable", sub.display())),
            "{msg}"
        );
        assert!(msg.contains("mode 0777"), "{msg}");
        assert!(
            msg.contains(&format!("fix: chmod go-w {}", sub.display())),
            "{msg}"
        );
        // FileOnly does not look above.
        check_path(&p, Trust::FileOnly).unwrap();
        // Sticky, like /tmp: accepted.
        chmod(&sub, 0o1777);
        check_path(&p, Trust::Config).unwrap();
    }

    #[test]
    fn a_link_to_a_file_under_an_open_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        fs::create_dir(&open).unwrap();
        chmod(&open, 0o777);
        let target = open.join("c.toml");
        fs::write(&target, "x").unwrap();
        let link = dir.path().join("c.toml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let msg = check_path(&link, Trust::Config).unwrap_err().to_string();
        assert!(msg.contains(&open.display().to_string()), "{msg}");
    }

    #[test]
    fn files_of_another_user_are_refused() {
        if euid() != 0 {
            return; // chown needs root; CI runs as root
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        fs::write(&p, "x").unwrap();
        chmod(&p, 0o644);
        let nobody = nix::unistd::Uid::from_raw(65534);
        nix::unistd::chown(&p, Some(nobody), None).unwrap();
        let msg = check_path(&p, Trust::Config).unwrap_err().to_string();
        assert!(
            msg.contains("is owned by") && msg.contains("uid 65534"),
            "{msg}"
        );
        assert!(msg.contains("not by root"), "{msg}");
        assert!(
            msg.contains(&format!("fix: chown root {}", p.display())),
            "{msg}"
        );
        // The same for a directory above it.
        let sub = dir.path().join("d");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("c.toml"), "x").unwrap();
        nix::unistd::chown(&sub, Some(nobody), None).unwrap();
        let msg = check_path(&sub.join("c.toml"), Trust::Config)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains(&format!("the directory {} is owned by", sub.display())),
            "{msg}"
        );
    }

    #[test]
    fn own_directories_must_not_be_writable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("state");
        fs::create_dir(&d).unwrap();
        chmod(&d, 0o755);
        assert_eq!(check_dir(&d, DirRule::Private).unwrap(), None);
        chmod(&d, 0o1777);
        let msg = check_dir(&d, DirRule::Private).unwrap_err().to_string();
        assert!(msg.contains("mode 1777, sticky"), "{msg}");
        let warn = check_dir(&d, DirRule::StickyWarn)
            .unwrap()
            .expect("a warning");
        assert!(warn.contains("sticky"), "{warn}");
        chmod(&d, 0o777);
        assert!(check_dir(&d, DirRule::StickyWarn).is_err());
        let f = dir.path().join("file");
        fs::write(&f, "").unwrap();
        let msg = check_dir(&f, DirRule::Private).unwrap_err().to_string();
        assert!(msg.contains("cannot use it as a directory"), "{msg}");
    }
}
