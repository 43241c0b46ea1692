"""``eventpipe prepare`` end to end: kill -9 and resume, 1 vs 2 workers, plugins by CLI and entry point."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_prepare import SENSOR, sample, write_events_store

from eventpipe.cli.integration import spec_from_options
from eventpipe.errors import ConfigError
from eventpipe.frames import IntegrationSpec, integrate
from eventpipe.frames.spec import parse_duration
from eventpipe.pipeline.prepare import prepare
from eventpipe.store import check_integrity
from eventpipe.store.events.reader import EventsStore
from eventpipe.store.frames.reader import FramesStore

PLUGIN = '''
from eventpipe.frames import integrate


def halves(events, H, W):
    """Two frames split by event count, through the built-in integrator."""
    return integrate(events, (W, H, 2), frames=2)
'''


def files(store: Path) -> dict[str, bytes]:
    """Every file of a store, by relative path."""
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()}


def assert_identical(a: Path, b: Path) -> None:
    fa, fb = files(a), files(b)
    assert sorted(fa) == sorted(fb)
    assert [k for k in fa if fa[k] != fb[k]] == []


@pytest.fixture(scope="module")
def big_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 samples of up to 3,000 events: with one sample per block, enough blocks to interrupt a run."""
    rng = np.random.default_rng(7)
    root = tmp_path_factory.mktemp("big")
    samples = {"train": [sample(rng, int(rng.integers(500, 3000))) for _ in range(48)],
               "test": [sample(rng, int(rng.integers(500, 3000))) for _ in range(12)]}
    write_events_store(root / "demo" / "events.zarr", samples)
    return root


@pytest.fixture
def root(big_events: Path, tmp_path: Path) -> Path:
    shutil.copytree(big_events / "demo", tmp_path / "data" / "demo")
    return tmp_path / "data"


def env_with(path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(path), env.get("PYTHONPATH", "")])
    return env


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eventpipe", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def completed(store: Path) -> int:
    n = 0
    for meta in store.glob("blocks/*/*/zarr.json"):
        with contextlib.suppress(ValueError):  # being written
            n += bool(json.loads(meta.read_text()).get("attributes", {}).get("complete"))
    return n


@pytest.mark.slow
def test_kill_then_resume_gives_identical_store(root: Path, tmp_path: Path) -> None:
    spec = IntegrationSpec(frames=3)
    store = root / "demo" / "frames" / f"{spec.name}.zarr"
    script = ("import sys; from eventpipe.frames import IntegrationSpec; from eventpipe.pipeline.prepare import prepare; "
              "prepare('demo', sys.argv[1], IntegrationSpec(frames=3), workers=1, progress=False, block_events=1)")
    proc = subprocess.Popen([sys.executable, "-c", script, str(root)])
    try:
        deadline = time.monotonic() + 120
        while completed(store) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "prepare finished before it could be killed"
    done = completed(store)
    assert 3 <= done < 60
    with pytest.raises(Exception, match="did not finish"):
        FramesStore.open(store)

    resumed = prepare("demo", root, spec, workers=1, progress=False, block_events=1)
    assert resumed.status == "resumed" and resumed.samples_written == 60 - done
    assert check_integrity(store) == []
    shutil.move(store, tmp_path / "resumed.zarr")
    fresh = prepare("demo", root, spec, workers=1, progress=False, block_events=1)
    assert fresh.status == "prepared" and fresh.samples_written == 60
    assert_identical(tmp_path / "resumed.zarr", store)


@pytest.mark.slow
def test_one_and_two_workers_write_identical_stores(root: Path, tmp_path: Path) -> None:
    spec = IntegrationSpec(duration_us=20_000)
    one = prepare("demo", root, spec, workers=1, progress=False, block_events=20_000)
    shutil.move(one.store, tmp_path / "one.zarr")
    two = prepare("demo", root, spec, workers=2, progress=False, block_events=20_000)
    assert two.samples_written == 60
    assert_identical(tmp_path / "one.zarr", Path(two.store))


@pytest.mark.slow
def test_plugin_by_cli_and_new_store_when_its_source_changes(root: Path, tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "frames_plugin_cli.py").write_text(PLUGIN)
    args = ("prepare", "demo", "--integrate", "frames_plugin_cli:halves", "--root", str(root), "--workers", "1", "--json")
    first = run_cli(*args, cwd=plugins)  # importable from the current folder
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    store = Path(result["store"])
    assert store.name.startswith("plugin_halves_") and result["status"] == "prepared"
    es, fs = EventsStore.open(root / "demo" / "events.zarr"), FramesStore.open(store)
    assert fs.attrs["plugin"]["qualname"] == "frames_plugin_cli:halves"
    for i in (0, 11):
        np.testing.assert_array_equal(fs.split("test").frames(i), integrate(es.split("test").events(i), SENSOR, frames=2))

    again = run_cli(*args, cwd=plugins)
    assert json.loads(again.stdout)["status"] == "up-to-date"
    (plugins / "frames_plugin_cli.py").write_text(PLUGIN + "\n# edited\n")
    edited = json.loads(run_cli(*args, cwd=plugins).stdout)
    assert edited["status"] == "prepared" and edited["store"] != result["store"]
    assert store.exists() and Path(edited["store"]).exists()


