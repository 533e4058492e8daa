//! `carpctl lint`: check carpctl cluster files and the FreeBSD files that
//! configure carp(4) by hand: rc.conf, loader.conf, sysctl.conf and
//! devd.conf.
//!
//! Each finding has a stable code ([`codes`]), a severity, the file, line
//! and column it is about, and a message that says what to do. The output
//! is `file:line:col: severity[code]: message`, or with `--json` a list of
//! `{"file", "line", "column", "severity", "code", "message"}`.
//!
//! The module is pure: [`lint`] takes the files' text; [`read_inputs`]
//! reads them. Layers:
//!
//! * [`sh`] reads sh assignments with the position of every character;
//! * [`ifconfig`] reads ifconfig(8) arguments (carp keywords, addresses);
//! * [`rcconf`] knows how rc.d turns rc.conf into ifconfig calls;
//! * [`files`] reads loader.conf, sysctl.conf and devd.conf;
//! * [`cluster`] groups files into nodes and checks across them.
//!
//! Passwords never appear in a message: they are compared, not shown.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use zeroize::Zeroize;

pub mod cluster;
pub mod codes;
pub mod files;
pub mod ifconfig;
pub mod rcconf;
pub mod sh;

pub use codes::{Code, Severity};

use crate::config::{self, Pos};
use crate::fsutil;
use crate::text;
use cluster::Analysis;

/// A finding inside one file, before it is tied to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub code: Code,
    pub pos: Pos,
    pub message: String,
}

impl Issue {
    pub fn new(code: Code, pos: Pos, message: String) -> Self {
        Issue { code, pos, message }
    }
}

/// One finding of `carpctl lint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub code: Code,
    pub message: String,
}

impl Finding {
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The message may quote the file's text (a value, a regex); both
        // it and the file name are escaped (crate::text).
        write!(
            f,
            "{}:{}:{}: {}[{}]: {}",
            text::escape(&self.file.to_string_lossy()),
            self.line,
            self.column,
            self.severity(),
            self.code,
            text::escape(&self.message)
        )
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry(
            "file",
            &text::escape(&self.file.to_string_lossy()).to_string(),
        )?;
        m.serialize_entry("line", &self.line)?;
        m.serialize_entry("column", &self.column)?;
        m.serialize_entry("severity", &self.severity())?;
        m.serialize_entry("code", &self.code)?;
        m.serialize_entry("message", &text::escape(&self.message).to_string())?;
        m.end()
    }
}

/// The kinds of file lint reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A carpctl cluster file (carpctl.toml(5)).
    Cluster,
    RcConf,
    LoaderConf,
    SysctlConf,
    DevdConf,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Cluster => "cluster file",
            FileKind::RcConf => "rc.conf",
            FileKind::LoaderConf => "loader.conf",
            FileKind::SysctlConf => "sysctl.conf",
            FileKind::DevdConf => "devd.conf",
        }
    }
}

/// What kind of file this is: by name first (`*.toml`, `rc.conf*`,
/// `loader.conf*`, `sysctl.conf*`, `devd.conf` and `*.conf` in a `devd`
/// directory, files in `rc.conf.d`), else by content.
pub fn kind_of(path: &Path, text: &str) -> Option<FileKind> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".toml") {
        return Some(FileKind::Cluster);
    }
    if name.contains("devd.conf") || (parent == "devd" && name.ends_with(".conf")) {
        return Some(FileKind::DevdConf);
    }
    if name.contains("rc.conf") || parent == "rc.conf.d" {
        return Some(FileKind::RcConf);
    }
    if name.contains("loader.conf") {
        return Some(FileKind::LoaderConf);
    }
    if name.contains("sysctl.conf") {
        return Some(FileKind::SysctlConf);
    }
    by_content(text)
}

fn by_content(text: &str) -> Option<FileKind> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if lines.is_empty() {
        return None;
    }
    let any = |f: &dyn Fn(&str) -> bool| lines.iter().any(|l| f(l));
    if any(&|l| l.starts_with("[cluster]") || l.starts_with("[[node]]") || l.starts_with("[[vip]]"))
    {
        return Some(FileKind::Cluster);
    }
    if any(&|l| {
        ["notify ", "attach ", "detach ", "nomatch ", "options "]
            .iter()
            .any(|k| l.starts_with(k))
            && l.contains('{')
    }) || any(&|l| l.starts_with("match \""))
    {
        return Some(FileKind::DevdConf);
    }
    if any(&|l| {
        l.starts_with("ifconfig_")
            || l.starts_with("cloned_interfaces=")
            || l.starts_with("hostname=")
    }) {
        return Some(FileKind::RcConf);
    }
    if any(&|l| l.contains("_load=")) {
        return Some(FileKind::LoaderConf);
    }
    let dotted = |l: &str| {
        l.split_once('=').is_some_and(|(n, _)| {
            n.contains('.') && !n.contains(char::is_whitespace) && !n.contains('"')
        })
    };
    if lines.iter().all(|l| dotted(l)) {
        return Some(FileKind::SysctlConf);
    }
    None
}

