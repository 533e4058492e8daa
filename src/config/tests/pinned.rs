//! Tests of pinned values (issue 12 item 3, docs/design-unicast-vrrp.md):
//! `advskew = {..}`, `priority = {..}`, `allow_tie` in `[[vip]]`.

use super::election::{loads, only_error, three, vip};
use super::testutil::*;
use crate::plan::OrderSource;

const PW: &str = "password = \"pw\"";

// ----- good input ----------------------------------------------------------

#[test]
fn pinned_advskews_order_the_vip_and_are_planned_as_written() {
    let v = vip(
        "w",
        1,
        &format!("{PW}\nadvskew = {{ a = 100, b = 0, c = 50 }}"),
    );
    let p = loads(&three("", &v)).plan().unwrap();
    let w = &p.vips[0];
    assert_eq!(w.order, ["b", "c", "a"]);
    assert_eq!(w.source, OrderSource::Pinned);
    let skews: Vec<u8> = w
        .order
        .iter()
        .map(|n| w.advskew_of(n).unwrap().get())
        .collect();
    assert_eq!(skews, [0, 50, 100]);
    // The demotion that puts every other member first follows the
    // values, not rank x step: b must pass a's 100.
    assert_eq!(w.demotion_off("b", p.advskew_step), Some(101));
    assert_eq!(w.demotion_off("c", p.advskew_step), Some(51));
    assert_eq!(w.demotion_off("a", p.advskew_step), Some(0));
}

#[test]
fn pinned_advskews_are_not_limited_by_advskew_step() {
    // At step 120, rank 2 would be 240 = CARP_MAXSKEW; pinned skews are
    // what they are.
    let v = vip(
        "w",
        1,
        &format!("{PW}\nadvskew = {{ a = 0, b = 100, c = 200 }}"),
    );
    let p = loads(&three("advskew_step = 120", &v)).plan().unwrap();
    assert_eq!(p.vips[0].order, ["a", "b", "c"]);
    assert_eq!(p.vips[0].advskew_of("c").unwrap().get(), 200);
    // Without pins the same file is refused.
    let f = Fixture::new(&three("advskew_step = 120", &vip("w", 1, PW)), 0o600);
    assert!(f.load_only().is_err());
}

#[test]
fn pinned_priorities_order_a_vrrp_vip() {
    let v = vip(
        "w",
        1,
        "protocol = \"vrrp\"\npriority = { a = 100, b = 254, c = 1 }",
    );
    let p = loads(&three("", &v)).plan().unwrap();
    let w = &p.vips[0];
    assert_eq!(w.order, ["b", "a", "c"]);
    let prio = &w.vrrp.as_ref().unwrap().priority;
    assert_eq!((prio["a"], prio["b"], prio["c"]), (100, 254, 1));
}

#[test]
fn a_pinned_vip_does_not_move_the_balanced_ones() {
    let m = vip("m1", 2, PW) + &vip("m2", 3, PW);
    let alone = loads(&three("", &m)).plan().unwrap();
    let pinned = vip(
        "w",
        1,
        &format!("{PW}\nadvskew = {{ a = 0, b = 10, c = 20 }}"),
    );
    let with = loads(&three("", &(pinned + &m))).plan().unwrap();
    assert_eq!(with.vips[1], alone.vips[0]);
    assert_eq!(with.vips[2], alone.vips[1]);
}

#[test]
fn ties_load_with_allow_tie_in_file_order() {
    let v = vip(
        "w",
        1,
        &format!("{PW}\nadvskew = {{ c = 0, a = 0, b = 5 }}\nallow_tie = true"),
    );
    let p = loads(&three("", &v)).plan().unwrap();
    // a before c: [[node]] order among equals, whatever the table's order.
    assert_eq!(p.vips[0].order, ["a", "c", "b"]);
    let v = vip(
        "w",
        1,
        &format!(
            "{PW}\nprefer = [\"c\", \"a\", \"b\"]\nadvskew = {{ c = 0, a = 0, b = 5 }}\nallow_tie = true"
        ),
    );
    let p = loads(&three("", &v)).plan().unwrap();
    assert_eq!(p.vips[0].order, ["c", "a", "b"]);
}

