"""Frame integration: events ``<t, x, y, p>`` -> frames ``[T, C, H, W]``: counts or float representations.

``integrate(events, sensor_size, frames=20)`` means what SpikingJelly's
``frames_number=20, split_by='number'`` means; see :class:`IntegrationSpec` for every mode and
DESIGN.md §4 for the exact semantics. Channel = ``p != 0``; a one-polarity sensor (``P = 1``)
counts every event in channel 0. Besides count frames (by number, time, duration, events per
frame and tonic's ``ToFrame`` modes) a spec gives tonic's voxel grid, time surface, event image
and binary representation, exponentially decayed frames and plugin frames, stored as float16 or
float32 where they are not counts; any mode may first run a chain of event filters (denoise,
refractory period, ...) on each sample.

Layout: :mod:`~eventpipe.frames.slicing` (which events form each frame: pure index math),
:mod:`~eventpipe.frames.kernels` (Numba loops counting into a preallocated ``out``),
:mod:`~eventpipe.frames.accumulate` (dtype choice, validation, error messages),
:mod:`~eventpipe.frames.representations` (the float representations),
:mod:`~eventpipe.frames.filters` (event filters at Numba speed) and
:mod:`~eventpipe.frames.filter_chain` (the deterministic ones as a spec's pre-integration step),
:mod:`~eventpipe.frames.spec` (``IntegrationSpec``, the only parser of integration options),
:mod:`~eventpipe.frames.integrators` (``integrate``), :mod:`~eventpipe.frames.plugins` (user
functions) and :mod:`~eventpipe.frames.reference` (slow NumPy oracles, used only by tests).

Threading policy
----------------
Parallelism lives at exactly one level: the Dask pipeline runs one task per block of samples, and
inside a task the kernels run single-threaded. Kernels are ``@njit(nogil=True)`` and never use
``parallel=True``, so Dask's threads run them truly in parallel without oversubscribing cores (a
Numba thread pool inside each Dask thread would multiply threads and, with the ``workqueue``
layer, is not safe to enter from several threads). ``cache=False``: Numba's on-disk cache is not
safe when several processes compile the same function at once. The first call of each kernel
compiles it (one to two seconds), once per process.

>>> from eventpipe.events import make_events
>>> ev = make_events(t=[0, 10, 20, 30], x=[0, 1, 2, 3], y=[0, 0, 1, 1], p=[1, 1, 0, 1])
>>> integrate(ev, (4, 2, 2), duration_us=15).shape
(2, 2, 2, 4)
"""

from __future__ import annotations

from eventpipe.frames.integrators import integrate
from eventpipe.frames.spec import IntegrationSpec, integration_spec

__all__ = ["IntegrationSpec", "integrate", "integration_spec"]
