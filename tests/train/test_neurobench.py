"""NeuroBench's metrics on hand-counted layers, every step layout, padded batches, and NeuroBench itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from eventpipe.snn import functional, layer, neuron
from eventpipe.train.config import LossConfig
from eventpipe.train.ddp import DistContext
from eventpipe.train.evaluation import class_ranks, run_eval
from eventpipe.train.neurobench import WorkloadRecorder, connection_sparsity, footprint, static_metrics

CPU = torch.device("cpu")


def _measure(net: nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]],
             forward: Callable[[nn.Module, torch.Tensor], object] | None = None) -> dict:
    """Workload metrics of ``net`` over ``(x, mask)`` batches, resetting its state after each."""
    rec = WorkloadRecorder(net)
    try:
        with torch.no_grad():
            for x, mask in batches:
                rec.begin_batch(mask)
                (forward or (lambda n, v: n(v)))(net, x)
                functional.reset_net(net)
        return rec.result(DistContext(), CPU)
    finally:
        rec.remove()


def _all(t: int, n: int) -> torch.Tensor:
    return torch.ones(t, n, dtype=torch.bool)


def _ops(result: dict) -> tuple[float, float, float]:
    s = result["synaptic_operations"]
    return s["dense"], s["effective_macs"], s["effective_acs"]


def _linear() -> nn.Linear:
    lin = layer.Linear(3, 2, step_mode="m")
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]]))
        lin.bias.fill_(5.0)  # a bias is no synaptic operation
    return lin


def test_linear_counts_by_hand() -> None:
    # sample 0: step 0 spikes on inputs 0 and 2 (1 + 2 non-zero weights), step 1 on input 1 (none);
    # sample 1 is silent. Dense: 2 steps x 6 weights per sample.
    x = torch.zeros(2, 2, 3)
    x[0, 0] = torch.tensor([1.0, 0.0, 1.0])
    x[1, 0] = torch.tensor([0.0, 1.0, 0.0])
    assert _ops(_measure(_linear(), [(x, _all(2, 2))])) == (12.0, 0.0, 1.5)
    assert _ops(_measure(_linear(), [(x * 0.5, _all(2, 2))])) == (12.0, 1.5, 0.0)  # not spikes: MACs
    signed = x.clone()
    signed[0, 0, 2] = -1.0  # 0 and ±1 still count as spikes
    assert _ops(_measure(_linear(), [(signed, _all(2, 2))])) == (12.0, 0.0, 1.5)


@pytest.mark.parametrize(("padding", "stride", "image", "expected"), [
    # every input pixel meets all 4 taps (3 of them non-zero); the padding ring is no input
    (1, 1, [[1.0, 0.0], [0.0, 1.0]], (16.0, 0.0, 6.0)),
    # one output: pixel (0, 0) x tap (0, 0) and pixel (1, 1) x tap (1, 1)
    (0, 1, [[1.0, 0.0], [0.0, 1.0]], (4.0, 0.0, 2.0)),
    # stride 2 on 3x3: one output reads only the top-left 2x2 pixels
    (0, 2, [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], (4.0, 0.0, 3.0)),
    (0, 2, [[2.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], (4.0, 3.0, 0.0)),
])
def test_conv_counts_by_hand(padding: int, stride: int, image: list, expected: tuple) -> None:
    conv = nn.Conv2d(1, 1, 2, stride=stride, padding=padding)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[[1.0, 0.0], [1.0, 1.0]]]]))
        conv.bias.fill_(1.0)
    x = torch.tensor(image)[None, None]  # one step of one sample: [N=1, C=1, H, W]
    assert _ops(_measure(conv, [(x, _all(1, 1))])) == expected


def test_activation_sparsity_by_hand() -> None:
    relu = _measure(nn.Sequential(nn.ReLU()), [(torch.tensor([[[-1.0, 2.0], [0.0, 3.0]]]), _all(1, 1))])
    assert relu["activation_sparsity"] == 0.5
    # IF neuron, threshold 1: input 0 fires at steps 0 and 2, input 1 never reaches the threshold
    x = torch.tensor([[1.5, 0.0], [0.0, 0.0], [1.5, 0.6]])[:, None]  # [T=3, N=1, 2]
    spiking = _measure(neuron.IFNode(step_mode="m", backend="torch"), [(x, _all(3, 1))])
    assert spiking["activation_sparsity"] == pytest.approx(4 / 6)


def test_static_metrics_by_hand() -> None:
    net = nn.Sequential(layer.Linear(3, 2, step_mode="m"), nn.Conv2d(1, 1, 2), nn.BatchNorm1d(2))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0, 2.0], [0.5, 1.0, 3.0]]))
        net[1].weight.copy_(torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]]))
    assert connection_sparsity(net) == pytest.approx(3 / 10)  # weights only, biases and BN left out
    # float32 parameters: 6 + 2 + 4 + 1 + 2 + 2; buffers: 2 + 2 float32 and one int64 counter
    assert footprint(net) == 17 * 4 + 4 * 4 + 8
    assert static_metrics(net) == {"footprint_bytes": 92, "connection_sparsity": pytest.approx(0.3)}
    assert connection_sparsity(nn.Sequential(nn.ReLU())) == 0.0


def _nets(seed: int = 0) -> dict[str, tuple[nn.Module, Callable[[nn.Module, torch.Tensor], object]]]:
    """One conv-IF-linear-IF network in three layouts sharing weights: multi-step layers, ``[T * N]``
    containers, and single-step layers driven step by step."""
    torch.manual_seed(seed)
    conv, fc = nn.Conv2d(2, 3, 3, padding=1), nn.Linear(3 * 4 * 4, 4)
    with torch.no_grad():
        conv.weight.mul_(4.0)
        fc.weight.mul_(6.0)
        fc.weight[:, :5] = 0.0

    def copy(m: nn.Module, src: nn.Module) -> nn.Module:
        m.load_state_dict(src.state_dict())
        return m

    def node(mode: str) -> nn.Module:
        return neuron.LIFNode(step_mode=mode, backend="torch")

    multi = nn.Sequential(copy(layer.Conv2d(2, 3, 3, padding=1, step_mode="m"), conv), node("m"),
                          layer.Flatten(step_mode="m"), copy(layer.Linear(48, 4, step_mode="m"), fc), node("m"))
    merged = nn.Sequential(layer.SeqToANNContainer(conv), node("m"),
                           layer.SeqToANNContainer(nn.Flatten(), fc), node("m"))
    single = nn.Sequential(copy(layer.Conv2d(2, 3, 3, padding=1, step_mode="s"), conv), node("s"),
                           layer.Flatten(step_mode="s"), copy(layer.Linear(48, 4, step_mode="s"), fc), node("s"))

    def steps(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([net(xt) for xt in x])

    def whole(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return net(x)

    return {"multi": (multi, whole), "merged": (merged, whole), "single": (single, steps)}


def _frames(t: int, n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(t, n, 2, 4, 4, generator=g) < 0.4).float()


def test_every_step_layout_counts_the_same() -> None:
    batches = [(_frames(4, 3, 1), _all(4, 3)), (2.0 * _frames(4, 2, 2), _all(4, 2))]
    results = {name: _measure(net, batches, fwd) for name, (net, fwd) in _nets().items()}
    assert results["multi"] == results["merged"] == results["single"]
    dense, macs, acs = _ops(results["multi"])
    # conv (padding excluded: output rows and columns see 2, 3, 3, 2 input rows/columns of a 3x3 kernel)
    # + linear, 4 steps per sample; batch 2 is not binary: its conv ops are MACs
    conv_dense = 3 * 2 * (2 + 3 + 3 + 2) ** 2
    assert dense == 4 * (conv_dense + 48 * 4)
    assert macs > 0 and acs > 0
    assert 0.0 < results["multi"]["activation_sparsity"] < 1.0


def test_padded_steps_do_not_count() -> None:
    # sample 1 lasts 2 of 3 steps; its padded step holds strong input that would fire and count
    x0, x1 = _frames(3, 1, 3), _frames(2, 1, 4)
    padded = torch.cat([x0, torch.cat([x1, torch.full((1, 1, 2, 4, 4), 3.0)])], dim=1)
    mask = torch.tensor([[True, True], [True, True], [True, False]])
    for name, (net, fwd) in _nets().items():
        alone = _measure(net, [(x0, _all(3, 1)), (x1, _all(2, 1))], fwd)
        together = _measure(net, [(padded, mask)], fwd)
        assert _ops(together) == pytest.approx(_ops(alone)), name
        assert together["activation_sparsity"] == pytest.approx(alone["activation_sparsity"]), name
        assert _ops(together)[1] == 0.0, name  # the padded step's 3.0 input would be MACs


def test_counts_ignore_autocast() -> None:
    net, fwd = _nets()["multi"]
    batches = [(_frames(4, 2, 5), _all(4, 2))]
    plain = _measure(net, batches, fwd)

    def amp(n: nn.Module, x: torch.Tensor) -> object:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return fwd(n, x)

    assert _ops(_measure(net, batches, amp))[0] == _ops(plain)[0]
    assert sum(_ops(_measure(net, batches, amp))[1:]) > 0


def test_class_ranks_break_ties_like_argmax() -> None:
    scores = torch.tensor([[0.1, 0.5, 0.5, 0.2, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    # sample 0: class 2 ties with class 1, which argmax picks: rank 1; sample 1: all tied, class 5 last
    assert class_ranks(scores, torch.tensor([2, 5])).tolist() == [1, 5]
    assert class_ranks(scores, torch.tensor([1, 0])).tolist() == [0, 0]
    assert scores.argmax(-1).tolist() == [1, 0]


class _Rates(nn.Module):
    """``[T, N, 2, 4, 4]`` -> ``[T, N, classes]`` firing rates through one spiking linear layer."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.fc = layer.SeqToANNContainer(nn.Flatten(), nn.Linear(32, classes))
        self.sn = neuron.IFNode(step_mode="m", backend="torch")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sn(self.fc(x) * 4.0)


