//! `carpctl lint`, `migrate` and `import`: every check with an input that
//! fails it and one that passes, the real-world corpus (`tests/corpus`),
//! the seed acceptance, the command line, and parsers that never panic.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use carpctl::lint::{self, Code, Finding, Input, Options, Severity, Target};
use carpctl::migrate::{self, ImportNode};
use proptest::prelude::*;
use serde_json::Value;

use crate::common::run_carpctl_in as carpctl_in;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");

/// Marks an input that could not be read (CARP005).
const UNREADABLE: &str = "\u{0}unreadable";

fn lint_files(files: &[(&str, &str)], cluster: bool) -> Vec<Finding> {
    lint_files_on(files, cluster, Target::MAIN)
}

/// [`lint_files`] for FreeBSD release `target`.
pub(crate) fn lint_files_on(files: &[(&str, &str)], cluster: bool, target: Target) -> Vec<Finding> {
    let inputs: Vec<Input> = files
        .iter()
        .map(|(p, t)| {
            if *t == UNREADABLE {
                Input {
                    path: PathBuf::from(p),
                    content: Err("cannot read: Permission denied".into()),
                    mode: None,
                    untrusted: None,
                    given: lint::Given::File,
                }
            } else {
                Input::new(*p, *t)
            }
        })
        .collect();
    lint::lint(&inputs, &Options { cluster, target })
}

// Two nodes of an active-active cluster: a masters vhid 1, b vhid 2.
const NODE_A: &str = "hostname=\"a\"\nkld_list=\"carp\"\nifconfig_em0=\"inet 10.0.0.2/24\"\n\
    ifconfig_em0_alias0=\"inet vhid 1 pass s alias 10.0.0.50/32\"\n\
    ifconfig_em0_alias1=\"inet vhid 2 advskew 100 pass s alias 10.0.0.51/32\"\n";
const NODE_B: &str = "hostname=\"b\"\nkld_list=\"carp\"\nifconfig_em0=\"inet 10.0.0.3/24\"\n\
    ifconfig_em0_alias0=\"inet vhid 1 advskew 100 pass s alias 10.0.0.50/32\"\n\
    ifconfig_em0_alias1=\"inet vhid 2 pass s alias 10.0.0.51/32\"\n";
const PREEMPT_ON: &str = "net.inet.carp.preempt=1\n";
const PREEMPT_OFF: &str = "net.inet.carp.preempt=0\n";

/// An rc.conf line with one alias on em0 whose own address is 10.0.0.2/24.
fn alias(value: &str) -> String {
    format!(
        "kld_list=\"carp\"\nifconfig_em0=\"inet 10.0.0.2/24\"\nifconfig_em0_alias0=\"{value}\"\n"
    )
}

const GOOD_ALIAS: &str = "inet vhid 1 advskew 10 pass secret alias 10.0.0.5/32";

const MAN_RULE: &str = "notify 0 {\n\tmatch \"system\" \"CARP\";\n\tmatch \"subsystem\" \"[0-9]+@[0-9a-z]+\";\n\
    \tmatch \"type\" \"(MASTER|BACKUP)\";\n\taction \"/root/carpcontrol.sh $subsystem $type\";\n};\n";
const GOOD_RULE: &str = "notify 0 {\n\tmatch \"system\" \"CARP\";\n\tmatch \"subsystem\" \"[0-9]+@[0-9a-zA-Z._]+\";\n\
    \tmatch \"type\" \"(MASTER|BACKUP|INIT)\";\n\taction \"/root/carpcontrol.sh $subsystem $type\";\n};\n";

const GOOD_TOML: &str = "[cluster]\npreempt = true\n\n[[node]]\nname = \"a\"\n\n[[node]]\nname = \"b\"\n\n\
    [[vip]]\nname = \"v1\"\nvhid = 1\ninterface = \"em0\"\naddresses = [\"192.0.2.50/32\"]\npassword = \"secret\"\n";

