"""Check gradients against central finite differences: `gradcheck`, `gradgradcheck`.

Both work in float64. The function's output is projected on random upstream gradients
(never all ones, so a rule that only gets sums right is still caught). For small inputs
every element is perturbed (the full Jacobian-vector product); for larger ones, random
directions are used. A failure report names the input, the worst element, the analytic
and numeric values and the tolerance, and then re-checks every recorded op's rule on its
own saved inputs to name the first op whose gradient is wrong.

Uses only the public graph interface (nodes, ``prim.backward``, ``prim.evaluate``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backprop import grad
from .engine import topological_order
from .graph import enable_grad, no_grad, state
from .tensor import Tensor, _make


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with finite differences."""


@dataclass
class _Mismatch:
    """Where and by how much an analytic gradient missed its numeric value."""

    where: str
    analytic: float
    numeric: float
    tolerance: float
    count: int
    total: int


def _as_args(inputs: Any) -> list:
    return [inputs] if isinstance(inputs, Tensor) else list(inputs)


def _outputs(result: Any) -> list[Tensor]:
    """The floating-point Tensor outputs of a function (a Tensor, or a sequence holding Tensors)."""
    items = [result] if isinstance(result, Tensor) else list(result) if isinstance(result, (tuple, list)) else []
    return [t for t in items if isinstance(t, Tensor) and t.dtype.kind == "f"]


def _prepare(inputs: Any, op: str) -> tuple[list, list[int]]:
    """float64 leaf copies of the inputs that require grad; the positions of those inputs."""
    args = _as_args(inputs)
    checked = []
    for i, a in enumerate(args):
        if isinstance(a, Tensor) and a.requires_grad:
            if a.dtype != np.float64:
                warnings.warn(
                    f"{op}: input {i} is {a.dtype}; checking a float64 copy, since finite differences are "
                    "only meaningful in float64 (pass float64 inputs to silence this)",
                    stacklevel=3,
                )
            args[i] = Tensor(a.data.astype(np.float64), requires_grad=True, name=a.name)
            checked.append(i)
    if not checked:
        raise ValueError(f"{op}: no input requires grad, so there is nothing to check")
    return args, checked


def _position(flat_index: int, shape: tuple) -> list[int]:
    return [int(i) for i in np.unravel_index(flat_index, shape)]


def _describe(args: list, i: int) -> str:
    a = args[i]
    label = f" {a.name!r}" if a.name else ""
    return f"input {i}{label} (shape {a.shape})"


def _numeric_projections(
    evaluate: Callable[[list], list], arrays: list, i: int, us: list, eps: float, directions: list | None
) -> np.ndarray:
    """Central differences of sum(u * out) for each upstream u: per element, or along directions.

    Returns an array of shape (len(us), n) with n the input's size (per element) or the
    number of directions.
    """
    x = arrays[i]
    steps = directions if directions is not None else None
    n = x.size if steps is None else len(steps)
    result = np.zeros((len(us), n))
    flat = x.reshape(-1)
    for j in range(n):
        original = x.copy() if steps is not None else flat[j]
        plus_minus = []
        for sign in (1.0, -1.0):
            if steps is None:
                flat[j] = original + sign * eps
            else:
                x[...] = original + sign * eps * steps[j]
            plus_minus.append(evaluate(arrays))
        if steps is None:
            flat[j] = original
        else:
            x[...] = original
        for k, u in enumerate(us):
            result[k, j] = sum(float(np.sum(uo * (p - m))) for uo, p, m in zip(u, *plus_minus)) / (2 * eps)
    return result


def _compare(analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float, where: Callable) -> _Mismatch | None:
    difference = np.abs(analytic - numeric)
    tolerance = atol + rtol * np.abs(numeric)
    excess = difference - tolerance
    if not np.all(excess <= 0) or not np.all(np.isfinite(analytic)):
        excess = np.where(np.isfinite(excess), excess, np.inf)
        worst = int(np.argmax(excess))
        return _Mismatch(
            where(worst),
            float(analytic[worst]),
            float(numeric[worst]),
            float(tolerance[worst]),
            int(np.sum(excess > 0)),
            analytic.size,
        )
    return None


