//! The layer order of `src/` (docs/architecture.md), enforced: every
//! `crate::X` path and every `carpctl_sys` name in `src/**/*.rs` is an
//! edge between two top-level modules, and an edge must go down the order
//!
//! ```text
//! cli → domain → config → backends → kernel (trait) → codecs → model → utilities → sys
//! ```
//!
//! Modules of one layer may use each other, but never both ways (a cycle).
//! `carpctl_sys` (the kernel's ABI) is named only by the layers that speak
//! to the kernel or its wire format: kernel, backends, codecs, model.
//! Test code inside `src/` counts too: it is part of the module.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// Each layer, top first, with its top-level modules (`kernel::freebsd`
/// and `kernel::emulated` count as modules of their own).
const LAYERS: &[(&str, &[&str])] = &[
    ("cli", &["cli", "main", "lib"]),
    (
        "domain",
        &[
            "apply",
            "lint",
            "migrate",
            "daemon",
            "sim",
            "checks",
            "metrics",
            "hooks",
            "ledger",
            "maintenance",
            "hostlock",
            "status",
            "picture",
            "scan",
            "rollout",
            "switchover",
        ],
    ),
    // The rc.conf format: parsed for lint and migrate, rendered for plan.
    ("formats", &["rcconf"]),
    ("config", &["config"]),
    // The cluster arithmetic (orders, skews, failure matrix): pure, over
    // the model's types; config builds a plan from a cluster file.
    ("plan", &["plan"]),
    // The backends implement the kernel trait, so they use it: in "may
    // use" order they sit above it, although calls go from the domain
    // through the trait down into them.
    (
        "backends",
        &["kernel::freebsd", "kernel::emulated", "scan::capture"],
    ),
    ("kernel trait", &["kernel"]),
    // What the kernel sends and receives: CARP/VRRP packets, devd and
    // netlink event records.
    ("codecs", &["wire", "events"]),
    // The vocabulary types (Vhid, AdvSkew, CarpState...) every layer above
    // speaks, the kernel trait and the codecs included.
    ("model", &["model"]),
    ("utilities", &["fsutil", "text", "textfile", "logging"]),
    ("sys", &["sys"]),
];

/// Layers that may name `carpctl_sys`.
const SYS_USERS: &[&str] = &["backends", "kernel trait", "codecs", "model", "sys"];

/// Edges against the order that the stage-1 lanes of issue 11 remove; the
/// lead empties this list when merging them. An entry that matches no edge
/// fails the test, so the list cannot rot.
const KNOWN_UNTIL_MERGE: &[(&str, &str, &str)] = &[];

/// One `crate::X` (or `carpctl_sys`) reference.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edge {
    file: String,
    line: usize,
    from: String,
    to: String,
}

/// An edge against the order, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    edge: Edge,
    why: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.edge;
        write!(
            f,
            "{}:{}: {} -> {}: {}",
            e.file, e.line, e.from, e.to, self.why
        )
    }
}

/// The top-level module of a file, from its path under `src/`.
fn module_of_file(rel: &str) -> String {
    let stem = rel.strip_suffix(".rs").unwrap_or(rel);
    let parts: Vec<&str> = stem.split('/').collect();
    match parts.as_slice() {
        [first, second, ..] if is_submodule(first, second) => format!("{first}::{second}"),
        [first, ..] => (*first).to_string(),
        [] => unreachable!("split yields at least one part"),
    }
}

/// Whether `first::second` has a layer of its own in [`LAYERS`]
/// (`kernel::freebsd`, `scan::capture`, ...).
fn is_submodule(first: &str, second: &str) -> bool {
    let name = format!("{first}::{second}");
    LAYERS
        .iter()
        .any(|(_, modules)| modules.contains(&name.as_str()))
}

