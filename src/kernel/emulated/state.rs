//! The emulated host as plain data: interfaces with their addresses and
//! carp softcs, the `net.inet.carp.*` sysctls and the statistics. This is
//! exactly what the state file holds (see [`super::persist`]); the rules
//! that change it live in [`super::carp`] and [`super::fsm`].
//!
//! Field names follow `ip_carp.c` where one exists (`struct carp_softc`,
//! `struct carp_if`; freebsd-src `sys/netinet/ip_carp.c`, docs/freebsd-carp.md §4.3).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use carpctl_sys::{self as sys, CARP_KEY_LEN, IFNAMSIZ};

use super::{Flavor, HostSpec};
use crate::model::CarpState;

/// Version of the state file format; bumped on incompatible changes.
pub(super) const FORMAT: u32 = 1;

/// A carp key as the kernel stores it (`sc_key`, 20 raw bytes).
///
/// Only the emulated kernel holds keys in plain form: `Debug` never shows
/// the bytes and the memory is zeroed on drop. In the state file the key is
/// a 40-digit hex string.
#[derive(Clone, PartialEq, Eq, Default)]
pub(super) struct KeyBytes(pub Zeroizing<[u8; CARP_KEY_LEN]>);

impl fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyBytes(<redacted>)")
    }
}

impl Serialize for KeyBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(hex::encode(*self.0));
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for KeyBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        let mut key = KeyBytes::default();
        let res = hex::decode_to_slice(text.as_bytes(), &mut *key.0);
        res.map_err(|e| {
            serde::de::Error::custom(format!(
                "a key must be {} hex digits ({CARP_KEY_LEN} bytes): {e}",
                2 * CARP_KEY_LEN
            ))
        })?;
        Ok(key)
    }
}

/// One vhid (`struct carp_softc`). Created INIT with the defaults of
/// `carp_alloc()` (docs/freebsd-carp.md §4.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Softc {
    pub vhid: u8,
    /// `sc_version`: 2 = CARP, 3 = VRRPv3 (15.0+).
    pub version: u8,
    pub state: CarpState,
    /// Seconds, 1..=255 (`CARP_DFLTINTV` = 1 at creation).
    pub advbase: i32,
    /// 0..=254.
    pub advskew: i32,
    pub key: KeyBytes,
    /// `sc_carpaddr`: 224.0.0.18 or a unicast peer.
    pub peer: Ipv4Addr,
    /// `sc_carpaddr6`: ff02::12 or a unicast peer.
    pub peer6: Ipv6Addr,
    /// VRRPv3 priority (default 100) and advertisement interval in
    /// centiseconds (default 100), docs/freebsd-carp.md §8.
    pub vrrp_priority: u8,
    pub vrrp_adv_inter: u16,
    /// `sc_suppress`: the ifdown demotion has been applied for this vhid.
    pub(crate) suppressed: bool,
    /// What only exists while time passes (timers, the counter, send-error
    /// accounting): not part of the state file.
    #[serde(skip)]
    pub run: Run,
}

/// The part of `struct carp_softc` that lives only in a running kernel:
/// the callouts (`sc_md_tmo`, `sc_md6_tmo`, `sc_ad_tmo`) as absolute
/// deadlines in microseconds of virtual time, the advertisement counter,
/// and the send-error counts. A file-backed host never lets time pass, so
/// these stay at their defaults there; they are neither saved nor compared
/// (two softcs are equal when their configuration and state are).
#[derive(Debug, Clone)]
pub(super) struct Run {
    /// Master-down deadlines for IPv4 (`sc_md_tmo`) and IPv6 (`sc_md6_tmo`).
    pub md: [Option<u64>; 2],
    /// Advertisement deadline (`sc_ad_tmo`).
    pub(crate) ad: Option<u64>,
    /// The earliest wake-up already requested from whoever drives time
    /// (see [`super::fsm::Event::Wake`]); a deadline at or after it needs
    /// no new request.
    pub(crate) wake: Option<u64>,
    /// `sc_counter`.
    pub counter: u64,
    /// `sc_init_counter`: true from `carp_alloc()` until an advertisement
    /// is accepted; while true every packet gets a random counter.
    pub(crate) init_counter: bool,
    /// `sc_sendad_errors`, `sc_sendad_success`.
    pub(crate) sendad_errors: u32,
    pub(crate) sendad_success: u32,
    /// `sc_vrrp_master_inter` (centiseconds): `adv_inter` at allocation
    /// (100), then what the master advertises.
    pub(crate) vrrp_master_inter: u16,
}

