//! Issue 12 item 8: per-node releases and latency, forced state,
//! `ifconfig down`/`up`, `net.inet.carp.allow`, one-way loss, traffic from
//! a VIP and the caches it fills, and the mistakes in each new key.

use super::tests::{errors, has, load, run_capture, scenario2, transitions, two};
use super::*;

/// Two nodes `one` (advskew 0) and `two` (advskew `step`), preempt on, VIP
/// `carp` at `vip`; `two` boots at 0.5 s, as carp.sh's second jail.
fn pair_files(
    step: u32,
    vip: &str,
    own: [&str; 2],
    top: &str,
    nodes: [&str; 2],
    rest: &str,
) -> (tests::Files, Scenario) {
    let cluster = format!(
        "[cluster]\npreempt = true\nadvskew_step = {step}\n\
         [[node]]\nname = \"one\"\n[[node]]\nname = \"two\"\n\
         [[vip]]\nname = \"carp\"\nvhid = 1\ninterface = \"em0\"\naddresses = [\"{vip}\"]\n\
         prefer = [\"one\", \"two\"]\n"
    );
    let scenario = format!(
        "cluster = \"cluster.toml\"\nduration = 30\n{top}\n[passwords]\ncarp = \"foobar\"\n\
         [[node]]\nname = \"one\"\ninterfaces = {{ em0 = [\"{}\"] }}\n{}\n\
         [[node]]\nname = \"two\"\nup = false\ninterfaces = {{ em0 = [\"{}\"] }}\n{}\n\
         [[event]]\nat = 0.5\naction = \"boot\"\nnode = \"two\"\n{rest}",
        own[0], nodes[0], own[1], nodes[1]
    );
    load(&cluster, &scenario)
}

fn v4(top: &str, nodes: [&str; 2], rest: &str) -> (tests::Files, Scenario) {
    pair_files(
        4,
        "192.0.2.100/24",
        ["192.0.2.1/24", "192.0.2.2/24"],
        top,
        nodes,
        rest,
    )
}

/// Every expectation met (the requirements are not judged here: these
/// runs break them on purpose).
fn passed(r: &Report) {
    assert!(!r.expectations.is_empty());
    let not: Vec<_> = r.expectations.iter().filter(|e| !e.met).collect();
    assert!(not.is_empty(), "not met: {not:?}\n{}", r.to_text());
}

