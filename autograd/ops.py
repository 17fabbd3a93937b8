"""The primitive table: every operation the engine knows, its NumPy forward and its gradient.

Each entry is one primitive: a name, a forward on NumPy arrays and one vector-Jacobian
product (VJP) per input, written in Tensor operations so that gradients of gradients work.
A rule reads ``(grad, out, *inputs, *attrs) -> gradient``; binary rules may return a
gradient of the broadcast shape (`primitive.Binary` sums it back to the input's shape).
A rule computes every array that depends on values through a primitive, masks included (the
non-differentiable ones at the end of this table): a recorded step (`autograd.compile_step`)
replays the primitives' forwards, so NumPy run on ``.data`` in a rule would replay as a stale
constant. Rules read only shapes and dtypes from ``.data``, and branch on nothing else.

Everything else in the API (mean, var, sigmoid's friends, stack, split, ...) is a
composite of these; the fused primitives (linear, gelu, layer_norm, cross_entropy,
mse_loss) are in `autograd.fused`. Imports: numpy, `autograd.primitive` and the internal
Tensor constructor.
"""

from __future__ import annotations

import builtins

import numpy as np

from .primitive import Binary, NonDifferentiable, ShapeError, Unary, Variadic
from .tensor import _make

# ───────────────────────────── helpers for rules ─────────────────────────────


_ALL_AXES = [tuple(range(n)) for n in range(33)]  # NumPy allows up to 32 (64 since 2.0) dimensions


def _normalize_axes(axis, ndim: int, op: str = "reduction") -> tuple:
    """Axis argument (None, int or tuple; negatives allowed) as a sorted tuple of non-negative ints."""
    if axis is None:
        return _ALL_AXES[ndim] if ndim < 33 else tuple(range(ndim))
    if axis.__class__ is int and -ndim <= axis < ndim:  # the common case, without building lists
        return (axis % ndim,)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if ndim == 0:  # like PyTorch, a 0-d tensor accepts axis 0 or -1 and has nothing to reduce
        if any(a not in (0, -1) for a in axes):
            raise ShapeError(f"{op}: axis {axis} is out of range for a 0-d tensor")
        return ()
    out = []
    size = builtins.max(ndim, 1)  # this module's `max` is the primitive
    for a in axes:
        if not -size <= a < size:
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % size)
    return tuple(sorted(set(out)))


def _unreduce(g, shape: tuple, axis, keepdims: bool):
    """Broadcast the gradient of a reduction back over the reduced axes."""
    if not keepdims and g.data.ndim:  # a 0-d gradient (a full reduction) broadcasts as it is
        kept = list(shape)
        for a in _normalize_axes(axis, len(shape)):
            kept[a] = 1
        g = g.reshape(tuple(kept))
    return g.broadcast_to(shape)


def _keep(x: np.ndarray, axis, keepdims: bool, full_ndim: int) -> np.ndarray:
    """A reduced array with the reduced axes restored (as size 1), for broadcasting against the input."""
    if keepdims:
        return x
    kept = list(np.shape(x))
    for a in _normalize_axes(axis, full_ndim):
        kept.insert(a, 1)
    return np.reshape(x, kept)


def _tie_share(x: np.ndarray, extreme: np.ndarray, axis, keepdims: bool) -> np.ndarray:
    """Where ``x`` equals its reduced extreme, 1/number-of-ties; elsewhere 0 (ties split the gradient)."""
    hits = x == _keep(extreme, axis, keepdims, x.ndim)
    return (hits / hits.sum(axis=axis, keepdims=True)).astype(x.dtype, copy=False)


# The most negative and the smallest positive normal number of each float dtype (no np.finfo call per op).
_LOWEST = {np.dtype(t): np.finfo(t).min for t in (np.float16, np.float32, np.float64, np.longdouble)}
_TINY = {np.dtype(t): np.finfo(t).tiny for t in (np.float16, np.float32, np.float64, np.longdouble)}


def _lowest(dtype) -> float:
    return _LOWEST.get(dtype, -np.inf)


def _tiny(dtype) -> float:
    return _TINY.get(dtype, np.finfo(np.float64).tiny)


