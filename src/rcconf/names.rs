//! rc.conf variable names: the interface part of `ifconfig_IF*` as
//! network.subr maps it (`get_if_var`: `vlan0.100` -> `vlan0_100`), what
//! an `ifconfig_*` variable configures, and FreeBSD 9 carp interfaces.

/// Whether an rc.conf interface name is a FreeBSD 9 carp interface.
pub(crate) fn is_carp_iface(name: &str) -> bool {
    name.strip_prefix("carp")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// rc.conf's interface name for a real one (`get_if_var`: `.-/+` -> `_`).
pub(crate) fn var_name(iface: &str) -> String {
    iface
        .chars()
        .map(|c| {
            if matches!(c, '.' | '-' | '/' | '+') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// What an `ifconfig_*` variable is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IfconfigVar {
    Main(String),
    Ipv6(String),
    Alias(String, u32),
    Aliases(String),
    Other,
}

pub(crate) fn classify(name: &str) -> IfconfigVar {
    let Some(rest) = name.strip_prefix("ifconfig_") else {
        return IfconfigVar::Other;
    };
    if rest == "DEFAULT" || rest.is_empty() {
        return IfconfigVar::Other;
    }
    if let Some(i) = rest.strip_suffix("_aliases") {
        return IfconfigVar::Aliases(i.to_string());
    }
    if let Some(i) = rest.strip_suffix("_ipv6") {
        return IfconfigVar::Ipv6(i.to_string());
    }
    if rest.ends_with("_descr") || rest.ends_with("_name") {
        return IfconfigVar::Other;
    }
    if let Some(k) = rest.rfind("_alias") {
        let (i, n) = (&rest[..k], &rest[k + "_alias".len()..]);
        if !i.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            return match n.parse() {
                Ok(n) => IfconfigVar::Alias(i.to_string(), n),
                Err(_) => IfconfigVar::Other,
            };
        }
    }
    IfconfigVar::Main(rest.to_string())
}

/// The interface part of an rc.conf variable: network.subr's `get_if_var`
/// and `ifalias_af_common` map `.`, `-`, `/` and `+` to `_` (`vlan0.100` ->
/// `ifconfig_vlan0_100_alias0`). `None` when other characters remain that
/// a shell variable name cannot hold.
pub(crate) fn rc_ifname(ifname: &str) -> Option<String> {
    let var: String = ifname
        .chars()
        .map(|c| if ".-/+".contains(c) { '_' } else { c })
        .collect();
    (!var.is_empty() && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(var)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_names_are_classified() {
        assert_eq!(classify("ifconfig_em0"), IfconfigVar::Main("em0".into()));
        assert_eq!(
            classify("ifconfig_em0_100"),
            IfconfigVar::Main("em0_100".into())
        );
        assert_eq!(
            classify("ifconfig_em0_alias12"),
            IfconfigVar::Alias("em0".into(), 12)
        );
        assert_eq!(
            classify("ifconfig_em0_aliases"),
            IfconfigVar::Aliases("em0".into())
        );
        assert_eq!(
            classify("ifconfig_em0_ipv6"),
            IfconfigVar::Ipv6("em0".into())
        );
        assert_eq!(classify("ifconfig_em0_descr"), IfconfigVar::Other);
        assert_eq!(classify("ifconfig_DEFAULT"), IfconfigVar::Other);
        assert_eq!(
            classify("ifconfig_em0_alias"),
            IfconfigVar::Main("em0_alias".into())
        );
        assert_eq!(classify("hostname"), IfconfigVar::Other);
        assert_eq!(var_name("em0.100"), "em0_100");
        assert!(is_carp_iface("carp0") && !is_carp_iface("carp") && !is_carp_iface("carpx"));
    }

    #[test]
    fn rc_interface_names() {
        assert_eq!(rc_ifname("em0").as_deref(), Some("em0"));
        assert_eq!(rc_ifname("vlan0.100").as_deref(), Some("vlan0_100"));
        assert_eq!(rc_ifname("lagg-0+x").as_deref(), Some("lagg_0_x"));
        assert_eq!(rc_ifname("em:0"), None);
        assert_eq!(rc_ifname("ém0"), None);
        assert_eq!(rc_ifname(""), None);
    }
}
