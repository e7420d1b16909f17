"""The estimators' parameters: scikit-learn constraints and the checks they cannot express.

Everything here runs before any training, so a mistake fails in
scikit-learn's words and leaves a fitted estimator untouched.
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from torch import nn

from ._activations import ACTIVATIONS, make_activation
from ._device import AUTOCAST_DTYPES, DTYPES, MATMUL_PRECISIONS, parse_device, resolve_device
from ._initializers import INITIALIZERS, InitContext, init_linear
from ._module import NORMALIZATIONS
from ._optimizers import OPTIMIZERS, make_optimizer
from ._per_layer import is_per_layer, layer_activations, layer_inits, per_layer
from ._schedulers import SCHEDULERS, make_schedule


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


PARAMETER_CONSTRAINTS: dict = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(ACTIVATIONS)), _SubclassOf(nn.Module, "torch.nn.Module"),
                   list, tuple],
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
    "activation_kwargs": [dict, list, tuple, None],
    "init": [StrOptions(set(INITIALIZERS)), callable, list, tuple],
    "init_kwargs": [dict, list, tuple, None],
    "optimizer_kwargs": [dict, None],
    "lr_scheduler": [
        StrOptions(set(SCHEDULERS)),
        _SubclassOf(torch.optim.lr_scheduler.LRScheduler, "torch.optim.lr_scheduler.LRScheduler"),
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
    "autocast": [StrOptions(set(AUTOCAST_DTYPES)), None],
    "matmul_precision": [StrOptions(set(MATMUL_PRECISIONS))],
    "cuda_graphs": ["boolean"],
}


def _check_float32_training(est, name: str, default, why: str) -> None:
    """``name`` acts on float32 training by a stochastic solver only."""
    if est.solver == "lbfgs":
        raise _invalid(est, name, "has no effect with solver='lbfgs' (it trains in float64); "
                       f"leave it {default!r}.")
    if est.compute_dtype != "float32":
        raise _invalid(est, name, f"needs compute_dtype='float32' ({why}); "
                       f"got compute_dtype={est.compute_dtype!r}.")


#: Adam options the fused update that a graph replays does not have.
_UNREPLAYABLE_ADAM_OPTIONS = ("amsgrad", "maximize", "capturable", "differentiable")


def _check_cuda_graphs_options(est) -> None:
    """What a replayed step cannot do: whole-data steps, other optimizers, random draws."""
    if est.solver == "lbfgs":
        raise _invalid(est, "cuda_graphs", "has no effect with solver='lbfgs' (it does not "
                       "train in mini-batches); leave it False.")
    if est.solver not in ("adam", "adamw", torch.optim.Adam, torch.optim.AdamW):
        raise _invalid(est, "cuda_graphs", "replays sknn's fused Adam update and needs "
                       f"solver='adam' or 'adamw'; got solver={est.solver!r}.")
    unreplayable = [k for k in _UNREPLAYABLE_ADAM_OPTIONS if (est.optimizer_kwargs or {}).get(k)]
    if unreplayable:
        raise _invalid(est, "cuda_graphs", "replays sknn's fused Adam update, which has no "
                       f"{' or '.join(unreplayable)}; drop it from optimizer_kwargs or leave "
                       "cuda_graphs False.")
    if _draws_slopes(est) or np.any(np.asarray(est.dropout, dtype=float) > 0):
        raise _invalid(est, "cuda_graphs", "cannot replay dropout or RReLU: a replay would "
                       "repeat the captured step's random draws. Use dropout=0 and another "
                       "activation, or leave cuda_graphs False.")


def check_graph_device(est, device: torch.device) -> None:
    """Raise unless ``device`` (the ``device`` parameter, resolved) is a CUDA device."""
    if device.type != "cuda":
        raise ValueError(f"cuda_graphs=True needs a CUDA device; device={est.device!r} "
                         f"resolves to {str(device)!r} on this machine.")


def hidden_sizes(est) -> list[int]:
    """``hidden_layer_sizes`` as a list of ints, with scikit-learn's errors."""
    sizes = est.hidden_layer_sizes
    if not hasattr(sizes, "__iter__"):
        sizes = [sizes]
    sizes = list(sizes)
    if any(not isinstance(h, (Integral, np.integer)) or isinstance(h, (bool, np.bool_))
           for h in sizes):
        raise TypeError(f"hidden_layer_sizes must contain integers, got {sizes}.")
    if any(h <= 0 for h in sizes):
        raise ValueError("hidden_layer_sizes must be > 0, got %s." % sizes)
    return [int(h) for h in sizes]


