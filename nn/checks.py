"""`gradcheck_module`: check a module's gradients, for its inputs and all its parameters, in float64.

The check runs `autograd.gradcheck` on the function ``(inputs..., parameters...) -> module(inputs...)``,
with float64 copies of the parameters swapped in for each call (`nn.module.functional_call`)
and swapped out again afterwards, so the module itself is never changed: not its values,
dtypes, gradients or modes. Each parameter copy carries its dotted name, so a failure
report says which one is wrong (``input 3 'layers.2.weight' (shape (1, 16))``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Tensor, gradcheck

from .module import Module, functional_call


def _float64(x: Any) -> Any:
    """A float64 copy of a floating-point Tensor or ndarray (keeping requires_grad and name); others as they are."""
    if isinstance(x, Tensor) and x.dtype.kind == "f":
        return Tensor(x.data.astype(np.float64), requires_grad=x.requires_grad, name=x.name)
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x.astype(np.float64)
    return x


def gradcheck_module(module: Module, *inputs: Any, eval_mode: bool = True, **gradcheck_kwargs: Any) -> bool:
    """Check ``module``'s gradients by finite differences, in float64, with `autograd.gradcheck`.

    Checked: every floating-point input Tensor that requires grad, and every parameter of
    the module that requires grad (each shared parameter once, under its first name).
    Inputs that do not require grad (integer indices, fixed data) are passed through as
    constants (float ones as float64). Frozen parameters take part as float64 constants.

    The module runs in evaluation mode during the check (``eval_mode=True``, the default),
    because dropout draws a new random mask at every call and finite differences would
    then compare different functions. Each sub-module's ``training`` flag is restored
    afterwards. Pass ``eval_mode=False`` to check the training-mode function of a module
    whose training behaviour is deterministic.

    Args:
        module: the module to check; it is left exactly as it was.
        inputs: the forward's positional arguments.
        eval_mode: run the check with the module in evaluation mode.
        gradcheck_kwargs: passed to `autograd.gradcheck` (``eps``, ``atol``, ``rtol``,
            ``raise_exception``, ``seed``, ...).

    Returns:
        True when every gradient agrees (False on failure with ``raise_exception=False``).

    Raises:
        autograd.GradcheckError: on failure (unless ``raise_exception=False``), naming the
            input or parameter whose gradient is wrong.
    """
    named = list(module.named_parameters())
    copies = [Tensor(p.data.astype(np.float64), requires_grad=p.requires_grad, name=name) for name, p in named]
    args = [_float64(x) for x in inputs]
    n_inputs = len(args)
    names = [name for name, _ in named]

    def run(*values: Any) -> Any:
        return functional_call(module, dict(zip(names, values[n_inputs:])), tuple(values[:n_inputs]))

    modes = [(m, m.training) for m in module.modules()]
    if eval_mode:
        module.eval()
    try:
        return gradcheck(run, [*args, *copies], **gradcheck_kwargs)
    finally:
        for m, training in modes:
            m.training = training
