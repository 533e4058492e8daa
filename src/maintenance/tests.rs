use std::cell::Cell;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use super::*;

/// Three nodes, advskew_step 100 by default: skews 0, 100, 200.
fn cfg(extra: &str) -> Config {
    let text = format!(
        "[cluster]\n{extra}\n[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n[[node]]\nname = \"c\"\n\
         [[vip]]\nname = \"web\"\nvhid = 1\ninterface = \"em0\"\naddresses = [\"192.0.2.50/32\"]\n\
         password = \"s1\"\nprefer = [\"a\", \"b\", \"c\"]\n\
         [[vip]]\nname = \"mail\"\nvhid = 2\ninterface = \"em0\"\naddresses = [\"192.0.2.51/32\"]\n\
         password = \"s2\"\nprefer = [\"b\", \"a\", \"c\"]\n"
    );
    crate::config::parse(&text, Path::new("t.toml"), Some(0o600))
        .unwrap_or_else(|d| panic!("{d:?}"))
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(ToString::to_string).collect()
}

#[test]
fn handover_weight_is_one_above_the_gap_to_the_next_rank() {
    let cfg = cfg("advskew_step = 50");
    let plan = cfg.plan().unwrap();
    // a masters web at 0; b is next at 50: 51 makes b, and only b, faster.
    assert_eq!(handover_weight(&plan, "a", &set(&["web"]), 0), Some(51));
    // A demotion already in force counts towards it.
    assert_eq!(handover_weight(&plan, "a", &set(&["web"]), 20), Some(31));
    // a masters mail too (b down): its next rank is c at 100, gap 50 from
    // a's 50; the largest gap wins.
    assert_eq!(
        handover_weight(&plan, "a", &set(&["web", "mail"]), 0),
        Some(51)
    );
    // The last rank has nobody to hand to.
    assert_eq!(handover_weight(&plan, "c", &set(&["web"]), 0), None);
    // Nothing mastered: nothing to step.
    assert_eq!(handover_weight(&plan, "a", &set(&[]), 0), None);
}

#[test]
fn wait_stops_when_the_vips_have_left_or_at_the_bound() {
    let polls = Cell::new(0u32);
    let slept = Cell::new(Duration::ZERO);
    let left = wait_until_left(
        || {
            polls.set(polls.get() + 1);
            Ok::<_, ()>(if polls.get() < 4 {
                set(&["web"])
            } else {
                set(&[])
            })
        },
        Duration::from_secs(10),
        |d| slept.set(slept.get() + d),
    )
    .unwrap();
    assert!(left.is_empty());
    assert_eq!(polls.get(), 4);
    assert_eq!(slept.get(), POLL * 3);
    // Never leaves: gives up after the bound, saying what is still MASTER.
    slept.set(Duration::ZERO);
    let left = wait_until_left(
        || Ok::<_, ()>(set(&["web"])),
        Duration::from_millis(120),
        |d| slept.set(slept.get() + d),
    )
    .unwrap();
    assert_eq!(left, set(&["web"]));
    assert_eq!(slept.get(), Duration::from_millis(120));
    // An error reading the kernel ends the wait with it.
    assert_eq!(
        wait_until_left(|| Err::<BTreeSet<String>, _>("EIO"), POLL, |_| {}),
        Err("EIO")
    );
}

#[test]
fn vrrp_step_priority_is_one_below_the_next_rank() {
    let text = "[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\n[[node]]\nname = \"c\"\n\
         [[vip]]\nname = \"v\"\nvhid = 1\ninterface = \"em0\"\naddresses = [\"192.0.2.50/32\"]\n\
         protocol = \"vrrp\"\ninterval = 100\nprefer = [\"a\", \"b\", \"c\"]\n";
    let cfg = crate::config::parse(text, Path::new("t.toml"), Some(0o600))
        .unwrap_or_else(|d| panic!("{d:?}"));
    let plan = cfg.plan().unwrap();
    let p = &plan.vip("v").unwrap().vrrp.as_ref().unwrap().priority;
    let (pb, pc) = (p["b"], p["c"]);
    assert!(pb > pc, "{p:?}");
    assert_eq!(vrrp_step_priority(&plan, "a", "v"), Some(pb - 1));
    assert_eq!(vrrp_step_priority(&plan, "b", "v"), Some(pc - 1));
    // The last rank has nobody to hand to; a CARP VIP has no priority.
    assert_eq!(vrrp_step_priority(&plan, "c", "v"), None);
    let carp = cfg_carp();
    assert_eq!(vrrp_step_priority(&carp.plan().unwrap(), "a", "web"), None);
}

fn cfg_carp() -> Config {
    cfg("")
}
