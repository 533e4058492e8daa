//! The FreeBSD base configuration of one node, rendered from the cluster
//! file: the `loader.conf`, `sysctl.conf` and `rc.conf` lines that
//! configure what `carpctl apply` would, for running without carpctl.
//!
//! The rc.conf lines are what FreeBSD 10 and later accept (Handbook,
//! "CARP on FreeBSD 10 and later"; docs/freebsd-carp.md §5.4): `ifconfig_<if>_alias<N>`
//! with a leading address family, the carp keywords after `vhid` (ifconfig's
//! `carp.c` refuses `advskew` or `pass` before `vhid`: "advskew requires
//! vhid"), then `alias` and the address. Aliases are numbered from 0 without
//! gaps on each interface: FreeBSD 10's network.subr counted up from 0 and
//! stopped at the first missing number.
//!
//! Passwords are secrets: by default the lines carry `<secret:VIP>`
//! placeholders. [`Secrets::Show`] writes them, only passwords that
//! survive the trip through rc.d/netif unchanged (see [`rc_conf_problem`]).

use std::fmt::Write as _;

use ipnet::IpNet;
use serde::Serialize;

use super::model::VhidEntry;
use super::names::rc_ifname;
use crate::config::{Config, KeySource, Vip};
use crate::model::{AdvBase, Key};
use crate::plan::Plan;

/// One node's configuration for running without carpctl.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct NodeBase {
    pub node: String,
    /// `/boot/loader.conf` lines.
    pub(crate) loader_conf: Vec<String>,
    /// `/etc/sysctl.conf` lines.
    pub(crate) sysctl_conf: Vec<String>,
    /// `/etc/rc.conf` lines, with `<secret:VIP>` placeholders unless
    /// `--show-secrets`.
    pub rc_conf: Vec<String>,
    /// What the reader must know, as comment lines without the `# `.
    pub(crate) notes: Vec<String>,
}

/// Whether the rc.conf lines carry the real passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Secrets {
    Placeholder,
    Show,
}

/// The FreeBSD base configuration of `node`. Errors (each naming the VIP,
/// never the password): with [`Secrets::Show`], a password that rc.d/netif
/// would not pass to ifconfig unchanged. An interface whose name cannot be
/// part of an rc.conf variable loses its lines, and a note says so.
pub(crate) fn base_config(
    cfg: &Config,
    plan: &Plan,
    node: &str,
    secrets: Secrets,
) -> Result<NodeBase, Vec<String>> {
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let Some(me) = cfg.node(node) else {
        return Err(vec![format!("node \"{node}\" is not in the cluster file")]);
    };
    let mut aliases = Aliases::default();
    for (v, p) in cfg.vips.iter().zip(&plan.vips) {
        let Some(skew) = p.advskew_of(node) else {
            continue;
        };
        let real = me.real_interface(&v.interface).to_string();
        let mut carp = format!("vhid {}", v.vhid);
        if let Some(vrrp) = &p.vrrp {
            // ifconfig(8) of FreeBSD 15: carpver, vrrpprio, vrrpinterval;
            // VRRPv3 has no password and no advbase/advskew.
            let prio = vrrp.priority.get(node).copied().unwrap_or_default();
            carp.push_str(&format!(
                " carpver 3 vrrpprio {prio} vrrpinterval {}",
                vrrp.interval
            ));
        } else {
            let pass = password(v, secrets, &mut notes, &mut errors);
            if v.advbase != AdvBase::DEFAULT {
                carp.push_str(&format!(" advbase {}", v.advbase.get()));
            }
            carp.push_str(&format!(" advskew {}", skew.get()));
            if let Some(pw) = &pass {
                carp.push_str(&format!(" pass {pw}"));
            }
        }
        if let Some(peers) = crate::config::peers(cfg, v, p, node) {
            for (word, addr) in [
                ("peer", peers.peer.map(|a| a.to_string())),
                ("peer6", peers.peer6.map(|a| a.to_string())),
            ] {
                if let Some(a) = addr {
                    carp.push_str(&format!(" {word} {a}"));
                }
            }
        }
        aliases.add(&real, &carp, v);
    }
    let rc_conf = aliases.rc_conf_lines(&mut notes);
    closing_notes(cfg, node, secrets, &aliases, &mut notes);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NodeBase {
        node: node.to_string(),
        loader_conf: vec!["carp_load=\"YES\"".to_string()],
        sysctl_conf: vec![format!(
            "net.inet.carp.preempt={}",
            u8::from(cfg.cluster.preempt)
        )],
        rc_conf,
        notes,
    })
}

