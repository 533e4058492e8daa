//! Validation rules of single values of the cluster file: names, interface
//! names, VIP addresses and passwords. Pure functions, each returning why
//! a value is refused (or worth a warning), for [`super::parse`] to place
//! at the value's line and column; the scenario files and the demotion
//! ledger use the name rules too, so that a name is valid everywhere or
//! nowhere.

use std::net::Ipv6Addr;

use ipnet::{IpNet, Ipv4Net};

use crate::model::IfName;
use crate::text;

/// The longest node name: a node name is a host name, at most 255 bytes
/// (RFC 1035 §2.3.4; FreeBSD's `MAXHOSTNAMELEN` is 256 with the NUL,
/// `sys/sys/param.h`).
pub const NODE_NAME_MAX: usize = 255;

/// The longest VIP or check name, and logical interface name. These names
/// become Prometheus label values, environment variables of hooks
/// (`CARPCTL_VIP`, `CARPCTL_CHECK`), ledger keys and log lines, and are
/// shown in aligned tables: 64 bytes is generous for a name and keeps all
/// of those small.
pub const NAME_MAX: usize = 64;

/// Why `name` cannot name a node, VIP or check (at most `max` bytes), or
/// `None` when it can. Names appear in messages, JSON, file names and on
/// the command line: no white space, no control or bidi characters
/// ([`text::is_unsafe`]), no double quote.
pub(crate) fn bad_name(name: &str, max: usize) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name.len() > max {
        return Some(format!(
            "is {} bytes long; at most {max} are allowed",
            name.len()
        ));
    }
    if let Some(c) = text::unsafe_char(name) {
        return Some(format!(
            "contains the control or bidirectional-text character {c}, which could \
             disguise the name in messages and logs"
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c == '"') {
        return Some("must not contain spaces or quotes".into());
    }
    None
}

/// Why `name` cannot be a real interface name, or `None`: the one rule of
/// [`IfName`].
pub(crate) fn bad_ifname(name: &str) -> Option<String> {
    IfName::check(name.as_bytes()).err().map(|e| e.to_string())
}

/// Whether a real interface name is a loopback interface: FreeBSD names
/// its loopbacks `lo0`, `lo1`, ... (if_loop.c, `loname`). carp(4) accepts
/// only Ethernet, VLAN and bridge interfaces (`carp_is_supported_if()` in
/// `sys/netinet/ip_carp.c`, docs/freebsd-carp.md §4.2): a VIP on a loopback
/// fails with EOPNOTSUPP.
pub(crate) fn is_loopback_ifname(name: &str) -> bool {
    name.strip_prefix("lo")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Why `net` can never be a VIP address, or `None`. The HMAC loops skip
/// 0.0.0.0 and 255.255.255.255 (docs/freebsd-carp.md §10); the rest are not unicast
/// addresses one host can take over from another.
pub(crate) fn not_a_vip(net: &IpNet) -> Option<String> {
    let why = match net {
        IpNet::V4(n4) => not_a_v4_vip(n4).map(str::to_string),
        IpNet::V6(n6) => not_a_v6_vip(n6.addr()),
    };
    why.or_else(|| {
        (net.prefix_len() == 0).then(|| {
            format!(
                "has prefix length 0, which covers every address; write /{} or the prefix \
                 length of the subnet it is in",
                net.max_prefix_len()
            )
        })
    })
}

fn not_a_v4_vip(net: &Ipv4Net) -> Option<&'static str> {
    let v4 = net.addr();
    let [first, ..] = v4.octets();
    if v4.is_unspecified() {
        Some("is the unspecified address")
    } else if first == 0 {
        Some("is in 0.0.0.0/8, \"this network\" (RFC 1122 §3.2.1.3), never a host's address")
    } else if v4.is_broadcast() {
        Some("is the limited broadcast address")
    } else if v4.is_multicast() {
        Some("is a multicast address")
    } else if first >= 240 {
        Some("is in 240.0.0.0/4, reserved (\"class E\", RFC 1112 §4), never a host's address")
    } else if v4.is_loopback() {
        Some("is a loopback address")
    } else if (1..=30).contains(&net.prefix_len()) && v4 == net.network() {
        // /31 (RFC 3021) and /32 have no network or broadcast address.
        Some(
            "is the network address of its subnet (its host part is all zeros); use a host \
             address of the subnet",
        )
    } else if (1..=30).contains(&net.prefix_len()) && v4 == net.broadcast() {
        Some(
            "is the broadcast address of its subnet (its host part is all ones); use a host \
             address of the subnet",
        )
    } else {
        None
    }
}

fn not_a_v6_vip(v6: Ipv6Addr) -> Option<String> {
    if v6.is_unspecified() {
        Some("is the unspecified address".into())
    } else if v6.is_multicast() {
        Some("is a multicast address".into())
    } else if v6.is_loopback() {
        Some("is the loopback address".into())
    } else if let Some(v4) = v6.to_ipv4_mapped() {
        Some(format!(
            "is an IPv4-mapped IPv6 address (::ffff:0:0/96, RFC 4291 §2.5.5.2), which no \
             interface carries; write the IPv4 address {v4}/32"
        ))
    } else if v6.is_unicast_link_local() {
        Some(
            "is link-local (fe80::/10): a link-local address needs the scope zone of its \
             interface, which carpctl does not configure; use a global or unique-local \
             address"
                .into(),
        )
    } else {
        None
    }
}

/// What makes a password's bytes unlikely to be the password the operator
/// means: each is used byte for byte as the carp(4) key, and a node
/// configured by hand (`ifconfig ... pass WORD`, typed or from rc.conf)
/// cannot have any of them, so the two nodes never agree. Empty when none.
///
/// The one home of this rule: the inline `password` and the content of a
/// `password_file` (after its one trailing newline is removed) are both
/// checked with it. The result never contains the bytes.
pub fn password_issues(bytes: &[u8]) -> Vec<&'static str> {
    let mut out = Vec::new();
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        out.push("starts with a byte order mark (EF BB BF), as some editors write one");
    }
    if bytes.contains(&b'\n') {
        out.push("has more than one line");
    }
    if bytes.contains(&b'\r') {
        out.push("contains a carriage return (CR), as files edited on Windows have");
    }
    if bytes
        .iter()
        .any(|&b| (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t')) || b == 0x7f)
    {
        out.push("contains control characters");
    }
    let space = |b: &u8| matches!(b, b' ' | b'\t');
    if bytes.first().is_some_and(space) || bytes.last().is_some_and(space) {
        out.push("begins or ends with white space");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::testutil::net;

    #[test]
    fn names() {
        assert_eq!(bad_name("mail1", NAME_MAX), None);
        assert_eq!(bad_name("ü-ß.1", NAME_MAX), None);
        assert_eq!(bad_name(&"v".repeat(64), NAME_MAX), None);
        let long = bad_name(&"v".repeat(65), NAME_MAX).unwrap();
        assert_eq!(long, "is 65 bytes long; at most 64 are allowed");
        assert!(bad_name(&"n".repeat(255), NODE_NAME_MAX).is_none());
        assert!(bad_name(&"n".repeat(256), NODE_NAME_MAX).is_some());
        for bad in ["", "a b", "a\"b", "a\tb", "a\u{a0}b"] {
            assert!(bad_name(bad, NAME_MAX).is_some(), "{bad:?}");
        }
        let bidi = bad_name("mail\u{202e}1", NAME_MAX).unwrap();
        assert!(bidi.contains("\\u{202e}"), "{bidi}");
        assert!(!bidi.contains('\u{202e}'));
        let nul = bad_name("a\0b", NAME_MAX).unwrap();
        assert!(nul.contains("\\0"), "{nul}");
    }

    #[test]
    fn interface_names() {
        assert_eq!(bad_ifname("vlan0.100"), None);
        assert!(bad_ifname("").is_some());
        assert!(bad_ifname("a234567890123456").is_some());
        assert!(bad_ifname("em/0").is_some());
        assert!(bad_ifname("em\u{202e}0").unwrap().contains("\\u{202e}"));
        // Verdicts changed by IfName's one rule: these passed the cluster
        // file's old rule (only blanks, '/' and control characters were
        // refused) although devd records and carpctl's devd snippet cannot
        // carry them, so their vhids would never have been watched.
        for now_refused in ["em+0", "em:0", "ém0", "em$0", "em\"0", "em`0"] {
            assert!(bad_ifname(now_refused).is_some(), "{now_refused}");
        }
        for lo in ["lo0", "lo1", "lo12"] {
            assert!(is_loopback_ifname(lo), "{lo}");
        }
        for not in ["lo", "lagg0", "lo0a", "vlo0", "em0"] {
            assert!(!is_loopback_ifname(not), "{not}");
        }
    }

    #[test]
    fn addresses_that_are_no_vip() {
        let refused = [
            ("0.0.0.0/32", "unspecified"),
            ("0.1.2.3/32", "0.0.0.0/8"),
            ("255.255.255.255/32", "limited broadcast"),
            ("224.0.0.18/32", "multicast"),
            ("240.0.0.1/32", "class E"),
            ("250.1.2.3/24", "class E"),
            ("127.0.0.2/32", "loopback"),
            ("192.0.2.0/24", "network address"),
            ("192.0.2.255/24", "broadcast address"),
            ("10.0.0.4/30", "network address"),
            ("10.0.0.7/30", "broadcast address"),
            ("192.0.2.1/0", "prefix length 0"),
            ("::/128", "unspecified"),
            ("ff02::12/128", "multicast"),
            ("::1/128", "loopback"),
            (
                "::ffff:192.0.2.1/128",
                "write the IPv4 address 192.0.2.1/32",
            ),
            ("fe80::1/64", "link-local"),
            ("febf::1/128", "link-local"),
            ("2001:db8::1/0", "prefix length 0"),
        ];
        for (a, why) in refused {
            let msg = not_a_vip(&net(a)).unwrap_or_else(|| panic!("{a} accepted"));
            assert!(msg.contains(why), "{a}: {msg}");
        }
        let accepted = [
            "192.0.2.1/32",
            "192.0.2.1/24",
            "192.0.2.254/24",
            // RFC 3021: both addresses of a /31 are hosts.
            "10.0.0.4/31",
            "10.0.0.5/31",
            "10.0.0.0/32",
            "10.0.0.255/32",
            "223.255.255.254/32",
            "169.254.1.1/16",
            "2001:db8::1/64",
            "2001:db8::/64",
            "fd00::51/128",
            "fec0::1/128",
        ];
        for a in accepted {
            assert_eq!(not_a_vip(&net(a)), None, "{a}");
        }
    }

    #[test]
    fn passwords_that_no_hand_configured_peer_matches() {
        assert!(password_issues(b"mail1-secret-0001").is_empty());
        assert!(password_issues(b"with inner space").is_empty());
        let one = |b: &[u8]| {
            let v = password_issues(b);
            assert_eq!(v.len(), 1, "{v:?}");
            v[0]
        };
        assert!(one(b"secret ").contains("white space"));
        assert!(one(b"secret\t").contains("white space"));
        assert!(one(b" secret").contains("white space"));
        assert!(one(b"secret\rx").contains("carriage return"));
        assert!(one(b"\xEF\xBB\xBFsecret").contains("byte order mark"));
        assert!(one(b"secret\nsecond").contains("more than one line"));
        assert!(one(b"sec\x1bret").contains("control characters"));
        // A file ending in "\r\r\n" leaves a CR after its newline is
        // removed, and a line ending "\n\n" a second (empty) line.
        assert_eq!(password_issues(b"secret\r").len(), 1);
        assert_eq!(password_issues(b"secret\n").len(), 1);
    }
}
