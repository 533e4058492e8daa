//! `carpctl simulate --html/--svg` and `carpctl plan --html` end to end:
//! the real binary writes the files (never through a symbolic link, each
//! to its own path, refused before the run when the path cannot be
//! created), and headless Chromium renders them.
//!
//! The browser tests render each page with Debian's `chromium` (.ci/run
//! installs it; without it they skip, loudly) and check, without looking
//! at a pixel:
//!
//! * nothing on the browser's console (a script error, or a fetch refused
//!   by the pages' Content-Security-Policy, would be logged there);
//! * no request leaves the page: Chromium's network log (`--log-net-log`)
//!   holds no request made for the page other than for the file itself;
//! * the DOM Chromium built holds the expected rows and bars: one row per
//!   VIP of the `--json` report, in its order, whose bars count every
//!   MASTER tenure of that VIP, outages and events likewise; the verdicts
//!   as the report has them; the plan's cells equal to the `--json`
//!   failure matrix.
//!
//! [`the_browser_checks_catch_console_errors_and_fetches`] shows that
//! those checks can fail. Each render's screenshot is kept under
//! `target/ci-artifacts/pictures/` (.ci/run prints where).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use regex::Regex;
use serde_json::Value;

use crate::scenario_files as scenario;

use crate::common::{self, s};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn carpctl(args: &[&str]) -> Output {
    common::carpctl()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run carpctl")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn seed_scenario() -> PathBuf {
    root().join("examples/seed-scenario.toml")
}

/// A 4-node, 64-VIP scenario of 600 s: a crash and a boot, a partition
/// and its healing (dual masters for 50 s), and loss on the segment.
fn scenario_64(dir: &Path) -> PathBuf {
    let nodes = scenario::names("node", 4);
    let vips = scenario::names("vip", 64);
    let events = "\
[[event]]\nat = 30\naction = \"crash\"\nnode = \"node02\"\n\n\
[[event]]\nat = 90\naction = \"boot\"\nnode = \"node02\"\n\n\
[[event]]\nat = 150\naction = \"partition\"\ngroups = [[\"node03\"]]\n\n\
[[event]]\nat = 200\naction = \"heal\"\n\n\
[[event]]\nat = 400\naction = \"loss\"\npercent = 20\n\n\
[[event]]\nat = 430\naction = \"loss\"\npercent = 0\n";
    scenario::write(
        dir,
        &nodes.iter().map(String::as_str).collect::<Vec<_>>(),
        &vips.iter().map(String::as_str).collect::<Vec<_>>(),
        600,
        events,
    )
}

/// `carpctl simulate SCENARIO --json --html H --svg S` in `dir`: the JSON
/// report and the paths of the pictures.
fn simulate_pictures(scenario: &Path, dir: &Path, name: &str) -> (Value, PathBuf, PathBuf) {
    let html = dir.join(format!("{name}.html"));
    let svg = dir.join(format!("{name}.svg"));
    let out = carpctl(&[
        "simulate",
        s(scenario),
        "--json",
        "--html",
        s(&html),
        "--svg",
        s(&svg),
    ]);
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 1, "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("the JSON report");
    (report, html, svg)
}

// ---------------------------------------------------------------------------
// The files
// ---------------------------------------------------------------------------

