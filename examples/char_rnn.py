"""A character-level language model with a GRU or an LSTM, trained on the Book of Genesis.

The text ships with gradwire (`nn.datasets.load_text("genesis")`, King James Version, public
domain). The model reads characters through an embedding, runs a recurrent network over
them and predicts the next character at every position; `generate` samples from it one
character at a time, carrying the recurrent state forward. Gradients are clipped to norm
1 at every step, the usual guard against the exploding gradients of backpropagation through
time (see `examples/rnn_clipping.py`).

    .venv/bin/python examples/char_rnn.py --cell gru --steps 400
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import numpy as np

import autograd as ag
import nn
from nn import functional as F


class CharRNN(nn.Module):
    """Embedding, a GRU or LSTM, and a Linear head over the vocabulary."""

    def __init__(self, vocab_size: int, hidden_size: int = 128, num_layers: int = 1, cell: str = "gru") -> None:
        super().__init__()
        if cell not in ("gru", "lstm"):
            raise ValueError(f"CharRNN: cell must be 'gru' or 'lstm', got {cell!r}")
        self.cell = cell
        self.embed = nn.Embedding(vocab_size, hidden_size)
        recurrent = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = recurrent(hidden_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx: np.ndarray, state=None):
        """Next-character logits (N, L, vocab) for character ids (N, L), and the final recurrent state."""
        out, state = self.rnn(self.embed(idx), state)  # (N, L, hidden)
        return self.head(out), state

    @ag.no_grad()
    def generate(self, start: list[int], length: int, temperature: float = 1.0, generator=None) -> list[int]:
        """Sample ``length`` characters after ``start``, feeding each one back in with the carried state."""
        logits, state = self(np.array([start], dtype=np.int64))
        ids = list(start)
        for _ in range(length):
            probs = F.softmax(logits[:, -1, :] * (1.0 / temperature), axis=-1)  # (1, vocab)
            nxt = int(ag.multinomial(probs, 1, generator=generator).item())
            ids.append(nxt)
            logits, state = self(np.array([[nxt]], dtype=np.int64), state)
        return ids


@dataclass
class Run:
    """What `train` returns: the model, the loss per step, the vocabulary and the time taken."""

    model: CharRNN
    losses: list[float] = field(default_factory=list)
    chars: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def decode(self, ids: list[int]) -> str:
        """Characters for ids."""
        return "".join(self.chars[i] for i in ids)


def train(
    cell: str = "gru",
    steps: int = 400,
    hidden_size: int = 128,
    seq_len: int = 64,
    batch_size: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
    log_every: int = 0,
) -> Run:
    """Train a `CharRNN` on Genesis with Adam and gradient clipping; return the run."""
    nn.manual_seed(seed)
    text = nn.datasets.load_text("genesis")
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = np.array([index[c] for c in text], dtype=np.int64)
    model = CharRNN(len(chars), hidden_size, cell=cell)
    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    run = Run(model, chars=chars)
    start = time.perf_counter()
    for step in range(steps):
        starts = rng.integers(0, len(data) - seq_len - 1, size=batch_size)
        windows = np.stack([data[s : s + seq_len + 1] for s in starts])  # (N, L + 1)
        logits, _ = model(windows[:, :-1])
        loss = F.cross_entropy(logits, windows[:, 1:])  # class axis last: (N, L, vocab) against (N, L)
        optimizer.zero_grad()
        loss.backward()
        nn.optim.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        run.losses.append(loss.item())
        if log_every and (step % log_every == 0 or step == steps - 1):
            print(f"step {step:4d}: loss {loss.item():.3f}")
    run.seconds = time.perf_counter() - start
    return run


def main() -> None:
    """Train, then print a sample that starts with 'And God'."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", choices=["gru", "lstm"], default="gru")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    run = train(args.cell, args.steps, seed=args.seed, log_every=50)
    print(f"{args.cell}: {args.steps} steps in {run.seconds:.1f} s, final loss {np.mean(run.losses[-20:]):.3f}")
    start = [run.chars.index(c) for c in "And God"]
    sample = run.model.eval().generate(start, 300, temperature=0.8, generator=np.random.default_rng(args.seed))
    print(run.decode(sample))


if __name__ == "__main__":
    main()
