//! Expected bytes are written out by hand from the layouts in docs/freebsd-carp.md
//! §3.1 (nlmsghdr 16 bytes: len u32, type u16, flags u16, seq u32, pid
//! u32; genlmsghdr: cmd u8, version u8, reserved u16; nlattr: len u16
//! including its 4-byte header, type u16, value padded to 4) and §6.4
//! (attribute numbers). Integers are little-endian (amd64).

use super::*;
use proptest::prelude::*;

/// Hex from lines that may carry spaces.
fn hx(lines: &[&str]) -> Vec<u8> {
    let joined: String = lines
        .concat()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    hex::decode(joined).expect("test vector is valid hex")
}

/// The highest carp attribute a 15.x kernel knows.
const MAX: u16 = nl::CARP_NL_MAX_ATTR;

/// The carp family id used throughout (any dynamic id > 16 will do).
const FAM: u16 = 0x22;

fn key20(pass: &[u8]) -> Vec<u8> {
    let mut k = pass.to_vec();
    k.resize(20, 0);
    k
}

// --- Requests, byte-exact ------------------------------------------------

/// What snl's `snl_get_genl_family` sends: `snl_create_msg_request` sets
/// `NLM_F_REQUEST | NLM_F_ACK` (0x005) on every request (netlink_snl.h).
#[test]
fn getfamily_carp_is_byte_exact() {
    let expected = hx(&[
        "20000000",           // nlmsg_len 32 = 16 hdr + 4 genl + 12 attr
        "1000",               // nlmsg_type 16 = GENL_ID_CTRL
        "0500",               // flags NLM_F_REQUEST | NLM_F_ACK
        "01000000",           // seq 1
        "00000000",           // pid 0
        "03000000",           // genl cmd 3 CTRL_CMD_GETFAMILY, version 0, reserved 0
        "09000200",           // nla_len 9 = 4 + "carp\0", type 2 CTRL_ATTR_FAMILY_NAME
        "63617270 00 000000", // "carp" NUL, 3 bytes of padding
    ]);
    assert_eq!(getfamily_request(1, "carp"), expected);
}

#[test]
fn get_dump_all_vhids_is_byte_exact() {
    let attrs = CarpAttrs {
        ifname: Some("em0".into()),
        ..Default::default()
    };
    let expected = hx(&[
        "1c000000", // nlmsg_len 28 = 16 + 4 + 8
        "2200",     // type 0x22 = the carp family id
        "0103",     // flags 0x0301 = NLM_F_REQUEST | NLM_F_DUMP (ROOT|MATCH)
        "07000000", // seq 7
        "00000000", // pid 0
        "01000000", // genl cmd 1 CARP_NL_CMD_GET, version 0 (snl), reserved
        "08000900", // nla_len 8 = 4 + "em0\0", type 9 CARP_NL_IFNAME
        "656d3000", // "em0" NUL
    ]);
    let got = carp_request(
        FAM,
        nl::CARP_NL_CMD_GET,
        nl::NLM_F_REQUEST | nl::NLM_F_DUMP,
        7,
        &attrs,
    );
    assert_eq!(got, expected);
}

/// libifconfig's GET of one vhid (`_ifconfig_carp_get`, C49/6E2): flags
/// `NLM_F_REQUEST | NLM_F_ACK` from snl plus `NLM_F_DUMP` = 0x305, IFNAME
/// first and VHID after it.
#[test]
fn get_vhid_1_is_byte_exact() {
    let attrs = CarpAttrs {
        vhid: Some(1),
        ifname: Some("em0".into()),
        ..Default::default()
    };
    let expected = hx(&[
        "24000000",          // nlmsg_len 36 = 16 + 4 + 8 + 8
        "2200",              // type 0x22
        "0503",              // 0x0305 = NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP
        "08000000",          // seq 8
        "00000000",          // pid 0
        "01000000",          // cmd GET, version 0
        "08000900 656d3000", // IFNAME (9): "em0\0"
        "08000100 01000000", // VHID (1): len 8, u32 1
    ]);
    let flags = nl::NLM_F_REQUEST | nl::NLM_F_ACK | nl::NLM_F_DUMP;
    assert_eq!(flags, 0x305);
    assert_eq!(
        carp_request(FAM, nl::CARP_NL_CMD_GET, flags, 8, &attrs),
        expected
    );
}

fn set_attrs() -> CarpAttrs {
    CarpAttrs {
        vhid: Some(1),
        state: Some(0),
        advbase: Some(1),
        advskew: Some(100),
        key: Some(key20(b"testpass")),
        addr: Some([0; 4]),
        addr6: Some([0; 16]),
        ifname: Some("em0".into()),
        ..Default::default()
    }
}

/// The SET of `set_attrs()`, flags REQUEST|ACK, seq 9.
fn set_vector() -> Vec<u8> {
    hx(&[
        "70000000",          // nlmsg_len 112 = 16 + 4 + 92 (8*5 + 8 + 20 + 24)
        "2200",              // type 0x22
        "0500",              // NLM_F_REQUEST | NLM_F_ACK (what snl sets)
        "09000000",          // seq 9
        "00000000",          // pid 0
        "02000000",          // cmd 2 CARP_NL_CMD_SET, version 0
        "08000100 01000000", // VHID 1
        "08000200 00000000", // STATE 0
        "08000300 01000000", // ADVBASE 1 (s32)
        "08000400 64000000", // ADVSKEW 100 (s32)
        "08000900 656d3000", // IFNAME "em0\0"
        "08000700 00000000", // ADDR 0.0.0.0 (4 raw bytes)
        "14000800 00000000000000000000000000000000", // ADDR6 :: (len 20)
        "18000500 7465737470617373 000000000000000000000000", // KEY len 24: "testpass" + 12 zeros
    ])
}

#[test]
fn set_is_byte_exact() {
    let got = carp_request(
        FAM,
        nl::CARP_NL_CMD_SET,
        nl::NLM_F_REQUEST | nl::NLM_F_ACK,
        9,
        &set_attrs(),
    );
    assert_eq!(got, set_vector());
}

