//! The virtual Ethernet segment: frames in flight, who receives them, and
//! what the switch learns.

use super::*;

impl Sim<'_, '_> {
    /// A frame leaves `node`: captured, and put on the segment.
    pub(super) fn send(
        &mut self,
        node: usize,
        ifindex: u16,
        bytes: Vec<u8>,
    ) -> Result<(), SimError> {
        self.frames += 1;
        if let Some(sink) = self.sink.as_mut() {
            sink.frame(self.now, &bytes).map_err(SimError::Capture)?;
        }
        let Some(pos) = self.nodes[node]
            .ifaces
            .iter()
            .position(|i| i.ifindex == ifindex)
        else {
            return Ok(());
        };
        let segment = self.nodes[node].ifaces[pos].segment;
        let kind = match classify(&bytes) {
            Some(k) => k,
            None => return Ok(()),
        };
        let flight = InFlight {
            from: node,
            segment,
            iface: pos,
            via: None,
            kind,
            bytes,
        };
        let latency = self.nodes[node].latency;
        self.put_on_wire(flight, latency);
        Ok(())
    }

    /// Deliver `flight` after `latency` µs.
    fn put_on_wire(&mut self, flight: InFlight, latency: u64) {
        let slot = match self.free.pop() {
            Some(s) => {
                self.flights[s as usize] = Some(flight);
                s
            }
            None => {
                self.flights.push(Some(flight));
                (self.flights.len() - 1) as u32
            }
        };
        self.push(self.now + latency, Kind::Deliver(slot));
    }

    /// Who receives a multicast advertisement of each family on each
    /// segment: every running node whose interface there has a carp
    /// address of that family, since only such an interface has joined
    /// 224.0.0.18 / ff02::12 (`carp_multicast_setup()`); the others drop
    /// the packet in `ip_input()` / `ip6_input()` before carp(4) sees it.
    /// A receiver without the packet's vhid still counts it (`ipackets`,
    /// then `badvhid`), as the kernel does (`docs/freebsd-carp.md` §9).
    pub(super) fn rebuild_receivers(&mut self) {
        if !self.receivers_dirty {
            return;
        }
        let mut lists: Vec<Vec<(usize, u16)>> = vec![Vec::new(); self.segments * 2];
        for (ni, n) in self.nodes.iter_mut().enumerate() {
            let ifaces: Vec<(u16, usize)> =
                n.ifaces.iter().map(|i| (i.ifindex, i.segment)).collect();
            let Some(live) = live(&mut n.kernel) else {
                continue;
            };
            for (ifindex, seg) in ifaces {
                let (v4, v6) = live.carp_families(ifindex);
                for (fam, joined) in [(0, v4), (1, v6)] {
                    if joined {
                        lists[seg * 2 + fam].push((ni, ifindex));
                    }
                }
            }
        }
        self.receivers = lists.into_iter().map(Rc::from).collect();
        self.receivers_dirty = false;
    }

    /// The receivers of an advertisement to `dst` on `segment`: the group's
    /// members ([`Sim::rebuild_receivers`]), or for a unicast peer
    /// (`peer`, `peer6`) the node that has that address there.
    fn receivers_of(&mut self, segment: usize, v6: bool, dst: IpAddr) -> Rc<[(usize, u16)]> {
        if dst.is_multicast() {
            self.rebuild_receivers();
            let at = segment * 2 + usize::from(v6);
            return self
                .receivers
                .get(at)
                .map_or_else(|| Rc::from([]), Rc::clone);
        }
        let mut to = Vec::new();
        for (ni, node) in self.sc.nodes.iter().enumerate() {
            for (ifname, addrs) in &node.interfaces {
                if !addrs.iter().any(|a| a.addr() == dst) {
                    continue;
                }
                let rt = &self.nodes[ni].ifaces;
                if let Some(i) = rt
                    .iter()
                    .find(|i| i.name == *ifname && i.segment == segment)
                {
                    to.push((ni, i.ifindex));
                }
            }
        }
        Rc::from(to)
    }

    /// Where a unicast frame to `dst` that `f`'s sender put on its segment
    /// goes next: to its holder there when `dst` is on-link for the
    /// interface it left from (one of its prefixes contains it, or it is
    /// link-local), else to the router of the sender's gateway of that
    /// family, which forwards it (`ip_forward()`, `ip6_forward()`: TTL or
    /// hop limit less one, dropped at 1) out of its interface whose prefix
    /// contains `dst`. `None`: delivered where it is (on-link, or already
    /// forwarded); `Some(None)`: dropped (no route, as FreeBSD's
    /// `EHOSTUNREACH`; TTL exhausted).
    fn next_hop(&self, f: &InFlight, dst: IpAddr) -> Option<Option<(usize, usize)>> {
        if f.via.is_some() || dst.is_multicast() {
            return None;
        }
        let link_local = matches!(dst, IpAddr::V6(a) if a.is_unicast_link_local());
        let own = &self.sc.nodes[f.from].interfaces[f.iface].1;
        if link_local || own.iter().any(|n| n.contains(&dst)) {
            return None;
        }
        let gateway = self.sc.nodes[f.from]
            .gateways
            .iter()
            .find(|g| g.is_ipv6() == dst.is_ipv6());
        let Some(gw) = gateway else {
            return Some(None);
        };
        // The router that has the gateway address on the sender's segment,
        // and its interface towards `dst`.
        let hop = self.routers.iter().enumerate().find_map(|(ri, r)| {
            r.ifaces
                .iter()
                .any(|(seg, a, _)| *seg == f.segment && a.iter().any(|n| n.addr() == *gw))
                .then(|| {
                    r.ifaces
                        .iter()
                        .position(|(_, a, _)| a.iter().any(|n| n.contains(&dst)))
                        .map(|out| (ri, out))
                })
                .flatten()
        });
        Some(hop)
    }

