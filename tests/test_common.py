"""scikit-learn's own estimator checks: the judge of drop-in compatibility."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sknn import TorchMLPClassifier, TorchMLPRegressor

# At most three expected failures per estimator, each with its reason.
_FLOAT32 = (
    "float32 training (compute_dtype's default) rounds the weighted and the repeated "
    "sums differently; passes with compute_dtype='float64' (tests/test_sample_weight.py)"
)


def _expected_failures(estimator):
    if estimator.compute_dtype == "float32" and estimator.solver != "lbfgs":
        return {
            "check_sample_weight_equivalence_on_dense_data": _FLOAT32,
            "check_sample_weight_equivalence_on_sparse_data": _FLOAT32,
        }
    return {}


@parametrize_with_checks(
    [TorchMLPClassifier(), TorchMLPRegressor()],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
