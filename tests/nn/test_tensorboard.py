"""Tests for nn.SummaryWriter and fit(..., writer=...): what is written is read back with TensorBoard's own
loaders and through a real TensorBoard server on 127.0.0.1, and checked against NumPy and TensorBoard's helpers.

``python tests/nn/test_tensorboard.py runs/demo`` writes a small demo log directory (`write_demo_logdir`);
``tensorboard --logdir runs/demo`` then shows every tab this writer fills.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
from nn.functional import cross_entropy, mse_loss
from nn.lr_scheduler import StepLR
from nn.optim import SGD, Adam
from nn.train import fit

SERVER_WAIT_S = 60.0  # the longest the server test waits for TensorBoard to answer with the data


@pytest.fixture
def tb():
    """The tensorboard package; tests that read event files skip without it."""
    return pytest.importorskip("tensorboard", reason="needs the optional extra: pip install 'gradwire[tensorboard]'")


def accumulator(path: Path):
    """TensorBoard's own loader over one run directory, keeping every event."""
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path), size_guidance={"tensors": 0})
    acc.Reload()
    return acc


def series(acc, tag: str) -> tuple[list[int], list[np.ndarray]]:
    """``(steps, values)`` of one tag, as TensorBoard decoded them."""
    from tensorboard.util.tensor_util import make_ndarray

    events = acc.Tensors(tag)
    return [e.step for e in events], [make_ndarray(e.tensor_proto) for e in events]


def tiny_mlp(seed: int = 0) -> nn.MLP:
    return nn.MLP([3, 4, 2], activation="tanh", rng=np.random.default_rng(seed))


# ───────────── scalars ─────────────


def test_add_scalar_writes_values_steps_and_walltimes(tmp_path, tb):
    with nn.SummaryWriter(tmp_path) as writer:
        writer.add_scalar("loss/train", 2.5, 0, walltime=1000.0)
        writer.add_scalar("loss/train", np.float64(1.25), 1, walltime=1001.0)
        writer.add_scalar("loss/train", ag.Tensor(np.array([0.5], np.float32)), 2, walltime=1002.0)
        writer.add_scalar("count", 7)  # no step: step 0, as PyTorch
    acc = accumulator(tmp_path)
    steps, values = series(acc, "loss/train")
    assert steps == [0, 1, 2]
    assert [float(v) for v in values] == [2.5, 1.25, 0.5]
    assert [e.wall_time for e in acc.Tensors("loss/train")] == [1000.0, 1001.0, 1002.0]
    assert acc.SummaryMetadata("loss/train").plugin_data.plugin_name == "scalars"
    assert series(acc, "count") == ([0], [np.float32(7.0)])


def test_add_scalars_writes_each_key_to_a_sub_run_as_pytorch(tmp_path, tb):
    from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer
    from tensorboard.util.tensor_util import make_ndarray

    with nn.SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalars("loss/both", {"train": 1.0 + step, "val": 10.0 + step}, step)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["loss_both_train", "loss_both_val"]
    mux = EventMultiplexer(size_guidance={"tensors": 0}).AddRunsFromDirectory(str(tmp_path))
    mux.Reload()
    val = mux.Tensors("loss_both_val", "loss/both")
    assert [e.step for e in val] == [0, 1, 2]
    assert [float(make_ndarray(e.tensor_proto)) for e in val] == [10.0, 11.0, 12.0]
    assert [float(make_ndarray(e.tensor_proto)) for e in mux.Tensors("loss_both_train", "loss/both")] == [1, 2, 3]


def test_scalar_arguments_are_checked(tmp_path, tb):
    with nn.SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match=r"add_scalar: the value for 'x' must be a single real number.*\(2,\)"):
            writer.add_scalar("x", [1.0, 2.0])
        with pytest.raises(TypeError, match="add_scalar: tag must be a non-empty str"):
            writer.add_scalar(3, 1.0)
        with pytest.raises(TypeError, match="add_scalar: global_step must be an int or None"):
            writer.add_scalar("x", 1.0, 1.5)
        with pytest.raises(TypeError, match="add_scalars: tag_scalar_dict must be a dict"):
            writer.add_scalars("x", [1.0])


