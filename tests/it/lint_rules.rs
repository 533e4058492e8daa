//! The lint rules of issue 13 (mistakes found in published
//! configurations): each with a failing and a passing input (joined to the
//! table of `lint::every_check_has_a_failing_and_a_passing_input`), the
//! words of their messages, the release targets (`--freebsd 9`), and what
//! `migrate` refuses.
//!
//! The inputs are minimal files, each reduced from the mistake as issue 13
//! quotes it: the published files themselves could not be found in the
//! stored copies searched, so none was added to tests/corpus.

use std::path::Path;

use carpctl::lint::{Code, Finding, Severity, Target};
use carpctl::migrate::{self, MigrateError};

use crate::common::run_carpctl_in as carpctl_in;
use crate::lint::{Case, case, lint_files_on, rc};

/// A node with em0 10.0.0.2/24 and carp loaded, then `extra`.
fn node(extra: &str) -> String {
    format!("kld_list=\"carp\"\nifconfig_em0=\"inet 10.0.0.2/24\"\n{extra}")
}

const VHID1: &str = "ifconfig_em0_alias0=\"inet vhid 1 pass s alias 10.0.0.50/32\"\n";

/// FreeBSD 14, as `--freebsd 14` gives it.
const ON_14: Target = Target {
    label: "14",
    vrrp: false,
    unicast: true,
    legacy: false,
};

/// The vlans of issue 13: `vlans_dcw0` for `dwc0`.
fn vlan_typo(parent: &str) -> String {
    format!(
        "kld_list=\"carp\"\nifconfig_dwc0=\"up\"\nvlans_{parent}=\"100\"\n\
         ifconfig_dwc0_100=\"inet 10.1.0.2/24\"\n\
         ifconfig_dwc0_100_alias0=\"inet vhid 7 pass s alias 10.1.0.50/32\"\n"
    )
}

const DEVD_CARP_STAR: &str = "notify 0 {\n\tmatch \"system\" \"CARP\";\n\
    \tmatch \"subsystem\" \"carp*\";\n\tmatch \"type\" \"MASTER\";\n\
    \taction \"/usr/local/sbin/failover.sh up\";\n};\n";

const DEVD_TWO_NOTIFY: &str = "notify 0 {\n\tmatch \"system\" \"CARP\";\n\
    \tmatch \"subsystem\" \"[0-9]+@[0-9a-zA-Z._]+\";\n\tmatch \"type\" \"MASTER\";\n\
    \taction \"/root/up.sh\";\n};\n";

fn with_target(mut c: Case, t: Target) -> Case {
    c.target = t;
    c
}

/// One case per code of issue 13, and the release-specific ones.
pub(crate) fn cases() -> Vec<Case> {
    vec![
        rc(
            Code::CommandLine,
            &node("/usr/local/sbin/ucarp -i em0 -s 10.0.0.2 -v 1 -p s -a 10.0.0.50\n"),
            &node(". /etc/rc.conf.local\n"),
        ),
        rc(
            Code::OverrideDropsVhid,
            &node(&format!(
                "{VHID1}ifconfig_em0_alias0=\"inet 10.0.0.60/32\"\n"
            )),
            &node(&format!("{VHID1}{VHID1}")),
        ),
        rc(
            Code::InterfaceNotCreated,
            &node("ifconfig_lagg0=\"laggproto lacp laggport em0 10.0.2.2/24\"\n"),
            &node(
                "cloned_interfaces=\"lagg0\"\n\
                 ifconfig_lagg0=\"laggproto lacp laggport em0 10.0.2.2/24\"\n",
            ),
        ),
        rc(
            Code::VlanParentUnknown,
            &vlan_typo("dcw0"),
            &vlan_typo("dwc0"),
        ),
        rc(
            Code::NetworkOrBroadcast,
            "ifconfig_em0=\"inet 192.168.10.3/30\"\n",
            "ifconfig_em0=\"inet 192.168.10.2/30\"\n",
        ),
        rc(
            Code::VipHostname,
            &node("ifconfig_em0_alias0=\"inet vhid 1 pass s alias www.example.org\"\n"),
            &node(VHID1),
        ),
        rc(
            Code::VipPlaceholder,
            &node("ifconfig_em0_alias0=\"inet vhid 1 pass s alias 208.180.xxx.xxx/32\"\n"),
            &node(VHID1),
        ),
        case(
            Code::DevdNeverMatches,
            &[("devd.conf", DEVD_CARP_STAR)],
            &[(
                "devd.conf",
                &DEVD_CARP_STAR.replace("carp*", "[0-9]+@[0-9a-zA-Z._]+"),
            )],
        ),
        case(
            Code::DevdDuplicateNotify,
            &[("devd.conf", &format!("{DEVD_TWO_NOTIFY}{DEVD_TWO_NOTIFY}"))],
            &[(
                "devd.conf",
                &format!(
                    "{DEVD_TWO_NOTIFY}{}",
                    DEVD_TWO_NOTIFY
                        .replace("MASTER", "BACKUP")
                        .replace("up.sh", "down.sh")
                ),
            )],
        ),
        // if_carp_load: an error on 10 and later, right on 9.
        case(
            Code::IfCarpLoad,
            &[("loader.conf", "if_carp_load=\"YES\"\n")],
            &[("loader.conf", "carp_load=\"YES\"\n")],
        ),
        with_target(
            case(
                Code::IfCarpLoad,
                &[("loader.conf", "if_carp_load=\"YES\"\n")],
                &[],
            ),
            ON_14,
        ),
    ]
}

