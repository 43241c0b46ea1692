"""The CUDA mixed-precision recipe (float16 autocast, a gradient scaler, one optimizer step) around a fused
neuron backend, run on the CPU: shared by the host-harness (cupy) and interpreter (triton) tests.

CPU autocast to float16 makes ``Linear`` hand the neuron a float16 sequence, as CUDA autocast does, so the
16-bit kernel instances run with gradients scaled by the scaler, then unscaled and stepped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from eventpipe.snn.dynamics import NeuronSpec

Multistep = Callable[[torch.Tensor, NeuronSpec], torch.Tensor]  # x_seq, spec -> spikes
SPEC = NeuronSpec(kind="lif", tau=2.0)
INIT_SCALE = 2.0**12


def amp_step(multistep: Multistep, amp: bool) -> dict[str, Any]:
    """Linear -> LIF over T=8 on a fixed batch, with float16 autocast and a scaler when ``amp``; returns the
    loss, spikes, unscaled gradients, the scale after the step and whether every weight changed."""
    gen = torch.Generator().manual_seed(0)
    linear = torch.nn.Linear(32, 64)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(64, 32, generator=gen) * 0.4)
        linear.bias.copy_(torch.randn(64, generator=gen) * 0.1)
    before = [p.detach().clone() for p in linear.parameters()]
    x = (torch.rand(8, 16, 32, generator=gen) < 0.4).float()
    target = torch.rand(16, 64, generator=gen)
    scaler = torch.amp.GradScaler("cpu", init_scale=INIT_SCALE, enabled=amp)
    optimizer = torch.optim.SGD(linear.parameters(), lr=0.5)
    with torch.autocast("cpu", dtype=torch.float16, enabled=amp):
        current = linear(x)
        spikes = multistep(current, SPEC)
    loss = ((spikes.float().mean(0) - target) ** 2).mean()
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    grads = [p.grad.detach().clone() for p in linear.parameters()]  # type: ignore[union-attr]
    scaler.step(optimizer)
    scaler.update()
    changed = all(not torch.equal(a, b) for a, b in zip(before, linear.parameters(), strict=True))
    return {"loss": float(loss.detach()), "current_dtype": current.dtype, "spikes": spikes.detach().float(),
            "grads": grads, "scale": float(scaler.get_scale()) if amp else None, "weights_changed": changed,
            "finite": all(bool(torch.isfinite(p).all()) for p in linear.parameters())}  # fmt: skip


def check_amp(amp_run: dict[str, Any], fp32_run: dict[str, Any], torch_amp_run: dict[str, Any]) -> None:
    """A backend's AMP run against float32 (the bounds of tests/train/test_amp.py) and against the torch
    backend under the same autocast (equal spikes, close gradients); the step was taken and changed weights."""
    assert amp_run["current_dtype"] == torch.float16
    assert amp_run["scale"] == INIT_SCALE  # no inf or NaN gradient: the scaler did not skip the step
    assert amp_run["weights_changed"] and amp_run["finite"]
    assert abs(amp_run["loss"] - fp32_run["loss"]) <= 0.02 * fp32_run["loss"]
    assert (amp_run["spikes"] != fp32_run["spikes"]).float().mean() < 0.02
    for g_amp, g32 in zip(amp_run["grads"], fp32_run["grads"], strict=True):
        cosine = torch.nn.functional.cosine_similarity(g_amp.flatten(), g32.flatten(), dim=0)
        assert cosine > 0.97, float(cosine)
        assert abs(float(g_amp.norm() / g32.norm()) - 1) < 0.1
    assert torch.equal(amp_run["spikes"], torch_amp_run["spikes"])
    for a, b in zip(amp_run["grads"], torch_amp_run["grads"], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)
