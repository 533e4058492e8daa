//! Benchmarks of `carpctl daemon` (issue 5):
//!
//! 1. **devd event to hook process started**: a fake devd (a real
//!    SOCK_SEQPACKET listener) sends one CARP event at a time to the real
//!    `carpctl daemon`; the hook is this very executable, re-run with
//!    `CARPCTL_BENCH_HOOK` set, and the first thing it does is send a
//!    datagram back. The time from `send` of the devd record to the
//!    datagram's arrival covers the daemon's parse, lookup and queueing, the
//!    fork/exec of the hook and the hook's own start-up: an upper bound of
//!    "hook process started". p50/p99 over the events (target p99 <= 5 ms).
//! 2. **idle resident memory** of the daemon with 16 VIPs and 8 health
//!    checks (TCP probes of a listener of this benchmark on 127.0.0.1;
//!    target <= 10 MiB), read from Linux `/proc/PID/status` (VmRSS, and
//!    VmHWM for the peak) after the start-up replay and an idle period. The
//!    connections the listener accepts show whether the daemon ran the
//!    checks.
//!
//! ```text
//! cargo bench --bench hooks
//! cargo bench --bench hooks -- --config my-cluster.toml --node n1
//! ```
//!
//! `--config FILE` measures the idle memory with that cluster file instead
//! of the generated one (16 VIPs, 8 checks); `--events N` and
//! `--idle-secs S` change the sizes. Without `--bench` (cargo test), it
//! runs a quick smoke version.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly on what it does not expect"
)]

use std::fs::{self, File};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use carpctl::kernel::Kernel;
use carpctl::kernel::emulated::{EmulatedHost, Flavor, HostSpec, IfaceSpec};
use carpctl::kernel::freebsd::FreeBsdKernel;
use carpctl::model::{Vhid, VhidUpdate};
use tokio_seqpacket::{UnixSeqpacket, UnixSeqpacketListener};

const BIN: &str = env!("CARGO_BIN_EXE_carpctl");
/// Set in the daemon's environment (hooks inherit it): the datagram socket
/// a hook run reports to.
const HOOK_ENV: &str = "CARPCTL_BENCH_HOOK";
const VIPS: u8 = 16;
const CHECKS: u8 = 8;

fn main() {
    // When run as a hook: report at once and exit.
    if let Some(path) = std::env::var_os(HOOK_ENV) {
        let msg = format!(
            "{} {} {}",
            std::env::var("CARP_VHID").unwrap_or_default(),
            std::env::var("CARP_STATE").unwrap_or_default(),
            std::env::var("CARP_EVENT").unwrap_or_default()
        );
        if let Ok(s) = UnixDatagram::unbound() {
            let _ = s.send_to(msg.as_bytes(), path);
        }
        return;
    }

    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--bench");
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let events: usize = value("--events")
        .map(|v| v.parse().expect("--events N"))
        .unwrap_or(if full { 1000 } else { 50 });
    let idle = Duration::from_secs_f64(
        value("--idle-secs")
            .map(|v| v.parse().expect("--idle-secs S"))
            .unwrap_or(if full { 3.0 } else { 0.5 }),
    );
    let user_config = value("--config").map(PathBuf::from);
    let node = value("--node").unwrap_or_else(|| "n1".into());

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The seqpacket sockets register with the runtime's reactor.
    let _guard = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let bench = Bench::new(dir.path());

    let lat = bench.latency(&rt, events);
    println!(
        "hooks/event_to_hook_started: {events} events over {VIPS} VIPs: p50 {:.3} ms, p99 {:.3} ms, \
         max {:.3} ms, mean {:.3} ms (target p99 <= 5 ms: {})",
        lat.p50,
        lat.p99,
        lat.max,
        lat.mean,
        if lat.p99 <= 5.0 { "met" } else { "MISSED" }
    );

    let (config, what) = match &user_config {
        Some(p) => (p.clone(), format!("cluster file {}", p.display())),
        None => (
            bench.config.clone(),
            format!("{VIPS} VIPs with hooks, {CHECKS} tcp checks (generated)"),
        ),
    };
    let probes_before = bench.probes.load(Ordering::Relaxed);
    let mem = bench.idle_memory(&rt, &config, &node, user_config.is_none(), idle);
    println!(
        "hooks/daemon_idle_rss: {what}: VmRSS {:.2} MiB, VmHWM {:.2} MiB after {:.1} s idle \
         (target <= 10 MiB: {})",
        mem.rss_kib as f64 / 1024.0,
        mem.hwm_kib as f64 / 1024.0,
        idle.as_secs_f64(),
        if mem.rss_kib <= 10 * 1024 {
            "met"
        } else {
            "MISSED"
        }
    );
    if user_config.is_none() {
        let probes = bench.probes.load(Ordering::Relaxed) - probes_before;
        println!(
            "hooks/daemon_idle_rss: check probes seen while idle: {probes}{}",
            if probes == 0 {
                " (the daemon does not run [[check]]s yet)"
            } else {
                ""
            }
        );
    }
}

