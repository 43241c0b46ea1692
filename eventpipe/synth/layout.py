"""Write a synthetic dataset in exactly the DVS128 Gesture raw layout.

::

    raw_dir/
      user01_fluorescent.aedat          AEDAT 3.1 polarity events, absolute µs timestamps
      user01_fluorescent_labels.csv     class,startTime_usec,endTime_usec (1-based classes, LF)
      ...
      trials_to_train.txt               one userXX_<lighting>.aedat per line
      trials_to_test.txt
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from tqdm.auto import tqdm

from eventpipe.errors import EventpipeError, storage_error
from eventpipe.events import SensorSize
from eventpipe.progress import bar_disabled
from eventpipe.synth.config import GESTURE_SENSOR, LIGHTINGS, GestureConfig
from eventpipe.synth.motion import GESTURE_CLASSES
from eventpipe.synth.recording import Segment, synthesize_recording

LABELS_HEADER = "class,startTime_usec,endTime_usec"


def labels_csv(segments: Sequence[Segment]) -> str:
    """The text of a ``*_labels.csv`` file: header, then one ``class,start,end`` row per gesture."""
    rows = [LABELS_HEADER] + [f"{seg.label + 1},{seg.start_us},{seg.stop_us}" for seg in segments]
    return "\n".join(rows) + "\n"


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="ascii", newline="\n")


def _replace_atomically(final: Path, write: Callable[[Path], object]) -> Path:
    """Write through ``write(tmp_path)`` and rename, so an interrupted run never leaves a truncated file."""
    tmp = final.with_name(final.name + ".part")
    try:
        write(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk gets its space back
        raise
    os.replace(tmp, final)
    return final


def write_raw(
    raw_dir: str | os.PathLike[str], config: GestureConfig, *, progress: bool = False
) -> list[Path]:
    """Generate every recording of ``config`` into ``raw_dir`` (created if needed).

    Returns
    -------
    The written paths: each recording's ``.aedat`` then its ``_labels.csv``, in recording order, then
    ``trials_to_train.txt`` and ``trials_to_test.txt``.

    Raises
    ------
    StorageError
        The disk is full or ``raw_dir`` is not writable (one line naming the file).
    """
    try:
        return _write_raw(Path(raw_dir), config, progress)
    except OSError as exc:
        error = storage_error(exc, raw_dir)  # permission errors of other paths: reading, not writing
        if error is None or isinstance(exc, EventpipeError):
            raise
        raise error from None


def _write_raw(root: Path, config: GestureConfig, progress: bool) -> list[Path]:
    from eventpipe.readers.aedat3 import write_aedat3

    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    train: list[str] = []
    test: list[str] = []
    recordings = tqdm(config.recordings, desc="synthesising recordings", unit="rec", disable=bar_disabled(progress))
    for user, lighting in recordings:
        name = GestureConfig.recording_name(user, lighting)
        events, segments = synthesize_recording(config, user, lighting)
        aedat = root / f"{name}.aedat"
        width, height = config.sensor.width, config.sensor.height
        write = partial(write_aedat3, events=events, width=width, height=height)
        written.append(_replace_atomically(aedat, write))
        csv = root / f"{name}_labels.csv"
        written.append(_replace_atomically(csv, partial(_write_text, text=labels_csv(segments))))
        (test if user in config.test_users else train).append(aedat.name)
    for file_name, names in (("trials_to_train.txt", train), ("trials_to_test.txt", test)):
        lines = "".join(f"{n}\n" for n in names)
        written.append(_replace_atomically(root / file_name, partial(_write_text, text=lines)))
    return written


def write_gesture_raw(
    raw_dir: str | os.PathLike[str],
    *,
    users: int | Sequence[int] = 29,
    lightings: int | Sequence[str] = LIGHTINGS,
    test_users: int | Sequence[int] | None = None,
    classes: int = len(GESTURE_CLASSES),
    sensor: SensorSize | Sequence[int] = GESTURE_SENSOR,
    seed: int = 0,
    events_per_second: float = 150_000.0,
    gesture_seconds: float = 6.0,
    noise_hz: float = 0.2,
    hot_pixel_fraction: float = 0.002,
    time_step_us: int = 1000,
    burstiness: float = 0.35,
    progress: bool = False,
) -> list[Path]:
    """Write synthetic gestures in the DVS128 Gesture raw layout; the defaults mimic the real dataset.

    Parameters
    ----------
    raw_dir : output folder (created if needed; files of the same name are replaced).
    users : number of users (numbered from 1) or their numbers.
    lightings : lighting names (each user records under all), or a count: each user records under that
        many of the five, rotating with the user number.
    test_users : the last ``test_users`` users (default: a fifth, at least one) or their numbers.
    classes : number of gesture classes (the first ``classes`` of ``GESTURE_CLASSES``).
    sensor : sensor ``(width, height, 2)`` in pixels.
    seed : every random draw derives from it; equal arguments write byte-identical files.
    events_per_second : mean event rate of the moving shape during gestures, events/s (noise on top).
    gesture_seconds : mean gesture length, s (each varies by +-15 %).
    noise_hz : background activity per pixel, Hz.
    hot_pixel_fraction : expected fraction of hot pixels (20-150 Hz each).
    time_step_us : simulation step, µs; a larger step generates faster, its events spread uniformly in it.
    burstiness : variation of the event rate within a gesture (0 = steady).
    progress : show a progress bar over recordings.

    Returns
    -------
    The written paths (see :func:`write_raw`).

    Examples
    --------
    >>> import tempfile
    >>> paths = write_gesture_raw(tempfile.mkdtemp(), users=2, lightings=["lab"], sensor=(32, 32, 2),
    ...                           events_per_second=5_000, gesture_seconds=0.5, time_step_us=5000)
    >>> [p.name for p in paths]  # doctest: +NORMALIZE_WHITESPACE
    ['user01_lab.aedat', 'user01_lab_labels.csv', 'user02_lab.aedat', 'user02_lab_labels.csv',
     'trials_to_train.txt', 'trials_to_test.txt']
    """
    config = GestureConfig.build(
        users=users,
        lightings=lightings,
        test_users=test_users,
        classes=classes,
        sensor=SensorSize.parse(sensor),
        seed=seed,
        events_per_second=events_per_second,
        gesture_seconds=gesture_seconds,
        noise_hz=noise_hz,
        hot_pixel_fraction=hot_pixel_fraction,
        time_step_us=time_step_us,
        burstiness=burstiness,
    )
    return write_raw(raw_dir, config, progress=progress)
