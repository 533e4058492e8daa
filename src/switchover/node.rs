//! What one node does in a switchover ([`super::procedure`]) and in its
//! end (`--back`), against its own kernel: record, then set the vhid's
//! advskew (read-modify-write through the kernel trait, as `apply` does:
//! `carp_ioctl_set()` / `carp_nl_set()` store `sc_advskew`), and, on the
//! current master, wait (bounded) until the vhid leaves MASTER here.

use std::collections::BTreeSet;
use std::time::Duration;

use super::Switchover;
use super::record::{Record, RecordError, Records, new_record};
use crate::kernel::{Kernel, KernelError};
use crate::maintenance::wait_until_left;
use crate::model::{AdvSkew, CarpState, IfName, Vhid, VhidRef, VhidUpdate};

/// This node's vhid of the VIP.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Here<'a> {
    pub node: &'a str,
    pub interface: &'a IfName,
    pub vhid: Vhid,
}

impl Here<'_> {
    pub(crate) fn vhid_ref(&self) -> VhidRef<&str> {
        VhidRef::new(self.vhid, self.interface.as_str())
    }
}

/// What this node's step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Done {
    /// Nothing to do here: the target, or a node behind it.
    Nothing,
    /// A backup raised its skew (nothing moves yet).
    Raised { from: u8 },
    /// The master raised its skew and the vhid left MASTER here after
    /// `after`: the target took over.
    Moved { from: u8, after: Duration },
}

/// What can stop a node's step. After each, nothing is left half done:
/// the planned skew is back and the record gone, or the message says
/// what is left.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NodeError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("vhid {0} is not configured on this node: run `carpctl apply` first")]
    Missing(String),
    #[error("{what} vhid {vhid}")]
    Kernel {
        what: &'static str,
        vhid: String,
        #[source]
        source: KernelError,
    },
    #[error(
        "{target} did not take VIP {vip} over within {wait:.1} s: vhid {vhid} is still MASTER \
         here; its planned advskew {planned} is restored and the record removed (is {target} \
         up, not demoted, and on the same link?)"
    )]
    NotTakenOver {
        vip: String,
        target: String,
        vhid: String,
        planned: u8,
        wait: f64,
    },
}

fn kernel_err(what: &'static str, here: &Here<'_>) -> impl FnOnce(KernelError) -> NodeError {
    let vhid = here.vhid_ref().to_string();
    move |source| NodeError::Kernel { what, vhid, source }
}

/// Set the vhid's advskew alone.
fn set_skew(kernel: &mut dyn Kernel, here: &Here<'_>, skew: AdvSkew) -> Result<(), KernelError> {
    let update = VhidUpdate {
        advskew: Some(skew),
        ..VhidUpdate::default()
    };
    kernel.set_vhid(here.interface.as_str(), here.vhid, &update)?;
    tracing::info!("{}: advskew {}", here.vhid_ref(), skew.get());
    Ok(())
}

/// Whether the vhid is MASTER here.
fn is_master(kernel: &mut dyn Kernel, here: &Here<'_>) -> Result<bool, NodeError> {
    let st = kernel
        .vhid(here.interface.as_str(), here.vhid)
        .map_err(kernel_err("cannot read", here))?;
    Ok(st.is_some_and(|s| s.state == CarpState::Master))
}

