//! `carpctl scan`: what is really on the wire. Every CARP and VRRP
//! speaker of a segment, per (protocol, vhid or VRID, interface): who is
//! master now and since when, the transitions and dual masters seen, and
//! findings with stable codes (`SCAN001`...) for what is wrong: dual
//! masters, CARP and VRRP on one number, ties, HMACs that fail (wrong
//! password or address list, told apart where the cluster file allows),
//! demoted nodes, and more (carpctl(8), "scan").
//!
//! | module | what it owns |
//! |---|---|
//! | [`capture`] | the sources: live (AF_PACKET, BPF, with a kernel filter and its drop counter) and capture files (pcap, pcapng) |
//! | [`decode`] | one frame → one advertisement: link header, VLAN tags, IPv4/IPv6 (extension headers), CARP / VRRPv2 / VRRPv3 |
//! | [`track`] | the bounded per-group state: speakers, masters, transitions, dual-master intervals |
//! | [`cluster`] | the cluster file's side: HMAC keys (read when needed), the plan's skews, which node a speaker is, why an HMAC fails |
//! | [`analyze`] | the rules that turn the state into findings |
//! | [`codes`] | the table of finding codes |
//! | [`report`] | the report and its stable JSON form |
//! | [`render`] | the report as a table |
//!
//! The codecs are [`crate::wire`]'s, the same that put the simulator's
//! advertisements on its virtual segment, so `scan --pcap` of a
//! `simulate --pcap` capture sees what the simulator did (tested).

pub(crate) mod analyze;
pub mod capture;
pub(crate) mod cluster;
pub mod codes;
pub mod decode;
pub(crate) mod render;
pub mod report;
pub(crate) mod track;

#[cfg(test)]
mod testutil;

use std::path::Path;
use std::time::Duration;

use capture::{CaptureError, Frame, Source};
use cluster::ClusterView;
use report::{Report, SourceInfo};
use track::{Limits, Tracker, Verify};

/// The most frames a live capture decodes per second (of capture time):
/// ten times the busiest segment scan is built for (10 000 advertisements
/// per second), so that a flood costs bounded CPU. The rest are counted
/// (`over_rate`, SCAN021).
pub(crate) const RATE_LIMIT: u64 = 100_000;

/// A capture being analysed: the tracker and, with `-c`, the cluster view
/// that checks HMACs.
#[derive(Debug)]
pub struct Scanner {
    pub tracker: Tracker,
    pub cluster: Option<ClusterView>,
    /// Live captures: the second being counted and its frames so far.
    rate: Option<(i64, u64)>,
}

impl Scanner {
    /// A scanner for a capture file: every frame is read.
    pub fn new(cluster: Option<ClusterView>) -> Self {
        Scanner {
            tracker: Tracker::new(Limits::default()),
            cluster,
            rate: None,
        }
    }

    /// A scanner for a live capture: at most [`RATE_LIMIT`] frames per
    /// second are decoded.
    pub fn live(cluster: Option<ClusterView>) -> Self {
        Scanner {
            rate: Some((i64::MIN, 0)),
            ..Scanner::new(cluster)
        }
    }

    /// Whether the rate limit lets a frame of time `t` through.
    fn admit(&mut self, t: f64) -> bool {
        let Some((second, count)) = &mut self.rate else {
            return true;
        };
        // Saturating: a hostile or broken clock cannot overflow it.
        let now = t.floor() as i64;
        if now != *second {
            *second = now;
            *count = 0;
        }
        *count += 1;
        *count <= RATE_LIMIT
    }

    /// Takes one frame, captured on interface `name`.
    pub fn frame(&mut self, name: &str, f: &Frame<'_>) {
        if !self.admit(f.time) {
            self.tracker.stats.frames += 1;
            self.tracker.stats.over_rate += 1;
            return;
        }
        match decode::decode(f.link, f.data, f.vlan) {
            Ok(Some(d)) => {
                let verify = self.cluster.as_mut().map(|c| c as &mut dyn Verify);
                self.tracker.ingest(f.time, name, &d, verify);
            }
            Ok(None) => self.tracker.frame_without_ad(),
            Err(e) => self.tracker.malformed(&e.to_string()),
        }
    }

    /// Reads every frame `source` has (a file) or gets within `timeout`;
    /// false once the source has no more.
    pub fn drain(
        &mut self,
        source: &mut dyn Source,
        timeout: Duration,
    ) -> Result<bool, CaptureError> {
        source.poll(timeout, &mut |f| self.frame(f.iface, &f))
    }

    /// The report as of `source.end` (periods silent past their timeout by
    /// then are closed first).
    pub fn report(&mut self, source: SourceInfo) -> Report {
        if let Some(end) = source.end {
            self.tracker.advance(end);
        }
        report::build(&self.tracker, self.cluster.as_mut(), source)
    }
}

/// Reads a whole capture file and reports on it.
pub(crate) fn read_pcap(path: &Path, cluster: Option<ClusterView>) -> Result<Report, CaptureError> {
    let mut source = capture::pcapfile::PcapFile::open(path)?;
    let mut scanner = Scanner::new(cluster);
    while scanner.drain(&mut source, Duration::ZERO)? {}
    let info = SourceInfo {
        kind: "pcap",
        file: Some(path.display().to_string()),
        cluster: scanner
            .cluster
            .as_ref()
            .map(|c| c.path.display().to_string()),
        interfaces: source.interfaces().to_vec(),
        start: scanner.tracker.first,
        end: scanner.tracker.last,
        kernel: None,
    };
    Ok(scanner.report(info))
}
