"""A per-layer model summary in the style of ``torchsummary``."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class LayerRow:
    """One line of the summary."""

    name: str
    output_shape: tuple
    n_params: int
    trainable: int


_MB = 1024.0**2


@dataclass(frozen=True)
class ModelSummary:
    """Layers, output shapes and parameter counts of an :class:`~sknn.MLPModule`.

    ``str(summary)`` gives the table; the fields give the numbers.

    Attributes
    ----------
    rows : list of LayerRow
    total_params, trainable_params : int
    input_mb, forward_backward_mb, params_mb : float
        Memory estimates in MiB, as ``torchsummary`` makes them, in the
        parameters' dtype: one batch of input; every layer's output, twice
        (the forward pass and its gradient); the parameters.
    """

    rows: list
    total_params: int
    trainable_params: int
    input_mb: float = 0.0
    forward_backward_mb: float = 0.0
    params_mb: float = 0.0

    @property
    def total_mb(self) -> float:
        """The three estimates added up."""
        return self.input_mb + self.forward_backward_mb + self.params_mb

    def __str__(self) -> str:
        line = "-" * 64
        out = [line, f"{'Layer (type)':>25}  {'Output Shape':>20}  {'Param #':>13}", "=" * 64]
        for row in self.rows:
            shape = "[" + ", ".join(str(s) for s in row.output_shape) + "]"
            out.append(f"{row.name:>25}  {shape:>20}  {row.n_params:>13,}")
        out += [
            "=" * 64,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.total_params - self.trainable_params:,}",
            line,
            f"Input size (MB): {self.input_mb:.2f}",
            f"Forward/backward pass size (MB): {self.forward_backward_mb:.2f}",
            f"Params size (MB): {self.params_mb:.2f}",
            f"Estimated Total Size (MB): {self.total_mb:.2f}",
            line,
        ]
        return "\n".join(out)

    __repr__ = __str__


def summarize(module: nn.Module, n_features: int, batch_size: int = -1) -> ModelSummary:
    """Summarise a sequential MLP without running it.

    Output shapes follow from the layers (a ``Linear`` sets the width, every
    other layer keeps it); ``batch_size`` is their first dimension, ``-1``
    (any) by default, which the memory estimates count as one row.
    """
    width = n_features
    rows = []
    layers = module.layers if hasattr(module, "layers") else module.children()
    for layer in layers:
        if isinstance(layer, nn.Linear):
            width = layer.out_features
        kind = type(layer).__name__
        params = list(layer.parameters())
        rows.append(
            LayerRow(
                f"{kind}-{len(rows) + 1}",
                (batch_size, width),
                sum(p.numel() for p in params),
                sum(p.numel() for p in params if p.requires_grad),
            )
        )
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    first = next(module.parameters(), None)
    item = 4 if first is None else first.element_size()
    batch = abs(batch_size)
    outputs = sum(row.output_shape[1] for row in rows) * batch
    return ModelSummary(
        rows, total, trainable,
        input_mb=n_features * batch * item / _MB,
        forward_backward_mb=2 * outputs * item / _MB,
        params_mb=total * item / _MB,
    )
