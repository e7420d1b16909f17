"""One small data set with a target for each of the hand-derived output/loss pairs.

Shared by the tests that compare training paths (autograd, the torch step,
the numpy step).
"""

import numpy as np
from sklearn.datasets import make_classification, make_multilabel_classification

from sknn import TorchMLPClassifier, TorchMLPRegressor

X = np.random.RandomState(0).normal(size=(90, 5))
TARGETS = {
    "binary": (TorchMLPClassifier, (X[:, 0] > 0).astype(int)),
    "multiclass": (TorchMLPClassifier, make_classification(90, 5, n_informative=3, n_classes=3,
                                                           random_state=0)[1]),
    "multilabel": (TorchMLPClassifier, make_multilabel_classification(90, 5, random_state=0)[1]),
    "squared_error": (TorchMLPRegressor, X[:, :2] @ [[1.0, 2.0], [0.5, -1.0]]),
    "poisson": (TorchMLPRegressor, np.exp(X[:, 0] / 2)),
}
