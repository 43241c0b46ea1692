"""Training throughput of spiking networks on event frames: samples per second of full optimisation steps.

The networks are the DVS Gesture net and a spiking ResNet-18 (the ImageNet layout of
:mod:`eventpipe.snn.zoo`), or any model named in the ``[model]`` registry. Each step is what the trainer
does per batch: forward over ``T`` steps, the loss (MSE on the firing rate of the voting nets,
cross-entropy on the mean class scores of the deep families), backward, Adam update, state reset.
Inputs are synthetic DVS-like frames (sparse event counts), since throughput does not depend on what
the frames show. On CUDA both neuron backends are measured (the torch reference and the fused CuPy
kernels) when CuPy is installed.
"""

from __future__ import annotations

import inspect
import statistics
import time
from typing import Any

import torch

from eventpipe.errors import UnknownNameError
from eventpipe.train.config import LossConfig, ModelConfig

MODELS = ("DVSGestureNet", "spiking_resnet18")
NUM_CLASSES = 11  # DVS128 Gesture's classes

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


def model_setup(model: str, channels: int, backend: str) -> tuple[ModelConfig, LossConfig]:
    """The ``[model]`` and ``[loss]`` of ``model``: ``channels`` where the model has that argument, and
    cross-entropy for the deep families (class scores) instead of MSE on firing rates."""
    from eventpipe.snn.zoo import FAMILIES
    from eventpipe.train.build import model_classes

    cls = model_classes()[model]
    kwargs: dict[str, Any] = {"backend": backend}
    if "channels" in inspect.signature(cls).parameters:
        kwargs["channels"] = channels
    return ModelConfig(name=model, kwargs=kwargs), LossConfig(name="cross_entropy" if model in FAMILIES else "mse")


def measure(
    *,
    model: str,
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
    """Median time of ``steps`` training steps (after ``warmup``) of ``model`` with ``backend``."""
    from eventpipe.train.build import build_model
    from eventpipe.train.evaluation import reset_state
    from eventpipe.train.losses import compute_loss
    from eventpipe.train.runtime import autocast_dtype

    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x = _dvs_like_frames(frames, batch, size, g).to(device)
    y = torch.randint(0, NUM_CLASSES, (batch,), generator=g).to(device)
    mask = torch.ones(frames, batch, dtype=torch.bool, device=device)
    model_cfg, loss_cfg = model_setup(model, channels, backend)
    label = model + (f"(channels={channels})" if "channels" in model_cfg.kwargs else "")
    net = build_model(model_cfg, num_classes=NUM_CLASSES, sample=x[:, 0]).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler(device.type, enabled=amp and device.type == "cuda")
    dtype = autocast_dtype(device)

    def step() -> None:
        with torch.autocast(device.type, dtype=dtype, enabled=amp):
            out = net(x)
        loss = compute_loss(loss_cfg, out.float(), y, mask)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        reset_state(net)

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
        "model": label,
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
    models: tuple[str, ...] = MODELS,
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
    """Training throughput of each of ``models`` at ``frames`` x ``batch`` x 2 x ``size`` x ``size``.

    ``channels`` sets the conv width of models with that argument (``DVSGestureNet``).
    ``device="auto"`` measures the CPU, plus CUDA with the torch and cupy backends when present.
    ``amp=None`` uses mixed precision on CUDA only. Returns the settings and one row per model and
    measurement.

    Raises
    ------
    UnknownNameError
        A name in ``models`` is not a model (the valid ones are listed).
    """
    from eventpipe.train.build import model_classes
    from eventpipe.train.runtime import resolve_device

    known = model_classes()
    for name in models:
        if name not in known:
            valid = ", ".join(repr(n) for n in sorted(known))
            raise UnknownNameError(f"Unknown value {name!r} for option --model. Valid values are {{{valid}}}.")

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
        measure(model=name, device=dev, backend=backend, channels=channels, frames=frames, batch=batch, size=size,
                steps=steps, warmup=warmup, amp=(dev.type == "cuda") if amp is None else amp)
        for name in models
        for dev, backend in targets
    ]
    return {
        "benchmark": "train",
        "models": list(models),
        "channels": channels,
        "frames": frames,
        "batch": batch,
        "size": size,
        "steps": steps,
        "threads": torch.get_num_threads(),
        "rows": rows,
    }
