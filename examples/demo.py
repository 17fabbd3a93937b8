"""The gradwire demo: train the classic examples, draw gradient graphs, plot the loss curves.

    make demo                                   # the same as: .venv/bin/python examples/demo.py
    .venv/bin/python examples/demo.py --quick   # a few steps of each (a smoke test)
    .venv/bin/python examples/demo.py --text book.txt --only text
    .venv/bin/python examples/demo.py --mnist ~/data/mnist

Each example is one function below, seeded, trained with gradwire's `nn` and scored on
held-out data: XOR, two-class classification, house-price regression, a 784-64-64-10
network on MNIST-format files, and a MiniGPT that learns to sort digits (``--text FILE``
adds a character-level MiniGPT on your text). The same models and targets are asserted
by ``tests/nn/test_examples.py``. Everything written goes to ``--out`` (default ``out/``):
gradient graphs (SVG) of an MLP and of a Transformer block, the loss curves (PNG), and
the synthetic MNIST files.
"""

# ruff: noqa: E402  (the imports come after the BLAS thread setting below)
from __future__ import annotations

import os

# The demo's models are small, and BLAS threads cost more than they save on small matrices;
# on a busy machine they can make training ten times slower. BLAS reads this when NumPy
# loads it, so it comes before the imports. Set OMP_NUM_THREADS yourself to override it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import sys
from pathlib import Path

import numpy as np
from char_lm import MIN_CHARS, sample, train_char_gpt
from report import Result, Stopwatch, plot_loss_curves, print_summary
from tqdm import tqdm

import autograd as ag
from autograd import viz
from nn import functional as F
from nn.data import train_test_split, train_val_split
from nn.datasets import house_prices, load_mnist, make_classification, synthetic_mnist, write_mnist, xor
from nn.layers import Linear, ReLU, Sequential, Sigmoid
from nn.lr_scheduler import warmup_cosine
from nn.optim import SGD, Adam, AdamW, clip_grad_norm_
from nn.random import manual_seed
from nn.tasks import exact_sequence_accuracy, random_digits, sorting_task
from nn.train import accuracy, evaluate, fit, predict, r2_score
from nn.transformer import GPTConfig, MiniGPT, TransformerBlock

EXAMPLES = ("xor", "classification", "regression", "mnist", "sorting", "text")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Train gradwire's classic examples, draw gradient graphs and plot loss curves.",
        epilog="Takes under a minute on 2 cores. Files go to --out: *.svg gradient graphs, "
        "loss_curves.png, mnist/ (synthetic MNIST in IDX format).",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("out"), metavar="DIR", help="folder for the files written (default: out/)"
    )
    parser.add_argument("--quick", action="store_true", help="a few steps of each example (a smoke test)")
    parser.add_argument(
        "--only",
        type=lambda s: s.split(","),
        default=None,
        metavar="NAMES",
        help=f"comma-separated examples to run, from: {', '.join(EXAMPLES)} (default: all but text, plus text "
        "when --text is given)",
    )
    parser.add_argument(
        "--mnist", type=Path, metavar="DIR", help="train on real MNIST: a folder with the four IDX files (or .gz)"
    )
    parser.add_argument("--text", type=Path, metavar="FILE", help="also train a character-level MiniGPT on FILE")
    parser.add_argument("--steps", type=int, default=400, metavar="N", help="training steps for --text (default: 400)")
    parser.add_argument(
        "--temperature", type=float, default=0.8, metavar="T", help="sampling temperature for --text (0: greedy)"
    )
    parser.add_argument(
        "--top-k", type=int, default=10, metavar="K", help="sample among the K likeliest characters for --text (0: all)"
    )
    args = parser.parse_args(argv)
    if args.only is None:
        args.only = [name for name in EXAMPLES if name != "text" or args.text]
    unknown = sorted(set(args.only) - set(EXAMPLES))
    if unknown:
        parser.error(f"--only: unknown example(s) {', '.join(unknown)}; choose from {', '.join(EXAMPLES)}")
    if "text" in args.only and args.text is None:
        parser.error("--only text needs --text FILE")
    if args.text is not None and not args.text.is_file():
        parser.error(f"--text: no such file: {args.text}")
    if args.mnist is not None and not args.mnist.is_dir():
        parser.error(f"--mnist: no such folder: {args.mnist}")
    return args


