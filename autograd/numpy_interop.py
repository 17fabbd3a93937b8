"""NumPy's protocols on Tensor: ``np.exp(t)``, ``arr * t``, ``np.sum(t, axis=0)`` record and differentiate.

`Tensor.__array_ufunc__` (NEP 13) and `Tensor.__array_function__` (NEP 18) call the two
entry points here, which look the ufunc or function up in a table and call the Tensor
method or `autograd.routines` function that does the same thing, so the result is a Tensor
on the graph (no new primitives). NumPy reaches them only when a NumPy function is called
on a Tensor or an ndarray is on the left of an operator (``arr + t``: ``ndarray.__add__``
calls ``np.add``, which hands over to the Tensor); a Tensor's own operators never do.
``np.asarray(t)`` is not part of either protocol: it still gives the plain array, through
``Tensor.__array__``.

What is not in a table, ufunc methods other than ``reduce`` of add, maximum and minimum,
``out=`` (in-place NumPy operations, ``arr += t`` too) and any argument that would change
the meaning (``where=``, ``dtype=``, ``initial=``, ``order=``, ...) raise a `TypeError`
that names the function. `supported_ufuncs` and `supported_functions` list the tables.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import ops, routines
from .routines import _as_tensor
from .tensor import Tensor

_HINT = "use t.data / t.numpy() for a plain array (no gradient), or an autograd function"


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _nondifferentiable(ufunc: np.ufunc) -> Callable[..., Tensor]:
    """NumPy's own result on the data, as a Tensor that never requires grad (masks, rounding, tests).

    It is computed by the ``numpy_call`` primitive (which unwraps Tensors), so that a recorded
    step (`autograd.compile_step`) replays it rather than keeping the first step's result.
    """
    return lambda *inputs: ops.numpy_call(ufunc, *inputs)


def _binary(forward: Callable, reflected: Callable) -> Callable[[Any, Any], Tensor]:
    """The Tensor operator when the Tensor is on the left, its reflected twin when it is on the right."""
    return lambda a, b: forward(a, b) if isinstance(a, Tensor) else reflected(b, a)


_LN2, _LN10 = math.log(2.0), math.log(10.0)

# ufunc -> the Tensor operation for ``ufunc(*inputs)``; the inputs are NumPy's, in NumPy's order.
_UFUNCS: dict[np.ufunc, Callable[..., Tensor]] = {
    # elementwise, differentiable
    np.negative: Tensor.__neg__,
    np.positive: Tensor.__pos__,
    np.absolute: Tensor.abs,
    np.exp: Tensor.exp,
    np.exp2: lambda x: 2.0**x,
    np.log: Tensor.log,
    np.log2: lambda x: x.log() * (1.0 / _LN2),
    np.log10: lambda x: x.log() * (1.0 / _LN10),
    np.sqrt: Tensor.sqrt,
    np.square: lambda x: x * x,
    np.reciprocal: lambda x: 1.0 / x if x.dtype.kind == "f" else ops.numpy_call(np.reciprocal, x),  # ints: 1 // x
    np.sin: Tensor.sin,
    np.cos: Tensor.cos,
    np.tan: lambda x: x.sin() / x.cos(),
    np.tanh: Tensor.tanh,
    np.add: _binary(Tensor.__add__, Tensor.__radd__),
    np.subtract: _binary(Tensor.__sub__, Tensor.__rsub__),
    np.multiply: _binary(Tensor.__mul__, Tensor.__rmul__),
    np.divide: _binary(Tensor.__truediv__, Tensor.__rtruediv__),
    np.power: _binary(Tensor.__pow__, Tensor.__rpow__),
    np.matmul: _binary(Tensor.__matmul__, Tensor.__rmatmul__),
    np.maximum: routines.maximum,
    np.minimum: routines.minimum,
    # comparisons and sign: the non-differentiable primitives (boolean or sign Tensors, never requiring grad)
    np.equal: ops.equal,
    np.not_equal: ops.not_equal,
    np.less: ops.less,
    np.less_equal: ops.less_equal,
    np.greater: ops.greater,
    np.greater_equal: ops.greater_equal,
    np.sign: ops.sign,
}
for _ufunc in (
    np.logical_and,
    np.logical_or,
    np.logical_xor,
    np.logical_not,
    np.isfinite,
    np.isinf,
    np.isnan,
    np.signbit,
    np.floor,
    np.ceil,
    np.trunc,
    np.rint,
):
    _UFUNCS[_ufunc] = _nondifferentiable(_ufunc)

# ``ufunc.reduce`` -> the reduction (``np.add.reduce(t, axis=0)``; NumPy's default axis is 0)
_REDUCTIONS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: routines.sum,
    np.maximum: routines.max,
    np.minimum: routines.min,
}

# the ufunc keywords NumPy may pass, at the values that leave the meaning alone
_UFUNC_DEFAULTS: dict[str, Any] = {
    "where": True,
    "casting": "same_kind",
    "order": "K",
    "dtype": None,
    "subok": True,
    "signature": None,
}


def _ufunc_name(ufunc: np.ufunc, method: str = "__call__") -> str:
    name = f"numpy.{ufunc.__name__}"
    return name if method == "__call__" else f"{name}.{method}"


_OUT = (
    "out= is not supported on gradwire Tensors (NumPy would write into an array, which no graph records; "
    "`arr += t` is such a call): write `arr = arr + t` for a Tensor, or `arr += t.data` for an ndarray (no gradient)"
)
_ARGUMENT_HINTS = {
    "dtype": "cast first with t.astype(dtype)",
    "where": "select with np.where(mask, x, y) instead",
}


def _shown(value: Any) -> str:
    """A short repr: arrays and Tensors by shape, not by value."""
    if isinstance(value, (np.ndarray, Tensor)):
        return f"<{type(value).__name__} of shape {value.shape}>"
    return repr(value)


def _unsupported(name: str, key: str, value: Any, supported: str) -> TypeError:
    if key == "out":
        return TypeError(f"{name}: {_OUT}")
    hint = _ARGUMENT_HINTS.get(key, _HINT)
    return TypeError(f"{name}: {key}={_shown(value)} is not supported on gradwire Tensors ({supported}); {hint}")


def _check_ufunc_keywords(name: str, kwargs: dict, allowed: tuple = ()) -> None:
    for key, value in kwargs.items():
        if key in allowed:
            continue
        default = _UFUNC_DEFAULTS.get(key, _UFUNC_DEFAULTS)  # the table itself: a default no value can be
        if not (value is default or (type(value) is type(default) and value == default)):
            supported = f"only the default, {default!r}" if key in _UFUNC_DEFAULTS else "not an argument gradwire maps"
            raise _unsupported(name, key, value, supported)


_PLAIN = frozenset({Tensor, np.ndarray, float, int, bool})


def _foreign(values: tuple) -> bool:
    """True when an operand is another array library's object (it defines ``__array_ufunc__`` itself)."""
    for v in values:
        kind = v.__class__
        if kind not in _PLAIN and not issubclass(kind, (Tensor, np.ndarray)) and hasattr(kind, "__array_ufunc__"):
            return True
    return False


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """`Tensor.__array_ufunc__`: ``ufunc(*inputs, **kwargs)`` (or ``ufunc.method``) as a Tensor operation.

    Raises:
        TypeError: the ufunc or method is not in the table, or an argument is not supported.
    """
    if _foreign(inputs):
        return NotImplemented  # let the other library (or NumPy's TypeError) answer
    if method == "__call__":
        operation = _UFUNCS.get(ufunc)
        if operation is None:
            raise TypeError(
                f"{_ufunc_name(ufunc)} is not supported on gradwire Tensors: {_HINT} "
                "(autograd.numpy_interop.supported_ufuncs() lists the ufuncs that work on Tensors)"
            )
        if kwargs:
            _check_ufunc_keywords(_ufunc_name(ufunc), kwargs)
        return operation(*inputs)
    name = _ufunc_name(ufunc, method)
    if method == "reduce" and ufunc in _REDUCTIONS:
        _check_ufunc_keywords(name, kwargs, allowed=("axis", "keepdims"))
        return _REDUCTIONS[ufunc](inputs[0], kwargs.get("axis", 0), keepdims=bool(kwargs.get("keepdims", False)))
    raise TypeError(
        f"{name} is not supported on gradwire Tensors: of the ufunc methods only add.reduce, maximum.reduce and "
        f"minimum.reduce are; {_HINT}"
    )


