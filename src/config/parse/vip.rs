//! `[[vip]]`: one vhid on one interface with its addresses, `prefer`
//! order, advbase and hooks. Its password is checked in [`super::password`],
//! its protocol, unicast and interval in [`super::protocol`].

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::ops::Range;

use ipnet::IpNet;
use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;
use toml::de::DeValue;

use super::shape::{EntryAt, entry_ctx};
use super::{ParsedNode, ParsedVip, Validator};
use crate::config::Cluster;
use crate::config::diag::Diagnostic;
use crate::config::rules::{NAME_MAX, bad_name, not_a_vip};
use crate::model::{AdvBase, Protocol, Vhid};

/// One `[[vip]]` entry's place in the file.
struct Entry {
    index: usize,
    span: Range<usize>,
    ctx: String,
    keypath: String,
    /// Keys serde refused (already reported).
    failed: BTreeSet<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVip {
    name: Option<Spanned<String>>,
    vhid: Option<Spanned<i64>>,
    interface: Option<Spanned<String>>,
    addresses: Option<Spanned<Vec<Spanned<String>>>>,
    /// Removed from the entry before deserializing (see the module doc);
    /// listed only so that serde's "expected one of" names it.
    #[serde(rename = "password")]
    _password: Option<IgnoredAny>,
    password_file: Option<Spanned<String>>,
    prefer: Option<Spanned<Vec<Spanned<String>>>>,
    advbase: Option<Spanned<i64>>,
    on_master: Option<Spanned<Vec<Spanned<String>>>>,
    on_backup: Option<Spanned<Vec<Spanned<String>>>>,
    on_init: Option<Spanned<Vec<Spanned<String>>>>,
    protocol: Option<Spanned<String>>,
    unicast: Option<Spanned<bool>>,
    interval: Option<Spanned<i64>>,
    advskew: super::pinned::RawPins,
    priority: super::pinned::RawPins,
    allow_tie: Option<Spanned<bool>>,
}

impl Validator<'_> {
    pub(super) fn vips(
        &mut self,
        v: Option<Spanned<DeValue<'_>>>,
        nodes: &[ParsedNode],
        cluster: &Cluster,
    ) -> Vec<ParsedVip> {
        let Some(v) = v else {
            self.diags.push(
                Diagnostic::warning("no [[vip]] entries: there is nothing to manage")
                    .in_file(self.path),
            );
            return Vec::new();
        };
        let entries = self.array_of_tables(v, "vip");
        let mut out = Vec::new();
        for (i, span, mut table) in entries {
            let ctx = entry_ctx("vip", i, &table);
            let keypath = format!("vip[{i}]");
            // Handled by hand so that serde never sees (and quotes) it.
            let password = table.remove("password").map(|v| (v.span(), v.into_inner()));
            let (raw, failed) = self.entry::<RawVip>(table, span.clone(), &ctx, &keypath);
            let Some(raw) = raw else {
                // Still look at an inline password, so its errors are not lost.
                if password.is_some() {
                    self.password(password, None, &ctx, &keypath, &span);
                }
                continue;
            };
            let entry = Entry {
                index: i,
                span,
                ctx,
                keypath,
                failed,
            };
            out.push(self.vip(entry, raw, password, nodes, cluster));
        }
        out
    }

