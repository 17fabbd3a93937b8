"""Stateless neural-network functions: activations, normalization, attention and losses.

What PyTorch keeps in ``torch.nn.functional``: ``relu``, ``gelu``, ``softmax``, ``dropout``,
``layer_norm``, ``linear``, ``embedding``, ``scaled_dot_product_attention`` and the losses
(``cross_entropy``, ``nll_loss``, ``mse_loss``, ``l1_loss``, ``binary_cross_entropy``,
``binary_cross_entropy_with_logits``), and for images and sequences ``conv2d``, ``conv1d``,
``max_pool2d``, ``avg_pool2d``, ``pad``, ``unfold``, ``fold`` and ``flatten`` (the primitives
of `autograd.conv`). Every function is a composite of the public autograd Tensor API
(methods, operators, ``autograd.where``, ``autograd.conv``), so gradients, and gradients
of gradients, come from the engine; no function here adds derivative code. Every value that
depends on a tensor's values (a mask, a target's weight, a mean's divisor) is computed by an
autograd operation, never by NumPy on ``.data``, and no branch depends on values: a recorded
step (``autograd.compile_step``) replays the operations for each new batch. NumPy on ``.data``
appears only in checks that raise.

Conventions that differ from PyTorch, on purpose:

- The class axis of logits is the LAST axis: ``cross_entropy`` takes ``(N, C)`` or
  ``(N, T, C)`` logits (PyTorch wants ``(N, C, T)``), the way nanoGPT flattens its logits.
- Loss options (``reduction``, ``ignore_index``, ``label_smoothing``, ``weight``,
  ``pos_weight``) are keyword-only, so that PyTorch's positional ``weight`` cannot land on
  another option by mistake.
- Shape mismatches between a loss's input and target raise ``autograd.ShapeError`` (a
  ``ValueError``) instead of broadcasting.

Imports: numpy, autograd and nn.random only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd
from autograd import ShapeError, Tensor

from .random import default_rng

__all__ = [
    "avg_pool2d",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "cross_entropy",
    "dropout",
    "embedding",
    "flatten",
    "fold",
    "gelu",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "pad",
    "relu",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
    "unfold",
]

_REDUCTIONS = ("mean", "sum", "none")


# ───────────────────────────── helpers ─────────────────────────────


# An ndarray argument (a batch, a target) is copied into a Tensor by the ``array`` primitive, not by
# the Tensor constructor: a recorded step (autograd.compile_step) replays primitives only, so it then
# copies each new batch rather than keeping the first one's values.


def _as_tensor(x: Any) -> Tensor:
    """``x`` itself when it is a Tensor, else a constant Tensor of its data (ndarrays keep their dtype)."""
    if isinstance(x, Tensor):
        return x
    if x.__class__ is np.ndarray and x.dtype != object:
        return autograd.ops.array(x, None)
    return autograd.tensor(x)


def _like(value: Any, x: Tensor) -> Tensor:
    """``value`` as a Tensor; non-Tensor data is converted to ``x``'s floating dtype (no silent promotion)."""
    if isinstance(value, Tensor):
        return value
    if value.__class__ is np.ndarray:
        return autograd.ops.array(value, x.dtype)
    return Tensor(np.asarray(value, dtype=x.dtype))


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_same_shape(x: Tensor, target: Tensor, op: str) -> None:
    if x.shape != target.shape:
        raise ShapeError(
            f"{op}: input shape {x.shape} and target shape {target.shape} differ "
            "(losses do not broadcast; reshape the target to the input's shape)"
        )


def _check_float(x: Tensor, op: str, what: str = "input") -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: {what} must be a floating-point tensor, got dtype {x.dtype}")


def _integer_array(values: Any, op: str, what: str) -> np.ndarray:
    """Integer class indices as an ndarray; floats and booleans are refused with a TypeError."""
    array = values.data if isinstance(values, Tensor) else np.asarray(values)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{op}: {what} must hold integers, got dtype {array.dtype}")
    return array


def _softplus_exact(z: Tensor) -> Tensor:
    """log(1 + e**z) without overflow, with the right gradient (sigmoid(z)) everywhere, 0 included.

    Each branch sees an input clipped to its own side of 0, so ``exp`` never overflows and no
    infinity reaches the unused branch (whose gradient ``where`` zeroes). A branchless
    ``relu(z) + log(1 + exp(-|z|))`` would give the gradient 0 instead of 0.5 at z = 0,
    because both kinks use the subgradient 0 there.
    """
    positive = z > 0  # a primitive (not NumPy on z.data): a recorded step replays it
    upper = z.clip(0.0, None)  # z where z > 0
    lower = z.clip(None, 0.0)  # z where z <= 0
    # Without a log1p primitive, log(1 + t) loses the relative precision of a tiny t (it is 0
    # below t = 1e-16); the absolute error stays under 1e-16 and the gradient t / (1 + t) is exact.
    return autograd.where(positive, upper + ((-upper).exp() + 1.0).log(), (lower.exp() + 1.0).log())


# ───────────────────────────── activations ─────────────────────────────


def relu(x: Tensor) -> Tensor:
    """max(x, 0), elementwise (gradient 0 at 0).

    Args:
        x: input tensor.

    Returns:
        A tensor of ``x``'s shape.
    """
    return _as_tensor(x).relu()


