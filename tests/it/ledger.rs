//! The demotion ledger against an emulated FreeBSD host: crashes at every
//! step of a change, restarts, reboots and foreign demotion changes.
//!
//! The property (issue 5): whatever happens, the kernel's demotion equals
//! the sum of the ledger's live contributions plus what others added. It is
//! read through `Ledger::split`, whose `other` is the kernel's total minus
//! carpctl's live shares: it must equal what this test added as "others"
//! (reset to 0 by a reboot). A doubled share would show as +w there, a
//! stranded one (in the kernel, not in the ledger) as +w, a lost one (in the
//! ledger, not in the kernel) as -w.
//!
//! A crash is the ledger's fault hook stopping a change right after a step,
//! leaving the files and the kernel as a `kill -9` there would (the lock is
//! released, as the kernel releases a dead process's). Others may change
//! the demotion between changes, but not between a crash and its recovery:
//! the module doc of `carpctl::ledger` explains why no protocol can tell
//! the two apart then, and `foreign_change_inside_the_crash_window` shows
//! what carpctl does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use carpctl::kernel::Kernel;
use carpctl::kernel::emulated::{EmulatedHost, Flavor, HostSpec, IfaceSpec};
use carpctl::kernel::freebsd::FreeBsdKernel;
use carpctl::ledger::{
    BootPolicy, Cause, Contribution, INTENT_FILE, LEDGER_FILE, Ledger, LedgerError, Step,
};
use carpctl::model::DemotionDelta;

/// Check weights: distinct, so that a share counted twice or under the
/// wrong cause cannot cancel out.
const WEIGHTS: [u16; 3] = [5, 17, 100];

struct Host {
    _dir: tempfile::TempDir,
    path: PathBuf,
    state: PathBuf,
}

impl Host {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host");
        EmulatedHost::create(
            &path,
            &HostSpec {
                flavor: Flavor::V14,
                interfaces: vec![IfaceSpec {
                    name: "em0".into(),
                    addresses: vec!["192.0.2.3/24".parse().unwrap()],
                }],
                carp_loaded: true,
                privileged: true,
            },
        )
        .unwrap();
        let state = dir.path().join("state");
        Host {
            _dir: dir,
            path,
            state,
        }
    }

    /// A kernel handle, as a new process would open it.
    fn kernel(&self) -> Box<dyn Kernel> {
        Box::new(FreeBsdKernel::new(EmulatedHost::open(&self.path).unwrap()))
    }

    fn ledger(&self) -> Ledger {
        Ledger::new(&self.state)
    }

    fn demotion(&self) -> i64 {
        i64::from(self.kernel().sysctls().unwrap().demotion)
    }

    fn reboot(&self) {
        EmulatedHost::reboot(&self.path).unwrap();
    }

    fn foreign(&self, delta: i32) {
        self.kernel()
            .adjust_demotion(DemotionDelta::new(delta))
            .unwrap();
    }
}

fn contribution(weight: u16) -> Contribution {
    Contribution {
        weight,
        reason: None,
        since: 0,
    }
}

/// One thing that happens to the node.
#[derive(Debug, Clone)]
enum Op {
    MaintenanceOn,
    MaintenanceOff,
    CheckFails(usize),
    CheckRecovers(usize),
    /// The daemon (re)starts, or `carpctl apply` runs: reconcile.
    Restart,
    /// Someone else adds to the demotion (ifdown, pfsync, an admin).
    Foreign(i32),
    Reboot,
}

/// What a change (or reconcile) does, run with an optional crash.
fn run(host: &Host, policy: BootPolicy, op: &Op, crash: Option<Step>) -> Result<(), LedgerError> {
    let mut ledger = host.ledger();
    if let Some(step) = crash {
        ledger = ledger.with_fault(move |s| s == step);
    }
    let mut k = host.kernel();
    let k = k.as_mut();
    match op {
        Op::MaintenanceOn => ledger
            .update(k, policy, |c| {
                c.entry(Cause::Maintenance)
                    .or_insert_with(|| contribution(240));
            })
            .map(drop),
        Op::MaintenanceOff => ledger.clear(k, policy, &Cause::Maintenance).map(drop),
        Op::CheckFails(i) => ledger
            .update(k, policy, |c| {
                c.entry(Cause::Check(format!("c{i}")))
                    .or_insert_with(|| contribution(WEIGHTS[*i]));
            })
            .map(drop),
        Op::CheckRecovers(i) => ledger
            .clear(k, policy, &Cause::Check(format!("c{i}")))
            .map(drop),
        Op::Restart => ledger.reconcile(k, policy).map(drop),
        Op::Foreign(_) | Op::Reboot => unreachable!("not a ledger operation"),
    }
}

