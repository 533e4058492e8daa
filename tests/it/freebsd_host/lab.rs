//! The lab the FreeBSD host tests build, in the style of FreeBSD's
//! `tests/sys/common/vnet.subr`: VNET jails (`vnet_mkjail`), epairs
//! (`vnet_mkepair`), an `if_bridge` in a jail of its own (`vnet_mkbridge`,
//! as carp.sh's bridge and router jails), all removed again on drop
//! (`vnet_cleanup`), also when an assertion fails; plus the cluster files
//! and the `carpctl` runs in the jails, and carp.sh's `wait_for_carp`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::BIN;

/// Why this host cannot run the tests, if it cannot.
pub(super) fn missing_prerequisite() -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some("needs root (jails, epair, carp(4) configuration)".into());
    }
    if !succeeds(Command::new("kldstat").args(["-q", "-m", "carp"])) {
        return Some("needs carp(4): kldload carp".into());
    }
    let vimage = Command::new("sysctl")
        .args(["-i", "-n", "kern.features.vimage"])
        .output();
    if !matches!(&vimage, Ok(o) if o.stdout.trim_ascii() == b"1") {
        return Some("needs a kernel with VIMAGE (VNET jails)".into());
    }
    // vnet.subr relies on ifconfig loading it; load it here so that a
    // missing module is a skip, not a failure.
    if !succeeds(Command::new("kldload").args(["-n", "if_epair"])) {
        return Some("needs if_epair(4)".into());
    }
    None
}

/// [`missing_prerequisite`], and if_bridge(4) for the bridge and router
/// jails (loaded here, as `ifconfig bridge create` would).
pub(super) fn missing_bridge() -> Option<String> {
    missing_prerequisite().or_else(|| {
        (!succeeds(Command::new("kldload").args(["-n", "if_bridge"])))
            .then(|| "needs if_bridge(4)".to_string())
    })
}

/// [`missing_bridge`], and a release with unicast CARP (`peer`/`peer6`:
/// FreeBSD 14.0, `kern.osreldate` 1400000).
pub(super) fn missing_unicast() -> Option<String> {
    missing_bridge().or_else(|| {
        let rel = Command::new("sysctl")
            .args(["-n", "kern.osreldate"])
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<u32>()
                    .ok()
            });
        match rel {
            Some(r) if r >= 1_400_000 => None,
            _ => Some(format!(
                "unicast CARP needs FreeBSD 14.0 or later (kern.osreldate {rel:?})"
            )),
        }
    })
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.output().is_ok_and(|o| o.status.success())
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Run a command that must succeed; its output otherwise.
pub(super) fn run(cmd: &mut Command) -> Output {
    let what = describe(cmd);
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `jexec JAIL ARGS...`, which must succeed.
pub(super) fn jexec(jail: &str, args: &[&str]) -> Output {
    run(Command::new("jexec").arg(jail).args(args))
}

/// `ifconfig`'s address family for `addr` (`inet6` when it has a colon).
fn family(addr: &str) -> &'static str {
    if addr.contains(':') { "inet6" } else { "inet" }
}

/// One VNET jail, and the interface it renamed, if it did.
struct Jail {
    name: String,
    /// (the epair end's name on the host, its name inside the jail now).
    renamed: Option<(String, String)>,
}

/// VNET jails, the epairs and bridges they hold, and the cluster files;
/// all undone on drop (`vnet_cleanup`).
pub(super) struct Lab {
    dir: tempfile::TempDir,
    /// The case, in every jail's name: tests run in parallel, and two
    /// cases may both have a node `one`.
    case: String,
    /// The epairs' host-side names without their `a`/`b` suffix.
    epairs: Vec<String>,
    bridges: Vec<String>,
    jails: Vec<Jail>,
}

impl Lab {
    pub(super) fn new(case: &str) -> Lab {
        Lab {
            dir: tempfile::tempdir().expect("temporary directory"),
            case: case.to_string(),
            epairs: Vec::new(),
            bridges: Vec::new(),
            jails: Vec::new(),
        }
    }

    /// `vnet_mkepair`: a new epair, by its name without the `a`/`b`.
    pub(super) fn epair(&mut self) -> String {
        let out = run(Command::new("ifconfig").args(["epair", "create"]));
        let a = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let epair = a
            .strip_suffix('a')
            .unwrap_or_else(|| panic!("epair name {a:?}"))
            .to_string();
        self.epairs.push(epair.clone());
        epair
    }