fn lint_on(files: &[(&str, &str)], t: Target) -> Vec<Finding> {
    lint_files_on(files, false, t)
}

fn only(found: &[Finding], code: Code) -> Vec<&Finding> {
    found.iter().filter(|f| f.code == code).collect()
}

/// The one finding of `code` in `found`, at `line`, whose message has
/// each of `words`.
fn the_one<'f>(found: &'f [Finding], code: Code, line: usize, words: &[&str]) -> &'f Finding {
    let all = only(found, code);
    assert_eq!(all.len(), 1, "{code}: {found:#?}");
    assert_eq!(all[0].line, line, "{:#?}", all[0]);
    for w in words {
        assert!(all[0].message.contains(w), "{w}: {}", all[0].message);
    }
    all[0]
}

#[test]
fn a_command_in_rc_conf_is_an_error_and_sourcing_is_not() {
    let f = lint_on(
        &[(
            "rc.conf",
            &node("/usr/local/sbin/ucarp -i em0 -v 1 -a 10.0.0.50 &\n. /etc/rc.conf.local\n"),
        )],
        Target::MAIN,
    );
    let cmd = the_one(
        &f,
        Code::CommandLine,
        3,
        &["`/usr/local/sbin/ucarp`", "every rc script sources rc.conf"],
    );
    assert_eq!((cmd.column, cmd.severity()), (1, Severity::Error));
    let info = only(&f, Code::NotEvaluated);
    assert_eq!(info.len(), 1, "{f:#?}");
    assert_eq!(info[0].line, 4);
}

#[test]
fn an_override_that_drops_a_vhid_names_it_and_a_harmless_one_stays_a_warning() {
    let text = node(&format!(
        "{VHID1}ifconfig_em0_alias0=\"inet vhid 2 pass s alias 10.0.0.51/32\"\n"
    ));
    let f = lint_on(&[("rc.conf", &text)], Target::MAIN);
    let lost = only(&f, Code::OverrideDropsVhid);
    assert_eq!(lost.len(), 1, "{f:#?}");
    assert_eq!(lost[0].line, 4);
    assert!(
        lost[0].message.contains("value of line 3")
            && lost[0]
                .message
                .contains("vhid 1, 10.0.0.50 are never configured"),
        "{}",
        lost[0].message
    );
    assert!(only(&f, Code::DuplicateAssignment).is_empty(), "{f:#?}");
    // The same value twice, or a vhid kept with its address: a warning.
    for later in [
        VHID1.to_string(),
        "ifconfig_em0_alias0=\"inet vhid 1 advskew 10 pass s alias 10.0.0.50/32\"\n".into(),
    ] {
        let f = lint_on(
            &[("rc.conf", &node(&format!("{VHID1}{later}")))],
            Target::MAIN,
        );
        assert!(only(&f, Code::OverrideDropsVhid).is_empty(), "{f:#?}");
        assert_eq!(only(&f, Code::DuplicateAssignment).len(), 1, "{f:#?}");
    }
    // Three times: the first and the second are each lost.
    let f = lint_on(
        &[(
            "rc.conf",
            &node(&format!(
                "{VHID1}{}ifconfig_em0_alias0=\"inet 10.0.0.9/32\"\n",
                VHID1.replace("vhid 1", "vhid 2").replace(".50", ".51")
            )),
        )],
        Target::MAIN,
    );
    let lost: Vec<String> = only(&f, Code::OverrideDropsVhid)
        .iter()
        .map(|f| f.message.clone())
        .collect();
    assert_eq!(lost.len(), 2, "{lost:#?}");
    assert!(lost[0].contains("vhid 1") && lost[1].contains("vhid 2"));
}