# ───────────── histograms ─────────────


def test_histogram_default_buckets_are_tensorboards_own(tmp_path, tb):
    from tensorboard.plugins.histogram.summary_v2 import histogram_pb
    from tensorboard.util.tensor_util import make_ndarray

    values = np.random.default_rng(1).standard_normal((20, 50)).astype(np.float32)
    with nn.SummaryWriter(tmp_path) as writer:
        writer.add_histogram("weights", ag.Tensor(values), 3)
        writer.add_histogram("constant", np.full(7, 0.25), 3)
    acc = accumulator(tmp_path)
    steps, (buckets,) = series(acc, "weights")
    assert steps == [3]
    assert acc.SummaryMetadata("weights").plugin_data.plugin_name == "histograms"
    counts, edges = np.histogram(values.astype(np.float64), bins=30)  # the writer bins in float64
    assert buckets.shape == (30, 3)
    np.testing.assert_array_equal(buckets[:, 2], counts)
    np.testing.assert_allclose(buckets[:, 0], edges[:-1])
    np.testing.assert_allclose(buckets[:, 1], edges[1:])
    assert buckets[0, 0] == values.min() and buckets[-1, 1] == values.max()
    # the same as TensorBoard's own histogram_pb, also for a constant array
    expected = make_ndarray(histogram_pb("weights", values).value[0].tensor)
    np.testing.assert_allclose(buckets, expected)
    (constant,) = series(acc, "constant")[1]
    np.testing.assert_allclose(constant, make_ndarray(histogram_pb("c", np.full(7, 0.25)).value[0].tensor))
    assert constant[-1, 2] == 7 and constant[:-1, 2].sum() == 0


@pytest.mark.parametrize("bins", [5, "fd", [-2.0, -0.5, 0.0, 0.5, 2.0]], ids=["count", "rule", "edges"])
def test_histogram_other_bins_are_numpys(tmp_path, tb, bins):
    values = np.random.default_rng(2).standard_normal(500)
    with nn.SummaryWriter(tmp_path) as writer:
        writer.add_histogram("grad", values, 1, bins=bins)
    (buckets,) = series(accumulator(tmp_path), "grad")[1]
    counts, edges = np.histogram(values, bins=bins)
    np.testing.assert_array_equal(buckets[:, 2], counts)
    np.testing.assert_allclose(buckets[:, 0], edges[:-1])
    np.testing.assert_allclose(buckets[:, 1], edges[1:])


def test_histogram_rejects_empty_non_finite_and_unknown_bins(tmp_path, tb):
    with nn.SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match="add_histogram: the values for 'h' are empty"):
            writer.add_histogram("h", np.array([]))
        with pytest.raises(ValueError, match="add_histogram: 2 of the 4 values for 'h' are NaN or inf"):
            writer.add_histogram("h", np.array([1.0, np.nan, np.inf, 2.0]))
        with pytest.raises(ValueError, match="add_histogram: bins must be 'tensorflow' or what np.histogram takes"):
            writer.add_histogram("h", np.arange(5.0), bins="no-such-rule")


# ───────────── images ─────────────


def decoded_images(acc, tag: str) -> list[tuple[int, int, bytes]]:
    """``(width, height, PNG bytes)`` of each image event, as TensorBoard's image plugin stores them."""
    out = []
    for value in series(acc, tag)[1]:
        width, height, png = value.tolist()
        out.append((int(width), int(height), png))
    return out


