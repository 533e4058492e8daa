//! The emulated kernel against FreeBSD's own behaviour where issue 10 found
//! it differed (items 7, 8, 10, 11), through the bytes and through the
//! backend (docs/freebsd-carp.md §4-§6).

use carpctl_sys::{self as sys, netlink as nl};

use super::tests::{CARP_ID, hx, new_host, nl_call, only_error, open_host, spec};
use super::*;
use crate::kernel::Kernel;
use crate::kernel::freebsd::FreeBsdKernel;
use crate::kernel::freebsd::netlink::Reply;
use crate::model::{AdvSkew, Api, PeerUpdate, Protocol, Vhid, VhidUpdate};

// --- Item 7: errno parity with FreeBSD's netlink parser --------------------

/// `nlattr_get_string`: an IFNAME without its NUL is EINVAL.
#[test]
fn a_string_attribute_without_nul_is_einval() {
    let (_t, mut h) = open_host(Flavor::V14);
    // SET vhid 1, IFNAME "em0" (len 7: no NUL), then 1 byte of padding.
    let req = hx(&[
        "24000000 1100 0500 01000000 00000000 02000000",
        "08000100 01000000",
        "07000900 656d30 00",
    ]);
    assert_eq!(only_error(&nl_call(&mut h, &req)), sys::errno::EINVAL);
    // The same with the NUL: acked.
    let req = hx(&[
        "24000000 1100 0500 02000000 00000000 02000000",
        "08000100 01000000",
        "08000900 656d3000",
    ]);
    assert_eq!(only_error(&nl_call(&mut h, &req)), 0);
}

