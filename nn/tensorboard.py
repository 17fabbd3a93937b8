"""`SummaryWriter`: TensorBoard event files from gradwire, with PyTorch's ``torch.utils.tensorboard`` API.

    from nn import SummaryWriter
    with SummaryWriter("runs/mlp") as writer:
        writer.add_graph(model, x)                     # the Graphs tab: ops grouped by module
        for step in range(100):
            ...
            writer.add_scalar("loss/train", loss.item(), step)
            writer.add_histogram("weights/layers.0", model.layers[0].weight, step)
    # then: tensorboard --logdir runs

``fit(..., writer=writer)`` (`nn.train.fit`) logs losses, metrics, learning rates and gradient
norms every epoch. Everything is written with the ``tensorboard`` package's own event-file writer,
protobufs and summary helpers (no TensorFlow needed); it is the optional extra
``pip install 'gradwire[tensorboard]'`` and is imported when a writer is made, not by ``import nn``.
Images are encoded with Pillow, which ``tensorboard`` depends on.
"""

from __future__ import annotations

import io
import operator
import os
import socket
import time
import types
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from autograd import Tensor, enable_grad

from .module import Module

__all__ = ["SummaryWriter"]

_MISSING_EXTRA = "nn.SummaryWriter needs the tensorboard package: pip install 'gradwire[tensorboard]'"


def _import_tensorboard() -> types.SimpleNamespace:
    """The parts of the ``tensorboard`` package (and Pillow) the writer uses, imported now.

    Returns:
        A namespace of modules and functions.

    Raises:
        ImportError: naming the ``gradwire[tensorboard]`` extra, when ``tensorboard`` is missing.
    """
    try:
        import PIL.Image
        from tensorboard.compat.proto import (
            attr_value_pb2,
            event_pb2,
            graph_pb2,
            node_def_pb2,
            summary_pb2,
            tensor_shape_pb2,
            versions_pb2,
        )
        from tensorboard.plugins.histogram import metadata as histogram_metadata
        from tensorboard.plugins.histogram.summary_v2 import DEFAULT_BUCKET_COUNT
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb
        from tensorboard.plugins.text.summary_v2 import text_pb
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        from tensorboard.util import tensor_util
    except ImportError as exc:
        raise ImportError(f"{_MISSING_EXTRA} ({exc})") from exc
    return types.SimpleNamespace(
        Image=PIL.Image,
        attr_value_pb2=attr_value_pb2,
        event_pb2=event_pb2,
        graph_pb2=graph_pb2,
        node_def_pb2=node_def_pb2,
        summary_pb2=summary_pb2,
        tensor_shape_pb2=tensor_shape_pb2,
        versions_pb2=versions_pb2,
        histogram_metadata=histogram_metadata,
        DEFAULT_BUCKET_COUNT=DEFAULT_BUCKET_COUNT,
        scalar_pb=scalar_pb,
        text_pb=text_pb,
        EventFileWriter=EventFileWriter,
        tensor_util=tensor_util,
    )


# ───────────── checking and converting arguments ─────────────


def _check_tag(tag: Any, fn: str, what: str = "tag") -> str:
    """``tag``, once it is known to be a non-empty str."""
    if not isinstance(tag, str) or not tag:
        raise TypeError(f"{fn}: {what} must be a non-empty str, got {tag!r}")
    return tag


def _step(global_step: Any, fn: str) -> int:
    """The event's step: 0 for None (as PyTorch), else an integer."""
    if global_step is None:
        return 0
    try:
        return operator.index(global_step)
    except TypeError:
        raise TypeError(f"{fn}: global_step must be an int or None, got {global_step!r}") from None


def _walltime(walltime: Any) -> float:
    """The event's time in seconds since the epoch: now for None."""
    return time.time() if walltime is None else float(walltime)


def _array(values: Any) -> np.ndarray:
    """The ndarray behind a Tensor, array or numbers."""
    return values.data if isinstance(values, Tensor) else np.asarray(values)


def _scalar(value: Any, fn: str, tag: str) -> float:
    """One number from a Python number, a one-element array or a one-element Tensor."""
    array = _array(value)
    if array.size != 1 or array.dtype.kind not in "biuf":
        raise ValueError(
            f"{fn}: the value for {tag!r} must be a single real number, got {array.dtype} of shape {array.shape}"
        )
    return float(array.reshape(()))


