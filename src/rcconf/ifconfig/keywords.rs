//! The words ifconfig(8) knows: carp keywords with and without a value,
//! the other keywords rc.d passes, and the hint shown for a missing value.

use super::AddressFamily;

/// carp keywords that take a value.
pub(super) const CARP_ARG: &[&str] = &[
    "vhid",
    "advskew",
    "advbase",
    "pass",
    "state",
    "peer",
    "peer6",
    "carpver",
    "vrrpprio",
    "vrrpinterval",
];
/// carp keywords without a value.
pub(super) const CARP_FLAG: &[&str] = &["mcast", "mcast6"];
/// Other ifconfig keywords that take one value.
pub(super) const GENERAL_ARG: &[&str] = &[
    "netmask",
    "prefixlen",
    "broadcast",
    "mtu",
    "metric",
    "description",
    "descr",
    "name",
    "vlan",
    "vlandev",
    "vlanproto",
    "vlanpcp",
    "fib",
    "tunnelfib",
    "media",
    "mediaopt",
    "-mediaopt",
    "mode",
    "inst",
    "instance",
    "laggport",
    "-laggport",
    "laggproto",
    "lagghash",
    "vnet",
    "-vnet",
    "group",
    "-group",
    "addm",
    "deletem",
    "lladdr",
    "pltime",
    "vltime",
    "maxaddr",
    "ssid",
    "channel",
    "wlandev",
    "wlanmode",
    "country",
    "txpower",
    "bssid",
    "authmode",
    "vxlanid",
    "vxlanlocal",
    "vxlanremote",
    "vxlandev",
];
/// Other ifconfig keywords without a value, and the pseudo-arguments
/// network.subr strips (`DHCP`, `SYNCDHCP`, `NOAUTO`, `WPA`, `HOSTAP`).
pub(super) const GENERAL_FLAG: &[&str] = &[
    "alias",
    "delete",
    "remove",
    "add",
    "up",
    "down",
    "arp",
    "promisc",
    "debug",
    "monitor",
    "staticarp",
    "rxcsum",
    "txcsum",
    "rxcsum6",
    "txcsum6",
    "tso",
    "tso4",
    "tso6",
    "lro",
    "polling",
    "vlanhwtag",
    "vlanmtu",
    "vlanhwfilter",
    "vlanhwtso",
    "vlanhwcsum",
    "no_dad",
    "accept_rtadv",
    "auto_linklocal",
    "ifdisabled",
    "anycast",
    "deprecated",
    "autoconf",
    "prefer_source",
    "tentative",
    "nud",
    "eui64",
    "create",
    "destroy",
    "defaultif",
    "wol",
    "wol_ucast",
    "wol_mcast",
    "wol_magic",
    "dhcp",
    "syncdhcp",
    "nosyncdhcp",
    "noauto",
    "wpa",
    "hostap",
];

/// Whether `w` is any keyword ifconfig knows (or an address family).
pub(crate) fn is_keyword(w: &str) -> bool {
    let lower = w.to_ascii_lowercase();
    CARP_ARG.contains(&w)
        || CARP_FLAG.contains(&w)
        || GENERAL_ARG.contains(&w)
        || GENERAL_FLAG.contains(&lower.as_str())
        || AddressFamily::from_word(w).is_some()
}

pub(super) fn value_hint(w: &str) -> &'static str {
    match w {
        "vhid" => "from 1 to 255",
        "advskew" => "from 0 to 254",
        "advbase" => "seconds, from 1 to 255",
        "pass" => "the password",
        "state" => "master or backup",
        "peer" => "the other node's IPv4 address",
        "peer6" => "the other node's IPv6 address",
        "carpver" => "2 for CARP or 3 for VRRPv3",
        "vrrpprio" => "from 1 to 254",
        "vrrpinterval" => "centiseconds, from 1 to 4095",
        _ => "a value",
    }
}
