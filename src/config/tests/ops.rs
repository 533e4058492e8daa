//! Tests of the operational keys: hooks and `hook_timeout` (issue 5),
//! checks, `boot_hold`, `state_dir` and `[metrics]`. Each rule has a
//! failing and a passing input; positions are counted by hand
//! ([`Fixture::at`]), not by the parser.

use std::time::Duration;

use super::testutil::*;

/// `path:line:col: ` of the value in the line `key = value`.
fn at_value(f: &Fixture, key: &str, value: &str) -> String {
    let text = std::fs::read_to_string(&f.path).unwrap();
    let needle = format!("{key} = {value}");
    let lc = line_col(&text, &needle);
    let (line, col) = lc.split_once(':').unwrap();
    let col: usize = col.parse().unwrap();
    format!("{}:{line}:{}: ", f.path.display(), col + key.len() + 3)
}

fn assert_clean(f: &Fixture) {
    let w = f.warnings();
    assert!(w.is_empty(), "unexpected warnings {w:#?}");
}

// ----- hooks ------------------------------------------------------------------

#[test]
fn hooks_are_argv_arrays() {
    let f = Fixture::new(
        &one_vip(
            "on_master = [\"/usr/local/sbin/service\", \"postfix\", \"start\"]\n\
             on_backup = [\"/bin/sh\", \"-c\", \"echo $1 > /tmp/x\"]\n",
        ),
        0o600,
    );
    assert_clean(&f);
    let cfg = f.load().unwrap();
    let v = &cfg.vips[0];
    assert_eq!(v.on_master, ["/usr/local/sbin/service", "postfix", "start"]);
    // No shell: the string is one argument, $1 stays as written.
    assert_eq!(v.on_backup, ["/bin/sh", "-c", "echo $1 > /tmp/x"]);
    assert!(v.on_init.is_empty(), "not given: no hook");
}

#[test]
fn hooks_absent_are_empty() {
    let cfg = Fixture::new(&one_vip(""), 0o600).load().unwrap();
    let v = &cfg.vips[0];
    assert!(v.on_master.is_empty() && v.on_backup.is_empty() && v.on_init.is_empty());
}

#[test]
fn empty_hook_is_an_error() {
    for key in ["on_master", "on_backup", "on_init"] {
        let f = Fixture::new(&one_vip(&format!("{key} = []\n")), 0o600);
        assert_one(
            &f.errors(),
            &f.at("[]"),
            &format!("vip \"v1\": {key} is empty; give the command and its arguments"),
        );
    }
}

#[test]
fn empty_program_is_an_error() {
    let f = Fixture::new(&one_vip("on_init = [\"\", \"x\"]\n"), 0o600);
    let e = f.errors();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_one(
        &e,
        &f.at("\"\", \"x\""),
        "vip \"v1\": on_init[0], the program to run, is empty",
    );
    // An empty argument after the program is legitimate (e.g. an empty
    // option value).
    let f = Fixture::new(&one_vip("on_init = [\"/bin/echo\", \"\"]\n"), 0o600);
    assert_eq!(f.load().unwrap().vips[0].on_init, ["/bin/echo", ""]);
}

#[test]
fn nul_in_hook_argument_is_an_error() {
    let f = Fixture::new(
        &one_vip("on_master = [\"/bin/echo\", \"a\\u0000b\"]\n"),
        0o600,
    );
    assert_one(
        &f.errors(),
        &f.at("\"a\\u0000b\""),
        "vip \"v1\": on_master[1] contains a NUL byte",
    );
}

#[test]
fn hook_of_wrong_type_is_an_error() {
    // A string instead of an array: one might expect a shell command line.
    let f = Fixture::new(&one_vip("on_master = \"service postfix start\"\n"), 0o600);
    assert_one(
        &f.errors(),
        &f.at("\"service postfix start\""),
        "vip \"v1\": on_master: invalid type: string \"service postfix start\", expected an array",
    );
    let f = Fixture::new(&one_vip("on_backup = [\"/bin/echo\", 3]\n"), 0o600);
    assert_one(
        &f.errors(),
        &f.at("3]"),
        "vip \"v1\": on_backup: invalid type: integer `3`, expected a string",
    );
}

// ----- hook_timeout -------------------------------------------------------------