/// One file to lint: its path (as given, for messages), its text or why it
/// could not be read, and its permission bits (for cluster files holding
/// passwords). The text is zeroed when the input is dropped: rc.conf and
/// cluster files hold passwords.
#[derive(Debug)]
pub struct Input {
    pub path: PathBuf,
    pub content: Result<String, String>,
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
            content: Ok(text.into()),
            mode: None,
            untrusted: None,
        }
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        if let Ok(s) = &mut self.content {
            s.zeroize();
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
fn read_one(p: &Path) -> (Result<String, String>, Option<u32>) {
    let opened = match fsutil::read_with_mode(p, MAX_FILE) {
        Ok(o) => o,
        Err(e) => return (Err(e.reason()), None),
    };
    let mode = Some(opened.mode);
    match String::from_utf8(opened.bytes) {
        Ok(s) => (Ok(s), mode),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let mut b = e.into_bytes();
            b.zeroize();
            (
                Err(format!("is not text (invalid UTF-8 at byte {at})")),
                mode,
            )
        }
    }
}

/// Options of a lint run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Check the files as one cluster even when they share no vhid.
    pub cluster: bool,
}

/// Lint `inputs`: each file on its own, then the files together. The
/// findings come in the order of the inputs, then by line and column.
pub fn lint(inputs: &[Input], opts: &Options) -> Vec<Finding> {
    let mut per_file: Vec<Vec<Issue>> = Vec::with_capacity(inputs.len());
    let mut analyses: Vec<Analysis> = Vec::with_capacity(inputs.len());
    let mut extra: Vec<Finding> = Vec::new();
    for input in inputs {
        let mut issues = Vec::new();
        let analysis = match &input.content {
            Err(why) => {
                issues.push(Issue::new(
                    Code::Unreadable,
                    Pos { line: 1, column: 1 },
                    format!("{}: {why}", input.path.display()),
                ));
                Analysis::Other
            }
            Ok(text) => match kind_of(&input.path, text) {
                None => {
                    issues.push(Issue::new(
                        Code::UnknownKind,
                        Pos { line: 1, column: 1 },
                        "cannot tell what kind of file this is: name it like rc.conf, \
                         loader.conf, sysctl.conf, devd.conf (or *.conf in a devd directory), \
                         or *.toml for a cluster file"
                            .to_string(),
                    ));
                    Analysis::Other
                }
                Some(FileKind::RcConf) => {
                    let mut rc = rcconf::analyze(text);
                    issues.append(&mut rc.issues);
                    Analysis::Rc(Box::new(rc))
                }
                Some(FileKind::LoaderConf) => {
                    let mut l = files::loader(text);
                    issues.append(&mut l.issues);
                    Analysis::Loader(l)
                }
                Some(FileKind::SysctlConf) => {
                    let mut s = files::sysctl(text);
                    issues.append(&mut s.issues);
                    Analysis::Sysctl(s)
                }
                Some(FileKind::DevdConf) => {
                    issues.extend(files::devd(text));
                    Analysis::Other
                }
                Some(FileKind::Cluster) => {
                    extra.extend(cluster_file(input, text));
                    Analysis::Other
                }
            },
        };
        per_file.push(issues);
        analyses.push(analysis);
    }
    let paths: Vec<&Path> = inputs.iter().map(|i| i.path.as_path()).collect();
    for (f, issue) in cluster::check(&paths, &analyses, opts.cluster) {
        if let Some(v) = per_file.get_mut(f) {
            v.push(issue);
        }
    }
    let mut out: Vec<(usize, Finding)> = Vec::new();
    for (f, issues) in per_file.into_iter().enumerate() {
        let path = inputs.get(f).map(|i| i.path.clone()).unwrap_or_default();
        for i in issues {
            out.push((
                f,
                Finding {
                    file: path.clone(),
                    line: i.pos.line,
                    column: i.pos.column,
                    code: i.code,
                    message: i.message,
                },
            ));
        }
    }
    // Cluster file findings may be about another file (a password file):
    // keep them with the cluster file's position in the order.
    for e in extra {
        let f = inputs
            .iter()
            .position(|i| i.path == e.file)
            .unwrap_or(inputs.len());
        out.push((f, e));
    }
    out.sort_by(|(fa, a), (fb, b)| {
        (fa, a.line, a.column, a.code).cmp(&(fb, b.line, b.column, b.code))
    });
    out.dedup_by(|(_, a), (_, b)| a == b);
    out.into_iter().map(|(_, f)| f).collect()
}

