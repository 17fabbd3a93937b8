"""Numerical edge cases, property-tested in float32 and float64 with every NumPy warning an error.

Each test pins down one edge case: forward values and gradients are finite wherever the
mathematics is, agree with references written from the formulas (Python's ``math`` row by
row, or NumPy), and no ``RuntimeWarning`` reaches the user (``filterwarnings("error")``
below turns any warning into a failure). Tolerances are a few units of the dtype's epsilon,
scaled where the problem's own conditioning says so (a logsumexp near 1e4 in float32 is only
known to half an ulp of 1e4).

The behaviour decided here:

- softmax, log_softmax and logsumexp shift each row by its maximum, so logits of +-1e4 and
  spreads up to the dtype's largest finite number give exact one-hot limits, never inf - inf.
- A row that is entirely -inf (a fully masked attention row) has softmax 0, log_softmax
  -inf and logsumexp -inf, silently. Its gradient is finite: 0 through softmax and
  logsumexp, the upstream gradient itself through log_softmax (the normaliser of an empty
  row is a constant). PyTorch gives NaN there, and NaN would reach every other row through
  the matmul that built the scores; here the other rows' values and gradients are exactly
  what they would be without the dead row. ``nn.functional.scaled_dot_product_attention``
  gives such a row an output of zeros.
- Tied maxima and minima share the gradient evenly: a reduction splits it among the k tied
  entries (1/k each), ``maximum``/``minimum`` give each side half.
- sigmoid, tanh and softplus saturate at +-1000 to exact limits with zero (or one) slopes;
  exp(-1000) = 0 and exp(1000) = inf (its gradient inf too) without an overflow warning.
- log(x) for x down to the smallest normal number is finite with gradient 1/x; log(0) is
  -inf with gradient +inf, silently; log of a negative number is NaN and NumPy warns.
- layer_norm of a constant row is finite with finite gradients; the output is the bias up
  to the conditioning of normalising a row whose spread is rounding noise (|c| * eps /
  sqrt(layer-norm eps) for a row of c's), and the input gradient is
  (g*w - mean(g*w)) / sqrt(eps) up to the same.
"""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
from autograd import Tensor
from autograd.testing import arrays, broadcastable_shapes

pytestmark = pytest.mark.filterwarnings("error")
examples = settings(max_examples=40, deadline=None)  # per test and dtype: about 20 s for the whole module

DTYPES = [np.float32, np.float64]
WIDTH = {np.float32: 32, np.float64: 64}
FAMILY = ("softmax", "log_softmax", "logsumexp")


def eps(dtype) -> float:
    return float(np.finfo(dtype).eps)


def representable(value: float, dtype) -> float:
    """``value`` rounded to ``dtype`` (hypothesis wants float bounds that the width can hold)."""
    return float(dtype(value))


def cast(values, dtype) -> np.ndarray:
    """float64 reference values rounded to ``dtype`` (overflowing to inf, as the computation would)."""
    with np.errstate(over="ignore"):
        return np.asarray(values, dtype=np.float64).astype(dtype)


def grad_of(out: Tensor, x: Tensor, upstream: np.ndarray) -> np.ndarray:
    (g,) = ag.grad(out, x, [upstream.astype(out.dtype)])
    assert g.dtype == x.dtype
    return g.numpy()


def upstreams(shape, dtype) -> st.SearchStrategy[np.ndarray]:
    """Upstream gradients of moderate size, never zero (0 * inf would be NaN by definition)."""
    return arrays(shape, dtype=dtype, domain=(0.5, 2.0))


def logits_strategy(dtype, elements: st.SearchStrategy, max_rows: int = 3, max_cols: int = 6):
    shape = st.tuples(st.integers(1, max_rows), st.integers(1, max_cols))
    return shape.flatmap(lambda s: hnp.arrays(dtype, s, elements=elements))


def near_1e4(dtype) -> st.SearchStrategy[float]:
    width = WIDTH[dtype]
    return st.one_of(
        st.sampled_from([1e4, -1e4, 0.0]),
        st.floats(1e4 - 8, 1e4 + 8, width=width),
        st.floats(-1e4 - 8, -1e4 + 8, width=width),
    )


