//! Which interfaces exist at boot, as far as rc.conf tells (CARP092,
//! CARP093).
//!
//! `/etc/rc.d/netif` configures every interface of `ifconfig -l` (after
//! `clone_up` and `vlan_up`/`wlan_up` created the cloned ones) from its
//! `ifconfig_IF*` variables (`libexec/rc/network.subr`, `ifn_start`,
//! `clone_up`, `childif_create`). An `ifconfig_IF*` variable whose
//! interface nothing creates is never read: every address and vhid on it
//! is silently missing at boot.
//!
//! An interface exists when it is
//!
//! * **physical-looking**: its name is a driver name followed by a unit
//!   number, as `if_initname(9)` makes them (`em0`, `igb1`, `vtnet0`,
//!   `mlxen0`, `dwc0`): one or more lower-case ASCII letters or digits,
//!   starting and ending (before the unit) with a letter, then a decimal
//!   unit without leading zeros; and the driver is not one of the cloners
//!   that `ifconfig -C` lists and rc.conf must create ([`CLONERS`]);
//! * created by rc.conf: listed in `cloned_interfaces` (an `epairN` gives
//!   `epairNa` and `epairNb`), a child of `vlans_PARENT` (`PARENT.VID`, or
//!   a named vlan) or `wlans_PARENT`, or the new name of
//!   `ifconfig_IF_name`;
//! * made by the system itself: `lo0`, and `pflog0`, `pfsync0`, `enc0`,
//!   which their modules or rc.d scripts create.
//!
//! Names are compared as rc.conf variables write them (`em0.100` is
//! `em0_100`: network.subr `get_if_var`).

use std::collections::BTreeMap;

use super::{Issue, RcConf};
use crate::lint::codes::Code;
use crate::rcconf::names::{IfconfigVar, classify, is_carp_iface, var_name};
use crate::rcconf::sh::Assignment;
use crate::textfile::Pos;

/// Cloners (`ifconfig -C` on FreeBSD 14) whose interfaces rc.conf has to
/// create, so that `lagg0` or `bridge0` is not physical-looking.
const CLONERS: &[&str] = &[
    "bridge", "carp", "disc", "edsc", "epair", "geneve", "gif", "gre", "ipsec", "lagg", "me",
    "ovpn", "stf", "tap", "tun", "vlan", "vxlan", "wg", "wlan", "faith",
];

/// Interfaces that exist without a word in rc.conf.
const ALWAYS: &[&str] = &["lo0", "pflog0", "pfsync0", "enc0"];

/// Whether `name` (an rc.conf interface name) is a driver name and a unit
/// number of a driver that is not a cloner. See the module documentation.
fn physical_looking(name: &str) -> bool {
    let unit_at = name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (driver, unit) = name.split_at(unit_at);
    !driver.is_empty()
        && !unit.is_empty()
        && (unit == "0" || !unit.starts_with('0'))
        && driver.starts_with(|c: char| c.is_ascii_lowercase())
        && driver.ends_with(|c: char| c.is_ascii_lowercase())
        && driver
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !CLONERS.contains(&driver)
}

/// The interfaces an rc.conf creates or configures.
#[derive(Default)]
struct Known<'a> {
    /// Created by rc.conf, with the variable that creates them.
    created: BTreeMap<String, &'a Assignment>,
    /// Configured by some `ifconfig_IF*` (first variable), or named as a
    /// lagg port or bridge member.
    configured: BTreeMap<String, Pos>,
    /// `vlans_PARENT`: (parent, the assignment).
    vlan_parents: Vec<(String, &'a Assignment)>,
}

fn known<'a>(effective: &[&'a Assignment]) -> Known<'a> {
    let mut k = Known::default();
    for &a in effective {
        let words = || a.value.split_whitespace();
        match a.name.as_str() {
            "cloned_interfaces" => {
                for w in words() {
                    let n = var_name(w.split(':').next().unwrap_or(w));
                    if n.starts_with("epair") {
                        k.created.insert(format!("{n}a"), a);
                        k.created.insert(format!("{n}b"), a);
                    }
                    k.created.insert(n, a);
                }
            }
            n if n.starts_with("vlans_") || n.starts_with("wlans_") => {
                let parent = &n["vlans_".len()..];
                for w in words() {
                    let child = if w.bytes().all(|b| b.is_ascii_digit()) {
                        format!("{parent}_{w}")
                    } else {
                        var_name(w)
                    };
                    k.created.insert(child, a);
                }
                if n.starts_with("vlans_") {
                    k.vlan_parents.push((parent.to_string(), a));
                }
            }
            n if n.starts_with("ifconfig_") && n.ends_with("_name") => {
                if let Some(w) = words().next() {
                    k.created.insert(var_name(w), a);
                }
            }
            n => {
                let iface = match classify(n) {
                    IfconfigVar::Main(i)
                    | IfconfigVar::Ipv6(i)
                    | IfconfigVar::Alias(i, _)
                    | IfconfigVar::Aliases(i) => i,
                    IfconfigVar::Other => continue,
                };
                k.configured.entry(iface).or_insert(a.pos);
                let mut it = words();
                while let Some(w) = it.next() {
                    if matches!(w, "laggport" | "addm" | "vlandev" | "wlandev")
                        && let Some(m) = it.next()
                    {
                        k.configured.entry(var_name(m)).or_insert(a.pos);
                    }
                }
            }
        }
    }
    k
}

