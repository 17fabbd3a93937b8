"""autograd.viz: DOT structure, module clusters and collapsing, gradient colours, rendering, graph_stats."""

import html
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import viz
from autograd.engine import topological_order

NODE = re.compile(r"^\s*([nms]\d+) \[(.*)\]$", re.M)
EDGE = re.compile(r"^\s*([nms]\d+) -> ([nms]\d+)$", re.M)
CLUSTER = re.compile(r'^\s*subgraph "cluster_([^"]+)" \{$', re.M)


def nodes_of(dot):
    """Node id -> attribute text."""
    return dict(NODE.findall(dot))


def edges_of(dot):
    return EDGE.findall(dot)


def text_of(attrs):
    """The visible text of a node's HTML label, tags removed, lines joined by " | "."""
    label = re.search(r"label=<(.*?)> shape=", attrs).group(1)
    return " | ".join(html.unescape(re.sub(r"<[^>]+>", "", part)) for part in label.split("<br/>"))


def node_with(dot, title):
    """The attributes of the one node whose label starts with ``title``."""
    found = [attrs for attrs in nodes_of(dot).values() if text_of(attrs).split(" | ")[0] == title]
    assert len(found) == 1, (title, len(found))
    return found[0]


def cluster_parents(dot):
    """Cluster name -> the name of the cluster it is drawn in (None at the top)."""
    parents, stack = {}, []
    for line in dot.splitlines():
        match = CLUSTER.match(line)
        if match:
            parents[match.group(1)] = stack[-1] if stack else None
            stack.append(match.group(1))
        elif line.strip() == "}" and stack:
            stack.pop()
    return parents


def small_graph():
    x = ag.tensor([[1.0, -2.0, 3.0]], requires_grad=True, name="x")
    w = ag.tensor([[0.5], [-1.0], [0.25]], requires_grad=True)
    b = ag.tensor([0.1], requires_grad=True)
    loss = ((x @ w + b).tanh() ** 2).sum()
    return loss, {"w": w, "b": b}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)
        self.unused = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def tiny_gpt_loss():
    config = nn.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, d_model=16)
    model = nn.MiniGPT(config)
    rng = np.random.default_rng(0)
    idx, targets = rng.integers(0, 11, (2, 8)), rng.integers(0, 11, (2, 8))
    loss = nn.functional.cross_entropy(model(idx).reshape(-1, 11), targets.reshape(-1))
    return model, loss


# ───────────── DOT structure of known graphs ─────────────


def test_small_graph_has_one_node_per_op_and_leaf_with_names_shapes_and_dtypes():
    loss, params = small_graph()
    dot = viz.to_dot(loss, params)
    assert dot.startswith("digraph gradwire {") and dot.endswith("}\n")
    titles = sorted(text_of(a).split(" | ")[0] for a in nodes_of(dot).values())
    assert titles == sorted(["sum", "pow_scalar", "tanh", "add", "matmul", "x", "w", "b"])
    assert len(edges_of(dot)) == 7
    assert "(1, 3) float32" in text_of(node_with(dot, "x"))
    assert "(3, 1) float32" in text_of(node_with(dot, "w"))
    assert "(1, 1) float32" in text_of(node_with(dot, "matmul"))
    assert "= 0.9951" in text_of(node_with(dot, "sum"))  # the root shows its value


def test_shapes_carry_across_elementwise_ops_that_keep_no_input():
    x = ag.tensor(np.ones((2, 3)), requires_grad=True, name="x")
    loss = ((x * 2.0 + 1.0).tanh() * 3.0).sum()  # mul_scalar, add_scalar and tanh keep no input tensor
    dot = viz.to_dot(loss)
    for op in ("add_scalar", "tanh"):
        assert "(2, 3) float64" in text_of(node_with(dot, op))
    assert "unknown" not in dot


def test_edges_follow_the_gradient_by_default_and_the_values_on_request():
    loss, params = small_graph()
    backward = viz.to_dot(loss, params)
    forward = viz.to_dot(loss, params, direction="forward")
    root = next(i for i, a in nodes_of(backward).items() if text_of(a).startswith("sum"))
    assert {a for a, _ in edges_of(backward) if root in (a, _)} == {root}  # gradients leave the root
    assert {(b, a) for a, b in edges_of(backward)} == set(edges_of(forward))
    with pytest.raises(ValueError, match="direction"):
        viz.to_dot(loss, direction="sideways")


