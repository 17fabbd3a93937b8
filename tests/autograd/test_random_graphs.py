"""Random compositions of primitives, their gradients checked against finite differences.

The `graphs` strategy draws a small program: one or two input leaves of random shapes, then
2 to 8 operations, each applied to one of the latest values (and, for binary ops, matmul and
concatenation, to a partner: an earlier value, itself, or a fresh leaf of a fitting shape).
The operations cover unary elementwise math, binary ops under broadcasting (ndarray
constants on either side included), reductions over axes with keepdims, softmax and
logsumexp, reshape, transpose, indexing (slices with steps, integers, repeated integer
arrays, masks), broadcast_to, concatenate and stack, and matmul in its 1-D, 2-D and batched
forms. Every value that no later step consumes is an output, so every op is checked.

Inputs are drawn from [-3, 3], and each op keeps its values in a domain where it is smooth:
log sees x*x + 1 or sigmoid(x) or exp(x) + 1, sqrt sees x*x + 1, divisors are x*x + 1, pow's
base is x*x + 1. Ops with kinks (relu, abs, clip, max, min) are left to the table-driven
tests in test_ops.py, whose strategies keep away from the kinks. A bound on every value's
magnitude is carried along and an op is only drawn while its result stays below
`MAX_BOUND` (exp only of values below 4), so finite differences stay accurate; values keep
at most `MAX_SIZE` elements so that gradcheck can perturb every element.

`test_random_graphs_first_order` checks 600 programs per run with `autograd.gradcheck` and
`test_random_graphs_second_order` 150 smaller ones (2 to 5 ops, sides up to 3) with
`autograd.gradgradcheck`; under CI the hypothesis profile in conftest.py derandomizes both.
A failure prints the program, e.g.::

    x0 = leaf (2, 3): [[ 0. ,  1.5, -2. ], [ 0.3,  0. ,  1. ]]
    v1 = softmax(x0, 0)
    x1 = leaf (3,): [ 0.5, -1. ,  2. ]
    v3 = a/(b*b+1) with a, b = v1, x1
    v4 = logsumexp(v3, (1,), True)
    outputs: v4
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd import Tensor
from autograd.testing import arrays

MAX_SIZE = 64  # elements per value
MAX_BOUND = 100.0  # largest |value| an op may produce for inputs in [-3, 3]
MAX_LEAVES = 4
INPUT_BOUND = 3.0


# ───────────────────────────── the program ─────────────────────────────


@dataclass(frozen=True)
class Step:
    """One operation: ``op`` applied to earlier values (by index) with constant attributes."""

    op: str
    args: tuple[int, ...]
    attrs: tuple = ()


def _show(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return np.array2string(value, separator=", ", precision=3).replace("\n", "")
    if isinstance(value, slice):
        return ":".join("" if v is None else str(v) for v in (value.start, value.stop, value.step)).rstrip(":")
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


@dataclass
class Graph:
    """A drawn program: leaf shapes and values, the steps, and which values are outputs."""

    leaf_shapes: list[tuple[int, ...]]
    leaf_values: list[np.ndarray]
    leaf_index: list[int]  # the value index of each leaf
    steps: list[Step | None]  # None where the value is a leaf
    outputs: tuple[int, ...]

    def inputs(self) -> list[Tensor]:
        """Fresh float64 leaves that require grad, one per input."""
        return [Tensor(v.copy(), requires_grad=True) for v in self.leaf_values]

    def __call__(self, *leaves: Tensor) -> tuple[Tensor, ...]:
        values: list[Tensor | None] = [None] * len(self.steps)
        for position, index in enumerate(self.leaf_index):
            values[index] = leaves[position]
        for index, step in enumerate(self.steps):
            if step is not None:
                values[index] = APPLY[step.op](*(values[a] for a in step.args), *step.attrs)
        return tuple(values[i] for i in self.outputs)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how hypothesis prints a failing example
        printer.text(repr(self))

    def __repr__(self) -> str:
        names = [f"x{self.leaf_index.index(i)}" if s is None else f"v{i}" for i, s in enumerate(self.steps)]
        lines = []
        for i, step in enumerate(self.steps):
            if step is None:
                position = self.leaf_index.index(i)
                value = np.array2string(self.leaf_values[position], separator=", ", floatmode="unique")
                lines.append(f"{names[i]} = leaf {self.leaf_shapes[position]}: {value}".replace("\n", ""))
            elif step.op in ("unary", "binary"):  # a formula: "v3 = a/(b*b+1) with a, b = v1, x1"
                variables = "x" if step.op == "unary" else "a, b"
                operands = ", ".join(names[a] for a in step.args)
                lines.append(f"{names[i]} = {step.attrs[0]} with {variables} = {operands}")
            else:
                args = ", ".join([names[a] for a in step.args] + [_show(a) for a in step.attrs])
                lines.append(f"{names[i]} = {step.op}({args})")
        lines.append("outputs: " + ", ".join(names[i] for i in self.outputs))
        return "\n" + "\n".join(lines)


@dataclass
class Builder:
    """The program while it is drawn: every value's shape and magnitude bound."""

    shapes: list[tuple[int, ...]] = field(default_factory=list)
    bounds: list[float] = field(default_factory=list)
    steps: list[Step | None] = field(default_factory=list)
    leaves: list[int] = field(default_factory=list)

    def leaf(self, shape: tuple[int, ...]) -> int:
        self.leaves.append(len(self.shapes))
        return self._append(None, tuple(shape), INPUT_BOUND)

    def can_add_leaf(self, shape: tuple[int, ...]) -> bool:
        return len(self.leaves) < MAX_LEAVES and math.prod(shape) <= MAX_SIZE

    def add(self, step: Step, shape: tuple[int, ...], bound: float) -> int:
        return self._append(step, tuple(shape), bound)

    def _append(self, step: Step | None, shape: tuple[int, ...], bound: float) -> int:
        self.steps.append(step)
        self.shapes.append(shape)
        self.bounds.append(bound)
        return len(self.shapes) - 1


