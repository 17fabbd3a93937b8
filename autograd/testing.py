"""Property tests for gradients: hypothesis strategies and a one-call gradcheck property.

Strategies draw what gradient tests need: array shapes (`shapes`), shapes that broadcast
together (`broadcastable_shapes`) or multiply (`matmul_shapes`), float arrays whose values
stay in a domain and away from kinks (`arrays`) and Tensors built from them (`tensors`).
`gradcheck_property` turns a function and one strategy per argument into a test that
pytest collects and hypothesis shrinks to a minimal failing input::

    from autograd.testing import gradcheck_property, shapes, tensors

    def softplus(x):
        return (1 + x.exp()).log()

    test_softplus = gradcheck_property(softplus, tensors(shapes(), domain=(-3, 3)), second_order=True)

Named domains: "real" (-3, 3), "positive" (0.1, 3), "negative" (-3, -0.1), "nonzero"
(-3, 3) with |x| >= 0.1, "unit" (-0.9, 0.9) and "probability" (0.05, 0.95).

This module imports hypothesis (``pip install gradwire[testing]``); ``import autograd``
never loads it, so import it explicitly: ``from autograd.testing import ...``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from .gradcheck import gradcheck, gradgradcheck
from .tensor import Tensor

__all__ = ["arrays", "broadcastable_shapes", "gradcheck_property", "matmul_shapes", "shapes", "tensors"]

Shape = tuple[int, ...]
ShapeLike = int | Sequence[int] | st.SearchStrategy
Domain = str | tuple[float, float]

# name -> (lo, hi, points to keep away from, how far); the table in the module docstring
_DOMAINS: dict[str, tuple[float, float, tuple[float, ...], float]] = {
    "real": (-3.0, 3.0, (), 0.0),
    "positive": (0.1, 3.0, (), 0.0),
    "negative": (-3.0, -0.1, (), 0.0),
    "nonzero": (-3.0, 3.0, (0.0,), 0.1),
    "unit": (-0.9, 0.9, (), 0.0),
    "probability": (0.05, 0.95, (), 0.0),
}


# ───────────────────────────── shapes ─────────────────────────────


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy[Shape]:
    """Array shapes, from 0-d scalars up to ``max_dims`` dimensions.

    Args:
        min_dims, max_dims: bounds on the number of dimensions.
        min_side, max_side: bounds on the size of each dimension.

    Returns:
        A strategy of shape tuples.
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Tuples of shapes that broadcast together under NumPy's rules.

    The shapes may differ in rank and hold size-1 dimensions that stretch, e.g.
    ``((3, 1), (2, 1, 4))``. ``np.broadcast_shapes(*shapes)`` gives the result's shape.

    Args:
        num_shapes: how many shapes each example holds.
        min_dims, max_dims: bounds on each shape's number of dimensions.
        min_side, max_side: bounds on the size of the broadcast result's dimensions.

    Returns:
        A strategy of ``num_shapes``-tuples of shapes.
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda drawn: tuple(drawn.input_shapes))


