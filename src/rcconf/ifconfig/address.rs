//! Address words: `A.B.C.D[/n]`, `X::Y[/n]`, `netmask` values, the ranges
//! network.subr expands, and the classful default prefix.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::AddressFamily;

/// Parse a `netmask` value: dotted quad or 0x hex, contiguous.
pub(crate) fn parse_netmask(v: &str) -> Option<u8> {
    let bits: u32 = if let Some(hex) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok()?
    } else {
        u32::from(v.parse::<Ipv4Addr>().ok()?)
    };
    let len = bits.leading_ones();
    // Contiguous: everything after the leading ones is zero.
    if bits.checked_shl(len).unwrap_or(0) != 0 {
        return None;
    }
    u8::try_from(len).ok()
}

pub(super) enum AddrError {
    /// Looks like an address but is wrong (bad prefix, bad range).
    Bad(String),
    /// Looks like a host name.
    Hostname,
    NotAnAddress,
}

/// The most addresses a range expands to, like network.subr's
/// `netif_ipexpand_max` default.
const RANGE_MAX: u32 = 2048;

/// Parse an address word: `A.B.C.D[/n]`, `X::Y[/n]`, or a network.subr
/// range (`192.168.1.10-12/32`, `2001:db8::1-3`). Each address comes with
/// whether a prefix was given.
pub(super) fn parse_address(
    w: &str,
    af: Option<AddressFamily>,
) -> Result<Vec<(IpNet, bool)>, AddrError> {
    let (addr, prefix) = match w.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (w, None),
    };
    let addr = addr.split('%').next().unwrap_or(addr);
    let v6 = addr.contains(':');
    let max = if v6 { 128 } else { 32 };
    let prefix = match prefix {
        None => None,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max => Some(n),
            _ => {
                if !looks_like_address(addr) {
                    return Err(AddrError::NotAnAddress);
                }
                return Err(AddrError::Bad(format!(
                    "`{w}`: the prefix length must be a number from 0 to {max}"
                )));
            }
        },
    };
    let addrs = expand(addr, v6).ok_or_else(|| {
        if looks_like_address(addr) {
            AddrError::Bad(format!("`{w}` is not a valid IP address"))
        } else if addr.contains('.')
            && addr.bytes().any(|b| b.is_ascii_alphabetic())
            && addr
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            AddrError::Hostname
        } else {
            AddrError::NotAnAddress
        }
    })?;
    let mut out = Vec::with_capacity(addrs.len());
    for a in addrs {
        if matches!(
            (af, a),
            (Some(AddressFamily::Inet), IpAddr::V6(_))
                | (Some(AddressFamily::Inet6), IpAddr::V4(_))
        ) {
            return Err(AddrError::Bad(format!(
                "`{w}` is not an {} address",
                if matches!(af, Some(AddressFamily::Inet6)) {
                    "IPv6"
                } else {
                    "IPv4"
                }
            )));
        }
        let len = prefix.unwrap_or(if a.is_ipv6() { 128 } else { 32 });
        let net =
            IpNet::new(a, len).map_err(|_| AddrError::Bad(format!("`{w}`: bad prefix length")))?;
        out.push((net, prefix.is_some()));
    }
    Ok(out)
}

/// Whether a word is made of address characters (digits, dots, colons,
/// hex, dashes) and so was meant as an address.
fn looks_like_address(a: &str) -> bool {
    !a.is_empty()
        && a.bytes().any(|b| b.is_ascii_digit())
        && a.bytes()
            .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'-'))
        && (a.contains('.') || a.contains(':'))
}

/// An address, or a network.subr range of addresses.
fn expand(addr: &str, v6: bool) -> Option<Vec<IpAddr>> {
    if !addr.contains('-') {
        return addr.parse::<IpAddr>().ok().map(|a| vec![a]);
    }
    if v6 {
        // network.subr: the range is in the last group, `left:lo-hi[:right]`.
        let (left, right) = addr.split_once('-')?;
        let (head, lo) = left.rsplit_once(':')?;
        let (hi, tail) = match right.split_once(':') {
            Some((h, t)) => (h, Some(t)),
            None => (right, None),
        };
        let lo = u32::from_str_radix(lo, 16).ok()?;
        let hi = u32::from_str_radix(hi, 16).ok()?;
        if hi < lo || hi > 0xffff || hi - lo >= RANGE_MAX {
            return None;
        }
        (lo..=hi)
            .map(|n| {
                let s = match tail {
                    Some(t) => format!("{head}:{n:x}:{t}"),
                    None => format!("{head}:{n:x}"),
                };
                s.parse::<IpAddr>().ok()
            })
            .collect()
    } else {
        let parts: Vec<&str> = addr.split('.').collect();
        if parts.len() != 4 || parts.iter().filter(|p| p.contains('-')).count() != 1 {
            return None;
        }
        let k = parts.iter().position(|p| p.contains('-'))?;
        let (lo, hi) = parts.get(k)?.split_once('-')?;
        let lo: u32 = lo.parse().ok()?;
        let hi: u32 = hi.parse().ok()?;
        if hi < lo || hi > 255 || hi - lo >= RANGE_MAX {
            return None;
        }
        (lo..=hi)
            .map(|n| {
                let mut p: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
                if let Some(slot) = p.get_mut(k) {
                    *slot = n.to_string();
                }
                p.join(".").parse::<IpAddr>().ok()
            })
            .collect()
    }
}

/// The classful prefix ifconfig falls back to for an IPv4 address given
/// without a mask (in.c: class A /8, B /16, C /24), 64 for IPv6 (as
/// network.subr assumes for inet6 aliases).
pub(crate) fn default_prefix(a: IpAddr) -> u8 {
    match a {
        IpAddr::V4(v4) => match v4.octets()[0] {
            0..=127 => 8,
            128..=191 => 16,
            _ => 24,
        },
        IpAddr::V6(_) => 64,
    }
}
