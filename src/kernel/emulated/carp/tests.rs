//! Domain-level tests of [`super`]: every errno row of
//! `docs/freebsd-carp.md` §4 (ioctls), §5 (addresses), §6 (netlink) and
//! §7 (sysctls, modules), per flavor where FreeBSD differs. They work
//! on decoded requests; the byte level is tested in `emulated/tests.rs`.

use carpctl_sys::CARP_KEY_LEN;
use ipnet::IpNet;

use super::super::state;
use super::*;
use crate::kernel::emulated::fsm::Event;
use crate::kernel::emulated::{Flavor, HostSpec, IfaceSpec};
use crate::kernel::freebsd::SysctlValue;
use crate::model::CarpState;

const ALL: [Flavor; 4] = [Flavor::V13, Flavor::V14, Flavor::V15, Flavor::Main];
const IOCTL: [Flavor; 3] = [Flavor::V13, Flavor::V14, Flavor::V15];
const NETLINK: [Flavor; 3] = [Flavor::V14, Flavor::V15, Flavor::Main];

fn host(flavor: Flavor) -> HostState {
    HostState::new(&HostSpec {
        flavor,
        interfaces: vec![
            IfaceSpec {
                name: "em0".into(),
                addresses: vec![
                    "192.0.2.10/24".parse().unwrap(),
                    "2001:db8::10/64".parse().unwrap(),
                ],
            },
            IfaceSpec {
                name: "em1".into(),
                addresses: vec![],
            },
        ],
        carp_loaded: true,
        privileged: true,
    })
    .unwrap()
}

fn unpriv(flavor: Flavor) -> HostState {
    HostState {
        privileged: false,
        ..host(flavor)
    }
}

fn creq(vhid: i32, advskew: i32, advbase: i32, key: &[u8], state: i32) -> carpreq {
    let mut k = [0u8; CARP_KEY_LEN];
    k[..key.len()].copy_from_slice(key);
    carpreq {
        carpr_count: 1,
        carpr_vhid: vhid,
        carpr_state: state,
        carpr_advskew: advskew,
        carpr_advbase: advbase,
        carpr_key: k,
    }
}

fn em0(st: &HostState) -> &Iface {
    &st.interfaces[1]
}

