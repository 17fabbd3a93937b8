"""Derivatives of a whole function at a point, with PyTorch's ``torch.autograd.functional`` meaning.

    from autograd import functional as F

    out, g = F.vjp(f, x, v)      # v^T J: one reverse pass
    out, t = F.jvp(f, x, v)      # J v: two reverse passes (the double-vjp trick)
    J = F.jacobian(f, x)         # shape out.shape + x.shape
    H = F.hessian(f, x)          # f returns one element; shape x.shape + x.shape
    out, hv = F.hvp(f, x, v)     # H v without forming H
    out, vh = F.vhp(f, x, v)     # v^T H

``inputs`` is a Tensor or a tuple of Tensors, passed to ``func`` as positional arguments;
``func`` returns a Tensor or a tuple of Tensors. Results mirror those structures the way
PyTorch's do: a Tensor where there is one, tuples where there were tuples, and for
`jacobian` of several outputs and inputs a tuple (over outputs) of tuples (over inputs).

The inputs are detached and made to require grad inside, so ``func`` is differentiated at
the given values, whatever graph they came from. With ``create_graph=True`` an input that
already requires grad stays connected to its graph, and the results (and ``func``'s
outputs) can be differentiated further; otherwise every returned Tensor is detached.

An input that no output depends on gets zeros (the mathematical value); with
``strict=True`` it raises a RuntimeError instead.

Everything runs on `autograd.grad` with ``create_graph``, so it works for every primitive
and for a custom `Function` whose backward is written in Tensor operations (one written on
raw arrays contributes nothing to the second-order results: `jvp`, `hessian`, `hvp`,
`vhp`). Imports: numpy and the autograd core only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .backprop import grad
from .graph import enable_grad
from .primitive import ShapeError
from .routines import stack
from .tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]

Tensors = Tensor | Sequence[Tensor]

_UNUSED = "no output depends on input {i}"
_LINEAR = "the gradient does not depend on input {i} (func is linear in it, or does not use it)"


# ───────────────────────────── helpers ─────────────────────────────


def _as_tuple(value: Any, what: str, fn: str) -> tuple[bool, tuple]:
    """``(was it a tuple?, the value as a tuple of Tensors)``; a list counts as a tuple."""
    is_tuple = isinstance(value, (tuple, list))
    items = tuple(value) if is_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"the value at index {i}" if is_tuple else "it"
            raise TypeError(
                f"{fn}: {what} must be a Tensor or a tuple of Tensors, but {where} has type {type(item).__name__}"
            )
    return is_tuple, items


def _prepare_inputs(xs: tuple, create_graph: bool, fn: str) -> tuple:
    """Fresh tensors that require grad, holding the inputs' values.

    With ``create_graph`` an input that requires grad is passed through a no-op reshape
    instead of being detached, so gradients of the results reach its own graph.
    """
    prepared = []
    for i, x in enumerate(xs):
        if x.dtype.kind != "f":
            raise TypeError(f"{fn}: input {i} has dtype {x.dtype}; only floating-point inputs can be differentiated")
        if create_graph and x.requires_grad:
            prepared.append(x.reshape(x.shape))
        else:
            prepared.append(x.detach().requires_grad_())
    return tuple(prepared)


def _prepare_v(v: Any, like: tuple, like_is_tuple: bool, create_graph: bool, fn: str, against: str) -> tuple:
    """``v`` as a tuple of Tensors, one per tensor of ``like``, each of its shape.

    Arrays and numbers are accepted and take the dtype of the tensor they stand beside.
    """
    # A list stands for several entries only where several are expected; else it is array data.
    v_is_tuple = isinstance(v, tuple) or (like_is_tuple and isinstance(v, list))
    items = tuple(v) if v_is_tuple else (v,)
    if len(items) != len(like):
        raise ValueError(
            f"{fn}: v must hold one tensor per {against[:-1]} ({len(like)}), but it holds {len(items)}"
            if like_is_tuple
            else f"{fn}: v must be a single Tensor (there is one {against[:-1]}), but it holds {len(items)}"
        )
    vs = []
    for i, (item, ref) in enumerate(zip(items, like)):
        if isinstance(item, Tensor):
            t = item.reshape(item.shape) if create_graph and item.requires_grad else item.detach()
        else:
            t = Tensor(np.asarray(item), dtype=ref.dtype)
        if t.shape != ref.shape:
            entry = f"entry {i} of v" if like_is_tuple else "v"
            which = f"{against[:-1]} {i}" if like_is_tuple else f"the {against[:-1]}"
            raise ShapeError(f"{fn}: {entry} has shape {t.shape} but {which} has shape {ref.shape}")
        vs.append(t)
    return tuple(vs)


def _check_outputs(outs: tuple, strict: bool, fn: str) -> None:
    if strict:
        for i, out in enumerate(outs):
            if not out.requires_grad:
                raise RuntimeError(
                    f"{fn}: output {i} of the function does not require grad: it was not computed from the inputs "
                    "in a differentiable way, which strict=True does not allow"
                )


def _grad(outputs: Sequence, inputs: Sequence[Tensor], seeds: Sequence | None, create_graph: bool) -> list:
    """`autograd.grad` over the outputs that require grad; None for an input nothing reached."""
    live = [k for k, out in enumerate(outputs) if out is not None and out.requires_grad]
    if not live:
        return [None] * len(inputs)
    return list(
        grad(
            [outputs[k] for k in live],
            list(inputs),
            None if seeds is None else [seeds[k] for k in live],
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
    )


def _zeros(shape: tuple, dtype: np.dtype) -> Tensor:
    return Tensor(np.zeros(shape, dtype=dtype))


def _check_used(grads: Sequence[Tensor | None], fn: str, independent: str) -> None:
    """For ``strict=True``: a None gradient means input ``i`` is unused, which is an error."""
    for i, g in enumerate(grads):
        if g is None:
            raise RuntimeError(f"{fn}: {independent.format(i=i)}, which strict=True does not allow")


def _fill(grads: Sequence[Tensor | None], like: tuple) -> tuple:
    """The gradients with zeros (like ``like[i]``) where one is None: an unused input's true value."""
    return tuple(_zeros(ref.shape, ref.dtype) if g is None else g for g, ref in zip(grads, like))


