"""An interactive graph page: `to_html` writes one self-contained HTML file (no network, opens as ``file://``).

Module clusters expand and collapse on click, hovering a box shows its shape, dtype and the
statistics of its value and gradient, and NaN/inf boxes are red, as in `to_dot`.

How it is drawn: a layered layout computed here, in Python, and finished by a small inline
script. Pre-rendering with Graphviz cannot serve every mix of open and closed modules (each
cluster doubles the number of pictures), so the layout is made compositional instead: every
module cluster (and the top level) is laid out on its own, its children (boxes and the
clusters directly inside it) put into ranks and ordered to avoid crossings (`_ranks`). That
part does not depend on which clusters are open. The page's script only sizes and places:
a closed cluster is one box, an open one a frame around its own layout, so a click re-places
the page at once, with no layout engine in the browser. The boxes, colours, labels and
gradient colour scale are `to_dot`'s (`_plan`, `_walk` and `_Styler`).
"""

from __future__ import annotations

import heapq
import html
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..tensor import Tensor
from .layout import _arrows, _build_view, _Item, _plan, _View, _walk
from .reader import _Graph, _Scope
from .recorder import GradientRecorder
from .stats import TensorStats
from .style import (
    CLUSTER_COLORS,
    GRAD_PALETTE,
    INPUT_COLOR,
    MODULE_COLOR,
    NAN_COLOR,
    NO_GRAD_COLOR,
    OP_COLOR,
    PARAM_COLOR,
    ROOT_COLOR,
    ZERO_COLOR,
    _Look,
    _num,
    _problems,
    _shape_text,
    _signature,
    _Styler,
)

_SWEEPS = 4  # barycentre passes (down, up, down, up) that order each rank to cut edge crossings


@dataclass
class _Container:
    """The top level of the page or one module cluster: what is laid out inside it."""

    key: str  # "top", or the cluster's id: "c0", "c1", ...
    scope: _Scope | None
    parent: _Container | None
    level: int  # 0 for the top, 1 for a top-level cluster, ...
    children: list[str] = field(default_factory=list)  # box ids ("n5") and cluster ids ("c2"), in walk order
    members: list[int] = field(default_factory=list)  # the nodes inside, at any depth
    links: dict[tuple[str, str], None] = field(default_factory=dict)  # edges between children, as drawn


def _containers(view: _View) -> tuple[dict[str, _Container], dict[str, _Container]]:
    """The cluster tree of a view, read from `_walk`.

    Returns:
        The containers by key ("top" first, then clusters outer before inner) and the
        container of each box, by box id.
    """
    top = _Container("top", None, None, 0)
    containers = {"top": top}
    home: dict[str, _Container] = {}
    stack = [top]
    for step in _walk(view):
        if step.kind == "open":
            cluster = _Container(f"c{len(containers) - 1}", step.scope, stack[-1], stack[-1].level + 1)
            containers[cluster.key] = cluster
            stack[-1].children.append(cluster.key)
            stack.append(cluster)
        elif step.kind == "close":
            stack.pop()
        else:
            stack[-1].children.append(step.item.id)
            home[step.item.id] = stack[-1]
            container: _Container | None = stack[-1]
            while container is not None:
                container.members.append(step.item.node)
                container = container.parent
    return containers, home


def _link(tail: str, a: _Container, head: str, b: _Container) -> None:
    """Record an edge between two boxes in the innermost container holding both, between its children."""
    while a.level > b.level:
        tail, a = a.key, a.parent
    while b.level > a.level:
        head, b = b.key, b.parent
    while a is not b:
        tail, a = a.key, a.parent
        head, b = b.key, b.parent
    a.links[(tail, head)] = None


