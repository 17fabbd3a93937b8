"""Fused primitives: operations that would otherwise record several nodes, as one node each.

A composite op records a node per step and keeps each step's inputs for backward; a fused
one runs its forward as a few in-place NumPy calls, saves only what its rule needs and
runs its gradient as one helper node. Every rule is still written in Tensor operations
(the helpers are primitives too), so gradients of gradients work. `tests/autograd/test_fused.py`
checks each against the composite it replaces.

- ``gelu`` (+ ``gelu_backward``): the tanh-approximated GELU of GPT-2.
- ``linear`` (+ ``linear_weight_grad``): ``x @ weight.T + bias`` over any batch axes.
- ``mse_loss`` (+ ``mse_loss_backward``).
- ``layer_norm`` (+ ``layer_norm_backward``): standardization over trailing axes.
- ``cross_entropy`` (+ ``cross_entropy_backward``, ``class_targets``): log-softmax and the pick
  of the target class, with ignored rows, label smoothing and class weights.
- ``attention_weights`` (used by ``attention``): softmax(q k^T scale + mask), one node whose
  rule is softmax's and the scores' matmuls with the scale folded in.
"""

from __future__ import annotations

import math

import numpy as np

from .ops import _ALL_AXES, _lowest, _shift, _tiny, astype, matmul, scalar_operand
from .ops import sum as _sum_axes
from .primitive import Binary, NonDifferentiable, ShapeError, Unary, Variadic

# ───────────────────────────── GELU ─────────────────────────────

# GELU, tanh approximation (GPT-2) as one node. With z = sqrt(2/pi) (x + 0.044715 x**3) and the
# gate a = (1 + tanh z) / 2, gelu(x) = a x and gelu'(x) = a + a (1 - a) x (2C + 6CK x**2) (as
# 1 - tanh**2 = 4 a (1 - a)). The forward writes a beside its output, in one (2, ...) array whose
# first half it returns: the node keeps the output, so the backward finds a without a second tanh
# (`_gate`). Inside the derivative x is clipped to +-10, where a (1 - a) is already exactly 0, so
# x**3 cannot overflow into 0 * inf. In-place NumPy keeps temporaries down.
_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_A = 0.044715


def _gelu(x):
    pair = np.empty((2, *x.shape), dtype=x.dtype)  # [gelu(x), a]
    a = pair[1, ...]  # a view, also for 0-d x
    with np.errstate(over="ignore"):  # z = C (x + A x**3) is +-inf for huge x, and tanh(+-inf) = +-1 is right
        np.multiply(x, x, out=a)
        a *= _GELU_C * _GELU_A
        a += _GELU_C
        a *= x
    np.tanh(a, out=a)
    a += 1.0
    a *= 0.5
    return np.multiply(a, x, out=pair[0, ...])


def _gate(y, x):
    """The gate a = (1 + tanh z) / 2 that `_gelu` left beside its output ``y`` (recomputed if ``y`` is not its)."""
    pair = y.base
    if pair is not None and pair.shape == (2, *y.shape) and pair[0, ...].ctypes.data == y.ctypes.data:
        return pair[1, ...]
    return _gelu(x).base[1, ...]


def _gelu_backward(arrays):
    g, x, y = arrays
    a = _gate(y, x)
    slope = np.clip(x, -10.0, 10.0, out=np.empty_like(x))  # becomes a + a (1 - a) xc (2C + 6CA xc**2)
    q = np.multiply(slope, slope, out=np.empty_like(slope))
    q *= 6.0 * _GELU_C * _GELU_A
    q += 2.0 * _GELU_C
    slope *= q
    np.subtract(1.0, a, out=q)
    q *= a
    slope *= q
    slope += a
    slope *= g
    return slope


def _gelu_curvature(x):
    """d2 gelu / dx2 in Tensor ops (used only for gradients of gradients)."""
    xc = x.clip(-10.0, 10.0)
    x2 = xc * xc
    slope = (x2 * (3.0 * _GELU_A) + 1.0) * _GELU_C  # d/dx of the tanh's argument
    t = ((x2 * _GELU_A + 1.0) * xc * _GELU_C).tanh()
    return (1.0 - t * t) * (slope - xc * t * slope * slope + x2 * (3.0 * _GELU_C * _GELU_A))