#[test]
fn set_with_vrrp_attributes_is_byte_exact() {
    let attrs = CarpAttrs {
        vhid: Some(1),
        ifname: Some("em0".into()),
        version: Some(3),
        vrrp_priority: Some(100),
        vrrp_adv_inter: Some(100),
        ..Default::default()
    };
    let expected = hx(&[
        "3c000000",           // nlmsg_len 60 = 16 + 4 + 5 * 8
        "2200",               // type 0x22
        "0500",               // REQUEST | ACK
        "0a000000",           // seq 10
        "00000000",           // pid 0
        "02000000",           // cmd SET, version 0
        "08000100 01000000",  // VHID 1
        "08000900 656d3000",  // IFNAME "em0\0"
        "05000a00 03 000000", // VERSION (10): len 5, u8 3, 3 bytes padding
        "05000b00 64 000000", // VRRP_PRIORITY (11): len 5, u8 100, padding
        "06000c00 6400 0000", // VRRP_ADV_INTER (12): len 6, u16 100, padding
    ]);
    let got = carp_request(
        FAM,
        nl::CARP_NL_CMD_SET,
        nl::NLM_F_REQUEST | nl::NLM_F_ACK,
        10,
        &attrs,
    );
    assert_eq!(got, expected);
}

// --- Replies: hand-written vectors, decoded and re-encoded -----------------

/// nlctrl's answer for "carp" as `dump_family` writes it, with OPS.
fn family_carp_vector() -> Vec<u8> {
    hx(&[
        "6c000000",                                     // nlmsg_len 108 = 16 + 4 + 88
        "1000",                                         // type 16 GENL_ID_CTRL
        "0100",     // flags: the request's NLM_F_REQUEST, echoed by nlmsg_reply
        "01000000", // seq 1
        "64000000", // pid 100
        "01020000", // cmd 1 CTRL_CMD_NEWFAMILY, version 2 (the family's)
        "09000200 63617270 00000000", // FAMILY_NAME "carp\0" + padding (12)
        "06000100 2200 0000", // FAMILY_ID u16 0x22 + padding (8)
        "08000300 02000000", // VERSION 2
        "08000400 00000000", // HDRSIZE 0
        "08000500 02000000", // MAXATTR 2 (CARP_NL_CMD_MAX, §6.1)
        "2c000600", // OPS, len 44 = 4 + 2 * 20
        "14000100 08000100 01000000 08000200 0e000000", // op 1: ID 1, FLAGS DO|DUMP|HASPOL
        "14000200 08000100 02000000 08000200 0b000000", // op 2: ID 2, FLAGS DO|HASPOL|ADMIN_PERM
    ])
}

