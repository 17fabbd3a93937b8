"""W4: one pre-norm TransformerBlock, forward and backward (B=16, T=64, d=128, 4 heads, d_ff=512).

The step: ``zero_grad``; ``y = block(x)`` with ``x`` requiring grad; ``y.backward(G)`` with
a fixed upstream gradient ``G`` of ``y``'s shape (so no loss function is involved, and the
gradient reaches the block's input as well as its weights). No optimizer update. The
``"replay"`` implementation replays ``block(x)`` and ``backward(G)`` (`common.replayed`).

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
    replayed,
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
#
# Each piece is a small class that allocates every array it needs once, in ``__init__``, and
# then writes into them (``out=``, in-place operators): no step allocates more than a few
# per-row vectors. Activations are 2-D, ``(N, features)`` with ``N = B * T`` rows, so that a
# linear layer is one BLAS call. Gradients go into arrays the caller hands in (W5: views of
# one flat buffer that Adam updates at once). Why each trick is there, and what it measured,
# is in ``benchmarks/README.md``, "The NumPy floor". In short:
#
# - row sums and column sums as matrix-vector products (``x @ ones``): BLAS does them 3-6x
#   faster than ``x.sum(axis=...)`` on these shapes;
# - scalars as 0-d arrays of the dtype (math.sqrt, never np.sqrt of a Python float: a NumPy
#   float64 scalar would promote the float32 arrays it touches);
# - the causal mask is an additive (T, T) array of 0 and -inf made once;
# - the attention scale multiplies k and v (B*T*C numbers each, while they are copied into the
#   layout the matmuls want) instead of the scores and their gradient (B*nh*T*T each).


class NumpyLinear:
    """``y = x @ W.T + b`` on ``(N, in)`` rows; backward stores dW, db and returns dx."""

    def __init__(self, w: np.ndarray, b: np.ndarray, gw: np.ndarray, gb: np.ndarray, n: int) -> None:
        self.w, self.wt, self.b, self.gw, self.gb = w, w.T, b, gw, gb
        self.ones = np.ones(n, w.dtype)  # bias gradient = ones @ g, the column sums
        self.out = np.empty((n, w.shape[0]), w.dtype)
        self.gx = np.empty((n, w.shape[1]), w.dtype)
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        np.dot(x, self.wt, out=self.out)
        self.out += self.b
        return self.out

    def backward(self, g: np.ndarray) -> np.ndarray:
        np.dot(g.T, self.x, out=self.gw)
        np.dot(self.ones, g, out=self.gb)
        return np.dot(g, self.w, out=self.gx)


class NumpyLayerNorm:
    """LayerNorm over the last axis of ``(N, C)`` rows (biased variance); backward stores dw, db."""

    def __init__(self, w: np.ndarray, b: np.ndarray, gw: np.ndarray, gb: np.ndarray, n: int) -> None:
        dtype, c = w.dtype, w.shape[0]
        self.w, self.b, self.gw, self.gb = w, b, gw, gb
        self.mean_weights = np.full(c, 1.0 / c, dtype)  # x @ (ones / C): the row means in one BLAS call
        self.inv_c = np.array(1.0 / c, dtype)
        self.eps = np.array(LN_EPS, dtype)
        self.ones = np.ones(n, dtype)
        self.xhat = np.empty((n, c), dtype)  # (x - mean) * rstd, kept for backward
        self.rstd = np.empty(n, dtype)  # 1 / sqrt(var + eps) per row
        self.mean = np.empty(n, dtype)
        self.out = np.empty((n, c), dtype)
        self.gx = np.empty((n, c), dtype)
        self.tmp = np.empty((n, c), dtype)
        self.wc = np.empty(c, dtype)
        self.m1 = np.empty(n, dtype)
        self.m2 = np.empty(n, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        xhat, rstd = self.xhat, self.rstd
        np.dot(x, self.mean_weights, out=self.mean)
        np.subtract(x, self.mean[:, None], out=xhat)  # x - mean
        np.vecdot(xhat, xhat, out=rstd)  # sum of squares per row, no squared temporary
        rstd *= self.inv_c
        rstd += self.eps
        np.sqrt(rstd, out=rstd)
        np.reciprocal(rstd, out=rstd)
        xhat *= rstd[:, None]
        np.multiply(xhat, self.w, out=self.out)
        self.out += self.b
        return self.out

    def backward(self, g: np.ndarray, residual: np.ndarray | None = None) -> np.ndarray:
        """dx = rstd * (g w - mean(g w) - xhat mean(g w xhat)), plus ``residual`` (the skip path's gradient)."""
        xhat, tmp, gx = self.xhat, self.tmp, self.gx
        np.multiply(g, xhat, out=tmp)  # g * xhat: dw's terms, and (times w) mean(g w xhat)'s
        np.dot(self.ones, tmp, out=self.gw)
        np.dot(self.ones, g, out=self.gb)
        np.multiply(self.w, self.inv_c, out=self.wc)  # w / C: the row means as products with w
        np.dot(tmp, self.wc, out=self.m2)  # mean(g w xhat)
        np.dot(g, self.wc, out=self.m1)  # mean(g w)
        np.multiply(g, self.w, out=gx)
        np.multiply(xhat, self.m2[:, None], out=tmp)
        gx -= tmp
        gx -= self.m1[:, None]
        gx *= self.rstd[:, None]
        if residual is not None:
            gx += residual
        return gx


class NumpyAttention:
    """Causal multi-head self-attention of ``(B*T, C)`` rows, one fused q, k, v projection."""

    def __init__(self, p: dict, grads: dict, pre: str, batch: int, t: int, n_head: int) -> None:
        w = p[f"{pre}qkv.weight"]
        dtype, c = w.dtype, w.shape[1]
        n, hs = batch * t, c // n_head
        self.shape = (batch, t, n_head, hs)
        self.qkv = NumpyLinear(w, p[f"{pre}qkv.bias"], grads[f"{pre}qkv.weight"], grads[f"{pre}qkv.bias"], n)
        self.proj = NumpyLinear(
            p[f"{pre}proj.weight"], p[f"{pre}proj.bias"], grads[f"{pre}proj.weight"], grads[f"{pre}proj.bias"], n
        )
        self.scale = np.array(1.0 / math.sqrt(hs), dtype)
        # 0 where a query may see a key (itself and the past), -inf above the diagonal: added once per step
        self.mask = np.triu(np.full((t, t), -np.inf, dtype), k=1)
        # (k * scale)^T and (v * scale)^T, contiguous: as the right operand of a batched matmul a
        # transposed view runs about 1.7x slower than a C-ordered array (OpenBLAS, these shapes)
        self.kt = np.empty((batch, n_head, hs, t), dtype)
        self.vt = np.empty((batch, n_head, hs, t), dtype)
        self.att = np.empty((batch, n_head, t, t), dtype)  # scores, then softmax, in place
        self.gatt = np.empty_like(self.att)  # d/d att, then d/d scores, in place
        self.rows = np.empty((batch, n_head, t, 1), dtype)  # per-row max, then per-row sum
        self.dots = np.empty((batch, n_head, t), dtype)  # sum(att * gatt) per row
        self.ones = np.ones((t, 1), dtype)
        self.y = np.empty((n, c), dtype)  # the heads side by side
        self.gqkv = np.empty((n, 3 * c), dtype)

    def _heads(self, a: np.ndarray, i: int) -> np.ndarray:
        """Part ``i`` (q 0, k 1, v 2) of ``(N, 3C)`` rows as ``(B, nh, T, hs)`` (a view)."""
        return a.reshape(*self.shape[:2], 3, *self.shape[2:])[:, :, i].transpose(0, 2, 1, 3)

    def forward(self, x: np.ndarray) -> np.ndarray:
        qkv = self.qkv.forward(x)  # (N, 3C)
        q, k, v = self._heads(qkv, 0), self._heads(qkv, 1), self._heads(qkv, 2)  # (B, nh, T, hs) views
        att, rows = self.att, self.rows
        np.multiply(k.swapaxes(-1, -2), self.scale, out=self.kt)  # the scale on k: one pass over B*T*C numbers
        np.matmul(q, self.kt, out=att)  # (B, nh, T, T) scores: q @ (k * scale)^T
        att += self.mask
        np.max(att, axis=-1, keepdims=True, out=rows)
        att -= rows
        np.exp(att, out=att)
        np.matmul(att, self.ones, out=rows)  # row sums as a product with ones
        np.reciprocal(rows, out=rows)  # one division per row, then a multiply over (T, T)
        att *= rows  # softmax
        y4 = self.y.reshape(self.shape).transpose(0, 2, 1, 3)  # (B, nh, T, hs) view of (N, C)
        np.matmul(att, v, out=y4)  # straight into the heads-side-by-side layout
        return self.proj.forward(self.y)

    def backward(self, g: np.ndarray) -> np.ndarray:
        qkv, att, gatt, gqkv = self.qkv.out, self.att, self.gatt, self.gqkv
        q, k, v = self._heads(qkv, 0), self._heads(qkv, 1), self._heads(qkv, 2)
        gy = self.proj.backward(g)  # (N, C)
        gy4 = gy.reshape(self.shape).transpose(0, 2, 1, 3)  # (B, nh, T, hs)
        np.matmul(att.swapaxes(-1, -2), gy4, out=self._heads(gqkv, 2))  # dv = att^T @ dy
        # d/d att = dy @ v^T, computed with v * scale: it comes out multiplied by the scale, and so
        # does ds below, which is what dq = ds @ (k * scale) = (scale ds) @ k and dk = (scale ds)^T @ q
        # need: no pass over dq or dk for the scale
        np.multiply(v.swapaxes(-1, -2), self.scale, out=self.vt)
        np.matmul(gy4, self.vt, out=gatt)  # scale * d/d att, (B, nh, T, T)
        # softmax backward in one expression: ds = att * (gatt - sum(att * gatt)) per row
        np.vecdot(att, gatt, out=self.dots)
        gatt -= self.dots[..., None]
        gatt *= att  # scale * d/d scores
        np.matmul(gatt, k, out=self._heads(gqkv, 0))  # dq
        np.matmul(gatt.swapaxes(-1, -2), q, out=self._heads(gqkv, 1))  # dk
        return self.qkv.backward(gqkv)


class NumpyMLPBlock:
    """``fc2(gelu(fc1(x)))`` with GPT-2's tanh GELU; backward reuses the forward's tanh and ``x**2``."""

    def __init__(self, p: dict, grads: dict, pre: str, n: int) -> None:
        names = [f"{pre}fc1.weight", f"{pre}fc1.bias", f"{pre}fc2.weight", f"{pre}fc2.bias"]
        self.fc1 = NumpyLinear(p[names[0]], p[names[1]], grads[names[0]], grads[names[1]], n)
        self.fc2 = NumpyLinear(p[names[2]], p[names[3]], grads[names[2]], grads[names[3]], n)
        dtype, shape = p[names[0]].dtype, (n, p[names[0]].shape[0])

        def c(value: float) -> np.ndarray:
            return np.array(value, dtype)

        self.k1, self.k0 = c(GELU_C * GELU_K), c(GELU_C)  # z = x (C + C K x^2)
        self.k3, self.k2 = c(6 * GELU_C * GELU_K), c(2 * GELU_C)  # 2C x (1 + 3K x^2) = x (2C + 6CK x^2)
        self.half, self.one = c(0.5), c(1.0)
        self.sq = np.empty(shape, dtype)  # x^2
        self.a = np.empty(shape, dtype)  # (1 + tanh z) / 2
        self.act = np.empty(shape, dtype)  # gelu(x) = x (1 + tanh z) / 2
        self.tmp = np.empty(shape, dtype)
        self.gf = np.empty(shape, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        f, sq, a, z = self.fc1.forward(x), self.sq, self.a, self.tmp  # f: (N, d_ff)
        np.multiply(f, f, out=sq)
        np.multiply(sq, self.k1, out=z)
        z += self.k0
        z *= f  # z = C (x + K x^3)
        np.tanh(z, out=z)
        np.add(z, self.one, out=a)
        a *= self.half
        np.multiply(a, f, out=self.act)
        return self.fc2.forward(self.act)

    def backward(self, g: np.ndarray) -> np.ndarray:
        """gelu'(x) = a + x (1 - t^2) (C/2) (1 + 3K x^2), and with 1 - t^2 = 4 a (1 - a):
        a + a (1 - a) x (2C + 6CK x^2)."""
        f, sq, a, q, gf = self.fc1.out, self.sq, self.a, self.tmp, self.gf
        gact = self.fc2.backward(g)
        np.multiply(sq, self.k3, out=q)
        q += self.k2
        q *= f  # x (2C + 6CK x^2)
        np.subtract(self.one, a, out=gf)
        gf *= a  # a (1 - a)
        gf *= q
        gf += a  # gelu'(x)
        gf *= gact
        return self.fc1.backward(gf)


class NumpyTransformerBlock:
    """One pre-norm block on ``(B*T, C)`` rows: ``x + attn(ln1(x))``, then ``+ mlp(ln2(.))``."""

    def __init__(self, p: dict, grads: dict, pre: str, batch: int, t: int, n_head: int) -> None:
        n = batch * t

        def ln(name: str) -> NumpyLayerNorm:
            w, b = f"{pre}{name}.weight", f"{pre}{name}.bias"
            return NumpyLayerNorm(p[w], p[b], grads[w], grads[b], n)

        self.ln1, self.ln2 = ln("ln1"), ln("ln2")
        self.attn = NumpyAttention(p, grads, f"{pre}attn.", batch, t, n_head)
        self.mlp = NumpyMLPBlock(p, grads, f"{pre}mlp.", n)
        c = p[f"{pre}ln1.weight"].shape[0]
        self.x1 = np.empty((n, c), p[f"{pre}ln1.weight"].dtype)
        self.out = np.empty_like(self.x1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        np.add(x, self.attn.forward(self.ln1.forward(x)), out=self.x1)
        return np.add(self.x1, self.mlp.forward(self.ln2.forward(self.x1)), out=self.out)

    def backward(self, g: np.ndarray) -> np.ndarray:
        """The input's gradient; the weights' gradients go into ``grads``."""
        gx1 = self.ln2.backward(self.mlp.backward(g), residual=g)
        return self.ln1.backward(self.attn.backward(gx1), residual=gx1)


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
        c = init.config
        self.p = cast(init.params, dtype)
        data = cast(init.data, dtype)
        B, T, d = data["x"].shape
        self.x = data["x"].reshape(B * T, d)  # (N, C) rows
        self.g = data["grad_out"].reshape(B * T, d)
        self.shape = (B, T, d)
        self._grads = {name: np.zeros_like(a) for name, a in self.p.items()}  # written by each backward
        self.block = NumpyTransformerBlock(self.p, self._grads, "", B, T, c["n_head"])
        self._gx: np.ndarray | None = None

    def step(self) -> None:
        self.block.forward(self.x)
        self._gx = self.block.backward(self.g)

    def loss_value(self) -> float:
        return float((self.block.out * self.g).sum())  # what backward(G) differentiates: sum(y * G)

    def grads(self) -> dict[str, np.ndarray]:
        return {**{k: v.copy() for k, v in self._grads.items()}, "input": self._gx.reshape(self.shape).copy()}

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

    def _forward_backward(self, x: Any, g: np.ndarray) -> Any:
        out = self.block(x)
        out.backward(g)
        return out

    def step(self) -> None:
        self.block.zero_grad()
        self.x.grad = None
        self._out = self._forward_backward(self.x, self.g)

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
    replay_target=1.0,
    sizes={
        "full": dict(batch=16, T=64, d=128, n_head=4, d_ff=512),
        "small": dict(batch=2, T=8, d=16, n_head=2, d_ff=32),
    },
    make_init=make_init,
    impls={"numpy": NumpyBlock, "gradwire": GradwireBlock, "replay": replayed(GradwireBlock), "torch": TorchBlock},
    describe=describe,
)
