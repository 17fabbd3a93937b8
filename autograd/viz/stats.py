"""Statistics of one array: `TensorStats`, what a drawing says about a node's output value or its gradient."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

_DTYPE_NAMES: dict[np.dtype, str] = {}


def _dtype_name(dtype: np.dtype) -> str:
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype)
    return name


@dataclass(frozen=True)
class TensorStats:
    """Summary of one array (a node's output value or its gradient).

    Attributes:
        shape: the array's shape.
        dtype: its dtype, as a string ("float32").
        norm: the Euclidean norm over all elements (NaN when any element is NaN).
        min, max, mean: over the finite elements (NaN when there are none).
        nan, posinf, neginf: how many elements are NaN, +inf and -inf.
        zeros: how many elements are exactly zero.
        size: the number of elements.
    """

    shape: tuple
    dtype: str
    norm: float
    min: float
    max: float
    mean: float
    nan: int
    posinf: int
    neginf: int
    zeros: int
    size: int

    @classmethod
    def of(cls, array: Any) -> TensorStats:
        """Summarise an ndarray (or a Tensor's data)."""
        a = np.asarray(array)
        flat = a.reshape(-1).astype(np.float64, copy=False)
        size = flat.size
        nan = posinf = neginf = 0
        finite = flat
        total = float(flat.sum()) if size else 0.0
        if not math.isfinite(total):  # some element is NaN or infinite (or the sum overflowed)
            nan = int(np.count_nonzero(np.isnan(flat)))
            posinf = int(np.count_nonzero(np.isposinf(flat)))
            neginf = int(np.count_nonzero(np.isneginf(flat)))
            if nan or posinf or neginf:
                finite = flat[np.isfinite(flat)]
        if finite.size:
            lo, hi, mean = float(finite.min()), float(finite.max()), float(finite.mean())
        else:
            lo = hi = mean = math.nan
        return cls(
            shape=a.shape,
            dtype=_dtype_name(a.dtype),
            norm=math.sqrt(float(np.dot(flat, flat))) if size else 0.0,
            min=lo,
            max=hi,
            mean=mean,
            nan=nan,
            posinf=posinf,
            neginf=neginf,
            zeros=int(size - np.count_nonzero(flat)),
            size=int(size),
        )

    @property
    def inf(self) -> int:
        """How many elements are infinite (either sign)."""
        return self.posinf + self.neginf

    @property
    def finite(self) -> bool:
        """True when no element is NaN or infinite."""
        return self.nan == 0 and self.inf == 0

    @property
    def suspicious_value(self) -> bool:
        """True for NaN or +inf values; -inf alone is not flagged: masks are written with it (attention scores)."""
        return self.nan > 0 or self.posinf > 0

    @property
    def all_zero(self) -> bool:
        """True when every element is exactly zero."""
        return self.size > 0 and self.zeros == self.size
