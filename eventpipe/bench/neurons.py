"""Benchmark of the LIF neuron: forward + backward through time on ``[T, N, C, H, W]``.

On the CPU, in the same run: the multi-step path (the fused torch and numba backends, autograd through a plain
per-step loop, :func:`eventpipe.snn.dynamics.multistep_loop`) and the single-step path (``LIFNode`` in
``step_mode="s"`` called once per step, and the fused kernel run one step per call), each against a baseline:
SpikingJelly's ``LIFNode`` in the same step mode when ``spikingjelly`` is installed, else the per-step
autograd loop written from its equations. On a GPU every GPU backend of
:data:`eventpipe.snn.backends.BACKENDS` that can run here is timed against the torch backend, in float32 and
float16, and each row's achieved memory bandwidth is reported as a fraction of the device's peak: measured in
the same run as a device-to-device copy (``of_peak``), and as the data sheet gives it, double data rate x
memory clock x bus width (``of_spec_peak``, where PyTorch reports the clock and bus).

Bytes moved by a fused forward + backward pass: the forward reads ``x`` and writes ``h`` and the spikes, the
backward reads ``dL/dS`` and ``h`` and writes ``dL/dx``: ``6 * T * N * C * H * W * itemsize`` (the one-step
state vectors are negligible).
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import math
import os
import time
from collections.abc import Callable
from typing import Any

import torch

from eventpipe.bench.report import best_time
from eventpipe.errors import ConfigError, EventpipeError
from eventpipe.snn.backends import BACKENDS, check_backend, run_multistep, run_step
from eventpipe.snn.cpu.backend import numba_multistep
from eventpipe.snn.dynamics import NeuronSpec, multistep_loop
from eventpipe.snn.fused import fused_multistep
from eventpipe.snn.models import DVSGestureNet
from eventpipe.snn.neuron import BaseNode, LIFNode

__all__ = [
    "FULL_SHAPE",
    "GPU_SHAPE",
    "SMALL_SHAPE",
    "bench_neurons",
    "device_copy_bandwidth",
    "device_spec_bandwidth",
    "gesture_shapes",
    "spikingjelly_lif",
]

FULL_SHAPE = (20, 16, 128, 32, 32)
SMALL_SHAPE = (20, 2, 64, 32, 32)
GPU_SHAPE = (16, 64, 65536)  # [T, N, C]: a wide fully connected layer
_PASSES = 6  # sequence-sized reads and writes of a fused forward + backward pass
_GPU_ONLY = ("cupy", "triton")  # the backends of the GPU section


def _synchronized(fn: Callable[[], Any], device: torch.device) -> Callable[[], None]:
    def run() -> None:
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    return run


def device_copy_bandwidth(device: torch.device, nbytes: int = 1 << 30, repeat: int = 10) -> float:
    """Peak memory bandwidth in bytes/s: a device-to-device copy of ``nbytes`` (read + write counted)."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    run = _synchronized(lambda: dst.copy_(src), device)
    run()
    return 2 * src.numel() * 4 / best_time(run, repeat=repeat)


def device_spec_bandwidth(props: Any) -> float | None:
    """Peak memory bandwidth in bytes/s from device properties (``torch.cuda.get_device_properties``):
    2 transfers per clock x ``memory_clock_rate`` (kHz) x ``memory_bus_width`` (bits) / 8; ``None`` when
    this PyTorch does not report them."""
    clock_khz = getattr(props, "memory_clock_rate", None)
    bus_bits = getattr(props, "memory_bus_width", None)
    if not clock_khz or not bus_bits:
        return None
    return 2.0 * clock_khz * 1e3 * bus_bits / 8


def _fwd_bwd(
    impl: Callable[[torch.Tensor], torch.Tensor],
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: torch.device,
) -> Callable[[], None]:
    gen = torch.Generator(device=device).manual_seed(0)
    x = (torch.rand(shape, generator=gen, device=device) * 1.5).to(dtype).requires_grad_()
    grad = torch.randn(shape, generator=gen, device=device).to(dtype)

    def run() -> None:
        x.grad = None
        torch.autograd.backward(impl(x), grad)

    return _synchronized(run, device)


def gesture_shapes(frames: int = 16, batch: int = 16) -> list[tuple[int, ...]]:
    """The ``[T, N, ...]`` input of every neuron layer of the full ``DVSGestureNet`` on 128 x 128 frames."""
    model = DVSGestureNet()
    shapes: list[tuple[int, ...]] = []
    hooks = [
        m.register_forward_hook(lambda _m, inp, _out: shapes.append((frames, batch, *inp[0].shape[2:])))
        for m in model.modules()
        if isinstance(m, BaseNode)
    ]
    with torch.no_grad():
        model(torch.zeros(1, 1, 2, 128, 128))
    for hook in hooks:
        hook.remove()
    return shapes


