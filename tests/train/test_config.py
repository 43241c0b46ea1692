"""Pipeline config: validation names the key, overrides, TOML round trip."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eventpipe.errors import ConfigError, DataNotFoundError
from eventpipe.frames import IntegrationSpec
from eventpipe.train.config import (
    TrainConfig,
    apply_overrides,
    load_config,
    parse_assignment,
)

BASE = {
    "name": "tiny",
    "data": {"dataset": "demo", "frames": 8},
    "model": {"name": "DVSGestureNet", "channels": 8, "neuron": "plif"},
}


def make(**sections: dict) -> TrainConfig:
    raw = {k: dict(v) if isinstance(v, dict) else v for k, v in BASE.items()}
    for section, values in sections.items():
        raw.setdefault(section, {}).update(values)
    return TrainConfig.from_dict(raw, source="test.toml")


def test_defaults_and_model_kwargs() -> None:
    cfg = make()
    assert cfg.name == "tiny"
    assert cfg.data.integration == IntegrationSpec(frames=8)
    assert dict(cfg.model.kwargs) == {"channels": 8, "neuron": "plif"}
    assert (cfg.optimizer.name, cfg.schedule.name, cfg.loss.name) == ("adam", "cosine", "mse")
    assert cfg.train.epochs == 64 and cfg.train.seed == 0 and cfg.train.device == "auto"


@pytest.mark.parametrize(
    ("section", "values", "needle"),
    [
        ("optimizer", {"lr": -1.0}, "optimizer.lr"),
        ("optimizer", {"lr": "fast"}, "optimizer.lr"),
        ("optimizer", {"name": "adamm"}, "optimizer.name: unknown value 'adamm'; valid values are {'adam', 'adamw', 'sgd'}"),
        ("optimizer", {"lrr": 0.1}, "optimizer.lrr: unknown key; valid keys are {lr, momentum, name, weight_decay}"),
        ("train", {"epochs": 0}, "train.epochs: expected an integer >= 1, got 0"),
        ("train", {"epochs": 2.5}, "train.epochs: expected an integer"),
        ("train", {"amp": "yes"}, "train.amp: expected true or false"),
        ("train", {"device": "gpu"}, "train.device"),
        ("data", {"batch_size": True}, "data.batch_size"),
        ("data", {"split_by": "tme"}, "[data]: Unknown value 'tme' for argument split_by"),
        ("data", {"duration_us": 10_000}, "[data]: Expected exactly one of frames, duration_us"),
        ("data", {"drop_incomplete": True}, "[data]: Argument drop_incomplete applies only with events_per_frame"),
        ("data", {"frames": 0}, "[data]: Expected a positive integer for frames. Got 0 instead."),
        ("data", {"frame": 3}, "data.frame: unknown key; valid keys are {"),
        ("loss", {"name": "hinge"}, "loss.name"),
        ("loss", {"tet_lambda": 2.0}, "loss.tet_lambda"),
        ("schedule", {"name": "linear"}, "schedule.name"),
        ("schedule", {"warmup_epochs": -1}, "schedule.warmup_epochs"),
    ],
)
def test_errors_name_the_key(section: str, values: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        make(**{section: values})
    assert needle in str(info.value)
    assert "test.toml" in str(info.value)


def test_unknown_data_key_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        make(data={"frame": 3})
    listed = re.search(r"valid keys are \{([^}]*)\}", str(info.value))
    assert listed is not None, str(info.value)
    keys = set(listed.group(1).split(", "))
    assert {"batch_size", "dataset", "frames", "split_by", "encoder", "steps"} <= keys and "frame" not in keys


def test_structural_errors() -> None:
    with pytest.raises(ConfigError, match=r"model: required key is missing"):
        TrainConfig.from_dict({"data": {"dataset": "demo", "frames": 4}})
    with pytest.raises(ConfigError, match="optimiser: unknown key"):
        TrainConfig.from_dict({**BASE, "optimiser": {}})
    with pytest.raises(ConfigError, match="data.dataset: required key is missing"):
        TrainConfig.from_dict({"data": {"frames": 4}, "model": {"name": "X"}})
    with pytest.raises(ConfigError, match="model.name: required key is missing"):
        TrainConfig.from_dict({"data": {"dataset": "demo", "frames": 4}, "model": {}})
    with pytest.raises(ConfigError, match="model.block"):
        TrainConfig.from_dict({"data": {"dataset": "demo", "frames": 4}, "model": {"name": "X", "block": {"a": 1}}})
    with pytest.raises(ConfigError, match="Expected exactly one of frames"):
        TrainConfig.from_dict({"data": {"dataset": "demo"}, "model": {"name": "X"}})


def test_config_is_frozen() -> None:
    cfg = make()
    with pytest.raises(AttributeError):
        cfg.data.batch_size = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.model.kwargs["channels"] = 3  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("data.batch_size=32", ("data.batch_size", 32)),
        ("optimizer.lr=1e-3", ("optimizer.lr", 1e-3)),
        ("train.amp=true", ("train.amp", True)),
        ("model.neuron=lif", ("model.neuron", "lif")),
        ("model.neuron='lif'", ("model.neuron", "lif")),
        ("model.kernel = [3, 3]", ("model.kernel", [3, 3])),
        ("train.output=runs/a b", ("train.output", "runs/a b")),
    ],
)
def test_parse_assignment(text: str, expected: tuple) -> None:
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["batch_size=3", "data.batch_size", "data.=3"])
def test_parse_assignment_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="section.key=value"):
        parse_assignment(text)


def test_overrides() -> None:
    cfg = make()
    new = cfg.replace_from({"data.batch_size": 4, "model.channels": 32, "optimizer.name": "sgd", "name": "x"})
    assert (new.data.batch_size, new.model.kwargs["channels"], new.optimizer.name, new.name) == (4, 32, "sgd", "x")
    assert cfg.data.batch_size == 16  # the original is untouched
    # choosing another integration replaces the file's one
    dur = cfg.replace_from({"data.duration_us": 50_000})
    assert dur.data.integration == IntegrationSpec(duration_us=50_000)
    epf = cfg.replace_from({"data.events_per_frame": 500, "data.drop_incomplete": True})
    assert epf.data.integration == IntegrationSpec(events_per_frame=500, drop_incomplete=True)
    plugin = cfg.replace_from({"data.fn": "mypkg.frames:to_frames"})
    assert plugin.data.integration == IntegrationSpec(fn="mypkg.frames:to_frames")
    tonic = cfg.replace_from({"data.time_window": "50ms", "data.overlap": 10_000})
    assert tonic.data.integration == IntegrationSpec(time_window=50_000, overlap=10_000)
    with pytest.raises(ConfigError, match="Argument split_by applies only with frames"):
        dur.replace_from({"data.split_by": "time"})
    with pytest.raises(ConfigError, match="unknown section 'optim'"):
        apply_overrides(cfg.to_dict(), {"optim.lr": 1.0})
    with pytest.raises(ConfigError, match="data.batch_size: expected an integer >= 1, got 0"):
        cfg.replace_from({"data.batch_size": 0})


def test_toml_round_trip(tmp_path: Path) -> None:
    cfg = make(train={"epochs": 3, "amp": True, "output": 'runs/"quoted"'}, model={"kernel": [3, 5]},
               optimizer={"lr": 0.05}, loss={"name": "tet"})
    path = tmp_path / "x.toml"
    path.write_text(cfg.to_toml())
    again = load_config(path)
    assert again == cfg
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_load_config_errors_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[data]\ndataset = "demo"\nframes = 8\n[model]\nname = "DVSGestureNet"\n')
    cfg = load_config(path, {"train.epochs": 2})
    assert cfg.name == "p" and cfg.train.epochs == 2
    with pytest.raises(ConfigError, match=r"p.toml \(with overrides\): train.epochs"):
        load_config(path, {"train.epochs": -2})
    path.write_text("[data\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(DataNotFoundError):
        load_config(tmp_path / "missing.toml")


def test_bundled_pipelines_are_valid() -> None:
    from eventpipe.sources import get_dataset
    from eventpipe.train.build import resolve_model_kwargs
    from eventpipe.train.pipelines import bundled_names, resolve_pipeline

    assert {"demo", "dvs128_gesture", "nmnist", "cifar10dvs", "shd"} <= set(bundled_names())
    assert resolve_pipeline(None).name == "demo.toml"
    assert resolve_pipeline("shd.toml") == resolve_pipeline("shd")
    for name in bundled_names():
        cfg = load_config(resolve_pipeline(name))
        assert cfg.name == name
        get_dataset(cfg.data.dataset)
        resolve_model_kwargs(cfg.model)  # every key is a model or neuron argument
    gesture = load_config(resolve_pipeline("dvs128_gesture"))
    assert (gesture.data.integration.frames, gesture.data.batch_size, gesture.optimizer.lr, gesture.train.epochs,
            gesture.train.amp, gesture.schedule.name) == (16, 16, 1e-3, 64, True, "cosine")


def test_unknown_pipeline_lists_bundled(tmp_path: Path) -> None:
    from eventpipe.train.pipelines import resolve_pipeline

    with pytest.raises(DataNotFoundError, match="bundled: .*'demo'"):
        resolve_pipeline("no_such_pipeline")
    own = tmp_path / "mine.toml"
    own.write_text("")
    assert resolve_pipeline(own) == own
