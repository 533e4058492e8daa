use proptest::prelude::*;

use super::*;
use crate::scan::decode::{LinkType, decode};
use crate::scan::testutil::{carp, ip, tagged, vrrp3};

/// A classic BPF interpreter for the instructions the program uses; a
/// load past the frame drops it, as both kernels do.
fn run(prog: &[Insn], frame: &[u8]) -> u32 {
    let mut a: u32 = 0;
    let mut pc = 0usize;
    while let Some(i) = prog.get(pc) {
        pc += 1;
        match i.code {
            LDH_ABS => match frame.get(i.k as usize..i.k as usize + 2) {
                Some(b) => a = u32::from(u16::from_be_bytes([b[0], b[1]])),
                None => return 0,
            },
            LDB_ABS => match frame.get(i.k as usize) {
                Some(b) => a = u32::from(*b),
                None => return 0,
            },
            JEQ_K => pc += usize::from(if a == i.k { i.jt } else { i.jf }),
            RET_K => return i.k,
            other => panic!("unexpected opcode {other:#x}"),
        }
    }
    panic!("ran off the end of the program")
}

#[test]
fn the_program_is_small_and_every_jump_lands_inside() {
    let p = program();
    assert!(p.len() < 64, "{}", p.len());
    assert!(p.len() <= carpctl_sys::bpf::BPF_MAXINSNS);
    for (at, i) in p.iter().enumerate() {
        if i.code == JEQ_K {
            assert!(
                at + 1 + usize::from(i.jt.max(i.jf)) < p.len(),
                "{at}: {i:?}"
            );
        }
    }
    assert_eq!(
        p.last().unwrap(),
        &Insn {
            code: RET_K,
            jt: 0,
            jf: 0,
            k: 0
        }
    );
}

#[test]
fn advertisements_pass_and_other_traffic_does_not() {
    let p = program();
    let c4 = carp(1, 1, 0, 1, b"k", &[], ip("10.0.0.1"));
    let c6 = carp(1, 1, 0, 1, b"k", &[], ip("fe80::1"));
    let v3 = vrrp3(1, 100, 100, vec![ip("10.0.0.9")], ip("10.0.0.1"));
    for f in [&c4, &c6, &v3] {
        assert_eq!(run(&p, f), ACCEPT);
        let one = tagged(f, 0x8100, 10);
        assert_eq!(run(&p, &one), ACCEPT);
        assert_eq!(run(&p, &tagged(&one, 0x88a8, 20)), ACCEPT);
        assert_eq!(run(&p, &tagged(&tagged(&one, 0x88a8, 20), 0x8100, 3)), 0);
    }
    let mut udp = c4.clone();
    udp[23] = 17;
    assert_eq!(run(&p, &udp), 0);
    let mut hbh = c6.clone();
    hbh[20] = 0;
    assert_eq!(
        run(&p, &hbh),
        ACCEPT,
        "IPv6 extension headers go to the decoder"
    );
    let mut tcp6 = c6.clone();
    tcp6[20] = 6;
    assert_eq!(run(&p, &tcp6), 0);
    let arp = crate::wire::gratuitous_arp_frame(
        crate::wire::MacAddr::ZERO,
        crate::wire::MacAddr::carp_virtual(1),
        std::net::Ipv4Addr::new(10, 0, 0, 1),
    );
    assert_eq!(run(&p, &arp), 0);
    assert_eq!(run(&p, &c4[..12]), 0);
}

proptest! {
    /// The filter never hides what the decoder would read as protocol
    /// 112 (an advertisement, or an error about one).
    #[test]
    fn whatever_the_decoder_reads_passes_the_filter(
        seed in 0usize..4,
        flips in proptest::collection::vec((0usize..120, 1u8..=255), 0..4),
        cut in 0usize..130,
    ) {
        let seeds = [
            carp(1, 1, 0, 1, b"k", &[], ip("10.0.0.1")),
            carp(1, 1, 0, 1, b"k", &[], ip("fe80::1")),
            tagged(&carp(9, 1, 0, 1, b"k", &[], ip("10.0.0.1")), 0x8100, 7),
            vrrp3(1, 100, 100, vec![ip("10.0.0.9")], ip("10.0.0.1")),
        ];
        let mut f = seeds[seed].clone();
        for (at, x) in flips {
            if let Some(b) = f.get_mut(at) {
                *b ^= x;
            }
        }
        f.truncate(cut.max(1));
        let ours = !matches!(decode(LinkType::Ethernet, &f, None), Ok(None));
        if ours {
            prop_assert_eq!(run(&program(), &f), ACCEPT);
        }
    }
}
