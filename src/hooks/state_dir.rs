//! `carpctl hook`'s state directory (`--state-dir`, `CARPCTL_HOOK_DIR`,
//! default `/var/db/carpctl/hooks`): one file per vhid (`1@em0`) holding
//! its last state, so that `CARP_PREVIOUS_STATE` works without a daemon,
//! and a lock file that serializes invocations.
//!
//! devd runs `carpctl hook` as root, and the directory may be named in the
//! environment, so it is trusted only as [`fsutil`] says: owned by root
//! (or the caller) and not writable by group or others, nor any directory
//! above it (sticky ones aside). Its files are read without following a
//! symbolic link and replaced atomically through an `O_CREAT|O_EXCL`
//! temporary file, and their content is never quoted in a message (devd
//! sends the messages to syslog).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::HOOK_TIMEOUT_MAX_SECS;
use crate::fsutil::{self, DirRule, Durability, FsError, Lock};
use crate::model::{CarpState, Vhid, VhidRef};

/// Where `carpctl hook` keeps the last state of each vhid, and its lock:
/// the `hooks` subdirectory of the default `[cluster] state_dir`
/// ([`crate::config::DEFAULT_CLUSTER_STATE_DIR`]), derived from it. It is
/// not derived from the cluster file's own `state_dir`: the hook records
/// the state before it reads the cluster file, so that the state is kept
/// even when that file cannot be read (carpctl(8), `hook`).
pub const DEFAULT_HOOK_DIR: &str = concat!(crate::config::default_cluster_state_dir!(), "/hooks");
/// Environment variable naming the state directory.
pub const STATE_DIR_ENV: &str = "CARPCTL_HOOK_DIR";
/// The lock file inside the state directory.
pub const LOCK_FILE: &str = ".lock";
/// How long `carpctl hook` waits for the hook before it to finish: the
/// longest a hook may run ([`HOOK_TIMEOUT_MAX_SECS`]) and a minute more.
pub const LOCK_WAIT: Duration = Duration::from_secs(HOOK_TIMEOUT_MAX_SECS + 60);
/// A state file holds one word ("MASTER\n").
const STATE_MAX: u64 = 64;

/// The state directory of `carpctl hook`.
#[derive(Debug, Clone)]
pub struct StateDir {
    path: PathBuf,
}

impl StateDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StateDir { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Create the directory (mode 0700; parents as needed) if it is
    /// missing, then check that it can be trusted. An untrusted directory
    /// is [`FsError::Untrusted`].
    pub(crate) fn ensure(&self) -> Result<(), FsError> {
        fsutil::ensure_dir(&self.path, 0o700)?;
        fsutil::check_dir(&self.path, DirRule::Private).map(|_| ())
    }

    /// Take the exclusive lock, waiting up to [`LOCK_WAIT`] for the hook
    /// that holds it. Held until the returned value is dropped (or the
    /// process exits).
    pub fn lock(&self) -> Result<Lock, FsError> {
        Lock::exclusive(&self.path.join(LOCK_FILE), LOCK_WAIT)
    }

    fn state_path(&self, interface: &str, vhid: Vhid) -> PathBuf {
        // The interface name was checked ([0-9A-Za-z._-], no '/'), and the
        // "<vhid>@" prefix keeps "." and ".." from naming a directory.
        self.path.join(VhidRef::new(vhid, interface).to_string())
    }

