"""The deep spiking families: shapes, SEW shortcuts, and ANN weights with torchvision's layout."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from eventpipe.errors import ConfigError, DataNotFoundError, FormatError
from eventpipe.snn import neuron, zoo
from eventpipe.snn.base import StepModule
from eventpipe.snn.zoo.pretrained import ann_keys, load_ann_state_dict

# --- ANNs written here with torchvision's module names (torchvision itself is not a dependency) -----------


class AnnBasic(nn.Module):
    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int, downsample: nn.Module | None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class AnnBottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int, downsample: nn.Module | None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class AnnResNet(nn.Module):
    def __init__(self, block: type[AnnBasic | AnnBottleneck], stages: tuple[int, ...], in_channels: int,
                 num_classes: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), stages, strict=True)):
            stride, cout = (1 if i == 0 else 2), planes * block.expansion
            down = None if stride == 1 and cin == cout else nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            blocks = [block(cin, planes, stride, down)] + [block(cout, planes, 1, None) for _ in range(n - 1)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            cin = cout
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
        return self.fc(self.avgpool(x).flatten(1))


class AnnVGG(nn.Module):
    def __init__(self, widths: tuple[int, ...], batch_norm: bool, in_channels: int, num_classes: int,
                 hidden: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_channels
        for w in widths:
            if w == 0:
                layers.append(nn.MaxPool2d(2, 2))
                continue
            layers += [nn.Conv2d(cin, w, 3, padding=1)] + ([nn.BatchNorm2d(w)] if batch_norm else []) + [nn.ReLU()]
            cin = w
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(7)
        self.classifier = nn.Sequential(nn.Linear(cin * 49, hidden), nn.ReLU(), nn.Dropout(),
                                        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(),
                                        nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


VGG11 = (64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0)
VGG16 = (64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0)


def ann_for(family: str, in_channels: int = 2, num_classes: int = 10, hidden: int = 64,
            randomise: bool = True) -> nn.Module:
    """An ANN with the layout of ``family``, every entry randomised (batch-norm statistics too)."""
    if "resnet" in family:
        block, stages = {"18": (AnnBasic, (2, 2, 2, 2)), "34": (AnnBasic, (3, 4, 6, 3)),
                         "50": (AnnBottleneck, (3, 4, 6, 3))}[family[-2:]]
        ann: nn.Module = AnnResNet(block, stages, in_channels, num_classes)
    else:
        widths = VGG11 if "vgg11" in family else VGG16
        ann = AnnVGG(widths, family.endswith("_bn"), in_channels, num_classes, hidden)
    if not randomise:
        return ann
    with torch.no_grad():
        for value in ann.state_dict().values():
            value.copy_(torch.randint(0, 50, value.shape) if value.dtype == torch.int64 else torch.randn(value.shape))
    return ann


def spiking(family: str, **kwargs: object) -> nn.Module:
    if "vgg" in family:
        kwargs.setdefault("hidden", 64)
    return zoo.FAMILIES[family](in_channels=2, num_classes=10, backend="torch", **kwargs)


def save(ann: nn.Module, tmp_path: Path) -> Path:
    path = tmp_path / "ann.pt"
    torch.save(ann.state_dict(), path)
    return path


# --- shapes ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", sorted(zoo.FAMILIES))
def test_every_family_is_multi_step_time_first(family: str) -> None:
    net = spiking(family)
    assert all(m.step_mode == "m" for m in net.modules() if isinstance(m, StepModule))
    out = net(torch.rand(2, 1, 2, 32, 32))
    assert out.shape == (2, 1, 10) and torch.isfinite(out).all()


def test_resnet_takes_event_frames_of_128_pixels() -> None:
    net = zoo.SEWResNet18(in_channels=2, num_classes=11, connect_f="AND", neuron=neuron.IFNode,
                          neuron_kwargs={}, backend="torch")
    assert net(torch.rand(1, 1, 2, 128, 128)).shape == (1, 1, 11)  # T=1 keeps it quick
    assert all(isinstance(m, neuron.IFNode) for m in net.modules() if isinstance(m, neuron.BaseNode))


def test_input_of_other_channels_or_too_small_is_named() -> None:
    with pytest.raises(ConfigError, match=r"\[T, N, 2, H, W\]"):
        spiking("spiking_resnet18")(torch.rand(2, 1, 3, 32, 32))
    with pytest.raises(ConfigError, match="at least 32x32"):
        spiking("spiking_vgg11")(torch.rand(2, 1, 2, 16, 16))


# --- SEW shortcuts -----------------------------------------------------------------------------------------


def test_connect_functions_on_hand_computed_spikes() -> None:
    branch = torch.tensor([1.0, 0.0, 1.0, 0.0])
    shortcut = torch.tensor([1.0, 1.0, 0.0, 0.0])
    assert zoo.connect(branch, shortcut, "ADD").tolist() == [2.0, 1.0, 1.0, 0.0]
    assert zoo.connect(branch, shortcut, "AND").tolist() == [1.0, 0.0, 0.0, 0.0]
    assert zoo.connect(branch, shortcut, "IAND").tolist() == [0.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize(("connect_f", "expected"), [("ADD", "x"), ("AND", "zero"), ("IAND", "x")])
def test_sew_block_with_a_silent_branch(connect_f: str, expected: str) -> None:
    # a zero branch never fires, so ADD and IAND pass the input spikes on exactly and AND blocks them
    block = spiking("sew_resnet18", connect_f=connect_f.lower()).layer1[0].eval()
    with torch.no_grad():
        block.conv2.weight.zero_()
    x = (torch.rand(3, 2, 64, 4, 4) < 0.5).float()
    out = block(x)
    assert torch.equal(out, x if expected == "x" else torch.zeros_like(x))


def test_spiking_resnet_adds_before_the_neuron() -> None:
    block = spiking("spiking_resnet18", neuron=neuron.IFNode, neuron_kwargs={}).layer1[0].eval()
    with torch.no_grad():
        block.conv2.weight.zero_()
    x = torch.tensor([1.0, 0.0, 1.0]).reshape(3, 1, 1, 1, 1).expand(3, 1, 64, 2, 2)
    assert torch.equal(block(x), x)  # IF, threshold 1: an input spike fires at once


def test_unknown_connect_function_is_named() -> None:
    with pytest.raises(ConfigError, match=r"'XOR' for argument connect_f\. Valid values are \{'ADD', 'AND', 'IAND'\}"):
        zoo.SEWResNet18(connect_f="XOR")


# --- ANN weights ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["sew_resnet50", "spiking_vgg11", "spiking_vgg16_bn"])
def test_ann_layers_have_torchvision_keys_and_shapes(family: str) -> None:
    ann = {k: tuple(v.shape) for k, v in ann_for(family, randomise=False).state_dict().items()}
    assert {k: tuple(v.shape) for k, v in ann_keys(spiking(family)).items()} == ann


@pytest.mark.parametrize("family", ["spiking_resnet18", "spiking_vgg11_bn"])
def test_ann_weights_load_into_the_spiking_net(family: str, tmp_path: Path) -> None:
    ann = ann_for(family)
    net = spiking(family)
    loaded = load_ann_state_dict(net, save(ann, tmp_path))
    theirs, ours = ann.state_dict(), net.state_dict()
    assert loaded == sorted(theirs)
    for key, value in theirs.items():
        assert torch.equal(ours[key], value), key
    kinds = {type(m).__name__ for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.BatchNorm2d))}
    assert kinds == {"Conv2d", "Linear", "BatchNorm2d"}


def test_other_classes_and_channels_need_pretrained_skip(tmp_path: Path) -> None:
    ann = ann_for("sew_resnet18", in_channels=3, num_classes=1000)
    path = save(ann, tmp_path)
    net = spiking("sew_resnet18")
    with pytest.raises(ConfigError) as info:
        load_ann_state_dict(net, path, name="sew_resnet18")
    message = str(info.value)
    assert "\n" not in message and "does not fit sew_resnet18: 3 shape mismatches" in message
    assert "conv1.weight is (64, 3, 7, 7) in the file but (64, 2, 7, 7) in the model" in message
    assert "fc.weight is (1000, 512) in the file but (10, 512) in the model" in message
    assert "pretrained_skip" in message
    before = net.fc.weight.detach().clone()
    loaded = load_ann_state_dict(net, path, skip=["conv1", "fc"])
    assert "conv1.weight" not in loaded and "fc.bias" not in loaded and "layer1.0.conv1.weight" in loaded
    assert torch.equal(net.fc.weight, before) and torch.equal(net.bn1.weight, ann.bn1.weight)
    assert torch.equal(net.layer4[1].conv2.weight, ann.layer4[1].conv2.weight)


def test_missing_and_unexpected_keys_are_listed(tmp_path: Path) -> None:
    state = ann_for("spiking_resnet18", randomise=False).state_dict()
    renamed = {f"module.{k}": v for k, v in state.items()}
    del renamed["module.fc.bias"]
    path = tmp_path / "ddp.pt"
    torch.save(renamed, path)
    n = len(state)
    required = n - sum(k.endswith("num_batches_tracked") for k in state)  # absent from older torchvision files
    pattern = (rf"ddp\.pt: does not fit SpikingResNet18: {required} missing keys \(bn1\.bias, bn1\.running_mean, "
               rf"bn1\.running_var, bn1\.weight, \.\.\.\); {n - 1} unexpected keys \(module\.bn1\.bias, ")
    with pytest.raises(ConfigError, match=pattern):
        load_ann_state_dict(spiking("spiking_resnet18"), path)


def test_unknown_skip_layer_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"pretrained_skip: 'fcc' names no layer of SpikingVGG11 \(top-level layers: "
                                          r"classifier, features\)"):
        load_ann_state_dict(spiking("spiking_vgg11"), tmp_path / "never-read.pt", skip=["fcc"])


class NotATensor:
    pass


def test_missing_or_foreign_files_are_refused(tmp_path: Path) -> None:
    net = spiking("spiking_resnet18")
    with pytest.raises(DataNotFoundError, match=r"nope\.pt: no such file"):
        load_ann_state_dict(net, tmp_path / "nope.pt")
    text = tmp_path / "text.pt"
    text.write_bytes(b"not a torch file\n")
    with pytest.raises(FormatError, match=r"text\.pt: not a torch state dict readable with weights_only=True"):
        load_ann_state_dict(net, text)
    pickled = tmp_path / "object.pt"
    torch.save({"conv1.weight": NotATensor()}, pickled)  # arbitrary objects are never unpickled
    with pytest.raises(FormatError, match=r"object\.pt: not a torch state dict readable with weights_only=True"):
        load_ann_state_dict(net, pickled)
    listed = tmp_path / "list.pt"
    torch.save([torch.zeros(1)], listed)
    with pytest.raises(FormatError, match=r"list\.pt: expected a state dict .* got a list"):
        load_ann_state_dict(net, listed)
