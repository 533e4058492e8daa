//! What `carpctl scan` costs per advertisement, against issue 15's
//! targets: live capture keeping up with 10 000 advertisements per second
//! on one core, and `--pcap` reading a 1 GB capture in under 10 s.
//!
//! ```text
//! cargo bench --bench scan
//! ```
//!
//! * `scan/advertisements`: decode + track 10 000 CARP advertisements of
//!   64 vhids and 2 speakers each (what a live capture does with each frame
//!   the kernel hands over, the system call aside); the target is that
//!   10 000 take well under a second.
//! * `scan/pcap file`: read a 64 MiB classic pcap of such advertisements
//!   from a file (page cache) through the whole scanner; the throughput
//!   criterion prints (bytes per second) must exceed 100 MiB/s for 1 GB in
//!   10 s.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly on what it does not expect"
)]

use std::hint::black_box;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use carpctl::scan::Scanner;
use carpctl::scan::capture::pcapfile::PcapFile;
use carpctl::scan::capture::{Frame, Source};
use carpctl::scan::decode::LinkType;
use carpctl::wire::{CarpAuth, Encap, MacAddr, PcapSink, carp_frame};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// 128 advertisement frames: vhids 1-64, two speakers each.
fn frames() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for vhid in 1..=64u8 {
        let vip = IpAddr::V4(Ipv4Addr::new(198, 51, 100, vhid));
        let auth = CarpAuth::new(b"bench-key", vhid, &[vip]).unwrap();
        for (skew, host) in [(0u8, 3u8), (100, 4)] {
            let src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, host));
            let h = auth.header(1, skew, 1 + u64::from(vhid));
            let encap = Encap::multicast(src, MacAddr([2, 0, 0, 0, 0, host]));
            out.push(carp_frame(&h, &encap).unwrap());
        }
    }
    out
}

fn advertisements(c: &mut Criterion) {
    let frames = frames();
    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("advertisements", |b| {
        b.iter(|| {
            let mut s = Scanner::live(None);
            for i in 0..10_000usize {
                let data = &frames[i % frames.len()];
                let f = Frame {
                    time: 1_700_000_000.0 + i as f64 * 1e-4,
                    link: LinkType::Ethernet,
                    iface: "em0",
                    data,
                    vlan: None,
                };
                s.frame("em0", &f);
            }
            black_box(s.tracker.stats.advertisements)
        })
    });
    g.finish();
}

fn pcap_file(c: &mut Criterion) {
    let frames = frames();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.pcap");
    let mut sink = PcapSink::new(Vec::new()).unwrap();
    let mut n = 0u64;
    let mut size = 24u64;
    while size < 64 << 20 {
        let f = &frames[(n as usize) % frames.len()];
        sink.write(Duration::from_micros(n * 100), f).unwrap();
        size += 16 + f.len() as u64;
        n += 1;
    }
    let bytes = sink.finish().unwrap();
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&bytes)
        .unwrap();
    let mut g = c.benchmark_group("scan");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("pcap file", |b| {
        b.iter(|| {
            let mut src = PcapFile::open(&path).unwrap();
            let mut s = Scanner::new(None);
            while src
                .poll(Duration::ZERO, &mut |f| s.frame(f.iface, &f))
                .unwrap()
            {}
            assert_eq!(s.tracker.stats.advertisements, n);
            black_box(s.tracker.stats.frames)
        })
    });
    g.finish();
}

criterion_group!(benches, advertisements, pcap_file);
criterion_main!(benches);
