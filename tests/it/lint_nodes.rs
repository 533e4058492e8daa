//! `carpctl lint` groups files into nodes the way users mean (issue 13
//! items 1 and 2): each file is its own node unless `NODE=FILE`, a
//! directory argument or unambiguous names group it; `hostname=` names a
//! node and splits what it cannot be; a password mismatch is found in
//! every layout, FreeBSD 9 files (carpN) included. All through the binary,
//! as users run it.

use std::path::Path;

use serde_json::Value;

use crate::common::run_carpctl_in as carpctl_in;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");

/// The Handbook 2007 files (FreeBSD 9 form): hosta says `testpast` for
/// vhid 1 where provider says `testpass`.
fn handbook_2007(host: &str) -> String {
    std::fs::read_to_string(Path::new(CORPUS).join(format!("handbook-2007/{host}.rc.conf")))
        .expect("corpus file")
}

/// `text` without its `hostname=` line.
fn without_hostname(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("hostname="))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// `{at}hosta.conf` and `{at}provider.conf` without their hostnames.
fn anonymous_pair(dir: &Path, at: &str) {
    for host in ["hosta", "provider"] {
        write(
            dir,
            &format!("{at}{host}.conf"),
            &without_hostname(&handbook_2007(host)),
        );
    }
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(p, text).unwrap();
}

/// `lint --json ARGS` in `dir`: the document.
fn lint_json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["lint", "--json"];
    all.extend_from_slice(args);
    let r = carpctl_in(dir, &all);
    assert!(r.code == 0 || r.code == 1, "{r:?}");
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"))
}

/// The findings of `doc` with `code`, as `file:line:column`.
fn with_code(doc: &Value, code: &str) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| {
            format!(
                "{}:{}:{}",
                f["file"].as_str().unwrap(),
                f["line"],
                f["column"]
            )
        })
        .collect()
}

