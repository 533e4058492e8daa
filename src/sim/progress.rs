//! How far a run has got, for a caller that shows it: `carpctl simulate`
//! draws it on a terminal (`cli::progress`). The engine itself never
//! writes anywhere; it calls the observer every [`EVERY`] events and once
//! at the end, and the observer decides whether and how to show it (it
//! may look at a clock: the engine does not, so a run stays a pure
//! function of its scenario).

/// Events between two calls of [`Progress::update`]: rare enough to cost
/// nothing (a day of the 16-node benchmark processes about 100 million
/// events), frequent enough for many updates a second.
pub(crate) const EVERY: u64 = 1 << 10;

/// An observer of a run's progress.
pub(crate) trait Progress {
    /// `now` of `total` µs of virtual time are done, `events` events
    /// (boots, scenario events, kernel timers, deliveries) processed.
    fn update(&mut self, now: u64, total: u64, events: u64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim;

    #[derive(Default)]
    struct Record(Vec<(u64, u64, u64)>);

    impl Progress for Record {
        fn update(&mut self, now: u64, total: u64, events: u64) {
            self.0.push((now, total, events));
        }
    }

    /// The observer sees virtual time and the event count grow, every
    /// EVERY events, and a last call at the end with all of the time; the
    /// run's report is the same as without an observer.
    #[test]
    fn the_observer_sees_the_run_advance_and_end() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-scenario.toml");
        let mut sc = sim::scenario::load(&path).expect("the seed scenario loads");
        // 120 s process 642 events; 600 s several thousand.
        sc.duration = 600_000_000;
        let mut rec = Record::default();
        let observed = sim::run_observed(&sc, None, Some(&mut rec)).unwrap();
        assert_eq!(observed, sim::run(&sc, None).unwrap());
        let calls = &rec.0;
        assert!(calls.len() >= 2, "{calls:?}");
        let (last_now, total, events) = *calls.last().unwrap();
        assert_eq!(total, sc.duration);
        assert_eq!(last_now, sc.duration);
        assert!(events >= EVERY * (calls.len() as u64 - 1), "{calls:?}");
        for w in calls.windows(2) {
            assert!(w[0].0 <= w[1].0 && w[0].2 < w[1].2, "{calls:?}");
        }
        for (i, c) in calls[..calls.len() - 1].iter().enumerate() {
            assert_eq!(c.2, EVERY * (i as u64 + 1), "{calls:?}");
            assert!(c.0 < sc.duration, "{calls:?}");
        }
    }
}
