"""What `eventpipe info FILE` shows for a raw recording: one clean error line, option names of the CLI,
and rates that agree with each other. Run as real processes, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eventpipe.events import make_events
from eventpipe.store.stats import events_summary


def info(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUST_BACKTRACE": "1"}
    code = "from eventpipe.cli.main import main; main()"
    return subprocess.run([sys.executable, "-c", code, "info", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_damaged_aedat4_one_error_line(tmp_path: Path, realdata: Path) -> None:
    """The decoder's Rust panic (a backtrace under RUST_BACKTRACE=1) never reaches the terminal."""
    pytest.importorskip("aedat")
    data = bytearray((realdata / "aedat4/sample.aedat4").read_bytes())
    data[data.index(b'name="outInfo"') + 2] = 0x9C  # a UTF-8 continuation byte inside the XML description
    f = tmp_path / "damaged.aedat4"
    f.write_bytes(bytes(data))
    result = info(str(f))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {f}: corrupt: AEDAT 4.0 header: "), result.stderr


def test_undetected_format_names_the_cli_option(tmp_path: Path) -> None:
    f = tmp_path / "notes.md"
    f.write_text("# not a recording\n")
    result = info(str(f))
    assert result.returncode == 2
    assert "--format" in result.stderr and len(result.stderr.splitlines()) == 1


EVEN_4MS = np.linspace(0, 4_000, 1001).astype(np.int64)
EVEN_25MS = np.linspace(0, 25_000, 1001).astype(np.int64)
BURST = np.sort(np.concatenate([EVEN_25MS, np.full(500, 12_000)]))


@pytest.mark.parametrize("t, window", [(EVEN_4MS, 4_000), (EVEN_25MS, 25_000), (BURST, 10_000)])
def test_peak_rate_not_below_mean(t: np.ndarray, window: int) -> None:
    """Evenly spread events: 10 ms bins hold fewer than span / 10 ms of them (n events, n - 1 gaps), and a
    recording shorter than 10 ms fills no bin; the whole recording is then the peak window."""
    s = events_summary(make_events(t, t % 7, t % 5, t % 2))
    assert s["peak_rate_ev_per_s"] >= s["rate_ev_per_s"] and s["peak_window_us"] == window
    if window == 10_000:
        assert s["peak_rate_ev_per_s"] == 900 / 0.01  # 400 evenly spread + the burst of 500 in [10, 20) ms


def test_info_short_recording_rates(tmp_path: Path) -> None:
    f = tmp_path / "r.npy"
    np.save(f, make_events(EVEN_4MS, EVEN_4MS % 7, EVEN_4MS % 5, EVEN_4MS % 2))
    result = info(str(f))
    assert result.returncode == 0, result.stderr
    assert "rate: mean 0.2502 M events/s, peak 0.2502 M events/s (the whole recording)" in result.stdout
