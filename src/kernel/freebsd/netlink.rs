//! Generic netlink as FreeBSD speaks it: nlctrl `CTRL_CMD_GETFAMILY` to
//! resolve the dynamic id of the "carp" family, and the carp family's GET and
//! SET (`sys/netinet/ip_carp_nl.h`, `ip_carp.c` @ MAIN; reference §9).
//!
//! Pure functions over bytes, used in both directions: the backend encodes
//! requests and decodes replies; the emulated kernel decodes requests and
//! encodes replies. Unknown attributes are kept, not rejected.
//!
//! The framing (`nlmsghdr`, `genlmsghdr`, `nlattr` with 4-byte padding) is
//! done with `netlink-packet-core` and `netlink-packet-generic`; what those
//! crates cannot express is done here by hand, each time with the reason:
//! FreeBSD's positive errno in `NLMSG_ERROR`/`NLMSG_DONE`, a `NLMSG_DONE`
//! without payload, attribute values checked with messages that name the
//! attribute, message index and byte offset, and the redaction of keys in
//! buffers that may be truncated.
//!
//! FreeBSD sources relied on (freebsd-src):
//! * `sys/netinet/ip_carp.c` (MAIN, D28): `carp_nl_send` (GET reply layout),
//!   `carp_nl_get` (`NLM_F_MULTI`, `nlmsg_end_dump`), `nlattr_get_carp_key`.
//! * `sys/netlink/netlink_generic.c` @ 031fb30f: `dump_family` (nlctrl reply
//!   layout, nested attributes without `NLA_F_NESTED`).
//! * `sys/netlink/netlink_message_writer.c` @ 031fb30f: `nlmsg_ack`,
//!   `_nlmsg_end_dump` (error codes written as the kernel's positive errno).
//! * `sys/netlink/netlink_message_parser.c` @ eb5956fd: `nlattr_get_string`
//!   (a string ends at its first NUL).
//! * `sys/netlink/netlink_snl_generic.h` @ 0a6e2606:
//!   `snl_create_genl_msg_request` (genl version 0 in carp requests).

use std::borrow::Cow;
use std::fmt;

use carpctl_sys::netlink as nl;
use netlink_packet_core::{
    DoneBuffer, DoneMessage, Emitable, ErrorBuffer, NetlinkBuffer, NetlinkHeader, Nla, NlaBuffer,
    NlasIterator, Parseable,
};
use netlink_packet_generic::GenlHeader;

use super::DecodeError;

/// The fixed part of a netlink message (`struct nlmsghdr`, 16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MsgHeader {
    pub len: u32,
    pub msg_type: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
}

/// Attributes of the carp family, as sent in GET/SET requests and returned
/// in GET replies. `None` = attribute absent.
///
/// `Debug` prints the key's length only: keys never reach logs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CarpAttrs {
    pub vhid: Option<u32>,
    pub state: Option<u32>,
    pub advbase: Option<i32>,
    pub advskew: Option<i32>,
    /// Raw bytes as carried (SET: up to 20; GET reply: 20 raw bytes).
    pub key: Option<Vec<u8>>,
    pub ifindex: Option<u32>,
    pub addr: Option<[u8; 4]>,
    pub addr6: Option<[u8; 16]>,
    pub ifname: Option<String>,
    pub version: Option<u8>,
    pub vrrp_priority: Option<u8>,
    pub vrrp_adv_inter: Option<u16>,
    /// Attributes this codec does not know: (type, payload), kept in order.
    /// The type is the raw `nla_type`, flag bits included.
    pub unknown: Vec<(u16, Vec<u8>)>,
}

/// Stands in for a key in `Debug` output.
struct Redacted(usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes redacted>", self.0)
    }
}

impl fmt::Debug for CarpAttrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CarpAttrs")
            .field("vhid", &self.vhid)
            .field("state", &self.state)
            .field("advbase", &self.advbase)
            .field("advskew", &self.advskew)
            .field("key", &self.key.as_ref().map(|k| Redacted(k.len())))
            .field("ifindex", &self.ifindex)
            .field("addr", &self.addr)
            .field("addr6", &self.addr6)
            .field("ifname", &self.ifname)
            .field("version", &self.version)
            .field("vrrp_priority", &self.vrrp_priority)
            .field("vrrp_adv_inter", &self.vrrp_adv_inter)
            .field("unknown", &self.unknown)
            .finish()
    }
}

/// A generic netlink family as nlctrl describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FamilyInfo {
    pub id: u16,
    pub name: String,
    pub version: u32,
    pub hdrsize: u32,
    pub maxattr: u32,
    /// Multicast groups: (name, id).
    pub mcast_groups: Vec<(String, u32)>,
}

/// One decoded message of a reply datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `NLMSG_DONE`: the end of a dump, with its result code (0 or an errno).
    Done { header: MsgHeader, code: i32 },
    /// `NLMSG_ERROR`: an ack (code 0) or an error; the errno is the absolute
    /// value of the code. `request` is the echoed request header, if present.
    Error {
        header: MsgHeader,
        code: i32,
        request: Option<MsgHeader>,
    },
    /// An nlctrl `CTRL_CMD_NEWFAMILY` reply.
    Family { header: MsgHeader, info: FamilyInfo },
    /// A carp family message (GET reply entry).
    Carp {
        header: MsgHeader,
        cmd: u8,
        attrs: CarpAttrs,
    },
    /// Any other message type, skipped by the caller.
    Other { header: MsgHeader },
}

/// One decoded request (what the emulated kernel receives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// nlctrl `CTRL_CMD_GETFAMILY` by name.
    GetFamily { header: MsgHeader, name: String },
    /// A carp family command (GET or SET, or an unknown cmd to refuse).
    Carp {
        header: MsgHeader,
        cmd: u8,
        attrs: CarpAttrs,
    },
    /// Anything else (unknown message type or nlctrl command).
    Other { header: MsgHeader },
}

// ---------------------------------------------------------------------------
// Constants not in carpctl_sys::netlink.

/// `NLM_F_CAPPED` (`sys/netlink/netlink.h`, same value as Linux): set on an
/// `NLMSG_ERROR` whose echo is only the request's header (`nlmsg_ack`).
const NLM_F_CAPPED: u16 = 0x100;

/// The genl version carpctl puts in `CTRL_CMD_GETFAMILY`: 0, what FreeBSD's
/// own snl sends (its writer zeroes the header and sets only `cmd`), so a
/// trace reads like one of ifconfig's. libnl's `genl_ctrl_resolve` sends 1;
/// nlctrl reads the field but never checks it (`nlctrl_handle_getfamily`,
/// netlink_generic.c @ 031fb30f).
const GETFAMILY_VERSION: u8 = 0;

