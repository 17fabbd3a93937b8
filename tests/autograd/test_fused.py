"""Every fused primitive against the composite of basic Tensor ops it replaces.

A fused op (``linear``, ``gelu``, ``mse_loss``, ``layer_norm``, ``cross_entropy``, ``attention``, and the
fused backward helpers reached through them and through ``tanh`` and ``sigmoid``) is one
node where the composite would be several. Each case below computes the same function both ways, in
float64 on hypothesis-drawn shapes, and checks that the values, the first-order gradients
and the second-order gradients (which run the fused backward helpers' own rules) agree.
A second test checks that the fused form really records a single node.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn.functional as F
from autograd import Tensor
from autograd.testing import arrays, shapes

GELU_C = math.sqrt(2.0 / math.pi)
RTOL, ATOL = 1e-9, 1e-10


@dataclass(frozen=True)
class FusedCase:
    """One fused op: the fused call, the composite call, and how its inputs' shapes are drawn."""

    name: str
    fused: Callable[..., Tensor]
    composite: Callable[..., Tensor]
    input_shapes: st.SearchStrategy[tuple]

    def __repr__(self) -> str:
        return self.name


@st.composite
def linear_shapes(draw: st.DrawFn, bias: bool) -> tuple:
    lead = draw(shapes(min_dims=0, max_dims=2))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    inputs = ((*lead, n_in), (n_out, n_in))
    return inputs + ((n_out,),) if bias else inputs


def same_shape(n: int) -> st.SearchStrategy[tuple]:
    return shapes().map(lambda s: (s,) * n)


def composite_gelu(x: Tensor) -> Tensor:
    return 0.5 * x * (1.0 + ((x + 0.044715 * x * x * x) * GELU_C).tanh())


def composite_tanh(x: Tensor) -> Tensor:
    e = (x * 2.0).exp()
    return (e - 1.0) / (e + 1.0)


def composite_mse(reduction: str) -> Callable[[Tensor, Tensor], Tensor]:
    def mse(a: Tensor, b: Tensor) -> Tensor:
        squares = (a - b) * (a - b)
        return {"mean": squares.mean, "sum": squares.sum, "none": lambda: squares}[reduction]()

    return mse


