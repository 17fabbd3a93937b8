"""`import autograd` needs only NumPy: the observers load their dependencies lazily."""

import subprocess
import sys


def test_import_autograd_loads_neither_graphviz_nor_hypothesis():
    code = (
        "import sys, autograd, autograd.ops, autograd.gradcheck\n"
        "heavy = sorted(m for m in ('graphviz', 'hypothesis') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