fn sc(st: &HostState, vhid: u8) -> &Softc {
    em0(st)
        .vhids
        .iter()
        .find(|s| s.vhid == vhid)
        .unwrap_or_else(|| panic!("vhid {vhid} missing"))
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

/// Create vhid `vhid` on em0 through whichever API the flavor has.
fn mkvhid(st: &mut HostState, vhid: u8) {
    let mut ev = Vec::new();
    if st.flavor.has_carp_ioctls() {
        st.siocsvh(
            Some("em0"),
            Some(&creq(i32::from(vhid), 0, 0, b"", 0)),
            &mut ev,
        )
        .unwrap();
    } else {
        st.nl_set(&nl(Some("em0"), vhid), &mut ev).unwrap();
    }
}

fn nl(ifname: Option<&str>, vhid: u8) -> CarpAttrs {
    CarpAttrs {
        vhid: Some(u32::from(vhid)),
        ifname: ifname.map(str::to_string),
        ..CarpAttrs::default()
    }
}

fn add(st: &mut HostState, addr: &str, vhid: i32) -> Result<(), Errno> {
    st.aifaddr(Some("em0"), Some((net(addr), vhid)), &mut Vec::new())
}

fn del(st: &mut HostState, addr: &str) -> Result<(), Errno> {
    st.difaddr(
        Some("em0"),
        DelAddr::Exact(addr.parse().unwrap()),
        &mut Vec::new(),
    )
}

fn transitions(ev: &[Event]) -> Vec<String> {
    ev.iter()
        .filter(|e| matches!(e, Event::State { .. }))
        .map(ToString::to_string)
        .collect()
}

fn no_multicast(st: &mut HostState) {
    st.interfaces[1].flags &= !sys::IFF_MULTICAST;
}

// ---------------------------------------------------------------------------
// §4: checks common to SIOCSVH and SIOCGVH
// ---------------------------------------------------------------------------

#[test]
fn ioctl_without_carp_ko_is_eprotonosupport_before_anything() {
    for f in IOCTL {
        let mut st = HostState {
            carp_loaded: false,
            ..host(f)
        };
        // Even with no carpreq and no interface: if.c checks carp_ioctl_p first.
        assert_eq!(
            st.siocsvh(Some("nope"), None, &mut Vec::new()),
            Err(Errno::EPROTONOSUPPORT),
            "{f:?}"
        );
        assert_eq!(
            st.siocgvh(Some("nope"), None).err(),
            Some(Errno::EPROTONOSUPPORT),
            "{f:?}"
        );
    }
}

#[test]
fn ioctl_copyin_failure_is_efault_before_the_interface_lookup() {
    for f in IOCTL {
        let mut st = host(f);
        assert_eq!(
            st.siocsvh(Some("nope"), None, &mut Vec::new()),
            Err(Errno::EFAULT),
            "{f:?}"
        );
        assert_eq!(st.siocgvh(None, None).err(), Some(Errno::EFAULT), "{f:?}");
    }
}

#[test]
fn ioctl_interface_checks_in_order() {
    for f in IOCTL {
        let mut st = host(f);
        let r = creq(1, 0, 0, b"", 0);
        let mut ev = Vec::new();
        assert_eq!(
            st.siocsvh(Some("nope"), Some(&r), &mut ev),
            Err(Errno::ENXIO),
            "{f:?}"
        );
        assert_eq!(
            st.siocsvh(None, Some(&r), &mut ev),
            Err(Errno::ENXIO),
            "{f:?} undecodable name"
        );
        assert_eq!(
            st.siocsvh(Some("lo0"), Some(&r), &mut ev),
            Err(Errno::EOPNOTSUPP),
            "{f:?}"
        );
        assert_eq!(st.siocgvh(Some("nope"), Some(&r)).err(), Some(Errno::ENXIO));
        assert_eq!(
            st.siocgvh(Some("lo0"), Some(&r)).err(),
            Some(Errno::EOPNOTSUPP)
        );
        no_multicast(&mut st);
        assert_eq!(
            st.siocsvh(Some("em0"), Some(&r), &mut ev),
            Err(Errno::EADDRNOTAVAIL),
            "{f:?}"
        );
        assert_eq!(
            st.siocgvh(Some("em0"), Some(&r)).err(),
            Some(Errno::EADDRNOTAVAIL),
            "{f:?}"
        );
        assert!(em0(&st).vhids.is_empty());
    }
}

#[test]
fn main_has_no_carp_ioctls() {
    // Neither EPROTONOSUPPORT nor EFAULT: if.c no longer knows the request,
    // the driver's default case answers (ether_ioctl: EINVAL).
    for loaded in [true, false] {
        let mut st = HostState {
            carp_loaded: loaded,
            ..host(Flavor::Main)
        };
        let r = creq(1, 0, 0, b"", 0);
        assert_eq!(
            st.siocsvh(Some("em0"), Some(&r), &mut Vec::new()),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            st.siocsvh(Some("em0"), None, &mut Vec::new()),
            Err(Errno::EINVAL)
        );
        assert_eq!(st.siocgvh(Some("lo0"), Some(&r)).err(), Some(Errno::EINVAL));
        assert_eq!(
            st.siocsvh(Some("nope"), Some(&r), &mut Vec::new()),
            Err(Errno::ENXIO)
        );
        assert_eq!(st.siocgvh(None, None).err(), Some(Errno::ENXIO));
    }
    assert_eq!(host(Flavor::Main).unknown_ioctl(Some("em0")), Errno::EINVAL);
}

// ---------------------------------------------------------------------------
// §4: SIOCSVH
// ---------------------------------------------------------------------------

#[test]
fn siocsvh_needs_privilege_after_the_interface_checks() {
    for f in IOCTL {
        let mut st = unpriv(f);
        let r = creq(1, 0, 0, b"", 0);
        assert_eq!(
            st.siocsvh(Some("nope"), Some(&r), &mut Vec::new()),
            Err(Errno::ENXIO)
        );
        assert_eq!(
            st.siocsvh(Some("em0"), Some(&r), &mut Vec::new()),
            Err(Errno::EPERM)
        );
        // Before the range checks, too.
        assert_eq!(
            st.siocsvh(Some("em0"), Some(&creq(0, 0, 0, b"", 0)), &mut Vec::new()),
            Err(Errno::EPERM)
        );
        assert!(em0(&st).vhids.is_empty());
    }
}

#[test]
fn siocsvh_range_checks() {
    for f in IOCTL {
        for (vhid, advskew, advbase) in [(0, 0, 0), (256, 0, 0), (-1, 0, 0), (1, -1, 0), (1, 0, -1)]
        {
            let mut st = host(f);
            let r = creq(vhid, advskew, advbase, b"", 0);
            assert_eq!(
                st.siocsvh(Some("em0"), Some(&r), &mut Vec::new()),
                Err(Errno::EINVAL),
                "{f:?} {r:?}"
            );
            // These are checked up front in every flavor: nothing created.
            assert!(em0(&st).vhids.is_empty(), "{f:?} {r:?}");
        }
        for (vhid, advskew, advbase) in [(1, 0, 1), (255, 254, 255)] {
            let mut st = host(f);
            let r = creq(vhid, advskew, advbase, b"", 0);
            st.siocsvh(Some("em0"), Some(&r), &mut Vec::new()).unwrap();
            let s = &em0(&st).vhids[0];
            assert_eq!(
                (i32::from(s.vhid), s.advskew, s.advbase),
                (vhid, advskew, advbase)
            );
        }
    }
}

#[test]
fn siocsvh_13_14_create_the_vhid_and_write_advbase_before_the_late_einval() {
    for f in [Flavor::V13, Flavor::V14] {
        // A new vhid with advskew 255: created, advbase 5 already written.
        let mut st = host(f);
        assert_eq!(
            st.siocsvh(Some("em0"), Some(&creq(3, 255, 5, b"", 0)), &mut Vec::new()),
            Err(Errno::EINVAL)
        );
        let s = sc(&st, 3);
        assert_eq!(
            (s.advbase, s.advskew, s.state),
            (5, 0, CarpState::Init),
            "{f:?}"
        );
        assert_ne!(
            em0(&st).flags & sys::IFF_PROMISC,
            0,
            "{f:?}: the new vhid made em0 promiscuous"
        );

        // advbase 300 on a new vhid: created with the default advbase.
        let mut st = host(f);
        assert_eq!(
            st.siocsvh(Some("em0"), Some(&creq(4, 0, 300, b"", 0)), &mut Vec::new()),
            Err(Errno::EINVAL)
        );
        assert_eq!(sc(&st, 4).advbase, 1, "{f:?}");

        // An existing vhid: advbase written, advskew and key untouched.
        let mut st = host(f);
        st.siocsvh(
            Some("em0"),
            Some(&creq(1, 100, 2, b"old", 0)),
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(
            st.siocsvh(
                Some("em0"),
                Some(&creq(1, 255, 7, b"new", 0)),
                &mut Vec::new()
            ),
            Err(Errno::EINVAL)
        );
        let s = sc(&st, 1);
        assert_eq!(
            (s.advbase, s.advskew, &s.key.0[..3]),
            (7, 100, &b"old"[..]),
            "{f:?}"
        );
    }
}

#[test]
fn siocsvh_15_validates_everything_before_changing_anything() {
    let mut st = host(Flavor::V15);
    assert_eq!(
        st.siocsvh(Some("em0"), Some(&creq(3, 255, 5, b"", 0)), &mut Vec::new()),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        st.siocsvh(Some("em0"), Some(&creq(4, 0, 300, b"", 0)), &mut Vec::new()),
        Err(Errno::EINVAL)
    );
    assert!(em0(&st).vhids.is_empty());
    assert_eq!(em0(&st).flags & sys::IFF_PROMISC, 0);
    st.siocsvh(
        Some("em0"),
        Some(&creq(1, 100, 2, b"old", 0)),
        &mut Vec::new(),
    )
    .unwrap();
    let before = st.clone();
    assert_eq!(
        st.siocsvh(
            Some("em0"),
            Some(&creq(1, 255, 7, b"new", 0)),
            &mut Vec::new()
        ),
        Err(Errno::EINVAL)
    );
    assert_eq!(st, before);
}

#[test]
fn siocsvh_15_refuses_a_vrrp_vhid() {
    let mut st = host(Flavor::V15);
    let a = CarpAttrs {
        version: Some(3),
        ..nl(Some("em0"), 1)
    };
    st.nl_set(&a, &mut Vec::new()).unwrap();
    // carp_ioctl() sends carpr_version = CARP: a version mismatch.
    assert_eq!(
        st.siocsvh(Some("em0"), Some(&creq(1, 0, 0, b"", 0)), &mut Vec::new()),
        Err(Errno::EINVAL)
    );
}

#[test]
fn set_creates_with_defaults_and_promisc() {
    for f in ALL {
        let mut st = host(f);
        assert_eq!(em0(&st).flags & sys::IFF_PROMISC, 0);
        mkvhid(&mut st, 7);
        let s = sc(&st, 7);
        assert_eq!(
            (s.state, s.advbase, s.advskew, s.version),
            (CarpState::Init, 1, 0, 2),
            "{f:?}"
        );
        assert_eq!(
            (s.peer.to_string(), s.peer6.to_string()),
            ("224.0.0.18".into(), "ff02::12".into())
        );
        assert_eq!(s.key, KeyBytes::default());
        assert_ne!(em0(&st).flags & sys::IFF_PROMISC, 0, "{f:?}");
        // A vhid created by SET without an address stays INIT.
        assert_eq!(s.state, CarpState::Init);
    }
}

#[test]
fn set_semantics_advskew_replaced_advbase_zero_keeps_key_not_clearable() {
    for f in IOCTL {
        let mut st = host(f);
        let mut set = |r: carpreq| st.siocsvh(Some("em0"), Some(&r), &mut Vec::new()).unwrap();
        set(creq(1, 100, 3, b"secret", 0));
        set(creq(1, 0, 0, b"", 0));
        let s = sc(&st, 1);
        assert_eq!(
            (s.advskew, s.advbase),
            (0, 3),
            "{f:?}: advskew 0 is written, advbase 0 keeps"
        );
        assert_eq!(
            &s.key.0[..7],
            b"secret\0",
            "{f:?}: a leading NUL leaves the key as it is"
        );
        // A key whose first byte is set is copied whole, bytes after a NUL too.
        let mut odd = creq(1, 0, 0, b"ab", 0);
        odd.carpr_key[5] = b'z';
        st.siocsvh(Some("em0"), Some(&odd), &mut Vec::new())
            .unwrap();
        let mut want = [0u8; 20];
        want[..2].copy_from_slice(b"ab");
        want[5] = b'z';
        assert_eq!(*sc(&st, 1).key.0, want);
    }
}

#[test]
fn set_state_only_outside_init() {
    for f in ALL {
        let mut st = host(f);
        mkvhid(&mut st, 1);
        let set_state = |st: &mut HostState, state: u32| {
            let mut ev = Vec::new();
            if st.flavor.has_carp_ioctls() {
                let r = creq(1, 0, 0, b"", state as i32);
                st.siocsvh(Some("em0"), Some(&r), &mut ev).unwrap();
            } else {
                st.nl_set(
                    &CarpAttrs {
                        state: Some(state),
                        ..nl(Some("em0"), 1)
                    },
                    &mut ev,
                )
                .unwrap();
            }
            transitions(&ev)
        };
        assert!(
            set_state(&mut st, 2).is_empty(),
            "{f:?}: MASTER requested in INIT is ignored"
        );
        assert_eq!(sc(&st, 1).state, CarpState::Init);
        add(&mut st, "192.0.2.1/32", 1).unwrap();
        assert_eq!(sc(&st, 1).state, CarpState::Backup);
        assert_eq!(
            set_state(&mut st, 2),
            ["carp: 1@em0: BACKUP -> MASTER (user requested via ifconfig)"],
            "{f:?}"
        );
        assert!(
            set_state(&mut st, 0).is_empty(),
            "{f:?}: state 0 (a zero-filled request) changes nothing"
        );
        assert!(set_state(&mut st, 2).is_empty(), "{f:?}: already MASTER");
        assert_eq!(
            set_state(&mut st, 1),
            ["carp: 1@em0: MASTER -> BACKUP (user requested via ifconfig)"]
        );
        assert_eq!(sc(&st, 1).state, CarpState::Backup);
    }
    // Through the ioctl the state is not range-checked: other values are ignored.
    let mut st = host(Flavor::V13);
    mkvhid(&mut st, 1);
    add(&mut st, "192.0.2.1/32", 1).unwrap();
    st.siocsvh(Some("em0"), Some(&creq(1, 0, 0, b"", 7)), &mut Vec::new())
        .unwrap();
    assert_eq!(sc(&st, 1).state, CarpState::Backup);
}

// ---------------------------------------------------------------------------
// §4: SIOCGVH
// ---------------------------------------------------------------------------

#[test]
fn siocgvh_errno_rows() {
    for f in IOCTL {
        let mut st = host(f);
        let get = |st: &HostState, vhid: i32, count: i32| {
            st.siocgvh(
                Some("em0"),
                Some(&carpreq {
                    carpr_count: count,
                    ..creq(vhid, 0, 0, b"", 0)
                }),
            )
            .err()
        };
        assert_eq!(get(&st, -1, 1), Some(Errno::EINVAL), "{f:?}");
        assert_eq!(get(&st, 256, 1), Some(Errno::EINVAL), "{f:?}");
        assert_eq!(get(&st, 1, 0), Some(Errno::EMSGSIZE), "{f:?}");
        assert_eq!(get(&st, 1, 1), Some(Errno::ENOENT), "{f:?}: no carp on em0");
        assert_eq!(
            get(&st, 0, 255),
            Some(Errno::ENOENT),
            "{f:?}: no carp on em0"
        );
        mkvhid(&mut st, 1);
        mkvhid(&mut st, 2);
        assert_eq!(get(&st, 3, 1), Some(Errno::ENOENT), "{f:?}: vhid absent");
        assert_eq!(
            get(&st, 0, 1),
            Some(Errno::EMSGSIZE),
            "{f:?}: 2 vhids, room for 1"
        );
        assert_eq!(get(&st, 0, 2), None);
        assert_eq!(get(&st, 2, 1), None);
    }
}

#[test]
fn siocgvh_one_and_the_key_by_privilege() {
    for f in IOCTL {
        let mut st = host(f);
        st.siocsvh(
            Some("em0"),
            Some(&creq(5, 42, 3, b"pw", 0)),
            &mut Vec::new(),
        )
        .unwrap();
        let ask = carpreq {
            carpr_count: 9,
            ..creq(5, 0, 0, b"", 0)
        };
        let Ok(GvhOut::One(r)) = st.siocgvh(Some("em0"), Some(&ask)) else {
            panic!("{f:?}")
        };
        assert_eq!(
            (
                r.carpr_vhid,
                r.carpr_state,
                r.carpr_advskew,
                r.carpr_advbase
            ),
            (5, 0, 42, 3)
        );
        assert_eq!(&r.carpr_key[..3], b"pw\0");
        // 13.x leaves the caller's count; 14+ sets 1.
        assert_eq!(r.carpr_count, if f == Flavor::V13 { 9 } else { 1 }, "{f:?}");
        st.privileged = false;
        let Ok(GvhOut::One(r)) = st.siocgvh(Some("em0"), Some(&ask)) else {
            panic!()
        };
        assert_eq!(
            r.carpr_key, [0; 20],
            "{f:?}: the key is zero-filled for an unprivileged reader"
        );
        assert_eq!((r.carpr_advskew, r.carpr_advbase), (42, 3));
    }
}

#[test]
fn siocgvh_vhid_zero_13_per_element_14_15_broken() {
    for f in IOCTL {
        let mut st = host(f);
        for v in [9, 4, 200] {
            st.siocsvh(Some("em0"), Some(&creq(v, v, 0, b"", 0)), &mut Vec::new())
                .unwrap();
        }
        let ask = carpreq {
            carpr_count: 255,
            ..creq(0, 0, 0, b"", 0)
        };
        match (f, st.siocgvh(Some("em0"), Some(&ask))) {
            (Flavor::V13, Ok(GvhOut::PerElement(v))) => {
                let got: Vec<(i32, i32, i32)> = v
                    .iter()
                    .map(|r| (r.carpr_vhid, r.carpr_advskew, r.carpr_count))
                    .collect();
                assert_eq!(
                    got,
                    [(9, 9, 3), (4, 4, 3), (200, 200, 3)],
                    "creation order, count = total"
                );
            }
            (Flavor::V14 | Flavor::V15, Ok(GvhOut::Broken { last, count })) => {
                assert_eq!(count, 3);
                assert_eq!(
                    (last.carpr_vhid, last.carpr_advskew, last.carpr_count),
                    (200, 200, 3),
                    "{f:?}"
                );
            }
            _ => panic!("{f:?}: unexpected outcome"),
        }
    }
}

#[test]
fn siocgvh_15_vrrp_vhid_leaves_the_carp_fields_as_sent() {
    let mut st = host(Flavor::V15);
    st.nl_set(
        &CarpAttrs {
            version: Some(3),
            ..nl(Some("em0"), 1)
        },
        &mut Vec::new(),
    )
    .unwrap();
    let ask = carpreq {
        carpr_count: 1,
        ..creq(1, 77, 66, b"xy", 2)
    };
    let Ok(GvhOut::One(r)) = st.siocgvh(Some("em0"), Some(&ask)) else {
        panic!()
    };
    assert_eq!(
        (
            r.carpr_state,
            r.carpr_advskew,
            r.carpr_advbase,
            &r.carpr_key[..2]
        ),
        (0, 77, 66, &b"xy"[..])
    );
}

// ---------------------------------------------------------------------------
// §5: addresses
// ---------------------------------------------------------------------------

#[test]
fn aifaddr_errno_rows() {
    for f in ALL {
        let mut st = host(f);
        let mut ev = Vec::new();
        assert_eq!(
            st.aifaddr(Some("nope"), Some((net("192.0.2.1/32"), 1)), &mut ev),
            Err(Errno::ENXIO)
        );
        assert_eq!(st.aifaddr(None, None, &mut ev), Err(Errno::ENXIO));
        assert_eq!(
            st.aifaddr(Some("em0"), None, &mut ev),
            Err(Errno::EINVAL),
            "undecodable sockaddr"
        );
        assert_eq!(
            add(&mut st, "192.0.2.1/32", 1),
            Err(Errno::ENOPROTOOPT),
            "{f:?}: no carp on em0 yet"
        );
        mkvhid(&mut st, 2);
        assert_eq!(
            add(&mut st, "192.0.2.1/32", 1),
            Err(Errno::ENOENT),
            "{f:?}: vhid 1 not configured"
        );
        assert_eq!(
            add(&mut st, "192.0.2.1/32", 300),
            Err(Errno::ENOENT),
            "{f:?}"
        );
        assert_eq!(
            add(&mut st, "192.0.2.1/32", -1),
            Err(Errno::ENOENT),
            "{f:?}"
        );
        assert_eq!(
            em0(&st).find_addr("192.0.2.1".parse().unwrap()),
            None,
            "IPv4: no address left behind"
        );
        let lo = st.aifaddr(Some("lo0"), Some((net("127.0.0.2/32"), 2)), &mut ev);
        assert_eq!(lo, Err(Errno::ENOPROTOOPT), "{f:?}: lo0 never has carp");

        let mut st = unpriv(f);
        assert_eq!(add(&mut st, "192.0.2.1/32", 0), Err(Errno::EPERM));
        assert_eq!(
            st.aifaddr(Some("em0"), None, &mut ev),
            Err(Errno::EPERM),
            "privilege before the sockaddr"
        );
        assert_eq!(del(&mut st, "192.0.2.10"), Err(Errno::EPERM));

        let mut st = HostState {
            carp_loaded: false,
            ..host(f)
        };
        assert_eq!(
            add(&mut st, "192.0.2.1/32", 1),
            Err(Errno::EPROTONOSUPPORT),
            "{f:?}"
        );
        add(&mut st, "192.0.2.1/32", 0).unwrap();
    }
}

#[test]
fn aifaddr6_failed_attach_leaves_a_plain_address() {
    // in6_control(): the address is added before carp_attach(); its
    // failure returns without removing it.
    let mut st = host(Flavor::V14);
    assert_eq!(add(&mut st, "2001:db8::1/64", 1), Err(Errno::ENOPROTOOPT));
    let ai = em0(&st)
        .find_addr("2001:db8::1".parse().unwrap())
        .expect("the address stays");
    assert_eq!(em0(&st).addresses[ai].vhid, 0);

    let mut st = HostState {
        carp_loaded: false,
        ..host(Flavor::V14)
    };
    assert_eq!(
        add(&mut st, "2001:db8::2/64", 1),
        Err(Errno::EPROTONOSUPPORT)
    );
    assert!(em0(&st).find_addr("2001:db8::2".parse().unwrap()).is_some());
}

#[test]
fn aifaddr6_prefix_rules() {
    let mut st = host(Flavor::V15);
    assert_eq!(
        add(&mut st, "2001:db8::1/0", 0),
        Err(Errno::EINVAL),
        "a prefix length is required"
    );
    assert_eq!(
        add(&mut st, "2001:db8::10/48", 0),
        Err(Errno::EINVAL),
        "an existing address keeps its prefix"
    );
    add(&mut st, "2001:db8::10/64", 0).unwrap();
}

#[test]
fn attach_moves_init_to_backup_and_sets_the_address_vhid() {
    for f in ALL {
        let mut st = host(f);
        mkvhid(&mut st, 1);
        let mut ev = Vec::new();
        st.aifaddr(Some("em0"), Some((net("192.0.2.1/32"), 1)), &mut ev)
            .unwrap();
        assert_eq!(
            transitions(&ev),
            ["carp: 1@em0: INIT -> BACKUP (initialization complete)"],
            "{f:?}"
        );
        let ai = em0(&st).find_addr("192.0.2.1".parse().unwrap()).unwrap();
        assert_eq!(em0(&st).addresses[ai].vhid, 1);
        // IPv6 too.
        let mut ev = Vec::new();
        st.aifaddr(Some("em0"), Some((net("2001:db8::1/64"), 1)), &mut ev)
            .unwrap();
        let ai = em0(&st).find_addr("2001:db8::1".parse().unwrap()).unwrap();
        assert_eq!(em0(&st).addresses[ai].vhid, 1);
        assert_eq!(em0(&st).naddrs(1), 2);
    }
}

#[test]
fn init_stays_when_the_interface_or_link_is_down() {
    for (flags, link) in [
        (state::ETHER_FLAGS & !sys::IFF_UP, sys::LINK_STATE_UP),
        (state::ETHER_FLAGS, sys::LINK_STATE_DOWN),
    ] {
        let mut st = host(Flavor::V14);
        st.interfaces[1].flags = flags;
        st.interfaces[1].link_state = link;
        mkvhid(&mut st, 1);
        add(&mut st, "192.0.2.1/32", 1).unwrap();
        assert_eq!(sc(&st, 1).state, CarpState::Init);
        assert!(sc(&st, 1).suppressed);
        assert_eq!(st.sysctl.demotion, 240, "the ifdown demotion");
    }
}

#[test]
fn address_changes_on_master_pass_through_init() {
    let mut st = host(Flavor::V14);
    mkvhid(&mut st, 1);
    add(&mut st, "192.0.2.1/32", 1).unwrap();
    st.nl_set(
        &CarpAttrs {
            state: Some(2),
            ..nl(Some("em0"), 1)
        },
        &mut Vec::new(),
    )
    .unwrap();
    assert_eq!(sc(&st, 1).state, CarpState::Master);
    let mut ev = Vec::new();
    st.aifaddr(Some("em0"), Some((net("192.0.2.2/32"), 1)), &mut ev)
        .unwrap();
    let want = [
        "carp: 1@em0: MASTER -> INIT (hardware interface up)",
        "carp: 1@em0: INIT -> BACKUP (initialization complete)",
    ];
    assert_eq!(transitions(&ev), want);
    st.nl_set(
        &CarpAttrs {
            state: Some(2),
            ..nl(Some("em0"), 1)
        },
        &mut Vec::new(),
    )
    .unwrap();
    let mut ev = Vec::new();
    st.difaddr(
        Some("em0"),
        DelAddr::Exact("192.0.2.2".parse().unwrap()),
        &mut ev,
    )
    .unwrap();
    assert_eq!(transitions(&ev), want);
}

#[test]
fn last_address_destroys_the_vhid_and_promisc_goes_with_the_last_vhid() {
    for f in ALL {
        let mut st = host(f);
        mkvhid(&mut st, 1);
        mkvhid(&mut st, 2);
        add(&mut st, "192.0.2.1/32", 1).unwrap();
        add(&mut st, "2001:db8::1/64", 1).unwrap();
        add(&mut st, "192.0.2.2/32", 2).unwrap();
        del(&mut st, "192.0.2.1").unwrap();
        assert!(
            em0(&st).find_vhid(1).is_some(),
            "{f:?}: vhid 1 still has its IPv6 address"
        );
        del(&mut st, "2001:db8::1").unwrap();
        assert!(
            em0(&st).find_vhid(1).is_none(),
            "{f:?}: the last address destroys the vhid"
        );
        assert_ne!(
            em0(&st).flags & sys::IFF_PROMISC,
            0,
            "{f:?}: vhid 2 remains"
        );
        del(&mut st, "192.0.2.2").unwrap();
        assert!(em0(&st).vhids.is_empty());
        assert_eq!(
            em0(&st).flags & sys::IFF_PROMISC,
            0,
            "{f:?}: the last vhid takes promisc with it"
        );
        assert_eq!(st.sysctl.demotion, 0);
    }
}

#[test]
fn readd_keeps_the_vhid() {
    for f in ALL {
        let mut st = host(f);
        mkvhid(&mut st, 1);
        st.nl_set_or_ioctl_advskew(1, 50);
        add(&mut st, "192.0.2.1/32", 1).unwrap();
        // The same address again: deleted with keep_cif, so vhid 1 (and its
        // settings) survive although it had no other address.
        add(&mut st, "192.0.2.1/32", 1).unwrap();
        assert_eq!(sc(&st, 1).advskew, 50, "{f:?}");
        assert_eq!(em0(&st).naddrs(1), 1);
        // Re-added without a vhid: the vhid stays, with no address.
        add(&mut st, "192.0.2.1/32", 0).unwrap();
        assert_eq!(sc(&st, 1).advskew, 50, "{f:?}");
        assert_eq!(em0(&st).naddrs(1), 0);
        // IPv6 is updated in place: same.
        add(&mut st, "2001:db8::1/64", 1).unwrap();
        add(&mut st, "2001:db8::1/64", 1).unwrap();
        assert_eq!(em0(&st).naddrs(1), 1);
        assert_eq!(sc(&st, 1).state, CarpState::Backup);
    }
}

impl HostState {
    /// Test helper: set advskew on vhid `vhid` of em0 by the flavor's API.
    fn nl_set_or_ioctl_advskew(&mut self, vhid: u8, advskew: i32) {
        let mut ev = Vec::new();
        if self.flavor.has_carp_ioctls() {
            self.siocsvh(
                Some("em0"),
                Some(&creq(i32::from(vhid), advskew, 0, b"", 0)),
                &mut ev,
            )
            .unwrap();
        } else {
            self.nl_set(
                &CarpAttrs {
                    advskew: Some(advskew),
                    ..nl(Some("em0"), vhid)
                },
                &mut ev,
            )
            .unwrap();
        }
    }
}

#[test]
fn difaddr_errno_rows() {
    for f in ALL {
        let mut st = host(f);
        let mut ev = Vec::new();
        let exact = DelAddr::Exact("192.0.2.10".parse().unwrap());
        assert_eq!(st.difaddr(Some("nope"), exact, &mut ev), Err(Errno::ENXIO));
        assert_eq!(st.difaddr(None, exact, &mut ev), Err(Errno::ENXIO));
        assert_eq!(
            st.difaddr(Some("em0"), DelAddr::Unmatched, &mut ev),
            Err(Errno::EADDRNOTAVAIL)
        );
        assert_eq!(del(&mut st, "192.0.2.99"), Err(Errno::EADDRNOTAVAIL));
        del(&mut st, "192.0.2.10").unwrap();
        assert_eq!(del(&mut st, "192.0.2.10"), Err(Errno::EADDRNOTAVAIL));
        let mut up = unpriv(f);
        assert_eq!(
            up.difaddr(Some("em0"), DelAddr::Unmatched, &mut ev),
            Err(Errno::EPERM)
        );
    }
}

#[test]
fn difaddr_delete_any_takes_the_first_ipv4_address() {
    // in_difaddr_ioctl(): a malformed sockaddr means "delete any".
    let mut st = host(Flavor::V14);
    mkvhid(&mut st, 1);
    add(&mut st, "2001:db8::1/64", 1).unwrap();
    add(&mut st, "192.0.2.1/32", 1).unwrap();
    st.difaddr(Some("em0"), DelAddr::FirstV4, &mut Vec::new())
        .unwrap();
    let left: Vec<String> = em0(&st)
        .addresses
        .iter()
        .map(|a| a.net.to_string())
        .collect();
    assert_eq!(left, ["2001:db8::10/64", "2001:db8::1/64", "192.0.2.1/32"]);
    st.difaddr(Some("em0"), DelAddr::FirstV4, &mut Vec::new())
        .unwrap();
    assert_eq!(em0(&st).naddrs(1), 1, "vhid 1 keeps its IPv6 address");
    assert!(em0(&st).find_vhid(1).is_some());
    assert_eq!(
        st.difaddr(Some("em0"), DelAddr::FirstV4, &mut Vec::new()),
        Err(Errno::EADDRNOTAVAIL)
    );
}

// ---------------------------------------------------------------------------
// §6: netlink
// ---------------------------------------------------------------------------

#[test]
fn nl_set_family_and_privilege() {
    let mut ev = Vec::new();
    assert_eq!(
        host(Flavor::V13).nl_set(&nl(Some("em0"), 1), &mut ev),
        Err(Errno::EOPNOTSUPP)
    );
    for f in NETLINK {
        let mut st = HostState {
            carp_loaded: false,
            ..host(f)
        };
        assert_eq!(
            st.nl_set(&nl(Some("em0"), 1), &mut ev),
            Err(Errno::EOPNOTSUPP)
        );
        // EPERM comes before the attributes are even looked at.
        let mut st = unpriv(f);
        assert_eq!(
            st.nl_set(&nl(Some("em0"), 1), &mut ev),
            Err(Errno::EPERM),
            "{f:?}"
        );
        assert_eq!(st.nl_set(&nl(None, 0), &mut ev), Err(Errno::EPERM), "{f:?}");
        assert!(em0(&st).vhids.is_empty());
    }
}

#[test]
fn nl_set_validation_order() {
    for f in NETLINK {
        let mut st = host(f);
        let mut ev = Vec::new();
        let mut try_set = |a: CarpAttrs| st.nl_set(&a, &mut ev);
        let long_key = CarpAttrs {
            key: Some(vec![b'k'; 21]),
            ..nl(None, 0)
        };
        assert_eq!(
            try_set(long_key),
            Err(Errno::EINVAL),
            "{f:?}: key > 20 while parsing"
        );
        // Value checks precede the interface lookup: no interface given.
        for a in [
            nl(None, 0),
            CarpAttrs {
                vhid: Some(256),
                ..nl(None, 0)
            },
            CarpAttrs {
                state: Some(3),
                ..nl(None, 1)
            },
            CarpAttrs {
                advbase: Some(-1),
                ..nl(None, 1)
            },
            CarpAttrs {
                advbase: Some(256),
                ..nl(None, 1)
            },
            CarpAttrs {
                advskew: Some(-1),
                ..nl(None, 1)
            },
            CarpAttrs {
                advskew: Some(255),
                ..nl(None, 1)
            },
        ] {
            assert_eq!(try_set(a.clone()), Err(Errno::EINVAL), "{f:?} {a:?}");
        }
        assert_eq!(
            try_set(nl(None, 1)),
            Err(Errno::ENXIO),
            "{f:?}: neither IFNAME nor IFINDEX"
        );
        assert_eq!(
            try_set(CarpAttrs {
                ifindex: Some(0),
                ..nl(None, 1)
            }),
            Err(Errno::ENXIO)
        );
        assert_eq!(
            try_set(CarpAttrs {
                ifindex: Some(99),
                ..nl(None, 1)
            }),
            Err(Errno::ENXIO)
        );
        assert_eq!(try_set(nl(Some("nope"), 1)), Err(Errno::ENXIO));
        // IFNAME wins over IFINDEX, also when it names nothing.
        assert_eq!(
            try_set(CarpAttrs {
                ifindex: Some(2),
                ..nl(Some("nope"), 1)
            }),
            Err(Errno::ENXIO)
        );
        assert_eq!(
            try_set(CarpAttrs {
                ifindex: Some(1),
                ..nl(None, 1)
            }),
            Err(Errno::EOPNOTSUPP),
            "lo0"
        );
        assert_eq!(
            try_set(CarpAttrs {
                ifindex: Some(1),
                ..nl(Some("em0"), 1)
            }),
            Ok(())
        );
        assert_eq!(
            try_set(CarpAttrs {
                ifindex: Some(3),
                ..nl(None, 1)
            }),
            Ok(()),
            "em1 by index"
        );
        assert!(st.interfaces[2].find_vhid(1).is_some());
        no_multicast(&mut st);
        assert_eq!(
            st.nl_set(&nl(Some("em0"), 2), &mut Vec::new()),
            Err(Errno::EADDRNOTAVAIL)
        );
    }
}

#[test]
fn nl_set_is_atomic_on_14_too() {
    // carp_nl_set() range-checks advbase/advskew before carp_ioctl_set().
    let mut st = host(Flavor::V14);
    let a = CarpAttrs {
        advskew: Some(255),
        advbase: Some(5),
        ..nl(Some("em0"), 3)
    };
    assert_eq!(st.nl_set(&a, &mut Vec::new()), Err(Errno::EINVAL));
    assert!(em0(&st).vhids.is_empty());
}

#[test]
fn nl_set_semantics() {
    for f in NETLINK {
        let mut st = host(f);
        let mut set = |a: CarpAttrs| st.nl_set(&a, &mut Vec::new()).unwrap();
        set(CarpAttrs {
            advbase: Some(4),
            advskew: Some(90),
            key: Some(b"pass".to_vec()),
            addr: Some([198, 51, 100, 7]),
            addr6: Some("2001:db8::7".parse::<Ipv6Addr>().unwrap().octets()),
            ..nl(Some("em0"), 1)
        });
        // Missing attributes count as zero: advskew replaced, advbase kept,
        // key and peers kept.
        set(CarpAttrs {
            key: Some(vec![0; 20]),
            addr: Some([0; 4]),
            addr6: Some([0; 16]),
            ..nl(Some("em0"), 1)
        });
        let s = sc(&st, 1);
        assert_eq!((s.advbase, s.advskew), (4, 0), "{f:?}");
        assert_eq!(&s.key.0[..5], b"pass\0");
        assert_eq!(
            (s.peer.to_string(), s.peer6.to_string()),
            ("198.51.100.7".into(), "2001:db8::7".into())
        );
    }
}

#[test]
fn nl_set_version_attributes_by_flavor() {
    // 14.x does not know attributes 10-12 and skips them.
    let mut st = host(Flavor::V14);
    let a = CarpAttrs {
        version: Some(9),
        vrrp_adv_inter: Some(5000),
        ..nl(Some("em0"), 1)
    };
    st.nl_set(&a, &mut Vec::new()).unwrap();
    assert_eq!(sc(&st, 1).version, 2);
    st.nl_set(
        &CarpAttrs {
            version: Some(3),
            ..nl(Some("em0"), 2)
        },
        &mut Vec::new(),
    )
    .unwrap();
    assert_eq!(sc(&st, 2).version, 2);

    for f in [Flavor::V15, Flavor::Main] {
        let mut st = host(f);
        let mut ev = Vec::new();
        assert_eq!(
            st.nl_set(
                &CarpAttrs {
                    version: Some(9),
                    ..nl(Some("em0"), 1)
                },
                &mut ev
            ),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            st.nl_set(
                &CarpAttrs {
                    version: Some(1),
                    ..nl(Some("em0"), 1)
                },
                &mut ev
            ),
            Err(Errno::EINVAL)
        );
        let inter = CarpAttrs {
            version: Some(3),
            vrrp_adv_inter: Some(4096),
            ..nl(Some("em0"), 1)
        };
        assert_eq!(
            st.nl_set(&inter, &mut ev),
            Err(Errno::EINVAL),
            "{f:?}: VRRP_MAX_INTERVAL is 4095"
        );
        assert!(em0(&st).vhids.is_empty());
        // Version 0 is CARP (compatibility).
        st.nl_set(
            &CarpAttrs {
                version: Some(0),
                ..nl(Some("em0"), 1)
            },
            &mut ev,
        )
        .unwrap();
        assert_eq!(sc(&st, 1).version, 2);
        // VRRP: the CARP ranges are not checked; priority/interval 0 keep.
        let v = CarpAttrs {
            version: Some(3),
            advskew: Some(300),
            vrrp_priority: Some(200),
            vrrp_adv_inter: Some(4095),
            ..nl(Some("em0"), 2)
        };
        st.nl_set(&v, &mut ev).unwrap();
        st.nl_set(
            &CarpAttrs {
                version: Some(3),
                ..nl(Some("em0"), 2)
            },
            &mut ev,
        )
        .unwrap();
        let s = sc(&st, 2);
        assert_eq!(
            (s.version, s.vrrp_priority, s.vrrp_adv_inter, s.advskew),
            (3, 200, 4095, 0),
            "{f:?}"
        );
        // A vhid's protocol cannot change.
        assert_eq!(
            st.nl_set(
                &CarpAttrs {
                    version: Some(3),
                    ..nl(Some("em0"), 1)
                },
                &mut ev
            ),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            st.nl_set(
                &CarpAttrs {
                    version: Some(2),
                    ..nl(Some("em0"), 2)
                },
                &mut ev
            ),
            Err(Errno::EINVAL)
        );
    }
}

fn dump(out: NlGetOut) -> (Vec<CarpAttrs>, i32) {
    match out {
        NlGetOut::Dump { entries, code } => (entries, code),
        NlGetOut::Error(e) => panic!("pre-dump error {e}"),
    }
}

#[test]
fn nl_get_errors_before_and_inside_the_dump() {
    assert!(host(Flavor::V13).nl_get(&nl(Some("em0"), 0)) == NlGetOut::Error(Errno::EOPNOTSUPP));
    for f in NETLINK {
        let mut st = host(f);
        assert!(
            st.nl_get(&nl(None, 0)) == NlGetOut::Error(Errno::ENXIO),
            "{f:?}"
        );
        assert!(st.nl_get(&nl(Some("nope"), 0)) == NlGetOut::Error(Errno::ENXIO));
        assert!(st.nl_get(&nl(Some("lo0"), 0)) == NlGetOut::Error(Errno::EOPNOTSUPP));
        let long_key = CarpAttrs {
            key: Some(vec![1; 21]),
            ..nl(Some("em0"), 0)
        };
        assert!(st.nl_get(&long_key) == NlGetOut::Error(Errno::EINVAL));
        assert_eq!(
            dump(st.nl_get(&nl(Some("em0"), 0))),
            (vec![], Errno::ENOENT.0),
            "{f:?}: no carp"
        );
        mkvhid(&mut st, 1);
        assert_eq!(
            dump(st.nl_get(&nl(Some("em0"), 2))),
            (vec![], Errno::ENOENT.0),
            "{f:?}: vhid absent"
        );
        let big = CarpAttrs {
            vhid: Some(256),
            ..nl(Some("em0"), 0)
        };
        assert_eq!(dump(st.nl_get(&big)), (vec![], Errno::EINVAL.0));
        let neg = CarpAttrs {
            vhid: Some(u32::MAX),
            ..nl(Some("em0"), 0)
        };
        assert_eq!(dump(st.nl_get(&neg)), (vec![], Errno::EINVAL.0));
        // No IFF_MULTICAST check for GET.
        no_multicast(&mut st);
        assert_eq!(dump(st.nl_get(&nl(Some("em0"), 1))).1, 0);
    }
}

#[test]
fn nl_get_entries_by_flavor_and_privilege() {
    for f in NETLINK {
        let mut st = host(f);
        let a = CarpAttrs {
            advbase: Some(2),
            advskew: Some(10),
            key: Some(b"k1".to_vec()),
            ..nl(Some("em0"), 4)
        };
        st.nl_set(&a, &mut Vec::new()).unwrap();
        mkvhid(&mut st, 1);
        let (entries, code) = dump(st.nl_get(&nl(Some("em0"), 0)));
        assert_eq!(code, 0);
        let mut key = vec![0u8; 20];
        key[..2].copy_from_slice(b"k1");
        let want = CarpAttrs {
            vhid: Some(4),
            state: Some(0),
            version: if f == Flavor::V14 { None } else { Some(2) },
            advbase: Some(2),
            advskew: Some(10),
            addr: Some([224, 0, 0, 18]),
            addr6: Some(sys::IN6ADDR_CARP_GROUP),
            key: Some(key),
            ..CarpAttrs::default()
        };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0], want, "{f:?}");
        assert_eq!(entries[1].vhid, Some(1), "creation order");
        // Unprivileged: GET works, without KEY.
        st.privileged = false;
        let (entries, _) = dump(st.nl_get(&CarpAttrs {
            ifindex: Some(2),
            ..nl(None, 4)
        }));
        assert_eq!(entries, [CarpAttrs { key: None, ..want }], "{f:?}");
    }
    let mut st = host(Flavor::V15);
    let v = CarpAttrs {
        version: Some(3),
        vrrp_priority: Some(150),
        ..nl(Some("em0"), 8)
    };
    st.nl_set(&v, &mut Vec::new()).unwrap();
    let (entries, _) = dump(st.nl_get(&nl(Some("em0"), 8)));
    let want = CarpAttrs {
        vhid: Some(8),
        state: Some(0),
        version: Some(3),
        vrrp_priority: Some(150),
        vrrp_adv_inter: Some(100),
        ..CarpAttrs::default()
    };
    assert_eq!(entries, [want]);
}