def test_add_image_from_arrays_in_each_layout(tmp_path, tb):
    from PIL import Image

    rng = np.random.default_rng(3)
    chw = rng.uniform(size=(3, 8, 10))  # floats in [0, 1], PyTorch's default layout
    hwc = rng.integers(0, 256, size=(6, 5, 4), dtype=np.uint8)
    gray = rng.uniform(size=(4, 9))
    with nn.SummaryWriter(tmp_path) as writer:
        writer.add_image("chw", chw, 1)
        writer.add_image("hwc", hwc, 1, dataformats="HWC")
        writer.add_image("gray", ag.Tensor(gray), 1, dataformats="HW")
    acc = accumulator(tmp_path)
    for tag, expected in [
        ("chw", np.rint(chw.transpose(1, 2, 0) * 255).astype(np.uint8)),
        ("hwc", hwc),
        ("gray", np.rint(gray * 255).astype(np.uint8)),
    ]:
        ((width, height, png),) = decoded_images(acc, tag)
        assert (height, width) == expected.shape[:2]
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG"
        np.testing.assert_array_equal(np.asarray(image), expected)


def test_add_image_takes_the_png_of_a_gradient_graph_as_bytes_or_a_file(tmp_path, tb):
    from PIL import Image

    from autograd import viz

    if viz.find_renderer() is None:
        pytest.skip("no Graphviz renderer to draw the graph")
    model = tiny_mlp()
    loss = mse_loss(model(ag.Tensor(np.ones((5, 3), np.float32))), np.zeros((5, 2), np.float32))
    png = viz.draw_graph(loss, model).pipe(format="png")
    path = tmp_path / "graph.png"
    path.write_bytes(png)
    with nn.SummaryWriter(tmp_path / "run") as writer:
        writer.add_image("graph/bytes", png, 1)
        writer.add_image("graph/file", path, 2)
        writer.add_image("graph/str", str(path), 3)
    acc = accumulator(tmp_path / "run")
    size = Image.open(io.BytesIO(png)).size
    for tag, step in [("graph/bytes", 1), ("graph/file", 2), ("graph/str", 3)]:
        assert series(acc, tag)[0] == [step]
        assert decoded_images(acc, tag) == [(size[0], size[1], png)]  # the PNG as drawn, not re-encoded


def test_add_image_converts_other_formats_and_checks_its_arguments(tmp_path, tb):
    from PIL import Image

    pixels = np.zeros((4, 6, 3), np.uint8)
    pixels[:, :3] = (255, 0, 0)
    bmp = io.BytesIO()
    Image.fromarray(pixels).save(bmp, format="BMP")
    with nn.SummaryWriter(tmp_path) as writer:
        writer.add_image("bmp", bmp.getvalue())
        with pytest.raises(ValueError, match=r"add_image: dataformats 'CHW' needs a 3-d image, got shape \(4, 6\)"):
            writer.add_image("bad", np.zeros((4, 6)))
        with pytest.raises(ValueError, match="add_image: an image needs 1, 3 or 4 channels, got 2"):
            writer.add_image("bad", np.zeros((2, 4, 6)))
        with pytest.raises(ValueError, match="add_image: dataformats must be an order of 'CHW' or 'HW'"):
            writer.add_image("bad", np.zeros((4, 6, 3)), dataformats="NHWC")
        with pytest.raises(ValueError, match="add_image: the bytes for 'bad' are not an image"):
            writer.add_image("bad", b"not an image")
    ((width, height, png),) = decoded_images(accumulator(tmp_path), "bmp")
    image = Image.open(io.BytesIO(png))
    assert (width, height, image.format) == (6, 4, "PNG")
    np.testing.assert_array_equal(np.asarray(image.convert("RGB")), pixels)


# ───────────── text ─────────────


def test_add_text_is_read_back(tmp_path, tb):
    with nn.SummaryWriter(tmp_path) as writer:
        writer.add_text("config", "**lr** = 0.1, *epochs* = 3", 0)
        writer.add_text("config", "ünïcode ✓", 1)
        with pytest.raises(TypeError, match="add_text: text_string must be a str, got int"):
            writer.add_text("config", 5)
    acc = accumulator(tmp_path)
    steps, values = series(acc, "config")
    assert steps == [0, 1]
    assert [v.item().decode() for v in values] == ["**lr** = 0.1, *epochs* = 3", "ünïcode ✓"]
    assert acc.SummaryMetadata("config").plugin_data.plugin_name == "text"


