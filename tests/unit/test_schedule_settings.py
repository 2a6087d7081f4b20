"""The scheduler's settings (infrastructure.schedule_settings): intervals in 90s, 5m, 1h,
1d or sums of them, the jobs to run, the heartbeat; every bad value refused naming its
variable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infrastructure.schedule_settings import (
    format_interval,
    interval_variable,
    load_schedule_settings,
    parse_interval,
)
from infrastructure.settings import SettingsError

KNOWN = {"due-scan": timedelta(minutes=5), "seal": timedelta(hours=1),
         "verify": timedelta(days=1)}


def test_the_defaults_run_every_job_at_its_own_interval() -> None:
    settings = load_schedule_settings({}, KNOWN)
    assert settings.jobs == ("due-scan", "seal", "verify")
    assert dict(settings.intervals) == KNOWN
    assert settings.heartbeat_seconds == 10


def test_jobs_intervals_and_heartbeat_from_the_environment() -> None:
    settings = load_schedule_settings({
        "COMPLIANCE_SCHEDULER_JOBS": " verify, Due-Scan ,",
        "COMPLIANCE_SCHEDULE_DUE_SCAN": "90s",
        "COMPLIANCE_SCHEDULE_SEAL": "1h30m",
        "COMPLIANCE_SCHEDULER_HEARTBEAT_SECONDS": "0.5"}, KNOWN)
    assert settings.jobs == ("due-scan", "verify")  # the registry's order
    assert not settings.enabled("seal")
    assert settings.every("due-scan") == timedelta(seconds=90)
    assert settings.every("seal") == timedelta(hours=1, minutes=30)
    assert settings.heartbeat_seconds == 0.5


@pytest.mark.parametrize(("text", "expected"), [
    ("90s", timedelta(seconds=90)), ("5m", timedelta(minutes=5)), ("1h", timedelta(hours=1)),
    ("1d", timedelta(days=1)), (" 2D ", timedelta(days=2)), ("1h 30m", timedelta(minutes=90)),
])
def test_intervals(text: str, expected: timedelta) -> None:
    assert parse_interval("X", text) == expected
    assert parse_interval("X", format_interval(expected)) == expected


@pytest.mark.parametrize(("environ", "says"), [
    ({"COMPLIANCE_SCHEDULE_SEAL": "soon"}, "COMPLIANCE_SCHEDULE_SEAL='soon': expected an "
                                           "interval"),
    ({"COMPLIANCE_SCHEDULE_SEAL": "5"}, "COMPLIANCE_SCHEDULE_SEAL='5': expected an interval"),
    ({"COMPLIANCE_SCHEDULE_SEAL": "1.5h"}, "COMPLIANCE_SCHEDULE_SEAL='1.5h': expected"),
    ({"COMPLIANCE_SCHEDULE_SEAL": "-5m"}, "COMPLIANCE_SCHEDULE_SEAL='-5m': an interval must "
                                          "be positive"),
    ({"COMPLIANCE_SCHEDULE_SEAL": "0m"}, "COMPLIANCE_SCHEDULE_SEAL='0m': an interval must be "
                                         "positive"),
    ({"COMPLIANCE_SCHEDULE_VERIFY": "400d"}, "COMPLIANCE_SCHEDULE_VERIFY='400d': at most 366d"),
    ({"COMPLIANCE_SCHEDULE_SEEL": "1h"}, "COMPLIANCE_SCHEDULE_SEEL='1h': no job is named "
                                         "'seel' (known jobs: due-scan, seal, verify)"),
    ({"COMPLIANCE_SCHEDULER_JOBS": "seal,nosuchjob"}, "COMPLIANCE_SCHEDULER_JOBS="
                                                      "'seal,nosuchjob': no job is named "
                                                      "'nosuchjob'"),
    ({"COMPLIANCE_SCHEDULER_HEARTBEAT_SECONDS": "0"}, "HEARTBEAT_SECONDS='0': must be "
                                                      "positive"),
    ({"COMPLIANCE_SCHEDULER_HEARTBEAT_SECONDS": "often"}, "HEARTBEAT_SECONDS='often': "
                                                          "expected a number"),
    ({"COMPLIANCE_SCHEDULER_HEARTBEAT_SECONDS": "nan"}, "HEARTBEAT_SECONDS='nan': must be "
                                                        "positive"),
])
def test_bad_values_are_refused_naming_the_variable(environ: dict[str, str],
                                                    says: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_schedule_settings(environ, KNOWN)
    assert says in str(refused.value)


def test_a_job_names_its_variable() -> None:
    assert interval_variable("due-scan") == "COMPLIANCE_SCHEDULE_DUE_SCAN"