/// The top-level module a `crate::` path names, from its segments.
fn module_of_path(path: &str) -> String {
    let mut segs = path.split("::");
    let first = segs.next().unwrap_or_default();
    match segs.next() {
        Some(second) if is_submodule(first, second) => format!("{first}::{second}"),
        _ => first.to_string(),
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every edge of one source file (`rel` is its path under `src/`). Line
/// comments (doc comments included) are not code and are skipped.
fn edges_of(rel: &str, source: &str) -> Vec<Edge> {
    let from = module_of_file(rel);
    let mut edges = Vec::new();
    let mut push = |line: usize, to: String| {
        if to != from {
            edges.push(Edge {
                file: format!("src/{rel}"),
                line,
                from: from.clone(),
                to,
            });
        }
    };
    for (index, full) in source.lines().enumerate() {
        let code = full.split("//").next().unwrap_or_default();
        for (at, _) in code.match_indices("crate::") {
            // `carpctl_sys::` or `my_crate::` is not `crate::`.
            if code[..at].ends_with(is_ident) {
                continue;
            }
            let rest = &code[at + "crate::".len()..];
            let path: String = rest
                .chars()
                .take_while(|&c| is_ident(c) || c == ':')
                .collect();
            let path = path.trim_end_matches(':');
            if !path.is_empty() {
                push(index + 1, module_of_path(path));
            }
        }
        for (at, _) in code.match_indices("carpctl_sys") {
            let before = code[..at].chars().next_back();
            let after = code[at + "carpctl_sys".len()..].chars().next();
            if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
                push(index + 1, "sys".to_string());
            }
        }
    }
    edges
}

/// The layer of a module, as its index in [`LAYERS`] (0 is the top).
fn layer(module: &str) -> Option<(usize, &'static str)> {
    LAYERS
        .iter()
        .enumerate()
        .find(|(_, (_, modules))| modules.contains(&module))
        .map(|(i, (name, _))| (i, *name))
}

/// The edges that go against the order.
fn violations(edges: &[Edge]) -> Vec<Violation> {
    let pairs: BTreeSet<(&str, &str)> = edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    let mut out = Vec::new();
    for e in edges {
        let why = match (layer(&e.from), layer(&e.to)) {
            (None, _) => Some(format!("module {} has no layer in LAYERS", e.from)),
            (_, None) => Some(format!("module {} has no layer in LAYERS", e.to)),
            (Some((from, from_name)), Some((to, to_name))) => {
                if from > to {
                    Some(format!("{from_name} is below {to_name}: an edge upward"))
                } else if from == to && pairs.contains(&(e.to.as_str(), e.from.as_str())) {
                    Some(format!("{} also uses {}: a cycle", e.to, e.from))
                } else if e.to == "sys" && !SYS_USERS.contains(&from_name) {
                    Some(format!("{from_name} names carpctl_sys directly"))
                } else {
                    None
                }
            }
        };
        if let Some(why) = why {
            out.push(Violation {
                edge: e.clone(),
                why,
            });
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// A unit-test file (`tests.rs`, `*_tests.rs`, or under a `tests/`
/// directory): test code may build its fixtures from any module, so its
/// edges are not part of the order.
fn is_test_file(rel: &str) -> bool {
    let stem = rel.strip_suffix(".rs").unwrap_or(rel);
    stem.split('/')
        .any(|part| part == "tests" || part.ends_with("_tests"))
}

/// Every edge of `src/` (production code; unit-test files aside).
fn source_edges() -> Vec<Edge> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut edges = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        if is_test_file(&rel) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        edges.extend(edges_of(&rel, &text));
    }
    edges
}

/// Splits violations into those [`KNOWN_UNTIL_MERGE`] lists and the rest,
/// and names the allowlist entries that matched nothing.
fn check(violations: Vec<Violation>) -> (Vec<Violation>, Vec<String>) {
    let mut used = BTreeSet::new();
    let mut unexpected = Vec::new();
    for v in violations {
        match KNOWN_UNTIL_MERGE
            .iter()
            .position(|(from, to, _)| v.edge.from == *from && v.edge.to == *to)
        {
            Some(i) => {
                used.insert(i);
            }
            None => unexpected.push(v),
        }
    }
    let stale = KNOWN_UNTIL_MERGE
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .map(|(_, (from, to, why))| format!("{from} -> {to} ({why})"))
        .collect();
    (unexpected, stale)
}

#[test]
fn every_edge_of_src_goes_down_the_layer_order() {
    let edges = source_edges();
    assert!(
        edges.len() > 100,
        "found only {} edges: is src/ read?",
        edges.len()
    );
    let (unexpected, stale) = check(violations(&edges));
    let mut report = String::new();
    for v in &unexpected {
        report.push_str(&format!("{v}\n"));
    }
    for s in &stale {
        report.push_str(&format!(
            "KNOWN_UNTIL_MERGE entry matches no edge any more, remove it: {s}\n"
        ));
    }
    assert!(
        report.is_empty(),
        "layer order (docs/architecture.md):\n{report}"
    );
}

#[test]
fn the_checker_catches_planted_bad_edges() {
    let files = [
        // Upward: config is below cli.
        (
            "config/x.rs",
            "use crate::model::Vhid;\n\nuse crate::cli::Cli;\n",
        ),
        // A cycle inside the domain layer.
        ("apply.rs", "fn f() { crate::lint::run(); }\n"),
        (
            "lint/mod.rs",
            "use crate::apply::Desired; // comment: crate::cli\n",
        ),
        // carpctl_sys from the domain.
        ("hooks.rs", "const M: u8 = carpctl_sys::CARP_MAXSKEW;\n"),
        // Fine: downward edges, and names that only look like edges.
        (
            "kernel/emulated/a.rs",
            "use crate::kernel::freebsd::x;\nuse crate::wire::y;\nuse carpctl_sys::z;\n\
             // use crate::cli::Cli;\nlet s = my_crate::cli; let t = carpctl_sys_like;\n",
        ),
        ("cli/mod.rs", "use crate::kernel::emulated::EmulatedHost;\n"),
    ];
    let edges: Vec<Edge> = files
        .iter()
        .flat_map(|(rel, text)| edges_of(rel, text))
        .collect();
    let found: Vec<String> = violations(&edges).iter().map(|v| v.to_string()).collect();
    assert_eq!(
        found,
        [
            "src/config/x.rs:3: config -> cli: config is below cli: an edge upward",
            "src/apply.rs:1: apply -> lint: lint also uses apply: a cycle",
            "src/lint/mod.rs:1: lint -> apply: apply also uses lint: a cycle",
            "src/hooks.rs:1: hooks -> sys: domain names carpctl_sys directly",
        ],
        "edges: {edges:#?}"
    );
    // A planted edge the allowlist does not name is reported; an allowlist
    // entry without its edge is stale.
    let (unexpected, stale) = check(violations(&edges));
    assert_eq!(unexpected.len(), 4);
    assert_eq!(stale.len(), KNOWN_UNTIL_MERGE.len());
}
