"""When a risk run sends its input check (every trade and sample row's digest recomputed
by the server): once the reads the computing waits for are in, not with them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future


class InputCheck:
    """The inputs' digest check (every trade and sample row's digest recomputed by the
    server), sent once the reads the computing waits for are in, or when its result is
    wanted: sent with them, its scans took the server's processors from those reads, while
    afterwards the run computes for seconds on the interpreter alone."""

    def __init__(self, pool: Executor,
                 check: Callable[[Sequence[str]], None] | None) -> None:
        self._pool = pool
        self._check = check
        self._sent: Future[None] | None = None

    def start(self) -> None:
        if self._check is not None and self._sent is None:
            self._sent = self._pool.submit(self._check, ("trade", "samples"))

    def result(self) -> None:
        """Raises what the check found (DamagedInputError), sending it first if need be."""
        self.start()
        if self._sent is not None:
            self._sent.result()
