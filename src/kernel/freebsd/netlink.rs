//! Generic netlink as FreeBSD speaks it: nlctrl `CTRL_CMD_GETFAMILY` to
//! resolve the dynamic id of the "carp" family, and the carp family's GET and
//! SET (`sys/netinet/ip_carp_nl.h`, `ip_carp.c` @ MAIN; reference §9).
//!
//! Pure functions over bytes, used in both directions: the backend encodes
//! requests and decodes replies; the emulated kernel decodes requests and
//! encodes replies. Unknown attributes are kept, not rejected.

use carpctl_sys::netlink as nl;

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    pub unknown: Vec<(u16, Vec<u8>)>,
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
    Error { header: MsgHeader, code: i32, request: Option<MsgHeader> },
    /// An nlctrl `CTRL_CMD_NEWFAMILY` reply.
    Family { header: MsgHeader, info: FamilyInfo },
    /// A carp family message (GET reply entry).
    Carp { header: MsgHeader, cmd: u8, attrs: CarpAttrs },
    /// Any other message type, skipped by the caller.
    Other { header: MsgHeader },
}

/// One decoded request (what the emulated kernel receives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// nlctrl `CTRL_CMD_GETFAMILY` by name.
    GetFamily { header: MsgHeader, name: String },
    /// A carp family command (GET or SET, or an unknown cmd to refuse).
    Carp { header: MsgHeader, cmd: u8, attrs: CarpAttrs },
    /// Anything else (unknown message type or nlctrl command).
    Other { header: MsgHeader },
}

/// `CTRL_CMD_GETFAMILY` for `name` (flags `NLM_F_REQUEST`).
pub fn getfamily_request(seq: u32, name: &str) -> Vec<u8> {
    let _ = (seq, name, nl::GENL_ID_CTRL);
    todo!("netlink helper")
}

/// A carp family request. Attributes go out in libifconfig's order: VHID,
/// STATE, ADVBASE, ADVSKEW, IFNAME, ADDR, ADDR6, KEY, VERSION, VRRP_PRIORITY,
/// VRRP_ADV_INTER, IFINDEX, then unknown ones.
pub fn carp_request(family_id: u16, cmd: u8, flags: u16, seq: u32, attrs: &CarpAttrs) -> Vec<u8> {
    let _ = (family_id, cmd, flags, seq, attrs);
    todo!("netlink helper")
}

/// Split one received datagram into messages and decode each. Messages of
/// type `carp_family` decode as [`Reply::Carp`].
pub fn decode_replies(buf: &[u8], carp_family: Option<u16>) -> Result<Vec<Reply>, DecodeError> {
    let _ = (buf, carp_family);
    todo!("netlink helper")
}

/// Decode one request message (the emulated kernel's side).
pub fn decode_request(buf: &[u8], carp_family: u16) -> Result<Request, DecodeError> {
    let _ = (buf, carp_family);
    todo!("netlink helper")
}

/// nlctrl's `CTRL_CMD_NEWFAMILY` reply describing `info`.
pub fn family_reply(seq: u32, pid: u32, info: &FamilyInfo) -> Vec<u8> {
    let _ = (seq, pid, info);
    todo!("netlink helper")
}

/// One GET reply entry (`NLM_F_MULTI`, `genlmsghdr { cmd = GET, version = 0 }`),
/// attributes in the kernel's order: VHID, STATE, VERSION, ADVBASE, ADVSKEW,
/// ADDR, ADDR6, KEY, VRRP_PRIORITY, VRRP_ADV_INTER (absent ones skipped).
pub fn carp_reply(family_id: u16, seq: u32, pid: u32, attrs: &CarpAttrs) -> Vec<u8> {
    let _ = (family_id, seq, pid, attrs);
    todo!("netlink helper")
}

/// `NLMSG_DONE` with a 4-byte result code.
pub fn done_message(seq: u32, pid: u32, code: i32) -> Vec<u8> {
    let _ = (seq, pid, code);
    todo!("netlink helper")
}

/// `NLMSG_ERROR` (code 0 = ack; errors as negative errno) echoing `request`.
pub fn error_message(seq: u32, pid: u32, code: i32, request: &MsgHeader) -> Vec<u8> {
    let _ = (seq, pid, code, request);
    todo!("netlink helper")
}

/// Zero the payload of every `CARP_NL_KEY` attribute in `buf`, leaving its
/// type and length visible. Every generic netlink message that is not nlctrl
/// (type > `GENL_ID_CTRL`) counts as carp: carpctl's socket talks to nothing
/// else. Tolerates garbage: stops at the first thing that does not parse.
pub fn redact_key(buf: &mut [u8]) {
    let _ = buf;
    todo!("netlink helper")
}
