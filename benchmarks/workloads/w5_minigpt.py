"""W5: a MiniGPT training step: 2 blocks, vocab 65, T=64, B=16, d=128, 4 heads, Adam.

The step: ``zero_grad``; token + position embeddings, two pre-norm blocks, final LayerNorm,
the LM head (no bias); cross-entropy of next-token targets over all B*T positions; backward;
one Adam update. Tokens and targets are fixed random integers. Dropout is 0.

The NumPy and PyTorch blocks come from W4 (`w4_transformer_block`). W5 is also the
workload whose peak memory is measured (``benchmarks.memory``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nn
from nn import functional as F

from ..common import (
    Impl,
    Init,
    NumpyAdam,
    Workload,
    cast,
    count_nodes,
    gradwire_grads,
    gradwire_params,
    init_params,
    load_gradwire,
    load_torch,
    torch_grads,
    torch_or_none,
    torch_params,
)
from .w4_transformer_block import (
    block_backward,
    block_forward,
    block_shapes,
    layer_norm,
    layer_norm_backward,
    torch_classes,
)


def make_init(config: dict[str, Any], seed: int) -> Init:
    rng = np.random.default_rng(seed)
    V, T, d = config["vocab"], config["T"], config["d"]
    shapes: dict[str, tuple[int, ...]] = {"tok_emb.weight": (V, d), "pos_emb.weight": (T, d)}
    for i in range(config["n_layer"]):
        shapes.update(block_shapes(f"blocks.{i}.", d, config["d_ff"]))
    shapes.update({"ln_f.weight": (d,), "ln_f.bias": (d,), "head.weight": (V, d)})
    params = init_params(shapes, rng)
    tokens = rng.integers(0, V, size=(config["batch"], T + 1))
    data = {"idx": tokens[:, :-1].copy(), "targets": tokens[:, 1:].copy()}
    return Init(config, params, data)


def describe(config: dict[str, Any]) -> str:
    c = config
    return (
        f"{c['n_layer']} blocks, vocab {c['vocab']}, B={c['batch']} T={c['T']} d={c['d']} "
        f"heads={c['n_head']} d_ff={c['d_ff']}, Adam"
    )


class NumpyGPT(Impl):
    name = "numpy"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        c = init.config
        self.p = cast(init.params, dtype)
        self.idx, self.targets = init.data["idx"], init.data["targets"]
        self.n_layer, self.n_head = c["n_layer"], c["n_head"]
        self.opt = NumpyAdam(c["lr"])
        self._grads: dict[str, np.ndarray] | None = None
        self._loss = np.nan

    def step(self) -> None:
        p, idx = self.p, self.idx
        self._grads = None
        B, T = idx.shape
        x = p["tok_emb.weight"][idx] + p["pos_emb.weight"][:T]  # (B, T, C)
        caches = []
        for i in range(self.n_layer):
            x, cache = block_forward(x, p, f"blocks.{i}.", self.n_head)
            caches.append(cache)
        h, ln_f = layer_norm(x, p["ln_f.weight"], p["ln_f.bias"])
        C = h.shape[-1]
        h2 = h.reshape(-1, C)
        logits = h2 @ p["head.weight"].T  # (B*T, V)
        # cross-entropy over all positions, and its gradient
        n = logits.shape[0]
        rows, labels = np.arange(n), self.targets.reshape(-1)
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -logp[rows, labels].mean()
        g = np.exp(logp)
        g[rows, labels] -= 1.0
        g *= 1.0 / n
        # backward
        grads: dict[str, np.ndarray] = {"head.weight": g.T @ h2}
        gx = layer_norm_backward((g @ p["head.weight"]).reshape(B, T, C), ln_f, grads, "ln_f")
        for i in range(self.n_layer - 1, -1, -1):
            gx = block_backward(gx, caches[i], p, f"blocks.{i}.", grads)
        gtok = np.zeros_like(p["tok_emb.weight"])
        np.add.at(gtok, idx, gx)  # repeated tokens add up
        gpos = np.zeros_like(p["pos_emb.weight"])
        gpos[:T] = gx.sum(axis=0)
        grads["tok_emb.weight"], grads["pos_emb.weight"] = gtok, gpos
        self.opt.update(p, grads)
        self._grads, self._loss = grads, loss

    def loss_value(self) -> float:
        return float(self._loss)

    def grads(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self._grads.items()}

    def params(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.p.items()}


class GradwireGPT(Impl):
    name = "gradwire"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        c = init.config
        config = nn.GPTConfig(
            vocab_size=c["vocab"],
            block_size=c["T"],
            n_layer=c["n_layer"],
            n_head=c["n_head"],
            d_model=c["d"],
            d_ff=c["d_ff"],
            dropout=0.0,
        )
        self.model = nn.MiniGPT(config)
        load_gradwire(self.model, init.params, dtype)
        self.idx, self.targets = init.data["idx"], init.data["targets"]
        self.opt = nn.optim.Adam(self.model.parameters(), lr=c["lr"])
        self._loss = None

    def _forward(self) -> Any:
        return F.cross_entropy(self.model(self.idx), self.targets)

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


class TorchGPT(Impl):
    name = "torch"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        torch = torch_or_none()
        c = init.config
        self.model = torch_classes()["MiniGPT"](c["vocab"], c["T"], c["n_layer"], c["d"], c["n_head"], c["d_ff"])
        load_torch(self.model, init.params, dtype)
        self.idx = torch.from_numpy(init.data["idx"].astype(np.int64))
        self.targets = torch.from_numpy(init.data["targets"].astype(np.int64)).reshape(-1)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=c["lr"])
        self.cross_entropy = torch.nn.functional.cross_entropy
        self._loss = None

    def step(self) -> None:
        self.opt.zero_grad()
        logits = self.model(self.idx)
        loss = self.cross_entropy(logits.reshape(-1, logits.shape[-1]), self.targets)
        loss.backward()
        self.opt.step()
        self._loss = loss

    def loss_value(self) -> float:
        return float(self._loss.item())

    def grads(self) -> dict[str, np.ndarray]:
        return torch_grads(self.model)

    def params(self) -> dict[str, np.ndarray]:
        return torch_params(self.model)


WORKLOAD = Workload(
    key="W5",
    title="MiniGPT training step",
    target=1.2,
    sizes={
        "full": dict(vocab=65, T=64, batch=16, d=128, n_head=4, d_ff=512, n_layer=2, lr=1e-3),
        "small": dict(vocab=11, T=8, batch=2, d=16, n_head=2, d_ff=32, n_layer=2, lr=1e-3),
    },
    make_init=make_init,
    impls={"numpy": NumpyGPT, "gradwire": GradwireGPT, "torch": TorchGPT},
    describe=describe,
)
