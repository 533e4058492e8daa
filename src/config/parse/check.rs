//! `[[check]]`: health checks (tcp, exec, http), their timing and their
//! demotion weight (filled in from the plan once the whole file is read).

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use super::Validator;
use super::shape::{EntryAt, entry_ctx};
use crate::config::{Check, HttpUrl, Probe};
use crate::model::MAX_WEIGHT;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: Option<Spanned<String>>,
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    address: Option<Spanned<String>>,
    command: Option<Spanned<Vec<Spanned<String>>>>,
    url: Option<Spanned<String>>,
    expect_status: Option<Spanned<i64>>,
    interval: Option<Spanned<i64>>,
    timeout: Option<Spanned<i64>>,
    rise: Option<Spanned<i64>>,
    fall: Option<Spanned<i64>>,
    weight: Option<Spanned<i64>>,
}

/// `[[check]]` defaults (carpctl.toml(5)).
const CHECK_INTERVAL_DEFAULT: u64 = 2;
const CHECK_TIMEOUT_DEFAULT: u64 = 1;
const CHECK_RISE_DEFAULT: u32 = 2;
const CHECK_FALL_DEFAULT: u32 = 3;
const CHECK_SECONDS_MAX: u64 = 3600;
const CHECK_COUNT_MAX: u32 = 100;
const HTTP_EXPECT_DEFAULT: u16 = 200;

