"""Chunk sizes of the event columns."""

from __future__ import annotations

import numpy as np
import pytest

from eventpipe.store.codecs import event_chunk


@pytest.mark.parametrize(("sizes", "chunk"), [
    ([4_000] * 9, 1 << 14),        # N-MNIST-like: four samples per chunk
    ([20_000, 14_000, 9_000], 1 << 16),
    ([500_000, 800_000], 1 << 18),  # Gesture-like: capped
    ([3], 1 << 14),
    ([], 1 << 14),
])
def test_event_chunk_is_about_four_samples(sizes: list[int], chunk: int) -> None:
    assert event_chunk(np.asarray(sizes)) == chunk