/// The genl version in carp requests: 0, what libifconfig sends through
/// `snl_create_genl_msg_request` (netlink_snl_generic.h @ 0a6e2606, which
/// sets only `cmd` in a zeroed buffer). `ip_carp.c` ignores it.
const CARP_REQUEST_VERSION: u8 = 0;

/// The genl version in GET reply entries (`carp_nl_send`:
/// `ghdr_new->version = 0`).
const CARP_REPLY_VERSION: u8 = 0;

/// `nla_len` is a u16 that includes the 4-byte header.
const MAX_ATTR_VALUE: usize = u16::MAX as usize - nl::NLA_HDRLEN;

const WHAT_REPLY: &str = "netlink reply";
const WHAT_REQUEST: &str = "netlink request";

fn align4(n: usize) -> usize {
    n.saturating_add(nl::NLMSG_ALIGNTO - 1) & !(nl::NLMSG_ALIGNTO - 1)
}

/// Write an error code the way FreeBSD's kernel does: `nlmsg_ack` stores
/// `errmsg->error = error` and `_nlmsg_end_dump` `*perror = error`, with the
/// handler's positive errno (netlink_message_writer.c @ 031fb30f; Linux
/// negates, FreeBSD does not). Callers may pass either sign.
fn wire_code(code: i32) -> i32 {
    code.saturating_abs()
}

// ---------------------------------------------------------------------------
// Encoding.

/// One attribute to emit: `netlink-packet-core` does the header, the
/// length and the zeroed padding through its `Nla`/`Emitable` traits.
struct Attr<'a> {
    kind: u16,
    value: Cow<'a, [u8]>,
}

/// Values longer than an `nla_len` can describe are cut (never reached with
/// carpctl's validated inputs; an encoder must not panic).
fn clamp(v: &[u8], max: usize) -> &[u8] {
    v.get(..max).unwrap_or(v)
}

impl<'a> Attr<'a> {
    fn bytes(kind: u16, v: &'a [u8]) -> Self {
        Attr {
            kind,
            value: Cow::Borrowed(clamp(v, MAX_ATTR_VALUE)),
        }
    }
    fn owned(kind: u16, v: Vec<u8>) -> Self {
        let mut v = v;
        v.truncate(MAX_ATTR_VALUE);
        Attr {
            kind,
            value: Cow::Owned(v),
        }
    }
    /// A NUL-terminated string (`nlattr_add_string`, `snl_add_msg_attr_string`).
    fn string(kind: u16, s: &str) -> Self {
        let mut v = clamp(s.as_bytes(), MAX_ATTR_VALUE - 1).to_vec();
        v.push(0);
        Attr {
            kind,
            value: Cow::Owned(v),
        }
    }
    fn of_u8(kind: u16, v: u8) -> Self {
        Attr::owned(kind, vec![v])
    }
    fn of_u16(kind: u16, v: u16) -> Self {
        Attr::owned(kind, v.to_ne_bytes().to_vec())
    }
    fn of_u32(kind: u16, v: u32) -> Self {
        Attr::owned(kind, v.to_ne_bytes().to_vec())
    }
    fn of_i32(kind: u16, v: i32) -> Self {
        Attr::owned(kind, v.to_ne_bytes().to_vec())
    }
    /// A nested attribute. FreeBSD's `nlattr_add_nested` sets no
    /// `NLA_F_NESTED` bit, so neither do we.
    fn nested(kind: u16, children: &[Attr<'_>]) -> Self {
        Attr::owned(kind, emit_attrs(children))
    }
}

impl Nla for Attr<'_> {
    fn value_len(&self) -> usize {
        self.value.len()
    }
    fn kind(&self) -> u16 {
        self.kind
    }
    fn emit_value(&self, buffer: &mut [u8]) {
        buffer.copy_from_slice(&self.value);
    }
}

