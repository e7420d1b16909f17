"""Distributed model selection with Dask: joblib's "dask" backend and futures.

sknn needs nothing Dask-specific: estimators travel to the workers by pickle
and come back fitted. These tests check that the results are the ones the
same search gives in one process, with workers in processes (where the
estimators are pickled) and with several threads in one worker (where fits
run at the same time and share the process' thread settings).
"""

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.datasets import load_diabetes, load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import TorchMLPClassifier, TorchMLPRegressor

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    # distributed's own start-up notes (ports, resource limits) are not ours.
    "ignore::UserWarning:distributed",
    "ignore::DeprecationWarning",
)


@pytest.fixture(scope="module", params=["processes", "threads"])
def client(request):
    processes = request.param == "processes"
    cluster = distributed.LocalCluster(
        n_workers=2 if processes else 1, threads_per_worker=1 if processes else 2,
        processes=processes, dashboard_address=None,
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


def _search():
    model = make_pipeline(
        StandardScaler(), TorchMLPClassifier(max_iter=30, batch_size=32, random_state=0)
    )
    grid = {"torchmlpclassifier__alpha": [1e-4, 1e-2],
            "torchmlpclassifier__hidden_layer_sizes": [(8,), (16,)]}
    return GridSearchCV(model, grid, cv=3)


def test_grid_search_on_dask_workers_matches_one_process(client):
    X, y = load_iris(return_X_y=True)
    local = _search().fit(X, y)
    with distributed.get_task_stream(client) as tasks, parallel_config(backend="dask"):
        remote = _search().set_params(n_jobs=-1).fit(X, y)
    assert len(tasks.data) >= 1  # the fits ran on the cluster, not here
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))


def test_cross_val_score_of_the_regressor_on_dask_workers(client):
    X, y = load_diabetes(return_X_y=True)
    model = make_pipeline(StandardScaler(),
                          TorchMLPRegressor(hidden_layer_sizes=(16,), max_iter=40, random_state=0))
    local = cross_val_score(model, X, y, cv=4)
    with parallel_config(backend="dask"):
        remote = cross_val_score(model, X, y, cv=4, n_jobs=-1)
    np.testing.assert_array_equal(remote, local)


def test_estimator_fitted_on_a_worker_comes_back_whole(client):
    X, y = load_iris(return_X_y=True)
    model = TorchMLPClassifier((8,), max_iter=30, random_state=0)
    future = client.submit(model.fit, X, y, pure=False)
    fitted = future.result()
    local = TorchMLPClassifier((8,), max_iter=30, random_state=0).fit(X, y)
    assert fitted is not model and not hasattr(model, "module_")
    np.testing.assert_array_equal(fitted.predict_proba(X), local.predict_proba(X))
    assert fitted.n_iter_ == local.n_iter_
    fitted.partial_fit(X[:10], y[:10])  # trains on where the worker left off
    local.partial_fit(X[:10], y[:10])
    np.testing.assert_array_equal(fitted.predict_proba(X), local.predict_proba(X))
