//! The probes against local servers and commands, and the runner end to
//! end against an emulated host.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::runner::{Op, ledger_op};
use super::*;
use crate::config::{Check, HttpUrl, Probe};
use crate::ledger::{BootPolicy, Cause, Contribution, Ledger};

#[test]
fn status_lines() {
    assert_eq!(parse_status_line(b"HTTP/1.1 200 OK\r\n"), Some(200));
    assert_eq!(
        parse_status_line(b"HTTP/1.0 503 Busy\r\nX: y\r\n"),
        Some(503)
    );
    // RFC 9112: the reason phrase may be empty.
    assert_eq!(parse_status_line(b"HTTP/1.1 204 \r\n"), Some(204));
    assert_eq!(parse_status_line(b"HTTP/1.1 204\r\n"), Some(204));
    for bad in [
        &b""[..],
        b"HTTP/1.1 200 OK",
        b"HTTP/2 200\r\n",
        b"HTTP/1.1 20 OK\r\n",
        b"HTTP/1.1 2000 OK\r\n",
        b"HTTP/1.1 abc OK\r\n",
        b"HTTP/1.1 099 x\r\n",
        b"SSH-2.0-OpenSSH\r\n",
        b"\xff\xfe\r\n",
    ] {
        assert_eq!(parse_status_line(bad), None, "{bad:?}");
    }
}

fn check(probe: Probe, timeout_ms: u64) -> Check {
    Check {
        name: "t".into(),
        probe,
        interval: Duration::from_millis(30),
        timeout: Duration::from_millis(timeout_ms),
        rise: 1,
        fall: 2,
        weight: 5,
    }
}

fn exec(argv: &[&str]) -> Probe {
    Probe::Exec {
        command: argv.iter().map(ToString::to_string).collect(),
    }
}

#[tokio::test]
async fn exec_probes() {
    assert_eq!(probe(&check(exec(&["true"]), 2000)).await, Ok(()));
    assert_eq!(
        probe(&check(exec(&["sh", "-c", "exit 3"]), 2000)).await,
        Err("sh exited with status 3".into())
    );
    let e = probe(&check(exec(&["/nonexistent/check"]), 2000))
        .await
        .unwrap_err();
    assert!(e.starts_with("cannot run /nonexistent/check: "), "{e}");
    // The program is the cluster file's text: escaped in the message.
    let e = probe(&check(exec(&["/nonexistent/\r\nforged\u{202e}"]), 2000))
        .await
        .unwrap_err();
    assert!(
        e.starts_with("cannot run /nonexistent/\\r\\nforged\\u{202e}: "),
        "{e}"
    );
    let t0 = Instant::now();
    assert_eq!(
        probe(&check(exec(&["sleep", "5"]), 100)).await,
        Err("no answer within 100 ms".into())
    );
    assert!(t0.elapsed() < Duration::from_secs(2));
    // The check's name is in the environment.
    assert_eq!(
        probe(&check(
            exec(&["sh", "-c", "test \"$CARPCTL_CHECK\" = t"]),
            2000
        ))
        .await,
        Ok(())
    );
}

/// A check that floods its stderr (20 MB a probe) puts a bounded
/// number of lines in the log, and still passes or fails by its exit
/// status, within its timeout (the flood is read, not left to block it).
#[tokio::test]
async fn exec_check_output_is_bounded() {
    let logs = crate::logging::capture::logs();
    let flood = "yes 'x' | head -c 20000000 >&2; echo last words >&2; exit 3";
    for _ in 0..3 {
        assert_eq!(
            probe(&check(exec(&["sh", "-c", flood]), 20_000)).await,
            Err("sh exited with status 3".into())
        );
    }
    let text = logs.text();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("check t: stderr:"))
        .collect();
    // Per probe: 20 lines and the note that more were not logged.
    assert_eq!(lines.len(), 3 * 21, "{text}");
    assert!(lines[0].ends_with("check t: stderr: x"), "{}", lines[0]);
    assert!(lines[20].contains("(more than 20 lines; the rest is not logged)"));
    assert!(text.len() < 16 * 1024, "{} bytes of log", text.len());
}