/// A cluster file, through the cluster file's own validation
/// ([`config::parse`]), its key files ([`config::check_keys`]) and the
/// trust `apply` requires of it; the errors and warnings become
/// CARP080/CARP081.
fn cluster_file(input: &Input, text: &str) -> Vec<Finding> {
    let path = input.path.as_path();
    let mut diags = match config::parse(text, path, input.mode) {
        Ok(cfg) => {
            let mut d = cfg.warnings.clone();
            d.extend(config::check_keys(&cfg));
            d
        }
        Err(diags) => diags,
    };
    if let Some(why) = &input.untrusted {
        diags.push(
            config::Diagnostic::error(format!("carpctl would refuse to use it: {why}"))
                .in_file(path),
        );
    }
    diags
        .into_iter()
        .map(|d| {
            let pos = d.pos.unwrap_or(Pos { line: 1, column: 1 });
            Finding {
                file: d.file.clone().unwrap_or_else(|| path.to_path_buf()),
                line: pos.line,
                column: pos.column,
                code: if d.is_error() {
                    Code::ClusterFileError
                } else {
                    Code::ClusterFileWarning
                },
                message: d.message,
            }
        })
        .collect()
}

/// Whether the findings make `lint` fail: any error, or with `strict` any
/// warning.
pub fn failed(findings: &[Finding], strict: bool) -> bool {
    findings.iter().any(|f| match f.severity() {
        Severity::Error => true,
        Severity::Warning => strict,
        Severity::Info => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name_and_content() {
        let k = |p: &str, t: &str| kind_of(Path::new(p), t);
        assert_eq!(k("/etc/rc.conf", ""), Some(FileKind::RcConf));
        assert_eq!(k("rc.conf.local", ""), Some(FileKind::RcConf));
        assert_eq!(k("seed-a.rc.conf", ""), Some(FileKind::RcConf));
        assert_eq!(k("/etc/rc.conf.d/netif", ""), Some(FileKind::RcConf));
        assert_eq!(k("/boot/loader.conf", ""), Some(FileKind::LoaderConf));
        assert_eq!(k("/etc/sysctl.conf", ""), Some(FileKind::SysctlConf));
        assert_eq!(k("/etc/devd.conf", ""), Some(FileKind::DevdConf));
        assert_eq!(
            k("/usr/local/etc/devd/carp.conf", ""),
            Some(FileKind::DevdConf)
        );
        assert_eq!(k("carpctl.toml", ""), Some(FileKind::Cluster));
        assert_eq!(k("x", "ifconfig_em0=\"DHCP\"\n"), Some(FileKind::RcConf));
        assert_eq!(k("x", "carp_load=\"YES\"\n"), Some(FileKind::LoaderConf));
        assert_eq!(
            k("x", "# c\nnet.inet.carp.preempt=1\n"),
            Some(FileKind::SysctlConf)
        );
        assert_eq!(k("x", "notify 0 {\n};\n"), Some(FileKind::DevdConf));
        assert_eq!(k("x", "[[vip]]\n"), Some(FileKind::Cluster));
        assert_eq!(k("x", "hello world\n"), None);
        assert_eq!(k("x", ""), None);
    }

    #[test]
    fn finding_text_and_json_forms() {
        let f = Finding {
            file: PathBuf::from("rc.conf"),
            line: 3,
            column: 17,
            code: Code::MissingValue,
            message: "m".into(),
        };
        assert_eq!(f.to_string(), "rc.conf:3:17: error[CARP010]: m");
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"file":"rc.conf","line":3,"column":17,"severity":"error","code":"CARP010","message":"m"}"#
        );
    }

    #[test]
    fn exit_rule() {
        let f = |code| Finding {
            file: PathBuf::new(),
            line: 1,
            column: 1,
            code,
            message: String::new(),
        };
        assert!(!failed(&[], true));
        assert!(!failed(&[f(Code::NotEvaluated)], true));
        assert!(!failed(&[f(Code::NoPassword)], false));
        assert!(failed(&[f(Code::NoPassword)], true));
        assert!(failed(&[f(Code::MissingValue)], false));
    }

    #[test]
    fn unreadable_and_unknown_files_are_findings() {
        let inputs = vec![
            Input {
                path: "gone".into(),
                content: Err("cannot read: No such file".into()),
                mode: None,
                untrusted: None,
            },
            Input::new("notes.txt", "hello\n"),
        ];
        let out = lint(&inputs, &Options::default());
        let codes: Vec<Code> = out.iter().map(|f| f.code).collect();
        assert_eq!(codes, [Code::Unreadable, Code::UnknownKind]);
        assert!(out[0].message.contains("No such file"));
    }
}
