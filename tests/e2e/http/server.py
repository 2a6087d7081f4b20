"""A real API server process for the tests that need one: uvicorn running
`interfaces.http.app:create_app_from_env` (what `compliance serve` runs) on a free port of
127.0.0.1, configured only by COMPLIANCE_* variables, stopped with SIGTERM.

In-process tests (the TestClient) share one application object with the test; a server
process shares only the database, which is what proves sessions live in the store, that
two processes agree on one case, and that the ASGI stack (uvicorn, lifespan, headers)
behaves as deployed. The suite runs on several workers at once, so the port is chosen
free and, should another process take it between choosing and binding, chosen again.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[3]
STARTUP_SECONDS = 60.0
STOP_SECONDS = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerError(RuntimeError):
    """The server did not come up (its log is in the message)."""


class ApiServer:
    """One uvicorn process on the store `environ` names (and only that: COMPLIANCE_*
    variables of the test's own environment are not passed on). Use as a context manager,
    or call start() and stop(); `client()` gives an httpx client on its base URL. Its
    output goes to a log file (`log_text()`), so a failure can quote the server's side."""

    def __init__(self, environ: Mapping[str, str], *, workers: int = 1,
                 extra: Mapping[str, str] | None = None) -> None:
        from tests.e2e.http.conftest import FAST_ARGON2

        inherited = {k: v for k, v in os.environ.items() if not k.startswith("COMPLIANCE_")}
        self.environ = {**inherited, **environ, **FAST_ARGON2, **(extra or {})}
        self.environ["PYTHONPATH"] = str(REPO) + os.pathsep + self.environ.get(
            "PYTHONPATH", "")
        self.workers = workers
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log_dir = Path(tempfile.mkdtemp(prefix="compliance-api-"))
        self.log_path = self._log_dir / "server.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60.0, **kwargs)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> ApiServer:
        last = ""
        for _ in range(5):  # another worker may take the port between choice and bind
            self.port = free_port()
            if self._launch():
                return self
            last = self.log_text()
            if "address already in use" not in last.lower():
                break
        raise ServerError(f"the API server did not start on port {self.port}:\n{last[-4000:]}")

    def _launch(self) -> bool:
        command = [sys.executable, "-m", "uvicorn", "interfaces.http.app:create_app_from_env",
                   "--factory", "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", str(self.workers), "--no-access-log",
                   "--timeout-graceful-shutdown", "5"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=self.environ,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                return False
            try:
                if httpx.get(self.base_url + "/healthz", timeout=2.0).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise ServerError(f"no /healthz within {STARTUP_SECONDS}s:\n{self.log_text()[-4000:]}")

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it does not stop in time; returns its exit code."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                return process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                return process.wait(STOP_SECONDS)
        return process.returncode

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
        if kind is None:  # the log is kept only when it may explain a failure
            shutil.rmtree(self._log_dir, ignore_errors=True)


def login(client: httpx.Client, username: str, password: str | None = None) -> httpx.Client:
    """Logs `client` in (the session cookie stays in its jar); fails loudly otherwise."""
    from tests.e2e.http.conftest import PASSWORD

    response = client.post("/api/auth/login",
                           json={"username": username, "password": password or PASSWORD})
    assert response.status_code == 200, f"login as {username}: {response.text}"
    return client


class Served:
    """A staffed store (tests.e2e.http.conftest's staff) behind a real server: logged-in
    httpx clients per user, and an application of its own to read the store back."""

    def __init__(self, environ: Mapping[str, str],
                 extra: Mapping[str, str] | None = None) -> None:
        from infrastructure.settings import load_settings
        from interfaces.composition import build_application
        from tests.e2e.http.conftest import FAST_ARGON2, staff_the_store

        self.environ = {**environ, **FAST_ARGON2, **(extra or {})}
        self.settings = load_settings(self.environ)
        self.importer11, self.importer12 = staff_the_store(self.settings)
        self.server = ApiServer(self.environ)
        self.ledger = build_application(self.settings, access_control=False)
        self.clients: dict[str, httpx.Client] = {}

    def as_user(self, username: str) -> httpx.Client:
        if username not in self.clients:
            self.clients[username] = login(self.server.client(), username)
        return self.clients[username]

    def anonymous(self) -> httpx.Client:
        return self.server.client()

    def head(self) -> int:
        """The notification log's head: what has been written so far."""
        return int(self.ledger.recorder.max_notification_id() or 0)

    def __enter__(self) -> Served:
        self.server.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for client in self.clients.values():
            client.close()
        self.server.stop()
        self.ledger.close()