#[tokio::test]
async fn tcp_probes() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let tcp = || Probe::Tcp {
        address: addr.clone(),
    };
    assert_eq!(probe(&check(tcp(), 1000)).await, Ok(()));
    drop(l);
    let e = probe(&check(tcp(), 1000)).await.unwrap_err();
    assert!(e.starts_with(&format!("connect to {addr}: ")), "{e}");
}

/// A one-shot HTTP server answering `reply`; returns its URL and the
/// request it received.
async fn http_server(reply: &'static [u8]) -> (HttpUrl, tokio::task::JoinHandle<String>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut c, _) = l.accept().await.unwrap();
        let mut req = vec![0u8; 1024];
        let n = c.read(&mut req).await.unwrap();
        c.write_all(reply).await.unwrap();
        String::from_utf8_lossy(&req[..n]).into_owned()
    });
    let url = HttpUrl {
        host: "127.0.0.1".into(),
        port,
        path: "/health?deep=1".into(),
    };
    (url, task)
}

#[tokio::test]
async fn http_probes() {
    let (url, req) = http_server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
    let http = |url: &HttpUrl| Probe::Http {
        url: url.clone(),
        expect_status: 200,
    };
    assert_eq!(probe(&check(http(&url), 1000)).await, Ok(()));
    let req = req.await.unwrap();
    assert!(
        req.starts_with(&format!(
            "GET /health?deep=1 HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n",
            url.port
        )),
        "{req}"
    );
    assert!(req.ends_with("Connection: close\r\n\r\n"), "{req}");

    let (url, _) = http_server(b"HTTP/1.0 503 Service Unavailable\r\n\r\n").await;
    assert_eq!(
        probe(&check(http(&url), 1000)).await,
        Err(format!("GET {url}: status 503, want 200"))
    );
    let (url, _) = http_server(b"SSH-2.0-OpenSSH_9.6\r\n").await;
    let e = probe(&check(http(&url), 1000)).await.unwrap_err();
    assert!(
        e.contains("not an HTTP status line: \"SSH-2.0-OpenSSH_9.6\\r\\n\""),
        "{e}"
    );
    // A hostile answer: NUL, ESC and a bidi override, escaped and cut.
    let (url, _) = http_server(
        b"\0\0\x1b[2J\xe2\x80\xaeHTTP/1.1 200 OK, not at the start of the line, and long \
          enough to be cut\r\n",
    )
    .await;
    let e = probe(&check(http(&url), 1000)).await.unwrap_err();
    assert!(
        e.contains("not an HTTP status line: \"\\0\\0\\u{1b}[2J\\u{202e}HTTP/1.1 200 OK"),
        "{e}"
    );
    assert!(e.contains("\" (") && e.ends_with(" bytes)"), "cut: {e}");
    for raw in ['\0', '\r', '\u{1b}', '\u{202e}'] {
        assert!(!e.contains(raw), "raw {raw:?} in {e:?}");
    }
    // A server that never answers: the timeout.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = HttpUrl {
        host: "127.0.0.1".into(),
        port: l.local_addr().unwrap().port(),
        path: "/".into(),
    };
    assert_eq!(
        probe(&check(http(&url), 100)).await,
        Err("no answer within 100 ms".into())
    );
}