/// `--html` and `--svg` write their files and leave the report on
/// standard output as it was; the exit status is still the verdict's.
#[test]
fn simulate_writes_the_pictures_beside_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("seed.html");
    let svg = dir.path().join("seed.svg");
    let plain = carpctl(&["simulate", s(&seed_scenario())]);
    let out = carpctl(&[
        "simulate",
        s(&seed_scenario()),
        "--html",
        s(&html),
        "--svg",
        s(&svg),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(out.stdout, plain.stdout);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert_eq!(page.matches("<g class=\"vip-row\"").count(), 2);
    assert!(page.contains("data-vip=\"mail1\""));
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<?xml"), "{picture}");
    assert!(picture.contains("failover unnoticed: met"), "{picture}");
}

/// carpctl runs as root: a symbolic link where a picture goes is refused
/// (O_NOFOLLOW), before anything is simulated, and its target is left
/// alone.
#[test]
fn pictures_are_never_written_through_a_symbolic_link() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious");
    std::fs::write(&target, "keep me").unwrap();
    for flag in ["--html", "--svg"] {
        let link = dir.path().join(format!("link{flag}"));
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let out = carpctl(&["simulate", s(&seed_scenario()), flag, s(&link)]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(&format!("{}: cannot create", link.display())),
            "{}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "nothing simulated");
    }
    let link = dir.path().join("plan-link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = carpctl(&[
        "--config",
        s(&root().join("examples/seed.toml")),
        "plan",
        "--html",
        s(&link),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
}

#[test]
fn each_output_needs_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("out");
    for (a, b) in [
        ("--html", "--svg"),
        ("--html", "--pcap"),
        ("--svg", "--pcap"),
    ] {
        let out = carpctl(&["simulate", s(&seed_scenario()), a, s(&f), b, s(&f)]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(err.contains("name the same file"), "{err}");
        assert!(!f.exists(), "nothing written");
    }
}

/// A path that cannot be created is refused at once, not after the run.
#[test]
fn a_picture_that_cannot_be_created_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/report.html");
    let out = carpctl(&["simulate", s(&seed_scenario()), "--html", s(&missing)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("cannot create"),
        "{}",
        text(&out.stderr)
    );
}

/// `plan --html` writes the page and prints the plan as before.
#[test]
fn plan_writes_its_page_beside_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("plan.html");
    let cfg = root().join("examples/seed.toml");
    let plain = carpctl(&["--config", s(&cfg), "plan"]);
    let out = carpctl(&["--config", s(&cfg), "plan", "--html", s(&html)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(out.stdout, plain.stdout);
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<tr class=\"case").count(), 4, "{page}");
    assert!(!page.contains("secret"), "no password");
}

// ---------------------------------------------------------------------------
// The browser
// ---------------------------------------------------------------------------

/// How long one render may take (a loaded CI machine starts Chromium in
/// a few seconds).
const RENDER_LIMIT: Duration = Duration::from_secs(120);

fn chromium() -> Option<&'static str> {
    let ok = Command::new("chromium")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some("chromium")
}

/// Skip a browser test, loudly, when Chromium is missing.
macro_rules! need_chromium {
    ($name:expr) => {
        if chromium().is_none() {
            eprintln!(
                "SKIPPED {}: chromium is not installed (.ci/run installs Debian's chromium \
                 package)",
                $name
            );
            return;
        }
    };
}

/// Where the screenshots go: `target/ci-artifacts/pictures`.
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("ci-artifacts/pictures");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What Chromium made of a page.
struct Rendered {
    dom: String,
    /// The browser's console messages.
    console: Vec<String>,
    /// URLs requested for the page, other than the page's own file.
    fetches: Vec<String>,
}

/// Render `file` in headless Chromium in a window of `size`, keep its
/// screenshot as `shot` under [`artifacts`].
fn render(file: &Path, size: (u32, u32), shot: &str) -> Rendered {
    let work = tempfile::tempdir().unwrap();
    let netlog = work.path().join("net.json");
    let png = artifacts().join(shot);
    let _ = std::fs::remove_file(&png);
    let mut cmd = Command::new(chromium().unwrap());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!(
        "--user-data-dir={}",
        work.path().join("profile").display()
    ))
    .arg(format!("--log-net-log={}", netlog.display()))
    .arg(format!("--window-size={},{}", size.0, size.1))
    .arg(format!("--screenshot={}", png.display()))
    .arg("--dump-dom")
    .arg(format!("file://{}", file.display()))
    // Nothing of Chromium's lands in the real home.
    .env("HOME", work.path())
    .env("XDG_CONFIG_HOME", work.path().join("config"))
    .env("XDG_CACHE_HOME", work.path().join("cache"))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd.spawn().expect("start chromium");
    let out = wait_with_deadline(child, RENDER_LIMIT);
    assert!(
        out.status.success(),
        "chromium failed on {}: {}",
        file.display(),
        text(&out.stderr)
    );
    assert!(png.exists(), "no screenshot {}", png.display());
    let console = text(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    Rendered {
        dom: text(&out.stdout),
        console,
        fetches: page_fetches(&netlog, file),
    }
}

