//! rc.conf(5) as rc.d reads it for carp: interfaces, their own addresses,
//! their vhid aliases, and the FreeBSD 9 form.
//!
//! How `/etc/rc.d/netif` turns rc.conf into ifconfig calls
//! (`libexec/rc/network.subr` @ `03ccfdd2`, docs/freebsd-carp.md §5.4):
//!
//! * `ifconfig_IF` is one ifconfig call (`eval ifconfig IF $args`), with
//!   the pseudo-arguments DHCP, NOAUTO, WPA... removed; `ifconfig_IF_ipv6`
//!   another, for inet6;
//! * the variable name of an interface has `.`, `-`, `/` and `+` replaced
//!   by `_` (`get_if_var`): `em0.100` is `ifconfig_em0_100`;
//! * `ifconfig_IF_aliasN` are taken sorted by N; each value is cut at every
//!   `inet`/`inet6`/`link`/`ether` keyword and each piece runs as
//!   `ifconfig IF <piece> alias`; a value without a leading `inet` gets one,
//!   with the warning `needs leading "inet" keyword`; an empty aliasN stops
//!   the list (`break`). The FreeBSD 10 network.subr stopped at the first
//!   missing N instead (and the FreeBSD 10 upgrade notes of the time say
//!   so), so a gap is reported too;
//! * `ifconfig_IF_aliases` is cut the same way, but words before the first
//!   address family keyword are dropped without a word;
//! * FreeBSD 9 and earlier: `cloned_interfaces="carp0"` creates the carp
//!   pseudo-interface and `ifconfig_carp0="vhid 1 pass x 192.168.1.50/24"`
//!   configures it; since FreeBSD 10 carp is not an interface and both fail.
//!
//! Module loading: network.subr does not load carp.ko; `kld_list` in
//! rc.conf or `carp_load` in loader.conf must (docs/freebsd-carp.md §5.4).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::rc::Rc;

use ipnet::IpNet;

use super::Issue;
use super::codes::Code;
use crate::rcconf::ifconfig::{self, AddressFamily, Command, Token};
use crate::rcconf::model::{Iface, VhidEntry};
use crate::rcconf::names::{IfconfigVar, classify, is_carp_iface};
use crate::rcconf::sh::{self, Assignment, ShFile};
use crate::rcconf::subnets;
use crate::textfile::Pos;

mod addrs;
mod ifaces;
mod shlines;
mod vhids;

use shlines::sh_issues;
use vhids::{command_issues, merge};

/// What lint knows about one rc.conf.
#[derive(Debug, Clone, Default)]
pub struct RcConf {
    pub(crate) sh: ShFile,
    /// `hostname`, up to the first dot.
    pub(crate) hostname: Option<String>,
    /// By rc.conf interface name (normalized: `em0_100`).
    pub interfaces: BTreeMap<String, Iface>,
    /// Display names from `vlans_IF` (`em0_100` -> `em0.100`).
    pub(crate) display_names: BTreeMap<String, String>,
    pub vhids: Vec<VhidEntry>,
    /// Whether the FreeBSD 9 form is used (and where, first).
    pub legacy: Option<Pos>,
    /// Whether any FreeBSD 10 form vhid is configured.
    pub modern: bool,
    /// `kld_list` loads carp.
    pub(crate) kld_carp: bool,
    /// `ucarp_vhid`, when ucarp is configured.
    pub(crate) ucarp_vhid: Option<u8>,
    pub issues: Vec<Issue>,
}

impl RcConf {
    /// The name to show for an rc.conf interface name.
    pub(crate) fn display_name(&self, iface: &str) -> String {
        self.display_names
            .get(iface)
            .cloned()
            .unwrap_or_else(|| iface.to_string())
    }

    /// Every interface (not carpN) whose own subnets hold `addr`, by name.
    pub fn subnet_holders(&self, addr: IpAddr) -> Vec<String> {
        subnets::holders(&subnets::subnet_index(&self.interfaces), addr)
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// The first position where a vhid is configured.
    pub(crate) fn first_vhid_pos(&self) -> Option<Pos> {
        self.vhids.iter().map(|v| v.pos).min()
    }
}

/// One ifconfig command taken from an assignment, before merging.
struct IfconfigCall<'a> {
    a: &'a Assignment,
    iface: String,
    legacy: bool,
    /// Every word of the assignment's value, shared by all the commands
    /// cut from it: one `ifconfig_IF_aliases` line of k addresses gives k
    /// commands, and a copy each would be quadratic.
    toks: Rc<[Token<'a>]>,
    c: Command,
}

impl IfconfigCall<'_> {
    fn pos(&self, tok: usize) -> Pos {
        self.a.pos_at(self.toks.get(tok).map_or(0, |t| t.start))
    }
}

