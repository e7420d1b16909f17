"""Integer sample weights equal repeated rows, as scikit-learn requires.

In float64 (``compute_dtype='float64'``) the equivalence holds to
scikit-learn's tolerance; the float32 default is 1e-7-close only, which is why
tests/test_common.py marks these two checks as expected failures there.
"""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    check_sample_weight_equivalence_on_sparse_data,
)

from sknn import TorchMLPClassifier, TorchMLPRegressor


@pytest.mark.parametrize("Estimator", [TorchMLPClassifier, TorchMLPRegressor])
@pytest.mark.parametrize(
    "check",
    [check_sample_weight_equivalence_on_dense_data,
     check_sample_weight_equivalence_on_sparse_data],
)
def test_sample_weight_equivalence_in_float64(Estimator, check):
    check(Estimator.__name__, Estimator(compute_dtype="float64"))


def test_float32_weighted_fit_is_close_to_repeated_rows():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(30, 4)), rng.randint(3, size=30)
    w = rng.randint(0, 3, size=30)
    weighted = TorchMLPClassifier((8,), max_iter=50, random_state=0).fit(X, y, sample_weight=w)
    repeated = TorchMLPClassifier((8,), max_iter=50, random_state=0).fit(
        np.repeat(X, w, axis=0), np.repeat(y, w)
    )
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-5)
