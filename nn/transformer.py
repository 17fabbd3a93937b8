"""A mini GPT: multi-head causal self-attention, a GELU feed-forward, pre-norm blocks.

Written to read like the papers and like nanoGPT's model.py (Karpathy), which it follows:
"Attention Is All You Need" (Vaswani et al., 2017) for the attention, and GPT-2's pre-norm
block (Radford et al., 2019). Shapes are commented as (B, T, C): batch, time, channels;
attention works on (B, nh, T, hs): heads and head size.

Weight layout, kept for interchange with other implementations: ``attn.qkv`` is one
``Linear(d, 3d)`` whose output splits into q, k, v in that order; ``attn.proj`` is the output
``Linear(d, d)``; ``mlp.fc1: Linear(d, d_ff)``, ``mlp.fc2: Linear(d_ff, d)``; ``MiniGPT`` has
``tok_emb``, ``pos_emb``, ``blocks``, ``ln_f`` and ``head``.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

import autograd as ag
from autograd import Tensor

from . import functional as F
from .layers import GELU, Dropout, Embedding, LayerNorm, Linear
from .module import Module, ModuleList
from .random import default_rng

_Init = TypeVar("_Init", bound=Callable[..., Any])


def _renamed_keywords(**renames: str) -> Callable[[_Init], _Init]:
    """Let an ``__init__`` still take deprecated keyword spellings (``old="new"``).

    The signature stays as written (``help`` and ``inspect.signature`` show only the new
    names). A call with ``old=`` warns with a ``DeprecationWarning`` and runs as if ``new=``
    had been passed; a call that gives both (``new`` as a keyword or by position) is a
    ``TypeError``.
    """

    def decorate(init: _Init) -> _Init:
        params = list(inspect.signature(init).parameters)[1:]  # without self

        @functools.wraps(init)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                owner = type(self).__name__
                if new in kwargs or len(args) > params.index(new):
                    raise TypeError(
                        f"{owner}: got both {new}= and {old}= ({old} is the deprecated spelling of {new}); "
                        f"pass only {new}"
                    )
                warnings.warn(
                    f"{owner}: the keyword {old}= is deprecated; use {new}= (nanoGPT's spelling, as in GPTConfig)",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return init(self, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


@dataclass
class GPTConfig:
    """The size of a `MiniGPT`."""

    vocab_size: int = 65  # number of distinct tokens
    block_size: int = 64  # longest context the model sees (positions 0 .. block_size - 1)
    n_layer: int = 2  # number of transformer blocks
    n_head: int = 4  # attention heads per block; must divide d_model
    d_model: int = 128  # width of the residual stream
    d_ff: int | None = None  # feed-forward width (None: 4 * d_model)
    dropout: float = 0.0  # dropout on attention weights and residual branches
    bias: bool = True  # biases in Linear layers
    gelu: str = "tanh"  # the feed-forward's GELU: "tanh" (GPT-2's approximation) or "none" (exact, nanoGPT's)
    tie_weights: bool = False  # share the head's weight with the token embedding (nanoGPT and GPT-2 do)


class MultiHeadAttention(Module):
    """Multi-head (causal) self-attention with one fused q, k, v projection.

    Args:
        d_model: width of the input and output.
        n_head: number of heads; each works on ``d_model // n_head`` channels. (The old
            spelling ``n_heads=`` still works, with a ``DeprecationWarning``.)
        dropout: dropout on the attention weights and on the output.
        causal: mask future positions (each position attends to itself and the past).
        bias: biases in the projections.
    """

    @_renamed_keywords(n_heads="n_head")
    def __init__(self, d_model: int, n_head: int, dropout: float = 0.0, causal: bool = True, bias: bool = True):
        super().__init__()
        if d_model % n_head:
            raise ValueError(f"MultiHeadAttention: d_model={d_model} is not divisible by n_head={n_head}")
        self.n_head = n_head
        self.causal = causal
        self.dropout = dropout
        self.qkv = Linear(d_model, 3 * d_model, bias=bias)
        self.proj = Linear(d_model, d_model, bias=bias)
        self.resid_drop = Dropout(dropout)

    @property
    def n_heads(self) -> int:
        """Deprecated (read-only) alias of ``n_head``."""
        warnings.warn(
            "MultiHeadAttention: the attribute n_heads is deprecated; use n_head (nanoGPT's spelling, as in GPTConfig)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.n_head

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A module pickled before the rename holds ``n_heads`` in its __dict__.
        if "n_heads" in state and "n_head" not in state:
            state = {("n_head" if key == "n_heads" else key): value for key, value in state.items()}
        self.__dict__.update(state)

    def forward(self, x: Tensor) -> Tensor:
        """Attend over the sequence: (B, T, C) -> (B, T, C)."""
        B, T, C = x.shape
        hs = C // self.n_head
        q, k, v = ag.split(self.qkv(x), 3, axis=2)  # 3 x (B, T, C)
        q = q.reshape(B, T, self.n_head, hs).transpose(0, 2, 1, 3)  # (B, nh, T, hs)
        k = k.reshape(B, T, self.n_head, hs).transpose(0, 2, 1, 3)  # (B, nh, T, hs)
        v = v.reshape(B, T, self.n_head, hs).transpose(0, 2, 1, 3)  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout, is_causal=self.causal, training=self.training
        )  # (B, nh, T, hs)
        y = y.transpose(0, 2, 1, 3).reshape(B, T, C)  # re-assemble the heads side by side
        return self.resid_drop(self.proj(y))


class FeedForward(Module):
    """The position-wise MLP of a block: Linear, GELU, Linear, dropout."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, bias: bool = True, gelu: str = "tanh"):
        super().__init__()
        self.fc1 = Linear(d_model, d_ff, bias=bias)
        self.act = GELU(approximate=gelu)
        self.fc2 = Linear(d_ff, d_model, bias=bias)
        self.drop = Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """(B, T, C) -> (B, T, C)."""
        return self.drop(self.fc2(self.act(self.fc1(x))))