impl Validator<'_> {
    /// Every `[[check]]`; `None` entries failed (already reported).
    pub(super) fn checks(&mut self, v: Spanned<DeValue<'_>>) -> Vec<Option<ParsedCheck>> {
        let entries = self.array_of_tables(v, "check");
        let mut out = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, span, table) in entries {
            let ctx = entry_ctx("check", i, &table);
            let keypath = format!("check[{i}]");
            let (raw, failed) = self.entry::<RawCheck>(table, span.clone(), &ctx, &keypath);
            let Some(raw) = raw else {
                out.push(None);
                continue;
            };
            let c = self.check(&span, &ctx, &keypath, raw, &failed);
            if let Some(c) = &c {
                if let Some(line) = seen.get(&c.name) {
                    let msg = format!(
                        "{ctx}: check name \"{}\" is already used at line {line}",
                        c.name
                    );
                    self.error(&c.name_span, format!("{keypath}.name"), msg);
                    out.push(None);
                    continue;
                }
                seen.insert(c.name.clone(), self.idx.span(&span).line);
            }
            out.push(c);
        }
        out
    }

    /// One `[[check]]` entry: each rule in the order its errors are
    /// reported (name, type, keys of another type, probe, timing).
    fn check(
        &mut self,
        span: &Range<usize>,
        ctx: &str,
        keypath: &str,
        mut raw: RawCheck,
        failed: &BTreeSet<String>,
    ) -> Option<ParsedCheck> {
        let at = EntryAt {
            span,
            ctx,
            keypath,
            failed,
        };
        let name = match raw.name.take() {
            Some(n) => self.valid_name(n, keypath, ctx),
            None => {
                self.missing_key(&at, "name", "");
                None
            }
        };
        let kind = self.check_kind(&at, raw.kind.as_ref());
        let keys_ok = kind.is_none_or(|kind| self.foreign_keys(&at, &raw, kind));
        let probe = match kind {
            Some("tcp") => self.tcp_probe(&at, raw.address.take()),
            Some("exec") => self.exec_probe(&at, raw.command.take()),
            Some(_) => self.http_probe(&at, raw.url.take(), raw.expect_status.as_ref()),
            None => None,
        };
        let timing = self.check_timing(&at, &raw);
        let (Some(name), Some(probe), Some(timing), true, true) =
            (name, probe, timing, keys_ok, failed.is_empty())
        else {
            return None;
        };
        Some(ParsedCheck {
            name_span: name.span(),
            name: name.into_inner(),
            probe,
            interval: Duration::from_secs(timing.interval),
            timeout: Duration::from_secs(timing.timeout),
            // Both at most CHECK_COUNT_MAX and MAX_WEIGHT: the conversions
            // cannot fail.
            rise: u32::try_from(timing.rise).unwrap_or(CHECK_COUNT_MAX),
            fall: u32::try_from(timing.fall).unwrap_or(CHECK_COUNT_MAX),
            weight: timing
                .weight
                .map(|w| u16::try_from(w).unwrap_or(MAX_WEIGHT)),
        })
    }

    /// `type`: one of "tcp", "exec", "http".
    fn check_kind(
        &mut self,
        at: &EntryAt<'_>,
        kind: Option<&Spanned<String>>,
    ) -> Option<&'static str> {
        let Some(k) = kind else {
            self.missing_key(at, "type", " (\"tcp\", \"exec\" or \"http\")");
            return None;
        };
        match k.get_ref().as_str() {
            "tcp" => Some("tcp"),
            "exec" => Some("exec"),
            "http" => Some("http"),
            other => {
                let msg = format!(
                    "{}: type \"{other}\" is not one of \"tcp\", \"exec\", \"http\"",
                    at.ctx
                );
                self.error(&k.span(), format!("{}.type", at.keypath), msg);
                None
            }
        }
    }

    /// A key of another type is named as such rather than silently
    /// ignored. False if there is one.
    fn foreign_keys(&mut self, at: &EntryAt<'_>, raw: &RawCheck, kind: &str) -> bool {
        let given: [(&str, &str, Option<Range<usize>>); 4] = [
            ("address", "tcp", raw.address.as_ref().map(Spanned::span)),
            ("command", "exec", raw.command.as_ref().map(Spanned::span)),
            ("url", "http", raw.url.as_ref().map(Spanned::span)),
            (
                "expect_status",
                "http",
                raw.expect_status.as_ref().map(Spanned::span),
            ),
        ];
        let mut ok = true;
        for (key, belongs, span) in &given {
            if let Some(span) = span
                && *belongs != kind
            {
                let msg = format!(
                    "{}: {key} is a key of type = \"{belongs}\", not of type = \"{kind}\"",
                    at.ctx
                );
                self.error(span, format!("{}.{key}", at.keypath), msg);
                ok = false;
            }
        }
        ok
    }

    /// `type = "tcp"`: `address`, HOST:PORT.
    fn tcp_probe(&mut self, at: &EntryAt<'_>, address: Option<Spanned<String>>) -> Option<Probe> {
        let Some(a) = address else {
            self.missing_key(at, "address", " (HOST:PORT) for type = \"tcp\"");
            return None;
        };
        match check_address(a.get_ref()) {
            Ok(()) => Some(Probe::Tcp {
                address: a.into_inner(),
            }),
            Err(why) => {
                let msg = format!("{}: address \"{}\" {why}", at.ctx, a.get_ref());
                self.error(&a.span(), format!("{}.address", at.keypath), msg);
                None
            }
        }
    }

    /// `type = "exec"`: `command`, an argv array.
    fn exec_probe(
        &mut self,
        at: &EntryAt<'_>,
        command: Option<Spanned<Vec<Spanned<String>>>>,
    ) -> Option<Probe> {
        let Some(c) = command else {
            self.missing_key(at, "command", " (an argv array) for type = \"exec\"");
            return None;
        };
        self.hook_argv(c, at.ctx, &format!("{}.command", at.keypath), "command")
            .map(|command| Probe::Exec { command })
    }

    /// `type = "http"`: `url` and `expect_status` (default 200).
    fn http_probe(
        &mut self,
        at: &EntryAt<'_>,
        url: Option<Spanned<String>>,
        expect_status: Option<&Spanned<i64>>,
    ) -> Option<Probe> {
        let expect = match expect_status {
            None => Some(HTTP_EXPECT_DEFAULT),
            Some(e) => match u16::try_from(*e.get_ref()) {
                Ok(v) if (100..=599).contains(&v) => Some(v),
                _ => {
                    let msg = format!(
                        "{}: expect_status {} is not an HTTP status (100-599)",
                        at.ctx,
                        e.get_ref()
                    );
                    self.error(&e.span(), format!("{}.expect_status", at.keypath), msg);
                    None
                }
            },
        };
        let url = match url {
            Some(u) => match parse_http_url(u.get_ref()) {
                Ok(url) => Some(url),
                Err(why) => {
                    let msg = format!("{}: url \"{}\" {why}", at.ctx, u.get_ref());
                    self.error(&u.span(), format!("{}.url", at.keypath), msg);
                    None
                }
            },
            None => {
                self.missing_key(at, "url", " (http://HOST[:PORT]/PATH) for type = \"http\"");
                None
            }
        };
        Some(Probe::Http {
            url: url?,
            expect_status: expect?,
        })
    }

    /// `interval`, `timeout`, `rise`, `fall`, `weight`: each in range, and
    /// a probe ends before the next one is due. `None`: reported.
    fn check_timing(&mut self, at: &EntryAt<'_>, raw: &RawCheck) -> Option<Timing> {
        let seconds = " (seconds)";
        let max_count = u64::from(CHECK_COUNT_MAX);
        let interval = self.in_range(
            at,
            raw.interval.as_ref(),
            "interval",
            CHECK_SECONDS_MAX,
            seconds,
        );
        let timeout = self.in_range(
            at,
            raw.timeout.as_ref(),
            "timeout",
            CHECK_SECONDS_MAX,
            seconds,
        );
        let rise = self.in_range(at, raw.rise.as_ref(), "rise", max_count, "");
        let fall = self.in_range(at, raw.fall.as_ref(), "fall", max_count, "");
        let weight = self.in_range(
            at,
            raw.weight.as_ref(),
            "weight",
            u64::from(MAX_WEIGHT),
            " (the kernel clamps a demoted skew at 240)",
        );
        let interval = interval.map(|v| v.unwrap_or(CHECK_INTERVAL_DEFAULT));
        let timeout = timeout.map(|v| v.unwrap_or(CHECK_TIMEOUT_DEFAULT));
        let mut order_ok = true;
        if let (Ok(i), Ok(t)) = (interval, timeout)
            && t > i
        {
            let span = raw
                .timeout
                .as_ref()
                .or(raw.interval.as_ref())
                .map_or_else(|| at.span.clone(), Spanned::span);
            let msg = format!(
                "{}: timeout {t} s is longer than interval {i} s; a probe must end \
                 before the next one is due",
                at.ctx
            );
            self.error(&span, format!("{}.timeout", at.keypath), msg);
            order_ok = false;
        }
        let (Ok(interval), Ok(timeout), Ok(rise), Ok(fall), Ok(weight), true) =
            (interval, timeout, rise, fall, weight, order_ok)
        else {
            return None;
        };
        Some(Timing {
            interval,
            timeout,
            rise: rise.unwrap_or(u64::from(CHECK_RISE_DEFAULT)),
            fall: fall.unwrap_or(u64::from(CHECK_FALL_DEFAULT)),
            weight,
        })
    }

    /// A count or a duration in 1..=max: `Ok(None)` when not given, `Err`
    /// when out of range (reported).
    fn in_range(
        &mut self,
        at: &EntryAt<'_>,
        v: Option<&Spanned<i64>>,
        key: &str,
        max: u64,
        unit: &str,
    ) -> Result<Option<u64>, ()> {
        let Some(v) = v else {
            return Ok(None);
        };
        match u64::try_from(*v.get_ref()) {
            Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => {
                let msg = format!(
                    "{}: {key} {} is out of range 1-{max}{unit}",
                    at.ctx,
                    v.get_ref()
                );
                self.error(&v.span(), format!("{}.{key}", at.keypath), msg);
                Err(())
            }
        }
    }
}