# ───────────── the graph ─────────────


def graph_nodes(path: Path) -> dict:
    """Node name -> NodeDef of the GraphDef TensorBoard loads from a run."""
    return {node.name: node for node in accumulator(path).Graph().node}


def shape(node) -> tuple[int, ...]:
    return tuple(d.size for d in node.attr["_output_shapes"].list.shape[0].dim)


def test_add_graph_names_nodes_by_module_with_ops_and_shapes(tmp_path, tb):
    model = tiny_mlp()
    with nn.SummaryWriter(tmp_path) as writer:
        writer.add_graph(model, np.ones((5, 3), np.float32))
    nodes = graph_nodes(tmp_path)
    assert set(nodes) == {
        "input",
        "MLP/layers/0/weight",
        "MLP/layers/0/bias",
        "MLP/layers/0/linear",
        "MLP/layers/1/tanh",
        "MLP/layers/2/weight",
        "MLP/layers/2/bias",
        "MLP/layers/2/linear",
        "output",
    }
    ops = {name: node.op for name, node in nodes.items()}
    assert ops["MLP/layers/0/linear"] == "linear" and ops["MLP/layers/1/tanh"] == "tanh"
    assert ops["MLP/layers/0/weight"] == "Parameter" and ops["input"] == "Input" and ops["output"] == "Output"
    assert list(nodes["MLP/layers/0/linear"].input) == ["input", "MLP/layers/0/weight", "MLP/layers/0/bias"]
    assert list(nodes["MLP/layers/2/linear"].input) == ["MLP/layers/1/tanh", "MLP/layers/2/weight", "MLP/layers/2/bias"]
    assert list(nodes["output"].input) == ["MLP/layers/2/linear"]
    assert shape(nodes["input"]) == (5, 3)
    assert shape(nodes["MLP/layers/0/weight"]) == (4, 3)
    assert shape(nodes["MLP/layers/1/tanh"]) == (5, 4)
    assert shape(nodes["output"]) == (5, 2)
    assert nodes["MLP/layers/0/linear"].attr["dtype"].s == b"float32"
    assert nodes["MLP/layers/1/tanh"].attr["module"].s == b"Tanh"


class Twice(nn.Module):
    """A model that calls its blocks from a ModuleList and one of them twice: names ``blocks.0`` style, repeats."""

    def __init__(self) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.blocks = nn.ModuleList([nn.Linear(3, 3, rng=rng), nn.Linear(3, 3, rng=rng)])

    def forward(self, x):
        for block in self.blocks:
            x = ag.tanh(block(x))
        return self.blocks[1](x), x


def test_add_graph_scopes_module_lists_repeated_calls_and_several_outputs(tmp_path, tb):
    recording = nn.Module.record_scopes
    with nn.SummaryWriter(tmp_path) as writer, ag.no_grad():  # add_graph records even under no_grad
        writer.add_graph(Twice(), (ag.Tensor(np.ones((2, 3), np.float32), name="x"),))
    assert nn.Module.record_scopes is recording
    nodes = graph_nodes(tmp_path)
    assert {"x", "output", "output_1", "Twice/tanh", "Twice/tanh_1"} <= set(nodes)
    # the second block is called twice: one scope, its ops numbered
    assert {"Twice/blocks.0/linear", "Twice/blocks.1/linear", "Twice/blocks.1/linear_1"} <= set(nodes)
    assert {"Twice/blocks.1/weight", "Twice/blocks.1/bias"} <= set(nodes)
    assert list(nodes["Twice/blocks.1/linear_1"].input)[0] == "Twice/tanh_1"
    assert sorted(list(nodes["output"].input) + list(nodes["output_1"].input)) == [
        "Twice/blocks.1/linear_1",
        "Twice/tanh_1",
    ]
    # a valid GraphDef: unique names, every input defined before it is used
    seen = set()
    for node in accumulator(tmp_path).Graph().node:
        assert set(node.input) <= seen, node.name
        seen.add(node.name)
    assert len(seen) == len(nodes)


