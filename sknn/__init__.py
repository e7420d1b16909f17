"""sknn: scikit-learn's MLP estimators, trained with PyTorch.

>>> from sknn import TorchMLPClassifier, TorchMLPRegressor, MLPModule
"""

from ._classifier import TorchMLPClassifier
from ._module import MLPModule
from ._regressor import TorchMLPRegressor
from ._summary import ModelSummary
from ._workers import freeze_import_time_objects

freeze_import_time_objects()

__version__ = "0.1.0"

__all__ = ["MLPModule", "ModelSummary", "TorchMLPClassifier", "TorchMLPRegressor", "__version__"]
