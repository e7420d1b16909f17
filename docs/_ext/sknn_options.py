"""The ``sknn-options`` directive: a table of one kind of option, read from sknn's registries.

Usage in reST::

    .. sknn-options:: activation

Each row gives the option's name, its one-line description and the lecture
topic it comes from, exactly as the registry states them, so the documentation
cannot drift from the code. The estimators' default is marked.
"""

from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.util.typing import ExtensionMetadata

from sknn import TorchMLPClassifier, TorchMLPRegressor
from sknn._activations import ACTIVATIONS
from sknn._initializers import INITIALIZERS
from sknn._losses import LOSSES
from sknn._module import NORMALIZATIONS
from sknn._optimizers import OPTIMIZERS
from sknn._schedulers import SCHEDULERS


def _rows(registry):
    for name, spec in registry.items():
        if isinstance(spec, tuple):  # NORMALIZATIONS: name -> (description, lecture)
            description, lecture = spec
        else:
            description, lecture = spec.description, spec.lecture
        yield name, description, lecture


def _regressor_losses() -> set:
    (options,) = TorchMLPRegressor._parameter_constraints["loss"]
    return set(options.options)


# parameter -> (registry, estimator whose default is marked, text of the None row or None)
KINDS = {
    "activation": (ACTIVATIONS, TorchMLPClassifier, None),
    "init": (INITIALIZERS, TorchMLPClassifier, None),
    "solver": (OPTIMIZERS, TorchMLPClassifier, None),
    "lr_scheduler": (
        SCHEDULERS, TorchMLPClassifier,
        ("scikit-learn's learning_rate ('constant', 'invscaling', 'adaptive')", ""),
    ),
    "normalization": (NORMALIZATIONS, TorchMLPClassifier, ("no normalisation", "")),
    "loss": (LOSSES, TorchMLPRegressor, None),
}


def _entry(*children) -> nodes.entry:
    entry = nodes.entry()
    entry += nodes.paragraph("", "", *children)
    return entry


def options_table(kind: str) -> nodes.table:
    """Build the docutils table of one option kind."""
    registry, estimator, none_row = KINDS[kind]
    default = estimator().get_params()[kind]
    rows = list(_rows(registry))
    if none_row is not None:
        rows.insert(0, (None, *none_row))
    headers = ["Value", "Description", "Lecture topic"]
    if kind == "loss":
        regression = _regressor_losses()
        headers.insert(2, "Used by")

    table = nodes.table(classes=["sknn-options"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in [18, 60, 14, 22] if kind == "loss" else [18, 60, 22]:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    row = nodes.row()
    for header in headers:
        row += _entry(nodes.Text(header))
    head += row
    group += head
    body = nodes.tbody()
    for name, description, lecture in rows:
        row = nodes.row()
        value = [nodes.literal(text=repr(name))]
        if name == default:
            value.append(nodes.Text(" (default)"))
        row += _entry(*value)
        row += _entry(nodes.Text(description))
        if kind == "loss":
            used = "TorchMLPRegressor" if name in regression else "TorchMLPClassifier (automatic)"
            row += _entry(nodes.Text(used))
        row += _entry(nodes.Text(lecture))
        body += row
    group += body
    return table


class OptionsDirective(Directive):
    """``.. sknn-options:: <parameter>``."""

    required_arguments = 1
    has_content = False

    def run(self):
        kind = self.arguments[0]
        if kind not in KINDS:
            raise self.error(f"sknn-options: unknown kind {kind!r}; use one of {list(KINDS)}")
        return [options_table(kind)]


def setup(app) -> ExtensionMetadata:
    app.add_directive("sknn-options", OptionsDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