def _finish(tensors: tuple, create_graph: bool) -> tuple:
    return tensors if create_graph else tuple(t.detach() for t in tensors)


def _pack(items: tuple, is_tuple: bool) -> Any:
    return items if is_tuple else items[0]


def _single_output(result: Any, fn: str) -> Tensor:
    """The one-element Tensor that ``func`` must return for `hessian`, `hvp` and `vhp`."""
    is_tuple, outs = _as_tuple(result, "the output of func", fn)
    if is_tuple:
        raise RuntimeError(f"{fn}: func must return a single Tensor with one element, not a tuple of {len(outs)}")
    if outs[0].size != 1:
        raise RuntimeError(f"{fn}: func must return a Tensor with one element, but it returned shape {outs[0].shape}")
    return outs[0]


def _jacobian_blocks(outs: tuple, xs: tuple, create_graph: bool, strict: bool, fn: str, independent: str) -> tuple:
    """``blocks[i][j]``: d outs[i] / d xs[j], of shape ``outs[i].shape + xs[j].shape``.

    One reverse pass per output element (a row of the Jacobian), seeded with a one-hot.
    """
    blocks = []
    used = [False] * len(xs)
    for out in outs:
        rows: list[list] = [[] for _ in xs]
        if out.requires_grad:
            for k in range(out.size):
                seed = np.zeros(out.size, dtype=out.dtype)
                seed[k] = 1
                grads = _grad((out,), xs, (seed.reshape(out.shape),), create_graph)
                for j, g in enumerate(grads):
                    if g is not None:
                        rows[j].append(g)
        row_blocks = []
        for j, x in enumerate(xs):
            shape = out.shape + x.shape
            if not rows[j]:
                row_blocks.append(_zeros(shape, x.dtype))
                continue
            used[j] = True
            if create_graph:
                row_blocks.append(stack(rows[j]).reshape(shape))
            else:
                row_blocks.append(Tensor(np.stack([g.data for g in rows[j]]).reshape(shape)))
        blocks.append(tuple(row_blocks))
    if strict:
        for j, was_used in enumerate(used):
            if not was_used:
                raise RuntimeError(f"{fn}: {independent.format(i=j)}, which strict=True does not allow")
    return tuple(blocks)


