//! [`VhidRef`]: one vhid on one interface, written `vhid@ifname` (`1@em0`,
//! `5@vlan0.100`) as the kernel writes it in devd records: the devctl
//! subsystem of `carp_set_state()` (`sys/netinet/ip_carp.c`, `"%u@%s"`),
//! carpctl's logs and messages, and the hook state file names.

use std::fmt;
use std::str::FromStr;

use super::{IfName, Vhid};

/// `vhid@ifname`. The name is an [`IfName`] when parsed; for display, any
/// name the kernel reported will do (`VhidRef<&str>`): one spelling either
/// way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VhidRef<N = IfName> {
    pub vhid: Vhid,
    pub ifname: N,
}

impl<N> VhidRef<N> {
    pub fn new(vhid: Vhid, ifname: N) -> VhidRef<N> {
        VhidRef { vhid, ifname }
    }
}

impl<N: AsRef<str>> fmt::Display for VhidRef<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.vhid, self.ifname.as_ref())
    }
}

/// Why a string is not `vhid@ifname`; the reason only (the caller quotes
/// the value, bounded and escaped, where it belongs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VhidRefError(pub String);

impl VhidRef<IfName> {
    /// Parse raw bytes (a devd record's subsystem).
    ///
    /// The vhid is 1-255 in decimal, without leading zeros; the name an
    /// [`IfName`].
    pub(crate) fn parse_bytes(b: &[u8]) -> Result<VhidRef, VhidRefError> {
        let bad = |reason: String| VhidRefError(reason);
        let Some(at) = b.iter().position(|&c| c == b'@') else {
            return Err(bad("expected <vhid>@<interface>".into()));
        };
        let (num, ifname) = (&b[..at], &b[at + 1..]);
        if num.is_empty() || !num.iter().all(u8::is_ascii_digit) {
            return Err(bad("the vhid must be a decimal number".into()));
        }
        let quote = crate::text::quote_bytes;
        // The kernel writes the vhid with "%u" (carp_set_state(),
        // sys/netinet/ip_carp.c): never with leading zeros. One that has
        // them did not come from the kernel; refusing it keeps one spelling
        // of each vhid in logs and in `carpctl hook`'s state file names.
        if num.len() > 1 && num[0] == b'0' {
            return Err(bad(format!(
                "the vhid {} has leading zeros; the kernel writes it as a plain number, 1-255",
                quote(num)
            )));
        }
        // More than 3 digits is out of range, and must not overflow the
        // parse (nor be shown as anything but what was received).
        if num.len() > 3 {
            return Err(bad(format!(
                "vhid must be in 1-255, got {}",
                quote(num).trim_matches('"')
            )));
        }
        let value = num.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
        let vhid = Vhid::new(value).map_err(|e| bad(e.0))?;
        let ifname = IfName::from_bytes(ifname).map_err(|e| bad(e.to_string()))?;
        Ok(VhidRef { vhid, ifname })
    }
}

impl FromStr for VhidRef<IfName> {
    type Err = VhidRefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VhidRef::parse_bytes(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in ["1@em0", "255@vlan0.100", "42@lagg0_vlan210"] {
            let r: VhidRef = s.parse().unwrap();
            assert_eq!(r.to_string(), s);
        }
        let r: VhidRef = "5@vlan0.100".parse().unwrap();
        assert_eq!((r.vhid.get(), r.ifname.as_str()), (5, "vlan0.100"));
        assert_eq!(
            VhidRef::new(Vhid::new(7).unwrap(), "em+0").to_string(),
            "7@em+0"
        );
    }

    #[test]
    fn refuses_by_name() {
        let why = |s: &str| s.parse::<VhidRef>().unwrap_err().0;
        assert!(why("em0").contains("expected <vhid>@<interface>"));
        assert!(why("@em0").contains("decimal"));
        assert!(why("01@em0").contains("leading zeros"));
        assert!(why("1000@em0").contains("1-255"));
        assert!(why("0@em0").contains("1-255"));
        assert!(why("1@").contains("empty"));
        assert!(why("1@em 0").contains("' '"));
        assert!(why("1@em0@x").contains("'@'"));
    }
}
