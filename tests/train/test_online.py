"""Online training (``[train] online = "fptt" | "ottt"``) learns the built-in demo well above chance in a few
epochs, and its settings are checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.frames import IntegrationSpec
from eventpipe.paths import packaged_path
from eventpipe.pipeline.prepare import prepare
from eventpipe.snn import functional, layer
from eventpipe.snn.neuron import LIFNode
from eventpipe.train.config import LossConfig, RunConfig, load_config
from eventpipe.train.data import DataBundle, build_data
from eventpipe.train.ddp import DistContext
from eventpipe.train.online import OnlineSettings, OnlineStep, fit_online, online_step

CHANCE = 1 / 11


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DataBundle:
    root = tmp_path_factory.mktemp("demo_root")
    prepare("demo", root, IntegrationSpec(frames=8), scheduler="synchronous", progress=False)
    config = load_config(packaged_path("pipeline", "demo"), {"data.root": str(root), "data.frames": 8})
    return build_data(config, DistContext(), progress=False)


@pytest.fixture
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _net() -> nn.Module:
    """A small multi-step FC-LIF-FC-LIF net on the demo's 2x32x32 frames."""
    net = nn.Sequential(layer.Flatten(), layer.Linear(2 * 32 * 32, 64), LIFNode(detach_reset=True),
                        layer.Linear(64, 11), LIFNode(detach_reset=True))
    functional.set_step_mode(net, "m")
    return net


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("mode", ["fptt", "ottt"])
def test_online_training_learns_the_demo(demo: DataBundle, mode: str) -> None:
    torch.manual_seed(0)
    net = _net()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    step = OnlineStep(OnlineSettings(online=mode), net, optimizer, LossConfig())
    accuracies = fit_online(demo, net, step, epochs=3, batch_size=16)
    assert accuracies[-1] >= 3 * CHANCE, accuracies
    assert {m.step_mode for m in net.modules() if hasattr(m, "step_mode")} == {"m"}  # evaluation stays multi-step


def test_online_step_of_a_train_section() -> None:
    net = _net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    assert online_step(RunConfig(), net, optimizer, LossConfig()) is None  # no `online` key: BPTT
    step = OnlineStep(OnlineSettings(online="fptt", fptt_alpha=0.2), net, optimizer, LossConfig(name="cross_entropy"))
    x = torch.rand(5, 3, 2, 32, 32) * 4
    mask = torch.ones(5, 3, dtype=torch.bool)
    mask[3:, 0] = False  # a padded sample: its last steps are left out of the loss
    value, out = step(x, torch.tensor([1, 2, 3]), mask)
    assert out.shape == (5, 3, 11) and value >= 0
    saved = step.state_dict()
    assert [w.shape for w in saved["w_ra"]] == [p.shape for p in net.parameters()]
    step.load_state_dict(saved)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"online": "bptt"}, "train.online"),
    ({"online": "fptt", "fptt_alpha": 0.0}, "train.fptt_alpha"),
    ({"online": "ottt", "ottt_decay": 1.5}, "train.ottt_decay"),
])
def test_bad_settings_are_one_line_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        OnlineSettings(**kwargs)
    assert "\n" not in str(info.value)


def test_a_loss_without_steps_is_rejected(tmp_path: Path) -> None:
    net = _net()
    step = OnlineStep(OnlineSettings(online="ottt"), net, torch.optim.SGD(net.parameters(), lr=0.1),
                      LossConfig(name="unknown"))
    with pytest.raises(ConfigError, match="per-step loss"):
        step(torch.rand(2, 1, 2, 32, 32), torch.tensor([0]), torch.ones(2, 1, dtype=torch.bool))
