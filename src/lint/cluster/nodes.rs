//! Which input files belong to one node (issue 13 item 1). Each file is a
//! node of its own unless something says otherwise, in this order:
//!
//! 1. the command line: `NODE=FILE` arguments with one `NODE` are one node
//!    named `NODE`; the files of a directory argument are one node named
//!    after the directory;
//! 2. names that leave no doubt, for files given as plain `FILE`: in one
//!    directory, `STEM.KIND` files with one `STEM` (the name up to its
//!    first dot), where `KIND` is `rc.conf`, `rc.conf.local`,
//!    `loader.conf`, `loader.conf.local`, `sysctl.conf`,
//!    `sysctl.conf.local` or `devd.conf` (`hosta.rc.conf` and
//!    `hosta.loader.conf` are node `hosta`); and files with their FreeBSD
//!    names in one tree (`KIND` alone, `devd/*.conf`, `rc.conf.d/*`),
//!    where the directories `etc`, `boot`, `usr/local/etc` and a `devd` or
//!    `rc.conf.d` below them count as the directory above them
//!    (`/etc/rc.conf` and `/boot/loader.conf` are one node, so are
//!    `mail-a/rc.conf` and `mail-a/sysctl.conf`);
//! 3. `hostname=` in rc.conf: two rc.conf files that set different
//!    hostnames are never one node, whatever 1 and 2 said: each hostname
//!    becomes a node of its own, and the other files of the group stay
//!    together.
//!
//! A node is named by its `NODE`, else by its rc.conf `hostname` (up to
//! the first dot), else by its directory argument, stem or tree, else by
//! its file. Files of different names are never grouped by how their names
//! start, nor for sharing a directory: `hosta.conf` and `hostb.conf` are
//! two nodes.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use super::Analysis;
use crate::lint::input::Given;

/// How the files of a node were put together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum GroupedBy {
    /// `NODE=FILE` arguments with one `NODE`.
    Argument,
    /// A directory argument.
    Directory,
    /// Their names: one stem in one directory, or their FreeBSD names in
    /// one tree.
    FileName,
    /// Split off its group by its rc.conf `hostname`.
    Hostname,
    /// One file: nothing grouped it with another.
    Alone,
}

/// Where a node's name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum NamedBy {
    /// `NODE=FILE`.
    Argument,
    /// The rc.conf `hostname`.
    Hostname,
    /// The directory argument.
    Directory,
    /// The stem or the tree of its files' names.
    FileName,
    /// Its one file.
    File,
}

impl GroupedBy {
    /// For the text header of `lint`.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            GroupedBy::Argument => "grouped by NODE=FILE",
            GroupedBy::Directory => "a directory argument",
            GroupedBy::FileName => "grouped by file name",
            GroupedBy::Hostname => "split off by its hostname",
            GroupedBy::Alone => "one file",
        }
    }
}

impl NamedBy {
    /// For the text header of `lint`.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            NamedBy::Argument => "named by NODE=FILE",
            NamedBy::Hostname => "named by hostname",
            NamedBy::Directory => "named after the directory",
            NamedBy::FileName => "named by file name",
            NamedBy::File => "named by its file",
        }
    }
}

/// The files of one node (indices into the inputs), and how they were
/// grouped and named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeFiles {
    pub name: String,
    pub files: Vec<usize>,
    pub(crate) grouped_by: GroupedBy,
    pub(crate) named_by: NamedBy,
}

/// The file names whose stem groups files ([`name_key`]).
const KINDS: [&str; 7] = [
    "rc.conf",
    "rc.conf.local",
    "loader.conf",
    "loader.conf.local",
    "sysctl.conf",
    "sysctl.conf.local",
    "devd.conf",
];

/// What groups a plain `FILE` argument by its name: the directory (the
/// tree, for FreeBSD names) and the stem (empty for a FreeBSD name); `None`
/// when the name says nothing (`hosta.conf`).
pub(crate) fn name_key(path: &Path) -> Option<(PathBuf, String)> {
    let name = path.file_name()?.to_str()?;
    let dir = path.parent().unwrap_or_else(|| Path::new(""));
    let dir_name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let kind = |s: &str| KINDS.iter().any(|k| s.eq_ignore_ascii_case(k));
    let stem =
        if kind(name) || (dir_name == "devd" && name.ends_with(".conf")) || dir_name == "rc.conf.d"
        {
            ""
        } else {
            match name.split_once('.') {
                Some((stem, rest)) if !stem.is_empty() && kind(rest) => stem,
                _ => return None,
            }
        };
    Some((tree_root(dir), stem.to_string()))
}