#[test]
fn a_unicast_vip_pins_its_pair() {
    let v = vip(
        "u",
        1,
        &format!("{PW}\nunicast = true\nadvskew = {{ c = 0, a = 100 }}"),
    );
    let cfg = loads(&three("", &v));
    let p = cfg.plan().unwrap();
    assert_eq!(p.vips[0].order, ["c", "a"]);
    assert!(p.vips[0].unicast);
    assert_eq!(p.vips[0].advskew_of("a").unwrap().get(), 100);
    let s = crate::plan::unicast::summary(&p).unwrap();
    assert_eq!(s.pinned, ["u"]);
}

#[test]
fn close_and_clamped_pins_are_warned_about() {
    let v = vip(
        "w",
        1,
        &format!("{PW}\nadvskew = {{ a = 0, b = 2, c = 250 }}"),
    );
    let f = Fixture::new(&three("", &v), 0o600);
    let w = f.warnings().join("\n");
    assert!(w.contains("same kernel tick"), "{w}");
    assert!(w.contains("advertised as 240"), "{w}");
}

// ----- bad input -----------------------------------------------------------

#[test]
fn an_advskew_out_of_range_is_refused_at_its_value() {
    let text = three(
        "",
        &vip(
            "w",
            1,
            &format!("{PW}\nadvskew = {{ a = 0, b = 255, c = 9 }}"),
        ),
    );
    let e = only_error(&text, "b = 255", "vip[0].advskew.b");
    assert!(e.contains("0-254"), "{e}");
}

#[test]
fn priority_255_is_refused_with_the_reason() {
    let text = three(
        "",
        &vip(
            "w",
            1,
            "protocol = \"vrrp\"\npriority = { a = 255, b = 100, c = 9 }",
        ),
    );
    let e = only_error(&text, "a = 255", "vip[0].priority.a");
    assert!(e.contains("address owner"), "{e}");
    let text = three(
        "",
        &vip(
            "w",
            1,
            "protocol = \"vrrp\"\npriority = { a = 0, b = 100, c = 9 }",
        ),
    );
    let e = only_error(&text, "a = 0", "vip[0].priority.a");
    assert!(e.contains("keep"), "{e}");
}

#[test]
fn a_pin_of_the_wrong_kind_is_refused() {
    let text = three(
        "",
        &vip(
            "w",
            1,
            "protocol = \"vrrp\"\nadvskew = { a = 0, b = 1, c = 9 }",
        ),
    );
    let e = only_error(&text, "advskew = {", "vip[0].advskew");
    assert!(e.contains("pin priority"), "{e}");
    let text = three(
        "",
        &vip(
            "w",
            1,
            &format!("{PW}\npriority = {{ a = 9, b = 1, c = 5 }}"),
        ),
    );
    let e = only_error(&text, "priority = {", "vip[0].priority");
    assert!(e.contains("pin advskew"), "{e}");
}

#[test]
fn a_pin_on_a_node_that_is_not_a_member_is_refused() {
    let text = three(
        "",
        &vip(
            "w",
            1,
            &format!("{PW}\nprefer = [\"a\", \"b\"]\nadvskew = {{ a = 0, b = 5, c = 9 }}"),
        ),
    );
    let e = only_error(&text, "c = 9", "vip[0].advskew");
    assert!(e.contains("not a member"), "{e}");
    let text = three(
        "",
        &vip(
            "w",
            1,
            &format!("{PW}\nadvskew = {{ a = 0, b = 5, zz = 9 }}"),
        ),
    );
    let e = only_error(&text, "zz = 9", "vip[0].advskew.zz");
    assert!(e.contains("not a [[node]]"), "{e}");
}

#[test]
fn some_members_pinned_is_refused() {
    let text = three(
        "",
        &vip("w", 1, &format!("{PW}\nadvskew = {{ a = 0, b = 5 }}")),
    );
    let e = only_error(&text, "advskew = {", "vip[0].advskew");
    assert!(e.contains("but not c"), "{e}");
}

