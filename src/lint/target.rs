//! `lint --freebsd 9|13|14|15|main`: the FreeBSD release the files are
//! meant for, and what it lacks (CARP068), or what only older releases
//! had (CARP030, CARP031). Kept general so that more release-specific
//! rules can join it: each is a flag of [`Target`] and a check here.
//!
//! * FreeBSD 9 and earlier (`--freebsd 9`, which stands for every release
//!   before 10: carpctl emulates none of them): carp(4) is an interface,
//!   `carpN` in `cloned_interfaces`, configured by `ifconfig_carpN`, and the
//!   module is `if_carp.ko` (`if_carp_load`). FreeBSD 10 made the vhid an
//!   address attribute of the parent interface and renamed the module
//!   `carp.ko` (`sys/modules/carp/Makefile`: `KMOD= carp`; Handbook
//!   `[[carp-10x]]`/`[[carp-9x]]`, freebsd-doc @ `000c4bca`). So on 9 the
//!   FreeBSD 10 forms are errors (CARP068) and the carpN forms are right;
//!   on 10 and later the carpN forms (CARP030) and `if_carp_load`
//!   (CARP031, the loader finds no `if_carp.ko` and carp(4) stays unloaded)
//!   are errors.
//! * `carpver`, `vrrpprio` and `vrrpinterval` are ifconfig keywords of
//!   FreeBSD 15 (`sbin/ifconfig/ifcarp.c`); ifconfig of 14 takes them for
//!   addresses and the line fails, whatever their value.
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
use crate::lint::loader::LoaderConf;
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
    /// FreeBSD 9 and earlier: carpN interfaces and if_carp.ko.
    pub legacy: bool,
}

impl Target {
    /// The newest release: everything carpctl knows is there.
    pub const MAIN: Target = Target {
        label: "main",
        vrrp: true,
        unicast: true,
        legacy: false,
    };

    /// FreeBSD 9 and earlier (`--freebsd 9`).
    pub const FREEBSD_9: Target = Target {
        label: "9",
        vrrp: false,
        unicast: false,
        legacy: true,
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

/// The vhids of one rc.conf that its target lacks; on FreeBSD 9 the
/// carpN form is right, so its CARP030 findings go (elsewhere they say
/// which release was assumed).
pub(super) fn rc_conf(rc: &mut RcConf, t: Target) -> Vec<Issue> {
    if t.legacy {
        rc.issues.retain(|i| i.code != Code::LegacySyntax);
    } else {
        for i in rc
            .issues
            .iter_mut()
            .filter(|i| i.code == Code::LegacySyntax)
        {
            i.message.push_str(&format!("; {}", t.assumed()));
        }
    }
    let mut out = Vec::new();
    for e in &rc.vhids {
        if t.legacy && !e.legacy {
            out.push(Issue::new(
                Code::NotOnTarget,
                e.pos,
                format!(
                    "vhid {} on {} is the FreeBSD 10 form (a vhid on an address of the \
                     interface), and {}: there carp is an interface, configured as \
                     cloned_interfaces=\"carp0\" and ifconfig_carp0=\"vhid N pass ... ADDR/M\"",
                    e.vhid,
                    rc.display_name(&e.iface),
                    t.assumed()
                ),
            ));
            continue;
        }
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
        } else if let Some((word, pos)) = e.vrrp_words.as_ref().filter(|_| !t.vrrp) {
            out.push(Issue::new(
                Code::NotOnTarget,
                *pos,
                format!(
                    "vhid {}: `{word}` is an ifconfig keyword of FreeBSD 15 (VRRPv3); ifconfig of \
                     14 and earlier takes it for an address and the line fails, and {}",
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

/// What one loader.conf loads, for the target: `if_carp_load` is right
/// on 9 and loads nothing since 10 (CARP031); `carp_load` loads nothing
/// on 9 (CARP068).
pub(super) fn loader_conf(l: &LoaderConf, t: Target) -> Vec<Issue> {
    let mut out = Vec::new();
    match (t.legacy, l.if_carp_load, l.carp_load) {
        (false, Some((true, pos)), _) => out.push(Issue::new(
            Code::IfCarpLoad,
            pos,
            format!(
                "if_carp_load loads if_carp.ko, the FreeBSD 9 module: since FreeBSD 10 the \
                 module is carp.ko (sys/modules/carp/Makefile), the loader finds no if_carp.ko \
                 and carp(4) is not loaded, so every vhid line fails; write carp_load=\"YES\"; \
                 {}",
                t.assumed()
            ),
        )),
        (true, _, Some((true, pos))) => out.push(Issue::new(
            Code::NotOnTarget,
            pos,
            format!(
                "carp_load loads carp.ko, which FreeBSD 9 does not have (its module is \
                 if_carp.ko: if_carp_load=\"YES\"), and {}",
                t.assumed()
            ),
        )),
        _ => {}
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
