//! Tests of migrate and import.

use std::path::Path;

use super::import::toml_str;
use super::*;

fn parents(list: &[(&str, &str)]) -> BTreeMap<String, String> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

const HANDBOOK_9_HOSTC: &str = "hostname=\"hostc.example.org\"\n\
    ifconfig_fxp0=\"inet 192.168.1.5 netmask 255.255.255.0\"\n\
    cloned_interfaces=\"carp0 carp1\"\n\
    ifconfig_carp0=\"vhid 1 advskew 100 pass testpass 192.168.1.50/24\"\n\
    ifconfig_carp1=\"vhid 2 advskew 100 pass testpass 192.168.1.51/24\"\n";

#[test]
fn the_handbook_9_form_becomes_the_handbook_10_form() {
    let m = migrate(Path::new("rc.conf"), HANDBOOK_9_HOSTC, &BTreeMap::new()).unwrap();
    assert!(m.changed);
    let expected = "hostname=\"hostc.example.org\"\n\
        ifconfig_fxp0=\"inet 192.168.1.5 netmask 255.255.255.0\"\n\
        ifconfig_fxp0_alias0=\"inet vhid 1 advskew 100 pass testpass alias 192.168.1.50/32\"\n\
        ifconfig_fxp0_alias1=\"inet vhid 2 advskew 100 pass testpass alias 192.168.1.51/32\"\n";
    assert!(m.text.starts_with(expected), "{}", m.text);
    assert!(m.text.contains("#   carp_load=\"YES\"\n"));
    assert!(
        m.notes
            .iter()
            .any(|n| n == "carp0 (vhid 1) -> ifconfig_fxp0_alias0 on fxp0"),
        "{:?}",
        m.notes
    );
}

#[test]
fn other_cloned_interfaces_and_lines_are_kept() {
    let src = "cloned_interfaces=\"lo1 carp0\" # keep me\nifconfig_em0=\"inet 10.0.0.2/24\"\n\
               ifconfig_em0_alias0=\"inet 10.0.0.9/32\"\nifconfig_carp0=\"vhid 3 pass p 10.0.0.50/24\"\n";
    let m = migrate(Path::new("rc.conf"), src, &BTreeMap::new()).unwrap();
    assert_eq!(
        m.text.lines().take(4).collect::<Vec<_>>(),
        [
            "cloned_interfaces=\"lo1\" # keep me",
            "ifconfig_em0=\"inet 10.0.0.2/24\"",
            "ifconfig_em0_alias0=\"inet 10.0.0.9/32\"",
            "ifconfig_em0_alias1=\"inet vhid 3 pass p alias 10.0.0.50/32\"",
        ]
    );
}

#[test]
fn an_unknown_parent_is_asked_for() {
    let src = "cloned_interfaces=\"carp0\"\nifconfig_carp0=\"vhid 1 pass p 192.168.1.50/24\"\n";
    let e = migrate(Path::new("a.rc.conf"), src, &BTreeMap::new()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, MigrateError::NoParent { .. }), "{e:?}");
    assert!(
        msg.contains("--parent carp0=IF")
            && msg.contains("192.168.1.0/24 (the subnet of 192.168.1.50/24)"),
        "{msg}"
    );
    let m = migrate(
        Path::new("a.rc.conf"),
        src,
        &parents(&[("carp0", "em0.100")]),
    )
    .unwrap();
    assert!(
        m.text
            .starts_with("ifconfig_em0_100_alias0=\"inet vhid 1 pass p alias 192.168.1.50/32\"\n"),
        "{}",
        m.text
    );
}

#[test]
fn an_ambiguous_parent_names_the_candidates() {
    let src = "ifconfig_em0=\"inet 10.0.0.2/16\"\nifconfig_em1=\"inet 10.0.1.2/24\"\n\
               cloned_interfaces=\"carp0\"\nifconfig_carp0=\"vhid 1 pass p 10.0.1.50/24\"\n";
    let e = migrate(Path::new("rc.conf"), src, &BTreeMap::new()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("em0 or em1") && msg.contains("--parent carp0=IF"),
        "{msg}"
    );
}

