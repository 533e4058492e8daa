use super::*;

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("n{i}")).collect()
}

fn vhid(v: i64) -> Vhid {
    Vhid::new(v).unwrap()
}

/// Who holds what when `down` fail, written independently of the module:
/// the master if it is up, else the backup if it is up.
fn loads_after(n: usize, pairs: &[UnicastPair], down: &[usize]) -> (Vec<usize>, usize) {
    let mut load = vec![0; n];
    let mut lost = 0;
    for p in pairs {
        if !down.contains(&p.master) {
            load[p.master] += 1;
        } else if !down.contains(&p.backup) {
            load[p.backup] += 1;
        } else {
            lost += 1;
        }
    }
    (load, lost)
}

/// The proof of the construction: every N ≤ 12, M ≤ 64, every single
/// and every double failure.
#[test]
fn unicast_pairs_meet_the_bounds_for_every_n_up_to_12_and_m_up_to_64() {
    for n in 2..=12usize {
        for m in 0..=64usize {
            let pairs = balanced_pairs(n, m).unwrap();
            let b = unicast_bounds(n, m);
            assert_eq!(pairs.len(), m);
            let mut first = vec![0; n];
            let mut t = vec![vec![0usize; n]; n];
            for (j, p) in pairs.iter().enumerate() {
                assert_eq!(p.master, j % n, "N={n} M={m}: round-robin masters");
                assert!(
                    p.backup < n && p.backup != p.master,
                    "N={n} M={m} VIP {j}: {p:?}"
                );
                first[p.master] += 1;
                t[p.master][p.backup] += 1;
            }
            assert!(
                first
                    .iter()
                    .all(|&c| (b.primaries_min..=b.primaries_max).contains(&c)),
                "N={n} M={m}: {first:?}"
            );
            // Distinct partners: no node gives one partner more than its
            // fair share of its own VIPs.
            for f in 0..n {
                let fair = first[f].div_ceil(n - 1);
                assert!(
                    t[f].iter().all(|&k| k <= fair),
                    "N={n} M={m}: node {f} sends {:?}",
                    t[f]
                );
            }
            let single = b.single_failure.unwrap();
            for f in 0..n {
                let (load, lost) = loads_after(n, &pairs, &[f]);
                assert_eq!((load[f], lost), (0, 0), "a single failure loses nothing");
                let max = load.iter().max().copied().unwrap_or(0);
                assert!(max <= single, "N={n} M={m} down {f}: {load:?} > {single}");
            }
            if n < 3 {
                continue;
            }
            let (lost_bound, load_bound) = (
                b.double_failure_lost.unwrap(),
                b.double_failure_load.unwrap(),
            );
            for f in 0..n {
                for g in f + 1..n {
                    let (load, lost) = loads_after(n, &pairs, &[f, g]);
                    assert_eq!(load.iter().sum::<usize>() + lost, m);
                    let listed = lost_after(&pairs, f, g);
                    assert_eq!(listed.len(), lost, "N={n} M={m} down {f},{g}");
                    assert_eq!(listed, lost_after(&pairs, g, f));
                    assert!(listed.iter().all(|&j| pairs[j].lost_with(&[f, g])));
                    assert!(lost <= lost_bound, "N={n} M={m} down {f},{g}: {lost} lost");
                    let max = load.iter().max().copied().unwrap_or(0);
                    assert!(max <= load_bound, "N={n} M={m} down {f},{g}: {load:?}");
                }
            }
        }
    }
}

/// ⌈M/(N−1)⌉ after one failure is the least any pairing can do: the M
/// VIPs sit on N−1 survivors. The construction reaches it exactly.
#[test]
fn the_single_failure_bound_is_tight() {
    for (n, m) in [(3, 4), (4, 6), (5, 12), (7, 20)] {
        let pairs = balanced_pairs(n, m).unwrap();
        let worst = (0..n)
            .map(|f| loads_after(n, &pairs, &[f]).0.into_iter().max().unwrap())
            .max()
            .unwrap();
        assert_eq!(worst, m.div_ceil(n - 1), "N={n} M={m}");
    }
}

