//! Domain types, validated on construction.
//!
//! Everything above the kernel boundary speaks in these types; nothing here
//! knows about ioctls, netlink or sysctl names. Range rules follow ifconfig's
//! wording and carp(4)'s limits (`docs/freebsd-carp.md` §4.3, §6).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

mod ifname;
mod maxskew;
mod vhid_ref;
pub use ifname::{IFNAME_MAX, IfName, IfNameError};
pub(crate) use maxskew::{
    BOOT_HOLD_WEIGHT, CARP_MAXSKEW, MAINTENANCE_WEIGHT, MAX_NODES, MAX_WEIGHT,
};
pub use vhid_ref::{VhidRef, VhidRefError};

/// The longest CARP key (`CARP_KEY_LEN`, 20 bytes: `ip_carp.h`).
pub(crate) const CARP_KEY_LEN: usize = carpctl_sys::CARP_KEY_LEN;
/// The longest VRRPv3 interval in centiseconds (`VRRP_MAX_INTERVAL`,
/// 4095: `ip_carp.h`).
pub(crate) const VRRP_MAX_INTERVAL: u16 = carpctl_sys::VRRP_MAX_INTERVAL;

/// A value that failed validation; the message reads like ifconfig's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ModelError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, ModelError> {
    Err(ModelError(msg.into()))
}

/// A virtual host id, 1..=255 (`CARP_MAXVHID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct Vhid(u8);

impl Vhid {
    pub fn new(v: i64) -> Result<Self, ModelError> {
        match u8::try_from(v) {
            Ok(n) if n >= 1 => Ok(Vhid(n)),
            _ => err(format!("vhid must be in 1-255, got {v}")),
        }
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Vhid {
    type Error = ModelError;
    fn try_from(v: i64) -> Result<Self, ModelError> {
        Vhid::new(v)
    }
}

impl From<Vhid> for u8 {
    fn from(v: Vhid) -> u8 {
        v.0
    }
}

impl fmt::Display for Vhid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Vhid {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        match s.trim().parse::<i64>() {
            Ok(v) => Vhid::new(v),
            Err(_) => err(format!("vhid must be a number in 1-255, got {s:?}")),
        }
    }
}

/// The carp(4) state of a vhid (`CARP_STATES`, index = value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CarpState {
    Init,
    Backup,
    Master,
}

impl CarpState {
    pub fn from_raw(v: u32) -> Option<Self> {
        match v {
            0 => Some(CarpState::Init),
            1 => Some(CarpState::Backup),
            2 => Some(CarpState::Master),
            _ => None,
        }
    }
    pub(crate) fn as_raw(self) -> u32 {
        match self {
            CarpState::Init => 0,
            CarpState::Backup => 1,
            CarpState::Master => 2,
        }
    }
    pub fn as_str(self) -> &'static str {
        carpctl_sys::CARP_STATES[self.as_raw() as usize]
    }
}

impl fmt::Display for CarpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CarpState {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        match s.to_ascii_uppercase().as_str() {
            "INIT" => Ok(CarpState::Init),
            "BACKUP" => Ok(CarpState::Backup),
            "MASTER" => Ok(CarpState::Master),
            _ => err(format!("state must be INIT, BACKUP or MASTER, got {s:?}")),
        }
    }
}

/// Advertisement base interval in seconds, 1..=255.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct AdvBase(u8);

