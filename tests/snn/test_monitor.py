from __future__ import annotations

import pytest
import torch
from torch import nn

from eventpipe.errors import ConfigError, UnknownNameError
from eventpipe.snn import functional, layer, monitor, neuron


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    net = nn.Sequential(
        layer.Linear(6, 8),
        neuron.LIFNode(store_v_seq=True),
        layer.Linear(8, 4),
        neuron.IFNode(store_v_seq=True),
    )
    functional.set_step_mode(net, "m")
    return net


def _x() -> torch.Tensor:
    return torch.rand(5, 3, 6, generator=torch.Generator().manual_seed(0)) * 2


def test_output_monitor_records_every_neuron_by_name() -> None:
    net = _net()
    with monitor.OutputMonitor(net) as mon:
        out = net(_x())
        functional.reset_net(net)  # the next sample starts from rest
        net(_x())
    assert mon.monitored_layers == ["1", "3"] == mon.keys()
    assert len(mon.records) == 4 and len(mon["1"]) == 2
    assert mon["1"][0].shape == (5, 3, 8) and mon["3"][0].shape == (5, 3, 4)
    assert torch.equal(mon["3"][1], out)
    assert mon["1"][0].device.type == "cpu" and not mon["1"][0].requires_grad
    with pytest.raises(UnknownNameError, match="Valid values"):
        mon["0"]


def test_hooks_are_removed_on_exit_and_on_request() -> None:
    net = _net()
    with monitor.OutputMonitor(net) as mon:
        net(_x())
    net(_x())
    assert len(mon.records) == 2  # nothing recorded after the with block
    assert all(not m._forward_hooks for m in net.modules())
    mon2 = monitor.InputMonitor(net, layer.Linear)
    net(_x())
    mon2.remove_hooks()
    net(_x())
    assert len(mon2.records) == 2 and all(not m._forward_hooks for m in net.modules())


def test_enable_disable_clear() -> None:
    net = _net()
    mon = monitor.OutputMonitor(net, neuron.IFNode)
    mon.disable()
    net(_x())
    assert not mon.is_enabled and mon.records == []
    mon.enable()
    net(_x())
    assert len(mon["3"]) == 1
    mon.clear_recorded_data()
    assert mon.records == [] and mon["3"] == []
    mon.remove_hooks()


def test_firing_rate_reduction_and_input_monitor() -> None:
    net = _net()
    with (
        monitor.OutputMonitor(net, function_on_output=functional.firing_rate) as rates,
        monitor.InputMonitor(net, neuron.BaseNode) as inputs,
    ):
        out = net(_x())
    assert rates["3"][0].shape == () and rates["3"][0].item() == pytest.approx(out.mean().item())
    assert inputs["1"][0].shape == (5, 3, 8)


def test_attribute_monitor_records_membrane_potential() -> None:
    net = _net()
    with monitor.AttributeMonitor("v_seq", net) as mon:
        net(_x())
    assert mon["1"][0].shape == (5, 3, 8)
    torch.testing.assert_close(mon["1"][0], net[1].v_seq.detach())
    with pytest.raises(ConfigError, match="no attribute"):
        monitor.AttributeMonitor("nope", net)
    pre = monitor.AttributeMonitor("v_seq", net, neuron.IFNode, pre_forward=True)
    net(_x())
    assert pre["3"][0] is not None  # the previous call's v_seq, read before this call
    pre.remove_hooks()


def test_gradient_monitors() -> None:
    net = _net()
    x = _x().requires_grad_()
    with monitor.GradOutputMonitor(net) as g_out, monitor.GradInputMonitor(net, layer.Linear) as g_in:
        out = net(x)
        (out * torch.arange(4.0)).sum().backward()
    assert [r.shape for r in g_out.records] == [(5, 3, 4), (5, 3, 8)]  # backward order: last layer first
    torch.testing.assert_close(g_out["3"][0], torch.arange(4.0).expand(5, 3, 4))
    assert g_in["0"][0].shape == (5, 3, 6)
    torch.testing.assert_close(g_in["0"][0], x.grad)


@pytest.mark.parametrize("compress", [False, True])
def test_packed_spikes_round_trip_exactly(compress: bool) -> None:
    net = _net()
    with (
        monitor.OutputMonitor(net, pack=True, compress=compress) as packed,
        monitor.OutputMonitor(net) as dense,
    ):
        net(_x())
    for p, d in zip(packed.records, dense.records, strict=True):
        assert isinstance(p, monitor.PackedTensor) and p.bits
        assert p.nbytes <= (d.numel() + 7) // 8 + 64
        assert torch.equal(p.unpack(), d) and p.unpack().dtype == d.dtype
    assert all(torch.equal(a, b) for a, b in zip(packed.tensors("1"), dense["1"], strict=True))


def test_pack_keeps_non_binary_values_exact() -> None:
    v = torch.randn(4, 7, dtype=torch.float64)
    for compress in (False, True):
        p = monitor.pack_tensor(v, compress=compress)
        assert not p.bits and torch.equal(p.unpack(), v)
    b = monitor.pack_tensor(torch.tensor([True, False, True]))
    assert b.bits and torch.equal(b.unpack(), torch.tensor([True, False, True]))
    half = torch.tensor([[0.0, 1.0], [1.0, 1.0]], dtype=torch.bfloat16)
    assert torch.equal(monitor.pack_tensor(half).unpack(), half)
    empty = monitor.pack_tensor(torch.zeros(0, 3), bits=False)
    assert empty.unpack().shape == (0, 3)


def test_records_by_index_pre_fire_potential_and_no_none_before_the_first_call() -> None:
    net = _net()
    for m in net.modules():
        if isinstance(m, neuron.BaseNode):
            m.store_h_seq = True
    with (
        monitor.OutputMonitor(net) as spikes,
        monitor.AttributeMonitor("h_seq", net) as h,
        monitor.AttributeMonitor("v_seq", net) as v,
        monitor.AttributeMonitor("v", net, pre_forward=True) as v_before,
    ):
        net(_x())
        net(_x())  # the same sample goes on: "v" before this call is the last potential of the first
    assert spikes[1] is spikes["3"][0] and spikes[-1] is spikes["3"][1]
    for i in range(4):  # S = H >= threshold; V = H where no spike, else the reset value 0
        fired = h[i] >= 1.0
        assert torch.equal(spikes[i], fired.float())
        torch.testing.assert_close(v[i], torch.where(fired, torch.zeros_like(h[i]), h[i]))
    assert v_before[0] is not None and torch.equal(v_before[0], torch.zeros(3, 8))  # rest, not None
    torch.testing.assert_close(v_before["1"][1], v["1"][0][-1])
    functional.set_step_mode(net, "s")
    net(_x()[0])
    assert net[1].h.shape == (3, 8) and net[1].h_seq is None
