//! The kernel filter of a live capture, in classic BPF: the one program
//! both Linux (`SO_ATTACH_FILTER`, `struct sock_filter`) and FreeBSD
//! (`BIOCSETF`, `struct bpf_insn`) run, since both structures are the same
//! four fields (`code: u16, jt: u8, jf: u8, k: u32`, bpf(4),
//! Documentation/networking/filter.rst).
//!
//! It accepts Ethernet frames carrying IPv4 protocol 112, or IPv6 whose
//! next header is 112 or an extension header (the decoder walks those),
//! untagged or under one or two 802.1Q/802.1ad tags; everything else stays
//! in the kernel. It errs on the side of accepting: whatever the decoder
//! would read as protocol 112 passes (property-tested below), so the
//! filter never hides an advertisement.

use super::super::decode::{ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD, ETHERTYPE_VLAN};
use crate::wire::frame::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};

/// One instruction, as both kernels lay it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Insn {
    pub code: u16,
    pub(crate) jt: u8,
    pub(crate) jf: u8,
    pub k: u32,
}

/// `BPF_LD | BPF_H | BPF_ABS`: load the 16-bit word at `k`.
pub(crate) const LDH_ABS: u16 = 0x28;
/// `BPF_LD | BPF_B | BPF_ABS`: load the byte at `k`.
pub(crate) const LDB_ABS: u16 = 0x30;
/// `BPF_JMP | BPF_JEQ | BPF_K`.
pub(crate) const JEQ_K: u16 = 0x15;
/// `BPF_RET | BPF_K`: accept `k` bytes (0: drop).
pub(crate) const RET_K: u16 = 0x06;

/// How many bytes of an accepted frame the kernel hands over.
pub(crate) const ACCEPT: u32 = super::SNAPLEN as u32;

/// IPv6 next-header values the decoder walks past (RFC 8200 §4; AH,
/// mobility, HIP, shim6) plus the fragment header it reports.
const V6_EXTENSIONS: [u32; 8] = [0, 43, 60, 44, 51, 135, 139, 140];

const TAGS: [u32; 3] = [
    ETHERTYPE_VLAN as u32,
    ETHERTYPE_QINQ as u32,
    ETHERTYPE_QINQ_OLD as u32,
];

/// A jump target while the program is assembled.
#[derive(Clone, Copy)]
enum To {
    Next,
    Label(usize),
}

/// The program (about forty instructions).
pub(crate) fn program() -> Vec<Insn> {
    // Blocks: for each of the three ethertype offsets (12, 16, 20), a
    // dispatch; then per IP header offset (14, 18, 22) the protocol test.
    let mut asm = Asm::default();
    let (accept, drop) = (asm.label(), asm.label());
    let ip4 = [asm.label(), asm.label(), asm.label()];
    let ip6 = [asm.label(), asm.label(), asm.label()];
    let tag = [asm.label(), asm.label()];
    for level in 0..3 {
        if level > 0 {
            asm.bind(tag[level - 1]);
        }
        let off = 12 + 4 * level as u32;
        asm.op(LDH_ABS, off);
        asm.jeq(ETHERTYPE_IPV4 as u32, To::Label(ip4[level]), To::Next);
        asm.jeq(ETHERTYPE_IPV6 as u32, To::Label(ip6[level]), To::Next);
        if level < 2 {
            for t in TAGS {
                asm.jeq(t, To::Label(tag[level]), To::Next);
            }
        }
        asm.ret(0);
    }
    for level in 0..3 {
        let ip = 14 + 4 * level as u32;
        asm.bind(ip4[level]);
        asm.op(LDB_ABS, ip + 9);
        asm.jeq(112, To::Label(accept), To::Label(drop));
        asm.bind(ip6[level]);
        asm.op(LDB_ABS, ip + 6);
        asm.jeq(112, To::Label(accept), To::Next);
        for (i, nh) in V6_EXTENSIONS.iter().enumerate() {
            let miss = if i + 1 == V6_EXTENSIONS.len() {
                To::Label(drop)
            } else {
                To::Next
            };
            asm.jeq(*nh, To::Label(accept), miss);
        }
    }
    asm.bind(accept);
    asm.ret(ACCEPT);
    asm.bind(drop);
    asm.ret(0);
    asm.finish()
}

/// A two-pass assembler for forward jumps.
#[derive(Default)]
struct Asm {
    code: Vec<(u16, To, To, u32)>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    fn bind(&mut self, l: usize) {
        self.labels[l] = Some(self.code.len());
    }

    fn op(&mut self, code: u16, k: u32) {
        self.code.push((code, To::Next, To::Next, k));
    }

    fn ret(&mut self, k: u32) {
        self.op(RET_K, k);
    }

    fn jeq(&mut self, k: u32, t: To, f: To) {
        self.code.push((JEQ_K, t, f, k));
    }

    fn finish(self) -> Vec<Insn> {
        let offset = |at: usize, to: To| -> u8 {
            match to {
                To::Next => 0,
                To::Label(l) => {
                    // Every label is bound after its jumps, and the program
                    // is short: the offset fits (tested).
                    let target = self.labels[l].unwrap_or(at + 1);
                    u8::try_from(target.saturating_sub(at + 1)).unwrap_or(u8::MAX)
                }
            }
        };
        self.code
            .iter()
            .enumerate()
            .map(|(at, &(code, t, f, k))| Insn {
                code,
                jt: offset(at, t),
                jf: offset(at, f),
                k,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
