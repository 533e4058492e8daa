//! Reading a capture file, streamed: classic pcap (either byte order,
//! micro- or nanosecond timestamps) or pcapng (tshark's default), of link
//! type Ethernet, Linux cooked (SLL, SLL2: `tcpdump -i any`) or raw IP.
//!
//! The file is never loaded whole: pcap-file reads through an 8 MB buffer,
//! so a 1 GB capture takes as much memory as a small one. Records are read
//! unvalidated (`next_raw_packet`) and checked here, because pcap-file
//! refuses a record whose original length exceeds the snap length — every
//! frame of a `tcpdump -s 128` capture that was cut. A pcapng
//! timestamp is scaled by its interface's `if_tsresol` (pcap-file takes
//! every one as nanoseconds; the default is microseconds).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::{DataLink, TsResolution};

use super::super::decode::LinkType;
use super::{CaptureError, Frame, SNAPLEN, Source};

/// The most frames handed over per [`Source::poll`].
const BATCH: usize = 4096;
/// The largest capture read: 64 GiB, about ten minutes of reading. Larger
/// ones are cut with editcap(1) first (`editcap -c`).
pub(crate) const MAX_FILE_BYTES: u64 = 64 << 30;
/// The most interfaces a pcapng may describe (each is a label in the
/// report).
pub(crate) const MAX_INTERFACES: usize = 256;

/// A reader that fails once more than `left` bytes were read from it.
struct Capped<R> {
    inner: R,
    left: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // Only an error if there is more.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(format!(
                    "larger than {} bytes, the most scan reads: cut it with editcap -c",
                    self.cap
                ))),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

enum Reader {
    Pcap {
        r: PcapReader<BufReader<Box<dyn Read>>>,
        link: LinkType,
        nanos: bool,
    },
    Ng {
        r: PcapNgReader<BufReader<Box<dyn Read>>>,
        /// Per interface id.
        ifaces: Vec<NgIface>,
    },
}

/// A pcapng interface.
struct NgIface {
    /// `None`: a link type scan does not read.
    link: Option<LinkType>,
    /// Seconds per timestamp unit.
    unit: f64,
    /// Index into the labels.
    label: usize,
}

/// A capture file as a [`Source`].
pub struct PcapFile {
    name: String,
    reader: Reader,
    labels: Vec<String>,
    frames: u64,
}

fn link_of(d: DataLink) -> Option<LinkType> {
    LinkType::from_pcap(u32::from(d))
}

impl PcapFile {
    /// Opens `path` (`-`: standard input).
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let name = path.display().to_string();
        let input: Box<dyn Read> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin())
        } else {
            Box::new(File::open(path).map_err(|e| {
                CaptureError::Invalid(format!("cannot read capture {}: {e}", esc(&name)))
            })?)
        };
        Self::from_reader(input, name)
    }

    /// Reads a capture from `input`, called `name` in messages.
    pub fn from_reader(input: Box<dyn Read>, name: String) -> Result<Self, CaptureError> {
        Self::capped(input, name, MAX_FILE_BYTES)
    }

    /// [`PcapFile::from_reader`], reading at most `cap` bytes.
    pub(crate) fn capped(
        input: Box<dyn Read>,
        name: String,
        cap: u64,
    ) -> Result<Self, CaptureError> {
        let input: Box<dyn Read> = Box::new(Capped {
            inner: input,
            left: cap,
            cap,
        });
        let mut input = BufReader::new(input);
        let magic = match input.fill_buf() {
            Ok(b) => b.get(..4).map(|m| [m[0], m[1], m[2], m[3]]),
            Err(e) => {
                return Err(CaptureError::Io(format!(
                    "cannot read capture {}: {e}",
                    esc(&name)
                )));
            }
        };
        let bad = |e: &dyn std::fmt::Display| {
            CaptureError::Invalid(format!("{}: not a capture file: {e}", esc(&name)))
        };
        let reader = match magic {
            Some([0x0a, 0x0d, 0x0d, 0x0a]) => {
                let r = PcapNgReader::new(input).map_err(|e| bad(&why(e)))?;
                Reader::Ng {
                    r,
                    ifaces: Vec::new(),
                }
            }
            Some(_) => {
                let r = PcapReader::new(input).map_err(|e| bad(&why(e)))?;
                let h = r.header();
                let link = link_of(h.datalink).ok_or_else(|| {
                    CaptureError::Invalid(format!(
                        "{}: link type {:?} ({}): scan reads Ethernet, Linux cooked (SLL, \
                         SLL2) and raw IP captures",
                        esc(&name),
                        h.datalink,
                        u32::from(h.datalink)
                    ))
                })?;
                Reader::Pcap {
                    r,
                    link,
                    nanos: h.ts_resolution == TsResolution::NanoSecond,
                }
            }
            None => return Err(bad(&"shorter than a file header")),
        };
        // A classic pcap has no interface names; pcapng names its own.
        let labels = match reader {
            Reader::Pcap { .. } => vec!["pcap".to_string()],
            Reader::Ng { .. } => Vec::new(),
        };
        Ok(PcapFile {
            labels,
            name,
            reader,
            frames: 0,
        })
    }
}

/// The error of frame `n` of capture `name`.
fn frame_error(name: &str, n: u64, e: impl std::fmt::Display) -> CaptureError {
    CaptureError::Io(format!("{}: frame {}: {e}", esc(name), n + 1))
}

