//! `carpctl` on a real FreeBSD kernel: the seed cluster in two VNET jails.
//!
//! In the style of FreeBSD's own `tests/sys/netinet/carp.sh` and
//! `tests/sys/common/vnet.subr`: an epair joins two VNET jails, each jail is
//! one node of `examples/seed.toml` (mail-a and mail-b; the epair ends are
//! renamed `em0` and `igb0` inside the jails, as `vnet_ifrename_jail` does,
//! so that the seed file is used verbatim), and each runs `carpctl apply`.
//! Then it checks what carp(4) itself reports through `carpctl status
//! --json`:
//!
//! 1. one MASTER per vhid, in the mirrored layout of the seed (mail-a is
//!    MASTER for vhid 1 and BACKUP for vhid 2, mail-b the other way round);
//! 2. failover: when mail-a's interface goes down, mail-b is MASTER for both;
//! 3. preemption: when it comes back up, mail-a takes vhid 1 back.
//!
//! FreeBSD's own carp.sh cases that `src/sim/freebsd_tests.rs` simulates
//! run here on the real kernel where one epair is enough: `switch` and
//! `negative_demotion` (carp.sh @ ba0fe1dd) below. The cases that need a
//! bridge jail (basic_v4/v6, unicast_v4/v6 with a router,
//! nd6_ns_source_mac) are not here yet: the lab has one epair, no bridge
//! jail and no router jail (docs/freebsd-tests.md). Each case configures
//! its vhid as carp.sh does (pinned advskews, a password only where carp.sh
//! has `pass`).
//!
//! It needs FreeBSD, root, carp(4) loaded (`kldstat -q -m carp`, as carp.sh
//! checks) and VNET jails (`kern.features.vimage`); without them each test
//! says "skipped: ..." and returns. Everything it creates (jails, epairs,
//! files) is removed again, also when an assertion fails.

#[cfg(not(target_os = "freebsd"))]
#[test]
fn seed_cluster_in_two_vnet_jails() {
    eprintln!("skipped: needs FreeBSD as root (carp(4) and VNET jails)");
}

#[cfg(not(target_os = "freebsd"))]
#[test]
fn carp_sh_switch_in_a_vnet_jail() {
    eprintln!("skipped: needs FreeBSD as root (carp(4) and VNET jails)");
}

#[cfg(not(target_os = "freebsd"))]
#[test]
fn carp_sh_negative_demotion_in_two_vnet_jails() {
    eprintln!("skipped: needs FreeBSD as root (carp(4) and VNET jails)");
}