def _histogram_buckets(values: np.ndarray, bins: Any, default_count: int) -> np.ndarray:
    """``(k, 3)`` rows of (left edge, right edge, count), TensorBoard's histogram layout.

    ``"tensorflow"`` gives what TensorBoard's ``histogram_pb`` writes: ``default_count``
    equal-width buckets from the minimum to the maximum (a constant array: all values in the
    last bucket, whose edges are that value). The counting is ``np.histogram``'s, not a call of
    ``histogram_pb``, which builds a values-by-buckets table (30 bytes a value: 1 GB for a
    35M-weight embedding). Any other ``bins`` goes to ``np.histogram`` as it is.
    """
    if isinstance(bins, str) and bins == "tensorflow":
        low, high = float(values.min()), float(values.max())
        if low == high:
            rows = np.full((default_count, 3), low)
            rows[:, 2] = 0.0
            rows[-1, 2] = values.size
            return rows
        counts, edges = np.histogram(values, bins=default_count, range=(low, high))
    else:
        counts, edges = np.histogram(values, bins=bins)
    return np.stack([edges[:-1], edges[1:], counts.astype(np.float64)], axis=1)


def _to_hwc(array: np.ndarray, dataformats: str, fn: str) -> np.ndarray:
    """An image array in ``dataformats`` (any order of H, W and optionally C) as ``(H, W)`` or ``(H, W, C)``."""
    order = dataformats.upper() if isinstance(dataformats, str) else ""
    if sorted(order) not in (["H", "W"], ["C", "H", "W"]):
        raise ValueError(
            f"{fn}: dataformats must be an order of 'CHW' or 'HW' (such as 'CHW', 'HWC'), got {dataformats!r}"
        )
    if array.ndim != len(order):
        raise ValueError(f"{fn}: dataformats {dataformats!r} needs a {len(order)}-d image, got shape {array.shape}")
    target = "HWC" if "C" in order else "HW"
    array = np.transpose(array, [order.index(axis) for axis in target])
    if array.ndim == 3:
        if array.shape[2] == 1:
            array = array[:, :, 0]
        elif array.shape[2] not in (3, 4):
            raise ValueError(f"{fn}: an image needs 1, 3 or 4 channels, got {array.shape[2]} (shape {array.shape})")
    return array


