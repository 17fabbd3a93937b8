"""``python -m benchmarks.profiling W5``: where one implementation's step spends its time (cProfile).

Runs a few warm-up steps, then profiles ``--steps`` steps and prints the functions with the
most time of their own (``--sort tottime``, the default) or including callees
(``--sort cumtime``). cProfile adds a roughly constant cost to every Python call, so it
overstates Python overhead against NumPy's C work; read the ranking, not the absolute
times (or use a sampling profiler: ``py-spy record -o w5.svg -- python -m benchmarks.profiling
W5 --no-profile --steps 200``).

Imports only the standard library at module level: thread variables are set first.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiling", description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="W1 ... W7")
    parser.add_argument("--impl", default="gradwire", choices=("numpy", "gradwire", "replay", "torch"))
    parser.add_argument("--size", default="full", choices=("full", "small"))
    parser.add_argument("--steps", type=int, default=20, help="profiled steps (default 20)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sort", default="tottime", help="pstats sort key (default tottime)")
    parser.add_argument("--top", type=int, default=30, help="rows to print (default 30)")
    parser.add_argument("--no-profile", action="store_true", help="just run the steps (for an outside profiler)")
    args = parser.parse_args(argv)

    from .environment import limit_threads, set_thread_env

    set_thread_env(args.threads)
    import cProfile
    import pstats
    import time

    import numpy as np

    from .workloads import WORKLOADS

    limit_threads(args.threads)
    w = WORKLOADS[args.workload.upper()]
    impl = w.build(args.impl, w.make_init(w.config(args.size), 0), np.float32)
    for _ in range(max(args.warmup, impl.min_warmup)):  # a replayed step records on its first two calls
        impl.step()
    start = time.perf_counter()
    if args.no_profile:
        for _ in range(args.steps):
            impl.step()
        print(f"{args.steps} steps, {(time.perf_counter() - start) / args.steps * 1e3:.3f} ms per step")
        return 0
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.steps):
        impl.step()
    profiler.disable()
    elapsed = time.perf_counter() - start
    per_step = elapsed / args.steps * 1e3
    print(f"{w.key} {args.impl}: {args.steps} profiled steps, {per_step:.3f} ms per step under cProfile")
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
