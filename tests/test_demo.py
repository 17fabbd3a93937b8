"""The demo (``make demo``) runs end to end: ``--quick`` in a subprocess, its printed results and files checked.

One quick run (every example plus a character model on a short text, about 10-20 s)
is shared by the tests below; a second, tiny run hides matplotlib to check that the demo
skips the plot instead of failing.
"""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from nn.datasets import load_mnist

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO = EXAMPLES / "demo.py"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
POEM = """\
Tyger Tyger, burning bright,
In the forests of the night;
What immortal hand or eye,
Could frame thy fearful symmetry?
In what distant deeps or skies.
Burnt the fire of thine eyes?
On what wings dare he aspire?
What the hand, dare seize the fire?
"""
METRIC_LINES = (
    "XOR 2-4-1: correct of 4 = ",
    "classification 10-64-1: test accuracy = ",
    "house prices 3-64-1: test R² = ",
    "synthetic MNIST 784-64-64-10: test accuracy = ",
    "MiniGPT sorting: exact-sequence accuracy = ",
    "MiniGPT on text: val loss (nats/char) = ",
)


def run(*args: str, prelude: str = "") -> subprocess.CompletedProcess:
    """Run the demo in a fresh interpreter (``prelude``: Python run before it, e.g. to hide a module)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    if prelude:
        code = (
            f"import runpy, sys; {prelude}; sys.path.insert(0, {str(EXAMPLES)!r}); "
            f"sys.argv = [{str(DEMO)!r}, *sys.argv[1:]]; runpy.run_path({str(DEMO)!r}, run_name='__main__')"
        )
        command = [sys.executable, "-c", code, *args]
    else:
        command = [sys.executable, str(DEMO), *args]
    return subprocess.run(command, capture_output=True, text=True, encoding="utf-8", env=env, timeout=300)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """``(completed process, output folder)`` of one ``--quick`` run with a short ``--text``."""
    folder = tmp_path_factory.mktemp("demo")
    text = folder / "tyger.txt"
    text.write_text(POEM, encoding="utf-8")
    out = folder / "out"
    return run("--quick", "--out", str(out), "--text", str(text)), out


def test_quick_demo_exits_cleanly_and_prints_every_metric_and_the_summary(quick):
    result, out = quick
    assert result.returncode == 0, result.stderr[-3000:]
    for line in METRIC_LINES:
        assert line in result.stdout, f"{line!r} missing from:\n{result.stdout}"
    assert "example" in result.stdout and "seconds" in result.stdout  # the summary table's header
    assert "sample (temperature 0.8, top_k 10):" in result.stdout
    assert "files written:" in result.stdout
    assert str(out / "loss_curves.png") in result.stdout


def test_quick_demo_draws_the_gradient_graphs_as_svg(quick):
    result, out = quick
    for name in ("mlp_gradient_graph.svg", "transformer_block_gradient_graph.svg"):
        root = ET.parse(out / name).getroot()
        assert root.tag.rsplit("}", 1)[-1] == "svg", name
        assert str(out / name) in result.stdout
    block = (out / "transformer_block_gradient_graph.svg").read_text(encoding="utf-8")
    assert "attn" in block and "attention_weights" in block  # clustered by module, the fused attention weights


def test_quick_demo_plots_the_loss_curves_as_png(quick):
    _, out = quick
    assert (out / "loss_curves.png").read_bytes()[:8] == PNG_MAGIC


def test_quick_demo_writes_synthetic_mnist_that_loads_back(quick):
    _, out = quick
    X, y = load_mnist(out / "mnist", "train")
    assert X.shape == (300, 784) and X.dtype == np.float32 and set(np.unique(y)) == set(range(10))


def test_demo_without_matplotlib_skips_the_plot_and_says_so(tmp_path):
    result = run("--quick", "--only", "xor", "--out", str(tmp_path), prelude="sys.modules['matplotlib'] = None")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "matplotlib is not installed" in result.stdout
    assert not (tmp_path / "loss_curves.png").exists()
    assert (tmp_path / "mlp_gradient_graph.svg").exists()


def test_demo_help_and_argument_errors():
    help_run = run("--help")
    assert help_run.returncode == 0 and "--text FILE" in help_run.stdout and "--quick" in help_run.stdout
    for args, message in (
        (("--only", "text"), "--only text needs --text FILE"),
        (("--only", "nope"), "unknown example(s) nope"),
        (("--text", "no/such/file.txt"), "no such file"),
    ):
        bad = run(*args)
        assert bad.returncode == 2 and message in bad.stderr, (args, bad.stderr)