def _vjp_gelu_backward(g2, out, xs, needs):
    g, x, y = xs  # y, gelu's output, only carries the gate: the gradient through x is the whole one
    return [
        gelu_backward((g2, x, y)) if needs[0] else None,
        g2 * g * _gelu_curvature(x) if needs[1] else None,
        None,
    ]


gelu = Unary(
    "gelu",
    _gelu,
    lambda g, out, x: gelu_backward((g, x, out)),
    saves_output=True,
    doc="0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))",
    keeps_shape=True,
)
gelu_backward = Variadic(
    "gelu_backward",
    _gelu_backward,
    _vjp_gelu_backward,
    doc="g * gelu'(x), reading the gate gelu saved beside its output y: the VJP of gelu as one node",
)


# ───────────────────────────── linear layers ─────────────────────────────


def _linear(arrays):
    x, weight = arrays[0], arrays[1]
    out = x @ weight.T
    if len(arrays) == 3:
        out += arrays[2]  # out is a fresh array: add the bias in place
    return out


def _in_dtype_of(grad, x):
    """``grad`` in ``x``'s dtype (a float32 input beside a float64 weight gets a float32 gradient)."""
    dtype = x.data.dtype
    return grad if grad.data.dtype is dtype or grad.data.dtype == dtype else astype(grad, dtype)


def _vjp_linear(g, out, xs, needs):
    # Shapes hold by construction (linear is registered ``fitted``): only mixed dtypes need a cast.
    x, weight = xs[0], xs[1]
    grads = [
        _in_dtype_of(matmul(g, weight), x) if needs[0] else None,  # (..., in)
        _in_dtype_of(linear_weight_grad(g, x), weight) if needs[1] else None,  # (out, in)
    ]
    if len(xs) == 3:
        rows = _ALL_AXES[g.data.ndim - 1]  # every leading axis
        grads.append(_in_dtype_of(_sum_axes(g, rows, False), xs[2]) if needs[2] else None)  # (out,)
    return grads


def _linear_weight_grad(g, x):
    if g.ndim != 2:  # (N, out) and (N, in): every leading axis is a batch axis
        g, x = g.reshape((-1, g.shape[-1])), x.reshape((-1, x.shape[-1]))
    return g.T @ x  # (out, in), C-ordered like the weight


linear_weight_grad = Binary(
    "linear_weight_grad",
    _linear_weight_grad,
    lambda G, out, g, x: linear((x, G)),
    lambda G, out, g, x: matmul(g, G),
    doc="g.T @ x over every leading axis: the weight gradient of linear as one node",
)


linear = Variadic(
    "linear",
    _linear,
    _vjp_linear,
    doc="x @ weight.T + bias (weight (out, in)): a Linear layer as one node",
    fitted=True,
)


# ───────────────────────────── mean squared error ─────────────────────────────

_REDUCTIONS = ("mean", "sum", "none")


