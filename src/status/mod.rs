//! What `carpctl status` knows, apart from how it is printed: the kernel's
//! vhids with their addresses ([`StatusReport`]) and, with a cluster file,
//! this node's VIPs compared with the plan ([`ClusterView`]).

use ipnet::IpNet;

use crate::model::{CarpSysctls, KernelInfo, VhidStatus};

mod cluster_view;

pub(crate) use cluster_view::SwitchoverNote;
pub use cluster_view::{ClusterView, ClusterVip};

/// Everything `status` shows, gathered from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub kernel: KernelInfo,
    pub sysctls: CarpSysctls,
    /// In the kernel's interface order.
    pub vhids: Vec<VhidReport>,
}

/// One vhid and the addresses attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhidReport {
    pub status: VhidStatus,
    /// The interface's addresses whose vhid is this one (getifaddrs
    /// `ifi_vhid`, docs/freebsd-carp.md §5.3), in the kernel's order.
    pub addresses: Vec<IpNet>,
}
