"""Exploding gradients in a vanilla RNN, and gradient clipping: the same training with and without it.

The task: remember the first input. Each sequence starts with a sign, +1 or -1, followed by
``length - 1`` steps of noise (N(0, 0.1**2)); after the last step the network must output the
sign. Predicting 0 gives an MSE of 1. A tanh `nn.RNN` reads the sequence and a `nn.Linear`
reads its last hidden state.

To carry a bit over 50 steps the recurrence must neither forget it nor blow it up, so
``weight_hh_l0`` starts as 1.2 times a random orthogonal matrix (the default U(-1/sqrt(H),
1/sqrt(H)) forgets the sign within a few steps: the gradient vanishes). Near that edge the
loss surface has cliffs (Bengio et al., 1994; Pascanu et al., 2013): at some steps the gradient
norm is a hundred times its usual size. Plain SGD takes such a step in full, the weights jump
to where the tanh units saturate, and the loss stays near 1; with ``nn.optim.clip_grad_norm_``
every step is at most ``lr * max_norm`` long, and the same run learns the task. Both runs
start from the same weights and see the same batches.

    .venv/bin/python examples/rnn_clipping.py
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autograd as ag
import nn
from nn import functional as F
from nn.optim import SGD, clip_grad_norm_


def first_input_task(batch: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A batch: inputs ``(length, batch, 1)`` (a sign, then noise) and targets ``(batch, 1)`` (the sign)."""
    x = rng.normal(0.0, 0.1, (length, batch, 1))
    sign = rng.choice([-1.0, 1.0], batch)
    x[0, :, 0] = sign
    return x.astype(np.float32), sign[:, None].astype(np.float32)


class Memory(nn.Module):
    """A tanh RNN over the sequence, then a linear read-out of its last hidden state.

    ``weight_hh_l0`` starts as ``gain`` times a random orthogonal matrix (drawn from nn's generator).
    """

    def __init__(self, hidden: int, gain: float = 1.2) -> None:
        super().__init__()
        self.rnn = nn.RNN(1, hidden)
        self.head = nn.Linear(hidden, 1)
        q, _ = np.linalg.qr(nn.default_rng().standard_normal((hidden, hidden)))
        self.rnn.weight_hh_l0.data[...] = gain * q

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        _, h_n = self.rnn(x)
        return self.head(h_n[-1])


@dataclass
class Run:
    """What one training run saw at each step."""

    clip: float | None
    losses: list[float] = field(default_factory=list)
    norms: list[float] = field(default_factory=list)  # the global gradient norm, before any clipping
    applied: list[float] = field(default_factory=list)  # the norm of the gradient the step used

    @property
    def final_loss(self) -> float:
        """The mean loss of the last tenth of the steps (a single batch's loss is noisy)."""
        tail = self.losses[-max(1, len(self.losses) // 10) :]
        return float(np.mean(tail))


def _global_norm(model: nn.Module) -> float:
    """The 2-norm of all the model's gradients together."""
    return float(np.sqrt(sum(float((p.grad.data.astype(np.float64) ** 2).sum()) for p in model.parameters())))


def train(
    clip: float | None,
    steps: int = 300,
    lr: float = 0.03,
    length: int = 50,
    batch: int = 32,
    hidden: int = 32,
    gain: float = 1.2,
    seed: int = 0,
) -> Run:
    """Train a `Memory` with SGD, clipping the global gradient norm to ``clip`` (None: no clipping).

    Returns:
        The `Run`: loss, gradient norm before clipping and the norm applied, per step.
    """
    nn.manual_seed(seed)  # the same initial weights for every run
    model = Memory(hidden, gain)
    optimizer = SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed + 1)  # the same batches for every run
    run = Run(clip)
    for _ in range(steps):
        x, y = first_input_task(batch, length, rng)
        loss = F.mse_loss(model(ag.tensor(x)), y)
        optimizer.zero_grad()
        loss.backward()
        if clip is None:
            run.norms.append(_global_norm(model))
        else:  # clip_grad_norm_ returns the norm before clipping
            run.norms.append(float(clip_grad_norm_(model.parameters(), clip)))
        run.applied.append(_global_norm(model))
        run.losses.append(float(loss.item()))
        optimizer.step()
    return run


def main(steps: int = 300, max_norm: float = 1.0, report_every: int = 50, **options: Any) -> dict[str, Run]:
    """Train without and with clipping, print the loss and gradient norms side by side, return both runs.

    Args:
        steps: SGD steps of each run.
        max_norm: the clipping threshold of the second run.
        report_every: the steps per printed row.
        options: passed to `train` (``lr``, ``length``, ``batch``, ``hidden``, ``gain``, ``seed``).

    Returns:
        ``{"without": Run, "with": Run}``.
    """
    start = time.perf_counter()
    runs = {"without": train(None, steps, **options), "with": train(max_norm, steps, **options)}
    print(f"remember the first input over {options.get('length', 50)} steps (predicting 0 gives MSE 1)")
    header = f"{'step':>5} | {'loss, no clip':>13} {'grad norm':>10} | {'loss, clip':>10} {'grad norm':>10}"
    print(f"{header} {'applied':>8}")
    for i in range(0, steps, report_every):
        a, b = runs["without"], runs["with"]
        end = min(i + report_every, steps)
        print(
            f"{i:5d} | {np.mean(a.losses[i:end]):13.4f} {max(a.norms[i:end]):10.3g} | "
            f"{np.mean(b.losses[i:end]):10.4f} {max(b.norms[i:end]):10.3g} {max(b.applied[i:end]):8.3g}"
        )
    for name, run in runs.items():
        print(
            f"{name} clipping: largest gradient norm {max(run.norms):.3g}, largest applied {max(run.applied):.3g}, "
            f"final loss {run.final_loss:.4f}"
        )
    print(f"({time.perf_counter() - start:.1f} s; loss and largest norms per block of {report_every} steps)")
    return runs


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.03)
    parser.add_argument("--max-norm", type=float, default=1.0)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.steps, args.max_norm, lr=args.lr, length=args.length, seed=args.seed)
