//! Tests of the value rules of [`crate::config::rules`] as the cluster file applies
//! them: each refused input at its file:line:col, escaped in the message,
//! and the inputs next to it that stay accepted.

use super::testutil::*;
use crate::config::*;

/// The one error of `text`, which must start at the first `at`.
fn one_error(text: &str, at: &str) -> String {
    let f = Fixture::new(text, 0o600);
    let e: Vec<String> = f
        .errors()
        .into_iter()
        .filter(|m| !m.contains(": warning: "))
        .collect();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(e[0].starts_with(&f.at(at)), "want {} in {e:#?}", f.at(at));
    e[0].clone()
}

fn warnings_of(text: &str) -> Vec<String> {
    Fixture::new(text, 0o600).warnings()
}

// ----- control and bidi characters in names (issue 9, item 5) -------------

#[test]
fn a_bidi_override_in_a_vip_name_is_refused_and_escaped() {
    let text = one_vip("").replace("\"v1\"", "\"mail\u{202e}1gnp\"");
    let e = one_error(&text, "\"mail");
    assert!(e.contains("\\u{202e}"), "{e}");
    assert!(e.contains("vip #1: name contains the control or bidirectional-text character"));
    assert!(!e.contains('\u{202e}'), "raw override in {e:?}");
}

#[test]
fn control_characters_in_node_check_and_interface_names_are_refused() {
    // A TOML escape puts the character into the value.
    let node = one_vip("").replace("name = \"b\"", "name = \"b\\r\\nforged\"");
    let e = one_error(&node, "\"b\\r");
    assert!(
        e.contains("node #2: name contains") && e.contains("\\r"),
        "{e}"
    );
    assert!(!e.contains('\r') && !e.contains('\n'), "{e:?}");

    let check = format!(
        "{}[[check]]\nname = \"smtp\\u0000\"\ntype = \"tcp\"\naddress = \"127.0.0.1:25\"\n",
        one_vip("")
    );
    let e = one_error(&check, "\"smtp");
    assert!(
        e.contains("check #1: name contains") && e.contains("\\0"),
        "{e}"
    );
    assert!(!e.contains('\0'), "{e:?}");

    let logical = one_vip("").replace("\"em0\"", "\"l\\u2066an\"").replace(
        "name = \"a\"\n",
        "name = \"a\"\ninterfaces = { \"l\\u2066an\" = \"em0\" }\n",
    );
    let f = Fixture::new(&logical, 0o600);
    let e = f.errors();
    assert!(
        e.iter().any(
            |m| m.contains("node \"a\": interfaces: a logical interface name contains")
                && m.contains("\\u{2066}")
        ),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|m| m.contains("vip \"v1\": interface contains")),
        "{e:#?}"
    );
    assert!(e.iter().all(|m| !m.contains('\u{2066}')), "{e:#?}");

    let real = one_vip("").replace(
        "name = \"a\"\n",
        "name = \"a\"\ninterfaces = { em0 = \"em\\u202e0\" }\n",
    );
    let e = one_error(&real, "\"em\\u202e0\"");
    assert!(e.contains("the interface name has '\\u{202e}'"), "{e}");
}

