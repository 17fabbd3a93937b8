"""The op spec table: one `OpSpec` per primitive in `autograd.primitive.REGISTRY`.

Each spec says how to reach the primitive through the public API, its NumPy reference, how
shapes and attributes are drawn and which domains and kinks its inputs keep to. The tests
in `test_ops.py` are parametrized over it; a primitive without a spec fails a guard test.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import strategies as st

import autograd
from autograd import Tensor
from autograd.primitive import REGISTRY
from autograd.testing import arrays, broadcastable_shapes, matmul_shapes, shapes, tensors

Shape = tuple[int, ...]
Case = tuple[tuple[Shape, ...], dict]  # the input tensors' shapes, the keyword attributes of the call

KINK_GAP = 0.01  # distance kept from kinks and between tied candidates: far above gradcheck's eps (1e-6)


# ───────────────────────────── strategies for cases ─────────────────────────────


def one(shape_strategy: st.SearchStrategy | None = None) -> st.SearchStrategy[Case]:
    """One input of any shape, no attributes."""
    return (shapes() if shape_strategy is None else shape_strategy).map(lambda s: ((s,), {}))


def same(n: int) -> st.SearchStrategy[Case]:
    """``n`` inputs of one shape, no attributes."""
    return shapes().map(lambda s: ((s,) * n, {}))


def broadcast(n: int = 2) -> st.SearchStrategy[Case]:
    """``n`` inputs of mutually broadcastable shapes (differing ranks, size-1 dimensions), no attributes."""
    return broadcastable_shapes(n).map(lambda ss: (ss, {}))


def with_attrs(
    cases: st.SearchStrategy[Case], attrs: Callable[[tuple[Shape, ...]], st.SearchStrategy[dict]]
) -> st.SearchStrategy[Case]:
    """Cases whose keyword attributes are drawn from the input shapes."""
    return cases.flatmap(lambda case: attrs(case[0]).map(lambda drawn: (case[0], {**case[1], **drawn})))


@st.composite
def axes(draw: st.DrawFn, ndim: int, allow_tuple: bool = True) -> Any:
    """A reduction axis: None, an int (negative allowed) or a tuple of distinct axes with mixed signs."""
    if ndim == 0:
        return None
    kinds = ["none", "int", "tuple"] if allow_tuple else ["none", "int"]
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


def reduction(shapes_: tuple[Shape, ...], allow_tuple: bool = True) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"axis": axes(len(shapes_[0]), allow_tuple), "keepdims": st.booleans()})


def one_axis(shapes_: tuple[Shape, ...]) -> st.SearchStrategy[dict]:
    ndim = len(shapes_[0])
    return st.fixed_dictionaries({"axis": st.integers(-ndim, ndim - 1)})


@st.composite
def indices(draw: st.DrawFn, shape: Shape) -> Any:
    """An index for an array of ``shape``: basic (slices with any step, ints, None, ...),
    integer arrays (repeats included), a boolean mask, or a tuple mixing slices, ints and one array."""
    kinds = ["basic", "mask"] + (["integer_arrays", "mixed"] if shape else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "basic":
        return draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    if kind == "mask":
        return draw(hnp.arrays(np.bool_, shape))
    if kind == "integer_arrays":
        return draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2)))
    n_parts = draw(st.integers(1, len(shape)))
    array_at = draw(st.integers(0, n_parts - 1))
    parts = []
    for axis, size in enumerate(shape[:n_parts]):
        if axis == array_at:
            part = st.one_of(
                hnp.arrays(np.intp, st.integers(1, 5), elements=st.integers(-size, size - 1)),
                hnp.arrays(np.bool_, (size,)),
            )
        else:
            part = st.one_of(st.slices(size), st.integers(-size, size - 1))
        parts.append(draw(part))
    return tuple(parts)


def getitem_cases() -> st.SearchStrategy[Case]:
    return shapes().flatmap(lambda s: indices(s).map(lambda index: ((s,), {"index": index})))


def scatter_add_cases() -> st.SearchStrategy[Case]:
    """The upstream gradient of ``x[index]`` (shape of the selection), scattered into ``shape``."""
    return shapes().flatmap(
        lambda s: indices(s).map(lambda index: ((np.empty(s)[index].shape,), {"shape": s, "index": index}))
    )


@st.composite
def concatenate_cases(draw: st.DrawFn) -> Case:
    """1 to 3 inputs that agree except along the joining axis (which may be negative)."""
    base = list(draw(shapes(min_dims=1)))
    ndim = len(base)
    axis = draw(st.integers(-ndim, ndim - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    return tuple(tuple(base[: axis % ndim] + [n] + base[axis % ndim + 1 :]) for n in sizes), {"axis": axis}


@st.composite
def linear_cases(draw: st.DrawFn) -> Case:
    """x of shape (..., in), weight (out, in) and, half the time, bias (out,)."""
    lead = draw(shapes(min_dims=0, max_dims=2))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    inputs = ((*lead, n_in), (n_out, n_in))
    return (inputs + ((n_out,),) if draw(st.booleans()) else inputs), {}


@st.composite
def linear_weight_grad_cases(draw: st.DrawFn) -> Case:
    """g of shape (..., out) and x of shape (..., in), with the same leading axes."""
    lead = draw(shapes(min_dims=0, max_dims=2))
    return ((*lead, draw(st.integers(1, 4))), (*lead, draw(st.integers(1, 4)))), {}


@st.composite
def attention_cases(draw: st.DrawFn, with_v: bool = True) -> Case:
    """q (..., L, E), k (..., S, E) and, ``with_v``, v (..., S, Ev); a mask of None, causal or random
    (some rows may see no key at all: their weights are 0) and a scale."""
    lead = draw(shapes(min_dims=0, max_dims=2, max_side=2))
    L, S, E = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    inputs = [(*lead, L, E), (*lead, S, E)] + ([(*lead, S, draw(st.integers(1, 3)))] if with_v else [])
    kind = draw(st.sampled_from(["none", "causal", "random"]))
    visible = {
        "none": None,
        "causal": np.tril(np.ones((L, S), dtype=bool)),
        "random": draw(hnp.arrays(bool, (L, S))),
    }[kind]
    mask = None if visible is None else np.where(visible, 0.0, -np.inf)
    return tuple(inputs), {"mask": mask, "scale": draw(st.sampled_from([0.35, 0.5, 1.0]))}


def trailing_axes(shapes_: tuple[Shape, ...]) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"n_axes": st.integers(1, len(shapes_[0]))})


@st.composite
def cross_entropy_cases(draw: st.DrawFn, upstream: bool = False) -> Case:
    """(M, C) logits with targets (some may equal ``ignore_index``: ignored rows; -100, or a class
    index), a reduction, a smoothing and, half the time, class weights (C,); a mean always has a
    counted row of positive weight (else it is NaN). With ``upstream``, first the gradient of the
    loss: 0-d (a reduced loss) or one per row."""
    m, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ignore_index = draw(st.sampled_from([-100, 0]))
    target = draw(hnp.arrays(np.int64, (m,), elements=st.sampled_from([*range(c), ignore_index])))
    class_weight = draw(st.one_of(st.none(), hnp.arrays(np.float64, (c,), elements=st.sampled_from([0.0, 0.5, 3.0]))))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    if reduction == "mean":  # a counted first row of weight 1
        if ignore_index == 0 and c == 1:
            ignore_index = -100  # the one class is not ignored
        target[0] = c - 1 if ignore_index == 0 else 0
        if class_weight is not None:
            class_weight[target[0]] = 1.0
    attrs = {
        "target": target,
        "ignore_index": ignore_index,
        "reduction": reduction,
        "smoothing": draw(st.sampled_from([0.0, 0.1, 0.4])),
        "class_weight": class_weight,
    }
    if upstream:
        return (((m,) if reduction == "none" else (), (m, c)), attrs)
    return ((m, c),), attrs


def where_cases() -> st.SearchStrategy[Case]:
    """``a``, ``b`` and a constant boolean condition, all three mutually broadcastable."""
    return broadcastable_shapes(3).flatmap(
        lambda ss: hnp.arrays(np.bool_, ss[0]).map(lambda condition: (ss[1:], {"condition": condition}))
    )


def reshape_targets(shapes_: tuple[Shape, ...]) -> st.SearchStrategy[dict]:
    shape = shapes_[0]
    size = math.prod(shape)
    targets = [(size,), (-1,), shape[::-1], (1, *shape), (*shape, 1), (size, 1), (1, -1)]
    return st.fixed_dictionaries({"shape": st.sampled_from(targets)})


def broadcast_to_cases() -> st.SearchStrategy[Case]:
    return broadcastable_shapes(2).map(lambda ss: ((ss[0],), {"shape": np.broadcast_shapes(*ss)}))


def sum_to_cases() -> st.SearchStrategy[Case]:
    return broadcastable_shapes(2).map(lambda ss: ((np.broadcast_shapes(*ss),), {"shape": ss[0]}))


# ───────────────────────────── NumPy references and API helpers ─────────────────────────────


def np_sum_to(a: np.ndarray, shape: Shape) -> np.ndarray:
    """Sum ``a`` down to ``shape`` (the adjoint of broadcasting), written from NumPy's broadcasting rules."""
    a = a.sum(axis=tuple(range(a.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and a.shape[i] != 1)
    return a.sum(axis=stretched, keepdims=True).reshape(shape)


def np_scatter_add(g: np.ndarray, shape: Shape, index: Any) -> np.ndarray:
    """zeros(shape) with ``g`` added where ``index`` selects; repeats count, by counting flat positions."""
    size = math.prod(shape)
    picked = np.arange(size).reshape(shape)[index]
    counted = np.bincount(np.ravel(picked), weights=np.ravel(g), minlength=size)
    return counted.astype(np.asarray(g).dtype).reshape(shape)


def np_sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


def np_softmax(a: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(a)
    return e / e.sum(axis=axis, keepdims=True)


def np_logsumexp(a: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))


LN_EPS = 0.5  # large enough that third derivatives stay moderate for the finite differences


def np_standardize(a: np.ndarray, n_axes: int) -> np.ndarray:
    axes = tuple(range(a.ndim - n_axes, a.ndim))
    centred = a - a.mean(axis=axes, keepdims=True)
    return centred / np.sqrt((centred**2).mean(axis=axes, keepdims=True) + LN_EPS)


def np_layer_norm_vjp(g: np.ndarray, a: np.ndarray, n_axes: int) -> np.ndarray:
    """The textbook layer-norm input gradient: (g - mean(g) - xh mean(g xh)) / sqrt(var + eps)."""
    axes = tuple(range(a.ndim - n_axes, a.ndim))
    xh = np_standardize(a, n_axes)
    std = np.sqrt(a.var(axis=axes, keepdims=True) + LN_EPS)
    return (g - g.mean(axis=axes, keepdims=True) - xh * (g * xh).mean(axis=axes, keepdims=True)) / std


def np_cross_entropy_targets(shape, target, smoothing, class_weight):
    """r = (1 - eps) w[t] onehot(t) + (eps / C) w (w = 1 without class weights): loss_i = -sum_c r_ic log p_ic."""
    w = np.ones(shape[-1]) if class_weight is None else class_weight
    r = np.tile(w * (smoothing / shape[-1]), (shape[0], 1))
    r[np.arange(shape[0]), target] += (1 - smoothing) * w[target]
    return r


def np_class_rows(shape, target, ignore_index, reduction, class_weight):
    """PyTorch's rules for class-index targets: the targets with ignored ones at 0, the counted rows'
    mask, and each row's weight in the reduced loss (0 where ignored; a mean divides by the sum of
    the counted rows' class weights, or by their number)."""
    counted = target != ignore_index
    safe = np.where(counted, target, 0)
    picked = (np.ones(shape[-1]) if class_weight is None else class_weight)[safe] * counted
    return safe, counted, counted / picked.sum() if reduction == "mean" else counted * 1.0


def np_cross_entropy(logits, target, ignore_index, reduction, smoothing, class_weight=None):
    safe, _, row = np_class_rows(logits.shape, target, ignore_index, reduction, class_weight)
    logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    losses = -(np_cross_entropy_targets(logits.shape, safe, smoothing, class_weight) * logp).sum(axis=-1) * row
    return losses if reduction == "none" else losses.sum()


def np_cross_entropy_vjp(g, logits, target, ignore_index, reduction, smoothing, class_weight=None):
    safe, _, row = np_class_rows(logits.shape, target, ignore_index, reduction, class_weight)
    p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    r = np_cross_entropy_targets(logits.shape, safe, smoothing, class_weight)
    return (p * r.sum(axis=-1, keepdims=True) - r) * (g * row)[:, None]


def np_class_targets(scores, target, ignore_index, reduction, smoothing, class_weight, part):
    """One part of `autograd.fused.class_targets`: class weights are a factor of the row weights
    without smoothing, and part of the targets r (and their totals s) with it."""
    shape = scores.shape
    safe, counted, row = np_class_rows(shape, target, ignore_index, reduction, class_weight)
    w = np.ones(shape[-1]) if class_weight is None else class_weight
    total = (w[safe] * counted).sum()
    applied = class_weight if smoothing else None
    r = np_cross_entropy_targets(shape, safe, smoothing, applied)
    return {
        "safe": lambda: safe,
        "counted": lambda: counted,
        "picked": lambda: w[safe] * counted,
        "scale": lambda: np.asarray(1.0 / total if total else 0.0),
        "empty": lambda: np.asarray(total == 0),
        "row_weights": lambda: row * (w[safe] if applied is None else 1.0),
        "row_totals": lambda: r.sum(axis=-1),
        "target_matrix": lambda: r,
    }[part]()


@st.composite
def class_targets_cases(draw: st.DrawFn) -> Case:
    (scores,), attrs = draw(cross_entropy_cases())
    parts = ["safe", "counted", "picked", "scale", "empty", "row_weights", "row_totals", "target_matrix"]
    return (scores,), {**attrs, "part": draw(st.sampled_from(parts))}


def np_topk_indices(a, k, axis, largest):
    return np.take(np.argsort(-a if largest else a, axis=axis, kind="stable"), np.arange(k), axis=axis)


def topk_attrs(shapes_: tuple[Shape, ...]) -> st.SearchStrategy[dict]:
    ndim = len(shapes_[0])
    return st.integers(-ndim, ndim - 1).flatmap(
        lambda axis: st.fixed_dictionaries(
            {"axis": st.just(axis), "k": st.integers(0, shapes_[0][axis]), "largest": st.booleans()}
        )
    )


def np_tie_share(a, axis, keepdims):
    """1 / (number of ties) where sign(a) equals its max over ``axis`` (ties are common among signs)."""
    signs = np.sign(a)
    hits = signs == np.max(signs, axis=axis, keepdims=True)
    return hits / hits.sum(axis=axis, keepdims=True)


def np_reciprocal_sum(a, axis, keepdims):
    total = np.sum(np.where(a > 0, a, 0.0), axis=axis, keepdims=keepdims)
    return 1.0 / np.where(total == 0, 1.0, total)


def np_attention_weights(q, k, mask, scale):
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        scores = scores + mask
    peak = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(peak), peak, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)  # a row that sees no key: weights 0


def vjp(f: Callable[[Tensor], Tensor], x: Tensor, g: Tensor) -> Tensor:
    """The recorded gradient of ``f`` at ``x`` against upstream ``g`` (create_graph, so it differentiates again).

    gradcheck evaluates its function on constant inputs, so ``x`` is made a leaf when it is not one.
    """
    with autograd.enable_grad():
        if not x.requires_grad:
            x = x.detach().requires_grad_()
        (gx,) = autograd.grad(f(x), x, g, create_graph=True)
    return gx


# ───────────────────────────── convolution and pooling: cases and references ─────────────────────────────
# Small images (N, C <= 3 (fold: C kH kW rows), H, W <= 6, kernels <= 3) with drawn strides, padding and
# dilations; references loop over every window of an explicitly padded array, independently of autograd.conv.


def np_window_count(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool = False) -> int:
    """PyTorch's output length of a sliding window along one axis."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    count = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (count - 1) * stride >= size + padding:
        count -= 1  # the last window would start in the right padding
    return count


def _window_counts(hw, kernel, stride, padding, dilation, ceil_mode=False) -> tuple[int, int]:
    return tuple(np_window_count(hw[a], kernel[a], stride[a], padding[a], dilation[a], ceil_mode) for a in (0, 1))


@st.composite
def window_geometry(draw: st.DrawFn, pool: bool = False, dilated: bool = True) -> dict:
    """kernel_size, stride, padding (at most half the kernel for a pool) and dilation, as pairs."""

    def pair_of(strategy: st.SearchStrategy) -> tuple:
        return (draw(strategy), draw(strategy))

    kernel = pair_of(st.integers(1, 3))
    padding = tuple(draw(st.integers(0, k // 2 if pool else 2)) for k in kernel)
    dilation = pair_of(st.integers(1, 2)) if dilated else (1, 1)
    return {"kernel_size": kernel, "stride": pair_of(st.integers(1, 3)), "padding": padding, "dilation": dilation}


@st.composite
def image_shape(draw: st.DrawFn, geometry: dict, max_channels: int = 3) -> tuple:
    """(N, C, H, W) in which at least one window fits: H >= the dilated kernel less the padding."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, max_channels))
    hw = []
    for a in (0, 1):
        span = geometry["dilation"][a] * (geometry["kernel_size"][a] - 1) + 1
        hw.append(draw(st.integers(max(1, span - 2 * geometry["padding"][a]), 6)))
    return (n, c, *hw)


@st.composite
def unfold_cases(draw: st.DrawFn) -> Case:
    geometry = draw(window_geometry())
    return (draw(image_shape(geometry)),), geometry


@st.composite
def fold_cases(draw: st.DrawFn) -> Case:
    """Columns (N, C kH kW, L) and the (H, W) they fold into."""
    geometry = draw(window_geometry())
    n, c, h, w = draw(image_shape(geometry, max_channels=2))
    oh, ow = _window_counts(
        (h, w), geometry["kernel_size"], geometry["stride"], geometry["padding"], geometry["dilation"]
    )
    rows = c * geometry["kernel_size"][0] * geometry["kernel_size"][1]
    return ((n, rows, oh * ow),), {**geometry, "output_size": (h, w)}


def every_window_reads_input(size: int, axis: int, geometry: dict) -> bool:
    """Whether every window of a pool along ``axis`` holds at least one input element (not only padding)."""
    k, s, p, d = (geometry[key][axis] for key in ("kernel_size", "stride", "padding", "dilation"))
    count = np_window_count(size, k, s, p, d, geometry.get("ceil_mode", False))
    return all(any(0 <= o * s - p + i * d < size for i in range(k)) for o in range(count))


@st.composite
def conv2d_matmul_cases(draw: st.DrawFn) -> Case:
    """Columns (N, G C kH kW, OH OW), a weight (C_out, C, kH, kW) (C_out a multiple of G) and maybe a bias."""
    groups, channels = draw(st.sampled_from([1, 1, 2])), draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    c_out = groups * draw(st.integers(1, 2))
    out_hw = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    cols = (draw(st.integers(1, 2)), groups * channels * kernel[0] * kernel[1], out_hw[0] * out_hw[1])
    inputs = (cols, (c_out, channels, *kernel)) + (((c_out,),) if draw(st.booleans()) else ())
    return inputs, {"out_hw": out_hw, "groups": groups}


@st.composite
def conv2d_product_grad_cases(draw: st.DrawFn, of: str) -> Case:
    """The upstream gradient (N, C_out, OH, OW) of conv2d_matmul and the weight (``of="cols"``) or the columns
    (``of="weight"``) it is multiplied with, and the shape of the other input, whose gradient it gives."""
    (cols, weight, *_), attrs = draw(conv2d_matmul_cases())
    g = (cols[0], weight[0], *attrs["out_hw"])
    if of == "cols":
        return (g, weight), {"groups": attrs["groups"], "cols_shape": cols}
    return (g, cols), {"groups": attrs["groups"], "weight_shape": weight}


@st.composite
def max_pool_cases(draw: st.DrawFn, upstream: bool = False) -> Case:
    """An image and a max pool's attributes; with ``upstream``, first the gradient of the pool's output."""
    geometry = {**draw(window_geometry(pool=True)), "ceil_mode": draw(st.booleans())}
    shape = draw(image_shape(geometry))
    # a dilated window can fall wholly in the padding (its value is -inf, as in PyTorch): not differentiable
    geometry["dilation"] = tuple(
        d if every_window_reads_input(shape[2 + a], a, {**geometry, "dilation": (d, d)}) else 1
        for a, d in enumerate(geometry["dilation"])
    )
    if not upstream:
        return (shape,), geometry
    counts = _window_counts(
        shape[2:], *(geometry[k] for k in ("kernel_size", "stride", "padding", "dilation")), geometry["ceil_mode"]
    )
    return ((*shape[:2], *counts), shape), geometry


@st.composite
def avg_pool_cases(draw: st.DrawFn, upstream: bool = False) -> Case:
    """An image and an average pool's attributes; with ``upstream``, the gradient of its output and the input shape."""
    geometry = draw(window_geometry(pool=True, dilated=False))
    shape = draw(image_shape(geometry))
    ceil_mode = draw(st.booleans())
    options = {
        "count_include_pad": draw(st.booleans()),
        "divisor_override": draw(st.sampled_from([None, None, 2])),
    }
    del geometry["dilation"]
    options["ceil_mode"] = ceil_mode
    if not upstream:
        return (shape,), {**geometry, **options}
    counts = _window_counts(
        shape[2:], geometry["kernel_size"], geometry["stride"], geometry["padding"], (1, 1), ceil_mode
    )
    return ((*shape[:2], *counts),), {**geometry, **options, "input_shape": shape}


@st.composite
def pad_cases(draw: st.DrawFn) -> Case:
    """Amounts for 1 to ndim trailing axes, negative ones cropping (every axis keeps at least one element)."""
    shape = draw(shapes(min_dims=1, max_dims=4, max_side=3))
    amounts = []
    for axis in reversed(range(len(shape) - draw(st.integers(0, len(shape) - 1)), len(shape))):
        before = draw(st.integers(-(shape[axis] - 1), 2))
        after = draw(st.integers(-(shape[axis] + before - 1), 2))
        amounts += [before, after]
    return (shape,), {"amounts": tuple(amounts), "value": draw(st.sampled_from([0.0, 0.5, -2.0]))}


def np_conv2d_matmul(cols, weight, *bias, out_hw, groups):
    n, _, length = cols.shape
    c_out = weight.shape[0]
    blocks = cols.reshape(n, groups, -1, length)
    out = np.einsum("gok,ngkl->ngol", weight.reshape(groups, c_out // groups, -1), blocks).reshape(n, c_out, *out_hw)
    return out + bias[0].reshape(c_out, 1, 1) if bias else out


def np_conv2d_cols_grad(g, weight, groups, cols_shape):
    n, c_out = g.shape[:2]
    w = weight.reshape(groups, c_out // groups, -1)
    return np.einsum("gok,ngol->ngkl", w, g.reshape(n, groups, c_out // groups, -1)).reshape(cols_shape)


def np_conv2d_weight_grad(g, cols, groups, weight_shape):
    n, c_out = g.shape[:2]
    blocks = cols.reshape(n, groups, -1, cols.shape[-1])
    return np.einsum("ngol,ngkl->gok", g.reshape(n, groups, c_out // groups, -1), blocks).reshape(weight_shape)


def _zero_padded(x: np.ndarray, padding, extra=(0, 0), fill: float = 0.0) -> np.ndarray:
    """``x`` padded by ``padding`` on both sides of (H, W) and ``extra`` more at the bottom and right."""
    (ph, pw), (eh, ew) = padding, extra
    return np.pad(x, ((0, 0), (0, 0), (ph, ph + eh), (pw, pw + ew)), constant_values=fill)


def _window_starts(hw, kernel_size, stride, padding, dilation, ceil_mode=False):
    counts = _window_counts(hw, kernel_size, stride, padding, dilation, ceil_mode)
    return [(a, b, a * stride[0], b * stride[1]) for a in range(counts[0]) for b in range(counts[1])], counts


def _window(array: np.ndarray, top: int, left: int, kernel_size, dilation) -> tuple:
    """The index of a window of an (already padded) array: rows and columns spaced by the dilation."""
    rows = top + dilation[0] * np.arange(kernel_size[0])
    cols = left + dilation[1] * np.arange(kernel_size[1])
    return (slice(None), slice(None), rows[:, None], cols[None, :])


def np_unfold(x, kernel_size, dilation, padding, stride):
    n, c = x.shape[:2]
    starts, (oh, ow) = _window_starts(x.shape[2:], kernel_size, stride, padding, dilation)
    xp = _zero_padded(x, padding)
    cols = np.empty((n, c, *kernel_size, oh, ow))
    for a, b, top, left in starts:
        cols[..., a, b] = xp[_window(xp, top, left, kernel_size, dilation)]
    return cols.reshape(n, c * kernel_size[0] * kernel_size[1], oh * ow)


def np_fold(cols, output_size, kernel_size, dilation, padding, stride):
    n = cols.shape[0]
    c = cols.shape[1] // (kernel_size[0] * kernel_size[1])
    starts, (oh, ow) = _window_starts(output_size, kernel_size, stride, padding, dilation)
    blocks = cols.reshape(n, c, *kernel_size, oh, ow)
    out = _zero_padded(np.zeros((n, c, *output_size)), padding)
    for a, b, top, left in starts:
        out[_window(out, top, left, kernel_size, dilation)] += blocks[..., a, b]
    (ph, pw), (h, w) = padding, output_size
    return out[:, :, ph : ph + h, pw : pw + w]


def _pool_windows(x_shape, kernel_size, stride, padding, dilation, ceil_mode):
    """Window starts, and how far a ceil_mode window may run past the padding (extra bottom and right)."""
    starts, counts = _window_starts(x_shape[2:], kernel_size, stride, padding, dilation, ceil_mode)
    extra = tuple(counts[a] * stride[a] + dilation[a] * kernel_size[a] for a in (0, 1))
    return starts, counts, extra


def np_max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode):
    starts, counts, extra = _pool_windows(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    xp = _zero_padded(x, padding, extra, fill=-np.inf)
    out = np.empty((*x.shape[:2], *counts))
    for a, b, top, left in starts:
        out[..., a, b] = xp[_window(xp, top, left, kernel_size, dilation)].max(axis=(-2, -1))
    return out


def np_max_pool2d_vjp(g, x, kernel_size, stride, padding, dilation, ceil_mode):
    """The gradient of each window to its first maximum (np.argmax over the row-major window)."""
    starts, _, extra = _pool_windows(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    xp = _zero_padded(x, padding, extra, fill=-np.inf)
    out = np.zeros_like(xp)
    n, c = x.shape[:2]
    planes = np.arange(n)[:, None], np.arange(c)[None, :]
    for a, b, top, left in starts:
        first = xp[_window(xp, top, left, kernel_size, dilation)].reshape(n, c, -1).argmax(axis=-1)
        i, j = np.divmod(first, kernel_size[1])
        np.add.at(out, (*planes, top + dilation[0] * i, left + dilation[1] * j), g[..., a, b])
    (ph, pw), (h, w) = padding, x.shape[2:]
    return out[:, :, ph : ph + h, pw : pw + w]


def _first_maxima(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Each window's first maximum (np.argmax over the row-major window) as (window, row, column) in the padded x."""
    starts, counts, extra = _pool_windows(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    xp = _zero_padded(x, padding, extra, fill=-np.inf)
    n, c = x.shape[:2]
    for a, b, top, left in starts:
        first = xp[_window(xp, top, left, kernel_size, dilation)].reshape(n, c, -1).argmax(axis=-1)
        i, j = np.divmod(first, kernel_size[1])
        yield (a, b), top + dilation[0] * i, left + dilation[1] * j


def np_max_pool2d_pick(g2, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Each window's value of g2 (shaped like x) at the window's first maximum of x."""
    counts = _window_counts(x.shape[2:], kernel_size, stride, padding, dilation, ceil_mode)
    out = np.empty((*x.shape[:2], *counts))
    gp = _zero_padded(g2, padding, (2 * kernel_size[0] * dilation[0], 2 * kernel_size[1] * dilation[1]))
    n, c = x.shape[:2]
    planes = np.arange(n)[:, None], np.arange(c)[None, :]
    for (a, b), rows, cols in _first_maxima(x, kernel_size, stride, padding, dilation, ceil_mode):
        out[..., a, b] = gp[(*planes, rows, cols)]
    return out


def np_max_pool2d_indices(x, kernel_size, stride, padding, dilation, ceil_mode):
    """PyTorch's return_indices: h * W + w of each window's first maximum in its (H, W) plane."""
    counts = _window_counts(x.shape[2:], kernel_size, stride, padding, dilation, ceil_mode)
    out = np.empty((*x.shape[:2], *counts), dtype=np.int64)
    for (a, b), rows, cols in _first_maxima(x, kernel_size, stride, padding, dilation, ceil_mode):
        out[..., a, b] = (rows - padding[0]) * x.shape[3] + cols - padding[1]
    return out


def _avg_divisor(hw, top, left, kernel_size, padding, count_include_pad, divisor_override) -> float:
    """PyTorch's divisor of the window at (top, left) of the padded input."""
    if divisor_override:
        return divisor_override
    sizes = []
    for a, start in enumerate((top - padding[0], left - padding[1])):
        stop = min(start + kernel_size[a], hw[a] + padding[a])
        if not count_include_pad:
            start, stop = max(start, 0), min(stop, hw[a])
        sizes.append(stop - start)
    return sizes[0] * sizes[1]


def np_avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    starts, counts, extra = _pool_windows(x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    xp = _zero_padded(x, padding, extra)
    out = np.empty((*x.shape[:2], *counts))
    for a, b, top, left in starts:
        total = xp[_window(xp, top, left, kernel_size, (1, 1))].sum(axis=(-2, -1))
        out[..., a, b] = total / _avg_divisor(
            x.shape[2:], top, left, kernel_size, padding, count_include_pad, divisor_override
        )
    return out


def np_avg_pool2d_backward(
    g, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
):
    hw = input_shape[2:]
    extra = tuple(g.shape[2 + a] * stride[a] + kernel_size[a] for a in (0, 1))
    out = _zero_padded(np.zeros(input_shape), padding, extra)
    for a in range(g.shape[2]):
        for b in range(g.shape[3]):
            top, left = a * stride[0], b * stride[1]
            divisor = _avg_divisor(hw, top, left, kernel_size, padding, count_include_pad, divisor_override)
            out[_window(out, top, left, kernel_size, (1, 1))] += (g[..., a, b] / divisor)[..., None, None]
    (ph, pw), (h, w) = padding, hw
    return out[:, :, ph : ph + h, pw : pw + w]


def np_pad(x, amounts, value):
    """np.pad the positive amounts with ``value``, then crop the negative ones away (PyTorch's order)."""
    widths = [(0, 0)] * x.ndim
    for k in range(len(amounts) // 2):
        widths[x.ndim - 1 - k] = (max(amounts[2 * k], 0), max(amounts[2 * k + 1], 0))
    padded = np.pad(x, widths, constant_values=value)
    index = [slice(None)] * x.ndim
    for k in range(len(amounts) // 2):
        axis = x.ndim - 1 - k
        index[axis] = slice(max(-amounts[2 * k], 0), padded.shape[axis] - max(-amounts[2 * k + 1], 0))
    return padded[tuple(index)]


# ───────────────────────────── the spec table ─────────────────────────────


@dataclass(frozen=True)
class OpSpec:
    """How to test one primitive.

    Attributes:
        name: the primitive's name in ``REGISTRY``.
        call: reaches the primitive through the public API: ``call(*tensors, **attrs)``.
        reference: the NumPy forward: ``reference(*arrays, **attrs)``.
        cases: draws the input shapes and the keyword attributes.
        domains: one domain per input (see `autograd.testing.arrays`); empty means "real" for all.
        avoid: kinks every input keeps ``KINK_GAP`` away from.
        distinct: all values of all inputs drawn ``KINK_GAP`` apart (ties are kinks: max, maximum).
        second_order: check second-order gradients too.
        elementwise: the float32 test applies (dtype in, dtype out).
        check: extra keyword arguments for gradcheck and gradgradcheck.
    """

    name: str
    call: Callable[..., Tensor]
    reference: Callable[..., np.ndarray]
    cases: st.SearchStrategy[Case]
    domains: tuple = ()
    avoid: tuple[float, ...] = ()
    distinct: bool = False
    second_order: bool = True
    elementwise: bool = False
    check: dict = field(default_factory=dict)

    def domain(self, position: int) -> Any:
        return self.domains[position] if self.domains else "real"

    def __repr__(self) -> str:
        return self.name


CLIP_LO, CLIP_HI = -1.0, 1.5
SCALARS = st.sampled_from([2.5, -1.0, 0.5, 3])
EXPONENTS = st.sampled_from([2, 3, 0.5, -1.5, 2.5])


GELU_C = np.sqrt(2 / np.pi)


def np_gelu_slope(x: np.ndarray) -> np.ndarray:
    """d/dx of the tanh-approximated GELU, by the product and chain rules."""
    t = np.tanh(GELU_C * (x + 0.044715 * x**3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * GELU_C * (1 + 3 * 0.044715 * x**2)


def unary(name: str, call: Callable, reference: Callable, **options: Any) -> OpSpec:
    return OpSpec(name, call, reference, one(), elementwise=True, **options)


def binary(name: str, call: Callable, reference: Callable, **options: Any) -> OpSpec:
    return OpSpec(name, call, reference, broadcast(2), elementwise=True, **options)


def with_scalar(name: str, call: Callable, reference: Callable, scalars: st.SearchStrategy, **options: Any) -> OpSpec:
    cases = with_attrs(one(), lambda _: st.fixed_dictionaries({"c": scalars}))
    return OpSpec(name, call, reference, cases, elementwise=True, **options)


def reduce(name: str, call: Callable, reference: Callable, allow_tuple: bool = True, **options: Any) -> OpSpec:
    return OpSpec(
        name, call, reference, with_attrs(one(), functools.partial(reduction, allow_tuple=allow_tuple)), **options
    )


def along_axis(name: str, call: Callable, reference: Callable) -> OpSpec:
    return OpSpec(name, call, reference, with_attrs(one(shapes(min_dims=1)), one_axis))


def compare(name: str, call: Callable, reference: Callable) -> OpSpec:
    return OpSpec(name, call, reference, broadcast(2))


SPECS = [
    # elementwise unary
    unary("neg", lambda x: -x, np.negative),
    unary("exp", lambda x: x.exp(), np.exp),
    unary("log", lambda x: x.log(), np.log, domains=("positive",)),
    unary("sqrt", lambda x: x.sqrt(), np.sqrt, domains=("positive",)),
    unary("abs", lambda x: abs(x), np.abs, avoid=(0.0,)),
    unary("sin", autograd.sin, np.sin),
    unary("cos", autograd.cos, np.cos),
    unary("tanh", lambda x: x.tanh(), np.tanh),
    unary("gelu", lambda x: autograd.fused.gelu(x), lambda x: 0.5 * x * (1 + np.tanh(GELU_C * (x + 0.044715 * x**3)))),
    unary("relu", lambda x: x.relu(), lambda a: np.maximum(a, 0), avoid=(0.0,)),
    unary("sigmoid", lambda x: x.sigmoid(), np_sigmoid),
    unary("clip", lambda x: x.clip(CLIP_LO, CLIP_HI), lambda a: np.clip(a, CLIP_LO, CLIP_HI), avoid=(CLIP_LO, CLIP_HI)),
    with_scalar("add_scalar", lambda x, c: x + c, lambda a, c: a + c, SCALARS),
    with_scalar("mul_scalar", lambda x, c: x * c, lambda a, c: a * c, SCALARS),
    with_scalar("pow_scalar", lambda x, c: x**c, lambda a, c: a**c, EXPONENTS, domains=("positive",)),
    # fused backward helpers, reached as the recorded VJPs of tanh and sigmoid
    OpSpec(
        "tanh_backward",
        lambda g, x: vjp(autograd.tanh, x, g),
        lambda g, x: g * (1 - np.tanh(x) ** 2),
        same(2),
        elementwise=True,
    ),
    OpSpec(
        "gelu_backward",
        lambda g, x: vjp(autograd.fused.gelu, x, g),
        lambda g, x: g * np_gelu_slope(x),
        same(2),
        elementwise=True,
    ),
    OpSpec(
        "sigmoid_backward",
        lambda g, x: vjp(autograd.sigmoid, x, g),
        lambda g, x: g * np_sigmoid(x) * (1 - np_sigmoid(x)),
        same(2),
        elementwise=True,
    ),
    # elementwise binary, broadcasting
    binary("add", lambda a, b: a + b, np.add),
    binary("sub", lambda a, b: a - b, np.subtract),
    binary("mul", lambda a, b: a * b, np.multiply),
    binary("div", lambda a, b: a / b, np.divide, domains=("real", "nonzero")),
    binary("pow", lambda a, b: a**b, np.power, domains=("positive", (-2.0, 2.0))),
    binary("maximum", autograd.maximum, np.maximum, distinct=True),
    binary("minimum", autograd.minimum, np.minimum, distinct=True),
    OpSpec(
        "where",
        lambda a, b, condition: autograd.where(condition, a, b),
        lambda a, b, condition: np.where(condition, a, b),
        where_cases(),
        elementwise=True,
    ),
    # reductions
    reduce("sum", lambda x, axis, keepdims: x.sum(axis, keepdims), np.sum),
    reduce("max", lambda x, axis, keepdims: x.max(axis, keepdims), np.max, distinct=True),
    reduce("min", lambda x, axis, keepdims: x.min(axis, keepdims), np.min, distinct=True),
    reduce("logsumexp", lambda x, axis, keepdims: x.logsumexp(axis, keepdims), np_logsumexp),
    along_axis("softmax", lambda x, axis: x.softmax(axis), np_softmax),
    along_axis("log_softmax", autograd.log_softmax, lambda a, axis: np.log(np_softmax(a, axis))),
    # shape
    OpSpec(
        "reshape",
        lambda x, shape: x.reshape(shape),
        lambda a, shape: a.reshape(shape),
        with_attrs(one(), reshape_targets),
    ),
    OpSpec(
        "transpose",
        lambda x, axes: x.transpose(*axes),
        lambda a, axes: np.transpose(a, axes),
        with_attrs(one(), lambda ss: st.fixed_dictionaries({"axes": st.permutations(range(len(ss[0]))).map(tuple)})),
    ),
    OpSpec(
        "broadcast_to",
        lambda x, shape: x.broadcast_to(shape),
        lambda a, shape: np.broadcast_to(a, shape),
        broadcast_to_cases(),
    ),
    OpSpec("sum_to", lambda x, shape: x.sum_to(shape), np_sum_to, sum_to_cases()),
    OpSpec(
        "astype",
        lambda x: x.astype(np.float32),
        lambda a: a.astype(np.float32),
        one(),
        # the float32 output rounds at ~1e-7: a coarser step and tolerance for the finite differences
        check={"eps": 1e-3, "atol": 1e-3, "rtol": 1e-3},
    ),
    # indexing
    OpSpec("getitem", lambda x, index: x[index], lambda a, index: a[index], getitem_cases()),
    OpSpec(
        "scatter_add",
        lambda g, shape, index: vjp(lambda t: t[index], autograd.zeros(shape, dtype=np.float64), g),
        np_scatter_add,
        scatter_add_cases(),
    ),
    OpSpec(
        "concatenate",
        lambda *xs, axis: autograd.concatenate(xs, axis=axis),
        lambda *arrays_, axis: np.concatenate(arrays_, axis=axis),
        concatenate_cases(),
    ),
    # linear algebra
    OpSpec("matmul", lambda a, b: a @ b, np.matmul, matmul_shapes().map(lambda ss: (ss, {}))),
    OpSpec(
        "linear",
        lambda *xs: autograd.fused.linear(xs),
        lambda x, w, *b: x @ w.T + (b[0] if b else 0),
        linear_cases(),
    ),
    OpSpec(
        "linear_weight_grad",
        lambda g, x: vjp(
            lambda w: autograd.fused.linear((x, w)), autograd.zeros((g.shape[-1], x.shape[-1]), dtype=g.dtype), g
        ),
        lambda g, x: g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1]),
        linear_weight_grad_cases(),
    ),
    # fused losses
    OpSpec(
        "mse_loss",
        lambda a, b, reduction: autograd.fused.mse_loss(a, b, reduction),
        lambda a, b, reduction: {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction]((a - b) ** 2),
        with_attrs(same(2), lambda _: st.fixed_dictionaries({"reduction": st.sampled_from(["mean", "sum", "none"])})),
    ),
    OpSpec(
        "mse_loss_backward",
        lambda g, a, b: vjp(lambda t: autograd.fused.mse_loss(t, b, "none"), a, g),
        lambda g, a, b: (a - b) * g * 2,
        same(3),
        elementwise=True,
    ),
    OpSpec(
        "layer_norm",
        lambda x, n_axes: autograd.fused.layer_norm(x, n_axes, LN_EPS),
        np_standardize,
        with_attrs(one(shapes(min_dims=1)), trailing_axes),
    ),
    OpSpec(
        "layer_norm_backward",
        lambda g, x, n_axes: vjp(lambda t: autograd.fused.layer_norm(t, n_axes, LN_EPS), x, g),
        np_layer_norm_vjp,
        with_attrs(shapes(min_dims=1).map(lambda s: ((s, s), {})), trailing_axes),
    ),
    OpSpec(
        "cross_entropy",
        lambda x, target, ignore_index, reduction, smoothing, class_weight: autograd.fused.cross_entropy(
            x, target, ignore_index, reduction, smoothing, class_weight
        ),
        np_cross_entropy,
        cross_entropy_cases(),
    ),
    OpSpec(
        "cross_entropy_backward",
        lambda g, x, target, ignore_index, reduction, smoothing, class_weight: vjp(
            lambda t: autograd.fused.cross_entropy(t, target, ignore_index, reduction, smoothing, class_weight), x, g
        ),
        np_cross_entropy_vjp,
        cross_entropy_cases(upstream=True),
    ),
    OpSpec(
        "class_targets",
        lambda x, target, ignore_index, reduction, smoothing, class_weight, part: autograd.fused.class_targets(
            x, target, ignore_index, reduction, smoothing, class_weight, part
        ),
        np_class_targets,
        class_targets_cases(),
    ),
    # attention
    OpSpec(
        "attention_weights",
        lambda q, k, mask, scale: autograd.fused.attention_weights((q, k), mask, scale),
        np_attention_weights,
        attention_cases(with_v=False),
    ),
    # not differentiable
    compare("equal", lambda a, b: a == b, np.equal),
    compare("not_equal", lambda a, b: a != b, np.not_equal),
    compare("less", lambda a, b: a < b, np.less),
    compare("less_equal", lambda a, b: a <= b, np.less_equal),
    compare("greater", lambda a, b: a > b, np.greater),
    compare("greater_equal", lambda a, b: a >= b, np.greater_equal),
    OpSpec("sign", lambda x: x.sign(), np.sign, one()),
    OpSpec("logical_not", lambda x: autograd.ops.logical_not(x > 0), lambda a: np.logical_not(a > 0), one()),
    OpSpec(
        "topk_indices",
        lambda x, k, axis, largest: autograd.topk(x, k, axis, largest).indices,
        np_topk_indices,
        with_attrs(one(shapes(min_dims=1)), topk_attrs),
    ),
    OpSpec("numpy_call", np.floor, np.floor, one()),
    OpSpec("array", lambda x: autograd.ops.array(x, np.float32), lambda a: a.astype(np.float32), one()),
    # not differentiable: the masks and constants of gradient rules
    OpSpec(
        "clip_mask",
        lambda x, lo, hi: autograd.ops.clip_mask(x, lo, hi),
        lambda a, lo, hi: (a >= (-np.inf if lo is None else lo)) & (a <= (np.inf if hi is None else hi)),
        with_attrs(
            one(),
            lambda _: st.fixed_dictionaries(
                {"lo": st.sampled_from([None, CLIP_LO]), "hi": st.sampled_from([None, CLIP_HI])}
            ),
        ),
    ),
    OpSpec(
        "tie_split",
        lambda a, b: autograd.ops.tie_split(a.sign(), b.sign(), np.float64),
        lambda a, b: (np.sign(a) > np.sign(b)) + 0.5 * (np.sign(a) == np.sign(b)),
        broadcast(2),
    ),
    reduce(
        "tie_share",
        lambda x, axis, keepdims: autograd.ops.tie_share(x.sign(), x.sign().max(axis, keepdims), axis, keepdims),
        np_tie_share,
    ),
    reduce(
        "reciprocal_sum",
        lambda x, axis, keepdims: autograd.ops.reciprocal_sum((x > 0) * x, axis, keepdims),
        np_reciprocal_sum,
    ),
    reduce("argmax", lambda x, axis, keepdims: x.argmax(axis, keepdims), np.argmax, allow_tuple=False),
    reduce("argmin", lambda x, axis, keepdims: x.argmin(axis, keepdims), np.argmin, allow_tuple=False),
    # convolution
    OpSpec(
        "unfold",
        lambda x, kernel_size, stride, padding, dilation: autograd.conv.unfold(
            x, kernel_size, dilation, padding, stride
        ),
        np_unfold,
        unfold_cases(),
    ),
    OpSpec(
        "fold",
        lambda cols, output_size, kernel_size, stride, padding, dilation: autograd.conv.fold(
            cols, output_size, kernel_size, dilation, padding, stride
        ),
        np_fold,
        fold_cases(),
    ),
    OpSpec(
        "conv2d_matmul",
        lambda *xs, out_hw, groups: autograd.conv.conv2d_matmul(xs, out_hw, groups),
        np_conv2d_matmul,
        conv2d_matmul_cases(),
    ),
    OpSpec(
        "conv2d_cols_grad",
        lambda g, w, groups, cols_shape: vjp(
            lambda c: autograd.conv.conv2d_matmul((c, w), g.shape[2:], groups),
            autograd.zeros(cols_shape, dtype=g.dtype),
            g,
        ),
        np_conv2d_cols_grad,
        conv2d_product_grad_cases("cols"),
    ),
    OpSpec(
        "conv2d_weight_grad",
        lambda g, cols, groups, weight_shape: vjp(
            lambda w: autograd.conv.conv2d_matmul((cols, w), g.shape[2:], groups),
            autograd.zeros(weight_shape, dtype=g.dtype),
            g,
        ),
        np_conv2d_weight_grad,
        conv2d_product_grad_cases("weight"),
    ),
    OpSpec(
        "max_pool2d",
        lambda x, kernel_size, stride, padding, dilation, ceil_mode: autograd.conv.max_pool2d(
            x, kernel_size, stride, padding, dilation, ceil_mode
        ),
        np_max_pool2d,
        max_pool_cases(),
        distinct=True,
    ),
    OpSpec(
        "max_pool2d_backward",
        lambda g, x, kernel_size, stride, padding, dilation, ceil_mode: vjp(
            lambda t: autograd.conv.max_pool2d(t, kernel_size, stride, padding, dilation, ceil_mode), x, g
        ),
        np_max_pool2d_vjp,
        max_pool_cases(upstream=True),
        distinct=True,
    ),
    OpSpec(
        "max_pool2d_pick",
        lambda g2, x, kernel_size, stride, padding, dilation, ceil_mode: autograd.conv.max_pool2d_pick(
            g2,
            x.data,
            autograd.conv.max_pool2d(x.detach(), kernel_size, stride, padding, dilation, ceil_mode).data,
            kernel_size,
            stride,
            padding,
            dilation,
        ),
        np_max_pool2d_pick,
        max_pool_cases().map(lambda case: ((case[0][0], case[0][0]), case[1])),
        distinct=True,
    ),
    OpSpec(
        "max_pool2d_indices",
        lambda x, kernel_size, stride, padding, dilation, ceil_mode: autograd.conv.max_pool2d_indices(
            x,
            autograd.conv.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode),
            kernel_size,
            stride,
            padding,
            dilation,
        ),
        np_max_pool2d_indices,
        max_pool_cases(),
    ),
    OpSpec(
        "avg_pool2d",
        lambda x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override: (
            autograd.conv.avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
        ),
        np_avg_pool2d,
        avg_pool_cases(),
    ),
    OpSpec(
        "avg_pool2d_backward",
        lambda g, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override: (
            autograd.conv.avg_pool2d_backward(
                g, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
            )
        ),
        np_avg_pool2d_backward,
        avg_pool_cases(upstream=True),
    ),
    OpSpec("pad", lambda x, amounts, value: autograd.conv.pad(x, amounts, value), np_pad, pad_cases()),
]

SPEC_BY_NAME = {spec.name: spec for spec in SPECS}
DIFFERENTIABLE = [spec for spec in SPECS if REGISTRY[spec.name].differentiable]
SECOND_ORDER = [spec for spec in DIFFERENTIABLE if spec.second_order]
NON_DIFFERENTIABLE = [spec for spec in SPECS if not REGISTRY[spec.name].differentiable]
ELEMENTWISE = [spec for spec in SPECS if spec.elementwise]


def draw_inputs(data: st.DataObject, spec: OpSpec, shapes_: tuple[Shape, ...], dtype: Any = np.float64) -> list:
    """Draw the spec's input tensors (requiring grad) for the given shapes."""
    if spec.distinct:  # one draw, so values are apart across inputs as well as within each
        sizes = [math.prod(s) for s in shapes_]
        flat = data.draw(arrays(sum(sizes), dtype, spec.domain(0), spec.avoid, KINK_GAP, distinct=True), label="values")
        pieces = np.split(flat, np.cumsum(sizes)[:-1])
        return [Tensor(p.reshape(s), requires_grad=True) for p, s in zip(pieces, shapes_)]
    return [
        data.draw(tensors(s, dtype, spec.domain(i), avoid=spec.avoid, min_gap=KINK_GAP), label=f"input {i}")
        for i, s in enumerate(shapes_)
    ]


def recorded_names(out: Tensor) -> set[str]:
    """The names of the primitives recorded in the graph that produced ``out``."""
    names = set()
    stack = [out.grad_fn]
    seen = set()
    while stack:
        node = stack.pop()
        if node is None or node.is_leaf or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.name)
        stack.extend(node.parents)
    return names


def by_name(specs: list[OpSpec]) -> Any:
    return pytest.mark.parametrize("spec", specs, ids=[spec.name for spec in specs])
