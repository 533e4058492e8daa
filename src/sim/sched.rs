//! The event queue: a calendar queue (Brown, CACM 1988) of 16 ms buckets
//! over a window of [`BUCKETS`] buckets (8.2 s), with a binary heap for
//! what lies beyond.
//!
//! Every entry carries `(at, seq)`: the time in µs and a sequence number
//! given at insertion; [`Queue::pop`] always returns the smallest pair, so
//! the order is exactly that of a binary heap on `(at, seq)` (ties in
//! insertion order), only cheaper: nearly every entry (advertisement
//! timers, master-down wake-ups, frames in flight) lands less than a few
//! seconds ahead, where insertion is a push onto a short vector.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The calendar's window: 512 buckets of 16 ms, 8.192 s: every timer of
/// a vhid with advbase ≤ 2 (master-down 3 × advbase + < 1 s) lands in it.
/// Wider buckets than 1 ms keep fewer, warmer vectors; a bucket holds a
/// few dozen entries, sorted when the clock reaches it.
pub(crate) const BUCKETS: u64 = 512;
const BUCKET_US: u64 = 16_000;

/// One queued item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<K> {
    /// µs.
    pub at: u64,
    pub(crate) seq: u64,
    pub kind: K,
}

impl<K: Eq> Ord for Entry<K> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

impl<K: Eq> PartialOrd for Entry<K> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

/// A priority queue of [`Entry`] for times that never go back: nothing
/// may be pushed earlier than the last entry popped.
#[derive(Debug)]
pub struct Queue<K> {
    buckets: Vec<Vec<Entry<K>>>,
    /// The absolute bucket number (time / bucket width) of the window's start: every entry in the
    /// buckets is in `[cur, cur + BUCKETS)`.
    cur: u64,
    in_window: usize,
    /// Whether the current bucket is sorted, largest first (so that the
    /// next entry is its last).
    sorted: bool,
    later: BinaryHeap<Reverse<Entry<K>>>,
    seq: u64,
    /// The time of the last entry popped.
    last: u64,
}

impl<K: Copy + Eq> Default for Queue<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Copy + Eq> Queue<K> {
    pub fn new() -> Self {
        Queue {
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            cur: 0,
            in_window: 0,
            sorted: false,
            later: BinaryHeap::new(),
            seq: 0,
            last: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.in_window + self.later.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queue `kind` at `at` µs (not before the last entry popped; an
    /// earlier time is taken as that time).
    pub fn push(&mut self, at: u64, kind: K) {
        self.seq += 1;
        let at = at.max(self.last);
        let e = Entry {
            at,
            seq: self.seq,
            kind,
        };
        self.place(e);
    }

    fn place(&mut self, e: Entry<K>) {
        let b = e.at / BUCKET_US;
        if b < self.cur + BUCKETS {
            let bucket = &mut self.buckets[(b % BUCKETS) as usize];
            if b == self.cur && self.sorted {
                let key = (e.at, e.seq);
                let pos = bucket.partition_point(|x| (x.at, x.seq) > key);
                bucket.insert(pos, e);
            } else {
                bucket.push(e);
            }
            self.in_window += 1;
        } else {
            self.later.push(Reverse(e));
        }
    }

    /// Move what the window now covers from the heap into the buckets.
    fn refill(&mut self) {
        while let Some(Reverse(top)) = self.later.peek() {
            if top.at / BUCKET_US >= self.cur + BUCKETS {
                break;
            }
            let Some(Reverse(e)) = self.later.pop() else {
                break;
            };
            self.place(e);
        }
    }

    /// The earliest entry, `(at, seq)` order.
    pub fn pop(&mut self) -> Option<Entry<K>> {
        if self.in_window == 0 {
            let Reverse(top) = self.later.peek()?;
            self.cur = top.at / BUCKET_US;
            self.sorted = false;
            self.refill();
        }
        loop {
            let b = &mut self.buckets[(self.cur % BUCKETS) as usize];
            if !self.sorted {
                b.sort_unstable_by_key(|x| Reverse((x.at, x.seq)));
                self.sorted = true;
            }
            if let Some(e) = b.pop() {
                self.in_window -= 1;
                self.last = e.at;
                return Some(e);
            }
            self.cur += 1;
            self.sorted = false;
            self.refill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_insertion_order_like_a_heap() {
        let mut q = Queue::new();
        let mut heap = BinaryHeap::new();
        let mut rng = crate::kernel::emulated::SplitMix64::new(3);
        let mut seq = 0u64;
        let mut now = 0u64;
        for round in 0..20_000u32 {
            // Mostly near the present, sometimes far beyond the window,
            // often exact ties.
            let ahead = match rng.next_u64() % 10 {
                0 => rng.next_u64() % 100_000_000,
                1 => 0,
                2 => 1000,
                _ => rng.next_u64() % 4_000_000,
            };
            q.push(now + ahead, round);
            seq += 1;
            heap.push(Reverse((now + ahead, seq, round)));
            if rng.next_u64().is_multiple_of(3) {
                let a = q.pop().unwrap();
                let Reverse((at, _, kind)) = heap.pop().unwrap();
                assert_eq!((a.at, a.kind), (at, kind));
                now = at;
            }
        }
        while let Some(Reverse((at, _, kind))) = heap.pop() {
            let a = q.pop().unwrap();
            assert_eq!((a.at, a.kind), (at, kind));
        }
        assert!(q.pop().is_none());
        assert!(q.is_empty());
    }

    #[test]
    fn a_time_in_the_past_is_taken_as_now() {
        let mut q = Queue::new();
        q.push(5_000, 'a');
        assert_eq!(q.pop().unwrap().at, 5_000);
        q.push(10, 'b');
        let e = q.pop().unwrap();
        assert_eq!((e.at, e.kind), (5_000, 'b'));
    }
}
