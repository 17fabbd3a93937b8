"""The same training twice, eagerly and with `autograd.compile_step`: equal weights, and the time per step.

An MLP 2-64-64-3 learns three interleaved spirals with Adam on random batches of 32. Both
runs start from the same weights and see the same batches. The second one sends its
forward pass and backward through ``ag.compile_step``. Its first two steps record; after
that each step replays the recorded NumPy calls. The script prints both runs' time per step
and final accuracy, and how far apart their weights end up (exactly 0: a replay computes
what eager mode computes, bit for bit).

    .venv/bin/python examples/replay_training.py [--steps 300]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

import autograd as ag
import nn
from nn import functional as F


@dataclass
class Run:
    """What one training run left: its model, the mean seconds per step after the first two, and replays."""

    model: nn.Module
    seconds_per_step: float
    replays: int


def train(steps: int, replay: bool, seed: int = 0) -> Run:
    """Train the MLP for ``steps`` Adam steps, eagerly or through `autograd.compile_step`."""
    x, y = nn.datasets.spirals(n_per_class=200, n_classes=3, rng=np.random.default_rng(seed))
    x = x.astype(np.float32)
    nn.manual_seed(seed)
    model = nn.MLP((2, 64, 64, 3), activation="relu")
    opt = nn.optim.Adam(model.parameters(), lr=1e-2)

    def forward_backward(xb: ag.Tensor, yb: np.ndarray) -> ag.Tensor:
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        return loss

    step = ag.compile_step(forward_backward, strict=True) if replay else forward_backward
    batches = np.random.default_rng(seed + 1)
    started = None
    for i in range(steps):
        if i == 2:  # leave out the two recording calls (and the eager run's first two steps)
            started = time.perf_counter()
        rows = batches.integers(0, len(x), size=32)
        opt.zero_grad()
        step(ag.Tensor(x[rows]), y[rows])
        opt.step()
    elapsed = time.perf_counter() - started if started is not None else 0.0
    return Run(model, elapsed / max(steps - 2, 1), step.replays if replay else 0)


def accuracy(model: nn.Module, seed: int = 0) -> float:
    """The model's accuracy on the whole spiral data set."""
    x, y = nn.datasets.spirals(n_per_class=200, n_classes=3, rng=np.random.default_rng(seed))
    with ag.no_grad():
        return float((model(ag.Tensor(x.astype(np.float32))).data.argmax(-1) == y).mean())


def largest_weight_difference(a: nn.Module, b: nn.Module) -> float:
    """max |a - b| over every parameter of two models of the same layout."""
    return max(float(np.abs(p.data - q.data).max()) for p, q in zip(a.parameters(), b.parameters()))


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run both trainings, print the comparison and return its numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args(argv)
    eager = train(args.steps, replay=False)
    replayed = train(args.steps, replay=True)
    result = {
        "eager_us_per_step": eager.seconds_per_step * 1e6,
        "replay_us_per_step": replayed.seconds_per_step * 1e6,
        "eager_accuracy": accuracy(eager.model),
        "replay_accuracy": accuracy(replayed.model),
        "largest_weight_difference": largest_weight_difference(eager.model, replayed.model),
        "replays": replayed.replays,
    }
    print(f"eager : {result['eager_us_per_step']:7.1f} us a step, accuracy {result['eager_accuracy']:.3f}")
    print(
        f"replay: {result['replay_us_per_step']:7.1f} us a step, accuracy {result['replay_accuracy']:.3f} "
        f"({result['replays']} of {args.steps} steps replayed)"
    )
    print(f"largest difference between the two runs' weights: {result['largest_weight_difference']}")
    return result


if __name__ == "__main__":
    main()
