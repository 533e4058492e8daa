//! Memory of `plan`, `lint` and `import` at the largest inputs they
//! accept, measured with a counting allocator: no test here times
//! anything (timings live in benches/). Each test fails on an algorithm
//! that is quadratic in memory, whatever the machine's speed.
//!
//! * `plan` at the node limit (240 nodes, 255 VIPs): the failure matrix
//!   has 28 920 entries of 255 owners each; held whole it took 1.6 GB.
//! * `lint` and `import` of a 1 MiB `ifconfig_IF_aliases` line: each
//!   address's command copied every word of the line, 3 GB for 8000
//!   addresses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on what it does not expect"
)]

#[path = "common/alloc.rs"]
mod alloc;
#[path = "common/bigcluster.rs"]
mod bigcluster;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use carpctl::cli::{self, Cli, CliError};
use carpctl::lint::{self, Input, Options};
use clap::Parser;

use alloc::{mib, peak};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

fn big_cluster(nodes: usize, vips: usize, step: u8) -> String {
    bigcluster::cluster(nodes, vips, 0, step)
}

/// Run carpctl in this process with `args`, its output thrown away.
fn carpctl(args: &[&str]) -> Result<(), CliError> {
    let cli = Cli::try_parse_from(std::iter::once("carpctl").chain(args.iter().copied()))
        .expect("valid arguments");
    cli::run(&cli, &mut std::io::sink())
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// 240 nodes (the limit) and 255 VIPs at advskew_step 1: the plan itself
/// is 61 200 ranks; the failure matrix, walked one entry at a time, adds
/// next to nothing. Held whole it was 1.6 GB.
#[test]
fn plan_at_the_node_limit_walks_the_failure_matrix_in_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.toml");
    write_private(&file, &big_cluster(240, 255, 1));
    let path = file.to_str().unwrap();
    let (r, bytes) = peak(|| carpctl(&["-c", path, "plan"]));
    r.expect("plan succeeds");
    assert!(bytes < mib(64), "plan of 240 x 255 peaked at {bytes} bytes");
}

/// `plan --json` streams the failure matrix: 100 nodes and 255 VIPs give
/// 5 150 entries (about 30 MB of JSON), and the document is never held.
#[test]
fn plan_json_streams_the_failure_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.toml");
    write_private(&file, &big_cluster(100, 255, 2));
    let path = file.to_str().unwrap();
    let (r, bytes) = peak(|| carpctl(&["-c", path, "plan", "--json"]));
    r.expect("plan succeeds");
    assert!(
        bytes < mib(32),
        "plan --json of 100 x 255 peaked at {bytes} bytes"
    );
}

/// One node past the limit is refused while reading the file, before any
/// plan is built.
#[test]
fn a_cluster_past_the_node_limit_is_refused_before_planning() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.toml");
    write_private(&file, &big_cluster(241, 255, 1));
    let path = file.to_str().unwrap();
    let (r, bytes) = peak(|| carpctl(&["-c", path, "plan"]));
    let e = r.expect_err("241 nodes are refused");
    assert_eq!(e.exit_code(), 2);
    assert!(
        bytes < mib(32),
        "refusing 241 nodes peaked at {bytes} bytes"
    );
    // The one error, at the 241st [[node]] (line 965 of this file).
    let text = big_cluster(241, 255, 1);
    let diags = carpctl::config::parse(&text, &file, Some(0o600)).expect_err("refused");
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("big.toml:965:1: [[node]] #241: a cluster has at most 240 nodes"),
        "{}",
        errors[0]
    );
}

/// An rc.conf of one `ifconfig_em0_aliases` line just under lint's 1 MiB
/// cap, its words made by `word(i)`.
fn aliases_line(word: impl Fn(usize) -> String) -> String {
    let mut s = String::from("ifconfig_em0=\"inet 10.0.0.1/8\"\nifconfig_em0_aliases=\"");
    let mut i = 0;
    loop {
        let w = word(i);
        if s.len() + w.len() + 3 > lint::MAX_FILE as usize {
            break;
        }
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&w);
        i += 1;
    }
    s.push_str("\"\n");
    s
}

fn v4(i: usize) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
}

/// The lines that cost most: one vhid per address (a command and an entry
/// each), addresses of the interface itself, and vhid addresses outside
/// every subnet of the interface (a finding each).
fn worst_aliases_lines() -> Vec<(&'static str, String)> {
    vec![
        (
            "one vhid per address",
            aliases_line(|i| format!("inet vhid {} pass x {}/32", i % 255 + 1, v4(i))),
        ),
        (
            "own addresses",
            aliases_line(|i| format!("inet {}/32", v4(i))),
        ),
        (
            "vhid addresses outside the subnets",
            aliases_line(|i| {
                if i % 2 == 0 {
                    format!("inet 172.16.{}.{}/32", (i >> 8) & 255, i & 255)
                } else {
                    format!(
                        "inet vhid {} pass x 192.168.{}.{}/32",
                        i % 255 + 1,
                        (i >> 8) & 255,
                        i & 255
                    )
                }
            }),
        ),
    ]
}

#[test]
fn lint_of_a_1_mib_aliases_line_stays_under_100_mib() {
    for (what, text) in worst_aliases_lines() {
        assert!(text.len() <= lint::MAX_FILE as usize);
        let input = Input::new("rc.conf", text);
        let (findings, bytes) =
            peak(|| lint::lint(std::slice::from_ref(&input), &Options::default()));
        eprintln!("lint, {what}: peak {bytes} bytes");
        assert!(
            bytes < mib(100),
            "{what}: lint of 1 MiB peaked at {bytes} bytes ({} findings)",
            findings.len()
        );
    }
}

#[test]
fn import_of_a_1_mib_aliases_line_stays_under_100_mib() {
    for (what, text) in worst_aliases_lines() {
        let nodes = [carpctl::migrate::ImportNode {
            name: Some("a".into()),
            path: "a.rc.conf".into(),
            text,
        }];
        let (r, bytes) = peak(|| carpctl::migrate::import(&nodes, &Default::default()).map(|_| ()));
        eprintln!("import, {what}: peak {bytes} bytes");
        // "own addresses" has no vhid to import: an error, not a crash.
        let _ = r;
        assert!(
            bytes < mib(100),
            "{what}: import of 1 MiB peaked at {bytes} bytes"
        );
    }
}

/// A devd.conf block of 300 matches like `(a{1000}){30}`: 9 KB that each
/// compiled to about 2 MB, all held at once (700 MB, 4 s). Now only the
/// `system`, `subsystem` and `type` regexes of a notify block are
/// compiled, with a size limit; the others are parsed only.
#[test]
fn lint_of_a_devd_block_of_huge_regexes_stays_small() {
    let mut text = String::from("notify 0 {\n\tmatch \"system\" \"CARP\";\n");
    for i in 0..300 {
        text.push_str(&format!("\tmatch \"k{i}\" \"(a{{1000}}){{30}}\";\n"));
    }
    text.push_str("\tmatch \"type\" \"(a{1000}){30}\";\n\taction \"x\";\n};\n");
    let input = Input::new("devd.conf", text);
    let (findings, bytes) = peak(|| lint::lint(std::slice::from_ref(&input), &Options::default()));
    eprintln!("lint, devd.conf of huge regexes: peak {bytes} bytes");
    assert!(bytes < mib(16), "peaked at {bytes} bytes");
    // Valid regexes, too large to check: not reported as invalid.
    assert!(
        findings
            .iter()
            .all(|f| f.code != carpctl::lint::codes::Code::DevdBadRegex),
        "{findings:?}"
    );
}
