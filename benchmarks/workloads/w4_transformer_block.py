"""W4: one pre-norm TransformerBlock, forward and backward (B=16, T=64, d=128, 4 heads, d_ff=512).

The step: ``zero_grad``; ``y = block(x)`` with ``x`` requiring grad; ``y.backward(G)`` with
a fixed upstream gradient ``G`` of ``y``'s shape (so no loss function is involved, and the
gradient reaches the block's input as well as its weights). No optimizer update.

The block is GPT-2's (nanoGPT's): ``x = x + attn(ln1(x)); x = x + mlp(ln2(x))``, causal
multi-head attention with one fused q, k, v projection, GELU (tanh approximation).

This file also holds the hand-written NumPy block (forward keeps what backward needs;
backward written out) and the PyTorch block, which W5 (MiniGPT) reuses.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd as ag
import nn

from ..common import (
    Impl,
    Init,
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

GELU_C = math.sqrt(2.0 / math.pi)
GELU_K = 0.044715
LN_EPS = 1e-5


def block_shapes(prefix: str, d: int, d_ff: int) -> dict[str, tuple[int, ...]]:
    """Parameter shapes of one block, named as gradwire's ``TransformerBlock`` names them."""
    return {
        f"{prefix}ln1.weight": (d,),
        f"{prefix}ln1.bias": (d,),
        f"{prefix}attn.qkv.weight": (3 * d, d),
        f"{prefix}attn.qkv.bias": (3 * d,),
        f"{prefix}attn.proj.weight": (d, d),
        f"{prefix}attn.proj.bias": (d,),
        f"{prefix}ln2.weight": (d,),
        f"{prefix}ln2.bias": (d,),
        f"{prefix}mlp.fc1.weight": (d_ff, d),
        f"{prefix}mlp.fc1.bias": (d_ff,),
        f"{prefix}mlp.fc2.weight": (d, d_ff),
        f"{prefix}mlp.fc2.bias": (d,),
    }


# ───────────── hand-written NumPy pieces ─────────────


def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """x @ w.T + b over the last axis, as one 2-D matrix product."""
    y = x.reshape(-1, x.shape[-1]) @ w.T
    if b is not None:
        y = y + b
    return y.reshape(*x.shape[:-1], w.shape[0])


def linear_backward(g: np.ndarray, x: np.ndarray, w: np.ndarray, grads: dict, name: str, bias: bool) -> np.ndarray:
    """Store the weight (and bias) gradients under ``name`` and return the input's gradient."""
    g2 = g.reshape(-1, g.shape[-1])
    grads[f"{name}.weight"] = g2.T @ x.reshape(-1, x.shape[-1])
    if bias:
        grads[f"{name}.bias"] = g2.sum(axis=0)
    return (g2 @ w).reshape(x.shape)


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """LayerNorm over the last axis (biased variance); returns the output and what backward needs."""
    xc = x - x.mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + LN_EPS)
    xhat = xc * rstd
    return xhat * w + b, (xhat, rstd, w)


def layer_norm_backward(g: np.ndarray, cache: tuple, grads: dict, name: str) -> np.ndarray:
    xhat, rstd, w = cache
    d = g.shape[-1]
    grads[f"{name}.weight"] = (g * xhat).reshape(-1, d).sum(axis=0)
    grads[f"{name}.bias"] = g.reshape(-1, d).sum(axis=0)
    gx = g * w
    return rstd * (gx - gx.mean(axis=-1, keepdims=True) - xhat * (gx * xhat).mean(axis=-1, keepdims=True))


def attention(x: np.ndarray, p: dict, pre: str, n_head: int) -> tuple[np.ndarray, tuple]:
    """Causal multi-head self-attention of ``x`` (B, T, C)."""
    B, T, C = x.shape
    hs = C // n_head
    qkv = linear(x, p[f"{pre}qkv.weight"], p[f"{pre}qkv.bias"])  # (B, T, 3C)
    qkv = qkv.reshape(B, T, 3, n_head, hs).transpose(2, 0, 3, 1, 4)  # (3, B, nh, T, hs)
    q, k, v = qkv[0], qkv[1], qkv[2]
    scale = 1.0 / math.sqrt(hs)
    scores = (q @ k.swapaxes(-1, -2)) * scale  # (B, nh, T, T)
    scores = np.where(np.tri(T, dtype=bool), scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    att = e / e.sum(axis=-1, keepdims=True)
    y = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, C)  # heads side by side
    out = linear(y, p[f"{pre}proj.weight"], p[f"{pre}proj.bias"])
    return out, (x, q, k, v, att, y, scale)


