"""``--check``: float64 steps of every implementation from the same start, compared with NumPy's and with each other.

The hand-written NumPy step is the reference. For gradwire (and PyTorch when installed)
`check_workload` compares the loss, every gradient and every parameter after the update,
each as ``max|other - numpy| / max|numpy|`` (the worst difference relative to the array's
scale), and passes when all of them are at most ``rtol`` (default 1e-9; agreeing
implementations differ by about 1e-15 in float64, a wrong rule by far more). The replayed
gradwire step (``"replay"``) is compared in the same way after `REPLAY_STEPS` steps, so that
the compared step is a replay and not one of the two eager, recorded ones.

`check_replay` holds the replayed step to more than a tolerance: run side by side with the
eager gradwire step from the same weights, every loss, gradient and parameter must be
bit-identical (``np.array_equal``) after each of `REPLAY_STEPS` steps, and some of the steps
must have been replays.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from autograd import ReplayWarning

from .common import Impl, Workload, compare

DEFAULT_RTOL = 1e-9
REPLAY_STEPS = 4  # two eager, recorded calls, then two replays
DRIFT = 0.99


def check_workload(
    workload: Workload,
    size: str = "full",
    seed: int = 0,
    rtol: float = DEFAULT_RTOL,
    others: tuple = ("gradwire",),
    steps: int = 1,
) -> list[dict[str, Any]]:
    """Compare each implementation in ``others`` with NumPy after ``steps`` float64 steps.

    Args:
        workload: the workload.
        size: ``"full"`` (replaced by the workload's ``check_size`` when it has one) or ``"small"``.
        seed: seed of the initial weights and data.
        rtol: the largest relative error that passes.
        others: implementation names to compare with ``"numpy"``.
        steps: steps each implementation runs (NumPy too) before the comparison.

    Returns:
        One dict per compared implementation: the errors (see `common.compare`), ``ok``, and
        the workload, size, step count and implementation names.
    """
    size = _check_size(workload, size)
    init = workload.make_init(workload.config(size), seed)
    reference = workload.build("numpy", init, np.float64)
    for _ in range(steps):
        reference.step()
    results = []
    for name in others:
        impl = workload.build(name, init, np.float64)
        for _ in range(steps):
            impl.step()
        errors = compare(reference, impl)
        ok = not errors["missing"] and max(errors["loss"], errors["grad"], errors["param"]) <= rtol
        results.append(
            {"workload": workload.key, "size": size, "impl": name, "steps": steps, "rtol": rtol, "ok": ok, **errors}
        )
    return results


def check_replay(
    workload: Workload, size: str = "full", seed: int = 0, steps: int = REPLAY_STEPS, drift: bool = True
) -> dict[str, Any]:
    """Run the ``"replay"`` and the eager ``"gradwire"`` step side by side and demand identical results.

    After every step the losses, every gradient and every parameter must be equal bit for bit
    (``np.array_equal``, same dtype and shape). With ``drift`` (the default), between steps both
    implementations scale every float array their step reads (inputs, upstream gradients,
    weights) in place by the same factor, so that workloads without an optimizer (W4, W6)
    also run each step on new values: a replay that kept a value from its recordings, instead
    of reading it, then differs.

    Returns:
        ``workload``, ``size``, ``steps``, ``replays`` (replayed calls of the replay step),
        ``strict`` (whether it was compiled with ``strict=True``), ``error`` (the exception a
        step raised, e.g. `autograd.ReplayError`, or None), ``mismatch`` (the first difference,
        in words, or None), ``eager_reason`` (the `autograd.ReplayWarning` of a ``strict=False``
        step that stays eager, or None), ``replayed`` (``replays > 0``) and ``ok``: no error,
        no mismatch, and replayed, or not replayed by an implementation declared ``strict=False``.
    """
    size = _check_size(workload, size)
    init = workload.make_init(workload.config(size), seed)
    eager = workload.build("gradwire", init, np.float64)
    replay = workload.build("replay", init, np.float64)
    strict = bool(getattr(replay, "strict", True))
    error = mismatch = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReplayWarning)
        try:
            for step in range(1, steps + 1):
                if drift and step > 1:
                    _drift(eager)
                    _drift(replay)
                eager.step()
                replay.step()
                mismatch = _first_difference(eager, replay, step)
                if mismatch:
                    break
        except Exception as exc:  # a ReplayError (strict) or anything else the replayed step raised
            error = f"{type(exc).__name__}: {exc}"
    reasons = [str(w.message) for w in caught if issubclass(w.category, ReplayWarning)]
    for w in caught:  # other warnings are not ours to swallow
        if not issubclass(w.category, ReplayWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    replays = int(getattr(replay, "replays", 0))
    ok = error is None and mismatch is None and (replays > 0 or not strict)
    return {
        "workload": workload.key,
        "size": size,
        "impl": "replay",
        "against": "gradwire",
        "steps": steps,
        "replays": replays,
        "replayed": replays > 0,
        "strict": strict,
        "error": error,
        "mismatch": mismatch,
        "eager_reason": reasons[0] if reasons else None,
        "ok": ok,
    }


def _check_size(workload: Workload, size: str) -> str:
    return workload.check_size if size == "full" and workload.check_size else size


def _first_difference(eager: Impl, replay: Impl, step: int) -> str | None:
    """Where the two implementations' results differ after ``step``, in words (None: bit-identical)."""
    loss_e, loss_r = eager.loss_value(), replay.loss_value()
    if not np.array_equal(np.float64(loss_e), np.float64(loss_r)):
        return f"step {step}: loss {loss_r!r} (replay) against {loss_e!r} (eager)"
    for kind, a, b in (("gradient", eager.grads(), replay.grads()), ("parameter", eager.params(), replay.params())):
        if set(a) != set(b):
            return f"step {step}: {kind}s of {sorted(set(a) ^ set(b))} only in one implementation"
        for name in a:
            x, y = a[name], b[name]
            if x.dtype != y.dtype or x.shape != y.shape:
                return f"step {step}: {kind} {name}: {y.dtype}{y.shape} (replay) against {x.dtype}{x.shape} (eager)"
            if not np.array_equal(x, y):
                diff = float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64))))
                return f"step {step}: {kind} {name} differs (max |replay - eager| = {diff:.3g})"
    return None


def _drift(impl: Impl) -> None:
    """Scale, in place, every float array ``impl``'s step reads: its public Tensors, ndarrays, module weights."""
    seen: set[int] = set()
    for name, value in vars(impl).items():
        if name.startswith("_"):  # results of the last step (``_loss``, ``_out``), bookkeeping
            continue
        arrays = []
        if hasattr(value, "data") and isinstance(value.data, np.ndarray):  # a Tensor
            arrays.append(value.data)
        elif isinstance(value, np.ndarray):
            arrays.append(value)
        elif callable(getattr(value, "parameters", None)) and hasattr(value, "named_parameters"):  # a Module
            arrays.extend(p.data for p in value.parameters())
        for array in arrays:
            if array.dtype.kind == "f" and id(array) not in seen:
                seen.add(id(array))
                array *= DRIFT