def _to_uint8(array: np.ndarray, fn: str) -> np.ndarray:
    """Pixel values as uint8: uint8 as they are, anything else read as [0, 1] and scaled by 255 (as PyTorch)."""
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: image values must be numbers, got dtype {array.dtype}")
    scaled = np.nan_to_num(array.astype(np.float64) * 255.0, nan=0.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


# ───────────── the graph ─────────────

_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def _clean(segment: str) -> str:
    """One part of a node name, with only the characters TensorFlow allows in names (others become ``_``)."""
    return "".join(c if c in _NAME_CHARS else "_" for c in segment) or "_"


def _as_args(input_to_model: Any) -> tuple:
    """The positional arguments of the traced call: a tuple or list is several, None is none."""
    if input_to_model is None:
        return ()
    if isinstance(input_to_model, (tuple, list)):
        return tuple(input_to_model)
    return (input_to_model,)


def _traced_input(value: Any) -> Any:
    """A floating-point input as a fresh leaf that requires grad, so that the graph shows it."""
    if isinstance(value, Tensor):
        if value.requires_grad or value.data.dtype.kind != "f":
            return value
        return Tensor(value.data, requires_grad=True, name=value.name)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return Tensor(value, requires_grad=True)
    return value


def _output_tensors(output: Any) -> list[Tensor]:
    """The recorded tensors among a model's outputs (a Tensor, or a tuple, list or dict of them)."""
    if isinstance(output, Mapping):
        items = list(output.values())
    elif isinstance(output, (tuple, list)):
        items = list(output)
    else:
        items = [output]
    return [t for t in items if isinstance(t, Tensor) and t.requires_grad]


class _Namer:
    """Unique TensorFlow node names: ``scope/base``, then ``scope/base_1``, ``scope/base_2``, ..."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, scope: list[str], base: str) -> str:
        stem = "/".join([*scope, _clean(base)])
        name, k = stem, 0
        while name in self.used:
            k += 1
            name = f"{stem}_{k}"
        self.used.add(name)
        return name


class _ScopePaths:
    """The name scope of each node: the module calls around it, ``MLP/layers/0``.

    Everything the model made starts with its class name (``root``); each module call inside
    adds its name relative to the module call around it (``layers``, then ``0``; a module
    called directly by the model's forward adds its full name, ``blocks.0``). Modules outside
    the model are named by class (``Linear``, ``Linear_1``, ...).
    """

    def __init__(self, graph: Any, root: list[str]) -> None:
        self.graph = graph
        self.root = root
        self.paths: dict[int, list[str]] = {}
        self.unnamed: dict[int, str] = {}  # module id -> its segment, for modules the model does not name
        self.kinds: Counter = Counter()

    def of(self, scope: Any) -> list[str]:
        """The scope path of a node whose innermost module call is ``scope`` (None: the model's own code)."""
        if scope is None or scope.frame:  # the model's own call is not recorded when it returns a tuple
            return self.root
        path = self.paths.get(id(scope))
        if path is None:
            path = [*self.of(scope.parent), self._segment(scope)]
            self.paths[id(scope)] = path
        return path

    def _segment(self, scope: Any) -> str:
        names = self.graph.module_names
        full = names.get(id(scope.owner))
        if not full:
            segment = self.unnamed.get(id(scope.owner))
            if segment is None:
                taken = self.kinds[scope.kind]
                self.kinds[scope.kind] += 1
                segment = _clean(scope.kind) + (f"_{taken}" if taken else "")
                self.unnamed[id(scope.owner)] = segment
            return segment
        outer = scope.parent
        prefix = names.get(id(outer.owner)) if outer is not None and not outer.frame else None
        if prefix and full.startswith(prefix + "."):
            full = full[len(prefix) + 1 :]
        return _clean(full)


def _graph_def(tb: types.SimpleNamespace, roots: list[Tensor], model: Any) -> Any:
    """The graph behind ``roots`` as a TensorBoard ``GraphDef``, read with `autograd.viz`'s graph reader."""
    from autograd.viz.layout import _drawn
    from autograd.viz.reader import _as_roots, _Graph

    params = model if hasattr(model, "named_parameters") else None
    graph = _Graph(_as_roots(roots), params, None)
    scopes = _ScopePaths(graph, [_clean(type(model).__name__)] if isinstance(model, Module) else [])
    namer = _Namer()
    attr = tb.attr_value_pb2.AttrValue

    def attrs(shape: tuple | None, dtype: str | None, module: str | None) -> dict[str, Any]:
        if shape is None:
            proto = tb.tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
        else:
            dims = [tb.tensor_shape_pb2.TensorShapeProto.Dim(size=int(n)) for n in shape]
            proto = tb.tensor_shape_pb2.TensorShapeProto(dim=dims)
        out = {"_output_shapes": attr(list=attr.ListValue(shape=[proto]))}
        if dtype is not None:
            out["dtype"] = attr(s=dtype.encode())
        if module is not None:
            out["module"] = attr(s=module.encode())
        return out

    names: list[str] = [""] * len(graph.nodes)
    nodes = []
    for i in reversed(range(len(graph.nodes))):  # inputs before the ops that use them
        node = graph.nodes[i]
        scope = graph.inner[i]
        shape, dtype = graph.shape_dtype(i)
        module = None if scope is None else scope.kind
        if node.is_leaf and not graph.is_param(i):
            op, base, path = "Input", getattr(graph.tensors[i], "name", None) or "input", []
        elif node.is_leaf:
            op, base, path = "Parameter", graph.leaf_name(i, _drawn(scope)), scopes.of(scope)
        else:
            op, base, path = node.name, node.name, scopes.of(scope)
        names[i] = namer(path, base)
        nodes.append(
            tb.node_def_pb2.NodeDef(
                name=names[i],
                op=op,
                input=[names[j] for j in graph.parents[i]],
                attr=attrs(shape, dtype, module),
            )
        )
    root_index = {id(graph.tensors[i]): i for i in graph.root_ids}
    for t in roots:
        i = root_index[id(t)]
        shape, dtype = graph.shape_dtype(i)
        nodes.append(
            tb.node_def_pb2.NodeDef(
                name=namer([], "output"), op="Output", input=[names[i]], attr=attrs(shape, dtype, None)
            )
        )
    return tb.graph_pb2.GraphDef(node=nodes, versions=tb.versions_pb2.VersionDef(producer=22))


# ───────────── the writer ─────────────


class SummaryWriter:
    """Write TensorBoard event files: scalars, histograms, images, text and the model's graph.

    PyTorch's ``torch.utils.tensorboard.SummaryWriter``: the same constructor and method names,
    argument order and defaults, so code and habits carry over. Events are queued and written by
    a background thread every ``flush_secs`` or when ``max_queue`` are pending; `flush` writes
    them now, `close` (or leaving a ``with`` block) writes and closes the files. Adding after
    `close` opens a new event file in the same directory, as PyTorch does.

    Args:
        log_dir: the directory of this run; None makes ``runs/<date>_<time>_<hostname><comment>``.
        comment: appended to the default ``log_dir``; ignored when ``log_dir`` is given.
        purge_step: after a crash, resume at this step: TensorBoard hides the events at this step
            and later that earlier event files in ``log_dir`` hold.
        max_queue: the most events held in memory before they are written.
        flush_secs: how often, in seconds, pending events are written.
        filename_suffix: appended to the event file names.

    Raises:
        ImportError: when the ``tensorboard`` package is missing (``pip install 'gradwire[tensorboard]'``).
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        self._tb = _import_tensorboard()
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self.purge_step = None if purge_step is None else _step(purge_step, "SummaryWriter")
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self._writers: dict[str, Any] = {}
        self._purged: set[str] = set()
        self._writer(self.log_dir)

    def __repr__(self) -> str:
        return f"SummaryWriter(log_dir={self.log_dir!r})"

    def get_logdir(self) -> str:
        """The directory this writer writes its event files to.

        Returns:
            ``log_dir`` as a string.
        """
        return self.log_dir

    def _writer(self, directory: str) -> Any:
        """The event-file writer of ``directory`` (the run, or an `add_scalars` sub-run), opened on first use."""
        writer = self._writers.get(directory)
        if writer is None:
            tb = self._tb
            writer = tb.EventFileWriter(directory, self.max_queue, self.flush_secs, self.filename_suffix)
            if self.purge_step is not None and directory not in self._purged:
                # As PyTorch: a SessionLog START at purge_step. TensorBoard's loader takes the first START
                # of a run for its beginning and purges only on a later one (tensorflow/tensorboard#4743),
                # so a run first written without purge_step needs two; a second purges nothing more.
                # Once per directory: a writer reopened after close() must not purge its own events.
                self._purged.add(directory)
                start = tb.event_pb2.SessionLog(status=tb.event_pb2.SessionLog.START)
                for _ in range(2):
                    writer.add_event(tb.event_pb2.Event(step=self.purge_step, session_log=start))
            self._writers[directory] = writer
        return writer

    def _add(self, summary: Any, global_step: Any, walltime: Any, fn: str, directory: str | None = None) -> None:
        event = self._tb.event_pb2.Event(summary=summary, step=_step(global_step, fn), wall_time=_walltime(walltime))
        self._writer(directory or self.log_dir).add_event(event)

    def add_scalar(
        self, tag: str, scalar_value: Any, global_step: int | None = None, walltime: float | None = None
    ) -> None:
        """Add one number to the chart ``tag`` (the Scalars tab).

        Args:
            tag: the chart's name; the part before the first ``/`` is its section (``loss/train``).
            scalar_value: a number, or a one-element array or Tensor.
            global_step: the x value (0 when None).
            walltime: seconds since the epoch (now when None).

        Raises:
            ValueError: when ``scalar_value`` is not one real number.
        """
        _check_tag(tag, "add_scalar")
        value = _scalar(scalar_value, "add_scalar", tag)
        self._add(self._tb.scalar_pb(tag, np.float32(value)), global_step, walltime, "add_scalar")

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: Mapping[str, Any],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Add several numbers to one chart, ``main_tag``: one line for each key.

        As in PyTorch, each key gets its own run, the sub-directory ``<log_dir>/<main_tag>_<key>``
        (``/`` in ``main_tag`` becomes ``_``), and each value is written there under ``main_tag``.

        Args:
            main_tag: the chart's name.
            tag_scalar_dict: ``{line name: number}``.
            global_step: the x value (0 when None).
            walltime: seconds since the epoch (now when None).

        Raises:
            TypeError: when ``tag_scalar_dict`` is not a mapping of names to numbers.
        """
        _check_tag(main_tag, "add_scalars", "main_tag")
        if not isinstance(tag_scalar_dict, Mapping):
            raise TypeError(
                f"add_scalars: tag_scalar_dict must be a dict of name -> number, got {type(tag_scalar_dict).__name__}"
            )
        walltime = _walltime(walltime)
        for key, scalar_value in tag_scalar_dict.items():
            _check_tag(key, "add_scalars", "each key of tag_scalar_dict")
            value = _scalar(scalar_value, "add_scalars", f"{main_tag}/{key}")
            directory = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{key}")
            self._add(self._tb.scalar_pb(main_tag, np.float32(value)), global_step, walltime, "add_scalars", directory)

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: int | None = None,
        bins: str | int | Sequence[float] = "tensorflow",
        walltime: float | None = None,
    ) -> None:
        """Add the distribution of ``values`` (weights, gradients, activations) at one step (the Histograms tab).

        Args:
            tag: the histogram's name.
            values: a Tensor (its ``.data``; for a gradient pass ``p.grad``), an ndarray or numbers,
                of any shape; they are flattened.
            global_step: the step (0 when None).
            bins: ``"tensorflow"``, TensorBoard's own buckets (30 of equal width from the minimum to
                the maximum, as its ``histogram_pb``); or anything ``np.histogram`` takes: a count,
                a rule such as ``"auto"`` or ``"fd"``, or the bucket edges (values outside them are
                dropped).
            walltime: seconds since the epoch (now when None).

        Raises:
            TypeError: when ``values`` are not real numbers.
            ValueError: when ``values`` is empty, holds NaN or inf, or ``bins`` is not understood.
        """
        _check_tag(tag, "add_histogram")
        array = _array(values)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"add_histogram: values for {tag!r} must be real numbers, got dtype {array.dtype}")
        array = array.astype(np.float64).ravel()
        if array.size == 0:
            raise ValueError(f"add_histogram: the values for {tag!r} are empty")
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        if bad:
            raise ValueError(f"add_histogram: {bad} of the {array.size} values for {tag!r} are NaN or inf")
        tb = self._tb
        try:
            buckets = _histogram_buckets(array, bins, tb.DEFAULT_BUCKET_COUNT)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"add_histogram: bins must be 'tensorflow' or what np.histogram takes, got {bins!r} ({exc})"
            ) from exc
        summary = tb.summary_pb2.Summary()
        summary.value.add(
            tag=tag,
            metadata=tb.histogram_metadata.create_summary_metadata(display_name=None, description=None),
            tensor=tb.tensor_util.make_tensor_proto(buckets, dtype=np.float64),
        )
        self._add(summary, global_step, walltime, "add_histogram")

    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """Add a picture (the Images tab): pixels, or a PNG file or PNG bytes.

        Pixels (a Tensor or ndarray) are laid out as ``dataformats`` says: ``"CHW"`` (the default,
        as PyTorch), ``"HWC"``, ``"HW"`` or another order of those letters, with 1 (grey), 3 (RGB)
        or 4 (RGBA) channels. uint8 values are used as they are; other values are read as [0, 1]
        and scaled by 255.

        A ``str`` or path names an image file, and ``bytes`` are an encoded image; PNG is kept as
        it is, other formats Pillow reads are converted to PNG. The gradient graph drawn by
        `autograd.viz.draw_graph` goes in as PNG bytes::

            writer.add_image("graph", draw_graph(loss, model, grads=rec).pipe(format="png"), step)

        Args:
            tag: the image's name.
            img_tensor: the pixels, a file path, or encoded image bytes.
            global_step: the step (0 when None).
            walltime: seconds since the epoch (now when None).
            dataformats: the axis order of pixel arrays (ignored for files and bytes).

        Raises:
            ValueError: for a shape that does not fit ``dataformats``, or bytes that are no image.
        """
        _check_tag(tag, "add_image")
        tb = self._tb
        if isinstance(img_tensor, (str, os.PathLike)):
            with open(img_tensor, "rb") as f:
                img_tensor = f.read()
        if isinstance(img_tensor, (bytes, bytearray, memoryview)):
            encoded = bytes(img_tensor)
            try:
                image = tb.Image.open(io.BytesIO(encoded))
            except Exception as exc:  # Pillow raises UnidentifiedImageError and others
                raise ValueError(f"add_image: the bytes for {tag!r} are not an image Pillow can read ({exc})") from exc
            if image.format != "PNG":
                buffer = io.BytesIO()
                image.save(buffer, format="PNG")
                encoded = buffer.getvalue()
        else:
            pixels = _to_uint8(_to_hwc(_array(img_tensor), dataformats, "add_image"), "add_image")
            image = tb.Image.fromarray(pixels)
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            encoded = buffer.getvalue()
        width, height = image.size
        proto = tb.summary_pb2.Summary.Image(
            height=height, width=width, colorspace=len(image.getbands()), encoded_image_string=encoded
        )
        summary = tb.summary_pb2.Summary(value=[tb.summary_pb2.Summary.Value(tag=tag, image=proto)])
        self._add(summary, global_step, walltime, "add_image")

    def add_text(
        self, tag: str, text_string: str, global_step: int | None = None, walltime: float | None = None
    ) -> None:
        """Add a text (Markdown) to the Text tab.

        Args:
            tag: the text's name.
            text_string: the text; TensorBoard renders it as Markdown.
            global_step: the step (0 when None).
            walltime: seconds since the epoch (now when None).

        Raises:
            TypeError: when ``text_string`` is not a str.
        """
        _check_tag(tag, "add_text")
        if not isinstance(text_string, str):
            raise TypeError(f"add_text: text_string must be a str, got {type(text_string).__name__}")
        self._add(self._tb.text_pb(tag, text_string), global_step, walltime, "add_text")

    def add_graph(self, model: Any, input_to_model: Any = None) -> None:
        """Record one forward of ``model(input_to_model)`` and write its graph for the Graphs tab.

        Every recorded op becomes a node whose ``op`` is the op's name (``linear``, ``tanh``);
        parameters are ``Parameter`` nodes named as in the model, inputs ``Input`` nodes and each
        output an ``Output`` node. Node names are scoped by the module calls that made them
        (``MLP/layers/0/linear``, ``MLP/layers/0/weight``: the scopes `nn.Module.__call__`
        records, read as `autograd.viz` reads them), so the Graphs tab shows one box per module
        to open. Each node has its output shape (``_output_shapes``), ``dtype`` and, inside a
        module, the ``module`` class as attributes. Floating-point inputs are traced as leaves
        that require grad, so that they show in the graph; the model runs in its current mode.

        Args:
            model: an `nn.Module` (or any callable; then nothing is named by module).
            input_to_model: the input; a tuple or list is several positional inputs.

        Raises:
            ValueError: when the model's output has no recorded graph (it is not a Tensor, or
                does not depend on anything that requires grad).
        """
        args = tuple(_traced_input(a) for a in _as_args(input_to_model))
        recording = Module.record_scopes
        Module.record_scopes = True
        try:
            with enable_grad():
                output = model(*args)
        finally:
            Module.record_scopes = recording
        roots = _output_tensors(output)
        if not roots:
            raise ValueError(
                f"add_graph: model(input_to_model) returned {type(output).__name__} with no recorded graph; "
                "the output must be a Tensor (or a tuple, list or dict of them) computed from parameters "
                "or inputs that require grad"
            )
        graph = _graph_def(self._tb, roots, model)
        event = self._tb.event_pb2.Event(graph_def=graph.SerializeToString(), wall_time=time.time())
        self._writer(self.log_dir).add_event(event)

    def flush(self) -> None:
        """Write every pending event to disk now (this run and its `add_scalars` sub-runs)."""
        for writer in self._writers.values():
            writer.flush()

    def close(self) -> None:
        """Write pending events and close the event files; safe to call twice."""
        writers, self._writers = self._writers, {}
        for writer in writers.values():
            writer.flush()
            writer.close()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