def _check_first_order(
    func: Callable,
    args: list,
    checked: list[int],
    eps: float,
    atol: float,
    rtol: float,
    n_upstream: int,
    n_directions: int,
    full_limit: int,
    seed: int,
) -> str | None:
    """The failure report for the first input whose gradient is wrong, or None when all agree."""
    rng = np.random.default_rng(seed)
    leaves = [args[i] for i in checked]
    outputs = _outputs(func(*args))
    us = [[rng.standard_normal(o.shape) for o in outputs] for _ in range(n_upstream)]
    live = [k for k, o in enumerate(outputs) if o.requires_grad]
    analytic = []
    for u in us:
        if live:
            grads = grad(
                [outputs[k] for k in live],
                leaves,
                [_make(u[k].astype(outputs[k].dtype), None) for k in live],
                retain_graph=True,
                allow_unused=True,
            )
        else:
            grads = [None] * len(leaves)
        analytic.append(
            [np.zeros(x.shape) if g is None else np.asarray(g.data, dtype=np.float64) for g, x in zip(grads, leaves)]
        )

    def evaluate(arrays: list) -> list:
        new_args = list(args)
        for i, array in zip(checked, arrays):
            new_args[i] = _make(array, None)
        with no_grad():
            return [
                np.array(o.data, dtype=np.float64) for o in _outputs(func(*new_args))
            ]  # copies: outputs may be views

    arrays = [x.data.copy() for x in leaves]
    for position, (i, x) in enumerate(zip(checked, leaves)):
        if x.size <= full_limit:
            numeric = _numeric_projections(evaluate, arrays, position, us, eps, None)
            for k in range(n_upstream):
                miss = _compare(
                    analytic[k][position].reshape(-1),
                    numeric[k],
                    atol,
                    rtol,
                    lambda j, x=x: f"element {_position(j, x.shape)}" if x.shape else "the value",
                )
                if miss:
                    return _report(args, i, miss, k, n_upstream, seed)
        else:
            directions = [rng.standard_normal(x.shape) for _ in range(n_directions)]
            numeric = _numeric_projections(evaluate, arrays, position, us, eps, directions)
            for k in range(n_upstream):
                projected = np.array([np.sum(analytic[k][position] * d) for d in directions])
                miss = _compare(projected, numeric[k], atol, rtol, lambda j: f"random direction {j}")
                if miss:
                    return _report(args, i, miss, k, n_upstream, seed)
    return None


def _report(args: list, i: int, miss: _Mismatch, k: int, n_upstream: int, seed: int) -> str:
    return (
        f"the gradient of {_describe(args, i)} disagrees with central finite differences\n"
        f"  worst: {miss.where}: analytic {miss.analytic:.8g} vs numeric {miss.numeric:.8g} "
        f"(|difference| {abs(miss.analytic - miss.numeric):.3g} > tolerance {miss.tolerance:.3g})\n"
        f"  {miss.count} of {miss.total} checked values outside the tolerance, with random upstream "
        f"gradient {k + 1} of {n_upstream} (seed {seed})"
    )


def locate_wrong_rule(
    func: Callable, inputs: Any, eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-4, seed: int = 0
) -> str | None:
    """Re-check each op recorded by ``func(*inputs)`` on its own saved inputs, in forward order.

    Returns:
        A description of the first op whose gradient rule disagrees with finite differences
        of its own forward, or None when every rule agrees.
    """
    args, _ = _prepare(inputs, "locate_wrong_rule")
    with state.saving_all_inputs():  # every rule is re-run on its node's own inputs
        outputs = [o for o in _outputs(func(*args)) if o.requires_grad]
    rng = np.random.default_rng(seed)
    order = list(reversed(topological_order([o._node for o in outputs])))
    ops_only = [n for n in order if not n.is_leaf]
    for number, node in enumerate(ops_only, start=1):
        prim = node.prim
        tensors = prim.inputs(node)
        arrays = [np.array(t.data, dtype=np.float64) for t in tensors]
        out = np.asarray(prim.evaluate(tuple(arrays), node.attrs), dtype=np.float64)
        u = rng.standard_normal(out.shape)
        with no_grad():
            grads = prim.backward(node, _make(u.astype(out.dtype), None))
        for position, (parent, g, t) in enumerate(zip(node.parents, grads, tensors)):
            if parent is None:
                continue
            analytic = np.zeros(t.shape) if g is None else np.asarray(g.data, dtype=np.float64)

            def evaluate(arrs: list, prim: Any = prim, attrs: Any = node.attrs) -> list:
                return [np.array(prim.evaluate(tuple(arrs), attrs), dtype=np.float64)]  # a copy: views of arrs change

            numeric = _numeric_projections(evaluate, arrays, position, [[u]], eps, None)[0]
            miss = _compare(
                analytic.reshape(-1),
                numeric,
                atol,
                rtol,
                lambda j, t=t: f"element {_position(j, t.shape)}" if t.shape else "the value",
            )
            if miss:
                shapes = ", ".join(str(x.shape) for x in tensors)
                return (
                    f"op {prim.name!r} (op {number} of {len(ops_only)} in forward order, inputs of shapes {shapes}): "
                    f"its rule for input {position} is wrong at {miss.where}: analytic {miss.analytic:.8g} vs "
                    f"numeric {miss.numeric:.8g}"
                )
    return None


