"""Checks both stores' integrity checkers make: offsets that rise from 0 to the stored total, and a
fingerprint that matches the contents it was computed from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def check_offsets(offsets: np.ndarray, total: int, what: str) -> list[str]:
    """Problems with an ``offsets[n+1]`` array that should rise from 0 to ``total``."""
    problems = []
    if len(offsets) == 0:
        return [f"{what}: offsets is empty (needs n + 1 entries)."]
    if offsets[0] != 0:
        problems.append(f"{what}: offsets[0] = {int(offsets[0])}, expected 0.")
    steps = np.diff(offsets)
    if len(steps) and steps.min() < 0:
        i = int(np.argmax(steps < 0))
        problems.append(f"{what}: offsets decrease at {i + 1}: {int(offsets[i])} -> {int(offsets[i + 1])}.")
    if offsets[-1] != total:
        problems.append(f"{what}: offsets[-1] = {int(offsets[-1])}, but {total} items are stored.")
    return problems


def check_fingerprint(attrs: Mapping[str, Any], expected: str, what: str) -> list[str]:
    """A problem when the recorded fingerprint differs from ``expected`` (recomputed from the contents)."""
    recorded = attrs.get("fingerprint")
    if recorded != expected:
        return [f"{what}: fingerprint {recorded!r} does not match its contents ({expected!r})."]
    return []