def attention_backward(g: np.ndarray, cache: tuple, p: dict, pre: str, grads: dict) -> np.ndarray:
    x, q, k, v, att, y, scale = cache
    B, nh, T, hs = q.shape
    gy = linear_backward(g, y, p[f"{pre}proj.weight"], grads, f"{pre}proj", True)
    gy = gy.reshape(B, T, nh, hs).transpose(0, 2, 1, 3)  # (B, nh, T, hs)
    gatt = gy @ v.swapaxes(-1, -2)  # (B, nh, T, T)
    gv = att.swapaxes(-1, -2) @ gy
    gs = att * (gatt - (gatt * att).sum(axis=-1, keepdims=True)) * scale  # softmax, then the scale
    gq = gs @ k
    gk = gs.swapaxes(-1, -2) @ q
    gqkv = np.stack([gq, gk, gv]).transpose(1, 3, 0, 2, 4).reshape(B, T, 3 * nh * hs)
    return linear_backward(gqkv, x, p[f"{pre}qkv.weight"], grads, f"{pre}qkv", True)


def block_forward(x: np.ndarray, p: dict, pre: str, n_head: int) -> tuple[np.ndarray, tuple]:
    """One pre-norm block: x + attn(ln1(x)), then + mlp(ln2(.)) with GELU (tanh approximation)."""
    h1, ln1 = layer_norm(x, p[f"{pre}ln1.weight"], p[f"{pre}ln1.bias"])
    a, att = attention(h1, p, f"{pre}attn.", n_head)
    x1 = x + a
    h2, ln2 = layer_norm(x1, p[f"{pre}ln2.weight"], p[f"{pre}ln2.bias"])
    f1 = linear(h2, p[f"{pre}mlp.fc1.weight"], p[f"{pre}mlp.fc1.bias"])
    t = np.tanh((f1 + f1 * f1 * f1 * GELU_K) * GELU_C)
    act = f1 * (t + 1.0) * 0.5
    out = x1 + linear(act, p[f"{pre}mlp.fc2.weight"], p[f"{pre}mlp.fc2.bias"])
    return out, (ln1, att, ln2, h2, f1, t, act)


def block_backward(g: np.ndarray, cache: tuple, p: dict, pre: str, grads: dict) -> np.ndarray:
    ln1, att, ln2, h2, f1, t, act = cache
    gact = linear_backward(g, act, p[f"{pre}mlp.fc2.weight"], grads, f"{pre}mlp.fc2", True)
    gf1 = gact * ((t + 1.0) * 0.5 + f1 * (1.0 - t * t) * (0.5 * GELU_C) * (f1 * f1 * (3 * GELU_K) + 1.0))
    gh2 = linear_backward(gf1, h2, p[f"{pre}mlp.fc1.weight"], grads, f"{pre}mlp.fc1", True)
    gx1 = g + layer_norm_backward(gh2, ln2, grads, f"{pre}ln2")
    gh1 = attention_backward(gx1, att, p, f"{pre}attn.", grads)
    return gx1 + layer_norm_backward(gh1, ln1, grads, f"{pre}ln1")


# ───────────── the PyTorch block (built on first use: torch is optional) ─────────────

_torch_classes: dict[str, Any] = {}


def torch_classes() -> dict[str, Any]:
    """``Block`` and ``MiniGPT`` torch modules whose parameter names match gradwire's."""
    if _torch_classes:
        return _torch_classes
    torch = torch_or_none()
    F = torch.nn.functional

    class Attention(torch.nn.Module):
        def __init__(self, d: int, n_head: int) -> None:
            super().__init__()
            self.n_head = n_head
            self.qkv = torch.nn.Linear(d, 3 * d)
            self.proj = torch.nn.Linear(d, d)

        def forward(self, x: Any) -> Any:
            B, T, C = x.shape
            q, k, v = self.qkv(x).split(C, dim=2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class FeedForward(torch.nn.Module):
        def __init__(self, d: int, d_ff: int) -> None:
            super().__init__()
            self.fc1 = torch.nn.Linear(d, d_ff)
            self.fc2 = torch.nn.Linear(d_ff, d)

        def forward(self, x: Any) -> Any:
            return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))

    class Block(torch.nn.Module):
        def __init__(self, d: int, n_head: int, d_ff: int) -> None:
            super().__init__()
            self.ln1 = torch.nn.LayerNorm(d)
            self.attn = Attention(d, n_head)
            self.ln2 = torch.nn.LayerNorm(d)
            self.mlp = FeedForward(d, d_ff)

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class MiniGPT(torch.nn.Module):
        def __init__(self, vocab: int, block_size: int, n_layer: int, d: int, n_head: int, d_ff: int) -> None:
            super().__init__()
            self.tok_emb = torch.nn.Embedding(vocab, d)
            self.pos_emb = torch.nn.Embedding(block_size, d)
            self.blocks = torch.nn.ModuleList([Block(d, n_head, d_ff) for _ in range(n_layer)])
            self.ln_f = torch.nn.LayerNorm(d)
            self.head = torch.nn.Linear(d, vocab, bias=False)

        def forward(self, idx: Any) -> Any:
            T = idx.shape[1]
            x = self.tok_emb(idx) + self.pos_emb(torch.arange(T))
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    _torch_classes.update(Block=Block, MiniGPT=MiniGPT)
    return _torch_classes


