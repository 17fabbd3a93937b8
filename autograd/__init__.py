"""gradwire's autograd: a reverse-mode automatic differentiation engine on NumPy.

``import autograd`` needs only NumPy: the observers (`autograd.viz`, `autograd.testing`)
load their own dependencies when first imported.
"""

import importlib
from typing import Any

from . import conv, fused, ops
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from .backprop import backward, grad
from .function import Function, FunctionCtx
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import scalar_operand
from .primitive import ShapeError
from .random import default_generator, manual_seed
from .replay import CompiledStep, ReplayError, ReplayWarning, compile_step
from .routines import (
    abs,
    amax,
    amin,
    arange,
    argmax,
    argmin,
    astype,
    broadcast_to,
    cat,
    clip,
    concatenate,
    cos,
    exp,
    expand_dims,
    full,
    full_like,
    log,
    log_softmax,
    logsumexp,
    masked_fill,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    moveaxis,
    multinomial,
    ones,
    ones_like,
    permute_dims,
    pow,
    power,
    relu,
    reshape,
    sigmoid,
    sign,
    sin,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sum,
    swapaxes,
    tanh,
    tensor,
    topk,
    transpose,
    tril,
    triu,
    var,
    where,
    zeros,
    zeros_like,
)
from .scopes import record_scope
from .tensor import Tensor

__all__ = [
    "AnomalyError",
    "CompiledStep",
    "ReplayError",
    "ReplayWarning",
    "compile_step",
    "default_generator",
    "detect_anomaly",
    "is_anomaly_enabled",
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "ShapeError",
    "Tensor",
    "abs",
    "amax",
    "amin",
    "arange",
    "argmax",
    "argmin",
    "astype",
    "backward",
    "broadcast_to",
    "cat",
    "clip",
    "concatenate",
    "conv",
    "cos",
    "enable_grad",
    "exp",
    "expand_dims",
    "full",
    "full_like",
    "fused",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "log",
    "log_softmax",
    "logsumexp",
    "manual_seed",
    "masked_fill",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "moveaxis",
    "multinomial",
    "no_grad",
    "ones",
    "ones_like",
    "ops",
    "permute_dims",
    "pow",
    "power",
    "record_scope",
    "relu",
    "reshape",
    "scalar_operand",
    "set_grad_enabled",
    "sigmoid",
    "sign",
    "sin",
    "softmax",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sum",
    "swapaxes",
    "tanh",
    "tensor",
    "topk",
    "transpose",
    "tril",
    "triu",
    "var",
    "where",
    "zeros",
    "zeros_like",
]

_LAZY_SUBMODULES = ("functional", "numpy_interop", "testing", "viz")


def __getattr__(name: str) -> Any:
    # autograd.testing needs hypothesis and autograd.viz needs graphviz: load them on first use only.
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
