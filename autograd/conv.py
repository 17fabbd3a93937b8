"""Convolution and pooling primitives for images in PyTorch's NCHW layout: the table of `conv2d`'s parts.

A convolution is im2col plus one matrix product: `unfold` copies every (kH, kW) window of the
(zero-padded) input into a column, once, through a strided view (``as_strided``), and
`conv2d_matmul` multiplies the weight into the columns and adds the bias, as one node that keeps
the columns for backward. So the weight gradient is one product on them (`conv2d_weight_grad`),
and the input gradient one product (`conv2d_cols_grad`) and a col2im: `fold`, a scatter-add
written as one strided slice add per kernel offset (kH * kW of them, never a loop over pixels).
`unfold` and `fold` are each other's VJP and the three products' VJPs are each other, so every
order of gradient of a convolution is made of these five primitives.

- ``unfold`` / ``fold``: PyTorch's ``F.unfold`` and ``F.fold`` (im2col and col2im).
- ``conv2d_matmul`` (+ ``conv2d_cols_grad``, ``conv2d_weight_grad``): weight @ columns + bias,
  per group, and its two gradients.
- ``max_pool2d`` (+ ``max_pool2d_backward`` and its VJP ``max_pool2d_pick``; ``max_pool2d_indices``):
  a window's gradient goes to its FIRST maximum in row-major order (the lowest row, then the
  lowest column, of the tied values), as PyTorch's CPU kernel does; a window holding NaN is NaN
  and sends its gradient to its last NaN, as PyTorch.
- ``avg_pool2d`` (+ ``avg_pool2d_backward``): PyTorch's divisors (``count_include_pad``,
  ``divisor_override``, windows cut short by ``ceil_mode``).
- ``pad``: constant padding of the trailing axes, in ``F.pad``'s order (last axis first);
  negative amounts crop, so the VJP of a pad is the pad by the negated amounts (a slice).

`conv2d` and `conv1d` (a conv2d over a height of 1) are the composites built from these. A batch
of images may lie in memory batch-innermost (see "memory layout" below): the values, and what
every caller sees, are the same. Kernel sizes, strides, padding and dilations are ``(height,
width)`` pairs of ints here; `nn.functional` accepts single ints as well. Imports: numpy,
`autograd.ops`, `autograd.primitive` and the Tensor.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import ops
from .primitive import Binary, NonDifferentiable, ShapeError, Unary, Variadic
from .tensor import Tensor

Pair = tuple[int, int]

# ───────────────────────────── geometry ─────────────────────────────


def pair(value: Any, name: str, op: str, minimum: int = 1) -> Pair:
    """``value`` (an int or a sequence of two ints) as a ``(height, width)`` pair, each at least ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value), int(value))
    else:
        try:
            values = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
        if len(values) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(values) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return values


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool = False) -> int:
    """PyTorch's output length of a convolution or pooling along one axis (may be < 1: nothing fits).

    ``floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1``; with ``ceil_mode`` the
    ceiling, less the last window if it would start in the right padding.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _output_hw(op: str, shape: tuple, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, ceil_mode=False):
    """The (OH, OW) of a window op on an (N, C, H, W) input, or a ShapeError that says why no window fits."""
    if len(shape) != 4:
        raise ShapeError(f"{op}: expected an input of shape (N, C, H, W), got shape {shape}")
    hw = shape[2:]
    out = tuple(conv_output_size(hw[a], kernel[a], stride[a], padding[a], dilation[a], ceil_mode) for a in (0, 1))
    if min(out) < 1:
        span = tuple(dilation[a] * (kernel[a] - 1) + 1 for a in (0, 1))
        padded = tuple(hw[a] + 2 * padding[a] for a in (0, 1))
        dilated = f" (dilated to {span})" if span != kernel else ""
        raise ShapeError(
            f"{op}: kernel {kernel}{dilated} is larger than the padded input {padded} "
            f"(input of shape {shape}, padding {padding})"
        )
    return out


def _tap(offset: int, stride: int, n_out: int, n_in: int) -> tuple[slice, slice] | None:
    """Along one axis, for a kernel offset: the output positions whose input ``o * stride + offset`` is inside.

    Returns:
        ``(output slice, input slice)``, or None when no output position reads inside the input.
    """
    lo = max(0, -(offset // stride))
    hi = min(n_out, (n_in - 1 - offset) // stride + 1)
    if hi <= lo:
        return None
    start = lo * stride + offset
    return slice(lo, hi), slice(start, start + (hi - lo - 1) * stride + 1, stride)


def _taps(in_hw, out_hw, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Iterator[tuple]:
    """``(i, j, output index, input index)`` for each kernel offset that reads inside the (unpadded) input.

    Padding is never materialized: each offset touches only the part of the output whose
    input lies inside, so a window op is kH * kW strided slice operations on whole batches.
    """
    rows = [_tap(i * dilation[0] - padding[0], stride[0], out_hw[0], in_hw[0]) for i in range(kernel[0])]
    cols = [_tap(j * dilation[1] - padding[1], stride[1], out_hw[1], in_hw[1]) for j in range(kernel[1])]
    for i, row in enumerate(rows):
        if row is None:
            continue
        for j, col in enumerate(cols):
            if col is not None:
                yield i, j, (Ellipsis, row[0], col[0]), (Ellipsis, row[1], col[1])


# ───────────────────────────── memory layout ─────────────────────────────
# Tensors are (N, C, H, W) to every caller, but a batch of images may lie in memory as (C, H, W, N):
# the examples innermost (the strides say so; the values are the same). Then each strided slice of
# a window op runs over rows of OW * N (or N) contiguous numbers instead of OW, the im2col copy and
# the col2im adds are long contiguous runs, and a convolution is ONE matrix product for the whole
# batch, (C_out, C_in kH kW) @ (C_in kH kW, OH OW N), whose result is already in that layout for the
# next layer. `unfold` chooses the layout; every other op here allocates its result in its input's
# layout, and NumPy's elementwise ops keep it (ReLU, the bias add). `reshape` (Flatten) reads it as
# an (N, C H W) view with the batch innermost, which BLAS takes as it is.
#
# Tuning knobs (tests change them): `unfold` lays a batch of at least BATCH_INNERMOST images out
# batch-innermost when it already is, or when it has at most BATCH_INNERMOST_CHANNELS channels (a
# network's input images: moving the batch innermost is a strided copy, cheap for so few channels).
BATCH_INNERMOST = 8
BATCH_INNERMOST_CHANNELS = 4


def batch_innermost(a: np.ndarray) -> bool:
    """True when ``a``'s first axis (the batch) is its innermost in memory, for a batch of several."""
    return a.shape[0] > 1 and a.strides[0] == a.itemsize and a.ndim > 1 and not a.flags.c_contiguous


