//! Tests of [`EmulatedHost`] as a whole: the files (creation, round trip,
//! untouched by read-only and failed calls, corrupt input), fault injection,
//! and the byte level through [`Syscalls`].

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use super::*;

pub(super) fn spec(flavor: Flavor) -> HostSpec {
    HostSpec {
        flavor,
        interfaces: vec![IfaceSpec {
            name: "em0".into(),
            addresses: vec![
                "192.0.2.10/24".parse().unwrap(),
                "2001:db8::10/64".parse().unwrap(),
            ],
        }],
        carp_loaded: true,
        privileged: true,
    }
}

pub(super) struct Tmp {
    _dir: tempfile::TempDir,
    pub(super) path: PathBuf,
}

pub(super) fn new_host(spec: &HostSpec) -> Tmp {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.json");
    EmulatedHost::create(&path, spec).unwrap();
    Tmp { _dir: dir, path }
}

/// The file's bytes and inode: a rewrite (temp file + rename) changes the
/// inode even when the bytes come out the same.
fn snapshot(path: &Path) -> (Vec<u8>, u64) {
    (fs::read(path).unwrap(), fs::metadata(path).unwrap().ino())
}

fn int(v: Result<SysctlValue, Errno>) -> i32 {
    match v {
        Ok(SysctlValue::Int(i)) => i,
        other => panic!("not an int: {other:?}"),
    }
}

#[test]
fn flavor_parses_and_serializes_as_on_the_command_line() {
    for (s, f) in [
        ("13.0", Flavor::V13_0),
        ("13", Flavor::V13),
        ("14", Flavor::V14),
        ("15", Flavor::V15),
        ("main", Flavor::Main),
    ] {
        assert_eq!(s.parse::<Flavor>(), Ok(f));
        assert_eq!(f.label(), s);
        assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{s}\""));
    }
    let err = "12".parse::<Flavor>().unwrap_err();
    assert!(err.contains("use 13.0, 13, 14, 15 or main"), "{err}");
}

#[test]
fn create_writes_a_private_deterministic_file_and_refuses_an_existing_one() {
    let a = new_host(&spec(Flavor::V14));
    let b = new_host(&spec(Flavor::V14));
    assert_eq!(
        fs::metadata(&a.path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        fs::read(&a.path).unwrap(),
        fs::read(&b.path).unwrap(),
        "same spec, same bytes"
    );
    let text = fs::read_to_string(&a.path).unwrap();
    assert!(
        text.starts_with("{\n  \"format\": 1,\n  \"flavor\": \"14\","),
        "{text}"
    );
    assert!(text.ends_with("}\n"));

    let before = snapshot(&a.path);
    let err = EmulatedHost::create(&a.path, &spec(Flavor::V13))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&a.path.display().to_string()) && err.contains("exists; remove it first"),
        "{err}"
    );
    assert_eq!(snapshot(&a.path), before);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    let mut bad = spec(Flavor::V14);
    bad.interfaces[0].name = "an-interface-name-too-long".into();
    let err = EmulatedHost::create(&path, &bad).unwrap_err().to_string();
    assert!(
        err.contains("invalid host") && err.contains("not valid"),
        "{err}"
    );
    assert!(!path.exists());
}

#[test]
fn changes_persist_across_opens() {
    let t = new_host(&spec(Flavor::V15));
    let mut h = EmulatedHost::open(&t.path).unwrap();
    assert_eq!(h.path(), t.path.as_path());
    h.sysctl_set_int("net.inet.carp.preempt", 1).unwrap();
    h.sysctl_set_int("net.inet.carp.demotion", 25).unwrap();
    // Another "process".
    let mut other = EmulatedHost::open(&t.path).unwrap();
    assert_eq!(int(other.sysctl_get("net.inet.carp.preempt")), 1);
    assert_eq!(int(other.sysctl_get("net.inet.carp.demotion")), 25);
    other.sysctl_set_int("net.inet.carp.demotion", -5).unwrap();
    // The first handle sees the second one's change: every call rereads.
    assert_eq!(int(h.sysctl_get("net.inet.carp.demotion")), 20);
    assert_eq!(
        fs::metadata(&t.path).unwrap().permissions().mode() & 0o777,
        0o600,
        "still private after a rewrite"
    );
}

#[test]
fn read_only_and_failed_calls_leave_the_file_untouched() {
    let t = new_host(&spec(Flavor::V14));
    let mut h = EmulatedHost::open(&t.path).unwrap();
    let before = snapshot(&t.path);
    int(h.sysctl_get("net.inet.carp.allow"));
    assert_eq!(
        h.sysctl_get("kern.osrelease"),
        Ok(SysctlValue::String("14.1-RELEASE".into()))
    );
    assert_eq!(h.modfind("carp"), Ok(true));
    assert_eq!(
        h.sysctl_set_int("net.inet.carp.dscp", 64),
        Err(Errno::EINVAL)
    );
    assert_eq!(h.sysctl_set_int("kern.osreldate", 1), Err(Errno::EPERM));
    assert_eq!(h.kldload("carp"), Err(Errno::EEXIST));
    // Writing the value a knob already has changes nothing either.
    h.sysctl_set_int("net.inet.carp.allow", 1).unwrap();
    h.sysctl_set_int("net.inet.carp.demotion", 0).unwrap();
    assert_eq!(snapshot(&t.path), before);
    h.sysctl_set_int("net.inet.carp.log", 0).unwrap();
    assert_ne!(snapshot(&t.path).0, before.0);
}

