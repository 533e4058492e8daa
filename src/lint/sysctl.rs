//! sysctl.conf(5), as far as carp is concerned: `/etc/rc.d/sysctl` reads
//! `name=value` words, one per line; the `net.inet.carp.*` leaves are those
//! of docs/freebsd-carp.md §7: `allow`, `preempt`, `log`, `demotion` (a
//! write *adds*), `senderr_demotion_factor`, `ifdown_demotion_factor`,
//! `dscp` (0-63), `stats` (not a number); `arpbalance` and
//! `suppress_preempt` are FreeBSD 9 only.

use super::Issue;
use super::codes::Code;
use crate::textfile::Pos;

/// What a sysctl.conf says about carp.
#[derive(Debug, Clone, Default)]
pub struct SysctlConf {
    /// `net.inet.carp.preempt`: on or off, and where.
    pub preempt: Option<(bool, Pos)>,
    pub issues: Vec<Issue>,
}

/// The settable `net.inet.carp` leaves and their ranges.
fn carp_sysctl_range(leaf: &str) -> Option<(i64, i64)> {
    let int = (i64::from(i32::MIN), i64::from(i32::MAX));
    match leaf {
        "allow"
        | "preempt"
        | "log"
        | "demotion"
        | "senderr_demotion_factor"
        | "ifdown_demotion_factor" => Some(int),
        "dscp" => Some((0, 63)),
        _ => None,
    }
}

/// Read a sysctl.conf.
pub fn sysctl(src: &str) -> SysctlConf {
    let mut out = SysctlConf::default();
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (n, line) in src.lines().enumerate() {
        let Some(l) = carp_line(n + 1, line) else {
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(s, _)| s == l.name) {
            out.issues.push(Issue::duplicate_assignment(
                l.name,
                l.pos,
                *first,
                ": the later value wins",
            ));
        } else {
            seen.push((l.name.to_string(), l.pos.line));
        }
        check_line(&mut out, &l);
    }
    out
}

/// One `net.inet.carp.*` line of a sysctl.conf.
struct CarpLine<'a> {
    /// The whole name, `net.inet.carp.LEAF`.
    name: &'a str,
    leaf: &'a str,
    value: Option<&'a str>,
    /// Where the name starts.
    pos: Pos,
    /// Where the value starts.
    value_pos: Pos,
}

/// The `net.inet.carp.*` setting on line `line_no`, if it has one.
/// rc.d/sysctl: `while read var comments`: the first word only.
fn carp_line(line_no: usize, line: &str) -> Option<CarpLine<'_>> {
    let indent = line.chars().take_while(|c| c.is_whitespace()).count();
    let rest = line.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        return None;
    }
    let word = rest.split_whitespace().next().unwrap_or("");
    let (name, value) = match word.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (word, None),
    };
    let leaf = name.strip_prefix("net.inet.carp.")?;
    Some(CarpLine {
        name,
        leaf,
        value,
        pos: Pos {
            line: line_no,
            column: indent + 1,
        },
        value_pos: Pos {
            line: line_no,
            column: indent + name.chars().count() + 2,
        },
    })
}

/// The rules for one setting: a value, a leaf that exists and can be set,
/// a number in its range; then what the value means (preempt, demotion).
fn check_line(out: &mut SysctlConf, l: &CarpLine<'_>) {
    let name = l.name;
    let Some(value) = l.value else {
        out.issues.push(Issue::new(
            Code::SysctlValue,
            l.pos,
            format!("{name} has no value: sysctl.conf lines are name=value"),
        ));
        return;
    };
    if let Some(why) = not_a_setting(name, l.leaf) {
        out.issues.push(Issue::new(Code::SysctlUnknown, l.pos, why));
        return;
    }
    let Some((lo, hi)) = carp_sysctl_range(l.leaf) else {
        out.issues.push(Issue::new(
            Code::SysctlUnknown,
            l.pos,
            format!(
                "{name} is not a carp(4) sysctl (allow, preempt, log, demotion, \
                 senderr_demotion_factor, ifdown_demotion_factor, dscp)"
            ),
        ));
        return;
    };
    let number = value.parse::<i64>().ok().filter(|v| (lo..=hi).contains(v));
    let Some(number) = number else {
        out.issues.push(Issue::new(
            Code::SysctlValue,
            l.value_pos,
            if l.leaf == "dscp" {
                format!("{name}={value}: the DSCP is a number from 0 to 63 (default 56)")
            } else {
                format!("{name}={value}: the value must be a plain integer, without quotes")
            },
        ));
        return;
    };
    match l.leaf {
        "preempt" => out.preempt = Some((number != 0, l.pos)),
        "demotion" => out.issues.push(Issue::new(
            Code::DemotionAtBoot,
            l.pos,
            format!(
                "{name} is additive: every write adds to the current demotion, so this line \
                 demotes the node by {number} at each boot and nothing takes it back; \
                 demote at run time instead, and take the demotion back when done"
            ),
        )),
        _ => {}
    }
}

/// Why a leaf that exists (or existed) is not a setting: the FreeBSD 9
/// leaves, and the statistics.
fn not_a_setting(name: &str, leaf: &str) -> Option<String> {
    match leaf {
        "arpbalance" | "suppress_preempt" => Some(format!(
            "{name} existed only up to FreeBSD 9 (the carp rewrite in 10.0 removed \
             it); rc.d/sysctl fails to set it: remove the line"
        )),
        "stats" => Some(format!(
            "{name} is the statistics structure (netstat -s -p carp), not a setting: remove the line"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(issues: &[Issue]) -> Vec<(Code, usize)> {
        issues.iter().map(|i| (i.code, i.pos.line)).collect()
    }

    #[test]
    fn sysctl_conf_values() {
        let s = sysctl("# c\nnet.inet.carp.preempt=1 # on\nkern.ipc.somaxconn=1024\n");
        assert!(s.issues.is_empty(), "{:?}", s.issues);
        assert_eq!(s.preempt, Some((true, Pos { line: 2, column: 1 })));
        let s = sysctl(
            "net.inet.carp.preempt=yes\n\
             net.inet.carp.dscp=64\n\
             net.inet.carp.arpbalance=1\n\
             net.inet.carp.demotion=10\n\
             net.inet.carp.bogus=1\n\
             net.inet.carp.log\n\
             net.inet.carp.preempt=0\n\
             net.inet.carp.stats=0\n",
        );
        assert_eq!(
            codes(&s.issues),
            [
                (Code::SysctlValue, 1),
                (Code::SysctlValue, 2),
                (Code::SysctlUnknown, 3),
                (Code::DemotionAtBoot, 4),
                (Code::SysctlUnknown, 5),
                (Code::SysctlValue, 6),
                (Code::DuplicateAssignment, 7),
                (Code::SysctlUnknown, 8),
            ]
        );
        assert_eq!(s.issues[0].pos.column, 23);
        assert_eq!(s.preempt.map(|p| p.0), Some(false));
    }
}
