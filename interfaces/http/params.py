"""The parameter markers every handler uses, declared the way litestar 3 will require:
the caller is a named dependency (resolved by interfaces.http.auth.resolve_caller), case
numbers are path parameters."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromPath

from application.access import Principal

Caller = NamedDependency[Principal]
CaseNumber = FromPath[str]
AnyRequest = Request[Any, Any, Any]

__all__ = ["Annotated", "AnyRequest", "Caller", "CaseNumber"]
