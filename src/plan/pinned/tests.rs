use proptest::prelude::*;

use super::*;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn pins(kind: PinKind, list: &[(&str, u8)], allow_tie: bool) -> Pins {
    Pins {
        kind,
        values: list.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
        allow_tie,
    }
}

#[test]
fn advskew_pins_order_lowest_first() {
    let p = pins(PinKind::Advskew, &[("a", 100), ("b", 0), ("c", 50)], false);
    let c = check("v", &p, &names(&["a", "b", "c"]), 100).unwrap();
    assert_eq!(c.order, names(&["b", "c", "a"]));
    assert!(c.ties.is_empty() && c.same_tick.is_empty() && c.at_max.is_empty());
}

#[test]
fn priority_pins_order_highest_first() {
    let p = pins(
        PinKind::Priority,
        &[("a", 100), ("b", 254), ("c", 1)],
        false,
    );
    let c = check("v", &p, &names(&["a", "b", "c"]), 100).unwrap();
    assert_eq!(c.order, names(&["b", "a", "c"]));
}

#[test]
fn pin_ranges_name_the_reason() {
    assert!(PinKind::Advskew.out_of_range(0).is_none());
    assert!(PinKind::Advskew.out_of_range(254).is_none());
    assert!(PinKind::Advskew.out_of_range(255).is_some());
    assert!(PinKind::Advskew.out_of_range(-1).is_some());
    assert!(PinKind::Priority.out_of_range(1).is_none());
    assert!(PinKind::Priority.out_of_range(254).is_none());
    let owner = PinKind::Priority.out_of_range(255).unwrap();
    assert!(owner.contains("address owner"), "{owner}");
    let keep = PinKind::Priority.out_of_range(0).unwrap();
    assert!(keep.contains("keep"), "{keep}");
    for bad in [256, -5, 1000] {
        assert!(PinKind::Priority.out_of_range(bad).is_some());
    }
}

#[test]
fn ties_are_refused_unless_allowed() {
    for kind in [PinKind::Advskew, PinKind::Priority] {
        let p = pins(kind, &[("a", 150), ("b", 200), ("c", 150)], false);
        let err = check("v", &p, &names(&["a", "b", "c"]), 100).unwrap_err();
        match err {
            PinError::Tie {
                first,
                second,
                value,
                ..
            } => {
                assert_eq!((first.as_str(), second.as_str(), value), ("a", "c", 150));
            }
            other => panic!("{other:?}"),
        }
        let p = Pins {
            allow_tie: true,
            ..p
        };
        let ok = check("v", &p, &names(&["a", "b", "c"]), 100).unwrap();
        assert_eq!(ok.ties, [("a".to_string(), "c".to_string(), 150)]);
        // File order among equals: the members' order, not the names'.
        let ok = check("v", &p, &names(&["c", "b", "a"]), 100).unwrap();
        assert_eq!(ok.ties, [("c".to_string(), "a".to_string(), 150)]);
    }
}

#[test]
fn carp_pins_at_or_above_240_tie_on_the_wire() {
    // 241 and 254 are both advertised as 240 (CARP_MAXSKEW).
    let p = pins(PinKind::Advskew, &[("a", 0), ("b", 241), ("c", 254)], false);
    let err = check("v", &p, &names(&["a", "b", "c"]), 100).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("240") && msg.contains("CARP_MAXSKEW"), "{msg}");
    let p = pins(PinKind::Advskew, &[("a", 0), ("b", 250)], false);
    let c = check("v", &p, &names(&["a", "b"]), 100).unwrap();
    assert_eq!(c.at_max, names(&["b"]));
}

#[test]
fn close_values_are_reported_not_refused() {
    // CARP: 2/256 s is less than one 10 ms tick.
    let p = pins(PinKind::Advskew, &[("a", 0), ("b", 2), ("c", 10)], false);
    let c = check("v", &p, &names(&["a", "b", "c"]), 100).unwrap();
    assert_eq!(c.same_tick, [("a".to_string(), "b".to_string())]);
    // VRRP at 10 cs: 200 and 190 both give a skew time of 2 cs.
    let p = pins(PinKind::Priority, &[("a", 200), ("b", 190)], false);
    let c = check("v", &p, &names(&["a", "b"]), 10).unwrap();
    assert_eq!(c.same_tick, [("a".to_string(), "b".to_string())]);
    assert!(
        check("v", &p, &names(&["a", "b"]), 100)
            .unwrap()
            .same_tick
            .is_empty()
    );
}

#[test]
fn every_member_pinned_or_none() {
    let p = pins(PinKind::Advskew, &[("a", 0), ("b", 10)], false);
    let err = check("v", &p, &names(&["a", "b", "c"]), 100).unwrap_err();
    assert!(
        matches!(&err, PinError::Missing { missing, .. } if missing == "c"),
        "{err:?}"
    );
    let err = check("v", &p, &names(&["a"]), 100).unwrap_err();
    assert!(
        matches!(&err, PinError::NotMember { node, .. } if node == "b"),
        "{err:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The order follows the pins: every adjacent pair is in election
    /// order, equal values keep the members' order, it is a permutation of
    /// the members, and a tie is refused exactly when two members' values
    /// compare equal on the wire.
    #[test]
    fn order_follows_the_pins(
        values in proptest::collection::vec(0u8..=254, 1..12),
        vrrp in any::<bool>(),
        allow_tie in any::<bool>(),
    ) {
        let kind = if vrrp { PinKind::Priority } else { PinKind::Advskew };
        let values: Vec<u8> = values.into_iter().map(|v| if vrrp { v.max(1) } else { v }).collect();
        let members: Vec<String> = (0..values.len()).map(|i| format!("n{i}")).collect();
        let p = Pins {
            kind,
            values: members.iter().cloned().zip(values.iter().copied()).collect(),
            allow_tie,
        };
        let mut keys: Vec<u8> = values.iter().map(|&v| kind.election_key(v)).collect();
        keys.sort_unstable();
        let has_tie = keys.windows(2).any(|w| w[0] == w[1]);
        match check("v", &p, &members, 100) {
            Ok(c) => {
                prop_assert!(allow_tie || !has_tie);
                let mut sorted = c.order.clone();
                sorted.sort();
                let mut all = members.clone();
                all.sort();
                prop_assert_eq!(sorted, all);
                let ix = |n: &String| members.iter().position(|m| m == n).unwrap();
                for w in c.order.windows(2) {
                    let (a, b) = (kind.election_key(p.values[&w[0]]), kind.election_key(p.values[&w[1]]));
                    prop_assert!(a < b || (a == b && ix(&w[0]) < ix(&w[1])));
                }
                prop_assert_eq!(c.ties.is_empty(), !has_tie);
            }
            Err(PinError::Tie { .. }) => prop_assert!(has_tie && !allow_tie),
            Err(e) => prop_assert!(false, "{e}"),
        }
    }
}