def heading(text: str) -> None:
    print(f"\n── {text} ──", flush=True)


# ───────────── the examples ─────────────


def xor_example(quick: bool) -> Result:
    """XOR, which no single layer can learn: 2-4-1 sigmoids, MSE, full-batch SGD."""
    heading("XOR: 2-4-1 sigmoid network, MSE loss, SGD")
    clock = Stopwatch()
    manual_seed(0)
    X, y = xor()
    model = Sequential(Linear(2, 4), Sigmoid(), Linear(4, 1), Sigmoid())
    optimizer = SGD(model.parameters(), lr=2.0)
    losses = []
    for _ in tqdm(range(100 if quick else 2000), desc="XOR", unit="step", dynamic_ncols=True):
        optimizer.zero_grad()
        loss = F.mse_loss(model(ag.tensor(X)), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    probs = predict(model, X)
    for inputs, target, output in zip(X, y.ravel(), probs.ravel()):
        print(f"{inputs[0]:.0f} xor {inputs[1]:.0f} = {target:.0f}, the network says {output:.3f}")
    correct = int(((probs > 0.5) == (y > 0.5)).sum())
    return Result("XOR 2-4-1", "correct of 4", correct, 4, seconds=clock.seconds(), losses=losses, fmt="d")


def classification_example(quick: bool) -> Result:
    """Two classes, 10 features: Linear(10, 64)-ReLU-Linear(64, 1)-sigmoid, BCE, Adam, batch 32."""
    heading("Two-class classification: 10-64-1 ReLU network, binary cross-entropy, Adam")
    clock = Stopwatch()
    manual_seed(0)
    rng = np.random.default_rng(0)
    X, y = make_classification(n_samples=1000, n_features=10, rng=rng)
    y = y.astype(np.float32)[:, None]  # (N, 1), the shape of the sigmoid output
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, rng=rng)
    train, val = train_val_split((X_train, y_train), val_fraction=0.1, rng=rng)
    model = Sequential(Linear(10, 64), ReLU(), Linear(64, 1), Sigmoid())
    optimizer = Adam(model.parameters(), lr=1e-3)
    history = fit(
        model,
        F.binary_cross_entropy,
        optimizer,
        train,
        epochs=1 if quick else 10,
        val_data=val,
        metric="accuracy",
        rng=rng,
    )
    test_accuracy = accuracy(predict(model, X_test), y_test)
    return Result(
        "classification 10-64-1",
        "test accuracy",
        test_accuracy,
        0.87,
        seconds=clock.seconds(),
        losses=history.train_loss,
        val_losses=history.val_loss,
        x_label="epoch",
    )


def regression_example(quick: bool) -> Result:
    """House prices from size, rooms and age: 3-64-1 ReLU network, MSE, Adam; R² on held-out houses."""
    heading("House-price regression: 3-64-1 ReLU network, MSE loss, Adam")
    clock = Stopwatch()
    manual_seed(0)
    rng = np.random.default_rng(0)
    X, y = house_prices(n_samples=600, rng=rng)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, rng=rng)
    model = Sequential(Linear(3, 64), ReLU(), Linear(64, 1))
    optimizer = Adam(model.parameters(), lr=1e-2)
    history = fit(model, F.mse_loss, optimizer, (X_train, y_train), epochs=2 if quick else 30, rng=rng)
    r2 = r2_score(predict(model, X_test), y_test)
    return Result(
        "house prices 3-64-1", "test R²", r2, 0.9, seconds=clock.seconds(), losses=history.train_loss, x_label="epoch"
    )


