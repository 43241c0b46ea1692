"""What the spiking families share: the neuron factory, argument checks and the input check."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn.surrogate import ATan

__all__ = ["NeuronFactory", "check_input", "positive_int", "spiking_factory"]

NeuronFactory = Callable[..., nn.Module]


def positive_int(name: str, value: Any) -> int:
    """``value`` if it is an integer >= 1, else a :class:`ConfigError` naming ``name``."""
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        raise ConfigError(f"Expected an integer >= 1 for argument {name}. Got {value!r} instead.")
    return value


def spiking_factory(
    neuron: NeuronFactory, neuron_kwargs: Mapping[str, Any] | None, backend: str
) -> Callable[[], nn.Module]:
    """A callable building one multi-step neuron per call.

    The default arguments are the DVS Gesture recipe of :mod:`eventpipe.snn.models` (ATan surrogate, no
    gradient through the reset). ``step_mode="m"`` is always passed: every family runs whole sequences.
    """
    kwargs = dict({"surrogate_function": ATan(), "detach_reset": True} if neuron_kwargs is None else neuron_kwargs)
    kwargs["backend"] = backend
    kwargs["step_mode"] = "m"

    def spiking() -> nn.Module:
        return neuron(**kwargs)

    return spiking


def check_input(x_seq: torch.Tensor, in_channels: int, min_size: int = 1) -> None:
    """Raise a :class:`ConfigError` unless ``x_seq`` is ``[T, N, in_channels, H, W]`` with H, W >= ``min_size``."""
    if x_seq.dim() != 5 or x_seq.shape[2] != in_channels:
        raise ConfigError(
            f"Expected input of shape [T, N, {in_channels}, H, W]. Got {tuple(x_seq.shape)} instead."
        )
    if min(x_seq.shape[3:]) < min_size:
        raise ConfigError(
            f"Expected frames of at least {min_size}x{min_size} pixels. Got {tuple(x_seq.shape[3:])} instead."
        )