#[test]
fn errors_in_the_lines_to_convert_stop_it() {
    let src = "cloned_interfaces=\"carp0\"\nifconfig_carp0=\"vhid 1 advskew pass my_password1\"\n";
    let e = migrate(Path::new("b.rc.conf"), src, &parents(&[("carp0", "em0")])).unwrap_err();
    match e {
        MigrateError::Invalid { issues, .. } => assert!(issues.iter().all(|i| i.pos.line == 2)),
        e => panic!("{e:?}"),
    }
}

#[test]
fn parent_args_are_checked() {
    assert_eq!(
        parse_parent("carp0=em0"),
        Ok(("carp0".into(), "em0".into()))
    );
    assert!(parse_parent("em0").is_err());
    assert!(parse_parent("em0=em1").is_err());
    assert!(parse_parent("carp0=").is_err());
    assert!(parse_parent("carp0=a b").is_err());
    assert!(parse_parent("carp0=carp1").is_err());
    // IfName's rule (was: anything but blanks, quotes, slashes, `$`, backquote,
    // backslash): `+` and `:` are refused now, as the cluster file refuses them.
    assert!(parse_parent("carp0=em+0").unwrap_err().contains("'+'"));
    assert!(parse_parent("carp0=em:0").is_err());
    let e = migrate(
        Path::new("rc.conf"),
        HANDBOOK_9_HOSTC,
        &parents(&[("carp7", "em0")]),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("configures no carp7 (it has carp0, carp1)"),
        "{e}"
    );
}

#[test]
fn nothing_to_migrate() {
    let src = "ifconfig_em0=\"DHCP\"\n";
    let m = migrate(Path::new("rc.conf"), src, &BTreeMap::new()).unwrap();
    assert!(!m.changed);
    assert_eq!(m.text, src);
}

#[test]
fn passwords_are_quoted_for_toml() {
    assert_eq!(toml_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000A\"");
}

#[test]
fn import_the_handbook_10_cluster() {
    let a = "hostname=\"hosta.example.org\"\nifconfig_em0=\"inet 192.168.1.3 netmask 255.255.255.0\"\n\
             ifconfig_em0_alias0=\"inet vhid 1 pass testpass alias 192.168.1.50/32\"\n";
    let b = "hostname=\"hostb.example.org\"\nifconfig_em0=\"inet 192.168.1.4 netmask 255.255.255.0\"\n\
             ifconfig_em0_alias0=\"inet vhid 2 pass testpass alias 192.168.1.51/32\"\n";
    let c = "hostname=\"hostc.example.org\"\nifconfig_igb0=\"inet 192.168.1.5 netmask 255.255.255.0\"\n\
             ifconfig_igb0_alias0=\"inet vhid 1 advskew 100 pass testpass alias 192.168.1.50/32\"\n\
             ifconfig_igb0_alias1=\"inet vhid 2 advskew 100 pass testpass alias 192.168.1.51/32\"\n";
    let nodes: Vec<ImportNode> = [("a/rc.conf", a), ("b/rc.conf", b), ("c/rc.conf", c)]
        .iter()
        .map(|(p, t)| ImportNode {
            name: None,
            path: p.into(),
            text: t.to_string(),
        })
        .collect();
    let out = import(&nodes, &BTreeMap::new()).unwrap();
    assert!(out.toml.contains("name = \"hosta\""));
    assert!(
        out.toml.contains("interfaces = { net0 = \"igb0\" }"),
        "{}",
        out.toml
    );
    assert!(
        out.toml.contains("interfaces = { net0 = \"em0\" }"),
        "{}",
        out.toml
    );
    assert!(!out.toml.contains("net1"), "{}", out.toml);
    assert!(
        out.toml.contains("prefer = [\"hosta\", \"hostc\"]"),
        "{}",
        out.toml
    );
    assert!(
        out.toml.contains("prefer = [\"hostb\", \"hostc\"]"),
        "{}",
        out.toml
    );
    assert!(!out.toml.contains("testpass"), "passwords stay out");
    assert_eq!(out.key_files.len(), 2);
    assert_eq!(out.key_files[0].path, "carpctl.d/vhid1.key");
    assert_eq!(out.key_files[0].line, 3);
}
