"""Transforms for events and frames: on-the-fly integration and DVS augmentations.

Every class is a frozen dataclass whose random numbers are drawn once per sample
(``make_params``) and applied by a pure function (:mod:`eventpipe.transforms.functional`), so the
frames of one sample, and its label, are transformed consistently. Events keep the fields
``t, x, y, p``, so tonic's event transforms (``tonic.transforms.DropEvent``, ``SpatialJitter``,
``Denoise``, ...) apply to them unchanged and compose with these.

>>> import torch
>>> from eventpipe.transforms import Compose, RandomCrop, RandomHorizontalFlip
>>> t = Compose([RandomHorizontalFlip(p=1.0), RandomCrop(2)])
>>> tuple(t(torch.zeros(5, 2, 4, 4)).shape)
(5, 2, 2, 2)
"""

from __future__ import annotations

from eventpipe.transforms._base import Compose, Transform
from eventpipe.transforms.augment import (
    CenterCrop,
    RandomCrop,
    RandomHorizontalFlip,
    RandomTemporalCrop,
    RandomTemporalDelete,
    RandomTranslate,
    TemporalDownsample,
)
from eventpipe.transforms.labels import mirror_label_map
from eventpipe.transforms.to_frames import ToFrames, ToTensor

__all__ = [
    "CenterCrop",
    "Compose",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomTemporalCrop",
    "RandomTemporalDelete",
    "RandomTranslate",
    "TemporalDownsample",
    "ToFrames",
    "ToTensor",
    "Transform",
    "mirror_label_map",
]
