//! Tests of `[[expect]]` (carpctl.scenario(5), EXPECTATIONS): each kind
//! met and not met on the same run (a checker that always says "met"
//! fails them), the observed values, a `verdict` expectation judging its
//! requirement, and every mistake in an `[[expect]]` named with its line
//! and key.

use super::tests::{errors, has, load, scenario2, two};
use super::*;

/// Two nodes, `a` preferred for `web`: `a` crashes at 10 s and boots at
/// 25 s (preempt on), then `expects`.
fn crash_and_back(expects: &str) -> Report {
    let events = format!(
        "[[event]]\nat = 10\naction = \"crash\"\nnode = \"a\"\n\
         [[event]]\nat = 25\naction = \"boot\"\nnode = \"a\"\n{expects}"
    );
    let (_f, sc) = load(&two(true), &scenario2(40, &events));
    run(&sc, None).unwrap()
}

/// (met, observed) of each expectation, in order.
fn results(r: &Report) -> Vec<(bool, String)> {
    r.expectations
        .iter()
        .map(|e| (e.met, e.observed.clone()))
        .collect()
}

#[test]
fn master_and_state_expectations_are_met_or_not_as_the_run_goes() {
    let r = crash_and_back(
        "[[expect]]\nmaster = \"a\"\nvip = \"web\"\nat = 5\n\
         [[expect]]\nmaster = \"b\"\nvip = \"web\"\nat = 5\n\
         [[expect]]\nmaster = \"b\"\nvip = \"web\"\nat = 20\n\
         [[expect]]\nmaster = \"a\"\nvip = \"web\"\nat = 11\n\
         [[expect]]\nstate = \"backup\"\nnode = \"b\"\nvip = \"web\"\nat = 5\n\
         [[expect]]\nstate = \"master\"\nnode = \"b\"\nvip = \"web\"\nat = 5\n\
         [[expect]]\nstate = \"init\"\nnode = \"a\"\nvip = \"web\"\nat = 20\n\
         [[expect]]\nstate = \"master\"\nnode = \"a\"\nvip = \"web\"\nat = 40\n",
    );
    let got = results(&r);
    let want = [
        (true, "a"),
        (false, "a"),
        (true, "b"),
        // a has crashed and b has not yet taken over: nobody.
        (false, "no node is MASTER"),
        (true, "BACKUP"),
        (false, "BACKUP"),
        // A crash logs no transition: the vhid is gone with the kernel.
        (true, "INIT"),
        (true, "MASTER"),
    ];
    assert_eq!(got.len(), want.len(), "{}", r.to_text());
    for (i, ((m, o), (wm, wo))) in got.iter().zip(want).enumerate() {
        assert_eq!((*m, o.as_str()), (wm, wo), "expect[{i}]\n{}", r.to_text());
    }
    assert!(!r.passed());
    assert_eq!(
        r.not_met(),
        [
            "expect[1] (line 23)",
            "expect[3] (line 31)",
            "expect[5] (line 40)"
        ]
    );
}

/// The instant of the takeover itself counts as after it.
#[test]
fn a_master_expectation_at_the_takeover_instant_sees_the_new_master() {
    let r = crash_and_back("");
    let took = r
        .transitions
        .iter()
        .find(|t| *t.node == *"b" && t.to == CarpState::Master)
        .unwrap()
        .time;
    let at = |t: f64| format!("[[expect]]\nmaster = \"b\"\nvip = \"web\"\nat = {t}\n");
    let r = crash_and_back(&format!("{}{}", at(took), at(took - 0.001)));
    assert_eq!(
        results(&r),
        [
            (true, "b".to_string()),
            (false, "no node is MASTER".to_string())
        ]
    );
}

