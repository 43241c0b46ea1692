from __future__ import annotations

import math

import pytest
import torch

from eventpipe.errors import ConfigError, UnknownNameError
from eventpipe.snn import surrogate as sg

ALL = [sg.Sigmoid(), sg.ATan(), sg.PiecewiseQuadratic(), sg.SoftSign(), sg.Erf(), sg.PiecewiseExp()]
IDS = [type(s).__name__ for s in ALL]


@pytest.mark.parametrize("surrogate", ALL, ids=IDS)
def test_forward_is_heaviside(surrogate: sg.Surrogate) -> None:
    x = torch.tensor([-2.0, -1e-7, 0.0, 1e-7, 3.0])
    assert surrogate(x).tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize("surrogate", ALL, ids=IDS)
def test_derivative_is_finite_difference_of_primitive(surrogate: sg.Surrogate) -> None:
    x = torch.linspace(-3, 3, 601, dtype=torch.float64)
    x = x[(x.abs() - 1 / surrogate.alpha).abs() > 1e-3]  # the piecewise ones have kinks there
    eps = 1e-6
    numeric = (surrogate.primitive(x + eps) - surrogate.primitive(x - eps)) / (2 * eps)
    # rtol 1e-5: SoftSign and PiecewiseExp have a kink in g' at 0, where the central difference is O(eps)
    torch.testing.assert_close(surrogate.derivative(x), numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("surrogate", ALL, ids=IDS)
def test_primitive_is_a_smooth_step(surrogate: sg.Surrogate) -> None:
    x = torch.tensor([-1e6, 0.0, 1e6], dtype=torch.float64)  # ATan and SoftSign approach 0 and 1 slowly
    torch.testing.assert_close(
        surrogate.primitive(x), torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize("surrogate", ALL, ids=IDS)
def test_backward_uses_the_derivative(surrogate: sg.Surrogate) -> None:
    x = torch.linspace(-2, 2, 41, requires_grad=True)
    surrogate(x).sum().backward()
    torch.testing.assert_close(x.grad, surrogate.derivative(x.detach()))


@pytest.mark.parametrize("surrogate", ALL, ids=IDS)
def test_in_place_derivative_matches(surrogate: sg.Surrogate) -> None:
    x = torch.linspace(-2, 2, 41)
    y = x.clone()
    out = surrogate.derivative_(y)
    assert out.data_ptr() == y.data_ptr()
    torch.testing.assert_close(out, surrogate.derivative(x))


def test_published_formulas_at_zero() -> None:
    assert sg.Sigmoid().derivative(torch.tensor(0.0)).item() == pytest.approx(4 * 0.25)
    assert sg.ATan().derivative(torch.tensor(0.0)).item() == pytest.approx(1.0)
    assert sg.ATan(alpha=2.0).derivative(torch.tensor(1.0)).item() == pytest.approx(1.0 / (1 + math.pi**2))
    assert sg.PiecewiseQuadratic().derivative(torch.tensor([0.5, 1.5])).tolist() == [0.5, 0.0]


def test_non_spiking_mode_returns_the_primitive() -> None:
    s = sg.ATan(spiking=False)
    x = torch.tensor([-0.5, 0.25])
    torch.testing.assert_close(s(x), s.primitive(x))


def test_names_and_validation() -> None:
    assert sg.surrogate_from_name("ATan", alpha=3.0) == sg.ATan(alpha=3.0)
    assert sg.surrogate_from_name("piecewise-quadratic") == sg.PiecewiseQuadratic()
    with pytest.raises(UnknownNameError, match="Valid values"):
        sg.surrogate_from_name("tanh")
    with pytest.raises(ConfigError, match="alpha"):
        sg.Sigmoid(alpha=0.0)
    assert hash(sg.Sigmoid()) == hash(sg.Sigmoid(alpha=4))