def fits(shape: tuple[int, ...], bound: float) -> bool:
    return math.prod(shape) <= MAX_SIZE and bound <= MAX_BOUND and len(shape) <= 4


# ───────────────────────────── how each op runs ─────────────────────────────

UNARY: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[float], float]]] = {
    # formula in x: (function, bound of the result given the bound b of x)
    "-x": (lambda x: -x, lambda b: b),
    "tanh(x)": (lambda x: x.tanh(), lambda b: min(b, 1.0)),
    "sigmoid(x)": (lambda x: x.sigmoid(), lambda b: 1.0),
    "sin(x)": (lambda x: x.sin(), lambda b: min(b, 1.0)),
    "cos(x)": (lambda x: x.cos(), lambda b: 1.0),
    "exp(x)": (lambda x: x.exp(), lambda b: math.exp(b) if b <= 4 else math.inf),
    "exp(-x*x)": (lambda x: (-(x * x)).exp(), lambda b: 1.0),
    "exp(sin(x))": (lambda x: x.sin().exp(), lambda b: math.e),
    "log(x*x+1)": (lambda x: (x * x + 1.0).log(), lambda b: math.log(b * b + 1)),
    "log(sigmoid(x))": (lambda x: ag.log(x.sigmoid()), lambda b: b + 1.0),
    "log(exp(x)+1)": (lambda x: (x.exp() + 1.0).log(), lambda b: b + 1.0 if b <= 30 else math.inf),
    "sqrt(x*x+1)": (lambda x: (x * x + 1.0).sqrt(), lambda b: b + 1.0),
    "x**2": (lambda x: x**2, lambda b: b * b),
    "x**3": (lambda x: x**3, lambda b: b**3),
    "(x*x+1)**-0.5": (lambda x: (x * x + 1.0) ** -0.5, lambda b: 1.0),
    "2-x": (lambda x: 2.0 - x, lambda b: b + 2.0),
    "1/(x*x+1)": (lambda x: 1.0 / (x * x + 1.0), lambda b: 1.0),
    "x-mean(x)+var(x)": (lambda x: x - x.mean() + x.var(), lambda b: b * b + 2 * b),
}

BINARY: dict[str, tuple[Callable[[Tensor, Tensor], Tensor], Callable[[float, float], float]]] = {
    # formula in a and b (broadcast together): (function, bound of the result given the bounds p, q of a, b)
    "a+b": (lambda a, b: a + b, lambda p, q: p + q),
    "a-b": (lambda a, b: a - b, lambda p, q: p + q),
    "a*b": (lambda a, b: a * b, lambda p, q: p * q),
    "a/(b*b+1)": (lambda a, b: a / (b * b + 1.0), lambda p, q: p),
    "(a*a+1)**tanh(b)": (lambda a, b: (a * a + 1.0) ** b.tanh(), lambda p, q: p * p + 1.0),
}


def _apply_unary(x: Tensor, name: str) -> Tensor:
    return UNARY[name][0](x)


def _apply_binary(a: Tensor, b: Tensor, name: str) -> Tensor:
    return BINARY[name][0](a, b)


def _apply_array_left(x: Tensor, constant: np.ndarray, op: str) -> Tensor:
    """An ndarray on the left of an operator: NumPy defers to the Tensor's reflected method."""
    if op == "+":
        return constant + x
    if op == "-":
        return constant - x
    return constant * x


APPLY: dict[str, Callable[..., Tensor]] = {
    "unary": _apply_unary,
    "binary": _apply_binary,
    "where": lambda a, b, mask: ag.where(mask, a, b),
    "array-left": _apply_array_left,
    "array-right": lambda x, constant: x * constant + constant,
    "sum": lambda x, axis, keepdims: x.sum(axis, keepdims),
    "mean": lambda x, axis, keepdims: x.mean(axis, keepdims),
    "var": lambda x, axis, keepdims: x.var(axis, keepdims),
    "logsumexp": lambda x, axis, keepdims: x.logsumexp(axis, keepdims),
    "softmax": lambda x, axis: x.softmax(axis),
    "log_softmax": lambda x, axis: x.log_softmax(axis),
    "reshape": lambda x, shape: x.reshape(shape),
    "transpose": lambda x, axes: x.transpose(axes),
    "getitem": lambda x, index: x[index],
    "broadcast_to": lambda x, shape: x.broadcast_to(shape),
    "concatenate": lambda a, b, axis: ag.concatenate([a, b, a], axis),
    "stack": lambda a, b, axis: ag.stack([a, b], axis),
    "matmul": lambda a, b: a @ b,
    "gram": lambda x: x @ x.mT,
}


# ───────────────────────────── how each op is drawn ─────────────────────────────

# Each planner chooses, with the generator, the attributes of one op applied to value i and
# appends the step, or returns without one when the result would be too large.


def choice(rng: np.random.Generator, options: list | tuple) -> Any:
    return options[int(rng.integers(len(options)))]


def coin(rng: np.random.Generator) -> bool:
    return bool(rng.integers(2))


def plan_unary(rng: np.random.Generator, g: Builder, i: int) -> None:
    b = g.bounds[i]
    name = choice(rng, [n for n, (_, bound) in UNARY.items() if bound(b) <= MAX_BOUND])
    g.add(Step("unary", (i,), (name,)), g.shapes[i], UNARY[name][1](b))


