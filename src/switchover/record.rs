//! The switchover record: `switchover.json` in `state_dir`, next to the
//! ledger ([`crate::ledger`]), one entry per vhid this node has raised.
//!
//! It is written *before* the kernel change, so a `kill -9` in between
//! leaves a record that `status` shows and `--back` ends; it is removed
//! after `--back` has restored the planned skew. Each entry carries the
//! boot it was made in (the ledger's [`BootStamp`]): a temporary switchover
//! ends with a reboot (the kernel forgot the raised skew, and `apply` at
//! boot configures the planned one), so an entry without `keep` from an
//! earlier boot is dropped; a kept one lasts until `--back`.
//!
//! The file is read as the ledger's files are: never through a link, at
//! most [`FILE_MAX`] bytes, from a trusted directory; a value carpctl never
//! writes (a vhid of 0, an advskew of 240, an unknown field) is refused,
//! not acted on. It is written with [`fsutil::write_atomic`].

use std::fs;
use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::fsutil::{self, DirRule, Durability, FsError};
use crate::kernel::{Kernel, KernelError};
use crate::ledger::{BootStamp, ledger_dir, now_secs};
use crate::model::{AdvSkew, CARP_MAXSKEW, IfName, Vhid, VhidRef};

/// The file's name in `state_dir`.
pub(crate) const RECORD_FILE: &str = "switchover.json";
/// The largest file read: carpctl writes about 300 bytes per vhid.
pub(crate) const FILE_MAX: u64 = 256 * 1024;
/// The format.
const VERSION: u32 = 1;

/// One switchover this node took part in by raising its skew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Record {
    pub vip: String,
    pub vhid: Vhid,
    pub interface: IfName,
    /// The node the VIP moved to.
    pub target: String,
    /// The skew this node set for the vhid.
    pub advskew: AdvSkew,
    /// Its planned skew, which `--back` restores.
    pub planned: AdvSkew,
    /// Kept across `apply` and reboots until `--back`.
    pub keep: bool,
    pub boot: BootStamp,
    /// When it was recorded, seconds since the Epoch.
    pub since: i64,
}

impl Record {
    /// `vhid@ifname`.
    pub(crate) fn vhid_ref(&self) -> VhidRef<&str> {
        VhidRef::new(self.vhid, self.interface.as_str())
    }

    /// The VIP of `desired` this record is about (same name, vhid and
    /// interface), for `apply` and `status` to overlay the raised skew.
    pub(crate) fn find_in<'d, K>(
        &self,
        desired: &'d mut crate::config::Desired<K>,
    ) -> Option<&'d mut crate::config::DesiredVip<K>> {
        desired
            .vips
            .iter_mut()
            .find(|d| d.vhid == self.vhid && d.interface == self.interface && d.name == self.vip)
    }

    fn is(&self, vhid: Vhid, interface: &str) -> bool {
        self.vhid == vhid && self.interface.as_str() == interface
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordFile {
    version: u32,
    switchovers: Vec<Record>,
}

/// What can go wrong with the record.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordError {
    /// Untrusted directory, a link, too large, unreadable.
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error(
        "{}: {detail}; carpctl did not write it as it is and will not act on it: restore it, \
         or remove it and run `carpctl apply` (which configures the planned skews)",
        path.display()
    )]
    Invalid { path: PathBuf, detail: String },
    #[error("{}: cannot remove: {source}", path.display())]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read kern.boottime")]
    Kernel(#[source] KernelError),
}

/// The records of one host.
#[derive(Debug, Clone)]
pub(crate) struct Records {
    dir: PathBuf,
}

/// The entries in force, and those a reboot ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Current {
    pub live: Vec<Record>,
    /// Temporary entries from an earlier boot: dropped.
    pub stale: Vec<Record>,
}

impl Current {
    /// The live entry of `vhid@interface`.
    pub(crate) fn of(&self, vhid: Vhid, interface: &str) -> Option<&Record> {
        self.live.iter().find(|r| r.is(vhid, interface))
    }
}

impl Records {
    /// The records of `kernel`'s host, in `state_dir` ([`ledger_dir`]).
    pub(crate) fn for_host(kernel: &dyn Kernel, state_dir: &std::path::Path) -> Self {
        Records {
            dir: ledger_dir(kernel, state_dir),
        }
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.join(RECORD_FILE)
    }