def huge(dtype) -> st.SearchStrategy[float]:
    """Values whose spread reaches the largest finite number (each within half of it)."""
    half = float(np.finfo(dtype).max) / 2
    return st.one_of(st.sampled_from([half, -half, 0.0]), st.floats(-half, half, width=WIDTH[dtype]))


# ───────────────────────────── references for the softmax family ─────────────────────────────


def reference_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """softmax, log_softmax and logsumexp of each row by the textbook formulas in Python floats.

    Each row is shifted by its max m: softmax_i = e_i / sum(e), e_i = exp(x_i - m);
    log_softmax_i = (x_i - m) - log(sum(e)); logsumexp = m + log(sum(e)), summed with
    math.fsum. A row of -inf gives 0, -inf and -inf (the behaviour this suite pins down).
    """
    softmax, log_softmax, lse = [], [], []
    for row in np.asarray(rows, dtype=np.float64).tolist():
        m = max(row)
        if m == -math.inf:
            softmax.append([0.0] * len(row))
            log_softmax.append([-math.inf] * len(row))
            lse.append(-math.inf)
            continue
        e = [math.exp(v - m) for v in row]
        total = math.fsum(e)
        softmax.append([v / total for v in e])
        log_softmax.append([(v - m) - math.log(total) for v in row])
        lse.append(m + math.log(total))
    return np.array(softmax), np.array(log_softmax), np.array(lse)


def reference_vjps(softmax: np.ndarray, u: np.ndarray, g_lse: np.ndarray) -> dict[str, np.ndarray]:
    """The vector-Jacobian products row by row: J^T u for softmax and log_softmax, g * softmax for logsumexp."""
    return {
        "softmax": softmax * (u - (u * softmax).sum(axis=-1, keepdims=True)),
        "log_softmax": u - softmax * u.sum(axis=-1, keepdims=True),
        "logsumexp": g_lse[:, None] * softmax,
    }


def check_family(x: np.ndarray, data: st.DataObject, axis: int = -1) -> None:
    """Values and gradients of softmax, log_softmax and logsumexp along ``axis`` against the references."""
    dtype = x.dtype.type
    rows = np.moveaxis(x, axis, -1)
    flat = rows.reshape(-1, rows.shape[-1])
    softmax, log_softmax, lse = reference_rows(flat)
    expected = {"softmax": softmax, "log_softmax": log_softmax, "logsumexp": lse}
    t = Tensor(x, requires_grad=True)
    u = data.draw(upstreams(rows.shape, dtype), label="upstream")
    g_lse = data.draw(upstreams(rows.shape[:-1], dtype), label="upstream of logsumexp")
    vjps = reference_vjps(softmax, u.reshape(flat.shape).astype(np.float64), g_lse.reshape(-1).astype(np.float64))
    tol = 16 * eps(dtype)
    for name in FAMILY:
        out = getattr(t, name)(axis)
        assert out.dtype == dtype
        if name == "logsumexp":
            got, upstream = out.numpy().reshape(-1), g_lse
        else:
            got, upstream = np.moveaxis(out.numpy(), axis, -1).reshape(flat.shape), np.moveaxis(u, -1, axis)
        np.testing.assert_allclose(got, cast(expected[name], dtype), rtol=tol, atol=tol, err_msg=name)
        g = np.moveaxis(grad_of(out, t, upstream), axis, -1).reshape(flat.shape)
        assert np.all(np.isfinite(g)), name
        np.testing.assert_allclose(g, vjps[name], rtol=tol, atol=tol * 2, err_msg=f"gradient of {name}")


# ───────────────────────────── softmax, log_softmax, logsumexp ─────────────────────────────


@pytest.mark.parametrize("dtype", DTYPES)
@examples
@given(data=st.data())
def test_softmax_family_at_logits_near_plus_minus_1e4(dtype, data):
    x = data.draw(logits_strategy(dtype, near_1e4(dtype)), label="logits")
    check_family(x, data)


