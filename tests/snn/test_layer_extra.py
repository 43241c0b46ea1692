"""The layers with their own math, each against its equation written out here step by step."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn import layer, layer_extra


def test_extra_layers_are_importable_from_layer() -> None:
    for name in layer_extra.__all__:
        assert getattr(layer, name) is getattr(layer_extra, name)


# --- DropConnectLinear -------------------------------------------------------------------------------


def test_drop_connect_masks_connections_per_sample_and_keeps_them_when_invariant() -> None:
    torch.manual_seed(0)
    fc = layer.DropConnectLinear(4, 5, bias=False, p=0.5, invariant=True, activation=None, step_mode="m")
    n = 6
    basis = torch.eye(4)[:, None, :].expand(4, n, 4)  # step t feeds the unit vector e_t to every sample
    y = fc(basis)  # y[t, n] = column t of (W * M_n)
    masked = y.permute(1, 2, 0)  # [N, out, in]
    w = fc.weight.detach()
    assert torch.all((masked == w) | (masked == 0))  # each connection is kept (unscaled) or dropped
    dropped = (masked == 0).float()
    assert 0.3 < dropped.mean() < 0.7
    assert not torch.equal(dropped[0], dropped[1])  # one mask per sample
    assert torch.equal(fc(basis), y)  # kept across calls until reset
    fc.reset()
    assert fc.mask_w is None and not torch.equal(fc(basis), y)

    fc = layer.DropConnectLinear(3, 40, p=0.5, activation=None, step_mode="m")
    with torch.no_grad():
        fc.weight.zero_()
        fc.bias.fill_(1.5)
    y = fc(torch.zeros(5, 2, 3))  # y[t, n] = b * m[t, n]: a fresh bias mask at every step
    assert set(y.unique().tolist()) == {0.0, 1.5}
    assert not torch.equal(y[0], y[1])


def test_drop_connect_step_modes_agree_under_one_seed() -> None:
    x = torch.randn(4, 3, 6)
    for training in (True, False):
        multi = layer.DropConnectLinear(6, 5, samples_num=64, step_mode="m").train(training)
        single = layer.DropConnectLinear(6, 5, samples_num=64).train(training)
        single.load_state_dict(multi.state_dict())
        torch.manual_seed(1)
        whole = multi(x)
        torch.manual_seed(1)
        torch.testing.assert_close(torch.stack([single(xt) for xt in x]), whole)


def test_drop_connect_inference_is_the_gaussian_moment_match() -> None:
    torch.manual_seed(0)
    p = 0.3
    fc = layer.DropConnectLinear(3, 2, p=p, samples_num=200_000).eval()
    x = torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]])
    w, b = fc.weight.detach(), fc.bias.detach()
    mu = (1 - p) * (x @ w.T + b)
    sigma = (p * (1 - p) * (x.square() @ w.square().T + b.square())).sqrt()
    z = mu / sigma  # E[relu(Z)] for Z ~ Normal(mu, sigma^2)
    cdf = 0.5 * (1 + torch.erf(z / math.sqrt(2)))
    pdf = torch.exp(-0.5 * z.square()) / math.sqrt(2 * math.pi)
    torch.testing.assert_close(fc(x), mu * cdf + sigma * pdf, atol=0.01, rtol=0)
    fc.activation = None
    torch.testing.assert_close(fc(x), mu, atol=0.01, rtol=0)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"p": 1.0}, "argument p"),
        ({"samples_num": 0}, "argument samples_num"),
        ({"in_features": 0}, "argument in_features"),
        ({"activation": "relu"}, "argument activation"),
        ({"step_mode": "t"}, "argument step_mode"),
    ],
)
def test_drop_connect_rejects_bad_arguments(kwargs, argument) -> None:
    args = {"in_features": 3, "out_features": 2, **kwargs}
    with pytest.raises(ConfigError, match=argument) as err:
        layer.DropConnectLinear(**args)
    assert "\n" not in str(err.value)


def test_drop_connect_rejects_a_step_of_the_wrong_shape() -> None:
    fc = layer.DropConnectLinear(3, 2, invariant=True)
    with pytest.raises(ConfigError, match=r"steps \[N, 3\]"):
        fc(torch.zeros(4, 2, 3))  # a sequence in single-step mode
    fc(torch.zeros(2, 3))
    with pytest.raises(ConfigError, match="carries state"):
        fc(torch.zeros(5, 3))  # a new batch without a reset


# --- NeuNorm ---------------------------------------------------------------------------------------------


def _neunorm_reference(s: torch.Tensor, w: torch.Tensor, k: float) -> torch.Tensor:
    """a[t] = k a[t-1] + (1 - k) / C^2 sum_c s[t, c]; y[t] = s[t] - w a[t]."""
    channels = s.shape[2]
    a = torch.zeros_like(s[0, :, :1])
    out = []
    for st in s:
        a = k * a + (1 - k) / channels**2 * st.sum(1, keepdim=True)
        out.append(st - w * a)
    return torch.stack(out)


def test_neunorm_hand_computed_case() -> None:
    norm = layer.NeuNorm(2, 1, 1, k=0.5, step_mode="m")
    with torch.no_grad():
        norm.w.copy_(torch.tensor([[[2.0]], [[-1.0]]]))
    s = torch.tensor([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]).reshape(3, 1, 2, 1, 1)
    # a: 0.5 * 0 + 0.125 * 2 = 0.25; 0.125 + 0.125 = 0.25; 0.125
    expected = torch.tensor([[0.5, 1.25], [-0.5, 1.25], [-0.25, 0.125]]).reshape(3, 1, 2, 1, 1)
    torch.testing.assert_close(norm(s), expected)


@pytest.mark.parametrize("shared", [False, True])
def test_neunorm_streams_in_chunks_and_steps(shared) -> None:
    torch.manual_seed(0)
    s = (torch.rand(7, 2, 3, 4, 5) < 0.4).float()
    norm = layer.NeuNorm(3, 4, 5, k=0.8, shared_across_channels=shared, step_mode="m")
    assert norm.w.shape == ((1 if shared else 3), 4, 5)
    expected = _neunorm_reference(s, norm.w.detach(), 0.8)
    torch.testing.assert_close(norm(s), expected)
    for size in (1, 3):
        norm.reset()
        chunks = [norm(chunk) for chunk in s.split(size)]
        torch.testing.assert_close(torch.cat(chunks), expected)
    norm.reset()
    norm.step_mode = "s"
    torch.testing.assert_close(torch.stack([norm(st) for st in s]), expected)
    with pytest.raises(ConfigError, match="carries state"):
        norm(s[0, :1])
    norm.detach()
    assert not norm.x.requires_grad


def _from_rest(module: nn.Module, params: dict[str, torch.Tensor], *inputs: torch.Tensor) -> torch.Tensor:
    """The module run from rest with ``params`` in place of its own (so gradcheck can vary them)."""
    module.reset()
    return torch.func.functional_call(module, params, inputs)


def test_neunorm_gradients_match_finite_differences() -> None:
    torch.manual_seed(0)
    norm = layer.NeuNorm(2, 2, 3, k=0.7, step_mode="m").double()
    s = torch.rand(3, 2, 2, 2, 3, dtype=torch.float64, requires_grad=True)
    w = norm.w.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda s, w: _from_rest(norm, {"w": w}, s), (s, w))


def test_neunorm_rejects_bad_arguments_and_shapes() -> None:
    with pytest.raises(ConfigError, match="argument k"):
        layer.NeuNorm(2, 3, 3, k=1.5)
    with pytest.raises(ConfigError, match="argument in_channels"):
        layer.NeuNorm(0, 3, 3)
    norm = layer.NeuNorm(2, 3, 3)
    with pytest.raises(ConfigError, match=r"steps \[N, 2, 3, 3\]"):
        norm(torch.zeros(4, 1, 2, 3, 3))  # a sequence in single-step mode
    with pytest.raises(ConfigError, match=r"steps \[N, 2, 3, 3\]"):
        norm(torch.zeros(1, 3, 3, 3))  # the wrong number of channels


# --- threshold-dependent batch norm -------------------------------------------------------------------


def test_tdbn_normalises_over_time_and_batch_to_alpha_v_th() -> None:
    torch.manual_seed(0)
    bn = layer.ThresholdDependentBatchNorm2d(0.7, 1.5, 3)
    assert bn.step_mode == "m"
    torch.testing.assert_close(bn.weight.detach(), torch.full((3,), 0.7 * 1.5))
    x = torch.randn(4, 5, 3, 2, 2) * 3 + 1
    mean = x.mean(dim=(0, 1, 3, 4), keepdim=True)
    var = x.var(dim=(0, 1, 3, 4), unbiased=False, keepdim=True)
    torch.testing.assert_close(bn(x), 0.7 * 1.5 * (x - mean) / torch.sqrt(var + 1e-5))
    count = x.numel() / 3
    torch.testing.assert_close(bn.running_mean, 0.1 * mean.flatten())
    torch.testing.assert_close(bn.running_var, 0.9 + 0.1 * var.flatten() * count / (count - 1))
    bn.eval()  # running statistics: every step on its own gives the same as the whole sequence
    torch.testing.assert_close(torch.cat([bn(x[t : t + 1]) for t in range(4)]), bn(x))


@pytest.mark.parametrize(
    ("cls", "shape", "axes"),
    [
        (layer.ThresholdDependentBatchNorm1d, (3, 4, 2), (0, 1)),
        (layer.ThresholdDependentBatchNorm1d, (3, 4, 2, 5), (0, 1, 3)),
        (layer.ThresholdDependentBatchNorm3d, (2, 3, 2, 2, 2, 2), (0, 1, 3, 4, 5)),
    ],
)
def test_tdbn_1d_and_3d(cls, shape, axes) -> None:
    torch.manual_seed(0)
    bn = cls(1.0, 0.5, 2, eps=1e-3)
    x = torch.randn(shape)
    mean = x.mean(dim=axes, keepdim=True)
    var = x.var(dim=axes, unbiased=False, keepdim=True)
    torch.testing.assert_close(bn(x), 0.5 * (x - mean) / torch.sqrt(var + 1e-3))


def test_tdbn_gradients_match_finite_differences() -> None:
    torch.manual_seed(0)
    bn = layer.ThresholdDependentBatchNorm1d(1.0, 1.0, 2).double()
    x = torch.randn(3, 2, 2, 3, dtype=torch.float64, requires_grad=True)
    w = bn.weight.detach().clone().requires_grad_()
    b = torch.randn(2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: _from_rest(bn, {"weight": w, "bias": b}, x), (x, w, b))


def test_tdbn_rejects_bad_arguments_and_single_steps() -> None:
    with pytest.raises(ConfigError, match="argument alpha"):
        layer.ThresholdDependentBatchNorm2d(0.0, 1.0, 3)
    with pytest.raises(ConfigError, match="argument v_th"):
        layer.ThresholdDependentBatchNorm2d(1.0, -1.0, 3)
    with pytest.raises(ConfigError, match="affine=True"):
        layer.ThresholdDependentBatchNorm2d(1.0, 1.0, 3, affine=False)
    bn = layer.ThresholdDependentBatchNorm2d(1.0, 1.0, 3)
    with pytest.raises(ConfigError, match="argument step_mode"):
        bn.step_mode = "s"
    with pytest.raises(ConfigError, match=r"\[T, N, C, \.\.\.\] with 5 axes"):
        bn(torch.zeros(4, 3, 2, 2))  # one step


# --- attention -----------------------------------------------------------------------------------------


def _mlp(v: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    return w2 @ torch.relu(w1 @ v)


@pytest.mark.parametrize(("dimension", "shape"), [(4, (8, 3, 2, 3, 3)), (2, (8, 3, 5))])
def test_temporal_wise_attention_scales_each_step_by_its_score(dimension, shape) -> None:
    torch.manual_seed(0)
    ta = layer.TemporalWiseAttention(8, reduction=4, dimension=dimension)
    assert ta.step_mode == "m" and set(ta.state_dict()) == {"sharedMLP.0.weight", "sharedMLP.2.weight"}
    x = torch.randn(shape)
    w1, w2 = ta.sharedMLP[0].weight.detach(), ta.sharedMLP[2].weight.detach()
    assert w1.shape == (2, 8)
    expected = torch.empty_like(x)
    for n in range(shape[1]):
        avg = torch.stack([x[t, n].mean() for t in range(8)])
        top = torch.stack([x[t, n].max() for t in range(8)])
        score = torch.sigmoid(_mlp(avg, w1, w2) + _mlp(top, w1, w2))
        for t in range(8):
            expected[t, n] = score[t] * x[t, n]
    torch.testing.assert_close(ta(x), expected)


def test_temporal_wise_attention_gradients_match_finite_differences() -> None:
    torch.manual_seed(0)
    ta = layer.TemporalWiseAttention(4, reduction=2).double()
    x = torch.randn(4, 2, 2, 2, 3, dtype=torch.float64, requires_grad=True)
    params = {k: v.detach().clone().requires_grad_() for k, v in ta.state_dict().items()}
    assert torch.autograd.gradcheck(
        lambda x, a, b: torch.func.functional_call(
            ta, {"sharedMLP.0.weight": a, "sharedMLP.2.weight": b}, (x,)
        ),
        (x, params["sharedMLP.0.weight"], params["sharedMLP.2.weight"]),
    )


def _mda_reference(x: torch.Tensor, mda: nn.Module) -> torch.Tensor:
    """MA-SNN's gates written per sample: temporal, then channel, then spatial, then ReLU."""
    weights = {k: v.detach() for k, v in mda.state_dict().items()}
    tw1, tw2 = (weights[f"ta.sharedMLP.{i}.weight"].flatten(1) for i in (0, 2))
    cw1, cw2 = (weights[f"ca.sharedMLP.{i}.weight"].flatten(1) for i in (0, 2))
    conv = weights["sa.conv.weight"]
    steps, batch, channels = x.shape[:3]
    out = torch.empty_like(x)
    for n in range(batch):
        xn = x[:, n]  # [T, C, H, W]
        g_t = torch.sigmoid(_mlp(xn.flatten(1).mean(1), tw1, tw2) + _mlp(xn.flatten(1).amax(1), tw1, tw2))
        xn = g_t[:, None, None, None] * xn
        per_c = xn.transpose(0, 1).flatten(1)  # [C, T * H * W]
        g_c = torch.sigmoid(_mlp(per_c.mean(1), cw1, cw2) + _mlp(per_c.amax(1), cw1, cw2))
        xn = g_c[None, :, None, None] * xn
        maps = torch.stack([xn.flatten(0, 1).mean(0), xn.flatten(0, 1).amax(0)])[None]  # [1, 2, H, W]
        pad = conv.shape[-1] // 2
        g_s = torch.sigmoid(nn.functional.conv2d(maps, conv, padding=pad))[0, 0]
        out[:, n] = torch.relu(g_s * xn)
    return out


