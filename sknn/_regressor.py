"""``TorchMLPRegressor``: scikit-learn's MLPRegressor, trained with PyTorch."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, column_or_1d

from . import _docs
from ._estimator_base import BaseTorchMLP
from ._losses import r2


class TorchMLPRegressor(RegressorMixin, BaseTorchMLP):
    _parameter_constraints: dict = {
        **BaseTorchMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson", "absolute_error", "huber"})],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        activation_kwargs=None,
        init="sklearn",
        init_kwargs=None,
        optimizer_kwargs=None,
        lr_scheduler=None,
        lr_scheduler_kwargs=None,
        dropout=0.0,
        normalization=None,
        huber_delta=1.0,
        device="auto",
        compute_dtype="float32",
        autocast=None,
        matmul_precision="highest",
        cuda_graphs=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            max_fun=max_fun, activation_kwargs=activation_kwargs, init=init,
            init_kwargs=init_kwargs, optimizer_kwargs=optimizer_kwargs,
            lr_scheduler=lr_scheduler, lr_scheduler_kwargs=lr_scheduler_kwargs,
            dropout=dropout, normalization=normalization, device=device,
            compute_dtype=compute_dtype, autocast=autocast,
            matmul_precision=matmul_precision, cuda_graphs=cuda_graphs,
        )
        self.loss = loss
        self.huber_delta = huber_delta

    def _validate_input(self, X, y, incremental, reset):
        X, y = self._validated_training_input(X, y, reset, y_numeric=True)
        if y.dtype.kind in "USV":
            # check_array's error for text where numbers are needed (y_numeric
            # lets strings through; MLPRegressor then fails inside its loss).
            check_array(y, ensure_2d=False, dtype="numeric", input_name="y")
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for Poisson regression."
            )
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        return X, Y

    def _loss_name(self):
        return self.loss

    def _loss_kwargs(self):
        return {"huber_delta": self.huber_delta} if self.loss == "huber" else {}

    def _score_tensors(self, z, p, Y, sw):
        return r2(p, Y, sw)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        y = self._forward(X)
        return y.ravel() if y.shape[1] == 1 else y


TorchMLPRegressor.__doc__ = f"""Multi-layer perceptron regressor trained with PyTorch.

A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`: the
same parameters, attributes and errors, plus every choice PyTorch offers for
MLPs as further parameters.

Parameters
----------
loss : {{'squared_error', 'poisson', 'absolute_error', 'huber'}}, default='squared_error'
    'squared_error' and 'poisson' as scikit-learn (half squared error; half
    Poisson deviance with an exp output, y >= 0), plus 'absolute_error' (L1)
    and 'huber' (quadratic below ``huber_delta``, linear above).
{_docs.HIDDEN}{_docs.ACTIVATION}{_docs.COMMON}huber_delta : float, default=1.0
    Threshold of the Huber loss.
{_docs.DEVICE}
Attributes
----------
{_docs.ATTRIBUTES}
See Also
--------
TorchMLPClassifier : The classifier.
sklearn.neural_network.MLPRegressor : The scikit-learn original.

Examples
--------
>>> from sklearn.datasets import load_diabetes
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from sknn import TorchMLPRegressor
>>> X, y = load_diabetes(return_X_y=True)
>>> reg = make_pipeline(StandardScaler(), TorchMLPRegressor(
...     hidden_layer_sizes=(32,), solver="lbfgs", random_state=0))
>>> reg.fit(X, y).score(X, y) > 0.5
True
"""
