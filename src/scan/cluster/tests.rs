use super::*;
use crate::config::tests::testutil::Fixture;
use crate::scan::testutil::ip;

pub(crate) const CLUSTER: &str = r#"
[cluster]
advbase = 1

[[node]]
name = "mail-a"
interfaces = { lan = "em0" }

[[node]]
name = "mail-b"
interfaces = { lan = "igb0" }

[[vip]]
name = "mail1"
vhid = 1
interface = "lan"
addresses = ["192.0.2.50/32", "2001:db8::50/128"]
password_file = "k1"
prefer = ["mail-a", "mail-b"]

[[vip]]
name = "mail2"
vhid = 2
interface = "lan"
addresses = ["192.0.2.51/32"]
password_file = "k2"
prefer = ["mail-b", "mail-a"]
"#;

/// The cluster above with its two key files (`k2` with mode `k2_mode`).
pub(crate) fn fixture(k2_mode: u32) -> (Fixture, ClusterView) {
    let fx = Fixture::new(CLUSTER, 0o644);
    fx.key("k1", b"secret-one\n", 0o600);
    fx.key("k2", b"secret-two\n", k2_mode);
    let cfg = fx.load_only().unwrap();
    let view = ClusterView::new(&cfg, BTreeMap::new()).unwrap();
    (fx, view)
}

fn mail1() -> Vec<IpAddr> {
    vec![ip("192.0.2.50"), ip("2001:db8::50")]
}

/// An advertisement of `vhid` signed with `key` over `addrs`.
fn signed(vhid: u8, key: &[u8], addrs: &[IpAddr]) -> CarpHeader {
    CarpAuth::new(key, vhid, addrs).unwrap().header(1, 0, 42)
}

fn sample(h: &CarpHeader) -> (u64, [u8; 20]) {
    (h.counter, h.md)
}

#[test]
fn the_plan_and_the_interfaces_are_known() {
    let (_fx, v) = fixture(0o600);
    assert_eq!(v.vips.len(), 2);
    let m1 = &v.vips[0];
    assert_eq!((m1.vhid, m1.advbase), (1, 1));
    assert_eq!(m1.real, ["em0", "igb0"]);
    assert_eq!(m1.planned["mail-a"], 0);
    assert_eq!(m1.planned["mail-b"], 4);
    assert_eq!(v.vips[1].planned["mail-b"], 0);
    assert_eq!(v.nodes, ["mail-a", "mail-b"]);
}

#[test]
fn hmacs_verify_and_fail_and_keys_are_read_when_needed() {
    // k2 is readable by others: refused when read, which must not happen
    // for an advertisement of vhid 1.
    let (_fx, mut v) = fixture(0o644);
    assert_eq!(
        v.verify("em0", &signed(1, b"secret-one", &mail1())),
        Verdict::Verified
    );
    assert_eq!(
        v.verify("em0", &signed(1, b"secret-bad", &mail1())),
        Verdict::Failed
    );
    assert_eq!(v.key_problem(1), None, "mail2's key was not read");
    // Unknown vhid: nothing to check with.
    assert_eq!(v.verify("em0", &signed(9, b"x", &[])), Verdict::Unchecked);
    // vhid 2's key cannot be read: unchecked, and the reason is kept.
    assert_eq!(
        v.verify("em0", &signed(2, b"secret-two", &[ip("192.0.2.51")])),
        Verdict::Unchecked
    );
    let why = v.key_problem(1).unwrap();
    assert!(why.contains("k2"), "{why}");
    assert!(!why.contains("secret"), "{why}");
}

#[test]
fn candidates_follow_the_interface_names() {
    let (_fx, mut v) = fixture(0o600);
    assert_eq!(v.candidates(1, "em0"), [0]);
    assert_eq!(v.candidates(1, "igb0"), [0]);
    assert_eq!(v.candidates(1, "lan"), [0]);
    assert_eq!(v.candidates(1, "h15scan-x"), [0]);
    assert!(v.candidates(3, "em0").is_empty());
}

