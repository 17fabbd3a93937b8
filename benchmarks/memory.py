"""Peak memory of a workload's step, each implementation measured in a process of its own.

``measure_memory`` starts ``python -m benchmarks.memory --workload W5 --impl NAME`` once per
implementation and reads the JSON line it prints. In that process the same modules are
imported whatever the implementation (numpy, autograd and nn: each workload module imports
both libraries), the float32 model is built, then ``steps`` steps run, and it reports:

- ``peak_rss_mib``: the process's peak resident set size (interpreter, libraries, weights,
  optimizer state and the step's temporaries all included): ``VmHWM`` from
  ``/proc/self/status`` on Linux, else ``resource.getrusage(RUSAGE_SELF).ru_maxrss``. This is
  the number the target compares. (Linux's ``ru_maxrss`` survives ``exec``: a child started
  by a big parent reports the parent's size at fork time when that is larger, which made
  both implementations read the runner's 227 MiB. ``VmHWM`` belongs to the new address
  space, so it starts from zero.)
- ``rss_before_steps_mib`` and ``step_rss_growth_mib``: the resident size (VmRSS) once the
  model is built, and how far the peak rose above it during the steps: the step's working
  memory as the operating system sees it.
- ``tracemalloc_step_peak_mib``: the peak of memory allocated through Python's allocators
  and NumPy's data buffers (NumPy reports them to tracemalloc) during one more step, counting
  only what that step allocated. Measured after the RSS figures, because tracing costs
  memory of its own.

Imports only the standard library at module level: thread variables are set first.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def _status(field: str) -> float | None:
    """A ``kB`` field of /proc/self/status (``VmRSS``, ``VmHWM``) in bytes, or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _peak_rss() -> tuple[float, str]:
    """Peak resident set size in bytes, and where it was read."""
    peak = _status("VmHWM")
    if peak is not None:
        return peak, "VmHWM (/proc/self/status)"
    import resource  # Unix only

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return (float(maxrss) if sys.platform == "darwin" else float(maxrss) * 1024), "ru_maxrss"


def _run(workload: str, impl: str, size: str, steps: int, seed: int, threads: int) -> dict[str, Any]:
    """Build and step one implementation in this process; return its memory figures."""
    import gc
    import tracemalloc

    from .environment import limit_threads, set_thread_env

    set_thread_env(threads)
    import numpy as np

    from .workloads import WORKLOADS

    limit_threads(threads)
    w = WORKLOADS[workload]
    init = w.make_init(w.config(size), seed)
    model = w.build(impl, init, np.float32)
    del init  # the float64 starting point is not part of either implementation
    gc.collect()
    before = _status("VmRSS")
    for _ in range(steps):
        model.step()
    peak, source = _peak_rss()
    tracemalloc.start()
    model.step()
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "workload": workload,
        "impl": impl,
        "size": size,
        "steps": steps,
        "peak_rss_mib": peak / MIB,
        "peak_rss_source": source,
        "rss_before_steps_mib": None if before is None else before / MIB,
        "step_rss_growth_mib": None if before is None else (peak - before) / MIB,
        "tracemalloc_step_peak_mib": traced_peak / MIB,
    }


def measure_memory(
    workload: str, impls: list[str], size: str, steps: int, seed: int, threads: int
) -> dict[str, dict[str, Any]]:
    """Memory figures of each implementation, each from a fresh subprocess (see the module docstring)."""
    results = {}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    for impl in impls:
        command = [sys.executable, "-m", "benchmarks.memory", "--workload", workload, "--impl", impl]
        command += ["--size", size, "--steps", str(steps), "--seed", str(seed), "--threads", str(threads)]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"memory measurement of {workload}/{impl} failed:\n{done.stderr}")
        results[impl] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.memory",
        description="Print (as one JSON line) the memory figures of one workload implementation's steps.",
    )
    parser.add_argument("--workload", default="W5")
    parser.add_argument("--impl", default="gradwire", choices=("numpy", "gradwire", "torch"))
    parser.add_argument("--size", default="full", choices=("full", "small"))
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(_run(args.workload, args.impl, args.size, args.steps, args.seed, args.threads)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
