//! The exposition byte for byte, the textfile writes, the listener.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::exposition::esc;
use super::listener::serve;
use super::*;
use crate::hooks::HookCounters;
use crate::ledger::{Cause, Contribution};
use crate::model::{Protocol, Vhid};

fn snapshot() -> Snapshot {
    let mut shares = BTreeMap::new();
    shares.insert(
        Cause::Maintenance,
        Contribution {
            weight: 240,
            reason: None,
            since: 1_800_000_000,
        },
    );
    shares.insert(
        Cause::Check("gone".into()),
        Contribution {
            weight: 7,
            reason: None,
            since: 1_800_000_100,
        },
    );
    let mut checks = BTreeMap::new();
    checks.insert(
        "smtp".to_string(),
        CheckView {
            kind: "tcp",
            up: true,
            last_error: None,
            demoting: None,
            changes: 5,
        },
    );
    Snapshot {
        vhids: vec![
            VhidMetric {
                vhid: 1,
                interface: "em0".into(),
                vip: "mail\"1".into(),
                state: CarpState::Master,
                protocol: Protocol::Carp,
                vrrp_priority: None,
                vrrp_interval: None,
            },
            VhidMetric {
                vhid: 2,
                interface: "em1".into(),
                vip: "gw".into(),
                state: CarpState::Backup,
                protocol: Protocol::Vrrpv3,
                vrrp_priority: Some(1),
                vrrp_interval: Some(5),
            },
        ],
        transitions: 3,
        hooks: vec![VhidHookCounters {
            interface: "em0".into(),
            vhid: Vhid::new(1).unwrap(),
            vip: "mail\"1".into(),
            counters: HookCounters {
                runs: 2,
                failures: 1,
                timeouts: 0,
                dropped: 2,
                coalesced: 254,
            },
        }],
        checks,
        demotion: Some(Split {
            total: 487,
            shares,
            other: 240,
            not_applied: BTreeMap::new(),
            pending: false,
        }),
        log_lines_dropped: 17,
    }
}

