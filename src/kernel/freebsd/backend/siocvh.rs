//! The ioctl path (FreeBSD 10.0-13.x, and 14.x/15.x when the netlink family
//! cannot be used): `struct carpreq` behind SIOCGVH/SIOCSVH
//! (docs/freebsd-carp.md §4).

use carpctl_sys::CARP_KEY_LEN;

use super::{FreeBsdKernel, malformed, os, reply_timing, request, requested_state, target};
use crate::kernel::freebsd::{Syscalls, ioctl};
use crate::kernel::{Errno, Kernel, KernelError, Result};
use crate::model::{CarpState, Key, Protocol, Vhid, VhidStatus, VhidUpdate};

impl<S: Syscalls> FreeBsdKernel<S> {
    /// A SIOCGVH reply entry in domain terms.
    fn status_from_carpreq(ifname: &str, req: &carpctl_sys::carpreq) -> Result<VhidStatus> {
        let op = "SIOCGVH";
        let bad = |detail: String| KernelError::Malformed { op, detail };
        let vhid = Vhid::new(i64::from(req.carpr_vhid))
            .map_err(|e| bad(format!("reply for {ifname}: carpr_vhid: {e}")))?;
        let state = u32::try_from(req.carpr_state)
            .ok()
            .and_then(CarpState::from_raw)
            .ok_or_else(|| {
                bad(format!(
                    "{}: carpr_state {} is not 0-2",
                    target(vhid, ifname),
                    req.carpr_state
                ))
            })?;
        let (advbase, advskew) = reply_timing(
            op,
            vhid,
            ifname,
            ("carpr_advbase", req.carpr_advbase),
            ("carpr_advskew", req.carpr_advskew),
        )?;
        Ok(VhidStatus {
            interface: ifname.to_string(),
            vhid,
            state,
            advbase,
            advskew,
            key: Key::from_kernel(&req.carpr_key),
            peer: None,
            peer6: None,
            protocol: Protocol::Carp,
            vrrp_priority: None,
            vrrp_interval: None,
        })
    }

    /// SIOCGVH of one vhid (`carpr_count` 1, as ifconfig asks): `None` when
    /// the kernel answers ENOENT (no carp on the interface, or no such vhid).
    pub(super) fn ioctl_get(&mut self, ifname: &str, vhid: Vhid) -> Result<Option<VhidStatus>> {
        let op = "SIOCGVH";
        let tgt = target(vhid, ifname);
        let mut arg = ioctl::carp_ifreq(ifname).map_err(request(op))?;
        let mut data = ioctl::carpreq_get(vhid.get());
        match self
            .sys
            .ioctl(carpctl_sys::SIOCGVH, &mut arg, Some(&mut data))
        {
            Ok(()) => {}
            Err(Errno::ENOENT) => return Ok(None),
            Err(e) => {
                return Err(KernelError::Os {
                    op,
                    target: tgt,
                    errno: e,
                });
            }
        }
        let reqs = ioctl::decode_carpreqs(&data, 1).map_err(malformed(op))?;
        match reqs.first() {
            Some(r) => Self::status_from_carpreq(ifname, r).map(Some),
            None => Ok(None),
        }
    }

    /// All vhids of an interface through the ioctls, one SIOCGVH per vhid
    /// that getifaddrs(3) shows on the interface (`ifi_vhid` of its
    /// addresses, §5.3). Never SIOCGVH with vhid 0: from 14.0 (and on any
    /// 13.x that got the same refactor, which could not be ruled out) it
    /// copies kernel stack bytes after the first entry (§4.4). A vhid that
    /// has no address (a SET whose address never came) is not listed: it
    /// sends nothing and holds nothing.
    pub(super) fn ioctl_get_all(&mut self, ifname: &str) -> Result<Vec<VhidStatus>> {
        let mut vhids: Vec<Vhid> = self
            .interfaces()?
            .into_iter()
            .filter(|i| i.name == ifname)
            .flat_map(|i| i.addresses.into_iter().filter_map(|a| a.vhid))
            .collect();
        vhids.sort();
        vhids.dedup();
        let mut out = Vec::new();
        for v in vhids {
            out.extend(self.ioctl_get(ifname, v)?);
        }
        Ok(out)
    }

    pub(super) fn ioctl_set(
        &mut self,
        ifname: &str,
        vhid: Vhid,
        current: Option<&VhidStatus>,
        update: &VhidUpdate,
    ) -> Result<()> {
        let op = "SIOCSVH";
        let tgt = target(vhid, ifname);
        if update.peer.is_some() || update.peer6.is_some() {
            return Err(KernelError::Unsupported(format!(
                "{tgt}: unicast peers need FreeBSD 14.0 or later (netlink)"
            )));
        }
        if update.protocol == Some(Protocol::Vrrpv3)
            || update.vrrp_priority.is_some()
            || update.vrrp_interval.is_some()
        {
            return Err(KernelError::Unsupported(format!(
                "{tgt}: VRRPv3 needs FreeBSD 15.0 or later"
            )));
        }
        let key = update
            .key
            .as_ref()
            .map_or([0u8; CARP_KEY_LEN], Key::to_kernel);
        let mut data = ioctl::carpreq_set(
            vhid.get(),
            requested_state(update),
            update
                .advskew
                .map(|s| s.get())
                .or(current.map(|c| c.advskew.get()))
                .unwrap_or(0),
            update
                .advbase
                .map(|b| b.get())
                .or(current.map(|c| c.advbase))
                .unwrap_or(0),
            &key,
        );
        let mut arg = ioctl::carp_ifreq(ifname).map_err(request(op))?;
        self.sys
            .ioctl(carpctl_sys::SIOCSVH, &mut arg, Some(&mut data))
            .map_err(os(op, tgt))
    }
}