# NumPy converts a Python scalar operand (NEP 50 weak promotion) on every call, which costs
# about as much as a small op itself (benchmarks/README.md, "Scalar operands"); a 0-d array of
# the other operand's float dtype gives bit-identical results without the conversion.
_SCALAR_OPERANDS: dict = {}


def scalar_operand(c, dtype):
    """``c`` as a cached read-only 0-d array of the float ``dtype``; ``c`` itself where that could change a result.

    Non-float dtypes keep NumPy's own promotion (int array * 1.5 is float64), and zeros and NaN
    are never cached (0.0 == -0.0 would share an entry; NaN never finds its own).
    """
    key = (c, dtype)
    operand = _SCALAR_OPERANDS.get(key)
    if operand is None:
        if dtype.kind != "f" or c == 0 or c != c:
            return c
        try:
            operand = np.array(c, dtype=dtype)
        except (OverflowError, ValueError, TypeError):
            return c
        operand.flags.writeable = False
        if len(_SCALAR_OPERANDS) >= 256:  # ever-new scalars (a decaying learning rate) cycle through a small cache
            _SCALAR_OPERANDS.clear()
        _SCALAR_OPERANDS[key] = operand
    return operand


def _shift(x: np.ndarray, axis) -> tuple[np.ndarray, np.ndarray]:
    """``x`` minus its max along ``axis`` (the max kept within the finite range), and that max (keepdims).

    A row of -inf (a fully masked row) is shifted by the dtype's lowest finite number instead
    of by -inf, so it stays -inf rather than becoming -inf - -inf = NaN (and likewise for +inf).
    """
    peak = x.max(axis=axis, keepdims=True)
    lowest = _lowest(peak.dtype)
    return x - np.minimum(np.maximum(peak, lowest), -lowest), peak


# ───────────────────────────── elementwise unary ─────────────────────────────

neg = Unary("neg", np.negative, lambda g, out, x: -g, doc="-x", saves_input=False, keeps_shape=True)


def _exp(x):
    with np.errstate(over="ignore"):  # e**1000 is inf, the right value: no warning, as PyTorch
        return np.exp(x)


def _vjp_exp(g, out, x):
    with np.errstate(over="ignore"):  # 1.5 * e**88.5 overflows float32 to inf, the right value
        return g * out


def _log(x):
    with np.errstate(divide="ignore"):  # log(0) is -inf, the right value (negative x still warns: NaN)
        return np.log(x)


def _vjp_log(g, out, x):
    with np.errstate(divide="ignore"):  # 1/0 = inf, as the derivative of log at 0+
        return g / x


exp = Unary("exp", _exp, _vjp_exp, saves_output=True, doc="e**x", saves_input=False, keeps_shape=True)
log = Unary("log", _log, _vjp_log, doc="natural logarithm", keeps_shape=True)
sqrt = Unary(
    "sqrt",
    np.sqrt,
    lambda g, out, x: g / out * 0.5,
    saves_output=True,
    doc="square root",
    saves_input=False,
    keeps_shape=True,
)
abs = Unary("abs", np.abs, lambda g, out, x: g * sign(x), doc="absolute value (gradient 0 at 0)", keeps_shape=True)
sin = Unary("sin", np.sin, lambda g, out, x: g * x.cos(), doc="sine", keeps_shape=True)
cos = Unary("cos", np.cos, lambda g, out, x: -(g * x.sin()), doc="cosine", keeps_shape=True)
tanh = Unary(
    "tanh",
    np.tanh,
    lambda g, out, x: tanh_backward(g, out),
    saves_output=True,
    doc="hyperbolic tangent",
    saves_input=False,
    keeps_shape=True,
)
relu = Unary(
    "relu",
    lambda x: np.maximum(x, 0),
    lambda g, out, x: mul(g, greater(out, 0)),  # out > 0 exactly where x > 0; bool: see _vjp_clip
    saves_output=True,
    doc="max(x, 0)",
    saves_input=False,
    keeps_shape=True,
)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp(-log(1 + e**-x)): no overflow warning for large |x| and full precision in both tails.
    return np.exp(-np.logaddexp(0, -x))


sigmoid = Unary(
    "sigmoid",
    _sigmoid,
    lambda g, out, x: sigmoid_backward(g, out),
    saves_output=True,
    doc="1 / (1 + e**-x)",
    saves_input=False,
    keeps_shape=True,
)


