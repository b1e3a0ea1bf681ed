//! Products split over output rows on a persistent pool of threads (rayon's natively; the
//! calling thread in wasm, which has none).

use crate::error::Result;

/// Below this many multiply-adds a product runs on the calling thread.
const PARALLEL_WORK: usize = 1 << 20;

/// Splits the `n` output columns of y [m, n] into contiguous ranges, one per thread, and runs
/// `f(range, out)` on each; `out` is [m, range.len()] and is scattered back into y. `k` (the
/// inner size) only decides whether threads are worth it. Natively the ranges run on one
/// persistent pool of threads (rayon's, one per core), so a product costs no thread start; in
/// wasm (no threads) they run on the calling thread.
pub(super) fn for_row_ranges<F>(y: &mut [f32], m: usize, n: usize, k: usize, f: F)
where
    F: Fn(std::ops::Range<usize>, &mut [f32]) + Sync,
{
    let threads = threads().min(n.max(1));
    if threads <= 1 || m * n * k < PARALLEL_WORK {
        let mut out = vec![0f32; m * n];
        f(0..n, &mut out);
        y.copy_from_slice(&out);
        return;
    }
    let chunk = n.div_ceil(threads);
    let ranges: Vec<std::ops::Range<usize>> = (0..n)
        .step_by(chunk)
        .map(|start| start..(start + chunk).min(n))
        .collect();
    for (range, out) in run_ranges(ranges, m, &f) {
        let width = range.len();
        for i in 0..m {
            y[i * n + range.start..i * n + range.end]
                .copy_from_slice(&out[i * width..(i + 1) * width]);
        }
    }
}

/// Runs `f` on each range (on rayon's pool natively; one after another in wasm, which has no
/// threads); each result is [m, range.len()].
fn run_ranges<F>(
    ranges: Vec<std::ops::Range<usize>>,
    m: usize,
    f: &F,
) -> Vec<(std::ops::Range<usize>, Vec<f32>)>
where
    F: Fn(std::ops::Range<usize>, &mut [f32]) + Sync,
{
    let one = |range: std::ops::Range<usize>| {
        let mut out = vec![0f32; m * range.len()];
        f(range.clone(), &mut out);
        (range, out)
    };
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        ranges.into_par_iter().map(one).collect()
    }
    #[cfg(target_arch = "wasm32")]
    {
        ranges.into_iter().map(one).collect()
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn threads() -> usize {
    rayon::current_num_threads()
}

#[cfg(target_arch = "wasm32")]
fn threads() -> usize {
    1
}

/// Runs `f(i, chunk)` on each `chunk`-sized piece of `out` (piece i), on rayon's pool natively
/// when `work` (multiply-adds in all) makes threads worth it, else on the calling thread; the
/// first error is returned.
pub(super) fn try_for_chunks<F>(out: &mut [f32], chunk: usize, work: usize, f: F) -> Result<()>
where
    F: Fn(usize, &mut [f32]) -> Result<()> + Sync,
{
    if chunk == 0 {
        return Ok(());
    }
    #[cfg(not(target_arch = "wasm32"))]
    if threads() > 1 && work >= PARALLEL_WORK {
        use rayon::prelude::*;
        return out
            .par_chunks_mut(chunk)
            .enumerate()
            .try_for_each(|(i, c)| f(i, c));
    }
    let _ = work;
    out.chunks_mut(chunk)
        .enumerate()
        .try_for_each(|(i, c)| f(i, c))
}
