//! Test fixtures: cluster files and key files with chosen modes in a
//! temporary directory, and interfaces as the kernel would report them.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::config::{Config, Diagnostic, load};
use crate::model::{IfAddress, Interface, Vhid};

/// An address with its prefix length, from its text.
pub(crate) fn net(s: &str) -> ipnet::IpNet {
    s.parse().expect("address/prefix")
}

/// The seed scenario exactly as shipped.
pub(crate) const SEED: &str = include_str!("../../../examples/seed.toml");

/// The seed's keys, as the demo would create them (with a newline, as
/// `openssl rand -hex 9 > file` writes them).
pub(crate) const SEED_KEY1: &[u8] = b"mail1-secret-0001\n";
pub(crate) const SEED_KEY2: &[u8] = b"mail2-secret-0002\n";

pub(crate) struct Fixture {
    pub(crate) dir: TempDir,
    pub(crate) path: PathBuf,
}

impl Fixture {
    /// `carpctl.toml` with `text`, chmod `mode`.
    pub(crate) fn new(text: &str, mode: u32) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("carpctl.toml");
        write_mode(&path, text.as_bytes(), mode);
        Fixture { dir, path }
    }

    /// A key file at `rel` (relative to the fixture directory), chmod `mode`.
    pub(crate) fn key(&self, rel: &str, content: &[u8], mode: u32) -> PathBuf {
        let p = self.dir.path().join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        write_mode(&p, content, mode);
        p
    }

    /// Load the file and read every key file, as `apply` on a node that
    /// takes part in every VIP does; the keys' warnings join the file's.
    pub(crate) fn load(&self) -> Result<Config, Vec<Diagnostic>> {
        let mut cfg = load(&self.path)?;
        let warnings = cfg.read_keys(|_| true)?;
        cfg.warnings.extend(warnings);
        crate::config::diag::sort(&mut cfg.warnings);
        Ok(cfg)
    }

    /// Load the file without reading a key file.
    pub(crate) fn load_only(&self) -> Result<Config, Vec<Diagnostic>> {
        load(&self.path)
    }

    /// The diagnostics of a file that must fail, as text.
    pub(crate) fn errors(&self) -> Vec<String> {
        match self.load() {
            Ok(cfg) => panic!(
                "expected errors, got a config with warnings {:?}",
                cfg.warnings
            ),
            Err(d) => d.iter().map(ToString::to_string).collect(),
        }
    }

    /// The warnings of a file that must load, as text.
    pub(crate) fn warnings(&self) -> Vec<String> {
        match self.load() {
            Ok(cfg) => cfg.warnings.iter().map(ToString::to_string).collect(),
            Err(d) => panic!("expected a config, got {:#?}", strings(&d)),
        }
    }

    /// `path:line:col: ` for the first occurrence of `needle` in the file,
    /// counted by hand (independent of the parser's line index).
    pub(crate) fn at(&self, needle: &str) -> String {
        let text = fs::read_to_string(&self.path).expect("read back");
        format!("{}:{}: ", self.path.display(), line_col(&text, needle))
    }
}

/// `line:col` (1-based) of the first occurrence of `needle`.
pub(crate) fn line_col(text: &str, needle: &str) -> String {
    for (i, line) in text.lines().enumerate() {
        if let Some(c) = line.find(needle) {
            return format!("{}:{}", i + 1, line[..c].chars().count() + 1);
        }
    }
    panic!("{needle:?} is not in the file");
}

/// The key of `cfg`'s VIP number `i`, read (panics when it is not).
pub(crate) fn key_bytes(cfg: &Config, i: usize) -> Vec<u8> {
    cfg.vips[i]
        .key
        .as_ref()
        .and_then(crate::config::KeySource::key)
        .expect("a key that was read")
        .as_bytes()
        .to_vec()
}

pub(crate) fn strings(d: &[Diagnostic]) -> Vec<String> {
    d.iter().map(ToString::to_string).collect()
}

fn write_mode(path: &Path, content: &[u8], mode: u32) {
    fs::write(path, content).expect("write");
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The seed file with its two key files, all 0600.
pub(crate) fn seed() -> Fixture {
    let f = Fixture::new(SEED, 0o600);
    f.key("carpctl.d/mail1.key", SEED_KEY1, 0o600);
    f.key("carpctl.d/mail2.key", SEED_KEY2, 0o600);
    f
}

/// An interface that is up, with its own (non-CARP) addresses.
pub(crate) fn iface(name: &str, addrs: &[&str]) -> Interface {
    Interface {
        name: name.to_string(),
        up: true,
        multicast: true,
        link_up: Some(true),
        addresses: addrs
            .iter()
            .map(|a| IfAddress {
                net: a.parse().expect("test address"),
                vhid: None,
            })
            .collect(),
    }
}

pub(crate) fn vhid(v: i64) -> Vhid {
    Vhid::new(v).expect("test vhid")
}

/// Two nodes and one VIP with an inline password; `extra` goes into the VIP.
pub(crate) fn one_vip(extra: &str) -> String {
    format!(
        "[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n\n\
         [[vip]]\nname = \"v1\"\nvhid = 1\ninterface = \"em0\"\n\
         addresses = [\"192.0.2.1/32\"]\npassword = \"pw\"\n{extra}"
    )
}

/// Exactly one of `errors` starts with `prefix` and contains `text`.
pub(crate) fn assert_one(errors: &[String], prefix: &str, text: &str) {
    let hits: Vec<&String> = errors
        .iter()
        .filter(|e| e.starts_with(prefix) && e.contains(text))
        .collect();
    assert_eq!(hits.len(), 1, "want one {prefix}...{text} in {errors:#?}");
}