def _clip(x, lo, hi):
    return np.clip(x, lo, hi)


def _clip_mask(x, lo, hi):
    """True where ``lo <= x <= hi`` (a bound of None does not limit)."""
    inside = np.ones(x.shape, dtype=bool)
    if lo is not None:
        inside &= x >= lo
    if hi is not None:
        inside &= x <= hi
    return inside


def _vjp_clip(g, out, x, lo, hi):
    # A boolean mask (a non-differentiable primitive: its derivative is zero), not cast to g's dtype:
    # the cast allocates a full-size float temporary, which costs more on cold memory than the
    # mixed-type multiply saves (measured in W3: benchmarks/README.md, "Boolean masks").
    return g * clip_mask(x, lo, hi)


clip = Unary("clip", _clip, _vjp_clip, doc="clip(x, lo, hi); gradient passes where lo <= x <= hi", keeps_shape=True)


# Python scalars go to scalar primitives: no constant tensor, no broadcasting, no dtype promotion.
def _add_scalar(x, c):
    operand = _SCALAR_OPERANDS.get((c, x.dtype))  # the lookup of scalar_operand inlined: a hot path
    return x + (scalar_operand(c, x.dtype) if operand is None else operand)


def _mul_scalar(x, c):
    operand = _SCALAR_OPERANDS.get((c, x.dtype))
    return x * (scalar_operand(c, x.dtype) if operand is None else operand)


add_scalar = Unary(
    "add_scalar",
    _add_scalar,
    lambda g, out, x, c: g,
    doc="x + c for a Python number c",
    saves_input=False,
    keeps_shape=True,
)
mul_scalar = Unary(
    "mul_scalar",
    _mul_scalar,
    lambda g, out, x, c: mul_scalar(g, c),
    doc="x * c for a Python number c",
    saves_input=False,
    keeps_shape=True,
)
pow_scalar = Unary(
    "pow_scalar",
    np.power,
    lambda g, out, x, c: g * (x ** (c - 1)) * c,
    doc="x ** c for a Python number c",
    keeps_shape=True,
)

# ─────────────────────── fused backward helpers (still differentiable) ───────────────────────


def _tanh_backward(g, y):
    one = _SCALAR_OPERANDS.get((1.0, y.dtype))  # the lookup of scalar_operand inlined: every tanh pays it
    return g * ((scalar_operand(1.0, y.dtype) if one is None else one) - y * y)


tanh_backward = Binary(
    "tanh_backward",
    _tanh_backward,
    lambda g2, out, g, y: tanh_backward(g2, y),
    lambda g2, out, g, y: g2 * g * y * -2.0,
    doc="g * (1 - y**2): the VJP of tanh as one node",
)
sigmoid_backward = Binary(
    "sigmoid_backward",
    lambda g, y: g * y * (scalar_operand(1.0, y.dtype) - y),
    lambda g2, out, g, y: sigmoid_backward(g2, y),
    lambda g2, out, g, y: g2 * g * (1 - y * 2.0),
    doc="g * y * (1 - y): the VJP of sigmoid as one node",
)

# ───────────────────────────── elementwise binary ─────────────────────────────

add = Binary("add", np.add, lambda g, out, a, b: g, lambda g, out, a, b: g, doc="a + b")
sub = Binary("sub", np.subtract, lambda g, out, a, b: g, lambda g, out, a, b: -g, doc="a - b")
mul = Binary("mul", np.multiply, lambda g, out, a, b: g * b, lambda g, out, a, b: g * a, doc="a * b")
div = Binary(
    "div", np.divide, lambda g, out, a, b: g / b, lambda g, out, a, b: -(g * out) / b, saves_output=True, doc="a / b"
)
pow = Binary(
    "pow",
    np.power,
    lambda g, out, a, b: g * b * a ** (b - 1),
    lambda g, out, a, b: g * out * a.log(),
    saves_output=True,
    doc="a ** b (the gradient for b needs a > 0)",
)


def _tie_split(first: np.ndarray, second: np.ndarray, dtype) -> np.ndarray:
    """1 where ``first`` wins, 0.5 on ties, 0 where it loses (maximum/minimum share ties evenly)."""
    return ((first > second) + 0.5 * (first == second)).astype(dtype)


