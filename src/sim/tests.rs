//! Tests of the simulator: the timing pinned to the formulas of
//! `docs/freebsd-carp.md` §8 (expected times are computed here from the formulas and the
//! frames on the segment, never read from the code under test), preempt
//! on and off, the tie, demotion, mismatched passwords and address lists,
//! the other faults, determinism, and every scenario-file mistake.

use std::path::PathBuf;

use super::report::Report;
use super::*;
use crate::wire::{Payload, decode_frame};

/// One kernel tick at the default `kern.hz=1000`: a timer armed for `d`
/// fires on the host's tick `⌈d / tick⌉ + 1` ticks after the last one
/// (`tvtohz()`, `docs/freebsd-carp.md` §8.1), so more than `d` and at most
/// `d` + 2 ticks after it was armed.
pub(super) const TICK: f64 = 0.001;

/// Whether `got` is when a timer armed at `armed` for `d` seconds fires at
/// `kern.hz=1000` ([`TICK`]): after `armed + d`, at most two ticks later
/// (a microsecond of slack for the float sums).
pub(super) fn fires_after(got: f64, armed: f64, d: f64) -> bool {
    got > armed + d - 1e-6 && got <= armed + d + 2.0 * TICK + 1e-6
}
/// The default segment latency, in seconds.
pub(super) const LATENCY: f64 = 0.0001;

pub(super) struct Files {
    _dir: tempfile::TempDir,
    pub(super) scenario: PathBuf,
}

pub(super) fn files(cluster: &str, scenario: &str) -> Files {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cluster.toml"), cluster).unwrap();
    let path = dir.path().join("scenario.toml");
    std::fs::write(&path, scenario).unwrap();
    Files {
        _dir: dir,
        scenario: path,
    }
}

pub(super) fn load(cluster: &str, scenario: &str) -> (Files, Scenario) {
    let f = files(cluster, scenario);
    let sc = load_path(&f.scenario);
    (f, sc)
}