def test_add_graph_of_a_plain_function_names_its_modules_by_class(tmp_path, tb):
    rng = np.random.default_rng(0)
    first, second = nn.Linear(3, 4, rng=rng), nn.Linear(4, 2, rng=rng)
    with nn.SummaryWriter(tmp_path) as writer:
        writer.add_graph(lambda x: second(ag.relu(first(x))), np.ones((2, 3), np.float32))
    nodes = graph_nodes(tmp_path)
    assert set(nodes) == {
        "input",
        "Linear/weight",
        "Linear/bias",
        "Linear/linear",
        "relu",
        "Linear_1/weight",
        "Linear_1/bias",
        "Linear_1/linear",
        "output",
    }
    assert list(nodes["Linear_1/linear"].input) == ["relu", "Linear_1/weight", "Linear_1/bias"]


def test_add_graph_needs_a_recorded_output(tmp_path, tb):
    with nn.SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match="add_graph: model\\(input_to_model\\) returned ndarray with no recorded"):
            writer.add_graph(lambda x: np.asarray(x) * 2, np.ones(3, np.int64))


# ───────────── lifecycle ─────────────


def test_close_flushes_and_a_closed_writer_reopens_a_new_file(tmp_path, tb):
    writer = nn.SummaryWriter(tmp_path, filename_suffix=".gradwire")
    assert writer.get_logdir() == str(tmp_path)
    writer.add_scalar("x", 1.0, 0)
    writer.close()
    writer.close()  # twice is fine
    writer.add_scalar("x", 2.0, 1)  # as PyTorch: a new event file
    writer.flush()
    files = sorted(tmp_path.glob("events.out.tfevents.*"))
    assert len(files) == 2 and all(f.name.endswith(".gradwire") for f in files)
    assert [float(v) for v in series(accumulator(tmp_path), "x")[1]] == [1.0, 2.0]
    writer.close()


def test_purge_step_hides_the_steps_a_resumed_run_writes_again(tmp_path, tb):
    with nn.SummaryWriter(tmp_path) as writer:
        for step in range(6):
            writer.add_scalar("loss", float(step), step)
    time.sleep(1.1)  # event file names start with the second they were made in
    with nn.SummaryWriter(tmp_path, purge_step=3) as writer:
        for step in range(3, 5):
            writer.add_scalar("loss", 100.0 + step, step)
    steps, values = series(accumulator(tmp_path), "loss")  # the loader the TensorBoard server uses
    assert steps == [0, 1, 2, 3, 4]
    assert [float(v) for v in values] == [0.0, 1.0, 2.0, 103.0, 104.0]