/// A check's timing keys, in range, defaults filled in.
struct Timing {
    interval: u64,
    timeout: u64,
    rise: u64,
    fall: u64,
    weight: Option<u64>,
}

/// A check as parsed; the weight is filled in from the plan at the end.
pub(super) struct ParsedCheck {
    name: String,
    name_span: Range<usize>,
    probe: Probe,
    interval: Duration,
    timeout: Duration,
    rise: u32,
    fall: u32,
    weight: Option<u16>,
}

impl ParsedCheck {
    pub(super) fn into_check(self, default_weight: u16) -> Check {
        Check {
            name: self.name,
            probe: self.probe,
            interval: self.interval,
            timeout: self.timeout,
            rise: self.rise,
            fall: self.fall,
            weight: self.weight.unwrap_or(default_weight),
        }
    }
}

/// `HOST:PORT` for a tcp check: an IP literal (IPv6 in brackets) or a host
/// name, and a port 1-65535.
fn check_address(text: &str) -> Result<(), String> {
    if let Ok(a) = text.parse::<SocketAddr>() {
        return if a.port() == 0 {
            Err("has port 0".into())
        } else {
            Ok(())
        };
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err("is not HOST:PORT (e.g. 127.0.0.1:25 or [::1]:25)".into());
    };
    check_host(host)?;
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(format!("has port \"{port}\"; a port is 1-65535")),
    }
}

/// A host name as a check may name it: letters, digits, `-` and `.`
/// (RFC 1123); an IPv6 address must be an IP literal in brackets.
fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("has no host".into());
    }
    if host.contains(':') {
        return Err("has an IPv6 address without brackets: write [ADDR]:PORT".into());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(format!(
            "has host \"{host}\", which is neither an IP address nor a host name"
        ));
    }
    Ok(())
}

/// Parse `http://HOST[:PORT][/PATH]`. Only plain HTTP: see
/// [`crate::checks`] for why there is no TLS.
fn parse_http_url(text: &str) -> Result<HttpUrl, String> {
    let Some(rest) = text.strip_prefix("http://") else {
        if text.starts_with("https://") {
            return Err(
                "uses https, which carpctl's http check does not speak; check \
                        the plain-HTTP port on the loopback, or use an exec check \
                        (e.g. command = [\"/usr/local/bin/curl\", \"-fsS\", \"https://...\"])"
                    .into(),
            );
        }
        return Err("must start with http://".into());
    };
    if rest.contains('#') {
        return Err("has a fragment (#...), which is never sent to the server".into());
    }
    if rest
        .chars()
        .any(|c| c.is_whitespace() || crate::text::is_unsafe(c))
    {
        return Err("contains spaces, control or bidirectional-text characters".into());
    }
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    if authority.contains('@') {
        return Err("has user information (user@), which the check does not send".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return Err("has an unclosed [ in the host".into());
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("has \"[{addr}]\", which is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("has text after ]")?),
        };
        (addr.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if !host.contains(':') {
        check_host(&host)?;
    }
    let port = match port {
        None => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(format!("has port \"{p}\"; a port is 1-65535")),
        },
    };
    Ok(HttpUrl { host, port, path })
}
