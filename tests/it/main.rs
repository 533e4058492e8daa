//! The integration tests, as one test binary: each file of `tests/it/` is a
//! module, and `common` holds the helpers they share (the real binary run
//! with a clean environment, a deadline and a memory limit; emulated hosts).
//! One binary links the library once instead of once per file.
//!
//! Two tests stay binaries of their own, because each installs a counting
//! global allocator (`tests/common/alloc.rs`) that would otherwise count, and
//! slow down, every test of this binary: `tests/fuzz.rs` and
//! `tests/limits.rs`.
//!
//! Run one module with `cargo test --test it MODULE::` (for example
//! `cargo test --test it apply::`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on what it does not expect"
)]

mod common;

mod apply;
mod apply_election;
mod cli;
mod events;
mod files;
mod freebsd_host;
mod import;
mod layers;
mod ledger;
mod lint;
mod lint_election;
mod lint_nodes;
mod lint_rules;
mod locking;
mod maintenance;
mod packaging;
mod pictures;
mod plan;
mod progress;
mod rollout;
mod rollout_run;
mod scan;
mod scenario_files;
mod simulate;
mod state;
mod switchover;
mod wire;
