//! What `carpctl lint` costs per rc.conf, against issue 13's target: a
//! 1 MiB rc.conf in under 1 s (release build), and time linear in the
//! size.
//!
//! ```text
//! cargo bench --bench lint
//! ```
//!
//! * `lint/rc.conf 1 MiB`: one generated rc.conf of 1 MiB (each block: an
//!   interface with its address, two vhid aliases, a vlan with its
//!   address, an interface nothing creates, and now and then an override,
//!   a command and a placeholder VIP), so every rc.conf rule runs, the
//!   interface suggestions (CARP092/CARP093) included.
//! * `lint/rc.conf 256 KiB`: the same at a quarter of the size: linear
//!   time gives a quarter of the time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly on what it does not expect"
)]

use std::fmt::Write;
use std::hint::black_box;
use std::time::Duration;

use carpctl::lint::{self, Input, Options};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// An rc.conf of at least `size` bytes.
fn rc_conf(size: usize) -> String {
    let mut s = String::from("hostname=\"bench\"\nkld_list=\"carp\"\n");
    let mut i = 0u32;
    while s.len() < size {
        let (a, b) = ((i / 250) % 250, i % 250);
        let vhid = i % 255 + 1;
        writeln!(s, "ifconfig_em{i}=\"inet 10.{a}.{b}.2/24\"").unwrap();
        writeln!(
            s,
            "ifconfig_em{i}_alias0=\"inet vhid {vhid} advskew 100 pass secret{i} alias 10.{a}.{b}.50/32\""
        )
        .unwrap();
        writeln!(
            s,
            "ifconfig_em{i}_alias1=\"inet vhid {vhid} pass secret{i} alias 10.{a}.{b}.51/32\""
        )
        .unwrap();
        writeln!(s, "vlans_em{i}=\"100\"").unwrap();
        writeln!(s, "ifconfig_em{i}_100=\"inet 172.16.{b}.2/24\"").unwrap();
        writeln!(s, "ifconfig_lagg{i}=\"laggproto lacp laggport em{i} up\"").unwrap();
        if i.is_multiple_of(10) {
            writeln!(s, "ifconfig_em{i}_alias1=\"inet 10.{a}.{b}.52/32\"").unwrap();
        }
        if i.is_multiple_of(50) {
            writeln!(s, "/usr/local/sbin/ucarp -i em{i} -v {vhid}").unwrap();
            writeln!(
                s,
                "ifconfig_em{i}_alias2=\"inet vhid {vhid} pass x alias 208.180.xxx.xxx/32\""
            )
            .unwrap();
        }
        i += 1;
    }
    s
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("lint");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    for (name, size) in [("rc.conf 256 KiB", 256 << 10), ("rc.conf 1 MiB", 1 << 20)] {
        let text = rc_conf(size);
        let inputs = [Input::new("rc.conf", text.as_str())];
        // Every rule has something to say: the file is not trivially clean.
        let found = lint::lint(&inputs, &Options::default());
        assert!(found.len() > size / 1024, "{} findings", found.len());
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| lint::lint(black_box(&inputs), &Options::default()));
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
