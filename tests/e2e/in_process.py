"""`compliance ARGS` run in this process, answering as the installed executable would.

A new `compliance` process spends most of a second importing before it does anything, and
the end-to-end tests run thousands of commands: in-process they import once per test
worker. What a test sees must still be what a process would give it, so each call runs
the executable's own entry point (`interfaces.cli.main:main`, what the console script
calls, with `sys.argv` set) inside click's `CliRunner.isolation` and:

- the environment is exactly the one the process would get (every key not given is
  absent from `os.environ` for the call), restored afterwards;
- stdin is the given text (or empty: never a terminal), stdout and stderr are captured
  as bytes and decoded as `subprocess.run(..., text=True)` decodes them (universal
  newlines), and neither is a terminal, so progress bars stay silent as when piped;
- help is wrapped as in a process whose stdout is a pipe (`COLUMNS`, else 80 columns:
  click's `CliRunner` would force 80 where a process has 78);
- the exit code is what the interpreter makes of `SystemExit` (`None` 0, an int modulo
  256, anything else printed to stderr and 1); an `Exception` escaping `main()` is
  printed to stderr as a traceback with code 1, as Python does at top level, so a test
  expecting success fails with the traceback, and one checking "no Traceback" sees it.
  Other `BaseException`s (Ctrl-C, pytest's own timeout and outcomes) are not a command's
  and propagate;
- warnings follow a fresh interpreter's default filters and are printed to the captured
  stderr, as a process would print them (not collected by pytest);
- process-wide state a command may change is put back: `sys.argv`, the working
  directory, the signal handlers, every logger's handlers, level and propagation (the
  scheduler adds a stderr handler bound to this call's captured stream).

One command at a time: two threads running commands at once would share `os.environ`
and the standard streams, so a second concurrent call raises instead. Tests that need
concurrency, a process boundary (kills, signals, locks between processes, servers,
workers) or the executable itself use `Cli(env, process=True)`.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

from click import formatting
from click.testing import CliRunner

from interfaces.cli.main import main

_ONE_AT_A_TIME = threading.Lock()
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM, signal.SIGUSR1,
            signal.SIGUSR2, signal.SIGCHLD, signal.SIGPIPE)

SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None
LoggerState = tuple[list[logging.Handler], int, bool, bool]


def run_in_process(env: Mapping[str, str], args: Sequence[str],
                   stdin: str | None) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `compliance ARGS` with environment `env`."""
    if not _ONE_AT_A_TIME.acquire(blocking=False):
        raise RuntimeError("an in-process `compliance` command is already running in "
                           "another thread: use Cli(env, process=True) for concurrent "
                           "commands")
    try:
        overrides: dict[str, str | None] = dict.fromkeys(os.environ)
        overrides.update(env)
        with _process_state(), CliRunner().isolation(input=stdin or "",
                                                     env=overrides) as (out, err, _):
            formatting.FORCED_WIDTH = _help_width(env)
            code = _run_main(args)
            sys.stdout.flush()
            sys.stderr.flush()
            return code, _as_text(out.getvalue()), _as_text(err.getvalue())
    finally:
        _ONE_AT_A_TIME.release()


def _run_main(args: Sequence[str]) -> int:
    sys.argv = ["compliance", *args]
    with warnings.catch_warnings():
        _fresh_interpreter_warnings()
        try:
            main()
        except SystemExit as done:
            return _exit_status(done.code)
        except Exception:  # what Python prints at top level before exiting with 1
            sys.stderr.write(traceback.format_exc())
            return 1
    return 0


def _fresh_interpreter_warnings() -> None:
    """`warnings.filters` of a Python 3.11 started without -W or PYTHONWARNINGS, and
    warnings printed to (this call's) stderr; `catch_warnings` puts pytest's back."""
    warnings.resetwarnings()
    warnings.simplefilter("ignore", ResourceWarning)
    warnings.simplefilter("ignore", ImportWarning)
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
    warnings.showwarning = _print_warning


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code % 256
    sys.stderr.write(f"{code}\n")
    return 1


def _print_warning(message: Warning | str, category: type[Warning], filename: str,
                   lineno: int, file: Any = None, line: str | None = None) -> None:
    (file or sys.stderr).write(warnings.formatwarning(message, category, filename, lineno,
                                                      line))


def _help_width(env: Mapping[str, str]) -> int:
    """The width click wraps help to when stdout is not a terminal (shutil's fallback)."""
    try:
        columns = int(env.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    return max(min(columns if columns > 0 else 80, 80) - 2, 50)


def _as_text(data: bytes) -> str:
    """As `subprocess.run(text=True)` decodes a pipe: strict UTF-8, universal newlines."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


@contextmanager
def _process_state() -> Iterator[None]:
    """Puts back what a command may change for the whole process (see the module)."""
    argv, cwd = sys.argv, os.getcwd()
    handlers: dict[int, SignalHandler] = {s: signal.getsignal(s) for s in _SIGNALS}
    loggers = _logger_states()
    try:
        yield
    finally:
        sys.argv = argv
        if os.getcwd() != cwd:
            os.chdir(cwd)
        for signum, handler in handlers.items():
            if signal.getsignal(signum) is not handler and handler is not None:
                signal.signal(signum, handler)
        _restore_loggers(loggers)


def _all_loggers() -> dict[str, logging.Logger]:
    found = {name: logger for name, logger in logging.root.manager.loggerDict.items()
             if isinstance(logger, logging.Logger)}
    found[""] = logging.root
    return found


def _logger_states() -> dict[str, LoggerState]:
    return {name: (list(logger.handlers), logger.level, logger.propagate, logger.disabled)
            for name, logger in _all_loggers().items()}


def _restore_loggers(states: Mapping[str, LoggerState]) -> None:
    for name, logger in _all_loggers().items():
        handlers, level, propagate, disabled = states.get(name, ([], logging.NOTSET, True,
                                                                  False))
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled

