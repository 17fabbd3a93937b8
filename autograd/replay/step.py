"""The public side of replay: `compile_step`, `CompiledStep`, and per signature the recordings, guards and replay.

`CompiledStep.__call__` decides per call: replay when a plan for the call's signature has
a replay function and its guards hold (leaves still hold their arrays, modules are in the
same mode); else record (eagerly) and, after two recordings that agree, compile the tape
(`autograd.replay.emit`).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..graph import grad_mode, state
from ..tensor import Tensor
from .emit import compile_replay
from .tape import Recorder, Recording, output_spec, run_recorded

_ndarray = np.ndarray
_MAX_SIGNATURES = 8


class ReplayWarning(UserWarning):
    """A compiled step runs eagerly for a signature, because its recording cannot be replayed faithfully."""


class ReplayError(RuntimeError):
    """Raised instead of `ReplayWarning` by a step compiled with ``strict=True``."""


# ───────────── the public API ─────────────


class _Plan:
    """Per-signature state: recordings so far, then either the replay function or the reason it stays eager."""

    __slots__ = ("recordings", "replay", "source", "progress", "leaf_data", "modes", "eager_reason")

    def __init__(self) -> None:
        self.recordings: list[Recording] = []
        self.replay: Callable | None = None
        self.source = ""
        self.progress: list = [0]
        self.leaf_data: list = []
        self.modes: list = []
        self.eager_reason: str | None = None


class CompiledStep:
    """A step function that replays its recorded primitive calls once two recordings agree (see `compile_step`).

    A step replays faithfully when it is a fixed sequence of gradwire operations on its
    arguments and on tensors it reads by reference (parameters):

    - Pass what changes from step to step (the batch) as arguments, Tensors or ndarrays. Tensors
      the function reads from elsewhere are read by reference: change them in place (optimizers
      do); a leaf whose ``.data`` is rebound is recorded again; call `reset` after rebinding any
      other captured tensor.
    - Data-dependent control flow is not replayable. Reading a value into Python inside the
      step (``.item()``, ``bool(t)``, ``.tolist()``) therefore keeps it eager, as do tensor hooks,
      ``create_graph=True``, in-place changes to arrays the step reads (an optimizer step inside
      the function: call it outside), and anything whose constants differ between the two
      recorded calls (NumPy on ``.data``, random draws such as dropout's mask).
    - The replayed result has no ``grad_fn``: backward already ran inside the step. Gradients
      accumulate into ``.grad`` exactly as in eager mode (zero them outside the step).
    - Replay skips the checks eager mode makes (shapes are guarded by the signature; a label out
      of range, say, fails inside NumPy); recording is not thread-safe.
    """

    def __init__(self, fn: Callable, strict: bool = False) -> None:
        self.fn = fn
        self.strict = strict
        self._plans: dict[tuple, _Plan] = {}
        self.replays = 0  # how many calls so far were replays (the others ran eagerly)
        self._warned_unhashable = False
        functools.update_wrapper(self, fn)

    def reset(self) -> None:
        """Forget every recording: the next calls record again."""
        self._plans.clear()

    def replay_source(self) -> str:
        """The generated source of the most recent replay function (empty before there is one): a debugging aid."""
        sources = [plan.source for plan in self._plans.values() if plan.source]
        return sources[-1] if sources else ""

    def __call__(self, *args: Any) -> Any:
        key = _signature(args)
        plan = self._plans.get(key) if key is not None else None
        if plan is not None and plan.replay is not None:
            if _still_valid(plan):
                progress = plan.progress
                progress[0] = 0
                try:
                    result = plan.replay(args)
                except Exception:
                    if progress[0]:  # it had started to change .grad: nothing to fall back to
                        raise
                else:
                    self.replays += 1
                    return result
            # A parameter was rebound, a module switched mode, a value read when recording differs now, or
            # the forward failed (bad input: eager mode says why): record afresh.
            plan = self._plans[key] = _Plan()
        if key is None:
            if not self._warned_unhashable:
                self._warned_unhashable = True
                kinds = ", ".join(sorted({type(a).__name__ for a in args if not _keyable(a)}))
                self._give_up(f"an argument ({kinds}) is neither an array, a Tensor nor hashable; pass those")
            return self.fn(*args)
        if state.checks_anomalies or state.tracer is not None:
            return self.fn(*args)  # anomaly detection (it checks every op) or a step inside a recorded step
        if plan is None:
            if len(self._plans) >= _MAX_SIGNATURES:
                self._give_up(f"more than {_MAX_SIGNATURES} different argument signatures")
                return self.fn(*args)
            plan = self._plans[key] = _Plan()
        if plan.eager_reason is not None:
            return self.fn(*args)
        return self._record(plan, args)

    def _record(self, plan: _Plan, args: tuple) -> Any:
        inputs = [(i, isinstance(a, Tensor)) for i, a in enumerate(args) if isinstance(a, (Tensor, _ndarray))]
        recorder = Recorder([args[i].data if is_tensor else args[i] for i, is_tensor in inputs])
        for position, a in enumerate(args):
            if isinstance(a, Tensor) and a._node is not None:
                if not a._node.is_leaf:
                    recorder.refuse(f"argument {position} has a grad_fn: pass leaf tensors (detach it)")
                recorder.leaves[id(a._node)] = position
        epoch = state.mutation_epoch
        result = run_recorded(self.fn, args, recorder)
        if state.mutation_epoch != epoch:
            recorder.refuse("a tensor was changed in place during the step")
        recorder.refusals.extend(recorder.changed_outside_arrays())
        result_spec = output_spec(result, recorder)
        if recorder.refusals:
            self._stay_eager(plan, "; ".join(recorder.refusals))
            return result
        recording = Recording(recorder, result_spec, inputs)
        plan.recordings.append(recording)
        if len(plan.recordings) == 2:
            difference = plan.recordings[0].first_difference(recording)
            if difference is not None:
                self._stay_eager(plan, difference)
            else:
                plan.replay, plan.source, plan.progress = compile_replay(plan.recordings[0])
                plan.leaf_data = plan.recordings[0].leaf_data
                plan.modes = plan.recordings[0].modes
            plan.recordings = []
        return result

    def _stay_eager(self, plan: _Plan, reason: str) -> None:
        plan.eager_reason = reason
        plan.recordings = []
        self._give_up(reason)

    def _give_up(self, reason: str) -> None:
        message = f"compile_step({getattr(self.fn, '__name__', 'fn')}): runs eagerly, not replayed: {reason}"
        if self.strict:
            raise ReplayError(message)
        warnings.warn(message, ReplayWarning, stacklevel=4)


def compile_step(fn: Callable | None = None, *, strict: bool = False) -> Any:
    """Record the primitive calls of a step function and replay them over arrays on later calls.

    Use it as ``step = autograd.compile_step(fn)`` or as a decorator (``@compile_step`` or
    ``@compile_step(strict=True)``). ``fn`` takes Tensors, ndarrays and other (hashable)
    arguments, typically runs a forward pass and ``loss.backward()``, and returns a Tensor (or
    a tuple, list or dict of them, or None). The first two calls with a signature (argument
    shapes and dtypes, non-array arguments, grad mode) run eagerly and record; when their
    tapes agree, later calls replay, bit-identical to eager mode. See `CompiledStep` for when a
    step is replayable.

    Args:
        fn: the step function.
        strict: raise `ReplayError` where the step cannot be replayed, instead of warning with
            `ReplayWarning` and running it eagerly.

    Returns:
        A `CompiledStep` (or, called with only ``strict``, a decorator that makes one).
    """
    if fn is None:
        return lambda f: CompiledStep(f, strict=strict)
    return CompiledStep(fn, strict=strict)


def _still_valid(plan: _Plan) -> bool:
    """The leaves' arrays and the modules' modes are those the tape was recorded with."""
    for tensor_ref, data in plan.leaf_data:
        tensor = tensor_ref()
        if tensor is None or tensor.data is not data:
            return False
    for owner, training in plan.modes:
        if owner.training is not training:
            return False
    return True


def _keyable(value: Any) -> bool:
    """Whether an argument can be part of a signature: an array, a Tensor or a hashable value."""
    if isinstance(value, (Tensor, np.ndarray)):
        return True
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _signature(args: tuple) -> tuple | None:
    """The key a recording is valid for; None when an argument cannot be part of a key."""
    parts: list = [grad_mode.enabled]
    for a in args:
        if isinstance(a, Tensor):
            data = a.data
            parts.append(("T", data.shape, data.dtype.str, data.flags.c_contiguous, a._node is not None))
        elif a.__class__ is _ndarray:
            parts.append(("A", a.shape, a.dtype.str, a.flags.c_contiguous))
        else:
            try:
                hash(a)
            except TypeError:
                return None
            parts.append(("V", type(a), a))
    return tuple(parts)
