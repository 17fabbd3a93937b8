"""Timing: warm up each implementation, then take interleaved samples and keep the median step time.

Each sample times ``inner`` consecutive steps and divides (``inner`` is chosen per
implementation so that one sample lasts at least ``min_time`` seconds: tiny steps are
timed in batches, large ones one at a time). Samples of the implementations are
interleaved, in an order that rotates every round, so that a slow spell of the machine
(other processes, frequency changes) lands on all of them rather than on one; the ratios
are then taken between medians of the same run. An implementation's ``min_warmup`` raises
its warm-up, so that a replayed step is timed on replays, never on its two recording calls.
Python's garbage collector stays on (it is part of what a training step costs), after a
full collection before each workload.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from typing import Any

from .common import Impl


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def measure(impls: dict[str, Impl], warmup: int, repeats: int, min_time: float) -> dict[str, dict[str, Any]]:
    """Median seconds per step of each implementation (and the samples behind it).

    Args:
        impls: the implementations to time, by name.
        warmup: steps run by each implementation before anything is timed (at least its
            ``min_warmup``: 3 for a replayed step, whose first two calls record).
        repeats: samples per implementation.
        min_time: the shortest a sample may last, in seconds (sets the steps per sample).

    Returns:
        For each name: ``median_ms``, ``min_ms``, ``iqr_ms`` (spread of the samples),
        ``samples_ms`` (one per sample, per step) and ``steps_per_sample``.
    """
    gc.collect()
    for impl in impls.values():
        for _ in range(max(warmup, impl.min_warmup)):  # a replayed step records on its first two calls
            impl.step()
    inner = {}
    for name, impl in impls.items():
        start = time.perf_counter()
        impl.step()
        once = time.perf_counter() - start
        inner[name] = max(1, math.ceil(min_time / max(once, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in impls}
    names = list(impls)
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            step, n = impls[name].step, inner[name]
            start = time.perf_counter()
            for _ in range(n):
                step()
            samples[name].append((time.perf_counter() - start) / n)
    results = {}
    for name, values in samples.items():
        results[name] = {
            "median_ms": statistics.median(values) * 1e3,
            "min_ms": min(values) * 1e3,
            "iqr_ms": (_percentile(values, 0.75) - _percentile(values, 0.25)) * 1e3,
            "samples_ms": [v * 1e3 for v in values],
            "steps_per_sample": inner[name],
        }
    return results
