"""Running the views: catch up once (the demo, tests), follow the log until stopped (the
`compliance project` worker), or rebuild a view from scratch while commands go on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from application.compliance_cases import ComplianceCases
from domain.errors import InvalidValueError
from projections.catalogue import VIEWS
from projections.rebuild_views import rebuild_views
from projections.runner import ViewRunner
from projections.stores import REBUILD, ViewStore, view_store
from projections.view import View


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
                 progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
        """Every view up to the end of the log; `progress(view, notifications done, total)`
        after each batch, for long catch-ups (a national import)."""
        end = self.app.recorder.max_notification_id() or 0
        applied = {}
        for view in views or VIEWS.values():
            runner = self.runner(view)
            start = self.store.position(view) or 0
            done = 0

            def advanced(count: int, name: str = view.name, start: int = start) -> None:
                nonlocal done
                done += count
                if progress is not None:
                    progress(name, done, max(end - start, done))

            applied[view.name] = runner.catch_up(advanced if progress else None)
        return applied

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
        chosen = list(views or VIEWS.values())
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
            thread.join()
        if errors:
            raise errors[0]