# ───────────── W4 ─────────────


def make_init(config: dict[str, Any], seed: int) -> Init:
    rng = np.random.default_rng(seed)
    B, T, d = config["batch"], config["T"], config["d"]
    params = init_params(block_shapes("", d, config["d_ff"]), rng)
    data = {"x": rng.standard_normal((B, T, d)), "grad_out": rng.standard_normal((B, T, d))}
    return Init(config, params, data)


def describe(config: dict[str, Any]) -> str:
    c = config
    return f"B={c['batch']} T={c['T']} d={c['d']} heads={c['n_head']} d_ff={c['d_ff']}, fwd+bwd"


class NumpyBlock(Impl):
    name = "numpy"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        self.p = cast(init.params, dtype)
        data = cast(init.data, dtype)
        self.x, self.g = data["x"], data["grad_out"]
        self.n_head = init.config["n_head"]
        self._grads: dict[str, np.ndarray] | None = None
        self._out: np.ndarray | None = None

    def step(self) -> None:
        self._grads = None
        out, cache = block_forward(self.x, self.p, "", self.n_head)
        grads: dict[str, np.ndarray] = {}
        grads["input"] = block_backward(self.g, cache, self.p, "", grads)
        self._grads, self._out = grads, out

    def loss_value(self) -> float:
        return float((self._out * self.g).sum())  # what backward(G) differentiates: sum(y * G)

    def grads(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self._grads.items()}

    def params(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.p.items()}


class GradwireBlock(Impl):
    name = "gradwire"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        c = init.config
        self.block = nn.TransformerBlock(c["d"], c["n_head"], c["d_ff"])
        load_gradwire(self.block, init.params, dtype)
        data = cast(init.data, dtype)
        self.x = ag.Tensor(data["x"], requires_grad=True)
        self.g = data["grad_out"]
        self._out = None

    def step(self) -> None:
        self.block.zero_grad()
        self.x.grad = None
        out = self.block(self.x)
        out.backward(self.g)
        self._out = out

    def loss_value(self) -> float:
        return float((self._out.data * self.g).sum())

    def grads(self) -> dict[str, np.ndarray]:
        return {**gradwire_grads(self.block), "input": np.array(self.x.grad.data)}

    def params(self) -> dict[str, np.ndarray]:
        return gradwire_params(self.block)

    def graph_nodes(self) -> int | None:
        return count_nodes(self.block(self.x))


class TorchBlock(Impl):
    name = "torch"

    def __init__(self, init: Init, dtype: np.dtype) -> None:
        torch = torch_or_none()
        c = init.config
        self.block = torch_classes()["Block"](c["d"], c["n_head"], c["d_ff"])
        load_torch(self.block, init.params, dtype)
        self.x = torch.from_numpy(np.array(init.data["x"], dtype=dtype)).requires_grad_(True)
        self.g = torch.from_numpy(np.array(init.data["grad_out"], dtype=dtype))
        self._out = None

    def step(self) -> None:
        self.block.zero_grad()
        self.x.grad = None
        out = self.block(self.x)
        out.backward(self.g)
        self._out = out

    def loss_value(self) -> float:
        return float((self._out.detach() * self.g).sum())

    def grads(self) -> dict[str, np.ndarray]:
        return {**torch_grads(self.block), "input": self.x.grad.numpy().copy()}

    def params(self) -> dict[str, np.ndarray]:
        return torch_params(self.block)


WORKLOAD = Workload(
    key="W4",
    title="TransformerBlock forward + backward",
    target=1.2,
    sizes={
        "full": dict(batch=16, T=64, d=128, n_head=4, d_ff=512),
        "small": dict(batch=2, T=8, d=16, n_head=2, d_ff=32),
    },
    make_init=make_init,
    impls={"numpy": NumpyBlock, "gradwire": GradwireBlock, "torch": TorchBlock},
    describe=describe,
)