def _said(exc: BaseException) -> str:
    """An exception as a message: its text, or its type where it has none."""
    return str(exc) or type(exc).__name__


def _probe_activation(est, hidden: list[int]) -> None:
    """Build the activation and run it on every hidden width.

    Keyword arguments that construct but cannot compute fail here: PReLU's
    ``num_parameters`` against a layer's width, RReLU's ``lower > upper``,
    ``approximate='foo'``, Softplus's ``beta=0`` (non-finite values). A
    user's class may draw from torch's global RNG: it is put back after.
    """
    try:
        device = resolve_device(est.device)
    except ValueError:
        return  # an unusable device: the fit says so, in its own words
    if device.type not in ("cpu", "cuda"):
        device = torch.device("cpu")  # other backends: tried on the CPU
    # As the fit builds it: in the training dtype, on the training device.
    dtype = torch.float64 if est.solver == "lbfgs" else DTYPES[est.compute_dtype]
    layers = layer_activations(est.activation, est.activation_kwargs, len(hidden))
    tried = set()
    for (name, kwargs), width in zip(layers, hidden):
        key = (repr(name), repr(kwargs), width)
        if key not in tried:
            tried.add(key)
            _probe_one_activation(est, name, kwargs, width, device, dtype)


def _probe_one_activation(est, name, kwargs, width, device, dtype) -> None:
    """Build one hidden layer's activation and run it on two rows of its width."""
    with _blamed(est, "activation_kwargs", f"is not valid for activation={name!r}"), \
            torch.random.fork_rng(devices=[]):
        activation = make_activation(name, kwargs).to(device, dtype)
        # Registry activations run as in training, RReLU with its own
        # generator; a user's class runs in eval mode, where a random
        # layer would not draw from the global torch RNG.
        activation.train(isinstance(name, str))
        if hasattr(activation, "generator"):
            activation.generator = torch.Generator(device=device)
        x = torch.linspace(-3, 3, 2 * width, dtype=dtype, device=device).reshape(2, width)
        with torch.no_grad():
            out = activation(x)
        if not torch.isfinite(out).all():
            raise ValueError("it gives non-finite values")


def _draws_slopes(est) -> bool:
    """Whether an activation is an RReLU, which draws random slopes in training."""
    for name in per_layer(est.activation, 1):
        cls = ACTIVATIONS[name].factory if isinstance(name, str) else name
        if isinstance(cls, type) and issubclass(cls, nn.RReLU):
            return True
    return False


def _check_signature(est, init, kwargs: dict) -> None:
    """Raise if ``init(weight, **kwargs)`` does not match ``init``'s signature."""
    try:
        signature = inspect.signature(init)
    except (TypeError, ValueError):  # no signature to read (some builtins)
        return
    with _blamed(est, "init_kwargs", f"is not valid for init={init!r}"):
        signature.bind(None, **kwargs)


def _check_deterministic_objective(est) -> None:
    """L-BFGS's line search needs the same loss for the same weights: no random layers."""
    if np.any(np.asarray(est.dropout, dtype=float) > 0):
        raise _invalid(est, "dropout", "needs a stochastic solver: with solver='lbfgs' each "
                       "evaluation of the loss would draw new masks, and the line search stops "
                       "early on the noise. Use dropout=0 or solver='adam' or 'sgd'.")
    if _draws_slopes(est):
        raise _invalid(est, "activation", f"{est.activation!r} needs a stochastic solver: with "
                       "solver='lbfgs' each evaluation of the loss would draw new slopes, and "
                       "the line search stops early on the noise. Use 'leaky_relu' or "
                       "solver='adam' or 'sgd'.")


def _invalid(est, name: str, detail: str) -> InvalidParameterError:
    # scikit-learn's wording: "The 'name' parameter of Estimator ...".
    return InvalidParameterError(f"The {name!r} parameter of {type(est).__name__} {detail}")


def _layer_inits(est, hidden: list[int]) -> list[tuple]:
    return layer_inits(est.init, est.init_kwargs, est.activation, est.activation_kwargs,
                       len(hidden))