def test_reused_inputs_and_constants():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x + np.ones(2)).sum()  # x feeds mul twice; the constant is not drawn
    dot = viz.to_dot(y)
    assert len(nodes_of(dot)) == 4  # sum, add, mul, leaf
    assert len(edges_of(dot)) == 3


def test_user_functions_are_drawn_under_their_class_name():
    class Cube(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.data**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    dot = viz.to_dot(Cube.apply(x).sum())
    assert "(2) float32" in text_of(node_with(dot, "Cube"))


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="no graph"):
        viz.to_dot(ag.tensor([1.0]).sum())
    loss, _ = small_graph()
    with pytest.raises(TypeError, match="named_parameters"):
        viz.to_dot(loss, params=[1, 2])
    with pytest.raises(ValueError, match="max_depth"):
        viz.to_dot(loss, max_depth=-1)


# ───────────── modules: clusters, names, collapsing ─────────────


def test_module_calls_become_clusters_with_parameter_names():
    net = Net()
    out = net(ag.tensor(np.ones((5, 3)))).sum()
    dot = viz.to_dot(out, net)
    assert cluster_parents(dot) == {"fc1": None, "act": None, "fc2": None}
    assert "Net graph" in dot
    # inside its cluster a parameter is named relative to the module (the cluster gives the rest)
    weights = [text_of(a) for a in nodes_of(dot).values() if text_of(a).startswith("weight")]
    assert sorted(w.split(" | ")[1] for w in weights) == ["(2, 4) float32", "(4, 3) float32"]
    # with only a dict of parameters, leaves get their full names and clusters their class names
    by_dict = viz.to_dot(out, dict(net.named_parameters()))
    assert cluster_parents(by_dict) == {"Net": None, "Linear": "Net", "ReLU": "Net", "Linear #2": "Net"}
    assert "fc1.weight" in by_dict and "fc2.bias" in by_dict
    # max_depth=0 draws the model passed in as one box; without a model there is no module structure
    assert len(nodes_of(viz.to_dot(out, net, max_depth=0))) == 2  # sum and the Net box
    flat = viz.to_dot(out, max_depth=0)
    assert cluster_parents(flat) == {} and len(nodes_of(flat)) == len(nodes_of(dot))


def _graph_size(root):
    """Nodes reachable from ``root`` (ops and leaves that require grad), counted by the engine's own walk."""
    return len(topological_order([root._node]))


def test_minigpt_has_one_cluster_per_block_with_nested_modules():
    model, loss = tiny_gpt_loss()
    dot = viz.to_dot(loss, model)
    parents = cluster_parents(dot)
    assert parents["blocks.0"] is None and parents["blocks.1"] is None
    assert parents["blocks.0.attn"] == "blocks.0"
    assert parents["blocks.1.mlp.fc1"] == "blocks.1.mlp"
    assert parents["blocks.1.mlp"] == "blocks.1"
    for name in ("tok_emb", "pos_emb", "ln_f", "head", "blocks.0.ln1", "blocks.0.attn.qkv"):
        assert name in parents
    total = _graph_size(loss)
    assert f"MiniGPT graph: {total} nodes" in dot
    assert len(nodes_of(dot)) == total


def test_max_depth_draws_modules_as_boxes_with_their_shapes():
    model, loss = tiny_gpt_loss()
    full = nodes_of(viz.to_dot(loss, model))
    dot = viz.to_dot(loss, model, max_depth=1)
    collapsed = nodes_of(dot)
    assert len(collapsed) < len(full) / 5
    assert cluster_parents(dot) == {}
    block = text_of(node_with(dot, "blocks.0"))
    assert "TransformerBlock" in block and "(2, 8, 16) -> (2, 8, 16) float32" in block
    assert re.search(r"\d+ ops, 12 params", block)
    head = text_of(node_with(dot, "head"))
    assert "(2, 8, 16) -> (2, 8, 11) float32" in head
    # the boxes are wired in order: tok_emb/pos_emb -> add -> blocks.0 -> blocks.1 -> ln_f -> head
    ids = {text_of(a).split(" | ")[0]: i for i, a in collapsed.items()}
    edges = set(edges_of(dot))
    assert (ids["blocks.1"], ids["blocks.0"]) in edges and (ids["ln_f"], ids["blocks.1"]) in edges
    # depth 2 opens the blocks and shows their sub-modules as boxes
    two = viz.to_dot(loss, model, max_depth=2)
    assert cluster_parents(two) == dict.fromkeys(["tok_emb", "pos_emb", "blocks.0", "blocks.1", "ln_f", "head"])
    assert "blocks.0.attn" in text_of(node_with(two, "blocks.0.attn"))
    # depth 0 draws the model as a single box
    assert "MiniGPT" in text_of(node_with(viz.to_dot(loss, model, max_depth=0), "MiniGPT"))


