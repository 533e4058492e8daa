//! Tests of the devd.conf checks.

use super::parse::DEVD_DEPTH_MAX;
use super::pattern::{check_syntax, compile, posix_to_rust};
use super::*;

fn codes(issues: &[Issue]) -> Vec<(Code, usize)> {
    issues.iter().map(|i| (i.code, i.pos.line)).collect()
}

const MAN_RULE: &str = "notify 0 {\n\
    \tmatch \"system\"          \"CARP\";\n\
    \tmatch \"subsystem\"       \"[0-9]+@[0-9a-z]+\";\n\
    \tmatch \"type\"            \"(MASTER|BACKUP)\";\n\
    \taction \"/root/carpcontrol.sh $subsystem $type\";\n};\n";

#[test]
fn the_man_page_rule_is_too_narrow_and_ignores_init() {
    let i = devd(MAN_RULE);
    assert_eq!(
        codes(&i),
        [(Code::DevdRegexNarrow, 3), (Code::DevdNoInit, 4)]
    );
    assert_eq!(i[0].pos.column, 26);
    assert!(
        i[0].message.contains("5@em0.100 or 1@lagg0_vlan210"),
        "{}",
        i[0].message
    );
    let good = MAN_RULE
        .replace("[0-9]+@[0-9a-z]+", GOOD_SUBSYSTEM)
        .replace("(MASTER|BACKUP)", "(MASTER|BACKUP|INIT)");
    assert!(devd(&good).is_empty(), "{:?}", devd(&good));
    // A rule for one interface on purpose is not "narrow".
    let one = MAN_RULE
        .replace("[0-9]+@[0-9a-z]+", "[0-9]+@em0")
        .replace("(MASTER|BACKUP)", ".*");
    assert!(devd(&one).is_empty());
}

#[test]
fn legacy_ifnet_rules() {
    let src = "notify 0 {\n\tmatch \"system\" \"IFNET\";\n\tmatch \"type\" \"LINK_UP\";\n\
               \tmatch \"subsystem\" \"carp*\";\n\taction \"/root/carpcontrol.sh $type $subsystem\";\n};\n";
    let i = devd(src);
    assert_eq!(codes(&i), [(Code::DevdLegacyIfnet, 4)]);
    assert!(
        i[0].message.contains("never matched carp0"),
        "{}",
        i[0].message
    );
    let i = devd(&src.replace("carp*", "carp[0-9]+"));
    assert_eq!(codes(&i), [(Code::DevdLegacyIfnet, 4)]);
    assert!(!i[0].message.contains("never matched"));
    // IFNET rules for other interfaces are none of our business.
    assert!(devd(&src.replace("carp*", "em[0-9]+")).is_empty());
}

#[test]
fn devd_syntax_errors() {
    for (src, line) in [
        ("notify 0 {\n match \"system\" \"CARP\";\n}\n", 1),
        ("notify 0 {\n match \"system\" \"CARP\"\n};\n", 2),
        ("notify 0 {\n match \"system\" \"CARP\";\n", 1),
        ("};\n", 1),
        ("/* x\n", 1),
        ("notify 0 { match \"system\" \"CARP;\n", 1),
    ] {
        let i = devd(src);
        assert_eq!(
            codes(&i).first(),
            Some(&(Code::DevdSyntax, line)),
            "{src:?}: {i:?}"
        );
    }
    // The shipped devd.conf's constructs parse.
    let shipped = "options {\n\tdirectory \"/etc/devd\";\n\tset wifi-driver-regex\n\t\t\"(ath|bwi)[0-9]+\";\n};\n\
                   # c\n/* EXAMPLES\nnotify 10 { };\n*/\n\
                   notify 0 {\n\tmatch \"system\"\t\t\"IFNET\";\n\tmatch \"subsystem\"\t\"!(usbus|wlan)[0-9]+\";\n\
                   \tmatch \"type\"\t\t\"ATTACH\";\n\taction \"/etc/pccard_ether $subsystem start\";\n};\n\
                   attach 0 {\n\tdevice-name \"$wifi-driver-regex\";\n\taction \"x\";\n};\n";
    assert!(devd(shipped).is_empty(), "{:?}", devd(shipped));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // 25 000 `{` overflowed the stack (exit 134).
    let src = format!("notify 0 {}\n", "{".repeat(25_000));
    let i = devd(&src);
    let deep: Vec<&Issue> = i
        .iter()
        .filter(|x| x.message.contains("nest more than 64 levels"))
        .collect();
    assert_eq!(deep.len(), 1, "{i:?}");
    assert_eq!(deep[0].code, Code::DevdSyntax);
    assert_eq!((deep[0].pos.line, deep[0].pos.column), (1, 10 + 64));
    // The same with every block closed, on several lines, and what
    // follows the deep block is still read.
    let closed = format!(
        "notify 0 {}\n{};\nnotify 1 {{ match \"system\" \"CARP\" }};\n",
        "{".repeat(25_000),
        "};".repeat(25_000)
    );
    let i = devd(&closed);
    assert!(
        i.iter().any(|x| x.message.contains("nest more than 64")),
        "{i:?}"
    );
    assert!(
        i.iter()
            .any(|x| x.pos.line == 3 && x.code == Code::DevdSyntax),
        "the statement after the deep block is read: {i:?}"
    );
    // 64 levels are read; the 65th is refused.
    let at = |n: usize| format!("x {}{}\n", "{ ".repeat(n), "}; ".repeat(n));
    assert!(devd(&at(DEVD_DEPTH_MAX)).is_empty(), "{:?}", devd(&at(64)));
    assert_eq!(devd(&at(DEVD_DEPTH_MAX + 1)).len(), 1);
}