/// The scenario at `path`, which must be valid (else its diagnostics are
/// the panic's message).
pub(super) fn load_path(path: &std::path::Path) -> Scenario {
    scenario::load(path).unwrap_or_else(|d| {
        panic!(
            "{}",
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// Every frame on the segment: (time s, bytes).
#[derive(Default)]
pub(super) struct Capture(pub(super) Vec<(f64, Vec<u8>)>);

impl FrameSink for Capture {
    fn frame(&mut self, at: u64, bytes: &[u8]) -> Result<(), String> {
        self.0.push((at as f64 / 1e6, bytes.to_vec()));
        Ok(())
    }
}

/// A CARP advertisement as read from the bytes: (time, vhid, advbase,
/// advskew).
pub(super) fn ads(cap: &Capture) -> Vec<(f64, u8, u8, u8)> {
    ip_frames(cap, |t, _, ip| {
        let p = ip.payload;
        (ip.header.protocol() == 112 && p.len() >= 36 && p[0] == 0x21)
            .then(|| (t, p[1], p[5], p[2]))
    })
}

/// `f` on every IP frame of the capture (time, Ethernet header, IP
/// packet), keeping what it returns.
pub(super) fn ip_frames<T>(
    cap: &Capture,
    f: impl Fn(f64, &crate::wire::EthernetHeader, &crate::wire::IpPacket<'_>) -> Option<T>,
) -> Vec<T> {
    cap.0
        .iter()
        .filter_map(|(t, b)| {
            let fr = decode_frame(b).ok()?;
            let Payload::Ip(ip) = &fr.payload else {
                return None;
            };
            f(*t, &fr.eth, ip)
        })
        .collect()
}

pub(super) fn run_capture(sc: &Scenario) -> (Report, Capture) {
    let mut cap = Capture::default();
    let report = run(sc, Some(&mut cap)).unwrap();
    (report, cap)
}

pub(super) fn transitions<'a>(
    r: &'a Report,
    node: &str,
    to: CarpState,
) -> Vec<&'a report::VhidStateChange> {
    r.transitions
        .iter()
        .filter(|t| *t.node == *node && t.to == to)
        .collect()
}

/// Three nodes, one VIP preferring a, b, c: advskew 0, `step`, 2 × `step`.
pub(super) fn three(advbase: u8, step: u8, preempt: bool) -> String {
    format!(
        "[cluster]\npreempt = {preempt}\nadvbase = {advbase}\nadvskew_step = {step}\n\
         [[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n[[node]]\nname = \"c\"\n\
         [[vip]]\nname = \"web\"\nvhid = 7\ninterface = \"em0\"\n\
         addresses = [\"192.0.2.100/32\"]\nprefer = [\"a\", \"b\", \"c\"]\n"
    )
}

pub(super) fn nodes3() -> &'static str {
    "[passwords]\nweb = \"s3cret\"\n\
     [[node]]\nname = \"a\"\ninterfaces = { em0 = [\"192.0.2.1/24\"] }\n\
     [[node]]\nname = \"b\"\ninterfaces = { em0 = [\"192.0.2.2/24\"] }\n\
     [[node]]\nname = \"c\"\ninterfaces = { em0 = [\"192.0.2.3/24\"] }\n"
}

pub(super) fn scenario(duration: u32, events: &str) -> String {
    format!(
        "cluster = \"cluster.toml\"\nduration = {duration}\n{}{events}",
        nodes3()
    )
}

/// After the master crashes, the best backup becomes MASTER `3 × advbase
/// + its_advskew/256` s after the last advertisement it heard.
#[test]
fn the_best_backup_takes_over_at_the_master_down_formula() {
    for (advbase, step) in [(1u8, 4u8), (2, 20), (1, 100)] {
        let (_f, sc) = load(
            &three(advbase, step, true),
            &scenario(
                40,
                "[[event]]\nat = 20.3\naction = \"crash\"\nnode = \"a\"\n",
            ),
        );
        let (r, cap) = run_capture(&sc);
        // The last ad from a (advskew 0) before the crash, heard one
        // latency later by b.
        let last = ads(&cap)
            .into_iter()
            .filter(|&(t, vhid, _, skew)| vhid == 7 && skew == 0 && t < 20.3)
            .map(|a| a.0)
            .fold(f64::NAN, f64::max);
        let heard = last + LATENCY;
        let expected = heard + 3.0 * f64::from(advbase) + f64::from(step) / 256.0;
        let took = transitions(&r, "b", CarpState::Master);
        assert_eq!(took.len(), 1, "{took:?}");
        assert_eq!(took[0].reason, "master timed out");
        assert!(
            fires_after(took[0].time, heard, expected - heard),
            "advbase {advbase}, advskew {step}: MASTER at {} s, formula {expected} s",
            took[0].time
        );
        assert!(
            transitions(&r, "c", CarpState::Master).is_empty(),
            "c stays BACKUP"
        );
        // The outage: from the crash until the switch sees b's first
        // advertisement (sent at the takeover) and sends the VIP's
        // virtual MAC to b.
        let web = &r.vips[0];
        assert_eq!(web.outages.len(), 1, "{:?}", web.outages);
        assert!((web.outages[0].start - 20.3).abs() < 1e-9);
        assert!((web.outages[0].end - (took[0].time + LATENCY)).abs() < 1e-9);
        // 10 requests per second: one lost per 100 ms of outage, ±1.
        let expect = (web.outages[0].end - web.outages[0].start) * 10.0;
        assert!(
            (web.outages[0].lost as f64 - expect).abs() <= 1.0,
            "{:?}",
            web.outages
        );
    }
}

/// With preempt on, a recovered preferred node takes its VIP back on the
/// first advertisement it hears; with preempt off it does not.
#[test]
fn preempt_on_takes_back_on_the_first_ad_and_off_does_not() {
    let events = "[[event]]\nat = 10\naction = \"crash\"\nnode = \"a\"\n\
                  [[event]]\nat = 30\naction = \"boot\"\nnode = \"a\"\n";
    let (_f, sc) = load(&three(1, 4, true), &scenario(60, events));
    let (r, cap) = run_capture(&sc);
    let first_from_b = ads(&cap)
        .into_iter()
        .find(|&(t, vhid, _, skew)| vhid == 7 && skew == 4 && t >= 30.0)
        .expect("b advertises after a boots")
        .0;
    let back: Vec<_> = transitions(&r, "a", CarpState::Master)
        .into_iter()
        .filter(|t| t.time >= 30.0)
        .collect();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].reason, "preempting a slower master");
    assert!(
        (back[0].time - (first_from_b + LATENCY)).abs() < 1e-9,
        "a took it back at {} s; b's first ad arrived at {} s",
        back[0].time,
        first_from_b + LATENCY
    );
    assert!(r.requirements.rebalanced_after_recovery);
    assert!(r.requirements.all(), "{}", r.to_text());

    let (_f, sc) = load(&three(1, 4, false), &scenario(60, events));
    let r = run(&sc, None).unwrap();
    assert!(
        transitions(&r, "a", CarpState::Master)
            .iter()
            .all(|t| t.time < 30.0),
        "without preempt a stays BACKUP"
    );
    assert!(!r.requirements.rebalanced_after_recovery);
    assert!(r.requirements.load_balanced && r.requirements.failover_unnoticed);
    assert_eq!(
        r.verdicts.rebalanced_after_recovery.expected,
        [("web".to_string(), Some("a".to_string()))]
    );
    assert_eq!(r.verdicts.rebalanced_after_recovery.wrong, ["web"]);
}

