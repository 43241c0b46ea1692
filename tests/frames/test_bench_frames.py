"""The frames benchmark's baselines agree with ``integrate``, and its reports have every mode, run and target."""

from __future__ import annotations

import numpy as np
import pytest

from eventpipe.bench.frames import (
    GESTURE,
    MODES,
    bincount_frames,
    kernel_bench,
    store_bench,
    vectorised_frames,
)
from eventpipe.frames import IntegrationSpec, integrate


def test_baselines_compute_the_same_frames() -> None:
    from eventpipe.synth import gesture_like_sample

    ev = gesture_like_sample(np.random.default_rng(3), 30_000, GESTURE, 500_000)
    for kwargs in MODES.values():
        spec = IntegrationSpec(**kwargs)
        ours = integrate(ev, GESTURE, **kwargs)
        np.testing.assert_array_equal(bincount_frames(ev, GESTURE, spec), ours)
        np.testing.assert_array_equal(vectorised_frames(ev, GESTURE, spec), ours)


def test_kernel_bench_report() -> None:
    result = kernel_bench(n_samples=1, events=(20_000, 20_000), repeat=1, modes=list(MODES)[:3])
    assert [r["mode"] for r in result["modes"]] == list(MODES)[:3]
    assert set(result["targets"]) == {"by_count_vs_bincount", "by_count_vs_read_bound", "duration_10ms_vs_bincount"}
    assert all(r["eventpipe_M_events_per_s"] > 0 and r["speedup_vs_bincount"] > 0 for r in result["modes"])


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