impl AdvBase {
    pub(crate) const DEFAULT: AdvBase = AdvBase(carpctl_sys::CARP_DFLTINTV);
    pub fn new(v: i64) -> Result<Self, ModelError> {
        match u8::try_from(v) {
            Ok(n) if n >= 1 => Ok(AdvBase(n)),
            _ => err(format!("advbase must be in 1-255 seconds, got {v}")),
        }
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for AdvBase {
    type Error = ModelError;
    fn try_from(v: i64) -> Result<Self, ModelError> {
        AdvBase::new(v)
    }
}
impl From<AdvBase> for u8 {
    fn from(v: AdvBase) -> u8 {
        v.0
    }
}

/// Advertisement skew in 1/256 s, 0..=254 (the kernel rejects 255 and up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct AdvSkew(u8);

impl AdvSkew {
    pub fn new(v: i64) -> Result<Self, ModelError> {
        match u8::try_from(v) {
            Ok(n) if n <= 254 => Ok(AdvSkew(n)),
            _ => err(format!("advskew must be in 0-254, got {v}")),
        }
    }
    pub fn get(self) -> u8 {
        self.0
    }
    /// The skew this vhid advertises with the global demotion added:
    /// `DEMOTE_ADVSKEW` = clamp(advskew + demotion, 0, 240) (14.x and later;
    /// docs/freebsd-carp.md §8). Total: the demotion is an `int` the kernel
    /// only adds to, so it can be anything, and the addition must not
    /// overflow. The one home of this rule (status, metrics, sim).
    pub fn effective(self, demotion: i32) -> u8 {
        let skew = i32::from(self.0).saturating_add(demotion);
        // The clamp makes the value fit 0..=240; the fallback is unreachable.
        u8::try_from(skew.clamp(0, i32::from(CARP_MAXSKEW))).unwrap_or(CARP_MAXSKEW)
    }
}

impl TryFrom<i64> for AdvSkew {
    type Error = ModelError;
    fn try_from(v: i64) -> Result<Self, ModelError> {
        AdvSkew::new(v)
    }
}
impl From<AdvSkew> for u8 {
    fn from(v: AdvSkew) -> u8 {
        v.0
    }
}

/// A CARP key: at most 20 raw bytes, NUL-padded on the wire, never hashed.
///
/// Its `Debug` and `Display` never show the bytes, and the memory is zeroed
/// on drop. It is deliberately not `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    /// Wiped on drop.
    bytes: Zeroizing<[u8; CARP_KEY_LEN]>,
    len: usize,
}

impl Key {
    /// The longest password ifconfig keeps: it `strlcpy`s into 20 bytes, so
    /// a 20-byte password loses its last byte when set by hand.
    pub(crate) const IFCONFIG_MAX: usize = CARP_KEY_LEN - 1;

    /// A key from a password. Empty, longer than 20 bytes, or holding a NUL
    /// byte (the kernel would stop there) is refused.
    pub fn new(password: &[u8]) -> Result<Self, ModelError> {
        if password.is_empty() {
            return err("password is empty");
        }
        if password.len() > CARP_KEY_LEN {
            return err(format!(
                "password is {} bytes; carp(4) keys are at most {CARP_KEY_LEN} bytes",
                password.len()
            ));
        }
        if password.contains(&0) {
            return err("password contains a NUL byte");
        }
        let mut bytes = Zeroizing::new([0u8; CARP_KEY_LEN]);
        bytes[..password.len()].copy_from_slice(password);
        Ok(Key {
            bytes,
            len: password.len(),
        })
    }

    /// The key as the kernel returns it: 20 raw bytes, NUL-padded. All zero
    /// (no key, or hidden from an unprivileged reader) gives `None`.
    pub(crate) fn from_kernel(raw: &[u8]) -> Option<Self> {
        let raw = &raw[..raw.len().min(CARP_KEY_LEN)];
        let len = raw.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        if len == 0 {
            return None;
        }
        let mut bytes = Zeroizing::new([0u8; CARP_KEY_LEN]);
        bytes[..raw.len()].copy_from_slice(raw);
        Some(Key { bytes, len })
    }

    /// The 20 bytes the kernel stores: the password, zero-filled.
    pub(crate) fn to_kernel(&self) -> [u8; CARP_KEY_LEN] {
        *self.bytes
    }

    /// The password bytes without the padding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

/// Which protocol a vhid speaks (`CARP_NL_VERSION`; VRRPv3 needs 15.0+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Carp,
    Vrrpv3,
}

impl Protocol {
    /// `carp` or `vrrp`, as the cluster file writes it (and hooks,
    /// metrics labels, status and apply's messages show it).
    pub fn word(self) -> &'static str {
        match self {
            Protocol::Carp => "carp",
            Protocol::Vrrpv3 => "vrrp",
        }
    }

    pub fn from_raw(v: u8) -> Option<Self> {
        match v {
            0 | 2 => Some(Protocol::Carp),
            3 => Some(Protocol::Vrrpv3),
            _ => None,
        }
    }
    pub(crate) fn as_raw(self) -> u8 {
        match self {
            Protocol::Carp => carpctl_sys::CARP_VERSION_CARP,
            Protocol::Vrrpv3 => carpctl_sys::CARP_VERSION_VRRPV3,
        }
    }
}