    /// Every entry as stored (none without the file).
    pub(crate) fn read(&self) -> Result<Vec<Record>, RecordError> {
        if self.dir.exists() {
            fsutil::check_dir(&self.dir, DirRule::Private)?;
        }
        let path = self.path();
        let bytes = match fsutil::read_own(&path, FILE_MAX) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let invalid = |detail: String| RecordError::Invalid {
            path: path.clone(),
            detail,
        };
        let file: RecordFile =
            serde_json::from_slice(&bytes).map_err(|e| invalid(format!("does not parse: {e}")))?;
        if file.version != VERSION {
            return Err(invalid(format!(
                "format {} is not supported (this carpctl reads {VERSION})",
                file.version
            )));
        }
        for (i, r) in file.switchovers.iter().enumerate() {
            if let Some(why) = problem(r) {
                return Err(invalid(format!("switchovers[{i}]: {why}")));
            }
            if file.switchovers[..i]
                .iter()
                .any(|o| o.is(r.vhid, r.interface.as_str()))
            {
                return Err(invalid(format!(
                    "switchovers[{i}]: vhid {} is recorded twice",
                    r.vhid_ref()
                )));
            }
        }
        Ok(file.switchovers)
    }

    /// The entries, split into those in force and the temporary ones a
    /// reboot since ended.
    pub(crate) fn current(&self, kernel: &mut dyn Kernel) -> Result<Current, RecordError> {
        let all = self.read()?;
        if all.is_empty() {
            return Ok(Current::default());
        }
        let boot_time = kernel.boot_time().map_err(RecordError::Kernel)?;
        let now = now_secs();
        let (live, stale) = all
            .into_iter()
            .partition(|r| r.keep || r.boot.same_boot(boot_time, now));
        Ok(Current { live, stale })
    }

    /// Add `r`, replacing an entry of the same vhid.
    pub(crate) fn put(&self, r: Record) -> Result<(), RecordError> {
        let mut all = self.read()?;
        all.retain(|o| !o.is(r.vhid, r.interface.as_str()));
        all.push(r);
        self.write(all)
    }

    /// Remove the entries of the vhids `which` (`vhid`, `interface`);
    /// returns those removed.
    pub(crate) fn remove(&self, which: &[(Vhid, &str)]) -> Result<Vec<Record>, RecordError> {
        let all = self.read()?;
        let (gone, kept): (Vec<Record>, Vec<Record>) = all
            .into_iter()
            .partition(|r| which.iter().any(|(v, i)| r.is(*v, i)));
        if !gone.is_empty() {
            self.write(kept)?;
        }
        Ok(gone)
    }

    /// Replace the file with `all` (atomically, flushed to disk: it must
    /// outlive a crash right after the kernel change); no entry, no file.
    fn write(&self, all: Vec<Record>) -> Result<(), RecordError> {
        let path = self.path();
        if all.is_empty() {
            return match fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(RecordError::Remove { path, source }),
            };
        }
        fsutil::ensure_dir(&self.dir, 0o755)?;
        fsutil::check_dir(&self.dir, DirRule::Private)?;
        let file = RecordFile {
            version: VERSION,
            switchovers: all,
        };
        let mut bytes = serde_json::to_vec_pretty(&file).map_err(|e| RecordError::Invalid {
            path: path.clone(),
            detail: format!("cannot encode: {e}"),
        })?;
        bytes.push(b'\n');
        fsutil::write_atomic(&path, &bytes, 0o644, Durability::Durable)?;
        Ok(())
    }
}

/// What in `r` carpctl never writes.
fn problem(r: &Record) -> Option<String> {
    let name_ok =
        |s: &str, max: usize| !s.is_empty() && s.len() <= max && !s.chars().any(char::is_control);
    if !name_ok(&r.vip, crate::config::NAME_MAX) {
        return Some(format!(
            "vip \"{}\" is not a VIP name",
            crate::text::escape(&r.vip)
        ));
    }
    if !name_ok(&r.target, crate::config::NODE_NAME_MAX) {
        return Some(format!(
            "target \"{}\" is not a node name",
            crate::text::escape(&r.target)
        ));
    }
    if r.advskew.get() >= CARP_MAXSKEW || r.planned.get() >= r.advskew.get() {
        return Some(format!(
            "advskew {} with planned {}: carpctl raises a planned skew to below {CARP_MAXSKEW}",
            r.advskew.get(),
            r.planned.get()
        ));
    }
    None
}

