//! A global allocator that counts the bytes each thread has live and their
//! peak, so that a test can assert how much memory one call needs without
//! timing anything. Tests of one binary run on several threads at once;
//! counting per thread keeps their measurements apart (a block freed on
//! another thread than the one that allocated it is counted there, which
//! the measured calls here never do).
//!
//! Include it with `#[path = "common/alloc.rs"] mod alloc;` and install it
//! with `#[global_allocator] static A: alloc::Counting = alloc::Counting;`.
#![allow(
    unsafe_code,
    reason = "a GlobalAlloc is an unsafe trait; each method forwards to System"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// [`System`], counting.
pub(crate) struct Counting;

thread_local! {
    // `const` initializers without Drop: no lazy registration, so using
    // them from inside the allocator cannot recurse into it.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(delta: isize) {
    // try_with: during thread teardown the slots may be gone; skip then.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now);
            }
        });
    });
}

fn size(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged and only updates thread-local counters, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(size(layout.size()));
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(size(layout.size()));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with
        // this layout.
        unsafe { System.dealloc(ptr, layout) };
        add(-size(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; `System` keeps the block on failure.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            add(size(new_size) - size(layout.size()));
        }
        p
    }
}

/// Run `f` and return its result with the most bytes this thread had
/// allocated at once while it ran, above what was live when it started.
pub(crate) fn peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get) - base;
    (out, usize::try_from(peak).unwrap_or(0))
}

/// `n` MiB in bytes.
pub(crate) const fn mib(n: usize) -> usize {
    n * 1024 * 1024
}