@pytest.mark.parametrize("dtype", DTYPES)
@examples
@given(data=st.data())
def test_softmax_family_with_spreads_up_to_the_largest_float(dtype, data):
    x = data.draw(logits_strategy(dtype, huge(dtype)), label="logits")
    check_family(x, data)


@st.composite
def masked_logits(draw: st.DrawFn, dtype) -> tuple[np.ndarray, int]:
    """(2..3, 2..4, 2..4) logits with some entries and at least one whole row (along a drawn axis) at -inf."""
    shape = draw(st.tuples(st.integers(2, 3), st.integers(2, 4), st.integers(2, 4)))
    x = draw(arrays(shape, dtype=dtype, domain=(-30, 30)))
    axis = draw(st.sampled_from([0, 1, -1]))
    x[draw(hnp.arrays(bool, shape))] = -np.inf  # scattered masked entries
    rows = np.moveaxis(x, axis, -1)  # a view: writing to it writes to x
    dead = draw(hnp.arrays(bool, rows.shape[:-1]))
    dead.flat[draw(st.integers(0, dead.size - 1))] = True
    rows[dead] = -np.inf
    return x, axis


@pytest.mark.parametrize("dtype", DTYPES)
@examples
@given(data=st.data())
def test_softmax_family_with_rows_entirely_minus_inf(dtype, data):
    x, axis = data.draw(masked_logits(dtype), label="logits, axis")
    check_family(x, data, axis)


@pytest.mark.parametrize("dtype", DTYPES)
@examples
@given(data=st.data())
def test_logsumexp_over_several_axes_with_blocks_entirely_minus_inf(dtype, data):
    x = data.draw(arrays((2, 3, 4), dtype=dtype, domain=(-30, 30)), label="x")
    x[data.draw(st.integers(0, 1)), :, :] = -np.inf  # one whole block over axes (1, 2) is masked
    keepdims = data.draw(st.booleans(), label="keepdims")
    t = Tensor(x, requires_grad=True)
    out = t.logsumexp(axis=(1, 2), keepdims=keepdims)
    softmax, _, lse = reference_rows(x.reshape(2, 12))
    np.testing.assert_allclose(out.numpy().reshape(-1), cast(lse, dtype), rtol=16 * eps(dtype), atol=16 * eps(dtype))
    u = data.draw(upstreams(out.shape, dtype), label="upstream")
    expected = u.reshape(2, 1, 1) * softmax.reshape(x.shape)
    np.testing.assert_allclose(grad_of(out, t, u), expected, rtol=16 * eps(dtype), atol=16 * eps(dtype))


def attention(q: Tensor, k: Tensor, v: Tensor, keep: np.ndarray) -> Tensor:
    """Masked attention written with primitives: softmax(where(keep, q k^T / sqrt(E), -inf)) v."""
    scores = (q @ k.mT) * (1.0 / math.sqrt(q.shape[-1]))
    return ag.where(keep, scores, -math.inf).softmax(-1) @ v


