//! [`IfName`]: a real interface name, validated once, by one rule, for
//! every place that takes one (the cluster file, scenario files, devd
//! records, `--parent`, `emulate --iface`, the ioctl encoder).
//!
//! # The rule
//!
//! 1 to 15 bytes (`IFNAMSIZ` 16 less the NUL, `sys/net/if.h`) of ASCII
//! letters, digits, `.`, `_` and `-`.
//!
//! FreeBSD itself is more liberal: `SIOCSIFNAME` (`ifhwioctl()` in
//! `sys/net/if.c`) refuses only an empty name, a name that does not fit
//! `IFNAMSIZ` with its NUL, and a name already in use; `ifc_name2unit()`
//! (`sys/net/if_clone.c`) constrains only the unit digits of a cloned
//! interface (no leading zeros), not the characters of a renamed one. So
//! `ifconfig em0 name 'a b'` is possible. carpctl accepts less, because
//! every vhid's interface name travels where the kernel's liberality
//! breaks things: the kernel announces transitions as
//! `subsystem=<vhid>@<ifname>` in a blank-separated devd record
//! (`carp_set_state()`, `sys/netinet/ip_carp.c`), carpctl's devd snippet
//! matches `[0-9a-zA-Z._-]+` (`rc.d/carpctl-devd.conf`) and hands the name
//! to a shell, and the hook state files are named `<vhid>@<ifname>`. A name
//! outside this set would configure fine and then never be watched.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The longest interface name: `IFNAMSIZ` (16, `sys/net/if.h`) counts the
/// terminating NUL.
pub const IFNAME_MAX: usize = carpctl_sys::IFNAMSIZ - 1;

/// A real interface name: see the module documentation for the rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IfName(String);

/// Why a string is not an [`IfName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IfNameError {
    #[error("the interface name is empty")]
    Empty,
    #[error("the interface name is {0} bytes long; at most {IFNAME_MAX} fit IFNAMSIZ")]
    TooLong(usize),
    #[error("the interface name contains a NUL byte")]
    Nul,
    #[error("the interface name has {0:?}; only letters, digits, '.', '_' and '-' are expected")]
    BadChar(char),
}

impl IfName {
    /// `name`, checked against the rule.
    pub fn new(name: &str) -> Result<IfName, IfNameError> {
        Self::check(name.as_bytes())?;
        Ok(IfName(name.to_owned()))
    }

    /// Check raw bytes (a devd record, a file) against the rule.
    pub(crate) fn check(name: &[u8]) -> Result<(), IfNameError> {
        Self::check_kernel(name)?;
        if let Some(at) = name
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-')))
        {
            // The whole character (escaped by `{:?}` in the message when it
            // is a control or bidi character), or U+FFFD for a broken one.
            let rest = name.get(at..).unwrap_or_default();
            let c = String::from_utf8_lossy(rest)
                .chars()
                .next()
                .unwrap_or('\u{fffd}');
            return Err(IfNameError::BadChar(c));
        }
        Ok(())
    }

    /// Check `name` against the kernel's own rule only (`SIOCSIFNAME` in
    /// `ifhwioctl()`, `sys/net/if.c`): not empty, no NUL, fits `IFNAMSIZ`
    /// with its NUL. For names the kernel reported (`getifaddrs(3)`), which
    /// carpctl must be able to ask about even when it would not configure
    /// them; the ioctl encoder uses it.
    pub(crate) fn check_kernel(name: &[u8]) -> Result<(), IfNameError> {
        if name.is_empty() {
            return Err(IfNameError::Empty);
        }
        if name.contains(&0) {
            return Err(IfNameError::Nul);
        }
        if name.len() > IFNAME_MAX {
            return Err(IfNameError::TooLong(name.len()));
        }
        Ok(())
    }

    /// From raw bytes, e.g. the interface part of a devd subsystem.
    pub(crate) fn from_bytes(name: &[u8]) -> Result<IfName, IfNameError> {
        Self::check(name)?;
        // check() allowed only ASCII.
        Ok(IfName(String::from_utf8_lossy(name).into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for IfName {
    type Err = IfNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IfName::new(s)
    }
}

impl TryFrom<String> for IfName {
    type Error = IfNameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::check(s.as_bytes())?;
        Ok(IfName(s))
    }
}

impl From<IfName> for String {
    fn from(n: IfName) -> String {
        n.0
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl std::ops::Deref for IfName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for IfName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for IfName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for IfName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for IfName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<IfName> for String {
    fn eq(&self, other: &IfName) -> bool {
        *self == other.0
    }
}

impl PartialEq<IfName> for str {
    fn eq(&self, other: &IfName) -> bool {
        *self == other.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_freebsd_names() {
        for ok in [
            "em0",
            "vlan0.100",
            "lagg0_vlan210",
            "igb-lan",
            "a234567890abcde",
        ] {
            assert_eq!(IfName::new(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn refuses_what_devd_and_the_shell_cannot_carry() {
        assert_eq!(IfName::new(""), Err(IfNameError::Empty));
        assert_eq!(
            IfName::new("a234567890abcdef"),
            Err(IfNameError::TooLong(16))
        );
        for (bad, c) in [
            ("em 0", ' '),
            ("em/0", '/'),
            ("em+0", '+'),
            ("em:0", ':'),
            ("em$0", '$'),
            ("em\"0", '"'),
        ] {
            assert_eq!(IfName::new(bad), Err(IfNameError::BadChar(c)), "{bad:?}");
        }
        assert_eq!(IfName::new("em\u{0}"), Err(IfNameError::Nul));
        assert_eq!(IfName::new("ém0"), Err(IfNameError::BadChar('é')));
        let bidi = IfName::new("em\u{202e}0").unwrap_err().to_string();
        assert!(bidi.contains("\\u{202e}"), "{bidi}");
    }

    #[test]
    fn the_kernel_rule_is_only_length_and_nul() {
        assert_eq!(IfName::check_kernel(b"em+0"), Ok(()));
        assert_eq!(IfName::check_kernel(b"a b"), Ok(()));
        assert_eq!(IfName::check_kernel(b""), Err(IfNameError::Empty));
        assert_eq!(IfName::check_kernel(b"em\0"), Err(IfNameError::Nul));
        assert_eq!(
            IfName::check_kernel(&[b'a'; 16]),
            Err(IfNameError::TooLong(16))
        );
    }

    #[test]
    fn serde_validates() {
        let n: IfName = serde_json::from_str("\"em0\"").unwrap();
        assert_eq!(n, "em0");
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"em0\"");
        assert!(serde_json::from_str::<IfName>("\"em 0\"").is_err());
        assert_eq!(
            "vlan0.100".parse::<IfName>().unwrap().to_string(),
            "vlan0.100"
        );
    }
}
