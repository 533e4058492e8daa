//! Netlink at the byte level: one request in, one reply datagram out.
//!
//! FreeBSD's netlink (`netlink_io.c`, `netlink_generic.c`) processes a
//! request as soon as it is sent and buffers every message of its reply
//! into the socket; the emulator queues them as one datagram. What decides
//! the reply (`nl_receive_message()`, `genl_handle_message()`;
//! docs/freebsd-carp.md §6):
//!
//! * a length field shorter than a header or longer than the datagram:
//!   FreeBSD drops the message without a word; the emulator answers
//!   `NLMSG_ERROR` EINVAL so that a broken request is seen;
//! * no `NLM_F_REQUEST`, or a control type below `NLMSG_MIN_TYPE`: nothing
//!   is handled; an ack only if `NLM_F_ACK` asks for one;
//! * the family id decides who answers ([`Family`]): a free slot has no
//!   command, EOPNOTSUPP (ENOTSUP); so does an unknown command. The genl
//!   header is not length-checked first: `genl_handle_message` compares
//!   `nlmsg_len` with `sizeof(hdr) + GENL_HDRLEN`, the size of a *pointer*
//!   plus 4, which every framed message passes, and reads `cmd` from the
//!   byte after the header (the emulator reads 0 when there is none, a
//!   command no family has). Then a command needing a privilege the caller
//!   lacks: EPERM; then the attribute parser, whose errors (a header too
//!   short for a `genlmsghdr`, a bad attribute) are EINVAL;
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
use super::modules::Family;
use super::state::HostState;
use crate::kernel::Errno;
use crate::kernel::freebsd::netlink::{self as codec, FamilyInfo, MsgHeader, Request};

/// `CARP_NL_CMD_MAX`: what `genl_register_family("carp", 0, 2,
/// CARP_NL_CMD_MAX)` passes as the attribute maximum (docs/freebsd-carp.md
/// §6.1).
const CARP_NL_CMD_MAX: u32 = nl::CARP_NL_CMD_SET as u32;

/// carp's GET: `DO | DUMP | HASPOL` = 0x0e (`carp_cmds[]`, ip_carp.c).
const CARP_GET_FLAGS: u32 = nl::GENL_CMD_CAP_DO | nl::GENL_CMD_CAP_DUMP | nl::GENL_CMD_CAP_HASPOL;
/// carp's SET: `DO | HASPOL`, plus `GENL_ADMIN_PERM` for its `cmd_priv`
/// (`get_cmd_flags`) = 0x0b.
const CARP_SET_FLAGS: u32 = nl::GENL_CMD_CAP_DO | nl::GENL_CMD_CAP_HASPOL | nl::GENL_ADMIN_PERM;

/// A request as sent: its bytes and its header (whatever of it is there).
/// It is decoded in [`respond`], where the kernel's state says which family
/// and which attributes exist. Deliberately not `Debug`: a SET carries the
/// key.
pub(super) struct Parsed {
    raw: Vec<u8>,
    header: MsgHeader,
}

impl Parsed {
    /// The generic netlink command byte: the byte after the header, 0 when
    /// the message ends there (see the module documentation).
    fn genl_cmd(&self) -> u8 {
        self.raw.get(nl::NLMSG_HDRLEN).copied().unwrap_or(0)
    }

    fn is_request(&self) -> bool {
        self.header.flags & nl::NLM_F_REQUEST != 0 && self.header.msg_type >= nl::GENL_ID_CTRL
    }

    /// A carp SET, well-formed or not, counts against an armed failure.
    /// Decided before the state is read, so command 2 to any family but
    /// nlctrl counts (only carp's family takes a SET in practice).
    pub(super) fn is_mutating(&self) -> bool {
        self.is_request()
            && self.header.msg_type > nl::GENL_ID_CTRL
            && self.genl_cmd() == nl::CARP_NL_CMD_SET
    }
}

/// Take a request in.
pub(super) fn parse(msg: &[u8]) -> Parsed {
    Parsed {
        raw: msg.to_vec(),
        header: raw_header(msg),
    }
}