def matmul_shapes(
    max_batch_dims: int = 2, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Pairs of shapes ``(a, b)`` for which ``a @ b`` is defined.

    Covers NumPy's matmul cases: matrix by matrix, 1-D operands on either or both sides
    (vector-matrix, matrix-vector, dot product), and stacks of matrices whose batch
    dimensions broadcast, e.g. ``((2, 1, 3, 4), (5, 4, 2))``.

    Args:
        max_batch_dims: most batch dimensions in front of the matrix dimensions.
        min_side, max_side: bounds on the size of every dimension.

    Returns:
        A strategy of shape pairs.
    """
    return hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, min_dims=0, max_dims=max_batch_dims, min_side=min_side, max_side=max_side
    ).map(lambda drawn: tuple(drawn.input_shapes))


# ───────────────────────────── values ─────────────────────────────


def _resolve_domain(domain: Domain, avoid: Sequence[float], min_gap: float) -> tuple[float, float, list]:
    """``(lo, hi, [(point, gap), ...])`` for a named or ``(lo, hi)`` domain plus the points to avoid."""
    if isinstance(domain, str):
        if domain not in _DOMAINS:
            raise ValueError(f"unknown domain {domain!r}; use one of {sorted(_DOMAINS)} or a (lo, hi) tuple")
        lo, hi, points, gap = _DOMAINS[domain]
        keep_away = [(p, gap) for p in points]
    else:
        lo, hi = (float(v) for v in domain)
        keep_away = []
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"a domain needs finite bounds lo < hi, got ({lo}, {hi})")
    keep_away += [(float(p), float(min_gap)) for p in avoid]
    return lo, hi, keep_away


def _allowed_intervals(lo: float, hi: float, keep_away: list) -> list[tuple[float, float]]:
    """The closed intervals left of [lo, hi] once every (point - gap, point + gap) is removed."""
    holes = sorted((p - g, p + g) for p, g in keep_away if g > 0)
    intervals = []
    start = lo
    for a, b in holes:
        if a > start:
            intervals.append((start, min(a, hi)))
        start = max(start, b)
        if start >= hi:
            break
    if start < hi:
        intervals.append((start, hi))
    intervals = [(a, b) for a, b in intervals if b > a]
    if not intervals:
        raise ValueError(f"nothing of the domain ({lo}, {hi}) is left once {keep_away} (point, gap) are avoided")
    return intervals


def _without_exact_points(values: np.ndarray, keep_away: list, lo: float, hi: float) -> np.ndarray:
    """Nudge values that equal an avoided point with no gap by one ulp, inward."""
    for p, g in keep_away:
        if g == 0:
            hit = values == p
            values[hit] = np.nextafter(p, hi if p < hi else lo)
    return values


class _Layout:
    """Maps a "virtual" coordinate in [0, total) onto the allowed intervals, in order.

    The map only translates each interval, so it is monotone and never brings two values
    closer: values spaced ``gap`` apart in virtual coordinates stay that far apart.
    """

    def __init__(self, intervals: list[tuple[float, float]]) -> None:
        self.starts = np.array([a for a, _ in intervals])
        self.stops = np.array([b for _, b in intervals])
        lengths = self.stops - self.starts
        self.ends = np.cumsum(lengths)
        self.offsets = self.ends - lengths
        self.total = float(self.ends[-1])
        # Put virtual 0 (what hypothesis shrinks towards) on the allowed value nearest 0.
        nearest = np.clip(0.0, self.starts, self.stops)
        k = int(np.argmin(np.abs(nearest)))
        self.origin = float(self.offsets[k] + nearest[k] - self.starts[k])

    def place(self, virtual: np.ndarray) -> np.ndarray:
        k = np.minimum(np.searchsorted(self.ends, virtual, side="left"), len(self.ends) - 1)
        return np.clip(self.starts[k] + (virtual - self.offsets[k]), self.starts[k], self.stops[k])


def _spread(virtual: np.ndarray, total: float, gap: float) -> np.ndarray:
    """Squeeze values in [0, total] so that, keeping their order, any two are at least ``gap`` apart."""
    n = virtual.size
    if n < 2:
        return virtual
    if (n - 1) * gap > total:
        raise ValueError(
            f"cannot draw {n} distinct values at least {gap} apart from a domain of total length {total:.3g}: "
            "use a smaller shape, a smaller min_gap or a wider domain"
        )
    order = np.argsort(virtual, kind="stable")
    spaced = np.empty(n)
    spaced[order] = virtual[order] * ((total - (n - 1) * gap) / total) + np.arange(n) * gap
    return spaced


def _as_shape_strategy(shape: ShapeLike) -> st.SearchStrategy:
    if isinstance(shape, st.SearchStrategy):
        return shape
    if isinstance(shape, (int, np.integer)):
        return st.just((int(shape),))
    return st.just(tuple(int(s) for s in shape))


def arrays(
    shape: ShapeLike,
    dtype: Any = np.float64,
    domain: Domain = "real",
    avoid: Sequence[float] = (),
    min_gap: float = 0.01,
    distinct: bool = False,
) -> st.SearchStrategy[np.ndarray]:
    """Float arrays whose values lie in ``domain`` and keep clear of kinks.

    Values are placed by construction, not by filtering, so hypothesis never rejects
    examples: the parts of the domain within ``min_gap`` of an avoided point are cut out
    and the rest is laid end to end. With ``distinct``, values are also spread so that any
    two are at least ``min_gap`` apart (no tied maxima). Gaps hold up to rounding to ``dtype``.

    Args:
        shape: a shape tuple, an int (1-D) or a strategy of shapes (such as `shapes()`).
        dtype: a floating-point dtype (float64 by default, as gradcheck wants).
        domain: a ``(lo, hi)`` tuple or a name: "real" (-3, 3), "positive" (0.1, 3),
            "negative" (-3, -0.1), "nonzero" (-3, 3) with |x| >= 0.1, "unit" (-0.9, 0.9),
            "probability" (0.05, 0.95).
        avoid: points every value keeps at least ``min_gap`` away from, such as 0 for
            ``relu`` and ``abs`` or the bounds of a ``clip``.
        min_gap: the distance kept from avoided points and, with ``distinct``, between values.
            Only used with ``avoid`` or ``distinct``; the default 0.01 is far above
            gradcheck's finite-difference step.
        distinct: keep all values of one array at least ``min_gap`` apart.

    Returns:
        A strategy of ndarrays of ``dtype``.
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"arrays draws floating-point arrays, not {dtype}")
    if min_gap < 0 or (distinct and min_gap == 0):
        raise ValueError(f"min_gap must be >= 0 (> 0 with distinct=True), got {min_gap}")
    lo, hi, keep_away = _resolve_domain(domain, avoid, min_gap)
    layout = _Layout(_allowed_intervals(lo, hi, keep_away))
    gap = float(min_gap) if distinct else 0.0
    elements = st.floats(
        -layout.origin, layout.total - layout.origin, allow_nan=False, allow_infinity=False, allow_subnormal=False
    )

    def build(drawn: np.ndarray) -> np.ndarray:
        virtual = np.clip(drawn.reshape(-1) + layout.origin, 0.0, layout.total)
        if distinct:
            virtual = _spread(virtual, layout.total, gap)
        values = _without_exact_points(layout.place(virtual), keep_away, lo, hi)
        return values.reshape(drawn.shape).astype(dtype)

    return _as_shape_strategy(shape).flatmap(lambda s: hnp.arrays(np.float64, s, elements=elements).map(build))


