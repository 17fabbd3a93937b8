"""Watching training: `watch` a model's gradient flow and activations, layer by layer.

``monitor = nn.watch(model)`` (the model-watching call of Weights & Biases, ``wandb.watch``)
registers a forward hook on every layer, and returns a `GradientMonitor`. A *step* is one
call of `GradientMonitor.step`, made after ``loss.backward()`` and before the optimizer
updates the weights (and, above all, before ``zero_grad``)::

    monitor = nn.watch(model)
    for x, y in loader:
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        monitor.step()          # reads every parameter's .grad, and the activations of this forward
        opt.step()
    monitor.plot_grad_flow()
    monitor.remove()

(or ``opt = monitor.wrap(opt)``, whose ``step()`` calls ``monitor.step()`` first: a loop that
only sees the optimizer, such as `nn.fit`, then records every step without changes.)

At each recorded step (every ``every``-th), the monitor keeps, per layer, a `LayerStats`:

- gradient statistics over the layer's own parameters (its ``named_parameters(recurse=False)``
  that have a ``.grad``, weight and bias together): mean |g|, max |g|, L2 norm, the fraction of
  exact zeros, and whether all are finite;
- activation statistics of what the layer returned in the step's forward pass(es) with grad
  mode on (``no_grad`` evaluation passes are left out): mean, standard deviation (NumPy's,
  ``ddof=0``), the fraction of exact zeros, and for `Sigmoid` and `Tanh` the fraction of
  *saturated* outputs (sigmoid below 0.01 or above 0.99, tanh beyond +-0.99: where the
  derivative has fallen to a few percent of its peak). A layer called several times in one
  step (shared, or gradient accumulation) gets the statistics of all its outputs together.

A layer is a module, named as by ``model.named_modules()``, that owns parameters or has no
sub-modules (activations such as `Sigmoid` have activations but no gradient statistics).

It flags, by layer name, with a `GradientFlowWarning` (once per layer and condition):

- **vanishing** gradients: the layer's gradient norm below ``vanish_below`` for ``patience``
  recorded steps in a row (an exact zero counts: a dead layer learns nothing either);
- **exploding** gradients: a norm above ``explode_above``, or any NaN or infinity, at once.

This file imports NumPy, autograd's public API and `nn.module`/`nn.layers`; matplotlib only
inside the plotting methods (it is the optional ``notebooks`` extra).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from types import ModuleType
from typing import Any

import numpy as np

from autograd import Tensor, is_grad_enabled

from .layers import Sigmoid, Tanh
from .module import Module, Parameter, RemovableHandle

__all__ = ["GradientFlag", "GradientFlowWarning", "GradientMonitor", "LayerStats", "MonitoredOptimizer", "watch"]

SATURATION = 0.99  # tanh beyond +-0.99, sigmoid outside [0.01, 0.99], counts as saturated
_EXTRA_HINT = "pip install 'gradwire[notebooks]'"


class GradientFlowWarning(UserWarning):
    """Warned by `GradientMonitor.step` when a layer's gradients vanish or explode; the message names the layer."""


@dataclass(frozen=True)
class LayerStats:
    """One layer's statistics at one recorded step; a field is None when it does not apply.

    Attributes:
        step: the step index (0 for the first call of `GradientMonitor.step`).
        grad_mean_abs: mean of |g| over the layer's own parameters' gradients.
        grad_max_abs: max of |g|.
        grad_norm: the L2 norm of all of them together.
        grad_zero_fraction: the fraction of gradient entries that are exactly 0.
        grad_finite: False when any gradient entry is NaN or infinite.
        act_mean: mean of the layer's output(s) in the step's forward pass(es).
        act_std: their standard deviation (``ddof=0``).
        act_zero_fraction: the fraction of outputs exactly 0 (dead ReLUs).
        act_saturated_fraction: for `Sigmoid` and `Tanh`, the fraction of saturated outputs.
    """

    step: int
    grad_mean_abs: float | None = None
    grad_max_abs: float | None = None
    grad_norm: float | None = None
    grad_zero_fraction: float | None = None
    grad_finite: bool | None = None
    act_mean: float | None = None
    act_std: float | None = None
    act_zero_fraction: float | None = None
    act_saturated_fraction: float | None = None


STAT_FIELDS = tuple(f.name for f in fields(LayerStats) if f.name != "step")


@dataclass(frozen=True)
class GradientFlag:
    """A layer flagged by a `GradientMonitor`: what was wrong, when, and the warning's text.

    Attributes:
        layer: the layer's name (as in ``model.named_modules()``).
        kind: ``"vanishing"`` or ``"exploding"``.
        step: the step at which the condition was met.
        value: the gradient norm at that step (NaN or infinite for a non-finite gradient).
        message: the text of the `GradientFlowWarning`.
    """

    layer: str
    kind: str
    step: int
    value: float
    message: str


class _Moments:
    """Running count, mean and M2 (Chan et al.'s parallel update) plus zero and saturation counts."""

    __slots__ = ("n", "mean", "m2", "zeros", "saturated")

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.zeros = 0
        self.saturated = 0

    def add(self, values: np.ndarray, saturation: Callable[[np.ndarray], int] | None) -> None:
        n = values.size
        if n == 0:
            return
        mean = float(values.mean(dtype=np.float64))
        m2 = float(values.var(dtype=np.float64)) * n
        total = self.n + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total
        self.zeros += int(np.count_nonzero(values == 0))
        if saturation is not None:
            self.saturated += saturation(values)


def _sigmoid_saturated(values: np.ndarray) -> int:
    return int(np.count_nonzero((values < 1 - SATURATION) | (values > SATURATION)))


def _tanh_saturated(values: np.ndarray) -> int:
    return int(np.count_nonzero(np.abs(values) > SATURATION))


def _grad_stats(params: Iterable[Parameter]) -> dict[str, Any]:
    """The gradient fields of `LayerStats` over the ``.grad`` of ``params`` (empty when none has one)."""
    grads = [p.grad.data for p in params if p.requires_grad and p.grad is not None]
    if not grads:
        return {}
    flat = np.concatenate([np.asarray(g, dtype=np.float64).ravel() for g in grads])
    if flat.size == 0:
        return {}
    magnitude = np.abs(flat)
    with np.errstate(over="ignore", invalid="ignore"):
        return {
            "grad_mean_abs": float(magnitude.mean()),
            "grad_max_abs": float(magnitude.max()),
            "grad_norm": float(math.sqrt(np.dot(flat, flat))),
            "grad_zero_fraction": float(np.count_nonzero(flat == 0) / flat.size),
            "grad_finite": bool(np.isfinite(flat).all()),
        }


def _check_positive(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and value > 0):
        raise ValueError(f"watch: {name} must be a positive number, got {value!r}")


class GradientMonitor:
    """Records each layer's gradient and activation statistics step by step, and flags vanishing or exploding ones.

    Made by `watch` (see the module docstring for what a step and a layer are). The hooks
    it registers stay on the model until `remove`.

    Args:
        model: the module to watch.
        every: record every ``every``-th step (1: all of them); the others cost one counter
            increment (the forward hooks return at once).
        vanish_below: a gradient norm below this, ``patience`` recorded steps in a row, flags
            the layer as vanishing.
        explode_above: a gradient norm above this (or any non-finite gradient) flags the layer
            as exploding.
        patience: how many recorded steps in a row a norm must stay below ``vanish_below``.
        activations: record activation statistics (forward hooks); False records gradients only.

    Attributes:
        layers: the watched layers' names, in ``named_modules`` order.
        history: layer name -> list of `LayerStats`, one per recorded step.
        steps: the recorded step indices, in order.
        flags: every `GradientFlag` raised so far, in order.
        step_count: how many times `step` has been called.
    """

    def __init__(
        self,
        model: Module,
        *,
        every: int = 1,
        vanish_below: float = 1e-7,
        explode_above: float = 1e3,
        patience: int = 3,
        activations: bool = True,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"watch: model must be an nn.Module, got {type(model).__name__}")
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"watch: every must be a positive int (record every n-th step), got {every!r}")
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 1:
            raise ValueError(f"watch: patience must be a positive int (steps in a row), got {patience!r}")
        _check_positive("vanish_below", vanish_below)
        _check_positive("explode_above", explode_above)
        if vanish_below >= explode_above:
            raise ValueError(f"watch: vanish_below ({vanish_below}) must be below explode_above ({explode_above})")
        self.model = model
        self.every = every
        self.vanish_below = float(vanish_below)
        self.explode_above = float(explode_above)
        self.patience = patience
        self.activations = bool(activations)

        self._modules: dict[str, Module] = {}
        for name, module in model.named_modules():
            if module._parameters or not module._modules:
                self._modules[name] = module
        self.layers: list[str] = list(self._modules)
        self._with_params = [name for name, module in self._modules.items() if module._parameters]
        self.history: dict[str, list[LayerStats]] = {name: [] for name in self.layers}
        self.steps: list[int] = []
        self.flags: list[GradientFlag] = []
        self.step_count = 0
        self._below: dict[str, int] = dict.fromkeys(self._with_params, 0)  # recorded steps in a row under vanish_below
        self._flagged: set[tuple[str, str]] = set()
        self._moments: dict[str, _Moments] = {}
        self._handles: list[RemovableHandle] = []
        if self.activations:
            for name, module in self._modules.items():
                self._handles.append(module.register_forward_hook(self._activation_hook(name, module)))

    # ───────────── recording ─────────────

    def _recording(self) -> bool:
        """Whether the step in progress (the next `step` call) is one that is recorded."""
        return self.step_count % self.every == 0

    def _activation_hook(self, name: str, module: Module) -> Callable[[Module, tuple, Any], None]:
        saturation = _sigmoid_saturated if isinstance(module, Sigmoid) else None
        saturation = _tanh_saturated if isinstance(module, Tanh) else saturation

        def hook(_module: Module, _args: tuple, output: Any) -> None:
            if not isinstance(output, Tensor) or not is_grad_enabled() or not self._recording():
                return
            moments = self._moments.get(name)
            if moments is None:
                moments = self._moments[name] = _Moments()
            moments.add(output.data, saturation)

        hook.__qualname__ = f"GradientMonitor.activation_hook[{name!r}]"
        return hook

    def step(self) -> dict[str, LayerStats]:
        """Close a step: read every watched parameter's ``.grad`` and the activations since the last step.

        Call it after ``loss.backward()`` and before ``optimizer.zero_grad()`` (before
        ``optimizer.step()`` too, to see the gradients that update the weights). Warns a
        `GradientFlowWarning` for each layer newly flagged as vanishing or exploding.

        Returns:
            Layer name -> its `LayerStats` for this step; empty on a step that is not
            recorded (see ``every``).
        """
        return self._step(stacklevel=3)

    def _step(self, stacklevel: int) -> dict[str, LayerStats]:
        step, recording = self.step_count, self._recording()
        self.step_count += 1
        moments, self._moments = self._moments, {}
        if not recording:
            return {}
        latest: dict[str, LayerStats] = {}
        for name, module in self._modules.items():
            values: dict[str, Any] = _grad_stats(module._parameters.values()) if module._parameters else {}
            m = moments.get(name)
            if m is not None and m.n:
                values["act_mean"] = m.mean
                values["act_std"] = math.sqrt(max(m.m2, 0.0) / m.n)
                values["act_zero_fraction"] = m.zeros / m.n
                if isinstance(module, (Sigmoid, Tanh)):
                    values["act_saturated_fraction"] = m.saturated / m.n
            latest[name] = stats = LayerStats(step, **values)
            self.history[name].append(stats)
        self.steps.append(step)
        for flag in self._check(latest):
            self.flags.append(flag)
            warnings.warn(flag.message, GradientFlowWarning, stacklevel=stacklevel)
        return latest

    def _check(self, latest: dict[str, LayerStats]) -> list[GradientFlag]:
        """The flags this step raises: each layer at most once per kind over the monitor's life."""
        new = []
        for name in self._with_params:
            stats = latest[name]
            norm = stats.grad_norm
            if norm is None:  # no gradient reached the layer this step: neither evidence nor counter-evidence
                continue
            what = f"layer {name!r} ({type(self._modules[name]).__name__})"
            if not stats.grad_finite or norm > self.explode_above:
                detail = (
                    "a non-finite gradient (NaN or infinity)"
                    if not stats.grad_finite
                    else f"gradient norm {norm:.3g} > explode_above={self.explode_above:g}"
                )
                new += self._flag(
                    name,
                    "exploding",
                    stats.step,
                    norm,
                    f"exploding gradients in {what} at step {stats.step}: {detail}; "
                    "lower the learning rate, clip gradients (nn.optim.clip_grad_norm_) or shrink the initialisation",
                )
            if norm < self.vanish_below:
                self._below[name] += 1
                if self._below[name] >= self.patience:
                    first = self.steps[-self.patience]
                    new += self._flag(
                        name,
                        "vanishing",
                        stats.step,
                        norm,
                        f"vanishing gradients in {what}: gradient norm {norm:.3g} < vanish_below="
                        f"{self.vanish_below:g} for {self.patience} recorded step(s) in a row (steps {first}-"
                        f"{stats.step}); the layer barely learns. Deep sigmoid/tanh stacks shrink gradients "
                        "layer by layer: try ReLU with Kaiming init (nn.init.kaiming_normal_), normalisation "
                        "or residual connections",
                    )
            else:
                self._below[name] = 0
        return new

    def _flag(self, layer: str, kind: str, step: int, value: float, message: str) -> list[GradientFlag]:
        if (layer, kind) in self._flagged:
            return []
        self._flagged.add((layer, kind))
        return [GradientFlag(layer, kind, step, float(value), message)]

    def wrap(self, optimizer: Any) -> MonitoredOptimizer:
        """An optimizer whose ``step()`` first calls this monitor's `step` (for loops that only see the optimizer).

        Args:
            optimizer: any object with ``step()``; every other attribute is passed through.

        Returns:
            A `MonitoredOptimizer` around ``optimizer``.
        """
        return MonitoredOptimizer(optimizer, self)

    def remove(self) -> None:
        """Take every hook off the model; the history and flags stay readable."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._moments = {}

    def __enter__(self) -> GradientMonitor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    # ───────────── reading ─────────────

    @property
    def latest(self) -> dict[str, LayerStats]:
        """Layer name -> its `LayerStats` at the last recorded step (empty before the first)."""
        return {name: records[-1] for name, records in self.history.items() if records}

    def flagged(self, kind: str | None = None) -> list[str]:
        """The names of the layers flagged so far, in flagging order.

        Args:
            kind: ``"vanishing"``, ``"exploding"``, or None for both.

        Returns:
            Layer names (a layer flagged for both kinds appears once per kind when ``kind`` is None).
        """
        if kind not in (None, "vanishing", "exploding"):
            raise ValueError(f"flagged: kind must be 'vanishing', 'exploding' or None, got {kind!r}")
        return [flag.layer for flag in self.flags if kind is None or flag.kind == kind]

    def series(self, layer: str, field: str = "grad_norm") -> np.ndarray:
        """One statistic of one layer over the recorded steps (NaN where it does not apply).

        Args:
            layer: a name from `layers`.
            field: a `LayerStats` field, such as ``"grad_norm"`` or ``"act_std"``.

        Returns:
            A float64 array, one entry per recorded step (aligned with `steps`).
        """
        if layer not in self.history:
            raise KeyError(f"series: no watched layer {layer!r} (layers: {', '.join(self.layers)})")
        if field not in STAT_FIELDS:
            raise ValueError(f"series: unknown field {field!r}; use one of {', '.join(STAT_FIELDS)}")
        values = (getattr(stats, field) for stats in self.history[layer])
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)

    def __repr__(self) -> str:
        return (
            f"GradientMonitor({type(self.model).__name__}, {len(self.layers)} layers, {len(self.steps)} steps "
            f"recorded, flagged: {', '.join(f'{f.layer} ({f.kind})' for f in self.flags) or 'none'})"
        )

    # ───────────── plotting ─────────────

    def plot_grad_flow(self, ax: Any = None, step: int = -1) -> Any:
        """The gradient-flow bar chart: mean and max |grad| of each layer with parameters, at one step.

        The classic picture of vanishing gradients: bars that shrink towards the input (left)
        are layers that barely learn. The scale is logarithmic; flagged layers' names are red.

        Args:
            ax: the matplotlib Axes to draw on; None makes a new figure.
            step: which recorded step, indexing `steps` (-1: the latest).

        Returns:
            The Axes, holding two bars per layer (max |grad| behind, mean |grad| in front).

        Raises:
            ImportError: when matplotlib (the ``notebooks`` extra) is not installed.
            ValueError: before any step has been recorded.
        """
        plt = _pyplot("plot_grad_flow")
        if not self.steps:
            raise ValueError("plot_grad_flow: no step recorded yet; call monitor.step() after loss.backward()")
        if ax is None:
            _, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(self._with_params) + 2), 3.5), layout="constrained")
        records = [self.history[name][step] for name in self._with_params]
        x = np.arange(len(records))
        tiny = np.finfo(np.float64).tiny  # a zero has no place on a log axis: drawn as the smallest positive float

        def heights(field: str) -> np.ndarray:
            values = np.array([np.nan if getattr(r, field) is None else getattr(r, field) for r in records])
            return np.where(values > 0, values, tiny)

        ax.bar(x, heights("grad_max_abs"), width=0.8, color="#9ecae1", label="max |grad|")
        ax.bar(x, heights("grad_mean_abs"), width=0.5, color="#08519c", label="mean |grad|")
        ax.set_yscale("log")
        ax.set_xticks(x)
        ax.set_xticklabels([name or "(model)" for name in self._with_params], rotation=45, ha="right")
        flagged = set(self.flagged())
        for label, name in zip(ax.get_xticklabels(), self._with_params):
            if name in flagged:
                label.set_color("#cb181d")
        shown = np.concatenate([heights("grad_mean_abs"), heights("grad_max_abs")])
        shown = shown[np.isfinite(shown) & (shown > tiny)]
        if shown.size:  # frame the bars (a zero's bar then runs off the bottom)
            ax.set_ylim(shown.min() / 10, shown.max() * 3)
        ax.set_xlabel("layer (input to output)")
        ax.set_ylabel("|gradient|")
        ax.set_title(f"Gradient flow, step {records[0].step}" if records else "Gradient flow")
        ax.legend(loc="best", fontsize="small")
        return ax

    def plot_history(self, ax: Any = None, field: str = "grad_norm") -> Any:
        """Each layer's statistic over the recorded steps, on a log scale (gradient norm by default).

        Args:
            ax: the matplotlib Axes to draw on; None makes a new figure.
            field: a `LayerStats` field; for ``"grad_norm"`` the thresholds ``vanish_below``
                and ``explode_above`` are drawn as dashed grey lines.

        Returns:
            The Axes, holding one line per layer that has the statistic (labelled with the
            layer's name), plus the two threshold lines for ``"grad_norm"``.

        Raises:
            ImportError: when matplotlib (the ``notebooks`` extra) is not installed.
        """
        plt = _pyplot("plot_history")
        if field not in STAT_FIELDS:
            raise ValueError(f"plot_history: unknown field {field!r}; use one of {', '.join(STAT_FIELDS)}")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
        names = [name for name in self.layers if any(getattr(r, field) is not None for r in self.history[name])]
        colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, max(len(names), 1)))
        for color, name in zip(colors, names):
            ax.plot(self.steps, self.series(name, field), color=color, label=name or "(model)")
        if field == "grad_norm":
            ax.axhline(self.vanish_below, color="grey", linestyle="--", linewidth=1, label="_vanish_below")
            ax.axhline(self.explode_above, color="grey", linestyle=":", linewidth=1, label="_explode_above")
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(_ticker().MaxNLocator(integer=True))
        ax.set_xlabel("step")
        ax.set_ylabel(field.replace("_", " "))
        ax.set_title(f"{field.replace('_', ' ')} per layer")
        if names:  # beside the plot: with many layers a legend inside would hide lines
            ax.legend(
                loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="x-small", ncol=2 if len(names) > 12 else 1
            )
        return ax


class MonitoredOptimizer:
    """An optimizer whose ``step()`` calls `GradientMonitor.step` first; made by `GradientMonitor.wrap`.

    Every other attribute (``zero_grad``, ``param_groups``, ``state_dict``, ...) is the wrapped
    optimizer's, so it can stand in for it anywhere (in `nn.fit`, say).

    Args:
        optimizer: the optimizer to wrap.
        monitor: the monitor to step.
    """

    def __init__(self, optimizer: Any, monitor: GradientMonitor) -> None:
        self.optimizer = optimizer
        self.monitor = monitor

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Record the gradients with the monitor, then update the weights.

        Args:
            closure: not supported (it would compute the gradients after the monitor read them).

        Returns:
            What the wrapped optimizer's ``step()`` returns.
        """
        if closure is not None:
            raise ValueError("MonitoredOptimizer.step: a closure is not supported; call backward() before step()")
        self.monitor._step(stacklevel=3)
        return self.optimizer.step()

    def __getattr__(self, name: str) -> Any:  # only called for names the wrapper itself lacks
        try:
            optimizer = self.__dict__["optimizer"]
        except KeyError:  # half-built (while unpickling): no recursion through __getattr__
            raise AttributeError(name) from None
        return getattr(optimizer, name)

    def __repr__(self) -> str:
        return f"MonitoredOptimizer({self.optimizer!r})"


def watch(
    model: Module,
    *,
    every: int = 1,
    vanish_below: float = 1e-7,
    explode_above: float = 1e3,
    patience: int = 3,
    activations: bool = True,
) -> GradientMonitor:
    """Watch ``model``'s gradient flow and activations layer by layer (like ``wandb.watch``).

    Registers a forward hook on every layer (unless ``activations=False``); call
    ``monitor.step()`` after each ``loss.backward()`` (or wrap the optimizer with
    ``monitor.wrap(opt)``), and ``monitor.remove()`` when done.

    Args:
        model: the module to watch.
        every: record every ``every``-th step.
        vanish_below: gradient norm under which a layer counts as vanishing (after ``patience``
            recorded steps in a row).
        explode_above: gradient norm over which (or any NaN/inf) a layer counts as exploding.
        patience: recorded steps in a row below ``vanish_below`` before the vanishing flag.
        activations: also record activation statistics through forward hooks.

    Returns:
        The `GradientMonitor`.

    Example::

        monitor = nn.watch(model)
        loss.backward()
        monitor.step()
        monitor.plot_grad_flow()
    """
    return GradientMonitor(
        model,
        every=every,
        vanish_below=vanish_below,
        explode_above=explode_above,
        patience=patience,
        activations=activations,
    )


def _pyplot(function: str) -> ModuleType:
    """``matplotlib.pyplot``, or an ImportError naming the extra that provides it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"{function}: plotting needs matplotlib, which is not installed; install it with: {_EXTRA_HINT}"
        ) from error
    return plt


def _ticker() -> ModuleType:
    """``matplotlib.ticker`` (matplotlib is known to be there once `_pyplot` has returned)."""
    import matplotlib.ticker as ticker

    return ticker
