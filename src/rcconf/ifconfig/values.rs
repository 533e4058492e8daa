//! The values of the carp keywords, checked the way ifconfig's `carp.c`
//! and the kernel check them (ranges, `atoi` digits, address forms).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Command, Field, Problem, ProblemKind, Secret};
/// A number as ifconfig's `atoi` should see it: digits only.
fn number(v: &str) -> Option<u64> {
    if v.is_empty() || v.len() > 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

pub(super) fn set_carp(c: &mut Command, w: &str, v: &str, tok: usize) {
    let bad = |c: &mut Command, msg: String| {
        c.problems.push(Problem {
            kind: ProblemKind::BadValue,
            tok: tok + 1,
            message: msg,
        });
    };
    let ranged = |lo: u64, hi: u64| number(v).filter(|n| (lo..=hi).contains(n));
    match w {
        "vhid" => match ranged(1, 255).and_then(|n| u8::try_from(n).ok()) {
            Some(n) => c.vhid = Some(Field { value: n, tok }),
            None => bad(
                c,
                format!(
                    "vhid `{v}` is not a number from 1 to 255 (ifconfig: \"vhid must be greater than 0 and less than 255\")"
                ),
            ),
        },
        "advskew" => match ranged(0, 254).and_then(|n| u8::try_from(n).ok()) {
            Some(n) => c.advskew = Some(Field { value: n, tok }),
            None => bad(
                c,
                format!(
                    "advskew `{v}` is not a number from 0 to 254 (carp(4) refuses 255 and more with EINVAL)"
                ),
            ),
        },
        "advbase" => match ranged(1, 255).and_then(|n| u8::try_from(n).ok()) {
            Some(n) => c.advbase = Some(Field { value: n, tok }),
            None => bad(
                c,
                format!("advbase `{v}` is not a number of seconds from 1 to 255"),
            ),
        },
        "pass" => {
            c.pass = Some(Field {
                value: Secret(v.to_string()),
                tok,
            });
        }
        "state" => {
            let lower = v.to_ascii_lowercase();
            if matches!(lower.as_str(), "master" | "backup" | "init") {
                c.state = Some(Field { value: lower, tok });
            } else {
                bad(
                    c,
                    format!("state `{v}` is not master or backup (ifconfig: \"unknown state\")"),
                );
            }
        }
        "peer" => match v.parse::<Ipv4Addr>() {
            Ok(a) => c.peer = Some(Field { value: a, tok }),
            Err(_) => bad(c, format!("peer `{v}` is not an IPv4 address")),
        },
        "peer6" => match v.split('%').next().unwrap_or(v).parse::<Ipv6Addr>() {
            Ok(a) => c.peer6 = Some(Field { value: a, tok }),
            Err(_) => bad(c, format!("peer6 `{v}` is not an IPv6 address")),
        },
        "carpver" => match number(v) {
            Some(n @ (2 | 3)) => {
                c.carpver = Some(Field {
                    value: n as u8,
                    tok,
                })
            }
            _ => bad(
                c,
                format!(
                    "carpver `{v}` must be 2 (CARP) or 3 (VRRPv3) (ifconfig: \"version must be 2 or 3\")"
                ),
            ),
        },
        "vrrpprio" => match ranged(0, 255).and_then(|n| u8::try_from(n).ok()) {
            Some(n) => c.vrrpprio = Some(Field { value: n, tok }),
            None => bad(c, format!("vrrpprio `{v}` is not a number from 0 to 255")),
        },
        "vrrpinterval" => match ranged(1, 4095).and_then(|n| u16::try_from(n).ok()) {
            Some(n) => c.vrrpinterval = Some(Field { value: n, tok }),
            None => bad(
                c,
                format!("vrrpinterval `{v}` is not a number of centiseconds from 1 to 4095"),
            ),
        },
        _ => {}
    }
}