#[test]
fn family_reply_with_ops_decodes_and_skips_ops() {
    let replies = decode_replies(&family_carp_vector(), None).expect("valid family reply");
    let expected = FamilyInfo {
        id: 0x22,
        name: "carp".into(),
        version: 2,
        hdrsize: 0,
        maxattr: 2,
        ops: vec![(1, 0x0e), (2, 0x0b)],
        mcast_groups: vec![],
    };
    match replies.as_slice() {
        [Reply::Family { header, info }] => {
            assert_eq!(info, &expected);
            assert_eq!(
                *header,
                MsgHeader {
                    len: 108,
                    msg_type: 16,
                    flags: nl::NLM_F_REQUEST,
                    seq: 1,
                    pid: 100
                }
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// nlsysevent's family with two multicast groups (§11).
fn family_nlsysevent_vector() -> Vec<u8> {
    hx(&[
        "78000000",                                              // nlmsg_len 120 = 16 + 4 + 100
        "1000",                                                  // type 16
        "0100",                                                  // NLM_F_REQUEST echoed
        "02000000",                                              // seq 2
        "64000000",                                              // pid 100
        "01020000",                                              // NEWFAMILY, version 2
        "0f000200 6e6c7379736576656e74 00 00", // FAMILY_NAME "nlsysevent\0" len 15, pad 1 (16)
        "06000100 2300 0000",                  // FAMILY_ID 0x23
        "08000300 02000000",                   // VERSION 2
        "08000400 00000000",                   // HDRSIZE 0
        "08000500 04000000",                   // MAXATTR 4 (NLSE_ATTR_MAX)
        "34000700",                            // MCAST_GROUPS len 52 = 4 + 2 * 24
        "18000100 08000200 05000000 09000100 41435049 00000000", // #1: GRP_ID 5, GRP_NAME "ACPI"
        "18000200 08000200 09000000 09000100 43415250 00000000", // #2: GRP_ID 9, GRP_NAME "CARP"
    ])
}

fn nlsysevent_info() -> FamilyInfo {
    FamilyInfo {
        id: 0x23,
        name: "nlsysevent".into(),
        version: 2,
        hdrsize: 0,
        maxattr: 4,
        ops: vec![],
        mcast_groups: vec![("ACPI".into(), 5), ("CARP".into(), 9)],
    }
}

#[test]
fn family_reply_with_mcast_groups_decodes() {
    let replies = decode_replies(&family_nlsysevent_vector(), Some(FAM)).expect("valid");
    match replies.as_slice() {
        [Reply::Family { info, .. }] => assert_eq!(info, &nlsysevent_info()),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn family_reply_is_byte_exact() {
    let got = family_reply_flags(nl::NLM_F_REQUEST, 2, 100, &nlsysevent_info());
    assert_eq!(got, family_nlsysevent_vector());
    // The default flavour differs only in the flags field (bytes 6..8).
    let mut expected = family_nlsysevent_vector();
    expected[6] = 0;
    assert_eq!(family_reply(2, 100, &nlsysevent_info()), expected);
}

/// A 14.x GET entry (`carp_nl_send` @ D28): no VERSION, KEY as the
/// caller is privileged.
fn entry14_vector() -> Vec<u8> {
    hx(&[
        "68000000",                                           // nlmsg_len 104 = 16 + 4 + 84
        "2200",                                               // type 0x22
        "0200",                                               // NLM_F_MULTI
        "07000000",                                           // seq 7
        "64000000",                                           // pid 100
        "01000000",                                           // cmd GET, version 0
        "08000100 01000000",                                  // @20 VHID 1
        "08000200 02000000",                                  // @28 STATE 2 (MASTER)
        "08000300 01000000",                                  // @36 ADVBASE 1
        "08000400 64000000",                                  // @44 ADVSKEW 100
        "08000700 e0000012",                                  // @52 ADDR 224.0.0.18 (network order)
        "14000800 ff020000000000000000000000000012",          // @60 ADDR6 ff02::12
        "18000500 7465737470617373 000000000000000000000000", // @80 KEY, 20 raw bytes
    ])
}

fn entry14_attrs() -> CarpAttrs {
    CarpAttrs {
        vhid: Some(1),
        state: Some(2),
        advbase: Some(1),
        advskew: Some(100),
        key: Some(key20(b"testpass")),
        addr: Some([224, 0, 0, 18]),
        addr6: Some([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12]),
        ..Default::default()
    }
}

/// A 15.x entry in CARP mode, unprivileged caller (no KEY).
fn entry15_vector() -> Vec<u8> {
    hx(&[
        "58000000", // nlmsg_len 88 = 16 + 4 + 68
        "2200",
        "0200", // NLM_F_MULTI
        "07000000",
        "64000000",
        "01000000",
        "08000100 02000000",                         // VHID 2
        "08000200 01000000",                         // STATE 1 (BACKUP)
        "05000a00 02000000",                         // VERSION u8 2, padded
        "08000300 01000000",                         // ADVBASE 1
        "08000400 00000000",                         // ADVSKEW 0
        "08000700 e0000012",                         // ADDR 224.0.0.18
        "14000800 ff020000000000000000000000000012", // ADDR6 ff02::12
    ])
}

fn entry15_attrs() -> CarpAttrs {
    CarpAttrs {
        vhid: Some(2),
        state: Some(1),
        version: Some(2),
        advbase: Some(1),
        advskew: Some(0),
        addr: Some([224, 0, 0, 18]),
        addr6: Some([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12]),
        ..Default::default()
    }
}

/// A 15.x entry in VRRP mode: VRRP_PRIORITY and VRRP_ADV_INTER instead
/// of the CARP fields.
fn entry_vrrp_vector() -> Vec<u8> {
    hx(&[
        "3c000000", // nlmsg_len 60 = 16 + 4 + 40
        "2200",
        "0200",
        "07000000",
        "64000000",
        "01000000",
        "08000100 03000000", // VHID 3
        "08000200 02000000", // STATE MASTER
        "05000a00 03000000", // VERSION 3
        "05000b00 64000000", // VRRP_PRIORITY 100
        "06000c00 64000000", // VRRP_ADV_INTER 100 (u16) + 2 padding
    ])
}

fn entry_vrrp_attrs() -> CarpAttrs {
    CarpAttrs {
        vhid: Some(3),
        state: Some(2),
        version: Some(3),
        vrrp_priority: Some(100),
        vrrp_adv_inter: Some(100),
        ..Default::default()
    }
}

fn done_vector(code_hex: &str) -> Vec<u8> {
    hx(&[
        "14000000", // nlmsg_len 20 = 16 + 4
        "0300",     // NLMSG_DONE
        "0000",     // flags 0 (_nlmsg_end_dump)
        "07000000", // seq 7
        "64000000", // pid 100
        code_hex,   // int result code
    ])
}

fn single_carp(buf: &[u8]) -> (MsgHeader, u8, CarpAttrs) {
    match decode_replies(buf, Some(FAM)).expect("valid").as_slice() {
        [Reply::Carp { header, cmd, attrs }] => (*header, *cmd, attrs.clone()),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn get_entry_14_decodes_and_encodes() {
    let (header, cmd, attrs) = single_carp(&entry14_vector());
    assert_eq!(
        header,
        MsgHeader {
            len: 104,
            msg_type: FAM,
            flags: nl::NLM_F_MULTI,
            seq: 7,
            pid: 100
        }
    );
    assert_eq!(cmd, nl::CARP_NL_CMD_GET);
    assert_eq!(attrs, entry14_attrs());
    assert_eq!(carp_reply(FAM, 7, 100, &entry14_attrs()), entry14_vector());
}

#[test]
fn get_entry_15_decodes_and_encodes() {
    assert_eq!(single_carp(&entry15_vector()).2, entry15_attrs());
    assert_eq!(carp_reply(FAM, 7, 100, &entry15_attrs()), entry15_vector());
}

#[test]
fn get_entry_vrrp_decodes_and_encodes() {
    assert_eq!(single_carp(&entry_vrrp_vector()).2, entry_vrrp_attrs());
    assert_eq!(
        carp_reply(FAM, 7, 100, &entry_vrrp_attrs()),
        entry_vrrp_vector()
    );
}

#[test]
fn carp_reply_flags_sets_the_given_flags() {
    let got = carp_reply_flags(FAM, 0x0303, 7, 100, &entry_vrrp_attrs());
    let mut expected = entry_vrrp_vector();
    expected[6] = 0x03; // REQUEST | MULTI
    expected[7] = 0x03; // DUMP (ROOT | MATCH)
    assert_eq!(got, expected);
}

#[test]
fn datagram_with_two_entries_and_done() {
    let mut buf = entry14_vector();
    buf.extend(entry15_vector());
    buf.extend(done_vector("00000000"));
    let replies = decode_replies(&buf, Some(FAM)).expect("valid datagram");
    assert_eq!(replies.len(), 3);
    assert!(matches!(&replies[0], Reply::Carp { attrs, .. } if *attrs == entry14_attrs()));
    assert!(matches!(&replies[1], Reply::Carp { attrs, .. } if *attrs == entry15_attrs()));
    assert!(
        matches!(&replies[2], Reply::Done { code: 0, header } if header.seq == 7 && header.len == 20)
    );
}

#[test]
fn carp_messages_are_other_without_a_family_id() {
    let replies = decode_replies(&entry14_vector(), None).expect("valid");
    assert!(matches!(replies.as_slice(), [Reply::Other { header }] if header.msg_type == FAM));
    let replies = decode_replies(&entry14_vector(), Some(FAM + 1)).expect("valid");
    assert!(matches!(replies.as_slice(), [Reply::Other { .. }]));
}

#[test]
fn done_codes() {
    // ENOENT as FreeBSD writes it: positive.
    let r = decode_replies(&done_vector("02000000"), None).expect("valid");
    assert!(matches!(r.as_slice(), [Reply::Done { code: 2, .. }]));
    // A negative code (Linux style) decodes to the same errno.
    let r = decode_replies(&done_vector("feffffff"), None).expect("valid");
    assert!(matches!(r.as_slice(), [Reply::Done { code: 2, .. }]));
    // DONE without payload means 0.
    let bare = hx(&["10000000", "0300", "0000", "07000000", "64000000"]);
    let r = decode_replies(&bare, None).expect("valid");
    assert!(matches!(r.as_slice(), [Reply::Done { code: 0, header }] if header.len == 16));
    // The encoder writes the positive errno whatever sign it is given.
    assert_eq!(done_message(7, 100, 2), done_vector("02000000"));
    assert_eq!(done_message(7, 100, -2), done_vector("02000000"));
    assert_eq!(done_message(7, 100, 0), done_vector("00000000"));
}

/// The header of `set_vector()` as the kernel saw it (pid stamped 100).
fn set_header() -> MsgHeader {
    MsgHeader {
        len: 112,
        msg_type: FAM,
        flags: nl::NLM_F_REQUEST | nl::NLM_F_ACK,
        seq: 9,
        pid: 100,
    }
}

fn ack_vector(code_hex: &str) -> Vec<u8> {
    hx(&[
        "24000000",                             // nlmsg_len 36 = 16 + 4 + 16
        "0200",                                 // NLMSG_ERROR
        "0001",                                 // flags 0x100 NLM_F_CAPPED (header-only echo)
        "09000000",                             // seq 9 (the request's)
        "64000000",                             // pid 100 (the socket's port)
        code_hex,                               // error
        "70000000 2200 0500 09000000 64000000", // echoed nlmsghdr of the SET
    ])
}

#[test]
fn error_ack_decodes_and_encodes() {
    let r = decode_replies(&ack_vector("00000000"), Some(FAM)).expect("valid");
    match r.as_slice() {
        [
            Reply::Error {
                header,
                code: 0,
                request: Some(req),
            },
        ] => {
            assert_eq!(*req, set_header());
            assert_eq!(header.flags, NLM_F_CAPPED);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        error_message(9, 100, 0, &set_header()),
        ack_vector("00000000")
    );
}

#[test]
fn error_minus_22_decodes_to_einval() {
    let r = decode_replies(&ack_vector("eaffffff"), Some(FAM)).expect("valid");
    assert!(matches!(
        r.as_slice(),
        [Reply::Error {
            code: 22,
            request: Some(_),
            ..
        }]
    ));
    // Encoded positive, as nlmsg_ack writes the handler's errno.
    assert_eq!(
        error_message(9, 100, -22, &set_header()),
        ack_vector("16000000")
    );
    assert_eq!(
        error_message(9, 100, 22, &set_header()),
        ack_vector("16000000")
    );
}

#[test]
fn error_without_echo_and_with_extras() {
    let bare = hx(&[
        "14000000", "0200", "0000", "09000000", "64000000", "16000000",
    ]);
    let r = decode_replies(&bare, None).expect("valid");
    assert!(matches!(
        r.as_slice(),
        [Reply::Error {
            code: 22,
            request: None,
            ..
        }]
    ));
    // Uncapped: the whole request follows the code; tolerated.
    let full = error_message_echo(100, 22, &set_vector());
    let r = decode_replies(&full, Some(FAM)).expect("valid");
    match r.as_slice() {
        [
            Reply::Error {
                header,
                code: 22,
                request: Some(req),
            },
        ] => {
            assert_eq!(req.len, 112);
            assert_eq!(header.flags, 0);
            assert_eq!(header.len, 16 + 4 + 112);
            assert_eq!(header.seq, 9);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn error_message_echo_matches_nlmsg_ack() {
    // Ack: the header only, NLM_F_CAPPED, pid stamped to the port (100):
    // the same bytes as ack_vector.
    assert_eq!(
        error_message_echo(100, 0, &set_vector()),
        ack_vector("00000000")
    );
    // Error: flags 0, code 22, then all 112 request bytes with the pid
    // stamped (echo bytes 12..16).
    let err = error_message_echo(100, -22, &set_vector());
    let mut expected = hx(&[
        "84000000", // nlmsg_len 132 = 16 + 4 + 112
        "0200",     // NLMSG_ERROR
        "0000",     // flags 0: not capped
        "09000000", // seq 9
        "64000000", // pid 100
        "16000000", // error 22 (EINVAL), positive
    ]);
    let mut echo = set_vector();
    echo[12] = 0x64;
    expected.extend(echo);
    assert_eq!(err, expected);
    // A request shorter than its header is zero-filled to 16 bytes.
    let short = error_message_echo(1, 5, &[0x10, 0, 0, 0, 0x22]);
    assert_eq!(
        short,
        hx(&[
            "24000000 0200 0000 00000000 01000000 05000000",
            "10000000 2200 0000 00000000 01000000",
        ])
    );
}

#[test]
fn unknown_attribute_is_kept_in_order() {
    // The 15.x entry plus attribute 13 (u32 7) and 0x8000|14 (an empty
    // nested attribute): both unknown, kept with their raw types.
    let mut buf = entry15_vector();
    buf.extend(hx(&["0800 0d00 07000000", "0400 0e80"]));
    buf[0] = 88 + 12;
    let (_, _, attrs) = single_carp(&buf);
    let mut expected = entry15_attrs();
    expected.unknown = vec![(13, vec![7, 0, 0, 0]), (0x800e, vec![])];
    assert_eq!(attrs, expected);
    // And they go out again as they came.
    assert_eq!(carp_reply(FAM, 7, 100, &expected), buf);
}

/// `nlattr_get_string` (netlink_message_parser.c @ 013ab21c): the string
/// ends at its first NUL, and a value without one is EINVAL (so is an empty
/// value: `strnlen(data, 0) >= 0`).
#[test]
fn ifname_stops_at_the_first_nul_and_must_have_one() {
    let with_tail = hx(&[
        "20000000 2200 0100 01000000 00000000 01000000",
        "0c000900 656d30 00 787878 00", // IFNAME "em0\0xxx\0"
    ]);
    let r = decode_request(&with_tail, FAM, MAX).expect("valid");
    assert!(matches!(r, Request::Carp { ref attrs, .. } if attrs.ifname.as_deref() == Some("em0")));
    let no_nul = hx(&[
        "1c000000 2200 0100 01000000 00000000 01000000",
        "07000900 656d30 00",
    ]);
    let e = decode_request(&no_nul, FAM, MAX).unwrap_err().to_string();
    assert!(
        e.contains("byte 20: CARP_NL_IFNAME: 3 byte(s) without a terminating NUL"),
        "{e}"
    );
    let empty = hx(&["18000000 2200 0100 01000000 00000000 01000000 04000900"]);
    let e = decode_request(&empty, FAM, MAX).unwrap_err().to_string();
    assert!(e.contains("CARP_NL_IFNAME: 0 byte(s)"), "{e}");
    // The family name of a lookup is read the same way.
    let mut getfam = getfamily_request(1, "carp");
    getfam[28] = b'x'; // overwrite the NUL: "carpx", no terminator left
    assert!(decode_request(&getfam, FAM, MAX).is_err());
}

/// A request whose last attribute overruns the message: FreeBSD's
/// `NLA_FOREACH` stops before it without an error, so the attribute is
/// simply not there. A reply is held to more: the same bytes fail.
#[test]
fn an_overrunning_attribute_ends_a_request_silently() {
    // VHID 7, then IFNAME claiming 12 bytes where 8 are left.
    let buf = hx(&[
        "24000000 2200 0100 01000000 00000000 02000000",
        "08000100 07000000",
        "0c000900 656d3000",
    ]);
    match decode_request(&buf, FAM, MAX).expect("valid for FreeBSD") {
        Request::Carp { attrs, .. } => {
            assert_eq!(attrs.vhid, Some(7));
            assert_eq!(attrs.ifname, None, "the overrunning IFNAME is not read");
        }
        other => panic!("unexpected {other:?}"),
    }
    // A last attribute whose padded length overruns (a 1-byte VERSION at
    // the very end of an unpadded message) is dropped the same way.
    let buf = hx(&[
        "21000000 2200 0100 01000000 00000000 02000000",
        "08000100 07000000",
        "05000a00 03",
    ]);
    match decode_request(&buf, FAM, MAX).expect("valid for FreeBSD") {
        Request::Carp { attrs, .. } => assert_eq!(attrs.version, None),
        other => panic!("unexpected {other:?}"),
    }
    // nla_len below the 4-byte header inside the message is EINVAL.
    let buf = hx(&[
        "1c000000 2200 0100 01000000 00000000 02000000",
        "02000100 00000000",
    ]);
    let e = decode_request(&buf, FAM, MAX).unwrap_err().to_string();
    assert!(
        e.contains("byte 20: nla_len 2 is less than the 4-byte header"),
        "{e}"
    );
}

/// 14.x knows attributes 1-9: with that maximum, VERSION and the VRRP
/// attributes are skipped unchecked (a malformed one is no error), as its
/// parser skips what it does not know.
#[test]
fn attributes_the_kernel_does_not_know_are_skipped_unchecked() {
    let buf = hx(&[
        "24000000 2200 0100 01000000 00000000 02000000",
        "08000100 07000000",
        "08000a00 03000000", // VERSION of 4 bytes: EINVAL on 15.x
    ]);
    assert!(decode_request(&buf, FAM, MAX).is_err());
    match decode_request(&buf, FAM, nl::CARP_NL_MAX_ATTR_14).expect("valid on 14.x") {
        Request::Carp { attrs, .. } => {
            assert_eq!(attrs.version, None);
            assert_eq!(attrs.unknown, vec![(10, vec![3, 0, 0, 0])]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

// --- Round trips ------------------------------------------------------------

fn every_attr() -> CarpAttrs {
    CarpAttrs {
        vhid: Some(255),
        state: Some(2),
        advbase: Some(-1),
        advskew: Some(240),
        key: Some(vec![1, 2, 3]),
        ifindex: Some(4),
        addr: Some([192, 0, 2, 1]),
        addr6: Some([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ifname: Some("vlan0.100".into()),
        version: Some(3),
        vrrp_priority: Some(254),
        vrrp_adv_inter: Some(4095),
        unknown: vec![(42, vec![9, 9, 9, 9, 9])],
    }
}

#[test]
fn requests_round_trip() {
    let r = decode_request(&getfamily_request(5, "carp"), FAM, MAX).expect("valid");
    match r {
        Request::GetFamily { header, name } => {
            assert_eq!(name, "carp");
            assert_eq!(
                header,
                MsgHeader {
                    len: 32,
                    msg_type: 16,
                    flags: nl::NLM_F_REQUEST | nl::NLM_F_ACK,
                    seq: 5,
                    pid: 0
                }
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    for (cmd, attrs) in [
        (nl::CARP_NL_CMD_SET, set_attrs()),
        (
            nl::CARP_NL_CMD_GET,
            CarpAttrs {
                ifname: Some("em0".into()),
                ..Default::default()
            },
        ),
        (nl::CARP_NL_CMD_SET, every_attr()),
        (7, CarpAttrs::default()),
    ] {
        let buf = carp_request(FAM, cmd, nl::NLM_F_REQUEST | nl::NLM_F_ACK, 3, &attrs);
        match decode_request(&buf, FAM, MAX).expect("valid") {
            Request::Carp {
                header,
                cmd: got_cmd,
                attrs: got,
            } => {
                assert_eq!(got, attrs);
                assert_eq!(got_cmd, cmd);
                assert_eq!(header.len as usize, buf.len());
                assert_eq!(header.flags, nl::NLM_F_REQUEST | nl::NLM_F_ACK);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn other_requests() {
    let noop = hx(&["10000000 0100 0100 01000000 00000000"]);
    assert!(
        matches!(decode_request(&noop, FAM, MAX), Ok(Request::Other { header }) if header.msg_type == 1)
    );
    let other_family = carp_request(FAM + 1, 1, 1, 1, &CarpAttrs::default());
    assert!(matches!(
        decode_request(&other_family, FAM, MAX),
        Ok(Request::Other { .. })
    ));
    // nlctrl with another command (CTRL_CMD_GETOPS = 6).
    let getops = hx(&["14000000 1000 0100 01000000 00000000", "06010000"]);
    assert!(matches!(
        decode_request(&getops, FAM, MAX),
        Ok(Request::Other { .. })
    ));
}

#[test]
fn replies_round_trip_in_one_datagram() {
    let mut buf = carp_reply(FAM, 4, 9, &every_attr());
    buf.extend(carp_reply(FAM, 4, 9, &CarpAttrs::default()));
    buf.extend(family_reply(4, 9, &nlsysevent_info()));
    buf.extend(done_message(4, 9, 2));
    buf.extend(error_message(4, 9, 17, &set_header()));
    let r = decode_replies(&buf, Some(FAM)).expect("valid");
    // IFNAME and IFINDEX are request-only: carp_reply does not send them.
    let mut sent = every_attr();
    sent.ifname = None;
    sent.ifindex = None;
    assert_eq!(r.len(), 5);
    assert!(matches!(&r[0], Reply::Carp { attrs, cmd: 1, .. } if *attrs == sent));
    assert!(matches!(&r[1], Reply::Carp { attrs, .. } if *attrs == CarpAttrs::default()));
    assert!(matches!(&r[2], Reply::Family { info, .. } if *info == nlsysevent_info()));
    assert!(matches!(&r[3], Reply::Done { code: 2, .. }));
    assert!(matches!(&r[4], Reply::Error { code: 17, request: Some(h), .. } if *h == set_header()));
}

#[test]
fn unaligned_message_length_is_followed_at_the_aligned_offset() {
    // A DONE whose nlmsg_len (21) is not a multiple of 4: the next
    // message starts at NLMSG_ALIGN(21) = 24.
    let mut buf = hx(&["15000000 0300 0000 01000000 00000000 00000000 ff 000000"]);
    buf.extend(done_vector("02000000"));
    let r = decode_replies(&buf, None).expect("valid");
    assert!(matches!(
        r.as_slice(),
        [Reply::Done { code: 0, .. }, Reply::Done { code: 2, .. }]
    ));
}

// --- Bad inputs ---------------------------------------------------------------

fn reply_err(buf: &[u8]) -> String {
    decode_replies(buf, Some(FAM))
        .expect_err("must be refused")
        .to_string()
}

#[test]
fn every_truncation_of_a_reply_is_an_error() {
    let full = entry14_vector();
    for n in 1..full.len() {
        let e = reply_err(&full[..n]);
        assert!(
            e.starts_with("netlink reply: message 0 (at byte 0): byte 0: "),
            "{n}: {e}"
        );
        if n < 16 {
            assert!(
                e.contains(&format!("truncated nlmsghdr: {n} bytes, want 16")),
                "{n}: {e}"
            );
        } else {
            assert!(
                e.contains(&format!(
                    "nlmsg_len 104 runs past the end of the datagram ({n} bytes left)"
                )),
                "{e}"
            );
        }
    }
}

#[test]
fn every_truncation_of_a_request_is_an_error() {
    let full = set_vector();
    for n in 0..full.len() {
        let e = decode_request(&full[..n], FAM, MAX)
            .expect_err("must be refused")
            .to_string();
        assert!(
            e.starts_with("netlink request: message 0 (at byte 0)"),
            "{n}: {e}"
        );
    }
}

#[test]
fn truncation_in_the_second_message_names_it() {
    let mut buf = entry15_vector();
    buf.extend(&done_vector("00000000")[..10]);
    let e = reply_err(&buf);
    assert!(
        e.contains("message 1 (at byte 88): byte 88: truncated nlmsghdr: 10 bytes, want 16"),
        "{e}"
    );
}

#[test]
fn nlmsg_len_too_small_or_too_large() {
    let mut small = done_vector("00000000");
    small[0] = 12;
    assert!(reply_err(&small).contains("byte 0: nlmsg_len 12 is less than the 16-byte header"));
    let mut large = done_vector("00000000");
    large[0] = 200;
    assert!(
        reply_err(&large)
            .contains("nlmsg_len 200 runs past the end of the datagram (20 bytes left)")
    );
    let mut huge = done_vector("00000000");
    huge[..4].copy_from_slice(&u32::MAX.to_ne_bytes());
    assert!(reply_err(&huge).contains("nlmsg_len 4294967295 runs past the end"));
}

#[test]
fn attribute_overrunning_its_message() {
    // Claim 100 bytes: the KEY attribute at byte 80 (len 24) overruns.
    let mut buf = entry14_vector();
    buf.truncate(100);
    buf[0] = 100;
    let e = reply_err(&buf);
    assert!(
        e.contains(
            "byte 80: attribute type 5: nla_len 24 overruns the enclosing data (20 bytes left)"
        ),
        "{e}"
    );
    // Two stray bytes after the last attribute.
    let mut buf = entry_vrrp_vector();
    buf.extend([0, 0, 0, 0]);
    buf[0] = 62;
    assert!(reply_err(&buf).contains("byte 60: truncated attribute header: 2 bytes, want 4"));
    // nla_len below its own header.
    let mut buf = entry_vrrp_vector();
    buf[20] = 2;
    assert!(
        reply_err(&buf)
            .contains("byte 20: attribute type 1: nla_len 2 is less than the 4-byte header")
    );
}

#[test]
fn nested_overrun_in_mcast_groups_is_an_error() {
    let mut buf = family_nlsysevent_vector();
    buf[72] = 0x40; // MCAST_GROUPS is at 68; its first group entry claims 64 bytes of a 48-byte list
    let e = reply_err(&buf);
    assert!(
        e.contains(
            "byte 72: attribute type 1: nla_len 64 overruns the enclosing data (48 bytes left)"
        ),
        "{e}"
    );
}

#[test]
fn key_of_21_bytes_is_refused() {
    let buf = hx(&[
        "30000000 2200 0200 07000000 64000000", // nlmsg_len 48 = 16 + 4 + 28
        "01000000",
        "19000500 000102030405060708090a0b0c0d0e0f1011121314 000000", // KEY len 25: 21 bytes
    ]);
    let e = reply_err(&buf);
    assert!(
        e.contains("byte 20: CARP_NL_KEY: 21 bytes, want at most 20"),
        "{e}"
    );
    assert!(!e.contains("0102"), "no key bytes in errors: {e}");
    let e = decode_request(&buf, FAM, MAX)
        .expect_err("refused")
        .to_string();
    assert!(e.contains("CARP_NL_KEY: 21 bytes, want at most 20"));
}

#[test]
fn short_and_empty_keys_are_accepted() {
    let buf = hx(&[
        "1c000000 2200 0200 07000000 64000000 01000000",
        "07000500 616263 00",
    ]);
    assert_eq!(single_carp(&buf).2.key, Some(b"abc".to_vec()));
    let buf = hx(&["18000000 2200 0200 07000000 64000000 01000000", "04000500"]);
    assert_eq!(single_carp(&buf).2.key, Some(vec![]));
}

#[test]
fn vhid_of_2_bytes_is_refused() {
    let buf = hx(&[
        "1c000000 2200 0200 07000000 64000000 01000000", // nlmsg_len 28
        "06000100 0100 0000",                            // VHID len 6: u16
    ]);
    assert_eq!(
        reply_err(&buf),
        "netlink reply: message 0 (at byte 0): byte 20: CARP_NL_VHID: 2 bytes, want 4"
    );
}

#[test]
fn wrong_sizes_name_the_attribute() {
    for (attr, want) in [
        ("05000200 01 000000", "CARP_NL_STATE: 1 bytes, want 4"),
        ("08000a00 03000000", "CARP_NL_VERSION: 4 bytes, want 1"),
        (
            "08000c00 64000000",
            "CARP_NL_VRRP_ADV_INTER: 4 bytes, want 2",
        ),
        ("08000800 ff020000", "CARP_NL_ADDR6: 4 bytes, want 16"),
        ("06000700 e000 0000", "CARP_NL_ADDR: 2 bytes, want 4"),
        ("07000900 ff fe 00 00", "CARP_NL_IFNAME: not valid UTF-8"),
    ] {
        let buf = hx(&["1c000000 2200 0200 07000000 64000000 01000000", attr]);
        let e = reply_err(&buf);
        assert!(e.ends_with(&format!("byte 20: {want}")), "{e}");
    }
}

#[test]
fn bad_done_and_error_payloads() {
    let done = hx(&["12000000 0300 0000 07000000 64000000 0000 0000"]);
    assert!(reply_err(&done).contains("byte 16: NLMSG_DONE: payload 2 bytes, want 4 (or none)"));
    let err = hx(&["12000000 0200 0000 07000000 64000000 0000 0000"]);
    assert!(reply_err(&err).contains("byte 16: NLMSG_ERROR: payload 2 bytes, want at least 4"));
    let partial = hx(&["1c000000 0200 0000 07000000 64000000 00000000 70000000 22000500"]);
    assert!(
        reply_err(&partial)
            .contains("byte 20: NLMSG_ERROR: echoed request header 8 bytes, want 16")
    );
}

#[test]
fn genl_messages_need_a_genl_header() {
    let carp = hx(&["12000000 2200 0200 07000000 64000000 0100 0000"]);
    assert!(reply_err(&carp).contains("byte 16: truncated genlmsghdr: 2 bytes, want 4"));
    let ctrl = hx(&["10000000 1000 0000 07000000 64000000"]);
    assert!(reply_err(&ctrl).contains("byte 16: truncated genlmsghdr: 0 bytes, want 4"));
}

#[test]
fn bad_family_replies() {
    // No FAMILY_ID.
    let no_id = hx(&[
        "20000000 1000 0000 01000000 00000000 01020000",
        "09000200 63617270 00000000",
    ]);
    assert!(reply_err(&no_id).contains("byte 20: CTRL_ATTR_FAMILY_ID missing"));
    // FAMILY_ID as u32.
    let wide = hx(&[
        "1c000000 1000 0000 01000000 00000000 01020000",
        "08000100 22000000",
    ]);
    assert!(reply_err(&wide).contains("byte 20: CTRL_ATTR_FAMILY_ID: 4 bytes, want 2"));
    // A group entry without GRP_ID.
    let mut buf = family_nlsysevent_vector();
    buf[78] = 0x0f; // GRP_ID of entry 1 (at 76, type at 78) becomes attribute 15 (unknown)
    assert!(
        reply_err(&buf)
            .contains("byte 72: CTRL_ATTR_MCAST_GROUPS entry without CTRL_ATTR_MCAST_GRP_ID")
    );
    // Other nlctrl commands are skipped, not decoded.
    let mut buf = family_carp_vector();
    buf[16] = 2; // CTRL_CMD_DELFAMILY
    assert!(matches!(
        decode_replies(&buf, None).expect("valid").as_slice(),
        [Reply::Other { .. }]
    ));
}

#[test]
fn bad_requests() {
    let mut two = getfamily_request(1, "carp");
    two.extend(getfamily_request(2, "carp"));
    let e = decode_request(&two, FAM, MAX)
        .expect_err("refused")
        .to_string();
    assert!(
        e.contains("byte 32: 32 bytes after the message; a request is one message"),
        "{e}"
    );
    let nameless = hx(&["14000000 1000 0100 01000000 00000000 03010000"]);
    let e = decode_request(&nameless, FAM, MAX)
        .expect_err("refused")
        .to_string();
    assert!(
        e.contains("byte 20: CTRL_CMD_GETFAMILY without CTRL_ATTR_FAMILY_NAME"),
        "{e}"
    );
    let e = decode_request(&[], FAM, MAX)
        .expect_err("refused")
        .to_string();
    assert!(e.contains("truncated nlmsghdr: 0 bytes, want 16"));
}

// --- Secrets -----------------------------------------------------------------

#[test]
fn debug_output_hides_the_key() {
    let shown = format!("{:?}", set_attrs());
    assert!(shown.contains("key: Some(<20 bytes redacted>)"), "{shown}");
    assert!(!shown.contains("116, 101, 115, 116"), "{shown}"); // "test"
    let reply = Reply::Carp {
        header: MsgHeader::default(),
        cmd: 1,
        attrs: entry14_attrs(),
    };
    assert!(!format!("{reply:?}").contains("116, 101"));
}

#[test]
fn redact_key_zeroes_the_key_and_nothing_else() {
    let mut buf = set_vector();
    redact_key(&mut buf);
    let mut expected = set_vector();
    expected[92..112].fill(0); // the KEY value; its header at 88..92 stays
    assert_eq!(buf, expected);
    assert_eq!(&buf[88..92], &hx(&["18000500"])[..]);
}

#[test]
fn redact_key_covers_every_message_and_echoes() {
    let mut buf = entry14_vector();
    buf.extend(entry14_vector());
    buf.extend(error_message_echo(100, 22, &set_vector()));
    buf.extend(done_vector("00000000"));
    let before = buf.clone();
    redact_key(&mut buf);
    assert_eq!(buf.len(), before.len());
    let r = decode_replies(&buf, Some(FAM)).expect("still valid");
    assert!(matches!(&r[0], Reply::Carp { attrs, .. } if attrs.key == Some(vec![0; 20])));
    assert!(matches!(&r[1], Reply::Carp { attrs, .. } if attrs.key == Some(vec![0; 20])));
    // The echoed SET inside the NLMSG_ERROR: starts at 208 + 20.
    let echo = &buf[228..340];
    match decode_request(echo, FAM, MAX).expect("echo is a message") {
        Request::Carp { attrs, .. } => assert_eq!(attrs.key, Some(vec![0; 20])),
        other => panic!("unexpected {other:?}"),
    }
    // Nothing but key bytes changed.
    let changed: Vec<usize> = (0..buf.len()).filter(|&i| buf[i] != before[i]).collect();
    assert!(
        changed.iter().all(|&i| (84..104).contains(&i)
            || (188..208).contains(&i)
            || (228 + 92..228 + 112).contains(&i)),
        "{changed:?}"
    );
    assert!(!changed.is_empty());
}

#[test]
fn redact_key_on_truncated_input_zeroes_what_is_there() {
    // A SET cut in the middle of its key (recv truncation, a log line).
    let mut buf = set_vector();
    buf.truncate(100);
    redact_key(&mut buf);
    assert_eq!(&buf[92..100], &[0u8; 8]);
    assert_eq!(&buf[..92], &set_vector()[..92]);
    // nlctrl messages are left alone (attribute 5 is MAXATTR there).
    let mut fam = family_carp_vector();
    redact_key(&mut fam);
    assert_eq!(fam, family_carp_vector());
    // Capped acks carry no attributes to redact.
    let mut ack = ack_vector("00000000");
    redact_key(&mut ack);
    assert_eq!(ack, ack_vector("00000000"));
}

// --- Properties ---------------------------------------------------------------

fn arb_attrs() -> impl Strategy<Value = CarpAttrs> {
    (
        (
            any::<Option<u32>>(),
            any::<Option<u32>>(),
            any::<Option<i32>>(),
            any::<Option<i32>>(),
        ),
        (
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..=20)),
            any::<Option<u32>>(),
        ),
        (
            any::<Option<[u8; 4]>>(),
            any::<Option<[u8; 16]>>(),
            proptest::option::of("[a-z]{1,6}[0-9]{1,2}"),
        ),
        (
            any::<Option<u8>>(),
            any::<Option<u8>>(),
            any::<Option<u16>>(),
        ),
    )
        .prop_map(
            |(
                (vhid, state, advbase, advskew),
                (key, ifindex),
                (addr, addr6, ifname),
                (v, p, i),
            )| {
                CarpAttrs {
                    vhid,
                    state,
                    advbase,
                    advskew,
                    key,
                    ifindex,
                    addr,
                    addr6,
                    ifname,
                    version: v,
                    vrrp_priority: p,
                    vrrp_adv_inter: i,
                    unknown: vec![],
                }
            },
        )
}

/// A valid reply datagram to mutate.
fn sample_datagram() -> Vec<u8> {
    let mut buf = family_nlsysevent_vector();
    buf.extend(entry14_vector());
    buf.extend(entry_vrrp_vector());
    buf.extend(error_message_echo(100, 22, &set_vector()));
    buf.extend(done_vector("02000000"));
    buf
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..600), fam in 16u16..40) {
        let _ = decode_replies(&buf, Some(fam));
        let _ = decode_replies(&buf, None);
        let _ = decode_request(&buf, fam, MAX);
        let mut copy = buf.clone();
        redact_key(&mut copy);
        prop_assert_eq!(copy.len(), buf.len());
    }

    #[test]
    fn mutated_messages_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut buf = sample_datagram();
        for (at, byte) in &edits {
            let i = at.index(buf.len());
            buf[i] = *byte;
        }
        let cut = cut.index(buf.len() + 1);
        let buf = &buf[..cut];
        let _ = decode_replies(buf, Some(FAM));
        let _ = decode_request(buf, FAM, MAX);
        let mut copy = buf.to_vec();
        redact_key(&mut copy);
        prop_assert_eq!(copy.len(), buf.len());
        // Redaction never touches a byte outside the messages' payloads'
        // KEY values: decoding what was valid stays valid.
        if decode_replies(buf, Some(FAM)).is_ok() {
            prop_assert!(decode_replies(&copy, Some(FAM)).is_ok());
        }
    }

    #[test]
    fn requests_round_trip_and_redact(attrs in arb_attrs(), seq in any::<u32>(), flags in any::<u16>()) {
        let buf = carp_request(FAM, nl::CARP_NL_CMD_SET, flags, seq, &attrs);
        match decode_request(&buf, FAM, MAX) {
            Ok(Request::Carp { attrs: got, header, .. }) => {
                prop_assert_eq!(&got, &attrs);
                prop_assert_eq!(header.seq, seq);
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
        // Two SETs in one buffer: every key byte is zero afterwards, and
        // everything else decodes unchanged.
        let mut two = buf.clone();
        two.extend(&buf);
        redact_key(&mut two);
        prop_assert_eq!(two.len(), 2 * buf.len());
        let mut expected = attrs.clone();
        expected.key = attrs.key.as_ref().map(|k| vec![0; k.len()]);
        for half in [&two[..buf.len()], &two[buf.len()..]] {
            match decode_request(half, FAM, MAX) {
                Ok(Request::Carp { attrs: got, .. }) => prop_assert_eq!(&got, &expected),
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }

    #[test]
    fn arbitrary_replies_round_trip(attrs in arb_attrs(), seq in any::<u32>(), pid in any::<u32>()) {
        let mut buf = carp_reply(FAM, seq, pid, &attrs);
        buf.extend(done_message(seq, pid, 0));
        let mut expected = attrs.clone();
        expected.ifname = None;
        expected.ifindex = None;
        let r = decode_replies(&buf, Some(FAM)).expect("valid");
        prop_assert_eq!(r.len(), 2);
        let ok = matches!(&r[0], Reply::Carp { attrs: got, header, .. }
            if *got == expected && header.seq == seq && header.pid == pid);
        prop_assert!(ok, "decoded {:?}", r);
        let done = matches!(&r[1], Reply::Done { code: 0, .. });
        prop_assert!(done, "decoded {:?}", r);
    }
}
