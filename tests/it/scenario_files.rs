//! Scenarios of any size for `carpctl simulate` tests: a cluster file and
//! a scenario file written into a directory (tests/it/pictures.rs,
//! tests/it/progress.rs).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A TOML string holding `s`, whatever it contains.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Write `cluster.toml` (preempt on, advbase 1, the `nodes` on one
/// segment, one VIP per name in `vips` with vhid 1, 2, ...) and
/// `scenario.toml` (`duration` seconds, seed 7, a password per VIP, then
/// the `events` TOML as given) into `dir`; returns the scenario's path.
pub(crate) fn write(
    dir: &Path,
    nodes: &[&str],
    vips: &[&str],
    duration: u64,
    events: &str,
) -> PathBuf {
    assert!(vips.len() <= 255, "one segment holds 255 vhids");
    let mut c = String::from("[cluster]\npreempt = true\nadvbase = 1\n");
    for n in nodes {
        let _ = write!(
            c,
            "\n[[node]]\nname = {}\ninterfaces = {{ lan = \"em0\" }}\n",
            quoted(n)
        );
    }
    for (i, v) in vips.iter().enumerate() {
        let _ = write!(
            c,
            "\n[[vip]]\nname = {}\nvhid = {}\ninterface = \"lan\"\naddresses = [\"10.0.1.{}/32\"]\n",
            quoted(v),
            i + 1,
            i + 1
        );
    }
    std::fs::write(dir.join("cluster.toml"), c).unwrap();
    let mut s =
        format!("cluster = \"cluster.toml\"\nduration = {duration}\nseed = 7\n\n[passwords]\n");
    for (i, v) in vips.iter().enumerate() {
        let _ = writeln!(s, "{} = \"secret-{i}\"", quoted(v));
    }
    for (i, n) in nodes.iter().enumerate() {
        let _ = write!(
            s,
            "\n[[node]]\nname = {}\ninterfaces = {{ em0 = [\"10.0.0.{}/16\"] }}\n",
            quoted(n),
            i + 1
        );
    }
    s.push('\n');
    s.push_str(events);
    let path = dir.join("scenario.toml");
    std::fs::write(&path, s).unwrap();
    path
}

/// Names `prefix` 01, 02, ... (`count` of them).
pub(crate) fn names(prefix: &str, count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("{prefix}{i:02}")).collect()
}
