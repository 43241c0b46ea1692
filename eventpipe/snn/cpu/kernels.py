"""Numba kernels of the fused neuron: a forward and a backward pass over ``[T, M]`` (M neurons).

Both run over a range of blocks of neurons ``[b0, b1)``, with the loop over T inside a block: the one-step
state of a block stays in cache and only the ``[T, M]`` sequences stream through memory, once per pass. They
release the GIL, so the caller runs disjoint block ranges on several threads. The forward
pass writes the spikes, the charged potential ``h`` (all the backward pass needs) and optionally ``v`` after
the reset; the backward pass walks T in reverse (equations in :mod:`eventpipe.snn.fused`).

Scalars arrive in the arrays' dtype, so float32 arithmetic stays in float32: the charge uses the operation
order of :mod:`eventpipe.snn.fused`, whose float32 results it reproduces bit for bit.

Surrogate codes (``SURROGATE_CODES``) pick the derivative ``g'(x)``; ``p0, p1, p2`` are its hyper-parameters.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["BLOCK", "SURROGATE_CODES", "backward", "blocks", "forward"]

BLOCK = 2048  # neurons per parallel task: a block's state and one row of each sequence fit in L1/L2

SURROGATE_CODES = {
    "sigmoid": 0, "atan": 1, "piecewise_quadratic": 2, "soft_sign": 3, "erf": 4, "piecewise_exp": 5,
    "nonzero_sign_log_abs": 6, "piecewise_leaky_relu": 7, "squarewave_fourier_series": 8, "s2nn": 9,
    "q_pseudo_spike": 10, "leaky_k_relu": 11, "fake_numerical_gradient": 12, "log_tailed_relu": 13,
}  # fmt: skip

_IF, _LIF = 0, 1  # neuron kinds (PLIF runs as LIF with k read from its tensor)


def blocks(numel: int) -> int:
    """How many blocks of :data:`BLOCK` neurons cover ``numel`` neurons."""
    return -(-numel // BLOCK)


@njit(nogil=True, cache=True)
def _sigmoid_slope(x, a):
    sg = 1.0 / (1.0 + math.exp(-a * x))
    return a * (sg - sg * sg)


@njit(nogil=True, cache=True)
def _derivative(code, x, p0, p1, p2):
    """``g'(x)`` of surrogate ``code`` (see :mod:`eventpipe.snn.surrogate` for the formulas)."""
    if code == 0:
        return _sigmoid_slope(x, p0)
    if code == 1:
        u = math.pi / 2 * p0 * x
        return p0 / 2 / (1.0 + u * u)
    if code == 2:
        return max(p0 - p0 * p0 * abs(x), 0.0)
    if code == 3:
        u = 1.0 / p0 + abs(x)
        return 1.0 / (2 * p0 * u * u)
    if code == 4:
        u = p0 * x
        return p0 / math.sqrt(math.pi) * math.exp(-u * u)
    if code == 5:
        return p0 / 2 * math.exp(-p0 * abs(x))
    if code == 6:
        return p0 / (1.0 + p0 * abs(x))
    if code == 7:
        return 1.0 / (2 * p0) if abs(x) <= p0 else p1
    if code == 8:
        w = 2 * math.pi / p1
        total = 0.0
        for i in range(1, int(p0)):
            total += math.cos((2 * i - 1) * w * x)
        return total * (4 / p1)
    if code == 9:
        return _sigmoid_slope(x, p0) if x < 0 else p1 / (x + 1.0)
    if code == 10:
        return (1.0 + 2.0 / (p0 - 1.0) * abs(x)) ** (-p0)
    if code == 11:
        return p0 if x < 0 else p1
    if code == 12:
        return min(1.0 / abs(x), p0) if x != 0 else p0
    return p0 if x <= 0 else 1.0 / max(x, 1.0)


@njit(nogil=True, cache=True)
def _charge_row(kind, decay_input, x, v, k, vr, out):
    """``out = H(x, v)`` in the operation order of :func:`eventpipe.snn.fused._charge_into`."""
    if kind == _IF:
        for j in range(out.size):
            out[j] = v[j] + x[j]
    elif decay_input:
        for j in range(out.size):
            out[j] = v[j] + (x[j] - (v[j] - vr)) * k
    else:
        for j in range(out.size):
            out[j] = (v[j] - (v[j] - vr) * k) + x[j]


@njit(nogil=True, cache=True)
def _fire_row(hard, h, vth, v_reset, s, v):
    """Spikes ``s`` and the potential ``v`` after the reset for the charge ``h``."""
    if hard:
        for j in range(h.size):
            fired = h[j] >= vth
            s[j] = 1.0 if fired else 0.0
            v[j] = v_reset if fired else h[j]
    else:
        for j in range(h.size):
            fired = h[j] >= vth
            s[j] = 1.0 if fired else 0.0
            v[j] = h[j] - vth if fired else h[j]


