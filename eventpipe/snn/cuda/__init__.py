"""CUDA kernels of the ``cupy`` neuron backend: readable ``.cu`` sources plus the module that compiles them.

``neuron.cu`` holds the fused multi-step forward and backward kernels; :mod:`eventpipe.snn.cuda.backend`
loads it with :mod:`importlib.resources`, compiles the template instances it needs with NVRTC through CuPy
(imported only when a kernel is first launched) and wraps them in an autograd function.
"""
