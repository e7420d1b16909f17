"""``MLPModule``: the network itself, a plain ``torch.nn.Module``.

It knows nothing about scikit-learn, so it also serves on its own: in a
hand-written training loop or as the ``module`` of a skorch net.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from numbers import Real

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._activations import RReLU, make_activation
from ._dropout_mask import dropout_mask
from ._initializers import InitContext, init_linear
from ._per_layer import layer_activations, layer_inits
from ._pointwise import IDENTITY, pointwise_rule

# The normalisation layers MLPModule builds (exact types: subclasses may differ).
_NORMS = (nn.BatchNorm1d, nn.LayerNorm)

NORMALIZATIONS = {
    "batch": ("BatchNorm1d over each hidden layer's units", "001 batch normalisation"),
    "layer": ("LayerNorm over each hidden layer's units", "001 normalisation"),
}


# In-place forms of parameter-free activations, for prediction (forward_as):
# each is applied to the fresh output of a linear layer, never to user data.
_INPLACE = {
    nn.ReLU: torch.relu_,
    nn.Tanh: torch.tanh_,
    nn.Sigmoid: torch.sigmoid_,
    nn.Identity: lambda x: x,
}


class Dropout(nn.Dropout):
    """Dropout that draws its mask from an explicit generator.

    With ``generator=None`` it is ``torch.nn.Dropout`` (global torch RNG); the
    estimators set a generator seeded from ``random_state`` while they train,
    and the mask is then :func:`sknn._dropout_mask.dropout_mask`'s.
    """

    generator: torch.Generator | None = None

    def forward(self, input: torch.Tensor) -> torch.Tensor:  # noqa: D102
        if not self.training or self.p == 0 or self.generator is None:
            return super().forward(input)
        # sknn's mask (sknn._dropout_mask): what the hand-derived steps draw.
        return input * dropout_mask(input, self.p, self.generator)


def _as_rng(random_state) -> np.random.RandomState:
    if random_state is None:
        return np.random.mtrand._rand
    if isinstance(random_state, np.random.RandomState):
        return random_state
    return np.random.RandomState(random_state)


# Attribute values a module copy can share with the original: they cannot be
# changed in place.
_IMMUTABLE = (type(None), bool, int, float, complex, str, bytes, torch.dtype, torch.device)


def _copy_module(module: nn.Module, memo: dict) -> nn.Module:
    """``copy.deepcopy(module, memo)`` for the module tree, ~4x faster.

    The generic deepcopy walks every one of a module's ~20 bookkeeping
    attributes (hook dictionaries, flags) one object at a time; estimators copy
    their network before each ``fit``/``partial_fit`` so that a failed call can
    be undone, and for a streaming ``partial_fit`` on small chunks that walk
    was a third of the call. Here parameters, buffers and submodules are deep
    copied through ``memo`` (so an optimizer copied in the same call keeps
    pointing at the new parameters), hook dictionaries are copied one level
    (hooks themselves are shared, as deepcopy shares functions), immutable
    values are shared and anything else is deep-copied.
    """
    new = module.__class__.__new__(module.__class__)
    memo[id(module)] = new
    attrs = {}
    for key, value in module.__dict__.items():
        if key in ("_parameters", "_buffers"):
            attrs[key] = type(value)(
                (name, None if t is None else copy.deepcopy(t, memo)) for name, t in value.items()
            )
        elif key == "_modules":
            attrs[key] = type(value)(
                (name, None if m is None else _copy_submodule(m, memo))
                for name, m in value.items()
            )
        elif isinstance(value, _IMMUTABLE):
            attrs[key] = value
        elif isinstance(value, dict) and key.endswith(("hooks", "_hooks_with_kwargs",
                                                       "_hooks_always_called")):
            attrs[key] = value.copy()
        else:
            attrs[key] = copy.deepcopy(value, memo)
    new.__dict__.update(attrs)
    return new


def _copy_submodule(module: nn.Module, memo: dict) -> nn.Module:
    """A submodule's copy: the one already made in this deepcopy, if any, and
    the module's own ``__deepcopy__`` where its class defines one."""
    done = memo.get(id(module))
    if done is not None:
        return done
    if getattr(type(module), "__deepcopy__", None) is not None:
        return copy.deepcopy(module, memo)
    return _copy_module(module, memo)