// ---------------------------------------------------------------------------
// §7: sysctls
// ---------------------------------------------------------------------------

#[test]
fn sysctl_names_defaults_and_flavors() {
    for (f, rel, date) in [
        (Flavor::V13_0, "13.0-RELEASE", 1_300_139),
        (Flavor::V13, "13.5-RELEASE", 1_305_000),
        (Flavor::V14, "14.1-RELEASE", 1_401_000),
        (Flavor::V15, "15.0-RELEASE", 1_500_019),
        (Flavor::Main, "16.0-CURRENT", 1_600_000),
    ] {
        let st = host(f);
        assert_eq!(st.sysctl_get("kern.osreldate"), Ok(SysctlValue::Int(date)));
        assert_eq!(
            st.sysctl_get("kern.osrelease"),
            Ok(SysctlValue::String(rel.into()))
        );
        for (name, v) in [
            ("allow", 1),
            ("preempt", 0),
            ("log", 1),
            ("demotion", 0),
            ("ifdown_demotion_factor", 240),
            ("senderr_demotion_factor", 240),
            ("dscp", 56),
        ] {
            assert_eq!(
                st.sysctl_get(&format!("net.inet.carp.{name}")),
                Ok(SysctlValue::Int(v)),
                "{name}"
            );
        }
        assert_eq!(
            st.sysctl_get("net.inet.carp.stats"),
            Ok(SysctlValue::Opaque(vec![0; 128]))
        );
        assert_eq!(
            st.sysctl_get("net.inet.carp.arpbalance"),
            Err(Errno::ENOENT)
        );
        assert_eq!(st.sysctl_get("kern.nope"), Err(Errno::ENOENT));
        let st = HostState {
            carp_loaded: false,
            ..host(f)
        };
        assert_eq!(st.sysctl_get("net.inet.carp.allow"), Err(Errno::ENOENT));
        assert_eq!(st.sysctl_get("kern.osreldate"), Ok(SysctlValue::Int(date)));
    }
}