def tensors(
    shape_or_strategy: ShapeLike | None = None,
    dtype: Any = np.float64,
    domain: Domain = "real",
    requires_grad: bool = True,
    **array_kwargs: Any,
) -> st.SearchStrategy[Tensor]:
    """Tensors whose values are drawn by `arrays`.

    Args:
        shape_or_strategy: a shape tuple, an int (1-D) or a strategy of shapes; None means `shapes()`.
        dtype: a floating-point dtype (float64 by default, as gradcheck wants).
        domain: as for `arrays`: a ``(lo, hi)`` tuple or a domain name.
        requires_grad: make each tensor a leaf that requires grad.
        **array_kwargs: ``avoid``, ``min_gap``, ``distinct``, passed to `arrays`.

    Returns:
        A strategy of Tensors.
    """
    shape = shapes() if shape_or_strategy is None else shape_or_strategy
    return arrays(shape, dtype=dtype, domain=domain, **array_kwargs).map(
        lambda array: Tensor(array, requires_grad=requires_grad)
    )


# ───────────────────────────── the property ─────────────────────────────


def _label(func: Callable) -> str:
    """A readable name for ``func``: ``Softplus.apply`` for a Function, ``softplus``, ``<lambda>``."""
    owner = getattr(func, "__self__", None)
    if isinstance(owner, type):
        return f"{owner.__name__}.{func.__name__}"
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or type(func).__name__


def gradcheck_property(
    func: Callable[..., Any],
    *arg_strategies: Any,
    second_order: bool = False,
    max_examples: int = 25,
    **gradcheck_kwargs: Any,
) -> Callable[[], None]:
    """A hypothesis test that ``func``'s gradients agree with finite differences.

    Assign the result to a ``test_...`` name and pytest collects it; it can also be called
    directly. Each example draws one value per argument, runs `autograd.gradcheck` (and
    `autograd.gradgradcheck` with ``second_order``) and lets `autograd.GradcheckError`
    propagate, so hypothesis shrinks the failure to a minimal input and reports it.

    Arguments whose shapes must agree share a drawn shape through ``st.shared``::

        pair = st.shared(broadcastable_shapes(), key="pair")
        test_mul = gradcheck_property(
            lambda a, b: a * b, tensors(pair.map(lambda s: s[0])), tensors(pair.map(lambda s: s[1]))
        )

    Args:
        func: maps the drawn arguments to a Tensor or a tuple of Tensors.
        *arg_strategies: one per positional argument of ``func``: a hypothesis strategy
            (usually `tensors`), or a plain value passed unchanged to every call (an axis,
            a constant tensor).
        second_order: also check second-order gradients with `autograd.gradgradcheck`.
        max_examples: how many examples hypothesis draws; the deadline is switched off
            and every other setting comes from the active hypothesis profile.
        **gradcheck_kwargs: passed to both checks (``eps``, ``atol``, ``rtol``, ...).

    Returns:
        A zero-argument test function.
    """
    strategies = [s if isinstance(s, st.SearchStrategy) else st.just(s) for s in arg_strategies]
    name = _label(func)

    def check(args: tuple) -> None:
        gradcheck(func, list(args), **gradcheck_kwargs)
        if second_order:
            gradgradcheck(func, list(args), **gradcheck_kwargs)

    # hypothesis keys its example database and derandomized seed on the function's name
    check.__name__ = check.__qualname__ = "gradcheck_property_" + re.sub(r"\W+", "_", name).strip("_")
    order = "first and second order" if second_order else "first order"
    check.__doc__ = f"{name}: gradients agree with finite differences ({order})."
    return settings(max_examples=max_examples, deadline=None)(given(args=st.tuples(*strategies))(check))
