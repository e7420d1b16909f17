"""Sphinx configuration of the sknn documentation.

Build (from the repository root)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Environment variables:

- ``SKNN_EXAMPLE_QUICK=1`` runs the example gallery with small data and few
  epochs (what the tests do).
- ``SKNN_DOCS_PLOT_GALLERY=0`` does not run the examples at all: the gallery
  pages then show the code without output or figures.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_ext"))

import sknn  # noqa: E402

project = "sknn"
author = "sknn developers"
copyright = "sknn developers"
version = release = sknn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # Option tables generated from sknn's registries (docs/_ext/sknn_options.py).
    "sknn_options",
]
# No sphinx.ext.intersphinx: the build must not need the network.

templates_path = ["_templates"]
exclude_patterns = ["_build"]
root_doc = "index"
default_role = "literal"

autosummary_generate = True
# The class template lists the methods; numpydoc would list them again.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

html_theme = "alabaster"
html_title = f"sknn {release}"
html_static_path = []

_plot_gallery = os.environ.get("SKNN_DOCS_PLOT_GALLERY", "1").lower() not in ("0", "false", "no")

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": _plot_gallery,
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("sknn",),
    "backreferences_dir": None,
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "image_scrapers": ("matplotlib",),
}


def _quote_attribute_refs(app, what, name, obj, options, lines):
    """Write ``(n_features_in_,)`` in shapes as ``(`n_features_in_`,)``.

    A bare trailing underscore is reST's reference syntax, so docutils reports
    an unknown target for it (scikit-learn's docstrings quote it for this
    reason).
    """
    for i, line in enumerate(lines):
        lines[i] = line.replace("(n_features_in_,)", "(`n_features_in_`,)")


def setup(app):
    # Before numpydoc (priority 500) reformats the docstring.
    app.connect("autodoc-process-docstring", _quote_attribute_refs, priority=100)
