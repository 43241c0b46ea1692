from __future__ import annotations

import json
import types

import pytest
import torch
from typer.testing import CliRunner

from eventpipe.bench.neurons import bench_neurons, device_spec_bandwidth, gesture_shapes, spikingjelly_lif
from eventpipe.cli.main import app
from eventpipe.errors import ConfigError
from eventpipe.snn.backends import BACKENDS
from eventpipe.snn.dynamics import NeuronSpec
from eventpipe.snn.fused import fused_multistep

SJ_INSTALLED = spikingjelly_lif("m")[0] is not None


def test_bench_reports_both_step_modes_against_the_loop() -> None:
    result = bench_neurons((3, 2, 4, 4, 4), repeat=1, gpu=False, baseline=False)
    assert result["shape"] == [3, 2, 4, 4, 4]
    backends = [r["backend"] for r in result["rows"]]
    assert backends == [
        "multi-step: baseline (per-step autograd loop (not asked for))",
        "multi-step: torch (fused)",
        "multi-step: numba (fused)",
        "single-step: baseline (per-step autograd loop (not asked for))",
        "single-step: LIFNode step_mode='s' per step",
        "single-step: fused kernel per step (run_step)",
    ]
    assert result["cpu_speedup"] > 0 and all(r["ms"] > 0 and r["GB/s"] > 0 for r in result["rows"])
    cpu = result["cpu"]
    assert set(cpu["vs_baseline"]) == {"multi-step", "single-step"} and len(cpu["load_average"]) == 3
    assert all(r > 0 for paths in cpu["vs_baseline"].values() for r in paths.values())
    assert result["gpu"] is None


@pytest.mark.skipif(not SJ_INSTALLED, reason="spikingjelly is not installed")
def test_spikingjelly_is_the_baseline_when_installed_and_agrees_on_spikes() -> None:
    result = bench_neurons((3, 2, 8), repeat=1, gpu=False)
    assert result["cpu"]["baseline"].startswith("spikingjelly ")
    assert "multi-step: loop (autograd per step)" in [r["backend"] for r in result["rows"]]
    x = torch.rand(6, 3, 10) * 2
    expected = fused_multistep(x, NeuronSpec(kind="lif", tau=2.0))[0]
    for mode in ("m", "s"):
        run, _ = spikingjelly_lif(mode)
        assert torch.equal(run(x), expected)


def test_cli_prints_json_and_table() -> None:
    runner = CliRunner()
    out = runner.invoke(
        app, ["bench", "neurons", "--shape", "2,2,2,4,4", "--repeat", "1", "--no-gpu", "--no-spikingjelly", "--json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["shape"] == [2, 2, 2, 4, 4]
    threads = torch.get_num_threads()
    try:
        table = runner.invoke(
            app, ["bench", "neurons", "--shape", "2,2,2,4,4", "--repeat", "1", "--no-gpu", "--threads", "1"]
        )
    finally:
        torch.set_num_threads(threads)
    assert table.exit_code == 0 and "numba (fused)" in table.output and "faster" in table.output
    assert "1 threads, load average" in table.output and "single-step:" in table.output
    assert "| 2x2x2x4x4 |" in table.output
    bad = runner.invoke(app, ["bench", "neurons", "--shape", "2,2,x"])
    assert bad.exit_code != 0


def test_any_rank_shape_and_the_gesture_shapes() -> None:
    result = bench_neurons((3, 2, 8), repeat=1, gpu=False, baseline=False)
    assert {r["shape"] for r in result["rows"]} == {"3x2x8"} and result["shape"] == [3, 2, 8]
    with pytest.raises(ConfigError, match=r"at least two positive integers \(T, N, \.\.\.\)"):
        bench_neurons((3,), repeat=1, gpu=False)
    with pytest.raises(ConfigError, match="Got \\(3, 0, 4\\)"):
        bench_neurons((3, 2, 4), repeat=1, gpu=False, gpu_shapes=[(3, 0, 4)])
    shapes = gesture_shapes(frames=16, batch=16)
    assert shapes[0] == (16, 16, 128, 128, 128) and shapes[4] == (16, 16, 128, 8, 8)
    assert shapes[-2:] == [(16, 16, 512), (16, 16, 110)]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_section_times_every_gpu_backend_in_both_dtypes() -> None:
    result = bench_neurons((4, 2, 8, 4, 4), repeat=1, cpu=False, gpu_shapes=[(4, 2, 300)])
    gpu_rows = [r for r in result["rows"] if r["device"] == "cuda"]
    assert all(r["of_peak"] > 0 for r in gpu_rows)
    if result["gpu"]["peak_spec_GB/s"] is not None:
        assert all(0 < r["of_spec_peak"] < r["of_peak"] * 2 for r in gpu_rows)
    for name in BACKENDS:
        if name in ("auto", "torch", "numba") or name in result["gpu"]:  # an unavailable backend says why
            continue
        timed = {(r["shape"], r["dtype"]) for r in gpu_rows if r["backend"] == name}
        assert timed == {(s, d) for s in ("4x2x8x4x4", "4x2x300") for d in ("float32", "float16")}


def test_spec_bandwidth_from_device_properties() -> None:
    """Double data rate x memory clock x bus width: an H100 SXM's HBM3 (2619 MHz, 5120 bits) gives 3.35 TB/s."""
    h100 = types.SimpleNamespace(memory_clock_rate=2_619_000, memory_bus_width=5120)
    assert device_spec_bandwidth(h100) == pytest.approx(3.352e12, rel=1e-3)
    assert device_spec_bandwidth(types.SimpleNamespace(name="an older PyTorch's properties")) is None