impl Default for Run {
    /// What `carp_alloc()` leaves: no timer, `sc_init_counter` set.
    fn default() -> Self {
        Run {
            md: [None, None],
            ad: None,
            wake: None,
            counter: 0,
            init_counter: true,
            sendad_errors: 0,
            sendad_success: 0,
            vrrp_master_inter: 100,
        }
    }
}

impl PartialEq for Run {
    /// Running state is not configuration: see the type's documentation.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Run {}

impl Softc {
    /// `carp_alloc()` + the vhid assignment in `carp_ioctl_set()`.
    pub(super) fn new(vhid: u8, version: u8) -> Self {
        Softc {
            vhid,
            version,
            state: CarpState::Init,
            advbase: i32::from(sys::CARP_DFLTINTV),
            advskew: 0,
            key: KeyBytes::default(),
            peer: Ipv4Addr::from(sys::INADDR_CARP_GROUP),
            peer6: Ipv6Addr::from(sys::IN6ADDR_CARP_GROUP),
            vrrp_priority: 100,
            vrrp_adv_inter: 100,
            suppressed: false,
            run: Run::default(),
        }
    }

    pub(super) fn is_vrrp(&self) -> bool {
        self.version == sys::CARP_VERSION_VRRPV3
    }
}

/// One interface address; `vhid` 0 = not a carp address (`ifa_carp` NULL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Addr {
    pub net: IpNet,
    pub vhid: u8,
}

/// One interface (`struct ifnet`, the parts carp(4) looks at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Iface {
    pub name: String,
    pub(crate) index: u16,
    /// `if_type` (`IFT_ETHER`, `IFT_LOOP`, ...).
    pub(crate) if_type: u8,
    /// `if_flags` (`IFF_UP`, `IFF_MULTICAST`, `IFF_PROMISC`, ...).
    pub flags: u32,
    /// `if_link_state` (`LINK_STATE_UP`, ...).
    pub(crate) link_state: u8,
    /// `if_addrhead`, in order.
    pub addresses: Vec<Addr>,
    /// `if_carp->cif_vrs`, in creation order (`TAILQ_INSERT_TAIL`). The
    /// per-interface `carp_if` exists exactly while this is not empty.
    pub vhids: Vec<Softc>,
    /// The hardware address (`IF_LLADDR`). Only a live host (one the
    /// simulator runs) puts frames on a wire, so only it sets one; it is
    /// not part of the state file.
    #[serde(skip)]
    pub(crate) lladdr: [u8; 6],
}

impl Iface {
    pub(super) fn is_up(&self) -> bool {
        self.flags & sys::IFF_UP != 0
    }
    pub(super) fn link_is_up(&self) -> bool {
        self.link_state == sys::LINK_STATE_UP
    }
    pub(super) fn is_multicast(&self) -> bool {
        self.flags & sys::IFF_MULTICAST != 0
    }
    /// `if_carp != NULL`.
    pub(super) fn has_carp(&self) -> bool {
        !self.vhids.is_empty()
    }
    /// `carp_is_supported_if()`: Ethernet, VLAN and bridge only.
    pub(super) fn supports_carp(&self) -> bool {
        matches!(
            self.if_type,
            sys::IFT_ETHER | sys::IFT_L2VLAN | sys::IFT_BRIDGE
        )
    }
    pub(super) fn find_vhid(&self, vhid: i64) -> Option<usize> {
        self.vhids.iter().position(|sc| i64::from(sc.vhid) == vhid)
    }
    /// `sc_naddrs + sc_naddrs6` of a vhid.
    pub(super) fn naddrs(&self, vhid: u8) -> usize {
        self.addresses
            .iter()
            .filter(|a| vhid != 0 && a.vhid == vhid)
            .count()
    }
    pub(super) fn find_addr(&self, addr: IpAddr) -> Option<usize> {
        self.addresses.iter().position(|a| a.net.addr() == addr)
    }
    /// `sc_naddrs` and `sc_naddrs6` of a vhid.
    pub(super) fn naddrs_by_family(&self, vhid: u8) -> Naddrs {
        let mut n = Naddrs::default();
        if vhid == 0 {
            return n;
        }
        for a in self.addresses.iter().filter(|a| a.vhid == vhid) {
            match a.net {
                IpNet::V4(_) => n.v4 += 1,
                IpNet::V6(_) => n.v6 += 1,
            }
        }
        n
    }
}

