"""How each box looks: its label lines, colours, shape and tooltip, and the gradient colour scale
(fitted to the boxes drawn) that `to_dot` and `to_mermaid` both use.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from .layout import _Item, _View
from .reader import _Graph, _Scope
from .stats import TensorStats

# Colours: gradient norm on a light-to-dark blue scale (ColorBrewer "Blues"), problems in red and grey.
GRAD_PALETTE = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
NAN_COLOR = "#e41a1c"  # a NaN or inf gradient, or a NaN or +inf value (-inf is how masks are written)
ZERO_COLOR = "#d9d9d9"  # the gradient is exactly zero everywhere
NO_GRAD_COLOR = "#ffffff"  # backward ran but no gradient reached this node
OP_COLOR = "#eef2f8"  # before backward: ops ...
PARAM_COLOR = "#fff1c1"  # ... parameters ...
INPUT_COLOR = "#e3f2df"  # ... other leaves ...
MODULE_COLOR = "#dbe4f3"  # ... and collapsed modules
ROOT_COLOR = "#c7e9c0"
CLUSTER_COLORS = ("#f6f8fc", "#ebf0f8", "#e0e7f3", "#d6dfee")
_MIN_DECADES = 3.0  # the colour scale spans at least this many powers of ten, so near-equal norms look alike


@dataclass
class _Look:
    lines: list[str]  # the first is the title
    fill: str
    text: str  # title colour
    sub: str  # colour of the other lines
    shape: str
    style: str
    css: str  # a class name in SVG output (and Mermaid): op, param, input, module, chain, nan, zero-grad, no-grad
    tooltip: str
    penwidth: str = "1"
    border: str = "#7f8c9f"


def _num(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.4g}"
    return f"{x:.2e}"


def _shape_text(shape: tuple | None, dtype: str | None) -> str:
    if shape is None:
        return ""
    text = "scalar" if shape == () else "(" + ", ".join(str(s) for s in shape) + ")"
    return f"{text} {dtype}" if dtype else text


def _stats_text(prefix: str, stats: TensorStats) -> str:
    return f"{prefix} min {_num(stats.min)} mean {_num(stats.mean)} max {_num(stats.max)}"


def _problems(stats: TensorStats | None) -> str:
    if stats is None or stats.finite:
        return ""
    parts = [(stats.nan, "NaN"), (stats.posinf, "+inf"), (stats.neginf, "-inf")]
    return ", ".join(f"{n} {what}" for n, what in parts if n)


def _single(stats: TensorStats) -> str:
    """The value of a one-element array."""
    if stats.nan:
        return "nan"
    if stats.inf:
        return "inf" if stats.posinf else "-inf"
    return _num(stats.mean)


def _signature(graph: _Graph, scope: _Scope) -> str:
    """A module call's input and output shapes: "(2, 8, 16) -> (2, 8, 11) float32"."""
    out, dtype = graph.shape_dtype(scope.output)
    if out is None:
        return ""
    ins = dict.fromkeys(shape for shape, _ in map(graph.shape_dtype, scope.inputs) if shape is not None)
    return ", ".join(_shape_text(shape, None) for shape in ins) + " -> " + _shape_text(out, dtype)