/// The "+ 1" on VIPs lost in a double failure is needed: with N = 4 and
/// M = 6, every choice of backups that keeps single failures within
/// ⌈6/3⌉ = 2 puts two VIPs on one pair (all 3^6 choices tried).
#[test]
fn four_nodes_six_vips_need_the_plus_one() {
    let (n, m) = (4usize, 6usize);
    let mut best = usize::MAX;
    for code in 0..3usize.pow(6) {
        let mut c = code;
        let pairs: Vec<UnicastPair> = (0..m)
            .map(|j| {
                let master = j % n;
                let backup = (master + 1 + c % 3) % n;
                c /= 3;
                UnicastPair { master, backup }
            })
            .collect();
        let ok = (0..n).all(|f| loads_after(n, &pairs, &[f]).0.iter().all(|&l| l <= 2));
        if !ok {
            continue;
        }
        let worst_lost = (0..n)
            .flat_map(|f| (f + 1..n).map(move |g| (f, g)))
            .map(|(f, g)| lost_after(&pairs, f, g).len())
            .max()
            .unwrap();
        best = best.min(worst_lost);
    }
    assert_eq!(best, 2);
    assert_eq!(m.div_ceil(n * (n - 1) / 2), 1);
    assert_eq!(unicast_bounds(n, m).double_failure_lost, Some(2));
}

/// The naive choices the construction replaces break the single-failure
/// bound, so the exhaustive test above can fail.
#[test]
fn naive_partners_break_the_single_failure_bound() {
    let (n, m) = (5usize, 12usize);
    let bound = m.div_ceil(n - 1);
    let worst = |pairs: &[UnicastPair]| {
        (0..n)
            .map(|f| loads_after(n, pairs, &[f]).0.into_iter().max().unwrap())
            .max()
            .unwrap()
    };
    // Backup = next node: node 1 takes all three of node 0's VIPs.
    let ladder: Vec<UnicastPair> = (0..m)
        .map(|j| UnicastPair {
            master: j % n,
            backup: (j + 1) % n,
        })
        .collect();
    assert_eq!(worst(&ladder), 6);
    // Distinct partners by a fixed offset per round (1, 2, 3, ...): spread,
    // but blind to load, so node 1 (3 VIPs) still takes one of node 0's.
    let offsets: Vec<UnicastPair> = (0..m)
        .map(|j| UnicastPair {
            master: j % n,
            backup: (j % n + 1 + (j / n) % (n - 1)) % n,
        })
        .collect();
    assert_eq!(worst(&offsets), 4);
    assert!(worst(&offsets) > bound);
    assert_eq!(worst(&balanced_pairs(n, m).unwrap()), bound);
}

#[test]
fn small_cases_by_hand() {
    assert_eq!(balanced_pairs(1, 1), None);
    assert_eq!(balanced_pairs(0, 0), Some(Vec::new()));
    assert_eq!(balanced_pairs(1, 0), Some(Vec::new()));
    let p = |master, backup| UnicastPair { master, backup };
    assert_eq!(balanced_pairs(2, 3).unwrap(), [p(0, 1), p(1, 0), p(0, 1)]);
    // Node 0 masters two VIPs: one each to nodes 1 and 2; nodes 1 and 2
    // cannot use node 0 (it would hold 3 > ⌈4/2⌉) and back up each other.
    assert_eq!(
        balanced_pairs(3, 4).unwrap(),
        [p(0, 1), p(1, 2), p(2, 1), p(0, 2)]
    );
}