def _ranks(children: list[str], links: Sequence[tuple[str, str]], key: dict[str, int]) -> list[list[str]]:
    """A layered layout of one container: its children in ranks (top first), each rank in drawing order.

    Each child goes one rank below the lowest of its inputs (longest path), a child with no
    input just above its first consumer; cycles (rare: two sibling clusters feeding each
    other) are broken at the child earliest in ``key``. Ranks are then ordered by barycentre
    sweeps, which keep connected boxes above one another.

    Args:
        children: the ids to place.
        links: edges between them, tail first (the tail is drawn above).
        key: a sort key for each child (its place in the topological order), for ties.

    Returns:
        The ranks, each a list of child ids.
    """
    succ: dict[str, list[str]] = {c: [] for c in children}
    pred: dict[str, list[str]] = {c: [] for c in children}
    for a, b in links:
        succ[a].append(b)
        pred[b].append(a)
    waiting = {c: len(pred[c]) for c in children}
    ready = [(key[c], c) for c in children if not waiting[c]]
    heapq.heapify(ready)
    by_key = sorted(children, key=key.__getitem__)
    rank: dict[str, int] = {}
    order: list[str] = []
    next_forced = 0
    while len(order) < len(children):
        if not ready:  # a cycle: start at its earliest child, ignoring inputs not yet placed
            while by_key[next_forced] in rank:
                next_forced += 1
            heapq.heappush(ready, (key[by_key[next_forced]], by_key[next_forced]))
        _, c = heapq.heappop(ready)
        if c in rank:
            continue
        rank[c] = max((rank[p] + 1 for p in pred[c] if p in rank), default=0)
        order.append(c)
        for s in succ[c]:
            waiting[s] -= 1
            if waiting[s] == 0 and s not in rank:
                heapq.heappush(ready, (key[s], s))
    for c in reversed(order):  # a source sits just above its first consumer, not at the top
        if not pred[c] and succ[c]:
            rank[c] = max(rank[c], min(rank[s] for s in succ[c]) - 1)
    rows: list[list[str]] = [[] for _ in range(max(rank.values(), default=-1) + 1)]
    for c in by_key:
        rows[rank[c]].append(c)
    place = {c: (i + 0.5) / len(row) for row in rows for i, c in enumerate(row)}
    for sweep in range(_SWEEPS):
        down = sweep % 2 == 0
        near = pred if down else succ
        for r in range(1, len(rows)) if down else range(len(rows) - 2, -1, -1):
            row = rows[r]

            def barycentre(c: str, near: dict[str, list[str]] = near) -> float:
                return sum(place[x] for x in near[c]) / len(near[c]) if near[c] else place[c]

            row.sort(key=barycentre)
            place.update((c, (i + 0.5) / len(row)) for i, c in enumerate(row))
    return rows


def _std(stats: TensorStats) -> float | None:
    """The standard deviation, from the norm and the mean (None when some element is NaN or inf)."""
    if not stats.finite or stats.size == 0:
        return None
    return math.sqrt(max(stats.norm**2 / stats.size - stats.mean**2, 0.0))


def _stats_json(stats: TensorStats | None) -> dict[str, Any] | None:
    """The statistics a tooltip shows: numbers as text (NaN and inf have no JSON form), counts as ints."""
    if stats is None:
        return None
    std = _std(stats)
    return {
        "mean": _num(stats.mean),
        "std": _num(std) if std is not None else "n/a",
        "min": _num(stats.min),
        "max": _num(stats.max),
        "norm": _num(stats.norm),
        "nan": stats.nan,
        "posinf": stats.posinf,
        "neginf": stats.neginf,
        "zeros": stats.zeros,
        "size": stats.size,
    }


def _look_json(styler: _Styler, look: _Look) -> dict[str, Any]:
    """How a box is drawn: label lines and colours, from `_Styler` (red whenever it holds NaN or inf)."""
    bad = look.css == "nan"
    fill = NAN_COLOR if bad else look.fill  # `to_dot` paints the root green before backward, even when NaN
    text, sub = styler._text_on(fill) if fill != look.fill else (look.text, look.sub)
    return {
        "lines": look.lines,
        "fill": fill,
        "text": text,
        "sub": sub,
        "border": look.border,
        "width": float(look.penwidth),
        "dashed": "dashed" in look.style,
        "rounded": "rounded" in look.style,
        "bad": bad,
    }


def _hover(graph: _Graph, i: int, title: str, what: str, notes: list[str]) -> dict[str, Any]:
    """A tooltip: node ``i``'s shape, dtype and value and gradient statistics, under a title."""
    shape, dtype = graph.shape_dtype(i)
    value, grad = graph.value(i), graph.grad(i)
    for name, stats in (("value", value), ("gradient", grad)):
        if stats is not None and not stats.finite:
            notes.append(f"{name}: {_problems(stats)}")
    return {
        "title": title,
        "what": what,
        "shape": _shape_text(shape, None) if shape is not None else "unknown (freed by backward)",
        "dtype": dtype or "unknown",
        "value": _stats_json(value),
        "grad": _stats_json(grad),
        "notes": notes,
    }


