//! The hook table: each VIP's `on_master`, `on_backup` and `on_init` argv
//! on this node, keyed by `vhid@interface`, and what a hook's environment
//! and log label are made of.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

use crate::config::Config;
use crate::events::{CarpEvent, Transition};
use crate::model::{CarpState, Protocol, Vhid};

/// The hooks of one VIP on this node, with what their environment needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VipHooks {
    /// The VIP's name in the cluster file (`CARP_VIP`).
    pub name: String,
    /// This node's real interface (`em0`).
    pub interface: String,
    pub vhid: Vhid,
    pub addresses: Vec<IpNet>,
    /// CARP or VRRPv3 (`CARP_PROTOCOL`).
    pub protocol: Protocol,
    /// VRRPv3: this node's planned priority (`CARP_PRIORITY`); `None` for
    /// CARP, or when the node takes no part in the VIP.
    pub priority: Option<u8>,
    pub(crate) on_master: Vec<String>,
    pub(crate) on_backup: Vec<String>,
    pub(crate) on_init: Vec<String>,
}

impl VipHooks {
    /// The argv to run on entering `state`; empty when there is none.
    pub(crate) fn argv(&self, state: CarpState) -> &[String] {
        match state {
            CarpState::Master => &self.on_master,
            CarpState::Backup => &self.on_backup,
            CarpState::Init => &self.on_init,
        }
    }
}

/// The name of the hook key for `state`: `on_master`, ...
pub fn hook_key(state: CarpState) -> &'static str {
    match state {
        CarpState::Master => "on_master",
        CarpState::Backup => "on_backup",
        CarpState::Init => "on_init",
    }
}

/// Every VIP of the cluster file as this node sees it, by
/// `(real interface, vhid)`, and the hook timeout.
#[derive(Debug, Clone, Default)]
pub struct HookTable {
    pub(super) vips: BTreeMap<(String, Vhid), Arc<VipHooks>>,
    pub timeout: Duration,
}

impl HookTable {
    /// The table for node `node` of `cfg`. Each VIP's logical interface is
    /// replaced by the node's real one. VIPs in which the node does not take
    /// part are included: if the vhid exists here (configured by hand), its
    /// events still find their name and hooks. An unknown node maps nothing
    /// (every interface is taken as written).
    pub fn new(cfg: &Config, node: &str) -> Self {
        let me = cfg.node(node);
        // The priorities: a file that does not plan (it loaded, so it
        // does) would only lose CARP_PRIORITY, never its hooks.
        let plan = cfg.plan().ok();
        let mut vips = BTreeMap::new();
        for (i, v) in cfg.vips.iter().enumerate() {
            let priority = plan
                .as_ref()
                .and_then(|p| p.vips.get(i))
                .and_then(|p| p.vrrp.as_ref())
                .and_then(|r| r.priority.get(node).copied());
            let interface = me.map_or(v.interface.as_str(), |n| n.real_interface(&v.interface));
            vips.entry((interface.to_string(), v.vhid))
                .or_insert_with(|| {
                    Arc::new(VipHooks {
                        name: v.name.clone(),
                        interface: interface.to_string(),
                        vhid: v.vhid,
                        addresses: v.addresses.clone(),
                        protocol: v.protocol,
                        priority,
                        on_master: v.on_master.clone(),
                        on_backup: v.on_backup.clone(),
                        on_init: v.on_init.clone(),
                    })
                });
        }
        HookTable {
            vips,
            timeout: cfg.cluster.hook_timeout,
        }
    }

    /// The VIP of `vhid@interface`, if the cluster file has one.
    pub fn get(&self, interface: &str, vhid: Vhid) -> Option<&Arc<VipHooks>> {
        self.vips.get(&(interface.to_string(), vhid))
    }

    pub fn len(&self) -> usize {
        self.vips.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vips.is_empty()
    }
}

/// The variables a hook gets, in addition to carpctl's own environment.
pub fn hook_env(t: &Transition, vip: &VipHooks) -> Vec<(&'static str, String)> {
    let addresses = vip
        .addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    vec![
        ("CARP_VHID", t.event.vhid.to_string()),
        ("CARP_INTERFACE", t.event.interface.clone()),
        ("CARP_STATE", t.event.state.to_string()),
        (
            "CARP_PREVIOUS_STATE",
            t.previous.map(|s| s.to_string()).unwrap_or_default(),
        ),
        ("CARP_VIP", vip.name.clone()),
        ("CARP_ADDRESSES", addresses),
        ("CARP_EVENT", t.source.as_str().to_string()),
        ("CARP_PROTOCOL", vip.protocol.word().to_string()),
        (
            "CARP_PRIORITY",
            vip.priority.map(|p| p.to_string()).unwrap_or_default(),
        ),
    ]
}

/// The log label of a hook run: `1@em0 mail1 on_master`.
pub fn label(event: &CarpEvent, vip: &VipHooks) -> String {
    format!(
        "{} {} {}",
        event.subsystem(),
        vip.name,
        hook_key(event.state)
    )
}
