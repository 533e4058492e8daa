//! Progress of a long `carpctl simulate` on a terminal: one line on
//! standard error, redrawn in place, with the virtual time done and the
//! events processed:
//!
//! ```text
//! simulating: 3600 of 86400 s of virtual time (4%), 12345678 events
//! ```
//!
//! It appears only once a run has taken [`DEFAULT_DELAY`] of wall time
//! (a short run never flashes it; `CARPCTL_PROGRESS_AFTER` sets another
//! delay, [`delay`]), is redrawn at most every [`INTERVAL`], and is
//! erased when the run ends, before the report is printed. It is shown
//! only when standard error is a terminal and the output is not `--json`
//! (a script reading the JSON, or a log collecting standard error, wants no
//! carriage returns): [`for_stderr`] decides.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::CliError;
use crate::sim;

/// Wall time before the line appears.
pub(crate) const DEFAULT_DELAY: Duration = Duration::from_secs(1);
/// The variable that sets another delay, in whole seconds.
pub(crate) const DELAY_ENV: &str = "CARPCTL_PROGRESS_AFTER";
/// The longest delay it may ask for (one hour).
pub(crate) const DELAY_MAX_SECS: u64 = 3600;
/// The least wall time between two redraws.
pub(crate) const INTERVAL: Duration = Duration::from_millis(200);

/// Carriage return, the text, then "erase to the end of the line"
/// (ECMA-48 EL): the line is rewritten in place without flicker.
const ERASE_EOL: &str = "\x1b[K";

/// A progress line on `out`, timed by `clock` (the wall time since the
/// run started).
pub(crate) struct TermProgress<W: Write> {
    out: W,
    clock: Box<dyn FnMut() -> Duration>,
    delay: Duration,
    /// When the line was last drawn; `None`: not yet.
    drawn: Option<Duration>,
}

impl<W: Write> TermProgress<W> {
    /// Drawn once `clock` reads `delay` or more.
    pub(crate) fn new(out: W, clock: Box<dyn FnMut() -> Duration>, delay: Duration) -> Self {
        TermProgress {
            out,
            clock,
            delay,
            drawn: None,
        }
    }

    /// Erase the line, if it was drawn: the run is over.
    pub(crate) fn finish(&mut self) {
        if self.drawn.take().is_some() {
            let _ = write!(self.out, "\r{ERASE_EOL}");
            let _ = self.out.flush();
        }
    }
}

impl<W: Write> sim::Progress for TermProgress<W> {
    fn update(&mut self, now: u64, total: u64, events: u64) {
        let t = (self.clock)();
        if t < self.delay || self.drawn.is_some_and(|d| t.saturating_sub(d) < INTERVAL) {
            return;
        }
        self.drawn = Some(t);
        let pct = if total == 0 {
            100.0
        } else {
            now as f64 * 100.0 / total as f64
        };
        // Errors are ignored: the progress line is a courtesy, and the
        // report says whether the run itself went well.
        let _ = write!(
            self.out,
            "\rsimulating: {:.0} of {:.0} s of virtual time ({pct:.0}%), {events} events{ERASE_EOL}",
            now as f64 / 1e6,
            total as f64 / 1e6,
        );
        let _ = self.out.flush();
    }
}

/// The progress line for `carpctl simulate`, or `None` when it stays
/// quiet: with `--json`, or when standard error is not a terminal. A bad
/// `CARPCTL_PROGRESS_AFTER` is an error either way.
pub(crate) fn for_stderr(json: bool) -> Result<Option<TermProgress<std::io::Stderr>>, CliError> {
    let delay = delay().map_err(CliError::Usage)?;
    Ok(choose(json, std::io::stderr().is_terminal()).then(|| {
        let start = Instant::now();
        TermProgress::new(std::io::stderr(), Box::new(move || start.elapsed()), delay)
    }))
}

/// The delay: `CARPCTL_PROGRESS_AFTER` when set (whole seconds, 0 to
/// [`DELAY_MAX_SECS`]), else [`DEFAULT_DELAY`].
pub(crate) fn delay() -> Result<Duration, String> {
    match std::env::var(DELAY_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_DELAY),
        Err(std::env::VarError::NotUnicode(_)) => Err(bad_delay()),
        Ok(v) => parse_delay(&v),
    }
}

fn parse_delay(v: &str) -> Result<Duration, String> {
    match v.trim().parse::<u64>() {
        Ok(s) if s <= DELAY_MAX_SECS => Ok(Duration::from_secs(s)),
        _ => Err(bad_delay()),
    }
}

/// The error for a `CARPCTL_PROGRESS_AFTER` that is not a delay.
fn bad_delay() -> String {
    format!("{DELAY_ENV} must be a whole number of seconds from 0 to {DELAY_MAX_SECS}")
}

/// Whether to show progress.
pub(crate) fn choose(json: bool, stderr_is_terminal: bool) -> bool {
    !json && stderr_is_terminal
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;
    use crate::sim::Progress as _;

    /// A progress line on a byte buffer, with a clock the test moves.
    fn fake() -> (TermProgress<Vec<u8>>, Rc<Cell<Duration>>) {
        let now = Rc::new(Cell::new(Duration::ZERO));
        let clock = Rc::clone(&now);
        (
            TermProgress::new(Vec::new(), Box::new(move || clock.get()), DEFAULT_DELAY),
            now,
        )
    }

    #[test]
    fn nothing_is_drawn_in_the_first_second() {
        let (mut p, now) = fake();
        for ms in [0, 300, 999] {
            now.set(Duration::from_millis(ms));
            p.update(ms * 1000, 86_400_000_000, ms);
        }
        p.finish();
        assert!(p.out.is_empty(), "{:?}", String::from_utf8_lossy(&p.out));
    }

    #[test]
    fn a_long_run_shows_virtual_time_and_events_then_erases_the_line() {
        let (mut p, now) = fake();
        now.set(Duration::from_millis(1500));
        p.update(3_600_000_000, 86_400_000_000, 12_345);
        // Within INTERVAL of the last line: not redrawn.
        now.set(Duration::from_millis(1600));
        p.update(3_700_000_000, 86_400_000_000, 12_999);
        now.set(Duration::from_millis(1800));
        p.update(43_200_000_000, 86_400_000_000, 99_999);
        p.finish();
        let out = String::from_utf8(p.out).unwrap();
        assert_eq!(
            out,
            "\rsimulating: 3600 of 86400 s of virtual time (4%), 12345 events\x1b[K\
             \rsimulating: 43200 of 86400 s of virtual time (50%), 99999 events\x1b[K\
             \r\x1b[K"
        );
    }

    #[test]
    fn the_delay_is_whole_seconds_up_to_an_hour() {
        assert_eq!(parse_delay("0"), Ok(Duration::ZERO));
        assert_eq!(parse_delay(" 5 "), Ok(Duration::from_secs(5)));
        assert_eq!(parse_delay("3600"), Ok(Duration::from_secs(3600)));
        for bad in ["", "-1", "0.5", "3601", "1s", "soon"] {
            assert_eq!(
                parse_delay(bad),
                Err(
                    "CARPCTL_PROGRESS_AFTER must be a whole number of seconds from 0 to 3600"
                        .into()
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn quiet_with_json_or_without_a_terminal() {
        assert!(choose(false, true));
        assert!(!choose(true, true));
        assert!(!choose(false, false));
        assert!(!choose(true, false));
    }
}
