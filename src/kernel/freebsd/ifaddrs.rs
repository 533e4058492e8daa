//! What `getifaddrs(3)` returns, decoded: interfaces, their addresses, and
//! the vhid of each address (`if_data.ifi_vhid` behind `ifa_data`, §5.3).
//! Encoders for the emulated kernel's side too.
//!
//! FreeBSD's getifaddrs(3) reads the routing sysctl `NET_RT_IFLISTL`: one
//! `AF_LINK` entry per interface (a `struct sockaddr_dl`; `ifa_data` is the
//! interface's `struct if_data`), then one entry per address, whose
//! `ifa_data` is an `if_data` carrying the address's carp vhid in
//! `ifi_vhid` (docs/freebsd-carp.md §3.1, §5.3). Every entry has the interface's flags.

use std::collections::HashMap;
use std::mem::{offset_of, size_of};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use carpctl_sys::{
    AF_INET, AF_INET6, AF_LINK, IF_DATA_PREFIX_LEN, IFF_MULTICAST, IFF_UP, IFI_LINK_STATE_OFFSET,
    IFI_VHID_OFFSET, IFNAMSIZ, LINK_STATE_DOWN, LINK_STATE_UP, sockaddr_dl, sockaddr_in,
    sockaddr_in6,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use zerocopy::{FromBytes, FromZeros, IntoBytes};

use super::ioctl::{v4_prefix_len, v6_prefix_len};
use super::{DecodeError, RawIfaddr};
use crate::model::{IfAddress, Interface, Vhid};

const WHAT: &str = "getifaddrs";

/// Offset of `sdl_data`: the fixed header a link sockaddr cannot be shorter than.
const SDL_DATA_OFFSET: usize = offset_of!(sockaddr_dl, sdl_data);
/// What the kernel allocates for an interface's link sockaddr
/// (`sys/net/if.c` `if_attach_internal`): `offsetof(sdl_data) + IFNAMSIZ +
/// if_addrlen`, at least `sizeof(struct sockaddr_dl)`, rounded up to
/// `sizeof(long)`. With no link-level address: max(24, 54) rounded up to 8
/// (amd64, aarch64) or to 4 (i386): 56 either way (docs/freebsd-carp.md §3).
const SDL_ALLOC_LEN: usize = (size_of::<sockaddr_dl>() + 7) & !7;

const _: () = {
    assert!(SDL_DATA_OFFSET == 8);
    assert!(SDL_ALLOC_LEN == 56);
    // The same with i386's 4-byte long.
    assert!((size_of::<sockaddr_dl>() + 3) & !3 == SDL_ALLOC_LEN);
    assert!(SDL_DATA_OFFSET + IFNAMSIZ <= size_of::<sockaddr_dl>());
};

/// Where an entry's problem is, for error messages.
struct At<'a> {
    index: usize,
    name: &'a str,
}

impl At<'_> {
    fn err(&self, detail: impl std::fmt::Display) -> DecodeError {
        DecodeError::new(
            WHAT,
            format!("entry {} ({}): {detail}", self.index, self.name),
        )
    }
}

/// The `sa_len` bytes of a sockaddr, and its family. Fails when the buffer
/// is too short for the two header bytes or for `sa_len`.
fn sockaddr<'a>(at: &At<'_>, field: &str, raw: &'a [u8]) -> Result<(u8, &'a [u8]), DecodeError> {
    let [sa_len, family, ..] = *raw else {
        return Err(at.err(format!(
            "{field}: {} byte(s), too short for sa_len and sa_family",
            raw.len()
        )));
    };
    let body = raw.get(..usize::from(sa_len)).ok_or_else(|| {
        at.err(format!(
            "{field}: truncated sockaddr: sa_len {sa_len} but only {} bytes",
            raw.len()
        ))
    })?;
    Ok((family, body))
}

