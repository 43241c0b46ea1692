"""What a raw recording holds besides its events: the camera, the sensor size and the count per event type."""

from __future__ import annotations

from dataclasses import dataclass, field

from eventpipe.events import Events


@dataclass(frozen=True)
class Recording:
    """A recording's events and what else the file told about itself.

    Attributes
    ----------
    events:
        The decoded events (what ``read_events`` returns).
    format:
        The reader name (``aedat2``, ``aedat3``, ...).
    camera:
        The camera and where that was learnt (header line or an explicit choice); ``None`` when the file
        does not say.
    sensor:
        ``(width, height)`` in pixels when the file or the chosen camera says, else ``None``.
    counts:
        Records per type found in the file, skipped kinds included, e.g.
        ``{"dvs_events": 10, "aps_samples": 4, "imu_samples": 1, "special_events": 0}``.
    """

    events: Events
    format: str
    camera: str | None = None
    sensor: tuple[int, int] | None = None
    counts: dict[str, int] = field(default_factory=dict)
