"""What the EnforcementAction tests share: the non-monetary kinds, the review team and
the dates the steps are taken on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.enforcement_action import (
    MONETARY,
    EnforcementAction,
    EnforcementKind,
)

from .builders import (
    REVIEWERS,
    TODAY,
    at,
)

NON_MONETARY = [k.value for k in EnforcementKind if k not in MONETARY]
LATER = at(30)
YESTERDAY = TODAY - timedelta(days=1)
FIRST, SECOND, THIRD = REVIEWERS


def last_event(action: EnforcementAction) -> Any:
    return action.pending_events[-1]
