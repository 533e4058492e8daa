//! What the hooks' unit tests share: a VIP, a transition, a shell hook.

use std::time::SystemTime;

use super::VipHooks;
use crate::events::{CarpEvent, Source, Transition};
use crate::model::{CarpState, Vhid};

pub(crate) fn vip(name: &str, ifname: &str, vhid: i64) -> VipHooks {
    VipHooks {
        name: name.into(),
        interface: ifname.into(),
        vhid: Vhid::new(vhid).unwrap(),
        addresses: vec![
            "192.168.1.50/32".parse().unwrap(),
            "2001:db8::51/128".parse().unwrap(),
        ],
        protocol: crate::model::Protocol::Carp,
        priority: None,
        on_master: vec![],
        on_backup: vec![],
        on_init: vec![],
    }
}

pub(crate) fn transition(
    ifname: &str,
    vhid: i64,
    state: CarpState,
    prev: Option<CarpState>,
) -> Transition {
    Transition {
        event: CarpEvent {
            vhid: Vhid::new(vhid).unwrap(),
            interface: ifname.into(),
            state,
        },
        previous: prev,
        source: Source::Devd,
        time: SystemTime::now(),
    }
}

pub(crate) fn sh(script: &str) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), script.into()]
}