#[test]
fn exposition_is_exact() {
    let want = "\
# HELP carpctl_vhid_state CARP state of each vhid on this node: 1 for the current state.
# TYPE carpctl_vhid_state gauge
carpctl_vhid_state{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\",state=\"INIT\"} 0
carpctl_vhid_state{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\",state=\"BACKUP\"} 0
carpctl_vhid_state{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\",state=\"MASTER\"} 1
carpctl_vhid_state{vhid=\"2\",interface=\"em1\",vip=\"gw\",state=\"INIT\"} 0
carpctl_vhid_state{vhid=\"2\",interface=\"em1\",vip=\"gw\",state=\"BACKUP\"} 1
carpctl_vhid_state{vhid=\"2\",interface=\"em1\",vip=\"gw\",state=\"MASTER\"} 0
# HELP carpctl_vhid_info Each vhid on this node, with its protocol (carp or vrrp): always 1.
# TYPE carpctl_vhid_info gauge
carpctl_vhid_info{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\",protocol=\"carp\"} 1
carpctl_vhid_info{vhid=\"2\",interface=\"em1\",vip=\"gw\",protocol=\"vrrp\"} 1
# HELP carpctl_vrrp_priority VRRPv3 priority of each VRRP vhid, as the kernel has it (1 in maintenance).
# TYPE carpctl_vrrp_priority gauge
carpctl_vrrp_priority{vhid=\"2\",interface=\"em1\",vip=\"gw\"} 1
# HELP carpctl_vrrp_interval_seconds VRRPv3 advertisement interval of each VRRP vhid.
# TYPE carpctl_vrrp_interval_seconds gauge
carpctl_vrrp_interval_seconds{vhid=\"2\",interface=\"em1\",vip=\"gw\"} 0.05
# HELP carpctl_transitions_total CARP state transitions the daemon handled (devd, replay and resync).
# TYPE carpctl_transitions_total counter
carpctl_transitions_total 3
# HELP carpctl_hook_runs_total Hook runs per vhid.
# TYPE carpctl_hook_runs_total counter
carpctl_hook_runs_total{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\"} 2
# HELP carpctl_hook_failures_total Hook runs that failed per vhid (non-zero exit, signal, timeout, not started).
# TYPE carpctl_hook_failures_total counter
carpctl_hook_failures_total{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\"} 1
# HELP carpctl_hook_coalesced_total Events per vhid whose hook was skipped: superseded by newer ones while the vhid's queue was full.
# TYPE carpctl_hook_coalesced_total counter
carpctl_hook_coalesced_total{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\"} 254
# HELP carpctl_hook_dropped_total Events per vhid whose hook did not run because the daemon was stopping.
# TYPE carpctl_hook_dropped_total counter
carpctl_hook_dropped_total{vhid=\"1\",interface=\"em0\",vip=\"mail\\\"1\"} 2
# HELP carpctl_log_lines_dropped_total Log lines dropped because standard error was not being read.
# TYPE carpctl_log_lines_dropped_total counter
carpctl_log_lines_dropped_total 17
# HELP carpctl_check_up Health check status: 1 passing, 0 failing (demoting).
# TYPE carpctl_check_up gauge
carpctl_check_up{check=\"smtp\"} 1
# HELP carpctl_check_changes_total Health check falls and rises since the daemon started.
# TYPE carpctl_check_changes_total counter
carpctl_check_changes_total{check=\"smtp\"} 5
# HELP carpctl_demotion net.inet.carp.demotion by cause: carpctl's shares and everything else.
# TYPE carpctl_demotion gauge
carpctl_demotion{cause=\"maintenance\"} 240
carpctl_demotion{cause=\"boot_hold\"} 0
carpctl_demotion{cause=\"check\",check=\"gone\"} 7
carpctl_demotion{cause=\"check\",check=\"smtp\"} 0
carpctl_demotion{cause=\"other\"} 240
# HELP carpctl_demotion_since_seconds When each of carpctl's demotion shares was recorded (Unix time); absent without one.
# TYPE carpctl_demotion_since_seconds gauge
carpctl_demotion_since_seconds{cause=\"maintenance\"} 1800000000
carpctl_demotion_since_seconds{cause=\"check\",check=\"gone\"} 1800000100
# HELP carpctl_demotion_kernel net.inet.carp.demotion as the kernel reports it.
# TYPE carpctl_demotion_kernel gauge
carpctl_demotion_kernel 487
";
    assert_eq!(render(&snapshot()), want);
}

/// `promtool check metrics` accepts the exposition (with VRRP vhids);
/// skipped where promtool is missing (.ci installs it).
#[test]
fn promtool_accepts_the_exposition() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("SKIP: promtool is not installed (Debian: prometheus)");
        return;
    };
    let text = render(&snapshot());
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn without_the_demotion_its_metrics_are_left_out() {
    let mut s = snapshot();
    s.demotion = None;
    let text = render(&s);
    assert!(!text.contains("carpctl_demotion"), "{text}");
    assert!(text.contains("carpctl_check_up{check=\"smtp\"} 1"));
}

#[test]
fn label_values_are_escaped() {
    assert_eq!(esc("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    assert_eq!(esc("plain"), "plain");
}

#[test]
fn textfile_is_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("carpctl.prom");
    write_textfile(&path, "a 1\n").unwrap();
    write_textfile(&path, "b 2\n").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "b 2\n");
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
    let e = write_textfile(&dir.path().join("missing/x.prom"), "x").unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[test]
fn textfile_in_a_directory_others_can_write_in() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("textfile");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    // The name today's code used, planted as a link.
    let path = open.join("carpctl.prom");
    symlink(
        &victim,
        open.join(format!(".carpctl.prom.{}.tmp", std::process::id())),
    )
    .unwrap();
    let e = write_textfile(&path, "a 1\n").unwrap_err();
    assert!(e.is_untrusted(), "{e}");
    assert!(e.to_string().contains("chmod go-w"), "{e}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!path.exists());
    // Sticky, like /tmp: written, with a warning, never through a link.
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let warning = write_textfile(&path, "a 1\n").unwrap().expect("a warning");
    assert!(warning.contains("sticky"), "{warning}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "a 1\n");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    // A private directory: no warning.
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(write_textfile(&path, "b 2\n").unwrap(), None);
}

#[tokio::test]
async fn listener_answers_get_metrics_only() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = Arc::new(Mutex::new("carpctl_transitions_total 1\n".to_string()));
    let task = tokio::spawn(serve(listener, body));
    let ask = |req: &'static str| async move {
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).await.unwrap();
        out
    };
    let ok = ask("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(ok.starts_with("HTTP/1.0 200 OK\r\n"), "{ok}");
    assert!(
        ok.contains("Content-Type: text/plain; version=0.0.4"),
        "{ok}"
    );
    assert!(
        ok.ends_with("\r\n\r\ncarpctl_transitions_total 1\n"),
        "{ok}"
    );
    let nf = ask("GET /other HTTP/1.0\r\n\r\n").await;
    assert!(nf.starts_with("HTTP/1.0 404"), "{nf}");
    let na = ask("POST /metrics HTTP/1.0\r\n\r\n").await;
    assert!(na.starts_with("HTTP/1.0 405"), "{na}");
    task.abort();
}
