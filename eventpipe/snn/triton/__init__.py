"""The ``triton`` neuron backend: fused forward and backward kernels written in Triton (imported lazily)."""
