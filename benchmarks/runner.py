"""The command line: ``python -m benchmarks [--quick] [--check] [--only W1,W5] [--json out.json] ...``.

Without ``--check`` it times every selected workload (hand-written NumPy, gradwire eager,
gradwire with its forward and backward replayed by ``autograd.compile_step`` and, when
installed, PyTorch, all float32 from the same weights), measures W5's peak memory in
subprocesses, prints a markdown table with the ratios to NumPy and the targets, and writes
everything (samples, machine, BLAS kernel and threads) to ``--json``. With ``--check`` it
compares float64 steps of each implementation with NumPy's instead, and the replayed step
with the eager one bit for bit (exit status 1 on a mismatch). Targets are goals, not
assertions: a timing run exits 0.

This module imports only the standard library at module level, so that the BLAS thread
variables are set (``--threads``, default 1) before NumPy is first imported.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from .environment import blas_summary, describe, limit_threads, pin_allocator, set_thread_env

DEFAULTS = {"warmup": 3, "repeats": 21, "min_time": 0.1}
QUICK = {"warmup": 1, "repeats": 5, "min_time": 0.02}
MEMORY_WORKLOAD = "W5"
MEMORY_TARGET = 1.3
IMPLS = ("numpy", "gradwire", "replay", "torch")

EPILOG = """\
columns of the table:
  numpy ms        median time of one step of the hand-written NumPy forward/backward (the baseline)
  gradwire ms     median time of one step written with gradwire (autograd + nn)
  gw/np           gradwire ms / numpy ms, both from this run; "target" is the goal for it
  replay ms       the gradwire step with its forward, loss and backward replayed by autograd.compile_step
                  (recorded on two eager calls, then one generated function of NumPy calls);
                  zero_grad and the optimizer update still run eagerly, outside the replayed part.
                  "(eager)": compile_step could not replay it (the reason is printed under the table)
  rp/np           replay ms / numpy ms; "rp target" is the goal for it, where one is set
  torch ms        PyTorch eager (CPU) on the same step, when torch is installed
  torch/np        torch ms / numpy ms
  gw ops          operations gradwire records in one step's graph

examples:
  python -m benchmarks                      full run (a few minutes), table on stdout
  python -m benchmarks --json out.json      ... and every sample, the machine and BLAS in a JSON file
  python -m benchmarks --quick              a fast look: fewer, shorter samples
  python -m benchmarks --only W1,W6         some workloads only
  python -m benchmarks --check              float64 gradients and updates: NumPy vs gradwire, replay (and torch);
                                            replay vs eager gradwire bit for bit
  python -m benchmarks --check --size small the same on reduced sizes (what the test suite runs)
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time training steps written with gradwire against hand-written NumPy (and PyTorch if installed).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", metavar="W1,W2", help="comma-separated workload keys (default: all)")
    parser.add_argument(
        "--size", choices=("full", "small"), default="full", help="workload sizes: the benchmark's or reduced ones"
    )
    parser.add_argument("--check", action="store_true", help="compare float64 gradients and updates instead of timing")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter samples (a smoke test; noisier ratios)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (default 1)")
    parser.add_argument("--warmup", type=int, help=f"steps before timing (default {DEFAULTS['warmup']})")
    parser.add_argument("--repeats", type=int, help=f"timed samples per implementation (default {DEFAULTS['repeats']})")
    parser.add_argument(
        "--min-time",
        type=float,
        help=f"shortest sample in seconds; sets the steps per sample (default {DEFAULTS['min_time']})",
    )
    parser.add_argument("--json", metavar="PATH", help="write all results to this JSON file")
    parser.add_argument(
        "--allocator",
        choices=("pinned", "default"),
        default="pinned",
        help="pinned (default): glibc keeps freed memory, so timings do not depend on what ran before; "
        "default: glibc's own thresholds",
    )
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if it is installed")
    parser.add_argument("--no-memory", action="store_true", help="skip the W5 peak-memory measurement")
    parser.add_argument("--memory-steps", type=int, default=3, help="steps run before reading peak memory (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and data (default 0)")
    parser.add_argument("--rtol", type=float, help="--check: largest relative error that passes (default 1e-9)")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    settings = QUICK if args.quick else DEFAULTS
    for key in ("warmup", "repeats", "min_time"):
        if getattr(args, key) is None:
            setattr(args, key, settings[key])
    return args