/// A vhid's address count per family (`sc_naddrs`, `sc_naddrs6`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Naddrs {
    pub v4: u32,
    pub v6: u32,
}

impl Naddrs {
    pub(super) fn total(self) -> u64 {
        u64::from(self.v4) + u64::from(self.v6)
    }
}

/// `net.inet.carp.*` except `stats` (defaults: `ip_carp.c` VNET_DEFINEs,
/// docs/freebsd-carp.md §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Sysctls {
    pub allow: i32,
    pub preempt: i32,
    pub log: i32,
    pub demotion: i32,
    pub ifdown_demotion_factor: i32,
    pub senderr_demotion_factor: i32,
    pub dscp: i32,
}

impl Default for Sysctls {
    fn default() -> Self {
        Sysctls {
            allow: 1,
            preempt: 0,
            log: 1,
            demotion: 0,
            ifdown_demotion_factor: i32::from(sys::CARP_MAXSKEW),
            senderr_demotion_factor: i32::from(sys::CARP_MAXSKEW),
            dscp: sys::CARP_DFLTDSCP,
        }
    }
}

/// `struct carpstats` (docs/freebsd-carp.md §3.1), by name: the model's own type, so
/// the emulated kernel counts exactly what `status` and the backend read.
pub(super) type Stats = crate::model::CarpStats;

/// Everything the state file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct HostState {
    pub(crate) format: u32,
    pub flavor: Flavor,
    /// Whether the caller has `PRIV_NETINET_CARP` (and the other network
    /// privileges root has).
    pub privileged: bool,
    /// Whether carp.ko is in the kernel (`carp_ioctl_p` etc. non-NULL).
    pub carp_loaded: bool,
    pub(crate) sysctl: Sysctls,
    pub stats: Stats,
    pub interfaces: Vec<Iface>,
    /// `kern.boottime`, seconds since the Epoch: set when the host is
    /// created and by every [`HostState::reboot`] (0 in a state file from
    /// before carpctl read it).
    #[serde(default)]
    pub(crate) boottime: i64,
    /// The id carp.ko's generic netlink family got when it registered: the
    /// lowest free one (`find_empty_family_id`, docs/freebsd-carp.md §6.1).
    /// Meaningful only while the family is registered
    /// ([`HostState::carp_family_registered`]).
    #[serde(
        default = "default_carp_family_id",
        skip_serializing_if = "is_default_carp_family_id"
    )]
    pub(crate) carp_family_id: u16,
    /// Other modules' generic netlink families, by id: what
    /// [`HostState::load_module`] registered (see [`super::modules`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) genl_families: BTreeMap<u16, String>,
    /// `kern.osreldate` when it is not the flavor's own: a 15-CURRENT
    /// snapshot (the 14 flavor with 1500018 is 15-CURRENT before VRRPv3), or
    /// a kernel whose version claims what its carp(4) lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) osreldate: Option<i32>,
    /// Virtual time in microseconds, set by whoever drives time (the
    /// simulator) before each call; timers are armed relative to it. Always
    /// 0 for a file-backed host, whose timers never fire.
    #[serde(skip)]
    pub(crate) now: u64,
    /// `kern.hz` and the tick phase: where callouts fire (live hosts only).
    #[serde(skip)]
    pub(crate) hz: super::fsm::Hz,
}