@pytest.mark.parametrize("classes", [3, 7])
def test_run_eval_reports_top5_and_neurobench(classes: int) -> None:
    torch.manual_seed(0)
    model = _Rates(classes)
    batches = [(_frames(4, 5, s), torch.randint(classes, (5,)), _all(4, 5)) for s in range(3)]
    r = run_eval(model, batches, LossConfig(), num_classes=classes, device=CPU, ctx=DistContext(),  # type: ignore[arg-type]
                 after_batch=functional.reset_net)
    assert r.top_k == min(5, classes)
    assert r.accuracy <= r.top5_accuracy <= 1.0
    if classes < 5:
        assert r.top5_accuracy == 1.0  # k = classes: every prediction is in the top k
    assert set(r.neurobench) == {"footprint_bytes", "connection_sparsity", "activation_sparsity",
                                 "synaptic_operations"}
    assert r.neurobench["synaptic_operations"]["dense"] == 4 * 32 * classes
    assert r.neurobench["footprint_bytes"] == (32 + 1) * classes * 4
    assert not model.fc[1]._forward_hooks and not model.sn._forward_hooks  # hooks removed
    off = run_eval(model, batches, LossConfig(), num_classes=classes, device=CPU, ctx=DistContext(),  # type: ignore[arg-type]
                   after_batch=functional.reset_net, neurobench=False)
    assert off.neurobench == {} and off.top5_accuracy == r.top5_accuracy