/// A new entry for `vhid@interface` of `vip`, made now.
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_record(
    kernel: &mut dyn Kernel,
    vip: &str,
    vhid: Vhid,
    interface: &IfName,
    target: &str,
    advskew: AdvSkew,
    planned: AdvSkew,
    keep: bool,
) -> Result<Record, RecordError> {
    let boot_time = kernel.boot_time().map_err(RecordError::Kernel)?;
    let now = now_secs();
    Ok(Record {
        vip: vip.to_string(),
        vhid,
        interface: interface.clone(),
        target: target.to_string(),
        advskew,
        planned,
        keep,
        boot: BootStamp {
            boot_time,
            written_at: now,
        },
        since: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(vhid: i64, keep: bool, boot_time: i64) -> Record {
        Record {
            vip: "web".into(),
            vhid: Vhid::new(vhid).unwrap(),
            interface: IfName::new("em0").unwrap(),
            target: "b".into(),
            advskew: AdvSkew::new(21).unwrap(),
            planned: AdvSkew::new(0).unwrap(),
            keep,
            boot: BootStamp {
                boot_time,
                written_at: boot_time + 100,
            },
            since: boot_time + 100,
        }
    }

    fn records() -> (tempfile::TempDir, Records) {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("state");
        (d, Records { dir })
    }

    #[test]
    fn put_replaces_the_same_vhid_and_remove_takes_it_back() {
        let (_d, r) = records();
        assert_eq!(r.read().unwrap(), []);
        r.put(rec(1, false, 1000)).unwrap();
        r.put(rec(2, true, 1000)).unwrap();
        r.put(rec(1, true, 1000)).unwrap();
        let all = r.read().unwrap();
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(|x| x.keep), "{all:?}");
        let em0 = "em0";
        let gone = r.remove(&[(Vhid::new(1).unwrap(), em0)]).unwrap();
        assert_eq!(gone.len(), 1);
        assert_eq!(r.read().unwrap().len(), 1);
        r.remove(&[(Vhid::new(2).unwrap(), em0)]).unwrap();
        assert!(!r.path().exists(), "no entry, no file");
    }

    #[test]
    fn values_carpctl_never_writes_are_refused_naming_the_field() {
        let (_d, r) = records();
        r.put(rec(1, false, 1000)).unwrap();
        let good = fs::read_to_string(r.path()).unwrap();
        for (from, to, want) in [
            (
                "\"advskew\": 21",
                "\"advskew\": 240",
                "switchovers[0]: advskew 240",
            ),
            ("\"vhid\": 1", "\"vhid\": 0", "does not parse"),
            (
                "\"interface\": \"em0\"",
                "\"interface\": \"e/m\"",
                "does not parse",
            ),
            ("\"version\": 1", "\"version\": 7", "format 7"),
            (
                "\"target\": \"b\"",
                "\"target\": \"\"",
                "switchovers[0]: target",
            ),
            (
                "\"keep\": false",
                "\"keep\": false, \"x\": 1",
                "unknown field",
            ),
        ] {
            assert!(good.contains(from), "{good}");
            fs::write(r.path(), good.replace(from, to)).unwrap();
            let e = r.read().unwrap_err().to_string();
            assert!(e.contains(want) && e.contains(RECORD_FILE), "{to}: {e}");
        }
        // Twice the same vhid.
        let twice = good.replace("\"switchovers\": [", "\"switchovers\": [XX");
        let one = &good[good.find('{').unwrap() + 1..];
        let entry = &one[one.find('{').unwrap()..one.rfind(']').unwrap()];
        fs::write(
            r.path(),
            twice.replace("XX", &format!("{},", entry.trim_end())),
        )
        .unwrap();
        let e = r.read().unwrap_err().to_string();
        assert!(e.contains("recorded twice"), "{e}");
        // Too large.
        fs::write(r.path(), vec![b' '; FILE_MAX as usize + 1]).unwrap();
        assert!(r.read().is_err());
    }
}