fn emit_attrs(attrs: &[Attr<'_>]) -> Vec<u8> {
    let mut out = vec![0u8; attrs.buffer_len()];
    attrs.emit(&mut out);
    out
}

/// The 16 bytes of `struct nlmsghdr`.
fn header_bytes(h: &MsgHeader) -> [u8; nl::NLMSG_HDRLEN] {
    let mut header = NetlinkHeader::default();
    header.length = h.len;
    header.message_type = h.msg_type;
    header.flags = h.flags;
    header.sequence_number = h.seq;
    header.port_number = h.pid;
    let mut out = [0u8; nl::NLMSG_HDRLEN];
    header.emit(&mut out);
    out
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One message: `nlmsghdr` (length computed, padding included, as
/// `nlmsg_end`/`snl_finalize_msg` do), then `payload`.
fn message(msg_type: u16, flags: u16, seq: u32, pid: u32, payload: &[u8]) -> Vec<u8> {
    let len = len_u32(nl::NLMSG_HDRLEN + payload.len());
    let mut out = header_bytes(&MsgHeader {
        len,
        msg_type,
        flags,
        seq,
        pid,
    })
    .to_vec();
    out.extend_from_slice(payload);
    out
}

/// A generic netlink message, written in one buffer: a KEY attribute is
/// copied once, into the result, and nowhere else.
fn genl_message(
    msg_type: u16,
    flags: u16,
    seq: u32,
    pid: u32,
    cmd: u8,
    version: u8,
    attrs: &[Attr<'_>],
) -> Vec<u8> {
    let genl = GenlHeader { cmd, version };
    let start = nl::NLMSG_HDRLEN + genl.buffer_len();
    let total = start + attrs.buffer_len();
    let mut out = header_bytes(&MsgHeader {
        len: len_u32(total),
        msg_type,
        flags,
        seq,
        pid,
    })
    .to_vec();
    out.resize(total, 0);
    if let Some(g) = out.get_mut(nl::NLMSG_HDRLEN..start) {
        genl.emit(g);
    }
    if let Some(a) = out.get_mut(start..) {
        attrs.emit(a);
    }
    out
}

/// `CTRL_CMD_GETFAMILY` for `name` (flags `NLM_F_REQUEST`).
pub fn getfamily_request(seq: u32, name: &str) -> Vec<u8> {
    genl_message(
        nl::GENL_ID_CTRL,
        nl::NLM_F_REQUEST,
        seq,
        0,
        nl::CTRL_CMD_GETFAMILY,
        GETFAMILY_VERSION,
        &[Attr::string(nl::CTRL_ATTR_FAMILY_NAME, name)],
    )
}

/// libifconfig's order for requests (`ifconfig_carp_set_info`, §7).
const REQUEST_ORDER: &[u16] = &[
    nl::CARP_NL_VHID,
    nl::CARP_NL_STATE,
    nl::CARP_NL_ADVBASE,
    nl::CARP_NL_ADVSKEW,
    nl::CARP_NL_IFNAME,
    nl::CARP_NL_ADDR,
    nl::CARP_NL_ADDR6,
    nl::CARP_NL_KEY,
    nl::CARP_NL_VERSION,
    nl::CARP_NL_VRRP_PRIORITY,
    nl::CARP_NL_VRRP_ADV_INTER,
    nl::CARP_NL_IFINDEX,
];

/// The kernel's order in GET replies (`carp_nl_send`, §9.3).
const REPLY_ORDER: &[u16] = &[
    nl::CARP_NL_VHID,
    nl::CARP_NL_STATE,
    nl::CARP_NL_VERSION,
    nl::CARP_NL_ADVBASE,
    nl::CARP_NL_ADVSKEW,
    nl::CARP_NL_ADDR,
    nl::CARP_NL_ADDR6,
    nl::CARP_NL_KEY,
    nl::CARP_NL_VRRP_PRIORITY,
    nl::CARP_NL_VRRP_ADV_INTER,
];

/// The attribute of type `kind` that `attrs` carries, if any.
fn attr_of(attrs: &CarpAttrs, kind: u16) -> Option<Attr<'_>> {
    match kind {
        nl::CARP_NL_VHID => attrs.vhid.map(|v| Attr::of_u32(kind, v)),
        nl::CARP_NL_STATE => attrs.state.map(|v| Attr::of_u32(kind, v)),
        nl::CARP_NL_ADVBASE => attrs.advbase.map(|v| Attr::of_i32(kind, v)),
        nl::CARP_NL_ADVSKEW => attrs.advskew.map(|v| Attr::of_i32(kind, v)),
        nl::CARP_NL_IFNAME => attrs.ifname.as_deref().map(|v| Attr::string(kind, v)),
        nl::CARP_NL_ADDR => attrs.addr.as_ref().map(|v| Attr::bytes(kind, v)),
        nl::CARP_NL_ADDR6 => attrs.addr6.as_ref().map(|v| Attr::bytes(kind, v)),
        nl::CARP_NL_KEY => attrs.key.as_deref().map(|v| Attr::bytes(kind, v)),
        nl::CARP_NL_VERSION => attrs.version.map(|v| Attr::of_u8(kind, v)),
        nl::CARP_NL_VRRP_PRIORITY => attrs.vrrp_priority.map(|v| Attr::of_u8(kind, v)),
        nl::CARP_NL_VRRP_ADV_INTER => attrs.vrrp_adv_inter.map(|v| Attr::of_u16(kind, v)),
        nl::CARP_NL_IFINDEX => attrs.ifindex.map(|v| Attr::of_u32(kind, v)),
        _ => None,
    }
}

/// The attributes of `attrs` in `order`, then the unknown ones as kept.
fn attrs_in_order<'a>(attrs: &'a CarpAttrs, order: &[u16]) -> Vec<Attr<'a>> {
    let mut out: Vec<Attr> = order.iter().filter_map(|&k| attr_of(attrs, k)).collect();
    out.extend(attrs.unknown.iter().map(|(kind, v)| Attr::bytes(*kind, v)));
    out
}

/// A carp family request. Attributes go out in libifconfig's order: VHID,
/// STATE, ADVBASE, ADVSKEW, IFNAME, ADDR, ADDR6, KEY, VERSION, VRRP_PRIORITY,
/// VRRP_ADV_INTER, IFINDEX, then unknown ones.
///
/// `genlmsghdr { cmd, version = 0 }`, pid 0 (the kernel stamps the port).
/// KEY goes out exactly as given (the backend passes the zero-filled 20
/// bytes; the kernel refuses more than 20 with EINVAL).
pub fn carp_request(family_id: u16, cmd: u8, flags: u16, seq: u32, attrs: &CarpAttrs) -> Vec<u8> {
    let out = attrs_in_order(attrs, REQUEST_ORDER);
    genl_message(family_id, flags, seq, 0, cmd, CARP_REQUEST_VERSION, &out)
}

/// nlctrl's `CTRL_CMD_NEWFAMILY` reply describing `info`, flags 0.
///
/// FreeBSD's `dump_family` answers through `nlmsg_reply`, which copies the
/// request's flags into the reply; [`family_reply_flags`] builds that.
pub fn family_reply(seq: u32, pid: u32, info: &FamilyInfo) -> Vec<u8> {
    family_reply_flags(0, seq, pid, info)
}

/// [`family_reply`] with explicit `nlmsg_flags` (pass the request's flags to
/// answer exactly as FreeBSD does).
///
/// Layout of `dump_family` (netlink_generic.c @ 031fb30f): type
/// `GENL_ID_CTRL`, `genlmsghdr { cmd = CTRL_CMD_NEWFAMILY, version = the
/// family's version }`, then FAMILY_NAME, FAMILY_ID (u16), VERSION, HDRSIZE,
/// MAXATTR (u32), [OPS], MCAST_GROUPS (entries numbered from 1, each GRP_ID
/// then GRP_NAME) when there are groups. OPS is not emitted: [`FamilyInfo`]
/// does not carry it and no client of this codec reads it.
pub fn family_reply_flags(flags: u16, seq: u32, pid: u32, info: &FamilyInfo) -> Vec<u8> {
    let mut attrs = vec![
        Attr::string(nl::CTRL_ATTR_FAMILY_NAME, &info.name),
        Attr::of_u16(nl::CTRL_ATTR_FAMILY_ID, info.id),
        Attr::of_u32(nl::CTRL_ATTR_VERSION, info.version),
        Attr::of_u32(nl::CTRL_ATTR_HDRSIZE, info.hdrsize),
        Attr::of_u32(nl::CTRL_ATTR_MAXATTR, info.maxattr),
    ];
    if !info.mcast_groups.is_empty() {
        let entries: Vec<Attr<'_>> = info
            .mcast_groups
            .iter()
            .enumerate()
            .map(|(i, (name, id))| {
                let kind = u16::try_from(i + 1).unwrap_or(u16::MAX) & nl::NLA_TYPE_MASK;
                Attr::nested(
                    kind,
                    &[
                        Attr::of_u32(nl::CTRL_ATTR_MCAST_GRP_ID, *id),
                        Attr::string(nl::CTRL_ATTR_MCAST_GRP_NAME, name),
                    ],
                )
            })
            .collect();
        attrs.push(Attr::nested(nl::CTRL_ATTR_MCAST_GROUPS, &entries));
    }
    let version = u8::try_from(info.version).unwrap_or(u8::MAX);
    genl_message(
        nl::GENL_ID_CTRL,
        flags,
        seq,
        pid,
        nl::CTRL_CMD_NEWFAMILY,
        version,
        &attrs,
    )
}

/// One GET reply entry (`NLM_F_MULTI`, `genlmsghdr { cmd = GET, version = 0 }`),
/// attributes in the kernel's order: VHID, STATE, VERSION, ADVBASE, ADVSKEW,
/// ADDR, ADDR6, KEY, VRRP_PRIORITY, VRRP_ADV_INTER (absent ones skipped).
///
/// Unknown attributes follow at the end; IFNAME and IFINDEX are request-only
/// and never sent (`carp_nl_send` has no such attribute). FreeBSD's flags are
/// the request's with `NLM_F_MULTI` added (`carp_nl_get`); see
/// [`carp_reply_flags`].
pub fn carp_reply(family_id: u16, seq: u32, pid: u32, attrs: &CarpAttrs) -> Vec<u8> {
    carp_reply_flags(family_id, nl::NLM_F_MULTI, seq, pid, attrs)
}

/// [`carp_reply`] with explicit `nlmsg_flags` (FreeBSD: request flags |
/// `NLM_F_MULTI`).
pub fn carp_reply_flags(
    family_id: u16,
    flags: u16,
    seq: u32,
    pid: u32,
    attrs: &CarpAttrs,
) -> Vec<u8> {
    let out = attrs_in_order(attrs, REPLY_ORDER);
    genl_message(
        family_id,
        flags,
        seq,
        pid,
        nl::CARP_NL_CMD_GET,
        CARP_REPLY_VERSION,
        &out,
    )
}

/// `NLMSG_DONE` with a 4-byte result code.
///
/// As `_nlmsg_end_dump` writes it: flags 0, payload one `int`, the errno
/// positive (either sign accepted here; see `wire_code`).
pub fn done_message(seq: u32, pid: u32, code: i32) -> Vec<u8> {
    let mut done = DoneMessage::default();
    done.code = wire_code(code);
    let mut payload = vec![0u8; done.buffer_len()];
    done.emit(&mut payload);
    message(nl::NLMSG_DONE, 0, seq, pid, &payload)
}

/// `NLMSG_ERROR` (code 0 = ack; an error's errno of either sign, written
/// positive as FreeBSD does) echoing `request`.
///
/// Only the request's header is echoed, so the message carries
/// `NLM_F_CAPPED`, as FreeBSD's `nlmsg_ack` sends every ack (and every error
/// on a socket with `NETLINK_CAP_ACK`). The code is written as FreeBSD
/// writes it, the positive errno, whatever sign is passed in (see
/// `wire_code`); decoders take the absolute value either way.
pub fn error_message(seq: u32, pid: u32, code: i32, request: &MsgHeader) -> Vec<u8> {
    let mut payload = vec![0u8; 4 + nl::NLMSG_HDRLEN];
    let mut eb = ErrorBuffer::new(&mut payload[..]);
    eb.set_code(wire_code(code));
    eb.payload_mut().copy_from_slice(&header_bytes(request));
    message(nl::NLMSG_ERROR, NLM_F_CAPPED, seq, pid, &payload)
}

/// `NLMSG_ERROR` exactly as FreeBSD's `nlmsg_ack` answers `request` (the
/// whole request message as received) on a socket without
/// `NETLINK_CAP_ACK`: an ack (code 0) echoes the header only, with
/// `NLM_F_CAPPED`; an error echoes the whole request, padded to 4 bytes,
/// with flags 0. The sequence number is the request's; the echoed header
/// carries `pid`, as `nl_receive_message` stamps every received header with
/// the socket's port before handling it. The code is written positive
/// whatever its sign. A request shorter than a header is zero-filled to 16
/// bytes.
pub fn error_message_echo(pid: u32, code: i32, request: &[u8]) -> Vec<u8> {
    let mut head = [0u8; nl::NLMSG_HDRLEN];
    for (d, b) in head.iter_mut().zip(request) {
        *d = *b;
    }
    let mut echoed = read_header(&head);
    echoed.pid = pid;
    let code = wire_code(code);
    let (flags, body) = if code == 0 {
        (NLM_F_CAPPED, &[][..])
    } else {
        (0, request.get(nl::NLMSG_HDRLEN..).unwrap_or(&[]))
    };
    // nlmsgerr: the code, then the echo padded to 4 bytes (NETLINK_ALIGN).
    let total = nl::NLMSG_HDRLEN + 4 + align4(nl::NLMSG_HDRLEN + body.len());
    let header = MsgHeader {
        len: len_u32(total),
        msg_type: nl::NLMSG_ERROR,
        flags,
        seq: echoed.seq,
        pid,
    };
    let mut out = header_bytes(&header).to_vec();
    out.extend_from_slice(&[0; 4]);
    if let Some(c) = out.get_mut(nl::NLMSG_HDRLEN..) {
        ErrorBuffer::new(c).set_code(code);
    }
    out.extend_from_slice(&header_bytes(&echoed));
    out.extend_from_slice(body);
    out.resize(total, 0);
    out
}

// ---------------------------------------------------------------------------
// Decoding.

/// Where in a datagram a decode is: every error names the message index and
/// the byte offset (from the start of the datagram).
#[derive(Clone, Copy)]
struct At {
    what: &'static str,
    index: usize,
    start: usize,
}

impl At {
    fn err(&self, offset: usize, detail: impl fmt::Display) -> DecodeError {
        DecodeError::new(
            self.what,
            format!(
                "message {} (at byte {}): byte {}: {}",
                self.index, self.start, offset, detail
            ),
        )
    }
}

/// One framed message of a datagram.
struct Framed<'a> {
    at: At,
    header: MsgHeader,
    payload: &'a [u8],
    /// Offset of the next message (`NLMSG_ALIGN(nlmsg_len)` further on).
    next: usize,
}