def _check_shape(shape: tuple[int, ...]) -> None:
    if len(shape) < 2 or min(shape) < 1:
        raise ConfigError(
            f"Expected a shape of at least two positive integers (T, N, ...). Got {shape!r} instead."
        )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def spikingjelly_lif(step_mode: str) -> tuple[Callable[[torch.Tensor], torch.Tensor] | None, str]:
    """SpikingJelly's ``LIFNode(tau=2)`` (sigmoid surrogate, hard reset) in ``step_mode`` as ``x_seq -> spikes``
    (one call per step in ``"s"``), and its version; ``(None, why not)`` when it cannot be imported."""
    try:
        neuron = importlib.import_module("spikingjelly.activation_based.neuron")
        surrogate = importlib.import_module("spikingjelly.activation_based.surrogate")
    except ImportError as exc:  # not installed, or one of its dependencies is missing
        return None, _first_line(exc)
    node = neuron.LIFNode(tau=2.0, surrogate_function=surrogate.Sigmoid(alpha=4.0), step_mode=step_mode)

    def run(x: torch.Tensor) -> torch.Tensor:
        node.reset()
        if step_mode == "m":
            return node(x)
        return torch.stack([node(xt) for xt in x])

    return run, f"spikingjelly {importlib.metadata.version('spikingjelly')}"


def _eventpipe_single_step(x: torch.Tensor) -> torch.Tensor:
    """``LIFNode(step_mode="s")`` called once per step, as a SpikingJelly loop would."""
    node = LIFNode(tau=2.0, step_mode="s")
    return torch.stack([node(xt) for xt in x])


def _kernel_per_step(x: torch.Tensor, spec: NeuronSpec) -> torch.Tensor:
    """The fused kernel run one step per call (:func:`eventpipe.snn.backends.run_step`), carrying the state."""
    spikes, v = [], None
    for xt in x:
        s, v = run_step(xt, spec, v)
        spikes.append(s)
    return torch.stack(spikes)


def _cpu_section(
    add: Callable[..., float], rows: list[dict[str, Any]], spec: NeuronSpec, baseline: bool
) -> dict[str, Any]:
    """Rows of both step modes on the CPU, each path as a multiple of the baseline in the same step mode."""
    cpu = torch.device("cpu")
    numba_multistep(torch.zeros(2, 2), spec)  # compile (or load) the kernels outside the timing
    info: dict[str, Any] = {"threads": torch.get_num_threads(), "load_average": list(os.getloadavg())}
    speedups: dict[str, dict[str, float]] = {}
    for mode, label, paths in (
        ("m", "multi-step", [
            ("loop (autograd per step)", lambda x: multistep_loop(x, spec)[0]),
            ("torch (fused)", lambda x: fused_multistep(x, spec)[0]),
            ("numba (fused)", lambda x: numba_multistep(x, spec)[0]),
        ]),
        ("s", "single-step", [
            ("LIFNode step_mode='s' per step", _eventpipe_single_step),
            ("fused kernel per step (run_step)", functools.partial(_kernel_per_step, spec=spec)),
        ]),
    ):  # fmt: skip
        reference, name = spikingjelly_lif(mode) if baseline else (None, "not asked for")
        if reference is None:  # the loop is the baseline: not timed twice
            info["baseline"] = f"per-step autograd loop ({name})"
            reference = paths.pop(0)[1] if mode == "m" else (lambda x: multistep_loop(x, spec)[0])
        else:
            info["baseline"] = name
        t_ref = add(cpu, f"{label}: baseline ({info['baseline']})", torch.float32, reference)
        if mode == "m":
            info["loop_ms"] = t_ref * 1e3
        speedups[label] = {}
        for path, impl in paths:
            seconds = add(cpu, f"{label}: {path}", torch.float32, impl)
            if path.startswith("loop"):
                info["loop_ms"] = seconds * 1e3
            rows[-1]["vs_baseline"] = t_ref / seconds
            speedups[label][path] = t_ref / seconds
    info["vs_baseline"] = speedups
    return info


