//! `lint --freebsd 13|14|15|main`: the FreeBSD release the files are meant
//! for, and what it lacks (CARP068). Kept general so that more
//! release-specific rules can join it: each is a flag of [`Target`] and a
//! check here.
//!
//! * VRRPv3 (`carpver 3`, `protocol = "vrrp"`) came with FreeBSD 15
//!   (`vrrp_input_c()` and `CARP_NL_VERSION` in `sys/netinet/ip_carp.c`);
//!   ifconfig of 14 does not know `carpver`, and a 14 kernel refuses the
//!   netlink attribute.
//! * Unicast peers (`peer`, `peer6`, `unicast = true`) came with carp(4)'s
//!   netlink interface in FreeBSD 14.0 (`CARP_NL_ADDR`, `CARP_NL_ADDR6`).
//!
//! Every message names the release assumed, since the default (`main`)
//! may not be the one the user runs.

use super::{Code, Finding, Issue};
use crate::config::Config;
use crate::lint::rcconf::RcConf;
use crate::textfile::Pos;

/// What the target release offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// As the user writes it: `13.0`, `13`, `14`, `15`, `main`.
    pub label: &'static str,
    /// VRRPv3 (15 and later).
    pub vrrp: bool,
    /// Unicast peers (14 and later).
    pub unicast: bool,
}

impl Target {
    /// The newest release: everything carpctl knows is there.
    pub const MAIN: Target = Target {
        label: "main",
        vrrp: true,
        unicast: true,
    };

    fn assumed(&self) -> String {
        format!(
            "lint assumed FreeBSD {} (--freebsd {})",
            self.label, self.label
        )
    }
}

impl Default for Target {
    fn default() -> Self {
        Target::MAIN
    }
}

/// The vhids of one rc.conf that its target lacks.
pub(super) fn rc_conf(rc: &RcConf, t: Target) -> Vec<Issue> {
    let mut out = Vec::new();
    for e in &rc.vhids {
        if e.version == 3 && !t.vrrp {
            out.push(Issue::new(
                Code::NotOnTarget,
                e.pos,
                format!(
                    "vhid {} is VRRPv3 (carpver 3), which needs FreeBSD 15 or later, and {}",
                    e.vhid,
                    t.assumed()
                ),
            ));
        }
        let peer = e.peer.map(|p| p.1).or(e.peer6.map(|p| p.1));
        if let Some(pos) = peer.filter(|_| !t.unicast) {
            out.push(Issue::new(
                Code::NotOnTarget,
                pos,
                format!(
                    "vhid {} has a unicast peer, which needs FreeBSD 14 or later (carp(4) over \
                     netlink), and {}",
                    e.vhid,
                    t.assumed()
                ),
            ));
        }
    }
    out
}

/// The VIPs of a valid cluster file that its target lacks.
pub(super) fn cluster_file(cfg: &Config, t: Target) -> Vec<Finding> {
    let mut out = Vec::new();
    for v in &cfg.vips {
        let pos = v.pos.entry.unwrap_or(Pos { line: 1, column: 1 });
        let mut push = |what: &str, needs: &str| {
            out.push(Finding {
                file: cfg.path.clone(),
                line: pos.line,
                column: pos.column,
                code: Code::NotOnTarget,
                message: format!(
                    "VIP {}: {what} needs FreeBSD {needs} or later, and {}",
                    v.name,
                    t.assumed()
                ),
            });
        };
        if v.protocol == crate::model::Protocol::Vrrpv3 && !t.vrrp {
            push("protocol = \"vrrp\" (VRRPv3)", "15");
        }
        if v.unicast && !t.unicast {
            push("unicast = true (peers)", "14");
        }
    }
    out
}