#[test]
fn messages_quoting_bad_values_escape_them() {
    // CR LF in a check URL: refused, and quoted escaped.
    let url = format!(
        "{}[[check]]\nname = \"web\"\ntype = \"http\"\nurl = \"http://127.0.0.1/\\r\\nX-Forged: 1\"\n",
        one_vip("")
    );
    let e = one_error(&url, "\"http://");
    assert!(
        e.contains(
            "url \"http://127.0.0.1/\\r\\nX-Forged: 1\" contains spaces, control or bidirectional-text characters"
        ),
        "{e}"
    );
    // A bidi override in a URL: refused too.
    let url = format!(
        "{}[[check]]\nname = \"web\"\ntype = \"http\"\nurl = \"http://127.0.0.1/\\u202e\"\n",
        one_vip("")
    );
    let e = one_error(&url, "\"http://");
    assert!(
        e.contains("url \"http://127.0.0.1/\\u{202e}\" contains spaces"),
        "{e}"
    );
    // NUL and ESC in an address and an unknown key.
    let addr = one_vip("").replace("\"192.0.2.1/32\"", "\"192.0.2.1\\u0000\\u001b[2J\"");
    let e = one_error(&addr, "\"192.0.2.1\\u0000");
    assert!(e.contains("\"192.0.2.1\\0\\u{1b}[2J\""), "{e}");
    let key = one_vip("").replace("vhid = 1", "vhid = 1\n\"x\\u202ey\" = 1");
    let f = Fixture::new(&key, 0o600);
    let e = f.errors();
    assert!(e.iter().any(|m| m.contains("x\\u{202e}y")), "{e:#?}");
    assert!(e.iter().all(|m| !m.contains('\u{202e}')), "{e:#?}");
    // The JSON form carries the same escaped text.
    let d = f.load().unwrap_err();
    let json = serde_json::to_string(&d).unwrap();
    assert!(!json.contains('\u{202e}'), "{json}");
    assert!(json.contains("vip[0].x\\\\u{202e}y"), "{json}");
}

// ----- name lengths (issue 9, item 13) --------------------------------------

#[test]
fn names_longer_than_their_limit_are_refused() {
    let e = one_error(
        &one_vip("").replace("\"v1\"", &format!("\"{}\"", "v".repeat(65))),
        "\"vvv",
    );
    assert!(
        e.ends_with("vip #1: name is 65 bytes long; at most 64 are allowed"),
        "{e}"
    );
    let huge = "v".repeat(70_000);
    let e = one_error(
        &one_vip("").replace("\"v1\"", &format!("\"{huge}\"")),
        "\"vvv",
    );
    assert!(e.contains("name is 70000 bytes long"), "{}", &e[..200]);
    assert!(e.len() < 300, "the name is not quoted: {} bytes", e.len());
    let e = one_error(
        &one_vip("").replace("\"b\"", &format!("\"{}\"", "n".repeat(256))),
        "\"nnn",
    );
    assert!(
        e.ends_with("node #2: name is 256 bytes long; at most 255 are allowed"),
        "{e}"
    );
    let e = one_error(
        &format!(
            "{}[[check]]\nname = \"{}\"\ntype = \"tcp\"\naddress = \"127.0.0.1:25\"\n",
            one_vip(""),
            "c".repeat(65)
        ),
        "\"ccc",
    );
    assert!(e.contains("check #1: name is 65 bytes long"), "{e}");
    // At the limits, fine.
    let ok = one_vip("")
        .replace("\"v1\"", &format!("\"{}\"", "v".repeat(64)))
        .replace("\"b\"", &format!("\"{}\"", "n".repeat(255)));
    assert!(Fixture::new(&ok, 0o600).load().is_ok());
}

// ----- node names that differ only in case (item 17) ------------------------

#[test]
fn node_names_differing_only_in_case_are_one_host() {
    let text = one_vip("").replace("name = \"b\"", "name = \"A\"");
    let e = one_error(&text, "\"A\"");
    assert!(
        e.ends_with(
            "node \"A\": node name \"A\" differs from \"a\" (line 2) only in case; host \
             names are case-insensitive (RFC 4343), so both name the same host"
        ),
        "{e}"
    );
}

// ----- addresses (item 17) ----------------------------------------------------