def bench_neurons(
    shape: tuple[int, ...] = FULL_SHAPE,
    *,
    repeat: int = 3,
    cpu: bool = True,
    gpu: bool = True,
    gpu_shapes: list[tuple[int, ...]] | None = None,
    baseline: bool = True,
) -> dict[str, Any]:
    """Time LIF (tau 2, hard reset, sigmoid surrogate) forward + backward; returns a plain dict.

    Parameters
    ----------
    shape:
        ``(T, N, ...)``, e.g. ``(T, N, C, H, W)``.
    repeat:
        Timed repetitions per variant (the best is reported, after one warm-up call).
    cpu, gpu:
        Which device sections to run (the GPU one only when PyTorch sees a CUDA device).
    baseline:
        Time SpikingJelly as the CPU baseline when it can be imported (else the per-step autograd loop).
    gpu_shapes:
        More shapes for the GPU section, after ``shape``. Each is timed in float32 and float16 on the torch
        backend and on every GPU backend of :data:`eventpipe.snn.backends.BACKENDS` that can run here; the
        per-step loop only on ``shape`` in float32. A backend that fails on one is reported under ``gpu``.
    """
    shapes = [tuple(shape), *(s for s in (gpu_shapes or []) if tuple(s) != tuple(shape))]
    for s in shapes:
        _check_shape(s)
    spec = NeuronSpec(kind="lif", tau=2.0)
    result: dict[str, Any] = {
        "shape": list(shape),
        "neuron": "LIF tau=2, hard reset, sigmoid surrogate",
        "rows": [],
        "cpu_speedup": None,
        "cpu": None,
        "gpu": None,
    }
    rows: list[dict[str, Any]] = result["rows"]

    def add(
        device: torch.device,
        backend: str,
        dtype: torch.dtype,
        impl: Callable[[torch.Tensor], torch.Tensor],
        dims: tuple[int, ...] = tuple(shape),
    ) -> float:
        run = _fwd_bwd(impl, dims, dtype, device)
        run()  # warm-up: compilation, caches, the allocator
        seconds = best_time(run, repeat=repeat)
        moved = _PASSES * math.prod(dims) * torch.empty((), dtype=dtype).element_size()
        rows.append({
            "shape": "x".join(map(str, dims)),
            "device": device.type,
            "backend": backend,
            "dtype": str(dtype).replace("torch.", ""),
            "ms": seconds * 1e3,
            "GB/s": moved / seconds / 1e9,
        })  # fmt: skip
        return seconds

    fused = lambda x: fused_multistep(x, spec)[0]  # noqa: E731
    loop = lambda x: multistep_loop(x, spec)[0]  # noqa: E731
    if cpu:
        result["cpu"] = _cpu_section(add, rows, spec, baseline)
        by_name = {r["backend"]: r["ms"] for r in rows}
        result["cpu_speedup"] = result["cpu"].pop("loop_ms") / by_name["multi-step: torch (fused)"]
    if gpu and torch.cuda.is_available():
        result["gpu"] = _gpu_section(add, rows, spec, shapes, fused, loop)
    result["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    return result


def _gpu_section(
    add: Callable[..., float],
    rows: list[dict[str, Any]],
    spec: NeuronSpec,
    shapes: list[tuple[int, ...]],
    fused: Callable[[torch.Tensor], torch.Tensor],
    loop: Callable[[torch.Tensor], torch.Tensor],
) -> dict[str, Any]:
    """Rows of every GPU backend against the torch backend per shape and dtype; the device and its peak."""
    dev = torch.device("cuda", torch.cuda.current_device())
    peak = device_copy_bandwidth(dev)
    spec_peak = device_spec_bandwidth(torch.cuda.get_device_properties(dev))
    info: dict[str, Any] = {"device": torch.cuda.get_device_name(dev), "peak_copy_GB/s": peak / 1e9,
                            "peak_spec_GB/s": None if spec_peak is None else spec_peak / 1e9}  # fmt: skip
    backends = []
    for name in BACKENDS:
        if name not in _GPU_ONLY:
            continue
        try:
            check_backend(name, spec)
            backends.append(name)
        except EventpipeError as exc:
            info[name] = f"unavailable: {exc}"
    start = len(rows)
    t_loop = add(dev, "loop (autograd per step)", torch.float32, loop, shapes[0])
    for dims in shapes:
        for dtype in (torch.float32, torch.float16):
            t_torch = add(dev, "torch (fused)", dtype, fused, dims)
            if dims == shapes[0] and dtype == torch.float32:
                rows[-1]["speedup"] = t_loop / t_torch
            for name in backends:
                impl = functools.partial(_backend_spikes, spec=spec, backend=name)
                try:
                    seconds = add(dev, name, dtype, impl, dims)
                except Exception as exc:  # a backend that cannot run this dtype or shape is reported, not fatal
                    info[f"{name} {str(dtype).replace('torch.', '')} {'x'.join(map(str, dims))}"] = _first_line(exc)
                    continue
                rows[-1]["vs_torch"] = t_torch / seconds
    for row in rows[start:]:
        row["of_peak"] = row["GB/s"] * 1e9 / peak
        if spec_peak is not None:
            row["of_spec_peak"] = row["GB/s"] * 1e9 / spec_peak
    return info


def _backend_spikes(x: torch.Tensor, *, spec: NeuronSpec, backend: str) -> torch.Tensor:
    return run_multistep(x, spec, backend=backend)[0]
