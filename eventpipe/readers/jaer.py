"""jAER chip classes: which AEDAT 2.0 address layout, orientation and sensor size each camera writes.

jAER names the camera of a recording by the Java class in its ``# AEChip: <class>`` header line. Two
address layouts are in use:

* **DVS128** (``DVS128``, ``Tmpdiff128``): 16-bit addresses, see :mod:`eventpipe.readers.aedat2`.
* **DAVIS** (``DavisChip`` and ``DVXplorer``): a 32-bit address whose bit 31 marks APS (frame ADC) and
  IMU words (bits 31, 11 and 10 all set: an IMU word, 7 per sample, the sample's first word with code 0
  in bits 28-30). A word with bit 31 clear is a DVS event: y in bits 22-30, x in bits 12-21, polarity
  in bit 11 (1 = ON), and bit 10 set marks an external-input (special) event.

Orientation of the DAVIS layout (the DVS128 layout keeps SpikingJelly's CIFAR10-DVS orientation): events
come out in image coordinates, ``y = 0`` the top row, the convention of DV/libcaer (AEDAT 3.1 and 4.0)
and of the Prophesee formats, so frames from a jAER recording look like those from the same camera
recorded with DV. jAER's own coordinates put ``y = 0`` at the bottom (its display
draws rows upwards). For DAVIS chips jAER takes ``x = width - 1 - raw_x`` and ``y = raw_y``; the output
is ``x = width - 1 - raw_x`` (jAER's column) and ``y = height - 1 - raw_y`` (jAER's row turned
top-down), exactly what tonic's ``read_davis_346`` returns. For the DVXplorer jAER takes ``x = raw_x``
and ``y = height - 1 - raw_y``, so the raw row is already top-down: the output is ``x = raw_x``,
``y = raw_y``.

The DVXplorer's resolution is not in jAER's header (jAER asks the camera); it is taken as 640x480, the
DVXplorer's; a DVXplorer Lite recording (320x240) then fills the top-left quarter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from eventpipe.errors import UnknownNameError

DVS128_LAYOUT = 0
DAVIS_LAYOUT = 1

APS_BIT = 0x80000000
"""DAVIS layout: set for APS (frame ADC) and IMU words, clear for DVS events."""
IMU_BITS = 0xC00
"""DAVIS layout: both set (with :data:`APS_BIT`) in an IMU word."""
SPECIAL_BIT = 0x400
"""DAVIS layout: set in a DVS-type word that is an external input (special) event."""


@dataclass(frozen=True)
class Chip:
    """One camera family as jAER records it.

    Attributes
    ----------
    name:
        Short name, as given to ``chip=`` / ``--chip``.
    title:
        The camera's name for people.
    classes:
        jAER class names (without the package) that write this layout.
    width, height:
        Sensor size in pixels.
    layout:
        :data:`DVS128_LAYOUT` or :data:`DAVIS_LAYOUT`.
    flip_x, flip_y:
        Whether the output coordinate is ``size - 1 - raw`` (DAVIS layout only).
    """

    name: str
    title: str
    classes: tuple[str, ...]
    width: int
    height: int
    layout: int
    flip_x: bool = True
    flip_y: bool = True


CHIPS: dict[str, Chip] = {c.name: c for c in (
    Chip("dvs128", "DVS128", ("DVS128", "Tmpdiff128"), 128, 128, DVS128_LAYOUT),
    Chip("davis240", "DAVIS240", ("DAVIS240A", "DAVIS240B", "DAVIS240C", "DVS240"), 240, 180, DAVIS_LAYOUT),
    Chip("davis346", "DAVIS346", ("Davis346B", "Davis346BColor", "Davis346blue", "Davis346red", "Davis346redColor",
                                  "Davis346cBSI", "Davis346Zynq"), 346, 260, DAVIS_LAYOUT),
    Chip("davis128", "DAVIS128", ("Davis128", "Davis128Color"), 128, 128, DAVIS_LAYOUT),
    Chip("davis208", "DAVIS208", ("Davis208PixelParade", "Davis208PixelParadeColor"), 208, 192, DAVIS_LAYOUT),
    Chip("davis640", "DAVIS640", ("Davis640", "Davis640Color", "CDAVIS"), 640, 480, DAVIS_LAYOUT),
    Chip("dvxplorer", "DVXplorer", ("DVXplorer",), 640, 480, DAVIS_LAYOUT, flip_x=False, flip_y=False),
)}

_BY_CLASS = {cls.lower(): chip for chip in CHIPS.values() for cls in chip.classes}
_AECHIP = re.compile(r"^#\s*AEChip:\s*(\S+)")


def header_chip_class(lines: Iterable[str]) -> str | None:
    """The Java class named by the first ``# AEChip:`` header line, ``None`` without one."""
    for line in lines:
        m = _AECHIP.match(line)
        if m:
            return m.group(1)
    return None


def chip_for_class(java_class: str) -> Chip | None:
    """The chip of a jAER class name (with or without its package), ``None`` for an unknown class."""
    return _BY_CLASS.get(java_class.rsplit(".", 1)[-1].lower())


def get_chip(name: str) -> Chip:
    """The chip named ``name`` (a short name such as ``davis240``, or a jAER class name).

    Raises
    ------
    UnknownNameError
        No chip has that name; the message lists the valid ones.
    """
    chip = CHIPS.get(name.lower()) or chip_for_class(name)
    if chip is None:
        raise UnknownNameError(f"Unknown jAER chip {name!r}; valid chips: {', '.join(CHIPS)}.")
    return chip