fn to_header(h: &NetlinkHeader) -> MsgHeader {
    MsgHeader {
        len: h.length,
        msg_type: h.message_type,
        flags: h.flags,
        seq: h.sequence_number,
        pid: h.port_number,
    }
}

/// Read a header from exactly 16 bytes (the length field is not checked
/// against anything: used for echoed headers).
fn read_header(bytes: &[u8; nl::NLMSG_HDRLEN]) -> MsgHeader {
    let nb = NetlinkBuffer::new(&bytes[..]);
    MsgHeader {
        len: nb.length(),
        msg_type: nb.message_type(),
        flags: nb.flags(),
        seq: nb.sequence_number(),
        pid: nb.port_number(),
    }
}

/// Frame the message at `start`. The checks come first, with our own
/// wording; `NetlinkBuffer::new_checked` then cannot fail.
fn frame<'a>(
    buf: &'a [u8],
    start: usize,
    index: usize,
    what: &'static str,
) -> Result<Framed<'a>, DecodeError> {
    let at = At { what, index, start };
    let rest = buf.get(start..).unwrap_or(&[]);
    if rest.len() < nl::NLMSG_HDRLEN {
        return Err(at.err(
            start,
            format!(
                "truncated nlmsghdr: {} bytes, want {}",
                rest.len(),
                nl::NLMSG_HDRLEN
            ),
        ));
    }
    let len = NetlinkBuffer::new(rest).length();
    let len_usize = usize::try_from(len).unwrap_or(usize::MAX);
    if len_usize < nl::NLMSG_HDRLEN {
        return Err(at.err(
            start,
            format!(
                "nlmsg_len {len} is less than the {}-byte header",
                nl::NLMSG_HDRLEN
            ),
        ));
    }
    if len_usize > rest.len() {
        return Err(at.err(
            start,
            format!(
                "nlmsg_len {len} runs past the end of the datagram ({} bytes left)",
                rest.len()
            ),
        ));
    }
    let nb = NetlinkBuffer::new_checked(rest).map_err(|e| at.err(start, e))?;
    let header = NetlinkHeader::parse(&nb).map_err(|e| at.err(start, e))?;
    Ok(Framed {
        at,
        header: to_header(&header),
        payload: nb.payload(),
        next: start.saturating_add(align4(len_usize)),
    })
}