    /// `vnet_mkjail`: a VNET jail holding `interfaces`, with `hostname`
    /// `node` (carpctl finds its node by the short host name when --node
    /// is not given).
    fn vnet_jail(&mut self, node: &str, interfaces: &[&str]) -> String {
        let name = format!(
            "carpctl_{}_{}_{}",
            self.case,
            node.replace('-', "_"),
            std::process::id()
        );
        let mut args = vec![
            "-c".to_string(),
            format!("name={name}"),
            "persist".to_string(),
            "vnet".to_string(),
        ];
        args.extend(interfaces.iter().map(|i| format!("vnet.interface={i}")));
        args.extend(["path=/".to_string(), format!("host.hostname={node}")]);
        run(Command::new("jail").args(&args));
        self.jails.push(Jail {
            name: name.clone(),
            renamed: None,
        });
        name
    }

    /// A node's VNET jail holding the epair end `end`, renamed to `ifname`
    /// (`vnet_ifrename_jail`, so that one cluster file names the same
    /// interface on every node) and up with `addr` (IPv6 with `no_dad`,
    /// as carp.sh).
    pub(super) fn jail(&mut self, node: &str, end: &str, ifname: &str, addr: &str) -> String {
        let name = self.vnet_jail(node, &[end]);
        jexec(&name, &["ifconfig", end, "name", ifname]);
        if let Some(j) = self.jails.last_mut() {
            j.renamed = Some((end.to_string(), ifname.to_string()));
        }
        let mut args = vec!["ifconfig", ifname, family(addr), addr, "up"];
        if family(addr) == "inet6" {
            args.push("no_dad");
        }
        jexec(&name, &args);
        name
    }

    /// carp.sh's bridge jail (`vnet_mkbridge`, two `vnet_mkepair`): a
    /// VNET jail `node` holding a bridge with the `a` ends of two new
    /// epairs as members, all up, and `addrs` on the bridge (the first as
    /// its address, the others as aliases; IPv6 with `no_dad`). The two
    /// `b` ends are for the nodes' jails.
    pub(super) fn bridge_jail(&mut self, node: &str, addrs: &[&str]) -> (String, [String; 2]) {
        let out = run(Command::new("ifconfig").args(["bridge", "create"]));
        let bridge = String::from_utf8_lossy(&out.stdout).trim().to_string();
        self.bridges.push(bridge.clone());
        let (one, two) = (self.epair(), self.epair());
        let (one_a, two_a) = (format!("{one}a"), format!("{two}a"));
        let name = self.vnet_jail(node, &[&bridge, &one_a, &two_a]);
        jexec(
            &name,
            &["ifconfig", &bridge, "addm", &one_a, "addm", &two_a, "up"],
        );
        jexec(&name, &["ifconfig", &one_a, "up"]);
        jexec(&name, &["ifconfig", &two_a, "up"]);
        for (i, addr) in addrs.iter().enumerate() {
            let mut args = vec!["ifconfig", &bridge, family(addr)];
            if i > 0 {
                args.push("alias");
            }
            args.extend([*addr, "up"]);
            if family(addr) == "inet6" {
                args.push("no_dad");
            }
            jexec(&name, &args);
        }
        (name, [format!("{one}b"), format!("{two}b")])
    }

    /// carp.sh's router jail of unicast_v4/v6: a [`Lab::bridge_jail`] with
    /// forwarding on, the bridge at 192.0.2.4/29 (2001:db8::4/64) and one
    /// address in each of the nodes' two subnets, 198.51.100.1/25 and
    /// 198.51.100.129/25 (2001:db8:1::1/64 and 2001:db8:2::1/64).
    pub(super) fn router_jail(&mut self, node: &str, v6: bool) -> (String, [String; 2]) {
        let (sysctl, addrs) = if v6 {
            (
                "net.inet6.ip6.forwarding=1",
                ["2001:db8::4/64", "2001:db8:1::1/64", "2001:db8:2::1/64"],
            )
        } else {
            (
                "net.inet.ip.forwarding=1",
                ["192.0.2.4/29", "198.51.100.1/25", "198.51.100.129/25"],
            )
        };
        let (name, ends) = self.bridge_jail(node, &addrs);
        jexec(&name, &["sysctl", sysctl]);
        (name, ends)
    }

