//! The per-packet cost of the CARP wire codec, which the simulator pays
//! millions of times (16 nodes x 64 VIPs x 24 h of advertisements):
//!
//! ```text
//! cargo bench --bench wire
//! ```
//!
//! `digest` and `verify` are what each advertisement costs once the
//! HMAC state is keyed; `keying` is paid only when a key or an address list
//! changes; `frame_roundtrip` adds building the Ethernet/IPv4 frame,
//! decoding it and the receive validation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly on what it does not expect"
)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use carpctl::wire::{
    CarpAuth, Encap, MacAddr, Payload, Receiver, carp_frame, decode_frame, receive,
};
use criterion::{Criterion, criterion_group, criterion_main};

fn vips(n: u32) -> Vec<IpAddr> {
    (0..n)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0xc000_0200 + i)))
        .collect()
}

fn hmac(c: &mut Criterion) {
    let one = CarpAuth::new(b"testpass", 1, &vips(1)).unwrap();
    let many = CarpAuth::new(b"testpass", 1, &vips(64)).unwrap();
    let mut counter = 0u64;
    c.bench_function("digest/1 address", |b| {
        b.iter(|| {
            counter = counter.wrapping_add(1);
            black_box(one.digest(black_box(counter)))
        })
    });
    c.bench_function("digest/64 addresses", |b| {
        b.iter(|| {
            counter = counter.wrapping_add(1);
            black_box(many.digest(black_box(counter)))
        })
    });
    let md = one.digest(42);
    c.bench_function("verify/1 address", |b| {
        b.iter(|| black_box(one.verify(black_box(42), black_box(&md))))
    });
    let list = vips(64);
    c.bench_function("keying/64 addresses", |b| {
        b.iter(|| black_box(CarpAuth::new(b"testpass", 1, black_box(&list)).unwrap()))
    });
}

fn roundtrip(c: &mut Criterion) {
    let auth = CarpAuth::new(b"testpass", 1, &vips(1)).unwrap();
    let encap = Encap::multicast(
        "192.0.2.250".parse().unwrap(),
        MacAddr([0x52, 0x54, 0, 0, 0, 1]),
    );
    let mut counter = 0u64;
    c.bench_function("frame_roundtrip/ipv4", |b| {
        b.iter(|| {
            counter = counter.wrapping_add(1);
            let frame = carp_frame(&auth.header(1, 0, counter), &encap).unwrap();
            let decoded = decode_frame(&frame).unwrap();
            let Payload::Ip(ip) = decoded.payload else {
                unreachable!("an IPv4 frame")
            };
            black_box(receive(&ip, |_| {
                Some(Receiver::Carp {
                    auth: &auth,
                    multicast: true,
                })
            }))
            .is_ok()
        })
    });
}

criterion_group!(benches, hmac, roundtrip);
criterion_main!(benches);