/// `NLA_FOREACH`: an attribute that overruns the message ends the walk
/// without an error. A GET whose VHID overruns is a GET of every vhid.
#[test]
fn an_overrunning_attribute_stops_parsing_silently() {
    let (_t, mut h) = open_host(Flavor::V14);
    assert_eq!(
        only_error(&nl_call(
            &mut h,
            &hx(&[
                "24000000 1100 0500 01000000 00000000 02000000",
                "08000100 01000000 08000900 656d3000",
            ])
        )),
        0
    );
    // IFNAME, then a VHID claiming 12 bytes where 8 are left.
    let get = hx(&[
        "24000000 1100 0503 02000000 00000000 01000000",
        "08000900 656d3000",
        "0c000100 09000000",
    ]);
    let got = nl_call(&mut h, &get);
    let replies = super::tests::replies(&got);
    // One entry (vhid 1: VHID 9 was never read) and a DONE with 0.
    assert_eq!(replies.len(), 2, "{replies:?}");
    match &replies[0] {
        Reply::Carp { attrs, .. } => assert_eq!(attrs.vhid, Some(1)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(replies[1], Reply::Done { code: 0, .. }));
}

/// 14.x's parser does not know attributes 10-12 and skips them unchecked:
/// a malformed VERSION is no error there; on 15.x it is EINVAL.
#[test]
fn attributes_a_release_does_not_know_are_skipped() {
    let set = hx(&[
        "2c000000 1100 0500 01000000 00000000 02000000",
        "08000100 01000000 08000900 656d3000",
        "08000a00 03000000", // VERSION as 4 bytes
    ]);
    let (_t, mut h) = open_host(Flavor::V14);
    assert_eq!(only_error(&nl_call(&mut h, &set)), 0);
    let (_t, mut h) = open_host(Flavor::V15);
    assert_eq!(only_error(&nl_call(&mut h, &set)), sys::errno::EINVAL);
}

/// No "genl header too short" check: `genl_handle_message` compares with
/// `sizeof(hdr)` (a pointer) and reads `cmd` past a bare header. A bare
/// header reads command 0, which no family has (EOPNOTSUPP); a header and
/// one byte holding GET reaches the parser, whose "header too short" is
/// EINVAL.
#[test]
fn a_short_genl_header_is_the_parsers_einval_or_no_command() {
    let (_t, mut h) = open_host(Flavor::V14);
    let bare = hx(&["10000000 1100 0500 01000000 00000000"]);
    assert_eq!(only_error(&nl_call(&mut h, &bare)), sys::errno::EOPNOTSUPP);
    let one = hx(&["11000000 1100 0500 02000000 00000000 01"]);
    assert_eq!(only_error(&nl_call(&mut h, &one)), sys::errno::EINVAL);
}

/// MAIN `carp_nl_set`/`carp_ioctl_set`: unicast peers are copied for CARP
/// only; a VRRPv3 vhid keeps the multicast group.
#[test]
fn unicast_peers_on_a_vrrp_vhid_are_ignored() {
    let (t, mut h) = open_host(Flavor::V15);
    // SET vhid 1, IFNAME em0, ADDR 192.0.2.9, VERSION 3.
    let set = hx(&[
        "34000000 1100 0500 01000000 00000000 02000000",
        "08000100 01000000 08000900 656d3000",
        "08000700 c0000209",
        "05000a00 03000000", // VERSION 3, padded
    ]);
    assert_eq!(only_error(&nl_call(&mut h, &set)), 0);
    let st = persist::load(&t.path).unwrap();
    let sc = &st.interfaces[1].vhids[0];
    assert!(sc.is_vrrp());
    assert_eq!(sc.peer, std::net::Ipv4Addr::new(224, 0, 0, 18));
}

// --- Item 8: a stale family id ----------------------------------------------

/// An emulated host seen from the backend's side: every carp SET is
/// checked against the family table at the moment it is sent (it must go
/// to carp's current id), and the vhid of every SIOCGVH is noted.
struct Spy {
    host: EmulatedHost,
    path: PathBuf,
    sets: usize,
    siocgvh_vhids: Vec<i32>,
}

impl Spy {
    fn open(path: &Path) -> Self {
        Spy {
            host: EmulatedHost::open(path).unwrap(),
            path: path.to_path_buf(),
            sets: 0,
            siocgvh_vhids: Vec::new(),
        }
    }
}

impl Syscalls for Spy {
    fn ioctl(&mut self, r: u64, a: &mut [u8], d: Option<&mut [u8]>) -> Result<(), Errno> {
        if r == sys::SIOCGVH {
            let vhid = d
                .as_deref()
                .and_then(|d| d.get(4..8))
                .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
            self.siocgvh_vhids.push(vhid.unwrap_or(-1));
        }
        self.host.ioctl(r, a, d)
    }
    fn netlink_send(&mut self, msg: &[u8]) -> Result<(), Errno> {
        let ty = u16::from_ne_bytes([msg[4], msg[5]]);
        if ty != nl::GENL_ID_CTRL && msg.get(nl::NLMSG_HDRLEN) == Some(&nl::CARP_NL_CMD_SET) {
            let st = persist::load(&self.path).unwrap();
            assert_eq!(
                st.genl_family_id("carp"),
                Some(ty),
                "a SET went to id {ty}, which is {:?}",
                st.genl_family(ty)
            );
            self.sets += 1;
        }
        self.host.netlink_send(msg)
    }
    fn netlink_recv(&mut self) -> Result<Vec<u8>, Errno> {
        self.host.netlink_recv()
    }
    fn sysctl_get(&mut self, name: &str) -> Result<SysctlValue, Errno> {
        self.host.sysctl_get(name)
    }
    fn sysctl_set_int(&mut self, name: &str, value: i32) -> Result<(), Errno> {
        self.host.sysctl_set_int(name, value)
    }
    fn modfind(&mut self, module: &str) -> Result<bool, Errno> {
        self.host.modfind(module)
    }
    fn kldload(&mut self, file: &str) -> Result<(), Errno> {
        self.host.kldload(file)
    }
    fn getifaddrs(&mut self) -> Result<Vec<RawIfaddr>, Errno> {
        self.host.getifaddrs()
    }
}

/// carp.ko unloaded behind a running carpctl, another module taking its
/// freed family id, carp.ko loaded again under a new id: carpctl's next
/// SET goes to carp, never to the stranger (which would ack it).
#[test]
fn carpctl_never_sends_a_set_to_a_stale_family_id() {
    let t = new_host(&spec(Flavor::V14));
    let mut k = FreeBsdKernel::new(Spy::open(&t.path));
    assert_eq!(k.info().unwrap().api, Api::Netlink);
    assert_eq!(k.vhids("em0").unwrap(), vec![]);

    EmulatedHost::kldunload(&t.path, "carp").unwrap();
    // No family: carp.ko is gone, which is what the daemon must hear
    // (not "no vhids").
    assert!(matches!(k.vhids("em0"), Err(KernelError::NotLoaded)));
    EmulatedHost::kldload(&t.path, "pfctl").unwrap();
    EmulatedHost::kldload(&t.path, "carp").unwrap();
    let st = persist::load(&t.path).unwrap();
    assert_eq!(
        st.genl_family_id("pfctl"),
        Some(CARP_ID),
        "pf took carp's id"
    );
    let carp_id = st.genl_family_id("carp").unwrap();
    assert_ne!(carp_id, CARP_ID);

    let vhid = Vhid::new(1).unwrap();
    let update = VhidUpdate {
        advskew: Some(AdvSkew::new(100).unwrap()),
        ..VhidUpdate::default()
    };
    k.set_vhid("em0", vhid, &update).unwrap();
    assert_eq!(k.syscalls().sets, 1);
    let st = persist::load(&t.path).unwrap();
    assert_eq!(st.interfaces[1].vhids[0].advskew, 100, "carp got the SET");
    assert_eq!(k.vhid("em0", vhid).unwrap().unwrap().advskew.get(), 100);
}

/// `kldunload carp` is EBUSY while a vhid exists (`carp_modevent`); a
/// module that is not loaded is ENOENT.
#[test]
fn kldunload_carp_is_ebusy_while_a_vhid_exists() {
    let t = new_host(&spec(Flavor::V14));
    let mut h = EmulatedHost::open(&t.path).unwrap();
    let set = hx(&[
        "24000000 1100 0500 01000000 00000000 02000000",
        "08000100 01000000 08000900 656d3000",
    ]);
    assert_eq!(only_error(&nl_call(&mut h, &set)), 0);
    let e = EmulatedHost::kldunload(&t.path, "carp").unwrap_err();
    assert!(e.to_string().contains("EBUSY"), "{e}");
    let e = EmulatedHost::kldunload(&t.path, "pfctl").unwrap_err();
    assert!(e.to_string().contains("ENOENT"), "{e}");
    // The family id of an unloaded module answers EOPNOTSUPP, as
    // genl_handle_message does for an empty slot.
    let t = new_host(&spec(Flavor::V14));
    EmulatedHost::kldunload(&t.path, "carp").unwrap();
    let mut h = EmulatedHost::open(&t.path).unwrap();
    let get = hx(&["1c000000 1100 0503 03000000 00000000 01000000 08000900 656d3000"]);
    assert_eq!(only_error(&nl_call(&mut h, &get)), sys::errno::EOPNOTSUPP);
}

// --- Item 10: never SIOCGVH with vhid 0 ----------------------------------------

/// On 13.x too the backend lists vhids one by one (getifaddrs, then one
/// SIOCGVH per vhid).
#[test]
fn the_backend_never_asks_siocgvh_for_vhid_0() {
    let t = new_host(&spec(Flavor::V13));
    let mut k = FreeBsdKernel::new(Spy::open(&t.path));
    for v in [3, 1] {
        let vhid = Vhid::new(v).unwrap();
        k.set_vhid("em0", vhid, &VhidUpdate::default()).unwrap();
        k.add_address("em0", vhid, format!("192.0.2.{v}/32").parse().unwrap())
            .unwrap();
    }
    k.syscalls().siocgvh_vhids.clear();
    let all = k.vhids("em0").unwrap();
    let got: Vec<u8> = all.iter().map(|s| s.vhid.get()).collect();
    assert_eq!(got, [1, 3]);
    assert_eq!(
        k.syscalls().siocgvh_vhids,
        [1, 3],
        "one SIOCGVH per vhid, none for 0"
    );
}

// --- Item 11: VRRPv3 by version, and read back ------------------------------

/// A 15-CURRENT of April 2024 (the 14.x carp code, `kern.osreldate`
/// 1500018): VRRPv3 is refused before anything is sent.
#[test]
fn fifteen_current_before_vrrpv3_refuses_vrrp() {
    let t = new_host(&spec(Flavor::V14));
    EmulatedHost::set_osreldate(&t.path, Some(1_500_018)).unwrap();
    let mut k = FreeBsdKernel::new(EmulatedHost::open(&t.path).unwrap());
    let info = k.info().unwrap();
    assert_eq!((info.osreldate, info.vrrp), (1_500_018, false));
    let vrrp = VhidUpdate {
        protocol: Some(Protocol::Vrrpv3),
        ..VhidUpdate::default()
    };
    let e = k.set_vhid("em0", Vhid::new(1).unwrap(), &vrrp).unwrap_err();
    assert!(matches!(e, KernelError::Unsupported(_)), "{e}");
    let st = persist::load(&t.path).unwrap();
    assert!(st.interfaces[1].vhids.is_empty(), "nothing was created");
}

/// A kernel whose version claims VRRPv3 (1500019) but whose carp(4) is the
/// 14.x code ignores VERSION and makes a CARP vhid: the read-back after the
/// SET says so, instead of reporting success.
#[test]
fn a_kernel_that_ignores_version_is_caught_by_the_read_back() {
    let t = new_host(&spec(Flavor::V14));
    EmulatedHost::set_osreldate(&t.path, Some(1_500_019)).unwrap();
    let mut k = FreeBsdKernel::new(EmulatedHost::open(&t.path).unwrap());
    assert!(k.info().unwrap().vrrp);
    let vrrp = VhidUpdate {
        protocol: Some(Protocol::Vrrpv3),
        ..VhidUpdate::default()
    };
    let e = k
        .set_vhid("em0", Vhid::new(1).unwrap(), &vrrp)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ignored CARP_NL_VERSION 3"), "{e}");
    let st = persist::load(&t.path).unwrap();
    assert!(!st.interfaces[1].vhids[0].is_vrrp(), "the kernel made CARP");

    // On a real VRRPv3 kernel the same SET passes, and unicast peers are
    // refused for it up front (FreeBSD would ignore them).
    let t = new_host(&spec(Flavor::V15));
    let mut k = FreeBsdKernel::new(EmulatedHost::open(&t.path).unwrap());
    k.set_vhid("em0", Vhid::new(1).unwrap(), &vrrp).unwrap();
    let with_peer = VhidUpdate {
        peer: Some(PeerUpdate::Unicast("192.0.2.9".parse().unwrap())),
        ..vrrp
    };
    let e = k
        .set_vhid("em0", Vhid::new(1).unwrap(), &with_peer)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ignores unicast peers"), "{e}");
}