# ───────────────────────────── NumPy functions ─────────────────────────────
# Each handler takes NumPy's parameter names; a parameter NumPy has and the handler lacks must be
# left at NumPy's default (checked in `array_function`).


def _sum(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return routines.sum(a, axis, keepdims)


def _mean(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return routines.mean(a, axis, keepdims)


def _max(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return routines.max(a, axis, keepdims=keepdims)


def _min(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return routines.min(a, axis, keepdims=keepdims)


def _var(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False, correction: Any = None) -> Tensor:
    return routines.var(a, axis, ddof=ddof if correction is None else correction, keepdims=keepdims)


def _std(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False, correction: Any = None) -> Tensor:
    return routines.std(a, axis, ddof=ddof if correction is None else correction, keepdims=keepdims)


def _argmax(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return routines.argmax(a, axis, keepdims=keepdims)


def _argmin(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return routines.argmin(a, axis, keepdims=keepdims)


# module-level functions for ``numpy_call``: a recorded step compares the function of each call
def _np_all(a: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    return np.all(a, axis=axis, keepdims=keepdims)


def _np_any(a: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    return np.any(a, axis=axis, keepdims=keepdims)


def _np_isclose(a: Any, b: Any, rtol: float, atol: float, equal_nan: bool) -> np.ndarray:
    return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _all(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return ops.numpy_call(_np_all, a, axis, keepdims)


def _any(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return ops.numpy_call(_np_any, a, axis, keepdims)


def _clip(a: Any, a_min: Any = None, a_max: Any = None, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    lo, hi = (a_min if a_min is not None else min), (a_max if a_max is not None else max)
    if isinstance(lo, Tensor) or isinstance(hi, Tensor):
        raise TypeError(
            "numpy.clip: bounds that are Tensors are not supported (use np.maximum / np.minimum for "
            "differentiable bounds)"
        )
    return routines.clip(a, lo, hi)


def _where(condition: Any, x: Any = None, y: Any = None) -> Tensor:
    if x is None or y is None:
        raise TypeError(
            "numpy.where with only a condition (the indices of the True entries) is not supported on gradwire "
            "Tensors: use np.nonzero(t.data); np.where(condition, x, y) is"
        )
    return routines.where(condition, x, y)


def _reshape(a: Any, shape: Any) -> Tensor:
    return routines.reshape(a, shape)


def _ravel(a: Any) -> Tensor:
    return routines.reshape(a, -1)


def _transpose(a: Any, axes: Any = None) -> Tensor:
    return routines.transpose(a, axes)


def _matrix_transpose(x: Any) -> Tensor:
    return _as_tensor(x).mT


def _swapaxes(a: Any, axis1: int, axis2: int) -> Tensor:
    return routines.swapaxes(a, axis1, axis2)


def _moveaxis(a: Any, source: Any, destination: Any) -> Tensor:
    return routines.moveaxis(a, source, destination)


def _squeeze(a: Any, axis: Any = None) -> Tensor:
    return routines.squeeze(a, axis)


def _expand_dims(a: Any, axis: Any) -> Tensor:
    return routines.expand_dims(a, axis)


def _broadcast_to(array: Any, shape: Any) -> Tensor:
    return routines.broadcast_to(array, shape)


def _concatenate(arrays: Any, axis: Any = 0) -> Tensor:
    if axis is None:  # NumPy flattens first
        return routines.concatenate([routines.reshape(a, -1) for a in arrays], 0)
    return routines.concatenate(arrays, axis)


def _stack(arrays: Any, axis: int = 0) -> Tensor:
    return routines.stack(arrays, axis)


def _split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    return routines.split(ary, indices_or_sections, axis)


def _dot(a: Any, b: Any) -> Tensor:
    a, b = routines._pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim > 2 or b.ndim > 2:
        raise TypeError(
            f"numpy.dot of shapes {a.shape} and {b.shape} is not supported on gradwire Tensors (only up to 2 "
            "dimensions): use np.matmul or @, which broadcast the batch dimensions instead"
        )
    return a @ b


def _tril(m: Any, k: int = 0) -> Tensor:
    return routines.tril(m, k)


def _triu(m: Any, k: int = 0) -> Tensor:
    return routines.triu(m, k)


def _filled(a: Any, value: Any, dtype: Any, shape: Any) -> Tensor:
    if shape is None:
        return routines.full_like(a, value, dtype=dtype)
    return routines.full(shape, value, dtype=_as_tensor(a).dtype if dtype is None else dtype)


def _zeros_like(a: Any, dtype: Any = None, shape: Any = None) -> Tensor:
    return _filled(a, 0, dtype, shape)


def _ones_like(a: Any, dtype: Any = None, shape: Any = None) -> Tensor:
    return _filled(a, 1, dtype, shape)


def _full_like(a: Any, fill_value: Any, dtype: Any = None, shape: Any = None) -> Tensor:
    return _filled(a, fill_value, dtype, shape)


def _empty_like(prototype: Any, dtype: Any = None, shape: Any = None) -> Tensor:
    return _filled(prototype, 0, dtype, shape)  # "uninitialized" may be zeros


def _astype(x: Any, dtype: Any, copy: bool = True) -> Tensor:
    return routines.astype(x, dtype)  # Tensors are not changed in place, so a copy is never needed


def _shape(a: Any) -> tuple:
    return np.shape(_data(a))


def _ndim(a: Any) -> int:
    return np.ndim(_data(a))


def _size(a: Any, axis: Any = None) -> int:
    return np.size(_data(a), axis)


def _allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    return bool(np.allclose(_data(a), _data(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


def _isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    return ops.numpy_call(_np_isclose, a, b, rtol, atol, equal_nan)


def _array_equal(a1: Any, a2: Any, equal_nan: bool = False) -> bool:
    return bool(np.array_equal(_data(a1), _data(a2), equal_nan=equal_nan))


# NumPy function -> handler (aliases such as np.amax, np.concat and np.permute_dims are the same objects
# as, or are listed beside, their main names).
_FUNCTIONS: dict[Callable, Callable] = {
    np.sum: _sum,
    np.mean: _mean,
    np.max: _max,
    np.amax: _max,
    np.min: _min,
    np.amin: _min,
    np.var: _var,
    np.std: _std,
    np.argmax: _argmax,
    np.argmin: _argmin,
    np.all: _all,
    np.any: _any,
    np.clip: _clip,
    np.where: _where,
    np.reshape: _reshape,
    np.ravel: _ravel,
    np.transpose: _transpose,
    np.permute_dims: _transpose,
    np.matrix_transpose: _matrix_transpose,
    np.linalg.matrix_transpose: _matrix_transpose,
    np.swapaxes: _swapaxes,
    np.moveaxis: _moveaxis,
    np.squeeze: _squeeze,
    np.expand_dims: _expand_dims,
    np.broadcast_to: _broadcast_to,
    np.concatenate: _concatenate,
    np.concat: _concatenate,
    np.stack: _stack,
    np.split: _split,
    np.dot: _dot,
    np.tril: _tril,
    np.triu: _triu,
    np.zeros_like: _zeros_like,
    np.ones_like: _ones_like,
    np.full_like: _full_like,
    np.empty_like: _empty_like,
    np.astype: _astype,
    np.shape: _shape,
    np.ndim: _ndim,
    np.size: _size,
    np.allclose: _allclose,
    np.isclose: _isclose,
    np.array_equal: _array_equal,
}

_SIGNATURES: dict[Callable, tuple[inspect.Signature, frozenset]] = {}


def _function_name(func: Callable) -> str:
    module = getattr(func, "__module__", None) or "numpy"
    return f"{module}.{getattr(func, '__name__', repr(func))}"


def _signatures(func: Callable, handler: Callable) -> tuple[inspect.Signature, frozenset]:
    found = _SIGNATURES.get(func)
    if found is None:
        found = _SIGNATURES[func] = (inspect.signature(func), frozenset(inspect.signature(handler).parameters))
    return found


def _is_default(parameter: inspect.Parameter, value: Any) -> bool:
    if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
        return not value
    default = parameter.default
    if value is default or value is np._NoValue:
        return True
    return type(value) is type(default) and isinstance(value, (str, bool, int, float)) and value == default


def array_function(func: Callable, types: Any, args: tuple, kwargs: dict) -> Any:
    """`Tensor.__array_function__`: ``func(*args, **kwargs)`` as the autograd routine of the same meaning.

    Raises:
        TypeError: the function is not in the table, or an argument is not supported.
    """
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented  # another array library's object: let it answer
    name = _function_name(func)
    handler = _FUNCTIONS.get(func)
    if handler is None:
        raise TypeError(
            f"{name} is not supported on gradwire Tensors: {_HINT} "
            "(autograd.numpy_interop.supported_functions() lists the NumPy functions that work on Tensors)"
        )
    signature, accepted = _signatures(func, handler)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{name}: {error}") from None
    for key, value in bound.arguments.items():
        if key in accepted:
            continue
        parameter = signature.parameters[key]
        if parameter.kind is inspect.Parameter.VAR_KEYWORD and value:  # np.clip(..., casting=...)
            key, value = next(iter(value.items()))
        elif _is_default(parameter, value):
            continue
        raise _unsupported(name, key, value, "supported arguments: " + ", ".join(sorted(accepted)))
    return handler(**{key: value for key, value in bound.arguments.items() if key in accepted})


def supported_ufuncs() -> list[str]:
    """The names of the ufuncs that work on Tensors (``numpy.exp`` ...), plus the supported ``reduce`` methods."""
    return sorted(_ufunc_name(u) for u in _UFUNCS) + sorted(_ufunc_name(u, "reduce") for u in _REDUCTIONS)


def supported_functions() -> list[str]:
    """The names of the NumPy functions that work on Tensors (``numpy.sum``, ``numpy.concatenate`` ...)."""
    return sorted({_function_name(f) for f in _FUNCTIONS})
