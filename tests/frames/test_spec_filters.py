"""Filters and the duration rule as parts of an integration spec: applied before integration, part of the
store's name and fingerprint only when given, the same from Python, a pipeline TOML and the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from eventpipe.cli.integration import spec_from_options
from eventpipe.cli.main import main
from eventpipe.errors import ConfigError
from eventpipe.events import SensorSize, make_events
from eventpipe.frames import IntegrationSpec, filters, integrate, integration_spec, reference
from eventpipe.frames.filter_chain import filter_chain, filter_option
from eventpipe.train.config import load_config

SIZE = SensorSize(8, 6, 2)
DENOISE = {"name": "denoise", "filter_time": 10_000}
REFRACTORY = {"name": "refractory_period", "period": 500}


def stream(seed: int = 0, n: int = 600) -> np.ndarray:
    """Bursts and gaps longer than the windows, so the two duration rules and the filters all matter."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.choice([0, 1, 30, 700, 40_000], size=n, p=[0.2, 0.3, 0.3, 0.15, 0.05])).astype(np.int64)
    return make_events(t, rng.integers(0, SIZE.width, n), rng.integers(0, SIZE.height, n), rng.integers(0, 2, n))


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["eventpipe", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def test_spec_filters_equal_filtering_then_integrating() -> None:
    ev = stream()
    filtered = filters.refractory_period(filters.denoise(ev, 10_000), 500)
    assert 0 < len(filtered) < len(ev)
    spec = IntegrationSpec(frames=4, filters=[DENOISE, REFRACTORY])
    assert (spec(ev, SIZE) == integrate(filtered, SIZE, frames=4)).all()
    assert (integrate(ev, SIZE, frames=4, filters=[DENOISE, REFRACTORY]) == spec(ev, SIZE)).all()
    assert not (spec(ev, SIZE) == integrate(ev, SIZE, frames=4)).all()


def test_filters_and_rule_change_name_and_fingerprint_and_defaults_change_nothing() -> None:
    plain = IntegrationSpec(duration_us=10_000)
    assert plain.name == "duration_10000us" and plain.to_dict() == {"mode": "duration", "duration_us": 10_000}
    assert plain.fingerprint_parts() == {"spec": plain.to_dict(), "plugin": None}
    assert IntegrationSpec(duration_us=10_000, duration_rule="aligned", filters=[]) == plain
    assert integration_spec({"duration_us": 10_000, "duration_rule": "aligned", "filters": []}) == plain

    next_event = IntegrationSpec(duration_us=10_000, duration_rule="next-event")
    denoised = IntegrationSpec(duration_us=10_000, filters=[DENOISE])
    other = IntegrationSpec(duration_us=10_000, filters=[REFRACTORY, DENOISE])
    specs = [plain, next_event, denoised, other, IntegrationSpec(duration_us=10_000, filters=[DENOISE, REFRACTORY])]
    assert len({s.name for s in specs}) == len({str(s.fingerprint_parts()) for s in specs}) == len(specs)
    assert next_event.name == "duration_10000us_next_event"
    assert denoised.name.startswith("duration_10000us_filters_")
    # one chain however it is written: floats that are whole, a FilterChain, the command line's units
    same = [IntegrationSpec(duration_us=10_000, filters=[{"name": "denoise", "filter_time": 1e4}]),
            IntegrationSpec(duration_us=10_000, filters=filter_chain([DENOISE])),
            spec_from_options({"duration": "10ms", "filters": ["denoise:filter_time=10ms"]})]
    assert all(s == denoised and s.name == denoised.name and s.fingerprint_parts() == denoised.fingerprint_parts()
               for s in same)


def test_to_dict_toml_and_command_line_round_trip(tmp_path: Path) -> None:
    spec = IntegrationSpec(duration_us=20_000, duration_rule="next-event",
                           filters=[DENOISE, {"name": "drop_pixel", "coordinates": [[1, 2], [3, 4]]},
                                    {"name": "crop_time", "t_max": 5e6}])
    assert IntegrationSpec.from_dict(spec.to_dict()) == spec
    path = tmp_path / "p.toml"
    path.write_text('[data]\ndataset = "demo"\nduration_us = "20ms"\nduration_rule = "next-event"\n'
                    'filters = [{name = "denoise", filter_time = 10000},\n'
                    '           {name = "drop_pixel", coordinates = [[1, 2], [3, 4]]},\n'
                    '           {name = "crop_time", t_max = 5000000}]\n\n[model]\nname = "DVSGestureNet"\n')
    assert load_config(path).data.integration == spec
    line = spec.command_line()
    assert line == ["--duration", "20ms", "--duration-rule", "next-event", "--filter", "denoise:filter_time=10ms",
                    "--filter", "drop_pixel:coordinates=[[1,2],[3,4]]", "--filter", "crop_time:t_max=5s"]
    texts = [line[i + 1] for i, flag in enumerate(line) if flag == "--filter"]
    assert spec_from_options({"duration": "20ms", "duration_rule": "next-event", "filters": texts}) == spec


@pytest.mark.parametrize(("text", "message"), [
    ("denoise:filter_time", "expected ARG=VALUE after denoise:"),
    (":filter_time=1ms", "expected NAME:ARG=VALUE"),
    ("denoise:filter_time=10 parsecs", "expected filter_time as a number"),
    ("denoise:filter_tme=10ms", "unknown argument 'filter_tme' for denoise"),
    ("denoiser:filter_time=10ms", "unknown filter 'denoiser'"),
    ("refractory_period", "refractory_period needs argument 'period'"),
    ("denoise:filter_time=-5", "filter_time"),
    ("drop_event:p=0.1", "drop_event is random"),
])
def test_a_bad_filter_is_one_line_on_the_command_line(
    text: str, message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    for command in (["prepare", "demo"], ["show", "demo", "--out", "x.gif"]):
        code, err = cli(monkeypatch, capsys, *command, "--frames", "4", "--filter", text, "--root", str(tmp_path))
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "demo").exists()


def test_random_filters_are_refused_in_a_spec() -> None:
    with pytest.raises(ConfigError, match=r"filters\[1\]: uniform_noise is random.*as a transform"):
        IntegrationSpec(frames=2, filters=[DENOISE, {"name": "uniform_noise", "n": 10}])
    skew = IntegrationSpec(frames=2, filters=[filter_option("time_skew:coefficient=2,offset=1ms")])
    assert skew.filter_chain.describe() == [{"name": "time_skew", "coefficient": 2, "offset": 1000}]
    with pytest.raises(ConfigError, match=r"^Expected filters\[0\] offset as a number with a unit in \{us, ms, s\}"):
        IntegrationSpec(frames=2, filters=[{"name": "time_skew", "offset": "1 parsec"}])


@pytest.mark.parametrize("seed", range(4))
def test_next_event_rule_from_the_command_line_equals_the_reference(seed: int) -> None:
    ev = stream(seed)
    spec = spec_from_options({"duration": "5ms", "duration_rule": "next-event"})
    expected = reference.duration_next_event(ev, SIZE, 5000)
    frames = spec(ev, SIZE)
    assert frames.shape == expected.shape and (frames == expected).all()
    assert (integrate(ev, SIZE, duration_us=5000, duration_rule="next-event") == expected).all()
    aligned = integrate(ev, SIZE, duration_us=5000)
    assert aligned.shape != expected.shape or (aligned != expected).any()


def test_duration_rule_applies_only_with_a_duration() -> None:
    with pytest.raises(ConfigError, match="Argument duration_rule applies only with duration_us; got it with frames"):
        IntegrationSpec(frames=4, duration_rule="next-event")
    with pytest.raises(ConfigError, match=r"Unknown value 'next' for argument duration_rule\. Valid values are "
                                          r"\{'aligned', 'next-event'\}"):
        spec_from_options({"duration": "5ms", "duration_rule": "next"})
