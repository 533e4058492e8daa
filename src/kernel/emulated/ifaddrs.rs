//! `getifaddrs(3)`: per interface an `AF_LINK` entry, then one entry per
//! address in `if_addrhead` order with its netmask and an `if_data` whose
//! `ifi_vhid` is the address's vhid (reference §8).

use super::state::HostState;
use crate::kernel::freebsd::RawIfaddr;
use crate::kernel::freebsd::ifaddrs as codec;

pub fn encode(st: &HostState) -> Vec<RawIfaddr> {
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
                data: Some(codec::if_data_bytes(ifc.if_type, ifc.link_state, a.vhid)),
            });
        }
    }
    out
}
