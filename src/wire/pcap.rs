//! Capture files of the virtual segment: classic pcap (not pcapng),
//! link type 1 (Ethernet), microsecond timestamps, little-endian, snap
//! length 65535, which Wireshark, tshark and tcpdump all read.
//!
//! Global header (24 bytes, written little-endian): magic a1b2c3d4,
//! version 2.4, thiszone 0, sigfigs 0, snaplen 65535, linktype 1. Each
//! record: seconds, microseconds, captured length, original length (4
//! bytes each), then the frame.
//!
//! IP protocol 112 is decoded as VRRP by default; for CARP use
//! [`TSHARK_CARP_ARGS`]:
//!
//! ```text
//! tshark -r segment.pcap -d ip.proto==112,carp
//! ```

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};

use super::WireError;

/// tshark options that decode IP protocol 112 as CARP over IPv4 and IPv6
/// (the default is VRRP): `-d ip.proto==112,carp`. Wireshark's CARP
/// fields are `carp.vhid`, `carp.advskew`, `carp.adver_int` (advbase),
/// `carp.counter`, `carp.hmac` and `carp.checksum.status`.
pub const TSHARK_CARP_ARGS: [&str; 2] = ["-d", "ip.proto==112,carp"];

/// The snap length written in the header: no frame is cut.
pub(crate) const SNAPLEN: u32 = 65535;

/// Writes frames to a pcap stream.
#[derive(Debug)]
pub struct PcapSink<W: Write> {
    writer: PcapWriter<W>,
    name: String,
    frames: u64,
}

impl PcapSink<BufWriter<File>> {
    /// Creates (or truncates) `path` and writes the global header.
    pub fn create(path: &Path) -> Result<Self, WireError> {
        let name = path.display().to_string();
        // Never through a symbolic link: carpctl often runs as root.
        let file = crate::fsutil::create_output(path, 0o644)
            .map_err(|e| WireError::Io(format!("cannot create pcap file {name}: {e}")))?;
        PcapSink::with_name(BufWriter::new(file), format!("pcap file {name}"))
    }
}

impl<W: Write> PcapSink<W> {
    /// Writes the global header to `w`.
    pub fn new(w: W) -> Result<Self, WireError> {
        PcapSink::with_name(w, "pcap stream".into())
    }

    fn with_name(w: W, name: String) -> Result<Self, WireError> {
        let header = PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: SNAPLEN,
            datalink: DataLink::ETHERNET,
            ts_resolution: TsResolution::MicroSecond,
            endianness: Endianness::Little,
        };
        let writer = PcapWriter::with_header(w, header)
            .map_err(|e| WireError::Io(format!("{name}: the header: {}", write_error(&e))))?;
        Ok(PcapSink {
            writer,
            name,
            frames: 0,
        })
    }

    /// Appends `frame`, captured at `at` (time since the Unix epoch; the
    /// format holds whole seconds up to 2^32 - 1, i.e. year 2106).
    pub fn write(&mut self, at: Duration, frame: &[u8]) -> Result<(), WireError> {
        let n = self.frames + 1;
        let len = u32::try_from(frame.len())
            .ok()
            .filter(|&l| l <= SNAPLEN)
            .ok_or_else(|| {
                WireError::Io(format!(
                    "{}: frame {n}: {} bytes exceed the snap length {SNAPLEN}",
                    self.name,
                    frame.len()
                ))
            })?;
        if at.as_secs() > u64::from(u32::MAX) {
            return Err(WireError::Io(format!(
                "{}: frame {n}: time {}s is past what pcap can hold (2^32 - 1 s)",
                self.name,
                at.as_secs()
            )));
        }
        self.writer
            .write_packet(&PcapPacket::new(at, len, frame))
            .map_err(|e| WireError::Io(format!("{}: frame {n}: {}", self.name, write_error(&e))))?;
        self.frames = n;
        Ok(())
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W, WireError> {
        let mut w = self.writer.into_writer();
        w.flush()
            .map_err(|e| WireError::Io(format!("{}: cannot write: {e}", self.name)))?;
        Ok(w)
    }
}

/// What went wrong writing: pcap-file says only "Error reading bytes" for
/// any I/O error, even a write's; the error itself (ENOSPC, EIO, ...) is
/// its source.
fn write_error(e: &PcapError) -> String {
    match e {
        PcapError::IoError(io) => format!("cannot write: {io}"),
        other => other.to_string(),
    }
}