/// The `genlmsghdr` at the start of a generic netlink payload, and the
/// attributes after it.
fn genl_split<'a>(m: &Framed<'a>) -> Result<(GenlHeader, &'a [u8]), DecodeError> {
    let off = m.at.start + nl::NLMSG_HDRLEN;
    let genl = GenlHeader::parse(m.payload).map_err(|_| {
        m.at.err(
            off,
            format!(
                "truncated genlmsghdr: {} bytes, want {}",
                m.payload.len(),
                nl::GENL_HDRLEN
            ),
        )
    })?;
    let attrs = m.payload.get(nl::GENL_HDRLEN..).unwrap_or(&[]);
    Ok((genl, attrs))
}

/// Attributes of `data`, which starts at datagram offset `base`: each with
/// its offset. `NlasIterator` does the walking and the bounds checks; this
/// adds the offsets and turns its errors into ours.
struct Attrs<'a> {
    inner: NlasIterator<&'a [u8]>,
    data: &'a [u8],
    base: usize,
    /// Offset in `data` of the attribute the iterator reads next.
    next: usize,
    at: At,
}

fn attrs_of(data: &[u8], base: usize, at: At) -> Attrs<'_> {
    Attrs {
        inner: NlasIterator::new(data),
        data,
        base,
        next: 0,
        at,
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<(usize, NlaBuffer<&'a [u8]>), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.inner.next()? {
            Ok(nla) => {
                // The iterator hands out the suffix that starts at the
                // attribute: its length gives the attribute's offset.
                let rel = self.data.len().saturating_sub(nla.into_inner().len());
                self.next = rel.saturating_add(align4(usize::from(nla.length())));
                Some(Ok((self.base + rel, nla)))
            }
            Err(_) => {
                // The iterator stops after an error; describe it from the
                // raw bytes, which the crate's message does not show.
                let rest = self.data.get(self.next..).unwrap_or(&[]);
                let detail = match rest {
                    [l0, l1, t0, t1, ..] => {
                        let len = u16::from_ne_bytes([*l0, *l1]);
                        let kind = u16::from_ne_bytes([*t0, *t1]) & nl::NLA_TYPE_MASK;
                        if usize::from(len) < nl::NLA_HDRLEN {
                            format!(
                                "attribute type {kind}: nla_len {len} is less than the 4-byte header"
                            )
                        } else {
                            format!(
                                "attribute type {kind}: nla_len {len} overruns the enclosing data ({} bytes left)",
                                rest.len()
                            )
                        }
                    }
                    _ => format!(
                        "truncated attribute header: {} bytes, want {}",
                        rest.len(),
                        nl::NLA_HDRLEN
                    ),
                };
                Some(Err(self.at.err(self.base + self.next, detail)))
            }
        }
    }
}

/// The attribute's type as sent, flag bits included (kept for unknown ones).
fn raw_kind(nla: &NlaBuffer<&[u8]>) -> u16 {
    let mut kind = nla.kind();
    if nla.nested_flag() {
        kind |= nl::NLA_F_NESTED;
    }
    if nla.network_byte_order_flag() {
        kind |= nl::NLA_F_NET_BYTEORDER;
    }
    kind
}

fn fixed<const N: usize>(
    v: &[u8],
    name: &str,
    off: usize,
    at: &At,
) -> Result<[u8; N], DecodeError> {
    <[u8; N]>::try_from(v).map_err(|_| at.err(off, format!("{name}: {} bytes, want {N}", v.len())))
}

/// A string attribute: up to the first NUL, the NUL itself optional. The
/// kernel's `nlattr_get_string` also stops at the first NUL (it uses the
/// C string in place); `parse_string` of netlink-packet-core would keep
/// embedded NULs.
fn string(v: &[u8], name: &str, off: usize, at: &At) -> Result<String, DecodeError> {
    let text = v.split(|b| *b == 0).next().unwrap_or(&[]);
    String::from_utf8(text.to_vec()).map_err(|_| at.err(off, format!("{name}: not valid UTF-8")))
}

fn carp_attr_name(kind: u16) -> &'static str {
    match kind {
        nl::CARP_NL_VHID => "CARP_NL_VHID",
        nl::CARP_NL_STATE => "CARP_NL_STATE",
        nl::CARP_NL_ADVBASE => "CARP_NL_ADVBASE",
        nl::CARP_NL_ADVSKEW => "CARP_NL_ADVSKEW",
        nl::CARP_NL_KEY => "CARP_NL_KEY",
        nl::CARP_NL_IFINDEX => "CARP_NL_IFINDEX",
        nl::CARP_NL_ADDR => "CARP_NL_ADDR",
        nl::CARP_NL_ADDR6 => "CARP_NL_ADDR6",
        nl::CARP_NL_IFNAME => "CARP_NL_IFNAME",
        nl::CARP_NL_VERSION => "CARP_NL_VERSION",
        nl::CARP_NL_VRRP_PRIORITY => "CARP_NL_VRRP_PRIORITY",
        nl::CARP_NL_VRRP_ADV_INTER => "CARP_NL_VRRP_ADV_INTER",
        _ => "unknown carp attribute",
    }
}