def composite_layer_norm(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    centred = x - x.mean(-1, keepdims=True)
    return centred * ((centred * centred).mean(-1, keepdims=True) + 1e-5) ** -0.5 * weight + bias


def targets_for(logits: Tensor, ignore_first: bool) -> np.ndarray:
    """Fixed class indices for (M, C) logits; with ``ignore_first``, row 0 is ignored (-100)."""
    rows, classes = logits.shape
    target = np.arange(rows) % classes
    if ignore_first:
        target[0] = -100
    return target


def composite_cross_entropy(logits: Tensor, target: np.ndarray, smoothing: float, reduction: str) -> Tensor:
    counted = target != -100
    logp = logits.log_softmax(-1)
    nll = -logp[np.arange(len(target)), np.where(counted, target, 0)]
    if smoothing:
        nll = nll * (1.0 - smoothing) + logp.mean(-1) * -smoothing
    nll = ag.where(counted, nll, 0.0)
    if reduction == "none":
        return nll
    return nll.sum() * (1.0 / counted.sum()) if reduction == "mean" else nll.sum()


def cross_entropy_case(smoothing: float, reduction: str, ignore_first: bool) -> FusedCase:
    def fused(logits: Tensor) -> Tensor:
        target = targets_for(logits, ignore_first)
        return F.cross_entropy(logits, target, label_smoothing=smoothing, reduction=reduction)

    def composite(logits: Tensor) -> Tensor:
        return composite_cross_entropy(logits, targets_for(logits, ignore_first), smoothing, reduction)

    rows = 2 if ignore_first else 1  # an ignored row and a counted one, so the mean is defined
    name = f"cross_entropy {reduction}, smoothing {smoothing}" + (", ignore_index" if ignore_first else "")
    return FusedCase(name, fused, composite, st.tuples(st.integers(rows, 4), st.integers(1, 4)).map(lambda s: (s,)))


@st.composite
def attention_shapes(draw: st.DrawFn) -> tuple:
    lead = draw(shapes(min_dims=0, max_dims=2, max_side=3))
    L, S, E, Ev = (draw(st.integers(1, 4)) for _ in range(4))
    return (*lead, L, E), (*lead, S, E), (*lead, S, Ev)


def composite_attention(causal: bool) -> Callable[..., Tensor]:
    def attend(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        scores = (q @ k.mT) * (1.0 / math.sqrt(q.shape[-1]))
        if causal:
            scores = ag.where(np.tril(np.ones(scores.shape[-2:], dtype=bool)), scores, -math.inf)
        return scores.softmax(-1) @ v

    return attend


CASES = [
    FusedCase(
        "attention",
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
        composite_attention(False),
        attention_shapes(),
    ),
    FusedCase(
        "attention causal",
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        composite_attention(True),
        attention_shapes(),
    ),
    FusedCase("linear", lambda *xs: ag.fused.linear(xs), lambda x, w: x @ w.T, linear_shapes(False)),
    FusedCase("linear with bias", lambda *xs: F.linear(*xs), lambda x, w, b: x @ w.T + b, linear_shapes(True)),
    FusedCase("gelu", ag.fused.gelu, composite_gelu, same_shape(1)),
    FusedCase("tanh (fused backward)", lambda x: x.tanh(), composite_tanh, same_shape(1)),
    FusedCase("sigmoid (fused backward)", lambda x: x.sigmoid(), lambda x: 1.0 / (1.0 + (-x).exp()), same_shape(1)),
    FusedCase(
        "layer_norm",
        lambda x, w, b: F.layer_norm(x, x.shape[-1], w, b),
        composite_layer_norm,
        shapes(min_dims=1).map(lambda s: (s, s[-1:], s[-1:])),
    ),
    cross_entropy_case(0.0, "mean", False),
    cross_entropy_case(0.2, "mean", True),
    cross_entropy_case(0.0, "sum", True),
    cross_entropy_case(0.1, "none", False),
    *[
        FusedCase(
            f"mse_loss {reduction}",
            lambda a, b, reduction=reduction: F.mse_loss(a, b, reduction=reduction),
            composite_mse(reduction),
            same_shape(2),
        )
        for reduction in ("mean", "sum", "none")
    ],
]


def draw_leaves(data: st.DataObject, case: FusedCase) -> list[Tensor]:
    input_shapes = data.draw(case.input_shapes, label="shapes")
    return [
        Tensor(data.draw(arrays(shape), label=f"input {i}"), requires_grad=True) for i, shape in enumerate(input_shapes)
    ]


def upstream(data: st.DataObject, like: Tensor, label: str) -> Tensor:
    return Tensor(data.draw(arrays(like.shape), label=label))


def assert_close(fused: Tensor | None, composite: Tensor | None, what: str) -> None:
    assert (fused is None) == (composite is None), what
    if fused is not None:
        assert fused.shape == composite.shape, what
        np.testing.assert_allclose(fused.data, composite.data, rtol=RTOL, atol=ATOL, err_msg=what)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_fused_op_matches_its_composite_in_value_and_first_and_second_order_gradients(
    case: FusedCase, data: st.DataObject
) -> None:
    leaves = draw_leaves(data, case)
    fused, composite = case.fused(*leaves), case.composite(*leaves)
    assert_close(fused, composite, "values")

    # squared, so that the upstream gradient reaching the fused node depends on the inputs too
    # and the second-order pass runs every position of the fused backward helpers' rules
    w = upstream(data, fused, "weights")
    fused_grads = ag.grad((fused * fused * w).sum(), leaves, create_graph=True, allow_unused=True)
    composite_grads = ag.grad((composite * composite * w).sum(), leaves, create_graph=True, allow_unused=True)
    for i, (a, b) in enumerate(zip(fused_grads, composite_grads)):
        assert_close(a, b, f"gradient of input {i}")

    # second order: differentiate <first-order gradients, v> again, through the fused helpers' rules
    used = [i for i, grad in enumerate(fused_grads) if grad is not None and grad.requires_grad]
    if not used:
        return  # a gradient that is constant in every input (linear's weight gradient in x, say): nothing to compare
    vs = [upstream(data, fused_grads[i], f"direction {i}") for i in used]

    def project(grads: tuple) -> Tensor:
        return sum(((grads[i] * v).sum() for i, v in zip(used, vs)), start=ag.tensor(0.0, dtype=np.float64))

    second_fused = ag.grad(project(fused_grads), leaves, allow_unused=True)
    second_composite = ag.grad(project(composite_grads), leaves, allow_unused=True)
    for i, (a, b) in enumerate(zip(second_fused, second_composite)):
        if a is None or b is None:  # an input the projection does not depend on, in one form
            other = b if a is None else a
            assert other is None or not np.any(other.data), f"second-order gradient of input {i}"
            continue
        assert_close(a, b, f"second-order gradient of input {i}")


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_fused_op_records_one_node_on_its_inputs(case: FusedCase) -> None:
    rng = np.random.default_rng(0)
    leaves = [Tensor(rng.standard_normal(shape), requires_grad=True) for shape in _fixed_shapes(case)]
    out = case.fused(*leaves)
    if case.name.startswith("attention"):  # the weights are one node on q and k, their product with v a matmul
        weights, v_node = out.grad_fn.parents
        assert weights.name == "attention_weights" and v_node is leaves[2]._node
        assert list(weights.parents) == [leaves[0]._node, leaves[1]._node]
        return
    if case.name == "layer_norm":  # the standardization is one node; the scale and shift are a mul and an add
        assert [p.name for p in out.grad_fn.parents] == ["mul", "leaf"]
        out = out.grad_fn.parents[0].saved[0]
        leaves = leaves[:1]
    assert list(out.grad_fn.parents) == [leaf._node for leaf in leaves]


def _fixed_shapes(case: FusedCase) -> tuple:
    if case.name.startswith("linear"):
        return ((3, 2, 4), (5, 4), (5,)) if "bias" in case.name else ((3, 4), (5, 4))
    if case.name == "layer_norm":
        return ((3, 4), (4,), (4,))
    if case.name.startswith("attention"):
        return ((2, 3, 4), (2, 5, 4), (2, 5, 6))
    return ((2, 3),) * (2 if case.name.startswith("mse") else 1)


def test_linear_gradients_keep_each_inputs_dtype_when_dtypes_mix():
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((2, 4)), requires_grad=True)  # float64
    b = Tensor(rng.standard_normal(2).astype(np.float32), requires_grad=True)
    F.linear(x, w, b).sum().backward()
    assert (x.grad.dtype, w.grad.dtype, b.grad.dtype) == (np.float32, np.float64, np.float32)
    composite = [ag.tensor(t.data, requires_grad=True) for t in (x, w, b)]
    (composite[0] @ composite[1].T + composite[2]).sum().backward()
    for fused_leaf, composite_leaf in zip((x, w, b), composite):
        np.testing.assert_allclose(fused_leaf.grad.data, composite_leaf.grad.data, rtol=1e-6)


def test_layer_norm_of_empty_rows_is_empty_with_an_empty_gradient():
    x = Tensor(np.ones((2, 0)), requires_grad=True)
    y = F.layer_norm(x, (0,))
    y.sum().backward()
    assert y.shape == (2, 0) and x.grad.shape == (2, 0)