/// Reads every frame of a pcap stream with its timestamp. Refuses link
/// types other than Ethernet.
pub fn read_frames(r: impl Read) -> Result<Vec<(Duration, Vec<u8>)>, WireError> {
    let mut reader =
        PcapReader::new(r).map_err(|e| WireError::Io(format!("not a pcap file: {e}")))?;
    let datalink = reader.header().datalink;
    if datalink != DataLink::ETHERNET {
        return Err(WireError::Io(format!(
            "pcap link type {datalink:?}, want Ethernet (1)"
        )));
    }
    let mut frames = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet =
            packet.map_err(|e| WireError::Io(format!("pcap frame {}: {e}", frames.len() + 1)))?;
        frames.push((packet.timestamp, packet.data.into_owned()));
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The global header and one record, written out: a1b2c3d4 as
    /// d4 c3 b2 a1 (little-endian), 0200 0400, 00000000, 00000000,
    /// ffff0000 (65535), 01000000 (Ethernet); record: 03000000 (3 s),
    /// 20a10700 (500000 us), 02000000, 02000000, then the 2 bytes.
    #[test]
    fn file_bytes() {
        let mut sink = PcapSink::new(Vec::new()).unwrap();
        sink.write(Duration::from_millis(3500), &[0xab, 0xcd])
            .unwrap();
        assert_eq!(sink.frames(), 1);
        let bytes = sink.finish().unwrap();
        assert_eq!(
            hex::encode(&bytes),
            concat!(
                "d4c3b2a1", "02000400", "00000000", "00000000", "ffff0000", "01000000", "03000000",
                "20a10700", "02000000", "02000000", "abcd"
            )
        );
        let frames = read_frames(&bytes[..]).unwrap();
        assert_eq!(
            frames,
            vec![(Duration::from_millis(3500), vec![0xab, 0xcd])]
        );
    }

    #[test]
    fn bad_inputs() {
        let mut sink = PcapSink::new(Vec::new()).unwrap();
        let e = sink
            .write(Duration::ZERO, &vec![0; 65536])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "pcap stream: frame 1: 65536 bytes exceed the snap length 65535"
        );
        let e = sink
            .write(Duration::from_secs(1 << 32), &[0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("past what pcap can hold"), "{e}");
        assert_eq!(sink.frames(), 0);
        assert!(
            read_frames(&b"not a capture file at all"[..])
                .unwrap_err()
                .to_string()
                .starts_with("not a pcap file")
        );
        let e = PcapSink::create(Path::new("/nonexistent-dir/x.pcap"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("cannot create pcap file /nonexistent-dir/x.pcap: "),
            "{e}"
        );
    }

    /// carpctl runs as root: `--pcap` never writes through a link.
    #[test]
    fn a_capture_is_never_written_through_a_symbolic_link() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let link = dir.path().join("seed.pcap");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let e = PcapSink::create(&link).unwrap_err().to_string();
        assert!(
            e.starts_with("cannot create pcap file ") && e.contains("seed.pcap"),
            "{e}"
        );
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }

    /// A write that fails says so, with the OS error, not pcap-file's
    /// "Error reading bytes".
    #[test]
    fn write_errors_name_the_file_and_the_os_error() {
        #[derive(Debug)]
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::from_raw_os_error(libc::ENOSPC))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Err(std::io::Error::from_raw_os_error(libc::ENOSPC))
            }
        }
        let e = PcapSink::new(Full).unwrap_err().to_string();
        assert!(
            e.starts_with("pcap stream: the header: cannot write: "),
            "{e}"
        );
        assert!(e.contains("No space left on device"), "{e}");
        assert!(!e.contains("reading"), "{e}");
        if std::path::Path::new("/dev/full").exists() {
            let mut sink = PcapSink::create(Path::new("/dev/full")).unwrap();
            // The BufWriter holds the first frames; one of them or the
            // final flush reaches the device.
            let e = (0..10_000)
                .find_map(|i| sink.write(Duration::from_secs(i), &[0; 1500]).err())
                .unwrap_or_else(|| sink.finish().unwrap_err())
                .to_string();
            assert!(e.starts_with("pcap file /dev/full: "), "{e}");
            assert!(e.contains("cannot write: No space left on device"), "{e}");
        }
        // A truncated record is an error, not a panic.
        let mut sink = PcapSink::new(Vec::new()).unwrap();
        sink.write(Duration::ZERO, &[1, 2, 3, 4]).unwrap();
        let bytes = sink.finish().unwrap();
        assert!(read_frames(&bytes[..bytes.len() - 1]).is_err());
    }
}