def _node_json(graph: _Graph, styler: _Styler, item: _Item, cluster: str | None) -> dict[str, Any]:
    """One node's box (its look, the cluster it is drawn in) and its tooltip."""
    i = item.node
    look = styler.look(item)
    node = graph.nodes[i]
    if node.is_leaf:
        what = "parameter" if graph.is_param(i) else "input (leaf tensor)"
    else:
        what = f"op {node.name}"
    notes = []
    if i in graph.root_ids:
        notes.append("root: the tensor drawn from")
    if styler.grad_mode and graph.grad(i) is None:
        notes.append("no gradient reached it" if graph.grad_known(i) else "gradient not recorded (use trace_gradients)")
    if graph.value(i) is None:
        notes.append("value not kept: no tensor held it (any more) when the graph was read")
    return {**_look_json(styler, look), "cluster": cluster, "hover": _hover(graph, i, look.lines[0], what, notes)}


def _cluster_json(
    graph: _Graph, styler: _Styler, container: _Container, ranks: list[list[str]], box: _Item
) -> dict[str, Any]:
    """One cluster: its closed box (``box``'s look), its place in the tree, its layout and its tooltip."""
    scope = container.scope
    look = styler.look(box)
    parent = container.parent
    signature = _signature(graph, scope)
    notes = [line for line in look.lines[1:] if line not in (scope.kind, signature)]
    hover = _hover(
        graph, scope.output, scope.name, f"module {scope.kind}" + (f": {signature}" if signature else ""), notes
    )
    return {
        **_look_json(styler, look),
        "name": scope.name,
        "kind": scope.kind,
        "depth": scope.depth,
        "parent": parent.key if parent is not None and parent.scope is not None else None,
        "ops": sum(1 for i in container.members if not graph.nodes[i].is_leaf),
        "bg": CLUSTER_COLORS[min(container.level - 1, len(CLUSTER_COLORS) - 1)],
        "ranks": ranks,
        "links": list(container.links),
        "hover": hover,
    }


def _page_data(graph: _Graph, view: _View, direction: str, show_stats: bool) -> tuple[dict[str, Any], _Styler]:
    """Everything the page's script draws: boxes, clusters with their ranked layouts, edges."""
    containers, home = _containers(view)
    modules = {
        c.key: _Item(f"m{c.key}", "module", c.parent.scope, scope=c.scope, members=c.members)
        for c in containers.values()
        if c.scope is not None
    }
    # One colour scale over the nodes and the closed modules, so that a box keeps its colour on a click:
    styler = _Styler(graph, _View(view.items + list(modules.values()), [], view.clusters, None), show_stats)
    graph.full_values = True  # every value's statistics, for the tooltips (labels still follow show_stats)
    sign = 1 if direction == "backward" else -1  # rank by the drawn direction: the arrow's tail on top
    key = {item.id: sign * item.node for item in view.items}
    for c in reversed(containers.values()):  # inner clusters first: a cluster sorts with its earliest member
        if c.scope is not None:
            key[c.key] = min(key[child] for child in c.children)
    edges = _arrows(view, direction)
    for tail, head in edges:
        _link(tail, home[tail], head, home[head])
    ranks = {c.key: _ranks(c.children, list(c.links), key) for c in containers.values()}
    nodes = {
        item.id: _node_json(graph, styler, item, home[item.id].key if home[item.id].scope is not None else None)
        for item in view.items
    }
    clusters = {k: _cluster_json(graph, styler, containers[k], ranks[k], box) for k, box in modules.items()}
    top = containers["top"]
    return {
        "nodes": nodes,
        "clusters": clusters,
        "ranks": ranks["top"],
        "links": list(top.links),
        "edges": edges,
    }, styler


def _legend(styler: _Styler) -> str:
    """The legend's HTML: what the colours and shapes mean, and how to use the page."""

    def swatch(color: str, label: str, extra: str = "") -> str:
        return f'<span class="key"><span class="swatch{extra}" style="background:{color}"></span>{label}</span>'

    parts = []
    if styler.grad_mode and styler.scale is not None:
        lo, hi = styler.scale
        cells = "".join(f'<span class="cell" style="background:{c}"></span>' for c in GRAD_PALETTE)
        parts.append(
            f'<span class="key">|grad| <span class="num">{_num(10**lo)}</span><span class="scale">{cells}</span>'
            f'<span class="num">{_num(10**hi)}</span> (darker: larger)</span>'
        )
        parts.append(swatch(ZERO_COLOR, "zero gradient"))
        parts.append(swatch(NO_GRAD_COLOR, "no gradient", " dashed"))
    else:
        parts.extend(
            swatch(color, label)
            for color, label in (
                (OP_COLOR, "op"),
                (PARAM_COLOR, "parameter"),
                (INPUT_COLOR, "input"),
                (ROOT_COLOR, "root"),
            )
        )
    parts.append(swatch(MODULE_COLOR, "closed module (click to open)", " module"))
    parts.append(swatch(NAN_COLOR, "NaN or inf (value or gradient)"))
    return " ".join(parts)


