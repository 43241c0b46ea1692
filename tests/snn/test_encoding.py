from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn import encoding
from eventpipe.snn.functional import reset_net, set_step_mode

# -- Poisson ------------------------------------------------------------------------------------------------


def test_poisson_default_is_one_step_per_call_like_spikingjelly() -> None:
    """``PoissonEncoder()``: ``[N, ...]`` in, ``[N, ...]`` out, a fresh sample per call; the classic loop
    ``for t in range(T): out += encoder(img)`` averages to the input."""
    torch.manual_seed(0)
    img = torch.tensor([[0.0, 0.1, 0.5], [0.9, 1.0, 0.25]])
    encoder = encoding.PoissonEncoder()
    assert encoder.step_mode == "s" and encoder.steps is None
    first = encoder(img)
    assert first.shape == img.shape and first.dtype == img.dtype
    total = torch.zeros_like(img)
    steps = 2000
    for _ in range(steps):
        total += encoder(img)
    # binomial standard deviation at most sqrt(0.25 / 2000) = 0.011
    torch.testing.assert_close(total / steps, img, atol=0.04, rtol=0)
    assert total[0, 0] == 0 and total[1, 1] == steps


def test_poisson_counts_follow_the_binomial_distribution() -> None:
    """Over ``T`` independent steps a neuron's spike count is Binomial(T, p): mean, variance, the whole pmf,
    and no correlation between consecutive steps."""
    n, steps, p = 20000, 10, 0.3
    x = torch.full((n,), p, dtype=torch.float64)
    encoder = encoding.PoissonEncoder(generator=torch.Generator().manual_seed(3))
    spikes = torch.stack([encoder(x) for _ in range(steps)])
    counts = spikes.sum(0)
    assert counts.mean().item() == pytest.approx(steps * p, abs=0.05)
    assert counts.var().item() == pytest.approx(steps * p * (1 - p), rel=0.05)
    observed = torch.bincount(counts.long(), minlength=steps + 1).double() / n
    expected = torch.tensor([math.comb(steps, k) * p**k * (1 - p) ** (steps - k) for k in range(steps + 1)])
    assert 0.5 * (observed - expected.double()).abs().sum().item() < 0.02  # total variation distance
    a, b = spikes[:-1].flatten(), spikes[1:].flatten()
    assert abs(torch.corrcoef(torch.stack([a, b]))[0, 1].item()) < 0.02


def test_poisson_multi_step_mode_samples_a_sequence_of_rates() -> None:
    rates = torch.linspace(0, 1, 5).reshape(5, 1).expand(5, 3000)  # [T, N]: a rate per step
    encoder = encoding.PoissonEncoder(step_mode="m", generator=torch.Generator().manual_seed(1))
    out = encoder(rates)
    assert out.shape == rates.shape
    torch.testing.assert_close(out.mean(1), rates[:, 0], atol=0.04, rtol=0)


def test_poisson_steps_option_returns_the_whole_train_and_is_reproducible() -> None:
    x = torch.tensor([0.0, 0.2, 0.5, 1.0])
    spikes = encoding.PoissonEncoder(4000, generator=torch.Generator().manual_seed(0))(x)
    assert spikes.shape == (4000, 4)
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(spikes.mean(0), x, atol=0.03, rtol=0)
    again = encoding.PoissonEncoder(4000, generator=torch.Generator().manual_seed(0))(x)
    assert torch.equal(spikes, again)


def test_poisson_out_of_range_inputs_are_clipped_rates() -> None:
    x = torch.tensor([-0.5, 1.5]).repeat(100)
    out = encoding.PoissonEncoder()(x)
    assert out[0::2].sum() == 0 and out[1::2].sum() == 100


# -- Periodic -----------------------------------------------------------------------------------------------

PATTERN = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]])  # [T=3, N=3]


def test_periodic_emits_the_pattern_cyclically_and_restarts_on_reset() -> None:
    encoder = encoding.PeriodicEncoder(PATTERN)
    assert encoder.T == 3
    out = [encoder() for _ in range(7)]
    assert all(torch.equal(o, PATTERN[t % 3]) for t, o in enumerate(out))
    encoder.reset()
    assert torch.equal(encoder(), PATTERN[0])
    net = nn.Sequential(encoding.PeriodicEncoder(PATTERN), nn.Identity())
    net(None)
    net(None)
    reset_net(net)
    assert torch.equal(net(None), PATTERN[0])


def test_periodic_takes_the_pattern_from_the_first_call_after_a_reset_like_spikingjelly() -> None:
    encoder = encoding.PeriodicEncoder(torch.zeros(2, 3))
    other = PATTERN.flip(0)
    assert torch.equal(encoder(other), other[0])
    assert torch.equal(encoder(other), other[1])  # later inputs only advance the phase
    assert torch.equal(encoder(other), other[2])
    assert torch.equal(encoder(other), other[0])
    assert encoder.T == 3
    with pytest.raises(ConfigError, match="reset_net"):
        encoder(torch.zeros(3, 4))  # another shape without a reset
    encoder.reset()
    assert torch.equal(encoder(), torch.zeros(3))  # back to the constructor's pattern


