"""Format detection (magic, then suffix), explicit names, the registry and its error messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eventpipe import readers
from eventpipe.errors import DataNotFoundError, FormatError, UnknownNameError
from eventpipe.events import make_events
from eventpipe.readers import READERS, Reader, detect_format, read_events
from eventpipe.readers.aedat2 import write_aedat2
from eventpipe.readers.aedat3 import write_aedat3
from eventpipe.readers.atis import write_atis
from eventpipe.registry import Registry

EV = make_events([1, 2], [3, 4], [5, 6], [0, 1])


def test_magic_beats_suffix(tmp_path: Path) -> None:
    assert detect_format(write_aedat3(tmp_path / "a.bin", EV)) == "aedat3"
    assert detect_format(write_aedat2(tmp_path / "b.dat", EV)) == "aedat2"
    np.save(tmp_path / "c.npy", EV)
    (tmp_path / "c.npy").rename(tmp_path / "c.weird")
    assert detect_format(tmp_path / "c.weird") == "npy"
    (tmp_path / "h.x").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 8)
    assert detect_format(tmp_path / "h.x") == "hdf5"
    (tmp_path / "m.x").write_bytes(b"MATLAB 5.0 MAT-file, Platform")
    assert detect_format(tmp_path / "m.x") == "mat"
    (tmp_path / "p.x").write_bytes(b"% Version 2\n")
    assert detect_format(tmp_path / "p.x") == "dat"


def test_suffix_fallback_and_explicit_name(tmp_path: Path) -> None:
    f = write_atis(tmp_path / "s.bin", EV)
    assert detect_format(f) == "atis"
    g = write_atis(tmp_path / "s.sample", EV)
    with pytest.raises(FormatError, match=r"cannot detect.*'\.sample'.*'atis'"):
        read_events(g)
    np.testing.assert_array_equal(read_events(g, format="atis"), EV)


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="no such file"):
        read_events(tmp_path / "nope.aedat")
    with pytest.raises(DataNotFoundError):
        read_events(tmp_path / "nope.aedat", format="aedat3")
    with pytest.raises(UnknownNameError, match=r"Unknown reader 'aedat5'. Valid values are \{.*'aedat3'"):
        read_events(write_atis(tmp_path / "x.bin", EV), format="aedat5")
    with pytest.raises(DataNotFoundError):
        detect_format(tmp_path)


def test_every_builtin_name_resolves() -> None:
    names = {"aedat2", "aedat3", "aedat4", "atis", "dat", "evt2", "evt3", "hdf5", "mat", "npy"}
    assert names <= set(READERS.names())
    for name in names:
        assert callable(READERS.get(name).load())


def test_plugin_reader_callable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry: Registry[Reader] = Registry("reader")
    for name in READERS.names():
        registry.register(name, READERS.get(name))
    reader = Reader("test-constant", lambda path: EV, suffixes=(".const",))
    registry.register(reader.name, reader)
    monkeypatch.setattr(readers, "READERS", registry)
    f = tmp_path / "a.const"
    f.write_bytes(b"anything")
    np.testing.assert_array_equal(read_events(f, format="test-constant"), EV)
    assert detect_format(f) == "test-constant"
