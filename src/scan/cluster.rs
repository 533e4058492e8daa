//! What the cluster file says about the wire: each VIP's vhid, address list
//! and key (for the HMAC), each node's planned advskew per VIP (from
//! [`crate::plan`]), and which node a speaker is.
//!
//! **Keys** are read through [`KeySource`] only when an advertisement of
//! their vhid arrives (and all of them only when one fails, to find out
//! why), never printed, and dropped (zeroed) with the view. A key file
//! that cannot be read leaves that VIP unchecked (`SCAN013`), it does not
//! stop the scan: scan is often run by someone who may capture but not
//! read `/usr/local/etc/carpctl.d`.
//!
//! **Why an HMAC fails** (`carp_hmac_verify`, docs/freebsd-carp.md §12.4:
//! the digest covers the key, the vhid, every address of the vhid of both
//! families, and the counter): the failing advertisement is checked again
//! with the other VIPs' keys and this VIP's addresses (a wrong password),
//! with this VIP's key and other address lists — another VIP's, this one
//! less one address or one family, or plus one address of another VIP (a
//! different address list) — and with no key at all. Only a combination
//! that verifies is named; otherwise both causes remain possible.
//!
//! **Which node** a speaker is: `--map NODE=ADDRESS` says so; otherwise it
//! is inferred from the advskews it advertises, which carp(4) sets to the
//! planned skew plus this node's demotion, capped at 240 (`DEMOTE_ADVSKEW`,
//! §11.1): the node for which one demotion D ≥ 0 explains every skew the
//! speaker advertises, the one with the smallest D when several do, and
//! none when that is still ambiguous.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;

use serde::Serialize;

use crate::config::{Config, KeySource};
use crate::model::Key;
use crate::wire::{CarpAuth, CarpHeader};

use super::track::{Verdict, Verify};

/// What carp(4) advertises at most: `CARP_MAXSKEW`.
const MAX_SKEW: u8 = crate::model::CARP_MAXSKEW;

/// A VIP as the scan needs it.
#[derive(Debug)]
pub struct VipView {
    pub name: String,
    pub vhid: u8,
    /// As written in the file (`lan`).
    pub interface: String,
    /// What it is called on the nodes (`em0`, `igb0`), each once.
    pub(crate) real: Vec<String>,
    pub addrs: Vec<IpAddr>,
    pub advbase: u8,
    /// Node → planned advskew, for the nodes that take part.
    pub(crate) planned: BTreeMap<String, u8>,
    key: KeyState,
}

#[derive(Debug)]
enum KeyState {
    /// A `password_file` not read yet.
    Unread(KeySource),
    /// The key (or none: no password), with its HMAC state.
    Ready(Option<Key>, CarpAuth),
    /// The key file could not be read: why (never the key).
    Unreadable(String),
}

/// How a speaker's node is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum NodeSource {
    /// `--map NODE=ADDRESS`.
    Map,
    /// From the advskews it advertises.
    Skew,
}

/// Why a speaker's HMAC fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Diagnosis {
    /// It verifies with another VIP's password (`Some(name)`), or with no
    /// password at all (`None`), and this VIP's address list.
    WrongPassword(Option<String>),
    /// It verifies with this VIP's password and another address list,
    /// described.
    AddressList(String),
    /// It verifies as another VIP entirely (its password and addresses).
    OtherVip(String),
    /// Nothing known verifies.
    Unknown,
    /// The keys needed could not be read.
    Unreadable(String),
}

/// The cluster file as the scan sees it.
#[derive(Debug)]
pub struct ClusterView {
    pub path: PathBuf,
    pub vips: Vec<VipView>,
    pub nodes: Vec<String>,
    /// `--map`: address → node.
    pub map: BTreeMap<IpAddr, String>,
    /// (vhid, interface label) → candidate VIPs.
    candidates: HashMap<(u8, String), Vec<usize>>,
}

impl ClusterView {
    /// The view of `cfg` with the `--map` entries `map` (already checked
    /// against the node names). Errors: the plan cannot be computed.
    pub fn new(cfg: &Config, map: BTreeMap<IpAddr, String>) -> Result<Self, String> {
        let plan = cfg
            .plan()
            .map_err(|e| format!("{}: {e}", cfg.path.display()))?;
        let vips = cfg
            .vips
            .iter()
            .zip(&plan.vips)
            .map(|(v, p)| {
                let mut real: Vec<String> = cfg
                    .nodes
                    .iter()
                    .filter(|n| v.takes_part(&n.name))
                    .map(|n| n.real_interface(&v.interface).to_string())
                    .collect();
                real.sort_unstable();
                real.dedup();
                let addrs: Vec<IpAddr> = v.addresses.iter().map(|a| a.addr()).collect();
                let key = match &v.key {
                    None => KeyState::Ready(None, CarpAuth::for_vhid(None, v.vhid, &addrs)),
                    Some(src) => KeyState::Unread(src.clone()),
                };
                VipView {
                    name: v.name.clone(),
                    vhid: v.vhid.get(),
                    interface: v.interface.clone(),
                    real,
                    addrs,
                    advbase: v.advbase.get(),
                    planned: p
                        .advskew
                        .iter()
                        .map(|(n, s)| (n.clone(), s.get()))
                        .collect(),
                    key,
                }
            })
            .collect();
        Ok(ClusterView {
            path: cfg.path.clone(),
            vips,
            nodes: cfg.node_names(),
            map,
            candidates: HashMap::new(),
        })
    }