def test_big_graphs_collapse_to_the_deepest_level_that_fits_and_say_so():
    model, loss = tiny_gpt_loss()
    dot = viz.to_dot(loss, model, max_nodes=60)
    assert len(nodes_of(dot)) <= 60
    total = _graph_size(loss)
    assert "collapsed to max_depth=" in dot and f"full graph: {total} nodes" in dot
    assert len(nodes_of(viz.to_dot(loss, model, max_nodes=None))) == total


def test_mermaid_has_the_same_boxes_edges_and_subgraphs():
    model, loss = tiny_gpt_loss()
    text = viz.to_mermaid(loss, model, max_depth=2)
    dot = viz.to_dot(loss, model, max_depth=2)
    assert text.startswith("flowchart TB\n")
    assert text.count(" --> ") == len(edges_of(dot))
    assert '["blocks.0"]' in text and text.count("\n  end") + text.count("\n    end") >= 2
    assert len(re.findall(r"^\s+[nms]\d+[\[({]", text, re.M)) == len(nodes_of(dot))


# ───────────── gradients: colours, NaN, zero ─────────────


def test_nan_and_inf_gradients_are_red_and_zero_gradients_grey():
    x = ag.tensor([0.0, 1.0, 4.0], requires_grad=True, name="x")  # sqrt'(0) is inf
    dead = ag.tensor([0.5], requires_grad=True, name="dead")
    loss = x.sqrt().sum() + (dead * 0.0).sum()
    with viz.trace_gradients(loss) as rec, np.errstate(divide="ignore"):
        loss.backward()
    dot = viz.to_dot(loss, grads=rec)
    assert f'fillcolor="{viz.NAN_COLOR}"' in node_with(dot, "x") and 'class="nan"' in node_with(dot, "x")
    assert "1 +inf" in text_of(node_with(dot, "x"))
    assert f'fillcolor="{viz.ZERO_COLOR}"' in node_with(dot, "dead") and 'class="zero-grad"' in node_with(dot, "dead")
    assert "legend" in dot
    assert viz.NAN_COLOR in viz.to_mermaid(loss, grads=rec)