#[test]
fn hook_timeout_rules() {
    let cfg = Fixture::new(&one_vip(""), 0o600).load().unwrap();
    assert_eq!(cfg.cluster.hook_timeout, Duration::from_secs(30));
    for good in [1u64, 90, 3600] {
        let f = Fixture::new(
            &format!("[cluster]\nhook_timeout = {good}\n{}", one_vip("")),
            0o600,
        );
        assert_clean(&f);
        assert_eq!(
            f.load().unwrap().cluster.hook_timeout,
            Duration::from_secs(good)
        );
    }
    for bad in ["0", "-5", "3601"] {
        let f = Fixture::new(
            &format!("[cluster]\nhook_timeout = {bad}\n{}", one_vip("")),
            0o600,
        );
        assert_one(
            &f.errors(),
            &format!("{}:2:16: ", f.path.display()),
            &format!("[cluster]: hook_timeout {bad} is out of range 1-3600 (seconds"),
        );
    }
    let f = Fixture::new(
        &format!("[cluster]\nhook_timeout = \"30s\"\n{}", one_vip("")),
        0o600,
    );
    assert_one(
        &f.errors(),
        &f.at("\"30s\""),
        "[cluster]: hook_timeout: invalid type: string \"30s\", expected an integer",
    );
}

// ----- boot_hold, state_dir -------------------------------------------------------

const ONE_CHECK: &str =
    "\n[[check]]\nname = \"smtp\"\ntype = \"tcp\"\naddress = \"127.0.0.1:25\"\n";

#[test]
fn boot_hold_and_state_dir_defaults() {
    let cfg = Fixture::new(&one_vip(""), 0o600).load().unwrap();
    assert!(!cfg.cluster.boot_hold);
    assert_eq!(
        cfg.cluster.state_dir,
        std::path::Path::new("/var/db/carpctl")
    );
    assert!(cfg.checks.is_empty());
    assert_eq!(cfg.metrics, crate::config::MetricsConfig::default());
}

#[test]
fn boot_hold_and_state_dir_are_read() {
    let f = Fixture::new(
        &format!(
            "[cluster]\nboot_hold = true\nstate_dir = \"/var/db/carpctl-test\"\n{}{ONE_CHECK}",
            one_vip("")
        ),
        0o600,
    );
    assert_clean(&f);
    let cfg = f.load().unwrap();
    assert!(cfg.cluster.boot_hold);
    assert_eq!(
        cfg.cluster.state_dir,
        std::path::Path::new("/var/db/carpctl-test")
    );
}

#[test]
fn boot_hold_without_checks_warns() {
    let f = Fixture::new(
        &format!("[cluster]\nboot_hold = true\n{}", one_vip("")),
        0o600,
    );
    let w = f.warnings();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(
        w[0].contains("warning: [cluster]: boot_hold = true has no effect without [[check]]"),
        "{w:#?}"
    );
    let f = Fixture::new(
        &format!("[cluster]\nboot_hold = \"yes\"\n{}", one_vip("")),
        0o600,
    );
    assert_one(
        &f.errors(),
        &f.at("\"yes\""),
        "[cluster]: boot_hold: invalid type: string \"yes\", expected a boolean",
    );
}

#[test]
fn state_dir_must_be_absolute() {
    for bad in ["var/db/carpctl", ""] {
        let f = Fixture::new(
            &format!("[cluster]\nstate_dir = \"{bad}\"\n{}", one_vip("")),
            0o600,
        );
        assert_one(
            &f.errors(),
            &format!("{}:2:13: ", f.path.display()),
            &format!("[cluster]: state_dir \"{bad}\" must be an absolute path"),
        );
    }
}

// ----- [[check]] -----------------------------------------------------------------

fn with_check(check: &str) -> Fixture {
    Fixture::new(&format!("{}\n[[check]]\n{check}", one_vip("")), 0o600)
}