#[test]
fn addresses_no_host_can_take_over_are_errors_at_their_position() {
    let cases = [
        ("192.0.2.1/0", "address 192.0.2.1 has prefix length 0"),
        ("2001:db8::1/0", "address 2001:db8::1 has prefix length 0"),
        (
            "192.0.2.0/24",
            "address 192.0.2.0 is the network address of its subnet",
        ),
        (
            "192.0.2.255/24",
            "address 192.0.2.255 is the broadcast address of its subnet",
        ),
        ("240.0.0.1/32", "is in 240.0.0.0/4, reserved (\"class E\""),
        ("0.1.2.3/32", "is in 0.0.0.0/8, \"this network\""),
        ("::ffff:192.0.2.1/128", "is an IPv4-mapped IPv6 address"),
        ("fe80::51/64", "address fe80::51 is link-local (fe80::/10)"),
        ("127.0.0.5/32", "is a loopback address"),
        ("224.0.0.18/32", "is a multicast address"),
    ];
    for (addr, want) in cases {
        let text = one_vip("").replace("192.0.2.1/32", addr);
        let e = one_error(&text, &format!("\"{addr}\""));
        assert!(
            e.contains("vip \"v1\": address ") && e.contains(want),
            "{addr}: {e}"
        );
    }
    // RFC 3021 /31s and host routes are fine, as is any host of a subnet.
    for good in [
        "10.0.0.4/31",
        "10.0.0.5/31",
        "192.0.2.0/32",
        "192.0.2.254/24",
    ] {
        let text = one_vip("").replace("192.0.2.1/32", good);
        assert!(Fixture::new(&text, 0o600).load().is_ok(), "{good}");
    }
}

#[test]
fn a_vip_on_a_loopback_interface_is_an_error() {
    // Unmapped: lo0 is the real name on both nodes.
    let e = one_error(&one_vip("").replace("\"em0\"", "\"lo0\""), "\"lo0\"");
    assert!(
        e.contains("vip \"v1\": interface \"lo0\" is a loopback interface (lo0 on a, lo0 on b)"),
        "{e}"
    );
    assert!(e.contains("EOPNOTSUPP"), "{e}");
    // Mapped to lo1 on one node only.
    let text = one_vip("")
        .replace("\"em0\"", "\"lan\"")
        .replace(
            "name = \"a\"\n",
            "name = \"a\"\ninterfaces = { lan = \"em0\" }\n",
        )
        .replace(
            "name = \"b\"\n",
            "name = \"b\"\ninterfaces = { lan = \"lo1\" }\n",
        );
    let f = Fixture::new(&text, 0o600);
    let e = f.errors();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(e[0].starts_with(&f.at("\"lan\"")), "{e:#?}");
    assert!(
        e[0].contains("is a loopback interface (lo1 on b)"),
        "{e:#?}"
    );
}

// ----- passwords (item 17) ------------------------------------------------------

#[test]
fn passwords_a_hand_configured_peer_cannot_match_warn_without_the_password() {
    let w = warnings_of(&one_vip("").replace("\"pw\"", "\"s3cret-pw \""));
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(
        w[0].contains(
            "warning: vip \"v1\": password begins or ends with white space; it is used byte \
             for byte, so a node configured by hand (ifconfig ... pass) can never match it"
        ),
        "{w:#?}"
    );
    assert!(!w[0].contains("s3cret"), "{w:#?}");

    let w = warnings_of(&one_vip("").replace("\"pw\"", "\"s3cret\\r\""));
    assert!(
        w[0].contains("password contains a carriage return"),
        "{w:#?}"
    );

    // Key files: one trailing newline (LF or CRLF) is not the password;
    // what is left is checked the same way.
    let cases: [(&[u8], &str); 4] = [
        (b"\xEF\xBB\xBFs3cret\n", "starts with a byte order mark"),
        (b"s3cret\nsecond\n", "has more than one line"),
        (b"s3cret\n\n", "has more than one line"),
        (b"s3cret \r\n", "begins or ends with white space"),
    ];
    for (content, want) in cases {
        let f = Fixture::new(
            &one_vip("").replace("password = \"pw\"", "password_file = \"k.key\""),
            0o600,
        );
        f.key("k.key", content, 0o600);
        let w = f.warnings();
        assert_eq!(w.len(), 1, "{content:?}: {w:#?}");
        assert!(w[0].contains("vip \"v1\": password_file "), "{w:#?}");
        assert!(w[0].contains(want), "{content:?}: {w:#?}");
        assert!(
            !w[0].contains("s3cret") && !w[0].contains("second"),
            "{w:#?}"
        );
    }
    // A clean key file with CRLF or LF: no warning.
    for content in [&b"s3cret\r\n"[..], b"s3cret\n", b"s3cret"] {
        let f = Fixture::new(
            &one_vip("").replace("password = \"pw\"", "password_file = \"k.key\""),
            0o600,
        );
        f.key("k.key", content, 0o600);
        assert!(f.warnings().is_empty(), "{content:?}: {:#?}", f.warnings());
    }
}

