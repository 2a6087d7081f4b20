"""Run the real `compliance` executable in a subprocess against a given store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXECUTABLE = Path(sys.executable).parent / "compliance"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = {**os.environ, **env}
        for key in ("COMPLIANCE_DATABASE_URL", "COMPLIANCE_SQLITE_PATH",
                    "COMPLIANCE_POSTGRES_SCHEMA", "COMPLIANCE_SEAL_KEY",
                    "COMPLIANCE_SEAL_PUBLIC_KEY", "COMPLIANCE_SNAPSHOT_INTERVAL",
                    "COMPLIANCE_SEAL_WITNESS"):
            if key not in env:
                self.env.pop(key, None)

    def __call__(self, *args: str) -> Result:
        done = subprocess.run([str(EXECUTABLE), *args], env=self.env, capture_output=True,
                              text=True, timeout=120, check=False)
        return Result(done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.code == 0, f"{args} failed ({result.code}): {result.err}"
        return result

    def events(self) -> int:
        return int(self.ok("status", "--json").json()["events"])