/// This node's step of `sw`: nothing, unless it is a node that raises.
/// Then the record first, then the skew; on the current master, wait up
/// to `wait` (reading the vhid's state every [`crate::maintenance::POLL`],
/// `sleep` between) for it to leave MASTER; if it does not, restore the
/// planned skew, remove the record, and say the target did not take over.
/// A kernel write that fails removes the record again.
pub(crate) fn step(
    kernel: &mut dyn Kernel,
    records: &Records,
    sw: &Switchover,
    here: &Here<'_>,
    keep: bool,
    wait: Duration,
    sleep: &mut dyn FnMut(Duration),
) -> Result<Done, NodeError> {
    let Some(&super::Raise {
        planned,
        to: raised,
        ..
    }) = sw.raise_of(here.node)
    else {
        return Ok(Done::Nothing);
    };
    let cur = kernel
        .vhid(here.interface.as_str(), here.vhid)
        .map_err(kernel_err("cannot read", here))?
        .ok_or_else(|| NodeError::Missing(here.vhid_ref().to_string()))?;
    let record = new_record(
        kernel,
        &sw.vip,
        here.vhid,
        here.interface,
        &sw.target,
        raised,
        planned,
        keep,
    )?;
    records.put(record)?;
    if let Err(e) = set_skew(kernel, here, raised) {
        records.remove(&[(here.vhid, here.interface.as_str())])?;
        return Err(kernel_err("cannot set the advskew of", here)(e));
    }
    let from = cur.advskew.get();
    if sw.master != here.node {
        return Ok(Done::Raised { from });
    }
    if let Some(after) = wait_for(kernel, here, false, wait, sleep)? {
        return Ok(Done::Moved { from, after });
    }
    set_skew(kernel, here, planned).map_err(kernel_err(
        "the target did not take over, and cannot restore the planned advskew of",
        here,
    ))?;
    records.remove(&[(here.vhid, here.interface.as_str())])?;
    Err(NodeError::NotTakenOver {
        vip: sw.vip.clone(),
        target: sw.target.clone(),
        vhid: here.vhid_ref().to_string(),
        planned: planned.get(),
        wait: wait.as_secs_f64(),
    })
}

/// `--back` on this node: the planned skew `planned` again (when the
/// kernel's differs), then the record removed. Returns the record ended
/// and the skew the kernel had, when it differed.
pub(crate) fn back(
    kernel: &mut dyn Kernel,
    records: &Records,
    here: &Here<'_>,
    planned: AdvSkew,
) -> Result<(Option<Record>, Option<u8>), NodeError> {
    let cur = kernel
        .vhid(here.interface.as_str(), here.vhid)
        .map_err(kernel_err("cannot read", here))?;
    let mut was = None;
    if let Some(cur) = cur.filter(|c| c.advskew != planned) {
        set_skew(kernel, here, planned).map_err(kernel_err("cannot set the advskew of", here))?;
        was = Some(cur.advskew.get());
    }
    let rec = records
        .remove(&[(here.vhid, here.interface.as_str())])?
        .into_iter()
        .next();
    Ok((rec, was))
}

/// Wait up to `wait` until the vhid is MASTER here (after `--back` on the
/// node that takes the VIP back); how long it took, `None` if it did not.
pub(crate) fn wait_master(
    kernel: &mut dyn Kernel,
    here: &Here<'_>,
    wait: Duration,
    sleep: &mut dyn FnMut(Duration),
) -> Result<Option<Duration>, NodeError> {
    wait_for(kernel, here, true, wait, sleep)
}

