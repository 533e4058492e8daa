//! `carpctl state VIP master|backup`: ifconfig's `vhid N state master|backup`
//! (`CARP_NL_STATE`, `carpr_state`).
//!
//! What the kernel does with the request (`carp_ioctl_set()`,
//! sys/netinet/ip_carp.c): BACKUP stops the advertisement timer, sets BACKUP
//! ("user requested via ifconfig"), re-arms the master-down timer
//! (`carp_setrun()`) and withdraws the routes; MASTER runs
//! `carp_master_down_locked()`, as if the master had timed out. A vhid in
//! INIT ignores both. Nothing pins the state afterwards: the election rules
//! of `carp_input_c()`/`vrrp_input_c()` and `carp_master_down()` apply from
//! the next advertisement or timeout on (carpctl(8), "state").

use crate::kernel::{Kernel, KernelError};
use crate::model::{CarpState, Protocol, VhidRef, VhidUpdate};

/// Why a state request was not made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ForceError {
    #[error("{0}")]
    Kernel(#[from] KernelError),
    /// The vhid is not configured on this host.
    #[error("vhid {0} is not configured on this host; run `carpctl apply` first")]
    Missing(String),
    /// carp(4) ignores a state request in INIT.
    #[error(
        "vhid {0} is INIT (its interface is down, it has no address, or \
         net.inet.carp.allow is 0): carp(4) ignores a state request then"
    )]
    Init(String),
}

/// Request `state` for the vhid of `d`; returns the state before and
/// after. No request is made when the vhid is already in `state`.
pub(crate) fn force_state<K>(
    kernel: &mut dyn Kernel,
    d: &crate::config::DesiredVip<K>,
    state: CarpState,
) -> Result<(CarpState, CarpState), ForceError> {
    let target = VhidRef::new(d.vhid, d.interface.as_str()).to_string();
    let Some(cur) = kernel.vhid(&d.interface, d.vhid)? else {
        return Err(ForceError::Missing(target));
    };
    match cur.state {
        CarpState::Init => return Err(ForceError::Init(target)),
        s if s == state => return Ok((s, s)),
        _ => {}
    }
    let vrrp = cur.protocol == Protocol::Vrrpv3;
    let update = VhidUpdate {
        state: Some(state),
        // A VRRPv3 SET carries the VRRP attributes: send what is there.
        vrrp_priority: cur.vrrp_priority.filter(|_| vrrp),
        vrrp_interval: cur.vrrp_interval.filter(|_| vrrp),
        ..VhidUpdate::default()
    };
    kernel.set_vhid(&d.interface, d.vhid, &update)?;
    let now = kernel
        .vhid(&d.interface, d.vhid)?
        .map_or(CarpState::Init, |s| s.state);
    Ok((cur.state, now))
}
