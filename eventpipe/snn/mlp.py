"""Fully connected spiking networks on flattened inputs (static images through an encoder, for example).

:class:`SpikingMLP` with its defaults is SpikingJelly's MNIST example network (``lif_fc_mnist``):
``Flatten -> Linear(784, 14*14, bias=False) -> LIF(tau=2) -> Linear(14*14, 10, bias=False) -> LIF(tau=2)``,
whose output spikes, averaged over time, are the class scores (MSE against the one-hot label).
Every layer runs multi-step (``[T, N, ...]`` per call), whatever the neurons' default step mode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn import layer
from eventpipe.snn.neuron import LIFNode

__all__ = ["SpikingMLP"]


class SpikingMLP(nn.Module):
    """Linear layers each followed by spiking neurons, on flattened inputs ``[T, N, ...]``; outputs
    spikes ``[T, N, num_classes]``.

    Parameters
    ----------
    in_features:
        Input features per step after flattening (784 for ``[1, 28, 28]`` images).
    num_classes:
        Output neurons, one per class.
    hidden:
        Widths of the hidden layers (an int for one layer; ``()`` for none).
    bias:
        Bias in the linear layers (SpikingJelly's example has none).
    neuron, neuron_kwargs:
        Neuron class and its arguments (default: LIF with ``tau=2``, SpikingJelly's defaults otherwise).
    backend:
        Neuron backend (``"auto"``, ``"torch"``, ``"cupy"``, ``"triton"``).
    """

    def __init__(
        self,
        in_features: int = 784,
        num_classes: int = 10,
        *,
        hidden: int | Sequence[int] = 14 * 14,
        bias: bool = False,
        neuron: Callable[..., nn.Module] = LIFNode,
        neuron_kwargs: Mapping[str, Any] | None = None,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        widths = [hidden] if isinstance(hidden, int) else list(hidden)
        for name, value in (("in_features", in_features), ("num_classes", num_classes), *(("hidden", w) for w in widths)):
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                raise ConfigError(f"Expected an integer >= 1 for argument {name}. Got {value!r} instead.")
        kwargs: dict[str, Any] = {"tau": 2.0} if neuron_kwargs is None else dict(neuron_kwargs)
        kwargs.update(backend=backend, step_mode="m")
        layers: list[nn.Module] = [layer.Flatten(step_mode="m")]
        for n_in, n_out in zip([in_features, *widths], [*widths, num_classes], strict=True):
            layers += [layer.Linear(n_in, n_out, bias=bias, step_mode="m"), neuron(**kwargs)]
        self.in_features = in_features
        self.num_classes = num_classes
        self.layers = nn.Sequential(*layers)

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        if x_seq.dim() < 3 or x_seq[0, 0].numel() != self.in_features:
            raise ConfigError(f"Expected input [T, N, ...] with {self.in_features} features per sample. "
                              f"Got {tuple(x_seq.shape)} instead.")
        return self.layers(x_seq)
