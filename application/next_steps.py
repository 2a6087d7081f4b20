"""The steps a caller may take on a case now: what a case page offers.

A case page renders a form for exactly these, so nobody is handed a button the ledger would
refuse for the case's state or the caller's role. Both halves are the rules the commands
themselves enforce, not a copy of them: the case's own step table (`steps_open_now`, by which
its command methods refuse a step out of state) and the role permissions (`Principal.may`,
by which the application refuses a command before it starts). Scope is not asked again: a
case outside the caller's scope never loads (it is "not found").

What is offered can still be refused by a business rule that depends on the step's input or
on who asks (four eyes, a vote cast twice, an amount over its cap); the form then shows the
refusal, as the API returns it.
"""

from __future__ import annotations

from application.access import Principal
from domain.base import CaseAggregate


def offered_steps(case: CaseAggregate, caller: Principal) -> tuple[str, ...]:
    """The commands (by the names the permissions grant) valid in the case's current state
    that the caller's roles permit, in the case's lifecycle order. Steps only the workflow or
    the scheduler takes are never offered to a person: no role holds their names."""
    return tuple(command for command in case.steps_open_now() if caller.may(command))