/// A check removed from the file while it demoted: its share goes when
/// the runner starts.
#[tokio::test(flavor = "current_thread")]
async fn stale_check_shares_are_dropped_at_start() {
    use crate::kernel::Kernel;
    use crate::kernel::emulated::{EmulatedHost, Flavor, HostSpec};
    use crate::kernel::freebsd::FreeBsdKernel;

    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("host");
    let spec = HostSpec {
        flavor: Flavor::V14,
        interfaces: vec![],
        carp_loaded: true,
        privileged: true,
    };
    EmulatedHost::create(&host, &spec).unwrap();
    let text = "[[node]]\nname = \"a\"\n";
    let cfg = crate::config::parse(text, Path::new("t.toml"), Some(0o600)).unwrap();
    let h = host.clone();
    let opener: KernelOpener = Arc::new(move || {
        EmulatedHost::open(&h)
            .map(|e| Box::new(FreeBsdKernel::new(e)) as Box<dyn Kernel>)
            .map_err(|e| e.to_string())
    });
    let mut k = opener().unwrap();
    let ledger = Ledger::for_host(k.as_ref(), &cfg);
    let old = Contribution {
        weight: 9,
        reason: None,
        since: 0,
    };
    ledger
        .set(
            k.as_mut(),
            BootPolicy::default(),
            Cause::Check("old".into()),
            old.clone(),
        )
        .unwrap();
    let maintenance = Contribution {
        weight: crate::model::MAINTENANCE_WEIGHT,
        ..old
    };
    ledger
        .set(
            k.as_mut(),
            BootPolicy::default(),
            Cause::Maintenance,
            maintenance,
        )
        .unwrap();
    assert_eq!(k.sysctls().unwrap().demotion, 249);
    let live = ledger_op(
        &opener,
        &Arc::new(cfg),
        "a",
        Op::Start {
            known: BTreeSet::new(),
        },
    )
    .await
    .unwrap();
    assert_eq!(live.keys().collect::<Vec<_>>(), [&Cause::Maintenance]);
    assert_eq!(k.sysctls().unwrap().demotion, 240);
}

/// An emulated host of `flavor` with em0 (192.0.2.3/24) and carp(4)
/// loaded, and an opener of it.
fn emulated_host(flavor: crate::kernel::emulated::Flavor) -> (tempfile::TempDir, KernelOpener) {
    use crate::kernel::Kernel;
    use crate::kernel::emulated::{EmulatedHost, HostSpec, IfaceSpec};
    use crate::kernel::freebsd::FreeBsdKernel;
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("host");
    EmulatedHost::create(
        &host,
        &HostSpec {
            flavor,
            interfaces: vec![IfaceSpec {
                name: "em0".into(),
                addresses: vec!["192.0.2.3/24".parse().unwrap()],
            }],
            carp_loaded: true,
            privileged: true,
        },
    )
    .unwrap();
    let opener: KernelOpener = Arc::new(move || {
        EmulatedHost::open(&host)
            .map(|e| Box::new(FreeBsdKernel::new(e)) as Box<dyn Kernel>)
            .map_err(|e| e.to_string())
    });
    (dir, opener)
}

/// A two-node cluster with `boot_hold`, the VIP lines `vip` and one TCP
/// check with `rise` = `fall` = `n`, probed every 20 ms, of a loopback port
/// nobody listens on yet (returned).
fn boot_hold_cluster(vip: &str, n: u32) -> (crate::config::Config, std::net::SocketAddr) {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let text = format!(
        "[cluster]\nboot_hold = true\n\
         [[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n\
         [[vip]]\n{vip}\ninterface = \"em0\"\n\
         [[check]]\nname = \"svc\"\ntype = \"tcp\"\naddress = \"{addr}\"\nrise = {n}\nfall = {n}\n"
    );
    let mut cfg = crate::config::parse(&text, Path::new("t.toml"), Some(0o600)).unwrap();
    cfg.checks[0].interval = Duration::from_millis(20);
    cfg.checks[0].timeout = Duration::from_millis(20);
    (cfg, addr)
}

/// The checks task of node a on `cfg`, with its board; stop it with
/// [`stop_checks`].
type Running = (
    tokio::task::JoinHandle<()>,
    watch::Sender<bool>,
    watch::Sender<Arc<Settings>>,
);

fn start_checks(
    cfg: crate::config::Config,
    opener: &KernelOpener,
    board: Arc<CheckBoard>,
) -> Running {
    let settings = Arc::new(Settings::new(cfg, "a".into()));
    let (settings_tx, settings_rx) = watch::channel(settings);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let task = tokio::spawn(run_checks(ChecksContext {
        settings: settings_rx,
        shutdown: shutdown_rx,
        open_kernel: opener.clone(),
        board,
    }));
    (task, shutdown_tx, settings_tx)
}

