//! Which input files belong to one node: files of one tree (everything up
//! to the first `etc` or `boot` directory), or files of one directory with
//! one name prefix before their kind; a node is named by its rc.conf
//! `hostname`, else by that prefix or directory.

use std::path::{Component, Path, PathBuf};

use super::Analysis;

/// The files of one node (indices into the inputs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NodeFiles {
    pub name: String,
    pub files: Vec<usize>,
}

/// The tree a file belongs to and the name prefix before its kind.
pub(crate) fn node_key(path: &Path) -> (PathBuf, String) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    let stem = ["rc.conf", "loader.conf", "sysctl.conf", "devd.conf"]
        .iter()
        .filter_map(|k| lower.find(k))
        .min()
        .and_then(|i| name.get(..i))
        .unwrap_or("")
        .trim_end_matches(['.', '-', '_'])
        .to_string();
    let parent: Vec<Component<'_>> = path
        .parent()
        .map(|p| p.components().collect())
        .unwrap_or_default();
    let is = |c: &Component<'_>, s: &str| c.as_os_str() == s;
    let root: Vec<Component<'_>> = match parent.iter().position(|c| is(c, "etc") || is(c, "boot")) {
        Some(i) => {
            let mut r: Vec<Component<'_>> = parent.get(..i).unwrap_or_default().to_vec();
            let n = r.len();
            if n >= 2
                && r.get(n - 2).is_some_and(|c| is(c, "usr"))
                && r.get(n - 1).is_some_and(|c| is(c, "local"))
            {
                r.truncate(n - 2);
            }
            r
        }
        None => {
            let mut r = parent.clone();
            if r.last()
                .is_some_and(|c| is(c, "devd") || is(c, "rc.conf.d"))
            {
                r.pop();
            }
            r
        }
    };
    (root.iter().collect(), stem)
}

/// Group the inputs into nodes, in order of first appearance.
pub(crate) fn nodes(paths: &[&Path], analyses: &[Analysis]) -> Vec<NodeFiles> {
    let mut keys: Vec<(PathBuf, String)> = Vec::new();
    let mut out: Vec<NodeFiles> = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let key = node_key(p);
        match keys.iter().position(|k| *k == key) {
            Some(n) => {
                if let Some(node) = out.get_mut(n) {
                    node.files.push(i);
                }
            }
            None => {
                let name = if !key.1.is_empty() {
                    key.1.clone()
                } else {
                    key.0
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_else(|| format!("node{}", keys.len() + 1))
                };
                keys.push(key);
                out.push(NodeFiles {
                    name,
                    files: vec![i],
                });
            }
        }
    }
    // The hostname in rc.conf names the node better than a file name.
    for node in &mut out {
        if let Some(h) = node.files.iter().find_map(|&f| match analyses.get(f) {
            Some(Analysis::RcConf(rc)) => rc.hostname.clone(),
            _ => None,
        }) {
            node.name = h;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_keys() {
        let k = |p: &str| node_key(Path::new(p));
        assert_eq!(k("/etc/rc.conf"), k("/boot/loader.conf"));
        assert_eq!(k("/etc/rc.conf"), k("/usr/local/etc/devd/carp.conf"));
        assert_eq!(k("/etc/rc.conf"), k("/etc/rc.conf.local"));
        assert_eq!(k("/jails/a/etc/rc.conf"), k("/jails/a/boot/loader.conf"));
        assert_ne!(k("/jails/a/etc/rc.conf"), k("/jails/b/etc/rc.conf"));
        assert_eq!(
            k("t/seed-a.rc.conf"),
            (PathBuf::from("t"), "seed-a".to_string())
        );
        assert_eq!(k("t/seed-a.loader.conf"), k("t/seed-a.rc.conf"));
        assert_ne!(k("t/seed-a.rc.conf"), k("t/seed-b.rc.conf"));
        assert_eq!(k("a/rc.conf"), (PathBuf::from("a"), String::new()));
        assert_ne!(k("a/rc.conf"), k("b/rc.conf"));
        assert_eq!(k("rc.conf"), (PathBuf::new(), String::new()));
    }
}