#[test]
fn the_vlan_parent_typo_names_the_typo_and_the_interface_meant() {
    let f = lint_on(&[("rc.conf", &vlan_typo("dcw0"))], Target::MAIN);
    the_one(
        &f,
        Code::VlanParentUnknown,
        3,
        &["vlans_dcw0", "vlans_dwc0?"],
    );
    // ...and the lines on the vlan that is never created.
    the_one(
        &f,
        Code::InterfaceNotCreated,
        4,
        &["vhid 7", "vlans_dcw0 creates"],
    );
    // The right parent: nothing of either.
    let f = lint_on(&[("rc.conf", &vlan_typo("dwc0"))], Target::MAIN);
    assert!(only(&f, Code::VlanParentUnknown).is_empty(), "{f:#?}");
    assert!(only(&f, Code::InterfaceNotCreated).is_empty(), "{f:#?}");
}

#[test]
fn physical_looking_names_and_created_interfaces_are_not_reported() {
    let text = "cloned_interfaces=\"bridge0 epair0 lagg1\"\nvlans_igb0=\"100 vlan200\"\n\
        wlans_ath0=\"wlan0\"\nifconfig_re0_name=\"wan\"\n\
        ifconfig_em0=\"up\"\nifconfig_igb0=\"up\"\nifconfig_vtnet1=\"up\"\nifconfig_mlxen0=\"up\"\n\
        ifconfig_bridge0=\"addm em0 up\"\nifconfig_epair0a=\"up\"\nifconfig_lagg1=\"up\"\n\
        ifconfig_igb0_100=\"inet 10.9.0.1/24\"\nifconfig_vlan200=\"inet 10.9.1.1/24\"\n\
        ifconfig_wlan0=\"WPA DHCP\"\nifconfig_wan=\"DHCP\"\nifconfig_lo0=\"inet 127.0.0.1\"\n\
        ifconfig_DEFAULT=\"SYNCDHCP\"\n";
    let f = lint_on(&[("rc.conf", text)], Target::MAIN);
    assert!(only(&f, Code::InterfaceNotCreated).is_empty(), "{f:#?}");
    // A cloner name, a name with a leading-zero unit, a plain name: each
    // needs creating.
    for name in ["lagg0", "tap3", "em01", "uplink", "vlan10"] {
        let f = lint_on(
            &[("rc.conf", &format!("ifconfig_{name}=\"up\"\n"))],
            Target::MAIN,
        );
        assert_eq!(
            only(&f, Code::InterfaceNotCreated).len(),
            1,
            "{name}: {f:#?}"
        );
    }
}

#[test]
fn network_and_broadcast_addresses_are_errors_except_on_31_and_32() {
    let f = lint_on(
        &[(
            "rc.conf",
            "kld_list=\"carp\"\nifconfig_em0=\"inet 192.168.10.3/30\"\n\
             ifconfig_em1=\"inet 10.0.0.2/24\"\n\
             ifconfig_em1_alias0=\"inet vhid 1 pass s alias 10.0.0.255/32\"\n\
             ifconfig_em1_alias1=\"inet vhid 2 pass s alias 10.0.0.0/32\"\n\
             ifconfig_em2=\"inet 10.2.0.1/31\"\nifconfig_em3=\"inet 10.3.0.0/32\"\n",
        )],
        Target::MAIN,
    );
    let lines: Vec<(usize, bool)> = only(&f, Code::NetworkOrBroadcast)
        .iter()
        .map(|f| (f.line, f.message.contains("broadcast address of")))
        .collect();
    assert_eq!(lines, [(2, true), (4, true), (5, false)], "{f:#?}");
    let m = &only(&f, Code::NetworkOrBroadcast)[0].message;
    assert!(
        m.contains(
            "192.168.10.3, the own address of em0, is the broadcast address of 192.168.10.0/30"
        ) && m.contains("between 192.168.10.1 and 192.168.10.2"),
        "{m}"
    );
}