def _partner_shape(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts with ``shape``: leading dimensions dropped or added, some sides set to 1."""
    drop = int(rng.integers(len(shape) + 1))
    kept = [1 if coin(rng) else s for s in shape[drop:]]
    lead = [int(rng.integers(1, 4))] if drop == 0 and len(shape) < 3 and coin(rng) else []
    return tuple(lead + kept)


def _broadcasts(a: tuple, b: tuple) -> bool:
    try:
        return fits(np.broadcast_shapes(a, b), 0)
    except ValueError:
        return False


def _broadcast_partner(rng: np.random.Generator, g: Builder, i: int) -> int:
    """A fresh leaf whose shape broadcasts with value i's, or an earlier value that does (i itself included)."""
    if coin(rng):
        shape = _partner_shape(rng, g.shapes[i])
        if g.can_add_leaf(shape) and _broadcasts(shape, g.shapes[i]):
            return g.leaf(shape)
    return choice(rng, [j for j in range(len(g.shapes)) if _broadcasts(g.shapes[i], g.shapes[j])])


def plan_binary(rng: np.random.Generator, g: Builder, i: int) -> None:
    j = _broadcast_partner(rng, g, i)
    a, b = (i, j) if coin(rng) else (j, i)
    shape = np.broadcast_shapes(g.shapes[a], g.shapes[b])
    name = choice(rng, [n for n, (_, bound) in BINARY.items() if bound(g.bounds[a], g.bounds[b]) <= MAX_BOUND])
    g.add(Step("binary", (a, b), (name,)), shape, BINARY[name][1](g.bounds[a], g.bounds[b]))


def plan_where(rng: np.random.Generator, g: Builder, i: int) -> None:
    j = _broadcast_partner(rng, g, i)
    shape = np.broadcast_shapes(g.shapes[i], g.shapes[j])
    g.add(Step("where", (i, j), (rng.random(shape) < 0.5,)), shape, max(g.bounds[i], g.bounds[j]))


def plan_array(rng: np.random.Generator, g: Builder, i: int) -> None:
    shape = _partner_shape(rng, g.shapes[i])
    out = np.broadcast_shapes(shape, g.shapes[i])
    if fits(out, 0):
        constant = np.round(rng.uniform(-1.0, 1.0, shape), 3)
        if coin(rng):
            g.add(Step("array-left", (i,), (constant, choice(rng, "+-*"))), out, g.bounds[i] + 1.0)
        else:
            g.add(Step("array-right", (i,), (constant,)), out, g.bounds[i] + 1.0)


def _axes(rng: np.random.Generator, ndim: int) -> Any:
    """None, an int (negative allowed) or a tuple of distinct axes (negative ones too)."""
    kind = choice(rng, ["none", "int", "tuple"]) if ndim else "none"
    if kind == "none":
        return None
    if kind == "int":
        return int(rng.integers(-ndim, ndim))
    chosen = rng.permutation(ndim)[: int(rng.integers(1, ndim + 1))]
    return tuple(int(a) - ndim if coin(rng) else int(a) for a in chosen)


def plan_reduction(rng: np.random.Generator, g: Builder, i: int) -> None:
    shape, b = g.shapes[i], g.bounds[i]
    axis, keepdims = _axes(rng, len(shape)), coin(rng)
    out = np.zeros(shape).sum(axis=axis, keepdims=keepdims).shape
    count = math.prod(shape) // max(math.prod(out), 1)
    bounds = {"sum": b * count, "mean": b, "var": b * b, "logsumexp": b + math.log(max(count, 1))}
    fitting = [n for n, bound in bounds.items() if bound <= MAX_BOUND]
    if not fitting:  # every reduction of this value could grow past the bound
        return
    name = choice(rng, fitting)
    g.add(Step(name, (i,), (axis, keepdims)), out, bounds[name])


def plan_softmax(rng: np.random.Generator, g: Builder, i: int) -> None:
    shape, b = g.shapes[i], g.bounds[i]
    axis = int(rng.integers(-len(shape), len(shape)))
    log_bound = 2 * b + math.log(shape[axis])
    name = choice(rng, ["softmax", "log_softmax"] if log_bound <= MAX_BOUND else ["softmax"])
    g.add(Step(name, (i,), (axis,)), shape, 1.0 if name == "softmax" else log_bound)


def _factorizations(size: int, max_dims: int = 3) -> list[tuple[int, ...]]:
    """Every shape of at most ``max_dims`` dimensions with ``size`` elements (0-d for size 1)."""
    found = [()] if size == 1 else []

    def grow(prefix: tuple, rest: int) -> None:
        if len(prefix) == max_dims:
            return
        for d in range(1, rest + 1):
            if rest % d == 0:
                if d == rest:
                    found.append(prefix + (d,))
                grow(prefix + (d,), rest // d)

    grow((), size)
    return sorted(set(found))


def plan_reshape(rng: np.random.Generator, g: Builder, i: int) -> None:
    shape = choice(rng, _factorizations(math.prod(g.shapes[i])))
    g.add(Step("reshape", (i,), (shape,)), shape, g.bounds[i])


def plan_transpose(rng: np.random.Generator, g: Builder, i: int) -> None:
    shape = g.shapes[i]
    axes = tuple(int(a) for a in rng.permutation(len(shape)))
    g.add(Step("transpose", (i,), (axes,)), tuple(shape[a] for a in axes), g.bounds[i])


def _index_part(rng: np.random.Generator, side: int) -> Any:
    """One axis of an index: a slice (with a step, maybe negative), an int, or an integer array with repeats."""
    kind = choice(rng, ["slice", "int", "array"])
    if kind == "int":
        return int(rng.integers(-side, side))
    if kind == "array":
        return rng.integers(-side, side, size=int(rng.integers(1, 5)))
    return slice(int(rng.integers(side)), None, choice(rng, [1, 2, -1, -2]))  # starts inside: never empty


def plan_getitem(rng: np.random.Generator, g: Builder, i: int) -> None:
    shape = g.shapes[i]
    if coin(rng):  # a boolean mask over the first axis, never empty
        index: Any = rng.random(shape[0]) < 0.5
        index[rng.integers(shape[0])] = True
    else:
        parts = [_index_part(rng, side) for side in shape[: int(rng.integers(1, len(shape) + 1))]]
        first_array = next((k for k, p in enumerate(parts) if isinstance(p, np.ndarray)), None)
        # one integer array per index: NumPy would pair several up elementwise
        parts = [slice(None) if isinstance(p, np.ndarray) and k != first_array else p for k, p in enumerate(parts)]
        index = tuple(parts) if len(parts) > 1 or coin(rng) else parts[0]
    out = np.zeros(shape)[index].shape
    if fits(out, 0):
        g.add(Step("getitem", (i,), (index,)), out, g.bounds[i])


def plan_broadcast_to(rng: np.random.Generator, g: Builder, i: int) -> None:
    shape = g.shapes[i]
    stretched = tuple(int(rng.integers(1, 4)) if s == 1 else s for s in shape)
    out = (int(rng.integers(1, 4)),) + stretched if coin(rng) else stretched
    if fits(out, 0) and out != shape:
        g.add(Step("broadcast_to", (i,), (out,)), out, g.bounds[i])


def _joins(other: tuple, shape: tuple, axis: int) -> bool:
    """Whether ``other`` matches ``shape`` on every axis but ``axis``."""
    keep = [k for k in range(len(shape)) if k != axis % len(shape)]
    return len(other) == len(shape) and all(other[k] == shape[k] for k in keep)


def plan_join(rng: np.random.Generator, g: Builder, i: int) -> None:
    shape = g.shapes[i]
    if coin(rng):  # stack with a value of the same shape along a new axis
        axis = int(rng.integers(len(shape) + 1))
        j = choice(rng, [j for j in range(len(g.shapes)) if g.shapes[j] == shape])
        out = shape[:axis] + (2,) + shape[axis:]
        if fits(out, 0):
            g.add(Step("stack", (i, j), (axis,)), out, max(g.bounds[i], g.bounds[j]))
        return
    axis = int(rng.integers(-len(shape), len(shape)))  # concatenate [value, partner, value] along it
    partner = shape[: axis % len(shape)] + (int(rng.integers(1, 4)),) + shape[axis % len(shape) + 1 :]
    if coin(rng) and g.can_add_leaf(partner):
        j = g.leaf(partner)
    else:
        j = choice(rng, [j for j in range(len(g.shapes)) if _joins(g.shapes[j], shape, axis)])
    out = list(shape)
    out[axis] = 2 * shape[axis] + g.shapes[j][axis]
    if fits(tuple(out), 0):
        g.add(Step("concatenate", (i, j), (axis,)), tuple(out), max(g.bounds[i], g.bounds[j]))


def plan_matmul(rng: np.random.Generator, g: Builder, i: int) -> None:
    shape, b = g.shapes[i], g.bounds[i]
    if len(shape) >= 2 and coin(rng):  # x @ x^T: the same tensor on both sides
        out, bound = shape[:-1] + (shape[-2],), b * b * shape[-1]
        if fits(out, bound):
            g.add(Step("gram", (i,), ()), out, bound)
        return
    k = shape[-1]
    m = int(rng.integers(1, 4))
    right = choice(rng, [(k,), (k, m)] + ([(1, k, m)] if len(shape) >= 2 else []))  # vector, matrix, batch of one
    fitting = [j for j in range(len(g.shapes)) if g.shapes[j] == right]
    if g.can_add_leaf(right) and (not fitting or coin(rng)):
        j = g.leaf(right)
    elif fitting:
        j = choice(rng, fitting)
    else:
        return
    out, bound = np.matmul(np.zeros(shape), np.zeros(right)).shape, b * g.bounds[j] * k
    if fits(out, bound):
        g.add(Step("matmul", (i, j), ()), out, bound)


PLANNERS: dict[str, tuple[int, Callable[[tuple], bool], Callable[[np.random.Generator, Builder, int], None]]] = {
    # name: (weight, accepts a value of this shape, planner)
    "unary": (4, lambda s: True, plan_unary),
    "binary": (3, lambda s: True, plan_binary),
    "where": (1, lambda s: True, plan_where),
    "array": (1, lambda s: True, plan_array),
    "reduction": (2, lambda s: True, plan_reduction),
    "softmax": (2, lambda s: len(s) >= 1, plan_softmax),
    "reshape": (1, lambda s: True, plan_reshape),
    "transpose": (1, lambda s: len(s) >= 2, plan_transpose),
    "getitem": (2, lambda s: len(s) >= 1, plan_getitem),
    "broadcast_to": (1, lambda s: True, plan_broadcast_to),
    "join": (1, lambda s: len(s) >= 1, plan_join),
    "matmul": (2, lambda s: len(s) >= 1, plan_matmul),
}


def plan_step(rng: np.random.Generator, g: Builder, i: int) -> None:
    """Choose a kind of op that accepts value i (by weight) and let its planner add the step."""
    kinds = [(weight, plan) for weight, accepts, plan in PLANNERS.values() if accepts(g.shapes[i])]
    weights = np.array([w for w, _ in kinds], dtype=float)
    kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))][1](rng, g, i)


