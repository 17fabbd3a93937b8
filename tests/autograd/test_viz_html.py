"""autograd.viz.to_html: one self-contained, interactive page of the graph.

The written file is checked in Python (no network references, every module cluster, tooltip
statistics, NaN marks, a valid layered layout); then a real headless Chromium loads it from
``file://`` through Selenium and Debian's ``chromedriver``: no console errors, a click opens
a module, hovering shows the statistics, and a screenshot is written.

``python tests/autograd/test_viz_html.py docs/graph_page.png`` writes the README's screenshot.
"""

from __future__ import annotations

import json
import os
import re
import struct
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import viz
from autograd.viz.html import _ranks

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DATA = re.compile(r'<script type="application/json" id="graph-data">(.*?)</script>', re.S)
DOT_CLUSTER = re.compile(r'^\s*subgraph "cluster_([^"]+)" \{$', re.M)
STAT_KEYS = {"mean", "std", "min", "max", "norm", "nan", "posinf", "neginf", "zeros", "size"}


def page_data(path: Path) -> dict[str, Any]:
    """The graph data the page's script draws, read back from the written file."""
    return json.loads(DATA.search(path.read_text(encoding="utf-8")).group(1))


def cluster_named(data: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    found = [(key, c) for key, c in data["clusters"].items() if c["name"] == name]
    assert len(found) == 1, (name, len(found))
    return found[0]


def mlp_loss(seed: int = 0) -> tuple[nn.Module, ag.Tensor, viz.GradientRecorder]:
    """An MLP (clusters layers, layers.0, layers.1, layers.2) after backward, gradients recorded."""
    model = nn.MLP([3, 5, 2], rng=np.random.default_rng(seed))
    x = ag.tensor(np.random.default_rng(seed + 1).normal(size=(4, 3)).astype(np.float32), name="x")
    loss = (model(x) ** 2).mean()
    rec = viz.trace_gradients(loss)
    loss.backward()
    return model, loss, rec


def tiny_gpt_loss(n_layer: int = 2) -> tuple[nn.Module, ag.Tensor]:
    config = nn.GPTConfig(vocab_size=11, block_size=8, n_layer=n_layer, n_head=2, d_model=16)
    model = nn.MiniGPT(config)
    rng = np.random.default_rng(0)
    idx, targets = rng.integers(0, 11, (2, 8)), rng.integers(0, 11, (2, 8))
    loss = nn.functional.cross_entropy(model(idx).reshape(-1, 11), targets.reshape(-1))
    return model, loss


def placements(data: dict[str, Any]) -> dict[str, list[str]]:
    """Each box or cluster id -> the containers whose ranks place it ("top" or a cluster id)."""
    where: dict[str, list[str]] = {}
    containers = {"top": data["ranks"], **{k: c["ranks"] for k, c in data["clusters"].items()}}
    for key, ranks in containers.items():
        for row in ranks:
            for ref in row:
                where.setdefault(ref, []).append(key)
    return where


def assert_links_go_down(ranks: list[list[str]], links: list[list[str]]) -> None:
    rank = {ref: r for r, row in enumerate(ranks) for ref in row}
    for tail, head in links:
        assert rank[tail] < rank[head], (tail, head, rank[tail], rank[head])


# ───────────── the written file ─────────────


def test_the_page_is_one_self_contained_file_without_network_references(tmp_path):
    model, loss, rec = mlp_loss()
    out = viz.to_html(loss, tmp_path / "graph.html", model, grads=rec)
    assert out == tmp_path / "graph.html"
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    assert re.findall(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]*)""", page) == ["data:,"]  # only the empty icon
    assert "<script src" not in page and "@import" not in page and "url(http" not in page
    assert '<svg id="graph"' in page and "<style>" in page and page.count("<script") == 2
    assert "<title>MLP gradient graph: " in page and '<div id="legend">' in page
    assert viz.NAN_COLOR in page and viz.GRAD_PALETTE[-1] in page  # the legend's colours


def test_every_cluster_of_an_mlp_is_in_the_page_once_with_its_op_count(tmp_path):
    model, loss, rec = mlp_loss()
    data = page_data(viz.to_html(loss, tmp_path / "mlp.html", model, grads=rec))
    names = {c["name"] for c in data["clusters"].values()}
    assert names == {name for name, _ in model.named_modules() if name}  # layers, layers.0, layers.1, layers.2
    layers, _ = cluster_named(data, "layers")
    for child, kind, ops in (("layers.0", "Linear", 1), ("layers.1", "ReLU", 1), ("layers.2", "Linear", 1)):
        key, cluster = cluster_named(data, child)
        assert cluster["parent"] == layers and cluster["kind"] == kind and cluster["ops"] == ops
        assert f"{ops} ops" in " ".join(cluster["lines"])  # a closed cluster shows its name and op count
        assert cluster["lines"][0] == child
    assert cluster_named(data, "layers")[1]["ops"] == 3
    where = placements(data)
    assert set(where) == set(data["nodes"]) | set(data["clusters"])
    assert all(len(homes) == 1 for homes in where.values())  # each box and cluster is placed exactly once
    for key, cluster in data["clusters"].items():
        assert where[key] == [cluster["parent"] or "top"]
    for key, node in data["nodes"].items():
        assert where[key] == [node["cluster"] or "top"]
    assert cluster_named(data, "layers.0")[0] in {ref for row in data["clusters"][layers]["ranks"] for ref in row}
    assert data["initialDepth"] is None  # small enough: everything starts open


def test_minigpt_has_the_clusters_of_to_dot_and_a_valid_layered_layout(tmp_path):
    model, loss = tiny_gpt_loss()
    data = page_data(viz.to_html(loss, tmp_path / "gpt.html", model, max_depth=1))
    assert {c["name"] for c in data["clusters"].values()} == set(DOT_CLUSTER.findall(viz.to_dot(loss, model)))
    assert data["initialDepth"] == 1
    assert len(data["nodes"]) == len(ag.engine.topological_order([loss._node]))  # every node, even if closed
    attn, attn_cluster = cluster_named(data, "blocks.0.attn")
    assert data["clusters"][attn_cluster["parent"]]["name"] == "blocks.0" and attn_cluster["depth"] == 2
    assert_links_go_down(data["ranks"], data["links"])
    for cluster in data["clusters"].values():
        assert_links_go_down(cluster["ranks"], cluster["links"])
    root = next(k for k, n in data["nodes"].items() if "root: the tensor drawn from" in n["hover"]["notes"])
    assert data["ranks"][0] == [root]  # backward: the loss on top
    forward = page_data(viz.to_html(loss, tmp_path / "forward.html", model, direction="forward"))
    assert forward["ranks"][-1] == [root] and forward["edges"] == [[b, a] for a, b in data["edges"]]
    for cluster in forward["clusters"].values():
        assert_links_go_down(cluster["ranks"], cluster["links"])


def test_a_big_graph_starts_collapsed_to_fit_max_nodes(tmp_path):
    model, loss = tiny_gpt_loss()
    data = page_data(viz.to_html(loss, tmp_path / "gpt.html", model, max_nodes=20))
    assert data["initialDepth"] == 1
    assert "start closed (to fit max_nodes=20)" in (tmp_path / "gpt.html").read_text()
    assert page_data(viz.to_html(loss, tmp_path / "all.html", model, max_nodes=None))["initialDepth"] is None


def test_hover_data_has_shape_dtype_and_value_and_gradient_statistics(tmp_path):
    model, loss, rec = mlp_loss()
    data = page_data(viz.to_html(loss, tmp_path / "mlp.html", model, grads=rec))
    first, _ = cluster_named(data, "layers.0")
    weight = model.layers[0].weight
    (node,) = [n for n in data["nodes"].values() if n["cluster"] == first and n["lines"][0] == "weight"]
    hover = node["hover"]
    assert hover["what"] == "parameter" and hover["shape"] == "(5, 3)" and hover["dtype"] == "float32"
    assert set(hover["value"]) == set(hover["grad"]) == STAT_KEYS
    for stats, array in ((hover["value"], weight.data), (hover["grad"], weight.grad.data)):
        a = array.astype(np.float64)
        expected = {"mean": a.mean(), "std": a.std(), "min": a.min(), "max": a.max(), "norm": np.linalg.norm(a)}
        for key, value in expected.items():
            assert float(stats[key]) == pytest.approx(value, rel=2e-3, abs=1e-6), key
        assert (stats["size"], stats["nan"], stats["posinf"], stats["neginf"]) == (15, 0, 0, 0)
    relu = cluster_named(data, "layers.1")[1]["hover"]  # a cluster's tooltip: its output's statistics
    assert relu["what"] == "module ReLU: (4, 5) -> (4, 5) float32" and relu["shape"] == "(4, 5)"
    assert int(relu["grad"]["size"]) == 20 and float(relu["value"]["min"]) >= 0
    interior = [n["hover"] for n in data["nodes"].values() if n["hover"]["what"] == "op pow_scalar"]
    assert interior[0]["grad"]["size"] == 8 and interior[0]["value"] is not None  # freed, but recorded


def test_nan_and_inf_nodes_and_the_modules_around_them_are_red(tmp_path):
    model, loss, rec = mlp_loss()
    model.layers[0].weight.data[0, 0] = np.nan  # the next forward pass has NaN values from layers.0 on
    x = ag.tensor(np.ones((2, 3), np.float32))
    with np.errstate(invalid="ignore"):
        bad_loss = model(x).sum()
    data = page_data(viz.to_html(bad_loss, tmp_path / "nan.html", model))
    first_key, first = cluster_named(data, "layers.0")
    assert first["bad"] and first["fill"] == viz.NAN_COLOR and "NaN/inf inside" in first["lines"]
    (weight,) = [n for n in data["nodes"].values() if n["lines"][0] == "weight" and n["hover"]["value"]["nan"]]
    assert weight["bad"] and weight["fill"] == viz.NAN_COLOR and weight["hover"]["value"]["nan"] == 1
    assert weight["hover"]["value"]["std"] == "n/a" and "value: 1 NaN" in weight["hover"]["notes"]
    (bias,) = [n for n in data["nodes"].values() if n["lines"][0] == "bias" and n["cluster"] == first_key]
    assert not bias["bad"] and bias["fill"] != viz.NAN_COLOR

    s = ag.tensor([0.0, 1.0, 4.0], requires_grad=True, name="s")  # sqrt'(0) is inf
    root = s.sqrt().sum()
    with viz.trace_gradients(root) as grads, np.errstate(divide="ignore"):
        root.backward()
    nodes = page_data(viz.to_html(root, tmp_path / "inf.html", grads=grads))["nodes"]
    (leaf,) = [n for n in nodes.values() if n["lines"][0] == "s"]
    assert leaf["bad"] and leaf["fill"] == viz.NAN_COLOR and leaf["hover"]["grad"]["posinf"] == 1
    assert "gradient: 1 +inf" in leaf["hover"]["notes"]
    assert [n["bad"] for n in nodes.values()].count(True) == 1  # only s: the gradients of sqrt and sum are finite


def test_bad_arguments_say_what_is_wrong(tmp_path):
    model, loss, rec = mlp_loss()
    with pytest.raises(TypeError, match="recorder as grads="):
        viz.to_html(rec, tmp_path / "x.html")
    with pytest.raises(ValueError, match="direction must be"):
        viz.to_html(loss, tmp_path / "x.html", direction="sideways")
    with pytest.raises(ValueError, match="no graph"):
        viz.to_html(ag.tensor([1.0]), tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


def test_ranks_break_cycles_and_put_sources_next_to_their_consumer():
    key = {c: i for i, c in enumerate("abcdp")}
    assert _ranks(list("abcd"), [("a", "b"), ("b", "c"), ("c", "d")], key) == [["a"], ["b"], ["c"], ["d"]]
    # p feeds d only: it sits just above d, not at the top
    assert _ranks(list("abcdp"), [("a", "b"), ("b", "c"), ("c", "d"), ("p", "d")], key)[2] == ["c", "p"]
    ranks = _ranks(list("abc"), [("a", "b"), ("b", "c"), ("c", "b")], key)  # b and c feed each other
    assert sorted(ref for row in ranks for ref in row) == ["a", "b", "c"] and ranks[0] == ["a"]
    # barycentre ordering: the children of x stay under x, those of y under y
    key = {c: i for i, c in enumerate(["r", "x", "y", "y1", "x1", "y2", "x2"])}
    links = [("r", "x"), ("r", "y"), ("x", "x1"), ("x", "x2"), ("y", "y1"), ("y", "y2")]
    rows = _ranks(list(key), links, key)
    assert rows[1] == ["x", "y"] and rows[2] == ["x1", "x2", "y1", "y2"]


# ───────────── the page in a real headless Chromium ─────────────


def chromium_options(user_data_dir: str, size: tuple[int, int]) -> Any:
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",  # as root, Chromium's sandbox does not start
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={user_data_dir}",
        f"--window-size={size[0]},{size[1]}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


@contextmanager
def chromium(size: tuple[int, int] = (1280, 900)) -> Iterator[Any]:
    """A headless Chromium driven by Debian's chromedriver (no driver or browser is downloaded)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="gradwire-chromium-") as profile:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=chromium_options(profile, size))
        try:
            yield driver
        finally:
            driver.quit()


