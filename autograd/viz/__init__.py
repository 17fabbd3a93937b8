"""Drawing the recorded graph: where gradient messages travel, and where they vanish, explode or turn NaN.

``to_dot(loss, model)`` gives Graphviz DOT text (no Graphviz needed), ``draw_graph(loss, model)``
a ``graphviz.Digraph`` (shown inline in Jupyter; ``.render("graph", format="png")``) and
``to_mermaid(loss, model)`` Mermaid text for Markdown pages, and ``to_html(loss, "graph.html", model)``
one self-contained interactive page (modules open and close on click; hovering a box shows its
statistics; no network needed). ``graph_stats(loss, model)``
counts nodes, depth and the bytes saved for backward, per op and per module.

Each box is one recorded node: an op (its name, output shape and dtype) or a leaf tensor
(its parameter name when a module or a ``name -> Tensor`` dict is passed). Nodes are grouped
into nested clusters by the module call that made them (``blocks.0.attn``); ``max_depth=1``
draws each top-level module as one box, and graphs above ``max_nodes`` are collapsed to the
deepest level that fits (long chains of single ops are summarised when even that is not
enough). After backward, boxes are coloured by gradient norm (darker is larger; red: NaN or
inf; grey: zero gradient). Interior nodes free their saved values during backward, so record
their gradients and shapes first::

    rec = trace_gradients(loss)      # hooks on every node, before backward
    loss.backward()
    draw_graph(loss, model, grads=rec).render("loss_graph", format="svg")

Every walk is iterative (`autograd.engine.topological_order`), so a 100,000-node chain is fine.
Pictures come from the system Graphviz ``dot`` when there is one, else from the ``graphviz-pure``
program that gradwire's dependencies install (`find_renderer`).

The package, one job a module:

- ``stats``: `TensorStats`, the statistics of one array (a value or a gradient).
- ``recorder``: `trace_gradients` and `GradientRecorder`, recording gradients during backward.
- ``reader``: reading a graph: its nodes, shapes, names and module calls (scopes).
- ``layout``: what one drawing shows: the view (boxes, clusters, edges, collapsing) and the
  one walk over the cluster tree that both text writers follow.
- ``style``: how each box looks: labels, colours and the gradient colour scale.
- ``dot``: DOT text (`to_dot`).
- ``mermaid``: Mermaid text (`to_mermaid`).
- ``html``: an interactive page (`to_html`): the layered layout of each cluster, and its script.
- ``render``: pictures: `find_renderer` and `draw_graph`.
- ``summary``: numbers about a graph (`graph_stats`).

An observer: it reads public graph attributes (``parents``, ``prim``, ``saved``, ``scopes``,
``add_hook``) and is never imported by the core (``import autograd`` loads this package on
first use of ``autograd.viz``). From the core it imports only `autograd.engine.topological_order`,
`autograd.graph.Node` and `autograd.graph.recorded_scopes`, and `autograd.tensor.Tensor`. The
``graphviz`` Python package is imported inside `draw_graph` only; nothing here imports ``nn``
(a module is any object with ``named_parameters()`` and ``named_modules()``).
"""

from .dot import to_dot
from .html import to_html
from .mermaid import to_mermaid
from .recorder import GradientRecorder, trace_gradients
from .render import RendererNotFoundError, draw_graph, find_renderer
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
)
from .summary import GraphStats, graph_stats

__all__ = [
    "CLUSTER_COLORS",
    "GRAD_PALETTE",
    "INPUT_COLOR",
    "MODULE_COLOR",
    "NAN_COLOR",
    "NO_GRAD_COLOR",
    "OP_COLOR",
    "PARAM_COLOR",
    "ROOT_COLOR",
    "ZERO_COLOR",
    "GradientRecorder",
    "GraphStats",
    "RendererNotFoundError",
    "TensorStats",
    "draw_graph",
    "find_renderer",
    "graph_stats",
    "to_dot",
    "to_html",
    "to_mermaid",
    "trace_gradients",
]