    /// `examples/seed.toml` verbatim, with its two key files next to it
    /// (mode 0600 in a 0700 directory: carpctl refuses readable keys).
    pub(super) fn seed(&self) -> PathBuf {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed.toml");
        let cfg = self.dir.path().join("carpctl.toml");
        fs::copy(&src, &cfg).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        for (file, key) in [
            ("mail1.key", "host-test-key-1\n"),
            ("mail2.key", "host-test-key-2\n"),
        ] {
            self.key_file(file, key);
        }
        cfg
    }

    /// `carpctl.d/FILE` holding `key` (mode 0600 in a 0700 directory).
    fn key_file(&self, file: &str, key: &str) {
        let keys = self.dir.path().join("carpctl.d");
        if !keys.exists() {
            fs::create_dir(&keys).expect("key directory");
            fs::set_permissions(&keys, fs::Permissions::from_mode(0o700)).expect("chmod");
        }
        let p = keys.join(file);
        fs::write(&p, key).expect("key file");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).expect("chmod");
    }

    /// A cluster file of `nodes` (all on `lan = "em0"`) with VIP `carp`
    /// (vhid 1, `vip` on lan) configured as carp.sh's jails configure it:
    /// the pinned advskews `skews` (`advskew = {..}`, with `allow_tie`
    /// where they are equal) and, when carp.sh has `pass`, that password
    /// in a key file.
    pub(super) fn carp_sh(
        &self,
        nodes: &[&str],
        vip: &str,
        skews: &str,
        key: Option<&str>,
    ) -> PathBuf {
        let mut pass = String::new();
        if let Some(key) = key {
            self.key_file("carp.key", &format!("{key}\n"));
            pass = "password_file = \"carpctl.d/carp.key\"\n".to_string();
        }
        self.cluster_file(nodes, &[], vip, &format!("{pass}{skews}"))
    }

    /// As [`Lab::carp_sh`] for carp.sh's unicast cases: `unicast = true`,
    /// each node with its own address on lan, `own` (in the order of
    /// `nodes`), which the other names as its `peer`/`peer6`; no password.
    pub(super) fn carp_sh_unicast(
        &self,
        nodes: &[&str],
        own: &[&str],
        vip: &str,
        skews: &str,
    ) -> PathBuf {
        self.cluster_file(nodes, own, vip, &format!("unicast = true\n{skews}"))
    }

    fn cluster_file(&self, nodes: &[&str], own: &[&str], vip: &str, extra: &str) -> PathBuf {
        let cfg = self.dir.path().join("carpctl.toml");
        let mut text = String::from("[cluster]\npreempt = true\n");
        for (i, n) in nodes.iter().enumerate() {
            text.push_str(&format!(
                "[[node]]\nname = \"{n}\"\ninterfaces = {{ lan = \"em0\" }}\n"
            ));
            if let Some(addr) = own.get(i) {
                text.push_str(&format!("addresses = {{ lan = [\"{addr}\"] }}\n"));
            }
        }
        text.push_str(&format!(
            "[[vip]]\nname = \"carp\"\nvhid = 1\ninterface = \"lan\"\n\
             addresses = [\"{vip}\"]\n{extra}\n"
        ));
        fs::write(&cfg, text).expect("cluster file");
        cfg
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Give each renamed interface its epair name back before the jail
        // goes, so that it returns to the host as epairNb and not as a
        // second "em0"; then remove the jails and destroy the pairs and
        // bridges, which are back on the host.
        for j in &self.jails {
            if let Some((end, ifname)) = &j.renamed {
                let _ = Command::new("jexec")
                    .args([&j.name, "ifconfig", ifname, "name", end])
                    .output();
            }
            let _ = Command::new("jail").args(["-r", &j.name]).output();
        }
        for e in &self.epairs {
            let _ = Command::new("ifconfig")
                .args([&format!("{e}a"), "destroy"])
                .output();
        }
        for b in &self.bridges {
            let _ = Command::new("ifconfig").args([b, "destroy"]).output();
        }
    }
}

fn carpctl_in(jail: &str, args: &[&str]) -> Output {
    Command::new("jexec")
        .arg(jail)
        .arg(BIN)
        .args(args)
        .output()
        .expect("jexec carpctl")
}