@st.composite
def attention_case(draw: st.DrawFn, dtype) -> tuple:
    """q (L, E), k (S, E), v (S, E) and a boolean mask (L, S) whose fully masked ("dead") rows are some, not all."""
    L, S, E = draw(st.integers(2, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    q, k, v = (draw(arrays(shape, dtype=dtype)) for shape in ((L, E), (S, E), (S, E)))
    keep = draw(hnp.arrays(bool, (L, S)))
    dead = draw(hnp.arrays(bool, (L,)))
    gone, alive = draw(st.permutations(range(L)))[:2]
    dead[gone], dead[alive] = True, False
    keep[dead] = False
    keep[~dead, draw(st.integers(0, S - 1))] = True  # every live row sees at least one key
    return q, k, v, keep, dead


@pytest.mark.parametrize("dtype", DTYPES)
@examples
@given(data=st.data())
def test_fully_masked_rows_do_not_poison_other_rows(dtype, data):
    q, k, v, keep, dead = data.draw(attention_case(dtype), label="q, k, v, keep, dead")
    tq, tk, tv = (Tensor(a, requires_grad=True) for a in (q, k, v))
    out = attention(tq, tk, tv, keep)
    u = data.draw(upstreams(out.shape, dtype), label="upstream")
    grads = ag.grad(out, [tq, tk, tv], [u])
    assert np.all(out.numpy()[dead] == 0)
    for g in grads:
        assert np.all(np.isfinite(g.numpy()))
    assert np.all(grads[0].numpy()[dead] == 0)
    # the same attention with the dead rows left out: the other rows' values and every gradient agree
    live = ~dead
    sq, sk, sv = (Tensor(a, requires_grad=True) for a in (q[live], k, v))
    sub = attention(sq, sk, sv, keep[live])
    sub_grads = ag.grad(sub, [sq, sk, sv], [u[live]])
    tol = 64 * eps(dtype)
    np.testing.assert_allclose(out.numpy()[live], sub.numpy(), rtol=tol, atol=tol)
    for g, expected in zip((grads[0].numpy()[live], grads[1].numpy(), grads[2].numpy()), sub_grads):
        np.testing.assert_allclose(g, expected.numpy(), rtol=tol, atol=tol)
    if dtype == np.float64:  # and the gradients agree with finite differences
        assert ag.gradcheck(lambda a, b, c: attention(a, b, c, keep), [tq, tk, tv])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask_kind", ["bool", "float"])
@examples
@given(data=st.data())
def test_scaled_dot_product_attention_gives_fully_masked_rows_zeros(dtype, mask_kind, data):
    q, k, v, keep, dead = data.draw(attention_case(dtype), label="q, k, v, keep, dead")
    mask = keep if mask_kind == "bool" else np.where(keep, 0.0, -np.inf).astype(dtype)
    tq, tk, tv = (Tensor(a, requires_grad=True) for a in (q, k, v))
    out = nn.F.scaled_dot_product_attention(tq, tk, tv, attn_mask=mask)
    u = data.draw(upstreams(out.shape, dtype), label="upstream")
    grads = ag.grad(out, [tq, tk, tv], [u])
    assert np.all(out.numpy()[dead] == 0)
    for g in grads:
        assert np.all(np.isfinite(g.numpy()))
    assert np.all(grads[0].numpy()[dead] == 0)
    live = ~dead
    sub = nn.F.scaled_dot_product_attention(Tensor(q[live]), Tensor(k), Tensor(v), attn_mask=mask[live])
    np.testing.assert_allclose(out.numpy()[live], sub.numpy(), rtol=64 * eps(dtype), atol=64 * eps(dtype))


# ───────────────────────────── cross_entropy ─────────────────────────────


@pytest.mark.parametrize("dtype", DTYPES)
@examples
@given(data=st.data())
def test_cross_entropy_at_extreme_logits(dtype, data):
    big = representable(1e30, dtype)
    spread = st.floats(-big, big, width=WIDTH[dtype])
    logits = data.draw(logits_strategy(dtype, st.one_of(near_1e4(dtype), spread), max_rows=4), label="logits")
    n, c = logits.shape
    target = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)), label="target")
    x = Tensor(logits, requires_grad=True)
    loss = nn.F.cross_entropy(x, target, reduction="none")
    softmax, log_softmax, _ = reference_rows(logits)
    expected = -log_softmax[np.arange(n), target]  # loss_i = logsumexp(x_i) - x_i[target_i]
    tol = 16 * eps(dtype)
    np.testing.assert_allclose(loss.numpy(), cast(expected, dtype), rtol=tol, atol=tol)
    u = data.draw(upstreams((n,), dtype), label="upstream")
    onehot = np.eye(c)[target]
    np.testing.assert_allclose(grad_of(loss, x, u), u[:, None] * (softmax - onehot), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES)