@njit(nogil=True, cache=True)
def _derivative_row(code, h, vth, p0, p1, p2, g):
    """``g = g'(h - vth)`` of surrogate ``code``: the default (sigmoid) in the arrays' dtype, the others
    through :func:`_derivative`."""
    if code == 0 and p0 != 0:  # the default surrogate, in the arrays' dtype
        one = p0 / p0
        for j in range(h.size):
            sg = one / (one + math.exp(-p0 * (h[j] - vth)))
            g[j] = p0 * (sg - sg * sg)
    else:
        for j in range(h.size):
            g[j] = _derivative(code, h[j] - vth, p0, p1, p2)


@njit(nogil=True, cache=True)
def forward(b0, b1, x, v0, h, s, v_seq, v_last, kind, decay_input, hard, k, vr, vth, v_reset, store_h, store_v):
    """Fill ``s`` (and ``h``, ``v_seq`` when ``store_h``, ``store_v``) for ``x`` ``[T, M]``, and ``v_last``,
    for the neurons of blocks ``b0 .. b1 - 1``."""
    steps, numel = x.shape
    for b in range(b0, b1):
        lo = b * BLOCK
        hi = min(lo + BLOCK, numel)
        v = v0[lo:hi].copy()
        scratch = np.empty_like(v)
        for t in range(steps):
            hrow = h[t, lo:hi] if store_h else scratch
            _charge_row(kind, decay_input, x[t, lo:hi], v, k, vr, hrow)
            _fire_row(hard, hrow, vth, v_reset, s[t, lo:hi], v)
            if store_v:
                v_seq[t, lo:hi] = v
        v_last[lo:hi] = v


@njit(nogil=True, cache=True)
def backward(b0, b1, h, v0, gs, gv, gl, gx, gv0, gk, has_gs, has_gv, has_gl, decay_input, hard, detach, k, dh_dx, dh_dv,
             vr, vth, v_reset, code, p0, p1, p2, want_k):
    """Fill ``gx`` ``[T, M]`` and ``gv0`` ``[M]`` walking t = T-1 .. 0; ``gk[b]`` gets block b's ``dL/dk``
    (blocks ``b0 .. b1 - 1``).

    ``dh_dx``, ``dh_dv`` are the charge's partial derivatives (``k`` and ``1 - k`` for LIF, 1 for IF)."""
    steps, numel = h.shape
    for b in range(b0, b1):
        lo = b * BLOCK
        hi = min(lo + BLOCK, numel)
        n = hi - lo
        grad_v = gl[lo:hi].copy() if has_gl else np.zeros_like(v0[lo:hi])
        g = np.empty_like(grad_v)
        gh = np.empty_like(grad_v)
        v_prev = np.empty_like(grad_v)
        acc = 0.0
        for t in range(steps - 1, -1, -1):
            hr = h[t, lo:hi]
            if has_gv:
                gvr = gv[t, lo:hi]
                for j in range(n):
                    grad_v[j] += gvr[j]
            _derivative_row(code, hr, vth, p0, p1, p2, g)
            if has_gs:
                gsr = gs[t, lo:hi]
                for j in range(n):
                    gh[j] = gsr[j] * g[j]
            else:
                gh[:] = 0
            if has_gl or has_gv or t < steps - 1:  # gh += dL/dV[t] dV/dH[t]
                if hard and detach:
                    for j in range(n):
                        gh[j] += grad_v[j] if hr[j] < vth else vr - vr
                elif hard:
                    for j in range(n):
                        gh[j] += (grad_v[j] if hr[j] < vth else vr - vr) + grad_v[j] * g[j] * (vr - hr[j])
                elif detach:
                    for j in range(n):
                        gh[j] += grad_v[j]
                else:
                    for j in range(n):
                        gh[j] += grad_v[j] - vth * grad_v[j] * g[j]
            gxr = gx[t, lo:hi]
            for j in range(n):
                gxr[j] = gh[j] * dh_dx
            if want_k:
                if t == 0:
                    v_prev[:] = v0[lo:hi]
                else:
                    _fire_row(hard, h[t - 1, lo:hi], vth, v_reset, g, v_prev)  # g is free again: spikes unused
                for j in range(n):
                    acc += gh[j] * ((hr[j] - v_prev[j]) / k if decay_input else vr - v_prev[j])
            for j in range(n):
                grad_v[j] = gh[j] * dh_dv
        gv0[lo:hi] = grad_v
        gk[b] = acc
