"""One integration spec from every surface: ``eventpipe prepare``, ``eventpipe show``, the dataset classes,
``ToFrames``, ``integrate()`` and a pipeline TOML build it through :func:`eventpipe.frames.integration_spec`,
so each mode reaches the same frames store (same fingerprint) and a bad option gives the same one-line
error everywhere."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
import zarr

from eventpipe.cli.main import main
from eventpipe.datasets import Demo
from eventpipe.errors import ConfigError
from eventpipe.events import make_events
from eventpipe.frames import IntegrationSpec, integrate
from eventpipe.pipeline.prepare import prepare
from eventpipe.train.config import load_config
from eventpipe.transforms import ToFrames

PLUGIN = '''
from eventpipe.frames import integrate


def thirds(events, H, W):
    """Three frames split by event count, through the built-in integrator."""
    return integrate(events, (W, H, 2), frames=3)
'''

# (command-line options, dataset keyword arguments, the [data] table of a pipeline TOML)
CASES: list[tuple[list[str], dict[str, Any], str]] = [
    (["--frames", "4"], {"frames": 4}, "frames = 4"),
    (["--frames", "4", "--split-by", "time"], {"frames": 4, "split_by": "time"}, 'frames = 4\nsplit_by = "time"'),
    (["--duration", "50ms"], {"duration_us": 50_000}, 'duration_us = "50ms"'),
    (["--events-per-frame", "300", "--drop-incomplete"], {"events_per_frame": 300, "drop_incomplete": True},
     "events_per_frame = 300\ndrop_incomplete = true"),
    (["--n-time-bins", "3", "--overlap", "0.5"], {"n_time_bins": 3, "overlap": 0.5}, "n_time_bins = 3\noverlap = 0.5"),
    (["--event-count", "400", "--overlap", "100", "--include-incomplete"],
     {"event_count": 400, "overlap": 100, "include_incomplete": True},
     "event_count = 400\noverlap = 100\ninclude_incomplete = true"),
    (["--time-window", "20ms", "--overlap", "5000"], {"time_window": 20_000, "overlap": 5000},
     'time_window = "20ms"\noverlap = 5000'),
    (["--integrate", "spec_plugin:thirds"], {"fn": "spec_plugin:thirds"}, 'fn = "spec_plugin:thirds"'),
    (["--voxel-grid", "3"], {"voxel_grid": 3}, "voxel_grid = 3"),
    (["--voxel-grid", "3", "--frames-dtype", "float32"], {"voxel_grid": 3, "frames_dtype": "float32"},
     'voxel_grid = 3\nframes_dtype = "float32"'),
    (["--time-surface", "50ms", "--tau", "5ms"], {"time_surface": 50_000, "tau": 5000},
     'time_surface = "50ms"\ntau = "5ms"'),
    (["--event-image"], {"event_image": True}, "event_image = true"),
    (["--bina-rep", "2", "--n-bits", "4"], {"bina_rep": 2, "n_bits": 4}, "bina_rep = 2\nn_bits = 4"),
    (["--exp-decay", "50ms", "--tau", "10ms"], {"exp_decay": 50_000, "tau": 10_000},
     'exp_decay = "50ms"\ntau = "10ms"'),
    (["--duration", "50ms", "--duration-rule", "next-event"], {"duration_us": 50_000, "duration_rule": "next-event"},
     'duration_us = "50ms"\nduration_rule = "next-event"'),
    (["--frames", "4", "--filter", "denoise:filter_time=10ms", "--filter", "refractory_period:period=500"],
     {"frames": 4, "filters": [{"name": "denoise", "filter_time": 10_000}, {"name": "refractory_period", "period": 500}]},
     'frames = 4\nfilters = [{name = "denoise", filter_time = "10ms"}, {name = "refractory_period", period = 500}]'),
]

BAD: list[tuple[list[str], dict[str, Any], str]] = [
    (["--frames", "0"], {"frames": 0}, "frames = 0"),
    (["--frames", "4", "--duration", "10ms"], {"frames": 4, "duration_us": "10ms"}, 'frames = 4\nduration_us = "10ms"'),
    (["--duration", "10 parsecs"], {"duration_us": "10 parsecs"}, 'duration_us = "10 parsecs"'),
    (["--n-time-bins", "4", "--overlap", "1.5"], {"n_time_bins": 4, "overlap": 1.5}, "n_time_bins = 4\noverlap = 1.5"),
    (["--frames", "4", "--split-by", "tme"], {"frames": 4, "split_by": "tme"}, 'frames = 4\nsplit_by = "tme"'),
    (["--events-per-frame", "9", "--include-incomplete"], {"events_per_frame": 9, "include_incomplete": True},
     "events_per_frame = 9\ninclude_incomplete = true"),
    (["--time-surface", "50ms"], {"time_surface": "50ms"}, 'time_surface = "50ms"'),
    (["--frames", "4", "--duration-rule", "next-event"], {"frames": 4, "duration_rule": "next-event"},
     'frames = 4\nduration_rule = "next-event"'),
    (["--frames", "4", "--filter", "drop_event:p=0.5"], {"frames": 4, "filters": [{"name": "drop_event", "p": 0.5}]},
     'frames = 4\nfilters = [{name = "drop_event", p = 0.5}]'),
]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, make_events_store: Callable[[Path, str, int], None]) -> Path:
    folder = tmp_path_factory.mktemp("surfaces")
    make_events_store(folder, "demo", 5)
    return folder


@pytest.fixture(autouse=True)
def plugin_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``spec_plugin.py`` in the working folder, where ``--integrate module:fn`` looks first."""
    (tmp_path / "spec_plugin.py").write_text(PLUGIN)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("spec_plugin", None)


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["eventpipe", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def pipeline(tmp_path: Path, data: str, root: Path) -> Path:
    path = tmp_path / "surface.toml"
    path.write_text(f'[data]\ndataset = "demo"\nroot = "{root}"\n{data}\n\n[model]\nname = "DVSGestureNet"\n')
    return path


@pytest.mark.parametrize(("cli_args", "kwargs", "toml"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_every_surface_reaches_the_same_store(
    cli_args: list[str], kwargs: dict[str, Any], toml: str, root: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(monkeypatch, capsys, "--quiet", "prepare", "demo", *cli_args, "--root", str(root), "--json")
    assert code == 0, err
    store = Path(json.loads(out)["store"])
    fingerprint = zarr.open_group(str(store), mode="r").attrs["fingerprint"]

    ds = Demo(root, split="train", **kwargs)  # opens the CLI's store: same name, no rebuild allowed
    assert ds.store_path == store
    config = load_config(pipeline(tmp_path, toml, root))
    assert config.data.integration == ds.spec
    again = prepare("demo", root, config.data.integration, progress=False)  # a new fingerprint would refuse
    assert again.status == "up-to-date" and Path(again.store) == store
    assert zarr.open_group(str(store), mode="r").attrs["fingerprint"] == fingerprint

    picture = tmp_path / "sample.png"  # show opens the same store: without --prepare a missing one is an error
    code, out, err = run_cli(monkeypatch, capsys, "--quiet", "show", "demo", *cli_args, "--root", str(root),
                             "--out", str(picture))
    assert code == 0 and picture.is_file(), err

    raw = Demo(root, split="train")  # the sensor's size: a voxel grid dataset's is its one-channel frames'
    events, _ = raw[0]
    frames = ds.load(0).numpy()
    assert (ToFrames(raw.sensor_size, dtype=None, **kwargs)(events) == frames).all()
    assert (integrate(events, raw.sensor_size, **kwargs) == frames).all()


@pytest.mark.parametrize(("cli_args", "kwargs", "toml"), BAD, ids=[" ".join(c[0]) for c in BAD])
def test_a_bad_option_gives_the_same_error_everywhere(
    cli_args: list[str], kwargs: dict[str, Any], toml: str, root: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ConfigError) as from_dataset:
        Demo(root, split="train", **kwargs)
    message = str(from_dataset.value)
    assert "\n" not in message

    code, _, err = run_cli(monkeypatch, capsys, "prepare", "demo", *cli_args, "--root", str(root))
    assert code == 2 and err == f"error: {message}\n"
    code, _, err = run_cli(monkeypatch, capsys, "show", "demo", *cli_args, "--root", str(root), "--out", "x.gif")
    assert code == 2 and err == f"error: {message}\n"

    with pytest.raises(ConfigError) as from_transform:
        ToFrames((32, 32, 2), **kwargs)
    assert str(from_transform.value) == message
    with pytest.raises(ConfigError) as from_integrate:
        integrate(make_events(t=[0, 1], x=[0, 1], y=[0, 1], p=[0, 1]), (32, 32, 2), **kwargs)
    assert str(from_integrate.value) == message

    path = pipeline(tmp_path, toml, root)
    with pytest.raises(ConfigError) as from_toml:
        load_config(path)
    assert str(from_toml.value) == f"{path}: [data]: {message}"


def test_spec_and_options_are_exclusive(root: Path) -> None:
    with pytest.raises(ConfigError, match="either spec= or integration options"):
        Demo(root, spec=IntegrationSpec(frames=4), frames=4)
    with pytest.raises(ConfigError, match=r"Unknown integration option\(s\) \['frame'\]"):
        Demo(root, frame=4)
    assert ToFrames((2, 2, 2), IntegrationSpec(frames=2))(make_events(t=[0, 1], x=[0, 1], y=[0, 1], p=[0, 1])).shape == (
        2, 2, 2, 2)


def test_float_frames_take_only_float_dtypes(root: Path) -> None:
    prepare("demo", root, IntegrationSpec(voxel_grid=2), progress=False)
    with pytest.raises(ConfigError) as bad:
        Demo(root, split="train", voxel_grid=2, dtype=torch.int16)
    message = str(bad.value)
    assert "\n" not in message and "counts" not in message and "voxel_grid_2.zarr are float16 floats" in message
    assert "only float dtypes are valid for float frames" in message
    assert Demo(root, split="train", voxel_grid=2, dtype=torch.float16).load(0).dtype == torch.float16


def test_the_cases_cover_every_mode_and_the_cli_every_option() -> None:
    import typer.main

    from eventpipe.cli import integration
    from eventpipe.cli.main import app
    from eventpipe.frames import integration_spec
    from eventpipe.frames.spec import _ARGUMENT_MODE, OPTIONS, SPLIT_BY

    modes = {integration_spec(kwargs, required=True).mode for _, kwargs, _ in CASES}  # type: ignore[union-attr]
    assert modes == {*SPLIT_BY, *_ARGUMENT_MODE.values()}
    renamed = {"integrate": "fn", "duration": "duration_us"}
    assert {renamed.get(name, name) for name in integration.NAMES} == set(OPTIONS)
    group = typer.main.get_command(app)
    for command in ("prepare", "show"):
        declared = {p.name for p in group.commands[command].params}  # type: ignore[attr-defined]
        assert set(integration.NAMES) <= declared, f"{command} lacks {set(integration.NAMES) - declared}"
