"""``IntegrationSpec``: modes, readable names, dict round trips and fingerprint parts."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from eventpipe.errors import ConfigError
from eventpipe.frames import IntegrationSpec

CASES = [
    (IntegrationSpec(frames=20), "number", "frames_number_20_split_by_number", 20),
    (IntegrationSpec(frames=16, split_by="time"), "time", "frames_number_16_split_by_time", 16),
    (IntegrationSpec(duration_us=10_000), "duration", "duration_10000us", None),
    (IntegrationSpec(events_per_frame=5000), "events_per_frame", "events_per_frame_5000", None),
    (IntegrationSpec(events_per_frame=50, drop_incomplete=True), "events_per_frame",
     "events_per_frame_50_drop_incomplete", None),
    (IntegrationSpec(n_time_bins=8), "n_time_bins", "n_time_bins_8", 8),
    (IntegrationSpec(n_time_bins=8, overlap=0.25), "n_time_bins", "n_time_bins_8_overlap_0.25", 8),
    (IntegrationSpec(event_count=300, overlap=100, include_incomplete=True), "event_count",
     "event_count_300_overlap_100_include_incomplete", None),
    (IntegrationSpec(time_window=1000, overlap=200), "time_window", "time_window_1000us_overlap_200us", None),
]


@pytest.mark.parametrize(("spec", "mode", "name", "fixed"), CASES)
def test_mode_name_and_round_trip(spec: IntegrationSpec, mode: str, name: str, fixed: int | None) -> None:
    assert spec.mode == mode
    assert spec.name == name
    assert spec.fixed_frames == fixed
    d = spec.to_dict()
    assert d["mode"] == mode
    assert IntegrationSpec.from_dict(d) == spec
    assert IntegrationSpec.from_dict({k: v for k, v in d.items() if k != "mode"}) == spec
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert spec.fingerprint_parts() == {"spec": d, "plugin": None}


def test_distinct_specs_have_distinct_names() -> None:
    names = [c[2] for c in CASES]
    assert len(set(names)) == len(names)


def test_numpy_integers_are_normalised() -> None:
    spec = IntegrationSpec(frames=np.int64(4))
    assert spec == IntegrationSpec(frames=4) and type(spec.frames) is int


@pytest.mark.parametrize(
    ("d", "pattern"),
    [
        ({"mode": "number", "frames": 3, "colour": 1}, r"Unknown integration key\(s\) \['colour'\]"),
        ({"mode": "duration", "frames": 3}, "does not match"),
        ({"frames": True}, "positive integer for frames"),
        ({"event_count": 10, "overlap": 2.5}, "whole number of events"),
        ({"time_window": 10, "drop_incomplete": 1}, "drop_incomplete applies only"),
    ],
)
def test_from_dict_rejects(d: dict, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        IntegrationSpec.from_dict(d)


def test_plugin_mode_needs_no_slices() -> None:
    spec = IntegrationSpec(fn="json:dumps")
    assert spec.mode == "plugin" and spec.fixed_frames is None
    assert spec.to_dict() == {"mode": "plugin", "fn": "json:dumps"}
    with pytest.raises(ConfigError, match="computed by its plugin"):
        spec.slices(np.zeros(0, dtype=np.int64))