def _check_per_layer(est, hidden: list[int]) -> None:
    """Lists of activations and initialisations: their lengths and entries."""
    n_hidden, n_layers = len(hidden), len(hidden) + 1
    for name, per, n, what in [
        ("activation", est.activation, n_hidden, "hidden layer"),
        ("activation_kwargs", est.activation_kwargs, n_hidden, "hidden layer"),
        ("init", est.init, n_layers, "layer, the output layer last"),
        ("init_kwargs", est.init_kwargs, n_layers, "layer, the output layer last"),
    ]:
        if is_per_layer(per) and len(per) != n:
            raise _invalid(est, name, f"as a list needs one entry per {what} ({n}); "
                           f"got {len(per)}.")
    if is_per_layer(est.activation):
        for entry in est.activation:
            if not (isinstance(entry, str) and entry in ACTIVATIONS) and not (
                    isinstance(entry, type) and issubclass(entry, nn.Module)):
                raise _invalid(est, "activation", f"entries must be among "
                               f"{sorted(ACTIVATIONS)} or torch.nn.Module subclasses; got "
                               f"{entry!r}.")
    if is_per_layer(est.init):
        for entry in est.init:
            if not (isinstance(entry, str) and entry in INITIALIZERS) and not (
                    callable(entry) and not isinstance(entry, str)):
                raise _invalid(est, "init", f"entries must be among {sorted(INITIALIZERS)} "
                               f"or callables; got {entry!r}.")
    for name in ("activation_kwargs", "init_kwargs"):
        per = getattr(est, name)
        if is_per_layer(per) and not all(e is None or isinstance(e, dict) for e in per):
            raise _invalid(est, name, f"entries must be dicts or None; got {per!r}.")


def check_options(est, hidden: list[int]) -> None:
    """Check the options scikit-learn's constraints cannot express.

    Try every option's keyword arguments on a throw-away object, so a
    mistake fails here, before any training, in scikit-learn's words.
    """
    _check_per_layer(est, hidden)
    for scheme, kwargs, *_ in _layer_inits(est, hidden):
        if isinstance(scheme, str):
            missing = set(INITIALIZERS[scheme].required) - set(kwargs or {})
            if missing:
                raise _invalid(
                    est, "init_kwargs", f"must give {sorted(missing)} for init={scheme!r}."
                )
    if not np.isscalar(est.dropout):
        try:
            drops = np.asarray(est.dropout, dtype=float)
        except (TypeError, ValueError):
            drops = np.empty((0, 0))  # not numbers: reported just below
        if drops.ndim != 1 or len(drops) != len(hidden) or isinstance(est.dropout, dict):
            raise _invalid(
                est,
                "dropout",
                f"must be a float or one value per hidden layer ({len(hidden)}); "
                f"got {est.dropout!r}.",
            )
        if not np.all((drops >= 0) & (drops < 1)):  # NaN fails too
            raise _invalid(est, "dropout", f"values must be in [0, 1); got {est.dropout!r}.")
    try:
        parse_device(est.device)
    except ValueError as exc:
        raise _invalid(est, "device", str(exc)) from None
    if est.autocast is not None:
        _check_float32_training(est, "autocast", None, "the precision of the weights it keeps")
    if est.matmul_precision != "highest":
        _check_float32_training(est, "matmul_precision", "highest",
                                "it sets how float32 matmuls compute")
    if est.cuda_graphs:
        _check_cuda_graphs_options(est)
    if est.solver == "lbfgs":
        for name in ("optimizer_kwargs", "lr_scheduler"):
            if getattr(est, name) is not None:
                raise _invalid(est, name, "has no effect with solver='lbfgs'; leave it None.")
        _check_deterministic_objective(est)
    elif est.solver == "sgd" and est.learning_rate != "constant" and est.lr_scheduler is not None:
        raise _invalid(
            est,
            "lr_scheduler",
            f"and learning_rate={est.learning_rate!r} both set the learning rate; use one of them.",
        )
    _probe_once(est, hidden)


#: The parameters an optimizer and its schedule are built from
#: (:func:`sknn._optimizers.make_optimizer`, :func:`schedule_context`).
OPTIMIZER_PARAMS = (
    "solver", "optimizer_kwargs", "lr_scheduler", "lr_scheduler_kwargs", "learning_rate",
    "learning_rate_init", "power_t", "max_iter", "early_stopping", "beta_1", "beta_2",
    "epsilon", "momentum", "nesterovs_momentum",
)

#: The parameters the probes read (with ``hidden_layer_sizes``): the options
#: and what the optimizer and its schedule are built from.
_PROBED = OPTIMIZER_PARAMS + (
    "activation", "activation_kwargs", "init", "init_kwargs", "device", "compute_dtype", "alpha",
)