#[test]
fn a_vip_host_name_is_a_warning_and_a_placeholder_an_error() {
    let f = lint_on(
        &[(
            "rc.conf",
            &node(
                "ifconfig_em0_alias0=\"inet vhid 1 pass s alias www.example.org\"\n\
                 ifconfig_em0_alias1=\"inet vhid 2 pass s alias 208.180.xxx.xxx\"\n\
                 ifconfig_em0_alias2=\"inet vhid 3 pass s alias 10.0.0.X/32\"\n\
                 ifconfig_em0_alias3=\"inet vhid 4 pass s alias A.B.C.D\"\n\
                 ifconfig_em0_alias4=\"inet vhid 5 pass s alias 10.0.*.*\"\n",
            ),
        )],
        Target::MAIN,
    );
    let host = only(&f, Code::VipHostname);
    assert_eq!(host.len(), 1, "{f:#?}");
    assert_eq!(host[0].severity(), Severity::Warning);
    assert!(host[0].message.contains("`www.example.org`"));
    let lines: Vec<usize> = only(&f, Code::VipPlaceholder)
        .iter()
        .map(|f| f.line)
        .collect();
    assert_eq!(lines, [4, 5, 6, 7], "{f:#?}");
    // Not CARP014 as well: one finding per word.
    assert!(only(&f, Code::NotAnAddress).is_empty(), "{f:#?}");
}

#[test]
fn devd_carp_star_never_matches_and_says_why() {
    let f = lint_on(&[("devd.conf", DEVD_CARP_STAR)], Target::MAIN);
    the_one(&f, Code::DevdNeverMatches, 3, &["^carp*$", "nor carp0"]);
    // Not also "too narrow": one finding for the one regex.
    assert!(only(&f, Code::DevdRegexNarrow).is_empty(), "{f:#?}");
    // Without a system match too; a rule for one vhid on purpose is fine.
    let no_system = DEVD_CARP_STAR.replace("\tmatch \"system\" \"CARP\";\n", "");
    assert_eq!(
        only(
            &lint_on(&[("devd.conf", &no_system)], Target::MAIN),
            Code::DevdNeverMatches
        )
        .len(),
        1
    );
    let one = DEVD_CARP_STAR.replace("carp*", "3@vlan100");
    assert!(
        only(
            &lint_on(&[("devd.conf", &one)], Target::MAIN),
            Code::DevdNeverMatches
        )
        .is_empty()
    );
}

#[test]
fn two_identical_notify_blocks_are_a_warning_at_the_second() {
    let f = lint_on(
        &[("devd.conf", &format!("{DEVD_TWO_NOTIFY}{DEVD_TWO_NOTIFY}"))],
        Target::MAIN,
    );
    the_one(&f, Code::DevdDuplicateNotify, 7, &["line 1"]);
}

#[test]
fn freebsd_9_takes_the_carp_interfaces_and_if_carp_load() {
    let legacy = "ifconfig_em0=\"inet 192.168.1.5/24\"\ncloned_interfaces=\"carp0\"\n\
        ifconfig_carp0=\"vhid 1 pass s 192.168.1.50/24\"\n";
    let files = [
        ("a.rc.conf", legacy),
        ("a.loader.conf", "if_carp_load=\"YES\"\n"),
    ];
    let on_9 = lint_on(&files, Target::FREEBSD_9);
    assert!(
        on_9.iter().all(|f| f.severity() == Severity::Info),
        "{on_9:#?}"
    );
    let on_main = lint_on(&files, Target::MAIN);
    let load = only(&on_main, Code::IfCarpLoad);
    assert_eq!(load.len(), 1, "{on_main:#?}");
    assert_eq!(load[0].severity(), Severity::Error);
    assert!(load[0].message.contains("lint assumed FreeBSD main"));
    let legacy_form = only(&on_main, Code::LegacySyntax);
    assert_eq!(legacy_form.len(), 2, "{on_main:#?}");
    assert!(
        legacy_form
            .iter()
            .all(|f| f.message.contains("lint assumed FreeBSD main"))
    );
    // The FreeBSD 10 form on 9: carp_load and the alias vhid are errors.
    let modern = [
        ("b.rc.conf", node(VHID1)),
        ("b.loader.conf", "carp_load=\"YES\"\n".to_string()),
    ];
    let modern: Vec<(&str, &str)> = modern.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let f = lint_on(&modern, Target::FREEBSD_9);
    let not: Vec<(&str, usize)> = only(&f, Code::NotOnTarget)
        .iter()
        .map(|f| (f.file.to_str().unwrap(), f.line))
        .collect();
    assert_eq!(not, [("b.rc.conf", 3), ("b.loader.conf", 1)], "{f:#?}");
    assert!(
        only(&f, Code::NotOnTarget)
            .iter()
            .all(|f| f.message.contains("lint assumed FreeBSD 9 (--freebsd 9)"))
    );
    assert!(
        lint_on(&modern, Target::MAIN)
            .iter()
            .all(|f| f.code != Code::NotOnTarget)
    );
}

