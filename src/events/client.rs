//! The client of devd's SOCK_SEQPACKET socket (`/var/run/devd.seqpacket.pipe`,
//! docs/freebsd-carp.md §11): one event per record, read into one fixed buffer.
//!
//! What it guarantees to its callers (`carpctl watch`, `carpctl daemon`):
//!
//! * **It survives devd restarting.** When devd closes the connection, or is
//!   not there yet, the client reconnects with exponential backoff from
//!   [`BACKOFF_MIN`] to [`BACKOFF_MAX`], logging one line when the attempts
//!   start, one a minute while they go on, and one on success; it then
//!   reports [`Item::Connected`] so that the caller can resynchronise with
//!   the kernel (transitions that happened while devd was away are not
//!   replayed by devd to a client that was not connected).
//! * **Garbage costs nothing.** A record that is not a devd event, or that
//!   does not fit the [`RECV_BUFFER`]-byte buffer (the kernel truncates it:
//!   `MSG_TRUNC`), is logged (at most [`GARBAGE_LOGGED_PER_MINUTE`] lines a
//!   minute, then a count) and dropped; nothing is allocated per record, so
//!   memory stays flat whatever the peer sends.
//!
//! * **A path that can never work is an error, not a wait.** A path too
//!   long for `sun_path`, a regular file or directory, or a socket of
//!   another type (a stream socket: `EPROTOTYPE`) is reported by
//!   [`DevdClient::try_connect`] as [`ConnectError::Unusable`], so that
//!   `watch` and `daemon` exit at once instead of retrying forever. A
//!   missing socket (`ENOENT`) or one nobody listens on (`ECONNREFUSED`)
//!   is devd not running or restarting, and is retried.
//!
//! devd `shutdown(SHUT_RD)`s its side after accepting (devd.cc), so this
//! client only reads. A zero-length read is the end of the connection:
//! devd never sends an empty record (every devctl line has at least its
//! `!system=` and the newline).

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio_seqpacket::UnixSeqpacket;

use super::devd::{self, CarpEvent, RecordError};

/// The receive buffer: devctl lines are far shorter (the kernel's own
/// `DEVCTL_MAXBUF` is 1024 bytes), so a record that does not fit is
/// garbage by definition.
pub(crate) const RECV_BUFFER: usize = 8192;
/// First reconnection delay.
pub(crate) const BACKOFF_MIN: Duration = Duration::from_millis(100);
/// Longest reconnection delay.
pub(crate) const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Garbage records logged one by one per minute; the rest are counted.
pub(crate) const GARBAGE_LOGGED_PER_MINUTE: u32 = 5;
const GARBAGE_WINDOW: Duration = Duration::from_secs(60);
/// How often a reconnection that keeps failing is logged again.
const RETRY_REPORT_EVERY: Duration = Duration::from_secs(60);

/// What [`DevdClient::next`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A connection to devd was (re-)established. `reconnected` is false
    /// for the first connection of this client.
    Connected { reconnected: bool },
    /// A CARP transition.
    Event(CarpEvent),
}

/// The client's counters, shared with whoever wants to read them while it
/// runs (the daemon's metrics).
#[derive(Debug, Default)]
pub struct ClientCounters {
    records: AtomicU64,
    events: AtomicU64,
    garbage: AtomicU64,
    connects: AtomicU64,
}

impl ClientCounters {
    /// The counters now.
    pub fn snapshot(&self) -> ClientStats {
        ClientStats {
            records: self.records.load(Ordering::Relaxed),
            events: self.events.load(Ordering::Relaxed),
            garbage: self.garbage.load(Ordering::Relaxed),
            connects: self.connects.load(Ordering::Relaxed),
        }
    }

