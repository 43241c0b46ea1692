"""Spiking ResNets and SEW ResNets (Fang et al., NeurIPS 2021) with torchvision's ResNet layout.

Both are torchvision's ResNet with every ReLU replaced by a spiking neuron, multi-step (``[T, N, C, H, W]``
in, ``[T, N, num_classes]`` out). They differ in the shortcut:

* Spiking ResNet: ``sn(bn2(conv2(...)) + identity)``, the neuron after the sum (as a ReLU after the sum in
  the ANN), so the block passes spikes and an identity mapping needs a firing threshold just right;
* SEW ResNet: ``g(sn(bn2(conv2(...))), identity)`` with a spike-element-wise ``connect_f`` ``g``
  (:func:`connect`), and a neuron after the downsampling conv-BN, so an identity block is exact.

Module and parameter names are torchvision's (``conv1``, ``bn1``, ``layer1.0.conv1``,
``layer1.0.downsample.0``, ``fc``; the neurons are ``sn1``, ``sn2``, ``sn3``, ``downsample_sn``), so an
ANN state dict loads with :func:`eventpipe.snn.zoo.pretrained.load_ann_state_dict`. The stem is
ImageNet's (7x7 conv stride 2, 3x3 max pool stride 2): a 128x128 event frame reaches layer4 at 4x4.
The ``fc`` output is not spiking: per-step class scores to average over T (train with cross-entropy).

>>> import torch
>>> net = SEWResNet18(in_channels=2, num_classes=11, connect_f="ADD", backend="torch")
>>> net(torch.zeros(2, 1, 2, 32, 32)).shape
torch.Size([2, 1, 11])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn import layer
from eventpipe.snn.neuron import ParametricLIFNode
from eventpipe.snn.zoo.common import NeuronFactory, check_input, positive_int, spiking_factory

__all__ = [
    "CONNECT_FUNCTIONS",
    "BasicBlock",
    "Bottleneck",
    "SEWResNet",
    "SEWResNet18",
    "SEWResNet34",
    "SEWResNet50",
    "SpikingResNet",
    "SpikingResNet18",
    "SpikingResNet34",
    "SpikingResNet50",
    "connect",
]

CONNECT_FUNCTIONS = ("ADD", "AND", "IAND")


def check_connect_f(value: Any) -> str:
    """``value`` upper-cased if it names a connect function, else a :class:`ConfigError`."""
    name = value.upper() if isinstance(value, str) else value
    if name not in CONNECT_FUNCTIONS:
        valid = ", ".join(repr(n) for n in CONNECT_FUNCTIONS)
        raise ConfigError(f"Unknown value {value!r} for argument connect_f. Valid values are {{{valid}}}.")
    return str(name)


def connect(residual: torch.Tensor, identity: torch.Tensor, connect_f: str) -> torch.Tensor:
    """The spike-element-wise function ``g(A, S)`` of a SEW block.

    ``A`` is the residual branch's spikes, ``S`` the shortcut's: ``ADD`` is ``A + S`` (counts up to 2),
    ``AND`` is ``A * S``, ``IAND`` is ``(1 - A) * S`` (the shortcut's spikes where the branch is silent).
    """
    if connect_f == "ADD":
        return residual + identity
    if connect_f == "AND":
        return residual * identity
    if connect_f == "IAND":
        return (1.0 - residual) * identity
    raise ConfigError(
        f"Unknown value {connect_f!r} for argument connect_f. Valid values are {set(CONNECT_FUNCTIONS)}."
    )


def _conv(in_planes: int, out_planes: int, kernel: int, stride: int = 1) -> layer.Conv2d:
    return layer.Conv2d(in_planes, out_planes, kernel_size=kernel, stride=stride, padding=kernel // 2, bias=False,
                        step_mode="m")


def _bn(planes: int) -> layer.BatchNorm2d:
    return layer.BatchNorm2d(planes, step_mode="m")


class _Block(nn.Module):
    """A residual block's shortcut: plain addition before the last neuron (``connect_f=None``) or SEW."""

    def __init__(self, downsample: nn.Module | None, spiking: Callable[[], nn.Module], connect_f: str | None) -> None:
        super().__init__()
        self.downsample = downsample
        if downsample is not None and connect_f is not None:
            self.downsample_sn = spiking()
        self.connect_f = connect_f

    def join(self, branch: torch.Tensor, neuron: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """The block's output from its branch before the last neuron, that neuron and the block's input."""
        identity = x if self.downsample is None else self.downsample(x)
        if self.connect_f is None:
            return neuron(branch + identity)
        if self.downsample is not None:
            identity = self.downsample_sn(identity)
        return connect(neuron(branch), identity, self.connect_f)

    def extra_repr(self) -> str:
        return f"connect_f={self.connect_f}" if self.connect_f is not None else ""


class BasicBlock(_Block):
    """Two 3x3 conv-BN-neuron layers (ResNet-18/34)."""

    expansion: ClassVar[int] = 1

    def __init__(self, in_planes: int, planes: int, stride: int, downsample: nn.Module | None,
                 spiking: Callable[[], nn.Module], connect_f: str | None) -> None:
        super().__init__(downsample, spiking, connect_f)
        self.conv1 = _conv(in_planes, planes, 3, stride)
        self.bn1 = _bn(planes)
        self.sn1 = spiking()
        self.conv2 = _conv(planes, planes, 3)
        self.bn2 = _bn(planes)
        self.sn2 = spiking()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.join(self.bn2(self.conv2(self.sn1(self.bn1(self.conv1(x))))), self.sn2, x)


class Bottleneck(_Block):
    """1x1, 3x3 (with the stride, torchvision's "v1.5") and 1x1 conv-BN-neuron layers, 4x wider out (ResNet-50)."""

    expansion: ClassVar[int] = 4

    def __init__(self, in_planes: int, planes: int, stride: int, downsample: nn.Module | None,
                 spiking: Callable[[], nn.Module], connect_f: str | None) -> None:
        super().__init__(downsample, spiking, connect_f)
        self.conv1 = _conv(in_planes, planes, 1)
        self.bn1 = _bn(planes)
        self.sn1 = spiking()
        self.conv2 = _conv(planes, planes, 3, stride)
        self.bn2 = _bn(planes)
        self.sn2 = spiking()
        self.conv3 = _conv(planes, planes * self.expansion, 1)
        self.bn3 = _bn(planes * self.expansion)
        self.sn3 = spiking()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.sn2(self.bn2(self.conv2(self.sn1(self.bn1(self.conv1(x))))))
        return self.join(self.bn3(self.conv3(out)), self.sn3, x)


class _ResNet(nn.Module):
    """torchvision's ResNet layout with spiking neurons; the family fixes ``block`` and ``stages``."""

    block: ClassVar[type[BasicBlock | Bottleneck]]
    stages: ClassVar[tuple[int, int, int, int]]

    def __init__(self, connect_f: str | None, in_channels: int, num_classes: int, neuron: NeuronFactory,
                 neuron_kwargs: Mapping[str, Any] | None, backend: str) -> None:
        super().__init__()
        self.in_channels = positive_int("in_channels", in_channels)
        self.num_classes = positive_int("num_classes", num_classes)
        spiking = spiking_factory(neuron, neuron_kwargs, backend)
        self.conv1 = layer.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False, step_mode="m")
        self.bn1 = _bn(64)
        self.sn1 = spiking()
        self.maxpool = layer.MaxPool2d(kernel_size=3, stride=2, padding=1, step_mode="m")
        planes_in = 64
        stages = []
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), self.stages, strict=True)):
            stride = 1 if i == 0 else 2
            planes_out = planes * self.block.expansion
            downsample = None
            if stride != 1 or planes_in != planes_out:
                downsample = nn.Sequential(_conv(planes_in, planes_out, 1, stride), _bn(planes_out))
            modules = [self.block(planes_in, planes, stride, downsample, spiking, connect_f)]
            modules += [self.block(planes_out, planes, 1, None, spiking, connect_f) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*modules))
            planes_in = planes_out
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = layer.AdaptiveAvgPool2d((1, 1), step_mode="m")
        self.fc = layer.Linear(planes_in, num_classes, step_mode="m")
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        check_input(x_seq, self.in_channels)
        x = self.maxpool(self.sn1(self.bn1(self.conv1(x_seq))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(2))


class SpikingResNet(_ResNet):
    """Spiking ResNet: the neuron after the shortcut's sum.

    Parameters
    ----------
    in_channels:
        Input channels (2 polarities for event frames, 3 for RGB).
    num_classes:
        Classes of the output.
    neuron:
        Callable building a neuron module (default :class:`~eventpipe.snn.neuron.ParametricLIFNode`); it
        is called with ``neuron_kwargs``, ``backend`` and ``step_mode="m"``.
    neuron_kwargs:
        Keyword arguments for ``neuron`` (default: ATan surrogate and ``detach_reset=True``).
    backend:
        Neuron backend (``"auto"``, ``"torch"``, ``"cupy"``, ``"triton"``).
    """

    def __init__(self, *, in_channels: int = 3, num_classes: int = 1000, neuron: NeuronFactory = ParametricLIFNode,
                 neuron_kwargs: Mapping[str, Any] | None = None, backend: str = "auto") -> None:
        super().__init__(None, in_channels, num_classes, neuron, neuron_kwargs, backend)


class SEWResNet(_ResNet):
    """SEW ResNet: the shortcut joins the branch's spikes with ``connect_f`` (``"ADD"``, ``"AND"``, ``"IAND"``).

    Other parameters as in :class:`SpikingResNet`.
    """

    def __init__(self, *, connect_f: str = "ADD", in_channels: int = 3, num_classes: int = 1000,
                 neuron: NeuronFactory = ParametricLIFNode, neuron_kwargs: Mapping[str, Any] | None = None,
                 backend: str = "auto") -> None:
        super().__init__(check_connect_f(connect_f), in_channels, num_classes, neuron, neuron_kwargs, backend)


class SpikingResNet18(SpikingResNet):
    """Spiking ResNet-18 (torchvision ``resnet18`` layout)."""

    block = BasicBlock
    stages = (2, 2, 2, 2)


class SpikingResNet34(SpikingResNet):
    """Spiking ResNet-34 (torchvision ``resnet34`` layout)."""

    block = BasicBlock
    stages = (3, 4, 6, 3)


class SpikingResNet50(SpikingResNet):
    """Spiking ResNet-50 (torchvision ``resnet50`` layout)."""

    block = Bottleneck
    stages = (3, 4, 6, 3)


class SEWResNet18(SEWResNet):
    """SEW ResNet-18 (torchvision ``resnet18`` layout)."""

    block = BasicBlock
    stages = (2, 2, 2, 2)


class SEWResNet34(SEWResNet):
    """SEW ResNet-34 (torchvision ``resnet34`` layout)."""

    block = BasicBlock
    stages = (3, 4, 6, 3)


class SEWResNet50(SEWResNet):
    """SEW ResNet-50 (torchvision ``resnet50`` layout)."""

    block = Bottleneck
    stages = (3, 4, 6, 3)
