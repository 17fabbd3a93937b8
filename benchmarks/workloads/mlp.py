"""A multi-layer perceptron training step in three implementations (W1, W2 and W3 are configs of it).

One step: ``zero_grad``; forward through Linear layers with an activation between them;
the loss (MSE against float targets, or cross-entropy against integer labels); backward;
one optimizer update (SGD or Adam). The batch is fixed: the step, not data loading, is
what is timed. The ``"replay"`` implementation is gradwire's with the forward, loss and
backward replayed (`common.replayed`); the batch is passed to the replayed call.

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
    flat_views,
    gradwire_grads,
    gradwire_params,
    init_params,
    load_gradwire,
    load_torch,
    replayed,
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
    """The step written out with NumPy, laid out so that it makes as few NumPy calls as it can.

    Layout (the tricks, and why; the measurements are in ``benchmarks/README.md``, "The NumPy floor"):

    - Examples are COLUMNS: layer i maps ``A[i]`` of shape ``(n_in + 1, batch)`` to
      ``Z = [W | b] @ A[i]`` of shape ``(n_out, batch)``. The extra last row of ``A[i]`` is
      ones, so one matrix product adds the bias too (a broadcast ``+ b`` costs more than
      the whole product on W1's 16 x 4 arrays), and in backward ``G @ A[i].T`` gives the
      weight gradient and, in its last column, the bias gradient (the row sums of ``G``).
    - ``[W | b]`` of every layer is a block of ONE flat parameter buffer, and the gradients
      blocks of one flat gradient buffer, so the optimizer updates everything in 2 (SGD) or
      12 (Adam) calls. ``W``, ``b`` and their gradients are views of these blocks.
    - Every array is allocated once, here. The product writes straight into the top rows of
      the next layer's ``A`` (a contiguous block, so ``np.dot(..., out)`` takes it); the
      activation runs in place there; backward writes into fixed buffers too. The 2-D
      products are ``np.dot`` with ``out``: about 0.65 µs on W1's matrices against 1.1 µs
      for ``@``.
    - Backward's ``[W | b].T @ G`` also computes a row for the ones (unused): it keeps the
      product on the whole contiguous block rather than the strided view ``W``.
    - W1 makes 22 NumPy calls a step, so the Python around them counts too: the arrays each
      layer uses are gathered into tuples here, ufuncs are local names, ``out`` is passed
      positionally and scalars are 0-d arrays of the dtype (no Python-float conversion).
    """

    name = "numpy"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        cfg = init.config
        sizes, batch = cfg["sizes"], cfg["batch"]
        names = _names(len(sizes) - 1)
        self.tanh = cfg["activation"] == "tanh"
        self.mse = cfg["loss"] == "mse"
        blocks = {w: (n_out, n_in + 1) for (w, _), n_in, n_out in zip(names, sizes[:-1], sizes[1:])}
        self.flat_p = np.empty(sum(a * b for a, b in blocks.values()), dtype)
        self.flat_g = np.zeros_like(self.flat_p)
        wb = list(flat_views(blocks, self.flat_p).values())  # [W | b] of each layer, (n_out, n_in + 1)
        gwb = list(flat_views(blocks, self.flat_g).values())  # [dW | db]
        self.p: dict[str, np.ndarray] = {}
        self._grads: dict[str, np.ndarray] = {}
        for (w, b), wb_i, gwb_i in zip(names, wb, gwb):
            wb_i[:, :-1], wb_i[:, -1] = init.params[w], init.params[b]
            self.p[w], self.p[b] = wb_i[:, :-1], wb_i[:, -1]
            self._grads[w], self._grads[b] = gwb_i[:, :-1], gwb_i[:, -1]
        # A[i]: layer i's input, examples as columns, a row of ones last
        A = [np.ones((n + 1, batch), dtype) for n in sizes[:-1]]
        A[0][:-1] = init.data["x"].T
        # A[i].T for the weight gradients: views, except the input's, whose transpose is a copy made
        # once with the batch (as a C-ordered operand it makes W2's largest product ~20% faster)
        A_t = [np.ascontiguousarray(A[0].T)] + [a.T for a in A[1:]]
        self.out = np.empty((sizes[-1], batch), dtype)  # the last layer's output, (n_out, batch)
        Z = [a[:-1] for a in A[1:]] + [self.out]  # where layer i's product goes: the next A's top rows
        G = [np.empty((n, batch), dtype) for n in sizes[1:]]  # G[i]: d loss / d Z[i]
        # forward, per layer: ([W | b], its input, its output)
        self.forward_layers = list(zip(wb, A, Z))
        # backward, per layer from the last: ([dW | db], G, A.T) and, except for the first layer,
        # ([W | b].T, d loss / d [h; 1], its top rows d loss / d h, h, scratch for 1 - h^2, the mask
        # h > 0, the previous layer's G)
        self.backward_layers = []
        for i in range(len(wb) - 1, -1, -1):
            hidden = None
            if i > 0:
                ga = np.empty((wb[i].shape[1], batch), dtype)
                h = A[i][:-1]
                hidden = (wb[i].T, ga, ga[:-1], h, np.empty_like(h), np.empty(h.shape, bool), G[i - 1])
            self.backward_layers.append((gwb[i], G[i], A_t[i], hidden))
        if self.mse:
            self.y = np.array(init.data["y"].T, dtype=dtype)  # (n_out, batch)
            self.inv_size = np.array(1.0 / self.y.size, dtype)
            self.two_over_size = np.array(2.0 / self.y.size, dtype)
        else:
            # Row c, column j of the (classes, batch) logits is flat index c * batch + j.
            self.target_index = init.data["y"] * batch + np.arange(batch)
            self.shifted = np.empty_like(self.out)
            self.inv_n = np.array(1.0 / batch, dtype)
            self.n = np.array(batch, dtype)
        self.one = np.array(1.0, dtype)
        self.zero = np.array(0.0, dtype)
        self.opt = NumpySGD(cfg["lr"], self.flat_p) if cfg["optimizer"] == "sgd" else NumpyAdam(cfg["lr"], self.flat_p)
        self._loss = np.nan

    def step(self) -> None:
        dot, multiply, subtract, tanh, maximum = np.dot, np.multiply, np.subtract, np.tanh, np.maximum
        one, zero, use_tanh = self.one, self.zero, self.tanh
        # forward: Z = [W | b] @ [h; 1], into the next layer's A; the activation in place
        for wb, a, z in self.forward_layers:
            dot(wb, a, z)
            if z is not self.out:
                if use_tanh:
                    tanh(z, z)
                else:
                    maximum(z, zero, out=z)  # (np.maximum takes out only as a keyword)
        # the loss, and g = d loss / d out
        out, g = self.out, self.backward_layers[0][1]
        if self.mse:
            subtract(out, self.y, g)  # the difference, scaled into the gradient below
            loss = np.vdot(g, g) * self.inv_size
            multiply(g, self.two_over_size, g)
        else:
            # log_softmax over the classes (axis 0); loss = mean(log sum exp - shifted logit of the target)
            shifted = self.shifted
            subtract(out, out.max(axis=0), shifted)
            np.exp(shifted, g)
            sums = g.sum(axis=0)  # (batch,)
            loss = (np.log(sums).sum() - shifted.take(self.target_index).sum()) * self.inv_n
            sums *= self.n
            g /= sums  # softmax / batch ...
            g.reshape(-1)[self.target_index] -= self.inv_n  # ... minus one-hot / batch
        # backward
        for gwb, g, a_t, hidden in self.backward_layers:
            dot(g, a_t, gwb)  # [dW | db] = G @ [h; 1].T
            if hidden is not None:
                wb_t, ga, gh, h, t, mask, g_prev = hidden
                dot(wb_t, g, ga)  # [W | b].T @ G = d loss / d [h; 1]
                if use_tanh:  # d tanh = 1 - h^2
                    multiply(h, h, t)
                    subtract(one, t, t)
                    multiply(gh, t, g_prev)
                else:  # d relu = (h > 0), a boolean mask
                    np.greater(h, zero, mask)
                    multiply(gh, mask, g_prev)
        self.opt.update(self.flat_p, self.flat_g)
        self._loss = loss

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

    def _forward(self, x: Any, y: Any) -> Any:
        out = self.model(x)
        return F.mse_loss(out, y) if self.mse else F.cross_entropy(out, y)

    def _forward_backward(self, x: Any, y: Any) -> Any:
        loss = self._forward(x, y)
        loss.backward()
        return loss

    def step(self) -> None:
        self.opt.zero_grad()
        self._loss = self._forward_backward(self.x, self.y)
        self.opt.step()

    def loss_value(self) -> float:
        return float(self._loss.item())

    def grads(self) -> dict[str, np.ndarray]:
        return gradwire_grads(self.model)

    def params(self) -> dict[str, np.ndarray]:
        return gradwire_params(self.model)

    def graph_nodes(self) -> int | None:
        return count_nodes(self._forward(self.x, self.y))


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
    key: str,
    title: str,
    target: float,
    full: dict[str, Any],
    small: dict[str, Any],
    note: str = "",
    replay_target: float | None = None,
) -> Workload:
    """A `Workload` for one MLP config (``full``) and a reduced one for tests (``small``)."""
    return Workload(
        key=key,
        title=title,
        target=target,
        sizes={"full": full, "small": small},
        make_init=make_init,
        impls={
            "numpy": NumpyMLP,
            "gradwire": GradwireMLP,
            "replay": replayed(GradwireMLP),
            "torch": TorchMLP,
        },
        note=note,
        describe=describe,
        replay_target=replay_target,
    )