def _select(keys: str | None, workloads: dict) -> list:
    if not keys:
        return list(workloads.values())
    chosen = []
    for key in keys.split(","):
        key = key.strip().upper()
        if key not in workloads:
            raise SystemExit(f"unknown workload {key!r}; choose from {', '.join(workloads)}")
        chosen.append(workloads[key])
    return chosen


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = parse_args(argv)
    set_thread_env(args.threads)  # before NumPy is imported (below), and inherited by subprocesses
    from .common import torch_or_none
    from .workloads import WORKLOADS

    method = limit_threads(args.threads)
    selected = _select(args.only, WORKLOADS)
    if args.list:
        for w in selected:
            replay = f", replay/numpy <= {w.replay_target}" if w.replay_target is not None else ""
            print(f"{w.key}  {w.title}: {w.describe(w.config('full'))}  (target gradwire/numpy <= {w.target}{replay})")
        return 0
    torch = None if args.no_torch else torch_or_none()
    if torch is not None:
        torch.set_num_threads(args.threads)
    if args.check:
        return _run_check(args, selected, torch is not None)
    return _run_benchmark(args, selected, torch, method)


# ───────────── --check ─────────────


def _run_check(args: argparse.Namespace, selected: list, with_torch: bool) -> int:
    import warnings

    from autograd import ReplayWarning

    from .check import DEFAULT_RTOL, REPLAY_STEPS, check_replay, check_workload

    rtol = args.rtol if args.rtol is not None else DEFAULT_RTOL
    others = ("gradwire", "torch") if with_torch else ("gradwire",)
    print(
        f"float64 from the same weights, one step ({REPLAY_STEPS} for replay, so that the compared one is replayed); "
        f"errors are max|x - numpy| / max|numpy|; pass: <= {rtol:g}\n"
    )
    print("| workload | size | vs numpy | loss | worst gradient | worst parameter after update | result |")
    print("|---|---|---|---|---|---|---|")
    results, bitwise = [], []
    with warnings.catch_warnings():  # a replay that stays eager is reported in the second table
        warnings.simplefilter("ignore", ReplayWarning)  # (check_replay records it there)
        for w in selected:
            compared = check_workload(w, args.size, args.seed, rtol, others)
            if "replay" in w.impls:
                compared += check_workload(w, args.size, args.seed, rtol, ("replay",), steps=REPLAY_STEPS)
            for r in compared:
                results.append(r)
                config = w.config(r["size"])
                size = f"{r['size']}: {w.describe(config)}" if w.describe else r["size"]
                missing = f" missing {r['missing']}" if r["missing"] else ""
                impl = r["impl"] if r["steps"] == 1 else f"{r['impl']} ({r['steps']} steps)"
                print(
                    f"| {w.key} | {size} | {impl} | {r['loss']:.1e} | {r['grad']:.1e} ({r['grad_name']}) "
                    f"| {r['param']:.1e} ({r['param_name']}) | {'pass' if r['ok'] else 'FAIL'}{missing} |"
                )
            if "replay" in w.impls:
                bitwise.append(check_replay(w, args.size, args.seed))
    if bitwise:
        print(
            f"\nreplay against eager gradwire, float64, {REPLAY_STEPS} steps from the same weights (the inputs and "
            "weights scaled in place between steps): losses, gradients and parameters bit-identical after each step\n"
        )
        print("| workload | size | replayed calls | result |")
        print("|---|---|---:|---|")
        for r in bitwise:
            if r["error"] or r["mismatch"]:
                result = f"FAIL: {r['error'] or r['mismatch']}"
            elif not r["replayed"]:
                result = "FAIL: never replayed" if r["strict"] else f"not replayed (strict=False): {r['eager_reason']}"
            else:
                result = "bit-identical"
            print(f"| {r['workload']} | {r['size']} | {r['replays']} of {r['steps']} | {result} |")
    everything = results + bitwise
    failed = [r for r in everything if not r["ok"]]
    eager = [r for r in bitwise if r["ok"] and not r["replayed"]]
    passed = len(everything) - len(failed) - len(eager)
    tail = f", {len(eager)} not replayed ({', '.join(r['workload'] for r in eager)})" if eager else ""
    print(f"\n{passed} passed, {len(failed)} failed{tail}")
    if args.json:
        Path(args.json).write_text(json.dumps({"check": results, "replay": bitwise}, indent=2) + "\n")
    return 1 if failed else 0


# ───────────── timing ─────────────


