"""Run every gallery example (examples/plot_*.py) as a script, in quick mode.

Each example runs in its own process with ``SKNN_EXAMPLE_QUICK=1`` (small
data, few epochs) and the non-interactive ``Agg`` backend, from a temporary
working directory.
"""

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))

# Optional packages an example cannot run without (matplotlib: all of them).
REQUIRES = {
    "plot_grid_search.py": ["pandas"],
    "plot_phone_price.py": ["pandas"],
    "plot_skorch_module.py": ["skorch"],
}


def _env():
    env = dict(os.environ, SKNN_EXAMPLE_QUICK="1", MPLBACKEND="Agg")
    # The quick examples train tiny networks; on a busy machine torch's idle
    # worker threads slow them down many times over. One thread is plenty.
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def test_examples_found():
    assert len(EXAMPLES) >= 13


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_has_gallery_header_and_quick_mode(path):
    source = path.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring, f"{path.name} needs a module docstring with a title"
    lines = docstring.splitlines()
    # sphinx-gallery's title: a line of '=' above and below the title text.
    assert set(lines[0]) == {"="} and set(lines[2]) == {"="}, path.name
    assert len(lines[0]) >= len(lines[1]), f"{path.name}: title overline too short"
    assert "SKNN_EXAMPLE_QUICK" in source, f"{path.name} must honour SKNN_EXAMPLE_QUICK"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, tmp_path):
    pytest.importorskip("matplotlib")
    for module in REQUIRES.get(path.name, []):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{path.name} needs {module}")
    result = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (
        f"{path.name} failed:\n--- stdout ---\n{result.stdout[-3000:]}"
        f"\n--- stderr ---\n{result.stderr[-3000:]}"
    )
