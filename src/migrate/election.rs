//! How `import` carries over how a virtual router elects its master
//! (issue 12 item 5): `carpver 3` (→ `protocol = "vrrp"`), `vrrpinterval`
//! (→ `interval`), `vrrpprio` and `advskew` values that the derived ladder
//! does not reproduce (→ pinned `priority` / `advskew`, with `allow_tie`
//! when the files tie), and `peer`/`peer6` (→ `unicast = true` and each
//! node's `[[node]] addresses`: node A's `peer` is node B's address).
//!
//! What the cluster file cannot say is refused, naming file and line:
//! one vhid speaking CARP on one node and VRRP on another, VRRP intervals
//! that differ, peers that do not point at each other, a unicast vhid on
//! other than two nodes, unicast VRRP (refused by the cluster file for now,
//! docs/design-unicast-vrrp.md), a priority carpctl never plans (0, 255).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use ipnet::IpNet;

use super::MigrateError;
use crate::config::DEFAULT_ADVSKEW_STEP;
use crate::lint::cluster::{Member, peers};
use crate::plan::pinned::PinKind;
use crate::plan::{self, vrrp};

/// One member as `import` sees it: its node's name and where its vhid is.
pub(super) struct At<'a> {
    pub(super) name: String,
    pub(super) file: String,
    pub(super) member: &'a Member<'a>,
}

impl At<'_> {
    fn line(&self) -> usize {
        self.member.entry.pos.line
    }

    fn refuse(&self, line: usize, why: String) -> MigrateError {
        MigrateError::Inexpressible {
            file: self.file.clone().into(),
            line,
            why,
        }
    }
}

/// What the election keys add to one `[[vip]]` and to its nodes.
#[derive(Debug, Default)]
pub(super) struct Election {
    /// `[[vip]]` lines, each ending in a newline.
    pub(super) lines: String,
    /// Unicast: node index -> its own addresses on the VIP's interface
    /// (what its partner names as peer), each with where it was read.
    pub(super) addresses: Vec<(usize, IpAddr, String)>,
    pub(super) notes: Vec<String>,
}

/// The election keys of the virtual router whose members are `order`
/// (rank order: the `prefer` list) and whose addresses are `addrs`.
pub(super) fn election(
    vip: &str,
    order: &[At<'_>],
    addrs: &[IpNet],
) -> Result<Election, MigrateError> {
    let mut out = Election::default();
    let Some(first) = order.first() else {
        return Ok(out);
    };
    let vhid = first.member.entry.vhid;
    let vrrp = first.member.entry.version == 3;
    if let Some(other) = order.iter().find(|m| (m.member.entry.version == 3) != vrrp) {
        let (v, c) = if vrrp { (first, other) } else { (other, first) };
        return Err(other.refuse(
            other.line(),
            format!(
                "vhid {vhid} is VRRPv3 (carpver 3) on {} ({}:{}) and CARP on {} ({}:{}): one \
                 vhid speaks one protocol, and so does a cluster file's VIP",
                v.name,
                v.file,
                v.line(),
                c.name,
                c.file,
                c.line()
            ),
        ));
    }
    if vrrp {
        vrrp_keys(vip, order, &mut out)?;
    } else {
        carp_pins(vip, order, &mut out)?;
    }
    unicast(order, addrs, vrrp, &mut out)?;
    Ok(out)
}

/// `protocol`, `interval` and, when the derived priorities differ from
/// the files', pinned `priority`.
fn vrrp_keys(vip: &str, order: &[At<'_>], out: &mut Election) -> Result<(), MigrateError> {
    let interval = |m: &At<'_>| {
        m.member
            .entry
            .vrrpinterval
            .unwrap_or(vrrp::FREEBSD_DEFAULT_INTERVAL)
    };
    let first = &order[0];
    let i = interval(first);
    if let Some(m) = order.iter().find(|m| interval(m) != i) {
        return Err(m.refuse(
            m.line(),
            format!(
                "vhid {}: vrrpinterval is {} cs on {} and {i} cs on {} ({}:{}): VRRPv3 compares \
                 the interval before the priority, so the nodes must agree; the cluster file \
                 has one interval per VIP",
                m.member.entry.vhid,
                interval(m),
                m.name,
                first.name,
                first.file,
                first.line()
            ),
        ));
    }
    out.lines.push_str("protocol = \"vrrp\"\n");
    if i != vrrp::FREEBSD_DEFAULT_INTERVAL {
        let _ = writeln!(out.lines, "interval = {i}");
    }
    let prio = |m: &At<'_>| {
        m.member
            .entry
            .vrrpprio
            .unwrap_or(vrrp::FREEBSD_DEFAULT_PRIORITY)
    };
    for m in order {
        if let Some(why) = PinKind::Priority.out_of_range(i64::from(prio(m))) {
            return Err(m.refuse(
                m.line(),
                format!(
                    "vhid {} on {}: vrrpprio: {why}",
                    m.member.entry.vhid, m.name
                ),
            ));
        }
    }
    let names: Vec<String> = order.iter().map(|m| m.name.clone()).collect();
    let derived = vrrp::priorities(vip, &names, i).ok();
    let given: BTreeMap<String, u8> = order.iter().map(|m| (m.name.clone(), prio(m))).collect();
    if derived.as_ref() != Some(&given) {
        pin_line(out, PinKind::Priority, order, |m| prio(m));
    }
    Ok(())
}