    fn bump(counter: &AtomicU64) -> u64 {
        counter.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Counters of what the client has seen since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Records received (events, other systems and garbage).
    pub(crate) records: u64,
    /// CARP transitions returned.
    pub events: u64,
    /// Records dropped as garbage (including truncated ones).
    pub(crate) garbage: u64,
    /// Successful connections.
    pub(crate) connects: u64,
}

/// Exponential backoff: `min`, doubling, capped at `max`.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max,
            next: min,
        }
    }

    /// The delay before the next attempt; each call doubles the one after.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }

    /// Back to `min` (after a success).
    pub(crate) fn reset(&mut self) {
        self.next = self.min;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(BACKOFF_MIN, BACKOFF_MAX)
    }
}

/// Decides which garbage records are logged: the first
/// [`GARBAGE_LOGGED_PER_MINUTE`] of each minute, then a count of the rest
/// when the next minute's first one arrives.
#[derive(Debug, Default)]
pub(crate) struct GarbageLimiter {
    window_start: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

/// What to log for one garbage record.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct GarbageVerdict {
    /// Log this record.
    pub(crate) log: bool,
    /// This is the last one logged in this window: say that more are
    /// counted only.
    pub(crate) last_of_window: bool,
    /// Records suppressed in the previous window, to report now.
    pub(crate) report_suppressed: u64,
}

impl GarbageLimiter {
    pub(crate) fn admit(&mut self, now: Instant) -> GarbageVerdict {
        let mut report_suppressed = 0;
        let expired = self
            .window_start
            .is_none_or(|start| now.duration_since(start) >= GARBAGE_WINDOW);
        if expired {
            report_suppressed = std::mem::take(&mut self.suppressed);
            self.window_start = Some(now);
            self.logged = 0;
        }
        if self.logged < GARBAGE_LOGGED_PER_MINUTE {
            self.logged += 1;
            GarbageVerdict {
                log: true,
                last_of_window: self.logged == GARBAGE_LOGGED_PER_MINUTE,
                report_suppressed,
            }
        } else {
            self.suppressed += 1;
            GarbageVerdict {
                log: false,
                last_of_window: false,
                report_suppressed,
            }
        }
    }
}

/// Why [`DevdClient::try_connect`] could not connect.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The path can never be devd's socket: give up (exit 2).
    #[error("{} cannot be devd's socket: {reason}", path.display())]
    Unusable { path: PathBuf, reason: String },
    /// devd is not there now (not running, restarting): retry.
    #[error("{0}")]
    Unavailable(#[source] io::Error),
}