@pytest.mark.parametrize("chunk", [1, 3, 8])
def test_periodic_multi_step_chunks_equal_one_call_and_the_step_loop(chunk: int) -> None:
    steps = 8
    single = encoding.PeriodicEncoder(PATTERN)
    expected = torch.stack([single() for _ in range(steps)])
    encoder = encoding.PeriodicEncoder(PATTERN, step_mode="m")
    inputs = PATTERN.expand(steps, *PATTERN.shape)  # SpikingJelly feeds the pattern at every step
    got = torch.cat([encoder(inputs[i : i + chunk]) for i in range(0, steps, chunk)])
    assert torch.equal(got, expected)
    encoder.reset()
    assert torch.equal(encoder(), PATTERN)  # no input: one whole period from the current phase


def test_periodic_pattern_moves_with_the_module_but_stays_out_of_the_state_dict() -> None:
    encoder = encoding.PeriodicEncoder(PATTERN)
    assert "spike" in dict(encoder.named_buffers()) and encoder.state_dict() == {}
    assert encoder.to(torch.float64)().dtype == torch.float64


@pytest.mark.parametrize("bad", [torch.tensor(1.0), torch.zeros(0, 3), [[1.0, 0.0]]])
def test_periodic_rejects_a_pattern_without_steps(bad: object) -> None:
    with pytest.raises(ConfigError, match="spike of PeriodicEncoder"):
        encoding.PeriodicEncoder(bad)  # type: ignore[arg-type]


# -- weighted phase -----------------------------------------------------------------------------------------


def test_weighted_phase_matches_the_table_of_kim_et_al() -> None:
    """The K = 8 examples of the paper (Table 1): 192/256, 1/256, 128/256 and 255/256."""
    x = torch.tensor([192, 1, 128, 255]) / 256
    encoder = encoding.WeightedPhaseEncoder(K=8)
    bits = torch.stack([encoder(x) for _ in range(8)]).T.tolist()
    assert bits == [
        [1, 1, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 1],
        [1, 0, 0, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 1, 1, 1],
    ]
    assert torch.equal(encoder(x), torch.tensor([1.0, 0.0, 1.0, 1.0]))  # call K + 1 is phase 0 again


@given(st.integers(1, 16), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20))
@settings(max_examples=60, deadline=None)
def test_weighted_phase_period_sums_to_the_truncated_input(k: int, values: list[float]) -> None:
    top = 1 - 2.0**-k
    x = torch.tensor([min(v, top) for v in values], dtype=torch.float64)
    encoder = encoding.WeightedPhaseEncoder(k)
    bits = torch.stack([encoder(x) for _ in range(k)])
    assert set(bits.unique().tolist()) <= {0.0, 1.0}
    weights = torch.tensor([2.0 ** -(i + 1) for i in range(k)], dtype=torch.float64)
    decoded = (bits * weights[:, None]).sum(0)
    torch.testing.assert_close(decoded, torch.floor(x * 2**k) / 2**k, rtol=0, atol=0)


def test_weighted_phase_encodes_once_until_reset() -> None:
    encoder = encoding.WeightedPhaseEncoder(K=2)
    assert encoder(torch.tensor([0.75])).item() == 1.0  # 0.75 = 0.11
    assert encoder(torch.tensor([0.25])).item() == 1.0  # still the period of 0.75 (SpikingJelly's semantics)
    reset_net(nn.Sequential(encoder))
    assert [encoder(torch.tensor([0.25])).item() for _ in range(2)] == [0.0, 1.0]  # 0.25 = 0.01
    with pytest.raises(ConfigError, match="reset_net"):
        encoder(torch.tensor([0.25, 0.5]))  # a new batch shape without a reset


@pytest.mark.parametrize("chunk", [1, 3, 7])
def test_weighted_phase_multi_step_chunks_equal_one_call_and_the_step_loop(chunk: int) -> None:
    steps, x = 7, torch.tensor([[0.3, 0.8], [0.05, 0.5]])
    single = encoding.WeightedPhaseEncoder(K=3)
    expected = torch.stack([single(x) for _ in range(steps)])
    net = nn.Sequential(encoding.WeightedPhaseEncoder(K=3))
    set_step_mode(net, "m")
    x_seq = x.expand(steps, *x.shape)
    got = torch.cat([net(x_seq[i : i + chunk]) for i in range(0, steps, chunk)])
    assert got.shape == (steps, 2, 2) and torch.equal(got, expected)


@pytest.mark.parametrize("bad", [-0.1, 1 - 2**-4 + 1e-3, 1.0, float("nan")])
def test_weighted_phase_rejects_inputs_out_of_range(bad: float) -> None:
    with pytest.raises(ConfigError, match=r"\[0, 1 - 2\^-4\].*clamp"):
        encoding.WeightedPhaseEncoder(K=4)(torch.tensor([0.5, bad]))