/// The stem of `path` for naming a node (`import`): see [`name_key`];
/// empty when there is none.
pub(crate) fn node_key(path: &Path) -> (PathBuf, String) {
    name_key(path).unwrap_or_default()
}

/// `dir` without the `devd` or `rc.conf.d`, then `etc`, `boot` or
/// `usr/local/etc` it ends with.
fn tree_root(dir: &Path) -> PathBuf {
    let mut c: Vec<Component<'_>> = dir.components().collect();
    let ends = |c: &[Component<'_>], s: &str| c.last().is_some_and(|x| x.as_os_str() == s);
    if ends(&c, "devd") || ends(&c, "rc.conf.d") {
        c.pop();
    }
    let n = c.len();
    if n >= 3 && ends(&c, "etc") && ends(&c[..n - 1], "local") && ends(&c[..n - 2], "usr") {
        c.truncate(n - 3);
    } else if ends(&c, "etc") || ends(&c, "boot") {
        c.pop();
    }
    c.iter().collect()
}

/// What groups an input before hostnames are looked at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Node(String),
    Dir(PathBuf),
    Name(PathBuf, String),
    Alone(usize),
}

/// Group the inputs into nodes, in order of their first file. `given`:
/// how the command line gave each input.
pub(crate) fn nodes(paths: &[&Path], given: &[&Given], analyses: &[Analysis]) -> Vec<NodeFiles> {
    let mut keys: Vec<Key> = Vec::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_key: HashMap<Key, usize> = HashMap::new();
    for (i, p) in paths.iter().enumerate() {
        let key = match given.get(i) {
            Some(Given::Node(n)) => Key::Node(n.clone()),
            Some(Given::Dir(d)) => Key::Dir(d.clone()),
            _ => name_key(p).map_or(Key::Alone(i), |(r, s)| Key::Name(r, s)),
        };
        match by_key.get(&key) {
            Some(&g) => {
                if let Some(files) = groups.get_mut(g) {
                    files.push(i);
                }
            }
            None => {
                by_key.insert(key.clone(), groups.len());
                keys.push(key);
                groups.push(vec![i]);
            }
        }
    }
    let mut out = Vec::new();
    for (key, files) in keys.iter().zip(groups) {
        split_by_hostname(paths, analyses, key, files, &mut out);
    }
    out.sort_by_key(|n| n.files.first().copied());
    out
}

/// The full `hostname` of input `f`, when it is an rc.conf that sets one.
fn full_hostname(analyses: &[Analysis], f: usize) -> Option<&str> {
    match analyses.get(f) {
        Some(Analysis::RcConf(rc)) => rc
            .sh
            .last("hostname")
            .map(|a| a.value.trim())
            .filter(|h| !h.is_empty()),
        _ => None,
    }
}

/// The short `hostname` of input `f` (up to the first dot), for names.
fn short_hostname(analyses: &[Analysis], f: usize) -> Option<&str> {
    match analyses.get(f) {
        Some(Analysis::RcConf(rc)) => rc.hostname.as_deref(),
        _ => None,
    }
}

/// The node(s) of one group: one, or, when its rc.conf files set different
/// hostnames, one per hostname and one for the rest.
fn split_by_hostname(
    paths: &[&Path],
    analyses: &[Analysis],
    key: &Key,
    files: Vec<usize>,
    out: &mut Vec<NodeFiles>,
) {
    let mut hosts: Vec<(&str, Vec<usize>)> = Vec::new();
    for &f in &files {
        if let Some(h) = full_hostname(analyses, f) {
            match hosts.iter_mut().find(|(x, _)| *x == h) {
                Some((_, v)) => v.push(f),
                None => hosts.push((h, vec![f])),
            }
        }
    }
    if hosts.len() < 2 {
        out.push(node(paths, analyses, key, files));
        return;
    }
    for (_, own) in &hosts {
        let name = own
            .first()
            .and_then(|&f| short_hostname(analyses, f))
            .unwrap_or_default()
            .to_string();
        out.push(NodeFiles {
            name,
            files: own.clone(),
            grouped_by: GroupedBy::Hostname,
            named_by: NamedBy::Hostname,
        });
    }
    let rest: Vec<usize> = files
        .into_iter()
        .filter(|f| !hosts.iter().any(|(_, v)| v.contains(f)))
        .collect();
    if !rest.is_empty() {
        out.push(node(paths, analyses, key, rest));
    }
}