def test_matches_neurobench() -> None:
    """Our numbers against NeuroBench's own metrics on the same network and data (batch-first there)."""
    pytest.importorskip("neurobench")
    pytest.importorskip("snntorch")  # imported by neurobench's metrics
    from neurobench.metrics.static import ConnectionSparsity, Footprint
    from neurobench.metrics.workload import ActivationSparsity, SynapticOperations
    from neurobench.models import TorchModel

    net, fwd = _nets()["multi"]
    batches = [(_frames(4, 3, s) * (2.0 if s == 1 else 1.0), _all(4, 3)) for s in range(3)]

    class TimeFirst(TorchModel):  # type: ignore[misc]
        def __call__(self, batch: torch.Tensor) -> torch.Tensor:
            return self.net(batch.transpose(0, 1))

    model = TimeFirst(net)
    model.add_activation_module(neuron.BaseNode)
    model.register_hooks()
    synops, sparsity = SynapticOperations(), ActivationSparsity()
    sparsity_sum = 0.0
    try:
        for x, _ in batches:
            data = (x.transpose(0, 1), torch.zeros(x.shape[1]))
            with torch.no_grad():
                preds = model(data[0])
            functional.reset_net(net)
            theirs = synops(model, preds, data)
            sparsity_sum += sparsity(model, preds, data) * x.shape[1]
            model.reset_hooks()
    finally:
        model.cleanup_hooks()
    ours = _measure(net, batches, fwd)  # after NeuroBench's hooks are gone (its layer copies keep hooks)
    assert ours["synaptic_operations"] == pytest.approx(
        {"dense": theirs["Dense"], "effective_macs": theirs["Effective_MACs"], "effective_acs": theirs["Effective_ACs"]})
    assert theirs["Effective_MACs"] > 0 and theirs["Effective_ACs"] > 0
    assert ours["activation_sparsity"] == pytest.approx(sparsity_sum / 9)
    assert static_metrics(net)["footprint_bytes"] == Footprint()(model)
    assert static_metrics(net)["connection_sparsity"] == pytest.approx(ConnectionSparsity()(model), abs=5e-5)