#[test]
fn outage_and_dual_master_expectations_measure_the_run() {
    let r = crash_and_back(
        "[[expect]]\nlongest_outage_below = 4\nvip = \"web\"\n\
         [[expect]]\nlongest_outage_below = 2\n\
         [[expect]]\nlongest_outage_below = 1\nfrom = 20\nuntil = 40\n\
         [[expect]]\nno_dual_master = true\nuntil = 20\n\
         [[expect]]\nno_dual_master = false\nvip = \"web\"\nuntil = 20\n",
    );
    let web = &r.vips[0];
    let o = &web.outages[0];
    let len = o.end - o.start;
    assert!(len > 2.0 && len < 2.1, "{o:?}");
    let longest = format!("longest {} s (web at 10.000 s)", report::dur(len));
    assert_eq!(
        results(&r),
        [
            (true, longest.clone()),
            (false, longest),
            (true, "no outage".to_string()),
            (true, "no dual master".to_string()),
            (false, "no dual master".to_string()),
        ]
    );
    // The first is the text the report shows.
    assert!(
        r.to_text().contains(
            "expect[0] (line 19): met: every outage of web shorter than 4.000 s; observed: \
             longest 2.0"
        ),
        "{}",
        r.to_text()
    );
}

/// Another password on b at 10 s: both MASTER from about 12 s on (b's
/// master-down interval after a's last advertisement it accepted).
#[test]
fn a_dual_master_is_seen_in_its_window_only() {
    let events = "[[event]]\nat = 10\naction = \"password\"\nnode = \"b\"\nvip = \"web\"\n\
                  password = \"other\"\n\
                  [[expect]]\nno_dual_master = true\n\
                  [[expect]]\nno_dual_master = false\nfrom = 12\n\
                  [[expect]]\nno_dual_master = true\nuntil = 10\n";
    let (_f, sc) = load(&two(true), &scenario2(30, events));
    let r = run(&sc, None).unwrap();
    let got = results(&r);
    assert!(!got[0].0, "{got:?}");
    assert!(
        got[0].1.starts_with("dual master web 12.0") && got[0].1.ends_with(" (a, b)"),
        "{got:?}"
    );
    assert!(got[1].0 && got[2].0, "{got:?}");
}

/// A `verdict` expectation is met when the verdict is as stated, and then
/// judges its requirement: a scenario that expects a requirement not to be
/// met passes.
#[test]
fn a_verdict_expectation_judges_its_requirement() {
    // Ends 1 s after the boot: too soon to judge the rebalance.
    let events = "[[event]]\nat = 10\naction = \"crash\"\nnode = \"a\"\n\
                  [[event]]\nat = 25\naction = \"boot\"\nnode = \"a\"\n";
    let (_f, sc) = load(&two(true), &scenario2(26, events));
    let r = run(&sc, None).unwrap();
    assert!(!r.requirements.rebalanced_after_recovery);
    assert_eq!(r.not_met(), ["rebalanced after recovery"]);

    let with = |e: &str| {
        let (_f, sc) = load(&two(true), &scenario2(26, &format!("{events}{e}")));
        run(&sc, None).unwrap()
    };
    let r = with("[[expect]]\nverdict = \"preemption\"\nmet = false\n");
    assert!(r.expectations[0].met, "{}", r.to_text());
    assert!(
        r.expectations[0]
            .observed
            .starts_with("not met: the scenario ends")
    );
    assert!(r.passed(), "{:?}", r.not_met());
    let r = with(
        "[[expect]]\nverdict = \"preemption\"\nmet = true\n\
         [[expect]]\nverdict = \"failover\"\nmet = false\n\
         [[expect]]\nverdict = \"balance\"\nmet = true\n",
    );
    assert_eq!(
        r.expectations.iter().map(|e| e.met).collect::<Vec<_>>(),
        [false, false, true]
    );
    assert_eq!(r.not_met(), ["expect[0] (line 19)", "expect[1] (line 22)"]);
}

