"""What the demo prints and draws about its runs: one `Result` per example, a summary table, loss curves.

Used by ``examples/demo.py``; nothing here trains anything. matplotlib is imported only
inside `plot_loss_curves`, so the demo runs without it (the plot is then skipped).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Result:
    """One example's outcome.

    Attributes:
        name: the example's name in the summary ("XOR 2-4-1").
        metric: what was measured ("test accuracy").
        value: the measured number.
        target: the number the example is expected to reach.
        higher_is_better: the target is a floor (accuracy) rather than a ceiling (a loss).
        seconds: wall time of the example, data and evaluation included.
        losses: training loss per step (or per epoch), for the loss-curve plot.
        val_losses: validation loss per epoch, when there was validation data.
        val_label: what the validation data is, for the plot's legend.
        x_label: what one entry of ``losses`` is ("step" or "epoch").
        fmt: how to print ``value`` and ``target``.
    """

    name: str
    metric: str
    value: float
    target: float
    higher_is_better: bool = True
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    val_label: str = "validation"
    x_label: str = "step"
    fmt: str = ".3f"

    @property
    def met(self) -> bool:
        """Whether ``value`` reached ``target``."""
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def line(self) -> str:
        """The line printed when the example finishes: ``XOR 2-4-1: correct of 4 = 4 (target >= 4) in 0.4 s``."""
        relation = ">=" if self.higher_is_better else "<="
        return (
            f"{self.name}: {self.metric} = {self.value:{self.fmt}} "
            f"(target {relation} {self.target:{self.fmt}}) in {self.seconds:.1f} s"
        )


class Stopwatch:
    """Seconds since it was made: ``clock = Stopwatch(); ...; clock.seconds()``."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.start


def print_summary(results: list[Result], files: list[Path], total_seconds: float, quick: bool) -> None:
    """Print the table of results (example, metric, value, target, seconds) and the files written."""
    rows = [("example", "metric", "value", "target", "met", "seconds")]
    for r in results:
        relation = ">=" if r.higher_is_better else "<="
        rows.append(
            (
                r.name,
                r.metric,
                f"{r.value:{r.fmt}}",
                f"{relation} {r.target:{r.fmt}}",
                "yes" if r.met else "no",
                f"{r.seconds:.1f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * width for width in widths))
    print(f"total: {total_seconds:.1f} s")
    if quick:
        print("(--quick trains for a few steps only: the targets are not expected to be met)")
    print("\nfiles written:")
    for path in files:
        print(f"  {path}")


def plot_loss_curves(results: list[Result], path: Path) -> Path | None:
    """Draw every example's training (and validation) loss in one PNG, one panel per example.

    Returns:
        ``path``, or None (with a printed note) when matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no window, no display needed
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        print(f"matplotlib is not installed, so {path.name} was not drawn (pip install matplotlib, or make demo)")
        return None
    curves = [r for r in results if r.losses]
    if not curves:
        return None
    columns = min(3, len(curves))
    rows = -(-len(curves) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    for ax, r in zip(axes.flat, curves):
        steps = range(1, len(r.losses) + 1)
        ax.plot(steps, r.losses, label="train", marker="o" if len(r.losses) < 40 else None, markersize=3)
        if r.val_losses:
            ax.plot(range(1, len(r.val_losses) + 1), r.val_losses, label=r.val_label, marker="o", markersize=3)
            ax.legend()
        ax.set_title(r.name)
        ax.set_xlabel(r.x_label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("loss")
        if min(r.losses) > 0:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(curves) :]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