/// One node of `files`, grouped by `key`, and its name.
fn node(paths: &[&Path], analyses: &[Analysis], key: &Key, files: Vec<usize>) -> NodeFiles {
    let first_path = files
        .first()
        .and_then(|&f| paths.get(f))
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let hostname = files.iter().find_map(|&f| short_hostname(analyses, f));
    let alone = files.len() == 1;
    let (grouped_by, fallback) = match key {
        Key::Node(n) => (GroupedBy::Argument, (n.clone(), NamedBy::Argument)),
        Key::Dir(d) => (
            GroupedBy::Directory,
            (base_name(d).unwrap_or(first_path), NamedBy::Directory),
        ),
        Key::Name(root, stem) => (
            if alone {
                GroupedBy::Alone
            } else {
                GroupedBy::FileName
            },
            if !stem.is_empty() {
                (stem.clone(), NamedBy::FileName)
            } else if let Some(b) = base_name(root) {
                (b, NamedBy::FileName)
            } else {
                (first_path, NamedBy::File)
            },
        ),
        Key::Alone(_) => (GroupedBy::Alone, (first_path, NamedBy::File)),
    };
    let (name, named_by) = match (key, hostname) {
        (Key::Node(_), _) | (_, None) => fallback,
        (_, Some(h)) => (h.to_string(), NamedBy::Hostname),
    };
    NodeFiles {
        name,
        files,
        grouped_by,
        named_by,
    }
}

