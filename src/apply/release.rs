//! What this host's release can do, checked before anything changes.
//!
//! Unicast peers need carp(4)'s netlink interface (`CARP_NL_ADDR`,
//! `CARP_NL_ADDR6`: FreeBSD 14.0, commit 137818006de5): through SIOCSVH
//! the kernel zeroes `carpr_addr`/`carpr_addr6` (docs/freebsd-carp.md
//! §4), so a 13.x vhid stays multicast whatever is asked. VRRPv3 needs
//! 15.0 (§6.6).
//! The backend refuses both too, but only at the SET, halfway through an
//! apply; refusing here changes nothing.

use std::fmt;

use super::Desired;
use crate::kernel::Kernel;
use crate::model::{Api, Protocol};

/// VIPs this host's release cannot configure as the file says.
#[derive(Debug)]
pub(crate) struct Unsupported {
    pub node: String,
    /// `kern.osrelease` and `kern.osreldate` as read.
    pub release: String,
    pub(crate) osreldate: i32,
    /// (VIP, what it needs).
    pub vips: Vec<(String, &'static str)>,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node {} runs FreeBSD {} (kern.osreldate {}), which cannot configure ",
            self.node, self.release, self.osreldate
        )?;
        for (i, (vip, need)) in self.vips.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "vip \"{vip}\" ({need})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Unsupported {}

const NEEDS_VRRP: &str = "VRRPv3 needs FreeBSD 15.0 or later";
const NEEDS_UNICAST: &str = "unicast peers need carp(4)'s netlink interface, FreeBSD 14.0 or later; 13.x has the ioctl only";

/// Refuse the VIPs of `desired` this host cannot configure. `loaded`:
/// carp(4) is in the kernel; without it the API is not known yet, and the
/// release number decides (what loading carp.ko will offer).
pub(super) fn check(
    kernel: &mut dyn Kernel,
    desired: &Desired,
    loaded: bool,
) -> Result<(), super::PlanChangesError> {
    let vrrp_vips = desired
        .vips
        .iter()
        .filter(|d| d.protocol == Protocol::Vrrpv3);
    let unicast_vips = desired
        .vips
        .iter()
        .filter(|d| d.peer.is_some() || d.peer6.is_some());
    if vrrp_vips.clone().next().is_none() && unicast_vips.clone().next().is_none() {
        return Ok(());
    }
    let (osreldate, release) = kernel.release()?;
    let (unicast, vrrp) = if loaded {
        let info = kernel.info()?;
        (info.api == Api::Netlink, info.vrrp)
    } else {
        crate::model::release_features(osreldate)
    };
    let mut vips = Vec::new();
    if !vrrp {
        vips.extend(vrrp_vips.map(|d| (d.name.clone(), NEEDS_VRRP)));
    }
    if !unicast {
        vips.extend(unicast_vips.map(|d| (d.name.clone(), NEEDS_UNICAST)));
    }
    if vips.is_empty() {
        return Ok(());
    }
    Err(Unsupported {
        node: desired.node.clone(),
        release,
        osreldate,
        vips,
    }
    .into())
}
