//! The files lint reads: each one's path, text (or why it could not be
//! read), permission bits and trust, read with the same cap and checks as
//! every other command's input; and how the command line grouped them
//! (`NODE=FILE`, a directory argument), which decides the nodes
//! ([`super::cluster`]).

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::fsutil;
use crate::textfile::{self, Access, ReadError};

/// One file to lint: its path (as given, for messages), its text or why it
/// could not be read, and its permission bits (for cluster files holding
/// passwords). The text is wiped when dropped (`Zeroizing`): rc.conf and
/// cluster files hold passwords.
#[derive(Debug)]
pub struct Input {
    pub path: PathBuf,
    pub content: Result<Zeroizing<String>, String>,
    pub mode: Option<u32>,
    /// For a file read from disk: why carpctl would not trust it as a
    /// cluster file (owner, mode, a directory above it; see
    /// [`crate::fsutil::trust`]), reported for cluster files only.
    pub untrusted: Option<String>,
    /// How the command line gave it: which node it belongs to when the
    /// user said so.
    pub given: Given,
}

/// How the command line gave a file to lint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Given {
    /// `FILE`: its node follows from its name and its `hostname`.
    #[default]
    File,
    /// `NODE=FILE` (or `NODE=DIR`): a file of node `NODE`.
    Node(String),
    /// A file found in directory argument `DIR`: all of them are one node.
    Dir(PathBuf),
}

impl Input {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Input {
            path: path.into(),
            content: Ok(Zeroizing::new(text.into())),
            mode: None,
            untrusted: None,
            given: Given::File,
        }
    }

    /// [`Input::new`] of a file given as `given`.
    #[must_use]
    pub fn given(mut self, given: Given) -> Self {
        self.given = given;
        self
    }
}

/// The largest file lint reads: the same cap as every command's
/// ([`crate::fsutil::INPUT_MAX`]), so that lint accepts what apply reads.
pub const MAX_FILE: u64 = crate::fsutil::INPUT_MAX;

/// The most files one directory argument may hold (with its
/// subdirectories): a node's files are a handful, and each may be 1 MiB.
pub const MAX_DIR_FILES: usize = 256;

/// How deep lint looks below a directory argument (`usr/local/etc/devd`
/// is four levels).
const MAX_DIR_DEPTH: usize = 6;

/// Read the files to lint. A file that cannot be read is kept, with the
/// reason, so that it is reported in order.
pub fn read_inputs(paths: &[PathBuf]) -> Vec<Input> {
    paths.iter().map(|p| read_input(p, Given::File)).collect()
}

/// Read the command line's arguments: `(Some(NODE), PATH)` for
/// `NODE=PATH`. A directory stands for all the files in it and below it
/// (hidden ones and symbolic links to directories left out), sorted by
/// path, as one node (named `NODE`, else after the directory). Errs when a
/// directory cannot be listed or holds more than [`MAX_DIR_FILES`] files.
pub fn read_args(args: &[(Option<String>, PathBuf)]) -> Result<Vec<Input>, String> {
    let mut out = Vec::new();
    for (node, path) in args {
        if !std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
            let given = node.clone().map_or(Given::File, Given::Node);
            out.push(read_input(path, given));
            continue;
        }
        let mut files = Vec::new();
        list_dir(path, path, 0, &mut files)?;
        if files.is_empty() {
            return Err(format!("{}: the directory holds no file", path.display()));
        }
        files.sort();
        let given = node
            .clone()
            .map_or_else(|| Given::Dir(path.clone()), Given::Node);
        out.extend(files.iter().map(|f| read_input(f, given.clone())));
    }
    Ok(out)
}

/// The files in `dir` (below directory argument `root`) and below it, up to [`MAX_DIR_FILES`] and
/// [`MAX_DIR_DEPTH`]. Entries are not followed: a symbolic link is listed
/// as a file (which lint then refuses to read, as any file it would follow
/// a link to), never walked into.
fn list_dir(root: &Path, dir: &Path, depth: usize, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("{}: cannot list: {e}", dir.display()))?;
    for e in entries {
        let e = e.map_err(|e| format!("{}: cannot list: {e}", dir.display()))?;
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            if depth + 1 < MAX_DIR_DEPTH {
                list_dir(root, &path, depth + 1, files)?;
            }
            continue;
        }
        if files.len() >= MAX_DIR_FILES {
            return Err(format!(
                "{}: more than {MAX_DIR_FILES} files: a directory argument is one node's \
                 files; give the files themselves instead",
                root.display()
            ));
        }
        files.push(path);
    }
    Ok(())
}

/// One file to lint, read.
fn read_input(p: &Path, given: Given) -> Input {
    let (content, mode) = read_one(p);
    let untrusted = match &content {
        Ok(_) => fsutil::check_path(p, fsutil::Trust::Config)
            .err()
            .map(|e| e.to_string()),
        Err(_) => None,
    };
    Input {
        path: p.to_path_buf(),
        content,
        mode,
        untrusted,
        given,
    }
}

/// A regular file (never a FIFO or a device) of at most [`MAX_FILE`]
/// bytes, as text; or why not.
fn read_one(p: &Path) -> (Result<Zeroizing<String>, String>, Option<u32>) {
    match textfile::read(p, Access::Named) {
        Ok(f) => (Ok(f.text), Some(f.mode)),
        Err(ReadError::Fs(e)) => (Err(e.reason()), None),
        Err(ReadError::NotUtf8 { at, mode, .. }) => (
            Err(format!("is not text (invalid UTF-8 at byte {at})")),
            Some(mode),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_file_that_is_not_utf8_is_kept_with_its_mode_and_the_byte() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rc.conf");
        fs::write(&p, b"hostname=\"a\"\n\xff\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let (content, mode) = read_one(&p);
        assert_eq!(
            content,
            Err("is not text (invalid UTF-8 at byte 13)".into())
        );
        assert_eq!(mode, Some(0o640));
        let (content, mode) = read_one(&dir.path().join("missing"));
        assert!(content.unwrap_err().starts_with("cannot read: "));
        assert_eq!(mode, None);
    }

    #[test]
    fn a_directory_argument_is_one_node_of_its_visible_files_six_levels_deep() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mail-a");
        let deep = root.join("1/2/3/4/5");
        fs::create_dir_all(deep.join("6")).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        for f in [
            root.join("rc.conf"),
            root.join(".rc.conf.swp"),
            root.join(".git/config"),
            deep.join("seen.conf"),
            deep.join("6/too-deep.conf"),
        ] {
            fs::write(f, "").unwrap();
        }
        let inputs = read_args(&[(None, root.clone())]).unwrap();
        let got: Vec<(&Path, &Given)> = inputs
            .iter()
            .map(|i| (i.path.as_path(), &i.given))
            .collect();
        let given = Given::Dir(root.clone());
        assert_eq!(
            got,
            [
                (deep.join("seen.conf").as_path(), &given),
                (root.join("rc.conf").as_path(), &given),
            ]
        );
        // NODE=DIR names the node; NODE=FILE and FILE are kept as given.
        let f = root.join("rc.conf");
        let inputs = read_args(&[
            (Some("a".into()), root.clone()),
            (Some("b".into()), f.clone()),
            (None, f),
        ])
        .unwrap();
        let given: Vec<&Given> = inputs.iter().map(|i| &i.given).collect();
        let a = Given::Node("a".into());
        assert_eq!(given, [&a, &a, &Given::Node("b".into()), &Given::File]);
        // A path that is not there is a file that cannot be read (CARP005).
        let inputs = read_args(&[(None, dir.path().join("gone"))]).unwrap();
        assert!(inputs[0].content.is_err());
    }
}