/// Two masters advertising the same interval: the one that receives
/// steps down (no address tiebreak).
#[test]
fn a_tie_steps_the_receiving_master_down() {
    // a (advskew 0) demoted by 4 advertises 4, like b.
    let events = "[[event]]\nat = 10\naction = \"partition\"\ngroups = [[\"a\"], [\"b\", \"c\"]]\n\
                  [[event]]\nat = 11\naction = \"demote\"\nnode = \"a\"\nby = 4\n\
                  [[event]]\nat = 20.5\naction = \"heal\"\n";
    let (_f, sc) = load(&three(1, 4, true), &scenario(40, events));
    let (r, cap) = run_capture(&sc);
    // Both are MASTER during the partition.
    assert!(
        r.vips[0]
            .dual_master
            .iter()
            .any(|d| d.start < 14.0 && d.end > 20.5)
    );
    // The first ad after the heal, and who sent it (by its skew: both
    // send 4 now, so by the MASTER that is still MASTER afterwards).
    let first = ads(&cap)
        .into_iter()
        .find(|&(t, vhid, _, _)| vhid == 7 && t >= 20.5)
        .unwrap();
    assert_eq!(first.3, 4, "a tie: both advertise 4");
    let down: Vec<_> = r
        .transitions
        .iter()
        .filter(|t| t.time >= 20.5 && t.from == CarpState::Master)
        .collect();
    assert_eq!(down.len(), 1, "{down:?}");
    assert_eq!(down[0].reason, "more frequent advertisement received");
    assert!((down[0].time - (first.0 + LATENCY)).abs() < 1e-9);
    let dual_end = r.vips[0].dual_master.last().unwrap().end;
    assert!((dual_end - down[0].time).abs() < 1e-9);
}

/// Two nodes, one VIP preferring a.
pub(super) fn two(preempt: bool) -> String {
    format!(
        "[cluster]\npreempt = {preempt}\n[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n\
         [[vip]]\nname = \"web\"\nvhid = 7\ninterface = \"em0\"\n\
         addresses = [\"192.0.2.100/32\"]\nprefer = [\"a\", \"b\"]\n"
    )
}

pub(super) fn scenario2(duration: u32, events: &str) -> String {
    format!(
        "cluster = \"cluster.toml\"\nduration = {duration}\n[passwords]\nweb = \"s3cret\"\n\
         [[node]]\nname = \"a\"\ninterfaces = {{ em0 = [\"192.0.2.1/24\"] }}\n\
         [[node]]\nname = \"b\"\ninterfaces = {{ em0 = [\"192.0.2.2/24\"] }}\n{events}"
    )
}

