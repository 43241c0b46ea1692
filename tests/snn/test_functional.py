from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn import functional, layer, models, neuron


def _net(step_mode: str = "m") -> nn.Sequential:
    net = nn.Sequential(
        layer.Linear(4, 6), neuron.LIFNode(), layer.Dropout(0.3), layer.Linear(6, 3), neuron.IFNode()
    )
    functional.set_step_mode(net, step_mode)
    return net


def test_set_step_mode_and_reset_net_stream_a_whole_network() -> None:
    net = _net().eval()
    x = torch.rand(10, 2, 4) * 2
    expected = net(x)
    functional.set_step_mode(net, "s")  # resets the state the multi-step call left
    assert all(m.step_mode == "s" for m in net.modules() if hasattr(m, "step_mode"))
    streamed = torch.stack([net(xt) for xt in x])
    assert torch.equal(streamed, expected)
    functional.reset_net(net)
    assert net[1].state is None and net[4].state is None
    with pytest.raises(ConfigError, match="step_mode"):
        functional.set_step_mode(net, "multi")


def test_detach_net_cuts_carried_state() -> None:
    net = _net("s")
    net(torch.rand(2, 4, requires_grad=True))
    assert net[1].v.requires_grad
    functional.detach_net(net)
    assert not net[1].v.requires_grad


def test_set_backend_reaches_every_neuron() -> None:
    net = _net()
    functional.set_backend(net, "torch")
    assert [m.backend for m in net.modules() if isinstance(m, neuron.BaseNode)] == ["torch", "torch"]
    functional.set_backend(net, "auto", instance=neuron.IFNode)
    assert net[1].backend == "torch" and net[4].backend == "auto"
    with pytest.raises(ConfigError):
        functional.set_backend(net, "gpu")


def test_tet_loss_is_the_mean_of_per_step_cross_entropies() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 4, 3, generator=gen)
    y = torch.tensor([0, 2, 1, 2])
    loop = sum(F.cross_entropy(x[t], y) for t in range(5)) / 5
    torch.testing.assert_close(functional.tet_loss(x, y), loop)
    reg = F.mse_loss(x, torch.full_like(x, 1.0))
    torch.testing.assert_close(functional.tet_loss(x, y, lamb=0.25), 0.75 * loop + 0.25 * reg)


def test_tet_loss_masks_padded_steps() -> None:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(6, 2, 4, generator=gen)
    y = torch.tensor([3, 1])
    mask = torch.tensor([[1, 1], [1, 1], [1, 0], [1, 0], [0, 0], [0, 0]], dtype=torch.bool)
    terms = [F.cross_entropy(x[t, n : n + 1], y[n : n + 1]) for t in range(6) for n in range(2) if mask[t, n]]
    torch.testing.assert_close(functional.tet_loss(x, y, mask=mask), torch.stack(terms).mean())
    with pytest.raises(ConfigError, match="target"):
        functional.tet_loss(x, torch.tensor([1, 2, 3]))


def test_delay_shifts_in_time() -> None:
    x = torch.arange(1.0, 6.0)[:, None]
    assert functional.delay(x, 2).flatten().tolist() == [0, 0, 1, 2, 3]
    assert torch.equal(functional.delay(x, 0), x)
    assert functional.delay(x, 9).abs().sum() == 0
    with pytest.raises(ConfigError):
        functional.delay(x, -1)
    d = layer.Delay(2, step_mode="s")
    assert [d(v).item() for v in x] == [0, 0, 1, 2, 3]


def test_conv_bn_fusion_is_exact_in_eval_mode() -> None:
    torch.manual_seed(0)
    for conv, bn in [
        (nn.Conv2d(3, 5, 3, padding=1, bias=False), nn.BatchNorm2d(5)),
        (nn.Conv1d(2, 4, 3, bias=True), nn.BatchNorm1d(4)),
        (layer.Conv2d(3, 5, 3, stride=2, step_mode="m"), layer.BatchNorm2d(5, step_mode="m")),
    ]:

        def batch(n: int, conv: nn.Module = conv) -> torch.Tensor:
            x = torch.randn(n, conv.in_channels, *([9] * (conv.weight.dim() - 2)))
            return x.unsqueeze(0).expand(3, *x.shape) if isinstance(conv, layer.Conv2d) else x  # [T, N, ...]

        bn.train()
        for _ in range(3):  # non-trivial running statistics
            bn(conv(batch(8)) * 3 + 1)
        with torch.no_grad():
            bn.weight.uniform_(0.5, 2.0)
            bn.bias.uniform_(-1, 1)
        bn.eval()
        fused = functional.fuse_conv_bn(conv, bn)
        assert type(fused) is type(conv)
        x = batch(2)
        with torch.no_grad():
            torch.testing.assert_close(fused(x), bn(conv(x)), rtol=1e-5, atol=1e-5)