def _uninitialized_linear(fan_in: int, fan_out: int, dtype, device) -> nn.Linear:
    """An ``nn.Linear`` with uninitialised parameters (our initialisers fill them).

    ``nn.Linear(...)`` initialises itself from the global RNG, which we never
    touch, so this does what its ``__init__`` does minus that draw.
    ``torch.nn.utils.skip_init`` would too, but through ``to_empty``, which
    imports sympy on first use (+50 MiB, +1 s per process), and building on
    the meta device first loads its kernels (+1.5 MiB).
    """
    layer = nn.Linear.__new__(nn.Linear)
    nn.Module.__init__(layer)
    layer.in_features, layer.out_features = fan_in, fan_out
    layer.weight = nn.Parameter(torch.empty(fan_out, fan_in, dtype=dtype, device=device))
    layer.bias = nn.Parameter(torch.empty(fan_out, dtype=dtype, device=device))
    return layer


_SIDE = threading.local()


def _side_seed(rng: np.random.RandomState) -> int:
    """A seed that ``rng`` determines without drawing from it.

    Read from a copy of its state, so the draws of ``init="sklearn"``
    (scikit-learn's initial weights) stay as they are. The copy's second
    draw: its first is ``rng``'s next, which a fit's dropout and RReLU
    generator takes as its seed. The copy is one RandomState per thread: a
    new one seeds itself from the operating system first (~100 us).
    """
    side = getattr(_SIDE, "rng", None)
    if side is None:
        side = _SIDE.rng = np.random.RandomState(0)
    side.set_state(rng.get_state())
    side.randint(np.iinfo(np.int32).max)
    return int(side.randint(np.iinfo(np.int32).max))


@contextmanager
def _global_rng_seeded_by(seed: int | None):
    """Within: torch's global CPU generator seeded with ``seed``; after: as before.

    A callable ``init`` such as ``torch.nn.init.xavier_normal_`` (or a user's
    activation class) draws from the global RNG: seeded from ``random_state``
    it gives the same network for the same seed, and the user's global RNG
    is left as it was. Only the CPU generator is seeded (``torch.manual_seed``
    would reseed every CUDA device's too, which ``fork_rng`` does not restore).
    """
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        yield


