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
        let Some(ifc) = self.nodes[node]
            .ifaces
            .iter()
            .find(|i| i.ifindex == ifindex)
        else {
            return Ok(());
        };
        let kind = match classify(&bytes) {
            Some(k) => k,
            None => return Ok(()),
        };
        let flight = InFlight {
            from: node,
            segment: ifc.segment,
            kind,
            bytes,
        };
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
        let latency = self.nodes[node].latency;
        self.push(self.now + latency, Kind::Deliver(slot));
        Ok(())
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
            let between = self.loss_between.get(&(f.from, to)).copied().unwrap_or(0.0);
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