/// `(name, files, grouped_by, named_by)` of each node of `doc`.
fn nodes(doc: &Value) -> Vec<(String, Vec<String>, String, String)> {
    doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap().to_string(),
                n["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap().to_string())
                    .collect(),
                n["grouped_by"].as_str().unwrap().to_string(),
                n["named_by"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn node(
    name: &str,
    files: &[&str],
    grouped: &str,
    named: &str,
) -> (String, Vec<String>, String, String) {
    (
        name.into(),
        files.iter().map(|f| (*f).to_string()).collect(),
        grouped.into(),
        named.into(),
    )
}

#[test]
fn two_files_in_one_directory_are_two_nodes() {
    // The invocation: `carpctl lint hosta.conf hostb.conf`, one
    // directory, names that say nothing of their kind.
    let dir = tempfile::tempdir().unwrap();
    anonymous_pair(dir.path(), "");
    let doc = lint_json(dir.path(), &["--cluster", "hosta.conf", "provider.conf"]);
    assert_eq!(
        nodes(&doc),
        [
            node("hosta.conf", &["hosta.conf"], "alone", "file"),
            node("provider.conf", &["provider.conf"], "alone", "file"),
        ]
    );
    assert_eq!(
        with_code(&doc, "CARP060"),
        ["provider.conf:12:41"],
        "{doc:#}"
    );
    // vhid 1 is on both: not "carried by one node only".
    let single: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "CARP063")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        single.iter().all(|m| m.starts_with("vhid 2 ")),
        "{single:?}"
    );
    // The text form says the grouping before the findings, on stderr.
    let r = carpctl_in(dir.path(), &["lint", "hosta.conf", "provider.conf"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.starts_with(
            "carpctl: lint: node hosta.conf: hosta.conf (one file, named by its file)\n\
             carpctl: lint: node provider.conf: provider.conf (one file, named by its file)\n"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("provider.conf:12:41: error[CARP060]: vhid 1: the password here differs from the one on hosta.conf at hosta.conf:12"), "{}", r.stdout);
}

#[test]
fn hostname_names_the_node_and_two_hostnames_are_never_one() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hosta.conf", &handbook_2007("hosta"));
    write(dir.path(), "provider.conf", &handbook_2007("provider"));
    let doc = lint_json(dir.path(), &["hosta.conf", "provider.conf"]);
    assert_eq!(
        nodes(&doc),
        [
            node("hosta", &["hosta.conf"], "alone", "hostname"),
            node("provider", &["provider.conf"], "alone", "hostname"),
        ]
    );
    assert_eq!(with_code(&doc, "CARP060"), ["provider.conf:13:41"]);
    // One directory argument holding both hosts' files, with a
    // loader.conf: split by hostname, the loader.conf stays the
    // directory's node.
    write(dir.path(), "both/hosta.conf", &handbook_2007("hosta"));
    write(dir.path(), "both/provider.conf", &handbook_2007("provider"));
    write(dir.path(), "both/loader.conf", "carp_load=\"YES\"\n");
    let doc = lint_json(dir.path(), &["both"]);
    assert_eq!(
        nodes(&doc),
        [
            node("hosta", &["both/hosta.conf"], "hostname", "hostname"),
            node("both", &["both/loader.conf"], "directory", "directory"),
            node("provider", &["both/provider.conf"], "hostname", "hostname"),
        ]
    );
    assert_eq!(with_code(&doc, "CARP060"), ["both/provider.conf:13:41"]);
}

#[test]
fn node_equals_file_groups_whatever_the_names() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "x/one",
        &without_hostname(&handbook_2007("hosta")),
    );
    write(dir.path(), "x/two", "carp_load=\"YES\"\n");
    write(
        dir.path(),
        "y/one",
        &without_hostname(&handbook_2007("provider")),
    );
    let doc = lint_json(dir.path(), &["a=x/one", "b=y/one", "a=x/two"]);
    assert_eq!(
        nodes(&doc),
        [
            node("a", &["x/one", "x/two"], "argument", "argument"),
            node("b", &["y/one"], "argument", "argument"),
        ]
    );
    assert_eq!(with_code(&doc, "CARP060"), ["y/one:12:41"]);
    let r = carpctl_in(dir.path(), &["lint", "a=x/one", "b=y/one", "a=x/two"]);
    assert!(
        r.stdout.contains("differs from the one on a at x/one:12"),
        "{}",
        r.stdout
    );
    // Node a's loader.conf loads carp: only b lacks one (CARP033).
    assert_eq!(with_code(&doc, "CARP033"), ["y/one:12:17"]);
}

#[test]
fn a_directory_per_node() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "nodes/mail-a/rc.conf",
        &without_hostname(&handbook_2007("hosta")),
    );
    write(
        dir.path(),
        "nodes/mail-a/boot/loader.conf",
        "carp_load=\"YES\"\n",
    );
    write(dir.path(), "nodes/mail-a/.rc.conf.swp", "not read");
    write(
        dir.path(),
        "nodes/mail-b/rc.conf",
        &without_hostname(&handbook_2007("provider")),
    );
    write(
        dir.path(),
        "nodes/mail-b/loader.conf",
        "carp_load=\"YES\"\n",
    );
    let doc = lint_json(dir.path(), &["nodes/mail-a", "nodes/mail-b/"]);
    assert_eq!(
        nodes(&doc),
        [
            node(
                "mail-a",
                &["nodes/mail-a/boot/loader.conf", "nodes/mail-a/rc.conf"],
                "directory",
                "directory"
            ),
            node(
                "mail-b",
                &["nodes/mail-b/loader.conf", "nodes/mail-b/rc.conf"],
                "directory",
                "directory"
            ),
        ]
    );
    assert_eq!(with_code(&doc, "CARP060"), ["nodes/mail-b/rc.conf:12:41"]);
    assert!(with_code(&doc, "CARP033").is_empty(), "{doc:#}");
    // The same files given one by one: the FreeBSD names group each tree.
    let doc = lint_json(
        dir.path(),
        &[
            "nodes/mail-a/rc.conf",
            "nodes/mail-a/boot/loader.conf",
            "nodes/mail-b/rc.conf",
            "nodes/mail-b/loader.conf",
        ],
    );
    assert_eq!(
        nodes(&doc),
        [
            node(
                "mail-a",
                &["nodes/mail-a/rc.conf", "nodes/mail-a/boot/loader.conf"],
                "file-name",
                "file-name"
            ),
            node(
                "mail-b",
                &["nodes/mail-b/rc.conf", "nodes/mail-b/loader.conf"],
                "file-name",
                "file-name"
            ),
        ]
    );
    assert_eq!(with_code(&doc, "CARP060"), ["nodes/mail-b/rc.conf:12:41"]);
}

