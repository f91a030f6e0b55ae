//! Start loading a value's memory before it is needed.
//!
//! A large fleet's state does not fit in any cache: each heartbeat's first touch of its neuron's
//! records (in the simulated fleet, the registry, the identity book, the detector's window) was
//! a trip to memory, and those trips were a third of the engine's time at 100,000 neurons. The
//! loops that walk neurons one after another ask for the next one's records while working on
//! this one, so the trips overlap the work.

/// Ask for the cache lines of `value`; a hint, never a fault.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let start = value as *const T as *const i8;
        for line in 0..std::mem::size_of::<T>().div_ceil(64) {
            // SAFETY: a prefetch is a hint; it never faults, whatever the address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(line * 64)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Prefetch the elements of `slice` (the window of a detector) from `from` on, a line's worth.
#[inline(always)]
pub fn prefetch_at<T>(slice: &[T], from: usize) {
    if let Some(value) = slice.get(from) {
        prefetch(value);
    }
}
