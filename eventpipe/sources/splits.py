"""Deterministic train/test splits for datasets that publish none.

:func:`hash_split` ranks the samples of one class by the SHA-256 of ``"<salt>/<name>"`` and sends the
``round(test_fraction * n)`` lowest to the test split. The result depends only on the file names:
it is the same on every machine and every NumPy version, it is exactly stratified per class, and a
sample's split never depends on the order in which files are listed.

>>> hash_split(["a", "b", "c", "d"], 0.5, salt="demo").tolist()
[True, False, True, False]
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


def hash_split(names: Sequence[str], test_fraction: float, salt: str) -> np.ndarray:
    """Boolean mask, True for the names that go to the test split (see the module docstring)."""
    n_test = int(round(test_fraction * len(names)))
    digests = [hashlib.sha256(f"{salt}/{name}".encode()).hexdigest() for name in names]
    order = sorted(range(len(names)), key=lambda i: digests[i])
    mask = np.zeros(len(names), dtype=bool)
    mask[order[:n_test]] = True
    return mask