def sigmoid(x: Tensor) -> Tensor:
    """The logistic function 1 / (1 + e**-x), elementwise (stable for any x).

    Args:
        x: input tensor.

    Returns:
        A tensor of ``x``'s shape, with values in [0, 1].
    """
    return _as_tensor(x).sigmoid()


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent, elementwise.

    Args:
        x: input tensor.

    Returns:
        A tensor of ``x``'s shape, with values in [-1, 1].
    """
    return _as_tensor(x).tanh()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else ``negative_slope * x`` (PyTorch: the gradient at 0 is ``negative_slope``).

    Args:
        x: input tensor.
        negative_slope: slope for negative inputs.

    Returns:
        A tensor of ``x``'s shape.
    """
    x = _as_tensor(x)
    return autograd.where(x > 0, x, x * negative_slope)


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish), elementwise.

    Args:
        x: input tensor.

    Returns:
        A tensor of ``x``'s shape.
    """
    x = _as_tensor(x)
    return x * x.sigmoid()


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1 / beta) * log(1 + exp(beta * x)), elementwise, as PyTorch's ``softplus``.

    Computed without overflow (``softplus(1000) == 1000``, ``softplus(-1000) == 0``). Where
    ``beta * x > threshold`` the result is ``x`` itself (PyTorch's linear region).

    Args:
        x: input tensor.
        beta: sharpness (must be positive).
        threshold: above this value of ``beta * x`` the function is the identity.

    Returns:
        A tensor of ``x``'s shape.
    """
    if not beta > 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    x = _as_tensor(x)
    z = x * beta if beta != 1 else x
    soft = _softplus_exact(z)
    if beta != 1:
        soft = soft * (1.0 / beta)
    # always selected (no branch on the values: a recorded step replays the same operations for any x)
    return autograd.where(z > threshold, x, soft)


_SQRT_HALF = math.sqrt(0.5)
_ONE_OVER_SQRT_PI = 1.0 / math.sqrt(math.pi)

# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23
# (1969), as in Netlib SPECFUN's CALERF: near double precision on each interval.
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03)
_ERF_A_TOP = 1.85777706184603153e-1
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_ERFC_C = (
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
)
_ERFC_C_TOP = 2.15311535474403846e-8
_ERFC_D = (
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
)
_ERFC_P = (
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
)
_ERFC_P_TOP = 1.63153871373020978e-2
_ERFC_Q = (
    2.56852019228982242e00,
    1.87295284992346047e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
)
_ERF_SMALL = 0.46875
_ERFC_LARGE = 4.0
_ERFC_ZERO = 28.0  # exp(-28**2) underflows to exactly 0 in float64, and so does erfc


def _rational(t: Tensor, top: float, numerator: Sequence[float], denominator: Sequence[float]) -> Tensor:
    """Cody's rational form: (((top*t + n0)*t + n1)*t ... + n_last) / (((t + d0)*t + d1)*t ... + d_last)."""
    num = t * top
    den = t
    for n, d in zip(numerator[:-1], denominator[:-1]):
        num = (num + n) * t
        den = (den + d) * t
    return (num + numerator[-1]) / (den + denominator[-1])


def _one_plus_erf(z: Tensor) -> Tensor:
    """1 + erf(z) with Cody's rational approximations, written in Tensor ops (so it differentiates).

    Three intervals of |z|: below 0.46875 erf itself; up to 4 and beyond, erfc(|z|) =
    exp(-z**2) * R(|z|). For z < 0, 1 + erf(z) = erfc(|z|), so the result keeps its
    relative accuracy far into the negative tail. Each interval is evaluated on an input
    clipped into it, so the unused ones stay finite and ``where`` gives them zero gradient.
    """
    # Every interval is evaluated (no branch on the values: a recorded step replays the same
    # operations for any z), and the masks are primitives on z, not NumPy on z.data.
    y = z.abs()
    small = y < _ERF_SMALL
    zs = z.clip(-_ERF_SMALL, _ERF_SMALL)
    result = zs * _rational(zs * zs, _ERF_A_TOP, _ERF_A, _ERF_B) + 1.0
    ym = y.clip(_ERF_SMALL, _ERFC_LARGE)
    erfc = (-(ym * ym)).exp() * _rational(ym, _ERFC_C_TOP, _ERFC_C, _ERFC_D)
    yl = y.clip(_ERFC_LARGE, _ERFC_ZERO)
    inv = 1.0 / (yl * yl)
    tail = inv * _rational(inv, _ERFC_P_TOP, _ERFC_P, _ERFC_Q)
    erfc_large = (-(yl * yl)).exp() * ((_ONE_OVER_SQRT_PI - tail) / yl)
    erfc = autograd.where(y < _ERFC_LARGE, erfc, erfc_large)
    outer = autograd.where(z < 0, erfc, 2.0 - erfc)
    return autograd.where(small, result, outer)


def gelu(x: Tensor, approximate: str = "tanh") -> Tensor:
    """Gaussian error linear unit, x * Phi(x), elementwise.

    ``approximate='tanh'`` (the default here, as in GPT-2; PyTorch's default is ``'none'``):
    0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))).
    ``approximate='none'``: the exact 0.5 * x * (1 + erf(x / sqrt(2))), with erf from W. J.
    Cody's rational approximations (close to double precision) written in Tensor ops; it
    records about 100 operations per call (against 10), so forward and backward take about ten
    times as long as with ``'tanh'`` (an ``erf`` primitive in autograd would remove the gap).

    Args:
        x: input tensor.
        approximate: ``'tanh'`` or ``'none'``.

    Returns:
        A tensor of ``x``'s shape.
    """
    x = _as_tensor(x)
    if approximate == "tanh":
        return autograd.fused.gelu(x)  # one fused node (forward and gradient rule in autograd/fused.py)
    if approximate == "none":
        return x * _one_plus_erf(x * _SQRT_HALF) * 0.5
    raise ValueError(f"gelu: approximate must be 'tanh' or 'none', got {approximate!r}")


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, computed stably (the Tensor method).

    Args:
        x: input tensor.
        axis: the axis that sums to 1.

    Returns:
        A tensor of ``x``'s shape.
    """
    return _as_tensor(x).softmax(axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``, computed stably (the Tensor method).

    Args:
        x: input tensor.
        axis: the axis normalised over.

    Returns:
        A tensor of ``x``'s shape.
    """
    return _as_tensor(x).log_softmax(axis)


