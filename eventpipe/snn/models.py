"""Reference spiking networks for the bundled datasets (time-first input, firing-rate outputs).

Every model is built in multi-step mode (``step_mode="m"`` on all its modules), takes ``[T, N, ...]``
frames and returns ``[T, N, num_classes]`` outputs (after ``functional.set_step_mode(model, "s")``: one step
``[N, ...]`` per call, the state carried until ``functional.reset_net``) in ``[0, 1]`` (class
firing rates after voting); average over T for a prediction, or train with
:func:`eventpipe.snn.functional.tet_loss` / MSE on the rates. The neuron is injectable: ``neuron`` is any
callable returning a module (a class such as :class:`~eventpipe.snn.neuron.LIFNode`), called with
``neuron_kwargs`` plus ``backend``.

* :class:`DVSGestureNet`: the DVS128 Gesture PLIF network of Fang et al. (ICCV 2021), as in SpikingJelly:
  ``blocks`` x [conv3x3 (no bias) - BN - neuron - maxpool2], flatten, dropout, fc 512, neuron, dropout,
  fc ``num_classes * 10``, neuron, voting over 10 neurons per class. Input ``[T, N, 2, 128, 128]``.
* :class:`NMNISTNet`: two such blocks on ``[T, N, 2, 34, 34]``, fc 2048.
* :class:`CIFAR10DVSNet`: four blocks on ``[T, N, 2, 128, 128]``, fc 512.
* :class:`SHDNet`: fully connected (optionally recurrent) on spectro-temporal spikes ``[T, N, 700]`` (or the
  frames layout ``[T, N, 1, 1, 700]``, flattened).

>>> import torch
>>> net = DVSGestureNet(channels=8, blocks=3, input_size=32, backend="torch")
>>> net(torch.zeros(4, 2, 2, 32, 32)).shape
torch.Size([4, 2, 11])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn import functional, layer
from eventpipe.snn.base import StepModule
from eventpipe.snn.neuron import ParametricLIFNode
from eventpipe.snn.surrogate import ATan

__all__ = ["CIFAR10DVSNet", "DVSGestureNet", "NMNISTNet", "SHDNet", "SpikingConvNet"]

NeuronFactory = Callable[..., nn.Module]


def _default_neuron_kwargs() -> dict[str, Any]:
    # the DVS Gesture recipe: ATan surrogate, no gradient through the reset
    return {"surrogate_function": ATan(), "detach_reset": True}


def _positive_int(name: str, value: Any) -> int:
    if not (isinstance(value, int) and value >= 1):
        raise ConfigError(f"Expected an integer >= 1 for argument {name}. Got {value!r} instead.")
    return value


def _leading_axes(model: nn.Module) -> tuple[int, str]:
    """``(2, "T, N, ")`` when the model runs multi-step (as built), ``(1, "N, ")`` after
    ``set_step_mode(model, "s")``."""
    modes = {m.step_mode for m in model.modules() if isinstance(m, StepModule)}
    return (1, "N, ") if modes == {"s"} else (2, "T, N, ")


class SpikingConvNet(nn.Module):
    """Convolutional blocks, then two fully connected spiking layers and voting (multi-step).

    Parameters
    ----------
    in_channels:
        Input channels (2 polarities for DVS frames).
    input_size:
        Input height and width in pixels (an int for square inputs).
    num_classes:
        Classes of the output.
    channels:
        Channels of every convolution.
    blocks:
        Number of conv-BN-neuron-maxpool blocks; each halves the spatial size (floor).
    hidden:
        Width of the hidden fully connected layer.
    voting_size:
        Output neurons per class, averaged by the voting layer.
    dropout:
        Dropout probability before each fully connected layer (one mask per sequence).
    neuron:
        Callable building a neuron module (default :class:`~eventpipe.snn.neuron.ParametricLIFNode`).
    neuron_kwargs:
        Keyword arguments for ``neuron`` (default: ATan surrogate and ``detach_reset=True``).
    backend:
        Neuron backend (``"auto"``, ``"torch"``, ``"cupy"``).
    """

    def __init__(
        self,
        in_channels: int,
        input_size: int | tuple[int, int],
        num_classes: int,
        *,
        channels: int = 128,
        blocks: int = 5,
        hidden: int = 512,
        voting_size: int = 10,
        dropout: float = 0.5,
        neuron: NeuronFactory = ParametricLIFNode,
        neuron_kwargs: Mapping[str, Any] | None = None,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        checked = {"in_channels": in_channels, "num_classes": num_classes, "channels": channels}
        checked.update(blocks=blocks, hidden=hidden, voting_size=voting_size)
        for name, value in checked.items():
            _positive_int(name, value)
        height, width = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
        out_h, out_w = height >> blocks, width >> blocks
        if out_h < 1 or out_w < 1:
            raise ConfigError(
                f"An input of {height}x{width} pixels is too small for {blocks} pooling blocks "
                f"(each halves it); use fewer blocks or a larger input."
            )
        kwargs = dict(_default_neuron_kwargs() if neuron_kwargs is None else neuron_kwargs)
        kwargs["backend"] = backend

        def spiking() -> nn.Module:
            return neuron(**kwargs)

        convs: list[nn.Module] = []
        for i in range(blocks):
            convs += [
                layer.Conv2d(
                    in_channels if i == 0 else channels, channels, kernel_size=3, padding=1, bias=False
                ),
                layer.BatchNorm2d(channels),
                spiking(),
                layer.MaxPool2d(2, 2),
            ]
        self.num_classes = num_classes
        self.features = nn.Sequential(*convs)
        self.classifier = nn.Sequential(
            layer.Flatten(),
            layer.Dropout(dropout),
            layer.Linear(channels * out_h * out_w, hidden),
            spiking(),
            layer.Dropout(dropout),
            layer.Linear(hidden, num_classes * voting_size),
            spiking(),
            layer.VotingLayer(voting_size),
        )
        self.input_shape = (in_channels, height, width)
        functional.set_step_mode(self, "m")

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        axes, lead = _leading_axes(self)
        if x_seq.dim() != axes + 3 or tuple(x_seq.shape[axes:]) != self.input_shape:
            raise ConfigError(
                f"Expected input of shape [{lead}{', '.join(map(str, self.input_shape))}] "
                f"(step_mode={'m' if axes == 2 else 's'!r}). Got {tuple(x_seq.shape)} instead."
            )
        return self.classifier(self.features(x_seq))


class DVSGestureNet(SpikingConvNet):
    """The DVS128 Gesture PLIF network (11 classes, ``[T, N, 2, 128, 128]``); shrink with channels/blocks."""

    def __init__(
        self,
        channels: int = 128,
        *,
        blocks: int = 5,
        input_size: int | tuple[int, int] = 128,
        num_classes: int = 11,
        in_channels: int = 2,
        **options: Any,
    ) -> None:
        super().__init__(in_channels, input_size, num_classes, channels=channels, blocks=blocks, **options)


class NMNISTNet(SpikingConvNet):
    """N-MNIST network: 2 blocks on ``[T, N, 2, 34, 34]`` (34 -> 17 -> 8), fc 2048, 10 classes."""

    def __init__(
        self,
        channels: int = 128,
        *,
        blocks: int = 2,
        input_size: int | tuple[int, int] = 34,
        num_classes: int = 10,
        hidden: int = 2048,
        in_channels: int = 2,
        **options: Any,
    ) -> None:
        super().__init__(
            in_channels, input_size, num_classes, channels=channels, blocks=blocks, hidden=hidden, **options
        )


class CIFAR10DVSNet(SpikingConvNet):
    """CIFAR10-DVS network: 4 blocks on ``[T, N, 2, 128, 128]`` (128 -> 8), fc 512, 10 classes."""

    def __init__(
        self,
        channels: int = 128,
        *,
        blocks: int = 4,
        input_size: int | tuple[int, int] = 128,
        num_classes: int = 10,
        in_channels: int = 2,
        **options: Any,
    ) -> None:
        super().__init__(in_channels, input_size, num_classes, channels=channels, blocks=blocks, **options)


class SHDNet(nn.Module):
    """Spiking Heidelberg Digits: fully connected spiking layers on 700 input channels, 20 classes.

    Input ``[T, N, 700]``, or the frames layout ``[T, N, 1, 1, 700]`` (``[T, N, P, H, W]`` with one
    polarity and one row), which is flattened. Each hidden layer is linear (no bias) - BN - neuron - dropout, or with
    ``recurrent=True`` a :class:`~eventpipe.snn.layer.RecurrentSpiking` layer - dropout.

    Parameters
    ----------
    in_features:
        Input channels (700 cochlea channels for SHD).
    hidden:
        Width of each hidden layer.
    layers:
        Number of hidden layers.
    recurrent:
        Use recurrent hidden layers (Python loop over time) instead of feed-forward ones (fused neurons).
    num_classes, voting_size, dropout, neuron, neuron_kwargs, backend:
        As in :class:`SpikingConvNet` (default neuron: LIF-like PLIF with an ATan surrogate).
    """

    def __init__(
        self,
        in_features: int = 700,
        hidden: int = 256,
        *,
        layers: int = 2,
        recurrent: bool = False,
        num_classes: int = 20,
        voting_size: int = 1,
        dropout: float = 0.2,
        neuron: NeuronFactory = ParametricLIFNode,
        neuron_kwargs: Mapping[str, Any] | None = None,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("hidden", hidden), ("layers", layers),
                            ("num_classes", num_classes), ("voting_size", voting_size)):  # fmt: skip
            _positive_int(name, value)
        kwargs = dict(_default_neuron_kwargs() if neuron_kwargs is None else neuron_kwargs)
        kwargs["backend"] = backend

        def spiking() -> nn.Module:
            return neuron(**kwargs)

        body: list[nn.Module] = []
        for i in range(layers):
            width_in = in_features if i == 0 else hidden
            if recurrent:
                body.append(layer.RecurrentSpiking(width_in, hidden, spiking()))
            else:
                body += [layer.Linear(width_in, hidden, bias=False), layer.BatchNorm1d(hidden), spiking()]
            body.append(layer.Dropout(dropout))
        body += [layer.Linear(hidden, num_classes * voting_size), spiking(), layer.VotingLayer(voting_size)]
        self.in_features = in_features
        self.num_classes = num_classes
        self.net = nn.Sequential(*body)
        functional.set_step_mode(self, "m")

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        axes, lead = _leading_axes(self)
        if x_seq.dim() >= axes + 1:
            x_seq = x_seq.flatten(axes)
        if x_seq.dim() != axes + 1 or x_seq.shape[-1] != self.in_features:
            raise ConfigError(
                f"Expected input of shape [{lead}{self.in_features}] or [{lead}1, 1, {self.in_features}]. "
                f"Got {tuple(x_seq.shape)} instead."
            )
        return self.net(x_seq)