/// The carp attributes of a GET/SET message. A known attribute with the
/// wrong size is an error (the kernel's fixed-size parsers answer EINVAL);
/// a repeated attribute overrides the earlier one, as in `nl_parse_attrs`.
fn carp_attrs(data: &[u8], base: usize, at: At) -> Result<CarpAttrs, DecodeError> {
    let mut a = CarpAttrs::default();
    for item in attrs_of(data, base, at) {
        let (off, nla) = item?;
        let v = nla.value();
        let kind = nla.kind();
        let name = carp_attr_name(kind);
        match kind {
            nl::CARP_NL_VHID => a.vhid = Some(u32::from_ne_bytes(fixed(v, name, off, &at)?)),
            nl::CARP_NL_STATE => a.state = Some(u32::from_ne_bytes(fixed(v, name, off, &at)?)),
            nl::CARP_NL_ADVBASE => a.advbase = Some(i32::from_ne_bytes(fixed(v, name, off, &at)?)),
            nl::CARP_NL_ADVSKEW => a.advskew = Some(i32::from_ne_bytes(fixed(v, name, off, &at)?)),
            nl::CARP_NL_IFINDEX => a.ifindex = Some(u32::from_ne_bytes(fixed(v, name, off, &at)?)),
            nl::CARP_NL_KEY => {
                // `nlattr_get_carp_key`: more than CARP_KEY_LEN is EINVAL;
                // anything shorter is copied into a zeroed key.
                if v.len() > carpctl_sys::CARP_KEY_LEN {
                    return Err(at.err(
                        off,
                        format!(
                            "{name}: {} bytes, want at most {}",
                            v.len(),
                            carpctl_sys::CARP_KEY_LEN
                        ),
                    ));
                }
                a.key = Some(v.to_vec());
            }
            nl::CARP_NL_ADDR => a.addr = Some(fixed(v, name, off, &at)?),
            nl::CARP_NL_ADDR6 => a.addr6 = Some(fixed(v, name, off, &at)?),
            nl::CARP_NL_IFNAME => a.ifname = Some(string(v, name, off, &at)?),
            nl::CARP_NL_VERSION => a.version = Some(u8::from_ne_bytes(fixed(v, name, off, &at)?)),
            nl::CARP_NL_VRRP_PRIORITY => {
                a.vrrp_priority = Some(u8::from_ne_bytes(fixed(v, name, off, &at)?));
            }
            nl::CARP_NL_VRRP_ADV_INTER => {
                a.vrrp_adv_inter = Some(u16::from_ne_bytes(fixed(v, name, off, &at)?));
            }
            _ => a.unknown.push((raw_kind(&nla), v.to_vec())),
        }
    }
    Ok(a)
}

/// The attributes of an nlctrl `CTRL_CMD_NEWFAMILY` message. OPS and
/// unknown attributes are skipped; FAMILY_ID is required.
fn family_info(data: &[u8], base: usize, at: At) -> Result<FamilyInfo, DecodeError> {
    let mut info = FamilyInfo::default();
    let mut id = None;
    for item in attrs_of(data, base, at) {
        let (off, nla) = item?;
        let v = nla.value();
        match nla.kind() {
            nl::CTRL_ATTR_FAMILY_ID => {
                id = Some(u16::from_ne_bytes(fixed(
                    v,
                    "CTRL_ATTR_FAMILY_ID",
                    off,
                    &at,
                )?));
            }
            nl::CTRL_ATTR_FAMILY_NAME => info.name = string(v, "CTRL_ATTR_FAMILY_NAME", off, &at)?,
            nl::CTRL_ATTR_VERSION => {
                info.version = u32::from_ne_bytes(fixed(v, "CTRL_ATTR_VERSION", off, &at)?);
            }
            nl::CTRL_ATTR_HDRSIZE => {
                info.hdrsize = u32::from_ne_bytes(fixed(v, "CTRL_ATTR_HDRSIZE", off, &at)?);
            }
            nl::CTRL_ATTR_MAXATTR => {
                info.maxattr = u32::from_ne_bytes(fixed(v, "CTRL_ATTR_MAXATTR", off, &at)?);
            }
            nl::CTRL_ATTR_MCAST_GROUPS => {
                info.mcast_groups = mcast_groups(v, off + nl::NLA_HDRLEN, at)?;
            }
            _ => {}
        }
    }
    info.id =
        id.ok_or_else(|| at.err(base, "CTRL_ATTR_FAMILY_ID missing from the family reply"))?;
    Ok(info)
}

/// `CTRL_ATTR_MCAST_GROUPS`: a list of nested entries (numbered 1, 2, ...),
/// each with GRP_NAME and GRP_ID (reference §13.4, `dump_family`).
fn mcast_groups(data: &[u8], base: usize, at: At) -> Result<Vec<(String, u32)>, DecodeError> {
    let mut groups = Vec::new();
    for item in attrs_of(data, base, at) {
        let (entry_off, entry) = item?;
        let mut name = None;
        let mut id = None;
        for inner in attrs_of(entry.value(), entry_off + nl::NLA_HDRLEN, at) {
            let (off, nla) = inner?;
            let v = nla.value();
            match nla.kind() {
                nl::CTRL_ATTR_MCAST_GRP_NAME => {
                    name = Some(string(v, "CTRL_ATTR_MCAST_GRP_NAME", off, &at)?)
                }
                nl::CTRL_ATTR_MCAST_GRP_ID => {
                    id = Some(u32::from_ne_bytes(fixed(
                        v,
                        "CTRL_ATTR_MCAST_GRP_ID",
                        off,
                        &at,
                    )?));
                }
                _ => {}
            }
        }
        match (name, id) {
            (Some(name), Some(id)) => groups.push((name, id)),
            (None, _) => {
                return Err(at.err(
                    entry_off,
                    "CTRL_ATTR_MCAST_GROUPS entry without CTRL_ATTR_MCAST_GRP_NAME",
                ));
            }
            (_, None) => {
                return Err(at.err(
                    entry_off,
                    "CTRL_ATTR_MCAST_GROUPS entry without CTRL_ATTR_MCAST_GRP_ID",
                ));
            }
        }
    }
    Ok(groups)
}

/// `NLMSG_DONE`: FreeBSD puts the dump's result in a 4-byte payload
/// (`_nlmsg_end_dump`); a DONE without payload (as some stacks send) means 0.
/// `DoneBuffer` requires the 4 bytes, hence the empty case by hand.
fn decode_done(m: &Framed<'_>) -> Result<Reply, DecodeError> {
    let code = match m.payload.len() {
        0 => 0,
        1..=3 => {
            return Err(m.at.err(
                m.at.start + nl::NLMSG_HDRLEN,
                format!(
                    "NLMSG_DONE: payload {} bytes, want 4 (or none)",
                    m.payload.len()
                ),
            ));
        }
        _ => {
            let db = DoneBuffer::new_checked(m.payload)
                .map_err(|e| m.at.err(m.at.start + nl::NLMSG_HDRLEN, e))?;
            db.code().saturating_abs()
        }
    };
    Ok(Reply::Done {
        header: m.header,
        code,
    })
}