/// What goes after `pass` for VIP `v`: a placeholder, the password, or
/// nothing (no key: a note; a password rc.d would mangle: an error with
/// [`Secrets::Show`], a note otherwise).
fn password(
    v: &Vip,
    secrets: Secrets,
    notes: &mut Vec<String>,
    errors: &mut Vec<String>,
) -> Option<String> {
    let pass = match (&v.key, secrets) {
        (None, _) => {
            notes.push(format!(
                "{}: no password, so any host on the segment can take it over",
                v.name
            ));
            None
        }
        (Some(_), Secrets::Placeholder) => Some(placeholder(v)),
        (Some(src), Secrets::Show) => match src.key().map(rc_conf_password) {
            Some(Ok(pw)) => Some(pw),
            Some(Err(why)) => {
                errors.push(format!("vip \"{}\": its password {why}", v.name));
                None
            }
            // run() reads the key files first; should one be missed,
            // say so rather than print no password.
            None => {
                errors.push(format!(
                    "vip \"{}\": its password_file was not read",
                    v.name
                ));
                None
            }
        },
    };
    // Only a password at hand: key files are read for --show-secrets.
    if secrets == Secrets::Placeholder
        && let Some(k) = v.key.as_ref().and_then(KeySource::key)
        && let Err(why) = rc_conf_password(k)
    {
        notes.push(format!(
            "{}: its password {why}; a node configured from these lines would not \
             agree with one configured by carpctl",
            v.name
        ));
    }
    pass
}

/// The alias lines of one node, by real interface.
#[derive(Default)]
struct Aliases {
    /// Real interface -> its alias lines, interfaces in order of first use.
    by_if: Vec<(String, Vec<String>)>,
    /// The interfaces with an inet6 alias.
    v6_ifs: Vec<String>,
}

impl Aliases {
    /// One line per address of VIP `v` on interface `real`, `carp` being
    /// the carp keywords.
    fn add(&mut self, real: &str, carp: &str, v: &Vip) {
        let at = match self.by_if.iter().position(|(i, _)| *i == real) {
            Some(at) => at,
            None => {
                self.by_if.push((real.to_string(), Vec::new()));
                self.by_if.len() - 1
            }
        };
        let lines = &mut self.by_if[at].1;
        for a in &v.addresses {
            lines.push(match a {
                IpNet::V4(a) => format!("inet {carp} alias {a}"),
                IpNet::V6(a) => {
                    if !self.v6_ifs.iter().any(|i| i == real) {
                        self.v6_ifs.push(real.to_string());
                    }
                    format!(
                        "inet6 {carp} alias {} prefixlen {}",
                        a.addr(),
                        a.prefix_len()
                    )
                }
            });
        }
    }

    /// The `ifconfig_<if>_alias<N>` lines, numbered from 0 per interface;
    /// a note for each interface whose name cannot be an rc.conf variable.
    fn rc_conf_lines(&self, notes: &mut Vec<String>) -> Vec<String> {
        let mut rc_conf = Vec::new();
        for (real, lines) in &self.by_if {
            let Some(var) = rc_ifname(real) else {
                // The rest of the plan stands; only these lines cannot exist.
                notes.push(format!(
                    "interface \"{real}\" cannot be part of an rc.conf variable name (rc.d/netif \
                     maps '.', '-', '+' and '/' to '_', and a shell variable holds only letters, \
                     digits and '_'), so {} alias line{} left out; rename the interface \
                     (ifconfig_<if>_name) or configure it another way",
                    lines.len(),
                    plural(lines.len())
                ));
                continue;
            };
            for (i, l) in lines.iter().enumerate() {
                rc_conf.push(format!("ifconfig_{var}_alias{i}=\"{l}\""));
            }
        }
        rc_conf
    }
}

/// The notes after the lines: inet6 needs an `_ipv6` line, how the
/// aliases are numbered, where the passwords go.
fn closing_notes(
    cfg: &Config,
    node: &str,
    secrets: Secrets,
    aliases: &Aliases,
    notes: &mut Vec<String>,
) {
    for real in &aliases.v6_ifs {
        if let Some(var) = rc_ifname(real) {
            notes.push(format!(
                "rc.d/netif adds inet6 aliases only on an interface with an \
                 ifconfig_{var}_ipv6 line (network.subr ipv6if), e.g. \
                 ifconfig_{var}_ipv6=\"inet6 -ifdisabled\""
            ));
        }
    }
    if aliases.by_if.is_empty() {
        notes.push(format!("{node} takes part in no VIP"));
    } else {
        notes.push(
            "the aliases are numbered from 0 on each interface: renumber them after the \
             interface's own aliases if it has some"
                .to_string(),
        );
    }
    if secrets == Secrets::Placeholder && cfg.vips.iter().any(|v| v.key.is_some()) {
        notes.push(
            "replace each <secret:VIP> with that VIP's password (carpctl plan --show-secrets \
             writes them in), and keep the file readable by root only"
                .to_string(),
        );
    }
}