/// What the kernel reports for one vhid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhidStatus {
    pub interface: String,
    pub vhid: Vhid,
    pub state: CarpState,
    /// Seconds; 0 only for a VRRPv3 vhid, where it does not apply.
    pub advbase: u8,
    /// As configured, without the demotion; see [`VhidStatus::effective_advskew`].
    pub advskew: AdvSkew,
    /// `None` when no key is set or the caller may not read it.
    pub key: Option<Key>,
    /// Unicast peer; `None` for the multicast group 224.0.0.18.
    pub peer: Option<Ipv4Addr>,
    /// Unicast peer6; `None` for the multicast group ff02::12.
    pub peer6: Option<Ipv6Addr>,
    pub protocol: Protocol,
    /// VRRPv3 priority (1..=255) and interval in centiseconds.
    pub vrrp_priority: Option<u8>,
    pub vrrp_interval: Option<u16>,
}

impl VhidStatus {
    /// The skew this vhid advertises: for CARP, [`AdvSkew::effective`]
    /// with the global demotion; a VRRPv3 vhid is not demoted
    /// (docs/freebsd-carp.md §8, "No demotion"), so its own.
    pub(crate) fn effective_advskew(&self, demotion: i32) -> u8 {
        match self.protocol {
            Protocol::Carp => self.advskew.effective(demotion),
            Protocol::Vrrpv3 => self.advskew.get(),
        }
    }
}

/// A request to change one vhid. `None` keeps the current value: the backend
/// reads the vhid first and writes every field back (read-modify-write, as
/// ifconfig does), because a SET replaces advskew and cannot keep it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VhidUpdate {
    pub advbase: Option<AdvBase>,
    pub advskew: Option<AdvSkew>,
    pub key: Option<Key>,
    /// Only BACKUP or MASTER are requests; the kernel ignores them in INIT.
    pub state: Option<CarpState>,
    pub peer: Option<PeerUpdate<Ipv4Addr>>,
    pub peer6: Option<PeerUpdate<Ipv6Addr>>,
    /// Only on creation: a vhid's protocol cannot change afterwards.
    pub protocol: Option<Protocol>,
    pub vrrp_priority: Option<u8>,
    pub vrrp_interval: Option<u16>,
}

/// Set a unicast peer, or go back to the multicast group (ifconfig `mcast`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerUpdate<A> {
    Unicast(A),
    Multicast,
}

/// One address on an interface, with the vhid it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IfAddress {
    pub net: IpNet,
    pub vhid: Option<Vhid>,
}

/// An interface as `getifaddrs(3)` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    pub name: String,
    pub up: bool,
    pub multicast: bool,
    /// `None` when the link state is unknown.
    pub(crate) link_up: Option<bool>,
    pub addresses: Vec<IfAddress>,
}

impl Interface {
    /// The addresses that belong to `vhid`.
    pub(crate) fn vhid_addresses(&self, vhid: Vhid) -> impl Iterator<Item = &IfAddress> {
        self.addresses.iter().filter(move |a| a.vhid == Some(vhid))
    }
    /// Whether `addr` lies in a subnet of one of this interface's own
    /// (non-CARP) addresses.
    pub(crate) fn has_subnet_for(&self, addr: IpAddr) -> bool {
        self.addresses
            .iter()
            .any(|a| a.vhid.is_none() && a.net.contains(&addr))
    }
}

/// A change of the global demotion. `net.inet.carp.demotion` is additive:
/// a write *adds* the written value. There is deliberately no way to "set"
/// the demotion; only deltas, which the owner must later take back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemotionDelta(i32);

impl DemotionDelta {
    pub fn new(delta: i32) -> Self {
        DemotionDelta(delta)
    }
    pub fn get(self) -> i32 {
        self.0
    }
    /// The delta that undoes this one.
    pub fn inverse(self) -> Self {
        DemotionDelta(-self.0)
    }
}

/// The `net.inet.carp.*` sysctls that are plain settings. `demotion` is not
/// here: it is changed only through [`DemotionDelta`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Knob {
    Preempt,
    Allow,
    Log,
    IfdownDemotionFactor,
    SenderrDemotionFactor,
    Dscp,
}

