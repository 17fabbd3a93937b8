"""README.md stays true: its op list matches the table and its example prints what it shows."""

import contextlib
import io
import pathlib
import re

import pytest

from autograd.docs import ops_markdown

README = (pathlib.Path(__file__).parent.parent / "README.md").read_text()


def test_readme_op_list_is_generated_from_the_primitive_table():
    listed = README.split("<!-- ops:start -->\n", 1)[1].split("<!-- ops:end -->", 1)[0]
    assert listed == ops_markdown()


def test_readme_ten_line_example_prints_what_the_readme_shows():
    section = README.split("## Ten lines", 1)[1]
    code, shown = re.findall(r"```(?:python)?\n(.*?)```", section, flags=re.S)[:2]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README example", "exec"), {})
    assert printed.getvalue().strip() == shown.strip()


def test_readme_starts_with_the_demo_and_test_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, flags=re.S).group(1)
    assert first_block.splitlines()[0].startswith("make demo")
    assert first_block.splitlines()[1].startswith("make test")
    ci = (pathlib.Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci


def test_readme_nn_example_trains_xor_to_the_printed_result():
    section = README.split("## nn: models, losses, optimizers, training", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    promised = re.search(r"print\(.*\)\s+# (\[.*\])", code).group(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README nn example", "exec"), {})
    assert printed.getvalue().strip() == promised


def test_readme_checkpoint_example_runs_and_its_file_loads_in_pytorch(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch", reason="the example reads the file back with safetensors.torch")
    section = README.split("## Checkpoints and PyTorch interop", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README checkpoint example", "exec"), namespace)
    state = namespace["torch_state"]
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert {k: tuple(v.shape) for k, v in state.items()} == {
        k: v.shape for k, v in namespace["model"].state_dict().items()
    }
