//! Netlink at the byte level: one request in, one reply datagram out.
//!
//! FreeBSD's netlink (`netlink_io.c`, `netlink_generic.c`) processes a
//! request as soon as it is sent and buffers every message of its reply
//! into the socket; the emulator queues them as one datagram. What decides
//! the reply (`nl_receive_message()`, `genl_handle_message()`):
//!
//! * a length field shorter than a header or longer than the datagram:
//!   FreeBSD drops the message without a word; the emulator answers
//!   `NLMSG_ERROR` EINVAL so that a broken request is seen;
//! * no `NLM_F_REQUEST`, or a control type below `NLMSG_MIN_TYPE`: nothing
//!   is handled; an ack only if `NLM_F_ACK` asks for one;
//! * a message too short for a `genlmsghdr`: EINVAL; an unknown family or
//!   command: EOPNOTSUPP (ENOTSUP); a command needing a privilege the
//!   caller lacks: EPERM; all before the attributes are parsed, and then a
//!   parse error is EINVAL;
//! * a handler error: `NLMSG_ERROR` echoing the whole request; success: an
//!   ack (header only, `NLM_F_CAPPED`) only with `NLM_F_ACK`;
//! * a dump (carp GET) ends with `NLMSG_DONE` carrying the result as a
//!   positive errno (`nlmsg_end_dump()`), which suppresses the ack.
//!
//! Every reply carries the socket's port id: `nl_receive_message()` stamps
//! the request header with it before handling, and replies copy it.

use carpctl_sys::netlink as nl;

use super::carp::NlGetOut;
use super::fsm::Event;
use super::state::HostState;
use crate::kernel::Errno;
use crate::kernel::freebsd::netlink::{self as codec, FamilyInfo, MsgHeader, Request};

/// The dynamic family id the emulated kernel gives "carp".
pub const CARP_FAMILY_ID: u16 = 0x20;

/// `CARP_NL_CMD_MAX`: what `genl_register_family("carp", 0, 2,
/// CARP_NL_CMD_MAX)` passes as the attribute maximum (reference §9.1).
const CARP_NL_CMD_MAX: u32 = nl::CARP_NL_CMD_SET as u32;

/// A request as sent: its bytes, its header (whatever of it is there) and
/// its decoding, which fails for a malformed message. Deliberately not
/// `Debug`: a SET carries the key.
pub struct Parsed {
    raw: Vec<u8>,
    header: MsgHeader,
    decoded: Option<Request>,
}

impl Parsed {
    /// The generic netlink command byte, if the message has one.
    fn genl_cmd(&self) -> Option<u8> {
        self.raw.get(nl::NLMSG_HDRLEN).copied()
    }

    fn is_request(&self) -> bool {
        self.header.flags & nl::NLM_F_REQUEST != 0 && self.header.msg_type >= nl::GENL_ID_CTRL
    }

    /// A carp SET, well-formed or not, counts against an armed failure.
    pub fn is_mutating(&self) -> bool {
        self.is_request()
            && self.header.msg_type == CARP_FAMILY_ID
            && self.genl_cmd() == Some(nl::CARP_NL_CMD_SET)
    }
}

/// Decode a request. (One approximation: the codec checks the sizes of
/// attributes 10-12 on every flavor, so a malformed VRRP attribute is
/// EINVAL on 14.x too, where FreeBSD's parser would skip it as unknown.)
pub fn parse(msg: &[u8]) -> Parsed {
    let decoded = match codec::decode_request(msg, CARP_FAMILY_ID) {
        Ok(req) => Some(req),
        Err(e) => {
            tracing::debug!(target: "carpctl::emulated", "netlink request does not decode: {e}");
            None
        }
    };
    Parsed {
        raw: msg.to_vec(),
        header: raw_header(msg),
        decoded,
    }
}

/// Whatever of `struct nlmsghdr` is there.
fn raw_header(msg: &[u8]) -> MsgHeader {
    let u32_at = |off: usize| {
        msg.get(off..off + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_ne_bytes)
    };
    let u16_at = |off: usize| {
        msg.get(off..off + 2)
            .and_then(|b| b.try_into().ok())
            .map(u16::from_ne_bytes)
    };
    MsgHeader {
        len: u32_at(0).unwrap_or(0),
        msg_type: u16_at(4).unwrap_or(0),
        flags: u16_at(6).unwrap_or(0),
        seq: u32_at(8).unwrap_or(0),
        pid: u32_at(12).unwrap_or(0),
    }
}

