"""The frames benchmark's baselines agree with ``integrate``, and its reports have every mode, run and target."""

from __future__ import annotations

import numpy as np
import pytest

from eventpipe.bench.commands.frames import report
from eventpipe.bench.frames import (
    GESTURE,
    MODES,
    bincount_frames,
    kernel_bench,
    store_bench,
    vectorised_frames,
)
from eventpipe.bench.spikingjelly_frames import load as load_spikingjelly
from eventpipe.frames import IntegrationSpec, integrate

SPIKINGJELLY = load_spikingjelly()


def test_baselines_compute_the_same_frames() -> None:
    from eventpipe.synth import gesture_like_sample

    ev = gesture_like_sample(np.random.default_rng(3), 30_000, GESTURE, 500_000)
    for kwargs in MODES.values():
        spec = IntegrationSpec(**kwargs)
        ours = integrate(ev, GESTURE, **kwargs)
        np.testing.assert_array_equal(bincount_frames(ev, GESTURE, spec), ours)
        np.testing.assert_array_equal(vectorised_frames(ev, GESTURE, spec), ours)


def test_kernel_bench_report() -> None:
    result = kernel_bench(n_samples=1, events=(20_000, 20_000), repeat=1, modes=list(MODES)[:3],
                          bandwidth_bytes=1 << 20)
    assert [r["mode"] for r in result["modes"]] == list(MODES)[:3]
    assert all(r["eventpipe_M_events_per_s"] > 0 and r["speedup_vs_bincount"] > 0 for r in result["modes"])
    assert all(r["eventpipe_checked_M_events_per_s"] > 0 and r["fraction_of_read_bound_checked"] > 0
               for r in result["modes"])  # the checked path is timed next to the prepare path
    text = report({"kernels": result})
    assert "from a store" in text and text.count("| checked") == 3
    assert result["memory_read_GB_per_s"] > 0 and result["modes"][0]["fraction_of_read_bound"] > 0
    targets = {"by_count_vs_bincount", "by_count_vs_read_bound", "duration_10ms_vs_bincount"}
    if SPIKINGJELLY is None:
        assert set(result["targets"]) == targets and result["spikingjelly"] is None
        return
    assert set(result["targets"]) == targets | {"by_count_vs_spikingjelly", "duration_10ms_vs_spikingjelly"}
    assert result["spikingjelly"].startswith("spikingjelly ")
    timed = {r["mode"]: r["speedup_vs_spikingjelly"] for r in result["modes"]}
    assert timed["frames_number_20_split_by_time"] is None  # SpikingJelly times only the modes it has
    assert timed["frames_number_20_split_by_number"] > 0 and timed["duration_10000us"] > 0
    assert result["modes"][0]["speedup_vs_spikingjelly_checked"] > 0

@pytest.mark.skipif(SPIKINGJELLY is None, reason="spikingjelly is not installed")
def test_spikingjelly_functions_are_its_own() -> None:
    """The functions compiled from SpikingJelly's ``datasets/utils.py`` integrate as documented there."""
    assert SPIKINGJELLY is not None
    functions, _ = SPIKINGJELLY
    ev = {"t": np.array([0, 5, 10, 20]), "x": np.array([1, 1, 2, 0]), "y": np.array([0, 0, 1, 1]),
          "p": np.array([1, 1, 0, 1])}
    frames = functions["integrate_events_by_fixed_frames_number"](ev, "number", 2, 2, 3)
    expected = np.zeros((2, 2, 2, 3))
    expected[0, 1, 0, 1] = 2
    expected[1, 0, 1, 2] = expected[1, 1, 1, 0] = 1
    np.testing.assert_array_equal(frames, expected)
    assert functions["integrate_events_by_fixed_duration"](ev, 10, 2, 3).shape == (2, 2, 2, 3)


@pytest.mark.slow
def test_store_bench_report() -> None:
    result = store_bench(n_samples=3, events=(20_000, 40_000), repeat=1)
    assert [r["workers"] for r in result["runs"]] == [1, 2] and result["identical_stores"]
    assert all(r["seconds"] > 0 and r["cores_busy"] > 0 for r in result["runs"])
    assert result["speedup_1_to_2_workers"] > 0 and result["machine_speedup_1_to_2"] > 0
    assert result["scaling_efficiency"] == pytest.approx(result["speedup_1_to_2_workers"]
                                                         / result["machine_speedup_1_to_2"])
    assert result["spikingjelly_builder"]["samples_per_s"] > 0 and result["bytes_ratio_to_npz"] > 0
    assert set(result["targets"]) == {"samples_per_s_2_workers", "speedup_1_to_2_workers", "bytes_ratio_to_npz"}