impl Knob {
    pub const ALL: [Knob; 6] = [
        Knob::Allow,
        Knob::Preempt,
        Knob::Log,
        Knob::IfdownDemotionFactor,
        Knob::SenderrDemotionFactor,
        Knob::Dscp,
    ];
    /// The sysctl leaf under `net.inet.carp`.
    pub(crate) fn leaf(self) -> &'static str {
        match self {
            Knob::Preempt => "preempt",
            Knob::Allow => "allow",
            Knob::Log => "log",
            Knob::IfdownDemotionFactor => "ifdown_demotion_factor",
            Knob::SenderrDemotionFactor => "senderr_demotion_factor",
            Knob::Dscp => "dscp",
        }
    }
    /// The full sysctl name.
    pub fn sysctl(self) -> String {
        format!("net.inet.carp.{}", self.leaf())
    }
}

/// All of `net.inet.carp.*` except `stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CarpSysctls {
    pub allow: i32,
    pub preempt: i32,
    pub log: i32,
    pub demotion: i32,
    pub ifdown_demotion_factor: i32,
    pub senderr_demotion_factor: i32,
    /// `None` on kernels without the knob (10.x).
    pub dscp: Option<i32>,
}

/// `net.inet.carp.stats` (`struct carpstats`), what `netstat -s -p carp` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CarpStats {
    pub(crate) ipackets: u64,
    pub(crate) ipackets6: u64,
    pub(crate) badif: u64,
    pub(crate) badttl: u64,
    pub(crate) hdrops: u64,
    pub(crate) badsum: u64,
    pub(crate) badver: u64,
    pub(crate) badlen: u64,
    pub(crate) badauth: u64,
    pub(crate) badvhid: u64,
    pub(crate) badaddrs: u64,
    pub(crate) opackets: u64,
    pub(crate) opackets6: u64,
    pub(crate) onomem: u64,
    pub(crate) ostates: u64,
    pub preempt: u64,
}

impl CarpStats {
    /// The bytes `sysctl net.inet.carp.stats` returns: `struct carpstats`,
    /// native-endian `uint64_t`s (128 bytes on amd64).
    pub fn to_bytes(&self) -> Vec<u8> {
        use zerocopy::IntoBytes;
        let s = carpctl_sys::carpstats {
            carps_ipackets: self.ipackets,
            carps_ipackets6: self.ipackets6,
            carps_badif: self.badif,
            carps_badttl: self.badttl,
            carps_hdrops: self.hdrops,
            carps_badsum: self.badsum,
            carps_badver: self.badver,
            carps_badlen: self.badlen,
            carps_badauth: self.badauth,
            carps_badvhid: self.badvhid,
            carps_badaddrs: self.badaddrs,
            carps_opackets: self.opackets,
            carps_opackets6: self.opackets6,
            carps_onomem: self.onomem,
            carps_ostates: self.ostates,
            carps_preempt: self.preempt,
        };
        s.as_bytes().to_vec()
    }
}

impl From<carpctl_sys::carpstats> for CarpStats {
    fn from(s: carpctl_sys::carpstats) -> Self {
        CarpStats {
            ipackets: s.carps_ipackets,
            ipackets6: s.carps_ipackets6,
            badif: s.carps_badif,
            badttl: s.carps_badttl,
            hdrops: s.carps_hdrops,
            badsum: s.carps_badsum,
            badver: s.carps_badver,
            badlen: s.carps_badlen,
            badauth: s.carps_badauth,
            badvhid: s.carps_badvhid,
            badaddrs: s.carps_badaddrs,
            opackets: s.carps_opackets,
            opackets6: s.carps_opackets6,
            onomem: s.carps_onomem,
            ostates: s.carps_ostates,
            preempt: s.carps_preempt,
        }
    }
}

/// Which interface the kernel offers for configuring carp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// Generic netlink family "carp" (14.0+; the only one on main after 2026-03).
    Netlink,
    /// SIOCSVH/SIOCGVH (10.0-13.x).
    Ioctl,
}

/// The running kernel: `kern.osreldate`, `kern.osrelease` and the API used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelInfo {
    pub(crate) osreldate: i32,
    pub(crate) osrelease: String,
    pub api: Api,
    /// Whether the kernel knows VRRPv3 (netlink attributes 10-12, 15.0+).
    pub vrrp: bool,
}

