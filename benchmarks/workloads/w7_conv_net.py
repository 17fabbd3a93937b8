"""W7: a small conv net training step (MNIST-sized: batch 32 of 1 x 28 x 28), SGD.

The step: ``zero_grad``; ``Conv2d(1, 16, 3, padding=1)``, ReLU, ``MaxPool2d(2)``,
``Conv2d(16, 32, 3, padding=1)``, ReLU, ``MaxPool2d(2)``, ``Flatten``, ``Linear(32*7*7, 10)``;
cross-entropy against integer labels; backward (no gradient for the input images); one plain
SGD update. Images and labels are fixed random numbers; the input is not treated as
constant by the NumPy step (it re-pads and re-unfolds it every step, as a new batch needs).

Config keys: ``batch``, ``in_channels``, ``height``, ``width`` (multiples of 4),
``channels`` (the two convolutions' output channels), ``classes``, ``lr``. Parameter names
are ``nn.Sequential``'s (and ``torch.nn.Sequential``'s): ``0.*`` and ``3.*`` the
convolutions, ``7.*`` the linear layer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

import autograd as ag
import nn
from nn import functional as F

from ..common import (
    Impl,
    Init,
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
    torch_grads,
    torch_or_none,
    torch_params,
)

KERNEL = 3  # every convolution is 3 x 3 with padding 1 (the output keeps the input's size)
POOL = 2  # every max pool is 2 x 2 with stride 2
LAYERS = ("0", "3", "7")  # conv, conv, linear: their indices in the Sequential


def _shapes(config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    c0, (c1, c2) = config["in_channels"], config["channels"]
    features = c2 * (config["height"] // 4) * (config["width"] // 4)
    return {
        "0.weight": (c1, c0, KERNEL, KERNEL),
        "0.bias": (c1,),
        "3.weight": (c2, c1, KERNEL, KERNEL),
        "3.bias": (c2,),
        "7.weight": (config["classes"], features),
        "7.bias": (config["classes"],),
    }


def make_init(config: dict[str, Any], seed: int) -> Init:
    """Float64 weights (PyTorch-like scales), a batch of images and its integer labels."""
    if config["height"] % 4 or config["width"] % 4:
        raise ValueError(f"W7: height and width must be multiples of 4, got {config['height']}x{config['width']}")
    rng = np.random.default_rng(seed)
    params = init_params(_shapes(config), rng)
    shape = (config["batch"], config["in_channels"], config["height"], config["width"])
    data = {"x": rng.standard_normal(shape), "y": rng.integers(0, config["classes"], size=config["batch"])}
    return Init(config, params, data)


def describe(config: dict[str, Any]) -> str:
    c = config
    c1, c2 = c["channels"]
    return (
        f"{c['batch']}x{c['in_channels']}x{c['height']}x{c['width']}, conv3x3 {c1}-relu-pool2-conv3x3 {c2}"
        f"-relu-pool2-linear {c['classes']}, cross-entropy, SGD"
    )


# ───────────── hand-written NumPy ─────────────
#
# The layout (why each trick is there, and what it measured: ``benchmarks/README.md``,
# "The NumPy floor"):
#
# - Activations are (C, H, W, N): the examples are the innermost axis, so that a convolution
#   is ONE matrix product over the whole batch, ``[W | b] (C_out, C_in*9 + 1) @ cols
#   (C_in*9 + 1, H*W*N)``, its weight gradient one more and its input gradient a third, with
#   no transposes in between. The last row of ``cols`` is ones, so the products also add the
#   bias and give its gradient (W1's trick). A convolution's ``[W | b]`` is stored transposed
#   in the flat buffer, so that its gradient comes out of ``cols @ dZ.T`` (on the second
#   convolution's shapes 0.75 ms against 1.03 ms for ``dZ @ cols.T``).
# - The columns of ``cols`` (the output positions) are ordered (ph, pw, h/2, w/2, n), with
#   ``h = 2 (h/2) + ph``: the 2 x 2 max pool that follows reads four contiguous blocks of the
#   product, and every pooling op runs on long contiguous rows. The im2col that fills ``cols``
#   is one copy from an ``as_strided`` view of the zero-padded input.
# - max_pool(relu(z)) = relu(max_pool(z)) and, with gradwire's tie rule (a window's gradient
#   goes to its first maximum), the gradients agree too: where the maximum is > 0 it is the
#   same position, and where it is <= 0 ReLU stops the gradient either way. So the ReLU runs
#   on the pooled quarter, and ONE boolean mask per layer (first maximum of its window AND
#   maximum > 0) carries both the pool's and the ReLU's gradient: backward is one multiply.
# - Every stage writes where the next one reads: the first pool into the interior of the
#   second convolution's padded input (whose border stays zero), the second pool into the
#   linear layer's ``[h; 1]`` input (examples as columns, rows in gradwire's flatten order
#   (c, h, w)). col2im (the second convolution's input gradient) is 9 in-place adds, one
#   per kernel offset, of whole-batch strided views; the first convolution has none.


class NumpyConvReluPool:
    """``max_pool2d(relu(conv2d(x, W, b, padding=1)), 2)`` on (C, H, W, N) activations; backward too.

    Args:
        wbt: the layer's ``[W | b]`` transposed, (C_in*9 + 1, C_out): a block of the flat
            parameters, stored this way round because the weight gradient is faster to compute
            so (``cols @ dZ.T``, see ``backward``).
        gwbt: its gradient block, likewise.
        xpad: the zero-padded input, (C_in, H + 2, W + 2, N); the caller writes its interior.
        out: where the pooled, ReLU'd output goes, (C_out, H/2, W/2, N) (any strides).
        input_grad: whether backward computes the gradient of the input (col2im).
    """

    def __init__(self, wbt: np.ndarray, gwbt: np.ndarray, xpad: np.ndarray, out: np.ndarray, input_grad: bool) -> None:
        dtype, (k1, c_out) = wbt.dtype, wbt.shape
        c_in, hp, wp, n = xpad.shape
        h2, w2 = (hp - 2) // POOL, (wp - 2) // POOL
        q = h2 * w2 * n  # one pooling quadrant: the output positions with the same (ph, pw)
        self.wb, self.wbt, self.gwbt, self.out = wbt.T, wbt, gwbt, out
        # im2col: cols[(c, i, j), (ph, pw, h2, w2, n)] = xpad[c, i + ph + 2 h2, j + pw + 2 w2, n]
        self.cols = np.ones((k1, POOL * POOL * q), dtype)  # the last row stays ones (the bias)
        shape8 = (c_in, KERNEL, KERNEL, POOL, POOL, h2, w2, n)
        s_c, s_h, s_w, s_n = xpad.strides
        strides8 = (s_c, s_h, s_w, s_h, s_w, POOL * s_h, POOL * s_w, s_n)
        self.windows = as_strided(xpad, shape8, strides8, writeable=False)
        self.cols8 = self.cols[:-1].reshape(shape8)
        self.z = np.empty((c_out, POOL * POOL * q), dtype)  # the product, then its gradient's buffer
        self.z4 = self.z.reshape(c_out, POOL * POOL, h2, w2, n)
        self.quadrants = [self.z4[:, k] for k in range(POOL * POOL)]  # (C_out, h2, w2, n) each, contiguous
        self.mask = np.empty(self.z4.shape, bool)  # first maximum of its window, and maximum > 0
        self.mask_q = [self.mask[:, k] for k in range(POOL * POOL)]
        self.avail = np.empty(out.shape, bool)  # windows whose first maximum is not found yet
        self.zero = np.array(0.0, dtype)
        self.gz = np.empty_like(self.z)
        self.gz4 = self.gz.reshape(self.z4.shape)
        if input_grad:
            self.gcols = np.empty_like(self.cols)
            gcols8 = self.gcols[:-1].reshape(shape8)
            self.gxpad = np.zeros_like(xpad)
            gwindows = as_strided(self.gxpad, shape8, strides8)  # writeable: col2im adds into it
            # one (view of gxpad, view of gcols) pair per kernel offset: each view's elements are distinct
            self.col2im = [(gwindows[:, i, j], gcols8[:, i, j]) for i in range(KERNEL) for j in range(KERNEL)]
            self.gx = self.gxpad[:, 1:-1, 1:-1, :]
        else:
            self.gcols = None

    def forward(self) -> None:
        maximum, out, (z0, z1, z2, z3) = np.maximum, self.out, self.quadrants
        np.copyto(self.cols8, self.windows)  # im2col: the one copy
        np.dot(self.wb, self.cols, self.z)  # conv + bias, (C_out, 4q)
        maximum(z0, z1, out=out)  # the 2 x 2 max pool: four contiguous quadrants (out= as a keyword:
        maximum(out, z2, out=out)  # NumPy 2.4 deprecates it positional for maximum)
        maximum(out, z3, out=out)
        # the mask: each window's first maximum in row-major order (gradwire's and PyTorch's tie rule),
        # only where the maximum is > 0 (ReLU's gradient)
        mask, avail, m = self.mask, self.avail, self.mask_q
        np.equal(self.z4, out[:, None], mask)
        np.greater(out, self.zero, avail)
        for k in range(POOL * POOL - 1):
            np.logical_and(m[k], avail, m[k])
            np.logical_xor(avail, m[k], avail)  # m[k] is inside avail: this removes it
        np.logical_and(m[-1], avail, m[-1])
        maximum(out, self.zero, out=out)  # ReLU, on the pooled quarter

    def backward(self, g: np.ndarray) -> np.ndarray | None:
        """Store d[W | b] for the pooled output's gradient ``g``; return the input's gradient (or None)."""
        np.multiply(self.mask, g[:, None], self.gz4)  # through the pool and the ReLU at once
        np.dot(self.cols, self.gz.T, self.gwbt)  # [dW | db].T = [cols; 1] @ dZ.T
        if self.gcols is None:
            return None
        np.dot(self.wbt, self.gz, self.gcols)  # d cols (its last row, for the ones, is unused)
        self.gxpad.fill(0)
        for target, source in self.col2im:  # col2im: one whole-batch add per kernel offset
            np.add(target, source, target)
        return self.gx


class NumpyConvNet(Impl):
    """The step written out with NumPy: two `NumpyConvReluPool` stages, a linear layer, cross-entropy, SGD."""

    name = "numpy"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        cfg = init.config
        n, c0, h, w = init.data["x"].shape
        shapes = _shapes(cfg)
        # one [W | b] block per layer in one flat buffer (and the gradients in another): the linear
        # layer's (out, fan_in + 1), the convolutions' transposed, (fan_in + 1, out)
        fan_out = {layer: shapes[f"{layer}.weight"][0] for layer in LAYERS}
        fan_in = {layer: math.prod(shapes[f"{layer}.weight"][1:]) for layer in LAYERS}
        blocks = {layer: (fan_in[layer] + 1, fan_out[layer]) for layer in LAYERS[:2]}
        blocks["7"] = (fan_out["7"], fan_in["7"] + 1)
        self.flat_p = np.empty(sum(a * b for a, b in blocks.values()), dtype)
        self.flat_g = np.zeros_like(self.flat_p)
        p_blocks, g_blocks = flat_views(blocks, self.flat_p), flat_views(blocks, self.flat_g)
        # [W | b] and its gradient of every layer as (out, fan_in + 1) views
        wb = {layer: p_blocks[layer].T if layer in LAYERS[:2] else p_blocks[layer] for layer in LAYERS}
        gwb = {layer: g_blocks[layer].T if layer in LAYERS[:2] else g_blocks[layer] for layer in LAYERS}
        self.p: dict[str, np.ndarray] = {}
        self._grads: dict[str, np.ndarray] = {}
        for layer in LAYERS:
            weight, bias = f"{layer}.weight", f"{layer}.bias"
            wb[layer][:, :-1] = init.params[weight].reshape(fan_out[layer], -1)
            wb[layer][:, -1] = init.params[bias]
            self.p[weight] = _view(wb[layer][:, :-1], shapes[weight])
            self.p[bias] = wb[layer][:, -1]
            self._grads[weight] = _view(gwb[layer][:, :-1], shapes[weight])
            self._grads[bias] = gwb[layer][:, -1]
        c1, c2 = cfg["channels"]
        self.x = np.array(init.data["x"], dtype).transpose(1, 2, 3, 0)  # (C, H, W, N), a view
        self.xpad1 = np.zeros((c0, h + 2, w + 2, n), dtype)
        self.xpad2 = np.zeros((c1, h // 2 + 2, w // 2 + 2, n), dtype)
        features = fan_in["7"]
        self.a = np.ones((features + 1, n), dtype)  # the linear layer's [h; 1], examples as columns
        self.interior = self.xpad1[:, 1:-1, 1:-1, :]
        pooled2 = self.a[:-1].reshape(c2, h // 4, w // 4, n)
        self.conv1 = NumpyConvReluPool(p_blocks["0"], g_blocks["0"], self.xpad1, self.xpad2[:, 1:-1, 1:-1, :], False)
        self.conv2 = NumpyConvReluPool(p_blocks["3"], g_blocks["3"], self.xpad2, pooled2, True)
        self.wbl, self.wbl_t, self.gwbl, self.a_t = wb["7"], wb["7"].T, gwb["7"], self.a.T
        self.ga = np.empty_like(self.a)
        self.gh = self.ga[:-1].reshape(c2, h // 4, w // 4, n)
        classes = cfg["classes"]
        self.logits = np.empty((classes, n), dtype)
        self.shifted = np.empty_like(self.logits)
        self.g = np.empty_like(self.logits)
        # row c, column j of the (classes, batch) logits is flat index c * batch + j
        self.target_index = init.data["y"] * n + np.arange(n)
        self.inv_n, self.n = np.array(1.0 / n, dtype), np.array(n, dtype)
        self.opt = NumpySGD(cfg["lr"], self.flat_p)
        self._loss = np.nan

    def step(self) -> None:
        np.copyto(self.interior, self.x)  # the batch into the padded (C, H, W, N) buffer
        self.conv1.forward()  # -> xpad2's interior
        self.conv2.forward()  # -> a's top rows
        logits, shifted, g = self.logits, self.shifted, self.g
        np.dot(self.wbl, self.a, logits)  # (classes, batch)
        # log_softmax over the classes (axis 0); loss = mean(log sum exp - shifted logit of the target)
        np.subtract(logits, logits.max(axis=0), shifted)
        np.exp(shifted, g)
        sums = g.sum(axis=0)  # (batch,)
        loss = (np.log(sums).sum() - shifted.take(self.target_index).sum()) * self.inv_n
        sums *= self.n
        g /= sums  # softmax / batch ...
        g.reshape(-1)[self.target_index] -= self.inv_n  # ... minus one-hot / batch
        np.dot(g, self.a_t, self.gwbl)  # [dW | db] of the linear layer
        np.dot(self.wbl_t, g, self.ga)  # d [h; 1]
        self.conv1.backward(self.conv2.backward(self.gh))
        self.opt.update(self.flat_p, self.flat_g)
        self._loss = loss

    def loss_value(self) -> float:
        return float(self._loss)

    def grads(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self._grads.items()}

    def params(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.p.items()}


def _view(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` reshaped, as a view (never the silent copy ``reshape`` makes when no view exists)."""
    view = a.reshape(shape)
    if not np.shares_memory(view, a):
        raise RuntimeError(f"W7: a {a.shape} view with strides {a.strides} cannot be reshaped to {shape} in place")
    return view


