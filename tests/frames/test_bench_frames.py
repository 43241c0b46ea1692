"""The frames benchmark's baselines agree with ``integrate`` and its report has every mode and target."""

from __future__ import annotations

import numpy as np

from eventpipe.bench.frames import (
    GESTURE,
    MODES,
    bincount_frames,
    kernel_bench,
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
