//! The records of a FreeBSD BPF read buffer (bpf(4), "BPF HEADER"): each
//! frame follows a `struct bpf_hdr`
//!
//! ```text
//! struct bpf_hdr {
//!     struct timeval bh_tstamp;  /* 16 bytes on 64-bit, 8 on i386 */
//!     uint32_t       bh_caplen;  /* bytes captured */
//!     uint32_t       bh_datalen; /* bytes on the wire */
//!     u_short        bh_hdrlen;  /* header length, padding included */
//! };
//! ```
//!
//! and the next record starts at `BPF_WORDALIGN(bh_hdrlen + bh_caplen)`,
//! a multiple of `sizeof(long)`. The layout differs per architecture, so
//! it is described by [`Layout`] and tested here for amd64 and i386 on any
//! host; the FreeBSD capture passes its own `size_of`s.

/// Where the fields are on one architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// `sizeof(time_t)`: 8, or 4 on i386.
    pub(crate) time_t: usize,
    /// `sizeof(long)`: `suseconds_t` and the record alignment.
    pub(crate) long: usize,
}

impl Layout {
    pub const AMD64: Layout = Layout { time_t: 8, long: 8 };
    pub const I386: Layout = Layout { time_t: 4, long: 4 };

    fn timeval(self) -> usize {
        // time_t then suseconds_t (a long), padded to the larger.
        let raw = self.time_t + self.long;
        raw.div_ceil(self.time_t.max(self.long)) * self.time_t.max(self.long)
    }

    /// The smallest `bh_hdrlen`: the fields without the padding.
    pub fn header_min(self) -> usize {
        self.timeval() + 4 + 4 + 2
    }

    fn align(self, n: usize) -> usize {
        n.div_ceil(self.long) * self.long
    }
}

/// One record: the capture time in seconds since the epoch and the bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record<'a> {
    pub time: f64,
    /// `bh_datalen`: the frame's length on the wire.
    pub(crate) wire_len: u32,
    pub data: &'a [u8],
}

/// The records of `buf` (native byte order). A record whose header or
/// data would run past the buffer ends the iteration and is reported by
/// [`Records::error`] (a kernel never writes one; it is checked anyway).
pub fn records(buf: &[u8], layout: Layout) -> Records<'_> {
    Records {
        buf,
        at: 0,
        layout,
        error: None,
    }
}

/// Iterator over the records of one read.
#[derive(Debug)]
pub struct Records<'a> {
    buf: &'a [u8],
    at: usize,
    layout: Layout,
    error: Option<String>,
}

impl Records<'_> {
    /// Why the iteration stopped early, if it did.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

fn ne(b: &[u8]) -> u64 {
    match *b {
        [a, b, c, d] => u64::from(u32::from_ne_bytes([a, b, c, d])),
        [a, b, c, d, e, f, g, h] => u64::from_ne_bytes([a, b, c, d, e, f, g, h]),
        _ => 0,
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        let l = self.layout;
        let rest = self.buf.get(self.at..)?;
        if rest.is_empty() || self.error.is_some() {
            return None;
        }
        let tv = l.timeval();
        let Some(h) = rest.get(..l.header_min()) else {
            self.error = Some(format!("a BPF header cut short: {} bytes left", rest.len()));
            return None;
        };
        let sec = ne(&h[..l.time_t]) as f64;
        let usec = ne(&h[l.time_t..l.time_t + l.long]) as f64;
        let caplen = ne(&h[tv..tv + 4]) as usize;
        let wire_len = ne(&h[tv + 4..tv + 8]) as u32;
        let hdrlen = usize::from(u16::from_ne_bytes([h[tv + 8], h[tv + 9]]));
        if hdrlen < l.header_min() {
            self.error = Some(format!(
                "a BPF header of {hdrlen} bytes, below {}",
                l.header_min()
            ));
            return None;
        }
        let Some(data) = rest.get(hdrlen..hdrlen + caplen) else {
            self.error = Some(format!(
                "a BPF record of {} bytes runs past the {} left",
                hdrlen + caplen,
                rest.len()
            ));
            return None;
        };
        self.at += l.align(hdrlen + caplen);
        Some(Record {
            time: sec + usec / 1e6,
            wire_len,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a buffer as the kernel would: header, frame, padding.
    fn buffer(l: Layout, frames: &[(u64, u64, &[u8])]) -> Vec<u8> {
        let mut b = Vec::new();
        let hdrlen = l.align(l.header_min());
        for (sec, usec, data) in frames {
            let start = b.len();
            let put = |b: &mut Vec<u8>, v: u64, n: usize| {
                if n == 8 {
                    b.extend(v.to_ne_bytes());
                } else {
                    b.extend((v as u32).to_ne_bytes());
                }
            };
            put(&mut b, *sec, l.time_t);
            put(&mut b, *usec, l.long);
            b.resize(start + l.timeval(), 0);
            b.extend((data.len() as u32).to_ne_bytes());
            b.extend((data.len() as u32 + 4).to_ne_bytes());
            b.extend((hdrlen as u16).to_ne_bytes());
            b.resize(start + hdrlen, 0);
            b.extend(*data);
            b.resize(start + l.align(hdrlen + data.len()), 0);
        }
        b
    }

    /// amd64: a 26-byte header padded to 32, records aligned to 8.
    /// i386: 18 bytes padded to 20, aligned to 4.
    #[test]
    fn layouts() {
        assert_eq!(Layout::AMD64.header_min(), 26);
        assert_eq!(Layout::AMD64.align(26), 32);
        assert_eq!(Layout::I386.header_min(), 18);
        assert_eq!(Layout::I386.align(18), 20);
        for l in [Layout::AMD64, Layout::I386] {
            let b = buffer(l, &[(100, 250_000, &[1, 2, 3]), (101, 0, &[9; 60])]);
            let got: Vec<Record<'_>> = records(&b, l).collect();
            assert_eq!(got.len(), 2, "{l:?}");
            assert_eq!(got[0].time, 100.25);
            assert_eq!(got[0].data, &[1, 2, 3]);
            assert_eq!(got[0].wire_len, 7);
            assert_eq!(got[1].time, 101.0);
            assert_eq!(got[1].data, &[9; 60]);
        }
    }

    /// This host's layout is the one carpctl_sys::bpf pins for FreeBSD.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn amd64_layout_is_the_sys_crates() {
        use carpctl_sys::bpf::{BPF_ALIGNMENT, bpf_hdr};
        use std::mem::offset_of;
        assert_eq!(
            Layout::AMD64.header_min(),
            offset_of!(bpf_hdr, bh_hdrlen) + 2
        );
        assert_eq!(Layout::AMD64.timeval(), offset_of!(bpf_hdr, bh_caplen));
        assert_eq!(Layout::AMD64.long, BPF_ALIGNMENT);
    }

    #[test]
    fn a_record_past_the_buffer_stops_with_a_reason() {
        let l = Layout::AMD64;
        let b = buffer(l, &[(1, 0, &[7; 10])]);
        let mut r = records(&b[..35], l);
        assert_eq!(r.next(), None);
        assert!(r.error().unwrap().contains("runs past"), "{:?}", r.error());
        let mut r = records(&b[..20], l);
        assert_eq!(r.next(), None);
        assert!(r.error().unwrap().contains("cut short"), "{:?}", r.error());
        let mut bad = b.clone();
        bad[24..26].copy_from_slice(&4u16.to_ne_bytes());
        let mut r = records(&bad, l);
        assert_eq!(r.next(), None);
        assert!(r.error().unwrap().contains("below"), "{:?}", r.error());
        assert_eq!(records(&[], l).count(), 0);
    }
}
