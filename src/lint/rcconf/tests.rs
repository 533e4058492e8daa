//! Unit tests of the rc.conf analysis.

use super::*;

fn codes(rc: &RcConf) -> Vec<(Code, usize)> {
    rc.issues.iter().map(|i| (i.code, i.pos.line)).collect()
}

#[test]
fn handbook_10_form_is_clean() {
    let rc = analyze(
        "hostname=\"hosta.example.org\"\n\
         ifconfig_em0=\"inet 192.168.1.3 netmask 255.255.255.0\"\n\
         ifconfig_em0_alias0=\"inet vhid 1 pass testpass alias 192.168.1.50/32\"\n",
    );
    assert!(rc.issues.is_empty(), "{:?}", rc.issues);
    assert_eq!(rc.hostname.as_deref(), Some("hosta"));
    assert_eq!(rc.vhids.len(), 1);
    let v = &rc.vhids[0];
    assert_eq!(
        (v.iface.as_str(), v.vhid, v.advskew, v.advbase),
        ("em0", 1, 0, 1)
    );
    assert_eq!(v.addresses[0].0.to_string(), "192.168.1.50/32");
    assert_eq!(
        v.pos,
        Pos {
            line: 3,
            column: 27
        }
    );
    assert!(rc.modern && rc.legacy.is_none());
    assert_eq!(rc.interfaces["em0"].own[0].to_string(), "192.168.1.3/24");
}

#[test]
fn legacy_form_is_found_and_its_parent_resolved() {
    let rc = analyze(
        "ifconfig_fxp0=\"inet 192.168.1.3 netmask 255.255.255.0\"\n\
         cloned_interfaces=\"carp0\"\n\
         ifconfig_carp0=\"vhid 1 pass testpass 192.168.1.50/24\"\n",
    );
    assert_eq!(
        codes(&rc),
        [(Code::LegacySyntax, 2), (Code::LegacySyntax, 3)]
    );
    assert_eq!(
        rc.legacy,
        Some(Pos {
            line: 2,
            column: 20
        })
    );
    let v = &rc.vhids[0];
    assert!(v.legacy);
    assert_eq!(v.parent.as_deref(), Some("fxp0"));
    assert_eq!(v.real_iface(), Some("fxp0"));
}

#[test]
fn aliases_without_inet_and_gaps() {
    let rc = analyze(
        "ifconfig_em0=\"inet 10.0.0.2/24\"\n\
         ifconfig_em0_alias0=\"vhid 1 pass x alias 10.0.0.50/32\"\n\
         ifconfig_em0_alias2=\"inet vhid 2 pass x alias 10.0.0.51/32\"\n",
    );
    assert_eq!(codes(&rc), [(Code::MissingInet, 2), (Code::AliasGap, 3)]);
    assert_eq!(rc.vhids.len(), 2, "both still read");
    let rc = analyze(
        "ifconfig_em0_alias0=\"\"\nifconfig_em0_alias1=\"inet vhid 1 pass x 10.0.0.5/32\"\n",
    );
    assert_eq!(codes(&rc), [(Code::AliasGap, 1)]);
    assert!(rc.vhids.is_empty(), "an empty alias stops the list");
}

#[test]
fn aliases_list_words_before_inet_are_ignored() {
    let rc = analyze(
        "ifconfig_em1_aliases=\"\\\nvhid 12 advskew 210 pass p 192.168.1.11/32 \\\ninet vhid 13 pass p 192.168.1.12/32\"\n",
    );
    assert_eq!(codes(&rc), [(Code::AliasesIgnored, 2)]);
    assert_eq!(rc.vhids.len(), 1);
    assert_eq!(rc.vhids[0].vhid, 13);
}