#[test]
fn netlink_recv_with_nothing_queued_is_eagain() {
    let t = new_host(&spec(Flavor::V14));
    let mut h = EmulatedHost::open(&t.path).unwrap();
    assert_eq!(h.netlink_recv(), Err(Errno(carpctl_sys::errno::EAGAIN)));
}

#[test]
fn fault_injection_fails_the_nth_mutating_call_and_changes_nothing() {
    let t = new_host(&spec(Flavor::V14));
    let mut h = EmulatedHost::open(&t.path).unwrap();
    EmulatedHost::inject_failure(&t.path, 2, Errno::ENOMEM).unwrap();
    let side = persist::inject_path(&t.path);
    assert!(side.exists());
    // Read-only calls do not count.
    int(h.sysctl_get("net.inet.carp.preempt"));
    assert_eq!(h.modfind("carp"), Ok(true));
    // 1st mutating call: goes through (a failing one counts too).
    h.sysctl_set_int("net.inet.carp.preempt", 1).unwrap();
    let before = snapshot(&t.path);
    // 2nd: fails with the armed errno, even though it would succeed.
    assert_eq!(h.sysctl_set_int("net.inet.carp.log", 0), Err(Errno::ENOMEM));
    assert_eq!(snapshot(&t.path), before, "nothing changed");
    assert!(!side.exists(), "the sidecar is gone once it fired");
    // 3rd: back to normal.
    h.sysctl_set_int("net.inet.carp.log", 0).unwrap();
    assert_eq!(int(h.sysctl_get("net.inet.carp.log")), 0);
    assert_eq!(int(h.sysctl_get("net.inet.carp.preempt")), 1);

    // kldload counts and fails too.
    let mut s = spec(Flavor::V13);
    s.carp_loaded = false;
    let t = new_host(&s);
    let mut h = EmulatedHost::open(&t.path).unwrap();
    EmulatedHost::inject_failure(&t.path, 1, Errno::EIO).unwrap();
    assert_eq!(h.kldload("carp"), Err(Errno::EIO));
    assert_eq!(h.modfind("carp"), Ok(false));
    h.kldload("carp").unwrap();
    assert_eq!(h.modfind("carp"), Ok(true));
}

#[test]
fn failing_calls_count_against_the_injection() {
    let t = new_host(&spec(Flavor::V14));
    let mut h = EmulatedHost::open(&t.path).unwrap();
    EmulatedHost::inject_failure(&t.path, 2, Errno::EBUSY).unwrap();
    assert_eq!(
        h.sysctl_set_int("net.inet.carp.dscp", 99),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        h.sysctl_set_int("net.inet.carp.dscp", 10),
        Err(Errno::EBUSY)
    );
    assert_eq!(int(h.sysctl_get("net.inet.carp.dscp")), 56);
}

#[test]
fn inject_failure_refuses_bad_arguments() {
    let t = new_host(&spec(Flavor::V14));
    let err = EmulatedHost::inject_failure(&t.path, 0, Errno::EIO)
        .unwrap_err()
        .to_string();
    assert!(err.contains("counted from 1"), "{err}");
    let err = EmulatedHost::inject_failure(&t.path, 1, Errno(0))
        .unwrap_err()
        .to_string();
    assert!(err.contains("errno 0"), "{err}");
    let missing = t.path.with_file_name("missing.json");
    let err = EmulatedHost::inject_failure(&missing, 1, Errno::EIO)
        .unwrap_err()
        .to_string();
    assert!(err.contains("create it first"), "{err}");
    assert!(!persist::inject_path(&missing).exists());
}

#[test]
fn a_corrupt_sidecar_is_an_error_at_open_and_eio_in_a_call() {
    let t = new_host(&spec(Flavor::V14));
    let mut h = EmulatedHost::open(&t.path).unwrap();
    let side = persist::inject_path(&t.path);
    fs::write(&side, "{\"remaining\": \"two\"}").unwrap();
    let err = EmulatedHost::open(&t.path)
        .err()
        .expect("open must fail")
        .to_string();
    assert!(
        err.contains(".inject") && err.contains("does not parse") && err.contains("line 1"),
        "{err}"
    );
    let before = snapshot(&t.path);
    assert_eq!(h.sysctl_set_int("net.inet.carp.log", 0), Err(Errno::EIO));
    assert_eq!(snapshot(&t.path), before);
    fs::write(&side, "{\"remaining\": 0, \"errno\": 5}").unwrap();
    let err = EmulatedHost::open(&t.path)
        .err()
        .expect("open must fail")
        .to_string();
    assert!(err.contains("remaining 0"), "{err}");
}

