//! Diagnostics: one error or warning, located in the cluster file when it
//! comes from there.
//!
//! The text form is the one compilers and FreeBSD's own tools use, so that
//! editors can jump to it: `carpctl.toml:14:8: vip "mail1": vhid 300 is out
//! of range 1-255`; a warning says `warning:` after the position.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::text;
use crate::textfile::{Pos, ReadError};

/// How bad a diagnostic or a lint finding is, ordered from worst to
/// mildest: an error stops `apply` (and fails `lint`), a warning does not;
/// `Info` is for lint findings worth knowing, and the cluster file's own
/// validation never gives it. The one severity type of the crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One error or warning. Messages never contain a password or key bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file it is about (the cluster file or a password file).
    #[serde(serialize_with = "escaped_path")]
    pub file: Option<PathBuf>,
    /// Where in `file`, when the diagnostic comes from the file's text.
    #[serde(flatten)]
    pub pos: Option<Pos>,
    /// The key it is about, as a TOML path: `vip[1].vhid`, `cluster.advbase`.
    #[serde(serialize_with = "escaped_opt")]
    pub key: Option<String>,
    /// The message, starting with the entry it concerns (`vip "mail1": ...`).
    #[serde(serialize_with = "escaped")]
    pub message: String,
}

/// JSON gets the same escaped text as the text form: a JSON reader that
/// prints the message must not be handed control or bidi characters.
fn escaped<S: serde::Serializer>(s: &str, ser: S) -> Result<S::Ok, S::Error> {
    ser.collect_str(&text::escape(s))
}

fn escaped_opt<S: serde::Serializer>(s: &Option<String>, ser: S) -> Result<S::Ok, S::Error> {
    match s {
        Some(s) => ser.collect_str(&text::escape(s)),
        None => ser.serialize_none(),
    }
}

fn escaped_path<S: serde::Serializer>(p: &Option<PathBuf>, ser: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => ser.collect_str(&text::escape(&p.to_string_lossy())),
        None => ser.serialize_none(),
    }
}

impl Diagnostic {
    pub(crate) fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: None,
            pos: None,
            key: None,
            message: message.into(),
        }
    }

    pub(crate) fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    pub(crate) fn in_file(mut self, file: &Path) -> Self {
        self.file = Some(file.to_path_buf());
        self
    }

    pub(crate) fn at(mut self, pos: Option<Pos>) -> Self {
        self.pos = pos;
        self
    }

    pub(crate) fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The text form escapes the file name and the message
/// ([`crate::text::escape`]): both may quote the file's own text (a name, a
/// URL, a key), and a diagnostic is one line.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}:", text::escape(&file.to_string_lossy()))?;
            if let Some(p) = self.pos {
                write!(f, "{}:{}:", p.line, p.column)?;
            }
            f.write_str(" ")?;
        }
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        write!(f, "{}", text::escape(&self.message))
    }
}

/// The diagnostic for a TOML file that [`crate::textfile::read`] could not read;
/// `at_pos` places "not valid UTF-8" at the bad byte.
pub(crate) fn unreadable(path: &Path, e: ReadError, at_pos: bool) -> Diagnostic {
    match e {
        ReadError::Fs(e) => Diagnostic::error(e.reason()).in_file(path),
        ReadError::NotUtf8 { pos, .. } => {
            Diagnostic::error("the file is not valid UTF-8 (TOML must be)")
                .in_file(path)
                .at(at_pos.then_some(pos))
        }
    }
}

/// Whether any of `diags` is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// Sort by file position (file-level diagnostics first), keeping the order
/// of diagnostics at the same position.
pub(crate) fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| d.pos);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_compiler_style() {
        let d = Diagnostic::error("vip \"mail1\": vhid 300 is out of range 1-255")
            .in_file(Path::new("carpctl.toml"))
            .at(Some(Pos {
                line: 14,
                column: 8,
            }));
        assert_eq!(
            d.to_string(),
            "carpctl.toml:14:8: vip \"mail1\": vhid 300 is out of range 1-255"
        );
        let w = Diagnostic::warning("no password").in_file(Path::new("c.toml"));
        assert_eq!(w.to_string(), "c.toml: warning: no password");
        assert_eq!(Diagnostic::error("plain").to_string(), "plain");
    }

    #[test]
    fn json_flattens_the_position() {
        let d = Diagnostic::warning("m")
            .in_file(Path::new("c.toml"))
            .at(Some(Pos { line: 2, column: 3 }))
            .key("vip[0].vhid");
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"severity": "warning", "file": "c.toml", "line": 2,
                               "column": 3, "key": "vip[0].vhid", "message": "m"})
        );
    }
}