/// Poll `read` every 10 ms until it gives `want`; fail after 5 s.
async fn wait_until<T: PartialEq + std::fmt::Debug>(read: impl Fn() -> T, want: T, what: &str) {
    let t0 = Instant::now();
    loop {
        let now = read();
        if now == want {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "{what}: {now:?}, waiting for {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn stop_checks((task, shutdown_tx, _settings): Running) {
    shutdown_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("run_checks stops on shutdown")
        .unwrap();
}

/// The runner end to end against an emulated host: a failing check
/// demotes by its weight, a recovered one takes exactly that back, the
/// boot hold ends when every check has passed once.
#[tokio::test(flavor = "current_thread")]
async fn runner_demotes_and_recovers() {
    use crate::kernel::emulated::Flavor;
    let (_dir, opener) = emulated_host(Flavor::V14);
    let (cfg, addr) = boot_hold_cluster(
        "name = \"v1\"\nvhid = 1\naddresses = [\"192.0.2.1/32\"]\npassword = \"pw\"",
        2,
    );
    assert_eq!(cfg.checks[0].weight, 5);
    let demotion = {
        let opener = opener.clone();
        move || opener().unwrap().sysctls().unwrap().demotion
    };
    let board = Arc::new(CheckBoard::new());
    let running = start_checks(cfg, &opener, board.clone());
    let wait_for = |want: i32, what: &'static str| wait_until(demotion.clone(), want, what);
    // No ledger: a new boot, so the boot hold (240); the service is
    // down, so the check adds its 5 after two failures.
    wait_for(245, "boot hold and a failed check").await;
    let listener = std::net::TcpListener::bind(addr).unwrap();
    wait_for(0, "two passes end the check's share and the boot hold").await;
    assert!(board.snapshot()["svc"].up);
    // Fell, then rose.
    assert_eq!(board.snapshot()["svc"].changes, 2);
    drop(listener);
    wait_for(5, "the check fails twice").await;
    // The board follows the ledger write.
    let t0 = Instant::now();
    while board.snapshot()["svc"].demoting != Some(5) {
        assert!(t0.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let view = &board.snapshot()["svc"];
    assert!(!view.up);
    assert!(
        view.last_error
            .as_deref()
            .is_some_and(|e| e.contains("connect to"))
    );
    let _again = std::net::TcpListener::bind(addr).unwrap();
    wait_for(0, "the check passes twice").await;
    assert!(board.snapshot()["svc"].up);
    assert_eq!(board.snapshot()["svc"].changes, 4);
    stop_checks(running).await;
}

/// The boot hold keeps a VRRP vhid at the maintenance priority 1 (its
/// demotion would not move it, apply::hold) until every check has passed
/// once; a failing check then does not move it (carpctl(8)).
#[tokio::test(flavor = "current_thread")]
async fn the_boot_hold_holds_vrrp_vhids_at_priority_1() {
    use crate::kernel::emulated::Flavor;
    let (_dir, opener) = emulated_host(Flavor::V15);
    let (cfg, addr) = boot_hold_cluster(
        "name = \"v\"\nvhid = 2\naddresses = [\"192.0.2.2/32\"]\nprotocol = \"vrrp\"",
        1,
    );
    // The vhid as apply makes it, with a's planned priority.
    let mut k = opener().unwrap();
    let ifs = k.interfaces().unwrap();
    let desired = crate::config::desired_state(&cfg, "a", &ifs)
        .unwrap()
        .with_keys()
        .unwrap();
    let planned = desired.vips[0].vrrp.unwrap().priority;
    let changes = crate::apply::plan_changes(k.as_mut(), &desired).unwrap();
    crate::apply::execute(k.as_mut(), &desired, &changes).unwrap();
    let prio = {
        let opener = opener.clone();
        move || {
            let v = crate::model::Vhid::new(2).unwrap();
            opener()
                .unwrap()
                .vhid("em0", v)
                .unwrap()
                .unwrap()
                .vrrp_priority
        }
    };
    assert_eq!(prio(), Some(planned));
    let running = start_checks(cfg, &opener, Arc::new(CheckBoard::new()));
    let wait_for = |want: u8, what: &'static str| wait_until(prio.clone(), Some(want), what);
    wait_for(1, "the boot hold").await;
    let listener = std::net::TcpListener::bind(addr).unwrap();
    wait_for(planned, "every check passed: the hold ends").await;
    drop(listener);
    // The check fails and demotes; the VRRP priority stays.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(prio(), Some(planned));
    stop_checks(running).await;
}
