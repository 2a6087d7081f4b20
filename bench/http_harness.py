"""The HTTP harness of benchmarks 12 and 17: the application served by uvicorn on a free
port, as production runs it, a demo user's session, and timed requests (one on a fresh
connection, a keep-alive series, a load from bench.http_load) reported as latencies. The
HTTP benchmarks hold only their workloads and baselines; serving and measuring are the same
for all of them, so their figures compare."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bench.common import Measure, Result, percentile_ms
from bench.http_load import LoadResult, request_bytes, run_load
from infrastructure.settings import Settings
from interfaces.demo_users import DEMO_PASSWORD
from interfaces.http.auth import SESSION_COOKIE

WORKERS = 2


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on, so that runs never collide."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(settings: Settings) -> dict[str, str]:
    """The environment the served application reads its settings from, as in production
    (interfaces.http.app:create_app_from_env)."""
    return {**os.environ, "COMPLIANCE_DATABASE_URL": str(settings.database_url),
            "COMPLIANCE_POSTGRES_SCHEMA": settings.postgres_schema,
            "COMPLIANCE_SEAL_KEY": str(settings.seal_key_path),
            "COMPLIANCE_SEAL_PUBLIC_KEY": str(settings.seal_public_key_path),
            "COMPLIANCE_SEAL_WITNESS": str(settings.seal_witness_path)}


@contextmanager
def uvicorn_server(factory: str, environ: dict[str, str]) -> Iterator[int]:
    """A uvicorn process serving `factory` on a free port of 127.0.0.1; stopped after."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(WORKERS), "--no-access-log",
         "--log-level", "warning"], env=environ, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    error = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"{factory} did not start: {error[-2000:]}") from None
                time.sleep(0.2)
        time.sleep(1.0)  # every worker up
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def measure_load(label: str, load: LoadResult, unit: str = "requests") -> Measure:
    """A load's throughput and latency percentiles; any answer other than 2xx fails the
    benchmark, since a fast error is not a result."""
    bad = {status: n for status, n in load.statuses.items() if status >= 300}
    if bad:
        raise AssertionError(f"{label}: unexpected statuses {bad}")
    return Measure(label, load.seconds, load.requests, unit,
                   median_ms=percentile_ms(load.latencies, 0.5),
                   p95_ms=percentile_ms(load.latencies, 0.95),
                   p99_ms=percentile_ms(load.latencies, 0.99),
                   max_ms=max(load.latencies) * 1000)


def latencies(label: str, samples: list[float], unit: str = "loads") -> Measure:
    """Singly timed requests (seconds each) reported as a load is."""
    return Measure(label, sum(samples), len(samples), unit,
                   median_ms=percentile_ms(samples, 0.5), p95_ms=percentile_ms(samples, 0.95),
                   p99_ms=percentile_ms(samples, 0.99), max_ms=max(samples) * 1000)


def login(base: str, username: str) -> str:
    """The session cookie header value of a demo user, as the browser holds it."""
    answer = httpx.post(f"{base}/api/auth/login",
                        json={"username": username, "password": DEMO_PASSWORD})
    answer.raise_for_status()
    return f"{SESSION_COOKIE}={answer.cookies[SESSION_COOKIE]}"


def fetch(base: str, path: str, cookie: str) -> str:
    """A page's text (not timed), to find its links or check what it shows."""
    answer = httpx.get(base + path, headers={"Cookie": cookie}, timeout=120)
    answer.raise_for_status()
    return answer.text


@contextmanager
def connection(port: int) -> Iterator[http.client.HTTPConnection]:
    """One keep-alive connection to the served application, opened before any timing."""
    opened = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    opened.connect()
    try:
        yield opened
    finally:
        opened.close()


def timed_get(opened: http.client.HTTPConnection, path: str, cookie: str) -> float:
    """One GET on an open connection, answer read to the end: its seconds. Any status other
    than 200 fails the benchmark."""
    started = time.perf_counter()
    opened.request("GET", path, headers={"Cookie": cookie})
    answer = opened.getresponse()
    answer.read()
    elapsed = time.perf_counter() - started
    if answer.status != 200:
        raise AssertionError(f"GET {path}: status {answer.status}")
    return elapsed


def fresh_get(port: int, path: str, cookie: str) -> float:
    """One GET on a new connection (so that either worker may answer): its seconds."""
    with connection(port) as opened:
        return timed_get(opened, path, cookie)


def steady(port: int, label: str, path: str, cookie: str, requests: int, seconds: float,
           connections: int = 1) -> Measure:
    """`path` back to back on `connections` keep-alive connections, after a warm-up of
    every worker."""
    request = request_bytes("GET", path, {"Cookie": cookie})
    run_load(port, request, connections=max(connections, WORKERS),
             max_requests=max(10, requests // 10), max_seconds=seconds / 4)
    measured = measure_load(label, run_load(port, request, connections=connections,
                                            max_requests=requests, max_seconds=seconds))
    if connections > 1:
        measured.note = f"{connections} connections"
    return measured


def failed_result(key: str, title: str, path: str, error: str) -> Result:
    """The result of a page that did not answer 200: reported as missed, with the error,
    rather than ending the run."""
    nothing = Measure(f"GET {path}", 0.0, 0, "requests", note=error[:200])
    return Result(key, title, "PostgreSQL", nothing, nothing, float("inf"),
                  "the page did not answer 200", 1.0, "answers 200", False,
                  facts=[f"not measured: {error}"], limits="the page failed")
