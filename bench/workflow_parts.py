"""Where the time of a workflow step goes (benchmark 5's instrumented pass): the query that
loads the step's aggregates, turning its rows into aggregates, the event store's put and
the recorder's insert inside it, and snapshots."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from application.compliance_cases import ComplianceCases


class StepParts:
    """Times the parts of each step by wrapping, on the instances and for one diagnostic
    pass only (never during the measured rounds), the event store's one-query load
    (`select_histories`) and put, the recorders' per-aggregate selects, the application's
    `_materialise` (rows to aggregate) and take_snapshot. Reads made while taking a
    snapshot count as snapshot time; a select inside put (a chain head not known from the
    load) counts as put time."""

    def __init__(self, app: ComplianceCases) -> None:
        self.app = app
        self.seconds: dict[str, float] = dict.fromkeys(
            ("query", "materialise", "put", "insert", "snapshot"), 0.0)
        self.by_type: dict[str, float] = {}
        self.loads = 0
        self.queries = 0
        self.insert_calls: list[int] = []  # rows per call of app.recorder.insert_events
        self.snapshots = 0
        self._inside: str | None = None  # "snapshot" or "put" while one runs
        self._patched: list[tuple[object, str]] = []

    @property
    def reads(self) -> float:
        return self.seconds["query"] + self.seconds["materialise"]

    def _wrap(self, owner: object, name: str,
              after: Callable[[float, Any, tuple[Any, ...]], None],
              inside: str | None = None) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            outer = self._inside
            if inside is not None and outer is None:
                self._inside = inside
            start = time.perf_counter()
            try:
                value = original(*args, **kwargs)
            finally:
                self._inside = outer
            after(time.perf_counter() - start, value, args)
            return value

        setattr(owner, name, wrapper)
        self._patched.append((owner, name))

    def __enter__(self) -> StepParts:
        app = self.app
        assert app.snapshots is not None

        def query(seconds: float, _value: Any, _args: tuple[Any, ...]) -> None:
            if self._inside is None:
                self.queries += 1
                self.seconds["query"] += seconds

        def materialise(seconds: float, aggregate: Any, _args: tuple[Any, ...]) -> None:
            if self._inside is None:
                self.seconds["materialise"] += seconds
                kind = type(aggregate).__name__
                self.by_type[kind] = self.by_type.get(kind, 0.0) + seconds
                self.loads += 1

        def put(seconds: float, _value: Any, _args: tuple[Any, ...]) -> None:
            self.seconds["put"] += seconds

        def insert(seconds: float, _value: Any, args: tuple[Any, ...]) -> None:
            self.seconds["insert"] += seconds
            self.insert_calls.append(len(args[0]))

        def snapshot(seconds: float, _value: Any, _args: tuple[Any, ...]) -> None:
            self.seconds["snapshot"] += seconds
            self.snapshots += 1

        self._wrap(app.events, "select_histories", query)
        self._wrap(app.recorder, "select_events", query)
        self._wrap(app.snapshots.recorder, "select_events", query)
        self._wrap(app, "_materialise", materialise)
        self._wrap(app.events, "put", put, inside="put")
        self._wrap(app.recorder, "insert_events", insert)
        self._wrap(app, "take_snapshot", snapshot, inside="snapshot")
        return self

    def __exit__(self, *_exc: object) -> None:
        for owner, name in reversed(self._patched):
            delattr(owner, name)  # the class's method shows through again
        self._patched.clear()