#[test]
fn a_corrupt_state_file_is_an_error_naming_the_path_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.json");
    fs::write(&path, "{\n  \"format\": 1,\n  \"flavor\": \"12\"\n}\n").unwrap();
    let err = EmulatedHost::open(&path)
        .err()
        .expect("open must fail")
        .to_string();
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(
        err.contains("does not parse") && err.contains("line 3"),
        "{err}"
    );

    fs::write(&path, "not json").unwrap();
    let err = EmulatedHost::open(&path)
        .err()
        .expect("open must fail")
        .to_string();
    assert!(err.contains("line 1 column 2"), "{err}");

    let missing = dir.path().join("missing.json");
    let err = EmulatedHost::open(&missing)
        .err()
        .expect("open must fail")
        .to_string();
    assert!(err.contains("cannot read the state file"), "{err}");

    // Well-formed JSON that contradicts itself.
    let t = new_host(&spec(Flavor::V14));
    let text = fs::read_to_string(&t.path)
        .unwrap()
        .replace("\"vhid\": 0", "\"vhid\": 9");
    fs::write(&t.path, text).unwrap();
    let err = EmulatedHost::open(&t.path)
        .err()
        .expect("open must fail")
        .to_string();
    assert!(
        err.contains("inconsistent") && err.contains("vhid 9, which does not exist"),
        "{err}"
    );
}

#[test]
fn a_state_file_that_breaks_between_calls_gives_eio() {
    let t = new_host(&spec(Flavor::V14));
    let mut h = EmulatedHost::open(&t.path).unwrap();
    fs::write(&t.path, "garbage").unwrap();
    assert_eq!(h.sysctl_get("net.inet.carp.allow"), Err(Errno::EIO));
    assert_eq!(fs::read(&t.path).unwrap(), b"garbage");
}

#[test]
fn the_key_is_stored_as_hex_and_never_in_debug_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.json");
    let mut st = HostState::new(&spec(Flavor::V14)).unwrap();
    let mut sc = state::Softc::new(1, 2);
    sc.key.0[..6].copy_from_slice(b"hunter");
    st.interfaces[1].vhids.push(sc);
    persist::create(&path, &st).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("\"key\": \"68756e7465720000000000000000000000000000\""),
        "{text}"
    );
    let back = persist::load(&path).unwrap();
    assert_eq!(back, st);
    let dbg = format!("{back:?}");
    assert!(
        !dbg.contains("hunter") && !dbg.contains("68756e746572"),
        "{dbg}"
    );
}

// ---------------------------------------------------------------------------
// The byte level. Expected bytes are written out by hand from the layouts in
// docs/freebsd-carp.md §3 (little-endian amd64); `{pid}` is the socket's port id.
// ---------------------------------------------------------------------------

use carpctl_sys as sys;

use crate::kernel::freebsd::netlink::{Reply, decode_replies};

/// Hex with blanks for readability.
pub(super) fn hx(parts: &[&str]) -> Vec<u8> {
    let text: String = parts.concat().split_whitespace().collect();
    hex::decode(text).unwrap()
}

/// The port id as it appears in a reply header.
pub(super) fn pid() -> String {
    hex::encode(std::process::id().to_le_bytes())
}

/// `struct ifreq` for SIOCSVH/SIOCGVH on em0: "em0" (65 6d 30) NUL-padded
/// to 16, then the 16-byte union (ifr_data is stored by the sys layer).
pub(super) fn carp_ifreq_em0() -> Vec<u8> {
    hx(&[
        "656d3000 00000000 00000000 00000000",
        "00000000 00000000 00000000 00000000",
    ])
}

/// A 40-byte carpreq: count @0, vhid @4, state @8, advskew @12, advbase @16,
/// key @20 (20 bytes).
pub(super) fn carpreq_bytes(
    count: u8,
    vhid: u8,
    state: u8,
    advskew: u8,
    advbase: u8,
    key: &str,
) -> Vec<u8> {
    let mut v = hx(&[&format!(
        "{count:02x}000000 {vhid:02x}000000 {state:02x}000000 {advskew:02x}000000 {advbase:02x}000000"
    )]);
    let mut k = key.as_bytes().to_vec();
    k.resize(20, 0);
    v.extend(k);
    v
}

pub(super) fn open_host(flavor: Flavor) -> (Tmp, EmulatedHost) {
    let t = new_host(&spec(flavor));
    let h = EmulatedHost::open(&t.path).unwrap();
    (t, h)
}

fn siocsvh(
    h: &mut EmulatedHost,
    vhid: u8,
    advskew: u8,
    advbase: u8,
    key: &str,
) -> Result<(), Errno> {
    let mut data = carpreq_bytes(0, vhid, 0, advskew, advbase, key);
    h.ioctl(sys::SIOCSVH, &mut carp_ifreq_em0(), Some(&mut data))
}

#[test]
fn siocsvh_and_siocgvh_through_the_bytes() {
    for f in [Flavor::V13, Flavor::V14, Flavor::V15] {
        let (_t, mut h) = open_host(f);
        siocsvh(&mut h, 1, 100, 2, "pw").unwrap();
        let mut get = carpreq_bytes(1, 1, 0, 0, 0, "");
        h.ioctl(sys::SIOCGVH, &mut carp_ifreq_em0(), Some(&mut get))
            .unwrap();
        // count 1, vhid 1, INIT, advskew 0x64, advbase 2, key "pw" (70 77).
        let want = hx(&[
            "01000000 01000000 00000000 64000000 02000000",
            "70770000 00000000 00000000 00000000 00000000",
        ]);
        assert_eq!(get, want, "{f:?}");
    }
}