struct Bench {
    dir: PathBuf,
    host: PathBuf,
    config: PathBuf,
    socket: PathBuf,
    hook_socket: PathBuf,
    /// TCP connections accepted from the checks.
    probes: Arc<AtomicU64>,
}

struct Latency {
    p50: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

struct Memory {
    rss_kib: u64,
    hwm_kib: u64,
}

impl Bench {
    /// An emulated host with vhids 1-16 on em0 and a cluster file whose 16
    /// VIPs run this executable as every hook, with 8 TCP checks of a
    /// loopback listener that counts their connections.
    fn new(dir: &Path) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let probes = Arc::new(AtomicU64::new(0));
        let counter = probes.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if conn.is_ok() {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let host = dir.join("host");
        EmulatedHost::create(
            &host,
            &HostSpec {
                flavor: Flavor::V14,
                interfaces: vec![IfaceSpec {
                    name: "em0".into(),
                    addresses: vec!["192.0.2.3/24".parse().unwrap()],
                }],
                carp_loaded: true,
                privileged: true,
            },
        )
        .unwrap();
        let mut k = FreeBsdKernel::new(EmulatedHost::open(&host).unwrap());
        let exe = std::env::current_exe().unwrap();
        // The demotion ledger of the checks stays in the temp dir.
        let mut text = format!(
            "[cluster]\nstate_dir = \"{}\"\n\n[[node]]\nname = \"n1\"\n\n\
             [[node]]\nname = \"n2\"\n",
            dir.join("state").display()
        );
        for i in 1..=VIPS {
            let vhid = Vhid::new(i.into()).unwrap();
            k.set_vhid("em0", vhid, &VhidUpdate::default()).unwrap();
            k.add_address(
                "em0",
                vhid,
                format!("192.0.2.{}/24", 100 + i).parse().unwrap(),
            )
            .unwrap();
            text.push_str(&format!(
                "\n[[vip]]\nname = \"vip{i}\"\nvhid = {i}\ninterface = \"em0\"\n\
                 addresses = [\"192.0.2.{}/32\"]\npassword = \"pw{i}\"\n\
                 on_master = [\"{exe}\"]\non_backup = [\"{exe}\"]\non_init = [\"{exe}\"]\n",
                100 + i,
                exe = exe.display()
            ));
        }
        for i in 1..=CHECKS {
            text.push_str(&format!(
                "\n[[check]]\nname = \"c{i}\"\ntype = \"tcp\"\naddress = \"127.0.0.1:{port}\"\n"
            ));
        }
        let config = dir.join("carpctl.toml");
        fs::write(&config, text).unwrap();
        fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).unwrap();
        Bench {
            dir: dir.to_path_buf(),
            host,
            config,
            socket: dir.join("devd.seqpacket.pipe"),
            hook_socket: dir.join("hook.sock"),
            probes,
        }
    }