/// Read one rc.conf.
pub fn analyze(src: &str) -> RcConf {
    let sh = sh::parse(src);
    let mut rc = RcConf::default();
    sh_issues(&mut rc, &sh);
    let effective: Vec<&Assignment> = sh.effective();
    let mut cmds: Vec<IfconfigCall<'_>> = Vec::new();
    let mut aliases: BTreeMap<String, Vec<(u32, &Assignment)>> = BTreeMap::new();
    for a in &effective {
        if a.typographic {
            // Already an error; its words are not what the author meant.
            continue;
        }
        variable(&mut rc, a);
        ifconfig_variable(&mut rc, a, &mut cmds, &mut aliases);
    }
    for (iface, list) in aliases {
        alias_list(&mut rc, &iface, list, &mut cmds);
    }
    own_addresses(&mut rc, &cmds);
    for c in &cmds {
        command_issues(&mut rc, c);
    }
    merge(&mut rc, &cmds);
    addrs::check(&mut rc, &cmds);
    ifaces::check(&mut rc, &effective);
    super::subnets::subnets(&mut rc);
    drop(cmds);
    drop(effective);
    rc.sh = sh;
    rc
}

/// The variables other than ifconfig's: hostname, kld_list,
/// cloned_interfaces, vlans_IF, ipv4_addrs_IF, ucarp_*.
fn variable(rc: &mut RcConf, a: &Assignment) {
    match a.name.as_str() {
        "hostname" => {
            let h = a.value.split('.').next().unwrap_or("").trim();
            if !h.is_empty() {
                rc.hostname = Some(h.to_string());
            }
        }
        "kld_list" => {
            rc.kld_carp = a
                .value
                .split_whitespace()
                .any(|m| m == "carp" || m == "carp.ko" || m.ends_with("/carp.ko"));
        }
        "cloned_interfaces" => cloned_interfaces(rc, a),
        n if n.starts_with("vlans_") => {
            let parent = &n["vlans_".len()..];
            for t in ifconfig::split(&a.value) {
                if t.text.bytes().all(|b| b.is_ascii_digit()) {
                    rc.display_names.insert(
                        format!("{parent}_{}", t.text),
                        format!("{parent}.{}", t.text),
                    );
                }
            }
        }
        n if n.starts_with("ipv4_addrs_") => {
            let iface = n["ipv4_addrs_".len()..].to_string();
            let toks = ifconfig::split(&a.value);
            let c = ifconfig::parse(&toks, Some(AddressFamily::Inet));
            let entry = rc.interfaces.entry(iface).or_default();
            entry.own.extend(c.addresses.iter().map(|x| x.net));
        }
        n if n.starts_with("ucarp") => ucarp(rc, a, n),
        _ => {}
    }
}

/// `LegacySyntax`: carpN in cloned_interfaces, the FreeBSD 9 form.
fn cloned_interfaces(rc: &mut RcConf, a: &Assignment) {
    let carps: Vec<(String, Pos)> = ifconfig::split(&a.value)
        .iter()
        .map(|t| {
            (
                t.text.split(':').next().unwrap_or(t.text).to_string(),
                a.pos_at(t.start),
            )
        })
        .filter(|(name, _)| is_carp_iface(name))
        .collect();
    let Some((_, pos)) = carps.first() else {
        return;
    };
    let pos = *pos;
    let names: Vec<&str> = carps.iter().map(|(n, _)| n.as_str()).collect();
    rc.legacy = Some(rc.legacy.map_or(pos, |p| p.min(pos)));
    rc.issues.push(Issue::new(
        Code::LegacySyntax,
        pos,
        format!(
            "{} in cloned_interfaces {} the FreeBSD 9 form: since FreeBSD 10 carp \
             is not an interface, so `ifconfig {} create` fails at boot; run \
             `carpctl migrate FILE` to rewrite the carp configuration as aliases \
             of the parent interface",
            names.join(", "),
            if names.len() == 1 { "is" } else { "are" },
            names.first().copied().unwrap_or("carp0")
        ),
    ));
}