@examples
@given(data=st.data())
def test_cross_entropy_with_classes_masked_to_minus_inf(dtype, data):
    logits = data.draw(arrays(st.tuples(st.integers(1, 4), st.integers(2, 5)), dtype=dtype), label="logits")
    n, c = logits.shape
    target = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)), label="target")
    masked = data.draw(hnp.arrays(bool, (n, c)), label="masked")
    masked[np.arange(n), target] = False  # the target class is never masked
    logits[masked] = -np.inf
    x = Tensor(logits, requires_grad=True)
    loss = nn.F.cross_entropy(x, target)
    softmax, log_softmax, _ = reference_rows(logits)
    tol = 16 * eps(dtype)
    np.testing.assert_allclose(loss.item(), -log_softmax[np.arange(n), target].mean(), rtol=tol, atol=tol)
    g = grad_of(loss, x, np.array(1.0))
    assert np.all(g[masked] == 0)
    np.testing.assert_allclose(g, (softmax - np.eye(c)[target]) / n, rtol=tol, atol=tol)


# ───────────────────────────── ties ─────────────────────────────

TIE_VALUES = [-np.inf, -1e4, -1.0, 0.0, 1.0, 1e4, np.inf]


@st.composite
def tied_case(draw: st.DrawFn, dtype) -> tuple[np.ndarray, tuple, bool]:
    """A (2..3, 2..3, 2..3) array of few distinct values (ties everywhere), reduced axes and keepdims."""
    shape = draw(st.tuples(*[st.integers(2, 3)] * 3))
    values = draw(st.lists(st.sampled_from(TIE_VALUES), min_size=1, max_size=3, unique=True))
    x = draw(hnp.arrays(dtype, shape, elements=st.sampled_from(values)))
    axes = tuple(sorted(draw(st.sets(st.integers(0, 2), min_size=1, max_size=3))))
    return x, axes, draw(st.booleans())


def shared_gradient(x: np.ndarray, axes: tuple, g: np.ndarray, pick) -> np.ndarray:
    """Row by row over the reduced axes: g split evenly among the entries equal to pick(row)."""
    rest = tuple(i for i in range(x.ndim) if i not in axes)
    moved = np.transpose(x, rest + axes)
    rows = moved.reshape(-1, math.prod(x.shape[a] for a in axes))
    out = np.zeros(rows.shape)
    for r, (row, gr) in enumerate(zip(rows.tolist(), np.reshape(g, -1).tolist())):
        winners = [i for i, v in enumerate(row) if v == pick(row)]
        for i in winners:
            out[r, i] = gr / len(winners)
    return np.transpose(out.reshape(moved.shape), np.argsort(rest + axes))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["max", "min"])
@examples
@given(data=st.data())
def test_max_and_min_reductions_share_tied_extremes_evenly(dtype, method, data):
    x, axes, keepdims = data.draw(tied_case(dtype), label="x, axes, keepdims")
    t = Tensor(x, requires_grad=True)
    out = getattr(t, method)(axis=axes, keepdims=keepdims)
    expected = getattr(np, method)(x, axis=axes, keepdims=keepdims)
    np.testing.assert_array_equal(out.numpy(), expected)
    u = data.draw(upstreams(out.shape, dtype), label="upstream")
    g = grad_of(out, t, u)
    pick = max if method == "max" else min
    np.testing.assert_allclose(g, shared_gradient(x, axes, u, pick), rtol=4 * eps(dtype))
    np.testing.assert_allclose(g.sum(), u.sum(), rtol=16 * eps(dtype))  # nothing lost, nothing doubled


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a gradient of the broadcast shape back to ``shape`` (leading axes, then stretched ones)."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["maximum", "minimum"])
@examples
@given(data=st.data())
def test_maximum_and_minimum_split_ties_in_half(dtype, op, data):
    sa, sb = data.draw(broadcastable_shapes(), label="shapes")
    values = st.sampled_from([-1e4, -1.0, 0.0, 1.0, 1e4])
    a, b = (data.draw(hnp.arrays(dtype, s, elements=values)) for s in (sa, sb))
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = getattr(ag, op)(ta, tb)
    np.testing.assert_array_equal(out.numpy(), getattr(np, op)(a, b))
    u = data.draw(upstreams(out.shape, dtype), label="upstream")
    ga, gb = ag.grad(out, [ta, tb], [u])
    wins_a = (a > b) if op == "maximum" else (a < b)
    share_a = np.where(a == b, 0.5, wins_a.astype(float))  # broadcast shape
    np.testing.assert_allclose(ga.numpy(), unbroadcast(u * share_a, sa), rtol=16 * eps(dtype))
    np.testing.assert_allclose(gb.numpy(), unbroadcast(u * (1 - share_a), sb), rtol=16 * eps(dtype))