    fn vip(
        &mut self,
        entry: Entry,
        raw: RawVip,
        password: Option<(Range<usize>, DeValue<'_>)>,
        nodes: &[ParsedNode],
        cluster: &Cluster,
    ) -> ParsedVip {
        let Entry {
            index,
            span,
            ctx,
            keypath,
            failed,
        } = entry;
        let at = EntryAt {
            span: &span,
            ctx: &ctx,
            keypath: &keypath,
            failed: &failed,
        };
        let name = match raw.name {
            Some(n) => self.valid_name(n, &keypath, &ctx),
            None => {
                self.missing_key(&at, "name", "");
                None
            }
        };
        let vhid = self.vip_vhid(&at, raw.vhid);
        let interface = self.vip_interface(&at, raw.interface);
        let addresses = match raw.addresses {
            Some(a) => self.addresses(a, &ctx, &keypath),
            None => {
                self.missing_key(&at, "addresses", "");
                None
            }
        };
        let mut election =
            self.vip_election(&at, (raw.protocol, raw.unicast, raw.interval), cluster);
        let advbase_at = raw.advbase.as_ref().map(Spanned::span);
        let advbase = self.vip_advbase(&at, raw.advbase);
        let (key, key_ok) = if election.protocol == Protocol::Vrrpv3 {
            let given = password
                .as_ref()
                .map(|(s, _)| (s.clone(), "password"))
                .or_else(|| {
                    raw.password_file
                        .as_ref()
                        .map(|f| (f.span(), "password_file"))
                });
            if let Some((_, value)) = password {
                super::password::discard(value);
            }
            (None, self.vrrp_refuses(&at, given, advbase_at))
        } else {
            self.password(password, raw.password_file, &ctx, &keypath, &span)
        };

        let mut prefer_ok = !failed.contains("prefer");
        if let Some(p) = &raw.prefer {
            prefer_ok &= self.prefer(p, nodes, &ctx, &keypath);
            if election.unicast {
                election.ok &= self.unicast_prefer(&at, p);
            }
        }

        let hooks = self.vip_hooks(&at, [raw.on_master, raw.on_backup, raw.on_init]);
        let pins = self.vip_pins(
            &at,
            [raw.advskew, raw.priority],
            raw.allow_tie,
            election.ok.then_some(election.protocol),
        );

        ParsedVip {
            index,
            ctx,
            entry_span: span,
            name,
            vhid,
            interface,
            addresses,
            key,
            key_ok,
            prefer: raw.prefer,
            prefer_ok,
            advbase,
            hooks,
            election,
            pins,
        }
    }

    /// `vhid`: 1-255.
    fn vip_vhid(&mut self, at: &EntryAt<'_>, vhid: Option<Spanned<i64>>) -> Option<Spanned<Vhid>> {
        let Some(v) = vhid else {
            self.missing_key(at, "vhid", "");
            return None;
        };
        match Vhid::new(*v.get_ref()) {
            Ok(h) => Some(Spanned::new(v.span(), h)),
            Err(_) => {
                let msg = format!("{}: vhid {} is out of range 1-255", at.ctx, v.get_ref());
                self.error(&v.span(), format!("{}.vhid", at.keypath), msg);
                None
            }
        }
    }

    /// `interface`: the logical interface name.
    fn vip_interface(
        &mut self,
        at: &EntryAt<'_>,
        interface: Option<Spanned<String>>,
    ) -> Option<Spanned<String>> {
        let Some(n) = interface else {
            self.missing_key(at, "interface", "");
            return None;
        };
        match bad_name(n.get_ref(), NAME_MAX) {
            Some(why) => {
                let msg = format!("{}: interface {why}", at.ctx);
                self.error(&n.span(), format!("{}.interface", at.keypath), msg);
                None
            }
            None => Some(n),
        }
    }

    /// `advbase`: 1-255 seconds. `Ok(None)`: not given, use the cluster's;
    /// `Err`: reported.
    fn vip_advbase(
        &mut self,
        at: &EntryAt<'_>,
        advbase: Option<Spanned<i64>>,
    ) -> Result<Option<AdvBase>, ()> {
        match advbase {
            Some(a) => match AdvBase::new(*a.get_ref()) {
                Ok(b) => Ok(Some(b)),
                Err(_) => {
                    let msg = format!(
                        "{}: advbase {} is out of range 1-255 (seconds)",
                        at.ctx,
                        a.get_ref()
                    );
                    self.error(&a.span(), format!("{}.advbase", at.keypath), msg);
                    Err(())
                }
            },
            None if at.failed.contains("advbase") => Err(()),
            None => Ok(None),
        }
    }

    /// `on_master`, `on_backup`, `on_init`: argv arrays. `Err`: reported.
    fn vip_hooks(
        &mut self,
        at: &EntryAt<'_>,
        given: [Option<Spanned<Vec<Spanned<String>>>>; 3],
    ) -> Result<[Vec<String>; 3], ()> {
        let mut hooks_ok = true;
        let mut hooks: [Vec<String>; 3] = Default::default();
        for ((name, slot), argv) in HOOK_KEYS.iter().zip(hooks.iter_mut()).zip(given) {
            hooks_ok &= !at.failed.contains(*name);
            if let Some(argv) = argv {
                match self.hook_argv(argv, at.ctx, &format!("{}.{name}", at.keypath), name) {
                    Some(a) => *slot = a,
                    None => hooks_ok = false,
                }
            }
        }
        if hooks_ok { Ok(hooks) } else { Err(()) }
    }

    /// A hook's argv: not empty, `argv[0]` not empty, no NUL byte in any
    /// argument (execve(2) takes C strings: a NUL would cut the argument).
    pub(super) fn hook_argv(
        &mut self,
        argv: Spanned<Vec<Spanned<String>>>,
        ctx: &str,
        key: &str,
        name: &str,
    ) -> Option<Vec<String>> {
        let span = argv.span();
        let argv = argv.into_inner();
        let Some(first) = argv.first() else {
            let msg = format!(
                "{ctx}: {name} is empty; give the command and its arguments \
                 (e.g. [\"/usr/local/sbin/service\", \"postfix\", \"start\"]) or leave {name} out"
            );
            self.error(&span, key, msg);
            return None;
        };
        let mut ok = true;
        let program = first.get_ref();
        if program.is_empty() {
            let msg = format!("{ctx}: {name}[0], the program to run, is empty");
            self.error(&first.span(), format!("{key}[0]"), msg);
            ok = false;
        } else if !program.starts_with('/') {
            let msg = format!(
                "{ctx}: {name}[0] \"{program}\" is not an absolute path: it is looked up in \
                 the PATH (or the directory) carpctl was started with, which differ between \
                 rc.d, devd and a login shell; write the full path (e.g. /usr/sbin/service)"
            );
            self.warn(&first.span(), format!("{key}[0]"), msg);
        }
        for (j, a) in argv.iter().enumerate() {
            if a.get_ref().contains('\0') {
                let msg = format!(
                    "{ctx}: {name}[{j}] contains a NUL byte, which no program argument can hold"
                );
                self.error(&a.span(), format!("{key}[{j}]"), msg);
                ok = false;
            }
        }
        ok.then(|| argv.into_iter().map(Spanned::into_inner).collect())
    }

    fn addresses(
        &mut self,
        list: Spanned<Vec<Spanned<String>>>,
        ctx: &str,
        keypath: &str,
    ) -> Option<Vec<Spanned<IpNet>>> {
        let lspan = list.span();
        let list = list.into_inner();
        if list.is_empty() {
            let msg = format!("{ctx}: addresses is empty; a VIP needs at least one address");
            self.error(&lspan, format!("{keypath}.addresses"), msg);
            return None;
        }
        let mut out: Vec<Spanned<IpNet>> = Vec::new();
        let mut ok = true;
        for (j, a) in list.into_iter().enumerate() {
            let aspan = a.span();
            let key = format!("{keypath}.addresses[{j}]");
            let text = a.get_ref().trim();
            let net = match text.parse::<IpNet>() {
                Ok(n) => n,
                Err(_) => {
                    let msg = match text.parse::<IpAddr>() {
                        Ok(ip) => format!(
                            "{ctx}: address \"{text}\" has no prefix length; write {ip}/{}",
                            if ip.is_ipv4() { 32 } else { 128 }
                        ),
                        Err(_) => format!(
                            "{ctx}: address \"{text}\" is not an IPv4 or IPv6 address with a \
                             prefix length (e.g. 192.0.2.1/32 or 2001:db8::1/128)"
                        ),
                    };
                    self.error(&aspan, key, msg);
                    ok = false;
                    continue;
                }
            };
            if let Some(why) = not_a_vip(&net) {
                self.error(&aspan, key, format!("{ctx}: address {} {why}", net.addr()));
                ok = false;
                continue;
            }
            // The same address twice (even with another prefix length):
            // the kernel keeps one address per IP.
            if let Some(prev) = out.iter().find(|p| p.get_ref().addr() == net.addr()) {
                let msg = format!(
                    "{ctx}: address {} is listed twice (also at line {})",
                    net.addr(),
                    self.idx.span(&prev.span()).line
                );
                self.error(&aspan, key, msg);
                ok = false;
                continue;
            }
            out.push(Spanned::new(aspan, net));
        }
        ok.then_some(out)
    }

    /// `prefer`: known nodes, each once, not empty.
    fn prefer(
        &mut self,
        p: &Spanned<Vec<Spanned<String>>>,
        nodes: &[ParsedNode],
        ctx: &str,
        keypath: &str,
    ) -> bool {
        if p.get_ref().is_empty() {
            let msg = format!(
                "{ctx}: prefer is empty, so no node would take part; \
                 leave it out to use every node in rotation"
            );
            self.error(&p.span(), format!("{keypath}.prefer"), msg);
            return false;
        }
        let known: Vec<&str> = nodes.iter().map(|n| n.node.name.as_str()).collect();
        let mut ok = true;
        let mut seen = BTreeSet::new();
        for (j, n) in p.get_ref().iter().enumerate() {
            let key = format!("{keypath}.prefer[{j}]");
            if !known.contains(&n.get_ref().as_str()) {
                let msg = format!(
                    "{ctx}: prefer names \"{}\", which is not a [[node]] (known nodes: {})",
                    n.get_ref(),
                    known.join(", ")
                );
                self.error(&n.span(), key, msg);
                ok = false;
            } else if !seen.insert(n.get_ref().as_str()) {
                let msg = format!("{ctx}: prefer names \"{}\" twice", n.get_ref());
                self.error(&n.span(), key, msg);
                ok = false;
            }
        }
        ok
    }
}

/// The per-VIP hook keys, in the order of [`ParsedVip::hooks`].
const HOOK_KEYS: [&str; 3] = ["on_master", "on_backup", "on_init"];
