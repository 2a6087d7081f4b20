"""Errors on the pages: the same problem the API would answer (interfaces.http.problems
decides status and wording for both), rendered as a page. A case outside the caller's
scope is the same 404 as one that does not exist; not being logged in sends the browser
to the login page and back; nothing of a traceback, SQL or key reaches the page."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.response import Redirect, Template

from interfaces.http.problems import Problem, problem_for, problem_type
from interfaces.web.rendering import is_htmx, page
from interfaces.web.security import CsrfError


def login_redirect(request: Request[Any, Any, Any]) -> Response[Any]:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    location = "/login?next=" + quote(target, safe="")
    if is_htmx(request):  # htmx follows HX-Redirect, not a 303 into a fragment
        return Response(content="", status_code=401, headers={"HX-Redirect": location})
    return Redirect(location, status_code=303)


def web_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    if isinstance(error, CsrfError):
        problem = Problem(type=problem_type("forbidden"), title="Form expired", status=403,
                          detail=str(error), instance=request.url.path)
    else:
        problem = problem_for(request, error)
    if problem.status == 401:
        return login_redirect(request)
    return error_page(request, problem)


def error_page(request: Request[Any, Any, Any], problem: Problem) -> Template:
    caller = request.scope.get("state", {}).get("web_caller")
    headers = {"WWW-Authenticate": "Cookie"} if problem.status == 401 else {}
    response = page(request, caller, "error.html", status_code=problem.status,
                    problem=problem)
    response.headers.update(headers)
    return response
