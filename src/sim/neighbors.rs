//! Traffic a node sends from a VIP (`send_from_vip`) and the ARP and
//! neighbour caches it and the clients fill, as FreeBSD's
//! `nd6_ns_source_mac` test (carp.sh @ ba0fe1dd) looks at them.
//!
//! **From a VIP.** `ping -6 -S VIP TO` on a node first resolves `TO`: a
//! neighbour solicitation whose source is the VIP. Its source link-layer
//! address is the vhid's virtual MAC (`carp_macmatch6()`, which also tags
//! the packet so that `carp_output()` sends the frame from that MAC;
//! sys/netinet/ip_carp.c) — on the BACKUP as on the MASTER, since
//! `carp_macmatch6()` does not look at the state. That this is what
//! `nd6_ns_output()` uses is **[inferred]** from the test, which asserts
//! that the bridge's entry for the VIP is `00:00:5e:00:01:01` after both
//! nodes pinged. So the destination caches the VIP at the virtual MAC,
//! the switch learns the virtual MAC on the sender's port, and the answer
//! (to the virtual MAC) reaches the sender, which takes it only when it is
//! MASTER (`carp_forus()`): the ping from the BACKUP gets no answer (the
//! test's `exit:2`) and moves the virtual MAC to the BACKUP's port until
//! the MASTER's next advertisement, the ping from the MASTER is answered.
//! The exchange is not simulated frame by frame: neither loss nor latency
//! applies to it, and the capture does not show it.
//!
//! **Caches.** The clients resolve each address of a VIP when they first
//! get an answer from it (at its first service, or at `[clients] start`):
//! the MASTER answers with the virtual MAC (`carp_iamatch()`,
//! `carp_macmatch6()`). A node's cache learns a VIP only from traffic a
//! node sends it from that VIP. No other entry is modelled.

use super::*;
use report::{NeighborEntry, SentFromVip};
use scenario::CLIENTS;

impl Sim<'_, '_> {
    /// `send_from_vip`: `node` sends from VIP `vip`'s address of `to`'s
    /// family to `to` (see the module documentation).
    pub(super) fn send_from_vip(&mut self, node: usize, vip: &str, to: IpAddr) {
        let Some(v) = self.vips.iter().position(|x| *x.name == *vip) else {
            return;
        };
        let vhid = self.vips[v].vhid;
        let vmac = crate::wire::MacAddr::carp_virtual(vhid).to_string();
        let source = self.vips[v]
            .addrs
            .iter()
            .find(|a| a.is_ipv6() == to.is_ipv6())
            .copied();
        let sent = self.sends_from(node, v);
        let (answered, detail) = match (sent, source) {
            (Err(why), _) => (false, format!("not sent: {why}")),
            (Ok(_), None) => (
                false,
                "not sent: the VIP has no address of that family".into(),
            ),
            (Ok(segment), Some(src)) => {
                // The solicitation leaves from the virtual MAC.
                self.learn_virtual(node, segment, vhid);
                match self.host_at(node, segment, to) {
                    Err(why) => (false, format!("no answer: {why}")),
                    Ok(host) => {
                        self.learned.push(NeighborEntry {
                            time: to_s(self.now),
                            host,
                            address: src.to_string(),
                            mac: vmac.clone(),
                        });
                        if self.vips[v].state[node] == CarpState::Master {
                            (true, format!("answered: {vmac} is this MASTER's"))
                        } else {
                            let msg = format!(
                                "no answer: the reply went to {vmac}, which only a MASTER \
                                 takes (carp_forus()); this node is {}",
                                self.vips[v].state[node].as_str()
                            );
                            (false, msg)
                        }
                    }
                }
            }
        };
        self.sent.push(SentFromVip {
            time: to_s(self.now),
            node: self.nodes[node].name.clone(),
            vip: vip.to_string(),
            source: source.map_or_else(String::new, |s| s.to_string()),
            to: to.to_string(),
            answered,
            detail,
        });
    }

    /// Whether `node` can send from VIP `v`: it runs, the VIP's interface
    /// and link are up, and the vhid exists there. The segment it sends on.
    fn sends_from(&mut self, node: usize, v: usize) -> Result<usize, String> {
        let vhid = self.vips[v].vhid;
        let Some(pos) = self.vips[v].member_if[node] else {
            return Err("the node has no interface for the VIP".into());
        };
        let n = &mut self.nodes[node];
        let (ifindex, segment, passes) = {
            let i = &n.ifaces[pos];
            (i.ifindex, i.segment, i.passes())
        };
        let Some(live) = live(&mut n.kernel) else {
            return Err("the node is down".into());
        };
        if !passes {
            return Err(format!("{} is down", n.ifaces[pos].name));
        }
        if live.state_of(ifindex, vhid).is_none() {
            return Err(format!("vhid {vhid} is not configured"));
        }
        Ok(segment)
    }

    /// Which host has address `to` on `segment`, as seen from `from`: a
    /// node (running, its interface up, not cut off by a partition), or
    /// the clients (every address that is no node's).
    fn host_at(&self, from: usize, segment: usize, to: IpAddr) -> Result<String, String> {
        for (ni, n) in self.sc.nodes.iter().enumerate() {
            for (ifname, addrs) in &n.interfaces {
                if !addrs.iter().any(|a| a.addr() == to) {
                    continue;
                }
                let node = &self.nodes[ni];
                let Some(i) = node.ifaces.iter().find(|i| i.name == *ifname) else {
                    continue;
                };
                if i.segment != segment {
                    return Err(format!("{to} is {}'s, on another segment", n.name));
                }
                if !node.up() || !i.passes() {
                    return Err(format!("{} ({to}) is down", n.name));
                }
                if self.partitioned && node.group != self.nodes[from].group {
                    return Err(format!("{} ({to}) is cut off by the partition", n.name));
                }
                return Ok(n.name.clone());
            }
        }
        Ok(CLIENTS.to_string())
    }

    /// Every cache entry, in time order: the clients' (each VIP address
    /// from its first service), then what traffic from a VIP taught.
    pub(super) fn neighbor_entries(&mut self) -> Vec<NeighborEntry> {
        let start = self.sc.clients.start;
        let mut all = Vec::new();
        for v in &self.vips {
            let Some(t) = v.first_served else {
                continue;
            };
            let mac = crate::wire::MacAddr::carp_virtual(v.vhid).to_string();
            for a in &v.addrs {
                all.push(NeighborEntry {
                    time: to_s(t.max(start)),
                    host: CLIENTS.to_string(),
                    address: a.to_string(),
                    mac: mac.clone(),
                });
            }
        }
        all.append(&mut self.learned);
        all.sort_by(|a, b| a.time.total_cmp(&b.time));
        all
    }
}
