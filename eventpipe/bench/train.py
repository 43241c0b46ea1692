"""Training throughput of the DVS Gesture network: samples per second of full optimisation steps.

Each step is what the trainer does per batch: forward over ``T`` steps, MSE loss on the firing rate,
backward, Adam update, state reset. Inputs are synthetic DVS-like frames (sparse event counts), since
throughput does not depend on what the frames show. On CUDA both neuron backends are measured (the
torch reference and the fused CuPy kernels) when CuPy is installed.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import torch

from eventpipe.train.config import LossConfig, ModelConfig


def _cupy_available() -> bool:
    try:
        import cupy  # noqa: F401
    except ImportError:
        return False
    return True


def _dvs_like_frames(frames: int, batch: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """``[T, N, 2, size, size]`` float32 event counts: ~5 % of pixels active, counts 1-3."""
    active = torch.rand(frames, batch, 2, size, size, generator=generator) < 0.05
    counts = torch.randint(1, 4, active.shape, generator=generator)
    return (active * counts).float()


def measure(
    *,
    device: torch.device,
    backend: str,
    channels: int,
    frames: int,
    batch: int,
    size: int,
    steps: int,
    warmup: int,
    amp: bool,
    seed: int = 0,
) -> dict[str, Any]:
    """Median time of ``steps`` training steps (after ``warmup``) of ``DVSGestureNet`` with ``backend``."""
    from eventpipe.train.build import build_model
    from eventpipe.train.evaluation import reset_state
    from eventpipe.train.losses import compute_loss
    from eventpipe.train.runtime import autocast_dtype

    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x = _dvs_like_frames(frames, batch, size, g).to(device)
    y = torch.randint(0, 11, (batch,), generator=g).to(device)
    mask = torch.ones(frames, batch, dtype=torch.bool, device=device)
    model = build_model(ModelConfig(name="DVSGestureNet", kwargs={"channels": channels, "backend": backend}),
                        num_classes=11, sample=x[:, 0]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler(device.type, enabled=amp and device.type == "cuda")
    loss_cfg = LossConfig(name="mse")
    dtype = autocast_dtype(device)

    def step() -> None:
        with torch.autocast(device.type, dtype=dtype, enabled=amp):
            out = model(x)
        loss = compute_loss(loss_cfg, out.float(), y, mask)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        reset_state(model)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    row: dict[str, Any] = {
        "device": str(device),
        "backend": backend,
        "amp": amp,
        "step_ms": median * 1000.0,
        "samples_per_s": batch / median,
    }
    if device.type == "cuda":
        row["peak_memory_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
        torch.cuda.reset_peak_memory_stats(device)
    return row


def bench_train(
    *,
    channels: int = 128,
    frames: int = 16,
    batch: int = 16,
    size: int = 128,
    steps: int = 3,
    warmup: int = 1,
    device: str = "auto",
    amp: bool | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Training throughput of ``DVSGestureNet(channels)`` at ``frames`` x ``batch`` x 2 x ``size`` x ``size``.

    ``device="auto"`` measures the CPU, plus CUDA with the torch and cupy backends when present.
    ``amp=None`` uses mixed precision on CUDA only. Returns the settings and one row per measurement.
    """
    from eventpipe.train.runtime import resolve_device

    if threads:
        torch.set_num_threads(threads)
    targets: list[tuple[torch.device, str]] = []
    if device == "auto":
        targets.append((torch.device("cpu"), "torch"))
        if torch.cuda.is_available():
            targets.append((torch.device("cuda", 0), "torch"))
            if _cupy_available():
                targets.append((torch.device("cuda", 0), "cupy"))
    else:
        dev = resolve_device(device)
        targets.append((dev, "torch"))
        if dev.type == "cuda" and _cupy_available():
            targets.append((dev, "cupy"))
    rows = [
        measure(device=dev, backend=backend, channels=channels, frames=frames, batch=batch, size=size,
                steps=steps, warmup=warmup, amp=(dev.type == "cuda") if amp is None else amp)
        for dev, backend in targets
    ]
    return {
        "benchmark": "train",
        "model": "DVSGestureNet",
        "channels": channels,
        "frames": frames,
        "batch": batch,
        "size": size,
        "steps": steps,
        "threads": torch.get_num_threads(),
        "rows": rows,
    }
