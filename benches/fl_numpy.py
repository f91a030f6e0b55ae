#!/usr/bin/env python3
"""NumPy baseline for benches/fl_aggregate.rs on the identical data it writes.

    python3 -m venv /tmp/flvenv && /tmp/flvenv/bin/pip install numpy
    cargo bench --bench fl_aggregate          # writes /tmp/fl_bench.f32
    /tmp/flvenv/bin/python benches/fl_numpy.py

mean: Flower's `aggregate` (weighted by examples), vectorised; median: np.median(axis=0) as
Flower's FedMedian; trimmed mean: Flower's `_trim_mean` (np.partition); pairwise distances: the
Gram form with BLAS (‖x‖²+‖y‖²−2XXᵀ) — far faster than Flower's Python double loop, so it is the
strongest NumPy baseline, though not exact for nearly equal updates.
"""
import os
import time

import numpy as np

N, D = 1000, 100_000
path = os.environ.get("FL_BENCH_DATA", "/tmp/fl_bench.f32")
raw = np.fromfile(path, dtype=np.uint8)
x = raw[: N * D * 4].view("<f4").reshape(N, D)
w = raw[N * D * 4 :].view("<f8")


def median_ms(reps, f):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e3)
    return sorted(times)[reps // 2]


def trim_mean(a, p):
    low = int(p * a.shape[0])
    up = a.shape[0] - low
    part = np.partition(a, (low, up - 1), 0)
    return np.mean(part[low:up], axis=0)


def pairwise(a):
    sq = np.einsum("ij,ij->i", a, a, dtype=np.float64)
    g = a @ a.T
    return sq[:, None] + sq[None, :] - 2.0 * g


print(f"numpy {np.__version__}, n = {N}, d = {D}")
print(f"mean              {median_ms(9, lambda: (x * (w[:, None] / w.sum()).astype(np.float32)).sum(0)):9.1f} ms")
print(f"median            {median_ms(5, lambda: np.median(x, axis=0)):9.1f} ms")
print(f"trimmed mean 0.1  {median_ms(5, lambda: trim_mean(x, 0.1)):9.1f} ms")
print(f"pairwise (Gram)   {median_ms(3, lambda: pairwise(x)):9.1f} ms")
