//! The cases that need one epair between two VNET jails: the seed
//! cluster, and FreeBSD's carp.sh `switch` and `negative_demotion`.

use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::lab::{Lab, apply, missing_prerequisite, run, states, wait_for};

#[test]
fn seed_cluster_in_two_vnet_jails() {
    if let Some(why) = missing_prerequisite() {
        eprintln!("skipped: {why}");
        return;
    }
    let mut lab = Lab::new("seed");
    let cfg = lab.seed();
    let e = lab.epair();
    // The seed's node interfaces: lan = em0 on mail-a, igb0 on mail-b.
    let a = lab.jail("mail-a", &format!("{e}a"), "em0", "192.168.1.3/24");
    let b = lab.jail("mail-b", &format!("{e}b"), "igb0", "192.168.1.4/24");

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
    let mut lab = Lab::new("switch");
    let e = lab.epair();
    let cfg = lab.carp_sh(&["one"], "192.0.2.1/24", "advskew = { one = 100 }", None);
    let one = lab.jail("one", &format!("{e}a"), "em0", "192.0.2.2/24");
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
    let mut lab = Lab::new("negative_demotion");
    let e = lab.epair();
    let cfg = lab.carp_sh(
        &["one", "two"],
        "192.0.2.254/24",
        "advskew = { one = 0, two = 100 }",
        Some("foobar"),
    );
    let one = lab.jail("one", &format!("{e}a"), "em0", "192.0.2.1/24");
    let two = lab.jail("two", &format!("{e}b"), "em0", "192.0.2.2/24");
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