#[test]
fn a_tie_is_refused_without_allow_tie() {
    let text = three(
        "",
        &vip(
            "w",
            1,
            &format!("{PW}\nadvskew = {{ a = 7, b = 0, c = 7 }}"),
        ),
    );
    let e = only_error(&text, "c = 7", "vip[0].advskew");
    assert!(e.contains("allow_tie") && e.contains("a and c"), "{e}");
    let text = three(
        "",
        &vip(
            "w",
            1,
            "protocol = \"vrrp\"\npriority = { a = 7, b = 10, c = 7 }",
        ),
    );
    only_error(&text, "c = 7", "vip[0].priority");
}

#[test]
fn prefer_disagreeing_with_the_pins_is_refused() {
    let text = three(
        "",
        &vip(
            "w",
            1,
            &format!("{PW}\nprefer = [\"a\", \"b\", \"c\"]\nadvskew = {{ a = 9, b = 0, c = 20 }}"),
        ),
    );
    let e = only_error(&text, "prefer = [", "vip[0].prefer");
    assert!(e.contains("b, a, c"), "{e}");
}

#[test]
fn a_unicast_vip_pins_exactly_two_nodes() {
    let text = three(
        "",
        &vip(
            "u",
            1,
            &format!("{PW}\nunicast = true\nadvskew = {{ a = 0, b = 5, c = 9 }}"),
        ),
    );
    let e = only_error(&text, "advskew = {", "vip[0].advskew");
    assert!(e.contains("exactly the two"), "{e}");
}

#[test]
fn allow_tie_without_pins_and_both_kinds_are_refused() {
    let text = three("", &vip("w", 1, &format!("{PW}\nallow_tie = true")));
    only_error(&text, "allow_tie = true", "vip[0].allow_tie");
    let text = three(
        "",
        &vip(
            "w",
            1,
            &format!("{PW}\nadvskew = {{ a = 0, b = 5, c = 9 }}\npriority = {{ a = 9 }}"),
        ),
    );
    only_error(&text, "priority = {", "vip[0].priority");
    let text = three("", &vip("w", 1, &format!("{PW}\nadvskew = {{}}")));
    only_error(&text, "advskew = {", "vip[0].advskew");
    let text = three(
        "",
        &vip("w", 1, &format!("{PW}\nadvskew = {{ a = \"x\" }}")),
    );
    let f = Fixture::new(&text, 0o600);
    assert!(f.load_only().is_err());
}

/// Exhaustive over three nodes and values chosen around the edges (a
/// tick apart, 239/240, the clamp): the planned order of a loaded file is
/// the members sorted by advertised value, file order among equals, and
/// the planned skews are the pins; without allow_tie, a tie on the wire is
/// refused and nothing else is.
#[test]
fn the_planned_order_follows_the_pins_exhaustively() {
    const VALUES: [u8; 6] = [0, 2, 100, 239, 240, 254];
    for a in VALUES {
        for b in VALUES {
            for c in VALUES {
                let pins = format!("advskew = {{ a = {a}, b = {b}, c = {c} }}");
                let mut want = [("a", a), ("b", b), ("c", c)];
                want.sort_by_key(|&(_, v)| v.min(240));
                let want: Vec<&str> = want.iter().map(|(n, _)| *n).collect();
                let advertised = [a.min(240), b.min(240), c.min(240)];
                let tie = advertised[0] == advertised[1]
                    || advertised[0] == advertised[2]
                    || advertised[1] == advertised[2];
                let text = three("", &vip("w", 1, &format!("{PW}\n{pins}\nallow_tie = true")));
                let p = loads(&text).plan().unwrap();
                assert_eq!(p.vips[0].order, want, "{pins}");
                for (n, v) in [("a", a), ("b", b), ("c", c)] {
                    assert_eq!(p.vips[0].advskew_of(n).unwrap().get(), v, "{pins}");
                }
                let strict =
                    Fixture::new(&three("", &vip("w", 1, &format!("{PW}\n{pins}"))), 0o600);
                assert_eq!(strict.load_only().is_err(), tie, "{pins}");
            }
        }
    }
}