@pytest.mark.parametrize("kernel_size", [3, 7])
def test_multi_dimensional_attention_follows_its_equations(kernel_size) -> None:
    torch.manual_seed(0)
    mda = layer.MultiDimensionalAttention(4, 6, reduction_t=2, reduction_c=3, kernel_size=kernel_size)
    assert set(mda.state_dict()) == {
        "ta.sharedMLP.0.weight",
        "ta.sharedMLP.2.weight",
        "ca.sharedMLP.0.weight",
        "ca.sharedMLP.2.weight",
        "sa.conv.weight",
    }
    x = torch.randn(4, 2, 6, 5, 5)
    torch.testing.assert_close(mda(x), _mda_reference(x, mda))


def test_multi_dimensional_attention_gradients_match_finite_differences() -> None:
    torch.manual_seed(0)
    mda = layer.MultiDimensionalAttention(2, 2, reduction_t=1, reduction_c=1).double()
    names = list(mda.state_dict())
    x = torch.randn(2, 1, 2, 3, 3, dtype=torch.float64, requires_grad=True) + 2.0
    params = [mda.state_dict()[k].detach().clone().requires_grad_() for k in names]
    assert torch.autograd.gradcheck(
        lambda x, *p: torch.func.functional_call(mda, dict(zip(names, p, strict=True)), (x,)),
        (x, *params),
        fast_mode=True,
    )


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: layer.TemporalWiseAttention(4, reduction=8), "argument reduction"),
        (lambda: layer.TemporalWiseAttention(0), "argument T"),
        (lambda: layer.TemporalWiseAttention(16, dimension=3), "argument dimension"),
        (lambda: layer.MultiDimensionalAttention(16, 16, kernel_size=5), "argument kernel_size"),
        (lambda: layer.MultiDimensionalAttention(16, 4, reduction_c=8), "argument reduction_c"),
        (lambda: layer.MultiDimensionalAttention(4, 16, reduction_t=8), "argument reduction_t"),
    ],
)
def test_attention_rejects_bad_arguments(make, argument) -> None:
    with pytest.raises(ConfigError, match=argument) as err:
        make()
    assert "\n" not in str(err.value)


def test_attention_rejects_the_wrong_sequence() -> None:
    ta = layer.TemporalWiseAttention(8, reduction=4)
    with pytest.raises(ConfigError, match="axis 0 = 8"):
        ta(torch.zeros(4, 2, 3, 3, 3))  # a chunk: the scores need the whole sequence
    with pytest.raises(ConfigError, match=r"\[T, N, C, H, W\]"):
        ta(torch.zeros(8, 3, 3, 3))  # one step
    with pytest.raises(ConfigError, match="argument step_mode"):
        ta.step_mode = "s"
    mda = layer.MultiDimensionalAttention(4, 6, reduction_t=2, reduction_c=3)
    with pytest.raises(ConfigError, match="axis 2 = 6"):
        mda(torch.zeros(4, 2, 5, 3, 3))