def test_fuse_conv_bn_in_net_keeps_eval_outputs() -> None:
    torch.manual_seed(1)
    net = models.DVSGestureNet(channels=4, blocks=2, input_size=8, backend="torch")
    net.train()
    net(torch.rand(3, 2, 2, 8, 8))
    net.eval()
    x = (torch.rand(4, 2, 2, 8, 8) < 0.3).float()
    with torch.no_grad():
        before = net.features[:3](x)  # the first block's spikes
        functional.fuse_conv_bn_in_net(net)
        after = net.features[:3](x)
    assert isinstance(net.features[1], nn.Identity)
    assert (before != after).float().mean() < 1e-3  # identical up to float rounding at the threshold


def test_kaiming_init_scales_with_fan_in() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(64, 256, 3), nn.Linear(512, 512))
    functional.kaiming_init(net, a=0.0, nonlinearity="relu", zero_bias=True)
    conv, linear = net
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.05)
    assert linear.weight.std().item() == pytest.approx(math.sqrt(2 / 512), rel=0.05)
    assert conv.bias.abs().sum() == 0
    with pytest.raises(ConfigError, match="mode"):
        functional.kaiming_init(net, mode="fan")


def test_firing_rate() -> None:
    assert functional.firing_rate(torch.tensor([[1.0, 0.0], [1.0, 1.0]])).item() == 0.75


