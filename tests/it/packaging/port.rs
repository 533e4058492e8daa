//! port/sysutils/carpctl: the crate list and distinfo against Cargo.lock
//! (parsed here with the `toml` crate, independently of port/update.py),
//! the rc.d files against rc.d/, and pkg-plist against what the Makefile
//! installs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{read, root, run, text};

const PORT: &str = "port/sysutils/carpctl";
const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// `python3 port/update.py ARGS` in the repository: (exit code, stdout,
/// stderr). python3 is required: the port's files cannot be checked
/// without it.
fn update_py(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["port/update.py"];
    all.extend_from_slice(args);
    let out = run("python3", &all, &root()).expect("python3 is needed to check the port");
    (
        out.status.code().expect("exit code"),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// One `[[package]]` of Cargo.lock.
struct Locked {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
}

fn cargo_lock() -> Vec<Locked> {
    let lock: toml::Table = read("Cargo.lock").parse().expect("Cargo.lock parses");
    lock["package"]
        .as_array()
        .expect("package array")
        .iter()
        .map(|p| {
            let field = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_string);
            Locked {
                name: field("name").expect("name"),
                version: field("version").expect("version"),
                source: field("source"),
                checksum: field("checksum"),
            }
        })
        .collect()
}

/// The package names of the workspace's members, from their manifests.
fn workspace_members() -> BTreeSet<String> {
    let top: toml::Table = read("Cargo.toml").parse().unwrap();
    top["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let dir = m.as_str().unwrap();
            let manifest: toml::Table = read(&format!("{dir}/Cargo.toml")).parse().unwrap();
            manifest["package"]["name"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The entries of a CARGO_CRATES block.
fn entries(block: &str) -> Vec<String> {
    let body = block
        .strip_prefix("CARGO_CRATES=")
        .unwrap_or_else(|| panic!("not a CARGO_CRATES block: {block:.60}"));
    body.split_whitespace()
        .filter(|w| *w != "\\")
        .map(str::to_string)
        .collect()
}

#[test]
fn crate_list_covers_every_locked_package_but_the_workspace() {
    let (code, out, err) = update_py(&["crates"]);
    assert_eq!(code, 0, "{err}");
    let listed = entries(&out);
    let lock = cargo_lock();
    let members = workspace_members();
    assert!(members.contains("carpctl") && members.contains("carpctl-sys"));
    let mut want = Vec::new();
    for p in &lock {
        match p.source.as_deref() {
            Some(CRATES_IO) => want.push(format!("{}-{}", p.name, p.version)),
            Some(other) => panic!("{} comes from {other}: extend this test", p.name),
            None => assert!(
                members.contains(&p.name),
                "{} has no source and is no workspace member",
                p.name
            ),
        }
    }
    // Every registry package, with its version, in Cargo.lock's order.
    assert_eq!(listed, want);
    for m in &members {
        assert!(
            !listed.iter().any(|e| e.starts_with(&format!("{m}-0"))),
            "{m} is listed"
        );
    }
}

#[test]
fn makefile_crates_is_the_scripts_output() {
    let (code, out, err) = update_py(&["crates"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        read(&format!("{PORT}/Makefile.crates")),
        out,
        "Makefile.crates is out of date: run `python3 port/update.py write`"
    );
    // The format of `make cargo-crates`: a tab after the =, two tabs
    // before each further entry, " \" between, none after the last.
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("CARGO_CRATES=\t") && lines[0].ends_with(" \\"));
    for l in &lines[1..lines.len() - 1] {
        assert!(l.starts_with("\t\t") && l.ends_with(" \\"), "{l:?}");
    }
    assert!(!lines[lines.len() - 1].ends_with('\\'));
    // The list lives only in Makefile.crates (which cargo.mk includes).
    assert!(!read(&format!("{PORT}/Makefile")).contains("\nCARGO_CRATES"));
}

#[test]
fn crate_script_lists_git_sources_and_skips_path_packages() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("Cargo.lock");
    std::fs::write(
        &lock,
        r#"version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["bar", "foo", "qux"]

[[package]]
name = "bar"
version = "0.2.0"
source = "git+https://github.com/acme/tools?rev=abc123#abc123def"

[[package]]
name = "foo"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "00"

[[package]]
name = "foo"
version = "2.0.0-rc.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "00"

[[package]]
name = "qux"
version = "0.2.0"
source = "git+https://github.com/acme/tools?rev=abc123#abc123def"

[[package]]
name = "aaa"
version = "0.1.0"
source = "git+https://gitlab.com/x/y?branch=main#0123"

[[package]]
name = "local"
version = "0.3.0"
"#,
    )
    .unwrap();
    let (code, out, err) = update_py(&["crates", lock.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    // The output of the ports framework's cargo-crates.awk for this file
    // (checked with it), its git entries sorted by source.
    assert_eq!(
        out,
        "CARGO_CRATES=\tfoo-1.0.0 \\\n\
         \t\tfoo-2.0.0-rc.1 \\\n\
         \t\tbar,qux@git+https://github.com/acme/tools?rev=abc123\\#abc123def \\\n\
         \t\taaa@git+https://gitlab.com/x/y?branch=main\\#0123\n"
    );
}

#[test]
fn crate_script_refuses_what_the_framework_cannot_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.to_str().unwrap().to_string()
    };
    // Each refused with exit 1 and a message naming the file or package.
    let refused = |lock: &str, want: &[&str]| {
        let (code, _, err) = update_py(&["crates", lock]);
        assert_eq!(code, 1, "{lock}: {err}");
        for w in want {
            assert!(err.contains(w), "{lock}: {err} lacks {w}");
        }
    };
    let alt = write(
        "alt.lock",
        "[[package]]\nname = \"x\"\nversion = \"1.0.0\"\n\
         source = \"sparse+https://crates.example.net/index/\"\n",
    );
    refused(&alt, &["x 1.0.0", "cannot fetch"]);
    let bad = write("bad.lock", "[[package]\nname = \"x\"\n");
    refused(&bad, &["bad.lock", "not a Cargo.lock"]);
    let noversion = write("nv.lock", "[[package]]\nname = \"x\"\n");
    refused(&noversion, &["package 1 has no version"]);
    let missing = dir.path().join("none.lock");
    refused(missing.to_str().unwrap(), &["none.lock"]);

    let (code, _, err) = update_py(&["nonsense"]);
    assert_eq!(code, 2);
    assert!(err.contains("usage"), "{err}");
}

#[test]
fn distinfo_has_the_checksum_of_every_crate() {
    let distinfo = read(&format!("{PORT}/distinfo"));
    let mut lines = distinfo.lines();
    let stamp = lines.next().unwrap();
    assert!(
        stamp
            .strip_prefix("TIMESTAMP = ")
            .is_some_and(|t| t.parse::<u64>().is_ok()),
        "{stamp}"
    );
    let rest: Vec<&str> = lines.collect();
    let lock: Vec<Locked> = cargo_lock()
        .into_iter()
        .filter(|p| p.source.as_deref() == Some(CRATES_IO))
        .collect();
    assert_eq!(
        rest.len(),
        2 * lock.len(),
        "one SHA256 and one SIZE per crate"
    );
    let cache = cargo_cache();
    for (p, pair) in lock.iter().zip(rest.chunks(2)) {
        let file = format!("rust/crates/{}-{}.crate", p.name, p.version);
        let checksum = p
            .checksum
            .as_deref()
            .expect("registry crates have a checksum");
        assert_eq!(pair[0], format!("SHA256 ({file}) = {checksum}"));
        let size: u64 = pair[1]
            .strip_prefix(&format!("SIZE ({file}) = "))
            .unwrap_or_else(|| panic!("{}", pair[1]))
            .parse()
            .unwrap();
        // The size of cargo's own copy of the crate, where there is one.
        if let Some(dir) = &cache {
            let local = dir.join(format!("{}-{}.crate", p.name, p.version));
            if let Ok(meta) = std::fs::metadata(&local) {
                assert_eq!(size, meta.len(), "{file}");
            }
        }
    }
    // And the script prints the same (so `write` keeps it).
    let (code, out, err) = update_py(&["distinfo"]);
    if code == 0 {
        assert_eq!(out, distinfo, "distinfo is out of date");
    } else {
        // Only when cargo's cache lacks a crate; the check above holds.
        assert!(err.contains("cargo fetch --locked"), "{err}");
    }
}

/// cargo's download cache for crates.io, if there is one.
fn cargo_cache() -> Option<std::path::PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    std::fs::read_dir(home.join("registry/cache"))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("index.crates.io-"))
        })
}

