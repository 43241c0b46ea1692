"""Mixed precision through the fused torch neuron backend and the trainer.

Autocast with a gradient scaler must give a loss and gradients close to float32 (bfloat16 and float16 on the
CPU, float16 on a GPU), and a trainer step with ``train.amp`` must really change the weights (on the CPU the
trainer autocasts to bfloat16 without a scaler; its float16 + scaler path runs on a GPU).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from eventpipe.snn.backends import run_multistep
from eventpipe.snn.dynamics import NeuronSpec
from eventpipe.train.loop import train

from .train_toy import bundle, config, tiny_net

NEEDS_CUDA = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]
CASES = [
    pytest.param("cpu", torch.bfloat16, id="cpu-bfloat16"),
    pytest.param("cpu", torch.float16, id="cpu-float16"),  # the CUDA recipe (float16 + scaler) on the CPU
    pytest.param(
        "cuda",
        torch.float16,
        id="cuda-float16",
        marks=NEEDS_CUDA,
    ),
]
SPEC = NeuronSpec(kind="lif", tau=2.0)


def _loss_and_grads(
    device: str, amp_dtype: torch.dtype | None
) -> tuple[float, torch.Tensor, list[torch.Tensor]]:
    """Linear -> LIF (torch backend) over T=8 on a fixed batch; with ``amp_dtype`` under autocast and a
    gradient scaler whose scale is divided out again, as an optimizer step sees the gradients."""
    gen = torch.Generator().manual_seed(0)
    linear = torch.nn.Linear(32, 64)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(64, 32, generator=gen) * 0.4)
        linear.bias.copy_(torch.randn(64, generator=gen) * 0.1)
    linear.to(device)
    x = (torch.rand(8, 16, 32, generator=gen) < 0.4).float().to(device)
    target = torch.rand(16, 64, generator=gen).to(device)
    scaler = torch.amp.GradScaler(device, init_scale=2.0**12, enabled=amp_dtype is not None)
    optimizer = torch.optim.SGD(linear.parameters(), lr=0.0)
    with torch.autocast(device, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
        spikes = run_multistep(linear(x), SPEC, backend="torch")[0]
    loss = ((spikes.float().mean(0) - target) ** 2).mean()
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    grads = [p.grad.detach().float().cpu() for p in linear.parameters()]  # type: ignore[union-attr]
    return float(loss.detach()), spikes.detach().float().cpu(), grads


@pytest.mark.parametrize(("device", "amp_dtype"), CASES)
def test_autocast_with_scaler_matches_float32(device: str, amp_dtype: torch.dtype) -> None:
    loss32, spikes32, grads32 = _loss_and_grads(device, None)
    loss_amp, spikes_amp, grads_amp = _loss_and_grads(device, amp_dtype)
    assert abs(loss_amp - loss32) <= 0.02 * loss32
    # a charge within rounding of the threshold may flip a spike; almost all agree
    assert (spikes_amp != spikes32).float().mean() < 0.02
    for g_amp, g32 in zip(grads_amp, grads32, strict=True):
        assert torch.isfinite(g_amp).all()
        cosine = torch.nn.functional.cosine_similarity(g_amp.flatten(), g32.flatten(), dim=0)
        assert cosine > 0.97, float(cosine)
        assert abs(float(g_amp.norm() / g32.norm()) - 1) < 0.1


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=NEEDS_CUDA)])
def test_trainer_amp_step_changes_the_weights(tmp_path: Path, device: str) -> None:
    model = tiny_net(dropout=0.0)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    cfg = config(str(tmp_path / "run"), **{"train.amp": True, "train.device": device, "train.epochs": 1})
    result = train(cfg, data=bundle(n_train=16, n_test=8), model=model, progress=False, log=lambda _m: None)
    assert result.epochs == 1 and all(torch.isfinite(torch.tensor(h["train_loss"])) for h in result.history)
    after = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    changed = [k for k in before if k.endswith("weight") and not torch.equal(before[k], after[k])]
    assert changed == [k for k in before if k.endswith("weight")], changed
