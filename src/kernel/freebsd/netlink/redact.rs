//! The redaction of CARP keys in netlink buffers about to be logged.

use carpctl_sys::netlink as nl;
use netlink_packet_core::{NetlinkBuffer, NlaBuffer};

use super::{NLM_F_CAPPED, align4};

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
pub(crate) fn redact_key(buf: &mut [u8]) {
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
