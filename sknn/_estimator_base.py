"""Estimator layer shared by the classifier and the regressor.

Everything scikit-learn-specific lives here: parameter validation, the
early-stopping split, fitted attributes, warm starts, pickling. Training is
delegated to :mod:`sknn._engine` / :mod:`sknn._lbfgs`; the subclasses only
encode targets, pick the loss and score predictions.
"""

from __future__ import annotations

import copy
import warnings
from abc import ABC, abstractmethod
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from torch import nn

from ._activations import ACTIVATIONS, make_activation
from ._device import DTYPES, parse_device, resolve_device, thread_budget, to_tensor
from ._engine import StoppingRule, TensorData, make_autograd_step, train_stochastic
from ._fast_mlp import ACTIVATIONS as FAST_ACTIVATIONS
from ._fast_mlp import OUTPUTS as FAST_OUTPUTS
from ._fast_mlp import make_fast_step
from ._initializers import INITIALIZERS, InitContext, init_linear
from ._lbfgs import train_lbfgs
from ._losses import LOSSES, OUTPUT_ACTIVATIONS, make_loss
from ._module import NORMALIZATIONS, MLPModule
from ._numpy_forward import HIDDEN as NUMPY_HIDDEN
from ._numpy_forward import MAX_ROWS as NUMPY_MAX_ROWS
from ._numpy_forward import numpy_forward
from ._optimizers import OPTIMIZERS, STOCHASTIC, make_optimizer
from ._progress import Reporter
from ._schedulers import SCHEDULERS, make_schedule
from ._summary import summarize

# Tests switch the hand-derived training step off to compare it with autograd.
_FAST_PATH = True

# Rows per forward pass at predict time on an accelerator, to bound memory.
_PREDICT_CHUNK = 1 << 16


class _SubclassOf(Options):
    """Constraint satisfied by a class deriving from ``base``.

    It derives from ``Options`` only because scikit-learn's validator accepts
    no other custom constraint objects.
    """

    def __init__(self, base: type, label: str):
        super().__init__(type, set())
        self.base, self.label = base, label

    def is_satisfied_by(self, val):
        return isinstance(val, type) and issubclass(val, self.base)

    def __str__(self):
        return f"a subclass of {self.label}"


