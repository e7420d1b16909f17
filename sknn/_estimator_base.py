"""Estimator layer shared by the classifier and the regressor.

Fitting as scikit-learn does it: the early-stopping split, batch sizes,
warm starts and partial_fit, fitted attributes, warnings. Parameters are
checked in :mod:`sknn._params`; training runs in :mod:`sknn._engine` /
:mod:`sknn._lbfgs`; :mod:`sknn._fitted_state` reads the trained network
(predictions, ``coefs_``, pickling). The subclasses only encode targets, pick
the loss and score predictions.
"""

from __future__ import annotations

import copy
import operator
import warnings
from abc import ABC, abstractmethod
from contextlib import contextmanager, nullcontext
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
import torch
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import InvalidParameterError, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, validate_data
from torch import nn

from ._call_rng import call_random_state
from ._cuda_graph import supports_graphs
from ._device import (
    AUTOCAST_DTYPES,
    DTYPES,
    float32_matmul_precision,
    one_blas_thread,
    parse_device,
    resolve_device,
    thread_budget,
    to_tensor,
    training_inputs,
)
from ._engine import (
    StoppingRule,
    TensorData,
    batch_bounds,
    make_autograd_step,
    nonzero_weight_batches,
    train_stochastic,
)
from ._fast_mlp import EXTRA_LOSSES, ManualMLPGrad, adam_steps_to_device, make_fast_step
from ._fast_mlp import OUTPUTS as FAST_OUTPUTS
from ._fitted_state import FittedNetworkMixin, park_optimizer
from ._lbfgs import train_lbfgs
from ._losses import LOSSES, make_loss
from ._module import MLPModule
from ._numpy_leaky_relus import supports_leaky_relu
from ._numpy_mlp import NUMPY_MAX_WORK, NumpyMLPGradient, NumpyMLPStep
from ._numpy_norm import supports_norm
from ._optimizers import STOCHASTIC, asgd_follows_device, make_optimizer
from ._params import (
    OPTIMIZER_PARAMS,
    PARAMETER_CONSTRAINTS,
    build_schedule,
    check_graph_device,
    check_options,
    hidden_sizes,
)
from ._per_layer import per_layer
from ._progress import Reporter
from ._suggest import suggestion
from ._unchanged_input import training_input_arrays
from ._undo import Undo

# Tests switch the hand-derived training step off to compare it with autograd,
# and the numpy step off to compare it with the torch one.
_FAST_PATH = True
_NUMPY_PATH = True

# The losses that are their output activation's canonical loss (the hand-derived
# steps' output delta is then ``out(z) - y``).
_CANONICAL_LOSSES = ("squared_error", "poisson", "log_loss", "binary_log_loss")


class _PlainNetwork(NamedTuple):
    """What the hand-derived steps need to know about a plain network."""

    activation: object  # sknn._pointwise.Pointwise
    spec: object  # sknn._losses.LossSpec
    dropouts: list  # per hidden layer: Dropout or None
    norms: list  # per hidden layer: BatchNorm1d, LayerNorm or None
    leaky_relus: list  # per hidden layer: PReLU or RReLU (activation: the identity rule) or None
    loss: str | None  # one of EXTRA_LOSSES, or None for the canonical loss