def test_first_spike_index_and_redundant_one_hot_hand_computed() -> None:
    spikes = torch.tensor([[0.0, 1, 1, 0, 1], [0, 0, 0, 0, 0], [1, 0, 0, 1, 0]])
    expected = torch.tensor([[0, 1, 0, 0, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
    assert torch.equal(functional.first_spike_index(spikes), expected)
    codes = functional.redundant_one_hot(torch.tensor([0, 2, 1]), 3, 2)
    assert codes.tolist() == [[1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1], [0, 0, 1, 1, 0, 0]]
    with pytest.raises(ConfigError):
        functional.redundant_one_hot(torch.tensor([0]), 3, 0)


def test_kernel_dot_product_and_spike_similar_loss_follow_their_formulas() -> None:
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(3, 4, generator=g), torch.rand(2, 4, generator=g)

    def each(f) -> torch.Tensor:
        return torch.tensor([[f(a, b) for b in y] for a in x])

    cases = {
        ("linear",): lambda a, b: float(a @ b),
        ("polynomial", 3): lambda a, b: float(a @ b) ** 3,
        ("sigmoid", 0.5): lambda a, b: 1 / (1 + math.exp(-0.5 * float(a @ b))),
        ("gaussian", 0.7): lambda a, b: math.exp(-float(((a - b) ** 2).sum()) / (2 * 0.7**2)),
    }
    for (kernel, *args), f in cases.items():
        torch.testing.assert_close(functional.kernel_dot_product(x, y, kernel, *args), each(f))
    with pytest.raises(ConfigError, match="kernel"):
        functional.kernel_dot_product(x, y, "cosine")

    spikes = torch.tensor([[[1.0, 0], [1, 1]], [[1, 0], [0, 1]], [[0, 1], [0, 0]]])  # [N=3, M=2, T=2]
    labels = torch.tensor([[1, 0], [1, 1], [0, 1]])
    flat = spikes.flatten(1)
    sim = torch.tensor([[1.0, 1, 0], [1, 1, 1], [0, 1, 1]])  # share a label
    cos = torch.tensor([[float(a @ b) / (float(a.norm() * b.norm()) + 1e-8) for b in flat] for a in flat])
    torch.testing.assert_close(functional.spike_similar_loss(spikes, labels), ((cos - sim) ** 2).mean())
    torch.testing.assert_close(
        functional.spike_similar_loss(spikes, labels, "linear", "l1"), (cos - sim).abs().mean()
    )
    gauss = torch.tensor([[math.exp(-float(((a - b) ** 2).sum()) / 2) for b in flat] for a in flat])
    # binary cross-entropy, log clamped at -100 as PyTorch does (the diagonal has gauss = 1)
    bce = -(sim * gauss.log().clamp_min(-100) + (1 - sim) * (1 - gauss).log().clamp_min(-100)).mean()
    torch.testing.assert_close(functional.spike_similar_loss(spikes, labels, "gaussian", "bce", 1.0), bce)


def test_set_threshold_margin_gives_each_sample_its_thresholds() -> None:
    node = neuron.IFNode(step_mode="m")
    one_hot = torch.tensor([[0.0, 1, 0], [1, 0, 0]])
    functional.set_threshold_margin(node, one_hot, eval_threshold=1.0, threshold0=0.9, threshold1=1.1)
    assert torch.equal(node.v_threshold, torch.tensor([[0.9, 1.1, 0.9], [1.1, 0.9, 0.9]]))
    x = torch.full((1, 2, 3), 1.0, requires_grad=True)  # crosses 0.9, not 1.1
    out = node(x)
    assert out[0].tolist() == [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    node.reset()
    node.step_mode = "s"
    assert node(torch.ones(2, 3)).tolist() == [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
    node.eval()
    functional.set_threshold_margin(node, one_hot)
    assert node.v_threshold == 1.0
    with pytest.raises(ConfigError, match="v_threshold"):
        neuron.IFNode(v_threshold=torch.tensor([float("nan")]))


def test_scaled_fused_conv_bn_weight_and_bias() -> None:
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(2, 3, 3, bias=False), nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 2)
        bn.bias.uniform_(-1, 1)
    bn.eval()
    std = torch.sqrt(bn.running_var + bn.eps)
    weight = conv.weight.detach() * (bn.weight.detach() / std).view(3, 1, 1, 1)  # W gamma / std
    bias = bn.bias.detach() - bn.running_mean * bn.weight.detach() / std  # beta - mean gamma / std
    torch.testing.assert_close(functional.fused_conv2d_weight_of_convbn2d(conv, bn), weight)
    torch.testing.assert_close(functional.fused_conv2d_bias_of_convbn2d(conv, bn), bias)
    functional.scale_fused_conv2d_weight_of_convbn2d(conv, bn, k=0.5, b=0.25)
    functional.scale_fused_conv2d_bias_of_convbn2d(conv, bn, k=2.0, b=-0.5)
    torch.testing.assert_close(functional.fused_conv2d_weight_of_convbn2d(conv, bn), 0.5 * weight + 0.25)
    torch.testing.assert_close(functional.fused_conv2d_bias_of_convbn2d(conv, bn), 2.0 * bias - 0.5)
    x = torch.randn(2, 2, 6, 6)
    with torch.no_grad():
        expected = F.conv2d(x, 0.5 * weight + 0.25, 2.0 * bias - 0.5)
        torch.testing.assert_close(bn(conv(x)), expected, rtol=1e-5, atol=1e-5)


def test_tet_loss_on_dense_outputs_and_step_forward_helpers() -> None:
    g = torch.Generator().manual_seed(0)
    x_seq = torch.randn(3, 2, 4, 5, 5, generator=g)
    target = torch.randint(0, 4, (2, 5, 5), generator=g)
    expected = torch.stack([F.cross_entropy(x_seq[t], target) for t in range(3)]).mean()
    torch.testing.assert_close(functional.tet_loss(x_seq, target), expected)
    with pytest.raises(ConfigError, match=r"\[2, 5, 5\]"):
        functional.tet_loss(x_seq, target[:, 0])
    chain = [nn.Linear(3, 4), nn.ReLU()]
    x = torch.randn(5, 2, 3, generator=g)
    torch.testing.assert_close(
        functional.multi_step_forward(x, chain), torch.stack([chain[1](chain[0](t)) for t in x])
    )
    torch.testing.assert_close(layer.seq_to_ann_forward(x, chain), chain[1](chain[0](x)))