/// `Ucarp`: a ucarp_* variable (reported once); keeps `ucarp_vhid`.
fn ucarp(rc: &mut RcConf, a: &Assignment, n: &str) {
    if rc.ucarp_vhid.is_none() {
        rc.ucarp_vhid = Some(0);
        rc.issues.push(Issue::new(
            Code::Ucarp,
            a.pos,
            format!(
                "{n} configures ucarp(8) from the net/ucarp port, a user-space CARP \
                 daemon; the kernel's carp(4), ifconfig and carpctl do not read \
                 ucarp_* variables. For carp(4), configure the vhid on the interface \
                 (ifconfig_IF_alias0=\"inet vhid N pass ... alias ADDR/32\") and \
                 carp_load=\"YES\" in loader.conf; never run ucarp and carp(4) with \
                 the same vhid on one segment"
            ),
        ));
    }
    if n == "ucarp_vhid"
        && let Ok(v) = a.value.trim().parse::<u8>()
    {
        rc.ucarp_vhid = Some(v);
    }
}

/// The ifconfig variables: `ifconfig_IF` and `ifconfig_IF_ipv6` become
/// commands now, `ifconfig_IF_aliases` too (`AliasesIgnored` for words
/// before any family); `ifconfig_IF_aliasN` are kept for `alias_list`.
fn ifconfig_variable<'a>(
    rc: &mut RcConf,
    a: &'a Assignment,
    cmds: &mut Vec<IfconfigCall<'a>>,
    aliases: &mut BTreeMap<String, Vec<(u32, &'a Assignment)>>,
) {
    match classify(&a.name) {
        IfconfigVar::Other => {}
        IfconfigVar::Main(iface) => {
            let legacy = is_carp_iface(&iface);
            push_cmds(cmds, a, &iface, legacy, Some(AddressFamily::Inet));
        }
        IfconfigVar::Ipv6(iface) => {
            let legacy = is_carp_iface(&iface);
            push_cmds(cmds, a, &iface, legacy, Some(AddressFamily::Inet6));
        }
        IfconfigVar::Alias(iface, n) => aliases.entry(iface).or_default().push((n, a)),
        IfconfigVar::Aliases(iface) => {
            let legacy = is_carp_iface(&iface);
            let toks: Rc<[Token<'_>]> = ifconfig::split(&a.value).into();
            let ch = ifconfig::chunks(&toks);
            for c in &ch {
                if c.af.is_none() {
                    let pos = toks.get(c.start).map_or(a.value_pos, |t| a.pos_at(t.start));
                    rc.issues.push(Issue::new(
                        Code::AliasesIgnored,
                        pos,
                        format!(
                            "{}: these words come before any inet or inet6 keyword, and \
                             network.subr ignores them without a word, so nothing here is \
                             configured; start each address with inet (or inet6): \
                             \"inet vhid N ... alias ADDR/32 inet ...\"",
                            a.name
                        ),
                    ));
                }
            }
            push_chunks(cmds, a, &iface, legacy, &toks, &ch);
        }
    }
}

/// The `ifconfig_IF_aliasN` of one interface: sorted by N, no gaps
/// (`AliasGap`), an empty one stops the list, each needs a leading
/// family (`MissingInet`).
fn alias_list<'a>(
    rc: &mut RcConf,
    iface: &str,
    mut list: Vec<(u32, &'a Assignment)>,
    cmds: &mut Vec<IfconfigCall<'a>>,
) {
    list.sort_by_key(|(n, _)| *n);
    let legacy = is_carp_iface(iface);
    let mut expect = 0u32;
    for (n, a) in list {
        if a.value.trim().is_empty() {
            rc.issues.push(Issue::new(
                Code::AliasGap,
                a.pos,
                format!(
                    "{} is empty: network.subr stops at an empty alias, so the aliases after \
                     it are never configured; remove it and renumber",
                    a.name
                ),
            ));
            return;
        }
        if n != expect {
            let missing = if expect + 1 == n {
                format!("alias{expect}")
            } else {
                format!("alias{expect} to alias{}", n.saturating_sub(1))
            };
            rc.issues.push(Issue::new(
                Code::AliasGap,
                a.pos,
                format!(
                    "{} follows a gap ({missing} missing): the FreeBSD 10 network.subr stops \
                     at the first missing number, so this alias and the later ones are \
                     ignored there; number the aliases 0, 1, 2... without gaps",
                    a.name
                ),
            ));
        }
        expect = n.saturating_add(1);
        let toks: Rc<[Token<'_>]> = ifconfig::split(&a.value).into();
        let ch = ifconfig::chunks(&toks);
        missing_inet(rc, a, &toks, &ch);
        push_chunks(cmds, a, iface, legacy, &toks, &ch);
    }
}

/// `MissingInet`: an alias whose value does not start with a family.
fn missing_inet(rc: &mut RcConf, a: &Assignment, toks: &[Token<'_>], ch: &[ifconfig::Chunk]) {
    let Some(first) = ch.first() else {
        return;
    };
    if first.af.is_some() {
        return;
    }
    let pos = toks
        .get(first.start)
        .map_or(a.value_pos, |t| a.pos_at(t.start));
    let v6 = ifconfig::parse(toks.get(first.start..first.end).unwrap_or_default(), None)
        .addresses
        .iter()
        .any(|x| x.net.addr().is_ipv6());
    rc.issues.push(Issue::new(
        Code::MissingInet,
        pos,
        if v6 {
            format!(
                "{} needs a leading inet6 keyword: network.subr puts \"inet\" in front \
                 of a value without one, and an IPv6 address then fails; write \
                 \"inet6 vhid ...\"",
                a.name
            )
        } else {
            format!(
                "{} needs a leading \"inet\" keyword: network.subr adds it with a \
                 warning at boot, but does not remove this alias on `service netif \
                 stop`; write \"inet vhid ...\"",
                a.name
            )
        },
    ));
}

/// The interfaces' own addresses: every command without a vhid (and not
/// the FreeBSD 9 form); the others only make the interface known.
fn own_addresses(rc: &mut RcConf, cmds: &[IfconfigCall<'_>]) {
    for c in cmds {
        if c.c.vhid.is_none() && !c.c.is_carp() && !c.legacy {
            let entry = rc.interfaces.entry(c.iface.clone()).or_default();
            for x in &c.c.addresses {
                let net = if x.prefix_given {
                    x.net
                } else {
                    IpNet::new(x.net.addr(), ifconfig::default_prefix(x.net.addr()))
                        .unwrap_or(x.net)
                };
                entry.own.push(net);
            }
        } else {
            rc.interfaces.entry(c.iface.clone()).or_default();
        }
    }
}

/// Add one command per assignment (`ifconfig_IF`, `ifconfig_IF_ipv6`).
fn push_cmds<'a>(
    cmds: &mut Vec<IfconfigCall<'a>>,
    a: &'a Assignment,
    iface: &str,
    legacy: bool,
    af: Option<AddressFamily>,
) {
    let toks = ifconfig::split(&a.value);
    let c = ifconfig::parse(&toks, af);
    cmds.push(IfconfigCall {
        a,
        iface: iface.to_string(),
        legacy,
        toks: toks.into(),
        c,
    });
}

/// Add one command per address-family chunk of an alias value. Chunks
/// without a family run as inet (network.subr's compatibility), except in
/// `ifconfig_IF_aliases`, where rc.d ignores them.
fn push_chunks<'a>(
    cmds: &mut Vec<IfconfigCall<'a>>,
    a: &'a Assignment,
    iface: &str,
    legacy: bool,
    toks: &Rc<[Token<'a>]>,
    ch: &[ifconfig::Chunk],
) {
    let aliases_var = a.name.ends_with("_aliases");
    for chunk in ch {
        if chunk.af.is_none() && aliases_var {
            continue;
        }
        let Some(words) = toks.get(chunk.start..chunk.end) else {
            continue;
        };
        let mut c = ifconfig::parse(words, chunk.af.or(Some(AddressFamily::Inet)));
        if matches!(chunk.af, Some(AddressFamily::Link | AddressFamily::Ether)) {
            continue;
        }
        // Token indices of the chunk are relative to it: shift them back.
        shift(&mut c, chunk.start);
        cmds.push(IfconfigCall {
            a,
            iface: iface.to_string(),
            legacy,
            toks: Rc::clone(toks),
            c,
        });
    }
}

/// Make a chunk's token indices refer to the whole value.
fn shift(c: &mut Command, by: usize) {
    macro_rules! sh {
        ($($f:ident),*) => { $( if let Some(f) = &mut c.$f { f.tok += by; } )* };
    }
    sh!(
        vhid,
        advskew,
        advbase,
        pass,
        state,
        peer,
        peer6,
        carpver,
        vrrpprio,
        vrrpinterval
    );
    for a in &mut c.addresses {
        a.tok += by;
    }
    for u in &mut c.unknown {
        *u += by;
    }
    for h in &mut c.hostnames {
        *h += by;
    }
    for b in &mut c.bad_addresses {
        *b += by;
    }
    for i in &mut c.problems {
        i.tok += by;
    }
}

#[cfg(test)]
mod tests;
