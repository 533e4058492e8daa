use super::*;
use crate::scan::Scanner;
use crate::scan::capture::Frame;
use crate::scan::decode::LinkType;
use crate::scan::testutil::{carp, ip};

fn report() -> Report {
    let mut s = Scanner::new(None);
    for i in 0..5 {
        let f = carp(3, 1, 0, 10 + i, b"k", &[], ip("192.0.2.3"));
        s.frame(
            "em0",
            &Frame {
                time: 100.0 + i as f64,
                link: LinkType::Ethernet,
                iface: "em0",
                data: &f,
                vlan: None,
            },
        );
    }
    let info = SourceInfo {
        kind: "pcap",
        file: Some("x.pcap".into()),
        start: s.tracker.first,
        end: s.tracker.last,
        ..SourceInfo::default()
    };
    s.report(info)
}

/// The keys carpctl(8) documents for `--json`, at every level: a renamed
/// or dropped key breaks monitoring scripts.
#[test]
fn json_schema_keys() {
    let v = serde_json::to_value(report()).unwrap();
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(v["schema"], "carpctl-scan/1");
    assert_eq!(
        keys(&v),
        [
            "advertisements",
            "findings",
            "frames",
            "groups",
            "malformed",
            "malformed_reasons",
            "over_limits",
            "over_rate",
            "schema",
            "source",
            "summary"
        ]
    );
    assert_eq!(
        keys(&v["source"]),
        [
            "cluster",
            "end",
            "file",
            "interfaces",
            "kernel",
            "kind",
            "start"
        ]
    );
    let g = &v["groups"][0];
    assert_eq!(
        keys(g),
        [
            "dual_master",
            "dual_master_dropped",
            "id",
            "interface",
            "masters",
            "protocol",
            "speakers",
            "speakers_dropped",
            "transitions",
            "transitions_dropped",
            "vip"
        ]
    );
    assert_eq!(
        (g["protocol"].as_str(), g["id"].as_u64()),
        (Some("carp"), Some(3))
    );
    assert_eq!(keys(&g["masters"][0]), ["address", "node", "since"]);
    let s = &g["speakers"][0];
    assert_eq!(
        keys(s),
        [
            "address",
            "advertisements",
            "bad_checksum",
            "bad_ttl",
            "carp",
            "family",
            "first_seen",
            "interval",
            "last_seen",
            "macs",
            "master",
            "node",
            "node_source",
            "observed_interval",
            "rate",
            "since",
            "unicast",
            "vrrp"
        ]
    );
    assert_eq!(
        keys(&s["carp"]),
        [
            "advbase",
            "advskew",
            "changes",
            "counter",
            "counter_resets",
            "hmac",
            "max_advskew",
            "min_advskew",
            "planned_advskew"
        ]
    );
    assert_eq!(
        keys(&s["carp"]["hmac"]),
        ["diagnosis", "failed", "status", "unchecked", "verified"]
    );
    assert_eq!(
        keys(&s["observed_interval"]),
        ["max", "mean", "min", "samples"]
    );
    assert_eq!(keys(&v["summary"]), ["errors", "info", "warnings"]);
    assert_eq!(s["carp"]["hmac"]["status"], "not checked");
    assert_eq!(s["carp"]["counter"], "increments");
    assert_eq!(s["macs"][0], "00:00:5e:00:01:03");
    assert_eq!(s["master"], true);
    assert_eq!(s["first_seen"], 100.0);
}

#[test]
fn a_finding_serializes_with_its_code_and_severity() {
    let f = Finding {
        code: "SCAN001",
        name: "dual-master",
        severity: Severity::Error,
        protocol: Some(Proto::Carp),
        id: Some(1),
        interface: Some("em0".into()),
        speaker: None,
        node: None,
        message: "m".into(),
    };
    let v = serde_json::to_value(&f).unwrap();
    assert_eq!(v["severity"], "error");
    assert_eq!(v["protocol"], "carp");
    assert_eq!(v["code"], "SCAN001");
    assert!(v["speaker"].is_null());
}

#[test]
fn diagnoses_in_words() {
    assert_eq!(
        describe(&Diagnosis::WrongPassword(Some("mail2".into()))),
        "wrong password: it verifies with the password of VIP \"mail2\""
    );
    assert!(
        describe(&Diagnosis::Unknown).starts_with("wrong password or a different address list")
    );
    assert!(describe(&Diagnosis::AddressList("x".into())).starts_with("different address list"));
    assert!(describe(&Diagnosis::OtherVip("v".into())).contains("VIP \"v\""));
    assert_eq!(
        describe(&Diagnosis::Unreadable("why".into())),
        "not diagnosed: why"
    );
}

#[test]
fn the_report_knows_its_groups() {
    let r = report();
    assert!(r.group(Proto::Carp, 3, "em0").is_some());
    assert!(r.group(Proto::Vrrp, 3, "em0").is_none());
    assert_eq!(r.groups[0].masters[0].since, 100.0);
    assert_eq!(r.counts.frames, 5);
}
