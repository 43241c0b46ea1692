"""The built-in ``demo-static`` pipeline (synthetic digits, Poisson encoder, FC-LIF-FC-LIF) trains well above
chance in seconds, through ``train`` and through ``eventpipe train`` / ``evaluate``, and the static
pipelines' ``[data]`` tables validate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from eventpipe.cli.main import app
from eventpipe.datasets.static import DemoStatic
from eventpipe.errors import ConfigError
from eventpipe.paths import packaged_path
from eventpipe.train.build import build_model
from eventpipe.train.config import TrainConfig, load_config
from eventpipe.train.loop import train


@pytest.fixture(scope="module")
def demo_static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the demo-static images store, generated once for the module."""
    root = tmp_path_factory.mktemp("demo_static")
    DemoStatic(root, split="train", prepare=True, progress=False)
    return root


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One intra-op thread: a small net's matrices are too small to share, and a busy machine's cores
    would make the threads wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("one_thread")
def test_demo_static_trains_well_above_chance(demo_static_root: Path, tmp_path: Path) -> None:
    config = load_config(packaged_path("pipeline", "demo_static"), {
        "data.root": str(demo_static_root), "data.limit_train": 2000, "data.limit_test": 500,
        "train.epochs": 2, "train.output": str(tmp_path / "run"), "train.plots": False,
        "train.firing_rates": False, "train.device": "cpu",
    })
    assert (config.data.encoder, config.data.steps, config.data.integration) == ("poisson", 8, None)
    result = train(config, progress=False, log=lambda _msg: None)  # SpikingMLP built from [model]
    assert result.final_accuracy > 0.7, result.summary()  # chance is 0.1


@pytest.mark.usefixtures("one_thread")
def test_cli_trains_and_evaluates_demo_static(demo_static_root: Path, tmp_path: Path) -> None:
    def invoke(*args: str) -> dict:
        result = CliRunner().invoke(app, ["-q", *args, "--root", str(demo_static_root), "--device", "cpu", "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    run = tmp_path / "run"
    summary = invoke("train", "--pipeline", "demo_static", "--epochs", "1", "--output", str(run),
                     "--set", "data.limit_train=256", "--set", "data.limit_test=100", "--set", "train.plots=false")
    assert summary["epochs"] == 1 and 0.0 <= summary["final_accuracy"] <= 1.0
    report = invoke("evaluate", str(run / "checkpoints" / "best.pt"))
    assert (report["epoch"], report["samples"], len(report["classes"])) == (1, 1000, 10)  # the whole test split


def test_mnist_fc_lif_is_spikingjellys_example() -> None:
    config = load_config(packaged_path("pipeline", "mnist_fc_lif"))
    assert (config.data.dataset, config.data.encoder, config.data.steps) == ("mnist", "poisson", 100)
    assert (config.loss.name, config.optimizer.name, config.optimizer.lr) == ("mse", "adam", 1e-3)
    model = build_model(config.model, num_classes=10, sample=torch.zeros(100, 1, 28, 28))
    linear = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features, m.bias) for m in linear] == [(784, 196, None), (196, 10, None)]
    neurons = [m for m in model.modules() if type(m).__name__ == "LIFNode"]
    assert [(n.tau, n.step_mode) for n in neurons] == [(2.0, "m"), (2.0, "m")]


@pytest.mark.parametrize(("data", "match"), [
    ({"encoder": "poisson"}, r"data.steps: required with an encoder"),
    ({"encoder": "poisson", "steps": 8, "frames": 4}, r"data.encoder: give either an encoder .* not both"),
    ({"encoder": "rate", "steps": 8}, r"\[data\]: Unknown value 'rate' for argument encoder"),
    ({"frames": 4, "steps": 8}, r"data.steps: only with an encoder"),
    ({}, r"Expected exactly one of frames.*static image datasets take `encoder` and `steps`"),
])
def test_static_data_table_errors(data: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        TrainConfig.from_dict({"data": {"dataset": "mnist", **data}, "model": {"name": "SpikingMLP"}})


def test_overrides_switch_between_encoder_and_integration() -> None:
    config = load_config(packaged_path("pipeline", "demo_static"))
    assert config.replace_from({"data.encoder": "latency"}).data.encoder == "latency"
    events = config.replace_from({"data.dataset": "demo", "data.frames": 8})
    assert events.data.integration is not None
    assert (events.data.encoder, events.data.steps, events.data.integration.frames) == (None, None, 8)
    back = events.replace_from({"data.encoder": "repeat", "data.steps": 4})
    assert (back.data.encoder, back.data.steps, back.data.integration) == ("repeat", 4, None)
    assert TrainConfig.from_dict(config.to_dict()) == config
