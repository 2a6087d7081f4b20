"""Every package of the system says what it holds now: a docstring, and no promise of
work to come ("later", "arrive with ...") that a newcomer would take for a missing part."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(path.parent for top in ("domain", "application", "infrastructure",
                                          "projections", "interfaces", "bench")
                  for path in (ROOT / top).rglob("__init__.py"))
FUTURE = re.compile(r"\b(later|arrives? with|will|to come|not yet|TODO)\b", re.IGNORECASE)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_package_says_what_it_holds_now(package: Path) -> None:
    source = (package / "__init__.py").read_text()
    found = re.match(r'\s*"""(.*?)"""', source, re.DOTALL)
    assert found is not None, f"{package.relative_to(ROOT)} has no docstring"
    text = " ".join(found.group(1).split())
    assert len(text) > 20, text
    assert FUTURE.search(text) is None, text
