use std::path::Path;

use super::*;
use crate::rollout::{Move, plan};

fn cfg(pw: &str, prefer: &str) -> Config {
    let src = format!(
        "[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\ninterfaces = {{ lan = \"igb0\" }}\n\
         [[vip]]\nname = \"v1\"\nvhid = 7\ninterface = \"lan\"\n\
         addresses = [\"192.0.2.7/32\"]\npassword = \"{pw}\"\nprefer = [{prefer}]\n"
    );
    crate::config::parse(&src, Path::new("t.toml"), None).expect("valid")
}

/// A `status --json` with one vhid, as carpctl prints it (fields the
/// check does not read included).
fn status(interface: &str, vhid: u8, state: &str, advskew: u8) -> Vec<u8> {
    format!(
        "{{\"kernel\": {{}}, \"vhids\": [{{\"interface\": \"{interface}\", \"vhid\": {vhid}, \
         \"state\": \"{state}\", \"advbase\": 1, \"advskew\": {advskew}, \"key_set\": true}}]}}"
    )
    .into_bytes()
}

const EMPTY: &[u8] = b"{\"vhids\": []}";

#[test]
fn a_password_rotation_expects_removal_then_presence_and_never_carries_the_key() {
    let old = cfg("old-secret", "\"a\", \"b\"");
    let new = cfg("new-secret", "\"a\", \"b\"");
    let p = plan(&old, &new).unwrap();
    // 1: v1 off backup b; 2: new key on a; 3: back on b; 4, 5: whole file.
    let wants: Vec<Vec<Want>> = p
        .steps
        .iter()
        .map(|s| expect(s, &old, &new).unwrap())
        .collect();
    assert_eq!(wants[0][0].present, None);
    assert_eq!(wants[0][0].interface, "igb0");
    assert!(check(&wants[0], EMPTY).is_ok());
    let e = check(&wants[0], &status("igb0", 7, "BACKUP", 100)).unwrap_err();
    assert_eq!(e, "VIP v1 (vhid 7 on igb0) is still there (BACKUP)");
    // The master's step: present with its skew, either state (no move).
    let w = &wants[1][0];
    assert_eq!(
        (w.interface.as_str(), w.present.as_ref().unwrap().master),
        ("lan", None)
    );
    let skew = w.present.as_ref().unwrap().advskew.unwrap();
    assert!(check(&wants[1], &status("lan", 7, "BACKUP", skew)).is_ok());
    assert!(check(&wants[1], &status("lan", 7, "MASTER", skew)).is_ok());
    let e = check(&wants[1], EMPTY).unwrap_err();
    assert_eq!(e, "VIP v1 (vhid 7 on lan) is missing");
    let e = check(&wants[1], &status("lan", 7, "MASTER", skew + 1)).unwrap_err();
    assert!(
        e.contains(&format!("advskew {}, planned 1 and {skew}", skew + 1)),
        "{e}"
    );
    // The advbase counts as much as the skew.
    let advbase_2 = String::from_utf8(status("lan", 7, "MASTER", skew))
        .unwrap()
        .replace("\"advbase\": 1", "\"advbase\": 2");
    let e = check(&wants[1], advbase_2.as_bytes()).unwrap_err();
    assert!(
        e.contains(&format!(
            "has advbase 2 advskew {skew}, planned 1 and {skew}"
        )),
        "{e}"
    );
    // A whole-file step expects every VIP the node takes part in.
    assert_eq!(wants[3].len(), 1);
    assert!(wants[3][0].present.is_some());
    for s in &p.steps {
        let argv = s.argv("/etc/old.toml", "/etc/new.toml");
        assert!(argv.iter().all(|w| !w.contains("secret")), "{argv:?}");
    }
}