/// `<secret:NAME>`, or `<secret:vhidN>` when the VIP's name has characters
/// that do not belong in a double-quoted rc.conf value.
fn placeholder(v: &Vip) -> String {
    let plain = !v.name.is_empty()
        && v.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:@+".contains(c));
    if plain {
        format!("<secret:{}>", v.name)
    } else {
        format!("<secret:vhid{}>", v.vhid)
    }
}

/// The characters a password may have to go through rc.d/netif unchanged.
/// network.subr splits `ifconfig_<if>_alias<N>` on blanks and passes the
/// words through `eval` (`ifalias_af_common`), so quotes, `$`, backquotes,
/// backslashes, globs, `;`, `&`, `|`, `<`, `>`, parentheses, `#` and `~` would
/// be interpreted; these are the ones that are not.
const RC_SAFE_PUNCT: &str = "._+,:@%=/-";

/// Why `key` cannot be written in an rc.conf alias line, or the password
/// itself. Never includes the password in the reason.
pub(crate) fn rc_conf_password(key: &Key) -> Result<String, String> {
    rc_conf_problem(key.as_bytes())?;
    // Only ASCII passes rc_conf_problem.
    String::from_utf8(key.as_bytes().to_vec()).map_err(|_| "is not ASCII".to_string())
}

/// Why the password `pw` would not reach ifconfig(8) unchanged through
/// rc.conf and rc.d/netif.
pub(crate) fn rc_conf_problem(pw: &[u8]) -> Result<(), String> {
    if pw.len() > Key::IFCONFIG_MAX {
        return Err(format!(
            "is {} bytes, and ifconfig(8) keeps only {} (strlcpy into the 20-byte key)",
            pw.len(),
            Key::IFCONFIG_MAX
        ));
    }
    if !pw
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || RC_SAFE_PUNCT.as_bytes().contains(&b))
    {
        return Err(format!(
            "has characters that rc.d/netif's shell would interpret or split on \
             (only letters, digits and {RC_SAFE_PUNCT} pass through)"
        ));
    }
    // ifalias_af_common_handler takes `inet ...[0-9a-fA-F]-...` for an
    // address range to expand.
    if pw
        .windows(2)
        .any(|w| matches!(w, [h, b'-'] if h.is_ascii_hexdigit()))
    {
        return Err(
            "has a hex digit followed by '-', which rc.d/netif takes for an address \
                    range to expand"
                .to_string(),
        );
    }
    // ifalias_af_common starts a new alias at these words.
    if matches!(pw, b"inet" | b"inet6" | b"link" | b"ether") {
        return Err("is a word that rc.d/netif takes for the start of another address".into());
    }
    Ok(())
}

