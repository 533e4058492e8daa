//! Generic netlink as FreeBSD speaks it: nlctrl `CTRL_CMD_GETFAMILY` to
//! resolve the dynamic id of the "carp" family, and the carp family's GET and
//! SET (`sys/netinet/ip_carp_nl.h`, `ip_carp.c` @ MAIN; docs/freebsd-carp.md §6).
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
use netlink_packet_core::{DoneMessage, Emitable, ErrorBuffer, NetlinkHeader, Nla};
use netlink_packet_generic::GenlHeader;

use decode::read_header;

/// The fixed part of a netlink message (`struct nlmsghdr`, 16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MsgHeader {
    pub len: u32,
    pub(crate) msg_type: u16,
    pub flags: u16,
    pub(crate) seq: u32,
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
    /// `CTRL_ATTR_OPS`: (command, op flags), in the kernel's order.
    pub ops: Vec<(u32, u32)>,
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

/// `CTRL_CMD_GETFAMILY` for `name`, as snl's `snl_get_genl_family` sends
/// it: flags `NLM_F_REQUEST | NLM_F_ACK` (0x005; `snl_create_msg_request`),
/// so the family's reply is followed by an ack (docs/freebsd-carp.md §6.3).
pub fn getfamily_request(seq: u32, name: &str) -> Vec<u8> {
    genl_message(
        nl::GENL_ID_CTRL,
        nl::NLM_F_REQUEST | nl::NLM_F_ACK,
        seq,
        0,
        nl::CTRL_CMD_GETFAMILY,
        GETFAMILY_VERSION,
        &[Attr::string(nl::CTRL_ATTR_FAMILY_NAME, name)],
    )
}

/// libifconfig's order for a SET (`ifconfig_carp_set_info`, 6E2;
/// docs/freebsd-carp.md §6.4): VHID, STATE, ADVBASE, ADVSKEW, IFNAME, ADDR,
/// ADDR6, KEY, VERSION, VRRP_PRIORITY, VRRP_ADV_INTER; IFINDEX (which it
/// never sends) last.
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

/// libifconfig's order for a GET (`_ifconfig_carp_get`, C49 and 6E2):
/// IFNAME first, then VHID when one is asked for.
const GET_ORDER: &[u16] = &[
    nl::CARP_NL_IFNAME,
    nl::CARP_NL_VHID,
    nl::CARP_NL_STATE,
    nl::CARP_NL_ADVBASE,
    nl::CARP_NL_ADVSKEW,
    nl::CARP_NL_ADDR,
    nl::CARP_NL_ADDR6,
    nl::CARP_NL_KEY,
    nl::CARP_NL_VERSION,
    nl::CARP_NL_VRRP_PRIORITY,
    nl::CARP_NL_VRRP_ADV_INTER,
    nl::CARP_NL_IFINDEX,
];

/// The kernel's order in GET replies (`carp_nl_send`, §6.4).
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

/// A carp family request. Attributes go out in libifconfig's order: for a
/// GET, IFNAME then VHID; for anything else VHID, STATE, ADVBASE, ADVSKEW,
/// IFNAME, ADDR, ADDR6, KEY, VERSION, VRRP_PRIORITY, VRRP_ADV_INTER; IFINDEX
/// and unknown attributes last.
///
/// `genlmsghdr { cmd, version = 0 }`, pid 0 (the kernel stamps the port).
/// KEY goes out exactly as given (the kernel refuses more than 20 bytes
/// with EINVAL).
pub fn carp_request(family_id: u16, cmd: u8, flags: u16, seq: u32, attrs: &CarpAttrs) -> Vec<u8> {
    let order = if cmd == nl::CARP_NL_CMD_GET {
        GET_ORDER
    } else {
        REQUEST_ORDER
    };
    let out = attrs_in_order(attrs, order);
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
/// Layout of `dump_family` (netlink_generic.c @ 031fb30f; docs/freebsd-carp.md
/// §6.2): type `GENL_ID_CTRL`, `genlmsghdr { cmd = CTRL_CMD_NEWFAMILY,
/// version = the family's version }`, then FAMILY_NAME, FAMILY_ID (u16),
/// VERSION, HDRSIZE, MAXATTR (u32), OPS (entries numbered from 1, each OP_ID
/// then OP_FLAGS) when the family has commands, MCAST_GROUPS (entries
/// numbered from 1, each GRP_ID then GRP_NAME) when there are groups.
pub(crate) fn family_reply_flags(flags: u16, seq: u32, pid: u32, info: &FamilyInfo) -> Vec<u8> {
    let mut attrs = vec![
        Attr::string(nl::CTRL_ATTR_FAMILY_NAME, &info.name),
        Attr::of_u16(nl::CTRL_ATTR_FAMILY_ID, info.id),
        Attr::of_u32(nl::CTRL_ATTR_VERSION, info.version),
        Attr::of_u32(nl::CTRL_ATTR_HDRSIZE, info.hdrsize),
        Attr::of_u32(nl::CTRL_ATTR_MAXATTR, info.maxattr),
    ];
    let ops = info.ops.iter().map(|(id, op_flags)| {
        vec![
            Attr::of_u32(nl::CTRL_ATTR_OP_ID, *id),
            Attr::of_u32(nl::CTRL_ATTR_OP_FLAGS, *op_flags),
        ]
    });
    attrs.extend(numbered_list(nl::CTRL_ATTR_OPS, ops));
    let groups = info.mcast_groups.iter().map(|(name, id)| {
        vec![
            Attr::of_u32(nl::CTRL_ATTR_MCAST_GRP_ID, *id),
            Attr::string(nl::CTRL_ATTR_MCAST_GRP_NAME, name),
        ]
    });
    attrs.extend(numbered_list(nl::CTRL_ATTR_MCAST_GROUPS, groups));
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

/// A nested list as `dump_family` writes OPS and MCAST_GROUPS: entries
/// numbered from 1, each a nest of attributes; nothing when there are no
/// entries.
fn numbered_list<'a>(
    kind: u16,
    entries: impl Iterator<Item = Vec<Attr<'a>>>,
) -> Option<Attr<'static>> {
    let nested: Vec<Attr<'_>> = entries
        .enumerate()
        .map(|(i, children)| {
            let n = u16::try_from(i + 1).unwrap_or(u16::MAX) & nl::NLA_TYPE_MASK;
            Attr::nested(n, &children)
        })
        .collect();
    (!nested.is_empty()).then(|| Attr::nested(kind, &nested))
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
pub(crate) fn carp_reply_flags(
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

mod decode;
mod redact;
#[cfg(test)]
mod tests;

pub use decode::{decode_replies, decode_request};
pub(crate) use redact::redact_key;
