"""The list of primitives as Markdown, generated from the primitive table.

``python -m autograd.docs`` prints it; README.md carries the same text between the
``<!-- ops:start -->`` and ``<!-- ops:end -->`` markers, and a test keeps the two equal.
"""

from __future__ import annotations

from . import conv, fused, ops  # noqa: F401  (importing the tables fills the registry)
from .primitive import REGISTRY, Binary, NonDifferentiable, Unary, Variadic

_KINDS = (
    (Unary, "one tensor (plus attributes)"),
    (Binary, "two tensors, NumPy broadcasting"),
    (Variadic, "a sequence of tensors"),
    (NonDifferentiable, "not differentiable (no gradient flows)"),
)


def ops_markdown() -> str:
    """A Markdown table of every primitive: name, kind and what it computes.

    Returns:
        The table as one string ending in a newline.
    """
    lines = ["| primitive | kind | computes |", "| --- | --- | --- |"]
    for kind, label in _KINDS:
        for name, prim in REGISTRY.items():
            if type(prim) is kind:
                doc = prim.doc.replace("|", "\\|")  # a bare | would end the table cell
                lines.append(f"| `{name}` | {label} | {doc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(ops_markdown(), end="")