class BaseTorchMLP(BaseEstimator, ABC):
    """Base class of :class:`TorchMLPClassifier` and :class:`TorchMLPRegressor`.

    Not for direct use; see the subclasses for the parameters.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS)), _SubclassOf(nn.Module, "torch.nn.Module")],
        "solver": [
            StrOptions(set(OPTIMIZERS)),
            _SubclassOf(torch.optim.Optimizer, "torch.optim.Optimizer"),
        ],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "activation_kwargs": [dict, None],
        "init": [StrOptions(set(INITIALIZERS)), callable],
        "init_kwargs": [dict, None],
        "optimizer_kwargs": [dict, None],
        "lr_scheduler": [
            StrOptions(set(SCHEDULERS)),
            _SubclassOf(
                torch.optim.lr_scheduler.LRScheduler, "torch.optim.lr_scheduler.LRScheduler"
            ),
            _SubclassOf(
                torch.optim.lr_scheduler.ReduceLROnPlateau,
                "torch.optim.lr_scheduler.ReduceLROnPlateau",
            ),
            None,
        ],
        "lr_scheduler_kwargs": [dict, None],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "normalization": [StrOptions(set(NORMALIZATIONS)), None],
        "device": [str, torch.device],
        "compute_dtype": [StrOptions(set(DTYPES))],
    }

    @abstractmethod
    def __init__(
        self, hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate,
        learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose,
        warm_start, momentum, nesterovs_momentum, early_stopping, validation_fraction,
        beta_1, beta_2, epsilon, n_iter_no_change, max_fun, activation_kwargs, init,
        init_kwargs, optimizer_kwargs, lr_scheduler, lr_scheduler_kwargs, dropout,
        normalization, device, compute_dtype,
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

    # ------------------------------------------------------------------
    # Parameters scikit-learn does not check by itself
    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if any(not isinstance(h, (Integral, np.integer)) for h in sizes):
            raise TypeError(f"hidden_layer_sizes must contain integers, got {sizes}.")
        if np.any(np.array(sizes) <= 0):
            raise ValueError("hidden_layer_sizes must be > 0, got %s." % sizes)
        return [int(h) for h in sizes]

    def _invalid(self, name: str, detail: str) -> InvalidParameterError:
        return InvalidParameterError(
            f"The {name!r} parameter of {type(self).__name__} {detail}"
        )

    def _check_options(self, hidden: list[int]) -> None:
        """Try every option's keyword arguments on a throw-away object, so a
        mistake fails here, before any training, in scikit-learn's words."""
        try:
            make_activation(self.activation, self.activation_kwargs)
        except (TypeError, ValueError) as exc:
            raise self._invalid(
                "activation_kwargs",
                f"is not valid for activation={self.activation!r}: {exc}",
            ) from None
        if isinstance(self.init, str):
            missing = set(INITIALIZERS[self.init].required) - set(self.init_kwargs or {})
            if missing:
                raise self._invalid(
                    "init_kwargs", f"must give {sorted(missing)} for init={self.init!r}."
                )
        try:
            ctx = InitContext(self.activation, self.activation_kwargs,
                              np.random.RandomState(0), torch.Generator())
            # skip_init: a plain Linear would draw from torch's global RNG.
            probe = nn.utils.skip_init(nn.Linear, 3, 2)
            init_linear(probe, self.init, self.init_kwargs, ctx)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise self._invalid(
                "init_kwargs", f"is not valid for init={self.init!r}: {exc}"
            ) from None
        if not np.isscalar(self.dropout):
            drops = np.asarray(self.dropout, dtype=float)
            if drops.ndim != 1 or len(drops) != len(hidden):
                raise self._invalid(
                    "dropout",
                    f"must be a float or one value per hidden layer ({len(hidden)}); "
                    f"got {self.dropout!r}.",
                )
            if np.any((drops < 0) | (drops >= 1)):
                raise self._invalid("dropout", f"values must be in [0, 1); got {self.dropout!r}.")
        try:
            parse_device(self.device)
        except ValueError as exc:
            raise self._invalid("device", str(exc)) from None
        if self.solver == "lbfgs":
            for name in ("optimizer_kwargs", "lr_scheduler"):
                if getattr(self, name) is not None:
                    raise self._invalid(
                        name, "has no effect with solver='lbfgs'; leave it None."
                    )
            return
        if (self.solver == "sgd" and self.learning_rate != "constant"
                and self.lr_scheduler is not None):
            raise self._invalid(
                "lr_scheduler",
                f"and learning_rate={self.learning_rate!r} both set the learning rate; "
                "use one of them.",
            )
        probe = [nn.Parameter(torch.zeros(1))]
        try:
            optimizer = make_optimizer(self.solver, probe, self.get_params(), self.optimizer_kwargs)
        except (TypeError, ValueError) as exc:
            raise self._invalid(
                "optimizer_kwargs", f"is not valid for solver={self.solver!r}: {exc}"
            ) from None
        try:
            make_schedule(self.lr_scheduler, self.lr_scheduler_kwargs, optimizer,
                          self._schedule_context(steps_per_epoch=1))
        except (TypeError, ValueError, KeyError) as exc:
            raise self._invalid(
                "lr_scheduler_kwargs", f"is not valid for lr_scheduler={self.lr_scheduler!r}: {exc}"
            ) from None

    def _schedule_context(self, steps_per_epoch: int) -> dict:
        return {
            "solver": self.solver, "learning_rate": self.learning_rate,
            "learning_rate_init": self.learning_rate_init, "power_t": self.power_t,
            "max_iter": self.max_iter, "steps_per_epoch": steps_per_epoch,
            "metric": "val_score" if self.early_stopping else "loss",
        }

    # ------------------------------------------------------------------
    # Fitting
    def _compute_dtype(self) -> torch.dtype:
        # scipy's L-BFGS-B works in float64; so does scikit-learn's lbfgs.
        return torch.float64 if self.solver == "lbfgs" else DTYPES[self.compute_dtype]

    @contextmanager
    def _restore_on_failure(self):
        """Leave a fitted estimator exactly as it was when a call fails."""
        if not hasattr(self, "module_"):
            yield
            return
        params = set(self._get_param_names())
        saved = copy.deepcopy({k: v for k, v in vars(self).items() if k not in params})
        try:
            yield
        except BaseException:
            for key in [k for k in vars(self) if k not in params]:
                delattr(self, key)
            vars(self).update(saved)
            raise

    def _fit(self, X, y, sample_weight=None, incremental=False):
        with self._restore_on_failure():
            self._fit_unsafe(X, y, sample_weight, incremental)
        return self

    def _fit_unsafe(self, X, y, sample_weight, incremental):
        hidden = self._hidden_sizes()
        self._check_options(hidden)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "module_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        sample_weight = self._adjust_sample_weight(sample_weight, Y, incremental)
        if self.normalization == "batch" and X.shape[0] < 2:
            raise ValueError(
                "normalization='batch' needs at least 2 samples per batch; "
                f"got n_samples={X.shape[0]}."
            )
        device = resolve_device(self.device)
        dtype = self._compute_dtype()
        rng = check_random_state(self.random_state)

        if first_pass:
            self._initialize(X, Y, hidden, rng, device, dtype)
        else:
            self._check_architecture(X, Y, hidden)
            self._rebuild_for_new_layer_options(hidden, rng, dtype, device)
        self.module_.to(device=device, dtype=dtype)
        self.device_ = device

        loss_fn = make_loss(self._loss_name(), Y.shape[1], **self._loss_kwargs())
        weights = [layer.weight for layer in self.module_.linear_layers()]
        reporter = Reporter(self.verbose, self.max_iter if not incremental else 1)
        if self.solver == "lbfgs":
            self._run_lbfgs(X, Y, sample_weight, loss_fn, weights, reporter, device, dtype)
        else:
            self._run_stochastic(
                X, Y, sample_weight, loss_fn, weights, reporter, device, dtype, rng, incremental
            )
        if not all(torch.isfinite(p).all() for p in self.module_.parameters()):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        self._cache_float64_layers()

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

    def _n_weights(self) -> int:
        return sum(layer.weight.numel() for layer in self.module_.linear_layers())

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

    def _rebuild_for_new_layer_options(self, hidden, rng, dtype, device):
        """warm_start / partial_fit after activation, dropout or normalization changed.

        scikit-learn applies a new activation to the trained weights; sknn does
        the same for every layer option: a new network with the new layers,
        the trained linear weights (and normalisation parameters, if kept).
        """
        if _same(self._module_options, self._layer_options()):
            return
        old = self.module_
        new = self._build_module(old.linear_layers()[0].in_features, hidden, rng, dtype, device)
        with torch.no_grad():
            for target, source in zip(new.linear_layers(), old.linear_layers()):
                target.weight.copy_(source.weight)
                target.bias.copy_(source.bias)
        old_norms = [m for m in old.layers if isinstance(m, (nn.BatchNorm1d, nn.LayerNorm))]
        new_norms = [m for m in new.layers if isinstance(m, (nn.BatchNorm1d, nn.LayerNorm))]
        if old_norms and [type(m) for m in old_norms] == [type(m) for m in new_norms]:
            for target, source in zip(new_norms, old_norms):
                target.load_state_dict(source.state_dict())
        self.module_ = new
        # The optimizer's state belongs to the old parameters.
        for name in ("_optimizer", "_schedule", "_optimizer_state", "_schedule_state"):
            self.__dict__.pop(name, None)

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
        self.best_loss_ = self._stopper.best_loss
        self.best_validation_score_ = self._stopper.best_score

    def _run_lbfgs(self, X, Y, sw, loss_fn, weights, reporter, device, dtype):
        data = TensorData(
            to_tensor(X, dtype, device), to_tensor(Y, dtype, device),
            None if sw is None else to_tensor(sw, dtype, device),
        )
        with thread_budget(len(data) * self._n_weights()):
            result = train_lbfgs(
                module=self.module_, loss_fn=loss_fn, alpha=self.alpha, weights=weights,
                data=data, max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol,
                reporter=reporter, first_epoch=len(self.history_),
            )
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = result.reported
        self.history_.extend(result.records)

    def _run_stochastic(self, X, Y, sw, loss_fn, weights, reporter, device, dtype, rng,
                        incremental):
        self._prepare_stopping()
        if self.early_stopping:
            stratify = Y if (is_classifier(self) and Y.shape[1] == 1) else None
            arrays = (X, Y) if sw is None else (X, Y, sw)
            parts = train_test_split(
                *arrays, random_state=rng, test_size=self.validation_fraction, stratify=stratify
            )
            X, X_val, Y, Y_val = parts[:4]
            sw, sw_val = (None, None) if sw is None else parts[4:]
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
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
        steps = max(1, len(range(0, n, batch_size)))
        if incremental and getattr(self, "_optimizer", None) is not None:
            optimizer, schedule = self._optimizer, self._schedule
        else:
            optimizer, schedule = self._make_optimizer(steps, incremental)
        train = TensorData(
            to_tensor(X, dtype, device), to_tensor(Y, dtype, device),
            None if sw is None else to_tensor(sw, dtype, device),
        )
        order = None
        if self.shuffle:
            sample_idx = np.arange(n, dtype=np.int64)

            def order():
                nonlocal sample_idx
                # sklearn.utils.shuffle's draws (so equal seeds give equal
                # batches) without its per-call validation overhead.
                perm = np.arange(n)
                rng.shuffle(perm)
                sample_idx = sample_idx[perm]
                return sample_idx

        generator = None
        if self.module_.has_random_layers():
            generator = torch.Generator(device=device)
            generator.manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
        self.module_.set_generator(generator)
        try:
            with thread_budget(batch_size * self._n_weights()):
                outcome = train_stochastic(
                    module=self.module_,
                    step=self._training_step(loss_fn, weights),
                    optimizer=optimizer, schedule=schedule, train=train,
                    batch_size=batch_size, min_batch=min_batch, max_iter=self.max_iter,
                    order=order, stopper=self._stopper, reporter=reporter,
                    incremental=incremental, first_epoch=len(self.history_), t0=self.t_,
                    loss_fn=loss_fn, output=self.out_activation_, validation=validation,
                    score_fn=self._score_tensors,
                )
        finally:
            # The generator cannot be pickled, and belongs to this call only.
            self.module_.set_generator(None)
        self._optimizer, self._schedule = optimizer, schedule
        self.n_iter_ = outcome.n_iter
        self.t_ = outcome.samples_seen
        self.loss_ = outcome.loss
        self.loss_curve_.extend(r["loss"] for r in outcome.records)
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

    def _training_step(self, loss_fn, weights):
        """The hand-derived step where it applies (same results, less overhead),
        autograd everywhere else."""
        activation = "logistic" if self.activation == "sigmoid" else self.activation
        spec = LOSSES[self._loss_name()]
        plain = (
            _FAST_PATH
            and activation in FAST_ACTIVATIONS
            and spec.output in FAST_OUTPUTS
            and self._loss_name() in ("squared_error", "poisson", "log_loss", "binary_log_loss")
            and self.normalization is None
            and not self.module_.has_random_layers()
        )
        if not plain:
            return make_autograd_step(self.module_, loss_fn, self.alpha, weights)
        biases = [layer.bias for layer in self.module_.linear_layers()]
        scale = 1.0 / self.n_outputs_ if spec.mean_over_outputs else 1.0
        return make_fast_step(weights, biases, activation, spec.output, self.alpha, scale)

    def _make_optimizer(self, steps_per_epoch, incremental):
        params = self.module_.parameters()
        optimizer = make_optimizer(self.solver, params, self.get_params(), self.optimizer_kwargs)
        schedule = make_schedule(
            self.lr_scheduler, self.lr_scheduler_kwargs, optimizer,
            self._schedule_context(steps_per_epoch),
        )
        # After unpickling, partial_fit resumes the saved optimizer state.
        state = self.__dict__.pop("_optimizer_state", None)
        sched_state = self.__dict__.pop("_schedule_state", None)
        if incremental and state is not None:
            optimizer.load_state_dict(state)
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

    # ------------------------------------------------------------------
    # Prediction
    def _forward(self, X) -> np.ndarray:
        """Validated X -> output activations, in scikit-learn's output dtype."""
        if "module_" not in self.__dict__:
            check_is_fitted(self)  # raises NotFittedError with scikit-learn's message
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        single = X.dtype == np.float32 and self._coef_dtype == np.float32
        dtype = torch.float32 if single else torch.float64
        device = self.module_.layers[0].weight.device
        if X.shape[0] <= NUMPY_MAX_ROWS and device.type == "cpu":
            layers = self._numpy_layers(single)
            if layers is not None:
                return numpy_forward(X, layers, self.activation, self.out_activation_)
        step = X.shape[0] if device.type == "cpu" else _PREDICT_CHUNK
        n_weights = self._n_weights()
        outputs = []
        with torch.inference_mode(), thread_budget(min(step, X.shape[0]) * n_weights):
            for start in range(0, X.shape[0], step):
                z = self.module_.forward_as(to_tensor(X[start:start + step], dtype, device), dtype)
                outputs.append(OUTPUT_ACTIVATIONS[self.out_activation_](z).cpu().numpy())
        return np.concatenate(outputs) if len(outputs) > 1 else outputs[0]

    def _numpy_layers(self, single: bool):
        """``(coef, intercept)`` arrays for :func:`numpy_forward`, or None.

        None unless the network is plain (linear layers and one of
        scikit-learn's activations). float32 arrays are views of the module's
        weights; float64 copies are made once per fit and used only while the
        weights' version counters show no change since.
        """
        if not isinstance(self.activation, str) or self.activation not in NUMPY_HIDDEN:
            return None
        if self.normalization is not None:
            return None
        params = [p for layer in self._layers() for p in (layer.weight, layer.bias)]
        if single:
            if params[0].dtype != torch.float32:
                return None
            arrays = [p.detach().numpy() for p in params]
            return [(w.T, b) for w, b in zip(arrays[::2], arrays[1::2])]
        cache = self.__dict__.get("_float64_layers")
        if cache is None or cache[0] != [p._version for p in params]:
            return None
        return cache[1]

    def _cache_float64_layers(self):
        params = [p for layer in self._layers() for p in (layer.weight, layer.bias)]
        if params[0].device.type != "cpu":
            self.__dict__.pop("_float64_layers", None)
            return
        arrays = [p.detach().numpy().astype(np.float64) for p in params]
        layers = [(np.ascontiguousarray(w.T), b) for w, b in zip(arrays[::2], arrays[1::2])]
        self._float64_layers = ([p._version for p in params], layers)

    # ------------------------------------------------------------------
    # scikit-learn's attributes, read from and written to the module
    def _layers(self):
        if "module_" not in self.__dict__:
            raise AttributeError("coefs_")
        return self.module_.linear_layers()

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weights in scikit-learn's (fan_in, fan_out) layout."""
        return [
            np.ascontiguousarray(layer.weight.detach().cpu().numpy().T, dtype=self._coef_dtype)
            for layer in self._layers()
        ]

    @coefs_.setter
    def coefs_(self, values):
        self._write_layers(values, "weight", transpose=True)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Biases, one vector per layer."""
        return [
            np.ascontiguousarray(layer.bias.detach().cpu().numpy(), dtype=self._coef_dtype)
            for layer in self._layers()
        ]

    @intercepts_.setter
    def intercepts_(self, values):
        self._write_layers(values, "bias", transpose=False)

    def _write_layers(self, values, name, transpose):
        layers = self._layers()
        if len(values) != len(layers):
            raise ValueError(f"Expected {len(layers)} arrays, got {len(values)}.")
        with torch.no_grad():
            for layer, value in zip(layers, values):
                target = getattr(layer, name)
                value = torch.as_tensor(np.asarray(value))
                value = value.T if transpose else value
                if value.shape != target.shape:
                    raise ValueError(
                        f"Expected shape {tuple(target.T.shape if transpose else target.shape)}, "
                        f"got {tuple(np.shape(value.T if transpose else value))}."
                    )
                target.copy_(value)
        self._cache_float64_layers()

    def summary(self):
        """Layers, output shapes and parameter counts (like ``torchsummary``).

        Returns
        -------
        summary : ModelSummary
            ``print(est.summary())`` shows the table; ``.total_params`` etc.
            give the numbers.
        """
        check_is_fitted(self)
        return summarize(self.module_, self.n_features_in_)

    # ------------------------------------------------------------------
    # Pickling: CPU-only state, so a GPU-fitted model loads anywhere
    def __getstate__(self):
        state = super().__getstate__()
        module = state.get("module_")
        if module is not None:
            state["module_"] = copy.deepcopy(module).to("cpu")
            state["device_"] = torch.device("cpu")
        optimizer = state.pop("_optimizer", None)
        schedule = state.pop("_schedule", None)
        if optimizer is not None:
            state["_optimizer_state"] = _to_cpu(optimizer.state_dict())
            state["_schedule_state"] = schedule.state_dict()
        state.pop("_float64_layers", None)  # rebuilt by __setstate__
        stopper = state.get("_stopper")
        if stopper is not None and stopper.best_state is not None:
            stopper = copy.copy(stopper)
            stopper.best_state = _to_cpu(stopper.best_state)
            state["_stopper"] = stopper
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "module_" in state:
            self._cache_float64_layers()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        try:
            # Accelerator kernels are not bit-for-bit reproducible.
            tags.non_deterministic = parse_device(self.device).type != "cpu"
        except ValueError:
            pass
        return tags


def _same(a, b) -> bool:
    """Equality that tolerates numpy arrays in parameter values (e.g. dropout)."""
    try:
        return bool(np.all(a == b)) if not isinstance(a, dict) else (
            a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
        )
    except (TypeError, ValueError, AttributeError):
        return False


def _to_cpu(obj):
    """Copy every tensor in a nested state dict to the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj
