"""A multi-layer perceptron training step in three implementations (W1, W2 and W3 are configs of it).

One step: ``zero_grad``; forward through Linear layers with an activation between them;
the loss (MSE against float targets, or cross-entropy against integer labels); backward;
one optimizer update (SGD or Adam). The batch is fixed: the step, not data loading, is
what is timed.

Config keys: ``sizes`` (input first, output last), ``batch``, ``activation`` (``"tanh"`` or
``"relu"``), ``loss`` (``"mse"`` or ``"cross_entropy"``), ``optimizer`` (``"sgd"`` or
``"adam"``), ``lr``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
import nn
from nn import functional as F

from ..common import (
    Impl,
    Init,
    NumpyAdam,
    NumpySGD,
    Workload,
    cast,
    count_nodes,
    gradwire_grads,
    gradwire_params,
    init_params,
    load_gradwire,
    load_torch,
    torch_dtype,
    torch_grads,
    torch_or_none,
    torch_params,
)


def _names(n_layers: int) -> list[tuple[str, str]]:
    """(weight, bias) names of each Linear, as in ``nn.MLP`` (activations take the odd indices)."""
    return [(f"layers.{2 * i}.weight", f"layers.{2 * i}.bias") for i in range(n_layers)]


def make_init(config: dict[str, Any], seed: int) -> Init:
    """Float64 weights of an MLP of ``config["sizes"]``, a batch of inputs and its targets."""
    rng = np.random.default_rng(seed)
    sizes, batch = config["sizes"], config["batch"]
    shapes: dict[str, tuple[int, ...]] = {}
    for (w, b), n_in, n_out in zip(_names(len(sizes) - 1), sizes[:-1], sizes[1:]):
        shapes[w] = (n_out, n_in)
        shapes[b] = (n_out,)
    data = {"x": rng.standard_normal((batch, sizes[0]))}
    if config["loss"] == "mse":
        data["y"] = rng.standard_normal((batch, sizes[-1]))
    else:
        data["y"] = rng.integers(0, sizes[-1], size=batch)
    return Init(config, init_params(shapes, rng), data)


def describe(config: dict[str, Any]) -> str:
    sizes = "-".join(str(s) for s in config["sizes"])
    return f"{sizes}, batch {config['batch']}, {config['activation']}, {config['loss']}, {config['optimizer']}"


# ───────────── hand-written NumPy ─────────────


class NumpyMLP(Impl):
    """The step written out with NumPy: forward keeping each layer's output, backward layer by layer."""

    name = "numpy"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        cfg = init.config
        self.p = cast(init.params, dtype)
        data = cast(init.data, dtype)
        self.x, self.y = data["x"], data["y"]
        self.names = _names(len(cfg["sizes"]) - 1)
        self.tanh = cfg["activation"] == "tanh"
        self.mse = cfg["loss"] == "mse"
        self.opt = NumpySGD(cfg["lr"]) if cfg["optimizer"] == "sgd" else NumpyAdam(cfg["lr"])
        self._grads: dict[str, np.ndarray] | None = None
        self._loss = np.nan

    def step(self) -> None:
        p, names, last = self.p, self.names, len(self.names) - 1
        self._grads = None  # drop the previous step's gradients first, as zero_grad does
        # forward: hs[i] is the input of layer i
        h = self.x
        hs = [h]
        for i, (w, b) in enumerate(names):
            z = h @ p[w].T + p[b]
            if i == last:
                out = z
            else:
                h = np.tanh(z) if self.tanh else np.maximum(z, 0)
                hs.append(h)
        # loss and its gradient with respect to the output
        n = out.shape[0]
        if self.mse:
            diff = out - self.y
            loss = (diff * diff).mean()
            g = diff * (2.0 / diff.size)
        else:
            shifted = out - out.max(axis=1, keepdims=True)
            logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            rows = np.arange(n)
            loss = -logp[rows, self.y].mean()
            g = np.exp(logp)
            g[rows, self.y] -= 1.0
            g *= 1.0 / n
        # backward
        grads = {}
        for i in range(last, -1, -1):
            w, b = names[i]
            grads[w] = g.T @ hs[i]
            grads[b] = g.sum(axis=0)
            if i > 0:
                g = g @ p[w]
                h = hs[i]
                g = g * (1.0 - h * h) if self.tanh else g * (h > 0)
        self.opt.update(p, grads)
        self._grads, self._loss = grads, loss

    def loss_value(self) -> float:
        return float(self._loss)

    def grads(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self._grads.items()}

    def params(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.p.items()}


# ───────────── gradwire ─────────────


class GradwireMLP(Impl):
    """The step as a gradwire user writes it: ``nn.MLP``, ``nn.functional`` loss, ``nn.optim``."""

    name = "gradwire"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        cfg = init.config
        self.model = nn.MLP(cfg["sizes"], activation=cfg["activation"])
        load_gradwire(self.model, init.params, dtype)
        data = cast(init.data, dtype)
        self.x = ag.Tensor(data["x"])
        self.y = ag.Tensor(data["y"]) if cfg["loss"] == "mse" else data["y"]
        self.mse = cfg["loss"] == "mse"
        params = list(self.model.parameters())
        if cfg["optimizer"] == "sgd":
            self.opt = nn.optim.SGD(params, lr=cfg["lr"])
        else:
            self.opt = nn.optim.Adam(params, lr=cfg["lr"])
        self._loss = None

    def _forward(self) -> Any:
        out = self.model(self.x)
        return F.mse_loss(out, self.y) if self.mse else F.cross_entropy(out, self.y)

    def step(self) -> None:
        self.opt.zero_grad()
        loss = self._forward()
        loss.backward()
        self.opt.step()
        self._loss = loss

    def loss_value(self) -> float:
        return float(self._loss.item())

    def grads(self) -> dict[str, np.ndarray]:
        return gradwire_grads(self.model)

    def params(self) -> dict[str, np.ndarray]:
        return gradwire_params(self.model)

    def graph_nodes(self) -> int | None:
        return count_nodes(self._forward())


# ───────────── PyTorch ─────────────


class TorchMLP(Impl):
    """The same step in PyTorch eager mode (``torch.nn``, ``torch.optim``)."""

    name = "torch"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        torch = torch_or_none()
        cfg = init.config
        sizes = cfg["sizes"]
        layers: list[Any] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(torch.nn.Tanh() if cfg["activation"] == "tanh" else torch.nn.ReLU())
        self.model = torch.nn.Module()
        self.model.layers = torch.nn.Sequential(*layers)
        load_torch(self.model, init.params, dtype)
        self.x = torch.from_numpy(np.array(init.data["x"], dtype=dtype))
        self.mse = cfg["loss"] == "mse"
        y = init.data["y"]
        self.y = torch.from_numpy(np.array(y, dtype=dtype)) if self.mse else torch.from_numpy(y.astype(np.int64))
        params = list(self.model.parameters())
        if cfg["optimizer"] == "sgd":
            self.opt = torch.optim.SGD(params, lr=cfg["lr"])
        else:
            self.opt = torch.optim.Adam(params, lr=cfg["lr"])
        self.functional = torch.nn.functional
        self.dtype = torch_dtype(dtype)
        self._loss = None

    def step(self) -> None:
        self.opt.zero_grad()
        out = self.model.layers(self.x)
        if self.mse:
            loss = self.functional.mse_loss(out, self.y)
        else:
            loss = self.functional.cross_entropy(out, self.y)
        loss.backward()
        self.opt.step()
        self._loss = loss

    def loss_value(self) -> float:
        return float(self._loss.item())

    def grads(self) -> dict[str, np.ndarray]:
        return torch_grads(self.model)

    def params(self) -> dict[str, np.ndarray]:
        return torch_params(self.model)


def mlp_workload(
    key: str, title: str, target: float, full: dict[str, Any], small: dict[str, Any], note: str = ""
) -> Workload:
    """A `Workload` for one MLP config (``full``) and a reduced one for tests (``small``)."""
    return Workload(
        key=key,
        title=title,
        target=target,
        sizes={"full": full, "small": small},
        make_init=make_init,
        impls={"numpy": NumpyMLP, "gradwire": GradwireMLP, "torch": TorchMLP},
        note=note,
        describe=describe,
    )