/// Wait up to `wait`, looking every [`crate::maintenance::POLL`], until
/// the vhid is MASTER here (`master`) or is not; how long it took, `None`
/// if it did not get there.
fn wait_for(
    kernel: &mut dyn Kernel,
    here: &Here<'_>,
    master: bool,
    wait: Duration,
    sleep: &mut dyn FnMut(Duration),
) -> Result<Option<Duration>, NodeError> {
    let mut waited = Duration::ZERO;
    let mut sleep_counted = |d: Duration| {
        waited += d;
        sleep(d);
    };
    // `wait_until_left` waits for a set to empty: here, the one vhid
    // while it is not yet as wanted.
    let still = wait_until_left(
        || {
            is_master(kernel, here).map(|m| {
                let mut s = BTreeSet::new();
                if m != master {
                    s.insert(here.vhid_ref().to_string());
                }
                s
            })
        },
        wait,
        &mut sleep_counted,
    )?;
    Ok(still.is_empty().then_some(waited))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::kernel::emulated::{EmulatedHost, Flavor, HostSpec, IfaceSpec};
    use crate::kernel::freebsd::FreeBsdKernel;
    use crate::model::{AdvBase, Vhid};

    fn open(host: &Path) -> Box<dyn Kernel> {
        Box::new(FreeBsdKernel::new(EmulatedHost::open(host).unwrap()))
    }

    /// A host with vhid 1@em0 (advskew 0) in `state`.
    fn host(state: CarpState) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("host");
        let spec = HostSpec {
            flavor: Flavor::V14,
            interfaces: vec![IfaceSpec {
                name: "em0".into(),
                addresses: vec!["192.0.2.3/24".parse().unwrap()],
            }],
            carp_loaded: true,
            privileged: true,
        };
        EmulatedHost::create(&host, &spec).unwrap();
        let mut k = open(&host);
        let vhid = Vhid::new(1).unwrap();
        let create = VhidUpdate {
            advbase: Some(AdvBase::new(1).unwrap()),
            advskew: Some(AdvSkew::new(0).unwrap()),
            ..VhidUpdate::default()
        };
        k.set_vhid("em0", vhid, &create).unwrap();
        k.add_address("em0", vhid, "192.0.2.50/32".parse().unwrap())
            .unwrap();
        force(&host, state);
        (dir, host)
    }

    fn force(host: &Path, state: CarpState) {
        let update = VhidUpdate {
            state: Some(state),
            ..VhidUpdate::default()
        };
        open(host)
            .set_vhid("em0", Vhid::new(1).unwrap(), &update)
            .unwrap();
    }

    fn switchover() -> Switchover {
        Switchover {
            vip: "web".into(),
            vhid: Vhid::new(1).unwrap(),
            master: "a".into(),
            target: "b".into(),
            raise: vec![super::super::Raise {
                node: "a".into(),
                planned: AdvSkew::new(0).unwrap(),
                to: AdvSkew::new(21).unwrap(),
            }],
        }
    }

    fn skew(host: &Path) -> u8 {
        let st = open(host).vhid("em0", Vhid::new(1).unwrap()).unwrap();
        st.unwrap().advskew.get()
    }

    #[test]
    fn the_master_waits_until_the_vhid_left_master_and_keeps_the_record() {
        let (dir, h) = host(CarpState::Master);
        let records = Records::for_host(open(&h).as_ref(), &dir.path().join("state"));
        let ifname = IfName::new("em0").unwrap();
        let here = Here {
            node: "a",
            interface: &ifname,
            vhid: Vhid::new(1).unwrap(),
        };
        // The target "takes over" during the third wait.
        let mut sleeps = 0;
        let mut sleep = |_: Duration| {
            sleeps += 1;
            if sleeps == 3 {
                force(&h, CarpState::Backup);
            }
        };
        let mut k = open(&h);
        let sw = switchover();
        let done = step(
            k.as_mut(),
            &records,
            &sw,
            &here,
            false,
            Duration::from_secs(10),
            &mut sleep,
        )
        .unwrap();
        assert_eq!(
            done,
            Done::Moved {
                from: 0,
                after: crate::maintenance::POLL * 3
            }
        );
        assert_eq!(skew(&h), 21);
        assert_eq!(records.read().unwrap()[0].target, "b");
        // --back on the first node: planned skew, record gone, and the wait
        // for MASTER sees it come back.
        let (rec, was) = back(k.as_mut(), &records, &here, AdvSkew::new(0).unwrap()).unwrap();
        assert!(rec.is_some());
        assert_eq!(was, Some(21));
        assert_eq!(skew(&h), 0);
        assert!(records.read().unwrap().is_empty());
        let mut n = 0;
        let mut sleep = |_: Duration| {
            n += 1;
            if n == 2 {
                force(&h, CarpState::Master);
            }
        };
        let after = wait_master(k.as_mut(), &here, Duration::from_secs(10), &mut sleep).unwrap();
        assert_eq!(after, Some(crate::maintenance::POLL * 2));
        let at_once = wait_master(
            k.as_mut(),
            &Here {
                node: "a",
                interface: &ifname,
                vhid: Vhid::new(1).unwrap(),
            },
            Duration::ZERO,
            &mut |_| force(&h, CarpState::Backup),
        );
        assert_eq!(at_once.unwrap(), Some(Duration::ZERO), "MASTER already");
    }

    #[test]
    fn a_node_with_nothing_to_do_changes_nothing() {
        let (dir, h) = host(CarpState::Backup);
        let records = Records::for_host(open(&h).as_ref(), &dir.path().join("state"));
        let ifname = IfName::new("em0").unwrap();
        let here = Here {
            node: "b",
            interface: &ifname,
            vhid: Vhid::new(1).unwrap(),
        };
        let mut k = open(&h);
        let done = step(
            k.as_mut(),
            &records,
            &switchover(),
            &here,
            true,
            Duration::ZERO,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(done, Done::Nothing);
        assert_eq!(skew(&h), 0);
        assert!(!records.path().exists());
    }
}