#[test]
fn ioctl_buffers_that_cannot_be_copied_are_efault() {
    let (t, mut h) = open_host(Flavor::V14);
    let before = snapshot(&t.path);
    // No ifr_data buffer, or one shorter than a carpreq.
    assert_eq!(
        h.ioctl(sys::SIOCSVH, &mut carp_ifreq_em0(), None),
        Err(Errno::EFAULT)
    );
    let mut short = vec![0u8; 39];
    assert_eq!(
        h.ioctl(sys::SIOCGVH, &mut carp_ifreq_em0(), Some(&mut short)),
        Err(Errno::EFAULT)
    );
    // An argument shorter than IOCPARM_LEN(SIOCSVH) = 32.
    let mut data = carpreq_bytes(1, 1, 0, 0, 0, "");
    assert_eq!(
        h.ioctl(sys::SIOCSVH, &mut [0u8; 31], Some(&mut data)),
        Err(Errno::EFAULT)
    );
    // A name without a NUL in 16 bytes names no interface.
    let mut arg = vec![b'x'; 32];
    assert_eq!(
        h.ioctl(sys::SIOCSVH, &mut arg, Some(&mut data)),
        Err(Errno::ENXIO)
    );
    assert_eq!(snapshot(&t.path), before);
}

#[test]
fn ioctl_by_flavor_and_module() {
    let (_t, mut h) = open_host(Flavor::Main);
    let mut data = carpreq_bytes(1, 1, 0, 0, 0, "");
    assert_eq!(
        h.ioctl(sys::SIOCSVH, &mut carp_ifreq_em0(), Some(&mut data)),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        h.ioctl(sys::SIOCGVH, &mut carp_ifreq_em0(), None),
        Err(Errno::EINVAL)
    );
    let mut s = spec(Flavor::V13);
    s.carp_loaded = false;
    let t = new_host(&s);
    let mut h = EmulatedHost::open(&t.path).unwrap();
    assert_eq!(
        h.ioctl(sys::SIOCSVH, &mut carp_ifreq_em0(), None),
        Err(Errno::EPROTONOSUPPORT)
    );
    // An unknown request on an interface: the driver's EINVAL.
    assert_eq!(
        h.ioctl(0xc020_6900, &mut carp_ifreq_em0(), None),
        Err(Errno::EINVAL)
    );
}

#[test]
fn siocgvh_vhid_zero_on_14_returns_the_last_vhid_then_stack_garbage() {
    for f in [Flavor::V14, Flavor::V15] {
        let (_t, mut h) = open_host(f);
        siocsvh(&mut h, 1, 10, 0, "").unwrap();
        siocsvh(&mut h, 2, 20, 0, "").unwrap();
        // Room for 4; element 0 says so.
        let mut buf = carpreq_bytes(4, 0, 0, 0, 0, "");
        buf.resize(160, 0);
        h.ioctl(sys::SIOCGVH, &mut carp_ifreq_em0(), Some(&mut buf))
            .unwrap();
        let mut want = hx(&[
            // Entry 0: the *last* vhid (2, advskew 0x14, advbase 1), count 2.
            "02000000 02000000 00000000 14000000 01000000",
            "00000000 00000000 00000000 00000000 00000000",
        ]);
        want.extend([0xa5; 40]); // entry 1: kernel stack
        want.extend([0u8; 80]); // entries 2-3: not copied out
        assert_eq!(buf, want, "{f:?}");
    }
}

#[test]
fn siocgvh_vhid_zero_on_13_returns_every_vhid() {
    let (_t, mut h) = open_host(Flavor::V13);
    siocsvh(&mut h, 1, 10, 0, "").unwrap();
    siocsvh(&mut h, 2, 20, 0, "").unwrap();
    let mut buf = carpreq_bytes(4, 0, 0, 0, 0, "");
    buf.resize(160, 0);
    h.ioctl(sys::SIOCGVH, &mut carp_ifreq_em0(), Some(&mut buf))
        .unwrap();
    let mut want = hx(&[
        "02000000 01000000 00000000 0a000000 01000000",
        "00000000 00000000 00000000 00000000 00000000",
        "02000000 02000000 00000000 14000000 01000000",
        "00000000 00000000 00000000 00000000 00000000",
    ]);
    want.extend([0u8; 80]);
    assert_eq!(buf, want);
    // A buffer that holds fewer entries than element 0 claims: the ones
    // that fit are written, then EFAULT.
    let mut one = carpreq_bytes(4, 0, 0, 0, 0, "");
    assert_eq!(
        h.ioctl(sys::SIOCGVH, &mut carp_ifreq_em0(), Some(&mut one)),
        Err(Errno::EFAULT)
    );
    assert_eq!(&one[4..8], &[1, 0, 0, 0]);
}

fn find<'a>(entries: &'a [RawIfaddr], name: &str, addr: &[u8]) -> &'a RawIfaddr {
    entries
        .iter()
        .find(|e| e.name == name && e.addr.as_deref() == Some(addr))
        .unwrap_or_else(|| panic!("no {name} entry with {}", hex::encode(addr)))
}

