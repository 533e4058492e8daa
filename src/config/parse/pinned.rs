//! A `[[vip]]`'s pinned values (issue 12 item 3): `advskew = { node = n }`
//! (CARP), `priority = { node = p }` (VRRPv3) and `allow_tie`. Pass 2
//! checks each value's range and that the key fits the protocol; pass 3
//! ([`Validator::pin_rules`]) the nodes, the members and the ties, with
//! [`plan::pinned::check`], which `Config::plan` relies on too.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::shape::EntryAt;
use super::{ParsedNode, ParsedVip, Validator};
use crate::model::Protocol;
use crate::plan::pinned::{self, PinError, PinKind, Pins};

/// `advskew` / `priority` as serde reads them: node -> value.
pub(super) type RawPins = Option<Spanned<BTreeMap<String, Spanned<i64>>>>;

/// A VIP's pins after pass 2, with what pass 3 needs to point at.
#[derive(Debug, Clone)]
pub(super) struct ParsedPins {
    pub(super) pins: Pins,
    /// The table (`vip[i].advskew`).
    pub(super) span: Range<usize>,
    /// Node -> the span of its value.
    pub(super) at: BTreeMap<String, Range<usize>>,
}

impl Validator<'_> {
    /// Pass 2: `advskew`, `priority`, `allow_tie`. `Ok(None)`: none given;
    /// `Err`: reported.
    pub(super) fn vip_pins(
        &mut self,
        at: &EntryAt<'_>,
        given: [RawPins; 2],
        allow_tie: Option<Spanned<bool>>,
        protocol: Option<Protocol>,
    ) -> Result<Option<ParsedPins>, ()> {
        let failed = ["advskew", "priority", "allow_tie"]
            .iter()
            .any(|k| at.failed.contains(*k));
        let [advskew, priority] = given;
        let mut out = Err(());
        let mut ok = !failed;
        let both = advskew.is_some() && priority.is_some();
        for (kind, raw) in [(PinKind::Advskew, advskew), (PinKind::Priority, priority)] {
            let Some(raw) = raw else { continue };
            let key = format!("{}.{}", at.keypath, kind.key());
            if both && kind == PinKind::Priority {
                let msg = format!(
                    "{}: advskew and priority are both given; advskew pins CARP's values and \
                     priority VRRP's, so a VIP pins one of them",
                    at.ctx
                );
                self.error(&raw.span(), key, msg);
                ok = false;
                continue;
            }
            if let Some(p) = protocol.filter(|p| PinKind::of(*p) != kind) {
                let (name, other) = match p {
                    Protocol::Carp => ("carp", "advskew"),
                    Protocol::Vrrpv3 => ("vrrp", "priority"),
                };
                let msg = format!(
                    "{}: {} pins {} values, and this VIP's protocol is \"{name}\"; pin {other} \
                     instead",
                    at.ctx,
                    kind.key(),
                    if kind == PinKind::Advskew {
                        "CARP"
                    } else {
                        "VRRP"
                    },
                );
                self.error(&raw.span(), key, msg);
                ok = false;
                continue;
            }
            out = self.pin_values(at, kind, raw, &key);
            ok &= out.is_ok();
        }
        let allow = allow_tie.as_ref().is_some_and(|a| *a.get_ref());
        match (&mut out, allow_tie) {
            (Ok(p), _) => p.pins.allow_tie = allow,
            (Err(()), Some(a)) if ok => {
                let msg = format!(
                    "{}: allow_tie does nothing without pinned values (advskew or priority); \
                     remove it",
                    at.ctx
                );
                self.error(&a.span(), format!("{}.allow_tie", at.keypath), msg);
                ok = false;
            }
            _ => {}
        }
        match out {
            Ok(p) if ok => Ok(Some(p)),
            Err(()) if ok => Ok(None),
            _ => Err(()),
        }
    }

    /// One pin table: not empty, each value in range.
    fn pin_values(
        &mut self,
        at: &EntryAt<'_>,
        kind: PinKind,
        raw: Spanned<BTreeMap<String, Spanned<i64>>>,
        key: &str,
    ) -> Result<ParsedPins, ()> {
        let span = raw.span();
        let raw = raw.into_inner();
        if raw.is_empty() {
            let msg = format!(
                "{}: {} is empty; pin every member (node = value) or leave it out",
                at.ctx,
                kind.key()
            );
            self.error(&span, key, msg);
            return Err(());
        }
        let mut out = ParsedPins {
            pins: Pins {
                kind,
                values: BTreeMap::new(),
                allow_tie: false,
            },
            span,
            at: BTreeMap::new(),
        };
        let mut ok = true;
        for (node, v) in raw {
            let value = *v.get_ref();
            match (kind.out_of_range(value), u8::try_from(value)) {
                (None, Ok(b)) => {
                    out.pins.values.insert(node.clone(), b);
                    out.at.insert(node, v.span());
                }
                (why, _) => {
                    let why =
                        why.unwrap_or_else(|| format!("{} {value} is out of range", kind.key()));
                    let msg = format!("{}: node {node}: {why}", at.ctx);
                    self.error(&v.span(), format!("{key}.{node}"), msg);
                    ok = false;
                }
            }
        }
        if ok { Ok(out) } else { Err(()) }
    }

    /// Pass 3: the pinned nodes exist and are the VIP's members, the
    /// values tie only with `allow_tie`, and `prefer`, when given, agrees
    /// with the order the values make.
    pub(super) fn pin_rules(&mut self, nodes: &[ParsedNode], vips: &[ParsedVip]) {
        let names: Vec<String> = nodes.iter().map(|n| n.node.name.clone()).collect();
        for v in vips.iter().filter(|v| v.election.ok && v.prefer_ok) {
            let Ok(Some(p)) = &v.pins else { continue };
            let key = format!("vip[{}].{}", v.index, p.pins.kind.key());
            if let Some(node) = p.pins.values.keys().find(|n| !names.contains(n)) {
                let msg = format!(
                    "{}: {} pins \"{node}\", which is not a [[node]] (known nodes: {})",
                    v.ctx,
                    p.pins.kind.key(),
                    names.join(", ")
                );
                let at = p.at.get(node).unwrap_or(&p.span).clone();
                self.error(&at, format!("{key}.{node}"), msg);
                continue;
            }
            let prefer: Option<Vec<String>> = v
                .prefer
                .as_ref()
                .map(|p| p.get_ref().iter().map(|n| n.get_ref().clone()).collect());
            let members = pinned::members(&p.pins, prefer.as_deref(), v.election.unicast, &names);
            if v.election.unicast && members.len() != 2 {
                let e = PinError::UnicastCount {
                    vip: v.ctx.clone(),
                    key: p.pins.kind.key(),
                    count: members.len(),
                };
                self.error(&p.span, key, e.to_string());
                continue;
            }
            match pinned::check(&v.ctx, &p.pins, &members, v.election.interval) {
                Ok(c) => self.pin_agreement(v, p, prefer.as_deref(), &c, &key),
                Err(e) => {
                    let at = match &e {
                        PinError::NotMember { node, .. } => p.at.get(node),
                        PinError::Tie { second, .. } => p.at.get(second),
                        _ => None,
                    };
                    self.error(&at.unwrap_or(&p.span).clone(), key, e.to_string());
                }
            }
        }
    }

    /// `prefer` against the pinned order, and the warnings of valid pins.
    fn pin_agreement(
        &mut self,
        v: &ParsedVip,
        p: &ParsedPins,
        prefer: Option<&[String]>,
        c: &pinned::PinnedCheck,
        key: &str,
    ) {
        let what = p.pins.kind.key();
        if let (Some(prefer), Some(span)) = (prefer, v.prefer.as_ref().map(Spanned::span))
            && !c.order.starts_with(prefer)
        {
            let msg = format!(
                "{}: prefer lists {}, but the pinned {what} values order the members {}; \
                 the order follows the pinned values: make prefer agree or leave it out",
                v.ctx,
                prefer.join(", "),
                c.order.join(", ")
            );
            self.error(&span, format!("vip[{}].prefer", v.index), msg);
        }
        for (a, b) in &c.same_tick {
            let msg = format!(
                "{}: the pinned {what} values of {a} and {b} are so close that both backups \
                 may take over in the same kernel tick at kern.hz=100 (a brief dual master \
                 when the master fails)",
                v.ctx
            );
            self.warn(&p.at.get(b).unwrap_or(&p.span).clone(), key, msg);
        }
        for n in &c.at_max {
            let msg = format!(
                "{}: node {n} is pinned at advskew {} and is advertised as {} (CARP_MAXSKEW, \
                 what a fully demoted node advertises): no demotion or maintenance of another \
                 member moves the VIP behind it",
                v.ctx,
                p.pins.values.get(n).copied().unwrap_or_default(),
                crate::model::CARP_MAXSKEW
            );
            self.warn(&p.at.get(n).unwrap_or(&p.span).clone(), key, msg);
        }
    }
}