maximum = Binary(
    "maximum",
    np.maximum,
    lambda g, out, a, b: g * tie_split(a, b, g.dtype),
    lambda g, out, a, b: g * tie_split(b, a, g.dtype),
    doc="elementwise max; on ties each input gets half the gradient",
)
minimum = Binary(
    "minimum",
    np.minimum,
    lambda g, out, a, b: g * tie_split(b, a, g.dtype),
    lambda g, out, a, b: g * tie_split(a, b, g.dtype),
    doc="elementwise min; on ties each input gets half the gradient",
)


def _where(a, b, condition):
    return np.where(condition, a, b)


# g has the broadcast shape of a, b and the condition, so the condition broadcasts against it as it is
where = Binary(
    "where",
    _where,
    lambda g, out, a, b, c: mul(g, _make(c, None)),
    lambda g, out, a, b, c: mul(g, logical_not(c)),
    doc="condition ? a : b (condition is a constant boolean array)",
)

# ───────────────────────────── reductions ─────────────────────────────


# Array methods (x.sum, x.reshape, ...) rather than np.sum & co.: the module functions add
# microseconds of Python dispatch per call, which is most of the cost on small arrays.


def _sum(x, axis, keepdims):
    return x.sum(axis=axis, keepdims=keepdims)  # a full reduction's NumPy scalar becomes a 0-d array in Unary


def _max(x, axis, keepdims):
    return np.asarray(x.max(axis=axis, keepdims=keepdims))


def _min(x, axis, keepdims):
    return np.asarray(x.min(axis=axis, keepdims=keepdims))


def _logsumexp(x, axis, keepdims):
    shifted, peak = _shift(x, axis)
    # + tiny changes no sum >= 1 (a finite row's max term is exp(0) = 1) and keeps an all -inf row
    # from log(0): log(tiny) + peak = -inf, the right value, without a warning
    total = np.log(np.exp(shifted).sum(axis=axis, keepdims=True) + _tiny(shifted.dtype)) + peak
    return np.asarray(total if keepdims else total.squeeze(axis=_normalize_axes(axis, x.ndim)))


def _vjp_logsumexp(g, out, x, axis, keepdims):
    # The weights are softmax(x) = exp(x - out). An all -inf row (out = -inf) is shifted by the lowest
    # finite number instead: weights exp(-inf) = 0 rather than exp(-inf - -inf) = NaN. The clip leaves
    # every other value as it is, so it runs always (no branch on the values: see the module docstring).
    out = clip(out, _lowest(out.data.dtype), None)
    w = (x - _unreduce(out, x.shape, axis, keepdims)).exp()
    # A large out is rounded (by 5e-4 at 1e4 in float32; log 2 vanishes beside 1e17 in float64), which scales
    # a row's weights alike: divide by their sum, 1 in exact arithmetic (a constant: zero derivative).
    return _unreduce(g * reciprocal_sum(w, axis, keepdims), x.shape, axis, keepdims) * w


def _reciprocal_sum(w, axis, keepdims):
    """1 / sum(w) over ``axis``; 1 where the sum is 0 (logsumexp's all -inf rows: weights 0, divided by 1)."""
    total = np.asarray(w.sum(axis=axis, keepdims=keepdims))
    total = total + (total == 0)  # + 0 elsewhere: the sum of a finite row's weights is about 1
    return 1.0 / total


sum = Unary(
    "sum",
    _sum,
    lambda g, out, x, axis, keepdims: _unreduce(g, x.shape, axis, keepdims),
    doc="sum over axis (None, int or tuple), keepdims",
)
max = Unary(
    "max",
    _max,
    lambda g, out, x, axis, keepdims: _unreduce(g, x.shape, axis, keepdims) * tie_share(x, out, axis, keepdims),
    saves_output=True,
    doc="max over axis; tied maxima share the gradient evenly",
)
min = Unary(
    "min",
    _min,
    lambda g, out, x, axis, keepdims: _unreduce(g, x.shape, axis, keepdims) * tie_share(x, out, axis, keepdims),
    saves_output=True,
    doc="min over axis; tied minima share the gradient evenly",
)
logsumexp = Unary(
    "logsumexp",
    _logsumexp,
    _vjp_logsumexp,
    saves_output=True,
    doc="log(sum(exp(x))) over axis, computed stably",
)


