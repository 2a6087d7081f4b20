"""`compliance serve`: the HTTP API (interfaces.http) under uvicorn.

Each worker process builds the API from the same COMPLIANCE_* settings as the command
line (the factory `interfaces.http.app:create_app_from_env`), so the sessions, views and
cases of several workers (or several servers) are shared through the database only.
Before anything starts, the ledger is opened once and the port tried, so a mistyped
database or a port in use fails at once, saying which (exit 6), instead of in a worker's
log. Imported only when `serve` runs: other commands do not load uvicorn or litestar.
"""

from __future__ import annotations

import errno
import socket
import sys

import click

from interfaces.cli.context import cli_context, run_guarded
from interfaces.composition import build_application

APP_FACTORY = "interfaces.http.app:create_app_from_env"
UNAVAILABLE = 6
"""The exit code of a resource that is not there: the database, the signing key, the port."""


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def refuse_a_busy_port(host: str, port: int) -> None:
    """Exit 6 naming the address when it cannot be listened on (in use, not an address of
    this machine, a privileged port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # As uvicorn binds: a port in TIME_WAIT is free, one being listened on is not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        why = ("it is already in use (another server?); choose another with --port"
               if error.errno == errno.EADDRINUSE else error.strerror or str(error))
        click.echo(f"error: cannot listen on {host}:{port}: {why}", err=True)
        sys.exit(UNAVAILABLE)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface; put TLS in front).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes (each with its own connections to the database).")
def serve_command(host: str, port: int, workers: int) -> None:
    """Serve the HTTP API (OpenAPI schema at /schema/openapi.json); Ctrl-C or SIGTERM
    stops it after the requests in flight."""
    def action() -> None:
        settings = cli_context().settings
        build_application(settings).close()  # no ledger here: exit 6 saying what to run
        refuse_a_busy_port(host, port)
        url = base_url(host, port)
        click.echo(f"serving {settings.describe} on {url} "
                   f"({workers} worker{'' if workers == 1 else 's'}); Ctrl-C to stop")
        click.echo(f"OpenAPI schema: {url}/schema/openapi.json "
                   f"(browse it at {url}/schema/swagger)")
        import uvicorn  # loaded only to serve

        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                    timeout_graceful_shutdown=10, server_header=False)
    run_guarded(action)