def mnist_files(out: Path, mnist: Path | None, quick: bool) -> tuple[Path, str]:
    """``(folder with the four MNIST IDX files, description)``: ``--mnist``, or synthetic digits written to ``out``."""
    if mnist is not None:
        return mnist, "MNIST"
    folder = out / "mnist"
    rng = np.random.default_rng(0)
    for split, n in (("train", 300 if quick else 3000), ("test", 100 if quick else 1000)):
        images, labels = synthetic_mnist(n, rng=rng)
        paths = write_mnist(folder, split, images, labels)
        print("wrote", ", ".join(str(p) for p in paths))
    return folder, "synthetic MNIST"


def mnist_example(out: Path, mnist: Path | None, quick: bool) -> Result:
    """784-64-64-10 ReLU network, softmax cross-entropy, Adam, on images read from MNIST's IDX files."""
    heading("MNIST: 784-64-64-10 ReLU network, cross-entropy, Adam")
    clock = Stopwatch()
    manual_seed(0)
    rng = np.random.default_rng(0)
    root, source = mnist_files(out, mnist, quick)
    X_train, y_train = load_mnist(root, "train")
    X_test, y_test = load_mnist(root, "test")
    print(f"{source}: {len(X_train)} training and {len(X_test)} test images of {X_train.shape[1]} pixels")
    model = Sequential(Linear(784, 64), ReLU(), Linear(64, 64), ReLU(), Linear(64, 10))
    optimizer = Adam(model.parameters(), lr=1e-3)
    history = fit(
        model,
        F.cross_entropy,
        optimizer,
        (X_train, y_train),
        epochs=1 if quick else 3,
        val_data=(X_test, y_test),
        batch_size=64,
        rng=rng,
    )
    test_accuracy = evaluate(model, None, (X_test, y_test), metric="accuracy")["accuracy"]
    return Result(
        f"{source} 784-64-64-10",
        "test accuracy",
        test_accuracy,
        0.9,
        seconds=clock.seconds(),
        losses=history.train_loss,
        val_losses=history.val_loss,
        val_label="test",
        x_label="epoch",
    )


