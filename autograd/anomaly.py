"""`detect_anomaly`: name the op, and the line of your code, that first produced NaN or inf.

    with autograd.detect_anomaly():
        loss = model(x)          # raises here if an op turns finite inputs into NaN/inf
        loss.backward()          # or here, naming the op whose gradient rule did

An op is blamed only when it *introduces* a non-finite value: its inputs (or, in backward,
its incoming gradient and saved inputs) were finite and its output is not. So a deliberate
``-inf`` mask passed in as a constant is fine, while ``exp(1000)``, ``log(0)`` or ``0 / 0``
are caught where they happen. Each recorded node remembers the first line outside gradwire
that created it, and the error quotes it.

The checks cost nothing when off (one attribute read per recorded op); when on, each op
pays for a finiteness test and a stack look-up, so use it while debugging.
An observer: the core calls the hooks in `autograd.graph.state` and never imports
this module.
"""

from __future__ import annotations

import contextlib
import functools
import linecache
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from .graph import Node, state
from .tensor import Tensor

F = TypeVar("F", bound=Callable[..., Any])


class AnomalyError(RuntimeError):
    """Raised under `detect_anomaly` when an op produces NaN or inf from finite values."""


def _user_line() -> str:
    """'file:line in function: source' of the innermost frame outside gradwire's packages."""
    frame = sys._getframe(2)  # skip this function and the hook that called it
    while frame is not None:
        if not _is_library_module(frame.f_globals.get("__name__", "")):
            filename = os.path.abspath(frame.f_code.co_filename)
            source = linecache.getline(filename, frame.f_lineno).strip()
            return f"{filename}:{frame.f_lineno} in {frame.f_code.co_name}: {source}"
        frame = frame.f_back
    return "(no caller outside gradwire)"


_LIBRARY_PACKAGES = ("autograd", "nn")  # gradwire's import packages: their frames are not the user's code


def _is_library_module(module: str) -> bool:
    """True for a module of gradwire itself (``autograd``, ``nn`` and their submodules), by name."""
    return module.partition(".")[0] in _LIBRARY_PACKAGES


def _finite(value: Any) -> bool:
    data = value.data if isinstance(value, Tensor) else value
    return data is None or not isinstance(data, np.ndarray) or data.dtype.kind != "f" or bool(np.isfinite(data).all())


def _describe(data: np.ndarray) -> str:
    nans = int(np.isnan(data).sum())
    infs = int(np.isinf(data).sum())
    return f"{nans} NaN and {infs} inf of {data.size} values"


def _check_forward(prim: Any, node: Node, data: np.ndarray, inputs: tuple) -> None:
    node.origin = _user_line()
    if _finite(data) or not all(_finite(x) for x in inputs):
        return
    shapes = ", ".join(str(getattr(x, "shape", "?")) for x in inputs)
    raise AnomalyError(
        f"detect_anomaly: forward of {prim.name!r} turned finite inputs of shapes {shapes} into "
        f"{_describe(np.asarray(data))}\n  created at {node.origin}"
    )


def _check_backward(node: Node, grad: Any, grads: tuple) -> None:
    if not _finite(grad):
        return
    inputs = node.prim.inputs(node)
    if not all(_finite(x) for x in inputs):
        return
    for position, g in enumerate(grads):
        if g is not None and not _finite(g):
            origin = getattr(node, "origin", None) or "(created before detect_anomaly was switched on)"
            raise AnomalyError(
                f"detect_anomaly: the gradient rule of {node.prim.name!r} for input {position} turned a finite "
                f"gradient into {_describe(np.asarray(g.data))}\n  the op was created at {origin}"
            )


class detect_anomaly:
    """Raise `AnomalyError` at the first op that produces NaN/inf, forward or backward.

    Use as ``with autograd.detect_anomaly():`` or as a decorator.

    Args:
        check_nan: True to switch the checks on (False is a no-op, for symmetry with PyTorch).
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._active: list[contextlib.AbstractContextManager | None] = []

    def __enter__(self) -> None:
        checks = state.checking_anomalies(_check_forward, _check_backward) if self.check_nan else None
        if checks is not None:
            checks.__enter__()
        self._active.append(checks)

    def __exit__(self, *exc: object) -> None:
        checks = self._active.pop()
        if checks is not None:
            checks.__exit__(None, None, None)

    def __call__(self, func: F) -> F:
        check_nan = self.check_nan

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(check_nan):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def is_anomaly_enabled() -> bool:
    """True inside `detect_anomaly`."""
    return state.checks_anomalies