#[test]
fn bad_regexes_are_reported() {
    let i = devd("notify 0 { match \"system\" \"CARP\"; match \"subsystem\" \"([0-9]+\"; };\n");
    assert_eq!(codes(&i), [(Code::DevdBadRegex, 1)]);
}

#[test]
fn regexes_too_large_to_check_are_not_called_invalid() {
    // Valid for devd; compiled it would pass REGEX_SIZE_LIMIT.
    let big = "(a{1000}){30}";
    assert!(check_syntax(big).is_ok());
    assert!(compile(big).is_none());
    let i = devd(&format!(
        "notify 0 {{ match \"system\" \"CARP\"; match \"type\" \"{big}\"; \
         match \"x\" \"{big}\"; }};\n"
    ));
    assert!(i.is_empty(), "{i:?}");
}

#[test]
fn a_devd_file_compiles_a_bounded_number_of_regexes() {
    // Each CARP rule compiles 3 (system, subsystem, type): the rules
    // past MAX_COMPILED / 3 are not checked, and one note says so.
    let rule = "notify 0 { match \"system\" \"CARP\"; match \"subsystem\" \"[0-9]+@[a-z0-9]+\"; \
                match \"type\" \"MASTER\"; action \"x\"; };\n";
    let rules = MAX_COMPILED / 3 + 10;
    let i = devd(&rule.repeat(rules));
    let narrow = i.iter().filter(|x| x.code == Code::DevdRegexNarrow).count();
    assert_eq!(narrow, MAX_COMPILED / 3);
    let note: Vec<&Issue> = i.iter().filter(|x| x.code == Code::NotEvaluated).collect();
    assert_eq!(note.len(), 1, "{note:?}");
    // The first rule past the limit: its system regex was the last.
    assert_eq!(note[0].pos.line, MAX_COMPILED / 3 + 1);
}

#[test]
fn unclosed_posix_classes_translate() {
    // Each "[:" without ":]" is a literal "[" (searched once, not once
    // per "[:").
    assert_eq!(posix_to_rust("[[:a[:b]"), "[\\[:a\\[:b]");
    // ...and one that finds a later ":]" copies through to it.
    assert_eq!(posix_to_rust("[[:a[:digit:]]"), "[[:a[:digit:]]");
    let long = format!("[{}]", "[:x".repeat(10_000));
    assert_eq!(posix_to_rust(&long).matches("\\[:").count(), 10_000);
}

#[test]
fn posix_brackets_translate() {
    assert_eq!(posix_to_rust("[a\\b]"), "[a\\\\b]");
    assert_eq!(posix_to_rust("[]a]"), "[\\]a]");
    assert_eq!(posix_to_rust("[[:alpha:]_]+"), "[[:alpha:]_]+");
    assert_eq!(posix_to_rust("a\\.b"), "a\\.b");
    let re = compile("[[:digit:]]+@[a-z0-9.]+").unwrap();
    assert!(re.is_match("1@em0.100") && !re.is_match("x1@em0"));
    let neg = compile("!(usbus|wlan)[0-9]+").unwrap();
    assert!(neg.is_match("em0") && !neg.is_match("wlan0"));
}