#[cfg(target_os = "freebsd")]
mod freebsd {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};
    use std::thread::sleep;
    use std::time::{Duration, Instant};

    use serde_json::Value;

    use crate::common::BIN;

    /// Why this host cannot run the tests, if it cannot.
    fn missing_prerequisite() -> Option<String> {
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
    fn run(cmd: &mut Command) -> Output {
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

    /// One VNET jail and the epair end it holds.
    struct Jail {
        name: String,
        /// The end's name on the host (`epair3a`).
        epair_end: String,
        /// Its name inside the jail now (`em0` once renamed).
        ifname: String,
    }

    /// Two VNET jails joined by an epair, and the cluster files; all undone
    /// on drop (`vnet_cleanup`).
    struct Lab {
        dir: tempfile::TempDir,
        /// The epair's host-side name without its `a`/`b` suffix.
        epair: String,
        jails: Vec<Jail>,
    }

    impl Lab {
        fn new() -> Lab {
            let dir = tempfile::tempdir().expect("temporary directory");
            let out = run(Command::new("ifconfig").args(["epair", "create"]));
            let a = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let epair = a
                .strip_suffix('a')
                .unwrap_or_else(|| panic!("epair name {a:?}"))
                .to_string();
            Lab {
                dir,
                epair,
                jails: Vec::new(),
            }
        }

        /// A VNET jail holding one end of the epair, renamed to `ifname`,
        /// with `hostname` (carpctl finds its node by the short host name
        /// when --node is not given).
        fn jail(&mut self, node: &str, end: char, ifname: &str, addr: &str) -> String {
            let name = format!("carpctl_{}_{}", node.replace('-', "_"), std::process::id());
            let epair_end = format!("{}{end}", self.epair);
            run(Command::new("jail").args([
                "-c",
                &format!("name={name}"),
                "persist",
                "vnet",
                &format!("vnet.interface={epair_end}"),
                "path=/",
                &format!("host.hostname={node}"),
            ]));
            self.jails.push(Jail {
                name: name.clone(),
                epair_end: epair_end.clone(),
                ifname: epair_end.clone(),
            });
            run(Command::new("jexec").args([&name, "ifconfig", &epair_end, "name", ifname]));
            if let Some(j) = self.jails.last_mut() {
                j.ifname = ifname.to_string();
            }
            run(Command::new("jexec").args([&name, "ifconfig", ifname, "inet", addr, "up"]));
            name
        }

        /// `examples/seed.toml` verbatim, with its two key files next to it
        /// (mode 0600 in a 0700 directory: carpctl refuses readable keys).
        fn seed(&self) -> PathBuf {
            let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed.toml");
            let cfg = self.dir.path().join("carpctl.toml");
            fs::copy(&src, &cfg).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
            let keys = self.dir.path().join("carpctl.d");
            fs::create_dir(&keys).expect("key directory");
            fs::set_permissions(&keys, fs::Permissions::from_mode(0o700)).expect("chmod");
            for (file, key) in [
                ("mail1.key", "host-test-key-1\n"),
                ("mail2.key", "host-test-key-2\n"),
            ] {
                let p = keys.join(file);
                fs::write(&p, key).expect("key file");
                fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).expect("chmod");
            }
            cfg
        }
    }

    impl Lab {
        /// A cluster file of `nodes` (all on `lan = "em0"`) with VIP
        /// `carp` (vhid 1, `vip` on lan) configured as carp.sh's jails
        /// configure it: the pinned advskews `skews` (`advskew = {..}`) and,
        /// when carp.sh has `pass`, that password in a key file.
        fn carp_sh(&self, nodes: &[&str], vip: &str, skews: &str, key: Option<&str>) -> PathBuf {
            let mut pass = String::new();
            if let Some(key) = key {
                let keys = self.dir.path().join("carpctl.d");
                fs::create_dir(&keys).expect("key directory");
                fs::set_permissions(&keys, fs::Permissions::from_mode(0o700)).expect("chmod");
                let path = keys.join("carp.key");
                fs::write(&path, format!("{key}\n")).expect("key file");
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
                pass = "password_file = \"carpctl.d/carp.key\"\n".to_string();
            }
            let cfg = self.dir.path().join("carpctl.toml");
            let mut text = String::from("[cluster]\npreempt = true\n");
            for n in nodes {
                text.push_str(&format!(
                    "[[node]]\nname = \"{n}\"\ninterfaces = {{ lan = \"em0\" }}\n"
                ));
            }
            text.push_str(&format!(
                "[[vip]]\nname = \"carp\"\nvhid = 1\ninterface = \"lan\"\n\
                 addresses = [\"{vip}\"]\n{pass}{skews}\n"
            ));
            fs::write(&cfg, text).expect("cluster file");
            cfg
        }
    }

    impl Drop for Lab {
        fn drop(&mut self) {
            // Give each interface its epair name back before the jail goes,
            // so that it returns to the host as epairNa/b and not as a
            // second "em0"; then remove the jail and destroy the pair.
            for j in &self.jails {
                if j.ifname != j.epair_end {
                    let _ = Command::new("jexec")
                        .args([&j.name, "ifconfig", &j.ifname, "name", &j.epair_end])
                        .output();
                }
                let _ = Command::new("jail").args(["-r", &j.name]).output();
            }
            let _ = Command::new("ifconfig")
                .args([&format!("{}a", self.epair), "destroy"])
                .output();
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
    fn apply(jail: &str, cfg: &Path, node: Option<&str>) -> usize {
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
    fn states(jail: &str) -> Vec<(u64, String)> {
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

    /// Poll both jails until `want` = [(vhid, state on a, state on b)]
    /// holds, or fail after `limit` with what was seen last. Two MASTERs
    /// for one vhid fail the test when two polls in a row see them: a
    /// single sighting can be the instant of a handover (preemption, or
    /// the first advertisements after apply), which carp(4) resolves with
    /// one advertisement.
    fn wait_for(a: &str, b: &str, want: &[(u64, &str, &str)], limit: Duration, what: &str) {
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

    #[test]
    fn seed_cluster_in_two_vnet_jails() {
        if let Some(why) = missing_prerequisite() {
            eprintln!("skipped: {why}");
            return;
        }
        let mut lab = Lab::new();
        let cfg = lab.seed();
        // The seed's node interfaces: lan = em0 on mail-a, igb0 on mail-b.
        let a = lab.jail("mail-a", 'a', "em0", "192.168.1.3/24");
        let b = lab.jail("mail-b", 'b', "igb0", "192.168.1.4/24");

        assert!(
            apply(&a, &cfg, Some("mail-a")) > 0,
            "the first apply on mail-a changed nothing"
        );
        // mail-b by its host name (host.hostname of the jail).
        assert!(
            apply(&b, &cfg, None) > 0,
            "the first apply on mail-b changed nothing"
        );

        // Master-down is 3 x advbase + advskew/256 s, about 3 s here.
        let mirrored = [(1, "MASTER", "BACKUP"), (2, "BACKUP", "MASTER")];
        wait_for(&a, &b, &mirrored, Duration::from_secs(20), "after apply");

        // A second apply finds nothing to change and leaves the layout.
        assert_eq!(apply(&a, &cfg, Some("mail-a")), 0, "second apply on mail-a");
        wait_for(
            &a,
            &b,
            &mirrored,
            Duration::from_secs(10),
            "after a second apply",
        );

        // Failover: mail-a's link goes down, its vhids go INIT and mail-b
        // takes vhid 1 over.
        run(Command::new("jexec").args([&a, "ifconfig", "em0", "down"]));
        wait_for(
            &a,
            &b,
            &[(1, "INIT", "MASTER"), (2, "INIT", "MASTER")],
            Duration::from_secs(15),
            "failover",
        );

        // Preemption (the seed sets preempt = true): mail-a comes back and
        // takes vhid 1 back; vhid 2 stays with mail-b.
        run(Command::new("jexec").args([&a, "ifconfig", "em0", "up"]));
        wait_for(
            &a,
            &b,
            &mirrored,
            Duration::from_secs(20),
            "preemption after recovery",
        );
    }

    /// carp.sh `switch` (@ ba0fe1dd): `ifconfig IF vhid 1 state backup`
    /// then `state master` on a node's vhid must succeed (the test guards
    /// against a panic); here after `carpctl apply` configured the vhid
    /// as the test does (advskew 100, no password),
    /// and each state is then the one `carpctl status` reports. Mirrored
    /// by `sim::freebsd_tests::carp_sh_switch`.
    #[test]
    fn carp_sh_switch_in_a_vnet_jail() {
        if let Some(why) = missing_prerequisite() {
            eprintln!("skipped: {why}");
            return;
        }
        let mut lab = Lab::new();
        let cfg = lab.carp_sh(&["one"], "192.0.2.1/24", "advskew = { one = 100 }", None);
        let one = lab.jail("one", 'a', "em0", "192.0.2.2/24");
        assert!(apply(&one, &cfg, Some("one")) > 0, "apply changed nothing");
        let state = |want: &str| {
            let start = Instant::now();
            loop {
                let s = states(&one);
                if s == [(1, want.to_string())] {
                    return;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "want {want}, seen {s:?}"
                );
                sleep(Duration::from_millis(250));
            }
        };
        // Alone, it becomes MASTER after its master-down interval.
        state("MASTER");
        run(Command::new("jexec").args([&one, "ifconfig", "em0", "vhid", "1", "state", "backup"]));
        let now = states(&one);
        assert_eq!(now, [(1, "BACKUP".to_string())], "right after state backup");
        run(Command::new("jexec").args([&one, "ifconfig", "em0", "vhid", "1", "state", "master"]));
        state("MASTER");
    }

    /// carp.sh `negative_demotion` (@ ba0fe1dd, PR 259528): preempt on
    /// both, advskew 0 and 100, the same password; once settled, `sysctl
    /// net.inet.carp.demotion=-1` on the MASTER, and 3 s later there must
    /// not be two masters. Here carpctl applies the pair (pinned advskews
    /// 0 and 100, `pass foobar`). Mirrored by `sim::freebsd_tests::carp_sh_negative_demotion`.
    #[test]
    fn carp_sh_negative_demotion_in_two_vnet_jails() {
        if let Some(why) = missing_prerequisite() {
            eprintln!("skipped: {why}");
            return;
        }
        let mut lab = Lab::new();
        let cfg = lab.carp_sh(
            &["one", "two"],
            "192.0.2.254/24",
            "advskew = { one = 0, two = 100 }",
            Some("foobar"),
        );
        let one = lab.jail("one", 'a', "em0", "192.0.2.1/24");
        let two = lab.jail("two", 'b', "em0", "192.0.2.2/24");
        assert!(
            apply(&one, &cfg, Some("one")) > 0,
            "apply on one changed nothing"
        );
        assert!(
            apply(&two, &cfg, Some("two")) > 0,
            "apply on two changed nothing"
        );
        let settled = [(1, "MASTER", "BACKUP")];
        wait_for(&one, &two, &settled, Duration::from_secs(20), "after apply");
        run(Command::new("jexec").args([&one, "sysctl", "net.inet.carp.demotion=-1"]));
        sleep(Duration::from_secs(3));
        let (s1, s2) = (states(&one), states(&two));
        assert!(
            !(s1 == [(1, "MASTER".to_string())] && s2 == [(1, "MASTER".to_string())]),
            "Two masters! one {s1:?}, two {s2:?}"
        );
    }
}
