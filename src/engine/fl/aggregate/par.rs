//! Split work over the machine's cores with scoped threads (no pool to keep alive).

use std::ops::Range;

pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(16)
}

/// Fill `out` by calling `work(range, out_chunk)` on contiguous ranges, one per thread. Each chunk
/// is a multiple of `align` long so blocked kernels never straddle two threads.
pub fn for_ranges<T: Send>(
    out: &mut [T],
    align: usize,
    work: impl Fn(Range<usize>, &mut [T]) + Sync,
) {
    let len = out.len();
    let t = threads();
    let per = len.div_ceil(t).div_ceil(align.max(1)) * align.max(1);
    if t == 1 || len <= per {
        work(0..len, out);
        return;
    }
    std::thread::scope(|s| {
        let work = &work;
        for (k, chunk) in out.chunks_mut(per.max(1)).enumerate() {
            let start = k * per;
            s.spawn(move || work(start..start + chunk.len(), chunk));
        }
    });
}
