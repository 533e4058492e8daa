//! contrib/prometheus/carpctl.rules.yml and contrib/grafana/carpctl.json:
//! every metric, label and label value their PromQL names is one that the
//! exporter (`carpctl::daemon::metrics::render`, what `carpctl daemon` serves and
//! writes) really outputs; the rules pass `promtool check rules` and their
//! unit tests, and the dashboard's expressions parse.

use std::collections::{BTreeMap, BTreeSet};

use carpctl::daemon::checks::CheckView;
use carpctl::daemon::metrics::{Snapshot, VhidMetric, render};
use carpctl::hooks::{HookCounters, VhidHookCounters};
use carpctl::ledger::{Cause, Contribution, Split};
use carpctl::model::{CarpState, Protocol, Vhid};
use regex::Regex;
use serde_json::Value;

use super::{read, root, run, text};

const RULES: &str = "contrib/prometheus/carpctl.rules.yml";
const RULE_TESTS: &str = "contrib/prometheus/carpctl.rules.test.yml";
const DASHBOARD: &str = "contrib/grafana/carpctl.json";

/// Labels Prometheus adds to every scraped series.
const TARGET_LABELS: [&str; 2] = ["job", "instance"];

/// Metric name -> label -> the values the exposition shows.
type Exported = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// An exposition with every metric in it: vhids with and without a VIP
/// name, a VRRP one, a hook, a check, and each of carpctl's demotion shares.
fn exposition() -> String {
    let share = |weight, since| Contribution {
        weight,
        reason: None,
        since,
    };
    // `..Default::default()` keeps this compiling when a metric (and its
    // snapshot field) is added; the cross-check then asks for it to be
    // shown or alerted on.
    #[allow(clippy::needless_update)]
    let snapshot = Snapshot {
        vhids: vec![
            VhidMetric {
                vhid: 1,
                interface: "em0".into(),
                vip: "mail1".into(),
                state: CarpState::Master,
                protocol: Protocol::Carp,
                vrrp_priority: None,
                vrrp_interval: None,
            },
            VhidMetric {
                vhid: 9,
                interface: "em0".into(),
                vip: String::new(),
                state: CarpState::Backup,
                protocol: Protocol::Carp,
                vrrp_priority: None,
                vrrp_interval: None,
            },
            VhidMetric {
                vhid: 3,
                interface: "em1".into(),
                vip: "gw".into(),
                state: CarpState::Backup,
                protocol: Protocol::Vrrpv3,
                vrrp_priority: Some(254),
                vrrp_interval: Some(100),
            },
        ],
        transitions: 4,
        hooks: vec![VhidHookCounters {
            interface: "em0".into(),
            vhid: Vhid::new(1).unwrap(),
            vip: "mail1".into(),
            counters: HookCounters {
                runs: 3,
                failures: 1,
                ..HookCounters::default()
            },
        }],
        checks: BTreeMap::from([(
            "smtp".to_string(),
            CheckView {
                kind: "tcp",
                up: false,
                last_error: Some("refused".into()),
                demoting: Some(5),
                changes: 1,
            },
        )]),
        demotion: Some(Split {
            total: 485,
            shares: BTreeMap::from([
                (Cause::Maintenance, share(240, 1_800_000_000)),
                (Cause::BootHold, share(240, 1_800_000_001)),
                (Cause::Check("smtp".into()), share(5, 1_800_000_002)),
            ]),
            other: 0,
            not_applied: BTreeMap::new(),
            pending: false,
        }),
        ..Snapshot::default()
    };
    render(&snapshot)
}

/// The names (from `# TYPE`), labels and label values of an exposition.
fn exported(text: &str) -> Exported {
    let sample = Regex::new(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$").unwrap();
    let label = Regex::new(r#"([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)""#).unwrap();
    let mut out = Exported::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                matches!(kind, "gauge" | "counter"),
                "{name}: {kind}: extend this test for histogram/summary suffixes"
            );
            out.entry(name.to_string()).or_default();
        } else if !line.starts_with('#') {
            let c = sample
                .captures(line)
                .unwrap_or_else(|| panic!("sample: {line}"));
            let labels = out
                .get_mut(&c[1])
                .unwrap_or_else(|| panic!("{line}: no # TYPE before it"));
            for l in label.captures_iter(c.get(2).map_or("", |m| m.as_str())) {
                labels
                    .entry(l[1].to_string())
                    .or_default()
                    .insert(l[2].to_string());
            }
        }
    }
    out
}

