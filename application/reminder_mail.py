"""The words of reminder and digest e-mails: a subject with the case number, a plain text
part and an HTML part (every value escaped: descriptions are free text typed by people),
and a link to the case in the web application."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from application.mail import OutgoingMail, message_id
from domain.reminder import OverdueLine, describe_offset

CASE_PAGES = {"IP": "plans", "FV": "verifications", "EA": "enforcement", "CA": "assessments"}


def case_link(public_url: str, case_number: str) -> str:
    page = CASE_PAGES.get(case_number[:2], "history")
    return f"{public_url.rstrip('/')}/{page}/{case_number}"


def _when(due_on: date, today: date) -> str:
    days = (due_on - today).days
    if days > 1:
        return f"due in {days} days, on {due_on}"
    if days == 1:
        return f"due tomorrow, {due_on}"
    if days == 0:
        return f"due today, {due_on}"
    return f"{-days} day{'s' if days != -1 else ''} overdue (was due {due_on})"


@dataclass(frozen=True)
class ReminderText:
    public_url: str

    def reminder(self, *, cause: str, username: str, address: str, case_number: str,
                 description: str, due_on: date, offset: int, today: date) -> OutgoingMail:
        when = _when(due_on, today)
        link = case_link(self.public_url, case_number)
        subject = f"[{case_number}] {description}: {when}"
        text = (f"Hello {username},\n\n{case_number}: {description} is {when}.\n"
                f"This reminder is sent {describe_offset(offset)}.\n\n"
                f"Open the case: {link}\n\n-- Compliance Ledger (sent by the scheduler; "
                "replies are not read)\n")
        html = (f"<p>Hello {escape(username)},</p><p><strong>{escape(case_number)}</strong>: "
                f"{escape(description)} is <strong>{escape(when)}</strong>.<br>This reminder "
                f"is sent {escape(describe_offset(offset))}.</p>"
                f'<p><a href="{escape(link, quote=True)}">Open the case</a></p>'
                "<p><small>Compliance Ledger (sent by the scheduler; replies are not read)"
                "</small></p>")
        return OutgoingMail(message_id(cause, username), address, username, subject[:250],
                            text, html, cause, case_number)

    def digest(self, *, cause: str, username: str, address: str, district: str, day: date,
               count: int, lines: Sequence[OverdueLine]) -> OutgoingMail:
        subject = f"District {district}: {count} overdue item{'s' if count != 1 else ''} on {day}"
        listed = [(line, case_link(self.public_url, line.case_number),
                   f"{(day - line.due_on).days} days overdue") for line in lines]
        more = count - len(lines)
        text_lines = [f"- {line.case_number} {line.description}: {late} (officer: "
                      f"{line.officer or 'none assigned'}) {link}"
                      for line, link, late in listed]
        text = (f"Hello {username},\n\n{count} item(s) in district {district} are overdue on "
                f"{day}, the longest overdue first:\n\n" + "\n".join(text_lines)
                + (f"\n... and {more} more (see the work list)\n" if more > 0 else "\n")
                + "\n-- Compliance Ledger (sent by the scheduler; replies are not read)\n")
        rows = "".join(
            f'<tr><td><a href="{escape(link, quote=True)}">{escape(line.case_number)}</a></td>'
            f"<td>{escape(line.description)}</td><td>{escape(late)}</td>"
            f"<td>{escape(line.officer or 'none assigned')}</td></tr>"
            for line, link, late in listed)
        html = (f"<p>Hello {escape(username)},</p><p>{count} item(s) in district "
                f"{escape(district)} are overdue on {day}, the longest overdue first:</p>"
                "<table><thead><tr><th>Case</th><th>Item</th><th>Overdue</th><th>Officer</th>"
                f"</tr></thead><tbody>{rows}</tbody></table>"
                + (f"<p>... and {more} more (see the work list).</p>" if more > 0 else "")
                + "<p><small>Compliance Ledger (sent by the scheduler; replies are not read)"
                "</small></p>")
        return OutgoingMail(message_id(cause, username), address, username, subject, text,
                            html, cause, None)

    def verify_alert(self, *, cause: str, username: str, address: str, at: str,
                     problems: Sequence[str], total: int) -> OutgoingMail:
        subject = f"Ledger verification FAILED at {at}: {total} problem(s)"
        more = total - len(problems)
        text = (f"Hello {username},\n\nThe scheduled verification of the ledger at {at} "
                f"found {total} problem(s):\n\n" + "\n".join(f"- {p}" for p in problems)
                + (f"\n... and {more} more\n" if more > 0 else "\n")
                + "\nRun `compliance verify` on the host for the full report, and keep the "
                "witness file and the database as they are for the investigation.\n\n"
                "-- Compliance Ledger (sent by the scheduler; replies are not read)\n")
        items = "".join(f"<li>{escape(p)}</li>" for p in problems)
        html = (f"<p>Hello {escape(username)},</p><p>The scheduled verification of the "
                f"ledger at {escape(at)} found <strong>{total} problem(s)</strong>:</p>"
                f"<ul>{items}</ul>" + (f"<p>... and {more} more</p>" if more > 0 else "")
                + "<p>Run <code>compliance verify</code> on the host for the full report, "
                "and keep the witness file and the database as they are for the "
                "investigation.</p>")
        return OutgoingMail(message_id(cause, username), address, username, subject, text,
                            html, cause, None)