/// `carpctl -c CFG [--node NODE] apply --json` in a jail: the number of
/// changes it made.
pub(super) fn apply(jail: &str, cfg: &Path, node: Option<&str>) -> usize {
    let cfg = cfg.to_string_lossy();
    let mut args = vec!["-c", &cfg];
    if let Some(node) = node {
        args.extend(["--node", node]);
    }
    args.extend(["apply", "--json"]);
    let out = carpctl_in(jail, &args);
    assert!(
        out.status.success(),
        "carpctl apply in {jail}: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "apply --json in {jail}: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    doc["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no changes array: {doc}"))
        .len()
}

/// (vhid, state) for every vhid `carpctl status --json` reports.
pub(super) fn states(jail: &str) -> Vec<(u64, String)> {
    let out = carpctl_in(jail, &["status", "--json"]);
    assert!(
        out.status.success(),
        "status in {jail}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status --json in {jail}: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let vhids = doc["vhids"]
        .as_array()
        .unwrap_or_else(|| panic!("no vhids array: {doc}"));
    let mut v: Vec<(u64, String)> = vhids
        .iter()
        .map(|v| {
            let id = v["vhid"].as_u64().unwrap_or_else(|| panic!("vhid in {v}"));
            let st = v["state"]
                .as_str()
                .unwrap_or_else(|| panic!("state in {v}"))
                .to_string();
            (id, st)
        })
        .collect();
    v.sort();
    v
}

/// carp.sh's `is_master` for vhid 1, through `carpctl status --json`.
pub(super) fn is_master(jail: &str) -> bool {
    states(jail).iter().any(|(v, s)| *v == 1 && s == "MASTER")
}

/// Poll both jails until `want` = [(vhid, state on a, state on b)]
/// holds, or fail after `limit` with what was seen last. Two MASTERs
/// for one vhid fail the test when two polls in a row see them: a
/// single sighting can be the instant of a handover (preemption, or
/// the first advertisements after apply), which carp(4) resolves with
/// one advertisement.
pub(super) fn wait_for(a: &str, b: &str, want: &[(u64, &str, &str)], limit: Duration, what: &str) {
    let start = Instant::now();
    let mut double_master_polls = 0;
    loop {
        let (sa, sb) = (states(a), states(b));
        let state = |s: &[(u64, String)], vhid: u64| {
            s.iter()
                .find(|(v, _)| *v == vhid)
                .map_or("absent".to_string(), |(_, st)| st.clone())
        };
        let double = want
            .iter()
            .find(|&&(v, _, _)| state(&sa, v) == "MASTER" && state(&sb, v) == "MASTER");
        if let Some((vhid, _, _)) = double {
            double_master_polls += 1;
            assert!(
                double_master_polls < 2,
                "{what}: two MASTERs for vhid {vhid} in two polls in a row"
            );
        } else {
            double_master_polls = 0;
        }
        let seen: Vec<(u64, String, String)> = want
            .iter()
            .map(|&(v, _, _)| (v, state(&sa, v), state(&sb, v)))
            .collect();
        if want
            .iter()
            .zip(&seen)
            .all(|(w, s)| w.1 == s.1 && w.2 == s.2)
        {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{what}: after {limit:?} want {want:?}, seen {seen:?}"
        );
        sleep(Duration::from_millis(250));
    }
}

/// carp.sh's `wait_for_carp`: poll both jails until one of them is
/// MASTER for vhid 1, then fail if both are ("Both jails are master");
/// the MASTER, `a` or `b`. carp.sh waits without bound (atf's timeout
/// ends it); here `limit`. As in [`wait_for`], both MASTER fails when two
/// polls in a row see it: the two jails are read one after the other, not
/// at one instant.
pub(super) fn wait_for_carp<'j>(a: &'j str, b: &'j str, limit: Duration) -> &'j str {
    let start = Instant::now();
    let mut double_master_polls = 0;
    loop {
        match (is_master(a), is_master(b)) {
            (true, true) => {
                double_master_polls += 1;
                assert!(
                    double_master_polls < 2,
                    "Both jails are master ({a}, {b}), in two polls in a row"
                );
            }
            (true, false) => return a,
            (false, true) => return b,
            (false, false) => double_master_polls = 0,
        }
        assert!(
            start.elapsed() < limit,
            "after {limit:?} neither {a} nor {b} is MASTER: {:?}, {:?}",
            states(a),
            states(b)
        );
        sleep(Duration::from_millis(250));
    }
}
