"""A GPT written the way nanoGPT's model.py is, with gradwire in place of PyTorch.

The classes, names and structure follow nanoGPT (karpathy/nanoGPT, model.py): a fused
``c_attn`` projection, ``c_proj``, ``n_embd``, a ``bias`` flag on every LayerNorm and Linear,
``wte`` tied to ``lm_head``, ``configure_optimizers`` with AdamW and separate weight-decay
groups, ``generate`` with temperature and top-k, ``F.scaled_dot_product_attention`` with
``is_causal=True`` (and the explicit path with a registered ``tril`` mask and
``masked_fill``), multinomial sampling. Porting meant changing the imports::

    import torch                      ->  import autograd as ag
    import torch.nn as nn             ->  import nn
    from torch.nn import functional   ->  from nn import functional as F

plus the few spellings listed in README.md's "Differences from PyTorch" table, each marked
``# torch: ...`` below (NumPy's ``axis=`` for ``dim=``, ``.shape`` for ``.size()``,
``swapaxes`` for a two-axis ``transpose``, ...). Because the parameter names are nanoGPT's,
``model.state_dict()`` loads into nanoGPT's PyTorch ``GPT`` as it is (a test does that).

Run it to train a character-level model on this repository's README.md and sample from it::

    .venv/bin/python examples/nanogpt.py --steps 300
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import autograd as ag
import nn
from nn import functional as F


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (nanoGPT's own class; gradwire's nn.LayerNorm takes ``bias=`` too)."""

    def __init__(self, ndim: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(np.ones(ndim, dtype=np.float32))
        self.bias = nn.Parameter(np.zeros(ndim, dtype=np.float32)) if bias else None

    def forward(self, input: ag.Tensor) -> ag.Tensor:
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with one fused q, k, v projection."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # key, query, value
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)  # output projection
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.flash = config.flash
        if not self.flash:  # the causal mask, so that attention only looks at the left of the sequence
            mask = ag.tril(ag.ones((config.block_size, config.block_size)))
            self.register_buffer("bias", mask.reshape(1, 1, config.block_size, config.block_size).data)

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        B, T, C = x.shape  # torch: x.size()
        # query, key, value for all heads in one batch, then the head axis moved forward
        q, k, v = ag.split(self.c_attn(x), 3, axis=2)  # torch: .split(self.n_embd, dim=2) (a size, not a count)
        k = k.reshape(B, T, self.n_head, C // self.n_head).swapaxes(1, 2)  # (B, nh, T, hs); torch: .transpose(1, 2)
        q = q.reshape(B, T, self.n_head, C // self.n_head).swapaxes(1, 2)  # (B, nh, T, hs)
        v = v.reshape(B, T, self.n_head, C // self.n_head).swapaxes(1, 2)  # (B, nh, T, hs)
        if self.flash:
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0, is_causal=True
            )
        else:
            att = (q @ k.swapaxes(-2, -1)) * (1.0 / math.sqrt(k.shape[-1]))  # (B, nh, T, T)
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, axis=-1)  # torch: dim=-1
            att = self.attn_dropout(att)
            y = att @ v  # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
        y = y.swapaxes(1, 2).reshape(B, T, C)  # heads side by side again; torch: .transpose(1, 2).contiguous().view
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """Position-wise feed-forward: c_fc, exact GELU, c_proj."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate="none")  # torch: nn.GELU() (exact is PyTorch's default, tanh is ours)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-norm Transformer block: two residual lines."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


@dataclass
class GPTConfig:
    """nanoGPT's configuration (GPT-2 sizes by default)."""

    block_size: int = 1024  # longest context
    vocab_size: int = 50304  # GPT-2's 50257 padded up to a multiple of 64
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True  # True: bias in Linears and LayerNorms, like GPT-2; False: a bit better and faster
    flash: bool = True  # gradwire's fused attention (F.scaled_dot_product_attention); False: the explicit path


class GPT(nn.Module):
    """The language model: token and position embeddings, n_layer blocks, a final LayerNorm and a tied head."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        assert config.vocab_size is not None
        assert config.block_size is not None
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying: one Parameter, two names
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():  # GPT-2's scaled init of the residual projections
            if pn.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def get_num_params(self, non_embedding: bool = True) -> int:
        """The parameter count; position embeddings left out by default (the token ones are the tied head)."""
        n_params = sum(p.size for p in self.parameters())  # torch: p.numel()
        if non_embedding:
            n_params -= self.transformer.wpe.weight.size
        return n_params

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx: ag.Tensor, targets: ag.Tensor | None = None) -> tuple[ag.Tensor, ag.Tensor | None]:
        b, t = idx.shape  # torch: idx.size()
        assert t <= self.config.block_size, (
            f"Cannot forward a sequence of length {t}, block size is {self.config.block_size}"
        )
        pos = ag.arange(0, t, dtype=np.int64)  # shape (t); torch: dtype=torch.long
        tok_emb = self.transformer.wte(idx)  # token embeddings of shape (b, t, n_embd)
        pos_emb = self.transformer.wpe(pos)  # position embeddings of shape (t, n_embd)
        x = self.transformer.drop(tok_emb + pos_emb)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1)
        else:  # inference: only the last position's logits are needed
            logits = self.lm_head(x[:, [-1], :])
            loss = None
        return logits, loss

    def configure_optimizers(
        self, weight_decay: float, learning_rate: float, betas: tuple[float, float], device_type: str = "cpu"
    ) -> nn.optim.AdamW:
        """AdamW with weight decay on the 2-D weights (matmuls, embeddings) and none on biases and LayerNorms."""
        param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        decay_params = [p for n, p in param_dict.items() if p.ndim >= 2]  # torch: p.dim()
        nodecay_params = [p for n, p in param_dict.items() if p.ndim < 2]
        optim_groups = [
            {"params": decay_params, "weight_decay": weight_decay},
            {"params": nodecay_params, "weight_decay": 0.0},
        ]
        return nn.optim.AdamW(optim_groups, lr=learning_rate, betas=betas)

    @ag.no_grad()
    def generate(
        self, idx: ag.Tensor, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None
    ) -> ag.Tensor:
        """Continue each row of ``idx`` (b, t) by ``max_new_tokens`` sampled tokens."""
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.shape[1] <= self.config.block_size else idx[:, -self.config.block_size :]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature  # the last step's logits, scaled
            if top_k is not None:  # keep only the top k options
                v, _ = ag.topk(logits, min(top_k, logits.shape[-1]))
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, axis=-1)
            idx_next = ag.multinomial(probs, num_samples=1)
            idx = ag.cat((idx, idx_next), axis=1)  # torch: dim=1
        return idx


# ───────────── a training run on a text of this repository ─────────────


def load_text(path: Path) -> tuple[np.ndarray, list[str]]:
    """A text as int64 character ids, and the sorted characters (the vocabulary)."""
    text = path.read_text(encoding="utf-8")
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    return np.array([index[c] for c in text], dtype=np.int64), chars


def get_batch(data: np.ndarray, block_size: int, batch_size: int, rng: np.random.Generator) -> tuple:
    """Random windows of the text and the same windows shifted by one (the next-character targets)."""
    ix = rng.integers(0, len(data) - block_size, size=batch_size)
    x = np.stack([data[i : i + block_size] for i in ix])
    y = np.stack([data[i + 1 : i + 1 + block_size] for i in ix])
    return ag.tensor(x), ag.tensor(y)


def train(text: Path, steps: int = 300, seed: int = 0, log_every: int = 50) -> tuple[GPT, list[float], list[str]]:
    """Train a small character-level GPT on ``text``; return the model, the loss per step and the vocabulary."""
    nn.manual_seed(seed)  # torch: torch.manual_seed (one generator for init, dropout and sampling)
    data, chars = load_text(text)
    config = GPTConfig(block_size=32, vocab_size=len(chars), n_layer=2, n_head=4, n_embd=64, dropout=0.0, bias=False)
    model = GPT(config)
    optimizer = model.configure_optimizers(weight_decay=0.1, learning_rate=3e-3, betas=(0.9, 0.99))
    rng = np.random.default_rng(seed)
    losses = []
    for step in range(steps):
        xb, yb = get_batch(data, config.block_size, 16, rng)
        _, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.optim.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if log_every and (step % log_every == 0 or step == steps - 1):
            print(f"step {step:4d}: loss {loss.item():.3f}")
    return model, losses, chars


def main() -> None:
    """Train on README.md (or --text), then print a sample."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, default=Path(__file__).resolve().parent.parent / "README.md")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    model, losses, chars = train(args.text, args.steps, args.seed)
    print(f"trained {args.steps} steps in {time.perf_counter() - start:.1f} s; final loss {losses[-1]:.3f}")
    model.eval()
    start_ids = ag.tensor(np.array([[chars.index("#")]], dtype=np.int64))
    sample = model.generate(start_ids, 200, temperature=0.8, top_k=10)
    print("".join(chars[i] for i in sample.data[0]))


if __name__ == "__main__":
    main()
