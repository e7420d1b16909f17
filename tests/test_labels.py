"""labels_of finds the labels unique_labels finds, with its errors."""

import numpy as np
import pytest
from sklearn.utils.multiclass import unique_labels

from sknn import TorchMLPClassifier
from sknn._labels import labels_of

TARGETS = {
    "ints": np.array([3, 1, 2, 1]),
    "one int": np.array([7]),
    "negative ints": np.array([-1, 1, -1]),
    "unsigned": np.array([2, 0, 2], dtype=np.uint8),
    "bools": np.array([True, False, True]),
    "strings": np.array(["b", "a", "c", "a"]),
    "integral floats": np.array([1.0, 0.0, 2.0]),
    "floats": np.array([0.5, 1.0]),
    "huge floats": np.array([1e20, 2.0]),
    "objects": np.array(["a", 1], dtype=object),
    "indicator matrix": np.array([[1, 0], [0, 1], [1, 1]]),
}


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("name", list(TARGETS))
def test_labels_of_is_unique_labels(name):
    y = TARGETS[name]
    try:
        expected = unique_labels(y)
    except (ValueError, TypeError) as exc:
        with pytest.raises(type(exc)) as got:
            labels_of(y)
        assert str(got.value) == str(exc)
        return
    got = labels_of(y)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_partial_fit_still_refuses_new_classes_and_continuous_targets():
    X = np.random.RandomState(0).normal(size=(6, 3))
    clf = TorchMLPClassifier((4,), random_state=0).partial_fit(X, [0, 1, 2, 0, 1, 2],
                                                               classes=[0, 1, 2])
    with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
        clf.partial_fit(X[:2], np.array([0, 3]))
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.partial_fit(X[:2], np.array([0.5, 1.0]))
