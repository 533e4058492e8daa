//! One probe of a `[[check]]`: a TCP connect, a command, or an HTTP GET,
//! bounded by the check's `timeout`.
//!
//! # Why HTTP is spoken by hand
//!
//! The http check sends `GET path HTTP/1.0` with `Host` and
//! `Connection: close` and reads only the status line. A health endpoint on
//! the loopback needs nothing more: no TLS (use an exec check with
//! curl(1) for that), no redirects, no body. A client crate would bring
//! TLS stacks or a second async runtime into a system daemon and lengthen
//! the build for a feature this small.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::config::{Check, HttpUrl, Probe};
use crate::hooks::{OutputLimits, OutputLog};

/// The longest status line the http check reads.
const STATUS_LINE_MAX: usize = 1024;

/// Run one probe of `check`, within its timeout. `Err` says why it failed.
pub async fn probe(check: &Check) -> Result<(), String> {
    let t = check.timeout;
    let work = async {
        match &check.probe {
            Probe::Tcp { address } => probe_tcp(address).await,
            Probe::Exec { command } => probe_exec(&check.name, command).await,
            Probe::Http { url, expect_status } => probe_http(url, *expect_status).await,
        }
    };
    match timeout(t, work).await {
        Ok(r) => r,
        // Dropping the future closes the socket or kills the command
        // (kill_on_drop).
        Err(_) => Err(format!("no answer within {}", secs(t))),
    }
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

async fn probe_tcp(address: &str) -> Result<(), String> {
    TcpStream::connect(address)
        .await
        .map(drop)
        .map_err(|e| format!("connect to {address}: {e}"))
}

/// What an exec check's stderr may put in the log per probe: hooks' line
/// length, and far fewer lines, as a check runs every few seconds.
pub const CHECK_OUTPUT: OutputLimits = OutputLimits {
    line_max: crate::hooks::LINE_MAX,
    lines_max: 20,
};

/// Run `argv` without a shell: stdin and stdout are /dev/null, stderr is
/// logged (warn, bounded by [`CHECK_OUTPUT`], as hooks' output is),
/// `CARPCTL_CHECK` names the check. Exit 0 passes.
async fn probe_exec(name: &str, argv: &[String]) -> Result<(), String> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| "empty command".to_string())?;
    let child = tokio::process::Command::new(program)
        .args(args)
        .env("CARPCTL_CHECK", name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    // The program is the cluster file's text: escaped in messages.
    let program = crate::text::escape(program);
    let mut child = child.map_err(|e| format!("cannot run {program}: {e}"))?;
    // Dropped with this future at the timeout: the readers stop.
    let output = OutputLog::start(&mut child, &format!("check {name}"), CHECK_OUTPUT);
    let status = child
        .wait()
        .await
        .map_err(|e| format!("waiting for {program}: {e}"))?;
    output.finish().await;
    if status.success() {
        return Ok(());
    }
    use std::os::unix::process::ExitStatusExt;
    Err(match (status.code(), status.signal()) {
        (Some(code), _) => format!("{program} exited with status {code}"),
        (None, Some(sig)) => format!("{program} was killed by signal {sig}"),
        _ => format!("{program} failed ({status})"),
    })
}

/// `GET` the URL and compare the status code.
async fn probe_http(url: &HttpUrl, expect: u16) -> Result<(), String> {
    let authority = url.authority();
    let mut s = TcpStream::connect(&authority)
        .await
        .map_err(|e| format!("connect to {authority}: {e}"))?;
    let request = format!(
        "GET {} HTTP/1.0\r\nHost: {authority}\r\nUser-Agent: carpctl/{}\r\n\
         Connection: close\r\n\r\n",
        url.path,
        env!("CARGO_PKG_VERSION")
    );
    s.write_all(request.as_bytes())
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let mut buf = Vec::with_capacity(128);
    let mut chunk = [0u8; 256];
    while !buf.windows(2).any(|w| w == b"\r\n") && buf.len() < STATUS_LINE_MAX {
        let n = s
            .read(&mut chunk)
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    let status = parse_status_line(&buf).ok_or_else(|| {
        // The server's bytes, bounded and escaped (crate::text).
        let shown = crate::text::quote_bytes(&buf);
        format!("GET {url}: not an HTTP status line: {shown}")
    })?;
    if status == expect {
        Ok(())
    } else {
        Err(format!("GET {url}: status {status}, want {expect}"))
    }
}

/// The status code of `HTTP/1.x NNN ...` (RFC 9112 §4); `None` for
/// anything else.
pub fn parse_status_line(bytes: &[u8]) -> Option<u16> {
    let line_end = bytes.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(bytes.get(..line_end)?).ok()?;
    let rest = line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| line.strip_prefix("HTTP/1.0 "))?;
    let code = rest.get(..3)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !rest
        .get(3..)
        .is_some_and(|r| r.is_empty() || r.starts_with(' '))
    {
        return None;
    }
    code.parse().ok().filter(|c| (100..=599).contains(c))
}
