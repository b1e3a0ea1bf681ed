//! The module's allocator, counted: live and peak heap bytes for `heapStats()` (tests of what a
//! load allocates and of what an error or an abort leaves behind). Counting adds two relaxed
//! atomic updates to each allocation on top of Rust's default wasm allocator.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use wasm_bindgen::prelude::*;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The allocator underneath: talc in the optimized wasm module (see the README on why); the
/// system's natively and in unoptimized test builds, where talc's generic code, compiled
/// without optimization, makes the browser tests' large vocabularies take minutes.
#[cfg(all(target_arch = "wasm32", not(debug_assertions)))]
// SAFETY: wasm has one thread here and this is the only global allocator.
static INNER: talc::TalckWasm = unsafe { talc::TalckWasm::new_global() };
#[cfg(not(all(target_arch = "wasm32", not(debug_assertions))))]
static INNER: std::alloc::System = std::alloc::System;

/// The allocator underneath, with byte counts.
struct Counted;

// SAFETY: every call is forwarded unchanged to the system allocator; only counters are added.
unsafe impl GlobalAlloc for Counted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed through.
        let ptr = unsafe { INNER.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(live, Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed through.
        unsafe { INNER.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is passed through.
        let new = unsafe { INNER.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            let live = LIVE.fetch_add(new_size, Relaxed) + new_size;
            PEAK.fetch_max(live, Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counted = Counted;

/// `{ liveBytes, peakBytes }`: heap bytes allocated now, and the most at once since the module
/// started or since the last `resetHeapPeak()`.
#[wasm_bindgen(js_name = heapStats)]
pub fn heap_stats() -> JsValue {
    let stats = js_sys::Object::new();
    let set = |key: &str, value: usize| {
        // Setting a property on a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&stats, &key.into(), &(value as f64).into());
    };
    set("liveBytes", LIVE.load(Relaxed));
    set("peakBytes", PEAK.load(Relaxed));
    stats.into()
}

/// Starts a new peak from the bytes live now.
#[wasm_bindgen(js_name = resetHeapPeak)]
pub fn reset_heap_peak() {
    PEAK.store(LIVE.load(Relaxed), Relaxed);
}
