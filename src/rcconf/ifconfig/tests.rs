//! Tests of the ifconfig argument reader.

use super::*;

fn cmd(s: &str) -> Command {
    parse(&split(s), Some(AddressFamily::Inet))
}

fn codes(c: &Command) -> Vec<ProblemKind> {
    c.problems.iter().map(|i| i.kind).collect()
}

#[test]
fn split_keeps_character_indices() {
    let t = split("  vhid 1\n pass é x");
    let got: Vec<(&str, usize)> = t.iter().map(|t| (t.text, t.start)).collect();
    assert_eq!(
        got,
        [("vhid", 2), ("1", 7), ("pass", 10), ("é", 15), ("x", 17)]
    );
    assert!(split("   ").is_empty());
}

#[test]
fn carp_keywords_in_any_order_after_vhid() {
    for s in [
        "inet vhid 1 advskew 100 pass secret alias 192.168.1.50/32",
        "inet vhid 1 pass secret advskew 100 192.168.1.50/32 alias",
        "inet 192.168.1.50/32 vhid 1 advskew 100 pass secret alias",
    ] {
        let c = cmd(s);
        assert!(c.problems.is_empty(), "{s}: {:?}", c.problems);
        assert_eq!(c.vhid.as_ref().unwrap().value, 1);
        assert_eq!(c.advskew.as_ref().unwrap().value, 100);
        assert_eq!(c.pass.as_ref().unwrap().value.0, "secret");
        assert_eq!(c.addresses[0].net.to_string(), "192.168.1.50/32");
        assert!(c.alias);
        assert_eq!(c.af, Some(AddressFamily::Inet));
    }
}

#[test]
fn the_seed_typo_is_a_missing_value_and_no_address() {
    // `advskew pass my_password1`: advskew lacks its number.
    let c = cmd("vhid 1 advskew pass my_password1");
    assert_eq!(codes(&c), [ProblemKind::MissingValue]);
    assert_eq!(c.problems[0].tok, 2);
    assert!(
        c.problems[0].message.contains("`pass`"),
        "{}",
        c.problems[0].message
    );
    // Reading on from `pass` keeps the password; there is no address.
    assert!(c.pass.is_some());
    assert!(c.addresses.is_empty());
    assert!(c.unknown.is_empty());
}

#[test]
fn missing_value_at_the_end() {
    let c = cmd("vhid 1 pass");
    assert_eq!(codes(&c), [ProblemKind::MissingValue]);
    let c = cmd("vhid");
    assert_eq!(codes(&c), [ProblemKind::MissingValue]);
    let c = cmd("10.0.0.1 netmask");
    assert_eq!(codes(&c), [ProblemKind::MissingValue]);
}

#[test]
fn vhid_must_come_first() {
    let c = cmd("advskew 100 vhid 1 10.0.0.1");
    assert_eq!(codes(&c), [ProblemKind::VhidFirst]);
    assert!(c.problems[0].message.contains("advskew requires vhid"));
    let c = cmd("pass x vhid 1 10.0.0.1");
    assert!(c.problems[0].message.contains("passwd requires vhid"));
    // carpver and peer do not need vhid before them.
    assert!(
        cmd("carpver 3 vhid 1 vrrpprio 100 10.0.0.1")
            .problems
            .is_empty()
    );
}

#[test]
fn numbers_are_checked_for_form_and_range() {
    for (s, tok) in [
        ("vhid 0 10.0.0.1", 1),
        ("vhid 256 10.0.0.1", 1),
        ("vhid 1x 10.0.0.1", 1),
        ("vhid 1 advskew 255 10.0.0.1", 3),
        ("vhid 1 advskew -1 10.0.0.1", 3),
        ("vhid 1 advbase 0 10.0.0.1", 3),
        ("vhid 1 state up 10.0.0.1", 3),
        ("vhid 1 peer 10.0.0 10.0.0.1", 3),
        ("vhid 1 peer6 10.0.0.2 10.0.0.1", 3),
        ("vhid 1 carpver 4 10.0.0.1", 3),
        ("carpver 3 vhid 1 vrrpprio 300 10.0.0.1", 5),
        ("carpver 3 vhid 1 vrrpinterval 4096 10.0.0.1", 5),
        ("carpver 3 vhid 1 vrrpinterval 0 10.0.0.1", 5),
        ("vhid 1 10.0.0.1/33", 2),
        ("vhid 1 10.0.0.1 netmask 255.0.255.0", 4),
        ("inet6 vhid 1 2001:db8::1 prefixlen 129", 5),
    ] {
        let c = parse(&split(s), None);
        assert_eq!(codes(&c), [ProblemKind::BadValue], "{s}: {:?}", c.problems);
        assert_eq!(c.problems[0].tok, tok, "{s}");
    }
    for s in [
        "vhid 255 advskew 254 advbase 255 10.0.0.1",
        "vhid 1 advskew 0 state MASTER peer 10.0.0.2 10.0.0.1",
        "inet6 vhid 1 peer6 2001:db8::2 2001:db8::1 prefixlen 64",
        "carpver 3 vhid 1 vrrpprio 254 vrrpinterval 4095 10.0.0.1",
    ] {
        let c = parse(&split(s), None);
        let errors: Vec<&Problem> = c
            .problems
            .iter()
            .filter(|i| i.kind == ProblemKind::BadValue)
            .collect();
        assert!(errors.is_empty(), "{s}: {errors:?}");
    }
}

