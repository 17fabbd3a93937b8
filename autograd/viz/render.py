"""Rendering pictures: finding a renderer (the system Graphviz ``dot``, else ``graphviz-pure``) and `draw_graph`.

The ``graphviz`` Python package is imported only when `draw_graph` first makes a graph.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from ..tensor import Tensor
from .dot import _dot_body
from .layout import _plan
from .recorder import GradientRecorder


class RendererNotFoundError(RuntimeError):
    """Raised when neither the system Graphviz ``dot`` nor ``graphviz-pure`` can be found."""


_NO_RENDERER = (
    "no Graphviz renderer found to draw the graph: gradwire's dependencies install one "
    "(`pip install graphviz-pure`, then it is found next to this Python), or install the system Graphviz "
    "(`apt install graphviz`, `brew install graphviz`, `conda install graphviz`). "
    "to_dot() and to_mermaid() need neither."
)


def find_renderer() -> str | None:
    """The program that turns DOT into pictures: the system Graphviz ``dot``, else ``graphviz-pure``.

    ``graphviz-pure`` (a self-contained port of ``dot``, installed with gradwire) is looked for on
    ``PATH`` and next to the running Python, so a virtual environment works without activation.

    Returns:
        The program's path, or None when there is neither.
    """
    dot = shutil.which("dot")
    if dot:
        return dot
    for directory in (None, sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        found = shutil.which("graphviz-pure", path=directory)
        if found:
            return found
    return None


def _run_renderer(source: str, engine: str, format: str, encoding: str, quiet: bool) -> bytes:
    program = find_renderer()
    if program is None:
        raise RendererNotFoundError(_NO_RENDERER)
    cmd = [program, f"-K{engine}", f"-T{format}"]
    proc = subprocess.run(cmd, input=source.encode(encoding), capture_output=True, check=False)
    if proc.returncode != 0:
        hint = ""
        if Path(program).name.startswith("graphviz-pure"):
            hint = " (graphviz-pure writes svg, png, jpeg, json, dot and plain; install the system Graphviz for pdf)"
        raise RuntimeError(f"{program} -T{format} failed{hint}: {proc.stderr.decode(errors='replace').strip()}")
    if proc.stderr and not quiet:
        sys.stderr.write(proc.stderr.decode(errors="replace"))
    return proc.stdout


@cache
def _digraph_class() -> type:
    """A ``graphviz.Digraph`` whose ``pipe`` and ``render`` fall back to ``graphviz-pure`` without a system ``dot``."""
    import graphviz

    class GradientGraph(graphviz.Digraph):
        """A ``graphviz.Digraph`` drawn by `find_renderer`'s program when there is no system ``dot``."""

        def pipe(
            self,
            format: str | None = None,
            renderer: str | None = None,
            formatter: str | None = None,
            neato_no_op: bool | int | None = None,
            quiet: bool = False,
            *,
            engine: str | None = None,
            encoding: str | None = None,
        ) -> bytes | str:
            """The picture as bytes (or text, with ``encoding``), as ``graphviz.Digraph.pipe``."""
            if shutil.which("dot"):
                return super().pipe(
                    format=format,
                    renderer=renderer,
                    formatter=formatter,
                    neato_no_op=neato_no_op,
                    quiet=quiet,
                    engine=engine,
                    encoding=encoding,
                )
            fmt = ":".join(f for f in (format or self.format, renderer, formatter) if f)
            data = _run_renderer(self.source, engine or self.engine, fmt, self.encoding, quiet)
            return data.decode(encoding) if encoding is not None else data

        def render(
            self,
            filename: str | os.PathLike | None = None,
            directory: str | os.PathLike | None = None,
            view: bool = False,
            cleanup: bool = False,
            format: str | None = None,
            renderer: str | None = None,
            formatter: str | None = None,
            neato_no_op: bool | int | None = None,
            quiet: bool = False,
            quiet_view: bool = False,
            *,
            outfile: str | os.PathLike | None = None,
            engine: str | None = None,
            raise_if_result_exists: bool = False,
            overwrite_source: bool = False,
        ) -> str:
            """Save the DOT source and write the picture next to it; returns the picture's path.

            As ``graphviz.Digraph.render``: ``render("graph", format="png")`` writes ``graph`` and
            ``graph.png``; ``render(outfile="graph.svg")`` takes the format from the suffix.
            """
            if shutil.which("dot"):
                return super().render(
                    filename,
                    directory=directory,
                    view=view,
                    cleanup=cleanup,
                    format=format,
                    renderer=renderer,
                    formatter=formatter,
                    neato_no_op=neato_no_op,
                    quiet=quiet,
                    quiet_view=quiet_view,
                    outfile=outfile,
                    engine=engine,
                    raise_if_result_exists=raise_if_result_exists,
                    overwrite_source=overwrite_source,
                )
            if outfile is not None:
                outfile = Path(outfile)
                format = format or outfile.suffix.lstrip(".") or self.format
                if filename is None and directory is None:
                    filename = outfile.with_suffix(".gv")
            source_path = Path(self.save(filename, directory=directory))
            if outfile is None:
                format = format or self.format
                outfile = Path(f"{source_path}.{format}")
            if raise_if_result_exists and outfile.exists():
                raise graphviz.FileExistsError(f"output file exists: {os.fspath(outfile)!r}")
            data = self.pipe(
                format=format,
                renderer=renderer,
                formatter=formatter,
                neato_no_op=neato_no_op,
                quiet=quiet,
                engine=engine,
            )
            outfile.parent.mkdir(parents=True, exist_ok=True)
            outfile.write_bytes(data)
            if cleanup:
                source_path.unlink()
            if view or quiet_view:
                graphviz.view(outfile, quiet=quiet_view)
            return os.fspath(outfile)

    return GradientGraph


def draw_graph(
    root: Tensor | Sequence[Tensor],
    params: Any = None,
    *,
    grads: GradientRecorder | None = None,
    direction: str = "backward",
    max_depth: int | None = None,
    max_nodes: int | None = 300,
    show_stats: bool = False,
    legend: bool = True,
    title: str | None = None,
    name: str = "gradwire",
    format: str = "svg",
) -> Any:
    """The graph behind ``root`` as a ``graphviz.Digraph`` (shown inline in Jupyter).

    Takes the arguments of `to_dot`, plus ``format``, the default for ``.render()``. Pictures
    come from the system ``dot`` when installed, else from ``graphviz-pure`` (`find_renderer`).

    Example::

        draw_graph(loss, model, grads=rec).render("loss_graph", format="png")  # writes loss_graph.png

    Returns:
        A ``graphviz.Digraph`` (a subclass whose ``render``/``pipe`` know about ``graphviz-pure``).
    """
    graph, view, note = _plan(root, params, grads, direction, max_depth, max_nodes)
    body = _dot_body(graph, view, note, direction, show_stats, legend, title)
    return _digraph_class()(name=name, body=body, format=format)