def _script_json(data: dict[str, Any]) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>``, no HTML entities)."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def to_html(
    root: Tensor | Sequence[Tensor],
    path: str | os.PathLike,
    params: Any = None,
    *,
    grads: GradientRecorder | None = None,
    direction: str = "backward",
    max_depth: int | None = None,
    max_nodes: int | None = 300,
    show_stats: bool = False,
    title: str | None = None,
) -> Path:
    """Write the graph behind ``root`` as one interactive, self-contained HTML page.

    The page needs no network and no Graphviz: its script, styles and data are inline and it
    draws the graph as inline SVG, so it opens from disk (``file://``) in any browser. Click a
    closed module (a 3-D box with its name and op count) to open it; click an open module's
    title bar to close it. Hovering a box shows its shape, dtype, and the mean, std, min, max,
    norm and NaN/inf counts of its value and gradient. Boxes are coloured as in `to_dot`.

    Example::

        rec = trace_gradients(loss)
        loss.backward()
        to_html(loss, "graph.html", model, grads=rec)

    Args:
        root: the output tensor (a loss), or several.
        path: the file to write (``.html``).
        params: a module (names parameters and module clusters) or a dict of name -> Tensor.
        grads: a `GradientRecorder` from `trace_gradients`, made before backward: gives every
            node's gradient and value statistics after backward.
        direction: "backward" (edges the way gradients travel, root on top) or "forward".
        max_depth: module calls at this depth start closed (1: the model's children); None
            starts with every module open, unless ``max_nodes`` says otherwise.
        max_nodes: with ``max_depth=None``, start closed at the deepest level that shows at
            most this many boxes (None: start fully open). Every node is in the page either way.
        show_stats: add min/mean/max of values and gradients to the box labels too.
        title: the page's title (default: the model, what the graph is and its size).

    Returns:
        The path written.

    Raises:
        TypeError: ``root`` is not a tensor (a recorder goes in ``grads=``).
        ValueError: a bad ``direction`` or ``max_depth``, or a root without a graph.
    """
    if isinstance(root, GradientRecorder):
        raise TypeError(
            "to_html: pass the output tensor as root and the recorder as grads=, as in to_html(loss, path, grads=rec)"
        )
    graph, chosen, _ = _plan(root, params, grads, direction, max_depth, max_nodes)
    view = chosen if chosen.depth is None and not chosen.summarised else _build_view(graph, None)
    data, styler = _page_data(graph, view, direction, show_stats)
    model = type(graph.root_module).__name__ + " " if graph.root_module is not None else ""
    heading = title or (
        f"{model}{'gradient graph' if styler.grad_mode else 'graph'}: {len(graph.nodes)} nodes, "
        f"{len(data['clusters'])} module calls"
    )
    notes = []
    if chosen.depth is not None and data["clusters"]:
        why = f" (to fit max_nodes={max_nodes})" if max_depth is None else ""
        notes.append(f"Module calls at depth {chosen.depth} start closed{why}.")
    if any(node["hover"]["dtype"] == "unknown" for node in data["nodes"].values()):
        notes.append("Shapes of freed nodes are unknown: call trace_gradients() before backward.")
    data.update(title=heading, initialDepth=chosen.depth, nanColor=NAN_COLOR)
    page = (
        _PAGE.replace("@TITLE@", html.escape(heading))
        .replace("@NOTE@", html.escape(" ".join(notes)))
        .replace("@LEGEND@", _legend(styler))
        .replace("@CSS@", _CSS)
        .replace("@DATA@", _script_json(data))
        .replace("@SCRIPT@", _SCRIPT)
    )
    out = Path(path)
    out.write_text(page, encoding="utf-8")
    return out


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<link rel="icon" href="data:,">
<style>@CSS@</style>
</head>
<body>
<header>
<h1>@TITLE@</h1>
<p class="note">@NOTE@</p>
<div id="toolbar">
<button type="button" id="open-all">Open all modules</button>
<button type="button" id="close-all">Close all modules</button>
<button type="button" id="reset">Reset</button>
<span id="count"></span>
</div>
<div id="legend">@LEGEND@</div>
<p class="help">Click a closed module to open it, an open module's title bar to close it.
Hover a box for its shape, dtype and the statistics of its value and gradient.</p>
</header>
<noscript><p>This page draws the graph with JavaScript: allow scripts for it.</p></noscript>
<main id="canvas"><svg id="graph" role="img" aria-label="@TITLE@"></svg></main>
<div id="tip" role="tooltip"></div>
<script type="application/json" id="graph-data">@DATA@</script>
<script>@SCRIPT@</script>
</body>
</html>
"""

_CSS = """
body { margin: 0; font: 13px Helvetica, Arial, sans-serif; color: #1d2430; background: #ffffff; }
header { padding: 10px 16px 6px; border-bottom: 1px solid #d6dfee; background: #f6f8fc; }
h1 { font-size: 17px; margin: 0 0 4px; }
.note, .help { margin: 2px 0; color: #4a5568; }
.help { font-size: 12px; }
#toolbar { margin: 6px 0; }
#toolbar button { font: inherit; padding: 2px 10px; margin-right: 6px; border: 1px solid #9aa8c0;
  border-radius: 4px; background: #ffffff; cursor: pointer; }
#toolbar button:hover { background: #ebf0f8; }
#count { color: #4a5568; margin-left: 6px; }
#legend { display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center; font-size: 12px; }
.key { display: inline-flex; align-items: center; gap: 5px; }
.swatch { display: inline-block; width: 14px; height: 12px; border: 1px solid #7f8c9f; }
.swatch.dashed { border-style: dashed; }
.swatch.module { box-shadow: 2px -2px 0 #7f8c9f; }
.scale { display: inline-flex; border: 1px solid #7f8c9f; }
.cell { display: inline-block; width: 12px; height: 12px; }
.num { color: #4a5568; }
#canvas { overflow: auto; padding: 4px; }
#graph text { font-family: Helvetica, Arial, sans-serif; pointer-events: none; }
#graph .module, #graph .cluster-head, #graph .cluster-frame { cursor: pointer; }
#graph .module:hover rect.front, #graph .node:hover rect { stroke: #1d2430; stroke-width: 2; }
#graph .cluster-head:hover text { text-decoration: underline; }
#graph .edges { pointer-events: none; }
#tip { position: fixed; display: none; z-index: 10; max-width: 460px; padding: 7px 9px; font-size: 12px;
  background: #ffffff; border: 1px solid #7f8c9f; border-radius: 5px; box-shadow: 0 2px 8px rgba(0,0,0,.18); }
#tip .tip-title { font-weight: bold; font-size: 13px; }
#tip .tip-what { color: #4a5568; margin-bottom: 4px; }
#tip table { border-collapse: collapse; margin-top: 4px; }
#tip th, #tip td { padding: 1px 8px 1px 0; text-align: right; font-variant-numeric: tabular-nums; }
#tip th:first-child, #tip td:first-child { text-align: left; color: #4a5568; }
#tip .bad { color: #e41a1c; font-weight: bold; }
#tip .tip-note { color: #4a5568; margin-top: 3px; }
"""

_SCRIPT = r"""
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const svg = document.getElementById("graph");
  const NS = svg.namespaceURI; // the SVG namespace, as the HTML parser gave it
  const tip = document.getElementById("tip");
  const nodes = data.nodes, clusters = data.clusters;
  const open = new Set();
  const PADX = 8, PADY = 5, LINE1 = 15, LINE = 13, GAPX = 16, GAPY = 28;
  const CPAD = 10, HEAD = 22, D3 = 4, MARK = 14, MARGIN = 12, LANE = 8;
  const FONT = "Helvetica, Arial, sans-serif";
  const NAN = data.nanColor;
  const ctx = document.createElement("canvas").getContext("2d");
  const labelSizes = {};

  function reset() {
    open.clear();
    for (const id in clusters) {
      if (data.initialDepth === null || clusters[id].depth < data.initialDepth) open.add(id);
    }
  }

  function textWidth(text, size, bold) {
    ctx.font = (bold ? "bold " : "") + size + "px " + FONT;
    return ctx.measureText(text).width;
  }

  function labelSize(id, lines) {
    if (!labelSizes[id]) {
      let w = textWidth(lines[0], 12, true);
      for (let i = 1; i < lines.length; i++) w = Math.max(w, textWidth(lines[i], 10, false));
      labelSizes[id] = { w: Math.ceil(w) + 2 * PADX, h: LINE1 + LINE * (lines.length - 1) + 2 * PADY };
    }
    return labelSizes[id];
  }

  // The size of one child of a container; an open cluster is laid out inside first.
  function measure(ref, memo) {
    if (memo[ref]) return memo[ref];
    let m;
    if (nodes[ref]) {
      const s = labelSize(ref, nodes[ref].lines);
      m = { kind: "node", w: s.w, h: s.h };
    } else if (!open.has(ref)) {
      const s = labelSize(ref, clusters[ref].lines);
      m = { kind: "closed", w: s.w + D3 + MARK, h: s.h + D3 };
    } else {
      const c = clusters[ref];
      const inner = arrange(c.ranks, c.links, memo);
      const head = textWidth("\u25be " + c.name, 11, true) + textWidth("  " + c.kind, 10, false) + 12;
      const w = Math.max(inner.w, head) + 2 * CPAD + LANE; // room on the right for detours
      m = { kind: "open", w: w, h: HEAD + inner.h + CPAD, inner: inner, dx: (w - LANE - inner.w) / 2 };
    }
    memo[ref] = m;
    return m;
  }

  // Places a container's ranks one below the other, each box under the boxes it is linked from.
  function arrange(ranks, links, memo) {
    const preds = {};
    for (const [a, b] of links) (preds[b] = preds[b] || []).push(a);
    const center = {}, items = [];
    let y = 0;
    for (const row of ranks) {
      const sizes = row.map((ref) => measure(ref, memo));
      const rowH = sizes.reduce((t, s) => Math.max(t, s.h), 0);
      const lefts = [], wants = [];
      let x = null;
      row.forEach((ref, i) => {
        const above = (preds[ref] || []).filter((p) => p in center);
        const want = above.length ? above.reduce((t, p) => t + center[p], 0) / above.length - sizes[i].w / 2 : null;
        const left = x === null ? (want === null ? 0 : want) : Math.max(want === null ? x : want, x);
        wants.push(want);
        lefts.push(left);
        x = left + sizes[i].w + GAPX;
      });
      const pushed = wants.map((w, i) => (w === null ? null : w - lefts[i])).filter((d) => d !== null);
      const shift = pushed.length ? pushed.reduce((t, d) => t + d, 0) / pushed.length : 0;
      row.forEach((ref, i) => {
        const left = lefts[i] + shift;
        center[ref] = left + sizes[i].w / 2;
        items.push({ ref: ref, x: left, y: y + (rowH - sizes[i].h) / 2, m: sizes[i] });
      });
      y += rowH + GAPY;
    }
    const minX = items.reduce((t, it) => Math.min(t, it.x), 0);
    let w = 0;
    for (const it of items) {
      it.x -= minX;
      w = Math.max(w, it.x + it.m.w);
    }
    return { w: w, h: Math.max(0, y - GAPY), items: items };
  }

  function el(tag, attrs, parent) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function label(g, look, cx, top) {
    look.lines.forEach((line, i) => {
      const t = el("text", {
        x: cx, y: top + PADY + (i === 0 ? 12 : LINE1 + LINE * i - 2), "text-anchor": "middle",
        "font-size": i === 0 ? 12 : 10, "font-weight": i === 0 ? "bold" : "normal",
        fill: i === 0 ? look.text : look.sub,
      }, g);
      t.textContent = line;
    });
  }

  function hoverable(g, hover) {
    g.addEventListener("mouseenter", (ev) => showTip(ev, hover));
    g.addEventListener("mousemove", moveTip);
    g.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  }

  function rect(g, look, x, y, w, h, extra) {
    const attrs = { x: x, y: y, width: w, height: h, fill: look.fill, stroke: look.border, "stroke-width": look.width };
    if (look.dashed) attrs["stroke-dasharray"] = "4 3";
    return el("rect", Object.assign(attrs, extra || {}), g);
  }

  function drawNode(layer, ref, x, y, m) {
    const n = nodes[ref];
    const g = el("g", { class: "box node" + (n.bad ? " nan" : ""), "data-ref": ref }, layer);
    rect(g, n, x, y, m.w, m.h, { rx: n.rounded ? 6 : 1 });
    label(g, n, x + m.w / 2, y);
    hoverable(g, n.hover);
  }

  function drawClosed(layer, ref, x, y, m) {
    const c = clusters[ref];
    const g = el("g", { class: "box module" + (c.bad ? " nan" : ""), "data-ref": ref }, layer);
    rect(g, c, x + D3, y, m.w - D3, m.h - D3, { class: "back" });
    rect(g, c, x, y + D3, m.w - D3, m.h - D3, { class: "front" });
    label(g, c, x + (m.w - D3 - MARK) / 2, y + D3);
    const plus = el("text", { x: x + m.w - D3 - MARK / 2 - 2, y: y + D3 + 14, "text-anchor": "middle",
      "font-size": 14, "font-weight": "bold", fill: c.text }, g);
    plus.textContent = "+";
    hoverable(g, c.hover);
    g.addEventListener("click", () => { open.add(ref); render(); });
  }

  // An open cluster: its frame below the edges, its title bar (click: close) above them.
  function drawFrame(layers, ref, x, y, m) {
    const c = clusters[ref];
    const close = () => { open.delete(ref); tip.style.display = "none"; render(); };
    const g = el("g", { class: "cluster" + (c.bad ? " nan" : ""), "data-ref": ref }, layers.frames);
    el("rect", { class: "cluster-frame", x: x, y: y, width: m.w, height: m.h, rx: 8, fill: c.bg,
      stroke: c.bad ? NAN : "#9aa8c0", "stroke-width": c.bad ? 2 : 1 }, g);
    g.addEventListener("click", close);
    const head = el("g", { class: "cluster-head", "data-ref": ref }, layers.heads);
    el("rect", { x: x, y: y, width: m.w, height: HEAD - 4, fill: "transparent" }, head);
    const t = el("text", { x: x + 8, y: y + 15, "font-size": 11, "font-weight": "bold", fill: "#1d2430",
      stroke: c.bg, "stroke-width": 4, "paint-order": "stroke" }, head); // a halo where an edge passes
    t.textContent = "\u25be " + c.name;
    if (c.kind !== c.name) {
      const k = el("tspan", { "font-weight": "normal", "font-size": 10, fill: "#5f6b7a" }, t);
      k.textContent = "  " + c.kind;
    }
    hoverable(head, c.hover);
    head.addEventListener("click", close);
  }

  // The box a node is drawn in: itself, or the outermost closed cluster around it.
  function shownAs(id) {
    let shown = id;
    for (let c = nodes[id].cluster; c !== null; c = clusters[c].parent) if (!open.has(c)) shown = c;
    return shown;
  }

  // The placed boxes sorted by their top, to find the ones an edge would run through.
  function obstacles(placed, frames) {
    const list = Object.values(placed).sort((p, q) => p.y - q.y);
    return { list: list, tallest: list.reduce((t, p) => Math.max(t, p.h), 0), frames: frames, lanes: [] };
  }

  function within(p, f) {
    return p.x >= f.x && p.x + p.w <= f.x + f.w && p.y >= f.y && p.y + p.h <= f.y + f.h;
  }

  function blocking(obs, a, b, x0, x1, y0, y1) {
    let lo = 0, hi = obs.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (obs.list[mid].y < y0 - obs.tallest) lo = mid + 1;
      else hi = mid;
    }
    const hits = [];
    for (let i = lo; i < obs.list.length && obs.list[i].y < y1; i++) {
      const p = obs.list[i];
      if (p !== a && p !== b && p.y + p.h > y0 && p.x < x1 && p.x + p.w > x0) hits.push(p);
    }
    return hits;
  }

  // An edge: a curve from the tail's bottom to the head's top, or, when boxes stand in the way
  // (a residual connection skipping a block), a detour on their right from side to side.
  function edgePath(obs, a, b) {
    const down = b.y >= a.y + a.h;
    const sx = a.x + a.w / 2, sy = down ? a.y + a.h : a.y, ex = b.x + b.w / 2, ey = down ? b.y : b.y + b.h;
    const y0 = Math.min(sy, ey), y1 = Math.max(sy, ey);
    const hits = blocking(obs, a, b, Math.min(sx, ex), Math.max(sx, ex), y0, y1);
    if (!hits.length) {
      const dy = (ey - sy) / 2;
      return "M" + sx + "," + sy + " C" + sx + "," + (sy + dy) + " " + ex + "," + (ey - dy) + " " + ex + "," + ey;
    }
    const r = 6, ay = a.y + a.h / 2, by = b.y + b.h / 2, s = by > ay ? 1 : -1;
    // beside the boxes in the way, and outside each open cluster that the edge leaves or enters
    const leaves = obs.frames.filter((f) => within(a, f) !== within(b, f) && f.y < y1 && f.y + f.h > y0);
    let x = Math.max(a.x + a.w, b.x + b.w, ...hits.map((p) => p.x + p.w), ...leaves.map((f) => f.x + f.w)) + 8;
    while (obs.lanes.some((l) => Math.abs(l.x - x) < 5 && l.y0 < y1 && l.y1 > y0)) x += 7;
    obs.lanes.push({ x: x, y0: y0, y1: y1 });
    return "M" + (a.x + a.w) + "," + ay + " L" + (x - r) + "," + ay + " Q" + x + "," + ay + " " + x + "," +
      (ay + s * r) + " L" + x + "," + (by - s * r) + " Q" + x + "," + by + " " + (x - r) + "," + by +
      " L" + (b.x + b.w) + "," + by;
  }

  function render() {
    const memo = {};
    const top = arrange(data.ranks, data.links, memo);
    svg.textContent = "";
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "arrow", viewBox: "0 0 8 8", refX: 7, refY: 4, markerWidth: 7, markerHeight: 7,
      orient: "auto-start-reverse" }, defs);
    el("path", { d: "M0,0 L8,4 L0,8 z", fill: "#5f6b7a" }, marker);
    const frames = el("g", { class: "clusters" }, svg);
    const edges = el("g", { class: "edges" }, svg);
    const heads = el("g", { class: "cluster-heads" }, svg);
    const boxes = el("g", { class: "boxes" }, svg);
    const placed = {}, openFrames = [];
    (function place(layout, ox, oy) {
      for (const it of layout.items) {
        const x = ox + it.x, y = oy + it.y, m = it.m;
        if (m.kind === "open") {
          drawFrame({ frames: frames, heads: heads }, it.ref, x, y, m);
          openFrames.push({ x: x, y: y, w: m.w, h: m.h });
          place(m.inner, x + m.dx, y + HEAD);
          continue;
        }
        placed[it.ref] = { x: x, y: y, w: m.w, h: m.h };
        if (m.kind === "node") drawNode(boxes, it.ref, x, y, m);
        else drawClosed(boxes, it.ref, x, y, m);
      }
    })(top, MARGIN, MARGIN);
    const seen = new Set(), obs = obstacles(placed, openFrames);
    let right = top.w + MARGIN;
    for (const [tail, head] of data.edges) {
      const a = shownAs(tail), b = shownAs(head);
      if (a === b || seen.has(a + ">" + b)) continue;
      seen.add(a + ">" + b);
      el("path", { d: edgePath(obs, placed[a], placed[b]), fill: "none", stroke: "#5f6b7a", "stroke-width": 1,
        "marker-end": "url(#arrow)" }, edges);
    }
    for (const lane of obs.lanes) right = Math.max(right, lane.x + 2);
    const w = Math.ceil(right + MARGIN), h = Math.ceil(top.h + 2 * MARGIN);
    svg.setAttribute("width", w);
    svg.setAttribute("height", h);
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    const shownNodes = boxes.querySelectorAll(".node").length, shownModules = boxes.querySelectorAll(".module").length;
    document.getElementById("count").textContent =
      shownNodes + " of " + Object.keys(nodes).length + " nodes shown, " + shownModules + " closed modules";
  }

  function add(parent, tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }

  const STATS = [["mean", "mean"], ["std", "std"], ["min", "min"], ["max", "max"], ["norm", "norm"],
    ["nan", "NaN"], ["posinf", "+inf"], ["neginf", "-inf"], ["zeros", "zeros"], ["size", "elements"]];

  function showTip(ev, h) {
    tip.textContent = "";
    add(tip, "div", "tip-title", h.title);
    add(tip, "div", "tip-what", h.what);
    const table = add(tip, "table");
    const meta = add(table, "tr");
    add(meta, "td", "", "shape / dtype");
    add(meta, "td", "", h.shape);
    add(meta, "td", "", h.dtype);
    if (h.value || h.grad) {
      const head = add(table, "tr");
      for (const t of ["", "value", "gradient"]) add(head, "th", "", t);
      for (const [key, name] of STATS) {
        const row = add(table, "tr");
        add(row, "td", "", name);
        for (const s of [h.value, h.grad]) {
          const v = s ? s[key] : "\u2013";
          add(row, "td", (key === "nan" || key === "posinf" || key === "neginf") && s && v > 0 ? "bad" : "", String(v));
        }
      }
    }
    for (const note of h.notes) add(tip, "div", "tip-note", note);
    tip.style.display = "block";
    moveTip(ev);
  }

  function moveTip(ev) {
    const pad = 14, r = tip.getBoundingClientRect();
    tip.style.left = Math.max(0, Math.min(ev.clientX + pad, window.innerWidth - r.width - 4)) + "px";
    const below = ev.clientY + pad + r.height <= window.innerHeight;
    tip.style.top = Math.max(0, below ? ev.clientY + pad : ev.clientY - r.height - pad) + "px";
  }

  document.getElementById("open-all").addEventListener("click", () => {
    for (const id in clusters) open.add(id);
    render();
  });
  document.getElementById("close-all").addEventListener("click", () => { open.clear(); render(); });
  document.getElementById("reset").addEventListener("click", () => { reset(); render(); });
  reset();
  render();
  document.body.setAttribute("data-ready", "1");
})();
"""