#[test]
fn skew_240_and_long_passwords_warn() {
    let c = cmd("vhid 1 advskew 240 10.0.0.1");
    assert_eq!(codes(&c), [ProblemKind::SkewTooHigh]);
    assert!(cmd("vhid 1 advskew 239 10.0.0.1").problems.is_empty());
    let c = cmd("vhid 1 pass 01234567890123456789 10.0.0.1");
    assert_eq!(codes(&c), [ProblemKind::PasswordLength]);
    assert!(
        !c.problems[0].message.contains("0123456789"),
        "never show the password"
    );
    assert!(
        cmd("vhid 1 pass 0123456789012345678 10.0.0.1")
            .problems
            .is_empty()
    );
}

#[test]
fn vrrp_and_carp_options_do_not_mix() {
    let c = cmd("carpver 3 vhid 1 pass x advskew 10 10.0.0.1");
    assert_eq!(codes(&c), [ProblemKind::VrrpMixed, ProblemKind::VrrpMixed]);
    let c = cmd("vhid 1 vrrpprio 100 10.0.0.1");
    assert_eq!(codes(&c), [ProblemKind::VrrpMixed]);
    assert!(
        cmd("carpver 2 vhid 1 pass x advskew 10 10.0.0.1")
            .problems
            .is_empty()
    );
}

#[test]
fn addresses_with_masks_prefixes_and_ranges() {
    let c = cmd("inet 192.168.1.3 netmask 255.255.255.0");
    assert_eq!(c.addresses[0].net.to_string(), "192.168.1.3/24");
    let c = cmd("inet 192.168.1.3 netmask 0xffffff00");
    assert_eq!(c.addresses[0].net.to_string(), "192.168.1.3/24");
    let c = parse(&split("inet6 2001:db8::3 prefixlen 64"), None);
    assert_eq!(c.addresses[0].net.to_string(), "2001:db8::3/64");
    let c = cmd("inet 192.168.1.10-12/32");
    let got: Vec<String> = c.addresses.iter().map(|a| a.net.to_string()).collect();
    assert_eq!(
        got,
        ["192.168.1.10/32", "192.168.1.11/32", "192.168.1.12/32"]
    );
    let c = parse(&split("inet6 2001:db8::a-c"), None);
    assert_eq!(c.addresses.len(), 3);
    assert!(!c.addresses[0].prefix_given);
    // IPv4 in an inet6 command, and the reverse.
    assert_eq!(
        codes(&parse(&split("inet6 10.0.0.1"), None)),
        [ProblemKind::BadValue]
    );
    assert_eq!(codes(&cmd("inet 2001:db8::1")), [ProblemKind::BadValue]);
    // A reversed range is an error, not a panic.
    assert_eq!(codes(&cmd("inet 10.0.0.9-3")), [ProblemKind::BadValue]);
}

#[test]
fn unknown_words_and_host_names_are_set_aside() {
    let c = cmd("vhid 1 my_password1");
    assert_eq!(c.unknown, [2]);
    let c = cmd("vhid 1 www.example.org");
    assert_eq!(c.hostnames, [2]);
    assert!(c.unknown.is_empty());
}

#[test]
fn chunks_split_at_address_families() {
    let t = split("vhid 1 x inet 10.0.0.1/32 inet6 2001:db8::1");
    let ch = chunks(&t);
    assert_eq!(
        ch,
        [
            Chunk {
                af: None,
                start: 0,
                end: 3
            },
            Chunk {
                af: Some(AddressFamily::Inet),
                start: 3,
                end: 5
            },
            Chunk {
                af: Some(AddressFamily::Inet6),
                start: 5,
                end: 7
            },
        ]
    );
    assert!(chunks(&[]).is_empty());
}

#[test]
fn netmask_forms() {
    assert_eq!(parse_netmask("255.255.255.255"), Some(32));
    assert_eq!(parse_netmask("0xffff0000"), Some(16));
    assert_eq!(parse_netmask("0.0.0.0"), Some(0));
    assert_eq!(parse_netmask("255.0.255.0"), None);
    assert_eq!(parse_netmask("0xfffffffff"), None);
    assert_eq!(parse_netmask("x"), None);
}

#[test]
fn default_prefixes_are_classful() {
    assert_eq!(default_prefix("10.1.2.3".parse().unwrap()), 8);
    assert_eq!(default_prefix("172.16.0.1".parse().unwrap()), 16);
    assert_eq!(default_prefix("192.168.1.3".parse().unwrap()), 24);
    assert_eq!(default_prefix("2001:db8::1".parse().unwrap()), 64);
}

#[test]
fn secrets_are_redacted() {
    let s = Secret("hunter2".into());
    assert_eq!(format!("{s:?}"), "Secret(7 bytes)");
    assert_eq!(s.to_string(), "(password)");
    let c = cmd("vhid 1 pass hunter2 10.0.0.1");
    assert!(!format!("{c:?}").contains("hunter2"));
}