def _probe_once(est, hidden: list[int]) -> None:
    """Try the options that are not plain registry names on throw-away objects.

    Registry names without keyword arguments work (the registries' tests run
    each). The rest is tried once per set of parameters: the probes cost up
    to ~200 us, as much as a ``partial_fit`` call on one row.
    """
    probe_activation = any(kwargs or not isinstance(name, str) for name, kwargs in
                           layer_activations(est.activation, est.activation_kwargs, len(hidden)))
    # A callable init is not called: that has effects a fit would see (its
    # own state, torch's global RNG); its keyword arguments are checked
    # against its signature, and other errors come from the fit's own call,
    # before training, which leaves the estimator as it was.
    inits = _layer_inits(est, hidden)
    for scheme, kwargs, *_ in inits:
        if kwargs and callable(scheme):
            _check_signature(est, scheme, kwargs)
    probe_init = any(kwargs and isinstance(scheme, str) for scheme, kwargs, *_ in inits)
    probe_optimizer = est.solver != "lbfgs" and (
        not isinstance(est.solver, str) or bool(est.optimizer_kwargs)
        or est.lr_scheduler is not None)
    if not (probe_activation or probe_init or probe_optimizer):
        return
    key = repr((hidden, [getattr(est, name) for name in _PROBED]))
    if est.__dict__.get("_probed_options") == key:
        return
    if probe_activation:
        _probe_activation(est, hidden)
    for scheme, kwargs, act, act_kwargs in inits:
        if not (kwargs and isinstance(scheme, str)):
            continue  # a callable's kwargs were checked against its signature above
        with _blamed(est, "init_kwargs", f"is not valid for init={scheme!r}"):
            ctx = InitContext(act, act_kwargs, np.random.RandomState(0), torch.Generator())
            # skip_init: a plain Linear would draw from torch's global RNG.
            init_linear(nn.utils.skip_init(nn.Linear, 3, 2), scheme, kwargs, ctx)
    if probe_optimizer:
        _probe_optimizer(est)
    est._probed_options = key


def _probe_optimizer(est) -> None:
    """Build, step and schedule a one-parameter twin of the fit's optimizer, in
    the fit's order (a scheduler warns when stepped before its optimizer):
    some mistakes (capturable on a CPU, step_size=0) only show when stepping."""
    probe = [nn.Parameter(torch.zeros(1))]
    probe[0].grad = torch.ones(1)
    # A failing step is the keyword arguments' fault where there are any.
    blame = (("optimizer_kwargs", f"is not valid for solver={est.solver!r}")
             if est.optimizer_kwargs else ("solver", f"{est.solver!r} fails a trial step"))
    with _blamed(est, *blame):
        optimizer = make_optimizer(est.solver, probe, vars(est), est.optimizer_kwargs)
    with _blamed(est, "lr_scheduler_kwargs", f"is not valid for lr_scheduler={est.lr_scheduler!r}"):
        schedule = build_schedule(est, optimizer, steps_per_epoch=1)
    if (est.optimizer_kwargs or {}).get("capturable") and parse_device(est.device).type != "cpu":
        return  # a capturable step needs its parameters on that device
    # torch.optim.LBFGS (a class as solver) steps only with a closure.
    needs_closure = isinstance(optimizer, torch.optim.LBFGS)
    for _ in range(2):
        with _blamed(est, *blame):
            if needs_closure:
                optimizer.step(lambda: torch.zeros(()))
            else:
                optimizer.step()
        with _blamed(est, "lr_scheduler_kwargs",
                     f"is not valid for lr_scheduler={est.lr_scheduler!r}"):
            schedule.batch_end()
            schedule.epoch_end(1, 1.0, 0.5)


@contextmanager
def _blamed(est, name: str, detail: str):
    """Report whatever the block raises (a user's class may raise anything) as
    an invalid ``name``, in scikit-learn's words."""
    try:
        yield
    except Exception as exc:
        raise _invalid(est, name, f"{detail}: {_said(exc)}") from exc


def build_schedule(config, optimizer, steps_per_epoch: int):
    """The schedule of ``optimizer`` that ``config`` (the estimator, or any
    object with the attributes of :data:`OPTIMIZER_PARAMS`) describes."""
    return make_schedule(config.lr_scheduler, config.lr_scheduler_kwargs, optimizer,
                         schedule_context(config, steps_per_epoch))


def schedule_context(est, steps_per_epoch: int) -> dict:
    """What :func:`sknn._schedulers.make_schedule` needs to know about the fit."""
    return {
        "solver": est.solver,
        "learning_rate": est.learning_rate,
        # The rate the optimizer starts from: optimizer_kwargs may override it.
        "learning_rate_init": (est.optimizer_kwargs or {}).get("lr", est.learning_rate_init),
        "power_t": est.power_t,
        "max_iter": est.max_iter,
        "steps_per_epoch": steps_per_epoch,
        "metric": "val_score" if est.early_stopping else "loss",
    }