#[test]
fn address_requests_and_getifaddrs_through_the_bytes() {
    let (_t, mut h) = open_host(Flavor::V14);
    siocsvh(&mut h, 1, 0, 0, "").unwrap();
    // struct in_aliasreq: name @0; ifra_addr @16 = sin_len 0x10, AF_INET 2,
    // port 0, 192.0.2.1; ifra_broadaddr @32 zero; ifra_mask @48 =
    // 255.255.255.255; ifra_vhid @64 = 1.
    let mut req = hx(&[
        "656d3000 00000000 00000000 00000000",
        "10020000 c0000201 00000000 00000000",
        "00000000 00000000 00000000 00000000",
        "10020000 ffffffff 00000000 00000000",
        "01000000",
    ]);
    h.ioctl(sys::SIOCAIFADDR, &mut req, None).unwrap();
    let sin_192_0_2_1 = hx(&["10020000 c0000201 00000000 00000000"]);
    let entries = h.getifaddrs().unwrap();
    let e = find(&entries, "em0", &sin_192_0_2_1);
    assert_eq!(
        e.netmask.as_deref(),
        Some(&hx(&["10020000 ffffffff 00000000 00000000"])[..])
    );
    // if_data of an address entry: zeroed but for ifi_vhid 1 @5
    // (sysctl_iflist_ifaml), so ifi_type and ifi_link_state are 0.
    assert_eq!(e.data.as_deref(), Some(&[0, 0, 0, 0, 0, 0x01][..]));
    // UP 0x1 | BROADCAST 0x2 | RUNNING 0x40 | PROMISC 0x100 | MULTICAST 0x8000.
    assert_eq!(e.flags, 0x8143);

    // SIOCDIFADDR with an all-zero ifru_addr: "delete any" takes the first
    // IPv4 address, 192.0.2.10.
    let mut any = carp_ifreq_em0();
    h.ioctl(sys::SIOCDIFADDR, &mut any, None).unwrap();
    let sin_192_0_2_10 = hx(&["10020000 c000020a 00000000 00000000"]);
    let entries = h.getifaddrs().unwrap();
    assert!(
        !entries
            .iter()
            .any(|e| e.addr.as_deref() == Some(&sin_192_0_2_10[..]))
    );
    // struct ifreq with ifru_addr = 192.0.2.1: the last address of vhid 1.
    let mut del = hx(&[
        "656d3000 00000000 00000000 00000000",
        "10020000 c0000201 00000000 00000000",
    ]);
    h.ioctl(sys::SIOCDIFADDR, &mut del, None).unwrap();
    assert_eq!(
        h.ioctl(sys::SIOCDIFADDR, &mut del, None),
        Err(Errno::EADDRNOTAVAIL)
    );
    let mut get = carpreq_bytes(1, 1, 0, 0, 0, "");
    assert_eq!(
        h.ioctl(sys::SIOCGVH, &mut carp_ifreq_em0(), Some(&mut get)),
        Err(Errno::ENOENT)
    );
    let entries = h.getifaddrs().unwrap();
    assert!(
        entries
            .iter()
            .filter(|e| e.name == "em0")
            .all(|e| e.flags == 0x8043),
        "promisc gone"
    );

    // IPv6, with the backend's encoders for the requests.
    siocsvh(&mut h, 2, 0, 0, "").unwrap();
    let net6: ipnet::Ipv6Net = "2001:db8::2/64".parse().unwrap();
    let mut req6 = crate::kernel::freebsd::ioctl::in6_aliasreq("em0", net6, 2).unwrap();
    h.ioctl(sys::SIOCAIFADDR_IN6, &mut req6, None).unwrap();
    // sockaddr_in6: len 0x1c, AF_INET6 0x1c, port, flowinfo, addr, scope.
    let sin6 = hx(&["1c1c0000 00000000 20010db8 00000000 00000000 00000002 00000000"]);
    let entries = h.getifaddrs().unwrap();
    let e = find(&entries, "em0", &sin6);
    assert_eq!(e.data.as_deref(), Some(&[0, 0, 0, 0, 0, 0x02][..]));
    let mut del6 = crate::kernel::freebsd::ioctl::in6_ifreq_addr("em0", net6.addr()).unwrap();
    h.ioctl(sys::SIOCDIFADDR_IN6, &mut del6, None).unwrap();
    assert_eq!(
        h.ioctl(sys::SIOCDIFADDR_IN6, &mut del6, None),
        Err(Errno::EADDRNOTAVAIL)
    );
}

#[test]
fn getifaddrs_lists_link_entries_then_addresses() {
    let (_t, mut h) = open_host(Flavor::V13);
    let entries = h.getifaddrs().unwrap();
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["lo0", "lo0", "lo0", "em0", "em0", "em0"]);
    // em0's AF_LINK entry: sockaddr_dl sdl_len 0x38 (56), AF_LINK 0x12,
    // sdl_index 2, IFT_ETHER 6, sdl_nlen 3, alen 0, slen 0, "em0", zeros.
    let mut sdl = hx(&["38120200 06030000 656d30"]);
    sdl.resize(56, 0);
    let link = &entries[3];
    assert_eq!(link.addr.as_deref(), Some(&sdl[..]));
    assert_eq!(
        (link.netmask.as_deref(), link.data.as_deref()),
        (None, Some(&[6, 0, 0, 0, 2, 0][..]))
    );
    assert_eq!(link.flags, 0x8043);
    // lo0: IFT_LOOP 0x18, link state unknown; UP|LOOPBACK|RUNNING|MULTICAST.
    assert_eq!(entries[0].data.as_deref(), Some(&[0x18, 0, 0, 0, 0, 0][..]));
    assert_eq!(entries[0].flags, 0x8049);
    // ::1/128: the netmask is a full sockaddr_in6 of ffff...ffff.
    let mask = hx(&["1c1c0000 00000000 ffffffff ffffffff ffffffff ffffffff 00000000"]);
    assert_eq!(entries[2].netmask.as_deref(), Some(&mask[..]));
    // And the backend's decoder reads it back.
    let ifs = crate::kernel::freebsd::ifaddrs::decode(&entries).unwrap();
    let nets: Vec<String> = ifs
        .iter()
        .flat_map(|i| i.addresses.iter().map(|a| a.net.to_string()))
        .collect();
    assert_eq!(
        nets,
        ["127.0.0.1/8", "::1/128", "192.0.2.10/24", "2001:db8::10/64"]
    );
    assert_eq!(ifs[1].link_up, Some(true));
}