class _Styler:
    """Turns boxes into labels and colours; the gradient colour scale is fitted to the boxes drawn."""

    def __init__(self, graph: _Graph, view: _View, show_stats: bool) -> None:
        self.graph = graph
        self.show_stats = show_stats
        self.grad_mode = graph.backward_ran
        graph.full_values = show_stats
        norms = [self._norm(item) for item in view.items]
        logs = [math.log10(n) for n in norms if n is not None and math.isfinite(n) and n > 0]
        if logs:
            lo, hi = min(logs), max(logs)
            if hi - lo < _MIN_DECADES:
                mid = (lo + hi) / 2
                lo, hi = mid - _MIN_DECADES / 2, mid + _MIN_DECADES / 2
            self.scale: tuple[float, float] | None = (lo, hi)
        else:
            self.scale = None

    def _norm(self, item: _Item) -> float | None:
        """The gradient norm a box is coloured by: its node's, or a module's parameters' together."""
        g = self.graph
        if item.kind in ("op", "leaf"):
            stats = g.grad(item.node)
            return stats.norm if stats is not None else None
        if item.kind == "module":
            squares = [g.grad(i).norm ** 2 for i in item.members if g.nodes[i].is_leaf and g.grad(i) is not None]
            if squares:
                return math.sqrt(sum(squares))
            stats = g.grad(item.scope.output)
            return stats.norm if stats is not None else None
        return None

    def color(self, norm: float) -> str:
        """The palette colour for a gradient norm."""
        if self.scale is None or norm <= 0:
            return GRAD_PALETTE[0]
        lo, hi = self.scale
        t = (math.log10(norm) - lo) / (hi - lo)
        return GRAD_PALETTE[min(len(GRAD_PALETTE) - 1, max(0, int(t * len(GRAD_PALETTE))))]

    def _text_on(self, fill: str) -> tuple[str, str]:
        if fill == NAN_COLOR or (fill in GRAD_PALETTE and GRAD_PALETTE.index(fill) >= 5):
            return "#ffffff", "#e8eef7"
        if fill == ZERO_COLOR:
            return "#6b6b6b", "#7d7d7d"
        return "#111111", "#3d4654"

    def look(self, item: _Item) -> _Look:
        """Label lines, colours and shape of one box."""
        g = self.graph
        if item.kind == "chain":
            ops = Counter("leaf" if g.nodes[i].is_leaf else g.nodes[i].name for i in item.members)
            common = ", ".join(f"{name} x{n}" for name, n in ops.most_common(3))
            more = ", ..." if len(ops) > 3 else ""
            lines = [f"... {len(item.members)} more nodes ...", common + more]
            bad = g.recorder is not None and any(
                not s.finite for i in item.members if (s := g.recorder.grads.get(g.nodes[i])) is not None
            )
            fill = NAN_COLOR if bad else "#ffffff"
            text, sub = self._text_on(fill)
            return _Look(lines, fill, text, sub, "box", "dashed,filled", "nan" if bad else "chain", "\n".join(lines))
        if item.kind == "module":
            return self._module_look(item)
        return self._node_look(item)

    def _node_look(self, item: _Item) -> _Look:
        g = self.graph
        i = item.node
        node = g.nodes[i]
        shape, dtype = g.shape_dtype(i)
        value = g.value(i)
        grad = g.grad(i)
        is_root = i in g.root_ids
        if node.is_leaf:
            param = g.is_param(i)
            title = g.leaf_name(i, item.cluster)
            kind, base = ("param", PARAM_COLOR) if param else ("input", INPUT_COLOR)
            box, style = "box", "filled"
        else:
            title = node.name
            kind, base = "op", OP_COLOR
            box, style = "box", "rounded,filled"
        lines = [title]
        shape_line = _shape_text(shape, dtype)
        if shape_line:
            lines.append(shape_line)
        if is_root and value is not None and value.size == 1:
            lines.append(f"= {_single(value)}")
        elif self.show_stats and value is not None:
            lines.append(_stats_text("x", value))
        if value is not None and value.suspicious_value:
            lines.append(f"value: {_problems(value)}")
        fill, css, dashed = base, kind, False
        if self.grad_mode:
            if grad is None and g.grad_known(i):
                fill, css, dashed = NO_GRAD_COLOR, "no-grad", True
                lines.append("no grad")
            elif grad is not None:
                lines.append(f"|grad| {_num(grad.norm)}")
                if self.show_stats:
                    lines.append(_stats_text("grad", grad))
                if not grad.finite:
                    fill, css = NAN_COLOR, "nan"
                    lines.append(f"grad: {_problems(grad)}")
                elif grad.all_zero:
                    fill, css = ZERO_COLOR, "zero-grad"
                else:
                    fill = self.color(grad.norm)
        if value is not None and value.suspicious_value:
            fill, css = NAN_COLOR, "nan"
        if is_root and not self.grad_mode:
            fill = ROOT_COLOR
        if dashed:
            style += ",dashed"
        text, sub = self._text_on(fill)
        tooltip = [f"{title}: {shape_line}"]
        if value is not None:
            tooltip.append(_stats_text("value", value) + (f" ({_problems(value)})" if _problems(value) else ""))
        if grad is not None:
            tooltip.append(f"grad norm {_num(grad.norm)}; " + _stats_text("grad", grad))
            if grad.zeros:
                tooltip.append(f"{grad.zeros} of {grad.size} gradient elements are zero")
        look = _Look(lines, fill, text, sub, box, style, css, "\n".join(tooltip))
        if is_root:
            look.penwidth, look.border = "2.5", "#1b5e20"
        return look

    def _module_look(self, item: _Item) -> _Look:
        g = self.graph
        scope = item.scope
        ops = sum(1 for i in item.members if not g.nodes[i].is_leaf)
        params = [i for i in item.members if g.nodes[i].is_leaf]
        values = sum(g.tensors[i].size for i in params if g.tensors[i] is not None)
        lines = [scope.name, scope.kind if scope.kind != scope.name else ""]
        detail = f"{ops} ops"
        if params:
            detail += f", {len(params)} params ({values:,} values)"
        lines.append(detail)
        lines.append(_signature(g, scope))
        lines = [line for line in lines if line]
        fill, css, style = MODULE_COLOR, "module", "filled,bold"
        bad = any(
            (s := g.grad(i)) is not None and not s.finite or (v := g.value(i)) is not None and v.suspicious_value
            for i in item.members
        )
        if self.grad_mode:
            norm = self._norm(item)
            if norm is None:
                fill, css = NO_GRAD_COLOR, "no-grad"
                lines.append("no grad")
                style += ",dashed"
            else:
                lines.append(f"|grad| {_num(norm)}" + (" (params)" if params else " (output)"))
                fill = ZERO_COLOR if norm == 0 else self.color(norm)
                css = "zero-grad" if norm == 0 else "module"
        if bad:
            fill, css = NAN_COLOR, "nan"
            lines.append("NaN/inf inside")
        text, sub = self._text_on(fill)
        return _Look(lines, fill, text, sub, "box3d", style, css, "\n".join(lines))