/// `raw` must be at least `need` bytes (`sa_len` already checked against the buffer).
fn need_len(
    at: &At<'_>,
    field: &str,
    family: &str,
    body: &[u8],
    need: usize,
) -> Result<(), DecodeError> {
    if body.len() < need {
        return Err(at.err(format!(
            "{field}: sa_len {} is too small for {family} (need {need})",
            body.len()
        )));
    }
    Ok(())
}

/// The `if_data` prefix behind `ifa_data`, if any.
fn if_data<'a>(at: &At<'_>, data: Option<&'a [u8]>) -> Result<Option<&'a [u8]>, DecodeError> {
    match data {
        Some(d) if d.len() < IF_DATA_PREFIX_LEN => Err(at.err(format!(
            "ifa_data: {} byte(s), need at least {IF_DATA_PREFIX_LEN} (struct if_data up to ifi_vhid)",
            d.len()
        ))),
        other => Ok(other),
    }
}

/// The mask bytes of a netmask sockaddr: `len` bytes from `offset`, where
/// bytes beyond `sa_len` count as zero. Older kernels trimmed netmasks to
/// their last non-zero byte and left the family 0 (`in_socktrim` in
/// `sys/netinet/in.c`); newer ones hand out a full-size copy with the
/// address's family (`rtsock_fix_netmask` in `sys/net/rtsock.c`). Either
/// way the family of the *address* decides how to read the mask.
fn mask_bytes<const N: usize>(
    at: &At<'_>,
    raw: &[u8],
    offset: usize,
) -> Result<[u8; N], DecodeError> {
    let mut mask = [0u8; N];
    let body = match *raw {
        [] => raw,
        [sa_len, ..] => raw.get(..usize::from(sa_len)).ok_or_else(|| {
            at.err(format!(
                "ifa_netmask: truncated sockaddr: sa_len {sa_len} but only {} bytes",
                raw.len()
            ))
        })?,
    };
    for (dst, src) in mask.iter_mut().zip(body.iter().skip(offset)) {
        *dst = *src;
    }
    Ok(mask)
}