def sorting_example(quick: bool) -> Result:
    """MiniGPT (2 layers, 2 heads, d_model 32) learns to sort 6 digits (minGPT's sorting task)."""
    heading("MiniGPT sorts 6 digits 0-9: 2 layers, 2 heads, d_model 32, AdamW")
    clock = Stopwatch()
    manual_seed(0)
    rng = np.random.default_rng(0)
    length, num_digits, steps = 6, 10, 20 if quick else 300
    test_prompts = random_digits(500, length, num_digits, rng=rng)  # held out: never drawn for training
    model = MiniGPT(GPTConfig(vocab_size=num_digits, block_size=2 * length - 1, n_layer=2, n_head=2, d_model=32))
    optimizer = AdamW(model.parameters(), lr=5e-3, betas=(0.9, 0.95), weight_decay=0.1)
    scheduler = warmup_cosine(optimizer, warmup_steps=max(1, steps // 10), total_steps=steps, min_lr=5e-4)
    losses = []
    for _ in tqdm(range(steps), desc="sorting", unit="step", dynamic_ncols=True):
        x, y = sorting_task(64, length, num_digits, rng=rng, exclude=test_prompts)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    prompts = test_prompts[:3]
    for prompt, answer in zip(prompts, model.generate(prompts, length, temperature=0)[:, length:]):
        print("prompt", "".join(map(str, prompt)), "-> model writes", "".join(map(str, answer)))
    score = exact_sequence_accuracy(model, test_prompts)
    return Result("MiniGPT sorting", "exact-sequence accuracy", score, 0.9, seconds=clock.seconds(), losses=losses)


def text_example(path: Path, steps: int, temperature: float, top_k: int | None, quick: bool) -> Result:
    """A character-level MiniGPT on the user's text; prints a sample of what it writes."""
    text = path.read_text(encoding="utf-8", errors="replace")
    top_k = top_k or None  # 0 means no limit
    if len(text) < MIN_CHARS:
        sys.exit(f"--text: {path} has {len(text)} characters; the character model needs at least {MIN_CHARS}")
    heading(f"Character-level MiniGPT on {path} ({len(text):,} characters)")
    clock = Stopwatch()
    manual_seed(0)
    trained = train_char_gpt(text, steps=10 if quick else steps, rng=np.random.default_rng(0))
    parameters = sum(p.size for p in trained.model.parameters())
    print(f"{len(trained.codec.chars)} distinct characters, a MiniGPT of {parameters:,} parameters")
    print(f"sample (temperature {temperature}, top_k {top_k}):")
    print(sample(trained, text[:8], 200 if quick else 500, temperature, top_k, rng=np.random.default_rng(1)))
    return Result(
        "MiniGPT on text",
        "val loss (nats/char)",
        trained.val_loss,
        trained.baseline,
        higher_is_better=False,
        seconds=clock.seconds(),
        losses=trained.losses,
    )


# ───────────── pictures ─────────────


def draw_gradient_graphs(out: Path) -> list[Path]:
    """SVG gradient graphs of the MNIST MLP (every op, clustered by layer) and of a Transformer block.

    The block is drawn with ``max_depth=2``: attention's ops are shown, its Linear layers
    and the feed-forward's are collapsed into one box each.
    """
    heading("Gradient graphs")
    manual_seed(0)
    images, labels = synthetic_mnist(32, rng=np.random.default_rng(0))
    mlp = Sequential(Linear(784, 64), ReLU(), Linear(64, 64), ReLU(), Linear(64, 10))
    loss = F.cross_entropy(mlp(images.reshape(32, 784) / np.float32(255)), labels.astype(np.int64))
    written = [draw(loss, mlp, out / "mlp_gradient_graph.svg", "784-64-64-10 MLP, cross-entropy on 32 images")]

    block = TransformerBlock(d_model=32, n_head=2, d_ff=128)
    x = ag.tensor(
        np.random.default_rng(0).standard_normal((4, 11, 32)).astype(np.float32), requires_grad=True, name="x"
    )
    loss = (block(x) ** 2).mean()  # a stand-in loss: any scalar sends gradients through the whole block
    written.append(draw(loss, block, out / "transformer_block_gradient_graph.svg", "TransformerBlock(32, 2 heads)", 2))
    return written


def draw(loss: ag.Tensor, model: object, path: Path, title: str, max_depth: int | None = None) -> Path:
    """Run backward with gradient tracing and write the graph, coloured by gradient norm, to ``path`` (SVG)."""
    stats = viz.graph_stats(loss, model)  # before backward, which frees what the graph saved
    print(f"{title}: {stats.nodes} nodes, depth {stats.depth}, {stats.saved_bytes:,} bytes saved for backward")
    recorder = viz.trace_gradients(loss)
    loss.backward()
    graph = viz.draw_graph(loss, model, grads=recorder, max_depth=max_depth, title=title)
    graph.render(outfile=path, cleanup=True)  # the format comes from the suffix
    print("wrote", path)
    return path


# ───────────── main ─────────────


def run_examples(args: argparse.Namespace) -> list[Result]:
    """Run the examples named by ``--only``, in a fixed order, printing each result as it comes."""
    examples = {
        "xor": lambda: xor_example(args.quick),
        "classification": lambda: classification_example(args.quick),
        "regression": lambda: regression_example(args.quick),
        "mnist": lambda: mnist_example(args.out, args.mnist, args.quick),
        "sorting": lambda: sorting_example(args.quick),
        "text": lambda: text_example(args.text, args.steps, args.temperature, args.top_k, args.quick),
    }
    results = []
    for name in EXAMPLES:
        if name in args.only:
            results.append(examples[name]())
            print(results[-1].line(), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    clock = Stopwatch()
    results = run_examples(args)
    files = draw_gradient_graphs(args.out)
    curves = plot_loss_curves(results, args.out / "loss_curves.png")
    if curves is not None:
        files.append(curves)
    if "mnist" in args.only and args.mnist is None:
        files.extend(sorted((args.out / "mnist").iterdir()))
    print_summary(results, files, clock.seconds(), args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