# A row of -inf (every entry masked) has softmax 0 and log_softmax -inf, with a gradient that
# stays finite: NaN there would reach the other rows through the ops that built the scores.


def _softmax(x, axis):
    e = np.exp(_shift(x, axis)[0])
    return e / (e.sum(axis=axis, keepdims=True) + _tiny(e.dtype))  # + tiny: 0 / tiny = 0 for an all -inf row


def _log_softmax(x, axis):
    shifted = _shift(x, axis)[0]
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True) + _tiny(shifted.dtype))


softmax = Unary(
    "softmax",
    _softmax,
    lambda g, out, x, axis: out * (g - (g * out).sum(axis, True)),
    saves_output=True,
    doc="exp(x) / sum(exp(x)) along one axis, computed stably",
    saves_input=False,
    keeps_shape=True,
)
log_softmax = Unary(
    "log_softmax",
    _log_softmax,
    lambda g, out, x, axis: g - out.exp() * g.sum(axis, True),
    saves_output=True,
    doc="x - logsumexp(x) along one axis, computed stably",
    saves_input=False,
    keeps_shape=True,
)

# ───────────────────────────── shape ─────────────────────────────


def _sum_to(x, shape):
    """Sum ``x`` over the dimensions that broadcasting added or stretched, giving ``shape``."""
    xshape = x.shape
    if xshape == shape:
        return x
    lead = len(xshape) - len(shape)
    if lead < 0 or any(s != 1 and s != d for s, d in zip(shape, xshape[lead:])):
        raise ShapeError(f"sum_to: cannot reduce shape {xshape} to {shape}")
    stretched = tuple(lead + i for i, s in enumerate(shape) if s == 1 and xshape[lead + i] != 1)
    if not stretched:  # only leading dimensions to remove: one reduction, no reshape
        return np.add.reduce(x, axis=tuple(range(lead)))
    return np.add.reduce(x, axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)


def _broadcast_to(x, shape):
    # A filled copy, not np.broadcast_to's view: several times faster on small arrays, and the
    # consumers of a broadcast gradient need it materialized anyway.
    if np.ndim(x) > len(shape):
        raise ShapeError(f"broadcast_to: cannot broadcast shape {np.shape(x)} to {shape}")
    out = np.empty(shape, dtype=x.dtype)
    try:
        out[...] = x
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {np.shape(x)} to {shape}") from None
    return out


def _reshape(x, shape):
    try:
        return x.reshape(shape)
    except ValueError:
        raise ShapeError(f"reshape: cannot reshape {x.shape} (size {x.size}) into {shape}") from None


def _transpose(x, axes):
    try:
        return x.transpose(axes)
    except ValueError:
        raise ShapeError(f"transpose: axes {axes} do not fit a tensor of shape {x.shape}") from None


reshape = Unary("reshape", _reshape, lambda g, out, x, shape: g.reshape(x.shape), doc="same data, new shape")
transpose = Unary(
    "transpose",
    _transpose,
    lambda g, out, x, axes: g.transpose(*sorted(range(len(axes)), key=axes.__getitem__)),  # inverse permutation
    doc="permute axes (axes given in full)",
    saves_input=False,
)
broadcast_to = Unary(
    "broadcast_to", _broadcast_to, lambda g, out, x, shape: g.sum_to(x.shape), doc="broadcast to a shape (a view)"
)
sum_to = Unary("sum_to", _sum_to, lambda g, out, x, shape: g.broadcast_to(x.shape), doc="sum broadcast dimensions away")
astype = Unary(
    "astype", lambda x, dtype: x.astype(dtype), lambda g, out, x, dtype: g.astype(x.dtype), doc="change dtype"
)

# ───────────────────────────── indexing ─────────────────────────────


def _getitem(x, index):
    try:
        return x[index]
    except IndexError as error:
        raise IndexError(f"getitem: index {_describe_index(index)} does not fit shape {x.shape}: {error}") from None


