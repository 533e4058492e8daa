//! The limits of `carpctl simulate` (carpctl.scenario(5), LIMITS): what a
//! scenario may ask for, so that no scenario runs for hours, fills the
//! memory or fills the disk. The scenario's own limits are checked when it
//! is loaded, with the file, line and column; the report's size while the
//! run goes; the capture's size both before the run (an estimate) and
//! while it is written (exactly).

use std::time::Duration;

use super::{FrameSink, Scenario};

/// The most `[[event]]` entries in a scenario.
pub(crate) const MAX_EVENTS: usize = 10_000;
/// The most `[[expect]]` entries of a scenario: each is checked against
/// the whole report, so their number bounds the work after the run.
pub(crate) const MAX_EXPECTS: usize = 1_000;
/// The most `[[node]]` entries (nodes of the cluster) in a scenario.
pub(crate) const MAX_NODES: usize = 64;
/// The most `[[router]]` entries: a few routers join a few segments.
pub(crate) const MAX_ROUTERS: usize = 8;
/// The most (node, VIP) pairs in which a node takes part: 64 nodes × 255
/// VIPs.
pub(crate) const MAX_MEMBERS: usize = 64 * 255;
/// The most records (transitions and demotion changes) a report holds: a
/// day of the 16-node, 64-VIP benchmark logs about a million.
pub(crate) const MAX_RECORDS: usize = 4_000_000;
/// The default cap of a `--pcap` capture: 1 GiB.
pub const DEFAULT_PCAP_MAX: u64 = 1 << 30;

/// A pcap record header (`ts_sec`, `ts_usec`, `incl_len`, `orig_len`).
const PCAP_RECORD: u64 = 16;
/// The pcap global header.
const PCAP_HEADER: u64 = 24;

/// A size as `expand_number(3)` reads it (the form FreeBSD's tools take):
/// a number of bytes, optionally followed by `k`, `m`, `g` or `t` (powers
/// of 1024, either case).
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size (bytes, or a number with k, m, g or t)"))?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return Err(format!("{s:?}: unknown unit {unit:?}; use k, m, g or t")),
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// A size for messages: `1 GiB`, `95.3 GiB`, `512 KiB`, `700 B`.
pub(crate) fn show_size(n: u64) -> String {
    const UNITS: [(&str, u32); 4] = [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)];
    for (unit, shift) in UNITS {
        let u = 1u64 << shift;
        if n >= u {
            return if n.is_multiple_of(u) {
                format!("{} {unit}", n / u)
            } else {
                format!("{:.1} {unit}", n as f64 / u as f64)
            };
        }
    }
    format!("{n} B")
}

/// About the least a capture of `sc` holds: every VIP's MASTER
/// advertising once per `advbase` per address family for the whole run
/// (70-byte IPv4 frames, 90-byte IPv6 frames, each with its 16-byte
/// record header). Backups, faults, announcements and two masters only add
/// to it; a VIP without a MASTER for a while makes it smaller.
pub(crate) fn pcap_estimate(sc: &Scenario) -> u64 {
    let secs = Duration::from_micros(sc.duration).as_secs_f64();
    let mut total = PCAP_HEADER as f64;
    for v in &sc.config.vips {
        let rounds = secs / f64::from(v.advbase.get());
        let has = |v6: bool| v.addresses.iter().any(|a| a.addr().is_ipv6() == v6);
        for (v6, frame) in [(false, 14 + 20 + 36), (true, 14 + 40 + 36)] {
            if has(v6) {
                total += rounds * (PCAP_RECORD + frame) as f64;
            }
        }
    }
    total as u64
}

/// A capture that stops with an error before it would grow past `max`
/// bytes (the pcap headers counted): the file written so far stays a
/// valid capture of the run up to that frame.
pub(crate) struct CappedSink<S> {
    inner: S,
    max: u64,
    written: u64,
}

impl<S: FrameSink> CappedSink<S> {
    pub(crate) fn new(inner: S, max: u64) -> Self {
        CappedSink {
            inner,
            max,
            written: PCAP_HEADER,
        }
    }

    /// The sink inside.
    pub(crate) fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: FrameSink> FrameSink for CappedSink<S> {
    fn frame(&mut self, at: u64, bytes: &[u8]) -> Result<(), String> {
        let next = self.written + PCAP_RECORD + bytes.len() as u64;
        if next > self.max {
            return Err(format!(
                "the capture reached --pcap-max {} at {:.6} s of virtual time and was stopped \
                 there; raise --pcap-max or simulate less",
                show_size(self.max),
                at as f64 / 1e6
            ));
        }
        self.inner.frame(at, bytes)?;
        self.written = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_expand_number() {
        assert_eq!(parse_size("1234"), Ok(1234));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("2t"), Ok(2 << 40));
        assert!(parse_size("1x").unwrap_err().contains("unknown unit"));
        assert!(parse_size("").unwrap_err().contains("is not a size"));
        assert!(parse_size("-1").unwrap_err().contains("is not a size"));
        assert!(
            parse_size("99999999999t")
                .unwrap_err()
                .contains("too large")
        );
        assert_eq!(show_size(1 << 30), "1 GiB");
        assert_eq!(show_size(3 << 29), "1.5 GiB");
        assert_eq!(show_size(700), "700 B");
    }

    #[derive(Default)]
    struct Count(u64);

    impl FrameSink for Count {
        fn frame(&mut self, _: u64, _: &[u8]) -> Result<(), String> {
            self.0 += 1;
            Ok(())
        }
    }

    #[test]
    fn the_capped_sink_stops_before_the_cap() {
        // 24 + 2 × (16 + 70) = 196 bytes fit in 200; the third does not.
        let mut s = CappedSink::new(Count::default(), 200);
        s.frame(1, &[0; 70]).unwrap();
        s.frame(2, &[0; 70]).unwrap();
        let e = s.frame(3_500_000, &[0; 70]).unwrap_err();
        assert!(e.contains("--pcap-max 200 B at 3.500000 s"), "{e}");
        assert_eq!(s.into_inner().0, 2);
    }
}
