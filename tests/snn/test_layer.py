from __future__ import annotations

import pytest
import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn import functional, layer, neuron


@pytest.mark.parametrize(
    ("multi", "plain", "shape"),
    [
        (
            lambda: layer.Conv2d(2, 3, 3, padding=1, step_mode="m"),
            lambda m, x: nn.Conv2d.forward(m, x),
            (4, 5, 2, 6, 6),
        ),
        (lambda: layer.Conv1d(2, 3, 3, step_mode="m"), lambda m, x: nn.Conv1d.forward(m, x), (4, 5, 2, 7)),
        (lambda: layer.MaxPool2d(2, step_mode="m"), lambda m, x: nn.MaxPool2d.forward(m, x), (4, 5, 2, 6, 6)),
        (lambda: layer.AvgPool2d(2, step_mode="m"), lambda m, x: nn.AvgPool2d.forward(m, x), (4, 5, 2, 6, 6)),
        (
            lambda: layer.AdaptiveAvgPool2d(1, step_mode="m"),
            lambda m, x: nn.AdaptiveAvgPool2d.forward(m, x),
            (4, 5, 2, 6, 6),
        ),
        (lambda: layer.Flatten(step_mode="m"), lambda m, x: nn.Flatten.forward(m, x), (4, 5, 2, 3, 3)),
        (lambda: layer.Linear(3, 2, step_mode="m"), lambda m, x: nn.Linear.forward(m, x), (4, 5, 3)),
    ],
)
def test_multi_step_layers_equal_per_step_application(multi, plain, shape) -> None:
    module = multi()
    x = torch.randn(shape)
    y = module(x)
    for t in range(shape[0]):
        torch.testing.assert_close(y[t], plain(module, x[t]))
    module.step_mode = "s"
    torch.testing.assert_close(module(x[0]), y[0])


def test_batch_norm_statistics_span_time_and_batch() -> None:
    bn = layer.BatchNorm2d(2, step_mode="m")
    x = torch.randn(3, 4, 2, 5, 5) * 2 + 1
    y = bn(x)
    torch.testing.assert_close(y.mean(dim=(0, 1, 3, 4)), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(bn.running_mean, 0.1 * x.mean(dim=(0, 1, 3, 4)), atol=1e-5, rtol=0)
    assert "step_mode=m" in repr(bn)


def test_seq_to_ann_container() -> None:
    block = layer.SeqToANNContainer(nn.Conv2d(2, 3, 1), nn.ReLU())
    x = torch.randn(4, 2, 2, 3, 3)
    y = block(x)
    assert y.shape == (4, 2, 3, 3, 3)
    torch.testing.assert_close(y[1], nn.Sequential.forward(block, x[1]))
    with pytest.raises(ConfigError, match=r"\[T, N, \.\.\.\]"):
        block(torch.zeros(3))


def test_dropout_shares_one_mask_over_time() -> None:
    torch.manual_seed(0)
    drop = layer.Dropout(0.5, step_mode="m")
    y = drop(torch.ones(6, 3, 40))
    assert torch.equal(y, y[0].expand_as(y))
    assert set(y.unique().tolist()) == {0.0, 2.0}
    assert torch.equal(drop(torch.ones(2, 3, 40)), y[:2])  # the next chunk of the sample: same mask
    drop.reset()
    drop.step_mode = "s"
    first = drop(torch.ones(3, 40))
    assert torch.equal(drop(torch.ones(3, 40)), first)  # kept until reset
    drop.reset()
    assert drop.mask is None
    drop.eval()
    assert torch.equal(drop(torch.ones(6, 3, 40)), torch.ones(6, 3, 40))
    with pytest.raises(ConfigError):
        layer.Dropout(1.0)


def test_voting_layer_averages_groups() -> None:
    vote = layer.VotingLayer(3)
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0, 0.0, 1.0]])
    torch.testing.assert_close(vote(x), torch.tensor([[2 / 3, 1 / 3]]))
    with pytest.raises(ConfigError, match="multiple of voting_size=3"):
        vote(torch.zeros(1, 4))
    with pytest.raises(ConfigError):
        layer.VotingLayer(0)


def test_recurrent_spiking_layer_streams_and_learns() -> None:
    torch.manual_seed(0)
    rec = layer.RecurrentSpiking(5, 7, neuron.LIFNode(), step_mode="m")
    with torch.no_grad():
        rec.recurrent.weight.fill_(0.3)
    x = (torch.rand(9, 2, 5) < 0.5).float().requires_grad_()
    y = rec(x)
    assert y.shape == (9, 2, 7)
    y.sum().backward()
    assert rec.recurrent.weight.grad is not None and x.grad is not None
    rec.reset()
    rec.step_mode = "s"
    streamed = torch.stack([rec(xt) for xt in x.detach()])
    assert torch.equal(streamed, y.detach())
    rec.detach()
    rec.reset()
    assert rec.state is None