# ───────────────────────────── saturating functions at +-1000 ─────────────────────────────


def wide(dtype) -> st.SearchStrategy[np.ndarray]:
    """1-D arrays over [-1000, 1000], the ends and the overflow thresholds of exp included."""
    width = WIDTH[dtype]
    elements = st.one_of(
        st.sampled_from([-1000.0, 1000.0, 0.0, -88.5, 88.5, 89.0, -710.0, 709.0, 710.0, 20.0, 20.5]),
        st.floats(-1000, 1000, width=width),
        st.floats(-30, 30, width=width),
    )
    return hnp.arrays(dtype, st.integers(1, 12), elements=elements)


def sigmoid_and_slope(v: float) -> tuple[float, float]:
    e = math.exp(-abs(v))  # never overflows
    s = 1 / (1 + e) if v >= 0 else e / (1 + e)
    return s, e / (1 + e) ** 2


def tanh_and_slope(v: float) -> tuple[float, float]:
    e = math.exp(-2 * abs(v))
    return math.tanh(v), 4 * e / (1 + e) ** 2  # 1 - tanh**2 = 1 / cosh**2


def exp_and_slope(v: float) -> tuple[float, float]:
    value = math.exp(v) if v < 709.78 else math.inf
    return value, value


def softplus_and_slope(v: float) -> tuple[float, float]:
    if v > 20:  # PyTorch's linear region (threshold 20)
        return v, 1.0
    return math.log1p(math.exp(v)), sigmoid_and_slope(v)[0]