fn carp_family() -> FamilyInfo {
    FamilyInfo {
        id: CARP_FAMILY_ID,
        name: nl::CARP_NL_FAMILY_NAME.to_string(),
        version: u32::from(nl::CARP_NL_FAMILY_VERSION),
        hdrsize: 0,
        maxattr: CARP_NL_CMD_MAX,
        mcast_groups: Vec::new(),
    }
}

/// `genl_handle_message()` up to the handler: the errno that stops the
/// request before its attributes are parsed, if any.
fn genl_precheck(st: &HostState, p: &Parsed) -> Option<Errno> {
    let family = p.header.msg_type;
    let known =
        family == nl::GENL_ID_CTRL || (family == CARP_FAMILY_ID && st.carp_family_registered());
    if !known {
        return Some(Errno::EOPNOTSUPP);
    }
    let Some(cmd) = p
        .genl_cmd()
        .filter(|_| p.raw.len() >= nl::NLMSG_HDRLEN + nl::GENL_HDRLEN)
    else {
        return Some(Errno::EINVAL);
    };
    let cmd_ok = if family == nl::GENL_ID_CTRL {
        cmd == nl::CTRL_CMD_GETFAMILY
    } else {
        cmd == nl::CARP_NL_CMD_GET || cmd == nl::CARP_NL_CMD_SET
    };
    if !cmd_ok {
        return Some(Errno::EOPNOTSUPP);
    }
    // carp SET: `.cmd_priv = PRIV_NETINET_CARP`.
    if family == CARP_FAMILY_ID && cmd == nl::CARP_NL_CMD_SET && !st.privileged {
        return Some(Errno::EPERM);
    }
    None
}

/// Process one request; the reply datagram (empty when there is none).
/// `port` is the socket's port id; `injected` an armed failure that hits
/// this call (only a SET is ever given one).
pub fn respond(
    st: &mut HostState,
    p: &Parsed,
    port: u32,
    injected: Option<Errno>,
    ev: &mut Vec<Event>,
) -> Vec<u8> {
    let h = p.header;
    let error = |e: Errno| codec::error_message_echo(port, -e.0, &p.raw);
    let ack = || {
        if h.flags & nl::NLM_F_ACK != 0 {
            codec::error_message_echo(port, 0, &p.raw)
        } else {
            Vec::new()
        }
    };
    // nl_receive_message() drops these without a reply (see the module doc).
    let framed = p.raw.len() >= nl::NLMSG_HDRLEN
        && usize::try_from(h.len).is_ok_and(|l| (nl::NLMSG_HDRLEN..=p.raw.len()).contains(&l));
    if !framed {
        return error(Errno::EINVAL);
    }
    if !p.is_request() {
        return ack();
    }
    if let Some(e) = injected {
        return error(e);
    }
    if let Some(e) = genl_precheck(st, p) {
        return error(e);
    }
    let Some(req) = &p.decoded else {
        // The attribute parser (nl_parse_nlmsg) refused the message.
        return error(Errno::EINVAL);
    };
    let mut out = Vec::new();
    match req {
        Request::GetFamily { name, .. } => {
            if name == nl::CARP_NL_FAMILY_NAME && st.carp_family_registered() {
                // dump_family() answers with nlmsg_reply(): the request's flags.
                out.extend(codec::family_reply_flags(
                    h.flags,
                    h.seq,
                    port,
                    &carp_family(),
                ));
                out.extend(ack());
            } else {
                // 13.x, or carp.ko not loaded: no such family.
                out.extend(error(Errno::ENOENT));
            }
        }
        Request::Carp {
            cmd: nl::CARP_NL_CMD_SET,
            attrs,
            ..
        } => match st.nl_set(attrs, ev) {
            Ok(()) => out.extend(ack()),
            Err(e) => out.extend(error(e)),
        },
        Request::Carp { attrs, .. } => match st.nl_get(attrs) {
            NlGetOut::Error(e) => out.extend(error(e)),
            NlGetOut::Dump { entries, code } => {
                // carp_nl_get(): `hdr->nlmsg_flags |= NLM_F_MULTI`, copied
                // into every entry by nlmsg_reply().
                let flags = h.flags | nl::NLM_F_MULTI;
                for entry in &entries {
                    out.extend(codec::carp_reply_flags(
                        CARP_FAMILY_ID,
                        flags,
                        h.seq,
                        port,
                        entry,
                    ));
                }
                out.extend(codec::done_message(h.seq, port, code));
            }
        },
        // genl_precheck() let through only GETFAMILY and carp GET/SET.
        Request::Other { .. } => out.extend(error(Errno::EOPNOTSUPP)),
    }
    out
}
