"""Tests of sknn.plotting.plot_history."""

import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import TorchMLPClassifier, TorchMLPRegressor
from sknn.plotting import plot_history

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")  # after choosing the backend

# Short fits on purpose; their convergence warnings are noise here.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def labels(ax):
    return [line.get_label() for line in ax.get_lines()]


def test_without_early_stopping_one_axis(iris):
    X, y = iris
    clf = TorchMLPClassifier(hidden_layer_sizes=(8,), max_iter=15, random_state=0).fit(X, y)
    ax = plot_history(clf)
    # No validation set: only the training loss, on a single axis.
    assert isinstance(ax, matplotlib.axes.Axes)
    assert labels(ax) == ["training loss"]
    x, y_loss = ax.get_lines()[0].get_data()
    np.testing.assert_allclose(x, [h["epoch"] for h in clf.history_])
    np.testing.assert_allclose(y_loss, clf.loss_curve_, rtol=1e-6)
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"


def test_with_early_stopping_twin_axis(iris):
    X, y = iris
    clf = TorchMLPClassifier(hidden_layer_sizes=(8,), max_iter=15, early_stopping=True,
                             n_iter_no_change=100, random_state=0).fit(X, y)
    axes = plot_history(clf)
    assert isinstance(axes, np.ndarray) and axes.shape == (2,)
    loss_ax, score_ax = axes
    assert loss_ax.get_shared_x_axes().joined(loss_ax, score_ax)
    assert labels(loss_ax) == ["training loss", "validation loss"]
    _, val_loss = loss_ax.get_lines()[1].get_data()
    np.testing.assert_allclose(val_loss, [h["val_loss"] for h in clf.history_])
    assert labels(score_ax) == ["validation accuracy"]
    _, scores = score_ax.get_lines()[0].get_data()
    np.testing.assert_allclose(scores, clf.validation_scores_, rtol=1e-6)
    assert score_ax.get_ylabel() == "validation accuracy"
    # One legend gathers the curves of both axes.
    legend_texts = [t.get_text() for t in loss_ax.get_legend().get_texts()]
    assert legend_texts == labels(loss_ax) + labels(score_ax)


def test_lbfgs_counts_iterations_and_skips_missing_lr(iris):
    X, y = iris
    clf = TorchMLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=8,
                             random_state=0).fit(X, y)
    # lbfgs records no learning rate: the requested "lr" curve is left out.
    ax = plot_history(clf, metrics=("loss", "lr"))
    assert labels(ax) == ["training loss"]
    assert ax.get_xlabel() == "iteration"


def test_regressor_pipeline_given_axes_and_metrics():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = X @ [1.0, -2.0, 0.5]
    pipe = make_pipeline(StandardScaler(), TorchMLPRegressor(
        hidden_layer_sizes=(8,), max_iter=12, early_stopping=True, n_iter_no_change=100,
        random_state=0)).fit(X, y)
    _, ax = plt.subplots()
    # Only the score: drawn on the given axes, no twin needed.
    out = plot_history(pipe, ax=ax, metrics=("val_score",))
    assert out is ax
    assert labels(ax) == ["validation R²"]


def test_a_search_is_plotted_through_its_best_estimator(iris):
    from sklearn.model_selection import GridSearchCV

    X, y = iris
    search = GridSearchCV(make_pipeline(StandardScaler(), TorchMLPClassifier(
        (5,), max_iter=4, random_state=0)), {"torchmlpclassifier__alpha": [1e-4, 1e-2]}, cv=2)
    with pytest.raises(NotFittedError):
        plot_history(search)
    ax = plot_history(search.fit(X, y), metrics="loss")
    best = search.best_estimator_[-1]
    assert list(ax.get_lines()[0].get_ydata()) == best.loss_curve_


def test_sklearn_mlp_from_loss_curve(iris):
    # scikit-learn's MLP has no history_; loss_curve_ and validation_scores_
    # stand in so that both libraries' curves can be drawn side by side.
    from sklearn.neural_network import MLPClassifier

    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=15, early_stopping=True,
                        n_iter_no_change=100, random_state=0).fit(X, y)
    loss_ax, score_ax = plot_history(clf)
    assert labels(loss_ax) == ["training loss"]
    assert labels(score_ax) == ["validation accuracy"]
    np.testing.assert_allclose(loss_ax.get_lines()[0].get_ydata(), clf.loss_curve_)


def test_unknown_metric(iris):
    X, y = iris
    clf = TorchMLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="unknown metric"):
        plot_history(clf, metrics=("loss", "nope"))


def test_one_metric_by_name(iris):
    X, y = iris
    clf = TorchMLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    assert labels(plot_history(clf, metrics="loss")) == ["training loss"]


def test_not_fitted():
    with pytest.raises(NotFittedError):
        plot_history(TorchMLPClassifier())


def test_missing_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install sknn\[plot\]"):
        plot_history(TorchMLPClassifier())
