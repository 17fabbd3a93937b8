"""What every workload shares: the `Workload` record, the `Impl` interface, initial weights,
the hand-written NumPy optimizers, loading weights into gradwire and PyTorch, the replayed
variant of a gradwire step (`replayed`), comparing results.

A workload builds one `Init` (float64 weights and data, from a seed) and hands it to each
implementation, which casts it to the dtype being measured (float32 for timing, float64 for
``--check``). So the three implementations of a workload always start from the same numbers.

PyTorch is optional: `torch_or_none` imports it on first use and answers None when it is
not installed; nothing here imports it at module level.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

# ───────────── workloads and implementations ─────────────


@dataclass
class Init:
    """The starting point of a step: ``config``, float64 ``params`` by (gradwire) name, and ``data``."""

    config: dict[str, Any]
    params: dict[str, np.ndarray]
    data: dict[str, np.ndarray]


class Impl:
    """One implementation of a workload's step (forward, loss, backward and, where the workload has one, update).

    Subclasses build everything in ``__init__(init, dtype)`` and implement `step`; after a
    step, `grads` and `params` give that step's gradients and the updated parameters as
    float arrays keyed by gradwire's parameter names (plus ``"input"`` for an input gradient).

    A gradwire implementation runs its step as ``zero_grad``; ``loss = self._forward_backward(*batch)``
    (the forward pass, the loss and ``backward()``, returning the loss or output Tensor); the
    optimizer update. `replayed` builds its ``"replay"`` twin by sending that middle call
    through `autograd.compile_step`.
    """

    name = "?"
    #: steps timing runs before anything else, whatever ``--warmup`` says (a replayed step records twice)
    min_warmup = 0

    def step(self) -> None:
        """Run one step."""
        raise NotImplementedError

    def loss_value(self) -> float:
        """The loss of the last step (for a workload without a scalar loss: a summary of its output)."""
        raise NotImplementedError

    def grads(self) -> dict[str, np.ndarray]:
        """The gradients computed by the last step."""
        raise NotImplementedError

    def params(self) -> dict[str, np.ndarray]:
        """The parameters after the last step."""
        raise NotImplementedError

    def graph_nodes(self) -> int | None:
        """How many operations one step records (gradwire only; None elsewhere)."""
        return None


@dataclass(frozen=True)
class Workload:
    """A benchmark: a named training step, its sizes, and its implementations.

    Attributes:
        key: short name (``"W1"``).
        title: what the step is, in one line.
        target: the goal for the ratio gradwire / hand-written NumPy (same run, float32, one thread).
        replay_target: the goal for the ratio replay / hand-written NumPy, where the issue sets
            one (None elsewhere): gradwire with its forward and backward replayed by
            `autograd.compile_step`, the optimizer still eager (see `replayed`).
        sizes: ``"full"`` (the benchmark) and ``"small"`` (fast enough for the test suite) configs.
        make_init: ``(config, seed) -> Init``.
        impls: implementation classes by name: ``"numpy"``, ``"gradwire"``, ``"replay"``
            (``replayed(<the gradwire class>)``), ``"torch"``.
        note: a line printed under the table (what a choice in the workload means).
        describe: ``config -> str``, the sizes in a few words (for the table and the JSON).
        check_size: the size ``--check`` uses in place of ``"full"``, where the full size
            makes a weak check (W6: a long chain's gradient underflows to exactly zero).
    """

    key: str
    title: str
    target: float
    sizes: dict[str, dict[str, Any]]
    make_init: Callable[[dict[str, Any], int], Init]
    impls: dict[str, type[Impl]]
    note: str = ""
    describe: Callable[[dict[str, Any]], str] | None = None
    check_size: str | None = None
    replay_target: float | None = None

    def config(self, size: str) -> dict[str, Any]:
        """The config of ``size`` (``"full"`` or ``"small"``)."""
        if size not in self.sizes:
            raise ValueError(f"{self.key}: unknown size {size!r}; use one of {sorted(self.sizes)}")
        return dict(self.sizes[size])

    def build(self, impl: str, init: Init, dtype: Any) -> Impl:
        """Implementation ``impl`` started from ``init`` in ``dtype``."""
        return self.impls[impl](init, np.dtype(dtype))


# ───────────── initial weights and data ─────────────


def init_params(shapes: dict[str, tuple[int, ...]], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random float64 weights for named shapes, PyTorch-like in scale.

    2-D ``*emb.weight``: N(0, 1). Other weights of 2 or more axes ``(out, in, ...)`` (linear
    and convolution weights): U(-1/sqrt(fan_in), 1/sqrt(fan_in)), ``fan_in`` the product of
    all axes but the first. 1-D ``weight`` (LayerNorm scales): 1 + U(-0.1, 0.1), not ones, so
    that their gradients are exercised. 1-D biases: U(-0.1, 0.1).
    """
    params = {}
    for name, shape in shapes.items():
        if len(shape) == 2 and name.endswith("emb.weight"):
            params[name] = rng.standard_normal(shape)
        elif len(shape) >= 2:
            bound = 1.0 / np.sqrt(math.prod(shape[1:]))
            params[name] = rng.uniform(-bound, bound, size=shape)
        elif name.endswith("weight"):
            params[name] = 1.0 + rng.uniform(-0.1, 0.1, size=shape)
        else:
            params[name] = rng.uniform(-0.1, 0.1, size=shape)
    return params


def cast(arrays: dict[str, np.ndarray], dtype: Any) -> dict[str, np.ndarray]:
    """Fresh copies of float ``arrays`` in ``dtype`` (integer arrays are copied unchanged)."""
    return {k: np.array(v, dtype=dtype if v.dtype.kind == "f" else v.dtype) for k, v in arrays.items()}


# ───────────── hand-written NumPy optimizers (PyTorch's update rules) ─────────────
#
# Both work on ONE flat parameter array and ONE flat gradient array: a baseline keeps every
# parameter as a view into a single buffer (see `flat_views`), so an update is a handful of
# ufunc calls over all the weights at once instead of a handful per parameter, and writes
# into preallocated scratch (``out=``) instead of allocating a temporary per operation.
# Hyper-parameters are 0-d arrays of the parameters' dtype: the same float32 arithmetic as
# Python floats (NEP 50), without NumPy converting a Python scalar on every call, and never
# a NumPy float64 scalar (which would promote float32 arrays).


def flat_views(shapes: dict[str, tuple[int, ...]], flat: np.ndarray) -> dict[str, np.ndarray]:
    """Views of ``flat`` with the given shapes, laid end to end in order (C-contiguous each)."""
    views, offset = {}, 0
    for name, shape in shapes.items():
        size = math.prod(shape)
        views[name] = flat[offset : offset + size].reshape(shape)
        offset += size
    if offset != flat.size:
        raise ValueError(f"flat_views: the shapes hold {offset} numbers, the buffer {flat.size}")
    return views


def _scalar(value: float, dtype: np.dtype) -> np.ndarray:
    return np.array(value, dtype=dtype)


class NumpySGD:
    """Plain SGD, ``p -= lr * g``, on a flat parameter buffer, in place."""

    def __init__(self, lr: float, params: np.ndarray) -> None:
        self.lr = _scalar(lr, params.dtype)
        self.tmp = np.empty_like(params)

    def update(self, params: np.ndarray, grads: np.ndarray) -> None:
        np.multiply(grads, self.lr, self.tmp)  # out passed positionally: W1's whole step is ~10 µs
        np.subtract(params, self.tmp, params)


class NumpyAdam:
    """Adam as ``torch.optim.Adam`` (and gradwire's ``nn.optim.Adam``) computes it, on a flat buffer, in place.

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g²``, then
    ``p -= step_size * m / (sqrt(v) / sqrt(1 - b2**t) + eps)`` with ``step_size = lr / (1 - b1**t)``.
    That last line runs as ``p -= m / (sqrt(v) * c + e)`` with ``c = 1 / (sqrt(1 - b2**t) * step_size)``
    and ``e = eps / step_size``: the same value with the step size folded into the denominator,
    so one pass and one division fewer over the parameters: 12 passes in all, none allocating.
    """

    def __init__(
        self, lr: float, params: np.ndarray, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        self.lr, self.eps = lr, eps
        self.beta1, self.beta2 = betas
        dtype = params.dtype
        self.b1, self.b2 = _scalar(self.beta1, dtype), _scalar(self.beta2, dtype)
        self.c1, self.c2 = _scalar(1.0 - self.beta1, dtype), _scalar(1.0 - self.beta2, dtype)
        self.t = 0
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self.tmp = np.empty_like(params)

    def update(self, params: np.ndarray, grads: np.ndarray) -> None:
        self.t += 1
        m, v, tmp, dtype = self.m, self.v, self.tmp, params.dtype
        step_size = self.lr / (1.0 - self.beta1**self.t)  # Python floats: no NumPy float64 scalar anywhere
        sqrt_bc2 = math.sqrt(1.0 - self.beta2**self.t)
        m *= self.b1
        np.multiply(grads, self.c1, out=tmp)
        m += tmp
        v *= self.b2
        np.multiply(grads, grads, out=tmp)
        tmp *= self.c2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp *= _scalar(1.0 / (sqrt_bc2 * step_size), dtype)
        tmp += _scalar(self.eps / step_size, dtype)
        np.divide(m, tmp, out=tmp)
        params -= tmp


# ───────────── gradwire ─────────────


def load_gradwire(module: Any, params: dict[str, np.ndarray], dtype: Any) -> None:
    """Give a gradwire module the weights ``params`` (names and shapes must match exactly) in ``dtype``."""
    named = dict(module.named_parameters())
    if set(named) != set(params):
        only_gradwire, only_here = sorted(set(named) - set(params)), sorted(set(params) - set(named))
        raise RuntimeError(
            f"gradwire's parameter names differ from the benchmark's: only in gradwire {only_gradwire}, "
            f"only in the benchmark {only_here}"
        )
    for name, p in named.items():
        if p.data.shape != params[name].shape:
            raise RuntimeError(f"{name}: gradwire has shape {p.data.shape}, the benchmark {params[name].shape}")
        p.data = np.array(params[name], dtype=dtype)


def replayed(eager: type[Impl], strict: bool = True) -> type[Impl]:
    """The ``"replay"`` implementation of the gradwire implementation ``eager``.

    The same model, data and optimizer, and the same ``step``; only ``self._forward_backward``
    (forward, loss and ``backward()``: see `Impl`) becomes ``autograd.compile_step(...)`` of
    itself, made once per instance. Its first two calls run eagerly and record, later ones
    replay the recorded primitive calls over arrays (bit-identical to eager mode). ``zero_grad``
    and the optimizer update stay outside, eager: they change arrays in place, which a
    recording cannot hold. ``min_warmup`` makes timing start after the two recording calls.

    Args:
        eager: a gradwire `Impl` whose step calls ``self._forward_backward(*batch)``.
        strict: raise `autograd.ReplayError` (instead of warning and staying eager) when the
            step cannot be replayed.

    Returns:
        A subclass of ``eager`` named ``"replay"``, with ``compiled`` (the `autograd.CompiledStep`),
        ``replays`` (how many of its calls replayed so far) and ``strict``.
    """
    import autograd

    strict_replay = strict

    class Replayed(eager):  # type: ignore[misc, valid-type]
        name = "replay"
        min_warmup = 3  # two recording calls, then one replay (which builds nothing, but warms caches)
        strict = strict_replay

        def __init__(self, init: Init, dtype: np.dtype) -> None:
            super().__init__(init, dtype)
            self.compiled = autograd.compile_step(self._forward_backward, strict=strict)
            self._forward_backward = self.compiled  # the instance attribute shadows the method

        @property
        def replays(self) -> int:
            return self.compiled.replays

    Replayed.__name__ = Replayed.__qualname__ = f"Replayed{eager.__name__}"
    Replayed.__module__ = eager.__module__
    Replayed.__doc__ = f"`{eager.__name__}` with its forward and backward replayed by `autograd.compile_step`."
    return Replayed


def gradwire_grads(module: Any) -> dict[str, np.ndarray]:
    return {name: np.array(p.grad.data) for name, p in module.named_parameters() if p.grad is not None}


def gradwire_params(module: Any) -> dict[str, np.ndarray]:
    return {name: np.array(p.data) for name, p in module.named_parameters()}


def count_nodes(output: Any) -> int | None:
    """The number of recorded operations behind a gradwire tensor (None if the engine's layout changed)."""
    try:
        from autograd.engine import topological_order

        return sum(1 for node in topological_order([output.grad_fn]) if node.prim is not None)
    except Exception:  # an internal API: the count is information, never a reason to fail
        return None


# ───────────── PyTorch (optional) ─────────────

_torch: Any = False  # False: not looked for yet; None: not installed


def torch_or_none() -> Any:
    """The ``torch`` module, or None when it is not installed."""
    global _torch
    if _torch is False:
        try:
            import torch
        except ImportError:
            _torch = None
        else:
            _torch = torch
    return _torch


def torch_dtype(dtype: np.dtype) -> Any:
    torch = torch_or_none()
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[np.dtype(dtype)]


def load_torch(module: Any, params: dict[str, np.ndarray], dtype: np.dtype) -> None:
    """Convert a torch module to ``dtype`` and copy ``params`` into it (names must match gradwire's)."""
    torch = torch_or_none()
    module.to(torch_dtype(dtype))
    named = dict(module.named_parameters())
    if set(named) != set(params):
        raise RuntimeError(
            f"torch parameter names differ: {sorted(set(named) ^ set(params))} (the benchmark's torch model is wrong)"
        )
    with torch.no_grad():
        for name, p in named.items():
            p.copy_(torch.from_numpy(np.array(params[name], dtype=dtype)))


def torch_grads(module: Any) -> dict[str, np.ndarray]:
    return {name: p.grad.detach().numpy().copy() for name, p in module.named_parameters() if p.grad is not None}


def torch_params(module: Any) -> dict[str, np.ndarray]:
    return {name: p.detach().numpy().copy() for name, p in module.named_parameters()}


# ───────────── comparing two implementations ─────────────


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max|a - b| / max|b|: the worst difference relative to the array's scale (0 when both are zero)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return 0.0 if np.array_equal(a, b, equal_nan=True) else float("inf")
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    if scale == 0.0:
        return 0.0 if diff == 0.0 else float("inf")
    return diff / scale


def worst(items: Iterable[tuple[str, float]]) -> tuple[str, float]:
    """The (name, error) pair with the largest error (``("-", 0.0)`` for none)."""
    best = ("-", 0.0)
    for name, err in items:
        if err > best[1] or best[0] == "-":
            best = (name, err)
    return best


def compare(reference: Impl, other: Impl) -> dict[str, Any]:
    """Errors of ``other`` against ``reference`` after one step each: loss, every gradient, every parameter."""
    ref_g, oth_g = reference.grads(), other.grads()
    ref_p, oth_p = reference.params(), other.params()
    missing = sorted((set(ref_g) ^ set(oth_g)) | (set(ref_p) ^ set(oth_p)))
    loss_ref, loss_oth = reference.loss_value(), other.loss_value()
    loss_err = abs(loss_oth - loss_ref) / max(abs(loss_ref), 1e-300) if loss_ref != loss_oth else 0.0
    grad_name, grad_err = worst((n, relative_error(oth_g[n], ref_g[n])) for n in ref_g if n in oth_g)
    param_name, param_err = worst((n, relative_error(oth_p[n], ref_p[n])) for n in ref_p if n in oth_p)
    return {
        "loss": loss_err,
        "grad": grad_err,
        "grad_name": grad_name,
        "param": param_err,
        "param_name": param_name,
        "missing": missing,
        "n_grads": len(ref_g),
    }