/// What loading carp.ko will offer on a kernel whose `kern.osreldate` is
/// `osreldate`, when it is not loaded yet (so [`KernelInfo`] cannot be
/// read): (unicast peers, VRRPv3). Peers came with the netlink family in
/// 14.0 (137818006de5), VRRPv3 in 15.0 (docs/freebsd-carp.md §6.6).
pub(crate) fn release_features(osreldate: i32) -> (bool, bool) {
    (
        osreldate >= carpctl_sys::OSRELDATE_14_0,
        osreldate >= carpctl_sys::OSRELDATE_VRRPV3,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vhid_range() {
        assert!(Vhid::new(0).is_err());
        assert_eq!(Vhid::new(1).unwrap().get(), 1);
        assert_eq!(Vhid::new(255).unwrap().get(), 255);
        assert!(Vhid::new(256).is_err());
        assert!(Vhid::new(-1).is_err());
        assert_eq!(
            Vhid::new(0).unwrap_err().to_string(),
            "vhid must be in 1-255, got 0"
        );
        assert!("x".parse::<Vhid>().is_err());
        assert_eq!(" 7".parse::<Vhid>().unwrap().get(), 7);
    }

    #[test]
    fn advbase_and_advskew_ranges() {
        assert!(AdvBase::new(0).is_err());
        assert!(AdvBase::new(256).is_err());
        assert_eq!(AdvBase::new(255).unwrap().get(), 255);
        assert!(AdvSkew::new(255).is_err());
        assert!(AdvSkew::new(-1).is_err());
        assert_eq!(AdvSkew::new(254).unwrap().get(), 254);
    }

    #[test]
    fn effective_skew_is_clamped_to_0_240() {
        let s = AdvSkew::new(100).unwrap();
        assert_eq!(s.effective(0), 100);
        assert_eq!(s.effective(240), 240);
        assert_eq!(s.effective(-500), 0);
        assert_eq!(s.effective(i32::MAX), 240);
        assert_eq!(s.effective(i32::MIN), 0);
        assert_eq!(AdvSkew::new(250).unwrap().effective(0), 240);
        assert_eq!(AdvSkew::new(254).unwrap().effective(0), 240);
        assert_eq!(AdvSkew::new(100).unwrap().effective(141), 240);
        assert_eq!(AdvSkew::new(0).unwrap().effective(-1), 0);
    }

    #[test]
    fn key_rules_and_redaction() {
        assert!(Key::new(b"").is_err());
        assert!(Key::new(&[b'a'; 21]).is_err());
        assert!(Key::new(b"a\0b").is_err());
        let k = Key::new(b"testpass").unwrap();
        assert_eq!(format!("{k:?}"), "Key(<redacted>)");
        let raw = k.to_kernel();
        assert_eq!(&raw[..8], b"testpass");
        assert!(raw[8..].iter().all(|&b| b == 0));
        assert_eq!(Key::from_kernel(&raw).unwrap().as_bytes(), b"testpass");
        assert!(Key::from_kernel(&[0; 20]).is_none());
        assert_eq!(Key::new(&[b'x'; 20]).unwrap().len(), 20);
    }

    #[test]
    fn state_names() {
        assert_eq!(CarpState::from_raw(2), Some(CarpState::Master));
        assert_eq!(CarpState::from_raw(3), None);
        assert_eq!(CarpState::Backup.to_string(), "BACKUP");
        assert_eq!("master".parse::<CarpState>().unwrap(), CarpState::Master);
    }

    #[test]
    fn stats_round_trip_through_struct_carpstats() {
        use zerocopy::FromBytes;
        let st = CarpStats {
            ipackets: 1,
            badauth: 0x0102,
            preempt: 7,
            ..CarpStats::default()
        };
        let bytes = st.to_bytes();
        assert_eq!(bytes.len(), 128);
        // carps_badauth at 64 (docs/freebsd-carp.md §3.1), little-endian on amd64.
        assert_eq!(&bytes[64..66], &0x0102u16.to_ne_bytes());
        let back = CarpStats::from(carpctl_sys::carpstats::read_from_bytes(&bytes).unwrap());
        assert_eq!(back, st);
    }

    #[test]
    fn demotion_is_a_delta() {
        let d = DemotionDelta::new(50);
        assert_eq!(d.inverse().get(), -50);
    }
}
