//! carpctl: highly available, load-balanced FreeBSD servers with the kernel's
//! own carp(4).
//!
//! Layers point one way: `cli` -> (config, apply, ...) -> [`kernel::Kernel`]
//! -> [`kernel::freebsd`] -> `carpctl-sys`. Nothing above `kernel::freebsd`
//! names libc, an ioctl or a sysctl string.

pub(crate) mod apply;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod events;
pub(crate) mod fsutil;
pub mod hooks;
pub mod hostlock;
pub mod kernel;
pub mod ledger;
pub mod lint;
pub(crate) mod logging;
pub mod maintenance;
pub mod migrate;
pub mod model;
pub(crate) mod picture;
pub mod plan;
pub mod rcconf;
pub mod rollout;
pub mod scan;
pub mod sim;
pub(crate) mod status;
pub(crate) mod switchover;
pub(crate) mod text;
pub(crate) mod textfile;
pub mod wire;
