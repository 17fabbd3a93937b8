"""gradwire's autograd: a reverse-mode automatic differentiation engine on NumPy.

``import autograd`` needs only NumPy: the observers (`autograd.viz`, `autograd.testing`)
load their own dependencies when first imported.
"""

import importlib
from typing import Any

from . import fused, ops
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from .engine import backward, grad
from .function import Function, FunctionCtx
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .primitive import ShapeError
from .routines import (
    abs,
    arange,
    cat,
    clip,
    concatenate,
    cos,
    exp,
    full,
    log,
    log_softmax,
    logsumexp,
    matmul,
    maximum,
    mean,
    minimum,
    ones,
    ones_like,
    relu,
    sigmoid,
    sin,
    softmax,
    split,
    sqrt,
    stack,
    sum,
    tanh,
    tensor,
    where,
    zeros,
    zeros_like,
)
from .tensor import Tensor

__all__ = [
    "AnomalyError",
    "detect_anomaly",
    "is_anomaly_enabled",
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "ShapeError",
    "Tensor",
    "abs",
    "arange",
    "backward",
    "cat",
    "clip",
    "concatenate",
    "cos",
    "enable_grad",
    "exp",
    "full",
    "fused",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "maximum",
    "mean",
    "minimum",
    "no_grad",
    "ones",
    "ones_like",
    "ops",
    "relu",
    "set_grad_enabled",
    "sigmoid",
    "sin",
    "softmax",
    "split",
    "sqrt",
    "stack",
    "sum",
    "tanh",
    "tensor",
    "where",
    "zeros",
    "zeros_like",
]

_LAZY_SUBMODULES = ("functional", "testing", "viz")


def __getattr__(name: str) -> Any:
    # autograd.testing needs hypothesis and autograd.viz needs graphviz: load them on first use only.
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
