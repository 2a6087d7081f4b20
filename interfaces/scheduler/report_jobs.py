"""The periodic reports, registered on the scheduler's cron hook: the national Trade
Compliance and Enforcement Plan of each quarter once it is over, and the annual report of
each year once it is over, issued as `system:scheduler` and mailed (a link, not the file:
the PDF stays in the archive, fetched by people allowed to) to COMPLIANCE_REPORT_RECIPIENTS.

Each job runs daily and does its work once: a report the scheduler already issued for that
period is not issued again, and its mails, queued under ids derived from the report and
the address, are queued again harmlessly if a crash came between the two."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from application.mail import OutgoingMail, message_id
from infrastructure.outbox import SqlOutbox
from infrastructure.sql_tables import SqlTables
from interfaces.report_service import ReportRequest, ReportService
from interfaces.scheduler.jobs import Job, JobContext, JobOutcome, register_job
from interfaces.scheduler.runner import SCHEDULER_ACTOR

REPORT_ORDER = 80
"""After the due scan and the outbox, before the seals: a tick seals what it issued."""


def previous_quarter(day: date) -> str:
    quarter = (day.month - 1) // 3
    return f"{day.year - 1}-Q4" if quarter == 0 else f"{day.year}-Q{quarter}"


def _issue_once(ctx: JobContext, request: ReportRequest, parameters: dict[str, str],
                ) -> JobOutcome:
    service = ReportService(ctx.app, ctx.settings)
    earlier = [entry for entry in service.listed(None, kind=request.kind, limit=1000)
               if entry.issued_by == SCHEDULER_ACTOR
               and all(entry.parameters.get(k) == v for k, v in parameters.items())]
    if earlier:
        entry = earlier[0]
        sha, title, new = entry.sha256, entry.title, False
    else:
        issued, _ = service.issue(request, actor=SCHEDULER_ACTOR,
                                  reason=f"report rule: the {request.describe()} once its "
                                         "period is over", caller=None)
        sha, title, new = issued.report.sha256, issued.report.title, issued.new
    mails = _mails(ctx, sha, title)
    queued = SqlOutbox(SqlTables(ctx.app.recorder)).enqueue(mails, ctx.now)
    state = "issued" if new else "already issued"
    return JobOutcome(f"{title}: {state} ({sha[:12]}); {queued} mail(s) queued to "
                      f"{len(ctx.settings.report_recipients)} recipient(s)",
                      {"sha256": sha, "new": new, "mails": queued})


def _mails(ctx: JobContext, sha256: str, title: str) -> list[OutgoingMail]:
    link = f"{ctx.settings.mail.public_url.rstrip('/')}/api/reports/{sha256}"
    cause = f"report:{sha256}"
    mails = []
    for address in ctx.settings.report_recipients:
        text = (f"{title} has been issued by the Compliance Ledger.\n\nDownload it (for "
                f"those allowed to): {link}\nSHA-256: {sha256}\n\nCheck a copy against the "
                "ledger with `compliance report verify FILE`.\n")
        html = (f"<p>{escape(title)} has been issued by the Compliance Ledger.</p>"
                f'<p><a href="{escape(link, quote=True)}">Download it</a> (for those allowed '
                f"to).<br>SHA-256: <code>{sha256}</code></p><p>Check a copy against the "
                "ledger with <code>compliance report verify FILE</code>.</p>")
        mails.append(OutgoingMail(message_id(cause, address), address, address,
                                  f"Issued: {title}", text, html, cause, None))
    return mails


def run_plan(ctx: JobContext) -> JobOutcome:
    period = previous_quarter(ctx.now.date())
    return _issue_once(ctx, ReportRequest("plan", period=period),
                       {"period": period, "district": "national"})


def run_annual(ctx: JobContext) -> JobOutcome:
    year = str(ctx.now.date().year - 1)
    return _issue_once(ctx, ReportRequest("annual", year=year), {"year": year})


REPORT_PLAN_JOB = register_job(Job(
    "report-plan", timedelta(days=1), run_plan,
    "Issue the national Trade Compliance and Enforcement Plan of the quarter just ended, "
    "once, and mail its link to the report recipients.", order=REPORT_ORDER))
REPORT_ANNUAL_JOB = register_job(Job(
    "report-annual", timedelta(days=1), run_annual,
    "Issue the annual report of the year just ended, once, and mail its link to the "
    "report recipients.", order=REPORT_ORDER + 1))
