//! `getifaddrs(3)`: per interface an `AF_LINK` entry, then one entry per
//! address in `if_addrhead` order with its netmask and an `if_data`
//! (docs/freebsd-carp.md §5.3).
//!
//! The two kinds of entry carry different `if_data`: the link entry the
//! interface's own (`ifi_type`, `ifi_link_state`, ...), an address entry a
//! zeroed one with only the counters, `ifi_datalen` and `ifi_vhid` filled in
//! (`sys/net/rtsock.c` `sysctl_iflist_ifaml`: `bzero(ifd, sizeof(*ifd))`,
//! then the address's packet counters and `carp_get_vhid_p(ifa)`). So an
//! address entry's `ifi_type` and `ifi_link_state` are 0.

use carpctl_sys::LINK_STATE_UNKNOWN;

use super::state::HostState;
use crate::kernel::freebsd::RawIfaddr;
use crate::kernel::freebsd::ifaddrs as codec;

pub(super) fn encode(st: &HostState) -> Vec<RawIfaddr> {
    let mut out = Vec::new();
    for ifc in &st.interfaces {
        out.push(RawIfaddr {
            name: ifc.name.clone(),
            flags: ifc.flags,
            addr: Some(codec::link_sockaddr_bytes(
                ifc.index,
                ifc.if_type,
                &ifc.name,
            )),
            netmask: None,
            data: Some(codec::if_data_bytes(ifc.if_type, ifc.link_state, 0)),
        });
        for a in &ifc.addresses {
            out.push(RawIfaddr {
                name: ifc.name.clone(),
                flags: ifc.flags,
                addr: Some(codec::sockaddr_bytes(a.net.addr())),
                netmask: Some(codec::netmask_bytes(a.net)),
                // IFT_OTHER (0) and LINK_STATE_UNKNOWN (0): the zeroed
                // if_data of sysctl_iflist_ifaml.
                data: Some(codec::if_data_bytes(0, LINK_STATE_UNKNOWN, a.vhid)),
            });
        }
    }
    out
}