#[test]
fn rc_files_of_the_port_are_rc_d_with_the_prefix() {
    for name in ["carpctl", "carpctld", "carpctl-devd.conf"] {
        let port = read(&format!("{PORT}/files/{name}.in"));
        let source = read(&format!("rc.d/{name}"));
        assert!(
            !port.contains("/usr/local"),
            "files/{name}.in: /usr/local must be %%PREFIX%%"
        );
        assert!(port.contains("%%PREFIX%%"), "files/{name}.in");
        assert_eq!(
            port.replace("%%PREFIX%%", "/usr/local"),
            source,
            "files/{name}.in differs from rc.d/{name}: run `python3 port/update.py write`"
        );
        // ports' SUB_FILES deletes "@comment " lines: there are none.
        assert!(!port.lines().any(|l| l.starts_with("@comment ")));
    }
}

/// What the port's Makefile says about its files.
#[derive(Default, Debug)]
struct Makefile {
    vars: BTreeMap<String, String>,
    /// (source, plist path) of every `${INSTALL_*} SRC DEST` line.
    installs: Vec<(String, String)>,
    /// Files of PORTEXAMPLES installed into EXAMPLESDIR.
    examples_installed: bool,
    /// The `.for VAR in WORDS` loops: VAR -> WORDS.
    loops: BTreeMap<String, Vec<String>>,
    /// Files post-build writes into ${WRKDIR}.
    built: BTreeSet<String>,
}

