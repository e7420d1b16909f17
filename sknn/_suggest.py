"""'Did you mean ...?' for option names that PyTorch or other libraries spell
differently (``activation="LeakyReLU"``, ``solver="Adam"``, ``loss="mse"``).

Only the error message changes: the names stay scikit-learn's lower-case
registry keys, one spelling per option, so that ``get_params``, grid searches
and ``clone`` see one value for one choice.
"""

from __future__ import annotations

import difflib
import re

#: Other spellings, normalised by :func:`_normal`, of the registries' names.
ALIASES: dict[str, dict[str, str]] = {
    "activation": {
        "swish": "silu",
        "linear": "identity", "none": "identity",
    },
    "solver": {"lbfgsb": "lbfgs", "adamweightdecay": "adamw"},
    "lr_scheduler": {
        "steplr": "step", "multisteplr": "multistep", "exponentiallr": "exponential",
        "cosineannealinglr": "cosine", "cosineannealing": "cosine",
        "reducelronplateau": "plateau", "onecyclelr": "onecycle",
    },
    "loss": {
        "mse": "squared_error", "mseloss": "squared_error", "l2": "squared_error",
        "squaredloss": "squared_error", "meansquarederror": "squared_error",
        "mae": "absolute_error", "l1": "absolute_error", "l1loss": "absolute_error",
        "meanabsoluteerror": "absolute_error", "smoothl1": "huber", "smoothl1loss": "huber",
        "huberloss": "huber", "poissonnllloss": "poisson", "poissonnll": "poisson",
    },
    "init": {
        "henormal": "kaiming_normal", "heuniform": "kaiming_uniform",
        "glorotnormal": "xavier_normal", "glorotuniform": "xavier_uniform",
        "kaiming": "kaiming_uniform", "xavier": "xavier_uniform", "default": "pytorch",
        "torch": "pytorch", "truncatednormal": "trunc_normal",
    },
    "normalization": {
        "batchnorm": "batch", "batchnorm1d": "batch", "bn": "batch",
        "layernorm": "layer", "ln": "layer",
    },
}

_FAILED = re.compile(r"^The '(\w+)' parameter of ")


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def suggestion(message: str, params: dict, options: dict[str, set[str]]) -> str | None:
    """The hint to append to scikit-learn's message about an invalid option.

    Parameters
    ----------
    message : str
        The ``InvalidParameterError``'s text ("The 'activation' parameter of ...").
    params : dict
        The estimator's parameters by name.
    options : dict
        The valid names of each option-like parameter.

    Returns
    -------
    str or None
        ``"Did you mean 'leaky_relu'?"``, or None where nothing is close.
    """
    match = _FAILED.match(message)
    if match is None or match.group(1) not in options:
        return None
    name = match.group(1)
    value = params.get(name)
    if not isinstance(value, str):
        return None
    valid = options[name]
    by_normal = {_normal(v): v for v in valid}
    key = _normal(value)
    guess = by_normal.get(key) or ALIASES.get(name, {}).get(key)
    if guess is None:
        close = difflib.get_close_matches(key, list(by_normal), n=1, cutoff=0.75)
        guess = by_normal[close[0]] if close else None
    if guess is None or guess not in valid:
        return None
    return f"Did you mean {name}={guess!r}?"
