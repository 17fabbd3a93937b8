"""Mermaid text: `to_mermaid`, a flowchart for Markdown pages with the boxes, clusters (as
subgraphs, in the order of `_walk`) and colours of `to_dot`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..tensor import Tensor
from .layout import _arrows, _Item, _plan, _walk
from .recorder import GradientRecorder
from .style import _Look, _Styler


def _mermaid_text(text: str) -> str:
    """Text for a quoted Mermaid label, with Mermaid's entity codes (``#lt;``) for characters it would misread."""
    for char, code in (("&", "#amp;"), ("<", "#lt;"), (">", "#gt;"), ('"', "#quot;")):
        text = text.replace(char, code)
    return text


def _mermaid_node(item: _Item, look: _Look) -> str:
    """One box as a Mermaid node: its id, then its label in the brackets of its shape."""
    text = "<b>" + _mermaid_text(look.lines[0]) + "</b>"
    text += "".join("<br/>" + _mermaid_text(line) for line in look.lines[1:])
    opening, closing = {"op": ("(", ")"), "module": ("[[", "]]"), "chain": ("{{", "}}")}.get(item.kind, ("[", "]"))
    return f'{item.id}{opening}"{text}"{closing}'


def _mermaid_style(item: _Item, look: _Look) -> str:
    """The ``style`` line that colours one box."""
    dash = ",stroke-dasharray: 4 3" if "dashed" in look.style else ""
    return f"  style {item.id} fill:{look.fill},color:{look.text},stroke:{look.border}{dash}"


def to_mermaid(
    root: Tensor | Sequence[Tensor],
    params: Any = None,
    *,
    grads: GradientRecorder | None = None,
    direction: str = "backward",
    max_depth: int | None = None,
    max_nodes: int | None = 300,
    show_stats: bool = False,
) -> str:
    """The graph behind ``root`` as a Mermaid flowchart, for Markdown pages.

    Same boxes, clusters (as subgraphs) and colours as `to_dot`; see it for the arguments.

    Returns:
        Mermaid source text (``flowchart TB ...``).
    """
    graph, view, note = _plan(root, params, grads, direction, max_depth, max_nodes)
    styler = _Styler(graph, view, show_stats)
    lines = ["flowchart TB"]
    if note:
        lines.append(f"  %% {note}")
    styles = []
    count = 0
    for step in _walk(view):
        indent = "  " * (step.level + 1)
        if step.kind == "item":
            look = styler.look(step.item)
            lines.append(indent + _mermaid_node(step.item, look))
            styles.append(_mermaid_style(step.item, look))
        elif step.kind == "open":
            count += 1
            lines.append(f'{indent}subgraph c{count}["{_mermaid_text(step.scope.name)}"]')
        else:
            lines.append(f"{indent}end")
    lines.extend(f"  {tail} --> {head}" for tail, head in _arrows(view, direction))
    return "\n".join(lines + styles) + "\n"