/// The model: what others added since the last reboot, and what the
/// successful operations imply about carpctl's shares.
#[derive(Debug, Default)]
struct Model {
    others: i64,
    /// A crash left a change that the next ledger operation recovers.
    crashed: bool,
}

/// The property, read without changing anything. Returns carpctl's live
/// shares, and whether a maintenance is recorded (live, or waiting to be
/// applied again after a reboot).
fn check_invariant(host: &Host, model: &Model, history: &[String]) -> BTreeMap<Cause, u16> {
    check(host, model, history).0
}

fn check(host: &Host, model: &Model, history: &[String]) -> (BTreeMap<Cause, u16>, bool) {
    let mut k = host.kernel();
    let split = host.ledger().split(k.as_mut()).unwrap();
    let shares: i64 = split.shares.values().map(|c| i64::from(c.weight)).sum();
    assert_eq!(split.total, host.demotion(), "{history:#?}");
    assert_eq!(
        split.other, model.others,
        "demotion {} = carpctl {shares} + other {}, but others added {}\n{history:#?}\n{split:#?}",
        split.total, split.other, model.others
    );
    // Every share has its cause's weight: nothing doubled within a cause.
    for (cause, c) in &split.shares {
        let want = match cause {
            Cause::Maintenance | Cause::BootHold => 240,
            Cause::Check(n) => WEIGHTS[n[1..].parse::<usize>().unwrap()],
        };
        assert_eq!(c.weight, want, "{cause}: {history:#?}");
    }
    let maintenance = split.shares.contains_key(&Cause::Maintenance)
        || split.not_applied.contains_key(&Cause::Maintenance);
    (
        split
            .shares
            .iter()
            .map(|(c, v)| (c.clone(), v.weight))
            .collect(),
        maintenance,
    )
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::MaintenanceOn),
        3 => Just(Op::MaintenanceOff),
        3 => (0..3usize).prop_map(Op::CheckFails),
        3 => (0..3usize).prop_map(Op::CheckRecovers),
        2 => Just(Op::Restart),
        2 => prop_oneof![Just(240), Just(-240), -50..50i32].prop_map(Op::Foreign),
        1 => Just(Op::Reboot),
    ]
}

