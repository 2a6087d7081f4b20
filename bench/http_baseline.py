"""The baseline of the HTTP read benchmark: a bare litestar + msgspec endpoint returning
the very bytes our authenticated case read returned, served by the same uvicorn, with the
same workers, in the same run. What separates the two is authentication, authorisation,
the case load and its encoding: our layers."""

from __future__ import annotations

import os
from pathlib import Path

from litestar import Litestar, Response, get

BODY_FILE = "BENCH_BASELINE_BODY"


def create_baseline_app() -> Litestar:
    body = Path(os.environ[BODY_FILE]).read_bytes()

    @get("/api/assessments/{number:str}", sync_to_thread=False)
    def read(number: str) -> Response[bytes]:  # noqa: ARG001 - parsed, as ours is
        return Response(body, media_type="application/json", headers={"ETag": '"1"'})

    return Litestar(route_handlers=[read], openapi_config=None)
