//! The `[metrics] listen` server: `GET /metrics` on a loopback address,
//! HTTP/1.0 spoken by hand, each request bounded in size and time.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long a client of the listener has to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest request head read.
const REQUEST_MAX: usize = 8192;

/// Answer one client of the listener: `GET /metrics` (or `/`) gets the
/// latest exposition, anything else 404 or 405.
async fn answer(mut conn: TcpStream, body: Arc<Mutex<String>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(REQUEST_TIMEOUT, async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < REQUEST_MAX {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(buf.get(..n).unwrap_or_default()),
            }
        }
    })
    .await;
    if read.is_err() {
        return;
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, ctype, text) = match (method, target) {
        ("GET", "/metrics" | "/") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            body.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        ),
        ("GET", _) => ("404 Not Found", "text/plain", "see /metrics\n".to_string()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "GET /metrics\n".to_string(),
        ),
    };
    let reply = format!(
        "HTTP/1.0 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = tokio::time::timeout(REQUEST_TIMEOUT, conn.write_all(reply.as_bytes())).await;
}

/// Serve `body` on `listener` until the task is aborted.
pub(super) async fn serve(listener: TcpListener, body: Arc<Mutex<String>>) {
    loop {
        match listener.accept().await {
            Ok((conn, _)) => {
                tokio::spawn(answer(conn, body.clone()));
            }
            Err(e) => {
                tracing::warn!("metrics listener: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