#[test]
fn failures_are_diagnosed() {
    let (_fx, mut v) = fixture(0o600);
    let d = |v: &mut ClusterView, h: CarpHeader| v.diagnose(1, "em0", sample(&h));
    assert_eq!(
        d(&mut v, signed(1, b"secret-two", &mail1())),
        Diagnosis::WrongPassword(Some("mail2".into()))
    );
    assert_eq!(
        d(&mut v, signed(1, b"", &mail1())),
        Diagnosis::WrongPassword(None)
    );
    assert_eq!(
        d(&mut v, signed(1, b"secret-one", &[ip("192.0.2.50")])),
        Diagnosis::AddressList("all but 2001:db8::50".into())
    );
    assert_eq!(
        d(&mut v, signed(1, b"secret-one", &[ip("192.0.2.51")])),
        Diagnosis::AddressList("the addresses of VIP \"mail2\"".into())
    );
    let mut more = mail1();
    more.push(ip("192.0.2.51"));
    assert_eq!(
        d(&mut v, signed(1, b"secret-one", &more)),
        Diagnosis::AddressList("one address more: 192.0.2.51".into())
    );
    assert_eq!(
        d(&mut v, signed(1, b"secret-two", &[ip("192.0.2.51")])),
        Diagnosis::OtherVip("mail2".into())
    );
    assert_eq!(
        d(&mut v, signed(1, b"guessed", &mail1())),
        Diagnosis::Unknown
    );
    assert_eq!(v.diagnose(9, "em0", (1, [0; 20])), Diagnosis::Unknown);
}

#[test]
fn an_unreadable_key_is_not_diagnosed() {
    let fx = Fixture::new(CLUSTER, 0o644);
    fx.key("k1", b"secret-one\n", 0o644);
    fx.key("k2", b"secret-two\n", 0o600);
    let cfg = fx.load_only().unwrap();
    let mut v = ClusterView::new(&cfg, BTreeMap::new()).unwrap();
    let h = signed(1, b"secret-one", &mail1());
    assert_eq!(v.verify("em0", &h), Verdict::Unchecked);
    match v.diagnose(1, "em0", sample(&h)) {
        Diagnosis::Unreadable(why) => assert!(why.contains("k1"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nodes_by_map_or_by_skew() {
    let (_fx, mut v) = fixture(0o600);
    let (a, b, c) = (ip("192.0.2.3"), ip("192.0.2.4"), ip("192.0.2.9"));
    // Undemoted: each node's planned skews.
    let n = v.nodes_of(&[(a, 1, 0), (a, 2, 4), (b, 2, 0)]);
    assert_eq!(n[&a], ("mail-a".to_string(), NodeSource::Skew));
    assert_eq!(n[&b], ("mail-b".to_string(), NodeSource::Skew));
    // One advertisement of skew 4 on vhid 1: mail-b undemoted rather
    // than mail-a demoted by 4.
    let n = v.nodes_of(&[(c, 1, 4)]);
    assert_eq!(n[&c].0, "mail-b");
    // Skew 2 on vhid 1: only mail-a (demoted by 2) fits.
    assert_eq!(v.nodes_of(&[(c, 1, 2)])[&c].0, "mail-a");
    // Fully demoted everywhere: either node; none is guessed.
    assert!(v.nodes_of(&[(c, 1, 240), (c, 2, 240)]).is_empty());
    // A skew no node plans that low, and demotions that disagree.
    assert_eq!(v.demotion_fitting("mail-b", &[(1, 0)]), None);
    assert_eq!(v.demotion_fitting("mail-a", &[(1, 10), (2, 10)]), None);
    assert_eq!(v.demotion_fitting("mail-a", &[(1, 240), (2, 100)]), None);
    assert_eq!(v.demotion_fitting("mail-a", &[(1, 96), (2, 100)]), Some(96));
    assert_eq!(v.demotion_fitting("mail-a", &[(3, 0)]), None);
    // --map wins over the skews.
    v.map.insert(a, "mail-b".into());
    let n = v.nodes_of(&[(a, 1, 0), (b, 2, 0)]);
    assert_eq!(n[&a], ("mail-b".to_string(), NodeSource::Map));
    // --map names every node: an address it leaves out is none, even
    // when its skew would fit one.
    assert_eq!(n.get(&b), None, "{n:?}");
}
