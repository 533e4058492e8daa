//! Unit tests of the hooks: environment, table, one run, stats.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::run::log_output;
use super::testutil::{sh, transition, vip};
use super::*;
use crate::events::Source;
use crate::model::{CarpState, Vhid};

#[test]
fn the_environment_has_every_variable() {
    let v = vip("mail1", "vlan0.100", 5);
    let t = transition("vlan0.100", 5, CarpState::Master, Some(CarpState::Backup));
    let env: BTreeMap<_, _> = hook_env(&t, &v).into_iter().collect();
    let want: BTreeMap<&str, String> = [
        ("CARP_VHID", "5"),
        ("CARP_INTERFACE", "vlan0.100"),
        ("CARP_STATE", "MASTER"),
        ("CARP_PREVIOUS_STATE", "BACKUP"),
        ("CARP_VIP", "mail1"),
        ("CARP_ADDRESSES", "192.168.1.50/32 2001:db8::51/128"),
        ("CARP_EVENT", "devd"),
        ("CARP_PROTOCOL", "carp"),
        ("CARP_PRIORITY", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    assert_eq!(env, want);
    // Unknown previous state: empty, not absent.
    let mut t = transition("em0", 1, CarpState::Init, None);
    t.source = Source::Replay;
    let env: BTreeMap<_, _> = hook_env(&t, &v).into_iter().collect();
    assert_eq!(env["CARP_PREVIOUS_STATE"], "");
    assert_eq!(env["CARP_STATE"], "INIT");
    assert_eq!(env["CARP_EVENT"], "replay");
}

#[test]
fn a_vrrp_vip_tells_its_hooks_the_protocol_and_this_nodes_priority() {
    let text = "[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n\
                [[vip]]\nname = \"v\"\nvhid = 3\ninterface = \"em0\"\n\
                addresses = [\"192.0.2.10/32\"]\nprotocol = \"vrrp\"\nprefer = [\"b\", \"a\"]\n";
    let cfg = crate::config::parse(text, std::path::Path::new("/t.toml"), None).unwrap();
    let plan = cfg.plan().unwrap();
    for node in ["a", "b"] {
        let table = HookTable::new(&cfg, node);
        let v = table.get("em0", Vhid::new(3).unwrap()).unwrap();
        let t = transition("em0", 3, CarpState::Master, None);
        let env: BTreeMap<_, _> = hook_env(&t, v).into_iter().collect();
        assert_eq!(env["CARP_PROTOCOL"], "vrrp");
        let want = plan.vips[0].vrrp.as_ref().unwrap().priority[node];
        assert_eq!(env["CARP_PRIORITY"], want.to_string(), "{node}");
    }
}

#[test]
fn argv_by_state_and_labels() {
    let mut v = vip("mail1", "em0", 1);
    v.on_master = vec!["/a".into()];
    v.on_init = vec!["/c".into()];
    assert_eq!(v.argv(CarpState::Master), ["/a".to_string()]);
    assert!(v.argv(CarpState::Backup).is_empty());
    assert_eq!(v.argv(CarpState::Init), ["/c".to_string()]);
    let t = transition("em0", 1, CarpState::Backup, None);
    assert_eq!(label(&t.event, &v), "1@em0 mail1 on_backup");
}

#[tokio::test]
async fn a_hook_gets_its_environment_and_no_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut v = vip("mail1", "em0", 1);
    v.on_master = sh(&format!(
        "printf '%s|%s|%s|%s|%s|%s|%s|' \"$CARP_VHID\" \"$CARP_INTERFACE\" \"$CARP_STATE\" \
         \"$CARP_PREVIOUS_STATE\" \"$CARP_VIP\" \"$CARP_ADDRESSES\" \"$CARP_EVENT\" > {0}; \
         cat >> {0}; echo end >> {0}",
        out.display()
    ));
    let stats = HookStats::new();
    let t = transition("em0", 1, CarpState::Master, Some(CarpState::Backup));
    let r = run_for(&t, &v, Duration::from_secs(10), &stats)
        .await
        .expect("a hook ran");
    assert!(r.outcome.is_success(), "{r:?}");
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        "1|em0|MASTER|BACKUP|mail1|192.168.1.50/32 2001:db8::51/128|devd|end\n"
    );
    assert_eq!(
        stats.get("em0", Vhid::new(1).unwrap()),
        HookCounters {
            runs: 1,
            ..HookCounters::default()
        }
    );
    // No hook for BACKUP: nothing runs, nothing counted.
    let t = transition("em0", 1, CarpState::Backup, None);
    assert!(
        run_for(&t, &v, Duration::from_secs(1), &stats)
            .await
            .is_none()
    );
    assert_eq!(stats.get("em0", Vhid::new(1).unwrap()).runs, 1);
}

