//! Loading the cluster file safely: special files, size, owner and mode of
//! the file and its directories, and key files read only when needed.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use super::testutil::*;
use crate::config::*;
use crate::fsutil::{INPUT_MAX, trust::euid};

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn chown_nobody(p: &Path) {
    nix::unistd::chown(p, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
}

/// The seed with its key files, mail2's broken by `break_it`.
fn seed_with_broken_mail2(break_it: impl FnOnce(&Path)) -> Fixture {
    let f = seed();
    break_it(&f.dir.path().join("carpctl.d/mail2.key"));
    f
}

#[test]
fn a_fifo_or_a_device_as_cluster_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("carpctl.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let start = Instant::now();
    let e = strings(&load(&fifo).unwrap_err());
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(
        e,
        [format!("{}: is a FIFO, not a regular file", fifo.display())]
    );
    let e = strings(&load(Path::new("/dev/zero")).unwrap_err());
    assert_eq!(e, ["/dev/zero: is a character device, not a regular file"]);
}

#[test]
fn a_cluster_file_over_the_cap_is_refused() {
    let f = Fixture::new("", 0o600);
    let big = vec![b'#'; usize::try_from(INPUT_MAX).unwrap() + 1];
    fs::write(&f.path, big).unwrap();
    let e = strings(&f.load().unwrap_err());
    assert_eq!(
        e,
        [format!(
            "{}: is larger than 1048576 bytes",
            f.path.display()
        )]
    );
    // At the cap exactly, it is read (and judged on its content).
    fs::write(&f.path, vec![b'#'; usize::try_from(INPUT_MAX).unwrap()]).unwrap();
    let e = strings(&f.load().unwrap_err());
    assert!(e.iter().all(|e| !e.contains("larger")), "{e:?}");
    assert!(e.iter().any(|e| e.contains("[[node]]")), "{e:?}");
}

#[test]
fn a_cluster_file_others_can_write_is_refused() {
    let f = seed();
    chmod(&f.path, 0o666);
    let e = strings(&f.load().unwrap_err());
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("is writable by group or others (mode 0666)"),
        "{e:?}"
    );
    assert!(
        e[0].ends_with(&format!("fix: chmod go-w {}", f.path.display())),
        "{e:?}"
    );
    chmod(&f.path, 0o620);
    assert!(f.load().is_err(), "group-writable");
    chmod(&f.path, 0o644);
    assert!(f.load().is_ok());
}

#[test]
fn a_cluster_file_in_a_directory_others_can_write_in_is_refused() {
    let f = seed();
    chmod(f.dir.path(), 0o777);
    let e = strings(&f.load().unwrap_err());
    assert!(
        e[0].contains(&format!(
            "the directory {} is writable",
            f.dir.path().display()
        )),
        "{e:?}"
    );
    // Sticky (like /tmp): nobody else can replace the file.
    chmod(f.dir.path(), 0o1777);
    assert!(f.load().is_ok());
    chmod(f.dir.path(), 0o700);
}

#[test]
fn a_cluster_file_of_another_user_is_refused() {
    if euid() != 0 {
        return; // chown needs root; CI runs as root
    }
    let f = seed();
    chown_nobody(&f.path);
    let e = strings(&f.load().unwrap_err());
    assert!(
        e[0].contains("is owned by nobody (uid 65534), not by root"),
        "{e:?}"
    );
    assert!(e[0].contains("fix: chown root"), "{e:?}");
}

#[test]
fn key_files_and_their_directories_must_be_trusted() {
    let f = seed_with_broken_mail2(|k| chmod(k.parent().unwrap(), 0o777));
    let e = f.errors();
    assert!(
        e.iter()
            .any(|e| e.contains("vip \"mail1\"") && e.contains("carpctl.d is writable")),
        "{e:?}"
    );
    if euid() == 0 {
        let f = seed_with_broken_mail2(chown_nobody);
        let e = f.errors();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains("vip \"mail2\"") && e[0].contains("is owned by nobody"),
            "{e:?}"
        );
    }
}

#[test]
fn key_files_are_read_only_when_needed() {
    for (what, break_it) in [
        (
            "missing",
            Box::new(|k: &Path| fs::remove_file(k).unwrap()) as Box<dyn Fn(&Path)>,
        ),
        (
            "a directory",
            Box::new(|k: &Path| {
                fs::remove_file(k).unwrap();
                fs::create_dir(k).unwrap();
            }),
        ),
        ("world-readable", Box::new(|k: &Path| chmod(k, 0o644))),
        ("empty", Box::new(|k: &Path| fs::write(k, "").unwrap())),
    ] {
        let f = seed_with_broken_mail2(break_it);
        // Loading reads no key file: every command that needs no key works.
        let mut cfg = f
            .load_only()
            .unwrap_or_else(|d| panic!("{what}: {:?}", strings(&d)));
        assert!(
            cfg.warnings.is_empty(),
            "{what}: {:?}",
            strings(&cfg.warnings)
        );
        assert!(
            matches!(cfg.vips[1].key, Some(KeySource::File(_))),
            "{what}"
        );
        // Reading mail1's key alone works; mail2's is an error at its
        // password_file, and nothing is changed by a failed read.
        cfg.read_keys(|v| v.name == "mail1").unwrap();
        assert!(cfg.vips[0].key.as_ref().unwrap().key().is_some());
        let e = strings(&cfg.read_keys(|_| true).unwrap_err());
        assert_eq!(e.len(), 1, "{what}: {e:?}");
        assert!(
            e[0].starts_with(&f.at("\"carpctl.d/mail2.key")),
            "{what}: {e:?}"
        );
        assert!(
            e[0].contains("vip \"mail2\": password_file"),
            "{what}: {e:?}"
        );
        assert!(
            matches!(cfg.vips[1].key, Some(KeySource::File(_))),
            "{what}"
        );
        // lint reports it, with the same message.
        let found = strings(&check_keys(&cfg));
        assert_eq!(found, e, "{what}");
    }
}

#[test]
fn an_inline_password_in_an_open_file_is_still_refused_at_load() {
    let f = Fixture::new(
        "[[node]]\nname = \"a\"\n[[vip]]\nname = \"v1\"\nvhid = 1\ninterface = \"em0\"\n\
         addresses = [\"192.0.2.1/32\"]\npassword = \"pw\"\n",
        0o644,
    );
    let e = strings(&f.load_only().unwrap_err());
    assert!(e.iter().any(|e| e.contains("is mode 0644")), "{e:?}");
}

#[test]
fn keys_never_reach_a_message_even_through_a_link() {
    // A password_file that is a link to another file is followed (the
    // operator named it), and its content is never quoted when invalid.
    let f = seed_with_broken_mail2(|k| {
        fs::write(k, "0123456789-hunter2-0123456789\n").unwrap();
    });
    let e = f.errors().join("\n");
    assert!(e.contains("is 29 bytes"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");
}
