//! FreeBSD's carp.sh cases (@ ba0fe1dd) that join their two nodes through
//! an if_bridge in a third VNET jail: basic_v4, basic_v6 and
//! nd6_ns_source_mac (the bridge jail is also the client), unicast_v4 and
//! unicast_v6 (the bridge jail is a router between the nodes' two
//! subnets). Each is mirrored by a simulation of the same name in
//! `src/sim/freebsd_tests.rs`; `docs/freebsd-tests.md` describes them.
//!
//! As in carp.sh, each node's jail gets its address and then its vhid (by
//! `carpctl apply`) before the next node's jail is made, and nothing pins
//! which of two nodes with equal skews becomes MASTER: carp.sh asserts
//! only that not both are.

use std::process::Command;
use std::time::Duration;

use super::lab::{Lab, apply, jexec, missing_bridge, missing_unicast, wait_for, wait_for_carp};

/// carp.sh's `add vhid 1` lines name no advskew in these cases: both 0,
/// a tie on purpose.
const EQUAL: &str = "advskew = { two = 0, three = 0 }\nallow_tie = true";

/// How long `wait_for_carp` may take: the master-down interval (3 s at
/// advbase 1) with room for a slow host.
const SETTLE: Duration = Duration::from_secs(30);

/// `ping [-6] ARGS` in `jail`: its exit status (carp.sh's `atf_check -s
/// exit:N`).
fn ping(jail: &str, args: &[&str]) -> Option<i32> {
    Command::new("jexec")
        .arg(jail)
        .arg("ping")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("jexec {jail} ping: {e}"))
        .status
        .code()
}

/// carp.sh's ping: `ping` for IPv4, `ping -6` for IPv6.
fn ping_cmd(v6: bool) -> &'static [&'static str] {
    if v6 { &["ping", "-6"] } else { &["ping"] }
}

/// basic_v4 and basic_v6: the bridge jail `one` (192.0.2.4/29,
/// 2001:db8::4/64), nodes `two` (.202, 2001:db8::1:2) and `three` (.203,
/// 2001:db8::1:3), each with `add vhid 1 VIP`, no advskew (both 0, tie
/// allowed), no password; `wait_for_carp`, then `ping [-6] -c 3 VIP`
/// from the bridge jail is answered.
fn basic(case: &str, v6: bool) {
    if let Some(why) = missing_bridge() {
        eprintln!("skipped: {why}");
        return;
    }
    let (bridge, own, vip) = if v6 {
        (
            "2001:db8::4/64",
            ["2001:db8::1:2/64", "2001:db8::1:3/64"],
            "2001:db8::1",
        )
    } else {
        (
            "192.0.2.4/29",
            ["192.0.2.202/29", "192.0.2.203/29"],
            "192.0.2.1",
        )
    };
    let len = if v6 { 64 } else { 29 };
    let mut lab = Lab::new(case);
    let cfg = lab.carp_sh(&["two", "three"], &format!("{vip}/{len}"), EQUAL, None);
    let (one, ends) = lab.bridge_jail("one", &[bridge]);
    let two = lab.jail("two", &ends[0], "em0", own[0]);
    assert!(
        apply(&two, &cfg, Some("two")) > 0,
        "apply on two changed nothing"
    );
    let three = lab.jail("three", &ends[1], "em0", own[1]);
    assert!(
        apply(&three, &cfg, Some("three")) > 0,
        "apply on three changed nothing"
    );
    wait_for_carp(&two, &three, SETTLE);
    jexec(&one, &[ping_cmd(v6), &["-c", "3", vip]].concat());
}

/// carp.sh `basic_v4`. Mirrored by `sim::freebsd_tests::carp_sh_basic_v4`.
#[test]
fn carp_sh_basic_v4_in_three_vnet_jails() {
    basic("basic_v4", false);
}

/// carp.sh `basic_v6`. Mirrored by `sim::freebsd_tests::carp_sh_basic_v6`.
#[test]
fn carp_sh_basic_v6_in_three_vnet_jails() {
    basic("basic_v6", true);
}