# ───────────────────────────── regularisation and normalisation ─────────────────────────────


def dropout(x: Tensor, p: float = 0.5, training: bool = True, rng: np.random.Generator | None = None) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by 1 / (1 - p).

    The identity when ``training`` is False or ``p == 0``; all zeros when ``p == 1``.

    Args:
        x: input tensor.
        p: probability of zeroing an element, in [0, 1].
        training: apply dropout (True) or pass ``x`` through (False).
        rng: the NumPy Generator to draw the mask from (default: the shared ``nn.random`` one).

    Returns:
        A tensor of ``x``'s shape.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
    x = _as_tensor(x)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    keep = default_rng(rng).random(x.shape) >= p
    return x * (keep * (1.0 / (1.0 - p))).astype(x.dtype)


def layer_norm(
    x: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` axes, then scale and shift (PyTorch's ``layer_norm``).

    y = (x - mean) / sqrt(var + eps) * weight + bias, with the biased (divide-by-n) variance.

    Args:
        x: input of shape ``(..., *normalized_shape)``.
        normalized_shape: the trailing shape to normalise over (an int for one axis).
        weight: optional scale of shape ``normalized_shape``.
        bias: optional shift of shape ``normalized_shape``.
        eps: added to the variance for numerical stability.

    Returns:
        A tensor of ``x``'s shape.
    """
    x = _as_tensor(x)
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    n = len(shape)
    if n == 0 or n > x.ndim or x.shape[x.ndim - n :] != shape:
        raise ShapeError(
            f"layer_norm: normalized_shape {shape} does not match the trailing dimensions of input shape {x.shape}"
        )
    for name, param in (("weight", weight), ("bias", bias)):
        if param is not None and tuple(param.shape) != shape:
            raise ShapeError(f"layer_norm: {name} has shape {tuple(param.shape)}, expected normalized_shape {shape}")
    y = autograd.fused.layer_norm(x, n, float(eps))  # one node for the standardization (autograd/fused.py)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


# ───────────────────────────── linear maps and lookups ─────────────────────────────


_linear = autograd.fused.linear


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, with PyTorch's layout (weight of shape ``(out, in)``).

    Args:
        x: input of shape ``(..., in)``.
        weight: matrix of shape ``(out, in)``.
        bias: optional vector of shape ``(out,)``.

    Returns:
        A tensor of shape ``(..., out)``.
    """
    x = _as_tensor(x)
    x_shape, w_shape = x.data.shape, weight.data.shape  # arrays' own shapes: this runs on every layer call
    if len(w_shape) != 2 or not x_shape or x_shape[-1] != w_shape[1]:
        raise ShapeError(
            f"linear: input of shape {x_shape} does not fit weight of shape {w_shape} "
            "(expected input (..., in) and weight (out, in))"
        )
    if bias is None:
        return _linear((x, weight))
    if bias.data.shape != (w_shape[0],):
        raise ShapeError(f"linear: bias has shape {bias.data.shape}, expected ({w_shape[0]},)")
    return _linear((x, weight, bias))


def embedding(idx: Tensor | np.ndarray, weight: Tensor) -> Tensor:
    """Rows of ``weight`` picked by integer indices (the gradient adds up over repeated indices).

    Args:
        idx: integer indices of any shape (Tensor, ndarray or nested list), each in [0, V).
        weight: table of shape ``(V, D)``.

    Returns:
        A tensor of shape ``idx.shape + (D,)``.
    """
    index = _integer_array(idx, "embedding", "indices")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must have shape (num_embeddings, dim), got {tuple(weight.shape)}")
    rows = weight.shape[0]
    if index.size and (index.min() < 0 or index.max() >= rows):
        bad = index.min() if index.min() < 0 else index.max()
        raise IndexError(
            f"embedding: index {int(bad)} is out of range [0, {rows}) for weight of shape {tuple(weight.shape)} "
            f"(indices of shape {index.shape})"
        )
    return weight[index]


# ───────────────────────────── attention ─────────────────────────────


def scaled_dot_product_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    attn_mask: Tensor | np.ndarray | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    training: bool = True,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """softmax(q @ k.T * scale + mask) @ v, with PyTorch's semantics.

    A boolean ``attn_mask`` marks with True the (query, key) pairs that take part in
    attention; the others get a score of -inf. A floating-point ``attn_mask`` is added to
    the scores. ``is_causal`` lets query i see keys 0..i only (the lower-left triangle, as
    PyTorch). A query row with every key masked gives an output of zeros and sends no
    gradient (and no NaN) anywhere, as recent PyTorch does (its math backend zeroes such
    rows since release 2.5; older releases gave NaN).

    Args:
        q: queries of shape ``(..., L, E)``.
        k: keys of shape ``(..., S, E)``.
        v: values of shape ``(..., S, Ev)``.
        attn_mask: boolean or float mask broadcastable to ``(..., L, S)``.
        dropout_p: dropout probability on the attention weights (used when ``training``).
        is_causal: apply a causal mask (cannot be combined with ``attn_mask``).
        scale: score scale; default ``1 / sqrt(E)``.
        training: apply dropout (PyTorch's function always does when ``dropout_p > 0``).
        rng: NumPy Generator for the dropout mask (default: the shared ``nn.random`` one).

    Returns:
        A tensor of shape ``(..., L, Ev)``.
    """
    q, k, v = _as_tensor(q), _as_tensor(k), _as_tensor(v)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ShapeError(
            f"scaled_dot_product_attention: q {q.shape}, k {k.shape}, v {v.shape} do not fit "
            "(expected q (..., L, E), k (..., S, E), v (..., S, Ev))"
        )
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal=True, not both")
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    if dropout_p == 0 or not training:
        additive = _additive_mask(q, k, attn_mask, is_causal)
        if additive is not _COMPOSITE:
            return _attention(q, k, v, additive, float(scale))  # two nodes: autograd.fused.attention
    scores = (q @ k.mT) * scale  # (..., L, S)
    L, S = scores.shape[-2], scores.shape[-1]
    keep = None
    if is_causal:
        keep = np.tril(np.ones((L, S), dtype=bool))
    elif attn_mask is not None:
        mask_data = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        try:
            np.broadcast_shapes(mask_data.shape, scores.shape)
        except ValueError:
            raise ShapeError(
                f"scaled_dot_product_attention: attn_mask of shape {mask_data.shape} does not broadcast to "
                f"the scores' shape {scores.shape}"
            ) from None
        if mask_data.dtype == bool:
            keep = mask_data
        else:
            scores = scores + _like(attn_mask, scores)
    if keep is not None:
        scores = autograd.where(keep, scores, -math.inf)
    attn = scores.softmax(-1)  # a row masked entirely gets weights 0 (and gradient 0), not NaN
    if dropout_p > 0:
        attn = dropout(attn, dropout_p, training, rng)
    return attn @ v  # (..., L, Ev)


_attention = autograd.fused.attention
_COMPOSITE = object()  # the mask asks for the op-by-op path (a float mask that requires grad)
_CAUSAL_MASKS: dict = {}


def _additive_mask(q: Tensor, k: Tensor, attn_mask: Any, is_causal: bool) -> Any:
    """The mask as the fused attention takes it: None, or a constant array of 0 and -inf (or the float mask)."""
    L, S = q.shape[-2], k.shape[-2]
    dtype = np.result_type(q.dtype, k.dtype)
    if is_causal:
        key = (L, S, dtype)
        mask = _CAUSAL_MASKS.get(key)
        if mask is None:  # built once per shape: 0 on and below the diagonal, -inf above (PyTorch's is_causal)
            if len(_CAUSAL_MASKS) >= 64:
                _CAUSAL_MASKS.clear()
            mask = _CAUSAL_MASKS[key] = np.where(np.tril(np.ones((L, S), dtype=bool)), 0.0, -np.inf).astype(dtype)
            mask.flags.writeable = False
        return mask
    if attn_mask is None:
        return None
    if isinstance(attn_mask, Tensor) and attn_mask.requires_grad:
        return _COMPOSITE
    mask = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
    scores_shape = (*np.broadcast_shapes(q.shape[:-2], k.shape[:-2]), L, S)
    try:
        if np.broadcast_shapes(mask.shape, scores_shape) != scores_shape:
            return _COMPOSITE  # the mask adds batch axes of its own: let broadcasting make the scores
    except ValueError:
        raise ShapeError(
            f"scaled_dot_product_attention: attn_mask of shape {mask.shape} does not broadcast to "
            f"the scores' shape {scores_shape}"
        ) from None
    # made by primitives from the mask: a recorded step replays them for each new mask
    if mask.dtype == bool:
        return autograd.ops.numpy_call(_additive, mask, dtype).data
    return mask if mask.dtype == dtype else autograd.ops.array(mask, dtype).data


def _additive(mask: np.ndarray, dtype: Any) -> np.ndarray:
    """A boolean mask (True: attend) as the additive one: 0 where True, -inf where False."""
    return np.where(mask, 0.0, -np.inf).astype(dtype)


# ───────────────────────────── losses ─────────────────────────────


def _class_targets(scores: Tensor, target: Any, op: str) -> tuple[Tensor, np.ndarray]:
    """Check (..., C) scores against (...) integer targets: the scores as (M, C) and the targets' array.

    The targets' values (ignored ones, out-of-range ones) are left to the primitives that read them
    (``autograd.fused.cross_entropy`` and ``class_targets``), which a recorded step replays.
    """
    _check_float(scores, op, "input")
    labels = _integer_array(target, op, "target (class indices)")
    if scores.ndim == 0 or labels.shape != scores.shape[:-1]:
        raise ShapeError(
            f"{op}: target shape {labels.shape} does not fit input shape {scores.shape} "
            "(expected input (N, C) or (N, T, C) with the classes LAST, and target (N,) or (N, T))"
        )
    rows = scores if scores.ndim == 2 else scores.reshape(-1, scores.shape[-1])  # no reshape node for (N, C)
    return rows, labels


def nll_loss(
    log_probs: Tensor, target: Any, *, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Negative log-likelihood of integer targets: -weight[target] * log_probs[..., target].

    As PyTorch: ``'mean'`` divides the sum by ``sum_i weight[target_i]`` over the targets not
    ignored (their count without weights), and gives nan when that is 0.

    Args:
        log_probs: log-probabilities of shape ``(C,)``, ``(N, C)`` or ``(N, T, C)`` (classes LAST).
        target: integer class indices of shape ``()``, ``(N,)`` or ``(N, T)``, each in [0, C) or
            equal to ``ignore_index``.
        weight: optional per-class weights of shape ``(C,)`` (a constant, as in PyTorch).
        ignore_index: targets with this value add nothing to the loss or the mean.
        reduction: ``'mean'``, ``'sum'`` or ``'none'`` (the target's shape).

    Returns:
        The loss: a scalar tensor, or the per-target losses for ``'none'`` (0 where ignored).
    """
    op = "nll_loss"
    _check_reduction(reduction, op)
    log_probs = _as_tensor(log_probs)
    flat, labels = _class_targets(log_probs, target, op)
    _check_class_range(labels, flat.shape[-1], ignore_index, op)
    class_weight = _constant_class_weight(weight, log_probs, op)

    def part(name: str) -> Tensor:  # the targets' bookkeeping, from their values, by a primitive
        return _class_targets_part(flat, labels, ignore_index, reduction, 0.0, class_weight, name)

    loss = -flat[np.arange(flat.shape[0]), part("safe").data]  # (M,)
    if class_weight is not None:
        loss = loss * part("picked")  # 0 where ignored
    loss = autograd.where(part("counted"), loss, 0.0)  # not a product: an ignored -inf logit would give inf * 0
    if reduction == "none":
        return loss.reshape(labels.shape)
    total = loss.sum()
    if reduction == "sum":
        return total
    # 'mean': divided by the number of counted targets, or the sum of their class weights, as PyTorch;
    # 0 / 0 = nan, with a gradient of zero rather than nan
    return autograd.where(part("empty"), math.nan, total * part("scale"))


_class_targets_part = autograd.fused.class_targets


def _check_class_range(labels: np.ndarray, n_classes: int, ignore_index: int, op: str) -> None:
    """Refuse a target outside 0..C-1 that is not ``ignore_index`` (a check only: it computes nothing used)."""
    flat = labels.reshape(-1)
    if not flat.size or ignore_index < 0 <= flat.min() and flat.max() < n_classes:
        return
    out_of_range = (flat != ignore_index) & ((flat < 0) | (flat >= n_classes))
    if out_of_range.any():
        raise ValueError(
            f"{op}: target value {int(flat[np.argmax(out_of_range)])} is out of range for {n_classes} classes "
            f"(valid: 0 to {n_classes - 1}, or ignore_index={ignore_index})"
        )


def _class_weight(weight: Any, logits: Tensor, op: str) -> Tensor | None:
    """PyTorch's per-class ``weight``: one value per class (shape (C,)), or None."""
    if weight is None:
        return None
    data = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    n_classes = logits.shape[-1]
    if data.shape != (n_classes,):
        raise ShapeError(
            f"{op}: weight of shape {data.shape} does not fit input of shape {logits.shape}: "
            f"expected one weight per class, shape ({n_classes},) (the classes are the input's LAST axis)"
        )
    if data.dtype.kind not in "fiu":
        raise TypeError(f"{op}: weight must hold real numbers (one per class), got dtype {data.dtype}")
    return _like(weight, logits) if data.dtype.kind == "f" else autograd.ops.array(data, logits.dtype)


def _constant_class_weight(weight: Any, scores: Tensor, op: str) -> np.ndarray | None:
    """The class weights of class-index targets as an array of the scores' dtype: a constant, as in PyTorch."""
    class_weight = _class_weight(weight, scores, op)
    if class_weight is None:
        return None
    if class_weight.requires_grad and autograd.is_grad_enabled():
        raise ValueError(
            f"{op}: weight requires grad, but the loss of class-index targets is not differentiable in the "
            "class weights (as in PyTorch); pass weight.detach()"
        )
    data = class_weight.data
    return data if data.dtype == scores.dtype else autograd.ops.array(data, scores.dtype).data


def _soft_cross_entropy(
    logits: Tensor, probs: Tensor, weight: Tensor | None, smoothing: float, reduction: str
) -> Tensor:
    """-sum_c w_c q_c log p_c per row, q = (1 - eps) target + eps / C: PyTorch's class-probability form.

    Written in Tensor ops, so the gradient reaches the logits, the target and the weight.
    'mean' divides by the number of rows (not by the weights), as PyTorch.
    """
    n_classes = logits.shape[-1]
    q = probs * (1.0 - smoothing) + smoothing / n_classes if smoothing else probs
    if weight is not None:
        q = q * weight
    losses = -(logits.log_softmax(-1) * q).sum(-1)  # the input's shape without its class axis
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    rows = math.prod(logits.shape[:-1])
    if rows == 0:  # PyTorch: nan for the mean of no rows
        return total * 0.0 + math.nan
    return total * (1.0 / rows)


def cross_entropy(
    logits: Tensor,
    target: Any,
    *,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy against class indices or class probabilities, stable for logits of any size.

    With ``p = softmax(logits)``, ``eps = label_smoothing``, class weights ``w`` (1 when
    ``weight`` is None) and C classes, as PyTorch:

    - class indices t (integer target of the input's shape without the class axis): row i's
      loss is ``(1 - eps) w[t_i] (-log p_i[t_i]) + (eps / C) sum_c w_c (-log p_i[c])``, 0 where
      ``t_i == ignore_index``. ``'mean'`` divides the sum by ``sum_i w[t_i]`` over the rows not
      ignored (their count without weights): nan when that is 0 (every target ignored).
    - class probabilities y (floating-point target of the input's shape): row i's loss is
      ``-sum_c w_c q_ic log p_ic`` with ``q = (1 - eps) y + eps / C``; ``'mean'`` divides by the
      number of rows. The gradient reaches the target (and the weight) too. ``ignore_index``
      cannot be used (PyTorch refuses a non-negative one).

    Class indices run as one fused node (autograd/fused.py).

    Args:
        logits: scores of shape ``(C,)``, ``(N, C)`` or ``(N, T, C)``; the classes are on the
            LAST axis (PyTorch puts them on axis 1).
        target: integer class indices of shape ``(N,)`` or ``(N, T)``, each in [0, C) or equal
            to ``ignore_index``; or floating-point class probabilities of the logits' shape.
        weight: optional per-class weights of shape ``(C,)`` (a constant for class indices,
            as PyTorch, where the loss is not differentiable in it).
        ignore_index: class-index targets with this value add nothing to the loss or the mean.
        reduction: ``'mean'``, ``'sum'`` or ``'none'`` (the input's shape without the class axis).
        label_smoothing: eps in [0, 1].

    Returns:
        The loss: a scalar tensor, or the per-row losses for ``'none'`` (0 where ignored).
    """
    op = "cross_entropy"
    _check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    logits = _as_tensor(logits)
    smoothing = float(label_smoothing)
    labels = target.data if isinstance(target, Tensor) else np.asarray(target)
    kind, scores_shape = labels.dtype.kind, logits.data.shape
    if labels.shape == scores_shape and scores_shape:  # PyTorch: the input's shape means class probabilities
        _check_float(logits, op, "input")
        if kind != "f":
            raise TypeError(
                f"{op}: target of shape {labels.shape} has the input's shape, so it holds class probabilities, "
                f"which must be floating-point; got dtype {labels.dtype} "
                f"(class indices are integers of shape {logits.shape[:-1]})"
            )
        if ignore_index >= 0:
            raise ValueError(
                f"{op}: ignore_index={ignore_index} is not supported with class-probability targets "
                f"(target of the input's shape {logits.shape}); give class indices of shape "
                f"{logits.shape[:-1]} to ignore some"
            )
        probs = target if isinstance(target, Tensor) else autograd.ops.array(labels, logits.dtype)
        return _soft_cross_entropy(logits, probs, _class_weight(weight, logits, op), smoothing, reduction)
    if kind == "f" and scores_shape:
        if labels.shape == logits.shape[:-1]:
            raise TypeError(
                f"{op}: target (class indices) must hold integers, got dtype {labels.dtype} and shape "
                f"{labels.shape} (class probabilities must have the input's shape {logits.shape})"
            )
        raise ShapeError(
            f"{op}: target of shape {labels.shape} and dtype {labels.dtype} fits input of shape {logits.shape} "
            f"neither as class probabilities (the input's shape {logits.shape}) nor as class indices "
            f"(integers of shape {logits.shape[:-1]}; the classes are the input's LAST axis)"
        )
    flat, labels = _class_targets(logits, labels, op)
    class_weight = None if weight is None else _constant_class_weight(weight, logits, op)
    # One fused node (autograd/fused.py). It reads the targets as they are and works out from their
    # values the ignored rows, the weight of each row and the mean's divisor (and checks the range),
    # so that a recorded step replays all of it for each new batch of targets.
    losses = autograd.fused.cross_entropy(flat, labels, ignore_index, reduction, smoothing, class_weight)
    if reduction == "none" and losses.shape != labels.shape:
        return losses.reshape(labels.shape)
    return losses


def _prediction_and_target(input: Any, target: Any, reduction: str, op: str) -> tuple[Tensor, Tensor]:
    """Checked operands of a regression loss: a float prediction and a target of the same shape."""
    _check_reduction(reduction, op)
    input = _as_tensor(input)
    _check_float(input, op)
    target = _like(target, input)
    _check_same_shape(input, target, op)
    return input, target


def mse_loss(input: Tensor, target: Any, *, reduction: str = "mean") -> Tensor:
    """Mean squared error: (input - target)**2, reduced.

    Args:
        input: predictions.
        target: values of the same shape (a Tensor, which may require grad, or array data).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        The loss: a scalar tensor, or elementwise losses for ``'none'``.
    """
    input, target = _prediction_and_target(input, target, reduction, "mse_loss")
    return autograd.fused.mse_loss(input, target, reduction)  # one fused node; see autograd.fused


def l1_loss(input: Tensor, target: Any, *, reduction: str = "mean") -> Tensor:
    """Mean absolute error: |input - target|, reduced (gradient 0 where they are equal).

    Args:
        input: predictions.
        target: values of the same shape (a Tensor, which may require grad, or array data).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        The loss: a scalar tensor, or elementwise losses for ``'none'``.
    """
    input, target = _prediction_and_target(input, target, reduction, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def _check_weight(weight: Any, x: Tensor, op: str, name: str) -> Tensor:
    weight = _like(weight, x)
    try:
        fits = np.broadcast_shapes(weight.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        hint = f" (e.g. one weight per class on the last axis: shape {x.shape[-1:]})" if name == "pos_weight" else ""
        raise ShapeError(
            f"{op}: {name} of shape {weight.shape} does not broadcast to the input's shape {x.shape}{hint}"
        )
    return weight


def binary_cross_entropy(probs: Tensor, target: Any, *, weight: Any = None, reduction: str = "mean") -> Tensor:
    """-weight * (y * log p + (1 - y) * log(1 - p)), with each log clamped to >= -100 as PyTorch.

    Probabilities of exactly 0 or 1 give a finite loss (100 per element at most). Where a
    log is clamped, its gradient is 0 (PyTorch instead divides by max(p * (1 - p), 1e-12)).

    Args:
        probs: probabilities in [0, 1].
        target: values in [0, 1] of the same shape.
        weight: optional per-element weight, broadcastable to ``probs``'s shape (a Tensor
            weight may require grad; PyTorch refuses one).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        The loss: a scalar tensor, or elementwise losses for ``'none'``.
    """
    op = "binary_cross_entropy"
    _check_reduction(reduction, op)
    probs = _as_tensor(probs)
    _check_float(probs, op)
    target = _like(target, probs)
    _check_same_shape(probs, target, op)
    if probs.size and (probs.data.min() < 0 or probs.data.max() > 1 or np.isnan(probs.data).any()):
        raise ValueError(
            f"{op}: input must hold probabilities in [0, 1], got values in [{probs.data.min()}, "
            f"{probs.data.max()}] (use binary_cross_entropy_with_logits for logits)"
        )
    tiny = float(np.finfo(probs.dtype).tiny)  # log(0) would warn; the clamp at -100 hides the difference
    log_p = probs.clip(tiny, None).log().clip(-100.0, None)
    log_q = (1.0 - probs).clip(tiny, None).log().clip(-100.0, None)
    loss = -(target * log_p + (1.0 - target) * log_q)
    if weight is not None:
        loss = loss * _check_weight(weight, probs, op, "weight")
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    logits: Tensor,
    target: Any,
    *,
    weight: Any = None,
    pos_weight: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy on logits, stable for any logit: BCE(sigmoid(x), y) without forming sigmoid.

    loss = weight * (pos_weight * y * softplus(-x) + (1 - y) * softplus(x)), PyTorch's formula
    (PyTorch writes it (1 - y) x + (1 + (pos_weight - 1) y) softplus(-x)); for ``pos_weight=None``
    it is max(x, 0) - x * y + log(1 + exp(-|x|)). Each softplus is computed branchwise, so
    x = +-1e4 gives finite losses and gradients, and the gradient at x = 0 is sigmoid(0) - y exactly.

    Args:
        logits: raw scores.
        target: values in [0, 1] of the same shape (differentiable, as in PyTorch).
        weight: optional per-element weight, broadcastable to the logits' shape.
        pos_weight: optional weight of positive examples, broadcastable to the logits' shape:
            shape ``(C,)`` gives one per class on the last axis for multi-label ``(..., C)``
            logits, as PyTorch. Tensor weights may require grad (PyTorch refuses them).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        The loss: a scalar tensor, or elementwise losses for ``'none'``.
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, op)
    logits = _as_tensor(logits)
    _check_float(logits, op)
    target = _like(target, logits)
    _check_same_shape(logits, target, op)
    if pos_weight is None:
        loss = _softplus_exact(logits) - logits * target
    else:
        pos_weight = _check_weight(pos_weight, logits, op, "pos_weight")
        loss = pos_weight * target * _softplus_exact(-logits) + (1.0 - target) * _softplus_exact(logits)
    if weight is not None:
        loss = loss * _check_weight(weight, logits, op, "weight")
    return _reduce(loss, reduction)


# ───────────────────────────── convolution and pooling ─────────────────────────────
# Images are (N, C, H, W) and sequences (N, C, L), as in PyTorch; an unbatched (C, H, W) or
# (C, L) input is run as a batch of one. The work is in `autograd.conv`: a convolution is one
# im2col copy (`unfold`) and one matmul, pooling is a strided slice op per kernel offset.

_conv = autograd.conv


def _batched(x: Tensor, spatial: int, op: str) -> tuple[Tensor, bool]:
    """``x`` with a batch axis (an unbatched input gets one of size 1), and whether it was added."""
    if x.ndim == spatial + 1:
        return x.reshape((1, *x.shape)), True
    if x.ndim != spatial + 2:
        layout = "(N, C, H, W) or (C, H, W)" if spatial == 2 else "(N, C, L) or (C, L)"
        raise ShapeError(f"{op}: expected an input of shape {layout}, got shape {x.shape}")
    return x, False


def _unbatched(out: Tensor, added: bool) -> Tensor:
    return out.reshape(out.shape[1:]) if added else out


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as in every deep-learning library), PyTorch's ``F.conv2d``.

    ``out[n, o] = bias[o] + sum_c sum_(i, j) weight[o, c, i, j] * x_padded[n, c, s h + d i, s w + d j]``
    over the input channels ``c`` of output channel ``o``'s group.

    Args:
        input: (N, C_in, H, W), or (C_in, H, W) unbatched.
        weight: (C_out, C_in / groups, kH, kW).
        bias: optional (C_out,).
        stride, padding, dilation: ints or (height, width) pairs; padding may also be
            ``"valid"`` (none) or ``"same"`` (the output has the input's size; stride 1 only,
            an odd total padding puts its extra unit at the bottom and right, as PyTorch).
        groups: split the channels into ``groups`` independent convolutions.

    Returns:
        (N, C_out, OH, OW) with ``OH = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1``
        (likewise OW).

    Raises:
        ShapeError: the channels, groups or bias do not fit the weight, or the dilated kernel
            is larger than the padded input.
    """
    x, added = _batched(_as_tensor(input), 2, "conv2d")
    return _unbatched(_conv.conv2d(x, weight, bias, stride, padding, dilation, groups), added)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution over sequences, PyTorch's ``F.conv1d``: a `conv2d` over a height of 1.

    Args:
        input: (N, C_in, L), or (C_in, L) unbatched.
        weight: (C_out, C_in / groups, k).
        bias: optional (C_out,).
        stride, padding, dilation: ints (padding may be ``"valid"`` or ``"same"``).
        groups: as for `conv2d`.

    Returns:
        (N, C_out, L_out) with ``L_out = floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1``.
    """
    x, added = _batched(_as_tensor(input), 1, "conv1d")
    return _unbatched(_conv.conv1d(x, weight, bias, stride, padding, dilation, groups), added)


def _pool_geometry(op: str, kernel_size: Any, stride: Any, padding: Any) -> tuple:
    """Kernel, stride (None or an empty sequence: the kernel) and padding (at most half the kernel) as pairs."""
    kernel = _conv.pair(kernel_size, "kernel_size", op)
    empty = stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0)
    step = kernel if empty else _conv.pair(stride, "stride", op)
    pads = _conv.pair(padding, "padding", op, minimum=0)
    _conv.check_pool_padding(op, kernel, pads)
    return kernel, step, pads


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over each window, PyTorch's ``F.max_pool2d`` (padding counts as -inf).

    Where a window holds its maximum more than once, the whole gradient goes to the FIRST one
    in row-major order (the topmost, then the leftmost), as PyTorch's CPU kernel does; a window
    holding NaN is NaN and sends its gradient to its last NaN, as PyTorch. Gradients of
    gradients work (the backward is itself differentiable).

    Args:
        input: (N, C, H, W), or (C, H, W) unbatched.
        kernel_size: an int or (kH, kW).
        stride: an int or a pair; None means ``kernel_size``.
        padding: an int or a pair, at most half the kernel size.
        dilation: spacing between a window's elements.
        ceil_mode: round the output size up (a last, partial window), as PyTorch.
        return_indices: also return where each maximum is, as flat indices ``h * W + w`` into
            each (H, W) plane (int64, not differentiable), as PyTorch.

    Returns:
        (N, C, OH, OW), and the indices with ``return_indices``.
    """
    op = "max_pool2d"
    x, added = _batched(_as_tensor(input), 2, op)
    kernel, step, pads = _pool_geometry(op, kernel_size, stride, padding)
    dilation = _conv.pair(dilation, "dilation", op)
    out = _conv.max_pool2d(x, kernel, step, pads, dilation, bool(ceil_mode))
    if not return_indices:
        return _unbatched(out, added)
    indices = _conv.max_pool2d_indices(x, out, kernel, step, pads, dilation)  # a primitive: from the values
    return _unbatched(out, added), _unbatched(indices, added)


def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean over each window, PyTorch's ``F.avg_pool2d`` (zero padding).

    Args:
        input: (N, C, H, W), or (C, H, W) unbatched.
        kernel_size: an int or (kH, kW).
        stride: an int or a pair; None means ``kernel_size``.
        padding: an int or a pair, at most half the kernel size.
        ceil_mode: round the output size up (a last, partial window), as PyTorch.
        count_include_pad: divide by the whole window, padding included (PyTorch's default;
            a window that ``ceil_mode`` lets run past the padding counts only up to it), or,
            when False, by the number of input elements in it.
        divisor_override: divide every window by this number instead.

    Returns:
        (N, C, OH, OW).
    """
    op = "avg_pool2d"
    x, added = _batched(_as_tensor(input), 2, op)
    kernel, step, pads = _pool_geometry(op, kernel_size, stride, padding)
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer)) or divisor_override < 1):
        raise ValueError(f"{op}: divisor_override must be a positive int or None, got {divisor_override!r}")
    out = _conv.avg_pool2d(
        x,
        kernel,
        step,
        pads,
        bool(ceil_mode),
        bool(count_include_pad),
        None if divisor_override is None else int(divisor_override),
    )
    return _unbatched(out, added)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the trailing axes with a constant, PyTorch's ``F.pad``; negative amounts crop.

    ``pad`` lists amounts from the LAST axis backwards: ``(left, right)`` pads the last axis,
    ``(left, right, top, bottom)`` the last two, and so on. Its gradient is the matching slice.

    Args:
        input: a tensor of any shape.
        pad: an even number of ints, two per padded axis (at most two per axis of ``input``).
        mode: only ``"constant"``.
        value: the fill value (None: 0).

    Returns:
        The padded tensor.
    """
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got {mode!r}")
    amounts = tuple(int(a) for a in pad)
    return _conv.pad(_as_tensor(input), amounts, 0.0 if value is None else value)


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Every sliding window as a column (im2col), PyTorch's ``F.unfold``: (N, C, H, W) -> (N, C kH kW, L).

    Column ``l`` holds window ``l`` (row-major over the OH x OW output positions), its rows are
    channel-major, then the kernel's rows and columns. Its gradient is `fold`.
    """
    op = "unfold"
    x = _as_tensor(input)
    kernel = _conv.pair(kernel_size, "kernel_size", op)
    return _conv.unfold(
        x,
        kernel,
        _conv.pair(dilation, "dilation", op),
        _conv.pair(padding, "padding", op, 0),
        _conv.pair(stride, "stride", op),
    )


def fold(
    input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
) -> Tensor:
    """Add columns back into their windows (col2im), PyTorch's ``F.fold``: (N, C kH kW, L) -> (N, C, H, W).

    The adjoint of `unfold`: overlapping windows add up. ``output_size`` is (H, W).
    """
    op = "fold"
    return _conv.fold(
        _as_tensor(input),
        _conv.pair(output_size, "output_size", op),
        _conv.pair(kernel_size, "kernel_size", op),
        _conv.pair(dilation, "dilation", op),
        _conv.pair(padding, "padding", op, 0),
        _conv.pair(stride, "stride", op),
    )


def flatten(input: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Merge the axes ``start_dim`` to ``end_dim`` into one (the default keeps the batch axis), as ``nn.Flatten``."""
    return _as_tensor(input).flatten(start_dim, end_dim)
