"""The dashboard at `/`: what the caller's role needs first."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from interfaces.http.params import Caller
from interfaces.web.rendering import page


@get("/", sync_to_thread=True, include_in_schema=False)
def dashboard(request: Request[Any, Any, Any], caller: Caller) -> Template:
    return page(request, caller, "dashboard.html")


ROUTES = [dashboard]