def _fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def _mark(ratio: float | None, target: float | None) -> str:
    if target is None:
        return "-"
    if ratio is None:
        return f"≤ {target:g}"
    return f"≤ {target:g} {'✓' if ratio <= target else '✗'}"


def _run_benchmark(args: argparse.Namespace, selected: list, torch: Any, method: str) -> int:
    import gc
    import warnings

    import numpy as np

    from autograd import ReplayWarning

    from .memory import measure_memory
    from .timing import measure

    allocator = pin_allocator() if args.allocator == "pinned" else "default"
    meta = describe(args.threads, method, None if torch is None else torch.__version__)
    meta["allocator"] = allocator
    started = time.time()
    settings = {
        "dtype": "float32",
        "size": args.size,
        "threads": args.threads,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "min_time_s": args.min_time,
        "quick": args.quick,
        "seed": args.seed,
    }
    print(
        f"gradwire benchmarks: float32, {args.threads} BLAS thread(s) ({method}), sizes '{args.size}', "
        f"{args.warmup} warm-up steps, median of {args.repeats} interleaved samples of >= {args.min_time:g} s"
    )
    print(f"allocator: {allocator}")
    coretype = meta["blas_env"]["OPENBLAS_CORETYPE"] or "unset"
    print(f"BLAS: {blas_summary(meta['blas_runtime'])}; OPENBLAS_CORETYPE {coretype}")
    print(
        f"numpy {meta['numpy']}, torch {meta['torch'] or 'not installed'}, Python {meta['python']}, "
        f"{meta['cpu']} x{meta['cpu_count']}",
        flush=True,
    )
    load = meta["load_average"]
    if load and load[0] > 0.5:
        print(f"warning: the machine is busy (load average {load[0]:.2f} over {meta['cpu_count']} CPUs): noisy timings")
    print(flush=True)
    rows = []
    for w in selected:
        config = w.config(args.size)
        init = w.make_init(config, args.seed)
        names = [n for n in IMPLS if (n != "torch" or torch is not None) and n in w.impls]
        impls = {name: w.build(name, init, np.float32) for name in names}
        nodes = impls["gradwire"].graph_nodes()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ReplayWarning)
            timings = measure(impls, args.warmup, args.repeats, args.min_time)
        replay_reason = None
        for warning in caught:
            if issubclass(warning.category, ReplayWarning):
                replay_reason = replay_reason or str(warning.message)
            else:  # not ours to swallow
                warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
        replays = impls["replay"].replays if "replay" in impls else None
        del impls, init
        gc.collect()
        numpy_ms = timings["numpy"]["median_ms"]
        ratio = timings["gradwire"]["median_ms"] / numpy_ms
        replay_ratio = timings["replay"]["median_ms"] / numpy_ms if "replay" in timings else None
        torch_ratio = timings["torch"]["median_ms"] / numpy_ms if "torch" in timings else None
        row = {
            "key": w.key,
            "title": w.title,
            "config": config,
            "description": w.describe(config) if w.describe else "",
            "note": w.note,
            "target": w.target,
            "gradwire_over_numpy": ratio,
            "replay_over_numpy": replay_ratio,
            "replay_target": w.replay_target,
            "meets_replay_target": (
                None if w.replay_target is None or replay_ratio is None else replay_ratio <= w.replay_target
            ),
            "replay_calls_replayed": replays,
            "replay_eager_reason": replay_reason,
            "torch_over_numpy": torch_ratio,
            "meets_target": ratio <= w.target,
            "gradwire_graph_ops": nodes,
            "timings": timings,
        }
        rows.append(row)
        print(
            f"  {w.key} done: numpy {_fmt_ms(numpy_ms)} ms, gradwire {_fmt_ms(timings['gradwire']['median_ms'])} ms"
            f" (x{ratio:.2f})"
            + (
                f", replay {_fmt_ms(timings['replay']['median_ms'])} ms (x{replay_ratio:.2f}"
                + (", eager" if not replays else "")
                + ")"
                if replay_ratio is not None
                else ""
            )
            + (f", torch x{torch_ratio:.2f}" if torch_ratio is not None else ""),
            file=sys.stderr,
            flush=True,
        )
    memory = None
    if not args.no_memory and any(w.key == MEMORY_WORKLOAD for w in selected):
        figures = measure_memory(
            MEMORY_WORKLOAD, ["numpy", "gradwire"], args.size, args.memory_steps, args.seed, args.threads
        )
        np_mem, gw_mem = figures["numpy"], figures["gradwire"]

        def ratio_of(key: str) -> float | None:
            a, b = gw_mem.get(key), np_mem.get(key)
            return None if a is None or not b else a / b

        memory = {
            "workload": MEMORY_WORKLOAD,
            "method": "peak RSS (VmHWM from /proc/self/status; ru_maxrss where there is no /proc), one fresh "
            "subprocess per implementation with the same imports; plus the tracemalloc peak (Python and NumPy "
            "allocations) of one extra step",
            "target": MEMORY_TARGET,
            "numpy": np_mem,
            "gradwire": gw_mem,
            "peak_rss_ratio": ratio_of("peak_rss_mib"),
            "step_rss_growth_ratio": ratio_of("step_rss_growth_mib"),
            "tracemalloc_ratio": ratio_of("tracemalloc_step_peak_mib"),
        }
        memory["meets_target"] = memory["peak_rss_ratio"] <= MEMORY_TARGET
    meta["load_average_end"] = _loadavg()
    meta["wall_time_s"] = time.time() - started
    print(_table(rows, torch is not None))
    if memory:
        print(_memory_table(memory))
    notes = [w.note for w in selected if w.note]
    notes += [
        f"{r['key']} replay ran eagerly, not replayed: {r['replay_eager_reason'] or 'no replayed calls'}"
        for r in rows
        if r["replay_over_numpy"] is not None and not r["replay_calls_replayed"]
    ]
    if args.quick or args.size != "full":
        notes.append("Quick or reduced run: fewer samples or smaller sizes; judge targets on full runs only.")
    for note in notes:
        print(f"- {note}")
    if args.json:
        result = {"meta": meta, "settings": settings, "workloads": rows, "memory": memory}
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nresults written to {args.json}")
    return 0


