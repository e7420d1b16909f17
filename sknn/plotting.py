"""Plots of a fitted sknn estimator's training history.

matplotlib is optional: install it with ``pip install sknn[plot]``. For
confusion matrices, ROC curves and the like use scikit-learn's displays
(``sklearn.metrics.ConfusionMatrixDisplay`` ...), which work with sknn.
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = ["plot_history"]

_MISSING_MATPLOTLIB = (
    "plotting needs matplotlib: pip install sknn[plot] (or pip install matplotlib)"
)


def _import_matplotlib():
    """Return ``matplotlib.pyplot``, or raise an ImportError that says what to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(_MISSING_MATPLOTLIB) from exc
    return plt


def _history(est):
    """Return the per-epoch history as a list of dicts.

    sknn estimators keep ``history_``; scikit-learn's MLPs only have
    ``loss_curve_`` and ``validation_scores_``, which are rebuilt into the same
    shape so that both can be plotted side by side.
    """
    history = getattr(est, "history_", None)
    if history is not None:
        return list(history)
    if hasattr(est, "loss_curve_"):
        val_scores = getattr(est, "validation_scores_", None) or [None] * len(est.loss_curve_)
        return [
            {"epoch": i + 1, "loss": loss, "val_score": score}
            for i, (loss, score) in enumerate(zip(est.loss_curve_, val_scores))
        ]
    raise TypeError(f"{type(est).__name__} has no training history (history_ or loss_curve_)")


def _label(key, est):
    score_name = "accuracy" if is_classifier(est) else "R²"
    known = {
        "loss": "training loss",
        "val_loss": "validation loss",
        "val_score": f"validation {score_name}",
        "lr": "learning rate",
    }
    return known.get(key, key)


def plot_history(est, ax=None, metrics=("loss", "val_loss", "val_score")):
    """Plot training loss, validation loss and validation score per epoch.

    Losses (keys ending in ``"loss"``) share the left axis; other metrics,
    such as the validation score, go on a twin right-hand axis because their
    scale differs. Metrics that were not recorded (the validation ones
    without ``early_stopping=True``) are silently left out.

    Parameters
    ----------
    est : fitted TorchMLPClassifier, TorchMLPRegressor, Pipeline or search
        A Pipeline is plotted through its final step, a fitted search
        (``GridSearchCV`` and the like, refit on the best parameters) through
        its ``best_estimator_``. scikit-learn's
        ``MLPClassifier``/``MLPRegressor`` work too (from ``loss_curve_`` and
        ``validation_scores_``).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when None.
    metrics : str or sequence of str, default=("loss", "val_loss", "val_score")
        Keys of ``est.history_`` to draw, e.g. add ``"lr"`` for the learning
        rate.

    Returns
    -------
    ax : matplotlib Axes or ndarray of two Axes
        The axes drawn on, or ``[loss_axes, score_axes]`` when a twin axis
        was needed.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    sklearn.exceptions.NotFittedError
        If ``est`` is not fitted.
    ValueError
        If a metric is not a key of the history.
    TypeError
        If ``est`` keeps no history (neither ``history_`` nor ``loss_curve_``,
        as a scikit-learn MLP fitted with 'lbfgs').

    Examples
    --------
    >>> from sknn import TorchMLPClassifier
    >>> from sknn.plotting import plot_history
    >>> clf = TorchMLPClassifier(early_stopping=True).fit(X, y)  # doctest: +SKIP
    >>> plot_history(clf)  # doctest: +SKIP
    """
    plt = _import_matplotlib()
    est = getattr(est, "best_estimator_", est)
    if isinstance(est, Pipeline):
        est = est[-1]
    check_is_fitted(est)
    history = _history(est)

    if isinstance(metrics, str):  # one name, not its letters
        metrics = (metrics,)
    available = set().union(*history) if history else set()
    unknown = [m for m in metrics if m not in available and m not in ("val_loss", "val_score")]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; history has {sorted(available)}")

    # lbfgs records one entry per optimizer iteration, not per epoch.
    x_label = "iteration" if getattr(est, "solver", None) == "lbfgs" else "epoch"
    series = {}
    for key in metrics:
        points = [(h.get("epoch", i + 1), h.get(key)) for i, h in enumerate(history)]
        points = [(x, y) for x, y in points if y is not None]
        if points:
            series[key] = np.asarray(points, dtype=float).T

    loss_keys = [k for k in series if k.endswith("loss")]
    other_keys = [k for k in series if not k.endswith("loss")]
    if ax is None:
        _, ax = plt.subplots()
    # Only open a twin axis when both kinds of curve share the figure.
    ax_other = ax.twinx() if loss_keys and other_keys else ax

    for i, key in enumerate(series):
        target = ax if key in loss_keys else ax_other
        x, y = series[key]
        target.plot(x, y, color=f"C{i}", label=_label(key, est),
                    linestyle="-" if key in loss_keys else "--")
    ax.set_xlabel(x_label)
    if loss_keys:
        ax.set_ylabel("loss")
    if other_keys:
        ax_other.set_ylabel(_label(other_keys[0], est) if len(other_keys) == 1 else "score")

    handles, labels = ax.get_legend_handles_labels()
    if ax_other is not ax:
        more_handles, more_labels = ax_other.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    if handles:
        ax.legend(handles, labels, loc="best")
    return np.array([ax, ax_other]) if ax_other is not ax else ax
