"""The PDF renderer on its own: PDF/A-3b metadata from the document (never the clock),
attachments with their AFRelationship, nothing fetched from outside, and the same bytes
for the same document in this process and in another."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest

from application.reports.document import GENERATOR_VERSION, Attachment, ReportDocument
from infrastructure.pdf_render import render_counted, render_pdf

ROOT = Path(__file__).resolve().parents[2]
AS_OF = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)


def document(html: str = "<p>Grüße <b>bold</b> <code>mono</code></p>", *,
             relationship: str = "Data") -> ReportDocument:
    return ReportDocument(
        kind="plan", title="A title", html=f"<html><body>{html}</body></html>", as_of=AS_OF,
        position=7, parameters={}, subject="What it is about", keywords=("one", "two"),
        attachments=(Attachment("data.csv", b"a,b\n1,2\n", "text/csv", "the figures",
                                relationship),))


def test_metadata_and_attachment_come_from_the_document() -> None:
    pdf, pages = render_counted(document())
    assert pages == 1
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        info = opened.docinfo
        assert str(info["/Title"]) == "A title"
        assert str(info["/Subject"]) == "What it is about"
        assert str(info["/Keywords"]) == "one, two"
        assert str(info["/Creator"]) == GENERATOR_VERSION
        assert str(info["/CreationDate"]) == str(info["/ModDate"]) == "D:20260301123005Z"
        assert opened.open_metadata().pdfa_status == "3B"
        spec = opened.attachments["data.csv"]
        assert spec.obj.AFRelationship == "/Data"
        embedded = spec.get_file()
        assert embedded.read_bytes() == b"a,b\n1,2\n"
        assert embedded.mime_type == "text/csv"
        assert str(embedded.obj.Params.ModDate) == "D:20260301123005Z"


def test_external_resources_are_refused_loudly() -> None:
    for url in ("http://example.invalid/x.png", "file:///etc/passwd"):
        with pytest.raises(BaseException, match="may not fetch"):
            render_pdf(document(f'<img src="{url}">'))
    with pytest.raises(BaseException, match="may not fetch"):
        render_pdf(document('<link rel="stylesheet" href="https://example.invalid/a.css">'))


def test_a_relationship_pdf_a_does_not_know_is_refused() -> None:
    with pytest.raises(ValueError, match="AFRelationship 'Sauce'"):
        render_pdf(document(relationship="Sauce"))


def test_a_naive_as_of_is_refused() -> None:
    naive = ReportDocument("plan", "t", "<p>x</p>", datetime(2026, 1, 1), 1, {})
    with pytest.raises(ValueError, match="timezone"):
        render_pdf(naive)


def test_the_same_document_renders_to_the_same_bytes_in_another_process() -> None:
    pdf = render_pdf(document())
    assert render_pdf(document()) == pdf
    script = ("import sys\nfrom tests.unit.test_pdf_render import document\n"
              "from infrastructure.pdf_render import render_pdf\n"
              "sys.stdout.buffer.write(render_pdf(document()))\n")
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=ROOT,
                           timeout=120, check=False,
                           env={"PYTHONHASHSEED": "4242", "PATH": "/usr/bin:/bin"})
    assert other.returncode == 0, other.stderr.decode()[-2000:]
    assert other.stdout == pdf