#[test]
fn sysctl_write_errno_rows() {
    let mut st = host(Flavor::V14);
    let mut ev = Vec::new();
    assert_eq!(
        st.sysctl_set_int("net.inet.carp.nope", 1, &mut ev),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        st.sysctl_set_int("kern.osreldate", 1, &mut ev),
        Err(Errno::EPERM)
    );
    assert_eq!(
        st.sysctl_set_int("kern.osrelease", 1, &mut ev),
        Err(Errno::EPERM)
    );
    assert_eq!(
        st.sysctl_set_int("net.inet.carp.dscp", 64, &mut ev),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        st.sysctl_set_int("net.inet.carp.dscp", -1, &mut ev),
        Err(Errno::EINVAL)
    );
    st.sysctl_set_int("net.inet.carp.dscp", 63, &mut ev)
        .unwrap();
    st.sysctl_set_int("net.inet.carp.preempt", 1, &mut ev)
        .unwrap();
    st.sysctl_set_int("net.inet.carp.log", 2, &mut ev).unwrap();
    st.sysctl_set_int("net.inet.carp.ifdown_demotion_factor", 100, &mut ev)
        .unwrap();
    st.sysctl_set_int("net.inet.carp.senderr_demotion_factor", 50, &mut ev)
        .unwrap();
    assert_eq!(
        (
            st.sysctl.dscp,
            st.sysctl.preempt,
            st.sysctl.log,
            st.sysctl.ifdown_demotion_factor,
            st.sysctl.senderr_demotion_factor
        ),
        (63, 1, 2, 100, 50)
    );
    st.stats.badauth = 3;
    st.sysctl_set_int("net.inet.carp.stats", 0, &mut ev)
        .unwrap();
    assert_eq!(
        st.stats,
        state::Stats::default(),
        "a write zeroes the statistics"
    );

    let mut st = unpriv(Flavor::V14);
    assert_eq!(
        st.sysctl_set_int("net.inet.carp.preempt", 1, &mut ev),
        Err(Errno::EPERM)
    );
    assert_eq!(
        st.sysctl_set_int("net.inet.carp.nope", 1, &mut ev),
        Err(Errno::ENOENT)
    );
    let mut st = HostState {
        carp_loaded: false,
        ..host(Flavor::V14)
    };
    assert_eq!(
        st.sysctl_set_int("net.inet.carp.preempt", 1, &mut ev),
        Err(Errno::ENOENT)
    );
}

