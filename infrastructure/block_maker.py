"""The thread that makes a bulk commit's events while the commit's COPY sends them
(infrastructure.bulk_events.RowCommit): blocks are added to `MadeBlocks` as they are made,
and a reader waits for the block (or the count of events) it needs, with the maker's
error raised in the reader's thread, inside the recorder's transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from infrastructure.copy_rows import EventColumns


class MadeBlocks:
    """A commit's blocks made so far, where each starts and how many events they hold."""

    def __init__(self) -> None:
        self.blocks: list[EventColumns] = []
        self.starts: list[int] = []
        self.count = 0

    def add(self, block: EventColumns) -> None:
        self.starts.append(self.count)
        self.blocks.append(block)
        self.count += len(block)


class BlockMaker:
    """A thread that makes a commit's events a block at a time into `made`, telling a
    waiting reader of each block; stopped (after its current block) when the commit ends
    early."""

    def __init__(self, source: Iterator[EventColumns], made: MadeBlocks) -> None:
        self._source = source
        self._made = made
        self._ready = threading.Condition()
        self._done = False
        self._stopping = False
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="event-rows", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for block in self._source:  # made outside the lock: the reader goes on
                with self._ready:
                    if self._stopping:
                        return
                    self._made.add(block)
                    self._ready.notify_all()
        except BaseException as error:  # raised again in the reader's thread
            self._failed = error
        finally:
            with self._ready:
                self._done = True
                self._ready.notify_all()

    def wait_for(self, count: int) -> None:
        with self._ready:
            while self._made.count < count and not self._done:
                self._ready.wait()
            self._raise_failure()
            if self._made.count < count:
                raise RuntimeError(f"{self._made.count} events made, {count} wanted")

    def wait_for_block(self, index: int) -> EventColumns | None:
        with self._ready:
            while len(self._made.blocks) <= index and not self._done:
                self._ready.wait()
            self._raise_failure()
            return self._made.blocks[index] if index < len(self._made.blocks) else None

    def _raise_failure(self) -> None:
        if self._failed is not None:
            raise self._failed

    def stop(self) -> None:
        with self._ready:
            self._stopping = True
        self._thread.join()