#[test]
fn a_step_that_moves_a_vip_expects_master_where_it_goes_and_backup_where_it_left() {
    let old = cfg("pw", "\"a\", \"b\"");
    let new = cfg("pw", "\"b\", \"a\"");
    let p = plan(&old, &new).unwrap();
    let moving: Vec<&Step> = p.steps.iter().filter(|s| !s.moves.is_empty()).collect();
    assert_eq!(moving.len(), 1, "{:#?}", p.steps);
    let s = moving[0];
    let w = expect(s, &old, &new).unwrap();
    let Move { to, from, .. } = &s.moves[0];
    let (iface, want) = if s.node == *to {
        ("igb0", Some(true))
    } else {
        assert_eq!(s.node, *from);
        ("lan", Some(false))
    };
    let present = w[0].present.as_ref().unwrap();
    assert_eq!(present.master, want);
    let (good, bad) = if want == Some(true) {
        ("MASTER", "BACKUP")
    } else {
        ("BACKUP", "MASTER")
    };
    assert!(check(&w, &status(iface, 7, good, present.advskew.unwrap())).is_ok());
    let e = check(&w, &status(iface, 7, bad, present.advskew.unwrap())).unwrap_err();
    assert!(e.ends_with(&format!("is {bad}, planned {good}")), "{e}");
}

#[test]
fn a_status_that_is_not_json_is_an_error_not_a_pass() {
    let old = cfg("pw", "\"a\", \"b\"");
    let p = plan(&old, &old).unwrap();
    let w = expect(&p.steps[0], &old, &old).unwrap();
    for garbage in [&b""[..], b"not json", b"{\"vhids\": 3}", b"{}"] {
        let e = check(&w, garbage).unwrap_err();
        assert!(e.starts_with("its status --json cannot be read"), "{e}");
    }
}

#[test]
fn the_transport_quotes_each_word_for_the_remote_shell() {
    let t = Transport {
        program: "/usr/bin/ssh".into(),
        timeout: Duration::from_secs(1),
    };
    let argv: Vec<String> = ["carpctl", "-c", "/etc/my file.toml"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        t.shown("root@a", &argv),
        "/usr/bin/ssh -- root@a carpctl -c \"/etc/my file.toml\""
    );
}

#[test]
fn a_leaving_nodes_maintenance_steps_expect_backup_with_any_skew_then_nothing() {
    let old = cfg("pw", "\"b\", \"a\"");
    let src = "[[node]]\nname = \"a\"\n[[vip]]\nname = \"v1\"\nvhid = 7\ninterface = \"lan\"\n\
               addresses = [\"192.0.2.7/32\"]\npassword = \"pw\"\n";
    let new = crate::config::parse(src, Path::new("n.toml"), None).expect("valid");
    let p = plan(&old, &new).unwrap();
    let on = &p.steps[0];
    assert_eq!(
        on.command,
        crate::rollout::Command::Maintenance { on: true }
    );
    assert_eq!(on.node, "b");
    let w = expect(on, &old, &new).unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].interface, "igb0");
    let present = w[0].present.as_ref().unwrap();
    assert_eq!((present.advskew, present.master), (None, Some(false)));
    // Any skew: the demotion is the node's, not the vhid's.
    for skew in [0, 100, 240] {
        assert!(check(&w, &status("igb0", 7, "BACKUP", skew)).is_ok());
    }
    let e = check(&w, &status("igb0", 7, "MASTER", 0)).unwrap_err();
    assert!(e.ends_with("is MASTER, planned BACKUP"), "{e}");
    let e = check(&w, EMPTY).unwrap_err();
    assert_eq!(e, "VIP v1 (vhid 7 on igb0) is missing");
    let off = p.steps.last().unwrap();
    assert_eq!(
        off.command,
        crate::rollout::Command::Maintenance { on: false }
    );
    let w = expect(off, &old, &new).unwrap();
    assert_eq!((w.len(), w[0].present.as_ref()), (1, None));
    assert!(check(&w, EMPTY).is_ok());
    let e = check(&w, &status("igb0", 7, "BACKUP", 0)).unwrap_err();
    assert!(e.ends_with("is still there (BACKUP)"), "{e}");
    assert_eq!(
        off.argv("/o.toml", "/n.toml"),
        [
            "carpctl",
            "-c",
            "/o.toml",
            "--node",
            "b",
            "maintenance",
            "off"
        ]
    );
}