#[test]
fn lost_after_a_double_failure_by_index_and_by_name() {
    let p = |master, backup| UnicastPair { master, backup };
    let pairs = [p(0, 1), p(1, 2), p(2, 0), p(1, 0), p(0, 2)];
    assert_eq!(lost_after(&pairs, 0, 1), [0, 3]);
    assert_eq!(lost_after(&pairs, 1, 0), [0, 3]);
    assert_eq!(lost_after(&pairs, 0, 2), [2, 4]);
    assert_eq!(lost_after(&pairs, 1, 2), [1]);
    assert!(
        lost_after(&pairs, 0, 0).is_empty(),
        "one failure loses nothing"
    );
    assert!(lost_after(&pairs, 3, 4).is_empty(), "not members");
    assert_eq!(pairs[1].owner(&[1]), Some(2));
    assert_eq!(pairs[1].owner(&[1, 2]), None);

    let nodes = names(3);
    let vnames: Vec<String> = (0..4).map(|i| format!("v{i}")).collect();
    let specs: Vec<VipSpec<'_>> = vnames
        .iter()
        .enumerate()
        .map(|(i, name)| spec(name, i as i64 + 1, None))
        .collect();
    let plan = plan_unicast(&nodes, &specs).unwrap();
    // Pairs (0,1) (1,2) (2,1) (0,2), as small_cases_by_hand shows.
    assert_eq!(lost_vips(&plan, "n1", "n2"), ["v1", "v2"]);
    assert_eq!(lost_vips(&plan, "n2", "n1"), ["v1", "v2"]);
    assert_eq!(lost_vips(&plan, "n0", "n1"), ["v0"]);
    assert!(lost_vips(&plan, "n0", "n0").is_empty());
    assert!(lost_vips(&plan, "n0", "nobody").is_empty());
    assert_eq!(plan[1].peer_of("n1"), Some("n2"));
    assert_eq!(plan[1].peer_of("n2"), Some("n1"));
    assert_eq!(plan[1].peer_of("n0"), None);
    assert_eq!(plan[3].order(), ["n0", "n2"]);
}

fn spec<'a>(name: &'a str, v: i64, prefer: Option<&'a [String]>) -> VipSpec<'a> {
    VipSpec {
        name,
        vhid: vhid(v),
        prefer,
    }
}

#[test]
fn prefer_names_the_master_or_the_pair() {
    let nodes = names(3);
    let one = vec!["n1".to_string()];
    let two = vec!["n1".to_string(), "n0".to_string()];
    let specs = [
        spec("a", 1, Some(&one)),
        spec("b", 2, Some(&two)),
        spec("c", 3, None),
        spec("d", 4, None),
    ];
    let plan = plan_unicast(&nodes, &specs).unwrap();
    assert_eq!(plan[0].master, "n1");
    assert_ne!(plan[0].backup, "n1");
    assert_eq!(plan[0].source, OrderSource::Prefer);
    assert_eq!(plan[1].order(), ["n1", "n0"]);
    assert_eq!(plan[1].source, OrderSource::Prefer);
    // Balanced VIPs count among themselves: c is the first (n0), d the
    // second (n1), whatever comes before them.
    assert_eq!(plan[2].master, "n0");
    assert_eq!(plan[3].master, "n1");
    assert_eq!(plan[2].source, OrderSource::Balanced);
    // The explicit VIPs count in the load water-filling fills: n1 masters
    // three VIPs, so c (master n0) is backed up by n2, not by n1, which
    // rotation alone would pick; and n1's chosen backups avoid n0, which
    // already backs up b.
    assert_eq!(plan[2].backup, "n2");
    assert_eq!(plan[0].backup, "n2");
    assert_eq!(plan[3].backup, "n2");
}

#[test]
fn bad_prefer_lists_are_refused_with_the_vip_and_node() {
    let nodes = names(3);
    let none: Vec<String> = Vec::new();
    let three = names(3);
    let twice = vec!["n1".to_string(), "n1".to_string()];
    let stranger = vec!["n0".to_string(), "n9".to_string()];
    let cases: [(Option<&[String]>, UnicastError); 4] = [
        (
            Some(&none),
            UnicastError::PreferLength {
                vip: "x".into(),
                count: 0,
            },
        ),
        (
            Some(&three),
            UnicastError::PreferLength {
                vip: "x".into(),
                count: 3,
            },
        ),
        (
            Some(&twice),
            UnicastError::PreferRepeats {
                vip: "x".into(),
                node: "n1".into(),
            },
        ),
        (
            Some(&stranger),
            UnicastError::UnknownNode {
                vip: "x".into(),
                node: "n9".into(),
            },
        ),
    ];
    for (prefer, want) in cases {
        let specs = [spec("ok", 1, None), spec("x", 2, prefer)];
        assert_eq!(plan_unicast(&nodes, &specs), Err(want));
    }
    let msg = plan_unicast(&nodes, &[spec("x", 2, Some(&three))])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("VIP x") && msg.contains("one peer"), "{msg}");
}