pub(super) fn nl_call(h: &mut EmulatedHost, req: &[u8]) -> Vec<u8> {
    h.netlink_send(req).unwrap();
    let dgram = h.netlink_recv().unwrap();
    assert_eq!(
        h.netlink_recv(),
        Err(Errno(sys::errno::EAGAIN)),
        "one datagram per request"
    );
    dgram
}

/// The id carp.ko's family gets on a fresh host: nlctrl has 16, carp the
/// lowest free one after it (`find_empty_family_id`).
pub(super) const CARP_ID: u16 = 0x11;

/// CTRL_CMD_GETFAMILY "carp": nlmsghdr (len 0x20, GENL_ID_CTRL 0x10,
/// NLM_F_REQUEST | NLM_F_ACK as snl sends it, seq 7, pid 0), genlmsghdr
/// (cmd 3, version 1), CTRL_ATTR_FAMILY_NAME (2) "carp\0" (len 9, padded to
/// 12).
const GETFAMILY: &str = "20000000 1000 0500 07000000 00000000 03010000 09000200 63617270 00000000";

/// The family reply, then the ack its NLM_F_ACK asks for (item 7: the
/// reply carries CTRL_ATTR_OPS, and SET's op flags are 0x0b).
#[test]
fn getfamily_carp_by_flavor() {
    for f in [Flavor::V14, Flavor::V15, Flavor::Main] {
        let (_t, mut h) = open_host(f);
        let got = nl_call(&mut h, &hx(&[GETFAMILY]));
        let want = hx(&[
            // len 0x6c, GENL_ID_CTRL, the request's flags, seq 7, our port.
            &format!("6c000000 1000 0500 07000000 {}", pid()),
            "01020000",                   // CTRL_CMD_NEWFAMILY, version 2 (the family's)
            "09000200 63617270 00000000", // FAMILY_NAME "carp"
            "06000100 1100 0000",         // FAMILY_ID 0x11
            "08000300 02000000",          // VERSION 2
            "08000400 00000000",          // HDRSIZE 0
            "08000500 02000000",          // MAXATTR = CARP_NL_CMD_MAX 2
            "2c000600",                   // OPS, 4 + 2 x 20
            // #1: OP_ID 1 (GET), OP_FLAGS DO|DUMP|HASPOL 0x0e
            "14000100 08000100 01000000 08000200 0e000000",
            // #2: OP_ID 2 (SET), OP_FLAGS DO|HASPOL|GENL_ADMIN_PERM 0x0b
            "14000200 08000100 02000000 08000200 0b000000",
            // The ack: NLMSG_ERROR, NLM_F_CAPPED, code 0, the request's header.
            &format!("24000000 0200 0001 07000000 {} 00000000", pid()),
            &format!("20000000 1000 0500 07000000 {}", pid()),
        ]);
        assert_eq!(hex::encode(&got), hex::encode(&want), "{f:?}");
    }
    // 13.x, and 14.x without carp.ko: ENOENT, echoing the whole request.
    let mut s = spec(Flavor::V14);
    s.carp_loaded = false;
    for spec in [spec(Flavor::V13), s] {
        let t = new_host(&spec);
        let mut h = EmulatedHost::open(&t.path).unwrap();
        let got = nl_call(&mut h, &hx(&[GETFAMILY]));
        let want = hx(&[
            &format!("34000000 0200 0000 07000000 {}", pid()), // NLMSG_ERROR, len 52
            "02000000",                                        // ENOENT
            &format!("20000000 1000 0500 07000000 {}", pid()), // the request, port stamped
            "03010000 09000200 63617270 00000000",
        ]);
        assert_eq!(hex::encode(&got), hex::encode(&want), "{:?}", spec.flavor);
    }
}

/// carp SET: nlmsghdr (len 0x34, family 0x11, REQUEST|ACK 0x05, seq 9),
/// genlmsghdr (cmd 2), VHID 1, ADVSKEW 100, IFNAME "em0\0", KEY "pw" (len 6,
/// padded to 8).
const SET_VHID1: &str = "34000000 1100 0500 09000000 00000000 02000000 \
    08000100 01000000 08000400 64000000 08000900 656d3000 06000500 70770000";

/// carp GET dump of vhid 1 on em0: len 0x24, REQUEST|DUMP 0x301, seq 10.
const GET_VHID1: &str = "24000000 1100 0103 0a000000 00000000 01000000 \
    08000100 01000000 08000900 656d3000";

