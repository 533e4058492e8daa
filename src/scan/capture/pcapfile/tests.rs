use std::io::Cursor;
use std::time::Duration;

use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;

use super::*;
use crate::scan::testutil::{carp, ip};
use crate::wire::PcapSink;

fn frames(src: &mut PcapFile) -> Vec<(f64, String, Vec<u8>)> {
    let mut out = Vec::new();
    while src
        .poll(Duration::ZERO, &mut |f| {
            out.push((f.time, f.iface.to_string(), f.data.to_vec()))
        })
        .unwrap()
    {}
    out
}

fn open(bytes: Vec<u8>) -> Result<PcapFile, CaptureError> {
    PcapFile::from_reader(Box::new(Cursor::new(bytes)), "t.pcap".into())
}

#[test]
fn classic_pcap_as_simulate_writes_it() {
    let f = carp(1, 1, 0, 1, b"k", &[], ip("10.0.0.1"));
    let mut sink = PcapSink::new(Vec::new()).unwrap();
    sink.write(Duration::from_millis(1500), &f).unwrap();
    sink.write(Duration::from_millis(2500), &f).unwrap();
    let mut src = open(sink.finish().unwrap()).unwrap();
    let got = frames(&mut src);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, 1.5);
    assert_eq!(got[1].0, 2.5);
    assert_eq!(got[0].1, "pcap");
    assert_eq!(got[0].2, f);
    assert_eq!(src.interfaces(), ["pcap"]);
}

/// A record cut by the snap length (orig_len > snaplen) is read, not
/// refused as pcap-file's own check would.
#[test]
fn records_cut_by_the_snap_length_are_read() {
    let mut b = Vec::new();
    // Header: little-endian, 2.4, snaplen 64, Ethernet.
    b.extend([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    b.extend([0u8; 8]);
    b.extend(64u32.to_le_bytes());
    b.extend(1u32.to_le_bytes());
    // One record: 10 s, 0 us, 64 of 1514 bytes.
    b.extend(10u32.to_le_bytes());
    b.extend(0u32.to_le_bytes());
    b.extend(64u32.to_le_bytes());
    b.extend(1514u32.to_le_bytes());
    b.extend([0xaau8; 64]);
    let got = frames(&mut open(b.clone()).unwrap());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].2.len(), 64);
    // A record that claims more bytes than the file has.
    let mut bad = b.clone();
    bad.truncate(bad.len() - 1);
    let mut src = open(bad).unwrap();
    let mut n = 0;
    let e = loop {
        match src.poll(Duration::ZERO, &mut |_| n += 1) {
            Ok(true) => continue,
            Ok(false) => panic!("a cut record must be an error"),
            Err(e) => break e,
        }
    };
    assert!(e.to_string().starts_with("t.pcap: frame 1: "), "{e}");
}

#[test]
fn pcapng_with_interface_names_and_resolution() {
    let f = carp(1, 1, 0, 1, b"k", &[], ip("10.0.0.1"));
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    let idb = InterfaceDescriptionBlock {
        linktype: pcap_file::DataLink::ETHERNET,
        snaplen: 0,
        options: vec![InterfaceDescriptionOption::IfName("em0".into())],
    };
    w.write_pcapng_block(idb).unwrap();
    let idb2 = InterfaceDescriptionBlock {
        linktype: pcap_file::DataLink::ETHERNET,
        snaplen: 0,
        options: vec![InterfaceDescriptionOption::IfTsResol(9)],
    };
    w.write_pcapng_block(idb2).unwrap();
    // Default resolution: microseconds. pcap-file stores the raw count
    // as "nanoseconds": 2_500_000 units = 2.5 s.
    let epb = EnhancedPacketBlock {
        interface_id: 0,
        timestamp: Duration::from_nanos(2_500_000),
        original_len: f.len() as u32,
        data: f.clone().into(),
        options: vec![],
    };
    w.write_pcapng_block(epb).unwrap();
    let epb = EnhancedPacketBlock {
        interface_id: 1,
        timestamp: Duration::from_nanos(3_000_000_000),
        original_len: f.len() as u32,
        data: f.clone().into(),
        options: vec![],
    };
    w.write_pcapng_block(epb).unwrap();
    let bytes = w.into_inner();
    let mut src = open(bytes).unwrap();
    let got = frames(&mut src);
    assert_eq!(got.len(), 2);
    assert!((got[0].0 - 2.5).abs() < 1e-9, "{}", got[0].0);
    assert_eq!(got[0].1, "em0");
    assert!((got[1].0 - 3.0).abs() < 1e-9, "{}", got[1].0);
    assert_eq!(got[1].1, "if1");
    assert_eq!(src.interfaces(), ["em0", "if1"]);
}

#[test]
fn not_a_capture() {
    for (bytes, want) in [
        (
            b"hello, world, this is text".to_vec(),
            "t.pcap: not a capture file: ",
        ),
        (
            vec![1, 2],
            "t.pcap: not a capture file: shorter than a file header",
        ),
    ] {
        let e = open(bytes).err().unwrap().to_string();
        assert!(e.starts_with(want), "{e}");
    }
    // A link type scan does not read.
    let mut b = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    b.extend([0u8; 8]);
    b.extend(65535u32.to_le_bytes());
    b.extend(105u32.to_le_bytes()); // 802.11
    let e = open(b).err().unwrap().to_string();
    assert!(e.contains("link type"), "{e}");
    let e = PcapFile::open(Path::new("/nonexistent/x.pcap"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with("cannot read capture /nonexistent/x.pcap: "),
        "{e}"
    );
    assert_eq!(tsresol(None), 1e-6);
    assert_eq!(tsresol(Some(9)), 1e-9);
    assert_eq!(tsresol(Some(0x80 | 10)), 1.0 / 1024.0);
}

/// A capture larger than the cap is an error naming the cap, at the frame
/// where it was passed; one exactly at the cap is read whole.
#[test]
fn a_file_over_the_size_cap_is_refused() {
    let f = carp(1, 1, 0, 1, b"k", &[], ip("10.0.0.1"));
    let mut sink = PcapSink::new(Vec::new()).unwrap();
    for i in 0..50 {
        sink.write(Duration::from_secs(i), &f).unwrap();
    }
    let bytes = sink.finish().unwrap();
    let len = bytes.len() as u64;
    let mut src =
        PcapFile::capped(Box::new(Cursor::new(bytes.clone())), "t.pcap".into(), len).unwrap();
    assert_eq!(frames(&mut src).len(), 50);
    let mut src = PcapFile::capped(Box::new(Cursor::new(bytes)), "t.pcap".into(), len / 2).unwrap();
    let mut n = 0;
    let e = loop {
        match src.poll(Duration::ZERO, &mut |_| n += 1) {
            Ok(true) => {}
            Ok(false) => panic!("read to the end past the cap"),
            Err(e) => break e,
        }
    };
    assert!(n < 50, "{n}");
    assert!(
        e.to_string()
            .contains(&format!("larger than {} bytes", len / 2)),
        "{e}"
    );
}

/// A pcapng that describes more interfaces than scan labels: an error.
#[test]
fn a_pcapng_with_too_many_interfaces_is_refused() {
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    for _ in 0..=MAX_INTERFACES {
        w.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: pcap_file::DataLink::ETHERNET,
            snaplen: 0,
            options: vec![],
        })
        .unwrap();
    }
    let mut src = open(w.into_inner()).unwrap();
    let e = src.poll(Duration::ZERO, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("more than 256 interfaces"), "{e}");
}