#[test]
fn checks_of_every_type_with_defaults() {
    let f = Fixture::new(
        &format!(
            "{}\n[[check]]\nname = \"smtp\"\ntype = \"tcp\"\naddress = \"127.0.0.1:25\"\n\
             [[check]]\nname = \"queue\"\ntype = \"exec\"\ncommand = [\"/usr/local/bin/check-mail\", \"-q\"]\n\
             interval = 10\ntimeout = 5\nrise = 1\nfall = 1\nweight = 100\n\
             [[check]]\nname = \"web\"\ntype = \"http\"\nurl = \"http://[::1]:8080/health?deep=1\"\n\
             expect_status = 204\n",
            one_vip("")
        ),
        0o600,
    );
    assert_clean(&f);
    let cfg = f.load().unwrap();
    let c = &cfg.checks;
    assert_eq!(c.len(), 3);
    assert_eq!(c[0].name, "smtp");
    assert_eq!(
        c[0].probe,
        crate::config::Probe::Tcp {
            address: "127.0.0.1:25".into()
        }
    );
    assert_eq!(c[0].interval, Duration::from_secs(2));
    assert_eq!(c[0].timeout, Duration::from_secs(1));
    assert_eq!((c[0].rise, c[0].fall), (2, 3));
    // Two nodes, step 4: the leader must advertise more than 4, so 5.
    assert_eq!(c[0].weight, 5);
    assert_eq!(
        c[1].probe,
        crate::config::Probe::Exec {
            command: vec!["/usr/local/bin/check-mail".into(), "-q".into()]
        }
    );
    assert_eq!(c[1].interval, Duration::from_secs(10));
    assert_eq!(c[1].timeout, Duration::from_secs(5));
    assert_eq!((c[1].rise, c[1].fall, c[1].weight), (1, 1, 100));
    let crate::config::Probe::Http { url, expect_status } = &c[2].probe else {
        panic!("{:?}", c[2].probe)
    };
    assert_eq!(*expect_status, 204);
    assert_eq!(url.host, "::1");
    assert_eq!(url.port, 8080);
    assert_eq!(url.path, "/health?deep=1");
    assert_eq!(url.authority(), "[::1]:8080");
    assert_eq!(url.to_string(), "http://[::1]:8080/health?deep=1");
}

#[test]
fn http_url_defaults_port_and_path() {
    let f = with_check("name = \"w\"\ntype = \"http\"\nurl = \"http://localhost\"\n");
    let cfg = f.load().unwrap();
    let crate::config::Probe::Http { url, expect_status } = &cfg.checks[0].probe else {
        panic!()
    };
    assert_eq!(
        (url.host.as_str(), url.port, url.path.as_str()),
        ("localhost", 80, "/")
    );
    assert_eq!(*expect_status, 200);
    let f = with_check("name = \"w\"\ntype = \"http\"\nurl = \"http://127.0.0.1:81?x\"\n");
    let cfg = f.load().unwrap();
    let crate::config::Probe::Http { url, .. } = &cfg.checks[0].probe else {
        panic!()
    };
    assert_eq!(url.path, "/?x");
}

#[test]
fn default_weight_follows_the_plan() {
    // Three nodes, step 10: the leader must go below rank 2 (20): 21.
    let three = one_vip("").replace("name = \"b\"\n", "name = \"b\"\n[[node]]\nname = \"c\"\n");
    let f = Fixture::new(
        &format!("[cluster]\nadvskew_step = 10\n{three}{ONE_CHECK}"),
        0o600,
    );
    assert_eq!(f.load().unwrap().checks[0].weight, 21);
    // A VIP of one node gives nothing to move to: 240.
    let single = one_vip("prefer = [\"a\"]\n");
    let cfg = Fixture::new(&format!("{single}{ONE_CHECK}"), 0o600)
        .load()
        .unwrap();
    assert_eq!(cfg.checks[0].weight, 240);
}

#[test]
fn check_missing_keys_are_named() {
    let f = with_check("type = \"tcp\"\naddress = \"127.0.0.1:25\"\n");
    assert_one(
        &f.errors(),
        &f.at("[[check]]"),
        "check #1: missing key `name`",
    );
    let f = with_check("name = \"x\"\n");
    assert_one(
        &f.errors(),
        &f.at("[[check]]"),
        "check \"x\": missing key `type` (\"tcp\", \"exec\" or \"http\")",
    );
    for (kind, key) in [("tcp", "address"), ("exec", "command"), ("http", "url")] {
        let f = with_check(&format!("name = \"x\"\ntype = \"{kind}\"\n"));
        assert_one(
            &f.errors(),
            &f.at("[[check]]"),
            &format!("check \"x\": missing key `{key}`"),
        );
    }
}