    /// Router `router` forwards `f` out of its interface `out`: TTL or hop
    /// limit one less (dropped when it was 1 or less), from the router's
    /// MAC, after the segment's latency.
    fn forward(&mut self, mut f: InFlight, router: usize, out: usize) {
        if !decrement_hop_limit(&mut f.bytes) {
            return;
        }
        let (segment, _, mac) = &self.routers[router].ifaces[out];
        if let Some(src) = f.bytes.get_mut(6..12) {
            src.copy_from_slice(mac);
        }
        f.segment = *segment;
        f.iface = out;
        f.via = Some(router);
        self.frames += 1;
        if let Some(sink) = self.sink.as_mut()
            && let Err(e) = sink.frame(self.now, &f.bytes)
        {
            self.sink_error = Some(e);
        }
        let latency = self.sc.latency;
        self.put_on_wire(f, latency);
    }

    pub(super) fn deliver(&mut self, slot: u32) -> Result<(), SimError> {
        let Some(f) = self.flights.get_mut(slot as usize).and_then(Option::take) else {
            return Ok(());
        };
        self.free.push(slot);
        self.learn(f.from, f.segment, &f.bytes);
        if f.kind == FrameKind::Announce {
            return Ok(());
        }
        let inbound = Inbound::parse(&f.bytes);
        let (Some(v6), Some(dst)) = (inbound.is_v6(), inbound.dst()) else {
            return Ok(());
        };
        if let Some(hop) = self.next_hop(&f, dst) {
            if let Some((router, out)) = hop {
                self.forward(f, router, out);
            }
            return self
                .sink_error
                .take()
                .map_or(Ok(()), |e| Err(SimError::Capture(e)));
        }
        let list = self.receivers_of(f.segment, v6, dst);
        let from_group = self.nodes[f.from].group;
        let from_loss =
            1.0 - (1.0 - self.nodes[f.from].loss) * (1.0 - self.nodes[f.from].loss_from);
        for &(to, ifindex) in list.iter() {
            if to == f.from {
                continue;
            }
            let n = &self.nodes[to];
            if n.group != from_group && self.partitioned {
                continue;
            }
            if !n.ifaces.iter().any(|i| i.ifindex == ifindex && i.passes()) {
                continue;
            }
            // No hash lookup per receiver while no `loss` event names a
            // pair (the common case): the same 0.0 `get` would give.
            let between = if self.loss_between.is_empty() {
                0.0
            } else {
                self.loss_between.get(&(f.from, to)).copied().unwrap_or(0.0)
            };
            let p = 1.0
                - (1.0 - self.seg_loss)
                    * (1.0 - from_loss)
                    * (1.0 - n.loss)
                    * (1.0 - n.loss_to)
                    * (1.0 - between);
            if p > 0.0 && self.rng.next_f64() < p {
                continue;
            }
            let now = self.now;
            let n = &mut self.nodes[to];
            let incarnation = n.incarnation;
            if let Some(live) = live(&mut n.kernel) {
                live.set_now(now);
                live.receive_inbound(ifindex, &inbound);
                if !only_wakes(live, &mut self.queue, to as u32, incarnation) {
                    self.drain(to)?;
                }
            }
        }
        Ok(())
    }

    /// The switch learns the frame's source MAC on the sender's port: a
    /// virtual MAC (`00:00:5e:00:01:<vhid>`, the source of the MASTER's
    /// advertisements and neighbour advertisements) moves the vhid's VIPs
    /// on that segment to the sender.
    pub(super) fn learn(&mut self, from: usize, segment: usize, bytes: &[u8]) {
        let Some(src) = bytes.get(6..12) else {
            return;
        };
        if src[..5] != crate::wire::CARP_MAC_PREFIX {
            return;
        }
        self.learn_virtual(from, segment, src[5]);
    }

    /// The switch sees vhid `vhid`'s virtual MAC come from `from`.
    pub(super) fn learn_virtual(&mut self, from: usize, segment: usize, vhid: u8) {
        let at = segment * 256 + usize::from(vhid);
        for i in 0..self.vips_at.get(at).map_or(0, Vec::len) {
            let v = self.vips_at[at][i];
            if self.vips[v].port != Some(from) {
                self.vips[v].port = Some(from);
                self.mark(v);
            }
        }
    }
}

/// `ip_forward()` / `ip6_forward()` on a frame: the IPv4 TTL (with the
/// header checksum) or the IPv6 hop limit one less; false when it was 1
/// or less, and the router drops it.
pub(super) fn decrement_hop_limit(bytes: &mut [u8]) -> bool {
    let ethertype = match bytes.get(12..14) {
        Some(t) => u16::from_be_bytes([t[0], t[1]]),
        None => return false,
    };
    match ethertype {
        crate::wire::frame::ETHERTYPE_IPV4 => {
            let Some(&vihl) = bytes.get(14) else {
                return false;
            };
            let hlen = usize::from(vihl & 0x0f) * 4;
            let Some(h) = bytes.get_mut(14..14 + hlen) else {
                return false;
            };
            if hlen < 20 || h[8] <= 1 {
                return false;
            }
            h[8] -= 1;
            h[10] = 0;
            h[11] = 0;
            let sum = crate::wire::internet_checksum(h);
            h[10..12].copy_from_slice(&sum.to_be_bytes());
            true
        }
        crate::wire::frame::ETHERTYPE_IPV6 => match bytes.get_mut(14 + 7) {
            Some(hl) if *hl > 1 => {
                *hl -= 1;
                true
            }
            _ => false,
        },
        _ => false,
    }
}