class BaseTorchMLP(FittedNetworkMixin, BaseEstimator, ABC):
    """Base class of :class:`TorchMLPClassifier` and :class:`TorchMLPRegressor`.

    Not for direct use; see the subclasses for the parameters.
    """

    _parameter_constraints: dict = dict(PARAMETER_CONSTRAINTS)

    @classmethod
    def _get_param_names(cls):
        # scikit-learn inspects __init__'s signature on every get_params() and
        # parameter validation (~0.25 ms each, twice per fit); it cannot change.
        names = cls.__dict__.get("_param_names")
        if names is None:
            names = super()._get_param_names()
            cls._param_names = names
        return list(names)

    @abstractmethod
    def __init__(
        self, hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate,
        learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose,
        warm_start, momentum, nesterovs_momentum, early_stopping, validation_fraction,
        beta_1, beta_2, epsilon, n_iter_no_change, max_fun, activation_kwargs, init,
        init_kwargs, optimizer_kwargs, lr_scheduler, lr_scheduler_kwargs, dropout,
        normalization, device, compute_dtype, autocast, matmul_precision, cuda_graphs,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.activation_kwargs = activation_kwargs
        self.init = init
        self.init_kwargs = init_kwargs
        self.optimizer_kwargs = optimizer_kwargs
        self.lr_scheduler = lr_scheduler
        self.lr_scheduler_kwargs = lr_scheduler_kwargs
        self.dropout = dropout
        self.normalization = normalization
        self.device = device
        self.compute_dtype = compute_dtype
        self.autocast = autocast
        self.matmul_precision = matmul_precision
        self.cuda_graphs = cuda_graphs

    # ------------------------------------------------------------------
    # What the classifier and the regressor define
    @abstractmethod
    def _validate_input(self, X, y, incremental, reset):
        """Validate X and y; return X and the targets as a 2-D float array."""

    @abstractmethod
    def _loss_name(self) -> str:
        """Key of :data:`sknn._losses.LOSSES` for the current targets."""

    @abstractmethod
    def _score_tensors(self, z, p, Y, sw):
        """Validation score (a 0-d tensor) from raw scores ``z`` / outputs ``p``."""

    def _loss_kwargs(self) -> dict:
        return {}

    def _adjust_sample_weight(self, sample_weight, Y, incremental):
        return sample_weight

    def _validate_params(self):
        # scikit-learn's check, its message with a hint for a name spelled as
        # PyTorch spells it ("LeakyReLU", "Adam", "StepLR", "MSELoss" ...).
        try:
            super()._validate_params()
            self._checked_params = self._param_values()
        except InvalidParameterError as exc:
            options = {
                name: set().union(*(c.options for c in constraints
                                    if isinstance(c, StrOptions)))
                for name, constraints in self._parameter_constraints.items()
            }
            hint = suggestion(str(exc), vars(self), options)
            if hint is None:
                raise
            raise InvalidParameterError(f"{exc} {hint}") from None

    # ------------------------------------------------------------------
    # Fitting
    def _compute_dtype(self) -> torch.dtype:
        # scipy's L-BFGS-B works in float64; so does scikit-learn's lbfgs.
        return torch.float64 if self.solver == "lbfgs" else DTYPES[self.compute_dtype]

    # Fitted state, other than the network and its optimizer (sknn._undo), that
    # a call may change in place (everything else is rebound), and the saved
    # optimizer state of an unpickled estimator, which loading shares with the
    # new optimizer.
    _DEEP_COPIED = ("_schedule", "_stopper", "_optimizer_state", "_schedule_state")

    @contextmanager
    def _restore_on_failure(self):
        """Leave the estimator exactly as it was when a call fails.

        A fitted estimator keeps its model; an unfitted one stays unfitted
        (no stray ``n_features_in_`` from the validation of bad data). What
        training changes in place is recorded: the network's and the
        optimizer's values by :class:`sknn._undo.Undo`, the rest deep-copied;
        the per-epoch lists (only ever appended to) are cut back to their
        lengths, the same list objects, so one a caller holds is restored too
        and the cost of a ``partial_fit`` call does not grow with its history.
        """
        params = set(self._param_names_once())
        saved = {k: v for k, v in vars(self).items() if k not in params}
        undo = None
        if "module_" in saved:
            undo = Undo(saved["module_"], saved.get("_optimizer"))
            others = {k: saved[k] for k in self._DEEP_COPIED if k in saved}
            saved.update(copy.deepcopy(others, undo.memo()))
        lengths = {k: len(v) for k, v in saved.items() if isinstance(v, list)}
        try:
            yield
        except BaseException:
            for key, n in lengths.items():
                del saved[key][n:]
            for key in [k for k in vars(self) if k not in params]:
                delattr(self, key)
            vars(self).update(saved)
            if undo is not None:
                undo.restore()
                self._cache_float64_layers()  # the module's values were written back
            raise

    def _validated_training_input(self, X, y, reset, **check_params):
        """``validate_data`` on ``X`` and ``y`` as both estimators call it; where
        it would return them unchanged (a later ``partial_fit`` call, usually),
        ``(X, y)`` at once (:func:`sknn._unchanged_input.training_input_arrays`)."""
        arrays = None if reset else training_input_arrays(self, X, y)
        if arrays is not None:
            return arrays
        return validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
            dtype=(np.float64, np.float32), reset=reset, **check_params,
        )

    def _param_names_once(self) -> list[str]:
        names = _PARAM_NAMES.get(type(self))
        if names is None:  # inspects the signature: once per class
            names = _PARAM_NAMES[type(self)] = self._get_param_names()
        return names

    def _param_values(self) -> list:
        return list(map(vars(self).__getitem__, self._param_names_once()))

    def _check_params_set_since(self):
        """Check the parameters ``set_params`` changed since the last check.

        scikit-learn checks them in ``fit`` and in a first ``partial_fit``, not
        in a fitted estimator's ``partial_fit`` (the check takes ~80 us here),
        where a bad value then surfaces as a ``KeyError`` from deep inside, or
        trains. Checked again only when some parameter is another object than
        at the last check (values held, so no address is reused). Inside the
        call scikit-learn's ``skip_parameter_validation`` is always set (for
        nested calls), so the user's global setting cannot be read here.
        """
        last = self.__dict__.get("_checked_params")
        values = map(vars(self).__getitem__, self._param_names_once())
        if last is None or not all(map(operator.is_, values, last)):
            self._validate_params()

    def _fit(self, X, y, sample_weight=None, incremental=False):
        if incremental:
            self._check_params_set_since()
        with self._restore_on_failure(), call_random_state(self.random_state) as rng:
            self._fit_unsafe(X, y, sample_weight, incremental, rng)
        return self

    def _fit_unsafe(self, X, y, sample_weight, incremental, rng):
        # rng() is the call's RandomState, built at its first draw: a
        # partial_fit call on one row never draws (sknn._call_rng).
        hidden = hidden_sizes(self)
        check_options(self, hidden)
        first_pass = not hasattr(self, "module_") or (not self.warm_start and not incremental)
        if not incremental:
            # Only partial_fit keeps a numpy step between calls (_array_step): a
            # fitted model carries no training arrays (think of a thousand
            # bootstrap fits), whichever solver fits it.
            self.__dict__.pop("_numpy_step", None)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        sample_weight = self._adjust_sample_weight(sample_weight, Y, incremental)
        if self.early_stopping and incremental:
            # After the inputs' checks, as scikit-learn raises it.
            raise ValueError("partial_fit does not support early_stopping=True")
        if self.normalization == "batch":
            if X.shape[0] < 2:
                raise ValueError(
                    "normalization='batch' needs at least 2 samples per batch; "
                    f"got n_samples={X.shape[0]}."
                )
            if self.solver != "lbfgs" and self.batch_size != "auto" and self.batch_size < 2:
                raise ValueError(
                    "normalization='batch' needs at least 2 samples per batch; "
                    f"got batch_size={self.batch_size}."
                )
        device = resolve_device(self.device)
        if self.cuda_graphs:
            check_graph_device(self, device)
        dtype = self._compute_dtype()

        if first_pass:
            self._initialize(X, Y, hidden, rng(), device, dtype)
        else:
            self._check_architecture(X, Y, hidden)
            self._rebuild_for_new_layer_options(hidden, dtype, device)
            # A loss changed since (loss="poisson" after "squared_error") trains
            # through its own output activation: predictions must use it too.
            self.out_activation_ = LOSSES[self._loss_name()].output
        params = list(self.module_.parameters())
        buffers = list(self.module_.buffers())
        if not _placed([*params, *buffers], device, dtype):  # Module.to walks every module
            self.module_.to(device=device, dtype=dtype)
            params = list(self.module_.parameters())
            # The optimizer's moments would stay where the module was.
            park_optimizer(self.__dict__)
        self.device_ = device

        loss_fn = make_loss(self._loss_name(), Y.shape[1], **self._loss_kwargs())
        weights = [layer.weight for layer in self.module_.linear_layers()]
        # A context: a call that fails before training (a too small validation
        # set) closes the progress bar it opened too.
        with Reporter(self.verbose, self.max_iter if not incremental else 1) as reporter, \
                self._seeded_random_layers(rng, device), \
                float32_matmul_precision(self.matmul_precision):
            if self.solver == "lbfgs":
                self._run_lbfgs(X, Y, sample_weight, loss_fn, weights, reporter, device, dtype)
            else:
                self._run_stochastic(
                    X, Y, sample_weight, loss_fn, weights, reporter, device, dtype, rng,
                    incremental,
                )
        if not all(_finite(p) for p in params):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        self._cache_float64_layers()

    @contextmanager
    def _seeded_random_layers(self, rng, device):
        """Dropout masks and RReLU slopes drawn from a generator seeded by
        ``random_state``, for this call only (the global torch RNG is never used).
        ``rng()`` gives the call's RandomState (see ``_fit_unsafe``)."""
        generator = None
        if self.module_.has_random_layers():
            generator = torch.Generator(device=device)
            generator.manual_seed(int(rng().randint(np.iinfo(np.int32).max)))
        self.module_.set_generator(generator)
        try:
            yield
        finally:
            # A generator cannot be pickled, and belongs to this call only.
            self.module_.set_generator(None)

    def _initialize(self, X, Y, hidden, rng, device, dtype):
        """First call: build the network and reset every fitted attribute."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(hidden) + 2
        self.out_activation_ = LOSSES[self._loss_name()].output
        # scikit-learn keeps float32 coefficients for float32 data, except lbfgs.
        self._coef_dtype = np.dtype(np.float64) if self.solver == "lbfgs" else X.dtype
        self.module_ = self._build_module(X.shape[1], hidden, rng, dtype, device)
        self.history_ = []
        for name in ("_optimizer", "_schedule", "_optimizer_state", "_schedule_state",
                     "_optimizer_config",
                     "loss_curve_", "best_loss_", "validation_scores_",
                     "best_validation_score_", "_stopper"):
            self.__dict__.pop(name, None)

    def _prepare_stopping(self):
        """Stochastic solvers' stopping state; kept across warm starts like scikit-learn's."""
        stopper = getattr(self, "_stopper", None)
        if stopper is None or stopper.use_validation != self.early_stopping:
            stopper = self._stopper = StoppingRule(
                self.tol, self.n_iter_no_change, self.early_stopping
            )
            self.validation_scores_ = [] if self.early_stopping else None
        stopper.tol, stopper.n_iter_no_change = self.tol, self.n_iter_no_change
        if not hasattr(self, "loss_curve_"):
            self.loss_curve_ = []
        self._sync_stopping_attributes()

    def _layer_options(self) -> dict:
        return {
            "activation": self.activation, "activation_kwargs": self.activation_kwargs,
            "dropout": self.dropout, "normalization": self.normalization,
        }

    def _build_module(self, n_features, hidden, rng, dtype, device):
        module = MLPModule(
            n_features, hidden, self.n_outputs_, init=self.init, init_kwargs=self.init_kwargs,
            random_state=rng, dtype=dtype, device=device, **self._layer_options(),
        )
        self._module_options = copy.deepcopy(self._layer_options())
        return module.eval()

    def _rebuild_for_new_layer_options(self, hidden, dtype, device):
        """warm_start / partial_fit after activation, dropout or normalization changed.

        scikit-learn applies a new activation to the trained weights; sknn does
        the same for every layer option: a new network with the new layers,
        the trained linear weights (and normalisation parameters, if kept).
        """
        n_hidden = len(hidden)
        if _same(_per_layer_options(self._module_options, n_hidden),
                 _per_layer_options(self._layer_options(), n_hidden)):
            return  # the same layers, however spelled ("prelu" or ["prelu", "prelu"])
        old = self.module_
        # The new layers' initial draws are all overwritten (linear weights)
        # or not random (normalisation, PReLU); a RandomState of their own
        # leaves the call's stream (shuffles, the validation split) as
        # scikit-learn's, which draws nothing here.
        new = self._build_module(old.linear_layers()[0].in_features, hidden,
                                 np.random.RandomState(0), dtype, device)
        with torch.no_grad():
            for target, source in zip(new.linear_layers(), old.linear_layers()):
                target.weight.copy_(source.weight)
                target.bias.copy_(source.bias)
            # A layer whose activation kept its class keeps its learned
            # parameters (PReLU's slopes) when another layer's changes.
            for target, source in zip(new.hidden_activations(), old.hidden_activations()):
                if type(target) is type(source) and [p.shape for p in target.parameters()] \
                        == [p.shape for p in source.parameters()]:
                    target.load_state_dict(source.state_dict())
        old_norms = [m for m in old.layers if isinstance(m, (nn.BatchNorm1d, nn.LayerNorm))]
        new_norms = [m for m in new.layers if isinstance(m, (nn.BatchNorm1d, nn.LayerNorm))]
        same_norms = [type(m) for m in old_norms] == [type(m) for m in new_norms]
        if old_norms and same_norms:
            for target, source in zip(new_norms, old_norms):
                target.load_state_dict(source.state_dict())
        self.module_ = new
        # Where every parameter carried over (a new activation, a new dropout
        # rate), the next partial_fit resumes the optimizer's state on the new
        # module, as scikit-learn's optimizer keeps its velocities when only
        # the activation changes (an unpickled model's saved state maps onto
        # it the same way); else that state belongs to parameters now gone.
        park_optimizer(self.__dict__)
        carried = same_norms and (
            [p.shape for p in old.parameters()] == [p.shape for p in new.parameters()])
        if not carried:
            self.__dict__.pop("_optimizer_state", None)
            self.__dict__.pop("_schedule_state", None)

    def _check_architecture(self, X, Y, hidden):
        current = [layer.out_features for layer in self.module_.linear_layers()[:-1]]
        if current != hidden:
            raise ValueError(
                f"hidden_layer_sizes={hidden} differs from the fitted network's {current}; "
                "set warm_start=False to train a new network."
            )
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} output(s) but the fitted network has {self.n_outputs_}."
            )

    def _sync_stopping_attributes(self):
        best = self._stopper.best_loss
        # numpy floats, as scikit-learn's losses are (its scores are floats).
        self.best_loss_ = None if best is None else np.float64(best)
        self.best_validation_score_ = self._stopper.best_score

    def _run_lbfgs(self, X, Y, sw, loss_fn, weights, reporter, device, dtype):
        data = TensorData(
            to_tensor(X, dtype, device), to_tensor(Y, dtype, device),
            None if sw is None else to_tensor(sw, dtype, device),
        )
        work = len(data) * self._n_weights()
        numpy_gradient = self._numpy_gradient(weights, work)
        torch_gradient = None if numpy_gradient is not None else self._torch_gradient(weights)
        # As on the stochastic numpy path: a diverging fit is reported once.
        quiet = np.errstate(all="ignore") if numpy_gradient is not None else nullcontext()
        with thread_budget(work, blas=numpy_gradient is not None), one_blas_thread(), quiet:
            result = train_lbfgs(
                module=self.module_, loss_fn=loss_fn, alpha=self.alpha, weights=weights,
                data=data, max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol,
                reporter=reporter, first_epoch=len(self.history_),
                numpy_gradient=numpy_gradient, torch_gradient=torch_gradient,
            )
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = np.float64(result.reported)
        self.history_.extend(result.records)

    def _run_stochastic(self, X, Y, sw, loss_fn, weights, reporter, device, dtype, rng,
                        incremental):
        self._prepare_stopping()
        if self.early_stopping:
            # scikit-learn stratifies on its boolean indicator column (the same
            # split as on 0.0/1.0; its error names the classes True/False).
            stratify = Y.astype(bool) if (is_classifier(self) and Y.shape[1] == 1) else None
            arrays = (X, Y) if sw is None else (X, Y, sw)
            parts = train_test_split(
                *arrays, random_state=rng(), test_size=self.validation_fraction, stratify=stratify
            )
            X, X_val, Y, Y_val = parts[:4]
            sw, sw_val = (None, None) if sw is None else parts[4:]
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
                )
            if sw_val is not None:
                # scikit-learn's weighted score raises these after the first
                # epoch; here they come before any training.
                if not np.any(sw_val):
                    raise ValueError("Sample weights must contain at least one non-zero number.")
                if sw_val.sum() == 0:
                    raise ZeroDivisionError("Weights sum to zero, can't be normalized")
            if self.normalization == "batch" and X.shape[0] < 2:
                raise ValueError(
                    "normalization='batch' needs at least 2 samples per batch; early "
                    f"stopping's split leaves {X.shape[0]} for training. Decrease "
                    "'validation_fraction' or increase the size of your dataset."
                )
            validation = TensorData(
                to_tensor(X_val, dtype, device), to_tensor(Y_val, dtype, device),
                None if sw_val is None else to_tensor(sw_val, dtype, device),
            )
        else:
            validation = None
        n = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than "
                    "sample size. It is going to be clipped"
                )
            batch_size = int(np.clip(self.batch_size, 1, n))
        min_batch = 2 if self.normalization == "batch" else 1
        bounds = batch_bounds(n, batch_size, min_batch)
        steps = len(bounds)  # a schedule stepped per batch counts merged tails once
        if incremental and getattr(self, "_optimizer", None) is not None:
            optimizer, schedule = self._optimizer, self._schedule
        else:
            optimizer, schedule = self._make_optimizer(steps, incremental)
        metric = "val_score" if self.early_stopping else "loss"
        if getattr(schedule, "is_plateau", False) and schedule.metric != metric:
            # early_stopping changed since: the plateau schedule watches what
            # is measured now (a validation score no longer is), afresh.
            config = {**self._optimizer_config, "early_stopping": self.early_stopping}
            schedule = build_schedule(SimpleNamespace(**config), optimizer, steps)
        if self.cuda_graphs and not supports_graphs(optimizer):
            raise ValueError(
                "cuda_graphs=True replays sknn's fused Adam update, which this optimizer "
                f"(solver={self.solver!r}, optimizer_kwargs={self.optimizer_kwargs!r}) does not "
                "allow: use solver='adam' or 'adamw' without amsgrad, maximize or "
                "capturable, or cuda_graphs=False."
            )
        X_train, batch_dtype = training_inputs(X, dtype, device)
        train = TensorData(
            X_train, to_tensor(Y, dtype, device),
            None if sw is None else to_tensor(sw, dtype, device), batch_dtype,
        )
        order = None
        if self.shuffle:
            sample_idx = np.arange(n, dtype=np.int64)

            def order():
                nonlocal sample_idx
                # sklearn.utils.shuffle's draws (so equal seeds give equal
                # batches) without its per-call validation overhead.
                if n > 1:
                    perm = np.arange(n)
                    rng().shuffle(perm)
                    sample_idx = sample_idx[perm]
                return sample_idx

        if sw is not None:
            # Checked in the training dtype: weights that cancel, or underflow,
            # only once rounded to float32 would otherwise reach the step as 0 / 0.
            sw_trained = sw.astype(np.float64 if dtype == torch.float64 else np.float32)
            if not np.all(sw_trained > 0):
                order = nonzero_weight_batches(order, sw_trained, bounds)
        work = batch_size * self._n_weights()
        array_step = self._array_step(optimizer, weights, work, keep=incremental)
        # A diverging fit is reported once, as non-finite weights (below), on
        # either path; numpy would also warn at every overflowing operation.
        quiet = np.errstate(all="ignore") if array_step is not None else nullcontext()
        with thread_budget(work, blas=array_step is not None), quiet:
            outcome = train_stochastic(
                module=self.module_,
                step=self._training_step(loss_fn, weights) if array_step is None else None,
                array_step=array_step,
                optimizer=optimizer, schedule=schedule, train=train,
                batch_size=batch_size, min_batch=min_batch, max_iter=self.max_iter,
                order=order, stopper=self._stopper, reporter=reporter,
                incremental=incremental, first_epoch=len(self.history_), t0=self.t_,
                loss_fn=loss_fn, output=self.out_activation_, validation=validation,
                score_fn=self._score_tensors, cuda_graph=self.cuda_graphs,
            )
        self._optimizer, self._schedule = optimizer, schedule
        self.n_iter_ = outcome.n_iter
        self.t_ = outcome.samples_seen
        self.loss_ = np.float64(outcome.loss)
        self.loss_curve_.extend(np.float64(r["loss"]) for r in outcome.records)
        self.history_.extend(outcome.records)
        if validation is not None:
            self.validation_scores_.extend(r["val_score"] for r in outcome.records)
        self._sync_stopping_attributes()
        if not incremental and not outcome.stopped and outcome.n_iter == self.max_iter:
            warnings.warn(
                "Stochastic Optimizer: Maximum iterations (%d) reached and the "
                "optimization hasn't converged yet." % self.max_iter,
                ConvergenceWarning,
            )

    def _plain_network(self, layers=True):
        """The network's :class:`_PlainNetwork` description when hand-derived
        gradients apply, else None.

        Both steps have normalisation layers, PReLU, RReLU and the losses of
        :data:`sknn._fast_mlp.EXTRA_LOSSES`; ``layers=False`` asks for a
        network without them (the mixed-precision step's).
        """
        if not _FAST_PATH:
            return None
        name = self._loss_name()
        spec = LOSSES[name]
        if spec.output not in FAST_OUTPUTS:
            return None
        if name in _CANONICAL_LOSSES:
            loss = None
        elif layers and name in EXTRA_LOSSES:
            loss = name
        else:
            return None
        rule = self.module_.plain_activation(normalized=layers, parametric=layers)
        if rule is None:
            return None
        module = self.module_
        return _PlainNetwork(rule, spec, module.hidden_dropouts(), module.hidden_norms(),
                             module.hidden_leaky_relus(), loss)

    def _training_step(self, loss_fn, weights):
        """The hand-derived step where it applies (same results, less overhead),
        autograd everywhere else."""
        plain = self._plain_network(layers=self.autocast is None)
        autocast = None if self.autocast is None else AUTOCAST_DTYPES[self.autocast]
        if plain is None or not _supported_layers(plain, weights):
            return make_autograd_step(self.module_, loss_fn, self.alpha, weights, autocast)
        biases = [layer.bias for layer in self.module_.linear_layers()]
        return make_fast_step(weights, biases, plain.activation, plain.spec.output, self.alpha,
                              self._report_scale(plain), autocast=autocast,
                              **self._layer_kwargs(plain))

    def _report_scale(self, plain):
        # scikit-learn reports the multi-output squared error averaged over outputs.
        return 1.0 / self.n_outputs_ if plain.spec.mean_over_outputs else 1.0

    def _layer_kwargs(self, plain) -> dict:
        """The keyword arguments every hand-derived step takes for ``plain``'s
        layers and loss (:class:`sknn._fast_mlp.ManualMLPGrad`'s names)."""
        return {"dropouts": plain.dropouts, "norms": plain.norms,
                "leaky_relus": plain.leaky_relus, "loss": plain.loss, **self._loss_kwargs()}

    def _array_step(self, optimizer, weights, work, keep=False):
        """The numpy step for small plain networks trained by a named solver
        with a numpy update (:data:`sknn._numpy_updates.UPDATES`), without
        autocast or a reduced ``matmul_precision`` (numpy computes at full
        precision), else None. The updates
        read the learning rate from the optimizer at every step, so schedulers
        work as on the torch path.

        Below :data:`~sknn._numpy_mlp.NUMPY_MAX_WORK` multiply-adds per step a
        step costs what its operations cost to launch, which is less in numpy.
        """
        plain = self._plain_network()
        full_precision = self.autocast is None and self.matmul_precision == "highest"
        if plain is None or work >= NUMPY_MAX_WORK or not _NUMPY_PATH or not full_precision:
            return None
        biases = [layer.bias for layer in self.module_.linear_layers()]
        # A partial_fit call on a few rows costs what building the step costs
        # (copying parameters and optimizer state into flat arrays): with
        # ``keep`` (partial_fit), the last call's step trains on where nothing
        # has changed since it synced.
        key = (weights, biases, plain, self.alpha, self._report_scale(plain),
               self._layer_kwargs(plain), [None if d is None else d.p for d in plain.dropouts])
        cached = self.__dict__.get("_numpy_step")
        if (keep and cached is not None and _same_key(cached[0], key)
                and cached[1].is_current(optimizer)):
            return cached[1]
        if not NumpyMLPStep.supports(weights, biases, optimizer, plain.activation,
                                     plain.spec.output, plain.norms, plain.leaky_relus, plain.loss):
            return None
        step = NumpyMLPStep(weights, biases, optimizer, plain.activation, plain.spec.output,
                            self.alpha, self._report_scale(plain), **self._layer_kwargs(plain))
        if keep:
            self._numpy_step = (key, step)
        return step

    def _numpy_gradient(self, weights, work):
        """The numpy objective for lbfgs on a small plain network, else None
        (the same size limit as :meth:`_array_step`)."""
        plain = self._plain_network()
        if plain is None or work >= NUMPY_MAX_WORK or not _NUMPY_PATH:
            return None
        biases = [layer.bias for layer in self.module_.linear_layers()]
        if not NumpyMLPGradient.supports_network(weights, biases, plain.activation,
                                                 plain.spec.output, plain.norms,
                                                 plain.leaky_relus, plain.loss):
            return None
        return NumpyMLPGradient(weights, biases, plain.activation, plain.spec.output, self.alpha,
                                self._report_scale(plain), **self._layer_kwargs(plain))

    def _torch_gradient(self, weights):
        """``(ManualMLPGrad, report_scale)`` for lbfgs on a plain network that
        the numpy objective does not take (larger ones, accelerators), else None."""
        plain = self._plain_network()
        if plain is None or not _supported_layers(plain, weights):
            return None
        biases = [layer.bias for layer in self.module_.linear_layers()]
        grad_fn = ManualMLPGrad(weights, biases, plain.activation, plain.spec.output, self.alpha,
                                **self._layer_kwargs(plain))
        return grad_fn, self._report_scale(plain)

    def _make_optimizer(self, steps_per_epoch, incremental):
        # After unpickling (or a move, or new layers), partial_fit resumes the
        # saved optimizer state, in an optimizer and schedule built from the
        # parameters the saved ones were built from: a live partial_fit keeps
        # its optimizer whatever set_params changed since, as scikit-learn's.
        state = self.__dict__.pop("_optimizer_state", None)
        sched_state = self.__dict__.pop("_schedule_state", None)
        resuming = incremental and state is not None
        config = self.__dict__.get("_optimizer_config") if resuming else None
        if config is None:
            # Copied: a dict parameter edited in place later must not change it.
            config = copy.deepcopy({name: getattr(self, name) for name in OPTIMIZER_PARAMS})
        self._optimizer_config = config
        params = self.module_.parameters()
        optimizer = make_optimizer(config["solver"], params, config, config["optimizer_kwargs"])
        schedule = build_schedule(SimpleNamespace(**config), optimizer, steps_per_epoch)
        if resuming:
            optimizer.load_state_dict(state)
            _keep_state_dtypes(optimizer, state)
            adam_steps_to_device(optimizer)
            asgd_follows_device(optimizer, config["solver"], config["optimizer_kwargs"])
            if sched_state:
                schedule.load_state_dict(sched_state)
        return optimizer, schedule

    def _check_solver(self):
        # scikit-learn's MLPRegressor forgets to call this check (its
        # partial_fit then runs a full lbfgs fit); here both estimators agree.
        if isinstance(self.solver, str) and self.solver not in STOCHASTIC:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        try:
            # Accelerator kernels are not bit-for-bit reproducible.
            tags.non_deterministic = parse_device(self.device).type != "cpu"
        except ValueError:
            pass
        return tags


#: Each estimator class's parameter names (``_get_param_names`` inspects its signature).
_PARAM_NAMES: dict[type, list[str]] = {}

def _keep_state_dtypes(optimizer, saved: dict):
    """Give ``optimizer``'s scalar state tensors the dtypes they had in ``saved``.

    ``Optimizer.load_state_dict`` casts every floating state tensor but
    ``step`` to its parameter's dtype. For the per-element moments that is
    right (they follow the parameters, also into a new ``compute_dtype``);
    but torch keeps scalar state such as NAdam's ``mu_product`` or ASGD's
    ``eta`` in float32 whatever the parameters' dtype, and a float64 copy
    would round differently: ``partial_fit`` after a pickle round trip would
    drift from the training it continues (by 1e-13 to 3e-10).
    """
    for saved_group, group in zip(saved["param_groups"], optimizer.param_groups):
        for index, param in zip(saved_group["params"], group["params"]):
            state = optimizer.state.get(param, {})
            for key, value in saved["state"].get(index, {}).items():
                loaded = state.get(key)
                if (torch.is_tensor(value) and value.dim() == 0 and torch.is_tensor(loaded)
                        and loaded.dtype != value.dtype):
                    state[key] = loaded.to(value.dtype)


def _same_key(a: tuple, b: tuple) -> bool:
    """Equal step keys: the same parameter objects, equal settings."""
    return (all(x is y for x, y in zip(a[0] + a[1], b[0] + b[1]))
            and len(a[0]) == len(b[0]) and len(a[1]) == len(b[1]) and a[2:] == b[2:])


def _placed(tensors: list, device: torch.device, dtype: torch.dtype) -> bool:
    """Whether ``Module.to(device=device, dtype=dtype)`` would change none of
    ``tensors`` (a module's parameters and buffers)."""
    if device.type == "cuda" and device.index is None:
        # device="cuda" means the current device; a tensor there says cuda:N.
        device = torch.device("cuda", torch.cuda.current_device())
    return all(t.device == device for t in tensors) and all(
        t.dtype == dtype for t in tensors if t.is_floating_point()
    )


def _finite(t: torch.Tensor) -> bool:
    """Whether every element of ``t`` is finite: with numpy on the CPU (about a
    quarter of torch's dispatch time for the small tensors of a ``partial_fit``
    call), with torch elsewhere."""
    if t.device.type == "cpu" and t.dtype in (torch.float32, torch.float64):
        return bool(np.isfinite(t.detach().numpy()).all())
    return bool(torch.isfinite(t).all())


def _supported_layers(plain, weights) -> bool:
    """Whether the hand-derived steps have the closed form of every layer of ``plain``."""
    return all(m is None or supports_norm(m) for m in plain.norms) and all(
        m is None or supports_leaky_relu(m, w.shape[0])
        for m, w in zip(plain.leaky_relus, weights))


def _per_layer_options(options: dict, n_hidden: int) -> dict:
    """Layer options with one entry per hidden layer, so that equal layers
    compare equal however they were given."""
    try:
        return {**options,
                "activation": per_layer(options["activation"], n_hidden),
                "activation_kwargs": per_layer(options["activation_kwargs"], n_hidden),
                "dropout": np.broadcast_to(np.asarray(options["dropout"], dtype=float),
                                           (n_hidden,)).tolist()}
    except ValueError:  # lengths the options check refuses: compare as given
        return options


def _same(a, b) -> bool:
    """Equality that tolerates numpy arrays in parameter values (e.g. dropout)."""
    if a is b:  # the saved options are deep copies: shared immutable values
        return True
    try:
        return bool(np.all(a == b)) if not isinstance(a, dict) else (
            a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
        )
    except (TypeError, ValueError, AttributeError):
        return False