def _mse_loss(a, b, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"mse_loss: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    diff = a - b
    squares = diff * diff
    if reduction == "none":
        return squares
    if reduction == "sum" or squares.size == 0:  # the mean of nothing is nan, as in NumPy and PyTorch
        return squares.sum() if reduction == "sum" else np.full((), np.nan, squares.dtype)
    return squares.sum() / squares.size


def _mse_slope(reduction: str, size: int) -> float:
    """d loss / d diff**2 times 2: the factor in the gradient 2 (a - b) / n."""
    return 2.0 / size if reduction == "mean" and size else 2.0


def _mse_loss_backward(arrays, slope):
    g, a, b = arrays
    return (a - b) * (g * scalar_operand(slope, g.dtype))


def _vjp_mse_loss_backward(g2, out, xs, needs, slope):
    g, a, b = xs
    through_diff = g2 * g * slope if needs[1] or needs[2] else None
    return [
        g2 * (a - b) * slope if needs[0] else None,  # summed to g's shape by Variadic
        through_diff,
        -through_diff if needs[2] else None,
    ]


mse_loss_backward = Variadic(
    "mse_loss_backward",
    _mse_loss_backward,
    _vjp_mse_loss_backward,
    doc="(a - b) * g * slope: the VJP of mse_loss as one node",
)
mse_loss = Binary(
    "mse_loss",
    _mse_loss,
    lambda g, out, a, b, reduction: mse_loss_backward((g, a, b), _mse_slope(reduction, a.data.size)),
    lambda g, out, a, b, reduction: mse_loss_backward((g, b, a), _mse_slope(reduction, b.data.size)),
    doc="mean (or sum, or none) of (a - b)**2 as one node",
)


# ───────────────────────────── layer normalization ─────────────────────────────
# layer_norm standardizes over the last n axes; nn.functional.layer_norm adds the scale and
# shift with mul and add. Its VJP is the helper below, one node, whose own rules are written
# in Tensor ops (from the derivation in its docstring), so every order of gradient works.


def _trailing(ndim: int, n_axes: int) -> tuple:
    return tuple(range(ndim - n_axes, ndim))


def _inverse_count(x, n_axes) -> float:
    """1 / (number of values normalized together); an empty row has nothing to divide."""
    return 1.0 / max(math.prod(x.shape[x.ndim - n_axes :]), 1)


def _standardized(x, n_axes, eps):
    """(x - mean) / sqrt(var + eps) over the last ``n_axes`` axes, and 1 / sqrt(var + eps)."""
    axes = _trailing(x.ndim, n_axes)
    scale = _inverse_count(x, n_axes)
    centred = x - x.sum(axis=axes, keepdims=True) * scalar_operand(scale, x.dtype)
    variance = (centred * centred).sum(axis=axes, keepdims=True)
    variance *= scalar_operand(scale, x.dtype)
    variance += scalar_operand(eps, x.dtype)
    rstd = np.sqrt(variance, out=variance)
    np.divide(1, rstd, out=rstd)
    centred *= rstd
    return centred, rstd


def _layer_norm(x, n_axes, eps):
    if not 0 < n_axes <= x.ndim:
        raise ShapeError(f"layer_norm: cannot normalize the last {n_axes} axes of a tensor of shape {x.shape}")
    return _standardized(x, n_axes, eps)[0]


def _layer_norm_backward(u, x, n_axes, eps):
    xhat, rstd = _standardized(x, n_axes, eps)
    axes = _trailing(x.ndim, n_axes)
    scale = scalar_operand(_inverse_count(x, n_axes), x.dtype)
    mean_u = u.sum(axis=axes, keepdims=True) * scale
    mean_ux = (u * xhat).sum(axis=axes, keepdims=True) * scale
    xhat *= mean_ux
    out = u - mean_u
    out -= xhat
    out *= rstd
    return out


def _vjp_layer_norm_backward_x(g2, out, u, x, n_axes, eps):
    """d/dx of <g2, A_x(u)>, where A_x(u) = r (u - mean(u) - xh mean(u xh)) is layer_norm's VJP.

    Per row of n values, with r = 1 / sqrt(var + eps) and xh the standardized x:
    dr/dx = -r**2 xh / n, d mean(u xh)/dx = A_x(u) / n, and likewise for g2, so
    d<g2, A_x(u)>/dx = -(r**2 xh / n) S - r (b A_x(u) + a A_x(g2)) with a = mean(u xh),
    b = mean(g2 xh) and S = sum(g2 u) - n (mean(u) mean(g2) + a b).
    """
    axes = _trailing(x.ndim, n_axes)
    n = max(math.prod(x.shape[x.ndim - n_axes :]), 1)
    centred = x - x.mean(axes, keepdims=True)
    r = ((centred * centred).mean(axes, keepdims=True) + eps) ** -0.5
    xh = centred * r
    a = (u * xh).mean(axes, keepdims=True)
    b = (g2 * xh).mean(axes, keepdims=True)
    s = (g2 * u).sum(axes, keepdims=True) - (u.mean(axes, keepdims=True) * g2.mean(axes, keepdims=True) + a * b) * n
    return -(r * r * xh * s) * (1.0 / n) - r * (b * out + a * layer_norm_backward(g2, x, n_axes, eps))


layer_norm_backward = Binary(
    "layer_norm_backward",
    _layer_norm_backward,
    lambda g2, out, u, x, n_axes, eps: layer_norm_backward(g2, x, n_axes, eps),  # A_x is symmetric
    _vjp_layer_norm_backward_x,
    saves_output=True,
    doc="the VJP of layer_norm as one node: r (u - mean(u) - xh mean(u xh))",
)
layer_norm = Unary(
    "layer_norm",
    _layer_norm,
    lambda g, out, x, n_axes, eps: layer_norm_backward(g, x, n_axes, eps),
    doc="(x - mean) / sqrt(var + eps) over the last n axes (layer_norm before its scale and shift)",
    keeps_shape=True,
)


# ───────────────────────────── softmax cross-entropy ─────────────────────────────
# cross_entropy takes (M, C) logits and the class-index targets as they are (M of them, in any
# shape), PyTorch's ``ignore_index``, the reduction, the label smoothing eps and optionally class
# weights w (C,) (PyTorch's ``weight``). Everything that depends on the targets' values (which rows
# are ignored, the weight of each row, the mean's divisor) is worked out from them inside the
# forward and the backward (`_class_rows`, `_row_weights`), so that a recorded step
# (`autograd.compile_step`) replays it for each new batch of targets.
#
# Row i's loss is weight_i * sum_c r_ic (-log p_ic), with r_i = (1 - eps) w[t_i] onehot(t_i) + (eps / C) w
# (w = 1 without class weights: r_i is then the smoothed target distribution q_i) and weight_i 0 for
# an ignored row, else 1, divided for a mean by the number of counted rows (PyTorch: by the sum of
# their w[t_i]); its gradient is weight_i (s_i p_i - r_i) with s_i = sum_c r_ic = (1 - eps) w[t_i] +
# (eps / C) sum(w) (1 without class weights). Without smoothing, class weights are one factor per
# row: they are folded into weight_i, which keeps the fast path.


def _class_rows(target, n_classes, ignore_index, op) -> tuple[np.ndarray, np.ndarray | None]:
    """The (M,) targets with the ignored ones set to 0 (safe to index with), and the mask of the counted rows.

    The mask is None when every row counts. Raises ValueError for a target out of range.
    """
    flat = target.reshape(-1)
    if flat.size and ignore_index < 0:  # the usual case: all in range, none ignored
        kind, bits = flat.dtype.kind, 8 * flat.dtype.itemsize
        if kind == "u" or (kind == "i" and n_classes <= 1 << (bits - 1)):
            # one reduction: read as unsigned, a negative target is at least 2**(bits - 1) >= n_classes
            if (flat if kind == "u" else flat.view(_UNSIGNED[flat.dtype.itemsize])).max() < n_classes:
                return flat, None
        elif 0 <= flat.min() and flat.max() < n_classes:
            return flat, None
    counted = flat != ignore_index
    out_of_range = counted & ((flat < 0) | (flat >= n_classes))
    if out_of_range.any():
        bad = flat[np.argmax(out_of_range)]
        raise ValueError(
            f"{op}: target value {int(bad)} is out of range for {n_classes} classes "
            f"(valid: 0 to {n_classes - 1}, or ignore_index={ignore_index})"
        )
    return np.where(counted, flat, 0), counted


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_FULL_WEIGHTS: dict = {}


def _full_weights(rows: int, scale: float, dtype) -> np.ndarray:
    """``np.full(rows, scale, dtype)``, cached read-only: the row weights of a batch without ignored rows."""
    key = (rows, scale, dtype)
    weight = _FULL_WEIGHTS.get(key)
    if weight is None:
        if len(_FULL_WEIGHTS) >= 64:
            _FULL_WEIGHTS.clear()
        weight = _FULL_WEIGHTS[key] = np.full(rows, scale, dtype=dtype)
        weight.flags.writeable = False
    return weight


def _picked(safe, counted, class_weight, dtype) -> tuple[np.ndarray | None, float]:
    """The class weight of each row's target (0 where ignored) and their sum, PyTorch's divisor of a mean.

    Without class weights: None, and the number of counted rows.
    """
    if class_weight is None:
        return None, safe.shape[0] if counted is None else int(counted.sum())
    picked = class_weight[safe]
    if counted is not None:
        picked = np.where(counted, picked, 0.0).astype(dtype, copy=False)
    return picked, float(picked.sum())


def _row_weights(safe, counted, reduction, smoothing, class_weight, dtype) -> tuple:
    """weight_i of each row (see above), the class weights the loss applies itself (with smoothing: the
    smoothing term weighs every class) or None, whether a mean divides by 0 (its value is then NaN),
    and whether some row may weigh 0."""
    picked, total = _picked(safe, counted, class_weight, dtype)
    applied = None
    if picked is not None and smoothing:
        applied, picked = class_weight, None
    empty = reduction == "mean" and total == 0
    scale = 1.0 if reduction != "mean" else 0.0 if empty else 1.0 / total
    if picked is not None:
        return picked * scale, applied, empty, True
    if counted is None:
        return _full_weights(safe.shape[0], scale, dtype), applied, empty, empty
    return np.where(counted, scale, 0.0).astype(dtype, copy=False), applied, empty, True


def _weighted_cross_entropy(logits, target, weight, smoothing, reduce, class_weight, some_zero=True):
    shifted, _ = _shift(logits, -1)
    # + tiny: an all -inf row gives log(tiny) rather than log(0) and its warning
    logsumexp = np.log(np.exp(shifted).sum(axis=-1) + _tiny(shifted.dtype))
    losses = logsumexp - shifted[np.arange(shifted.shape[0]), target]
    if class_weight is not None:
        losses *= class_weight[target]
    if smoothing:
        losses *= 1.0 - smoothing
        if class_weight is None:
            losses += smoothing * (logsumexp - shifted.sum(axis=-1) * (1.0 / shifted.shape[-1]))
        else:  # (eps / C) sum_c w_c (logsumexp - shifted_c)
            losses += (smoothing / shifted.shape[-1]) * (class_weight.sum() * logsumexp - shifted @ class_weight)
    if some_zero and not weight.all():
        losses[weight == 0] = 0  # an ignored row adds nothing, even where its logits are -inf (inf * 0)
    losses *= weight
    return losses.sum() if reduce else losses


def _cross_entropy(logits, target, ignore_index, reduction, smoothing, class_weight=None):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if logits.ndim != 2 or target.size != logits.shape[0]:
        raise ShapeError(
            f"cross_entropy: expected (M, C) logits and M targets, got shapes {logits.shape}, {target.shape}"
        )
    safe, counted = _class_rows(target, logits.shape[-1], ignore_index, "cross_entropy")
    weight, applied, empty, some_zero = _row_weights(safe, counted, reduction, smoothing, class_weight, logits.dtype)
    losses = _weighted_cross_entropy(logits, safe, weight, smoothing, reduction != "none", applied, some_zero)
    if empty:  # PyTorch: the mean of nothing is NaN
        return np.full((), np.nan, dtype=losses.dtype)
    return np.asarray(losses)  # an array either way (a sum is a NumPy scalar): one tape for every batch


def _target_weights(shape: tuple, target, smoothing, dtype, class_weight) -> tuple[np.ndarray, np.ndarray | float]:
    """r = (1 - eps) w[target] onehot(target) + (eps / C) w for rows of C classes, and its row sums s.

    Without class weights (w = 1), r is q = (1 - eps) onehot(target) + eps / C and s is 1.
    """
    rows = np.arange(shape[0])
    if class_weight is None:
        r = np.full(shape, smoothing / shape[-1], dtype=dtype)
        r[rows, target] += 1.0 - smoothing
        return r, 1.0
    r = np.zeros(shape, dtype=dtype)
    r += class_weight * (smoothing / shape[-1])
    r[rows, target] += class_weight[target] * (1.0 - smoothing)
    return r, _row_totals(target, smoothing, class_weight, shape[-1])


def _row_totals(target, smoothing, class_weight, n_classes) -> np.ndarray:
    """s_i = sum_c r_ic = (1 - eps) w[t_i] + (eps / C) sum(w), the weight of softmax in row i's gradient."""
    return class_weight[target] * (1.0 - smoothing) + (smoothing / n_classes) * class_weight.sum()


def _weighted_cross_entropy_backward(g, logits, target, weight, smoothing, class_weight):
    p, _ = _shift(logits, -1)  # a fresh array: softmax is built in it, in place
    np.exp(p, out=p)
    p /= p.sum(axis=-1, keepdims=True) + _tiny(p.dtype)  # + tiny: an all -inf row gives 0, not 0 / 0
    rows = np.arange(p.shape[0])
    if class_weight is None:
        p[rows, target] -= 1.0 - smoothing
        if smoothing:
            p -= smoothing / p.shape[-1]
    else:
        p *= _row_totals(target, smoothing, class_weight, p.shape[-1])[:, None]  # s_i p_i
        p[rows, target] -= class_weight[target] * (1.0 - smoothing)
        if smoothing:
            p -= class_weight * (smoothing / p.shape[-1])
    p *= (g * weight)[:, None]  # g is 0-d (a reduced loss) or one value per row
    return p


def _cross_entropy_backward(g, logits, target, ignore_index, reduction, smoothing, class_weight=None):
    safe, counted = _class_rows(target, logits.shape[-1], ignore_index, "cross_entropy_backward")
    weight, applied = _row_weights(safe, counted, reduction, smoothing, class_weight, logits.dtype)[:2]
    return _weighted_cross_entropy_backward(g, logits, safe, weight, smoothing, applied)


_CLASS_TARGET_PARTS = ("safe", "counted", "picked", "scale", "empty", "row_weights", "row_totals", "target_matrix")


def _class_targets(scores, target, ignore_index, reduction, smoothing, class_weight, part):
    """One array of the bookkeeping of class-index targets for (M, C) ``scores`` (see `class_targets`)."""
    n_classes, dtype = scores.shape[-1], scores.dtype
    safe, counted = _class_rows(target, n_classes, ignore_index, "class_targets")
    if part == "safe":
        return safe
    if part == "counted":
        return np.ones(safe.shape, dtype=bool) if counted is None else counted
    if part in ("picked", "scale", "empty"):
        picked, total = _picked(safe, counted, class_weight, dtype)
        if part == "picked":  # without class weights: 1 for a counted row
            if picked is None:
                return np.ones(safe.shape, dtype=dtype) if counted is None else counted.astype(dtype)
            return picked
        if part == "empty":
            return np.asarray(total == 0)
        return np.asarray(1.0 / total if total else 0.0, dtype=dtype)
    weight, applied = _row_weights(safe, counted, reduction, smoothing, class_weight, dtype)[:2]
    if part == "row_weights":
        return weight
    if part == "row_totals":
        if applied is None:
            return np.ones(safe.shape, dtype=dtype)
        return _row_totals(safe, smoothing, applied, n_classes)
    if part == "target_matrix":
        return _target_weights(scores.shape, safe, smoothing, dtype, applied)[0]
    raise ValueError(f"class_targets: part must be one of {_CLASS_TARGET_PARTS}, got {part!r}")


class_targets = NonDifferentiable(
    "class_targets",
    _class_targets,
    doc="one constant of class-index targets (safe targets, counted rows, class weights, a mean's 1 / divisor, "
    "row weights, r): nll_loss and cross_entropy's second-order rules",
)


def _applies_class_weight(class_weight, smoothing) -> bool:
    """Whether cross_entropy applies the class weights itself (else they are folded into the row weights)."""
    return class_weight is not None and bool(smoothing)


def _vjp_cross_entropy_backward_g(g2, out, g, logits, target, ignore_index, reduction, smoothing, class_weight=None):
    # the row weights, targets r and totals s are constants: class_targets computes them from the targets
    attrs = (logits, target, ignore_index, reduction, smoothing, class_weight)
    p = logits.softmax(-1)
    if _applies_class_weight(class_weight, smoothing):
        p = p * class_targets(*attrs, "row_totals").reshape((-1, 1))
    r = class_targets(*attrs, "target_matrix")
    return (g2 * (p - r)).sum(-1) * class_targets(*attrs, "row_weights")  # (M,); summed to g's shape by Binary


def _vjp_cross_entropy_backward_logits(
    g2, out, g, logits, target, ignore_index, reduction, smoothing, class_weight=None
):
    attrs = (logits, target, ignore_index, reduction, smoothing, class_weight)
    p = logits.softmax(-1)
    scale = g * class_targets(*attrs, "row_weights")  # constant in the logits, like s
    if _applies_class_weight(class_weight, smoothing):
        scale = scale * class_targets(*attrs, "row_totals")
    u = g2 * scale.reshape((-1, 1))
    return p * (u - (p * u).sum(-1, keepdims=True))  # softmax's VJP


cross_entropy_backward = Binary(
    "cross_entropy_backward",
    _cross_entropy_backward,
    _vjp_cross_entropy_backward_g,
    _vjp_cross_entropy_backward_logits,
    doc="(s * softmax(logits) - r) * g * weight per row: the VJP of cross_entropy as one node",
)
cross_entropy = Unary(
    "cross_entropy",
    _cross_entropy,
    lambda g, out, logits, target, ignore_index, reduction, smoothing, class_weight=None: cross_entropy_backward(
        g, logits, target, ignore_index, reduction, smoothing, class_weight
    ),
    doc="softmax cross-entropy of (M, C) logits against class indices (ignore_index, class weights, "
    "label smoothing; mean, sum or none), as one node",
)


# ───────────────────────────── attention ─────────────────────────────


def _attention_weights(arrays, mask, scale):
    q, k = arrays
    s = np.matmul(q, np.swapaxes(k, -1, -2))  # (..., L, S), a fresh array: the rest works in place
    s *= scalar_operand(scale, s.dtype)
    if mask is not None:
        s += mask  # additive: 0 where a query sees a key, -inf where it does not
    peak = s.max(axis=-1, keepdims=True)
    lowest = _lowest(s.dtype)
    np.clip(peak, lowest, -lowest, out=peak)  # a row masked everywhere stays -inf (weights 0), not NaN
    s -= peak
    np.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    total += _tiny(s.dtype)
    s /= total
    return s


def _vjp_attention_weights(gp, p, xs, needs, mask, scale):
    # softmax's rule, then the two matmul rules of the scores, with the scale folded in once
    q, k = xs
    ds = p * (gp - (gp * p).sum(-1, True)) * scale  # (..., L, S)
    return [ds @ k if needs[0] else None, ds.mT @ q if needs[1] else None]


attention_weights = Variadic(
    "attention_weights",
    _attention_weights,
    _vjp_attention_weights,
    saves_output=True,
    doc="softmax(q @ k.T * scale + mask) over the keys: the weights of attention as one node",
)


def attention(q, k, v, mask, scale):
    """softmax(q @ k.T * scale + mask) @ v as two nodes: the fused weights (kept for backward) and a matmul.

    Args:
        q, k, v: Tensors of shapes (..., L, E), (..., S, E), (..., S, Ev).
        mask: None, or a constant additive array broadcastable to (..., L, S) (0 and -inf).
        scale: the score scale.

    Returns:
        The attention output, (..., L, Ev).
    """
    return matmul(attention_weights((q, k), mask, scale), v)
