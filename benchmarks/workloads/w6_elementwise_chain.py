"""W6: a 10,000-op elementwise chain on shape (16,), forward and backward: pure per-op overhead.

"10,000-op" counts PRIMITIVE OPERATIONS, not iterations: the forward records
``(ops - 1) // 3`` iterations of ``x = tanh(x * 1.01 + 0.1)`` (three primitives each:
``mul_scalar``, ``add_scalar``, ``tanh``) and one final ``sum`` for a scalar loss, so the
default ``ops=10000`` is 3,333 iterations, 9,999 + 1 = 10,000 recorded operations, each with
one gradient rule run by backward. The step differentiates the loss with respect to the
chain's input; there are no parameters and no update.

The chain converges to a fixed point where each iteration scales the gradient by about 0.6,
so over 3,333 iterations the input's gradient underflows to exactly zero (the arithmetic
still runs; only a few dozen iterations go through subnormal numbers). ``--check``
therefore uses a 1,000-op chain (333 iterations), whose float64 gradient is about 1e-74.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag

from ..common import Impl, Init, Workload, cast, count_nodes, torch_or_none

SHAPE = (16,)


def iterations(config: dict[str, Any]) -> int:
    """Iterations of the 3-op expression for ``config["ops"]`` recorded operations (the last one is the sum)."""
    return (config["ops"] - 1) // 3


def make_init(config: dict[str, Any], seed: int) -> Init:
    rng = np.random.default_rng(seed)
    return Init(config, {}, {"x": rng.uniform(-1.0, 1.0, size=SHAPE)})


def describe(config: dict[str, Any]) -> str:
    n = iterations(config)
    return f"{n} x [x = tanh(x*1.01 + 0.1)] + sum = {3 * n + 1} primitive ops on shape {SHAPE}, fwd+bwd"


class NumpyChain(Impl):
    name = "numpy"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        self.x0 = cast(init.data, dtype)["x"]
        self.n = iterations(init.config)
        self._grad: np.ndarray | None = None
        self._loss = np.nan

    def step(self) -> None:
        x = self.x0
        ys = []
        for _ in range(self.n):
            x = np.tanh(x * 1.01 + 0.1)
            ys.append(x)
        loss = x.sum()
        g = np.ones_like(x)
        for y in reversed(ys):
            g = g * (1.0 - y * y) * 1.01
        self._grad, self._loss = g, loss

    def loss_value(self) -> float:
        return float(self._loss)

    def grads(self) -> dict[str, np.ndarray]:
        return {"input": self._grad.copy()}

    def params(self) -> dict[str, np.ndarray]:
        return {}


class GradwireChain(Impl):
    name = "gradwire"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        self.x0 = ag.Tensor(cast(init.data, dtype)["x"], requires_grad=True)
        self.n = iterations(init.config)
        self._loss = None

    def _forward(self) -> Any:
        x = self.x0
        for _ in range(self.n):
            x = (x * 1.01 + 0.1).tanh()
        return x.sum()

    def step(self) -> None:
        self.x0.grad = None
        loss = self._forward()
        loss.backward()
        self._loss = loss

    def loss_value(self) -> float:
        return float(self._loss.item())

    def grads(self) -> dict[str, np.ndarray]:
        return {"input": np.array(self.x0.grad.data)}

    def params(self) -> dict[str, np.ndarray]:
        return {}

    def graph_nodes(self) -> int | None:
        return count_nodes(self._forward())


class TorchChain(Impl):
    name = "torch"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        torch = torch_or_none()
        self.x0 = torch.from_numpy(cast(init.data, dtype)["x"]).requires_grad_(True)
        self.tanh = torch.tanh
        self.n = iterations(init.config)
        self._loss = None

    def step(self) -> None:
        self.x0.grad = None
        x = self.x0
        tanh = self.tanh
        for _ in range(self.n):
            x = tanh(x * 1.01 + 0.1)
        loss = x.sum()
        loss.backward()
        self._loss = loss

    def loss_value(self) -> float:
        return float(self._loss.item())

    def grads(self) -> dict[str, np.ndarray]:
        return {"input": self.x0.grad.numpy().copy()}

    def params(self) -> dict[str, np.ndarray]:
        return {}


WORKLOAD = Workload(
    key="W6",
    title="10,000-op elementwise chain (overhead-bound)",
    target=2.5,
    sizes={"full": dict(ops=10_000), "check": dict(ops=1_000), "small": dict(ops=301)},
    make_init=make_init,
    impls={"numpy": NumpyChain, "gradwire": GradwireChain, "torch": TorchChain},
    note=(
        "W6 counts primitive ops, not iterations: 3,333 iterations of the 3-op expression "
        "(mul_scalar, add_scalar, tanh) + 1 sum = 10,000 recorded ops."
    ),
    describe=describe,
    check_size="check",
)
