"""Optimizers (`SGD`, `Adam`, `AdamW`) and gradient clipping, with PyTorch's update rules.

An optimizer holds ``param_groups`` (lists of parameters with their hyper-parameters) and a
per-parameter ``state`` (momentum buffers, moment estimates). ``step()`` reads each
parameter's ``.grad`` and updates ``p.data`` in place with NumPy, under ``autograd.no_grad()``;
parameters whose ``.grad`` is None are skipped. Updates keep the parameter's dtype (a
float32 model stays float32: hyper-parameters are Python floats, which NumPy never lets
upcast an array). Gradient arrays are read-only and never written: clipping replaces
``p.grad`` with a new Tensor.

Regularisation needs no special support; it is a term in the loss::

    loss = loss + lam * sum((p * p).sum() for p in model.parameters())      # L2
    loss = loss + lam * sum(p.abs().sum() for p in model.parameters())      # L1

``SGD(..., weight_decay=wd)`` adds ``wd * p`` to each gradient, which is exactly the
gradient of the L2 term above with ``lam = wd / 2``. ``AdamW`` instead shrinks the weights
directly (decoupled weight decay), which is not the same as an L2 term under Adam.

Saving: ``state_dict()`` has PyTorch's layout (``{'state': {index: {...}}, 'param_groups':
[...]}``, parameters referred to by their position across the groups). For an ``.npz``
file, `flatten_state_dict` turns it into ``name -> ndarray`` (``'state.0.exp_avg'``,
``'param_groups.0.lr'``, ...) and ``load_state_dict`` accepts that flat form as well::

    np.savez(path, **flatten_state_dict(opt.state_dict()))
    opt.load_state_dict(dict(np.load(path)))

This module imports only NumPy and the public autograd API.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

import autograd
from autograd import Tensor, scalar_operand

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "Optimizer",
    "clip_grad_norm_",
    "clip_grad_value_",
    "flatten_state_dict",
    "unflatten_state_dict",
]


def _new_grad(data: np.ndarray) -> Tensor:
    """A gradient Tensor for ``data`` marked read-only, like the gradients backward stores."""
    grad = Tensor(data)
    grad.data.setflags(write=False)
    return grad


def _grad_array(p: Tensor) -> np.ndarray:
    """The gradient of ``p`` as an array of ``p``'s dtype (read-only: never write into it)."""
    grad = p.grad.data
    if grad.shape != p.data.shape:
        raise ValueError(f"optimizer: gradient of shape {grad.shape} for a parameter of shape {p.data.shape}")
    return grad if grad.dtype == p.data.dtype else grad.astype(p.data.dtype)


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad``, ``step``, saving.

    A subclass passes its hyper-parameter defaults and implements `_update`, which changes one
    parameter array in place.

    Args:
        params: an iterable of Tensors, or of dicts each with a ``'params'`` entry (a Tensor or
            a list of Tensors) and optional hyper-parameters overriding ``defaults`` for that
            group, e.g. ``[{'params': body, 'lr': 0.01}, {'params': head}]``.
        defaults: the default hyper-parameters for every group.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]) -> None:
        if isinstance(params, (Tensor, dict)):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {type(params).__name__}"
            )
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with hyper-parameters defaulting to the optimizer's.

        Args:
            param_group: a dict with ``'params'`` (a Tensor or an iterable of Tensors) and any
                hyper-parameters that differ from the defaults.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but got a set")
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter group contains the same parameter more than once")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters.

        Args:
            set_to_none: set ``.grad`` to None (the default, as in PyTorch); when False, each
                existing gradient becomes a zeros Tensor of its shape and dtype (a parameter
                with no gradient keeps None).
        """
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad = _new_grad(np.zeros_like(p.grad.data))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, once.

        Args:
            closure: optional; re-evaluates the model and returns the loss (it should call
                ``zero_grad`` and ``backward`` itself). It runs with grad mode on.

        Returns:
            The closure's loss, or None without a closure.
        """
        loss = None
        if closure is not None:
            with autograd.enable_grad():
                loss = closure()
        state, update = self.state, self._update
        with autograd.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    grad = p.grad
                    if grad is not None:
                        data, grad = p.data, grad.data
                        if grad.shape != data.shape or grad.dtype != data.dtype:
                            grad = _grad_array(p)
                        update(data, grad, group, state[p])
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        """Change ``param`` in place from its (read-only) ``grad``, its group's hyper-parameters and its ``state``."""
        raise NotImplementedError

    # ───────────── saving and loading ─────────────

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, with every array copied.

        Returns:
            ``{'state': {index: {name: value}}, 'param_groups': [{hyper-parameters..., 'params':
            [indices]}]}``, where a parameter's index is its position counting through all the
            groups in order. `flatten_state_dict` turns it into ``name -> ndarray`` for ``np.savez``.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            saved = {k: v for k, v in group.items() if k != "params"}
            saved["params"] = [index[id(p)] for p in group["params"]]
            groups.append(saved)
        state = {
            index[id(p)]: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index and s
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state saved by `state_dict` (or its `flatten_state_dict` form) into this optimizer.

        The optimizer must have been built over parameters of the same shapes, in the same
        groups and order. Saved hyper-parameters replace the current ones; arrays are copied
        and cast to each parameter's dtype.

        Args:
            state_dict: the nested dict from `state_dict`, or the flat ``name -> ndarray`` dict.
        """
        if "param_groups" not in state_dict:
            state_dict = unflatten_state_dict(state_dict)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, "
                f"but the optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        for saved, group in zip(saved_groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"loaded state dict has a parameter group of {len(saved['params'])} parameters "
                    f"where the optimizer's group has {len(group['params'])}"
                )
            for i, p in zip(saved["params"], group["params"]):
                by_index[int(i)] = p
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for i, saved_state in state_dict["state"].items():
            p = by_index.get(int(i))
            if p is None:
                raise ValueError(f"loaded state dict has state for parameter {i}, which is in no group")
            state[p] = {name: _restore_value(name, value, p) for name, value in saved_state.items()}
        groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            restored = {**self.defaults, **{k: _plain(v) for k, v in saved.items() if k != "params"}}
            restored["params"] = group["params"]
            groups.append(restored)
        self.state = state
        self.param_groups = groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        lines.append(")")
        return "\n".join(lines)


def _restore_value(name: str, value: Any, param: Tensor) -> Any:
    """A saved state entry for ``param``: float arrays copied to its dtype (shape checked), integers as ints."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iub":
        return value.item()
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        if value.shape != param.data.shape:
            raise ValueError(
                f"loaded state {name!r} has shape {value.shape}, but its parameter has shape {param.data.shape}"
            )
        return np.array(value, dtype=param.data.dtype)
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def _plain(value: Any) -> Any:
    """A hyper-parameter as a Python value (arrays from a flat state dict become numbers or tuples)."""
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else tuple(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def flatten_state_dict(state_dict: dict[str, Any]) -> dict[str, np.ndarray]:
    """An optimizer state dict as ``name -> ndarray``, ready for ``np.savez(..., allow_pickle=False)``.

    Names are ``'state.<index>.<name>'`` (e.g. ``'state.0.exp_avg'``, ``'state.0.step'``) and
    ``'param_groups.<group>.<name>'`` (e.g. ``'param_groups.0.lr'``, ``'param_groups.0.betas'``,
    ``'param_groups.0.params'``). `unflatten_state_dict` reverses it; ``load_state_dict``
    accepts either form.

    Args:
        state_dict: the nested dict from `Optimizer.state_dict`.

    Returns:
        A flat dict of copied arrays.
    """
    flat: dict[str, np.ndarray] = {}
    for i, entries in state_dict["state"].items():
        for name, value in entries.items():
            flat[f"state.{int(i)}.{name}"] = _as_array(value, f"state.{i}.{name}")
    for g, group in enumerate(state_dict["param_groups"]):
        for name, value in group.items():
            array = np.asarray(value, dtype=np.int64) if name == "params" else _as_array(value, name)
            flat[f"param_groups.{g}.{name}"] = array
    return flat


def _as_array(value: Any, name: str) -> np.ndarray:
    """A copy of ``value`` as an ndarray that ``np.savez`` can store without pickling."""
    array = np.array(value)
    if array.dtype == object:
        raise TypeError(f"flatten_state_dict: {name!r} ({type(value).__name__}) has no array form")
    return array


def unflatten_state_dict(flat: dict[str, Any]) -> dict[str, Any]:
    """The nested optimizer state dict from its `flatten_state_dict` form (e.g. read back from ``np.load``).

    Args:
        flat: ``name -> ndarray`` as written by `flatten_state_dict`.

    Returns:
        ``{'state': {index: {name: value}}, 'param_groups': [...]}``: integer scalars become
        Python ints, hyper-parameters Python numbers or tuples, ``'params'`` a list of ints.
    """
    state: dict[int, dict[str, Any]] = {}
    groups: dict[int, dict[str, Any]] = {}
    for key, value in flat.items():
        kind, index, name = key.split(".", 2)
        value = np.asarray(value)
        if kind == "state":
            is_integer_scalar = value.ndim == 0 and value.dtype.kind in "iub"
            state.setdefault(int(index), {})[name] = value.item() if is_integer_scalar else value.copy()
        elif kind == "param_groups":
            groups.setdefault(int(index), {})[name] = [int(i) for i in value] if name == "params" else _plain(value)
        else:
            raise ValueError(f"unflatten_state_dict: unexpected key {key!r}")
    return {"state": state, "param_groups": [groups[g] for g in sorted(groups)]}


# ───────────── the optimizers ─────────────


def _check_common(lr: float, weight_decay: float) -> None:
    if not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not weight_decay >= 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum, as in ``torch.optim.SGD``.

    Per step, with ``g`` the gradient (negated first when ``maximize``), ``λ`` the weight
    decay, ``μ`` the momentum, ``τ`` the dampening and ``γ`` the learning rate::

        g = g + λ θ                       (if λ != 0)
        b = g on the first step, else μ b + (1 - τ) g     (if μ != 0)
        g = g + μ b if nesterov else b                     (if μ != 0)
        θ = θ - γ g

    Negating the gradient first (PyTorch's implementation; its docs once negated the step
    instead) means weight decay shrinks the weights under ``maximize`` too. Weight decay
    equals an L2 term ``(λ / 2) * sum((p * p).sum() for p in params)`` added to the loss.

    Args:
        params: parameters or parameter groups (see `Optimizer`).
        lr: learning rate γ.
        momentum: momentum factor μ.
        dampening: dampening τ of the momentum.
        weight_decay: L2 penalty λ.
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_common(lr, weight_decay)
        if not momentum >= 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + float(weight_decay) * param
        if momentum != 0:
            momentum = float(momentum)
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buf *= momentum
                buf += (1.0 - float(group["dampening"])) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        # float(): a NumPy float64 lr would promote the update to float64; scalar_operand: see Adam
        param -= scalar_operand(float(group["lr"]), param.dtype) * grad


def _check_adam(lr: float, betas: tuple[float, float], eps: float, weight_decay: float) -> None:
    _check_common(lr, weight_decay)
    if not eps >= 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


class Adam(Optimizer):
    """Adam (optionally AMSGrad), as in ``torch.optim.Adam``.

    Per step t (from 1), with ``g`` the gradient (negated first when ``maximize``)::

        g = g + λ θ                                         (if λ != 0: L2, coupled)
        m = β1 m + (1 - β1) g
        v = β2 v + (1 - β2) g²
        v_max = max(v_max, v); v = v_max                    (if amsgrad)
        θ = θ - γ (m / (1 - β1^t)) / (sqrt(v / (1 - β2^t)) + ε)

    AMSGrad keeps the running maximum of ``v`` itself and bias-corrects it afterwards, as
    PyTorch's code (and its corrected docs) do.

    Args:
        params: parameters or parameter groups (see `Optimizer`).
        lr: learning rate γ.
        betas: decay rates (β1, β2) of the first and second moment estimates.
        eps: ε added to the denominator.
        weight_decay: L2 penalty λ added to the gradient.
        amsgrad: use the AMSGrad variant.
        maximize: maximize the objective instead of minimizing it.
    """

    _decoupled = False

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_adam(lr, betas, eps, weight_decay)
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )
        super().__init__(params, defaults)
        self._scratch: dict[tuple, np.ndarray] = {}

    def _update(self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            if self._decoupled:
                param *= 1.0 - lr * weight_decay
            else:
                grad = grad + weight_decay * param
        # Hyper-parameters as cached 0-d arrays of the parameter's dtype: the same float32 arithmetic
        # as Python floats, without NumPy converting a Python scalar on each of these calls.
        # Every intermediate goes to one scratch array (the same products and sums as the
        # expressions in the docstring, so the same bits): no temporaries allocated per step.
        dtype = param.dtype
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        scratch = self._scratch_like(param)
        exp_avg *= scalar_operand(beta1, dtype)
        exp_avg += np.multiply(grad, scalar_operand(1.0 - beta1, dtype), out=scratch)
        exp_avg_sq *= scalar_operand(beta2, dtype)
        np.multiply(grad, grad, out=scratch)
        scratch *= scalar_operand(1.0 - beta2, dtype)
        exp_avg_sq += scratch
        if group["amsgrad"]:
            second = np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
        else:
            second = exp_avg_sq
        bias_correction1 = 1.0 - beta1**step
        bias_correction2 = 1.0 - beta2**step
        denom = np.sqrt(second, out=scratch)
        denom /= scalar_operand(math.sqrt(bias_correction2), dtype)
        denom += scalar_operand(eps, dtype)
        np.divide(exp_avg, denom, out=scratch)
        scratch *= scalar_operand(lr / bias_correction1, dtype)
        param -= scratch

    def _scratch_like(self, param: np.ndarray) -> np.ndarray:
        """A work array of ``param``'s shape and dtype, shared by the parameters that have them (not state)."""
        key = (param.shape, param.dtype)
        scratch = self._scratch.get(key)
        if scratch is None:
            scratch = self._scratch[key] = np.empty(param.shape, param.dtype)
        return scratch


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as in ``torch.optim.AdamW``.

    Each step first shrinks the weights, ``θ = θ - γ λ θ``, then takes the `Adam` step with
    the plain gradient (the decay never enters the moment estimates).

    Args:
        params: parameters or parameter groups (see `Optimizer`).
        lr: learning rate γ.
        betas: decay rates (β1, β2) of the first and second moment estimates.
        eps: ε added to the denominator.
        weight_decay: decoupled weight decay λ (default 1e-2).
        amsgrad: use the AMSGrad variant.
        maximize: maximize the objective instead of minimizing it.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


# ───────────── gradient clipping ─────────────


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    """The parameters (one Tensor or an iterable) that have a gradient."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients so that their joint norm is at most ``max_norm``, as ``torch.nn.utils.clip_grad_norm_``.

    The norm is taken over all gradients together, as if concatenated into one vector.
    When it exceeds ``max_norm``, every gradient is multiplied by
    ``max_norm / (total_norm + 1e-6)``; each ``p.grad`` is replaced by a new Tensor (gradient
    arrays are read-only). Parameters without a gradient are ignored.

    Args:
        parameters: a Tensor or an iterable of Tensors.
        max_norm: the largest norm allowed.
        norm_type: the p of the p-norm; ``float('inf')`` or ``'inf'`` for the largest absolute value.
        error_if_nonfinite: raise when the total norm is NaN or infinite.

    Returns:
        The total norm of the gradients before clipping, as a 0-d Tensor.
    """
    params = _with_grads(parameters)
    norm_type = float(norm_type)
    if not params:
        return Tensor(0.0)
    norms = [np.linalg.norm(p.grad.data.ravel(), ord=norm_type) for p in params]
    total = np.linalg.norm(np.stack(norms), ord=norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    clip_coef = float(max_norm) / (float(total) + 1e-6)
    if not clip_coef >= 1.0:  # also true for a NaN norm: the gradients become NaN, as in PyTorch
        with np.errstate(invalid="ignore"):  # inf * 0 for an infinite norm: NaN, as in PyTorch, without a warning
            for p in params:
                p.grad = _new_grad(p.grad.data * clip_coef)
    return Tensor(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient element into ``[-clip_value, clip_value]``, as ``torch.nn.utils.clip_grad_value_``.

    Each ``p.grad`` is replaced by a new Tensor; parameters without a gradient are ignored.

    Args:
        parameters: a Tensor or an iterable of Tensors.
        clip_value: the largest absolute value allowed.
    """
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        p.grad = _new_grad(np.clip(p.grad.data, -clip_value, clip_value))
