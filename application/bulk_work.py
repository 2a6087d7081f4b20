"""Bulk work (national imports, risk runs, channelling a million declarations) allocates
millions of long-lived objects; Python's cyclic garbage collector would rescan them again
and again while they are built. None of them form cycles, so it is paused meanwhile."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def collector_paused(work: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(work)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return work(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()
    return paused
