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


@dataclass(frozen=True)
class ModelSummary:
    """Layers, output shapes and parameter counts of an :class:`~sknn.MLPModule`.

    ``str(summary)`` gives the table; the fields give the numbers.

    Attributes
    ----------
    rows : list of LayerRow
    total_params, trainable_params : int
    """

    rows: list
    total_params: int
    trainable_params: int

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
        ]
        return "\n".join(out)

    __repr__ = __str__


def summarize(module: nn.Module, n_features: int) -> ModelSummary:
    """Summarise a sequential MLP without running it.

    Output shapes follow from the layers (a ``Linear`` sets the width, every
    other layer keeps it); ``-1`` stands for the batch dimension.
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
                (-1, width),
                sum(p.numel() for p in params),
                sum(p.numel() for p in params if p.requires_grad),
            )
        )
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return ModelSummary(rows, total, trainable)