# ───────────────────────────── public functions ─────────────────────────────


def vjp(
    func: Callable[..., Tensors],
    inputs: Tensors,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Tensors, Tensors]:
    """The vector-Jacobian product ``v^T J`` of ``func`` at ``inputs`` (one reverse pass).

    Args:
        func: takes the input Tensors as positional arguments; returns a Tensor or a tuple of them.
        inputs: a Tensor or a tuple of Tensors (floating point).
        v: one tensor (or array) per output of ``func``, each of that output's shape. May be
            left out when ``func`` returns a single one-element Tensor (it is then 1).
        create_graph: make the results differentiable (for higher-order derivatives).
        strict: raise a RuntimeError for an input that no output depends on, instead of giving zeros.

    Returns:
        ``(func_output, vjp)``: the output of ``func`` and the product, shaped like the inputs
        (a Tensor for a Tensor input, a tuple for a tuple).
    """
    with enable_grad():
        inputs_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
        xs = _prepare_inputs(xs, create_graph, "vjp")
        outputs_tuple, outs = _as_tuple(func(*xs), "the output of func", "vjp")
        _check_outputs(outs, strict, "vjp")
        if v is None:
            if outputs_tuple or outs[0].size != 1:
                shapes = ", ".join(str(o.shape) for o in outs)
                raise RuntimeError(
                    f"vjp: v may be left out only when func returns a single Tensor with one element; "
                    f"it returned shape(s) {shapes}"
                )
            vs = None
        else:
            vs = _prepare_v(v, outs, outputs_tuple, create_graph, "vjp", "outputs")
        grads = _grad(outs, xs, vs, create_graph)
        if strict:
            _check_used(grads, "vjp", _UNUSED)
        result = _fill(grads, xs)
    return _pack(_finish(outs, create_graph), outputs_tuple), _pack(_finish(result, create_graph), inputs_tuple)


def jvp(
    func: Callable[..., Tensors],
    inputs: Tensors,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Tensors, Tensors]:
    """The Jacobian-vector product ``J v`` of ``func`` at ``inputs``.

    Computed with two reverse passes (the double-vjp trick): ``u -> J^T u`` is linear in a
    dummy upstream ``u``, so its own vector-Jacobian product with ``v`` is ``J v``.

    Args:
        func: takes the input Tensors as positional arguments; returns a Tensor or a tuple of them.
        inputs: a Tensor or a tuple of Tensors (floating point).
        v: one tensor (or array) per input, each of that input's shape. May be left out when
            the input is a single one-element Tensor (it is then 1).
        create_graph: make the results differentiable (for higher-order derivatives).
        strict: raise a RuntimeError for an input that no output depends on.

    Returns:
        ``(func_output, jvp)``: the output of ``func`` and the product, shaped like the outputs.
    """
    with enable_grad():
        inputs_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
        xs = _prepare_inputs(xs, create_graph, "jvp")
        if v is None:
            if inputs_tuple or xs[0].size != 1:
                shapes = ", ".join(str(x.shape) for x in xs)
                raise RuntimeError(
                    f"jvp: v may be left out only when the input is a single Tensor with one element; "
                    f"the input shape(s) are {shapes}"
                )
            vs = (Tensor(np.ones(xs[0].shape, dtype=xs[0].dtype)),)
        else:
            vs = _prepare_v(v, xs, inputs_tuple, create_graph, "jvp", "inputs")
        outputs_tuple, outs = _as_tuple(func(*xs), "the output of func", "jvp")
        _check_outputs(outs, strict, "jvp")
        # The value of u never shows in J v (the map is linear in u); zeros keep inf and nan away.
        us = tuple(
            Tensor(np.zeros(o.shape, dtype=o.dtype), requires_grad=True) if o.requires_grad else None for o in outs
        )
        back = _grad(outs, xs, us, create_graph=True)
        if strict:
            _check_used(back, "jvp", _UNUSED)
        live = [k for k, u in enumerate(us) if u is not None]
        forward = [None] * len(outs)
        if live:
            grads = _grad(back, [us[k] for k in live], vs, create_graph)
            for k, g in zip(live, grads):
                forward[k] = g
        result = _fill(forward, outs)
    return _pack(_finish(outs, create_graph), outputs_tuple), _pack(_finish(result, create_graph), outputs_tuple)