/// `NLMSG_ERROR`: `struct nlmsgerr` = code, then the request's header (and,
/// uncapped, the rest of the request; maybe extended-ack attributes), all
/// tolerated. The code is FreeBSD's positive errno (Linux's negative one
/// decodes the same: absolute value).
fn decode_error(m: &Framed<'_>) -> Result<Reply, DecodeError> {
    let off = m.at.start + nl::NLMSG_HDRLEN;
    if m.payload.len() < 4 {
        return Err(m.at.err(
            off,
            format!(
                "NLMSG_ERROR: payload {} bytes, want at least 4",
                m.payload.len()
            ),
        ));
    }
    let eb = ErrorBuffer::new_checked(m.payload).map_err(|e| m.at.err(off, e))?;
    let code = eb.code().map_or(0, |c| c.get().saturating_abs());
    let echo = eb.payload();
    let request = if echo.is_empty() {
        None
    } else {
        let bytes: &[u8; nl::NLMSG_HDRLEN] = echo
            .get(..nl::NLMSG_HDRLEN)
            .and_then(|h| h.try_into().ok())
            .ok_or_else(|| {
                m.at.err(
                    off + 4,
                    format!(
                        "NLMSG_ERROR: echoed request header {} bytes, want {}",
                        echo.len(),
                        nl::NLMSG_HDRLEN
                    ),
                )
            })?;
        Some(read_header(bytes))
    };
    Ok(Reply::Error {
        header: m.header,
        code,
        request,
    })
}

fn decode_reply(m: &Framed<'_>, carp_family: Option<u16>) -> Result<Reply, DecodeError> {
    let header = m.header;
    match header.msg_type {
        nl::NLMSG_DONE => decode_done(m),
        nl::NLMSG_ERROR => decode_error(m),
        nl::GENL_ID_CTRL => {
            let (genl, data) = genl_split(m)?;
            if genl.cmd != nl::CTRL_CMD_NEWFAMILY {
                return Ok(Reply::Other { header });
            }
            let base = m.at.start + nl::NLMSG_HDRLEN + nl::GENL_HDRLEN;
            Ok(Reply::Family {
                header,
                info: family_info(data, base, m.at)?,
            })
        }
        t if Some(t) == carp_family => {
            let (genl, data) = genl_split(m)?;
            let base = m.at.start + nl::NLMSG_HDRLEN + nl::GENL_HDRLEN;
            Ok(Reply::Carp {
                header,
                cmd: genl.cmd,
                attrs: carp_attrs(data, base, m.at)?,
            })
        }
        _ => Ok(Reply::Other { header }),
    }
}

/// Split one received datagram into messages and decode each. Messages of
/// type `carp_family` decode as [`Reply::Carp`].
///
/// Messages follow each other at `NLMSG_ALIGN(nlmsg_len)`. An empty buffer
/// holds no message. Any malformed message fails the whole datagram, with
/// the message index and byte offset in the error.
pub fn decode_replies(buf: &[u8], carp_family: Option<u16>) -> Result<Vec<Reply>, DecodeError> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut index = 0;
    while start < buf.len() {
        let m = frame(buf, start, index, WHAT_REPLY)?;
        out.push(decode_reply(&m, carp_family)?);
        start = m.next;
        index += 1;
    }
    Ok(out)
}

/// Decode one request message (the emulated kernel's side).
///
/// `buf` must hold exactly one message (trailing padding allowed). nlctrl
/// `CTRL_CMD_GETFAMILY` needs `CTRL_ATTR_FAMILY_NAME` (carpctl always
/// resolves by name; FreeBSD would dump every family without one). A
/// message of type `carp_family` decodes as [`Request::Carp`] whatever its
/// cmd; the caller refuses unknown commands as the kernel does.
pub fn decode_request(buf: &[u8], carp_family: u16) -> Result<Request, DecodeError> {
    let m = frame(buf, 0, 0, WHAT_REQUEST)?;
    if m.next < buf.len() {
        return Err(m.at.err(
            m.next,
            format!(
                "{} bytes after the message; a request is one message",
                buf.len() - m.next
            ),
        ));
    }
    let header = m.header;
    let base = nl::NLMSG_HDRLEN + nl::GENL_HDRLEN;
    match header.msg_type {
        nl::GENL_ID_CTRL => {
            let (genl, data) = genl_split(&m)?;
            if genl.cmd != nl::CTRL_CMD_GETFAMILY {
                return Ok(Request::Other { header });
            }
            let mut name = None;
            for item in attrs_of(data, base, m.at) {
                let (off, nla) = item?;
                if nla.kind() == nl::CTRL_ATTR_FAMILY_NAME {
                    name = Some(string(nla.value(), "CTRL_ATTR_FAMILY_NAME", off, &m.at)?);
                }
            }
            let name = name.ok_or_else(|| {
                m.at.err(base, "CTRL_CMD_GETFAMILY without CTRL_ATTR_FAMILY_NAME")
            })?;
            Ok(Request::GetFamily { header, name })
        }
        t if t == carp_family => {
            let (genl, data) = genl_split(&m)?;
            Ok(Request::Carp {
                header,
                cmd: genl.cmd,
                attrs: carp_attrs(data, base, m.at)?,
            })
        }
        _ => Ok(Request::Other { header }),
    }
}

// ---------------------------------------------------------------------------
// Redaction.

/// Zero the payload of every `CARP_NL_KEY` attribute in `buf`, leaving its
/// type and length visible. Every generic netlink message that is not nlctrl
/// (type > `GENL_ID_CTRL`) counts as carp: carpctl's socket talks to nothing
/// else. Tolerates garbage: stops at the first thing that does not parse.
///
/// Also redacted: the request echoed in full inside an uncapped
/// `NLMSG_ERROR` (FreeBSD's `nlmsg_ack` copies the whole failed request,
/// KEY included). A message or attribute cut short by the end of the buffer
/// is still scanned as far as it goes, and a KEY cut short is zeroed to the
/// end: a truncated datagram in a log must not leak key bytes either. The
/// crates' checked buffers refuse exactly those truncated inputs, so this
/// walks the bytes with clamped bounds itself.
pub fn redact_key(buf: &mut [u8]) {
    redact_messages(buf, true);
}

