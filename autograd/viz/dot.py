"""DOT text: `to_dot`, and the lines inside the ``digraph`` that `draw_graph` renders.

Boxes become HTML-labelled nodes, module calls nested ``subgraph cluster_...`` blocks (in the
order of `_walk`), and the gradient colour scale a legend.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from ..tensor import Tensor
from .layout import _arrows, _Item, _plan, _Step, _View, _walk
from .reader import _Graph, _Scope
from .recorder import GradientRecorder
from .style import CLUSTER_COLORS, GRAD_PALETTE, NAN_COLOR, ZERO_COLOR, _Look, _num, _Styler

_FONT = "Helvetica"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _html_label(look: _Look) -> str:
    title = html.escape(look.lines[0])
    rest = "".join(
        f'<br/><font point-size="9" color="{look.sub}">{html.escape(line)}</font>' for line in look.lines[1:]
    )
    return f'<<font color="{look.text}"><b>{title}</b></font>{rest}>'


def _dot_node(item: _Item, look: _Look) -> str:
    """One box as a DOT node statement."""
    return (
        f"{item.id} [label={_html_label(look)} shape={look.shape} style={_quote(look.style)} "
        f'fillcolor="{look.fill}" color="{look.border}" penwidth={look.penwidth} class="{look.css}" '
        f"tooltip={_quote(look.tooltip)}]\n"
    )


def _dot_cluster(scope: _Scope, indent: str) -> str:
    """The opening of a module call's cluster: ``subgraph "cluster_..." {`` and its label and colours."""
    fill = CLUSTER_COLORS[min(scope.depth - 1, len(CLUSTER_COLORS) - 1)]
    kind = f' <font color="#5f6b7a">{html.escape(scope.kind)}</font>' if scope.kind != scope.name else ""
    return (
        f"{indent}subgraph {_quote('cluster_' + scope.name)} {{\n"
        f'{indent}  label=<<b>{html.escape(scope.name)}</b>{kind}> labeljust=l fontsize=11 style="rounded,filled" '
        f'fillcolor="{fill}" color="#9aa8c0" margin=8\n'
    )


def _dot_step(step: _Step, styler: _Styler) -> str:
    """The DOT text of one step of `_walk`."""
    indent = "  " * step.level
    if step.kind == "item":
        return indent + _dot_node(step.item, styler.look(step.item))
    if step.kind == "open":
        return _dot_cluster(step.scope, indent)
    return f"{indent}}}\n"


def _dot_body(
    graph: _Graph,
    view: _View,
    note: str,
    direction: str,
    show_stats: bool,
    legend: bool,
    title: str | None,
) -> list[str]:
    """The lines inside ``digraph { ... }``, each ending in a newline."""
    styler = _Styler(graph, view, show_stats)
    heading = title
    if heading is None:
        model = type(graph.root_module).__name__ + " " if graph.root_module is not None else ""
        what = "gradient graph" if styler.grad_mode else "graph"
        heading = f"{model}{what}: {len(graph.nodes)} nodes"
        if view.depth is not None and not note:
            heading += f", modules at depth {view.depth} collapsed ({len(view.items)} boxes)"
    if any(item.kind == "op" and graph.shape_dtype(item.node)[0] is None for item in view.items):
        note = (note + "; " if note else "") + "shapes of freed nodes unknown: call trace_gradients() before backward"
    label = f"<<b>{html.escape(heading)}</b>" + (
        f'<br/><font point-size="10">{html.escape(note)}</font>' if note else ""
    )
    lines = [
        f'graph [label={label}> labelloc=t fontname="{_FONT}" fontsize=14 rankdir=TB nodesep=0.25 ranksep=0.32 '
        f'newrank=true bgcolor="#ffffff"]\n',
        f'node [fontname="{_FONT}" fontsize=11 margin="0.10,0.05" height=0.3 penwidth=1]\n',
        'edge [color="#5f6b7a" arrowsize=0.6 penwidth=1]\n',
    ]
    lines.extend(_dot_step(step, styler) for step in _walk(view))
    lines.extend(f"{tail} -> {head}\n" for tail, head in _arrows(view, direction))
    if legend and styler.grad_mode and styler.scale is not None:
        lines.append(_legend(styler))
    return lines


def _legend(styler: _Styler) -> str:
    lo, hi = styler.scale
    steps = len(GRAD_PALETTE)
    cells = "".join(f'<td bgcolor="{c}" width="14"> </td>' for c in GRAD_PALETTE)
    return (
        'legend [shape=plaintext fontsize=9 label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
        f'<tr><td colspan="{steps}"><b>|grad| (darker: larger)</b></td></tr><tr>{cells}</tr>'
        f'<tr><td colspan="{steps // 2}" align="left">{_num(10**lo)}</td>'
        f'<td colspan="{steps - steps // 2}" align="right">{_num(10**hi)}</td></tr>'
        f'<tr><td colspan="3" bgcolor="{NAN_COLOR}"><font color="#ffffff">NaN/inf</font></td>'
        f'<td colspan="3" bgcolor="{ZERO_COLOR}">zero</td><td colspan="3" style="dashed">no grad</td></tr>'
        "</table>>]\n"
    )


def to_dot(
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
) -> str:
    """The graph behind ``root`` as Graphviz DOT text (needs no Graphviz).

    Args:
        root: the output tensor (a loss), or several.
        params: a module (names its parameters and module clusters, e.g. ``blocks.0.attn``) or a
            dict of name -> Tensor (names leaves only).
        grads: a `GradientRecorder` from `trace_gradients`, made before backward: gives every
            node's gradient norm and shape after backward. Without it, only leaves' ``.grad``
            is shown, and interior shapes only while the graph is unfreed.
        direction: "backward" draws edges the way gradient messages travel (from the root to
            the leaves); "forward" the way values flow.
        max_depth: draw module calls at this depth as single boxes (1: the model's children,
            e.g. ``blocks.0``; 0: the model passed in); None draws every node.
        max_nodes: with ``max_depth=None``, collapse to the deepest level that fits this many
            boxes, summarising long chains if needed (the graph's label says so); None: never.
        show_stats: add min/mean/max of values and gradients to each label.
        legend: draw the colour legend (when gradients are known).
        title: the graph's label (default: model, node count and what was collapsed).
        name: the DOT graph name.

    Returns:
        DOT source text.
    """
    graph, view, note = _plan(root, params, grads, direction, max_depth, max_nodes)
    body = _dot_body(graph, view, note, direction, show_stats, legend, title)
    head = (
        name
        if name.isidentifier() and name.lower() not in ("graph", "digraph", "subgraph", "node", "edge", "strict")
        else _quote(name)
    )
    return f"digraph {head} {{\n" + "".join(body) + "}\n"