def test_default_log_dir_is_under_runs_with_the_comment(tmp_path, tb, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with nn.SummaryWriter(comment="_lr0.1") as writer:
        log_dir = Path(writer.log_dir)
    assert log_dir.parent == Path("runs") and log_dir.name.endswith(f"_{socket.gethostname()}_lr0.1")
    assert list((tmp_path / log_dir).glob("events.out.tfevents.*"))


# ───────────── fit ─────────────


def test_fit_logs_losses_metric_learning_rates_and_gradient_norms_every_epoch(tmp_path, tb):
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (48, 3)).astype(np.float32)
    y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = nn.MLP([3, 8, 1], activation="tanh", rng=np.random.default_rng(5))
    first, rest = model.layers[0], model.layers[2]
    optimizer = SGD([{"params": first.parameters()}, {"params": rest.parameters(), "lr": 0.05}], lr=0.1)
    with nn.SummaryWriter(tmp_path) as writer:
        history = fit(
            model,
            mse_loss,
            optimizer,
            (X[:32], y[:32]),
            epochs=3,
            val_data=(X[32:], y[32:]),
            batch_size=8,
            metric="r2",
            scheduler=StepLR(optimizer, step_size=1, gamma=0.5),
            rng=np.random.default_rng(6),
            progress=False,
            writer=writer,
        )
    acc = accumulator(tmp_path)

    def logged(tag):
        steps, values = series(acc, tag)
        assert steps == [1, 2, 3], tag
        return np.array([float(v) for v in values])

    np.testing.assert_allclose(logged("loss/train"), history.train_loss, rtol=1e-6)
    np.testing.assert_allclose(logged("loss/val"), history.val_loss, rtol=1e-6)
    np.testing.assert_allclose(logged("r2/train"), history.train_metric, rtol=1e-6)
    np.testing.assert_allclose(logged("r2/val"), history.val_metric, rtol=1e-6)
    np.testing.assert_allclose(logged("lr/group_0"), [0.1, 0.05, 0.025], rtol=1e-6)
    np.testing.assert_allclose(logged("lr/group_1"), [0.05, 0.025, 0.0125], rtol=1e-6)
    names = [name for name, _ in model.named_parameters()]
    assert sorted(t for t in acc.Tags()["tensors"] if t.startswith("grad_norm/")) == sorted(
        f"grad_norm/{n}" for n in names
    )
    for name, p in model.named_parameters():  # the last epoch's: the gradients left after fit
        norms = logged(f"grad_norm/{name}")
        assert norms[-1] == pytest.approx(float(np.sqrt(np.sum(p.grad.data.astype(np.float64) ** 2))), rel=1e-6)
        assert np.all(norms > 0)


def test_fit_without_writer_is_unchanged_and_a_wrong_writer_is_refused():
    X = np.zeros((4, 1), np.float32)
    model = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="fit: writer must have add_scalar"):
        fit(model, mse_loss, SGD(model.parameters(), lr=0.1), (X, X), epochs=1, progress=False, writer="runs")
    calls = []

    class Recorder:  # any object with add_scalar works (torch's SummaryWriter too)
        def add_scalar(self, tag, value, step):
            calls.append((tag, step))

    fit(model, mse_loss, SGD(model.parameters(), lr=0.1), (X, X), epochs=2, progress=False, writer=Recorder())
    assert ("loss/train", 1) in calls and ("loss/train", 2) in calls and ("grad_norm/weight", 2) in calls


# ───────────── without the extra ─────────────


def test_a_missing_tensorboard_names_the_extra(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "tensorboard" or m.startswith("tensorboard.")] + ["tensorboard"]:
        monkeypatch.setitem(sys.modules, name, None)  # `import tensorboard...` now raises ImportError, loaded or not
    with pytest.raises(
        ImportError, match=r"nn\.SummaryWriter needs the tensorboard package: pip install 'gradwire\[tensorboard\]'"
    ):
        nn.SummaryWriter(tmp_path)
    assert not list(tmp_path.iterdir())