/// Pinned `advskew` when rank × advskew_step does not reproduce the
/// files' advskews.
fn carp_pins(vip: &str, order: &[At<'_>], out: &mut Election) -> Result<(), MigrateError> {
    if order.iter().any(|m| m.member.entry.advskew_unknown) {
        out.notes.push(format!(
            "{vip}: an advskew without a usable value (carpctl lint shows it): the advskews \
             come from the prefer order"
        ));
        return Ok(());
    }
    let derived = order.iter().enumerate().all(|(rank, m)| {
        plan::advskew(rank, DEFAULT_ADVSKEW_STEP).map(|s| s.get()) == Some(m.member.entry.advskew)
    });
    if derived {
        return Ok(());
    }
    let first = &order[0];
    if let Some(m) = order
        .iter()
        .find(|m| m.member.entry.advbase != first.member.entry.advbase)
    {
        return Err(m.refuse(
            m.line(),
            format!(
                "vhid {}: advbase is {} on {} and {} on {} ({}:{}), and the advskews are not \
                 rank x {DEFAULT_ADVSKEW_STEP}: the cluster file has one advbase per VIP, so \
                 pinned advskews alone would change who is MASTER; use one advbase",
                m.member.entry.vhid,
                m.member.entry.advbase,
                m.name,
                first.member.entry.advbase,
                first.name,
                first.file,
                first.line()
            ),
        ));
    }
    if let Some(m) = order.iter().find(|m| {
        PinKind::Advskew
            .out_of_range(i64::from(m.member.entry.advskew))
            .is_some()
    }) {
        return Err(m.refuse(
            m.member.entry.advskew_pos.map_or(m.line(), |p| p.line),
            format!(
                "vhid {} on {}: advskew {} is out of range 0-254",
                m.member.entry.vhid, m.name, m.member.entry.advskew
            ),
        ));
    }
    pin_line(out, PinKind::Advskew, order, |m| m.member.entry.advskew);
    out.notes.push(format!(
        "{vip}: advskews pinned as in the rc.conf files (rank x {DEFAULT_ADVSKEW_STEP} does not \
         reproduce them)"
    ));
    Ok(())
}

/// `advskew = { ... }` or `priority = { ... }`, and `allow_tie` when two
/// members advertise one value.
fn pin_line(out: &mut Election, kind: PinKind, order: &[At<'_>], value: impl Fn(&At<'_>) -> u8) {
    let pairs: Vec<String> = order
        .iter()
        .map(|m| format!("{} = {}", super::import::toml_key(&m.name), value(m)))
        .collect();
    let _ = writeln!(out.lines, "{} = {{ {} }}", kind.key(), pairs.join(", "));
    let mut keys: Vec<u8> = order.iter().map(|m| kind.election_key(value(m))).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        out.lines.push_str("allow_tie = true\n");
    }
}

/// `peer`/`peer6`: `unicast = true` and each member's own address (its
/// partner's peer), when the two members point at each other
/// ([`peers::problems`], which `lint` reports as CARP064).
fn unicast(
    order: &[At<'_>],
    addrs: &[IpNet],
    vrrp: bool,
    out: &mut Election,
) -> Result<(), MigrateError> {
    let Some(with) = order
        .iter()
        .find(|m| m.member.entry.peer.is_some() || m.member.entry.peer6.is_some())
    else {
        return Ok(());
    };
    let vhid = with.member.entry.vhid;
    if vrrp {
        return Err(with.refuse(
            with.line(),
            format!(
                "vhid {vhid}: unicast VRRP (peer with carpver 3) is not supported by the \
                 cluster file yet (docs/design-unicast-vrrp.md)"
            ),
        ));
    }
    let members: Vec<&Member<'_>> = order.iter().map(|m| m.member).collect();
    let describe = |m: &Member<'_>| {
        order
            .iter()
            .find(|a| a.member.node == m.node)
            .map(|a| (a.name.clone(), format!("{}:{}", a.file, m.entry.pos.line)))
            .unwrap_or_default()
    };
    if let Some(p) = peers::problems(&members, &describe).into_iter().next() {
        let at = order.get(p.member).unwrap_or(with);
        return Err(at.refuse(p.pos.line, p.message));
    }
    for (x, y) in order.iter().zip(order.iter().rev()) {
        let e = x.member.entry;
        for (needed, peer, key) in [
            (
                addrs.iter().any(|n| n.addr().is_ipv4()),
                e.peer.map(|(p, at)| (IpAddr::V4(p), at)),
                "peer",
            ),
            (
                addrs.iter().any(|n| n.addr().is_ipv6()),
                e.peer6.map(|(p, at)| (IpAddr::V6(p), at)),
                "peer6",
            ),
        ] {
            match (needed, peer) {
                (true, Some((p, at))) => {
                    out.addresses
                        .push((y.member.node, p, format!("{}:{}", x.file, at.line)));
                }
                (false, Some((p, _))) => out.notes.push(format!(
                    "vhid {vhid} on {}: {key} {p} is left out: the vhid has no address of \
                     that family, so carp(4) sends nothing to it",
                    x.name
                )),
                _ => {}
            }
        }
    }
    out.lines.push_str("unicast = true\n");
    Ok(())
}