def test_weighted_phase_validation() -> None:
    with pytest.raises(ConfigError, match="argument K"):
        encoding.WeightedPhaseEncoder(K=0)
    with pytest.raises(ConfigError, match="step_mode"):
        encoding.WeightedPhaseEncoder(K=4, step_mode="x")
    with pytest.raises(ConfigError, match="needs an input"):
        encoding.WeightedPhaseEncoder(K=4)()
    assert repr(encoding.WeightedPhaseEncoder(K=4)) == "WeightedPhaseEncoder(K=4, step_mode='s')"


# -- latency and repeat -------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", ["linear", "log"])
def test_latency_fires_once_earlier_for_larger_inputs(function: str) -> None:
    x = torch.linspace(0, 1, 11).reshape(1, 11)
    spikes = encoding.LatencyEncoder(steps=8, enc_function=function)(x)
    assert spikes.shape == (8, 1, 11)
    assert torch.equal(spikes.sum(0), torch.ones(1, 11))
    first = spikes.argmax(0).flatten()
    assert first[0] == 7 and first[-1] == 0
    assert (first[1:] <= first[:-1]).all()


def test_latency_linear_golden() -> None:
    t = encoding.LatencyEncoder(steps=5)(torch.tensor([1.0, 0.5, 0.0, 2.0])).argmax(0)
    assert t.tolist() == [0, 2, 4, 0]  # clamped to [0, 1]


def test_latency_log_golden() -> None:
    # t_f = round(T - 1 - ln(a x + 1)), a = e^(T-1) - 1, T = 6: x = 0.01 -> 5 - ln(2.474) = 4.09 -> 4;
    # x = 0.1 -> 5 - ln(15.74) = 2.24 -> 2; x = 0.5 -> 5 - ln(74.71) = 0.69 -> 1
    t = encoding.LatencyEncoder(steps=6, enc_function="log")(torch.tensor([0.0, 0.01, 0.1, 0.5, 1.0])).argmax(0)
    assert t.tolist() == [5, 4, 2, 1, 0]


def test_latency_default_is_spikingjelly_stateful_one_step_per_call() -> None:
    x = torch.tensor([[1.0, 0.5, 0.25, 0.0]])
    T = 5  # noqa: N806
    train = encoding.LatencyEncoder(steps=T)(x)  # [T, 1, 4]; firing steps 0, 2, 3, 4
    encoder = encoding.LatencyEncoder(T)
    assert encoder.step_mode == "s" and encoder.steps is None
    steps = [encoder(x) for _ in range(2 * T + 1)]  # cyclic: call t gives step t % T
    assert all(s.shape == x.shape for s in steps)
    assert torch.equal(torch.stack(steps), train[torch.arange(2 * T + 1) % T])
    assert [s[0, 1].item() for s in steps[:T]] == [0.0, 0.0, 1.0, 0.0, 0.0]
    # the first input after a reset is encoded; later inputs only advance the phase
    assert torch.equal(encoder(torch.zeros(1, 4)), train[(2 * T + 1) % T])
    encoder.reset()
    assert torch.equal(encoder(torch.zeros(1, 4)), torch.tensor([[0.0, 0.0, 0.0, 0.0]]))
    # multi-step: [T_in, N, ...] in, T_in steps out, phase carried across chunks as in single-step mode
    multi = encoding.LatencyEncoder(T, enc_function="linear", step_mode="m")
    seq = x.expand(7, 1, 4)
    chunks = torch.cat([multi(c) for c in seq.split([1, 3, 3])])
    assert torch.equal(chunks, train[torch.arange(7) % T])
    reset_net(nn.Sequential(multi))
    assert multi.phase == 0 and multi.period is None


def test_latency_validation() -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        encoding.LatencyEncoder()
    with pytest.raises(ConfigError, match="exactly one"):
        encoding.LatencyEncoder(4, steps=4)
    with pytest.raises(ConfigError, match="argument T"):
        encoding.LatencyEncoder(0)
    with pytest.raises(ConfigError, match="enc_function"):
        encoding.LatencyEncoder(4, "exp")
    with pytest.raises(ConfigError, match="needs an input"):
        encoding.LatencyEncoder(4)()
    assert repr(encoding.LatencyEncoder(4)) == "LatencyEncoder(T=4, enc_function='linear', step_mode='s')"
    assert repr(encoding.LatencyEncoder(steps=4)) == "LatencyEncoder(steps=4, enc_function='linear')"


def test_repeat_encoder_and_validation() -> None:
    x = torch.rand(2, 3)
    y = encoding.RepeatEncoder(4)(x)
    assert y.shape == (4, 2, 3) and torch.equal(y[3], x)
    with pytest.raises(ConfigError, match="steps"):
        encoding.PoissonEncoder(0)
