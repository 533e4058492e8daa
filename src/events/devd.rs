//! devd(8) records: what a CARP transition looks like on the wire, and how
//! carpctl reads one.
//!
//! The kernel announces every change of a vhid's state with
//! `devctl_notify("CARP", "<vhid>@<ifname>", "<NEW STATE>", NULL)`
//! (`carp_set_state` in `sys/netinet/ip_carp.c`), which `devctl_notify_f`
//! (`sys/kern/subr_bus.c`) renders as one line:
//!
//! ```text
//! !system=CARP subsystem=1@em0 type=MASTER
//! ```
//!
//! devd hands such lines on unchanged: one per record on
//! `/var/run/devd.seqpacket.pipe`, newline included (docs/freebsd-carp.md §11,
//! §11). Older kernels may append a data token such as ` (null)`, so
//! trailing tokens are tolerated. Records of other systems, and devd's
//! attach (`+`), detach (`-`) and nomatch (`?`) records, are not CARP
//! events and are skipped quietly; anything else is garbage and is reported
//! as a [`RecordError`] for the caller to log and drop.
//!
//! These parsers are pure and shared by `carpctl watch`, `carpctl daemon`
//! and `carpctl hook` (which gets the same `subsystem` and `type` from the
//! devd snippet's `$subsystem $type`).

use std::fmt;

use crate::model::{CarpState, IfName, Vhid, VhidRef};

/// devd's SOCK_SEQPACKET socket: one event per record (docs/freebsd-carp.md §11).
pub(crate) const DEFAULT_SOCKET: &str = "/var/run/devd.seqpacket.pipe";

/// One CARP transition as the kernel announced it: `vhid@interface` is now
/// in `state`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CarpEvent {
    pub vhid: Vhid,
    /// A `String`, not an [`IfName`]: replayed events are built from
    /// what the kernel reports (`VhidStatus`), whose names follow only the
    /// kernel's rule ([`IfName::check_kernel`]).
    pub interface: String,
    pub state: CarpState,
}

impl CarpEvent {
    /// The devctl subsystem, `vhid@interface` (`1@em0`), as carpctl's logs
    /// write a vhid.
    pub(crate) fn subsystem(&self) -> String {
        self.vhid_ref().to_string()
    }

    /// The vhid as `vhid@interface`.
    pub(crate) fn vhid_ref(&self) -> VhidRef<&str> {
        VhidRef::new(self.vhid, &self.interface)
    }
}

impl fmt::Display for CarpEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.vhid_ref(), self.state)
    }
}

/// Why a record is not a usable devd event. The message names what was
/// wrong and quotes (a bounded, escaped prefix of) what was received.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("empty record")]
    Empty,
    #[error("record truncated: longer than the {limit}-byte receive buffer")]
    Truncated { limit: usize },
    #[error("not a devd event (it must start with '!', '+', '-' or '?'): {0}")]
    UnknownKind(String),
    #[error("notify record without system=: {0}")]
    NoSystem(String),
    #[error("CARP record without {field}=: {record}")]
    MissingField { field: &'static str, record: String },
    #[error("bad CARP subsystem {value}: {reason}")]
    Subsystem { value: String, reason: String },
    #[error("bad CARP type {0}: it must be MASTER, BACKUP or INIT")]
    Type(String),
}

/// `bytes` as an escaped, quoted string of at most
/// [`crate::text::QUOTE_MAX`] bytes, so that a hostile or broken peer
/// cannot make carpctl log megabytes, nor control characters or bidi
/// overrides ([`crate::text::quote_bytes`]).
pub(crate) fn quote(bytes: &[u8]) -> String {
    crate::text::quote_bytes(bytes)
}