#[test]
fn demotion_is_additive() {
    let mut st = host(Flavor::V15);
    let mut ev = Vec::new();
    st.sysctl_set_int("net.inet.carp.demotion", 10, &mut ev)
        .unwrap();
    st.sysctl_set_int("net.inet.carp.demotion", -3, &mut ev)
        .unwrap();
    assert_eq!(
        st.sysctl_get("net.inet.carp.demotion"),
        Ok(SysctlValue::Int(7))
    );
    st.sysctl_set_int("net.inet.carp.demotion", 0, &mut ev)
        .unwrap();
    assert_eq!(st.sysctl.demotion, 7, "writing 0 adds nothing");
}

#[test]
fn allow_zero_sends_every_vhid_to_init_with_the_ifdown_demotion() {
    for f in ALL {
        let mut st = host(f);
        mkvhid(&mut st, 1);
        mkvhid(&mut st, 2);
        add(&mut st, "192.0.2.1/32", 1).unwrap();
        st.nl_set_or_ioctl_advskew(2, 0);
        // em1 gets a vhid with an address too.
        let mut ev = Vec::new();
        if f.has_carp_ioctls() {
            st.siocsvh(Some("em1"), Some(&creq(3, 0, 0, b"", 0)), &mut ev)
                .unwrap();
        } else {
            st.nl_set(&nl(Some("em1"), 3), &mut ev).unwrap();
        }
        st.aifaddr(Some("em1"), Some((net("198.51.100.1/32"), 3)), &mut ev)
            .unwrap();
        assert_eq!(st.interfaces[2].vhids[0].state, CarpState::Backup);

        let mut ev = Vec::new();
        st.sysctl_set_int("net.inet.carp.allow", 0, &mut ev)
            .unwrap();
        assert_eq!(
            st.sysctl.demotion,
            3 * 240,
            "{f:?}: once per vhid, addressless ones included"
        );
        assert!(
            st.interfaces
                .iter()
                .flat_map(|i| &i.vhids)
                .all(|s| s.state == CarpState::Init && s.suppressed)
        );
        assert_eq!(
            transitions(&ev),
            [
                "carp: 1@em0: BACKUP -> INIT (hardware interface down)",
                "carp: 3@em1: BACKUP -> INIT (hardware interface down)",
            ]
        );
        // No change, no effect.
        st.sysctl_set_int("net.inet.carp.allow", 0, &mut Vec::new())
            .unwrap();
        assert_eq!(st.sysctl.demotion, 720);
        // An address attached while allow=0 stays INIT; demoted already.
        add(&mut st, "192.0.2.2/32", 2).unwrap();
        assert_eq!(
            (sc(&st, 2).state, st.sysctl.demotion),
            (CarpState::Init, 720)
        );

        let mut ev = Vec::new();
        st.sysctl_set_int("net.inet.carp.allow", 1, &mut ev)
            .unwrap();
        assert_eq!(st.sysctl.demotion, 0, "{f:?}: undone");
        assert_eq!(
            (sc(&st, 1).state, sc(&st, 2).state),
            (CarpState::Backup, CarpState::Backup)
        );
        assert_eq!(st.interfaces[2].vhids[0].state, CarpState::Backup);
        assert!(
            st.interfaces
                .iter()
                .flat_map(|i| &i.vhids)
                .all(|s| !s.suppressed)
        );
    }
}