/// Wait for `child`, killing its process group past `limit`.
fn wait_with_deadline(mut child: std::process::Child, limit: Duration) -> Output {
    let pid = child.id();
    let deadline = Instant::now() + limit;
    // Read the pipes on threads: a large DOM would fill the pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut v).map(|_| v)
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut v).map(|_| v)
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = child.wait();
            panic!("chromium took more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().unwrap().unwrap(),
        stderr: err.join().unwrap().unwrap(),
    }
}

/// The URLs Chromium requested on behalf of the page `file` (its network
/// isolation key is the file:// origin), other than `file` itself.
/// Chromium's own background requests have other keys.
fn page_fetches(netlog: &Path, file: &Path) -> Vec<String> {
    let log: Value = serde_json::from_str(&std::fs::read_to_string(netlog).unwrap())
        .expect("Chromium's net log is JSON");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("the net log names URL_REQUEST_START_JOB");
    let own = format!("file://{}", file.display());
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter(|e| {
            e["params"]["network_isolation_key"]
                .as_str()
                .is_some_and(|k| k.contains("file://"))
        })
        .filter_map(|e| e["params"]["url"].as_str())
        .filter(|u| *u != own)
        .map(str::to_string)
        .collect()
}

/// No console message, no fetch.
fn assert_quiet(r: &Rendered, what: &str) {
    assert!(r.console.is_empty(), "{what}: console: {:#?}", r.console);
    assert!(r.fetches.is_empty(), "{what}: fetched {:#?}", r.fetches);
}

/// The `data-count` values of the elements `tag class="class"` in `html`,
/// summed.
fn counted(html: &str, tag: &str, class: &str) -> u64 {
    let re = Regex::new(&format!(
        r#"<{tag} class="{class}"[^>]*?data-count="(\d+)""#
    ))
    .unwrap();
    re.captures_iter(html)
        .map(|c| c[1].parse::<u64>().unwrap())
        .sum()
}