SATURATING = {
    "sigmoid": (lambda t: t.sigmoid(), sigmoid_and_slope, 0.25),
    "tanh": (lambda t: t.tanh(), tanh_and_slope, 1.0),
    "exp": (lambda t: t.exp(), exp_and_slope, None),
    "softplus": (nn.F.softplus, softplus_and_slope, 1.0),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", SATURATING)
@examples
@given(data=st.data())
def test_saturating_functions_at_plus_minus_1000(dtype, name, data):
    fn, reference, max_slope = SATURATING[name]
    x = data.draw(wide(dtype), label="x")
    t = Tensor(x, requires_grad=True)
    out = fn(t)
    values, slopes = (np.array(column) for column in zip(*[reference(v) for v in x.astype(np.float64).tolist()]))
    e, tiny = eps(dtype), float(np.finfo(dtype).tiny)
    np.testing.assert_allclose(out.numpy(), cast(values, dtype), rtol=8 * e, atol=4 * e if max_slope else tiny)
    u = data.draw(upstreams(x.shape, dtype), label="upstream")
    g = grad_of(out, t, u)
    expected = cast(u.astype(np.float64) * cast(slopes, dtype), dtype)  # the slope in the dtype (e**89: inf), times u
    assert np.array_equal(np.isfinite(g), np.isfinite(expected)), "finite exactly where the slope is representable"
    # an absolute error of eps * (largest slope) is what rounding the value to 1 - tiny costs
    atol = 8 * e * max_slope * 2 if max_slope else tiny
    np.testing.assert_allclose(g, expected, rtol=16 * e, atol=atol)


# ───────────────────────────── log near 0 ─────────────────────────────


@pytest.mark.parametrize("dtype", DTYPES)
@examples
@given(data=st.data())
def test_log_near_zero(dtype, data):
    tiny = float(np.finfo(dtype).tiny)
    top = representable(1e-3, dtype)
    elements = st.one_of(st.sampled_from([tiny, 1e-30]), st.floats(tiny, top, width=WIDTH[dtype]))
    x = data.draw(hnp.arrays(dtype, st.integers(1, 8), elements=elements), label="x")
    t = Tensor(x, requires_grad=True)
    out = t.log()
    expected = [math.log(v) for v in x.astype(np.float64).tolist()]
    np.testing.assert_allclose(out.numpy(), cast(expected, dtype), rtol=4 * eps(dtype))
    u = data.draw(upstreams(x.shape, dtype), label="upstream")
    g = grad_of(out, t, u)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, cast(u / x.astype(np.float64), dtype), rtol=4 * eps(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_of_zero_is_minus_inf_with_an_infinite_gradient(dtype):
    t = Tensor(np.array([0.0, 1.0], dtype=dtype), requires_grad=True)
    out = t.log()
    np.testing.assert_array_equal(out.numpy(), [-np.inf, 0.0])
    np.testing.assert_array_equal(grad_of(out, t, np.array([2.0, 3.0])), [np.inf, 3.0])
    np.testing.assert_array_equal(grad_of(t.log(), t, np.array([-2.0, 3.0])), [-np.inf, 3.0])


def test_log_of_a_negative_number_warns_and_gives_nan():
    with pytest.warns(RuntimeWarning, match="invalid value encountered in log"):
        out = Tensor(np.array([-1.0, 1.0])).log()
    assert np.isnan(out.numpy()[0]) and out.numpy()[1] == 0.0


# ───────────────────────────── layer_norm of constant rows ─────────────────────────────

LN_EPS = 1e-5


@pytest.mark.parametrize("dtype", DTYPES)
@examples
@given(data=st.data())
def test_layer_norm_of_constant_rows(dtype, data):
    constant = st.one_of(st.sampled_from([0.0, 1.0, -1e4, 1e4, 1e-30]), st.floats(-1e4, 1e4, width=WIDTH[dtype]))
    rows, n = data.draw(st.integers(1, 3), label="rows"), data.draw(st.integers(1, 16), label="n")
    c = np.array(data.draw(st.lists(constant, min_size=rows, max_size=rows), label="constants"), dtype=dtype)
    x = Tensor(np.repeat(c[:, None], n, axis=1), requires_grad=True)
    w = Tensor(data.draw(arrays((n,), dtype=dtype), label="weight"), requires_grad=True)
    b = Tensor(data.draw(arrays((n,), dtype=dtype), label="bias"), requires_grad=True)
    y = nn.F.layer_norm(x, n, w, b, eps=LN_EPS)
    u = data.draw(upstreams((rows, n), dtype), label="upstream")
    gx, gw, gb = (g.numpy().astype(np.float64) for g in ag.grad(y, [x, w, b], [u]))
    for value in (y.numpy(), gx, gw, gb):
        assert np.all(np.isfinite(value))
    # the normalised row is 0 up to rounding noise of the mean, amplified by 1 / sqrt(eps)
    noise = 8 * eps(dtype) * np.abs(c.astype(np.float64))[:, None] / math.sqrt(LN_EPS) + 8 * eps(dtype)
    w64, b64, u64 = (a.astype(np.float64) for a in (w.numpy(), b.numpy(), u))
    assert np.all(np.abs(y.numpy() - b64) <= np.abs(w64) * noise + 4 * eps(dtype) * np.abs(b64))
    np.testing.assert_allclose(gb, u64.sum(axis=0), rtol=16 * eps(dtype))
    assert np.all(np.abs(gw) <= (np.abs(u64) * noise).sum(axis=0))
    # d/dx of (x - mean) / sqrt(var + eps) at a constant row: (g*w - mean(g*w)) / sqrt(eps), up to noise**2
    gh = u64 * w64
    expected = (gh - gh.mean(axis=1, keepdims=True)) / math.sqrt(LN_EPS)
    scale = np.abs(gh).max(axis=1, keepdims=True) / math.sqrt(LN_EPS)
    assert np.all(np.abs(gx - expected) <= scale * (64 * eps(dtype) + 4 * noise**2))