// ----- hooks (item 17) ------------------------------------------------------------

#[test]
fn a_relative_hook_program_warns() {
    let w = warnings_of(&one_vip(
        "on_master = [\"service\", \"postfix\", \"start\"]\n",
    ));
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(
        w[0].contains(
            "warning: vip \"v1\": on_master[0] \"service\" is not an absolute path: it is \
             looked up in the PATH"
        ),
        "{w:#?}"
    );
    let w = warnings_of(&one_vip("on_backup = [\"bin/notify\"]\n"));
    assert!(
        w[0].contains("on_backup[0] \"bin/notify\" is not an absolute path"),
        "{w:#?}"
    );
    let w = warnings_of(&one_vip(
        "on_master = [\"/usr/sbin/service\", \"postfix\", \"start\"]\n",
    ));
    assert!(w.is_empty(), "{w:#?}");
}

// ----- node selection (item 17) ------------------------------------------------------

#[test]
fn an_empty_node_name_falls_back_to_the_hostname() {
    let cfg = Fixture::new(&one_vip(""), 0o600).load().unwrap();
    assert_eq!(
        select_node(&cfg, Some(""), "b.example.com").unwrap().name,
        "b"
    );
    assert!(select_node(&cfg, Some(""), "c").is_err());
}

#[test]
fn paths_with_control_or_bidi_characters_are_refused() {
    let text = format!(
        "[cluster]\nstate_dir = \"/var/db/carp\\r\\nctl\"\n{}",
        one_vip("")
    );
    let e = one_error(&text, "\"/var/db");
    assert!(
        e.ends_with(
            "[cluster]: state_dir contains the control or bidirectional-text character \\r"
        ),
        "{e}"
    );
    let text = format!(
        "{}[metrics]\ntextfile = \"/var/tmp/carp\\u202e.prom\"\n",
        one_vip("")
    );
    let e = one_error(&text, "\"/var/tmp");
    assert!(
        e.contains("textfile contains the control or bidirectional-text character \\u{202e}"),
        "{e}"
    );
    let text = format!(
        "[cluster]\nstate_dir = \"/var/db/carp\\u0000\"\n{}",
        one_vip("")
    );
    assert!(one_error(&text, "\"/var/db").ends_with("character \\0"));
}

// ----- `[[node]] ssh` (issue 14, item 4) ------------------------------------

#[test]
fn a_node_ssh_destination_is_kept_and_bad_ones_are_refused() {
    let good = one_vip("").replace(
        "name = \"a\"\n",
        "name = \"a\"\nssh = \"root@a.example.net\"\n",
    );
    let f = Fixture::new(&good, 0o600);
    let cfg = f.load().expect("valid");
    assert_eq!(
        cfg.node("a").unwrap().ssh.as_deref(),
        Some("root@a.example.net")
    );
    assert_eq!(cfg.node("b").unwrap().ssh, None);
    let long = format!("root@{}", "a".repeat(508));
    for (dest, why) in [
        (long.as_str(), "is longer than 512 bytes"),
        ("-oProxyCommand=sh", "starts with `-`"),
        ("root@a host", "whitespace or a control character"),
        ("root@a\\nx", "whitespace or a control character"),
        ("", "is empty"),
    ] {
        let text = one_vip("").replace(
            "name = \"a\"\n",
            &format!("name = \"a\"\nssh = \"{dest}\"\n"),
        );
        let e = one_error(&text, &format!("\"{dest}\""));
        assert!(
            e.contains("node \"a\": ssh = ") && e.contains(why),
            "{dest}: {e}"
        );
        assert!(!e.contains('\n'), "{e:?}");
    }
}