/// `&amp;` and friends back to text, for attribute values from the DOM.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The timeline in `dom` against the JSON `report`.
fn check_timeline(dom: &str, report: &Value, what: &str) {
    let vips = report["vips"].as_array().unwrap();
    let nodes = report["nodes"].as_array().unwrap();
    let rows: Vec<&str> = dom
        .split("<g class=\"vip-row\"")
        .skip(1)
        .map(|chunk| &chunk[..chunk.find("</g>").expect("a row ends")])
        .collect();
    assert_eq!(rows.len(), vips.len(), "{what}: one row per VIP");
    let name_re = Regex::new(r#"^ data-vip="([^"]*)""#).unwrap();
    for (row, vip) in rows.iter().zip(vips) {
        let name = vip["name"].as_str().unwrap();
        let got = name_re.captures(row).map(|c| unescape(&c[1]));
        assert_eq!(got.as_deref(), Some(name), "{what}: rows in report order");
        let tenures = nodes
            .iter()
            .flat_map(|n| n["held"].as_array().unwrap())
            .filter(|h| h["vip"] == name)
            .count() as u64;
        assert!(tenures > 0, "{what}: {name} was mastered");
        assert_eq!(
            counted(row, "rect", "bar"),
            tenures,
            "{what}: the bars of {name} count its tenures"
        );
        let long = |list: &Value, lost: bool| {
            list.as_array()
                .unwrap()
                .iter()
                .filter(|x| {
                    x["end"].as_f64().unwrap() - x["start"].as_f64().unwrap() >= 0.001
                        || (lost && x["lost"].as_u64().unwrap() > 0)
                })
                .count() as u64
        };
        assert_eq!(
            counted(row, "rect", "outage"),
            long(&vip["outages"], true),
            "{what}: outages of {name}"
        );
        assert_eq!(
            counted(row, "rect", "dual"),
            long(&vip["dual_master"], false),
            "{what}: dual masters of {name}"
        );
        // Every mark has its hover text: the titles are the marks' and
        // the label's, the rectangles the marks and the lane.
        assert_eq!(
            row.matches("<rect class=").count(),
            row.matches("<title>").count(),
            "{what}: a title per mark"
        );
    }
    assert_eq!(
        counted(dom, "g", "event"),
        report["events"].as_array().unwrap().len() as u64,
        "{what}: events"
    );
    assert_eq!(
        dom.matches("class=\"legend-item node\"").count(),
        nodes.len(),
        "{what}: a legend entry per node"
    );
}

/// The verdicts of the HTML page against the report.
fn check_verdicts(dom: &str, report: &Value) {
    for (id, key) in [
        ("load-balanced", "load_balanced"),
        ("failover-unnoticed", "failover_unnoticed"),
        ("rebalanced-after-recovery", "rebalanced_after_recovery"),
    ] {
        let met = report["requirements"][key].as_bool().unwrap();
        assert!(
            dom.contains(&format!("id=\"{id}\" data-met=\"{met}\"")),
            "{id}: {met}"
        );
    }
    let longest = report["verdicts"]["failover_unnoticed"]["longest"]
        .as_f64()
        .unwrap();
    assert!(
        dom.contains(&format!("{longest:.3} s")),
        "the longest outage, {longest:.3} s"
    );
}

#[test]
fn the_browser_renders_the_seed_timeline() {
    need_chromium!("the_browser_renders_the_seed_timeline");
    let dir = tempfile::tempdir().unwrap();
    let (report, html, svg) = simulate_pictures(&seed_scenario(), dir.path(), "seed");
    let page = render(&html, (1300, 1000), "simulate-seed.png");
    assert_quiet(&page, "seed.html");
    check_timeline(&page.dom, &report, "seed.html");
    check_verdicts(&page.dom, &report);
    // mail1: mail-a, then mail-b after the crash, then mail-a again.
    assert!(
        page.dom
            .contains("became MASTER: preempting a slower master")
    );
    let picture = render(&svg, (1100, 320), "simulate-seed-svg.png");
    assert_quiet(&picture, "seed.svg");
    assert!(picture.dom.starts_with("<svg"), "{}", picture.dom);
    assert!(!picture.dom.contains("parsererror"), "{}", picture.dom);
    check_timeline(&picture.dom, &report, "seed.svg");
}

#[test]
fn the_browser_renders_a_timeline_of_64_vips() {
    need_chromium!("the_browser_renders_a_timeline_of_64_vips");
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario_64(dir.path());
    let (report, html, svg) = simulate_pictures(&sc, dir.path(), "vips64");
    assert_eq!(report["vips"].as_array().unwrap().len(), 64);
    let page = render(&html, (1300, 1500), "simulate-64-vips.png");
    assert_quiet(&page, "vips64.html");
    check_timeline(&page.dom, &report, "vips64.html");
    check_verdicts(&page.dom, &report);
    // The partition gave dual masters, the crash outages: both drawn.
    assert!(page.dom.contains("<rect class=\"dual\""));
    assert!(page.dom.contains("<rect class=\"outage\""));
    // 64 rows of 12 pixels.
    assert!(page.dom.contains("height=\"9\""), "bars 12 - 3 px high");
    let picture = render(&svg, (1100, 1000), "simulate-64-vips-svg.png");
    assert_quiet(&picture, "vips64.svg");
    assert!(!picture.dom.contains("parsererror"));
    check_timeline(&picture.dom, &report, "vips64.svg");
}

/// The plan page's matrix against `carpctl plan --json`: every row in
/// order, each survivor's cell holding its load, the failed nodes "down".
fn check_plan(dom: &str, plan: &Value, what: &str) {
    let failures = plan["failures"].as_array().unwrap();
    let rows: Vec<&str> = dom
        .split("<tr class=\"case")
        .skip(1)
        .map(|c| &c[..c.find("</tr>").unwrap()])
        .collect();
    assert_eq!(rows.len(), failures.len(), "{what}: every row");
    let cell =
        Regex::new(r#"<td class="num cell[^"]*" data-node="([^"]*)" data-count="(\d+)""#).unwrap();
    for (row, f) in rows.iter().zip(failures) {
        let load: Vec<(String, u64)> = cell
            .captures_iter(row)
            .map(|c| (c[1].to_string(), c[2].parse().unwrap()))
            .collect();
        let want: Vec<(String, u64)> = f["load"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect();
        let mut got = load.clone();
        got.sort();
        assert_eq!(got, want, "{what}: {row}");
        let down = if f["kind"] == "failure" {
            f["nodes"].as_array().unwrap().len()
        } else {
            0
        };
        assert_eq!(row.matches("<td class=\"down\"").count(), down, "{what}");
        assert_eq!(
            row.starts_with(" over\""),
            f["within_bound"] == false,
            "{what}: {row}"
        );
    }
    assert_eq!(
        dom.matches("<tr class=\"order\"").count(),
        plan["vips"].as_array().unwrap().len(),
        "{what}: the order table"
    );
}

#[test]
fn the_browser_renders_the_plan_pages() {
    need_chromium!("the_browser_renders_the_plan_pages");
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario_64(dir.path());
    let cluster64 = sc.parent().unwrap().join("cluster.toml");
    for (cfg, name, size) in [
        (root().join("examples/seed.toml"), "plan-seed", (1300, 900)),
        (cluster64, "plan-64-vips", (1300, 2000)),
    ] {
        let html = dir.path().join(format!("{name}.html"));
        let out = carpctl(&["--config", s(&cfg), "plan", "--json", "--html", s(&html)]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
        let page = render(&html, size, &format!("{name}.png"));
        assert_quiet(&page, name);
        check_plan(&page.dom, &plan, name);
        assert!(page.dom.contains("data-balanced=\"true\""), "{name}");
    }
}

/// Names with markup in them stay text in the browser: no element comes
/// from a name.
#[test]
fn the_browser_shows_hostile_names_as_text() {
    need_chromium!("the_browser_shows_hostile_names_as_text");
    let dir = tempfile::tempdir().unwrap();
    let vips = ["<script>alert(1)</script>", "<b>&amp;</b>"];
    let nodes = ["<i>a</i>", "b&'c"];
    let sc = scenario::write(
        dir.path(),
        &nodes,
        &vips,
        60,
        "[[event]]\nat = 20\naction = \"crash\"\nnode = \"<i>a</i>\"\n",
    );
    let (report, html, svg) = simulate_pictures(&sc, dir.path(), "hostile");
    for (file, shot) in [(html, "hostile.png"), (svg, "hostile-svg.png")] {
        let page = render(&file, (1300, 900), shot);
        assert_quiet(&page, shot);
        for tag in ["<script", "<b>", "<i>"] {
            assert!(!page.dom.contains(tag), "{shot}: {tag} in {}", page.dom);
        }
        check_timeline(&page.dom, &report, shot);
    }
}

/// The checks above can fail: a page that logs an error and loads an
/// image from the network is caught by both.
#[test]
fn the_browser_checks_catch_console_errors_and_fetches() {
    need_chromium!("the_browser_checks_catch_console_errors_and_fetches");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.html");
    std::fs::write(
        &bad,
        "<!DOCTYPE html><html><body><img src=\"http://127.0.0.1:9/x.png\">\
         <script>console.error('broken')</script></body></html>",
    )
    .unwrap();
    let page = render(&bad, (400, 300), "negative-control.png");
    assert!(
        page.console.iter().any(|l| l.contains("broken")),
        "{:?}",
        page.console
    );
    assert_eq!(page.fetches, ["http://127.0.0.1:9/x.png"]);
}

/// The README's "Pictures" shows the seed scenario's timeline: a PNG
/// committed under docs/, small enough for the repository.
#[test]
fn the_readme_shows_the_seed_timeline() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = &readme[readme.find("\n## Pictures\n").expect("a Pictures section")..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |i| i + 1)];
    assert!(section.contains("](docs/seed-timeline.png)"), "{section}");
    assert!(section.contains("plan --html"), "{section}");
    let png = std::fs::read(root().join("docs/seed-timeline.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(png.len() < 200 << 10, "{} bytes", png.len());
}
