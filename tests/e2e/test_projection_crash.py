"""The projection worker survives being killed: real `compliance project` processes are
SIGKILLed at random moments while `compliance demo` fills the store (and catches the views
up itself at the end, a second runner on every view), restarted each time; afterwards the
views equal views rebuilt from the whole log, row for row, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.e2e.cli import EXECUTABLE, Cli

DEMO = ("demo", "--accounts", "4000", "--seed", "3", "--today", "2026-11-01")
MIN_KILLS = 5
PAUSE_S = (0.2, 1.5)
BUDGET_S = 45.0


class Worker:
    """One `compliance project` process at a time, its stderr kept in a log file."""

    def __init__(self, cli: Cli, log: Path) -> None:
        self.cli, self.log = cli, log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log.open("ab") as err:
            err.write(f"--- start {self.starts + 1}\n".encode())
            err.flush()
            self.process = subprocess.Popen([str(EXECUTABLE), "project"], env=self.cli.env,
                                            stdout=subprocess.DEVNULL, stderr=err)
        self.starts += 1

    def kill(self) -> None:
        assert self.process is not None
        died = self.process.poll()
        assert died is None, f"the worker exited by itself ({died}):\n{self.log.read_text()}"
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=10) == -signal.SIGKILL

    def wait_until_following(self, seconds: float = 60.0) -> None:
        """Until the running worker says it follows the log: its SIGTERM handler is set
        then (a process still importing dies of SIGTERM instead, exit -15)."""
        deadline = time.monotonic() + seconds
        while "following the log" not in self.log.read_text().rsplit("--- start", 1)[-1]:
            assert self.process is not None
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.1)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)  # a loaded CI host is slow to close
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGUSR1)  # its threads' stacks, into the log
            time.sleep(1)
            raise AssertionError(f"the worker did not stop:\n{self.log.read_text()}") from None

    def cleanup(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def table_differences(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    found = {}
    for view in sorted(set(left) | set(right)):
        for table in sorted(set(left.get(view, {})) | set(right.get(view, {}))):
            a = {json.dumps(r) for r in left.get(view, {}).get(table, [])}
            b = {json.dumps(r) for r in right.get(view, {}).get(table, [])}
            if a != b or len(left[view][table]) != len(right[view][table]):
                found[f"{view}.{table}"] = {"only_worker": sorted(a - b)[:3],
                                            "only_rebuild": sorted(b - a)[:3],
                                            "rows": (len(left[view][table]),
                                                     len(right[view][table]))}
    return found


def test_a_worker_killed_at_random_moments_while_a_demo_loads_leaves_views_equal_to_a_rebuild(
        cli: Cli, tmp_path: Path) -> None:
    seed = random.SystemRandom().randrange(1_000_000)
    rng = random.Random(seed)
    cli.ok("init")
    worker = Worker(cli, tmp_path / "worker.log")
    demo = None
    kills = kills_while_loading = 0
    try:
        worker.start()
        demo = subprocess.Popen([str(EXECUTABLE), *DEMO], env=cli.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + BUDGET_S
        while (kills < MIN_KILLS or demo.poll() is None) and time.monotonic() < deadline:
            time.sleep(rng.uniform(*PAUSE_S))
            loading = demo.poll() is None
            worker.kill()
            kills += 1
            kills_while_loading += loading
            worker.start()
        out, err = demo.communicate(timeout=120)
        assert demo.returncode == 0, f"demo failed ({demo.returncode}): {err}"
        assert "4000 importer accounts" in out
        assert kills >= MIN_KILLS, (seed, kills)
        assert kills_while_loading >= 2, (seed, kills, kills_while_loading)

        # the last worker, left alone, catches up and stops cleanly when asked
        events = cli.events()
        status: list[dict[str, Any]] = []
        for _ in range(100):
            status = cli.ok("views", "status", "--json").json()
            if all(row["behind"] == 0 for row in status):
                break
            time.sleep(0.2)
        assert all(row["behind"] == 0 for row in status), (seed, status)
        worker.wait_until_following()  # the views may have been current before it started
        assert worker.terminate() == 0, worker.log.read_text()
    finally:
        worker.cleanup()
        if demo is not None and demo.poll() is None:
            demo.kill()
            demo.wait(timeout=10)

    once = cli.ok("project", "--once")
    assert all(line.endswith(": 0 event(s) applied") for line in once.out.splitlines()), \
        once.out
    followed = cli.ok("views", "dump").json()
    assert len(followed["audit_log"]["al_events"]) == events  # one row per event
    cli.ok("rebuild")
    rebuilt = cli.ok("views", "dump").json()
    assert table_differences(followed, rebuilt) == {}, f"random seed {seed}"
    assert followed == rebuilt
    status = cli.ok("views", "status", "--json").json()
    assert {row["view"]: row["position"] for row in status} == dict.fromkeys(followed, events)