class TransformerBlock(Module):
    """A pre-norm transformer block: two residual branches, attention then feed-forward.

    Args:
        d_model: width of the residual stream.
        n_head: attention heads; must divide ``d_model`` (``n_heads=`` is the deprecated spelling).
        d_ff: feed-forward width.
        dropout: dropout on the attention weights and on the residual branches.
        bias: biases in the Linear layers.
        gelu: the feed-forward's GELU, ``"tanh"`` (approximate) or ``"none"`` (exact).
    """

    @_renamed_keywords(n_heads="n_head")
    def __init__(
        self, d_model: int, n_head: int, d_ff: int, dropout: float = 0.0, bias: bool = True, gelu: str = "tanh"
    ):
        super().__init__()
        self.ln1 = LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_head, dropout, causal=True, bias=bias)
        self.ln2 = LayerNorm(d_model)
        self.mlp = FeedForward(d_model, d_ff, dropout, bias=bias, gelu=gelu)

    def forward(self, x: Tensor) -> Tensor:
        """(B, T, C) -> (B, T, C)."""
        x = x + self.attn(self.ln1(x))
        x = x + self.mlp(self.ln2(x))
        return x


class MiniGPT(Module):
    """A small GPT language model: token and position embeddings, blocks, final norm, LM head."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        d_ff = config.d_ff or 4 * config.d_model
        self.tok_emb = Embedding(config.vocab_size, config.d_model)
        self.pos_emb = Embedding(config.block_size, config.d_model)
        self.drop = Dropout(config.dropout)
        self.blocks = ModuleList(
            [
                TransformerBlock(config.d_model, config.n_head, d_ff, config.dropout, config.bias, config.gelu)
                for _ in range(config.n_layer)
            ]
        )
        self.ln_f = LayerNorm(config.d_model)
        self.head = Linear(config.d_model, config.vocab_size, bias=False)
        if config.tie_weights:  # one Parameter under two names: state_dict saves both, parameters() lists it once
            self.head.weight = self.tok_emb.weight

    def forward(self, idx: np.ndarray | Tensor) -> Tensor:
        """Next-token logits for every position: integer tokens (B, T) -> logits (B, T, vocab_size)."""
        idx = np.asarray(idx.data if isinstance(idx, Tensor) else idx)
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"MiniGPT: sequence length {T} is longer than block_size {self.config.block_size}")
        x = self.tok_emb(idx) + self.pos_emb(np.arange(T))  # (B, T, C) + (T, C)
        x = self.drop(x)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))  # (B, T, vocab_size)

    def generate(
        self,
        idx: np.ndarray,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """Extend each sequence by sampling one token at a time.

        Args:
            idx: integer tokens (B, T) to continue.
            max_new_tokens: how many tokens to add.
            temperature: divides the logits (lower is greedier; 0 picks the most likely token).
            top_k: sample only among the k most likely tokens.
            rng: generator for the samples (default: the shared nn generator).

        Returns:
            The tokens (B, T + max_new_tokens).
        """
        if top_k is not None and top_k < 1:
            raise ValueError(f"generate: top_k must be at least 1 (or None for no limit), got {top_k}")
        if temperature < 0:
            raise ValueError(f"generate: temperature must be >= 0, got {temperature}")
        rng = default_rng(rng)
        idx = np.array(idx, dtype=np.int64)
        was_training = self.training
        self.eval()
        with ag.no_grad():
            for _ in range(max_new_tokens):
                context = idx[:, -self.config.block_size :]
                logits = self(context).data[:, -1, :].astype(np.float64)  # (B, vocab_size)
                if temperature == 0:
                    next_token = logits.argmax(axis=-1)
                else:
                    logits = logits / temperature
                    if top_k is not None:
                        kth = np.sort(logits, axis=-1)[:, -min(top_k, logits.shape[-1])][:, None]
                        logits = np.where(logits < kth, -np.inf, logits)
                    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
                    probs /= probs.sum(axis=-1, keepdims=True)
                    next_token = np.array([rng.choice(len(p), p=p) for p in probs])
                idx = np.concatenate([idx, next_token[:, None]], axis=1)
        self.train(was_training)
        return idx