def _describe_index(index) -> str:
    """An index as the user wrote it: ``[:, 3]``, ``[1:4:2, ...]``, large arrays by dtype and shape."""
    parts = index if isinstance(index, tuple) else (index,)
    return "[" + ", ".join(_describe_index_part(p) for p in parts) + "]"


def _describe_index_part(p) -> str:
    if isinstance(p, slice):
        text = ":".join("" if v is None else str(v) for v in (p.start, p.stop))
        return text if p.step is None else f"{text}:{p.step}"
    if p is Ellipsis:
        return "..."
    if isinstance(p, np.ndarray) and p.size > 8:
        return f"{p.dtype} array of shape {p.shape}"
    return repr(p)


def _has_array(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype != bool for p in parts)


def _integer_index(index) -> tuple:
    """The index with every boolean mask replaced by the integer arrays of its True positions."""
    parts = index if isinstance(index, tuple) else (index,)
    spliced = []
    for p in parts:
        if isinstance(p, np.ndarray) and p.dtype == bool:
            spliced.extend(np.nonzero(p))
        else:
            spliced.append(p)
    return tuple(spliced)


def _scatter_add(g, shape, index):
    """Zeros of ``shape`` with ``g`` added at ``index``; repeated integer indices add up."""
    out = np.zeros(shape, dtype=g.dtype)
    if index.__class__ is np.ndarray and index.dtype.kind in "iu" and index.size and shape:
        _add_rows(out, index, g)
    elif _has_array(index):
        np.add.at(out, _integer_index(index), g)
    else:
        out[index] = g  # slices, integers and masks never hit an element twice
    return out


def _add_rows(out, index, g):
    """``out[index] += g`` where ``index`` (integers) picks rows and may repeat them (an embedding's gradient).

    The rows are sorted (stably) and each run of one row summed by ``np.add.reduceat``: several
    times faster than ``np.add.at`` (W5's token embedding: 1.2 -> 0.2 ms), equal to it but for
    the rounding of the sums (NumPy's reduction order).
    """
    rows = out.shape[0]
    flat = index.reshape(-1)
    flat = np.where(flat < 0, flat + rows, flat)
    order = np.argsort(flat, kind="stable")
    picked = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], picked[1:] != picked[:-1])))
    values = g.reshape(flat.size, -1)[order]
    out.reshape(rows, -1)[picked[starts]] = np.add.reduceat(values, starts, axis=0)


getitem = Unary(
    "getitem",
    _getitem,
    lambda g, out, x, index: scatter_add(g, x.shape, index),
    doc="x[index]: slices (any step), integers, integer arrays, boolean masks",
)
scatter_add = Unary(
    "scatter_add",
    _scatter_add,
    lambda g, out, x, shape, index: getitem(g, index),
    doc="zeros(shape) with x added at index (the VJP of getitem)",
)


def _concatenate(arrays, axis):
    try:
        return np.concatenate(arrays, axis=axis)
    except (ValueError, np.exceptions.AxisError) as error:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ShapeError(f"concatenate: shapes {shapes} do not join along axis {axis}: {error}") from None


def _vjp_concatenate(g, out, xs, needs, axis):
    grads = []
    start = 0
    axis = axis % g.ndim
    for x in xs:
        stop = start + x.shape[axis]
        grads.append(g[(slice(None),) * axis + (slice(start, stop),)])
        start = stop
    return grads


concatenate = Variadic("concatenate", _concatenate, _vjp_concatenate, doc="join tensors along an existing axis")

# ───────────────────────────── linear algebra ─────────────────────────────


def _vjp_matmul_a(g, out, a, b):
    if a.ndim >= 2 and b.ndim >= 2:
        return g @ b.mT
    # 1-D operands: matmul treats a vector as a row (left) or a column (right) that is then dropped.
    if b.ndim == 1:
        g = g.unsqueeze(-1)
    if a.ndim == 1:
        g = g.unsqueeze(-2)
    b2 = b.reshape((b.shape[0], 1)) if b.ndim == 1 else b
    ga = g @ b2.mT
    return ga.squeeze(-2) if a.ndim == 1 else ga