def test_import_nn_does_not_import_tensorboard():
    code = (
        "import sys\n"
        "import nn\n"
        "loaded = ['tensorboard' in sys.modules, 'nn.tensorboard' in sys.modules]\n"
        "from nn import *\n"
        "assert SummaryWriter is nn.SummaryWriter and SummaryWriter.__module__ == 'nn.tensorboard'\n"
        "loaded.append('tensorboard' in sys.modules)\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[False, False, False]"


# ───────────── a demo log directory, and a real server ─────────────


def write_demo_logdir(log_dir: str | Path, epochs: int = 60) -> None:
    """Write a small run that fills every TensorBoard tab the writer knows, for a look or a screenshot.

    A 3-class spiral classifier trained with `fit` (loss, accuracy, learning rate and gradient norms per
    epoch), its graph, weight and gradient histograms every epoch, a picture of its gradient graph (when
    a Graphviz renderer is found), a config text and an ``add_scalars`` chart.

    Args:
        log_dir: where to write; the run is ``<log_dir>/spirals``.
        epochs: how long to train.
    """
    from autograd import viz

    X, y = nn.datasets.spirals(n_per_class=60, n_classes=3, rng=np.random.default_rng(0))
    (X_train, y_train), (X_val, y_val) = nn.train_val_split((X, y), val_fraction=0.25, rng=np.random.default_rng(1))
    model = nn.MLP([2, 64, 64, 3], activation="tanh", rng=np.random.default_rng(2))
    optimizer = Adam(model.parameters(), lr=0.05)
    scheduler = StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.5)
    with nn.SummaryWriter(Path(log_dir) / "spirals") as writer:
        writer.add_text(
            "config", f"MLP [2, 64, 64, 3], tanh; Adam lr 0.05, halved every {epochs // 3} epochs; **{epochs} epochs**"
        )
        writer.add_graph(model, X_train[:8])

        def histograms(epoch: int, history: nn.History) -> None:
            for name, p in model.named_parameters():
                writer.add_histogram(f"weights/{name}", p, epoch)
                if p.grad is not None:
                    writer.add_histogram(f"grads/{name}", p.grad, epoch)
            writer.add_scalars("loss", {"train": history.train_loss[-1], "val": history.val_loss[-1]}, epoch)

        fit(
            model,
            cross_entropy,
            optimizer,
            (X_train, y_train),
            epochs=epochs,
            val_data=(X_val, y_val),
            batch_size=16,
            metric="accuracy",
            scheduler=scheduler,
            rng=np.random.default_rng(3),
            progress=False,
            on_epoch_end=histograms,
            writer=writer,
        )
        if viz.find_renderer() is not None:
            loss = cross_entropy(model(ag.Tensor(X_train)), y_train)
            recorder = viz.trace_gradients(loss)
            loss.backward()
            png = viz.draw_graph(loss, model, grads=recorder, title="gradients after training").pipe(format="png")
            writer.add_image("gradient_graph", png, epochs)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch_json(port: int, route: str, **params: str):
    url = f"http://127.0.0.1:{port}{route}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_a_real_tensorboard_server_serves_what_was_written(tmp_path, tb):
    from google.protobuf import text_format
    from tensorboard.compat.proto.graph_pb2 import GraphDef

    write_demo_logdir(tmp_path, epochs=3)
    expected = series(accumulator(tmp_path / "spirals"), "loss/train")[1]
    port = free_port()
    log = (tmp_path / "tensorboard.log").open("w")
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(tmp_path), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--load_fast=false", "--reload_interval", "1"]
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_WAIT_S
        scalars = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                scalars = fetch_json(port, "/data/plugin/scalars/scalars", run="spirals", tag="loss/train")
            except OSError:  # not listening yet, or the run not loaded yet (HTTP 400)
                scalars = None
            if scalars:
                break
            time.sleep(0.25)
        assert scalars, (
            f"TensorBoard did not serve the scalars within {SERVER_WAIT_S} s: "
            + (tmp_path / "tensorboard.log").read_text()[-2000:]
        )
        assert [step for _, step, _ in scalars] == [1, 2, 3]
        assert [value for _, _, value in scalars] == pytest.approx([float(v) for v in expected])
        lr = fetch_json(port, "/data/plugin/scalars/scalars", run="spirals", tag="lr/group_0")
        assert [value for _, _, value in lr] == pytest.approx([0.05, 0.025, 0.0125])  # StepLR halves it each epoch
        tags = fetch_json(port, "/data/plugin/scalars/tags")["spirals"]
        assert {"loss/train", "loss/val", "accuracy/train", "accuracy/val", "grad_norm/layers.0.weight"} <= set(tags)
        assert set(fetch_json(port, "/data/runs")) >= {"spirals", "spirals/loss_train", "spirals/loss_val"}
        url = f"http://127.0.0.1:{port}/data/plugin/graphs/graph?run=spirals"
        with urllib.request.urlopen(url, timeout=5) as response:
            graph = text_format.Parse(response.read().decode(), GraphDef())
        names = {node.name for node in graph.node}
        assert {"MLP/layers/0/linear", "MLP/layers/4/linear", "MLP/layers/0/weight"} <= names
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "runs/demo"
    write_demo_logdir(target)
    print(f"wrote {target}; view it with: tensorboard --logdir {target}")