#[test]
fn a_mismatched_password_is_found_even_within_one_node() {
    // Both hosts' files in one directory argument, no hostnames: lint
    // cannot tell them apart, but the password mismatch is still an error,
    // and the message says how to give them apart.
    let dir = tempfile::tempdir().unwrap();
    anonymous_pair(dir.path(), "d/");
    let doc = lint_json(dir.path(), &["d"]);
    assert_eq!(
        nodes(&doc),
        [node(
            "d",
            &["d/hosta.conf", "d/provider.conf"],
            "directory",
            "directory"
        )]
    );
    assert_eq!(with_code(&doc, "CARP060"), ["d/provider.conf:12:41"]);
    let r = carpctl_in(dir.path(), &["lint", "d"]);
    assert!(
        r.stdout.contains(
            "(lint took both files for node d: if they are two hosts, give them as separate nodes)"
        ),
        "{}",
        r.stdout
    );
    // NODE=FILE naming one node twice: the same.
    let doc = lint_json(dir.path(), &["n=d/hosta.conf", "n=d/provider.conf"]);
    assert_eq!(with_code(&doc, "CARP060"), ["d/provider.conf:12:41"]);
}

#[test]
fn freebsd_9_files_take_part_beside_freebsd_10_ones() {
    // Item 2: hosta in the FreeBSD 9 form (carp0), the other node in the
    // FreeBSD 10 form (an alias of fxp0): one virtual router, and the
    // Handbook's testpast/testpass mistake is found both ways round.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hosta.conf", &handbook_2007("hosta"));
    write(
        dir.path(),
        "provider.conf",
        "hostname=\"provider.example.org\"\nifconfig_fxp0=\"inet 192.168.1.5/24\"\n\
         ifconfig_fxp0_alias0=\"inet vhid 1 advskew 100 pass testpass alias 192.168.1.50/32\"\n",
    );
    let doc = lint_json(dir.path(), &["provider.conf", "hosta.conf"]);
    assert_eq!(with_code(&doc, "CARP060"), ["hosta.conf:13:29"], "{doc:#}");
    let doc = lint_json(dir.path(), &["hosta.conf", "provider.conf"]);
    assert_eq!(
        with_code(&doc, "CARP060"),
        ["provider.conf:3:52"],
        "{doc:#}"
    );
    // The same passwords: nothing to say across nodes but the active-passive
    // layout's preempt note.
    write(
        dir.path(),
        "hosta.conf",
        &handbook_2007("hosta").replace("testpast", "testpass"),
    );
    let doc = lint_json(dir.path(), &["hosta.conf", "provider.conf"]);
    assert!(with_code(&doc, "CARP060").is_empty(), "{doc:#}");
}

#[test]
fn a_directory_with_too_many_files_or_none_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let r = carpctl_in(dir.path(), &["lint", "empty"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("empty: the directory holds no file"),
        "{}",
        r.stderr
    );
    for i in 0..=carpctl::lint::MAX_DIR_FILES {
        write(dir.path(), &format!("many/sub/{i}.conf"), "");
    }
    let r = carpctl_in(dir.path(), &["lint", "many"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("many: more than 256 files: a directory argument is one node's files"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout, "");
}