#[tokio::test]
async fn failures_are_counted_by_kind() {
    let stats = HookStats::new();
    let mut v = vip("mail1", "em0", 1);
    let t = transition("em0", 1, CarpState::Master, None);

    v.on_master = sh("echo to stderr >&2; exit 3");
    let r = run_for(&t, &v, Duration::from_secs(10), &stats)
        .await
        .unwrap();
    match &r.outcome {
        Outcome::Failed(s) => assert_eq!(describe_status(s), "exit status 3"),
        other => panic!("{other:?}"),
    }

    v.on_master = sh("kill -TERM $$");
    let r = run_for(&t, &v, Duration::from_secs(10), &stats)
        .await
        .unwrap();
    match &r.outcome {
        Outcome::Failed(s) => {
            assert_eq!(describe_status(s), "killed by signal 15 (SIGTERM)");
        }
        other => panic!("{other:?}"),
    }

    v.on_master = vec!["/nonexistent/carpctl-hook".into()];
    let r = run_for(&t, &v, Duration::from_secs(10), &stats)
        .await
        .unwrap();
    match &r.outcome {
        Outcome::SpawnFailed(e) => assert_eq!(e.kind(), io::ErrorKind::NotFound),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        stats.get("em0", Vhid::new(1).unwrap()),
        HookCounters {
            runs: 3,
            failures: 3,
            timeouts: 0,
            dropped: 0,
            coalesced: 0,
        }
    );
}

#[tokio::test]
async fn a_hook_past_its_timeout_is_killed_with_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let child_pid = dir.path().join("child.pid");
    let stats = HookStats::new();
    let mut v = vip("mail1", "em0", 1);
    // The hook starts a child in its process group and waits forever.
    v.on_master = sh(&format!(
        "sleep 60 & echo $! > {}; wait",
        child_pid.display()
    ));
    let t = transition("em0", 1, CarpState::Master, None);
    let timeout = Duration::from_millis(300);
    let r = run_for(&t, &v, timeout, &stats).await.unwrap();
    assert!(matches!(r.outcome, Outcome::TimedOut), "{r:?}");
    assert!(r.elapsed >= timeout, "{r:?}");
    assert!(r.elapsed < Duration::from_secs(5), "{r:?}");
    let c = stats.get("em0", Vhid::new(1).unwrap());
    assert_eq!((c.runs, c.failures, c.timeouts), (1, 1, 1));
    // Its child died too: signal 0 finds no such process (once reaped
    // by init; a zombie still answers, so check its state instead).
    let pid: i32 = fs::read_to_string(&child_pid)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let alive = status
            .lines()
            .find(|l| l.starts_with("State:"))
            .is_some_and(|l| !l.contains("Z") && !l.contains("X"));
        if !alive {
            break;
        }
        assert!(Instant::now() < deadline, "the hook's child {pid} survived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_background_process_holding_the_output_does_not_hold_the_hook() {
    let mut v = vip("mail1", "em0", 1);
    // A "daemon" started by the hook keeps stdout open after the hook
    // exits 0: the run must end at once, not when the daemon does.
    v.on_master = sh("(sleep 3; echo late) & echo started; exit 0");
    let stats = HookStats::new();
    let t = transition("em0", 1, CarpState::Master, None);
    let r = run_for(&t, &v, Duration::from_secs(10), &stats)
        .await
        .unwrap();
    assert!(r.outcome.is_success(), "{r:?}");
    assert!(r.elapsed < Duration::from_secs(2), "{r:?}");
}

#[tokio::test]
async fn output_logging_is_bounded() {
    let logs = crate::logging::capture::logs();
    // 5000 lines of 3000 bytes each: read to the end without keeping it.
    let data: Vec<u8> = (0..5000)
        .flat_map(|_| std::iter::repeat_n(b'x', 3000).chain([b'\n']))
        .collect();
    log_output(&data[..], Arc::from("t"), false, HOOK_OUTPUT).await;
    // And a stream without a newline at all.
    log_output(&vec![b'y'; 100_000][..], Arc::from("t"), true, HOOK_OUTPUT).await;
    let text = logs.text();
    let lines: Vec<&str> = text.lines().collect();
    // LINES_MAX lines, the note that more were not logged, one line of y.
    assert_eq!(lines.len(), LINES_MAX + 2, "{}", lines.len());
    assert!(lines.iter().all(|l| l.len() < LINE_MAX + 100));
    assert!(
        lines[LINES_MAX].contains("more than 200 lines"),
        "{}",
        lines[LINES_MAX]
    );
    assert!(lines[LINES_MAX + 1].contains(&"y".repeat(LINE_MAX)));
    assert!(!lines[LINES_MAX + 1].contains(&"y".repeat(LINE_MAX + 1)));
}