/// One-step maintenance (a demotion of 240) moves the VIP within one advertisement
/// interval and loses no request.
#[test]
fn a_demotion_moves_the_vip_at_once_and_loses_no_request() {
    let events = "[[event]]\nat = 10.25\naction = \"maintenance_on\"\nnode = \"a\"\n\
                  procedure = \"one_step\"\n";
    let (_f, sc) = load(&two(true), &scenario2(30, events));
    let r = run(&sc, None).unwrap();
    let moved = transitions(&r, "b", CarpState::Master);
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].reason, "preempting a slower master");
    // demotion -> carp_send_ad_all(): a advertises 240 at once, b preempts
    // on receipt: well within one advertisement interval (1 s).
    assert!(moved[0].time - 10.25 < 1.0, "{}", moved[0].time);
    let web = &r.vips[0];
    assert_eq!(web.lost, 0, "{:?}", web.outages);
    assert!(web.outages.iter().all(|o| o.lost == 0));
    assert!(web.requests > 0);
    let a_down = transitions(&r, "a", CarpState::Backup);
    assert!(
        a_down
            .iter()
            .any(|t| t.reason == "more frequent advertisement received")
    );
    assert!(
        r.demotions
            .iter()
            .any(|d| *d.node == *"a" && d.delta == 240 && d.reason == "sysctl")
    );
    assert!(r.requirements.all(), "{}", r.to_text());
}

/// With two backups, a demotion to 240 at once (the one-step
/// maintenance) makes both preempt at once; the
/// better one stays MASTER within one advertisement interval. (The other's
/// advertisement, sent before it stepped down, can leave the switch
/// pointing at it until the survivor's next advertisement: an outage
/// shorter than one advertisement interval.)
#[test]
fn a_demotion_with_two_backups_settles_on_the_best_one() {
    let events = "[[event]]\nat = 10.25\naction = \"maintenance_on\"\nnode = \"a\"\n\
                  procedure = \"one_step\"\n";
    let (_f, sc) = load(&three(1, 4, true), &scenario(30, events));
    let r = run(&sc, None).unwrap();
    let b = transitions(&r, "b", CarpState::Master);
    let c = transitions(&r, "c", CarpState::Master);
    assert_eq!((b.len(), c.len()), (1, 1));
    assert_eq!(
        b[0].time, c[0].time,
        "both preempt on the same advertisement"
    );
    let c_down = transitions(&r, "c", CarpState::Backup);
    assert!(
        c_down
            .iter()
            .any(|t| t.time > c[0].time && t.time - c[0].time < 0.001)
    );
    // b's advertisement interval: 1 s + 4/256 s, in ticks (1017 at hz 1000).
    let ad_interval = 1.017;
    for o in &r.vips[0].outages {
        assert!(o.end - o.start <= ad_interval + LATENCY + 1e-6, "{o:?}");
    }
    assert_eq!(
        r.verdicts.rebalanced_after_recovery.expected[0]
            .1
            .as_deref(),
        Some("b")
    );
}

/// A node with another password (or address list) computes another HMAC:
/// each rejects the other's advertisements (badauth) and both are MASTER.
#[test]
fn mismatched_passwords_and_addresses_give_dual_master() {
    for event in [
        "action = \"password\"\nnode = \"b\"\nvip = \"web\"\npassword = \"other\"\n",
        "action = \"addresses\"\nnode = \"b\"\nvip = \"web\"\naddresses = [\"192.0.2.100/32\", \"192.0.2.101/32\"]\n",
    ] {
        let events = format!("[[event]]\nat = 10\n{event}");
        let (_f, sc) = load(&three(1, 4, true), &scenario(40, &events));
        let r = run(&sc, None).unwrap();
        let web = &r.vips[0];
        let dual = web.dual_master.last().expect("dual master");
        assert!(dual.ongoing, "{dual:?}");
        assert!(dual.start > 10.0 && dual.start < 14.5, "{dual:?}");
        assert_eq!(dual.nodes, ["a", "b"]);
        let stats = |n: &str| r.nodes.iter().find(|x| x.name == n).unwrap().stats.badauth;
        assert!(stats("b") > 0 && stats("a") > 0, "{:?}", r.nodes);
        assert!(!r.requirements.failover_unnoticed);
    }
}

