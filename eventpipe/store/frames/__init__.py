"""The frames store: one integration spec's count frames of every sample, written in parallel blocks.

- :mod:`.layout`: the tree, names, identity (:class:`FramesHeader`), block plan, dtypes and chunks;
- :mod:`.writer`: :func:`begin`, :func:`write_block`, :func:`finalize`, resuming a killed run;
- :mod:`.reader`: :class:`FramesStore`, :class:`FramesSplit`;
- :mod:`.integrity`: :func:`~.integrity.check_frames_store`.
"""

from eventpipe.store.frames.layout import BLOCK_EVENTS, FramesHeader, plan_blocks
from eventpipe.store.frames.reader import FramesSplit, FramesStore
from eventpipe.store.frames.writer import begin, completed_blocks, finalize, write_block

__all__ = [
    "BLOCK_EVENTS",
    "FramesHeader",
    "FramesSplit",
    "FramesStore",
    "begin",
    "completed_blocks",
    "finalize",
    "plan_blocks",
    "write_block",
]