#[test]
fn vip_outside_the_interface_subnet() {
    let rc = analyze(
        "ifconfig_em1=\"inet 38.111.159.78/32\"\n\
         ifconfig_em1_alias0=\"inet vhid 12 pass p 192.168.1.11/32\"\n",
    );
    assert_eq!(codes(&rc), [(Code::VipOutsideSubnet, 2)]);
    assert!(rc.issues[0].message.contains("38.111.159.78/32"));
    // Unknown own address (DHCP): nothing to say.
    let rc = analyze(
        "ifconfig_em1=\"DHCP\"\nifconfig_em1_alias0=\"inet vhid 12 pass p 192.168.1.11/32\"\n",
    );
    assert!(rc.issues.is_empty(), "{:?}", rc.issues);
}

#[test]
fn vlan_interfaces_by_either_name() {
    let rc = analyze(
        "vlans_em0=\"100\"\n\
         ifconfig_em0_100=\"inet 10.1.0.2/24\"\n\
         ifconfig_em0_100_alias0=\"inet vhid 5 pass p alias 10.9.0.5/32\"\n",
    );
    assert_eq!(codes(&rc), [(Code::VipOutsideSubnet, 3)]);
    assert!(
        rc.issues[0].message.contains("em0.100"),
        "{}",
        rc.issues[0].message
    );
}

#[test]
fn merged_vhid_settings_and_conflicts() {
    let rc = analyze(
        "ifconfig_em0_alias0=\"inet vhid 1 advskew 100 pass x alias 10.0.0.50/32\"\n\
         ifconfig_em0_alias1=\"inet vhid 1 alias 10.0.0.51/32\"\n\
         ifconfig_em0_alias2=\"inet vhid 1 advskew 0 alias 10.0.0.52/32\"\n",
    );
    assert_eq!(codes(&rc), [(Code::DuplicateVhid, 3)]);
    let v = &rc.vhids[0];
    assert_eq!(v.addresses.len(), 3);
    assert_eq!(v.advskew, 0, "the last one wins");
    assert!(v.pass.is_some(), "kept from alias0");
}

#[test]
fn no_password_and_vrrp_exemption() {
    let rc = analyze("ifconfig_em0_alias0=\"inet vhid 1 alias 10.0.0.50/32\"\n");
    assert_eq!(codes(&rc), [(Code::NoPassword, 1)]);
    let rc =
        analyze("ifconfig_em0_alias0=\"inet vhid 1 carpver 3 vrrpprio 100 alias 10.0.0.50/32\"\n");
    assert!(rc.issues.is_empty(), "{:?}", rc.issues);
}

#[test]
fn kld_list_ucarp_and_duplicates() {
    let rc = analyze(
        "kld_list=\"carp pf\"\nkld_list=\"pf carp\"\nucarp_enable=\"YES\"\nucarp_vhid=\"3\"\n",
    );
    assert!(rc.kld_carp);
    assert_eq!(
        codes(&rc),
        [(Code::DuplicateAssignment, 2), (Code::Ucarp, 3)]
    );
    assert_eq!(rc.ucarp_vhid, Some(3));
}

#[test]
fn ipv6_aliases() {
    let rc = analyze(
        "ifconfig_em0_ipv6=\"inet6 2001:db8::3/64\"\n\
         ifconfig_em0_alias0=\"inet6 vhid 1 pass x 2001:db8::50 prefixlen 128 alias\"\n\
         ifconfig_em0_alias1=\"vhid 2 pass x 2001:db8::51/128\"\n",
    );
    assert_eq!(codes(&rc), [(Code::MissingInet, 3), (Code::BadValue, 3)]);
    assert!(rc.issues[0].message.contains("inet6"));
    assert_eq!(rc.vhids[0].addresses[0].0.to_string(), "2001:db8::50/128");
}

#[test]
fn placeholders_are_told_from_addresses_and_host_names() {
    use super::vhids::is_placeholder;
    for w in [
        "208.180.xxx.xxx",
        "10.0.0.X/24",
        "A.B.C.D",
        "10.0.*.*",
        "192.168.1.#",
        "2001:db8::xxxx",
    ] {
        assert!(is_placeholder(w), "{w}");
    }
    for w in [
        "10.0.0.1",
        "www.example.org",
        "2001:db8::a",
        "a.b.c",
        "x.example.com.x",
        "fe80::1",
    ] {
        assert!(!is_placeholder(w), "{w}");
    }
}
