"""Seven-segment digit images for the built-in ``demo-static`` dataset, in MNIST's IDX layout.

Each image draws one of the ten seven-segment digits with random stroke width, brightness, slant and
position, on a noisy background; the same seed writes the same bytes. The dataset definition is
:mod:`eventpipe.sources.demo_static`; the manifest names :func:`write_demo_static_raw` as its generator.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from eventpipe.readers.images import IDX_FILES, write_idx

DEMO_STATIC_SIZES = {"train": 6000, "test": 1000}
"""Images per split."""
DEMO_STATIC_SEED = 20260601
"""Seed of the generator; changing it (or the drawing) changes the files and their checksums."""
_SEGMENTS = {  # (row0, col0, row1, col1) of each segment on a 15-row, 9-column grid
    "a": (0, 0, 0, 8), "b": (0, 8, 7, 8), "c": (7, 8, 14, 8), "d": (14, 0, 14, 8),
    "e": (7, 0, 14, 0), "f": (0, 0, 7, 0), "g": (7, 0, 7, 8),
}
_DIGITS = ("abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg")


def _distance(rows: np.ndarray, cols: np.ndarray, segments: str) -> np.ndarray:
    """Distance of every pixel (grid coordinates ``rows``, ``cols``) to the nearest of ``segments``."""
    nearest = np.full(rows.shape, np.inf, dtype=np.float32)
    for name in segments:
        r0, c0, r1, c1 = _SEGMENTS[name]
        dr = np.clip(rows, r0, r1) - rows
        dc = np.clip(cols, c0, c1) - cols
        np.minimum(nearest, np.sqrt(dr * dr + dc * dc), out=nearest)
    return nearest


def draw_digits(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 images ``[n, 28, 28]`` of the seven-segment digits ``labels``, randomly varied."""
    n = len(labels)
    y, x = np.mgrid[0:28, 0:28].astype(np.float32)

    def draw(low: float, high: float) -> np.ndarray:
        return rng.uniform(low, high, n).astype(np.float32)[:, None, None]

    scale, slant = draw(1.0, 1.3), draw(-0.25, 0.25)
    top = 14 - 7 * scale + draw(-2.5, 2.5)
    left = 14 - 4 * scale + draw(-3.0, 3.0)
    width, brightness = draw(0.7, 1.4), draw(0.6, 1.0)
    rows = (y[None] - top) / scale
    cols = (x[None] - left) / scale + slant * (rows - 7)
    images = np.zeros((n, 28, 28), dtype=np.float32)
    for d, segments in enumerate(_DIGITS):
        chosen = labels == d
        if chosen.any():
            nearest = _distance(rows[chosen], cols[chosen], segments)
            images[chosen] = np.clip(1.5 - nearest / width[chosen], 0.0, 1.0)
    noise = rng.standard_normal(images.shape, dtype=np.float32) * np.float32(0.08)
    return (np.clip(images * brightness + noise, 0.0, 1.0) * 255).round().astype(np.uint8)


def write_demo_static_raw(raw_dir: str | os.PathLike[str], progress: bool = False) -> list[Path]:
    """Write the four gzipped IDX files of ``demo-static`` into ``raw_dir``; byte-identical every time."""
    folder = Path(raw_dir)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(DEMO_STATIC_SEED)
    written = []
    for split, (images_name, labels_name) in IDX_FILES.items():
        labels = np.arange(DEMO_STATIC_SIZES[split]) % 10
        rng.shuffle(labels)
        write_idx(folder / images_name, draw_digits(labels, rng))
        write_idx(folder / labels_name, labels.astype(np.uint8))
        written += [folder / images_name, folder / labels_name]
    return written
