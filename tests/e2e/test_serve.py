"""`compliance serve` as an operator runs it: a real server process on a SQLite ledger,
logged in to over real HTTP, its OpenAPI schema served, stopped cleanly by SIGTERM; and
refused at once (exit 6, saying why) on a port in use or a ledger that is not there."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infrastructure.passwords import Argon2Hasher
from infrastructure.settings import load_settings
from interfaces.composition import build_application, initialise_store
from tests.e2e.http.conftest import FAST_ARGON2, PASSWORD
from tests.e2e.http.server import free_port

EXECUTABLE = Path(sys.executable).parent / "compliance"
STARTUP_SECONDS = 60.0


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """A SQLite ledger with one officer who has a password."""
    store = {"COMPLIANCE_SQLITE_PATH": str(tmp_path / "var" / "ledger.db"),
             "COMPLIANCE_SEAL_KEY": str(tmp_path / "keys" / "seal.key"), **FAST_ARGON2}
    settings = load_settings(store)
    initialise_store(settings)
    app = build_application(settings, access_control=False)
    try:
        digest = Argon2Hasher(time_cost=settings.argon2_time_cost,
                              memory_cost=settings.argon2_memory_kib).hash(PASSWORD)
        app.add_user("officer11", roles=["officer"], districts=["11"], password_hash=digest,
                     actor="system:test-setup", reason="the server's first user")
    finally:
        app.close()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("COMPLIANCE_")}
    return {**env, **store}


def serve(environ: dict[str, str], *args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([str(EXECUTABLE), "serve", *args], env=environ, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


@pytest.fixture
def server(environ: dict[str, str], tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str],
                                                                         int]]:
    """`compliance serve --port <free> --workers 2`, up (its /healthz answers); killed
    afterwards if the test did not stop it."""
    process, port = None, 0
    for _ in range(5):  # another test may take the port between choice and bind
        port = free_port()
        process = serve(environ, "--port", str(port), "--workers", "2", cwd=tmp_path)
        if up(process, port):
            break
        _, err = process.communicate(timeout=30)
        assert "already in use" in err, err
    assert process is not None
    assert process.poll() is None
    try:
        yield process, port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)


def up(process: subprocess.Popen[str], port: int) -> bool:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"compliance serve gave no /healthz in {STARTUP_SECONDS}s")


def test_serve_answers_over_real_http_and_stops_on_sigterm(
        server: tuple[subprocess.Popen[str], int]) -> None:
    process, port = server
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/api/me").status_code == 401
        login = client.post("/api/auth/login",
                            json={"username": "officer11", "password": PASSWORD})
        assert login.status_code == 200, login.text
        assert "cl_session" in client.cookies
        for _ in range(4):  # two workers: the session is in the database, not a process
            me = client.get("/api/me")
            assert me.status_code == 200, me.text
            assert me.json()["actor"] == "user:officer11"
            assert me.json()["districts"] == ["11"]
        schema = client.get("/schema/openapi.json")
        assert schema.status_code == 200
        assert schema.json()["openapi"].startswith("3.1")
        assert "/api/worklist" in schema.json()["paths"]
        assert client.get("/readyz").status_code == 200

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"on {base} (2 workers)" in out
    assert f"OpenAPI schema: {base}/schema/openapi.json" in out
    assert "Traceback" not in out + err


def test_serve_refuses_a_port_in_use(environ: dict[str, str], tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([str(EXECUTABLE), "serve", "--port", str(port)], env=environ,
                              cwd=tmp_path, capture_output=True, text=True, timeout=60,
                              check=False)
    assert done.returncode == 6, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}: it is already in use" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "serving" not in done.stdout


def test_serve_refuses_a_ledger_that_is_not_there(environ: dict[str, str],
                                                  tmp_path: Path) -> None:
    missing = {**environ, "COMPLIANCE_SQLITE_PATH": str(tmp_path / "typo.db")}
    done = subprocess.run([str(EXECUTABLE), "serve", "--port", str(free_port())],
                          env=missing, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 6, done.stderr
    assert "no ledger" in done.stderr
    assert "compliance init" in done.stderr
    assert not (tmp_path / "typo.db").exists()
    bad = subprocess.run([str(EXECUTABLE), "serve", "--port", "70000"], env=environ,
                         cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         check=False)
    assert bad.returncode == 2