/// One series selector of an expression.
#[derive(Debug)]
struct Selector {
    name: String,
    /// (label, operator, value)
    matchers: Vec<(String, String, String)>,
}

/// The selectors of a PromQL expression, and the labels of its `by`,
/// `without`, `on`, `ignoring` and `group_*` clauses. A small reader for
/// the expressions of these two files, not a PromQL parser: what it
/// cannot read makes it panic rather than pass.
fn references(expr: &str) -> (Vec<Selector>, Vec<String>) {
    let selector = Regex::new(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^{}]*)\}").unwrap();
    let matcher = Regex::new(
        r#"^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)"#,
    )
    .unwrap();
    let grouping =
        Regex::new(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)").unwrap();
    let range = Regex::new(r"\[[^\]]*\]").unwrap();
    let ident = Regex::new(r"[a-zA-Z_:][a-zA-Z0-9_:]*").unwrap();
    const KEYWORDS: [&str; 7] = ["and", "or", "unless", "bool", "offset", "inf", "nan"];

    let mut selectors = Vec::new();
    for c in selector.captures_iter(expr) {
        let name = c
            .get(1)
            .unwrap_or_else(|| panic!("a selector without a metric name: {expr}"))
            .as_str();
        let mut rest = &c[2];
        let mut matchers = Vec::new();
        while !rest.trim().is_empty() {
            let m = matcher
                .captures(rest)
                .unwrap_or_else(|| panic!("cannot read the matchers {rest:?} in {expr}"));
            matchers.push((m[1].to_string(), m[2].to_string(), m[3].to_string()));
            rest = &rest[m.get(0).unwrap().end()..];
        }
        selectors.push(Selector {
            name: name.to_string(),
            matchers,
        });
    }
    let stripped = selector.replace_all(expr, " ");
    let mut groups = Vec::new();
    for c in grouping.captures_iter(&stripped) {
        groups.extend(
            c[1].split(',')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    let stripped = grouping.replace_all(&stripped, " ");
    let stripped = range.replace_all(&stripped, " ");
    for m in ident.find_iter(&stripped) {
        let word = m.as_str();
        let before = stripped[..m.start()].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || "_:.$".contains(c)) {
            continue; // the tail of a number or a variable
        }
        let function = stripped[m.end()..].trim_start().starts_with('(');
        if function || KEYWORDS.contains(&word) {
            continue; // a function, an operator
        }
        selectors.push(Selector {
            name: word.to_string(),
            matchers: Vec::new(),
        });
    }
    (selectors, groups)
}

/// What is wrong with `expr` against `exported` (empty when nothing).
fn problems(expr: &str, exported: &Exported) -> Vec<String> {
    let (selectors, groups) = references(expr);
    let mut found = Vec::new();
    let mut known_labels: BTreeSet<&str> = TARGET_LABELS.into_iter().collect();
    for s in &selectors {
        let Some(labels) = exported.get(&s.name) else {
            found.push(format!("{}: carpctl exports no such metric", s.name));
            continue;
        };
        known_labels.extend(labels.keys().map(String::as_str));
        for (label, op, value) in &s.matchers {
            if TARGET_LABELS.contains(&label.as_str()) {
                continue;
            }
            let Some(values) = labels.get(label) else {
                found.push(format!("{}: has no label {label}", s.name));
                continue;
            };
            if op == "=" && !value.contains('$') && !values.contains(value) {
                found.push(format!("{}: {label}={value:?} never occurs", s.name));
            }
        }
    }
    if selectors.is_empty() {
        found.push("no metric at all".into());
    }
    for g in &groups {
        if !known_labels.contains(g.as_str()) {
            found.push(format!("grouping by {g}, which none of its metrics has"));
        }
    }
    found
}

/// The `expr:` of every alert in the rules file (one line each).
fn rule_exprs() -> BTreeMap<String, String> {
    let text = read(RULES);
    let mut out = BTreeMap::new();
    let mut alert = None;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("- alert: ") {
            assert!(alert.is_none(), "{name}: the alert before has no expr");
            alert = Some(name.to_string());
        } else if let Some(expr) = line.strip_prefix("expr: ") {
            let name = alert.take().expect("an expr outside an alert");
            assert!(out.insert(name, expr.to_string()).is_none());
        }
    }
    assert!(alert.is_none());
    out
}

