"""``TorchMLPClassifier``: scikit-learn's MLPClassifier, trained with PyTorch."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import InvalidParameterError, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

from . import _docs
from ._estimator_base import BaseTorchMLP
from ._labels import labels_of
from ._losses import accuracy, log_loss_cap

# predict() decides from float32 scores for more rows than _FLOAT32_LABELS_MIN_ROWS
# and at least _FLOAT32_LABELS_MIN_WORK multiply-adds (rows x weights): below
# that the float64 pass costs no more than the float32 pass and its tie check
# (a (100,) network on 4 features: 153 against 177 us at 150 rows, even at
# 3000 rows, 2.1 million multiply-adds; a (128, 256) network: even at 65 rows,
# 2.4 million, and 0.84x at 150; /tmp measurement on the 2 vCPU box). Rows
# whose two best scores (or whose score and 0) are closer than _TIE_TOLERANCE
# x (1 + max |score|) are decided in float64, so labels do not depend on
# float32 round-off (short of a thousandfold magnification of it inside the
# network).
_FLOAT32_LABELS_MIN_ROWS = 64
_FLOAT32_LABELS_MIN_WORK = 2_000_000
_TIE_TOLERANCE = 1e-3


class TorchMLPClassifier(ClassifierMixin, BaseTorchMLP):
    _parameter_constraints: dict = {
        **BaseTorchMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
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
        class_weight=None,
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
        self.class_weight = class_weight

    # -- targets ---------------------------------------------------------
    def _validate_input(self, X, y, incremental, reset):
        X, y = self._validated_training_input(X, y, reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        # The same table of cases as scikit-learn's MLPClassifier._validate_input.
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = labels_of(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        # Targets straight in the compute dtype (what training reads); one-hot
        # rows written directly for multiclass y, where LabelBinarizer would
        # build an int64 matrix first (6 MiB for 75k rows x 10 classes, x2 with
        # the cast). A 2-D y given to a multiclass model goes to the
        # binarizer, which refuses it in scikit-learn's words.
        dtype = np.float32 if self._compute_dtype() == torch.float32 else np.float64
        if self._label_binarizer.y_type_ == "multiclass" and y.ndim == 1:
            Y = np.zeros((len(y), len(self.classes_)), dtype=dtype)
            Y[np.arange(len(y)), np.searchsorted(self.classes_, y)] = 1
            return X, Y
        return X, self._label_binarizer.transform(y).astype(dtype)

    def _adjust_sample_weight(self, sample_weight, Y, incremental):
        if self.class_weight is None:
            return sample_weight
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError("class_weight is not supported for multilabel targets.")
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit: the class "
                "frequencies of one batch are not those of the data. Pass a dict of "
                "weights instead."
            )
        index = Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0].astype(int)
        if len(self.classes_) == 1:
            index = np.zeros(len(Y), dtype=int)
        labels = self.classes_[index]
        per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=labels)
        if not np.all(np.isfinite(per_class) & (per_class >= 0)):
            raise InvalidParameterError(
                f"The 'class_weight' parameter of {type(self).__name__} must give each class a "
                f"finite, non-negative weight; got {self.class_weight!r}."
            )
        weights = per_class[index]
        weights = weights if sample_weight is None else sample_weight * weights
        if not np.any(weights):
            raise ValueError(
                "Sample weights must contain at least one non-zero number: class_weight "
                f"{self.class_weight!r} gives every sample a weight of zero."
            )
        return weights

    def _loss_name(self):
        return "log_loss" if self._label_binarizer.y_type_ == "multiclass" else "binary_log_loss"

    def _loss_kwargs(self):
        # scikit-learn clips probabilities at the eps of the dtype it computes
        # in: that of its coefficients (float64 for lbfgs, else the data's).
        return {"log_cap": log_loss_cap(self._coef_dtype)}

    def _score_tensors(self, z, p, Y, sw):
        if len(self.classes_) == 1:
            return torch.ones((), dtype=z.dtype, device=z.device)
        return accuracy(z, Y, self.out_activation_, sw)

    # -- public API --------------------------------------------------------
    @property
    def loss(self) -> str:
        """The loss minimised, ``"log_loss"``: ``MLPClassifier.loss``, which is
        an attribute, not a parameter."""
        return "log_loss"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target labels, or a multilabel indicator matrix.
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
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit; required on the first
            call. ``y`` need not contain all of them.

        Returns
        -------
        self : object
            The updated estimator.
        """
        first_call = not hasattr(self, "classes_")
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if not first_call and classes is not None:
            if not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(
                    "`classes=%r` is not the same as on last call "
                    "to partial_fit, was: %r" % (classes, self.classes_)
                )
        if not first_call:
            return self._fit(X, y, sample_weight=sample_weight, incremental=True)
        # A failed first call leaves the estimator unfitted, classes_ included.
        with self._restore_on_failure():
            binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                binarizer.fit(y)
            else:
                binarizer.fit(classes)
            self._label_binarizer, self.classes_ = binarizer, binarizer.classes_
            return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predict using the multi-layer perceptron classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        X = self._validated_input(X)
        rows = X.shape[0]
        if rows <= _FLOAT32_LABELS_MIN_ROWS or rows * self._n_weights() < _FLOAT32_LABELS_MIN_WORK:
            return self._labels(self._outputs(X))
        # Labels from float32 raw scores (twice the matmul speed), equal to
        # those of the float64 probabilities wherever float32 round-off (~1e-6
        # relative) cannot change the decision; the few rows within
        # _TIE_TOLERANCE of a tie are decided from the probabilities.
        z = self._outputs(X, raw_float32=True)
        if self._label_binarizer.y_type_ == "multiclass":
            top2 = np.partition(z, -2, axis=1)[:, -2:]
            margin, decisions = top2[:, 1] - top2[:, 0], z
        else:  # one logistic output per label: p > 0.5 exactly where z > 0
            margin, decisions = np.abs(z).min(axis=1), (z > 0).astype(np.float64)
        labels = self._labels(decisions)
        unsure = np.flatnonzero(margin <= _TIE_TOLERANCE * (1.0 + np.abs(z).max(axis=1)))
        if unsure.size:
            labels[unsure] = self._labels(self._outputs(X[unsure]))
        return labels

    def _labels(self, scores):
        """Labels from probabilities, or anything ordered (and thresholded at 0.5) like them.

        LabelBinarizer.inverse_transform's rules, without its ~40 us of
        array-API dispatch for the two common cases (single-row latency).
        """
        y_type = self._label_binarizer.y_type_
        if y_type == "multiclass":
            return self.classes_[np.argmax(scores, axis=1)]
        if y_type == "binary" and len(self.classes_) == 2:
            return self.classes_[(scores.ravel() > 0.5).astype(np.intp)]
        return self._label_binarizer.inverse_transform(scores)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The probability of each class, in the order of ``classes_``.
        """
        proba = self._forward(X)
        if self.n_outputs_ == 1:
            proba = proba.ravel()
            return np.vstack([1 - proba, proba]).T
        return proba

    def predict_log_proba(self, X):
        """Log of probability estimates, ``log(predict_proba(X))``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            The log-probability of each class, in the order of ``classes_``.
        """
        proba = self.predict_proba(X)
        return np.log(proba, out=proba)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # class_weight refuses multilabel targets (one weight per class, a row
        # has several classes), so the tag says so for scikit-learn's checks.
        tags.classifier_tags.multi_label = self.class_weight is None
        return tags


TorchMLPClassifier.__doc__ = f"""Multi-layer perceptron classifier trained with PyTorch.

A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`: the
same parameters, attributes, errors and, with ``init='sklearn'`` (the
default) and the same ``random_state``, the same initial network and batch
order. Every choice PyTorch offers for MLPs is a further parameter.

Parameters
----------
{_docs.HIDDEN}{_docs.ACTIVATION}{_docs.COMMON}class_weight : dict, 'balanced' or None, default=None
    Weights per class, multiplied into ``sample_weight``; 'balanced' uses
    ``n_samples / (n_classes * np.bincount(y))``.
{_docs.DEVICE}
Attributes
----------
classes_ : ndarray or list of ndarray
    Class labels (``arange(n_labels)`` for multilabel targets).
loss : str
    ``"log_loss"``, the loss minimised: an attribute, not a parameter, as
    in ``MLPClassifier``.
{_docs.ATTRIBUTES}
See Also
--------
TorchMLPRegressor : The regressor.
sklearn.neural_network.MLPClassifier : The scikit-learn original.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from sknn import TorchMLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = make_pipeline(StandardScaler(),
...                     TorchMLPClassifier((10,), max_iter=300, random_state=0))
>>> clf.fit(X, y).score(X, y) > 0.9
True
"""
