"""Every command the application can run has a permission: a new command that forgot to
add its name to application.access.PERMISSIONS would be refused to everyone (or, worse, be
added later in a hurry), so this finds every name the command methods pass to the gate."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from application.access import PERMISSIONS, SCHEDULER_DUTIES, SYSTEM_ROLES, allowed_roles
from domain.user import Role

APPLICATION = Path(__file__).resolve().parents[2] / "application"
GATES = re.compile(r"^_(once|step|user_step|[a-z]+_command)$")
"""CaseStore._once and _step, and each command module's `_<aggregate>_command` /
`_user_step` helper, all take the command's name as their first argument."""


def command_names(root: Path = APPLICATION) -> dict[str, list[str]]:
    """Command name -> where it is passed (file:line), for every string literal given as
    the first argument of a gate, or as the permission of `authorise(actor, permission)`."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            name = node.func.attr
            argument: ast.expr | None = None
            if GATES.match(name) and node.args:
                argument = node.args[0]
            elif name == "authorise" and len(node.args) == 2:
                argument = node.args[1]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                where = f"{path.relative_to(root.parent)}:{node.lineno}"
                found.setdefault(argument.value, []).append(where)
    return found


def test_the_scan_finds_the_commands_of_every_command_module() -> None:
    names = command_names()
    for expected in ("register_importer", "open_assessment", "assign_officer", "approve_plan",
                     "decide_enforcement", "conclude_verification", "draft_rule",
                     "add_user", "create_token", "import_file", "risk_run", "channel_run",
                     "selection_plan"):
        assert expected in names, expected
    assert len(names) > 60


def test_every_command_name_has_a_permission() -> None:
    granted = frozenset().union(*PERMISSIONS.values(), SCHEDULER_DUTIES)
    missing = {name: where for name, where in command_names().items() if name not in granted}
    assert missing == {}, f"add these to application.access.PERMISSIONS: {missing}"


def test_the_scan_would_catch_a_command_without_a_permission(tmp_path: Path) -> None:
    (tmp_path / "application").mkdir()
    (tmp_path / "application" / "new_commands.py").write_text(
        "class X:\n"
        "    def go(self):\n"
        "        return self._once('launch_rockets', None, 'user:a', int, lambda: 1)\n"
        "    def other(self):\n"
        "        return self._widget_command('polish_widget', 'n', 'user:a', None, None, id)\n"
        "    def run(self, actor):\n"
        "        self.authorise(actor, 'risk_run')\n")
    names = command_names(tmp_path / "application")
    assert set(names) == {"launch_rockets", "polish_widget", "risk_run"}


def test_no_supervisors_decision_is_open_to_a_system_actor() -> None:
    """Approvals, reviews and decisions are always taken by a person who can be named."""
    for decision in ("approve_plan", "send_back_plan", "record_review_vote",
                     "conclude_review", "decide_enforcement"):
        assert not set(allowed_roles(decision)) & set(SYSTEM_ROLES), decision
    assert Role.SUPERVISOR not in SYSTEM_ROLES


def test_the_schedulers_duties_are_a_system_actors_alone() -> None:
    from application.access import Principal, system_principal

    person = Principal("user:chief", frozenset(Role), None, None)
    for duty in SCHEDULER_DUTIES:
        assert system_principal("system:scheduler").may(duty), duty
        assert not person.may(duty), duty