#[test]
fn link_down_demotes_and_moves_the_vip_and_link_up_brings_it_back() {
    let events = "[[event]]\nat = 10\naction = \"link_down\"\nnode = \"a\"\n\
                  [[event]]\nat = 20\naction = \"link_up\"\nnode = \"a\"\ninterface = \"em0\"\n";
    let (_f, sc) = load(&three(1, 4, true), &scenario(40, events));
    let r = run(&sc, None).unwrap();
    let a: Vec<_> = r.transitions.iter().filter(|t| *t.node == *"a").collect();
    assert!(a.iter().any(|t| t.time == 10.0
        && t.from == CarpState::Master
        && t.to == CarpState::Init
        && t.reason == "hardware interface down"));
    assert!(
        r.demotions
            .iter()
            .any(|d| d.reason == "interface down" && d.delta == 240)
    );
    assert!(
        r.demotions
            .iter()
            .any(|d| d.reason == "interface up" && d.delta == -240)
    );
    let b = transitions(&r, "b", CarpState::Master);
    assert_eq!(b[0].reason, "master timed out");
    assert!(r.requirements.all(), "{}", r.to_text());
}

/// Three failed sends demote (`carp_send_ad_error()`); the demotion is
/// undone only by three successful sends, which a node that has become
/// BACKUP never makes: it stays demoted, as on FreeBSD.
#[test]
fn send_errors_demote_after_three_and_stay_while_backup() {
    let events = "[[event]]\nat = 10\naction = \"send_errors\"\nnode = \"a\"\nerrno = \"ENOBUFS\"\n\
                  [[event]]\nat = 20\naction = \"send_ok\"\nnode = \"a\"\n";
    let (_f, sc) = load(&three(1, 4, true), &scenario(40, events));
    let r = run(&sc, None).unwrap();
    let reasons: Vec<&str> = r.demotions.iter().map(|d| d.reason.as_str()).collect();
    // ENOBUFS is 55 on FreeBSD.
    assert_eq!(reasons, ["send error 55 on em0"]);
    // b heard nothing from a: it took over after the master-down interval,
    // and a, demoted to 240, stepped down on b's first advertisement.
    assert_eq!(
        transitions(&r, "b", CarpState::Master)[0].reason,
        "master timed out"
    );
    let a = r.nodes.iter().find(|n| n.name == "a").unwrap();
    assert_eq!(a.demotion, 240);
    // The plan with a demoted: b.
    assert_eq!(
        r.verdicts.rebalanced_after_recovery.expected[0]
            .1
            .as_deref(),
        Some("b")
    );
}

#[test]
fn a_failing_check_demotes_by_its_weight() {
    let cluster = format!(
        "{}\n[[check]]\nname = \"smtp\"\ntype = \"tcp\"\naddress = \"127.0.0.1:25\"\nweight = 50\n",
        three(1, 4, true)
    );
    let events = "[[event]]\nat = 10\naction = \"check_fail\"\nnode = \"a\"\ncheck = \"smtp\"\n\
                  [[event]]\nat = 20\naction = \"check_pass\"\nnode = \"a\"\ncheck = \"smtp\"\n";
    let (_f, sc) = load(&cluster, &scenario(40, events));
    let r = run(&sc, None).unwrap();
    let deltas: Vec<i32> = r.demotions.iter().map(|d| d.delta).collect();
    assert_eq!(deltas, [50, -50]);
    assert_eq!(transitions(&r, "b", CarpState::Master).len(), 1);
    assert!(
        transitions(&r, "a", CarpState::Master)
            .iter()
            .any(|t| t.time >= 20.0)
    );
    assert!(r.requirements.all(), "{}", r.to_text());
}

#[test]
fn the_same_seed_gives_the_same_run_and_loss_uses_it() {
    let events = "[[event]]\nat = 5\naction = \"loss\"\npercent = 60\n\
                  [[event]]\nat = 25\naction = \"loss\"\npercent = 0\n";
    let with_seed = |seed: u32| {
        let sc = format!("seed = {seed}\n{}", scenario(40, events));
        let (_f, sc) = load(&three(1, 4, true), &sc);
        let mut v = serde_json::to_value(run(&sc, None).unwrap()).unwrap();
        // The temporary directory differs from run to run.
        v["scenario"] = serde_json::Value::Null;
        v["cluster"] = serde_json::Value::Null;
        v.to_string()
    };
    let one = with_seed(1);
    assert_eq!(one, with_seed(1));
    assert_ne!(one, with_seed(2), "60% loss depends on the seed");
}