    /// The last state recorded for `vhid@interface`. Missing or unusable
    /// (a link, junk) means unknown (`None`); it is never fatal, as the
    /// hook must still run. The content is never quoted.
    pub fn read(&self, interface: &str, vhid: Vhid) -> Option<CarpState> {
        let path = self.state_path(interface, vhid);
        match fsutil::read_own(&path, STATE_MAX) {
            Ok(bytes) => {
                // The state's own parser (model::CarpState), not devd's: this
                // file is carpctl's, not a devd record.
                let state = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|t| t.trim().parse::<CarpState>().ok());
                if state.is_none() {
                    tracing::warn!(
                        "{}: ignoring it: it does not hold a state (MASTER, BACKUP or INIT)",
                        path.display()
                    );
                }
                state
            }
            Err(e) if e.is_not_found() => None,
            Err(e) => {
                tracing::warn!("{e}: ignoring it");
                None
            }
        }
    }

    /// Record the state of `vhid@interface`, replacing the file atomically
    /// ([`fsutil::write_atomic`]).
    pub fn write(&self, interface: &str, vhid: Vhid, state: CarpState) -> Result<(), FsError> {
        let path = self.state_path(interface, vhid);
        let text = format!("{state}\n");
        fsutil::write_atomic(&path, text.as_bytes(), 0o600, Durability::Durable)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::{PermissionsExt, symlink};

    use super::*;

    #[test]
    fn the_hook_dir_is_a_subdirectory_of_the_cluster_state_dir() {
        assert_eq!(
            Path::new(DEFAULT_HOOK_DIR).parent(),
            Some(Path::new(crate::config::DEFAULT_CLUSTER_STATE_DIR))
        );
        assert_eq!(DEFAULT_HOOK_DIR, "/var/db/carpctl/hooks");
    }

    #[test]
    fn the_state_dir_remembers_and_tolerates_junk() {
        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::new(dir.path().join("a/b/hooks"));
        sd.ensure().unwrap();
        let mode = fs::metadata(sd.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let one = Vhid::new(1).unwrap();
        assert_eq!(sd.read("vlan0.100", one), None);
        sd.write("vlan0.100", one, CarpState::Master).unwrap();
        assert_eq!(sd.read("vlan0.100", one), Some(CarpState::Master));
        assert_eq!(
            fs::read_to_string(sd.path().join("1@vlan0.100")).unwrap(),
            "MASTER\n"
        );
        sd.write("vlan0.100", one, CarpState::Backup).unwrap();
        assert_eq!(sd.read("vlan0.100", one), Some(CarpState::Backup));
        fs::write(sd.path().join("1@em0"), "banana\n").unwrap();
        assert_eq!(sd.read("em0", one), None);
        // Read with CarpState's FromStr, which ignores case (as `carpctl
        // hook`'s TYPE argument does).
        fs::write(sd.path().join("1@em0"), "backup\n").unwrap();
        assert_eq!(sd.read("em0", one), Some(CarpState::Backup));
        // The lock can be taken, released, and taken again.
        let l = sd.lock().unwrap();
        drop(l);
        let _l = sd.lock().unwrap();
    }

    #[test]
    fn state_dir_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        fs::write(&file, "x").unwrap();
        let sd = StateDir::new(file.join("hooks"));
        let e = sd.ensure().unwrap_err().to_string();
        assert!(e.contains(&file.display().to_string()), "{e}");
        assert!(e.contains("Not a directory"), "{e}");
        let e = sd.lock().unwrap_err().to_string();
        assert!(e.contains(".lock"), "{e}");
    }

    #[test]
    fn the_lock_excludes_another_holder() {
        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::new(dir.path());
        let held = sd.lock().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let sd2 = sd.clone();
        let t = std::thread::spawn(move || {
            let _l = sd2.lock().unwrap();
            tx.send(()).unwrap();
        });
        // flock(2) locks belong to the open file description, so a second
        // open in the same process waits like another process would.
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        drop(held);
        rx.recv_timeout(Duration::from_secs(5))
            .expect("lock taken after release");
        t.join().unwrap();
    }

    #[test]
    fn state_files_are_never_read_or_written_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::new(dir.path().join("hooks"));
        sd.ensure().unwrap();
        let key = dir.path().join("mail1.key");
        fs::write(&key, "hunter2\n").unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious\n").unwrap();
        let one = Vhid::new(1).unwrap();
        let two = Vhid::new(2).unwrap();
        symlink(&key, sd.path().join("2@em0")).unwrap();
        symlink(&victim, sd.path().join("1@em0")).unwrap();
        symlink(&victim, sd.path().join(".1@em0.tmp")).unwrap();
        // A link is unknown, not followed (and its target never quoted).
        assert_eq!(sd.read("em0", two), None);
        sd.write("em0", one, CarpState::Master).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
        assert_eq!(sd.read("em0", one), Some(CarpState::Master));
        assert!(
            fs::symlink_metadata(sd.path().join("1@em0"))
                .unwrap()
                .is_file()
        );
    }

    #[test]
    fn a_directory_others_can_write_in_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("try");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        let e = StateDir::new(&open).ensure().unwrap_err();
        assert!(e.is_untrusted(), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("mode 0777") && msg.contains("chmod go-w"),
            "{msg}"
        );
        // Sticky is no excuse for carpctl's own directory.
        fs::set_permissions(&open, fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(StateDir::new(&open).ensure().unwrap_err().is_untrusted());
        // A directory below an open one is no better.
        let below = open.join("hooks");
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        let msg = StateDir::new(&below).ensure().unwrap_err().to_string();
        assert!(msg.contains(&open.display().to_string()), "{msg}");
    }
}
