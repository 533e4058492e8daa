//! rc.conf(5) and the loader.conf(5) / sysctl.conf(5) lines carp needs:
//! reading them as rc.d reads them, and writing them.
//!
//! This module is domain neutral: it knows the formats and what FreeBSD
//! makes of them (sh assignments, ifconfig(8) arguments, network.subr's
//! variable names), not what is good or bad about a file; `lint` turns
//! what it reads into findings, `migrate` and `import` rewrite it, and
//! `plan` renders a node's configuration with it.
//!
//! * [`sh`] reads sh assignments with the position of every character;
//! * [`ifconfig`] reads ifconfig(8) arguments (carp keywords, addresses);
//! * [`model`] holds what an rc.conf configures for carp (interfaces,
//!   vhids);
//! * [`names`] maps interface names to rc.conf variable names and back;
//! * [`subnets`] finds the interfaces whose subnets hold an address;
//! * [`render`] writes a node's loader.conf, sysctl.conf and rc.conf lines.

pub(crate) mod edit;
pub mod ifconfig;
pub mod model;
pub mod names;
pub mod render;
pub mod sh;
pub(crate) mod subnets;
