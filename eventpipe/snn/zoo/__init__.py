"""Deep spiking families with torchvision's layouts: Spiking/SEW ResNet-18/34/50, Spiking VGG-11/13/16 (+BN).

All are multi-step (``[T, N, C, H, W]`` in, per-step class scores ``[T, N, num_classes]`` out) and take
the neuron as the reference networks of :mod:`eventpipe.snn.models` do (``neuron``, ``neuron_kwargs``,
``backend``); reset a network between samples (:func:`eventpipe.snn.functional.reset_net`), as the trainer
does. :data:`FAMILIES` names them as SpikingJelly's factory functions do (``sew_resnet18``,
``spiking_vgg11_bn``); :func:`~eventpipe.snn.zoo.pretrained.load_ann_state_dict` initialises one from an
ANN state dict with torchvision's key names.

>>> import torch
>>> net = FAMILIES["spiking_resnet18"](in_channels=2, num_classes=11, backend="torch")
>>> net(torch.zeros(2, 1, 2, 32, 32)).shape
torch.Size([2, 1, 11])
"""

from __future__ import annotations

from torch import nn

from eventpipe.snn.zoo.pretrained import load_ann_state_dict
from eventpipe.snn.zoo.resnet import (
    CONNECT_FUNCTIONS,
    SEWResNet,
    SEWResNet18,
    SEWResNet34,
    SEWResNet50,
    SpikingResNet,
    SpikingResNet18,
    SpikingResNet34,
    SpikingResNet50,
    connect,
)
from eventpipe.snn.zoo.vgg import (
    SpikingVGG,
    SpikingVGG11,
    SpikingVGG11BN,
    SpikingVGG13,
    SpikingVGG13BN,
    SpikingVGG16,
    SpikingVGG16BN,
)

__all__ = [
    "CONNECT_FUNCTIONS",
    "FAMILIES",
    "SEWResNet",
    "SEWResNet18",
    "SEWResNet34",
    "SEWResNet50",
    "SpikingResNet",
    "SpikingResNet18",
    "SpikingResNet34",
    "SpikingResNet50",
    "SpikingVGG",
    "SpikingVGG11",
    "SpikingVGG11BN",
    "SpikingVGG13",
    "SpikingVGG13BN",
    "SpikingVGG16",
    "SpikingVGG16BN",
    "connect",
    "load_ann_state_dict",
]

FAMILIES: dict[str, type[nn.Module]] = {
    "spiking_resnet18": SpikingResNet18,
    "spiking_resnet34": SpikingResNet34,
    "spiking_resnet50": SpikingResNet50,
    "sew_resnet18": SEWResNet18,
    "sew_resnet34": SEWResNet34,
    "sew_resnet50": SEWResNet50,
    "spiking_vgg11": SpikingVGG11,
    "spiking_vgg11_bn": SpikingVGG11BN,
    "spiking_vgg13": SpikingVGG13,
    "spiking_vgg13_bn": SpikingVGG13BN,
    "spiking_vgg16": SpikingVGG16,
    "spiking_vgg16_bn": SpikingVGG16BN,
}