#[test]
fn load_balance_is_measured_before_the_first_fault() {
    // Two VIPs on one node: not balanced.
    let cluster = "[cluster]\n[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n\
                   [[vip]]\nname = \"v1\"\nvhid = 1\ninterface = \"em0\"\naddresses = [\"192.0.2.101/32\"]\nprefer = [\"a\", \"b\"]\n\
                   [[vip]]\nname = \"v2\"\nvhid = 2\ninterface = \"em0\"\naddresses = [\"192.0.2.102/32\"]\nprefer = [\"a\", \"b\"]\n";
    let sc = "cluster = \"cluster.toml\"\nduration = 20\n[passwords]\nv1 = \"x\"\nv2 = \"y\"\n\
              [[node]]\nname = \"a\"\ninterfaces = { em0 = [\"192.0.2.1/24\"] }\n\
              [[node]]\nname = \"b\"\ninterfaces = { em0 = [\"192.0.2.2/24\"] }\n\
              [[event]]\nat = 10\naction = \"crash\"\nnode = \"b\"\n";
    let (_f, sc) = load(cluster, sc);
    let r = run(&sc, None).unwrap();
    let v = &r.verdicts.load_balanced;
    assert!(!v.met);
    assert_eq!((v.at, v.min, v.max), (10.0, 1, 1));
    assert_eq!(v.masters, [("a".to_string(), 2), ("b".to_string(), 0)]);
}

#[test]
fn a_scenario_that_ends_too_soon_cannot_be_judged_rebalanced() {
    let events = "[[event]]\nat = 10\naction = \"crash\"\nnode = \"a\"\n\
                  [[event]]\nat = 20\naction = \"boot\"\nnode = \"a\"\n";
    let (_f, sc) = load(&three(1, 4, true), &scenario(22, events));
    let r = run(&sc, None).unwrap();
    assert!(!r.requirements.rebalanced_after_recovery);
    assert!(
        r.verdicts
            .rebalanced_after_recovery
            .detail
            .contains("make duration longer")
    );
}

#[test]
fn the_json_contract_holds() {
    let (_f, sc) = load(
        &three(1, 4, true),
        &scenario(20, "[[event]]\nat = 10\naction = \"crash\"\nnode = \"a\"\n"),
    );
    let v = serde_json::to_value(run(&sc, None).unwrap()).unwrap();
    for k in [
        "load_balanced",
        "failover_unnoticed",
        "rebalanced_after_recovery",
    ] {
        assert!(v["requirements"][k].is_boolean(), "{k}");
    }
    let vip = &v["vips"][0];
    assert_eq!(vip["name"], "web");
    assert!(vip["outages"][0]["start"].is_f64() && vip["outages"][0]["end"].is_f64());
    assert!(vip["dual_master"].is_array());
    let t = &v["transitions"][0];
    assert!(t["time"].is_f64() || t["time"].is_u64());
    assert_eq!(t["node"], "a");
    assert_eq!(t["vhid"], 7);
    assert_eq!(
        (t["from"].as_str(), t["to"].as_str()),
        (Some("INIT"), Some("BACKUP"))
    );
    assert_eq!(t["reason"], "initialization complete");
}

// ---------------------------------------------------------------------------
// Scenario files: every mistake named with its place
// ---------------------------------------------------------------------------

pub(super) fn errors(cluster: &str, scenario: &str) -> Vec<String> {
    let f = files(cluster, scenario);
    match scenario::load(&f.scenario) {
        Ok(_) => panic!("accepted: {scenario}"),
        Err(d) => d.iter().map(ToString::to_string).collect(),
    }
}

pub(super) fn has(errs: &[String], line: usize, needle: &str) -> bool {
    errs.iter()
        .any(|e| e.contains(&format!("scenario.toml:{line}:")) && e.contains(needle))
}