/// Whether the failure `e` to connect to `path` can never go away; if so,
/// why, in words. `connect(2)` on a path that is not a socket fails with
/// `ECONNREFUSED` on Linux and `ENOTSOCK` on FreeBSD (`unp_connectat()`,
/// sys/kern/uipc_usrreq.c), so the path itself is looked at too.
pub(crate) fn unusable(path: &Path, e: &io::Error) -> Option<String> {
    if e.kind() == io::ErrorKind::InvalidInput {
        // tokio-seqpacket's check that the path fits sockaddr_un.
        return Some(format!(
            "the path is {} bytes long, more than a socket address holds (sun_path: 103 \
             bytes on FreeBSD)",
            path.as_os_str().len()
        ));
    }
    match e.raw_os_error().map(nix::errno::Errno::from_raw) {
        Some(nix::errno::Errno::EPROTOTYPE) => {
            return Some(
                "it is a socket of another type (devd's is SOCK_SEQPACKET; a stream socket, \
                 /var/run/devd.pipe, is not)"
                    .into(),
            );
        }
        Some(nix::errno::Errno::ENOTDIR) => {
            return Some("a component of the path is not a directory".into());
        }
        _ => {}
    }
    let meta = std::fs::metadata(path).ok()?;
    let ft = meta.file_type();
    if ft.is_socket() {
        return None;
    }
    let what = if ft.is_file() {
        "a regular file"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else {
        "not a socket"
    };
    Some(format!("it is {what}, not a socket"))
}

/// A devd client that reconnects by itself; see the module documentation.
pub struct DevdClient {
    path: PathBuf,
    socket: Option<UnixSeqpacket>,
    buf: Box<[u8]>,
    backoff: Backoff,
    limiter: GarbageLimiter,
    counters: Arc<ClientCounters>,
    /// The reconnection under way, kept here (not in the future) so that a
    /// `select!` that drops [`DevdClient::next`] neither restarts the
    /// backoff nor repeats the log line.
    retry: Option<Retry>,
}

/// A reconnection in progress.
#[derive(Debug)]
struct Retry {
    started: Instant,
    attempts: u64,
    last_report: Option<Instant>,
}

impl DevdClient {
    /// A client of the devd socket at `path`; it connects on the first
    /// [`DevdClient::next`].
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DevdClient {
            path: path.into(),
            socket: None,
            buf: vec![0; RECV_BUFFER].into_boxed_slice(),
            backoff: Backoff::default(),
            limiter: GarbageLimiter::default(),
            counters: Arc::default(),
            retry: None,
        }
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn stats(&self) -> ClientStats {
        self.counters.snapshot()
    }

    /// The live counters, to read from another task.
    pub(crate) fn counters(&self) -> Arc<ClientCounters> {
        self.counters.clone()
    }

    pub fn is_connected(&self) -> bool {
        self.socket.is_some()
    }

    /// Try to connect once, now; on failure the error is returned and
    /// nothing is logged (the caller decides: [`ConnectError::Unusable`]
    /// can never work; after [`ConnectError::Unavailable`],
    /// [`DevdClient::next`] retries with backoff).
    pub(crate) async fn try_connect(&mut self) -> Result<(), ConnectError> {
        if self.socket.is_none() {
            let s = UnixSeqpacket::connect(&self.path).await.map_err(|e| {
                match unusable(&self.path, &e) {
                    Some(reason) => ConnectError::Unusable {
                        path: self.path.clone(),
                        reason,
                    },
                    None => ConnectError::Unavailable(e),
                }
            })?;
            self.connected(s, 0, None);
        }
        Ok(())
    }

    /// The next CARP transition or connection. Never fails: connection
    /// problems are retried, garbage is skipped.
    ///
    /// Cancel-safe: dropping the future loses no record (a record is
    /// consumed only in the poll that returns it), so it can sit in a
    /// `tokio::select!` beside signals.
    pub async fn next(&mut self) -> Item {
        loop {
            let Some(socket) = &self.socket else {
                self.connect_with_backoff().await;
                return Item::Connected {
                    reconnected: self.counters.connects.load(Ordering::Relaxed) > 1,
                };
            };
            let received = socket.recv(&mut self.buf).await;
            match received {
                Ok(info) if info.bytes_read() == 0 => {
                    tracing::warn!(
                        "devd at {} closed the connection; reconnecting",
                        self.path.display()
                    );
                    self.socket = None;
                }
                Ok(info) => {
                    ClientCounters::bump(&self.counters.records);
                    if info.truncated() {
                        self.garbage(&RecordError::Truncated { limit: RECV_BUFFER });
                        continue;
                    }
                    let n = info.bytes_read().min(self.buf.len());
                    match devd::parse_record(&self.buf[..n]) {
                        Ok(Some(event)) => {
                            ClientCounters::bump(&self.counters.events);
                            return Item::Event(event);
                        }
                        Ok(None) => {}
                        Err(e) => self.garbage(&e),
                    }
                }
                Err(e) => {
                    tracing::warn!("reading devd at {}: {e}; reconnecting", self.path.display());
                    self.socket = None;
                }
            }
        }
    }

    fn garbage(&mut self, e: &RecordError) {
        ClientCounters::bump(&self.counters.garbage);
        let v = self.limiter.admit(Instant::now());
        if v.report_suppressed > 0 {
            tracing::warn!(
                "devd: skipped {} more garbage records in the last minute",
                v.report_suppressed
            );
        }
        if v.log {
            let more = if v.last_of_window {
                " (further garbage records this minute are counted, not logged)"
            } else {
                ""
            };
            tracing::warn!("devd: skipping a garbage record: {e}{more}");
        }
    }

    async fn connect_with_backoff(&mut self) {
        loop {
            let retry = self.retry.get_or_insert_with(|| Retry {
                started: Instant::now(),
                attempts: 0,
                last_report: None,
            });
            retry.attempts += 1;
            match UnixSeqpacket::connect(&self.path).await {
                Ok(s) => {
                    let (attempts, failed_for) = match self.retry.take() {
                        Some(r) if r.attempts > 1 => (r.attempts, Some(r.started.elapsed())),
                        _ => (1, None),
                    };
                    self.connected(s, attempts, failed_for);
                    return;
                }
                Err(e) => {
                    let now = Instant::now();
                    match retry.last_report {
                        None => tracing::warn!(
                            "cannot connect to devd at {}: {e}; retrying every {} ms, \
                             backing off to {} s",
                            self.path.display(),
                            BACKOFF_MIN.as_millis(),
                            BACKOFF_MAX.as_secs()
                        ),
                        Some(t) if now.duration_since(t) >= RETRY_REPORT_EVERY => tracing::warn!(
                            "still cannot connect to devd at {} after {} attempts in {} s: {e}",
                            self.path.display(),
                            retry.attempts,
                            retry.started.elapsed().as_secs()
                        ),
                        Some(_) => {
                            // Reported less than a minute ago: keep quiet.
                            tokio::time::sleep(self.backoff.next_delay()).await;
                            continue;
                        }
                    }
                    retry.last_report = Some(now);
                }
            }
            tokio::time::sleep(self.backoff.next_delay()).await;
        }
    }

    fn connected(&mut self, socket: UnixSeqpacket, attempts: u64, failed_for: Option<Duration>) {
        self.socket = Some(socket);
        self.retry = None;
        self.backoff.reset();
        ClientCounters::bump(&self.counters.connects);
        match failed_for {
            Some(d) => tracing::info!(
                "connected to devd at {} after {attempts} attempts in {:.1} s",
                self.path.display(),
                d.as_secs_f64()
            ),
            None => tracing::info!("connected to devd at {}", self.path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio_seqpacket::UnixSeqpacketListener;

    use super::*;
    use crate::model::{CarpState, Vhid};

    #[test]
    fn backoff_doubles_to_the_cap_and_resets() {
        let mut b = Backoff::default();
        let ms: Vec<u128> = (0..9).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
        b.reset();
        assert_eq!(b.next_delay(), BACKOFF_MIN);
    }

    #[test]
    fn garbage_logging_is_rate_limited_per_minute() {
        let t0 = Instant::now();
        let mut l = GarbageLimiter::default();
        let verdicts: Vec<GarbageVerdict> = (0..8).map(|_| l.admit(t0)).collect();
        assert!(verdicts[..5].iter().all(|v| v.log));
        assert!(verdicts[4].last_of_window && !verdicts[3].last_of_window);
        assert!(
            verdicts[5..]
                .iter()
                .all(|v| !v.log && v.report_suppressed == 0)
        );
        // Still inside the minute: suppressed.
        assert!(!l.admit(t0 + Duration::from_secs(59)).log);
        // The next minute reports the 4 suppressed ones and logs again.
        let v = l.admit(t0 + Duration::from_secs(61));
        assert_eq!(
            v,
            GarbageVerdict {
                log: true,
                last_of_window: false,
                report_suppressed: 4
            }
        );
    }

    fn sock_path(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("devd.seqpacket.pipe")
    }

    fn master(vhid: i64, ifname: &str) -> CarpEvent {
        CarpEvent {
            vhid: Vhid::new(vhid).unwrap(),
            interface: ifname.into(),
            state: CarpState::Master,
        }
    }

    async fn next_within(c: &mut DevdClient) -> Item {
        tokio::time::timeout(Duration::from_secs(10), c.next())
            .await
            .expect("an item within 10 s")
    }

    #[tokio::test]
    async fn events_pass_garbage_and_other_systems_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = sock_path(&dir);
        let mut listener = UnixSeqpacketListener::bind(&path).unwrap();
        let mut client = DevdClient::new(&path);
        assert!(!client.is_connected());
        let accept = tokio::spawn(async move { listener.accept().await.unwrap() });
        assert_eq!(
            next_within(&mut client).await,
            Item::Connected { reconnected: false }
        );
        let devd = accept.await.unwrap();
        let oversized = vec![b'!'; RECV_BUFFER + 100];
        for rec in [
            &b"!system=IFNET subsystem=em0 type=LINK_UP\n"[..],
            b"garbage",
            &oversized,
            b"!system=CARP subsystem=0@em0 type=MASTER\n",
            b"!system=CARP subsystem=7@vlan0.100 type=MASTER\n",
        ] {
            devd.send(rec).await.unwrap();
        }
        assert_eq!(
            next_within(&mut client).await,
            Item::Event(master(7, "vlan0.100"))
        );
        assert_eq!(
            client.stats(),
            ClientStats {
                records: 5,
                events: 1,
                garbage: 3,
                connects: 1
            }
        );
    }

    #[tokio::test]
    async fn it_reconnects_when_devd_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = sock_path(&dir);
        let mut client = DevdClient::new(&path);
        // Not there yet: the first connection waits for it.
        let client_task = tokio::spawn(async move {
            let first = client.next().await;
            let event = client.next().await;
            let again = client.next().await;
            let last = client.next().await;
            (client, [first, event, again, last])
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
        let mut listener = UnixSeqpacketListener::bind(&path).unwrap();
        let devd = listener.accept().await.unwrap();
        devd.send(b"!system=CARP subsystem=1@em0 type=MASTER\n")
            .await
            .unwrap();
        // devd goes away (both the listener and the connection) and comes
        // back at the same path.
        drop(devd);
        drop(listener);
        std::fs::remove_file(&path).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut listener = UnixSeqpacketListener::bind(&path).unwrap();
        let devd = tokio::time::timeout(Duration::from_secs(10), listener.accept())
            .await
            .expect("the client reconnects")
            .unwrap();
        devd.send(b"!system=CARP subsystem=2@em0 type=MASTER\n")
            .await
            .unwrap();
        let (client, items) = tokio::time::timeout(Duration::from_secs(10), client_task)
            .await
            .expect("all items within 10 s")
            .unwrap();
        assert_eq!(
            items,
            [
                Item::Connected { reconnected: false },
                Item::Event(master(1, "em0")),
                Item::Connected { reconnected: true },
                Item::Event(master(2, "em0")),
            ]
        );
        assert_eq!(client.stats().connects, 2);
    }

    #[tokio::test]
    async fn try_connect_reports_a_missing_socket() {
        let dir = tempfile::tempdir().unwrap();
        let mut client = DevdClient::new(sock_path(&dir));
        match client.try_connect().await.unwrap_err() {
            ConnectError::Unavailable(e) => assert_eq!(e.kind(), io::ErrorKind::NotFound),
            other => panic!("{other:?}"),
        }
        assert!(!client.is_connected());
        assert_eq!(client.path(), sock_path(&dir));
        // A socket nobody listens on any more: devd restarting.
        let path = sock_path(&dir);
        drop(std::os::unix::net::UnixDatagram::bind(&path).unwrap());
        match DevdClient::new(&path).try_connect().await.unwrap_err() {
            ConnectError::Unavailable(_) => {}
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn try_connect_gives_up_on_a_path_that_can_never_work() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let stream = dir.path().join("stream");
        let _listener = std::os::unix::net::UnixListener::bind(&stream).unwrap();
        let long = dir.path().join("x".repeat(200));
        for (path, want) in [
            (file.clone(), "it is a regular file, not a socket"),
            (dir.path().to_path_buf(), "it is a directory, not a socket"),
            (stream, "a socket of another type"),
            (long, "more than a socket address holds"),
            (file.join("sock"), "not a directory"),
        ] {
            match DevdClient::new(&path).try_connect().await.unwrap_err() {
                ConnectError::Unusable { reason, .. } => {
                    assert!(reason.contains(want), "{}: {reason}", path.display());
                }
                other => panic!("{}: {other:?}", path.display()),
            }
        }
    }
}