/// An error with a file, line and column that says `needle`.
fn placed(errs: &[String], needle: &str) -> bool {
    errs.iter().any(|e| {
        let Some((_, rest)) = e.split_once("scenario.toml:") else {
            return false;
        };
        let mut parts = rest.splitn(3, ':');
        let num = |p: Option<&str>| {
            p.is_some_and(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
        };
        num(parts.next()) && num(parts.next()) && e.contains(needle)
    })
}

/// A cluster in the middle of an upgrade: each node runs its own release.
/// PR 259528's bug (a negative demotion advertised as skew 255, fixed in
/// 13.1) shows only when the demoted MASTER runs 13.0, whatever its peer
/// runs.
#[test]
fn each_node_runs_its_own_release() {
    let demote = "[[event]]\nat = 10\naction = \"demote\"\nnode = \"one\"\nby = -1\n";
    let dual = "[[expect]]\nno_dual_master = false\nfrom = 10\n";
    let single = "[[expect]]\nno_dual_master = true\n";
    let cases = [
        ("freebsd = \"14\"", ["freebsd = \"13.0\"", ""], dual, "13.0"),
        ("freebsd = \"13.0\"", ["freebsd = \"14\"", ""], single, "14"),
    ];
    for (top, nodes, expect, one) in cases {
        let (_f, sc) = pair_files(
            100,
            "192.0.2.254/24",
            ["192.0.2.1/24", "192.0.2.2/24"],
            top,
            nodes,
            &format!("{demote}{expect}"),
        );
        let r = run(&sc, None).unwrap();
        passed(&r);
        assert_eq!(r.nodes[0].freebsd, one);
        assert!(r.to_text().contains(&format!("one (FreeBSD {one};")));
    }
}

/// carp.sh `switch`'s `ifconfig vhid 1 state backup` / `state master`, on
/// the MASTER of a pair: forced BACKUP, the peer takes over at its
/// master-down time (and preempt gives it back); forced MASTER on the
/// BACKUP makes two masters until the peer's next advertisement steps
/// the forced one down (`my interval >= peer's`). A crashed node has
/// nothing to force.
#[test]
fn forced_state_acts_on_the_vhid_until_the_protocol_says_otherwise() {
    let events = "[[event]]\nat = 10\naction = \"state\"\nnode = \"one\"\nvip = \"carp\"\nstate = \"backup\"\n\
                  [[event]]\nat = 20\naction = \"state\"\nnode = \"two\"\nvip = \"carp\"\nstate = \"master\"\n\
                  [[event]]\nat = 25\naction = \"crash\"\nnode = \"two\"\n\
                  [[event]]\nat = 26\naction = \"state\"\nnode = \"two\"\nvip = \"carp\"\nstate = \"master\"\n\
                  [[expect]]\nstate = \"backup\"\nnode = \"one\"\nvip = \"carp\"\nat = 10\n\
                  [[expect]]\nmaster = \"one\"\nvip = \"carp\"\nat = 19\n\
                  [[expect]]\nno_dual_master = false\nfrom = 20\nuntil = 22\n\
                  [[expect]]\nmaster = \"one\"\nvip = \"carp\"\nat = 30\n";
    let (_f, sc) = v4("", ["", ""], events);
    let r = run(&sc, None).unwrap();
    passed(&r);
    let forced: Vec<_> = r
        .transitions
        .iter()
        .filter(|t| t.reason == "user requested via ifconfig")
        .map(|t| (t.time, t.node.to_string(), t.to))
        .collect();
    assert_eq!(
        forced,
        [
            (10.0, "one".into(), CarpState::Backup),
            (20.0, "two".into(), CarpState::Master)
        ]
    );
}

/// `ifconfig em0 down` goes through `carp_linkstate()` as a link going
/// down does (INIT, the ifdown demotion, the peer takes over), but it is
/// the host's setting, not the cable's: a reboot brings the interface up
/// again, while a link that is down stays down across the reboot.
#[test]
fn ifconfig_down_is_undone_by_a_reboot_and_link_down_is_not() {
    for (down, back_at_30) in [("ifconfig_down", "one"), ("link_down", "two")] {
        let events = format!(
            "[[event]]\nat = 10\naction = \"{down}\"\nnode = \"one\"\n\
             [[event]]\nat = 20\naction = \"crash\"\nnode = \"one\"\n\
             [[event]]\nat = 21\naction = \"boot\"\nnode = \"one\"\n\
             [[expect]]\nmaster = \"two\"\nvip = \"carp\"\nat = 15\n\
             [[expect]]\nmaster = \"{back_at_30}\"\nvip = \"carp\"\nat = 30\n\
             [[expect]]\nlongest_outage_below = 4\n"
        );
        let (_f, sc) = v4("", ["", ""], &events);
        let r = run(&sc, None).unwrap();
        passed(&r);
        let down_at_10 = r
            .transitions
            .iter()
            .any(|t| *t.node == *"one" && t.time == 10.0 && t.reason == "hardware interface down");
        assert!(down_at_10, "{down}: {}", r.to_text());
        assert!(r.demotions.iter().any(|d| d.time == 10.0 && d.delta == 240));
    }
    // Up again without a reboot: the demotion is undone and preempt
    // gives the VIP back.
    let events = "[[event]]\nat = 10\naction = \"ifconfig_down\"\nnode = \"one\"\ninterface = \"em0\"\n\
                  [[event]]\nat = 15\naction = \"ifconfig_up\"\nnode = \"one\"\n\
                  [[expect]]\nmaster = \"two\"\nvip = \"carp\"\nat = 14\n\
                  [[expect]]\nmaster = \"one\"\nvip = \"carp\"\nat = 30\n";
    let (_f, sc) = v4("", ["", ""], events);
    passed(&run(&sc, None).unwrap());
}

/// `sysctl net.inet.carp.allow=0` on the MASTER: `carp_allow_sysctl()`
/// runs `carp_sc_state()` on every vhid, which goes to INIT as if its
/// interface were down; `=1` brings it back (and preempt the VIP).
#[test]
fn carp_allow_zero_stops_the_node_and_one_restarts_it() {
    let events = "[[event]]\nat = 10\naction = \"carp_allow\"\nnode = \"one\"\nvalue = false\n\
                  [[event]]\nat = 20\naction = \"carp_allow\"\nnode = \"one\"\nvalue = true\n\
                  [[expect]]\nstate = \"init\"\nnode = \"one\"\nvip = \"carp\"\nat = 10\n\
                  [[expect]]\nmaster = \"two\"\nvip = \"carp\"\nat = 19\n\
                  [[expect]]\nmaster = \"one\"\nvip = \"carp\"\nat = 30\n";
    let (_f, sc) = v4("", ["", ""], events);
    let r = run(&sc, None).unwrap();
    passed(&r);
    assert!(r.to_text().contains("carp_allow       one 0"));
}

/// One-way loss: when `one`'s advertisements no longer reach `two`, `two`
/// becomes MASTER while `one`, still hearing `two`'s less frequent ones,
/// stays MASTER: two masters. The other way round nothing changes.
#[test]
fn one_way_loss_acts_in_its_direction_only() {
    let lose = |from: &str, to: &str| {
        format!(
            "[[event]]\nat = 10\naction = \"loss\"\nfrom = \"{from}\"\nto = \"{to}\"\npercent = 100\n"
        )
    };
    let dual = "[[expect]]\nno_dual_master = false\nfrom = 10\n\
                [[expect]]\nstate = \"master\"\nnode = \"two\"\nvip = \"carp\"\nat = 30\n";
    let (_f, sc) = v4("", ["", ""], &format!("{}{dual}", lose("one", "two")));
    let r = run(&sc, None).unwrap();
    passed(&r);
    assert!(r.to_text().contains("100% from one to two"));
    let single = "[[expect]]\nno_dual_master = true\n\
                  [[expect]]\nmaster = \"one\"\nvip = \"carp\"\nat = 30\n";
    for rest in [
        lose("two", "one"),
        "[[event]]\nat = 10\naction = \"loss\"\nto = \"one\"\npercent = 100\n".into(),
    ] {
        let (_f, sc) = v4("", ["", ""], &format!("{rest}{single}"));
        passed(&run(&sc, None).unwrap());
    }
    // Everything `one` sends is lost: as the first case.
    let from_one = "[[event]]\nat = 10\naction = \"loss\"\nnode = \"two\"\npercent = 0\n\
                    [[event]]\nat = 10\naction = \"loss\"\nfrom = \"one\"\npercent = 100\n";
    let (_f, sc) = v4("", ["", ""], &format!("{from_one}{dual}"));
    passed(&run(&sc, None).unwrap());
}

/// A node's own `latency` delays the frames it sends: the backup hears
/// the crashed MASTER's last advertisement that much later, and takes over
/// that much later.
#[test]
fn a_nodes_latency_delays_what_it_sends() {
    let crash = "[[event]]\nat = 10\naction = \"crash\"\nnode = \"one\"\n";
    let takeover = |node_one: &str| {
        let (_f, sc) = v4("", [node_one, ""], crash);
        let r = run(&sc, None).unwrap();
        transitions(&r, "two", CarpState::Master)[0].time
    };
    let fast = takeover("");
    let slow = takeover("latency = 0.25");
    let d = slow - fast;
    assert!((d - (0.25 - 0.0001)).abs() < 0.003, "{fast} {slow}");
}

/// carp.sh `nd6_ns_source_mac`, whole: the BACKUP's ping from the VIP gets
/// no answer (and moves the virtual MAC to its port until the MASTER's
/// next advertisement: a short outage), the MASTER's is answered, and the
/// bridge's neighbour cache holds the VIP at 00:00:5e:00:01:01.
#[test]
fn traffic_from_a_vip_is_answered_on_the_master_only() {
    let events = "[[event]]\nat = 10\naction = \"send_from_vip\"\nnode = \"two\"\nvip = \"carp\"\nto = \"2001:db8::4\"\n\
                  [[event]]\nat = 12\naction = \"send_from_vip\"\nnode = \"one\"\nvip = \"carp\"\nto = \"2001:db8::4\"\n\
                  [[event]]\nat = 14\naction = \"send_from_vip\"\nnode = \"one\"\nvip = \"carp\"\nto = \"2001:db8::1:3\"\n\
                  [[expect]]\nanswered = false\nnode = \"two\"\nvip = \"carp\"\nat = 10\n\
                  [[expect]]\nanswered = true\nnode = \"one\"\nvip = \"carp\"\nat = 12\n\
                  [[expect]]\ncache = \"clients\"\naddress = \"2001:db8::1\"\nmac = \"00:00:5E:00:01:01\"\n\
                  [[expect]]\ncache = \"two\"\naddress = \"2001:db8::1\"\nmac = \"none\"\nat = 13\n\
                  [[expect]]\ncache = \"two\"\naddress = \"2001:db8::1\"\nmac = \"00:00:5e:00:01:01\"\n\
                  [[expect]]\nlongest_outage_below = 1.1\n";
    let (_f, sc) = pair_files(
        100,
        "2001:db8::1/64",
        ["2001:db8::1:2/64", "2001:db8::1:3/64"],
        "",
        ["", ""],
        events,
    );
    let (r, _) = run_capture(&sc);
    passed(&r);
    let o = &r.vips[0].outages;
    assert_eq!(o.len(), 1, "{}", r.to_text());
    assert_eq!(o[0].start, 10.0);
    assert!(o[0].end - o[0].start <= 1.0 + 100.0 / 256.0, "{o:?}");
    let text = r.to_text();
    assert!(text.contains("sent from a VIP:"), "{text}");
    assert!(
        text.contains("only a MASTER takes (carp_forus()); this node is BACKUP"),
        "{text}"
    );
    assert!(text.contains("clients      2001:db8::1"), "{text}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["sent_from_vip"][1]["answered"], true);
    assert_eq!(json["neighbors"][0]["mac"], "00:00:5e:00:01:01");
    // A crashed node sends nothing.
    let events = "[[event]]\nat = 10\naction = \"crash\"\nnode = \"one\"\n\
                  [[event]]\nat = 11\naction = \"send_from_vip\"\nnode = \"one\"\nvip = \"carp\"\nto = \"2001:db8::4\"\n\
                  [[expect]]\nanswered = false\nnode = \"one\"\nvip = \"carp\"\nat = 11\n";
    let (_f, sc) = pair_files(
        100,
        "2001:db8::1/64",
        ["2001:db8::1:2/64", "2001:db8::1:3/64"],
        "",
        ["", ""],
        events,
    );
    let r = run(&sc, None).unwrap();
    passed(&r);
    assert!(
        r.sent_from_vip[0]
            .detail
            .contains("not sent: the node is down")
    );
}

/// Every new key's mistakes, each with its place and its key.
#[test]
fn bad_item_8_keys_are_refused_with_their_place() {
    let c = two(true);
    let base = |node_b: &str, events: &str| {
        scenario2(30, events).replace(
            "name = \"b\"\ninterfaces",
            &format!("name = \"b\"\n{node_b}interfaces"),
        )
    };
    let e = errors(&c, &base("freebsd = \"12\"\nlatency = 2\n", ""));
    assert!(
        has(&e, 10, "node[1].freebsd: unknown FreeBSD flavor \"12\""),
        "{e:?}"
    );
    assert!(
        has(&e, 11, "node[1].latency 2 is out of range 0-1"),
        "{e:?}"
    );
    // Each case: an [[event]] ("at = 1" added) or an [[expect]] table.
    let ev = "[[event]]\nat = 1\n";
    let ex = "[[expect]]\n";
    let cases: &[(&str, &str, &str)] = &[
        (
            ev,
            "action = \"state\"\nnode = \"a\"\nvip = \"web\"\nstate = \"init\"\n",
            "state \"init\" is not master or backup",
        ),
        (
            ev,
            "action = \"state\"\nnode = \"a\"\nvip = \"web\"\n",
            "event[0] (state): state is missing",
        ),
        (
            ev,
            "action = \"ifconfig_down\"\nnode = \"a\"\ninterface = \"em7\"\n",
            "node \"a\" has no interface em7",
        ),
        (
            ev,
            "action = \"carp_allow\"\nnode = \"a\"\n",
            "event[0] (carp_allow): value is missing",
        ),
        (
            ev,
            "action = \"carp_allow\"\nnode = \"a\"\nvalue = true\nvip = \"web\"\n",
            "key vip does not apply to carp_allow",
        ),
        (
            ev,
            "action = \"loss\"\npercent = 5\nnode = \"a\"\nto = \"b\"\n",
            "node (to and from the node) goes with neither from nor to",
        ),
        (
            ev,
            "action = \"loss\"\npercent = 5\nfrom = \"b\"\nto = \"b\"\n",
            "from and to name the same node",
        ),
        (
            ev,
            "action = \"loss\"\npercent = 5\nfrom = \"zz\"\n",
            "node \"zz\" is not a [[node]]",
        ),
        (
            ev,
            "action = \"send_from_vip\"\nnode = \"a\"\nvip = \"web\"\nto = \"192.0.2.9\"\n",
            "is IPv4; send_from_vip is modelled for IPv6 only",
        ),
        (
            ev,
            "action = \"send_from_vip\"\nnode = \"a\"\nvip = \"web\"\nto = \"2001:db8::9/64\"\n",
            "is not an IPv6 address",
        ),
        (
            ev,
            "action = \"send_from_vip\"\nnode = \"a\"\nvip = \"web\"\nto = \"2001:db8::9\"\n",
            "VIP \"web\" has no IPv6 address to send from",
        ),
        (
            ev,
            "action = \"send_from_vip\"\nnode = \"a\"\nvip = \"web\"\nto = \"ff02::1\"\n",
            "is not a unicast address",
        ),
        (
            ex,
            "answered = true\nnode = \"a\"\nvip = \"web\"\nat = 3\n",
            "no send_from_vip event of node \"a\" from VIP \"web\" at 3 s",
        ),
        (
            ex,
            "cache = \"clients\"\naddress = \"192.0.2.100/32\"\nmac = \"none\"\n",
            "address \"192.0.2.100/32\" is not an address",
        ),
        (
            ex,
            "cache = \"clients\"\naddress = \"192.0.2.100\"\nmac = \"00:00:5e:00:01\"\n",
            "mac \"00:00:5e:00:01\" is not a MAC address",
        ),
        (
            ex,
            "cache = \"router\"\naddress = \"192.0.2.100\"\nmac = \"none\"\n",
            "node \"router\" is not a [[node]]",
        ),
        (
            ex,
            "cache = \"clients\"\nmac = \"none\"\n",
            "expect[0] (cache): address is missing",
        ),
    ];
    for (table, body, needle) in cases {
        let e = errors(&c, &base("", &format!("{table}{body}")));
        assert!(placed(&e, needle), "{needle}: {e:?}");
    }
}

/// The node of a `state` or `send_from_vip` must take part in the VIP.
#[test]
fn actions_on_a_vip_need_a_member_node() {
    let c = "[cluster]\npreempt = true\n[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n\
             [[node]]\nname = \"c\"\n\
             [[vip]]\nname = \"web\"\nvhid = 7\ninterface = \"em0\"\n\
             addresses = [\"2001:db8::100/64\"]\nprefer = [\"a\", \"b\"]\n";
    let s = "cluster = \"cluster.toml\"\nduration = 30\n[passwords]\nweb = \"s3cret\"\n\
             [[node]]\nname = \"a\"\ninterfaces = { em0 = [\"2001:db8::1/64\"] }\n\
             [[node]]\nname = \"b\"\ninterfaces = { em0 = [\"2001:db8::2/64\"] }\n\
             [[node]]\nname = \"c\"\ninterfaces = { em0 = [\"2001:db8::3/64\"] }\n\
             [[event]]\nat = 1\naction = \"state\"\nnode = \"c\"\nvip = \"web\"\nstate = \"master\"\n\
             [[event]]\nat = 1\naction = \"send_from_vip\"\nnode = \"a\"\nvip = \"web\"\nto = \"2001:db8::1\"\n";
    let e = errors(c, s);
    assert!(
        has(&e, 17, "node \"c\" does not take part in VIP \"web\""),
        "{e:?}"
    );
    assert!(
        has(&e, 25, "to 2001:db8::1 is an address of node \"a\" itself"),
        "{e:?}"
    );
}