fn parse_makefile(text: &str) -> Makefile {
    let mut mk = Makefile::default();
    // Join continuation lines first.
    let joined = text.replace("\\\n", " ");
    for line in joined.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix(".for ") {
            let (var, words) = rest.split_once(" in ").expect(".for VAR in WORDS");
            mk.loops.insert(
                var.trim().to_string(),
                words.split_whitespace().map(str::to_string).collect(),
            );
            continue;
        }
        if !line.starts_with('\t') && !line.starts_with('#') {
            if let Some((name, value)) = line.split_once('=')
                && !name.contains(' ')
                && !name.contains(':')
            {
                let value = value.split('#').next().unwrap_or("").trim();
                mk.vars.insert(
                    name.trim_end_matches(['?', '+']).to_string(),
                    value.to_string(),
                );
            }
            continue;
        }
        let words: Vec<&str> = trimmed.split_whitespace().collect();
        if let Some(at) = words.iter().position(|w| w.starts_with("${INSTALL_")) {
            match &words[at..] {
                // The handbook's idiom for PORTEXAMPLES.
                [_, "${PORTEXAMPLES}", "${STAGEDIR}${EXAMPLESDIR}"]
                    if words[..at] == ["cd", "${WRKSRC}/examples", "&&"] =>
                {
                    mk.examples_installed = true;
                }
                [_, src, dest] => {
                    let path = dest
                        .strip_prefix("${STAGEDIR}${PREFIX}/")
                        .unwrap_or_else(|| panic!("install outside PREFIX: {line}"));
                    mk.installs.push((src.to_string(), path.to_string()));
                }
                _ => panic!("an install line this test cannot read: {line}"),
            }
        } else if words.contains(&">") {
            // post-build: `CMD ... > ${WRKDIR}/NAME`
            let target = words.last().unwrap();
            let name = target
                .strip_prefix("${WRKDIR}/")
                .expect("output into WRKDIR");
            mk.built.insert(name.to_string());
        }
    }
    mk
}

/// `name` with each `${VAR}` of a `.for` loop replaced by every word.
fn expand_loops(name: &str, loops: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    for (var, words) in loops {
        let pat = format!("${{{var}}}");
        if name.contains(&pat) {
            return words.iter().map(|w| name.replace(&pat, w)).collect();
        }
    }
    vec![name.to_string()]
}