#[test]
fn carp_set_acks_and_get_dumps_through_the_bytes() {
    for f in [Flavor::V14, Flavor::V15] {
        let (t, mut h) = open_host(f);
        let ack = nl_call(&mut h, &hx(&[SET_VHID1]));
        let want = hx(&[
            // NLMSG_ERROR, len 36, NLM_F_CAPPED 0x100, seq 9; code 0; the
            // request's header only.
            &format!("24000000 0200 0001 09000000 {} 00000000", pid()),
            &format!("34000000 1100 0500 09000000 {}", pid()),
        ]);
        assert_eq!(hex::encode(&ack), hex::encode(&want), "{f:?}");

        let got = nl_call(&mut h, &hx(&[GET_VHID1]));
        // 15.x adds VERSION (u8, attribute 10) after STATE.
        let (len, version) = if f == Flavor::V14 {
            ("68", "")
        } else {
            ("70", "05000a00 02000000")
        };
        let want = hx(&[
            // Flags: the request's | NLM_F_MULTI = 0x303; genl cmd 1, version 0.
            &format!("{len}000000 1100 0303 0a000000 {} 01000000", pid()),
            "08000100 01000000", // VHID 1
            "08000200 00000000", // STATE INIT
            version,
            "08000300 01000000",                                     // ADVBASE 1
            "08000400 64000000",                                     // ADVSKEW 100
            "08000700 e0000012",                                     // ADDR 224.0.0.18
            "14000800 ff020000 00000000 00000000 00000012",          // ADDR6 ff02::12
            "18000500 70770000 00000000 00000000 00000000 00000000", // KEY, 20 raw bytes
            // NLMSG_DONE, len 20, flags 0, code 0.
            &format!("14000000 0300 0000 0a000000 {} 00000000", pid()),
        ]);
        assert_eq!(hex::encode(&got), hex::encode(&want), "{f:?}");

        // Unprivileged: the same entry without KEY (len 0x68 - 24).
        let mut st = persist::load(&t.path).unwrap();
        st.privileged = false;
        persist::save(&t.path, &st).unwrap();
        let got = nl_call(&mut h, &hx(&[GET_VHID1]));
        let entry_len = if f == Flavor::V14 { 0x50 } else { 0x58 };
        assert_eq!(got.len(), entry_len + 20);
        assert_eq!(&got[..4], &[entry_len as u8, 0, 0, 0]);
        assert!(!hex::encode(&got).contains("18000500"), "no KEY attribute");
    }
}

pub(super) fn replies(dgram: &[u8]) -> Vec<Reply> {
    decode_replies(dgram, Some(CARP_ID)).unwrap()
}

pub(super) fn only_error(dgram: &[u8]) -> i32 {
    match replies(dgram).as_slice() {
        [Reply::Error { code, .. }] => code.abs(),
        other => panic!("not a lone NLMSG_ERROR: {other:?}"),
    }
}

#[test]
fn carp_get_errors_come_as_nlmsg_error_or_in_nlmsg_done() {
    let (_t, mut h) = open_host(Flavor::V14);
    // IFNAME "nope": ENXIO before the dump.
    let nope = hx(&[
        "28000000 1100 0103 0b000000 00000000 01000000 08000100 01000000 09000900 6e6f7065 00000000",
    ]);
    let got = nl_call(&mut h, &nope);
    let want = hx(&[
        &format!("3c000000 0200 0000 0b000000 {} 06000000", pid()),
        &format!("28000000 1100 0103 0b000000 {}", pid()),
        "01000000 08000100 01000000 09000900 6e6f7065 00000000",
    ]);
    assert_eq!(hex::encode(&got), hex::encode(&want));
    // No carp on em0 yet: an empty dump whose DONE carries ENOENT (2).
    let got = nl_call(&mut h, &hx(&[GET_VHID1]));
    assert_eq!(
        hex::encode(&got),
        format!("14000000030000000a000000{}02000000", pid())
    );
}

#[test]
fn netlink_requests_refused_before_parsing() {
    // Garbage: a datagram shorter than a header. The echo zero-fills it.
    let (_t, mut h) = open_host(Flavor::V14);
    let got = nl_call(&mut h, &hx(&["01020304 05060708 0910"]));
    let want = hx(&[
        &format!("24000000 0200 0000 09100000 {} 16000000", pid()), // EINVAL 22
        &format!("01020304 0506 0708 09100000 {}", pid()),
    ]);
    assert_eq!(hex::encode(&got), hex::encode(&want));
    // A length field longer than the datagram.
    let mut long = hx(&[SET_VHID1]);
    long[0] = 0x80;
    assert_eq!(only_error(&nl_call(&mut h, &long)), sys::errno::EINVAL);
    // A KEY of 21 bytes: EINVAL from the parser, when privileged...
    let long_key = hx(&[
        "38000000 1100 0500 0c000000 00000000 02000000 08000100 01000000",
        "19000500 6b6b6b6b 6b6b6b6b 6b6b6b6b 6b6b6b6b 6b6b6b6b 6b000000",
    ]);
    assert_eq!(only_error(&nl_call(&mut h, &long_key)), sys::errno::EINVAL);
    // An unknown carp command, an unknown family, an nlctrl command other
    // than GETFAMILY: EOPNOTSUPP.
    let cmd9 = hx(&["18000000 1100 0100 0d000000 00000000 09000000 08000100 01000000"]);
    assert_eq!(only_error(&nl_call(&mut h, &cmd9)), sys::errno::EOPNOTSUPP);
    let fam = hx(&["14000000 3000 0100 0e000000 00000000 01000000"]);
    assert_eq!(only_error(&nl_call(&mut h, &fam)), sys::errno::EOPNOTSUPP);
    let ctrl = hx(&["14000000 1000 0100 0f000000 00000000 01010000"]);
    assert_eq!(only_error(&nl_call(&mut h, &ctrl)), sys::errno::EOPNOTSUPP);
    // No NLM_F_REQUEST: not handled, no reply unless an ack is asked for.
    h.netlink_send(&hx(&["14000000 1100 0000 10000000 00000000 01000000"]))
        .unwrap();
    assert_eq!(h.netlink_recv(), Err(Errno(sys::errno::EAGAIN)));
    let ack = nl_call(
        &mut h,
        &hx(&["14000000 1100 0400 11000000 00000000 01000000"]),
    );
    assert_eq!(only_error(&ack), 0);

    // ...but EPERM first when unprivileged (cmd_priv is checked before
    // the attributes are parsed).
    let mut s = spec(Flavor::V15);
    s.privileged = false;
    let t = new_host(&s);
    let mut h = EmulatedHost::open(&t.path).unwrap();
    assert_eq!(only_error(&nl_call(&mut h, &long_key)), sys::errno::EPERM);
    assert_eq!(
        only_error(&nl_call(&mut h, &hx(&[SET_VHID1]))),
        sys::errno::EPERM
    );

    // 13.x has no carp family: a carp-typed message is EOPNOTSUPP.
    let (_t, mut h) = open_host(Flavor::V13);
    assert_eq!(
        only_error(&nl_call(&mut h, &hx(&[SET_VHID1]))),
        sys::errno::EOPNOTSUPP
    );
    assert_eq!(
        only_error(&nl_call(&mut h, &hx(&[GET_VHID1]))),
        sys::errno::EOPNOTSUPP
    );
}

