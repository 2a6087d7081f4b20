"""The README, followed from top to bottom as a newcomer would: every command in its
```sh blocks, as written, in order, on a fresh SQLite ledger. A command whose comment says
`# exit N` must exit N; every other must exit 0. When the README and the program disagree,
this fails naming the line.

Two accommodations, and only these: `make demo` and `make test` are not run (the first is
`compliance demo`, run here as such; the second is this suite), and case numbers written
for the README's year (…-2026-…) are read as the current year's, since numbering restarts
every year. Blocks fenced as ```text are synopses, not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
EXECUTABLE = Path(sys.executable).parent / "compliance"
README_YEAR = "2026"
SKIPPED = ("make ", "source ", "cd ", "git ", "psql", "sudo ")


@dataclass(frozen=True)
class Step:
    line: int
    text: str
    expected: int


def _expected(comment: str) -> int:
    found = re.search(r"exit (\d+)", comment)
    return int(found.group(1)) if found else 0


def readme_steps(text: str) -> list[Step]:
    steps: list[Step] = []
    in_block = False
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith("```"):
            in_block = raw.strip() == "```sh" and not in_block
            continue
        if not in_block:
            continue
        if not pending:
            start = number
        pending += raw.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        line, pending = pending.strip(), ""
        if not line or line.startswith("#"):
            continue
        command, _, comment = _split_comment(line)
        steps.append(Step(start, command, _expected(comment)))
    return steps


def _split_comment(line: str) -> tuple[str, str, str]:
    """`command  # comment`, respecting quotes."""
    quote: str | None = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] == " "):
            return line[:index].strip(), "#", line[index + 1:]
    return line, "", ""


def _this_year(argument: str) -> str:
    return re.sub(rf"\b([A-Z]{{2}})-{README_YEAR}-", rf"\1-{date.today().year}-", argument)


def test_the_readme_parses_into_commands() -> None:
    steps = readme_steps(README.read_text())
    assert len(steps) > 30
    assert any(step.text.startswith("compliance verify") for step in steps)


def test_every_readme_command_works_as_written(tmp_path: Path) -> None:
    """Each line runs in bash (so `$(date +%F)` and quoting work as for a reader), from a
    fresh folder, with the project's `compliance` first on PATH."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("COMPLIANCE_")}
    env["PATH"] = f"{EXECUTABLE.parent}:{env.get('PATH', '')}"
    ran = 0
    for step in readme_steps(README.read_text()):
        if step.text.startswith(SKIPPED):
            continue
        line = _this_year(step.text)
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name.strip()] = value.strip().strip("\"'")
            continue
        assert line.startswith("compliance "), (
            f"README line {step.line}: not a compliance command: {step.text}")
        done = subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True,
                              timeout=900, check=False, cwd=tmp_path)
        assert done.returncode == step.expected, (
            f"README line {step.line}: `{step.text}` exited {done.returncode}, the README "
            f"says {step.expected}\nstdout: {done.stdout[-2000:]}\n"
            f"stderr: {done.stderr[-2000:]}")
        assert "Traceback" not in done.stdout + done.stderr
        ran += 1
    assert ran > 30
