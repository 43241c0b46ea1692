"""The events store: every dataset's events in one Zarr store, written in parallel parts, read by sample.

- :mod:`.layout`: the tree, names and identity (:class:`StoreHeader`, :func:`store_fingerprint`);
- :mod:`.encoding` (with the Numba :mod:`.kernels`): samples to stored columns and back;
- :mod:`.writer`: :func:`begin`, :func:`write_part`, :func:`finalize`, resuming a killed run;
- :mod:`.reader`: :class:`EventsStore`, :class:`EventsSplit`, :func:`read_sources`;
- :mod:`.integrity`: :func:`~.integrity.check_events_store`.
"""

from eventpipe.store.events.layout import StoreHeader, store_fingerprint
from eventpipe.store.events.reader import EventsSplit, EventsStore, read_sources
from eventpipe.store.events.writer import begin, completed_parts, finalize, is_store_complete, write_part

__all__ = [
    "EventsSplit",
    "EventsStore",
    "StoreHeader",
    "begin",
    "completed_parts",
    "finalize",
    "is_store_complete",
    "read_sources",
    "store_fingerprint",
    "write_part",
]