def shown(driver: Any) -> tuple[int, int]:
    """How many node boxes and closed-module boxes the page draws now."""
    return tuple(
        driver.execute_script("return ['g.node', 'g.module'].map(s => document.querySelectorAll('#graph ' + s).length)")
    )


def open_module(driver: Any, name: str) -> None:
    """Click the closed box of the module called ``name``."""
    from selenium.webdriver.common.by import By

    (box,) = [m for m in driver.find_elements(By.CSS_SELECTOR, "#graph g.module") if m.text.split("\n")[0] == name]
    box.click()


def hover(driver: Any, ref: str) -> str:
    """Move the mouse onto the right end of the box with id ``ref`` (the tooltip opens beside it).

    Returns:
        The tooltip's text.
    """
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.CSS_SELECTOR, f'#graph g[data-ref="{ref}"]')
    ActionChains(driver).move_to_element_with_offset(box, box.size["width"] // 2 - 4, 0).perform()
    return driver.find_element(By.ID, "tip").text


def fit_window(driver: Any) -> None:
    """Grow the window to the whole page, so a screenshot shows all of it."""
    width, height, frame_w, frame_h = driver.execute_script(
        "const d = document.documentElement; return [d.scrollWidth, d.scrollHeight, "
        "window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]"
    )
    driver.set_window_size(max(width, 900) + frame_w, min(height, 4000) + frame_h)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, checking its signature and header chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


def write_readme_screenshot(png: Path, html: Path | None = None) -> tuple[int, int]:
    """The README's picture: a small MiniGPT's page with ``blocks.0`` opened and a tooltip shown."""
    model, loss = tiny_gpt_loss(n_layer=1)
    rec = viz.trace_gradients(loss)
    loss.backward()
    html = html or png.with_suffix(".html")
    viz.to_html(loss, html, model, grads=rec, max_depth=1)
    with chromium((1100, 900)) as driver:
        driver.get(html.resolve().as_uri())
        open_module(driver, "blocks.0")
        fit_window(driver)
        nodes = page_data(html)["nodes"]
        block = cluster_named(page_data(html), "blocks.0")[0]
        hover(driver, next(ref for ref, n in nodes.items() if n["cluster"] == block and n["hover"]["value"]))
        picture = driver.get_screenshot_as_png()
    png.write_bytes(picture)
    return png_size(picture)


def need_chromium() -> None:
    """Skip a browser test where Debian's Chromium or its driver is missing."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed: make test installs Debian's chromium as root")
    if not os.path.exists(CHROMEDRIVER):
        pytest.skip("chromedriver is not installed: make test installs Debian's chromium-driver as root")


def severe(driver: Any) -> list[dict]:
    """The browser console's errors so far (uncaught exceptions, failed loads, console.error)."""
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_the_page_opens_modules_on_click_and_shows_statistics_in_headless_chromium(tmp_path):
    need_chromium()
    model, loss = tiny_gpt_loss()
    rec = viz.trace_gradients(loss)
    loss.backward()
    page = viz.to_html(loss, tmp_path / "gpt.html", model, grads=rec, max_depth=1)
    data = page_data(page)
    with chromium() as driver:
        driver.get(page.as_uri())
        assert driver.execute_script("return document.body.dataset.ready") == "1"
        assert driver.title.startswith("MiniGPT gradient graph: ")
        top = [ref for row in data["ranks"] for ref in row]
        assert shown(driver) == (
            sum(ref in data["nodes"] for ref in top),
            sum(ref in data["clusters"] for ref in top),
        )
        nodes, modules = shown(driver)

        open_module(driver, "blocks.0")  # opens one level: its own nodes, and its modules closed
        key, block = cluster_named(data, "blocks.0")
        inside = [ref for row in block["ranks"] for ref in row]
        assert shown(driver) == (
            nodes + sum(ref in data["nodes"] for ref in inside),
            modules - 1 + sum(ref in data["clusters"] for ref in inside),
        )
        assert shown(driver)[0] > nodes
        assert (
            driver.execute_script(f"return document.querySelectorAll('#graph g.cluster[data-ref={key}]').length") == 1
        )

        open_module(driver, "blocks.0.attn")
        attn = cluster_named(data, "blocks.0.attn")[0]
        ref, node = next(
            (ref, n) for ref, n in data["nodes"].items() if n["cluster"] == attn and n["hover"]["value"] is not None
        )
        tip, want = hover(driver, ref), node["hover"]
        assert tip.startswith(f"{want['title']}\n{want['what']}\nshape / dtype {want['shape']} {want['dtype']}\n")
        for name in ("mean", "std", "min", "max", "norm"):  # a row: the value's statistic, then the gradient's
            assert f"{name} {want['value'][name]} {want['grad'][name]}" in tip, name
        for name in ("NaN 0 0", "+inf 0 0", "-inf 0 0", f"elements {want['value']['size']}"):
            assert name in tip, name
        assert driver.find_element("id", "tip").is_displayed()

        png = tmp_path / "page.png"
        driver.save_screenshot(str(png))
        width, height = png_size(png.read_bytes())
        assert (width, height) == tuple(driver.execute_script("return [window.innerWidth, window.innerHeight]"))
        assert png.stat().st_size > 20_000  # boxes, text and colours, not a blank page

        driver.find_element("css selector", f"#graph .cluster-head[data-ref={key}]").click()  # close it again
        assert shown(driver) == (nodes, modules)
        driver.find_element("id", "open-all").click()
        assert shown(driver) == (len(data["nodes"]), 0)
        red = driver.execute_script("return document.querySelectorAll('#graph g.nan').length")
        assert red == 0
        assert severe(driver) == []


def test_red_nan_boxes_in_headless_chromium(tmp_path):
    need_chromium()
    x = ag.tensor([-1.0, 1.0], requires_grad=True, name="x")
    with np.errstate(invalid="ignore"):
        y = x.log().sum()
    page = viz.to_html(y, tmp_path / "nan.html")
    with chromium() as driver:
        driver.get(page.as_uri())
        fills = driver.execute_script(
            "return [...document.querySelectorAll('#graph g.nan')].map(g => g.dataset.ref + ' ' + "
            "g.querySelector('rect').getAttribute('fill') + ' ' + g.textContent)"
        )
        assert sorted(f.split(" ")[1] for f in fills) == [viz.NAN_COLOR] * 2  # log and sum hold NaN
        assert sorted(f.split(" ", 2)[2][:3] for f in fills) == ["log", "sum"]
        assert severe(driver) == []


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/graph_page.png")
    with tempfile.TemporaryDirectory() as tmp:
        print(target, write_readme_screenshot(target, Path(tmp) / "graph_page.html"))