# ───────────── gradwire and PyTorch ─────────────


def _model(layers: Any, cfg: dict[str, Any]) -> Any:
    """The network from ``layers``: gradwire's ``nn`` or ``torch.nn`` (the same names and arguments)."""
    c0, (c1, c2) = cfg["in_channels"], cfg["channels"]
    features = c2 * (cfg["height"] // 4) * (cfg["width"] // 4)
    return layers.Sequential(
        layers.Conv2d(c0, c1, KERNEL, padding=1),
        layers.ReLU(),
        layers.MaxPool2d(POOL),
        layers.Conv2d(c1, c2, KERNEL, padding=1),
        layers.ReLU(),
        layers.MaxPool2d(POOL),
        layers.Flatten(),
        layers.Linear(features, cfg["classes"]),
    )


class _LibraryStep(Impl):
    """The step as a library user writes it, in gradwire or PyTorch: ``zero_grad``, loss, ``backward``, SGD.

    The loss and ``backward`` are one call, ``_forward_backward``, which gradwire's ``"replay"``
    implementation replays (`common.replayed`).

    Subclasses set ``model``, ``opt``, ``x``, ``y`` and ``cross_entropy``.
    """

    model: Any
    opt: Any
    x: Any
    y: Any
    cross_entropy: Any
    _loss: Any = None

    def _forward(self, x: Any, y: Any) -> Any:
        return self.cross_entropy(self.model(x), y)

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


class GradwireConvNet(_LibraryStep):
    """gradwire: ``nn.Sequential`` of the layers, ``F.cross_entropy``, ``nn.optim.SGD``."""

    name = "gradwire"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        self.model = _model(nn, init.config)
        load_gradwire(self.model, init.params, dtype)
        data = cast(init.data, dtype)
        self.x, self.y = ag.Tensor(data["x"]), data["y"]
        self.opt = nn.optim.SGD(list(self.model.parameters()), lr=init.config["lr"])
        self.cross_entropy = F.cross_entropy

    def grads(self) -> dict[str, np.ndarray]:
        return gradwire_grads(self.model)

    def params(self) -> dict[str, np.ndarray]:
        return gradwire_params(self.model)

    def graph_nodes(self) -> int | None:
        return count_nodes(self._forward(self.x, self.y))


class TorchConvNet(_LibraryStep):
    """PyTorch eager mode: ``torch.nn``, ``torch.nn.functional.cross_entropy``, ``torch.optim.SGD``."""

    name = "torch"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        torch = torch_or_none()
        self.model = _model(torch.nn, init.config)
        load_torch(self.model, init.params, dtype)
        self.x = torch.from_numpy(np.array(init.data["x"], dtype=dtype))
        self.y = torch.from_numpy(init.data["y"].astype(np.int64))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=init.config["lr"])
        self.cross_entropy = torch.nn.functional.cross_entropy

    def grads(self) -> dict[str, np.ndarray]:
        return torch_grads(self.model)

    def params(self) -> dict[str, np.ndarray]:
        return torch_params(self.model)


WORKLOAD = Workload(
    key="W7",
    title="conv net training step",
    target=1.3,
    sizes={
        "full": dict(batch=32, in_channels=1, height=28, width=28, channels=(16, 32), classes=10, lr=0.05),
        "small": dict(batch=3, in_channels=2, height=8, width=8, channels=(3, 4), classes=5, lr=0.05),
    },
    make_init=make_init,
    impls={
        "numpy": NumpyConvNet,
        "gradwire": GradwireConvNet,
        "replay": replayed(GradwireConvNet),
        "torch": TorchConvNet,
    },
    describe=describe,
)