def gradcheck(
    func: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
    raise_exception: bool = True,
    n_upstream: int = 2,
    n_directions: int = 6,
    full_limit: int = 256,
    seed: int = 0,
    locate: bool = True,
) -> bool:
    """Check ``func``'s gradients with respect to every input that requires grad.

    Args:
        func: maps the inputs to a Tensor or a tuple of Tensors.
        inputs: a Tensor or a sequence of arguments; Tensors that require grad are checked
            (as float64 copies; float32 inputs give a warning).
        eps: finite-difference step.
        atol, rtol: a value passes when |analytic - numeric| <= atol + rtol * |numeric|.
        raise_exception: raise `GradcheckError` on failure (else return False).
        n_upstream: how many random upstream gradients to project the output on.
        n_directions: random directions for inputs larger than ``full_limit`` elements.
        full_limit: inputs up to this size are checked element by element.
        seed: seed of the random upstream gradients and directions.
        locate: on failure, re-check each recorded op to name the first wrong rule.

    Returns:
        True when every gradient agrees (False on failure if ``raise_exception`` is False).
    """
    args, checked = _prepare(inputs, "gradcheck")
    report = _check_first_order(func, args, checked, eps, atol, rtol, n_upstream, n_directions, full_limit, seed)
    if report is None:
        return True
    if locate:
        culprit = locate_wrong_rule(func, args, eps, atol, rtol, seed)
        report += "\n  " + (
            f"first wrong rule: {culprit}"
            if culprit
            else "every recorded op's rule agrees with finite differences on its own inputs: look at how the function "
            "combines them (a custom Function, or work done on .data outside the graph)"
        )
    if raise_exception:
        raise GradcheckError("gradcheck failed: " + report)
    return False


def gradgradcheck(
    func: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Sequence[Any] | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
    raise_exception: bool = True,
    seed: int = 0,
    **options: Any,
) -> bool:
    """Check second-order gradients: gradcheck of the map (inputs, upstream) -> first-order gradients.

    Args:
        func: maps the inputs to a Tensor or a tuple of Tensors.
        inputs: as for `gradcheck`.
        grad_outputs: upstream gradients for func's outputs (random normal when None).
        eps, atol, rtol, raise_exception, seed: as for `gradcheck`; other options pass through.

    Returns:
        True when the second-order gradients agree with finite differences of the first-order ones.
    """
    args, checked = _prepare(inputs, "gradgradcheck")
    outputs = _outputs(func(*args))
    rng = np.random.default_rng(seed + 1)
    if grad_outputs is None:
        upstream = [Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outputs]
    else:
        upstream = [
            Tensor(np.asarray(getattr(g, "data", g), dtype=np.float64), requires_grad=True) for g in grad_outputs
        ]
    n_args = len(args)

    def first_order(*everything: Any) -> tuple:
        call_args, us = list(everything[:n_args]), everything[n_args:]
        for i in checked:  # finite differences pass constants: make them leaves to differentiate
            if not call_args[i].requires_grad:
                call_args[i] = call_args[i].detach().requires_grad_()
        with enable_grad():
            return _first_order_grads(call_args, us)

    def _first_order_grads(call_args: list, us: Sequence[Tensor]) -> tuple:
        outs = _outputs(func(*call_args))
        live = [k for k, o in enumerate(outs) if o.requires_grad]
        leaves = [call_args[i] for i in checked]
        if not live:
            return tuple(Tensor(np.zeros(x.shape)) for x in leaves)
        grads = grad([outs[k] for k in live], leaves, [us[k] for k in live], create_graph=True, allow_unused=True)
        return tuple(Tensor(np.zeros(x.shape)) if g is None else g for g, x in zip(grads, leaves))

    return gradcheck(
        first_order,
        [*args, *upstream],
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        seed=seed,
        **options,
    )
