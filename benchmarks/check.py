"""``--check``: one step of every implementation in float64 from the same start, compared with NumPy's.

The hand-written NumPy step is the reference. For gradwire (and PyTorch when installed)
the check compares the loss, every gradient and every parameter after the update, each as
``max|other - numpy| / max|numpy|`` (the worst difference relative to the array's scale),
and passes when all of them are at most ``rtol`` (default 1e-9; agreeing implementations
differ by about 1e-15 in float64, a wrong rule by far more).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .common import Workload, compare

DEFAULT_RTOL = 1e-9


def check_workload(
    workload: Workload, size: str = "full", seed: int = 0, rtol: float = DEFAULT_RTOL, others: tuple = ("gradwire",)
) -> list[dict[str, Any]]:
    """Compare each implementation in ``others`` with NumPy after one float64 step.

    Args:
        workload: the workload.
        size: ``"full"`` (replaced by the workload's ``check_size`` when it has one) or ``"small"``.
        seed: seed of the initial weights and data.
        rtol: the largest relative error that passes.
        others: implementation names to compare with ``"numpy"``.

    Returns:
        One dict per compared implementation: the errors (see `common.compare`), ``ok``, and
        the workload, size and implementation names.
    """
    if size == "full" and workload.check_size:
        size = workload.check_size
    init = workload.make_init(workload.config(size), seed)
    reference = workload.build("numpy", init, np.float64)
    reference.step()
    results = []
    for name in others:
        impl = workload.build(name, init, np.float64)
        impl.step()
        errors = compare(reference, impl)
        ok = not errors["missing"] and max(errors["loss"], errors["grad"], errors["param"]) <= rtol
        results.append({"workload": workload.key, "size": size, "impl": name, "rtol": rtol, "ok": ok, **errors})
    return results