    /// The VIPs an advertisement of `vhid` seen on interface `label` may
    /// be: those of that vhid whose interface is called so (on some node,
    /// or as written), else every VIP of that vhid.
    pub(crate) fn candidates(&mut self, vhid: u8, label: &str) -> &[usize] {
        let vips = &self.vips;
        self.candidates
            .entry((vhid, label.to_string()))
            .or_insert_with(|| {
                let all: Vec<usize> = (0..vips.len()).filter(|&i| vips[i].vhid == vhid).collect();
                let named: Vec<usize> = all
                    .iter()
                    .copied()
                    .filter(|&i| {
                        vips[i].interface == label || vips[i].real.iter().any(|r| r == label)
                    })
                    .collect();
                if named.is_empty() { all } else { named }
            })
    }

    /// The VIPs of `vhid`, any interface.
    pub(crate) fn vips_of(&self, vhid: u8) -> impl Iterator<Item = &VipView> {
        self.vips.iter().filter(move |v| v.vhid == vhid)
    }

    /// The HMAC state of VIP `i`, reading its key the first time.
    fn auth(&mut self, i: usize) -> Option<&CarpAuth> {
        let v = self.vips.get_mut(i)?;
        if let KeyState::Unread(src) = &v.key {
            v.key = match src.read() {
                Ok((key, _warnings)) => {
                    let auth = CarpAuth::for_vhid(Some(&key), vhid_of(v.vhid)?, &v.addrs);
                    KeyState::Ready(Some(key), auth)
                }
                Err(diags) => KeyState::Unreadable(
                    diags
                        .first()
                        .map_or_else(|| "cannot be read".to_string(), |d| d.message.clone()),
                ),
            };
        }
        match &v.key {
            KeyState::Ready(_, auth) => Some(auth),
            _ => None,
        }
    }

    /// Why VIP `i`'s key cannot be used, if it cannot.
    pub(crate) fn key_problem(&self, i: usize) -> Option<&str> {
        match &self.vips.get(i)?.key {
            KeyState::Unreadable(why) => Some(why),
            _ => None,
        }
    }

    /// Reads every key (once), for the diagnosis of a failure.
    fn read_all_keys(&mut self) {
        for i in 0..self.vips.len() {
            let _ = self.auth(i);
        }
    }

    /// The key of VIP `i` once read (`Some(None)`: no password).
    fn key(&self, i: usize) -> Option<Option<&Key>> {
        match &self.vips.get(i)?.key {
            KeyState::Ready(k, _) => Some(k.as_ref()),
            _ => None,
        }
    }

    /// Why `sample` (counter, digest) of `vhid`, seen on `label`, does not
    /// verify (see the module doc).
    pub(crate) fn diagnose(&mut self, vhid: u8, label: &str, sample: (u64, [u8; 20])) -> Diagnosis {
        let cands = self.candidates(vhid, label).to_vec();
        let Some(&own) = cands.first() else {
            return Diagnosis::Unknown;
        };
        self.read_all_keys();
        if let Some(why) = self.key_problem(own) {
            return Diagnosis::Unreadable(why.to_string());
        }
        let Some(vhid_t) = vhid_of(vhid) else {
            return Diagnosis::Unknown;
        };
        let (counter, md) = sample;
        let ok = |key: Option<&Key>, addrs: &[IpAddr]| {
            CarpAuth::for_vhid(key, vhid_t, addrs).verify(counter, &md)
        };
        let own_addrs = self.vips[own].addrs.clone();
        let own_key = self.key(own).flatten().cloned();
        // Another VIP's password, or none, with this VIP's addresses.
        for (j, w) in self.vips.iter().enumerate() {
            if j == own {
                continue;
            }
            if let Some(k) = self.key(j)
                && k != own_key.as_ref()
                && ok(k, &own_addrs)
            {
                return Diagnosis::WrongPassword(Some(w.name.clone()));
            }
        }
        if own_key.is_some() && ok(None, &own_addrs) {
            return Diagnosis::WrongPassword(None);
        }
        // This VIP's password with another address list.
        for (desc, addrs) in self.other_lists(own) {
            if ok(own_key.as_ref(), &addrs) {
                return Diagnosis::AddressList(desc);
            }
        }
        // Another VIP altogether.
        for (j, w) in self.vips.iter().enumerate() {
            if j != own
                && let Some(k) = self.key(j)
                && ok(k, &w.addrs)
            {
                return Diagnosis::OtherVip(w.name.clone());
            }
        }
        Diagnosis::Unknown
    }

