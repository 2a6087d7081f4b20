"""Driving a case page's step forms as a person does: open the step, fill its labelled
fields, send it, and read what the page says back."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def do_step(page: Any, command: str, fields: dict[str, str],
            files: dict[str, Path] | None = None) -> None:
    """Opens the step `command`, fills `fields` (selects are chosen by value) and sends
    it; fails with the page's own refusal text when the step is not recorded."""
    page.click(f"#step-{command} > summary")
    for name, value in fields.items():
        control = page.locator(f"#{command}-f-{name.replace('.', '-').replace('_', '-')}")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    for name, path in (files or {}).items():
        page.locator(f"#{command}-f-{name.replace('_', '-')}").set_input_files(str(path))
    page.locator(f"#step-{command} button[type=submit]").click()
    page.wait_for_load_state("load")
    notice = page.locator(".notice.ok")
    if notice.count() == 0:
        refusal = page.locator(f"#step-{command}").inner_text() if page.locator(
            f"#step-{command}").count() else page.locator("main").inner_text()
        raise AssertionError(f"{command} was not recorded: {refusal[:1500]}")