/// How many name comparisons one file may spend on "did you mean": the
/// suggestions compare each unknown name with every known one, which a
/// huge generated file would make quadratic; real files have a few dozen
/// interfaces. Past the budget no suggestion is made (and no CARP093,
/// which is a suggestion).
const COMPARE_BUDGET: usize = 100_000;

/// The closest of `names` to `name`, if one typo away (Damerau-Levenshtein
/// distance 1, or 2 for names of six characters or more); `budget` counts
/// down the comparisons left.
fn closest<'n>(
    name: &str,
    names: impl ExactSizeIterator<Item = &'n String>,
    budget: &mut usize,
) -> Option<&'n str> {
    if names.len() > *budget {
        *budget = 0;
        return None;
    }
    *budget -= names.len();
    let limit = if name.len() >= 6 { 2 } else { 1 };
    names
        .filter(|n| n.as_str() != name && n.len().abs_diff(name.len()) <= limit)
        .map(|n| (strsim::damerau_levenshtein(name, n), n))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, n)| n.as_str())
}

/// CARP092 and CARP093 for one rc.conf.
pub(super) fn check(rc: &mut RcConf, effective: &[&Assignment]) {
    let k = known(effective);
    let mut budget = COMPARE_BUDGET;
    let mut vhids_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for e in &rc.vhids {
        vhids_of
            .entry(e.iface.as_str())
            .or_default()
            .push(e.vhid.to_string());
    }
    let mut out = Vec::new();
    let exists = |n: &str| {
        k.created.contains_key(n) || ALWAYS.contains(&n) || physical_looking(n) || is_carp_iface(n)
    };
    // CARP093: vlans_PARENT, PARENT configured nowhere, one typo from one
    // that is.
    for (parent, a) in &k.vlan_parents {
        if k.configured.contains_key(parent) || k.created.contains_key(parent) {
            continue;
        }
        let Some(meant) = closest(parent, k.configured.keys(), &mut budget) else {
            continue;
        };
        out.push(Issue::new(
            Code::VlanParentUnknown,
            a.pos,
            format!(
                "{}: no interface {parent} is configured anywhere in this file, and {meant} is: \
                 a typo for vlans_{meant}? The vlans are created on {parent} (or not at all), so \
                 every ifconfig_{meant}_VID line and the vhids on them never apply",
                a.name
            ),
        ));
    }
    // CARP092: ifconfig_IF* for an interface nothing creates.
    for (iface, pos) in &k.configured {
        if exists(iface) {
            continue;
        }
        let lost = match vhids_of.get(iface.as_str()) {
            Some(v) => format!(" (and vhid {} on it)", v.join(", ")),
            None => String::new(),
        };
        let hint = match closest(iface, k.created.keys(), &mut budget) {
            Some(m) => format!(
                "; {} creates {} instead: a typo?",
                k.created.get(m).map_or("", |a| a.name.as_str()),
                rc.display_name(m)
            ),
            None => "; add it to cloned_interfaces, or vlans_PARENT for a vlan, if it is meant"
                .to_string(),
        };
        out.push(Issue::new(
            Code::InterfaceNotCreated,
            *pos,
            format!(
                "ifconfig_{iface}: nothing creates {}: it is not in cloned_interfaces, vlans_* \
                 or wlans_*, and its name is not a driver name and unit number (em0, igb1), so \
                 netif never configures it and every ifconfig_{iface}* line{lost} never \
                 applies{hint}",
                rc.display_name(iface)
            ),
        ));
    }
    rc.issues.append(&mut out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn physical_looking_is_a_driver_and_a_unit() {
        for n in ["em0", "igb12", "vtnet0", "mlxen0", "dwc0", "ixl3", "re10"] {
            assert!(physical_looking(n), "{n}");
        }
        for n in [
            "em", "0", "em01", "em0_100", "Em0", "lagg0", "vlan5", "bridge0", "tap1", "wlan0",
            "carp0", "uplink", "2em0", "",
        ] {
            assert!(!physical_looking(n), "{n}");
        }
    }

    #[test]
    fn suggestions_stop_at_the_budget() {
        let names: Vec<String> = vec!["dwc0".into(), "em0".into()];
        let mut budget = 10;
        assert_eq!(closest("dcw0", names.iter(), &mut budget), Some("dwc0"));
        assert_eq!(budget, 8);
        assert_eq!(closest("xyz9", names.iter(), &mut budget), None);
        let mut budget = 1;
        assert_eq!(closest("dcw0", names.iter(), &mut budget), None);
        assert_eq!(budget, 0);
    }
}
