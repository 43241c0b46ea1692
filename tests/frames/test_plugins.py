"""Plugin integrators: ``module:function``, entry points, SpikingJelly's dict form, identity."""

from __future__ import annotations

import importlib
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

from eventpipe.errors import ConfigError, UnknownNameError
from eventpipe.events import SensorSize, make_events
from eventpipe.frames import IntegrationSpec, integrate, plugins
from eventpipe.registry import Registry

S = SensorSize(4, 3, 2)
EVENTS = make_events(t=[0, 5, 9, 20], x=[0, 3, 3, 1], y=[0, 2, 2, 1], p=[1, 0, 0, 1])
_counter = itertools.count()

PLUGIN_SOURCE = '''
from typing import Dict

import numpy as np

from eventpipe.frames import integrate


def halves(events, H, W):
    """Two frames split by event count, via the built-in integrator."""
    return integrate(events, (W, H, 2), frames=2)


def sj_style(events: Dict, H: int, W: int) -> np.ndarray:
    """A SpikingJelly-style function: dict in, float64 [T, 2, H, W] out."""
    if not isinstance(events, dict):
        raise TypeError("expected a dict")
    frame = np.zeros((1, 2, H * W))
    for c in range(2):
        m = (events["p"] != 0) == bool(c)
        pos = events["y"][m].astype(int) * W + events["x"][m].astype(int)
        counts = np.bincount(pos, minlength=H * W)
        frame[0, c] += counts
    return frame.reshape(1, 2, H, W)


def flagged(events, H, W):
    return sj_style(events, H, W)


flagged.events_form = "dict"


def wrong_shape(events, H, W):
    return np.zeros((2, 2, W, H + 1))


def fractional(events, H, W):
    return np.full((1, 2, H, W), 0.5)


def not_finite(events, H, W):
    return np.full((1, 2, H, W), np.nan)


def negative(events, H, W):
    return -np.ones((1, 2, H, W), dtype=np.int64)
'''


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh importable module holding the plugins above; returns its name."""
    name = f"frames_plugin_{next(_counter)}"
    (tmp_path / f"{name}.py").write_text(PLUGIN_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_module_function(plugin_module: str) -> None:
    out = integrate(EVENTS, S, fn=f"{plugin_module}:halves")
    np.testing.assert_array_equal(out, integrate(EVENTS, S, frames=2))
    assert out.dtype == np.uint8


@pytest.mark.parametrize("fn", ["sj_style", "flagged"])
def test_dict_form_and_float_counts(plugin_module: str, fn: str) -> None:
    out = integrate(EVENTS, S, fn=f"{plugin_module}:{fn}")
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, integrate(EVENTS, S, frames=1))
    assert plugins.load_plugin(f"{plugin_module}:{fn}").events_form == "dict"
    assert plugins.load_plugin(f"{plugin_module}:halves").events_form == "array"


def test_callable_plugin_and_identity(plugin_module: str) -> None:
    module = importlib.import_module(plugin_module)
    plugin = plugins.load_plugin(module.halves)
    assert plugin.qualname == f"{plugin_module}:halves"
    assert plugin.short_name == "halves"
    assert len(plugin.source_sha256) == 64
    spec = IntegrationSpec(fn=module.halves)
    assert spec.name.startswith("plugin_halves_")
    assert spec.fingerprint_parts()["plugin"] == plugin.identity()


@pytest.mark.parametrize(
    ("fn", "pattern"),
    [
        ("wrong_shape", r"returned shape \(2, 2, 4, 4\); expected \[T, P, H, W\] = \[T, 2, 3, 4\]"),
        ("not_finite", "returned NaN or infinite values; frames must be finite"),
        ("negative", "negative value -1"),
    ],
)
def test_bad_results_are_named(plugin_module: str, fn: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        IntegrationSpec(fn=f"{plugin_module}:{fn}")(EVENTS, S, sample="test[2]")


def test_fractional_results_are_float_frames(plugin_module: str) -> None:
    frames = IntegrationSpec(fn=f"{plugin_module}:fractional")(EVENTS, S)
    assert frames.dtype == np.float16 and frames.max() == 0.5  # "auto": 0.5 is exact in float16
    wide = IntegrationSpec(fn=f"{plugin_module}:halves", frames_dtype="float32")
    assert wide(EVENTS, S).dtype == np.float32  # whole numbers too, when the user asks for floats
    assert wide.name.endswith("_float32") and wide.fingerprint_parts() != IntegrationSpec(fn=wide.fn).fingerprint_parts()


def test_plugin_input_is_validated(plugin_module: str) -> None:
    ev = EVENTS.copy()
    ev["t"][1] = 50
    with pytest.raises(Exception, match=r"sample s: field t is not sorted"):
        IntegrationSpec(fn=f"{plugin_module}:halves")(ev, S, sample="s")


@pytest.mark.parametrize(
    ("ref", "error", "pattern"),
    [
        ("no_such_module_xyz:f", ConfigError, "Cannot import module 'no_such_module_xyz'"),
        ("json:no_such_function", ConfigError, "has no attribute 'no_such_function'"),
        ("json:__doc__", ConfigError, "not callable"),
        ("no_such_integrator", UnknownNameError, "Unknown integrator 'no_such_integrator'"),
    ],
)
def test_resolution_errors(ref: str, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        plugins.load_plugin(ref)


def test_entry_point_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plugin_module: str) -> None:
    dist = tmp_path / "frames_plugin_pkg-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: frames-plugin-pkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[eventpipe.integrators]\nhalves_ep = {plugin_module}:halves\n")
    monkeypatch.setattr(plugins, "integrators", Registry("integrator", group="eventpipe.integrators"))
    out = integrate(EVENTS, S, fn="halves_ep")
    np.testing.assert_array_equal(out, integrate(EVENTS, S, frames=2))
    plugin = plugins.load_plugin("halves_ep")
    assert plugin.ref == "halves_ep" and plugin.qualname == f"{plugin_module}:halves"
    assert IntegrationSpec(fn="halves_ep").to_dict() == {"mode": "plugin", "fn": "halves_ep"}


def test_editing_the_source_changes_identity(plugin_module: str, tmp_path: Path) -> None:
    before = IntegrationSpec(fn=f"{plugin_module}:halves")
    name_before, parts_before = before.name, before.fingerprint_parts()
    path = tmp_path / f"{plugin_module}.py"
    path.write_text(PLUGIN_SOURCE + "\n# same functions, new source\n")
    importlib.reload(sys.modules[plugin_module])
    after = IntegrationSpec(fn=f"{plugin_module}:halves")
    assert after.name != name_before and after.name.startswith("plugin_halves_")
    assert after.fingerprint_parts()["plugin"] != parts_before["plugin"]
    assert after.fingerprint_parts()["spec"] == parts_before["spec"]