/// The last component of `dir` (`mail-a` of `nodes/mail-a/`), or `/`.
fn base_name(dir: &Path) -> Option<String> {
    match dir.components().next_back()? {
        Component::Normal(n) => Some(n.to_string_lossy().to_string()),
        Component::RootDir => Some("/".to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rcconf;

    #[test]
    fn name_keys() {
        let k = |p: &str| name_key(Path::new(p));
        let key = |d: &str, s: &str| Some((PathBuf::from(d), s.to_string()));
        assert_eq!(k("/etc/rc.conf"), key("/", ""));
        assert_eq!(k("/etc/rc.conf"), k("/boot/loader.conf"));
        assert_eq!(k("/etc/rc.conf"), k("/usr/local/etc/devd/carp.conf"));
        assert_eq!(k("/etc/rc.conf"), k("/etc/devd/carp.conf"));
        assert_eq!(k("/etc/rc.conf"), k("/etc/rc.conf.d/netif"));
        assert_eq!(k("/etc/rc.conf"), k("/etc/rc.conf.local"));
        assert_eq!(k("/etc/rc.conf"), k("/etc/sysctl.conf"));
        assert_eq!(k("/jails/a/etc/rc.conf"), k("/jails/a/boot/loader.conf"));
        assert_ne!(k("/jails/a/etc/rc.conf"), k("/jails/b/etc/rc.conf"));
        assert_eq!(k("mail-a/rc.conf"), key("mail-a", ""));
        assert_eq!(k("mail-a/rc.conf"), k("mail-a/loader.conf"));
        assert_eq!(k("rc.conf"), key("", ""));
        // One stem, up to the first dot, before a kind.
        assert_eq!(k("t/seed-a.rc.conf"), key("t", "seed-a"));
        assert_eq!(k("t/seed-a.loader.conf"), k("t/seed-a.rc.conf"));
        assert_eq!(k("t/seed-a.sysctl.conf.local"), k("t/seed-a.rc.conf"));
        assert_ne!(k("t/seed-a.rc.conf"), k("t/seed-b.rc.conf"));
        assert_ne!(k("t/seed-a.rc.conf"), k("u/seed-a.loader.conf"));
        // Names that say nothing: no key, whatever they start with.
        assert_eq!(k("t/hosta.conf"), None);
        assert_eq!(k("t/hosta-rc.conf"), None);
        assert_eq!(k("t/mail-a.example.org.rc.conf"), None);
        assert_eq!(k("t/.rc.conf"), None);
        assert_eq!(k("t/hosta.rc.conf.new"), None);
        assert_eq!(k("t/carpctl.toml"), None);
        assert_eq!(node_key(Path::new("t/hosta.conf")), Default::default());
    }

    fn rc(text: &str) -> Analysis {
        Analysis::RcConf(Box::new(rcconf::analyze(text)))
    }

    /// (name, files, grouped_by, named_by) of each node.
    fn group(files: &[(&str, Given, Analysis)]) -> Vec<(String, Vec<usize>, GroupedBy, NamedBy)> {
        let paths: Vec<&Path> = files.iter().map(|(p, _, _)| Path::new(*p)).collect();
        let given: Vec<&Given> = files.iter().map(|(_, g, _)| g).collect();
        let analyses: Vec<Analysis> = files.iter().map(|(_, _, a)| a.clone()).collect();
        nodes(&paths, &given, &analyses)
            .into_iter()
            .map(|n| (n.name, n.files, n.grouped_by, n.named_by))
            .collect()
    }

    #[test]
    fn each_file_is_a_node_unless_grouped() {
        use GroupedBy as G;
        use NamedBy as N;
        let f = Given::File;
        // Two rc.conf files in one directory: two nodes.
        assert_eq!(
            group(&[
                ("d/hosta.conf", f.clone(), rc("ifconfig_em0=\"up\"\n")),
                ("d/hostb.conf", f.clone(), rc("ifconfig_em0=\"up\"\n")),
            ]),
            [
                ("d/hosta.conf".into(), vec![0], G::Alone, N::File),
                ("d/hostb.conf".into(), vec![1], G::Alone, N::File),
            ]
        );
        // One stem: one node, named by the hostname when there is one.
        assert_eq!(
            group(&[
                (
                    "d/a.rc.conf",
                    f.clone(),
                    rc("hostname=\"mail-a.example.org\"\n")
                ),
                ("d/b.rc.conf", f.clone(), rc("")),
                ("d/a.loader.conf", f.clone(), Analysis::Other),
                ("d/b.sysctl.conf", f.clone(), Analysis::Other),
            ]),
            [
                ("mail-a".into(), vec![0, 2], G::FileName, N::Hostname),
                ("b".into(), vec![1, 3], G::FileName, N::FileName),
            ]
        );
        // NODE=FILE and a directory argument, whatever the names.
        let node = |n: &str| Given::Node(n.into());
        let dir = Given::Dir("nodes/b".into());
        assert_eq!(
            group(&[
                ("x.conf", node("a"), rc("hostname=\"h\"\n")),
                ("nodes/b/one", dir.clone(), rc("")),
                ("y.conf", node("a"), Analysis::Other),
                ("nodes/b/two", dir.clone(), Analysis::Other),
            ]),
            [
                ("a".into(), vec![0, 2], G::Argument, N::Argument),
                ("b".into(), vec![1, 3], G::Directory, N::Directory),
            ]
        );
    }

    #[test]
    fn two_hostnames_are_never_one_node() {
        use GroupedBy as G;
        use NamedBy as N;
        let dir = Given::Dir("d".into());
        assert_eq!(
            group(&[
                ("d/1", dir.clone(), rc("hostname=\"hosta.example.org\"\n")),
                ("d/2", dir.clone(), rc("hostname=\"hostb.example.org\"\n")),
                ("d/loader.conf", dir.clone(), Analysis::Other),
                ("d/3", dir.clone(), rc("hostname=\"hosta.example.org\"\n")),
            ]),
            [
                ("hosta".into(), vec![0, 3], G::Hostname, N::Hostname),
                ("hostb".into(), vec![1], G::Hostname, N::Hostname),
                ("d".into(), vec![2], G::Directory, N::Directory),
            ]
        );
        // The same short name of two hosts is still two hosts.
        let f = Given::File;
        let split = group(&[
            (
                "/etc/rc.conf",
                f.clone(),
                rc("hostname=\"a.one.example\"\n"),
            ),
            (
                "/etc/rc.conf.local",
                f.clone(),
                rc("hostname=\"a.two.example\"\n"),
            ),
        ]);
        assert_eq!(split.len(), 2, "{split:?}");
        // One hostname, set in two files of one node: one node.
        let one = group(&[
            ("/etc/rc.conf", f.clone(), rc("hostname=\"a\"\n")),
            ("/etc/rc.conf.local", f.clone(), rc("hostname=\"a\"\n")),
            ("/boot/loader.conf", f, Analysis::Other),
        ]);
        assert_eq!(one, [("a".into(), vec![0, 1, 2], G::FileName, N::Hostname)]);
    }
}
