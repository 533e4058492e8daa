//! `carpctl lint`: check carpctl cluster files and the FreeBSD files that
//! configure carp(4) by hand: rc.conf, loader.conf, sysctl.conf and
//! devd.conf.
//!
//! Each finding has a stable code ([`codes`]), a severity, the file, line
//! and column it is about, and a message that says what to do. The output
//! is `file:line:col: severity[code]: message`, or with `--json` a
//! [`Report`]: the nodes the files were grouped into ([`Node`]) and a list
//! of `{"file", "line", "column", "severity", "code", "message"}`.
//!
//! The module is pure: [`lint`] takes the files' text; [`read_inputs`]
//! reads them. Layers:
//!
//! * [`crate::rcconf`] reads sh assignments and ifconfig(8) arguments
//!   into its own model and problem kinds; [`codes`] gives each kind its
//!   code;
//! * [`rcconf`] knows how rc.d turns rc.conf into ifconfig calls, and
//!   what is wrong with them;
//! * [`loader`], [`sysctl`] and [`devd`] read loader.conf, sysctl.conf
//!   and devd.conf;
//! * [`cluster`] groups files into nodes and checks across them.
//!
//! Passwords never appear in a message: they are compared, not shown.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

pub(crate) mod cluster;
pub mod codes;
pub mod devd;
mod input;
mod kind;
pub mod loader;
pub mod rcconf;
pub(crate) mod subnets;
pub mod sysctl;
mod target;

pub(crate) use cluster::{GroupedBy, NamedBy};
pub use codes::{Code, Severity};
pub use input::{Given, Input, MAX_DIR_FILES, MAX_FILE, read_args, read_inputs};
pub(crate) use kind::{FileKind, kind_of};
pub use target::Target;

use crate::config;
use crate::text;
use crate::textfile::Pos;
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

    /// A variable (rc.conf, loader.conf, sysctl.conf) `name` set again at
    /// `pos` after line `first_line`; `why` says which value counts.
    pub(crate) fn duplicate_assignment(name: &str, pos: Pos, first_line: usize, why: &str) -> Self {
        Issue::new(
            Code::DuplicateAssignment,
            pos,
            format!("{name} is set again here (first on line {first_line}){why}; keep one"),
        )
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

    /// A finding of `code` at 1:1 of no file, without a message: for the
    /// tests of rules that look only at codes (the exit rule, the summary).
    #[cfg(test)]
    pub(crate) fn of_code(code: Code) -> Self {
        Finding {
            file: PathBuf::new(),
            line: 1,
            column: 1,
            code,
            message: String::new(),
        }
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

/// Options of a lint run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Check the files as one cluster even when they share no vhid.
    pub cluster: bool,
    /// The FreeBSD release the files are for (`--freebsd`, default main).
    pub target: Target,
}

/// One node as lint grouped the files ([`cluster`]): its name, its files
/// and how both were decided. Name and files are escaped
/// ([`crate::text::escape`]): a hostname is the file's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub name: String,
    pub files: Vec<String>,
    pub(crate) grouped_by: GroupedBy,
    pub(crate) named_by: NamedBy,
}

impl fmt::Display for Node {
    /// `name: file, file (how grouped, how named)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({}, {})",
            self.name,
            self.files.join(", "),
            self.grouped_by.describe(),
            self.named_by.describe()
        )
    }
}

/// What [`lint_report`] found: the nodes it grouped the files into, and
/// the findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub nodes: Vec<Node>,
    pub findings: Vec<Finding>,
}

/// Lint `inputs`: each file on its own, then the files together. The
/// findings come in the order of the inputs, then by line and column.
pub fn lint(inputs: &[Input], opts: &Options) -> Vec<Finding> {
    lint_report(inputs, opts).findings
}

/// [`lint`], with the nodes the files were grouped into.
pub(crate) fn lint_report(inputs: &[Input], opts: &Options) -> Report {
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
                    let on_target = target::rc_conf(&mut rc, opts.target);
                    issues.append(&mut rc.issues);
                    issues.extend(on_target);
                    Analysis::RcConf(Box::new(rc))
                }
                Some(FileKind::LoaderConf) => {
                    let mut l = loader::loader(text);
                    issues.append(&mut l.issues);
                    issues.extend(target::loader_conf(&l, opts.target));
                    Analysis::Loader(l)
                }
                Some(FileKind::SysctlConf) => {
                    let mut s = sysctl::sysctl(text);
                    issues.append(&mut s.issues);
                    Analysis::Sysctl(s)
                }
                Some(FileKind::DevdConf) => {
                    issues.extend(devd::devd(text));
                    Analysis::Other
                }
                Some(FileKind::Cluster) => {
                    extra.extend(cluster_file(input, text, opts.target));
                    Analysis::Other
                }
            },
        };
        per_file.push(issues);
        analyses.push(analysis);
    }
    let paths: Vec<&Path> = inputs.iter().map(|i| i.path.as_path()).collect();
    let given: Vec<&Given> = inputs.iter().map(|i| &i.given).collect();
    let (nodes, across) = cluster::check(&paths, &given, &analyses, opts.cluster);
    for (f, issue) in across {
        if let Some(v) = per_file.get_mut(f) {
            v.push(issue);
        }
    }
    let nodes = nodes
        .into_iter()
        .map(|n| Node {
            name: text::escape(&n.name).to_string(),
            files: n
                .files
                .iter()
                .filter_map(|&f| paths.get(f))
                .map(|p| text::escape(&p.to_string_lossy()).to_string())
                .collect(),
            grouped_by: n.grouped_by,
            named_by: n.named_by,
        })
        .collect();
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
    Report {
        nodes,
        findings: out.into_iter().map(|(_, f)| f).collect(),
    }
}

/// A cluster file, through the cluster file's own validation
/// ([`config::parse`]), its key files ([`config::check_keys`]) and the
/// trust `apply` requires of it; the errors and warnings become
/// CARP080/CARP081; and what the target release lacks (CARP068).
fn cluster_file(input: &Input, text: &str, t: Target) -> Vec<Finding> {
    let path = input.path.as_path();
    let mut on_target = Vec::new();
    let mut diags = match config::parse(text, path, input.mode) {
        Ok(cfg) => {
            let mut d = cfg.warnings.clone();
            d.extend(config::check_keys(&cfg));
            on_target = target::cluster_file(&cfg, t);
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
        .chain(on_target)
        .collect()
}

/// Whether the findings make `lint` fail: any error, or with `strict` any
/// warning.
pub(crate) fn failed(findings: &[Finding], strict: bool) -> bool {
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
        let f = Finding::of_code;
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
                given: Given::File,
            },
            Input::new("notes.txt", "hello\n"),
        ];
        let out = lint(&inputs, &Options::default());
        let codes: Vec<Code> = out.iter().map(|f| f.code).collect();
        assert_eq!(codes, [Code::Unreadable, Code::UnknownKind]);
        assert!(out[0].message.contains("No such file"));
    }
}
