"""A character-level MiniGPT on any text file: the demo's ``--text FILE``.

Karpathy's char-rnn / nanoGPT "shakespeare_char" recipe, small: every distinct character
is a token, the model reads ``block_size`` characters and learns to predict each next one.
The last 10% of the text is held out; the validation loss (nats per character) is compared
with the entropy of the character frequencies, which is what a model that ignores the
context would get.

    .venv/bin/python examples/demo.py --text book.txt --only text
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from nn import functional as F
from nn.lr_scheduler import warmup_cosine
from nn.optim import AdamW, clip_grad_norm_
from nn.train import evaluate
from nn.transformer import GPTConfig, MiniGPT

MIN_CHARS = 32  # shorter texts leave nothing to learn from


@dataclass
class CharCodec:
    """Characters <-> integer tokens: token ``i`` is ``chars[i]``."""

    chars: str

    @classmethod
    def of(cls, text: str) -> CharCodec:
        """The codec of every distinct character in ``text``, in sorted order."""
        return cls("".join(sorted(set(text))))

    def encode(self, text: str) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.chars)}
        return np.array([index[c] for c in text], dtype=np.int64)

    def decode(self, tokens: np.ndarray) -> str:
        return "".join(self.chars[int(t)] for t in tokens)


def random_windows(
    data: np.ndarray, block_size: int, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random windows of the token array: inputs ``(n, block_size)`` and the same shifted by one."""
    starts = rng.integers(0, len(data) - block_size, size=n)
    x = np.stack([data[s : s + block_size] for s in starts])
    y = np.stack([data[s + 1 : s + block_size + 1] for s in starts])
    return x, y


def tiled_windows(data: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping windows covering ``data`` (for an exact validation loss)."""
    n = (len(data) - 1) // block_size
    x = data[: n * block_size].reshape(n, block_size)
    y = data[1 : n * block_size + 1].reshape(n, block_size)
    return x, y


def unigram_entropy(data: np.ndarray) -> float:
    """The entropy of the token frequencies in nats: the loss of the best context-free model."""
    p = np.bincount(data) / len(data)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


@dataclass
class CharModel:
    """What `train_char_gpt` returns."""

    model: MiniGPT
    codec: CharCodec
    losses: list[float]  # training loss per step
    val_loss: float  # nats per character on the held-out tail
    baseline: float  # unigram entropy of the held-out tail: the loss to beat


def train_char_gpt(
    text: str,
    steps: int = 400,
    block_size: int = 32,
    batch_size: int = 32,
    n_layer: int = 2,
    n_head: int = 4,
    d_model: int = 48,
    lr: float = 3e-3,
    rng: np.random.Generator | None = None,
) -> CharModel:
    """Train a `MiniGPT` to predict the next character of ``text``.

    AdamW with 10% warm-up then cosine decay, gradient norm clipped at 1 (nanoGPT's recipe).
    Texts shorter than ``2 * block_size`` get a shorter block.

    Raises:
        ValueError: for a text shorter than ``MIN_CHARS`` characters.
    """
    if len(text) < MIN_CHARS:
        raise ValueError(f"the text has {len(text)} characters; the character model needs at least {MIN_CHARS}")
    rng = np.random.default_rng(0) if rng is None else rng
    codec = CharCodec.of(text)
    data = codec.encode(text)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    block_size = max(2, min(block_size, len(val) - 1, len(train) // 2))
    config = GPTConfig(
        vocab_size=len(codec.chars), block_size=block_size, n_layer=n_layer, n_head=n_head, d_model=d_model
    )
    model = MiniGPT(config)
    optimizer = AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.1)
    scheduler = warmup_cosine(optimizer, warmup_steps=max(1, steps // 10), total_steps=steps, min_lr=lr / 10)
    losses = []
    for _ in tqdm(range(steps), desc="text", unit="step", dynamic_ncols=True):
        x, y = random_windows(train, block_size, batch_size, rng)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    val_loss = evaluate(model, F.cross_entropy, tiled_windows(val, block_size), batch_size=64)["loss"]
    return CharModel(model, codec, losses, val_loss, unigram_entropy(val))


def sample(
    trained: CharModel,
    prompt: str,
    length: int = 300,
    temperature: float = 0.8,
    top_k: int | None = 10,
    rng: np.random.Generator | None = None,
) -> str:
    """``prompt`` continued by ``length`` sampled characters (characters the model never saw are dropped)."""
    known = "".join(c for c in prompt if c in trained.codec.chars) or trained.codec.chars[0]
    idx = trained.codec.encode(known)[None, :]
    out = trained.model.generate(idx, length, temperature=temperature, top_k=top_k, rng=rng)
    return trained.codec.decode(out[0])
