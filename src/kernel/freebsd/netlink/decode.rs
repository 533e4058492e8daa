//! Decoding netlink datagrams (replies, for the backend) and messages
//! (requests, for the emulated kernel).

use std::fmt;

use carpctl_sys::netlink as nl;
use netlink_packet_core::{
    DoneBuffer, ErrorBuffer, NetlinkBuffer, NetlinkHeader, NlaBuffer, NlasIterator, Parseable,
};
use netlink_packet_generic::GenlHeader;

use super::{CarpAttrs, FamilyInfo, MsgHeader, Reply, Request, WHAT_REPLY, WHAT_REQUEST, align4};
use crate::kernel::freebsd::DecodeError;

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
pub(super) fn read_header(bytes: &[u8; nl::NLMSG_HDRLEN]) -> MsgHeader {
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

/// A string attribute, as FreeBSD's `nlattr_get_string` reads it: the value
/// must hold a NUL (`strnlen(data, len) >= len` is EINVAL, so an empty value
/// is refused too), and the string ends at the first one
/// (netlink_message_parser.c @ 013ab21c; docs/freebsd-carp.md §6.5). The
/// kernel's own strings (`nlattr_add_string`) always carry it.
/// `parse_string` of netlink-packet-core would accept neither rule.
fn string(v: &[u8], name: &str, off: usize, at: &At) -> Result<String, DecodeError> {
    let Some(nul) = v.iter().position(|b| *b == 0) else {
        return Err(at.err(
            off,
            format!(
                "{name}: {} byte(s) without a terminating NUL (nlattr_get_string: EINVAL)",
                v.len()
            ),
        ));
    };
    let text = v.get(..nul).unwrap_or(&[]);
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

/// How the attributes of a message are walked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Replies (the backend): every byte must belong to a whole attribute;
    /// anything that overruns is an error naming it.
    Strict,
    /// Requests (the emulated kernel), as FreeBSD's `NLA_FOREACH` walks
    /// them (netlink.h; docs/freebsd-carp.md §6.5): the walk stops, without
    /// an error, at an attribute whose padded length runs past the end (and
    /// at fewer than 4 bytes left); an `nla_len` below 4 inside the message
    /// is EINVAL (`nl_parse_attrs_raw`).
    Kernel,
}

/// An attribute and its offset in the datagram.
type Located<'a> = (usize, NlaBuffer<&'a [u8]>);

/// The attributes of `data` (starting at datagram offset `base`): each with
/// its offset, walked as `walk` says.
fn walk_attrs(
    data: &[u8],
    base: usize,
    at: At,
    walk: Walk,
) -> Result<Vec<Located<'_>>, DecodeError> {
    if walk == Walk::Strict {
        return attrs_of(data, base, at).collect();
    }
    let mut out = Vec::new();
    let mut pos = 0usize;
    while let Some(rest) = data.get(pos..).filter(|r| r.len() >= nl::NLA_HDRLEN) {
        let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
        if align4(len) > rest.len() {
            break;
        }
        if len < nl::NLA_HDRLEN {
            return Err(at.err(
                base + pos,
                format!("nla_len {len} is less than the 4-byte header"),
            ));
        }
        let nla = NlaBuffer::new_checked(&rest[..len]).map_err(|e| at.err(base + pos, e))?;
        out.push((base + pos, nla));
        pos += align4(len);
    }
    Ok(out)
}

/// The carp attributes of a GET/SET message. A known attribute with the
/// wrong size is an error (the kernel's fixed-size parsers answer EINVAL);
/// a repeated attribute overrides the earlier one, as in `nl_parse_attrs`.
/// Attributes above `max_attr` are unknown to the kernel being modelled
/// (14.x knows 1-9): kept as they are, unchecked, as its parser skips them.
fn carp_attrs(
    data: &[u8],
    base: usize,
    at: At,
    walk: Walk,
    max_attr: u16,
) -> Result<CarpAttrs, DecodeError> {
    let mut a = CarpAttrs::default();
    for (off, nla) in walk_attrs(data, base, at, walk)? {
        let v = nla.value();
        let kind = nla.kind();
        let name = carp_attr_name(kind);
        if kind > max_attr {
            a.unknown.push((raw_kind(&nla), v.to_vec()));
            continue;
        }
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

/// The attributes of an nlctrl `CTRL_CMD_NEWFAMILY` message. Unknown
/// attributes are skipped; FAMILY_ID is required.
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
            nl::CTRL_ATTR_OPS => info.ops = ops(v, off + nl::NLA_HDRLEN, at)?,
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

/// `CTRL_ATTR_OPS`: nested entries numbered 1, 2, ..., each with OP_ID and
/// OP_FLAGS (u32), as `dump_family` writes them (docs/freebsd-carp.md §6.2).
fn ops(data: &[u8], base: usize, at: At) -> Result<Vec<(u32, u32)>, DecodeError> {
    let mut out = Vec::new();
    for item in attrs_of(data, base, at) {
        let (entry_off, entry) = item?;
        let (mut id, mut flags) = (None, None);
        for inner in attrs_of(entry.value(), entry_off + nl::NLA_HDRLEN, at) {
            let (off, nla) = inner?;
            let v = nla.value();
            match nla.kind() {
                nl::CTRL_ATTR_OP_ID => {
                    id = Some(u32::from_ne_bytes(fixed(v, "CTRL_ATTR_OP_ID", off, &at)?));
                }
                nl::CTRL_ATTR_OP_FLAGS => {
                    flags = Some(u32::from_ne_bytes(fixed(
                        v,
                        "CTRL_ATTR_OP_FLAGS",
                        off,
                        &at,
                    )?));
                }
                _ => {}
            }
        }
        let id =
            id.ok_or_else(|| at.err(entry_off, "CTRL_ATTR_OPS entry without CTRL_ATTR_OP_ID"))?;
        out.push((id, flags.unwrap_or(0)));
    }
    Ok(out)
}

/// `CTRL_ATTR_MCAST_GROUPS`: a list of nested entries (numbered 1, 2, ...),
/// each with GRP_NAME and GRP_ID (docs/freebsd-carp.md §6.2, `dump_family`).
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
                attrs: carp_attrs(data, base, m.at, Walk::Strict, nl::CARP_NL_MAX_ATTR)?,
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

/// Decode one request message (the emulated kernel's side), reading the
/// attributes as FreeBSD's parser does (`Walk::Kernel`): an attribute that
/// overruns the message ends the walk silently, and carp attributes above
/// `max_attr` (the highest the modelled kernel knows: 9 on 14.x, 12 with
/// VRRPv3) are skipped unchecked.
///
/// `buf` must hold exactly one message (trailing padding allowed). nlctrl
/// `CTRL_CMD_GETFAMILY` needs `CTRL_ATTR_FAMILY_NAME` (carpctl always
/// resolves by name; FreeBSD would dump every family without one). A
/// message of type `carp_family` decodes as [`Request::Carp`] whatever its
/// cmd; the caller refuses unknown commands as the kernel does.
pub fn decode_request(buf: &[u8], carp_family: u16, max_attr: u16) -> Result<Request, DecodeError> {
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
            for (off, nla) in walk_attrs(data, base, m.at, Walk::Kernel)? {
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
                attrs: carp_attrs(data, base, m.at, Walk::Kernel, max_attr)?,
            })
        }
        _ => Ok(Request::Other { header }),
    }
}
