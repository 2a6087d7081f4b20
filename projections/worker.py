"""Running the views: catch up once (the demo, tests), follow the log until stopped (the
`compliance project` worker), or rebuild a view from scratch while commands go on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from application.compliance_cases import ComplianceCases
from domain.errors import InvalidValueError
from projections.catalogue import VIEWS
from projections.rebuild_lock import rebuild_lock
from projections.rebuild_views import rebuild_views
from projections.runner import ViewRunner
from projections.stores import REBUILD, ViewStore, view_store
from projections.view import View

FAR_BEHIND = 50_000
"""A view at least this many events behind catches up by a set-based rebuild (when it is
also behind by a good share of the log, see Projections.far_behind): below it the live
path takes seconds anyway, and a rebuild replaces the view's tables."""


JOIN_SLICE_S = 0.5
"""How long the calling thread waits on a view's thread at a time. A Python signal handler
(`compliance project` sets `stop` on SIGTERM) runs only in the main thread, and only once
it wakes: a signal the kernel hands to another of the process's threads does not end an
unbounded join, so the worker never heard it was asked to stop."""


def views_named(names: Iterable[str] = ()) -> list[type[View]]:
    chosen = list(names)
    unknown = [name for name in chosen if name not in VIEWS]
    if unknown:
        raise InvalidValueError("view", ", ".join(unknown),
                                f"known views: {', '.join(VIEWS)}")
    return [VIEWS[name] for name in chosen] if chosen else list(VIEWS.values())


class Projections:
    """All views of one application, on the application's own database."""

    def __init__(self, app: ComplianceCases) -> None:
        self.app = app
        self.store: ViewStore = view_store(app.recorder, app.name)

    def runner(self, view: type[View], suffix: str = "") -> ViewRunner:
        return ViewRunner(self.store, self.app.recorder, self.app.mapper,
                          view(self.store.tracking, self.store), suffix)

    def catch_up(self, views: Iterable[type[View]] | None = None,
                 progress: Callable[[str, int, int], None] | None = None, *,
                 rebuild_far_behind: bool = True) -> dict[str, int]:
        """Every view up to the end of the log; `progress(view, notifications done, total)`
        after each batch, for long catch-ups (a national import). The views far behind
        (far_behind: a bulk load, a view never built) are rebuilt set-wise together (after
        any other rebuild on the store), then carry on live; the others catch up live, a
        transaction per batch. `rebuild_far_behind` False: every view goes the live way,
        for the long-running multi-threaded services (the API, the scheduler), where the
        rebuild's forked process could inherit a lock another thread holds."""
        chosen = list(views or VIEWS.values())
        end = self.app.recorder.max_notification_id() or 0
        applied = dict.fromkeys((view.name for view in chosen), 0)
        far = [view for view in chosen
               if rebuild_far_behind and self.far_behind(view, end)]
        if far:
            applied.update(self._rebuild_behind(far, progress))
        for view in chosen:
            runner = self.runner(view)
            start = self.store.position(view) or 0
            done = 0

            def advanced(count: int, name: str = view.name, start: int = start) -> None:
                nonlocal done
                done += count
                if progress is not None:
                    progress(name, done, max(end - start, done))

            applied[view.name] += runner.catch_up(advanced if progress else None)
        return applied

    def far_behind(self, view: type[View], end: int) -> bool:
        """Whether catching `view` up to `end` is cheaper by a rebuild from the whole log
        than by the live path: at least FAR_BEHIND events behind, and behind by more than
        the share of the log a rebuild reads in the time the live path applies one event
        (ViewStore.rebuild_speedup)."""
        lag = end - (self.store.position(view) or 0)
        return lag >= FAR_BEHIND and lag * self.store.rebuild_speedup >= end

    def _rebuild_behind(self, views: list[type[View]],
                        progress: Callable[[str, int, int], None] | None,
                        ) -> dict[str, int]:
        """rebuild_all of those of `views` still far behind once no other rebuild runs on
        this store (one that ran meanwhile may have brought them current; catching them up
        live alongside it would only repeat its work). The rebuilt view replaces the live
        one only if it holds every event the live one holds (ViewStore.promote), so none is
        applied twice or lost; returns how many events each view applied."""
        done, end, stage = 0, 0, ""

        def advanced(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(stage, done, max(end, done))

        with rebuild_lock(self.store):
            end = self.app.recorder.max_notification_id() or 0
            behind = [view for view in views if self.far_behind(view, end)]
            if not behind:
                return {}
            stage = "set-wise rebuild of " + ", ".join(view.name for view in behind)
            return self._rebuild(behind, advanced if progress else None)

    def lag(self, view: type[View]) -> int:
        """Notifications recorded but not yet reflected (0 when current)."""
        return max(0, (self.app.recorder.max_notification_id() or 0)
                   - (self.store.position(view) or 0))

    def rebuild(self, view: type[View],
                progress: Callable[[int], None] | None = None) -> int:
        """Build the view afresh from the whole log (see rebuild_all)."""
        return self.rebuild_all([view], progress)[view.name]

    def rebuild_all(self, views: Iterable[type[View]] | None = None,
                    progress: Callable[[int], None] | None = None) -> dict[str, int]:
        """Build the views afresh into shadow tables, set-wise from the log
        (projections.rebuild_views), then let each take over in one transaction; commands
        and the live views carry on meanwhile. Returns how many events each view
        applied."""
        with rebuild_lock(self.store):
            return self._rebuild(list(views or VIEWS.values()), progress)

    def _rebuild(self, chosen: list[type[View]],
                 progress: Callable[[int], None] | None) -> dict[str, int]:
        """rebuild_all, under the store's rebuild lock."""
        end = self.app.recorder.max_notification_id() or 0
        applied = rebuild_views(self.store, self.app.recorder, self.app.mapper, chosen, end,
                                progress)
        for view in chosen:
            runner = self.runner(view, REBUILD)
            applied[view.name] += runner.catch_up(progress)  # what arrived meanwhile
            applied[view.name] += runner.catch_up(progress)  # ... and during that pass
            # A live worker may have applied more meanwhile; the rebuilt view must hold
            # that too before it takes over, or those events would be in neither.
            while not self.store.promote(view):
                applied[view.name] += runner.catch_up(
                    progress, until=self.store.position(view) or 0)
        return applied

    def follow(self, stop: threading.Event, views: Iterable[type[View]] | None = None,
               on_batch: Callable[[str, int], None] | None = None) -> None:
        """Follow the log with one thread per view until `stop` is set; the first error
        stops them all and is raised."""
        errors: list[BaseException] = []

        def run(view: type[View]) -> None:
            try:
                self.runner(view).follow(stop, None if on_batch is None else (
                    lambda n: on_batch(view.name, n)))
            except BaseException as error:  # reported to the caller below
                errors.append(error)
                stop.set()

        threads = [threading.Thread(target=run, args=(view,), name=f"view-{view.name}")
                   for view in views or VIEWS.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(JOIN_SLICE_S)
        if errors:
            raise errors[0]