def _loadavg() -> list[float] | None:
    import os

    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def _table(rows: list[dict], with_torch: bool) -> str:
    head = "| workload | numpy ms | gradwire ms | gw/np | target | replay ms | rp/np | rp target |"
    rule = "|---|---:|---:|---:|---|---:|---:|---|"
    if with_torch:
        head += " torch ms | torch/np |"
        rule += "---:|---:|"
    head += " gw ops |"
    rule += "---:|"
    lines = [head, rule]
    for r in rows:
        t = r["timings"]
        line = (
            f"| {r['key']} {r['title']}: {r['description']} | {_fmt_ms(t['numpy']['median_ms'])} "
            f"| {_fmt_ms(t['gradwire']['median_ms'])} | {r['gradwire_over_numpy']:.2f} "
            f"| {_mark(r['gradwire_over_numpy'], r['target'])} |"
        )
        if r["replay_over_numpy"] is None:
            line += " - | - | - |"
        else:
            eager = "" if r["replay_calls_replayed"] else " (eager)"
            line += (
                f" {_fmt_ms(t['replay']['median_ms'])}{eager} | {r['replay_over_numpy']:.2f} "
                f"| {_mark(r['replay_over_numpy'], r['replay_target'])} |"
            )
        if with_torch:
            line += f" {_fmt_ms(t['torch']['median_ms'])} | {r['torch_over_numpy']:.2f} |"
        line += f" {r['gradwire_graph_ops'] if r['gradwire_graph_ops'] is not None else '-'} |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _memory_table(memory: dict) -> str:
    np_mem, gw_mem = memory["numpy"], memory["gradwire"]

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    def ratio(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    lines = [
        f"| {memory['workload']} memory (MiB) | numpy | gradwire | gw/np | target |",
        "|---|---:|---:|---:|---|",
        f"| peak RSS of the process (VmHWM) | {cell(np_mem['peak_rss_mib'])} | {cell(gw_mem['peak_rss_mib'])} "
        f"| {ratio(memory['peak_rss_ratio'])} | {_mark(memory['peak_rss_ratio'], memory['target'])} |",
        f"| RSS growth during the steps | {cell(np_mem['step_rss_growth_mib'])} "
        f"| {cell(gw_mem['step_rss_growth_mib'])} | {ratio(memory['step_rss_growth_ratio'])} | |",
        f"| tracemalloc peak of one step | {cell(np_mem['tracemalloc_step_peak_mib'])} "
        f"| {cell(gw_mem['tracemalloc_step_peak_mib'])} | {ratio(memory['tracemalloc_ratio'])} | |",
    ]
    return "\n".join(lines) + "\n"