def _empty_like(a: np.ndarray, shape: tuple, fill: Any = None, dtype: Any = None) -> np.ndarray:
    """An array of ``shape`` laid out in memory like ``a`` (same axis order), filled with ``fill`` if given."""
    out = np.empty_like(a, dtype=dtype, shape=shape)  # order="K": the axis order of a's strides
    if fill is not None:
        out.fill(fill)
    return out


def _in_layout_of(a: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``a`` itself, or a copy in ``like``'s layout when the two are laid out differently (mixed strides are slow)."""
    if batch_innermost(a) == batch_innermost(like):
        return a
    out = np.empty_like(like, shape=a.shape)
    out[...] = a
    return out


# ───────────────────────────── im2col and col2im ─────────────────────────────


def _unfold(x, kernel_size, dilation, padding, stride):
    oh, ow = _output_hw("unfold", x.shape, kernel_size, stride, padding, dilation)
    n, c, h, w = x.shape
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    inner = n >= BATCH_INNERMOST and (c <= BATCH_INNERMOST_CHANNELS or batch_innermost(x))
    if ph or pw or (inner and not batch_innermost(x)):
        shape = (c, h + 2 * ph, w + 2 * pw, n) if inner else (n, c, h + 2 * ph, w + 2 * pw)
        padded = np.zeros(shape, dtype=x.dtype) if ph or pw else np.empty(shape, dtype=x.dtype)
        if inner:
            padded[:, ph : ph + h, pw : pw + w] = x.transpose(1, 2, 3, 0)
        else:
            padded[:, :, ph : ph + h, pw : pw + w] = x
    else:
        padded = x.transpose(1, 2, 3, 0) if inner else x
    if inner:  # columns (C kH kW, OH OW N), returned as the (N, C kH kW, OH OW) view of them
        s_c, s_h, s_w, s_n = padded.strides
        windows = as_strided(
            padded, (c, kh, kw, oh, ow, n), (s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw, s_n), writeable=False
        )
        return windows.copy().reshape(c * kh * kw, oh * ow, n).transpose(2, 0, 1)
    s_n, s_c, s_h, s_w = padded.strides
    windows = as_strided(
        padded, (n, c, kh, kw, oh, ow), (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw), writeable=False
    )
    return windows.copy().reshape(n, c * kh * kw, oh * ow)  # the one im2col copy, C-ordered for BLAS


def _fold(cols, output_size, kernel_size, dilation, padding, stride):
    (kh, kw), (h, w) = kernel_size, output_size
    if cols.ndim != 3 or cols.shape[1] % (kh * kw):
        raise ShapeError(
            f"fold: expected columns of shape (N, C * {kh} * {kw}, L) for kernel {kernel_size}, got shape {cols.shape}"
        )
    n, rows, length = cols.shape
    c = rows // (kh * kw)
    oh, ow = _output_hw("fold", (n, c, h, w), kernel_size, stride, padding, dilation)
    if oh * ow != length:
        raise ShapeError(
            f"fold: columns of shape {cols.shape} hold {length} blocks, but output size {output_size} with kernel "
            f"{kernel_size}, stride {stride}, padding {padding} and dilation {dilation} has {oh} * {ow} = {oh * ow}"
        )
    blocks = cols.reshape(n, c, kh, kw, oh, ow)  # a view in either layout
    if batch_innermost(cols):
        out = np.zeros((c, h, w, n), dtype=cols.dtype).transpose(3, 0, 1, 2)
    else:
        out = np.zeros((n, c, h, w), dtype=cols.dtype)
    for i, j, to, frm in _taps((h, w), (oh, ow), kernel_size, stride, padding, dilation):
        out[frm] += blocks[:, :, i, j][to]
    return out


unfold = Unary(
    "unfold",
    _unfold,
    lambda g, out, x, kernel_size, dilation, padding, stride: fold(
        g, x.shape[2:], kernel_size, dilation, padding, stride
    ),
    saves_input=True,
    doc="im2col: every (kH, kW) window of (N, C, H, W) as a column of (N, C*kH*kW, L), as PyTorch's F.unfold",
)
fold = Unary(
    "fold",
    _fold,
    lambda g, out, cols, output_size, kernel_size, dilation, padding, stride: unfold(
        g, kernel_size, dilation, padding, stride
    ),
    saves_input=False,
    doc="col2im: add the columns (N, C*kH*kW, L) back into their windows of (N, C, H, W), as F.fold",
)


# ───────────────────────────── convolutions ─────────────────────────────


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _same_padding(op: str, kernel: Pair, stride: Pair, dilation: Pair) -> tuple[Pair, tuple | None]:
    """``padding="same"``: the symmetric padding, and the (left, right, top, bottom) pad of an odd extra, if any.

    As PyTorch: the total padding of an axis is ``dilation * (kernel - 1)``, its odd unit goes on
    the right (bottom), and a stride other than 1 is refused.
    """
    if stride != (1, 1):
        raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
    totals = [dilation[a] * (kernel[a] - 1) for a in (0, 1)]
    if all(t % 2 == 0 for t in totals):
        return (totals[0] // 2, totals[1] // 2), None
    extra = (0, totals[1] % 2, 0, totals[0] % 2)
    return (totals[0] // 2, totals[1] // 2), extra


# ───────────── the product: conv2d_matmul, with its gradients conv2d_cols_grad and conv2d_weight_grad ─────────────
# weight (C_out, C, kH, kW) as (G, C_out / G, C kH kW) times the columns (N, G C kH kW, L) grouped as
# (N, G, C kH kW, L). In the (N, C, H, W) layout that is one matmul per example (NumPy's batched
# matmul); batch-innermost, the columns are one (G C kH kW, L N) matrix and each group one product.
# The three primitives are bilinear and each one's VJPs are the other two, so every order works.

PANEL = 256  # columns per BLAS call in a product of a small matrix with a very wide one (see _wide_matmul)


def _wide_matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[...] = a @ b`` for a (R, K) and b (K, M) with M large, in panels of PANEL columns when R K is small.

    OpenBLAS (0.3.31, SkylakeX kernel) multiplies a small matrix into a very wide one 1.7 to 3 times
    slower in one call than in panels of a few hundred columns (measured for R K <= 1152:
    (16, 9) @ (9, 25088) took 150 us at once, 89 us in panels of 256; for (32, 144) @ (144, 6272)
    one call was as fast), so the panels are one batched matmul over column blocks (views).
    """
    r, k = a.shape
    m = b.shape[1]
    main = m - m % PANEL
    if r * k > 2048 or main < 2 * PANEL:
        return np.matmul(a, b, out=out)
    np.matmul(
        a,
        b[:, :main].reshape(k, -1, PANEL).transpose(1, 0, 2),
        out=out[:, :main].reshape(r, -1, PANEL).transpose(1, 0, 2),
    )
    if main < m:
        np.matmul(a, b[:, main:], out=out[:, main:])
    return out


def _wide_matmul_t(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T`` for a (R, M) and b (K, M) with M large (a weight gradient), in panels as `_wide_matmul`."""
    (r, m), k = a.shape, b.shape[0]
    main = m - m % PANEL
    if r * k > 2048 or main < 2 * PANEL:
        return (b @ a.T).T  # 1.4 to 1.7 times faster than a @ b.T with OpenBLAS for such shapes
    out = (
        a[:, :main].reshape(r, -1, PANEL).transpose(1, 0, 2) @ b[:, :main].reshape(k, -1, PANEL).transpose(1, 2, 0)
    ).sum(0)
    if main < m:
        out += a[:, main:] @ b[:, main:].T
    return out


def _grouped(a: np.ndarray, groups: int) -> list:
    """The ``groups`` row blocks of a 2-D array (a view each)."""
    rows = a.shape[0] // groups
    return [a[i * rows : (i + 1) * rows] for i in range(groups)]


def _flat(a: np.ndarray) -> np.ndarray:
    """A batch-innermost (N, R, OH, OW...) array as the (R, rest N) matrix its memory is (a view; else a copy)."""
    return a.transpose(*range(1, a.ndim), 0).reshape(a.shape[1], -1)


def _check_product(shapes: list, out_hw, groups) -> None:
    cols, weight = shapes[0], shapes[1]
    if (
        len(cols) != 3
        or len(weight) != 4
        or weight[0] % groups
        or cols[1] != groups * int(np.prod(weight[1:]))
        or cols[2] != out_hw[0] * out_hw[1]
        or (len(shapes) == 3 and shapes[2] != (weight[0],))
    ):
        raise ShapeError(
            f"conv2d_matmul: columns, weight (and bias) of shapes {', '.join(map(str, shapes))} do not fit an "
            f"output of (height, width) {tuple(out_hw)} with groups={groups} (expected (N, groups * C kH kW, OH OW), "
            "(C_out, C, kH, kW) and (C_out,))"
        )


def _conv2d_matmul(arrays, out_hw, groups):
    cols, weight = arrays[0], arrays[1]
    _check_product([a.shape for a in arrays], out_hw, groups)
    n, k_all, length = cols.shape
    c_out = weight.shape[0]
    w = weight.reshape(c_out, -1)
    if batch_innermost(cols):  # (C_out, OH OW N) = weight @ columns (G C kH kW, OH OW N), per group
        flat = _flat(cols)
        out = np.empty((c_out, length * n), dtype=np.result_type(w, flat))
        for w_g, c_g, o_g in zip(_grouped(w, groups), _grouped(flat, groups), _grouped(out, groups)):
            _wide_matmul(w_g, c_g, o_g)
        if len(arrays) == 3:
            out += arrays[2][:, None]
        return out.reshape(c_out, *out_hw, n).transpose(3, 0, 1, 2)
    k = k_all // groups
    w = w.reshape(groups, c_out // groups, k)
    out = np.matmul(w, cols.reshape(n, groups, k, length))  # (N, G, C_out / G, L): one product per example
    if len(arrays) == 3:
        out += arrays[2].reshape(groups, -1, 1)
    return out.reshape(n, c_out, *out_hw)


def _conv2d_cols_grad(g, weight, groups):
    """weight.T @ g, per group: the gradient of the columns, (N, G C kH kW, L), in g's layout."""
    n, c_out = g.shape[:2]
    w = weight.reshape(c_out, -1)
    if batch_innermost(g):
        gz = _flat(g)  # (C_out, OH OW N)
        out = np.empty((groups * w.shape[1], gz.shape[1]), dtype=np.result_type(w, gz))
        for w_g, g_g, o_g in zip(_grouped(w, groups), _grouped(gz, groups), _grouped(out, groups)):
            _wide_matmul(w_g.T, g_g, o_g)
        return out.reshape(out.shape[0], -1, n).transpose(2, 0, 1)
    w = w.reshape(groups, c_out // groups, -1)
    gz = g.reshape(n, groups, c_out // groups, -1)
    return np.matmul(w.transpose(0, 2, 1), gz).reshape(n, -1, gz.shape[-1])


def _conv2d_weight_grad(g, cols, weight_shape, groups):
    """g @ cols.T summed over the examples, per group: the gradient of the weight, of ``weight_shape``."""
    n, c_out = g.shape[:2]
    if batch_innermost(cols):
        gz, flat = _flat(g), _flat(cols)
        blocks = [_wide_matmul_t(g_g, c_g) for g_g, c_g in zip(_grouped(gz, groups), _grouped(flat, groups))]
        return np.concatenate(blocks).reshape(weight_shape)
    gz = g.reshape(n, groups, c_out // groups, -1)
    c = cols.reshape(n, groups, -1, cols.shape[-1])
    return np.matmul(gz, c.transpose(0, 1, 3, 2)).sum(axis=0).reshape(weight_shape)


def _vjp_conv2d_matmul(g, out, xs, needs, out_hw, groups):
    cols, weight = xs[0], xs[1]
    if batch_innermost(cols.data) and not batch_innermost(g.data) and g.data.size > g.shape[0]:
        # lay g out like the columns once (one strided copy), so both products below read it as a matrix
        n, c_out = g.shape[:2]
        rows = ops.reshape(ops.transpose(g, (1, 2, 3, 0)), (c_out, -1))  # the copy
        g = ops.transpose(ops.reshape(rows, (c_out, *g.shape[2:], n)), (3, 0, 1, 2))
    grads = [
        conv2d_cols_grad(g, weight, groups) if needs[0] else None,
        conv2d_weight_grad(g, cols, weight.shape, groups) if needs[1] else None,
    ]
    if len(xs) == 3:  # the bias: a sum of g over (N, OH, OW)
        if not needs[2]:
            grads.append(None)
        elif batch_innermost(g.data):  # along the contiguous rows of the (C_out, OH OW N) view
            grads.append(ops.sum(ops.reshape(ops.transpose(g, (1, 2, 3, 0)), (g.shape[1], -1)), 1, False))
        else:
            grads.append(ops.sum(g, (0, 2, 3), False))
    return grads


conv2d_matmul = Variadic(
    "conv2d_matmul",
    _conv2d_matmul,
    _vjp_conv2d_matmul,
    doc="weight (C_out, C_in/groups, kH, kW) times the unfolded input (N, C_in*kH*kW, L), plus bias: a "
    "convolution's product as one node, one matmul for the whole batch when it lies batch-innermost",
)
conv2d_cols_grad = Binary(
    "conv2d_cols_grad",
    _conv2d_cols_grad,
    lambda g2, out, g, weight, groups: conv2d_matmul((g2, weight), g.shape[2:], groups),
    lambda g2, out, g, weight, groups: conv2d_weight_grad(g, g2, weight.shape, groups),
    shape_message=lambda sg, sw: f"conv2d_cols_grad: a gradient of shape {sg} does not fit a weight of shape {sw}",
    doc="weight.T @ g per group: the gradient of conv2d_matmul's columns as one node",
)
conv2d_weight_grad = Binary(
    "conv2d_weight_grad",
    _conv2d_weight_grad,
    lambda g2, out, g, cols, weight_shape, groups: conv2d_matmul((cols, g2), g.shape[2:], groups),
    lambda g2, out, g, cols, weight_shape, groups: conv2d_cols_grad(g, g2, groups),
    shape_message=lambda sg, sc: f"conv2d_weight_grad: a gradient of shape {sg} does not fit columns of shape {sc}",
    doc="g @ columns.T summed over the batch, per group: the gradient of conv2d_matmul's weight as one node",
)


def _check_conv(op: str, x: Tensor, weight: Tensor, bias: Tensor | None, groups: Any, dims: int) -> None:
    """Refuse a convolution whose shapes do not fit, naming the op and the shapes."""
    spatial, kernel = ("H, W", "kH, kW") if dims == 2 else ("L", "k")
    if x.ndim != dims + 2 or weight.ndim != dims + 2:
        raise ShapeError(
            f"{op}: expected input (N, C_in, {spatial}) and weight (C_out, C_in / groups, {kernel}), "
            f"got shapes {x.shape} and {weight.shape}"
        )
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    c_in, c_out, c_group = x.shape[1], weight.shape[0], weight.shape[1]
    if c_in % groups or c_out % groups:
        raise ShapeError(
            f"{op}: groups={groups} must divide both the input channels ({c_in}, input of shape {x.shape}) "
            f"and the output channels ({c_out}, weight of shape {weight.shape})"
        )
    if c_group * groups != c_in:
        raise ShapeError(
            f"{op}: input of shape {x.shape} has {c_in} channels, but weight of shape {weight.shape} with "
            f"groups={groups} expects {c_group * groups} (weight.shape[1] * groups)"
        )
    if bias is not None and bias.shape != (c_out,):
        raise ShapeError(f"{op}: bias has shape {bias.shape}, expected ({c_out},) for weight of shape {weight.shape}")


def conv2d(
    x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
) -> Tensor:
    """2-D convolution (cross-correlation) of (N, C_in, H, W) with (C_out, C_in / groups, kH, kW), as PyTorch's.

    `unfold` (one im2col copy), one batched `matmul` (a matmul per group in the same call) and,
    with a bias, one broadcast add. The output is (N, C_out, OH, OW) with
    ``OH = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1`` (likewise OW).

    Args:
        x: input of shape (N, C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: None or (C_out,).
        stride, padding, dilation: ints or (height, width) pairs; padding may also be
            ``"valid"`` (0) or ``"same"`` (output the size of the input; stride 1 only).
        groups: split the channels into this many independent convolutions.

    Returns:
        A Tensor of shape (N, C_out, OH, OW).

    Raises:
        ShapeError: shapes that do not fit (channels, groups, a kernel larger than the padded input).
    """
    x, weight = _as_tensor(x), _as_tensor(weight)
    bias = None if bias is None else _as_tensor(bias)
    _check_conv("conv2d", x, weight, bias, groups, 2)
    return _conv2d(
        x,
        weight,
        bias,
        pair(stride, "stride", "conv2d"),
        padding,
        pair(dilation, "dilation", "conv2d"),
        groups,
        "conv2d",
    )


def _conv2d(x, weight, bias, stride: Pair, padding: Any, dilation: Pair, groups: int, op: str) -> Tensor:
    """conv2d on checked shapes: padding (an int, a pair, "valid" or "same") is resolved here."""
    kernel = weight.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            padding, extra = _same_padding(op, kernel, stride, dilation)
            if extra is not None:
                x = pad(x, extra, 0.0)
        else:
            raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    else:
        padding = pair(padding, "padding", op, minimum=0)
    out_hw = _output_hw(op, x.shape, kernel, stride, padding, dilation)
    cols = unfold(x, kernel, dilation, padding, stride)  # (N, C_in kH kW, OH OW)
    return conv2d_matmul((cols, weight) if bias is None else (cols, weight, bias), out_hw, groups)


def conv1d(
    x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
) -> Tensor:
    """1-D convolution of (N, C_in, L) with (C_out, C_in / groups, k): a `conv2d` over a height of 1.

    Args:
        x: input of shape (N, C_in, L).
        weight: (C_out, C_in / groups, k).
        bias: None or (C_out,).
        stride, padding, dilation: ints (or 1-element sequences); padding may be ``"valid"`` or ``"same"``.
        groups: as for `conv2d`.

    Returns:
        A Tensor of shape (N, C_out, L_out), ``L_out = floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1``.
    """
    x, weight = _as_tensor(x), _as_tensor(weight)
    bias = None if bias is None else _as_tensor(bias)
    _check_conv("conv1d", x, weight, bias, groups, 1)
    stride, dilation = _single(stride, "stride", 1), _single(dilation, "dilation", 1)
    if not isinstance(padding, str):
        padding = _single(padding, "padding", 0)
        if conv_output_size(x.shape[2], weight.shape[2], stride, padding, dilation) < 1:
            span = dilation * (weight.shape[2] - 1) + 1
            raise ShapeError(
                f"conv1d: kernel {weight.shape[2]} (dilated to {span}) is larger than the padded input "
                f"{x.shape[2] + 2 * padding} (input of shape {x.shape}, padding {padding})"
            )
        padding = (0, padding)
    n, c_in, length = x.shape
    c_out, c_group, k = weight.shape
    x4 = ops.reshape(x, (n, c_in, 1, length))
    out = _conv2d(
        x4, ops.reshape(weight, (c_out, c_group, 1, k)), bias, (1, stride), padding, (1, dilation), groups, "conv1d"
    )
    return ops.reshape(out, (n, c_out, out.shape[3]))


def _single(value: Any, name: str, minimum: int) -> int:
    """An int, or the one element of a 1-element sequence (PyTorch's ``_single``), at least ``minimum``."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"conv1d: {name} must be an int or a 1-element sequence, got {value!r}")
    if value < minimum:
        raise ValueError(f"conv1d: {name} must be at least {minimum}, got {value!r}")
    return int(value)


# ───────────────────────────── pooling ─────────────────────────────


def check_pool_padding(op: str, kernel: Pair, padding: Pair) -> None:
    """PyTorch's rule: a pool's padding is at most half its kernel, so every window reads some input."""
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")


def _lowest_value(dtype) -> Any:
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode):
    out_hw = _output_hw("max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    taps = list(_taps(x.shape[2:], out_hw, kernel_size, stride, padding, dilation))
    shape = (*x.shape[:2], *out_hw)
    if len(taps) > 1 and _whole(taps[0][2], shape) and _whole(taps[1][2], shape):
        out = np.maximum(x[taps[0][3]], x[taps[1][3]])  # the first two offsets read every window (x's layout)
        taps = taps[2:]
    elif taps and _whole(taps[0][2], shape):
        out = np.copy(x[taps[0][3]])  # np.copy keeps the layout
        taps = taps[1:]
    else:
        out = _empty_like(x, shape, _lowest_value(x.dtype))
    for _, _, to, frm in taps:
        target = out[to]
        np.maximum(target, x[frm], out=target)  # NaN propagates, as in PyTorch
    return out


def first_max_offsets(x: np.ndarray, out: np.ndarray, kernel_size, stride, padding, dilation) -> np.ndarray:
    """For each window of a max pool, the kernel offset ``i * kW + j`` of its first maximum (row-major order).

    PyTorch's CPU rule: offsets are visited last to first, each taking over where it holds the
    maximum, so the first one wins a tie (padding is never a candidate: a window of -inf picks its
    first input). A window holding NaN has the value NaN and picks its LAST NaN, as PyTorch does.
    -1 marks a window with no input inside it (a dilated window wholly in the padding).
    """
    n_offsets = kernel_size[0] * kernel_size[1]
    offsets = _empty_like(out, out.shape, -1, np.int8 if n_offsets < 128 else np.int32)
    taps = list(_taps(x.shape[2:], out.shape[2:], kernel_size, stride, padding, dilation))
    # offsets -= (offsets - k) * hit sets k where hit: arithmetic on small ints is several times
    # faster than a masked copy (np.copyto with where=, np.putmask)
    for i, j, to, frm in reversed(taps):
        target = offsets[to]
        target -= (target - (i * kernel_size[1] + j)) * (x[frm] == out[to])
    if out.dtype.kind == "f" and np.isnan(out).any():
        for i, j, to, frm in taps:
            target = offsets[to]
            target -= (target - (i * kernel_size[1] + j)) * np.isnan(x[frm])
    return offsets


def _disjoint(kernel_size, stride, dilation) -> bool:
    """Whether no two windows share an input element (each stride at least the dilated kernel)."""
    return all(stride[a] >= dilation[a] * (kernel_size[a] - 1) + 1 for a in (0, 1))


def _whole(index: tuple, shape: tuple) -> bool:
    """Whether a window op's output index (from `_taps`) covers every output position."""
    return index[1].stop - index[1].start == shape[2] and index[2].stop - index[2].start == shape[3]


def _max_pool2d_backward(g, x, out, kernel_size, stride, padding, dilation):
    if g.shape != out.shape:
        raise ShapeError(f"max_pool2d_backward: a gradient of shape {g.shape} does not fit the output {out.shape}")
    taps = list(_taps(x.shape[2:], out.shape[2:], kernel_size, stride, padding, dilation))
    g = _in_layout_of(g, out)
    disjoint = _disjoint(kernel_size, stride, dilation)  # each input element in one window at most: write, not add
    covered = disjoint and all(  # the windows tile the input exactly: no element is left at zero
        padding[a] == 0
        and dilation[a] == 1
        and stride[a] == kernel_size[a]
        and out.shape[2 + a] * stride[a] == x.shape[2 + a]
        for a in (0, 1)
    )
    dx = _empty_like(x, x.shape, None if covered else 0)
    if (out.dtype.kind == "f" and np.isnan(out).any()) or (g.dtype.kind == "f" and not np.isfinite(g).all()):
        # the general way (NaN windows pick their last NaN; inf * 0 would be NaN): by kernel offsets
        offsets = first_max_offsets(x, out, kernel_size, stride, padding, dilation)
        zero = np.zeros((), dtype=g.dtype)
        for i, j, to, frm in taps:
            part = np.where(offsets[to] == i * kernel_size[1] + j, g[to], zero)
            if disjoint:
                dx[frm] = part
            else:
                dx[frm] += part
        return dx
    # The fast way: ``rest`` is the gradient of the windows whose first maximum is still to be found.
    # Offsets in row-major order take rest * (x == max) and leave rest - that (exactly 0 or rest), so
    # the first maximum wins; the last offset, where it reads every window, takes what is left.
    rest = g
    for k, (_, _, to, frm) in enumerate(taps):
        target = dx[frm]
        last = k == len(taps) - 1
        if last and _whole(to, out.shape):
            part = rest
        else:
            part = np.multiply(rest[to], x[frm] == out[to], out=target if disjoint else None)
        if disjoint:
            if part is not target:
                np.copyto(target, part)
        else:
            target += part
        if not last:
            if rest is g and _whole(to, out.shape):
                rest = g - part
            else:
                if rest is g:  # a copy that the loop may change
                    rest = np.copy(g)
                rest[to] -= part
    return dx


def _max_positions(offsets: np.ndarray, in_hw, kernel_size, stride, padding, dilation) -> np.ndarray:
    """``h * W + w`` in the input plane of each window's first maximum, from its kernel offset (-1 stays -1)."""
    oh, ow = offsets.shape[2:]
    safe = np.maximum(offsets, 0).astype(np.intp)
    rows = np.arange(oh).reshape(oh, 1) * stride[0] + (safe // kernel_size[1]) * dilation[0] - padding[0]
    cols = np.arange(ow) * stride[1] + (safe % kernel_size[1]) * dilation[1] - padding[1]
    return np.where(offsets >= 0, rows * in_hw[1] + cols, -1)


def max_indices(x: np.ndarray, out: np.ndarray, kernel_size, stride, padding, dilation) -> np.ndarray:
    """PyTorch's ``return_indices``: the flat index ``h * W + w`` in its (H, W) plane of each window's first maximum."""
    offsets = first_max_offsets(x, out, kernel_size, stride, padding, dilation)
    return _max_positions(offsets, x.shape[2:], kernel_size, stride, padding, dilation).astype(np.int64)


def _max_pool2d_pick(g2, x, pooled, kernel_size, stride, padding, dilation):
    """Each window's value of ``g2`` (shaped like the input) at its first maximum, 0 for a window with no input.

    The VJP of max_pool2d_backward (a gather, the transpose of its scatter), as one primitive:
    the positions depend on the values of ``x``, so they are found in the forward.
    """
    if g2.shape != x.shape:
        raise ShapeError(f"max_pool2d_pick: a gradient of shape {g2.shape} does not fit the input {x.shape}")
    n, c, h, w = g2.shape
    offsets = first_max_offsets(x, pooled, kernel_size, stride, padding, dilation)
    positions = _max_positions(offsets, (h, w), kernel_size, stride, padding, dilation)
    found = positions >= 0
    index = np.where(found, np.arange(n * c).reshape(n, c, 1, 1) * (h * w) + positions, 0)
    picked = g2.reshape(n * c * h * w)[index]  # (N, C, OH, OW)
    return picked if found.all() else picked * found


max_pool2d = Unary(
    "max_pool2d",
    _max_pool2d,
    lambda g, out, x, kernel_size, stride, padding, dilation, ceil_mode: max_pool2d_backward(
        g, x.data, out.data, kernel_size, stride, padding, dilation
    ),
    saves_output=True,
    doc="max over each (kH, kW) window of (N, C, H, W); the gradient goes to the first maximum (row-major)",
)
max_pool2d_backward = Unary(
    "max_pool2d_backward",
    _max_pool2d_backward,
    lambda g2, out, g, x, pooled, kernel_size, stride, padding, dilation: max_pool2d_pick(
        g2, x, pooled, kernel_size, stride, padding, dilation
    ),
    saves_input=False,
    doc="each window's gradient added at its first maximum: the VJP of max_pool2d as one node",
)
max_pool2d_pick = Unary(
    "max_pool2d_pick",
    _max_pool2d_pick,
    lambda g3, out, g2, x, pooled, kernel_size, stride, padding, dilation: max_pool2d_backward(
        g3, x, pooled, kernel_size, stride, padding, dilation
    ),
    saves_input=False,
    doc="each window's value of g at its first maximum (a gather): the VJP of max_pool2d_backward as one node",
)
max_pool2d_indices = NonDifferentiable(
    "max_pool2d_indices",
    max_indices,
    doc="the flat index h * W + w of each max pool window's first maximum (PyTorch's return_indices)",
)


def avg_divisor(in_hw, out_hw, kernel, stride, padding, count_include_pad, divisor_override, dtype) -> Any:
    """What each window of an average pool divides by: PyTorch's rules, as a scalar or an (OH, OW) array.

    ``divisor_override`` if given; else the window's size clipped to the padded input
    (``count_include_pad``, the default: kH * kW unless ``ceil_mode`` cut it short) or the
    number of input positions inside it.
    """
    if divisor_override:
        return ops.scalar_operand(float(divisor_override), dtype)
    sizes = []
    for a in (0, 1):
        start = np.arange(out_hw[a]) * stride[a] - padding[a]
        stop = np.minimum(start + kernel[a], in_hw[a] + padding[a])
        if not count_include_pad:
            start, stop = np.maximum(start, 0), np.minimum(stop, in_hw[a])
        sizes.append(stop - start)
    divisor = np.outer(sizes[0], sizes[1]).astype(dtype)
    return ops.scalar_operand(float(divisor.flat[0]), dtype) if (divisor == divisor.flat[0]).all() else divisor


def _avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    out_hw = _output_hw("avg_pool2d", x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    out = _empty_like(x, (*x.shape[:2], *out_hw), 0)
    for _, _, to, frm in _taps(x.shape[2:], out_hw, kernel_size, stride, padding, (1, 1)):
        out[to] += x[frm]
    out /= avg_divisor(x.shape[2:], out_hw, kernel_size, stride, padding, count_include_pad, divisor_override, x.dtype)
    return out


def _avg_pool2d_backward(g, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    out_hw = _output_hw("avg_pool2d_backward", input_shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    if g.shape != (*input_shape[:2], *out_hw):
        raise ShapeError(
            f"avg_pool2d_backward: a gradient of shape {g.shape} does not fit the output "
            f"{(*input_shape[:2], *out_hw)} of pooling an input of shape {input_shape}"
        )
    divisor = avg_divisor(
        input_shape[2:], out_hw, kernel_size, stride, padding, count_include_pad, divisor_override, g.dtype
    )
    share = g / divisor
    out = _empty_like(share, input_shape, 0)
    for _, _, to, frm in _taps(input_shape[2:], out_hw, kernel_size, stride, padding, (1, 1)):
        out[frm] += share[to]
    return out


def _vjp_avg_pool2d(g, out, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    return avg_pool2d_backward(g, x.shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def _vjp_avg_pool2d_backward(
    g2, out, g, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
):
    return avg_pool2d(g2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


avg_pool2d = Unary(
    "avg_pool2d",
    _avg_pool2d,
    _vjp_avg_pool2d,
    doc="mean over each (kH, kW) window of (N, C, H, W), PyTorch's divisors (count_include_pad, ceil_mode)",
)
avg_pool2d_backward = Unary(
    "avg_pool2d_backward",
    _avg_pool2d_backward,
    _vjp_avg_pool2d_backward,
    saves_input=False,
    doc="each window's gradient shared out over it: the VJP of avg_pool2d as one node",
)


# ───────────────────────────── padding ─────────────────────────────


def _padded_shape(shape: tuple, amounts: tuple) -> tuple:
    if len(amounts) % 2 or len(amounts) // 2 > len(shape):
        raise ShapeError(
            f"pad: expected an even number of amounts, two per padded axis, at most {2 * len(shape)} "
            f"for a tensor of shape {shape}, got {amounts}"
        )
    new = list(shape)
    for k in range(len(amounts) // 2):
        axis = len(shape) - 1 - k
        new[axis] = shape[axis] + amounts[2 * k] + amounts[2 * k + 1]
        if new[axis] < 0:
            raise ShapeError(f"pad: amounts {amounts} leave axis {axis} of shape {shape} with size {new[axis]}")
    return tuple(new)


def _pad(x, amounts, value):
    shape = _padded_shape(x.shape, amounts)
    out = _empty_like(x, shape, value)
    src, dst = [slice(None)] * x.ndim, [slice(None)] * x.ndim
    for k in range(len(amounts) // 2):
        axis = x.ndim - 1 - k
        before = amounts[2 * k]
        # output position p holds input p - before where that is inside (negative amounts crop)
        lo, hi = max(0, before), min(shape[axis], x.shape[axis] + before)
        if hi <= lo:
            return out  # nothing of the input is left: all value
        src[axis], dst[axis] = slice(lo - before, hi - before), slice(lo, hi)
    out[tuple(dst)] = x[tuple(src)]
    return out


pad = Unary(
    "pad",
    _pad,
    lambda g, out, x, amounts, value: pad(g, tuple(-a for a in amounts), 0.0),
    saves_input=False,
    doc="constant padding of the trailing axes, (left, right, top, bottom, ...) as F.pad; negative amounts crop",
)