    fn daemon(&self, config: &Path, node: &str) -> Child {
        let mut c = Command::new(BIN);
        for var in [
            "CARPCTL_KERNEL",
            "CARPCTL_CONFIG",
            "CARPCTL_NODE",
            "RUST_LOG",
        ] {
            c.env_remove(var);
        }
        c.env(HOOK_ENV, &self.hook_socket)
            .arg("--kernel")
            .arg(format!("emulated:{}", self.host.display()))
            .arg("-c")
            .arg(config)
            .args(["--node", node, "-v", "daemon", "--devd-socket"])
            .arg(&self.socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(self.dir.join("daemon.err")).unwrap())
            .spawn()
            .expect("start carpctl daemon")
    }

    /// Start a daemon with its fake devd and hook socket; wait for the
    /// replay of the 16 vhids when `replay` is set.
    fn start(
        &self,
        rt: &tokio::runtime::Runtime,
        config: &Path,
        node: &str,
        replay: bool,
    ) -> (Child, UnixSeqpacket, UnixSeqpacketListener, UnixDatagram) {
        let _ = fs::remove_file(&self.socket);
        let _ = fs::remove_file(&self.hook_socket);
        let hooks = UnixDatagram::bind(&self.hook_socket).unwrap();
        hooks
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut listener = UnixSeqpacketListener::bind(&self.socket).unwrap();
        let child = self.daemon(config, node);
        let devd = rt
            .block_on(tokio::time::timeout(
                Duration::from_secs(10),
                listener.accept(),
            ))
            .expect("the daemon connects to devd")
            .unwrap();
        if replay {
            let mut buf = [0u8; 128];
            for _ in 0..VIPS {
                let n = hooks.recv(&mut buf).expect("a replayed hook");
                assert!(
                    String::from_utf8_lossy(&buf[..n]).ends_with(" replay"),
                    "expected a replay"
                );
            }
        }
        (child, devd, listener, hooks)
    }

    fn latency(&self, rt: &tokio::runtime::Runtime, events: usize) -> Latency {
        let (mut child, devd, _listener, hooks) = self.start(rt, &self.config, "n1", true);
        let mut states = [false; VIPS as usize];
        let mut ms = Vec::with_capacity(events);
        let mut buf = [0u8; 128];
        for i in 0..events {
            let idx = i % usize::from(VIPS);
            states[idx] = !states[idx];
            let state = if states[idx] { "MASTER" } else { "BACKUP" };
            let vhid = idx + 1;
            let rec = format!("!system=CARP subsystem={vhid}@em0 type={state}\n");
            let t0 = Instant::now();
            rt.block_on(devd.send(rec.as_bytes())).unwrap();
            let n = hooks.recv(&mut buf).expect("the hook reports");
            ms.push(t0.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(
                String::from_utf8_lossy(&buf[..n]),
                format!("{vhid} {state} devd")
            );
        }
        let _ = child.kill();
        let _ = child.wait();
        ms.sort_by(f64::total_cmp);
        let pct = |p: f64| ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1];
        Latency {
            p50: pct(0.50),
            p99: pct(0.99),
            max: ms[ms.len() - 1],
            mean: ms.iter().sum::<f64>() / ms.len() as f64,
        }
    }

    fn idle_memory(
        &self,
        rt: &tokio::runtime::Runtime,
        config: &Path,
        node: &str,
        replay: bool,
        idle: Duration,
    ) -> Memory {
        let (mut child, _devd, _listener, _hooks) = self.start(rt, config, node, replay);
        std::thread::sleep(idle);
        let status = fs::read_to_string(format!("/proc/{}/status", child.id()))
            .expect("/proc/PID/status (Linux)");
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} in /proc/PID/status"))
        };
        let mem = Memory {
            rss_kib: field("VmRSS:"),
            hwm_kib: field("VmHWM:"),
        };
        assert!(
            child.try_wait().unwrap().is_none(),
            "the daemon exited: {}",
            fs::read_to_string(self.dir.join("daemon.err")).unwrap_or_default()
        );
        let _ = child.kill();
        let _ = child.wait();
        mem
    }
}
