//! The cluster view of `status`: this node's VIPs as the cluster file plans
//! them, compared with the states the kernel reports.

use serde::Serialize;

use super::StatusReport;
use crate::config::DesiredVip;
use crate::model::{CarpState, IfName, Vhid, VhidRef, VhidStatus};

/// The cluster view: this node's VIPs from the cluster file, against the
/// kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterView {
    pub file: String,
    pub node: String,
    pub vips: Vec<ClusterVip>,
}

/// One VIP of this node: where it should be and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterVip {
    pub name: String,
    pub interface: IfName,
    pub vhid: Vhid,
    /// 0 = this node is the VIP's preferred MASTER.
    pub(crate) rank: usize,
    pub expected: CarpState,
    /// `None`: the vhid is not configured on this host.
    pub state: Option<CarpState>,
    /// Settings that differ from the plan (`protocol carp, planned vrrp`,
    /// `peer 192.0.2.9, planned 192.0.2.2`, `priority 100, planned 254`):
    /// drift, which `carpctl apply` puts right.
    pub(crate) drift: Vec<String>,
    pub ok: bool,
    /// A switchover this node takes part in (`carpctl switchover`), as
    /// recorded; omitted when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) switchover: Option<SwitchoverNote>,
}

/// A recorded switchover of one VIP on this node: it raised its advskew
/// from `planned` to `advskew` so that `target` masters the VIP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SwitchoverNote {
    pub target: String,
    pub advskew: u8,
    pub planned: u8,
    /// Kept across `apply` and reboots (`--keep`), or temporary.
    pub keep: bool,
}

impl ClusterVip {
    /// `vhid@interface`.
    pub(crate) fn vhid_ref(&self) -> VhidRef<&str> {
        VhidRef::new(self.vhid, &self.interface)
    }
}

impl ClusterView {
    /// This node's VIPs from `desired`, compared with `report`.
    pub fn new(
        file: &std::path::Path,
        desired: &crate::config::Desired,
        report: &StatusReport,
    ) -> Self {
        let vips = desired
            .vips
            .iter()
            .map(|d| {
                let found = report
                    .vhids
                    .iter()
                    .find(|v| v.status.interface == d.interface && v.status.vhid == d.vhid);
                let state = found.map(|v| v.status.state);
                let drift = found.map_or_else(Vec::new, |v| drift(d, &v.status));
                ClusterVip {
                    name: d.name.clone(),
                    interface: d.interface.clone(),
                    vhid: d.vhid,
                    rank: d.rank,
                    expected: d.state,
                    state,
                    ok: state == Some(d.state) && drift.is_empty(),
                    drift,
                    switchover: None,
                }
            })
            .collect();
        ClusterView {
            file: file.display().to_string(),
            node: desired.node.clone(),
            vips,
        }
    }

    /// The VIPs out of place, for `--check`.
    pub(crate) fn problems(&self) -> Vec<String> {
        self.vips
            .iter()
            .filter(|v| !v.ok)
            .flat_map(|v| {
                let state = match v.state {
                    None => Some(format!("{} (vhid {}) is missing", v.name, v.vhid_ref())),
                    Some(s) if s != v.expected => Some(format!(
                        "{} (vhid {}) is {s}, planned {}",
                        v.name,
                        v.vhid_ref(),
                        v.expected
                    )),
                    Some(_) => None,
                };
                state.into_iter().chain(
                    v.drift
                        .iter()
                        .map(|x| format!("{} (vhid {}) has {x}", v.name, v.vhid_ref())),
                )
            })
            .collect()
    }
}

/// What of `have` differs from the plan `d`, each as `what X, planned Y`.
/// advbase and advskew are compared for CARP only (a VRRPv3 vhid has
/// none of its own), the VRRP priority and interval for VRRPv3 only.
/// `d`'s priority is the one in force (the maintenance priority while
/// this node is in maintenance, as `status` resolves it).
fn drift(d: &DesiredVip, have: &VhidStatus) -> Vec<String> {
    fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
        v.map_or_else(|| "multicast".to_string(), |v| v.to_string())
    }
    fn num<T: std::fmt::Display>(v: Option<T>) -> String {
        v.map_or_else(|| "none".to_string(), |v| v.to_string())
    }
    let mut out = Vec::new();
    let mut differs = |what: &str, is: String, planned: String| {
        if is != planned {
            out.push(format!("{what} {is}, planned {planned}"));
        }
    };
    if have.protocol != d.protocol {
        differs(
            "protocol",
            have.protocol.word().into(),
            d.protocol.word().into(),
        );
        return out;
    }
    match d.vrrp {
        Some(v) => {
            differs("priority", num(have.vrrp_priority), v.priority.to_string());
            differs("interval", num(have.vrrp_interval), v.interval.to_string());
        }
        None => {
            differs(
                "advbase",
                have.advbase.to_string(),
                d.advbase.get().to_string(),
            );
            differs(
                "advskew",
                have.advskew.get().to_string(),
                d.advskew.get().to_string(),
            );
            differs("peer", opt(have.peer), opt(d.peer));
            differs(
                "peer6",
                opt(have.peer6),
                opt(d.peer6.as_ref().map(|p| p.addr)),
            );
        }
    }
    out
}