/// Parse one devd record.
///
/// `Ok(Some(event))` for a CARP transition; `Ok(None)` for a well-formed
/// record that is not one (another system; attach, detach or nomatch);
/// `Err` for garbage.
pub fn parse_record(record: &[u8]) -> Result<Option<CarpEvent>, RecordError> {
    // The record carries the line's '\n'; devd strips trailing newlines
    // itself (devd.cc event_loop), and a NUL terminator is tolerated too.
    let line = trim_end(record);
    let Some((&kind, rest)) = line.split_first() else {
        return Err(RecordError::Empty);
    };
    match kind {
        b'!' => {}
        // Device attach/detach and unmatched device records: devd's own
        // kinds (devd.cc: attach '+', detach '-', nomatch '?').
        b'+' | b'-' | b'?' => return Ok(None),
        _ => return Err(RecordError::UnknownKind(quote(record))),
    }
    let (mut system, mut subsystem, mut typ) = (None, None, None);
    for token in rest.split(u8::is_ascii_whitespace) {
        // The first occurrence wins: a data token that happens to contain
        // `type=` must not override the kernel's own field.
        let slot = if let Some(v) = token.strip_prefix(b"system=") {
            (&mut system, v)
        } else if let Some(v) = token.strip_prefix(b"subsystem=") {
            (&mut subsystem, v)
        } else if let Some(v) = token.strip_prefix(b"type=") {
            (&mut typ, v)
        } else {
            continue;
        };
        if slot.0.is_none() {
            *slot.0 = Some(slot.1);
        }
    }
    let Some(system) = system else {
        return Err(RecordError::NoSystem(quote(record)));
    };
    // devctl writes "CARP" exactly, and devd's `match "system" "CARP"` is
    // case-sensitive too.
    if system != b"CARP" {
        return Ok(None);
    }
    let missing = |field| RecordError::MissingField {
        field,
        record: quote(record),
    };
    let subsystem = subsystem.ok_or_else(|| missing("subsystem"))?;
    let typ = typ.ok_or_else(|| missing("type"))?;
    let (vhid, interface) = parse_subsystem_bytes(subsystem)?;
    let state = parse_type_bytes(typ)?;
    Ok(Some(CarpEvent {
        vhid,
        interface: interface.into(),
        state,
    }))
}

fn trim_end(mut b: &[u8]) -> &[u8] {
    while let Some((&last, rest)) = b.split_last() {
        if last == b'\n' || last == b'\r' || last == 0 || last == b' ' || last == b'\t' {
            b = rest;
        } else {
            break;
        }
    }
    b
}

/// Parse a CARP subsystem, `<vhid>@<ifname>` (`5@vlan0.100`).
///
/// The vhid is 1-255 in decimal; the interface name an [`IfName`]: the
/// same set the devd snippet's regex accepts (`rc.d/carpctl-devd.conf`),
/// which also keeps the name harmless in the shell devd runs actions with.
pub fn parse_subsystem(s: &str) -> Result<(Vhid, IfName), RecordError> {
    parse_subsystem_bytes(s.as_bytes())
}

fn parse_subsystem_bytes(b: &[u8]) -> Result<(Vhid, IfName), RecordError> {
    let r = VhidRef::parse_bytes(b).map_err(|e| RecordError::Subsystem {
        value: quote(b),
        reason: e.0,
    })?;
    Ok((r.vhid, r.ifname))
}

/// Parse a CARP type: `MASTER`, `BACKUP` or `INIT`, in capitals, as the
/// kernel writes them (`carp_set_state` passes `carp_states[]`).
pub(crate) fn parse_type(s: &str) -> Result<CarpState, RecordError> {
    parse_type_bytes(s.as_bytes())
}

