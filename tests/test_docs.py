"""Build the Sphinx documentation with warnings as errors.

Skipped without the ``docs`` extra (``pip install -e ".[docs]"``); deselect
with ``-m "not docs"``. The docs and examples are copied to a temporary
directory first, so the build writes nothing into the repository. The gallery
runs in quick mode (``SKNN_EXAMPLE_QUICK=1``); set ``SKNN_DOCS_PLOT_GALLERY=0``
to build it without running the examples.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.docs


def test_docs_build_without_warnings(tmp_path):
    for module in ("sphinx", "sphinx_gallery", "numpydoc", "matplotlib"):
        pytest.importorskip(module)
    ignore = shutil.ignore_patterns("_build", "auto_examples", "generated", "__pycache__",
                                    "sg_execution_times.rst")
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=ignore)
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=ignore)
    env = dict(os.environ, SKNN_EXAMPLE_QUICK="1", MPLBACKEND="Agg")
    env.setdefault("OMP_NUM_THREADS", "1")  # see tests/test_examples.py
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(tmp_path / "docs"), str(tmp_path / "html")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    html = tmp_path / "html"
    for page in ("index.html", "api.html", "user_guide/options.html",
                 "auto_examples/index.html", "generated/sknn.TorchMLPClassifier.html"):
        assert (html / page).is_file(), page
    # The option tables are generated from the registries: spot-check one entry.
    options = (html / "user_guide" / "options.html").read_text(encoding="utf-8")
    assert "kaiming_normal" in options and "onecycle" in options