def test_nan_values_are_red_before_backward():
    x = ag.tensor([-1.0, 1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = x.log().sum()
    dot = viz.to_dot(y)
    assert f'fillcolor="{viz.NAN_COLOR}"' in node_with(dot, "log")
    assert "value: 1 NaN" in text_of(node_with(dot, "log"))


def test_gradient_magnitude_sets_colour_intensity():
    big = ag.tensor([1.0, 1.0], requires_grad=True, name="big")
    small = ag.tensor([1.0, 1.0], requires_grad=True, name="small")
    loss = (big * 1000.0).sum() + (small * 0.001).sum()
    loss.backward()
    dot = viz.to_dot(loss)  # leaves' .grad is enough for leaves

    def shade(title):
        return viz.GRAD_PALETTE.index(re.search(r'fillcolor="([^"]+)"', node_with(dot, title)).group(1))

    assert shade("big") - shade("small") >= 6
    assert "|grad| 1414" in text_of(node_with(dot, "big"))


def test_recorder_keeps_shapes_and_gradients_of_freed_nodes():
    loss, params = small_graph()
    rec = viz.trace_gradients(loss)
    loss.backward()
    without = viz.to_dot(loss, params)
    assert "shapes of freed nodes unknown" in without
    assert "(1, 1)" not in text_of(node_with(without, "matmul"))
    dot = viz.to_dot(loss, params, grads=rec, show_stats=True)
    matmul = text_of(node_with(dot, "matmul"))
    assert "(1, 1) float32" in matmul and "|grad| " in matmul and "grad min" in matmul
    assert "gradient graph" in dot
    rec.remove()
    assert all(not n.hooks for n in ag.engine.topological_order([loss._node]))


def test_collapsed_modules_are_coloured_by_their_parameter_gradients():
    model, loss = tiny_gpt_loss()
    rec = viz.trace_gradients(loss)
    loss.backward()
    dot = viz.to_dot(loss, model, grads=rec, max_depth=1)
    assert "(params)" in text_of(node_with(dot, "blocks.0"))
    assert viz.NAN_COLOR not in dot.split("legend")[0]  # the -inf of the causal mask is not a problem


# ───────────── deep graphs ─────────────


def test_a_100000_node_chain_draws_without_recursion():
    x = ag.tensor([0.5, 0.25], requires_grad=True)
    y = x
    for i in range(50_000):
        y = y.sin() if i % 2 else y * 1.0001
    for _ in range(50_000):
        y = y + 0.0
    start = time.perf_counter()
    dot = viz.to_dot(y.sum())
    assert time.perf_counter() - start < 30
    assert len(nodes_of(dot)) < 20 and "nodes in long chains summarised" in dot
    assert "... 99996 more nodes ..." in dot and "add_scalar x49998, mul_scalar x24999, sin x24999" in dot
    stats = viz.graph_stats(y.sum())
    assert stats.nodes == 100_002 and stats.depth == 100_002


def test_a_long_chain_can_be_drawn_in_full():
    x = ag.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(5_000):
        y = y * 1.0001
    dot = viz.to_dot(y, max_nodes=None)
    assert len(nodes_of(dot)) == 5_001 and len(edges_of(dot)) == 5_000


# ───────────── rendering pictures ─────────────


def test_draw_graph_renders_svg_and_png(tmp_path):
    assert viz.find_renderer() is not None, "no renderer: gradwire's dependencies should install graphviz-pure"
    model, loss = tiny_gpt_loss()
    rec = viz.trace_gradients(loss)
    loss.backward()
    graph = viz.draw_graph(loss, model, grads=rec, max_depth=1)
    assert graph.source == viz.to_dot(loss, model, grads=rec, max_depth=1)
    svg = graph.render(tmp_path / "gpt", format="svg")
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "blocks.0" in "".join(root.itertext())
    png = graph.render(outfile=tmp_path / "pictures" / "gpt.png")
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert graph._repr_mimebundle_()["image/svg+xml"].lstrip().startswith("<?xml")


@pytest.mark.skipif(sys.platform == "win32", reason="uses a symbolic link named dot")
def test_a_system_dot_is_drawn_with_by_the_graphviz_package(tmp_path, monkeypatch):
    program = viz.find_renderer()
    if os.path.basename(program) != "dot":  # stand a graphviz-pure in for the system Graphviz
        (tmp_path / "bin").mkdir()
        os.symlink(program, tmp_path / "bin" / "dot")
        monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    assert os.path.basename(viz.find_renderer()) == "dot"
    loss, params = small_graph()
    png = viz.draw_graph(loss, params).render(tmp_path / "small", format="png")
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_missing_renderer_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(viz.render.shutil, "which", lambda *args, **kwargs: None)
    assert viz.find_renderer() is None
    loss, _ = small_graph()
    with pytest.raises(viz.RendererNotFoundError, match="graphviz-pure"):
        viz.draw_graph(loss).pipe(format="svg")


def test_autograd_imports_no_graphviz_and_to_dot_needs_none():
    code = (
        "import sys, autograd as ag\n"
        "x = ag.tensor([1.0], requires_grad=True)\n"
        "print(ag.viz.to_dot((x * 2).sum()).count('->'), 'graphviz' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["2", "False"]


# ───────────── graph_stats ─────────────


def test_graph_stats_counts_by_hand():
    x = ag.tensor(np.ones(4), requires_grad=True)  # float64: 32 bytes per array
    y = x.tanh()  # saves x (a leaf: not counted) and its output y: 32
    z = y * y  # saves y twice: already counted
    s = z.sum()  # saves z: 32
    stats = viz.graph_stats(s)
    assert (stats.nodes, stats.ops, stats.leaves, stats.depth) == (4, 3, 1, 4)
    assert stats.saved_bytes == 64
    assert stats.saved_bytes_by_op == {"tanh": 32, "sum": 32}
    assert stats.saved_bytes_by_module == {"": 64}
    assert stats.ops_by_name == {"tanh": 1, "mul": 1, "sum": 1}
    s.backward()
    assert viz.graph_stats(s).saved_bytes == 0  # backward freed them


def test_graph_stats_per_module_and_parameters_without_gradient():
    net = Net()
    out = net(ag.tensor(np.ones((5, 3), dtype=np.float32))).sum()
    stats = viz.graph_stats(out, net)
    assert stats.params_without_grad == ["unused.weight", "unused.bias"]
    assert set(stats.saved_bytes_by_module) <= {"fc1", "act", "fc2", ""}
    assert sum(stats.saved_bytes_by_module.values()) == stats.saved_bytes > 0
    assert stats.saved_bytes_by_module["act"] == 5 * 4 * 4  # relu saves its (5, 4) float32 input
    assert "unused.weight" in str(stats)
