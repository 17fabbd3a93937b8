"""W6: a 10,000-op elementwise chain on shape (16,), forward and backward: pure per-op overhead.

"10,000-op" counts PRIMITIVE OPERATIONS, not iterations: the forward records
``(ops - 1) // 3`` iterations of ``x = tanh(x * 1.01 + 0.1)`` (three primitives each:
``mul_scalar``, ``add_scalar``, ``tanh``) and one final ``sum`` for a scalar loss, so the
default ``ops=10000`` is 3,333 iterations, 9,999 + 1 = 10,000 recorded operations, each with
one gradient rule run by backward. The step differentiates the loss with respect to the
chain's input; there are no parameters and no update. The ``"replay"`` implementation
replays the whole chain and its backward (`common.replayed`): 10,000 recorded forwards plus
the gradient rules' calls become one generated function of NumPy calls.

The chain converges to a fixed point where each iteration scales the gradient by about 0.6,
so over 3,333 iterations the input's gradient underflows to exactly zero (the arithmetic
still runs; only a few dozen iterations go through subnormal numbers). ``--check``
therefore uses a 1,000-op chain (333 iterations), whose float64 gradient is about 1e-74.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag

from ..common import Impl, Init, Workload, cast, count_nodes, replayed, torch_or_none

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
    """The chain as the tightest NumPy loop: one ufunc call per primitive op, nothing allocated.

    The arithmetic is the plain ``x = tanh(x * 1.01 + 0.1)`` and ``g = g * (1 - y * y) * 1.01``,
    op for op (so the results are bit-identical to writing those expressions); what is cut is
    the overhead around each call:

    - every result goes into a preallocated buffer (``out``): the forward writes row ``i`` of
      one ``(n, 16)`` buffer, which backward needs anyway; the backward updates ``g`` in place;
    - the constants are arrays of the chain's shape and dtype, not Python floats: NumPy
      converts a Python float operand on every call, and a same-shape operand is the ufunc's
      fastest path (about 0.23 against 0.64 µs a call on 16 float32 numbers, see
      ``benchmarks/README.md``, "The NumPy floor");
    - the ufuncs are local names and ``out`` is passed positionally (the keyword costs a
      little on each of the 23,331 calls of a full step).
    """

    name = "numpy"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        self.x0 = cast(init.data, dtype)["x"]
        self.n = iterations(init.config)
        self.a = np.full(SHAPE, 1.01, dtype)  # the chain's constants, as operands of its shape
        self.b = np.full(SHAPE, 0.1, dtype)
        self.one = np.ones(SHAPE, dtype)
        self.ys = list(np.empty((self.n, *SHAPE), dtype))  # ys[i]: the output of iteration i (row views)
        self.t = np.empty(SHAPE, dtype)  # backward's scratch: 1 - y * y
        self._grad = np.empty(SHAPE, dtype)
        self._loss = np.nan

    def step(self) -> None:
        multiply, add, subtract, tanh = np.multiply, np.add, np.subtract, np.tanh
        a, b, one, t, g = self.a, self.b, self.one, self.t, self._grad
        x = self.x0
        for y in self.ys:  # x = tanh(x * 1.01 + 0.1), into row i
            multiply(x, a, y)
            add(y, b, y)
            tanh(y, y)
            x = y
        loss = x.sum()
        g[...] = one  # d loss / d x_n
        for y in reversed(self.ys):  # g = g * (1 - y * y) * 1.01
            multiply(y, y, t)
            subtract(one, t, t)
            multiply(g, t, g)
            multiply(g, a, g)
        self._loss = loss

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

    def _forward(self, x: Any) -> Any:
        for _ in range(self.n):
            x = (x * 1.01 + 0.1).tanh()
        return x.sum()

    def _forward_backward(self, x0: Any) -> Any:
        loss = self._forward(x0)
        loss.backward()
        return loss

    def step(self) -> None:
        self.x0.grad = None  # outside the replayed call: it rebinds an attribute, which a recording cannot hold
        self._loss = self._forward_backward(self.x0)

    def loss_value(self) -> float:
        return float(self._loss.item())

    def grads(self) -> dict[str, np.ndarray]:
        return {"input": np.array(self.x0.grad.data)}

    def params(self) -> dict[str, np.ndarray]:
        return {}

    def graph_nodes(self) -> int | None:
        return count_nodes(self._forward(self.x0))


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
    replay_target=1.3,
    sizes={"full": dict(ops=10_000), "check": dict(ops=1_000), "small": dict(ops=301)},
    make_init=make_init,
    impls={"numpy": NumpyChain, "gradwire": GradwireChain, "replay": replayed(GradwireChain), "torch": TorchChain},
    note=(
        "W6 counts primitive ops, not iterations: 3,333 iterations of the 3-op expression "
        "(mul_scalar, add_scalar, tanh) + 1 sum = 10,000 recorded ops."
    ),
    describe=describe,
    check_size="check",
)