def test_synapse_filter_and_recurrent_containers_follow_their_equations() -> None:
    filt = layer.SynapseFilter(tau=4.0, step_mode="m")
    spikes = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0])[:, None]
    current, expected = 0.0, []
    for s in spikes.flatten().tolist():  # I[t] = I[t-1] - (1 - S[t]) I[t-1] / tau + S[t]
        current = current - (1 - s) * current / 4.0 + s
        expected.append(current)
    torch.testing.assert_close(filt(spikes).flatten(), torch.tensor(expected))
    learn = layer.SynapseFilter(tau=4.0, learnable=True, step_mode="m")
    filt.reset()
    out = learn(spikes)  # 1 / tau = sigmoid(-log(tau - 1)) = 1 / 4
    torch.testing.assert_close(out, filt(spikes))
    out.sum().backward()
    assert learn.w.grad is not None and learn.w.grad != 0
    with pytest.raises(ConfigError, match="tau"):
        layer.SynapseFilter(tau=1.0)

    torch.manual_seed(0)
    x = torch.rand(4, 2, 3) * 2
    ew = layer.ElementWiseRecurrentContainer(nn.Identity(), torch.mul, step_mode="m")
    assert torch.equal(ew(x), torch.zeros_like(x))  # y[t] = y[t-1] * x[t], y[-1] = 0
    ew = layer.ElementWiseRecurrentContainer(nn.Identity(), torch.add, step_mode="m")
    torch.testing.assert_close(ew(x), x.cumsum(0))  # y[t] = y[t-1] + x[t]
    sub = nn.Linear(3, 2)
    lin = layer.LinearRecurrentContainer(sub, 3, 2, step_mode="m")
    y, expected = torch.zeros(2, 2), []
    for xt in x:
        y = sub(lin.rc(torch.cat([xt, y], -1)))
        expected.append(y)
    torch.testing.assert_close(lin(x), torch.stack(expected))

    block = layer.StepModeContainer(False, nn.Conv2d(2, 3, 1), nn.ReLU())
    img = torch.randn(4, 2, 2, 3, 3)
    assert torch.equal(block(img[0]), nn.Sequential.forward(block, img[0]))
    block.step_mode = "m"
    torch.testing.assert_close(block(img), torch.stack([nn.Sequential.forward(block, i) for i in img]))
    multi = layer.MultiStepContainer(nn.Linear(3, 3), neuron.IFNode())
    assert multi.step_mode == "m" and multi(x).shape == x.shape
    with pytest.raises(ConfigError, match="step_mode"):
        multi.step_mode = "s"


@pytest.mark.parametrize(
    ("make", "plain", "shape"),
    [
        (lambda m: layer.Conv3d(2, 3, 3, padding=1, step_mode=m), nn.Conv3d, (3, 2, 2, 4, 4, 4)),
        (lambda m: layer.ConvTranspose1d(2, 3, 3, stride=2, step_mode=m), nn.ConvTranspose1d, (3, 2, 2, 5)),
        (
            lambda m: layer.ConvTranspose2d(2, 3, 2, stride=2, step_mode=m),
            nn.ConvTranspose2d,
            (3, 2, 2, 4, 4),
        ),
        (
            lambda m: layer.ConvTranspose3d(2, 3, 2, stride=2, step_mode=m),
            nn.ConvTranspose3d,
            (3, 2, 2, 2, 3, 3),
        ),
        (lambda m: layer.GroupNorm(2, 4, step_mode=m), nn.GroupNorm, (3, 2, 4, 5, 5)),
        (lambda m: layer.MaxPool1d(2, step_mode=m), nn.MaxPool1d, (3, 2, 2, 8)),
        (lambda m: layer.MaxPool3d(2, step_mode=m), nn.MaxPool3d, (3, 2, 2, 4, 4, 4)),
        (lambda m: layer.AvgPool1d(2, step_mode=m), nn.AvgPool1d, (3, 2, 2, 8)),
        (lambda m: layer.AvgPool3d(2, step_mode=m), nn.AvgPool3d, (3, 2, 2, 4, 4, 4)),
        (lambda m: layer.AdaptiveAvgPool1d(3, step_mode=m), nn.AdaptiveAvgPool1d, (3, 2, 2, 7)),
        (lambda m: layer.AdaptiveAvgPool3d(1, step_mode=m), nn.AdaptiveAvgPool3d, (3, 2, 2, 4, 4, 4)),
    ],
)
def test_more_wrapped_layers_equal_the_plain_layer_per_step(make, plain, shape) -> None:
    torch.manual_seed(0)
    module = make("m")
    x = torch.randn(shape)
    y = module(x)
    for t in range(shape[0]):  # the plain PyTorch layer with the same parameters, on each step
        torch.testing.assert_close(y[t], plain.forward(module, x[t]))
    single = make("s")
    single.load_state_dict(module.state_dict())
    torch.testing.assert_close(torch.stack([single(xt) for xt in x]), y)
    with pytest.raises(ConfigError, match="step_mode='m'"):
        single(x)  # a sequence in single-step mode
    with pytest.raises(ConfigError, match="step_mode='s'"):
        module(x[0])  # one step in multi-step mode
    with pytest.raises(ConfigError, match="argument step_mode"):
        make("x")