/// nlctrl takes `GENL_MIN_ID` (16); the first other family, 17. A host
/// whose carp.ko loaded first has carp there.
fn default_carp_family_id() -> u16 {
    carpctl_sys::netlink::GENL_ID_CTRL + 1
}

fn is_default_carp_family_id(id: &u16) -> bool {
    *id == default_carp_family_id()
}

/// Interface flags of an emulated Ethernet interface (docs/freebsd-carp.md §4.2 needs
/// `IFF_MULTICAST`; `IFF_BROADCAST` and `IFF_RUNNING` as a NIC has them).
pub(super) const ETHER_FLAGS: u32 =
    sys::IFF_UP | sys::IFF_BROADCAST | sys::IFF_RUNNING | sys::IFF_MULTICAST;
/// `lo0`'s flags.
pub(super) const LOOP_FLAGS: u32 =
    sys::IFF_UP | sys::IFF_LOOPBACK | sys::IFF_MULTICAST | sys::IFF_RUNNING;

impl HostState {
    /// A new host: `lo0` (index 1) first, then the spec's Ethernet
    /// interfaces (index 2..), all up with link up.
    pub(super) fn new(spec: &HostSpec) -> Result<HostState, String> {
        let lo0_addrs = [
            IpNet::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8),
            IpNet::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 128),
        ];
        let mut interfaces = vec![Iface {
            name: "lo0".into(),
            index: 1,
            if_type: sys::IFT_LOOP,
            flags: LOOP_FLAGS,
            // if_loop.c never reports a link state: ifconfig shows no
            // "status:" line for lo0.
            link_state: sys::LINK_STATE_UNKNOWN,
            addresses: lo0_addrs
                .into_iter()
                .map(|net| {
                    net.map(|net| Addr { net, vhid: 0 })
                        .map_err(|e| e.to_string())
                })
                .collect::<Result<_, _>>()?,
            vhids: Vec::new(),
            lladdr: [0; 6],
        }];
        for (i, spec_if) in spec.interfaces.iter().enumerate() {
            let index = u16::try_from(i + 2).map_err(|_| {
                format!(
                    "too many interfaces ({}); at most 65533",
                    spec.interfaces.len()
                )
            })?;
            interfaces.push(Iface {
                name: spec_if.name.clone(),
                index,
                if_type: sys::IFT_ETHER,
                flags: ETHER_FLAGS,
                link_state: sys::LINK_STATE_UP,
                addresses: spec_if
                    .addresses
                    .iter()
                    .map(|&net| Addr { net, vhid: 0 })
                    .collect(),
                vhids: Vec::new(),
                lladdr: [0; 6],
            });
        }
        let st = HostState {
            format: FORMAT,
            flavor: spec.flavor,
            privileged: spec.privileged,
            carp_loaded: spec.carp_loaded,
            sysctl: Sysctls::default(),
            stats: Stats::default(),
            interfaces,
            boottime: 0,
            carp_family_id: default_carp_family_id(),
            genl_families: BTreeMap::new(),
            osreldate: None,
            now: 0,
            hz: super::fsm::Hz::default(),
        };
        st.validate()?;
        Ok(st)
    }

    /// What a reboot clears (`carpctl emulate reboot`, carpctl(8)): carp(4)
    /// state lives in kernel memory, so every vhid and every carp address
    /// goes (and with the last vhid the `IFF_PROMISC` carp set), the
    /// `net.inet.carp.*` sysctls return to their defaults (demotion 0) and
    /// the statistics to 0. `kern.boottime` becomes `now`, or 3 s after the
    /// previous boot time if that is later, so that back-to-back reboots
    /// within a second are still different boots to the demotion ledger
    /// (whose slack is 2 s, [`crate::ledger`]). What rc.conf and
    /// loader.conf restore stays: interfaces, their own addresses, flags and
    /// link state, whether carp.ko is loaded, and the caller's privilege.
    pub(super) fn reboot(&mut self, now: i64) {
        for ifc in &mut self.interfaces {
            if !ifc.vhids.is_empty() {
                ifc.flags &= !sys::IFF_PROMISC;
            }
            ifc.vhids.clear();
            ifc.addresses.retain(|a| a.vhid == 0);
        }
        self.sysctl = Sysctls::default();
        self.stats = Stats::default();
        // Modules loaded by hand are gone; carp.ko (loader.conf) registers
        // its family first again.
        self.genl_families.clear();
        self.carp_family_id = default_carp_family_id();
        self.boottime = now.max(self.boottime.saturating_add(3));
    }

    /// Check what serde cannot: a state file is input like any other, and
    /// the emulator must not act on an inconsistent one.
    pub(super) fn validate(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!(
                "state file format {} is not supported (this carpctl reads format {FORMAT})",
                self.format
            ));
        }
        let mut names = HashSet::new();
        let mut indexes = HashSet::new();
        for ifc in &self.interfaces {
            let name = &ifc.name;
            if name.is_empty()
                || name.len() >= IFNAMSIZ
                || name.bytes().any(|b| b == 0 || b.is_ascii_whitespace())
            {
                return Err(format!(
                    "interface name {name:?} is not valid: 1 to {} bytes, no NUL or blank",
                    IFNAMSIZ - 1
                ));
            }
            if !names.insert(name.as_str()) {
                return Err(format!("interface {name} appears twice"));
            }
            if ifc.index == 0 || !indexes.insert(ifc.index) {
                return Err(format!(
                    "interface {name}: index {} is 0 or used twice",
                    ifc.index
                ));
            }
            let mut seen = HashSet::new();
            for a in &ifc.addresses {
                if !seen.insert(a.net.addr()) {
                    return Err(format!(
                        "interface {name}: address {} appears twice",
                        a.net.addr()
                    ));
                }
                if a.vhid != 0 && ifc.find_vhid(i64::from(a.vhid)).is_none() {
                    return Err(format!(
                        "interface {name}: address {} belongs to vhid {}, which does not exist",
                        a.net, a.vhid
                    ));
                }
            }
            let mut vhids = HashSet::new();
            for sc in &ifc.vhids {
                if sc.vhid == 0 || !vhids.insert(sc.vhid) {
                    return Err(format!(
                        "interface {name}: vhid {} is 0 or appears twice",
                        sc.vhid
                    ));
                }
                if !ifc.supports_carp() {
                    return Err(format!(
                        "interface {name}: carp is not supported on this interface type"
                    ));
                }
                let known = match sc.version {
                    sys::CARP_VERSION_CARP => true,
                    sys::CARP_VERSION_VRRPV3 => self.flavor.has_vrrp(),
                    _ => false,
                };
                if !known {
                    return Err(format!(
                        "interface {name}: vhid {} has protocol version {}, which FreeBSD {} does not know",
                        sc.vhid,
                        sc.version,
                        self.flavor.label()
                    ));
                }
                if !(1..=255).contains(&sc.advbase) || !(0..=254).contains(&sc.advskew) {
                    return Err(format!(
                        "interface {name}: vhid {} has advbase {} / advskew {} out of range",
                        sc.vhid, sc.advbase, sc.advskew
                    ));
                }
            }
        }
        if !self.carp_loaded && self.interfaces.iter().any(Iface::has_carp) {
            return Err("vhids exist but carp(4) is not loaded".into());
        }
        self.validate_genl()
    }

    pub(super) fn iface_by_name(&self, name: &str) -> Option<usize> {
        self.interfaces.iter().position(|i| i.name == name)
    }

    pub(super) fn iface_by_index(&self, index: u32) -> Option<usize> {
        self.interfaces
            .iter()
            .position(|i| u32::from(i.index) == index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::emulated::IfaceSpec;

    fn spec() -> HostSpec {
        HostSpec {
            flavor: Flavor::V14,
            interfaces: vec![IfaceSpec {
                name: "em0".into(),
                addresses: vec!["192.0.2.10/24".parse().unwrap()],
            }],
            carp_loaded: true,
            privileged: true,
        }
    }

    #[test]
    fn new_host_has_lo0_first_then_ethernet() {
        let st = HostState::new(&spec()).unwrap();
        assert_eq!(st.interfaces.len(), 2);
        let lo0 = &st.interfaces[0];
        assert_eq!(
            (lo0.name.as_str(), lo0.index, lo0.if_type),
            ("lo0", 1, sys::IFT_LOOP)
        );
        assert_eq!(lo0.flags, 0x1 | 0x8 | 0x8000 | 0x40);
        let nets: Vec<String> = lo0.addresses.iter().map(|a| a.net.to_string()).collect();
        assert_eq!(nets, ["127.0.0.1/8", "::1/128"]);
        let em0 = &st.interfaces[1];
        assert_eq!(
            (em0.name.as_str(), em0.index, em0.if_type),
            ("em0", 2, sys::IFT_ETHER)
        );
        assert_eq!(em0.flags, 0x1 | 0x2 | 0x40 | 0x8000);
        assert!(em0.is_up() && em0.link_is_up() && em0.is_multicast() && em0.supports_carp());
        assert!(!lo0.supports_carp());
        assert_eq!(
            st.sysctl,
            Sysctls {
                allow: 1,
                preempt: 0,
                log: 1,
                demotion: 0,
                ifdown_demotion_factor: 240,
                senderr_demotion_factor: 240,
                dscp: 56
            }
        );
    }

    #[test]
    fn new_host_refuses_bad_interfaces() {
        for (name, want) in [
            ("", "not valid"),
            ("averyveryverylongname", "not valid"),
            ("em 0", "not valid"),
            ("lo0", "appears twice"),
        ] {
            let mut s = spec();
            s.interfaces[0].name = name.into();
            let err = HostState::new(&s).unwrap_err();
            assert!(err.contains(want), "{name:?}: {err}");
        }
        let mut s = spec();
        s.interfaces[0]
            .addresses
            .push("192.0.2.10/32".parse().unwrap());
        assert!(HostState::new(&s).unwrap_err().contains("appears twice"));
    }

    #[test]
    fn validate_catches_inconsistent_files() {
        let mut st = HostState::new(&spec()).unwrap();
        st.interfaces[1].addresses[0].vhid = 7;
        assert!(
            st.validate()
                .unwrap_err()
                .contains("vhid 7, which does not exist")
        );

        let mut st = HostState::new(&spec()).unwrap();
        st.interfaces[1].vhids.push(Softc::new(1, 3));
        assert!(st.validate().unwrap_err().contains("protocol version 3"));

        let mut st = HostState::new(&spec()).unwrap();
        st.format = 99;
        assert!(st.validate().unwrap_err().contains("format 99"));

        let mut st = HostState::new(&spec()).unwrap();
        st.carp_loaded = false;
        st.interfaces[1].vhids.push(Softc::new(1, 2));
        assert!(st.validate().unwrap_err().contains("not loaded"));
    }

    #[test]
    fn key_debug_is_redacted_and_serializes_as_hex() {
        let mut k = KeyBytes::default();
        k.0[..6].copy_from_slice(b"secret");
        let dbg = format!(
            "{k:?} {:?}",
            Softc {
                key: k.clone(),
                ..Softc::new(1, 2)
            }
        );
        assert!(
            !dbg.contains("secret") && !dbg.contains("736563726574"),
            "{dbg}"
        );
        assert!(dbg.contains("<redacted>"));
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(json, "\"7365637265740000000000000000000000000000\"");
        let back: KeyBytes = serde_json::from_str(&json).unwrap();
        assert_eq!(back, k);
        let err = serde_json::from_str::<KeyBytes>("\"abcd\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("40 hex digits"), "{err}");
    }

    #[test]
    fn stats_bytes_follow_the_struct_layout() {
        let st = Stats {
            ipackets: 1,
            badauth: 0x0102,
            preempt: 7,
            ..Stats::default()
        };
        let b = st.to_bytes();
        assert_eq!(b.len(), 128);
        // carps_ipackets @0, carps_badauth @64, carps_preempt @120 (§3.1), little-endian.
        assert_eq!(&b[0..8], &[1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[64..72], &[0x02, 0x01, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[120..128], &[7, 0, 0, 0, 0, 0, 0, 0]);
    }
}