#[test]
fn check_type_and_foreign_keys_are_errors() {
    let f = with_check("name = \"x\"\ntype = \"icmp\"\n");
    assert_one(
        &f.errors(),
        &f.at("\"icmp\""),
        "check \"x\": type \"icmp\" is not one of \"tcp\", \"exec\", \"http\"",
    );
    let f = with_check(
        "name = \"x\"\ntype = \"tcp\"\naddress = \"127.0.0.1:25\"\nurl = \"http://127.0.0.1/\"\n",
    );
    assert_one(
        &f.errors(),
        &f.at("\"http://"),
        "check \"x\": url is a key of type = \"http\", not of type = \"tcp\"",
    );
    let f = with_check(
        "name = \"x\"\ntype = \"exec\"\ncommand = [\"/bin/true\"]\nexpect_status = 200\n",
    );
    assert_one(
        &f.errors(),
        &f.at("200"),
        "check \"x\": expect_status is a key of type = \"http\", not of type = \"exec\"",
    );
    let f = with_check("name = \"x\"\ntype = \"tcp\"\naddress = \"127.0.0.1:25\"\nport = 25\n");
    assert_one(
        &f.errors(),
        &f.at("port"),
        "check \"x\": unknown key `port`",
    );
}

#[test]
fn check_addresses() {
    for good in [
        "127.0.0.1:25",
        "[::1]:25",
        "localhost:25",
        "mail.example.com:587",
    ] {
        let f = with_check(&format!(
            "name = \"x\"\ntype = \"tcp\"\naddress = \"{good}\"\n"
        ));
        assert!(f.load().is_ok(), "{good}: {:?}", f.errors());
    }
    for (bad, why) in [
        ("127.0.0.1", "is not HOST:PORT"),
        ("127.0.0.1:0", "has port 0"),
        ("127.0.0.1:70000", "has port \"70000\""),
        (":25", "has no host"),
        ("::1:25", "has an IPv6 address without brackets"),
        (
            "my host:25",
            "has host \"my host\", which is neither an IP address nor a host name",
        ),
    ] {
        let f = with_check(&format!(
            "name = \"x\"\ntype = \"tcp\"\naddress = \"{bad}\"\n"
        ));
        assert_one(
            &f.errors(),
            &f.at(&format!("\"{bad}\"")),
            &format!("check \"x\": address \"{bad}\" {why}"),
        );
    }
}

#[test]
fn check_urls() {
    for (bad, why) in [
        ("https://127.0.0.1/", "uses https"),
        ("ftp://127.0.0.1/", "must start with http://"),
        ("http://127.0.0.1/#top", "has a fragment"),
        ("http://u:p@127.0.0.1/", "has user information"),
        ("http://127.0.0.1:0/", "has port \"0\""),
        ("http://[::1/", "has an unclosed ["),
        (
            "http://[fe80::zz]/",
            "has \"[fe80::zz]\", which is not an IPv6 address",
        ),
        ("http:///health", "has no host"),
        ("http://a b/", "contains spaces"),
    ] {
        let f = with_check(&format!("name = \"x\"\ntype = \"http\"\nurl = \"{bad}\"\n"));
        assert_one(
            &f.errors(),
            &f.at(&format!("\"{bad}\"")),
            &format!("check \"x\": url \"{bad}\" {why}"),
        );
    }
    for bad in ["99", "600", "-1"] {
        let f = with_check(&format!(
            "name = \"x\"\ntype = \"http\"\nurl = \"http://127.0.0.1/\"\nexpect_status = {bad}\n"
        ));
        assert_one(
            &f.errors(),
            &at_value(&f, "expect_status", bad),
            &format!("check \"x\": expect_status {bad} is not an HTTP status (100-599)"),
        );
    }
}

