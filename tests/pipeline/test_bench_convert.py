"""The conversion benchmark's SpikingJelly-style baseline decodes AEDAT 3.1 like eventpipe's reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eventpipe.bench.convert import python_decode_aedat3, python_decode_rate
from eventpipe.events import make_events
from eventpipe.readers import read_events
from eventpipe.readers.aedat3 import write_aedat3


def test_python_decoder_matches_the_reader(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 5000
    events = make_events(np.sort(rng.integers(0, 3_000_000_000, n)), rng.integers(0, 128, n), rng.integers(0, 128, n),
                         rng.integers(0, 2, n))
    path = write_aedat3(tmp_path / "r.aedat", events)
    ours = read_events(path)
    columns = python_decode_aedat3(path, max_events=10 * n)
    for name in "txyp":
        np.testing.assert_array_equal(columns[name], ours[name])
    assert len(python_decode_aedat3(path, max_events=10)["t"]) < n  # stops after the packet that reaches the limit
    rate = python_decode_rate(path, max_events=10 * n)
    assert rate["events"] == n and rate["M_events_per_s"] > 0