#[test]
fn fault_injection_hits_a_netlink_set_and_then_lets_it_through() {
    let (t, mut h) = open_host(Flavor::V14);
    // A GET does not count; the SET does.
    EmulatedHost::inject_failure(&t.path, 1, Errno::EBUSY).unwrap();
    let before = snapshot(&t.path);
    nl_call(&mut h, &hx(&[GET_VHID1]));
    assert!(persist::inject_path(&t.path).exists());
    assert_eq!(
        only_error(&nl_call(&mut h, &hx(&[SET_VHID1]))),
        sys::errno::EBUSY
    );
    assert_eq!(snapshot(&t.path), before, "nothing changed");
    assert_eq!(only_error(&nl_call(&mut h, &hx(&[SET_VHID1]))), 0);
    assert_ne!(snapshot(&t.path).0, before.0);

    // ioctls count too, and a failed SIOCAIFADDR adds nothing.
    EmulatedHost::inject_failure(&t.path, 2, Errno::EIO).unwrap();
    let mut data = carpreq_bytes(1, 1, 0, 0, 0, "");
    h.ioctl(sys::SIOCGVH, &mut carp_ifreq_em0(), Some(&mut data))
        .unwrap();
    siocsvh(&mut h, 2, 0, 0, "").unwrap();
    let net: ipnet::Ipv4Net = "192.0.2.1/32".parse().unwrap();
    let mut req = crate::kernel::freebsd::ioctl::in_aliasreq("em0", net, 1).unwrap();
    let before = snapshot(&t.path);
    assert_eq!(h.ioctl(sys::SIOCAIFADDR, &mut req, None), Err(Errno::EIO));
    assert_eq!(snapshot(&t.path), before);
    h.ioctl(sys::SIOCAIFADDR, &mut req, None).unwrap();
}

#[test]
fn the_backend_drives_every_flavor() {
    use crate::kernel::Kernel;
    use crate::kernel::freebsd::FreeBsdKernel;
    use crate::model::{AdvSkew, Api, CarpState, Key, Vhid, VhidUpdate};

    for (f, api) in [
        (Flavor::V13_0, Api::Ioctl),
        (Flavor::V13, Api::Ioctl),
        (Flavor::V14, Api::Netlink),
        (Flavor::V15, Api::Netlink),
        (Flavor::Main, Api::Netlink),
    ] {
        let t = new_host(&spec(f));
        let mut k = FreeBsdKernel::new(EmulatedHost::open(&t.path).unwrap());
        assert_eq!(k.info().unwrap().api, api, "{f:?}");
        let vhid = Vhid::new(1).unwrap();
        let update = VhidUpdate {
            advskew: Some(AdvSkew::new(100).unwrap()),
            key: Some(Key::new(b"pw").unwrap()),
            ..VhidUpdate::default()
        };
        k.set_vhid("em0", vhid, &update).unwrap();
        k.add_address("em0", vhid, "192.0.2.1/32".parse().unwrap())
            .unwrap();
        let all = k.vhids("em0").unwrap();
        assert_eq!(all.len(), 1, "{f:?}");
        assert_eq!(
            (all[0].state, all[0].advskew.get()),
            (CarpState::Backup, 100),
            "{f:?}"
        );
        assert_eq!(
            all[0].key.as_ref().map(|k| k.as_bytes().to_vec()),
            Some(b"pw".to_vec()),
            "{f:?}"
        );
        let ifs = k.interfaces().unwrap();
        let em0 = ifs.iter().find(|i| i.name == "em0").unwrap();
        assert_eq!(em0.vhid_addresses(vhid).count(), 1, "{f:?}");
        k.remove_address("em0", "192.0.2.1".parse().unwrap())
            .unwrap();
        assert!(
            k.vhid("em0", vhid).unwrap().is_none(),
            "{f:?}: the last address took the vhid"
        );
    }
}