fn parse_type_bytes(b: &[u8]) -> Result<CarpState, RecordError> {
    match b {
        b"MASTER" => Ok(CarpState::Master),
        b"BACKUP" => Ok(CarpState::Backup),
        b"INIT" => Ok(CarpState::Init),
        _ => Err(RecordError::Type(quote(b))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(vhid: i64, ifname: &str, state: CarpState) -> CarpEvent {
        CarpEvent {
            vhid: Vhid::new(vhid).unwrap(),
            interface: ifname.into(),
            state,
        }
    }

    #[test]
    fn the_kernel_line_parses() {
        // The exact devctl_notify_f rendering without data, newline
        // included (docs/freebsd-carp.md §11).
        assert_eq!(
            parse_record(b"!system=CARP subsystem=1@em0 type=MASTER\n"),
            Ok(Some(ev(1, "em0", CarpState::Master)))
        );
        assert_eq!(
            parse_record(b"!system=CARP subsystem=255@igb1 type=BACKUP"),
            Ok(Some(ev(255, "igb1", CarpState::Backup)))
        );
        assert_eq!(
            parse_record(b"!system=CARP subsystem=12@em0 type=INIT\n"),
            Ok(Some(ev(12, "em0", CarpState::Init)))
        );
    }

    #[test]
    fn interface_names_with_dots_underscores_and_dashes() {
        assert_eq!(
            parse_record(b"!system=CARP subsystem=5@vlan0.100 type=MASTER\n"),
            Ok(Some(ev(5, "vlan0.100", CarpState::Master)))
        );
        assert_eq!(
            parse_record(b"!system=CARP subsystem=12@lagg0_vlan210 type=BACKUP\n"),
            Ok(Some(ev(12, "lagg0_vlan210", CarpState::Backup)))
        );
        assert_eq!(
            parse_subsystem("3@my-if0"),
            Ok((Vhid::new(3).unwrap(), IfName::new("my-if0").unwrap()))
        );
    }

    #[test]
    fn trailing_tokens_and_terminators_are_tolerated() {
        // Old kernels rendered a NULL data as " (null)" (docs/freebsd-carp.md §11).
        for rec in [
            &b"!system=CARP subsystem=1@em0 type=MASTER (null)\n"[..],
            b"!system=CARP subsystem=1@em0 type=MASTER extra=1 type=INIT\n",
            b"!system=CARP subsystem=1@em0 type=MASTER\n\0",
            b"!system=CARP  subsystem=1@em0\ttype=MASTER \r\n",
        ] {
            assert_eq!(
                parse_record(rec),
                Ok(Some(ev(1, "em0", CarpState::Master))),
                "{}",
                quote(rec)
            );
        }
    }

    #[test]
    fn other_systems_and_device_records_are_not_events() {
        for rec in [
            &b"!system=IFNET subsystem=em0 type=LINK_UP\n"[..],
            b"!system=carp subsystem=1@em0 type=MASTER\n",
            b"!system=DEVFS subsystem=CDEV type=CREATE cdev=\"da0\"\n",
            b"+uhub0 at bus=0 on usbus0\n",
            b"-uhub0 at bus=0 on usbus0\n",
            b"? at bus=0 on pci0\n",
            // Another system's data may be anything, even non-UTF-8.
            b"!system=USB subsystem=DEVICE type=ATTACH product=\xff\xfe\n",
        ] {
            assert_eq!(parse_record(rec), Ok(None), "{}", quote(rec));
        }
    }

    #[test]
    fn garbage_is_an_error_that_quotes_it() {
        assert_eq!(parse_record(b""), Err(RecordError::Empty));
        assert_eq!(parse_record(b"\n\0"), Err(RecordError::Empty));
        let e = parse_record(b"hello world\n").unwrap_err();
        assert!(matches!(e, RecordError::UnknownKind(_)), "{e:?}");
        assert!(e.to_string().contains("\"hello world\\n\""), "{e}");
        let e = parse_record(b"!subsystem=1@em0 type=MASTER").unwrap_err();
        assert!(matches!(e, RecordError::NoSystem(_)), "{e:?}");
        let e = parse_record(b"!system=CARP type=MASTER").unwrap_err();
        assert!(
            matches!(
                e,
                RecordError::MissingField {
                    field: "subsystem",
                    ..
                }
            ),
            "{e:?}"
        );
        let e = parse_record(b"!system=CARP subsystem=1@em0").unwrap_err();
        assert!(
            matches!(e, RecordError::MissingField { field: "type", .. }),
            "{e:?}"
        );
        let e = parse_record(b"!system=CARP subsystem=1@em0 type=master").unwrap_err();
        assert_eq!(e, RecordError::Type("\"master\"".into()));
        assert!(e.to_string().contains("MASTER, BACKUP or INIT"), "{e}");
        let e = parse_record(b"\x00\xff\xfe garbage").unwrap_err();
        assert!(e.to_string().contains("\\0\\xff\\xfe"), "{e}");
        // ESC and a bidi override in a record: escaped in the error.
        let e = parse_record(b"!system=CARP subsystem=1@em0\x1b[2Jx\xe2\x80\xae type=MASTER")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"1@em0\\u{1b}[2Jx\\u{202e}\""), "{e}");
        assert!(!e.contains('\u{1b}') && !e.contains('\u{202e}'), "{e:?}");
        // A record of CR, NUL and a bidi override: escaped, not raw.
        let e = parse_record(b"\r\0\xe2\x80\xae!").unwrap_err().to_string();
        assert!(e.contains("\"\\r\\0\\u{202e}!\""), "{e}");
    }

    #[test]
    fn bad_subsystems_say_why() {
        let reason = |s: &str| match parse_subsystem(s) {
            Err(RecordError::Subsystem { reason, .. }) => reason,
            other => panic!("{s}: {other:?}"),
        };
        assert!(reason("em0").contains("<vhid>@<interface>"));
        assert!(reason("@em0").contains("decimal"));
        assert!(reason("x@em0").contains("decimal"));
        assert!(reason("-1@em0").contains("decimal"));
        assert!(reason("+1@em0").contains("decimal"));
        assert!(reason("0@em0").contains("1-255"));
        assert!(reason("256@em0").contains("1-255"));
        assert!(reason("99999999999999999999999@em0").contains("1-255"));
        // The digits as received, never a saturated number.
        let r = reason("99999999999999999999999@em0");
        assert!(r.contains("got 99999999999999999999999"), "{r}");
        assert!(!r.contains("9223372036854775807"), "{r}");
        let r = reason("0001@em0");
        assert!(r.contains("\"0001\" has leading zeros"), "{r}");
        assert!(!r.contains("9223372036854775807"), "{r}");
        assert!(reason("01@em0").contains("leading zeros"));
        assert!(reason("00@em0").contains("leading zeros"));
        let e = parse_record(b"!system=CARP subsystem=0001@em0 type=MASTER\n").unwrap_err();
        assert!(e.to_string().contains("leading zeros"), "{e}");
        assert!(reason("1@").contains("empty"));
        assert!(reason("1@abcdefghijklmnop").contains("16 bytes"));
        assert!(reason("1@em0;reboot").contains("';'"));
        assert!(reason("1@em 0").contains("' '"));
        assert!(reason("1@em0@x").contains("'@'"));
        assert!(reason("1@\u{e9}m0").contains("only letters"));
        // Exactly IFNAMSIZ - 1 bytes is fine.
        assert!(parse_subsystem("1@abcdefghijklmno").is_ok());
    }

    #[test]
    fn quoting_is_bounded() {
        let long = vec![b'x'; 10_000];
        let q = quote(&long);
        assert!(q.len() < 120, "{q}");
        assert!(q.ends_with("(10000 bytes)"), "{q}");
        let e = parse_record(&long).unwrap_err();
        assert!(e.to_string().len() < 200, "{e}");
    }

    #[test]
    fn types() {
        assert_eq!(parse_type("MASTER"), Ok(CarpState::Master));
        assert_eq!(parse_type("BACKUP"), Ok(CarpState::Backup));
        assert_eq!(parse_type("INIT"), Ok(CarpState::Init));
        assert!(parse_type("Master").is_err());
        assert!(parse_type("").is_err());
        assert_eq!(
            ev(5, "vlan0.100", CarpState::Init).subsystem(),
            "5@vlan0.100"
        );
        assert_eq!(
            ev(5, "vlan0.100", CarpState::Init).to_string(),
            "5@vlan0.100 INIT"
        );
    }
}