/// Group the entries by interface, in first-seen order. The `AF_LINK` entry
/// gives the flags and the link state (`ifi_link_state`); each `AF_INET` /
/// `AF_INET6` entry gives one address, its prefix (from the netmask) and its
/// vhid (`ifi_vhid`, 0 = none). Entries of other families are skipped.
/// Truncated or inconsistent sockaddrs are errors.
pub fn decode(entries: &[RawIfaddr]) -> Result<Vec<Interface>, DecodeError> {
    let mut out: Vec<Interface> = Vec::new();
    // Interface name -> (index in `out`, whether its AF_LINK entry was seen).
    let mut seen: HashMap<&str, (usize, bool)> = HashMap::new();

    for (index, e) in entries.iter().enumerate() {
        let at = At {
            index,
            name: &e.name,
        };
        let up = e.flags & IFF_UP != 0;
        let multicast = e.flags & IFF_MULTICAST != 0;

        let Some(raw) = e.addr.as_deref() else {
            // No address at all: the interface exists, nothing else is known.
            slot(&mut out, &mut seen, &e.name, up, multicast);
            continue;
        };
        let (family, body) = sockaddr(&at, "ifa_addr", raw)?;
        match family {
            AF_LINK => {
                need_len(
                    &at,
                    "ifa_addr",
                    "AF_LINK (struct sockaddr_dl)",
                    body,
                    SDL_DATA_OFFSET,
                )?;
                let data = if_data(&at, e.data.as_deref())?;
                // net/if.h: LINK_STATE_UNKNOWN 0, DOWN 1, UP 2.
                let link_up = match data.and_then(|d| d.get(IFI_LINK_STATE_OFFSET)).copied() {
                    Some(LINK_STATE_UP) => Some(true),
                    Some(LINK_STATE_DOWN) => Some(false),
                    _ => None,
                };
                let i = slot(&mut out, &mut seen, &e.name, up, multicast);
                if let Some(iface) = out.get_mut(i) {
                    // The link entry is authoritative for the interface.
                    iface.up = up;
                    iface.multicast = multicast;
                    iface.link_up = link_up;
                }
                if let Some(s) = seen.get_mut(e.name.as_str()) {
                    s.1 = true;
                }
            }
            AF_INET | AF_INET6 => {
                let net = if family == AF_INET {
                    need_len(
                        &at,
                        "ifa_addr",
                        "AF_INET (struct sockaddr_in)",
                        body,
                        size_of::<sockaddr_in>(),
                    )?;
                    let (sa, _) = sockaddr_in::read_from_prefix(body)
                        .map_err(|_| at.err("ifa_addr: short sockaddr_in"))?;
                    let addr = Ipv4Addr::from(sa.sin_addr);
                    let prefix = match e.netmask.as_deref() {
                        None => 32,
                        Some(m) => {
                            let mask = mask_bytes::<4>(&at, m, offset_of!(sockaddr_in, sin_addr))?;
                            v4_prefix_len(WHAT, Ipv4Addr::from(mask))
                                .map_err(|err| at.err(err.detail))?
                        }
                    };
                    IpNet::V4(Ipv4Net::new(addr, prefix).map_err(|err| at.err(err))?)
                } else {
                    need_len(
                        &at,
                        "ifa_addr",
                        "AF_INET6 (struct sockaddr_in6)",
                        body,
                        size_of::<sockaddr_in6>(),
                    )?;
                    let (sa, _) = sockaddr_in6::read_from_prefix(body)
                        .map_err(|_| at.err("ifa_addr: short sockaddr_in6"))?;
                    let addr = Ipv6Addr::from(sa.sin6_addr);
                    let prefix = match e.netmask.as_deref() {
                        None => 128,
                        Some(m) => {
                            let mask =
                                mask_bytes::<16>(&at, m, offset_of!(sockaddr_in6, sin6_addr))?;
                            v6_prefix_len(WHAT, Ipv6Addr::from(mask))
                                .map_err(|err| at.err(err.detail))?
                        }
                    };
                    IpNet::V6(Ipv6Net::new(addr, prefix).map_err(|err| at.err(err))?)
                };
                let data = if_data(&at, e.data.as_deref())?;
                // ifi_vhid 0 = not a carp address; any other u8 is a valid vhid.
                let vhid = match data.and_then(|d| d.get(IFI_VHID_OFFSET)).copied() {
                    None | Some(0) => None,
                    Some(v) => Some(Vhid::new(i64::from(v)).map_err(|err| at.err(err))?),
                };
                let i = slot(&mut out, &mut seen, &e.name, up, multicast);
                if let Some(iface) = out.get_mut(i) {
                    iface.addresses.push(IfAddress { net, vhid });
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The index of `name` in `out`, adding it (with the entry's flags and an
/// unknown link state) on first sight.
fn slot<'a>(
    out: &mut Vec<Interface>,
    seen: &mut HashMap<&'a str, (usize, bool)>,
    name: &'a str,
    up: bool,
    multicast: bool,
) -> usize {
    if let Some(&(i, _)) = seen.get(name) {
        return i;
    }
    out.push(Interface {
        name: name.to_string(),
        up,
        multicast,
        link_up: None,
        addresses: Vec::new(),
    });
    let i = out.len() - 1;
    seen.insert(name, (i, false));
    i
}

/// The `struct sockaddr_in` / `sockaddr_in6` bytes of an address.
pub fn sockaddr_bytes(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => sockaddr_in {
            sin_len: size_of::<sockaddr_in>() as u8,
            sin_family: AF_INET,
            sin_addr: a.octets(),
            ..sockaddr_in::default()
        }
        .as_bytes()
        .to_vec(),
        IpAddr::V6(a) => sockaddr_in6 {
            sin6_len: size_of::<sockaddr_in6>() as u8,
            sin6_family: AF_INET6,
            sin6_addr: a.octets(),
            ..sockaddr_in6::default()
        }
        .as_bytes()
        .to_vec(),
    }
}

/// The netmask sockaddr of a prefix: full size, with the address's family,
/// as `rtsock_fix_netmask` (`sys/net/rtsock.c`) hands it out.
pub fn netmask_bytes(net: IpNet) -> Vec<u8> {
    sockaddr_bytes(net.netmask())
}

/// A `struct if_data` prefix with `ifi_type`, `ifi_link_state` and `ifi_vhid`
/// (`net/if.h`, docs/freebsd-carp.md §3.1). `ifi_physical`, `ifi_addrlen` and
/// `ifi_hdrlen` are not modelled and stay 0.
pub fn if_data_bytes(if_type: u8, link_state: u8, vhid: u8) -> Vec<u8> {
    let mut d = vec![0u8; IF_DATA_PREFIX_LEN];
    if let Some(b) = d.get_mut(0) {
        *b = if_type;
    }
    if let Some(b) = d.get_mut(IFI_LINK_STATE_OFFSET) {
        *b = link_state;
    }
    if let Some(b) = d.get_mut(IFI_VHID_OFFSET) {
        *b = vhid;
    }
    d
}

/// The `AF_LINK` sockaddr (`sockaddr_dl`) of an interface: index, type, name.
///
/// Sized as the kernel sizes it (56 bytes, see `SDL_ALLOC_LEN`), with no
/// link-level address (`sdl_alen` 0) and no selector (`sdl_slen` 0). The
/// name is not NUL-terminated (`sdl_nlen` gives its length); a name longer
/// than `sdl_data` (46 bytes; real names have at most 15) is cut there.
pub fn link_sockaddr_bytes(index: u16, if_type: u8, name: &str) -> Vec<u8> {
    let mut sdl = sockaddr_dl::new_zeroed();
    let name = name.as_bytes();
    let nlen = name.len().min(sdl.sdl_data.len());
    for (dst, src) in sdl.sdl_data.iter_mut().zip(name) {
        *dst = *src;
    }
    sdl.sdl_len = SDL_ALLOC_LEN as u8;
    sdl.sdl_family = AF_LINK;
    sdl.sdl_index = index;
    sdl.sdl_type = if_type;
    sdl.sdl_nlen = nlen as u8;
    let mut out = sdl.as_bytes().to_vec();
    out.resize(SDL_ALLOC_LEN, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use carpctl_sys::{IFF_BROADCAST, IFF_RUNNING, IFT_ETHER, IFT_LOOP, LINK_STATE_UNKNOWN};
    use proptest::prelude::*;

    const ETHER_FLAGS: u32 = IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST;

    fn link(name: &str, index: u16, flags: u32, link_state: u8) -> RawIfaddr {
        RawIfaddr {
            name: name.to_string(),
            flags,
            addr: Some(link_sockaddr_bytes(index, IFT_ETHER, name)),
            netmask: None,
            data: Some(if_data_bytes(IFT_ETHER, link_state, 0)),
        }
    }

    fn addr(name: &str, flags: u32, net: &str, vhid: u8) -> RawIfaddr {
        let net: IpNet = net.parse().unwrap();
        RawIfaddr {
            name: name.to_string(),
            flags,
            addr: Some(sockaddr_bytes(net.addr())),
            netmask: Some(netmask_bytes(net)),
            data: Some(if_data_bytes(IFT_ETHER, LINK_STATE_UP, vhid)),
        }
    }

    fn ifaddr(net: &str, vhid: Option<u8>) -> IfAddress {
        IfAddress {
            net: net.parse().unwrap(),
            vhid: vhid.map(|v| Vhid::new(v.into()).unwrap()),
        }
    }

    #[test]
    fn sockaddr_bytes_layout() {
        // sockaddr_in: 16, AF_INET 2, port 0, 192.0.2.1, 8 zero bytes.
        assert_eq!(
            sockaddr_bytes("192.0.2.1".parse().unwrap()),
            [
                0x10, 0x02, 0, 0, 0xc0, 0x00, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0, 0
            ]
        );
        // sockaddr_in6: 28, AF_INET6 28, port 0, flowinfo 0, 2001:db8::51, scope 0.
        #[rustfmt::skip]
        let v6: [u8; 28] = [
            0x1c, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x51,
            0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(sockaddr_bytes("2001:db8::51".parse().unwrap()), v6);
        // /24 netmask: full sockaddr_in with 255.255.255.0.
        assert_eq!(
            netmask_bytes("192.0.2.1/24".parse().unwrap()),
            [
                0x10, 0x02, 0, 0, 0xff, 0xff, 0xff, 0x00, 0, 0, 0, 0, 0, 0, 0, 0
            ]
        );
        let m6 = netmask_bytes("2001:db8::/32".parse().unwrap());
        assert_eq!(m6[..2], [0x1c, 0x1c]);
        assert_eq!(m6[8..12], [0xff; 4]);
        assert_eq!(m6[12..], [0; 16]);
    }

    #[test]
    fn if_data_and_link_bytes() {
        // ifi_type @0, ifi_physical @1, ifi_addrlen @2, ifi_hdrlen @3,
        // ifi_link_state @4, ifi_vhid @5.
        assert_eq!(
            if_data_bytes(IFT_ETHER, LINK_STATE_UP, 7),
            [0x06, 0, 0, 0, 0x02, 0x07]
        );
        // sockaddr_dl: sdl_len 56 = 0x38, AF_LINK 18 = 0x12, sdl_index 3 (u16
        // host order, little-endian here), sdl_type IFT_ETHER 6, sdl_nlen 3,
        // sdl_alen 0, sdl_slen 0, sdl_data "em0", zero to 56 bytes.
        let mut expected = vec![
            0x38, 0x12, 0x03, 0x00, 0x06, 0x03, 0x00, 0x00, 0x65, 0x6d, 0x30,
        ];
        expected.resize(56, 0);
        assert_eq!(link_sockaddr_bytes(3, IFT_ETHER, "em0"), expected);
        // A name longer than sdl_data is cut at 46 bytes; nothing overflows.
        let long = "x".repeat(60);
        let raw = link_sockaddr_bytes(1, IFT_ETHER, &long);
        assert_eq!(raw.len(), 56);
        assert_eq!(raw[5], 46);
    }

    #[test]
    fn decode_groups_in_first_seen_order() {
        let entries = vec![
            link("em0", 1, ETHER_FLAGS, LINK_STATE_UP),
            addr("em0", ETHER_FLAGS, "192.168.1.3/24", 0),
            link("lo0", 2, IFF_UP | IFF_MULTICAST, LINK_STATE_UNKNOWN),
            addr("em0", ETHER_FLAGS, "192.168.1.50/32", 1),
            addr("lo0", IFF_UP | IFF_MULTICAST, "127.0.0.1/8", 0),
            addr("em0", ETHER_FLAGS, "2001:db8::51/128", 2),
            addr("em0", ETHER_FLAGS, "2001:db8::3/64", 0),
        ];
        let got = decode(&entries).unwrap();
        assert_eq!(
            got,
            vec![
                Interface {
                    name: "em0".into(),
                    up: true,
                    multicast: true,
                    link_up: Some(true),
                    addresses: vec![
                        ifaddr("192.168.1.3/24", None),
                        ifaddr("192.168.1.50/32", Some(1)),
                        ifaddr("2001:db8::51/128", Some(2)),
                        ifaddr("2001:db8::3/64", None),
                    ],
                },
                Interface {
                    name: "lo0".into(),
                    up: true,
                    multicast: true,
                    link_up: None,
                    addresses: vec![ifaddr("127.0.0.1/8", None)],
                },
            ]
        );
    }

    #[test]
    fn decode_link_state_and_flags() {
        let got = decode(&[
            link("em0", 1, IFF_BROADCAST, LINK_STATE_DOWN),
            link("em1", 2, IFF_UP, LINK_STATE_UP),
            link("em2", 3, IFF_MULTICAST, LINK_STATE_UNKNOWN),
            // An undefined link state value is "unknown" too.
            link("em3", 4, 0, 9),
            // No ifa_data at all.
            RawIfaddr {
                data: None,
                ..link("em4", 5, IFF_UP, 0)
            },
        ])
        .unwrap();
        let summary: Vec<_> = got
            .iter()
            .map(|i| (i.name.as_str(), i.up, i.multicast, i.link_up))
            .collect();
        assert_eq!(
            summary,
            [
                ("em0", false, false, Some(false)),
                ("em1", true, false, Some(true)),
                ("em2", false, true, None),
                ("em3", false, false, None),
                ("em4", true, false, None),
            ]
        );
    }

    #[test]
    fn decode_interface_without_link_entry() {
        // Seen only through an address entry: flags from that entry.
        let got = decode(&[addr("carp0", IFF_UP, "10.0.0.1/8", 5)]).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name, "carp0");
        assert!(got[0].up);
        assert!(!got[0].multicast);
        assert_eq!(got[0].link_up, None);
        assert_eq!(got[0].addresses, [ifaddr("10.0.0.1/8", Some(5))]);
        // A later AF_LINK entry still sets flags and link state.
        let got = decode(&[
            addr("em0", 0, "10.0.0.1/8", 0),
            link("em0", 1, ETHER_FLAGS, LINK_STATE_UP),
        ])
        .unwrap();
        assert_eq!(
            (got[0].up, got[0].multicast, got[0].link_up),
            (true, true, Some(true))
        );
        assert_eq!(got[0].addresses.len(), 1);
    }

    #[test]
    fn decode_missing_netmask_data_and_addr() {
        let v4 = RawIfaddr {
            netmask: None,
            data: None,
            ..addr("em0", 0, "192.0.2.1/24", 3)
        };
        let v6 = RawIfaddr {
            netmask: None,
            ..addr("em0", 0, "2001:db8::1/64", 0)
        };
        let bare = RawIfaddr {
            name: "em9".into(),
            flags: IFF_UP,
            addr: None,
            netmask: None,
            data: None,
        };
        let got = decode(&[v4, v6, bare]).unwrap();
        assert_eq!(
            got[0].addresses,
            [
                ifaddr("192.0.2.1/32", None),
                ifaddr("2001:db8::1/128", None)
            ]
        );
        assert_eq!(got[1].name, "em9");
        assert!(got[1].addresses.is_empty());
    }

    #[test]
    fn decode_trimmed_netmasks() {
        // Pre-rtsock_fix_netmask kernels: 255.255.255.0 trimmed to sa_len 7,
        // family 0 (in_socktrim).
        let mut e = addr("em0", 0, "192.0.2.1/24", 0);
        e.netmask = Some(vec![7, 0, 0, 0, 0xff, 0xff, 0xff]);
        assert_eq!(
            decode(&[e.clone()]).unwrap()[0].addresses,
            [ifaddr("192.0.2.1/24", None)]
        );
        // A /0 mask trimmed to nothing.
        e.netmask = Some(vec![0]);
        assert_eq!(
            decode(&[e.clone()]).unwrap()[0].addresses,
            [ifaddr("192.0.2.1/0", None)]
        );
        e.netmask = Some(vec![]);
        assert_eq!(
            decode(&[e]).unwrap()[0].addresses,
            [ifaddr("192.0.2.1/0", None)]
        );
        // IPv6 /64 trimmed to sa_len 16.
        let mut e = addr("em0", 0, "2001:db8::1/64", 0);
        let mut m = e.netmask.clone().unwrap();
        m.truncate(16);
        m[0] = 16;
        e.netmask = Some(m);
        assert_eq!(
            decode(&[e]).unwrap()[0].addresses,
            [ifaddr("2001:db8::1/64", None)]
        );
    }

    #[test]
    fn decode_skips_unknown_families() {
        // AF_UNIX 1, AF_NETLINK 38: skipped, and do not create an interface.
        let mut other = addr("em0", 0, "192.0.2.1/24", 0);
        other.addr = Some(vec![16, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut nl = addr("nl0", 0, "192.0.2.1/24", 0);
        nl.addr = Some(vec![12, 38, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let got = decode(&[other, link("em1", 1, 0, 0), nl]).unwrap();
        assert_eq!(
            got.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
            ["em1"]
        );
        assert!(decode(&[]).unwrap().is_empty());
    }

    #[test]
    fn decode_truncated_sockaddrs() {
        let good = [
            link("em0", 1, 0, LINK_STATE_UP),
            addr("em0", 0, "192.0.2.1/24", 1),
        ];
        let with = |i: usize, f: &dyn Fn(&mut RawIfaddr)| {
            let mut entries = good.to_vec();
            f(&mut entries[i]);
            decode(&entries).unwrap_err().to_string()
        };
        // sa_len larger than the bytes.
        let e = with(1, &|e| e.addr.as_mut().unwrap().truncate(8));
        assert_eq!(
            e,
            "getifaddrs: entry 1 (em0): ifa_addr: truncated sockaddr: sa_len 16 but only 8 bytes"
        );
        // sa_len too small for the family.
        let e = with(1, &|e| {
            let a = e.addr.as_mut().unwrap();
            a[0] = 8;
        });
        assert_eq!(
            e,
            "getifaddrs: entry 1 (em0): ifa_addr: sa_len 8 is too small for AF_INET (struct sockaddr_in) (need 16)"
        );
        // Fewer than two bytes.
        assert!(
            with(1, &|e| e.addr = Some(vec![16]))
                .contains("1 byte(s), too short for sa_len and sa_family")
        );
        assert!(with(0, &|e| e.addr = Some(vec![])).contains("entry 0 (em0): ifa_addr: 0 byte(s)"));
        // AF_LINK shorter than the sockaddr_dl header.
        let e = with(0, &|e| e.addr = Some(vec![6, AF_LINK, 1, 0, 6, 0]));
        assert!(
            e.contains("entry 0 (em0): ifa_addr: sa_len 6 is too small for AF_LINK"),
            "{e}"
        );
        assert!(
            with(0, &|e| e.addr.as_mut().unwrap().truncate(40))
                .contains("sa_len 56 but only 40 bytes")
        );
        // IPv6 too small for a sockaddr_in6, or truncated.
        let v6 = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut e = addr("em1", 0, "2001:db8::1/64", 0);
            f(e.addr.as_mut().unwrap());
            decode(&[e]).unwrap_err().to_string()
        };
        assert!(
            v6(&|a| a[0] = 24)
                .contains("entry 0 (em1): ifa_addr: sa_len 24 is too small for AF_INET6")
        );
        assert!(v6(&|a| a.truncate(27)).contains("sa_len 28 but only 27 bytes"));
        // Netmask truncated.
        let e = with(1, &|e| e.netmask.as_mut().unwrap().truncate(6));
        assert_eq!(
            e,
            "getifaddrs: entry 1 (em0): ifa_netmask: truncated sockaddr: sa_len 16 but only 6 bytes"
        );
        // Non-contiguous netmask.
        let e = with(1, &|e| e.netmask.as_mut().unwrap()[5] = 0);
        assert_eq!(
            e,
            "getifaddrs: entry 1 (em0): netmask 255.0.255.0 is not contiguous"
        );
        let mut e6 = addr("em1", 0, "2001:db8::1/64", 0);
        e6.netmask.as_mut().unwrap()[20] = 1;
        assert!(
            decode(&[e6])
                .unwrap_err()
                .to_string()
                .contains("entry 0 (em1): prefix mask")
        );
        // if_data shorter than ifi_vhid.
        let e = with(1, &|e| e.data = Some(vec![6, 0, 0, 0, 2]));
        assert!(
            e.contains("entry 1 (em0): ifa_data: 5 byte(s), need at least 6"),
            "{e}"
        );
        let e = with(0, &|e| e.data = Some(vec![]));
        assert!(e.contains("entry 0 (em0): ifa_data: 0 byte(s)"), "{e}");
    }

    #[test]
    fn round_trip_emulated_view() {
        // What the emulated kernel builds with the encoders decodes back.
        let nets: [(&str, u8); 4] = [
            ("192.0.2.10/24", 0),
            ("192.0.2.1/32", 1),
            ("2001:db8::10/64", 0),
            ("2001:db8::1/128", 255),
        ];
        let mut entries = vec![link("vlan0.100", 7, ETHER_FLAGS, LINK_STATE_DOWN)];
        entries.extend(
            nets.iter()
                .map(|(n, v)| addr("vlan0.100", ETHER_FLAGS, n, *v)),
        );
        let mut lo = link("lo0", 1, IFF_UP | IFF_MULTICAST, LINK_STATE_UNKNOWN);
        lo.addr = Some(link_sockaddr_bytes(1, IFT_LOOP, "lo0"));
        entries.push(lo);
        let got = decode(&entries).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].link_up, Some(false));
        let expected: Vec<_> = nets
            .iter()
            .map(|(n, v)| ifaddr(n, (*v != 0).then_some(*v)))
            .collect();
        assert_eq!(got[0].addresses, expected);
        assert_eq!(got[1].name, "lo0");
    }

    fn arb_sockaddr() -> impl Strategy<Value = Option<Vec<u8>>> {
        let family = prop_oneof![Just(AF_INET), Just(AF_INET6), Just(AF_LINK), any::<u8>()];
        prop_oneof![
            Just(None),
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(Some),
            (
                any::<u8>(),
                family,
                proptest::collection::vec(any::<u8>(), 0..64)
            )
                .prop_map(|(len, fam, rest)| {
                    let mut v = vec![len % 64, fam];
                    v.extend(rest);
                    Some(v)
                }),
        ]
    }

    fn arb_entry() -> impl Strategy<Value = RawIfaddr> {
        (
            prop_oneof![
                Just("em0".to_string()),
                Just("lo0".to_string()),
                "[a-z]{0,4}"
            ],
            any::<u32>(),
            arb_sockaddr(),
            arb_sockaddr(),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..12)),
        )
            .prop_map(|(name, flags, addr, netmask, data)| RawIfaddr {
                name,
                flags,
                addr,
                netmask,
                data,
            })
    }

    proptest! {
        #[test]
        fn decode_never_panics(entries in proptest::collection::vec(arb_entry(), 0..8)) {
            if let Ok(ifaces) = decode(&entries) {
                // Names are unique and every address came from some entry.
                let names: std::collections::HashSet<_> = ifaces.iter().map(|i| &i.name).collect();
                prop_assert_eq!(names.len(), ifaces.len());
                let addrs: usize = ifaces.iter().map(|i| i.addresses.len()).sum();
                prop_assert!(addrs <= entries.len());
            }
        }

        #[test]
        fn encode_decode_round_trip(v4 in any::<u32>(), p4 in 0u8..=32, v6 in any::<u128>(), p6 in 0u8..=128, vhid in any::<u8>()) {
            let n4 = IpNet::V4(Ipv4Net::new(Ipv4Addr::from(v4), p4).unwrap());
            let n6 = IpNet::V6(Ipv6Net::new(Ipv6Addr::from(v6), p6).unwrap());
            let entry = |net: IpNet| RawIfaddr {
                name: "em0".into(),
                flags: IFF_UP,
                addr: Some(sockaddr_bytes(net.addr())),
                netmask: Some(netmask_bytes(net)),
                data: Some(if_data_bytes(IFT_ETHER, LINK_STATE_UP, vhid)),
            };
            let got = decode(&[entry(n4), entry(n6)]).unwrap();
            let v = (vhid != 0).then(|| Vhid::new(vhid.into()).unwrap());
            prop_assert_eq!(&got[0].addresses, &vec![IfAddress { net: n4, vhid: v }, IfAddress { net: n6, vhid: v }]);
        }
    }
}