/// Decode `p` for a kernel in state `st`: carp messages go to carp's id,
/// and attributes 10-12 exist only with VRRPv3 (a 14.x parser skips them
/// unchecked, as it does any attribute it does not know).
fn decode(st: &HostState, p: &Parsed) -> Result<Request, ()> {
    let max_attr = if st.flavor.has_vrrp() {
        nl::CARP_NL_MAX_ATTR
    } else {
        nl::CARP_NL_MAX_ATTR_14
    };
    codec::decode_request(&p.raw, st.carp_family_id, max_attr).map_err(|e| {
        tracing::debug!(target: "carpctl::emulated", "netlink request does not decode: {e}");
    })
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

/// nlctrl's description of carp's family (`dump_family`), with its ops.
fn carp_family(id: u16) -> FamilyInfo {
    FamilyInfo {
        id,
        name: nl::CARP_NL_FAMILY_NAME.to_string(),
        version: u32::from(nl::CARP_NL_FAMILY_VERSION),
        hdrsize: 0,
        maxattr: CARP_NL_CMD_MAX,
        ops: vec![
            (u32::from(nl::CARP_NL_CMD_GET), CARP_GET_FLAGS),
            (u32::from(nl::CARP_NL_CMD_SET), CARP_SET_FLAGS),
        ],
        mcast_groups: Vec::new(),
    }
}

/// `genl_handle_message()` up to the handler: the errno that stops the
/// request before its attributes are parsed, if any.
fn genl_precheck(st: &HostState, p: &Parsed) -> Option<Errno> {
    let cmd = p.genl_cmd();
    let cmd_ok = match st.genl_family(p.header.msg_type) {
        Family::Ctrl => cmd == nl::CTRL_CMD_GETFAMILY,
        Family::Carp => cmd == nl::CARP_NL_CMD_GET || cmd == nl::CARP_NL_CMD_SET,
        Family::Other(_) => cmd != 0,
        Family::None => false,
    };
    if !cmd_ok {
        return Some(Errno::EOPNOTSUPP);
    }
    // carp SET: `.cmd_priv = PRIV_NETINET_CARP`.
    if st.genl_family(p.header.msg_type) == Family::Carp
        && cmd == nl::CARP_NL_CMD_SET
        && !st.privileged
    {
        return Some(Errno::EPERM);
    }
    None
}

/// Process one request; the reply datagram (empty when there is none).
/// `port` is the socket's port id; `injected` an armed failure that hits
/// this call (only a SET is ever given one).
pub(super) fn respond(
    st: &mut HostState,
    p: &Parsed,
    port: u32,
    injected: Option<Errno>,
    ev: &mut Vec<Event>,
) -> Vec<u8> {
    let h = p.header;
    let r = Reply { p, port };
    // nl_receive_message() drops these without a reply (see the module doc).
    let framed = p.raw.len() >= nl::NLMSG_HDRLEN
        && usize::try_from(h.len).is_ok_and(|l| (nl::NLMSG_HDRLEN..=p.raw.len()).contains(&l));
    if !framed {
        return r.error(Errno::EINVAL);
    }
    if !p.is_request() {
        return r.ack();
    }
    if let Some(e) = injected {
        return r.error(e);
    }
    if let Some(e) = genl_precheck(st, p) {
        return r.error(e);
    }
    if let Family::Other(_) = st.genl_family(h.msg_type) {
        // Another module's family: see `Family::Other`.
        return if h.flags & nl::NLM_F_DUMP == nl::NLM_F_DUMP {
            codec::done_message(h.seq, port, 0)
        } else {
            r.ack()
        };
    }
    let Ok(req) = decode(st, p) else {
        // The attribute parser (nl_parse_nlmsg) refused the message.
        return r.error(Errno::EINVAL);
    };
    match req {
        Request::GetFamily { name, .. } => r.family(st, name),
        Request::Carp {
            cmd: nl::CARP_NL_CMD_SET,
            attrs,
            ..
        } => match st.nl_set(&attrs, ev) {
            Ok(()) => r.ack(),
            Err(e) => r.error(e),
        },
        Request::Carp { attrs, .. } => r.carp_get(st, &attrs),
        // genl_precheck() let through only GETFAMILY and carp GET/SET.
        Request::Other { .. } => r.error(Errno::EOPNOTSUPP),
    }
}

/// The replies to one request `p` on the socket with port id `port`.
struct Reply<'a> {
    p: &'a Parsed,
    port: u32,
}

impl Reply<'_> {
    /// An error message echoing the request.
    fn error(&self, e: Errno) -> Vec<u8> {
        codec::error_message_echo(self.port, -e.0, &self.p.raw)
    }

    /// The acknowledgement, when the request asked for one.
    fn ack(&self) -> Vec<u8> {
        if self.p.header.flags & nl::NLM_F_ACK != 0 {
            codec::error_message_echo(self.port, 0, &self.p.raw)
        } else {
            Vec::new()
        }
    }

    /// nlctrl GETFAMILY for `name`.
    fn family(&self, st: &HostState, name: String) -> Vec<u8> {
        let h = self.p.header;
        let mut out = Vec::new();
        match st.genl_family_id(&name) {
            Some(id) if name == nl::CARP_NL_FAMILY_NAME => {
                // dump_family() answers with nlmsg_reply(): the request's flags.
                out.extend(codec::family_reply_flags(
                    h.flags,
                    h.seq,
                    self.port,
                    &carp_family(id),
                ));
                out.extend(self.ack());
            }
            Some(id) => {
                // Another module's family: its id and name (what it would
                // add, ops and groups, is not modelled).
                let info = FamilyInfo {
                    id,
                    name,
                    version: 1,
                    ..FamilyInfo::default()
                };
                out.extend(codec::family_reply_flags(h.flags, h.seq, self.port, &info));
                out.extend(self.ack());
            }
            // 13.x, or carp.ko not loaded: no such family.
            None => out.extend(self.error(Errno::ENOENT)),
        }
        out
    }

    /// carp GET: one entry per vhid, then NLMSG_DONE.
    fn carp_get(&self, st: &HostState, attrs: &codec::CarpAttrs) -> Vec<u8> {
        let h = self.p.header;
        match st.nl_get(attrs) {
            NlGetOut::Error(e) => self.error(e),
            NlGetOut::Dump { entries, code } => {
                // carp_nl_get(): `hdr->nlmsg_flags |= NLM_F_MULTI`, copied
                // into every entry by nlmsg_reply().
                let flags = h.flags | nl::NLM_F_MULTI;
                let mut out = Vec::new();
                for entry in &entries {
                    out.extend(codec::carp_reply_flags(
                        st.carp_family_id,
                        flags,
                        h.seq,
                        self.port,
                        entry,
                    ));
                }
                out.extend(codec::done_message(h.seq, self.port, code));
                out
            }
        }
    }
}