#[test]
fn bad_scenarios_are_refused_with_file_line_and_column() {
    let c = three(1, 4, true);
    let base = scenario(30, "");
    // An unknown key, with serde's list of the known ones.
    let e = errors(&c, &format!("colour = 1\n{base}"));
    assert!(has(&e, 1, "unknown field `colour`"), "{e:?}");
    // Unknown action, missing and inapplicable keys, bad node, bad time.
    let e = errors(
        &c,
        &format!(
            "{base}[[event]]\nat = 1\naction = \"explode\"\n\
             [[event]]\nat = 2\naction = \"crash\"\n\
             [[event]]\nat = 3\naction = \"crash\"\nnode = \"zz\"\n\
             [[event]]\nat = 99\naction = \"heal\"\n\
             [[event]]\nat = 4\naction = \"heal\"\nnode = \"a\"\n\
             [[event]]\nat = 5\naction = \"loss\"\npercent = 120\n"
        ),
    );
    assert!(has(&e, 16, "unknown action \"explode\""), "{e:?}");
    assert!(has(&e, 17, "event[1] (crash): node is missing"), "{e:?}");
    assert!(has(&e, 23, "node \"zz\" is not a [[node]]"), "{e:?}");
    assert!(has(&e, 25, "at 99 is outside the scenario"), "{e:?}");
    assert!(has(&e, 30, "key node does not apply to heal"), "{e:?}");
    assert!(has(&e, 34, "percent 120 is out of range"), "{e:?}");
}

#[test]
fn a_scenario_that_is_not_utf8_is_refused_naming_the_file() {
    let f = files(&three(1, 4, true), "");
    std::fs::write(&f.scenario, b"duration = 30\n\xff\n").unwrap();
    let e = scenario::load(&f.scenario).unwrap_err();
    let e: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(
        e,
        [format!(
            "{}: the file is not valid UTF-8 (TOML must be)",
            f.scenario.display()
        )]
    );
}

#[test]
fn crash_and_boot_must_alternate() {
    let e = errors(
        &three(1, 4, true),
        &scenario(
            30,
            "[[event]]\nat = 1\naction = \"boot\"\nnode = \"a\"\n\
             [[event]]\nat = 2\naction = \"crash\"\nnode = \"b\"\n\
             [[event]]\nat = 3\naction = \"crash\"\nnode = \"b\"\n",
        ),
    );
    assert!(
        e.iter()
            .any(|x| x.contains("boot of \"a\" at 1 s: it is already running")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|x| x.contains("crash of \"b\" at 3 s: it is already down (since 2 s)")),
        "{e:?}"
    );
}

#[test]
fn nodes_must_match_the_cluster_file() {
    let c = three(1, 4, true);
    let e = errors(
        &c,
        "cluster = \"cluster.toml\"\nduration = 10\n[passwords]\nweb = \"x\"\n\
         [[node]]\nname = \"a\"\ninterfaces = { em0 = [\"192.0.2.1/24\"] }\n\
         [[node]]\nname = \"a\"\ninterfaces = { em0 = [\"192.0.2.9/24\"] }\n\
         [[node]]\nname = \"q\"\ninterfaces = { em0 = [\"192.0.2.5/24\"] }\n\
         [[node]]\nname = \"b\"\ninterfaces = { em1 = [\"192.0.2.2/24\", \"bogus\"] }\n",
    );
    assert!(has(&e, 9, "node \"a\" appears twice"), "{e:?}");
    assert!(
        has(&e, 12, "node \"q\" is not a node of the cluster file"),
        "{e:?}"
    );
    assert!(has(&e, 16, "\"bogus\" is not an address"), "{e:?}");
    assert!(
        e.iter()
            .any(|x| x.contains("node \"c\" of the cluster file has no [[node]]")),
        "{e:?}"
    );
}

#[test]
fn passwords_are_checked_and_never_quoted() {
    let c = three(1, 4, true);
    let e = errors(
        &c,
        "cluster = \"cluster.toml\"\nduration = 10\n\
         [passwords]\nweb = 12345\nnope = \"hunter2\"\n",
    );
    assert!(has(&e, 4, "passwords.web must be a string"), "{e:?}");
    assert!(
        e.iter()
            .all(|x| !x.contains("12345") && !x.contains("hunter2")),
        "{e:?}"
    );
    let e = errors(
        &c,
        "cluster = \"cluster.toml\"\nduration = 10\n\
         [passwords]\nnope = \"hunter2\"\n",
    );
    assert!(has(&e, 4, "the cluster file has no VIP \"nope\""), "{e:?}");
    assert!(e.iter().all(|x| !x.contains("hunter2")), "{e:?}");
    let e = errors(
        &c,
        &scenario(
            30,
            "[[event]]\nat = 1\naction = \"password\"\nnode = \"a\"\nvip = \"web\"\npassword = 77\n",
        ),
    );
    assert!(
        e.iter().any(|x| x.contains("password must be a string")),
        "{e:?}"
    );
    assert!(e.iter().all(|x| !x.contains("77\n")), "{e:?}");
}

