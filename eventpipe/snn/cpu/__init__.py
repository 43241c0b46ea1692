"""The ``numba`` backend: fused multi-step neuron kernels compiled for the CPU (:mod:`.backend`)."""