/// Every PromQL expression of the dashboard: panel targets and the
/// queries of its variables (`label_values(SELECTOR, LABEL)`, whose label
/// is returned too), with where each is.
fn dashboard_exprs() -> Vec<(String, String, Option<String>)> {
    let dash: Value = serde_json::from_str(&read(DASHBOARD)).expect("the dashboard is JSON");
    let mut out = Vec::new();
    for p in dash["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().unwrap() {
            out.push((
                format!("panel {:?} {}", p["title"], t["refId"]),
                t["expr"].as_str().unwrap().to_string(),
                None,
            ));
        }
    }
    let label_values = Regex::new(r"^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$").unwrap();
    for v in dash["templating"]["list"].as_array().unwrap() {
        if v["type"] != "query" {
            continue;
        }
        let q = v["query"]["query"].as_str().unwrap();
        assert_eq!(v["definition"].as_str(), Some(q), "{}", v["name"]);
        let c = label_values
            .captures(q)
            .unwrap_or_else(|| panic!("variable {}: {q}", v["name"]));
        out.push((
            format!("variable {}", v["name"]),
            c[1].to_string(),
            Some(c[2].to_string()),
        ));
    }
    out
}

#[test]
fn rules_and_dashboard_name_only_what_carpctl_exports() {
    let exported = exported(&exposition());
    assert!(exported.len() >= 9, "{:?}", exported.keys());
    let mut all = Vec::new();
    for (alert, expr) in rule_exprs() {
        all.push((format!("alert {alert}"), expr, None));
    }
    all.extend(dashboard_exprs());
    let mut bad = Vec::new();
    let mut used = BTreeSet::new();
    for (place, expr, label) in &all {
        for p in problems(expr, &exported) {
            bad.push(format!("{place}: {p}\n    {expr}"));
        }
        let (selectors, _) = references(expr);
        for s in &selectors {
            used.insert(s.name.clone());
            if let Some(l) = label
                && !TARGET_LABELS.contains(&l.as_str())
                && !exported.get(&s.name).is_some_and(|m| m.contains_key(l))
            {
                bad.push(format!("{place}: {} has no label {l}", s.name));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // And every exported metric is on the dashboard or in a rule.
    let unused: Vec<_> = exported.keys().filter(|n| !used.contains(*n)).collect();
    assert!(
        unused.is_empty(),
        "neither shown nor alerted on: {unused:?}"
    );
}

#[test]
fn the_cross_check_catches_wrong_names_labels_and_values() {
    let exported = exported(&exposition());
    let bad = |expr: &str| {
        let p = problems(expr, &exported);
        assert!(!p.is_empty(), "{expr} passed");
        p.join("; ")
    };
    assert!(bad("carpctl_vhid_states{state=\"MASTER\"}").contains("no such metric"));
    assert!(bad("up == 0").contains("up: carpctl exports no such metric"));
    assert!(bad("carpctl_vhid_state{node=\"a\"}").contains("no label node"));
    assert!(bad("carpctl_vhid_state{state=\"master\"}").contains("never occurs"));
    assert!(bad("sum by (node) (carpctl_check_up)").contains("grouping by node"));
    assert!(bad("time()").contains("no metric"));
    assert!(
        bad("rate(carpctl_hook_runs_totl[5m]) / rate(carpctl_hook_runs_total[5m])")
            .contains("carpctl_hook_runs_totl")
    );
    // What is right passes: target labels, regex matchers, variables.
    let good = [
        "sum by (job, vip) (carpctl_vhid_state{state=\"MASTER\", vip!=\"\"}) == 0",
        "carpctl_demotion_kernel - ignoring(cause) carpctl_demotion{cause=\"maintenance\"} > 0",
        "increase(carpctl_check_changes_total{instance=~\"$instance\"}[$__rate_interval])",
        "time() - carpctl_demotion_since_seconds{cause=\"maintenance\"} > 86400",
    ];
    for g in good {
        assert_eq!(problems(g, &exported), Vec::<String>::new(), "{g}");
    }
}

#[test]
fn rules_have_the_alerts_of_the_issue() {
    let names: BTreeSet<String> = rule_exprs().into_keys().collect();
    let want = [
        "CarpctlNodeDemoted",
        "CarpctlVipWithoutMaster",
        "CarpctlVipWithTwoMasters",
        "CarpctlHookFailed",
        "CarpctlCheckFlapping",
        "CarpctlMaintenanceForgotten",
    ];
    assert_eq!(names, want.iter().map(|s| s.to_string()).collect());
    // Each is unit-tested, firing and not firing.
    let tests = read(RULE_TESTS);
    for name in want {
        let evals = tests.matches(&format!("alertname: {name}\n")).count();
        assert!(evals >= 2, "{name}: {evals} evaluation(s) in {RULE_TESTS}");
    }
}

#[test]
fn dashboard_panels_are_complete_and_consistent() {
    let dash: Value = serde_json::from_str(&read(DASHBOARD)).unwrap();
    let vars: BTreeSet<&str> = dash["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    let var_use = Regex::new(r"\$\{?([a-zA-Z_][a-zA-Z0-9_]*)").unwrap();
    let mut ids = BTreeSet::new();
    let mut shown = String::new();
    for p in dash["panels"].as_array().unwrap() {
        let title = p["title"].as_str().unwrap();
        assert!(
            ids.insert(p["id"].as_u64().unwrap()),
            "{title}: duplicate id"
        );
        let g = &p["gridPos"];
        let (x, w) = (g["x"].as_u64().unwrap(), g["w"].as_u64().unwrap());
        assert!(
            x + w <= 24 && g["h"].as_u64().unwrap() > 0,
            "{title}: gridPos"
        );
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{title}");
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title}");
        for t in targets {
            let expr = t["expr"].as_str().unwrap();
            for v in var_use.captures_iter(expr) {
                assert!(
                    v[1].starts_with("__") || vars.contains(&v[1]),
                    "{title}: ${} is not a variable",
                    &v[1]
                );
            }
            shown.push_str(expr);
            shown.push('\n');
        }
    }
    // The views the issue asks for.
    for (what, needle) in [
        (
            "per-VIP state over time",
            "carpctl_vhid_state{job=~\"$job\", instance=~",
        ),
        ("masters per VIP", "sum by (vip) (carpctl_vhid_state{"),
        ("demotion by cause", "carpctl_demotion{"),
        ("hook runs", "carpctl_hook_runs_total"),
        ("hook failures", "carpctl_hook_failures_total"),
        ("check status", "carpctl_check_up"),
    ] {
        assert!(shown.contains(needle), "no panel shows {what}");
    }
}

/// The dashboard's expressions with Grafana's variables filled in, as
/// recording rules: `promtool check rules` then parses them as PromQL.
fn dashboard_as_rules() -> String {
    let var = Regex::new(r"\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?").unwrap();
    let mut out = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, (_, expr, _)) in dashboard_exprs().iter().enumerate() {
        let expr = var.replace_all(expr, |c: &regex::Captures| {
            if c[1].starts_with("__") { "5m" } else { ".*" }.to_string()
        });
        // A JSON string is a YAML double-quoted scalar.
        let quoted = serde_json::to_string(&expr).unwrap();
        out.push_str(&format!(
            "      - record: dashboard:expr{i}\n        expr: {quoted}\n"
        ));
    }
    out
}

/// `promtool ARGS` in contrib/prometheus; `None` when promtool is missing
/// (.ci/run installs it and says so loudly when it cannot).
fn promtool(args: &[&str]) -> Option<(bool, String)> {
    let out = run("promtool", args, &root().join("contrib/prometheus"))?;
    Some((
        out.status.success(),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    ))
}

#[test]
fn promtool_checks_and_tests_the_rules_and_parses_the_dashboard() {
    let Some((ok, out)) = promtool(&["check", "rules", "carpctl.rules.yml"]) else {
        eprintln!("SKIP: promtool is not installed (Debian: prometheus)");
        return;
    };
    assert!(ok, "{out}");
    let (ok, out) = promtool(&["test", "rules", "carpctl.rules.test.yml"]).unwrap();
    assert!(ok, "{out}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dashboard.rules.yml");
    std::fs::write(&file, dashboard_as_rules()).unwrap();
    let (ok, out) = promtool(&["check", "rules", file.to_str().unwrap()]).unwrap();
    assert!(ok, "{out}\n{}", dashboard_as_rules());
    // A broken expression is refused, so the check above means something.
    std::fs::write(
        &file,
        "groups:\n  - name: x\n    rules:\n      - record: x\n        expr: \"sum by (vip (x)\"\n",
    )
    .unwrap();
    let (ok, _) = promtool(&["check", "rules", file.to_str().unwrap()]).unwrap();
    assert!(!ok);
}