/// The carp settings of an entry as ifconfig words: `vhid N [advskew S]
/// [advbase B] [pass P]` (plus carpver/vrrpprio for VRRPv3).
pub(crate) fn carp_words(e: &VhidEntry) -> String {
    let mut w = format!("vhid {}", e.vhid);
    if e.version == 3 {
        w.push_str(" carpver 3");
        if let Some(p) = e.vrrpprio {
            let _ = write!(w, " vrrpprio {p}");
        }
        return w;
    }
    if e.advskew != 0 {
        let _ = write!(w, " advskew {}", e.advskew);
    }
    if e.advbase != 1 {
        let _ = write!(w, " advbase {}", e.advbase);
    }
    if let Some((p, _)) = &e.pass {
        let _ = write!(w, " pass {}", p.0);
    }
    w
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rc_conf_passwords() {
        // What `openssl rand -hex 9` gives, and other plain passwords.
        for ok in [
            &b"3f9a0c17e2b4d86a51"[..],
            b"Tr0ub4dor",
            b"a.b_c+d,e:f@g%h=i/j",
            b"x-y",
        ] {
            assert_eq!(rc_conf_problem(ok), Ok(()), "{ok:?}");
        }
        let why = |pw: &[u8]| rc_conf_problem(pw).unwrap_err();
        assert!(why(b"01234567890123456789").contains("is 20 bytes"));
        for shell in [
            &b"a b"[..],
            b"a\"b",
            b"$x",
            b"a`b",
            b"a\\b",
            b"*",
            b"a;b",
            b"a#b",
            b"~x",
            b"a'b",
            b"a<b",
            b"\xff",
        ] {
            assert!(why(shell).contains("would interpret"), "{shell:?}");
        }
        // network.subr would expand "mail1-secret" as the range 1-s...
        assert!(why(b"mail1-secret").contains("address range"));
        assert!(why(b"abc-1").contains("address range"));
        assert!(why(b"inet6").contains("another address"));
        assert_eq!(rc_conf_problem(b"inet4"), Ok(()));
        // No reason ever quotes the password.
        for pw in [&b"sesame sesame"[..], b"sesame-x", b"012345678901234567890"] {
            let w = why(pw);
            assert!(!w.contains("sesame") && !w.contains("0123"), "{w}");
        }
        let k = Key::new(b"3f9a0c17").unwrap();
        assert_eq!(rc_conf_password(&k).as_deref(), Ok("3f9a0c17"));
    }

    fn cfg(text: &str) -> Config {
        crate::config::parse(text, std::path::Path::new("t.toml"), Some(0o600))
            .expect("a valid cluster file")
    }

    /// A VRRP VIP gets `carpver 3 vrrpprio vrrpinterval` and no password
    /// note; a unicast VIP names its partner's addresses, a link-local
    /// `peer6` scoped to this node's real interface.
    #[test]
    fn vrrp_and_unicast_lines() {
        let c = cfg(r#"
[[node]]
name = "a"
interfaces = { lan = "em0" }
addresses = { lan = ["192.0.2.1", "fe80::a"] }
[[node]]
name = "b"
addresses = { lan = ["192.0.2.2", "fe80::b"] }
[[vip]]
name = "r"
vhid = 1
interface = "lan"
addresses = ["10.0.0.1/24"]
protocol = "vrrp"
interval = 10
prefer = ["a", "b"]
[[vip]]
name = "u"
vhid = 2
interface = "lan"
addresses = ["fd00::2/64"]
password = "pw2"
unicast = true
prefer = ["b", "a"]
"#);
        let plan = c.plan().unwrap();
        let a = base_config(&c, &plan, "a", Secrets::Placeholder).unwrap();
        assert_eq!(
            a.rc_conf,
            [
                "ifconfig_em0_alias0=\"inet vhid 1 carpver 3 vrrpprio 254 vrrpinterval 10 alias 10.0.0.1/24\"",
                "ifconfig_em0_alias1=\"inet6 vhid 2 advskew 4 pass <secret:u> peer6 fe80::b%em0 alias fd00::2 prefixlen 64\"",
            ]
        );
        assert!(
            !a.notes.iter().any(|n| n.contains("r: no password")),
            "{:?}",
            a.notes
        );
    }

    #[test]
    fn base_config_edge_cases() {
        let c = cfg(r#"
[[node]]
name = "a"
[[node]]
name = "b"
interfaces = { lan = "em0.x" }
[[vip]]
name = "db"
vhid = 9
interface = "lan"
addresses = ["10.0.0.9/24"]
password = "pw9-x"
advbase = 2
[[vip]]
name = "open"
vhid = 10
interface = "lan"
addresses = ["10.0.0.10/24", "fd00::10/64"]
"#);
        let plan = c.plan().unwrap();
        // db is mastered by a, open by b (round-robin over the two).
        let a = base_config(&c, &plan, "a", Secrets::Placeholder).unwrap();
        assert_eq!(
            a.rc_conf,
            [
                "ifconfig_lan_alias0=\"inet vhid 9 advbase 2 advskew 0 pass <secret:db> alias 10.0.0.9/24\"",
                "ifconfig_lan_alias1=\"inet vhid 10 advskew 4 alias 10.0.0.10/24\"",
                "ifconfig_lan_alias2=\"inet6 vhid 10 advskew 4 alias fd00::10 prefixlen 64\"",
            ]
        );
        let has = |b: &NodeBase, s: &str| b.notes.iter().any(|n| n.contains(s));
        assert!(has(&a, "open: no password"), "{:?}", a.notes);
        assert!(
            has(&a, "db: its password has a hex digit followed by '-'"),
            "{:?}",
            a.notes
        );
        assert!(has(&a, "ifconfig_lan_ipv6"), "{:?}", a.notes);
        assert_eq!(a.sysctl_conf, ["net.inet.carp.preempt=1"]);
        // An interface that rc.conf cannot name ("em0:x") no longer gets
        // this far: the cluster file refuses it (IfName's rule).
        let b = base_config(&c, &plan, "b", Secrets::Placeholder).unwrap();
        assert_eq!(b.rc_conf.len(), 3, "{:?}", b.notes);
        // Showing db's password is refused by name, never by value.
        let e = base_config(&c, &plan, "a", Secrets::Show).unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("vip \"db\": its password has a hex digit"),
            "{e:?}"
        );
        assert!(!e.concat().contains("pw9-x"));
        assert!(base_config(&c, &plan, "zz", Secrets::Placeholder).is_err());
    }
}