fn crash_strategy() -> impl Strategy<Value = Option<Step>> {
    prop_oneof![
        3 => Just(None),
        1 => proptest::sample::select(Step::ALL.to_vec()).prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn demotion_is_always_ledger_plus_others(
        boot_hold in any::<bool>(),
        actions in proptest::collection::vec((op_strategy(), crash_strategy()), 1..28),
    ) {
        let host = Host::new();
        let policy = BootPolicy { boot_hold };
        let mut model = Model::default();
        let mut history = Vec::new();
        for (op, crash) in actions {
            match op {
                Op::Foreign(d) => {
                    if model.crashed {
                        // The documented window: recover first (a restart).
                        run(&host, policy, &Op::Restart, None).unwrap();
                        history.push("Restart (before a foreign change)".to_string());
                        model.crashed = false;
                    }
                    host.foreign(d);
                    model.others += i64::from(d);
                    history.push(format!("Foreign({d})"));
                }
                Op::Reboot => {
                    host.reboot();
                    model.others = 0;
                    model.crashed = false;
                    history.push("Reboot".into());
                }
                op => {
                    let (_, had_maintenance) = check(&host, &model, &history);
                    let result = run(&host, policy, &op, crash);
                    history.push(format!("{op:?} crash {crash:?} -> {}", match &result {
                        Ok(()) => "ok".to_string(),
                        Err(e) => e.to_string(),
                    }));
                    match result {
                        Ok(()) => {
                            model.crashed = false;
                            // A completed change did what it says.
                            let after = check_invariant(&host, &model, &history);
                            match &op {
                                Op::MaintenanceOn => prop_assert!(after.contains_key(&Cause::Maintenance)),
                                Op::MaintenanceOff => prop_assert!(!after.contains_key(&Cause::Maintenance)),
                                Op::CheckFails(i) => prop_assert_eq!(
                                    after.get(&Cause::Check(format!("c{i}"))), Some(&WEIGHTS[*i])),
                                Op::CheckRecovers(i) => {
                                    let cause = Cause::Check(format!("c{i}"));
                                    prop_assert!(!after.contains_key(&cause));
                                }
                                _ => {}
                            }
                            // A maintenance survives everything but `off`.
                            if had_maintenance && !matches!(op, Op::MaintenanceOff)
                            {
                                prop_assert!(after.contains_key(&Cause::Maintenance), "{history:#?}");
                            }
                        }
                        Err(LedgerError::Injected(_)) => model.crashed = true,
                        Err(e) => prop_assert!(false, "{e}: {history:#?}"),
                    }
                }
            }
            check_invariant(&host, &model, &history);
        }
        // Finally a restart recovers whatever is left, and the property holds.
        run(&host, policy, &Op::Restart, None).unwrap();
        check_invariant(&host, &model, &history);
        prop_assert!(!host.state.join(INTENT_FILE).exists());
    }
}

// ----- deterministic cases -------------------------------------------------

/// Where each step leaves a change: before the kernel write it did not
/// happen, after it it did (and recovery rolls forward).
#[test]
fn a_crash_at_each_step_then_recovery() {
    for step in Step::ALL {
        for (op, cause) in [
            (Op::MaintenanceOn, None),
            (Op::CheckFails(1), None),
            (Op::MaintenanceOff, Some(Cause::Maintenance)),
        ] {
            let host = Host::new();
            let policy = BootPolicy::default();
            if let Some(_c) = &cause {
                run(&host, policy, &Op::MaintenanceOn, None).unwrap();
            }
            host.foreign(7);
            let err = run(&host, policy, &op, Some(step)).unwrap_err();
            assert!(
                matches!(err, LedgerError::Injected(s) if s == step),
                "{err}"
            );
            // Recovery by the next operation.
            run(&host, policy, &Op::Restart, None).unwrap();
            let model = Model {
                others: 7,
                crashed: false,
            };
            let shares = check_invariant(&host, &model, &[format!("{op:?} {step:?}")]);
            let happened = matches!(step, Step::KernelWritten | Step::LedgerWritten);
            let want: BTreeMap<Cause, u16> = match (&op, happened) {
                (Op::MaintenanceOn, true) => [(Cause::Maintenance, 240)].into(),
                (Op::CheckFails(1), true) => [(Cause::Check("c1".into()), 17)].into(),
                (Op::MaintenanceOff, false) => [(Cause::Maintenance, 240)].into(),
                _ => BTreeMap::new(),
            };
            assert_eq!(shares, want, "{op:?} crashed after {step:?}");
            assert!(!host.state.join(INTENT_FILE).exists());
        }
    }
}

#[test]
fn maintenance_survives_reboots_and_checks_do_not() {
    let host = Host::new();
    let policy = BootPolicy::default();
    run(&host, policy, &Op::MaintenanceOn, None).unwrap();
    run(&host, policy, &Op::CheckFails(0), None).unwrap();
    assert_eq!(host.demotion(), 245);
    host.reboot();
    assert_eq!(host.demotion(), 0);
    // Until reconciled, the split shows them as not applied.
    let split = host.ledger().split(host.kernel().as_mut()).unwrap();
    assert!(split.shares.is_empty());
    assert_eq!(split.not_applied.len(), 2);
    assert_eq!(split.other, 0);
    run(&host, policy, &Op::Restart, None).unwrap();
    assert_eq!(host.demotion(), 240, "maintenance again, the check afresh");
    // A second reconcile in the same boot changes nothing.
    run(&host, policy, &Op::Restart, None).unwrap();
    assert_eq!(host.demotion(), 240);
    run(&host, policy, &Op::MaintenanceOff, None).unwrap();
    assert_eq!(host.demotion(), 0);
}

#[test]
fn boot_hold_is_added_once_per_boot() {
    let host = Host::new();
    let policy = BootPolicy { boot_hold: true };
    // No ledger yet counts as a new boot.
    run(&host, policy, &Op::Restart, None).unwrap();
    assert_eq!(host.demotion(), 240);
    run(&host, policy, &Op::Restart, None).unwrap();
    assert_eq!(host.demotion(), 240);
    host.ledger()
        .clear(host.kernel().as_mut(), policy, &Cause::BootHold)
        .unwrap();
    assert_eq!(host.demotion(), 0);
    // Not again in this boot ...
    run(&host, policy, &Op::Restart, None).unwrap();
    assert_eq!(host.demotion(), 0);
    // ... but after the next one.
    host.reboot();
    run(&host, policy, &Op::Restart, None).unwrap();
    assert_eq!(host.demotion(), 240);
}

#[test]
fn a_crash_while_reapplying_after_a_reboot() {
    for step in [
        Step::IntentWritten,
        Step::KernelWritten,
        Step::LedgerWritten,
    ] {
        let host = Host::new();
        let policy = BootPolicy::default();
        run(&host, policy, &Op::MaintenanceOn, None).unwrap();
        host.reboot();
        // The reconcile at boot crashes inside its own transition.
        let err = run(&host, policy, &Op::Restart, Some(step)).unwrap_err();
        assert!(matches!(err, LedgerError::Injected(s) if s == step));
        run(&host, policy, &Op::Restart, None).unwrap();
        assert_eq!(host.demotion(), 240, "after {step:?}");
        check_invariant(&host, &Model::default(), &[format!("{step:?}")]);
    }
}

#[test]
fn a_crash_then_a_reboot_drops_the_intent() {
    let host = Host::new();
    let policy = BootPolicy::default();
    run(&host, policy, &Op::MaintenanceOn, None).unwrap();
    // `off` reached the kernel, then the machine went down.
    let err = run(
        &host,
        policy,
        &Op::MaintenanceOff,
        Some(Step::KernelWritten),
    )
    .unwrap_err();
    assert!(matches!(err, LedgerError::Injected(_)));
    host.reboot();
    run(&host, policy, &Op::Restart, None).unwrap();
    // The ledger still says on: the `off` never completed, and the reboot
    // took the kernel's side of it away. Maintenance is applied again.
    assert_eq!(host.demotion(), 240);
    check_invariant(&host, &Model::default(), &[]);
}

/// The documented limit: another change of the demotion between a crash
/// and its recovery. carpctl takes the nearer explanation and says so.
#[test]
fn foreign_change_inside_the_crash_window() {
    let host = Host::new();
    let policy = BootPolicy::default();
    // Crash before the kernel write, then someone adds 10.
    let _ = run(&host, policy, &Op::MaintenanceOn, Some(Step::IntentWritten)).unwrap_err();
    host.foreign(10);
    run(&host, policy, &Op::Restart, None).unwrap();
    // 10 is nearer 0 than 240: not applied, and "other" is the 10. Right.
    check_invariant(
        &host,
        &Model {
            others: 10,
            crashed: false,
        },
        &[],
    );
    // Crash before the kernel write, then an interface goes down (+240):
    // indistinguishable from carpctl's own +240, taken as applied.
    let host = Host::new();
    let _ = run(&host, policy, &Op::MaintenanceOn, Some(Step::IntentWritten)).unwrap_err();
    host.foreign(240);
    run(&host, policy, &Op::Restart, None).unwrap();
    let split = host.ledger().split(host.kernel().as_mut()).unwrap();
    assert_eq!(split.total, 240);
    assert!(split.shares.contains_key(&Cause::Maintenance));
    assert_eq!(split.other, 0, "the ifdown share is mistaken for carpctl's");
}

#[test]
fn a_corrupt_ledger_is_refused_not_guessed() {
    let host = Host::new();
    let policy = BootPolicy::default();
    run(&host, policy, &Op::MaintenanceOn, None).unwrap();
    let path = host.state.join(LEDGER_FILE);
    std::fs::write(&path, b"{\"version\": 1, \"seq\": ").unwrap();
    let e = run(&host, policy, &Op::MaintenanceOff, None).unwrap_err();
    assert!(matches!(e, LedgerError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert_eq!(host.demotion(), 240, "nothing was changed");
    // Another format version is refused too.
    std::fs::write(
        &path,
        br#"{"version": 9, "seq": 1, "boot": {"boot_time": 0, "written_at": 0}, "contributions": {}}"#,
    )
    .unwrap();
    let e = run(&host, policy, &Op::MaintenanceOff, None).unwrap_err();
    assert!(e.to_string().contains("ledger format 9"), "{e}");
    // So is an unknown cause.
    std::fs::write(
        &path,
        br#"{"version": 1, "seq": 1, "boot": {"boot_time": 0, "written_at": 0}, "contributions": {"weather": {"weight": 1, "since": 0}}}"#,
    )
    .unwrap();
    let e = run(&host, policy, &Op::MaintenanceOff, None).unwrap_err();
    assert!(e.to_string().contains("unknown cause \"weather\""), "{e}");
}

#[test]
fn a_torn_intent_is_ignored() {
    let host = Host::new();
    let policy = BootPolicy::default();
    run(&host, policy, &Op::MaintenanceOn, None).unwrap();
    std::fs::write(host.state.join(INTENT_FILE), b"{\"bef").unwrap();
    run(&host, policy, &Op::MaintenanceOff, None).unwrap();
    assert_eq!(host.demotion(), 0);
    assert!(!host.state.join(INTENT_FILE).exists());
}

#[test]
fn a_refused_kernel_write_changes_nothing() {
    let host = Host::new();
    let policy = BootPolicy::default();
    EmulatedHost::inject_failure(&host.path, 1, carpctl::kernel::Errno::EPERM).unwrap();
    let e = run(&host, policy, &Op::MaintenanceOn, None).unwrap_err();
    assert!(matches!(e, LedgerError::Kernel(_)), "{e}");
    assert_eq!(host.demotion(), 0);
    assert!(!host.state.join(INTENT_FILE).exists());
    let split = host.ledger().split(host.kernel().as_mut()).unwrap();
    assert!(split.shares.is_empty());
}

#[test]
fn the_lock_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let host = Host::new();
    run(&host, BootPolicy::default(), &Op::MaintenanceOn, None).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&host.state.join("lock")), 0o600);
    assert_eq!(mode(&host.state.join(LEDGER_FILE)), 0o644);
}