def _vjp_matmul_b(g, out, a, b):
    if b.ndim == 2 and a.ndim > 2:
        # (..., n, k) @ (k, m): fold the batch into rows, one BLAS call instead of a batched one and a sum
        k = a.shape[-1]
        return a.reshape((-1, k)).mT @ g.reshape((-1, g.shape[-1]))
    if a.ndim >= 2 and b.ndim >= 2:
        return a.mT @ g
    if b.ndim == 1:
        g = g.unsqueeze(-1)
    if a.ndim == 1:
        g = g.unsqueeze(-2)
    a2 = a.reshape((1, a.shape[0])) if a.ndim == 1 else a
    gb = a2.mT @ g
    return gb.squeeze(-1) if b.ndim == 1 else gb


def _matmul_shape_message(sa: tuple, sb: tuple) -> str:
    if not sa or not sb:
        return f"matmul: both operands need at least one dimension, got shapes {sa} and {sb}"
    inner_a, inner_b = sa[-1], sb[-2] if len(sb) > 1 else sb[0]
    if inner_a != inner_b:
        return f"matmul: cannot multiply shapes {sa} and {sb}: inner dimensions {inner_a} and {inner_b} differ"
    return f"matmul: the batch dimensions of shapes {sa} and {sb} are not broadcastable"


matmul = Binary(
    "matmul",
    np.matmul,
    _vjp_matmul_a,
    _vjp_matmul_b,
    shape_message=_matmul_shape_message,
    doc="a @ b: batched, broadcast batch dimensions, 1-D cases",
)

# ───────────────────────────── non-differentiable ─────────────────────────────

equal = NonDifferentiable("equal", np.equal, doc="a == b")
not_equal = NonDifferentiable("not_equal", np.not_equal, doc="a != b")
less = NonDifferentiable("less", np.less, doc="a < b")
less_equal = NonDifferentiable("less_equal", np.less_equal, doc="a <= b")
greater = NonDifferentiable("greater", np.greater, doc="a > b")
greater_equal = NonDifferentiable("greater_equal", np.greater_equal, doc="a >= b")
logical_not = NonDifferentiable("logical_not", np.logical_not, doc="not a (booleans)")
sign = NonDifferentiable("sign", np.sign, doc="-1, 0 or 1")
argmax = NonDifferentiable(
    "argmax", lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims), doc="index of the max"
)
argmin = NonDifferentiable(
    "argmin", lambda x, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims), doc="index of the min"
)


def _topk_indices(x, k, axis, largest):
    """The indices of the ``k`` largest (or smallest) entries along ``axis``, in order; ties in index order."""
    order = np.argsort(-x if largest else x, axis=axis, kind="stable")
    return np.take(order, np.arange(k), axis=axis).astype(np.int64, copy=False)


topk_indices = NonDifferentiable(
    "topk_indices", _topk_indices, doc="int64 indices of the k largest (or smallest) entries along an axis, in order"
)


def _numpy_call(function, *args):
    return function(*args)


# Entry points that take NumPy's functions and arrays: what changes from step to step goes through
# a primitive, so that a recorded step replays it (see the module docstring).
numpy_call = NonDifferentiable(
    "numpy_call",
    _numpy_call,
    doc="function(*args) with Tensors read as their arrays, for a result without gradient: np.isnan(t), np.all(t), "
    "a mask, batch norm's running statistics (updated in place)",
)
array = NonDifferentiable(
    "array",
    lambda x, dtype: np.array(x, dtype=dtype),
    doc="a constant copy of an array in a dtype (None: its own), as Tensor(array): a batch given as an ndarray",
)

# Masks and constants of gradient rules (see the module docstring): their derivative is zero.
clip_mask = NonDifferentiable(
    "clip_mask", _clip_mask, doc="lo <= x <= hi (a bound of None does not limit): clip's mask"
)
tie_split = NonDifferentiable(
    "tie_split", _tie_split, doc="1 where a > b, 0.5 where a == b, 0 elsewhere, in a dtype: maximum's share of a tie"
)
tie_share = NonDifferentiable(
    "tie_share",
    _tie_share,
    doc="1 / (number of ties) where x equals its reduced max (or min), else 0: max's share of a tie",
)
reciprocal_sum = NonDifferentiable(
    "reciprocal_sum", _reciprocal_sum, doc="1 / sum(x) over axis, 1 where the sum is 0: logsumexp's renormalization"
)
