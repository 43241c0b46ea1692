"""Transforms for events and frames: on-the-fly integration and DVS augmentations.

Every class is a frozen dataclass whose random numbers are drawn once per sample
(``make_params``) and applied by a pure function (:mod:`eventpipe.transforms.functional`), so the
frames of one sample, and its label, are transformed consistently. Event filters with tonic's
definitions (``Denoise``, ``RefractoryPeriod``, ``DropEvent``, ``SpatialJitter``, ...) are in
:mod:`eventpipe.transforms.filters`; events keep the fields ``t, x, y, p``, so tonic's own
transforms apply to them too.

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
from eventpipe.transforms.filters import (
    CropTime,
    Denoise,
    Downsample,
    DropEvent,
    DropEventByArea,
    DropEventByTime,
    DropPixel,
    RefractoryPeriod,
    SpatialJitter,
    TimeJitter,
    TimeSkew,
    UniformNoise,
)
from eventpipe.transforms.labels import mirror_label_map
from eventpipe.transforms.to_frames import ToFrames, ToTensor

__all__ = [
    "CenterCrop",
    "Compose",
    "CropTime",
    "Denoise",
    "Downsample",
    "DropEvent",
    "DropEventByArea",
    "DropEventByTime",
    "DropPixel",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomTemporalCrop",
    "RandomTemporalDelete",
    "RandomTranslate",
    "RefractoryPeriod",
    "SpatialJitter",
    "TemporalDownsample",
    "TimeJitter",
    "TimeSkew",
    "ToFrames",
    "ToTensor",
    "Transform",
    "UniformNoise",
    "mirror_label_map",
]