def _leaf_shape(rng: np.random.Generator, min_dims: int, max_side: int) -> tuple[int, ...]:
    return tuple(int(s) for s in rng.integers(1, max_side + 1, size=int(rng.integers(min_dims, 4))))


@st.composite
def graphs(draw: st.DrawFn, min_ops: int = 2, max_ops: int = 8, max_side: int = 4) -> Graph:
    """A random program of ``min_ops`` to ``max_ops`` operations on one or two random leaves.

    Hypothesis draws one seed for the leaves and one per op, and the input values; each seed
    drives a NumPy generator that lays out its part of the program. (Drawing every choice
    from hypothesis directly gave skewed programs: it favours and repeats the first option of
    each choice, so chains of one op crowd out the rest.) Shrinking deletes ops from the
    program and then simplifies the input values.
    """
    seeds = draw(st.lists(st.integers(0, 2**32 - 1), min_size=min_ops + 1, max_size=max_ops + 1))
    rng = np.random.default_rng(seeds[0])
    g = Builder()
    g.leaf(_leaf_shape(rng, 1, max_side))
    if coin(rng):
        g.leaf(_leaf_shape(rng, 0, max_side))
    for seed in seeds[1:]:
        rng = np.random.default_rng(seed)
        before = len(g.steps) - len(g.leaves)
        while len(g.steps) - len(g.leaves) == before:  # a planner may decline (a result too large): draw again
            plan_step(rng, g, len(g.shapes) - 1 - int(rng.integers(min(3, len(g.shapes)))))  # on one of the latest
    consumed = {a for step in g.steps if step is not None for a in step.args}
    outputs = tuple(i for i, step in enumerate(g.steps) if step is not None and i not in consumed)
    values = [draw(arrays(g.shapes[i], domain="real")) for i in g.leaves]
    return Graph([g.shapes[i] for i in g.leaves], values, g.leaves, g.steps, outputs)


# ───────────────────────────── the properties ─────────────────────────────


@settings(max_examples=600, deadline=None)
@given(graph=graphs())
def test_random_graphs_first_order(graph):
    """Gradients of 600 random programs of 2-8 ops agree with central finite differences."""
    assert ag.gradcheck(graph, graph.inputs())


@settings(max_examples=150, deadline=None)
@given(graph=graphs(min_ops=2, max_ops=5, max_side=3))
def test_random_graphs_second_order(graph):
    """Second-order gradients of 150 random programs of 2-5 ops agree with finite differences."""
    assert ag.gradgradcheck(graph, graph.inputs())
