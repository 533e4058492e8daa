//! `carpctl plan` at scale (issue 9, item 11: "64 nodes × 255 VIPs `plan`
//! under 1 s and 100 MB"):
//!
//! ```text
//! cargo bench --bench plan
//! ```
//!
//! Each benchmark runs the whole command in-process (read and validate the
//! cluster file, build the plan, walk the failure matrix for the balance
//! check and again for the output, write everything to a sink):
//!
//! * `plan/64x255`: 64 nodes, 255 VIPs without `prefer`, advskew_step 3
//!   (64 ranks must fit below 240: step 4 allows 60), the target;
//! * `plan/64x255_json`: the same with `--json` (18 MB of JSON);
//! * `plan/240x255`: the node limit, at advskew_step 1.
//!
//! Before criterion runs, the peak memory of one run of each is measured
//! with a counting allocator and printed (`peak heap`); the run fails if
//! `plan/64x255` is over 100 MB. The peak resident size of the real binary
//! is what `/usr/bin/time -v` reports:
//!
//! ```text
//! cargo run --release --example bigcluster -- 64 255 0 3 > big.toml
//! chmod 600 big.toml
//! /usr/bin/time -v target/release/carpctl -c big.toml plan > /dev/null
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly on what it does not expect"
)]

#[path = "../tests/common/alloc.rs"]
mod alloc;
#[path = "../tests/common/bigcluster.rs"]
mod bigcluster;

use std::hint::black_box;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use carpctl::cli::{self, Cli};
use clap::Parser;
use criterion::{Criterion, criterion_group, criterion_main};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

/// The target of item 11 for 64 × 255.
const TARGET_BYTES: usize = alloc::mib(100);

fn write_cluster(dir: &Path, nodes: usize, vips: usize, step: u8) -> String {
    let file = dir.join(format!("{nodes}x{vips}.toml"));
    std::fs::write(&file, bigcluster::cluster(nodes, vips, 0, step)).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    file.to_str().unwrap().to_string()
}

fn run(args: &[&str]) {
    let cli = Cli::try_parse_from(std::iter::once("carpctl").chain(args.iter().copied()))
        .expect("valid arguments");
    cli::run(&cli, &mut std::io::sink()).expect("plan succeeds");
}

fn plan(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let f64 = write_cluster(dir.path(), 64, 255, 3);
    let f240 = write_cluster(dir.path(), 240, 255, 1);
    let cases: [(&str, Vec<&str>); 3] = [
        ("64x255", vec!["-c", &f64, "plan"]),
        ("64x255_json", vec!["-c", &f64, "plan", "--json"]),
        ("240x255", vec!["-c", &f240, "plan"]),
    ];
    for (name, args) in &cases {
        let ((), bytes) = alloc::peak(|| run(args));
        println!("plan/{name}: peak heap {:.1} MB", bytes as f64 / 1e6);
        if *name == "64x255" {
            assert!(bytes < TARGET_BYTES, "{name}: {bytes} bytes, target 100 MB");
        }
    }
    let mut g = c.benchmark_group("plan");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for (name, args) in &cases {
        g.bench_function(*name, |b| b.iter(|| run(black_box(args))));
    }
    g.finish();
}

criterion_group!(benches, plan);
criterion_main!(benches);