#[test]
fn vrrp_keywords_are_errors_before_15_whatever_carpver() {
    for (words, kw) in [
        ("vrrpprio 200", "vrrpprio"),
        ("vrrpinterval 100", "vrrpinterval"),
        ("carpver 2 pass s", "carpver"),
    ] {
        let text = node(&format!(
            "ifconfig_em0_alias0=\"inet vhid 1 {words} alias 10.0.0.50/32\"\n"
        ));
        let f = lint_on(&[("rc.conf", &text)], ON_14);
        let not = only(&f, Code::NotOnTarget);
        assert_eq!(not.len(), 1, "{words}: {f:#?}");
        assert!(
            not[0].message.contains(&format!("`{kw}`"))
                && not[0].message.contains("lint assumed FreeBSD 14"),
            "{}",
            not[0].message
        );
        assert!(
            only(
                &lint_on(&[("rc.conf", &text)], Target::MAIN),
                Code::NotOnTarget
            )
            .is_empty()
        );
    }
    // carpver 3: reported once, as VRRPv3 (issue 12's finding).
    let text =
        node("ifconfig_em0_alias0=\"inet vhid 1 carpver 3 vrrpprio 200 alias 10.0.0.50/32\"\n");
    let f = lint_on(&[("rc.conf", &text)], ON_14);
    let not = only(&f, Code::NotOnTarget);
    assert_eq!(not.len(), 1, "{f:#?}");
    assert!(not[0].message.contains("VRRPv3 (carpver 3)"));
}

#[test]
fn lint_takes_freebsd_9_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("loader.conf"), "if_carp_load=\"YES\"\n").unwrap();
    let r = carpctl_in(dir.path(), &["lint", "--freebsd", "9", "loader.conf"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = carpctl_in(dir.path(), &["lint", "loader.conf"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("error[CARP031]"), "{}", r.stdout);
    let r = carpctl_in(dir.path(), &["lint", "--freebsd", "8", "loader.conf"]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn migrate_refuses_a_file_sh_cannot_read_as_meant() {
    // A typographic quote on a line migrate would keep: the new alias0
    // would be overridden by the broken one.
    let src = "ifconfig_em0=\"inet 192.168.1.5/24\"\ncloned_interfaces=\"carp0\"\n\
        ifconfig_carp0=\"vhid 1 pass x 192.168.1.50/24\"\n\
        ifconfig_em0_alias0=\u{201c}inet 10.1.1.1/32\u{201d}\n";
    let e = migrate::migrate(Path::new("rc.conf"), src, &Default::default()).unwrap_err();
    let MigrateError::Invalid { issues, .. } = e else {
        panic!("{e:?}")
    };
    assert!(
        issues
            .iter()
            .all(|i| i.code == Code::TypographicQuote && i.pos.line == 4)
    );
    // On the carp line itself: nothing is converted, nothing kept broken.
    let src = "ifconfig_em0=\"inet 192.168.1.5/24\"\ncloned_interfaces=\"carp0\"\n\
        ifconfig_carp0=\u{201c}vhid 1 pass x 192.168.1.50/24\u{201d}\n";
    assert!(matches!(
        migrate::migrate(Path::new("rc.conf"), src, &Default::default()),
        Err(MigrateError::Invalid { .. })
    ));
}

#[test]
fn migrate_of_a_vhid_without_address_says_to_import_and_import_marks_it() {
    let corpus = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus"));
    let r = carpctl_in(corpus, &["migrate", "seed-b.rc.conf"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("carpctl import") && r.stderr.contains("FILL IN"),
        "{}",
        r.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(corpus.join("seed-b.rc.conf"), dir.path().join("b.rc.conf")).unwrap();
    let r = carpctl_in(
        dir.path(),
        &[
            "import",
            "b=b.rc.conf",
            "--parent",
            "carp0=em0",
            "--parent",
            "carp1=em0",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let marked = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("# FILL IN: no rc.conf gives vhid 1"))
        .nth(1);
    assert_eq!(marked, Some("addresses = []"), "{}", r.stdout);
    assert!(r.stderr.contains("FILL IN"), "{}", r.stderr);
}