    /// Address lists a misconfigured node might hash instead of VIP
    /// `own`'s, each with what it is.
    fn other_lists(&self, own: usize) -> Vec<(String, Vec<IpAddr>)> {
        let base = &self.vips[own].addrs;
        let mut lists = Vec::new();
        for w in self.vips.iter().filter(|w| w.name != self.vips[own].name) {
            lists.push((
                format!("the addresses of VIP \"{}\"", w.name),
                w.addrs.clone(),
            ));
        }
        if base.len() > 1 {
            for a in base {
                let less: Vec<IpAddr> = base.iter().copied().filter(|x| x != a).collect();
                lists.push((format!("all but {a}"), less));
            }
            for (v6, fam) in [(false, "IPv4"), (true, "IPv6")] {
                let one: Vec<IpAddr> = base.iter().copied().filter(|x| x.is_ipv6() == v6).collect();
                if !one.is_empty() && one.len() < base.len() {
                    lists.push((format!("its {fam} addresses only"), one));
                }
            }
        }
        for w in &self.vips {
            for a in &w.addrs {
                if !base.contains(a) {
                    let mut more = base.clone();
                    more.push(*a);
                    lists.push((format!("one address more: {a}"), more));
                }
            }
        }
        lists
    }

    /// Which node each address is: `--map` when given (it then names
    /// every node, so an address it leaves out is no node), else inferred
    /// from `observed`, the (address, vhid, advskew) of the CARP speakers.
    pub(crate) fn nodes_of(
        &self,
        observed: &[(IpAddr, u8, u8)],
    ) -> HashMap<IpAddr, (String, NodeSource)> {
        let mut out: HashMap<IpAddr, (String, NodeSource)> = self
            .map
            .iter()
            .map(|(a, n)| (*a, (n.clone(), NodeSource::Map)))
            .collect();
        if !self.map.is_empty() {
            return out;
        }
        let mut by_addr: BTreeMap<IpAddr, Vec<(u8, u8)>> = BTreeMap::new();
        for &(a, vhid, skew) in observed {
            by_addr.entry(a).or_default().push((vhid, skew));
        }
        for (a, seen) in by_addr {
            if out.contains_key(&a) {
                continue;
            }
            if let Some(n) = self.infer(&seen) {
                out.insert(a, (n, NodeSource::Skew));
            }
        }
        out
    }

    /// The node whose plan explains `seen` (vhid, advskew) with the
    /// smallest demotion, if exactly one does.
    fn infer(&self, seen: &[(u8, u8)]) -> Option<String> {
        let mut fits: Vec<(u16, &str)> = Vec::new();
        for node in &self.nodes {
            if let Some(d) = self.demotion_fitting(node, seen) {
                fits.push((d, node));
            }
        }
        fits.sort_unstable();
        match fits.as_slice() {
            [(_, n)] => Some(n.to_string()),
            [(d0, n), (d1, _), ..] if d0 < d1 => Some(n.to_string()),
            _ => None,
        }
    }

    /// The one demotion D ≥ 0 that gives every skew of `seen` for `node`
    /// (a skew of 240 only says D ≥ 240 − planned).
    pub(crate) fn demotion_fitting(&self, node: &str, seen: &[(u8, u8)]) -> Option<u16> {
        let mut exact: Option<u16> = None;
        let mut at_least = 0u16;
        for &(vhid, skew) in seen {
            let planned = self
                .vips_of(vhid)
                .find_map(|v| v.planned.get(node).copied())?;
            if skew < planned {
                return None;
            }
            let d = u16::from(skew - planned);
            if skew == MAX_SKEW {
                at_least = at_least.max(d);
            } else if exact.is_some_and(|e| e != d) {
                return None;
            } else {
                exact = Some(d);
            }
        }
        match exact {
            Some(e) if e < at_least => None,
            Some(e) => Some(e),
            None => Some(at_least),
        }
    }
}

fn vhid_of(v: u8) -> Option<crate::model::Vhid> {
    crate::model::Vhid::new(i64::from(v)).ok()
}

impl Verify for ClusterView {
    fn verify(&mut self, iface: &str, h: &CarpHeader) -> Verdict {
        let cands = self.candidates(h.vhid, iface).to_vec();
        let mut checked = false;
        for i in cands {
            if let Some(auth) = self.auth(i) {
                checked = true;
                if auth.verify(h.counter, &h.md) {
                    return Verdict::Verified;
                }
            }
        }
        if checked {
            Verdict::Failed
        } else {
            Verdict::Unchecked
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