@pytest.mark.slow
def test_plugin_by_entry_point(root: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "frames_plugin_ep.py").write_text(PLUGIN)
    dist = site / "frames_plugin_ep-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: frames-plugin-ep\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[eventpipe.integrators]\nhalves_ep = frames_plugin_ep:halves\n")
    out = run_cli("prepare", "demo", "--integrate", "halves_ep", "--root", str(root), "--workers", "1", "--json",
                  cwd=tmp_path, env=env_with(site))
    assert out.returncode == 0, out.stderr
    store = Path(json.loads(out.stdout)["store"])
    fs = FramesStore.open(store)
    assert fs.spec.to_dict() == {"mode": "plugin", "fn": "halves_ep"}
    es = EventsStore.open(root / "demo" / "events.zarr")
    np.testing.assert_array_equal(fs.split("train").frames(5), integrate(es.split("train").events(5), SENSOR, frames=2))


def test_cli_summary_and_errors(root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from eventpipe.cli.main import main

    def cli(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["eventpipe", *args])
        try:
            main()
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    assert cli("--quiet", "prepare", "demo", "--frames", "4", "--root", str(root), "--workers", "1") == 0
    out = capsys.readouterr().out
    assert "demo frames_number_4_split_by_number: prepared" in out and "integrate" in out and "60 samples" in out
    assert cli("prepare", "demo", "--duration", "10ms", "--root", str(root), "--dry-run", "--json") == 0
    assert json.loads(capsys.readouterr().out)["status"] == "dry-run"
    assert cli("prepare", "demo", "--frames", "4", "--duration", "10ms", "--root", str(root)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Expected exactly one of frames, duration_us" in err
    assert cli("prepare", "demo", "--duration", "10 parsecs", "--root", str(root)) == 2
    assert "Expected duration_us as a number with a unit" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "us"), [("10ms", 10_000), ("500us", 500), ("500µs", 500), ("1s", 1_000_000),
                                          ("2.5ms", 2_500), (" 7 ms ", 7_000)])
def test_parse_duration(text: str, us: int) -> None:
    assert parse_duration("duration_us", text) == us


@pytest.mark.parametrize("text", ["10", "ms", "-5ms", "0.5us", "0s", "10 min"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="duration_us"):
        parse_duration("duration_us", text)


def options(**given: object) -> dict[str, object]:
    """The command line's integration options: the defaults, updated with ``given``."""
    base: dict[str, object] = {"frames": None, "split_by": "number", "duration": None, "events_per_frame": None,
                               "drop_incomplete": False, "integrate": None, "n_time_bins": None, "event_count": None,
                               "time_window": None, "overlap": 0.0, "include_incomplete": False}
    return {**base, **given}


def test_spec_from_options() -> None:
    assert spec_from_options(options(frames=20, split_by="time")) == IntegrationSpec(frames=20, split_by="time")
    assert spec_from_options(options(duration="10ms")) == IntegrationSpec(duration_us=10_000)
    with pytest.raises(ConfigError, match="Argument split_by applies only with frames"):
        spec_from_options(options(split_by="time", events_per_frame=100))
    with pytest.raises(ConfigError, match="Got none"):
        spec_from_options(options())
    assert spec_from_options(options(events_per_frame=50, drop_incomplete=True)) == IntegrationSpec(
        events_per_frame=50, drop_incomplete=True)
    assert spec_from_options(options(event_count=50, overlap=10.0)) == IntegrationSpec(event_count=50, overlap=10)
    assert spec_from_options(options(n_time_bins=4, overlap=0.5)) == IntegrationSpec(n_time_bins=4, overlap=0.5)
    with pytest.raises(ConfigError, match="Argument drop_incomplete applies only with events_per_frame"):
        spec_from_options(options(frames=4, drop_incomplete=True))


def test_integrate_without_function_is_one_line_naming_the_form(tmp_path: Path) -> None:
    """``--integrate mymod`` (no ``:fn``): one line saying how a plugin is named, before anything is written."""
    run = subprocess.run([sys.executable, "-m", "eventpipe", "prepare", "demo", "--root", str(tmp_path / "data"),
                          "--integrate", "mymod"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    line, = run.stderr.strip().splitlines()
    assert run.returncode == 2 and "'module:function'" in line and "mymod:my_frames" in line, run.stderr
    assert "Valid values" not in line and not (tmp_path / "data").exists()
