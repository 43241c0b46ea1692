"""``[model]`` sections naming the deep spiking families: names, neurons, geometry, ANN weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from eventpipe.errors import ConfigError, DataNotFoundError, UnknownNameError
from eventpipe.snn import neuron, surrogate, zoo
from eventpipe.snn.zoo.pretrained import ann_keys
from eventpipe.train.build import build_model, model_classes, resolve_model_kwargs
from eventpipe.train.config import ModelConfig, load_config

FAMILIES = ["spiking_resnet18", "spiking_resnet34", "spiking_resnet50", "sew_resnet18", "sew_resnet34",
            "sew_resnet50", "spiking_vgg11", "spiking_vgg11_bn", "spiking_vgg13", "spiking_vgg13_bn",
            "spiking_vgg16", "spiking_vgg16_bn"]
SAMPLE = torch.zeros(2, 2, 32, 32)  # one sample [T, P, H, W] of 2-polarity frames


def test_families_are_models_by_lower_case_name() -> None:
    models = model_classes()
    assert set(FAMILIES) <= set(models) and "DVSGestureNet" in models
    assert models["sew_resnet50"] is zoo.SEWResNet50 and models["spiking_vgg16_bn"] is zoo.SpikingVGG16BN


def test_pipeline_selects_family_neuron_and_surrogate(tmp_path: Path) -> None:
    path = tmp_path / "sew.toml"
    path.write_text('[data]\ndataset = "demo"\nframes = 2\n[model]\nname = "sew_resnet18"\nconnect_f = "iand"\n'
                    'neuron = "lif"\ntau = 3.0\nsurrogate = "sigmoid"\nsurrogate_alpha = 2.0\nbackend = "torch"\n')
    net = build_model(load_config(path).model, num_classes=11, sample=SAMPLE)
    assert isinstance(net, zoo.SEWResNet18) and (net.in_channels, net.num_classes) == (2, 11)
    assert {b.connect_f for b in net.modules() if isinstance(b, zoo.resnet.BasicBlock)} == {"IAND"}
    nodes = [m for m in net.modules() if isinstance(m, neuron.BaseNode)]
    assert len(nodes) == 1 + 8 * 2 + 3  # stem, two per block, one per downsampling shortcut
    for node in nodes:
        assert type(node) is neuron.LIFNode and node.tau == 3.0 and node.step_mode == "m" and node.detach_reset
        assert isinstance(node.surrogate_function, surrogate.Sigmoid) and node.surrogate_function.alpha == 2.0
    assert net(torch.zeros(2, 1, 2, 32, 32)).shape == (2, 1, 11)


def test_vgg_options_and_neuron_arguments_are_told_apart() -> None:
    cfg = ModelConfig(name="spiking_vgg11_bn", kwargs={"hidden": 32, "dropout": 0.0, "neuron": "if",
                                                       "v_reset": "none", "backend": "torch"})
    net = build_model(cfg, num_classes=4, sample=SAMPLE)
    assert net.classifier[0].out_features == 32 and net.classifier[2].p == 0.0
    assert all(type(m) is neuron.IFNode and m.v_reset is None
               for m in net.modules() if isinstance(m, neuron.BaseNode))


def test_bad_family_connect_function_and_keys_are_named() -> None:
    with pytest.raises(UnknownNameError, match=r"Unknown value 'sew_resnet19' for model\.name\. Valid values are "
                                               r"\{.*'sew_resnet18'.*'spiking_vgg16_bn'.*\}"):
        resolve_model_kwargs(ModelConfig(name="sew_resnet19"))
    with pytest.raises(ConfigError, match=r"'XOR' for argument connect_f"):
        build_model(ModelConfig(name="sew_resnet18", kwargs={"connect_f": "XOR"}), num_classes=2, sample=SAMPLE)
    with pytest.raises(ConfigError, match=r"model\.connect_f: not an argument of spiking_resnet18 .*pretrained_skip"):
        resolve_model_kwargs(ModelConfig(name="spiking_resnet18", kwargs={"connect_f": "ADD"}))


def _save_ann_layers(net: torch.nn.Module, path: Path) -> dict[str, torch.Tensor]:
    """Save the conv/linear/BN entries of ``net`` (torchvision's layout, as the zoo tests check) as an ANN file."""
    state = {k: torch.randn(v.shape) if v.is_floating_point() else v for k, v in ann_keys(net).items()}
    torch.save(state, path)
    return state


def test_pretrained_file_is_loaded_after_building(tmp_path: Path) -> None:
    path = tmp_path / "resnet18.pt"
    state = _save_ann_layers(zoo.SpikingResNet18(in_channels=2, num_classes=11), path)
    cfg = ModelConfig(name="spiking_resnet18", kwargs={"pretrained": str(path), "backend": "torch"})
    net = build_model(cfg, num_classes=11, sample=SAMPLE)
    ours = net.state_dict()
    assert all(torch.equal(ours[k], v) for k, v in state.items())

    mismatch = (r"resnet18\.pt: does not fit spiking_resnet18: 2 shape mismatches \(fc\.bias is \(11,\) in the "
                r"file but \(5,\) in the model; fc\.weight .*pretrained_skip")
    with pytest.raises(ConfigError, match=mismatch):
        build_model(cfg, num_classes=5, sample=SAMPLE)
    cfg = ModelConfig(name="spiking_resnet18", kwargs={"pretrained": str(path), "pretrained_skip": ["fc"]})
    net = build_model(cfg, num_classes=5, sample=SAMPLE)
    assert torch.equal(net.layer1[0].conv1.weight, state["layer1.0.conv1.weight"]) and net.fc.out_features == 5


def test_pretrained_settings_are_checked_before_building(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"model\.pretrained: .*absent\.pt: no such file"):
        resolve_model_kwargs(ModelConfig(name="sew_resnet18", kwargs={"pretrained": str(tmp_path / "absent.pt")}))
    with pytest.raises(ConfigError, match=r"model\.pretrained: expected the path of a local ANN state dict file\. "
                                          r"Got True"):
        resolve_model_kwargs(ModelConfig(name="sew_resnet18", kwargs={"pretrained": True}))
    with pytest.raises(ConfigError, match=r"model\.pretrained_skip: expected a list of layer names"):
        resolve_model_kwargs(ModelConfig(name="sew_resnet18", kwargs={"pretrained_skip": "fc"}))
    with pytest.raises(ConfigError, match=r"model\.pretrained_skip: only meaningful with model\.pretrained"):
        resolve_model_kwargs(ModelConfig(name="sew_resnet18", kwargs={"pretrained_skip": ["fc"]}))
