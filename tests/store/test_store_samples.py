from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store_helpers import random_sample

from eventpipe.errors import EventValidationError
from eventpipe.events import EVENT_DTYPE, make_events
from eventpipe.store.samples import SampleBatch, concat_events


def test_from_segments_matches_a_mask_per_segment() -> None:
    ev = random_sample(np.random.default_rng(0), 500)
    t = ev["t"]
    bounds = [(t[10], t[50]), (t[40], t[90]), (t[200], t[100]), (t[0], t[-1] + 1)]  # overlap, empty, all
    starts = np.searchsorted(t, [a for a, _ in bounds])
    stops = np.searchsorted(t, [b for _, b in bounds])
    batch = SampleBatch.from_segments(ev, starts, stops, np.array([2, 0, 1, 1]), {"k": [1, 2, 3, 4]})
    for i, (a, b) in enumerate(bounds):
        expected = ev[(t >= a) & (t < b)]
        np.testing.assert_array_equal(batch.sample(i), expected)
    assert batch.labels.tolist() == [2, 0, 1, 1] and batch.meta == {"k": [1, 2, 3, 4]}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=6))
def test_concat_keeps_every_sample(sizes: list[int]) -> None:
    rng = np.random.default_rng(len(sizes))
    singles = [SampleBatch.single(random_sample(rng, n), i, {"i": i}) for i, n in enumerate(sizes)]
    batch = SampleBatch.concat(singles)
    assert np.diff(batch.offsets).tolist() == sizes
    for i, s in enumerate(singles):
        np.testing.assert_array_equal(batch.sample(i), s.events)
    assert batch.meta["i"] == list(range(len(sizes)))


def test_concat_events_is_byte_exact() -> None:
    rng = np.random.default_rng(1)
    parts = [random_sample(rng, n) for n in (0, 3, 7)]
    out = concat_events(parts)
    assert out.dtype == EVENT_DTYPE
    np.testing.assert_array_equal(out, np.concatenate(parts))


def test_bad_offsets_and_meta_are_rejected() -> None:
    ev = make_events([0, 1], [0, 0], [0, 0], [0, 1])
    with pytest.raises(EventValidationError, match="n \\+ 1"):
        SampleBatch(ev, np.array([0, 2]), np.array([0, 1]))
    with pytest.raises(EventValidationError, match="end at len"):
        SampleBatch(ev, np.array([0, 3]), np.array([0]))
    with pytest.raises(EventValidationError, match="rise from 0"):
        SampleBatch(ev, np.array([1, 2]), np.array([0]))
    with pytest.raises(EventValidationError, match="meta column 'u'"):
        SampleBatch(ev, np.array([0, 2]), np.array([0]), {"u": []})
    with pytest.raises(EventValidationError, match="meta columns differ"):
        SampleBatch.concat([SampleBatch.single(ev, 0, {"a": 1}), SampleBatch.single(ev, 0, {"b": 1})])


def test_windows_share_the_recording_and_compact_to_copies() -> None:
    ev = random_sample(np.random.default_rng(3), 100)
    batch = SampleBatch.from_segments(ev, np.array([60, 0, 30]), np.array([90, 40, 20]), np.array([0, 1, 2]))
    assert batch.events is ev and batch.offsets.tolist() == [0, 30, 70, 70] and batch.n_events == 70
    flat = batch.compact()
    assert flat.starts is None and flat.events is not ev
    for i in range(3):
        np.testing.assert_array_equal(flat.sample(i), batch.sample(i))
    np.testing.assert_array_equal(flat.events, np.concatenate([ev[60:90], ev[0:40]]))
    with pytest.raises(EventValidationError, match="windows inside the 100 events"):
        SampleBatch(ev, np.array([0, 50]), np.array([0]), starts=np.array([60]))
