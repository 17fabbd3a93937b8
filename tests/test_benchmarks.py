"""The benchmark suite's baselines compute what gradwire computes (no timing is asserted here).

For every workload, one float64 step of the hand-written NumPy implementation and of the
gradwire one (and PyTorch's, when torch is installed) must agree on the loss, every
gradient and every updated parameter, on reduced sizes. The checker itself is tested by
planting a slightly wrong gradient, and the command line is smoke-tested end to end.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("benchmarks") is None:  # plain `pytest` does not put the repository root on sys.path
    sys.path.insert(0, str(ROOT))

from benchmarks.check import check_workload  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402

OTHERS = ("gradwire", "torch") if importlib.util.find_spec("torch") is not None else ("gradwire",)


@pytest.mark.parametrize("key", list(WORKLOADS))
def test_numpy_baseline_matches_gradwire(key: str) -> None:
    for result in check_workload(WORKLOADS[key], size="small", others=OTHERS):
        assert result["ok"], result
        assert not result["missing"]
        assert result["n_grads"] >= 1


def test_check_catches_a_slightly_wrong_gradient() -> None:
    w1 = WORKLOADS["W1"]
    reference = w1.impls["numpy"]

    class OffByAMillionth(reference):  # type: ignore[misc, valid-type]
        def step(self) -> None:
            super().step()
            g = self._grads["layers.2.weight"]
            g[0, 0] += 1e-6 * np.abs(g).max()

    planted = dataclasses.replace(w1, impls={**w1.impls, "gradwire": OffByAMillionth})
    (result,) = check_workload(planted, size="small")
    assert not result["ok"]
    assert result["grad_name"] == "layers.2.weight"
    assert 1e-7 < result["grad"] < 1e-5


def test_w6_counts_primitive_ops() -> None:
    gradwire = WORKLOADS["W6"].build("gradwire", WORKLOADS["W6"].make_init({"ops": 301}, 0), np.float32)
    assert gradwire.graph_nodes() == 301  # 100 iterations of 3 ops, and the final sum


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_command_line_check() -> None:
    done = _run("--check", "--size", "small", "--no-torch")
    assert done.returncode == 0, done.stderr
    assert f"{len(WORKLOADS)} passed, 0 failed" in done.stdout


def test_command_line_timing_smoke(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    args = ["--quick", "--size", "small", "--repeats", "2", "--warmup", "1", "--min-time", "0", "--no-torch"]
    done = _run(*args, "--json", str(out))
    assert done.returncode == 0, done.stderr
    assert "| W1 " in done.stdout and "| W5 memory (MiB) |" in done.stdout
    results = json.loads(out.read_text())
    assert [row["key"] for row in results["workloads"]] == list(WORKLOADS)
    for row in results["workloads"]:
        assert row["gradwire_over_numpy"] > 0
        assert len(row["timings"]["numpy"]["samples_ms"]) == 2
    assert results["meta"]["threads"] == 1
    assert results["meta"]["thread_env"]["OPENBLAS_NUM_THREADS"] == "1"
    assert results["memory"]["gradwire"]["peak_rss_mib"] > 0