/// unicast_v4 and unicast_v6: the router jail `one` (forwarding on, the
/// bridge at 192.0.2.4/29 with 198.51.100.1/25 and 198.51.100.129/25;
/// 2001:db8::4/64 with 2001:db8:1::1/64 and 2001:db8:2::1/64), node `two`
/// at 198.51.100.2/25 (2001:db8:1::2/64) and `three` at 198.51.100.130/25
/// (2001:db8:2::2/64), each with a default route via the router's address
/// in its subnet and `add vhid 1 peer|peer6 OTHER VIP` (`unicast = true`
/// and the nodes' `addresses`), no advskew (both 0, tie allowed), no
/// password. Asserts as carp.sh: the sanity ping from two to three, then
/// `wait_for_carp`, then `ping [-6] -c 3 VIP` from the router answered.
fn unicast(case: &str, v6: bool) {
    if let Some(why) = missing_unicast() {
        eprintln!("skipped: {why}");
        return;
    }
    let (own, gw, vip) = if v6 {
        (
            ["2001:db8:1::2", "2001:db8:2::2"],
            ["2001:db8:1::1", "2001:db8:2::1"],
            "2001:db8::1/64",
        )
    } else {
        (
            ["198.51.100.2", "198.51.100.130"],
            ["198.51.100.1", "198.51.100.129"],
            "192.0.2.1/29",
        )
    };
    let len = if v6 { 64 } else { 25 };
    let route: &[&str] = if v6 {
        &["route", "-6", "add", "default"]
    } else {
        &["route", "add", "default"]
    };
    let mut lab = Lab::new(case);
    let cfg = lab.carp_sh_unicast(&["two", "three"], &own, vip, EQUAL);
    let (one, ends) = lab.router_jail("one", v6);
    let mut nodes = Vec::new();
    for (i, node) in ["two", "three"].into_iter().enumerate() {
        let jail = lab.jail(node, &ends[i], "em0", &format!("{}/{len}", own[i]));
        jexec(&jail, &[route, &[gw[i]]].concat());
        assert!(
            apply(&jail, &cfg, Some(node)) > 0,
            "apply on {node} changed nothing"
        );
        nodes.push(jail);
    }
    // carp.sh's sanity check: two reaches three through the router.
    jexec(&nodes[0], &[ping_cmd(v6), &["-c", "1", own[1]]].concat());
    wait_for_carp(&nodes[0], &nodes[1], SETTLE);
    let vip = vip.split('/').next().unwrap_or(vip);
    jexec(&one, &[ping_cmd(v6), &["-c", "3", vip]].concat());
}

/// carp.sh `unicast_v4` (FreeBSD 14.0 and later). Mirrored by
/// `sim::freebsd_tests::carp_sh_unicast_v4_and_v6`.
#[test]
fn carp_sh_unicast_v4_in_three_vnet_jails() {
    unicast("unicast_v4", false);
}

/// carp.sh `unicast_v6` (FreeBSD 14.0 and later). Mirrored by
/// `sim::freebsd_tests::carp_sh_unicast_v4_and_v6`.
#[test]
fn carp_sh_unicast_v6_in_three_vnet_jails() {
    unicast("unicast_v6", true);
}

/// carp.sh `nd6_ns_source_mac`: the bridge jail at 2001:db8::4/64, node
/// `one` (carp.sh's master jail) at 2001:db8::1:2/64 with `inet6 add vhid
/// 1 advskew 0 2001:db8::0:1/64`, node `two` (its slave jail) at
/// 2001:db8::1:3/64 with advskew 100, no password. Once one is MASTER:
/// `ping -6 -c 3 -S 2001:db8::1 2001:db8::4` from the BACKUP gets no
/// answer (exit 2), from the MASTER it does (exit 0), and the bridge
/// jail's `ndp -an` shows the VIP at the virtual MAC 00:00:5e:00:01:01
/// (the MASTER's neighbour solicitation from the VIP carries it,
/// `carp_macmatch6()`). Mirrored by
/// `sim::freebsd_tests::carp_sh_nd6_ns_source_mac`.
#[test]
fn carp_sh_nd6_ns_source_mac_in_three_vnet_jails() {
    if let Some(why) = missing_bridge() {
        eprintln!("skipped: {why}");
        return;
    }
    let mut lab = Lab::new("nd6_ns_source_mac");
    let cfg = lab.carp_sh(
        &["one", "two"],
        "2001:db8::1/64",
        "advskew = { one = 0, two = 100 }",
        None,
    );
    let (bridge, ends) = lab.bridge_jail("bridge", &["2001:db8::4/64"]);
    let one = lab.jail("one", &ends[0], "em0", "2001:db8::1:2/64");
    assert!(
        apply(&one, &cfg, Some("one")) > 0,
        "apply on one changed nothing"
    );
    let two = lab.jail("two", &ends[1], "em0", "2001:db8::1:3/64");
    assert!(
        apply(&two, &cfg, Some("two")) > 0,
        "apply on two changed nothing"
    );
    // wait_for_carp; carp.sh then takes its master jail to be MASTER,
    // which its next two asserts need: wait for that layout.
    wait_for(
        &one,
        &two,
        &[(1, "MASTER", "BACKUP")],
        SETTLE,
        "after apply",
    );

    let from_vip = ["-6", "-c", "3", "-S", "2001:db8::1", "2001:db8::4"];
    assert_eq!(
        ping(&two, &from_vip),
        Some(2),
        "ping from the VIP on the BACKUP: carp.sh expects exit 2 (no answer)"
    );
    assert_eq!(
        ping(&one, &from_vip),
        Some(0),
        "ping from the VIP on the MASTER: carp.sh expects exit 0"
    );
    let ndp = jexec(&bridge, &["ndp", "-an"]);
    let ndp = String::from_utf8_lossy(&ndp.stdout);
    // carp.sh: atf_check -o match:'2001:db8::1 +00:00:5e:00:01:01'.
    let re = regex::Regex::new("2001:db8::1 +00:00:5e:00:01:01").expect("regex");
    assert!(
        re.is_match(&ndp),
        "the bridge jail's ndp -an has no 2001:db8::1 at 00:00:5e:00:01:01:\n{ndp}"
    );
}