class MLPModule(nn.Module):
    """Multilayer perceptron: ``Linear -> [norm] -> activation -> [dropout]`` per hidden layer.

    The output layer is a bare ``Linear``: the module returns raw scores
    (logits); the loss or the estimator applies the output activation.

    Parameters
    ----------
    n_features : int
        Number of input features.
    hidden_layer_sizes : sequence of int
        Units of each hidden layer; empty for a linear model.
    n_outputs : int
        Number of output units.
    activation : str, type or list, default="relu"
        A name from :data:`sknn._activations.ACTIVATIONS` or a ``torch.nn.Module``
        subclass (one instance is created per hidden layer), or a list of
        them, one per hidden layer.
    activation_kwargs : dict or list, default=None
        Keyword arguments for the activation's constructor (a list: one dict
        or None per hidden layer).
    init : str, callable or list, default="sklearn"
        A name from :data:`sknn._initializers.INITIALIZERS` or a callable applied
        to each weight, or a list of them, one per layer, the output layer last.
    init_kwargs : dict or list, default=None
        Keyword arguments for the initialisation scheme (a list: one dict or
        None per layer).
    dropout : float or sequence of float, default=0.0
        Dropout probability after each hidden layer's activation, one value
        for all or one per hidden layer.
    normalization : {None, "batch", "layer"}, default=None
        Normalisation applied between each hidden ``Linear`` and its activation.
    random_state : int, numpy RandomState or None, default=None
        Source of the initial weights. The scikit-learn scheme draws from it
        directly; the other schemes from a ``torch.Generator`` seeded by it.
    dtype : torch.dtype, default=torch.float32
    device : torch.device or str, default=None

    Examples
    --------
    >>> import torch
    >>> from sknn import MLPModule
    >>> net = MLPModule(4, (10,), 3, activation="tanh", random_state=0)
    >>> net(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: Sequence[int],
        n_outputs: int,
        activation="relu",
        activation_kwargs: dict | None = None,
        init="sklearn",
        init_kwargs: dict | None = None,
        dropout: float | Sequence[float] = 0.0,
        normalization: str | None = None,
        random_state=None,
        dtype: torch.dtype = torch.float32,
        device=None,
    ):
        super().__init__()
        device = torch.device("cpu" if device is None else device)
        hidden = [int(h) for h in hidden_layer_sizes]
        drops = _dropout_rates(dropout, len(hidden))
        units = [int(n_features), *hidden, int(n_outputs)]
        rng = _as_rng(random_state)
        inits = layer_inits(init, init_kwargs, activation, activation_kwargs, len(hidden))
        needs_torch_rng = not all(
            isinstance(scheme, str) and scheme in ("sklearn", "zeros", "ones", "constant")
            for scheme, *_ in inits
        )
        generator = torch.Generator(device="cpu")
        if needs_torch_rng:
            generator.manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
        activations = layer_activations(activation, activation_kwargs, len(hidden))
        # A user's activation class or init callable may draw from torch's
        # global RNG: give it one seeded from random_state, then put it back.
        user_code = any(callable(scheme) for scheme, *_ in inits) or \
            any(not isinstance(act, str) for act, _ in activations)
        with _global_rng_seeded_by(_side_seed(rng) if user_code else None):
            self.layers = self._layers(units, activations, drops, normalization, dtype, device)
            for linear, (scheme, kwargs, act, act_kwargs) in zip(self.linear_layers(), inits):
                ctx = InitContext(act, act_kwargs, rng, generator)
                if linear.weight.device.type == "cpu":
                    init_linear(linear, scheme, kwargs, ctx)
                else:
                    # Generators are per device; initialise on CPU, then copy over.
                    tmp = nn.utils.skip_init(
                        nn.Linear, linear.in_features, linear.out_features, dtype=dtype
                    )
                    init_linear(tmp, scheme, kwargs, ctx)
                    with torch.no_grad():
                        linear.weight.copy_(tmp.weight)
                        linear.bias.copy_(tmp.bias)

    @staticmethod
    def _layers(units, activations, drops, normalization, dtype, device) -> nn.Sequential:
        n_hidden = len(activations)
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:])):
            layers.append(_uninitialized_linear(fan_in, fan_out, dtype, device))
            if i == n_hidden:
                break
            if normalization == "batch":
                layers.append(nn.BatchNorm1d(fan_out, dtype=dtype, device=device))
            elif normalization == "layer":
                layers.append(nn.LayerNorm(fan_out, dtype=dtype, device=device))
            elif normalization is not None:
                raise ValueError(f"Unknown normalization {normalization!r}.")
            layers.append(make_activation(*activations[i]).to(device, dtype))
            if drops[i] > 0:
                layers.append(Dropout(drops[i]))
        return nn.Sequential(*layers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Raw output scores for a batch ``X`` of shape (n_samples, n_features)."""
        return self.layers(X)

    @torch.no_grad()
    def forward_as(self, X: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """Evaluate for prediction, in ``dtype``, without changing the module.

        The estimators predict in scikit-learn's output dtype (float64 for
        float64 input) from weights trained in float32; casting each weight on
        the fly leaves the fitted module untouched. Activations with an
        in-place form overwrite the linear layer's output they are given,
        which saves allocating (and first touching) one large array per layer.
        """
        for layer in self.layers:
            if isinstance(layer, nn.Linear):
                X = F.linear(X, layer.weight.to(dtype), layer.bias.to(dtype))
            elif type(layer) in _INPLACE and not self.training:
                X = _INPLACE[type(layer)](X)
            elif next(layer.parameters(), None) is None and next(layer.buffers(), None) is None:
                X = layer(X)
            else:
                state = {
                    k: v.to(dtype) if v.is_floating_point() else v
                    for k, v in [*layer.named_parameters(), *layer.named_buffers()]
                }
                X = torch.func.functional_call(layer, state, (X,))
        return X

    def linear_layers(self) -> list[nn.Linear]:
        """The ``nn.Linear`` layers in order, input to output."""
        return [m for m in self.layers if isinstance(m, nn.Linear)]

    def __deepcopy__(self, memo):
        return _copy_module(self, memo)

    def set_generator(self, generator: torch.Generator | None) -> None:
        """Make dropout and RReLU draw from ``generator`` (``None``: global RNG)."""
        for m in self.layers:
            if isinstance(m, (Dropout, RReLU)):
                m.generator = generator

    def plain_activation(self, inference: bool = False, normalized: bool = False,
                         parametric: bool = False):
        """The closed form of the hidden activation of a plain network, else None.

        A plain network alternates ``Linear`` layers and one kind of activation
        with a closed form (:func:`sknn._pointwise.pointwise_rule`), each
        possibly followed by dropout (:meth:`hidden_dropouts`); with
        ``inference``, as it acts at predict time. Without hidden layers the
        activation is the identity. With ``normalized``, the normalisation
        layers this module builds (:meth:`hidden_norms`) may stand between a
        ``Linear`` and its activation. With ``parametric``, ``nn.PReLU`` and
        (while training) ``RReLU`` activations count as the identity rule;
        :meth:`hidden_leaky_relus` lists them for the numpy step to apply.
        """
        if not isinstance(self.layers[-1], nn.Linear):
            return None
        rules, linear_next, previous = [], True, None
        for m in self.layers:
            after_linear, previous = isinstance(previous, nn.Linear), m
            if type(m) is Dropout or (normalized and after_linear and type(m) in _NORMS):
                continue
            if linear_next != isinstance(m, nn.Linear):
                return None
            if not linear_next:
                leaky = type(m) is nn.PReLU or (type(m) is RReLU and not inference)
                rule = IDENTITY if parametric and leaky else pointwise_rule(m, inference)
                if rule is None or (rules and rule != rules[0]):
                    return None
                rules.append(rule)
            linear_next = not linear_next
        if linear_next:  # ends with an activation: not one of our modules
            return None
        return rules[0] if rules else IDENTITY

    def hidden_dropouts(self) -> list:
        """Per hidden layer, its :class:`Dropout` module, or None where it has none."""
        return self._per_hidden_layer((Dropout,))

    def hidden_norms(self) -> list:
        """Per hidden layer, its ``BatchNorm1d``/``LayerNorm`` module, or None where it has none."""
        return self._per_hidden_layer(_NORMS)

    def hidden_leaky_relus(self) -> list:
        """Per hidden layer, its ``nn.PReLU`` or ``RReLU`` activation, or None."""
        return self._per_hidden_layer((nn.PReLU, RReLU))

    def _per_hidden_layer(self, types) -> list:
        """Per hidden layer, its module of one of ``types`` (exactly), or None."""
        found = []
        for m in self.layers:
            if isinstance(m, nn.Linear):
                found.append(None)
            elif type(m) in types:
                found[-1] = m
        return found[:-1]

    def hidden_activations(self) -> list:
        """Per hidden layer, its activation module (the module after its
        ``Linear`` and normalisation)."""
        found, after_linear = [], False
        for m in self.layers:
            if isinstance(m, nn.Linear):
                after_linear = True
            elif after_linear and type(m) not in _NORMS:
                found.append(m)
                after_linear = False
        return found

    def has_random_layers(self) -> bool:
        """Whether training draws random numbers (dropout or RReLU)."""
        return any(
            isinstance(m, RReLU) or (isinstance(m, Dropout) and m.p > 0) for m in self.layers
        )


def _dropout_rates(value, n_hidden: int) -> list[float]:
    if isinstance(value, Real):
        return [float(value)] * n_hidden
    values = [float(v) for v in value]
    if len(values) != n_hidden:
        raise ValueError(
            f"dropout has {len(values)} values but there are {n_hidden} hidden layers; "
            "give one float, or one per hidden layer."
        )
    return values
