"""Readers: raw recordings (AEDAT 2/3/4, ATIS .bin, Prophesee DAT/EVT2/EVT3, HDF5, .mat, .npy, text) -> events.

>>> from eventpipe.readers import read_events, detect_format  # doctest: +SKIP
>>> events = read_events("user01_natural.aedat")             # doctest: +SKIP

Every reader returns an array of :data:`eventpipe.events.EVENT_DTYPE` sorted by ``t`` (µs). The format
is detected from the header magic, then from the file suffix; pass ``format=`` for files whose suffix
says nothing (``read_events("1.bs2", format="atis")``). Readers stream binary files through a bounded
buffer, and report a truncated or corrupt file as one :class:`~eventpipe.errors.CorruptRecordingError`
naming the file and byte offset. A file that lacks its format's mandatory header (an empty file
included) raises :class:`~eventpipe.errors.FormatError`; headerless formats (ATIS) read an empty file as
zero events, and a header followed by no events is zero events for every format. Text event files
(``.txt``, ``.csv``: one ``t x y p`` line per event) have no magic; they are chosen by suffix only, so
a binary format's magic always wins over a ``.txt`` name.

Readers live in a :class:`~eventpipe.registry.Registry`; plugins add one through the entry-point group
``eventpipe.readers`` whose object is a :class:`Reader` (or a bare ``fn(path) -> events``, which is then
only used by name: ``read_events(path, format="<entry point name>")``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from eventpipe.errors import DataNotFoundError, FormatError
from eventpipe.events import Events
from eventpipe.readers._detect import sniff
from eventpipe.registry import Registry

__all__ = ["READERS", "Reader", "detect_format", "read_events", "read_hdf5_samples"]


@dataclass(frozen=True)
class Reader:
    """A registered reader.

    Attributes
    ----------
    name:
        Format name used by ``read_events(path, format=name)``.
    target:
        The reader function ``fn(path) -> events``, or ``"module:function"`` imported on first use (keeps
        ``import eventpipe.readers`` free of Numba, h5py and scipy).
    suffixes:
        Lower-case file suffixes that select this reader when no header magic matches.
    magic:
        Byte prefixes that identify the format from the first bytes of a file.
    description:
        One line for listings.
    """

    name: str
    target: str | Callable[[Path], Events]
    suffixes: tuple[str, ...] = ()
    magic: tuple[bytes, ...] = ()
    description: str = ""

    def load(self) -> Callable[[Path], Events]:
        """The reader function (imported on first call when ``target`` is a string)."""
        if callable(self.target):
            return self.target
        module, _, attr = self.target.partition(":")
        fn: Callable[[Path], Events] = getattr(import_module(module), attr)
        return fn


READERS: Registry[Reader] = Registry("reader", group="eventpipe.readers")

for _reader in (
    Reader("aedat3", "eventpipe.readers.aedat3:read_aedat3", (), (b"#!AER-DAT3",),
           "AEDAT 3.1 (cAER/DV): polarity packets; frame, IMU and special packets counted"),
    Reader("aedat2", "eventpipe.readers.aedat2:read_aedat2", (".aedat",), (b"#!AER-DAT2",),
           "AEDAT 2.0 (jAER): DVS128, DAVIS240/346/128/208/640 and DVXplorer, chip from the AEChip header"),
    Reader("aedat4", "eventpipe.readers.aedat4:read_aedat4", (".aedat4",), (b"#!AER-DAT4",),
           "AEDAT 4.0 (DV) event streams; needs the optional 'aedat' package"),
    Reader("atis", "eventpipe.readers.atis:read_atis", (".bin", ".bs2"), (),
           "ATIS 40-bit events (N-MNIST, N-Caltech101)"),
    Reader("dat", "eventpipe.readers.dat:read_dat", (".dat",), (),
           "Prophesee DAT with '%' header (N-CARS)"),
    Reader("evt2", "eventpipe.readers.evt2:read_evt2", (), (),
           "Prophesee EVT 2.0 .raw"),
    Reader("evt3", "eventpipe.readers.evt3:read_evt3", (), (),
           "Prophesee EVT 3.0 .raw"),
    Reader("hdf5", "eventpipe.readers.hdf5:read_hdf5", (".h5", ".hdf5"), (b"\x89HDF\r\n\x1a\n",),
           "HDF5 with t/x/y/p datasets (DSEC events/ with t_offset), or one-sample SHD spikes/times+units"),
    Reader("mat", "eventpipe.readers.mat:read_mat", (".mat",), (b"MATLAB ",),
           "MATLAB .mat events (ASL-DVS ts/x/y/pol; ST-MNIST spiketrain)"),
    Reader("npy", "eventpipe.readers.npy:read_npy", (".npy", ".npz"), (b"\x93NUMPY",),
           "NumPy .npy/.npz event arrays"),
    Reader("text", "eventpipe.readers.text:read_text", (".txt", ".csv"), (),
           "text/CSV lines 't x y p' (ETH event camera datasets; optional header and time unit)"),
):
    READERS.register(_reader.name, _reader)


def detect_format(path: str | os.PathLike[str]) -> str:
    """The reader name for ``path``: from its header magic, then from its suffix.

    Raises
    ------
    DataNotFoundError
        ``path`` does not exist.
    FormatError
        Neither the first bytes nor the suffix identify a registered format.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such file")
    readers = {n: READERS.get(n) for n in READERS.names()}
    with path.open("rb") as f:
        head = f.read(1 << 16)
    name = sniff(head, {n: getattr(r, "magic", ()) for n, r in readers.items()})
    if name is not None:
        return name
    suffix = path.suffix.lower()
    for n, r in readers.items():
        if suffix in getattr(r, "suffixes", ()):
            return n
    valid = ", ".join(repr(n) for n in sorted(READERS.names()))
    raise FormatError(
        f"{path}: cannot detect the format (no known header magic, suffix {suffix!r}); "
        f"pass format= (--format on the command line), one of {{{valid}}}."
    )


def read_events(path: str | os.PathLike[str], format: str | None = None) -> Events:
    """Read a raw recording into events sorted by ``t``.

    Parameters
    ----------
    path:
        The recording.
    format:
        A reader name (``aedat2``, ``aedat3``, ``aedat4``, ``atis``, ``dat``, ``evt2``, ``evt3``, ``hdf5``,
        ``mat``, ``npy``, ``text`` or a plugin's); detected with :func:`detect_format` when ``None``.

    Returns
    -------
    An array of :data:`~eventpipe.events.EVENT_DTYPE`: ``t`` in µs, ``x``, ``y`` in pixels, ``p`` 1 = ON.

    Raises
    ------
    DataNotFoundError
        ``path`` does not exist.
    UnknownNameError
        ``format`` is not registered (the message lists the valid names).
    FormatError, CorruptRecordingError
        The file is not in the format, or is truncated or corrupt (file and byte offset named).
    MissingDependencyError
        The format needs an optional package that is not installed.
    """
    path = Path(path)
    name = detect_format(path) if format is None else READERS.canonical(format)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such file")
    reader = READERS.get(name)
    fn = reader.load() if isinstance(reader, Reader) else reader  # an entry point may name a bare function
    return fn(path)


def __getattr__(name: str) -> object:
    if name == "read_hdf5_samples":
        from eventpipe.readers.hdf5 import read_hdf5_samples

        return read_hdf5_samples
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