/// What a pcap-file error means: its I/O cause, which its own message
/// ("Error reading bytes") leaves out.
fn why(e: pcap_file::PcapError) -> String {
    match e {
        pcap_file::PcapError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends inside a record (cut short?)".to_string()
        }
        pcap_file::PcapError::IoError(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// The index of `label` in `labels`, added if new.
fn label_index(labels: &mut Vec<String>, label: String) -> usize {
    match labels.iter().position(|l| *l == label) {
        Some(i) => i,
        None => {
            labels.push(label);
            labels.len() - 1
        }
    }
}

fn esc(s: &str) -> String {
    crate::text::escape(s).to_string()
}

/// Seconds per timestamp unit of `if_tsresol` (pcapng §4.2): a power of
/// ten, or of two when the high bit is set; microseconds by default.
fn tsresol(v: Option<u8>) -> f64 {
    match v {
        None => 1e-6,
        Some(r) if r & 0x80 != 0 => 2f64.powi(-i32::from(r & 0x7f)),
        Some(r) => 10f64.powi(-i32::from(r)),
    }
}

impl Source for PcapFile {
    fn interfaces(&self) -> &[String] {
        &self.labels
    }

    fn poll(
        &mut self,
        _timeout: Duration,
        f: &mut dyn FnMut(Frame<'_>),
    ) -> Result<bool, CaptureError> {
        let PcapFile {
            name,
            reader,
            labels,
            frames,
        } = self;
        for _ in 0..BATCH {
            let more = match reader {
                Reader::Pcap { r, link, nanos } => {
                    let label = labels.first().map_or("pcap", String::as_str);
                    next_pcap(r, *link, *nanos, name, *frames, label, f)?
                }
                Reader::Ng { r, ifaces } => next_ng(r, ifaces, labels, name, *frames, f)?,
            };
            if !more {
                return Ok(false);
            }
            *frames += 1;
        }
        Ok(true)
    }
}

/// Hands the next record of a classic pcap to `f`; false at the end.
fn next_pcap(
    r: &mut PcapReader<BufReader<Box<dyn Read>>>,
    link: LinkType,
    nanos: bool,
    name: &str,
    n: u64,
    label: &str,
    f: &mut dyn FnMut(Frame<'_>),
) -> Result<bool, CaptureError> {
    let p = match r.next_raw_packet() {
        None => return Ok(false),
        Some(Err(e)) => return Err(frame_error(name, n, why(e))),
        Some(Ok(p)) => p,
    };
    // 262144 is libpcap's largest snap length.
    if p.incl_len as usize > SNAPLEN.max(262_144) || p.incl_len as usize != p.data.len() {
        let msg = format!("captured length {} is not valid", p.incl_len);
        return Err(frame_error(name, n, msg));
    }
    let frac = if nanos { 1e-9 } else { 1e-6 };
    f(Frame {
        time: f64::from(p.ts_sec) + f64::from(p.ts_frac) * frac,
        link,
        iface: label,
        data: &p.data,
        vlan: None,
    });
    Ok(true)
}

/// Reads pcapng blocks up to the next packet and hands it to `f`; false
/// at the end.
fn next_ng(
    r: &mut PcapNgReader<BufReader<Box<dyn Read>>>,
    ifaces: &mut Vec<NgIface>,
    labels: &mut Vec<String>,
    name: &str,
    n: u64,
    f: &mut dyn FnMut(Frame<'_>),
) -> Result<bool, CaptureError> {
    loop {
        let block = match r.next_block() {
            None => return Ok(false),
            Some(Err(e)) => return Err(frame_error(name, n, why(e))),
            Some(Ok(b)) => b,
        };
        match block {
            // A new section numbers its interfaces from 0 again.
            Block::SectionHeader(_) => ifaces.clear(),
            Block::InterfaceDescription(idb) => {
                let mut if_name = None;
                let mut res = None;
                for o in &idb.options {
                    match o {
                        InterfaceDescriptionOption::IfName(v) => if_name = Some(v.to_string()),
                        InterfaceDescriptionOption::IfTsResol(v) => res = Some(*v),
                        _ => {}
                    }
                }
                if ifaces.len() >= MAX_INTERFACES {
                    let msg = format!("more than {MAX_INTERFACES} interfaces described");
                    return Err(frame_error(name, n, msg));
                }
                let label = match if_name {
                    Some(v) if super::check_name(&v).is_ok() => v,
                    _ => format!("if{}", ifaces.len()),
                };
                ifaces.push(NgIface {
                    link: link_of(idb.linktype),
                    unit: tsresol(res),
                    label: label_index(labels, label),
                });
            }
            Block::EnhancedPacket(p) => {
                let id = p.interface_id as usize;
                let Some(i) = ifaces.get(id) else {
                    return Err(frame_error(
                        name,
                        n,
                        format!("interface {id} was never described"),
                    ));
                };
                // Another link type: skipped, like other traffic.
                if let Some(link) = i.link {
                    f(Frame {
                        // pcap-file reads the raw count as nanoseconds.
                        time: p.timestamp.as_nanos() as f64 * i.unit,
                        link,
                        iface: &labels[i.label],
                        data: &p.data,
                        vlan: None,
                    });
                }
                return Ok(true);
            }
            Block::SimplePacket(p) => {
                if let Some(NgIface {
                    link: Some(link),
                    label,
                    ..
                }) = ifaces.first()
                {
                    f(Frame {
                        time: 0.0,
                        link: *link,
                        iface: &labels[*label],
                        data: &p.data,
                        vlan: None,
                    });
                }
                return Ok(true);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