/// For one check: files that produce it, files that do not.
pub(crate) struct Case {
    pub(crate) code: Code,
    pub(crate) bad: Vec<(&'static str, String)>,
    pub(crate) good: Vec<(&'static str, String)>,
    pub(crate) cluster: bool,
    /// The release linted for (`--freebsd`), main unless said.
    pub(crate) target: Target,
}

pub(crate) fn case(
    code: Code,
    bad: &[(&'static str, &str)],
    good: &[(&'static str, &str)],
) -> Case {
    let own = |v: &[(&'static str, &str)]| v.iter().map(|(p, t)| (*p, t.to_string())).collect();
    Case {
        code,
        bad: own(bad),
        good: own(good),
        cluster: false,
        target: Target::MAIN,
    }
}

/// A case from owned file lists.
fn case_owned(
    code: Code,
    bad: Vec<(&'static str, String)>,
    good: Vec<(&'static str, String)>,
) -> Case {
    Case {
        code,
        bad,
        good,
        cluster: false,
        target: Target::MAIN,
    }
}

pub(crate) fn rc(code: Code, bad: &str, good: &str) -> Case {
    case(code, &[("rc.conf", bad)], &[("rc.conf", good)])
}

#[allow(clippy::too_many_lines, reason = "a table: one entry per lint code")]
fn cases() -> Vec<Case> {
    let good = alias(GOOD_ALIAS);
    let mut v = vec![
        rc(
            Code::ShSyntax,
            "ifconfig_em0=\"inet 10.0.0.2/24\nhostname=\"x\"\n",
            "ifconfig_em0=\"inet 10.0.0.2/24\"\nhostname=\"x\"\n",
        ),
        rc(
            Code::TypographicQuote,
            "ifconfig_em0=“inet 10.0.0.2/24”\n",
            "ifconfig_em0=\"inet 10.0.0.2/24\"\n",
        ),
        rc(
            Code::DuplicateAssignment,
            "hostname=\"a\"\nhostname=\"b\"\n",
            "hostname=\"a\"\n",
        ),
        rc(
            Code::NotEvaluated,
            ". /etc/rc.conf.local\nhostname=\"a\"\n",
            "hostname=\"a\"\n",
        ),
        case(
            Code::Unreadable,
            &[("rc.conf", UNREADABLE)],
            &[("rc.conf", "hostname=\"a\"\n")],
        ),
        case(
            Code::UnknownKind,
            &[("notes.txt", "hello\n")],
            &[("notes.txt", "hostname=\"a\"\n")],
        ),
        rc(
            Code::MissingValue,
            &alias("inet vhid 1 advskew pass secret alias 10.0.0.5/32"),
            &good,
        ),
        rc(
            Code::BadValue,
            &alias("inet vhid 300 pass secret alias 10.0.0.5/32"),
            &good,
        ),
        rc(
            Code::VhidFirst,
            &alias("inet advskew 10 vhid 1 pass secret alias 10.0.0.5/32"),
            &good,
        ),
        rc(
            Code::NoAddress,
            &alias("inet vhid 1 advskew 10 pass secret alias"),
            &good,
        ),
        rc(
            Code::NotAnAddress,
            &alias("inet vhid 1 advskew 10 pass secret oops alias 10.0.0.5/32"),
            &good,
        ),
        rc(
            Code::PasswordLength,
            &alias("inet vhid 1 pass 01234567890123456789 alias 10.0.0.5/32"),
            &alias("inet vhid 1 pass 0123456789012345678 alias 10.0.0.5/32"),
        ),
        rc(
            Code::SkewTooHigh,
            &alias("inet vhid 1 advskew 240 pass secret alias 10.0.0.5/32"),
            &alias("inet vhid 1 advskew 239 pass secret alias 10.0.0.5/32"),
        ),
        rc(
            Code::VrrpMixed,
            &alias("inet vhid 1 carpver 3 pass secret alias 10.0.0.5/32"),
            &alias("inet vhid 1 carpver 3 vrrpprio 100 alias 10.0.0.5/32"),
        ),
        rc(
            Code::NoPassword,
            &alias("inet vhid 1 advskew 10 alias 10.0.0.5/32"),
            &good,
        ),
        rc(
            Code::DuplicateVhid,
            &format!(
                "{}ifconfig_em0_alias1=\"inet vhid 1 advskew 20 pass secret alias 10.0.0.6/32\"\n",
                good
            ),
            &format!(
                "{}ifconfig_em0_alias1=\"inet vhid 1 advskew 10 pass secret alias 10.0.0.6/32\"\n",
                good
            ),
        ),
        rc(
            Code::MissingInet,
            &alias("vhid 1 advskew 10 pass secret alias 10.0.0.5/32"),
            &good,
        ),
        rc(
            Code::AliasesIgnored,
            "kld_list=\"carp\"\nifconfig_em0_aliases=\"vhid 1 pass s 10.0.0.5/32\"\n",
            "kld_list=\"carp\"\nifconfig_em0_aliases=\"inet vhid 1 pass s 10.0.0.5/32\"\n",
        ),
        rc(Code::AliasGap, &good.replace("alias0", "alias1"), &good),
        rc(
            Code::VipOutsideSubnet,
            &alias("inet vhid 1 advskew 10 pass secret alias 10.9.0.5/32"),
            &good,
        ),
        rc(
            Code::Ucarp,
            "ucarp_enable=\"YES\"\nucarp_vhid=\"1\"\n",
            &good,
        ),
        rc(
            Code::LegacySyntax,
            "ifconfig_em0=\"inet 10.0.0.2/24\"\ncloned_interfaces=\"carp0\"\nifconfig_carp0=\"vhid 1 pass s 10.0.0.5/24\"\nkld_list=\"carp\"\n",
            &good,
        ),
        case(
            Code::IfCarpLoad,
            &[
                ("rc.conf", &good),
                ("loader.conf", "if_carp_load=\"YES\"\n"),
            ],
            &[("rc.conf", &good), ("loader.conf", "carp_load=\"YES\"\n")],
        ),
        case(
            Code::CarpNotLoaded,
            &[
                ("rc.conf", &good.replace("kld_list=\"carp\"\n", "")),
                ("loader.conf", "zfs_load=\"YES\"\n"),
            ],
            &[
                ("rc.conf", &good.replace("kld_list=\"carp\"\n", "")),
                ("loader.conf", "carp_load=\"YES\"\n"),
            ],
        ),
        rc(
            Code::CarpLoadUnknown,
            &good.replace("kld_list=\"carp\"\n", ""),
            &good,
        ),
        case(
            Code::SysctlValue,
            &[("sysctl.conf", "net.inet.carp.dscp=99\n")],
            &[("sysctl.conf", "net.inet.carp.dscp=40\n")],
        ),
        case(
            Code::SysctlUnknown,
            &[("sysctl.conf", "net.inet.carp.arpbalance=1\n")],
            &[("sysctl.conf", "net.inet.carp.log=2\n")],
        ),
        case(
            Code::DemotionAtBoot,
            &[("sysctl.conf", "net.inet.carp.demotion=10\n")],
            &[("sysctl.conf", PREEMPT_ON)],
        ),
        case(
            Code::PreemptOff,
            &[
                ("a.rc.conf", NODE_A),
                ("a.sysctl.conf", PREEMPT_OFF),
                ("b.rc.conf", NODE_B),
                ("b.sysctl.conf", PREEMPT_OFF),
            ],
            &[
                ("a.rc.conf", NODE_A),
                ("a.sysctl.conf", PREEMPT_ON),
                ("b.rc.conf", NODE_B),
                ("b.sysctl.conf", PREEMPT_ON),
            ],
        ),
        case(
            Code::PreemptUnknown,
            &[("a.rc.conf", NODE_A), ("b.rc.conf", NODE_B)],
            &[
                ("a.rc.conf", NODE_A),
                ("a.sysctl.conf", PREEMPT_ON),
                ("b.rc.conf", NODE_B),
                ("b.sysctl.conf", PREEMPT_ON),
            ],
        ),
        case(
            Code::PreemptMismatch,
            &[
                ("a.rc.conf", NODE_A),
                ("a.sysctl.conf", PREEMPT_ON),
                ("b.rc.conf", NODE_B),
                ("b.sysctl.conf", PREEMPT_OFF),
            ],
            &[
                ("a.rc.conf", NODE_A),
                ("a.sysctl.conf", PREEMPT_ON),
                ("b.rc.conf", NODE_B),
                ("b.sysctl.conf", PREEMPT_ON),
            ],
        ),
        case(
            Code::DevdSyntax,
            &[("devd.conf", &GOOD_RULE.replace("};", "}"))],
            &[("devd.conf", GOOD_RULE)],
        ),
        case(
            Code::DevdRegexNarrow,
            &[(
                "devd.conf",
                &MAN_RULE.replace("(MASTER|BACKUP)", "(MASTER|BACKUP|INIT)"),
            )],
            &[("devd.conf", GOOD_RULE)],
        ),
        case(
            Code::DevdLegacyIfnet,
            &[(
                "devd.conf",
                "notify 0 {\n\tmatch \"system\" \"IFNET\";\n\tmatch \"subsystem\" \"carp[0-9]+\";\n\taction \"x\";\n};\n",
            )],
            &[("devd.conf", GOOD_RULE)],
        ),
        case(
            Code::DevdNoInit,
            &[("devd.conf", MAN_RULE)],
            &[("devd.conf", GOOD_RULE)],
        ),
        case(
            Code::DevdBadRegex,
            &[(
                "devd.conf",
                &GOOD_RULE.replace("(MASTER|BACKUP|INIT)", "(MASTER|BACKUP"),
            )],
            &[("devd.conf", GOOD_RULE)],
        ),
        case_owned(
            Code::PasswordMismatch,
            a_b(
                NODE_A,
                &NODE_B.replace("pass s alias 10.0.0.50", "pass t alias 10.0.0.50"),
            ),
            a_b(NODE_A, NODE_B),
        ),
        case_owned(
            Code::AddressMismatch,
            a_b(
                NODE_A,
                &NODE_B.replace("alias 10.0.0.51/32", "alias 10.0.0.51/32 10.0.0.52/32"),
            ),
            a_b(NODE_A, NODE_B),
        ),
        case_owned(
            Code::SkewTie,
            a_b(NODE_A, &NODE_B.replace("vhid 1 advskew 100", "vhid 1")),
            a_b(NODE_A, NODE_B),
        ),
        case(
            Code::ClusterFileError,
            &[("carpctl.toml", &GOOD_TOML.replace("vhid = 1", "vhid = 300"))],
            &[("carpctl.toml", GOOD_TOML)],
        ),
        case(
            Code::ClusterFileWarning,
            &[(
                "carpctl.toml",
                &GOOD_TOML.replace("preempt = true", "preempt = false"),
            )],
            &[("carpctl.toml", GOOD_TOML)],
        ),
    ];
    // Only with --cluster: a vhid one node carries alone.
    let mut single = case_owned(
        Code::SingleNodeVhid,
        a_b(
            NODE_A,
            &NODE_B.replace(
                "ifconfig_em0_alias1=\"inet vhid 2 pass s alias 10.0.0.51/32\"\n",
                "",
            ),
        ),
        a_b(NODE_A, NODE_B),
    );
    single.cluster = true;
    v.push(single);
    v.extend(election_cases());
    v
}

/// Issue 12 item 5: unicast peers and VRRPv3 across nodes, and the target
/// release (tests/it/lint_election.rs has more).
fn election_cases() -> Vec<Case> {
    // a: 10.0.0.2, b: 10.0.0.3 (NODE_A, NODE_B).
    let peers = |pa: &str, pb: &str| {
        a_b(
            &NODE_A.replace(
                "vhid 1 pass s alias",
                &format!("vhid 1 pass s peer {pa} alias"),
            ),
            &NODE_B.replace(
                "vhid 1 advskew 100 pass s alias",
                &format!("vhid 1 advskew 100 pass s peer {pb} alias"),
            ),
        )
    };
    let vrrp = |b: &str| {
        a_b(
            &NODE_A.replace("vhid 1 pass s alias", "vhid 1 carpver 3 vrrpprio 200 alias"),
            &NODE_B.replace(
                "vhid 1 advskew 100 pass s alias",
                &format!("vhid 1 {b} alias"),
            ),
        )
    };
    let mut on_14 = case_owned(
        Code::NotOnTarget,
        vrrp("carpver 3 vrrpprio 100"),
        a_b(NODE_A, NODE_B),
    );
    on_14.target = Target {
        label: "14",
        vrrp: false,
        unicast: true,
        legacy: false,
    };
    vec![
        case_owned(
            Code::PeerMismatch,
            peers("10.0.0.9", "10.0.0.2"),
            peers("10.0.0.3", "10.0.0.2"),
        ),
        case_owned(
            Code::ProtocolMismatch,
            vrrp("advskew 100 pass s"),
            vrrp("carpver 3 vrrpprio 100"),
        ),
        case_owned(
            Code::VrrpPriorityTie,
            vrrp("carpver 3 vrrpprio 200"),
            vrrp("carpver 3 vrrpprio 100"),
        ),
        case_owned(
            Code::IntervalMismatch,
            vrrp("carpver 3 vrrpprio 100 vrrpinterval 50"),
            vrrp("carpver 3 vrrpprio 100"),
        ),
        on_14,
    ]
}

/// Two nodes' rc.conf files.
fn a_b(a: &str, b: &str) -> Vec<(&'static str, String)> {
    vec![("a.rc.conf", a.to_string()), ("b.rc.conf", b.to_string())]
}

fn leak<'a>(files: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    files.iter().map(|(p, t)| (*p, t.as_str())).collect()
}

#[test]
fn every_check_has_a_failing_and_a_passing_input() {
    let mut cases = cases();
    cases.extend(crate::lint_rules::cases());
    let covered: BTreeSet<Code> = cases.iter().map(|c| c.code).collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !covered.contains(c))
        .map(|c| c.id())
        .collect();
    assert!(
        missing.is_empty(),
        "checks without a test case: {missing:?}"
    );
    for c in &cases {
        let bad = lint_files_on(&leak(&c.bad), c.cluster, c.target);
        assert!(
            bad.iter().any(|f| f.code == c.code),
            "{}: the failing input does not produce it: {bad:#?}",
            c.code
        );
        let good = lint_files_on(&leak(&c.good), c.cluster, c.target);
        assert!(
            !good.iter().any(|f| f.code == c.code),
            "{}: the passing input produces it: {good:#?}",
            c.code
        );
        for f in bad.iter().chain(&good) {
            assert!(f.line >= 1 && f.column >= 1, "{f}");
            assert!(!f.message.is_empty(), "{f}");
        }
    }
}

#[test]
fn the_passing_inputs_of_the_rc_conf_checks_are_clean() {
    // Not just free of the one code: the reference alias line has nothing
    // to say at all, so every failing input differs from it by one thing.
    let good = alias(GOOD_ALIAS);
    assert!(lint_files(&[("rc.conf", &good)], false).is_empty());
    let both = lint_files(
        &[
            ("a.rc.conf", NODE_A),
            ("a.sysctl.conf", PREEMPT_ON),
            ("b.rc.conf", NODE_B),
            ("b.sysctl.conf", PREEMPT_ON),
        ],
        false,
    );
    assert!(both.is_empty(), "{both:#?}");
}

#[test]
fn passwords_never_appear_in_findings() {
    let secret = "Sup3rS3cretPassw0rd!";
    let files = [
        (
            "a.rc.conf",
            NODE_A.replace("pass s", &format!("pass {secret}")),
        ),
        (
            "b.rc.conf",
            NODE_B.replace(
                "pass s alias 10.0.0.50",
                "pass Xyzzy0therPw alias 10.0.0.50",
            ),
        ),
    ];
    let out = lint_files(&leak(&files), true);
    assert!(out.iter().any(|f| f.code == Code::PasswordMismatch));
    assert!(out.iter().any(|f| f.code == Code::PasswordLength));
    for f in &out {
        assert!(
            !f.message.contains(secret) && !f.message.contains("Xyzzy0therPw"),
            "{f}"
        );
    }
}

/// `FILE:LINE:COLUMN CODE` lines of an expectation file.
fn expected(case: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(Path::new(CORPUS).join(format!("{case}.expected")))
        .expect("expected file");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The corpus cases: name and files, relative to tests/corpus.
fn corpus_cases() -> Vec<(&'static str, Vec<String>)> {
    let dir = |d: &str| {
        let mut files: Vec<String> = std::fs::read_dir(Path::new(CORPUS).join(d))
            .expect("corpus dir")
            .map(|e| format!("{d}/{}", e.expect("entry").file_name().to_string_lossy()))
            .collect();
        files.sort();
        files
    };
    vec![
        (
            "seed",
            vec!["seed-a.rc.conf".into(), "seed-b.rc.conf".into()],
        ),
        ("handbook-10", dir("handbook-10")),
        ("handbook-9", dir("handbook-9")),
        ("handbook-2014", dir("handbook-2014")),
        ("handbook-2007", dir("handbook-2007")),
        ("aaronrenoir-2014", dir("aaronrenoir-2014")),
        ("carp4-devd", dir("carp4-devd")),
    ]
}

fn lint_corpus(files: &[String]) -> Vec<Finding> {
    let inputs: Vec<Input> = files
        .iter()
        .map(|f| {
            Input::new(
                f.clone(),
                std::fs::read_to_string(Path::new(CORPUS).join(f)).expect("corpus file"),
            )
        })
        .collect();
    lint::lint(&inputs, &Options::default())
}

#[test]
fn corpus_files_produce_their_expected_findings() {
    for (case, files) in corpus_cases() {
        let got: BTreeSet<String> = lint_corpus(&files)
            .iter()
            .map(|f| format!("{}:{}:{} {}", f.file.display(), f.line, f.column, f.code))
            .collect();
        let want = expected(case);
        let extra: Vec<&String> = got.difference(&want).collect();
        let missing: Vec<&String> = want.difference(&got).collect();
        assert!(
            extra.is_empty() && missing.is_empty(),
            "corpus case {case}: unexpected {extra:#?}, missing {missing:#?}"
        );
    }
}

#[test]
fn every_corpus_file_is_in_a_case_and_cites_its_source() {
    let cases = corpus_cases();
    let listed: BTreeSet<String> = cases.iter().flat_map(|(_, f)| f.clone()).collect();
    let mut all = Vec::new();
    for e in walk(Path::new(CORPUS)) {
        let rel = e
            .strip_prefix(CORPUS)
            .expect("under corpus")
            .to_string_lossy()
            .trim_start_matches('/')
            .to_string();
        if rel.ends_with(".expected") || rel == "README.md" {
            continue;
        }
        all.push(rel);
    }
    for f in &all {
        assert!(listed.contains(f), "{f} is in no corpus case");
        let text = std::fs::read_to_string(Path::new(CORPUS).join(f)).unwrap();
        assert!(
            text.starts_with("# Source: "),
            "{f} does not start with its source"
        );
    }
    for (case, _) in &cases {
        assert!(
            Path::new(CORPUS).join(format!("{case}.expected")).exists(),
            "{case}.expected"
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

// The seed acceptance (issue 4).

#[test]
fn seed_typo_line_is_an_error_at_that_line() {
    let r = carpctl_in(Path::new(CORPUS), &["lint", "seed-b.rc.conf"]);
    assert_eq!(r.code, 1, "{r:?}");
    let line = "ifconfig_carp0=\"vhid 1 advskew pass my_password1\"";
    let text = std::fs::read_to_string(Path::new(CORPUS).join("seed-b.rc.conf")).unwrap();
    let n = text.lines().position(|l| l == line).expect("the typo line") + 1;
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with(&format!("seed-b.rc.conf:{n}:"))
                && l.contains(": error[CARP010]:")),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("lint: 2 errors"), "{}", r.stderr);
    assert!(!r.stdout.contains("my_password1"), "never show a password");
}

#[test]
fn seed_pair_suggests_migration() {
    let r = carpctl_in(
        Path::new(CORPUS),
        &["lint", "seed-a.rc.conf", "seed-b.rc.conf"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    for f in ["seed-a.rc.conf", "seed-b.rc.conf"] {
        assert!(
            r.stdout.lines().any(|l| l.starts_with(f)
                && l.contains("warning[CARP030]")
                && l.contains("carpctl migrate")),
            "{f}: {}",
            r.stdout
        );
    }
}

#[test]
fn migrated_seed_lints_with_nothing_above_info() {
    let dir = tempfile::tempdir().unwrap();
    let r = carpctl_in(
        Path::new(CORPUS),
        &[
            "migrate",
            "seed-a.rc.conf",
            "--parent",
            "carp0=em0",
            "--parent",
            "carp1=em0",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(
            "ifconfig_em0_alias0=\"inet vhid 1 pass my_password1 alias 192.168.1.50/32\"\n"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(
        "ifconfig_em0_alias1=\"inet vhid 2 advskew 100 pass my_password2 alias 192.168.1.51/32\"\n"
    ));
    assert!(!r.stdout.contains("carp0"), "{}", r.stdout);
    assert!(r.stderr.contains("carp_load=\"YES\""), "{}", r.stderr);
    assert!(!r.stderr.contains("my_password"), "{}", r.stderr);
    let out = dir.path().join("rc.conf");
    std::fs::write(&out, &r.stdout).unwrap();
    let l = carpctl_in(dir.path(), &["lint", "--json", "rc.conf"]);
    assert_eq!(l.code, 0, "{l:?}");
    let v: Value = serde_json::from_str(&l.stdout).unwrap();
    let list = v["findings"].as_array().expect("a JSON list");
    for f in list {
        assert_eq!(f["severity"], "info", "{f}");
    }
}

#[test]
fn migrated_handbook_9_is_the_handbook_10_form_and_lints_clean_as_a_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for h in ["hosta", "hostb", "hostc"] {
        let r = carpctl_in(
            Path::new(CORPUS),
            &["migrate", &format!("handbook-9/{h}.rc.conf")],
        );
        assert_eq!(r.code, 0, "{r:?}");
        let name = format!("{h}.rc.conf");
        std::fs::write(dir.path().join(&name), &r.stdout).unwrap();
        std::fs::write(
            dir.path().join(format!("{h}.loader.conf")),
            "carp_load=\"YES\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(format!("{h}.sysctl.conf")),
            "net.inet.carp.preempt=1\n",
        )
        .unwrap();
        files.extend([name, format!("{h}.loader.conf"), format!("{h}.sysctl.conf")]);
    }
    let c = std::fs::read_to_string(dir.path().join("hostc.rc.conf")).unwrap();
    // The Handbook's own FreeBSD 10 lines for hostc, on its fxp0.
    assert!(
        c.contains(
            "ifconfig_fxp0_alias0=\"inet vhid 1 advskew 100 pass testpass alias 192.168.1.50/32\"\n"
        ),
        "{c}"
    );
    assert!(
        c.contains(
            "ifconfig_fxp0_alias1=\"inet vhid 2 advskew 100 pass testpass alias 192.168.1.51/32\"\n"
        ),
        "{c}"
    );
    let args: Vec<&str> = std::iter::once("lint")
        .chain(files.iter().map(String::as_str))
        .collect();
    let l = carpctl_in(dir.path(), &args);
    assert_eq!((l.code, l.stdout.as_str()), (0, ""), "{l:?}");
}

#[test]
fn migrate_asks_for_an_ambiguous_or_unknown_parent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rc.conf"),
        "ifconfig_em0=\"inet 10.0.0.2/16\"\nifconfig_em1=\"inet 10.0.1.2/24\"\ncloned_interfaces=\"carp0\"\n\
         ifconfig_carp0=\"vhid 1 pass p 10.0.1.50/24\"\n",
    )
    .unwrap();
    let r = carpctl_in(dir.path(), &["migrate", "rc.conf"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("em0 or em1") && r.stderr.contains("--parent carp0=IF"),
        "{}",
        r.stderr
    );
    let r = carpctl_in(dir.path(), &["migrate", "rc.conf", "--parent", "carp0=em1"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("ifconfig_em1_alias0=\"inet vhid 1 pass p alias 10.0.1.50/32\""),
        "{}",
        r.stdout
    );
    // A malformed or unknown --parent is a usage error.
    let r = carpctl_in(dir.path(), &["migrate", "rc.conf", "--parent", "em1"]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = carpctl_in(dir.path(), &["migrate", "rc.conf", "--parent", "carp5=em1"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("configures no carp5"), "{}", r.stderr);
    // The seed's server B has errors on the lines to convert.
    let r = carpctl_in(
        Path::new(CORPUS),
        &[
            "migrate",
            "seed-b.rc.conf",
            "--parent",
            "carp0=em0",
            "--parent",
            "carp1=em0",
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("seed-b.rc.conf:7:24: error[CARP010]"),
        "{}",
        r.stderr
    );
    let r = carpctl_in(dir.path(), &["migrate", "nope.conf"]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn import_of_the_seed_pair_plans_mail_a_first_for_vhid_1() {
    let r = carpctl_in(
        Path::new(CORPUS),
        &[
            "import",
            "mail-a=seed-a.rc.conf",
            "mail-b=seed-b.rc.conf",
            "--parent",
            "carp0=em0",
            "--parent",
            "carp1=em0",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        !r.stdout.contains("my_password") && !r.stderr.contains("my_password"),
        "passwords stay out"
    );
    assert!(
        r.stderr
            .contains("carpctl.d/vhid1.key: the password after `pass` on line 6 of seed-a.rc.conf"),
        "{}",
        r.stderr
    );
    // The cluster file is accepted once the key files exist.
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("carpctl.d");
    std::fs::create_dir(&keys).unwrap();
    for k in ["vhid1", "vhid2"] {
        let p = keys.join(format!("{k}.key"));
        std::fs::write(&p, "secret\n").unwrap();
        set_mode(&p, 0o600);
    }
    let path = dir.path().join("carpctl.toml");
    std::fs::write(&path, &r.stdout).unwrap();
    let cfg = carpctl::config::parse(&r.stdout, &path, Some(0o644))
        .unwrap_or_else(|d| panic!("{d:#?}\n{}", r.stdout));
    let plan = cfg.plan().expect("a plan");
    let v1 = plan.vip("vhid1").expect("vhid1");
    assert_eq!(v1.vhid.get(), 1);
    assert_eq!(v1.order.first().map(String::as_str), Some("mail-a"));
    let v2 = plan.vip("vhid2").expect("vhid2");
    assert_eq!(v2.order.first().map(String::as_str), Some("mail-b"));
    // lint agrees with config::parse on the imported file.
    let l = lint::lint(&[Input::new(&path, r.stdout.clone())], &Options::default());
    assert!(l.iter().all(|f| f.severity() != Severity::Error), "{l:#?}");
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_p: &Path, _mode: u32) {}

#[test]
fn import_needs_a_parent_for_legacy_files_and_unique_names() {
    let r = carpctl_in(
        Path::new(CORPUS),
        &["import", "seed-a.rc.conf", "seed-b.rc.conf"],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--parent carp0=IF"), "{}", r.stderr);
    let r = carpctl_in(
        Path::new(CORPUS),
        &[
            "import",
            "x=seed-a.rc.conf",
            "x=seed-b.rc.conf",
            "--parent",
            "carp0=em0",
            "--parent",
            "carp1=em0",
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("node name \"x\""), "{}", r.stderr);
}

#[test]
fn lint_command_line_forms() {
    let dir = tempfile::tempdir().unwrap();
    let rcp = dir.path().join("rc.conf");
    std::fs::write(&rcp, alias("inet vhid 1 advskew 10 alias 10.0.0.5/32")).unwrap();
    // A warning only: exit 0, or 1 with --strict.
    let r = carpctl_in(dir.path(), &["lint", "rc.conf"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(
        r.stdout.starts_with("rc.conf:3:27: warning[CARP018]: "),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("0 errors, 1 warning, 0 info"),
        "{}",
        r.stderr
    );
    let r = carpctl_in(dir.path(), &["lint", "--strict", "rc.conf"]);
    assert_eq!(r.code, 1, "{r:?}");
    let r = carpctl_in(dir.path(), &["lint", "--json", "rc.conf"]);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let v = &doc["findings"];
    let keys: Vec<&str> = v[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 6);
    for k in ["file", "line", "column", "severity", "code", "message"] {
        assert!(keys.contains(&k), "{keys:?}");
    }
    assert_eq!(v[0]["code"], "CARP018");
    assert_eq!(v[0]["line"], 3);
    // Clean: nothing on stdout, exit 0, JSON an empty list.
    std::fs::write(&rcp, alias(GOOD_ALIAS)).unwrap();
    let r = carpctl_in(dir.path(), &["lint", "rc.conf"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "", ""),
        "{r:?}"
    );
    let r = carpctl_in(dir.path(), &["lint", "--json", "rc.conf"]);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["findings"], serde_json::json!([]), "{doc}");
    assert_eq!(
        doc["nodes"],
        serde_json::json!([{"name": "rc.conf", "files": ["rc.conf"],
            "grouped_by": "alone", "named_by": "file"}]),
        "{doc}"
    );
    // A missing file is a finding (exit 1), not a crash.
    let r = carpctl_in(dir.path(), &["lint", "gone.conf"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("error[CARP005]"), "{}", r.stdout);
    // Without FILE: the cluster file.
    let r = carpctl_in(dir.path(), &["-c", "nope.toml", "lint"]);
    assert!(
        r.stdout.starts_with("nope.toml:1:1: error[CARP005]"),
        "{r:?}"
    );
}

#[test]
fn every_code_is_in_the_man_page() {
    let man = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/carpctl.8"))
        .expect("man/carpctl.8");
    let missing: Vec<String> = Code::ALL
        .iter()
        .filter(|c| !(man.contains(c.id()) && man.contains(c.name())))
        .map(|c| format!("{} {}", c.id(), c.name()))
        .collect();
    assert!(
        missing.is_empty(),
        "codes not in man/carpctl.8: {missing:?}"
    );
}

// Never panic, whatever the input.

fn all_parsers(text: &str) {
    let _ = carpctl::rcconf::sh::parse(text);
    let _ = carpctl::rcconf::ifconfig::parse(&carpctl::rcconf::ifconfig::split(text), None);
    let _ = lint::rcconf::analyze(text);
    let _ = lint::loader::loader(text);
    let _ = lint::sysctl::sysctl(text);
    let _ = lint::devd::devd(text);
    let inputs = vec![
        Input::new("a.rc.conf", text),
        Input::new(
            "b/rc.conf",
            format!("{text}\nifconfig_em0=\"inet 10.0.0.2/24\"\n"),
        ),
        Input::new("loader.conf", text),
        Input::new("sysctl.conf", text),
        Input::new("devd.conf", text),
        Input::new("x.toml", text),
        Input::new("unknown", text),
    ];
    let _ = lint::lint(
        &inputs,
        &Options {
            cluster: true,
            ..Options::default()
        },
    );
    let mut parents = BTreeMap::new();
    parents.insert("carp0".to_string(), "em0".to_string());
    let _ = migrate::migrate(Path::new("rc.conf"), text, &parents);
    let _ = migrate::migrate(Path::new("rc.conf"), text, &BTreeMap::new());
    let nodes = [
        ImportNode {
            name: None,
            path: "a.rc.conf".into(),
            text: text.to_string(),
        },
        ImportNode {
            name: Some("b".into()),
            path: "b.rc.conf".into(),
            text: NODE_B.to_string(),
        },
    ];
    let _ = migrate::import(&nodes, &parents);
}

/// Pieces of the files lint reads, to build inputs that get past the first
/// character.
fn fragment() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "ifconfig_em0=",
        "ifconfig_em0_alias0=",
        "ifconfig_em0_alias7=",
        "ifconfig_em0_aliases=",
        "ifconfig_carp0=",
        "ifconfig_em0_100_alias1=",
        "ifconfig_em0_ipv6=",
        "cloned_interfaces=",
        "vlans_em0=",
        "kld_list=",
        "hostname=",
        "ucarp_vhid=",
        "carp_load=",
        "if_carp_load=",
        "net.inet.carp.preempt=",
        "net.inet.carp.dscp=",
        "notify 0 {",
        "};",
        "match \"system\" \"CARP\";",
        "match \"subsystem\" \"",
        "\"",
        "'",
        "\\",
        "\\\n",
        "\n",
        " ",
        "\t",
        "#",
        ";",
        "{",
        "}",
        "$",
        "${x}",
        "“",
        "”",
        "inet",
        "inet6",
        "vhid",
        "advskew",
        "advbase",
        "pass",
        "state",
        "peer",
        "peer6",
        "carpver",
        "vrrpprio",
        "vrrpinterval",
        "alias",
        "-alias",
        "netmask",
        "prefixlen",
        "0",
        "1",
        "3",
        "100",
        "240",
        "255",
        "256",
        "4096",
        "-1",
        "10.0.0.2/24",
        "10.0.0.5",
        "10.0.0.5-9/32",
        "10.0.0.9-3",
        "/33",
        "2001:db8::1",
        "2001:db8::a-c",
        "fe80::1%em0",
        "0xffffff00",
        "255.255.255.0",
        "master",
        "x",
        "é",
        "[0-9]+@[a-z]+",
        "(",
        ")",
        "*",
        "!",
        "=",
        "carp0",
        "carp1",
    ])
    .prop_map(str::to_string)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        all_parsers(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn parsers_never_panic_on_config_like_text(parts in prop::collection::vec(fragment(), 0..60)) {
        all_parsers(&parts.concat());
    }
}

#[test]
fn quoted_file_text_is_escaped_in_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rc.conf"),
        "ifconfig_em0=\"inet 192.0.2.3/24\"\n\
         ifconfig_em0_alias0=\"inet vhid 1 advskew 1\u{202e}0 pass x alias 192.0.2.1\u{1b}[31m/32\"\n",
    )
    .unwrap();
    let r = carpctl_in(dir.path(), &["lint", "rc.conf"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("advskew `1\\u{202e}0`"), "{}", r.stdout);
    assert!(
        r.stdout.contains("`192.0.2.1\\u{1b}[31m/32`"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains('\u{202e}') && !r.stdout.contains('\u{1b}'),
        "{r:?}"
    );
    let r = carpctl_in(dir.path(), &["lint", "--json", "rc.conf"]);
    assert!(!r.stdout.contains('\u{202e}'), "{}", r.stdout);
    assert!(r.stdout.contains("1\\\\u{202e}0"), "{}", r.stdout);
}