def test_batch_norm_3d_statistics_span_time_and_batch() -> None:
    bn = layer.BatchNorm3d(2, step_mode="m")
    x = torch.randn(3, 4, 2, 3, 3, 3) * 2 + 1
    y = bn(x)
    torch.testing.assert_close(y.mean(dim=(0, 1, 3, 4, 5)), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(bn.running_mean, 0.1 * x.mean(dim=(0, 1, 3, 4, 5)), atol=1e-5, rtol=0)
    with pytest.raises(ConfigError, match="step_mode='s'"):
        bn(x[0])


def test_dropout2d_drops_whole_channels_for_the_whole_sequence() -> None:
    torch.manual_seed(0)
    drop = layer.Dropout2d(step_mode="m")
    assert drop.p == 0.2
    drop = layer.Dropout2d(0.5, step_mode="m")
    y = drop(torch.ones(4, 8, 16, 3, 3))
    assert torch.equal(y, y[0].expand_as(y))  # one mask for every step
    per_channel = y[0].flatten(2)
    assert torch.equal(per_channel, per_channel[..., :1].expand_as(per_channel))  # constant over pixels
    assert set(y.unique().tolist()) == {0.0, 2.0}
    assert 0.3 < (per_channel[..., 0] == 0).float().mean() < 0.7
    assert torch.equal(drop(torch.ones(2, 8, 16, 3, 3)), y[:2])  # the next chunk: the same mask
    drop.reset()
    drop.step_mode = "s"
    first = drop(torch.ones(8, 16, 3, 3))
    assert torch.equal(drop(torch.ones(8, 16, 3, 3)), first)
    with pytest.raises(ConfigError, match="carries state"):
        drop(torch.ones(4, 8, 16, 3, 3))
    drop.eval()
    assert torch.equal(drop(torch.ones(8, 16, 3, 3)), torch.ones(8, 16, 3, 3))
    with pytest.raises(ConfigError, match="argument p"):
        layer.Dropout2d(1.0)
    with pytest.raises(ConfigError, match=r"steps \[N, C, \.\.\.\]"):
        layer.Dropout2d()(torch.ones(5))


def test_transposed_convolution_takes_the_output_size_of_one_step() -> None:
    up = layer.ConvTranspose2d(2, 3, 3, stride=2, step_mode="m")
    x = torch.randn(3, 2, 2, 4, 4)
    assert up(x).shape == (3, 2, 3, 9, 9)
    y = up(x, output_size=[10, 10])
    torch.testing.assert_close(y[1], nn.ConvTranspose2d.forward(up, x[1], [10, 10]))
    up.step_mode = "s"
    torch.testing.assert_close(up(x[1], output_size=[10, 10]), y[1])


# -- Delay: SpikingJelly's delay_steps and the alias steps ----------------------------------------------------


def test_delay_takes_spikingjelly_keyword_and_alias() -> None:
    x = torch.arange(1.0, 8.0).reshape(7, 1)
    expected = [0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0]  # y[t] = x[t - 3]
    assert functional.delay(x, delay_steps=3).flatten().tolist() == expected
    assert functional.delay(x, steps=3).flatten().tolist() == expected
    assert functional.delay(x, 3).flatten().tolist() == expected
    for make in (lambda: layer.Delay(delay_steps=3, step_mode="m"), lambda: layer.Delay(steps=3, step_mode="m")):
        d = make()
        assert d.delay_steps == d.steps == 3
        chunks = [d(c) for c in x.split([1, 3, 3])]  # chunked: the queue is carried across calls
        assert torch.cat(chunks).flatten().tolist() == expected
    single = layer.Delay(delay_steps=3)
    assert [single(v).item() for v in x] == expected
    assert repr(single) == "Delay(delay_steps=3, step_mode=s)"
    for bad in ({}, {"delay_steps": 1, "steps": 1}):
        with pytest.raises(ConfigError, match="exactly one"):
            layer.Delay(**bad)
        with pytest.raises(ConfigError, match="exactly one"):
            functional.delay(x, **bad)
    with pytest.raises(ConfigError, match="delay_steps of Delay"):
        layer.Delay(delay_steps=-1)
    with pytest.raises(ConfigError, match="delay_steps of delay"):
        functional.delay(x, delay_steps=1.5)
