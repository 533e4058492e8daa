use super::*;

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("n{i}")).collect()
}

/// The guarantee, for every interval FreeBSD accepts and every rank the
/// rule plans: priorities 1..=254, strictly decreasing, and consecutive
/// ranks time out at least one tick apart at hz=100 (and at hz=1000).
#[test]
fn every_interval_separates_every_rank_by_a_tick() {
    for interval in 1..=MAX_INTERVAL {
        let ranks = max_ranks(interval);
        assert!(ranks >= 1);
        let prios: Vec<u8> = (0..ranks).map(|r| priority(r, interval).unwrap()).collect();
        assert_eq!(prios[0], TOP_PRIORITY);
        assert_eq!(priority(ranks, interval), None, "interval {interval}");
        assert!(
            prios
                .iter()
                .all(|&p| (LOWEST_PLANNED..=TOP_PRIORITY).contains(&p))
        );
        for w in prios.windows(2) {
            assert!(w[0] > w[1]);
            for hz in [100, 1000] {
                let (a, b) = (
                    master_down_ticks(w[0], interval, hz),
                    master_down_ticks(w[1], interval, hz),
                );
                assert!(b > a, "interval {interval} hz {hz}: prio {w:?} -> {a}, {b}");
            }
        }
    }
}

/// One less than ⌈256/interval⌉ does not guarantee the tick, so the test
/// above can fail: some interval then puts two ranks in one tick.
#[test]
fn a_smaller_step_would_collide() {
    let collide = (2..=255u16).any(|interval| {
        let s = step(interval) - 1;
        (0..=252usize / usize::from(s.max(1))).any(|r| {
            let p = 254 - r * usize::from(s);
            let q = p.checked_sub(usize::from(s)).filter(|&q| q >= 2);
            q.is_some_and(|q| skew_time_cs(p as u8, interval) == skew_time_cs(q as u8, interval))
        })
    });
    assert!(collide);
}

#[test]
fn boundary_values() {
    // FreeBSD's default interval (1 s): step 3.
    assert_eq!(step(100), 3);
    assert_eq!(max_ranks(100), 85);
    assert_eq!(
        (0..4)
            .map(|r| priority(r, 100).unwrap())
            .collect::<Vec<_>>(),
        [254, 251, 248, 245]
    );
    assert_eq!(priority(84, 100), Some(2));
    // 100 ms: ten ranks, rank 1 takes over after 31 cs.
    assert_eq!(step(10), 26);
    assert_eq!(max_ranks(10), 10);
    assert_eq!(priority(1, 10), Some(228));
    assert_eq!(priority(9, 10), Some(20));
    assert_eq!(priority(10, 10), None);
    assert_eq!(master_down_cs(228, 10), 31);
    assert_eq!(master_down_ticks(228, 10, 100), 31);
    assert_eq!(master_down_ticks(228, 10, 1000), 310);
    // The shortest intervals.
    assert_eq!((step(1), max_ranks(1)), (256, 1));
    assert_eq!((step(2), max_ranks(2)), (128, 2));
    assert_eq!(priority(1, 2), Some(126));
    // From 256 cs on, every step is 1: 253 ranks, more than MAX_NODES.
    assert_eq!((step(255), max_ranks(255)), (2, 127));
    assert_eq!((step(256), max_ranks(256)), (1, 253));
    assert!(max_ranks(MAX_INTERVAL) >= crate::model::MAX_NODES);
    assert_eq!(priority(252, MAX_INTERVAL), Some(LOWEST_PLANNED));
    assert_eq!(priority(253, MAX_INTERVAL), None);
    assert_eq!(priority(usize::MAX, 100), None);
    // The skew time of the owner's and the lowest priority.
    assert_eq!(skew_time_cs(OWNER_PRIORITY, 100), 0);
    assert_eq!(skew_time_cs(MIN_PRIORITY, 100), 99);
    assert_eq!(
        master_down_cs(FREEBSD_DEFAULT_PRIORITY, FREEBSD_DEFAULT_INTERVAL),
        360
    );
}

#[test]
fn min_interval_matches_max_ranks() {
    assert_eq!(min_interval(0), Some(1));
    assert_eq!(min_interval(1), Some(1));
    assert_eq!(min_interval(2), Some(2));
    assert_eq!(min_interval(10), Some(10));
    assert_eq!(min_interval(11), Some(11));
    assert_eq!(min_interval(253), Some(256));
    assert_eq!(min_interval(254), None);
    for members in 1..=253 {
        let i = min_interval(members).unwrap();
        assert!(max_ranks(i) >= members);
        assert!(i == 1 || max_ranks(i - 1) < members, "{members}");
    }
}

#[test]
fn intervals_outside_freebsd_range_are_refused() {
    assert_eq!(check_interval(1), Ok(1));
    assert_eq!(check_interval(4095), Ok(4095));
    for bad in [0, -1, 4096, 65_536, i64::MAX] {
        let err = check_interval(bad).unwrap_err();
        assert_eq!(err, VrrpError::Interval { interval: bad });
        assert!(err.to_string().contains("centiseconds"));
    }
}

#[test]
fn priorities_of_an_order_and_too_many_members() {
    let order = names(3);
    let p = priorities("web", &order, 100).unwrap();
    assert_eq!(p["n0"], 254);
    assert_eq!(p["n1"], 251);
    assert_eq!(p["n2"], 248);
    let order = names(11);
    let err = priorities("web", &order, 10).unwrap_err();
    assert_eq!(
        err,
        VrrpError::TooManyRanks {
            vip: "web".into(),
            node: "n10".into(),
            rank: 10,
            interval: 10,
            ranks: 10,
            needed: "11".into(),
        }
    );
    let msg = err.to_string();
    assert!(
        msg.contains("web") && msg.contains("n10") && msg.contains("11 cs"),
        "{msg}"
    );
    assert!(priorities("one", &names(1), 1).is_ok());
    assert!(priorities("two", &names(2), 1).is_err());
}

#[test]
fn maintenance_is_below_every_planned_rank() {
    for interval in 1..=MAX_INTERVAL {
        let last = priority(max_ranks(interval) - 1, interval).unwrap();
        assert!(
            MAINTENANCE_PRIORITY < last,
            "interval {interval}: last rank {last}"
        );
    }
    // Interval 24 cs, step 11: 253 = 11 × 23 would end the ranks exactly
    // at 1 if 1 were planned; it ends at 12 and keeps 1 for maintenance.
    assert_eq!(step(24), 11);
    assert_eq!(priority(max_ranks(24) - 1, 24), Some(12));
}