#[test]
fn a_missing_key_file_points_to_scenario_passwords() {
    let c = three(1, 4, true).replace(
        "prefer = [\"a\", \"b\", \"c\"]\n",
        "prefer = [\"a\", \"b\", \"c\"]\npassword_file = \"missing.key\"\n",
    );
    let e = errors(&c, "cluster = \"cluster.toml\"\nduration = 10\n");
    assert!(
        e.iter()
            .any(|x| x.contains("cluster.toml:") && x.contains("missing.key")),
        "{e:?}"
    );
    assert!(e.iter().any(|x| x.contains("[passwords]")), "{e:?}");
    // With the password in the scenario, the key file is not read, and the
    // cluster file's positions stay right.
    let (_f, sc) = load(&c, &scenario(10, ""));
    assert!(sc.config.vips[0].key.is_some());
}

#[test]
fn checks_must_exist_in_the_cluster_file() {
    let e = errors(
        &three(1, 4, true),
        &scenario(
            30,
            "[[event]]\nat = 1\naction = \"check_fail\"\nnode = \"a\"\ncheck = \"smtp\"\n",
        ),
    );
    assert!(e.iter().any(|x| x.contains("has no [[check]]")), "{e:?}");
}

/// A VIP naming the real interface while the nodes map a logical name to
/// it: frames and VIP meet on the same segment all the same.
#[test]
fn a_vip_on_a_real_interface_name_is_answered() {
    let cluster = three(1, 4, true).replace(
        "[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n[[node]]\nname = \"c\"\n",
        "[[node]]\nname = \"a\"\ninterfaces = { lan = \"em0\" }\n\
         [[node]]\nname = \"b\"\ninterfaces = { lan = \"em0\" }\n\
         [[node]]\nname = \"c\"\ninterfaces = { lan = \"em0\" }\n",
    );
    let (_f, sc) = load(&cluster, &scenario(10, ""));
    let r = run(&sc, None).unwrap();
    assert!(r.vips[0].first_served.is_some(), "{}", r.to_text());
    assert!(r.requirements.all(), "{}", r.to_text());
}

/// A node that starts down comes up with `boot`; clients that start late
/// do not count what came before; the segment's latency is the frames'.
#[test]
fn nodes_can_start_down_and_clients_late() {
    let sc = "cluster = \"cluster.toml\"\nduration = 30\n\
              [clients]\nrate = 4\nstart = 12\n[segment]\nlatency = 0.002\n\
              [passwords]\nweb = \"s3cret\"\n\
              [[node]]\nname = \"a\"\nup = false\ninterfaces = { em0 = [\"192.0.2.1/24\"] }\n\
              [[node]]\nname = \"b\"\ninterfaces = { em0 = [\"192.0.2.2/24\"] }\n\
              [[event]]\nat = 10\naction = \"boot\"\nnode = \"a\"\n";
    let (_f, sc) = load(&two(true), sc);
    let r = run(&sc, None).unwrap();
    // b alone takes the VIP at 3 s + 4/256 (in ticks); a boots at 10 and
    // preempts on b's next advertisement, which it hears 2 ms after b sent
    // it. b advertises every 1 s + 4/256 s: 1017 ticks of 1 ms.
    let b = transitions(&r, "b", CarpState::Master);
    assert!(fires_after(b[0].time, 0.0, 3.0 + 4.0 / 256.0), "{b:?}");
    let a = transitions(&r, "a", CarpState::Master);
    assert_eq!(a[0].reason, "preempting a slower master");
    let step = 1.017;
    let sent = b[0].time + ((a[0].time - 0.002 - b[0].time) / step).round() * step;
    assert!((a[0].time - (sent + 0.002)).abs() < 1e-6, "{a:?}");
    // Requests from 12 s to 30 s at 4 per second, none lost.
    assert_eq!(r.vips[0].requests, 72);
    assert_eq!(r.vips[0].lost, 0);
    assert!(r.requirements.all(), "{}", r.to_text());
}