#[test]
fn one_node_cannot_hold_a_unicast_vip() {
    let one = names(1);
    let err = plan_unicast(&one, &[spec("v", 1, None)]).unwrap_err();
    assert_eq!(
        err,
        UnicastError::TooFewNodes {
            vip: "v".into(),
            nodes: 1
        }
    );
    let err = plan_unicast(&one, &[spec("v", 1, Some(&one))]).unwrap_err();
    assert!(matches!(err, UnicastError::TooFewNodes { .. }));
    assert_eq!(plan_unicast(&one, &[]), Ok(Vec::new()));
}

#[test]
fn bounds_by_hand() {
    let b = unicast_bounds(5, 12);
    assert_eq!((b.primaries_min, b.primaries_max), (2, 3));
    assert_eq!(b.single_failure, Some(3));
    assert_eq!(b.double_failure_lost, Some(12usize.div_ceil(10) + 1));
    assert_eq!(b.double_failure_load, Some(5));
    let b = unicast_bounds(2, 3);
    assert_eq!(b.single_failure, Some(3));
    assert_eq!(b.double_failure_lost, None);
    assert_eq!(unicast_bounds(0, 3).single_failure, None);
}

#[test]
fn construction_scales_to_the_node_limit() {
    // 240 nodes (MAX_NODES), 4 VIPs each: linear, and still balanced.
    let (n, m) = (crate::model::MAX_NODES, 960);
    let pairs = balanced_pairs(n, m).unwrap();
    assert_eq!(pairs.len(), m);
    let mut t = vec![0usize; n];
    for p in pairs.iter().filter(|p| p.master == 0) {
        t[p.backup] += 1;
    }
    assert!(
        t.iter().all(|&k| k <= 1),
        "node 0's VIPs on distinct partners"
    );
    let (load, _) = loads_after(n, &pairs, &[0]);
    assert!(load.iter().all(|&l| l <= m.div_ceil(n - 1)));
}

/// [`worst_cases`] against a brute force over every failure, on every
/// way to pair up to six VIPs over four nodes (explicit orders included,
/// so also plans that break the bounds).
#[test]
fn worst_cases_match_the_brute_force() {
    let n = 4usize;
    let choices: Vec<UnicastPair> = (0..n)
        .flat_map(|master| {
            (0..n)
                .filter(move |&b| b != master)
                .map(move |backup| UnicastPair { master, backup })
        })
        .collect();
    for m in 0..=3usize {
        let total = choices.len().pow(m as u32);
        for code in 0..total {
            let mut c = code;
            let pairs: Vec<UnicastPair> = (0..m)
                .map(|_| {
                    let p = choices[c % choices.len()];
                    c /= choices.len();
                    p
                })
                .collect();
            let w = worst_cases(n, &pairs);
            let single = (0..n)
                .map(|f| loads_after(n, &pairs, &[f]).0.into_iter().max().unwrap())
                .max();
            assert_eq!(w.single_failure, single, "{pairs:?}");
            let lost = (0..n)
                .flat_map(|f| (f + 1..n).map(move |g| (f, g)))
                .map(|(f, g)| (lost_after(&pairs, f, g).len(), f, g))
                .max_by_key(|&(k, f, g)| (k, std::cmp::Reverse((f, g))))
                .map(|(k, f, g)| (k, (f, g)));
            assert_eq!(w.double_failure_lost, lost, "{pairs:?}");
        }
    }
    // Balanced plans meet their bounds by this measure too.
    let pairs = balanced_pairs(5, 12).unwrap();
    let w = worst_cases(5, &pairs);
    assert_eq!(w.single_failure, unicast_bounds(5, 12).single_failure);
    assert!(w.double_failure_lost.unwrap().0 <= 3);
    assert_eq!(worst_cases(1, &[]).single_failure, None);
    assert_eq!(worst_cases(2, &[]).double_failure_lost, None);
}