#[test]
fn bad_expectations_are_refused_with_line_and_key() {
    let c = two(true);
    let base = scenario2(30, "");
    // Each is named with its table and key, at its place in the file.
    let cases: &[(&str, &str)] = &[
        (
            "master = \"zz\"\nvip = \"web\"\nat = 1",
            "expect[0] (master): node \"zz\" is not a [[node]]",
        ),
        (
            "master = \"a\"\nvip = \"nope\"\nat = 1",
            "expect[0] (master): the cluster file has no VIP \"nope\"",
        ),
        (
            "master = \"a\"\nvip = \"web\"\nat = 31",
            "expect[0] (master): at 31 is outside the scenario",
        ),
        (
            "master = \"a\"\nvip = \"web\"\nat = -1",
            "expect[0] (master): at -1 is outside the scenario",
        ),
        (
            "master = \"a\"\nvip = \"web\"",
            "expect[0] (master): at is missing",
        ),
        (
            "master = \"a\"\nvip = \"web\"\nat = 1\nfrom = 2",
            "expect[0] (master): key from does not apply to master; it takes: vip, at",
        ),
        (
            "master = \"a\"\nvip = \"web\"\nat = 1\ncolour = 1",
            "unknown field `colour`",
        ),
        (
            "master = 1\nvip = \"web\"\nat = 1",
            "master: invalid type: integer `1`, expected a string",
        ),
        (
            "master = \"a\"\nvip = \"web\"\nat = \"noon\"",
            "at: expected a number of seconds",
        ),
        (
            "no_dual_master = \"yes\"",
            "no_dual_master: invalid type: string \"yes\", expected a boolean",
        ),
        (
            "vip = \"web\"",
            "expect[0]: say what is expected with one of: master, state, longest_outage_below, no_dual_master, verdict",
        ),
        (
            "no_dual_master = true\nlongest_outage_below = 1",
            "expect[0]: longest_outage_below and no_dual_master in one table",
        ),
        (
            "state = \"primary\"\nnode = \"a\"\nvip = \"web\"\nat = 1",
            "expect[0] (state): state \"primary\" is not one of init, backup, master",
        ),
        (
            "state = \"master\"\nnode = \"q\"\nvip = \"web\"\nat = 1",
            "expect[0] (state): node \"q\" is not a [[node]]",
        ),
        (
            "verdict = \"speed\"\nmet = true",
            "expect[0] (verdict): verdict \"speed\" is not one of balance, failover, preemption",
        ),
        (
            "verdict = \"balance\"",
            "expect[0] (verdict): met is missing",
        ),
        (
            "longest_outage_below = 0",
            "expect[0].longest_outage_below 0 is out of range",
        ),
        (
            "no_dual_master = true\nfrom = 20\nuntil = 10",
            "expect[0] (no_dual_master): from 20 is not before until 10",
        ),
        (
            "no_dual_master = true\nuntil = 99",
            "expect[0] (no_dual_master): until 99 is outside the scenario",
        ),
    ];
    for (body, needle) in cases {
        let e = errors(&c, &format!("{base}[[expect]]\n{body}\n"));
        assert!(
            e.iter()
                .any(|x| x.contains(needle) && x.contains("scenario.toml:")),
            "{body}\n{needle}\n{e:?}"
        );
    }
    // The line: of the offending key where there is one.
    let e = errors(
        &c,
        &format!("{base}[[expect]]\nmaster = \"a\"\nvip = \"web\"\nat = 99\n"),
    );
    assert!(has(&e, 14, "at 99 is outside"), "{e:?}");
    // The key is recorded for the diagnostic's JSON form.
    let f = super::tests::files(
        &c,
        &format!("{base}[[expect]]\nmaster = \"zz\"\nvip = \"web\"\nat = 1\n"),
    );
    let d = scenario::load(&f.scenario).unwrap_err();
    assert_eq!(d[0].key.as_deref(), Some("expect[0].master"), "{d:?}");
}

/// A node that does not take part in the VIP (not in its `prefer`) has no
/// vhid for it: expecting its state is refused.
#[test]
fn a_state_of_a_node_outside_the_vip_is_refused() {
    let c = two(true).replace("prefer = [\"a\", \"b\"]", "prefer = [\"a\"]");
    let e = errors(
        &c,
        &format!(
            "{}[[expect]]\nstate = \"backup\"\nnode = \"b\"\nvip = \"web\"\nat = 1\n",
            scenario2(30, "")
        ),
    );
    assert!(
        e.iter()
            .any(|x| x.contains("expect[0] (state): node \"b\" does not take part in VIP \"web\"")),
        "{e:?}"
    );
}

#[test]
fn too_many_expectations_are_refused() {
    let many = "[[expect]]\nno_dual_master = true\n".repeat(limits::MAX_EXPECTS + 1);
    let e = errors(&two(true), &format!("{}{many}", scenario2(30, "")));
    assert!(
        e.iter()
            .any(|x| x.contains("expect[1000]: too many expectations (1001)")),
        "{e:?}"
    );
}
