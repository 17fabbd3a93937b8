"""The tutorials in notebooks/ run from top to bottom without error, and are stored without outputs.

Each notebook is executed with nbclient on an ipykernel started from this very interpreter
(``sys.executable``): the test writes its own kernelspec into a temporary folder and hands
nbclient a kernel manager that looks only there, so a ``python3`` kernel installed elsewhere
(another virtual environment, the user's Jupyter) can never be picked up by mistake. Each
notebook's run time is printed.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL_NAME = "gradwire-tests"
CELL_TIMEOUT_S = 600  # per cell; a notebook takes well under a minute, so this only catches hangs
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernelspec registry holding one kernel: ipykernel on this interpreter."""
    kernels = tmp_path_factory.mktemp("kernels")
    spec_dir = kernels / KERNEL_NAME
    spec_dir.mkdir()
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"gradwire tests ({sys.executable})",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return KernelSpecManager(kernel_dirs=[str(kernels)])


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs or execution counts; clear them before saving"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_error(
    path: Path,
    kernel_specs: KernelSpecManager,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    record_property,
) -> None:
    # The kernel inherits this environment. Hypothesis keeps a cache in ./.hypothesis: send it to a
    # temporary folder. One BLAS thread: the notebooks multiply small matrices, where BLAS threads
    # competing for a few cores with other processes slow a matmul down many times over.
    monkeypatch.setenv("HYPOTHESIS_STORAGE_DIRECTORY", str(tmp_path / ".hypothesis"))
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(variable, "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the notebooks use the inline backend

    nb = nbformat.read(path, as_version=4)
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=kernel_specs)
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(path.parent)}},  # run in notebooks/, as Jupyter would
    )
    start = time.perf_counter()
    failure = None
    try:
        client.execute()
    except CellExecutionError as error:  # its text holds the cell's source and traceback
        failure = f"{path.name}: a cell raised an error\n{_ANSI.sub('', str(error))}"
    if failure is not None:  # raised outside the except block, so the report shows the traceback once
        pytest.fail(failure, pytrace=False)
    elapsed = time.perf_counter() - start
    record_property("runtime_s", round(elapsed, 2))
    with capsys.disabled():
        print(f"\n{path.name}: ran in {elapsed:.1f} s", end=" ")