def jacobian(
    func: Callable[..., Tensors],
    inputs: Tensors,
    create_graph: bool = False,
    strict: bool = False,
) -> Tensors | tuple:
    """The Jacobian of ``func`` at ``inputs``, one reverse pass per output element.

    Args:
        func: takes the input Tensors as positional arguments; returns a Tensor or a tuple of them.
        inputs: a Tensor or a tuple of Tensors (floating point).
        create_graph: make the result differentiable (for higher-order derivatives).
        strict: raise a RuntimeError for an input that no output depends on.

    Returns:
        For one output and one input, a Tensor of shape ``output.shape + input.shape`` (entry
        ``[i..., j...]`` is d output[i...] / d input[j...]). For a tuple of inputs, a tuple over
        the inputs; for a tuple of outputs, a tuple over the outputs; for both, ``J[i][j]`` is
        the block of output ``i`` and input ``j``.
    """
    with enable_grad():
        inputs_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
        xs = _prepare_inputs(xs, create_graph, "jacobian")
        outputs_tuple, outs = _as_tuple(func(*xs), "the output of func", "jacobian")
        _check_outputs(outs, strict, "jacobian")
        blocks = _jacobian_blocks(outs, xs, create_graph, strict, "jacobian", _UNUSED)
    blocks = tuple(_finish(row, create_graph) for row in blocks)
    return _pack(tuple(_pack(row, inputs_tuple) for row in blocks), outputs_tuple)


def hessian(
    func: Callable[..., Tensor],
    inputs: Tensors,
    create_graph: bool = False,
    strict: bool = False,
) -> Tensor | tuple:
    """The Hessian of a function with one output element: the Jacobian of its gradient.

    Args:
        func: takes the input Tensors as positional arguments; returns a Tensor with one element.
        inputs: a Tensor or a tuple of Tensors (floating point).
        create_graph: make the result differentiable (for higher-order derivatives).
        strict: raise a RuntimeError for an input that the gradient does not depend on
            (``func`` linear in it, or independent of it).

    Returns:
        For one input, a Tensor of shape ``input.shape + input.shape``; for a tuple of inputs,
        a tuple of tuples with ``H[i][j]`` of shape ``inputs[i].shape + inputs[j].shape``.
    """
    with enable_grad():
        inputs_tuple, xs = _as_tuple(inputs, "inputs", "hessian")
        xs = _prepare_inputs(xs, create_graph, "hessian")
        out = _single_output(func(*xs), "hessian")
        _check_outputs((out,), strict, "hessian")
        first = _grad((out,), xs, None, True)
        if strict:
            _check_used(first, "hessian", _UNUSED)
        blocks = _jacobian_blocks(_fill(first, xs), xs, create_graph, strict, "hessian", _LINEAR)
    blocks = tuple(_finish(row, create_graph) for row in blocks)
    return blocks if inputs_tuple else blocks[0][0]


