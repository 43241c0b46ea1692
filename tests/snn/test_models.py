from __future__ import annotations

import pytest
import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn import functional, layer, models, neuron, surrogate


def test_dvs_gesture_net_default_architecture() -> None:
    net = models.DVSGestureNet()
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert [tuple(c.weight.shape) for c in convs] == [(128, 2, 3, 3)] + [(128, 128, 3, 3)] * 4
    assert all(c.bias is None for c in convs)
    fcs = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert [tuple(f.weight.shape) for f in fcs] == [(512, 128 * 4 * 4), (110, 512)]
    nodes = [m for m in net.modules() if isinstance(m, neuron.BaseNode)]
    assert len(nodes) == 7 and all(isinstance(n, neuron.ParametricLIFNode) for n in nodes)
    assert all(n.detach_reset and isinstance(n.surrogate_function, surrogate.ATan) for n in nodes)
    assert net.classifier[-1].voting_size == 10


def test_small_gesture_net_outputs_voted_rates_and_gradients() -> None:
    torch.manual_seed(0)
    net = models.DVSGestureNet(channels=6, blocks=2, input_size=16, dropout=0.0, backend="torch")
    x = (torch.rand(4, 3, 2, 16, 16) < 0.3).float()
    y = torch.tensor([0, 5, 10])
    out = net(x)
    assert out.shape == (4, 3, 11)
    assert ((out * 10).round() == out * 10).all() and out.min() >= 0 and out.max() <= 1
    functional.kaiming_init(net, a=0.0, nonlinearity="relu")  # enough drive for every layer to spike
    functional.reset_net(net)  # a new batch: forget the state of the last one
    functional.tet_loss(net(x) * 5, y).backward()
    for name, p in net.named_parameters():  # every layer and every PLIF time constant gets a gradient
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


def test_neuron_and_backend_are_injectable() -> None:
    net = models.NMNISTNet(
        channels=4,
        hidden=32,
        neuron=neuron.LIFNode,
        neuron_kwargs={"tau": 3.0, "v_reset": None},
        backend="torch",
    )
    nodes = [m for m in net.modules() if isinstance(m, neuron.BaseNode)]
    assert nodes and all(type(n) is neuron.LIFNode and n.tau == 3.0 and n.backend == "torch" for n in nodes)
    fc = [m for m in net.modules() if isinstance(m, nn.Linear)][0]
    assert fc.in_features == 4 * 8 * 8  # 34 -> 17 -> 8
    assert net(torch.rand(2, 2, 2, 34, 34)).shape == (2, 2, 10)


def test_cifar10dvs_net_shapes() -> None:
    net = models.CIFAR10DVSNet(channels=2, hidden=16, input_size=32, backend="torch")
    fc = [m for m in net.modules() if isinstance(m, nn.Linear)][0]
    assert fc.in_features == 2 * 2 * 2  # 32 / 2^4
    assert net(torch.rand(2, 1, 2, 32, 32)).shape == (2, 1, 10)
    assert models.CIFAR10DVSNet().classifier[2].in_features == 128 * 8 * 8


def test_model_input_validation() -> None:
    net = models.DVSGestureNet(channels=4, blocks=3, input_size=32)
    with pytest.raises(ConfigError, match=r"\[T, N, 2, 32, 32\]"):
        net(torch.zeros(2, 2, 32, 32))
    with pytest.raises(ConfigError, match="too small"):
        models.DVSGestureNet(blocks=8, input_size=128)
    with pytest.raises(ConfigError, match="channels"):
        models.DVSGestureNet(channels=0)


@pytest.mark.parametrize("recurrent", [False, True])
def test_shd_net_accepts_both_layouts(recurrent: bool) -> None:
    torch.manual_seed(0)
    net = models.SHDNet(hidden=16, recurrent=recurrent, backend="torch").eval()
    x = (torch.rand(6, 2, 700) < 0.1).float()
    out = net(x)
    assert out.shape == (6, 2, 20)
    assert torch.equal(net(x.reshape(6, 2, 1, 1, 700)), out)
    assert any(isinstance(m, layer.RecurrentSpiking) for m in net.modules()) == recurrent
    with pytest.raises(ConfigError, match="700"):
        net(torch.zeros(6, 2, 699))