#[test]
fn check_numbers_are_ranged() {
    let base = "name = \"x\"\ntype = \"tcp\"\naddress = \"127.0.0.1:25\"\n";
    for (key, bad, range) in [
        ("interval", "0", "1-3600 (seconds)"),
        ("interval", "3601", "1-3600 (seconds)"),
        ("timeout", "-1", "1-3600 (seconds)"),
        ("rise", "0", "1-100"),
        ("fall", "101", "1-100"),
        ("weight", "0", "1-240"),
        ("weight", "241", "1-240"),
    ] {
        let f = with_check(&format!("{base}{key} = {bad}\n"));
        assert_one(
            &f.errors(),
            &at_value(&f, key, bad),
            &format!("check \"x\": {key} {bad} is out of range {range}"),
        );
    }
    let f = with_check(&format!("{base}interval = 2\ntimeout = 3\n"));
    assert_one(
        &f.errors(),
        &at_value(&f, "timeout", "3"),
        "check \"x\": timeout 3 s is longer than interval 2 s",
    );
    let f = with_check(&format!("{base}weight = 240\nrise = 100\n"));
    let cfg = f.load().unwrap();
    assert_eq!((cfg.checks[0].weight, cfg.checks[0].rise), (240, 100));
}

#[test]
fn check_names_are_unique_and_clean() {
    let f = Fixture::new(&format!("{}{ONE_CHECK}{ONE_CHECK}", one_vip("")), 0o600);
    let e = f.errors();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(
        e[0].contains("check \"smtp\": check name \"smtp\" is already used at line"),
        "{e:#?}"
    );
    let f = with_check("name = \"two words\"\ntype = \"tcp\"\naddress = \"127.0.0.1:25\"\n");
    assert_one(
        &f.errors(),
        &f.at("\"two words\""),
        "check #1: name must not contain spaces",
    );
    let f = with_check("name = \"x\"\ntype = \"exec\"\ncommand = []\n");
    assert_one(&f.errors(), &f.at("[]"), "check \"x\": command is empty");
}

#[test]
fn check_must_be_an_array_of_tables() {
    let f = Fixture::new(&format!("{}\n[check]\nname = \"x\"\n", one_vip("")), 0o600);
    assert_one(
        &f.errors(),
        &f.at("[check]"),
        "check must be an array of tables: write [[check]], not [check]",
    );
}

// ----- [metrics] -------------------------------------------------------------------

fn with_metrics(body: &str) -> Fixture {
    Fixture::new(&format!("[metrics]\n{body}{}", one_vip("")), 0o600)
}

#[test]
fn metrics_keys() {
    let f = with_metrics(
        "textfile = \"/var/tmp/node_exporter/carpctl.prom\"\nlisten = \"127.0.0.1:9946\"\n",
    );
    assert_clean(&f);
    let m = f.load().unwrap().metrics;
    assert_eq!(
        m.textfile.as_deref(),
        Some(std::path::Path::new("/var/tmp/node_exporter/carpctl.prom"))
    );
    assert_eq!(m.listen, Some("127.0.0.1:9946".parse().unwrap()));
    let m = with_metrics("listen = \"[::1]:9946\"\n")
        .load()
        .unwrap()
        .metrics;
    assert_eq!(m.listen, Some("[::1]:9946".parse().unwrap()));
    assert_eq!(m.textfile, None);
}

#[test]
fn metrics_listen_must_be_loopback() {
    for bad in ["0.0.0.0:9946", "192.0.2.1:9946", "[::]:9946"] {
        let f = with_metrics(&format!("listen = \"{bad}\"\n"));
        assert_one(
            &f.errors(),
            &f.at(&format!("\"{bad}\"")),
            "is not a loopback address; the metrics are served without authentication",
        );
    }
    let f = with_metrics("listen = \"localhost:9946\"\n");
    assert_one(&f.errors(), &f.at("\"localhost"), "is not IP:PORT");
    let f = with_metrics("listen = \"127.0.0.1:0\"\n");
    assert_one(
        &f.errors(),
        &f.at("\"127.0.0.1:0\""),
        "needs a port other than 0",
    );
}

#[test]
fn metrics_textfile_rules() {
    let f = with_metrics("textfile = \"carpctl.prom\"\n");
    assert_one(
        &f.errors(),
        &f.at("\"carpctl.prom\""),
        "[metrics]: textfile \"carpctl.prom\" must be the absolute path of a file",
    );
    let f = with_metrics("textfile = \"/var/tmp/carpctl.txt\"\n");
    let w = f.warnings();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(w[0].contains("does not end in .prom"), "{w:#?}");
    let f = with_metrics("texfile = \"/x.prom\"\n");
    assert_one(
        &f.errors(),
        &f.at("texfile"),
        "[metrics]: unknown key `texfile`",
    );
}