#[test]
fn pkg_plist_lists_every_file_the_makefile_installs_and_no_other() {
    let mk = parse_makefile(&read(&format!("{PORT}/Makefile")));
    let words = |v: &str| -> Vec<String> {
        mk.vars
            .get(v)
            .unwrap_or_else(|| panic!("{v} is not set"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let sub_files = words("SUB_FILES");
    let rc_subr = words("USE_RC_SUBR");
    assert_eq!(rc_subr, ["carpctl", "carpctld"]);
    let built: BTreeSet<String> = mk
        .built
        .iter()
        .flat_map(|b| expand_loops(b, &mk.loops))
        .collect();

    // Every source exists: in the tree, as a SUB_FILES result or as
    // post-build output.
    let mut expected = BTreeSet::new();
    for (src, path) in &mk.installs {
        if let Some(rel) = src.strip_prefix("${WRKSRC}/") {
            assert!(root().join(rel).is_file(), "{src} is not in the tree");
        } else if let Some(name) = src.strip_prefix("${WRKDIR}/") {
            assert!(
                sub_files.iter().any(|s| s == name) || built.contains(name),
                "nothing makes {src}"
            );
        } else {
            assert_eq!(src, "${CARPCTL_BIN}", "unknown source {src}");
        }
        // The framework compresses manual pages when staging.
        let path = if path.starts_with("share/man/") {
            format!("{path}.gz")
        } else {
            path.clone()
        };
        assert!(expected.insert(path.clone()), "{path} installed twice");
    }
    for name in sub_files.iter().chain(&rc_subr) {
        assert!(
            root().join(format!("{PORT}/files/{name}.in")).is_file(),
            "files/{name}.in is missing"
        );
    }

    let plist_text = read(&format!("{PORT}/pkg-plist"));
    let plist: Vec<&str> = plist_text.lines().collect();
    let mut sorted = plist.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(plist, sorted, "pkg-plist is sorted, without duplicates");
    let plist: BTreeSet<String> = plist.into_iter().map(str::to_string).collect();
    assert_eq!(
        plist, expected,
        "pkg-plist and the Makefile's do-install disagree"
    );

    // What the framework lists by itself must not be in pkg-plist.
    for rc in &rc_subr {
        assert!(!plist.contains(&format!("etc/rc.d/{rc}")));
    }
    assert!(mk.examples_installed, "PORTEXAMPLES are not installed");
    for ex in words("PORTEXAMPLES") {
        assert!(root().join("examples").join(&ex).is_file(), "examples/{ex}");
        assert!(!plist.iter().any(|p| p.ends_with(&format!("/{ex}"))));
    }

    // The things the port is for: every manual page, the devd snippet
    // under etc/devd, the three completion scripts where the shells
    // look for them.
    for page in std::fs::read_dir(root().join("man")).unwrap() {
        let name = page.unwrap().file_name().into_string().unwrap();
        let section = name.rsplit('.').next().unwrap();
        assert!(
            plist.contains(&format!("share/man/man{section}/{name}.gz")),
            "man/{name} is not installed"
        );
    }
    for want in [
        "sbin/carpctl",
        "etc/devd/carpctl.conf.sample",
        "share/bash-completion/completions/carpctl",
        "share/zsh/site-functions/_carpctl",
        "share/fish/vendor_completions.d/carpctl.fish",
    ] {
        assert!(plist.contains(want), "{want} is not installed");
    }
}

#[test]
fn makefile_reader_sees_loops_installs_and_outputs() {
    // The reader above, on a small Makefile: so that a change in the
    // port's style cannot make the plist check pass by reading nothing.
    let mk = parse_makefile(
        "USES=\t\tcargo\nSUB_FILES=\ta b # c\n\npost-build:\n.for s in x y\n\
         \t${BIN} gen ${s} > ${WRKDIR}/out.${s}\n.endfor\n\ndo-install:\n\
         \t${INSTALL_DATA} ${WRKDIR}/out.x \\\n\t    ${STAGEDIR}${PREFIX}/share/x\n",
    );
    assert_eq!(mk.vars["SUB_FILES"], "a b");
    assert_eq!(mk.vars["USES"], "cargo");
    assert_eq!(mk.loops["s"], ["x", "y"]);
    assert_eq!(
        mk.installs,
        [("${WRKDIR}/out.x".to_string(), "share/x".to_string())]
    );
    assert_eq!(
        expand_loops("out.${s}", &mk.loops),
        ["out.x".to_string(), "out.y".to_string()]
    );
}

#[test]
#[should_panic(expected = "install outside PREFIX")]
fn makefile_reader_refuses_installs_it_cannot_place() {
    parse_makefile("do-install:\n\t${INSTALL_DATA} a ${STAGEDIR}/etc/a\n");
}