fn redact_messages(buf: &mut [u8], echoes: bool) {
    let mut start = 0;
    while let Some(rest) = buf.get_mut(start..) {
        if rest.len() < nl::NLMSG_HDRLEN {
            return;
        }
        let nb = NetlinkBuffer::new(&*rest);
        let (len, msg_type, flags) = (nb.length(), nb.message_type(), nb.flags());
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len < nl::NLMSG_HDRLEN {
            return;
        }
        let end = len.min(rest.len());
        if let Some(msg) = rest.get_mut(..end) {
            if msg_type > nl::GENL_ID_CTRL {
                if let Some(attrs) = msg.get_mut(nl::NLMSG_HDRLEN + nl::GENL_HDRLEN..) {
                    redact_attrs(attrs);
                }
            } else if msg_type == nl::NLMSG_ERROR && echoes && flags & NLM_F_CAPPED == 0 {
                // One level only: an echo never holds another echo, and
                // recursion on crafted input must stay bounded.
                if let Some(echo) = msg.get_mut(nl::NLMSG_HDRLEN + 4..) {
                    redact_messages(echo, false);
                }
            }
        }
        if len > rest.len() {
            return;
        }
        start = start.saturating_add(align4(len));
    }
}

fn redact_attrs(attrs: &mut [u8]) {
    let mut pos = 0;
    while let Some(rest) = attrs.get_mut(pos..) {
        if rest.len() < nl::NLA_HDRLEN {
            return;
        }
        let nla = NlaBuffer::new(&*rest);
        let (len, kind) = (usize::from(nla.length()), nla.kind());
        if len < nl::NLA_HDRLEN {
            return;
        }
        if kind == nl::CARP_NL_KEY {
            let end = len.min(rest.len());
            if let Some(value) = rest.get_mut(nl::NLA_HDRLEN..end) {
                value.fill(0);
            }
        }
        if len > rest.len() {
            return;
        }
        pos += align4(len);
    }
}

#[cfg(test)]
mod tests {
    //! Expected bytes are written out by hand from the layouts in reference
    //! §3.9 (nlmsghdr 16 bytes: len u32, type u16, flags u16, seq u32, pid
    //! u32; genlmsghdr: cmd u8, version u8, reserved u16; nlattr: len u16
    //! including its 4-byte header, type u16, value padded to 4) and §9.2
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

    /// The carp family id used throughout (any dynamic id > 16 will do).
    const FAM: u16 = 0x22;

    fn key20(pass: &[u8]) -> Vec<u8> {
        let mut k = pass.to_vec();
        k.resize(20, 0);
        k
    }

    // --- Requests, byte-exact ------------------------------------------------

    #[test]
    fn getfamily_carp_is_byte_exact() {
        let expected = hx(&[
            "20000000",           // nlmsg_len 32 = 16 hdr + 4 genl + 12 attr
            "1000",               // nlmsg_type 16 = GENL_ID_CTRL
            "0100",               // flags NLM_F_REQUEST
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
            "0100",              // NLM_F_REQUEST
            "08000000",          // seq 8
            "00000000",          // pid 0
            "01000000",          // cmd GET, version 0
            "08000100 01000000", // VHID (1): len 8, u32 1
            "08000900 656d3000", // IFNAME (9): "em0\0"
        ]);
        assert_eq!(
            carp_request(FAM, nl::CARP_NL_CMD_GET, nl::NLM_F_REQUEST, 8, &attrs),
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
            "08000500 02000000", // MAXATTR 2 (CARP_NL_CMD_MAX, §9.1)
            "2c000600", // OPS, len 44 = 4 + 2 * 20
            "14000100 08000100 01000000 08000200 0e000000", // op 1: ID 1, FLAGS DO|DUMP|HASPOL
            "14000200 08000100 02000000 08000200 1a000000", // op 2: ID 2, FLAGS DO|HASPOL|ADMIN_PERM
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

    /// nlsysevent's family with two multicast groups (§13.4).
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
            "08000700 e0000012", // @52 ADDR 224.0.0.18 (network order)
            "14000800 ff020000000000000000000000000012", // @60 ADDR6 ff02::12
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

    #[test]
    fn ifname_stops_at_the_first_nul_and_may_lack_one() {
        let with_tail = hx(&[
            "20000000 2200 0100 01000000 00000000 01000000",
            "0c000900 656d30 00 787878 00", // IFNAME "em0\0xxx\0"
        ]);
        let r = decode_request(&with_tail, FAM).expect("valid");
        assert!(
            matches!(r, Request::Carp { ref attrs, .. } if attrs.ifname.as_deref() == Some("em0"))
        );
        let no_nul = hx(&[
            "1c000000 2200 0100 01000000 00000000 01000000",
            "07000900 656d30 00",
        ]);
        let r = decode_request(&no_nul, FAM).expect("valid");
        assert!(
            matches!(r, Request::Carp { ref attrs, .. } if attrs.ifname.as_deref() == Some("em0"))
        );
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
        let r = decode_request(&getfamily_request(5, "carp"), FAM).expect("valid");
        match r {
            Request::GetFamily { header, name } => {
                assert_eq!(name, "carp");
                assert_eq!(
                    header,
                    MsgHeader {
                        len: 32,
                        msg_type: 16,
                        flags: 1,
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
            match decode_request(&buf, FAM).expect("valid") {
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
            matches!(decode_request(&noop, FAM), Ok(Request::Other { header }) if header.msg_type == 1)
        );
        let other_family = carp_request(FAM + 1, 1, 1, 1, &CarpAttrs::default());
        assert!(matches!(
            decode_request(&other_family, FAM),
            Ok(Request::Other { .. })
        ));
        // nlctrl with another command (CTRL_CMD_GETOPS = 6).
        let getops = hx(&["14000000 1000 0100 01000000 00000000", "06010000"]);
        assert!(matches!(
            decode_request(&getops, FAM),
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
        assert!(
            matches!(&r[4], Reply::Error { code: 17, request: Some(h), .. } if *h == set_header())
        );
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
            let e = decode_request(&full[..n], FAM)
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
        let e = decode_request(&buf, FAM).expect_err("refused").to_string();
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
        assert!(
            reply_err(&done).contains("byte 16: NLMSG_DONE: payload 2 bytes, want 4 (or none)")
        );
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
        let e = decode_request(&two, FAM).expect_err("refused").to_string();
        assert!(
            e.contains("byte 32: 32 bytes after the message; a request is one message"),
            "{e}"
        );
        let nameless = hx(&["14000000 1000 0100 01000000 00000000 03010000"]);
        let e = decode_request(&nameless, FAM)
            .expect_err("refused")
            .to_string();
        assert!(
            e.contains("byte 20: CTRL_CMD_GETFAMILY without CTRL_ATTR_FAMILY_NAME"),
            "{e}"
        );
        let e = decode_request(&[], FAM).expect_err("refused").to_string();
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
        match decode_request(echo, FAM).expect("echo is a message") {
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
            let _ = decode_request(&buf, fam);
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
            let _ = decode_request(buf, FAM);
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
            match decode_request(&buf, FAM) {
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
                match decode_request(half, FAM) {
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
}
