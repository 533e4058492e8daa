//! The cluster view of `status`: this node's VIPs as the cluster file plans
//! them, compared with the states the kernel reports.

use serde::Serialize;

use super::StatusReport;
use crate::model::{CarpState, IfName, Vhid, VhidRef};

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
    pub rank: usize,
    pub expected: CarpState,
    /// `None`: the vhid is not configured on this host.
    pub state: Option<CarpState>,
    pub ok: bool,
}

impl ClusterVip {
    /// `vhid@interface`.
    pub fn vhid_ref(&self) -> VhidRef<&str> {
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
                let state = report
                    .vhids
                    .iter()
                    .find(|v| v.status.interface == d.interface && v.status.vhid == d.vhid)
                    .map(|v| v.status.state);
                ClusterVip {
                    name: d.name.clone(),
                    interface: d.interface.clone(),
                    vhid: d.vhid,
                    rank: d.rank,
                    expected: d.state,
                    state,
                    ok: state == Some(d.state),
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
    pub fn problems(&self) -> Vec<String> {
        self.vips
            .iter()
            .filter(|v| !v.ok)
            .map(|v| match v.state {
                None => format!("{} (vhid {}) is missing", v.name, v.vhid_ref()),
                Some(s) => format!(
                    "{} (vhid {}) is {s}, planned {}",
                    v.name,
                    v.vhid_ref(),
                    v.expected
                ),
            })
            .collect()
    }
}