def _second_order_setup(
    func: Callable[..., Tensor], inputs: Tensors, v: Any, create_graph: bool, strict: bool, fn: str
) -> tuple:
    """Shared start of `hvp` and `vhp`: (inputs_tuple, inputs, v, output, gradient of the output)."""
    inputs_tuple, xs = _as_tuple(inputs, "inputs", fn)
    xs = _prepare_inputs(xs, create_graph, fn)
    if v is None:
        if inputs_tuple or xs[0].size != 1:
            shapes = ", ".join(str(x.shape) for x in xs)
            raise RuntimeError(
                f"{fn}: v may be left out only when the input is a single Tensor with one element; "
                f"the input shape(s) are {shapes}"
            )
        vs = (Tensor(np.ones(xs[0].shape, dtype=xs[0].dtype)),)
    else:
        vs = _prepare_v(v, xs, inputs_tuple, create_graph, fn, "inputs")
    out = _single_output(func(*xs), fn)
    _check_outputs((out,), strict, fn)
    first = _grad((out,), xs, None, True)
    if strict:
        _check_used([g if g is not None and g.requires_grad else None for g in first], fn, _LINEAR)
    return inputs_tuple, xs, vs, out, first


def vhp(
    func: Callable[..., Tensor],
    inputs: Tensors,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Tensor, Tensors]:
    """The vector-Hessian product ``v^T H`` of a function with one output element.

    Args:
        func: takes the input Tensors as positional arguments; returns a Tensor with one element.
        inputs: a Tensor or a tuple of Tensors (floating point).
        v: one tensor (or array) per input, each of that input's shape. May be left out when
            the input is a single one-element Tensor.
        create_graph: make the results differentiable (for higher-order derivatives).
        strict: raise a RuntimeError for an input that the gradient does not depend on.

    Returns:
        ``(func_output, vhp)``: the output of ``func`` and the product, shaped like the inputs.
    """
    with enable_grad():
        inputs_tuple, xs, vs, out, first = _second_order_setup(func, inputs, v, create_graph, strict, "vhp")
        result = _fill(_grad(first, xs, vs, create_graph), xs)
    return _pack(_finish((out,), create_graph), False), _pack(_finish(result, create_graph), inputs_tuple)


def hvp(
    func: Callable[..., Tensor],
    inputs: Tensors,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Tensor, Tensors]:
    """The Hessian-vector product ``H v`` of a function with one output element, without forming H.

    Computed with the double-vjp trick on the gradient: ``u -> u^T H`` is linear in a dummy
    ``u``, so its vector-Jacobian product with ``v`` is ``H v``. For a twice continuously
    differentiable function H is symmetric and this equals `vhp`.

    Args:
        func: takes the input Tensors as positional arguments; returns a Tensor with one element.
        inputs: a Tensor or a tuple of Tensors (floating point).
        v: one tensor (or array) per input, each of that input's shape. May be left out when
            the input is a single one-element Tensor.
        create_graph: make the results differentiable (for higher-order derivatives).
        strict: raise a RuntimeError for an input that the gradient does not depend on.

    Returns:
        ``(func_output, hvp)``: the output of ``func`` and the product, shaped like the inputs.
    """
    with enable_grad():
        inputs_tuple, xs, vs, out, first = _second_order_setup(func, inputs, v, create_graph, strict, "hvp")
        us = tuple(
            Tensor(np.zeros(x.shape, dtype=x.dtype), requires_grad=True) if g is not None and g.requires_grad else None
            for g, x in zip(first, xs)
        )
        back = _grad([g if u is not None else None for g, u in zip(first, us)], xs, us, True)
        live = [i for i, u in enumerate(us) if u is not None]
        products = [None] * len(xs)
        if live:
            for i, g in zip(live, _grad(back, [us[i] for i in live], vs, create_graph)):
                products[i] = g
        result = _fill(products, xs)
    return _pack(_finish((out,), create_graph), False), _pack(_finish(result, create_graph), inputs_tuple)
