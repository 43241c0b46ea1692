"""Spiking VGGs with torchvision's VGG layout (``features``, ``avgpool``, ``classifier``), multi-step.

torchvision's VGG with every ReLU replaced by a spiking neuron, as in SpikingJelly: 3x3 convolutions
(with bias; with BN in the ``_bn`` variants) and five 2x2 max pools, an adaptive average pool to 7x7, and
the classifier Linear - neuron - dropout - Linear - neuron - dropout - Linear. The indices inside
``features`` and ``classifier`` are torchvision's (a neuron sits where the ReLU was), so an ANN state dict
loads with :func:`eventpipe.snn.zoo.pretrained.load_ann_state_dict`. Frames must be at least 32x32 pixels
(five poolings). The last Linear is not spiking: per-step class scores to average over T.

>>> import torch
>>> net = SpikingVGG11(in_channels=2, num_classes=10, hidden=64, backend="torch")
>>> net(torch.zeros(2, 1, 2, 32, 32)).shape
torch.Size([2, 1, 10])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from eventpipe.snn import layer
from eventpipe.snn.neuron import ParametricLIFNode
from eventpipe.snn.zoo.common import NeuronFactory, check_input, positive_int, spiking_factory

__all__ = [
    "SpikingVGG",
    "SpikingVGG11",
    "SpikingVGG11BN",
    "SpikingVGG13",
    "SpikingVGG13BN",
    "SpikingVGG16",
    "SpikingVGG16BN",
]

_POOL = 0  # a max pool in a configuration; other entries are conv widths

_A = (64, _POOL, 128, _POOL, 256, 256, _POOL, 512, 512, _POOL, 512, 512, _POOL)
_B = (64, 64, _POOL, 128, 128, _POOL, 256, 256, _POOL, 512, 512, _POOL, 512, 512, _POOL)
_D = (64, 64, _POOL, 128, 128, _POOL, 256, 256, 256, _POOL, 512, 512, 512, _POOL, 512, 512, 512, _POOL)


class SpikingVGG(nn.Module):
    """torchvision's VGG with spiking neurons; the family fixes ``widths`` and ``batch_norm``.

    Parameters
    ----------
    in_channels:
        Input channels (2 polarities for event frames, 3 for RGB).
    num_classes:
        Classes of the output.
    hidden:
        Width of the two hidden classifier layers (torchvision's 4096; a pretrained state dict needs it).
    dropout:
        Dropout probability in the classifier (one mask per sequence).
    neuron, neuron_kwargs, backend:
        As in :class:`eventpipe.snn.zoo.resnet.SpikingResNet`.
    """

    widths: ClassVar[tuple[int, ...]]
    batch_norm: ClassVar[bool] = False

    def __init__(self, *, in_channels: int = 3, num_classes: int = 1000, hidden: int = 4096, dropout: float = 0.5,
                 neuron: NeuronFactory = ParametricLIFNode, neuron_kwargs: Mapping[str, Any] | None = None,
                 backend: str = "auto") -> None:
        super().__init__()
        self.in_channels = positive_int("in_channels", in_channels)
        self.num_classes = positive_int("num_classes", num_classes)
        positive_int("hidden", hidden)
        spiking = spiking_factory(neuron, neuron_kwargs, backend)
        features: list[nn.Module] = []
        channels = in_channels
        for width in self.widths:
            if width == _POOL:
                features.append(layer.MaxPool2d(kernel_size=2, stride=2, step_mode="m"))
                continue
            features.append(layer.Conv2d(channels, width, kernel_size=3, padding=1, step_mode="m"))
            if self.batch_norm:
                features.append(layer.BatchNorm2d(width, step_mode="m"))
            features.append(spiking())
            channels = width
        self.features = nn.Sequential(*features)
        self.avgpool = layer.AdaptiveAvgPool2d((7, 7), step_mode="m")
        self.classifier = nn.Sequential(
            layer.Linear(channels * 7 * 7, hidden, step_mode="m"),
            spiking(),
            layer.Dropout(dropout, step_mode="m"),
            layer.Linear(hidden, hidden, step_mode="m"),
            spiking(),
            layer.Dropout(dropout, step_mode="m"),
            layer.Linear(hidden, num_classes, step_mode="m"),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
            if isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                nn.init.zeros_(m.bias)

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        check_input(x_seq, self.in_channels, min_size=2 ** self.widths.count(_POOL))
        return self.classifier(self.avgpool(self.features(x_seq)).flatten(2))


class SpikingVGG11(SpikingVGG):
    """Spiking VGG-11 (torchvision ``vgg11`` layout)."""

    widths = _A


class SpikingVGG11BN(SpikingVGG):
    """Spiking VGG-11 with batch norm (torchvision ``vgg11_bn`` layout)."""

    widths = _A
    batch_norm = True


class SpikingVGG13(SpikingVGG):
    """Spiking VGG-13 (torchvision ``vgg13`` layout)."""

    widths = _B


class SpikingVGG13BN(SpikingVGG):
    """Spiking VGG-13 with batch norm (torchvision ``vgg13_bn`` layout)."""

    widths = _B
    batch_norm = True


class SpikingVGG16(SpikingVGG):
    """Spiking VGG-16 (torchvision ``vgg16`` layout)."""

    widths = _D


class SpikingVGG16BN(SpikingVGG):
    """Spiking VGG-16 with batch norm (torchvision ``vgg16_bn`` layout)."""

    widths = _D
    batch_norm = True
