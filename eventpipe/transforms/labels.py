"""Label maps for augmentations that change a sample's meaning (a mirrored gesture is another class)."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["mirror_label_map"]

_SWAP = {"left": "right", "right": "left", "cw": "ccw", "ccw": "cw"}


def _canonical(name: str) -> tuple[str, ...]:
    words = re.sub(r"[^a-z0-9]+", " ", name.lower())
    words = re.sub(r"\b(?:counter|anti)\s*clockwise\b", "ccw", words)
    words = re.sub(r"\bclockwise\b", "cw", words)
    return tuple(words.split())


def mirror_label_map(classes: Sequence[str]) -> dict[int, int]:
    """Class index -> class index of the left-right mirrored action, derived from the class names.

    Mirroring swaps ``left`` and ``right`` and reverses the sense of rotation (``clockwise`` <->
    ``counter clockwise``, also written ``cw``/``ccw``), so in DVS128 Gesture a right-hand wave
    becomes a left-hand wave and a right arm turning clockwise becomes a left arm turning counter
    clockwise. Classes without a mirrored counterpart (hand clapping, arm roll) are not listed and
    keep their label.

    >>> mirror_label_map(["hand clapping", "right hand wave", "left hand wave",
    ...                   "right arm clockwise", "left arm counter clockwise"])
    {1: 2, 2: 1, 3: 4, 4: 3}
    """
    index = {_canonical(c): i for i, c in enumerate(classes)}
    out: dict[int, int] = {}
    for i, c in enumerate(classes):
        mirrored = tuple(_SWAP.get(w, w) for w in _canonical(c))
        j = index.get(mirrored)
        if j is not None and j != i:
            out[i] = j
    return out