#[test]
fn removing_a_suppressed_vhid_undoes_its_demotion() {
    let mut st = host(Flavor::V14);
    mkvhid(&mut st, 1);
    add(&mut st, "192.0.2.1/32", 1).unwrap();
    st.sysctl_set_int("net.inet.carp.allow", 0, &mut Vec::new())
        .unwrap();
    assert_eq!(st.sysctl.demotion, 240);
    let mut ev = Vec::new();
    st.difaddr(
        Some("em0"),
        DelAddr::Exact("192.0.2.1".parse().unwrap()),
        &mut ev,
    )
    .unwrap();
    assert!(em0(&st).vhids.is_empty());
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Demotion {
            delta: -240,
            reason,
            ..
        } if reason == "vhid removed"
    )));
    assert_eq!(st.sysctl.demotion, 0, "vhid removed");
}

// ---------------------------------------------------------------------------
// §4: modules
// ---------------------------------------------------------------------------

#[test]
fn kldload_and_modfind() {
    let mut st = HostState {
        carp_loaded: false,
        ..host(Flavor::V13)
    };
    assert!(!st.modfind("carp"));
    assert!(st.modfind("netlink"));
    assert!(!st.modfind("pf"));
    let mut up = HostState {
        privileged: false,
        ..st.clone()
    };
    assert_eq!(up.kldload("carp"), Err(Errno::EPERM));
    assert_eq!(st.kldload("if_pfsync"), Err(Errno::ENOENT));
    st.kldload("/boot/kernel/carp.ko").unwrap();
    assert!(st.modfind("carp"));
    assert_eq!(st.kldload("carp"), Err(Errno::EEXIST));
    // Now carp(4) answers.
    st.siocsvh(Some("em0"), Some(&creq(1, 0, 0, b"", 0)), &mut Vec::new())
        .unwrap();
    assert_eq!(
        st.sysctl_get("net.inet.carp.allow"),
        Ok(SysctlValue::Int(1))
    );
}

#[test]
fn the_netlink_family_appears_with_carp_ko_on_14_and_later() {
    for f in ALL {
        let mut st = HostState {
            carp_loaded: false,
            ..host(f)
        };
        assert!(!st.carp_family_registered());
        st.kldload("carp").unwrap();
        assert_eq!(st.carp_family_registered(), f != Flavor::V13, "{f:?}");
    }
}
