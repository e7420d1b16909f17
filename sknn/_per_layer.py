"""Options given per layer.

``activation`` (and ``activation_kwargs``) may be a list with one entry per
hidden layer, ``init`` (and ``init_kwargs``) a list with one entry per layer,
the output layer last, as a hand-written network may mix them (a sigmoid
layer initialised with Xavier's scheme, then a ReLU layer with Kaiming's).
A single value stands for every layer.
"""

from __future__ import annotations


def is_per_layer(value) -> bool:
    """Whether ``value`` is a list of per-layer entries rather than one value."""
    return isinstance(value, (list, tuple))


def per_layer(value, n: int, name: str = "value") -> list:
    """``value`` as ``n`` per-layer entries (one value repeated, or the list).

    Raises
    ------
    ValueError
        For a list of another length.
    """
    if not is_per_layer(value):
        return [value] * n
    if len(value) != n:
        raise ValueError(f"{name} has {len(value)} entries for {n} layers; give one value, "
                         "or one per layer.")
    return list(value)


def layer_activations(activation, activation_kwargs, n_hidden: int) -> list[tuple]:
    """``(activation, kwargs)`` of each hidden layer."""
    return list(zip(per_layer(activation, n_hidden, "activation"),
                    per_layer(activation_kwargs, n_hidden, "activation_kwargs")))


def layer_inits(init, init_kwargs, activation, activation_kwargs,
                n_hidden: int) -> list[tuple]:
    """``(init, kwargs, activation, activation_kwargs)`` of each layer, the
    output layer last.

    A layer's scheme takes its gain from the activation after it; the output
    layer from the last hidden layer's, as with one activation for all (and
    from ``activation`` itself, or the identity, without hidden layers).
    """
    acts = layer_activations(activation, activation_kwargs, n_hidden)
    if not acts:
        acts = [("identity", None)] if is_per_layer(activation) else \
            [(activation, activation_kwargs)]
    acts = acts + [acts[-1]]
    n_layers = n_hidden + 1
    return [(scheme, kwargs, act, act_kwargs) for (scheme, kwargs), (act, act_kwargs)
            in zip(zip(per_layer(init, n_layers, "init"),
                       per_layer(init_kwargs, n_layers, "init_kwargs")), acts)]
